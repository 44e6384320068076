/*
 * avro and kafka-avro (spec outbound.md §3.5, §3.6), encoded with avro-c's
 * generic values.
 *
 * Writes use the configured schema:
 *   - a map schema: one entry per bin, each value converted to the map's
 *     value type (usually a union);
 *   - a record schema: one field per bin, matched by name; a field with no
 *     bin is null when its type allows null and an error otherwise; a bin
 *     with no field is an error. When metadata-key is configured, the field
 *     of that name (a record, or a union of null and a record) receives the
 *     metadata: its fields are §3.1 names (namespace, set, userKey, digest,
 *     msg, gen, lut, exp, durable), each filled by name.
 * Deletes use a built-in record schema (AK_AVRO_DELETE_SCHEMA) holding the
 * metadata.
 *
 * kafka-avro frames each message as Confluent's serializers do (magic 0,
 * 4-byte big-endian schema id, Avro binary) and registers the write and the
 * delete schema with the Schema Registry under RecordNameStrategy or
 * TopicRecordNameStrategy subjects.
 *
 * Value conversion: null <- nil; boolean <- bool; int <- integer in range;
 * long <- integer; float/double <- double (or integer, Avro's promotion);
 * bytes <- blob of any language or HLL; fixed <- blob of exactly its size;
 * string <- string or GeoJSON text; enum <- string naming a symbol;
 * array <- list; map <- map (numeric keys become strings when
 * stringify-map-keys, other keys fail); record <- map with string keys
 * naming its fields; union <- the first branch the value fits exactly, else
 * the first it fits by promotion.
 */
#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/ak_format_internal.h"
#include "format/ak_schema_registry.h"

/* The delete schema (docs/FORMATS.md). Its full name must differ from the
 * write schema's: with kafka-avro both are registered as subjects. */
static const char AK_AVRO_DELETE_SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"AerospikeOutboundDelete\","
    "\"namespace\":\"com.aerospike.connect\",\"fields\":["
    "{\"name\":\"namespace\",\"type\":\"string\"},"
    "{\"name\":\"set\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"userKey\",\"type\":[\"null\",\"long\",\"double\",\"string\",\"bytes\"],"
    "\"default\":null},"
    "{\"name\":\"digest\",\"type\":\"bytes\"},"
    "{\"name\":\"msg\",\"type\":\"string\"},"
    "{\"name\":\"gen\",\"type\":\"int\"},"
    "{\"name\":\"lut\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"durable\",\"type\":\"boolean\"}]}";

typedef enum meta_field {
    META_NAMESPACE = 0,
    META_SET,
    META_USER_KEY,
    META_DIGEST,
    META_MSG,
    META_GEN,
    META_LUT,
    META_EXP,
    META_DURABLE,
    META_COUNT,
} meta_field_t;

static const char *const meta_names[META_COUNT] = {
    "namespace", "set", "userKey", "digest", "msg", "gen", "lut", "exp", "durable",
};

typedef enum subject_strategy {
    STRATEGY_RECORD_NAME = 0,
    STRATEGY_TOPIC_RECORD_NAME,
} subject_strategy_t;

/* One schema ready to encode with. */
typedef struct avro_kind {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
    bool has_value;
    const char *text; /* registered text */
    size_t text_len;
    char *full_name;  /* records only */
    /* record schemas */
    size_t n_fields;
    uint8_t *filled;
    int meta_index;          /* field holding metadata, -1 if none */
    int meta_union_branch;   /* branch of the record in a [null, record] union, -1 if plain */
    uint8_t *meta_codes;     /* per field of the metadata record: meta_field_t */
    size_t n_meta;
    int32_t registry_id;     /* kafka-avro, fixed subjects: cached id, -1 until known */
} avro_kind_t;

struct ak_avro_state {
    bool kafka;
    bool write_is_map;
    avro_kind_t write;
    avro_kind_t del;
    avro_writer_t writer;
    ak_buf_t scratch; /* NUL-terminated copies of strings for avro-c */
    ak_buf_t subject;
    ak_schema_registry_t *registry;
    subject_strategy_t strategy;
    char *registry_topic;
    bool fixed_subject;
};

/* ------------------------------------------------------------ schema helpers */

