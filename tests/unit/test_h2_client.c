/*
 * ak_h2_client against ak_http_server (which speaks h2c), both on one loop
 * run by the test thread: the server's handler decides when and how each
 * request is answered, the client's callbacks record what came back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ak_test_util.h"
#include "net/ak_h2_client.h"
#include "net/ak_http_server.h"
#include "net/ak_loop.h"
#include "net/ak_sock.h"

#define MAX_REQUESTS 2000
#define BODY_MAX 80
/* ak_http_server's SETTINGS_MAX_CONCURRENT_STREAMS */
#define SERVER_MAX_STREAMS 1024

typedef enum server_mode {
    SERVER_SHUFFLE, /* hold requests, answer them in batches in a shuffled order */
    SERVER_NOW,     /* answer at once with fx->answer_status */
    SERVER_HOLD,    /* keep every request unanswered */
} server_mode_t;

typedef struct held {
    ak_http_request_t *req;
    int index;
} held_t;

typedef struct request_slot {
    uint8_t body[BODY_MAX];
    size_t body_len;
    int completions;
    ak_h2_response_t resp;
} request_slot_t;

typedef struct fixture fixture_t;
typedef bool (*cond_fn)(fixture_t *fx);

struct fixture {
    ak_loop_t *loop;
    ak_http_server_t *server;
    uint16_t port;

    /* server side */
    server_mode_t mode;
    int answer_status;
    int batch;             /* SERVER_SHUFFLE: answer when this many are held */
    held_t held[MAX_REQUESTS];
    int n_held, max_held, answered;
    int bad_requests;      /* method, content type or body not as posted */
    uint32_t shuffle_seed;

    /* client side */
    ak_h2_client_t *client;
    ak_h2_client_options_t client_opts;
    int total, posted, completed, ok, errors;
    int limit_refusals;    /* ak_h2_client_post said AK_ERR_LIMIT */
    int out_of_order;      /* completions of a request older than one completed before */
    int last_completed;
    request_slot_t slots[MAX_REQUESTS];
    int ready_events, draining_events, closed_events;
    char closed_reason[512];
    bool pump_on_done;

    /* running the loop */
    cond_fn cond;
    uint64_t deadline_ms;
    bool timed_out;
    uint64_t until_ms;
};

/* --- running the loop until a condition holds --- */

static void poll_fire(ak_loop_t *loop, void *arg)
{
    fixture_t *fx = arg;
    if (fx->cond(fx)) {
        ak_loop_stop(loop);
        return;
    }
    if (ak_clock_ms() > fx->deadline_ms) {
        fx->timed_out = true;
        ak_loop_stop(loop);
        return;
    }
    ak_loop_timer(loop, 1, poll_fire, fx);
}

static void run_until(fixture_t *fx, cond_fn cond, const char *what)
{
    fx->cond = cond;
    fx->deadline_ms = ak_clock_ms() + 10000;
    fx->timed_out = false;
    ak_loop_timer(fx->loop, 0, poll_fire, fx);
    assert_int_equal(ak_loop_run(fx->loop), AK_OK);
    if (fx->timed_out)
        fail_msg("timed out waiting for: %s (posted %d, completed %d, held %d)", what, fx->posted,
                 fx->completed, fx->n_held);
}

/* --- server --- */

static void fill_body(request_slot_t *slot, int index)
{
    slot->body_len = 16 + (size_t)(index % 60);
    for (size_t k = 0; k < slot->body_len; k++)
        slot->body[k] = (uint8_t)(index * 31 + (int)k);
}

static int status_for(int index)
{
    /* Each request gets its own answer (no 204: it may carry no body). */
    static const int statuses[] = {200, 201, 202, 203, 299, 418, 503};
    return statuses[index % 7];
}

static void answer(fixture_t *fx, held_t *h)
{
    char body[32];
    int n = snprintf(body, sizeof body, "ok %d", h->index);
    ak_http_respond(h->req, status_for(h->index), "text/plain", body, (size_t)n);
    fx->answered++;
}

