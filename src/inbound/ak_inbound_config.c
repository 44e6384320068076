/*
 * aerospike-kafka-inbound.yml: one ak_config table per section and the
 * checks that span keys (which key source a field may use, key-field vs
 * digest, tombstone deletes, errors.* inheritance from the top level).
 */
#include "inbound/ak_inbound_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AK_IB_PATH_MAX 256
#define AK_IB_SCHEMA_MAX (16u * 1024 * 1024)
#define AK_IB_DEFAULT_GROUP_ID "aerospike-kafka-inbound"

#define AK_IB_JAVA_PLUGIN                                                                          \
    "needs a Java plug-in (a message transformer), and aerokafka cannot run Java plug-ins; use "  \
    "`mapping` (see docs/INBOUND.md)"

#define AK_IB_JKS                                                                                  \
    "Java key stores are not supported: aerokafka needs PEM files (ca-file, cert-file, "          \
    "key-file); convert with keytool -importkeystore -deststoretype PKCS12, then openssl pkcs12 " \
    "-nodes"

#define AK_CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define AK_N(a) (sizeof(a) / sizeof((a)[0]))

static const ak_yaml_node_t *ak_ib_line_of(const ak_yaml_node_t *node, const char *key,
                                           const ak_yaml_node_t *fallback)
{
    const ak_yaml_node_t *k = ak_yaml_get_key(node, key);
    return k ? k : fallback ? fallback : node;
}

static bool ak_ib_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ======================================================================
 * TTL
 * ====================================================================== */

bool ak_inbound_ttl_parse(const char *text, size_t len, int64_t *ttl, const char **why)
{
    *why = "expected seconds, optionally with a suffix S, M, H or D (100H, 10M, 1D), or -1 "
           "(never expire), -2 (keep the TTL), 0 (namespace default)";
    if (len == 0 || len > 24)
        return false;
    char buf[32];
    memcpy(buf, text, len);
    buf[len] = '\0';
    int64_t unit = 1;
    char last = (char)toupper((unsigned char)buf[len - 1]);
    if (last == 'S' || last == 'M' || last == 'H' || last == 'D') {
        unit = last == 'S' ? 1 : last == 'M' ? 60 : last == 'H' ? 3600 : 86400;
        buf[--len] = '\0';
    }
    if (len == 0 || !(isdigit((unsigned char)buf[0]) || (buf[0] == '-' && len > 1)))
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    if (v < 0) {
        if (unit != 1 || (v != -1 && v != -2))
            return false;
        *ttl = v;
        return true;
    }
    if (v > AK_INBOUND_TTL_MAX / unit) {
        *why = "more than 10 years (315360000 seconds), which the server refuses";
        return false;
    }
    *ttl = v * unit;
    return true;
}

/* ======================================================================
 * value-format, key-format
 * ====================================================================== */

static const ak_config_enum_t ak_ib_format_modes[] = {
    {.name = "json", .value = AK_INBOUND_FORMAT_JSON},
    {.name = "connect-json", .value = AK_INBOUND_FORMAT_CONNECT_JSON},
    {.name = "avro", .value = AK_INBOUND_FORMAT_AVRO},
    {.name = "kafka-avro", .value = AK_INBOUND_FORMAT_KAFKA_AVRO},
    {.name = "message-pack", .value = AK_INBOUND_FORMAT_MESSAGE_PACK},
    {.name = "string", .value = AK_INBOUND_FORMAT_STRING},
    {.name = "bytes", .value = AK_INBOUND_FORMAT_BYTES},
    {.name = NULL},
};

static void ak_ib_props_free(void *field)
{
    ak_inbound_format_config_t *f = AK_CONTAINER(field, ak_inbound_format_config_t, props);
    for (size_t i = 0; i < f->n_props; i++) {
        free(f->props[i].name);
        free(f->props[i].value);
    }
    free(f->props);
    f->props = NULL;
    f->n_props = 0;
}

static ak_status_t ak_ib_props_parse(ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                     const char *path, const ak_yaml_node_t *node, void *field,
                                     ak_error_t *err)
{
    (void)key;
    /* Straight into the ak_format_prop_t layout the registry client takes. */
    ak_inbound_format_config_t *f = AK_CONTAINER(field, ak_inbound_format_config_t, props);
    char got[64];
    if (node->kind != AK_YAML_MAPPING) {
        ak_yaml_describe(node, got, sizeof got);
        return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG,
                               "%s: expected a mapping of names to values, got %s", path, got);
    }
    f->props = calloc(node->n_pairs ? node->n_pairs : 1, sizeof *f->props);
    if (!f->props)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < node->n_pairs; i++) {
        const ak_yaml_node_t *name = node->pairs[i].key, *value = node->pairs[i].value;
        if (value->kind == AK_YAML_NULL)
            continue;
        char sub[AK_IB_PATH_MAX];
        ak_config_join_path(sub, sizeof sub, path, name->text);
        char *v = ak_config_scalar_string(ctx, sub, value, true, err);
        if (!v)
            return err ? err->status : AK_ERR_INVALID_ARG;
        f->props[f->n_props].value = v;
        f->props[f->n_props].name = strdup(name->text);
        if (!f->props[f->n_props++].name)
            return ak_config_error(ctx, name, err, AK_ERR_NOMEM, "%s: out of memory", path);
    }
    return AK_OK;
}

static const char *ak_ib_prop(const ak_inbound_format_config_t *f, const char *name)
{
    for (size_t i = 0; i < f->n_props; i++)
        if (strcmp(f->props[i].name, name) == 0)
            return f->props[i].value;
    return NULL;
}

static ak_status_t ak_ib_read_file(ak_config_ctx_t *ctx, const char *path, const char *key,
                                   const ak_yaml_node_t *line, const char *file, size_t max,
                                   char **out, ak_error_t *err)
{
    FILE *fp = fopen(file, "rb");
    if (!fp)
        return ak_config_error(ctx, line, err, AK_ERR_IO, "%s.%s: cannot read %s: %s", path, key,
                               file, strerror(errno));
    ak_buf_t text;
    ak_buf_init(&text);
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0 && text.len <= max)
        ak_buf_append(&text, chunk, got);
    bool failed = ferror(fp) != 0;
    fclose(fp);
    if (failed || text.len > max || text.len == 0) {
        ak_buf_free(&text);
        return ak_config_error(ctx, line, err, AK_ERR_IO, "%s.%s: %s is %s", path, key, file,
                               failed ? "unreadable" : text.len ? "too large" : "empty");
    }
    ak_buf_append_byte(&text, 0);
    if (ak_buf_failed(&text)) {
        ak_buf_free(&text);
        return ak_config_error(ctx, line, err, AK_ERR_NOMEM, "%s.%s: out of memory", path, key);
    }
    *out = (char *)text.data;
    return AK_OK;
}

static ak_status_t ak_ib_format_validate(ak_config_ctx_t *ctx, const char *path,
                                         const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                         void *obj, ak_error_t *err)
{
    ak_inbound_format_config_t *f = obj;
    if (!node)
        return AK_OK;
    const char *mode = ak_inbound_format_mode_name(f->mode);
    bool avro = f->mode == AK_INBOUND_FORMAT_AVRO, kafka_avro = f->mode == AK_INBOUND_FORMAT_KAFKA_AVRO;
    bool has_schema = f->schema != NULL, has_file = f->schema_file != NULL;
    if (!avro && !kafka_avro) {
        const char *extra = has_schema ? "schema" : has_file ? "schema-file" : f->n_props ? "props" : NULL;
        if (extra)
            return ak_config_error(ctx, ak_ib_line_of(node, extra, key_node), err, AK_ERR_INVALID_ARG,
                                   "%s.%s: applies to modes avro and kafka-avro only, not %s", path,
                                   extra, mode);
        return AK_OK;
    }
    if (has_schema && has_file)
        return ak_config_error(ctx, ak_ib_line_of(node, "schema-file", key_node), err,
                               AK_ERR_INVALID_ARG, "%s: give schema or schema-file, not both", path);
    const char *url = ak_ib_prop(f, "schema.registry.url");
    if (avro && f->n_props)
        return ak_config_error(ctx, ak_ib_line_of(node, "props", key_node), err, AK_ERR_INVALID_ARG,
                               "%s.props: applies to kafka-avro (the Schema Registry); avro takes "
                               "a fixed schema",
                               path);
    if (avro && !has_schema && !has_file)
        return ak_config_error(ctx, key_node, err, AK_ERR_INVALID_ARG,
                               "%s.schema: required when mode is avro (or schema-file)", path);
    if (kafka_avro && !url && !has_schema && !has_file)
        return ak_config_error(ctx, key_node, err, AK_ERR_INVALID_ARG,
                               "%s.props.schema.registry.url: required when mode is kafka-avro "
                               "(or a fixed schema / schema-file)",
                               path);
    if (kafka_avro && url && (has_schema || has_file))
        return ak_config_error(ctx, ak_ib_line_of(node, has_schema ? "schema" : "schema-file", key_node),
                               err, AK_ERR_INVALID_ARG,
                               "%s: give props.schema.registry.url or a fixed schema, not both", path);
    if (has_file) {
        ak_status_t st = ak_ib_read_file(ctx, path, "schema-file", ak_yaml_get(node, "schema-file"),
                                         f->schema_file, AK_IB_SCHEMA_MAX, &f->schema, err);
        if (st != AK_OK)
            return st;
    }
    /* Build a decoder once: parses the schema, checks the registry props. */
    ak_error_t why;
    ak_inbound_decoder_t *dec = ak_inbound_decoder_new(f, &why);
    if (!dec) {
        const char *at = has_schema ? "schema" : has_file ? "schema-file" : "props";
        return ak_config_error(ctx, ak_ib_line_of(node, at, key_node), err, AK_ERR_INVALID_ARG,
                               "%s.%s: %s", path, at, why.message);
    }
    ak_inbound_decoder_free(dec);
    return AK_OK;
}