static avro_schema_t resolve(avro_schema_t s)
{
    while (s && is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

static bool schema_nullable(avro_schema_t s, int *branch)
{
    s = resolve(s);
    if (is_avro_null(s)) {
        *branch = -1;
        return true;
    }
    if (is_avro_union(s)) {
        for (size_t i = 0; i < avro_schema_union_size(s); i++)
            if (is_avro_null(resolve(avro_schema_union_branch(s, (int)i)))) {
                *branch = (int)i;
                return true;
            }
    }
    return false;
}

/* "string", "long", a named type's name, or "union [null, string]". */
static void describe_schema(avro_schema_t s, char *out, size_t cap)
{
    s = resolve(s);
    if (!is_avro_union(s)) {
        snprintf(out, cap, "%s", avro_schema_type_name(s));
        return;
    }
    size_t n = (size_t)snprintf(out, cap, "union [");
    for (size_t i = 0; i < avro_schema_union_size(s) && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "",
                              avro_schema_type_name(resolve(avro_schema_union_branch(s, (int)i))));
    if (n < cap)
        snprintf(out + n, cap - n, "]");
}

static char *full_name_of(avro_schema_t s)
{
    const char *name = avro_schema_name(s);
    const char *ns = avro_schema_namespace(s);
    size_t n = strlen(name) + (ns ? strlen(ns) + 1 : 0) + 1;
    char *full = malloc(n);
    if (full)
        snprintf(full, n, "%s%s%s", ns && ns[0] ? ns : "", ns && ns[0] ? "." : "", name);
    return full;
}

static void kind_free(avro_kind_t *k)
{
    if (k->has_value)
        avro_value_decref(&k->value);
    if (k->iface)
        avro_value_iface_decref(k->iface);
    if (k->schema)
        avro_schema_decref(k->schema);
    free(k->full_name);
    free(k->filled);
    free(k->meta_codes);
    memset(k, 0, sizeof *k);
}

void ak_format_avro_free(ak_avro_state_t *avro)
{
    if (!avro)
        return;
    kind_free(&avro->write);
    kind_free(&avro->del);
    if (avro->writer)
        avro_writer_free(avro->writer);
    ak_buf_free(&avro->scratch);
    ak_buf_free(&avro->subject);
    ak_schema_registry_free(avro->registry);
    free(avro->registry_topic);
    free(avro);
}

/* Maps the fields of a metadata record to §3.1 names. */
static ak_status_t kind_meta_codes(avro_kind_t *k, avro_schema_t rec, const char *where,
                                   ak_error_t *err)
{
    k->n_meta = avro_schema_record_size(rec);
    k->meta_codes = calloc(k->n_meta ? k->n_meta : 1, 1);
    if (!k->meta_codes)
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < k->n_meta; i++) {
        const char *name = avro_schema_record_field_name(rec, (int)i);
        size_t code = 0;
        while (code < META_COUNT && strcmp(meta_names[code], name) != 0)
            code++;
        if (code == META_COUNT)
            return ak_error_set(err, AK_ERR_INVALID_ARG,
                                "%s: field '%s' is not a metadata name (namespace, set, userKey, "
                                "digest, msg, gen, lut, exp, durable)",
                                where, name);
        k->meta_codes[i] = (uint8_t)code;
    }
    return AK_OK;
}

static ak_status_t kind_init(avro_kind_t *k, const char *text, size_t len, const char *what,
                             ak_error_t *err)
{
    k->meta_index = -1;
    k->meta_union_branch = -1;
    k->registry_id = -1;
    k->text = text;
    k->text_len = len;
    if (avro_schema_from_json_length(text, len, &k->schema) != 0)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "%s is not a valid Avro schema: %s", what,
                            avro_strerror());
    k->iface = avro_generic_class_from_schema(k->schema);
    if (!k->iface)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "%s: %s", what, avro_strerror());
    if (avro_generic_value_new(k->iface, &k->value) != 0)
        return ak_error_set(err, AK_ERR_NOMEM, "%s: %s", what, avro_strerror());
    k->has_value = true;
    if (is_avro_record(k->schema)) {
        k->full_name = full_name_of(k->schema);
        k->n_fields = avro_schema_record_size(k->schema);
        k->filled = calloc(k->n_fields ? k->n_fields : 1, 1);
        if (!k->full_name || !k->filled)
            return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    }
    return AK_OK;
}

