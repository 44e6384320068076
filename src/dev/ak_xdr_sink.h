/*
 * ak_xdr_sink: a trivial acknowledging listener that XDR shippers
 * (aerospike-dev, xdr-load) ship to, for tests and as the ceiling figure of
 * benchmarks.
 *
 * TCP: frames are only framed, never decoded (unless on_message is set, and
 * even then the sink hands over bytes, not records): each AS_MSG (proto
 * type 3 or 4) gets a reply message with the next result code of `answers`;
 * an info request (type 1) gets an info response echoing its lines with
 * empty values; an admin request (type 2) gets a 16-byte admin reply with
 * result 0. Replies keep request order per connection and leave in one
 * write per read batch. An invalid frame header closes the connection
 * (counted as malformed).
 *
 * HTTP (HTTP/1.1 and h2c on the same port, via ak_http_server): POST with
 * body[0] == 1 is a message (the frame is body[1..], not decoded) answered
 * with the next status of `http_statuses`; another version byte gets 501,
 * an empty body 400 (both counted as malformed); GET on any path gets 200
 * "ok" (a health check, not a message).
 *
 * hold_first N: the first N messages (in arrival order over all
 * connections) are never answered, to exercise a shipper's timeout. On TCP
 * a held message also blocks every later message on its connection, since
 * replies must keep request order; those are counted as held too.
 *
 * Threading: the sink runs on its loop's thread; ak_xdr_sink_stats may be
 * called from any thread.
 */
#ifndef AK_XDR_SINK_H
#define AK_XDR_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "net/ak_loop.h"

typedef enum ak_xdr_sink_protocol {
    AK_XDR_SINK_TCP = 0,
    AK_XDR_SINK_HTTP,
} ak_xdr_sink_protocol_t;

/* Called on the loop thread for every received message: frame is one
 * complete proto frame (8-byte header included), valid during the call;
 * index counts messages from 0 in arrival order. */
typedef void (*ak_xdr_sink_message_fn)(void *ctx, const uint8_t *frame, size_t len,
                                       uint64_t index);

typedef struct ak_xdr_sink_options {
    const char *host;                /* NULL or "" = all addresses */
    uint16_t port;                   /* 0 = pick a free port */
    ak_xdr_sink_protocol_t protocol;
    const uint8_t *answers;          /* result codes, cycled per answer; NULL = {0} */
    size_t n_answers;
    const int *http_statuses;        /* HTTP statuses, cycled per answer; NULL = {200} */
    size_t n_http_statuses;
    uint64_t hold_first;             /* leave the first N messages unanswered */
    ak_xdr_sink_message_fn on_message; /* optional */
    void *ctx;
} ak_xdr_sink_options_t;

/* answered_by_code is indexed by the result code (TCP) or the HTTP status
 * (HTTP), so it only counts answers to messages. */
#define AK_XDR_SINK_CODE_SLOTS 600

typedef struct ak_xdr_sink_stats {
    uint64_t connections; /* accepted since the start */
    uint64_t received;    /* messages (AS_MSG frames, or POSTs with version byte 1) */
    uint64_t answered;    /* messages answered */
    uint64_t held;        /* messages left unanswered on purpose */
    uint64_t bytes;       /* TCP: bytes read; HTTP: message body bytes */
    uint64_t malformed;   /* TCP: bad frame headers; HTTP: 400 and 501 answers */
    uint64_t info;        /* TCP info requests answered; HTTP GETs answered */
    uint64_t answered_by_code[AK_XDR_SINK_CODE_SLOTS];
} ak_xdr_sink_stats_t;

typedef struct ak_xdr_sink ak_xdr_sink_t;

/* Starts listening at once. Errors name the address. */
ak_xdr_sink_t *ak_xdr_sink_new(ak_loop_t *loop, const ak_xdr_sink_options_t *opts,
                               ak_error_t *err);
uint16_t ak_xdr_sink_port(const ak_xdr_sink_t *sink);
/* Any thread: each counter is read whole; the set is not a snapshot. */
void ak_xdr_sink_stats(const ak_xdr_sink_t *sink, ak_xdr_sink_stats_t *out);
/* "tcp" / "http" -> protocol; -1 if unknown. */
int ak_xdr_sink_protocol_parse(const char *name, ak_xdr_sink_protocol_t *out);
/* Closes everything. Call on the loop thread, from a callback or before
 * the loop's last run: connection memory is released at the end of the
 * loop iteration (see ak_http_server_free). */
void ak_xdr_sink_free(ak_xdr_sink_t *sink);

#endif