static void answer_held_shuffled(ak_loop_t *loop, void *arg)
{
    (void)loop;
    fixture_t *fx = arg;
    for (int i = fx->n_held - 1; i > 0; i--) {
        fx->shuffle_seed = fx->shuffle_seed * 1103515245u + 12345u;
        int j = (int)((fx->shuffle_seed >> 8) % (uint32_t)(i + 1));
        held_t tmp = fx->held[i];
        fx->held[i] = fx->held[j];
        fx->held[j] = tmp;
    }
    for (int i = 0; i < fx->n_held; i++)
        answer(fx, &fx->held[i]);
    fx->n_held = 0;
}

static void handler(void *ctx, ak_http_request_t *req, const ak_http_request_info_t *info)
{
    fixture_t *fx = ctx;
    int index = -1;
    if (strncmp(info->path, "/n/", 3) == 0)
        index = atoi(info->path + 3);
    if (index < 0 || index >= MAX_REQUESTS || strcmp(info->method, "POST") != 0 ||
        info->http_version != 20 || !info->content_type ||
        strcmp(info->content_type, "application/octet-stream") != 0 ||
        info->body_len != fx->slots[index].body_len ||
        memcmp(info->body, fx->slots[index].body, info->body_len) != 0) {
        fx->bad_requests++;
        ak_http_respond(req, 400, NULL, NULL, 0);
        return;
    }
    if (fx->mode == SERVER_NOW) {
        ak_http_respond(req, fx->answer_status, NULL, NULL, 0);
        fx->answered++;
        return;
    }
    fx->held[fx->n_held++] = (held_t){req, index};
    if (fx->n_held > fx->max_held)
        fx->max_held = fx->n_held;
    /* Answered from a timer, not from inside the handler, and only once a
     * whole batch is held: many streams are open at once. */
    if (fx->mode == SERVER_SHUFFLE &&
        (fx->n_held == fx->batch || fx->answered + fx->n_held == fx->total))
        ak_loop_timer(fx->loop, 1, answer_held_shuffled, fx);
}

/* --- client --- */

static void pump(fixture_t *fx);

static fixture_t *the_fixture; /* the done callback's way back: req_ctx is the slot */

static void on_request_done(void *req_ctx, const ak_h2_response_t *resp)
{
    fixture_t *fx = the_fixture;
    request_slot_t *slot = req_ctx;
    int index = (int)(slot - fx->slots);
    slot->completions++;
    slot->resp = *resp;
    slot->resp.detail = NULL;
    fx->completed++;
    if (resp->error == AK_H2_OK)
        fx->ok++;
    else
        fx->errors++;
    if (index < fx->last_completed)
        fx->out_of_order++;
    fx->last_completed = index;
    if (fx->pump_on_done)
        pump(fx);
}

static void pump(fixture_t *fx)
{
    while (fx->client && fx->posted < fx->total) {
        if (ak_h2_client_capacity(fx->client) == 0) {
            if (ak_h2_client_ready(fx->client)) {
                /* Full: a post now must be refused, not queued past the limit. */
                ak_error_t err;
                request_slot_t *slot = &fx->slots[fx->posted];
                ak_status_t st = ak_h2_client_post(fx->client, "/n/0", slot->body,
                                                   slot->body_len, on_request_done, slot, &err);
                assert_int_equal(st, AK_ERR_LIMIT);
                fx->limit_refusals++;
            }
            return;
        }
        request_slot_t *slot = &fx->slots[fx->posted];
        char path[32];
        snprintf(path, sizeof path, "/n/%d", fx->posted);
        ak_error_t err;
        ak_status_t st =
            ak_h2_client_post(fx->client, path, slot->body, slot->body_len, on_request_done, slot, &err);
        if (st != AK_OK)
            fail_msg("post %d: %s", fx->posted, err.message);
        fx->posted++;
    }
}