static ak_status_t parse_strategy(ak_avro_state_t *avro, const ak_format_config_t *cfg,
                                  ak_error_t *err)
{
    const char *value = NULL;
    for (size_t i = 0; i < cfg->n_props; i++)
        if (cfg->props[i].name && strcmp(cfg->props[i].name, "value.subject.name.strategy") == 0)
            value = cfg->props[i].value;
    const char *why = "writes and deletes use different schemas, so each needs its own subject: "
                      "set props value.subject.name.strategy to "
                      "io.confluent.kafka.serializers.subject.RecordNameStrategy or "
                      "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy";
    if (!value || !value[0])
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "props: value.subject.name.strategy is not set (the serializer's "
                            "default, TopicNameStrategy, is not allowed): %s",
                            why);
    size_t n = strlen(value);
#define ENDS_WITH(lit) (n >= sizeof(lit) - 1 && strcmp(value + n - (sizeof(lit) - 1), lit) == 0)
    if (ENDS_WITH("TopicRecordNameStrategy"))
        avro->strategy = STRATEGY_TOPIC_RECORD_NAME;
    else if (ENDS_WITH("RecordNameStrategy"))
        avro->strategy = STRATEGY_RECORD_NAME;
    else if (ENDS_WITH("TopicNameStrategy"))
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "props: value.subject.name.strategy TopicNameStrategy is not allowed: "
                            "%s",
                            why);
    else
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "props: value.subject.name.strategy '%s' is unknown: %s", value, why);
#undef ENDS_WITH
    return AK_OK;
}

ak_status_t ak_format_avro_new(ak_formatter_t *fmt, const ak_format_config_t *cfg,
                               ak_error_t *err)
{
    ak_avro_state_t *avro = calloc(1, sizeof *avro);
    if (!avro)
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    fmt->avro = avro;
    avro->kafka = cfg->mode == AK_FORMAT_KAFKA_AVRO;
    ak_buf_init(&avro->scratch);
    ak_buf_init(&avro->subject);
    const char *what = cfg->schema_file ? cfg->schema_file : "schema";
    ak_status_t st = kind_init(&avro->write, cfg->schema, strlen(cfg->schema), what, err);
    if (st != AK_OK)
        return st;
    avro_schema_t ws = avro->write.schema;
    if (is_avro_map(ws)) {
        avro->write_is_map = true;
        if (fmt->metadata_key)
            return ak_error_set(err, AK_ERR_INVALID_ARG,
                                "metadata-key '%s' needs a record schema (the metadata goes into "
                                "the field of that name); %s is a map schema",
                                fmt->metadata_key, what);
        if (avro->kafka)
            return ak_error_set(err, AK_ERR_INVALID_ARG,
                                "%s: kafka-avro needs a record schema (its full name is the "
                                "registry subject); a map schema has no name",
                                what);
    } else if (is_avro_record(ws)) {
        if (fmt->metadata_key) {
            int index = avro_schema_record_field_get_index(ws, fmt->metadata_key);
            if (index < 0)
                return ak_error_set(err, AK_ERR_INVALID_ARG,
                                    "%s: record %s has no field '%s' (metadata-key) for the "
                                    "metadata",
                                    what, avro->write.full_name, fmt->metadata_key);
            avro_schema_t ms = resolve(avro_schema_record_field_get_by_index(ws, index));
            if (is_avro_union(ms)) {
                for (size_t i = 0; i < avro_schema_union_size(ms); i++)
                    if (is_avro_record(resolve(avro_schema_union_branch(ms, (int)i)))) {
                        avro->write.meta_union_branch = (int)i;
                        ms = resolve(avro_schema_union_branch(ms, (int)i));
                        break;
                    }
            }
            if (!is_avro_record(ms))
                return ak_error_set(err, AK_ERR_INVALID_ARG,
                                    "%s: field '%s' (metadata-key) must be a record of metadata "
                                    "fields",
                                    what, fmt->metadata_key);
            avro->write.meta_index = index;
            char where[128];
            snprintf(where, sizeof where, "%s: metadata record '%s'", what, fmt->metadata_key);
            st = kind_meta_codes(&avro->write, ms, where, err);
            if (st != AK_OK)
                return st;
        }
    } else {
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "%s must be an Avro map or record schema, not %s", what,
                            avro_schema_type_name(ws));
    }

    st = kind_init(&avro->del, AK_AVRO_DELETE_SCHEMA, sizeof AK_AVRO_DELETE_SCHEMA - 1,
                   "the delete schema", err);
    if (st != AK_OK)
        return st;
    st = kind_meta_codes(&avro->del, avro->del.schema, "the delete schema", err);
    if (st != AK_OK)
        return st;
    if (avro->write.full_name && strcmp(avro->write.full_name, avro->del.full_name) == 0)
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "%s: record name %s is the delete schema's; writes and deletes "
                            "need different names",
                            what, avro->write.full_name);

    avro->writer = avro_writer_memory("", 0);
    if (!avro->writer)
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");

    if (avro->kafka) {
        st = parse_strategy(avro, cfg, err);
        if (st != AK_OK)
            return st;
        avro->registry = ak_schema_registry_new(cfg->props, cfg->n_props, err);
        if (!avro->registry)
            return err ? err->status : AK_ERR_INVALID_ARG;
        if (cfg->registry_topic && cfg->registry_topic[0]) {
            avro->registry_topic = strdup(cfg->registry_topic);
            if (!avro->registry_topic)
                return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
        }
        avro->fixed_subject =
            avro->strategy == STRATEGY_RECORD_NAME || avro->registry_topic != NULL;
    }
    return AK_OK;
}

