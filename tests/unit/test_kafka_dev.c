/*
 * kafka-dev over real sockets: librdkafka producers and consumers talk to
 * the in-memory cluster on 127.0.0.1 exactly as they would to Kafka.
 *
 * Every wait polls for its condition until a deadline; no test sleeps and
 * hopes. Set AKT_KAFKA_LOG=1 to see the clients' librdkafka logs.
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
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "ak_test_util.h"
#include "dev/ak_kafka_dev.h"

#define AKT_VALUE_SIZE 32

/* ---- clients -------------------------------------------------------- */

typedef struct akt_deliveries {
    int ok;
    int failed;
    rd_kafka_resp_err_t last_error;
} akt_deliveries_t;

static int64_t akt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void akt_log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *message)
{
    if (getenv("AKT_KAFKA_LOG"))
        fprintf(stderr, "[%s] %d %s: %s\n", rd_kafka_name(rk), level, facility, message);
}

/* Errors a client reports while a broker is down are expected here; the
 * tests check outcomes through delivery reports instead. */
static void akt_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    if (getenv("AKT_KAFKA_LOG"))
        fprintf(stderr, "[%s] error %s: %s\n", rd_kafka_name(rk),
                rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void akt_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    akt_deliveries_t *deliveries = opaque;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        deliveries->ok++;
    } else {
        deliveries->failed++;
        deliveries->last_error = msg->err;
    }
}

