#include "wire/ak_cdt.h"

#include <msgpack.h>
#include <string.h>

#include "wire/ak_particle.h"

/*
 * Decoding: a recursive reader over data[0..len). Before a container's
 * children are allocated, its declared count is checked against the bytes
 * left (every element takes at least one byte), so allocation stays
 * proportional to the input.
 */
typedef struct ak_cdt_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    size_t base_offset;
    ak_arena_t *arena;
    ak_error_t *err;
} ak_cdt_reader_t;

static ak_status_t ak_cdt_truncated(ak_cdt_reader_t *rd, size_t need, const char *what)
{
    return ak_error_at(rd->err, AK_ERR_TRUNCATED, rd->base_offset + rd->pos,
                       "msgpack %s needs %zu bytes, %zu left", what, need, rd->len - rd->pos);
}

static ak_status_t ak_cdt_need(ak_cdt_reader_t *rd, size_t need, const char *what)
{
    if (need > rd->len - rd->pos)
        return ak_cdt_truncated(rd, need, what);
    return AK_OK;
}

static uint64_t ak_cdt_read_uint(ak_cdt_reader_t *rd, size_t width)
{
    const uint8_t *p = rd->data + rd->pos;
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++)
        v = (v << 8) | p[i];
    rd->pos += width;
    return v;
}

static ak_status_t ak_cdt_read_value(ak_cdt_reader_t *rd, ak_value_t *value, unsigned depth);

/* str and bin payloads: the first byte is Aerospike's particle type. */
static ak_status_t ak_cdt_read_bytes(ak_cdt_reader_t *rd, size_t n, ak_value_t *value)
{
    if (n > rd->len - rd->pos)
        return ak_cdt_truncated(rd, n, "string/blob body");
    const uint8_t *p = rd->data + rd->pos;
    rd->pos += n;
    if (n == 0) {
        ak_value_set_bytes_of(value, AK_VALUE_BYTES, AK_PARTICLE_BLOB, p, 0);
        return AK_OK;
    }
    uint8_t prefix = p[0];
    if (prefix == AK_PARTICLE_STRING)
        ak_value_set_bytes_of(value, AK_VALUE_STRING, AK_PARTICLE_STRING, p + 1, n - 1);
    else if (prefix == AK_PARTICLE_GEOJSON)
        ak_value_set_bytes_of(value, AK_VALUE_GEOJSON, AK_PARTICLE_GEOJSON, p + 1, n - 1);
    else
        ak_value_set_bytes_of(value, AK_VALUE_BYTES, prefix, p + 1, n - 1);
    return AK_OK;
}

/* Reads an ext header and body; returns its type. */
static ak_status_t ak_cdt_read_ext(ak_cdt_reader_t *rd, uint8_t marker, uint8_t *ext_type)
{
    size_t n;
    switch (marker) {
    case 0xd4: n = 1; break;
    case 0xd5: n = 2; break;
    case 0xd6: n = 4; break;
    case 0xd7: n = 8; break;
    case 0xd8: n = 16; break;
    case 0xc7:
        if (ak_cdt_need(rd, 1, "ext8 length") != AK_OK)
            return AK_ERR_TRUNCATED;
        n = (size_t)ak_cdt_read_uint(rd, 1);
        break;
    case 0xc8:
        if (ak_cdt_need(rd, 2, "ext16 length") != AK_OK)
            return AK_ERR_TRUNCATED;
        n = (size_t)ak_cdt_read_uint(rd, 2);
        break;
    default: /* 0xc9 */
        if (ak_cdt_need(rd, 4, "ext32 length") != AK_OK)
            return AK_ERR_TRUNCATED;
        n = (size_t)ak_cdt_read_uint(rd, 4);
        break;
    }
    if (n > rd->len - rd->pos || rd->len - rd->pos - n < 1)
        return ak_cdt_truncated(rd, n + 1, "ext body");
    *ext_type = rd->data[rd->pos];
    rd->pos += 1 + n;
    return AK_OK;
}

static bool ak_cdt_is_ext_marker(uint8_t marker)
{
    return (marker >= 0xc7 && marker <= 0xc9) || (marker >= 0xd4 && marker <= 0xd8);
}

