/*
 * The TCP receiver: XDR 5+ ships change notifications as Aerospike wire
 * messages, many in flight per connection. Each gets exactly one reply
 * message carrying a result code, sent in request order, only once the
 * record's fate is known (its Kafka delivery report, or an immediate skip
 * or refusal). Replies that become ready together leave in one write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ak_log.h"
#include "net/ak_sock.h"
#include "outbound/ak_outbound_internal.h"
#include "wire/ak_compress.h"
#include "wire/ak_info.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"
#include "wire/ak_result.h"

/* Replies a connection may owe at once; beyond it we stop reading that
 * connection (XDR keeps far fewer in flight per connection). */
#define AK_OB_SLOTS 4096

typedef struct ak_ob_slot {
    ak_ob_request_t req; /* first: the delivery report's opaque points here */
    ak_ob_conn_t *conn;
    bool done;
    uint8_t code;
} ak_ob_slot_t;

struct ak_ob_conn {
    ak_ob_conn_t *prev, *next;
    ak_outbound_t *ob;
    ak_io_t io;
    uint16_t listen_port;
    ak_tls_t *tls;    /* a TLS port's connection; NULL: plaintext */
    uint64_t handshake_timer; /* TLS: closes the connection if the handshake is not done in time */
    ak_buf_t in;
    ak_buf_t out;
    size_t out_sent;
    ak_ob_slot_t slots[AK_OB_SLOTS];
    uint32_t head;    /* oldest unanswered slot */
    uint32_t count;   /* slots in use */
    uint32_t awaiting;/* slots waiting for a delivery report */
    bool closed;      /* socket gone; freed when awaiting reaches 0 */
    bool blocked;     /* stopped reading: no free slot */
    bool in_batch;    /* processing a read: answers leave at its end */
    bool flush_queued;/* a deferred flush is pending */
    bool process_queued; /* a deferred pass over buffered frames is pending */
};

static void ak_ob_conn_free(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_ob_conn_t *conn = arg;
    ak_buf_free(&conn->in);
    ak_buf_free(&conn->out);
    free(conn);
}

static void ak_ob_conn_close(ak_ob_conn_t *conn, const char *why)
{
    if (conn->closed)
        return;
    ak_outbound_t *ob = conn->ob;
    conn->closed = true;
    ak_loop_io_stop(ob->loop, &conn->io);
    if (conn->handshake_timer)
        ak_loop_timer_cancel(ob->loop, conn->handshake_timer);
    conn->handshake_timer = 0;
    ak_tls_free(conn->tls);
    conn->tls = NULL;
    close(conn->io.fd);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        ob->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    ob->stats.connections_active--;
    ob->stats.connections_closed++;
    if (why)
        ak_log(AK_LOG_DEBUG, "outbound", "closing an XDR connection: %s", why);
    /* Records still with Kafka keep their slots until their reports. */
    if (conn->awaiting == 0)
        ak_loop_defer(ob->loop, ak_ob_conn_free, conn);
}

/* What read() and write() answer for a TLS result: EAGAIN while TLS waits,
 * EPROTO once it failed (logged here with the peer and the reason). */
static ssize_t ak_ob_conn_tls_result(ak_ob_conn_t *conn, ssize_t n)
{
    if (n >= 0)
        return n;
    if (n == AK_TLS_AGAIN) {
        errno = EAGAIN;
        return -1;
    }
    ak_log(AK_LOG_WARN, "outbound", "closing an XDR connection (TLS port %u): %s", conn->listen_port,
           ak_tls_error(conn->tls));
    errno = EPROTO;
    return -1;
}

/* read() and write() on the connection: through TLS on a TLS port. */
static ssize_t ak_ob_conn_read(ak_ob_conn_t *conn, void *buf, size_t cap)
{
    if (!conn->tls)
        return read(conn->io.fd, buf, cap);
    return ak_ob_conn_tls_result(conn, ak_tls_read(conn->tls, buf, cap));
}

