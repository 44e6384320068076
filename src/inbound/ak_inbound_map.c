/*
 * Kafka record -> ak_record_t, per topic configuration.
 */
#include "inbound/ak_inbound_map.h"

#include <nettle/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/ak_digest.h"

typedef struct ak_ib_topic_decoders {
    const ak_inbound_topic_config_t *topic;
    ak_inbound_decoder_t *value;
    ak_inbound_decoder_t *key;
} ak_ib_topic_decoders_t;

struct ak_inbound_mapper {
    const ak_inbound_config_t *cfg;
    ak_ib_topic_decoders_t *topics;
    size_t n_topics;
};

const char *ak_inbound_map_result_name(ak_inbound_map_result_t result)
{
    switch (result) {
    case AK_INBOUND_MAP_OK: return "ok";
    case AK_INBOUND_MAP_SKIP: return "skip";
    case AK_INBOUND_MAP_INVALID: return "invalid";
    case AK_INBOUND_MAP_RETRY: return "retry";
    }
    return "unknown";
}

void ak_inbound_mapper_free(ak_inbound_mapper_t *mapper)
{
    if (!mapper)
        return;
    for (size_t i = 0; i < mapper->n_topics; i++) {
        ak_inbound_decoder_free(mapper->topics[i].value);
        ak_inbound_decoder_free(mapper->topics[i].key);
    }
    free(mapper->topics);
    free(mapper);
}

