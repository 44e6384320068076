/*
 * ak_xdr_ship: the XDR-side shipper (see ak_xdr_ship.h).
 *
 * TCP: each connection keeps a ring of the notifications it has in flight,
 * in send order. Frames are pulled from the source straight into the
 * connection's output buffer, so a burst becomes one write; replies are read
 * in bulk and matched to the ring head, because a connector answers in
 * request order per connection. A timeout or a dropped connection retries
 * the whole ring: once one reply is missing, later ones cannot be matched.
 *
 * HTTP/1.1: libcurl's multi interface driven by the loop (curl's socket
 * and timer callbacks mapped onto ak_loop io watchers and timers), so every
 * callback to the source stays on the loop thread without a helper thread.
 *
 * HTTP/2 (prior knowledge): ak_h2_client, nghttp2 on the loop, with
 * connections_per_destination connections each multiplexing up to
 * in_flight_per_connection streams. Not libcurl: before 8.0.0 (Debian 12
 * ships 7.88.1) it fails every request that reuses a prior-knowledge HTTP/2
 * connection with "Error in the HTTP2 framing layer" (curl issue #10634),
 * which would leave one connection per notification.
 */
#include "dev/ak_xdr_ship.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/ak_h2_client.h"
#include "net/ak_sock.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"

#define AK_XDR_HOST_MAX 256
/* A reply larger than this is not a reply: treat the stream as garbage. */
#define AK_XDR_REPLY_MAX (1024 * 1024)
#define AK_XDR_READ_CHUNK (64 * 1024)

typedef struct ak_xdr_pending {
    uint64_t token;
    uint64_t sent_us;
} ak_xdr_pending_t;

typedef enum ak_xdr_conn_state {
    AK_XDR_CONN_DOWN = 0,
    AK_XDR_CONN_CONNECTING,
    AK_XDR_CONN_UP,
} ak_xdr_conn_state_t;

typedef struct ak_xdr_dest ak_xdr_dest_t;
typedef struct ak_xdr_http_slot ak_xdr_http_slot_t;
typedef struct ak_xdr_h2_conn ak_xdr_h2_conn_t;
typedef struct ak_xdr_h2_req ak_xdr_h2_req_t;

/* One TCP connection to a destination. */
typedef struct ak_xdr_conn {
    ak_xdr_ship_t *ship;
    ak_xdr_dest_t *dest;
    int fd;
    ak_io_t io;
    ak_xdr_conn_state_t state;
    uint64_t connect_started_ms;
    uint64_t reconnect_timer;
    ak_buf_t out;   /* frames not yet written, from out_off */
    size_t out_off;
    ak_buf_t in;    /* reply bytes not yet matched */
    ak_xdr_pending_t *ring; /* in send order: head is the next reply */
    uint32_t head, count;
} ak_xdr_conn_t;

/* An HTTP request in flight (or ready for reuse): its easy handle keeps the
 * destination's options across requests. */
struct ak_xdr_http_slot {
    ak_xdr_http_slot_t *next_free;
    ak_xdr_dest_t *dest;
    CURL *easy;
    ak_buf_t body; /* version byte 1 + the frame */
    uint64_t token;
    uint64_t sent_us;
    bool busy;
};

/* A notification in flight on an HTTP/2 connection (or ready for reuse). */
struct ak_xdr_h2_req {
    ak_xdr_h2_req_t *next_free;
    ak_xdr_h2_conn_t *conn;
    ak_buf_t body; /* version byte 1 + the frame; the client sends from it */
    uint64_t token;
    uint64_t sent_us;
};

/* One HTTP/2 connection to a destination: a client while it is up (or
 * coming up), a reconnect timer while it is down. */
struct ak_xdr_h2_conn {
    ak_xdr_ship_t *ship;
    ak_xdr_dest_t *dest;
    ak_h2_client_t *client;
    bool was_ready;           /* this client got as far as READY */
    uint64_t reconnect_timer;
    ak_xdr_h2_req_t *reqs;    /* in_flight_per_connection of them */
    ak_xdr_h2_req_t *free_reqs;
};

/* A socket curl asked us to watch. Kept (and reused) until the shipper is
 * freed, so an event still pending for a socket curl has dropped lands on a
 * live struct; curl shrugs off the odd spurious wake-up. */
typedef struct ak_xdr_http_sock {
    struct ak_xdr_http_sock *next;
    ak_xdr_ship_t *ship;
    ak_io_t io;
    bool in_use;
} ak_xdr_http_sock_t;

struct ak_xdr_dest {
    char host[AK_XDR_HOST_MAX];
    uint16_t port;
    char *url;                     /* HTTP/1.1 only */
    ak_xdr_http_slot_t *slots;     /* HTTP/1.1 only */
    ak_xdr_http_slot_t *free_slots;
    uint64_t down_until_ms;        /* HTTP/1.1: skip after a connection failure */
};

struct ak_xdr_ship {
    ak_loop_t *loop;
    ak_xdr_ship_options_t opts;
    ak_xdr_next_fn next;
    ak_xdr_result_fn result;
    void *ctx;
    ak_xdr_ship_stats_t stats;

    ak_xdr_dest_t *dests;
    size_t n_dests;
    size_t rr;          /* round-robin cursor over conns (TCP, HTTP/2) or dests (HTTP/1.1) */
    bool pumping;       /* inside ak_xdr_pump: a kick only asks for another pass */
    bool want_pump;
    bool freeing;

