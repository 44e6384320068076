/*
 * ak_xdr_ship over real sockets: the shipper and a small in-test connector
 * ("sink") share one loop in the test thread. The sink answers each frame
 * with a code chosen by the test, stays silent, or drops the connection;
 * the source re-queues what the shipper reports as retry, as XDR does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ak_test_util.h"
#include "dev/ak_xdr_ship.h"
#include "net/ak_http_server.h"
#include "net/ak_loop.h"
#include "net/ak_sock.h"
#include "wire/ak_digest.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"

#define AKT_MAX_RECORDS 2048
#define AKT_MAX_SINK_CONNS 16

enum {
    AKT_SILENT = -1, /* never answer this frame, nor later ones on its connection */
    AKT_DROP = -2,   /* close the connection without answering */
};

typedef struct akt_sink akt_sink_t;
/* Chooses the answer to the nth frame (counted over the whole sink) carrying
 * token, arriving on the sink's conn_index-th accepted connection. */
typedef int (*akt_answer_fn)(akt_sink_t *sink, uint64_t token, size_t nth, size_t conn_index);

typedef struct akt_sink_conn {
    akt_sink_t *sink;
    int fd;
    ak_io_t io;
    ak_buf_t in;
    ak_buf_t out;
    size_t index;
    size_t pending; /* received, not yet answered */
    bool silent;
} akt_sink_conn_t;

struct akt_sink {
    ak_loop_t *loop;
    int listen_fd;
    ak_io_t listen_io;
    uint16_t port;
    char address[32];
    akt_answer_fn answer;
    uint32_t hold_ms; /* > 0: answers leave in batches every hold_ms */
    uint64_t hold_timer;
    akt_sink_conn_t conns[AKT_MAX_SINK_CONNS];
    size_t n_conns;
    size_t frames;
    size_t max_pending;
    uint32_t seen[AKT_MAX_RECORDS]; /* frames per token */
};

static void akt_sink_conn_close(akt_sink_conn_t *c)
{
    if (c->fd < 0)
        return;
    ak_loop_io_stop(c->sink->loop, &c->io);
    close(c->fd);
    c->fd = -1;
}

static void akt_sink_conn_send(akt_sink_conn_t *c)
{
    size_t off = 0;
    while (c->fd >= 0 && off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
        if (n <= 0) {
            /* Replies are tiny: a full socket buffer here means the peer
             * is gone, which the tests treat as a dropped connection. */
            akt_sink_conn_close(c);
            break;
        }
        off += (size_t)n;
    }
    c->pending = 0;
    ak_buf_clear(&c->out);
}

static void akt_sink_conn_io(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    (void)events;
    akt_sink_conn_t *c = io->data;
    akt_sink_t *sink = c->sink;
    uint8_t chunk[65536];
    ssize_t n = read(c->fd, chunk, sizeof chunk);
    if (n <= 0) {
        akt_sink_conn_close(c);
        return;
    }
    ak_buf_append(&c->in, chunk, (size_t)n);
    size_t pos = 0;
    for (;;) {
        ak_frame_t frame;
        size_t consumed;
        if (ak_frame_next(c->in.data + pos, c->in.len - pos, pos, &frame, &consumed, NULL) !=
            AK_FRAME_READY)
            break;
        pos += consumed;
        assert_true(frame.header.size >= AK_MSG_HEADER_SIZE);
        uint64_t token = ak_get_be32(frame.body + 6); /* the generation carries it */
        assert_true(token < AKT_MAX_RECORDS);
        sink->seen[token]++;
        size_t nth = sink->frames++;
        if (c->silent)
            continue;
        int code = sink->answer ? sink->answer(sink, token, nth, c->index) : 0;
        if (code == AKT_DROP) {
            akt_sink_conn_close(c);
            ak_buf_clear(&c->in);
            return;
        }
        if (code == AKT_SILENT) {
            c->silent = true;
            continue;
        }
        ak_msg_write_reply(&c->out, (uint8_t)code, 0, 0);
        c->pending++;
        if (c->pending > sink->max_pending)
            sink->max_pending = c->pending;
    }
    memmove(c->in.data, c->in.data + pos, c->in.len - pos);
    c->in.len -= pos;
    if (!sink->hold_ms)
        akt_sink_conn_send(c);
}