static void on_state(void *ctx, ak_h2_client_t *client, ak_h2_client_state_t state,
                     const char *reason)
{
    fixture_t *fx = ctx;
    assert_ptr_equal(client, fx->client);
    switch (state) {
    case AK_H2_CLIENT_READY:
        assert_null(reason);
        fx->ready_events++;
        pump(fx);
        break;
    case AK_H2_CLIENT_DRAINING:
        fx->draining_events++;
        break;
    case AK_H2_CLIENT_CLOSED:
        assert_non_null(reason);
        fx->closed_events++;
        snprintf(fx->closed_reason, sizeof fx->closed_reason, "%s", reason);
        break;
    case AK_H2_CLIENT_CONNECTING:
        fail_msg("CONNECTING is never reported");
    }
}

/* --- fixture --- */

static fixture_t *fixture_new(server_mode_t mode, int total)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    the_fixture = fx;
    ak_error_t err;
    fx->loop = ak_loop_new(&err);
    assert_non_null(fx->loop);
    ak_http_server_options_t opts = {.host = "127.0.0.1"};
    fx->server = ak_http_server_new(fx->loop, &opts, handler, fx, &err);
    if (!fx->server)
        fail_msg("ak_http_server_new: %s", err.message);
    fx->port = ak_http_server_port(fx->server);
    fx->mode = mode;
    fx->total = total;
    fx->batch = 100;
    fx->shuffle_seed = 12345;
    fx->pump_on_done = true;
    for (int i = 0; i < MAX_REQUESTS; i++)
        fill_body(&fx->slots[i], i);
    return fx;
}

static void fixture_connect(fixture_t *fx)
{
    ak_error_t err;
    fx->client = ak_h2_client_new(fx->loop, "127.0.0.1", fx->port, &fx->client_opts, on_state, fx,
                                  &err);
    if (!fx->client)
        fail_msg("ak_h2_client_new: %s", err.message);
    assert_int_equal(ak_h2_client_state(fx->client), AK_H2_CLIENT_CONNECTING);
    assert_int_equal(ak_h2_client_capacity(fx->client), 0);
}

static void fixture_free(fixture_t *fx)
{
    ak_h2_client_free(fx->client);
    if (fx->server)
        ak_http_server_free(fx->server);
    ak_loop_free(fx->loop); /* runs the deferred frees */
    free(fx);
    the_fixture = NULL;
}

static bool all_completed(fixture_t *fx)
{
    return fx->completed == fx->total;
}

static ak_http_server_stats_t server_stats(fixture_t *fx)
{
    ak_http_server_stats_t stats;
    ak_http_server_stats(fx->server, &stats);
    return stats;
}

/* --- tests --- */

static void test_500_posts_over_one_connection_answered_in_any_order(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(SERVER_SHUFFLE, 500);
    fixture_connect(fx);
    run_until(fx, all_completed, "every request completed");

    assert_int_equal(fx->bad_requests, 0);
    assert_int_equal(fx->ok, 500);
    assert_int_equal(fx->errors, 0);
    for (int i = 0; i < 500; i++) {
        request_slot_t *slot = &fx->slots[i];
        assert_int_equal(slot->completions, 1);
        assert_int_equal(slot->resp.error, AK_H2_OK);
        assert_int_equal(slot->resp.status, status_for(i)); /* its own answer, not a neighbour's */
        char body[32];
        assert_int_equal(slot->resp.body_len, (size_t)snprintf(body, sizeof body, "ok %d", i));
    }
    /* Many streams open at once on one connection, answered out of order. */
    ak_http_server_stats_t stats = server_stats(fx);
    assert_int_equal(stats.connections_accepted, 1);
    assert_int_equal(stats.requests, 500);
    assert_true(fx->max_held >= 64);
    assert_true(fx->out_of_order > 0);
    ak_h2_client_stats_t cstats;
    ak_h2_client_stats(fx->client, &cstats);
    assert_int_equal(cstats.requests, 500);
    assert_int_equal(cstats.responses, 500);
    assert_true(cstats.max_open >= 64);
    assert_int_equal(cstats.server_max_streams, SERVER_MAX_STREAMS);
    assert_int_equal(ak_h2_client_in_flight(fx->client), 0);
    assert_int_equal(ak_h2_client_capacity(fx->client), SERVER_MAX_STREAMS);
    assert_int_equal(fx->ready_events, 1);
    assert_int_equal(fx->closed_events, 0);
    fixture_free(fx);
}

