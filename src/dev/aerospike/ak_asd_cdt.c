#include "dev/aerospike/ak_asd_cdt.h"

#include <string.h>

#include "common/ak_buf.h"
#include "wire/ak_cdt.h"
#include "wire/ak_particle.h"
#include "wire/ak_result.h"

enum {
    AK_LIST_SET_TYPE = 0,
    AK_LIST_APPEND = 1,
    AK_LIST_APPEND_ITEMS = 2,
    AK_LIST_INSERT = 3,
    AK_LIST_INSERT_ITEMS = 4,
    AK_LIST_POP = 5,
    AK_LIST_REMOVE = 7,
    AK_LIST_SET = 9,
    AK_LIST_CLEAR = 11,
    AK_LIST_SIZE = 16,
    AK_LIST_GET = 17,
    AK_LIST_GET_RANGE = 18,
    AK_LIST_GET_BY_INDEX = 19,
    AK_MAP_SET_TYPE = 64,
    AK_MAP_ADD = 65,
    AK_MAP_ADD_ITEMS = 66,
    AK_MAP_PUT = 67,
    AK_MAP_PUT_ITEMS = 68,
    AK_MAP_REPLACE = 69,
    AK_MAP_REPLACE_ITEMS = 70,
    AK_MAP_INCREMENT = 73,
    AK_MAP_DECREMENT = 74,
    AK_MAP_CLEAR = 75,
    AK_MAP_REMOVE_BY_KEY = 76,
    AK_MAP_SIZE = 96,
    AK_MAP_GET_BY_KEY = 97,
};

enum {
    AK_RETURN_NONE = 0,
    AK_RETURN_INDEX = 1,
    AK_RETURN_REVINDEX = 2,
    AK_RETURN_RANK = 3,
    AK_RETURN_REVRANK = 4,
    AK_RETURN_COUNT = 5,
    AK_RETURN_KEY = 6,
    AK_RETURN_VALUE = 7,
    AK_RETURN_KEY_VALUE = 8,
    AK_RETURN_EXISTS = 13,
};

#define AK_MAP_WRITE_CREATE_ONLY 0x01
#define AK_MAP_WRITE_UPDATE_ONLY 0x02
#define AK_MAP_WRITE_NO_FAIL 0x04

/* Orders values as Aerospike does across types (nil < bool < int < string
 * < list < map < bytes < double < geojson), and within a type by value. */
static int ak_type_rank(const ak_value_t *v)
{
    switch ((ak_value_type_t)v->type) {
    case AK_VALUE_NIL: return 1;
    case AK_VALUE_BOOL: return 2;
    case AK_VALUE_INT: return 3;
    case AK_VALUE_STRING: return 4;
    case AK_VALUE_LIST: return 5;
    case AK_VALUE_MAP: return 6;
    case AK_VALUE_BYTES: return 7;
    case AK_VALUE_DOUBLE: return 8;
    case AK_VALUE_GEOJSON: return 9;
    case AK_VALUE_HLL: return 10;
    }
    return 11;
}

static int ak_value_compare(const ak_value_t *a, const ak_value_t *b)
{
    int ra = ak_type_rank(a), rb = ak_type_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch ((ak_value_type_t)a->type) {
    case AK_VALUE_NIL: return 0;
    case AK_VALUE_BOOL: return (int)a->u.boolean - (int)b->u.boolean;
    case AK_VALUE_INT: return a->u.integer < b->u.integer ? -1 : a->u.integer > b->u.integer;
    case AK_VALUE_DOUBLE: return a->u.dbl < b->u.dbl ? -1 : a->u.dbl > b->u.dbl;
    case AK_VALUE_STRING:
    case AK_VALUE_BYTES:
    case AK_VALUE_GEOJSON:
    case AK_VALUE_HLL: {
        uint32_t n = a->u.bytes.len < b->u.bytes.len ? a->u.bytes.len : b->u.bytes.len;
        int c = n ? memcmp(a->u.bytes.data, b->u.bytes.data, n) : 0;
        if (c)
            return c;
        return a->u.bytes.len < b->u.bytes.len ? -1 : a->u.bytes.len > b->u.bytes.len;
    }
    case AK_VALUE_LIST: {
        uint32_t n = a->u.list.count < b->u.list.count ? a->u.list.count : b->u.list.count;
        for (uint32_t i = 0; i < n; i++) {
            int c = ak_value_compare(&a->u.list.items[i], &b->u.list.items[i]);
            if (c)
                return c;
        }
        return a->u.list.count < b->u.list.count ? -1 : a->u.list.count > b->u.list.count;
    }
    case AK_VALUE_MAP:
        return a->u.map.count < b->u.map.count ? -1 : a->u.map.count > b->u.map.count;
    }
    return 0;
}

