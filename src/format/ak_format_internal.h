/*
 * Private to src/format/: the formatter object, the per-format entry points
 * and the JSON writing helpers json and flat-json share. Nothing outside
 * this folder includes it.
 */
#ifndef AK_FORMAT_INTERNAL_H
#define AK_FORMAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "format/ak_format.h"

typedef struct ak_avro_state ak_avro_state_t;

/* --- object keys of bins (flat-json) ---
 * Bin names repeat record after record, so the JSON text of a key with its
 * colon ("\"name\":") is escaped once per distinct name and kept, in a
 * direct-mapped table: a name that collides with another replaces it, a
 * name or text too long for a slot is escaped every time. */
#define AK_JSON_KEY_SLOTS 256
#define AK_JSON_KEY_NAME_MAX 32
#define AK_JSON_KEY_TEXT_MAX 62

typedef struct ak_json_key_slot {
    uint8_t name_len;
    uint8_t text_len; /* 0: empty slot */
    char name[AK_JSON_KEY_NAME_MAX];
    char text[AK_JSON_KEY_TEXT_MAX];
} ak_json_key_slot_t;

typedef struct ak_json_key_cache {
    ak_json_key_slot_t slots[AK_JSON_KEY_SLOTS];
} ak_json_key_cache_t;

/* Appends the JSON string of name followed by ':' (exactly what
 * ak_json_string(name) then ':' writes); cache may be NULL. */
void ak_json_key(ak_json_key_cache_t *cache, ak_buf_t *out, const void *name, size_t len);

/* flat-json's opening up to the set, {"<metadata-key>":{"namespace":..,"set":..,
 * for the last namespace and set seen (records of a stream mostly share them). */
typedef struct ak_flat_json_prefix {
    bool valid;
    uint8_t ns_len, set_len;
    char ns[31];  /* AK_NAMESPACE_MAX */
    char set[63]; /* AK_SET_MAX */
    ak_buf_t text;
} ak_flat_json_prefix_t;

struct ak_formatter {
    ak_format_mode_t mode;
    bool stringify_map_keys;
    char *metadata_key; /* copy, NULL when not configured */
    size_t metadata_key_len;
    ak_avro_state_t *avro; /* avro, kafka-avro */
    /* flat-json caches (the formatter is used by one thread at a time) */
    ak_json_key_cache_t *keys;
    ak_flat_json_prefix_t *prefix;
};

/* The record's digest: the one it carries, or computed from set and key. */
ak_status_t ak_format_digest(const ak_record_t *rec, uint8_t digest[20], ak_error_t *err);

/* Per-format writers: append the Kafka value to out. On failure out may hold
 * a partial message; the dispatcher truncates it. */
ak_status_t ak_format_json_write(const ak_formatter_t *fmt, const ak_format_input_t *in,
                                 const uint8_t digest[20], ak_buf_t *out, ak_error_t *err);
ak_status_t ak_format_flat_json_write(const ak_formatter_t *fmt, const ak_format_input_t *in,
                                      const uint8_t digest[20], ak_buf_t *out, ak_error_t *err);
ak_status_t ak_format_msgpack_write(const ak_formatter_t *fmt, const ak_format_input_t *in,
                                    const uint8_t digest[20], ak_buf_t *out, ak_error_t *err);

ak_status_t ak_format_avro_new(ak_formatter_t *fmt, const ak_format_config_t *cfg,
                               ak_error_t *err);
void ak_format_avro_free(ak_avro_state_t *avro);
ak_status_t ak_format_avro_write(ak_formatter_t *fmt, const ak_format_input_t *in,
                                 const uint8_t digest[20], ak_buf_t *out, ak_error_t *err);

/* --- JSON writing (json and flat-json) ---
 *
 * A direct writer into ak_buf_t rather than jansson trees: flat-json is the
 * format benchmarks measure, and building then dumping a tree per record
 * costs several times the direct write. */

static inline void ak_json_raw(ak_buf_t *out, const char *s, size_t len)
{
    ak_buf_append(out, s, len);
}
#define AK_JSON_LIT(out, lit) ak_json_raw((out), (lit), sizeof(lit) - 1)

static inline void ak_json_char(ak_buf_t *out, char c)
{
    ak_buf_append_byte(out, (uint8_t)c);
}

/* Strings leave aerokafka as valid UTF-8 in every format: a byte that is
 * not part of a valid sequence becomes U+FFFD, as Java's decoder makes it. */
bool ak_format_utf8_valid(const void *data, size_t len);
/* Appends data to out with invalid bytes replaced by U+FFFD. */
void ak_format_utf8_sanitize(ak_buf_t *out, const void *data, size_t len);

/* A JSON string of len bytes: escapes quotes, backslashes and control
 * characters; invalid UTF-8 becomes U+FFFD, as Java decodes it. */
void ak_json_string(ak_buf_t *out, const void *data, size_t len);
/* A JSON string holding the standard Base64 (with padding) of data. */
void ak_json_base64(ak_buf_t *out, const void *data, size_t len);
void ak_json_int(ak_buf_t *out, int64_t v);
/* Shortest decimal that reads back as the same double, written as Java's
 * Double.toString writes it (1.0, 0.1, 1.0E10, 1.0E-5); NaN and infinities
 * as the strings "NaN", "Infinity", "-Infinity" (Jackson's default). */
void ak_json_double(ak_buf_t *out, double d);
/* The same digits without quotes for NaN/Infinity (stringified map keys):
 * writes at most 32 chars into s and returns the length. */
size_t ak_format_double_text(double d, char s[32]);

/* Writes a value as plain JSON (no type tags): what flat-json writes for
 * every bin and typed json writes inside lists and maps. bin names the bin
 * for error messages. */
ak_status_t ak_json_value(const ak_formatter_t *fmt, ak_buf_t *out, const ak_value_t *v,
                          const ak_bin_t *bin, int depth, ak_error_t *err);

/* GeoJSON text validated and copied without insignificant whitespace, so
 * it embeds as a JSON object. */
ak_status_t ak_json_geojson(ak_buf_t *out, const ak_value_t *v, const ak_bin_t *bin,
                            ak_error_t *err);

/* Name of a language blob's language for particle types 7..12. */
const char *ak_format_blob_lang(uint8_t particle_type);

/* Deepest list/map nesting the formats write (the wire accepts 1024). */
#define AK_FORMAT_MAX_DEPTH 1024

#endif