    /* TCP */
    ak_xdr_conn_t *conns; /* interleaved: conns[c * n_dests + d] */
    size_t n_conns;
    uint64_t tick_timer;
    uint32_t tick_ms;

    /* HTTP/1.1 */
    CURLM *multi;
    struct curl_slist *headers;
    uint64_t curl_timer;
    uint64_t down_timer;
    ak_xdr_http_sock_t *socks;
    size_t slots_per_dest;

    /* HTTP/2 */
    ak_xdr_h2_conn_t *h2_conns; /* interleaved: h2_conns[c * n_dests + d] */
    size_t n_h2_conns;
};

bool ak_xdr_protocol_parse(const char *name, ak_xdr_protocol_t *out)
{
    if (strcmp(name, "tcp") == 0)
        *out = AK_XDR_PROTO_TCP;
    else if (strcmp(name, "http1") == 0)
        *out = AK_XDR_PROTO_HTTP1;
    else if (strcmp(name, "http2") == 0)
        *out = AK_XDR_PROTO_HTTP2;
    else
        return false;
    return true;
}

const char *ak_xdr_protocol_name(ak_xdr_protocol_t protocol)
{
    switch (protocol) {
    case AK_XDR_PROTO_TCP: return "tcp";
    case AK_XDR_PROTO_HTTP1: return "http1";
    case AK_XDR_PROTO_HTTP2: return "http2";
    }
    return "unknown";
}

static void ak_xdr_pump(ak_xdr_ship_t *ship);

/* Every outcome goes through here so the counters always agree with what
 * the source was told. */
static void ak_xdr_report(ak_xdr_ship_t *ship, uint64_t token, ak_xdr_class_t cls, int result_code,
                          int http_status, uint64_t latency_us)
{
    ship->stats.in_flight--;
    switch (cls) {
    case AK_XDR_DONE: ship->stats.acknowledged++; break;
    case AK_XDR_RETRY: ship->stats.retried++; break;
    case AK_XDR_ABANDON: ship->stats.abandoned++; break;
    }
    /* A kick from inside the callback only flags another pump pass. */
    bool was_pumping = ship->pumping;
    ship->pumping = true;
    ship->result(ship->ctx, token, cls, result_code, http_status, latency_us);
    ship->pumping = was_pumping;
}

/* ------------------------------------------------------------------ TCP */

static void ak_xdr_conn_connect(ak_xdr_conn_t *conn);

static void ak_xdr_conn_reconnect_fire(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_xdr_conn_t *conn = arg;
    conn->reconnect_timer = 0;
    ak_xdr_conn_connect(conn);
    ak_xdr_pump(conn->ship);
}

static void ak_xdr_conn_close_fd(ak_xdr_conn_t *conn)
{
    if (conn->fd >= 0) {
        ak_loop_io_stop(conn->ship->loop, &conn->io);
        close(conn->fd);
        conn->fd = -1;
    }
    conn->state = AK_XDR_CONN_DOWN;
    ak_buf_free(&conn->out);
    ak_buf_init(&conn->out);
    conn->out_off = 0;
    conn->in.len = 0;
}

/* Reports everything in flight on conn as retry; those older than the
 * timeout count as timeouts. */
static void ak_xdr_conn_retry_all(ak_xdr_conn_t *conn, bool count_timeouts)
{
    ak_xdr_ship_t *ship = conn->ship;
    uint64_t now_us = ak_clock_us();
    uint64_t timeout_us = (uint64_t)ship->opts.timeout_ms * 1000u;
    uint32_t cap = (uint32_t)ship->opts.in_flight_per_connection;
    while (conn->count) {
        ak_xdr_pending_t p = conn->ring[conn->head];
        conn->head = (conn->head + 1) % cap;
        conn->count--;
        uint64_t age = now_us > p.sent_us ? now_us - p.sent_us : 0;
        if (count_timeouts && age >= timeout_us)
            ship->stats.timeouts++;
        ak_xdr_report(ship, p.token, AK_XDR_RETRY, -1, 0, age);
    }
}

/* The connection is unusable (dropped, garbage, timeout): close it, retry
 * what it carried, and come back after reconnect_delay_ms. */
static void ak_xdr_conn_fail(ak_xdr_conn_t *conn, bool count_timeouts)
{
    ak_xdr_ship_t *ship = conn->ship;
    ak_xdr_conn_close_fd(conn);
    ak_xdr_conn_retry_all(conn, count_timeouts);
    if (!ship->freeing && !conn->reconnect_timer)
        conn->reconnect_timer = ak_loop_timer(ship->loop, ship->opts.reconnect_delay_ms,
                                              ak_xdr_conn_reconnect_fire, conn);
}

static void ak_xdr_conn_connect_failed(ak_xdr_conn_t *conn)
{
    conn->ship->stats.connect_failures++;
    ak_xdr_conn_fail(conn, false);
}

/* Writes as much of the output buffer as the socket takes; watches for
 * writability when it takes less. Returns false if the connection failed. */
static bool ak_xdr_conn_flush(ak_xdr_conn_t *conn)
{
    while (conn->out_off < conn->out.len) {
        ssize_t n = send(conn->fd, conn->out.data + conn->out_off, conn->out.len - conn->out_off,
                         MSG_NOSIGNAL);
        if (n > 0) {
            conn->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ak_loop_io_set(conn->ship->loop, &conn->io, AK_IO_READ | AK_IO_WRITE);
            return true;
        }
        ak_xdr_conn_fail(conn, false);
        return false;
    }
    conn->out.len = 0;
    conn->out_off = 0;
    ak_loop_io_set(conn->ship->loop, &conn->io, AK_IO_READ);
    return true;
}

