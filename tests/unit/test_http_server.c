/*
 * ak_http_server over real sockets: the server's loop runs in a thread; the
 * tests are clients (a raw socket read with http-parser for HTTP/1.1, an
 * nghttp2 client session for h2c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <http_parser.h>
#include <nghttp2/nghttp2.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ak_test_util.h"
#include "net/ak_http_server.h"
#include "net/ak_loop.h"
#include "net/ak_sock.h"

#define MAX_HELD 2048

typedef enum handler_mode {
    MODE_ECHO_NOW,      /* answer at once: "<path> <body length>" */
    MODE_REVERSE_LATER, /* collect `expect` requests, answer them later in reverse */
    MODE_HOLD,          /* keep every request unanswered */
} handler_mode_t;

typedef struct held {
    ak_http_request_t *req;
    char path[64];
} held_t;

typedef struct fixture {
    ak_loop_t *loop;
    pthread_t thread;
    ak_http_server_t *server;
    uint16_t port;
    handler_mode_t mode;
    int expect;
    held_t held[MAX_HELD];
    int n_held;         /* loop thread writes, test thread reads atomically */
    int last_version;
} fixture_t;

/* --- running things on the loop thread --- */

typedef struct loop_call {
    void (*fn)(fixture_t *fx);
    fixture_t *fx;
    int done;
} loop_call_t;

static void loop_call_run(ak_loop_t *loop, void *arg)
{
    (void)loop;
    loop_call_t *call = arg;
    call->fn(call->fx);
    __atomic_store_n(&call->done, 1, __ATOMIC_RELEASE);
}

static void run_on_loop(fixture_t *fx, void (*fn)(fixture_t *fx))
{
    loop_call_t call = {fn, fx, 0};
    assert_true(ak_loop_post(fx->loop, loop_call_run, &call));
    while (!__atomic_load_n(&call.done, __ATOMIC_ACQUIRE))
        usleep(1000);
}

/* Polls cond(fx) for up to 10 s. */
static bool wait_for(fixture_t *fx, bool (*cond)(fixture_t *fx))
{
    for (int i = 0; i < 10000; i++) {
        if (cond(fx))
            return true;
        usleep(1000);
    }
    return false;
}

/* --- the handler --- */

static void answer_reverse(ak_loop_t *loop, void *arg)
{
    (void)loop;
    fixture_t *fx = arg;
    for (int i = fx->n_held - 1; i >= 0; i--) {
        ak_http_respond(fx->held[i].req, 200, "text/plain", fx->held[i].path,
                        strlen(fx->held[i].path));
        fx->held[i].req = NULL;
    }
    __atomic_store_n(&fx->n_held, 0, __ATOMIC_RELEASE);
}

static void answer_all_held(fixture_t *fx)
{
    answer_reverse(fx->loop, fx);
}

static void handler(void *ctx, ak_http_request_t *req, const ak_http_request_info_t *info)
{
    fixture_t *fx = ctx;
    fx->last_version = info->http_version;
    if (fx->mode == MODE_ECHO_NOW) {
        char body[128];
        int n = snprintf(body, sizeof body, "%s %s %zu %s", info->method, info->path,
                         info->body_len, info->content_type ? info->content_type : "-");
        ak_http_respond(req, 200, "text/plain", body, (size_t)n);
        return;
    }
    if (fx->n_held == MAX_HELD) {
        ak_http_respond(req, 503, NULL, NULL, 0);
        return;
    }
    held_t *h = &fx->held[fx->n_held];
    h->req = req;
    snprintf(h->path, sizeof h->path, "%s", info->path);
    __atomic_store_n(&fx->n_held, fx->n_held + 1, __ATOMIC_RELEASE);
    if (fx->mode == MODE_REVERSE_LATER && fx->n_held == fx->expect)
        ak_loop_timer(fx->loop, 20, answer_reverse, fx); /* answered later, not in the handler */
}

/* --- fixture --- */

static void *loop_thread(void *arg)
{
    fixture_t *fx = arg;
    ak_loop_run(fx->loop);
    return NULL;
}