ak_inbound_mapper_t *ak_inbound_mapper_new(const ak_inbound_config_t *cfg, ak_error_t *err)
{
    ak_inbound_mapper_t *mapper = calloc(1, sizeof *mapper);
    size_t n = ak_inbound_config_topic_count(cfg);
    if (!mapper || !(mapper->topics = calloc(n ? n : 1, sizeof *mapper->topics))) {
        free(mapper);
        ak_error_set(err, AK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    mapper->cfg = cfg;
    for (size_t i = 0; i < n; i++) {
        ak_ib_topic_decoders_t *d = &mapper->topics[mapper->n_topics++];
        d->topic = ak_inbound_config_topic_at(cfg, i);
        d->value = ak_inbound_decoder_new(&d->topic->value_format, err);
        d->key = d->value ? ak_inbound_decoder_new(&d->topic->key_format, err) : NULL;
        if (!d->key) {
            ak_error_prefix(err, "topics.%s", d->topic->name);
            ak_inbound_mapper_free(mapper);
            return NULL;
        }
        /* The record refers into the Kafka message, which the connector
         * holds until the record is written (ak_inbound_map's contract). */
        ak_inbound_decoder_borrow_input(d->value, true);
        ak_inbound_decoder_borrow_input(d->key, true);
    }
    return mapper;
}

/* ---- helpers ---- */

typedef struct ak_ib_map_ctx {
    const ak_inbound_kafka_record_t *in;
    const ak_inbound_topic_config_t *topic;
    ak_ib_topic_decoders_t *decoders;
    const ak_inbound_config_t *cfg;
    ak_arena_t *arena;
    ak_error_t *err;
    ak_value_t value;     /* the decoded value (NIL for a tombstone) */
    bool key_decoded;
    ak_value_t key;       /* the decoded Kafka key, once asked for */
} ak_ib_map_ctx_t;

static ak_inbound_map_result_t ak_ib_fail(ak_ib_map_ctx_t *c, ak_inbound_map_result_t result,
                                          const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static ak_inbound_map_result_t ak_ib_fail(ak_ib_map_ctx_t *c, ak_inbound_map_result_t result,
                                          const char *fmt, ...)
{
    char why[AK_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    ak_status_t st = result == AK_INBOUND_MAP_RETRY ? AK_ERR_IO : AK_ERR_INVALID_ARG;
    ak_error_set(c->err, st, "topic %.*s, partition %d, offset %lld: %s", (int)c->in->topic_len,
                 c->in->topic, (int)c->in->partition, (long long)c->in->offset, why);
    return result;
}

static bool ak_ib_str_eq(const ak_value_t *v, const char *s)
{
    size_t len = strlen(s);
    return v->type == AK_VALUE_STRING && v->u.bytes.len == len && memcmp(v->u.bytes.data, s, len) == 0;
}

/* The value's top-level field, or NULL. */
static const ak_value_t *ak_ib_field(const ak_value_t *value, const char *name)
{
    if (value->type != AK_VALUE_MAP)
        return NULL;
    for (uint32_t i = 0; i < value->u.map.count; i++)
        if (ak_ib_str_eq(&value->u.map.entries[2 * i], name))
            return &value->u.map.entries[2 * i + 1];
    return NULL;
}

static const char *ak_ib_type(const ak_value_t *v)
{
    return ak_value_type_name(v);
}

/* The decoded Kafka key (decoded once per record). */
static ak_inbound_map_result_t ak_ib_kafka_key(ak_ib_map_ctx_t *c, const ak_value_t **out)
{
    if (!c->key_decoded) {
        if (!c->in->key)
            return ak_ib_fail(c, AK_INBOUND_MAP_INVALID,
                              "the record has no Kafka key, and the mapping takes one");
        ak_error_t why;
        ak_status_t st = ak_inbound_decode(c->decoders->key, c->in->key, c->in->key_len, c->arena,
                                           &c->key, &why);
        if (st != AK_OK)
            return ak_ib_fail(c, st == AK_ERR_IO ? AK_INBOUND_MAP_RETRY : AK_INBOUND_MAP_INVALID,
                              "key: %s%s", why.message,
                              st != AK_ERR_IO && c->topic->key_format.mode == AK_INBOUND_FORMAT_JSON
                                  ? " (plain-text keys need key-format: {mode: string})"
                                  : "");
        c->key_decoded = true;
    }
    *out = &c->key;
    return AK_INBOUND_MAP_OK;
}

/* The value of a dynamic field selection; *out NULL when a value field is absent. */
static ak_inbound_map_result_t ak_ib_select(ak_ib_map_ctx_t *c, const ak_inbound_field_t *f,
                                            const char *what, const ak_value_t **out)
{
    *out = NULL;
    switch (f->source) {
    case AK_INBOUND_SOURCE_KEY:
        return ak_ib_kafka_key(c, out);
    case AK_INBOUND_SOURCE_VALUE:
        *out = &c->value;
        return AK_INBOUND_MAP_OK;
    case AK_INBOUND_SOURCE_VALUE_FIELD:
        if (c->in->value == NULL)
            return ak_ib_fail(c, AK_INBOUND_MAP_INVALID,
                              "mapping.%s comes from value field '%s', and a tombstone has no value",
                              what, f->field_name);
        if (c->value.type != AK_VALUE_MAP)
            return ak_ib_fail(c, AK_INBOUND_MAP_INVALID,
                              "mapping.%s: value field '%s' asked of a value that is a %s, not a map",
                              what, f->field_name, ak_ib_type(&c->value));
        *out = ak_ib_field(&c->value, f->field_name);
        return AK_INBOUND_MAP_OK;
    case AK_INBOUND_SOURCE_NONE:
        break;
    }
    return AK_INBOUND_MAP_OK;
}

/* A required dynamic field: absent or null is invalid. */
static ak_inbound_map_result_t ak_ib_require(ak_ib_map_ctx_t *c, const ak_inbound_field_t *f,
                                             const char *what, const ak_value_t **out)
{
    ak_inbound_map_result_t r = ak_ib_select(c, f, what, out);
    if (r != AK_INBOUND_MAP_OK)
        return r;
    if (!*out || (*out)->type == AK_VALUE_NIL)
        return ak_ib_fail(c, AK_INBOUND_MAP_INVALID, "mapping.%s: %s%s%s is %s", what,
                          f->source == AK_INBOUND_SOURCE_KEY ? "the Kafka key" : "value field '",
                          f->source == AK_INBOUND_SOURCE_KEY ? "" : f->field_name,
                          f->source == AK_INBOUND_SOURCE_KEY ? "" : "'",
                          *out ? "null" : "missing");
    return AK_INBOUND_MAP_OK;
}

static ak_inbound_map_result_t ak_ib_name(ak_ib_map_ctx_t *c, const ak_inbound_field_t *f,
                                          const char *what, size_t max, ak_str_t *out)
{
    if (f->source == AK_INBOUND_SOURCE_NONE) {
        out->data = f->value;
        out->len = strlen(f->value);
        return AK_INBOUND_MAP_OK;
    }
    const ak_value_t *v;
    ak_inbound_map_result_t r = ak_ib_require(c, f, what, &v);
    if (r != AK_INBOUND_MAP_OK)
        return r;
    if (v->type != AK_VALUE_STRING)
        return ak_ib_fail(c, AK_INBOUND_MAP_INVALID, "mapping.%s: value field '%s' is a %s, not a string",
                          what, f->field_name, ak_ib_type(v));
    if (v->u.bytes.len > max || (v->u.bytes.len == 0 && strcmp(what, "namespace") == 0))
        return ak_ib_fail(c, AK_INBOUND_MAP_INVALID,
                          "mapping.%s: \"%.*s\" from value field '%s' is %u bytes; Aerospike allows 1..%zu",
                          what, (int)(v->u.bytes.len > 40 ? 40 : v->u.bytes.len),
                          (const char *)v->u.bytes.data, f->field_name, v->u.bytes.len, max);
    out->data = (const char *)v->u.bytes.data;
    out->len = v->u.bytes.len;
    return AK_INBOUND_MAP_OK;
}

static int ak_ib_hex(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                             : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* 20 bytes from BYTES, 40 hex digits or Base64 text. */
static bool ak_ib_digest_of(const ak_value_t *v, uint8_t digest[AK_DIGEST_SIZE])
{
    if (v->type == AK_VALUE_BYTES && v->u.bytes.len == AK_DIGEST_SIZE) {
        memcpy(digest, v->u.bytes.data, AK_DIGEST_SIZE);
        return true;
    }
    if (v->type != AK_VALUE_STRING)
        return false;
    const char *s = (const char *)v->u.bytes.data;
    size_t len = v->u.bytes.len;
    if (len == 2 * AK_DIGEST_SIZE) {
        for (size_t i = 0; i < AK_DIGEST_SIZE; i++) {
            int hi = ak_ib_hex(s[2 * i]), lo = ak_ib_hex(s[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return false;
            digest[i] = (uint8_t)(hi << 4 | lo);
        }
        return true;
    }
    if (len < 27 || len > 28)
        return false;
    uint8_t out[BASE64_DECODE_LENGTH(28)];
    size_t got = sizeof out;
    struct base64_decode_ctx b64;
    base64_decode_init(&b64);
    if (!base64_decode_update(&b64, &got, out, len, s) || !base64_decode_final(&b64) ||
        got != AK_DIGEST_SIZE)
        return false;
    memcpy(digest, out, AK_DIGEST_SIZE);
    return true;
}

static ak_value_t ak_ib_bin_value(const ak_ib_map_ctx_t *c, const ak_value_t *v)
{
    /* Servers before 5.6 have no boolean particle: Aerospike's clients write 1/0. */
    if (v->type == AK_VALUE_BOOL && !c->cfg->aerospike.use_boolean_bin)
        return ak_value_int(v->u.boolean ? 1 : 0);
    return *v;
}

static ak_inbound_map_result_t ak_ib_add_bin(ak_ib_map_ctx_t *c, ak_record_t *rec, size_t cap,
                                             const char *name, size_t name_len, const ak_value_t *v)
{
    if (name_len == 0 || name_len > AK_INBOUND_BIN_NAME_MAX)
        return ak_ib_fail(c, AK_INBOUND_MAP_INVALID,
                          "field \"%.*s\" cannot be a bin: bin names are 1..%d bytes, this one has %zu",
                          (int)(name_len > 40 ? 40 : name_len), name, AK_INBOUND_BIN_NAME_MAX, name_len);
    for (uint32_t i = 0; i < rec->n_bins; i++)
        if (rec->bins[i].name.len == name_len && rec->bins[i].name.data[0] == name[0] &&
            memcmp(rec->bins[i].name.data, name, name_len) == 0)
            return ak_ib_fail(c, AK_INBOUND_MAP_INVALID, "bin \"%.*s\" appears twice in the value",
                              (int)name_len, name);
    if (rec->n_bins >= cap)
        return ak_ib_fail(c, AK_INBOUND_MAP_INVALID, "more than %d bins; a record holds at most %d",
                          AK_INBOUND_MAX_BINS, AK_INBOUND_MAX_BINS);
    ak_bin_t *bin = &rec->bins[rec->n_bins++];
    memset(bin, 0, sizeof *bin);
    bin->name.data = name;
    bin->name.len = name_len;
    bin->value = ak_ib_bin_value(c, v);
    return AK_INBOUND_MAP_OK;
}

static ak_inbound_map_result_t ak_ib_bins(ak_ib_map_ctx_t *c, ak_record_t *rec)
{
    const ak_inbound_bins_t *bins = &c->topic->mapping.bins;
    size_t cap;
    if (bins->all_value_fields) {
        if (c->value.type != AK_VALUE_MAP)
            return ak_ib_fail(c, AK_INBOUND_MAP_INVALID,
                              "bins.all-value-fields needs a value that is a map (an object, "
                              "record or struct), got a %s",
                              ak_ib_type(&c->value));
        cap = c->value.u.map.count;
        if (cap > AK_INBOUND_MAX_BINS)
            return ak_ib_fail(c, AK_INBOUND_MAP_INVALID, "%zu fields; a record holds at most %d bins",
                              cap, AK_INBOUND_MAX_BINS);
    } else {
        cap = bins->map.n;
    }
    rec->bins = ak_arena_alloc_array(c->arena, cap ? cap : 1, sizeof *rec->bins);
    if (!rec->bins)
        return ak_ib_fail(c, AK_INBOUND_MAP_INVALID, "out of memory");
    if (bins->all_value_fields) {
        for (uint32_t i = 0; i < c->value.u.map.count; i++) {
            const ak_value_t *name = &c->value.u.map.entries[2 * i];
            if (name->type != AK_VALUE_STRING)
                return ak_ib_fail(c, AK_INBOUND_MAP_INVALID,
                                  "bins.all-value-fields: a field name is a %s, not a string",
                                  ak_ib_type(name));
            ak_inbound_map_result_t r =
                ak_ib_add_bin(c, rec, cap, (const char *)name->u.bytes.data, name->u.bytes.len,
                              &c->value.u.map.entries[2 * i + 1]);
            if (r != AK_INBOUND_MAP_OK)
                return r;
        }
    } else {
        for (size_t i = 0; i < bins->map.n; i++) {
            const ak_inbound_field_t *f = bins->map.items[i].obj;
            const ak_value_t *v;
            char what[64];
            snprintf(what, sizeof what, "bins.map.%s", bins->map.items[i].name);
            ak_inbound_map_result_t r = ak_ib_select(c, f, what, &v);
            if (r != AK_INBOUND_MAP_OK)
                return r;
            if (!v)
                continue; /* a field the value lacks writes no bin */
            const char *name = bins->map.items[i].name;
            if ((r = ak_ib_add_bin(c, rec, cap, name, strlen(name), v)) != AK_INBOUND_MAP_OK)
                return r;
        }
    }
    if (rec->n_bins == 0)
        return ak_ib_fail(c, AK_INBOUND_MAP_INVALID, "no bins to write (none of the mapped "
                                                     "fields is in the value)");
    return AK_INBOUND_MAP_OK;
}

static ak_inbound_map_result_t ak_ib_ttl(ak_ib_map_ctx_t *c, uint32_t *ttl)
{
    const ak_inbound_field_t *f = &c->topic->mapping.ttl;
    int64_t seconds = 0;
    if (!f->given) {
        *ttl = AK_TTL_NAMESPACE_DEFAULT;
        return AK_INBOUND_MAP_OK;
    }
    if (f->source == AK_INBOUND_SOURCE_NONE) {
        seconds = f->number;
    } else {
        const ak_value_t *v;
        ak_inbound_map_result_t r = ak_ib_require(c, f, "ttl", &v);
        if (r != AK_INBOUND_MAP_OK)
            return r;
        const char *why = "expected seconds: -2, -1 or 0..315360000";
        bool ok = false;
        if (v->type == AK_VALUE_INT) {
            seconds = v->u.integer;
            ok = seconds >= -2 && seconds <= AK_INBOUND_TTL_MAX;
        } else if (v->type == AK_VALUE_STRING) {
            ok = ak_inbound_ttl_parse((const char *)v->u.bytes.data, v->u.bytes.len, &seconds, &why);
        }
        if (!ok) {
            char text[48] = "";
            if (v->type == AK_VALUE_INT)
                snprintf(text, sizeof text, " %lld", (long long)v->u.integer);
            else if (v->type == AK_VALUE_STRING)
                snprintf(text, sizeof text, " \"%.*s\"", (int)(v->u.bytes.len > 30 ? 30 : v->u.bytes.len),
                         (const char *)v->u.bytes.data);
            return ak_ib_fail(c, AK_INBOUND_MAP_INVALID, "mapping.ttl: value field '%s' (%s%s): %s",
                              f->field_name, ak_ib_type(v), text, why);
        }
    }
    *ttl = seconds == -1 ? AK_TTL_NEVER_EXPIRE : seconds == -2 ? AK_TTL_DONT_UPDATE : (uint32_t)seconds;
    return AK_INBOUND_MAP_OK;
}

static ak_inbound_map_result_t ak_ib_generation(ak_ib_map_ctx_t *c, uint32_t *generation)
{
    const ak_inbound_field_t *f = &c->topic->mapping.generation;
    *generation = 0;
    if (!f->given)
        return AK_INBOUND_MAP_OK;
    if (f->source == AK_INBOUND_SOURCE_NONE) {
        *generation = (uint32_t)f->number;
        return AK_INBOUND_MAP_OK;
    }
    const ak_value_t *v;
    ak_inbound_map_result_t r = ak_ib_require(c, f, "generation", &v);
    if (r != AK_INBOUND_MAP_OK)
        return r;
    if (v->type != AK_VALUE_INT || v->u.integer < 0 || v->u.integer > UINT32_MAX)
        return ak_ib_fail(c, AK_INBOUND_MAP_INVALID,
                          "mapping.generation: value field '%s' is a %s; expected an integer "
                          "0..4294967295",
                          f->field_name, ak_ib_type(v));
    *generation = (uint32_t)v->u.integer;
    return AK_INBOUND_MAP_OK;
}

static ak_inbound_map_result_t ak_ib_address(ak_ib_map_ctx_t *c, ak_record_t *rec)
{
    const ak_inbound_mapping_t *m = &c->topic->mapping;
    ak_inbound_map_result_t r = ak_ib_name(c, &m->ns, "namespace", AK_INBOUND_NAMESPACE_MAX, &rec->ns);
    if (r == AK_INBOUND_MAP_OK && m->set.given)
        r = ak_ib_name(c, &m->set, "set", AK_INBOUND_SET_MAX, &rec->set);
    if (r != AK_INBOUND_MAP_OK)
        return r;
    const ak_value_t *v;
    if (m->digest.given) {
        if ((r = ak_ib_require(c, &m->digest, "digest", &v)) != AK_INBOUND_MAP_OK)
            return r;
        if (!ak_ib_digest_of(v, rec->digest))
            return ak_ib_fail(c, AK_INBOUND_MAP_INVALID,
                              "mapping.digest: value field '%s' is not a 20-byte digest (bytes, "
                              "40 hex digits or Base64), got a %s of %u bytes",
                              m->digest.field_name, ak_ib_type(v),
                              v->type == AK_VALUE_STRING || v->type == AK_VALUE_BYTES ? v->u.bytes.len : 0);
        rec->has_digest = true;
        return AK_INBOUND_MAP_OK;
    }
    if ((r = ak_ib_require(c, &m->key_field, "key-field", &v)) != AK_INBOUND_MAP_OK)
        return r;
    if (v->type != AK_VALUE_INT && v->type != AK_VALUE_STRING && v->type != AK_VALUE_BYTES)
        return ak_ib_fail(c, AK_INBOUND_MAP_INVALID,
                          "mapping.key-field: %s is a %s; a key is an integer, a string or bytes",
                          m->key_field.source == AK_INBOUND_SOURCE_KEY ? "the Kafka key" : "the value field",
                          ak_ib_type(v));
    rec->key = *v;
    rec->has_key = c->topic->operation.send_key;
    ak_error_t why;
    if (ak_digest_compute(rec->set.data, rec->set.len, &rec->key, rec->digest, &why) != AK_OK)
        return ak_ib_fail(c, AK_INBOUND_MAP_INVALID, "mapping.key-field: %s", why.message);
    rec->has_digest = true;
    return AK_INBOUND_MAP_OK;
}

ak_inbound_map_result_t ak_inbound_map(ak_inbound_mapper_t *mapper,
                                       const ak_inbound_kafka_record_t *in, ak_arena_t *arena,
                                       ak_record_t *rec, ak_error_t *err)
{
    ak_record_init(rec);
    ak_ib_map_ctx_t c = {.in = in, .cfg = mapper->cfg, .arena = arena, .err = err,
                         .value = ak_value_nil()};
    for (size_t i = 0; i < mapper->n_topics && !c.topic; i++) {
        const char *name = mapper->topics[i].topic->name;
        if (strlen(name) == in->topic_len && memcmp(name, in->topic, in->topic_len) == 0) {
            c.decoders = &mapper->topics[i];
            c.topic = c.decoders->topic;
        }
    }
    if (!c.topic)
        return ak_ib_fail(&c, AK_INBOUND_MAP_INVALID, "the topic is not configured under topics");
    const ak_inbound_topic_config_t *t = c.topic;
    bool delete = t->operation.type == AK_INBOUND_OP_DELETE;
    if (!in->value) {
        switch (t->on_tombstone) {
        case AK_INBOUND_TOMBSTONE_IGNORE:
            ak_error_set(err, AK_OK, "topic %.*s, partition %d, offset %lld: tombstone ignored "
                                     "(on-tombstone ignore)",
                         (int)in->topic_len, in->topic, (int)in->partition, (long long)in->offset);
            return AK_INBOUND_MAP_SKIP;
        case AK_INBOUND_TOMBSTONE_FAIL:
            return ak_ib_fail(&c, AK_INBOUND_MAP_INVALID,
                              "the value is null (a tombstone) and on-tombstone is fail");
        case AK_INBOUND_TOMBSTONE_DELETE:
            delete = true;
            break;
        }
    } else {
        ak_error_t why;
        ak_status_t st = ak_inbound_decode(c.decoders->value, in->value, in->value_len, arena,
                                           &c.value, &why);
        if (st != AK_OK)
            return ak_ib_fail(&c, st == AK_ERR_IO ? AK_INBOUND_MAP_RETRY : AK_INBOUND_MAP_INVALID,
                              "value: %s", why.message);
    }
    ak_inbound_map_result_t r = ak_ib_address(&c, rec);
    if (r == AK_INBOUND_MAP_OK)
        r = ak_ib_generation(&c, &rec->generation);
    if (r != AK_INBOUND_MAP_OK)
        return r;
    rec->generation_policy = t->operation.generation_policy;
    rec->commit_level = t->operation.commit_level;
    if (delete) {
        rec->op = t->operation.durable_delete ? AK_RECORD_DURABLE_DELETE : AK_RECORD_DELETE;
        return AK_INBOUND_MAP_OK;
    }
    rec->op = AK_RECORD_WRITE;
    rec->exists_action = t->operation.record_exists_action;
    if ((r = ak_ib_ttl(&c, &rec->ttl)) != AK_INBOUND_MAP_OK)
        return r;
    return ak_ib_bins(&c, rec);
}
