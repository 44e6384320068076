/*
 * Differential libFuzzer harness for the json value decoder: whatever
 * ak_inbound_decode gives (its yajl fast path, or jansson where the fast path
 * gives up) must be exactly what jansson alone gives: the same status and,
 * for a value, the same tree (types, integers, doubles bit for bit, bytes,
 * document order).
 *
 *   ./build.sh fuzz 600 inbound_json
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ak_arena.h"
#include "format/ak_inbound_decode.h"
#include "format/ak_inbound_decode_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_value(const ak_value_t *a, const ak_value_t *b)
{
    if (a->type != b->type)
        abort();
    switch (a->type) {
    case AK_VALUE_STRING:
    case AK_VALUE_BYTES:
        if (a->u.bytes.len != b->u.bytes.len || memcmp(a->u.bytes.data, b->u.bytes.data, a->u.bytes.len) != 0)
            abort();
        break;
    case AK_VALUE_LIST:
        if (a->u.list.count != b->u.list.count)
            abort();
        for (uint32_t i = 0; i < a->u.list.count; i++)
            same_value(&a->u.list.items[i], &b->u.list.items[i]);
        break;
    case AK_VALUE_MAP:
        if (a->u.map.count != b->u.map.count)
            abort();
        for (uint32_t i = 0; i < 2 * a->u.map.count; i++)
            same_value(&a->u.map.entries[i], &b->u.map.entries[i]);
        break;
    case AK_VALUE_INT:
        if (a->u.integer != b->u.integer)
            abort();
        break;
    case AK_VALUE_DOUBLE:
        if (memcmp(&a->u.dbl, &b->u.dbl, sizeof a->u.dbl) != 0)
            abort();
        break;
    case AK_VALUE_BOOL:
        if (a->u.boolean != b->u.boolean)
            abort();
        break;
    case AK_VALUE_NIL:
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ak_inbound_format_config_t cfg = {.mode = AK_INBOUND_FORMAT_JSON};
    ak_error_t err, ref_err;
    ak_inbound_decoder_t *dec = ak_inbound_decoder_new(&cfg, &err);
    if (!dec)
        abort();
    ak_arena_t arena;
    ak_arena_init(&arena, 4096);
    ak_value_t v, ref;
    ak_status_t st = ak_inbound_decode(dec, data, size, &arena, &v, &err);
    ak_status_t ref_st = ak_inbound_decode_json_reference(size ? data : (const uint8_t *)"", size, &arena,
                                                          &ref, &ref_err);
    if (st != ref_st)
        abort();
    if (st == AK_OK)
        same_value(&v, &ref);
    else if (strcmp(err.message, ref_err.message) != 0)
        abort();
    /* the connector's mode: strings may point into the input; same result */
    ak_value_t borrowed;
    ak_inbound_decoder_borrow_input(dec, true);
    if (ak_inbound_decode(dec, data, size, &arena, &borrowed, &err) != st)
        abort();
    if (st == AK_OK)
        same_value(&borrowed, &ref);
    ak_arena_destroy(&arena);
    ak_inbound_decoder_free(dec);
    return 0;
}
