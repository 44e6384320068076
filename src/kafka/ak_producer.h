/*
 * ak_producer: librdkafka producer glue with per-message delivery reports
 * delivered on an ak_loop thread.
 *
 * Properties are passed to librdkafka unchanged (as kcat's -X does); a
 * property librdkafka rejects fails creation with its own message. Unless
 * the user sets them, acks=all and enable.idempotence=true, so a delivery
 * report of success means the record is durably in Kafka.
 *
 * Delivery reports arrive on the loop given at creation: librdkafka signals
 * its queue through an eventfd watched by the loop, which then serves the
 * queue. So produce and its report both happen on the loop thread, and the
 * report can answer the connection that carried the record directly.
 */
#ifndef AK_PRODUCER_H
#define AK_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "net/ak_loop.h"

typedef struct ak_producer ak_producer_t;

typedef struct ak_producer_prop {
    const char *name;
    const char *value;
    const char *where; /* "FILE:LINE" of the property, for messages; may be NULL */
} ak_producer_prop_t;

/* err is 0 (RD_KAFKA_RESP_ERR_NO_ERROR) on success. */
typedef void (*ak_producer_report_fn)(void *ctx, void *msg_opaque, int err, const char *errstr);

ak_producer_t *ak_producer_new(ak_loop_t *loop, const ak_producer_prop_t *props, size_t n_props,
                               ak_producer_report_fn report, void *ctx, ak_error_t *err);

/* Queues one message (copied). timestamp_ms is its CreateTime in Unix
 * milliseconds (0: librdkafka reads the clock). On success its report
 * arrives later on the loop. On failure (unknown topic name, local queue
 * full) returns the librdkafka error code (non-zero) and no report will
 * come. */
int ak_producer_send(ak_producer_t *prod, const char *topic, const void *key, size_t key_len,
                     const void *value, size_t value_len, int64_t timestamp_ms, void *msg_opaque);

/* Serves delivery reports for up to timeout_ms (for shutdown, when the
 * loop no longer runs). */
void ak_producer_poll(ak_producer_t *prod, int timeout_ms);

/* Messages produced and not yet reported. */
size_t ak_producer_in_flight(const ak_producer_t *prod);

/* True while at least one broker connection is up (from librdkafka's
 * statistics, refreshed every second), or before the first statistics if a
 * delivery has succeeded. */
bool ak_producer_healthy(const ak_producer_t *prod);

/* Waits up to timeout_ms for outstanding deliveries (serving reports), then
 * destroys the producer. */
void ak_producer_free(ak_producer_t *prod, int timeout_ms);

/* The effective value of a property after defaults (for logs and tests). */
bool ak_producer_get_prop(const ak_producer_t *prod, const char *name, char *out, size_t cap);

#endif
