/*
 * aerospike-dev over real sockets, at the wire level: what the official
 * client cannot reach (pipelined frames, hand-built batch rows, malformed
 * and split frames, the dev-* fault switches, XDR shipping as a connector
 * sees it).
 *
 * The cluster runs on its own loop thread; the test thread talks to it with
 * plain blocking sockets (every read has a socket timeout) and changes it
 * with info commands, as users do. Every wait polls its condition until a
 * deadline; no test sleeps and hopes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ak_test_util.h"
#include "dev/aerospike/ak_aerospike_dev.h"
#include "net/ak_loop.h"
#include "wire/ak_batch.h"
#include "wire/ak_compress.h"
#include "wire/ak_digest.h"
#include "wire/ak_info.h"
#include "wire/ak_msg.h"
#include "wire/ak_particle.h"
#include "wire/ak_proto.h"
#include "wire/ak_record.h"
#include "wire/ak_result.h"

#define AKT_NS "test"
#define AKT_SET "demo"
#define AKT_IO_TIMEOUT_S 10
#define AKT_WAIT_MS 10000
#define AKT_BITMAP_B64 684

/* ---- clocks ---------------------------------------------------------- */

static uint32_t akt_now_since_2010(void)
{
    return (uint32_t)((long long)time(NULL) - AK_CITRUSLEAF_EPOCH_SECONDS);
}

static uint64_t akt_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the cluster on its loop thread ---------------------------------- */

typedef struct akt_asd {
    ak_loop_t *loop;
    pthread_t thread;
    ak_asd_cluster_t *cluster;
    int nodes;
    uint16_t ports[AK_ASD_MAX_NODES];
    char names[AK_ASD_MAX_NODES][32];
} akt_asd_t;

static void *akt_loop_main(void *arg)
{
    ak_loop_run(arg);
    return NULL;
}

typedef struct akt_call {
    void (*fn)(akt_asd_t *asd);
    akt_asd_t *asd;
    int done;
} akt_call_t;

static void akt_call_run(ak_loop_t *loop, void *arg)
{
    (void)loop;
    akt_call_t *call = arg;
    call->fn(call->asd);
    __atomic_store_n(&call->done, 1, __ATOMIC_RELEASE);
}

/* Runs fn on the loop thread and waits for it. */
static void akt_on_loop(akt_asd_t *asd, void (*fn)(akt_asd_t *asd))
{
    akt_call_t call = {fn, asd, 0};
    assert_true(ak_loop_post(asd->loop, akt_call_run, &call));
    uint64_t deadline = ak_clock_ms() + AKT_WAIT_MS;
    while (!__atomic_load_n(&call.done, __ATOMIC_ACQUIRE)) {
        if (ak_clock_ms() > deadline) {
            fprintf(stderr, "loop thread did not run a posted call within %d ms\n", AKT_WAIT_MS);
            abort(); /* call lives on this stack: cannot return */
        }
        usleep(1000);
    }
}

static akt_asd_t *akt_asd_start(const ak_asd_options_t *opts)
{
    akt_asd_t *asd = calloc(1, sizeof *asd);
    assert_non_null(asd);
    ak_error_t err;
    asd->loop = ak_loop_new(&err);
    assert_non_null(asd->loop);
    asd->cluster = ak_asd_cluster_new(asd->loop, opts, &err);
    if (!asd->cluster)
        fail_msg("ak_asd_cluster_new: %s", err.message);
    asd->nodes = ak_asd_cluster_node_count(asd->cluster);
    for (int i = 0; i < asd->nodes; i++) {
        asd->ports[i] = ak_asd_cluster_node_port(asd->cluster, i);
        assert_int_not_equal(asd->ports[i], 0);
        snprintf(asd->names[i], sizeof asd->names[i], "%s", ak_asd_cluster_node_name(asd->cluster, i));
    }
    assert_int_equal(pthread_create(&asd->thread, NULL, akt_loop_main, asd->loop), 0);
    return asd;
}

static void akt_asd_free_cluster(akt_asd_t *asd)
{
    ak_asd_cluster_free(asd->cluster);
    asd->cluster = NULL;
}

/* Frees the cluster on its loop (connections are freed at the end of that
 * iteration), then stops the loop. */
static void akt_asd_stop(akt_asd_t *asd)
{
    akt_on_loop(asd, akt_asd_free_cluster);
    ak_loop_stop(asd->loop);
    pthread_join(asd->thread, NULL);
    ak_loop_free(asd->loop);
    free(asd);
}

/* What a test started; the teardown stops it even when the test failed. */
typedef struct akt_env {
    akt_asd_t *asd;
    struct akt_xdr_listener *listeners[2];
} akt_env_t;

static void akt_xdr_listener_stop(struct akt_xdr_listener *l);

static int akt_setup_empty(void **state)
{
    akt_env_t *env = calloc(1, sizeof *env);
    assert_non_null(env);
    *state = env;
    return 0;
}

static int akt_setup_one_node(void **state)
{
    akt_setup_empty(state);
    ak_asd_options_t opts = {0};
    ((akt_env_t *)*state)->asd = akt_asd_start(&opts);
    return 0;
}

static int akt_teardown(void **state)
{
    akt_env_t *env = *state;
    if (env->asd)
        akt_asd_stop(env->asd); /* first: the shipper then stops talking to the listeners */
    for (int i = 0; i < 2; i++)
        if (env->listeners[i])
            akt_xdr_listener_stop(env->listeners[i]);
    free(env);
    return 0;
}

static akt_asd_t *akt_asd(void **state)
{
    return ((akt_env_t *)*state)->asd;
}

/* ---- blocking sockets ------------------------------------------------- */

