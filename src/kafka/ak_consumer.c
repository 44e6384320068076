#include "kafka/ak_consumer.h"

#include "common/ak_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define AK_CONSUMER_DEFAULT_COMMIT_MS 5000u
#define AK_CONSUMER_DEFAULT_QUEUED_MIN_MESSAGES "1000000"
/* The queue is drained at least this often even without a wake-up, so
 * librdkafka's max.poll.interval.ms never sees an idle application. */
#define AK_CONSUMER_MAX_TICK_MS 1000u
/* Acked entries kept for reuse instead of freed. */
#define AK_CONSUMER_FREE_ENTRIES_MAX 1024

typedef struct ak_consumer_part ak_consumer_part_t;

/* A fetched message. msg is first so the application's pointer leads back
 * to the entry. */
typedef struct ak_consumer_entry {
    ak_consumer_msg_t msg;
    rd_kafka_message_t *rkm; /* NULL once acked */
    ak_consumer_part_t *part;
    struct ak_consumer_entry *next;
    bool acked;
} ak_consumer_entry_t;

typedef struct ak_consumer_topic ak_consumer_topic_t;

struct ak_consumer_part {
    ak_consumer_topic_t *topic;
    int32_t id;
    bool revoking;
    int64_t position;    /* after the last contiguously acked message; -1 before any */
    int64_t committed;   /* confirmed by the broker; -1 none yet */
    int64_t commit_sent; /* last position sent in a commit; -1 none */
    size_t in_flight;
    /* Handed out, in offset order; acked ones leave from the head only,
     * which is what makes `position` safe to commit. */
    ak_consumer_entry_t *out_head, *out_tail;
    /* Fetched while paused, not yet handed out. */
    ak_consumer_entry_t *held_head, *held_tail;
};

struct ak_consumer_topic {
    char *name;
    ak_consumer_part_t **parts; /* indexed by partition id */
    int32_t n_parts;
};

struct ak_consumer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* the consumer queue; the main queue is forwarded to it */
    ak_loop_t *loop;
    ak_io_t wake_io;
    int wake_fd;
    bool io_started;

    ak_consumer_msg_fn on_message;
    ak_consumer_partitions_fn on_assign;
    ak_consumer_partitions_fn on_revoke;
    ak_consumer_error_fn on_error;
    void *ctx;
    uint32_t commit_interval_ms;
    uint64_t next_commit_ms;

    ak_consumer_topic_t **topics;
    size_t n_topics;

    ak_consumer_entry_t *free_entries;
    size_t n_free_entries;

    bool paused;      /* the application asked: hand nothing out */
    bool fetch_paused; /* librdkafka's partitions paused too (a long pause) */
    uint64_t long_pause_timer;
    bool stopped;
    bool closing;
    bool draining; /* inside ak_consumer_drain: do not re-enter */

    /* A revoke waiting for acks: the partitions, whether they were lost,
     * and whether to finish with rd_kafka_assign(NULL) (eager protocol, or a
     * rebalance error) rather than incremental_unassign. */
    rd_kafka_topic_partition_list_t *revoking;
    bool revoke_lost;
    bool revoke_all;

    uint64_t tick_timer;
    uint64_t resume_timer;
    uint64_t finish_timer;
    uint64_t drained_timer;
    ak_consumer_drained_fn on_drained;
    void *drained_ctx;

    size_t in_flight;
    size_t held;
    size_t n_parts;
    ak_consumer_stats_t stats;
};

/* ---- partitions ------------------------------------------------------- */

static ak_consumer_part_t *ak_consumer_part_find(const ak_consumer_t *cons, const char *topic,
                                                 int32_t partition)
{
    for (size_t i = 0; i < cons->n_topics; i++) {
        ak_consumer_topic_t *t = cons->topics[i];
        if (strcmp(t->name, topic) == 0)
            return partition >= 0 && partition < t->n_parts ? t->parts[partition] : NULL;
    }
    return NULL;
}

static ak_consumer_part_t *ak_consumer_part_add(ak_consumer_t *cons, const char *topic,
                                                int32_t partition)
{
    if (partition < 0)
        return NULL;
    ak_consumer_topic_t *t = NULL;
    for (size_t i = 0; i < cons->n_topics && !t; i++)
        if (strcmp(cons->topics[i]->name, topic) == 0)
            t = cons->topics[i];
    if (!t) {
        ak_consumer_topic_t **topics = realloc(cons->topics, (cons->n_topics + 1) * sizeof *topics);
        if (!topics)
            return NULL;
        cons->topics = topics;
        t = calloc(1, sizeof *t);
        if (!t || !(t->name = strdup(topic))) {
            free(t);
            return NULL;
        }
        cons->topics[cons->n_topics++] = t;
    }
    if (partition >= t->n_parts) {
        int32_t n = partition + 1;
        ak_consumer_part_t **parts = realloc(t->parts, (size_t)n * sizeof *parts);
        if (!parts)
            return NULL;
        for (int32_t i = t->n_parts; i < n; i++)
            parts[i] = NULL;
        t->parts = parts;
        t->n_parts = n;
    }
    if (t->parts[partition])
        return t->parts[partition];
    ak_consumer_part_t *part = calloc(1, sizeof *part);
    if (!part)
        return NULL;
    part->topic = t;
    part->id = partition;
    part->position = part->committed = part->commit_sent = -1;
    t->parts[partition] = part;
    cons->n_parts++;
    return part;
}