static fixture_t *fixture_start(size_t max_body)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    ak_error_t err;
    fx->loop = ak_loop_new(&err);
    assert_non_null(fx->loop);
    ak_http_server_options_t opts = {.host = "127.0.0.1", .max_body_bytes = max_body};
    fx->server = ak_http_server_new(fx->loop, &opts, handler, fx, &err);
    if (!fx->server)
        fail_msg("ak_http_server_new: %s", err.message);
    fx->port = ak_http_server_port(fx->server);
    assert_int_not_equal(fx->port, 0);
    assert_int_equal(pthread_create(&fx->thread, NULL, loop_thread, fx), 0);
    return fx;
}

static void free_server(fixture_t *fx)
{
    ak_http_server_free(fx->server);
    fx->server = NULL;
}

static void fixture_stop(fixture_t *fx)
{
    run_on_loop(fx, free_server); /* connection memory goes at the end of that iteration */
    ak_loop_stop(fx->loop);
    pthread_join(fx->thread, NULL);
    ak_loop_free(fx->loop);
    free(fx);
}

static ak_http_server_stats_t server_stats(fixture_t *fx)
{
    ak_http_server_stats_t stats;
    ak_http_server_stats(fx->server, &stats);
    return stats;
}

/* --- a raw HTTP/1.1 client whose responses http-parser reads --- */

typedef struct response {
    int status;
    char body[256];
    size_t body_len;
    bool close; /* "Connection: close" or not keep-alive */
} response_t;

typedef struct client {
    int fd;
    http_parser parser;
    response_t responses[1600];
    int n_responses;
    bool eof;
} client_t;

static int client_on_message_begin(http_parser *parser)
{
    client_t *c = parser->data;
    if (c->n_responses == 1600)
        return -1;
    memset(&c->responses[c->n_responses], 0, sizeof c->responses[0]);
    return 0;
}

static int client_on_body(http_parser *parser, const char *at, size_t len)
{
    client_t *c = parser->data;
    response_t *r = &c->responses[c->n_responses];
    size_t room = sizeof r->body - 1 - r->body_len;
    size_t n = len < room ? len : room;
    memcpy(r->body + r->body_len, at, n);
    r->body_len += n;
    return 0;
}

static int client_on_message_complete(http_parser *parser)
{
    client_t *c = parser->data;
    response_t *r = &c->responses[c->n_responses];
    r->status = (int)parser->status_code;
    r->close = !http_should_keep_alive(parser);
    c->n_responses++;
    return 0;
}

static const http_parser_settings client_settings = {
    .on_message_begin = client_on_message_begin,
    .on_body = client_on_body,
    .on_message_complete = client_on_message_complete,
};

static void client_connect(client_t *c, uint16_t port)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&addr, sizeof addr), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
}

static void client_send(client_t *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early (413, 400): the test checks the answer */
        p += n;
        len -= (size_t)n;
    }
}

/* Reads until `count` responses arrived, or (count < 0) until the server
 * closes the connection. */
static void client_read(client_t *c, int count)
{
    char buf[65536];
    while ((count < 0 || c->n_responses < count) && !c->eof) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0)
            fail_msg("recv: %s (have %d responses)", strerror(errno), c->n_responses);
        if (n == 0) {
            c->eof = true;
            http_parser_execute(&c->parser, &client_settings, NULL, 0);
            break;
        }
        size_t used = http_parser_execute(&c->parser, &client_settings, buf, (size_t)n);
        if (used != (size_t)n)
            fail_msg("client: bad response: %s",
                     http_errno_name(HTTP_PARSER_ERRNO(&c->parser)));
    }
}

/* --- HTTP/1.1 --- */

static void test_h1_keep_alive_answers_one_request_after_another(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(0);
    fx->mode = MODE_ECHO_NOW;
    client_t c;
    client_connect(&c, fx->port);
    for (int i = 0; i < 3; i++) {
        static const char req[] = "POST /publish HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Type: application/octet-stream\r\n"
                                  "Content-Length: 5\r\n\r\nhello";
        client_send(&c, req, sizeof req - 1);
        client_read(&c, i + 1);
        assert_int_equal(c.responses[i].status, 200);
        assert_string_equal(c.responses[i].body, "POST /publish 5 application/octet-stream");
    }
    assert_int_equal(fx->last_version, 11);
    assert_int_equal(server_stats(fx).connections_accepted, 1);
    close(c.fd);
    fixture_stop(fx);
}