/* fd, or -1 with errno set. */
static int akt_try_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    struct timeval tv = {AKT_IO_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int akt_connect(uint16_t port)
{
    int fd = akt_try_connect(port);
    if (fd < 0)
        fail_msg("connect to 127.0.0.1:%u: %s", port, strerror(errno));
    return fd;
}

static void akt_send(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail_msg("send: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

/* 1 = read, 0 = EOF or reset, -1 = timeout. */
static int akt_recv_exact(int fd, uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -1;
        if (n <= 0)
            return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

/* Reads one frame; body gets the bytes after the 8-byte header. Returns the
 * proto type. */
static uint8_t akt_read_frame(int fd, ak_buf_t *body)
{
    uint8_t header[AK_PROTO_HEADER_SIZE];
    int rc = akt_recv_exact(fd, header, sizeof header);
    if (rc != 1)
        fail_msg("reading a reply header: %s", rc == 0 ? "connection closed" : "timed out");
    ak_proto_header_t h;
    ak_error_t err;
    akt_assert_ok(ak_proto_header_parse(header, sizeof header, 0, &h, &err), &err);
    ak_buf_clear(body);
    assert_true(ak_buf_reserve(body, (size_t)h.size + 1));
    rc = akt_recv_exact(fd, body->data, (size_t)h.size);
    if (rc != 1)
        fail_msg("reading a %llu-byte reply body: %s", (unsigned long long)h.size,
                 rc == 0 ? "connection closed" : "timed out");
    body->len = (size_t)h.size;
    return h.type;
}

/* ---- replies ---------------------------------------------------------- */

typedef struct akt_reply {
    ak_buf_t body;
    ak_arena_t arena;
    ak_msg_t msg;
} akt_reply_t;

static void akt_reply_init(akt_reply_t *r)
{
    memset(r, 0, sizeof *r);
    ak_buf_init(&r->body);
    ak_arena_init(&r->arena, 4096);
}

static void akt_reply_free(akt_reply_t *r)
{
    ak_buf_free(&r->body);
    ak_arena_destroy(&r->arena);
}

static void akt_reply_read(int fd, akt_reply_t *r)
{
    uint8_t type = akt_read_frame(fd, &r->body);
    assert_int_equal(type, AK_PROTO_TYPE_MESSAGE);
    ak_arena_reset(&r->arena);
    ak_error_t err;
    akt_assert_ok(ak_msg_parse(r->body.data, r->body.len, AK_PROTO_HEADER_SIZE, &r->arena, &r->msg, &err),
                  &err);
}

static const ak_msg_op_t *akt_reply_op(const akt_reply_t *r, const char *name)
{
    size_t len = strlen(name);
    for (uint16_t i = 0; i < r->msg.header.n_ops; i++) {
        const ak_msg_op_t *op = &r->msg.ops[i];
        if (op->name_len == len && memcmp(op->name, name, len) == 0)
            return op;
    }
    return NULL;
}

static ak_value_t akt_op_value(akt_reply_t *r, const ak_msg_op_t *op)
{
    ak_value_t value;
    ak_error_t err;
    akt_assert_ok(ak_particle_decode(op->particle_type, op->value, op->value_len, op->value_offset,
                                     &r->arena, &value, &err),
                  &err);
    return value;
}

/* Asserts the reply holds bin `name` as a READ op equal to expected. */
static void akt_assert_bin(akt_reply_t *r, const char *name, const ak_value_t *expected)
{
    const ak_msg_op_t *op = akt_reply_op(r, name);
    if (!op)
        fail_msg("reply has no bin '%s'", name);
    assert_int_equal(op->op_type, AK_OP_READ);
    ak_value_t got = akt_op_value(r, op);
    if (!ak_value_equal(&got, expected))
        fail_msg("bin '%s': got a %s, expected an equal %s", name, ak_value_type_name(&got),
                 ak_value_type_name(expected));
}

/* ---- requests --------------------------------------------------------- */

static void akt_digest(const char *set, const char *key, uint8_t digest[AK_DIGEST_SIZE])
{
    ak_value_t k = ak_value_string(key);
    ak_error_t err;
    akt_assert_ok(ak_digest_compute(set, strlen(set), &k, digest, &err), &err);
}

static void akt_rec_init(ak_record_t *rec, const char *set, const char *key)
{
    ak_record_init(rec);
    rec->ns = (ak_str_t){AKT_NS, strlen(AKT_NS)};
    rec->set = (ak_str_t){set, strlen(set)};
    rec->has_key = true;
    rec->key = ak_value_string(key);
}

/* Appends a write of rec (KEY field included: send-key). */
static void akt_put_req(ak_buf_t *out, const ak_record_t *rec)
{
    ak_error_t err;
    akt_assert_ok(ak_record_to_msg(rec, 1000, out, &err), &err);
}

/* Appends a put of one bin with the given ttl. */
static void akt_put_bin_req(ak_buf_t *out, const char *key, const char *bin, ak_value_t value, uint32_t ttl)
{
    ak_bin_t b = {.name = {bin, strlen(bin)}, .value = value};
    ak_record_t rec;
    akt_rec_init(&rec, AKT_SET, key);
    rec.ttl = ttl;
    rec.bins = &b;
    rec.n_bins = 1;
    akt_put_req(out, &rec);
}

typedef struct akt_op {
    uint8_t op_type;
    uint8_t particle;
    const char *name;
    const void *value;
    size_t len;
} akt_op_t;

/* Appends a command addressed by digest (no KEY field). */
static void akt_ops_req(ak_buf_t *out, const char *ns, uint8_t info1, uint8_t info2, uint8_t info3,
                        uint32_t generation, uint32_t ttl, const char *key, const akt_op_t *ops, size_t n_ops)
{
    ak_msg_header_t h = {0};
    h.info1 = info1;
    h.info2 = info2;
    h.info3 = info3;
    h.generation = generation;
    h.record_ttl = ttl;
    h.transaction_ttl = 1000;
    uint8_t digest[AK_DIGEST_SIZE];
    akt_digest(AKT_SET, key, digest);
    ak_msg_builder_t b;
    ak_msg_begin(&b, out, &h);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, ns, strlen(ns));
    ak_msg_add_field(&b, AK_FIELD_SET, AKT_SET, strlen(AKT_SET));
    ak_msg_add_field(&b, AK_FIELD_DIGEST, digest, sizeof digest);
    for (size_t i = 0; i < n_ops; i++)
        ak_msg_add_op_raw(&b, ops[i].op_type, ops[i].particle, ops[i].name,
                          ops[i].name ? strlen(ops[i].name) : 0, ops[i].value, ops[i].len);
    ak_error_t err;
    akt_assert_ok(ak_msg_end(&b, &err), &err);
}

static void akt_get_req(ak_buf_t *out, const char *key)
{
    akt_ops_req(out, AKT_NS, AK_INFO1_READ | AK_INFO1_GET_ALL, 0, 0, 0, 0, key, NULL, 0);
}

static void akt_touch_req(ak_buf_t *out, const char *key, uint32_t ttl)
{
    akt_op_t touch = {AK_OP_TOUCH, AK_PARTICLE_NULL, NULL, NULL, 0};
    akt_ops_req(out, AKT_NS, 0, AK_INFO2_WRITE, 0, 0, ttl, key, &touch, 1);
}

static void akt_incr_req(ak_buf_t *out, const char *key, const char *bin, int64_t delta)
{
    uint8_t value[8];
    ak_put_be64(value, (uint64_t)delta);
    akt_op_t incr = {AK_OP_INCR, AK_PARTICLE_INTEGER, bin, value, 8};
    akt_ops_req(out, AKT_NS, 0, AK_INFO2_WRITE, 0, 0, 0, key, &incr, 1);
}

static void akt_delete_req(ak_buf_t *out, const char *key, bool durable)
{
    akt_ops_req(out, AKT_NS, 0,
                AK_INFO2_WRITE | AK_INFO2_DELETE | (durable ? AK_INFO2_DURABLE_DELETE : 0), 0, 0, 0, key,
                NULL, 0);
}

/* Sends req (then clears it) and reads the one reply. */
static void akt_roundtrip(int fd, ak_buf_t *req, akt_reply_t *reply)
{
    akt_send(fd, req->data, req->len);
    ak_buf_clear(req);
    akt_reply_read(fd, reply);
}

/* Sends req (then clears it) and returns the reply's result code. */
static int akt_code(int fd, ak_buf_t *req)
{
    akt_reply_t reply;
    akt_reply_init(&reply);
    akt_roundtrip(fd, req, &reply);
    int code = reply.msg.header.result_code;
    akt_reply_free(&reply);
    return code;
}

/* ---- info ------------------------------------------------------------- */

/* Sends an info request with the given body and reads the reply body. */
static void akt_info_raw(int fd, const char *request, ak_buf_t *reply)
{
    ak_buf_t frame;
    ak_buf_init(&frame);
    akt_frame(&frame, AK_PROTO_TYPE_INFO, (const uint8_t *)request, strlen(request));
    akt_send(fd, frame.data, frame.len);
    ak_buf_free(&frame);
    assert_int_equal(akt_read_frame(fd, reply), AK_PROTO_TYPE_INFO);
}

/* The value of one info command, malloc'd and NUL-terminated. */
static char *akt_info(int fd, const char *command)
{
    char request[512];
    snprintf(request, sizeof request, "%s\n", command);
    ak_buf_t body;
    ak_buf_init(&body);
    akt_info_raw(fd, request, &body);
    ak_info_iter_t iter;
    ak_info_pair_t pair;
    ak_info_iter_init(&iter, (const char *)body.data, body.len);
    assert_true(ak_info_iter_next(&iter, &pair));
    if (pair.name_len != strlen(command) || memcmp(pair.name, command, pair.name_len) != 0)
        fail_msg("info reply names '%.*s', asked for '%s'", (int)pair.name_len, pair.name, command);
    char *value = strndup(pair.value, pair.value_len);
    assert_non_null(value);
    ak_buf_free(&body);
    return value;
}

static void akt_info_ok(int fd, const char *command)
{
    char *value = akt_info(fd, command);
    if (strcmp(value, "ok") != 0)
        fail_msg("'%s' answered '%s'", command, value);
    free(value);
}

/* One counter of dev-stats. */
static uint64_t akt_dev_stat(int fd, const char *key)
{
    char *stats = akt_info(fd, "dev-stats");
    size_t key_len = strlen(key);
    const char *p = stats;
    while (p && *p) {
        if (strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
            uint64_t v = strtoull(p + key_len + 1, NULL, 10);
            free(stats);
            return v;
        }
        p = strchr(p, ';');
        if (p)
            p++;
    }
    fail_msg("dev-stats has no '%s': %s", key, stats);
    return 0;
}

/* Polls dev-stats until key >= at_least; fails at the deadline. */
static uint64_t akt_wait_stat(int fd, const char *key, uint64_t at_least, uint32_t within_ms)
{
    uint64_t deadline = ak_clock_ms() + within_ms;
    for (;;) {
        uint64_t v = akt_dev_stat(fd, key);
        if (v >= at_least)
            return v;
        if (ak_clock_ms() > deadline)
            fail_msg("dev-stats %s stayed at %llu (waited for %llu within %u ms)", key,
                     (unsigned long long)v, (unsigned long long)at_least, within_ms);
        usleep(5000);
    }
}

/* ---- tests: data commands -------------------------------------------- */

#define AKT_BIN(n, v) {.name = {n, sizeof(n) - 1}, .value = (v)}

static void test_put_get_round_trips_every_particle_type(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    static const uint8_t blob[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
    static const uint8_t java[] = {0xac, 0xed, 0x00, 0x05, 0x74, 0x00, 0x01, 0x41};
    static const uint8_t hll[] = {0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04};
    const char *geo = "{\"type\":\"Point\",\"coordinates\":[-122.5,37.25]}";
    ak_value_t inner_list[2] = {ak_value_double(2.5), ak_value_bool(true)};
    ak_value_t list_items[4] = {ak_value_int(1), ak_value_string("a"), ak_value_list(inner_list, 2),
                                ak_value_blob(blob, sizeof blob)};
    ak_value_t inner_map[4] = {ak_value_string("x"), ak_value_int(-1), ak_value_int(7),
                               ak_value_list(list_items, 2)};
    ak_value_t map_entries[6] = {ak_value_string("k"), ak_value_list(list_items, 4), ak_value_string("n"),
                                 ak_value_map(inner_map, 2, 0), ak_value_int(3), ak_value_double(-0.5)};
    ak_bin_t bins[] = {
        AKT_BIN("int", ak_value_int(-4200000000LL)),
        AKT_BIN("double", ak_value_double(3.25)),
        AKT_BIN("string", ak_value_string("hello, aerospike")),
        AKT_BIN("blob", ak_value_blob(blob, sizeof blob)),
        AKT_BIN("java", ak_value_bytes_of(AK_VALUE_BYTES, AK_PARTICLE_JAVA_BLOB, java, sizeof java)),
        AKT_BIN("bool", ak_value_bool(true)),
        AKT_BIN("hll", ak_value_bytes_of(AK_VALUE_HLL, AK_PARTICLE_HLL, hll, sizeof hll)),
        AKT_BIN("geo", ak_value_bytes_of(AK_VALUE_GEOJSON, AK_PARTICLE_GEOJSON, geo, strlen(geo))),
        AKT_BIN("list", ak_value_list(list_items, 4)),
        AKT_BIN("map", ak_value_map(map_entries, 3, 0)),
    };
    size_t n_bins = sizeof bins / sizeof bins[0];
    ak_record_t rec;
    akt_rec_init(&rec, AKT_SET, "every-type");
    rec.bins = bins;
    rec.n_bins = (uint32_t)n_bins;

    ak_buf_t req;
    ak_buf_init(&req);
    akt_reply_t reply;
    akt_reply_init(&reply);
    akt_put_req(&req, &rec);
    akt_roundtrip(fd, &req, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
    assert_int_equal(reply.msg.header.generation, 1);
    assert_int_equal(reply.msg.header.n_ops, 0);

    akt_get_req(&req, "every-type");
    akt_roundtrip(fd, &req, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
    assert_int_equal(reply.msg.header.generation, 1);
    assert_int_equal(reply.msg.header.n_ops, n_bins);
    for (size_t i = 0; i < n_bins; i++) {
        char name[16];
        snprintf(name, sizeof name, "%.*s", (int)bins[i].name.len, bins[i].name.data);
        akt_assert_bin(&reply, name, &bins[i].value);
    }
    akt_reply_free(&reply);
    ak_buf_free(&req);
    close(fd);
}

static void test_get_missing_record_returns_not_found(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_reply_t reply;
    akt_reply_init(&reply);
    akt_get_req(&req, "never-written");
    akt_roundtrip(fd, &req, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_NOT_FOUND);
    assert_int_equal(reply.msg.header.n_ops, 0);
    akt_reply_free(&reply);
    ak_buf_free(&req);
    close(fd);
}

static void test_create_only_on_existing_returns_record_exists(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    ak_bin_t bin = AKT_BIN("a", ak_value_int(1));
    ak_record_t rec;
    akt_rec_init(&rec, AKT_SET, "create-only");
    rec.bins = &bin;
    rec.n_bins = 1;
    rec.exists_action = AK_EXISTS_CREATE_ONLY;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK); /* creates */
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_RECORD_EXISTS);
    ak_buf_free(&req);
    close(fd);
}

static void test_update_only_and_replace_only_on_missing_return_not_found(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    ak_bin_t bin = AKT_BIN("a", ak_value_int(1));
    ak_record_t rec;
    akt_rec_init(&rec, AKT_SET, "must-exist");
    rec.bins = &bin;
    rec.n_bins = 1;
    rec.exists_action = AK_EXISTS_UPDATE_ONLY;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_NOT_FOUND);
    rec.exists_action = AK_EXISTS_REPLACE_ONLY;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_NOT_FOUND);
    /* nothing was created by either */
    akt_get_req(&req, "must-exist");
    assert_int_equal(akt_code(fd, &req), AK_RESULT_NOT_FOUND);
    /* once it exists both succeed */
    rec.exists_action = AK_EXISTS_UPDATE;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    rec.exists_action = AK_EXISTS_UPDATE_ONLY;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    rec.exists_action = AK_EXISTS_REPLACE_ONLY;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    ak_buf_free(&req);
    close(fd);
}

static void test_generation_mismatch_returns_generation_error(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    ak_bin_t bin = AKT_BIN("a", ak_value_int(1));
    ak_record_t rec;
    akt_rec_init(&rec, AKT_SET, "gen-check");
    rec.bins = &bin;
    rec.n_bins = 1;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK); /* generation 2 now */

    rec.generation_policy = AK_GEN_EQ;
    rec.generation = 1;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_GENERATION);
    rec.generation_policy = AK_GEN_GT;
    rec.generation = 1;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_GENERATION);
    rec.generation = 2; /* equal is not greater */
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_GENERATION);
    /* the matching cases pass */
    rec.generation_policy = AK_GEN_EQ;
    rec.generation = 2;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK); /* now 3 */
    rec.generation_policy = AK_GEN_GT;
    rec.generation = 7;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    ak_buf_free(&req);
    close(fd);
}