/* ------------------------------------------------------------ conversion */

typedef struct put_ctx {
    const ak_formatter_t *fmt;
    ak_avro_state_t *avro;
    const char *bin; /* NUL-terminated name for messages */
    ak_error_t *err;
} put_ctx_t;

/* A NUL-terminated, valid UTF-8 copy of a string in the scratch buffer
 * (avro-c wants C strings; invalid bytes become U+FFFD). */
static const char *nul_terminated(ak_avro_state_t *avro, const void *data, size_t len)
{
    ak_buf_clear(&avro->scratch);
    ak_format_utf8_sanitize(&avro->scratch, data, len);
    ak_buf_append_byte(&avro->scratch, 0);
    return ak_buf_failed(&avro->scratch) ? NULL : (const char *)avro->scratch.data;
}

/* Whether v fits schema s (not a union): exactly, or with promotion. */
static bool fits(avro_schema_t s, const ak_value_t *v, bool promote)
{
    s = resolve(s);
    switch (avro_typeof(s)) {
    case AVRO_NULL: return v->type == AK_VALUE_NIL;
    case AVRO_BOOLEAN: return v->type == AK_VALUE_BOOL;
    case AVRO_INT32:
        return v->type == AK_VALUE_INT && v->u.integer >= INT32_MIN && v->u.integer <= INT32_MAX;
    case AVRO_INT64: return v->type == AK_VALUE_INT;
    case AVRO_FLOAT:
    case AVRO_DOUBLE: return v->type == AK_VALUE_DOUBLE || (promote && v->type == AK_VALUE_INT);
    case AVRO_BYTES: return v->type == AK_VALUE_BYTES || v->type == AK_VALUE_HLL;
    case AVRO_FIXED:
        return (v->type == AK_VALUE_BYTES || v->type == AK_VALUE_HLL) &&
               (int64_t)v->u.bytes.len == avro_schema_fixed_size(s);
    case AVRO_STRING: return v->type == AK_VALUE_STRING || v->type == AK_VALUE_GEOJSON;
    case AVRO_ENUM: return v->type == AK_VALUE_STRING;
    case AVRO_ARRAY: return v->type == AK_VALUE_LIST;
    case AVRO_MAP:
    case AVRO_RECORD: return v->type == AK_VALUE_MAP;
    default: return false;
    }
}

