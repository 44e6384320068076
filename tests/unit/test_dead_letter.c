/*
 * Dead letters over real sockets against kafka-dev: a record the connector
 * gives up on lands in the dead-letter topic with its key, value and headers
 * and Kafka Connect-style context headers, and its offset is acked only
 * once the dead-letter delivery succeeded.
 *
 * Everything runs on the test thread; every wait runs the loop until a
 * condition holds or a deadline passes. AKT_KAFKA_LOG=1 shows librdkafka's
 * logs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "ak_test_util.h"
#include "common/ak_log.h"
#include "dev/ak_kafka_dev.h"
#include "kafka/ak_consumer.h"
#include "kafka/ak_dead_letter.h"
#include "net/ak_loop.h"

#define AKT_RECORDS 6
#define AKT_MAX 64

static ak_kafka_dev_t *akt_kafka;
static ak_loop_t *akt_loop;
static int akt_seq;

/* ---- loop --------------------------------------------------------------- */

typedef bool (*akt_pred_fn)(void *arg);

typedef struct akt_wait {
    akt_pred_fn pred;
    void *arg;
    uint64_t deadline_ms;
    bool met;
} akt_wait_t;

static void akt_wait_check(ak_loop_t *loop, void *arg)
{
    akt_wait_t *wait = arg;
    if (wait->pred && wait->pred(wait->arg)) {
        wait->met = true;
        ak_loop_stop(loop);
        return;
    }
    if (ak_clock_ms() >= wait->deadline_ms) {
        ak_loop_stop(loop);
        return;
    }
    ak_loop_timer(loop, 5, akt_wait_check, wait);
}

static bool akt_run_until(akt_pred_fn pred, void *arg, int timeout_ms)
{
    akt_wait_t wait = {pred, arg, ak_clock_ms() + (uint64_t)timeout_ms, false};
    ak_loop_timer(akt_loop, 0, akt_wait_check, &wait);
    ak_loop_run(akt_loop);
    return wait.met;
}

/* ---- the application: dead-letter everything ------------------------------ */

typedef struct akt_app {
    ak_consumer_t *cons;
    ak_dead_letter_t *dlq;
    int received;
    int sent;
    int done_ok;
    int done_failed;
    int acked;
    char last_error[256];
    /* Every record is held by its dead letter: acked only from on_done. */
    bool ack_before_done;
} akt_app_t;

static void akt_on_message(void *ctx, const ak_consumer_msg_t *msg)
{
    akt_app_t *app = ctx;
    app->received++;
    /* Odd offsets failed in Aerospike (with a result code), even ones could
     * not be decoded (no result code). */
    bool aerospike = msg->offset % 2 == 1;
    ak_dead_letter_reason_t reason = {
        .stage = aerospike ? "TASK_PUT" : "VALUE_CONVERTER",
        .class_name = aerospike ? "AerospikeException" : "ak.format.DecodeError",
        .message = aerospike ? "record too big" : "expected a JSON object at byte 0",
        .has_result_code = aerospike,
        .result_code = 13,
    };
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_dead_letter_send(app->dlq, msg, &reason, (void *)msg, &err), &err);
    app->sent++;
}

static void akt_on_done(void *ctx, void *opaque, int err, const char *errstr)
{
    akt_app_t *app = ctx;
    if (err) {
        app->done_failed++;
        snprintf(app->last_error, sizeof app->last_error, "%s", errstr ? errstr : "");
        return; /* not acked: the record is read again later */
    }
    app->done_ok++;
    app->acked++;
    ak_consumer_ack(app->cons, opaque);
}

/* ---- Kafka side --------------------------------------------------------------- */

static void akt_log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *message)
{
    if (getenv("AKT_KAFKA_LOG"))
        fprintf(stderr, "[%s] %d %s: %s\n", rd_kafka_name(rk), level, facility, message);
}

static rd_kafka_t *akt_client(rd_kafka_type_t type)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", ak_kafka_dev_bootstrap(akt_kafka), errstr,
                                       sizeof errstr),
                     RD_KAFKA_CONF_OK);
    if (type == RD_KAFKA_CONSUMER)
        assert_int_equal(rd_kafka_conf_set(conf, "group.id", "dlq-reader", errstr, sizeof errstr), RD_KAFKA_CONF_OK);
    rd_kafka_conf_set_log_cb(conf, akt_log_cb);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk)
        fail_msg("rd_kafka_new: %s", errstr);
    return rk;
}

