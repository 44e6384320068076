/*
 * ak_http_server: HTTP/1.1 (http-parser) and h2c (nghttp2) on one port.
 *
 * Life of a connection: it starts in DETECT until its first bytes either
 * match the HTTP/2 client preface or stop matching it, then stays H1 or H2.
 * All reads and writes go through ak_conn_recv / ak_conn_send, which speak
 * TLS (ak_tls) on a TLS server and plain recv/send otherwise: the protocol
 * code never knows which. The TLS handshake happens inside the first reads.
 *
 * Responses are never written from inside a handler call: ak_http_respond
 * queues them and asks for a "service" pass (right after the current read
 * batch, or deferred to the end of the loop iteration when the answer comes
 * from elsewhere), so many answers leave in one write.
 *
 * Ownership of a request: the connection owns it until it is delivered to the
 * handler; the handler owns it until ak_http_respond. If the connection dies
 * in between, the request becomes an orphan owned by the server (listed in
 * server->orphans) so ak_http_respond can still release it, and
 * ak_http_server_free releases whatever is left.
 */
#include "net/ak_http_server.h"

#include <errno.h>
#include <http_parser.h>
#include <limits.h>
#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ak_buf.h"
#include "net/ak_sock.h"

#define AK_HTTP_DEFAULT_MAX_BODY ((size_t)16 * 1024 * 1024)
#define AK_HTTP_DEFAULT_MAX_CONNECTIONS 4096
#define AK_HTTP_READ_CHUNK 65536
/* Reads per readiness event: enough to amortise the wake-up, few enough
 * that one busy client cannot starve the others. */
#define AK_HTTP_READS_PER_EVENT 8
/* HTTP/1.1 requests queued on one connection (delivered or waiting for
 * their turn to be written) before we stop reading from it. */
#define AK_HTTP_H1_MAX_QUEUED 1024
/* Unsent output above which we stop reading (the client is not reading). */
#define AK_HTTP_OUT_HIGH ((size_t)4 * 1024 * 1024)
#define AK_HTTP_H2_MAX_STREAMS 1024
#define AK_HTTP_H2_STREAM_WINDOW (1024 * 1024)
#define AK_HTTP_H2_CONN_WINDOW (16 * 1024 * 1024)
/* How long a connection we are closing keeps draining what the client
 * still sends, so our last response is not destroyed by a TCP reset. */
#define AK_HTTP_LINGER_MS 2000
#define AK_HTTP_ACCEPT_RETRY_MS 100

static const char ak_h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define AK_H2_PREFACE_LEN (sizeof ak_h2_preface - 1)

typedef enum ak_http_conn_mode {
    AK_HTTP_CONN_DETECT,
    AK_HTTP_CONN_H1,
    AK_HTTP_CONN_H2,
    AK_HTTP_CONN_LINGER, /* last response sent, draining input until close */
} ak_http_conn_mode_t;

typedef struct ak_http_conn ak_http_conn_t;

struct ak_http_request {
    ak_http_server_t *server;
    ak_http_conn_t *conn;           /* NULL once orphaned */
    ak_http_request_t *prev, *next; /* conn->requests in request order, or server->orphans */
    bool delivered;                 /* handed to the handler */
    bool answered;                  /* ak_http_respond called (or an error answer queued) */
    bool close_after;               /* H1: close the connection after this response */
    bool head_method;               /* H1: HEAD, the response carries no body */
    ak_buf_t response;              /* H1: bytes waiting for their turn; H2: the body */
    size_t response_pos;            /* H2: body bytes already handed to nghttp2 */
    /* H2 only: the request as it arrives on its stream */
    int32_t stream_id;
    bool too_large;
    char *method, *path, *content_type;
    ak_buf_t body;
};

struct ak_http_conn {
    ak_http_server_t *server;
    ak_http_conn_t *prev, *next; /* server->conns */
    ak_io_t io;
    int fd;
    ak_tls_t *tls;          /* NULL: cleartext */
    ak_http_conn_mode_t mode;
    bool dead;              /* closed; memory freed by a deferred task */
    bool busy;              /* inside the io callback or a service pass */
    bool need_service;      /* output or a resume is waiting */
    bool service_scheduled; /* a deferred service pass is queued */
    bool read_paused;       /* reading stopped (back-pressure or pipelining limit) */
    bool read_eof;          /* the client closed its side */
    bool close_after_flush; /* close once out is written */
    uint64_t linger_timer;
    uint64_t handshake_timer; /* TLS: closes the connection if the handshake is not done in time */

    ak_buf_t in; /* DETECT: the first bytes; H1: input left over while paused */
    ak_buf_t out;
    size_t out_pos;

    ak_http_request_t *req_head, *req_tail;
    size_t n_requests;

    /* H1 */
    http_parser parser;
    ak_http_request_t *h1_cur; /* the request being parsed */
    ak_buf_t h1_url, h1_body, h1_ctype;
    char h1_field[16];
    size_t h1_field_len;
    bool h1_field_done;     /* the next header callback starts a new field */
    int h1_field_kind;      /* 0 other, 1 content-type, 2 expect */
    char h1_expect[16];
    size_t h1_expect_len;
    bool h1_failed;         /* an error answer is queued; parse nothing more */
    bool h1_stop;           /* stop parsing after the current message */

    /* H2 */
    nghttp2_session *h2;
    size_t h2_body_bytes; /* buffered bodies of requests still arriving */
};

struct ak_http_server {
    ak_loop_t *loop;
    int listen_fd;
    ak_io_t listen_io;
    uint16_t port;
    size_t max_body;
    size_t max_connections;
    ak_http_handler_fn handler;
    void *ctx;
    ak_tls_ctx_t *tls;
    void (*on_tls_error)(void *ctx, const char *message);
    uint32_t tls_handshake_timeout_ms;
    ak_http_conn_t *conns;
    size_t n_conns;
    ak_http_request_t *orphans;
    uint64_t accept_timer;
    bool accept_paused;
    uint8_t scratch[AK_HTTP_READ_CHUNK];
    ak_http_server_stats_t stats;
};

