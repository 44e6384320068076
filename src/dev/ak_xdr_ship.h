/*
 * ak_xdr_ship: ships change notifications to connectors the way Aerospike
 * XDR does, for aerospike-dev (real records) and xdr-load (synthetic ones).
 *
 * Transports: TCP with the Aerospike wire protocol (XDR 5+: one AS_MSG per
 * record, one reply message with a result code per record, replies in
 * request order per connection), or legacy HTTP (POST, body = version byte 1
 * + the AS_MSG frame; HTTP 200 = acknowledged) over HTTP/1.1 keep-alive or
 * HTTP/2 with prior knowledge.
 *
 * The shipper pulls notifications from a source when it has room (at most
 * in_flight_per_connection per connection), round-robins them over the
 * destinations, and reports each outcome: done, retry (a retry-class code,
 * no answer within timeout_ms, or a dropped connection) or abandon (an
 * abandon-class code). Re-sending is the source's job: on retry it queues
 * the record again, so a retry ships the record as it is then, as XDR does.
 *
 * Threading: everything runs on the loop thread given at creation; the
 * callbacks are called there. (HTTP transports may use a helper thread
 * internally; callbacks still arrive on the loop thread.)
 */
#ifndef AK_XDR_SHIP_H
#define AK_XDR_SHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_buf.h"
#include "common/ak_error.h"
#include "net/ak_loop.h"
#include "wire/ak_result.h"

typedef enum ak_xdr_protocol {
    AK_XDR_PROTO_TCP = 0,
    AK_XDR_PROTO_HTTP1,
    AK_XDR_PROTO_HTTP2,
} ak_xdr_protocol_t;

/* "tcp", "http1", "http2" -> protocol; false if unknown. */
bool ak_xdr_protocol_parse(const char *name, ak_xdr_protocol_t *out);
const char *ak_xdr_protocol_name(ak_xdr_protocol_t protocol);

typedef struct ak_xdr_ship_options {
    const char *const *destinations; /* "host:port" each */
    size_t n_destinations;
    ak_xdr_protocol_t protocol;
    int connections_per_destination; /* default 1 */
    int in_flight_per_connection;    /* default 64 */
    uint32_t timeout_ms;             /* default 10000, as XDR */
    uint32_t reconnect_delay_ms;     /* default 1000 */
    const char *http_path;           /* default "/" */
} ak_xdr_ship_options_t;

/* Called on the loop thread when the shipper has room for one more
 * notification. Append one complete frame (8-byte proto header + AS_MSG) to
 * frame and set *token to anything that identifies it to the source; return
 * false when there is nothing to ship now (call ak_xdr_ship_kick later). */
typedef bool (*ak_xdr_next_fn)(void *ctx, ak_buf_t *frame, uint64_t *token);

/* Outcome of one notification. result_code is the connector's answer (TCP),
 * or -1 for a timeout or a dropped connection; http_status is the HTTP
 * status (HTTP transports) or 0. */
typedef void (*ak_xdr_result_fn)(void *ctx, uint64_t token, ak_xdr_class_t outcome,
                                 int result_code, int http_status, uint64_t latency_us);

typedef struct ak_xdr_ship_stats {
    uint64_t shipped;      /* notifications sent (each retry counts again) */
    uint64_t acknowledged; /* answered with a done-class code / HTTP 200 */
    uint64_t retried;      /* answered retry-class, timed out, or lost with a connection */
    uint64_t abandoned;    /* answered abandon-class */
    uint64_t timeouts;     /* of retried: no answer within timeout_ms */
    uint64_t connects;     /* connections established */
    uint64_t connect_failures;
    uint64_t in_flight;    /* now */
} ak_xdr_ship_stats_t;

typedef struct ak_xdr_ship ak_xdr_ship_t;

ak_xdr_ship_t *ak_xdr_ship_new(ak_loop_t *loop, const ak_xdr_ship_options_t *opts,
                               ak_xdr_next_fn next, ak_xdr_result_fn result, void *ctx,
                               ak_error_t *err);
/* The source has something new: pull while there is room. */
void ak_xdr_ship_kick(ak_xdr_ship_t *ship);
void ak_xdr_ship_stats(const ak_xdr_ship_t *ship, ak_xdr_ship_stats_t *out);
/* Closes connections; notifications still in flight are reported as retry. */
void ak_xdr_ship_free(ak_xdr_ship_t *ship);

#endif
