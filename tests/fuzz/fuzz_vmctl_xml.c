/*  libFuzzer target: vmctl's domain XML, both ways.

    The live-XML reader must survive any bytes. The generator must escape every value: for
    any template whose fields hold what XML 1.0 can carry (here: printable ASCII, tab,
    newline, carriage return), the generated domain must parse, and every field must read back
    exactly as it was given.  */

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl_xml.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  The string value of XPATH in DOC (owned).
static char *
s_xpath (xmlDocPtr doc, const char *xpath)
{
    xmlXPathContextPtr context = xmlXPathNewContext (doc);
    xmlXPathObjectPtr result = xmlXPathEvalExpression (BAD_CAST xpath, context);
    char *value = strdup (result && result->stringval ? (char *) result->stringval : "?");
    xmlXPathFreeObject (result);
    xmlXPathFreeContext (context);
    return value;
}

static void
s_expect (xmlDocPtr doc, const char *xpath, const char *expected)
{
    char *value = s_xpath (doc, xpath);
    if (strcmp (value, expected) != 0)
        __builtin_trap ();
    free (value);
}

//  Copy the next field (up to a 0 byte) of DATA into FIELD of SIZE, keeping only what XML can
//  carry. Returns the bytes consumed.
static size_t
s_field (const uint8_t *data, size_t size, char *field, size_t field_size)
{
    size_t used = 0, length = 0;
    while (used < size && data[used] != 0) {
        uint8_t c = data[used++];
        bool carried = c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f);
        if (carried && length + 1 < field_size)
            field[length++] = (char) c;
    }
    field[length] = '\0';
    return used < size ? used + 1 : used;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  The reader, on raw bytes.
    char *text = (char *) malloc (size + 1);
    memcpy (text, data, size);
    text[size] = '\0';
    char mac[PROTO_MAC_MAX + 1], iface[PROTO_IFACE_MAX + 1];
    vmctl_xml_interface (text, NULL, mac, iface);
    vmctl_xml_interface (text, "52:54:00:00:00:01", mac, iface);
    free (text);

    //  The generator, on fields cut from the same bytes.
    proto_service_t service;
    proto_service_init (&service);
    proto_template_t template;
    memset (&template, 0, sizeof template);
    char name[PROTO_DOMAIN_MAX + 1], type[16];
    size_t offset = 0;
    offset += s_field (data + offset, size - offset, name, sizeof name);
    offset += s_field (data + offset, size - offset, type, sizeof type);
    offset += s_field (data + offset, size - offset, template.kernel, sizeof template.kernel);
    offset += s_field (data + offset, size - offset, template.initrd, sizeof template.initrd);
    offset += s_field (data + offset, size - offset, template.cmdline, sizeof template.cmdline);
    offset += s_field (data + offset, size - offset, template.bridge, sizeof template.bridge);
    offset += s_field (data + offset, size - offset, template.machine, sizeof template.machine);
    offset += s_field (data + offset, size - offset, service.mac, sizeof service.mac);
    template.memory_mib = 128;
    template.vcpus = 1;
    service.template = &template;
    char *xml = vmctl_xml_domain (&service, name, type);
    if (!xml)
        __builtin_trap ();
    xmlDocPtr doc = xmlReadMemory (xml, (int) strlen (xml), "fuzz.xml", NULL,
                                   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        __builtin_trap ();  // something was not escaped
    s_expect (doc, "string(/domain/name)", name);
    s_expect (doc, "string(/domain/@type)", type);
    s_expect (doc, "string(/domain/os/kernel)", template.kernel);
    s_expect (doc, "string(/domain/os/initrd)", template.initrd);
    s_expect (doc, "string(/domain/os/cmdline)", template.cmdline);
    s_expect (doc, "string(/domain/devices/interface/source/@bridge)", template.bridge);
    s_expect (doc, "string(/domain/os/type/@machine)", template.machine);
    s_expect (doc, "string(/domain/devices/interface/mac/@address)", service.mac);
    xmlFreeDoc (doc);
    free (xml);
    return 0;
}