static void ak_consumer_entry_release(ak_consumer_t *cons, ak_consumer_entry_t *entry)
{
    if (entry->rkm)
        rd_kafka_message_destroy(entry->rkm);
    entry->rkm = NULL;
    if (cons->n_free_entries < AK_CONSUMER_FREE_ENTRIES_MAX) {
        entry->next = cons->free_entries;
        cons->free_entries = entry;
        cons->n_free_entries++;
    } else {
        free(entry);
    }
}

/* Drops the messages held for part (never handed out: they are re-read by
 * whoever consumes the partition next). */
static void ak_consumer_part_drop_held(ak_consumer_t *cons, ak_consumer_part_t *part)
{
    while (part->held_head) {
        ak_consumer_entry_t *entry = part->held_head;
        part->held_head = entry->next;
        cons->held--;
        cons->stats.dropped++;
        ak_consumer_entry_release(cons, entry);
    }
    part->held_tail = NULL;
}

/* Forgets part. Entries still handed out (only at ak_consumer_free) are
 * destroyed with it. */
static void ak_consumer_part_remove(ak_consumer_t *cons, ak_consumer_part_t *part)
{
    ak_consumer_part_drop_held(cons, part);
    while (part->out_head) {
        ak_consumer_entry_t *entry = part->out_head;
        part->out_head = entry->next;
        if (!entry->acked)
            cons->in_flight--;
        ak_consumer_entry_release(cons, entry);
    }
    part->topic->parts[part->id] = NULL;
    cons->n_parts--;
    free(part);
}

static void ak_consumer_remove_list(ak_consumer_t *cons, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        ak_consumer_part_t *part = ak_consumer_part_find(cons, parts->elems[i].topic, parts->elems[i].partition);
        if (part)
            ak_consumer_part_remove(cons, part);
    }
}

static void ak_consumer_remove_all(ak_consumer_t *cons)
{
    for (size_t i = 0; i < cons->n_topics; i++)
        for (int32_t p = 0; p < cons->topics[i]->n_parts; p++)
            if (cons->topics[i]->parts[p])
                ak_consumer_part_remove(cons, cons->topics[i]->parts[p]);
}

/* ---- errors ------------------------------------------------------------ */

static void ak_consumer_report(ak_consumer_t *cons, int err, bool fatal, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ak_consumer_report(ak_consumer_t *cons, int err, bool fatal, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    cons->stats.errors++;
    if (cons->on_error)
        cons->on_error(cons->ctx, err, message, fatal);
    else
        ak_log(fatal ? AK_LOG_ERROR : AK_LOG_WARN, "kafka", "consumer: %s", message);
}

/* ---- commits ----------------------------------------------------------- */

/* The broker's answer to a commit, async (served by the consumer queue) or
 * sync (served inside rd_kafka_commit_queue). */
static void ak_consumer_committed(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    ak_consumer_t *cons = opaque;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET || !offsets)
        return;
    for (int i = 0; i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
        rd_kafka_resp_err_t perr = err ? err : tp->err;
        ak_consumer_part_t *part = ak_consumer_part_find(cons, tp->topic, tp->partition);
        if (perr) {
            cons->stats.commit_failures++;
            if (part && part->commit_sent == tp->offset)
                part->commit_sent = part->committed; /* retried at the next tick */
            ak_consumer_report(cons, perr, false, "commit of %s [%d] offset %lld failed: %s", tp->topic,
                               (int)tp->partition, (long long)tp->offset, rd_kafka_err2str(perr));
            continue;
        }
        cons->stats.commits++;
        if (part && tp->offset > part->committed)
            part->committed = tp->offset;
    }
}

/* Adds part's position to list when it moved past what was sent (async) or
 * confirmed (sync). */
static void ak_consumer_commit_add(rd_kafka_topic_partition_list_t *list, ak_consumer_part_t *part,
                                   bool sync)
{
    if (part->position < 0)
        return;
    if (part->position == (sync ? part->committed : part->commit_sent))
        return;
    rd_kafka_topic_partition_list_add(list, part->topic->name, part->id)->offset = part->position;
    part->commit_sent = part->position;
}

static ak_status_t ak_consumer_commit_list(ak_consumer_t *cons, rd_kafka_topic_partition_list_t *list,
                                           bool sync, ak_error_t *err)
{
    if (list->cnt == 0)
        return AK_OK;
    rd_kafka_resp_err_t rc = rd_kafka_commit_queue(cons->rk, list, sync ? NULL : cons->queue,
                                                   ak_consumer_committed, cons);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR && !(sync && rc == RD_KAFKA_RESP_ERR__NO_OFFSET))
        return ak_error_set(err, AK_ERR_IO, "commit of %d partition offsets (first %s [%d] offset %lld): %s",
                            list->cnt, list->elems[0].topic, (int)list->elems[0].partition,
                            (long long)list->elems[0].offset, rd_kafka_err2str(rc));
    return AK_OK;
}

