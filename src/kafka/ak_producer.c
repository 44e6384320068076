#include "kafka/ak_producer.h"

#include "common/ak_log.h"

#include <errno.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define AK_PRODUCER_TOPIC_CACHE 64

struct ak_producer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *main_queue;
    ak_loop_t *loop;
    ak_io_t wake_io;
    int wake_fd;
    ak_producer_report_fn report;
    void *ctx;
    size_t in_flight;
    bool brokers_up;        /* from the last statistics */
    bool had_stats;
    bool delivered_once;
    /* Topic handles by name: producing through a handle skips librdkafka's
     * locked lookup by name on every message. Routing usually yields a few
     * topics; beyond the cache, messages go by name. */
    struct {
        char *name;
        rd_kafka_topic_t *rkt;
    } topics[AK_PRODUCER_TOPIC_CACHE];
    size_t n_topics;
    size_t last_topic;
};

static void ak_producer_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    ak_producer_t *prod = opaque;
    prod->in_flight--;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        prod->delivered_once = true;
    if (prod->report)
        prod->report(prod->ctx, msg->_private, msg->err,
                 msg->err ? rd_kafka_err2str(msg->err) : NULL);
}

/* Health: any broker in state UP in librdkafka's statistics JSON. */
static int ak_producer_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    ak_producer_t *prod = opaque;
    json_error_t error;
    json_t *root = json_loadb(json, len, 0, &error);
    bool up = false;
    json_t *brokers = root ? json_object_get(root, "brokers") : NULL;
    const char *name;
    json_t *broker;
    json_object_foreach(brokers, name, broker) {
        const char *state = json_string_value(json_object_get(broker, "state"));
        int32_t nodeid = (int32_t)json_integer_value(json_object_get(broker, "nodeid"));
        if (state && strcmp(state, "UP") == 0 && nodeid >= 0)
            up = true;
    }
    if (ak_log_enabled(AK_LOG_DEBUG)) {
        /* Where records wait, for tuning: in librdkafka's queues before a
         * request (int_latency), in the socket buffer (outbuf_latency), and
         * on the wire to the broker and back (rtt); averages in us. */
        json_object_foreach(brokers, name, broker) {
            int32_t nodeid = (int32_t)json_integer_value(json_object_get(broker, "nodeid"));
            if (nodeid < 0)
                continue;
            ak_log(AK_LOG_DEBUG, "kafka", "broker %d: int_latency %lld us, outbuf_latency %lld us, rtt %lld us, "
                   "requests in flight %lld", (int)nodeid,
                   (long long)json_integer_value(json_object_get(json_object_get(broker, "int_latency"), "avg")),
                   (long long)json_integer_value(json_object_get(json_object_get(broker, "outbuf_latency"), "avg")),
                   (long long)json_integer_value(json_object_get(json_object_get(broker, "rtt"), "avg")),
                   (long long)json_integer_value(json_object_get(broker, "waitresp_cnt")));
        }
    }
    json_decref(root);
    prod->brokers_up = up;
    prod->had_stats = true;
    return 0; /* librdkafka frees json */
}

static void ak_producer_on_wake(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    (void)events;
    ak_producer_t *prod = io->data;
    uint64_t drained;
    ssize_t n = read(prod->wake_fd, &drained, sizeof drained);
    (void)n;
    /* Serve every queued report now; librdkafka writes to the eventfd again
     * when the queue becomes non-empty later. */
    rd_kafka_poll(prod->rk, 0);
}

/* librdkafka's log lines join ours (syslog levels: 0..3 error, 4 warn,
 * 5..6 info, 7 debug). */
static void ak_producer_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    ak_log_level_t ours = level <= 3 ? AK_LOG_ERROR : level == 4 ? AK_LOG_WARN : level <= 6 ? AK_LOG_INFO : AK_LOG_DEBUG;
    ak_log(ours, "kafka", "%s: %s", fac, buf);
}

static bool ak_producer_user_set(const ak_producer_prop_t *props, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(props[i].name, name) == 0)
            return true;
    return false;
}

