/*  vmctl_xml: the template domain generator and the live interface reader.  */

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vmctl_xml.h"

void
vmctl_xml_escape (FILE *out, const char *text)
{
    //  The five markup characters, and the three a parser turns into spaces in attribute
    //  values (and CR into LF in text): as character references they survive exactly
    //  (XML 1.0 section 3.3.3).
    static const struct {
        char character;
        const char *reference;
    } escapes[] = {
        {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"},   {'\'', "&apos;"},
        {'"', "&quot;"}, {'\t', "&#9;"}, {'\n', "&#10;"}, {'\r', "&#13;"},
    };
    for (const char *cursor = text; *cursor; cursor++) {
        const char *reference = NULL;
        for (size_t index = 0; index < sizeof escapes / sizeof escapes[0] && !reference; index++)
            if (escapes[index].character == *cursor)
                reference = escapes[index].reference;
        if (reference)
            fputs (reference, out);
        else
            fputc (*cursor, out);
    }
}

//  FORMAT with every %s an escaped value: "<kernel>%s</kernel>". Only %s is understood.
static void
s_emit (FILE *out, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    for (const char *cursor = format; *cursor; cursor++) {
        if (cursor[0] == '%' && cursor[1] == 's') {
            vmctl_xml_escape (out, va_arg (args, const char *));
            cursor++;
        }
        else
            fputc (*cursor, out);
    }
    va_end (args);
}

void
vmctl_xml_tap_name (const char *domain, char *tap)
{
    assert (domain && tap);
    size_t length = strlen (domain);
    bool plain = length > 0 && length <= VMCTL_XML_TAP_MAX - 2;
    for (const char *cursor = domain; plain && *cursor; cursor++)
        plain = isalnum ((unsigned char) *cursor) || strchr ("_.-", *cursor);
    if (plain) {
        snprintf (tap, VMCTL_XML_TAP_MAX + 1, "q-%s", domain);
        return;
    }
    //  FNV-1a, 64 bits, of which 52 fit in 13 hex digits.
    uint64_t hash = UINT64_C (14695981039346656037);
    for (const char *cursor = domain; *cursor; cursor++) {
        hash ^= (unsigned char) *cursor;
        hash *= UINT64_C (1099511628211);
    }
    snprintf (tap, VMCTL_XML_TAP_MAX + 1, "q-%013llx",
              (unsigned long long) (hash & UINT64_C (0xFFFFFFFFFFFFF)));
}

char *
vmctl_xml_domain (const proto_service_t *service, const char *name, const char *type)
{
    assert (service);
    const proto_template_t *template = service->template;
    if (!template)
        return NULL;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    bool microvm = streq (template->machine, "microvm");
    s_emit (out, "<domain type='%s'>\n", type);
    s_emit (out, "  <name>%s</name>\n", name);
    fprintf (out, "  <memory unit='MiB'>%d</memory>\n", template->memory_mib);
    fprintf (out, "  <vcpu>%d</vcpu>\n", template->vcpus);
    fputs ("  <os>\n", out);
    s_emit (out, "    <type machine='%s'>hvm</type>\n", template->machine);
    s_emit (out, "    <kernel>%s</kernel>\n", template->kernel);
    if (template->initrd[0])
        s_emit (out, "    <initrd>%s</initrd>\n", template->initrd);
    if (template->cmdline[0])
        s_emit (out, "    <cmdline>%s</cmdline>\n", template->cmdline);
    fputs ("  </os>\n", out);
    //  ACPI lets shutdown mode ask the guest to power off; microvm needs it said explicitly.
    fputs ("  <features><acpi/></features>\n", out);
    fputs ("  <devices>\n", out);
    //  Without these two, libvirt adds a USB controller and a virtio balloon on PCI, which
    //  microvm does not have and which cost boot time on q35.
    fputs ("    <controller type='usb' model='none'/>\n", out);
    fputs ("    <memballoon model='none'/>\n", out);
    fputs ("    <interface type='bridge'>\n", out);
    s_emit (out, "      <source bridge='%s'/>\n", template->bridge);
    if (service->mac[0])
        s_emit (out, "      <mac address='%s'/>\n", service->mac);
    char tap[VMCTL_XML_TAP_MAX + 1];
    vmctl_xml_tap_name (name, tap);
    s_emit (out, "      <target dev='%s'/>\n", tap);
    fputs ("      <model type='virtio'/>\n", out);
    if (microvm)
        fputs ("      <address type='virtio-mmio'/>\n", out);
    fputs ("    </interface>\n", out);
    fputs ("  </devices>\n", out);
    fputs ("</domain>\n", out);
    if (fclose (out)) {
        free (text);
        return NULL;
    }
    return text;
}

//  The value of attribute NAME of the first child element CHILD of NODE, or NULL (owned).
static xmlChar *
s_child_attribute (xmlNodePtr node, const char *child, const char *name)
{
    for (xmlNodePtr cursor = node->children; cursor; cursor = cursor->next)
        if (cursor->type == XML_ELEMENT_NODE && xmlStrEqual (cursor->name, BAD_CAST child))
            return xmlGetProp (cursor, BAD_CAST name);
    return NULL;
}

//  The first child element of NODE called NAME, or NULL.
static xmlNodePtr
s_child (xmlNodePtr node, const char *name)
{
    for (xmlNodePtr cursor = node ? node->children : NULL; cursor; cursor = cursor->next)
        if (cursor->type == XML_ELEMENT_NODE && xmlStrEqual (cursor->name, BAD_CAST name))
            return cursor;
    return NULL;
}

int
vmctl_xml_interface (const char *xml, const char *wanted, char *mac, char *iface)
{
    assert (xml && mac && iface);
    mac[0] = iface[0] = '\0';
    xmlDocPtr doc = xmlReadMemory (xml, (int) strlen (xml), "domain.xml", NULL,
                                   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return -1;
    int rc = -1;
    xmlNodePtr root = xmlDocGetRootElement (doc);
    xmlNodePtr devices =
        root && xmlStrEqual (root->name, BAD_CAST "domain") ? s_child (root, "devices") : NULL;
    for (xmlNodePtr node = devices ? devices->children : NULL; node && rc; node = node->next) {
        if (node->type != XML_ELEMENT_NODE || !xmlStrEqual (node->name, BAD_CAST "interface"))
            continue;
        xmlChar *address = s_child_attribute (node, "mac", "address");
        if (!wanted || !*wanted || (address && strcasecmp ((char *) address, wanted) == 0)) {
            xmlChar *device = s_child_attribute (node, "target", "dev");
            //  Values too long for the wire are left out rather than cut.
            if (address && proto_copy (mac, PROTO_MAC_MAX + 1, (char *) address))
                mac[0] = '\0';
            if (device && proto_copy (iface, PROTO_IFACE_MAX + 1, (char *) device))
                iface[0] = '\0';
            xmlFree (device);
            rc = 0;
        }
        xmlFree (address);
    }
    xmlFreeDoc (doc);
    return rc;
}
