/*
 * ak_xdr_load: see ak_xdr_load.h.
 */
#include "dev/ak_xdr_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ak_arena.h"
#include "common/ak_histogram.h"
#include "net/ak_loop.h"
#include "wire/ak_digest.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"
#include "wire/ak_record.h"

/* Enough distinct templates that bins cycle through every type in every
 * position, few enough to stay in cache. */
#define AK_XDR_LOAD_TEMPLATES 240
#define AK_XDR_LOAD_DELETE_TEMPLATES 2

/* Particle types the bins cycle through. */
typedef enum ak_xdr_load_kind {
    AK_LOAD_INT,
    AK_LOAD_DOUBLE,
    AK_LOAD_STRING,
    AK_LOAD_BLOB,
    AK_LOAD_BOOL,
    AK_LOAD_LIST,
    AK_LOAD_MAP,
    AK_LOAD_GEOJSON,
    AK_LOAD_HLL,
    AK_LOAD_JAVA_BLOB,
    AK_LOAD_CSHARP_BLOB,
    AK_LOAD_PYTHON_BLOB,
    AK_LOAD_RUBY_BLOB,
    AK_LOAD_PHP_BLOB,
    AK_LOAD_ERLANG_BLOB,
    AK_LOAD_KINDS
} ak_xdr_load_kind_t;

/* One pre-encoded record and where its per-record parts sit. */
typedef struct ak_xdr_load_template {
    uint8_t *frame;
    size_t len;
    size_t key_off;    /* 8-byte big-endian integer key */
    size_t digest_off; /* 20 bytes */
    size_t lut_off;    /* 8 bytes, Aerospike-epoch ms */
    size_t gen_off;    /* 4 bytes in the message header */
} ak_xdr_load_template_t;

typedef struct ak_xdr_load {
    const ak_xdr_load_options_t *opts;
    ak_loop_t *loop;
    ak_xdr_ship_t *ship;
    ak_xdr_load_template_t writes[AK_XDR_LOAD_TEMPLATES];
    ak_xdr_load_template_t deletes[AK_XDR_LOAD_DELETE_TEMPLATES];
    size_t n_writes;
    const char *set;
    size_t set_len;

    /* Digests of records 0..n_digests-1, computed before the clock starts:
     * a server keeps each record's digest and XDR ships it as stored, so
     * hashing at ship time would charge the load with work XDR never does
     * (it was 60% of xdr-load's CPU). */
    uint8_t *digests;
    uint64_t n_digests;
    /* The wall clock for LUTs, read once per loop iteration. */
    uint64_t wall_stamp_us;
    uint64_t wall_ms;

    uint64_t next_record; /* index of the next new record */
    uint64_t *retry_queue; /* records to re-send, served before new ones */
    size_t retry_cap, retry_head, retry_count;
    uint16_t *attempts;    /* per record, only with max_retries */

    uint64_t resolved;
    uint64_t acknowledged, abandoned, gave_up, deletes_made;
    ak_histogram_t latency;

    uint64_t start_us;
    uint64_t sent; /* for the rate limit */
    uint64_t rate_timer;
    uint64_t poll_timer;
    bool stopped_early, unreachable;
} ak_xdr_load_t;

