/*
 * ak_proto: the 8-byte frame header every Aerospike message starts with.
 *
 *   byte 0   version (2)
 *   byte 1   type    (1 info, 2 admin/security, 3 AS_MSG, 4 compressed AS_MSG)
 *   bytes 2-7 body size, 48-bit big-endian, header excluded, at most 128 MiB
 *
 * Pure: works on caller-supplied bytes only.
 */
#ifndef AK_PROTO_H
#define AK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"

#define AK_PROTO_VERSION 2
#define AK_PROTO_HEADER_SIZE 8
#define AK_PROTO_SIZE_MAX ((uint64_t)128 * 1024 * 1024)

typedef enum ak_proto_type {
    AK_PROTO_TYPE_INFO = 1,
    AK_PROTO_TYPE_ADMIN = 2,
    AK_PROTO_TYPE_MESSAGE = 3,
    AK_PROTO_TYPE_COMPRESSED = 4,
} ak_proto_type_t;

typedef struct ak_proto_header {
    uint8_t version;
    uint8_t type;
    uint64_t size; /* body bytes after the 8-byte header */
} ak_proto_header_t;

/* A complete frame found in a byte stream: a view, not a copy. */
typedef struct ak_frame {
    ak_proto_header_t header;
    const uint8_t *body; /* header.size bytes */
    size_t offset;       /* where the frame starts in the scanned input */
} ak_frame_t;

/* Parses and validates 8 header bytes (version 2, type 1-4, size <= cap).
 * Version 0 is accepted for admin messages, as the server does.
 * Errors name the offending byte at base_offset + its position. */
ak_status_t ak_proto_header_parse(const uint8_t *bytes, size_t len, size_t base_offset,
                                  ak_proto_header_t *header, ak_error_t *err);

/* Writes a header for a body of `size` bytes into out[0..7]. */
void ak_proto_header_write(uint8_t out[AK_PROTO_HEADER_SIZE], ak_proto_type_t type, uint64_t size);

/* Result of scanning a stream for the next frame. */
typedef enum ak_frame_scan {
    AK_FRAME_READY,     /* *frame is a complete frame; *consumed covers it */
    AK_FRAME_NEED_MORE, /* the input holds only part of a frame; read more */
    AK_FRAME_ERROR,     /* the header is invalid; the stream cannot continue */
} ak_frame_scan_t;

/* Looks for one complete frame at the start of data[0..len).
 * base_offset is data's offset in the whole stream, used in messages. */
ak_frame_scan_t ak_frame_next(const uint8_t *data, size_t len, size_t base_offset,
                              ak_frame_t *frame, size_t *consumed, ak_error_t *err);

const char *ak_proto_type_name(uint8_t type);

#endif
