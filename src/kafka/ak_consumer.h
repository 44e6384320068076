/*
 * ak_consumer: librdkafka high-level (group) consumer glue with
 * at-least-once offset tracking, served on an ak_loop thread.
 *
 * At-least-once: every message handed to the application is tracked per
 * partition until the application acknowledges it (ak_consumer_ack), after
 * the record is written to Aerospike or dead-lettered. A partition's offset
 * is committed only up to the first message not yet acknowledged, so a
 * committed offset never passes an unacknowledged record; after a crash or
 * a rebalance the new owner re-reads from there (duplicates, never gaps).
 *
 * Commits are asynchronous every commit_interval_ms, and synchronous when
 * partitions are revoked and at ak_consumer_free.
 *
 * Rebalances (eager and cooperative assignors alike): revoked partitions
 * stop handing out messages at once; on_revoke tells the application; the
 * consumer waits until every message of those partitions handed out so far
 * is acknowledged, commits them synchronously, and only then releases the
 * partitions to the group. Messages of a revoked partition fetched but not
 * yet handed out are dropped: the new owner reads them again from the
 * committed offset. While the wait lasts librdkafka keeps the group
 * rebalance pending (up to the group's rebalance timeout, which is the
 * members' max.poll.interval.ms).
 *
 * Properties (consumer-props) go to librdkafka unchanged, with "FILE:LINE"
 * in any error. group.id is required. enable.auto.commit and
 * enable.auto.offset.store are forced to false (this module commits exactly
 * what was acknowledged); setting either to true is an error, not silently
 * ignored. Unless set: statistics are off, auto.offset.reset is librdkafka's
 * (latest).
 *
 * Wake-up: librdkafka signals its consumer queue (into which the main queue
 * is redirected) through an eventfd watched by the loop; the loop then
 * drains the queue without blocking. A timer drains it too at least every
 * second, so max.poll.interval.ms never expires while the topic is idle or
 * the application has paused.
 *
 * @locality every function, and every callback, runs on the loop thread.
 */
#ifndef AK_CONSUMER_H
#define AK_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "common/ak_error.h"
#include "kafka/ak_producer.h"
#include "net/ak_loop.h"

/* Kafka's longest topic name. */
#define AK_KAFKA_TOPIC_MAX 249

typedef struct ak_consumer ak_consumer_t;

/* A property for librdkafka: name, value, "FILE:LINE" (may be NULL). */
typedef ak_producer_prop_t ak_consumer_prop_t;

/* One consumed record as the application sees it. Everything it points to
 * (topic, key, value, rkmessage and its headers) is owned by the consumer
 * and stays valid until ak_consumer_ack for this message, or
 * ak_consumer_free; the application copies what it needs longer. */
typedef struct ak_consumer_msg {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const void *key;     /* NULL when the record has no key */
    size_t key_len;
    const void *value;   /* NULL for a tombstone */
    size_t value_len;
    int64_t timestamp_ms; /* -1 when the record has none */
    const rd_kafka_message_t *rkmessage; /* headers and anything else */
} ak_consumer_msg_t;

/* A message to process; the application must call ak_consumer_ack for it
 * exactly once (possibly from inside this callback). */
typedef void (*ak_consumer_msg_fn)(void *ctx, const ak_consumer_msg_t *msg);

/* Partitions assigned to this member, or revoked from it. On revoke, the
 * application should finish (or fail fast and dead-letter) the messages of
 * these partitions it still holds; they are released once all are acked.
 * lost: librdkafka says the partitions already belong to someone else (the
 * session expired); their acks are still awaited, but nothing is committed
 * for them. */
typedef void (*ak_consumer_partitions_fn)(void *ctx, const rd_kafka_topic_partition_list_t *parts,
                                          bool lost);

/* A consumer error librdkafka reported (broker down, unknown topic, commit
 * failure...): err is an rd_kafka_resp_err_t, message names topic and
 * partition where there is one. Most are transient; librdkafka retries.
 * fatal: the consumer cannot go on and should be freed. */
typedef void (*ak_consumer_error_fn)(void *ctx, int err, const char *message, bool fatal);

/* Called once, on the loop, when ak_consumer_stop was called and every
 * handed-out message has been acked. */
typedef void (*ak_consumer_drained_fn)(void *ctx);

typedef struct ak_consumer_options {
    const char *const *topics;      /* subscription; "^regex" as librdkafka allows */
    size_t topic_count;
    const ak_consumer_prop_t *props; /* consumer-props, passed unchanged */
    size_t prop_count;
    uint32_t commit_interval_ms;    /* 0 = 5000 */
    ak_consumer_msg_fn on_message;  /* required */
    ak_consumer_partitions_fn on_assign; /* optional */
    ak_consumer_partitions_fn on_revoke; /* optional */
    ak_consumer_error_fn on_error;  /* optional; NULL logs through ak_log */
    void *ctx;                      /* passed to every callback */
} ak_consumer_options_t;

