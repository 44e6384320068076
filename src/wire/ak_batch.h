/*
 * ak_batch: the batch-index payload (field 41) of a batch request.
 *
 *   n_rows:u32 BE, parent flags:u8, then rows:
 *   index:u32 BE, digest[20], row flags:u8, and unless REPEAT:
 *   info1, [info2 info3 when HAS_EXTRA_INFO], [info4 when HAS_INFO4],
 *   [generation:u16 when HAS_GENERATION], [ttl:u32 when HAS_RECORD_TTL],
 *   n_fields:u16, n_ops:u16, fields (namespace, set, ...), ops.
 *
 * A REPEAT row reuses the previous row's attributes, fields and ops with its
 * own digest. Parsing yields rows with REPEAT already resolved.
 */
#ifndef AK_BATCH_H
#define AK_BATCH_H

#include <stdint.h>

#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "common/ak_error.h"
#include "wire/ak_digest.h"
#include "wire/ak_msg.h"

enum {
    AK_BATCH_PARENT_INLINE = 0x01,
    AK_BATCH_PARENT_INLINE_SSD = 0x02,
    AK_BATCH_PARENT_RESPOND_ALL_KEYS = 0x04,
    AK_BATCH_PARENT_REPORT_ERROR_RECORD = 0x08,
};

enum {
    AK_BATCH_ROW_REPEAT = 0x01,
    AK_BATCH_ROW_HAS_EXTRA_INFO = 0x02,
    AK_BATCH_ROW_HAS_GENERATION = 0x04,
    AK_BATCH_ROW_HAS_RECORD_TTL = 0x08,
    AK_BATCH_ROW_HAS_INFO4 = 0x10,
};

typedef struct ak_batch_row {
    uint32_t index;            /* echoed in the reply's transaction_ttl */
    const uint8_t *digest;     /* 20 bytes */
    uint8_t flags;             /* as sent (REPEAT kept for diagnostics) */
    ak_msg_header_t header;    /* info1..4, generation, record_ttl, counts */
    ak_msg_field_t *fields;
    ak_msg_op_t *ops;
} ak_batch_row_t;

typedef struct ak_batch_request {
    uint32_t n_rows;
    uint8_t parent_flags;
    ak_batch_row_t *rows;
} ak_batch_request_t;

/* Parses a batch field's data. base_offset is its position in the frame.
 * Row counts are checked against the bytes present (a row takes at least 25
 * bytes) before anything is allocated. A REPEAT on the first row is an
 * error, as on the server. */
ak_status_t ak_batch_parse(const uint8_t *data, size_t len, size_t base_offset, ak_arena_t *arena,
                           ak_batch_request_t *batch, ak_error_t *err);

#endif
