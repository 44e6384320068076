/*
 * ak_h2_client: h2c client connections on ak_loop (see ak_h2_client.h).
 *
 * nghttp2 runs in its "mem" mode: ak_h2_client_flush moves the frames it
 * wants to send into one output buffer and writes that with as few send()
 * calls as the socket allows, so the requests posted during one loop
 * iteration leave together. Posting only schedules a flush (at the end of
 * the io callback or timer we are in, else ak_loop_defer).
 *
 * Request state lives in ak_h2_req_t, which is also the nghttp2 stream's
 * user data; open requests are kept in post order, so the oldest is the
 * first to time out and one timer (armed for the head) covers them all.
 * A request leaves the open list exactly once, through ak_h2_req_complete,
 * which calls its done callback.
 *
 * Re-entrancy: callbacks may post, and may free the client, even from
 * inside nghttp2_session_mem_recv. Freeing marks the client dead and
 * defers the memory (and nghttp2_session_del) to the end of the loop
 * iteration; every path checks `dead` after calling out, and the nghttp2
 * callbacks then return NGHTTP2_ERR_CALLBACK_FAILURE to stop the session.
 */
#include "net/ak_h2_client.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ak_buf.h"
#include "net/ak_sock.h"

/* Unsent frames above which we stop asking nghttp2 for more until the
 * socket takes some: bounds our buffering when the server reads slowly. */
#define AK_H2_OUT_HIGH ((size_t)256 * 1024)
#define AK_H2_READ_CHUNK 65536
/* Reads per readiness event: amortises the wake-up without starving the
 * other connections on the loop. */
#define AK_H2_READS_PER_EVENT 8
#define AK_H2_DEFAULT_CONNECT_TIMEOUT_MS 10000
/* Our receive windows: responses are small, but let bigger ones stream. */
#define AK_H2_STREAM_WINDOW (1024 * 1024)
#define AK_H2_HOST_MAX 256
#define AK_H2_AUTHORITY_MAX (AK_H2_HOST_MAX + 8) /* "[host]:port" */
#define AK_H2_DETAIL_MAX 512

typedef struct ak_h2_req ak_h2_req_t;

struct ak_h2_req {
    ak_h2_client_t *client;
    ak_h2_req_t *prev, *next; /* the open list in post order, or the spare list (next) */
    const uint8_t *body;      /* the caller's, until done */
    size_t body_len, body_pos;
    ak_h2_done_fn done;
    void *ctx;
    uint64_t deadline_ms;
    int32_t stream_id;
    int status;
    size_t resp_len;
    bool complete; /* the response ended (END_STREAM) */
};

struct ak_h2_client {
    ak_loop_t *loop;
    char host[AK_H2_HOST_MAX];
    char authority[AK_H2_AUTHORITY_MAX];
    uint16_t port;
    ak_h2_client_options_t opts;
    ak_h2_client_event_fn on_state;
    void *ctx;
    ak_h2_client_state_t state;

    int fd;
    ak_io_t io;
    bool connected;       /* TCP connect completed */
    bool dead;            /* freed: memory goes in a deferred task */
    bool flush_scheduled; /* a deferred flush is queued */
    bool want_flush;      /* flush when the outermost callback returns */
    int depth;            /* inside our io callback or a timer */
    uint64_t connect_timer;
    uint64_t timeout_timer;

    nghttp2_session *session;
    ak_buf_t out;
    size_t out_pos;

    ak_h2_req_t *open_head, *open_tail;
    size_t n_open;
    ak_h2_req_t *spare;
    ak_h2_client_stats_t stats;
    uint8_t scratch[AK_H2_READ_CHUNK];
};

const char *ak_h2_client_state_name(ak_h2_client_state_t state)
{
    switch (state) {
    case AK_H2_CLIENT_CONNECTING: return "connecting";
    case AK_H2_CLIENT_READY: return "ready";
    case AK_H2_CLIENT_DRAINING: return "draining";
    case AK_H2_CLIENT_CLOSED: return "closed";
    }
    return "unknown";
}

