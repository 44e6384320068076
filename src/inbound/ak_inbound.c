/*
 * The inbound connector's run time: consumer -> map -> key gate -> client
 * -> acknowledge (ak_inbound.h explains the flow and the failure classes).
 */
#include "inbound/ak_inbound.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/ak_client.h"
#include "common/ak_arena.h"
#include "common/ak_log.h"
#include "inbound/ak_inbound_internal.h"
#include "inbound/ak_inbound_map.h"
#include "inbound/ak_key_order.h"
#include "kafka/ak_consumer.h"
#include "kafka/ak_dead_letter.h"
#include "wire/ak_result.h"

#define AK_IB_RETRY_FIRST_MS 100u
#define AK_IB_ARENA_CHUNK 2048u
#define AK_IB_MAX_THREADS 64
/* Writes handed to the client at once; the rest wait here in order. More
 * only lengthens the client's queues (and its timeout heap) without
 * writing any faster: the client keeps 1024 per node on the wire. */
#ifndef AK_IB_MAX_WRITING
#define AK_IB_MAX_WRITING 4096
#endif
/* Records mapped ahead of the client: mapping all max-queued-records at
 * once spread their arenas over tens of megabytes, cold again by the time
 * each was written (measured: cache misses and page faults were a third
 * of the loop thread). The rest wait, unmapped, in consumption order. */
#ifndef AK_IB_MAP_AHEAD
#define AK_IB_MAP_AHEAD 4096
#endif
/* A processing thread takes this many records per lock. */
#define AK_IB_WORK_BATCH 32

static void ak_ib_dispatch_retry_map(ak_inbound_t *ib, ak_ib_item_t *item);
static void ak_ib_pump_writes(ak_inbound_t *ib);
static void ak_ib_leave_ahead(ak_inbound_t *ib, ak_ib_item_t *item);

/* ------------------------------------------------------------ items */

/* Appends item to a FIFO linked through item->next. */
static void ak_ib_fifo_push(ak_ib_item_t **head, ak_ib_item_t **tail, ak_ib_item_t *item)
{
    item->next = NULL;
    if (*tail)
        (*tail)->next = item;
    else
        *head = item;
    *tail = item;
}

static ak_ib_item_t *ak_ib_item_get(ak_inbound_t *ib)
{
    ak_ib_item_t *item = ib->free_items;
    if (item) {
        ib->free_items = item->next;
    } else {
        item = calloc(1, sizeof *item);
        if (!item)
            return NULL;
        ak_arena_init(&item->arena, AK_IB_ARENA_CHUNK);
        item->all_next = ib->all_items;
        ib->all_items = item;
    }
    item->next = NULL;
    item->ahead = false;
    item->attempts = 0;
    item->first_failure_ms = 0;
    item->retry_timer = 0;
    item->map_result = AK_INBOUND_MAP_OK;
    item->err.message[0] = '\0';
    return item;
}

static void ak_ib_item_put(ak_inbound_t *ib, ak_ib_item_t *item)
{
    /* Mapping resets the arena before use; here only a big record's extra
     * chunks are given back (the first chunk stays with the item). */
    if (item->arena.total_allocated > AK_IB_ARENA_CHUNK)
        ak_arena_reset(&item->arena);
    item->msg = NULL;
    item->next = ib->free_items;
    ib->free_items = item;
}

/* ------------------------------------------------------------ stopping */

static void ak_ib_stopped(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_inbound_t *ib = arg;
    if (ib->stop_timer) {
        ak_loop_timer_cancel(ib->loop, ib->stop_timer);
        ib->stop_timer = 0;
    }
    if (ib->reported_stop)
        return;
    ib->reported_stop = true;
    if (ib->on_stopped)
        ib->on_stopped(ib->ctx, ib->failed, ib->failed ? ib->failure : "stopped");
}

static void ak_ib_on_drained(void *ctx)
{
    ak_inbound_t *ib = ctx;
    ak_log(AK_LOG_INFO, "inbound", "every record in flight is finished");
    ak_ib_stopped(ib->loop, ib);
}

static void ak_ib_stop_timeout(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_inbound_t *ib = arg;
    ib->stop_timer = 0;
    ak_log(AK_LOG_WARN, "inbound",
           "stopping with %zu records unfinished: their offsets are not committed, they will be read again",
           ib->held);
    ak_ib_stopped(ib->loop, ib);
}

static void ak_ib_begin_stop(ak_inbound_t *ib, uint32_t timeout_ms)
{
    if (ib->stopping)
        return;
    ib->stopping = true;
    ib->stop_timer = ak_loop_timer(ib->loop, timeout_ms ? timeout_ms : 1, ak_ib_stop_timeout, ib);
    ak_consumer_stop(ib->consumer, ak_ib_on_drained, ib);
}

/* After a failure nothing new is written; once no write is outstanding the
 * stop is reported (records left unacknowledged are read again next time). */
static void ak_ib_maybe_stopped(ak_inbound_t *ib)
{
    if (ib->failed && !ib->closing && ib->writing == 0)
        ak_ib_stopped(ib->loop, ib);
}

/* The connector cannot go on (kill-task, retry timeout, fatal consumer
 * error): stop consuming, let other records finish briefly, report. */
