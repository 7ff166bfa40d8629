/*  proto_alive: svc.alive's counters and histograms on the wire (PROTOCOL.md), and the
    builders that add them to a heartbeat. proto_msg's codec calls the readers and writers
    for the two fields.  */

#include <czmq.h>

#include "proto_alive.h"

int
proto_alive_read_counters (proto_svc_alive_t *body, json_t *value, proto_error_t *error)
{
    if (!json_is_object (value))
        return proto_error_set (error, PROTO_ERR_TYPE, "body.counters: expected an object");
    if (json_object_size (value) > PROTO_COUNTERS_MAX)
        return proto_error_set (error, PROTO_ERR_VALUE, "body.counters: more than %d counters",
                                PROTO_COUNTERS_MAX);
    const char *name;
    json_t *count;
    json_object_foreach (value, name, count) {
        if (!json_is_integer (count))
            return proto_error_set (error, PROTO_ERR_TYPE,
                                    "body.counters.%.64s: expected an integer", name);
        if (strlen (name) > PROTO_NAME_MAX)
            return proto_error_set (error, PROTO_ERR_TOO_LONG,
                                    "body.counters: name longer than %d bytes", PROTO_NAME_MAX);
        proto_counter_t *counter = &body->counters[body->counter_count++];
        strcpy (counter->name, name);
        counter->value = json_integer_value (count);
    }
    return 0;
}

//  Whether TEXT is a histogram or label name: 1 to PROTO_NAME_MAX bytes of [a-z_], and digits
//  too when DIGITS.
static bool
s_is_metric_name (const char *text, bool digits)
{
    size_t length = strlen (text);
    if (length == 0 || length > PROTO_NAME_MAX)
        return false;
    for (const char *cursor = text; *cursor; cursor++)
        if (!(*cursor >= 'a' && *cursor <= 'z') && *cursor != '_'
            && !(digits && *cursor >= '0' && *cursor <= '9'))
            return false;
    return true;
}

//  Whether a filled histogram keeps the schema's rules; says why not in ERROR.
static int
s_check_histogram (const proto_histogram_t *histogram, size_t index, proto_error_t *error)
{
    if (!s_is_metric_name (histogram->name, true))
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "body.histograms[%zu].name: not 1-%d bytes of [a-z0-9_]", index,
                                PROTO_NAME_MAX);
    for (size_t label = 0; label < histogram->label_count; label++)
        if (!s_is_metric_name (histogram->labels[label].name, false))
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "body.histograms[%zu].labels: a name is not [a-z_]", index);
    if (histogram->bound_count < 1 || histogram->bound_count > PROTO_BOUNDS_MAX)
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "body.histograms[%zu].le: 1 to %d bounds", index,
                                PROTO_BOUNDS_MAX);
    for (size_t bound = 1; bound < histogram->bound_count; bound++)
        if (histogram->bounds[bound] <= histogram->bounds[bound - 1])
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "body.histograms[%zu].le: not strictly ascending", index);
    for (size_t count = 0; count <= histogram->bound_count; count++)
        if (histogram->counts[count] < 0
            || (count > 0 && histogram->counts[count] < histogram->counts[count - 1]))
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "body.histograms[%zu].counts: negative or decreasing",
                                    index);
    if (histogram->sum < 0)
        return proto_error_set (error, PROTO_ERR_VALUE, "body.histograms[%zu].sum: negative",
                                index);
    return 0;
}

//  Read the integers of ARRAY (at most MAX) into VALUES; returns how many, or -1.
static int
s_read_integers (json_t *array, int64_t *values, size_t max)
{
    if (!json_is_array (array) || json_array_size (array) > max)
        return -1;
    size_t index;
    json_t *item;
    json_array_foreach (array, index, item) {
        if (!json_is_integer (item))
            return -1;
        values[index] = json_integer_value (item);
    }
    return (int) json_array_size (array);
}

static int
s_read_histogram (proto_histogram_t *histogram, json_t *item, size_t index,
                  proto_error_t *error)
{
    json_t *name = json_object_get (item, "name");
    json_t *labels = json_object_get (item, "labels");
    json_t *sum = json_object_get (item, "sum");
    if (!json_is_object (item) || !json_is_string (name) || !json_is_integer (sum)
        || (labels && !json_is_object (labels)))
        return proto_error_set (error, PROTO_ERR_TYPE,
                                "body.histograms[%zu]: expected an object with name (string), "
                                "sum (integer) and labels (object)", index);
    if (proto_copy (histogram->name, sizeof histogram->name, json_string_value (name)))
        return proto_error_set (error, PROTO_ERR_TOO_LONG, "body.histograms[%zu].name: longer "
                                "than %d bytes", index, PROTO_NAME_MAX);
    if (labels && json_object_size (labels) > PROTO_LABELS_MAX)
        return proto_error_set (error, PROTO_ERR_VALUE, "body.histograms[%zu].labels: more "
                                "than %d", index, PROTO_LABELS_MAX);
    const char *key;
    json_t *value;
    json_object_foreach (labels, key, value) {
        proto_label_t *label = &histogram->labels[histogram->label_count++];
        if (!json_is_string (value))
            return proto_error_set (error, PROTO_ERR_TYPE,
                                    "body.histograms[%zu].labels: expected strings", index);
        if (proto_copy (label->name, sizeof label->name, key)
            || proto_copy (label->value, sizeof label->value, json_string_value (value)))
            return proto_error_set (error, PROTO_ERR_TOO_LONG,
                                    "body.histograms[%zu].labels: longer than %d bytes", index,
                                    PROTO_NAME_MAX);
    }
    int bounds = s_read_integers (json_object_get (item, "le"), histogram->bounds,
                                  PROTO_BOUNDS_MAX);
    int counts = s_read_integers (json_object_get (item, "counts"), histogram->counts,
                                  PROTO_BOUNDS_MAX + 1);
    if (bounds < 0 || counts < 0)
        return proto_error_set (error, PROTO_ERR_TYPE, "body.histograms[%zu]: le and counts "
                                "must be arrays of at most %d integers", index,
                                PROTO_BOUNDS_MAX + 1);
    if (counts != bounds + 1)
        return proto_error_set (error, PROTO_ERR_VALUE, "body.histograms[%zu].counts: %d, not "
                                "one more than le (%d)", index, counts, bounds);
    histogram->bound_count = (size_t) bounds;
    histogram->sum = json_integer_value (sum);
    return s_check_histogram (histogram, index, error);
}