/* Statistics have one writer (the loop thread) and may be read anywhere:
 * relaxed atomic stores keep each value whole without a locked add. */
static void ak_http_count(uint64_t *counter, int64_t delta)
{
    __atomic_store_n(counter, (uint64_t)((int64_t)__atomic_load_n(counter, __ATOMIC_RELAXED) + delta),
                     __ATOMIC_RELAXED);
}

static void ak_conn_close(ak_http_conn_t *conn);
static void ak_conn_service(ak_http_conn_t *conn);
static void ak_conn_update_io(ak_http_conn_t *conn);
static bool ak_conn_can_read(const ak_http_conn_t *conn);

/* --- transport: the only place bytes touch the socket --- */

/* A TLS connection failed (handshake, refused peer, broken record): the
 * caller closes it; the owner hears why. */
static void ak_conn_tls_failed(ak_http_conn_t *conn)
{
    ak_http_server_t *server = conn->server;
    ak_http_count(&server->stats.tls_failures, 1);
    if (server->on_tls_error)
        server->on_tls_error(server->ctx, ak_tls_error(conn->tls));
}

/* > 0 bytes read, 0 end of stream, -1 nothing now (EAGAIN), -2 error. */
static ssize_t ak_conn_recv(ak_http_conn_t *conn, uint8_t *buf, size_t cap)
{
    if (conn->tls) {
        ssize_t n = ak_tls_read(conn->tls, buf, cap);
        if (n == AK_TLS_ERROR)
            ak_conn_tls_failed(conn);
        return n; /* AK_TLS_AGAIN and AK_TLS_ERROR are -1 and -2 */
    }
    for (;;) {
        ssize_t n = recv(conn->fd, buf, cap, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : -2;
    }
}

/* >= 0 bytes written, -1 would block, -2 error. */
static ssize_t ak_conn_send(ak_http_conn_t *conn, const uint8_t *data, size_t len)
{
    if (conn->tls) {
        ssize_t n = ak_tls_write(conn->tls, data, len);
        if (n == AK_TLS_ERROR)
            ak_conn_tls_failed(conn);
        return n;
    }
    for (;;) {
        ssize_t n = send(conn->fd, data, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : -2;
    }
}

/* --- requests --- */

static ak_http_request_t *ak_request_new(ak_http_conn_t *conn)
{
    ak_http_request_t *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->server = conn->server;
    req->conn = conn;
    ak_buf_init(&req->response);
    ak_buf_init(&req->body);
    req->prev = conn->req_tail;
    if (conn->req_tail)
        conn->req_tail->next = req;
    else
        conn->req_head = req;
    conn->req_tail = req;
    conn->n_requests++;
    return req;
}

static void ak_request_unlink(ak_http_request_t *req)
{
    ak_http_conn_t *conn = req->conn;
    if (req->prev)
        req->prev->next = req->next;
    else if (conn)
        conn->req_head = req->next;
    else
        req->server->orphans = req->next;
    if (req->next)
        req->next->prev = req->prev;
    else if (conn)
        conn->req_tail = req->prev;
    if (conn)
        conn->n_requests--;
    req->prev = req->next = NULL;
}

static void ak_request_free(ak_http_request_t *req)
{
    ak_buf_free(&req->response);
    ak_buf_free(&req->body);
    free(req->method);
    free(req->path);
    free(req->content_type);
    free(req);
}

/* The connection is gone but the handler still holds req. */
static void ak_request_orphan(ak_http_request_t *req)
{
    ak_http_server_t *server = req->server;
    ak_request_unlink(req);
    req->conn = NULL;
    ak_buf_free(&req->response);
    req->next = server->orphans;
    if (server->orphans)
        server->orphans->prev = req;
    server->orphans = req;
}

/* The connection will answer nothing more: requests the handler holds
 * become orphans, the others are freed. */
static void ak_conn_release_requests(ak_http_conn_t *conn)
{
    while (conn->req_head) {
        ak_http_request_t *req = conn->req_head;
        if (req->delivered && !req->answered) {
            ak_request_orphan(req);
        } else {
            ak_request_unlink(req);
            ak_request_free(req);
        }
    }
    conn->h1_cur = NULL;
}

static const char *ak_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

static void ak_h1_write_response(ak_buf_t *out, int status, const char *content_type,
                                 const void *body, size_t body_len, bool close_after,
                                 bool head_method)
{
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s%s%s\r\n",
                     status, ak_http_reason(status), body_len,
                     content_type ? "Content-Type: " : "", content_type ? content_type : "",
                     content_type ? "\r\n" : "", close_after ? "Connection: close\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof head) /* an absurd content type: drop it */
        n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s\r\n", status,
                     ak_http_reason(status), body_len, close_after ? "Connection: close\r\n" : "");
    ak_buf_append(out, head, (size_t)n);
    if (!head_method && body_len)
        ak_buf_append(out, body, body_len);
}

/* --- connection plumbing --- */

static void ak_conn_free_task(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_http_conn_t *conn = arg;
    ak_buf_free(&conn->in);
    ak_buf_free(&conn->out);
    ak_buf_free(&conn->h1_url);
    ak_buf_free(&conn->h1_body);
    ak_buf_free(&conn->h1_ctype);
    free(conn);
}

static void ak_server_accept_resume(ak_http_server_t *server);

/* Closes the socket at once; requests the handler holds become orphans,
 * the rest are freed; the memory goes after the current batch of events. */
static void ak_conn_close(ak_http_conn_t *conn)
{
    if (conn->dead)
        return;
    ak_http_server_t *server = conn->server;
    conn->dead = true;
    ak_loop_io_stop(server->loop, &conn->io);
    ak_tls_free(conn->tls);
    conn->tls = NULL;
    close(conn->fd);
    conn->fd = -1;
    if (conn->linger_timer)
        ak_loop_timer_cancel(server->loop, conn->linger_timer);
    conn->linger_timer = 0;
    if (conn->handshake_timer)
        ak_loop_timer_cancel(server->loop, conn->handshake_timer);
    conn->handshake_timer = 0;
    /* nghttp2_session_del calls no callbacks, and after it nothing reads
     * the response bodies the requests own. */
    if (conn->h2)
        nghttp2_session_del(conn->h2);
    conn->h2 = NULL;
    ak_conn_release_requests(conn);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        server->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    server->n_conns--;
    ak_http_count(&server->stats.connections_open, -1);
    if (!ak_loop_defer(server->loop, ak_conn_free_task, conn))
        ak_conn_free_task(server->loop, conn); /* no event can be pending: its io is stopped */
    if (server->accept_paused && server->n_conns < server->max_connections)
        ak_server_accept_resume(server);
}

static void ak_conn_service_task(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_http_conn_t *conn = arg;
    conn->service_scheduled = false;
    if (!conn->dead)
        ak_conn_service(conn);
}

/* Asks for a service pass: now if we are inside one (it loops), else after
 * the current batch of events so answers given together leave together. */
static void ak_conn_wake(ak_http_conn_t *conn)
{
    if (conn->dead)
        return;
    conn->need_service = true;
    if (conn->busy || conn->service_scheduled)
        return;
    if (ak_loop_defer(conn->server->loop, ak_conn_service_task, conn))
        conn->service_scheduled = true;
    else
        ak_conn_service(conn);
}

static size_t ak_conn_out_pending(const ak_http_conn_t *conn)
{
    return conn->out.len - conn->out_pos;
}

static void ak_linger_timeout(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_http_conn_t *conn = arg;
    conn->linger_timer = 0;
    ak_conn_close(conn);
}

/* Everything we had to say is written: stop sending, read and discard what
 * the client still sends for a while, then close. */
static void ak_conn_begin_linger(ak_http_conn_t *conn)
{
    if (conn->read_eof) {
        ak_conn_close(conn);
        return;
    }
    ak_tls_shutdown(conn->tls); /* close_notify before the FIN */
    shutdown(conn->fd, SHUT_WR);
    if (conn->h2)
        nghttp2_session_del(conn->h2);
    conn->h2 = NULL;
    ak_conn_release_requests(conn);
    conn->mode = AK_HTTP_CONN_LINGER;
    conn->read_paused = false;
    conn->linger_timer = ak_loop_timer(conn->server->loop, AK_HTTP_LINGER_MS, ak_linger_timeout, conn);
    if (!conn->linger_timer)
        ak_conn_close(conn);
}

/* Writes as much of out as the socket takes. */
static void ak_conn_flush(ak_http_conn_t *conn)
{
    while (ak_conn_out_pending(conn) > 0) {
        ssize_t n = ak_conn_send(conn, conn->out.data + conn->out_pos, ak_conn_out_pending(conn));
        if (n == -1)
            return;
        if (n < 0) {
            ak_conn_close(conn);
            return;
        }
        conn->out_pos += (size_t)n;
    }
    ak_buf_clear(&conn->out);
    conn->out_pos = 0;
    /* A connection that once held a large burst keeps no large buffer. */
    if (conn->out.cap > AK_HTTP_OUT_HIGH) {
        ak_buf_free(&conn->out);
        ak_buf_init(&conn->out);
    }
    if (conn->close_after_flush && conn->mode != AK_HTTP_CONN_LINGER)
        ak_conn_begin_linger(conn);
}

static void ak_conn_update_io(ak_http_conn_t *conn)
{
    if (conn->dead)
        return;
    unsigned events = 0;
    if (conn->mode == AK_HTTP_CONN_LINGER || ak_conn_can_read(conn))
        events |= AK_IO_READ;
    if (ak_conn_out_pending(conn) > 0)
        events |= AK_IO_WRITE;
    if (conn->tls)
        events |= ak_tls_wanted_events(conn->tls);
    ak_loop_io_set(conn->server->loop, &conn->io, events);
}

/* --- HTTP/1.1 --- */

static int ak_h1_on_message_begin(http_parser *parser)
{
    ak_http_conn_t *conn = parser->data;
    ak_buf_clear(&conn->h1_url);
    ak_buf_clear(&conn->h1_body);
    ak_buf_clear(&conn->h1_ctype);
    conn->h1_field_len = 0;
    conn->h1_field_done = true;
    conn->h1_field_kind = 0;
    conn->h1_expect_len = 0;
    conn->h1_cur = ak_request_new(conn);
    return conn->h1_cur ? 0 : -1;
}

static int ak_h1_on_url(http_parser *parser, const char *at, size_t len)
{
    ak_http_conn_t *conn = parser->data;
    ak_buf_append(&conn->h1_url, at, len);
    return 0;
}

static int ak_h1_on_header_field(http_parser *parser, const char *at, size_t len)
{
    ak_http_conn_t *conn = parser->data;
    if (conn->h1_field_done) {
        conn->h1_field_len = 0;
        conn->h1_field_done = false;
        conn->h1_field_kind = -1;
    }
    /* Only short names interest us; longer ones are remembered as "too long". */
    if (conn->h1_field_len + len < sizeof conn->h1_field)
        memcpy(conn->h1_field + conn->h1_field_len, at, len);
    conn->h1_field_len += len;
    return 0;
}

static int ak_h1_on_header_value(http_parser *parser, const char *at, size_t len)
{
    ak_http_conn_t *conn = parser->data;
    if (!conn->h1_field_done) {
        conn->h1_field_done = true;
        size_t flen = conn->h1_field_len;
        conn->h1_field_kind = 0;
        if (flen == 12 && strncasecmp(conn->h1_field, "content-type", 12) == 0) {
            conn->h1_field_kind = 1;
            ak_buf_clear(&conn->h1_ctype);
        } else if (flen == 6 && strncasecmp(conn->h1_field, "expect", 6) == 0) {
            conn->h1_field_kind = 2;
            conn->h1_expect_len = 0;
        }
    }
    if (conn->h1_field_kind == 1) {
        ak_buf_append(&conn->h1_ctype, at, len);
    } else if (conn->h1_field_kind == 2) {
        if (conn->h1_expect_len + len < sizeof conn->h1_expect)
            memcpy(conn->h1_expect + conn->h1_expect_len, at, len);
        conn->h1_expect_len += len;
    }
    return 0;
}

/* Turns the request being parsed into an error answer that closes the
 * connection once it is written, in its place in the response order. */
static void ak_h1_fail(ak_http_conn_t *conn, int status, const char *message)
{
    ak_http_request_t *req = conn->h1_cur;
    if (!req) {
        req = ak_request_new(conn);
        if (!req) {
            ak_conn_close(conn);
            return;
        }
    }
    conn->h1_cur = NULL;
    ak_buf_clear(&req->response);
    ak_h1_write_response(&req->response, status, "text/plain", message, strlen(message), true,
                         false);
    req->answered = true;
    req->close_after = true;
    conn->h1_failed = true;
    conn->read_paused = true;
    ak_buf_clear(&conn->in);
    ak_http_count(&conn->server->stats.bad_requests, 1);
    ak_conn_wake(conn);
}

static int ak_h1_on_headers_complete(http_parser *parser)
{
    ak_http_conn_t *conn = parser->data;
    ak_http_server_t *server = conn->server;
    if (ak_buf_failed(&conn->h1_url) || ak_buf_failed(&conn->h1_ctype)) {
        ak_h1_fail(conn, 500, "out of memory\n");
        return -1;
    }
    /* ULLONG_MAX means "no Content-Length" (chunked or no body). */
    if (parser->content_length != ULLONG_MAX && parser->content_length > server->max_body) {
        ak_h1_fail(conn, 413, "request body too large\n");
        return -1;
    }
    if (conn->h1_expect_len == 12 && strncasecmp(conn->h1_expect, "100-continue", 12) == 0 &&
        conn->req_head == conn->h1_cur)
        ak_buf_append_str(&conn->out, "HTTP/1.1 100 Continue\r\n\r\n");
    return 0;
}

static int ak_h1_on_body(http_parser *parser, const char *at, size_t len)
{
    ak_http_conn_t *conn = parser->data;
    if (conn->h1_body.len + len > conn->server->max_body) {
        ak_h1_fail(conn, 413, "request body too large\n");
        return -1;
    }
    ak_buf_append(&conn->h1_body, at, len);
    if (ak_buf_failed(&conn->h1_body)) {
        ak_h1_fail(conn, 500, "out of memory\n");
        return -1;
    }
    return 0;
}

static int ak_h1_on_message_complete(http_parser *parser)
{
    ak_http_conn_t *conn = parser->data;
    ak_http_server_t *server = conn->server;
    ak_http_request_t *req = conn->h1_cur;
    conn->h1_cur = NULL;
    if (!req)
        return -1;
    bool keep_alive = http_should_keep_alive(parser) != 0;
    req->close_after = !keep_alive;
    req->head_method = parser->method == HTTP_HEAD;
    ak_buf_append_byte(&conn->h1_url, 0);
    ak_buf_append_byte(&conn->h1_ctype, 0);
    if (ak_buf_failed(&conn->h1_url) || ak_buf_failed(&conn->h1_ctype)) {
        conn->h1_cur = req;
        ak_h1_fail(conn, 500, "out of memory\n");
        return -1;
    }
    ak_http_request_info_t info = {
        .method = http_method_str((enum http_method)parser->method),
        .path = (const char *)conn->h1_url.data,
        .content_type = conn->h1_ctype.len > 1 ? (const char *)conn->h1_ctype.data : NULL,
        .body = conn->h1_body.data,
        .body_len = conn->h1_body.len,
        .http_version = 11,
        .local_port = server->port,
    };
    req->delivered = true;
    ak_http_count(&server->stats.requests, 1);
    if (!keep_alive)
        conn->h1_stop = true;
    /* req may be released inside the handler: do not touch it after. */
    server->handler(server->ctx, req, &info);
    if (conn->dead)
        return -1;
    if (conn->h1_stop || conn->n_requests >= AK_HTTP_H1_MAX_QUEUED ||
        ak_conn_out_pending(conn) > AK_HTTP_OUT_HIGH)
        http_parser_pause(parser, 1);
    return 0;
}

static const http_parser_settings ak_h1_settings = {
    .on_message_begin = ak_h1_on_message_begin,
    .on_url = ak_h1_on_url,
    .on_header_field = ak_h1_on_header_field,
    .on_header_value = ak_h1_on_header_value,
    .on_headers_complete = ak_h1_on_headers_complete,
    .on_body = ak_h1_on_body,
    .on_message_complete = ak_h1_on_message_complete,
};

/* Feeds data to the parser. What it does not consume (paused) is kept in
 * conn->in; reading stays off until the pause is lifted. */
static void ak_h1_feed(ak_http_conn_t *conn, const uint8_t *data, size_t len)
{
    size_t pos = 0;
    while (pos < len && !conn->dead && !conn->h1_failed) {
        size_t n = http_parser_execute(&conn->parser, &ak_h1_settings, (const char *)data + pos,
                                       len - pos);
        if (conn->dead || conn->h1_failed)
            return;
        pos += n;
        enum http_errno herr = HTTP_PARSER_ERRNO(&conn->parser);
        if (herr == HPE_PAUSED) {
            conn->read_paused = true;
            if (conn->h1_stop) {
                /* The client asked to close after this request: ignore the rest. */
                ak_buf_clear(&conn->in);
                return;
            }
            /* data may be conn->in itself: move the rest to its front. */
            if (data == conn->in.data) {
                memmove(conn->in.data, conn->in.data + pos, len - pos);
                conn->in.len = len - pos;
            } else {
                ak_buf_clear(&conn->in);
                ak_buf_append(&conn->in, data + pos, len - pos);
                if (ak_buf_failed(&conn->in))
                    ak_conn_close(conn);
            }
            return;
        }
        if (herr != HPE_OK) {
            ak_h1_fail(conn, 400, "malformed request\n");
            return;
        }
        if (conn->parser.upgrade) {
            /* An Upgrade (h2c, websocket) we decline: the request was
             * answered as plain HTTP/1.1; go on with the next one. */
            conn->parser.upgrade = 0;
            if (conn->parser.method == HTTP_CONNECT) {
                ak_h1_fail(conn, 400, "CONNECT is not supported\n");
                return;
            }
            continue;
        }
        if (n == 0)
            break; /* cannot happen without an error; avoid spinning */
    }
    if (data == conn->in.data)
        ak_buf_clear(&conn->in);
}

/* Writes answered requests from the head of the queue, in request order. */
static void ak_h1_drain(ak_http_conn_t *conn)
{
    while (conn->req_head && conn->req_head->answered) {
        ak_http_request_t *req = conn->req_head;
        ak_buf_append(&conn->out, req->response.data, req->response.len);
        bool close_after = req->close_after;
        ak_request_unlink(req);
        ak_request_free(req);
        if (close_after) {
            conn->close_after_flush = true;
            /* Nothing after a closing response is answered. */
            ak_conn_release_requests(conn);
            break;
        }
    }
}

/* Lifts a pipelining pause when the queue has room again. */
static void ak_h1_maybe_resume(ak_http_conn_t *conn)
{
    if (!conn->read_paused || conn->h1_failed || conn->h1_stop || conn->read_eof)
        return;
    if (conn->n_requests >= AK_HTTP_H1_MAX_QUEUED / 2 ||
        ak_conn_out_pending(conn) > AK_HTTP_OUT_HIGH)
        return;
    conn->read_paused = false;
    http_parser_pause(&conn->parser, 0);
    if (conn->in.len)
        ak_h1_feed(conn, conn->in.data, conn->in.len);
}

/* --- HTTP/2 --- */

static ssize_t ak_h2_read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                               size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                               void *user_data)
{
    (void)session;
    (void)stream_id;
    (void)user_data;
    ak_http_request_t *req = source->ptr;
    size_t left = req->response.len - req->response_pos;
    size_t n = left < length ? left : length;
    if (n)
        memcpy(buf, req->response.data + req->response_pos, n);
    req->response_pos += n;
    if (req->response_pos == req->response.len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static void ak_h2_submit(ak_http_conn_t *conn, ak_http_request_t *req, int status,
                         const char *content_type, const void *body, size_t body_len)
{
    char status_text[8], length_text[24];
    snprintf(status_text, sizeof status_text, "%d", status);
    snprintf(length_text, sizeof length_text, "%zu", body_len);
    nghttp2_nv nva[3];
    size_t n = 0;
#define AK_NV(name, value)                                                                         \
    nva[n++] = (nghttp2_nv){(uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1,              \
                            strlen(value), NGHTTP2_NV_FLAG_NO_COPY_NAME}
    AK_NV(":status", status_text);
    AK_NV("content-length", length_text);
    if (content_type)
        AK_NV("content-type", content_type);
#undef AK_NV
    req->answered = true;
    ak_buf_clear(&req->response);
    req->response_pos = 0;
    ak_buf_append(&req->response, body, body_len);
    nghttp2_data_provider provider = {.source.ptr = req, .read_callback = ak_h2_read_body};
    int rv = nghttp2_submit_response(conn->h2, req->stream_id, nva, n,
                                     body_len ? &provider : NULL);
    if (rv != 0) {
        /* The stream is gone already; nothing will read the body. */
        nghttp2_session_set_stream_user_data(conn->h2, req->stream_id, NULL);
        ak_request_unlink(req);
        ak_request_free(req);
    }
    ak_conn_wake(conn);
}

static int ak_h2_on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
                                  void *user_data)
{
    ak_http_conn_t *conn = user_data;
    if (conn->dead || frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    ak_http_request_t *req = ak_request_new(conn);
    if (!req)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    req->stream_id = frame->hd.stream_id;
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, req);
    return 0;
}

static char *ak_strndup_bytes(const uint8_t *value, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, value, len);
        s[len] = '\0';
    }
    return s;
}