static const ak_config_key_t ak_ib_format_keys[] = {
    {.name = "mode", .type = AK_CFG_ENUM, .offset = offsetof(ak_inbound_format_config_t, mode),
     .values = ak_ib_format_modes, .def = "json", .in_aerospike = false,
     .help = "json: plain JSON. connect-json: Kafka Connect's {\"schema\", \"payload\"} envelope. "
             "avro: Avro binary with a fixed schema. kafka-avro: Confluent framing (magic byte, "
             "schema id) with the schema from a Schema Registry or fixed. message-pack: one "
             "MessagePack object. string: UTF-8 text. bytes: raw bytes."},
    {.name = "schema", .type = AK_CFG_STRING, .offset = offsetof(ak_inbound_format_config_t, schema),
     .in_aerospike = false,
     .help = "avro (required), kafka-avro (instead of a registry): the writer's Avro schema as "
             "JSON text. Give this or schema-file."},
    {.name = "schema-file", .type = AK_CFG_PATH,
     .offset = offsetof(ak_inbound_format_config_t, schema_file), .in_aerospike = false,
     .help = "File holding the Avro schema, read at start."},
    {.name = "props", .type = AK_CFG_CUSTOM, .offset = offsetof(ak_inbound_format_config_t, props),
     .parse = ak_ib_props_parse, .free_fn = ak_ib_props_free,
     .type_doc = "mapping of names to strings", .in_aerospike = false,
     .help = "kafka-avro: the Schema Registry client's settings, with the names Confluent's "
             "deserializer reads: `schema.registry.url` (a comma list is tried in order), "
             "`basic.auth.credentials.source` (URL or USER_INFO), `basic.auth.user.info`, "
             "`schema.registry.ssl.truststore.location` (PEM), "
             "`schema.registry.ssl.keystore.location` / `.type` / `.password`."},
};

static const ak_config_table_t ak_ib_format_table = {
    .name = "topics.<topic>.value-format",
    .doc = "How the bytes of a Kafka message value (or, as `key-format`, of its key) are read "
           "(an aerokafka extension; see docs/INBOUND.md for the value each format yields). The "
           "default is `json` for both: a JSON integer key `42` becomes an integer Aerospike "
           "key and `\"42\"` a string key, as with Kafka Connect's JsonConverter. Plain-text "
           "keys such as `user-1` need `key-format: {mode: string}`.",
    .size = sizeof(ak_inbound_format_config_t),
    .keys = ak_ib_format_keys,
    .n_keys = AK_N(ak_ib_format_keys),
    .validate = ak_ib_format_validate,
};

/* ======================================================================
 * field selections (namespace, set, key-field, digest, ttl, generation, bins)
 * ====================================================================== */

static const ak_config_enum_t ak_ib_field_modes[] = {
    {.name = "static", .value = AK_INBOUND_FIELD_STATIC},
    {.name = "dynamic", .value = AK_INBOUND_FIELD_DYNAMIC},
    {.name = NULL},
};

static const ak_config_enum_t ak_ib_sources[] = {
    {.name = "key", .value = AK_INBOUND_SOURCE_KEY},
    {.name = "value-field", .value = AK_INBOUND_SOURCE_VALUE_FIELD},
    {.name = "value", .value = AK_INBOUND_SOURCE_VALUE},
    {.name = NULL},
};

enum {
    AK_IB_ALLOW_STATIC = 1,
    AK_IB_ALLOW_KEY = 2,
    AK_IB_ALLOW_VALUE_FIELD = 4,
    AK_IB_ALLOW_VALUE = 8,
};

/* One table serves every field selection (so the reference shows it once);
 * which forms a field accepts depends on where it is, told by its path. */
static int ak_ib_field_allowed(const char *path, const char **what)
{
    if (strstr(path, ".bins.map.")) {
        *what = "a bin";
        return AK_IB_ALLOW_VALUE_FIELD | AK_IB_ALLOW_KEY | AK_IB_ALLOW_VALUE;
    }
    if (ak_ib_ends_with(path, ".key-field")) {
        *what = "key-field";
        return AK_IB_ALLOW_KEY | AK_IB_ALLOW_VALUE_FIELD;
    }
    if (ak_ib_ends_with(path, ".digest")) {
        *what = "digest";
        return AK_IB_ALLOW_VALUE_FIELD;
    }
    *what = ak_ib_ends_with(path, ".namespace") ? "namespace"
            : ak_ib_ends_with(path, ".set")     ? "set"
            : ak_ib_ends_with(path, ".ttl")     ? "ttl"
                                                : "generation";
    return AK_IB_ALLOW_STATIC | AK_IB_ALLOW_VALUE_FIELD;
}

static void ak_ib_describe_allowed(int allowed, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s%s",
             allowed & AK_IB_ALLOW_STATIC ? "{mode: static, value: ...}, " : "",
             allowed & AK_IB_ALLOW_KEY ? "{source: key}, " : "",
             allowed & AK_IB_ALLOW_VALUE ? "{source: value}, " : "",
             "{mode: dynamic, source: value-field, field-name: ...}");
}

static ak_status_t ak_ib_field_validate(ak_config_ctx_t *ctx, const char *path,
                                        const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                        void *obj, ak_error_t *err)
{
    ak_inbound_field_t *f = obj;
    if (!node)
        return AK_OK;
    f->given = true;
    const char *what;
    int allowed = ak_ib_field_allowed(path, &what);
    char forms[200];
    ak_ib_describe_allowed(allowed, forms, sizeof forms);
    const ak_yaml_node_t *at = key_node ? key_node : node;
    if (!f->has_mode)
        f->mode = f->has_source || !f->has_value ? AK_INBOUND_FIELD_DYNAMIC : AK_INBOUND_FIELD_STATIC;
    if (f->mode == AK_INBOUND_FIELD_STATIC) {
        if (!(allowed & AK_IB_ALLOW_STATIC))
            return ak_config_error(ctx, ak_ib_line_of(node, "mode", at), err, AK_ERR_INVALID_ARG,
                                   "%s: %s cannot be static; expected %s", path, what, forms);
        if (!f->has_value)
            return ak_config_error(ctx, at, err, AK_ERR_INVALID_ARG,
                                   "%s.value: required when mode is static", path);
        if (f->has_source || f->field_name)
            return ak_config_error(ctx, ak_ib_line_of(node, f->has_source ? "source" : "field-name", at),
                                   err, AK_ERR_INVALID_ARG,
                                   "%s: a static value takes no %s", path,
                                   f->has_source ? "source" : "field-name");
        f->source = AK_INBOUND_SOURCE_NONE;
        return AK_OK;
    }
    if (f->has_value)
        return ak_config_error(ctx, ak_ib_line_of(node, "value", at), err, AK_ERR_INVALID_ARG,
                               "%s.value: only with mode static", path);
    if (!f->has_source)
        return ak_config_error(ctx, at, err, AK_ERR_INVALID_ARG, "%s.source: required; expected %s",
                               path, forms);
    int needed = f->source == AK_INBOUND_SOURCE_KEY           ? AK_IB_ALLOW_KEY
                 : f->source == AK_INBOUND_SOURCE_VALUE_FIELD ? AK_IB_ALLOW_VALUE_FIELD
                                                              : AK_IB_ALLOW_VALUE;
    if (!(allowed & needed))
        return ak_config_error(ctx, ak_ib_line_of(node, "source", at), err, AK_ERR_INVALID_ARG,
                               "%s.source: %s cannot come from the %s; expected %s", path, what,
                               f->source == AK_INBOUND_SOURCE_KEY ? "Kafka key" : "whole value", forms);
    if (f->source == AK_INBOUND_SOURCE_VALUE_FIELD && (!f->field_name || !f->field_name[0]))
        return ak_config_error(ctx, at, err, AK_ERR_INVALID_ARG,
                               "%s.field-name: required when source is value-field", path);
    if (f->source != AK_INBOUND_SOURCE_VALUE_FIELD && f->field_name)
        return ak_config_error(ctx, ak_ib_line_of(node, "field-name", at), err, AK_ERR_INVALID_ARG,
                               "%s.field-name: only with source value-field", path);
    return AK_OK;
}

static const ak_config_key_t ak_ib_field_keys[] = {
    {.name = "mode", .type = AK_CFG_ENUM, .offset = offsetof(ak_inbound_field_t, mode),
     .values = ak_ib_field_modes, AK_CFG_PRESENT(ak_inbound_field_t, has_mode),
     .def_doc = "`static` with `value`, else `dynamic`", .in_aerospike = true,
     .help = "static: the `value` written here. dynamic: taken from each record, per `source`."},
    {.name = "value", .type = AK_CFG_STRING, .offset = offsetof(ak_inbound_field_t, value),
     AK_CFG_PRESENT(ak_inbound_field_t, has_value), .in_aerospike = true,
     .help = "static: the namespace, set, TTL or generation."},
    {.name = "source", .type = AK_CFG_ENUM, .offset = offsetof(ak_inbound_field_t, source),
     .values = ak_ib_sources, AK_CFG_PRESENT(ak_inbound_field_t, has_source), .in_aerospike = true,
     .help = "dynamic: `value-field` (a top-level field of the value, named by `field-name`), "
             "`key` (the Kafka key; key-field and bins), `value` (the whole value; bins only, an "
             "aerokafka extension)."},
    {.name = "field-name", .type = AK_CFG_STRING, .offset = offsetof(ak_inbound_field_t, field_name),
     .in_aerospike = true, .help = "value-field: the field's name, matched exactly (no nested paths)."},
};

static const ak_config_table_t ak_ib_field_table = {
    .name = "field selection",
    .doc = "How `namespace`, `set`, `key-field`, `digest`, `ttl`, `generation` and each entry "
           "of `bins.map` get their value: `{mode: static, value: X}`, `{mode: dynamic, "
           "source: value-field, field-name: F}` or `{source: key}`. namespace, set, ttl and "
           "generation may be static or a value field; key-field the Kafka key or a value field; "
           "digest a value field; a bin a value field, the Kafka key or the whole value.",
    .size = sizeof(ak_inbound_field_t),
    .keys = ak_ib_field_keys,
    .n_keys = AK_N(ak_ib_field_keys),
    .validate = ak_ib_field_validate,
};

