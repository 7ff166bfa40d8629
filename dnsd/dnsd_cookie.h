/*  dnsd_cookie: DNS server cookies (RFC 7873), made the interoperable way of RFC 9018.

    A client that sends a COOKIE option proves, the second time, that it can read answers sent
    to its address: the server cookie it echoes is a keyed hash of its client cookie, a
    timestamp and its IP address, which an off-path spoofer never sees. dnsd makes version 1
    cookies (RFC 9018 section 4): version 1, three reserved bytes, a 32-bit UNIX timestamp and
    SipHash-2-4 (libsodium's crypto_shorthash_siphash24) of client cookie | version |
    reserved | timestamp | client IP under a 128-bit server secret. Any dnsd, NSD, BIND or
    Knot with the same secret accepts the others' cookies, so instances sharing a port
    (SO_REUSEPORT spreads one client over them) or an anycast address must share the secret
    (`cookie_secret`); without one, each process draws its own at start-up.

    dnsd does not enforce cookies: a query without one, or with a server cookie that does not
    verify, is answered normally, with a fresh server cookie (RFC 7873 section 5.2.3-5.2.4).
    What a valid cookie buys is the exemption from response rate limiting (dnsd_rrl).  */

#ifndef DNSD_COOKIE_H_INCLUDED
#define DNSD_COOKIE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNSD_OPTION_COOKIE       10  // EDNS option code (RFC 7873 section 4)
#define DNSD_COOKIE_CLIENT_SIZE  8
#define DNSD_COOKIE_SERVER_MIN   8  // a server cookie is 8 to 32 bytes (RFC 7873 section 4)
#define DNSD_COOKIE_SERVER_MAX   32
#define DNSD_COOKIE_SERVER_SIZE  16  // what dnsd makes: version 1 of RFC 9018
#define DNSD_COOKIE_REPLY_SIZE   (DNSD_COOKIE_CLIENT_SIZE + DNSD_COOKIE_SERVER_SIZE)
#define DNSD_COOKIE_SECRET_SIZE  16
#define DNSD_COOKIE_LIFETIME_S   3600  // RFC 9018 section 4.3: older is invalid
#define DNSD_COOKIE_RENEW_S      1800  // ... older than this is replaced by a fresh one
#define DNSD_COOKIE_CLOCK_SKEW_S 300   // ... and one from further ahead is invalid

//  What a query's COOKIE option says.
typedef enum {
    DNSD_COOKIE_NONE = 0,     // no COOKIE option
    DNSD_COOKIE_MALFORMED,    // a length RFC 7873 section 5.2.2 answers with FORMERR
    DNSD_COOKIE_CLIENT_ONLY,  // a client cookie alone: the client's first query
    DNSD_COOKIE_BAD,          // a server cookie that is not ours, too old or from the future
    DNSD_COOKIE_VALID         // ours and in date: the client is at the address it claims
} dnsd_cookie_status_t;

typedef struct _dnsd_cookie_t dnsd_cookie_t;

//  Cookies under SECRET (DNSD_COOKIE_SECRET_SIZE bytes, copied), or NULL for a random one
//  (getrandom). Returns NULL when no randomness can be had.
dnsd_cookie_t *dnsd_cookie_new (const uint8_t *secret);

//  Free it. NULL-safe.
void dnsd_cookie_destroy (dnsd_cookie_t **self_p);

//  Whether LENGTH is a COOKIE option length RFC 7873 section 5.2.2 accepts: a client cookie
//  alone (8), or with a server cookie of 8 to 32 bytes.
bool dnsd_cookie_length_ok (size_t length);

//  Check the COOKIE option data OPTION (LENGTH bytes, borrowed) that CLIENT sent at NOW
//  (UNIX seconds), and write the option data the answer carries into REPLY: the client
//  cookie with the server cookie received if it is valid and younger than
//  DNSD_COOKIE_RENEW_S, else a fresh one. REPLY gets DNSD_COOKIE_REPLY_SIZE bytes unless the
//  status is MALFORMED.
dnsd_cookie_status_t dnsd_cookie_check (dnsd_cookie_t *self, const uint8_t *option, size_t length,
                                        const struct sockaddr *client, uint32_t now,
                                        uint8_t *reply);

//  The server cookie for CLIENT_COOKIE (8 bytes) from CLIENT at NOW, with RESERVED (3 bytes;
//  NULL: zeros) into SERVER (DNSD_COOKIE_SERVER_SIZE bytes).
void dnsd_cookie_make (dnsd_cookie_t *self, const uint8_t *client_cookie,
                       const struct sockaddr *client, uint32_t now, const uint8_t *reserved,
                       uint8_t *server);

//  Parse TEXT, 32 hex digits, into SECRET (DNSD_COOKIE_SECRET_SIZE bytes). Returns 0, or -2.
int dnsd_cookie_secret_parse (const char *text, uint8_t *secret);

#endif
