/*
 * ak_dead_letter: publishes records the inbound connector cannot write to a
 * dead-letter topic, as Kafka Connect's errors.deadletterqueue does.
 *
 * The dead-lettered record keeps the original key, value, headers and
 * timestamp (the partition is chosen by the producer, from the key). With
 * context headers enabled, these are added (replacing any of the same name
 * the original carried), all as UTF-8 strings:
 *
 *   __connect.errors.topic                   original topic
 *   __connect.errors.partition               original partition (decimal)
 *   __connect.errors.offset                  original offset (decimal)
 *   __connect.errors.connector.name          when a connector name is given
 *   __connect.errors.stage                   when given (e.g. VALUE_CONVERTER, TASK_PUT)
 *   __connect.errors.exception.class.name    error class
 *   __connect.errors.exception.message       error message
 *   __aerokafka.errors.aerospike.result.code Aerospike result code, when there is one
 *
 * It owns a librdkafka producer with acks=all and idempotence (unless the
 * properties say otherwise), so a successful completion means the record is
 * durably in the dead-letter topic: only then may the inbound connector ack
 * the original offset. Completions arrive on the loop thread, woken through
 * an eventfd like ak_producer's delivery reports.
 *
 * @locality every function and callback runs on the loop thread.
 */
#ifndef AK_DEAD_LETTER_H
#define AK_DEAD_LETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "kafka/ak_consumer.h"
#include "net/ak_loop.h"

#define AK_DEAD_LETTER_HEADER_TOPIC "__connect.errors.topic"
#define AK_DEAD_LETTER_HEADER_PARTITION "__connect.errors.partition"
#define AK_DEAD_LETTER_HEADER_OFFSET "__connect.errors.offset"
#define AK_DEAD_LETTER_HEADER_CONNECTOR "__connect.errors.connector.name"
#define AK_DEAD_LETTER_HEADER_STAGE "__connect.errors.stage"
#define AK_DEAD_LETTER_HEADER_CLASS "__connect.errors.exception.class.name"
#define AK_DEAD_LETTER_HEADER_MESSAGE "__connect.errors.exception.message"
#define AK_DEAD_LETTER_HEADER_RESULT_CODE "__aerokafka.errors.aerospike.result.code"

typedef struct ak_dead_letter ak_dead_letter_t;

/* The record reached the dead-letter topic (err 0) or could not (err is an
 * rd_kafka_resp_err_t, errstr says why): then the original must not be
 * acked. opaque is what was given to ak_dead_letter_send. */
typedef void (*ak_dead_letter_done_fn)(void *ctx, void *opaque, int err, const char *errstr);

typedef struct ak_dead_letter_options {
    const char *topic;              /* required */
    /* Producer properties, passed to librdkafka unchanged ("FILE:LINE" in
     * errors); or, with from_consumer_props, the consumer-props, of which
     * only the properties librdkafka documents for producers too are kept
     * (connection, security, client settings; not group.id and the like). */
    const ak_consumer_prop_t *props;
    size_t prop_count;
    bool from_consumer_props;
    bool context_headers;           /* add the __connect.errors.* headers */
    const char *connector_name;     /* optional */
    ak_dead_letter_done_fn on_done; /* required */
    void *ctx;
} ak_dead_letter_options_t;

/* Why a record is dead-lettered. Every field may be NULL / absent. */
typedef struct ak_dead_letter_reason {
    const char *stage;      /* where it failed, e.g. "VALUE_CONVERTER", "TASK_PUT" */
    const char *class_name; /* error class, e.g. "ak.format.DecodeError", "AerospikeException" */
    const char *message;    /* error message */
    bool has_result_code;
    int result_code;        /* the Aerospike result code */
} ak_dead_letter_reason_t;

typedef struct ak_dead_letter_stats {
    uint64_t sent;      /* accepted by ak_dead_letter_send */
    uint64_t delivered; /* in the dead-letter topic */
    uint64_t failed;    /* could not be delivered */
    size_t in_flight;
} ak_dead_letter_stats_t;

/* Fails with the property (and "FILE:LINE") librdkafka rejects, or a missing
 * topic or callback. */
ak_dead_letter_t *ak_dead_letter_new(ak_loop_t *loop, const ak_dead_letter_options_t *opts,
                                     ak_error_t *err);

/* Queues a copy of msg (key, value, headers, timestamp) with the context
 * headers of reason; msg may be acked or freed as soon as this returns, but
 * the caller acks it only after on_done reports success. On failure (local
 * queue full, no memory) returns an error and on_done is not called. */
ak_status_t ak_dead_letter_send(ak_dead_letter_t *dlq, const ak_consumer_msg_t *msg,
                                const ak_dead_letter_reason_t *reason, void *opaque, ak_error_t *err);

void ak_dead_letter_stats(const ak_dead_letter_t *dlq, ak_dead_letter_stats_t *out);

/* The effective value of a producer property (for logs and tests). */
bool ak_dead_letter_get_prop(const ak_dead_letter_t *dlq, const char *name, char *out, size_t cap);

/* Waits up to timeout_ms for records in flight (their on_done is called,
 * from inside this call), then destroys the producer; records still in
 * flight after that are reported failed. */
void ak_dead_letter_free(ak_dead_letter_t *dlq, int timeout_ms);

#endif