/* A growable copy of a list or map being modified, in the arena. */
typedef struct ak_cdt_work {
    ak_value_t *items; /* list items, or map key/value pairs flattened */
    uint32_t count;    /* list items or map entries */
    uint32_t cap;      /* in values */
    uint8_t flags;
} ak_cdt_work_t;

static bool ak_work_reserve(ak_cdt_work_t *w, ak_arena_t *arena, uint32_t values_needed)
{
    if (values_needed <= w->cap)
        return true;
    uint32_t cap = w->cap ? w->cap : 8;
    while (cap < values_needed)
        cap *= 2;
    ak_value_t *items = ak_arena_alloc_array(arena, cap, sizeof *items);
    if (!items)
        return false;
    if (w->cap)
        memcpy(items, w->items, w->cap * sizeof *items);
    w->items = items;
    w->cap = cap;
    return true;
}

static int ak_list_index(int64_t index, uint32_t count, bool allow_end, uint32_t *out)
{
    int64_t i = index < 0 ? (int64_t)count + index : index;
    if (i < 0 || i > (int64_t)count || (!allow_end && i == (int64_t)count))
        return AK_RESULT_OP_NOT_APPLICABLE;
    *out = (uint32_t)i;
    return AK_RESULT_OK;
}

static int64_t ak_map_find(const ak_cdt_work_t *w, const ak_value_t *key)
{
    for (uint32_t i = 0; i < w->count; i++)
        if (ak_value_compare(&w->items[2 * i], key) == 0)
            return i;
    return -1;
}

/* Inserts or replaces key -> value honouring the map's key order. */
static bool ak_map_put(ak_cdt_work_t *w, ak_arena_t *arena, const ak_value_t *key,
                       const ak_value_t *value)
{
    int64_t at = ak_map_find(w, key);
    if (at >= 0) {
        w->items[2 * at + 1] = *value;
        return true;
    }
    if (!ak_work_reserve(w, arena, 2 * (w->count + 1)))
        return false;
    uint32_t pos = w->count;
    if (w->flags & 0x01) { /* key-ordered */
        pos = 0;
        while (pos < w->count && ak_value_compare(&w->items[2 * pos], key) < 0)
            pos++;
        memmove(&w->items[2 * pos + 2], &w->items[2 * pos], (size_t)(w->count - pos) * 2 * sizeof(ak_value_t));
    }
    w->items[2 * pos] = *key;
    w->items[2 * pos + 1] = *value;
    w->count++;
    return true;
}

static int ak_arg_int(const ak_value_t *args, uint32_t n, uint32_t i, int64_t *out)
{
    if (i >= n || args[i].type != AK_VALUE_INT)
        return AK_RESULT_PARAMETER;
    *out = args[i].u.integer;
    return AK_RESULT_OK;
}

