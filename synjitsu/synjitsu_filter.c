/*  synjitsu_filter: writing the pcap-filter(7) expression.  */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "synjitsu_filter.h"

//  A text being appended to; FAILED once something did not fit.
typedef struct {
    char *text;
    size_t size;
    size_t used;
    bool failed;
} s_text_t;

static void __attribute__ ((format (printf, 2, 3)))
s_append (s_text_t *self, const char *format, ...)
{
    if (self->failed)
        return;
    va_list arguments;
    va_start (arguments, format);
    int written = vsnprintf (self->text + self->used, self->size - self->used, format, arguments);
    va_end (arguments);
    if (written < 0 || (size_t) written >= self->size - self->used)
        self->failed = true;
    else
        self->used += (size_t) written;
}

//  "QUALIFIER host A or QUALIFIER host B ..." for every address.
static void
s_hosts (s_text_t *self, const char *qualifier, const struct in_addr *ips, size_t count)
{
    for (size_t index = 0; index < count; index++) {
        char address[INET_ADDRSTRLEN];
        inet_ntop (AF_INET, &ips[index], address, sizeof address);
        s_append (self, "%s%s host %s", index ? " or " : "", qualifier, address);
    }
}

//  The untagged expression; the caller repeats it after "vlan", which moves the offsets of
//  everything that follows by one tag.
static void
s_expression (s_text_t *self, const struct in_addr *ips, size_t count)
{
    if (count > SYNJITSU_FILTER_HOSTS_MAX) {
        s_append (self, "arp or ip");
        return;
    }
    s_append (self, "(");
    s_hosts (self, "arp", ips, count);
    s_append (self, ") or (");
    s_hosts (self, "ip src", ips, count);
    //  tcp[13] is the flags byte; tcp[] already skips IPv4 options and fragments
    //  other than the first; the parser refuses to hold a first fragment.
    s_append (self, ") or (tcp[13] & 0x12 == 0x02 and (");
    s_hosts (self, "ip dst", ips, count);
    s_append (self, "))");
}

int
synjitsu_filter_build (const struct in_addr *ips, size_t count, char *text, size_t size)
{
    s_text_t buffer = {text, size, 0, size == 0};
    if (count == 0)
        //  Nothing is booting: a frame is never one byte long, so nothing matches.
        s_append (&buffer, "less 1");
    else {
        s_append (&buffer, "(");
        s_expression (&buffer, ips, count);
        s_append (&buffer, ") or (vlan and (");
        s_expression (&buffer, ips, count);
        s_append (&buffer, "))");
    }
    return buffer.failed ? -1 : 0;
}
