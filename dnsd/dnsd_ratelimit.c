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
    int64_t rate, burst;                // global: tokens per second, most tokens held
    int64_t prefix_rate, prefix_burst;  // per network
    s_bucket_t global;
    s_bucket_t buckets[DNSD_RATELIMIT_BUCKETS];
};

dnsd_ratelimit_t *
dnsd_ratelimit_new (int rate, int burst, int prefix_rate, int prefix_burst)
{
    dnsd_ratelimit_t *self = (dnsd_ratelimit_t *) zmalloc (sizeof (dnsd_ratelimit_t));
    self->rate = rate;
    self->burst = burst;
    self->prefix_rate = prefix_rate;
    self->prefix_burst = prefix_burst;
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

bool
dnsd_ratelimit_allow (dnsd_ratelimit_t *self, const struct sockaddr *client, int64_t now_ms)
{
    assert (self);
    //  The client's network: the first 3 bytes of IPv4 (IPv4-mapped IPv6 counts as IPv4), the
    //  first 8 of IPv6.
    uint8_t key[9] = {0};
    size_t length = 0;
    if (client->sa_family == AF_INET) {
        key[0] = 4;
        memcpy (key + 1, &((const struct sockaddr_in *) client)->sin_addr, 3);
        length = 4;
    }
    else if (client->sa_family == AF_INET6) {
        const struct in6_addr *address = &((const struct sockaddr_in6 *) client)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED (address)) {
            key[0] = 4;
            memcpy (key + 1, address->s6_addr + 12, 3);
            length = 4;
        }
        else {
            key[0] = 6;
            memcpy (key + 1, address->s6_addr, 8);
            length = 9;
        }
    }
    s_bucket_t *bucket = &self->buckets[dnsd_name_hash (key, length) % DNSD_RATELIMIT_BUCKETS];
    s_refill (bucket, self->prefix_rate, self->prefix_burst, now_ms);
    s_refill (&self->global, self->rate, self->burst, now_ms);
    if (bucket->millitokens < 1000 || self->global.millitokens < 1000)
        return false;
    bucket->millitokens -= 1000;
    self->global.millitokens -= 1000;
    return true;
}