static void akt_sink_hold_fire(ak_loop_t *loop, void *arg)
{
    akt_sink_t *sink = arg;
    for (size_t i = 0; i < sink->n_conns; i++)
        if (sink->conns[i].fd >= 0)
            akt_sink_conn_send(&sink->conns[i]);
    sink->hold_timer = ak_loop_timer(loop, sink->hold_ms, akt_sink_hold_fire, sink);
}

static void akt_sink_accept(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)events;
    akt_sink_t *sink = io->data;
    int fd;
    while ((fd = ak_sock_accept(sink->listen_fd)) >= 0) {
        assert_true(sink->n_conns < AKT_MAX_SINK_CONNS);
        akt_sink_conn_t *c = &sink->conns[sink->n_conns];
        c->sink = sink;
        c->fd = fd;
        c->index = sink->n_conns++;
        ak_buf_init(&c->in);
        ak_buf_init(&c->out);
        ak_io_init(&c->io, fd, akt_sink_conn_io, c);
        assert_int_equal(ak_loop_io_start(loop, &c->io, AK_IO_READ, NULL), AK_OK);
    }
}

static akt_sink_t *akt_sink_new(ak_loop_t *loop, akt_answer_fn answer, uint32_t hold_ms)
{
    akt_sink_t *sink = calloc(1, sizeof *sink);
    assert_non_null(sink);
    sink->loop = loop;
    sink->answer = answer;
    sink->hold_ms = hold_ms;
    ak_error_t err;
    sink->listen_fd = ak_sock_listen("127.0.0.1", 0, 64, &sink->port, &err);
    assert_true(sink->listen_fd >= 0);
    snprintf(sink->address, sizeof sink->address, "127.0.0.1:%u", sink->port);
    ak_io_init(&sink->listen_io, sink->listen_fd, akt_sink_accept, sink);
    assert_int_equal(ak_loop_io_start(loop, &sink->listen_io, AK_IO_READ, &err), AK_OK);
    if (hold_ms)
        sink->hold_timer = ak_loop_timer(loop, hold_ms, akt_sink_hold_fire, sink);
    return sink;
}

static void akt_sink_free(akt_sink_t *sink)
{
    for (size_t i = 0; i < sink->n_conns; i++) {
        akt_sink_conn_close(&sink->conns[i]);
        ak_buf_free(&sink->conns[i].in);
        ak_buf_free(&sink->conns[i].out);
    }
    if (sink->hold_timer)
        ak_loop_timer_cancel(sink->loop, sink->hold_timer);
    ak_loop_io_stop(sink->loop, &sink->listen_io);
    close(sink->listen_fd);
    free(sink);
}

/* ---- the source: a queue of tokens, re-queued on retry ---- */

typedef struct akt_source {
    ak_loop_t *loop;
    ak_xdr_ship_t *ship;
    uint64_t queue[AKT_MAX_RECORDS];
    size_t q_head, q_count;
    size_t n_records;
    size_t resolved;
    size_t done[AKT_MAX_RECORDS], retried[AKT_MAX_RECORDS], abandoned[AKT_MAX_RECORDS];
    int last_code[AKT_MAX_RECORDS];
    uint64_t in_flight_limit; /* checked at every pull */
    uint64_t max_in_flight;
    bool timed_out;
} akt_source_t;

static void akt_source_push(akt_source_t *src, uint64_t token)
{
    assert_true(src->q_count < AKT_MAX_RECORDS);
    src->queue[(src->q_head + src->q_count++) % AKT_MAX_RECORDS] = token;
}