/* Matches complete reply frames in the input buffer to the ring. Returns
 * false if the connection failed (garbage or an unsolicited reply). */
static bool ak_xdr_conn_process_replies(ak_xdr_conn_t *conn)
{
    ak_xdr_ship_t *ship = conn->ship;
    uint32_t cap = (uint32_t)ship->opts.in_flight_per_connection;
    uint64_t now_us = ak_clock_us();
    size_t pos = 0;
    while (pos < conn->in.len) {
        ak_frame_t frame;
        size_t consumed;
        ak_frame_scan_t scan =
            ak_frame_next(conn->in.data + pos, conn->in.len - pos, pos, &frame, &consumed, NULL);
        if (scan == AK_FRAME_NEED_MORE) {
            if (conn->in.len - pos >= AK_PROTO_HEADER_SIZE) {
                uint64_t size = ((uint64_t)ak_get_be16(conn->in.data + pos + 2) << 32) |
                                ak_get_be32(conn->in.data + pos + 4);
                if (size > AK_XDR_REPLY_MAX)
                    goto garbage;
            }
            break;
        }
        /* A reply is an AS_MSG with its 22-byte header; result_code is
         * byte 5 of that header. */
        if (scan == AK_FRAME_ERROR || frame.header.type != AK_PROTO_TYPE_MESSAGE ||
            frame.header.size < AK_MSG_HEADER_SIZE || conn->count == 0)
            goto garbage;
        int code = frame.body[5];
        ak_xdr_pending_t p = conn->ring[conn->head];
        conn->head = (conn->head + 1) % cap;
        conn->count--;
        pos += consumed;
        ak_xdr_report(ship, p.token, ak_result_xdr_class(code), code, 0,
                      now_us > p.sent_us ? now_us - p.sent_us : 0);
    }
    if (pos) {
        memmove(conn->in.data, conn->in.data + pos, conn->in.len - pos);
        conn->in.len -= pos;
    }
    return true;
garbage:
    ak_xdr_conn_fail(conn, false);
    return false;
}

