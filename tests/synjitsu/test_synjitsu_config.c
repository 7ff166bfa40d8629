/*  synjitsu_config: defaults, overrides, and bad config refused with the file and the field.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "synjitsu_config.h"
#include "test_config.h"
#include "test_support.h"

TEST_CONFIG_LOADER (s_load, synjitsu_config_t, synjitsu_config_load)

Test (synjitsu_config, defaults_without_a_file)
{
    setenv ("JITSU_RUN_DIR", "/tmp/jt-default", 1);
    synjitsu_config_t config;
    cr_assert (eq (int, synjitsu_config_load (&config, NULL, NULL), 0));
    cr_assert (eq (str, config.endpoints.bus_out, "ipc:///tmp/jt-default/bus-out"));
    cr_assert (eq (str, config.bridge, SYNJITSU_BRIDGE_DEFAULT));
    cr_assert (eq (str, config.instance, "1"));
    cr_assert (eq (int, config.heartbeat_ms, 1000));
    cr_assert (eq (int, config.limits.max_hold_ms, 3000), "the issue's default age");
    cr_assert (eq (int, config.limits.garp_count, 3));
    cr_assert (eq (int, config.limits.max_syns_per_ip, SYNJITSU_MAX_SYNS_PER_IP_DEFAULT));
    cr_assert (eq (int, config.limits.max_syns, SYNJITSU_MAX_SYNS_DEFAULT));
}

Test (synjitsu_config, file_overrides_defaults)
{
    const char *path = test_write_temp (
        "{\"bridge\":\"jitsu0\",\"instance\":\"s2\",\"heartbeat_ms\":250,"
        "\"max_syns_per_ip\":4,\"max_syns\":16,\"max_hold_ms\":500,\"garp_count\":0,"
        "\"garp_interval_ms\":100,\"endpoints\":{\"bus_in\":\"tcp://127.0.0.1:7001\"}}");
    synjitsu_config_t config;
    proto_error_t error;
    cr_assert (eq (int, synjitsu_config_load (&config, path, &error), 0), "%s", error.text);
    cr_assert (eq (str, config.bridge, "jitsu0"));
    cr_assert (eq (str, config.instance, "s2"));
    cr_assert (eq (int, config.heartbeat_ms, 250));
    cr_assert (eq (int, config.limits.max_syns_per_ip, 4));
    cr_assert (eq (int, config.limits.max_syns, 16));
    cr_assert (eq (int, config.limits.max_hold_ms, 500));
    cr_assert (eq (int, config.limits.garp_count, 0));
    cr_assert (eq (int, config.limits.garp_interval_ms, 100));
    cr_assert (eq (str, config.endpoints.bus_in, "tcp://127.0.0.1:7001"));
    unlink (path);
}

Test (synjitsu_config, bad_config_names_file_and_field)
{
    const char *cases[][2] = {
        {"{\"brige\":\"br0\"}", "brige"},
        {"{\"bridge\":\"\"}", "bridge"},
        {"{\"bridge\":\"a-name-longer-than-ifnamsiz\"}", "bridge"},
        {"{\"max_hold_ms\":0}", "max_hold_ms"},
        {"{\"max_syns\":-1}", "max_syns"},
        {"{\"max_syns_per_ip\":\"8\"}", "max_syns_per_ip"},
        {"{\"garp_interval_ms\":1}", "garp_interval_ms"},
        {"{\"endpoints\":{\"bus_in\":\"udp://x\"}}", "udp://x"},
        {"{\"bridge\":\"br0\",\"bridge\":\"br1\"}", "duplicate"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++)
        test_config_refused (s_load, cases[index][0], cases[index][1]);
}
