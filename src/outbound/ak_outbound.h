/*
 * ak_outbound: the outbound connector, Aerospike XDR -> Kafka.
 *
 *   receiver (TCP wire / HTTP) -> decode -> bin-transforms -> route ->
 *   format -> produce -> (delivery report) -> answer XDR
 *
 * Everything runs on one loop thread; librdkafka does the Kafka I/O on its
 * own threads and hands delivery reports back to the loop. XDR is answered
 * only from a record's delivery report, in request order per connection.
 */
#ifndef AK_OUTBOUND_H
#define AK_OUTBOUND_H

#include <stdint.h>

#include "common/ak_error.h"
#include "common/ak_histogram.h"
#include "net/ak_loop.h"
#include "outbound/ak_outbound_config.h"

typedef struct ak_outbound ak_outbound_t;

typedef struct ak_outbound_stats {
    uint64_t connections_active;
    uint64_t connections_closed;
    uint64_t requests_total;       /* records received */
    uint64_t requests_success;     /* written to Kafka and acknowledged */
    uint64_t requests_error;       /* every failure, retryable or not */
    uint64_t requests_parse_error; /* undecodable: abandon-class answer */
    uint64_t requests_format_error;/* not representable in the format: abandon-class */
    uint64_t requests_skipped;     /* routing skip or no route: success answer */
    uint64_t requests_queued;      /* in flight now */
    uint64_t kafka_errors;         /* failed deliveries (retry-class answer) */
    uint64_t bytes_received;
    uint64_t paused;               /* times reading was paused for back-pressure */
    int64_t lag_ms;                /* now - last-update time of the last record */
    ak_histogram_t ack_latency_us; /* receipt -> answer */
} ak_outbound_stats_t;

/* What --check does: builds the producer and every formatter from cfg
 * (so librdkafka judges producer-props and Avro schemas parse) and frees
 * them, without listening anywhere. */
ak_status_t ak_outbound_check(ak_loop_t *loop, const ak_outbound_config_t *cfg, ak_error_t *err);

ak_outbound_t *ak_outbound_new(ak_loop_t *loop, const ak_outbound_config_t *cfg, ak_error_t *err);

/* Several pipelines in one process: instance `worker` (0-based) of
 * `workers`, each on a loop thread of its own with its own producer. They
 * share the listening ports (SO_REUSEPORT: the kernel spreads XDR
 * connections over them). Worker 0 also serves the management API and the
 * stats line, with every instance's counters added up (ak_outbound_link).
 * ak_outbound_new is worker 0 of 1. */
ak_outbound_t *ak_outbound_new_worker(ak_loop_t *loop, const ak_outbound_config_t *cfg, int worker,
                                      int workers, ak_error_t *err);
/* Gives worker 0 the other instances, whose counters it adds up. Call
 * before the loops run; the others must outlive worker 0's use of them. */
void ak_outbound_link(ak_outbound_t *primary, ak_outbound_t *const *others, size_t n);
/* Ports actually bound (service ports in order, then the manage port). */
uint16_t ak_outbound_port(const ak_outbound_t *ob, size_t index);
uint16_t ak_outbound_manage_port(const ak_outbound_t *ob);
/* This instance's counters (loop thread only). */
void ak_outbound_stats(const ak_outbound_t *ob, ak_outbound_stats_t *stats);
/* Stops listening, waits up to timeout_ms for deliveries in flight (their
 * answers are still sent), then frees everything. */
void ak_outbound_free(ak_outbound_t *ob, int timeout_ms);

#endif
