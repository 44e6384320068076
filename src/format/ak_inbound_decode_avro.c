/*
 * Inbound avro and kafka-avro: Avro binary -> ak_value_t with avro-c, the
 * writer schema fixed in the configuration or fetched from a Schema
 * Registry by the id in the Confluent framing (cached per id).
 */
#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ak_buf.h"
#include "format/ak_inbound_decode_internal.h"
#include "format/ak_schema_registry.h"

/* A block of zero-size items (nulls, empty records) costs no bytes, so the
 * byte count cannot bound it; this does. */
#define AK_AVRO_FREE_ITEMS 1024

typedef struct avro_entry {
    int32_t id;               /* registry id; -1 for the fixed schema */
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;       /* reused for every message of this schema */
} avro_entry_t;

struct ak_inbound_avro {
    ak_schema_registry_t *registry; /* kafka-avro without a fixed schema */
    avro_entry_t fixed;             /* .schema NULL when the registry is used */
    avro_entry_t *cache;
    size_t n_cache, cap_cache;
};

static void entry_free(avro_entry_t *e)
{
    if (e->iface) {
        avro_value_decref(&e->value);
        avro_value_iface_decref(e->iface);
    }
    if (e->schema)
        avro_schema_decref(e->schema);
    memset(e, 0, sizeof *e);
}

static ak_status_t entry_init(avro_entry_t *e, int32_t id, const char *json, size_t len,
                              const char *what, ak_error_t *err)
{
    memset(e, 0, sizeof *e);
    e->id = id;
    if (avro_schema_from_json_length(json, len, &e->schema) != 0) {
        e->schema = NULL;
        return ak_error_set(err, id < 0 ? AK_ERR_INVALID_ARG : AK_ERR_UNSUPPORTED,
                            "%s is not a valid Avro schema: %s", what, avro_strerror());
    }
    e->iface = avro_generic_class_from_schema(e->schema);
    if (!e->iface || avro_generic_value_new(e->iface, &e->value) != 0) {
        if (e->iface)
            avro_value_iface_decref(e->iface);
        e->iface = NULL;
        entry_free(e);
        return ak_error_set(err, AK_ERR_NOMEM, "%s: cannot prepare a decoder: %s", what,
                            avro_strerror());
    }
    return AK_OK;
}

ak_status_t ak_inbound_avro_new(ak_inbound_decoder_t *dec, ak_error_t *err)
{
    const ak_inbound_format_config_t *cfg = dec->cfg;
    ak_inbound_avro_t *avro = calloc(1, sizeof *avro);
    if (!avro)
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    dec->avro = avro;
    const char *mode = ak_inbound_format_mode_name(cfg->mode);
    if (cfg->schema) {
        char what[96];
        snprintf(what, sizeof what, "%s: the schema", mode);
        return entry_init(&avro->fixed, -1, cfg->schema, strlen(cfg->schema), what, err);
    }
    if (cfg->mode == AK_INBOUND_FORMAT_AVRO)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "avro: a schema is required");
    avro->registry = ak_schema_registry_new(cfg->props, cfg->n_props, err);
    if (!avro->registry) {
        ak_error_prefix(err, "kafka-avro");
        return err ? err->status : AK_ERR_INVALID_ARG;
    }
    return AK_OK;
}

void ak_inbound_avro_free(ak_inbound_avro_t *avro)
{
    if (!avro)
        return;
    entry_free(&avro->fixed);
    for (size_t i = 0; i < avro->n_cache; i++)
        entry_free(&avro->cache[i]);
    free(avro->cache);
    ak_schema_registry_free(avro->registry);
    free(avro);
}

uint64_t ak_inbound_avro_registry_requests(const ak_inbound_avro_t *avro)
{
    return ak_schema_registry_requests(avro->registry);
}

