#include "dev/aerospike/ak_asd_xdr.h"

#include <stdlib.h>
#include <string.h>

#include "wire/ak_particle.h"
#include "wire/ak_record.h"

/* Retries wait a little so a connector that keeps answering "retry" is not
 * hammered in a tight loop; XDR likewise re-ships "later". */
#define AK_ASD_XDR_RETRY_DELAY_MS 100

typedef struct ak_asd_xdr_entry {
    struct ak_asd_xdr_entry *next;
    struct ak_asd_xdr_entry *inflight_next; /* while shipped and not answered */
    const ak_asd_namespace_t *ns;
    uint8_t digest[AK_DIGEST_SIZE];
    ak_asd_change_t change;
    /* For deletes: what the record was, since it is gone at ship time. */
    char set[AK_SET_MAX + 1];
    uint8_t set_len;
    bool has_key;
    uint8_t key_type;
    uint32_t key_len;
    uint8_t *key;
    /* The change as shipped, encoded when it happened: each change ships
     * the record version it made, in order. */
    uint8_t *frame;
    size_t frame_len;
} ak_asd_xdr_entry_t;

typedef struct ak_asd_xdr_queue {
    ak_asd_xdr_entry_t *head, *tail;
    size_t count;
} ak_asd_xdr_queue_t;

struct ak_asd_xdr {
    ak_loop_t *loop;
    ak_asd_store_t *store;
    ak_xdr_ship_t *ship;
    ak_asd_xdr_queue_t ready;
    ak_asd_xdr_queue_t retry;
    /* Like XDR, one record is never in flight twice: a change of a record
     * whose earlier change is still unanswered waits in `blocked` (in
     * order), so a connector never sees a record's changes out of order. */
    ak_asd_xdr_queue_t blocked;
    ak_asd_xdr_entry_t *inflight;
    size_t in_flight;
    size_t queue_limit;
    uint64_t dropped;
    uint64_t kick_timer;
    uint64_t retry_timer;
    ak_arena_t arena;
};

static void ak_queue_push(ak_asd_xdr_queue_t *q, ak_asd_xdr_entry_t *e)
{
    e->next = NULL;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    q->count++;
}

static ak_asd_xdr_entry_t *ak_queue_pop(ak_asd_xdr_queue_t *q)
{
    ak_asd_xdr_entry_t *e = q->head;
    if (!e)
        return NULL;
    q->head = e->next;
    if (!q->head)
        q->tail = NULL;
    q->count--;
    return e;
}

static void ak_entry_free(ak_asd_xdr_entry_t *e)
{
    free(e->key);
    free(e->frame);
    free(e);
}

static void ak_queue_free(ak_asd_xdr_queue_t *q)
{
    ak_asd_xdr_entry_t *e;
    while ((e = ak_queue_pop(q)))
        ak_entry_free(e);
}

static void ak_asd_xdr_deferred_kick(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_asd_xdr_t *xdr = arg;
    xdr->kick_timer = 0;
    ak_xdr_ship_kick(xdr->ship);
}

/* Changes are reported while a command is still running (a delete before
 * the record is removed), so shipping starts only after the current batch
 * of events (a zero-delay timer), when the store holds the final state. */
static void ak_asd_xdr_schedule_kick(ak_asd_xdr_t *xdr)
{
    if (xdr->kick_timer)
        return;
    xdr->kick_timer = ak_loop_timer(xdr->loop, 0, ak_asd_xdr_deferred_kick, xdr);
    if (!xdr->kick_timer)
        ak_xdr_ship_kick(xdr->ship);
}

static bool ak_asd_xdr_encode(ak_asd_xdr_t *xdr, ak_asd_xdr_entry_t *e, ak_buf_t *frame);

void ak_asd_xdr_on_change(void *ctx, const ak_asd_namespace_t *ns, const ak_asd_record_t *rec,
                          ak_asd_change_t change)
{
    ak_asd_xdr_t *xdr = ctx;
    if (xdr->ready.count + xdr->retry.count + xdr->blocked.count + xdr->in_flight >= xdr->queue_limit) {
        xdr->dropped++;
        return;
    }
    ak_asd_xdr_entry_t *e = calloc(1, sizeof *e);
    if (!e) {
        xdr->dropped++;
        return;
    }
    e->ns = ns;
    memcpy(e->digest, rec->digest, AK_DIGEST_SIZE);
    e->change = change;
    memcpy(e->set, rec->set, rec->set_len);
    e->set_len = rec->set_len;
    if (rec->has_key) {
        e->key = rec->key_len ? malloc(rec->key_len) : NULL;
        if (rec->key_len && !e->key) {
            free(e);
            xdr->dropped++;
            return;
        }
        if (rec->key_len)
            memcpy(e->key, rec->key, rec->key_len);
        e->key_len = rec->key_len;
        e->key_type = rec->key_type;
        e->has_key = true;
    }
    ak_buf_t frame;
    ak_buf_init(&frame);
    if (!ak_asd_xdr_encode(xdr, e, &frame) || ak_buf_failed(&frame)) {
        ak_buf_free(&frame);
        ak_entry_free(e);
        xdr->dropped++;
        return;
    }
    e->frame = frame.data;
    e->frame_len = frame.len;
    ak_queue_push(&xdr->ready, e);
    ak_asd_xdr_schedule_kick(xdr);
}