static ak_status_t ak_cdt_read_list(ak_cdt_reader_t *rd, size_t count, ak_value_t *value,
                                    unsigned depth)
{
    size_t item_start = rd->pos;
    if (count > rd->len - rd->pos)
        return ak_error_at(rd->err, AK_ERR_TRUNCATED, rd->base_offset + item_start,
                           "msgpack array declares %zu elements but only %zu bytes are left",
                           count, rd->len - rd->pos);
    uint8_t flags = 0;
    /* An ordered list starts with an ext whose type is the list flags. */
    if (count > 0 && ak_cdt_is_ext_marker(rd->data[rd->pos])) {
        uint8_t marker = rd->data[rd->pos++];
        ak_status_t st = ak_cdt_read_ext(rd, marker, &flags);
        if (st != AK_OK)
            return st;
        count--;
    }
    ak_value_t *items = NULL;
    if (count) {
        items = ak_arena_alloc_array(rd->arena, count, sizeof *items);
        if (!items)
            return ak_error_at(rd->err, AK_ERR_NOMEM, rd->base_offset + item_start,
                               "no memory for %zu list elements", count);
    }
    for (size_t i = 0; i < count; i++) {
        ak_status_t st = ak_cdt_read_value(rd, &items[i], depth + 1);
        if (st != AK_OK)
            return st;
    }
    ak_value_set_list(value, items, (uint32_t)count);
    value->subtype = flags;
    return AK_OK;
}

static ak_status_t ak_cdt_read_map(ak_cdt_reader_t *rd, size_t count, ak_value_t *value,
                                   unsigned depth)
{
    size_t entries_start = rd->pos;
    if (count > (rd->len - rd->pos) / 2)
        return ak_error_at(rd->err, AK_ERR_TRUNCATED, rd->base_offset + entries_start,
                           "msgpack map declares %zu entries but only %zu bytes are left", count,
                           rd->len - rd->pos);
    uint8_t flags = 0;
    /* An ordered map's first key is an ext whose type is the map flags; its
     * value (nil) carries nothing. */
    if (count > 0 && ak_cdt_is_ext_marker(rd->data[rd->pos])) {
        uint8_t marker = rd->data[rd->pos++];
        ak_status_t st = ak_cdt_read_ext(rd, marker, &flags);
        if (st != AK_OK)
            return st;
        ak_value_t ignored;
        if ((st = ak_cdt_read_value(rd, &ignored, depth + 1)) != AK_OK)
            return st;
        count--;
    }
    ak_value_t *entries = NULL;
    if (count) {
        entries = ak_arena_alloc_array(rd->arena, 2 * count, sizeof *entries);
        if (!entries)
            return ak_error_at(rd->err, AK_ERR_NOMEM, rd->base_offset + entries_start,
                               "no memory for %zu map entries", count);
    }
    for (size_t i = 0; i < 2 * count; i++) {
        ak_status_t st = ak_cdt_read_value(rd, &entries[i], depth + 1);
        if (st != AK_OK)
            return st;
    }
    ak_value_set_map(value, entries, (uint32_t)count, flags);
    return AK_OK;
}