static int ak_list_command(ak_cdt_work_t *w, ak_arena_t *arena, int64_t cmd, const ak_value_t *args,
                           uint32_t n, bool *modified, ak_value_t *result, bool *has_result)
{
    int64_t a;
    uint32_t index;
    int rc;
    switch (cmd) {
    case AK_LIST_SET_TYPE:
        if ((rc = ak_arg_int(args, n, 0, &a)) != AK_RESULT_OK)
            return rc;
        w->flags = (uint8_t)(a & 0x01);
        *modified = true;
        return AK_RESULT_OK;
    case AK_LIST_APPEND:
    case AK_LIST_INSERT:
    case AK_LIST_APPEND_ITEMS:
    case AK_LIST_INSERT_ITEMS: {
        bool insert = cmd == AK_LIST_INSERT || cmd == AK_LIST_INSERT_ITEMS;
        bool items = cmd == AK_LIST_APPEND_ITEMS || cmd == AK_LIST_INSERT_ITEMS;
        uint32_t value_arg = insert ? 1 : 0;
        index = w->count;
        if (insert) {
            if ((rc = ak_arg_int(args, n, 0, &a)) != AK_RESULT_OK)
                return rc;
            if ((rc = ak_list_index(a, w->count, true, &index)) != AK_RESULT_OK)
                return rc;
        }
        if (value_arg >= n)
            return AK_RESULT_PARAMETER;
        const ak_value_t *add = &args[value_arg];
        uint32_t add_count = 1;
        if (items) {
            if (add->type != AK_VALUE_LIST)
                return AK_RESULT_PARAMETER;
            add_count = add->u.list.count;
            add = add->u.list.items;
        }
        if (!ak_work_reserve(w, arena, w->count + add_count))
            return AK_RESULT_UNKNOWN;
        memmove(&w->items[index + add_count], &w->items[index], (size_t)(w->count - index) * sizeof(ak_value_t));
        memcpy(&w->items[index], add, (size_t)add_count * sizeof(ak_value_t));
        w->count += add_count;
        *modified = true;
        *result = ak_value_int(w->count);
        *has_result = true;
        return AK_RESULT_OK;
    }
    case AK_LIST_POP:
    case AK_LIST_REMOVE:
        if ((rc = ak_arg_int(args, n, 0, &a)) != AK_RESULT_OK)
            return rc;
        if ((rc = ak_list_index(a, w->count, false, &index)) != AK_RESULT_OK)
            return rc;
        *result = cmd == AK_LIST_POP ? w->items[index] : ak_value_int(1);
        *has_result = true;
        memmove(&w->items[index], &w->items[index + 1], (size_t)(w->count - index - 1) * sizeof(ak_value_t));
        w->count--;
        *modified = true;
        return AK_RESULT_OK;
    case AK_LIST_SET:
        if ((rc = ak_arg_int(args, n, 0, &a)) != AK_RESULT_OK)
            return rc;
        if (n < 2)
            return AK_RESULT_PARAMETER;
        if ((rc = ak_list_index(a, w->count, true, &index)) != AK_RESULT_OK)
            return rc;
        if (index == w->count) {
            if (!ak_work_reserve(w, arena, w->count + 1))
                return AK_RESULT_UNKNOWN;
            w->count++;
        }
        w->items[index] = args[1];
        *modified = true;
        return AK_RESULT_OK;
    case AK_LIST_CLEAR:
        w->count = 0;
        *modified = true;
        return AK_RESULT_OK;
    case AK_LIST_SIZE:
        *result = ak_value_int(w->count);
        *has_result = true;
        return AK_RESULT_OK;
    case AK_LIST_GET:
        if ((rc = ak_arg_int(args, n, 0, &a)) != AK_RESULT_OK)
            return rc;
        if ((rc = ak_list_index(a, w->count, false, &index)) != AK_RESULT_OK)
            return rc;
        *result = w->items[index];
        *has_result = true;
        return AK_RESULT_OK;
    case AK_LIST_GET_RANGE: {
        if ((rc = ak_arg_int(args, n, 0, &a)) != AK_RESULT_OK)
            return rc;
        if ((rc = ak_list_index(a, w->count, true, &index)) != AK_RESULT_OK)
            return rc;
        int64_t count = (int64_t)w->count - index;
        if (n > 1) {
            if ((rc = ak_arg_int(args, n, 1, &count)) != AK_RESULT_OK)
                return rc;
            if (count < 0)
                return AK_RESULT_PARAMETER;
            if (count > (int64_t)w->count - index)
                count = (int64_t)w->count - index;
        }
        *result = ak_value_list(&w->items[index], (uint32_t)count);
        *has_result = true;
        return AK_RESULT_OK;
    }
    case AK_LIST_GET_BY_INDEX: {
        int64_t rtype;
        if ((rc = ak_arg_int(args, n, 0, &rtype)) != AK_RESULT_OK ||
            (rc = ak_arg_int(args, n, 1, &a)) != AK_RESULT_OK)
            return rc;
        if ((rc = ak_list_index(a, w->count, false, &index)) != AK_RESULT_OK)
            return rc;
        switch (rtype & 0xffff) {
        case AK_RETURN_NONE: return AK_RESULT_OK;
        case AK_RETURN_VALUE: *result = w->items[index]; break;
        case AK_RETURN_INDEX: *result = ak_value_int(index); break;
        case AK_RETURN_REVINDEX: *result = ak_value_int(w->count - 1 - index); break;
        case AK_RETURN_COUNT: *result = ak_value_int(1); break;
        default: return AK_RESULT_PARAMETER;
        }
        *has_result = true;
        return AK_RESULT_OK;
    }
    default:
        return AK_RESULT_PARAMETER;
    }
}