/* ======================================================================
 * bins, mapping
 * ====================================================================== */

static const ak_config_enum_t ak_ib_bin_types[] = {
    {.name = "multi-bins", .value = 0},
    {.name = NULL},
};

static ak_status_t ak_ib_bins_validate(ak_config_ctx_t *ctx, const char *path,
                                       const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                       void *obj, ak_error_t *err)
{
    ak_inbound_bins_t *bins = obj;
    if (!node)
        return AK_OK;
    bins->given = true;
    if (bins->all_value_fields && bins->map.n)
        return ak_config_error(ctx, ak_ib_line_of(node, "map", key_node), err, AK_ERR_INVALID_ARG,
                               "%s: give all-value-fields: true or a map, not both", path);
    if (!bins->all_value_fields && !bins->map.n)
        return ak_config_error(ctx, key_node ? key_node : node, err, AK_ERR_INVALID_ARG,
                               "%s: expected all-value-fields: true or a non-empty map of bins",
                               path);
    if (bins->map.n > AK_INBOUND_MAX_BINS)
        return ak_config_error(ctx, ak_ib_line_of(node, "map", key_node), err, AK_ERR_LIMIT,
                               "%s.map: %zu bins; a record holds at most %d", path, bins->map.n,
                               AK_INBOUND_MAX_BINS);
    for (size_t i = 0; i < bins->map.n; i++) {
        size_t len = strlen(bins->map.items[i].name);
        if (len > AK_INBOUND_BIN_NAME_MAX) {
            ak_yaml_node_t at = {.line = bins->map.items[i].line};
            return ak_config_error(ctx, &at, err, AK_ERR_INVALID_ARG,
                                   "%s.map.%s: bin names are at most %d bytes, this one has %zu",
                                   path, bins->map.items[i].name, AK_INBOUND_BIN_NAME_MAX, len);
        }
        const ak_inbound_field_t *f = bins->map.items[i].obj;
        if (!f->given) {
            ak_yaml_node_t at = {.line = bins->map.items[i].line};
            return ak_config_error(ctx, &at, err, AK_ERR_INVALID_ARG,
                                   "%s.map.%s: expected {source: value-field, field-name: ...}",
                                   path, bins->map.items[i].name);
        }
    }
    return AK_OK;
}

static const ak_config_key_t ak_ib_bins_keys[] = {
    {.name = "type", .type = AK_CFG_ENUM, .offset = offsetof(ak_inbound_bins_t, type),
     .values = ak_ib_bin_types, .def = "multi-bins", .in_aerospike = true,
     .help = "multi-bins: one bin per selected field (the only type aerokafka knows)."},
    {.name = "all-value-fields", .type = AK_CFG_BOOL,
     .offset = offsetof(ak_inbound_bins_t, all_value_fields), .def = "false", .in_aerospike = true,
     .help = "Every top-level field of the value becomes a bin of the same name (the value "
             "must be a map; a field whose name is longer than 15 bytes makes the record invalid)."},
    {.name = "map", .type = AK_CFG_SECTION_MAP, .offset = offsetof(ak_inbound_bins_t, map),
     .section = &ak_ib_field_table, .in_aerospike = true,
     .help = "`<bin>: {source: value-field, field-name: F}`: the bins to write, each from a value "
             "field (renamed to the bin name), the Kafka key, or the whole value. A field the "
             "value lacks writes no bin."},
};

static const ak_config_table_t ak_ib_bins_table = {
    .name = "topics.<topic>.mapping.bins",
    .doc = "Which bins a write carries. Nested objects and arrays become maps and lists; "
           "booleans and doubles keep their types. A null field writes a nil bin, which "
           "deletes that bin from the record.",
    .size = sizeof(ak_inbound_bins_t),
    .keys = ak_ib_bins_keys,
    .n_keys = AK_N(ak_ib_bins_keys),
    .validate = ak_ib_bins_validate,
};

static ak_status_t ak_ib_mapping_validate(ak_config_ctx_t *ctx, const char *path,
                                          const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                          void *obj, ak_error_t *err)
{
    ak_inbound_mapping_t *m = obj;
    if (!node)
        return AK_OK;
    if (m->key_field.given && m->digest.given)
        return ak_config_error(ctx, ak_ib_line_of(node, "digest", key_node), err, AK_ERR_INVALID_ARG,
                               "%s: give key-field or digest, not both", path);
    if (!m->key_field.given && !m->digest.given)
        return ak_config_error(ctx, key_node ? key_node : node, err, AK_ERR_INVALID_ARG,
                               "%s.key-field: required (or digest): every record needs a key", path);
    if (m->ns.source == AK_INBOUND_SOURCE_NONE) {
        size_t len = strlen(m->ns.value);
        if (len == 0 || len > AK_INBOUND_NAMESPACE_MAX)
            return ak_config_error(ctx, ak_yaml_get(ak_yaml_get(node, "namespace"), "value"), err,
                                   AK_ERR_INVALID_ARG,
                                   "%s.namespace.value: expected 1..%d bytes, got \"%.40s\" (%zu bytes)",
                                   path, AK_INBOUND_NAMESPACE_MAX, m->ns.value, len);
    }
    if (m->set.given && m->set.source == AK_INBOUND_SOURCE_NONE) {
        size_t len = strlen(m->set.value);
        if (len == 0 || len > AK_INBOUND_SET_MAX)
            return ak_config_error(ctx, ak_yaml_get(ak_yaml_get(node, "set"), "value"), err,
                                   AK_ERR_INVALID_ARG,
                                   "%s.set.value: expected 1..%d bytes (leave set out for no set), "
                                   "got \"%.40s\" (%zu bytes)",
                                   path, AK_INBOUND_SET_MAX, m->set.value, len);
    }
    if (m->ttl.given && m->ttl.source == AK_INBOUND_SOURCE_NONE) {
        const char *why;
        if (!ak_inbound_ttl_parse(m->ttl.value, strlen(m->ttl.value), &m->ttl.number, &why))
            return ak_config_error(ctx, ak_yaml_get(ak_yaml_get(node, "ttl"), "value"), err,
                                   AK_ERR_INVALID_ARG, "%s.ttl.value: %s, got \"%.40s\"", path, why,
                                   m->ttl.value);
    }
    if (m->generation.given && m->generation.source == AK_INBOUND_SOURCE_NONE) {
        char *end = NULL;
        errno = 0;
        long long g = strtoll(m->generation.value, &end, 10);
        if (errno || *end || !m->generation.value[0] || g < 0 || g > UINT32_MAX)
            return ak_config_error(ctx, ak_yaml_get(ak_yaml_get(node, "generation"), "value"), err,
                                   AK_ERR_INVALID_ARG,
                                   "%s.generation.value: expected an integer 0..4294967295, got \"%.40s\"",
                                   path, m->generation.value);
        m->generation.number = g;
    }
    return AK_OK;
}

static const ak_config_key_t ak_ib_mapping_keys[] = {
    {.name = "namespace", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_mapping_t, ns),
     .section = &ak_ib_field_table, .required = true, .in_aerospike = true,
     .help = "The namespace: static or from a value field (1..31 bytes)."},
    {.name = "set", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_mapping_t, set),
     .section = &ak_ib_field_table, .def_doc = "no set", .in_aerospike = true,
     .help = "The set: static or from a value field (1..63 bytes)."},
    {.name = "key-field", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_mapping_t, key_field),
     .section = &ak_ib_field_table, .in_aerospike = true,
     .help = "The user key: `{source: key}` (the Kafka key) or a value field. Integers, strings "
             "and bytes are keys; a JSON `42` is an integer key, `\"42\"` a string key. Give "
             "this or `digest`."},
    {.name = "digest", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_mapping_t, digest),
     .section = &ak_ib_field_table, .in_aerospike = true,
     .help = "The record digest from a value field instead of a key: 20 bytes, as bytes, 40 hex "
             "digits or Base64 text."},
    {.name = "ttl", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_mapping_t, ttl),
     .section = &ak_ib_field_table, .def_doc = "`0` (namespace default)", .in_aerospike = true,
     .help = "Seconds, or with a suffix S/M/H/D (`100H`); -1 never expire, -2 keep the TTL, 0 "
             "the namespace default; at most 10 years. Static or from a value field (integer or "
             "such text)."},
    {.name = "generation", .type = AK_CFG_SECTION,
     .offset = offsetof(ak_inbound_mapping_t, generation), .section = &ak_ib_field_table,
     .in_aerospike = false,
     .help = "The generation compared by `aerospike-operation.generation-policy` (required with "
             "it): static or from a value field."},
    {.name = "bins", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_mapping_t, bins),
     .section = &ak_ib_bins_table, .in_aerospike = true,
     .help = "The bins of a write (required for writes)."},
};

static const ak_config_table_t ak_ib_mapping_table = {
    .name = "topics.<topic>.mapping",
    .doc = "How a Kafka record becomes an Aerospike record (spec inbound.md §3.4). Fields are "
           "read from the decoded value's top level (a map: JSON object, Avro record, Connect "
           "struct, MessagePack map).",
    .size = sizeof(ak_inbound_mapping_t),
    .keys = ak_ib_mapping_keys,
    .n_keys = AK_N(ak_ib_mapping_keys),
    .validate = ak_ib_mapping_validate,
};

/* ======================================================================
 * aerospike-operation
 * ====================================================================== */

static const ak_config_enum_t ak_ib_op_types[] = {
    {.name = "write", .value = AK_INBOUND_OP_WRITE},
    {.name = "delete", .value = AK_INBOUND_OP_DELETE},
    {.name = NULL},
};

