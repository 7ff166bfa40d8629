/*  bus_config: defaults, overrides, and bad config refused with the file and the field.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "bus_config.h"
#include "test_config.h"
#include "test_support.h"

TEST_CONFIG_LOADER (s_load, bus_config_t, bus_config_load)

Test (bus_config, defaults_without_a_file)
{
    setenv ("JITSU_RUN_DIR", "/tmp/jt-default", 1);
    bus_config_t config;
    cr_assert (eq (int, bus_config_load (&config, NULL, NULL), 0));
    cr_assert (eq (str, config.endpoints.bus_in, "ipc:///tmp/jt-default/bus-in"));
    cr_assert (eq (int, config.heartbeat_ms, BUS_HEARTBEAT_MS_DEFAULT));
    cr_assert (eq (str, config.instance, "1"));
}

Test (bus_config, file_overrides_defaults)
{
    const char *path = test_write_temp ("{\"instance\":\"b2\",\"heartbeat_ms\":250,\"hwm\":10,"
                                "\"endpoints\":{\"bus_in\":\"tcp://127.0.0.1:7001\"}}");
    bus_config_t config;
    proto_error_t error;
    cr_assert (eq (int, bus_config_load (&config, path, &error), 0), "%s", error.text);
    cr_assert (eq (str, config.instance, "b2"));
    cr_assert (eq (int, config.heartbeat_ms, 250));
    cr_assert (eq (int, config.hwm, 10));
    cr_assert (eq (str, config.endpoints.bus_in, "tcp://127.0.0.1:7001"));
    unlink (path);
}

Test (bus_config, bad_config_names_file_and_field)
{
    const char *cases[][2] = {
        {"{\"heartbeat\":250}", "heartbeat"},
        {"{\"heartbeat_ms\":5}", "heartbeat_ms"},
        {"{\"heartbeat_ms\":\"fast\"}", "heartbeat_ms"},
        {"{\"instance\":\"\"}", "instance"},
        {"{\"endpoints\":{\"bus_in\":\"udp://x\"}}", "udp://x"},
        {"{\"hwm\":1,}", "line 1"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++)
        test_config_refused (s_load, cases[index][0], cases[index][1]);
}