static void ak_ib_fail(ak_inbound_t *ib, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ak_ib_fail(ak_inbound_t *ib, const char *fmt, ...)
{
    if (ib->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ib->failure, sizeof ib->failure, fmt, ap);
    va_end(ap);
    ib->failed = true;
    ak_log(AK_LOG_ERROR, "inbound", "stopping the connector: %s", ib->failure);
    ak_ib_begin_stop(ib, 5000);
    ak_ib_maybe_stopped(ib);
}

void ak_inbound_stop(ak_inbound_t *ib, uint32_t timeout_ms)
{
    ak_log(AK_LOG_INFO, "inbound", "stopping: finishing %zu records in flight (up to %u s)", ib->held,
           timeout_ms / 1000);
    ak_ib_begin_stop(ib, timeout_ms);
}

/* ------------------------------------------------------------ finishing */

static void ak_ib_issue(ak_inbound_t *ib, ak_ib_item_t *item);

/* The record is done (written, skipped, ignored or dead-lettered): free its
 * key for the next record of that key, acknowledge its offset, resume
 * consuming when enough room came free. */
static void ak_ib_finish(ak_inbound_t *ib, ak_ib_item_t *item, bool gated)
{
    if (gated) {
        void *next = NULL;
        if (ak_key_order_release(ib->key_order, item->rec.digest, &next)) {
            ib->waiting_for_key--;
            ak_ib_issue(ib, next);
        }
    }
    ak_consumer_ack(ib->consumer, item->msg);
    ib->held--;
    ak_ib_item_put(ib, item);
    if (ib->paused && ib->held < (size_t)ib->cfg->max_queued_records / 2) {
        ib->paused = false;
        ak_log(AK_LOG_DEBUG, "inbound", "resuming: %zu records held", ib->held);
        ak_consumer_resume(ib->consumer);
    }
}

/* ------------------------------------------------------------ dead letters */

static ak_dead_letter_t *ak_ib_dead_letter_for(ak_inbound_t *ib, const char *topic, ak_error_t *err);

static void ak_ib_on_dead_lettered(void *ctx, void *opaque, int error, const char *errstr)
{
    ak_inbound_t *ib = ctx;
    ak_ib_item_t *item = opaque;
    if (ib->closing)
        return; /* dead-letter producers are freed last: acknowledge nothing now */
    if (error == 0) {
        ib->stats.dead_lettered++;
        ak_ib_finish(ib, item, item->gated);
        return;
    }
    /* Not in the dead-letter topic: the offset must not be committed. */
    ak_ib_fail(ib, "topic %s, partition %d, offset %lld: cannot produce to the dead-letter topic: %s",
               item->msg->topic, (int)item->msg->partition, (long long)item->msg->offset,
               errstr ? errstr : "?");
}

/* The record is at fault. stage and class name it for the dead-letter
 * headers; result_code is the server's answer (< -100: none). */
static void ak_ib_invalid(ak_inbound_t *ib, ak_ib_item_t *item, const char *stage, const char *class_name,
                          int result_code, const char *message)
{
    ib->stats.invalid++;
    const ak_inbound_topic_config_t *topic = item->topic;
    if (topic->invalid_record == AK_INBOUND_INVALID_KILL_TASK) {
        ak_ib_fail(ib, "%s (invalid-record: kill-task)", message);
        return;
    }
    if (topic->errors.dlq_topic) {
        ak_error_t err;
        ak_dead_letter_t *dlq = ak_ib_dead_letter_for(ib, topic->errors.dlq_topic, &err);
        ak_dead_letter_reason_t reason = {stage, class_name, message, result_code > -100, result_code};
        if (!dlq || ak_dead_letter_send(dlq, item->msg, &reason, item, &err) != AK_OK) {
            ak_ib_fail(ib, "%s: cannot dead-letter it to %s: %s", message, topic->errors.dlq_topic, err.message);
            return;
        }
        ak_log(AK_LOG_WARN, "inbound", "dead-lettering to %s: %s", topic->errors.dlq_topic, message);
        return; /* finished by ak_ib_on_dead_lettered */
    }
    ib->stats.ignored++;
    ak_log(AK_LOG_WARN, "inbound", "ignoring an invalid record: %s", message);
    ak_ib_finish(ib, item, item->gated);
}

/* ------------------------------------------------------------ retries */

static void ak_ib_retry_now(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_ib_item_t *item = arg;
    ak_inbound_t *ib = item->ib;
    item->retry_timer = 0;
    ib->retrying--;
    if (ib->failed) {
        ib->abandoned++; /* left unacknowledged: read again at the next start */
        return;
    }
    ib->stats.retried++;
    if (item->map_result == AK_INBOUND_MAP_RETRY) {
        ak_ib_dispatch_retry_map(ib, item);
        return;
    }
    ak_ib_issue(ib, item);
}

/* Not the record's fault: wait and try the same record again. The wait
 * doubles from 100 ms to errors.retry.delay.max.ms, with jitter so that
 * records failing together do not come back together. */
static void ak_ib_retry_later(ak_inbound_t *ib, ak_ib_item_t *item, const char *why)
{
    const ak_inbound_errors_t *errors = &item->topic->errors;
    uint64_t now = ak_loop_now_ms(ib->loop);
    if (!item->first_failure_ms)
        item->first_failure_ms = now ? now : 1;
    if (errors->retry_timeout_ms >= 0 && now - item->first_failure_ms > (uint64_t)errors->retry_timeout_ms) {
        ak_ib_fail(ib, "topic %s, partition %d, offset %lld: still failing after errors.retry.timeout (%lld ms): %s",
                   item->msg->topic, (int)item->msg->partition, (long long)item->msg->offset,
                   (long long)errors->retry_timeout_ms, why);
        return;
    }
    uint64_t cap = errors->retry_delay_max_ms > 0 ? (uint64_t)errors->retry_delay_max_ms : AK_IB_RETRY_FIRST_MS;
    uint64_t delay = AK_IB_RETRY_FIRST_MS;
    for (int i = 0; i < item->attempts && delay < cap; i++)
        delay *= 2;
    if (delay > cap)
        delay = cap;
    /* full jitter in [delay/2, delay] */
    ib->rng = ib->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    delay = delay / 2 + (ib->rng >> 33) % (delay / 2 + 1);
    item->attempts++;
    if (item->attempts == 1 || item->attempts % 10 == 0)
        ak_log(AK_LOG_WARN, "inbound", "topic %s, partition %d, offset %lld: %s; trying again in %llu ms (attempt %d)",
               item->msg->topic, (int)item->msg->partition, (long long)item->msg->offset, why,
               (unsigned long long)delay, item->attempts + 1);
    ib->retrying++;
    item->retry_timer = ak_loop_timer(ib->loop, delay, ak_ib_retry_now, item);
}

/* ------------------------------------------------------------ writing */

/* Failures that are not the record's fault: a transient state of the
 * cluster, or its configuration refusing every record alike (security:
 * codes 50-89, e.g. a user without write permission; FORBIDDEN, e.g. TTLs
 * on a namespace without nsup; ENTERPRISE_ONLY, e.g. durable deletes on
 * Community Edition). Dead-lettering them would empty the topic into the
 * dead-letter topic; retrying keeps them until it is fixed, or until
 * errors.retry.timeout stops the connector. */
static bool ak_ib_retry_class(int code)
{
    if (code < 0)
        return code != AK_CLIENT_ERR_PARAM; /* connection, node, queue, TLS, client closing */
    if (code >= 50 && code < 90)
        return true;
    if (code == AK_RESULT_FORBIDDEN || code == AK_RESULT_ENTERPRISE_ONLY)
        return true;
    return ak_result_is_retryable(code);
}

static void ak_ib_on_written(const ak_client_result_t *result, void *arg)
{
    ak_ib_item_t *item = arg;
    ak_inbound_t *ib = item->ib;
    ib->writing--;
    if (ib->closing)
        return; /* the client is being freed: nothing is acknowledged now */
    ak_ib_pump_writes(ib);
    uint64_t now = ak_clock_us();
    ak_histogram_record(&ib->stats.write_latency_us, now > item->issued_us ? now - item->issued_us : 0);
    bool is_delete = item->rec.op != AK_RECORD_WRITE;
    if (result->result_code == AK_RESULT_OK ||
        (is_delete && result->result_code == AK_RESULT_NOT_FOUND)) {
        if (is_delete)
            ib->stats.deleted++;
        else
            ib->stats.written++;
        ak_ib_finish(ib, item, true);
        ak_ib_maybe_stopped(ib);
        return;
    }
    ib->stats.aerospike_errors++;
    char why[640];
    snprintf(why, sizeof why, "Aerospike %s failed: %d %s%s%s%s", is_delete ? "delete" : "write",
             result->result_code, result->name ? result->name : "", result->in_doubt ? " (in doubt)" : "",
             result->message && *result->message ? ": " : "", result->message ? result->message : "");
    if (ib->stopping) {
        /* shutting down: leave it unacknowledged, it is read again */
        ib->abandoned++;
        ak_ib_maybe_stopped(ib);
        return;
    }
    if (ak_ib_retry_class(result->result_code)) {
        ak_ib_retry_later(ib, item, why);
        return;
    }
    char message[900];
    snprintf(message, sizeof message, "topic %s, partition %d, offset %lld: %s", item->msg->topic,
             (int)item->msg->partition, (long long)item->msg->offset, why);
    ak_ib_invalid(ib, item, "TASK_PUT", "AerospikeException", result->result_code, message);
}

static void ak_ib_issue_now(ak_inbound_t *ib, ak_ib_item_t *item)
{
    ak_ib_leave_ahead(ib, item);
    const ak_inbound_operation_t *op = &item->topic->operation;
    ak_client_policy_t policy;
    ak_client_policy_init(&policy);
    policy.max_retries = (int)op->max_retries;
    policy.total_timeout_ms = (uint32_t)op->total_timeout_ms;
    policy.socket_timeout_ms = (uint32_t)op->socket_timeout_ms;
    policy.send_key = op->send_key;
    ak_error_t err;
    item->issued_us = ak_clock_us();
    if (ak_client_put(ib->client, &item->rec, &policy, ak_ib_on_written, item, &err) != AK_OK) {
        char message[900];
        snprintf(message, sizeof message, "topic %s, partition %d, offset %lld: %s", item->msg->topic,
                 (int)item->msg->partition, (long long)item->msg->offset, err.message);
        ak_ib_invalid(ib, item, "TASK_PUT", "AerospikeException", -1000, message);
        return;
    }
    ib->writing++;
}

static void ak_ib_issue(ak_inbound_t *ib, ak_ib_item_t *item)
{
    if (ib->writing < AK_IB_MAX_WRITING && !ib->write_wait_head) {
        ak_ib_issue_now(ib, item);
        return;
    }
    ak_ib_fifo_push(&ib->write_wait_head, &ib->write_wait_tail, item);
}

/* A write finished: hand the client the next ones that waited. */
static void ak_ib_pump_writes(ak_inbound_t *ib)
{
    while (!ib->failed && ib->writing < AK_IB_MAX_WRITING && ib->write_wait_head) {
        ak_ib_item_t *item = ib->write_wait_head;
        ib->write_wait_head = item->next;
        if (!ib->write_wait_head)
            ib->write_wait_tail = NULL;
        item->next = NULL;
        ak_ib_issue_now(ib, item);
    }
}

/* ------------------------------------------------------------ mapping */

static void ak_ib_map(ak_inbound_mapper_t *mapper, ak_ib_item_t *item)
{
    const ak_consumer_msg_t *msg = item->msg;
    /* Headers are not read by the mapping; the dead-letter queue copies
     * them from the consumer's message itself. */
    ak_inbound_kafka_record_t in = {
        .topic = msg->topic,
        .topic_len = strlen(msg->topic),
        .partition = msg->partition,
        .offset = msg->offset,
        .timestamp_ms = msg->timestamp_ms,
        .key = msg->key,
        .key_len = msg->key_len,
        .value = msg->value,
        .value_len = msg->value_len,
        .headers = NULL,
        .n_headers = 0,
    };
    ak_arena_reset(&item->arena);
    item->map_result = ak_inbound_map(mapper, &in, &item->arena, &item->rec, &item->err);
}

/* After mapping, in consumption order: skip, fail, or pass the key gate. */
static void ak_ib_dispatch(ak_inbound_t *ib, ak_ib_item_t *item)
{
    item->gated = false;
    if (ib->failed || item->map_result != AK_INBOUND_MAP_OK)
        ak_ib_leave_ahead(ib, item);
    if (ib->failed) {
        /* kill-task and the like stop at the failing record: what follows
         * is neither written nor acknowledged */
        ib->abandoned++;
        return;
    }
    switch (item->map_result) {
    case AK_INBOUND_MAP_SKIP:
        ib->stats.skipped++;
        ak_log(AK_LOG_DEBUG, "inbound", "skipping: %s", item->err.message);
        ak_ib_finish(ib, item, false);
        return;
    case AK_INBOUND_MAP_INVALID:
        ak_ib_invalid(ib, item, "VALUE_CONVERTER", "DataException", -1000, item->err.message);
        return;
    case AK_INBOUND_MAP_RETRY:
        ak_ib_retry_later(ib, item, item->err.message);
        return;
    case AK_INBOUND_MAP_OK:
        break;
    }
    item->gated = true;
    switch (ak_key_order_try_acquire(ib->key_order, item->rec.digest, item)) {
    case AK_KEY_ORDER_ACQUIRED:
        ak_ib_issue(ib, item);
        return;
    case AK_KEY_ORDER_QUEUED:
        ib->waiting_for_key++;
        return;
    case AK_KEY_ORDER_FULL:
        /* cannot happen: the gate holds as many records as may be held */
        ak_ib_fail(ib, "the per-key gate is full (%zu records held)", ib->held);
        return;
    }
}

static void ak_ib_dispatch_retry_map(ak_inbound_t *ib, ak_ib_item_t *item)
{
    /* a Schema Registry outage: map again, on the loop thread's mapper */
    ak_ib_map(ib->loop_mapper, item);
    ak_ib_dispatch(ib, item);
}

/* Mapped items go back to the loop in consumption order: the in-order
 * list is walked from its head while its items are mapped. */
static void ak_ib_drain_ordered(ak_inbound_t *ib)
{
    while (ib->order_head && atomic_load_explicit(&ib->order_head->mapped_flag, memory_order_acquire)) {
        ak_ib_item_t *item = ib->order_head;
        ib->order_head = item->order_next;
        if (!ib->order_head)
            ib->order_tail = NULL;
        item->order_next = NULL;
        ak_ib_dispatch(ib, item);
    }
}

static void ak_ib_on_mapped(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_inbound_t *ib = arg;
    atomic_store_explicit(&ib->wake_posted, false, memory_order_release);
    ak_ib_drain_ordered(ib);
}

static void *ak_ib_worker_main(void *arg)
{
    ak_ib_worker_t *worker = arg;
    ak_inbound_t *ib = worker->ib;
    pthread_mutex_lock(&ib->work_lock);
    for (;;) {
        while (!ib->work_head && !ib->work_stop)
            pthread_cond_wait(&ib->work_cond, &ib->work_lock);
        if (ib->work_stop)
            break;
        /* A batch per lock; what is left stays for the other threads. */
        ak_ib_item_t *batch = ib->work_head, *last = batch;
        for (int n = 1; n < AK_IB_WORK_BATCH && last->next; n++)
            last = last->next;
        ib->work_head = last->next;
        if (!ib->work_head)
            ib->work_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&ib->work_lock);
        for (ak_ib_item_t *item = batch, *next; item; item = next) {
            next = item->next;
            ak_ib_map(worker->mapper, item);
            atomic_store_explicit(&item->mapped_flag, true, memory_order_release);
        }
        if (!atomic_exchange_explicit(&ib->wake_posted, true, memory_order_acq_rel))
            ak_loop_post(ib->loop, ak_ib_on_mapped, ib);
        pthread_mutex_lock(&ib->work_lock);
    }
    pthread_mutex_unlock(&ib->work_lock);
    return NULL;
}