const char *ak_h2_error_name(ak_h2_error_t error)
{
    switch (error) {
    case AK_H2_OK: return "ok";
    case AK_H2_ERR_REFUSED: return "refused";
    case AK_H2_ERR_RESET: return "reset";
    case AK_H2_ERR_TIMEOUT: return "timeout";
    case AK_H2_ERR_CONNECTION: return "connection";
    case AK_H2_ERR_CANCELLED: return "cancelled";
    }
    return "unknown";
}

static void ak_h2_client_flush(ak_h2_client_t *client);

/* ------------------------------------------------------------ requests */

static void ak_h2_req_unlink(ak_h2_client_t *client, ak_h2_req_t *req)
{
    if (req->prev)
        req->prev->next = req->next;
    else
        client->open_head = req->next;
    if (req->next)
        req->next->prev = req->prev;
    else
        client->open_tail = req->prev;
    req->prev = req->next = NULL;
    client->n_open--;
}

/* Takes req off the open list, recycles it and calls its done callback. */
static void ak_h2_req_complete(ak_h2_req_t *req, ak_h2_error_t error, const char *detail)
{
    ak_h2_client_t *client = req->client;
    ak_h2_req_unlink(client, req);
    ak_h2_response_t resp = {
        .error = error,
        .status = error == AK_H2_OK ? req->status : 0,
        .body_len = req->resp_len,
        .detail = error == AK_H2_OK ? NULL : detail,
    };
    ak_h2_done_fn done = req->done;
    void *ctx = req->ctx;
    req->body = NULL;
    req->done = NULL;
    req->next = client->spare;
    client->spare = req;
    if (error == AK_H2_OK)
        client->stats.responses++;
    else
        client->stats.errors++;
    done(ctx, &resp);
}

/* Completes every open request with error (stops early if a callback
 * freed the client: the free completes the rest). */
static void ak_h2_complete_all(ak_h2_client_t *client, ak_h2_error_t error, const char *detail)
{
    while (client->open_head && !client->dead)
        ak_h2_req_complete(client->open_head, error, detail);
}

/* ------------------------------------------------------------- closing */

static void ak_h2_cancel_timers(ak_h2_client_t *client)
{
    if (client->connect_timer)
        ak_loop_timer_cancel(client->loop, client->connect_timer);
    if (client->timeout_timer)
        ak_loop_timer_cancel(client->loop, client->timeout_timer);
    client->connect_timer = client->timeout_timer = 0;
}

static void ak_h2_close_socket(ak_h2_client_t *client)
{
    if (client->fd >= 0) {
        ak_loop_io_stop(client->loop, &client->io);
        close(client->fd);
        client->fd = -1;
    }
    ak_buf_free(&client->out);
    ak_buf_init(&client->out);
    client->out_pos = 0;
}

/* The connection is over (error, or a GOAWAY drained): close the socket,
 * fail what is still open, then tell the owner. The session is kept (we may
 * be inside it) and deleted with the client. */
static void ak_h2_client_close(ak_h2_client_t *client, const char *reason)
{
    if (client->dead || client->state == AK_H2_CLIENT_CLOSED)
        return;
    client->state = AK_H2_CLIENT_CLOSED;
    ak_h2_cancel_timers(client);
    ak_h2_close_socket(client);
    char detail[AK_H2_DETAIL_MAX];
    snprintf(detail, sizeof detail, "h2c %s: %s", client->authority, reason);
    ak_h2_complete_all(client, AK_H2_ERR_CONNECTION, detail);
    if (!client->dead && client->on_state)
        client->on_state(client->ctx, client, AK_H2_CLIENT_CLOSED, detail);
}

static void ak_h2_client_close_errno(ak_h2_client_t *client, const char *what, int errnum)
{
    char reason[160];
    snprintf(reason, sizeof reason, "%s: %s", what, strerror(errnum));
    ak_h2_client_close(client, reason);
}

/* ------------------------------------------------------- nghttp2 glue */

