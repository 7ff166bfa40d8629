/*  metrics_registry: the text format, histograms, label escaping, and the series cap.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>

#include "metrics_registry.h"

static bool
s_has (const char *text, const char *line)
{
    return strstr (text, line) != NULL;
}

Test (metrics_registry, counters_and_gauges_render_with_help_and_type)
{
    metrics_registry_t *registry = metrics_registry_new (10);
    cr_assert (eq (int, metrics_registry_declare (registry, "jitsu_things_total",
                                                  METRICS_COUNTER, "Things.", NULL, 0), 0));
    cr_assert (eq (int, metrics_registry_declare (registry, "jitsu_level", METRICS_GAUGE,
                                                  "Level.", NULL, 0), 0));
    metrics_registry_add (registry, "jitsu_things_total", "kind=\"a\"", 2);
    metrics_registry_add (registry, "jitsu_things_total", "kind=\"a\"", 3);
    metrics_registry_set (registry, "jitsu_level", "", 7.5);
    char *text = metrics_registry_render (registry);
    cr_assert (s_has (text, "# HELP jitsu_things_total Things.\n# TYPE jitsu_things_total "
                            "counter\n"));
    cr_assert (s_has (text, "jitsu_things_total{kind=\"a\"} 5\n"), "%s", text);
    cr_assert (s_has (text, "jitsu_level 7.5\n"), "%s", text);
    free (text);
    cr_assert (eq (int, metrics_registry_add (registry, "jitsu_undeclared", "", 1), -1));
    cr_assert (eq (int, metrics_registry_declare (registry, "9bad", METRICS_GAUGE, "x", NULL, 0),
                   -1));
    metrics_registry_destroy (&registry);
}

Test (metrics_registry, histograms_are_cumulative_with_sum_and_count)
{
    metrics_registry_t *registry = metrics_registry_new (10);
    const double buckets[] = {0.1, 1, 10};
    metrics_registry_declare (registry, "jitsu_seconds", METRICS_HISTOGRAM, "Time.", buckets, 3);
    metrics_registry_observe (registry, "jitsu_seconds", "", 0.05);
    metrics_registry_observe (registry, "jitsu_seconds", "", 0.5);
    metrics_registry_observe (registry, "jitsu_seconds", "", 50);
    char *text = metrics_registry_render (registry);
    cr_assert (s_has (text, "jitsu_seconds_bucket{le=\"0.1\"} 1\n"), "%s", text);
    cr_assert (s_has (text, "jitsu_seconds_bucket{le=\"1\"} 2\n"));
    cr_assert (s_has (text, "jitsu_seconds_bucket{le=\"10\"} 2\n"));
    cr_assert (s_has (text, "jitsu_seconds_bucket{le=\"+Inf\"} 3\n"));
    cr_assert (s_has (text, "jitsu_seconds_sum 50.55\n"), "%s", text);
    cr_assert (s_has (text, "jitsu_seconds_count 3\n"));
    free (text);
    metrics_registry_destroy (&registry);
}

Test (metrics_registry, label_values_are_escaped)
{
    char labels[128] = "";
    cr_assert (eq (int, metrics_registry_label (labels, sizeof labels, "a", "x\"y\\z\nw"), 0));
    cr_assert (eq (str, labels, "a=\"x\\\"y\\\\z\\nw\""));
    cr_assert (eq (int, metrics_registry_label (labels, sizeof labels, "b", "2"), 0));
    cr_assert (eq (str, labels, "a=\"x\\\"y\\\\z\\nw\",b=\"2\""));
    char small[8] = "";
    cr_assert (eq (int, metrics_registry_label (small, sizeof small, "key", "value"), -1));
    char name[16];
    metrics_registry_sanitize (name, sizeof name, "syn-held.x");
    cr_assert (eq (str, name, "syn_held_x"));
}

Test (metrics_registry, a_full_family_drops_and_counts_new_series)
{
    metrics_registry_t *registry = metrics_registry_new (3);
    metrics_registry_declare (registry, "jitsu_hits_total", METRICS_COUNTER, "Hits.", NULL, 0);
    for (int index = 0; index < 100; index++) {
        char labels[64] = "";
        char value[16];
        snprintf (value, sizeof value, "s%d", index);
        metrics_registry_label (labels, sizeof labels, "service", value);
        metrics_registry_add (registry, "jitsu_hits_total", labels, 1);
    }
    cr_assert (eq (sz, metrics_registry_size (registry, "jitsu_hits_total"), 3));
    cr_assert (eq (u64, metrics_registry_dropped (registry), 97));
    cr_assert (eq (int, metrics_registry_add (registry, "jitsu_hits_total", "service=\"s0\"", 1),
                   0), "existing series still count");
    char *text = metrics_registry_render (registry);
    cr_assert (s_has (text, "jitsu_metrics_series_dropped_total{family=\"jitsu_hits_total\"} 97"),
               "%s", text);
    free (text);
    metrics_registry_destroy (&registry);
}

Test (metrics_registry, the_wrong_kind_of_update_is_refused_and_adds_no_series)
{
    metrics_registry_t *registry = metrics_registry_new (10);
    const double buckets[] = {1};
    metrics_registry_declare (registry, "jitsu_seconds", METRICS_HISTOGRAM, "Time.", buckets, 1);
    metrics_registry_declare (registry, "jitsu_level", METRICS_GAUGE, "Level.", NULL, 0);
    cr_assert (eq (int, metrics_registry_add (registry, "jitsu_seconds", "a=\"1\"", 1), -1));
    cr_assert (eq (int, metrics_registry_set (registry, "jitsu_seconds", "a=\"1\"", 1), -1));
    cr_assert (eq (int, metrics_registry_observe (registry, "jitsu_level", "a=\"1\"", 1), -1));
    const uint64_t counts[] = {1};
    cr_assert (eq (int, metrics_registry_set_histogram (registry, "jitsu_level", "a=\"1\"",
                                                        counts, 1, 1, 0.5),
                   -1));
    cr_assert (eq (sz, metrics_registry_size (registry, "jitsu_seconds"), 0));
    cr_assert (eq (sz, metrics_registry_size (registry, "jitsu_level"), 0));
    cr_assert (eq (int, metrics_registry_set (registry, "jitsu_level", "a=\"1\"", 2), 0));
    cr_assert (eq (int, metrics_registry_observe (registry, "jitsu_seconds", "a=\"1\"", 2), 0));
    cr_assert (eq (sz, metrics_registry_size (registry, "jitsu_level"), 1));
    metrics_registry_destroy (&registry);
}
