#include "wire/ak_value.h"

#include <string.h>

#include "wire/ak_particle.h"

ak_value_t ak_value_string(const char *s)
{
    return ak_value_bytes_of(AK_VALUE_STRING, AK_PARTICLE_STRING, s, strlen(s));
}

ak_value_t ak_value_blob(const void *data, size_t len)
{
    return ak_value_bytes_of(AK_VALUE_BYTES, AK_BYTES_SUBTYPE_BLOB, data, len);
}

bool ak_value_equal(const ak_value_t *a, const ak_value_t *b)
{
    if (a->type != b->type)
        return false;
    switch ((ak_value_type_t)a->type) {
    case AK_VALUE_NIL:
        return true;
    case AK_VALUE_INT:
        return a->u.integer == b->u.integer;
    case AK_VALUE_DOUBLE:
        return memcmp(&a->u.dbl, &b->u.dbl, sizeof(double)) == 0;
    case AK_VALUE_BOOL:
        return a->u.boolean == b->u.boolean;
    case AK_VALUE_BYTES:
        if (a->subtype != b->subtype)
            return false;
        /* fall through */
    case AK_VALUE_STRING:
    case AK_VALUE_HLL:
    case AK_VALUE_GEOJSON:
        return a->u.bytes.len == b->u.bytes.len &&
               (a->u.bytes.len == 0 || memcmp(a->u.bytes.data, b->u.bytes.data, a->u.bytes.len) == 0);
    case AK_VALUE_LIST:
        if (a->subtype != b->subtype || a->u.list.count != b->u.list.count)
            return false;
        for (uint32_t i = 0; i < a->u.list.count; i++)
            if (!ak_value_equal(&a->u.list.items[i], &b->u.list.items[i]))
                return false;
        return true;
    case AK_VALUE_MAP:
        if (a->subtype != b->subtype || a->u.map.count != b->u.map.count)
            return false;
        for (uint32_t i = 0; i < 2 * a->u.map.count; i++)
            if (!ak_value_equal(&a->u.map.entries[i], &b->u.map.entries[i]))
                return false;
        return true;
    }
    return false;
}

const char *ak_value_type_name(const ak_value_t *value)
{
    switch ((ak_value_type_t)value->type) {
    case AK_VALUE_NIL: return "nil";
    case AK_VALUE_INT: return "int";
    case AK_VALUE_DOUBLE: return "double";
    case AK_VALUE_STRING: return "string";
    case AK_VALUE_BYTES: return ak_particle_type_name(value->subtype);
    case AK_VALUE_BOOL: return "bool";
    case AK_VALUE_HLL: return "hll";
    case AK_VALUE_GEOJSON: return "geojson";
    case AK_VALUE_LIST: return "list";
    case AK_VALUE_MAP: return "map";
    }
    return "unknown";
}
