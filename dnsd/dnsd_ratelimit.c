/*  dnsd_ratelimit: token buckets in thousandths of a token, refilled lazily.  */

#include <czmq.h>
#include <netinet/in.h>

#include "dnsd_name.h"
#include "dnsd_ratelimit.h"

typedef struct {
    int64_t millitokens;  // thousandths of a token
    int64_t refilled;     // monotonic ms of the last refill
} s_bucket_t;

struct _dnsd_ratelimit_t {
    bool global_limit;                  // the global bucket is charged too
    int64_t rate, burst;                // global: tokens per second, most tokens held
    int64_t prefix_rate, prefix_burst;  // per network
    int ipv4_bits, ipv6_bits;           // what a network is
    size_t bucket_count;
    s_bucket_t global;
    s_bucket_t buckets[];  // bucket_count of them
};

dnsd_ratelimit_t *
dnsd_ratelimit_new_networks (int prefix_rate, int prefix_burst, int ipv4_bits, int ipv6_bits,
                             size_t buckets)
{
    assert (buckets > 0);
    assert (ipv4_bits >= 0 && ipv4_bits <= 32 && ipv6_bits >= 0 && ipv6_bits <= 128);
    dnsd_ratelimit_t *self =
        (dnsd_ratelimit_t *) zmalloc (sizeof (dnsd_ratelimit_t) + buckets * sizeof (s_bucket_t));
    self->prefix_rate = prefix_rate;
    self->prefix_burst = prefix_burst;
    self->ipv4_bits = ipv4_bits;
    self->ipv6_bits = ipv6_bits;
    self->bucket_count = buckets;
    return self;
}

dnsd_ratelimit_t *
dnsd_ratelimit_new (int rate, int burst, int prefix_rate, int prefix_burst)
{
    dnsd_ratelimit_t *self =
        dnsd_ratelimit_new_networks (prefix_rate, prefix_burst, 24, 64, DNSD_RATELIMIT_BUCKETS);
    self->global_limit = true;
    self->rate = rate;
    self->burst = burst;
    //  Buckets start full; "refilled" 0 marks a bucket never used.
    self->global.millitokens = 1000 * self->burst;
    return self;
}

void
dnsd_ratelimit_destroy (dnsd_ratelimit_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

static void
s_refill (s_bucket_t *bucket, int64_t rate, int64_t burst, int64_t now_ms)
{
    if (bucket->refilled == 0) {
        bucket->millitokens = 1000 * burst;
        bucket->refilled = now_ms;
        return;
    }
    int64_t elapsed = now_ms - bucket->refilled;
    if (elapsed <= 0)
        return;
    bucket->millitokens += elapsed * rate;  // rate tokens/s = rate millitokens/ms
    if (bucket->millitokens > 1000 * burst)
        bucket->millitokens = 1000 * burst;
    bucket->refilled = now_ms;
}

//  The first BITS bits of the LENGTH bytes of ADDRESS into KEY after FAMILY's byte. Returns
//  the key's length.
static size_t
s_key (uint8_t *key, uint8_t family, const uint8_t *address, size_t length, int bits)
{
    key[0] = family;
    memset (key + 1, 0, length);
    size_t whole = (size_t) bits / 8;
    memcpy (key + 1, address, whole);
    if (bits % 8)
        key[1 + whole] = (uint8_t) (address[whole] & (0xff << (8 - bits % 8)));
    return 1 + length;
}

bool
dnsd_ratelimit_allow (dnsd_ratelimit_t *self, const struct sockaddr *client, int64_t now_ms)
{
    assert (self);
    //  The client's network (IPv4-mapped IPv6 counts as IPv4), tagged with its family.
    uint8_t key[17] = {0};
    size_t length = 0;
    if (client->sa_family == AF_INET) {
        const uint8_t *address = (const uint8_t *) &((const struct sockaddr_in *) client)->sin_addr;
        length = s_key (key, 4, address, 4, self->ipv4_bits);
    }
    else if (client->sa_family == AF_INET6) {
        const struct in6_addr *address = &((const struct sockaddr_in6 *) client)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED (address))
            length = s_key (key, 4, address->s6_addr + 12, 4, self->ipv4_bits);
        else
            length = s_key (key, 6, address->s6_addr, 16, self->ipv6_bits);
    }
    s_bucket_t *bucket = &self->buckets[dnsd_name_hash (key, length) % self->bucket_count];
    s_refill (bucket, self->prefix_rate, self->prefix_burst, now_ms);
    if (self->global_limit)
        s_refill (&self->global, self->rate, self->burst, now_ms);
    if (bucket->millitokens < 1000 || (self->global_limit && self->global.millitokens < 1000))
        return false;
    bucket->millitokens -= 1000;
    if (self->global_limit)
        self->global.millitokens -= 1000;
    return true;
}