static const ak_config_enum_t ak_ib_exists_actions[] = {
    {.name = "update", .value = AK_EXISTS_UPDATE},
    {.name = "update-only", .value = AK_EXISTS_UPDATE_ONLY},
    {.name = "replace", .value = AK_EXISTS_REPLACE},
    {.name = "replace-only", .value = AK_EXISTS_REPLACE_ONLY},
    {.name = "create-only", .value = AK_EXISTS_CREATE_ONLY},
    {.name = NULL},
};

static const ak_config_enum_t ak_ib_generation_policies[] = {
    {.name = "none", .value = AK_GEN_NONE},
    {.name = "expect-gen-equal", .value = AK_GEN_EQ},
    {.name = "expect-gen-gt", .value = AK_GEN_GT},
    {.name = NULL},
};

static const ak_config_enum_t ak_ib_commit_levels[] = {
    {.name = "commit-all", .value = AK_COMMIT_ALL},
    {.name = "commit-master", .value = AK_COMMIT_MASTER},
    {.name = NULL},
};

static ak_status_t ak_ib_operation_validate(ak_config_ctx_t *ctx, const char *path,
                                            const ak_yaml_node_t *key_node,
                                            const ak_yaml_node_t *node, void *obj, ak_error_t *err)
{
    ak_inbound_operation_t *op = obj;
    if (!node || op->type != AK_INBOUND_OP_DELETE)
        return AK_OK;
    const char *write_only = op->has_record_exists_action ? "record-exists-action"
                             : op->has_send_key           ? "send-key"
                                                          : NULL;
    if (write_only)
        return ak_config_error(ctx, ak_ib_line_of(node, write_only, key_node), err,
                               AK_ERR_INVALID_ARG, "%s.%s: applies to writes, and type is delete",
                               path, write_only);
    return AK_OK;
}

static const ak_config_key_t ak_ib_operation_keys[] = {
    {.name = "type", .type = AK_CFG_ENUM, .offset = offsetof(ak_inbound_operation_t, type),
     .values = ak_ib_op_types, .def = "write", .in_aerospike = true,
     .help = "write: put the mapped bins. delete: delete the mapped record (bins are not needed)."},
    {.name = "record-exists-action", .type = AK_CFG_ENUM,
     .offset = offsetof(ak_inbound_operation_t, record_exists_action), .values = ak_ib_exists_actions,
     .def = "update", AK_CFG_PRESENT(ak_inbound_operation_t, has_record_exists_action),
     .in_aerospike = true,
     .help = "Writes: update (create or merge bins), update-only, replace (create or replace "
             "all bins), replace-only, create-only."},
    {.name = "generation-policy", .type = AK_CFG_ENUM,
     .offset = offsetof(ak_inbound_operation_t, generation_policy),
     .values = ak_ib_generation_policies, .def = "none", .in_aerospike = true,
     .help = "none, expect-gen-equal (apply only if the stored generation equals "
             "`mapping.generation`), expect-gen-gt (only if it is lower)."},
    {.name = "commit-level", .type = AK_CFG_ENUM, .offset = offsetof(ak_inbound_operation_t, commit_level),
     .values = ak_ib_commit_levels, .def = "commit-all", .in_aerospike = true,
     .help = "commit-all: the server answers after every replica applied it; commit-master: after "
             "the master."},
    {.name = "send-key", .type = AK_CFG_BOOL, .offset = offsetof(ak_inbound_operation_t, send_key),
     .def = "false", AK_CFG_PRESENT(ak_inbound_operation_t, has_send_key), .in_aerospike = true,
     .help = "Writes: store the user key with the record."},
    {.name = "durable-delete", .type = AK_CFG_BOOL,
     .offset = offsetof(ak_inbound_operation_t, durable_delete), .def = "false", .in_aerospike = true,
     .help = "Deletes (type delete and tombstones): leave a tombstone (Enterprise servers)."},
    {.name = "max-retries", .type = AK_CFG_INT, .offset = offsetof(ak_inbound_operation_t, max_retries),
     .min = 0, .max = 1000, .def = "2", .in_aerospike = true,
     .help = "Times the client retries a write that timed out or found no node, before the "
             "failure goes to `errors.retry.*`."},
    {.name = "total-timeout", .type = AK_CFG_INT,
     .offset = offsetof(ak_inbound_operation_t, total_timeout_ms), .min = 0, .max = 86400000,
     .def = "0", .def_doc = "`0` (no limit)", .in_aerospike = true,
     .help = "Milliseconds for a write including its retries; 0: no limit."},
    {.name = "socket-timeout", .type = AK_CFG_INT,
     .offset = offsetof(ak_inbound_operation_t, socket_timeout_ms), .min = 0, .max = 86400000,
     .def = "30000", .in_aerospike = true, .help = "Milliseconds per attempt; 0: no limit."},
};

static const ak_config_table_t ak_ib_operation_table = {
    .name = "topics.<topic>.aerospike-operation",
    .doc = "How records are applied (spec inbound.md §3.5; the option names follow Aerospike's "
           "JMS inbound connector, as Aerospike documents no Kafka list).",
    .size = sizeof(ak_inbound_operation_t),
    .keys = ak_ib_operation_keys,
    .n_keys = AK_N(ak_ib_operation_keys),
    .validate = ak_ib_operation_validate,
};

/* ======================================================================
 * errors.* (top level and per topic)
 * ====================================================================== */

static const ak_config_enum_t ak_ib_tolerances[] = {
    {.name = "none", .value = AK_INBOUND_TOLERANCE_NONE},
    {.name = "all", .value = AK_INBOUND_TOLERANCE_ALL},
    {.name = NULL},
};

#define AK_IB_ERRORS_KEYS(stype, member)                                                            \
    {.name = "errors.tolerance", .type = AK_CFG_ENUM, .offset = offsetof(stype, member.tolerance),   \
     .values = ak_ib_tolerances, .def = "none", .def_doc = "from `invalid-record`",                 \
     AK_CFG_PRESENT(stype, member.has_tolerance), .in_aerospike = false,                            \
     .help = "Kafka Connect's name for `invalid-record`: none = kill-task, all = ignore. A "       \
             "topic's invalid-record wins over a top-level errors.tolerance; on the same topic "   \
             "the two must agree."},                                                                \
    {.name = "errors.deadletterqueue.topic.name", .type = AK_CFG_STRING,                            \
     .offset = offsetof(stype, member.dlq_topic), AK_CFG_PRESENT(stype, member.has_dlq_topic),       \
     .def_doc = "none", .in_aerospike = false,                                                      \
     .help = "Invalid records are produced to this topic (unchanged key, value and headers) "      \
             "before they are skipped. Needs invalid-record ignore (errors.tolerance all)."},       \
    {.name = "errors.deadletterqueue.context.headers.enable", .type = AK_CFG_BOOL,                  \
     .offset = offsetof(stype, member.dlq_context_headers), .def = "false",                         \
     AK_CFG_PRESENT(stype, member.has_dlq_context_headers), .in_aerospike = false,                  \
     .help = "Add `__connect.errors.*` headers (topic, partition, offset, reason) to "             \
             "dead-lettered records, as Kafka Connect does."},                                      \
    {.name = "errors.retry.timeout", .type = AK_CFG_INT,                                            \
     .offset = offsetof(stype, member.retry_timeout_ms), .min = -1, .max = INT64_MAX, .def = "-1",   \
     .def_doc = "`-1` (forever)", AK_CFG_PRESENT(stype, member.has_retry_timeout),                  \
     .in_aerospike = false,                                                                         \
     .help = "Milliseconds a transient failure (Aerospike unreachable or timing out, a Schema "    \
             "Registry down) is retried before the connector stops; -1: forever. Transient "       \
             "failures never go to the dead-letter queue."},                                        \
    {.name = "errors.retry.delay.max.ms", .type = AK_CFG_INT,                                       \
     .offset = offsetof(stype, member.retry_delay_max_ms), .min = 1, .max = 86400000,               \
     .def = "60000", AK_CFG_PRESENT(stype, member.has_retry_delay_max), .in_aerospike = false,      \
     .help = "Longest wait between retries (the wait doubles from 100 ms up to this)."}

/* ======================================================================
 * topics.<topic>
 * ====================================================================== */

static const ak_config_enum_t ak_ib_invalid_actions[] = {
    {.name = "ignore", .value = AK_INBOUND_INVALID_IGNORE},
    {.name = "kill-task", .value = AK_INBOUND_INVALID_KILL_TASK},
    {.name = NULL},
};

static const ak_config_enum_t ak_ib_tombstone_actions[] = {
    {.name = "fail", .value = AK_INBOUND_TOMBSTONE_FAIL},
    {.name = "delete", .value = AK_INBOUND_TOMBSTONE_DELETE},
    {.name = "ignore", .value = AK_INBOUND_TOMBSTONE_IGNORE},
    {.name = NULL},
};

static bool ak_ib_uses_key(const ak_inbound_mapping_t *m)
{
    if (m->key_field.source == AK_INBOUND_SOURCE_KEY)
        return true;
    for (size_t i = 0; i < m->bins.map.n; i++)
        if (((const ak_inbound_field_t *)m->bins.map.items[i].obj)->source == AK_INBOUND_SOURCE_KEY)
            return true;
    return false;
}