/* Creates the consumer and subscribes. Fails with a message naming the
 * property (and its "FILE:LINE") librdkafka rejects, a missing group.id, an
 * auto-commit property set to true, or an empty topic list. */
ak_consumer_t *ak_consumer_new(ak_loop_t *loop, const ak_consumer_options_t *opts, ak_error_t *err);

/* The application is done with msg (written, ignored by policy, or
 * dead-lettered): its offset may be committed once everything before it is
 * acked too. msg and what it points to are invalid afterwards. May complete
 * a pending revoke (on a zero-delay timer, not inside this call). */
void ak_consumer_ack(ak_consumer_t *cons, const ak_consumer_msg_t *msg);

/* Back-pressure: stop fetching and handing out messages of every assigned
 * partition (also of partitions assigned later, until resume). Messages
 * librdkafka had already fetched are held and handed out, in order, after
 * ak_consumer_resume. Both are idempotent. */
void ak_consumer_pause(ak_consumer_t *cons);
void ak_consumer_resume(ak_consumer_t *cons);
bool ak_consumer_paused(const ak_consumer_t *cons);

/* Sends a commit of every partition's acknowledged position now:
 * synchronously (waits for the broker's answer; AK_ERR_IO with its message
 * on failure) or asynchronously (the answer only updates the stats). */
ak_status_t ak_consumer_commit(ak_consumer_t *cons, bool sync, ak_error_t *err);

/* Shutdown, step 1: hand out nothing more (held and later fetched messages
 * are dropped, to be re-read by the next owner), keep serving rebalances,
 * and call on_drained once every handed-out message is acked. */
void ak_consumer_stop(ak_consumer_t *cons, ak_consumer_drained_fn on_drained, void *ctx);

/* Checks the properties as ak_consumer_new would (librdkafka's verdict on
 * each, group.id, the forced auto-commit settings) without creating a
 * client: nothing connects. For --check. */
ak_status_t ak_consumer_check(const ak_consumer_options_t *opts, ak_error_t *err);

/* Messages handed out and not yet acked. */
size_t ak_consumer_in_flight(const ak_consumer_t *cons);

typedef struct ak_consumer_stats {
    uint64_t consumed;        /* messages handed to the application */
    uint64_t acked;
    uint64_t dropped;         /* fetched, never handed out (revoked or stopped) */
    uint64_t commits;         /* partition offsets the broker confirmed */
    uint64_t commit_failures; /* partition offsets the broker refused */
    uint64_t assigns;         /* rebalance events */
    uint64_t revokes;
    uint64_t errors;          /* consumer errors reported */
    size_t in_flight;         /* handed out, not yet acked */
    size_t held;              /* fetched while paused, waiting for resume */
    size_t partitions;        /* currently assigned (revoking ones included) */
    int64_t lag;              /* sum of the known partition lags; -1 if none known */
    bool paused;
    bool revoking;            /* a revoke waits for acks */
} ak_consumer_stats_t;

typedef struct ak_consumer_partition_stats {
    char topic[AK_KAFKA_TOPIC_MAX + 1];
    int32_t partition;
    int64_t position;       /* next offset to commit: after the last contiguous ack; -1 unknown */
    int64_t committed;      /* last offset the broker confirmed committed by us; -1 none yet */
    int64_t high_watermark; /* from the last fetch response; -1 unknown */
    int64_t lag;            /* high_watermark - position (or - next fetch offset); -1 unknown */
    size_t in_flight;
    bool revoking;
} ak_consumer_partition_stats_t;

void ak_consumer_stats(const ak_consumer_t *cons, ak_consumer_stats_t *out);
/* Fills up to cap partitions (in no particular order); returns how many are
 * assigned. */
size_t ak_consumer_partition_stats(const ak_consumer_t *cons, ak_consumer_partition_stats_t *out,
                                   size_t cap);

/* The effective value of a property after defaults (for logs and tests). */
bool ak_consumer_get_prop(const ak_consumer_t *cons, const char *name, char *out, size_t cap);

/* Commits every acknowledged position synchronously, leaves the group
 * (rd_kafka_consumer_close: revoked partitions are committed and released
 * at once, unacked messages are simply not committed), frees every message
 * still held and destroys the consumer. Messages not yet acked become
 * invalid: call it after on_drained, or accept their redelivery. Blocks for
 * the commit and the group leave. */
void ak_consumer_free(ak_consumer_t *cons);

#endif