ak_status_t ak_consumer_commit(ak_consumer_t *cons, bool sync, ak_error_t *err)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)cons->n_parts + 1);
    bool lost_revoke = cons->revoking && cons->revoke_lost;
    for (size_t i = 0; i < cons->n_topics; i++)
        for (int32_t p = 0; p < cons->topics[i]->n_parts; p++) {
            ak_consumer_part_t *part = cons->topics[i]->parts[p];
            /* Lost partitions belong to another member: their commit would
             * be refused, and must not be attempted. */
            if (part && !(part->revoking && lost_revoke))
                ak_consumer_commit_add(list, part, sync);
        }
    ak_status_t st = ak_consumer_commit_list(cons, list, sync, err);
    rd_kafka_topic_partition_list_destroy(list);
    return st;
}

/* ---- handing out ------------------------------------------------------- */

static void ak_consumer_hand_out(ak_consumer_t *cons, ak_consumer_entry_t *entry)
{
    ak_consumer_part_t *part = entry->part;
    entry->next = NULL;
    if (part->out_tail)
        part->out_tail->next = entry;
    else
        part->out_head = entry;
    part->out_tail = entry;
    part->in_flight++;
    cons->in_flight++;
    cons->stats.consumed++;
    /* entry may be acked and recycled inside the callback. */
    cons->on_message(cons->ctx, &entry->msg);
}

static ak_consumer_entry_t *ak_consumer_entry_new(ak_consumer_t *cons)
{
    ak_consumer_entry_t *entry = cons->free_entries;
    if (entry) {
        cons->free_entries = entry->next;
        cons->n_free_entries--;
        memset(entry, 0, sizeof *entry);
        return entry;
    }
    return calloc(1, sizeof *entry);
}

static void ak_consumer_handle(ak_consumer_t *cons, rd_kafka_message_t *rkm)
{
    const char *topic = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : NULL;
    if (rkm->err) {
        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            bool fatal = rkm->err == RD_KAFKA_RESP_ERR__FATAL;
            char reason[512];
            if (fatal)
                rd_kafka_fatal_error(cons->rk, reason, sizeof reason);
            else
                snprintf(reason, sizeof reason, "%s", rd_kafka_message_errstr(rkm));
            if (topic)
                ak_consumer_report(cons, rkm->err, fatal, "%s [%d]: %s", topic, (int)rkm->partition, reason);
            else
                ak_consumer_report(cons, rkm->err, fatal, "%s", reason);
        }
        rd_kafka_message_destroy(rkm);
        return;
    }
    ak_consumer_part_t *part = topic ? ak_consumer_part_find(cons, topic, rkm->partition) : NULL;
    if (!part || part->revoking || cons->stopped) {
        cons->stats.dropped++;
        rd_kafka_message_destroy(rkm);
        return;
    }
    ak_consumer_entry_t *entry = ak_consumer_entry_new(cons);
    if (!entry) {
        /* Not handing it out keeps the offset uncommitted: it is read again
         * after a restart or rebalance. */
        ak_consumer_report(cons, RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE, true,
                           "no memory to track %s [%d] offset %lld", topic, (int)rkm->partition,
                           (long long)rkm->offset);
        rd_kafka_message_destroy(rkm);
        return;
    }
    rd_kafka_timestamp_type_t ts_type;
    int64_t ts = rd_kafka_message_timestamp(rkm, &ts_type);
    entry->rkm = rkm;
    entry->part = part;
    entry->msg = (ak_consumer_msg_t){
        .topic = topic,
        .partition = rkm->partition,
        .offset = rkm->offset,
        .key = rkm->key,
        .key_len = rkm->key ? rkm->key_len : 0,
        .value = rkm->payload,
        .value_len = rkm->payload ? rkm->len : 0,
        .timestamp_ms = ts_type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts,
        .rkmessage = rkm,
    };
    /* Held messages go first: a partition's messages are handed out in
     * offset order, which the commit position relies on. */
    if (cons->paused || part->held_head) {
        entry->next = NULL;
        if (part->held_tail)
            part->held_tail->next = entry;
        else
            part->held_head = entry;
        part->held_tail = entry;
        cons->held++;
        return;
    }
    ak_consumer_hand_out(cons, entry);
}

/* Paused for a short while: polling stops, librdkafka's partitions stay
 * fetching (see ak_consumer_drain). */
static bool ak_consumer_soft_paused(const ak_consumer_t *cons)
{
    return cons->paused && !cons->fetch_paused && !cons->stopped && !cons->closing;
}

/* Serves everything queued: messages, rebalances, commit results, errors.
 * Never blocks. */
static void ak_consumer_drain(ak_consumer_t *cons)
{
    if (cons->draining)
        return;
    /* A short pause just stops polling: fetched messages wait in
     * librdkafka's queue (bounded by queued.max.messages.kbytes) and its
     * fetcher stops once that is full. Pausing librdkafka's partitions
     * instead discards what was fetched and re-fetches it after the resume:
     * under the quick pause/resume cycles of a busy connector that starves
     * partitions. Only a long pause (see ak_consumer_pause) pauses them, so
     * that polling can go on for rebalances and max.poll.interval.ms. A
     * pause taken by a message handed out here stops the polling too
     * (ak_consumer_resume drains again). */
    cons->draining = true;
    rd_kafka_message_t *rkm;
    while (!cons->closing && !ak_consumer_soft_paused(cons) && (rkm = rd_kafka_consumer_poll(cons->rk, 0)) != NULL)
        ak_consumer_handle(cons, rkm);
    cons->draining = false;
}

static void ak_consumer_on_wake(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    (void)events;
    ak_consumer_t *cons = io->data;
    uint64_t count;
    ssize_t n = read(cons->wake_fd, &count, sizeof count);
    (void)n;
    ak_consumer_drain(cons);
}

