/*  vmctl_config: defaults, every key, strictness.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "test_config.h"
#include "test_support.h"
#include "vmctl_config.h"

//  Apply TEXT (a JSON object) on top of the defaults. Returns the rc; ERROR says why.
static int
s_apply (vmctl_config_t *config, const char *text, proto_error_t *error)
{
    vmctl_config_defaults (config);
    json_t *object = json_loads (text, JSON_REJECT_DUPLICATES, NULL);
    cr_assert (not (eq (ptr, object, NULL)), "bad test JSON %s", text);
    int rc = vmctl_config_apply (config, object, "vmctl.json", error);
    json_decref (object);
    return rc;
}

TEST_CONFIG_LOADER (s_load, vmctl_config_t, vmctl_config_load)

Test (vmctl_config, defaults)
{
    vmctl_config_t config;
    proto_error_t error;
    cr_assert (eq (int, vmctl_config_load (&config, NULL, &error), 0));
    cr_assert (eq (str, config.uri, "qemu:///system"));
    cr_assert (eq (str, config.instance, "1"));
    cr_assert (eq (str, config.domain_prefix, "jitsu-"));
    cr_assert (eq (str, config.domain_type, "qemu"));
    cr_assert (eq (int, config.workers, 4));
    cr_assert (eq (int, config.heartbeat_ms, 1000));
    cr_assert (eq (int, config.shutdown_grace_ms, 10000));
    cr_assert (eq (int, config.limits.max_running, 0));
    cr_assert (eq (int, config.limits.max_booting, 0));
    cr_assert (eq (int, config.limits.memory_budget_mib, 0));
    cr_assert (config.limits.evict_idle);
}

Test (vmctl_config, every_key)
{
    vmctl_config_t config;
    proto_error_t error;
    int rc = s_apply (&config,
                      "{\"uri\": \"test:///default\", \"instance\": \"7\", \"workers\": 2, "
                      "\"domain_prefix\": \"j.\", \"domain_type\": \"kvm\", "
                      "\"heartbeat_ms\": 500, \"statestore_heartbeat_ms\": 300, "
                      "\"idle_check_ms\": 250, \"shutdown_grace_ms\": 0, "
                      "\"probe_interval_ms\": 5, \"probe_attempt_ms\": 100, "
                      "\"reconnect_min_ms\": 20, \"reconnect_max_ms\": 40, "
                      "\"endpoints\": {\"run_dir\": \"/tmp/x\"}, "
                      "\"max_running\": 10, \"max_booting\": 3, "
                      "\"memory_budget_mib\": 4096, \"evict_idle\": false}",
                      &error);
    cr_assert (eq (int, rc, 0), "%s", error.text);
    cr_assert (eq (str, config.uri, "test:///default"));
    cr_assert (eq (str, config.instance, "7"));
    cr_assert (eq (int, config.workers, 2));
    cr_assert (eq (str, config.domain_prefix, "j."));
    cr_assert (eq (str, config.domain_type, "kvm"));
    cr_assert (eq (int, config.statestore_heartbeat_ms, 300));
    cr_assert (eq (int, config.shutdown_grace_ms, 0));
    cr_assert (eq (int, config.probe_attempt_ms, 100));
    cr_assert (eq (int, config.reconnect_max_ms, 40));
    cr_assert (eq (str, config.endpoints.bus_in, "ipc:///tmp/x/bus-in"));
    cr_assert (eq (int, config.limits.max_running, 10));
    cr_assert (eq (int, config.limits.max_booting, 3));
    cr_assert (eq (int, config.limits.memory_budget_mib, 4096));
    cr_assert (not (config.limits.evict_idle));
}

//  Objects s_apply must refuse (-2), and what the error must name (NULL: not looked at).
static const struct {
    const char *text;
    const char *what;
} s_refusals[] = {
    //  Misspelt keys.
    {"{\"url\": \"test:///default\"}", "url"},
    {"{\"max_vms\": 1}", "max_vms"},
    {"{\"endpoints\": {\"bus\": \"x\"}}", NULL},
    //  Out of range and wrong types.
    {"{\"workers\": 0}", NULL},
    {"{\"heartbeat_ms\": \"1000\"}", NULL},
    {"{\"evict_idle\": 1}", NULL},
    {"{\"max_running\": -1}", NULL},
    {"{\"uri\": \"\"}", NULL},
    //  The domain type and prefix, and the reconnect bounds against each other.
    {"{\"domain_type\": \"xen\"}", NULL},
    {"{\"domain_prefix\": \"a/b\"}", NULL},
    {"{\"reconnect_min_ms\": 500, \"reconnect_max_ms\": 100}", NULL},
};

Test (vmctl_config, misspelt_keys_bad_values_and_wrong_types_are_refused)
{
    for (size_t index = 0; index < sizeof s_refusals / sizeof s_refusals[0]; index++) {
        vmctl_config_t config;
        proto_error_t error;
        const char *text = s_refusals[index].text, *what = s_refusals[index].what;
        cr_assert (eq (int, s_apply (&config, text, &error), -2), "%s", text);
        if (what)
            cr_assert (not (eq (ptr, strstr (error.text, what), NULL)),
                       "%s: error \"%s\" does not name %s", text, error.text, what);
    }
}

Test (vmctl_config, an_empty_domain_prefix_is_taken)
{
    vmctl_config_t config;
    proto_error_t error;
    cr_assert (eq (int, s_apply (&config, "{\"domain_prefix\": \"\"}", &error), 0), "%s",
               error.text);
}

Test (vmctl_config, file_errors_name_the_file_and_line)
{
    test_config_refused (s_load, "{\n  \"uri\": \"test:///default\",\n  \"uri\": \"x\"\n}\n",
                         ":3:");
}
