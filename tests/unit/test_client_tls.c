/*
 * The client over TLS with tls-name checking. aerospike-dev has no TLS
 * listener, so the test puts a TLS-terminating relay (src/net/ak_tls.h,
 * certificates made by the openssl command for a throwaway CA) in front of
 * a one-node cluster; client, relay and cluster share the test's loop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ak_test_util.h"
#include "client/ak_client.h"
#include "dev/aerospike/ak_aerospike_dev.h"
#include "net/ak_loop.h"
#include "net/ak_sock.h"
#include "net/ak_tls.h"
#include "wire/ak_result.h"

static char akt_dir[64];

static void akt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void akt_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

/* ---- the relay: TLS outside, plain to aerospike-dev inside ---------------- */

typedef struct akt_pipe {
    struct akt_pipe *next;
    ak_loop_t *loop;
    ak_tls_t *tls;
    ak_io_t tls_io, plain_io;
    ak_buf_t to_plain, to_tls;
    bool closed;
} akt_pipe_t;

typedef struct akt_relay {
    ak_loop_t *loop;
    ak_tls_ctx_t *ctx;
    int listen_fd;
    ak_io_t listen_io;
    uint16_t port, backend_port;
    akt_pipe_t *pipes;
    int handshakes;
} akt_relay_t;

static void akt_pipe_close(akt_pipe_t *pipe)
{
    if (pipe->closed)
        return;
    pipe->closed = true;
    ak_loop_io_stop(pipe->loop, &pipe->tls_io);
    ak_loop_io_stop(pipe->loop, &pipe->plain_io);
    ak_tls_free(pipe->tls);
    pipe->tls = NULL;
    close(pipe->tls_io.fd);
    close(pipe->plain_io.fd);
}

static void akt_pipe_pump(akt_pipe_t *pipe)
{
    uint8_t chunk[16384];
    akt_relay_t *relay = pipe->tls_io.data;
    bool was_done = ak_tls_handshake_done(pipe->tls);
    for (;;) {
        ssize_t n = ak_tls_read(pipe->tls, chunk, sizeof chunk);
        if (n == AK_TLS_AGAIN)
            break;
        if (n <= 0) {
            akt_pipe_close(pipe);
            return;
        }
        ak_buf_append(&pipe->to_plain, chunk, (size_t)n);
    }
    if (!was_done && ak_tls_handshake_done(pipe->tls))
        relay->handshakes++;
    for (;;) {
        ssize_t n = read(pipe->plain_io.fd, chunk, sizeof chunk);
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            akt_pipe_close(pipe);
            return;
        }
        ak_buf_append(&pipe->to_tls, chunk, (size_t)n);
    }
    while (pipe->to_tls.len) {
        ssize_t n = ak_tls_write(pipe->tls, pipe->to_tls.data, pipe->to_tls.len);
        if (n == AK_TLS_AGAIN)
            break;
        if (n < 0) {
            akt_pipe_close(pipe);
            return;
        }
        memmove(pipe->to_tls.data, pipe->to_tls.data + n, pipe->to_tls.len - (size_t)n);
        pipe->to_tls.len -= (size_t)n;
    }
    while (pipe->to_plain.len) {
        ssize_t n = write(pipe->plain_io.fd, pipe->to_plain.data, pipe->to_plain.len);
        if (n < 0)
            break;
        memmove(pipe->to_plain.data, pipe->to_plain.data + n, pipe->to_plain.len - (size_t)n);
        pipe->to_plain.len -= (size_t)n;
    }
    ak_loop_io_set(pipe->loop, &pipe->tls_io,
                   AK_IO_READ | (pipe->to_tls.len ? AK_IO_WRITE : 0) | ak_tls_wanted_events(pipe->tls));
    ak_loop_io_set(pipe->loop, &pipe->plain_io, AK_IO_READ | (pipe->to_plain.len ? AK_IO_WRITE : 0));
}

static void akt_pipe_on_tls(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    (void)events;
    akt_relay_t *relay = io->data;
    for (akt_pipe_t *p = relay->pipes; p; p = p->next)
        if (&p->tls_io == io && !p->closed)
            akt_pipe_pump(p);
}

