/*  proto_service: parsing, validating and encoding service definitions.  */

#include <arpa/inet.h>
#include <czmq.h>
#include <netinet/in.h>

#include "proto_config.h"
#include "proto_msg.h"
#include "proto_service.h"

static const char *const s_mask_names[] = {"none", "delay", "ready", "synjitsu", "auto", NULL};
static const char *const s_idle_names[] = {"dns+traffic", "dns", NULL};

//  Keys of the flat (original Jitsu) syntax that are integers, and those inside "template".
static const char *const s_integer_words[] = {"ttl",         "response_delay_ms",
                                              "ready_timeout_ms", "idle_timeout_s",
                                              "memory_mib",  "vcpus", "hold_max_ms",
                                              "boot_ttl",    "drain_ttl", NULL};
static const char *const s_template_words[] = {"kernel", "initrd", "cmdline", "memory_mib",
                                               "vcpus",  "bridge", "machine", NULL};
static const char *const s_plain_words[] = {"ip",   "ip6",     "mac",    "domain",
                                            "mask", "ready",   "stop_mode",
                                            "idle_on", NULL};

static int
s_index_of (const char *const *names, const char *name)
{
    for (int index = 0; names[index]; index++)
        if (streq (names[index], name))
            return index;
    return -1;
}

void
proto_service_init (proto_service_t *self)
{
    assert (self);
    memset (self, 0, sizeof *self);
    self->ttl = PROTO_SERVICE_TTL_DEFAULT;
    self->mask = PROTO_MASK_AUTO;
    self->ready = PROTO_READY_EVENT;
    self->ready_timeout_ms = PROTO_SERVICE_READY_TIMEOUT_DEFAULT;
    self->stop_mode = PROTO_MODE_DESTROY;
    self->idle_timeout_s = 2 * PROTO_SERVICE_TTL_DEFAULT;
    self->ladder[0] = (proto_idle_step_t) {self->idle_timeout_s, self->stop_mode};
    self->ladder_count = 1;
    self->idle_on = PROTO_IDLE_ON_DNS_TRAFFIC;
    self->hold_max_ms = -1;
    self->boot_ttl = PROTO_SERVICE_BOOT_TTL_DEFAULT;
    self->drain_ttl = PROTO_SERVICE_DRAIN_TTL_DEFAULT;
}

void
proto_service_reset (proto_service_t *self)
{
    assert (self);
    for (size_t index = 0; index < self->dns_count; index++)
        free (self->dns[index]);
    free (self->dns);
    free (self->template);
    free (self->wake);
    proto_service_init (self);
}

//  A DNS name of LDH labels (underscores allowed), 1-63 bytes each, 253 in all; lowercased,
//  trailing dot removed, into NAME.
static int
s_dns_name (const char *text, char *name, size_t size)
{
    size_t length = strlen (text);
    if (length > 0 && text[length - 1] == '.')
        length--;
    if (length == 0 || length > PROTO_DNAME_MAX || length >= size)
        return -1;
    size_t label = 0;
    for (size_t index = 0; index < length; index++) {
        char c = text[index];
        if (c == '.') {
            if (label == 0)
                return -1;
            label = 0;
        }
        else if (isalnum ((unsigned char) c) || c == '-' || c == '_') {
            if (++label > 63)
                return -1;
        }
        else
            return -1;
        name[index] = (char) tolower ((unsigned char) c);
    }
    name[length] = '\0';
    return label == 0 ? -1 : 0;
}

static bool
s_is_name (const char *text)
{
    if (!isalnum ((unsigned char) text[0]))
        return false;
    for (const char *cursor = text; *cursor; cursor++)
        if (!isalnum ((unsigned char) *cursor) && *cursor != '-' && *cursor != '_')
            return false;
    return true;
}

