/*
 * ak_cdt: lists and maps (Aerospike "collection data types") as MessagePack
 * with Aerospike's conventions:
 *   - strings and blobs inside carry a one-byte particle-type prefix after a
 *     str-family header whose length counts that byte (3 string, 4 blob,
 *     7..12 language blobs, 23 GeoJSON);
 *   - an ordered map's first entry is the ext `c7 00 <flags>` mapped to nil,
 *     counted in the map header; ordered lists carry the same ext as their
 *     first element;
 *   - doubles are always float64 (0xcb); integers use the smallest form.
 *
 * Encoding uses msgpack-c's packer. Decoding is a bounded reader of our own:
 * msgpack-c's unpacker stops at 32 levels of nesting and sizes containers
 * from their declared counts before the bytes are known to exist, while we
 * must accept deep nesting and never allocate more than the input justifies.
 */
#ifndef AK_CDT_H
#define AK_CDT_H

#include <stddef.h>
#include <stdint.h>

#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "common/ak_error.h"
#include "wire/ak_value.h"

/* Deepest nesting accepted when decoding; deeper input is an error. */
#define AK_CDT_MAX_DEPTH 1024

/* Decodes exactly one MessagePack value spanning data[0..len). */
ak_status_t ak_cdt_decode(const uint8_t *data, size_t len, size_t base_offset, ak_arena_t *arena,
                          ak_value_t *value, ak_error_t *err);

/* Decodes one value starting at data[0] and reports how many bytes it used
 * (for CDT op argument lists). */
ak_status_t ak_cdt_decode_prefix(const uint8_t *data, size_t len, size_t base_offset,
                                 ak_arena_t *arena, ak_value_t *value, size_t *used,
                                 ak_error_t *err);

/* Appends the MessagePack encoding of value to out. */
ak_status_t ak_cdt_encode(const ak_value_t *value, ak_buf_t *out, ak_error_t *err);

#endif