static ssize_t ak_h2_read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                               size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                               void *user_data)
{
    (void)source;
    (void)user_data;
    /* Looked up by stream rather than source.ptr: a timed-out request is
     * detached from its stream and its struct reused. */
    ak_h2_req_t *req = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!req)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
    size_t left = req->body_len - req->body_pos;
    size_t n = left < length ? left : length;
    if (n)
        memcpy(buf, req->body + req->body_pos, n);
    req->body_pos += n;
    if (req->body_pos == req->body_len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int ak_h2_on_header(nghttp2_session *session, const nghttp2_frame *frame,
                           const uint8_t *name, size_t namelen, const uint8_t *value,
                           size_t valuelen, uint8_t flags, void *user_data)
{
    (void)flags;
    ak_h2_client_t *client = user_data;
    if (client->dead)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (frame->hd.type != NGHTTP2_HEADERS || namelen != 7 || memcmp(name, ":status", 7) != 0)
        return 0;
    ak_h2_req_t *req = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!req)
        return 0;
    /* nghttp2 has checked it is three digits; a final status after 1xx wins. */
    int status = 0;
    for (size_t i = 0; i < valuelen; i++)
        status = status * 10 + (value[i] - '0');
    req->status = status;
    return 0;
}

static int ak_h2_on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                               const uint8_t *data, size_t len, void *user_data)
{
    (void)flags;
    (void)data;
    ak_h2_client_t *client = user_data;
    if (client->dead)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    ak_h2_req_t *req = nghttp2_session_get_stream_user_data(session, stream_id);
    if (req)
        req->resp_len += len;
    return 0;
}

static int ak_h2_on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                               void *user_data)
{
    ak_h2_client_t *client = user_data;
    if (client->dead)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    switch (frame->hd.type) {
    case NGHTTP2_SETTINGS:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK)
            return 0;
        client->stats.server_max_streams =
            nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
        if (client->state == AK_H2_CLIENT_CONNECTING) {
            client->state = AK_H2_CLIENT_READY;
            if (client->connect_timer)
                ak_loop_timer_cancel(client->loop, client->connect_timer);
            client->connect_timer = 0;
        }
        if (client->state == AK_H2_CLIENT_READY && client->on_state)
            client->on_state(client->ctx, client, AK_H2_CLIENT_READY, NULL);
        break;
    case NGHTTP2_GOAWAY:
        if (client->state == AK_H2_CLIENT_CONNECTING || client->state == AK_H2_CLIENT_READY) {
            client->state = AK_H2_CLIENT_DRAINING;
            char reason[160];
            snprintf(reason, sizeof reason, "GOAWAY %s, last stream %d",
                     nghttp2_http2_strerror(frame->goaway.error_code),
                     (int)frame->goaway.last_stream_id);
            if (client->on_state)
                client->on_state(client->ctx, client, AK_H2_CLIENT_DRAINING, reason);
        }
        break;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA:
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
            ak_h2_req_t *req = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
            if (req && req->status >= 200)
                req->complete = true;
        }
        break;
    default:
        break;
    }
    return client->dead ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static int ak_h2_on_stream_close(nghttp2_session *session, int32_t stream_id,
                                 uint32_t error_code, void *user_data)
{
    ak_h2_client_t *client = user_data;
    if (client->dead)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    ak_h2_req_t *req = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!req)
        return 0; /* timed out earlier */
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    char detail[AK_H2_DETAIL_MAX];
    if (req->complete) {
        ak_h2_req_complete(req, AK_H2_OK, NULL);
    } else if (error_code == NGHTTP2_REFUSED_STREAM) {
        snprintf(detail, sizeof detail, "h2c %s: stream %d refused by the server",
                 client->authority, (int)stream_id);
        ak_h2_req_complete(req, AK_H2_ERR_REFUSED, detail);
    } else {
        snprintf(detail, sizeof detail, "h2c %s: stream %d reset: %s", client->authority,
                 (int)stream_id, nghttp2_http2_strerror(error_code));
        ak_h2_req_complete(req, AK_H2_ERR_RESET, detail);
    }
    return client->dead ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

/* A request whose HEADERS never left (typically: a GOAWAY arrived first)
 * never opened a stream, so no stream close reports it. */