static void test_h1_pipelined_requests_answered_out_of_order_arrive_in_order(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(0);
    fx->mode = MODE_REVERSE_LATER;
    fx->expect = 50;
    client_t c;
    client_connect(&c, fx->port);
    ak_buf_t all;
    ak_buf_init(&all);
    for (int i = 0; i < 50; i++) {
        char req[128];
        int n = snprintf(req, sizeof req, "GET /r%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
        ak_buf_append(&all, req, (size_t)n);
    }
    client_send(&c, all.data, all.len); /* all 50 in one write: pipelined */
    ak_buf_free(&all);
    client_read(&c, 50);
    for (int i = 0; i < 50; i++) {
        char expected[16];
        snprintf(expected, sizeof expected, "/r%d", i);
        assert_int_equal(c.responses[i].status, 200);
        assert_string_equal(c.responses[i].body, expected);
    }
    close(c.fd);
    fixture_stop(fx);
}

static void test_h1_chunked_body_is_delivered_whole(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(0);
    fx->mode = MODE_ECHO_NOW;
    client_t c;
    client_connect(&c, fx->port);
    static const char req[] = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
    client_send(&c, req, sizeof req - 1);
    client_read(&c, 1);
    assert_int_equal(c.responses[0].status, 200);
    assert_string_equal(c.responses[0].body, "POST /c 7 -");
    close(c.fd);
    fixture_stop(fx);
}

static void test_h1_oversized_body_gets_413_and_close(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(1024);
    fx->mode = MODE_ECHO_NOW;

    /* Declared too large: answered before the body is read. */
    client_t c;
    client_connect(&c, fx->port);
    static const char req[] = "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
    client_send(&c, req, sizeof req - 1);
    char junk[4096];
    memset(junk, 'x', sizeof junk);
    for (int i = 0; i < 24; i++)
        client_send(&c, junk, sizeof junk);
    client_read(&c, -1);
    assert_int_equal(c.n_responses, 1);
    assert_int_equal(c.responses[0].status, 413);
    assert_true(c.responses[0].close);
    assert_true(c.eof);
    close(c.fd);

    /* Chunked: found out while reading. A request before it is still answered. */
    client_connect(&c, fx->port);
    static const char ok_req[] = "GET /first HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char chunked[] = "POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    client_send(&c, ok_req, sizeof ok_req - 1);
    client_send(&c, chunked, sizeof chunked - 1);
    for (int i = 0; i < 3; i++) {
        static const char chunk_head[] = "400\r\n";
        client_send(&c, chunk_head, sizeof chunk_head - 1);
        client_send(&c, junk, 1024);
        client_send(&c, "\r\n", 2);
    }
    client_read(&c, -1);
    assert_int_equal(c.n_responses, 2);
    assert_int_equal(c.responses[0].status, 200);
    assert_string_equal(c.responses[0].body, "GET /first 0 -");
    assert_int_equal(c.responses[1].status, 413);
    assert_true(c.eof);
    close(c.fd);
    assert_int_equal(server_stats(fx).bad_requests, 2);
    fixture_stop(fx);
}

static void test_h1_garbage_gets_400_and_close(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(0);
    fx->mode = MODE_ECHO_NOW;
    client_t c;
    client_connect(&c, fx->port);
    static const char garbage[] = "GARBAGE\x01\x02 not http at all\r\n\r\n";
    client_send(&c, garbage, sizeof garbage - 1);
    client_read(&c, -1);
    assert_int_equal(c.n_responses, 1);
    assert_int_equal(c.responses[0].status, 400);
    assert_true(c.eof);
    close(c.fd);
    fixture_stop(fx);
}

static bool held_1024(fixture_t *fx)
{
    return __atomic_load_n(&fx->n_held, __ATOMIC_ACQUIRE) == 1024;
}

static bool held_476(fixture_t *fx)
{
    return __atomic_load_n(&fx->n_held, __ATOMIC_ACQUIRE) == 476;
}

static void test_h1_pipelining_pauses_at_1024_queued_and_resumes_in_order(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(0);
    fx->mode = MODE_HOLD;
    client_t c;
    client_connect(&c, fx->port);
    ak_buf_t all;
    ak_buf_init(&all);
    for (int i = 0; i < 1500; i++) {
        char req[128];
        int n = snprintf(req, sizeof req, "GET /r%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
        ak_buf_append(&all, req, (size_t)n);
    }
    client_send(&c, all.data, all.len);
    ak_buf_free(&all);
    /* The server stops reading at 1024 requests owed and holds the rest back. */
    assert_true(wait_for(fx, held_1024));
    usleep(50000);
    assert_int_equal(__atomic_load_n(&fx->n_held, __ATOMIC_ACQUIRE), 1024);
    run_on_loop(fx, answer_all_held);
    assert_true(wait_for(fx, held_476));
    run_on_loop(fx, answer_all_held);
    client_read(&c, 1500);
    for (int i = 0; i < 1500; i++) {
        char expected[16];
        snprintf(expected, sizeof expected, "/r%d", i);
        assert_string_equal(c.responses[i].body, expected);
    }
    close(c.fd);
    fixture_stop(fx);
}

static bool no_connections_open(fixture_t *fx)
{
    return server_stats(fx).connections_open == 0;
}

static bool three_held(fixture_t *fx)
{
    return __atomic_load_n(&fx->n_held, __ATOMIC_ACQUIRE) == 3;
}

static void test_h1_client_gone_with_requests_pending_later_answers_are_dropped(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(0);
    fx->mode = MODE_HOLD;
    client_t c;
    client_connect(&c, fx->port);
    static const char reqs[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
    client_send(&c, reqs, sizeof reqs - 1);
    assert_true(wait_for(fx, three_held));
    close(c.fd);
    assert_true(wait_for(fx, no_connections_open));
    /* The requests are still valid: answering releases them (ASan watches). */
    run_on_loop(fx, answer_all_held);
    assert_int_equal(__atomic_load_n(&fx->n_held, __ATOMIC_ACQUIRE), 0);
    fixture_stop(fx);
}

/* --- an h2c client on an nghttp2 client session ---
 * (curl 7.88's prior-knowledge mode cannot multiplex: curl issue #10634.) */

typedef struct h2_stream {
    int32_t id;
    char path[32];
    int status;
    char body[256];
    size_t body_len;
    bool closed;
    uint32_t error_code;
} h2_stream_t;

typedef struct h2_client {
    int fd;
    nghttp2_session *session;
    h2_stream_t *streams;
    int n_streams;
    int n_closed;
    const uint8_t *post;
    size_t post_len;
} h2_client_t;

typedef struct h2_post {
    const uint8_t *data;
    size_t len, pos;
} h2_post_t;

static h2_stream_t *h2_find(h2_client_t *c, int32_t id)
{
    for (int i = 0; i < c->n_streams; i++)
        if (c->streams[i].id == id)
            return &c->streams[i];
    return NULL;
}

static int h2_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                        size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                        void *user_data)
{
    (void)session;
    (void)flags;
    (void)valuelen;
    h2_stream_t *st = h2_find(user_data, frame->hd.stream_id);
    if (st && namelen == 7 && memcmp(name, ":status", 7) == 0)
        st->status = atoi((const char *)value);
    return 0;
}

static int h2_on_data(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                      const uint8_t *data, size_t len, void *user_data)
{
    (void)session;
    (void)flags;
    h2_stream_t *st = h2_find(user_data, stream_id);
    if (st) {
        size_t room = sizeof st->body - 1 - st->body_len;
        size_t n = len < room ? len : room;
        memcpy(st->body + st->body_len, data, n);
        st->body_len += n;
    }
    return 0;
}

static int h2_on_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                       void *user_data)
{
    (void)session;
    h2_client_t *c = user_data;
    h2_stream_t *st = h2_find(c, stream_id);
    if (st && !st->closed) {
        st->closed = true;
        st->error_code = error_code;
        c->n_closed++;
    }
    return 0;
}

static ssize_t h2_read_post(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                            size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                            void *user_data)
{
    (void)session;
    (void)stream_id;
    (void)user_data;
    h2_post_t *post = source->ptr;
    size_t n = post->len - post->pos < length ? post->len - post->pos : length;
    memcpy(buf, post->data + post->pos, n);
    post->pos += n;
    if (post->pos == post->len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* Connects and submits n requests (POST of post[0..post_len) when post is
 * set) on one connection, each stream on its own path /s<i>. */
static void h2_client_start(h2_client_t *c, uint16_t port, int n, const uint8_t *post,
                            size_t post_len, h2_post_t *post_states)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(c->fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
    assert_true(rc == 0 || errno == EINPROGRESS);
    nghttp2_session_callbacks *cbs;
    assert_int_equal(nghttp2_session_callbacks_new(&cbs), 0);
    nghttp2_session_callbacks_set_on_header_callback(cbs, h2_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2_on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2_on_close);
    assert_int_equal(nghttp2_session_client_new(&c->session, cbs, c), 0);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000}};
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 1);
    c->streams = calloc((size_t)n, sizeof *c->streams);
    assert_non_null(c->streams);
    c->n_streams = n;
    char authority[32];
    snprintf(authority, sizeof authority, "127.0.0.1:%u", port);
    for (int i = 0; i < n; i++) {
        h2_stream_t *st = &c->streams[i];
        snprintf(st->path, sizeof st->path, "/s%d", i);
        nghttp2_nv nva[] = {
            {(uint8_t *)":method", (uint8_t *)(post ? "POST" : "GET"), 7, post ? 4 : 3, 0},
            {(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0},
            {(uint8_t *)":authority", (uint8_t *)authority, 10, strlen(authority), 0},
            {(uint8_t *)":path", (uint8_t *)st->path, 5, strlen(st->path), 0},
            {(uint8_t *)"content-type", (uint8_t *)"application/octet-stream", 12, 24, 0},
        };
        nghttp2_data_provider provider = {.read_callback = h2_read_post};
        if (post) {
            post_states[i] = (h2_post_t){post, post_len, 0};
            provider.source.ptr = &post_states[i];
        }
        st->id = nghttp2_submit_request(c->session, NULL, nva, post ? 5 : 4,
                                        post ? &provider : NULL, NULL);
        assert_true(st->id > 0);
    }
}

/* Exchanges frames until every stream closed, until stop(fx) is true, or
 * until timeout_ms passed. */
static void h2_client_run(h2_client_t *c, fixture_t *fx, bool (*stop)(fixture_t *fx),
                          int timeout_ms)
{
    uint64_t deadline = ak_clock_ms() + (uint64_t)timeout_ms;
    uint8_t buf[65536];
    ak_buf_t out;
    ak_buf_init(&out);
    size_t out_pos = 0;
    while (c->n_closed < c->n_streams && ak_clock_ms() < deadline && !(stop && stop(fx))) {
        for (;;) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(c->session, &data);
            assert_true(n >= 0);
            if (n == 0)
                break;
            ak_buf_append(&out, data, (size_t)n);
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        if (out_pos < out.len)
            pfd.events |= POLLOUT;
        poll(&pfd, 1, 10);
        if (pfd.revents & POLLOUT) {
            ssize_t n = send(c->fd, out.data + out_pos, out.len - out_pos, MSG_NOSIGNAL);
            if (n > 0)
                out_pos += (size_t)n;
            if (out_pos == out.len) {
                ak_buf_clear(&out);
                out_pos = 0;
            }
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(c->fd, buf, sizeof buf, 0);
            if (n <= 0 && !(n < 0 && errno == EAGAIN))
                break;
            if (n > 0)
                assert_true(nghttp2_session_mem_recv(c->session, buf, (size_t)n) == n);
        }
    }
    ak_buf_free(&out);
}

static void h2_client_close(h2_client_t *c)
{
    nghttp2_session_del(c->session);
    close(c->fd);
    free(c->streams);
}

static void test_h2c_100_streams_answered_in_reverse_all_complete(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(0);
    fx->mode = MODE_REVERSE_LATER;
    fx->expect = 100;
    h2_client_t c;
    h2_client_start(&c, fx->port, 100, NULL, 0, NULL);
    h2_client_run(&c, fx, NULL, 10000);
    assert_int_equal(c.n_closed, 100);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(c.streams[i].error_code, 0);
        assert_int_equal(c.streams[i].status, 200);
        assert_string_equal(c.streams[i].body, c.streams[i].path);
    }
    assert_int_equal(fx->last_version, 20);
    assert_int_equal(server_stats(fx).connections_accepted, 1);
    h2_client_close(&c);
    fixture_stop(fx);
}

