/*
 * message-pack (spec outbound.md §3.4), written with msgpack-c's packer:
 *
 *   [1, 1, [key, gen, exp|nil, lut|nil, [[name, particle type, flags, value], ...]]]
 *   [1, 2, [key, flags]]                      flags 0x01 = durable delete
 *   key = [namespace, set|nil, digest (bin 20), userKey|nil]
 *
 * Top-level values keep their plain MessagePack type (blobs of every
 * language and HLL as bin, GeoJSON as str); inside lists and maps language
 * blobs, HLL and GeoJSON become ext(particle type) so they stay apart from
 * plain blobs and strings.
 */
#include <msgpack.h>

#include "format/ak_format_internal.h"
#include "wire/ak_particle.h"

static int buf_write(void *data, const char *buf, size_t len)
{
    ak_buf_append(data, buf, len);
    return 0;
}

static void pack_str(msgpack_packer *pk, const void *data, size_t len)
{
    if (!ak_format_utf8_valid(data, len)) {
        ak_buf_t clean; /* rare: replace what is not UTF-8 with U+FFFD */
        ak_buf_init(&clean);
        ak_format_utf8_sanitize(&clean, data, len);
        msgpack_pack_str(pk, clean.len);
        msgpack_pack_str_body(pk, clean.data, clean.len);
        ak_buf_free(&clean);
        return;
    }
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, data, len);
}

static void pack_bin(msgpack_packer *pk, const void *data, size_t len)
{
    msgpack_pack_bin(pk, len);
    msgpack_pack_bin_body(pk, data, len);
}

static void pack_ext(msgpack_packer *pk, int8_t type, const void *data, size_t len)
{
    msgpack_pack_ext(pk, len, type);
    msgpack_pack_ext_body(pk, data, len);
}

#define BIN_ARGS(bin) (int)(bin)->name.len, (bin)->name.data

static ak_status_t pack_value(msgpack_packer *pk, const ak_value_t *v, bool in_cdt,
                              const ak_bin_t *bin, int depth, ak_error_t *err)
{
    switch ((ak_value_type_t)v->type) {
    case AK_VALUE_NIL:
        msgpack_pack_nil(pk);
        return AK_OK;
    case AK_VALUE_INT:
        msgpack_pack_int64(pk, v->u.integer);
        return AK_OK;
    case AK_VALUE_DOUBLE:
        msgpack_pack_double(pk, v->u.dbl);
        return AK_OK;
    case AK_VALUE_STRING:
        pack_str(pk, v->u.bytes.data, v->u.bytes.len);
        return AK_OK;
    case AK_VALUE_BOOL:
        if (v->u.boolean)
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        return AK_OK;
    case AK_VALUE_BYTES:
        if (in_cdt && v->subtype != AK_PARTICLE_BLOB)
            pack_ext(pk, (int8_t)v->subtype, v->u.bytes.data, v->u.bytes.len);
        else
            pack_bin(pk, v->u.bytes.data, v->u.bytes.len);
        return AK_OK;
    case AK_VALUE_HLL:
        if (in_cdt)
            pack_ext(pk, AK_PARTICLE_HLL, v->u.bytes.data, v->u.bytes.len);
        else
            pack_bin(pk, v->u.bytes.data, v->u.bytes.len);
        return AK_OK;
    case AK_VALUE_GEOJSON:
        if (in_cdt)
            pack_ext(pk, AK_PARTICLE_GEOJSON, v->u.bytes.data, v->u.bytes.len);
        else
            pack_str(pk, v->u.bytes.data, v->u.bytes.len);
        return AK_OK;
    case AK_VALUE_LIST:
    case AK_VALUE_MAP:
        break;
    default:
        return ak_error_set(err, AK_ERR_UNSUPPORTED, "bin '%.*s': value type %u not supported",
                            BIN_ARGS(bin), (unsigned)v->type);
    }
    if (depth >= AK_FORMAT_MAX_DEPTH)
        return ak_error_set(err, AK_ERR_LIMIT, "bin '%.*s': lists and maps nested deeper than %d",
                            BIN_ARGS(bin), AK_FORMAT_MAX_DEPTH);
    if (v->type == AK_VALUE_LIST) {
        msgpack_pack_array(pk, v->u.list.count);
        for (uint32_t i = 0; i < v->u.list.count; i++) {
            ak_status_t st = pack_value(pk, &v->u.list.items[i], true, bin, depth + 1, err);
            if (st != AK_OK)
                return st;
        }
        return AK_OK;
    }
    msgpack_pack_map(pk, v->u.map.count);
    for (uint32_t i = 0; i < 2 * v->u.map.count; i++) {
        ak_status_t st = pack_value(pk, &v->u.map.entries[i], true, bin, depth + 1, err);
        if (st != AK_OK)
            return st;
    }
    return AK_OK;
}