static ak_status_t ak_ib_topic_validate(ak_config_ctx_t *ctx, const char *path,
                                        const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                        void *obj, ak_error_t *err)
{
    ak_inbound_topic_config_t *t = obj;
    const ak_inbound_mapping_t *m = &t->mapping;
    const ak_yaml_node_t *mapping = ak_yaml_get(node, "mapping");
    if (t->operation.type == AK_INBOUND_OP_WRITE && !m->bins.given)
        return ak_config_error(ctx, ak_ib_line_of(node, "mapping", key_node), err, AK_ERR_INVALID_ARG,
                               "%s.mapping.bins: required for writes (aerospike-operation.type "
                               "write)",
                               path);
    if (t->operation.type == AK_INBOUND_OP_DELETE && m->bins.given)
        return ak_config_error(ctx, ak_ib_line_of(mapping, "bins", key_node), err, AK_ERR_INVALID_ARG,
                               "%s.mapping.bins: a delete writes no bins (aerospike-operation.type "
                               "is delete)",
                               path);
    if ((t->operation.generation_policy != AK_GEN_NONE) != m->generation.given)
        return ak_config_error(ctx, ak_ib_line_of(mapping, "generation", key_node), err,
                               AK_ERR_INVALID_ARG, "%s: %s", path,
                               m->generation.given
                                   ? "mapping.generation: only with aerospike-operation."
                                     "generation-policy expect-gen-equal or expect-gen-gt"
                                   : "mapping.generation: required with aerospike-operation."
                                     "generation-policy other than none");
    if (t->on_tombstone == AK_INBOUND_TOMBSTONE_DELETE) {
        /* A tombstone has no value: everything must come from the key or the file. */
        const char *needs_value =
            m->ns.source == AK_INBOUND_SOURCE_VALUE_FIELD    ? "namespace"
            : m->set.source == AK_INBOUND_SOURCE_VALUE_FIELD ? "set"
            : m->digest.given                                ? "digest"
            : m->key_field.source != AK_INBOUND_SOURCE_KEY   ? "key-field"
                                                             : NULL;
        if (needs_value)
            return ak_config_error(ctx, ak_ib_line_of(node, "on-tombstone", key_node), err,
                                   AK_ERR_INVALID_ARG,
                                   "%s.on-tombstone: delete needs the record's address without a "
                                   "value, but mapping.%s comes from the value (use a static "
                                   "namespace/set and key-field {source: key})",
                                   path, needs_value);
    }
    if (t->key_format.mode != AK_INBOUND_FORMAT_JSON && ak_yaml_get(node, "key-format") &&
        !ak_ib_uses_key(m))
        ak_config_note(ctx, ak_yaml_get_key(node, "key-format"),
                       "%s.key-format: not used: the mapping takes nothing from the Kafka key", path);
    return AK_OK;
}

static const ak_config_key_t ak_ib_topic_keys[] = {
    {.name = "invalid-record", .type = AK_CFG_ENUM,
     .offset = offsetof(ak_inbound_topic_config_t, invalid_record), .values = ak_ib_invalid_actions,
     AK_CFG_PRESENT(ak_inbound_topic_config_t, has_invalid_record),
     .def_doc = "from `errors.tolerance`; one of the two is required", .in_aerospike = true,
     .help = "A record that cannot be decoded or mapped: ignore (skip it, or dead-letter it) or "
             "kill-task (stop the connector)."},
    {.name = "mapping", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_topic_config_t, mapping),
     .section = &ak_ib_mapping_table, .required = true, .in_aerospike = true,
     .help = "Kafka record -> Aerospike record."},
    {.name = "aerospike-operation", .type = AK_CFG_SECTION,
     .offset = offsetof(ak_inbound_topic_config_t, operation), .section = &ak_ib_operation_table,
     .def_doc = "`{type: write}`", .in_aerospike = true, .help = "Write or delete, and the policies."},
    {.name = "value-format", .type = AK_CFG_SECTION,
     .offset = offsetof(ak_inbound_topic_config_t, value_format), .section = &ak_ib_format_table,
     .def_doc = "`{mode: json}`", .in_aerospike = false, .help = "How message values are read."},
    {.name = "key-format", .type = AK_CFG_SECTION,
     .offset = offsetof(ak_inbound_topic_config_t, key_format), .section = &ak_ib_format_table,
     .def_doc = "`{mode: json}`", .in_aerospike = false,
     .help = "How message keys are read (same keys as value-format)."},
    {.name = "on-tombstone", .type = AK_CFG_ENUM,
     .offset = offsetof(ak_inbound_topic_config_t, on_tombstone), .values = ak_ib_tombstone_actions,
     .def = "fail", AK_CFG_PRESENT(ak_inbound_topic_config_t, has_on_tombstone), .in_aerospike = false,
     .help = "A record with a null value: fail (an invalid record, handled per invalid-record), "
             "delete (delete the record its key names; needs a static namespace and set and "
             "key-field {source: key}), ignore (skip it)."},
    {.name = "message-transformer", .type = AK_CFG_REJECT, .in_aerospike = true,
     .help = AK_IB_JAVA_PLUGIN},
    AK_IB_ERRORS_KEYS(ak_inbound_topic_config_t, errors),
};

static const ak_config_table_t ak_ib_topic_table = {
    .name = "topics.<topic>",
    .doc = "One Kafka topic: how its records are read and written. Topics are named exactly "
           "(no patterns). The `errors.*` keys default to the top level's.",
    .size = sizeof(ak_inbound_topic_config_t),
    .keys = ak_ib_topic_keys,
    .n_keys = AK_N(ak_ib_topic_keys),
    .validate = ak_ib_topic_validate,
};

/* ======================================================================
 * aerospike
 * ====================================================================== */

static const ak_config_key_t ak_ib_seed_keys[] = {
    {.name = "port", .type = AK_CFG_INT, .offset = offsetof(ak_inbound_seed_t, port), .min = 1,
     .max = 65535, .def = "3000", .in_aerospike = true, .help = "The node's service port."},
    {.name = "tls-name", .type = AK_CFG_STRING, .offset = offsetof(ak_inbound_seed_t, tls_name),
     .def_doc = "the host", .in_aerospike = true,
     .help = "The name the node's TLS certificate carries."},
};

static const ak_config_table_t ak_ib_seed_table = {
    .name = "aerospike.seeds[]",
    .doc = "A seed node: a bare host (`- 192.168.50.2`) or a host with options "
           "(`- 192.168.50.1: {port: 4333, tls-name: red}`). The connector connects to the "
           "first seed that answers and discovers the other nodes.",
    .size = sizeof(ak_inbound_seed_t),
    .keys = ak_ib_seed_keys,
    .n_keys = AK_N(ak_ib_seed_keys),
};

static void ak_ib_seeds_free(void *field)
{
    ak_inbound_aerospike_t *as = AK_CONTAINER(field, ak_inbound_aerospike_t, seeds);
    for (size_t i = 0; i < as->n_seeds; i++) {
        ak_config_free(&ak_ib_seed_table, &as->seeds[i]);
        free(as->seeds[i].host);
    }
    free(as->seeds);
    as->seeds = NULL;
    as->n_seeds = 0;
}

static ak_status_t ak_ib_seeds_parse(ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                     const char *path, const ak_yaml_node_t *node, void *field,
                                     ak_error_t *err)
{
    (void)key;
    ak_inbound_aerospike_t *as = AK_CONTAINER(field, ak_inbound_aerospike_t, seeds);
    size_t n = node->kind == AK_YAML_SEQUENCE ? node->n_items : 1;
    if (n == 0)
        return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG, "%s: expected at least one seed",
                               path);
    as->seeds = calloc(n, sizeof *as->seeds);
    if (!as->seeds)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        const ak_yaml_node_t *item = node->kind == AK_YAML_SEQUENCE ? node->items[i] : node;
        char sub[AK_IB_PATH_MAX], got[64];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        ak_inbound_seed_t *seed = &as->seeds[as->n_seeds++];
        seed->line = item->line;
        const ak_yaml_node_t *host = item, *options = NULL;
        if (item->kind == AK_YAML_MAPPING && item->n_pairs == 1) {
            host = item->pairs[0].key;
            options = item->pairs[0].value;
        } else if (item->kind != AK_YAML_SCALAR) {
            ak_yaml_describe(item, got, sizeof got);
            return ak_config_error(ctx, item, err, AK_ERR_INVALID_ARG,
                                   "%s: expected a host or `host: {port: ..., tls-name: ...}`, got %s",
                                   sub, got);
        }
        if (host->len == 0)
            return ak_config_error(ctx, item, err, AK_ERR_INVALID_ARG, "%s: empty host", sub);
        seed->host = strdup(host->text);
        if (!seed->host)
            return ak_config_error(ctx, item, err, AK_ERR_NOMEM, "%s: out of memory", path);
        char opt_path[AK_IB_PATH_MAX];
        ak_config_join_path(opt_path, sizeof opt_path, sub, host->text);
        ak_status_t st = ak_config_parse(ctx, &ak_ib_seed_table, opt_path, host, options, seed, err);
        if (st != AK_OK)
            return st;
    }
    return AK_OK;
}

static const ak_config_enum_t ak_ib_auth_modes[] = {
    {.name = "internal", .value = AK_INBOUND_AUTH_INTERNAL},
    {.name = "external", .value = AK_INBOUND_AUTH_EXTERNAL},
    {.name = "external-insecure", .value = AK_INBOUND_AUTH_EXTERNAL_INSECURE},
    {.name = "pki", .value = AK_INBOUND_AUTH_PKI},
    {.name = NULL},
};

static ak_status_t ak_ib_credentials_validate(ak_config_ctx_t *ctx, const char *path,
                                              const ak_yaml_node_t *key_node,
                                              const ak_yaml_node_t *node, void *obj, ak_error_t *err)
{
    ak_inbound_credentials_t *c = obj;
    if (!node)
        return AK_OK;
    if (c->auth_mode != AK_INBOUND_AUTH_INTERNAL)
        return ak_config_error(ctx, ak_ib_line_of(node, "auth-mode", key_node), err, AK_ERR_UNSUPPORTED,
                               "%s.auth-mode: %s is not supported: aerokafka's Aerospike client logs in "
                               "with internal authentication (a user and password the server checks) only",
                               path, ak_ib_auth_modes[c->auth_mode].name);
    if (c->auth_mode == AK_INBOUND_AUTH_PKI) {
        if (c->password_file)
            return ak_config_error(ctx, ak_ib_line_of(node, "password-file", key_node), err,
                                   AK_ERR_INVALID_ARG,
                                   "%s.password-file: pki authenticates with the TLS client "
                                   "certificate, not a password",
                                   path);
        return AK_OK;
    }
    if (!c->username || !c->password_file)
        return ak_config_error(ctx, key_node ? key_node : node, err, AK_ERR_INVALID_ARG,
                               "%s.%s: required with auth-mode %s", path,
                               c->username ? "password-file" : "username",
                               ak_ib_auth_modes[c->auth_mode].name);
    ak_status_t st = ak_ib_read_file(ctx, path, "password-file", ak_yaml_get(node, "password-file"),
                                     c->password_file, 4096, &c->password, err);
    if (st != AK_OK)
        return st;
    size_t len = strlen(c->password);
    while (len && (c->password[len - 1] == '\n' || c->password[len - 1] == '\r'))
        c->password[--len] = '\0';
    return AK_OK;
}

