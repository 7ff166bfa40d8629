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
    char *xml = vmctl_xml_domain (&s_service, "jitsu-www", "qemu");
    cr_assert (not (eq (ptr, xml, NULL)));
    return xml;
}

//  Generate with FIELD set to S_NASTY; XPATH must read it back intact and the text must hold
//  only its escaped form.
static void
s_assert_escaped (const char *xml, const char *xpath)
{
    cr_assert (not (eq (ptr, strstr (xml, S_NASTY_ESCAPED), NULL)), "escaped form in %s", xml);
    cr_assert (eq (ptr, strstr (xml, S_NASTY), NULL), "raw form in %s", xml);
    char *value = s_xpath (xml, xpath);
    cr_assert (not (eq (ptr, value, NULL)), "the XML must parse: %s", xml);
    cr_assert (eq (str, value, S_NASTY));
    free (value);
}

Test (vmctl_xml, no_template_no_xml)
{
    s_service.template = NULL;
    cr_assert (eq (ptr, vmctl_xml_domain (&s_service, "x", "qemu"), NULL));
}

Test (vmctl_xml, type_name_memory_and_vcpus)
{
    s_template.memory_mib = 256;
    s_template.vcpus = 2;
    char *xml = s_generate ();
    char *type = s_xpath (xml, "/domain/@type");
    char *name = s_xpath (xml, "/domain/name");
    char *memory = s_xpath (xml, "/domain/memory");
    char *unit = s_xpath (xml, "/domain/memory/@unit");
    char *vcpus = s_xpath (xml, "/domain/vcpu");
    cr_assert (eq (str, type, "qemu"));
    cr_assert (eq (str, name, "jitsu-www"));
    cr_assert (eq (str, memory, "256"));
    cr_assert (eq (str, unit, "MiB"));
    cr_assert (eq (str, vcpus, "2"));
    free (type), free (name), free (memory), free (unit), free (vcpus), free (xml);
}

Test (vmctl_xml, direct_kernel_boot)
{
    strcpy (s_template.initrd, "/var/lib/jitsu/initrd.img");
    strcpy (s_template.cmdline, "console=ttyS0 quiet");
    char *xml = s_generate ();
    char *kernel = s_xpath (xml, "/domain/os/kernel");
    char *initrd = s_xpath (xml, "/domain/os/initrd");
    char *cmdline = s_xpath (xml, "/domain/os/cmdline");
    char *type = s_xpath (xml, "/domain/os/type");
    cr_assert (eq (str, kernel, "/var/lib/jitsu/vmlinux"));
    cr_assert (eq (str, initrd, "/var/lib/jitsu/initrd.img"));
    cr_assert (eq (str, cmdline, "console=ttyS0 quiet"));
    cr_assert (eq (str, type, "hvm"));
    free (kernel), free (initrd), free (cmdline), free (type), free (xml);
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
    char *xml = s_generate ();
    char *machine = s_xpath (xml, "/domain/os/type/@machine");
    char *acpi = s_xpath (xml, "count(/domain/features/acpi)");
    char *usb = s_xpath (xml, "/domain/devices/controller[@type='usb']/@model");
    char *balloon = s_xpath (xml, "/domain/devices/memballoon/@model");
    char *address = s_xpath (xml, "/domain/devices/interface/address/@type");
    char *model = s_xpath (xml, "/domain/devices/interface/model/@type");
    cr_assert (eq (str, machine, "microvm"));
    cr_assert (eq (str, acpi, "1"));
    cr_assert (eq (str, usb, "none"));
    cr_assert (eq (str, balloon, "none"));
    cr_assert (eq (str, address, "virtio-mmio"));
    cr_assert (eq (str, model, "virtio"));
    free (machine), free (acpi), free (usb), free (balloon), free (address), free (model);
    free (xml);
}

Test (vmctl_xml, q35_interface_is_left_to_pci)
{
    strcpy (s_template.machine, "q35");
    char *xml = s_generate ();
    char *machine = s_xpath (xml, "/domain/os/type/@machine");
    char *addresses = s_xpath (xml, "count(/domain/devices/interface/address)");
    cr_assert (eq (str, machine, "q35"));
    cr_assert (eq (str, addresses, "0"));
    free (machine), free (addresses), free (xml);
}