//  An enum field NAME given as a string, one of NAMES; absent keeps *VALUE.
static int
s_choice (json_t *config, const char *name, const char *const *names, int *value,
          const char *where, proto_error_t *error)
{
    json_t *field = json_object_get (config, name);
    if (!field)
        return 0;
    int index = json_is_string (field) ? s_index_of (names, json_string_value (field)) : -1;
    if (index < 0) {
        char allowed[128] = "";
        for (int choice = 0; names[choice]; choice++)
            snprintf (allowed + strlen (allowed), sizeof allowed - strlen (allowed), "%s%s",
                      choice ? ", " : "", names[choice]);
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: %s: expected one of %s", where,
                                name, allowed);
    }
    *value = index;
    return 0;
}

static int
s_parse_template (proto_service_t *self, json_t *object, const char *where, proto_error_t *error)
{
    proto_template_t *template = (proto_template_t *) zmalloc (sizeof (proto_template_t));
    self->template = template;
    strcpy (template->machine, "microvm");
    template->memory_mib = 128;
    template->vcpus = 1;
    char context[PROTO_NAME_MAX + 16];
    snprintf (context, sizeof context, "%s: template", where);
    const proto_config_field_t fields[] = {
        {"kernel", PROTO_CONFIG_STR, template->kernel, sizeof template->kernel, 1, 0},
        {"initrd", PROTO_CONFIG_STR, template->initrd, sizeof template->initrd, 0, 0},
        {"cmdline", PROTO_CONFIG_STR, template->cmdline, sizeof template->cmdline, 0, 0},
        {"bridge", PROTO_CONFIG_STR, template->bridge, sizeof template->bridge, 1, 0},
        {"machine", PROTO_CONFIG_STR, template->machine, sizeof template->machine, 1, 0},
        {"memory_mib", PROTO_CONFIG_INT, &template->memory_mib, 0, 16, 65536},
        {"vcpus", PROTO_CONFIG_INT, &template->vcpus, 0, 1, 64},
        PROTO_CONFIG_END,
    };
    if (proto_config_read (object, fields, context, error))
        return -2;
    if (template->kernel[0] != '/')
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: kernel: an absolute path is required",
                                context);
    if (template->initrd[0] && template->initrd[0] != '/')
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: initrd: must be an absolute path",
                                context);
    if (!template->bridge[0] || !s_is_name (template->bridge))
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: bridge: an interface name is "
                                "required", context);
    return 0;
}

static int
s_parse_lists (proto_service_t *self, json_t *dns, json_t *wake, const char *where,
               proto_error_t *error)
{
    if (!json_is_array (dns) || json_array_size (dns) == 0
        || json_array_size (dns) > PROTO_SERVICE_DNS_MAX)
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: dns: a list of 1 to %d names", where,
                                PROTO_SERVICE_DNS_MAX);
    self->dns = (char **) zmalloc (json_array_size (dns) * sizeof (char *));
    size_t index;
    json_t *item;
    json_array_foreach (dns, index, item) {
        char name[PROTO_DNAME_MAX + 1];
        if (!json_is_string (item) || s_dns_name (json_string_value (item), name, sizeof name))
            return proto_error_set (error, PROTO_ERR_VALUE, "%s: dns[%zu]: not a DNS name", where,
                                    index);
        self->dns[self->dns_count++] = strdup (name);
    }
    if (!wake)
        return 0;
    if (!json_is_array (wake) || json_array_size (wake) > PROTO_SERVICE_WAKE_MAX)
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: wake: a list of at most %d CIDRs",
                                where, PROTO_SERVICE_WAKE_MAX);
    self->wake = (proto_cidr_t *) zmalloc ((json_array_size (wake) + 1) * sizeof (proto_cidr_t));
    json_array_foreach (wake, index, item) {
        if (!json_is_string (item)
            || proto_cidr_parse (&self->wake[index], json_string_value (item)))
            return proto_error_set (error, PROTO_ERR_VALUE, "%s: wake[%zu]: not a CIDR", where,
                                    index);
        self->wake_count++;
    }
    return 0;
}

