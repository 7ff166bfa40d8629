/*  sj_pcap: frames read from a capture file or a live handle, kept for a test to inspect.  */

#ifndef SJ_PCAP_H_INCLUDED
#define SJ_PCAP_H_INCLUDED

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

//  One captured frame.
typedef struct {
    uint8_t *data;       // owned
    size_t size;
    int64_t usec;        // capture time, microseconds since the epoch
} sj_frame_t;

//  A list of captured frames.
typedef struct {
    sj_frame_t *frames;  // owned
    size_t count;
    size_t capacity;
} sj_frames_t;

//  Every frame of the capture file PATH. Returns NULL when it cannot be read.
sj_frames_t *sj_frames_read (const char *path);

//  An empty list.
sj_frames_t *sj_frames_new (void);

//  Append what PCAP (a live handle, non-blocking) has captured so far. Returns how many.
int sj_frames_drain (sj_frames_t *self, pcap_t *pcap);

//  Free the list and its frames. NULL-safe.
void sj_frames_destroy (sj_frames_t **self_p);

#endif
