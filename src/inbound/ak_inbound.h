/*
 * ak_inbound: the inbound connector (Kafka -> Aerospike) at run time.
 *
 * Joins the layers below it: a group consumer (kafka/ak_consumer) hands
 * records over on the loop thread; processing threads decode and map them
 * (inbound/ak_inbound_map); the per-key gate (inbound/ak_key_order) keeps
 * two writes of one Aerospike key from being in flight together; the
 * cluster-aware client (client/ak_client) writes them; bad records go to
 * the dead-letter topic (kafka/ak_dead_letter) or follow invalid-record;
 * and only then is the Kafka offset acknowledged, so the consumer commits
 * nothing that is not in Aerospike (or dead-lettered).
 *
 * Failures by class:
 *   - not the record's fault (server TIMEOUT, KEY_BUSY, DEVICE_OVERLOAD,
 *     UNAVAILABLE, OUT_OF_SPACE; security refusals 50-89, FORBIDDEN,
 *     ENTERPRISE_ONLY, which refuse every record alike; connection lost, no
 *     node for the partition, client queue full; Schema Registry down): the
 *     record is tried again after a
 *     jittered wait that doubles from 100 ms up to errors.retry.delay.max.ms,
 *     its key staying busy so later records of that key wait behind it; after
 *     errors.retry.timeout (default forever) the connector stops. Never
 *     dead-lettered.
 *   - the record's fault (cannot be decoded or mapped; refused by the server
 *     with any other code, e.g. PARAMETER, BIN_NAME, RECORD_TOO_BIG,
 *     KEY_EXISTS on create-only, GENERATION): per the topic's
 *     invalid-record: ignore (dead-lettered first when the topic has a
 *     dead-letter topic) or kill-task (the connector stops; the offset is not
 *     committed, so the record is read again at the next start).
 *   - a delete of a record that does not exist is a success.
 *
 * Back-pressure: at most max-queued-records records are held (consumed, not
 * yet acknowledged); at the limit the consumer stops handing records over
 * (it stops polling; after 5 s it pauses the partitions in librdkafka), and
 * resumes once fewer than half are held.
 *
 * Threads: everything here runs on the loop given to ak_inbound_new, except
 * the processing threads, which only map records and hand them back.
 */
#ifndef AK_INBOUND_H
#define AK_INBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "common/ak_histogram.h"
#include "inbound/ak_inbound_config.h"
#include "net/ak_loop.h"

typedef struct ak_inbound ak_inbound_t;

typedef struct ak_inbound_stats {
    uint64_t consumed;       /* records the consumer handed over */
    uint64_t written;        /* writes Aerospike acknowledged */
    uint64_t deleted;        /* deletes Aerospike acknowledged (or found nothing to delete) */
    uint64_t skipped;        /* tombstones ignored by on-tombstone */
    uint64_t invalid;        /* records at fault (mapping or refused by the server) */
    uint64_t ignored;        /* invalid records ignored without a dead-letter topic */
    uint64_t dead_lettered;  /* invalid records delivered to a dead-letter topic */
    uint64_t retried;        /* retry-class failures tried again */
    uint64_t aerospike_errors; /* failed Aerospike commands (after the client's own retries) */
    size_t held;             /* consumed and not yet acknowledged */
    size_t writing;          /* commands in flight to Aerospike */
    size_t waiting_for_key;  /* records queued behind a write of the same key */
    int64_t lag;             /* consumer lag summed over assigned partitions; -1 unknown */
    size_t partitions;       /* assigned to this process */
    bool paused;             /* back-pressure: partitions paused */
    bool aerospike_ready;    /* the client knows a partition map */
    uint64_t committed;      /* partition offsets the broker confirmed */
    ak_histogram_t write_latency_us; /* from issuing a command to its answer */
} ak_inbound_stats_t;

/* Called once on the loop when the connector stopped by itself (kill-task,
 * retry timeout, a fatal consumer error) or after ak_inbound_stop finished
 * draining. failed is false only for a requested stop; message says why. */
typedef void (*ak_inbound_stopped_fn)(void *ctx, bool failed, const char *message);

/* Starts the connector on loop: Aerospike client, consumer (subscribed to
 * every configured topic), processing threads, dead-letter producers,
 * management API. cfg must outlive the connector. NULL with err naming what
 * failed (a consumer-prop librdkafka rejects is named with FILE:LINE). */
ak_inbound_t *ak_inbound_new(ak_loop_t *loop, const ak_inbound_config_t *cfg, ak_inbound_stopped_fn on_stopped,
                             void *ctx, ak_error_t *err);

/* Graceful stop (loop thread): consume nothing more, let records in flight
 * finish (up to timeout_ms; records still unfinished then are simply not
 * committed and will be read again), commit, then on_stopped(failed=false). */
void ak_inbound_stop(ak_inbound_t *ib, uint32_t timeout_ms);

/* Commits what is acknowledged, leaves the group, stops the threads and
 * frees everything. Call on the loop thread, with the loop not running or
 * from on_stopped's aftermath (not from inside a callback of ib). */
void ak_inbound_free(ak_inbound_t *ib);

void ak_inbound_stats(const ak_inbound_t *ib, ak_inbound_stats_t *out);
/* The management API's port (0 when service.manage is not configured). */
uint16_t ak_inbound_manage_port(const ak_inbound_t *ib);

/* Validates what --check can without serving or connecting: the
 * configuration was already loaded; this builds a mapper (every topic's
 * decoders) and has librdkafka check the consumer properties. */
ak_status_t ak_inbound_check(ak_loop_t *loop, const ak_inbound_config_t *cfg, ak_error_t *err);

#endif