static void ak_ib_credentials_free_extra(void *obj)
{
    ak_inbound_credentials_t *c = obj;
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
        c->password = NULL;
    }
}

static const ak_config_key_t ak_ib_credentials_keys[] = {
    {.name = "username", .type = AK_CFG_STRING, .offset = offsetof(ak_inbound_credentials_t, username),
     .in_aerospike = true, .help = "The Aerospike user."},
    {.name = "password-file", .type = AK_CFG_PATH,
     .offset = offsetof(ak_inbound_credentials_t, password_file), .in_aerospike = true,
     .help = "File holding the password (one line; a trailing newline is dropped), read at start."},
    {.name = "auth-mode", .type = AK_CFG_ENUM, .offset = offsetof(ak_inbound_credentials_t, auth_mode),
     .values = ak_ib_auth_modes, .def = "internal", .in_aerospike = true,
     .help = "internal (a password checked by the server). The Aerospike clients' other modes "
             "(external for LDAP, external-insecure, pki) are refused: aerokafka's client does not "
             "log in that way."},
};

static const ak_config_table_t ak_ib_credentials_table = {
    .name = "aerospike.credentials",
    .doc = "Authentication (security-enabled Enterprise servers). The password is never written "
           "in this file.",
    .size = sizeof(ak_inbound_credentials_t),
    .keys = ak_ib_credentials_keys,
    .n_keys = AK_N(ak_ib_credentials_keys),
    .validate = ak_ib_credentials_validate,
    .free_extra = ak_ib_credentials_free_extra,
};

static ak_status_t ak_ib_tls_validate(ak_config_ctx_t *ctx, const char *path,
                                      const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                      void *obj, ak_error_t *err)
{
    ak_inbound_tls_t *tls = obj;
    if (!node)
        return AK_OK;
    for (size_t i = 0; i < tls->protocols.n; i++)
        if (strcmp(tls->protocols.items[i], "TLSv1.2") != 0 &&
            strcmp(tls->protocols.items[i], "TLSv1.3") != 0)
            return ak_config_error(ctx, ak_yaml_get(node, "protocols"), err, AK_ERR_INVALID_ARG,
                                   "%s.protocols: expected TLSv1.2 or TLSv1.3, got \"%s\"", path,
                                   tls->protocols.items[i]);
    if ((tls->cert_file != NULL) != (tls->key_file != NULL))
        return ak_config_error(ctx, key_node ? key_node : node, err, AK_ERR_INVALID_ARG,
                               "%s.%s: required with %s", path,
                               tls->cert_file ? "key-file" : "cert-file",
                               tls->cert_file ? "cert-file" : "key-file");
    return AK_OK;
}

static const ak_config_key_t ak_ib_tls_keys[] = {
    {.name = "ca-file", .type = AK_CFG_PATH, .offset = offsetof(ak_inbound_tls_t, ca_file),
     .def_doc = "the system's CAs", .in_aerospike = false,
     .help = "PEM CA certificates the nodes' certificates must chain to (replaces trust-store)."},
    {.name = "cert-file", .type = AK_CFG_PATH, .offset = offsetof(ak_inbound_tls_t, cert_file),
     .in_aerospike = false,
     .help = "PEM client certificate, for servers that ask for one and for auth-mode pki "
             "(replaces key-store)."},
    {.name = "key-file", .type = AK_CFG_PATH, .offset = offsetof(ak_inbound_tls_t, key_file),
     .in_aerospike = false, .help = "PEM private key of cert-file (unencrypted)."},
    {.name = "protocols", .type = AK_CFG_STRING_LIST, .offset = offsetof(ak_inbound_tls_t, protocols),
     .def = "TLSv1.2", .in_aerospike = true, .help = "TLS versions offered: TLSv1.2, TLSv1.3."},
    {.name = "ciphers", .type = AK_CFG_STRING_LIST, .offset = offsetof(ak_inbound_tls_t, ciphers),
     .in_aerospike = true, .help = "Cipher suites by OpenSSL name; empty: OpenSSL's defaults."},
    {.name = "key-store", .type = AK_CFG_REJECT, .in_aerospike = true, .help = AK_IB_JKS},
    {.name = "trust-store", .type = AK_CFG_REJECT, .in_aerospike = true, .help = AK_IB_JKS},
};

static const ak_config_table_t ak_ib_tls_table = {
    .name = "aerospike.tls",
    .doc = "TLS to the Aerospike nodes, with PEM files (present: every connection uses TLS; "
           "give the TLS port on each seed and, when the certificate name is not the host, its "
           "tls-name). Aerospike's connectors take Java key stores instead; aerokafka refuses "
           "them and names the PEM keys.",
    .size = sizeof(ak_inbound_tls_t),
    .keys = ak_ib_tls_keys,
    .n_keys = AK_N(ak_ib_tls_keys),
    .validate = ak_ib_tls_validate,
};

static const ak_config_key_t ak_ib_aerospike_keys[] = {
    {.name = "seeds", .type = AK_CFG_CUSTOM, .offset = offsetof(ak_inbound_aerospike_t, seeds),
     .parse = ak_ib_seeds_parse, .free_fn = ak_ib_seeds_free, .section = &ak_ib_seed_table,
     .type_doc = "list of hosts or `host: {port, tls-name}`", .required = true, .in_aerospike = true,
     .help = "Nodes to connect to first."},
    {.name = "cluster-name", .type = AK_CFG_STRING,
     .offset = offsetof(ak_inbound_aerospike_t, cluster_name), .def_doc = "not checked",
     .in_aerospike = true, .help = "The cluster's name; nodes of another cluster are refused."},
    {.name = "credentials", .type = AK_CFG_SECTION_PTR,
     .offset = offsetof(ak_inbound_aerospike_t, credentials), .section = &ak_ib_credentials_table,
     .def_doc = "none", .in_aerospike = true, .help = "User and password file."},
    {.name = "tls", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_aerospike_t, tls),
     .section = &ak_ib_tls_table, AK_CFG_PRESENT(ak_inbound_aerospike_t, tls.enabled),
     .def_doc = "off", .in_aerospike = true, .help = "TLS (PEM files)."},
    {.name = "connect-timeout", .type = AK_CFG_INT,
     .offset = offsetof(ak_inbound_aerospike_t, connect_timeout_ms), .min = 1, .max = 600000,
     .def = "1000", .in_aerospike = true, .help = "Milliseconds to open a connection to a node."},
    {.name = "login-timeout", .type = AK_CFG_INT,
     .offset = offsetof(ak_inbound_aerospike_t, login_timeout_ms), .min = 1, .max = 600000,
     .def = "5000", .in_aerospike = true, .help = "Milliseconds for authentication."},
    {.name = "tend-interval", .type = AK_CFG_INT,
     .offset = offsetof(ak_inbound_aerospike_t, tend_interval_ms), .min = 10, .max = 600000,
     .def = "1000", .in_aerospike = true,
     .help = "Milliseconds between checks of the cluster's nodes and partition map."},
    {.name = "max-connections-per-node", .type = AK_CFG_INT,
     .offset = offsetof(ak_inbound_aerospike_t, max_connections_per_node), .min = 1, .max = 1024,
     .def = "2", .in_aerospike = true,
     .help = "Connections kept to each node at most. aerokafka's client pipelines many commands on "
             "each connection, so a few suffice (the Java client's 100 are for one command per "
             "connection)."},
    {.name = "use-boolean-bin", .type = AK_CFG_BOOL,
     .offset = offsetof(ak_inbound_aerospike_t, use_boolean_bin), .def = "true", .in_aerospike = true,
     .help = "Write booleans as boolean particles (servers 5.6+); false: as integers 1 and 0."},
};

static const ak_config_table_t ak_ib_aerospike_table = {
    .name = "aerospike",
    .doc = "The Aerospike cluster records are written to (spec inbound.md §3.2).",
    .size = sizeof(ak_inbound_aerospike_t),
    .keys = ak_ib_aerospike_keys,
    .n_keys = AK_N(ak_ib_aerospike_keys),
};

/* ======================================================================
 * service, logging
 * ====================================================================== */

static const ak_config_key_t ak_ib_manage_keys[] = {
    {.name = "address", .type = AK_CFG_STRING, .offset = offsetof(ak_inbound_manage_t, address),
     .def = "0.0.0.0", .in_aerospike = true, .help = "Address of the management API."},
    {.name = "port", .type = AK_CFG_INT, .offset = offsetof(ak_inbound_manage_t, port), .min = 1,
     .max = 65535, .required = true, .in_aerospike = true,
     .help = "Port of the management API (metrics, health)."},
};

static const ak_config_table_t ak_ib_manage_table = {
    .name = "service.manage",
    .doc = "The inbound management API (metrics in JSON and Prometheus form, health). Served "
           "only when this section is present.",
    .size = sizeof(ak_inbound_manage_t),
    .keys = ak_ib_manage_keys,
    .n_keys = AK_N(ak_ib_manage_keys),
};

typedef struct ak_ib_service {
    ak_inbound_manage_t manage;
} ak_ib_service_t;

static const ak_config_key_t ak_ib_service_keys[] = {
    {.name = "manage", .type = AK_CFG_SECTION, .offset = offsetof(ak_ib_service_t, manage),
     .section = &ak_ib_manage_table, AK_CFG_PRESENT(ak_ib_service_t, manage.enabled),
     .def_doc = "off", .in_aerospike = true, .help = "Management API listener."},
};