static void ak_xdr_conn_read(ak_xdr_conn_t *conn)
{
    for (;;) {
        if (!ak_buf_reserve(&conn->in, AK_XDR_READ_CHUNK)) {
            ak_xdr_conn_fail(conn, false);
            return;
        }
        size_t room = conn->in.cap - conn->in.len;
        ssize_t n = read(conn->fd, conn->in.data + conn->in.len, room);
        if (n > 0) {
            conn->in.len += (size_t)n;
            if (!ak_xdr_conn_process_replies(conn))
                return;
            if ((size_t)n < room)
                return; /* drained: the next readiness brings more */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        ak_xdr_conn_fail(conn, false); /* EOF or error */
        return;
    }
}

static void ak_xdr_conn_io(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    ak_xdr_conn_t *conn = io->data;
    ak_xdr_ship_t *ship = conn->ship;
    if (conn->state == AK_XDR_CONN_CONNECTING) {
        if (ak_sock_connect_result(conn->fd) != 0) {
            ak_xdr_conn_connect_failed(conn);
            return;
        }
        conn->state = AK_XDR_CONN_UP;
        ship->stats.connects++;
        ak_loop_io_set(ship->loop, &conn->io, AK_IO_READ);
        ak_xdr_pump(ship);
        return;
    }
    if (conn->state != AK_XDR_CONN_UP)
        return;
    if (events & AK_IO_WRITE) {
        if (!ak_xdr_conn_flush(conn))
            return;
    }
    if (events & AK_IO_READ) {
        ak_xdr_conn_read(conn);
        ak_xdr_pump(ship);
    }
}

static void ak_xdr_conn_connect(ak_xdr_conn_t *conn)
{
    ak_xdr_ship_t *ship = conn->ship;
    int fd = ak_sock_connect(conn->dest->host, conn->dest->port, NULL);
    if (fd < 0) {
        ak_xdr_conn_connect_failed(conn);
        return;
    }
    conn->fd = fd;
    conn->state = AK_XDR_CONN_CONNECTING;
    conn->connect_started_ms = ak_loop_now_ms(ship->loop);
    ak_io_init(&conn->io, fd, ak_xdr_conn_io, conn);
    if (ak_loop_io_start(ship->loop, &conn->io, AK_IO_WRITE, NULL) != AK_OK) {
        close(fd);
        conn->fd = -1;
        ak_xdr_conn_connect_failed(conn);
    }
}

/* Periodic check for notifications unanswered for timeout_ms. The ring head
 * is the oldest on each connection, so one look per connection suffices. */
static void ak_xdr_tick(ak_loop_t *loop, void *arg)
{
    ak_xdr_ship_t *ship = arg;
    uint64_t now_us = ak_clock_us();
    uint64_t timeout_us = (uint64_t)ship->opts.timeout_ms * 1000u;
    ship->tick_timer = 0;
    for (size_t i = 0; i < ship->n_conns; i++) {
        ak_xdr_conn_t *conn = &ship->conns[i];
        if (conn->state == AK_XDR_CONN_CONNECTING &&
            ak_loop_now_ms(loop) - conn->connect_started_ms >= ship->opts.timeout_ms) {
            ak_xdr_conn_connect_failed(conn);
        } else if (conn->state == AK_XDR_CONN_UP && conn->count &&
                   now_us - conn->ring[conn->head].sent_us >= timeout_us) {
            ak_xdr_conn_fail(conn, true);
        }
    }
    ship->tick_timer = ak_loop_timer(loop, ship->tick_ms, ak_xdr_tick, ship);
    ak_xdr_pump(ship);
}

static void ak_xdr_pump_tcp(ak_xdr_ship_t *ship)
{
    uint32_t cap = (uint32_t)ship->opts.in_flight_per_connection;
    uint64_t now_us = ak_clock_us();
    size_t n = ship->n_conns, idle = 0;
    bool pulled = false;
    while (idle < n) {
        ak_xdr_conn_t *conn = &ship->conns[ship->rr];
        ship->rr = (ship->rr + 1) % n;
        if (conn->state != AK_XDR_CONN_UP || conn->count >= cap) {
            idle++;
            continue;
        }
        size_t before = conn->out.len;
        uint64_t token = 0;
        if (!ship->next(ship->ctx, &conn->out, &token)) {
            conn->out.len = before;
            /* keep this connection's turn: an empty pull must not use it up,
             * or notifications arriving one at a time skew the split */
            ship->rr = (size_t)(conn - ship->conns);
            break;
        }
        conn->ring[(conn->head + conn->count) % cap] = (ak_xdr_pending_t){token, now_us};
        conn->count++;
        ship->stats.shipped++;
        ship->stats.in_flight++;
        pulled = true;
        idle = 0;
        if (ak_buf_failed(&conn->out) || conn->out.len - before < AK_PROTO_HEADER_SIZE) {
            /* Out of memory or no frame: this stream can no longer be
             * trusted, so everything on it goes back to the source. */
            ak_xdr_conn_fail(conn, false);
        }
    }
    if (!pulled)
        return;
    for (size_t i = 0; i < n; i++) {
        ak_xdr_conn_t *conn = &ship->conns[i];
        if (conn->state == AK_XDR_CONN_UP && conn->out_off < conn->out.len &&
            !(conn->io.events & AK_IO_WRITE))
            ak_xdr_conn_flush(conn);
    }
}

/* ------------------------------------------------------------ HTTP/1.1 */

static void ak_xdr_http_check_done(ak_xdr_ship_t *ship);

static void ak_xdr_http_io(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    ak_xdr_http_sock_t *hs = io->data;
    ak_xdr_ship_t *ship = hs->ship;
    int mask = 0;
    if (events & AK_IO_READ)
        mask |= CURL_CSELECT_IN;
    if (events & AK_IO_WRITE)
        mask |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(ship->multi, io->fd, mask, &running);
    ak_xdr_http_check_done(ship);
}

static int ak_xdr_http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
                                 void *socketp)
{
    (void)easy;
    ak_xdr_ship_t *ship = userp;
    ak_xdr_http_sock_t *hs = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (hs) {
            ak_loop_io_stop(ship->loop, &hs->io);
            hs->in_use = false;
            curl_multi_assign(ship->multi, s, NULL);
        }
        return 0;
    }
    unsigned events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= AK_IO_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= AK_IO_WRITE;
    if (!hs) {
        for (ak_xdr_http_sock_t *h = ship->socks; h; h = h->next)
            if (!h->in_use) {
                hs = h;
                break;
            }
        if (!hs) {
            hs = calloc(1, sizeof *hs);
            if (!hs)
                return -1;
            hs->ship = ship;
            hs->next = ship->socks;
            ship->socks = hs;
        }
        hs->in_use = true;
        ak_io_init(&hs->io, s, ak_xdr_http_io, hs);
        if (ak_loop_io_start(ship->loop, &hs->io, events, NULL) != AK_OK) {
            hs->in_use = false;
            return -1;
        }
        curl_multi_assign(ship->multi, s, hs);
    } else {
        ak_loop_io_set(ship->loop, &hs->io, events);
    }
    return 0;
}

static void ak_xdr_http_timer_fire(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_xdr_ship_t *ship = arg;
    ship->curl_timer = 0;
    int running;
    curl_multi_socket_action(ship->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    ak_xdr_http_check_done(ship);
}

static int ak_xdr_http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    ak_xdr_ship_t *ship = userp;
    if (ship->curl_timer) {
        ak_loop_timer_cancel(ship->loop, ship->curl_timer);
        ship->curl_timer = 0;
    }
    if (timeout_ms >= 0)
        ship->curl_timer =
            ak_loop_timer(ship->loop, (uint64_t)timeout_ms, ak_xdr_http_timer_fire, ship);
    return 0;
}

static size_t ak_xdr_http_discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

static void ak_xdr_http_down_fire(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_xdr_ship_t *ship = arg;
    ship->down_timer = 0;
    ak_xdr_pump(ship);
}