/* ---- pause and resume --------------------------------------------------- */

static void ak_consumer_pause_resume_list(ak_consumer_t *cons, rd_kafka_topic_partition_list_t *list,
                                          bool pause)
{
    if (list->cnt == 0)
        return;
    rd_kafka_resp_err_t rc = pause ? rd_kafka_pause_partitions(cons->rk, list)
                                   : rd_kafka_resume_partitions(cons->rk, list);
    if (rc)
        ak_consumer_report(cons, rc, false, "%s of %d partitions: %s", pause ? "pause" : "resume",
                           list->cnt, rd_kafka_err2str(rc));
}

/* The current assignment minus partitions being revoked. */
static rd_kafka_topic_partition_list_t *ak_consumer_active_list(const ak_consumer_t *cons)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)cons->n_parts + 1);
    for (size_t i = 0; i < cons->n_topics; i++)
        for (int32_t p = 0; p < cons->topics[i]->n_parts; p++) {
            ak_consumer_part_t *part = cons->topics[i]->parts[p];
            if (part && !part->revoking)
                rd_kafka_topic_partition_list_add(list, part->topic->name, part->id);
        }
    return list;
}

#define AK_CONSUMER_LONG_PAUSE_MS 5000

static void ak_consumer_long_pause(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_consumer_t *cons = arg;
    cons->long_pause_timer = 0;
    if (!cons->paused || cons->fetch_paused)
        return;
    cons->fetch_paused = true;
    rd_kafka_topic_partition_list_t *list = ak_consumer_active_list(cons);
    ak_consumer_pause_resume_list(cons, list, true);
    rd_kafka_topic_partition_list_destroy(list);
    ak_consumer_drain(cons); /* polling again: rebalances, liveness */
}

void ak_consumer_pause(ak_consumer_t *cons)
{
    if (cons->paused)
        return;
    cons->paused = true;
    if (!cons->long_pause_timer && !cons->fetch_paused)
        cons->long_pause_timer = ak_loop_timer(cons->loop, AK_CONSUMER_LONG_PAUSE_MS, ak_consumer_long_pause, cons);
}

/* Hands out held messages until none is left or the application pauses
 * again. */
static void ak_consumer_flush_held(ak_consumer_t *cons)
{
    for (size_t i = 0; i < cons->n_topics; i++)
        for (int32_t p = 0; p < cons->topics[i]->n_parts; p++) {
            ak_consumer_part_t *part;
            while (!cons->paused && !cons->stopped && (part = cons->topics[i]->parts[p]) != NULL &&
                   part->held_head) {
                ak_consumer_entry_t *entry = part->held_head;
                part->held_head = entry->next;
                if (!part->held_head)
                    part->held_tail = NULL;
                cons->held--;
                ak_consumer_hand_out(cons, entry);
            }
        }
}

/* Drains after a resume from a fresh timer: the application may call
 * resume from inside a message callback. */
static void ak_consumer_resume_drain(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_consumer_t *cons = arg;
    cons->resume_timer = 0;
    ak_consumer_drain(cons);
}

void ak_consumer_resume(ak_consumer_t *cons)
{
    if (!cons->paused || cons->stopped)
        return;
    cons->paused = false;
    if (cons->long_pause_timer) {
        ak_loop_timer_cancel(cons->loop, cons->long_pause_timer);
        cons->long_pause_timer = 0;
    }
    if (cons->fetch_paused) {
        cons->fetch_paused = false;
        rd_kafka_topic_partition_list_t *list = ak_consumer_active_list(cons);
        ak_consumer_pause_resume_list(cons, list, false);
        rd_kafka_topic_partition_list_destroy(list);
    }
    ak_consumer_flush_held(cons);
    /* librdkafka signals its queue only after a poll: what waited in it
     * during the pause is picked up now. */
    if (!cons->paused && !cons->resume_timer)
        cons->resume_timer = ak_loop_timer(cons->loop, 0, ak_consumer_resume_drain, cons);
}

bool ak_consumer_paused(const ak_consumer_t *cons)
{
    return cons->paused;
}

/* ---- rebalances ---------------------------------------------------------- */

static bool ak_consumer_cooperative(const ak_consumer_t *cons)
{
    return strcmp(rd_kafka_rebalance_protocol(cons->rk), "COOPERATIVE") == 0;
}

