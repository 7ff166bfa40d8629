/*  libjitsu_proto: everything a jitsu process needs to speak on the bus.  */

#ifndef PROTO_H_INCLUDED
#define PROTO_H_INCLUDED

#include <czmq.h>
#include <jansson.h>

#include "proto_error.h"
#include "proto_msg.h"
#include "proto_alive.h"
#include "proto_config.h"
#include "proto_endpoints.h"
#include "proto_config_file.h"
#include "proto_pub.h"
#include "proto_sub.h"
#include "proto_main.h"
#include "proto_state_client.h"
#include "proto_replica.h"
#include "proto_service.h"
#include "proto_key.h"
#include "proto_addr.h"
#include "proto_cidr.h"
#include "proto_status.h"

#endif
