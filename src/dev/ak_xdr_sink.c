/*
 * ak_xdr_sink: see ak_xdr_sink.h.
 *
 * The TCP path is what benchmarks compare against, so it does the least a
 * correct acknowledger can do: one recv into a per-connection buffer, frame
 * scanning with ak_frame_next (headers only), a 30-byte reply copied from a
 * template built once with ak_msg_write_reply, and one send per batch.
 */
#include "dev/ak_xdr_sink.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ak_buf.h"
#include "net/ak_http_server.h"
#include "net/ak_sock.h"
#include "wire/ak_info.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"

#define AK_XDR_SINK_READ_CAP ((size_t)256 * 1024)
/* Unsent replies above which we stop reading: the shipper is not reading
 * its acknowledgements, and we must not buffer without bound. */
#define AK_XDR_SINK_OUT_HIGH ((size_t)4 * 1024 * 1024)
#define AK_XDR_SINK_REPLY_SIZE (AK_PROTO_HEADER_SIZE + AK_MSG_HEADER_SIZE)
#define AK_XDR_SINK_ADMIN_HEADER_SIZE 16
#define AK_XDR_SINK_ACCEPT_RETRY_MS 100

typedef struct ak_xdr_sink_conn ak_xdr_sink_conn_t;

struct ak_xdr_sink_conn {
    ak_xdr_sink_t *sink;
    ak_xdr_sink_conn_t *prev, *next;
    ak_io_t io;
    int fd;
    bool dead;
    bool stalled;  /* a held message blocks every later answer here */
    uint8_t *in;
    size_t in_len, in_cap;
    uint64_t stream_offset; /* of in[0], for error messages */
    ak_buf_t out;
    size_t out_pos;
};

struct ak_xdr_sink {
    ak_loop_t *loop;
    ak_xdr_sink_protocol_t protocol;
    ak_xdr_sink_message_fn on_message;
    void *ctx;
    uint64_t hold_first;
    uint64_t next_index;   /* messages seen */
    uint64_t next_answer;  /* answers given: picks the next code */

    uint8_t *answers;
    size_t n_answers;
    uint8_t (*replies)[AK_XDR_SINK_REPLY_SIZE]; /* one template per answer */
    int *statuses;
    size_t n_statuses;

    /* TCP */
    int listen_fd;
    ak_io_t listen_io;
    bool accept_paused;
    uint64_t accept_timer;
    uint16_t port;
    ak_xdr_sink_conn_t *conns;

    /* HTTP */
    ak_http_server_t *http;

    ak_xdr_sink_stats_t stats;
};

/* One writer (the loop thread), readers anywhere: a relaxed load and store
 * keep values whole without the cost of a locked add on the hot path. */
