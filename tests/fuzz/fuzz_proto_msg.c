/*  libFuzzer target: the bus message decoder must reject any frame cleanly, and whatever it
    accepts must encode again.  The first byte picks the topic frame, the rest is the JSON.  */

#include "proto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    proto_msg_type_t type = (proto_msg_type_t) (data[0] % PROTO_MSG_COUNT);
    const char *topic = type == PROTO_MSG_UNKNOWN ? "x.y" : proto_msg_topic (type);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_MSG_UNKNOWN);
    proto_error_t error;
    if (proto_msg_decode (&msg, topic, data + 1, size - 1, &error) == 0
        && msg.type != PROTO_MSG_UNKNOWN) {
        char *text = proto_msg_encode (&msg, &error);
        if (!text)
            __builtin_trap ();  // accepted input must re-encode
        free (text);
    }
    proto_msg_reset (&msg);
    return 0;
}
