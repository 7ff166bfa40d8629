/*  dnsd_cookie: making and checking RFC 9018 server cookies.

    COOKIE option, RFC 7873 section 4; server cookie version 1, RFC 9018 section 4.  */

#include <czmq.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/random.h>

#include "dnsd_cookie.h"

#define S_VERSION        1
#define S_HASH_INPUT_MAX (DNSD_COOKIE_CLIENT_SIZE + 8 + 16)  // cookie, version..time, IPv6

struct _dnsd_cookie_t {
    uint8_t secret[DNSD_COOKIE_SECRET_SIZE];  // the SipHash key
};

dnsd_cookie_t *
dnsd_cookie_new (const uint8_t *secret)
{
    //  sodium_init only picks implementations and seeds its own generator; SipHash needs
    //  neither, but libsodium asks for it before any other call.
    if (sodium_init () < 0)
        return NULL;
    dnsd_cookie_t *self = (dnsd_cookie_t *) zmalloc (sizeof (dnsd_cookie_t));
    if (secret)
        memcpy (self->secret, secret, sizeof self->secret);
    else {
        ssize_t got;
        do
            got = getrandom (self->secret, sizeof self->secret, 0);
        while (got < 0 && errno == EINTR);
        if (got != (ssize_t) sizeof self->secret) {
            free (self);
            return NULL;
        }
    }
    return self;
}

void
dnsd_cookie_destroy (dnsd_cookie_t **self_p)
{
    assert (self_p);
    if (*self_p)
        sodium_memzero ((*self_p)->secret, sizeof (*self_p)->secret);
    free (*self_p);
    *self_p = NULL;
}

bool
dnsd_cookie_length_ok (size_t length)
{
    return length == DNSD_COOKIE_CLIENT_SIZE
           || (length >= DNSD_COOKIE_CLIENT_SIZE + DNSD_COOKIE_SERVER_MIN
               && length <= DNSD_COOKIE_CLIENT_SIZE + DNSD_COOKIE_SERVER_MAX);
}

//  The client's IP address as RFC 9018 hashes it: 4 bytes for IPv4 (an IPv4-mapped IPv6
//  address too, so a dual-stack socket and an IPv4 one agree), 16 for IPv6. Returns the
//  length, 0 for another family.
static size_t
s_client_ip (const struct sockaddr *client, uint8_t *out)
{
    if (client->sa_family == AF_INET) {
        memcpy (out, &((const struct sockaddr_in *) client)->sin_addr, 4);
        return 4;
    }
    if (client->sa_family != AF_INET6)
        return 0;
    const struct in6_addr *address = &((const struct sockaddr_in6 *) client)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED (address)) {
        memcpy (out, address->s6_addr + 12, 4);
        return 4;
    }
    memcpy (out, address->s6_addr, 16);
    return 16;
}

void
dnsd_cookie_make (dnsd_cookie_t *self, const uint8_t *client_cookie, const struct sockaddr *client,
                  uint32_t now, const uint8_t *reserved, uint8_t *server)
{
    assert (self);
    //  Version, Reserved, Timestamp (network order), then Hash over what precedes it with
    //  the client cookie in front and the client's address behind.
    server[0] = S_VERSION;
    if (reserved)
        memcpy (server + 1, reserved, 3);
    else
        memset (server + 1, 0, 3);
    server[4] = (uint8_t) (now >> 24);
    server[5] = (uint8_t) (now >> 16);
    server[6] = (uint8_t) (now >> 8);
    server[7] = (uint8_t) now;
    uint8_t input[S_HASH_INPUT_MAX];
    memcpy (input, client_cookie, DNSD_COOKIE_CLIENT_SIZE);
    memcpy (input + DNSD_COOKIE_CLIENT_SIZE, server, 8);
    size_t length = DNSD_COOKIE_CLIENT_SIZE + 8;
    length += s_client_ip (client, input + length);
    crypto_shorthash_siphash24 (server + 8, input, length, self->secret);
}

dnsd_cookie_status_t
dnsd_cookie_check (dnsd_cookie_t *self, const uint8_t *option, size_t length,
                   const struct sockaddr *client, uint32_t now, uint8_t *reply)
{
    assert (self);
    if (!dnsd_cookie_length_ok (length))
        return DNSD_COOKIE_MALFORMED;
    memcpy (reply, option, DNSD_COOKIE_CLIENT_SIZE);
    uint8_t *fresh = reply + DNSD_COOKIE_CLIENT_SIZE;
    if (length == DNSD_COOKIE_CLIENT_SIZE) {
        dnsd_cookie_make (self, option, client, now, NULL, fresh);
        return DNSD_COOKIE_CLIENT_ONLY;
    }
    //  Another implementation's cookie (another length or version) is not ours: a bad one.
    const uint8_t *server = option + DNSD_COOKIE_CLIENT_SIZE;
    dnsd_cookie_status_t status = DNSD_COOKIE_BAD;
    if (length == DNSD_COOKIE_REPLY_SIZE && server[0] == S_VERSION) {
        uint32_t stamp = (uint32_t) server[4] << 24 | (uint32_t) server[5] << 16
                         | (uint32_t) server[6] << 8 | server[7];
        //  Serial number arithmetic (RFC 1982): the timestamp wraps in 2106.
        int32_t age = (int32_t) (now - stamp);
        if (age <= DNSD_COOKIE_LIFETIME_S && age >= -DNSD_COOKIE_CLOCK_SKEW_S) {
            uint8_t expected[DNSD_COOKIE_SERVER_SIZE];
            dnsd_cookie_make (self, option, client, stamp, server + 1, expected);
            if (sodium_memcmp (expected + 8, server + 8, 8) == 0) {
                status = DNSD_COOKIE_VALID;
                if (age < DNSD_COOKIE_RENEW_S) {
                    memcpy (fresh, server, DNSD_COOKIE_SERVER_SIZE);
                    return status;
                }
            }
        }
    }
    dnsd_cookie_make (self, option, client, now, NULL, fresh);
    return status;
}

int
dnsd_cookie_secret_parse (const char *text, uint8_t *secret)
{
    size_t length = 0;
    if (strlen (text) != 2 * DNSD_COOKIE_SECRET_SIZE
        || sodium_hex2bin (secret, DNSD_COOKIE_SECRET_SIZE, text, strlen (text), NULL, &length,
                           NULL)
        || length != DNSD_COOKIE_SECRET_SIZE)
        return -2;
    return 0;
}