static int ak_h2_on_header(nghttp2_session *session, const nghttp2_frame *frame,
                           const uint8_t *name, size_t namelen, const uint8_t *value,
                           size_t valuelen, uint8_t flags, void *user_data)
{
    (void)flags;
    (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    ak_http_request_t *req = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!req)
        return 0;
    char **slot = NULL;
    if (namelen == 7 && memcmp(name, ":method", 7) == 0)
        slot = &req->method;
    else if (namelen == 5 && memcmp(name, ":path", 5) == 0)
        slot = &req->path;
    else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
        slot = &req->content_type;
    if (!slot)
        return 0;
    free(*slot);
    *slot = ak_strndup_bytes(value, valuelen);
    return *slot ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int ak_h2_on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                               const uint8_t *data, size_t len, void *user_data)
{
    (void)flags;
    ak_http_conn_t *conn = user_data;
    ak_http_request_t *req = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!req || req->too_large || req->delivered)
        return 0;
    if (req->body.len + len > conn->server->max_body) {
        /* Keep reading (and discarding) to the end, then answer 413. */
        req->too_large = true;
        conn->h2_body_bytes -= req->body.len;
        ak_buf_free(&req->body);
        ak_buf_init(&req->body);
        return 0;
    }
    ak_buf_append(&req->body, data, len);
    if (ak_buf_failed(&req->body))
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    conn->h2_body_bytes += len;
    return 0;
}