//  Everything about addresses, readiness and the domain/template choice.
static int
s_check (proto_service_t *self, const char *ready, const char *where, proto_error_t *error)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (!s_is_name (self->name))
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "%s: name: letters, digits, - and _, starting alphanumeric",
                                where);
    if (inet_pton (AF_INET, self->ip, &v4) != 1)
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: ip: \"%s\" is not an IPv4 address",
                                where, self->ip);
    if (self->ip6[0] && inet_pton (AF_INET6, self->ip6, &v6) != 1)
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: ip6: \"%s\" is not an IPv6 address",
                                where, self->ip6);
    if (self->mac[0]) {
        if (!proto_is_mac (self->mac) || (strtol (self->mac, NULL, 16) & 1))
            return proto_error_set (error, PROTO_ERR_VALUE, "%s: mac: \"%s\" is not a unicast MAC",
                                    where, self->mac);
        for (char *cursor = self->mac; *cursor; cursor++)
            *cursor = (char) tolower ((unsigned char) *cursor);
    }
    if (!self->domain[0] == !self->template)
        return proto_error_set (error, PROTO_ERR_VALUE, "%s: give exactly one of domain and "
                                "template", where);
    if (ready) {
        if (streq (ready, "event"))
            self->ready = PROTO_READY_EVENT;
        else if (streq (ready, "garp"))
            self->ready = PROTO_READY_GARP;
        else {
            char *end = NULL;
            long port = strncmp (ready, "probe:", 6) ? 0 : strtol (ready + 6, &end, 10);
            if (port < 1 || port > 65535 || *end)
                return proto_error_set (error, PROTO_ERR_VALUE,
                                        "%s: ready: expected event, garp or probe:PORT", where);
            self->ready = PROTO_READY_PROBE;
            self->ready_port = (int) port;
        }
    }
    return 0;
}

//  Read the idle ladder LADDER (an array of {"after_s", "mode"}) into SELF.
static int
s_parse_ladder (proto_service_t *self, json_t *ladder, const char *where, proto_error_t *error)
{
    if (!json_is_array (ladder) || json_array_size (ladder) == 0
        || json_array_size (ladder) > PROTO_SERVICE_LADDER_MAX)
        return proto_error_set (error, PROTO_ERR_VALUE,
                                "%s: idle_ladder: expected 1 to %d steps", where,
                                PROTO_SERVICE_LADDER_MAX);
    size_t index;
    json_t *step;
    json_array_foreach (ladder, index, step) {
        json_t *after = json_object_get (step, "after_s");
        json_t *mode = json_object_get (step, "mode");
        proto_idle_step_t *rung = &self->ladder[index];
        if (!json_is_object (step) || json_object_size (step) != 2 || !json_is_integer (after)
            || json_integer_value (after) < 1 || json_integer_value (after) > 604800
            || !json_is_string (mode) || proto_mode_parse (json_string_value (mode), &rung->mode)
            || rung->mode == PROTO_MODE_NONE)
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "%s: idle_ladder[%zu]: expected {\"after_s\": 1-604800, "
                                    "\"mode\": destroy, shutdown, suspend or save}",
                                    where, index);
        rung->after_s = (int) json_integer_value (after);
        if (index > 0 && rung->after_s <= self->ladder[index - 1].after_s)
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "%s: idle_ladder[%zu].after_s: must be later than the step "
                                    "before", where, index);
    }
    self->ladder_count = json_array_size (ladder);
    return 0;
}

//  The rules between fields: every idle step at least a TTL after the last use (a client may
//  hold the answer that long), the short TTLs at most the TTL.
static int
s_check_times (proto_service_t *self, bool ladder, const char *where, proto_error_t *error)
{
    for (size_t index = 0; index < self->ladder_count; index++)
        if (self->ladder[index].after_s < self->ttl)
            return proto_error_set (error, PROTO_ERR_VALUE,
                                    "%s: %s: %d s is shorter than the ttl (%d s)", where,
                                    ladder ? "idle_ladder" : "idle_timeout_s",
                                    self->ladder[index].after_s, self->ttl);
    if (self->boot_ttl > self->ttl)
        self->boot_ttl = self->ttl;
    if (self->drain_ttl > self->ttl)
        self->drain_ttl = self->ttl;
    return 0;
}

