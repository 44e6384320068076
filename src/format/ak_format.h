/*
 * ak_format: record -> Kafka message (value and key), in the formats of
 * Aerospike's outbound connector: json (typed), flat-json, message-pack,
 * avro, kafka-avro (Confluent framing, schemas registered with a Schema
 * Registry). See shared spec outbound.md §3 and docs/FORMATS.md.
 *
 * A formatter is built once per distinct format configuration and is then
 * used from one thread at a time (the pipeline keeps one per worker).
 */
#ifndef AK_FORMAT_H
#define AK_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_buf.h"
#include "common/ak_error.h"
#include "wire/ak_record.h"

typedef enum ak_format_mode {
    AK_FORMAT_JSON = 0,
    AK_FORMAT_FLAT_JSON,
    AK_FORMAT_MESSAGE_PACK,
    AK_FORMAT_AVRO,
    AK_FORMAT_KAFKA_AVRO,
} ak_format_mode_t;

/* A string-to-string property list (kafka-avro `props`). */
typedef struct ak_format_prop {
    char *name;
    char *value;
} ak_format_prop_t;

/* The `format` section, as the config loader fills it. Strings are owned by
 * the configuration. */
typedef struct ak_format_config {
    ak_format_mode_t mode;
    char *metadata_key;       /* flat-json (required), kafka-avro (optional) */
    bool stringify_map_keys;  /* default true */
    char *schema;             /* avro, kafka-avro: schema text (from `schema`, or read from `schema-file`) */
    char *schema_file;        /* as written, for messages; NULL when inline */
    char *registry_topic;     /* kafka-avro: topic part of TopicRecordNameStrategy subjects */
    ak_format_prop_t *props;  /* kafka-avro: schema.registry.url, value.subject.name.strategy, ... */
    size_t n_props;
} ak_format_config_t;

const char *ak_format_mode_name(ak_format_mode_t mode);

/* What the formatter needs besides the record. */
typedef struct ak_format_input {
    const ak_record_t *rec;   /* bins already transformed */
    const char *topic;        /* the routed topic (kafka-avro subjects) */
    int64_t exp_s;            /* expiry, Unix seconds; 0 = never; -1 = not shipped */
} ak_format_input_t;

typedef struct ak_formatter ak_formatter_t;

/* Validates cfg and prepares the formatter (parses Avro schemas; for
 * kafka-avro checks the subject name strategy). Fails with a message naming
 * the offending option. */
ak_formatter_t *ak_formatter_new(const ak_format_config_t *cfg, ak_error_t *err);
void ak_formatter_free(ak_formatter_t *fmt);

/* Appends the Kafka message value to value and the Kafka message key to key
 * (the 20-byte digest). A record that cannot be represented (a map key type
 * the format cannot hold, a bin missing from an Avro record schema, a
 * registry that refuses the schema) fails with AK_ERR_UNSUPPORTED /
 * AK_ERR_INVALID_ARG and a message; a registry that cannot be reached fails
 * with AK_ERR_IO (the caller answers XDR with a retry-class code). */
ak_status_t ak_format_record(ak_formatter_t *fmt, const ak_format_input_t *in, ak_buf_t *value,
                             ak_buf_t *key, ak_error_t *err);

#endif