static bool ak_asd_xdr_key(ak_arena_t *arena, uint8_t type, const uint8_t *bytes, uint32_t len,
                           ak_value_t *key)
{
    return ak_particle_decode(type, bytes, len, 0, arena, key, NULL) == AK_OK;
}

/* Encodes the entry's change (called when it happens): a write ships the
 * record as it is now, a delete what is known of the record. Returns false
 * to drop the entry. */
static bool ak_asd_xdr_encode(ak_asd_xdr_t *xdr, ak_asd_xdr_entry_t *e, ak_buf_t *frame)
{
    ak_arena_reset(&xdr->arena);
    uint32_t now = ak_asd_now_void_time();
    ak_asd_namespace_t *ns = (ak_asd_namespace_t *)e->ns;
    /* only a write needs the stored record (and looking a deleted or
     * expiring one up would expire it again) */
    ak_asd_record_t *stored = e->change == AK_ASD_CHANGE_WRITE ? ak_asd_ns_get(ns, e->digest, now) : NULL;

    ak_record_t rec;
    ak_record_init(&rec);
    rec.xdr = true;
    rec.ns = (ak_str_t){ns->name, strlen(ns->name)};
    rec.has_digest = true;
    memcpy(rec.digest, e->digest, AK_DIGEST_SIZE);

    if (!stored || e->change != AK_ASD_CHANGE_WRITE) {
        rec.op = e->change == AK_ASD_CHANGE_DURABLE_DELETE ? AK_RECORD_DURABLE_DELETE : AK_RECORD_DELETE;
        rec.set = (ak_str_t){e->set, e->set_len};
        if (e->has_key)
            rec.has_key = ak_asd_xdr_key(&xdr->arena, e->key_type, e->key, e->key_len, &rec.key);
        rec.has_lut = true;
        rec.lut_ms = ak_asd_now_lut_ms() + (uint64_t)AK_CITRUSLEAF_EPOCH_MS;
        return ak_record_to_msg(&rec, 0, frame, NULL) == AK_OK;
    }

    rec.op = AK_RECORD_WRITE;
    rec.set = (ak_str_t){stored->set, stored->set_len};
    if (stored->has_key)
        rec.has_key = ak_asd_xdr_key(&xdr->arena, stored->key_type, stored->key, stored->key_len, &rec.key);
    rec.generation = stored->generation;
    rec.has_lut = true;
    rec.lut_ms = stored->lut_ms + (uint64_t)AK_CITRUSLEAF_EPOCH_MS;
    /* A relative TTL, as XDR writes carry; never-expiring records say so
     * explicitly (0 would mean "namespace default" to the receiver). */
    if (stored->void_time == 0)
        rec.ttl = AK_TTL_NEVER_EXPIRE;
    else
        rec.ttl = stored->void_time > now ? stored->void_time - now : 1;
    rec.n_bins = stored->n_bins;
    rec.bins = ak_arena_alloc_array(&xdr->arena, stored->n_bins ? stored->n_bins : 1, sizeof *rec.bins);
    if (!rec.bins)
        return false;
    for (uint16_t i = 0; i < stored->n_bins; i++) {
        const ak_asd_bin_t *bin = &stored->bins[i];
        ak_bin_t *out = &rec.bins[i];
        memset(out, 0, sizeof *out);
        out->name = (ak_str_t){bin->name, bin->name_len};
        if (ak_particle_decode(bin->particle_type, bin->data, bin->len, 0, &xdr->arena, &out->value,
                               NULL) != AK_OK)
            return false;
    }
    return ak_record_to_msg(&rec, 0, frame, NULL) == AK_OK;
}

static bool ak_asd_xdr_digest_in_flight(const ak_asd_xdr_t *xdr, const ak_asd_xdr_entry_t *e)
{
    for (const ak_asd_xdr_entry_t *f = xdr->inflight; f; f = f->inflight_next)
        if (f->ns == e->ns && memcmp(f->digest, e->digest, AK_DIGEST_SIZE) == 0)
            return true;
    return false;
}

static void ak_asd_xdr_inflight_remove(ak_asd_xdr_t *xdr, ak_asd_xdr_entry_t *e)
{
    for (ak_asd_xdr_entry_t **p = &xdr->inflight; *p; p = &(*p)->inflight_next) {
        if (*p == e) {
            *p = e->inflight_next;
            e->inflight_next = NULL;
            return;
        }
    }
}