int
proto_service_parse (proto_service_t *self, json_t *config, const char *where,
                     proto_error_t *error)
{
    assert (self);
    proto_service_reset (self);
    json_t *dns = NULL, *wake = NULL, *template = NULL, *mask = NULL, *stop_mode = NULL,
           *idle_on = NULL, *ladder = NULL;
    char ready[16] = "";
    int idle_timeout_s = 0;
    const proto_config_field_t fields[] = {
        {"name", PROTO_CONFIG_STR, self->name, sizeof self->name, 1, 0},
        {"dns", PROTO_CONFIG_JSON, &dns, 0, 0, 0},
        {"ip", PROTO_CONFIG_STR, self->ip, sizeof self->ip, 1, 0},
        {"ip6", PROTO_CONFIG_STR, self->ip6, sizeof self->ip6, 0, 0},
        {"mac", PROTO_CONFIG_STR, self->mac, sizeof self->mac, 0, 0},
        {"domain", PROTO_CONFIG_STR, self->domain, sizeof self->domain, 1, 0},
        {"template", PROTO_CONFIG_JSON, &template, 0, 0, 0},
        {"ttl", PROTO_CONFIG_INT, &self->ttl, 0, 1, 86400},
        {"mask", PROTO_CONFIG_JSON, &mask, 0, 0, 0},
        {"response_delay_ms", PROTO_CONFIG_INT, &self->response_delay_ms, 0, 0, 60000},
        {"ready", PROTO_CONFIG_STR, ready, sizeof ready, 1, 0},
        {"ready_timeout_ms", PROTO_CONFIG_INT, &self->ready_timeout_ms, 0, 100, 600000},
        {"stop_mode", PROTO_CONFIG_JSON, &stop_mode, 0, 0, 0},
        {"idle_timeout_s", PROTO_CONFIG_INT, &idle_timeout_s, 0, 1, 604800},
        {"idle_ladder", PROTO_CONFIG_JSON, &ladder, 0, 0, 0},
        {"idle_on", PROTO_CONFIG_JSON, &idle_on, 0, 0, 0},
        {"hold_max_ms", PROTO_CONFIG_INT, &self->hold_max_ms, 0, 0, 60000},
        {"boot_ttl", PROTO_CONFIG_INT, &self->boot_ttl, 0, 1, 86400},
        {"drain_ttl", PROTO_CONFIG_INT, &self->drain_ttl, 0, 1, 86400},
        {"wake", PROTO_CONFIG_JSON, &wake, 0, 0, 0},
        PROTO_CONFIG_END,
    };
    int mask_value = PROTO_MASK_AUTO, idle_value = PROTO_IDLE_ON_DNS_TRAFFIC;
    int rc = proto_config_read (config, fields, where, error);
    if (rc == 0 && !self->name[0])
        rc = proto_error_set (error, PROTO_ERR_MISSING, "%s: name: missing", where);
    if (rc == 0 && !self->ip[0])
        rc = proto_error_set (error, PROTO_ERR_MISSING, "%s: ip: missing", where);
    if (rc == 0)
        rc = s_parse_lists (self, dns, wake, where, error);
    if (rc == 0 && template)
        rc = s_parse_template (self, template, where, error);
    if (rc == 0)
        rc = s_choice (config, "mask", s_mask_names, &mask_value, where, error);
    if (rc == 0)
        rc = s_choice (config, "idle_on", s_idle_names, &idle_value, where, error);
    if (rc == 0 && stop_mode
        && (!json_is_string (stop_mode)
            || proto_mode_parse (json_string_value (stop_mode), &self->stop_mode)
            || self->stop_mode == PROTO_MODE_NONE))
        rc = proto_error_set (error, PROTO_ERR_VALUE,
                              "%s: stop_mode: expected destroy, shutdown, suspend or save", where);
    if (rc == 0)
        rc = s_check (self, ready[0] ? ready : NULL, where, error);
    if (rc == 0 && ladder && (stop_mode || idle_timeout_s))
        rc = proto_error_set (error, PROTO_ERR_VALUE,
                              "%s: idle_ladder: not together with idle_timeout_s or stop_mode "
                              "(the ladder's steps say both)", where);
    if (rc == 0 && ladder)
        rc = s_parse_ladder (self, ladder, where, error);
    if (rc == 0 && !ladder) {
        self->ladder[0].after_s = idle_timeout_s ? idle_timeout_s : 2 * self->ttl;
        self->ladder[0].mode = self->stop_mode;
        self->ladder_count = 1;
    }
    if (rc == 0)
        rc = s_check_times (self, ladder != NULL, where, error);
    if (rc) {
        proto_service_reset (self);
        return -2;
    }
    self->mask = (proto_mask_t) mask_value;
    self->idle_on = (proto_idle_on_t) idle_value;
    self->idle_timeout_s = self->ladder[0].after_s;
    self->stop_mode = self->ladder[0].mode;
    return 0;
}