Test (vmctl_xml, bridge_interface_with_the_services_mac)
{
    strcpy (s_service.mac, "52:54:00:12:34:56");
    char *xml = s_generate ();
    char *type = s_xpath (xml, "/domain/devices/interface/@type");
    char *bridge = s_xpath (xml, "/domain/devices/interface/source/@bridge");
    char *mac = s_xpath (xml, "/domain/devices/interface/mac/@address");
    cr_assert (eq (str, type, "bridge"));
    cr_assert (eq (str, bridge, "br0"));
    cr_assert (eq (str, mac, "52:54:00:12:34:56"));
    free (type), free (bridge), free (mac), free (xml);
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

//  One test per field that comes from outside: each is escaped.

Test (vmctl_xml, name_is_escaped)
{
    char *xml = vmctl_xml_domain (&s_service, S_NASTY, "qemu");
    s_assert_escaped (xml, "/domain/name");
    free (xml);
}

Test (vmctl_xml, type_is_escaped)
{
    char *xml = vmctl_xml_domain (&s_service, "jitsu-www", S_NASTY);
    s_assert_escaped (xml, "/domain/@type");
    free (xml);
}

Test (vmctl_xml, kernel_is_escaped)
{
    strcpy (s_template.kernel, S_NASTY);
    char *xml = s_generate ();
    s_assert_escaped (xml, "/domain/os/kernel");
    free (xml);
}

Test (vmctl_xml, initrd_is_escaped)
{
    strcpy (s_template.initrd, S_NASTY);
    char *xml = s_generate ();
    s_assert_escaped (xml, "/domain/os/initrd");
    free (xml);
}

Test (vmctl_xml, cmdline_is_escaped)
{
    strcpy (s_template.cmdline, S_NASTY);
    char *xml = s_generate ();
    s_assert_escaped (xml, "/domain/os/cmdline");
    free (xml);
}

Test (vmctl_xml, machine_is_escaped)
{
    strcpy (s_template.machine, S_NASTY);
    char *xml = s_generate ();
    s_assert_escaped (xml, "/domain/os/type/@machine");
    free (xml);
}

Test (vmctl_xml, bridge_is_escaped)
{
    strcpy (s_template.bridge, S_NASTY);
    char *xml = s_generate ();
    s_assert_escaped (xml, "/domain/devices/interface/source/@bridge");
    free (xml);
}

Test (vmctl_xml, mac_is_escaped)
{
    strcpy (s_service.mac, S_NASTY);
    char *xml = s_generate ();
    s_assert_escaped (xml, "/domain/devices/interface/mac/@address");
    free (xml);
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

Test (vmctl_xml, live_interface_by_mac)
{
    char mac[PROTO_MAC_MAX + 1], iface[PROTO_IFACE_MAX + 1];
    cr_assert (eq (int, vmctl_xml_interface (s_live, "52:54:00:00:00:02", mac, iface), 0));
    cr_assert (eq (str, mac, "52:54:00:00:00:02"));
    cr_assert (eq (str, iface, "vnet8"));
}

Test (vmctl_xml, live_interface_mac_match_ignores_case)
{
    char mac[PROTO_MAC_MAX + 1], iface[PROTO_IFACE_MAX + 1];
    cr_assert (eq (int, vmctl_xml_interface (s_live, "52:54:00:00:00:0A", mac, iface), -1));
    cr_assert (eq (int, vmctl_xml_interface (s_live, "52:54:00:00:00:01", mac, iface), 0));
    cr_assert (eq (str, iface, "vnet7"));
}

Test (vmctl_xml, live_first_interface_without_a_mac)
{
    char mac[PROTO_MAC_MAX + 1], iface[PROTO_IFACE_MAX + 1];
    cr_assert (eq (int, vmctl_xml_interface (s_live, "", mac, iface), 0));
    cr_assert (eq (str, mac, "52:54:00:00:00:01"));
    cr_assert (eq (str, iface, "vnet7"));
}

Test (vmctl_xml, live_interface_absent)
{
    char mac[PROTO_MAC_MAX + 1], iface[PROTO_IFACE_MAX + 1];
    const char *none = "<domain><name>x</name><devices/></domain>";
    cr_assert (eq (int, vmctl_xml_interface (none, NULL, mac, iface), -1));
    cr_assert (eq (str, mac, ""));
    cr_assert (eq (str, iface, ""));
}

Test (vmctl_xml, live_interface_without_target_has_no_iface)
{
    char mac[PROTO_MAC_MAX + 1], iface[PROTO_IFACE_MAX + 1];
    const char *inactive = "<domain><devices><interface type='bridge'>"
                           "<mac address='52:54:00:00:00:03'/></interface></devices></domain>";
    cr_assert (eq (int, vmctl_xml_interface (inactive, NULL, mac, iface), 0));
    cr_assert (eq (str, mac, "52:54:00:00:00:03"));
    cr_assert (eq (str, iface, ""));
}

Test (vmctl_xml, live_device_name_too_long_is_left_out)
{
    char mac[PROTO_MAC_MAX + 1], iface[PROTO_IFACE_MAX + 1];
    const char *longer = "<domain><devices><interface type='bridge'>"
                         "<mac address='52:54:00:00:00:04'/>"
                         "<target dev='a-very-long-interface-name'/></interface></devices>"
                         "</domain>";
    cr_assert (eq (int, vmctl_xml_interface (longer, NULL, mac, iface), 0));
    cr_assert (eq (str, iface, ""));
}

Test (vmctl_xml, malformed_live_xml_is_refused)
{
    char mac[PROTO_MAC_MAX + 1], iface[PROTO_IFACE_MAX + 1];
    cr_assert (eq (int, vmctl_xml_interface ("<domain><devices>", NULL, mac, iface), -1));
    cr_assert (eq (int, vmctl_xml_interface ("", NULL, mac, iface), -1));
    cr_assert (eq (int, vmctl_xml_interface ("<other/>", NULL, mac, iface), -1));
}