static void test_503_is_reported_as_the_status(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(SERVER_NOW, 20);
    fx->answer_status = 503;
    fixture_connect(fx);
    run_until(fx, all_completed, "every request completed");
    for (int i = 0; i < 20; i++) {
        assert_int_equal(fx->slots[i].resp.error, AK_H2_OK);
        assert_int_equal(fx->slots[i].resp.status, 503);
    }
    assert_int_equal(ak_h2_client_state(fx->client), AK_H2_CLIENT_READY);
    fixture_free(fx);
}

static bool all_held(fixture_t *fx)
{
    return fx->n_held == fx->total;
}

static bool closed_and_all_completed(fixture_t *fx)
{
    return fx->closed_events == 1 && fx->completed == fx->total;
}

static void test_server_closing_mid_flight_fails_every_pending_request(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(SERVER_HOLD, 100);
    fixture_connect(fx);
    run_until(fx, all_held, "the server holds every request");
    assert_int_equal(fx->completed, 0);
    assert_int_equal(ak_h2_client_in_flight(fx->client), 100);

    ak_http_server_free(fx->server); /* closes the connection with 100 streams open */
    fx->server = NULL;
    fx->pump_on_done = false;
    run_until(fx, closed_and_all_completed, "the client closed");

    assert_int_equal(fx->ok, 0);
    assert_int_equal(fx->errors, 100);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(fx->slots[i].completions, 1);
        assert_int_equal(fx->slots[i].resp.error, AK_H2_ERR_CONNECTION);
        assert_int_equal(fx->slots[i].resp.status, 0);
    }
    assert_int_equal(ak_h2_client_state(fx->client), AK_H2_CLIENT_CLOSED);
    assert_non_null(strstr(fx->closed_reason, "127.0.0.1"));
    /* A closed client takes nothing more. */
    ak_error_t err;
    akt_assert_status(ak_h2_client_post(fx->client, "/n/0", fx->slots[0].body,
                                        fx->slots[0].body_len, on_request_done, &fx->slots[0], &err),
                      AK_ERR_IO, &err);
    fixture_free(fx);
}

static bool held_at_limit(fixture_t *fx)
{
    return fx->n_held == SERVER_MAX_STREAMS && fx->limit_refusals > 0;
}

static bool time_is_up(fixture_t *fx)
{
    return ak_clock_ms() >= fx->until_ms;
}

static void test_concurrency_never_exceeds_the_servers_max_concurrent_streams(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(SERVER_HOLD, 1500);
    fixture_connect(fx);
    run_until(fx, held_at_limit, "the server holds its limit of streams");
    /* Give any request beyond the limit time to show up: none may. */
    fx->until_ms = ak_clock_ms() + 100;
    run_until(fx, time_is_up, "100 ms");
    assert_int_equal(fx->posted, SERVER_MAX_STREAMS);
    assert_int_equal(fx->n_held, SERVER_MAX_STREAMS);
    assert_int_equal(ak_h2_client_capacity(fx->client), 0);

    /* Answering frees the streams; the rest go out, still within the limit. */
    fx->mode = SERVER_SHUFFLE;
    fx->batch = SERVER_MAX_STREAMS;
    ak_loop_timer(fx->loop, 0, answer_held_shuffled, fx);
    run_until(fx, all_completed, "every request completed");
    assert_int_equal(fx->ok, 1500);
    assert_int_equal(fx->bad_requests, 0);
    assert_int_equal(fx->max_held, SERVER_MAX_STREAMS);
    ak_h2_client_stats_t cstats;
    ak_h2_client_stats(fx->client, &cstats);
    assert_int_equal(cstats.max_open, SERVER_MAX_STREAMS);
    assert_int_equal(server_stats(fx).connections_accepted, 1);
    fixture_free(fx);
}