ak_producer_t *ak_producer_new(ak_loop_t *loop, const ak_producer_prop_t *props, size_t n_props,
                               ak_producer_report_fn report, void *ctx, ak_error_t *err)
{
    char errstr[512];
    ak_producer_t *prod = calloc(1, sizeof *prod);
    if (!prod) {
        ak_error_set(err, AK_ERR_NOMEM, "no memory for a Kafka producer");
        return NULL;
    }
    prod->loop = loop;
    prod->report = report;
    prod->ctx = ctx;
    prod->wake_fd = -1;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    /* Our defaults first, so the user's properties override them. */
    static const ak_producer_prop_t defaults[] = {
        {"acks", "all", NULL},
        {"enable.idempotence", "true", NULL},
        {"statistics.interval.ms", "1000", NULL},
        /* XDR holds back what it has in flight until each record's answer,
         * which waits for the delivery report: throughput is that window
         * over the ack latency. Short lingers and requests of at most 128 KB
         * per partition keep the latency low (measured with kafka-dev:
         * ~860k records/s against ~700k with librdkafka's 5 ms / 1 MB) and
         * still batch hundreds of records per request. */
        {"linger.ms", "2", NULL},
        {"batch.size", "131072", NULL},
        /* The Java producer's default partitioner (murmur2 of the key), so a
         * key lands in the same partition as with Aerospike's Java
         * connector; librdkafka's own default hashes with CRC32. */
        {"partitioner", "murmur2_random", NULL},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (!ak_producer_user_set(props, n_props, defaults[i].name))
            rd_kafka_conf_set(conf, defaults[i].name, defaults[i].value, errstr, sizeof errstr);
    for (size_t i = 0; i < n_props; i++) {
        /* The Java connector forces byte serializers and ignores these. */
        if (strcmp(props[i].name, "key.serializer") == 0 || strcmp(props[i].name, "value.serializer") == 0)
            continue;
        if (rd_kafka_conf_set(conf, props[i].name, props[i].value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            ak_error_set(err, AK_ERR_INVALID_ARG, "%s%sproducer-props.%s: %s (librdkafka), got \"%s\"",
                         props[i].where ? props[i].where : "", props[i].where ? ": " : "",
                         props[i].name, errstr, props[i].value);
            rd_kafka_conf_destroy(conf);
            free(prod);
            return NULL;
        }
    }
    rd_kafka_conf_set_opaque(conf, prod);
    rd_kafka_conf_set_dr_msg_cb(conf, ak_producer_dr);
    rd_kafka_conf_set_stats_cb(conf, ak_producer_stats);
    rd_kafka_conf_set_log_cb(conf, ak_producer_log);

    prod->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!prod->rk) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "cannot create the Kafka producer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        free(prod);
        return NULL;
    }
    prod->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (prod->wake_fd < 0) {
        ak_error_set(err, AK_ERR_IO, "eventfd: %s", strerror(errno));
        ak_producer_free(prod, 0);
        return NULL;
    }
    prod->main_queue = rd_kafka_queue_get_main(prod->rk);
    static const uint64_t one = 1;
    rd_kafka_queue_io_event_enable(prod->main_queue, prod->wake_fd, &one, sizeof one);
    ak_io_init(&prod->wake_io, prod->wake_fd, ak_producer_on_wake, prod);
    if (ak_loop_io_start(loop, &prod->wake_io, AK_IO_READ, err) != AK_OK) {
        ak_producer_free(prod, 0);
        return NULL;
    }
    return prod;
}

static rd_kafka_topic_t *ak_producer_topic(ak_producer_t *prod, const char *topic)
{
    if (prod->n_topics && strcmp(prod->topics[prod->last_topic].name, topic) == 0)
        return prod->topics[prod->last_topic].rkt;
    for (size_t i = 0; i < prod->n_topics; i++) {
        if (strcmp(prod->topics[i].name, topic) == 0) {
            prod->last_topic = i;
            return prod->topics[i].rkt;
        }
    }
    if (prod->n_topics == AK_PRODUCER_TOPIC_CACHE)
        return NULL;
    char *name = strdup(topic);
    rd_kafka_topic_t *rkt = name ? rd_kafka_topic_new(prod->rk, topic, NULL) : NULL;
    if (!rkt) {
        free(name);
        return NULL;
    }
    prod->topics[prod->n_topics].name = name;
    prod->topics[prod->n_topics].rkt = rkt;
    prod->last_topic = prod->n_topics++;
    return rkt;
}

int ak_producer_send(ak_producer_t *prod, const char *topic, const void *key, size_t key_len,
                     const void *value, size_t value_len, int64_t timestamp_ms, void *msg_opaque)
{
    rd_kafka_topic_t *rkt = ak_producer_topic(prod, topic);
    rd_kafka_resp_err_t rc;
    if (rkt)
        rc = rd_kafka_producev(prod->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_KEY((void *)key, key_len),
                               RD_KAFKA_V_VALUE((void *)value, value_len),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                               RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
    else
        rc = rd_kafka_producev(prod->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY((void *)key, key_len),
                               RD_KAFKA_V_VALUE((void *)value, value_len),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                               RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
    if (rc == RD_KAFKA_RESP_ERR_NO_ERROR)
        prod->in_flight++;
    return (int)rc;
}

void ak_producer_poll(ak_producer_t *prod, int timeout_ms)
{
    rd_kafka_poll(prod->rk, timeout_ms);
}

size_t ak_producer_in_flight(const ak_producer_t *prod)
{
    return prod->in_flight;
}

bool ak_producer_healthy(const ak_producer_t *prod)
{
    if (prod->had_stats)
        return prod->brokers_up;
    return prod->delivered_once;
}

bool ak_producer_get_prop(const ak_producer_t *prod, const char *name, char *out, size_t cap)
{
    const rd_kafka_conf_t *conf = rd_kafka_conf((rd_kafka_t *)prod->rk);
    size_t size = cap;
    return rd_kafka_conf_get(conf, name, out, &size) == RD_KAFKA_CONF_OK;
}

void ak_producer_free(ak_producer_t *prod, int timeout_ms)
{
    if (!prod)
        return;
    if (prod->rk && timeout_ms > 0)
        rd_kafka_flush(prod->rk, timeout_ms);
    if (prod->wake_fd >= 0) {
        ak_loop_io_stop(prod->loop, &prod->wake_io);
    }
    if (prod->main_queue) {
        rd_kafka_queue_io_event_enable(prod->main_queue, -1, NULL, 0);
        rd_kafka_queue_destroy(prod->main_queue);
    }
    for (size_t i = 0; i < prod->n_topics; i++) {
        rd_kafka_topic_destroy(prod->topics[i].rkt);
        free(prod->topics[i].name);
    }
    if (prod->rk)
        rd_kafka_destroy(prod->rk);
    if (prod->wake_fd >= 0)
        close(prod->wake_fd);
    free(prod);
}