static ak_status_t schema_for_id(ak_inbound_avro_t *avro, int32_t id, avro_entry_t **out,
                                 ak_error_t *err)
{
    for (size_t i = 0; i < avro->n_cache; i++)
        if (avro->cache[i].id == id) {
            *out = &avro->cache[i];
            return AK_OK;
        }
    char *text = NULL;
    ak_status_t st = ak_schema_registry_schema(avro->registry, id, &text, err);
    if (st != AK_OK) {
        ak_error_prefix(err, "kafka-avro");
        return st;
    }
    if (avro->n_cache == avro->cap_cache) {
        size_t cap = avro->cap_cache ? 2 * avro->cap_cache : 4;
        avro_entry_t *cache = realloc(avro->cache, cap * sizeof *cache);
        if (!cache) {
            free(text);
            return ak_error_set(err, AK_ERR_NOMEM, "kafka-avro: out of memory");
        }
        avro->cache = cache;
        avro->cap_cache = cap;
    }
    char what[64];
    snprintf(what, sizeof what, "kafka-avro: schema id %ld", (long)id);
    st = entry_init(&avro->cache[avro->n_cache], id, text, strlen(text), what, err);
    free(text);
    if (st != AK_OK)
        return st;
    *out = &avro->cache[avro->n_cache++];
    return AK_OK;
}

/* ---- bounds walk ----
 *
 * avro-c allocates a string or bytes value of the length the data declares
 * before reading it, and appends as many array items as a block declares.
 * This walk follows the schema over the bytes first and checks each length
 * and count against what remains (and the nesting depth), so avro-c only
 * ever sees input whose declarations fit in it, and a bad message is
 * reported with its byte offset. */

typedef struct avro_walk {
    const uint8_t *p;
    size_t len, pos;
    ak_error_t *err;
} avro_walk_t;

static ak_status_t walk_long(avro_walk_t *w, int64_t *out)
{
    size_t at = w->pos;
    uint64_t u = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (w->pos >= w->len)
            return ak_error_at(w->err, AK_ERR_TRUNCATED, at, "avro: input ends inside a number");
        uint8_t b = w->p[w->pos++];
        u |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            return AK_OK;
        }
    }
    return ak_error_at(w->err, AK_ERR_MALFORMED, at, "avro: a number is longer than 10 bytes");
}

/* Skips n bytes; at is where the value (its length) started, for messages. */
static ak_status_t walk_skip(avro_walk_t *w, int64_t n, const char *what, size_t at)
{
    if (n < 0)
        return ak_error_at(w->err, AK_ERR_MALFORMED, at, "avro: negative %s length %lld", what,
                           (long long)n);
    if ((uint64_t)n > w->len - w->pos)
        return ak_error_at(w->err, AK_ERR_TRUNCATED, at,
                           "avro: %s declares %lld bytes but only %zu remain", what, (long long)n,
                           w->len - w->pos);
    w->pos += (size_t)n;
    return AK_OK;
}

static ak_status_t walk(avro_walk_t *w, avro_schema_t s, int depth);

static ak_status_t walk_blocks(avro_walk_t *w, avro_schema_t items, bool map, int depth)
{
    for (;;) {
        size_t at = w->pos;
        int64_t count;
        ak_status_t st = walk_long(w, &count);
        if (st != AK_OK)
            return st;
        if (count == 0)
            return AK_OK;
        if (count < 0) {
            int64_t block_bytes;
            if (count == INT64_MIN)
                return ak_error_at(w->err, AK_ERR_MALFORMED, at, "avro: bad block count");
            count = -count;
            if ((st = walk_long(w, &block_bytes)) != AK_OK)
                return st;
        }
        if ((uint64_t)count > w->len - w->pos + AK_AVRO_FREE_ITEMS)
            return ak_error_at(w->err, AK_ERR_TRUNCATED, at,
                               "avro: %s block declares %lld items but only %zu bytes remain",
                               map ? "map" : "array", (long long)count, w->len - w->pos);
        for (int64_t i = 0; i < count; i++) {
            if (map) {
                int64_t key_len;
                at = w->pos;
                if ((st = walk_long(w, &key_len)) != AK_OK ||
                    (st = walk_skip(w, key_len, "map key", at)) != AK_OK)
                    return st;
            }
            if ((st = walk(w, items, depth + 1)) != AK_OK)
                return st;
        }
    }
}