static ak_status_t ak_cdt_read_value(ak_cdt_reader_t *rd, ak_value_t *value, unsigned depth)
{
    if (depth > AK_CDT_MAX_DEPTH)
        return ak_error_at(rd->err, AK_ERR_LIMIT, rd->base_offset + rd->pos,
                           "msgpack nesting deeper than %d levels", AK_CDT_MAX_DEPTH);
    if (rd->pos >= rd->len)
        return ak_cdt_truncated(rd, 1, "value");
    size_t marker_pos = rd->pos;
    uint8_t m = rd->data[rd->pos++];

    if (m <= 0x7f) {
        ak_value_set_int(value, m);
        return AK_OK;
    }
    if (m >= 0xe0) {
        ak_value_set_int(value, (int8_t)m);
        return AK_OK;
    }
    if (m >= 0x80 && m <= 0x8f)
        return ak_cdt_read_map(rd, m & 0x0f, value, depth);
    if (m >= 0x90 && m <= 0x9f)
        return ak_cdt_read_list(rd, m & 0x0f, value, depth);
    if (m >= 0xa0 && m <= 0xbf)
        return ak_cdt_read_bytes(rd, m & 0x1f, value);

    size_t width;
    switch (m) {
    case 0xc0:
        ak_value_set_nil(value);
        return AK_OK;
    case 0xc2:
    case 0xc3:
        ak_value_set_bool(value, m == 0xc3);
        return AK_OK;
    case 0xc4: case 0xd9: width = 1; goto bytes;
    case 0xc5: case 0xda: width = 2; goto bytes;
    case 0xc6: case 0xdb: width = 4; goto bytes;
    bytes:
        if (ak_cdt_need(rd, width, "string/blob length") != AK_OK)
            return AK_ERR_TRUNCATED;
        return ak_cdt_read_bytes(rd, (size_t)ak_cdt_read_uint(rd, width), value);
    case 0xca: {
        if (ak_cdt_need(rd, 4, "float32") != AK_OK)
            return AK_ERR_TRUNCATED;
        uint32_t bits = (uint32_t)ak_cdt_read_uint(rd, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        ak_value_set_double(value, f);
        return AK_OK;
    }
    case 0xcb: {
        if (ak_cdt_need(rd, 8, "float64") != AK_OK)
            return AK_ERR_TRUNCATED;
        uint64_t bits = ak_cdt_read_uint(rd, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        ak_value_set_double(value, d);
        return AK_OK;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        width = (size_t)1 << (m - 0xcc);
        if (ak_cdt_need(rd, width, "unsigned integer") != AK_OK)
            return AK_ERR_TRUNCATED;
        /* uint64 above INT64_MAX wraps, as Aerospike stores int64 only. */
        ak_value_set_int(value, (int64_t)ak_cdt_read_uint(rd, width));
        return AK_OK;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        width = (size_t)1 << (m - 0xd0);
        if (ak_cdt_need(rd, width, "signed integer") != AK_OK)
            return AK_ERR_TRUNCATED;
        uint64_t raw = ak_cdt_read_uint(rd, width);
        int64_t v;
        switch (width) {
        case 1: v = (int8_t)raw; break;
        case 2: v = (int16_t)raw; break;
        case 4: v = (int32_t)raw; break;
        default: v = (int64_t)raw; break;
        }
        ak_value_set_int(value, v);
        return AK_OK;
    }
    case 0xdc: case 0xdd:
        width = m == 0xdc ? 2 : 4;
        if (ak_cdt_need(rd, width, "array length") != AK_OK)
            return AK_ERR_TRUNCATED;
        return ak_cdt_read_list(rd, (size_t)ak_cdt_read_uint(rd, width), value, depth);
    case 0xde: case 0xdf:
        width = m == 0xde ? 2 : 4;
        if (ak_cdt_need(rd, width, "map length") != AK_OK)
            return AK_ERR_TRUNCATED;
        return ak_cdt_read_map(rd, (size_t)ak_cdt_read_uint(rd, width), value, depth);
    case 0xc7: case 0xc8: case 0xc9:
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
        uint8_t ext_type;
        ak_status_t st = ak_cdt_read_ext(rd, m, &ext_type);
        if (st != AK_OK)
            return st;
        return ak_error_at(rd->err, AK_ERR_UNSUPPORTED, rd->base_offset + marker_pos,
                           "msgpack ext type %u is only allowed as a list or map order header",
                           ext_type);
    }
    default: /* 0xc1 */
        return ak_error_at(rd->err, AK_ERR_MALFORMED, rd->base_offset + marker_pos,
                           "invalid msgpack marker 0x%02x", m);
    }
}

ak_status_t ak_cdt_decode_prefix(const uint8_t *data, size_t len, size_t base_offset,
                                 ak_arena_t *arena, ak_value_t *value, size_t *used,
                                 ak_error_t *err)
{
    ak_cdt_reader_t rd = {data, len, 0, base_offset, arena, err};
    ak_status_t st = ak_cdt_read_value(&rd, value, 0);
    if (st == AK_OK)
        *used = rd.pos;
    return st;
}

ak_status_t ak_cdt_decode(const uint8_t *data, size_t len, size_t base_offset, ak_arena_t *arena,
                          ak_value_t *value, ak_error_t *err)
{
    size_t used = 0;
    ak_status_t st = ak_cdt_decode_prefix(data, len, base_offset, arena, value, &used, err);
    if (st != AK_OK)
        return st;
    if (used != len)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset + used,
                           "%zu bytes left after the msgpack value", len - used);
    return AK_OK;
}

/*
 * Encoding through msgpack-c's packer, writing straight into an ak_buf_t.
 */
