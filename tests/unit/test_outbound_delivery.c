/*
 * The outbound connector's delivery contract, end to end over real sockets:
 * a raw XDR client sends AS_MSG frames to an in-process connector, which
 * publishes to an in-process kafka-dev cluster. XDR must be answered only
 * from each record's Kafka delivery report (shared spec outbound.md §1.5,
 * §5.2): 0 once Kafka has the record, 11 (retry-class) when Kafka fails it,
 * 4 (abandon-class) for an undecodable frame, always in request order, and
 * nothing at all while Kafka is away.
 *
 * Every wait polls for its condition until a deadline; no test sleeps and
 * hopes. Set AKT_KAFKA_LOG=1 to see the test consumer's librdkafka logs and
 * AKT_OUTBOUND_LOG=1 for the connector's own log lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "ak_test_util.h"
#include "common/ak_log.h"
#include "dev/ak_kafka_dev.h"
#include "net/ak_loop.h"
#include "outbound/ak_outbound.h"
#include "outbound/ak_outbound_config.h"
#include "wire/ak_digest.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"
#include "wire/ak_record.h"

#define AKT_TOPIC "delivery"
#define AKT_PARTITIONS 4
#define AKT_BROKERS 3
#define AKT_REPLY_SIZE (AK_PROTO_HEADER_SIZE + AK_MSG_HEADER_SIZE)
#define AKT_RESULT_OK 0
#define AKT_RESULT_PARAMETER 4
#define AKT_RESULT_UNAVAILABLE 11
/* Keys of records sent only to learn the partition leaders before a test
 * takes them down; not counted by the checks. */
#define AKT_WARMUP_KEY 100000

static int64_t akt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void akt_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the stack: kafka-dev + the connector on its loop thread ---------- */

typedef struct akt_stack {
    ak_kafka_dev_t *kafka;
    ak_outbound_config_t *cfg;
    ak_loop_t *loop;
    ak_outbound_t *ob;
    pthread_t thread;
    uint16_t port;
} akt_stack_t;

typedef struct akt_stack_options {
    int max_concurrent_records; /* 0: the default */
    int message_timeout_ms;     /* 0: librdkafka's default (300 s) */
} akt_stack_options_t;

static void *akt_loop_main(void *arg)
{
    ak_loop_t *loop = arg;
    ak_loop_run(loop);
    return NULL;
}

/* A port nobody listens on right now (service.port must be 1..65535). */
static uint16_t akt_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static void akt_stack_start(akt_stack_t *stack, const akt_stack_options_t *opts)
{
    memset(stack, 0, sizeof *stack);
    /* The connector logs every broker it cannot reach; these tests take
     * brokers down on purpose and judge by answers and stats instead. */
    if (getenv("AKT_OUTBOUND_LOG")) {
        ak_log_set_console(true);
        ak_log_set_level(AK_LOG_DEBUG);
    } else {
        ak_log_set_level(AK_LOG_OFF);
    }
    ak_error_t err;
    akt_error_reset(&err);
    ak_kafka_dev_topic_t topic = {AKT_TOPIC, AKT_PARTITIONS, 0};
    ak_kafka_dev_options_t kopts = {.brokers = AKT_BROKERS, .topics = &topic, .topic_count = 1};
    stack->kafka = ak_kafka_dev_start(&kopts, &err);
    if (!stack->kafka)
        fail_msg("ak_kafka_dev_start: %s", err.message);

    char extra[256] = "";
    size_t used = 0;
    if (opts && opts->max_concurrent_records)
        used += (size_t)snprintf(extra + used, sizeof extra - used, "  max-concurrent-records: %d\n",
                                 opts->max_concurrent_records);
    char timeout[96] = "";
    if (opts && opts->message_timeout_ms)
        snprintf(timeout, sizeof timeout, "  message.timeout.ms: %d\n", opts->message_timeout_ms);
    char yaml[2048];
    stack->port = akt_free_port();
    /* reconnect.backoff.max.ms keeps recovery after broker_up quick; the
     * message timeout stays librdkafka's default (300 s) unless a test sets
     * it, so records wait for Kafka rather than fail. */
    int n = snprintf(yaml, sizeof yaml,
                     "service:\n"
                     "  port: %u\n"
                     "  address: 127.0.0.1\n"
                     "%s"
                     "producer-props:\n"
                     "  bootstrap.servers: %s\n"
                     "  linger.ms: 1\n"
                     "  reconnect.backoff.max.ms: 200\n"
                     "%s"
                     "format:\n"
                     "  mode: flat-json\n"
                     "  metadata-key: metadata\n"
                     "routing:\n"
                     "  mode: static\n"
                     "  destination: " AKT_TOPIC "\n",
                     stack->port, extra, ak_kafka_dev_bootstrap(stack->kafka), timeout);
    assert_true(n > 0 && (size_t)n < sizeof yaml);
    stack->cfg = ak_outbound_config_load_string(yaml, (size_t)n, "delivery.yml", NULL, &err);
    if (!stack->cfg)
        fail_msg("config: %s\n%s", err.message, yaml);
    stack->loop = ak_loop_new(&err);
    assert_non_null(stack->loop);
    stack->ob = ak_outbound_new(stack->loop, stack->cfg, &err);
    if (!stack->ob)
        fail_msg("ak_outbound_new: %s", err.message);
    assert_int_equal(ak_outbound_port(stack->ob, 0), stack->port);
    assert_int_equal(pthread_create(&stack->thread, NULL, akt_loop_main, stack->loop), 0);
}

