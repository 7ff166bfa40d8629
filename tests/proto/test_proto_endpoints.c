/*  proto_endpoints: defaults from the run directory, overrides from config.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "proto.h"
#include "test_support.h"

Test (proto_endpoints, defaults_follow_jitsu_run_dir)
{
    setenv ("JITSU_RUN_DIR", "/tmp/somewhere", 1);
    proto_endpoints_t endpoints;
    cr_assert (eq (int, proto_endpoints_defaults (&endpoints), 0));
    cr_assert (eq (str, endpoints.bus_in, "ipc:///tmp/somewhere/bus-in"));
    cr_assert (eq (str, endpoints.bus_out, "ipc:///tmp/somewhere/bus-out"));
    cr_assert (eq (str, endpoints.state, "ipc:///tmp/somewhere/state"));
    unsetenv ("JITSU_RUN_DIR");
    cr_assert (eq (int, proto_endpoints_defaults (&endpoints), 0));
    cr_assert (eq (str, endpoints.bus_in, "ipc:///run/jitsu/bus-in"));
}

Test (proto_endpoints, config_overrides_and_moves_run_dir)
{
    unsetenv ("JITSU_RUN_DIR");
    proto_endpoints_t endpoints;
    proto_endpoints_defaults (&endpoints);
    json_t *config = json_pack ("{s:s, s:s}", "run_dir", "/var/run/j", "state",
                                "tcp://127.0.0.1:7003");
    proto_error_t error;
    int rc = proto_endpoints_configure (&endpoints, config, "test.json", &error);
    cr_assert (eq (int, rc, 0), "%s", error.text);
    cr_assert (eq (str, endpoints.bus_in, "ipc:///var/run/j/bus-in"));
    cr_assert (eq (str, endpoints.state, "tcp://127.0.0.1:7003"));
    json_decref (config);
}

Test (proto_endpoints, bad_config_is_refused_with_reason)
{
    proto_endpoints_t endpoints;
    proto_endpoints_defaults (&endpoints);
    proto_error_t error;
    json_t *misspelt = json_pack ("{s:s}", "bus_inn", "ipc:///x");
    cr_assert (eq (int, proto_endpoints_configure (&endpoints, misspelt, "test.json", &error), -2));
    cr_assert (not (eq (ptr, strstr (error.text, "bus_inn"), NULL)), "%s", error.text);
    json_decref (misspelt);
    json_t *scheme = json_pack ("{s:s}", "bus_in", "udp://1.2.3.4:5");
    cr_assert (eq (int, proto_endpoints_configure (&endpoints, scheme, "test.json", &error), -2));
    json_decref (scheme);
    char long_path[200];
    memset (long_path, 'p', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    json_t *too_long = json_pack ("{s:s}", "run_dir", long_path);
    cr_assert (eq (int, proto_endpoints_configure (&endpoints, too_long, "test.json", &error), -2));
    json_decref (too_long);
}

Test (proto_endpoints, prepare_creates_a_private_run_directory)
{
    char base[] = "/tmp/jt-prep-XXXXXX";
    cr_assert (not (eq (ptr, mkdtemp (base), NULL)));
    char endpoint[256];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/deeper/run/bus-in", base);
    cr_assert (eq (int, proto_endpoints_prepare (endpoint), 0));
    char directory[256];
    snprintf (directory, sizeof directory, "%s/deeper/run", base);
    struct stat status;
    cr_assert (eq (int, stat (directory, &status), 0));
    cr_assert (eq (int, status.st_mode & 0777, 0750));
    cr_assert (eq (int, proto_endpoints_prepare ("tcp://127.0.0.1:1"), 0));
    rmdir (directory);
    snprintf (directory, sizeof directory, "%s/deeper", base);
    rmdir (directory);
    rmdir (base);
}

Test (proto_endpoints, config_file_errors_name_file_and_line)
{
    const char *path = test_write_temp ("{\n  \"instance\": \"1\",\n  \"instance\": \"2\"\n}\n");
    proto_error_t error;
    cr_assert (eq (ptr, proto_config_load (path, &error), NULL));
    cr_assert (not (eq (ptr, strstr (error.text, path), NULL)), "%s", error.text);
    cr_assert (not (eq (ptr, strstr (error.text, ":3:"), NULL)), "%s", error.text);
    unlink (path);
}

Test (proto_endpoints, config_apply_splits_off_endpoints_and_leaves_the_object_alone)
{
    unsetenv ("JITSU_RUN_DIR");
    proto_endpoints_t endpoints;
    proto_endpoints_defaults (&endpoints);
    int workers = 1;
    const proto_config_field_t fields[] = {
        {"workers", PROTO_CONFIG_INT, &workers, 0, 1, 64},
        PROTO_CONFIG_END,
    };
    json_t *config = json_pack ("{s:i, s:{s:s}}", "workers", 8, "endpoints", "run_dir", "/tmp/j");
    proto_error_t error;
    int rc = proto_config_apply (config, fields, &endpoints, "test.json", &error);
    cr_assert (eq (int, rc, 0), "%s", error.text);
    cr_assert (eq (int, workers, 8));
    cr_assert (eq (str, endpoints.bus_in, "ipc:///tmp/j/bus-in"));
    cr_assert (not (eq (ptr, json_object_get (config, "endpoints"), NULL)), "the caller's copy");
    //  Without ENDPOINTS, an "endpoints" key is one the table does not know.
    cr_assert (eq (int, proto_config_apply (config, fields, NULL, "test.json", &error), -2));
    cr_assert (not (eq (ptr, strstr (error.text, "endpoints"), NULL)), "%s", error.text);
    json_decref (config);
}

Test (proto_endpoints, a_run_dir_too_long_for_ipc_stops_a_config_with_the_reason)
{
    char long_dir[PROTO_PATH_MAX + 16];
    memset (long_dir, 'd', sizeof long_dir - 1);
    long_dir[0] = '/';
    long_dir[sizeof long_dir - 1] = '\0';
    setenv ("JITSU_RUN_DIR", long_dir, 1);
    proto_endpoints_t endpoints;
    proto_error_t error;
    cr_assert (eq (int, proto_config_endpoints (&endpoints, &error), -2));
    cr_assert (eq (int, error.code, PROTO_ERR_TOO_LONG));
    cr_assert (not (eq (ptr, strstr (error.text, "JITSU_RUN_DIR"), NULL)), "%s", error.text);
    unsetenv ("JITSU_RUN_DIR");
    cr_assert (eq (int, proto_config_endpoints (&endpoints, &error), 0));
    cr_assert (eq (str, endpoints.state, "ipc:///run/jitsu/state"));
}
