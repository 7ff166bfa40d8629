/*  dnsd_config: dnsd's configuration, defaults first, then the JSON file on top.  */

#ifndef DNSD_CONFIG_H_INCLUDED
#define DNSD_CONFIG_H_INCLUDED

#include <netinet/in.h>

#include "proto.h"
#include "proto_cidr.h"
#include "dnsd_cookie.h"
#include "dnsd_name.h"

#define DNSD_LISTEN_MAX     8    // listen addresses
#define DNSD_UPSTREAM_MAX   4    // upstream servers
#define DNSD_ZONE_NS_MAX    16   // NS names of one zone
#define DNSD_ZONES_MAX      256  // configured zones
#define DNSD_DNAME_TEXT_MAX 254  // a name in presentation form with its trailing dot
#define DNSD_RECURSION_MAX  32   // CIDRs in recursion_from

#define DNSD_PORT_DEFAULT               53
#define DNSD_HEARTBEAT_MS_DEFAULT       1000
#define DNSD_FORWARD_TIMEOUT_MS_DEFAULT 1000
#define DNSD_FORWARD_RETRIES_DEFAULT    2
#define DNSD_FORWARDS_MAX_DEFAULT       4096
#define DNSD_BOOT_RETRY_MS_DEFAULT      2000
#define DNSD_BOOT_RATE_DEFAULT          20  // boots per second, all clients together
#define DNSD_BOOT_BURST_DEFAULT         50
#define DNSD_BOOT_PREFIX_RATE_DEFAULT   2  // boots per second from one client /24 or /64
#define DNSD_BOOT_PREFIX_BURST_DEFAULT  10
#define DNSD_WAITING_MAX_DEFAULT        10000
#define DNSD_TCP_CLIENTS_MAX_DEFAULT    256
#define DNSD_TCP_IDLE_MS_DEFAULT        10000
#define DNSD_SYNC_WAIT_MS_DEFAULT       5000
#define DNSD_HITS_INTERVAL_MS           1000  // dns.hits: at most one per service per second
#define DNSD_HOLD_MAX_MS_DEFAULT        1200  // see hold_max_ms below and dnsd/README.md
#define DNSD_RRL_RATE_DEFAULT           200   // UDP answers per second per network (NSD's)
#define DNSD_RRL_SLIP_DEFAULT           2
#define DNSD_RRL_IPV4_PREFIX_DEFAULT    24
#define DNSD_RRL_IPV6_PREFIX_DEFAULT    56
#define DNSD_RRL_EXEMPT_MAX             64

//  One zone dnsd is authoritative for.
typedef struct {
    uint8_t apex[DNSD_NAME_MAX];  // lowercase wire name
    size_t apex_length;
    uint8_t ns[DNSD_ZONE_NS_MAX][DNSD_NAME_MAX];  // NS targets, wire
    size_t ns_length[DNSD_ZONE_NS_MAX];
    size_t ns_count;
    uint8_t hostmaster[DNSD_NAME_MAX];  // SOA RNAME, wire
    size_t hostmaster_length;
    int ttl;                              // of the SOA and NS records
    int refresh, retry, expire, minimum;  // SOA timers (RFC 1035 3.3.13)
} dnsd_zone_config_t;

//  A server to forward to.
typedef struct {
    struct sockaddr_storage address;
    socklen_t length;
    char text[PROTO_ADDR_MAX + 8];  // as configured, for logs
} dnsd_upstream_t;

//  Everything dnsd reads from its config file.
typedef struct {
    proto_endpoints_t endpoints;
    char instance[PROTO_NAME_MAX + 1];                 // "1": src dnsd/1, svc.alive
    char listen[DNSD_LISTEN_MAX][PROTO_ADDR_MAX + 1];  // addresses to bind
    size_t listen_count;
    int port;                                      // 0: pick a free one (tests)
    char port_file[PROTO_PATH_MAX * 2];            // "" or where to write the port
    dnsd_upstream_t upstreams[DNSD_UPSTREAM_MAX];  // none: forwarding off, REFUSED
    size_t upstream_count;
    int forward_timeout_ms;     // per try
    int forward_retries;        // tries after the first
    int forwards_max;           // forwarded queries in flight
    proto_cidr_t recursion_from[DNSD_RECURSION_MAX];  // clients offered recursion
    size_t recursion_count;                           // 0: nobody (default: loopback)
    dnsd_zone_config_t *zones;  // owned: configured zones
    size_t zone_count;
    dnsd_zone_config_t derived;               // template of derived zones (apex unset)
    int heartbeat_ms;                         // svc.alive period
    int statestore_heartbeat_ms;              // statestore's, for the replica
    int boot_retry_ms;                        // re-publish an unanswered vm.boot
    int boot_rate, boot_burst;                // boots per second, all clients (0: burst only)
    int boot_prefix_rate, boot_prefix_burst;  // ... per client /24 or /64
    int waiting_max;                          // queries held for booting services
    int hold_max_ms;  // the longest an answer waits for a boot (a service may set its own)
    int tcp_clients_max;
    int tcp_idle_ms;
    int sync_wait_ms;  // serve anyway if no snapshot by then
    //  Response rate limiting (dnsd_rrl): UDP answers per second per network (0: off), the
    //  slip ratio, the prefix lengths of a network, and the networks never limited.
    int rrl_rate, rrl_slip, rrl_ipv4_prefix, rrl_ipv6_prefix;
    proto_cidr_t rrl_exempt[DNSD_RRL_EXEMPT_MAX];
    size_t rrl_exempt_count;
    //  The server cookie secret, when configured (else each process draws its own).
    uint8_t cookie_secret[DNSD_COOKIE_SECRET_SIZE];
    bool has_cookie_secret;
} dnsd_config_t;

//  Fill SELF with defaults, then apply the JSON file at PATH (NULL: defaults only). Returns 0,
//  or -2 with ERROR naming the file and the field. Free with dnsd_config_reset.
int dnsd_config_load (dnsd_config_t *self, const char *path, proto_error_t *error);

//  Free what SELF owns. Safe on a loaded or zeroed config.
void dnsd_config_reset (dnsd_config_t *self);

//  Whether forwarding is on (at least one upstream).
bool dnsd_config_forwarding (const dnsd_config_t *self);

//  Whether CLIENT (borrowed; NULL: no) is offered recursion: forwarding is on and CLIENT is
//  in recursion_from.
bool dnsd_config_recursion (const dnsd_config_t *self, const struct sockaddr *client);

#endif