static void ak_consumer_unassign(ak_consumer_t *cons, const rd_kafka_topic_partition_list_t *parts,
                                 bool all)
{
    if (all || !ak_consumer_cooperative(cons)) {
        rd_kafka_resp_err_t rc = rd_kafka_assign(cons->rk, NULL);
        if (rc)
            ak_consumer_report(cons, rc, false, "unassign: %s", rd_kafka_err2str(rc));
        return;
    }
    rd_kafka_error_t *error = rd_kafka_incremental_unassign(cons->rk, parts);
    if (error) {
        ak_consumer_report(cons, rd_kafka_error_code(error), false, "incremental unassign of %d partitions: %s",
                           parts->cnt, rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

static bool ak_consumer_revoke_ready(const ak_consumer_t *cons)
{
    const rd_kafka_topic_partition_list_t *list = cons->revoking;
    for (int i = 0; i < list->cnt; i++) {
        ak_consumer_part_t *part = ak_consumer_part_find(cons, list->elems[i].topic, list->elems[i].partition);
        if (part && part->in_flight > 0)
            return false;
    }
    return true;
}

/* Every message of the revoked partitions is acked: commit them (unless
 * lost) and release them to the group. */
static void ak_consumer_finish_revoke(ak_consumer_t *cons)
{
    rd_kafka_topic_partition_list_t *revoked = cons->revoking;
    if (!revoked || !ak_consumer_revoke_ready(cons))
        return;
    cons->revoking = NULL;
    if (!cons->revoke_lost) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(revoked->cnt);
        for (int i = 0; i < revoked->cnt; i++) {
            ak_consumer_part_t *part = ak_consumer_part_find(cons, revoked->elems[i].topic, revoked->elems[i].partition);
            if (part)
                ak_consumer_commit_add(list, part, true);
        }
        ak_error_t err;
        if (ak_consumer_commit_list(cons, list, true, &err) != AK_OK)
            ak_consumer_report(cons, RD_KAFKA_RESP_ERR__FAIL, false, "on revoke: %s", err.message);
        rd_kafka_topic_partition_list_destroy(list);
    }
    ak_consumer_remove_list(cons, revoked);
    ak_consumer_unassign(cons, revoked, cons->revoke_all);
    rd_kafka_topic_partition_list_destroy(revoked);
}

static void ak_consumer_finish_revoke_timer(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_consumer_t *cons = arg;
    cons->finish_timer = 0;
    ak_consumer_finish_revoke(cons);
}

static void ak_consumer_assign(ak_consumer_t *cons, rd_kafka_topic_partition_list_t *parts)
{
    cons->stats.assigns++;
    for (int i = 0; i < parts->cnt; i++) {
        ak_consumer_part_t *part = ak_consumer_part_add(cons, parts->elems[i].topic, parts->elems[i].partition);
        if (!part)
            ak_consumer_report(cons, RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE, true,
                               "no memory to track %s [%d]", parts->elems[i].topic,
                               (int)parts->elems[i].partition);
    }
    if (ak_consumer_cooperative(cons)) {
        rd_kafka_error_t *error = rd_kafka_incremental_assign(cons->rk, parts);
        if (error) {
            ak_consumer_report(cons, rd_kafka_error_code(error), false, "incremental assign of %d partitions: %s",
                               parts->cnt, rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    } else {
        rd_kafka_resp_err_t rc = rd_kafka_assign(cons->rk, parts);
        if (rc)
            ak_consumer_report(cons, rc, false, "assign of %d partitions: %s", parts->cnt, rd_kafka_err2str(rc));
    }
    /* A full application stays paused across the rebalance; otherwise the
     * partitions are resumed explicitly, so a pause librdkafka may remember
     * from an earlier ownership of the same partition does not linger. */
    rd_kafka_topic_partition_list_t *copy = rd_kafka_topic_partition_list_copy(parts);
    ak_consumer_pause_resume_list(cons, copy, cons->fetch_paused || cons->stopped);
    rd_kafka_topic_partition_list_destroy(copy);
    if (cons->on_assign)
        cons->on_assign(cons->ctx, parts, false);
}

static void ak_consumer_revoke(ak_consumer_t *cons, const rd_kafka_topic_partition_list_t *parts,
                               bool lost, bool all)
{
    cons->stats.revokes++;
    if (cons->closing) {
        /* ak_consumer_free already committed; release at once. */
        ak_consumer_unassign(cons, parts, all);
        return;
    }
    if (!cons->revoking) {
        cons->revoking = rd_kafka_topic_partition_list_new(parts->cnt);
        cons->revoke_lost = false;
        cons->revoke_all = false;
    }
    cons->revoke_lost |= lost;
    cons->revoke_all |= all;
    for (int i = 0; i < parts->cnt; i++) {
        ak_consumer_part_t *part = ak_consumer_part_find(cons, parts->elems[i].topic, parts->elems[i].partition);
        if (!rd_kafka_topic_partition_list_find(cons->revoking, parts->elems[i].topic, parts->elems[i].partition))
            rd_kafka_topic_partition_list_add(cons->revoking, parts->elems[i].topic, parts->elems[i].partition);
        if (part) {
            part->revoking = true;
            ak_consumer_part_drop_held(cons, part);
        }
    }
    if (cons->on_revoke)
        cons->on_revoke(cons->ctx, parts, lost);
    ak_consumer_finish_revoke(cons);
}

static void ak_consumer_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    ak_consumer_t *cons = opaque;
    switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        ak_consumer_assign(cons, parts);
        break;
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        ak_consumer_revoke(cons, parts, rd_kafka_assignment_lost(rk) != 0, false);
        break;
    default: {
        /* librdkafka wants the whole assignment cleared; its partitions are
         * in doubt, so they are treated as lost. */
        ak_consumer_report(cons, err, false, "rebalance failed: %s", rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_t *all = NULL;
        if (rd_kafka_assignment(rk, &all) == RD_KAFKA_RESP_ERR_NO_ERROR && all) {
            ak_consumer_revoke(cons, all, true, true);
            rd_kafka_topic_partition_list_destroy(all);
        } else {
            rd_kafka_assign(rk, NULL);
        }
        break;
    }
    }
}

/* ---- acks, stop ----------------------------------------------------------- */

static void ak_consumer_drained_timer(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_consumer_t *cons = arg;
    cons->drained_timer = 0;
    ak_consumer_drained_fn fn = cons->on_drained;
    cons->on_drained = NULL;
    if (fn)
        fn(cons->drained_ctx);
}

void ak_consumer_ack(ak_consumer_t *cons, const ak_consumer_msg_t *msg)
{
    ak_consumer_entry_t *entry = (ak_consumer_entry_t *)msg;
    ak_consumer_part_t *part = entry->part;
    if (entry->acked)
        return;
    entry->acked = true;
    rd_kafka_message_destroy(entry->rkm);
    entry->rkm = NULL;
    part->in_flight--;
    cons->in_flight--;
    cons->stats.acked++;
    while (part->out_head && part->out_head->acked) {
        ak_consumer_entry_t *done = part->out_head;
        part->position = done->msg.offset + 1;
        part->out_head = done->next;
        if (!part->out_head)
            part->out_tail = NULL;
        ak_consumer_entry_release(cons, done);
    }
    if (part->revoking && part->in_flight == 0 && cons->revoking && !cons->finish_timer &&
        ak_consumer_revoke_ready(cons))
        cons->finish_timer = ak_loop_timer(cons->loop, 0, ak_consumer_finish_revoke_timer, cons);
    if (cons->stopped && cons->in_flight == 0 && cons->on_drained && !cons->drained_timer)
        cons->drained_timer = ak_loop_timer(cons->loop, 0, ak_consumer_drained_timer, cons);
}

void ak_consumer_stop(ak_consumer_t *cons, ak_consumer_drained_fn on_drained, void *ctx)
{
    if (!cons->stopped) {
        cons->stopped = true;
        for (size_t i = 0; i < cons->n_topics; i++)
            for (int32_t p = 0; p < cons->topics[i]->n_parts; p++)
                if (cons->topics[i]->parts[p])
                    ak_consumer_part_drop_held(cons, cons->topics[i]->parts[p]);
        /* Nothing more is handed out: stop fetching too. */
        rd_kafka_topic_partition_list_t *list = ak_consumer_active_list(cons);
        ak_consumer_pause_resume_list(cons, list, true);
        rd_kafka_topic_partition_list_destroy(list);
    }
    cons->on_drained = on_drained;
    cons->drained_ctx = ctx;
    if (on_drained && cons->in_flight == 0 && !cons->drained_timer)
        cons->drained_timer = ak_loop_timer(cons->loop, 0, ak_consumer_drained_timer, cons);
}

size_t ak_consumer_in_flight(const ak_consumer_t *cons)
{
    return cons->in_flight;
}

/* ---- the tick ---------------------------------------------------------------- */

static uint32_t ak_consumer_tick_ms(const ak_consumer_t *cons)
{
    return cons->commit_interval_ms < AK_CONSUMER_MAX_TICK_MS ? cons->commit_interval_ms
                                                               : AK_CONSUMER_MAX_TICK_MS;
}

static void ak_consumer_tick(ak_loop_t *loop, void *arg)
{
    ak_consumer_t *cons = arg;
    cons->tick_timer = ak_loop_timer(loop, ak_consumer_tick_ms(cons), ak_consumer_tick, cons);
    ak_consumer_drain(cons);
    uint64_t now = ak_loop_now_ms(loop);
    if (now >= cons->next_commit_ms) {
        cons->next_commit_ms = now + cons->commit_interval_ms;
        ak_error_t err;
        if (ak_consumer_commit(cons, false, &err) != AK_OK)
            ak_consumer_report(cons, RD_KAFKA_RESP_ERR__FAIL, false, "%s", err.message);
    }
}

/* ---- stats ------------------------------------------------------------------- */

static int64_t ak_consumer_part_lag(const ak_consumer_t *cons, const ak_consumer_part_t *part,
                                    int64_t *high_out, int64_t *position_out)
{
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(cons->rk, part->topic->name, part->id, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0)
        high = -1;
    /* Where a new owner would start: after the last contiguous ack, else at
     * the oldest message still tracked, else where librdkafka fetches next. */
    int64_t position = part->position;
    if (position < 0 && part->out_head)
        position = part->out_head->msg.offset;
    if (position < 0 && part->held_head)
        position = part->held_head->msg.offset;
    if (position < 0 && part->committed >= 0)
        position = part->committed;
    *high_out = high;
    *position_out = part->position;
    if (high < 0 || position < 0)
        return -1;
    return high > position ? high - position : 0;
}

void ak_consumer_stats(const ak_consumer_t *cons, ak_consumer_stats_t *out)
{
    *out = cons->stats;
    out->in_flight = cons->in_flight;
    out->held = cons->held;
    out->partitions = cons->n_parts;
    out->paused = cons->paused;
    out->revoking = cons->revoking != NULL;
    out->lag = -1;
    for (size_t i = 0; i < cons->n_topics; i++)
        for (int32_t p = 0; p < cons->topics[i]->n_parts; p++) {
            const ak_consumer_part_t *part = cons->topics[i]->parts[p];
            int64_t high, position;
            int64_t lag = part ? ak_consumer_part_lag(cons, part, &high, &position) : -1;
            if (lag >= 0)
                out->lag = (out->lag < 0 ? 0 : out->lag) + lag;
        }
}

size_t ak_consumer_partition_stats(const ak_consumer_t *cons, ak_consumer_partition_stats_t *out,
                                   size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < cons->n_topics; i++)
        for (int32_t p = 0; p < cons->topics[i]->n_parts; p++) {
            const ak_consumer_part_t *part = cons->topics[i]->parts[p];
            if (!part)
                continue;
            if (n < cap) {
                ak_consumer_partition_stats_t *ps = &out[n];
                memset(ps, 0, sizeof *ps);
                snprintf(ps->topic, sizeof ps->topic, "%s", part->topic->name);
                ps->partition = part->id;
                ps->lag = ak_consumer_part_lag(cons, part, &ps->high_watermark, &ps->position);
                ps->committed = part->committed;
                ps->in_flight = part->in_flight;
                ps->revoking = part->revoking;
            }
            n++;
        }
    return n;
}

bool ak_consumer_get_prop(const ak_consumer_t *cons, const char *name, char *out, size_t cap)
{
    const rd_kafka_conf_t *conf = rd_kafka_conf(cons->rk);
    size_t size = cap;
    return rd_kafka_conf_get(conf, name, out, &size) == RD_KAFKA_CONF_OK;
}

/* ---- creation ------------------------------------------------------------------ */

/* librdkafka's log lines join ours (syslog levels). */
static void ak_consumer_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    ak_log_level_t ours = level <= 3 ? AK_LOG_ERROR : level == 4 ? AK_LOG_WARN : level <= 6 ? AK_LOG_INFO : AK_LOG_DEBUG;
    ak_log(ours, "kafka", "%s: %s", fac, buf);
}

/* Client-wide errors (all brokers down, authentication...), served by the
 * consumer queue like everything else. */
static void ak_consumer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    ak_consumer_t *cons = opaque;
    bool fatal = err == RD_KAFKA_RESP_ERR__FATAL;
    char fatal_reason[512];
    if (fatal) {
        rd_kafka_fatal_error(rk, fatal_reason, sizeof fatal_reason);
        reason = fatal_reason;
    }
    ak_consumer_report(cons, err, fatal, "%s", reason);
}