static inline void ak_xdr_sink_add(uint64_t *counter, uint64_t n)
{
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

int ak_xdr_sink_protocol_parse(const char *name, ak_xdr_sink_protocol_t *out)
{
    if (strcmp(name, "tcp") == 0) {
        *out = AK_XDR_SINK_TCP;
        return 0;
    }
    if (strcmp(name, "http") == 0) {
        *out = AK_XDR_SINK_HTTP;
        return 0;
    }
    return -1;
}

/* --- TCP --- */

static void ak_xdr_sink_conn_free_task(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_xdr_sink_conn_t *conn = arg;
    free(conn->in);
    ak_buf_free(&conn->out);
    free(conn);
}

static void ak_xdr_sink_accept_resume(ak_xdr_sink_t *sink);

static void ak_xdr_sink_conn_close(ak_xdr_sink_conn_t *conn)
{
    if (conn->dead)
        return;
    ak_xdr_sink_t *sink = conn->sink;
    conn->dead = true;
    ak_loop_io_stop(sink->loop, &conn->io);
    close(conn->fd);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        sink->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    /* Events for this io may still be pending in the current batch. */
    if (!ak_loop_defer(sink->loop, ak_xdr_sink_conn_free_task, conn))
        ak_xdr_sink_conn_free_task(sink->loop, conn);
    ak_xdr_sink_accept_resume(sink);
}

static size_t ak_xdr_sink_out_pending(const ak_xdr_sink_conn_t *conn)
{
    return conn->out.len - conn->out_pos;
}

static void ak_xdr_sink_conn_update_io(ak_xdr_sink_conn_t *conn)
{
    unsigned events = 0;
    size_t pending = ak_xdr_sink_out_pending(conn);
    if (pending < AK_XDR_SINK_OUT_HIGH)
        events |= AK_IO_READ;
    if (pending)
        events |= AK_IO_WRITE;
    ak_loop_io_set(conn->sink->loop, &conn->io, events);
}

/* false if the connection was closed. */
static bool ak_xdr_sink_conn_flush(ak_xdr_sink_conn_t *conn)
{
    while (ak_xdr_sink_out_pending(conn)) {
        ssize_t n = send(conn->fd, conn->out.data + conn->out_pos, ak_xdr_sink_out_pending(conn),
                         MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            ak_xdr_sink_conn_close(conn);
            return false;
        }
        conn->out_pos += (size_t)n;
    }
    if (!ak_xdr_sink_out_pending(conn)) {
        ak_buf_clear(&conn->out);
        conn->out_pos = 0;
    }
    if (ak_buf_failed(&conn->out)) {
        ak_xdr_sink_conn_close(conn);
        return false;
    }
    return true;
}

/* An info response with each requested name and an empty value. */
static void ak_xdr_sink_info_reply(ak_buf_t *out, const uint8_t *body, size_t len)
{
    size_t start = out->len;
    ak_buf_append_zeros(out, AK_PROTO_HEADER_SIZE);
    ak_info_iter_t iter;
    ak_info_pair_t pair;
    ak_info_iter_init(&iter, (const char *)body, len);
    while (ak_info_iter_next(&iter, &pair)) {
        ak_buf_append(out, pair.name, pair.name_len);
        ak_buf_append(out, "\t\n", 2);
    }
    if (!ak_buf_failed(out))
        ak_proto_header_write(out->data + start, AK_PROTO_TYPE_INFO,
                              out->len - start - AK_PROTO_HEADER_SIZE);
}

/* Answers (or holds) one message; the caller appends nothing else for it. */
static void ak_xdr_sink_tcp_message(ak_xdr_sink_conn_t *conn, const uint8_t *frame, size_t len)
{
    ak_xdr_sink_t *sink = conn->sink;
    uint64_t index = sink->next_index++;
    ak_xdr_sink_add(&sink->stats.received, 1);
    if (sink->on_message)
        sink->on_message(sink->ctx, frame, len, index);
    if (index < sink->hold_first)
        conn->stalled = true;
    if (conn->stalled) {
        ak_xdr_sink_add(&sink->stats.held, 1);
        return;
    }
    size_t slot = (size_t)(sink->next_answer++ % sink->n_answers);
    ak_buf_append(&conn->out, sink->replies[slot], AK_XDR_SINK_REPLY_SIZE);
    ak_xdr_sink_add(&sink->stats.answered, 1);
    ak_xdr_sink_add(&sink->stats.answered_by_code[sink->answers[slot]], 1);
}

/* Frames every complete message in conn->in. false if the connection was
 * closed (a bad frame header). */
static bool ak_xdr_sink_conn_consume(ak_xdr_sink_conn_t *conn)
{
    ak_xdr_sink_t *sink = conn->sink;
    size_t pos = 0;
    for (;;) {
        ak_frame_t frame;
        size_t consumed;
        ak_frame_scan_t scan = ak_frame_next(conn->in + pos, conn->in_len - pos,
                                             (size_t)conn->stream_offset + pos, &frame, &consumed,
                                             NULL);
        if (scan == AK_FRAME_ERROR) {
            ak_xdr_sink_add(&sink->stats.malformed, 1);
            ak_xdr_sink_conn_flush(conn); /* answers already owed still go */
            ak_xdr_sink_conn_close(conn);
            return false;
        }
        if (scan == AK_FRAME_NEED_MORE)
            break;
        const uint8_t *bytes = conn->in + pos;
        switch (frame.header.type) {
        case AK_PROTO_TYPE_MESSAGE:
        case AK_PROTO_TYPE_COMPRESSED:
            ak_xdr_sink_tcp_message(conn, bytes, consumed);
            break;
        case AK_PROTO_TYPE_INFO:
            if (!conn->stalled) {
                ak_xdr_sink_info_reply(&conn->out, frame.body, (size_t)frame.header.size);
                ak_xdr_sink_add(&sink->stats.info, 1);
            }
            break;
        default: {
            /* Admin (login): a server without security would not be asked;
             * answering success keeps a shipper configured with a user going. */
            if (!conn->stalled) {
                uint8_t reply[AK_PROTO_HEADER_SIZE + AK_XDR_SINK_ADMIN_HEADER_SIZE] = {0};
                ak_proto_header_write(reply, AK_PROTO_TYPE_ADMIN, AK_XDR_SINK_ADMIN_HEADER_SIZE);
                if (frame.header.size >= 3)
                    reply[AK_PROTO_HEADER_SIZE + 2] = frame.body[2]; /* the command */
                ak_buf_append(&conn->out, reply, sizeof reply);
            }
            break;
        }
        }
        pos += consumed;
    }
    if (pos) {
        conn->in_len -= pos;
        if (conn->in_len)
            memmove(conn->in, conn->in + pos, conn->in_len);
        conn->stream_offset += pos;
    }
    /* A frame larger than the buffer: grow to hold it whole (the protocol
     * caps frames at 128 MiB, and ak_frame_next checked the header). */
    if (conn->in_len >= AK_PROTO_HEADER_SIZE) {
        uint64_t need = AK_PROTO_HEADER_SIZE + (((uint64_t)ak_get_be16(conn->in + 2) << 32) |
                                                ak_get_be32(conn->in + 4));
        if (need > conn->in_cap) {
            uint8_t *bigger = realloc(conn->in, (size_t)need);
            if (!bigger) {
                ak_xdr_sink_conn_close(conn);
                return false;
            }
            conn->in = bigger;
            conn->in_cap = (size_t)need;
        }
    } else if (conn->in_len == 0 && conn->in_cap > AK_XDR_SINK_READ_CAP) {
        uint8_t *smaller = realloc(conn->in, AK_XDR_SINK_READ_CAP);
        if (smaller) {
            conn->in = smaller;
            conn->in_cap = AK_XDR_SINK_READ_CAP;
        }
    }
    return true;
}

static void ak_xdr_sink_conn_on_io(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    ak_xdr_sink_conn_t *conn = io->data;
    ak_xdr_sink_t *sink = conn->sink;
    if (conn->dead)
        return;
    if (events & AK_IO_READ) {
        if (!(io->events & AK_IO_READ)) {
            /* Not reading: only a hang-up or an error gets reported. */
            ak_xdr_sink_conn_close(conn);
            return;
        }
        ssize_t n;
        do {
            n = recv(conn->fd, conn->in + conn->in_len, conn->in_cap - conn->in_len, 0);
        } while (n < 0 && errno == EINTR);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            /* Answer what is owed before closing: a half-closed shipper may
             * still read. */
            if (n == 0)
                ak_xdr_sink_conn_flush(conn);
            if (!conn->dead)
                ak_xdr_sink_conn_close(conn);
            return;
        }
        if (n > 0) {
            conn->in_len += (size_t)n;
            ak_xdr_sink_add(&sink->stats.bytes, (uint64_t)n);
            if (!ak_xdr_sink_conn_consume(conn))
                return;
        }
    }
    if (!ak_xdr_sink_conn_flush(conn))
        return;
    ak_xdr_sink_conn_update_io(conn);
}