/* Record i of the source topic: key "key-i" (none for i == 4), value
 * "value-i" (a tombstone for i == 5), header trace-id: "trace-i" and, for
 * i == 2, a forged __connect.errors.topic header the context must replace. */
static void akt_produce_source(const char *topic)
{
    rd_kafka_t *producer = akt_client(RD_KAFKA_PRODUCER);
    for (int i = 0; i < AKT_RECORDS; i++) {
        char key[32], value[32], trace[32];
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(value, sizeof value, "value-%d", i);
        snprintf(trace, sizeof trace, "trace-%d", i);
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(2);
        rd_kafka_header_add(hdrs, "trace-id", -1, trace, -1);
        if (i == 2)
            rd_kafka_header_add(hdrs, AK_DEAD_LETTER_HEADER_TOPIC, -1, "forged", -1);
        void *key_bytes = i == 4 ? NULL : key;
        void *value_bytes = i == 5 ? NULL : value;
        rd_kafka_resp_err_t err = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_KEY(key_bytes, key_bytes ? strlen(key) : 0),
            RD_KAFKA_V_VALUE(value_bytes, value_bytes ? strlen(value) : 0),
            RD_KAFKA_V_TIMESTAMP(1700000000000LL + i), RD_KAFKA_V_HEADERS(hdrs),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err)
            fail_msg("produce: %s", rd_kafka_err2str(err));
    }
    assert_int_equal(rd_kafka_flush(producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(producer);
}

typedef struct akt_dead {
    char key[32];
    bool has_key;
    char value[32];
    bool has_value;
    int64_t timestamp;
    char headers[16][2][128]; /* name, value */
    int n_headers;
} akt_dead_t;

/* Reads n records of topic (one partition or several) from the beginning. */
static int akt_read_topic(const char *topic, int partitions, akt_dead_t *out, int n)
{
    rd_kafka_t *rk = akt_client(RD_KAFKA_CONSUMER);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(rk, list), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(list);
    int got = 0;
    uint64_t deadline = ak_clock_ms() + 10000;
    while (got < n && ak_clock_ms() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 100);
        if (!msg)
            continue;
        if (!msg->err) {
            akt_dead_t *d = &out[got++];
            memset(d, 0, sizeof *d);
            d->has_key = msg->key != NULL;
            if (msg->key)
                snprintf(d->key, sizeof d->key, "%.*s", (int)msg->key_len, (const char *)msg->key);
            d->has_value = msg->payload != NULL;
            if (msg->payload)
                snprintf(d->value, sizeof d->value, "%.*s", (int)msg->len, (const char *)msg->payload);
            d->timestamp = rd_kafka_message_timestamp(msg, NULL);
            rd_kafka_headers_t *hdrs = NULL;
            if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                const char *name;
                const void *value;
                size_t size;
                for (size_t i = 0; i < 16 && rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == 0; i++) {
                    snprintf(d->headers[i][0], 128, "%s", name);
                    snprintf(d->headers[i][1], 128, "%.*s", (int)size, value ? (const char *)value : "");
                    d->n_headers++;
                }
            }
        }
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got;
}

/* The value of header name, or NULL; fails if it appears more than once. */
static const char *akt_header(const akt_dead_t *d, const char *name)
{
    const char *found = NULL;
    for (int i = 0; i < d->n_headers; i++)
        if (strcmp(d->headers[i][0], name) == 0) {
            if (found)
                fail_msg("header %s appears twice", name);
            found = d->headers[i][1];
        }
    return found;
}

static void akt_assert_header(const akt_dead_t *d, const char *name, const char *expected)
{
    const char *value = akt_header(d, name);
    if (!value)
        fail_msg("record %s has no header %s", d->key, name);
    if (strcmp(value, expected) != 0)
        fail_msg("record %s: header %s is \"%s\", expected \"%s\"", d->key, name, value, expected);
}

/* ---- the stack ------------------------------------------------------------ */