static const ak_consumer_prop_t *ak_consumer_find_prop(const ak_consumer_options_t *opts, const char *name)
{
    const ak_consumer_prop_t *found = NULL;
    for (size_t i = 0; i < opts->prop_count; i++)
        if (strcmp(opts->props[i].name, name) == 0)
            found = &opts->props[i];
    return found;
}

static rd_kafka_conf_t *ak_consumer_conf(const ak_consumer_options_t *opts, ak_error_t *err)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Defaults the user's consumer-props override. librdkafka (2.0) stops
     * fetching once its queue holds queued.min.messages (100000) and looks
     * again only when its broker thread next wakes, up to a second later;
     * a busy connector drains 100000 small records in a fraction of that
     * and then waits with nothing to do (measured: 0.5 s stalls, a third
     * of the time idle). The byte bound, queued.max.messages.kbytes
     * (64 MB by default), still bounds the queue, and lasts longer. */
    rd_kafka_conf_set(conf, "queued.min.messages", AK_CONSUMER_DEFAULT_QUEUED_MIN_MESSAGES, errstr, sizeof errstr);
    for (size_t i = 0; i < opts->prop_count; i++) {
        const ak_consumer_prop_t *prop = &opts->props[i];
        if (rd_kafka_conf_set(conf, prop->name, prop->value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            ak_error_set(err, AK_ERR_INVALID_ARG, "%s%sconsumer-props.%s: %s (librdkafka), got \"%s\"",
                         prop->where ? prop->where : "", prop->where ? ": " : "", prop->name, errstr,
                         prop->value);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    /* Offsets are committed only once acknowledged; librdkafka's own
     * committing or storing would commit records still being written. */
    static const char *const forced[] = {"enable.auto.commit", "enable.auto.offset.store"};
    for (size_t i = 0; i < sizeof forced / sizeof forced[0]; i++) {
        char value[16];
        size_t size = sizeof value;
        if (rd_kafka_conf_get(conf, forced[i], value, &size) == RD_KAFKA_CONF_OK && strcmp(value, "true") == 0 &&
            ak_consumer_find_prop(opts, forced[i])) {
            const ak_consumer_prop_t *prop = ak_consumer_find_prop(opts, forced[i]);
            ak_error_set(err, AK_ERR_INVALID_ARG,
                         "%s%sconsumer-props.%s: must be false: aerokafka commits an offset only once "
                         "every record below it is written to Aerospike or dead-lettered",
                         prop->where ? prop->where : "", prop->where ? ": " : "", forced[i]);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
        rd_kafka_conf_set(conf, forced[i], "false", errstr, sizeof errstr);
    }
    char group[256];
    size_t size = sizeof group;
    if (rd_kafka_conf_get(conf, "group.id", group, &size) != RD_KAFKA_CONF_OK || group[0] == '\0') {
        ak_error_set(err, AK_ERR_INVALID_ARG,
                     "consumer-props.group.id is required: it names the consumer group whose members "
                     "share the topics' partitions");
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

ak_consumer_t *ak_consumer_new(ak_loop_t *loop, const ak_consumer_options_t *opts, ak_error_t *err)
{
    if (!opts->on_message) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "consumer: on_message is required");
        return NULL;
    }
    if (opts->topic_count == 0) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "consumer: no topic to subscribe to");
        return NULL;
    }
    rd_kafka_conf_t *conf = ak_consumer_conf(opts, err);
    if (!conf)
        return NULL;
    ak_consumer_t *cons = calloc(1, sizeof *cons);
    if (!cons) {
        rd_kafka_conf_destroy(conf);
        ak_error_set(err, AK_ERR_NOMEM, "no memory for a Kafka consumer");
        return NULL;
    }
    cons->loop = loop;
    cons->wake_fd = -1;
    cons->on_message = opts->on_message;
    cons->on_assign = opts->on_assign;
    cons->on_revoke = opts->on_revoke;
    cons->on_error = opts->on_error;
    cons->ctx = opts->ctx;
    cons->commit_interval_ms = opts->commit_interval_ms ? opts->commit_interval_ms : AK_CONSUMER_DEFAULT_COMMIT_MS;

    rd_kafka_conf_set_opaque(conf, cons);
    rd_kafka_conf_set_rebalance_cb(conf, ak_consumer_rebalance);
    rd_kafka_conf_set_error_cb(conf, ak_consumer_error_cb);
    rd_kafka_conf_set_log_cb(conf, ak_consumer_log);
    char errstr[512];
    cons->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!cons->rk) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "cannot create the Kafka consumer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        free(cons);
        return NULL;
    }
    /* Rebalances, errors and commit results then arrive with the messages. */
    rd_kafka_poll_set_consumer(cons->rk);
    cons->queue = rd_kafka_queue_get_consumer(cons->rk);
    cons->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (cons->wake_fd < 0) {
        ak_error_set(err, AK_ERR_IO, "eventfd: %s", strerror(errno));
        ak_consumer_free(cons);
        return NULL;
    }
    static const uint64_t one = 1;
    rd_kafka_queue_io_event_enable(cons->queue, cons->wake_fd, &one, sizeof one);
    ak_io_init(&cons->wake_io, cons->wake_fd, ak_consumer_on_wake, cons);
    if (ak_loop_io_start(loop, &cons->wake_io, AK_IO_READ, err) != AK_OK) {
        ak_consumer_free(cons);
        return NULL;
    }
    cons->io_started = true;

    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new((int)opts->topic_count);
    for (size_t i = 0; i < opts->topic_count; i++)
        rd_kafka_topic_partition_list_add(topics, opts->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rc = rd_kafka_subscribe(cons->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (rc) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "cannot subscribe to %s%s: %s", opts->topics[0],
                     opts->topic_count > 1 ? " and the other topics" : "", rd_kafka_err2str(rc));
        ak_consumer_free(cons);
        return NULL;
    }
    cons->next_commit_ms = ak_clock_ms() + cons->commit_interval_ms;
    cons->tick_timer = ak_loop_timer(loop, ak_consumer_tick_ms(cons), ak_consumer_tick, cons);
    return cons;
}