static void ak_xdr_http_check_done(ak_xdr_ship_t *ship)
{
    CURLMsg *msg;
    int left;
    bool was_pumping = ship->pumping;
    ship->pumping = true; /* kicks from the result callbacks wait for the end */
    while ((msg = curl_multi_info_read(ship->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        char *private_ptr = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private_ptr);
        ak_xdr_http_slot_t *slot = (ak_xdr_http_slot_t *)(void *)private_ptr;
        long status = 0, connects = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
        curl_multi_remove_handle(ship->multi, easy);
        ship->stats.connects += (uint64_t)connects;
        uint64_t now_us = ak_clock_us();
        uint64_t latency = now_us > slot->sent_us ? now_us - slot->sent_us : 0;
        slot->busy = false;
        slot->next_free = slot->dest->free_slots;
        slot->dest->free_slots = slot;
        if (code == CURLE_OK && status == 200) {
            ak_xdr_report(ship, slot->token, AK_XDR_DONE, 0, 200, latency);
            continue;
        }
        /* Legacy XDR re-ships anything that is not a 200. */
        if (code == CURLE_OPERATION_TIMEDOUT)
            ship->stats.timeouts++;
        if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) {
            ship->stats.connect_failures++;
        }
        if (status == 0 && code != CURLE_OPERATION_TIMEDOUT) {
            /* No answer at all: give the destination reconnect_delay_ms
             * before trying it again, rather than spinning on it. */
            slot->dest->down_until_ms = ak_clock_ms() + ship->opts.reconnect_delay_ms;
            if (!ship->down_timer && !ship->freeing)
                ship->down_timer = ak_loop_timer(ship->loop, ship->opts.reconnect_delay_ms,
                                                 ak_xdr_http_down_fire, ship);
        }
        ak_xdr_report(ship, slot->token, AK_XDR_RETRY, -1, (int)status, latency);
    }
    ship->pumping = was_pumping;
    ak_xdr_pump(ship);
}

static void ak_xdr_pump_http(ak_xdr_ship_t *ship)
{
    uint64_t now_ms = ak_clock_ms();
    uint64_t now_us = now_ms * 1000u;
    size_t n = ship->n_dests, idle = 0;
    while (idle < n) {
        ak_xdr_dest_t *dest = &ship->dests[ship->rr];
        ship->rr = (ship->rr + 1) % n;
        if (!dest->free_slots || dest->down_until_ms > now_ms) {
            idle++;
            continue;
        }
        ak_xdr_http_slot_t *slot = dest->free_slots;
        ak_buf_clear(&slot->body);
        ak_buf_append_byte(&slot->body, 1);
        uint64_t token = 0;
        if (!ship->next(ship->ctx, &slot->body, &token)) {
            ship->rr = (size_t)(dest - ship->dests); /* keep this turn */
            break;
        }
        dest->free_slots = slot->next_free;
        slot->busy = true;
        slot->token = token;
        slot->sent_us = now_us;
        ship->stats.shipped++;
        ship->stats.in_flight++;
        idle = 0;
        if (ak_buf_failed(&slot->body)) {
            ak_buf_free(&slot->body);
            ak_buf_init(&slot->body);
            slot->busy = false;
            slot->next_free = dest->free_slots;
            dest->free_slots = slot;
            ak_xdr_report(ship, token, AK_XDR_RETRY, -1, 0, 0);
            continue;
        }
        curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDS, (const char *)slot->body.data);
        curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)slot->body.len);
        if (curl_multi_add_handle(ship->multi, slot->easy) != CURLM_OK) {
            slot->busy = false;
            slot->next_free = dest->free_slots;
            dest->free_slots = slot;
            ak_xdr_report(ship, token, AK_XDR_RETRY, -1, 0, 0);
        }
    }
}

static pthread_once_t ak_xdr_curl_once = PTHREAD_ONCE_INIT;

static void ak_xdr_curl_global_init(void)
{
    /* curl_global_init is not thread-safe in every build: do it once. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static ak_status_t ak_xdr_http_setup(ak_xdr_ship_t *ship, ak_error_t *err)
{
    pthread_once(&ak_xdr_curl_once, ak_xdr_curl_global_init);
    ship->multi = curl_multi_init();
    if (!ship->multi)
        return ak_error_set(err, AK_ERR_NOMEM, "xdr-ship: curl_multi_init failed");
    const ak_xdr_ship_options_t *o = &ship->opts;
    /* One request per keep-alive connection at a time, so the in-flight
     * window is the number of parallel connections. */
    ship->slots_per_dest = (size_t)o->connections_per_destination * (size_t)o->in_flight_per_connection;
    curl_multi_setopt(ship->multi, CURLMOPT_SOCKETFUNCTION, ak_xdr_http_socket_cb);
    curl_multi_setopt(ship->multi, CURLMOPT_SOCKETDATA, ship);
    curl_multi_setopt(ship->multi, CURLMOPT_TIMERFUNCTION, ak_xdr_http_timer_cb);
    curl_multi_setopt(ship->multi, CURLMOPT_TIMERDATA, ship);
    curl_multi_setopt(ship->multi, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
    curl_multi_setopt(ship->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)ship->slots_per_dest);
    curl_multi_setopt(ship->multi, CURLMOPT_MAXCONNECTS,
                      (long)(ship->slots_per_dest * ship->n_dests));

    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    /* No "Expect: 100-continue" round trip for larger bodies. */
    struct curl_slist *hlist = h ? curl_slist_append(h, "Expect:") : NULL;
    if (!hlist) {
        curl_slist_free_all(h);
        return ak_error_set(err, AK_ERR_NOMEM, "xdr-ship: no memory for HTTP headers");
    }
    ship->headers = hlist;

    for (size_t d = 0; d < ship->n_dests; d++) {
        ak_xdr_dest_t *dest = &ship->dests[d];
        bool v6 = strchr(dest->host, ':') != NULL;
        size_t url_len = strlen(dest->host) + strlen(o->http_path) + 32;
        dest->url = malloc(url_len);
        dest->slots = calloc(ship->slots_per_dest, sizeof *dest->slots);
        if (!dest->url || !dest->slots)
            return ak_error_set(err, AK_ERR_NOMEM, "xdr-ship: no memory for HTTP slots");
        snprintf(dest->url, url_len, v6 ? "http://[%s]:%u%s" : "http://%s:%u%s", dest->host,
                 dest->port, o->http_path);
        for (size_t i = ship->slots_per_dest; i-- > 0;) {
            ak_xdr_http_slot_t *slot = &dest->slots[i];
            slot->dest = dest;
            ak_buf_init(&slot->body);
            slot->easy = curl_easy_init();
            if (!slot->easy)
                return ak_error_set(err, AK_ERR_NOMEM, "xdr-ship: curl_easy_init failed");
            CURL *e = slot->easy;
            curl_easy_setopt(e, CURLOPT_URL, dest->url);
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, ship->headers);
            curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ak_xdr_http_discard);
            curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)slot);
            slot->next_free = dest->free_slots;
            dest->free_slots = slot;
        }
    }
    return AK_OK;
}

