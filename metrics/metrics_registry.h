/*  metrics_registry: metric families and their labelled series, rendered in Prometheus text
    format (version 0.0.4).

    Label values come from the bus, so they are bounded: each family holds at most a fixed
    number of series, and the registry at most a fixed number of families; what does not fit
    is dropped and counted (jitsu_metrics_series_dropped_total), never stored.  */

#ifndef METRICS_REGISTRY_H_INCLUDED
#define METRICS_REGISTRY_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define METRICS_LABELS_MAX   512   // bytes of one rendered label set
#define METRICS_FAMILIES_MAX 512   // families, dynamic ones included
#define METRICS_BUCKETS_MAX  16

typedef enum {
    METRICS_COUNTER,
    METRICS_GAUGE,
    METRICS_HISTOGRAM
} metrics_kind_t;

typedef struct _metrics_registry_t metrics_registry_t;

//  A registry where each family holds at most SERIES_MAX series.
metrics_registry_t *metrics_registry_new (size_t series_max);

//  Free it. NULL-safe.
void metrics_registry_destroy (metrics_registry_t **self_p);

//  Declare family NAME (must match [a-zA-Z_:][a-zA-Z0-9_:]*) of KIND with HELP; histograms take
//  BUCKET_COUNT upper bounds, ascending. Declaring it again is a no-op. Returns 0, or -1 when
//  the name is invalid or the registry is full (counted as dropped).
int metrics_registry_declare (metrics_registry_t *self, const char *name, metrics_kind_t kind,
                              const char *help, const double *buckets, size_t bucket_count);

//  Add DELTA to a counter (or gauge) series, set one (a counter copied from a source that counts
//  itself), or observe a histogram value. LABELS
//  is a rendered label set ("service=\"www\"", "" for none; see metrics_registry_label).
//  Returns 0, or -1 when the family is undeclared or full (the series is dropped, counted).
int metrics_registry_add (metrics_registry_t *self, const char *name, const char *labels,
                          double delta);
int metrics_registry_set (metrics_registry_t *self, const char *name, const char *labels,
                          double value);
int metrics_registry_observe (metrics_registry_t *self, const char *name, const char *labels,
                              double value);

//  Set a histogram series from a source that counts itself: COUNT cumulative counts, one per
//  bucket the family was declared with, then the total TOTAL and the SUM. Returns 0, or -1 when
//  the family is undeclared, not a histogram, declared with another number of buckets, or full.
int metrics_registry_set_histogram (metrics_registry_t *self, const char *name,
                                    const char *labels, const uint64_t *counts, size_t count,
                                    uint64_t total, double sum);

//  Remove every series of family NAME (a gauge whose members come and go).
void metrics_registry_clear (metrics_registry_t *self, const char *name);

//  Append `KEY="VALUE"` to the label set in BUFFER (SIZE bytes), escaping VALUE as the text
//  format requires. Returns 0, or -1 when it does not fit.
int metrics_registry_label (char *buffer, size_t size, const char *key, const char *value);

//  Turn TEXT into a valid metric name fragment in BUFFER: [a-zA-Z0-9_], others become '_'.
void metrics_registry_sanitize (char *buffer, size_t size, const char *text);

//  The whole registry in text format. The caller frees the result.
char *metrics_registry_render (metrics_registry_t *self);

//  Series refused so far because a family or the registry was full.
uint64_t metrics_registry_dropped (metrics_registry_t *self);

//  Series held in family NAME, 0 if undeclared.
size_t metrics_registry_size (metrics_registry_t *self, const char *name);

#endif
