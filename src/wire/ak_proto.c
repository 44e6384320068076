#include "wire/ak_proto.h"

#include "common/ak_buf.h"

ak_status_t ak_proto_header_parse(const uint8_t *bytes, size_t len, size_t base_offset,
                                  ak_proto_header_t *header, ak_error_t *err)
{
    if (len < AK_PROTO_HEADER_SIZE)
        return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + len,
                           "proto header needs 8 bytes, input has %zu", len);
    header->version = bytes[0];
    header->type = bytes[1];
    header->size = ((uint64_t)ak_get_be16(bytes + 2) << 32) | ak_get_be32(bytes + 4);

    if (header->type < AK_PROTO_TYPE_INFO || header->type > AK_PROTO_TYPE_COMPRESSED)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset + 1,
                           "unknown proto type %u (expected 1 info, 2 admin, 3 message, 4 compressed)",
                           header->type);
    bool version_ok = header->version == AK_PROTO_VERSION ||
                      (header->version == 0 && header->type == AK_PROTO_TYPE_ADMIN);
    if (!version_ok)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset,
                           "unsupported proto version %u (expected 2)", header->version);
    if (header->size > AK_PROTO_SIZE_MAX)
        return ak_error_at(err, AK_ERR_LIMIT, base_offset + 2,
                           "proto body size %llu exceeds the 128 MiB cap",
                           (unsigned long long)header->size);
    return AK_OK;
}

void ak_proto_header_write(uint8_t out[AK_PROTO_HEADER_SIZE], ak_proto_type_t type, uint64_t size)
{
    uint64_t word = (size & 0xFFFFFFFFFFFFULL) | ((uint64_t)AK_PROTO_VERSION << 56) |
                    ((uint64_t)type << 48);
    ak_put_be64(out, word);
}

ak_frame_scan_t ak_frame_next(const uint8_t *data, size_t len, size_t base_offset,
                              ak_frame_t *frame, size_t *consumed, ak_error_t *err)
{
    *consumed = 0;
    if (len < AK_PROTO_HEADER_SIZE)
        return AK_FRAME_NEED_MORE;
    if (ak_proto_header_parse(data, len, base_offset, &frame->header, err) != AK_OK)
        return AK_FRAME_ERROR;
    if (frame->header.size > len - AK_PROTO_HEADER_SIZE)
        return AK_FRAME_NEED_MORE;
    frame->body = data + AK_PROTO_HEADER_SIZE;
    frame->offset = base_offset;
    *consumed = AK_PROTO_HEADER_SIZE + (size_t)frame->header.size;
    return AK_FRAME_READY;
}

const char *ak_proto_type_name(uint8_t type)
{
    switch (type) {
    case AK_PROTO_TYPE_INFO: return "info";
    case AK_PROTO_TYPE_ADMIN: return "admin";
    case AK_PROTO_TYPE_MESSAGE: return "message";
    case AK_PROTO_TYPE_COMPRESSED: return "compressed";
    }
    return "unknown";
}