static bool akt_next(void *ctx, ak_buf_t *frame, uint64_t *token)
{
    akt_source_t *src = ctx;
    if (!src->q_count)
        return false;
    *token = src->queue[src->q_head];
    src->q_head = (src->q_head + 1) % AKT_MAX_RECORDS;
    src->q_count--;
    ak_xdr_ship_stats_t stats;
    ak_xdr_ship_stats(src->ship, &stats);
    if (stats.in_flight + 1 > src->max_in_flight)
        src->max_in_flight = stats.in_flight + 1;
    if (src->in_flight_limit)
        assert_true(stats.in_flight + 1 <= src->in_flight_limit);

    ak_msg_header_t h = {.header_sz = AK_MSG_HEADER_SIZE, .info1 = AK_INFO1_XDR,
                         .info2 = AK_INFO2_WRITE, .generation = (uint32_t)*token};
    ak_msg_builder_t b;
    static const uint8_t digest[AK_DIGEST_SIZE] = {0};
    ak_msg_begin(&b, frame, &h);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, digest, sizeof digest);
    assert_int_equal(ak_msg_end(&b, NULL), AK_OK);
    return true;
}

static void akt_result(void *ctx, uint64_t token, ak_xdr_class_t outcome, int result_code,
                       int http_status, uint64_t latency_us)
{
    (void)http_status;
    (void)latency_us;
    akt_source_t *src = ctx;
    assert_true(token < src->n_records);
    src->last_code[token] = result_code;
    switch (outcome) {
    case AK_XDR_DONE:
        src->done[token]++;
        src->resolved++;
        break;
    case AK_XDR_ABANDON:
        src->abandoned[token]++;
        src->resolved++;
        break;
    case AK_XDR_RETRY:
        src->retried[token]++;
        akt_source_push(src, token);
        ak_xdr_ship_kick(src->ship);
        break;
    }
    if (src->resolved == src->n_records)
        ak_loop_stop(src->loop);
}

static void akt_deadline(ak_loop_t *loop, void *arg)
{
    akt_source_t *src = arg;
    src->timed_out = true;
    ak_loop_stop(loop);
}

/* Runs the loop until every record is resolved (or 10 s pass). */
static void akt_run(akt_source_t *src)
{
    uint64_t deadline = ak_loop_timer(src->loop, 10000, akt_deadline, src);
    ak_xdr_ship_kick(src->ship);
    ak_loop_run(src->loop);
    ak_loop_timer_cancel(src->loop, deadline);
    assert_false(src->timed_out);
}

typedef struct akt_wait_connects {
    akt_source_t *src;
    uint64_t want;
} akt_wait_connects_t;

static void akt_poll_connects(ak_loop_t *loop, void *arg)
{
    akt_wait_connects_t *w = arg;
    ak_xdr_ship_stats_t stats;
    ak_xdr_ship_stats(w->src->ship, &stats);
    if (stats.connects >= w->want)
        ak_loop_stop(loop);
    else
        ak_loop_timer(loop, 2, akt_poll_connects, w);
}

/* Runs the loop until the shipper has `want` connections up, so a test
 * about spreading load starts with every connection ready. */
static void akt_wait_connected(akt_source_t *src, uint64_t want)
{
    akt_wait_connects_t w = {src, want};
    uint64_t deadline = ak_loop_timer(src->loop, 5000, akt_deadline, src);
    ak_loop_timer(src->loop, 0, akt_poll_connects, &w);
    ak_loop_run(src->loop);
    ak_loop_timer_cancel(src->loop, deadline);
    assert_false(src->timed_out);
}

typedef struct akt_setup {
    ak_loop_t *loop;
    akt_source_t *src;
    ak_xdr_ship_t *ship;
} akt_setup_t;

static akt_setup_t akt_start(size_t n_records, bool fill)
{
    akt_setup_t s;
    ak_error_t err;
    s.loop = ak_loop_new(&err);
    assert_non_null(s.loop);
    s.src = calloc(1, sizeof *s.src);
    assert_non_null(s.src);
    s.src->loop = s.loop;
    s.src->n_records = n_records;
    if (fill)
        for (size_t i = 0; i < n_records; i++)
            akt_source_push(s.src, i);
    s.ship = NULL;
    return s;
}