static ak_status_t walk(avro_walk_t *w, avro_schema_t s, int depth)
{
    int64_t n;
    ak_status_t st;
    size_t at = w->pos;
    switch (avro_typeof(s)) {
    case AVRO_STRING:
    case AVRO_BYTES:
        if ((st = walk_long(w, &n)) != AK_OK)
            return st;
        return walk_skip(w, n, avro_typeof(s) == AVRO_STRING ? "string" : "bytes", at);
    case AVRO_INT32:
    case AVRO_INT64:
        return walk_long(w, &n);
    case AVRO_FLOAT: return walk_skip(w, 4, "float", at);
    case AVRO_DOUBLE: return walk_skip(w, 8, "double", at);
    case AVRO_BOOLEAN: return walk_skip(w, 1, "boolean", at);
    case AVRO_NULL: return AK_OK;
    case AVRO_FIXED: return walk_skip(w, avro_schema_fixed_size(s), "fixed", at);
    case AVRO_ENUM:
        if ((st = walk_long(w, &n)) != AK_OK)
            return st;
        if (n < 0 || n >= avro_schema_enum_number_of_symbols(s))
            return ak_error_at(w->err, AK_ERR_MALFORMED, at,
                               "avro: enum %s has no symbol %lld", avro_schema_name(s), (long long)n);
        return AK_OK;
    case AVRO_UNION:
        if ((st = walk_long(w, &n)) != AK_OK)
            return st;
        if (n < 0 || (uint64_t)n >= avro_schema_union_size(s))
            return ak_error_at(w->err, AK_ERR_MALFORMED, at, "avro: union has no branch %lld",
                               (long long)n);
        return walk(w, avro_schema_union_branch(s, (int)n), depth);
    case AVRO_LINK:
        return walk(w, avro_schema_link_target(s), depth);
    case AVRO_RECORD:
    case AVRO_ARRAY:
    case AVRO_MAP:
        break;
    default:
        return ak_error_at(w->err, AK_ERR_UNSUPPORTED, at, "avro: unsupported schema type %s",
                           avro_schema_type_name(s));
    }
    if (depth >= AK_INBOUND_MAX_DEPTH)
        return ak_error_at(w->err, AK_ERR_LIMIT, at,
                           "avro: records, arrays and maps nest deeper than %d levels",
                           AK_INBOUND_MAX_DEPTH);
    if (avro_typeof(s) == AVRO_ARRAY)
        return walk_blocks(w, avro_schema_array_items(s), false, depth);
    if (avro_typeof(s) == AVRO_MAP)
        return walk_blocks(w, avro_schema_map_values(s), true, depth);
    size_t fields = avro_schema_record_size(s);
    for (size_t i = 0; i < fields; i++)
        if ((st = walk(w, avro_schema_record_field_get_by_index(s, (int)i), depth + 1)) != AK_OK)
            return st;
    return AK_OK;
}

/* ---- avro-c value -> ak_value_t ---- */

