/*  metrics_registry: families, series and the text format.  */

#include <czmq.h>
#include <math.h>

#include "metrics_registry.h"

//  One labelled series.
typedef struct {
    double value;                          // counter or gauge
    uint64_t counts[METRICS_BUCKETS_MAX];  // histogram: observations <= each bucket
    uint64_t count;                        // histogram: all observations
    double sum;
} s_series_t;

//  One family.
typedef struct {
    char *name;
    char *help;
    metrics_kind_t kind;
    double buckets[METRICS_BUCKETS_MAX];
    size_t bucket_count;
    zhashx_t *series;                      // rendered labels -> s_series_t *
    uint64_t dropped;
} s_family_t;

struct _metrics_registry_t {
    zhashx_t *families;                    // name -> s_family_t *
    size_t series_max;
    uint64_t dropped;                      // all series refused, families included
    uint64_t families_dropped;
};

static void
s_family_destroy (void **item_p)
{
    s_family_t *family = (s_family_t *) *item_p;
    if (family) {
        zhashx_destroy (&family->series);
        free (family->name);
        free (family->help);
        free (family);
    }
    *item_p = NULL;
}

static void
s_series_destroy (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

metrics_registry_t *
metrics_registry_new (size_t series_max)
{
    metrics_registry_t *self = (metrics_registry_t *) zmalloc (sizeof (metrics_registry_t));
    self->families = zhashx_new ();
    zhashx_set_destructor (self->families, s_family_destroy);
    self->series_max = series_max;
    return self;
}

void
metrics_registry_destroy (metrics_registry_t **self_p)
{
    assert (self_p);
    metrics_registry_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->families);
    free (self);
    *self_p = NULL;
}

static bool
s_valid_name (const char *name)
{
    if (!*name || isdigit ((unsigned char) *name))
        return false;
    for (const char *cursor = name; *cursor; cursor++)
        if (!isalnum ((unsigned char) *cursor) && *cursor != '_' && *cursor != ':')
            return false;
    return true;
}

int
metrics_registry_declare (metrics_registry_t *self, const char *name, metrics_kind_t kind,
                          const char *help, const double *buckets, size_t bucket_count)
{
    assert (self);
    if (zhashx_lookup (self->families, name))
        return 0;
    if (!s_valid_name (name) || bucket_count > METRICS_BUCKETS_MAX)
        return -1;
    if (zhashx_size (self->families) >= METRICS_FAMILIES_MAX) {
        self->families_dropped++;
        self->dropped++;
        return -1;
    }
    s_family_t *family = (s_family_t *) zmalloc (sizeof (s_family_t));
    family->name = strdup (name);
    family->help = strdup (help);
    family->kind = kind;
    family->bucket_count = bucket_count;
    for (size_t index = 0; index < bucket_count; index++)
        family->buckets[index] = buckets[index];
    family->series = zhashx_new ();
    zhashx_set_destructor (family->series, s_series_destroy);
    zhashx_insert (self->families, name, family);
    return 0;
}

//  The series LABELS of family NAME, created if there is room, when the family is a histogram
//  exactly when HISTOGRAM says so; the family in *FAMILY_P when not NULL. NULL when refused:
//  a wrong kind creates no series.
static s_series_t *
s_series (metrics_registry_t *self, const char *name, const char *labels, bool histogram,
          s_family_t **family_p)
{
    s_family_t *family = (s_family_t *) zhashx_lookup (self->families, name);
    if (!family || (family->kind == METRICS_HISTOGRAM) != histogram)
        return NULL;
    if (family_p)
        *family_p = family;
    s_series_t *series = (s_series_t *) zhashx_lookup (family->series, labels);
    if (series)
        return series;
    if (zhashx_size (family->series) >= self->series_max) {
        family->dropped++;
        self->dropped++;
        return NULL;
    }
    series = (s_series_t *) zmalloc (sizeof (s_series_t));
    zhashx_insert (family->series, labels, series);
    return series;
}

int
metrics_registry_add (metrics_registry_t *self, const char *name, const char *labels,
                      double delta)
{
    assert (self);
    s_series_t *series = s_series (self, name, labels, false, NULL);
    if (!series)
        return -1;
    series->value += delta;
    return 0;
}