static int ak_cdt_buf_write(void *data, const char *bytes, size_t len)
{
    ak_buf_t *out = data;
    ak_buf_append(out, bytes, len);
    return ak_buf_failed(out) ? -1 : 0;
}

static void ak_cdt_pack_prefixed(msgpack_packer *pk, uint8_t prefix, const uint8_t *data,
                                 uint32_t len)
{
    msgpack_pack_str(pk, (size_t)len + 1);
    msgpack_pack_str_body(pk, &prefix, 1);
    if (len)
        msgpack_pack_str_body(pk, data, len);
}

/* Order flags travel as a zero-length ext whose type byte is the flags:
 * msgpack-c writes that as c7 00 <flags>. */
static void ak_cdt_pack_order_header(msgpack_packer *pk, uint8_t flags)
{
    msgpack_pack_ext(pk, 0, (int8_t)flags);
}

static ak_status_t ak_cdt_pack(msgpack_packer *pk, const ak_value_t *value, unsigned depth,
                               ak_error_t *err)
{
    if (depth > AK_CDT_MAX_DEPTH)
        return ak_error_set(err, AK_ERR_LIMIT, "value nests deeper than %d levels",
                            AK_CDT_MAX_DEPTH);
    switch ((ak_value_type_t)value->type) {
    case AK_VALUE_NIL:
        msgpack_pack_nil(pk);
        return AK_OK;
    case AK_VALUE_INT:
        msgpack_pack_int64(pk, value->u.integer);
        return AK_OK;
    case AK_VALUE_DOUBLE:
        msgpack_pack_double(pk, value->u.dbl);
        return AK_OK;
    case AK_VALUE_BOOL:
        if (value->u.boolean)
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        return AK_OK;
    case AK_VALUE_STRING:
        ak_cdt_pack_prefixed(pk, AK_PARTICLE_STRING, value->u.bytes.data, value->u.bytes.len);
        return AK_OK;
    case AK_VALUE_GEOJSON:
        ak_cdt_pack_prefixed(pk, AK_PARTICLE_GEOJSON, value->u.bytes.data, value->u.bytes.len);
        return AK_OK;
    case AK_VALUE_HLL:
        ak_cdt_pack_prefixed(pk, AK_PARTICLE_HLL, value->u.bytes.data, value->u.bytes.len);
        return AK_OK;
    case AK_VALUE_BYTES:
        ak_cdt_pack_prefixed(pk, value->subtype, value->u.bytes.data, value->u.bytes.len);
        return AK_OK;
    case AK_VALUE_LIST: {
        uint32_t count = value->u.list.count;
        bool ordered = value->subtype != 0;
        if (ordered && count == UINT32_MAX)
            return ak_error_set(err, AK_ERR_LIMIT, "list too long to encode");
        msgpack_pack_array(pk, (size_t)count + (ordered ? 1 : 0));
        if (ordered)
            ak_cdt_pack_order_header(pk, value->subtype);
        for (uint32_t i = 0; i < count; i++) {
            ak_status_t st = ak_cdt_pack(pk, &value->u.list.items[i], depth + 1, err);
            if (st != AK_OK)
                return st;
        }
        return AK_OK;
    }
    case AK_VALUE_MAP: {
        uint32_t count = value->u.map.count;
        bool ordered = value->subtype != 0;
        if (ordered && count == UINT32_MAX)
            return ak_error_set(err, AK_ERR_LIMIT, "map too large to encode");
        msgpack_pack_map(pk, (size_t)count + (ordered ? 1 : 0));
        if (ordered) {
            ak_cdt_pack_order_header(pk, value->subtype);
            msgpack_pack_nil(pk);
        }
        for (uint32_t i = 0; i < 2 * count; i++) {
            ak_status_t st = ak_cdt_pack(pk, &value->u.map.entries[i], depth + 1, err);
            if (st != AK_OK)
                return st;
        }
        return AK_OK;
    }
    }
    return ak_error_set(err, AK_ERR_INVALID_ARG, "cannot encode value of type %u", value->type);
}

ak_status_t ak_cdt_encode(const ak_value_t *value, ak_buf_t *out, ak_error_t *err)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, ak_cdt_buf_write);
    ak_status_t st = ak_cdt_pack(&pk, value, 0, err);
    if (st == AK_OK && ak_buf_failed(out))
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory encoding msgpack");
    return st;
}