static void akt_start_ship(akt_setup_t *s, const char *const *destinations, size_t n_dest,
                           ak_xdr_protocol_t protocol, int conns, int in_flight,
                           uint32_t timeout_ms)
{
    ak_xdr_ship_options_t opts = {
        .destinations = destinations,
        .n_destinations = n_dest,
        .protocol = protocol,
        .connections_per_destination = conns,
        .in_flight_per_connection = in_flight,
        .timeout_ms = timeout_ms,
        .reconnect_delay_ms = 50,
        .http_path = "/xdr",
    };
    ak_error_t err = {0};
    s->ship = ak_xdr_ship_new(s->loop, &opts, akt_next, akt_result, s->src, &err);
    if (!s->ship)
        fail_msg("ak_xdr_ship_new: %s", err.message);
    s->src->ship = s->ship;
}

static void akt_finish(akt_setup_t *s)
{
    ak_xdr_ship_free(s->ship);
    ak_loop_free(s->loop);
    free(s->src);
}

static void akt_stats(const akt_setup_t *s, ak_xdr_ship_stats_t *stats)
{
    ak_xdr_ship_stats(s->ship, stats);
}

/* ---- tests ---- */

static void test_every_notification_is_acknowledged_and_counted(void **state)
{
    (void)state;
    akt_setup_t s = akt_start(1000, true);
    akt_sink_t *sink = akt_sink_new(s.loop, NULL, 0);
    const char *dest[] = {sink->address};
    akt_start_ship(&s, dest, 1, AK_XDR_PROTO_TCP, 2, 8, 0);
    s.src->in_flight_limit = 16;
    akt_run(s.src);

    ak_xdr_ship_stats_t st;
    akt_stats(&s, &st);
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(s.src->done[i], 1);
        assert_int_equal(s.src->retried[i], 0);
        assert_int_equal(sink->seen[i], 1);
    }
    assert_int_equal(st.shipped, 1000);
    assert_int_equal(st.acknowledged, 1000);
    assert_int_equal(st.retried, 0);
    assert_int_equal(st.abandoned, 0);
    assert_int_equal(st.timeouts, 0);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.connects, 2);
    assert_int_equal(sink->frames, 1000);
    akt_sink_free(sink);
    akt_finish(&s);
}

static int akt_answer_busy_once_for_5(akt_sink_t *sink, uint64_t token, size_t nth, size_t conn)
{
    (void)nth;
    (void)conn;
    return token == 5 && sink->seen[5] == 1 ? AK_RESULT_KEY_BUSY : AK_RESULT_OK;
}

static void test_key_busy_is_retried_and_the_requeued_copy_acknowledged(void **state)
{
    (void)state;
    akt_setup_t s = akt_start(100, true);
    akt_sink_t *sink = akt_sink_new(s.loop, akt_answer_busy_once_for_5, 0);
    const char *dest[] = {sink->address};
    akt_start_ship(&s, dest, 1, AK_XDR_PROTO_TCP, 1, 16, 0);
    akt_run(s.src);

    ak_xdr_ship_stats_t st;
    akt_stats(&s, &st);
    assert_int_equal(s.src->retried[5], 1);
    assert_int_equal(s.src->done[5], 1);
    assert_int_equal(s.src->last_code[5], 0);
    assert_int_equal(sink->seen[5], 2);
    assert_int_equal(st.shipped, 101);
    assert_int_equal(st.acknowledged, 100);
    assert_int_equal(st.retried, 1);
    assert_int_equal(st.timeouts, 0);
    assert_int_equal(st.connects, 1); /* a retry-class answer keeps the connection */
    akt_sink_free(sink);
    akt_finish(&s);
}

static int akt_answer_parameter_for_7(akt_sink_t *sink, uint64_t token, size_t nth, size_t conn)
{
    (void)sink;
    (void)nth;
    (void)conn;
    return token == 7 ? AK_RESULT_PARAMETER : AK_RESULT_OK;
}