static void test_bin_name_of_16_bytes_returns_bin_name_error(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_bin_req(&req, "bin-name", "abcdefghijklmnop", ak_value_int(1), 0); /* 16 bytes */
    assert_int_equal(akt_code(fd, &req), AK_RESULT_BIN_NAME);
    akt_put_bin_req(&req, "bin-name", "abcdefghijklmno", ak_value_int(1), 0); /* 15: the limit */
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    ak_buf_free(&req);
    close(fd);
}

static void test_record_over_1mib_returns_record_too_big(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    size_t size = 1024 * 1024 + 1;
    uint8_t *big = calloc(1, size);
    assert_non_null(big);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_bin_req(&req, "too-big", "b", ak_value_blob(big, size), 0);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_RECORD_TOO_BIG);
    akt_get_req(&req, "too-big");
    assert_int_equal(akt_code(fd, &req), AK_RESULT_NOT_FOUND);
    /* the connection still serves */
    akt_put_bin_req(&req, "too-big", "b", ak_value_blob(big, 1000), 0);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    free(big);
    ak_buf_free(&req);
    close(fd);
}

static void test_ttl_above_ten_years_returns_parameter_error(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    uint32_t ten_years = 10u * 365u * 24u * 3600u;
    akt_put_bin_req(&req, "ttl-limit", "a", ak_value_int(1), ten_years + 1);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_PARAMETER);
    akt_put_bin_req(&req, "ttl-limit", "a", ak_value_int(1), ten_years);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    ak_buf_free(&req);
    close(fd);
}

static void test_unknown_namespace_returns_namespace_not_found(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    uint8_t value[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    akt_op_t write = {AK_OP_WRITE, AK_PARTICLE_INTEGER, "a", value, 8};
    akt_ops_req(&req, "nosuchns", 0, AK_INFO2_WRITE, 0, 0, 0, "k", &write, 1);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_NAMESPACE_NOT_FOUND);
    akt_ops_req(&req, "nosuchns", AK_INFO1_READ | AK_INFO1_GET_ALL, 0, 0, 0, 0, "k", NULL, 0);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_NAMESPACE_NOT_FOUND);
    ak_buf_free(&req);
    close(fd);
}

static void test_send_key_then_other_key_with_same_digest_returns_key_mismatch(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_bin_req(&req, "stored-key", "a", ak_value_int(1), 0); /* KEY field: stored */
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);

    ak_bin_t bin = AKT_BIN("a", ak_value_int(2));
    ak_record_t rec;
    akt_rec_init(&rec, AKT_SET, "another-key");
    rec.has_digest = true;
    akt_digest(AKT_SET, "stored-key", rec.digest); /* same digest, different KEY */
    rec.bins = &bin;
    rec.n_bins = 1;
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_KEY_MISMATCH);

    /* the same key again is fine */
    rec.key = ak_value_string("stored-key");
    akt_put_req(&req, &rec);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    ak_buf_free(&req);
    close(fd);
}

static void test_incr_on_string_bin_returns_incompatible_type(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_bin_req(&req, "incr-string", "s", ak_value_string("abc"), 0);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    akt_incr_req(&req, "incr-string", "s", 1);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_INCOMPATIBLE_TYPE);
    /* the record is untouched */
    akt_reply_t reply;
    akt_reply_init(&reply);
    akt_get_req(&req, "incr-string");
    akt_roundtrip(fd, &req, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
    assert_int_equal(reply.msg.header.generation, 1);
    ak_value_t abc = ak_value_string("abc");
    akt_assert_bin(&reply, "s", &abc);
    akt_reply_free(&reply);
    ak_buf_free(&req);
    close(fd);
}

/* ---- tests: ttl and generation --------------------------------------- */

static uint32_t akt_put_void_time(int fd, const char *key, uint32_t ttl, uint32_t *generation)
{
    ak_buf_t req;
    ak_buf_init(&req);
    akt_reply_t reply;
    akt_reply_init(&reply);
    akt_put_bin_req(&req, key, "a", ak_value_int(1), ttl);
    akt_roundtrip(fd, &req, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
    uint32_t void_time = reply.msg.header.record_ttl;
    if (generation)
        *generation = reply.msg.header.generation;
    akt_reply_free(&reply);
    ak_buf_free(&req);
    return void_time;
}

static void test_ttl_100_gives_void_time_now_plus_100(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    uint32_t before = akt_now_since_2010();
    uint32_t void_time = akt_put_void_time(fd, "ttl-100", 100, NULL);
    uint32_t after = akt_now_since_2010();
    if (void_time < before + 100 || void_time > after + 100)
        fail_msg("void time %u, expected %u..%u", void_time, before + 100, after + 100);
    close(fd);
}

static void test_ttl_never_expire_gives_void_time_zero(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    assert_int_not_equal(akt_put_void_time(fd, "ttl-never", 100, NULL), 0);
    assert_int_equal(akt_put_void_time(fd, "ttl-never", AK_TTL_NEVER_EXPIRE, NULL), 0);
    close(fd);
}

static void test_ttl_dont_update_keeps_old_void_time(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    uint32_t first = akt_put_void_time(fd, "ttl-keep", 1000, NULL);
    assert_int_not_equal(first, 0);
    uint32_t generation = 0;
    uint32_t second = akt_put_void_time(fd, "ttl-keep", AK_TTL_DONT_UPDATE, &generation);
    assert_int_equal(second, first);
    assert_int_equal(generation, 2);
    close(fd);
}

static void test_generation_increments_per_write_and_touch(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_reply_t reply;
    akt_reply_init(&reply);
    for (uint32_t gen = 1; gen <= 3; gen++) {
        akt_put_bin_req(&req, "gen-count", "a", ak_value_int(gen), 0);
        akt_roundtrip(fd, &req, &reply);
        assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
        assert_int_equal(reply.msg.header.generation, gen);
    }
    akt_touch_req(&req, "gen-count", 0);
    akt_roundtrip(fd, &req, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
    assert_int_equal(reply.msg.header.generation, 4);
    akt_get_req(&req, "gen-count");
    akt_roundtrip(fd, &req, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
    assert_int_equal(reply.msg.header.generation, 4);
    /* touching a missing record creates nothing */
    akt_touch_req(&req, "gen-missing", 0);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_NOT_FOUND);
    akt_reply_free(&reply);
    ak_buf_free(&req);
    close(fd);
}

/* ---- tests: pipelining and connections ------------------------------- */

static void test_200_pipelined_requests_in_one_write_are_answered_in_order(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    /* even i: put n = i (generation i/2 + 1); odd i: get (sees n = i - 1) */
    for (int i = 0; i < 200; i++) {
        if (i % 2 == 0)
            akt_put_bin_req(&req, "pipeline", "n", ak_value_int(i), 0);
        else
            akt_get_req(&req, "pipeline");
    }
    akt_send(fd, req.data, req.len); /* one write() for all 200 frames */
    ak_buf_clear(&req);
    akt_reply_t reply;
    akt_reply_init(&reply);
    for (int i = 0; i < 200; i++) {
        akt_reply_read(fd, &reply);
        assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
        assert_int_equal(reply.msg.header.generation, (uint32_t)(i / 2 + 1));
        if (i % 2 == 0) {
            assert_int_equal(reply.msg.header.n_ops, 0);
        } else {
            assert_int_equal(reply.msg.header.n_ops, 1);
            ak_value_t n = ak_value_int(i - 1);
            akt_assert_bin(&reply, "n", &n);
        }
    }
    akt_reply_free(&reply);
    ak_buf_free(&req);
    close(fd);
}

#define AKT_CONNS 100

static void test_100_concurrent_connections_each_run_commands(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fds[AKT_CONNS];
    for (int i = 0; i < AKT_CONNS; i++)
        fds[i] = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_reply_t reply;
    akt_reply_init(&reply);
    char key[32];
    /* every connection has a command outstanding before any reply is read */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < AKT_CONNS; i++) {
            snprintf(key, sizeof key, "conn-%d", i);
            if (round == 0)
                akt_put_bin_req(&req, key, "v", ak_value_int(i), 0);
            else if (round == 1)
                akt_incr_req(&req, key, "v", 1000);
            else
                akt_get_req(&req, key);
            akt_send(fds[i], req.data, req.len);
            ak_buf_clear(&req);
        }
        for (int i = AKT_CONNS - 1; i >= 0; i--) {
            akt_reply_read(fds[i], &reply);
            assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
            assert_int_equal(reply.msg.header.generation, round == 2 ? 2 : (uint32_t)round + 1);
            if (round == 2) {
                ak_value_t v = ak_value_int(i + 1000);
                akt_assert_bin(&reply, "v", &v);
            }
        }
    }
    for (int i = 0; i < AKT_CONNS; i++)
        close(fds[i]);
    akt_reply_free(&reply);
    ak_buf_free(&req);
}

/* ---- tests: info ------------------------------------------------------ */

static void test_info_answers_each_line_in_order(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t body;
    ak_buf_init(&body);
    akt_info_raw(fd, "node\nbuild\npartition-generation\nno-such-command\npeers-generation\nnode\n", &body);
    static const char *const names[] = {"node", "build", "partition-generation", "no-such-command",
                                        "peers-generation", "node"};
    ak_info_iter_t iter;
    ak_info_pair_t pair;
    ak_info_iter_init(&iter, (const char *)body.data, body.len);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_true(ak_info_iter_next(&iter, &pair));
        char *value = strndup(pair.value, pair.value_len);
        assert_non_null(value);
        if (pair.name_len != strlen(names[i]) || memcmp(pair.name, names[i], pair.name_len) != 0)
            fail_msg("line %zu echoes '%.*s', expected '%s'", i, (int)pair.name_len, pair.name, names[i]);
        if (strcmp(names[i], "node") == 0) {
            assert_string_equal(value, asd->names[0]);
        } else if (strcmp(names[i], "build") == 0) {
            assert_true(strlen(value) > 0);
            assert_true(value[0] >= '0' && value[0] <= '9');
        } else if (strcmp(names[i], "no-such-command") == 0) {
            if (strncmp(value, "ERROR:", 6) != 0)
                fail_msg("unknown command answered '%s'", value);
        } else {
            char *end;
            unsigned long v = strtoul(value, &end, 10);
            if (*value == '\0' || *end != '\0' || v == 0)
                fail_msg("%s answered '%s'", names[i], value);
        }
        free(value);
    }
    assert_false(ak_info_iter_next(&iter, &pair));
    ak_buf_free(&body);
    close(fd);
}