static void test_h2c_large_bodies_pass_flow_control(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(0);
    fx->mode = MODE_ECHO_NOW;
    size_t len = 3 * 1024 * 1024; /* several stream windows, beyond the connection window */
    uint8_t *body = malloc(len);
    assert_non_null(body);
    memset(body, 'b', len);
    h2_post_t posts[8];
    h2_client_t c;
    h2_client_start(&c, fx->port, 8, body, len, posts);
    h2_client_run(&c, fx, NULL, 20000);
    assert_int_equal(c.n_closed, 8);
    for (int i = 0; i < 8; i++) {
        char expected[80];
        snprintf(expected, sizeof expected, "POST %s %zu application/octet-stream",
                 c.streams[i].path, len);
        assert_int_equal(c.streams[i].status, 200);
        assert_string_equal(c.streams[i].body, expected);
    }
    h2_client_close(&c);
    free(body);
    fixture_stop(fx);
}

static void test_h2c_oversized_body_gets_413(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(1000);
    fx->mode = MODE_ECHO_NOW;
    uint8_t body[5000];
    memset(body, 'x', sizeof body);
    h2_post_t posts[1];
    h2_client_t c;
    h2_client_start(&c, fx->port, 1, body, sizeof body, posts);
    h2_client_run(&c, fx, NULL, 10000);
    assert_int_equal(c.n_closed, 1);
    assert_int_equal(c.streams[0].status, 413);
    assert_int_equal(server_stats(fx).requests, 0);
    h2_client_close(&c);
    fixture_stop(fx);
}