static void test_parameter_error_is_abandoned_and_not_resent(void **state)
{
    (void)state;
    akt_setup_t s = akt_start(100, true);
    akt_sink_t *sink = akt_sink_new(s.loop, akt_answer_parameter_for_7, 0);
    const char *dest[] = {sink->address};
    akt_start_ship(&s, dest, 1, AK_XDR_PROTO_TCP, 1, 16, 0);
    akt_run(s.src);

    ak_xdr_ship_stats_t st;
    akt_stats(&s, &st);
    assert_int_equal(s.src->abandoned[7], 1);
    assert_int_equal(s.src->done[7], 0);
    assert_int_equal(s.src->retried[7], 0);
    assert_int_equal(s.src->last_code[7], AK_RESULT_PARAMETER);
    assert_int_equal(sink->seen[7], 1);
    assert_int_equal(sink->frames, 100);
    assert_int_equal(st.acknowledged, 99);
    assert_int_equal(st.abandoned, 1);
    assert_int_equal(st.retried, 0);
    akt_sink_free(sink);
    akt_finish(&s);
}

static int akt_answer_silent_on_first_conn(akt_sink_t *sink, uint64_t token, size_t nth,
                                           size_t conn)
{
    (void)sink;
    (void)token;
    (void)nth;
    return conn == 0 ? AKT_SILENT : AK_RESULT_OK;
}

static void test_silence_beyond_timeout_is_retried_and_counted(void **state)
{
    (void)state;
    akt_setup_t s = akt_start(20, true);
    akt_sink_t *sink = akt_sink_new(s.loop, akt_answer_silent_on_first_conn, 0);
    const char *dest[] = {sink->address};
    akt_start_ship(&s, dest, 1, AK_XDR_PROTO_TCP, 1, 64, 300);
    uint64_t start = ak_clock_ms();
    akt_run(s.src);
    uint64_t elapsed = ak_clock_ms() - start;

    ak_xdr_ship_stats_t st;
    akt_stats(&s, &st);
    assert_true(elapsed >= 300);
    assert_int_equal(st.timeouts, 20); /* all 20 went out together on the silent connection */
    assert_int_equal(st.retried, 20);
    assert_int_equal(st.acknowledged, 20);
    assert_int_equal(st.connects, 2); /* the silent connection was replaced */
    for (size_t i = 0; i < 20; i++) {
        assert_int_equal(s.src->retried[i], 1);
        assert_int_equal(s.src->last_code[i], 0);
        assert_int_equal(s.src->done[i], 1);
    }
    akt_sink_free(sink);
    akt_finish(&s);
}

static int akt_answer_drop_at_10_on_first_conn(akt_sink_t *sink, uint64_t token, size_t nth,
                                               size_t conn)
{
    (void)sink;
    (void)token;
    if (conn == 0 && nth == 10)
        return AKT_DROP;
    return AK_RESULT_OK;
}

static void test_dropped_connection_retries_in_flight_and_reconnects(void **state)
{
    (void)state;
    akt_setup_t s = akt_start(50, true);
    /* held answers: at the drop, nothing on the connection has been answered */
    akt_sink_t *sink = akt_sink_new(s.loop, akt_answer_drop_at_10_on_first_conn, 20);
    const char *dest[] = {sink->address};
    akt_start_ship(&s, dest, 1, AK_XDR_PROTO_TCP, 1, 64, 0);
    akt_run(s.src);

    ak_xdr_ship_stats_t st;
    akt_stats(&s, &st);
    assert_int_equal(st.retried, 50); /* all 50 were in flight on the dropped connection */
    assert_int_equal(st.timeouts, 0);
    assert_int_equal(st.acknowledged, 50);
    assert_int_equal(st.connects, 2);
    assert_int_equal(st.in_flight, 0);
    for (size_t i = 0; i < 50; i++)
        assert_int_equal(s.src->done[i], 1);
    akt_sink_free(sink);
    akt_finish(&s);
}

