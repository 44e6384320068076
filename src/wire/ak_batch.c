#include "wire/ak_batch.h"

#include <string.h>

#define AK_BATCH_ROW_MIN 25 /* index + digest + flags */

ak_status_t ak_batch_parse(const uint8_t *data, size_t len, size_t base_offset, ak_arena_t *arena,
                           ak_batch_request_t *batch, ak_error_t *err)
{
    memset(batch, 0, sizeof *batch);
    if (len < 5)
        return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + len,
                           "batch field needs 5 bytes (row count, flags), has %zu", len);
    uint32_t n_rows = ak_get_be32(data);
    batch->parent_flags = data[4];
    size_t pos = 5;
    if ((uint64_t)n_rows * AK_BATCH_ROW_MIN > len - pos)
        return ak_error_at(err, AK_ERR_TRUNCATED, base_offset,
                           "batch declares %u rows but has only %zu bytes for them", n_rows, len - pos);
    if (n_rows) {
        batch->rows = ak_arena_alloc_array(arena, n_rows, sizeof *batch->rows);
        if (!batch->rows)
            return ak_error_set(err, AK_ERR_NOMEM, "no memory for %u batch rows", n_rows);
    }
    for (uint32_t i = 0; i < n_rows; i++) {
        ak_batch_row_t *row = &batch->rows[i];
        size_t at = pos;
        if (len - pos < AK_BATCH_ROW_MIN)
            return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + at,
                               "batch row %u of %u needs 25 bytes, %zu left", i + 1, n_rows, len - pos);
        row->index = ak_get_be32(data + pos);
        row->digest = data + pos + 4;
        row->flags = data[pos + 24];
        pos += AK_BATCH_ROW_MIN;
        if (row->flags & AK_BATCH_ROW_REPEAT) {
            if (i == 0)
                return ak_error_at(err, AK_ERR_MALFORMED, base_offset + at,
                                   "the first batch row cannot repeat a previous one");
            row->header = batch->rows[i - 1].header;
            row->fields = batch->rows[i - 1].fields;
            row->ops = batch->rows[i - 1].ops;
            continue;
        }
        size_t need = 1 + ((row->flags & AK_BATCH_ROW_HAS_EXTRA_INFO) ? 2 : 0) +
                      ((row->flags & AK_BATCH_ROW_HAS_INFO4) ? 1 : 0) +
                      ((row->flags & AK_BATCH_ROW_HAS_GENERATION) ? 2 : 0) +
                      ((row->flags & AK_BATCH_ROW_HAS_RECORD_TTL) ? 4 : 0) + 4;
        if (len - pos < need)
            return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + pos,
                               "batch row %u of %u: attributes need %zu bytes, %zu left", i + 1,
                               n_rows, need, len - pos);
        ak_msg_header_t *h = &row->header;
        memset(h, 0, sizeof *h);
        h->header_sz = AK_MSG_HEADER_SIZE;
        h->info1 = data[pos++];
        if (row->flags & AK_BATCH_ROW_HAS_EXTRA_INFO) {
            h->info2 = data[pos++];
            h->info3 = data[pos++];
        }
        if (row->flags & AK_BATCH_ROW_HAS_INFO4)
            h->info4 = data[pos++];
        if (row->flags & AK_BATCH_ROW_HAS_GENERATION) {
            h->generation = ak_get_be16(data + pos);
            pos += 2;
        }
        if (row->flags & AK_BATCH_ROW_HAS_RECORD_TTL) {
            h->record_ttl = ak_get_be32(data + pos);
            pos += 4;
        }
        h->n_fields = ak_get_be16(data + pos);
        h->n_ops = ak_get_be16(data + pos + 2);
        pos += 4;
        ak_status_t st = ak_msg_parse_items(data, len, &pos, base_offset, h->n_fields, h->n_ops,
                                            arena, &row->fields, &row->ops, err);
        if (st != AK_OK) {
            ak_error_prefix(err, "batch row %u of %u", i + 1, n_rows);
            return st;
        }
    }
    if (pos != len)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset + pos,
                           "%zu bytes follow the last batch row", len - pos);
    batch->n_rows = n_rows;
    return AK_OK;
}