/* Hands consumed records to the processing threads, in consumption order,
 * while fewer than AK_IB_MAP_AHEAD are mapped ahead of the client; one
 * lock for all of them. */
static void ak_ib_feed(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_inbound_t *ib = arg;
    ib->feed_scheduled = false;
    if (!ib->to_map_head || ib->ahead >= AK_IB_MAP_AHEAD)
        return;
    ak_ib_item_t *first = ib->to_map_head, *last = first;
    first->ahead = true;
    ib->ahead++;
    while (last->next && ib->ahead < AK_IB_MAP_AHEAD) {
        last = last->next;
        last->ahead = true;
        ib->ahead++;
    }
    ib->to_map_head = last->next;
    if (!ib->to_map_head)
        ib->to_map_tail = NULL;
    last->next = NULL;
    pthread_mutex_lock(&ib->work_lock);
    if (ib->work_tail)
        ib->work_tail->next = first;
    else
        ib->work_head = first;
    ib->work_tail = last;
    pthread_cond_broadcast(&ib->work_cond);
    pthread_mutex_unlock(&ib->work_lock);
}

static void ak_ib_schedule_feed(ak_inbound_t *ib)
{
    if (ib->feed_scheduled || !ib->to_map_head || ib->ahead >= AK_IB_MAP_AHEAD)
        return;
    if (ak_loop_defer(ib->loop, ak_ib_feed, ib))
        ib->feed_scheduled = true;
    else
        ak_ib_feed(ib->loop, ib);
}