static void ak_h2_deliver(ak_http_conn_t *conn, ak_http_request_t *req)
{
    ak_http_server_t *server = conn->server;
    conn->h2_body_bytes -= req->body.len;
    if (req->too_large) {
        ak_http_count(&server->stats.bad_requests, 1);
        static const char msg[] = "request body too large\n";
        ak_h2_submit(conn, req, 413, "text/plain", msg, sizeof msg - 1);
        return;
    }
    if (!req->method || !req->path) {
        ak_http_count(&server->stats.bad_requests, 1);
        static const char msg[] = "malformed request\n";
        ak_h2_submit(conn, req, 400, "text/plain", msg, sizeof msg - 1);
        return;
    }
    /* The handler may keep req but not these: they are released right after. */
    char *method = req->method, *path = req->path, *content_type = req->content_type;
    ak_buf_t body = req->body;
    req->method = req->path = req->content_type = NULL;
    ak_buf_init(&req->body);
    ak_http_request_info_t info = {
        .method = method,
        .path = path,
        .content_type = content_type,
        .body = body.data,
        .body_len = body.len,
        .http_version = 20,
        .local_port = server->port,
    };
    req->delivered = true;
    ak_http_count(&server->stats.requests, 1);
    server->handler(server->ctx, req, &info);
    free(method);
    free(path);
    free(content_type);
    ak_buf_free(&body);
}