int
proto_alive_read_histograms (proto_svc_alive_t *body, json_t *value, proto_error_t *error)
{
    if (!json_is_array (value))
        return proto_error_set (error, PROTO_ERR_TYPE, "body.histograms: expected an array");
    if (json_array_size (value) > PROTO_HISTOGRAMS_MAX)
        return proto_error_set (error, PROTO_ERR_VALUE, "body.histograms: more than %d",
                                PROTO_HISTOGRAMS_MAX);
    size_t index;
    json_t *item;
    json_array_foreach (value, index, item) {
        if (s_read_histogram (&body->histograms[index], item, index, error))
            return -2;
        body->histogram_count = index + 1;
    }
    return 0;
}

int64_t
proto_alive_counter (const proto_svc_alive_t *body, const char *name, int64_t missing)
{
    assert (body);
    for (size_t index = 0; index < body->counter_count; index++)
        if (streq (body->counters[index].name, name))
            return body->counters[index].value;
    return missing;
}

json_t *
proto_alive_write_counters (const proto_svc_alive_t *body)
{
    json_t *object = json_object ();
    for (size_t index = 0; index < body->counter_count; index++)
        json_object_set_new (object, body->counters[index].name,
                             json_integer (body->counters[index].value));
    return object;
}

//  The histograms as the wire has them, or NULL with ERROR filled when one breaks the rules.
json_t *
proto_alive_write_histograms (const proto_svc_alive_t *body, proto_error_t *error)
{
    json_t *array = json_array ();
    for (size_t index = 0; index < body->histogram_count; index++) {
        const proto_histogram_t *histogram = &body->histograms[index];
        if (s_check_histogram (histogram, index, error)) {
            json_decref (array);
            return NULL;
        }
        json_t *labels = json_object ();
        for (size_t label = 0; label < histogram->label_count; label++)
            json_object_set_new (labels, histogram->labels[label].name,
                                 json_string (histogram->labels[label].value));
        json_t *bounds = json_array (), *counts = json_array ();
        for (size_t bound = 0; bound < histogram->bound_count; bound++)
            json_array_append_new (bounds, json_integer (histogram->bounds[bound]));
        for (size_t count = 0; count <= histogram->bound_count; count++)
            json_array_append_new (counts, json_integer (histogram->counts[count]));
        json_t *item = json_pack ("{s:s,s:o,s:o,s:I}", "name", histogram->name, "le", bounds,
                                  "counts", counts, "sum", (json_int_t) histogram->sum);
        if (histogram->label_count)
            json_object_set_new (item, "labels", labels);
        else
            json_decref (labels);
        json_array_append_new (array, item);
    }
    return array;
}

int
proto_msg_add_counter (proto_msg_t *self, const char *name, int64_t value)
{
    assert (self);
    assert (self->type == PROTO_MSG_SVC_ALIVE);
    proto_svc_alive_t *body = &self->svc_alive;
    if (body->counter_count == PROTO_COUNTERS_MAX)
        return -1;
    proto_counter_t *counter = &body->counters[body->counter_count];
    if (proto_copy (counter->name, sizeof counter->name, name))
        return -1;
    counter->value = value;
    body->counter_count++;
    return 0;
}

int
proto_msg_add_counters (proto_msg_t *self, const proto_counter_t *counters, size_t count)
{
    for (size_t index = 0; index < count; index++)
        if (proto_msg_add_counter (self, counters[index].name, counters[index].value))
            return -1;
    return 0;
}

int
proto_msg_add_histogram (proto_msg_t *self, const char *name, const char *label,
                         const char *value, const int64_t *bounds, size_t bound_count,
                         const int64_t *counts, int64_t sum)
{
    assert (self && name && bounds && counts);
    assert (self->type == PROTO_MSG_SVC_ALIVE);
    proto_svc_alive_t *body = &self->svc_alive;
    if (body->histogram_count == PROTO_HISTOGRAMS_MAX || bound_count > PROTO_BOUNDS_MAX)
        return -1;
    proto_histogram_t *histogram = &body->histograms[body->histogram_count];
    memset (histogram, 0, sizeof *histogram);
    if (proto_copy (histogram->name, sizeof histogram->name, name))
        return -1;
    if (label) {
        if (proto_copy (histogram->labels[0].name, sizeof histogram->labels[0].name, label)
            || proto_copy (histogram->labels[0].value, sizeof histogram->labels[0].value,
                           value ? value : ""))
            return -1;
        histogram->label_count = 1;
    }
    memcpy (histogram->bounds, bounds, bound_count * sizeof bounds[0]);
    memcpy (histogram->counts, counts, (bound_count + 1) * sizeof counts[0]);
    histogram->bound_count = bound_count;
    histogram->sum = sum;
    proto_error_t error;
    if (s_check_histogram (histogram, body->histogram_count, &error))
        return -1;
    body->histogram_count++;
    return 0;
}