static void akt_stack_stop(akt_stack_t *stack)
{
    ak_loop_stop(stack->loop);
    pthread_join(stack->thread, NULL);
    ak_outbound_free(stack->ob, 0);
    ak_loop_free(stack->loop);
    ak_outbound_config_free(stack->cfg);
    ak_kafka_dev_stop(stack->kafka);
}

static void akt_brokers(akt_stack_t *stack, bool up)
{
    ak_error_t err;
    for (int32_t id = 1; id <= AKT_BROKERS; id++) {
        ak_status_t st = up ? ak_kafka_dev_broker_up(stack->kafka, id, &err)
                            : ak_kafka_dev_broker_down(stack->kafka, id, &err);
        akt_assert_ok(st, &err);
    }
}

/* Stats are the loop thread's: copy them there. */
typedef struct akt_stats_request {
    ak_outbound_t *ob;
    ak_outbound_stats_t stats;
    atomic_int done;
} akt_stats_request_t;

static void akt_stats_on_loop(ak_loop_t *loop, void *arg)
{
    (void)loop;
    akt_stats_request_t *req = arg;
    ak_outbound_stats(req->ob, &req->stats);
    atomic_store(&req->done, 1);
}

static ak_outbound_stats_t akt_stats(akt_stack_t *stack)
{
    akt_stats_request_t req = {.ob = stack->ob};
    atomic_init(&req.done, 0);
    assert_true(ak_loop_post(stack->loop, akt_stats_on_loop, &req));
    int64_t deadline = akt_now_ms() + 5000;
    while (!atomic_load(&req.done)) {
        if (akt_now_ms() > deadline)
            fail_msg("the connector's loop did not serve a stats request within 5 s");
        akt_sleep_ms(1);
    }
    return req.stats;
}

/* ---- the XDR side ------------------------------------------------------ */

