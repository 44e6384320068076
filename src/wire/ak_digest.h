/*
 * ak_digest: record key digests and partition ids.
 *
 * digest = RIPEMD-160(set name bytes || key particle type || key bytes);
 * the namespace is not part of it. Integer keys hash as 8-byte big-endian.
 * partition id = first two digest bytes read little-endian, low 12 bits.
 */
#ifndef AK_DIGEST_H
#define AK_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "wire/ak_value.h"

#define AK_DIGEST_SIZE 20
#define AK_PARTITION_COUNT 4096

/* key must be INT, DOUBLE, STRING or BYTES; anything else is
 * AK_ERR_INVALID_ARG. set may be NULL when set_len is 0. */
ak_status_t ak_digest_compute(const char *set, size_t set_len, const ak_value_t *key,
                              uint8_t digest[AK_DIGEST_SIZE], ak_error_t *err);

static inline uint32_t ak_partition_id(const uint8_t digest[AK_DIGEST_SIZE])
{
    return ((uint32_t)digest[0] | ((uint32_t)digest[1] << 8)) & (AK_PARTITION_COUNT - 1);
}

/* Writes 40 lowercase hex digits and a NUL into out. */
void ak_digest_to_hex(const uint8_t digest[AK_DIGEST_SIZE], char out[2 * AK_DIGEST_SIZE + 1]);

/* Particle type and bytes of a key as they are hashed and sent in the KEY
 * field. Returns AK_ERR_INVALID_ARG for non-key types. scratch receives the
 * 8-byte form of numeric keys. */
ak_status_t ak_key_bytes(const ak_value_t *key, uint8_t *particle_type, const uint8_t **bytes,
                         size_t *len, uint8_t scratch[8], ak_error_t *err);

#endif