static void test_own_stream_limit_caps_concurrency(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(SERVER_SHUFFLE, 200);
    fx->client_opts.max_streams = 10;
    fx->batch = 10;
    fixture_connect(fx);
    run_until(fx, all_completed, "every request completed");
    assert_int_equal(fx->ok, 200);
    assert_int_equal(fx->max_held, 10);
    fixture_free(fx);
}

static void test_unanswered_request_times_out_and_the_connection_stays(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(SERVER_HOLD, 3);
    fx->client_opts.request_timeout_ms = 50;
    fixture_connect(fx);
    uint64_t start = ak_clock_ms();
    run_until(fx, all_completed, "every request timed out");
    assert_true(ak_clock_ms() - start >= 50);
    for (int i = 0; i < 3; i++)
        assert_int_equal(fx->slots[i].resp.error, AK_H2_ERR_TIMEOUT);
    assert_int_equal(ak_h2_client_state(fx->client), AK_H2_CLIENT_READY);
    assert_int_equal(ak_h2_client_in_flight(fx->client), 0);

    /* The connection still carries requests: answer the next at once. */
    fx->mode = SERVER_NOW;
    fx->answer_status = 200;
    fx->total = 5;
    pump(fx);
    run_until(fx, all_completed, "the later requests completed");
    assert_int_equal(fx->slots[3].resp.status, 200);
    assert_int_equal(fx->slots[4].resp.status, 200);
    assert_int_equal(server_stats(fx).connections_accepted, 1);
    fixture_free(fx);
}

static void test_free_cancels_pending_requests(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(SERVER_HOLD, 10);
    fixture_connect(fx);
    run_until(fx, all_held, "the server holds every request");
    fx->pump_on_done = false;
    ak_h2_client_free(fx->client);
    fx->client = NULL;
    assert_int_equal(fx->completed, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(fx->slots[i].resp.error, AK_H2_ERR_CANCELLED);
    assert_int_equal(fx->closed_events, 0); /* no callback but the requests' */
    fixture_free(fx);
}

static bool closed(fixture_t *fx)
{
    return fx->closed_events > 0;
}

static void test_refused_connection_is_reported_closed(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(SERVER_HOLD, 1);
    uint16_t port;
    ak_error_t err;
    int fd = ak_sock_listen("127.0.0.1", 0, 1, &port, &err);
    assert_true(fd >= 0);
    close(fd); /* a port nobody listens on */
    fx->client = ak_h2_client_new(fx->loop, "127.0.0.1", port, NULL, on_state, fx, &err);
    if (fx->client) {
        run_until(fx, closed, "the client closed");
        assert_non_null(strstr(fx->closed_reason, "connect"));
        assert_int_equal(fx->ready_events, 0);
    }
    fixture_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_500_posts_over_one_connection_answered_in_any_order),
        cmocka_unit_test(test_503_is_reported_as_the_status),
        cmocka_unit_test(test_server_closing_mid_flight_fails_every_pending_request),
        cmocka_unit_test(test_concurrency_never_exceeds_the_servers_max_concurrent_streams),
        cmocka_unit_test(test_own_stream_limit_caps_concurrency),
        cmocka_unit_test(test_unanswered_request_times_out_and_the_connection_stays),
        cmocka_unit_test(test_free_cancels_pending_requests),
        cmocka_unit_test(test_refused_connection_is_reported_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