static uint8_t bin_particle_type(const ak_value_t *v)
{
    switch ((ak_value_type_t)v->type) {
    case AK_VALUE_NIL: return AK_PARTICLE_NULL;
    case AK_VALUE_INT: return AK_PARTICLE_INTEGER;
    case AK_VALUE_DOUBLE: return AK_PARTICLE_FLOAT;
    case AK_VALUE_STRING: return AK_PARTICLE_STRING;
    case AK_VALUE_BYTES: return v->subtype;
    case AK_VALUE_BOOL: return AK_PARTICLE_BOOL;
    case AK_VALUE_HLL: return AK_PARTICLE_HLL;
    case AK_VALUE_GEOJSON: return AK_PARTICLE_GEOJSON;
    case AK_VALUE_LIST: return AK_PARTICLE_LIST;
    case AK_VALUE_MAP: return AK_PARTICLE_MAP;
    }
    return AK_PARTICLE_NULL;
}

static unsigned bin_flags(const ak_value_t *v)
{
    if (v->type == AK_VALUE_LIST)
        return v->subtype & 1u;
    if (v->type == AK_VALUE_MAP)
        return v->subtype & 3u;
    return 0;
}

ak_status_t ak_format_msgpack_write(const ak_formatter_t *fmt, const ak_format_input_t *in,
                                    const uint8_t digest[20], ak_buf_t *out, ak_error_t *err)
{
    (void)fmt; /* every map key type is representable: stringify-map-keys does not apply */
    const ak_record_t *rec = in->rec;
    bool is_write = rec->op == AK_RECORD_WRITE;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);

    msgpack_pack_array(&pk, 3);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_int(&pk, is_write ? 1 : 2);
    msgpack_pack_array(&pk, is_write ? 5 : 2);

    msgpack_pack_array(&pk, 4);
    pack_str(&pk, rec->ns.data, rec->ns.len);
    if (rec->set.len)
        pack_str(&pk, rec->set.data, rec->set.len);
    else
        msgpack_pack_nil(&pk);
    pack_bin(&pk, digest, 20);
    if (rec->has_key && (rec->key.type == AK_VALUE_INT || rec->key.type == AK_VALUE_DOUBLE ||
                         rec->key.type == AK_VALUE_STRING || rec->key.type == AK_VALUE_BYTES))
        pack_value(&pk, &rec->key, false, NULL, 0, NULL);
    else
        msgpack_pack_nil(&pk);

    if (!is_write) {
        msgpack_pack_int(&pk, rec->op == AK_RECORD_DURABLE_DELETE ? 1 : 0);
        return AK_OK;
    }
    msgpack_pack_uint32(&pk, rec->generation);
    if (in->exp_s >= 0)
        msgpack_pack_int64(&pk, in->exp_s);
    else
        msgpack_pack_nil(&pk);
    if (rec->has_lut)
        msgpack_pack_int64(&pk, (int64_t)rec->lut_ms);
    else
        msgpack_pack_nil(&pk);
    msgpack_pack_array(&pk, rec->n_bins);
    for (uint32_t i = 0; i < rec->n_bins; i++) {
        const ak_bin_t *bin = &rec->bins[i];
        msgpack_pack_array(&pk, 4);
        pack_str(&pk, bin->name.data, bin->name.len);
        msgpack_pack_uint8(&pk, bin_particle_type(&bin->value));
        msgpack_pack_uint8(&pk, (uint8_t)bin_flags(&bin->value));
        ak_status_t st = pack_value(&pk, &bin->value, false, bin, 0, err);
        if (st != AK_OK)
            return st;
    }
    return AK_OK;
}