static int ak_h2_on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                               void *user_data)
{
    ak_http_conn_t *conn = user_data;
    if (conn->dead)
        return 0;
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    ak_http_request_t *req = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!req || req->delivered || req->answered)
        return 0;
    ak_h2_deliver(conn, req);
    return 0;
}

static int ak_h2_on_stream_close(nghttp2_session *session, int32_t stream_id,
                                 uint32_t error_code, void *user_data)
{
    (void)error_code;
    ak_http_conn_t *conn = user_data;
    ak_http_request_t *req = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!req)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    if (!req->delivered && !req->answered)
        conn->h2_body_bytes -= req->body.len;
    if (req->delivered && !req->answered) {
        ak_request_orphan(req); /* the client reset the stream; the handler still holds req */
    } else {
        ak_request_unlink(req);
        ak_request_free(req);
    }
    return 0;
}

static nghttp2_session_callbacks *ak_h2_callbacks(void)
{
    nghttp2_session_callbacks *cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0)
        return NULL;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, ak_h2_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, ak_h2_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, ak_h2_on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, ak_h2_on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, ak_h2_on_stream_close);
    return cbs;
}

static bool ak_h2_start(ak_http_conn_t *conn)
{
    nghttp2_session_callbacks *cbs = ak_h2_callbacks();
    if (!cbs)
        return false;
    int rv = nghttp2_session_server_new(&conn->h2, cbs, conn);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
        conn->h2 = NULL;
        return false;
    }
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, AK_HTTP_H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, AK_HTTP_H2_STREAM_WINDOW},
    };
    if (nghttp2_submit_settings(conn->h2, NGHTTP2_FLAG_NONE, settings,
                                sizeof settings / sizeof settings[0]) != 0)
        return false;
    /* Many streams share the connection window: make it roomy so clients are
     * not throttled by it before the per-stream windows matter. */
    nghttp2_session_set_local_window_size(conn->h2, NGHTTP2_FLAG_NONE, 0, AK_HTTP_H2_CONN_WINDOW);
    return true;
}