/* The item no longer counts against AK_IB_MAP_AHEAD: it went to the
 * client, or finished without it. */
static void ak_ib_leave_ahead(ak_inbound_t *ib, ak_ib_item_t *item)
{
    if (!item->ahead)
        return;
    item->ahead = false;
    ib->ahead--;
    ak_ib_schedule_feed(ib);
}

/* ------------------------------------------------------------ consuming */

static void ak_ib_on_message(void *ctx, const ak_consumer_msg_t *msg)
{
    ak_inbound_t *ib = ctx;
    ib->stats.consumed++;
    ib->held++;
    if (!ib->paused && ib->held >= (size_t)ib->cfg->max_queued_records) {
        ib->paused = true;
        ib->pauses++;
        ak_log(AK_LOG_DEBUG, "inbound", "pausing: %zu records held (max-queued-records)", ib->held);
        ak_consumer_pause(ib->consumer);
    }
    ak_ib_item_t *item = ak_ib_item_get(ib);
    if (!item) {
        ak_ib_fail(ib, "out of memory holding a consumed record");
        return;
    }
    item->ib = ib;
    item->msg = msg;
    item->topic = ak_inbound_config_topic(ib->cfg, msg->topic, strlen(msg->topic));
    if (!item->topic) {
        /* subscribed by a pattern the configuration has no entry for */
        snprintf(item->err.message, sizeof item->err.message,
                 "topic %s, partition %d, offset %lld: no entry under topics: for this topic", msg->topic,
                 (int)msg->partition, (long long)msg->offset);
        ak_ib_fail(ib, "%s", item->err.message);
        ak_ib_item_put(ib, item);
        return;
    }
    if (ib->n_workers == 0) {
        /* processing-threads 1: map right here, on the loop thread */
        ak_ib_map(ib->loop_mapper, item);
        ak_ib_dispatch(ib, item);
        return;
    }
    atomic_store_explicit(&item->mapped_flag, false, memory_order_relaxed);
    item->order_next = NULL;
    if (ib->order_tail)
        ib->order_tail->order_next = item;
    else
        ib->order_head = item;
    ib->order_tail = item;
    ak_ib_fifo_push(&ib->to_map_head, &ib->to_map_tail, item);
    ak_ib_schedule_feed(ib);
}

