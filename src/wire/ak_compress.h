/*
 * ak_compress: compressed frames (proto type 4).
 *
 * Body = uncompressed size:u64 BE, then a zlib stream of the whole inner
 * frame, including its own 8-byte type-3 proto header.
 */
#ifndef AK_COMPRESS_H
#define AK_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "common/ak_buf.h"
#include "common/ak_error.h"

/* Inflates a type-4 body into out (cleared first). The declared size must
 * be within the 128 MiB cap, must match what inflates, and the inner frame
 * must be version 2, type 3, with a size that matches. base_offset is the
 * body's offset in the stream, for errors. */
ak_status_t ak_compress_decode(const uint8_t *body, size_t len, size_t base_offset, ak_buf_t *out,
                               ak_error_t *err);

/* Appends a complete type-4 frame wrapping the complete inner frame. */
ak_status_t ak_compress_encode(const uint8_t *inner_frame, size_t len, int level, ak_buf_t *out,
                               ak_error_t *err);

#endif