json_t *
proto_service_encode (const proto_service_t *self)
{
    assert (self);
    json_t *config = json_pack ("{s:s, s:[], s:s}", "name", self->name, "dns", "ip", self->ip);
    json_t *dns = json_object_get (config, "dns");
    for (size_t index = 0; index < self->dns_count; index++)
        json_array_append_new (dns, json_string (self->dns[index]));
    if (self->ip6[0])
        json_object_set_new (config, "ip6", json_string (self->ip6));
    if (self->mac[0])
        json_object_set_new (config, "mac", json_string (self->mac));
    if (self->domain[0])
        json_object_set_new (config, "domain", json_string (self->domain));
    if (self->template) {
        const proto_template_t *template = self->template;
        json_t *object = json_pack ("{s:s, s:s, s:s, s:s, s:i, s:i}", "kernel", template->kernel,
                                    "cmdline", template->cmdline, "bridge", template->bridge,
                                    "machine", template->machine, "memory_mib",
                                    template->memory_mib, "vcpus", template->vcpus);
        if (template->initrd[0])
            json_object_set_new (object, "initrd", json_string (template->initrd));
        json_object_set_new (config, "template", object);
    }
    char ready[16];
    if (self->ready == PROTO_READY_PROBE)
        snprintf (ready, sizeof ready, "probe:%d", self->ready_port);
    else
        snprintf (ready, sizeof ready, "%s", self->ready == PROTO_READY_GARP ? "garp" : "event");
    json_t *rest = json_pack ("{s:i, s:s, s:i, s:s, s:i, s:s, s:i, s:s}", "ttl", self->ttl, "mask",
                              s_mask_names[self->mask], "response_delay_ms",
                              self->response_delay_ms, "ready", ready, "ready_timeout_ms",
                              self->ready_timeout_ms, "stop_mode",
                              proto_mode_name (self->stop_mode), "idle_timeout_s",
                              self->idle_timeout_s, "idle_on", s_idle_names[self->idle_on]);
    json_object_update (config, rest);
    json_decref (rest);
    json_object_set_new (config, "boot_ttl", json_integer (self->boot_ttl));
    json_object_set_new (config, "drain_ttl", json_integer (self->drain_ttl));
    if (self->hold_max_ms >= 0)
        json_object_set_new (config, "hold_max_ms", json_integer (self->hold_max_ms));
    if (self->ladder_count > 1) {
        //  A ladder says what idle_timeout_s and stop_mode would: one or the other.
        json_object_del (config, "idle_timeout_s");
        json_object_del (config, "stop_mode");
        json_t *ladder = json_array ();
        for (size_t index = 0; index < self->ladder_count; index++)
            json_array_append_new (ladder,
                                   json_pack ("{s:i, s:s}", "after_s", self->ladder[index].after_s,
                                              "mode", proto_mode_name (self->ladder[index].mode)));
        json_object_set_new (config, "idle_ladder", ladder);
    }
    if (self->wake_count) {
        json_t *wake = json_array ();
        char text[PROTO_CIDR_TEXT_MAX];
        for (size_t index = 0; index < self->wake_count; index++)
            json_array_append_new (
                wake, json_string (proto_cidr_format (&self->wake[index], text, sizeof text)));
        json_object_set_new (config, "wake", wake);
    }
    return config;
}