static int akt_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        fail_msg("connect 127.0.0.1:%u: %s", port, strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void akt_write_all(int fd, const ak_buf_t *buf)
{
    size_t off = 0;
    while (off < buf->len) {
        ssize_t n = write(fd, buf->data + off, buf->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail_msg("write to the connector: %s", strerror(errno));
        off += (size_t)n;
    }
}

static ak_value_t akt_user_key(int id)
{
    return ak_value_int(id);
}

static void akt_digest_of(int id, uint8_t digest[AK_DIGEST_SIZE])
{
    ak_value_t key = akt_user_key(id);
    ak_error_t err;
    akt_assert_ok(ak_digest_compute("demo", 4, &key, digest, &err), &err);
}

/* Appends an XDR write of record `id`: namespace test, set demo, user key
 * id, bins i = id and s = "value-<id>". */
static void akt_append_record(ak_buf_t *out, int id)
{
    char text[32];
    snprintf(text, sizeof text, "value-%d", id);
    ak_bin_t bins[2];
    memset(bins, 0, sizeof bins);
    bins[0].name = (ak_str_t){"i", 1};
    bins[0].value = ak_value_int(id);
    bins[1].name = (ak_str_t){"s", 1};
    bins[1].value = ak_value_string(text);
    ak_record_t rec;
    ak_record_init(&rec);
    rec.op = AK_RECORD_WRITE;
    rec.ns = (ak_str_t){"test", 4};
    rec.set = (ak_str_t){"demo", 4};
    rec.has_key = true;
    rec.key = akt_user_key(id);
    rec.generation = 1;
    rec.has_lut = true;
    rec.lut_ms = 1700000000000ull + (uint64_t)id;
    rec.ttl = AK_TTL_NEVER_EXPIRE;
    rec.xdr = true;
    rec.bins = bins;
    rec.n_bins = 2;
    ak_error_t err;
    akt_assert_ok(ak_record_to_msg(&rec, 1000, out, &err), &err);
}

/* A well-framed message whose body is not an AS_MSG: answered at once with
 * the abandon-class code, which lets a test see where in the reply order
 * its answer lands. */
static void akt_append_garbage(ak_buf_t *out)
{
    akt_hex_append(out, "0203000000000004 deadbeef");
}

/* Reads replies until `want` arrived or the deadline passed; stores their
 * result codes and returns how many arrived. Fails on anything that is not
 * a 22-byte AS_MSG reply. */
static int akt_read_replies(int fd, int want, uint8_t *codes, int timeout_ms)
{
    int64_t deadline = akt_now_ms() + timeout_ms;
    uint8_t frame[AKT_REPLY_SIZE];
    size_t have = 0;
    int got = 0;
    while (got < want) {
        int64_t left = deadline - akt_now_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = {fd, POLLIN, 0};
        int ready = poll(&pfd, 1, (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            break;
        ssize_t n = read(fd, frame + have, sizeof frame - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail_msg("the connector closed the connection after %d of %d replies", got, want);
        have += (size_t)n;
        if (have < sizeof frame)
            continue;
        /* as_proto version 2, type 3 (message), size 22 */
        if (frame[0] != 2 || frame[1] != 3 || ak_get_be16(frame + 2) != 0 ||
            ak_get_be32(frame + 4) != AK_MSG_HEADER_SIZE || frame[8] != AK_MSG_HEADER_SIZE) {
            char *hex = akt_to_hex(frame, sizeof frame);
            fail_msg("reply %d is not a 22-byte AS_MSG reply: %s", got, hex);
        }
        codes[got++] = frame[8 + 5];
        have = 0;
    }
    return got;
}

/* True when nothing at all arrives on fd for ms milliseconds. */
static bool akt_silent_for(int fd, int ms)
{
    int64_t deadline = akt_now_ms() + ms;
    for (;;) {
        int64_t left = deadline - akt_now_ms();
        if (left <= 0)
            return true;
        struct pollfd pfd = {fd, POLLIN, 0};
        int ready = poll(&pfd, 1, (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        return ready == 0;
    }
}

/* Expects `count` replies within timeout_ms, each with `code`, except at
 * the positions listed in `garbage` (answered PARAMETER). */
static void akt_expect_replies(int fd, int count, uint8_t code, const int *garbage, int n_garbage,
                               int timeout_ms)
{
    uint8_t *codes = calloc((size_t)count, 1);
    assert_non_null(codes);
    int got = akt_read_replies(fd, count, codes, timeout_ms);
    if (got != count)
        fail_msg("%d of %d replies within %d ms", got, count, timeout_ms);
    for (int i = 0; i < count; i++) {
        uint8_t expected = code;
        for (int g = 0; g < n_garbage; g++)
            if (garbage[g] == i)
                expected = AKT_RESULT_PARAMETER;
        if (codes[i] != expected)
            fail_msg("reply %d of %d: result code %u, expected %u", i, count, codes[i], expected);
    }
    free(codes);
}

/* Sends one warm-up record and waits for its answer, so the producer knows
 * the partition leaders before a test takes them down. */
static void akt_warm_up(akt_stack_t *stack)
{
    int fd = akt_connect(stack->port);
    ak_buf_t buf;
    ak_buf_init(&buf);
    akt_append_record(&buf, AKT_WARMUP_KEY);
    akt_write_all(fd, &buf);
    akt_expect_replies(fd, 1, AKT_RESULT_OK, NULL, 0, 15000);
    ak_buf_free(&buf);
    close(fd);
}

/* ---- the Kafka side ---------------------------------------------------- */

static void akt_log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *message)
{
    if (getenv("AKT_KAFKA_LOG"))
        fprintf(stderr, "[%s] %d %s: %s\n", rd_kafka_name(rk), level, facility, message);
}

/* What the topic holds: per record id (0..n-1) how many times it was read,
 * strays (anything else but warm-ups), and duplicates. */
typedef struct akt_topic_content {
    int *counts;
    int records;
    int strays;
    int duplicates;
    int warmups;
} akt_topic_content_t;

/* Kafka's Java Utils.murmur2 (seed 0x9747b28c), written out from its
 * definition: the Java producer's default partitioner takes
 * (murmur2(key) & 0x7fffffff) % partitions. */
static uint32_t akt_java_murmur2(const uint8_t *data, size_t len)
{
    const uint32_t m = 0x5bd1e995;
    uint32_t h = 0x9747b28c ^ (uint32_t)len;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t k = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16 |
                     (uint32_t)data[i + 3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len - i) {
    case 3: h ^= (uint32_t)data[i + 2] << 16; /* fall through */
    case 2: h ^= (uint32_t)data[i + 1] << 8; /* fall through */
    case 1: h ^= data[i]; h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

/* Checks one flat-json message: the Kafka key is the record's digest, the
 * metadata names it, and the bins are those akt_append_record wrote.
 * Returns the record id, or -1 (with a message) when it is not ours. */
static int akt_check_message(const rd_kafka_message_t *msg)
{
    json_error_t jerr;
    json_t *root = json_loadb(msg->payload, msg->len, 0, &jerr);
    if (!root)
        fail_msg("partition %d offset %lld: not JSON (%s): %.*s", msg->partition, (long long)msg->offset,
                 jerr.text, (int)msg->len, (const char *)msg->payload);
    json_t *i = json_object_get(root, "i");
    json_t *s = json_object_get(root, "s");
    json_t *meta = json_object_get(root, "metadata");
    if (!json_is_integer(i) || !json_is_string(s) || !json_is_object(meta))
        fail_msg("partition %d offset %lld: unexpected value %.*s", msg->partition,
                 (long long)msg->offset, (int)msg->len, (const char *)msg->payload);
    int id = (int)json_integer_value(i);
    char text[32];
    snprintf(text, sizeof text, "value-%d", id);
    assert_string_equal(json_string_value(s), text);
    assert_string_equal(json_string_value(json_object_get(meta, "namespace")), "test");
    assert_string_equal(json_string_value(json_object_get(meta, "set")), "demo");
    assert_string_equal(json_string_value(json_object_get(meta, "msg")), "write");
    assert_int_equal(json_integer_value(json_object_get(meta, "userKey")), id);
    assert_int_equal(json_integer_value(json_object_get(meta, "lut")), 1700000000000ll + id);
    uint8_t digest[AK_DIGEST_SIZE];
    akt_digest_of(id, digest);
    akt_assert_bytes_equal(msg->key, msg->key_len, digest, sizeof digest);
    /* the partition Aerospike's Java connector (a Java producer) would pick */
    assert_int_equal(msg->partition, (int)((akt_java_murmur2(digest, sizeof digest) & 0x7fffffff) % AKT_PARTITIONS));
    json_decref(root);
    return id;
}

/* Reads every partition of the topic from the beginning to its end. */
static akt_topic_content_t akt_consume(akt_stack_t *stack, int n)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    static const char *const props[] = {"bootstrap.servers", NULL, "group.id", "delivery-test",
                                        "enable.partition.eof", "true", "enable.auto.commit", "false",
                                        "reconnect.backoff.max.ms", "200", NULL};
    for (size_t p = 0; props[p]; p += 2) {
        const char *value = props[p + 1] ? props[p + 1] : ak_kafka_dev_bootstrap(stack->kafka);
        if (rd_kafka_conf_set(conf, props[p], value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
            fail_msg("%s: %s", props[p], errstr);
    }
    rd_kafka_conf_set_log_cb(conf, akt_log_cb);
    rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!consumer)
        fail_msg("rd_kafka_new: %s", errstr);
    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(AKT_PARTITIONS);
    for (int p = 0; p < AKT_PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(assignment, AKT_TOPIC, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(consumer, assignment), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(assignment);

    akt_topic_content_t content = {.counts = calloc((size_t)n, sizeof(int))};
    assert_non_null(content.counts);
    bool at_end[AKT_PARTITIONS] = {false};
    int ends = 0;
    int64_t deadline = akt_now_ms() + 15000;
    while (ends < AKT_PARTITIONS && akt_now_ms() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(consumer, 100);
        if (!msg)
            continue;
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (msg->partition >= 0 && msg->partition < AKT_PARTITIONS && !at_end[msg->partition]) {
                at_end[msg->partition] = true;
                ends++;
            }
        } else if (msg->err) {
            fail_msg("consume %s: %s", AKT_TOPIC, rd_kafka_message_errstr(msg));
        } else {
            int id = akt_check_message(msg);
            if (id == AKT_WARMUP_KEY) {
                content.warmups++;
            } else if (id >= 0 && id < n) {
                if (content.counts[id]++)
                    content.duplicates++;
                content.records++;
            } else {
                content.strays++;
            }
        }
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    if (ends < AKT_PARTITIONS)
        fail_msg("consume %s: only %d of %d partitions reached their end within 15 s", AKT_TOPIC, ends,
                 AKT_PARTITIONS);
    return content;
}

/* Every record 0..n-1 is in Kafka at least once (exactly once unless
 * duplicates_allowed), and nothing else is. */
static void akt_expect_in_kafka(akt_stack_t *stack, int n, const bool *skip, bool duplicates_allowed,
                                const char *what)
{
    akt_topic_content_t content = akt_consume(stack, n);
    assert_int_equal(content.strays, 0);
    for (int i = 0; i < n; i++) {
        if (skip && skip[i])
            continue;
        if (content.counts[i] == 0)
            fail_msg("%s: record %d was acknowledged but is not in Kafka", what, i);
        if (content.counts[i] > 1 && !duplicates_allowed)
            fail_msg("%s: record %d is in Kafka %d times, expected once", what, i, content.counts[i]);
    }
    print_message("%s: %d records in Kafka, %d duplicates\n", what, content.records, content.duplicates);
    free(content.counts);
}

/* ---- tests ------------------------------------------------------------- */

/* (a) N frames in one write: N replies, all 0, in order (a garbage frame in
 * the middle, answered at once, still gets its reply at its own position,
 * after the Kafka-bound records before it); exactly those records in Kafka,
 * keyed by digest. */
static void test_pipelined_frames_are_answered_in_order_after_kafka_has_them(void **state)
{
    (void)state;
    enum { N = 50 };
    akt_stack_t stack;
    akt_stack_start(&stack, NULL);
    int fd = akt_connect(stack.port);
    ak_buf_t buf;
    ak_buf_init(&buf);
    const int garbage_at = 20;
    for (int i = 0, frame = 0; i < N; frame++) {
        if (frame == garbage_at)
            akt_append_garbage(&buf);
        else
            akt_append_record(&buf, i++);
    }
    akt_write_all(fd, &buf);
    int garbage[] = {garbage_at};
    akt_expect_replies(fd, N + 1, AKT_RESULT_OK, garbage, 1, 20000);
    assert_true(akt_silent_for(fd, 300)); /* one reply per frame, no more */
    ak_outbound_stats_t st = akt_stats(&stack);
    assert_int_equal(st.requests_total, N + 1);
    assert_int_equal(st.requests_success, N);
    assert_int_equal(st.requests_parse_error, 1);
    assert_int_equal(st.requests_queued, 0);
    assert_int_equal(st.kafka_errors, 0);
    akt_expect_in_kafka(&stack, N, NULL, false, "happy path");
    ak_buf_free(&buf);
    close(fd);
    akt_stack_stop(&stack);
}

/* (b) Kafka away before the records arrive: nothing is acknowledged while
 * it is down; once it is back every record is answered 0 and is in Kafka. */
static void test_nothing_is_acknowledged_while_kafka_is_down(void **state)
{
    (void)state;
    enum { N = 20 };
    akt_stack_t stack;
    akt_stack_start(&stack, NULL);
    akt_warm_up(&stack);
    akt_brokers(&stack, false);
    int fd = akt_connect(stack.port);
    ak_buf_t buf;
    ak_buf_init(&buf);
    for (int i = 0; i < N; i++)
        akt_append_record(&buf, i);
    akt_write_all(fd, &buf);
    if (!akt_silent_for(fd, 3000))
        fail_msg("a reply arrived while every Kafka broker was down");
    ak_outbound_stats_t st = akt_stats(&stack);
    assert_int_equal(st.requests_total, N + 1);
    assert_int_equal(st.requests_queued, N);
    assert_int_equal(st.requests_success, 1); /* the warm-up */
    akt_brokers(&stack, true);
    akt_expect_replies(fd, N, AKT_RESULT_OK, NULL, 0, 30000);
    assert_true(akt_silent_for(fd, 300));
    st = akt_stats(&stack);
    assert_int_equal(st.requests_success, N + 1);
    assert_int_equal(st.requests_queued, 0);
    akt_expect_in_kafka(&stack, N, NULL, true, "after an outage");
    ak_buf_free(&buf);
    close(fd);
    akt_stack_stop(&stack);
}

/* (c) Produce requests failing with retriable errors: the producer retries,
 * every frame is answered 0 exactly once and every record is in Kafka. */
static void test_retriable_produce_errors_are_retried_not_answered(void **state)
{
    (void)state;
    enum { N = 30 };
    akt_stack_t stack;
    akt_stack_start(&stack, NULL);
    akt_warm_up(&stack);
    const rd_kafka_resp_err_t errors[] = {
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS};
    ak_error_t err;
    akt_assert_ok(ak_kafka_dev_push_request_errors(stack.kafka, AK_KAFKA_API_PRODUCE,
                                                   sizeof errors / sizeof errors[0], errors, &err),
                  &err);
    int fd = akt_connect(stack.port);
    ak_buf_t buf;
    ak_buf_init(&buf);
    for (int i = 0; i < N; i++)
        akt_append_record(&buf, i);
    akt_write_all(fd, &buf);
    akt_expect_replies(fd, N, AKT_RESULT_OK, NULL, 0, 30000);
    assert_true(akt_silent_for(fd, 500));
    ak_outbound_stats_t st = akt_stats(&stack);
    assert_int_equal(st.requests_success, N + 1);
    assert_int_equal(st.kafka_errors, 0);
    assert_int_equal(st.requests_queued, 0);
    akt_expect_in_kafka(&stack, N, NULL, true, "retriable produce errors");
    ak_buf_free(&buf);
    close(fd);
    akt_stack_stop(&stack);
}

/* (d) With a short message.timeout.ms and Kafka down, the records fail and
 * are answered 11 (retry-class: XDR re-sends them); the connector stays up,
 * and once Kafka is back the same frames re-sent are answered 0. */
static void test_timed_out_records_are_answered_retry_and_a_resend_lands(void **state)
{
    (void)state;
    enum { N = 10 };
    akt_stack_t stack;
    akt_stack_options_t opts = {.message_timeout_ms = 1500};
    akt_stack_start(&stack, &opts);
    akt_warm_up(&stack);
    akt_brokers(&stack, false);
    int fd = akt_connect(stack.port);
    ak_buf_t buf;
    ak_buf_init(&buf);
    for (int i = 0; i < N; i++)
        akt_append_record(&buf, i);
    akt_write_all(fd, &buf);
    int64_t sent = akt_now_ms();
    akt_expect_replies(fd, N, AKT_RESULT_UNAVAILABLE, NULL, 0, 15000);
    int64_t waited = akt_now_ms() - sent;
    /* not answered before librdkafka gave up on them */
    if (waited < 1000)
        fail_msg("records answered %lld ms after sending, before message.timeout.ms (1500)",
                 (long long)waited);
    ak_outbound_stats_t st = akt_stats(&stack);
    assert_int_equal(st.kafka_errors, N);
    assert_int_equal(st.requests_queued, 0);
    assert_int_equal(st.requests_success, 1);

    akt_brokers(&stack, true);
    /* The re-send: on the same connection, as XDR would. */
    akt_write_all(fd, &buf);
    akt_expect_replies(fd, N, AKT_RESULT_OK, NULL, 0, 30000);
    assert_true(akt_silent_for(fd, 300));
    /* and on a new connection: the listener is still up */
    int fd2 = akt_connect(stack.port);
    akt_write_all(fd2, &buf);
    akt_expect_replies(fd2, N, AKT_RESULT_OK, NULL, 0, 30000);
    st = akt_stats(&stack);
    assert_int_equal(st.requests_success, 2 * N + 1);
    akt_expect_in_kafka(&stack, N, NULL, true, "re-sent after timeouts");
    ak_buf_free(&buf);
    close(fd);
    close(fd2);
    akt_stack_stop(&stack);
}

/* (e) Back-pressure: with max-concurrent-records 10 and Kafka down, 100
 * frames sent at once are not all taken in: at most 10 records are in
 * flight, reading pauses; after recovery all are answered in order
 * (garbage frames among them are answered at their own positions). */
static void test_back_pressure_bounds_records_in_flight(void **state)
{
    (void)state;
    enum { N = 100, MAX = 10 };
    akt_stack_t stack;
    akt_stack_options_t opts = {.max_concurrent_records = MAX};
    akt_stack_start(&stack, &opts);
    akt_warm_up(&stack);
    akt_brokers(&stack, false);
    int fd = akt_connect(stack.port);
    ak_buf_t buf;
    ak_buf_init(&buf);
    int garbage[] = {5, 37, 64, 102};
    int n_garbage = (int)(sizeof garbage / sizeof garbage[0]);
    int frames = N + n_garbage;
    for (int frame = 0, i = 0; frame < frames; frame++) {
        bool is_garbage = false;
        for (int g = 0; g < n_garbage; g++)
            is_garbage |= garbage[g] == frame;
        if (is_garbage)
            akt_append_garbage(&buf);
        else
            akt_append_record(&buf, i++);
    }
    akt_write_all(fd, &buf);
    /* While Kafka is away: sample the stats for 2 s. */
    uint64_t max_queued = 0, max_total = 0;
    ak_outbound_stats_t st;
    int64_t until = akt_now_ms() + 2000;
    while (akt_now_ms() < until) {
        st = akt_stats(&stack);
        if (st.requests_queued > max_queued)
            max_queued = st.requests_queued;
        if (st.requests_total > max_total)
            max_total = st.requests_total;
        akt_sleep_ms(20);
    }
    print_message("back-pressure: %llu queued at most, %llu records taken in, paused %llu times\n",
                  (unsigned long long)max_queued, (unsigned long long)max_total,
                  (unsigned long long)st.paused);
    if (max_queued > MAX)
        fail_msg("%llu records in flight, max-concurrent-records is %d", (unsigned long long)max_queued, MAX);
    assert_int_equal(max_queued, MAX);
    assert_true(st.paused > 0);
    /* reading stopped: the warm-up, the first MAX records and the one
     * garbage frame before them were taken in, nothing more */
    assert_int_equal(max_total, 1 + MAX + 1);
    /* nothing answered: the garbage frame at 5 waits behind records 0..4 */
    assert_true(akt_silent_for(fd, 10));

    akt_brokers(&stack, true);
    uint8_t *codes = calloc((size_t)frames, 1);
    assert_non_null(codes);
    int got = 0;
    int64_t deadline = akt_now_ms() + 30000;
    while (got < frames && akt_now_ms() < deadline) {
        got += akt_read_replies(fd, frames - got, codes + got, 50);
        st = akt_stats(&stack);
        if (st.requests_queued > max_queued)
            max_queued = st.requests_queued;
    }
    if (got != frames)
        fail_msg("%d of %d replies within 30 s of Kafka's return", got, frames);
    if (max_queued > MAX)
        fail_msg("%llu records in flight during recovery, max-concurrent-records is %d",
                 (unsigned long long)max_queued, MAX);
    for (int frame = 0; frame < frames; frame++) {
        uint8_t expected = AKT_RESULT_OK;
        for (int g = 0; g < n_garbage; g++)
            if (garbage[g] == frame)
                expected = AKT_RESULT_PARAMETER;
        if (codes[frame] != expected)
            fail_msg("reply %d: result code %u, expected %u", frame, codes[frame], expected);
    }
    assert_true(akt_silent_for(fd, 300));
    st = akt_stats(&stack);
    assert_int_equal(st.requests_success, N + 1);
    assert_int_equal(st.requests_queued, 0);
    akt_expect_in_kafka(&stack, N, NULL, true, "back-pressure");
    free(codes);
    ak_buf_free(&buf);
    close(fd);
    akt_stack_stop(&stack);
}

/* A connection XDR closes after its records were answered is released.
 * (Under LeakSanitizer: the connection, its buffers and its 4096 reply
 * slots must not outlive it; run alone with
 * AKT_TEST_FILTER=test_a_closed_connection_is_released.) */
static void test_a_closed_connection_is_released(void **state)
{
    (void)state;
    akt_stack_t stack;
    akt_stack_start(&stack, NULL);
    int fd = akt_connect(stack.port);
    ak_buf_t buf;
    ak_buf_init(&buf);
    akt_append_record(&buf, 0);
    akt_write_all(fd, &buf);
    akt_expect_replies(fd, 1, AKT_RESULT_OK, NULL, 0, 15000);
    close(fd);
    ak_outbound_stats_t st;
    int64_t deadline = akt_now_ms() + 5000;
    do {
        st = akt_stats(&stack);
        if (st.connections_closed == 1)
            break;
        akt_sleep_ms(10);
    } while (akt_now_ms() < deadline);
    assert_int_equal(st.connections_closed, 1);
    assert_int_equal(st.connections_active, 0);
    /* let the loop run its end-of-batch frees before it stops */
    (void)akt_stats(&stack);
    ak_buf_free(&buf);
    akt_stack_stop(&stack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipelined_frames_are_answered_in_order_after_kafka_has_them),
        cmocka_unit_test(test_nothing_is_acknowledged_while_kafka_is_down),
        cmocka_unit_test(test_retriable_produce_errors_are_retried_not_answered),
        cmocka_unit_test(test_timed_out_records_are_answered_retry_and_a_resend_lands),
        cmocka_unit_test(test_back_pressure_bounds_records_in_flight),
        cmocka_unit_test(test_a_closed_connection_is_released),
    };
    if (getenv("AKT_TEST_FILTER"))
        cmocka_set_test_filter(getenv("AKT_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