static void ak_ib_on_assign(void *ctx, const rd_kafka_topic_partition_list_t *parts, bool lost)
{
    (void)ctx;
    (void)lost;
    for (int i = 0; i < parts->cnt; i++)
        ak_log(AK_LOG_INFO, "inbound", "assigned %s[%d]", parts->elems[i].topic, (int)parts->elems[i].partition);
}

static void ak_ib_on_revoke(void *ctx, const rd_kafka_topic_partition_list_t *parts, bool lost)
{
    (void)ctx;
    for (int i = 0; i < parts->cnt; i++)
        ak_log(AK_LOG_INFO, "inbound", "%s %s[%d]: finishing its records in flight before releasing it",
               lost ? "lost" : "revoked", parts->elems[i].topic, (int)parts->elems[i].partition);
}

static void ak_ib_on_consumer_error(void *ctx, int error, const char *message, bool fatal)
{
    ak_inbound_t *ib = ctx;
    (void)error;
    if (fatal) {
        ak_ib_fail(ib, "Kafka consumer: %s", message);
        return;
    }
    ak_log(AK_LOG_WARN, "inbound", "Kafka consumer: %s", message);
}

/* ------------------------------------------------------------ dead-letter producers */

static void ak_ib_props(const ak_inbound_config_t *cfg, ak_consumer_prop_t **props, char ***wheres, size_t *n)
{
    *n = cfg->consumer_props.n;
    *props = calloc(*n ? *n : 1, sizeof **props);
    *wheres = calloc(*n ? *n : 1, sizeof **wheres);
    for (size_t i = 0; *props && *wheres && i < *n; i++) {
        const ak_config_pair_t *p = &cfg->consumer_props.items[i];
        (*props)[i].name = p->name;
        (*props)[i].value = p->value;
        if (p->line) {
            size_t len = strlen(cfg->path) + 16;
            (*wheres)[i] = malloc(len);
            if ((*wheres)[i])
                snprintf((*wheres)[i], len, "%s:%u", cfg->path, p->line);
        }
        (*props)[i].where = (*wheres)[i];
    }
}