static ssize_t ak_ob_conn_write(ak_ob_conn_t *conn, const void *data, size_t len)
{
    if (!conn->tls)
        return send(conn->io.fd, data, len, MSG_NOSIGNAL); /* a reset peer must not raise SIGPIPE */
    return ak_ob_conn_tls_result(conn, ak_tls_write(conn->tls, data, len));
}

static unsigned ak_ob_conn_events(const ak_ob_conn_t *conn)
{
    unsigned events = 0;
    if (!conn->ob->reading_paused && !conn->blocked)
        events |= AK_IO_READ;
    if (conn->out_sent < conn->out.len)
        events |= AK_IO_WRITE;
    if (conn->tls)
        events |= ak_tls_wanted_events(conn->tls);
    return events;
}

static void ak_ob_conn_flush(ak_ob_conn_t *conn)
{
    while (conn->out_sent < conn->out.len) {
        ssize_t n = ak_ob_conn_write(conn, conn->out.data + conn->out_sent, conn->out.len - conn->out_sent);
        if (n > 0) {
            conn->out_sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        ak_ob_conn_close(conn, "write failed");
        return;
    }
    if (conn->out_sent == conn->out.len) {
        ak_buf_clear(&conn->out);
        conn->out_sent = 0;
    }
    ak_loop_io_set(conn->ob->loop, &conn->io, ak_ob_conn_events(conn));
}

static void ak_ob_conn_process(ak_ob_conn_t *conn);

static void ak_ob_conn_deferred_process(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_ob_conn_t *conn = arg;
    conn->process_queued = false;
    if (!conn->closed && !conn->blocked && !conn->ob->reading_paused && conn->in.len)
        ak_ob_conn_process(conn);
}

/* Moves answered slots at the head into the output buffer, in order. */
static void ak_ob_conn_collect(ak_ob_conn_t *conn)
{
    bool any = false;
    while (conn->count && conn->slots[conn->head].done) {
        ak_msg_write_reply(&conn->out, conn->slots[conn->head].code, 0, 0);
        conn->head = (conn->head + 1) % AK_OB_SLOTS;
        conn->count--;
        any = true;
    }
    if (any && conn->blocked && conn->count < AK_OB_SLOTS) {
        conn->blocked = false;
        ak_loop_io_set(conn->ob->loop, &conn->io, ak_ob_conn_events(conn));
        /* Frames read before the connection filled up are already in the
         * buffer: no socket event will announce them, so pick them up. */
        if (conn->in.len && !conn->process_queued &&
            ak_loop_defer(conn->ob->loop, ak_ob_conn_deferred_process, conn))
            conn->process_queued = true;
    }
}

static void ak_ob_conn_deferred_flush(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_ob_conn_t *conn = arg;
    conn->flush_queued = false;
    if (!conn->closed)
        ak_ob_conn_flush(conn);
}

static void ak_ob_slot_answer(ak_outbound_t *ob, ak_ob_request_t *req, int code)
{
    (void)ob;
    ak_ob_slot_t *slot = (ak_ob_slot_t *)req;
    ak_ob_conn_t *conn = slot->conn;
    slot->done = true;
    slot->code = (uint8_t)code;
    conn->awaiting--;
    if (conn->closed) {
        /* nobody to answer: the shipper re-sends after its timeout */
        if (conn->awaiting == 0)
            ak_loop_defer(conn->ob->loop, ak_ob_conn_free, conn);
        return;
    }
    ak_ob_conn_collect(conn);
    if (conn->in_batch)
        return; /* the read batch flushes once at its end */
    if (!conn->ob->ack_buffering) {
        ak_ob_conn_flush(conn);
        return;
    }
    /* enable-tcp-xdr-ack-buffering: the delivery reports librdkafka hands
     * over together leave in one write, after the current batch of events. */
    if (!conn->flush_queued && ak_loop_defer(conn->ob->loop, ak_ob_conn_deferred_flush, conn))
        conn->flush_queued = true;
    else if (!conn->flush_queued)
        ak_ob_conn_flush(conn);
}

/* Answers frames that are not change notifications: an info request gets
 * its lines echoed with empty values, anything else is refused. */
static void ak_ob_conn_info(ak_ob_conn_t *conn, const ak_frame_t *frame)
{
    ak_info_iter_t iter;
    ak_info_pair_t pair;
    size_t start = conn->out.len;
    ak_buf_append_zeros(&conn->out, AK_PROTO_HEADER_SIZE);
    ak_info_iter_init(&iter, (const char *)frame->body, (size_t)frame->header.size);
    while (ak_info_iter_next(&iter, &pair)) {
        ak_buf_append(&conn->out, pair.name, pair.name_len);
        ak_buf_append(&conn->out, "\t\n", 2);
    }
    if (!ak_buf_failed(&conn->out))
        ak_proto_header_write(conn->out.data + start, AK_PROTO_TYPE_INFO,
                              conn->out.len - start - AK_PROTO_HEADER_SIZE);
}

static void ak_ob_conn_process(ak_ob_conn_t *conn)
{
    ak_outbound_t *ob = conn->ob;
    size_t pos = 0;
    ak_buf_t inflated;
    ak_buf_init(&inflated);
    conn->in_batch = true;
    while (!conn->closed && conn->count < AK_OB_SLOTS && !ak_ob_full(ob)) {
        ak_frame_t frame;
        size_t consumed;
        ak_error_t err;
        ak_frame_scan_t scan = ak_frame_next(conn->in.data + pos, conn->in.len - pos, pos, &frame, &consumed, &err);
        if (scan == AK_FRAME_NEED_MORE)
            break;
        if (scan == AK_FRAME_ERROR) {
            ob->stats.requests_parse_error++;
            ob->stats.requests_error++;
            ak_log(AK_LOG_WARN, "outbound", "closing an XDR connection (port %u): %s", conn->listen_port,
                   err.message);
            ak_ob_conn_close(conn, err.message);
            break;
        }
        pos += consumed;
        if (frame.header.type != AK_PROTO_TYPE_MESSAGE && frame.header.type != AK_PROTO_TYPE_COMPRESSED) {
            if (frame.header.type == AK_PROTO_TYPE_INFO && conn->count == 0)
                ak_ob_conn_info(conn, &frame);
            else
                ak_log(AK_LOG_DEBUG, "outbound", "ignoring a %s frame", ak_proto_type_name(frame.header.type));
            continue;
        }
        const uint8_t *body = frame.body;
        size_t len = (size_t)frame.header.size;
        if (frame.header.type == AK_PROTO_TYPE_COMPRESSED) {
            if (ak_compress_decode(body, len, frame.offset + AK_PROTO_HEADER_SIZE, &inflated, &err) != AK_OK) {
                body = NULL;
            } else {
                body = inflated.data + AK_PROTO_HEADER_SIZE;
                len = inflated.len - AK_PROTO_HEADER_SIZE;
            }
        }
        uint32_t index = (conn->head + conn->count) % AK_OB_SLOTS;
        ak_ob_slot_t *slot = &conn->slots[index];
        slot->req.answer = ak_ob_slot_answer;
        slot->req.start_us = ak_loop_now_us(ob->loop);
        slot->conn = conn;
        slot->done = false;
        conn->count++;
        conn->awaiting++; /* every slot is answered once, by ak_ob_slot_answer */
        ob->stats.bytes_received += consumed;
        if (!body) {
            ob->stats.requests_total++;
            ob->stats.requests_parse_error++;
            ob->stats.requests_error++;
            ak_log(AK_LOG_WARN, "outbound", "abandoning a compressed frame: %s", err.message);
            ak_ob_finish(ob, &slot->req, AK_RESULT_PARAMETER);
            continue;
        }
        ak_ob_process(ob, &slot->req, body, len, conn->listen_port);
    }
    ak_buf_free(&inflated);
    conn->in_batch = false;
    if (conn->closed)
        return;
    if (pos) {
        memmove(conn->in.data, conn->in.data + pos, conn->in.len - pos);
        conn->in.len -= pos;
    }
    if (conn->count == AK_OB_SLOTS)
        conn->blocked = true;
    if (ak_ob_full(ob) && !ob->reading_paused) {
        ob->reading_paused = true;
        ob->stats.paused++;
        for (ak_ob_conn_t *c = ob->conns; c; c = c->next)
            ak_loop_io_set(ob->loop, &c->io, ak_ob_conn_events(c));
    }
    ak_ob_conn_flush(conn);
}

/* Delivery reports may free room: resume reading, and pick up frames that
 * were already read while we were full. */
void ak_ob_tcp_maybe_resume(ak_outbound_t *ob)
{
    if (!ob->reading_paused || ak_ob_full(ob))
        return;
    ob->reading_paused = false;
    for (ak_ob_conn_t *c = ob->conns, *next; c; c = next) {
        next = c->next;
        ak_loop_io_set(ob->loop, &c->io, ak_ob_conn_events(c));
        if (c->in.len)
            ak_ob_conn_process(c);
    }
}

/* A peer on a TLS port that never finishes its handshake (a port scan, a
 * stuck client) would otherwise hold its connection until keep-alive gives
 * up, hours later. */
static void ak_ob_conn_handshake_timeout(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_ob_conn_t *conn = arg;
    conn->handshake_timer = 0;
    if (conn->closed || !conn->tls || ak_tls_handshake_done(conn->tls))
        return;
    ak_log(AK_LOG_WARN, "outbound",
           "closing an XDR connection (TLS port %u): TLS handshake not finished within %u ms of connecting",
           conn->listen_port, ak_ob_tls_handshake_timeout_ms(conn->ob));
    ak_ob_conn_close(conn, "TLS handshake timeout");
}

static void ak_ob_conn_on_io(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    ak_ob_conn_t *conn = io->data;
    if (conn->closed)
        return;
    if (conn->handshake_timer && ak_tls_handshake_done(conn->tls)) {
        ak_loop_timer_cancel(conn->ob->loop, conn->handshake_timer);
        conn->handshake_timer = 0;
    }
    if (conn->tls && (events & AK_IO_WRITE) && (ak_tls_wanted_events(conn->tls) & AK_IO_WRITE))
        events |= AK_IO_READ; /* a TLS read waited for the socket to take handshake bytes */
    if (events & AK_IO_WRITE) {
        ak_ob_conn_flush(conn);
        if (conn->closed)
            return;
    }
    if (!(events & AK_IO_READ) || conn->ob->reading_paused || conn->blocked)
        return;
    for (;;) {
        size_t chunk = conn->ob->read_chunk;
        if (!ak_buf_reserve(&conn->in, chunk)) {
            ak_ob_conn_close(conn, "out of memory");
            return;
        }
        ssize_t n = ak_ob_conn_read(conn, conn->in.data + conn->in.len, conn->in.cap - conn->in.len);
        if (n > 0) {
            conn->in.len += (size_t)n;
            if ((size_t)n < chunk)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        ak_ob_conn_close(conn, n == 0 ? "closed by peer" : "read failed");
        return;
    }
    ak_ob_conn_process(conn);
}

static void ak_ob_on_accept(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)events;
    ak_ob_listener_t *listener = io->data;
    ak_outbound_t *ob = listener->ob;
    for (;;) {
        int fd = ak_sock_accept(io->fd);
        if (fd < 0)
            return;
        /* An XDR node that vanishes without a FIN (power loss, partition)
         * is found by keep-alive probes instead of holding its slots forever,
         * as the Java connector's sockets do (SO_KEEPALIVE). */
        int on = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
        ak_ob_conn_t *conn = calloc(1, sizeof *conn);
        if (!conn) {
            close(fd);
            continue;
        }
        conn->ob = ob;
        conn->listen_port = listener->port;
        if (listener->tls && !(conn->tls = ak_tls_new(listener->tls, fd, NULL))) {
            close(fd);
            free(conn);
            continue;
        }
        ak_buf_init(&conn->in);
        ak_buf_init(&conn->out);
        ak_io_init(&conn->io, fd, ak_ob_conn_on_io, conn);
        if (ak_loop_io_start(loop, &conn->io, ob->reading_paused ? 0 : AK_IO_READ, NULL) != AK_OK) {
            ak_tls_free(conn->tls);
            close(fd);
            free(conn);
            continue;
        }
        conn->next = ob->conns;
        if (ob->conns)
            ob->conns->prev = conn;
        ob->conns = conn;
        ob->stats.connections_active++;
        if (conn->tls)
            conn->handshake_timer =
                ak_loop_timer(loop, ak_ob_tls_handshake_timeout_ms(ob), ak_ob_conn_handshake_timeout, conn);
    }
}

static ak_status_t ak_ob_tcp_listen(ak_outbound_t *ob, const ak_ob_listen_t *where, ak_tls_ctx_t *tls,
                                    ak_error_t *err)
{
    ak_ob_listener_t *l = &ob->listeners[ob->n_listeners];
    uint16_t bound = 0;
    int fd = ak_sock_listen_shared(where->host, where->port, 512, ob->workers > 1, &bound, err);
    if (fd < 0)
        return AK_ERR_IO;
    l->ob = ob;
    l->fd = fd;
    l->port = bound;
    l->tls = tls;
    ak_io_init(&l->io, fd, ak_ob_on_accept, l);
    ob->n_listeners++;
    if (ak_loop_io_start(ob->loop, &l->io, AK_IO_READ, err) != AK_OK)
        return AK_ERR_IO;
    if (ob->worker == 0)
        ak_log(AK_LOG_INFO, "outbound", "listening for XDR (wire protocol%s) on %s:%u", tls ? " over TLS" : "",
               *where->host ? where->host : "0.0.0.0", bound);
    return AK_OK;
}

/* Plain ports first, then TLS ports (ak_outbound_port's order). */
ak_status_t ak_ob_tcp_start(ak_outbound_t *ob, const ak_ob_settings_t *settings, ak_error_t *err)
{
    ob->ack_buffering = settings->ack_buffering;
    for (size_t i = 0; i < settings->n_listen; i++)
        if (ak_ob_tcp_listen(ob, &settings->listen[i], NULL, err) != AK_OK)
            return AK_ERR_IO;
    if (settings->n_tls_listen)
        ob->tls = ak_tls_ctx_ref(settings->tls);
    for (size_t i = 0; i < settings->n_tls_listen; i++)
        if (ak_ob_tcp_listen(ob, &settings->tls_listen[i], ob->tls, err) != AK_OK)
            return AK_ERR_IO;
    return AK_OK;
}

void ak_ob_tcp_stop_listening(ak_outbound_t *ob)
{
    for (size_t i = 0; i < ob->n_listeners; i++) {
        if (ob->listeners[i].fd < 0)
            continue;
        ak_loop_io_stop(ob->loop, &ob->listeners[i].io);
        close(ob->listeners[i].fd);
        ob->listeners[i].fd = -1;
    }
}

void ak_ob_tcp_free(ak_outbound_t *ob)
{
    ak_ob_tcp_stop_listening(ob);
    while (ob->conns) {
        ak_ob_conn_t *conn = ob->conns;
        ak_ob_conn_close(conn, NULL);
        if (conn->awaiting)
            ak_loop_defer(ob->loop, ak_ob_conn_free, conn); /* the producer is gone: no report will come */
    }
    ak_tls_ctx_free(ob->tls);
    ob->tls = NULL;
}