static int akt_b64_digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes a 684-character bitmap into 512 bytes. */
static void akt_b64_bitmap(const char *text, uint8_t out[AK_PARTITION_COUNT / 8])
{
    uint8_t bytes[AKT_BITMAP_B64 / 4 * 3];
    size_t n = 0;
    for (size_t i = 0; i < AKT_BITMAP_B64; i += 4) {
        uint32_t v = 0;
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            int d = akt_b64_digit(text[i + j]);
            if (text[i + j] == '=') {
                d = 0;
                pad++;
            } else if (d < 0) {
                fail_msg("bad base64 character '%c' at %zu", text[i + j], i + (size_t)j);
            }
            v = v << 6 | (uint32_t)d;
        }
        bytes[n++] = (uint8_t)(v >> 16);
        bytes[n++] = (uint8_t)(v >> 8);
        bytes[n++] = (uint8_t)v;
        n -= (size_t)pad;
    }
    assert_int_equal(n, AK_PARTITION_COUNT / 8);
    memcpy(out, bytes, AK_PARTITION_COUNT / 8);
}

/* Checks the replicas values of the live nodes: each "test:0,2,<bm>,<bm>";
 * every partition has exactly one master and one prole, on different nodes. */
static void akt_check_replicas(char *const *values, size_t n_nodes)
{
    static uint8_t bitmaps[AK_ASD_MAX_NODES][2][AK_PARTITION_COUNT / 8];
    const char *prefix = "test:0,2,";
    size_t prefix_len = strlen(prefix);
    for (size_t node = 0; node < n_nodes; node++) {
        const char *v = values[node];
        if (strncmp(v, prefix, prefix_len) != 0 || strlen(v) != prefix_len + 2 * AKT_BITMAP_B64 + 1 ||
            v[prefix_len + AKT_BITMAP_B64] != ',')
            fail_msg("node %zu replicas: '%.40s...' (%zu chars)", node, v, strlen(v));
        akt_b64_bitmap(v + prefix_len, bitmaps[node][0]);
        akt_b64_bitmap(v + prefix_len + AKT_BITMAP_B64 + 1, bitmaps[node][1]);
    }
    for (int pid = 0; pid < AK_PARTITION_COUNT; pid++) {
        int owners[2] = {-1, -1};
        for (int r = 0; r < 2; r++) {
            int count = 0;
            for (size_t node = 0; node < n_nodes; node++)
                if (bitmaps[node][r][pid >> 3] & (0x80 >> (pid & 7))) {
                    count++;
                    owners[r] = (int)node;
                }
            if (count != 1)
                fail_msg("partition %d has %d %s", pid, count, r ? "proles" : "masters");
        }
        if (owners[0] == owners[1])
            fail_msg("partition %d: master and prole both on node %d", pid, owners[0]);
    }
}

static void test_info_replicas_three_nodes_one_master_one_prole_each(void **state)
{
    akt_env_t *env = *state;
    ak_asd_options_t opts = {.nodes = 3};
    akt_asd_t *asd = env->asd = akt_asd_start(&opts);
    char *values[3];
    for (int i = 0; i < 3; i++) {
        int fd = akt_connect(asd->ports[i]);
        values[i] = akt_info(fd, "replicas");
        close(fd);
    }
    akt_check_replicas(values, 3);
    for (int i = 0; i < 3; i++)
        free(values[i]);
}

/* Asserts node's peers-clear-std lists exactly the nodes in expect[]. */
static void akt_check_peers(akt_asd_t *asd, int node, const bool expect[AK_ASD_MAX_NODES])
{
    int fd = akt_connect(asd->ports[node]);
    char *peers = akt_info(fd, "peers-clear-std");
    close(fd);
    char *end;
    unsigned long gen = strtoul(peers, &end, 10);
    if (gen == 0 || strncmp(end, ",,[", 3) != 0)
        fail_msg("node %d peers-clear-std: '%s'", node, peers);
    for (int i = 0; i < asd->nodes; i++) {
        char entry[128];
        snprintf(entry, sizeof entry, "[%s,,[127.0.0.1:%u]]", asd->names[i], asd->ports[i]);
        bool listed = strstr(peers, entry) != NULL;
        bool named = strstr(peers, asd->names[i]) != NULL;
        if (listed != expect[i] || named != expect[i])
            fail_msg("node %d peers-clear-std '%s' %s node %d (%s)", node, peers,
                     expect[i] ? "misses" : "lists", i, entry);
    }
    free(peers);
}

static void test_info_peers_clear_std_lists_the_other_nodes_never_itself(void **state)
{
    akt_env_t *env = *state;
    ak_asd_options_t opts = {.nodes = 3};
    akt_asd_t *asd = env->asd = akt_asd_start(&opts);
    for (int node = 0; node < 3; node++) {
        bool expect[AK_ASD_MAX_NODES] = {true, true, true};
        expect[node] = false;
        akt_check_peers(asd, node, expect);
    }
}

/* ---- tests: batch ----------------------------------------------------- */

static void akt_batch_field(ak_buf_t *field, const char *const *keys, size_t n)
{
    ak_buf_append_be32(field, (uint32_t)n);
    ak_buf_append_byte(field, 0x0d); /* inline | respond-all-keys | report error record */
    for (size_t i = 0; i < n; i++) {
        uint8_t digest[AK_DIGEST_SIZE];
        akt_digest(AKT_SET, keys[i], digest);
        ak_buf_append_be32(field, (uint32_t)i);
        ak_buf_append(field, digest, sizeof digest);
        if (i > 0) {
            ak_buf_append_byte(field, AK_BATCH_ROW_REPEAT);
            continue;
        }
        ak_buf_append_byte(field, AK_BATCH_ROW_HAS_EXTRA_INFO | AK_BATCH_ROW_HAS_RECORD_TTL); /* 0x0a */
        ak_buf_append_byte(field, AK_INFO1_READ | AK_INFO1_GET_ALL);
        ak_buf_append_byte(field, 0);
        ak_buf_append_byte(field, 0);
        ak_buf_append_be32(field, 0);
        ak_buf_append_be16(field, 2);
        ak_buf_append_be16(field, 0);
        ak_buf_append_be32(field, (uint32_t)strlen(AKT_NS) + 1);
        ak_buf_append_byte(field, AK_FIELD_NAMESPACE);
        ak_buf_append_str(field, AKT_NS);
        ak_buf_append_be32(field, (uint32_t)strlen(AKT_SET) + 1);
        ak_buf_append_byte(field, AK_FIELD_SET);
        ak_buf_append_str(field, AKT_SET);
    }
}

typedef struct akt_batch_row_reply {
    ak_msg_header_t header;
    ak_msg_op_t *ops;
} akt_batch_row_reply_t;

static void test_batch_answers_every_row_in_order_then_last(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    static const char *const keys[] = {"batch-0", "batch-1", "batch-missing", "batch-3"};
    for (int i = 0; i < 4; i++) {
        if (i == 2)
            continue;
        akt_put_bin_req(&req, keys[i], "row", ak_value_int(i * 10), 0);
        assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    }
    akt_put_bin_req(&req, keys[3], "row", ak_value_int(30), 0); /* generation 2 for row 3 */
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);

    ak_buf_t field;
    ak_buf_init(&field);
    akt_batch_field(&field, keys, 4);
    ak_msg_header_t h = {0};
    h.info1 = AK_INFO1_BATCH;
    h.transaction_ttl = 1000;
    ak_msg_builder_t b;
    ak_msg_begin(&b, &req, &h);
    ak_msg_add_field(&b, AK_FIELD_BATCH, field.data, field.len);
    ak_error_t err;
    akt_assert_ok(ak_msg_end(&b, &err), &err);
    ak_buf_free(&field);
    akt_send(fd, req.data, req.len);
    ak_buf_clear(&req);

    /* Messages may be spread over several frames: collect until LAST. */
    akt_batch_row_reply_t rows[8];
    size_t n_rows = 0;
    bool last = false;
    ak_buf_t bodies[8];
    size_t n_bodies = 0;
    ak_arena_t arena;
    ak_arena_init(&arena, 4096);
    while (!last) {
        assert_true(n_bodies < 8);
        ak_buf_init(&bodies[n_bodies]);
        ak_buf_t *body = &bodies[n_bodies++];
        assert_int_equal(akt_read_frame(fd, body), AK_PROTO_TYPE_MESSAGE);
        size_t pos = 0;
        while (pos < body->len) {
            assert_false(last); /* nothing after LAST */
            assert_true(body->len - pos >= AK_MSG_HEADER_SIZE);
            const uint8_t *p = body->data + pos;
            ak_msg_header_t mh = {0};
            mh.header_sz = p[0];
            mh.info1 = p[1];
            mh.info2 = p[2];
            mh.info3 = p[3];
            mh.info4 = p[4];
            mh.result_code = p[5];
            mh.generation = ak_get_be32(p + 6);
            mh.record_ttl = ak_get_be32(p + 10);
            mh.transaction_ttl = ak_get_be32(p + 14);
            mh.n_fields = ak_get_be16(p + 18);
            mh.n_ops = ak_get_be16(p + 20);
            assert_int_equal(mh.header_sz, AK_MSG_HEADER_SIZE);
            pos += AK_MSG_HEADER_SIZE;
            ak_msg_field_t *fields;
            ak_msg_op_t *ops;
            akt_assert_ok(ak_msg_parse_items(body->data, body->len, &pos, AK_PROTO_HEADER_SIZE, mh.n_fields,
                                             mh.n_ops, &arena, &fields, &ops, &err),
                          &err);
            if (mh.info3 & AK_INFO3_LAST) {
                assert_int_equal(mh.result_code, AK_RESULT_OK);
                last = true;
                continue;
            }
            assert_true(n_rows < 8);
            rows[n_rows].header = mh;
            rows[n_rows].ops = ops;
            n_rows++;
        }
    }
    assert_int_equal(n_rows, 4);
    for (uint32_t i = 0; i < 4; i++) {
        const ak_msg_header_t *rh = &rows[i].header;
        assert_int_equal(rh->transaction_ttl, i); /* the row index, in row order */
        if (i == 2) {
            assert_int_equal(rh->result_code, AK_RESULT_NOT_FOUND);
            assert_int_equal(rh->n_ops, 0);
            continue;
        }
        assert_int_equal(rh->result_code, AK_RESULT_OK);
        assert_int_equal(rh->generation, i == 3 ? 2 : 1);
        assert_int_equal(rh->n_ops, 1);
        const ak_msg_op_t *op = &rows[i].ops[0];
        assert_int_equal(op->op_type, AK_OP_READ);
        assert_int_equal(op->name_len, 3);
        assert_memory_equal(op->name, "row", 3);
        ak_value_t got;
        akt_assert_ok(ak_particle_decode(op->particle_type, op->value, op->value_len, 0, &arena, &got, &err), &err);
        ak_value_t want = ak_value_int((int64_t)i * 10);
        assert_true(ak_value_equal(&got, &want));
    }
    for (size_t i = 0; i < n_bodies; i++)
        ak_buf_free(&bodies[i]);
    ak_arena_destroy(&arena);
    ak_buf_free(&req);
    close(fd);
}

