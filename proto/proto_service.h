/*  proto_service: a service definition, /services/NAME/config (schema in PROTOCOL.md).

    Parsing fills defaults, normalises names and addresses, and refuses anything the schema
    does not allow with a sentence naming the field. jitsuctl validates with it before writing;
    dnsd and vmctl parse what they read from statestore with it, so all three agree on what
    a service means.  */

#ifndef PROTO_SERVICE_H_INCLUDED
#define PROTO_SERVICE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <jansson.h>

#include "proto_cidr.h"
#include "proto_error.h"
#include "proto_msg.h"

#define PROTO_SERVICE_DNS_MAX   16   // names per service
#define PROTO_SERVICE_WAKE_MAX  16   // CIDRs in a wake list
#define PROTO_SERVICE_PATH_MAX  255  // kernel and initrd paths
#define PROTO_SERVICE_TTL_DEFAULT 60
#define PROTO_SERVICE_READY_TIMEOUT_DEFAULT 10000
#define PROTO_SERVICE_BOOT_TTL_DEFAULT  5    // seconds: answers while not ready
#define PROTO_SERVICE_DRAIN_TTL_DEFAULT 5    // seconds: answers while draining
#define PROTO_SERVICE_LADDER_MAX 8           // idle ladder steps

//  How boot delay is masked.
typedef enum {
    PROTO_MASK_NONE = 0,   // answer at once
    PROTO_MASK_DELAY,      // answer after response_delay_ms
    PROTO_MASK_READY,      // answer when vm.ready arrives
    PROTO_MASK_SYNJITSU,   // answer at once; synjitsu holds the client's SYNs
    PROTO_MASK_AUTO        // answer when ready, at most hold_max_ms late; synjitsu the rest
} proto_mask_t;

//  One rung of the idle ladder: AFTER_S seconds after the last use, stop by MODE.
typedef struct {
    int after_s;
    proto_mode_t mode;
} proto_idle_step_t;

//  How vmctl decides a VM is ready.
typedef enum {
    PROTO_READY_EVENT = 0,  // libvirt's started event
    PROTO_READY_PROBE,      // a TCP connect to ip:ready_port succeeds
    PROTO_READY_GARP        // synjitsu sees the guest's own frames
} proto_ready_t;

//  What counts as use for idle stop.
typedef enum {
    PROTO_IDLE_ON_DNS_TRAFFIC = 0,  // queries, and the interface's byte counters
    PROTO_IDLE_ON_DNS               // queries only
} proto_idle_on_t;

//  A transient domain vmctl creates.
typedef struct {
    char kernel[PROTO_SERVICE_PATH_MAX + 1];
    char initrd[PROTO_SERVICE_PATH_MAX + 1];  // "" when none
    char cmdline[PROTO_TEXT_MAX + 1];
    char bridge[PROTO_IFACE_MAX + 1];
    char machine[32];
    int memory_mib;
    int vcpus;
} proto_template_t;

//  A service, defaults filled in.
typedef struct {
    char name[PROTO_NAME_MAX + 1];
    char **dns;                 // owned: lowercase names without the trailing dot
    size_t dns_count;
    char ip[PROTO_ADDR_MAX + 1];
    char ip6[PROTO_ADDR_MAX + 1];        // "" when none
    char mac[PROTO_MAC_MAX + 1];         // lowercase; "" when libvirt picks it
    char domain[PROTO_DOMAIN_MAX + 1];   // "" when a template is used
    proto_template_t *template;          // owned; NULL when a domain is used
    int ttl;
    proto_mask_t mask;
    int response_delay_ms;
    proto_ready_t ready;
    int ready_port;                      // for PROTO_READY_PROBE
    int ready_timeout_ms;
    proto_mode_t stop_mode;              // the ladder's first step's mode
    int idle_timeout_s;                  // the ladder's first step's after_s
    proto_idle_step_t ladder[PROTO_SERVICE_LADDER_MAX];  // strictly increasing after_s
    size_t ladder_count;                 // at least 1
    proto_idle_on_t idle_on;
    int hold_max_ms;                     // -1: the dnsd's own default
    int boot_ttl;                        // seconds, at most ttl
    int drain_ttl;                       // seconds, at most ttl
    proto_cidr_t *wake;                  // owned; wake_count == 0 means everyone
    size_t wake_count;
} proto_service_t;

//  Zero SELF and fill the defaults.
void proto_service_init (proto_service_t *self);

//  Free what SELF owns and make it a fresh default service.
void proto_service_reset (proto_service_t *self);

//  Parse CONFIG (borrowed) into SELF (initialised). WHERE prefixes error messages ("www").
//  Returns 0, or -2 with ERROR naming the field; SELF is then reset.
int proto_service_parse (proto_service_t *self, json_t *config, const char *where,
                         proto_error_t *error);

//  The effective definition, every field present. Returns a new reference.
json_t *proto_service_encode (const proto_service_t *self);

//  Turn the original Jitsu syntax (ARGC words like "dns=a.example,ip=10.0.0.1", "ttl=30";
//  dns= and wake= repeat; "\," is a literal comma) into a config object for NAME. Returns a
//  new reference, or NULL with ERROR naming the key. The result still needs
//  proto_service_parse.
json_t *proto_service_from_words (const char *name, int argc, char **argv, proto_error_t *error);

//  Whether a client at ADDRESS may trigger a boot of SELF (its wake list, or everyone).
bool proto_service_may_wake (const proto_service_t *self, const struct sockaddr *address);

//  Wire names of the enums (borrowed).
const char *proto_mask_name (proto_mask_t mask);

#endif