/* -------------------------------------------------------------- HTTP/2 */

static void ak_xdr_h2_connect(ak_xdr_h2_conn_t *conn);

static void ak_xdr_h2_reconnect_fire(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_xdr_h2_conn_t *conn = arg;
    conn->reconnect_timer = 0;
    ak_xdr_h2_connect(conn);
}

static void ak_xdr_h2_schedule_reconnect(ak_xdr_h2_conn_t *conn)
{
    ak_xdr_ship_t *ship = conn->ship;
    if (!ship->freeing && !conn->reconnect_timer)
        conn->reconnect_timer = ak_loop_timer(ship->loop, ship->opts.reconnect_delay_ms,
                                              ak_xdr_h2_reconnect_fire, conn);
}

/* Legacy XDR re-ships anything that is not a 200: another status, a reset
 * stream, a timeout, a dropped connection. */
static void ak_xdr_h2_done(void *req_ctx, const ak_h2_response_t *resp)
{
    ak_xdr_h2_req_t *req = req_ctx;
    ak_xdr_h2_conn_t *conn = req->conn;
    ak_xdr_ship_t *ship = conn->ship;
    uint64_t now_us = ak_clock_us();
    uint64_t latency = now_us > req->sent_us ? now_us - req->sent_us : 0;
    uint64_t token = req->token;
    req->next_free = conn->free_reqs;
    conn->free_reqs = req;
    if (resp->error == AK_H2_OK && resp->status == 200) {
        ak_xdr_report(ship, token, AK_XDR_DONE, 0, 200, latency);
    } else {
        if (resp->error == AK_H2_ERR_TIMEOUT)
            ship->stats.timeouts++;
        ak_xdr_report(ship, token, AK_XDR_RETRY, -1, resp->error == AK_H2_OK ? resp->status : 0,
                      latency);
    }
    ak_xdr_pump(ship);
}

static void ak_xdr_h2_event(void *ctx, ak_h2_client_t *client, ak_h2_client_state_t state,
                            const char *reason)
{
    (void)reason;
    ak_xdr_h2_conn_t *conn = ctx;
    ak_xdr_ship_t *ship = conn->ship;
    switch (state) {
    case AK_H2_CLIENT_READY:
        if (!conn->was_ready)
            ship->stats.connects++;
        conn->was_ready = true;
        ak_xdr_pump(ship);
        break;
    case AK_H2_CLIENT_CLOSED:
        /* Whatever it carried has been reported as retry already. */
        if (!conn->was_ready)
            ship->stats.connect_failures++;
        ak_h2_client_free(client);
        conn->client = NULL;
        ak_xdr_h2_schedule_reconnect(conn);
        break;
    case AK_H2_CLIENT_CONNECTING:
    case AK_H2_CLIENT_DRAINING:
        break; /* no room until it closes; the other connections carry on */
    }
}

static void ak_xdr_h2_connect(ak_xdr_h2_conn_t *conn)
{
    ak_xdr_ship_t *ship = conn->ship;
    ak_h2_client_options_t copts = {
        .max_streams = (uint32_t)ship->opts.in_flight_per_connection,
        .connect_timeout_ms = ship->opts.timeout_ms,
        .request_timeout_ms = ship->opts.timeout_ms,
    };
    conn->was_ready = false;
    conn->client = ak_h2_client_new(ship->loop, conn->dest->host, conn->dest->port, &copts,
                                    ak_xdr_h2_event, conn, NULL);
    if (!conn->client) {
        ship->stats.connect_failures++;
        ak_xdr_h2_schedule_reconnect(conn);
    }
}

static void ak_xdr_pump_h2(ak_xdr_ship_t *ship)
{
    uint64_t now_us = ak_clock_us();
    size_t n = ship->n_h2_conns, idle = 0;
    while (idle < n) {
        ak_xdr_h2_conn_t *conn = &ship->h2_conns[ship->rr];
        ship->rr = (ship->rr + 1) % n;
        if (!conn->client || !conn->free_reqs || ak_h2_client_capacity(conn->client) == 0) {
            idle++;
            continue;
        }
        ak_xdr_h2_req_t *req = conn->free_reqs;
        ak_buf_clear(&req->body);
        ak_buf_append_byte(&req->body, 1);
        uint64_t token = 0;
        if (!ship->next(ship->ctx, &req->body, &token)) {
            ship->rr = (size_t)(conn - ship->h2_conns); /* keep this turn */
            break;
        }
        conn->free_reqs = req->next_free;
        req->token = token;
        req->sent_us = now_us;
        ship->stats.shipped++;
        ship->stats.in_flight++;
        idle = 0;
        ak_status_t st = AK_ERR_NOMEM;
        if (!ak_buf_failed(&req->body))
            st = ak_h2_client_post(conn->client, ship->opts.http_path, req->body.data,
                                   req->body.len, ak_xdr_h2_done, req, NULL);
        if (st != AK_OK) {
            if (ak_buf_failed(&req->body)) {
                ak_buf_free(&req->body);
                ak_buf_init(&req->body);
            }
            req->next_free = conn->free_reqs;
            conn->free_reqs = req;
            ak_xdr_report(ship, token, AK_XDR_RETRY, -1, 0, 0);
        }
    }
}

