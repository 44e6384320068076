/*
 * ak_value: the typed value tree shared by every layer.
 *
 * A bin value, a user key, or an element of a list or map. Strings, blobs,
 * GeoJSON and HLL hold a view {data, len} and lists and maps hold arrays;
 * whoever builds a value decides where those bytes live (decoders put them
 * in the record's arena; tests may point at literals). Values never own
 * memory themselves.
 */
#ifndef AK_VALUE_H
#define AK_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum ak_value_type {
    AK_VALUE_NIL = 0,
    AK_VALUE_INT,
    AK_VALUE_DOUBLE,
    AK_VALUE_STRING,
    AK_VALUE_BYTES,   /* subtype = particle type: 4 blob, 7..12 language blobs */
    AK_VALUE_BOOL,
    AK_VALUE_HLL,
    AK_VALUE_GEOJSON, /* bytes = the GeoJSON text */
    AK_VALUE_LIST,    /* subtype = list order flags (0 unordered, 1 ordered) */
    AK_VALUE_MAP,     /* subtype = map order flags (0 unordered, 1 K, 3 KV, ...) */
} ak_value_type_t;

typedef struct ak_value ak_value_t;

struct ak_value {
    uint8_t type;    /* ak_value_type_t */
    uint8_t subtype; /* see ak_value_type_t */
    union {
        int64_t integer;
        double dbl;
        bool boolean;
        struct {
            const uint8_t *data;
            uint32_t len;
        } bytes; /* STRING, BYTES, HLL, GEOJSON */
        struct {
            ak_value_t *items;
            uint32_t count;
        } list;
        struct {
            ak_value_t *entries; /* 2 * count: key, value, key, value, ... */
            uint32_t count;
        } map;
    } u;
};

/* Particle type of blobs with no language tag. */
#define AK_BYTES_SUBTYPE_BLOB 4

static inline ak_value_t ak_value_nil(void)
{
    ak_value_t v = {.type = AK_VALUE_NIL};
    return v;
}
static inline ak_value_t ak_value_int(int64_t i)
{
    ak_value_t v = {.type = AK_VALUE_INT, .u.integer = i};
    return v;
}
static inline ak_value_t ak_value_double(double d)
{
    ak_value_t v = {.type = AK_VALUE_DOUBLE, .u.dbl = d};
    return v;
}
static inline ak_value_t ak_value_bool(bool b)
{
    ak_value_t v = {.type = AK_VALUE_BOOL, .u.boolean = b};
    return v;
}
static inline ak_value_t ak_value_bytes_of(ak_value_type_t type, uint8_t subtype, const void *data,
                                           size_t len)
{
    ak_value_t v = {.type = (uint8_t)type, .subtype = subtype};
    v.u.bytes.data = data;
    v.u.bytes.len = (uint32_t)len;
    return v;
}
/* NUL-terminated UTF-8 string view. */
ak_value_t ak_value_string(const char *s);
ak_value_t ak_value_blob(const void *data, size_t len);
static inline ak_value_t ak_value_list(ak_value_t *items, uint32_t count)
{
    ak_value_t v = {.type = AK_VALUE_LIST};
    v.u.list.items = items;
    v.u.list.count = count;
    return v;
}
/* entries holds 2 * count values: key, value, key, value, ... */
static inline ak_value_t ak_value_map(ak_value_t *entries, uint32_t count, uint8_t order_flags)
{
    ak_value_t v = {.type = AK_VALUE_MAP, .subtype = order_flags};
    v.u.map.entries = entries;
    v.u.map.count = count;
    return v;
}

/* The same values written in place. A value built by the constructors
 * above and then copied (*out = ak_value_int(...)) is assembled on the
 * stack from byte-wide stores and read back in 16-byte loads, a store
 * forwarding stall of a dozen cycles on every decoded value; these write
 * each field where it belongs. */
static inline void ak_value_set_nil(ak_value_t *v)
{
    memset(v, 0, sizeof *v);
}
static inline void ak_value_set_int(ak_value_t *v, int64_t i)
{
    memset(v, 0, sizeof *v);
    v->type = AK_VALUE_INT;
    v->u.integer = i;
}
static inline void ak_value_set_double(ak_value_t *v, double d)
{
    memset(v, 0, sizeof *v);
    v->type = AK_VALUE_DOUBLE;
    v->u.dbl = d;
}
static inline void ak_value_set_bool(ak_value_t *v, bool b)
{
    memset(v, 0, sizeof *v);
    v->type = AK_VALUE_BOOL;
    v->u.boolean = b;
}
static inline void ak_value_set_bytes_of(ak_value_t *v, ak_value_type_t type, uint8_t subtype, const void *data,
                                         size_t len)
{
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)type;
    v->subtype = subtype;
    v->u.bytes.data = data;
    v->u.bytes.len = (uint32_t)len;
}
static inline void ak_value_set_list(ak_value_t *v, ak_value_t *items, uint32_t count)
{
    memset(v, 0, sizeof *v);
    v->type = AK_VALUE_LIST;
    v->u.list.items = items;
    v->u.list.count = count;
}
static inline void ak_value_set_map(ak_value_t *v, ak_value_t *entries, uint32_t count, uint8_t order_flags)
{
    memset(v, 0, sizeof *v);
    v->type = AK_VALUE_MAP;
    v->subtype = order_flags;
    v->u.map.entries = entries;
    v->u.map.count = count;
}

/* Deep structural equality; doubles compare by bit pattern so NaN equals
 * itself and -0.0 differs from 0.0, which is what a round-trip test needs. */
bool ak_value_equal(const ak_value_t *a, const ak_value_t *b);

/* "nil", "int", "double", "string", "blob", "java-blob", ..., "bool",
 * "hll", "geojson", "list", "map". */
const char *ak_value_type_name(const ak_value_t *value);

#endif
