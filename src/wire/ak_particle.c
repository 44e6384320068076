#include "wire/ak_particle.h"

#include <string.h>

#include "wire/ak_cdt.h"

const char *ak_particle_type_name(uint8_t type)
{
    switch (type) {
    case AK_PARTICLE_NULL: return "nil";
    case AK_PARTICLE_INTEGER: return "int";
    case AK_PARTICLE_FLOAT: return "double";
    case AK_PARTICLE_STRING: return "string";
    case AK_PARTICLE_BLOB: return "blob";
    case AK_PARTICLE_JAVA_BLOB: return "java-blob";
    case AK_PARTICLE_CSHARP_BLOB: return "csharp-blob";
    case AK_PARTICLE_PYTHON_BLOB: return "python-blob";
    case AK_PARTICLE_RUBY_BLOB: return "ruby-blob";
    case AK_PARTICLE_PHP_BLOB: return "php-blob";
    case AK_PARTICLE_ERLANG_BLOB: return "erlang-blob";
    case AK_PARTICLE_VECTOR: return "vector";
    case AK_PARTICLE_BOOL: return "bool";
    case AK_PARTICLE_HLL: return "hll";
    case AK_PARTICLE_MAP: return "map";
    case AK_PARTICLE_LIST: return "list";
    case AK_PARTICLE_GEOJSON: return "geojson";
    }
    return "unknown";
}

static ak_status_t ak_particle_expect_len(uint8_t type, size_t len, size_t want, size_t base_offset,
                                          ak_error_t *err)
{
    if (len == want)
        return AK_OK;
    return ak_error_at(err, AK_ERR_MALFORMED, base_offset, "%s particle must be %zu bytes, not %zu",
                       ak_particle_type_name(type), want, len);
}

/* GeoJSON particle: flags:u8, ncells:u16 BE, ncells x u64 cell ids, then the
 * JSON text. Only the text is kept: cell ids are the server's index data and
 * are recomputed by any server that stores the value. */
static ak_status_t ak_particle_decode_geojson(const uint8_t *data, size_t len, size_t base_offset,
                                              ak_value_t *value, ak_error_t *err)
{
    if (len < 3)
        return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + len,
                           "geojson particle needs a 3-byte header, has %zu bytes", len);
    size_t ncells = ak_get_be16(data + 1);
    size_t cells_end = 3 + ncells * 8;
    if (cells_end > len)
        return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + 1,
                           "geojson particle declares %zu cells (%zu bytes) but has %zu bytes",
                           ncells, cells_end, len);
    ak_value_set_bytes_of(value, AK_VALUE_GEOJSON, AK_PARTICLE_GEOJSON, data + cells_end,
                               len - cells_end);
    return AK_OK;
}