static ak_status_t misfit(put_ctx_t *c, avro_schema_t s, const ak_value_t *v, const char *detail)
{
    char type[160];
    describe_schema(s, type, sizeof type);
    return ak_error_set(c->err, AK_ERR_UNSUPPORTED,
                        "bin '%s': value of type %s does not fit the schema type %s%s", c->bin,
                        ak_value_type_name(v), type, detail);
}

static ak_status_t put_value(put_ctx_t *c, avro_value_t *dst, avro_schema_t s, const ak_value_t *v,
                             int depth);

static ak_status_t put_map_key(put_ctx_t *c, const ak_value_t *k, const char **key)
{
    char num[32];
    if (k->type == AK_VALUE_STRING) {
        *key = nul_terminated(c->avro, k->u.bytes.data, k->u.bytes.len);
    } else if ((k->type == AK_VALUE_INT || k->type == AK_VALUE_DOUBLE) &&
               c->fmt->stringify_map_keys) {
        size_t n = k->type == AK_VALUE_INT
                       ? (size_t)snprintf(num, sizeof num, "%lld", (long long)k->u.integer)
                       : ak_format_double_text(k->u.dbl, num);
        *key = nul_terminated(c->avro, num, n);
    } else {
        return ak_error_set(c->err, AK_ERR_UNSUPPORTED,
                            "bin '%s': map key of type %s cannot be an Avro map key%s", c->bin,
                            ak_value_type_name(k),
                            (k->type == AK_VALUE_INT || k->type == AK_VALUE_DOUBLE)
                                ? " (stringify-map-keys is false)"
                                : "");
    }
    return *key ? AK_OK : ak_error_set(c->err, AK_ERR_NOMEM, "out of memory");
}

static ak_status_t put_record_from_map(put_ctx_t *c, avro_value_t *dst, avro_schema_t s,
                                       const ak_value_t *v, int depth)
{
    size_t n_fields = avro_schema_record_size(s);
    uint32_t used = 0;
    for (size_t f = 0; f < n_fields; f++) {
        const char *name = avro_schema_record_field_name(s, (int)f);
        size_t name_len = strlen(name);
        avro_schema_t fs = avro_schema_record_field_get_by_index(s, (int)f);
        avro_value_t field;
        if (avro_value_get_by_index(dst, f, &field, NULL) != 0)
            return ak_error_set(c->err, AK_ERR_UNSUPPORTED, "bin '%s': %s", c->bin,
                                avro_strerror());
        const ak_value_t *found = NULL;
        for (uint32_t i = 0; i < v->u.map.count; i++) {
            const ak_value_t *k = &v->u.map.entries[2 * i];
            if (k->type == AK_VALUE_STRING && k->u.bytes.len == name_len &&
                memcmp(k->u.bytes.data, name, name_len) == 0) {
                found = &v->u.map.entries[2 * i + 1];
                break;
            }
        }
        ak_value_t nil = ak_value_nil();
        if (found)
            used++;
        ak_status_t st = put_value(c, &field, fs, found ? found : &nil, depth + 1);
        if (st != AK_OK)
            return st;
    }
    if (used != v->u.map.count)
        return ak_error_set(c->err, AK_ERR_UNSUPPORTED,
                            "bin '%s': map has keys that are not fields of record %s", c->bin,
                            avro_schema_type_name(s));
    return AK_OK;
}

