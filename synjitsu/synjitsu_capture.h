/*  synjitsu_capture: the libpcap handle on the bridge.

    Immediate mode (a frame is delivered as soon as it arrives, not when a buffer fills),
    non-blocking, with a selectable fd for the zloop. Promiscuous mode is switched on only while
    something is booting: a booting guest's MAC is unknown to the bridge, so frames to it are
    flooded, and a bridge passes flooded unicast up to its own device only when promiscuous.
    Needs CAP_NET_RAW and nothing else.  */

#ifndef SYNJITSU_CAPTURE_H_INCLUDED
#define SYNJITSU_CAPTURE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define SYNJITSU_SNAPLEN 65535  // whole frames: a held SYN is replayed byte for byte

typedef struct _synjitsu_capture_t synjitsu_capture_t;

//  Called for each captured frame: DATA (SIZE bytes captured of WIRE_SIZE sent) is borrowed
//  and valid only during the call.
typedef void(synjitsu_capture_fn) (void *argument, const uint8_t *data, size_t size,
                                   size_t wire_size);

//  Open DEVICE (an Ethernet interface, normally the bridge). Returns NULL, logged with
//  libpcap's reason, when it cannot be opened.
synjitsu_capture_t *synjitsu_capture_new (const char *device);

//  Close the handle (dropping promiscuous mode with it). NULL-safe.
void synjitsu_capture_destroy (synjitsu_capture_t **self_p);

//  The device's own MAC (borrowed): frames from it were sent by the host's IP stack.
const uint8_t *synjitsu_capture_mac (synjitsu_capture_t *self);

//  The device's interface index.
int synjitsu_capture_ifindex (synjitsu_capture_t *self);

//  The fd to poll for frames.
int synjitsu_capture_fd (synjitsu_capture_t *self);

//  Compile and install the pcap-filter(7) expression TEXT. Returns 0, or -1 (logged).
int synjitsu_capture_set_filter (synjitsu_capture_t *self, const char *text);

//  Switch promiscuous mode on or off. Returns 0, or -1 (logged).
int synjitsu_capture_set_promisc (synjitsu_capture_t *self, bool on);

//  Hand at most MAX waiting frames to HANDLER without blocking. Returns how many, or -1
//  when the capture failed (the device went away).
int synjitsu_capture_dispatch (synjitsu_capture_t *self, int max, synjitsu_capture_fn *handler,
                               void *argument);

//  Send the frame DATA (SIZE bytes) on the device. Returns 0, or -1.
int synjitsu_capture_inject (synjitsu_capture_t *self, const uint8_t *data, size_t size);

//  Frames the kernel dropped because synjitsu was too slow to read them.
uint64_t synjitsu_capture_drops (synjitsu_capture_t *self);

#endif