/* ---- tests: operate --------------------------------------------------- */

static void test_operate_respond_all_ops_gives_one_result_per_op_except_touch(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_bin_req(&req, "operate", "i", ak_value_int(5), 0);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);

    static const uint8_t one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t map_put[] = {0x94, 0x43, 0xa2, 0x03, 0x6b, 0x01, 0x00}; /* [67, "k", 1, 0] */
    static const uint8_t map_size[] = {0x91, 0x60};                              /* [96] */
    akt_op_t ops[] = {
        {AK_OP_WRITE, AK_PARTICLE_STRING, "w", "x", 1},
        {AK_OP_INCR, AK_PARTICLE_INTEGER, "i", one, 8},
        {AK_OP_READ, AK_PARTICLE_NULL, "i", NULL, 0},
        {AK_OP_CDT_MODIFY, AK_PARTICLE_BLOB, "m", map_put, sizeof map_put},
        {AK_OP_CDT_READ, AK_PARTICLE_BLOB, "m", map_size, sizeof map_size},
        {AK_OP_TOUCH, AK_PARTICLE_NULL, NULL, NULL, 0},
    };
    akt_ops_req(&req, AKT_NS, AK_INFO1_READ, AK_INFO2_WRITE | AK_INFO2_RESPOND_ALL_OPS, 0, 0, 0, "operate", ops,
                sizeof ops / sizeof ops[0]);
    akt_reply_t reply;
    akt_reply_init(&reply);
    akt_roundtrip(fd, &req, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
    assert_int_equal(reply.msg.header.generation, 2);
    assert_int_equal(reply.msg.header.n_ops, 5); /* touch has no entry */
    static const char *const names[] = {"w", "i", "i", "m", "m"};
    ak_value_t expected[5] = {ak_value_nil(), ak_value_nil(), ak_value_int(6), ak_value_int(1), ak_value_int(1)};
    for (int i = 0; i < 5; i++) {
        const ak_msg_op_t *op = &reply.msg.ops[i];
        if (op->name_len != strlen(names[i]) || memcmp(op->name, names[i], op->name_len) != 0)
            fail_msg("result %d names '%.*s', expected '%s'", i, op->name_len, (const char *)op->name, names[i]);
        ak_value_t got = akt_op_value(&reply, op);
        if (!ak_value_equal(&got, &expected[i]))
            fail_msg("result %d ('%s'): got a %s, expected an equal %s", i, names[i], ak_value_type_name(&got),
                     ak_value_type_name(&expected[i]));
    }
    akt_reply_free(&reply);
    ak_buf_free(&req);
    close(fd);
}

/* ---- tests: faults ---------------------------------------------------- */

static void test_fault_code_answers_data_commands_but_not_info(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_info_ok(fd, "dev-fault:code=14;ratio=1");
    for (int i = 0; i < 5; i++) {
        akt_put_bin_req(&req, "faulty", "a", ak_value_int(i), 0);
        assert_int_equal(akt_code(fd, &req), AK_RESULT_KEY_BUSY);
    }
    akt_get_req(&req, "faulty");
    assert_int_equal(akt_code(fd, &req), AK_RESULT_KEY_BUSY);
    char *node = akt_info(fd, "node");
    assert_string_equal(node, asd->names[0]);
    free(node);
    akt_info_ok(fd, "dev-fault:clear");
    akt_put_bin_req(&req, "faulty", "a", ak_value_int(1), 0);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    ak_buf_free(&req);
    close(fd);
}

static void test_fault_ratio_half_fails_about_half_of_400(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    akt_info_ok(fd, "dev-fault:code=14;ratio=0.5");
    ak_buf_t req;
    ak_buf_init(&req);
    for (int i = 0; i < 400; i++)
        akt_put_bin_req(&req, "half", "a", ak_value_int(i), 0);
    akt_send(fd, req.data, req.len);
    ak_buf_clear(&req);
    akt_reply_t reply;
    akt_reply_init(&reply);
    int faults = 0;
    for (int i = 0; i < 400; i++) {
        akt_reply_read(fd, &reply);
        int code = reply.msg.header.result_code;
        if (code == AK_RESULT_KEY_BUSY)
            faults++;
        else
            assert_int_equal(code, AK_RESULT_OK);
    }
    if (faults < 120 || faults > 280)
        fail_msg("%d of 400 requests failed with ratio 0.5", faults);
    akt_info_ok(fd, "dev-fault:clear");
    akt_reply_free(&reply);
    ak_buf_free(&req);
    close(fd);
}

static void test_latency_fault_delays_replies(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    akt_info_ok(fd, "dev-latency:ms=200");
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_bin_req(&req, "slow", "a", ak_value_int(1), 0);
    uint64_t start = ak_clock_ms();
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    uint64_t elapsed = ak_clock_ms() - start;
    if (elapsed < 200)
        fail_msg("reply after %llu ms with 200 ms latency", (unsigned long long)elapsed);
    akt_info_ok(fd, "dev-latency:ms=0");
    akt_put_bin_req(&req, "slow", "a", ak_value_int(2), 0);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    ak_buf_free(&req);
    close(fd);
}

static void test_refuse_fault_refuses_new_connections_until_off(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    akt_info_ok(fd, "dev-refuse:on");
    int refused = akt_try_connect(asd->ports[0]);
    if (refused >= 0)
        fail_msg("connect succeeded while refusing");
    assert_int_equal(errno, ECONNREFUSED);
    /* the open connection keeps working */
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_bin_req(&req, "refuse", "a", ak_value_int(1), 0);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    akt_info_ok(fd, "dev-refuse:off");
    int fd2 = akt_connect(asd->ports[0]);
    akt_get_req(&req, "refuse");
    assert_int_equal(akt_code(fd2, &req), AK_RESULT_OK);
    close(fd2);
    ak_buf_free(&req);
    close(fd);
}

static unsigned long akt_info_number(int fd, const char *command)
{
    char *value = akt_info(fd, command);
    unsigned long v = strtoul(value, NULL, 10);
    free(value);
    return v;
}

static void test_node_stop_moves_partitions_and_start_restores(void **state)
{
    akt_env_t *env = *state;
    ak_asd_options_t opts = {.nodes = 3};
    akt_asd_t *asd = env->asd = akt_asd_start(&opts);
    int fd0 = akt_connect(asd->ports[0]);
    unsigned long gen_before = akt_info_number(fd0, "partition-generation");
    akt_info_ok(fd0, "dev-node-stop:node=1");

    int refused = akt_try_connect(asd->ports[1]);
    if (refused >= 0)
        fail_msg("node 1 accepted a connection while stopped");
    assert_int_equal(errno, ECONNREFUSED);

    bool expect0[AK_ASD_MAX_NODES] = {false, false, true};
    bool expect2[AK_ASD_MAX_NODES] = {true, false, false};
    akt_check_peers(asd, 0, expect0);
    akt_check_peers(asd, 2, expect2);
    int fd2 = akt_connect(asd->ports[2]);
    unsigned long gen0 = akt_info_number(fd0, "partition-generation");
    unsigned long gen2 = akt_info_number(fd2, "partition-generation");
    assert_true(gen0 != gen_before);
    assert_true(gen2 != gen_before);
    char *values[2] = {akt_info(fd0, "replicas"), akt_info(fd2, "replicas")};
    akt_check_replicas(values, 2); /* the two live nodes cover all 4096 */
    free(values[0]);
    free(values[1]);

    /* data written before is still served by the live nodes */
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_bin_req(&req, "survives", "a", ak_value_int(1), 0);
    assert_int_equal(akt_code(fd2, &req), AK_RESULT_OK);
    akt_get_req(&req, "survives");
    assert_int_equal(akt_code(fd0, &req), AK_RESULT_OK);

    akt_info_ok(fd0, "dev-node-start:node=1");
    int fd1 = akt_connect(asd->ports[1]);
    char *node1 = akt_info(fd1, "node");
    assert_string_equal(node1, asd->names[1]);
    free(node1);
    assert_true(akt_info_number(fd0, "partition-generation") != gen0);
    bool all_but_0[AK_ASD_MAX_NODES] = {false, true, true};
    akt_check_peers(asd, 0, all_but_0);
    char *all[3] = {akt_info(fd0, "replicas"), akt_info(fd1, "replicas"), akt_info(fd2, "replicas")};
    akt_check_replicas(all, 3);
    for (int i = 0; i < 3; i++)
        free(all[i]);
    akt_get_req(&req, "survives");
    assert_int_equal(akt_code(fd1, &req), AK_RESULT_OK);
    ak_buf_free(&req);
    close(fd0);
    close(fd1);
    close(fd2);
}

/* ---- tests: robustness ------------------------------------------------ */