static ak_status_t ak_xdr_h2_setup(ak_xdr_ship_t *ship, ak_error_t *err)
{
    size_t per_conn = (size_t)ship->opts.in_flight_per_connection;
    ship->n_h2_conns = ship->n_dests * (size_t)ship->opts.connections_per_destination;
    ship->h2_conns = calloc(ship->n_h2_conns, sizeof *ship->h2_conns);
    if (!ship->h2_conns)
        return ak_error_set(err, AK_ERR_NOMEM, "xdr-ship: no memory for %zu connections",
                            ship->n_h2_conns);
    for (size_t i = 0; i < ship->n_h2_conns; i++) {
        ak_xdr_h2_conn_t *conn = &ship->h2_conns[i];
        conn->ship = ship;
        conn->dest = &ship->dests[i % ship->n_dests];
        conn->reqs = calloc(per_conn, sizeof *conn->reqs);
        if (!conn->reqs)
            return ak_error_set(err, AK_ERR_NOMEM, "xdr-ship: no memory for in-flight requests");
        for (size_t r = per_conn; r-- > 0;) {
            ak_xdr_h2_req_t *req = &conn->reqs[r];
            req->conn = conn;
            ak_buf_init(&req->body);
            req->next_free = conn->free_reqs;
            conn->free_reqs = req;
        }
    }
    for (size_t i = 0; i < ship->n_h2_conns; i++)
        ak_xdr_h2_connect(&ship->h2_conns[i]);
    return AK_OK;
}

/* Frees the clients (what they carry is reported as retry) and the slots. */
static void ak_xdr_h2_teardown(ak_xdr_ship_t *ship)
{
    size_t per_conn = (size_t)ship->opts.in_flight_per_connection;
    for (size_t i = 0; i < ship->n_h2_conns; i++) {
        ak_xdr_h2_conn_t *conn = &ship->h2_conns[i];
        if (conn->reconnect_timer)
            ak_loop_timer_cancel(ship->loop, conn->reconnect_timer);
        conn->reconnect_timer = 0;
        ak_h2_client_t *client = conn->client;
        conn->client = NULL;
        ak_h2_client_free(client);
        for (size_t r = 0; conn->reqs && r < per_conn; r++)
            ak_buf_free(&conn->reqs[r].body);
        free(conn->reqs);
    }
    free(ship->h2_conns);
    ship->h2_conns = NULL;
}

/* -------------------------------------------------------------- public */

static void ak_xdr_pump(ak_xdr_ship_t *ship)
{
    if (ship->freeing)
        return;
    if (ship->pumping) {
        ship->want_pump = true;
        return;
    }
    ship->pumping = true;
    do {
        ship->want_pump = false;
        if (ship->opts.protocol == AK_XDR_PROTO_TCP)
            ak_xdr_pump_tcp(ship);
        else if (ship->opts.protocol == AK_XDR_PROTO_HTTP2)
            ak_xdr_pump_h2(ship);
        else
            ak_xdr_pump_http(ship);
    } while (ship->want_pump);
    ship->pumping = false;
}

void ak_xdr_ship_kick(ak_xdr_ship_t *ship)
{
    ak_xdr_pump(ship);
}

void ak_xdr_ship_stats(const ak_xdr_ship_t *ship, ak_xdr_ship_stats_t *out)
{
    *out = ship->stats;
}