static void akt_start(akt_app_t *app, const char *source, const char *dead, bool context,
                      const ak_consumer_prop_t *dlq_props, size_t n_dlq_props)
{
    memset(app, 0, sizeof *app);
    char group[96];
    snprintf(group, sizeof group, "%s-group", source);
    ak_consumer_prop_t props[] = {
        {"bootstrap.servers", ak_kafka_dev_bootstrap(akt_kafka), "in.yml:3"},
        {"group.id", group, "in.yml:4"},
        {"auto.offset.reset", "earliest", "in.yml:5"},
        {"session.timeout.ms", "6000", "in.yml:6"},
        {"fetch.wait.max.ms", "50", "in.yml:7"},
    };
    const char *topics[] = {source};
    ak_consumer_options_t copts = {.topics = topics, .topic_count = 1, .props = props,
                                   .prop_count = sizeof props / sizeof props[0], .commit_interval_ms = 100,
                                   .on_message = akt_on_message, .ctx = app};
    ak_error_t err;
    akt_error_reset(&err);
    app->cons = ak_consumer_new(akt_loop, &copts, &err);
    if (!app->cons)
        fail_msg("consumer: %s", err.message);
    ak_dead_letter_options_t dopts = {
        .topic = dead,
        .props = dlq_props ? dlq_props : props,
        .prop_count = dlq_props ? n_dlq_props : sizeof props / sizeof props[0],
        .from_consumer_props = dlq_props == NULL,
        .context_headers = context,
        .connector_name = "aerokafka-inbound",
        .on_done = akt_on_done,
        .ctx = app,
    };
    app->dlq = ak_dead_letter_new(akt_loop, &dopts, &err);
    if (!app->dlq)
        fail_msg("dead letter: %s", err.message);
}

static void akt_stop(akt_app_t *app)
{
    ak_consumer_free(app->cons);
    ak_dead_letter_free(app->dlq, 5000);
}

static bool akt_all_done(void *arg)
{
    akt_app_t *app = arg;
    return app->done_ok + app->done_failed >= AKT_RECORDS;
}

static bool akt_committed_all(void *arg)
{
    akt_app_t *app = arg;
    ak_consumer_partition_stats_t ps[8];
    size_t n = ak_consumer_partition_stats(app->cons, ps, 8);
    for (size_t i = 0; i < n; i++)
        if (ps[i].partition == 0)
            return ps[i].committed == AKT_RECORDS;
    return false;
}