static void test_bad_version_closes_only_that_connection(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int good = akt_connect(asd->ports[0]);
    int bad = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_bin_req(&req, "bad-version", "a", ak_value_int(1), 0);
    req.data[0] = 3; /* version 3 */
    akt_send(bad, req.data, req.len);
    ak_buf_clear(&req);
    uint8_t byte;
    int rc = akt_recv_exact(bad, &byte, 1);
    if (rc != 0)
        fail_msg("bad version: the connection %s", rc == 1 ? "answered" : "stayed open");
    close(bad);

    akt_put_bin_req(&req, "bad-version", "a", ak_value_int(2), 0);
    assert_int_equal(akt_code(good, &req), AK_RESULT_OK);
    int fresh = akt_connect(asd->ports[0]);
    akt_reply_t reply;
    akt_reply_init(&reply);
    akt_get_req(&req, "bad-version");
    akt_roundtrip(fresh, &req, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
    assert_int_equal(reply.msg.header.generation, 1); /* the bad frame did nothing */
    akt_reply_free(&reply);
    close(fresh);
    close(good);
    ak_buf_free(&req);
}

static void test_split_and_byte_by_byte_frames_are_answered(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_reply_t reply;
    akt_reply_init(&reply);

    /* one message byte by byte, with pauses so the node sees the pieces */
    akt_put_bin_req(&req, "split", "s", ak_value_string("written one byte at a time"), 0);
    for (size_t i = 0; i < req.len; i++) {
        akt_send(fd, req.data + i, 1);
        if (i < 12 || i % 8 == 0)
            usleep(1000);
    }
    ak_buf_clear(&req);
    akt_reply_read(fd, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
    assert_int_equal(reply.msg.header.generation, 1);

    /* a truncated frame, the rest later, with a whole frame after it */
    akt_get_req(&req, "split");
    akt_get_req(&req, "split");
    size_t first = AK_PROTO_HEADER_SIZE + 10;
    akt_send(fd, req.data, first);
    struct pollfd pfd = {fd, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 50), 0); /* nothing answered for half a frame */
    akt_send(fd, req.data + first, req.len - first);
    ak_buf_clear(&req);
    ak_value_t want = ak_value_string("written one byte at a time");
    for (int i = 0; i < 2; i++) {
        akt_reply_read(fd, &reply);
        assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
        akt_assert_bin(&reply, "s", &want);
    }
    akt_reply_free(&reply);
    ak_buf_free(&req);
    close(fd);
}

static void test_compressed_put_is_executed(void **state)
{
    akt_asd_t *asd = akt_asd(state);
    int fd = akt_connect(asd->ports[0]);
    char text[2048];
    memset(text, 'z', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    ak_buf_t inner, req;
    ak_buf_init(&inner);
    ak_buf_init(&req);
    akt_put_bin_req(&inner, "compressed", "s", ak_value_string(text), 0);
    ak_error_t err;
    akt_assert_ok(ak_compress_encode(inner.data, inner.len, 6, &req, &err), &err);
    assert_int_equal(req.data[1], AK_PROTO_TYPE_COMPRESSED);
    assert_true(req.len < inner.len);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);

    akt_reply_t reply;
    akt_reply_init(&reply);
    akt_get_req(&req, "compressed");
    akt_roundtrip(fd, &req, &reply);
    assert_int_equal(reply.msg.header.result_code, AK_RESULT_OK);
    ak_value_t want = ak_value_string(text);
    akt_assert_bin(&reply, "s", &want);
    akt_reply_free(&reply);
    ak_buf_free(&inner);
    ak_buf_free(&req);
    close(fd);
}

/* ---- XDR: an in-test connector ---------------------------------------- */

#define AKT_XDR_MAX_FRAMES 512
#define AKT_XDR_MAX_CONNS 8
#define AKT_NO_ANSWER (-1)

struct akt_xdr_listener {
    int listen_fd;
    uint16_t port;
    char address[32];
    pthread_t thread;
    int stop; /* atomic */
    pthread_mutex_t lock;
    /* under lock */
    int codes[16]; /* answer to the nth frame received; later frames get 0 */
    size_t n_codes;
    ak_buf_t frames[AKT_XDR_MAX_FRAMES]; /* whole frames, header included */
    size_t n_frames;
    size_t accepted;
};
typedef struct akt_xdr_listener akt_xdr_listener_t;

typedef struct akt_xdr_conn {
    int fd;
    bool silent; /* a frame went unanswered: answer nothing more here */
    ak_buf_t in;
} akt_xdr_conn_t;

static void akt_xdr_conn_close(akt_xdr_conn_t *c)
{
    close(c->fd);
    c->fd = -1;
    ak_buf_free(&c->in);
}

/* Reads what arrived on c, records each frame and answers it. */
static void akt_xdr_conn_read(akt_xdr_listener_t *l, akt_xdr_conn_t *c)
{
    uint8_t chunk[65536];
    ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
        akt_xdr_conn_close(c);
        return;
    }
    ak_buf_append(&c->in, chunk, (size_t)n);
    ak_buf_t out;
    ak_buf_init(&out);
    size_t pos = 0;
    for (;;) {
        ak_frame_t frame;
        size_t consumed;
        ak_frame_scan_t scan = ak_frame_next(c->in.data + pos, c->in.len - pos, pos, &frame, &consumed, NULL);
        if (scan != AK_FRAME_READY)
            break;
        pthread_mutex_lock(&l->lock);
        size_t nth = l->n_frames;
        if (nth < AKT_XDR_MAX_FRAMES) {
            ak_buf_init(&l->frames[nth]);
            ak_buf_append(&l->frames[nth], c->in.data + pos, consumed);
            l->n_frames++;
        }
        int code = nth < l->n_codes ? l->codes[nth] : 0;
        pthread_mutex_unlock(&l->lock);
        pos += consumed;
        if (code == AKT_NO_ANSWER)
            c->silent = true;
        if (!c->silent)
            ak_msg_write_reply(&out, (uint8_t)code, 0, 0);
    }
    memmove(c->in.data, c->in.data + pos, c->in.len - pos);
    c->in.len -= pos;
    size_t off = 0;
    while (off < out.len) {
        ssize_t sent = send(c->fd, out.data + off, out.len - off, MSG_NOSIGNAL);
        if (sent <= 0)
            break;
        off += (size_t)sent;
    }
    ak_buf_free(&out);
}

