/*
 * ak_format: mode names, the formatter's lifecycle and the dispatch to one
 * writer per format. Choices on undocumented points: docs/FORMATS.md.
 */
#include "format/ak_format.h"

#include <stdlib.h>
#include <string.h>

#include "format/ak_format_internal.h"
#include "wire/ak_digest.h"

const char *ak_format_mode_name(ak_format_mode_t mode)
{
    switch (mode) {
    case AK_FORMAT_JSON: return "json";
    case AK_FORMAT_FLAT_JSON: return "flat-json";
    case AK_FORMAT_MESSAGE_PACK: return "message-pack";
    case AK_FORMAT_AVRO: return "avro";
    case AK_FORMAT_KAFKA_AVRO: return "kafka-avro";
    }
    return "unknown";
}

ak_formatter_t *ak_formatter_new(const ak_format_config_t *cfg, ak_error_t *err)
{
    if (!cfg) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "format: no configuration");
        return NULL;
    }
    const char *mode = ak_format_mode_name(cfg->mode);
    if (strcmp(mode, "unknown") == 0) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "format: unknown mode %d", (int)cfg->mode);
        return NULL;
    }
    if (cfg->mode == AK_FORMAT_FLAT_JSON && (!cfg->metadata_key || !cfg->metadata_key[0])) {
        ak_error_set(err, AK_ERR_INVALID_ARG,
                     "format: mode flat-json requires metadata-key (the name of the object "
                     "that holds the record's metadata)");
        return NULL;
    }
    if ((cfg->mode == AK_FORMAT_AVRO || cfg->mode == AK_FORMAT_KAFKA_AVRO) &&
        (!cfg->schema || !cfg->schema[0])) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "format: mode %s requires schema or schema-file",
                     mode);
        return NULL;
    }
    ak_formatter_t *fmt = calloc(1, sizeof *fmt);
    if (!fmt) {
        ak_error_set(err, AK_ERR_NOMEM, "format: out of memory");
        return NULL;
    }
    fmt->mode = cfg->mode;
    fmt->stringify_map_keys = cfg->stringify_map_keys;
    if (cfg->metadata_key && cfg->metadata_key[0]) {
        fmt->metadata_key = strdup(cfg->metadata_key);
        if (!fmt->metadata_key) {
            free(fmt);
            ak_error_set(err, AK_ERR_NOMEM, "format: out of memory");
            return NULL;
        }
        fmt->metadata_key_len = strlen(fmt->metadata_key);
    }
    if (cfg->mode == AK_FORMAT_FLAT_JSON) {
        fmt->keys = calloc(1, sizeof *fmt->keys);
        fmt->prefix = calloc(1, sizeof *fmt->prefix);
        if (!fmt->keys || !fmt->prefix) {
            ak_error_set(err, AK_ERR_NOMEM, "no memory for a formatter");
            ak_formatter_free(fmt);
            return NULL;
        }
        ak_buf_init(&fmt->prefix->text);
    }
    if (cfg->mode == AK_FORMAT_AVRO || cfg->mode == AK_FORMAT_KAFKA_AVRO) {
        if (ak_format_avro_new(fmt, cfg, err) != AK_OK) {
            ak_error_prefix(err, "format (%s)", mode);
            ak_formatter_free(fmt);
            return NULL;
        }
    }
    return fmt;
}

void ak_formatter_free(ak_formatter_t *fmt)
{
    if (!fmt)
        return;
    ak_format_avro_free(fmt->avro);
    if (fmt->prefix)
        ak_buf_free(&fmt->prefix->text);
    free(fmt->prefix);
    free(fmt->keys);
    free(fmt->metadata_key);
    free(fmt);
}

ak_status_t ak_format_digest(const ak_record_t *rec, uint8_t digest[20], ak_error_t *err)
{
    if (rec->has_digest) {
        memcpy(digest, rec->digest, AK_DIGEST_SIZE);
        return AK_OK;
    }
    if (!rec->has_key)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "record has neither a digest nor a key");
    return ak_digest_compute(rec->set.data, rec->set.len, &rec->key, digest, err);
}

ak_status_t ak_format_record(ak_formatter_t *fmt, const ak_format_input_t *in, ak_buf_t *value,
                             ak_buf_t *key, ak_error_t *err)
{
    if (!fmt || !in || !in->rec || !value || !key)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "format: missing argument");
    uint8_t digest[AK_DIGEST_SIZE];
    ak_status_t st = ak_format_digest(in->rec, digest, err);
    if (st != AK_OK)
        return st;
    size_t value_start = value->len;
    switch (fmt->mode) {
    case AK_FORMAT_JSON:
        st = ak_format_json_write(fmt, in, digest, value, err);
        break;
    case AK_FORMAT_FLAT_JSON:
        st = ak_format_flat_json_write(fmt, in, digest, value, err);
        break;
    case AK_FORMAT_MESSAGE_PACK:
        st = ak_format_msgpack_write(fmt, in, digest, value, err);
        break;
    case AK_FORMAT_AVRO:
    case AK_FORMAT_KAFKA_AVRO:
        st = ak_format_avro_write(fmt, in, digest, value, err);
        break;
    default:
        st = ak_error_set(err, AK_ERR_INVALID_ARG, "unknown format mode %d", (int)fmt->mode);
        break;
    }
    if (st == AK_OK && ak_buf_failed(value))
        st = ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    if (st != AK_OK) {
        if (value->len > value_start)
            value->len = value_start;
        ak_error_prefix(err, "%s", ak_format_mode_name(fmt->mode));
        return st;
    }
    /* Kafka key: the raw digest (spec §3.8 UNCONFIRMED; docs/FORMATS.md). */
    ak_buf_append(key, digest, AK_DIGEST_SIZE);
    if (ak_buf_failed(key))
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    return AK_OK;
}