void ak_consumer_free(ak_consumer_t *cons)
{
    if (!cons)
        return;
    if (cons->tick_timer)
        ak_loop_timer_cancel(cons->loop, cons->tick_timer);
    if (cons->resume_timer)
        ak_loop_timer_cancel(cons->loop, cons->resume_timer);
    if (cons->long_pause_timer)
        ak_loop_timer_cancel(cons->loop, cons->long_pause_timer);
    if (cons->finish_timer)
        ak_loop_timer_cancel(cons->loop, cons->finish_timer);
    if (cons->drained_timer)
        ak_loop_timer_cancel(cons->loop, cons->drained_timer);
    if (cons->rk && cons->io_started) {
        ak_error_t err;
        if (ak_consumer_commit(cons, true, &err) != AK_OK)
            ak_consumer_report(cons, RD_KAFKA_RESP_ERR__FAIL, false, "at close: %s", err.message);
        /* A revoke still waiting gives up: what was acked is committed
         * above, the rest is read again by the next owner. */
        if (cons->revoking) {
            ak_consumer_unassign(cons, cons->revoking, cons->revoke_all);
            rd_kafka_topic_partition_list_destroy(cons->revoking);
            cons->revoking = NULL;
        }
        cons->closing = true;
        rd_kafka_consumer_close(cons->rk);
    }
    cons->closing = true;
    if (cons->io_started)
        ak_loop_io_stop(cons->loop, &cons->wake_io);
    if (cons->revoking)
        rd_kafka_topic_partition_list_destroy(cons->revoking);
    /* Messages hold references into the client: destroy them first. */
    ak_consumer_remove_all(cons);
    while (cons->free_entries) {
        ak_consumer_entry_t *entry = cons->free_entries;
        cons->free_entries = entry->next;
        free(entry);
    }
    if (cons->queue) {
        rd_kafka_queue_io_event_enable(cons->queue, -1, NULL, 0);
        rd_kafka_queue_destroy(cons->queue);
    }
    if (cons->rk)
        rd_kafka_destroy(cons->rk);
    if (cons->wake_fd >= 0)
        close(cons->wake_fd);
    for (size_t i = 0; i < cons->n_topics; i++) {
        free(cons->topics[i]->parts);
        free(cons->topics[i]->name);
        free(cons->topics[i]);
    }
    free(cons->topics);
    free(cons);
}

ak_status_t ak_consumer_check(const ak_consumer_options_t *opts, ak_error_t *err)
{
    rd_kafka_conf_t *conf = ak_consumer_conf(opts, err);
    if (!conf)
        return AK_ERR_INVALID_ARG;
    rd_kafka_conf_destroy(conf);
    return AK_OK;
}
