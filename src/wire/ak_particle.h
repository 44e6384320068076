/*
 * ak_particle: bin values as they travel in ops and in the KEY field.
 *
 *   0 NULL      empty
 *   1 INTEGER   8-byte big-endian int64
 *   2 FLOAT     8-byte big-endian IEEE-754 double
 *   3 STRING    UTF-8 bytes
 *   4 BLOB, 7..12 language blobs (java, csharp, python, ruby, php, erlang)
 *  17 BOOL      1 byte
 *  18 HLL       opaque bytes
 *  19 MAP, 20 LIST   Aerospike-flavoured MessagePack (ak_cdt)
 *  23 GEOJSON   flags:u8, ncells:u16 BE, ncells x 8-byte cell ids, JSON text
 */
#ifndef AK_PARTICLE_H
#define AK_PARTICLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "common/ak_error.h"
#include "wire/ak_value.h"

typedef enum ak_particle_type {
    AK_PARTICLE_NULL = 0,
    AK_PARTICLE_INTEGER = 1,
    AK_PARTICLE_FLOAT = 2,
    AK_PARTICLE_STRING = 3,
    AK_PARTICLE_BLOB = 4,
    AK_PARTICLE_JAVA_BLOB = 7,
    AK_PARTICLE_CSHARP_BLOB = 8,
    AK_PARTICLE_PYTHON_BLOB = 9,
    AK_PARTICLE_RUBY_BLOB = 10,
    AK_PARTICLE_PHP_BLOB = 11,
    AK_PARTICLE_ERLANG_BLOB = 12,
    AK_PARTICLE_VECTOR = 16,
    AK_PARTICLE_BOOL = 17,
    AK_PARTICLE_HLL = 18,
    AK_PARTICLE_MAP = 19,
    AK_PARTICLE_LIST = 20,
    AK_PARTICLE_GEOJSON = 23,
} ak_particle_type_t;

/* True for 4 and 7..12: raw bytes with a language tag. */
static inline int ak_particle_is_blob(uint8_t type)
{
    return type == AK_PARTICLE_BLOB || (type >= AK_PARTICLE_JAVA_BLOB && type <= AK_PARTICLE_ERLANG_BLOB);
}

const char *ak_particle_type_name(uint8_t type);

/* Decodes a particle of `type` from data[0..len). Byte views in *value point
 * into data (not copied); list and map trees are allocated in arena.
 * base_offset is data's position in the frame, for error messages. */
ak_status_t ak_particle_decode(uint8_t type, const uint8_t *data, size_t len, size_t base_offset,
                               ak_arena_t *arena, ak_value_t *value, ak_error_t *err);

/* The particle type a value is written as. */
uint8_t ak_particle_type_of(const ak_value_t *value);

/* Appends the particle encoding of value to out (no length, no type byte).
 * Fails only for values that cannot be encoded (e.g. a map key count that
 * does not fit). */
ak_status_t ak_particle_encode(const ak_value_t *value, ak_buf_t *out, ak_error_t *err);

#endif