int
metrics_registry_set (metrics_registry_t *self, const char *name, const char *labels,
                      double value)
{
    assert (self);
    s_series_t *series = s_series (self, name, labels, false, NULL);
    if (series)
        series->value = value;
    return series ? 0 : -1;
}

int
metrics_registry_observe (metrics_registry_t *self, const char *name, const char *labels,
                          double value)
{
    assert (self);
    s_family_t *family;
    s_series_t *series = s_series (self, name, labels, true, &family);
    if (!series)
        return -1;
    for (size_t index = 0; index < family->bucket_count; index++)
        if (value <= family->buckets[index])
            series->counts[index]++;
    series->count++;
    series->sum += value;
    return 0;
}

int
metrics_registry_set_histogram (metrics_registry_t *self, const char *name, const char *labels,
                                const uint64_t *counts, size_t count, uint64_t total, double sum)
{
    assert (self && counts);
    s_family_t *family = (s_family_t *) zhashx_lookup (self->families, name);
    if (!family || family->bucket_count != count)
        return -1;
    s_series_t *series = s_series (self, name, labels, true, NULL);
    if (!series)
        return -1;
    memcpy (series->counts, counts, count * sizeof counts[0]);
    series->count = total;
    series->sum = sum;
    return 0;
}

void
metrics_registry_clear (metrics_registry_t *self, const char *name)
{
    assert (self);
    s_family_t *family = (s_family_t *) zhashx_lookup (self->families, name);
    if (family)
        zhashx_purge (family->series);
}

int
metrics_registry_label (char *buffer, size_t size, const char *key, const char *value)
{
    size_t used = strlen (buffer);
    int written = snprintf (buffer + used, size - used, "%s%s=\"", used ? "," : "", key);
    if (written < 0 || (size_t) written >= size - used)
        return -1;
    used += (size_t) written;
    //  Text format escaping: backslash, double quote and newline.
    for (const char *cursor = value; *cursor; cursor++) {
        char escape = 0;
        switch (*cursor) {
        case '\\':
            escape = '\\';
            break;
        case '"':
            escape = '"';
            break;
        case '\n':
            escape = 'n';
            break;
        }
        if (used + (escape ? 2 : 1) + 2 > size)
            return -1;
        if (escape) {
            buffer[used++] = '\\';
            buffer[used++] = escape;
        }
        else
            buffer[used++] = *cursor;
    }
    buffer[used++] = '"';
    buffer[used] = '\0';
    return 0;
}

void
metrics_registry_sanitize (char *buffer, size_t size, const char *text)
{
    size_t used = 0;
    for (const char *cursor = text; *cursor && used + 1 < size; cursor++)
        buffer[used++] = isalnum ((unsigned char) *cursor) ? *cursor : '_';
    buffer[used] = '\0';
}

static int
s_by_string (const void *left, const void *right)
{
    return strcmp (*(const char *const *) left, *(const char *const *) right);
}

//  The keys of HASH, sorted (the array is owned by the caller; the strings are borrowed).
static const char **
s_sorted_keys (zhashx_t *hash, size_t *count)
{
    *count = zhashx_size (hash);
    const char **keys = (const char **) malloc ((*count ? *count : 1) * sizeof (char *));
    size_t index = 0;
    for (void *item = zhashx_first (hash); item; item = zhashx_next (hash))
        keys[index++] = (const char *) zhashx_cursor (hash);
    qsort (keys, *count, sizeof (char *), s_by_string);
    return keys;
}

//  The shortest decimal form of VALUE that reads back exactly.
static void
s_number (zchunk_t *out, double value)
{
    char text[64];
    int length = 0;
    if (isinf (value))
        length = snprintf (text, sizeof text, value > 0 ? "+Inf" : "-Inf");
    else if (isnan (value))
        length = snprintf (text, sizeof text, "NaN");
    else
        for (int precision = 15; precision <= 17; precision++) {
            length = snprintf (text, sizeof text, "%.*g", precision, value);
            if (strtod (text, NULL) == value)
                break;
        }
    zchunk_extend (out, text, (size_t) length);
}

