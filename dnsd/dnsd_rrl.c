/*  dnsd_rrl: a token bucket per network, a slip counter, and the TC rewrite.  */

#include <arpa/inet.h>
#include <czmq.h>

#include "dnsd_query.h"
#include "dnsd_ratelimit.h"
#include "dnsd_rrl.h"

#define S_LOG_MS 1000  // one warning a second at most while limiting

struct _dnsd_rrl_t {
    int rate;
    int slip;
    dnsd_ratelimit_t *buckets;  // owned; NULL when off
    proto_cidr_t *exempt;       // owned
    size_t exempt_count;
    uint64_t limited;  // answers over the limit: every slip-th slips
    int64_t logged;    // monotonic ms of the last warning
    dnsd_rrl_stats_t stats;
};

dnsd_rrl_t *
dnsd_rrl_new (int rate, int slip, int ipv4_bits, int ipv6_bits, const proto_cidr_t *exempt,
              size_t count)
{
    dnsd_rrl_t *self = (dnsd_rrl_t *) zmalloc (sizeof (dnsd_rrl_t));
    self->rate = rate;
    self->slip = slip;
    if (rate > 0)
        self->buckets =
            dnsd_ratelimit_new_networks (rate, rate, ipv4_bits, ipv6_bits, DNSD_RRL_BUCKETS);
    self->exempt = (proto_cidr_t *) zmalloc ((count + 1) * sizeof (proto_cidr_t));
    if (count)
        memcpy (self->exempt, exempt, count * sizeof (proto_cidr_t));
    self->exempt_count = count;
    self->logged = INT64_MIN / 2;
    return self;
}

void
dnsd_rrl_destroy (dnsd_rrl_t **self_p)
{
    assert (self_p);
    dnsd_rrl_t *self = *self_p;
    if (!self)
        return;
    free (self->exempt);
    dnsd_ratelimit_destroy (&self->buckets);
    free (self);
    *self_p = NULL;
}

//  Say, once a second at most, that answers to CLIENT's network are being limited.
static void
s_warn (dnsd_rrl_t *self, const struct sockaddr *client, int64_t now_ms)
{
    if (now_ms - self->logged < S_LOG_MS)
        return;
    char text[INET6_ADDRSTRLEN] = "?";
    uint8_t bytes[16];
    int family = proto_cidr_address (client, bytes);
    if (family)
        inet_ntop (family, bytes, text, sizeof text);
    zsys_warning ("dnsd_rrl: limiting answers client=%s rrl_rate=%d dropped=%" PRIu64
                  " slipped=%" PRIu64,
                  text, self->rate, self->stats.dropped, self->stats.slipped);
    self->logged = now_ms;
}

dnsd_rrl_verdict_t
dnsd_rrl_check (dnsd_rrl_t *self, const struct sockaddr *client, bool cookie_valid, int64_t now_ms)
{
    assert (self);
    if (!self->buckets || cookie_valid
        || proto_cidr_list_match (self->exempt, self->exempt_count, client))
        return DNSD_RRL_SEND;
    if (dnsd_ratelimit_allow (self->buckets, client, now_ms))
        return DNSD_RRL_SEND;
    //  The first answer over the limit slips, so a real client learns at once to use TCP.
    bool slip = self->slip > 0 && self->limited % (uint64_t) self->slip == 0;
    self->limited++;
    if (slip)
        self->stats.slipped++;
    else
        self->stats.dropped++;
    s_warn (self, client, now_ms);
    return slip ? DNSD_RRL_SLIP : DNSD_RRL_DROP;
}

static inline uint16_t
s_u16 (const uint8_t *bytes)
{
    return (uint16_t) ((bytes[0] << 8) | bytes[1]);
}

//  The offset after the name at OFFSET (labels, ending in a root label or a compression
//  pointer, RFC 1035 section 4.1.4), or 0 when it runs past SIZE.
static size_t
s_skip_name (const uint8_t *message, size_t size, size_t offset)
{
    while (offset < size) {
        uint8_t length = message[offset];
        if ((length & 0xc0) == 0xc0)
            return offset + 2 <= size ? offset + 2 : 0;
        if (length > DNSD_LABEL_MAX)
            return 0;
        offset += 1 + (size_t) length;
        if (length == 0)
            return offset <= size ? offset : 0;
    }
    return 0;
}

size_t
dnsd_rrl_slip (uint8_t *answer, size_t size)
{
    //  DNS message format, RFC 1035 section 4.1; OPT, RFC 6891 section 6.1.2.
    if (size < DNSD_HEADER_SIZE)
        return 0;
    uint16_t qdcount = s_u16 (answer + 4);
    size_t records = (size_t) s_u16 (answer + 6) + s_u16 (answer + 8) + s_u16 (answer + 10);
    if (qdcount > 1)
        return 0;
    size_t offset = DNSD_HEADER_SIZE;
    if (qdcount) {
        offset = s_skip_name (answer, size, offset);
        if (offset == 0 || offset + 4 > size)
            return 0;
        offset += 4;
    }
    size_t question_end = offset, opt = 0, opt_size = 0;
    for (size_t index = 0; index < records; index++) {
        size_t start = offset;
        offset = s_skip_name (answer, size, offset);
        if (offset == 0 || offset + 10 > size)
            return 0;
        size_t end = offset + 10 + s_u16 (answer + offset + 8);
        if (end > size)
            return 0;
        if (s_u16 (answer + offset) == DNSD_TYPE_OPT && offset == start + 1 && !opt_size) {
            opt = start;
            opt_size = end - start;
        }
        offset = end;
    }
    memmove (answer + question_end, answer + opt, opt_size);
    answer[2] |= DNSD_FLAG_TC >> 8;
    memset (answer + 6, 0, 6);
    answer[11] = opt_size ? 1 : 0;
    return question_end + opt_size;
}

const dnsd_rrl_stats_t *
dnsd_rrl_stats (dnsd_rrl_t *self)
{
    assert (self);
    return &self->stats;
}
