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

/* Inflates a type-4 body into out (cleared first). The declared size (the
 * inner frame with its 8-byte header) must be at most 128 MiB + 8 and at most
 * 1032 times the compressed size (zlib's ratio limit; a larger claim is
 * refused as malformed before anything is allocated), must match what
 * inflates, and the inner frame
 * must be version 2, type 3, with a size that matches. base_offset is the
 * body's offset in the stream, for errors. */
ak_status_t ak_compress_decode(const uint8_t *body, size_t len, size_t base_offset, ak_buf_t *out,
                               ak_error_t *err);

/* Appends a complete type-4 frame wrapping the complete inner frame. */
ak_status_t ak_compress_encode(const uint8_t *inner_frame, size_t len, int level, ak_buf_t *out,
                               ak_error_t *err);

#endif