static ak_status_t put_value(put_ctx_t *c, avro_value_t *dst, avro_schema_t s, const ak_value_t *v,
                             int depth)
{
    s = resolve(s);
    if (depth >= AK_FORMAT_MAX_DEPTH)
        return ak_error_set(c->err, AK_ERR_LIMIT, "bin '%s': lists and maps nested deeper than %d",
                            c->bin, AK_FORMAT_MAX_DEPTH);
    if (is_avro_union(s)) {
        size_t n = avro_schema_union_size(s);
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < n; i++) {
                avro_schema_t b = avro_schema_union_branch(s, (int)i);
                if (!fits(b, v, pass == 1))
                    continue;
                avro_value_t branch;
                if (avro_value_set_branch(dst, (int)i, &branch) != 0)
                    return ak_error_set(c->err, AK_ERR_UNSUPPORTED, "bin '%s': %s", c->bin,
                                        avro_strerror());
                return put_value(c, &branch, b, v, depth);
            }
        return misfit(c, s, v, "");
    }
    if (!fits(s, v, true))
        return misfit(c, s, v, is_avro_int32(s) && v->type == AK_VALUE_INT ? " (out of range)" : "");
    int rc = 0;
    switch (avro_typeof(s)) {
    case AVRO_NULL: rc = avro_value_set_null(dst); break;
    case AVRO_BOOLEAN: rc = avro_value_set_boolean(dst, v->u.boolean); break;
    case AVRO_INT32: rc = avro_value_set_int(dst, (int32_t)v->u.integer); break;
    case AVRO_INT64: rc = avro_value_set_long(dst, v->u.integer); break;
    case AVRO_FLOAT:
        rc = avro_value_set_float(
            dst, (float)(v->type == AK_VALUE_INT ? (double)v->u.integer : v->u.dbl));
        break;
    case AVRO_DOUBLE:
        rc = avro_value_set_double(dst, v->type == AK_VALUE_INT ? (double)v->u.integer : v->u.dbl);
        break;
    case AVRO_BYTES:
        rc = avro_value_set_bytes(dst, (void *)(uintptr_t)v->u.bytes.data, v->u.bytes.len);
        break;
    case AVRO_FIXED:
        rc = avro_value_set_fixed(dst, (void *)(uintptr_t)v->u.bytes.data, v->u.bytes.len);
        break;
    case AVRO_STRING: {
        const char *str = nul_terminated(c->avro, v->u.bytes.data, v->u.bytes.len);
        if (!str)
            return ak_error_set(c->err, AK_ERR_NOMEM, "out of memory");
        rc = avro_value_set_string_len(dst, str, c->avro->scratch.len);
        break;
    }
    case AVRO_ENUM: {
        const char *str = nul_terminated(c->avro, v->u.bytes.data, v->u.bytes.len);
        if (!str)
            return ak_error_set(c->err, AK_ERR_NOMEM, "out of memory");
        int symbol = avro_schema_enum_get_by_name(s, str);
        if (symbol < 0)
            return misfit(c, s, v, " (not one of its symbols)");
        rc = avro_value_set_enum(dst, symbol);
        break;
    }
    case AVRO_ARRAY: {
        avro_schema_t items = avro_schema_array_items(s);
        for (uint32_t i = 0; i < v->u.list.count; i++) {
            avro_value_t elem;
            if (avro_value_append(dst, &elem, NULL) != 0)
                return ak_error_set(c->err, AK_ERR_NOMEM, "bin '%s': %s", c->bin, avro_strerror());
            ak_status_t st = put_value(c, &elem, items, &v->u.list.items[i], depth + 1);
            if (st != AK_OK)
                return st;
        }
        break;
    }
    case AVRO_MAP: {
        avro_schema_t values = avro_schema_map_values(s);
        for (uint32_t i = 0; i < v->u.map.count; i++) {
            const char *key;
            ak_status_t st = put_map_key(c, &v->u.map.entries[2 * i], &key);
            if (st != AK_OK)
                return st;
            avro_value_t elem;
            if (avro_value_add(dst, key, &elem, NULL, NULL) != 0)
                return ak_error_set(c->err, AK_ERR_NOMEM, "bin '%s': %s", c->bin, avro_strerror());
            st = put_value(c, &elem, values, &v->u.map.entries[2 * i + 1], depth + 1);
            if (st != AK_OK)
                return st;
        }
        break;
    }
    case AVRO_RECORD:
        return put_record_from_map(c, dst, s, v, depth);
    default:
        return misfit(c, s, v, "");
    }
    if (rc != 0)
        return ak_error_set(c->err, AK_ERR_UNSUPPORTED, "bin '%s': %s", c->bin, avro_strerror());
    return AK_OK;
}

/* ------------------------------------------------------------ records */