static int ak_map_command(ak_cdt_work_t *w, ak_arena_t *arena, int64_t cmd, const ak_value_t *args,
                          uint32_t n, bool *modified, ak_value_t *result, bool *has_result)
{
    int64_t a;
    int rc;
    switch (cmd) {
    case AK_MAP_SET_TYPE:
        if ((rc = ak_arg_int(args, n, 0, &a)) != AK_RESULT_OK)
            return rc;
        w->flags = (uint8_t)a;
        *modified = true;
        return AK_RESULT_OK;
    case AK_MAP_ADD:
    case AK_MAP_PUT:
    case AK_MAP_REPLACE:
    case AK_MAP_ADD_ITEMS:
    case AK_MAP_PUT_ITEMS:
    case AK_MAP_REPLACE_ITEMS: {
        bool items = cmd == AK_MAP_ADD_ITEMS || cmd == AK_MAP_PUT_ITEMS || cmd == AK_MAP_REPLACE_ITEMS;
        uint32_t attr_arg = items ? 1 : 2;
        int64_t write_flags = 0;
        if (cmd == AK_MAP_ADD || cmd == AK_MAP_ADD_ITEMS)
            write_flags = AK_MAP_WRITE_CREATE_ONLY;
        else if (cmd == AK_MAP_REPLACE || cmd == AK_MAP_REPLACE_ITEMS)
            write_flags = AK_MAP_WRITE_UPDATE_ONLY;
        /* [cmd, key, value, attr, flags] / [cmd, map, attr, flags]: attr
         * carries the order for a map this op creates. */
        if (n > attr_arg && args[attr_arg].type == AK_VALUE_INT && w->count == 0)
            w->flags = (uint8_t)(args[attr_arg].u.integer & 0xff);
        if (n > attr_arg + 1 && args[attr_arg + 1].type == AK_VALUE_INT)
            write_flags = args[attr_arg + 1].u.integer;
        const ak_value_t *pairs;
        uint32_t n_pairs;
        if (items) {
            if (n < 1 || args[0].type != AK_VALUE_MAP)
                return AK_RESULT_PARAMETER;
            pairs = args[0].u.map.entries;
            n_pairs = args[0].u.map.count;
        } else {
            if (n < 2)
                return AK_RESULT_PARAMETER;
            pairs = args;
            n_pairs = 1;
        }
        for (uint32_t i = 0; i < n_pairs; i++) {
            bool exists = ak_map_find(w, &pairs[2 * i]) >= 0;
            if ((exists && (write_flags & AK_MAP_WRITE_CREATE_ONLY)) ||
                (!exists && (write_flags & AK_MAP_WRITE_UPDATE_ONLY))) {
                if (write_flags & AK_MAP_WRITE_NO_FAIL)
                    continue;
                return exists ? AK_RESULT_ELEMENT_EXISTS : AK_RESULT_ELEMENT_NOT_FOUND;
            }
            if (!ak_map_put(w, arena, &pairs[2 * i], &pairs[2 * i + 1]))
                return AK_RESULT_UNKNOWN;
        }
        *modified = true;
        *result = ak_value_int(w->count);
        *has_result = true;
        return AK_RESULT_OK;
    }
    case AK_MAP_INCREMENT:
    case AK_MAP_DECREMENT: {
        if (n < 1)
            return AK_RESULT_PARAMETER;
        ak_value_t delta = n > 1 ? args[1] : ak_value_int(1);
        int64_t at = ak_map_find(w, &args[0]);
        ak_value_t current = at >= 0 ? w->items[2 * at + 1] : ak_value_int(0);
        ak_value_t next;
        if (current.type == AK_VALUE_INT && delta.type == AK_VALUE_INT)
            next = ak_value_int((int64_t)((uint64_t)current.u.integer +
                                          (cmd == AK_MAP_INCREMENT ? (uint64_t)delta.u.integer
                                                                   : -(uint64_t)delta.u.integer)));
        else if (current.type == AK_VALUE_DOUBLE && delta.type == AK_VALUE_DOUBLE)
            next = ak_value_double(cmd == AK_MAP_INCREMENT ? current.u.dbl + delta.u.dbl
                                                           : current.u.dbl - delta.u.dbl);
        else
            return AK_RESULT_INCOMPATIBLE_TYPE;
        if (!ak_map_put(w, arena, &args[0], &next))
            return AK_RESULT_UNKNOWN;
        *modified = true;
        *result = next;
        *has_result = true;
        return AK_RESULT_OK;
    }
    case AK_MAP_CLEAR:
        w->count = 0;
        *modified = true;
        return AK_RESULT_OK;
    case AK_MAP_SIZE:
        *result = ak_value_int(w->count);
        *has_result = true;
        return AK_RESULT_OK;
    case AK_MAP_GET_BY_KEY:
    case AK_MAP_REMOVE_BY_KEY: {
        int64_t rtype;
        if ((rc = ak_arg_int(args, n, 0, &rtype)) != AK_RESULT_OK || n < 2)
            return rc ? rc : AK_RESULT_PARAMETER;
        int64_t at = ak_map_find(w, &args[1]);
        switch (rtype & 0xffff) {
        case AK_RETURN_NONE:
            break;
        case AK_RETURN_VALUE:
            *result = at >= 0 ? w->items[2 * at + 1] : ak_value_nil();
            *has_result = true;
            break;
        case AK_RETURN_KEY:
            *result = at >= 0 ? w->items[2 * at] : ak_value_nil();
            *has_result = true;
            break;
        case AK_RETURN_KEY_VALUE:
            *result = ak_value_map(at >= 0 ? &w->items[2 * at] : NULL, at >= 0 ? 1 : 0, 0);
            *has_result = true;
            break;
        case AK_RETURN_COUNT:
            *result = ak_value_int(at >= 0 ? 1 : 0);
            *has_result = true;
            break;
        case AK_RETURN_EXISTS:
            *result = ak_value_bool(at >= 0);
            *has_result = true;
            break;
        case AK_RETURN_INDEX:
            *result = at >= 0 ? ak_value_int(at) : ak_value_nil();
            *has_result = true;
            break;
        default:
            return AK_RESULT_PARAMETER;
        }
        if (cmd == AK_MAP_REMOVE_BY_KEY && at >= 0) {
            if (*has_result && result->type == AK_VALUE_MAP) {
                /* the removed pair must survive the memmove below */
                ak_value_t *pair = ak_arena_alloc_array(arena, 2, sizeof *pair);
                if (!pair)
                    return AK_RESULT_UNKNOWN;
                memcpy(pair, &w->items[2 * at], 2 * sizeof *pair);
                result->u.map.entries = pair;
            }
            memmove(&w->items[2 * at], &w->items[2 * at + 2],
                    (size_t)(w->count - at - 1) * 2 * sizeof(ak_value_t));
            w->count--;
            *modified = true;
        }
        return AK_RESULT_OK;
    }
    default:
        return AK_RESULT_PARAMETER;
    }
}