static bool ak_asd_xdr_next(void *ctx, ak_buf_t *frame, uint64_t *token)
{
    ak_asd_xdr_t *xdr = ctx;
    ak_asd_xdr_entry_t *e;
    while ((e = ak_queue_pop(&xdr->ready))) {
        if (ak_asd_xdr_digest_in_flight(xdr, e)) {
            ak_queue_push(&xdr->blocked, e);
            continue;
        }
        size_t before = frame->len;
        ak_buf_append(frame, e->frame, e->frame_len);
        if (!ak_buf_failed(frame)) {
            xdr->in_flight++;
            e->inflight_next = xdr->inflight;
            xdr->inflight = e;
            *token = (uint64_t)(uintptr_t)e;
            return true;
        }
        frame->len = before;
        ak_entry_free(e);
    }
    return false;
}

static void ak_asd_xdr_release_retries(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_asd_xdr_t *xdr = arg;
    xdr->retry_timer = 0;
    ak_asd_xdr_entry_t *e;
    while ((e = ak_queue_pop(&xdr->retry)))
        ak_queue_push(&xdr->ready, e);
    ak_asd_xdr_schedule_kick(xdr);
}

static void ak_asd_xdr_result(void *ctx, uint64_t token, ak_xdr_class_t outcome, int result_code,
                              int http_status, uint64_t latency_us)
{
    (void)result_code;
    (void)http_status;
    (void)latency_us;
    ak_asd_xdr_t *xdr = ctx;
    ak_asd_xdr_entry_t *e = (ak_asd_xdr_entry_t *)(uintptr_t)token;
    xdr->in_flight--;
    ak_asd_xdr_inflight_remove(xdr, e);
    if (xdr->blocked.count) {
        /* what waited for a record goes first again, still in order */
        xdr->blocked.tail->next = xdr->ready.head;
        if (!xdr->ready.head)
            xdr->ready.tail = xdr->blocked.tail;
        xdr->ready.head = xdr->blocked.head;
        xdr->ready.count += xdr->blocked.count;
        xdr->blocked.head = xdr->blocked.tail = NULL;
        xdr->blocked.count = 0;
        ak_asd_xdr_schedule_kick(xdr);
    }
    if (outcome == AK_XDR_RETRY) {
        ak_queue_push(&xdr->retry, e);
        if (!xdr->retry_timer)
            xdr->retry_timer = ak_loop_timer(xdr->loop, AK_ASD_XDR_RETRY_DELAY_MS,
                                             ak_asd_xdr_release_retries, xdr);
        return;
    }
    ak_entry_free(e); /* done or abandoned */
}

ak_asd_xdr_t *ak_asd_xdr_new(ak_loop_t *loop, ak_asd_store_t *store,
                             const ak_xdr_ship_options_t *ship_opts, size_t queue_limit,
                             ak_error_t *err)
{
    ak_asd_xdr_t *xdr = calloc(1, sizeof *xdr);
    if (!xdr) {
        ak_error_set(err, AK_ERR_NOMEM, "no memory for the XDR queue");
        return NULL;
    }
    xdr->loop = loop;
    xdr->store = store;
    xdr->queue_limit = queue_limit ? queue_limit : 1000000;
    ak_arena_init(&xdr->arena, 16384);
    xdr->ship = ak_xdr_ship_new(loop, ship_opts, ak_asd_xdr_next, ak_asd_xdr_result, xdr, err);
    if (!xdr->ship) {
        ak_arena_destroy(&xdr->arena);
        free(xdr);
        return NULL;
    }
    return xdr;
}

void ak_asd_xdr_free(ak_asd_xdr_t *xdr)
{
    if (!xdr)
        return;
    /* Freeing the shipper reports in-flight entries as retries, which puts
     * them back on the retry queue, freed below. */
    ak_xdr_ship_free(xdr->ship);
    if (xdr->retry_timer)
        ak_loop_timer_cancel(xdr->loop, xdr->retry_timer);
    if (xdr->kick_timer)
        ak_loop_timer_cancel(xdr->loop, xdr->kick_timer);
    ak_queue_free(&xdr->ready);
    ak_queue_free(&xdr->retry);
    ak_queue_free(&xdr->blocked);
    ak_arena_destroy(&xdr->arena);
    free(xdr);
}

size_t ak_asd_xdr_queued(const ak_asd_xdr_t *xdr)
{
    return xdr->ready.count + xdr->retry.count + xdr->blocked.count;
}

uint64_t ak_asd_xdr_dropped(const ak_asd_xdr_t *xdr)
{
    return xdr->dropped;
}

void ak_asd_xdr_ship_stats(const ak_asd_xdr_t *xdr, ak_xdr_ship_stats_t *stats)
{
    ak_xdr_ship_stats(xdr->ship, stats);
}
