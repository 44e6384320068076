/*
 * ak_h2_client: one HTTP/2 connection with prior knowledge (h2c, cleartext)
 * on an ak_loop, carrying many concurrent POST requests.
 *
 * nghttp2's client session does the protocol (framing, HPACK, flow control,
 * GOAWAY); this module feeds it a non-blocking socket, keeps the number of
 * open streams within the server's SETTINGS_MAX_CONCURRENT_STREAMS (and an
 * optional limit of our own), times requests out, and reports each
 * request's outcome exactly once. One client is one connection: when it
 * closes, the caller frees it and creates another if it wants to reconnect.
 *
 * Buffering is bounded: request bodies are the caller's (not copied), at
 * most about 256 KiB of frames wait for the socket, and response bodies are
 * counted and discarded.
 *
 * Threading: everything, callbacks included, runs on the loop thread.
 */
#ifndef AK_H2_CLIENT_H
#define AK_H2_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "net/ak_loop.h"

typedef struct ak_h2_client ak_h2_client_t;

typedef enum ak_h2_client_state {
    AK_H2_CLIENT_CONNECTING, /* TCP connect, then our preface until the server's SETTINGS */
    AK_H2_CLIENT_READY,      /* requests may be posted, up to ak_h2_client_capacity */
    AK_H2_CLIENT_DRAINING,   /* GOAWAY received: no new requests; accepted ones finish */
    AK_H2_CLIENT_CLOSED,     /* the connection is gone and every request has completed */
} ak_h2_client_state_t;

const char *ak_h2_client_state_name(ak_h2_client_state_t state);

/* Called on READY (and again in READY whenever the server's SETTINGS may
 * have changed the capacity), DRAINING and CLOSED. reason explains DRAINING
 * and CLOSED ("connection refused", "GOAWAY: ENHANCE_YOUR_CALM", ...); it is
 * NULL for READY and valid during the call only. The client may be freed
 * from inside the callback. */
typedef void (*ak_h2_client_event_fn)(void *ctx, ak_h2_client_t *client,
                                      ak_h2_client_state_t state, const char *reason);

typedef enum ak_h2_error {
    AK_H2_OK = 0,         /* a complete response arrived: see status */
    AK_H2_ERR_REFUSED,    /* the server did not process it (REFUSED_STREAM, or beyond a
                           * GOAWAY's last stream): safe to send again */
    AK_H2_ERR_RESET,      /* the server reset the stream before a complete response */
    AK_H2_ERR_TIMEOUT,    /* no complete response within request_timeout_ms: cancelled */
    AK_H2_ERR_CONNECTION, /* the connection failed or closed with the request open */
    AK_H2_ERR_CANCELLED,  /* ak_h2_client_free with the request open */
} ak_h2_error_t;

const char *ak_h2_error_name(ak_h2_error_t error);

typedef struct ak_h2_response {
    ak_h2_error_t error;
    int status;          /* the final :status when error is AK_H2_OK, else 0 */
    size_t body_len;     /* response body bytes (discarded) */
    const char *detail;  /* why, for errors ("stream reset: INTERNAL_ERROR"); NULL when OK */
} ak_h2_response_t;

/* Called once per posted request, never from inside ak_h2_client_post.
 * resp is valid during the call only. The callback may post again, or free
 * the client. */
typedef void (*ak_h2_done_fn)(void *req_ctx, const ak_h2_response_t *resp);

typedef struct ak_h2_client_options {
    uint32_t max_streams;        /* our own limit on open streams; 0 = the server's only */
    uint32_t connect_timeout_ms; /* TCP connect + the server's SETTINGS; default 10000 */
    uint32_t request_timeout_ms; /* from post to the end of the response; 0 = none */
} ak_h2_client_options_t;

/* Starts connecting to host:port (opts may be NULL for the defaults).
 * Returns NULL, with err set, when the connection cannot even be started
 * (the host does not resolve, no socket); failures after that are reported
 * through on_state(CLOSED). */
ak_h2_client_t *ak_h2_client_new(ak_loop_t *loop, const char *host, uint16_t port,
                                 const ak_h2_client_options_t *opts,
                                 ak_h2_client_event_fn on_state, void *ctx, ak_error_t *err);

ak_h2_client_state_t ak_h2_client_state(const ak_h2_client_t *client);
bool ak_h2_client_ready(const ak_h2_client_t *client);
/* How many more requests may be posted now: 0 unless READY; else the
 * server's MAX_CONCURRENT_STREAMS (capped by max_streams) minus the
 * requests open. */
size_t ak_h2_client_capacity(const ak_h2_client_t *client);
/* Requests posted and not yet completed. */
size_t ak_h2_client_in_flight(const ak_h2_client_t *client);

/* Posts body (content-type application/octet-stream) to path. body must
 * stay valid and unchanged until done is called; path is copied. Returns
 * AK_OK, after which done(req_ctx, ...) is called exactly once;
 * AK_ERR_LIMIT when the capacity is 0; AK_ERR_IO when the client is not
 * READY; AK_ERR_NOMEM. On an error done is never called. */
ak_status_t ak_h2_client_post(ak_h2_client_t *client, const char *path, const uint8_t *body,
                              size_t len, ak_h2_done_fn done, void *req_ctx, ak_error_t *err);

typedef struct ak_h2_client_stats {
    uint64_t requests;        /* posted */
    uint64_t responses;       /* completed with AK_H2_OK */
    uint64_t errors;          /* completed with an error */
    uint32_t max_open;        /* most requests open at once */
    uint32_t server_max_streams; /* the server's MAX_CONCURRENT_STREAMS (0 until known) */
} ak_h2_client_stats_t;
void ak_h2_client_stats(const ak_h2_client_t *client, ak_h2_client_stats_t *out);

/* Closes the connection; open requests complete with AK_H2_ERR_CANCELLED
 * (their callbacks run inside this call; posting from them fails). No
 * callback runs afterwards. May be called from any of the client's
 * callbacks. Call on the loop thread; the memory goes at the end of
 * the loop iteration (ak_loop_defer), so free clients before the loop's
 * last run or before ak_loop_free. */
void ak_h2_client_free(ak_h2_client_t *client);

#endif