//  The flat syntax's idle ladder, "60:suspend/600:save/3600:destroy", as the JSON array; NULL
//  with ERROR when a step is not AFTER_S:MODE (the values are checked by the parser).
static json_t *
s_ladder_words (const char *text, proto_error_t *error)
{
    json_t *ladder = json_array ();
    char *copy = strdup (text), *save = NULL;
    for (char *step = strtok_r (copy, "/", &save); step; step = strtok_r (NULL, "/", &save)) {
        char mode[16], extra;
        long long after_s;
        if (sscanf (step, "%lld:%15[a-z]%c", &after_s, mode, &extra) != 2) {
            proto_error_set (error, PROTO_ERR_VALUE,
                             "idle_ladder: \"%.32s\" is not AFTER_S:MODE (60:suspend)", step);
            json_decref (ladder);
            ladder = NULL;
            break;
        }
        json_array_append_new (ladder, json_pack ("{s:I, s:s}", "after_s", (json_int_t) after_s,
                                                  "mode", mode));
    }
    free (copy);
    return ladder;
}

//  Set KEY=VALUE of the flat syntax on CONFIG. Returns 0, or -2 with ERROR.
static int
s_set_word (json_t *config, const char *key, const char *value, proto_error_t *error)
{
    json_t *target = config;
    if (s_index_of (s_template_words, key) >= 0) {
        target = json_object_get (config, "template");
        if (!target) {
            target = json_object ();
            json_object_set_new (config, "template", target);
        }
    }
    else if (streq (key, "dns") || streq (key, "wake")) {
        json_t *list = json_object_get (config, key);
        if (!list) {
            list = json_array ();
            json_object_set_new (config, key, list);
        }
        json_array_append_new (list, json_string (value));
        return 0;
    }
    else if (streq (key, "idle_ladder")) {
        if (json_object_get (config, key))
            return proto_error_set (error, PROTO_ERR_VALUE, "%s given twice", key);
        json_t *ladder = s_ladder_words (value, error);
        if (!ladder)
            return -2;
        json_object_set_new (config, key, ladder);
        return 0;
    }
    else if (s_index_of (s_plain_words, key) < 0 && s_index_of (s_integer_words, key) < 0)
        return proto_error_set (error, PROTO_ERR_VALUE, "unknown key \"%.32s\"", key);
    if (json_object_get (target, key))
        return proto_error_set (error, PROTO_ERR_VALUE, "%s given twice", key);
    if (s_index_of (s_integer_words, key) >= 0) {
        char *end;
        long long number = strtoll (value, &end, 10);
        if (!*value || *end)
            return proto_error_set (error, PROTO_ERR_TYPE, "%s: expected an integer", key);
        json_object_set_new (target, key, json_integer (number));
    }
    else
        json_object_set_new (target, key, json_string (value));
    return 0;
}

json_t *
proto_service_from_words (const char *name, int argc, char **argv, proto_error_t *error)
{
    json_t *config = json_pack ("{s:s}", "name", name);
    for (int word = 0; word < argc; word++) {
        //  Split on commas that are not escaped; "\," stands for a comma.
        const char *cursor = argv[word];
        while (*cursor) {
            char item[PROTO_TEXT_MAX + 64];
            size_t used = 0;
            while (*cursor && *cursor != ',' && used < sizeof item - 1) {
                if (cursor[0] == '\\' && cursor[1] == ',')
                    cursor++;
                item[used++] = *cursor++;
            }
            item[used] = '\0';
            if (*cursor == ',')
                cursor++;
            if (used == 0)
                continue;
            char *equals = strchr (item, '=');
            if (!equals) {
                proto_error_set (error, PROTO_ERR_VALUE, "\"%.64s\": expected key=value", item);
                json_decref (config);
                return NULL;
            }
            *equals = '\0';
            if (s_set_word (config, item, equals + 1, error)) {
                json_decref (config);
                return NULL;
            }
        }
    }
    return config;
}

bool
proto_service_may_wake (const proto_service_t *self, const struct sockaddr *address)
{
    assert (self);
    return self->wake_count == 0 || proto_cidr_list_match (self->wake, self->wake_count, address);
}

const char *
proto_mask_name (proto_mask_t mask)
{
    return mask >= PROTO_MASK_NONE && mask <= PROTO_MASK_AUTO ? s_mask_names[mask] : "?";
}