static void
s_line (zchunk_t *out, const char *name, const char *suffix, const char *labels,
        const char *extra, double value)
{
    zchunk_extend (out, name, strlen (name));
    zchunk_extend (out, suffix, strlen (suffix));
    if (*labels || *extra) {
        zchunk_extend (out, "{", 1);
        zchunk_extend (out, labels, strlen (labels));
        if (*labels && *extra)
            zchunk_extend (out, ",", 1);
        zchunk_extend (out, extra, strlen (extra));
        zchunk_extend (out, "}", 1);
    }
    zchunk_extend (out, " ", 1);
    s_number (out, value);
    zchunk_extend (out, "\n", 1);
}

static void
s_render_family (zchunk_t *out, s_family_t *family)
{
    static const char *kinds[] = {"counter", "gauge", "histogram"};
    char *head = zsys_sprintf ("# HELP %s %s\n# TYPE %s %s\n", family->name, family->help,
                               family->name, kinds[family->kind]);
    zchunk_extend (out, head, strlen (head));
    zstr_free (&head);
    size_t count;
    const char **labels = s_sorted_keys (family->series, &count);
    for (size_t index = 0; index < count; index++) {
        s_series_t *series = (s_series_t *) zhashx_lookup (family->series, labels[index]);
        if (family->kind != METRICS_HISTOGRAM) {
            s_line (out, family->name, "", labels[index], "", series->value);
            continue;
        }
        for (size_t bucket = 0; bucket < family->bucket_count; bucket++) {
            char le[64];
            snprintf (le, sizeof le, "le=\"%g\"", family->buckets[bucket]);
            s_line (out, family->name, "_bucket", labels[index], le,
                    (double) series->counts[bucket]);
        }
        s_line (out, family->name, "_bucket", labels[index], "le=\"+Inf\"",
                (double) series->count);
        s_line (out, family->name, "_sum", labels[index], "", series->sum);
        s_line (out, family->name, "_count", labels[index], "", (double) series->count);
    }
    free (labels);
}

char *
metrics_registry_render (metrics_registry_t *self)
{
    assert (self);
    //  The registry's own refusals, as a family of their own.
    metrics_registry_declare (self, "jitsu_metrics_series_dropped_total", METRICS_COUNTER,
                              "Series refused because a family or the registry was full.",
                              NULL, 0);
    s_family_t *dropped =
        (s_family_t *) zhashx_lookup (self->families, "jitsu_metrics_series_dropped_total");
    if (dropped) {
        zhashx_purge (dropped->series);
        for (s_family_t *family = (s_family_t *) zhashx_first (self->families); family;
             family = (s_family_t *) zhashx_next (self->families)) {
            if (!family->dropped)
                continue;
            char labels[METRICS_LABELS_MAX] = "";
            metrics_registry_label (labels, sizeof labels, "family", family->name);
            s_series_t *series = (s_series_t *) zmalloc (sizeof (s_series_t));
            series->value = (double) family->dropped;
            zhashx_insert (dropped->series, labels, series);
        }
        if (self->families_dropped) {
            s_series_t *series = (s_series_t *) zmalloc (sizeof (s_series_t));
            series->value = (double) self->families_dropped;
            zhashx_insert (dropped->series, "family=\"(new families)\"", series);
        }
    }
    zchunk_t *out = zchunk_new (NULL, 16384);
    size_t count;
    const char **names = s_sorted_keys (self->families, &count);
    for (size_t index = 0; index < count; index++)
        s_render_family (out, (s_family_t *) zhashx_lookup (self->families, names[index]));
    free (names);
    zchunk_extend (out, "", 1);
    char *text = strdup ((const char *) zchunk_data (out));
    zchunk_destroy (&out);
    return text;
}

uint64_t
metrics_registry_dropped (metrics_registry_t *self)
{
    assert (self);
    return self->dropped;
}

size_t
metrics_registry_size (metrics_registry_t *self, const char *name)
{
    assert (self);
    s_family_t *family = (s_family_t *) zhashx_lookup (self->families, name);
    return family ? zhashx_size (family->series) : 0;
}
