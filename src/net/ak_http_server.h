/*
 * ak_http_server: an HTTP server on an ak_loop for XDR's legacy change
 * notifications and the management API.
 *
 * One listening port serves HTTP/1.1 (keep-alive, pipelined requests
 * answered in order; parsed by the http-parser library) and HTTP/2 with
 * prior knowledge (h2c, recognised by its connection preface; nghttp2).
 * Requests are handed to a handler with the whole body; the handler answers
 * now or later (the outbound connector answers after Kafka acknowledges),
 * always on the loop thread.
 *
 * With options.tls the port serves the same over TLS: ALPN offers h2 and
 * http/1.1 (when the context lists them) and, as in cleartext, the first
 * bytes after the handshake decide between HTTP/1.1 and HTTP/2.
 */
#ifndef AK_HTTP_SERVER_H
#define AK_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "net/ak_loop.h"
#include "net/ak_tls.h"

typedef struct ak_http_server ak_http_server_t;
/* A request awaiting its response. Valid until ak_http_respond is called,
 * even if the client disconnects meanwhile (the response is then dropped). */
typedef struct ak_http_request ak_http_request_t;

typedef struct ak_http_request_info {
    const char *method;       /* "GET", "POST", ... NUL-terminated */
    const char *path;         /* request target, NUL-terminated */
    const char *content_type; /* NULL if absent */
    const uint8_t *body;      /* valid during the handler call only */
    size_t body_len;
    int http_version;         /* 11 or 20 */
    uint16_t local_port;      /* the port the request arrived on */
} ak_http_request_info_t;

typedef void (*ak_http_handler_fn)(void *ctx, ak_http_request_t *req,
                                   const ak_http_request_info_t *info);

typedef struct ak_http_server_options {
    const char *host;        /* NULL or "" = all addresses */
    uint16_t port;           /* 0 = pick a free port */
    size_t max_body_bytes;   /* larger bodies get 413; default 16 MiB */
    size_t max_connections;  /* default 4096 */
    ak_tls_ctx_t *tls;       /* server context: serve TLS; NULL: cleartext. The server
                              * takes its own reference. */
    /* Called (on the loop thread, with the handler's ctx) when a TLS handshake
     * fails or a peer is refused; message names the peer address and the
     * reason. The connection is closed. NULL: only counted. */
    void (*on_tls_error)(void *ctx, const char *message);
    /* A TLS peer that has not finished its handshake this long after
     * connecting is closed (and reported as a TLS failure), so silent
     * connections cannot hold the server's connection slots. 0: 10 s. */
    uint32_t tls_handshake_timeout_ms;
    bool reuse_port;         /* share the port with other loops' servers (SO_REUSEPORT) */
} ak_http_server_options_t;

/* The TLS handshake deadline of both XDR receivers unless told otherwise. */
#define AK_TLS_HANDSHAKE_TIMEOUT_MS 10000u

ak_http_server_t *ak_http_server_new(ak_loop_t *loop, const ak_http_server_options_t *opts,
                                     ak_http_handler_fn handler, void *ctx, ak_error_t *err);
uint16_t ak_http_server_port(const ak_http_server_t *server);

/* Counters, readable from any thread (each value is read whole; the set is
 * not a snapshot). */
typedef struct ak_http_server_stats {
    uint64_t connections_accepted; /* since the start */
    uint64_t connections_open;     /* now */
    uint64_t requests;             /* delivered to the handler */
    uint64_t bad_requests;         /* answered by the server itself: 400, 413 */
    uint64_t tls_failures;         /* connections closed on a TLS failure */
} ak_http_server_stats_t;
void ak_http_server_stats(const ak_http_server_t *server, ak_http_server_stats_t *out);
/* Sends the response (Content-Length framed) and releases req. */
void ak_http_respond(ak_http_request_t *req, int status, const char *content_type,
                     const void *body, size_t body_len);
/* Closes the listener and every connection; pending requests are released
 * (the handler must not answer them afterwards). Call it on the loop thread,
 * from a callback or before the loop's last run: like every object with an
 * io, connection memory is freed at the end of the current loop iteration
 * (ak_loop_defer), so a loop that never runs again leaks it. */
void ak_http_server_free(ak_http_server_t *server);

#endif