static void ak_h2_feed(ak_http_conn_t *conn, const uint8_t *data, size_t len)
{
    ssize_t rv = nghttp2_session_mem_recv(conn->h2, data, len);
    if (conn->dead)
        return;
    if (rv < 0) {
        /* nghttp2 queued a GOAWAY where the protocol allows one: send it, then close. */
        conn->close_after_flush = true;
        conn->read_paused = true;
        ak_conn_wake(conn);
    }
}

/* Moves what nghttp2 wants to send into out, unless out is already full. */
static void ak_h2_pump(ak_http_conn_t *conn)
{
    while (conn->h2 && ak_conn_out_pending(conn) < AK_HTTP_OUT_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(conn->h2, &data);
        if (n < 0) {
            ak_conn_close(conn);
            return;
        }
        if (n == 0)
            break;
        ak_buf_append(&conn->out, data, (size_t)n);
    }
    if (conn->h2 && !nghttp2_session_want_read(conn->h2) && !nghttp2_session_want_write(conn->h2))
        conn->close_after_flush = true;
}

static bool ak_h2_can_read(const ak_http_conn_t *conn)
{
    size_t budget = conn->server->max_body * 2;
    if (budget < (size_t)64 * 1024 * 1024)
        budget = (size_t)64 * 1024 * 1024;
    return ak_conn_out_pending(conn) < AK_HTTP_OUT_HIGH && conn->h2_body_bytes < budget;
}

/* --- reading --- */

static void ak_conn_process(ak_http_conn_t *conn, const uint8_t *data, size_t len)
{
    if (conn->mode == AK_HTTP_CONN_DETECT) {
        size_t have = conn->in.len;
        size_t take = AK_H2_PREFACE_LEN - have;
        if (take > len)
            take = len;
        bool h2 = memcmp(data, ak_h2_preface + have, take) == 0;
        if (h2 && have + take < AK_H2_PREFACE_LEN) {
            ak_buf_append(&conn->in, data, len);
            return; /* still a prefix of the preface */
        }
        if (h2) {
            conn->mode = AK_HTTP_CONN_H2;
            if (!ak_h2_start(conn)) {
                ak_conn_close(conn);
                return;
            }
        } else {
            conn->mode = AK_HTTP_CONN_H1;
            http_parser_init(&conn->parser, HTTP_REQUEST);
            conn->parser.data = conn;
        }
        if (have) {
            /* Replay the bytes held back while deciding. */
            ak_buf_t head = conn->in;
            ak_buf_init(&conn->in);
            ak_conn_process(conn, head.data, head.len);
            ak_buf_free(&head);
            if (conn->dead || conn->read_paused) {
                if (!conn->dead && conn->mode == AK_HTTP_CONN_H1 && !conn->h1_failed &&
                    !conn->h1_stop)
                    ak_buf_append(&conn->in, data, len);
                return;
            }
        }
    }
    if (conn->mode == AK_HTTP_CONN_H1)
        ak_h1_feed(conn, data, len);
    else if (conn->mode == AK_HTTP_CONN_H2)
        ak_h2_feed(conn, data, len);
}