static const ak_config_table_t ak_ib_service_table = {
    .name = "service (inbound)",
    .doc = "The inbound connector listens only for its management API.",
    .size = sizeof(ak_ib_service_t),
    .keys = ak_ib_service_keys,
    .n_keys = AK_N(ak_ib_service_keys),
};

static void ak_ib_levels_free(void *field)
{
    ak_inbound_logging_t *log = AK_CONTAINER(field, ak_inbound_logging_t, levels);
    for (size_t i = 0; i < log->n_levels; i++)
        free(log->levels[i].logger);
    free(log->levels);
    log->levels = NULL;
    log->n_levels = 0;
}

static ak_status_t ak_ib_levels_parse(ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                      const char *path, const ak_yaml_node_t *node, void *field,
                                      ak_error_t *err)
{
    (void)key;
    ak_inbound_logging_t *log = AK_CONTAINER(field, ak_inbound_logging_t, levels);
    char got[64];
    if (node->kind != AK_YAML_MAPPING) {
        ak_yaml_describe(node, got, sizeof got);
        return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG,
                               "%s: expected a mapping of logger names to levels, got %s", path, got);
    }
    log->levels = calloc(node->n_pairs + 1, sizeof *log->levels);
    if (!log->levels)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < node->n_pairs; i++) {
        const ak_yaml_node_t *value = node->pairs[i].value;
        char lower[16] = "";
        for (size_t c = 0; value->kind == AK_YAML_SCALAR && c < value->len && c < sizeof lower - 1; c++)
            lower[c] = (char)tolower((unsigned char)value->text[c]);
        ak_log_level_t level;
        if (value->kind != AK_YAML_SCALAR || value->len >= sizeof lower ||
            !ak_log_level_parse(lower, &level)) {
            ak_yaml_describe(value, got, sizeof got);
            return ak_config_error(ctx, value, err, AK_ERR_INVALID_ARG,
                                   "%s.%s: expected one of trace, debug, info, warn, error, off, got %s",
                                   path, node->pairs[i].key->text, got);
        }
        log->levels[log->n_levels].logger = strdup(node->pairs[i].key->text);
        log->levels[log->n_levels].level = level;
        if (!log->levels[log->n_levels++].logger)
            return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    }
    return AK_OK;
}

static ak_status_t ak_ib_logging_validate(ak_config_ctx_t *ctx, const char *path,
                                          const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                          void *obj, ak_error_t *err)
{
    (void)key_node;
    ak_inbound_logging_t *log = obj;
    for (size_t i = 0; i < log->n_levels; i++)
        if (strcmp(log->levels[i].logger, "root") == 0) {
            ak_inbound_log_level_t root = log->levels[i];
            memmove(log->levels + 1, log->levels, i * sizeof *log->levels);
            log->levels[0] = root;
            return AK_OK;
        }
    ak_inbound_log_level_t *levels = realloc(log->levels, (log->n_levels + 1) * sizeof *levels);
    if (!levels)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    memmove(levels + 1, levels, log->n_levels * sizeof *levels);
    levels[0].logger = strdup("root");
    levels[0].level = AK_LOG_INFO;
    log->levels = levels;
    log->n_levels++;
    if (!levels[0].logger)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    return AK_OK;
}

static const ak_config_key_t ak_ib_logging_keys[] = {
    {.name = "file", .type = AK_CFG_STRING, .offset = offsetof(ak_inbound_logging_t, file),
     .in_aerospike = true, .help = "Log file; none: no file."},
    {.name = "enable-console-logging", .type = AK_CFG_BOOL,
     .offset = offsetof(ak_inbound_logging_t, enable_console_logging), .def = "false",
     .in_aerospike = true, .help = "Also log to the console (stderr)."},
    {.name = "levels", .type = AK_CFG_CUSTOM, .offset = offsetof(ak_inbound_logging_t, levels),
     .parse = ak_ib_levels_parse, .free_fn = ak_ib_levels_free, .def_doc = "`{root: info}`",
     .type_doc = "mapping of logger names to `trace`, `debug`, `info`, `warn`, `error`, `off`",
     .in_aerospike = true, .help = "`root` sets aerokafka's level; other names are kept."},
    {.name = "max-history", .type = AK_CFG_INT, .offset = offsetof(ak_inbound_logging_t, max_history),
     .min = 0, .max = 100000, .def = "30", .in_aerospike = true,
     .help = "Rotated log files kept (one per day)."},
    {.name = "ticker-interval", .type = AK_CFG_INT,
     .offset = offsetof(ak_inbound_logging_t, ticker_interval_s), .min = 0, .max = 86400,
     .def = "10", .in_aerospike = true, .help = "Seconds between metric summaries; 0: none."},
};

static const ak_config_table_t ak_ib_logging_table = {
    .name = "logging (inbound)",
    .doc = "As the outbound connector's `logging`.",
    .size = sizeof(ak_inbound_logging_t),
    .keys = ak_ib_logging_keys,
    .n_keys = AK_N(ak_ib_logging_keys),
    .validate = ak_ib_logging_validate,
};

/* ======================================================================
 * top level
 * ====================================================================== */

static bool ak_ib_topic_name_legal(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 249 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
            return false;
    return true;
}

/* The effective invalid-record action and errors.* of one topic. */
static ak_status_t ak_ib_resolve_errors(ak_config_ctx_t *ctx, const ak_inbound_errors_t *top,
                                        ak_config_named_t *named, const ak_yaml_node_t *topic_node,
                                        ak_error_t *err)
{
    ak_inbound_topic_config_t *t = named->obj;
    ak_inbound_errors_t *e = &t->errors;
    ak_yaml_node_t at = {.line = named->line};
    const char *name = named->name;
    if (t->has_invalid_record && e->has_tolerance &&
        (t->invalid_record == AK_INBOUND_INVALID_IGNORE) != (e->tolerance == AK_INBOUND_TOLERANCE_ALL))
        return ak_config_error(ctx, ak_ib_line_of(topic_node, "errors.tolerance", &at), err,
                               AK_ERR_INVALID_ARG,
                               "topics.%s: invalid-record %s and errors.tolerance %s disagree "
                               "(ignore goes with all, kill-task with none)",
                               name, ak_ib_invalid_actions[t->invalid_record].name,
                               ak_ib_tolerances[e->tolerance].name);
#define AK_IB_INHERIT(flag, field)                                                                 \
    if (!e->flag && top->flag) {                                                                   \
        e->field = top->field;                                                                     \
        e->flag = true;                                                                            \
    }
    AK_IB_INHERIT(has_tolerance, tolerance);
    AK_IB_INHERIT(has_dlq_context_headers, dlq_context_headers);
    AK_IB_INHERIT(has_retry_timeout, retry_timeout_ms);
    AK_IB_INHERIT(has_retry_delay_max, retry_delay_max_ms);
#undef AK_IB_INHERIT
    if (!e->has_dlq_topic && top->has_dlq_topic) {
        e->dlq_topic = strdup(top->dlq_topic);
        e->has_dlq_topic = true;
        if (!e->dlq_topic)
            return ak_config_error(ctx, &at, err, AK_ERR_NOMEM, "topics.%s: out of memory", name);
    }
    if (!t->has_invalid_record) {
        if (!e->has_tolerance)
            return ak_config_error(ctx, &at, err, AK_ERR_INVALID_ARG,
                                   "topics.%s.invalid-record: required (ignore or kill-task; or "
                                   "errors.tolerance at the top level)",
                                   name);
        t->invalid_record = e->tolerance == AK_INBOUND_TOLERANCE_ALL ? AK_INBOUND_INVALID_IGNORE
                                                                     : AK_INBOUND_INVALID_KILL_TASK;
    }
    e->tolerance = t->invalid_record == AK_INBOUND_INVALID_IGNORE ? AK_INBOUND_TOLERANCE_ALL
                                                                  : AK_INBOUND_TOLERANCE_NONE;
    if (e->dlq_topic) {
        if (!ak_ib_topic_name_legal(e->dlq_topic))
            return ak_config_error(ctx, &at, err, AK_ERR_INVALID_ARG,
                                   "topics.%s: errors.deadletterqueue.topic.name: expected a Kafka "
                                   "topic name (1..249 of a-z A-Z 0-9 . _ -), got \"%.60s\"",
                                   name, e->dlq_topic);
        if (t->invalid_record == AK_INBOUND_INVALID_KILL_TASK)
            return ak_config_error(ctx, &at, err, AK_ERR_INVALID_ARG,
                                   "topics.%s: errors.deadletterqueue.topic.name needs "
                                   "invalid-record ignore (errors.tolerance all): with kill-task "
                                   "nothing reaches the dead-letter queue",
                                   name);
        if (strcmp(e->dlq_topic, name) == 0)
            return ak_config_error(ctx, &at, err, AK_ERR_INVALID_ARG,
                                   "topics.%s: the dead-letter queue cannot be the topic itself", name);
    }
    return AK_OK;
}

