/*  vmctl_xml: libvirt domain XML, both ways.

    Out: the transient domain a service's template describes, for virDomainCreateXML. Every
    value from the service definition is escaped (a path or command line may hold any byte
    the schema allows, including quotes and '<') and reads back exactly. XML 1.0 cannot carry
    other C0 control characters at all: libvirt then refuses the domain, with its message.
    The shape is what QEMU's microvm and q35 machines need under TCG (see PLATFORM.md): direct
    kernel boot, a virtio interface on the template's bridge, no USB controller, no memory
    balloon, ACPI for shutdown; on microvm the interface sits on virtio-mmio since the machine
    has no PCI bus.

    The guest's tap device is named after the domain (<target dev='q-jitsu-www'/>), not left
    to libvirt: libvirt 9 draws unnamed taps and LXC veths from one process-wide vnetN counter
    that starts again at 0 whenever libvirtd does, and LXC starts failed now and then with
    "unable to create vnetX <-> vnetY veth pair: File exists". Named devices keep jitsu's
    guests out of that draw.

    In: the live domain XML libvirt returns, from which vmctl reads the guest interface's MAC
    and its host-side device (<target dev='vnet3'/>), which only exist once the domain runs.  */

#ifndef VMCTL_XML_H_INCLUDED
#define VMCTL_XML_H_INCLUDED

#include "proto.h"

#define VMCTL_XML_TAP_MAX 15  // a Linux interface name: IFNAMSIZ - 1 bytes

//  The tap device name for domain DOMAIN into TAP (VMCTL_XML_TAP_MAX + 1 bytes): "q-" and the
//  domain name when that fits and is made of [A-Za-z0-9_.-], else "q-" and 13 hex digits of a
//  hash of the name. Never starts with "vnet", which libvirt would drop as its own.
void vmctl_xml_tap_name (const char *domain, char *tap);

//  The domain XML for SERVICE's template, named NAME, of libvirt domain TYPE ("qemu", "kvm").
//  Returns a string the caller frees, or NULL when SERVICE has no template.
char *vmctl_xml_domain (const proto_service_t *service, const char *name, const char *type);

//  Read the interface whose MAC is WANTED (the first interface when WANTED is NULL or "") from
//  a live domain XML: its MAC into MAC (PROTO_MAC_MAX + 1 bytes) and its host-side device into
//  IFACE (PROTO_IFACE_MAX + 1 bytes; "" when libvirt gave none). Returns 0, or -1 when the XML
//  does not parse or has no such interface (MAC and IFACE are then "").
int vmctl_xml_interface (const char *xml, const char *wanted, char *mac, char *iface);

//  Append TEXT to OUT with the five XML special characters escaped, and tab, newline and
//  carriage return as character references (a parser would normalise them).
void vmctl_xml_escape (FILE *out, const char *text);

#endif