static void *akt_xdr_listener_main(void *arg)
{
    akt_xdr_listener_t *l = arg;
    akt_xdr_conn_t conns[AKT_XDR_MAX_CONNS];
    for (int i = 0; i < AKT_XDR_MAX_CONNS; i++)
        conns[i].fd = -1;
    while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
        struct pollfd pfds[AKT_XDR_MAX_CONNS + 1];
        pfds[0] = (struct pollfd){l->listen_fd, POLLIN, 0};
        for (int i = 0; i < AKT_XDR_MAX_CONNS; i++)
            pfds[i + 1] = (struct pollfd){conns[i].fd, POLLIN, 0}; /* fd -1 is ignored */
        if (poll(pfds, AKT_XDR_MAX_CONNS + 1, 20) <= 0)
            continue;
        if (pfds[0].revents & POLLIN) {
            int fd = accept4(l->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                int slot = -1;
                for (int i = 0; i < AKT_XDR_MAX_CONNS && slot < 0; i++)
                    if (conns[i].fd < 0)
                        slot = i;
                if (slot < 0) {
                    close(fd);
                } else {
                    conns[slot].fd = fd;
                    conns[slot].silent = false;
                    ak_buf_init(&conns[slot].in);
                    pthread_mutex_lock(&l->lock);
                    l->accepted++;
                    pthread_mutex_unlock(&l->lock);
                }
            }
        }
        for (int i = 0; i < AKT_XDR_MAX_CONNS; i++)
            if (conns[i].fd >= 0 && (pfds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                akt_xdr_conn_read(l, &conns[i]);
    }
    for (int i = 0; i < AKT_XDR_MAX_CONNS; i++)
        if (conns[i].fd >= 0)
            akt_xdr_conn_close(&conns[i]);
    return NULL;
}

static akt_xdr_listener_t *akt_xdr_listener_start(const int *codes, size_t n_codes)
{
    akt_xdr_listener_t *l = calloc(1, sizeof *l);
    assert_non_null(l);
    assert_true(n_codes <= 16);
    if (n_codes)
        memcpy(l->codes, codes, n_codes * sizeof *codes);
    l->n_codes = n_codes;
    pthread_mutex_init(&l->lock, NULL);
    l->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(l->listen_fd >= 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l->listen_fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(l->listen_fd, 16), 0);
    socklen_t len = sizeof addr;
    assert_int_equal(getsockname(l->listen_fd, (struct sockaddr *)&addr, &len), 0);
    l->port = ntohs(addr.sin_port);
    snprintf(l->address, sizeof l->address, "127.0.0.1:%u", l->port);
    assert_int_equal(pthread_create(&l->thread, NULL, akt_xdr_listener_main, l), 0);
    return l;
}

static void akt_xdr_listener_stop(struct akt_xdr_listener *l)
{
    __atomic_store_n(&l->stop, 1, __ATOMIC_RELEASE);
    pthread_join(l->thread, NULL);
    close(l->listen_fd);
    for (size_t i = 0; i < l->n_frames; i++)
        ak_buf_free(&l->frames[i]);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static size_t akt_xdr_count(akt_xdr_listener_t *l)
{
    pthread_mutex_lock(&l->lock);
    size_t n = l->n_frames;
    pthread_mutex_unlock(&l->lock);
    return n;
}

static size_t akt_xdr_accepted(akt_xdr_listener_t *l)
{
    pthread_mutex_lock(&l->lock);
    size_t n = l->accepted;
    pthread_mutex_unlock(&l->lock);
    return n;
}

static void akt_xdr_wait_count(akt_xdr_listener_t *l, size_t at_least, uint32_t within_ms)
{
    uint64_t deadline = ak_clock_ms() + within_ms;
    while (akt_xdr_count(l) < at_least) {
        if (ak_clock_ms() > deadline)
            fail_msg("the connector received %zu frames within %u ms, expected %zu", akt_xdr_count(l),
                     within_ms, at_least);
        usleep(2000);
    }
}

/* A received frame decoded as a record. */
typedef struct akt_xdr_msg {
    ak_buf_t bytes;
    ak_arena_t arena;
    ak_msg_t msg;
    ak_record_t rec;
} akt_xdr_msg_t;

static void akt_xdr_get(akt_xdr_listener_t *l, size_t i, akt_xdr_msg_t *m)
{
    ak_buf_init(&m->bytes);
    ak_arena_init(&m->arena, 4096);
    pthread_mutex_lock(&l->lock);
    assert_true(i < l->n_frames);
    ak_buf_append(&m->bytes, l->frames[i].data, l->frames[i].len);
    pthread_mutex_unlock(&l->lock);
    assert_true(m->bytes.len > AK_PROTO_HEADER_SIZE);
    assert_int_equal(m->bytes.data[0], AK_PROTO_VERSION);
    assert_int_equal(m->bytes.data[1], AK_PROTO_TYPE_MESSAGE);
    ak_error_t err;
    akt_assert_ok(ak_msg_parse(m->bytes.data + AK_PROTO_HEADER_SIZE, m->bytes.len - AK_PROTO_HEADER_SIZE,
                               AK_PROTO_HEADER_SIZE, &m->arena, &m->msg, &err),
                  &err);
    akt_assert_ok(ak_record_from_msg(&m->msg, &m->arena, &m->rec, &err), &err);
}

static void akt_xdr_msg_free(akt_xdr_msg_t *m)
{
    ak_buf_free(&m->bytes);
    ak_arena_destroy(&m->arena);
}

static akt_asd_t *akt_xdr_cluster(akt_xdr_listener_t *const *listeners, size_t n, uint32_t timeout_ms,
                                  bool ship_expiry)
{
    const char *destinations[4];
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++)
        destinations[i] = listeners[i]->address;
    ak_asd_options_t opts = {0};
    opts.xdr_destinations = destinations;
    opts.n_xdr_destinations = n;
    opts.xdr_timeout_ms = timeout_ms;
    opts.xdr_ship_expiry = ship_expiry;
    return akt_asd_start(&opts); /* the shipper copies the destinations */
}

static void akt_assert_key(const ak_record_t *rec, const char *key)
{
    assert_true(rec->has_key);
    ak_value_t want = ak_value_string(key);
    assert_true(ak_value_equal(&rec->key, &want));
    uint8_t digest[AK_DIGEST_SIZE];
    akt_digest(AKT_SET, key, digest);
    assert_true(rec->has_digest);
    assert_memory_equal(rec->digest, digest, AK_DIGEST_SIZE);
    assert_int_equal(rec->ns.len, strlen(AKT_NS));
    assert_memory_equal(rec->ns.data, AKT_NS, rec->ns.len);
    assert_int_equal(rec->set.len, strlen(AKT_SET));
    assert_memory_equal(rec->set.data, AKT_SET, rec->set.len);
}

/* Puts bin "a" = value with send-key, ttl given; waits for the reply. */
static void akt_put_simple(int fd, const char *key, int64_t value, uint32_t ttl)
{
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_bin_req(&req, key, "a", ak_value_int(value), ttl);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    ak_buf_free(&req);
}

/* ---- tests: XDR ------------------------------------------------------- */

static void test_xdr_put_ships_the_record_with_every_particle_type(void **state)
{
    akt_env_t *env = *state;
    akt_xdr_listener_t *l = env->listeners[0] = akt_xdr_listener_start(NULL, 0);
    akt_asd_t *asd = env->asd = akt_xdr_cluster(&l, 1, 0, false);
    int fd = akt_connect(asd->ports[0]);

    static const uint8_t blob[] = {0xde, 0xad, 0xbe, 0xef};
    static const uint8_t hll[] = {0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02};
    const char *geo = "{\"type\":\"Point\",\"coordinates\":[1.5,2.5]}";
    ak_value_t inner[2] = {ak_value_string("x"), ak_value_int(1)};
    ak_value_t items[3] = {ak_value_int(7), ak_value_string("s"), ak_value_map(inner, 1, 0)};
    ak_value_t entries[4] = {ak_value_string("l"), ak_value_list(items, 3), ak_value_string("d"),
                             ak_value_double(0.25)};
    ak_bin_t bins[] = {
        AKT_BIN("int", ak_value_int(42)),
        AKT_BIN("double", ak_value_double(-1.5)),
        AKT_BIN("string", ak_value_string("xdr")),
        AKT_BIN("blob", ak_value_blob(blob, sizeof blob)),
        AKT_BIN("java", ak_value_bytes_of(AK_VALUE_BYTES, AK_PARTICLE_JAVA_BLOB, blob, sizeof blob)),
        AKT_BIN("bool", ak_value_bool(false)),
        AKT_BIN("hll", ak_value_bytes_of(AK_VALUE_HLL, AK_PARTICLE_HLL, hll, sizeof hll)),
        AKT_BIN("geo", ak_value_bytes_of(AK_VALUE_GEOJSON, AK_PARTICLE_GEOJSON, geo, strlen(geo))),
        AKT_BIN("list", ak_value_list(items, 3)),
        AKT_BIN("map", ak_value_map(entries, 2, 0)),
    };
    size_t n_bins = sizeof bins / sizeof bins[0];
    ak_record_t put;
    akt_rec_init(&put, AKT_SET, "xdr-every-type");
    put.bins = bins;
    put.n_bins = (uint32_t)n_bins;
    ak_buf_t req;
    ak_buf_init(&req);
    akt_put_req(&req, &put);
    uint64_t before_ms = akt_unix_ms();
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    uint64_t after_ms = akt_unix_ms();

    akt_wait_stat(fd, "xdr-acknowledged", 1, AKT_WAIT_MS);
    assert_int_equal(akt_dev_stat(fd, "xdr-queued"), 0);
    assert_int_equal(akt_dev_stat(fd, "xdr-in-flight"), 0);
    assert_int_equal(akt_dev_stat(fd, "xdr-shipped"), 1);
    assert_int_equal(akt_xdr_count(l), 1);

    akt_xdr_msg_t m;
    akt_xdr_get(l, 0, &m);
    const ak_record_t *got = &m.rec;
    assert_int_equal(got->op, AK_RECORD_WRITE);
    assert_true(m.msg.header.info1 & AK_INFO1_XDR);
    assert_true(got->xdr);
    akt_assert_key(got, "xdr-every-type");
    assert_int_equal(got->generation, 1);
    assert_true(got->has_lut);
    if (got->lut_ms + 2000 < before_ms || got->lut_ms > after_ms + 2000)
        fail_msg("LUT %llu ms, the write happened %llu..%llu", (unsigned long long)got->lut_ms,
                 (unsigned long long)before_ms, (unsigned long long)after_ms);
    assert_int_equal(got->ttl, AK_TTL_NEVER_EXPIRE);
    assert_int_equal(got->n_bins, n_bins);
    for (size_t i = 0; i < n_bins; i++) {
        const ak_bin_t *found = NULL;
        for (uint32_t j = 0; j < got->n_bins; j++)
            if (got->bins[j].name.len == bins[i].name.len &&
                memcmp(got->bins[j].name.data, bins[i].name.data, bins[i].name.len) == 0)
                found = &got->bins[j];
        if (!found)
            fail_msg("shipped record has no bin '%.*s'", (int)bins[i].name.len, bins[i].name.data);
        if (!ak_value_equal(&found->value, &bins[i].value))
            fail_msg("shipped bin '%.*s' differs: a %s", (int)bins[i].name.len, bins[i].name.data,
                     ak_value_type_name(&found->value));
    }
    /* and as a whole, against what was written */
    ak_record_t expect = put;
    expect.xdr = true;
    expect.generation = 1;
    expect.has_digest = true;
    akt_digest(AKT_SET, "xdr-every-type", expect.digest);
    expect.has_lut = true;
    expect.lut_ms = got->lut_ms;
    expect.ttl = AK_TTL_NEVER_EXPIRE;
    assert_true(ak_record_equal(&expect, got));
    akt_xdr_msg_free(&m);
    ak_buf_free(&req);
    close(fd);
}

static void test_xdr_delete_ships_a_delete_with_set_and_key(void **state)
{
    akt_env_t *env = *state;
    akt_xdr_listener_t *l = env->listeners[0] = akt_xdr_listener_start(NULL, 0);
    akt_asd_t *asd = env->asd = akt_xdr_cluster(&l, 1, 0, false);
    int fd = akt_connect(asd->ports[0]);
    akt_put_simple(fd, "xdr-delete", 1, 0);
    akt_wait_stat(fd, "xdr-acknowledged", 1, AKT_WAIT_MS);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_delete_req(&req, "xdr-delete", false);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    akt_wait_stat(fd, "xdr-acknowledged", 2, AKT_WAIT_MS);
    assert_int_equal(akt_xdr_count(l), 2);

    akt_xdr_msg_t m;
    akt_xdr_get(l, 1, &m);
    assert_int_equal(m.msg.header.info2 & (AK_INFO2_WRITE | AK_INFO2_DELETE | AK_INFO2_DURABLE_DELETE),
                     AK_INFO2_WRITE | AK_INFO2_DELETE);
    assert_true(m.msg.header.info1 & AK_INFO1_XDR);
    assert_int_equal(m.rec.op, AK_RECORD_DELETE);
    akt_assert_key(&m.rec, "xdr-delete");
    assert_int_equal(m.rec.n_bins, 0);
    akt_xdr_msg_free(&m);
    ak_buf_free(&req);
    close(fd);
}

static void test_xdr_touch_ships_a_write_with_the_next_generation(void **state)
{
    akt_env_t *env = *state;
    akt_xdr_listener_t *l = env->listeners[0] = akt_xdr_listener_start(NULL, 0);
    akt_asd_t *asd = env->asd = akt_xdr_cluster(&l, 1, 0, false);
    int fd = akt_connect(asd->ports[0]);
    akt_put_simple(fd, "xdr-touch", 5, 100);
    akt_wait_stat(fd, "xdr-acknowledged", 1, AKT_WAIT_MS);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_touch_req(&req, "xdr-touch", 100);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    akt_wait_stat(fd, "xdr-acknowledged", 2, AKT_WAIT_MS);
    assert_int_equal(akt_xdr_count(l), 2);

    for (size_t i = 0; i < 2; i++) {
        akt_xdr_msg_t m;
        akt_xdr_get(l, i, &m);
        assert_int_equal(m.rec.op, AK_RECORD_WRITE);
        akt_assert_key(&m.rec, "xdr-touch");
        assert_int_equal(m.rec.generation, i + 1);
        if (m.rec.ttl < 97 || m.rec.ttl > 100) /* relative seconds */
            fail_msg("frame %zu: ttl %u, expected about 100", i, m.rec.ttl);
        assert_int_equal(m.rec.n_bins, 1);
        ak_value_t five = ak_value_int(5);
        assert_true(ak_value_equal(&m.rec.bins[0].value, &five));
        akt_xdr_msg_free(&m);
    }
    ak_buf_free(&req);
    close(fd);
}

static void test_xdr_durable_delete_ships_durable_delete(void **state)
{
    akt_env_t *env = *state;
    akt_xdr_listener_t *l = env->listeners[0] = akt_xdr_listener_start(NULL, 0);
    akt_asd_t *asd = env->asd = akt_xdr_cluster(&l, 1, 0, false);
    int fd = akt_connect(asd->ports[0]);
    akt_put_simple(fd, "xdr-durable", 1, 0);
    akt_wait_stat(fd, "xdr-acknowledged", 1, AKT_WAIT_MS);
    ak_buf_t req;
    ak_buf_init(&req);
    akt_delete_req(&req, "xdr-durable", true);
    assert_int_equal(akt_code(fd, &req), AK_RESULT_OK);
    akt_wait_stat(fd, "xdr-acknowledged", 2, AKT_WAIT_MS);
    akt_xdr_msg_t m;
    akt_xdr_get(l, 1, &m);
    assert_int_equal(m.msg.header.info2 & (AK_INFO2_WRITE | AK_INFO2_DELETE | AK_INFO2_DURABLE_DELETE),
                     AK_INFO2_WRITE | AK_INFO2_DELETE | AK_INFO2_DURABLE_DELETE);
    assert_int_equal(m.rec.op, AK_RECORD_DURABLE_DELETE);
    akt_assert_key(&m.rec, "xdr-durable");
    akt_xdr_msg_free(&m);
    ak_buf_free(&req);
    close(fd);
}

/* Frames i and j carry the same change (digest and generation). */
static void akt_xdr_assert_same(akt_xdr_listener_t *l, size_t i, size_t j)
{
    akt_xdr_msg_t a, b;
    akt_xdr_get(l, i, &a);
    akt_xdr_get(l, j, &b);
    assert_memory_equal(a.rec.digest, b.rec.digest, AK_DIGEST_SIZE);
    assert_int_equal(a.rec.generation, b.rec.generation);
    assert_int_equal(a.rec.op, b.rec.op);
    akt_xdr_msg_free(&a);
    akt_xdr_msg_free(&b);
}

static void test_xdr_retry_code_reships_the_record_then_acknowledges(void **state)
{
    akt_env_t *env = *state;
    int codes[] = {AK_RESULT_KEY_BUSY};
    akt_xdr_listener_t *l = env->listeners[0] = akt_xdr_listener_start(codes, 1);
    akt_asd_t *asd = env->asd = akt_xdr_cluster(&l, 1, 0, false);
    int fd = akt_connect(asd->ports[0]);
    akt_put_simple(fd, "xdr-retry", 1, 0);
    akt_wait_stat(fd, "xdr-acknowledged", 1, AKT_WAIT_MS);
    assert_true(akt_dev_stat(fd, "xdr-retried") >= 1);
    assert_int_equal(akt_dev_stat(fd, "xdr-acknowledged"), 1);
    assert_int_equal(akt_dev_stat(fd, "xdr-queued"), 0);
    assert_int_equal(akt_xdr_count(l), 2);
    akt_xdr_assert_same(l, 0, 1);
    close(fd);
}

static void test_xdr_abandon_code_is_not_resent(void **state)
{
    akt_env_t *env = *state;
    int codes[] = {AK_RESULT_PARAMETER};
    akt_xdr_listener_t *l = env->listeners[0] = akt_xdr_listener_start(codes, 1);
    akt_asd_t *asd = env->asd = akt_xdr_cluster(&l, 1, 0, false);
    int fd = akt_connect(asd->ports[0]);
    akt_put_simple(fd, "xdr-abandon", 1, 0);
    akt_wait_stat(fd, "xdr-abandoned", 1, AKT_WAIT_MS);
    assert_int_equal(akt_dev_stat(fd, "xdr-abandoned"), 1);
    assert_int_equal(akt_dev_stat(fd, "xdr-acknowledged"), 0);
    assert_int_equal(akt_dev_stat(fd, "xdr-retried"), 0);
    assert_int_equal(akt_dev_stat(fd, "xdr-queued"), 0); /* nothing left that could be re-sent */
    assert_int_equal(akt_dev_stat(fd, "xdr-in-flight"), 0);
    assert_int_equal(akt_xdr_count(l), 1);
    /* the next change ships normally */
    akt_put_simple(fd, "xdr-abandon-next", 1, 0);
    akt_wait_stat(fd, "xdr-acknowledged", 1, AKT_WAIT_MS);
    assert_int_equal(akt_xdr_count(l), 2);
    close(fd);
}

static void test_xdr_unanswered_record_is_reshipped_after_the_timeout(void **state)
{
    akt_env_t *env = *state;
    int codes[] = {AKT_NO_ANSWER};
    akt_xdr_listener_t *l = env->listeners[0] = akt_xdr_listener_start(codes, 1);
    akt_asd_t *asd = env->asd = akt_xdr_cluster(&l, 1, 300, false);
    int fd = akt_connect(asd->ports[0]);
    uint64_t start = ak_clock_ms();
    akt_put_simple(fd, "xdr-timeout", 1, 0);
    akt_wait_stat(fd, "xdr-acknowledged", 1, AKT_WAIT_MS);
    uint64_t elapsed = ak_clock_ms() - start;
    if (elapsed < 300)
        fail_msg("acknowledged after %llu ms, before the 300 ms timeout", (unsigned long long)elapsed);
    assert_true(akt_dev_stat(fd, "xdr-timeouts") >= 1);
    assert_true(akt_dev_stat(fd, "xdr-retried") >= 1);
    assert_int_equal(akt_xdr_count(l), 2);
    assert_true(akt_xdr_accepted(l) >= 2); /* re-sent on a new connection */
    akt_xdr_assert_same(l, 0, 1);
    close(fd);
}

static void test_xdr_two_destinations_split_round_robin(void **state)
{
    akt_env_t *env = *state;
    akt_xdr_listener_t **ls = env->listeners;
    ls[0] = akt_xdr_listener_start(NULL, 0);
    ls[1] = akt_xdr_listener_start(NULL, 0);
    akt_asd_t *asd = env->asd = akt_xdr_cluster(ls, 2, 0, false);
    /* both connections up before the first change */
    uint64_t deadline = ak_clock_ms() + AKT_WAIT_MS;
    while (akt_xdr_accepted(ls[0]) < 1 || akt_xdr_accepted(ls[1]) < 1) {
        if (ak_clock_ms() > deadline)
            fail_msg("the shipper did not connect to both destinations");
        usleep(2000);
    }
    int fd = akt_connect(asd->ports[0]);
    char key[32];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "xdr-rr-%d", i);
        akt_put_simple(fd, key, i, 0);
    }
    akt_wait_stat(fd, "xdr-acknowledged", 20, AKT_WAIT_MS);
    size_t a = akt_xdr_count(ls[0]), b = akt_xdr_count(ls[1]);
    assert_int_equal(a + b, 20);
    if (a > b + 1 || b > a + 1)
        fail_msg("round robin over 2 destinations split 20 notifications %zu / %zu", a, b);
    close(fd);
}