static ak_status_t ak_ib_top_validate(ak_config_ctx_t *ctx, const char *path,
                                      const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                      void *obj, ak_error_t *err)
{
    (void)path;
    (void)key_node;
    ak_inbound_config_t *cfg = obj;
    if (!node)
        return ak_config_error(ctx, NULL, err, AK_ERR_INVALID_ARG,
                               "the file is empty; aerospike and topics are required");
    if (cfg->topics.n == 0)
        return ak_config_error(ctx, ak_ib_line_of(node, "topics", NULL), err, AK_ERR_INVALID_ARG,
                               "topics: expected at least one topic");
    const ak_yaml_node_t *topics = ak_yaml_get(node, "topics");
    for (size_t i = 0; i < cfg->topics.n; i++) {
        ak_inbound_topic_config_t *t = cfg->topics.items[i].obj;
        t->name = cfg->topics.items[i].name;
        ak_status_t st = ak_ib_resolve_errors(ctx, &cfg->errors, &cfg->topics.items[i],
                                              ak_yaml_get(topics, t->name), err);
        if (st != AK_OK)
            return st;
    }
    /* consumer-props: drop the Java deserializers, refuse auto-commit,
     * require the brokers, default the group. */
    size_t kept = 0;
    bool has_servers = false, has_group = false;
    for (size_t i = 0; i < cfg->consumer_props.n; i++) {
        ak_config_pair_t *p = &cfg->consumer_props.items[i];
        ak_yaml_node_t at = {.line = p->line};
        if (strcmp(p->name, "key.deserializer") == 0 || strcmp(p->name, "value.deserializer") == 0) {
            ak_config_note(ctx, &at,
                           "consumer-props.%s: ignored: topics.<topic>.value-format and "
                           "key-format say how messages are read",
                           p->name);
            free(p->name);
            free(p->value);
            continue;
        }
        if (strcmp(p->name, "enable.auto.commit") == 0 && strcasecmp(p->value, "false") != 0)
            return ak_config_error(ctx, &at, err, AK_ERR_INVALID_ARG,
                                   "consumer-props.enable.auto.commit: must be false (or left out): "
                                   "aerokafka commits an offset only after its record is written");
        has_servers = has_servers || strcmp(p->name, "bootstrap.servers") == 0;
        has_group = has_group || strcmp(p->name, "group.id") == 0;
        cfg->consumer_props.items[kept++] = *p;
    }
    cfg->consumer_props.n = kept;
    if (!has_servers)
        return ak_config_error(ctx, ak_ib_line_of(node, "consumer-props", NULL), err,
                               AK_ERR_INVALID_ARG,
                               "consumer-props.bootstrap.servers: required (the Kafka brokers, "
                               "host:port[,host:port...])");
    if (!has_group) {
        ak_config_pair_t *items =
            realloc(cfg->consumer_props.items, (cfg->consumer_props.n + 1) * sizeof *items);
        if (!items)
            return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "out of memory");
        cfg->consumer_props.items = items;
        ak_config_pair_t *p = &items[cfg->consumer_props.n];
        p->name = strdup("group.id");
        p->value = strdup(AK_IB_DEFAULT_GROUP_ID);
        p->line = 0;
        cfg->consumer_props.n++;
        if (!p->name || !p->value)
            return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "out of memory");
    }
    if (cfg->feature_key_file)
        ak_config_note(ctx, ak_yaml_get_key(node, "feature-key-file"),
                       "feature-key-file: ignored: aerokafka needs no feature key");
    if (cfg->aerospike.tls.enabled)
        for (size_t i = 0; i < cfg->aerospike.n_seeds; i++)
            if (cfg->aerospike.seeds[i].port == 3000) {
                ak_yaml_node_t at = {.line = cfg->aerospike.seeds[i].line};
                ak_config_note(ctx, &at,
                               "aerospike.seeds: %s uses port 3000 with TLS on; Aerospike's TLS "
                               "port is usually 4333",
                               cfg->aerospike.seeds[i].host);
            }
    return AK_OK;
}

static const ak_config_key_t ak_ib_top_keys[] = {
    {.name = "max-queued-records", .type = AK_CFG_INT,
     .offset = offsetof(ak_inbound_config_t, max_queued_records), .min = 1, .max = 16777216,
     .def = "32768", .in_aerospike = true,
     .help = "Records held between Kafka and Aerospike; above it every topic is paused, below "
             "half of it they resume."},
    {.name = "processing-threads", .type = AK_CFG_INT,
     .offset = offsetof(ak_inbound_config_t, processing_threads), .min = 0, .max = 1024, .def = "0",
     .def_doc = "`0` (number of CPUs)", .in_aerospike = true,
     .help = "Threads that decode and map records."},
    {.name = "aerospike", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_config_t, aerospike),
     .section = &ak_ib_aerospike_table, .required = true, .in_aerospike = true,
     .help = "The Aerospike cluster."},
    {.name = "topics", .type = AK_CFG_SECTION_MAP, .offset = offsetof(ak_inbound_config_t, topics),
     .section = &ak_ib_topic_table, .required = true, .in_aerospike = true,
     .help = "Per-topic mapping, by Kafka topic name."},
    {.name = "consumer-props", .type = AK_CFG_STRING_MAP,
     .offset = offsetof(ak_inbound_config_t, consumer_props), .in_aerospike = false,
     .help = "Kafka consumer properties passed to librdkafka unchanged (a list value is "
             "comma-joined); `bootstrap.servers` is required, `group.id` defaults to "
             "`aerospike-kafka-inbound`, `enable.auto.commit` must stay false, "
             "`queued.min.messages` defaults to 1000000 (librdkafka's 100000 made the "
             "fetcher stall), `key.deserializer`/`value.deserializer` are ignored with a note. "
             "A property librdkafka refuses stops the start with its file and line."},
    AK_IB_ERRORS_KEYS(ak_inbound_config_t, errors),
    {.name = "service", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_config_t, manage),
     .section = &ak_ib_service_table, .in_aerospike = true, .help = "The management API."},
    {.name = "logging", .type = AK_CFG_SECTION, .offset = offsetof(ak_inbound_config_t, logging),
     .section = &ak_ib_logging_table, .in_aerospike = true, .help = "Log destination and levels."},
    {.name = "feature-key-file", .type = AK_CFG_STRING,
     .offset = offsetof(ak_inbound_config_t, feature_key_file), .in_aerospike = true,
     .help = "Accepted and ignored, with a note (deprecated by Aerospike in 2.2.0)."},
};

static const ak_config_table_t ak_ib_top_table = {
    .name = "",
    .doc = "The sections of `aerospike-kafka-inbound.yml`.",
    .size = sizeof(ak_inbound_config_t),
    .keys = ak_ib_top_keys,
    .n_keys = AK_N(ak_ib_top_keys),
    .validate = ak_ib_top_validate,
};

/* ======================================================================
 * load / free / look-up
 * ====================================================================== */

void ak_inbound_config_free(ak_inbound_config_t *cfg)
{
    if (!cfg)
        return;
    ak_config_free(&ak_ib_top_table, cfg);
    ak_config_strings_free(&cfg->notes);
    free(cfg->path);
    free(cfg);
}

static ak_inbound_config_t *ak_ib_load_doc(const ak_yaml_doc_t *doc, const char *name,
                                           const char *dir, ak_error_t *err)
{
    ak_inbound_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->path = strdup(name))) {
        free(cfg);
        ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    ak_config_ctx_t ctx = {.file = name, .dir = dir, .user = cfg};
    ak_status_t st = ak_config_parse(&ctx, &ak_ib_top_table, "", NULL, doc->root, cfg, err);
    cfg->notes = ctx.notes;
    if (st != AK_OK) {
        ak_inbound_config_free(cfg);
        return NULL;
    }
    return cfg;
}

ak_inbound_config_t *ak_inbound_config_load_string(const char *text, size_t len, const char *name,
                                                   const char *dir, ak_error_t *err)
{
    ak_yaml_doc_t *doc = ak_yaml_load_string(text, len, name, err);
    if (!doc)
        return NULL;
    ak_inbound_config_t *cfg = ak_ib_load_doc(doc, name, dir, err);
    ak_yaml_free(doc);
    return cfg;
}

ak_inbound_config_t *ak_inbound_config_load(const char *path, ak_error_t *err)
{
    ak_yaml_doc_t *doc = ak_yaml_load_file(path, err);
    if (!doc)
        return NULL;
    char *dir = ak_config_dir_of(path);
    if (!dir) {
        ak_yaml_free(doc);
        ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    ak_inbound_config_t *cfg = ak_ib_load_doc(doc, path, dir, err);
    free(dir);
    ak_yaml_free(doc);
    return cfg;
}

size_t ak_inbound_config_topic_count(const ak_inbound_config_t *cfg)
{
    return cfg->topics.n;
}

const ak_inbound_topic_config_t *ak_inbound_config_topic_at(const ak_inbound_config_t *cfg,
                                                            size_t index)
{
    return index < cfg->topics.n ? cfg->topics.items[index].obj : NULL;
}

const ak_inbound_topic_config_t *ak_inbound_config_topic(const ak_inbound_config_t *cfg,
                                                         const char *topic, size_t topic_len)
{
    for (size_t i = 0; i < cfg->topics.n; i++) {
        const char *name = cfg->topics.items[i].name;
        if (strlen(name) == topic_len && memcmp(name, topic, topic_len) == 0)
            return cfg->topics.items[i].obj;
    }
    return NULL;
}

/* ======================================================================
 * documentation
 * ====================================================================== */

void ak_inbound_config_render_docs(ak_buf_t *out)
{
    ak_buf_append_str(
        out,
        "## Inbound connector: `aerospike-kafka-inbound.yml`\n\n"
        "Generated from the tables in src/inbound/ak_inbound_config.c. docs/INBOUND.md explains "
        "how a Kafka record becomes an Aerospike record and which choices are aerokafka's.\n\n"
        "### aerokafka extensions\n\n"
        "Keys Aerospike's inbound connector does not have (column \"no\" below): "
        "`consumer-props`; Kafka Connect's error keys `errors.tolerance`, "
        "`errors.deadletterqueue.topic.name`, `errors.deadletterqueue.context.headers.enable`, "
        "`errors.retry.timeout`, `errors.retry.delay.max.ms` (top level and per topic); "
        "`value-format` and `key-format`; `on-tombstone`; `mapping.generation`; the bin "
        "sources `key` and `value`; and PEM files for TLS.\n\n"
        "### What aerokafka refuses\n\n"
        "- `message-transformer` (a Java plug-in).\n"
        "- Java key stores in `aerospike.tls` (`key-store`, `trust-store`): use PEM files.\n\n");
    const ak_config_table_t *seen[64];
    size_t n_seen = 0;
    ak_config_render_markdown(&ak_ib_top_table, "", out, seen, &n_seen, 64);
}