static void test_two_destinations_share_notifications_round_robin(void **state)
{
    (void)state;
    akt_setup_t s = akt_start(101, false);
    akt_sink_t *a = akt_sink_new(s.loop, NULL, 0);
    akt_sink_t *b = akt_sink_new(s.loop, NULL, 0);
    const char *dest[] = {a->address, b->address};
    akt_start_ship(&s, dest, 2, AK_XDR_PROTO_TCP, 1, 64, 0);
    akt_wait_connected(s.src, 2);
    for (size_t i = 0; i < 101; i++)
        akt_source_push(s.src, i);
    akt_run(s.src);

    ak_xdr_ship_stats_t st;
    akt_stats(&s, &st);
    assert_int_equal(st.acknowledged, 101);
    assert_int_equal(a->frames + b->frames, 101);
    size_t diff = a->frames > b->frames ? a->frames - b->frames : b->frames - a->frames;
    assert_true(diff <= 1);
    akt_sink_free(a);
    akt_sink_free(b);
    akt_finish(&s);
}

static void test_in_flight_never_exceeds_the_limit(void **state)
{
    (void)state;
    akt_setup_t s = akt_start(300, true);
    /* answers held for 10 ms, so the shipper fills every window each time */
    akt_sink_t *sink = akt_sink_new(s.loop, NULL, 10);
    const char *dest[] = {sink->address};
    akt_start_ship(&s, dest, 1, AK_XDR_PROTO_TCP, 2, 4, 0);
    s.src->in_flight_limit = 8;
    akt_run(s.src);

    ak_xdr_ship_stats_t st;
    akt_stats(&s, &st);
    assert_int_equal(st.acknowledged, 300);
    assert_int_equal(sink->max_pending, 4); /* per connection: reached, never passed */
    assert_int_equal(s.src->max_in_flight, 8);
    akt_sink_free(sink);
    akt_finish(&s);
}

static void test_unreachable_destination_counts_connect_failures(void **state)
{
    (void)state;
    /* a port nobody listens on: grab one, then close it */
    ak_error_t err;
    uint16_t port;
    int fd = ak_sock_listen("127.0.0.1", 0, 1, &port, &err);
    assert_true(fd >= 0);
    close(fd);
    char address[32];
    snprintf(address, sizeof address, "127.0.0.1:%u", port);

    akt_setup_t s = akt_start(1, true);
    const char *dest[] = {address};
    akt_start_ship(&s, dest, 1, AK_XDR_PROTO_TCP, 1, 4, 0);
    uint64_t deadline = ak_loop_timer(s.loop, 200, akt_deadline, s.src);
    ak_loop_run(s.loop);
    ak_loop_timer_cancel(s.loop, deadline);
    ak_xdr_ship_stats_t st;
    akt_stats(&s, &st);
    assert_true(st.connect_failures >= 2); /* first try plus reconnects every 50 ms */
    assert_int_equal(st.connects, 0);
    assert_int_equal(st.shipped, 0);
    akt_finish(&s);
}

/* ---- HTTP: legacy XDR against ak_http_server ---- */

typedef struct akt_http_sink {
    uint32_t seen[AKT_MAX_RECORDS];
    size_t requests;
    int versions_seen; /* bit 0: HTTP/1.1, bit 1: HTTP/2 */
    bool bad_request;
} akt_http_sink_t;

/* 503 the first time token 3 arrives, 200 otherwise. */
static void akt_http_handler(void *ctx, ak_http_request_t *req, const ak_http_request_info_t *info)
{
    akt_http_sink_t *sink = ctx;
    sink->requests++;
    sink->versions_seen |= info->http_version == 20 ? 2 : 1;
    if (strcmp(info->method, "POST") != 0 || strcmp(info->path, "/xdr") != 0 ||
        !info->content_type || strcmp(info->content_type, "application/octet-stream") != 0 ||
        info->body_len < 1 + AK_PROTO_HEADER_SIZE + AK_MSG_HEADER_SIZE || info->body[0] != 1) {
        sink->bad_request = true;
        ak_http_respond(req, 400, "text/plain", "bad", 3);
        return;
    }
    uint64_t token = ak_get_be32(info->body + 1 + AK_PROTO_HEADER_SIZE + 6);
    if (token >= AKT_MAX_RECORDS) {
        sink->bad_request = true;
        ak_http_respond(req, 400, "text/plain", "bad", 3);
        return;
    }
    sink->seen[token]++;
    int status = token == 3 && sink->seen[3] == 1 ? 503 : 200;
    ak_http_respond(req, status, "text/plain", "", 0);
}