static bool to_value(avro_value_t *v, ak_arena_t *arena, ak_value_t *out)
{
    switch (avro_value_get_type(v)) {
    case AVRO_STRING: {
        const char *s;
        size_t size; /* includes the NUL avro-c adds */
        if (avro_value_get_string(v, &s, &size) != 0)
            return false;
        return ak_inbound_copy_bytes(arena, AK_VALUE_STRING, s, size ? size - 1 : 0, out);
    }
    case AVRO_BYTES: {
        const void *b;
        size_t size;
        if (avro_value_get_bytes(v, &b, &size) != 0)
            return false;
        return ak_inbound_copy_bytes(arena, AK_VALUE_BYTES, b, size, out);
    }
    case AVRO_FIXED: {
        const void *b;
        size_t size;
        if (avro_value_get_fixed(v, &b, &size) != 0)
            return false;
        return ak_inbound_copy_bytes(arena, AK_VALUE_BYTES, b, size, out);
    }
    case AVRO_INT32: {
        int32_t i = 0;
        avro_value_get_int(v, &i);
        *out = ak_value_int(i);
        return true;
    }
    case AVRO_INT64: {
        int64_t i = 0;
        avro_value_get_long(v, &i);
        *out = ak_value_int(i);
        return true;
    }
    case AVRO_FLOAT: {
        float f = 0;
        avro_value_get_float(v, &f);
        *out = ak_value_double(f);
        return true;
    }
    case AVRO_DOUBLE: {
        double d = 0;
        avro_value_get_double(v, &d);
        *out = ak_value_double(d);
        return true;
    }
    case AVRO_BOOLEAN: {
        int b = 0;
        avro_value_get_boolean(v, &b);
        *out = ak_value_bool(b != 0);
        return true;
    }
    case AVRO_NULL:
        *out = ak_value_nil();
        return true;
    case AVRO_ENUM: {
        int index = 0;
        avro_value_get_enum(v, &index);
        const char *symbol = avro_schema_enum_get(avro_value_get_schema(v), index);
        return symbol && ak_inbound_copy_bytes(arena, AK_VALUE_STRING, symbol, strlen(symbol), out);
    }
    case AVRO_UNION: {
        avro_value_t branch;
        if (avro_value_get_current_branch(v, &branch) != 0)
            return false;
        return to_value(&branch, arena, out);
    }
    case AVRO_ARRAY: {
        size_t n = 0;
        avro_value_get_size(v, &n);
        ak_value_t *items = ak_arena_alloc_array(arena, n ? n : 1, sizeof *items);
        if (!items || n > UINT32_MAX)
            return false;
        for (size_t i = 0; i < n; i++) {
            avro_value_t item;
            if (avro_value_get_by_index(v, i, &item, NULL) != 0 || !to_value(&item, arena, &items[i]))
                return false;
        }
        *out = ak_value_list(items, (uint32_t)n);
        return true;
    }
    case AVRO_MAP:
    case AVRO_RECORD: {
        size_t n = 0;
        avro_value_get_size(v, &n);
        ak_value_t *entries = ak_arena_alloc_array(arena, n ? 2 * n : 1, sizeof *entries);
        if (!entries || n > UINT32_MAX)
            return false;
        for (size_t i = 0; i < n; i++) {
            avro_value_t item;
            const char *name = NULL;
            if (avro_value_get_by_index(v, i, &item, &name) != 0 || !name ||
                !ak_inbound_copy_bytes(arena, AK_VALUE_STRING, name, strlen(name), &entries[2 * i]) ||
                !to_value(&item, arena, &entries[2 * i + 1]))
                return false;
        }
        *out = ak_value_map(entries, (uint32_t)n, 0);
        return true;
    }
    default:
        return false;
    }
}

ak_status_t ak_inbound_avro_decode(ak_inbound_decoder_t *dec, const uint8_t *data, size_t len,
                                   ak_arena_t *arena, ak_value_t *out, ak_error_t *err)
{
    ak_inbound_avro_t *avro = dec->avro;
    const char *mode = ak_inbound_format_mode_name(dec->cfg->mode);
    size_t start = 0;
    avro_entry_t *entry = &avro->fixed;
    if (dec->cfg->mode == AK_INBOUND_FORMAT_KAFKA_AVRO) {
        if (len < 5)
            return ak_error_at(err, AK_ERR_TRUNCATED, 0,
                               "kafka-avro: %zu bytes is shorter than the 5-byte Confluent header "
                               "(magic byte 0, 4-byte schema id)",
                               len);
        if (data[0] != 0)
            return ak_error_at(err, AK_ERR_MALFORMED, 0,
                               "kafka-avro: magic byte is 0x%02x, expected 0x00 (is this Confluent "
                               "Schema Registry framing?)",
                               data[0]);
        start = 5;
        if (avro->registry) {
            int32_t id = (int32_t)ak_get_be32(data + 1);
            ak_status_t st = schema_for_id(avro, id, &entry, err);
            if (st != AK_OK)
                return st;
        }
    }
    avro_walk_t w = {.p = data, .len = len, .pos = start, .err = err};
    ak_status_t st = walk(&w, entry->schema, 0);
    if (st != AK_OK)
        return st;
    if (w.pos != len)
        return ak_error_at(err, AK_ERR_MALFORMED, w.pos,
                           "%s: %zu bytes follow the value the schema describes", mode, len - w.pos);
    avro_reader_t reader = avro_reader_memory((const char *)data + start, (int64_t)(len - start));
    if (!reader)
        return ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", mode);
    avro_value_reset(&entry->value);
    int rc = avro_value_read(reader, &entry->value);
    avro_reader_free(reader);
    if (rc != 0)
        return ak_error_at(err, AK_ERR_MALFORMED, start, "%s: cannot decode: %s", mode,
                           avro_strerror());
    if (!to_value(&entry->value, arena, out))
        return ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", mode);
    return AK_OK;
}