static bool ak_conn_can_read(const ak_http_conn_t *conn)
{
    if (conn->dead || conn->read_paused || conn->read_eof)
        return false;
    if (conn->mode == AK_HTTP_CONN_H2)
        return ak_h2_can_read(conn);
    return ak_conn_out_pending(conn) < AK_HTTP_OUT_HIGH;
}

/* The client closed its side. We cannot tell a half-close from a full one,
 * so we treat it as gone, as most servers treat an aborted client: what is
 * answered already goes out, requests still held become orphans. */
static void ak_conn_on_eof(ak_http_conn_t *conn)
{
    conn->read_eof = true;
    if (conn->mode == AK_HTTP_CONN_H1)
        ak_h1_drain(conn);
    else if (conn->mode == AK_HTTP_CONN_H2)
        ak_h2_pump(conn);
    if (!conn->dead)
        ak_conn_flush(conn);
    if (!conn->dead)
        ak_conn_close(conn);
}

static void ak_conn_read(ak_http_conn_t *conn)
{
    ak_http_server_t *server = conn->server;
    for (int i = 0; i < AK_HTTP_READS_PER_EVENT; i++) {
        if (conn->mode == AK_HTTP_CONN_LINGER) {
            ssize_t n = ak_conn_recv(conn, server->scratch, sizeof server->scratch);
            if (n == -1)
                return;
            if (n <= 0) {
                ak_conn_close(conn);
                return;
            }
            continue;
        }
        if (!ak_conn_can_read(conn))
            return;
        ssize_t n = ak_conn_recv(conn, server->scratch, sizeof server->scratch);
        if (n == -1)
            return;
        if (n == -2) {
            ak_conn_close(conn);
            return;
        }
        if (n == 0) {
            ak_conn_on_eof(conn);
            return;
        }
        ak_conn_process(conn, server->scratch, (size_t)n);
        if ((size_t)n < sizeof server->scratch)
            return; /* the socket is (very likely) empty: skip a read that would say EAGAIN */
    }
}

/* Writes answers, resumes paused reading, and repeats while answers keep
 * coming (a resumed parse may deliver requests the handler answers now). */
static void ak_conn_service(ak_http_conn_t *conn)
{
    bool was_busy = conn->busy;
    conn->busy = true;
    int rounds = 0;
    do {
        conn->need_service = false;
        if (conn->mode == AK_HTTP_CONN_H1)
            ak_h1_drain(conn);
        else if (conn->mode == AK_HTTP_CONN_H2)
            ak_h2_pump(conn);
        ak_conn_flush(conn);
        if (conn->dead)
            return;
        if (conn->mode == AK_HTTP_CONN_H1)
            ak_h1_maybe_resume(conn);
        if (conn->dead)
            return;
        if (conn->read_eof && !conn->req_head && ak_conn_out_pending(conn) == 0 &&
            conn->mode != AK_HTTP_CONN_LINGER) {
            ak_conn_close(conn);
            return;
        }
    } while (conn->need_service && ++rounds < 64);
    conn->busy = was_busy;
    if (conn->need_service && !conn->busy && !conn->service_scheduled) {
        /* Still more to do after many rounds: give other connections a turn. */
        if (ak_loop_defer(conn->server->loop, ak_conn_service_task, conn))
            conn->service_scheduled = true;
    }
    ak_conn_update_io(conn);
}

static void ak_conn_on_io(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    ak_http_conn_t *conn = io->data;
    if (conn->dead)
        return;
    conn->busy = true;
    /* A TLS read that waited for the socket to take handshake bytes goes on
     * when it is writable. */
    if (conn->tls && (events & AK_IO_WRITE) && (ak_tls_wanted_events(conn->tls) & AK_IO_WRITE) &&
        ak_conn_can_read(conn))
        events |= AK_IO_READ;
    if (events & AK_IO_READ) {
        bool reading = conn->mode == AK_HTTP_CONN_LINGER || ak_conn_can_read(conn);
        if (reading) {
            ak_conn_read(conn);
        } else if (!(io->events & AK_IO_READ)) {
            /* Only a hang-up or an error is reported while we do not read. */
            ak_conn_close(conn);
            return;
        }
        /* else: readiness from before we paused in this batch; ignore it */
    }
    if (conn->dead)
        return;
    if (conn->handshake_timer && ak_tls_handshake_done(conn->tls)) {
        ak_loop_timer_cancel(conn->server->loop, conn->handshake_timer);
        conn->handshake_timer = 0;
    }
    conn->busy = false;
    ak_conn_service(conn);
}

/* --- listener --- */

static void ak_server_accept_timer(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_http_server_t *server = arg;
    server->accept_timer = 0;
    ak_server_accept_resume(server);
}

static void ak_server_accept_resume(ak_http_server_t *server)
{
    if (!server->accept_paused || server->listen_fd < 0)
        return;
    server->accept_paused = false;
    ak_loop_io_set(server->loop, &server->listen_io, AK_IO_READ);
}

static void ak_server_accept_pause(ak_http_server_t *server, uint64_t retry_ms)
{
    server->accept_paused = true;
    ak_loop_io_set(server->loop, &server->listen_io, 0);
    if (retry_ms && !server->accept_timer)
        server->accept_timer =
            ak_loop_timer(server->loop, retry_ms, ak_server_accept_timer, server);
}

static void ak_conn_handshake_timeout(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_http_conn_t *conn = arg;
    conn->handshake_timer = 0;
    if (conn->dead || !conn->tls || ak_tls_handshake_done(conn->tls))
        return;
    ak_http_server_t *server = conn->server;
    char message[160];
    snprintf(message, sizeof message, "TLS handshake not finished within %u ms of connecting: closed",
             server->tls_handshake_timeout_ms);
    ak_http_count(&server->stats.tls_failures, 1);
    if (server->on_tls_error)
        server->on_tls_error(server->ctx, message);
    ak_conn_close(conn);
}