static void akt_topics(char *source, char *dead, size_t cap, int dead_partitions)
{
    ak_error_t err;
    akt_error_reset(&err);
    ++akt_seq;
    snprintf(source, cap, "orders-%d", akt_seq);
    snprintf(dead, cap, "orders-%d-dlq", akt_seq);
    akt_assert_ok(ak_kafka_dev_create_topic(akt_kafka, source, 1, 1, &err), &err);
    akt_assert_ok(ak_kafka_dev_create_topic(akt_kafka, dead, dead_partitions, 1, &err), &err);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_dead_letters_keep_the_record_and_carry_context_headers(void **state)
{
    (void)state;
    char source[64], dead[64];
    akt_topics(source, dead, sizeof source, 1);
    akt_produce_source(source);
    akt_app_t *app = calloc(1, sizeof *app);
    akt_start(app, source, dead, true, NULL, 0);

    if (!akt_run_until(akt_all_done, app, 20000))
        fail_msg("%d of %d dead letters completed (%d received)", app->done_ok + app->done_failed, AKT_RECORDS,
                 app->received);
    assert_int_equal(app->done_ok, AKT_RECORDS);
    assert_int_equal(app->acked, AKT_RECORDS);
    /* Acked after the dead-letter delivery: the offsets get committed. */
    assert_true(akt_run_until(akt_committed_all, app, 5000));
    ak_dead_letter_stats_t stats;
    ak_dead_letter_stats(app->dlq, &stats);
    assert_int_equal(stats.sent, AKT_RECORDS);
    assert_int_equal(stats.delivered, AKT_RECORDS);
    assert_int_equal(stats.failed, 0);
    assert_int_equal(stats.in_flight, 0);
    char acks[16];
    assert_true(ak_dead_letter_get_prop(app->dlq, "acks", acks, sizeof acks));
    assert_string_equal(acks, "-1"); /* acks=all */
    akt_stop(app);

    akt_dead_t dead_records[AKT_RECORDS];
    assert_int_equal(akt_read_topic(dead, 1, dead_records, AKT_RECORDS), AKT_RECORDS);
    for (int i = 0; i < AKT_RECORDS; i++) {
        const akt_dead_t *d = &dead_records[i];
        char expected[32], number[16];
        if (i == 4) {
            assert_false(d->has_key);
        } else {
            snprintf(expected, sizeof expected, "key-%d", i);
            assert_true(d->has_key);
            assert_string_equal(d->key, expected);
        }
        if (i == 5) {
            assert_false(d->has_value);
        } else {
            snprintf(expected, sizeof expected, "value-%d", i);
            assert_string_equal(d->value, expected);
        }
        assert_int_equal(d->timestamp, 1700000000000LL + i);
        snprintf(expected, sizeof expected, "trace-%d", i);
        akt_assert_header(d, "trace-id", expected);
        akt_assert_header(d, AK_DEAD_LETTER_HEADER_TOPIC, source);
        akt_assert_header(d, AK_DEAD_LETTER_HEADER_PARTITION, "0");
        snprintf(number, sizeof number, "%d", i);
        akt_assert_header(d, AK_DEAD_LETTER_HEADER_OFFSET, number);
        akt_assert_header(d, AK_DEAD_LETTER_HEADER_CONNECTOR, "aerokafka-inbound");
        if (i % 2 == 1) {
            akt_assert_header(d, AK_DEAD_LETTER_HEADER_STAGE, "TASK_PUT");
            akt_assert_header(d, AK_DEAD_LETTER_HEADER_CLASS, "AerospikeException");
            akt_assert_header(d, AK_DEAD_LETTER_HEADER_MESSAGE, "record too big");
            akt_assert_header(d, AK_DEAD_LETTER_HEADER_RESULT_CODE, "13");
        } else {
            akt_assert_header(d, AK_DEAD_LETTER_HEADER_STAGE, "VALUE_CONVERTER");
            akt_assert_header(d, AK_DEAD_LETTER_HEADER_CLASS, "ak.format.DecodeError");
            akt_assert_header(d, AK_DEAD_LETTER_HEADER_MESSAGE, "expected a JSON object at byte 0");
            assert_null(akt_header(d, AK_DEAD_LETTER_HEADER_RESULT_CODE));
        }
    }
    free(app);
}

static void test_without_context_headers_only_the_original_headers_travel(void **state)
{
    (void)state;
    char source[64], dead[64];
    akt_topics(source, dead, sizeof source, 1);
    akt_produce_source(source);
    akt_app_t *app = calloc(1, sizeof *app);
    akt_start(app, source, dead, false, NULL, 0);
    assert_true(akt_run_until(akt_all_done, app, 20000));
    assert_int_equal(app->done_ok, AKT_RECORDS);
    akt_stop(app);
    akt_dead_t dead_records[AKT_RECORDS];
    assert_int_equal(akt_read_topic(dead, 1, dead_records, AKT_RECORDS), AKT_RECORDS);
    for (int i = 0; i < AKT_RECORDS; i++) {
        const akt_dead_t *d = &dead_records[i];
        char expected[32];
        snprintf(expected, sizeof expected, "trace-%d", i);
        akt_assert_header(d, "trace-id", expected);
        assert_int_equal(d->n_headers, i == 2 ? 2 : 1);
        if (i == 2)
            akt_assert_header(d, AK_DEAD_LETTER_HEADER_TOPIC, "forged");
    }
    free(app);
}

static void test_consumer_props_lose_their_consumer_only_settings(void **state)
{
    (void)state;
    ak_consumer_prop_t props[] = {
        {"bootstrap.servers", ak_kafka_dev_bootstrap(akt_kafka), "in.yml:3"},
        {"group.id", "inbound", "in.yml:4"},
        {"enable.auto.commit", "false", "in.yml:5"},
        {"client.id", "aerokafka-in", "in.yml:6"},
    };
    ak_dead_letter_options_t opts = {.topic = "dlq", .props = props, .prop_count = 4,
                                     .from_consumer_props = true, .on_done = akt_on_done};
    ak_error_t err;
    akt_error_reset(&err);
    ak_dead_letter_t *dlq = ak_dead_letter_new(akt_loop, &opts, &err);
    if (!dlq)
        fail_msg("%s", err.message);
    char value[256];
    assert_true(ak_dead_letter_get_prop(dlq, "client.id", value, sizeof value));
    assert_string_equal(value, "aerokafka-in");
    assert_true(ak_dead_letter_get_prop(dlq, "bootstrap.servers", value, sizeof value));
    assert_string_equal(value, ak_kafka_dev_bootstrap(akt_kafka));
    /* group.id is consumer-only: not given to the producer. */
    assert_true(!ak_dead_letter_get_prop(dlq, "group.id", value, sizeof value) || value[0] == '\0');
    assert_true(ak_dead_letter_get_prop(dlq, "enable.idempotence", value, sizeof value));
    assert_string_equal(value, "true");
    ak_dead_letter_free(dlq, 0);

    /* Explicit producer properties are passed as they are; a bad one names
     * its place. */
    ak_consumer_prop_t bad[] = {{"acks", "sometimes", "in.yml:20"}};
    ak_dead_letter_options_t bad_opts = {.topic = "dlq", .props = bad, .prop_count = 1, .on_done = akt_on_done};
    akt_error_reset(&err);
    assert_null(ak_dead_letter_new(akt_loop, &bad_opts, &err));
    if (!strstr(err.message, "in.yml:20: dead-letter producer props.acks"))
        fail_msg("unexpected message: %s", err.message);
    ak_dead_letter_options_t no_topic = {.topic = "", .on_done = akt_on_done};
    akt_error_reset(&err);
    assert_null(ak_dead_letter_new(akt_loop, &no_topic, &err));
    assert_true(strstr(err.message, "topic") != NULL);
}

static void test_failed_dead_letter_is_reported_and_not_acked(void **state)
{
    (void)state;
    char source[64], dead[64];
    akt_topics(source, dead, sizeof source, 1);
    akt_produce_source(source);
    /* From now on the broker refuses every produce request for good. */
    rd_kafka_resp_err_t refusals[64];
    for (size_t i = 0; i < 64; i++)
        refusals[i] = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_kafka_dev_push_request_errors(akt_kafka, AK_KAFKA_API_PRODUCE, 64, refusals, &err), &err);
    akt_app_t *app = calloc(1, sizeof *app);
    akt_start(app, source, dead, true, NULL, 0);
    bool done = akt_run_until(akt_all_done, app, 20000);
    akt_assert_ok(ak_kafka_dev_clear_request_errors(akt_kafka, AK_KAFKA_API_PRODUCE, &err), &err);
    if (!done)
        fail_msg("%d of %d dead letters completed", app->done_ok + app->done_failed, AKT_RECORDS);
    assert_int_equal(app->done_failed, AKT_RECORDS);
    assert_int_equal(app->acked, 0);
    if (!strstr(app->last_error, dead))
        fail_msg("the error does not name the dead-letter topic: %s", app->last_error);
    /* Nothing acked, nothing committable. */
    assert_int_equal(ak_consumer_in_flight(app->cons), AKT_RECORDS);
    ak_consumer_partition_stats_t ps;
    assert_int_equal(ak_consumer_partition_stats(app->cons, &ps, 1), 1);
    assert_int_equal(ps.position, -1);
    ak_dead_letter_stats_t stats;
    ak_dead_letter_stats(app->dlq, &stats);
    assert_int_equal(stats.failed, AKT_RECORDS);
    assert_int_equal(stats.delivered, 0);
    akt_stop(app);
    free(app);
}

/* ---- setup -------------------------------------------------------------------- */

static int akt_setup(void **state)
{
    (void)state;
    ak_log_set_level(getenv("AKT_KAFKA_LOG") ? AK_LOG_DEBUG : AK_LOG_OFF);
    ak_error_t err;
    akt_error_reset(&err);
    ak_kafka_dev_options_t opts = {.brokers = 1};
    akt_kafka = ak_kafka_dev_start(&opts, &err);
    if (!akt_kafka) {
        fprintf(stderr, "kafka-dev: %s\n", err.message);
        return -1;
    }
    akt_loop = ak_loop_new(&err);
    return akt_loop ? 0 : -1;
}

static int akt_teardown(void **state)
{
    (void)state;
    ak_loop_free(akt_loop);
    ak_kafka_dev_stop(akt_kafka);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dead_letters_keep_the_record_and_carry_context_headers),
        cmocka_unit_test(test_without_context_headers_only_the_original_headers_travel),
        cmocka_unit_test(test_consumer_props_lose_their_consumer_only_settings),
        cmocka_unit_test(test_failed_dead_letter_is_reported_and_not_acked),
    };
    return cmocka_run_group_tests(tests, akt_setup, akt_teardown);
}