static void test_xdr_ship_expiry_ships_a_delete_after_expiry(void **state)
{
    akt_env_t *env = *state;
    akt_xdr_listener_t *l = env->listeners[0] = akt_xdr_listener_start(NULL, 0);
    akt_asd_t *asd = env->asd = akt_xdr_cluster(&l, 1, 0, true);
    int fd = akt_connect(asd->ports[0]);
    uint64_t start = ak_clock_ms();
    akt_put_simple(fd, "xdr-expire", 1, 1);
    akt_wait_stat(fd, "xdr-acknowledged", 1, AKT_WAIT_MS);
    akt_xdr_wait_count(l, 2, 5000);
    uint64_t elapsed = ak_clock_ms() - start;
    akt_wait_stat(fd, "xdr-acknowledged", 2, AKT_WAIT_MS);
    if (elapsed > 3500)
        fail_msg("expiry shipped %llu ms after the write", (unsigned long long)elapsed);
    akt_xdr_msg_t m;
    akt_xdr_get(l, 0, &m);
    assert_int_equal(m.rec.op, AK_RECORD_WRITE);
    assert_true(m.rec.ttl >= 1 && m.rec.ttl <= 2);
    akt_xdr_msg_free(&m);
    akt_xdr_get(l, 1, &m);
    assert_int_equal(m.rec.op, AK_RECORD_DELETE);
    akt_assert_key(&m.rec, "xdr-expire");
    akt_xdr_msg_free(&m);
    /* and it is gone */
    ak_buf_t req;
    ak_buf_init(&req);
    akt_get_req(&req, "xdr-expire");
    assert_int_equal(akt_code(fd, &req), AK_RESULT_NOT_FOUND);
    ak_buf_free(&req);
    close(fd);
}

/* With ship-expiry on, an expired record is shipped as a delete even when
 * a read found it expired before the periodic expiry pass did (the server
 * leaves expired records to nsup, which ships their deletes). */
static void test_xdr_ship_expiry_ships_a_delete_when_a_read_saw_it_expired_first(void **state)
{
    akt_env_t *env = *state;
    akt_xdr_listener_t *l = env->listeners[0] = akt_xdr_listener_start(NULL, 0);
    akt_asd_t *asd = env->asd = akt_xdr_cluster(&l, 1, 0, true);
    int fd = akt_connect(asd->ports[0]);
    akt_put_simple(fd, "xdr-expire-read", 1, 1);
    akt_wait_stat(fd, "xdr-acknowledged", 1, AKT_WAIT_MS);
    /* read until the record is gone: the first read after its void time
     * almost always comes before the once-a-second expiry pass */
    ak_buf_t req;
    ak_buf_init(&req);
    uint64_t deadline = ak_clock_ms() + 5000;
    for (;;) {
        akt_get_req(&req, "xdr-expire-read");
        if (akt_code(fd, &req) == AK_RESULT_NOT_FOUND)
            break;
        if (ak_clock_ms() > deadline)
            fail_msg("a record with ttl 1 was still readable after 5 s");
        usleep(2000);
    }
    ak_buf_free(&req);
    uint64_t until = ak_clock_ms() + 3000; /* nsup runs every second */
    while (akt_xdr_count(l) < 2 && ak_clock_ms() < until)
        usleep(5000);
    if (akt_xdr_count(l) < 2)
        fail_msg("expired record was never shipped as a delete (%zu frames; xdr-shipped %llu, "
                 "xdr-queued %llu) after a read found it expired",
                 akt_xdr_count(l), (unsigned long long)akt_dev_stat(fd, "xdr-shipped"),
                 (unsigned long long)akt_dev_stat(fd, "xdr-queued"));
    akt_xdr_msg_t m;
    akt_xdr_get(l, 1, &m);
    assert_int_equal(m.rec.op, AK_RECORD_DELETE);
    akt_assert_key(&m.rec, "xdr-expire-read");
    akt_xdr_msg_free(&m);
    close(fd);
}

#define AKT_TEST(fn) cmocka_unit_test_setup_teardown(fn, akt_setup_one_node, akt_teardown)
/* tests that start their own cluster (and connectors) */
#define AKT_OWN_TEST(fn) cmocka_unit_test_setup_teardown(fn, akt_setup_empty, akt_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        AKT_TEST(test_put_get_round_trips_every_particle_type),
        AKT_TEST(test_get_missing_record_returns_not_found),
        AKT_TEST(test_create_only_on_existing_returns_record_exists),
        AKT_TEST(test_update_only_and_replace_only_on_missing_return_not_found),
        AKT_TEST(test_generation_mismatch_returns_generation_error),
        AKT_TEST(test_bin_name_of_16_bytes_returns_bin_name_error),
        AKT_TEST(test_record_over_1mib_returns_record_too_big),
        AKT_TEST(test_ttl_above_ten_years_returns_parameter_error),
        AKT_TEST(test_unknown_namespace_returns_namespace_not_found),
        AKT_TEST(test_send_key_then_other_key_with_same_digest_returns_key_mismatch),
        AKT_TEST(test_incr_on_string_bin_returns_incompatible_type),
        AKT_TEST(test_ttl_100_gives_void_time_now_plus_100),
        AKT_TEST(test_ttl_never_expire_gives_void_time_zero),
        AKT_TEST(test_ttl_dont_update_keeps_old_void_time),
        AKT_TEST(test_generation_increments_per_write_and_touch),
        AKT_TEST(test_200_pipelined_requests_in_one_write_are_answered_in_order),
        AKT_TEST(test_100_concurrent_connections_each_run_commands),
        AKT_TEST(test_info_answers_each_line_in_order),
        AKT_OWN_TEST(test_info_replicas_three_nodes_one_master_one_prole_each),
        AKT_OWN_TEST(test_info_peers_clear_std_lists_the_other_nodes_never_itself),
        AKT_TEST(test_batch_answers_every_row_in_order_then_last),
        AKT_TEST(test_operate_respond_all_ops_gives_one_result_per_op_except_touch),
        AKT_TEST(test_fault_code_answers_data_commands_but_not_info),
        AKT_TEST(test_fault_ratio_half_fails_about_half_of_400),
        AKT_TEST(test_latency_fault_delays_replies),
        AKT_TEST(test_refuse_fault_refuses_new_connections_until_off),
        AKT_OWN_TEST(test_node_stop_moves_partitions_and_start_restores),
        AKT_TEST(test_bad_version_closes_only_that_connection),
        AKT_TEST(test_split_and_byte_by_byte_frames_are_answered),
        AKT_TEST(test_compressed_put_is_executed),
        AKT_OWN_TEST(test_xdr_put_ships_the_record_with_every_particle_type),
        AKT_OWN_TEST(test_xdr_delete_ships_a_delete_with_set_and_key),
        AKT_OWN_TEST(test_xdr_touch_ships_a_write_with_the_next_generation),
        AKT_OWN_TEST(test_xdr_durable_delete_ships_durable_delete),
        AKT_OWN_TEST(test_xdr_retry_code_reships_the_record_then_acknowledges),
        AKT_OWN_TEST(test_xdr_abandon_code_is_not_resent),
        AKT_OWN_TEST(test_xdr_unanswered_record_is_reshipped_after_the_timeout),
        AKT_OWN_TEST(test_xdr_two_destinations_split_round_robin),
        AKT_OWN_TEST(test_xdr_ship_expiry_ships_a_delete_after_expiry),
        AKT_OWN_TEST(test_xdr_ship_expiry_ships_a_delete_when_a_read_saw_it_expired_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