static ak_value_t meta_value(meta_field_t code, const ak_format_input_t *in,
                             const uint8_t digest[20])
{
    const ak_record_t *rec = in->rec;
    switch (code) {
    case META_NAMESPACE:
        return ak_value_bytes_of(AK_VALUE_STRING, 3, rec->ns.data, rec->ns.len);
    case META_SET:
        return rec->set.len ? ak_value_bytes_of(AK_VALUE_STRING, 3, rec->set.data, rec->set.len)
                            : ak_value_nil();
    case META_USER_KEY: return rec->has_key ? rec->key : ak_value_nil();
    case META_DIGEST: return ak_value_blob(digest, 20);
    case META_MSG:
        return rec->op == AK_RECORD_WRITE ? ak_value_string("write") : ak_value_string("delete");
    case META_GEN: return ak_value_int(rec->generation);
    case META_LUT: return rec->has_lut ? ak_value_int((int64_t)rec->lut_ms) : ak_value_nil();
    case META_EXP: return in->exp_s >= 0 ? ak_value_int(in->exp_s) : ak_value_nil();
    case META_DURABLE: return ak_value_bool(rec->op == AK_RECORD_DURABLE_DELETE);
    case META_COUNT: break;
    }
    return ak_value_nil();
}

static ak_status_t put_metadata(put_ctx_t *c, avro_kind_t *k, avro_value_t *rec_value,
                                avro_schema_t rec_schema, const ak_format_input_t *in,
                                const uint8_t digest[20])
{
    for (size_t i = 0; i < k->n_meta; i++) {
        avro_value_t field;
        if (avro_value_get_by_index(rec_value, i, &field, NULL) != 0)
            return ak_error_set(c->err, AK_ERR_UNSUPPORTED, "%s", avro_strerror());
        ak_value_t v = meta_value((meta_field_t)k->meta_codes[i], in, digest);
        c->bin = meta_names[k->meta_codes[i]];
        ak_status_t st =
            put_value(c, &field, avro_schema_record_field_get_by_index(rec_schema, (int)i), &v, 0);
        if (st != AK_OK) {
            ak_error_prefix(c->err, "metadata");
            return st;
        }
    }
    return AK_OK;
}

static ak_status_t put_write(put_ctx_t *c, const ak_format_input_t *in, const uint8_t digest[20])
{
    ak_avro_state_t *avro = c->avro;
    avro_kind_t *k = &avro->write;
    const ak_record_t *rec = in->rec;
    char name[256];
    c->bin = name;
    if (avro->write_is_map) {
        avro_schema_t values = avro_schema_map_values(k->schema);
        for (uint32_t i = 0; i < rec->n_bins; i++) {
            const ak_bin_t *bin = &rec->bins[i];
            snprintf(name, sizeof name, "%.*s", (int)bin->name.len, bin->name.data);
            avro_value_t elem;
            if (avro_value_add(&k->value, name, &elem, NULL, NULL) != 0)
                return ak_error_set(c->err, AK_ERR_NOMEM, "%s", avro_strerror());
            ak_status_t st = put_value(c, &elem, values, &bin->value, 0);
            if (st != AK_OK)
                return st;
        }
        return AK_OK;
    }
    memset(k->filled, 0, k->n_fields);
    for (uint32_t i = 0; i < rec->n_bins; i++) {
        const ak_bin_t *bin = &rec->bins[i];
        snprintf(name, sizeof name, "%.*s", (int)bin->name.len, bin->name.data);
        int index = avro_schema_record_field_get_index(k->schema, name);
        if (index < 0 || index == k->meta_index)
            return ak_error_set(c->err, AK_ERR_UNSUPPORTED,
                                "bin '%s' is not a field of record %s", name, k->full_name);
        avro_value_t field;
        if (avro_value_get_by_index(&k->value, (size_t)index, &field, NULL) != 0)
            return ak_error_set(c->err, AK_ERR_UNSUPPORTED, "%s", avro_strerror());
        ak_status_t st = put_value(
            c, &field, avro_schema_record_field_get_by_index(k->schema, index), &bin->value, 0);
        if (st != AK_OK)
            return st;
        k->filled[index] = 1;
    }
    for (size_t f = 0; f < k->n_fields; f++) {
        if (k->filled[f])
            continue;
        avro_value_t field;
        if (avro_value_get_by_index(&k->value, f, &field, NULL) != 0)
            return ak_error_set(c->err, AK_ERR_UNSUPPORTED, "%s", avro_strerror());
        avro_schema_t fs = avro_schema_record_field_get_by_index(k->schema, (int)f);
        if ((int)f == k->meta_index) {
            avro_value_t meta = field;
            avro_schema_t ms = resolve(fs);
            if (k->meta_union_branch >= 0) {
                if (avro_value_set_branch(&field, k->meta_union_branch, &meta) != 0)
                    return ak_error_set(c->err, AK_ERR_UNSUPPORTED, "%s", avro_strerror());
                ms = resolve(avro_schema_union_branch(ms, k->meta_union_branch));
            }
            ak_status_t st = put_metadata(c, k, &meta, ms, in, digest);
            if (st != AK_OK)
                return st;
            continue;
        }
        int null_branch;
        const char *field_name = avro_schema_record_field_name(k->schema, (int)f);
        if (!schema_nullable(fs, &null_branch)) {
            char type[160];
            describe_schema(fs, type, sizeof type);
            return ak_error_set(c->err, AK_ERR_UNSUPPORTED,
                                "bin '%s' is missing and field '%s' of record %s (type %s) is "
                                "not nullable",
                                field_name, field_name, k->full_name, type);
        }
        ak_value_t nil = ak_value_nil();
        c->bin = field_name;
        ak_status_t st = put_value(c, &field, fs, &nil, 0);
        if (st != AK_OK)
            return st;
    }
    return AK_OK;
}