static int ak_h2_on_frame_not_send(nghttp2_session *session, const nghttp2_frame *frame,
                                   int lib_error_code, void *user_data)
{
    (void)session;
    ak_h2_client_t *client = user_data;
    if (client->dead)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    for (ak_h2_req_t *req = client->open_head; req; req = req->next) {
        if (req->stream_id != frame->hd.stream_id)
            continue;
        char detail[AK_H2_DETAIL_MAX];
        snprintf(detail, sizeof detail, "h2c %s: stream %d not sent: %s", client->authority,
                 (int)req->stream_id, nghttp2_strerror(lib_error_code));
        ak_h2_req_complete(req, AK_H2_ERR_REFUSED, detail);
        break;
    }
    return client->dead ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static ak_status_t ak_h2_session_start(ak_h2_client_t *client, ak_error_t *err)
{
    nghttp2_session_callbacks *cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0)
        return ak_error_set(err, AK_ERR_NOMEM, "h2c %s: no memory", client->authority);
    nghttp2_session_callbacks_set_on_header_callback(cbs, ak_h2_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, ak_h2_on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, ak_h2_on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, ak_h2_on_stream_close);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, ak_h2_on_frame_not_send);
    int rv = nghttp2_session_client_new(&client->session, cbs, client);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
        client->session = NULL;
        return ak_error_set(err, AK_ERR_NOMEM, "h2c %s: %s", client->authority,
                            nghttp2_strerror(rv));
    }
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, AK_H2_STREAM_WINDOW},
    };
    /* Queued now, sent right after the preface once the socket connects. */
    rv = nghttp2_submit_settings(client->session, NGHTTP2_FLAG_NONE, settings,
                                 sizeof settings / sizeof settings[0]);
    if (rv != 0)
        return ak_error_set(err, AK_ERR_NOMEM, "h2c %s: %s", client->authority,
                            nghttp2_strerror(rv));
    return AK_OK;
}

/* ------------------------------------------------------------- output */

static size_t ak_h2_out_pending(const ak_h2_client_t *client)
{
    return client->out.len - client->out_pos;
}

/* Moves nghttp2's frames into out (up to AK_H2_OUT_HIGH) and writes them;
 * watches for writability when the socket is full. Closes the client when
 * the session is finished (a GOAWAY with nothing left open). */
static void ak_h2_client_flush_frames(ak_h2_client_t *client)
{
    for (;;) {
        while (ak_h2_out_pending(client) < AK_H2_OUT_HIGH) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(client->session, &data);
            if (n < 0) {
                ak_h2_client_close(client, nghttp2_strerror((int)n));
                return;
            }
            if (n == 0)
                break;
            ak_buf_append(&client->out, data, (size_t)n);
        }
        if (ak_buf_failed(&client->out)) {
            ak_h2_client_close(client, "no memory for output");
            return;
        }
        if (ak_h2_out_pending(client) == 0)
            break;
        ssize_t w = send(client->fd, client->out.data + client->out_pos, ak_h2_out_pending(client),
                         MSG_NOSIGNAL);
        if (w > 0) {
            client->out_pos += (size_t)w;
            if (client->out_pos == client->out.len)
                client->out.len = client->out_pos = 0;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ak_loop_io_set(client->loop, &client->io, AK_IO_READ | AK_IO_WRITE);
            return;
        }
        ak_h2_client_close_errno(client, "send", w < 0 ? errno : EPIPE);
        return;
    }
    ak_loop_io_set(client->loop, &client->io, AK_IO_READ);
    if (client->dead || client->state == AK_H2_CLIENT_CLOSED)
        return;
    if (!nghttp2_session_want_read(client->session) &&
        !nghttp2_session_want_write(client->session))
        ak_h2_client_close(client, client->state == AK_H2_CLIENT_DRAINING
                                       ? "closed after GOAWAY"
                                       : "session finished");
}

static void ak_h2_enter(ak_h2_client_t *client)
{
    client->depth++;
}

static void ak_h2_leave(ak_h2_client_t *client)
{
    if (--client->depth == 0 && client->want_flush && !client->dead)
        ak_h2_client_flush(client);
}