static void akt_http_run(ak_xdr_protocol_t protocol)
{
    akt_setup_t s = akt_start(40, true);
    akt_http_sink_t *sink = calloc(1, sizeof *sink);
    assert_non_null(sink);
    ak_error_t err = {0};
    ak_http_server_options_t sopts = {.host = "127.0.0.1"};
    ak_http_server_t *server = ak_http_server_new(s.loop, &sopts, akt_http_handler, sink, &err);
    if (!server)
        fail_msg("ak_http_server_new: %s", err.message);
    char address[32];
    snprintf(address, sizeof address, "127.0.0.1:%u", ak_http_server_port(server));
    const char *dest[] = {address};
    akt_start_ship(&s, dest, 1, protocol, 2, 4, 5000);
    akt_run(s.src);

    ak_xdr_ship_stats_t st;
    akt_stats(&s, &st);
    assert_false(sink->bad_request);
    assert_int_equal(sink->versions_seen, protocol == AK_XDR_PROTO_HTTP2 ? 2 : 1);
    assert_int_equal(st.acknowledged, 40);
    assert_int_equal(st.retried, 1); /* the 503 */
    assert_int_equal(st.shipped, 41);
    assert_int_equal(s.src->retried[3], 1);
    assert_int_equal(s.src->done[3], 1);
    assert_int_equal(sink->seen[3], 2);
    for (size_t i = 0; i < 40; i++)
        assert_int_equal(s.src->done[i], 1);
    ak_xdr_ship_free(s.ship);
    s.ship = NULL;
    ak_http_server_free(server);
    akt_finish(&s);
    free(sink);
}

static void test_http1_200_is_done_and_503_is_retried(void **state)
{
    (void)state;
    akt_http_run(AK_XDR_PROTO_HTTP1);
}

static void test_http2_200_is_done_and_503_is_retried(void **state)
{
    (void)state;
    akt_http_run(AK_XDR_PROTO_HTTP2);
}

/* Holds requests and answers them together once `batch` are held (or a
 * straggler batch after 20 ms), so the requests held at once are the ones
 * in flight on the shipper's connections. */
typedef struct akt_h2_batch_sink {
    ak_loop_t *loop;
    ak_http_request_t *held[AKT_MAX_RECORDS];
    size_t n_held, max_held, batch, requests;
    uint64_t timer;
} akt_h2_batch_sink_t;

static void akt_h2_answer_held(ak_loop_t *loop, void *arg)
{
    (void)loop;
    akt_h2_batch_sink_t *sink = arg;
    sink->timer = 0;
    for (size_t i = 0; i < sink->n_held; i++)
        ak_http_respond(sink->held[i], 200, NULL, NULL, 0);
    sink->n_held = 0;
}

static void akt_h2_batch_handler(void *ctx, ak_http_request_t *req, const ak_http_request_info_t *info)
{
    akt_h2_batch_sink_t *sink = ctx;
    assert_int_equal(info->http_version, 20);
    sink->requests++;
    sink->held[sink->n_held++] = req;
    if (sink->n_held > sink->max_held)
        sink->max_held = sink->n_held;
    if (sink->timer && sink->n_held == sink->batch)
        ak_loop_timer_cancel(sink->loop, sink->timer);
    if (sink->n_held == sink->batch)
        sink->timer = ak_loop_timer(sink->loop, 0, akt_h2_answer_held, sink);
    else if (!sink->timer)
        sink->timer = ak_loop_timer(sink->loop, 20, akt_h2_answer_held, sink);
}