static void akt_pipe_on_plain(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    (void)events;
    akt_pipe_t *pipe = io->data;
    if (!pipe->closed)
        akt_pipe_pump(pipe);
}

static void akt_relay_on_accept(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)events;
    akt_relay_t *relay = io->data;
    int fd;
    while ((fd = ak_sock_accept(io->fd)) >= 0) {
        ak_error_t err;
        int plain = ak_sock_connect("127.0.0.1", relay->backend_port, &err);
        assert_true(plain >= 0);
        akt_pipe_t *pipe = calloc(1, sizeof *pipe);
        pipe->loop = loop;
        pipe->tls = ak_tls_new(relay->ctx, fd, &err);
        assert_non_null(pipe->tls);
        ak_buf_init(&pipe->to_plain);
        ak_buf_init(&pipe->to_tls);
        ak_io_init(&pipe->tls_io, fd, akt_pipe_on_tls, relay);
        ak_io_init(&pipe->plain_io, plain, akt_pipe_on_plain, pipe);
        ak_loop_io_start(loop, &pipe->tls_io, AK_IO_READ, NULL);
        ak_loop_io_start(loop, &pipe->plain_io, AK_IO_READ | AK_IO_WRITE, NULL);
        pipe->next = relay->pipes;
        relay->pipes = pipe;
    }
}

static void akt_relay_free(akt_relay_t *relay)
{
    ak_loop_io_stop(relay->loop, &relay->listen_io);
    close(relay->listen_fd);
    while (relay->pipes) {
        akt_pipe_t *p = relay->pipes;
        relay->pipes = p->next;
        akt_pipe_close(p);
        ak_buf_free(&p->to_plain);
        ak_buf_free(&p->to_tls);
        free(p);
    }
    ak_tls_ctx_free(relay->ctx);
    free(relay);
}

/* ---- environment ---------------------------------------------------------- */

typedef struct akt_env {
    ak_loop_t *loop;
    ak_asd_cluster_t *asd;
    akt_relay_t *relay;
    ak_client_t *client;
} akt_env_t;

static int akt_group_setup(void **state)
{
    (void)state;
    snprintf(akt_dir, sizeof akt_dir, "/tmp/aerokafka-client-tls-XXXXXX");
    if (!mkdtemp(akt_dir))
        fail_msg("mkdtemp: %s", strerror(errno));
    akt_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout ca.key -out ca.pem -days 2 -subj '/CN=aerokafka test CA' "
           "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign 2>/dev/null && "
           "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout node.key -out node.csr -subj '/CN=node1.aerospike.test' 2>/dev/null && "
           "printf 'basicConstraints=CA:FALSE\\nsubjectAltName=DNS:node1.aerospike.test\\n' > node.ext && "
           "openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -set_serial 0x1234 -days 2 "
           "-extfile node.ext -out node.pem 2>/dev/null",
           akt_dir);
    return 0;
}

static int akt_group_teardown(void **state)
{
    (void)state;
    akt_sh("rm -rf %s", akt_dir);
    return 0;
}

static int akt_setup(void **state)
{
    akt_env_t *env = calloc(1, sizeof *env);
    *state = env;
    ak_error_t err;
    env->loop = ak_loop_new(&err);
    ak_asd_options_t opts = {0};
    env->asd = ak_asd_cluster_new(env->loop, &opts, &err);
    assert_non_null(env->asd);
    akt_relay_t *relay = calloc(1, sizeof *relay);
    relay->loop = env->loop;
    relay->backend_port = ak_asd_cluster_node_port(env->asd, 0);
    char cert[128], key[128];
    snprintf(cert, sizeof cert, "%s/node.pem", akt_dir);
    snprintf(key, sizeof key, "%s/node.key", akt_dir);
    ak_tls_server_options_t sopts = {.cert_file = cert, .key_file = key};
    relay->ctx = ak_tls_server_ctx_new(&sopts, &err);
    if (!relay->ctx)
        fail_msg("tls: %s", err.message);
    relay->listen_fd = ak_sock_listen("127.0.0.1", 0, 64, &relay->port, &err);
    assert_true(relay->listen_fd >= 0);
    ak_io_init(&relay->listen_io, relay->listen_fd, akt_relay_on_accept, relay);
    ak_loop_io_start(env->loop, &relay->listen_io, AK_IO_READ, NULL);
    env->relay = relay;
    return 0;
}