static void ak_xdr_sink_accept_timer(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_xdr_sink_t *sink = arg;
    sink->accept_timer = 0;
    ak_xdr_sink_accept_resume(sink);
}

static void ak_xdr_sink_accept_resume(ak_xdr_sink_t *sink)
{
    if (!sink->accept_paused)
        return;
    sink->accept_paused = false;
    ak_loop_io_set(sink->loop, &sink->listen_io, AK_IO_READ);
}

static void ak_xdr_sink_on_accept(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)events;
    ak_xdr_sink_t *sink = io->data;
    for (int i = 0; i < 64; i++) {
        int fd = ak_sock_accept(sink->listen_fd);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: wait instead of spinning on a ready listener. */
                sink->accept_paused = true;
                ak_loop_io_set(loop, &sink->listen_io, 0);
                if (!sink->accept_timer)
                    sink->accept_timer =
                        ak_loop_timer(loop, AK_XDR_SINK_ACCEPT_RETRY_MS, ak_xdr_sink_accept_timer, sink);
            }
            return;
        }
        ak_xdr_sink_conn_t *conn = calloc(1, sizeof *conn);
        uint8_t *in = malloc(AK_XDR_SINK_READ_CAP);
        if (!conn || !in) {
            free(conn);
            free(in);
            close(fd);
            continue;
        }
        conn->sink = sink;
        conn->fd = fd;
        conn->in = in;
        conn->in_cap = AK_XDR_SINK_READ_CAP;
        ak_buf_init(&conn->out);
        ak_io_init(&conn->io, fd, ak_xdr_sink_conn_on_io, conn);
        if (ak_loop_io_start(loop, &conn->io, AK_IO_READ, NULL) != AK_OK) {
            free(in);
            free(conn);
            close(fd);
            continue;
        }
        conn->next = sink->conns;
        if (sink->conns)
            sink->conns->prev = conn;
        sink->conns = conn;
        ak_xdr_sink_add(&sink->stats.connections, 1);
    }
}