static void ak_h2_client_flush(ak_h2_client_t *client)
{
    client->want_flush = false;
    if (client->dead || client->state == AK_H2_CLIENT_CLOSED || !client->connected)
        return;
    /* Callbacks inside mem_send (a stream closing) may post: the loop
     * below picks their frames up, so they need no flush of their own. */
    client->depth++;
    ak_h2_client_flush_frames(client);
    client->depth--;
}

static void ak_h2_flush_task(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_h2_client_t *client = arg;
    client->flush_scheduled = false;
    ak_h2_client_flush(client);
}

/* Asks for a flush: when the outermost of our callbacks returns, or at the
 * end of this loop iteration, so requests posted together leave together. */
static void ak_h2_client_want_flush(ak_h2_client_t *client)
{
    if (client->depth > 0) {
        client->want_flush = true;
        return;
    }
    if (client->flush_scheduled)
        return;
    if (ak_loop_defer(client->loop, ak_h2_flush_task, client))
        client->flush_scheduled = true;
    else
        ak_h2_client_flush(client);
}

/* -------------------------------------------------------------- input */

static void ak_h2_client_read(ak_h2_client_t *client)
{
    for (int i = 0; i < AK_H2_READS_PER_EVENT; i++) {
        ssize_t n = read(client->fd, client->scratch, sizeof client->scratch);
        if (n > 0) {
            ssize_t rv = nghttp2_session_mem_recv(client->session, client->scratch, (size_t)n);
            if (client->dead || client->state == AK_H2_CLIENT_CLOSED)
                return;
            if (rv < 0) {
                /* nghttp2 may have queued a GOAWAY saying why: try to send it. */
                const char *why = nghttp2_strerror((int)rv);
                ak_h2_client_flush(client);
                ak_h2_client_close(client, why);
                return;
            }
            if ((size_t)n < sizeof client->scratch)
                break; /* drained */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n == 0)
            ak_h2_client_close(client, "connection closed by the server");
        else
            ak_h2_client_close_errno(client, "read", errno);
        return;
    }
    client->want_flush = true; /* acks and window updates nghttp2 queued */
}

static void ak_h2_client_io(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    ak_h2_client_t *client = io->data;
    ak_h2_enter(client);
    if (!client->connected) {
        int result = ak_sock_connect_result(client->fd);
        if (result != 0) {
            ak_h2_client_close_errno(client, "connect", result);
        } else {
            client->connected = true;
            client->want_flush = true; /* the preface and our SETTINGS */
        }
    } else {
        if (events & AK_IO_READ)
            ak_h2_client_read(client);
        if ((events & AK_IO_WRITE) && !client->dead)
            client->want_flush = true;
    }
    ak_h2_leave(client);
}

/* ------------------------------------------------------------- timers */

static void ak_h2_connect_timeout(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_h2_client_t *client = arg;
    client->connect_timer = 0;
    char reason[96];
    snprintf(reason, sizeof reason, "%s within %u ms",
             client->connected ? "no SETTINGS from the server" : "no connection",
             (unsigned)client->opts.connect_timeout_ms);
    ak_h2_client_close(client, reason);
}

static void ak_h2_arm_timeout(ak_h2_client_t *client);

/* Cancels the open requests past their deadline (oldest first) and
 * re-arms for the next one. */
static void ak_h2_request_timeout(ak_loop_t *loop, void *arg)
{
    ak_h2_client_t *client = arg;
    client->timeout_timer = 0;
    ak_h2_enter(client);
    uint64_t now = ak_loop_now_ms(loop);
    char detail[AK_H2_DETAIL_MAX];
    while (!client->dead && client->open_head && client->open_head->deadline_ms <= now) {
        ak_h2_req_t *req = client->open_head;
        /* Detach it from its stream first: nghttp2 may still read its body
         * or report the stream's close, and the struct is reused at once. */
        nghttp2_session_set_stream_user_data(client->session, req->stream_id, NULL);
        nghttp2_submit_rst_stream(client->session, NGHTTP2_FLAG_NONE, req->stream_id,
                                  NGHTTP2_CANCEL);
        client->want_flush = true;
        snprintf(detail, sizeof detail, "h2c %s: stream %d: no response within %u ms",
                 client->authority, (int)req->stream_id,
                 (unsigned)client->opts.request_timeout_ms);
        ak_h2_req_complete(req, AK_H2_ERR_TIMEOUT, detail);
    }
    if (!client->dead)
        ak_h2_arm_timeout(client);
    ak_h2_leave(client);
}