ak_status_t ak_particle_decode(uint8_t type, const uint8_t *data, size_t len, size_t base_offset,
                               ak_arena_t *arena, ak_value_t *value, ak_error_t *err)
{
    ak_status_t st;
    if (len > UINT32_MAX)
        return ak_error_at(err, AK_ERR_LIMIT, base_offset, "particle of %zu bytes is too large", len);
    switch (type) {
    case AK_PARTICLE_NULL:
        if ((st = ak_particle_expect_len(type, len, 0, base_offset, err)) != AK_OK)
            return st;
        ak_value_set_nil(value);
        return AK_OK;
    case AK_PARTICLE_INTEGER:
        if ((st = ak_particle_expect_len(type, len, 8, base_offset, err)) != AK_OK)
            return st;
        ak_value_set_int(value, (int64_t)ak_get_be64(data));
        return AK_OK;
    case AK_PARTICLE_FLOAT: {
        if ((st = ak_particle_expect_len(type, len, 8, base_offset, err)) != AK_OK)
            return st;
        uint64_t bits = ak_get_be64(data);
        double d;
        memcpy(&d, &bits, sizeof d);
        ak_value_set_double(value, d);
        return AK_OK;
    }
    case AK_PARTICLE_STRING:
        ak_value_set_bytes_of(value, AK_VALUE_STRING, AK_PARTICLE_STRING, data, len);
        return AK_OK;
    case AK_PARTICLE_BLOB:
    case AK_PARTICLE_JAVA_BLOB:
    case AK_PARTICLE_CSHARP_BLOB:
    case AK_PARTICLE_PYTHON_BLOB:
    case AK_PARTICLE_RUBY_BLOB:
    case AK_PARTICLE_PHP_BLOB:
    case AK_PARTICLE_ERLANG_BLOB:
        ak_value_set_bytes_of(value, AK_VALUE_BYTES, type, data, len);
        return AK_OK;
    case AK_PARTICLE_BOOL:
        if ((st = ak_particle_expect_len(type, len, 1, base_offset, err)) != AK_OK)
            return st;
        if (data[0] > 1)
            return ak_error_at(err, AK_ERR_MALFORMED, base_offset,
                               "bool particle must be 0 or 1, not %u", data[0]);
        ak_value_set_bool(value, data[0] == 1);
        return AK_OK;
    case AK_PARTICLE_HLL:
        ak_value_set_bytes_of(value, AK_VALUE_HLL, AK_PARTICLE_HLL, data, len);
        return AK_OK;
    case AK_PARTICLE_MAP:
    case AK_PARTICLE_LIST: {
        if ((st = ak_cdt_decode(data, len, base_offset, arena, value, err)) != AK_OK)
            return st;
        uint8_t want = type == AK_PARTICLE_MAP ? AK_VALUE_MAP : AK_VALUE_LIST;
        if (value->type != want)
            return ak_error_at(err, AK_ERR_MALFORMED, base_offset,
                               "%s particle holds a MessagePack %s", ak_particle_type_name(type),
                               ak_value_type_name(value));
        return AK_OK;
    }
    case AK_PARTICLE_GEOJSON:
        return ak_particle_decode_geojson(data, len, base_offset, value, err);
    default:
        return ak_error_at(err, AK_ERR_UNSUPPORTED, base_offset, "unsupported particle type %u (%s)",
                           type, ak_particle_type_name(type));
    }
}

uint8_t ak_particle_type_of(const ak_value_t *value)
{
    switch ((ak_value_type_t)value->type) {
    case AK_VALUE_NIL: return AK_PARTICLE_NULL;
    case AK_VALUE_INT: return AK_PARTICLE_INTEGER;
    case AK_VALUE_DOUBLE: return AK_PARTICLE_FLOAT;
    case AK_VALUE_STRING: return AK_PARTICLE_STRING;
    case AK_VALUE_BYTES:
        return ak_particle_is_blob(value->subtype) ? value->subtype : AK_PARTICLE_BLOB;
    case AK_VALUE_BOOL: return AK_PARTICLE_BOOL;
    case AK_VALUE_HLL: return AK_PARTICLE_HLL;
    case AK_VALUE_GEOJSON: return AK_PARTICLE_GEOJSON;
    case AK_VALUE_LIST: return AK_PARTICLE_LIST;
    case AK_VALUE_MAP: return AK_PARTICLE_MAP;
    }
    return AK_PARTICLE_NULL;
}

ak_status_t ak_particle_encode(const ak_value_t *value, ak_buf_t *out, ak_error_t *err)
{
    switch ((ak_value_type_t)value->type) {
    case AK_VALUE_NIL:
        return AK_OK;
    case AK_VALUE_INT:
        ak_buf_append_be64(out, (uint64_t)value->u.integer);
        return AK_OK;
    case AK_VALUE_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &value->u.dbl, sizeof bits);
        ak_buf_append_be64(out, bits);
        return AK_OK;
    }
    case AK_VALUE_STRING:
    case AK_VALUE_BYTES:
    case AK_VALUE_HLL:
        ak_buf_append(out, value->u.bytes.data, value->u.bytes.len);
        return AK_OK;
    case AK_VALUE_BOOL:
        ak_buf_append_byte(out, value->u.boolean ? 1 : 0);
        return AK_OK;
    case AK_VALUE_GEOJSON:
        /* flags 0, no cells: the server computes cells itself. */
        ak_buf_append_byte(out, 0);
        ak_buf_append_be16(out, 0);
        ak_buf_append(out, value->u.bytes.data, value->u.bytes.len);
        return AK_OK;
    case AK_VALUE_LIST:
    case AK_VALUE_MAP:
        return ak_cdt_encode(value, out, err);
    }
    return ak_error_set(err, AK_ERR_INVALID_ARG, "cannot encode value of type %u", value->type);
}
