/*
 * libFuzzer harness for the frame decoder: scans the input as a stream of
 * frames and decodes each one as the connectors and aerospike-dev will (info
 * lines, compressed frames, batch requests, AS_MSG -> record). Every record that decodes must survive
 * encode -> decode unchanged, so the harness also catches encoder/decoder
 * disagreements, not only crashes.
 *
 *   ./build.sh fuzz 600 frame
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "wire/ak_batch.h"
#include "wire/ak_compress.h"
#include "wire/ak_info.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"
#include "wire/ak_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Batch requests: the field-41 row parser must account for every row. */
static void ak_fuzz_batch(const ak_msg_t *msg, ak_arena_t *arena)
{
    const ak_msg_field_t *field = ak_msg_find_field(msg, AK_FIELD_BATCH);
    ak_batch_request_t batch;
    ak_error_t err;
    if (!field || ak_batch_parse(field->data, field->len, field->offset + 5, arena, &batch, &err) != AK_OK)
        return;
    for (uint32_t i = 0; i < batch.n_rows; i++)
        if (!batch.rows[i].digest || (batch.rows[i].header.n_fields && !batch.rows[i].fields))
            abort();
}

/* Every record that decodes must survive encode -> decode unchanged. */
static void ak_fuzz_record(const ak_msg_t *msg, ak_arena_t *arena)
{
    ak_record_t rec;
    ak_error_t err;
    if (ak_record_from_msg(msg, arena, &rec, &err) != AK_OK)
        return;
    ak_buf_t again;
    ak_buf_init(&again);
    if (ak_record_to_msg(&rec, msg->header.transaction_ttl, &again, &err) == AK_OK) {
        ak_msg_t msg2;
        ak_record_t rec2;
        if (ak_msg_parse(again.data + AK_PROTO_HEADER_SIZE, again.len - AK_PROTO_HEADER_SIZE,
                         AK_PROTO_HEADER_SIZE, arena, &msg2, &err) != AK_OK ||
            ak_record_from_msg(&msg2, arena, &rec2, &err) != AK_OK || !ak_record_equal(&rec, &rec2))
            abort(); /* our own encoding must decode to the same record */
    }
    ak_buf_free(&again);
}

static void ak_fuzz_message(const uint8_t *body, size_t len, size_t offset)
{
    ak_arena_t arena;
    ak_arena_init(&arena, 4096);
    ak_msg_t msg;
    ak_error_t err;
    if (ak_msg_parse(body, len, offset, &arena, &msg, &err) == AK_OK) {
        if (msg.header.info1 & AK_INFO1_BATCH)
            ak_fuzz_batch(&msg, &arena);
        else
            ak_fuzz_record(&msg, &arena);
    }
    ak_arena_destroy(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        ak_frame_t frame;
        size_t consumed;
        ak_error_t err;
        if (ak_frame_next(data + pos, size - pos, pos, &frame, &consumed, &err) != AK_FRAME_READY)
            break;
        size_t body_offset = pos + AK_PROTO_HEADER_SIZE;
        size_t len = (size_t)frame.header.size;
        switch (frame.header.type) {
        case AK_PROTO_TYPE_INFO: {
            ak_info_iter_t iter;
            ak_info_pair_t pair;
            size_t total = 0;
            ak_info_iter_init(&iter, (const char *)frame.body, len);
            while (ak_info_iter_next(&iter, &pair))
                total += pair.name_len + pair.value_len;
            if (total > len)
                abort();
            break;
        }
        case AK_PROTO_TYPE_MESSAGE:
            ak_fuzz_message(frame.body, len, body_offset);
            break;
        case AK_PROTO_TYPE_COMPRESSED: {
            ak_buf_t inner;
            ak_buf_init(&inner);
            if (ak_compress_decode(frame.body, len, body_offset, &inner, &err) == AK_OK)
                ak_fuzz_message(inner.data + AK_PROTO_HEADER_SIZE, inner.len - AK_PROTO_HEADER_SIZE,
                                AK_PROTO_HEADER_SIZE);
            ak_buf_free(&inner);
            break;
        }
        default:
            break;
        }
        pos += consumed;
    }
    return 0;
}