static void ak_h2_arm_timeout(ak_h2_client_t *client)
{
    if (client->timeout_timer || !client->open_head || !client->opts.request_timeout_ms ||
        client->state == AK_H2_CLIENT_CLOSED)
        return;
    uint64_t now = ak_loop_now_ms(client->loop);
    uint64_t due = client->open_head->deadline_ms;
    client->timeout_timer =
        ak_loop_timer(client->loop, due > now ? due - now : 0, ak_h2_request_timeout, client);
}

/* ------------------------------------------------------------- public */

ak_h2_client_t *ak_h2_client_new(ak_loop_t *loop, const char *host, uint16_t port,
                                 const ak_h2_client_options_t *opts,
                                 ak_h2_client_event_fn on_state, void *ctx, ak_error_t *err)
{
    if (!loop || !host || !*host || port == 0) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "h2c client: need a loop, a host and a port");
        return NULL;
    }
    if (strlen(host) >= AK_H2_HOST_MAX) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "h2c client: host name too long");
        return NULL;
    }
    ak_h2_client_t *client = calloc(1, sizeof *client);
    if (!client) {
        ak_error_set(err, AK_ERR_NOMEM, "h2c %s:%u: no memory", host, port);
        return NULL;
    }
    client->loop = loop;
    client->port = port;
    client->fd = -1;
    client->on_state = on_state;
    client->ctx = ctx;
    client->state = AK_H2_CLIENT_CONNECTING;
    if (opts)
        client->opts = *opts;
    if (!client->opts.connect_timeout_ms)
        client->opts.connect_timeout_ms = AK_H2_DEFAULT_CONNECT_TIMEOUT_MS;
    snprintf(client->host, sizeof client->host, "%s", host);
    snprintf(client->authority, sizeof client->authority,
             strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
    ak_buf_init(&client->out);

    if (ak_h2_session_start(client, err) != AK_OK)
        goto fail;
    client->fd = ak_sock_connect(host, port, err);
    if (client->fd < 0)
        goto fail;
    ak_io_init(&client->io, client->fd, ak_h2_client_io, client);
    if (ak_loop_io_start(loop, &client->io, AK_IO_WRITE, err) != AK_OK)
        goto fail;
    client->connect_timer =
        ak_loop_timer(loop, client->opts.connect_timeout_ms, ak_h2_connect_timeout, client);
    return client;
fail:
    if (client->fd >= 0)
        close(client->fd);
    if (client->session)
        nghttp2_session_del(client->session);
    ak_buf_free(&client->out);
    free(client);
    return NULL;
}

ak_h2_client_state_t ak_h2_client_state(const ak_h2_client_t *client)
{
    return client->state;
}

bool ak_h2_client_ready(const ak_h2_client_t *client)
{
    return !client->dead && client->state == AK_H2_CLIENT_READY;
}

size_t ak_h2_client_capacity(const ak_h2_client_t *client)
{
    if (!ak_h2_client_ready(client))
        return 0;
    size_t limit = client->stats.server_max_streams;
    if (client->opts.max_streams && client->opts.max_streams < limit)
        limit = client->opts.max_streams;
    return client->n_open < limit ? limit - client->n_open : 0;
}

size_t ak_h2_client_in_flight(const ak_h2_client_t *client)
{
    return client->n_open;
}