int ak_asd_cdt_apply(ak_asd_record_t *rec, const ak_msg_op_t *op, ak_arena_t *arena,
                     ak_value_t *result, bool *has_result)
{
    *has_result = false;
    ak_value_t payload;
    if (ak_cdt_decode(op->value, op->value_len, 0, arena, &payload, NULL) != AK_OK ||
        payload.type != AK_VALUE_LIST || payload.u.list.count < 1 ||
        payload.u.list.items[0].type != AK_VALUE_INT)
        return AK_RESULT_PARAMETER;
    int64_t cmd = payload.u.list.items[0].u.integer;
    if (cmd == 0xff)
        return AK_RESULT_PARAMETER; /* context paths are not supported here */
    const ak_value_t *args = payload.u.list.items + 1;
    uint32_t n = payload.u.list.count - 1;
    bool is_map = cmd >= 64;
    bool is_read = op->op_type == AK_OP_CDT_READ;

    ak_cdt_work_t work = {0};
    ak_asd_bin_t *bin = ak_asd_record_bin(rec, op->name, op->name_len);
    if (bin) {
        uint8_t want = is_map ? AK_PARTICLE_MAP : AK_PARTICLE_LIST;
        if (bin->particle_type != want)
            return AK_RESULT_INCOMPATIBLE_TYPE;
        ak_value_t current;
        if (ak_particle_decode(bin->particle_type, bin->data, bin->len, 0, arena, &current, NULL) != AK_OK)
            return AK_RESULT_UNKNOWN;
        uint32_t values = is_map ? 2 * current.u.map.count : current.u.list.count;
        if (!ak_work_reserve(&work, arena, values))
            return AK_RESULT_UNKNOWN;
        memcpy(work.items, is_map ? current.u.map.entries : current.u.list.items,
               (size_t)values * sizeof(ak_value_t));
        work.count = is_map ? current.u.map.count : current.u.list.count;
        work.flags = current.subtype;
    } else if (is_read) {
        return AK_RESULT_OK; /* reading a missing bin yields nothing */
    }

    bool modified = false;
    int rc = is_map ? ak_map_command(&work, arena, cmd, args, n, &modified, result, has_result)
                    : ak_list_command(&work, arena, cmd, args, n, &modified, result, has_result);
    if (rc != AK_RESULT_OK)
        return rc;
    if (modified && is_read)
        return AK_RESULT_PARAMETER; /* a modifying command sent as a read op */
    if (!modified)
        return AK_RESULT_OK;

    ak_value_t updated = is_map ? ak_value_map(work.items, work.count, work.flags)
                                : ak_value_list(work.items, work.count);
    updated.subtype = work.flags;
    ak_buf_t encoded;
    ak_buf_init(&encoded);
    if (ak_cdt_encode(&updated, &encoded, NULL) != AK_OK) {
        ak_buf_free(&encoded);
        return AK_RESULT_UNKNOWN;
    }
    /* Results may point into the old bin bytes; keep a copy in the arena
     * before the bin is replaced. */
    if (*has_result) {
        ak_buf_t result_bytes;
        ak_buf_init(&result_bytes);
        ak_value_t copied;
        bool ok = ak_particle_encode(result, &result_bytes, NULL) == AK_OK;
        uint8_t *saved = ok ? ak_arena_memdup(arena, result_bytes.data, result_bytes.len) : NULL;
        ok = ok && (saved || result_bytes.len == 0) &&
             ak_particle_decode(ak_particle_type_of(result), saved, result_bytes.len, 0, arena,
                                &copied, NULL) == AK_OK;
        ak_buf_free(&result_bytes);
        if (!ok) {
            ak_buf_free(&encoded);
            return AK_RESULT_UNKNOWN;
        }
        *result = copied;
    }
    bool stored = ak_asd_record_set_bin(rec, op->name, op->name_len,
                                        is_map ? AK_PARTICLE_MAP : AK_PARTICLE_LIST, encoded.data,
                                        encoded.len);
    ak_buf_free(&encoded);
    return stored ? AK_RESULT_OK : AK_RESULT_UNKNOWN;
}