static void test_http2_multiplexes_notifications_over_one_connection(void **state)
{
    (void)state;
    akt_setup_t s = akt_start(200, true);
    s.src->in_flight_limit = 64;
    akt_h2_batch_sink_t *sink = calloc(1, sizeof *sink);
    assert_non_null(sink);
    sink->loop = s.loop;
    sink->batch = 64;
    ak_error_t err = {0};
    ak_http_server_options_t sopts = {.host = "127.0.0.1"};
    ak_http_server_t *server = ak_http_server_new(s.loop, &sopts, akt_h2_batch_handler, sink, &err);
    if (!server)
        fail_msg("ak_http_server_new: %s", err.message);
    char address[32];
    snprintf(address, sizeof address, "127.0.0.1:%u", ak_http_server_port(server));
    const char *dest[] = {address};
    akt_start_ship(&s, dest, 1, AK_XDR_PROTO_HTTP2, 1, 64, 5000);
    akt_run(s.src);

    ak_xdr_ship_stats_t st;
    akt_stats(&s, &st);
    assert_int_equal(st.acknowledged, 200);
    assert_int_equal(st.shipped, 200);
    assert_int_equal(st.retried, 0);
    assert_int_equal(st.connects, 1);
    ak_http_server_stats_t server_stats;
    ak_http_server_stats(server, &server_stats);
    assert_int_equal(server_stats.connections_accepted, 1); /* not one per notification */
    assert_int_equal(server_stats.requests, 200);
    assert_int_equal(sink->max_held, 64); /* 64 streams open at once on it */
    for (size_t i = 0; i < 200; i++)
        assert_int_equal(s.src->done[i], 1);
    ak_xdr_ship_free(s.ship);
    s.ship = NULL;
    if (sink->timer)
        ak_loop_timer_cancel(s.loop, sink->timer);
    ak_http_server_free(server);
    akt_finish(&s);
    free(sink);
}

static void test_protocol_names_round_trip(void **state)
{
    (void)state;
    ak_xdr_protocol_t p;
    assert_true(ak_xdr_protocol_parse("tcp", &p));
    assert_int_equal(p, AK_XDR_PROTO_TCP);
    assert_true(ak_xdr_protocol_parse("http1", &p));
    assert_int_equal(p, AK_XDR_PROTO_HTTP1);
    assert_true(ak_xdr_protocol_parse("http2", &p));
    assert_int_equal(p, AK_XDR_PROTO_HTTP2);
    assert_false(ak_xdr_protocol_parse("udp", &p));
    assert_string_equal(ak_xdr_protocol_name(AK_XDR_PROTO_HTTP2), "http2");
}

static void test_bad_destination_is_an_error_naming_it(void **state)
{
    (void)state;
    ak_error_t err;
    ak_loop_t *loop = ak_loop_new(&err);
    const char *dest[] = {"localhost"};
    ak_xdr_ship_options_t opts = {.destinations = dest, .n_destinations = 1};
    akt_source_t src = {0};
    ak_xdr_ship_t *ship = ak_xdr_ship_new(loop, &opts, akt_next, akt_result, &src, &err);
    assert_null(ship);
    assert_int_equal(err.status, AK_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "localhost"));
    ak_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_notification_is_acknowledged_and_counted),
        cmocka_unit_test(test_key_busy_is_retried_and_the_requeued_copy_acknowledged),
        cmocka_unit_test(test_parameter_error_is_abandoned_and_not_resent),
        cmocka_unit_test(test_silence_beyond_timeout_is_retried_and_counted),
        cmocka_unit_test(test_dropped_connection_retries_in_flight_and_reconnects),
        cmocka_unit_test(test_two_destinations_share_notifications_round_robin),
        cmocka_unit_test(test_in_flight_never_exceeds_the_limit),
        cmocka_unit_test(test_unreachable_destination_counts_connect_failures),
        cmocka_unit_test(test_http1_200_is_done_and_503_is_retried),
        cmocka_unit_test(test_http2_200_is_done_and_503_is_retried),
        cmocka_unit_test(test_http2_multiplexes_notifications_over_one_connection),
        cmocka_unit_test(test_protocol_names_round_trip),
        cmocka_unit_test(test_bad_destination_is_an_error_naming_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