/* --- HTTP --- */

static void ak_xdr_sink_http_handler(void *ctx, ak_http_request_t *req,
                                     const ak_http_request_info_t *info)
{
    ak_xdr_sink_t *sink = ctx;
    if (strcmp(info->method, "GET") == 0 || strcmp(info->method, "HEAD") == 0) {
        ak_xdr_sink_add(&sink->stats.info, 1);
        ak_http_respond(req, 200, "text/plain", "ok", 2);
        return;
    }
    if (strcmp(info->method, "POST") != 0) {
        static const char msg[] = "only GET and POST\n";
        ak_xdr_sink_add(&sink->stats.malformed, 1);
        ak_http_respond(req, 405, "text/plain", msg, sizeof msg - 1);
        return;
    }
    if (info->body_len == 0) {
        static const char msg[] = "empty body: expected a version byte and a message\n";
        ak_xdr_sink_add(&sink->stats.malformed, 1);
        ak_http_respond(req, 400, "text/plain", msg, sizeof msg - 1);
        return;
    }
    if (info->body[0] != 1) {
        static const char msg[] = "unsupported version byte (expected 1)\n";
        ak_xdr_sink_add(&sink->stats.malformed, 1);
        ak_http_respond(req, 501, "text/plain", msg, sizeof msg - 1);
        return;
    }
    uint64_t index = sink->next_index++;
    ak_xdr_sink_add(&sink->stats.received, 1);
    ak_xdr_sink_add(&sink->stats.bytes, info->body_len);
    if (sink->on_message)
        sink->on_message(sink->ctx, info->body + 1, info->body_len - 1, index);
    if (index < sink->hold_first) {
        /* Never answered: the server releases req when it is freed. */
        ak_xdr_sink_add(&sink->stats.held, 1);
        return;
    }
    size_t slot = (size_t)(sink->next_answer++ % sink->n_statuses);
    int status = sink->statuses[slot];
    ak_xdr_sink_add(&sink->stats.answered, 1);
    if (status >= 0 && status < AK_XDR_SINK_CODE_SLOTS)
        ak_xdr_sink_add(&sink->stats.answered_by_code[status], 1);
    ak_http_respond(req, status, NULL, NULL, 0);
}

/* --- life cycle --- */

