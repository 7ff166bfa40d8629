/*  vt_services: service definitions and expectations the lifecycle suites share.  */

#ifndef VT_SERVICES_H_INCLUDED
#define VT_SERVICES_H_INCLUDED

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "vt_harness.h"

//  Wait for TOPIC about SERVICE; the test fails without it.
static inline const proto_msg_t *
vt_expect (const char *topic, const char *service)
{
    const proto_msg_t *msg = vt_wait (topic, service, VT_WAIT);
    cr_assert (not (eq (ptr, (void *) msg, NULL)), "no %s for %s", topic, service);
    return msg;
}

//  A template service NAME at 127.0.0.HOST with EXTRA fields ("\"ttl\": 1, " or "").
//  Every test address is on loopback: ready=probe connects to it, and test traffic may only
//  go to loopback.
static inline void
vt_template_service (const char *name, int host, const char *extra)
{
    char json[1024];
    snprintf (json, sizeof json,
              "{\"name\": \"%s\", \"dns\": [\"%s.example.org\"], \"ip\": \"127.0.0.%d\", %s"
              "\"template\": {\"kernel\": \"/boot/vmlinux\", \"bridge\": \"br0\"}}",
              name, name, host, extra);
    vt_service (name, json);
}

//  A service NAME for the defined domain DOMAIN at 127.0.0.1, with EXTRA fields.
static inline void
vt_domain_service (const char *name, const char *domain, const char *extra)
{
    char json[1024];
    snprintf (json, sizeof json,
              "{\"name\": \"%s\", \"dns\": [\"%s.example.org\"], \"ip\": \"127.0.0.1\", %s"
              "\"domain\": \"%s\"}",
              name, name, extra, domain);
    vt_service (name, json);
}

//  The statuses written for SERVICE become EXPECTED ("booting,ready"), or the test fails.
#define vt_assert_states(service, expected)                                                   \
    cr_assert (eq (str, (char *) vt_states_reach (service, expected, VT_WAIT), expected))

//  Boot SERVICE and wait until it is ready.
static inline void
vt_boot_ready (const char *service)
{
    vt_boot (service);
    vt_expect ("vm.ready", service);
}

#endif