static int akt_teardown(void **state)
{
    akt_env_t *env = *state;
    ak_client_free(env->client);
    akt_relay_free(env->relay);
    ak_asd_cluster_free(env->asd);
    ak_loop_free(env->loop);
    free(env);
    return 0;
}

typedef struct akt_wait {
    ak_client_t *client;
    bool *done;
    uint64_t deadline;
} akt_wait_t;

static void akt_tick(ak_loop_t *loop, void *arg)
{
    akt_wait_t *w = arg;
    if ((w->done && *w->done) || (!w->done && ak_client_is_ready(w->client)) || ak_clock_ms() > w->deadline) {
        ak_loop_stop(loop);
        return;
    }
    ak_loop_timer(loop, 1, akt_tick, w);
}

static void akt_run(akt_env_t *env, bool *done, uint64_t ms)
{
    akt_wait_t w = {env->client, done, ak_clock_ms() + ms};
    ak_loop_timer(env->loop, 0, akt_tick, &w);
    ak_loop_run(env->loop);
}

static void akt_start_client(akt_env_t *env, const char *tls_name)
{
    char seeds[256], ca[128];
    snprintf(seeds, sizeof seeds, "127.0.0.1:%s:%u", tls_name, env->relay->port);
    snprintf(ca, sizeof ca, "%s/ca.pem", akt_dir);
    ak_client_config_t config;
    ak_client_config_init(&config);
    config.seeds = seeds;
    config.tls_enable = true;
    config.tls_ca_file = ca;
    config.tend_interval_ms = 50;
    ak_error_t err;
    env->client = ak_client_new(env->loop, &config, &err);
    if (!env->client)
        fail_msg("ak_client_new: %s", err.message);
}

typedef struct akt_result {
    bool done;
    int code;
    char message[256];
} akt_result_t;

static void akt_on_result(const ak_client_result_t *result, void *arg)
{
    akt_result_t *r = arg;
    r->done = true;
    r->code = result->result_code;
    snprintf(r->message, sizeof r->message, "%s", result->message);
}

static void test_tls_with_the_right_tls_name_carries_commands(void **state)
{
    akt_env_t *env = *state;
    akt_start_client(env, "node1.aerospike.test");
    akt_run(env, NULL, 10000);
    if (!ak_client_is_ready(env->client))
        fail_msg("not ready: %s", ak_client_last_error(env->client));
    ak_record_t rec;
    ak_record_init(&rec);
    rec.ns = (ak_str_t){"test", 4};
    rec.has_key = true;
    rec.key = ak_value_string("tls-key");
    ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(5)};
    rec.bins = &bin;
    rec.n_bins = 1;
    akt_result_t r = {0};
    ak_error_t err;
    akt_assert_ok(ak_client_put(env->client, &rec, NULL, akt_on_result, &r, &err), &err);
    akt_run(env, &r.done, 10000);
    assert_true(r.done);
    if (r.code != AK_RESULT_OK)
        fail_msg("put: %d %s", r.code, r.message);
    ak_asd_stats_t stats;
    ak_asd_cluster_stats(env->asd, &stats);
    assert_int_equal(stats.records, 1);
    assert_true(env->relay->handshakes >= 2); /* the tend and the data connection */
}

static void test_tls_with_a_wrong_tls_name_is_refused(void **state)
{
    akt_env_t *env = *state;
    akt_start_client(env, "other.aerospike.test");
    akt_run(env, NULL, 300);
    assert_false(ak_client_is_ready(env->client));
    const char *why = ak_client_last_error(env->client);
    if (!strstr(why, "TLS") && !strstr(why, "certificate"))
        fail_msg("unexpected last error: %s", why);
    ak_asd_stats_t stats;
    ak_asd_cluster_stats(env->asd, &stats);
    assert_int_equal(stats.info_requests, 0); /* nothing got through */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_with_the_right_tls_name_carries_commands, akt_setup, akt_teardown),
        cmocka_unit_test_setup_teardown(test_tls_with_a_wrong_tls_name_is_refused, akt_setup, akt_teardown),
    };
    return cmocka_run_group_tests(tests, akt_group_setup, akt_group_teardown);
}
