/*  sj_pcap: keeping captured frames for tests.  */

#include <stdlib.h>
#include <string.h>

#include "sj_pcap.h"

sj_frames_t *
sj_frames_new (void)
{
    return (sj_frames_t *) calloc (1, sizeof (sj_frames_t));
}

static void
s_add (u_char *argument, const struct pcap_pkthdr *header, const u_char *bytes)
{
    sj_frames_t *self = (sj_frames_t *) argument;
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 16;
        self->frames = (sj_frame_t *) realloc (self->frames, self->capacity * sizeof (sj_frame_t));
    }
    sj_frame_t *frame = &self->frames[self->count++];
    frame->data = (uint8_t *) malloc (header->caplen ? header->caplen : 1);
    memcpy (frame->data, bytes, header->caplen);
    frame->size = header->caplen;
    frame->usec = (int64_t) header->ts.tv_sec * 1000000 + header->ts.tv_usec;
}

sj_frames_t *
sj_frames_read (const char *path)
{
    char error[PCAP_ERRBUF_SIZE];
    pcap_t *pcap = pcap_open_offline (path, error);
    if (!pcap)
        return NULL;
    sj_frames_t *self = sj_frames_new ();
    pcap_loop (pcap, -1, s_add, (u_char *) self);
    pcap_close (pcap);
    return self;
}

int
sj_frames_drain (sj_frames_t *self, pcap_t *pcap)
{
    int total = 0, count;
    while ((count = pcap_dispatch (pcap, 64, s_add, (u_char *) self)) > 0)
        total += count;
    return total;
}

void
sj_frames_destroy (sj_frames_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sj_frames_t *self = *self_p;
    for (size_t index = 0; index < self->count; index++)
        free (self->frames[index].data);
    free (self->frames);
    free (self);
    *self_p = NULL;
}