static void ak_server_on_accept(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)events;
    ak_http_server_t *server = io->data;
    for (int i = 0; i < 64; i++) {
        if (server->n_conns >= server->max_connections) {
            ak_server_accept_pause(server, 0); /* resumed when a connection closes */
            return;
        }
        int fd = ak_sock_accept(server->listen_fd);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                ak_server_accept_pause(server, AK_HTTP_ACCEPT_RETRY_MS);
            return;
        }
        ak_http_conn_t *conn = calloc(1, sizeof *conn);
        if (!conn) {
            close(fd);
            return;
        }
        conn->server = server;
        conn->fd = fd;
        if (server->tls && !(conn->tls = ak_tls_new(server->tls, fd, NULL))) {
            close(fd);
            free(conn);
            continue;
        }
        ak_buf_init(&conn->in);
        ak_buf_init(&conn->out);
        ak_buf_init(&conn->h1_url);
        ak_buf_init(&conn->h1_body);
        ak_buf_init(&conn->h1_ctype);
        ak_io_init(&conn->io, fd, ak_conn_on_io, conn);
        if (ak_loop_io_start(loop, &conn->io, AK_IO_READ, NULL) != AK_OK) {
            ak_tls_free(conn->tls);
            close(fd);
            free(conn);
            continue;
        }
        conn->next = server->conns;
        if (server->conns)
            server->conns->prev = conn;
        server->conns = conn;
        server->n_conns++;
        if (conn->tls)
            conn->handshake_timer =
                ak_loop_timer(loop, server->tls_handshake_timeout_ms, ak_conn_handshake_timeout, conn);
        ak_http_count(&server->stats.connections_accepted, 1);
        ak_http_count(&server->stats.connections_open, 1);
    }
}

ak_http_server_t *ak_http_server_new(ak_loop_t *loop, const ak_http_server_options_t *opts,
                                     ak_http_handler_fn handler, void *ctx, ak_error_t *err)
{
    if (!loop || !handler) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "http server: a loop and a handler are required");
        return NULL;
    }
    ak_http_server_options_t defaults = {0};
    if (!opts)
        opts = &defaults;
    ak_http_server_t *server = calloc(1, sizeof *server);
    if (!server) {
        ak_error_set(err, AK_ERR_NOMEM, "http server: no memory");
        return NULL;
    }
    server->loop = loop;
    server->handler = handler;
    server->ctx = ctx;
    server->on_tls_error = opts->on_tls_error;
    server->tls_handshake_timeout_ms =
        opts->tls_handshake_timeout_ms ? opts->tls_handshake_timeout_ms : AK_TLS_HANDSHAKE_TIMEOUT_MS;
    server->max_body = opts->max_body_bytes ? opts->max_body_bytes : AK_HTTP_DEFAULT_MAX_BODY;
    server->max_connections =
        opts->max_connections ? opts->max_connections : AK_HTTP_DEFAULT_MAX_CONNECTIONS;
    server->listen_fd = ak_sock_listen_shared(opts->host, opts->port, 1024, opts->reuse_port,
                                              &server->port, err);
    if (server->listen_fd < 0) {
        ak_error_prefix(err, "http server");
        free(server);
        return NULL;
    }
    ak_io_init(&server->listen_io, server->listen_fd, ak_server_on_accept, server);
    if (ak_loop_io_start(loop, &server->listen_io, AK_IO_READ, err) != AK_OK) {
        ak_error_prefix(err, "http server");
        close(server->listen_fd);
        free(server);
        return NULL;
    }
    server->tls = ak_tls_ctx_ref(opts->tls);
    return server;
}

uint16_t ak_http_server_port(const ak_http_server_t *server)
{
    return server->port;
}

void ak_http_server_stats(const ak_http_server_t *server, ak_http_server_stats_t *out)
{
    out->connections_accepted =
        __atomic_load_n(&server->stats.connections_accepted, __ATOMIC_RELAXED);
    out->connections_open = __atomic_load_n(&server->stats.connections_open, __ATOMIC_RELAXED);
    out->requests = __atomic_load_n(&server->stats.requests, __ATOMIC_RELAXED);
    out->bad_requests = __atomic_load_n(&server->stats.bad_requests, __ATOMIC_RELAXED);
    out->tls_failures = __atomic_load_n(&server->stats.tls_failures, __ATOMIC_RELAXED);
}

void ak_http_respond(ak_http_request_t *req, int status, const char *content_type,
                     const void *body, size_t body_len)
{
    if (!req)
        return;
    ak_http_conn_t *conn = req->conn;
    if (!conn) {
        /* Its connection is gone: nothing to send, only memory to release. */
        ak_request_unlink(req);
        ak_request_free(req);
        return;
    }
    if (req->answered)
        return; /* answered twice: the first answer stands */
    if (conn->mode == AK_HTTP_CONN_H2) {
        ak_h2_submit(conn, req, status, content_type, body, body_len);
        return;
    }
    if (req == conn->req_head && !req->close_after) {
        /* Its turn already: straight into the output, no intermediate copy. */
        ak_h1_write_response(&conn->out, status, content_type, body, body_len, false,
                             req->head_method);
        ak_request_unlink(req);
        ak_request_free(req);
    } else {
        ak_h1_write_response(&req->response, status, content_type, body, body_len,
                             req->close_after, req->head_method);
        req->answered = true;
    }
    ak_conn_wake(conn);
}

void ak_http_server_free(ak_http_server_t *server)
{
    if (!server)
        return;
    while (server->conns)
        ak_conn_close(server->conns);
    while (server->orphans) {
        ak_http_request_t *req = server->orphans;
        ak_request_unlink(req);
        ak_request_free(req);
    }
    if (server->accept_timer)
        ak_loop_timer_cancel(server->loop, server->accept_timer);
    ak_loop_io_stop(server->loop, &server->listen_io);
    close(server->listen_fd);
    ak_tls_ctx_free(server->tls);
    free(server);
}