static void test_h2c_client_gone_with_streams_pending_later_answers_are_dropped(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(0);
    fx->mode = MODE_HOLD;
    h2_client_t c;
    h2_client_start(&c, fx->port, 3, NULL, 0, NULL);
    h2_client_run(&c, fx, three_held, 10000);
    assert_true(three_held(fx));
    h2_client_close(&c);
    assert_true(wait_for(fx, no_connections_open));
    run_on_loop(fx, answer_all_held);
    assert_int_equal(__atomic_load_n(&fx->n_held, __ATOMIC_ACQUIRE), 0);
    fixture_stop(fx);
}

static void test_server_free_releases_held_requests(void **state)
{
    (void)state;
    fixture_t *fx = fixture_start(0);
    fx->mode = MODE_HOLD;
    h2_client_t c;
    h2_client_start(&c, fx->port, 3, NULL, 0, NULL);
    h2_client_run(&c, fx, three_held, 10000);
    assert_true(three_held(fx));
    fixture_stop(fx); /* never answered: the server releases them (LeakSanitizer watches) */
    h2_client_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h1_keep_alive_answers_one_request_after_another),
        cmocka_unit_test(test_h1_pipelined_requests_answered_out_of_order_arrive_in_order),
        cmocka_unit_test(test_h1_pipelining_pauses_at_1024_queued_and_resumes_in_order),
        cmocka_unit_test(test_h1_chunked_body_is_delivered_whole),
        cmocka_unit_test(test_h1_oversized_body_gets_413_and_close),
        cmocka_unit_test(test_h1_garbage_gets_400_and_close),
        cmocka_unit_test(test_h1_client_gone_with_requests_pending_later_answers_are_dropped),
        cmocka_unit_test(test_h2c_100_streams_answered_in_reverse_all_complete),
        cmocka_unit_test(test_h2c_large_bodies_pass_flow_control),
        cmocka_unit_test(test_h2c_oversized_body_gets_413),
        cmocka_unit_test(test_h2c_client_gone_with_streams_pending_later_answers_are_dropped),
        cmocka_unit_test(test_server_free_releases_held_requests),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed;
}