static ak_status_t registry_id(ak_avro_state_t *avro, avro_kind_t *k, const char *topic,
                               int32_t *id, ak_error_t *err)
{
    if (avro->fixed_subject && k->registry_id >= 0) {
        *id = k->registry_id;
        return AK_OK;
    }
    ak_buf_clear(&avro->subject);
    if (avro->strategy == STRATEGY_TOPIC_RECORD_NAME) {
        const char *t = avro->registry_topic ? avro->registry_topic : topic;
        if (!t || !t[0])
            return ak_error_set(err, AK_ERR_INVALID_ARG,
                                "TopicRecordNameStrategy needs a topic (registry-topic or the "
                                "routed topic)");
        ak_buf_append_str(&avro->subject, t);
        ak_buf_append_byte(&avro->subject, '-');
    }
    ak_buf_append_str(&avro->subject, k->full_name);
    ak_buf_append_byte(&avro->subject, 0);
    if (ak_buf_failed(&avro->subject))
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    ak_status_t st = ak_schema_registry_id(avro->registry, (const char *)avro->subject.data,
                                           k->text, k->text_len, id, err);
    if (st == AK_OK && avro->fixed_subject)
        k->registry_id = *id;
    return st;
}

ak_status_t ak_format_avro_write(ak_formatter_t *fmt, const ak_format_input_t *in,
                                 const uint8_t digest[20], ak_buf_t *out, ak_error_t *err)
{
    ak_avro_state_t *avro = fmt->avro;
    bool is_write = in->rec->op == AK_RECORD_WRITE;
    avro_kind_t *k = is_write ? &avro->write : &avro->del;
    int32_t id = 0;
    if (avro->kafka) {
        /* Registered first: an unreachable registry fails before any work. */
        ak_status_t st = registry_id(avro, k, in->topic, &id, err);
        if (st != AK_OK)
            return st;
    }
    avro_value_reset(&k->value);
    put_ctx_t c = {fmt, avro, "", err};
    ak_status_t st = is_write ? put_write(&c, in, digest)
                              : put_metadata(&c, k, &k->value, k->schema, in, digest);
    if (st != AK_OK)
        return st;
    size_t size = 0;
    if (avro_value_sizeof(&k->value, &size) != 0)
        return ak_error_set(err, AK_ERR_UNSUPPORTED, "avro: %s", avro_strerror());
    if (!ak_buf_reserve(out, size + 5))
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    if (avro->kafka) {
        out->data[out->len] = 0; /* Confluent magic byte */
        ak_put_be32(out->data + out->len + 1, (uint32_t)id);
        out->len += 5;
    }
    avro_writer_memory_set_dest(avro->writer, (const char *)out->data + out->len, (int64_t)size);
    if (avro_value_write(avro->writer, &k->value) != 0)
        return ak_error_set(err, AK_ERR_UNSUPPORTED, "avro: %s", avro_strerror());
    out->len += size;
    return AK_OK;
}