ak_xdr_sink_t *ak_xdr_sink_new(ak_loop_t *loop, const ak_xdr_sink_options_t *opts,
                               ak_error_t *err)
{
    static const uint8_t default_answer = 0;
    static const int default_status = 200;
    ak_xdr_sink_t *sink = calloc(1, sizeof *sink);
    if (!sink) {
        ak_error_set(err, AK_ERR_NOMEM, "xdr sink: no memory");
        return NULL;
    }
    sink->loop = loop;
    sink->protocol = opts->protocol;
    sink->on_message = opts->on_message;
    sink->ctx = opts->ctx;
    sink->hold_first = opts->hold_first;
    sink->listen_fd = -1;

    const uint8_t *answers = opts->n_answers ? opts->answers : &default_answer;
    sink->n_answers = opts->n_answers ? opts->n_answers : 1;
    const int *statuses = opts->n_http_statuses ? opts->http_statuses : &default_status;
    sink->n_statuses = opts->n_http_statuses ? opts->n_http_statuses : 1;
    for (size_t i = 0; i < sink->n_statuses; i++) {
        if (statuses[i] < 100 || statuses[i] > 599) {
            ak_error_set(err, AK_ERR_INVALID_ARG, "xdr sink: HTTP status %d is not 100..599",
                         statuses[i]);
            free(sink);
            return NULL;
        }
    }
    sink->answers = malloc(sink->n_answers);
    sink->replies = malloc(sink->n_answers * sizeof *sink->replies);
    sink->statuses = malloc(sink->n_statuses * sizeof *sink->statuses);
    if (!sink->answers || !sink->replies || !sink->statuses) {
        ak_error_set(err, AK_ERR_NOMEM, "xdr sink: no memory");
        ak_xdr_sink_free(sink);
        return NULL;
    }
    memcpy(sink->answers, answers, sink->n_answers);
    memcpy(sink->statuses, statuses, sink->n_statuses * sizeof *sink->statuses);
    for (size_t i = 0; i < sink->n_answers; i++) {
        ak_buf_t reply;
        ak_buf_init(&reply);
        ak_msg_write_reply(&reply, answers[i], 0, 0);
        if (ak_buf_failed(&reply) || reply.len != AK_XDR_SINK_REPLY_SIZE) {
            ak_buf_free(&reply);
            ak_error_set(err, AK_ERR_NOMEM, "xdr sink: no memory");
            ak_xdr_sink_free(sink);
            return NULL;
        }
        memcpy(sink->replies[i], reply.data, AK_XDR_SINK_REPLY_SIZE);
        ak_buf_free(&reply);
    }

    if (opts->protocol == AK_XDR_SINK_HTTP) {
        ak_http_server_options_t http_opts = {.host = opts->host, .port = opts->port};
        sink->http = ak_http_server_new(loop, &http_opts, ak_xdr_sink_http_handler, sink, err);
        if (!sink->http) {
            ak_error_prefix(err, "xdr sink");
            ak_xdr_sink_free(sink);
            return NULL;
        }
        sink->port = ak_http_server_port(sink->http);
        return sink;
    }

    sink->listen_fd = ak_sock_listen(opts->host, opts->port, 1024, &sink->port, err);
    if (sink->listen_fd < 0) {
        ak_error_prefix(err, "xdr sink");
        ak_xdr_sink_free(sink);
        return NULL;
    }
    ak_io_init(&sink->listen_io, sink->listen_fd, ak_xdr_sink_on_accept, sink);
    if (ak_loop_io_start(loop, &sink->listen_io, AK_IO_READ, err) != AK_OK) {
        ak_error_prefix(err, "xdr sink");
        ak_xdr_sink_free(sink);
        return NULL;
    }
    return sink;
}

uint16_t ak_xdr_sink_port(const ak_xdr_sink_t *sink)
{
    return sink->port;
}

void ak_xdr_sink_stats(const ak_xdr_sink_t *sink, ak_xdr_sink_stats_t *out)
{
    const uint64_t *from = (const uint64_t *)&sink->stats;
    uint64_t *to = (uint64_t *)out;
    /* Every member is a uint64_t: copy them one by one, each atomically. */
    for (size_t i = 0; i < sizeof *out / sizeof(uint64_t); i++)
        to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
    if (sink->http) {
        ak_http_server_stats_t http;
        ak_http_server_stats(sink->http, &http);
        out->connections = http.connections_accepted;
    }
}

void ak_xdr_sink_free(ak_xdr_sink_t *sink)
{
    if (!sink)
        return;
    while (sink->conns)
        ak_xdr_sink_conn_close(sink->conns);
    if (sink->accept_timer)
        ak_loop_timer_cancel(sink->loop, sink->accept_timer);
    if (sink->listen_fd >= 0) {
        ak_loop_io_stop(sink->loop, &sink->listen_io);
        close(sink->listen_fd);
    }
    ak_http_server_free(sink->http);
    free(sink->answers);
    free(sink->replies);
    free(sink->statuses);
    free(sink);
}