static uint64_t ak_xdr_load_mix(uint64_t x)
{
    /* splitmix64: cheap, well-spread, so record i's choices depend only on
     * (seed, i) and a run is reproducible. */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t ak_xdr_load_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void ak_xdr_load_fill_text(uint8_t *out, size_t len, uint64_t *state)
{
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (size_t i = 0; i < len; i++) {
        *state = ak_xdr_load_mix(*state);
        out[i] = (uint8_t)alphabet[*state % (sizeof alphabet - 1)];
    }
}

static void ak_xdr_load_fill_bytes(uint8_t *out, size_t len, uint64_t *state)
{
    for (size_t i = 0; i < len; i++) {
        if (i % 8 == 0)
            *state = ak_xdr_load_mix(*state);
        out[i] = (uint8_t)(*state >> (8 * (i % 8)));
    }
}

/* Builds one bin value of the given kind, about size bytes, in arena. */
static ak_status_t ak_xdr_load_value(ak_xdr_load_kind_t kind, size_t size, uint64_t *state,
                                     ak_arena_t *arena, ak_value_t *out, ak_error_t *err)
{
    *state = ak_xdr_load_mix(*state);
    uint64_t r = *state;
    if (size == 0)
        size = 1;
    switch (kind) {
    case AK_LOAD_INT:
        *out = ak_value_int((int64_t)r);
        return AK_OK;
    case AK_LOAD_DOUBLE:
        *out = ak_value_double((double)(r >> 11) / 9007199254740992.0 * 1e6);
        return AK_OK;
    case AK_LOAD_BOOL:
        *out = ak_value_bool(r & 1);
        return AK_OK;
    case AK_LOAD_STRING: {
        uint8_t *s = ak_arena_alloc(arena, size);
        if (!s)
            break;
        ak_xdr_load_fill_text(s, size, state);
        *out = ak_value_bytes_of(AK_VALUE_STRING, 0, s, size);
        return AK_OK;
    }
    case AK_LOAD_BLOB:
    case AK_LOAD_JAVA_BLOB:
    case AK_LOAD_CSHARP_BLOB:
    case AK_LOAD_PYTHON_BLOB:
    case AK_LOAD_RUBY_BLOB:
    case AK_LOAD_PHP_BLOB:
    case AK_LOAD_ERLANG_BLOB: {
        /* particle types 4 (blob) and 7..12 (language blobs) */
        uint8_t subtype = kind == AK_LOAD_BLOB ? AK_BYTES_SUBTYPE_BLOB
                                               : (uint8_t)(7 + (kind - AK_LOAD_JAVA_BLOB));
        uint8_t *b = ak_arena_alloc(arena, size);
        if (!b)
            break;
        ak_xdr_load_fill_bytes(b, size, state);
        *out = ak_value_bytes_of(AK_VALUE_BYTES, subtype, b, size);
        return AK_OK;
    }
    case AK_LOAD_HLL: {
        /* index bits, min-hash bits, then registers: the shape of an
         * Aerospike HLL, opaque to everything on the way. */
        size_t n = size < 3 ? 3 : size;
        uint8_t *h = ak_arena_alloc(arena, n);
        if (!h)
            break;
        h[0] = 12;
        h[1] = 0;
        ak_xdr_load_fill_bytes(h + 2, n - 2, state);
        *out = ak_value_bytes_of(AK_VALUE_HLL, 18, h, n);
        return AK_OK;
    }
    case AK_LOAD_GEOJSON: {
        /* A closed polygon with as many vertices as fit in size bytes. */
        size_t vertices = size / 24;
        if (vertices < 4)
            vertices = 4;
        size_t cap = 64 + vertices * 48;
        char *g = ak_arena_alloc(arena, cap);
        if (!g)
            break;
        /* vertices walk the perimeter of a 1-degree square, then close */
        double cx = (double)(r % 358) - 179.0, cy = (double)((r >> 16) % 168) - 84.0;
        size_t len = (size_t)snprintf(g, cap, "{\"type\":\"Polygon\",\"coordinates\":[[");
        for (size_t i = 0; i < vertices; i++) {
            double f = i + 1 == vertices ? 0.0 : 4.0 * (double)i / (double)(vertices - 1);
            int side = (int)f;
            double u = f - side;
            double x = side == 0 ? u : side == 1 ? 1.0 : side == 2 ? 1.0 - u : 0.0;
            double y = side == 0 ? 0.0 : side == 1 ? u : side == 2 ? 1.0 : 1.0 - u;
            len += (size_t)snprintf(g + len, cap - len, "%s[%.5f,%.5f]", i ? "," : "", cx + x,
                                    cy + y);
        }
        len += (size_t)snprintf(g + len, cap - len, "]]}");
        *out = ak_value_bytes_of(AK_VALUE_GEOJSON, 23, g, len);
        return AK_OK;
    }
    case AK_LOAD_LIST: {
        /* strings of 8 characters, 9 bytes each in MessagePack */
        uint32_t count = (uint32_t)(size / 9 ? size / 9 : 1);
        ak_value_t *items = ak_arena_alloc_array(arena, count, sizeof *items);
        uint8_t *text = ak_arena_alloc(arena, (size_t)count * 8);
        if (!items || !text)
            break;
        ak_xdr_load_fill_text(text, (size_t)count * 8, state);
        for (uint32_t i = 0; i < count; i++)
            items[i] = i % 2 ? ak_value_int((int64_t)i)
                             : ak_value_bytes_of(AK_VALUE_STRING, 0, text + 8 * i, 8);
        *out = ak_value_list(items, count);
        return AK_OK;
    }
    case AK_LOAD_MAP: {
        /* 8-character keys, integer values: about 18 bytes per entry */
        uint32_t count = (uint32_t)(size / 18 ? size / 18 : 1);
        ak_value_t *entries = ak_arena_alloc_array(arena, 2 * (size_t)count, sizeof *entries);
        uint8_t *text = ak_arena_alloc(arena, (size_t)count * 8);
        if (!entries || !text)
            break;
        for (uint32_t i = 0; i < count; i++) {
            /* distinct keys: a counter in the last four characters */
            ak_xdr_load_fill_text(text + 8 * i, 4, state);
            snprintf((char *)text + 8 * i + 4, 5, "%04u", i % 10000);
            entries[2 * i] = ak_value_bytes_of(AK_VALUE_STRING, 0, text + 8 * i, 8);
            *state = ak_xdr_load_mix(*state);
            entries[2 * i + 1] = ak_value_int((int64_t)(*state >> 1));
        }
        *out = ak_value_map(entries, count, 1);
        return AK_OK;
    }
    case AK_LOAD_KINDS:
        break;
    }
    return ak_error_set(err, AK_ERR_NOMEM, "xdr-load: no memory for a %zu-byte value", size);
}

/* Encodes rec as a template and finds the bytes each record patches. */
static ak_status_t ak_xdr_load_template(const ak_record_t *rec, ak_xdr_load_template_t *tpl,
                                        ak_arena_t *arena, ak_error_t *err)
{
    ak_buf_t buf;
    ak_buf_init(&buf);
    ak_status_t st = ak_record_to_msg(rec, 1000, &buf, err);
    if (st != AK_OK) {
        ak_buf_free(&buf);
        return st;
    }
    ak_msg_t msg;
    st = ak_msg_parse(buf.data + AK_PROTO_HEADER_SIZE, buf.len - AK_PROTO_HEADER_SIZE,
                      AK_PROTO_HEADER_SIZE, arena, &msg, err);
    if (st != AK_OK) {
        ak_buf_free(&buf);
        return st;
    }
    const ak_msg_field_t *key = ak_msg_find_field(&msg, AK_FIELD_KEY);
    const ak_msg_field_t *digest = ak_msg_find_field(&msg, AK_FIELD_DIGEST);
    const ak_msg_field_t *lut = ak_msg_find_field(&msg, AK_FIELD_LUT);
    if (!key || key->len != 9 || !digest || digest->len != AK_DIGEST_SIZE || !lut || lut->len != 8) {
        ak_buf_free(&buf);
        return ak_error_set(err, AK_ERR_MALFORMED,
                            "xdr-load: a template lacks its key, digest or LUT field");
    }
    tpl->frame = buf.data; /* owned by the template now */
    tpl->len = buf.len;
    tpl->key_off = (size_t)(key->data - buf.data) + 1; /* after the particle type */
    tpl->digest_off = (size_t)(digest->data - buf.data);
    tpl->lut_off = (size_t)(lut->data - buf.data);
    tpl->gen_off = AK_PROTO_HEADER_SIZE + 6;
    return AK_OK;
}

static ak_status_t ak_xdr_load_build_templates(ak_xdr_load_t *load, ak_error_t *err)
{
    const ak_xdr_load_options_t *o = load->opts;
    static const uint32_t ttls[] = {0, 3600, 86400, 2592000, AK_TTL_NEVER_EXPIRE};
    ak_arena_t arena;
    ak_arena_init(&arena, 64 * 1024);
    ak_bin_t *bins = calloc(o->bins ? o->bins : 1, sizeof *bins);
    char (*names)[16] = calloc(o->bins ? o->bins : 1, sizeof *names);
    ak_status_t st = AK_OK;
    if (!bins || !names) {
        st = ak_error_set(err, AK_ERR_NOMEM, "xdr-load: no memory for %u bins", o->bins);
        goto out;
    }
    ak_record_t rec;
    ak_record_init(&rec);
    rec.ns = (ak_str_t){o->ns, strlen(o->ns)};
    rec.set = (ak_str_t){load->set, load->set_len};
    rec.has_key = true;
    rec.key = ak_value_int(0);
    rec.has_digest = false; /* computed by the encoder; patched per record */
    rec.has_lut = true;
    rec.lut_ms = ak_xdr_load_unix_ms();
    rec.xdr = true;
    rec.generation = 1;
    for (uint32_t b = 0; b < o->bins; b++) {
        snprintf(names[b], sizeof names[b], "b%u", b);
        bins[b].name = (ak_str_t){names[b], strlen(names[b])};
    }
    /* Fewer templates when fewer records, so a small run still covers every
     * type yet builds quickly. */
    load->n_writes = AK_XDR_LOAD_TEMPLATES;
    if (o->records < load->n_writes)
        load->n_writes = o->records ? (size_t)o->records : 1;
    for (size_t t = 0; t < load->n_writes; t++) {
        uint64_t state = ak_xdr_load_mix(o->seed ^ (0x5eed0000ULL + t));
        ak_arena_reset(&arena);
        for (uint32_t b = 0; b < o->bins; b++) {
            ak_xdr_load_kind_t kind = (ak_xdr_load_kind_t)((t + b) % AK_LOAD_KINDS);
            st = ak_xdr_load_value(kind, o->value_size, &state, &arena, &bins[b].value, err);
            if (st != AK_OK)
                goto out;
        }
        rec.op = AK_RECORD_WRITE;
        rec.bins = bins;
        rec.n_bins = o->bins;
        rec.ttl = ttls[t % (sizeof ttls / sizeof ttls[0])];
        st = ak_xdr_load_template(&rec, &load->writes[t], &arena, err);
        if (st != AK_OK)
            goto out;
    }
    for (size_t t = 0; t < AK_XDR_LOAD_DELETE_TEMPLATES; t++) {
        rec.op = t ? AK_RECORD_DURABLE_DELETE : AK_RECORD_DELETE;
        rec.bins = NULL;
        rec.n_bins = 0;
        rec.ttl = 0;
        st = ak_xdr_load_template(&rec, &load->deletes[t], &arena, err);
        if (st != AK_OK)
            goto out;
    }
out:
    free(bins);
    free(names);
    ak_arena_destroy(&arena);
    return st;
}

static bool ak_xdr_load_is_delete(const ak_xdr_load_t *load, uint64_t record)
{
    if (!load->opts->delete_percent)
        return false;
    return ak_xdr_load_mix(load->opts->seed * 0x100000001b3ULL ^ record) % 100 <
           load->opts->delete_percent;
}

/* Appends record's frame: its template with key, digest, generation and
 * LUT patched in. The hot path: a copy, a RIPEMD-160, no allocation once
 * the output buffer has grown. */
static void ak_xdr_load_encode(ak_xdr_load_t *load, uint64_t record, ak_buf_t *frame)
{
    bool is_delete = ak_xdr_load_is_delete(load, record);
    const ak_xdr_load_template_t *tpl =
        is_delete ? &load->deletes[record % AK_XDR_LOAD_DELETE_TEMPLATES]
                  : &load->writes[record % load->n_writes];
    if (!ak_buf_reserve(frame, tpl->len))
        return;
    uint8_t *p = frame->data + frame->len;
    memcpy(p, tpl->frame, tpl->len);
    frame->len += tpl->len;
    ak_put_be64(p + tpl->key_off, (uint64_t)record);
    if (record < load->n_digests) {
        memcpy(p + tpl->digest_off, load->digests + record * AK_DIGEST_SIZE, AK_DIGEST_SIZE);
    } else {
        ak_value_t key = ak_value_int((int64_t)record);
        ak_digest_compute(load->set, load->set_len, &key, p + tpl->digest_off, NULL);
    }
    ak_put_be32(p + tpl->gen_off, (uint32_t)(1 + record % 16));
    uint64_t wall_ms;
    if (load->loop) {
        if (load->wall_stamp_us != ak_loop_now_us(load->loop)) {
            load->wall_stamp_us = ak_loop_now_us(load->loop);
            load->wall_ms = ak_xdr_load_unix_ms();
        }
        wall_ms = load->wall_ms;
    } else {
        wall_ms = ak_xdr_load_unix_ms();
    }
    ak_put_be64(p + tpl->lut_off, wall_ms - (uint64_t)AK_CITRUSLEAF_EPOCH_MS);
}

static void ak_xdr_load_rate_fire(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_xdr_load_t *load = arg;
    load->rate_timer = 0;
    ak_xdr_ship_kick(load->ship);
}

/* Token bucket against the clock: false (and a timer armed for the next
 * slot) when the rate is used up. */
static bool ak_xdr_load_rate_allows(ak_xdr_load_t *load)
{
    uint64_t rate = load->opts->rate;
    if (!rate)
        return true;
    uint64_t burst = rate / 100 ? rate / 100 : 1; /* 10 ms worth */
    uint64_t elapsed_us = ak_clock_us() - load->start_us;
    uint64_t allowed = (uint64_t)((double)rate * (double)elapsed_us / 1e6) + burst;
    if (load->sent < allowed)
        return true;
    if (!load->rate_timer) {
        double due_us = (double)(load->sent + 1 - burst) * 1e6 / (double)rate;
        double wait_ms = (due_us - (double)elapsed_us) / 1000.0;
        uint64_t delay = wait_ms < 1.0 ? 1 : (uint64_t)wait_ms;
        load->rate_timer = ak_loop_timer(load->loop, delay, ak_xdr_load_rate_fire, load);
    }
    return false;
}

static bool ak_xdr_load_next(void *ctx, ak_buf_t *frame, uint64_t *token)
{
    ak_xdr_load_t *load = ctx;
    uint64_t record;
    if (load->retry_count) {
        if (!ak_xdr_load_rate_allows(load))
            return false;
        record = load->retry_queue[load->retry_head];
        load->retry_head = (load->retry_head + 1) % load->retry_cap;
        load->retry_count--;
    } else if (load->next_record < load->opts->records) {
        if (!ak_xdr_load_rate_allows(load))
            return false;
        record = load->next_record++;
        if (ak_xdr_load_is_delete(load, record))
            load->deletes_made++;
    } else {
        return false;
    }
    load->sent++;
    ak_xdr_load_encode(load, record, frame);
    *token = record;
    return true;
}

static void ak_xdr_load_resolved(ak_xdr_load_t *load)
{
    load->resolved++;
    if (load->resolved == load->opts->records)
        ak_loop_stop(load->loop);
}

static void ak_xdr_load_result(void *ctx, uint64_t token, ak_xdr_class_t outcome, int result_code,
                               int http_status, uint64_t latency_us)
{
    (void)result_code;
    (void)http_status;
    ak_xdr_load_t *load = ctx;
    switch (outcome) {
    case AK_XDR_DONE:
        load->acknowledged++;
        ak_histogram_record(&load->latency, latency_us);
        ak_xdr_load_resolved(load);
        return;
    case AK_XDR_ABANDON:
        load->abandoned++;
        ak_xdr_load_resolved(load);
        return;
    case AK_XDR_RETRY:
        break;
    }
    if (load->attempts) {
        if (load->attempts[token] >= load->opts->max_retries) {
            load->gave_up++;
            ak_xdr_load_resolved(load);
            return;
        }
        load->attempts[token]++;
    }
    /* Never full: a record is either in flight or queued here, and the
     * queue holds as many as can be in flight. */
    if (load->retry_count < load->retry_cap) {
        load->retry_queue[(load->retry_head + load->retry_count) % load->retry_cap] = token;
        load->retry_count++;
    }
    ak_xdr_ship_kick(load->ship);
}

static void ak_xdr_load_time_limit(ak_loop_t *loop, void *arg)
{
    ak_xdr_load_t *load = arg;
    load->stopped_early = true;
    ak_loop_stop(loop);
}

static void ak_xdr_load_poll(ak_loop_t *loop, void *arg)
{
    ak_xdr_load_t *load = arg;
    const ak_xdr_load_options_t *o = load->opts;
    uint64_t elapsed_ms = (ak_clock_us() - load->start_us) / 1000u;
    ak_xdr_ship_stats_t stats;
    ak_xdr_ship_stats(load->ship, &stats);
    if (o->stop_flag && *o->stop_flag) {
        load->stopped_early = true;
        ak_loop_stop(loop);
    } else if (elapsed_ms >= o->timeout_ms && stats.connects == 0 && stats.connect_failures > 0 &&
               load->resolved == 0) {
        /* Nothing answered for a whole timeout and every connect failed:
         * report it instead of retrying forever. */
        load->stopped_early = true;
        load->unreachable = true;
        ak_loop_stop(loop);
    }
    load->poll_timer = ak_loop_timer(loop, 100, ak_xdr_load_poll, load);
}

bool ak_xdr_load_complete(const ak_xdr_load_summary_t *summary)
{
    return summary->acknowledged + summary->abandoned == summary->records;
}

ak_status_t ak_xdr_load_frames(const ak_xdr_load_options_t *user_opts, uint64_t first, size_t count,
                               ak_buf_t *out, ak_error_t *err)
{
    ak_xdr_load_options_t o = *user_opts;
    if (!o.ns)
        o.ns = "test";
    if (!o.set)
        o.set = "xdr-load";
    if (!o.records)
        o.records = first + count;
    ak_xdr_load_t *load = calloc(1, sizeof *load);
    if (!load)
        return ak_error_set(err, AK_ERR_NOMEM, "xdr-load: no memory");
    load->opts = &o;
    load->set = o.set;
    load->set_len = strlen(o.set);
    ak_status_t st = ak_xdr_load_build_templates(load, err);
    for (size_t i = 0; st == AK_OK && i < count; i++)
        ak_xdr_load_encode(load, first + i, out);
    if (st == AK_OK && ak_buf_failed(out))
        st = ak_error_set(err, AK_ERR_NOMEM, "xdr-load: no memory for %zu frames", count);
    for (size_t t = 0; t < load->n_writes; t++)
        free(load->writes[t].frame);
    for (size_t t = 0; t < AK_XDR_LOAD_DELETE_TEMPLATES; t++)
        free(load->deletes[t].frame);
    free(load);
    return st;
}

ak_status_t ak_xdr_load_run(const ak_xdr_load_options_t *user_opts, ak_xdr_load_summary_t *summary,
                            ak_error_t *err)
{
    memset(summary, 0, sizeof *summary);
    ak_xdr_load_options_t o = *user_opts;
    if (!o.ns)
        o.ns = "test";
    if (!o.set)
        o.set = "xdr-load";
    if (!o.connections)
        o.connections = 1;
    if (!o.in_flight)
        o.in_flight = 64;
    if (!o.timeout_ms)
        o.timeout_ms = 10000;
    if (o.delete_percent > 100)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "xdr-load: --deletes %u is above 100",
                            o.delete_percent);
    if (o.bins > 1000)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "xdr-load: --bins %u is above 1000", o.bins);
    if (o.value_size > 1024 * 1024)
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "xdr-load: --value-size %u is above 1 MiB", o.value_size);
    if (strlen(o.ns) == 0 || strlen(o.ns) > AK_NAMESPACE_MAX)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "xdr-load: namespace '%s' must be 1..%d bytes",
                            o.ns, AK_NAMESPACE_MAX);
    if (strlen(o.set) > AK_SET_MAX)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "xdr-load: set '%s' is longer than %d bytes",
                            o.set, AK_SET_MAX);
    if (o.connections < 0 || o.in_flight < 0)
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "xdr-load: connections and in-flight must be positive");

    ak_xdr_load_t *load = calloc(1, sizeof *load);
    if (!load)
        return ak_error_set(err, AK_ERR_NOMEM, "xdr-load: no memory");
    ak_status_t st = AK_OK;
    load->opts = &o;
    load->set = o.set;
    load->set_len = strlen(o.set);
    ak_histogram_init(&load->latency);
    load->retry_cap = o.n_destinations * (size_t)o.connections * (size_t)o.in_flight + 1;
    load->retry_queue = malloc(load->retry_cap * sizeof *load->retry_queue);
    if (o.max_retries && o.records)
        load->attempts = calloc((size_t)o.records, sizeof *load->attempts);
    if (!load->retry_queue || (o.max_retries && o.records && !load->attempts)) {
        st = ak_error_set(err, AK_ERR_NOMEM, "xdr-load: no memory for the retry state");
        goto out;
    }
    if (o.max_retries > UINT16_MAX)
        o.max_retries = UINT16_MAX;
    st = ak_xdr_load_build_templates(load, err);
    if (st != AK_OK)
        goto out;
    /* up to 16M records' digests (320 MB); beyond, the rest are hashed as sent */
    load->n_digests = o.records < (1u << 24) ? o.records : (1u << 24);
    load->digests = load->n_digests ? malloc((size_t)load->n_digests * AK_DIGEST_SIZE) : NULL;
    if (!load->digests)
        load->n_digests = 0;
    for (uint64_t r = 0; r < load->n_digests; r++) {
        ak_value_t key = ak_value_int((int64_t)r);
        ak_digest_compute(load->set, load->set_len, &key, load->digests + r * AK_DIGEST_SIZE, NULL);
    }

    load->loop = ak_loop_new(err);
    if (!load->loop) {
        st = err ? err->status : AK_ERR_IO;
        goto out;
    }
    ak_xdr_ship_options_t ship_opts = {
        .destinations = o.destinations,
        .n_destinations = o.n_destinations,
        .protocol = o.protocol,
        .connections_per_destination = o.connections,
        .in_flight_per_connection = o.in_flight,
        .timeout_ms = o.timeout_ms,
        .reconnect_delay_ms = 1000,
        .http_path = o.http_path,
    };
    load->start_us = ak_clock_us();
    load->ship = ak_xdr_ship_new(load->loop, &ship_opts, ak_xdr_load_next, ak_xdr_load_result,
                                 load, err);
    if (!load->ship) {
        st = err ? err->status : AK_ERR_INVALID_ARG;
        goto out;
    }
    if (o.records) {
        load->poll_timer = ak_loop_timer(load->loop, 100, ak_xdr_load_poll, load);
        if (o.time_limit_ms)
            ak_loop_timer(load->loop, o.time_limit_ms, ak_xdr_load_time_limit, load);
        ak_xdr_ship_kick(load->ship);
        ak_loop_run(load->loop);
    }
    uint64_t end_us = ak_clock_us();

    ak_xdr_ship_stats_t stats;
    ak_xdr_ship_stats(load->ship, &stats);
    summary->records = o.records;
    summary->shipped = stats.shipped;
    summary->acknowledged = load->acknowledged;
    summary->retried = stats.retried;
    summary->abandoned = load->abandoned;
    summary->gave_up = load->gave_up;
    summary->timeouts = stats.timeouts;
    summary->unresolved = o.records - load->resolved;
    summary->deletes = load->deletes_made;
    summary->connects = stats.connects;
    summary->connect_failures = stats.connect_failures;
    summary->elapsed_s = (double)(end_us - load->start_us) / 1e6;
    summary->throughput =
        summary->elapsed_s > 0 ? (double)load->acknowledged / summary->elapsed_s : 0.0;
    summary->p50_us = ak_histogram_percentile(&load->latency, 50.0);
    summary->p99_us = ak_histogram_percentile(&load->latency, 99.0);
    summary->p999_us = ak_histogram_percentile(&load->latency, 99.9);
    summary->max_us = load->latency.count ? load->latency.max : 0;
    summary->stopped_early = load->stopped_early;
    summary->unreachable = load->unreachable;
out:
    /* The shipper reports what is still in flight as retry while it closes;
     * the queue may take them or not, it no longer matters. */
    ak_xdr_ship_free(load->ship);
    if (load->loop)
        ak_loop_free(load->loop);
    for (size_t t = 0; t < AK_XDR_LOAD_TEMPLATES; t++)
        free(load->writes[t].frame);
    for (size_t t = 0; t < AK_XDR_LOAD_DELETE_TEMPLATES; t++)
        free(load->deletes[t].frame);
    free(load->retry_queue);
    free(load->digests);
    free(load->attempts);
    free(load);
    return st;
}