ak_xdr_ship_t *ak_xdr_ship_new(ak_loop_t *loop, const ak_xdr_ship_options_t *opts,
                               ak_xdr_next_fn next, ak_xdr_result_fn result, void *ctx,
                               ak_error_t *err)
{
    if (!loop || !opts || !next || !result || !opts->destinations || opts->n_destinations == 0) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "xdr-ship: need a loop, callbacks and at least one destination");
        return NULL;
    }
    if (opts->protocol != AK_XDR_PROTO_TCP && opts->protocol != AK_XDR_PROTO_HTTP1 &&
        opts->protocol != AK_XDR_PROTO_HTTP2) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "xdr-ship: unknown protocol %d", (int)opts->protocol);
        return NULL;
    }
    if (opts->connections_per_destination < 0 || opts->in_flight_per_connection < 0 ||
        opts->connections_per_destination > 4096 || opts->in_flight_per_connection > 1 << 20) {
        ak_error_set(err, AK_ERR_INVALID_ARG,
                     "xdr-ship: connections_per_destination %d / in_flight_per_connection %d out of range",
                     opts->connections_per_destination, opts->in_flight_per_connection);
        return NULL;
    }
    ak_xdr_ship_t *ship = calloc(1, sizeof *ship);
    if (!ship) {
        ak_error_set(err, AK_ERR_NOMEM, "xdr-ship: no memory");
        return NULL;
    }
    ship->loop = loop;
    ship->next = next;
    ship->result = result;
    ship->ctx = ctx;
    ship->opts = *opts;
    ship->opts.destinations = NULL; /* copied into dests below, not kept */
    if (!ship->opts.connections_per_destination)
        ship->opts.connections_per_destination = 1;
    if (!ship->opts.in_flight_per_connection)
        ship->opts.in_flight_per_connection = 64;
    if (!ship->opts.timeout_ms)
        ship->opts.timeout_ms = 10000;
    if (!ship->opts.reconnect_delay_ms)
        ship->opts.reconnect_delay_ms = 1000;
    if (!ship->opts.http_path || !*ship->opts.http_path)
        ship->opts.http_path = "/";
    ship->opts.http_path = strdup(ship->opts.http_path);
    ship->n_dests = opts->n_destinations;
    ship->dests = calloc(ship->n_dests, sizeof *ship->dests);
    if (!ship->opts.http_path || !ship->dests) {
        ak_error_set(err, AK_ERR_NOMEM, "xdr-ship: no memory");
        goto fail;
    }
    for (size_t d = 0; d < ship->n_dests; d++) {
        if (ak_sock_parse_hostport(opts->destinations[d], ship->dests[d].host, AK_XDR_HOST_MAX,
                                   &ship->dests[d].port, err) != AK_OK) {
            ak_error_prefix(err, "xdr-ship destination %zu", d + 1);
            goto fail;
        }
    }

    if (ship->opts.protocol == AK_XDR_PROTO_TCP) {
        ship->n_conns = ship->n_dests * (size_t)ship->opts.connections_per_destination;
        ship->conns = calloc(ship->n_conns, sizeof *ship->conns);
        if (!ship->conns) {
            ak_error_set(err, AK_ERR_NOMEM, "xdr-ship: no memory for %zu connections", ship->n_conns);
            goto fail;
        }
        for (size_t i = 0; i < ship->n_conns; i++) {
            ak_xdr_conn_t *conn = &ship->conns[i];
            conn->ship = ship;
            conn->dest = &ship->dests[i % ship->n_dests];
            conn->fd = -1;
            ak_buf_init(&conn->out);
            ak_buf_init(&conn->in);
            conn->ring = calloc((size_t)ship->opts.in_flight_per_connection, sizeof *conn->ring);
            if (!conn->ring) {
                ak_error_set(err, AK_ERR_NOMEM, "xdr-ship: no memory for in-flight rings");
                goto fail;
            }
        }
        /* Timeouts are checked on a tick of a tenth of the timeout (5..100
         * ms): cheaper than a timer per notification, and precise enough. */
        uint32_t tick = ship->opts.timeout_ms / 10;
        ship->tick_ms = tick < 5 ? 5 : tick > 100 ? 100 : tick;
        for (size_t i = 0; i < ship->n_conns; i++)
            ak_xdr_conn_connect(&ship->conns[i]);
        ship->tick_timer = ak_loop_timer(loop, ship->tick_ms, ak_xdr_tick, ship);
    } else if (ship->opts.protocol == AK_XDR_PROTO_HTTP2) {
        if (ak_xdr_h2_setup(ship, err) != AK_OK)
            goto fail;
    } else if (ak_xdr_http_setup(ship, err) != AK_OK) {
        goto fail;
    }
    return ship;
fail:
    ak_xdr_ship_free(ship);
    return NULL;
}

void ak_xdr_ship_free(ak_xdr_ship_t *ship)
{
    if (!ship)
        return;
    ship->freeing = true;
    if (ship->tick_timer)
        ak_loop_timer_cancel(ship->loop, ship->tick_timer);
    for (size_t i = 0; i < ship->n_conns; i++) {
        ak_xdr_conn_t *conn = &ship->conns[i];
        if (conn->reconnect_timer)
            ak_loop_timer_cancel(ship->loop, conn->reconnect_timer);
        conn->reconnect_timer = 0;
        if (conn->ring) {
            ak_xdr_conn_close_fd(conn);
            ak_xdr_conn_retry_all(conn, false);
        }
        ak_buf_free(&conn->out);
        ak_buf_free(&conn->in);
        free(conn->ring);
    }
    free(ship->conns);

    ak_xdr_h2_teardown(ship);

    if (ship->curl_timer)
        ak_loop_timer_cancel(ship->loop, ship->curl_timer);
    if (ship->down_timer)
        ak_loop_timer_cancel(ship->loop, ship->down_timer);
    for (size_t d = 0; ship->dests && d < ship->n_dests; d++) {
        ak_xdr_dest_t *dest = &ship->dests[d];
        for (size_t i = 0; dest->slots && i < ship->slots_per_dest; i++) {
            ak_xdr_http_slot_t *slot = &dest->slots[i];
            if (slot->busy) {
                curl_multi_remove_handle(ship->multi, slot->easy);
                uint64_t now_us = ak_clock_us();
                ak_xdr_report(ship, slot->token, AK_XDR_RETRY, -1, 0,
                              now_us > slot->sent_us ? now_us - slot->sent_us : 0);
            }
            if (slot->easy)
                curl_easy_cleanup(slot->easy);
            ak_buf_free(&slot->body);
        }
        free(dest->slots);
        free(dest->url);
    }
    if (ship->multi)
        curl_multi_cleanup(ship->multi);
    while (ship->socks) {
        ak_xdr_http_sock_t *hs = ship->socks;
        ship->socks = hs->next;
        ak_loop_io_stop(ship->loop, &hs->io);
        free(hs);
    }
    curl_slist_free_all(ship->headers);
    free(ship->dests);
    free((char *)ship->opts.http_path);
    free(ship);
}
