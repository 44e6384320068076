#include "wire/ak_compress.h"

#include <zlib.h>

#include "wire/ak_proto.h"

ak_status_t ak_compress_decode(const uint8_t *body, size_t len, size_t base_offset, ak_buf_t *out,
                               ak_error_t *err)
{
    ak_buf_clear(out);
    if (len < 8)
        return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + len,
                           "compressed body needs an 8-byte size, has %zu bytes", len);
    uint64_t declared = ak_get_be64(body);
    if (declared < AK_PROTO_HEADER_SIZE || declared > AK_PROTO_SIZE_MAX + AK_PROTO_HEADER_SIZE)
        return ak_error_at(err, AK_ERR_LIMIT, base_offset,
                           "compressed frame declares %llu uncompressed bytes (must be 8..128 MiB)",
                           (unsigned long long)declared);
    /* zlib cannot expand by more than about 1032:1; a larger claim is a lie
     * and must not make us allocate. */
    if (declared / 1032 > len)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset,
                           "compressed frame declares %llu bytes from only %zu compressed bytes",
                           (unsigned long long)declared, len - 8);
    if (!ak_buf_reserve(out, (size_t)declared))
        return ak_error_set(err, AK_ERR_NOMEM, "no memory to inflate %llu bytes",
                            (unsigned long long)declared);

    z_stream zs = {0};
    if (inflateInit(&zs) != Z_OK)
        return ak_error_set(err, AK_ERR_NOMEM, "zlib inflateInit failed");
    zs.next_in = (Bytef *)(body + 8);
    zs.avail_in = (uInt)(len - 8 > UINT32_MAX ? UINT32_MAX : len - 8);
    zs.next_out = out->data;
    zs.avail_out = (uInt)declared;
    int rc = inflate(&zs, Z_FINISH);
    size_t produced = (size_t)zs.total_out;
    size_t consumed = (size_t)zs.total_in;
    inflateEnd(&zs);
    if (rc == Z_BUF_ERROR && zs.avail_out == 0)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset,
                           "compressed data inflates to more than the declared %llu bytes",
                           (unsigned long long)declared);
    if (rc != Z_STREAM_END)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset + 8 + consumed,
                           "zlib stream is invalid or truncated (%s)", zs.msg ? zs.msg : "no detail");
    if (produced != declared)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset,
                           "compressed frame declares %llu bytes but inflates to %zu",
                           (unsigned long long)declared, produced);
    if (consumed != len - 8)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset + 8 + consumed,
                           "%zu bytes follow the zlib stream", len - 8 - consumed);
    out->len = produced;

    ak_proto_header_t inner;
    ak_error_t inner_err;
    if (ak_proto_header_parse(out->data, out->len, 0, &inner, &inner_err) != AK_OK) {
        out->len = 0;
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset,
                           "inflated frame has a bad header: %s", inner_err.message);
    }
    if (inner.type != AK_PROTO_TYPE_MESSAGE || inner.version != AK_PROTO_VERSION) {
        out->len = 0;
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset,
                           "inflated frame is version %u type %u; expected version 2 type 3",
                           inner.version, inner.type);
    }
    if (inner.size != produced - AK_PROTO_HEADER_SIZE) {
        out->len = 0;
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset,
                           "inflated frame declares a %llu-byte body but has %zu",
                           (unsigned long long)inner.size, produced - AK_PROTO_HEADER_SIZE);
    }
    return AK_OK;
}

ak_status_t ak_compress_encode(const uint8_t *inner_frame, size_t len, int level, ak_buf_t *out,
                               ak_error_t *err)
{
    if (len > AK_PROTO_SIZE_MAX)
        return ak_error_set(err, AK_ERR_LIMIT, "frame of %zu bytes exceeds the 128 MiB cap", len);
    uLong bound = compressBound((uLong)len);
    size_t start = out->len;
    if (!ak_buf_reserve(out, AK_PROTO_HEADER_SIZE + 8 + (size_t)bound))
        return ak_error_set(err, AK_ERR_NOMEM, "no memory to compress %zu bytes", len);
    uint8_t *frame = out->data + start;
    ak_put_be64(frame + AK_PROTO_HEADER_SIZE, (uint64_t)len);
    uLongf zlen = bound;
    int rc = compress2(frame + AK_PROTO_HEADER_SIZE + 8, &zlen, inner_frame, (uLong)len, level);
    if (rc != Z_OK)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "zlib compress2 failed (%d)", rc);
    ak_proto_header_write(frame, AK_PROTO_TYPE_COMPRESSED, 8 + (uint64_t)zlen);
    out->len = start + AK_PROTO_HEADER_SIZE + 8 + (size_t)zlen;
    return AK_OK;
}
