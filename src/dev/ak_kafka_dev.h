/*
 * ak_kafka_dev: an in-memory Kafka cluster for development and tests.
 *
 * A thin owner of librdkafka's mock cluster (rdkafka_mock.h): real brokers
 * that speak the Kafka protocol on 127.0.0.1, keep every record in memory and
 * accept error injection. Any Kafka client (librdkafka, kcat, Java) can use
 * the bootstrap list; nothing is written to disk and everything is gone after
 * ak_kafka_dev_stop().
 *
 * What the mock cluster of librdkafka 2.0.2 does and does not do:
 *  - Brokers have ids 1..brokers and listen on 127.0.0.1: on ports the
 *    kernel chooses, or on opts.port, opts.port + 1, ... (2.0.2 has no call
 *    for that; ak_kafka_dev.c steers the mock's bind() while it starts).
 *  - Topics are created on first use, as a Kafka broker with
 *    auto.create.topics.enable=true does: any Metadata request naming an
 *    unknown topic creates it, from producers and consumers alike. Unlike
 *    Kafka, 2.0.2 creates it even for a client with
 *    allow.auto.create.topics=false, so a consumer's typo makes a topic.
 *    Auto-created topics get AK_KAFKA_DEV_AUTO_PARTITIONS partitions and
 *    min(3, brokers) replicas.
 *  - Supported: produce (plain, idempotent, transactional), fetch, consumer
 *    groups with offset commits, metadata. Not supported: the CreateTopics
 *    admin request (use ak_kafka_dev_create_topic), ACLs, SASL, TLS.
 *  - Replication is for show: each partition has one in-memory log, and
 *    2.0.2 lists min(3, brokers) replicas for every partition whatever
 *    replication factor a topic was created with (it reads the cluster
 *    default, not the topic's).
 *  - A broker taken down refuses service but keeps its partitions: leaders do
 *    not move, so a partition whose leader is down is unavailable until the
 *    broker is up again, and nothing it holds is lost.
 *
 * @locality every function may be called from any thread; librdkafka hands
 * each call to the mock cluster's own thread and waits for it.
 */
#ifndef AK_KAFKA_DEV_H
#define AK_KAFKA_DEV_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "common/ak_error.h"

/* Partition count librdkafka 2.0.2's mock cluster gives a topic it creates
 * on first use (its defaults.partition_cnt); tests check it still holds. */
#define AK_KAFKA_DEV_AUTO_PARTITIONS 4

/* Limits kafka-dev enforces so a typo cannot exhaust memory or sockets. */
#define AK_KAFKA_DEV_MAX_BROKERS 64
#define AK_KAFKA_DEV_MAX_PARTITIONS 10000

/* Kafka protocol request types (ApiKey) for error injection; librdkafka's
 * RD_KAFKAP_* names are not in its public headers. */
enum {
    AK_KAFKA_API_PRODUCE = 0,
    AK_KAFKA_API_FETCH = 1,
    AK_KAFKA_API_LIST_OFFSETS = 2,
    AK_KAFKA_API_METADATA = 3,
    AK_KAFKA_API_OFFSET_COMMIT = 8,
    AK_KAFKA_API_OFFSET_FETCH = 9,
    AK_KAFKA_API_FIND_COORDINATOR = 10,
    AK_KAFKA_API_JOIN_GROUP = 11,
    AK_KAFKA_API_HEARTBEAT = 12,
    AK_KAFKA_API_SYNC_GROUP = 14,
    AK_KAFKA_API_INIT_PRODUCER_ID = 22,
};

typedef struct ak_kafka_dev ak_kafka_dev_t;

typedef struct ak_kafka_dev_topic {
    const char *name;  /* 1..249 of [A-Za-z0-9._-], as Kafka allows */
    int partitions;    /* 1..AK_KAFKA_DEV_MAX_PARTITIONS */
    int replication;   /* 0 or 1..brokers; checked, but 2.0.2 always uses min(3, brokers) */
} ak_kafka_dev_topic_t;

/* Receives librdkafka's log lines (syslog levels, 0 emergency .. 7 debug)
 * from librdkafka's threads. */
typedef void (*ak_kafka_dev_log_fn)(void *opaque, int level, const char *facility,
                                    const char *message);

typedef struct ak_kafka_dev_options {
    int brokers;                        /* 0 = 1 */
    int port;                           /* first broker's port; 0 = kernel's choice */
    const ak_kafka_dev_topic_t *topics; /* created before start returns */
    size_t topic_count;
    ak_kafka_dev_log_fn log;            /* NULL = discard librdkafka's logs */
    void *log_opaque;
} ak_kafka_dev_options_t;

/* Starts a cluster (opts may be NULL for one broker, no topics). Returns
 * NULL with err set when an option is out of range, a port is taken, a
 * topic is invalid or given twice, or librdkafka fails; options are checked
 * before anything starts. The caller frees the cluster with
 * ak_kafka_dev_stop(). */
ak_kafka_dev_t *ak_kafka_dev_start(const ak_kafka_dev_options_t *opts, ak_error_t *err);

/* Stops every broker, drops every record and frees dev (NULL is a no-op).
 * Returns only when librdkafka's threads are gone, which takes about a
 * second: 2.0.2's mock thread notices the stop on its next 1 s poll. */
void ak_kafka_dev_stop(ak_kafka_dev_t *dev);

/* "127.0.0.1:PORT,127.0.0.1:PORT,..." one entry per broker, in broker id
 * order; valid until ak_kafka_dev_stop(). */
const char *ak_kafka_dev_bootstrap(const ak_kafka_dev_t *dev);

int ak_kafka_dev_broker_count(const ak_kafka_dev_t *dev);

/* Creates a topic as an administrator would. replication must be 0 or
 * 1..brokers; librdkafka 2.0.2 then gives every partition min(3, brokers)
 * replicas regardless (see above). Fails if the topic exists (auto-created
 * ones included) or an argument is out of range. */
ak_status_t ak_kafka_dev_create_topic(ak_kafka_dev_t *dev, const char *name, int partitions,
                                      int replication, ak_error_t *err);

/* Broker broker_id (1..brokers) drops its connections and refuses service
 * until ak_kafka_dev_broker_up(); its partitions keep it as leader. */
ak_status_t ak_kafka_dev_broker_down(ak_kafka_dev_t *dev, int32_t broker_id, ak_error_t *err);
ak_status_t ak_kafka_dev_broker_up(ak_kafka_dev_t *dev, int32_t broker_id, ak_error_t *err);

/* The next count requests of type api_key (AK_KAFKA_API_*), on any broker,
 * fail with errors[0], errors[1], ... in order; later requests succeed.
 * RD_KAFKA_RESP_ERR__TRANSPORT makes the broker close the connection
 * instead. Pushes add to errors still pending. */
ak_status_t ak_kafka_dev_push_request_errors(ak_kafka_dev_t *dev, int16_t api_key, size_t count,
                                             const rd_kafka_resp_err_t *errors, ak_error_t *err);

/* Drops the errors still pending for api_key. */
ak_status_t ak_kafka_dev_clear_request_errors(ak_kafka_dev_t *dev, int16_t api_key,
                                              ak_error_t *err);

#endif