/* Builds a client; props is NULL-terminated name, value pairs. */
static rd_kafka_t *akt_client(rd_kafka_type_t type, const char *bootstrap, const char *const *props,
                              akt_deliveries_t *deliveries)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    /* Reconnect quickly once a broker is back, so waits stay short. */
    assert_int_equal(rd_kafka_conf_set(conf, "reconnect.backoff.max.ms", "200", errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    for (size_t i = 0; props && props[i]; i += 2) {
        if (rd_kafka_conf_set(conf, props[i], props[i + 1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
            fail_msg("%s=%s: %s", props[i], props[i + 1], errstr);
    }
    rd_kafka_conf_set_log_cb(conf, akt_log_cb);
    rd_kafka_conf_set_error_cb(conf, akt_error_cb);
    if (deliveries) {
        rd_kafka_conf_set_opaque(conf, deliveries);
        rd_kafka_conf_set_dr_msg_cb(conf, akt_dr_cb);
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk)
        fail_msg("rd_kafka_new: %s", errstr);
    return rk;
}

static void akt_value(char *out, int n)
{
    snprintf(out, AKT_VALUE_SIZE, "msg-%05d", n);
}

static void akt_produce(rd_kafka_t *producer, const char *topic, const char *value)
{
    rd_kafka_resp_err_t err =
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic),
                          RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err)
        fail_msg("produce '%s' to %s: %s", value, topic, rd_kafka_err2str(err));
}

/* Serves the producer's callbacks until `reports` delivery reports arrived
 * or timeout_ms passed; returns whether they arrived. */
static bool akt_wait_reports(rd_kafka_t *producer, const akt_deliveries_t *deliveries, int reports,
                             int timeout_ms)
{
    int64_t deadline = akt_now_ms() + timeout_ms;
    while (deliveries->ok + deliveries->failed < reports) {
        int64_t left = deadline - akt_now_ms();
        if (left <= 0)
            return false;
        rd_kafka_poll(producer, left < 100 ? (int)left : 100);
    }
    return true;
}

typedef struct akt_topic_info {
    int partitions;
    int32_t leader0;   /* leader of partition 0 */
    int replicas0;     /* replica count of partition 0 */
    rd_kafka_resp_err_t err;
} akt_topic_info_t;

/* Metadata for one topic as a client sees it (this may create the topic if
 * the client allows auto-creation). */
static akt_topic_info_t akt_topic_metadata(rd_kafka_t *rk, const char *topic)
{
    akt_topic_info_t info = {0, -1, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    assert_non_null(rkt);
    const struct rd_kafka_metadata *md = NULL;
    /* A topic created a moment ago may report LEADER_NOT_AVAILABLE once. */
    int64_t deadline = akt_now_ms() + 5000;
    do {
        if (md)
            rd_kafka_metadata_destroy(md);
        md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
        if (err)
            fail_msg("metadata for %s: %s", topic, rd_kafka_err2str(err));
        assert_int_equal(md->topic_cnt, 1);
        info.err = md->topics[0].err;
    } while (info.err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE && akt_now_ms() < deadline);
    const rd_kafka_metadata_topic_t *t = &md->topics[0];
    info.partitions = t->partition_cnt;
    for (int i = 0; i < t->partition_cnt; i++) {
        if (t->partitions[i].id == 0) {
            info.leader0 = t->partitions[i].leader;
            info.replicas0 = t->partitions[i].replica_cnt;
        }
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return info;
}

/* Reads every partition of topic from the beginning to its end and
 * counts each value msg-00000..msg-(n-1); values outside that range count
 * as strays. order_ok stays true while each partition's values ascend.
 * Returns the number of messages read. */
static int akt_consume_all(const char *bootstrap, const char *topic, int partitions, int n,
                           int *counts, int *strays, bool *order_ok)
{
    static const char *const props[] = {"group.id", "kafka-dev-test", "enable.partition.eof", "true",
                                        "enable.auto.commit", "false", NULL};
    rd_kafka_t *consumer = akt_client(RD_KAFKA_CONSUMER, bootstrap, props, NULL);
    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(assignment, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    /* A plain assignment: no group rebalance to wait for. */
    assert_int_equal(rd_kafka_assign(consumer, assignment), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(assignment);

    int *last = calloc((size_t)partitions, sizeof *last);
    bool *at_end = calloc((size_t)partitions, sizeof *at_end);
    assert_non_null(last);
    assert_non_null(at_end);
    for (int p = 0; p < partitions; p++)
        last[p] = -1;
    int read = 0, ends = 0;
    *strays = 0;
    *order_ok = true;
    int64_t deadline = akt_now_ms() + 10000;
    while (ends < partitions && akt_now_ms() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(consumer, 100);
        if (!msg)
            continue;
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (msg->partition >= 0 && msg->partition < partitions && !at_end[msg->partition]) {
                at_end[msg->partition] = true;
                ends++;
            }
        } else if (msg->err) {
            fail_msg("consume %s: %s", topic, rd_kafka_message_errstr(msg));
        } else {
            char value[AKT_VALUE_SIZE] = {0};
            int number = -1;
            if (msg->len < sizeof value)
                memcpy(value, msg->payload, msg->len);
            if (sscanf(value, "msg-%d", &number) == 1 && number >= 0 && number < n)
                counts[number]++;
            else
                (*strays)++;
            if (number <= last[msg->partition])
                *order_ok = false;
            last[msg->partition] = number;
            read++;
        }
        rd_kafka_message_destroy(msg);
    }
    free(last);
    free(at_end);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    if (ends < partitions)
        fail_msg("consume %s: only %d of %d partitions reached their end within 10 s", topic, ends,
                 partitions);
    return read;
}

/* Fails unless every value 0..n-1 was read exactly once and nothing else. */
static void akt_assert_exactly_once(const int *counts, int n, int strays)
{
    assert_int_equal(strays, 0);
    for (int i = 0; i < n; i++)
        if (counts[i] != 1)
            fail_msg("msg-%05d read %d times, expected once", i, counts[i]);
}

static ak_kafka_dev_t *akt_dev_start(const ak_kafka_dev_options_t *opts)
{
    ak_error_t err;
    akt_error_reset(&err);
    ak_kafka_dev_t *dev = ak_kafka_dev_start(opts, &err);
    if (!dev)
        fail_msg("ak_kafka_dev_start: %s", err.message);
    return dev;
}

/* ---- tests ---------------------------------------------------------- */

static void test_auto_created_topic_round_trips_every_message_once(void **state)
{
    (void)state;
    enum { N = 300 };
    ak_kafka_dev_t *dev = akt_dev_start(NULL);
    const char *bootstrap = ak_kafka_dev_bootstrap(dev);
    assert_int_equal(ak_kafka_dev_broker_count(dev), 1);
    assert_non_null(strstr(bootstrap, "127.0.0.1:"));

    /* Nobody created "never-created": the producer's first metadata request
     * does, as a Kafka broker with auto.create.topics.enable would. */
    akt_deliveries_t deliveries = {0};
    rd_kafka_t *producer = akt_client(RD_KAFKA_PRODUCER, bootstrap, NULL, &deliveries);
    for (int i = 0; i < N; i++) {
        char value[AKT_VALUE_SIZE];
        akt_value(value, i);
        akt_produce(producer, "never-created", value);
    }
    assert_true(akt_wait_reports(producer, &deliveries, N, 10000));
    assert_int_equal(deliveries.failed, 0);
    assert_int_equal(deliveries.ok, N);

    akt_topic_info_t info = akt_topic_metadata(producer, "never-created");
    assert_int_equal(info.err, RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(info.partitions, AK_KAFKA_DEV_AUTO_PARTITIONS);
    assert_int_equal(info.replicas0, 1);
    rd_kafka_destroy(producer);

    int counts[N] = {0};
    int strays;
    bool order_ok;
    int read = akt_consume_all(bootstrap, "never-created", info.partitions, N, counts, &strays,
                               &order_ok);
    assert_int_equal(read, N);
    akt_assert_exactly_once(counts, N, strays);
    assert_true(order_ok);
    ak_kafka_dev_stop(dev);
}

/* Pins a difference from Kafka documented in ak_kafka_dev.h: the mock
 * creates a topic for any Metadata request naming it, even from a client
 * that disallows auto-creation. */
static void test_consumer_metadata_creates_a_topic_even_when_disallowed(void **state)
{
    (void)state;
    ak_kafka_dev_t *dev = akt_dev_start(NULL);
    static const char *const disallowed[] = {"group.id", "kafka-dev-test",
                                             "allow.auto.create.topics", "false", NULL};
    rd_kafka_t *consumer = akt_client(RD_KAFKA_CONSUMER, ak_kafka_dev_bootstrap(dev), disallowed, NULL);
    akt_topic_info_t info = akt_topic_metadata(consumer, "named-by-a-consumer");
    assert_int_equal(info.err, RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(info.partitions, AK_KAFKA_DEV_AUTO_PARTITIONS);
    rd_kafka_destroy(consumer);
    ak_kafka_dev_stop(dev);
}

static void test_precreated_topics_have_the_requested_partitions_and_replicas(void **state)
{
    (void)state;
    const ak_kafka_dev_topic_t topics[] = {
        {"orders", 4, 0},
        {"events", 1, 2},
        {"wide", 12, 1},
    };
    ak_kafka_dev_options_t opts = {.brokers = 3, .topics = topics, .topic_count = 3};
    ak_kafka_dev_t *dev = akt_dev_start(&opts);
    assert_int_equal(ak_kafka_dev_broker_count(dev), 3);

    rd_kafka_t *client = akt_client(RD_KAFKA_PRODUCER, ak_kafka_dev_bootstrap(dev), NULL, NULL);
    const struct rd_kafka_metadata *md = NULL;
    assert_int_equal(rd_kafka_metadata(client, 1, NULL, &md, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(md->broker_cnt, 3);
    assert_int_equal(md->topic_cnt, 3);
    rd_kafka_metadata_destroy(md);

    /* librdkafka 2.0.2 lists min(3, brokers) replicas whatever was asked;
     * if this fails after an upgrade, update ak_kafka_dev.h. */
    akt_topic_info_t info = akt_topic_metadata(client, "orders");
    assert_int_equal(info.partitions, 4);
    assert_int_equal(info.replicas0, 3);
    info = akt_topic_metadata(client, "events");
    assert_int_equal(info.partitions, 1);
    assert_int_equal(info.replicas0, 3);
    info = akt_topic_metadata(client, "wide");
    assert_int_equal(info.partitions, 12);
    assert_int_equal(info.replicas0, 3);

    /* Created later, while the cluster serves. */
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_kafka_dev_create_topic(dev, "later", 7, 3, &err), &err);
    info = akt_topic_metadata(client, "later");
    assert_int_equal(info.partitions, 7);
    assert_int_equal(info.replicas0, 3);

    rd_kafka_destroy(client);
    ak_kafka_dev_stop(dev);
}

static void test_leader_down_holds_delivery_until_it_is_up(void **state)
{
    (void)state;
    ak_kafka_dev_options_t opts = {.brokers = 3};
    ak_kafka_dev_t *dev = akt_dev_start(&opts);
    const char *bootstrap = ak_kafka_dev_bootstrap(dev);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_kafka_dev_create_topic(dev, "leader-down", 1, 3, &err), &err);

    static const char *const patient[] = {"message.timeout.ms", "12000", NULL};
    akt_deliveries_t deliveries = {0};
    rd_kafka_t *producer = akt_client(RD_KAFKA_PRODUCER, bootstrap, patient, &deliveries);
    akt_topic_info_t info = akt_topic_metadata(producer, "leader-down");
    assert_in_range(info.leader0, 1, 3);
    /* A first message proves the path works and connects to the leader. */
    akt_produce(producer, "leader-down", "msg-00000");
    assert_true(akt_wait_reports(producer, &deliveries, 1, 5000));
    assert_int_equal(deliveries.ok, 1);

    akt_assert_ok(ak_kafka_dev_broker_down(dev, info.leader0, &err), &err);
    akt_produce(producer, "leader-down", "msg-00001");

    /* A second producer that gives up after one second shows the
     * partition is really unavailable: its message times out. */
    static const char *const impatient[] = {"message.timeout.ms", "1000", NULL};
    akt_deliveries_t gave_up = {0};
    rd_kafka_t *impatient_producer = akt_client(RD_KAFKA_PRODUCER, bootstrap, impatient, &gave_up);
    akt_produce(impatient_producer, "leader-down", "msg-99999");
    assert_true(akt_wait_reports(impatient_producer, &gave_up, 1, 5000));
    assert_int_equal(gave_up.ok, 0);
    assert_int_equal(gave_up.last_error, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
    rd_kafka_destroy(impatient_producer);

    /* Meanwhile the patient producer got no report at all. */
    assert_false(akt_wait_reports(producer, &deliveries, 2, 500));
    assert_int_equal(deliveries.ok, 1);
    assert_int_equal(deliveries.failed, 0);

    akt_assert_ok(ak_kafka_dev_broker_up(dev, info.leader0, &err), &err);
    assert_true(akt_wait_reports(producer, &deliveries, 2, 10000));
    assert_int_equal(deliveries.ok, 2);
    assert_int_equal(deliveries.failed, 0);
    rd_kafka_destroy(producer);

    /* The log holds the two delivered messages, not the timed-out one. */
    int counts[2] = {0};
    int strays;
    bool order_ok;
    assert_int_equal(akt_consume_all(bootstrap, "leader-down", 1, 2, counts, &strays, &order_ok), 2);
    akt_assert_exactly_once(counts, 2, strays);
    assert_true(order_ok);
    ak_kafka_dev_stop(dev);
}

static void test_idempotent_producer_retries_produce_errors_and_delivers_once(void **state)
{
    (void)state;
    enum { N = 200 };
    ak_kafka_dev_options_t opts = {.brokers = 3};
    ak_kafka_dev_t *dev = akt_dev_start(&opts);
    const char *bootstrap = ak_kafka_dev_bootstrap(dev);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_kafka_dev_create_topic(dev, "retried", 1, 3, &err), &err);

    static const rd_kafka_resp_err_t errors[] = {
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
    };
    akt_assert_ok(ak_kafka_dev_push_request_errors(dev, AK_KAFKA_API_PRODUCE, 3, errors, &err), &err);

    static const char *const idempotent[] = {"enable.idempotence", "true", "retry.backoff.ms", "50",
                                             "message.timeout.ms", "10000", NULL};
    akt_deliveries_t deliveries = {0};
    rd_kafka_t *producer = akt_client(RD_KAFKA_PRODUCER, bootstrap, idempotent, &deliveries);
    for (int i = 0; i < N; i++) {
        char value[AKT_VALUE_SIZE];
        akt_value(value, i);
        akt_produce(producer, "retried", value);
    }
    assert_true(akt_wait_reports(producer, &deliveries, N, 12000));
    assert_int_equal(deliveries.failed, 0);
    assert_int_equal(deliveries.ok, N);
    rd_kafka_destroy(producer);

    /* Each Produce request takes one injected error, and none succeeds
     * while any is left, so the delivered messages used all three. */
    int counts[N] = {0};
    int strays;
    bool order_ok;
    assert_int_equal(akt_consume_all(bootstrap, "retried", 1, N, counts, &strays, &order_ok), N);
    akt_assert_exactly_once(counts, N, strays);
    assert_true(order_ok); /* idempotence also keeps the order */

    /* Proof the stack is empty: a producer that never retries succeeds. */
    static const char *const no_retries[] = {"retries", "0", "message.timeout.ms", "5000", NULL};
    akt_deliveries_t once = {0};
    rd_kafka_t *plain = akt_client(RD_KAFKA_PRODUCER, bootstrap, no_retries, &once);
    akt_produce(plain, "retried", "msg-after");
    assert_true(akt_wait_reports(plain, &once, 1, 5000));
    assert_int_equal(once.ok, 1);
    rd_kafka_destroy(plain);
    ak_kafka_dev_stop(dev);
}

static void test_injected_error_reaches_a_producer_that_never_retries(void **state)
{
    (void)state;
    ak_kafka_dev_t *dev = akt_dev_start(NULL);
    const char *bootstrap = ak_kafka_dev_bootstrap(dev);
    ak_error_t err;
    akt_error_reset(&err);
    const rd_kafka_resp_err_t fatal_for_it = RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
    akt_assert_ok(ak_kafka_dev_push_request_errors(dev, AK_KAFKA_API_PRODUCE, 1, &fatal_for_it, &err),
                  &err);

    static const char *const no_retries[] = {"retries", "0", "message.timeout.ms", "5000", NULL};
    akt_deliveries_t first = {0};
    rd_kafka_t *producer = akt_client(RD_KAFKA_PRODUCER, bootstrap, no_retries, &first);
    akt_produce(producer, "injected", "msg-00000");
    assert_true(akt_wait_reports(producer, &first, 1, 5000));
    assert_int_equal(first.failed, 1);
    assert_int_equal(first.last_error, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);

    /* Pushed then cleared: nothing is injected. */
    akt_assert_ok(ak_kafka_dev_push_request_errors(dev, AK_KAFKA_API_PRODUCE, 1, &fatal_for_it, &err),
                  &err);
    akt_assert_ok(ak_kafka_dev_clear_request_errors(dev, AK_KAFKA_API_PRODUCE, &err), &err);
    akt_produce(producer, "injected", "msg-00001");
    assert_true(akt_wait_reports(producer, &first, 2, 5000));
    assert_int_equal(first.ok, 1);
    rd_kafka_destroy(producer);
    ak_kafka_dev_stop(dev);
}

static void test_start_refuses_bad_options_with_a_message(void **state)
{
    (void)state;
    ak_error_t err;

    ak_kafka_dev_options_t opts = {.brokers = -1};
    akt_error_reset(&err);
    assert_null(ak_kafka_dev_start(&opts, &err));
    assert_int_equal(err.status, AK_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "brokers is -1"));

    opts = (ak_kafka_dev_options_t){.brokers = AK_KAFKA_DEV_MAX_BROKERS + 1};
    akt_error_reset(&err);
    assert_null(ak_kafka_dev_start(&opts, &err));
    assert_int_equal(err.status, AK_ERR_INVALID_ARG);

    /* A port range that does not fit is refused before anything starts. */
    opts = (ak_kafka_dev_options_t){.brokers = 3, .port = 65534};
    akt_error_reset(&err);
    assert_null(ak_kafka_dev_start(&opts, &err));
    assert_int_equal(err.status, AK_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "ports 65534..65536"));

    const ak_kafka_dev_topic_t no_partitions[] = {{"orders", 0, 0}};
    opts = (ak_kafka_dev_options_t){.topics = no_partitions, .topic_count = 1};
    akt_error_reset(&err);
    assert_null(ak_kafka_dev_start(&opts, &err));
    assert_int_equal(err.status, AK_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'orders'"));

    const ak_kafka_dev_topic_t bad_name[] = {{"a/b", 1, 0}};
    opts = (ak_kafka_dev_options_t){.topics = bad_name, .topic_count = 1};
    akt_error_reset(&err);
    assert_null(ak_kafka_dev_start(&opts, &err));
    assert_non_null(strstr(err.message, "'a/b'"));

    const ak_kafka_dev_topic_t twice[] = {{"dup", 1, 0}, {"dup", 2, 0}};
    opts = (ak_kafka_dev_options_t){.topics = twice, .topic_count = 2};
    akt_error_reset(&err);
    assert_null(ak_kafka_dev_start(&opts, &err));
    assert_non_null(strstr(err.message, "'dup': given twice"));
}

static void test_calls_on_a_running_cluster_check_their_arguments(void **state)
{
    (void)state;
    ak_kafka_dev_options_t opts = {.brokers = 2};
    ak_kafka_dev_t *dev = akt_dev_start(&opts);
    ak_error_t err;

    akt_error_reset(&err);
    assert_int_equal(ak_kafka_dev_broker_down(dev, 3, &err), AK_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "no broker 3 (broker ids are 1..2)"));
    akt_error_reset(&err);
    assert_int_equal(ak_kafka_dev_broker_up(dev, 0, &err), AK_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "no broker 0"));

    akt_error_reset(&err);
    assert_int_equal(ak_kafka_dev_create_topic(dev, "t", 1, 3, &err), AK_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "replication 3, expected 1..2"));
    akt_error_reset(&err);
    assert_int_equal(ak_kafka_dev_create_topic(dev, "", 1, 0, &err), AK_ERR_INVALID_ARG);
    akt_error_reset(&err);
    assert_int_equal(ak_kafka_dev_create_topic(dev, "..", 1, 0, &err), AK_ERR_INVALID_ARG);
    akt_error_reset(&err);
    akt_assert_ok(ak_kafka_dev_create_topic(dev, "t", 1, 0, &err), &err);
    assert_int_equal(ak_kafka_dev_create_topic(dev, "t", 1, 0, &err), AK_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'t': already exists"));

    akt_error_reset(&err);
    assert_int_equal(ak_kafka_dev_push_request_errors(dev, AK_KAFKA_API_PRODUCE, 2, NULL, &err),
                     AK_ERR_INVALID_ARG);
    assert_int_equal(ak_kafka_dev_push_request_errors(dev, -1, 0, NULL, &err), AK_ERR_INVALID_ARG);
    akt_assert_ok(ak_kafka_dev_push_request_errors(dev, AK_KAFKA_API_PRODUCE, 0, NULL, &err), &err);

    ak_kafka_dev_stop(dev);
    ak_kafka_dev_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_created_topic_round_trips_every_message_once),
        cmocka_unit_test(test_consumer_metadata_creates_a_topic_even_when_disallowed),
        cmocka_unit_test(test_precreated_topics_have_the_requested_partitions_and_replicas),
        cmocka_unit_test(test_leader_down_holds_delivery_until_it_is_up),
        cmocka_unit_test(test_idempotent_producer_retries_produce_errors_and_delivers_once),
        cmocka_unit_test(test_injected_error_reaches_a_producer_that_never_retries),
        cmocka_unit_test(test_start_refuses_bad_options_with_a_message),
        cmocka_unit_test(test_calls_on_a_running_cluster_check_their_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
