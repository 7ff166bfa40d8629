/*  vmctl_xml: the template domain, field by field, escaping, and the live interface reader.  */

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "test_support.h"
#include "vmctl_xml.h"

//  Every character XML gives a meaning to.
#define S_NASTY "a<b>&c'd\"e"
#define S_NASTY_ESCAPED "a&lt;b&gt;&amp;c&apos;d&quot;e"

static proto_service_t s_service;
static proto_template_t s_template;
static char s_domain_name[32];
static char s_domain_type[32];

static void
s_setup (void)
{
    proto_service_init (&s_service);
    strcpy (s_service.name, "www");
    strcpy (s_service.ip, "10.0.0.10");
    memset (&s_template, 0, sizeof s_template);
    strcpy (s_template.kernel, "/var/lib/jitsu/vmlinux");
    strcpy (s_template.bridge, "br0");
    strcpy (s_template.machine, "microvm");
    s_template.memory_mib = 128;
    s_template.vcpus = 1;
    s_service.template = &s_template;
    strcpy (s_domain_name, "jitsu-www");
    strcpy (s_domain_type, "qemu");
}

TestSuite (vmctl_xml, .init = s_setup);

//  The string value of XPATH in the XML TEXT (owned), or NULL when the XML does not parse.
static char *
s_xpath (const char *text, const char *xpath)
{
    xmlDocPtr doc = xmlReadMemory (text, (int) strlen (text), "test.xml", NULL,
                                   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return NULL;
    xmlXPathContextPtr context = xmlXPathNewContext (doc);
    char *expression = zsys_sprintf ("string(%s)", xpath);
    xmlXPathObjectPtr result = xmlXPathEvalExpression (BAD_CAST expression, context);
    zstr_free (&expression);
    char *value = strdup (result && result->stringval ? (char *) result->stringval : "");
    xmlXPathFreeObject (result);
    xmlXPathFreeContext (context);
    xmlFreeDoc (doc);
    return value;
}

static char *
s_generate (void)
{
    char *xml = vmctl_xml_domain (&s_service, s_domain_name, s_domain_type);
    cr_assert (not (eq (ptr, xml, NULL)));
    return xml;
}

//  XML was generated with FIELD set to S_NASTY: XPATH must read it back intact and the text must
//  hold only its escaped form.
static void
s_assert_escaped (const char *xml, const char *field, const char *xpath)
{
    cr_assert (not (eq (ptr, strstr (xml, S_NASTY_ESCAPED), NULL)), "%s: escaped form in %s",
               field, xml);
    cr_assert (eq (ptr, strstr (xml, S_NASTY), NULL), "%s: raw form in %s", field, xml);
    char *value = s_xpath (xml, xpath);
    cr_assert (not (eq (ptr, value, NULL)), "%s: the XML must parse: %s", field, xml);
    cr_assert (eq (str, value, S_NASTY), "%s", field);
    free (value);
}

//  Each XPATH of READINGS reads back its EXPECTED value in the domain s_generate makes.
typedef struct {
    const char *xpath;
    const char *expected;
} s_reading_t;

static void
s_assert_reads (const s_reading_t *readings, size_t count)
{
    char *xml = s_generate ();
    for (size_t i = 0; i < count; i++) {
        char *value = s_xpath (xml, readings[i].xpath);
        cr_assert (not (eq (ptr, value, NULL)), "the XML must parse: %s", xml);
        cr_assert (eq (str, value, (char *) readings[i].expected), "%s", readings[i].xpath);
        free (value);
    }
    free (xml);
}
#define S_ASSERT_READS(...)                                                                        \
    s_assert_reads ((s_reading_t[]) {__VA_ARGS__},                                                 \
                    sizeof ((s_reading_t[]) {__VA_ARGS__}) / sizeof (s_reading_t))

Test (vmctl_xml, no_template_no_xml)
{
    s_service.template = NULL;
    cr_assert (eq (ptr, vmctl_xml_domain (&s_service, "x", "qemu"), NULL));
}

Test (vmctl_xml, type_name_memory_and_vcpus)
{
    s_template.memory_mib = 256;
    s_template.vcpus = 2;
    S_ASSERT_READS ({"/domain/@type", "qemu"},
                    {"/domain/name", "jitsu-www"},
                    {"/domain/memory", "256"},
                    {"/domain/memory/@unit", "MiB"},
                    {"/domain/vcpu", "2"});
}

Test (vmctl_xml, direct_kernel_boot)
{
    strcpy (s_template.initrd, "/var/lib/jitsu/initrd.img");
    strcpy (s_template.cmdline, "console=ttyS0 quiet");
    S_ASSERT_READS ({"/domain/os/kernel", "/var/lib/jitsu/vmlinux"},
                    {"/domain/os/initrd", "/var/lib/jitsu/initrd.img"},
                    {"/domain/os/cmdline", "console=ttyS0 quiet"},
                    {"/domain/os/type", "hvm"});
}

Test (vmctl_xml, no_initrd_and_no_cmdline_are_left_out)
{
    char *xml = s_generate ();
    cr_assert (eq (ptr, strstr (xml, "<initrd"), NULL));
    cr_assert (eq (ptr, strstr (xml, "<cmdline"), NULL));
    free (xml);
}

Test (vmctl_xml, microvm_has_acpi_no_usb_no_balloon_and_an_mmio_interface)
{
    S_ASSERT_READS ({"/domain/os/type/@machine", "microvm"},
                    {"count(/domain/features/acpi)", "1"},
                    {"/domain/devices/controller[@type='usb']/@model", "none"},
                    {"/domain/devices/memballoon/@model", "none"},
                    {"/domain/devices/interface/address/@type", "virtio-mmio"},
                    {"/domain/devices/interface/model/@type", "virtio"});
}

Test (vmctl_xml, q35_interface_is_left_to_pci)
{
    strcpy (s_template.machine, "q35");
    S_ASSERT_READS ({"/domain/os/type/@machine", "q35"},
                    {"count(/domain/devices/interface/address)", "0"});
}

Test (vmctl_xml, bridge_interface_with_the_services_mac)
{
    strcpy (s_service.mac, "52:54:00:12:34:56");
    S_ASSERT_READS ({"/domain/devices/interface/@type", "bridge"},
                    {"/domain/devices/interface/source/@bridge", "br0"},
                    {"/domain/devices/interface/mac/@address", "52:54:00:12:34:56"});
}

Test (vmctl_xml, the_tap_is_named_after_the_domain)
{
    char *xml = s_generate ();
    char *tap = s_xpath (xml, "/domain/devices/interface/target/@dev");
    cr_assert (eq (str, tap, "q-jitsu-www"), "out of libvirt's shared vnetN draw");
    free (tap), free (xml);
}

Test (vmctl_xml, a_long_or_odd_domain_name_gets_a_hashed_tap)
{
    char first[VMCTL_XML_TAP_MAX + 1], second[VMCTL_XML_TAP_MAX + 1], odd[VMCTL_XML_TAP_MAX + 1];
    vmctl_xml_tap_name ("jitsu-a-rather-long-service", first);
    vmctl_xml_tap_name ("jitsu-a-rather-long-servicf", second);
    vmctl_xml_tap_name ("a b", odd);
    cr_assert (eq (sz, strlen (first), (size_t) VMCTL_XML_TAP_MAX));
    cr_assert (eq (int, strncmp (first, "q-", 2), 0));
    cr_assert (not (eq (str, first, second)), "names one letter apart, taps apart");
    cr_assert (eq (int, strncmp (odd, "q-", 2), 0));
    cr_assert (eq (ptr, strchr (odd, ' '), NULL));
    char fits[VMCTL_XML_TAP_MAX + 1];
    vmctl_xml_tap_name ("thirteen-char", fits);
    cr_assert (eq (str, fits, "q-thirteen-char"));
}

Test (vmctl_xml, no_mac_lets_libvirt_choose)
{
    char *xml = s_generate ();
    cr_assert (eq (ptr, strstr (xml, "<mac"), NULL));
    free (xml);
}

//  Every field that comes from outside, where S_NASTY is put and where it must read back.
static const struct {
    const char *field;  //  names the case in a failure message
    char *buffer;       //  the field itself (a static buffer, refilled by s_setup)
    const char *xpath;
} s_escape_cases[] = {
    {"name", s_domain_name, "/domain/name"},
    {"type", s_domain_type, "/domain/@type"},
    {"kernel", s_template.kernel, "/domain/os/kernel"},
    {"initrd", s_template.initrd, "/domain/os/initrd"},
    {"cmdline", s_template.cmdline, "/domain/os/cmdline"},
    {"machine", s_template.machine, "/domain/os/type/@machine"},
    {"bridge", s_template.bridge, "/domain/devices/interface/source/@bridge"},
    {"mac", s_service.mac, "/domain/devices/interface/mac/@address"},
};

Test (vmctl_xml, every_field_from_outside_is_escaped)
{
    for (size_t i = 0; i < sizeof s_escape_cases / sizeof s_escape_cases[0]; i++) {
        s_setup ();
        strcpy (s_escape_cases[i].buffer, S_NASTY);
        char *xml = s_generate ();
        s_assert_escaped (xml, s_escape_cases[i].field, s_escape_cases[i].xpath);
        free (xml);
    }
}

Test (vmctl_xml, whitespace_reads_back_exactly)
{
    strcpy (s_template.bridge, "b\tr\n0");
    strcpy (s_template.cmdline, "a\r\nb\tc");
    char *xml = s_generate ();
    char *bridge = s_xpath (xml, "/domain/devices/interface/source/@bridge");
    char *cmdline = s_xpath (xml, "/domain/os/cmdline");
    cr_assert (eq (str, bridge, "b\tr\n0"), "attribute values are normalised by parsers");
    cr_assert (eq (str, cmdline, "a\r\nb\tc"), "CR is turned into LF in text");
    free (bridge), free (cmdline), free (xml);
}

//  libvirt's own schema accepts what we generate, on both machines.
static void
s_validate (const char *machine)
{
    if (test_shell ("command -v virt-xml-validate >/dev/null") != 0)
        cr_skip_test ("virt-xml-validate (libvirt-clients) is not installed");
    strcpy (s_template.machine, machine);
    strcpy (s_template.initrd, "/var/lib/jitsu/initrd.img");
    strcpy (s_template.cmdline, "console=ttyS0 quiet ip=10.0.0.10");
    strcpy (s_service.mac, "52:54:00:12:34:56");
    char *xml = s_generate ();
    const char *path = test_write_temp (xml);
    int rc = test_shell ("virt-xml-validate %s domain >/dev/null 2>&1", path);
    unlink (path);
    cr_assert (eq (int, rc, 0), "libvirt's domain schema refuses:\n%s", xml);
    free (xml);
}

Test (vmctl_xml, microvm_domain_passes_libvirts_schema)
{
    s_validate ("microvm");
}

Test (vmctl_xml, q35_domain_passes_libvirts_schema)
{
    s_validate ("q35");
}

//  Reading the live XML.

static const char *s_live =
    "<domain type='qemu' id='3'><name>jitsu-www</name><devices>"
    "<disk type='file'/>"
    "<interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/>"
    "<target dev='vnet7'/></interface>"
    "<interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='br1'/>"
    "<target dev='vnet8'/></interface>"
    "</devices></domain>";

//  One reading of live XML: what vmctl_xml_interface returns and fills in (NULL: not looked at).
static const struct {
    const char *behaviour;  //  the test this case was, named in a failure message
    const char *xml;
    const char *wanted_mac;
    int rc;
    const char *mac;
    const char *iface;
} s_live_cases[] = {
    {"live_interface_by_mac", NULL, "52:54:00:00:00:02", 0, "52:54:00:00:00:02", "vnet8"},
    {"live_interface_mac_match_ignores_case, 0A", NULL, "52:54:00:00:00:0A", -1, NULL, NULL},
    {"live_interface_mac_match_ignores_case, 01", NULL, "52:54:00:00:00:01", 0, NULL, "vnet7"},
    {"live_interface_mac_match_ignores_case, AB:CD:EF",
     "<domain><devices><interface type='bridge'><mac address='52:54:00:ab:cd:ef'/>"
     "<target dev='vnet9'/></interface></devices></domain>",
     "52:54:00:AB:CD:EF", 0, "52:54:00:ab:cd:ef", "vnet9"},
    {"live_first_interface_without_a_mac", NULL, "", 0, "52:54:00:00:00:01", "vnet7"},
    {"live_interface_absent", "<domain><name>x</name><devices/></domain>", NULL, -1, "", ""},
    {"live_interface_without_target_has_no_iface",
     "<domain><devices><interface type='bridge'>"
     "<mac address='52:54:00:00:00:03'/></interface></devices></domain>",
     NULL, 0, "52:54:00:00:00:03", ""},
    {"live_device_name_too_long_is_left_out",
     "<domain><devices><interface type='bridge'><mac address='52:54:00:00:00:04'/>"
     "<target dev='a-very-long-interface-name'/></interface></devices></domain>",
     NULL, 0, NULL, ""},
};

Test (vmctl_xml, live_interface_reader)
{
    for (size_t i = 0; i < sizeof s_live_cases / sizeof s_live_cases[0]; i++) {
        const char *behaviour = s_live_cases[i].behaviour;
        const char *xml = s_live_cases[i].xml ? s_live_cases[i].xml : s_live;
        char mac[PROTO_MAC_MAX + 1], iface[PROTO_IFACE_MAX + 1];
        int rc = vmctl_xml_interface (xml, s_live_cases[i].wanted_mac, mac, iface);
        cr_assert (eq (int, rc, s_live_cases[i].rc), "%s", behaviour);
        if (s_live_cases[i].mac)
            cr_assert (eq (str, mac, (char *) s_live_cases[i].mac), "%s", behaviour);
        if (s_live_cases[i].iface)
            cr_assert (eq (str, iface, (char *) s_live_cases[i].iface), "%s", behaviour);
    }
}

Test (vmctl_xml, malformed_live_xml_is_refused)
{
    char mac[PROTO_MAC_MAX + 1], iface[PROTO_IFACE_MAX + 1];
    cr_assert (eq (int, vmctl_xml_interface ("<domain><devices>", NULL, mac, iface), -1));
    cr_assert (eq (int, vmctl_xml_interface ("", NULL, mac, iface), -1));
    cr_assert (eq (int, vmctl_xml_interface ("<other/>", NULL, mac, iface), -1));
}