static ak_dead_letter_t *ak_ib_dead_letter_for(ak_inbound_t *ib, const char *topic, ak_error_t *err)
{
    for (size_t i = 0; i < ib->n_dlq; i++)
        if (strcmp(ib->dlq[i].topic, topic) == 0)
            return ib->dlq[i].dlq;
    ak_error_set(err, AK_ERR_INVALID_ARG, "no dead-letter producer for topic %s", topic);
    return NULL;
}

static ak_status_t ak_ib_open_dead_letters(ak_inbound_t *ib, ak_error_t *err)
{
    size_t n_topics = ak_inbound_config_topic_count(ib->cfg);
    ib->dlq = calloc(n_topics ? n_topics : 1, sizeof *ib->dlq);
    if (!ib->dlq)
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    for (size_t t = 0; t < n_topics; t++) {
        const ak_inbound_topic_config_t *topic = ak_inbound_config_topic_at(ib->cfg, t);
        const char *name = topic->errors.dlq_topic;
        if (!name)
            continue;
        bool have = false;
        for (size_t i = 0; i < ib->n_dlq; i++)
            have |= strcmp(ib->dlq[i].topic, name) == 0;
        if (have)
            continue;
        ak_dead_letter_options_t opts = {0};
        opts.topic = name;
        opts.props = ib->props;
        opts.prop_count = ib->n_props;
        opts.from_consumer_props = true;
        opts.context_headers = topic->errors.dlq_context_headers;
        opts.connector_name = "aerokafka-inbound";
        opts.on_done = ak_ib_on_dead_lettered;
        opts.ctx = ib;
        ak_dead_letter_t *dlq = ak_dead_letter_new(ib->loop, &opts, err);
        if (!dlq) {
            ak_error_prefix(err, "topics.%s.errors.deadletterqueue.topic.name", topic->name);
            return AK_ERR_INVALID_ARG;
        }
        ib->dlq[ib->n_dlq].topic = name;
        ib->dlq[ib->n_dlq].dlq = dlq;
        ib->n_dlq++;
    }
    return AK_OK;
}

/* ------------------------------------------------------------ stats line */

static void ak_ib_stats_line(ak_loop_t *loop, void *arg)
{
    ak_inbound_t *ib = arg;
    ak_inbound_stats_t s;
    ak_inbound_stats(ib, &s);
    uint64_t now = ak_loop_now_ms(loop);
    double secs = (double)(now - ib->last_line_ms) / 1000.0;
    uint64_t done = s.written + s.deleted;
    ak_log(AK_LOG_INFO, "inbound",
           "stats: consumed %llu, written %llu, deleted %llu (%.0f/s), skipped %llu, invalid %llu "
           "(dead-lettered %llu, ignored %llu), retried %llu, held %zu, writing %zu, lag %lld, "
           "write p50 %llu us p99 %llu us%s",
           (unsigned long long)s.consumed, (unsigned long long)s.written, (unsigned long long)s.deleted,
           secs > 0 ? (double)(done - ib->last_line_done) / secs : 0.0, (unsigned long long)s.skipped,
           (unsigned long long)s.invalid, (unsigned long long)s.dead_lettered, (unsigned long long)s.ignored,
           (unsigned long long)s.retried, s.held, s.writing, (long long)s.lag,
           (unsigned long long)ak_histogram_percentile(&s.write_latency_us, 50),
           (unsigned long long)ak_histogram_percentile(&s.write_latency_us, 99), s.paused ? ", paused" : "");
    ib->last_line_ms = now;
    ib->last_line_done = done;
    ib->stats_timer = ak_loop_timer(loop, ib->stats_interval_ms, ak_ib_stats_line, ib);
}

/* ------------------------------------------------------------ lifecycle */

static void ak_ib_on_ready(ak_client_t *client, void *arg)
{
    (void)client;
    (void)arg;
    ak_log(AK_LOG_INFO, "inbound", "Aerospike cluster found: partition map known");
}

