/*
 * ak_inbound_decode: Kafka message bytes -> ak_value_t trees, for the
 * inbound connector (Kafka -> Aerospike). The mirror of ak_format.h.
 *
 * Formats (each names what it reads; spec inbound.md §5):
 *
 *   json          plain JSON, as Kafka Connect's JsonConverter reads it with
 *                 schemas.enable=false: integral numbers -> INT, other
 *                 numbers -> DOUBLE, true/false -> BOOL, strings -> STRING,
 *                 objects -> MAP (string keys, in document order), arrays ->
 *                 LIST, null -> NIL. Any JSON value at the top level.
 *   connect-json  Kafka Connect's envelope {"schema": S, "payload": P}
 *                 (JsonConverter with schemas.enable=true): P is converted by
 *                 the types of S: int8..int64 -> INT (range-checked),
 *                 float/double -> DOUBLE, boolean, string, bytes (Base64 in
 *                 the JSON) -> BYTES, array -> LIST, map -> MAP (a JSON
 *                 object for string keys, else a list of [key, value]
 *                 pairs), struct -> MAP of its fields in schema order. A
 *                 null for an optional field is NIL, for a field with a
 *                 default the default, otherwise an error. Logical types
 *                 keep their underlying type. "schema": null means a
 *                 schemaless payload (read as json).
 *   avro          Avro binary with a fixed writer schema (no framing).
 *   kafka-avro    Confluent framing: byte 0 = 0x00, bytes 1-4 = big-endian
 *                 schema id, then Avro binary. The writer schema comes from
 *                 a Schema Registry (GET /schemas/ids/<id>, cached per id),
 *                 or is a fixed schema used whatever the id.
 *                 Avro -> value: record -> MAP of its fields, enum -> STRING
 *                 (the symbol), array -> LIST, map -> MAP, union -> its
 *                 branch, fixed/bytes -> BYTES, int/long -> INT,
 *                 float/double -> DOUBLE, boolean -> BOOL, null -> NIL.
 *   message-pack  one MessagePack object: int -> INT (uint above INT64_MAX is
 *                 an error), float -> DOUBLE, str -> STRING, bin -> BYTES,
 *                 bool, nil, array -> LIST, map -> MAP (keys of any type);
 *                 ext types are refused.
 *   string        the bytes as one STRING (invalid UTF-8 becomes U+FFFD, as
 *                 Kafka's StringConverter decodes it).
 *   bytes         the bytes as one BYTES (blob).
 *
 * Values nest at most AK_INBOUND_MAX_DEPTH levels in every format.
 *
 * Errors (AK_ERR_MALFORMED, AK_ERR_LIMIT, AK_ERR_UNSUPPORTED) name the
 * format, the position (byte offset; JSON also line and column; a path such
 * as payload.address.zip inside a Connect envelope) and what was wrong.
 * AK_ERR_IO means the Schema Registry could not be reached or answered 5xx:
 * the record is not at fault, retry later.
 *
 * Threads: a decoder is used by one thread at a time (it caches Avro schemas
 * and holds a registry connection); build one per processing thread.
 */
#ifndef AK_INBOUND_DECODE_H
#define AK_INBOUND_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_arena.h"
#include "common/ak_error.h"
#include "format/ak_format.h"
#include "wire/ak_value.h"

#define AK_INBOUND_MAX_DEPTH 32 /* msgpack-c's unpacker limit, applied to every format */

typedef enum ak_inbound_format_mode {
    AK_INBOUND_FORMAT_JSON = 0,
    AK_INBOUND_FORMAT_CONNECT_JSON,
    AK_INBOUND_FORMAT_AVRO,
    AK_INBOUND_FORMAT_KAFKA_AVRO,
    AK_INBOUND_FORMAT_MESSAGE_PACK,
    AK_INBOUND_FORMAT_STRING,
    AK_INBOUND_FORMAT_BYTES,
} ak_inbound_format_mode_t;

/* A value-format / key-format section as the config loader fills it.
 * Strings are owned by the configuration. */
typedef struct ak_inbound_format_config {
    ak_inbound_format_mode_t mode;
    char *schema;         /* avro (required), kafka-avro (fixed schema): Avro schema JSON text */
    char *schema_file;    /* where schema was read from, NULL when inline */
    ak_format_prop_t *props; /* kafka-avro: schema.registry.url and the registry client's
                                props (see ak_schema_registry.h) */
    size_t n_props;
} ak_inbound_format_config_t;

typedef struct ak_inbound_decoder ak_inbound_decoder_t;

/* "json", "connect-json", "avro", "kafka-avro", "message-pack", "string", "bytes". */
const char *ak_inbound_format_mode_name(ak_inbound_format_mode_t mode);

/* Prepares a decoder: parses the fixed Avro schema, sets up the registry
 * client (no request yet). Fails (AK_ERR_INVALID_ARG) naming the unusable
 * option. cfg must outlive the decoder. */
ak_inbound_decoder_t *ak_inbound_decoder_new(const ak_inbound_format_config_t *cfg,
                                             ak_error_t *err);
void ak_inbound_decoder_free(ak_inbound_decoder_t *dec);

/* With borrow on, json strings (values and object keys) that appear in the
 * input as they are (no escape) point into data instead of being copied
 * into the arena: the caller then keeps data alive as long as *out. The
 * inbound connector holds each Kafka message until its record is written,
 * and copying every string was a sixth of its mapping time. */
void ak_inbound_decoder_borrow_input(ak_inbound_decoder_t *dec, bool borrow);

/* Decodes len bytes into *out. Everything *out refers to (strings, blobs,
 * list and map arrays) is allocated in arena: data may be released as soon
 * as this returns, unless the decoder borrows its input (below). On failure
 * *out is NIL and err says what and where. */
ak_status_t ak_inbound_decode(ak_inbound_decoder_t *dec, const uint8_t *data, size_t len,
                              ak_arena_t *arena, ak_value_t *out, ak_error_t *err);

/* Registry requests made so far (kafka-avro with a registry; else 0). */
uint64_t ak_inbound_decoder_registry_requests(const ak_inbound_decoder_t *dec);

#endif