ak_status_t ak_h2_client_post(ak_h2_client_t *client, const char *path, const uint8_t *body,
                              size_t len, ak_h2_done_fn done, void *req_ctx, ak_error_t *err)
{
    if (!path || !done || (!body && len))
        return ak_error_set(err, AK_ERR_INVALID_ARG, "h2c post: need a path, a body and a callback");
    if (!ak_h2_client_ready(client))
        return ak_error_set(err, AK_ERR_IO, "h2c %s: cannot post while %s", client->authority,
                            client->dead ? "freed" : ak_h2_client_state_name(client->state));
    if (ak_h2_client_capacity(client) == 0)
        return ak_error_set(err, AK_ERR_LIMIT, "h2c %s: %zu streams open, no room for more",
                            client->authority, client->n_open);
    ak_h2_req_t *req = client->spare;
    if (req) {
        client->spare = req->next;
    } else {
        req = malloc(sizeof *req);
        if (!req)
            return ak_error_set(err, AK_ERR_NOMEM, "h2c %s: no memory for a request",
                                client->authority);
    }
    *req = (ak_h2_req_t){
        .client = client,
        .body = body,
        .body_len = len,
        .done = done,
        .ctx = req_ctx,
        .deadline_ms = ak_loop_now_ms(client->loop) + client->opts.request_timeout_ms,
    };
    char length_text[24];
    snprintf(length_text, sizeof length_text, "%zu", len);
    nghttp2_nv nva[6];
    size_t n = 0;
#define AK_NV(name, value)                                                                         \
    nva[n++] = (nghttp2_nv){(uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1,              \
                            strlen(value), NGHTTP2_NV_FLAG_NO_COPY_NAME}
    AK_NV(":method", "POST");
    AK_NV(":scheme", "http");
    AK_NV(":authority", client->authority);
    AK_NV(":path", path);
    AK_NV("content-type", "application/octet-stream");
    AK_NV("content-length", length_text);
#undef AK_NV
    nghttp2_data_provider provider = {.source.ptr = req, .read_callback = ak_h2_read_body};
    int32_t stream_id =
        nghttp2_submit_request(client->session, NULL, nva, n, len ? &provider : NULL, req);
    if (stream_id < 0) {
        req->next = client->spare;
        client->spare = req;
        return ak_error_set(err, stream_id == NGHTTP2_ERR_NOMEM ? AK_ERR_NOMEM : AK_ERR_IO,
                            "h2c %s: cannot submit a request: %s", client->authority,
                            nghttp2_strerror(stream_id));
    }
    req->stream_id = stream_id;
    req->prev = client->open_tail;
    if (client->open_tail)
        client->open_tail->next = req;
    else
        client->open_head = req;
    client->open_tail = req;
    client->n_open++;
    client->stats.requests++;
    if (client->n_open > client->stats.max_open)
        client->stats.max_open = (uint32_t)client->n_open;
    ak_h2_arm_timeout(client);
    ak_h2_client_want_flush(client);
    return AK_OK;
}

void ak_h2_client_stats(const ak_h2_client_t *client, ak_h2_client_stats_t *out)
{
    *out = client->stats;
}

static void ak_h2_client_free_task(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_h2_client_t *client = arg;
    if (client->session)
        nghttp2_session_del(client->session); /* calls no callbacks */
    while (client->spare) {
        ak_h2_req_t *req = client->spare;
        client->spare = req->next;
        free(req);
    }
    ak_buf_free(&client->out);
    free(client);
}

void ak_h2_client_free(ak_h2_client_t *client)
{
    if (!client || client->dead)
        return;
    /* Dead first: posts from the callbacks below fail, a nested free
     * returns at once, and every path that called out stops. */
    client->dead = true;
    client->state = AK_H2_CLIENT_CLOSED;
    ak_h2_cancel_timers(client);
    ak_h2_close_socket(client);
    char detail[AK_H2_DETAIL_MAX];
    snprintf(detail, sizeof detail, "h2c %s: client freed", client->authority);
    while (client->open_head)
        ak_h2_req_complete(client->open_head, AK_H2_ERR_CANCELLED, detail);
    /* We may be inside nghttp2 or our io callback: the memory goes after
     * the current batch of events. */
    if (!ak_loop_defer(client->loop, ak_h2_client_free_task, client) && client->depth == 0)
        ak_h2_client_free_task(client->loop, client);
}