static char *ak_ib_seeds(const ak_inbound_aerospike_t *as)
{
    ak_buf_t b;
    ak_buf_init(&b);
    for (size_t i = 0; i < as->n_seeds; i++) {
        char port[16];
        snprintf(port, sizeof port, "%lld", (long long)as->seeds[i].port);
        if (i)
            ak_buf_append_byte(&b, ',');
        ak_buf_append_str(&b, as->seeds[i].host);
        if (as->tls.enabled && as->seeds[i].tls_name) {
            ak_buf_append_byte(&b, ':');
            ak_buf_append_str(&b, as->seeds[i].tls_name);
        }
        ak_buf_append_byte(&b, ':');
        ak_buf_append_str(&b, port);
    }
    ak_buf_append_byte(&b, '\0');
    if (ak_buf_failed(&b)) {
        ak_buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

static int ak_ib_thread_count(const ak_inbound_config_t *cfg)
{
    long n = cfg->processing_threads > 0 ? (long)cfg->processing_threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > AK_IB_MAX_THREADS)
        n = AK_IB_MAX_THREADS;
    return (int)n;
}

ak_inbound_t *ak_inbound_new(ak_loop_t *loop, const ak_inbound_config_t *cfg, ak_inbound_stopped_fn on_stopped,
                             void *ctx, ak_error_t *err)
{
    ak_inbound_t *ib = calloc(1, sizeof *ib);
    if (!ib) {
        ak_error_set(err, AK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ib->loop = loop;
    ib->cfg = cfg;
    ib->on_stopped = on_stopped;
    ib->ctx = ctx;
    ib->rng = (uint64_t)ak_clock_us() | 1;
    /* logging.ticker-interval (default 10 s); 0: no stats line, as documented */
    ib->stats_interval_ms = (uint32_t)cfg->logging.ticker_interval_s * 1000u;
    ak_histogram_init(&ib->stats.write_latency_us);
    pthread_mutex_init(&ib->work_lock, NULL);
    pthread_cond_init(&ib->work_cond, NULL);
    ib->locks_ready = true;

    /* Processing threads: with 1, the loop thread maps records itself;
     * with more, that many threads map and the loop thread keeps order. */
    int threads = ak_ib_thread_count(cfg);
    ib->loop_mapper = ak_inbound_mapper_new(cfg, err);
    if (!ib->loop_mapper)
        goto fail;
    if (threads > 1) {
        ib->workers = calloc((size_t)threads, sizeof *ib->workers);
        if (!ib->workers) {
            ak_error_set(err, AK_ERR_NOMEM, "out of memory");
            goto fail;
        }
        ib->n_workers = threads;
        for (int i = 0; i < threads; i++) {
            ib->workers[i].ib = ib;
            ib->workers[i].mapper = ak_inbound_mapper_new(cfg, err);
            if (!ib->workers[i].mapper)
                goto fail;
        }
    }

    size_t capacity = (size_t)cfg->max_queued_records + 1024; /* overshoot of one fetch */
    ib->key_order = ak_key_order_new(capacity, err);
    if (!ib->key_order)
        goto fail;

    ak_client_config_t cc;
    ak_client_config_init(&cc);
    ib->seeds = ak_ib_seeds(&cfg->aerospike);
    if (!ib->seeds) {
        ak_error_set(err, AK_ERR_NOMEM, "out of memory");
        goto fail;
    }
    cc.seeds = ib->seeds;
    cc.cluster_name = cfg->aerospike.cluster_name;
    if (cfg->aerospike.credentials) {
        cc.user = cfg->aerospike.credentials->username;
        cc.password = cfg->aerospike.credentials->password;
    }
    cc.tls_enable = cfg->aerospike.tls.enabled;
    cc.tls_ca_file = cfg->aerospike.tls.ca_file;
    cc.tls_cert_file = cfg->aerospike.tls.cert_file;
    cc.tls_key_file = cfg->aerospike.tls.key_file;
    cc.tls_protocols = (const char *const *)cfg->aerospike.tls.protocols.items;
    cc.n_tls_protocols = cfg->aerospike.tls.protocols.n;
    cc.tls_ciphers = (const char *const *)cfg->aerospike.tls.ciphers.items;
    cc.n_tls_ciphers = cfg->aerospike.tls.ciphers.n;
    cc.max_conns_per_node = (int)cfg->aerospike.max_connections_per_node;
    cc.tend_interval_ms = (uint32_t)cfg->aerospike.tend_interval_ms;
    cc.conn_timeout_ms = (uint32_t)cfg->aerospike.connect_timeout_ms;
    cc.login_timeout_ms = (uint32_t)cfg->aerospike.login_timeout_ms;
    cc.max_queued = capacity * 2;
    cc.on_ready = ak_ib_on_ready;
    cc.on_ready_arg = ib;
    ib->client = ak_client_new(loop, &cc, err);
    if (!ib->client) {
        ak_error_prefix(err, "aerospike");
        goto fail;
    }

    char **wheres = NULL;
    ak_ib_props(cfg, &ib->props, &wheres, &ib->n_props);
    ib->wheres = wheres;
    if (!ib->props || !ib->wheres) {
        ak_error_set(err, AK_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (ak_ib_open_dead_letters(ib, err) != AK_OK)
        goto fail;

    size_t n_topics = ak_inbound_config_topic_count(cfg);
    ib->topic_names = calloc(n_topics ? n_topics : 1, sizeof *ib->topic_names);
    if (!ib->topic_names) {
        ak_error_set(err, AK_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t t = 0; t < n_topics; t++)
        ib->topic_names[t] = ak_inbound_config_topic_at(cfg, t)->name;
    ak_consumer_options_t co = {0};
    co.topics = ib->topic_names;
    co.topic_count = n_topics;
    co.props = ib->props;
    co.prop_count = ib->n_props;
    co.on_message = ak_ib_on_message;
    co.on_assign = ak_ib_on_assign;
    co.on_revoke = ak_ib_on_revoke;
    co.on_error = ak_ib_on_consumer_error;
    co.ctx = ib;
    ib->consumer = ak_consumer_new(loop, &co, err);
    if (!ib->consumer) {
        ak_error_prefix(err, "consumer-props");
        goto fail;
    }

    if (cfg->manage.enabled && ak_ib_manage_start(ib, err) != AK_OK)
        goto fail;

    for (int i = 0; i < ib->n_workers; i++) {
        if (pthread_create(&ib->workers[i].thread, NULL, ak_ib_worker_main, &ib->workers[i]) != 0) {
            ak_error_set(err, AK_ERR_IO, "cannot start processing thread %d: %s", i, strerror(errno));
            goto fail;
        }
        ib->workers[i].started = true;
    }
    ak_log(AK_LOG_INFO, "inbound", "%d processing thread%s, up to %lld records held", threads,
           threads == 1 ? " (the event loop's)" : "s", (long long)cfg->max_queued_records);
    ib->last_line_ms = ak_loop_now_ms(loop);
    if (ib->stats_interval_ms)
        ib->stats_timer = ak_loop_timer(loop, ib->stats_interval_ms, ak_ib_stats_line, ib);
    return ib;
fail:
    ak_inbound_free(ib);
    return NULL;
}

void ak_inbound_free(ak_inbound_t *ib)
{
    if (!ib)
        return;
    ib->closing = true;
    ib->stopping = true;
    if (ib->stats_timer)
        ak_loop_timer_cancel(ib->loop, ib->stats_timer);
    if (ib->stop_timer)
        ak_loop_timer_cancel(ib->loop, ib->stop_timer);
    if (ib->locks_ready) {
        pthread_mutex_lock(&ib->work_lock);
        ib->work_stop = true;
        pthread_cond_broadcast(&ib->work_cond);
        pthread_mutex_unlock(&ib->work_lock);
    }
    for (int i = 0; ib->workers && i < ib->n_workers; i++)
        if (ib->workers[i].started)
            pthread_join(ib->workers[i].thread, NULL);
    ak_ib_manage_stop(ib);
    for (ak_ib_item_t *it = ib->all_items; it; it = it->all_next)
        if (it->retry_timer)
            ak_loop_timer_cancel(ib->loop, it->retry_timer);
    /* The client first: its pending commands complete (as failures, which
     * closing makes no-ops) while the items they point to still exist. */
    if (ib->client)
        ak_client_free(ib->client);
    ib->client = NULL;
    if (ib->consumer)
        ak_consumer_free(ib->consumer); /* commits what was acknowledged */
    for (size_t i = 0; i < ib->n_dlq; i++)
        ak_dead_letter_free(ib->dlq[i].dlq, 0);
    free(ib->dlq);
    for (int i = 0; ib->workers && i < ib->n_workers; i++)
        ak_inbound_mapper_free(ib->workers[i].mapper);
    free(ib->workers);
    ak_inbound_mapper_free(ib->loop_mapper);
    ak_key_order_free(ib->key_order);
    for (ak_ib_item_t *it = ib->all_items, *next; it; it = next) {
        next = it->all_next;
        ak_arena_destroy(&it->arena);
        free(it);
    }
    for (size_t i = 0; ib->wheres && i < ib->n_props; i++)
        free(ib->wheres[i]);
    free(ib->wheres);
    free(ib->props);
    free(ib->topic_names);
    free(ib->seeds);
    if (ib->locks_ready) {
        pthread_mutex_destroy(&ib->work_lock);
        pthread_cond_destroy(&ib->work_cond);
    }
    free(ib);
}

void ak_inbound_stats(const ak_inbound_t *ib, ak_inbound_stats_t *out)
{
    *out = ib->stats;
    out->held = ib->held;
    out->writing = ib->writing;
    out->waiting_for_key = ib->waiting_for_key;
    out->paused = ib->paused;
    /* Reachable: a partition map is known and at least one node answers
     * (the client drops nodes that miss three tends in a row). */
    out->aerospike_ready = false;
    if (ib->client && ak_client_is_ready(ib->client)) {
        ak_client_stats_t cs;
        ak_client_stats(ib->client, &cs);
        for (int i = 0; i < cs.n_nodes && i < (int)(sizeof cs.nodes / sizeof cs.nodes[0]); i++)
            out->aerospike_ready |= cs.nodes[i].active;
    }
    out->lag = -1;
    if (ib->consumer) {
        ak_consumer_stats_t cs;
        ak_consumer_stats(ib->consumer, &cs);
        out->lag = cs.lag;
        out->partitions = cs.partitions;
        out->committed = cs.commits;
    }
}

ak_status_t ak_inbound_check(ak_loop_t *loop, const ak_inbound_config_t *cfg, ak_error_t *err)
{
    (void)loop;
    ak_inbound_mapper_t *mapper = ak_inbound_mapper_new(cfg, err);
    if (!mapper)
        return AK_ERR_INVALID_ARG;
    ak_inbound_mapper_free(mapper);
    ak_consumer_prop_t *props = NULL;
    char **wheres = NULL;
    size_t n = 0;
    ak_ib_props(cfg, &props, &wheres, &n);
    ak_status_t st = AK_OK;
    if (!props || !wheres) {
        st = ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    } else {
        static const char *const any_topic[] = {"check"};
        ak_consumer_options_t co = {0};
        co.topics = any_topic;
        co.topic_count = 1;
        co.props = props;
        co.prop_count = n;
        co.on_message = ak_ib_on_message;
        st = ak_consumer_check(&co, err);
    }
    for (size_t i = 0; wheres && i < n; i++)
        free(wheres[i]);
    free(wheres);
    free(props);
    return st;
}
