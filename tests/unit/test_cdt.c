#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ak_test_util.h"
#include "common/ak_arena.h"
#include "wire/ak_cdt.h"

static int setup_arena(void **state)
{
    ak_arena_t *arena = malloc(sizeof *arena);
    if (!arena)
        return -1;
    ak_arena_init(arena, 4096);
    *state = arena;
    return 0;
}

static int teardown_arena(void **state)
{
    ak_arena_t *arena = *state;
    ak_arena_destroy(arena);
    free(arena);
    return 0;
}

static ak_status_t decode_bytes(ak_arena_t *arena, const uint8_t *data, size_t len, ak_value_t *out,
                                ak_error_t *err)
{
    akt_error_reset(err);
    return ak_cdt_decode(data, len, 0, arena, out, err);
}

static ak_status_t decode_hex(ak_arena_t *arena, const char *hex, ak_value_t *out, ak_error_t *err)
{
    /* The decoded value holds views into the input: keep a copy alive in the
     * arena (freed by the teardown). */
    size_t len;
    uint8_t *bytes = akt_hex(hex, &len);
    uint8_t *copy = ak_arena_memdup(arena, bytes, len ? len : 1);
    free(bytes);
    assert_non_null(copy);
    return decode_bytes(arena, copy, len, out, err);
}

/* Encodes v, compares with expected_hex (unless NULL), decodes, compares. */
static void encode_decode_at(ak_arena_t *arena, const ak_value_t *v, const char *expected_hex,
                             const char *file, int line)
{
    ak_buf_t buf;
    ak_buf_init(&buf);
    ak_error_t err;
    akt_error_reset(&err);
    ak_status_t st = ak_cdt_encode(v, &buf, &err);
    if (st != AK_OK) {
        ak_buf_free(&buf);
        akt_assert_status_at(st, AK_OK, &err, file, line);
    }
    if (expected_hex) {
        size_t elen;
        uint8_t *e = akt_hex(expected_hex, &elen);
        int same = elen == buf.len && memcmp(e, buf.data, elen) == 0;
        if (!same) {
            char *a = akt_to_hex(buf.data, buf.len);
            char *x = akt_to_hex(e, elen);
            print_error("encoding differs\n  expected: %s\n  actual:   %s\n", x, a);
            free(a);
            free(x);
            free(e);
            ak_buf_free(&buf);
            _fail(file, line);
        }
        free(e);
    }
    ak_value_t out;
    memset(&out, 0x5a, sizeof out);
    st = decode_bytes(arena, buf.data, buf.len, &out, &err);
    if (st != AK_OK) {
        ak_buf_free(&buf);
        akt_assert_status_at(st, AK_OK, &err, file, line);
    }
    bool eq = ak_value_equal(v, &out);
    ak_buf_free(&buf);
    if (!eq) {
        print_error("decoded value is not equal to the encoded one\n");
        _fail(file, line);
    }
}
#define encode_decode(arena, v, hex) encode_decode_at((arena), (v), (hex), __FILE__, __LINE__)

static void expect_int_at(ak_arena_t *arena, const char *hex, int64_t expected, const char *file,
                          int line)
{
    ak_value_t out;
    ak_error_t err;
    ak_status_t st = decode_hex(arena, hex, &out, &err);
    akt_assert_status_at(st, AK_OK, &err, file, line);
    if (out.type != AK_VALUE_INT || out.u.integer != expected) {
        print_error("%s: decoded type %u value %lld, expected int %lld\n", hex, out.type,
                    out.type == AK_VALUE_INT ? (long long)out.u.integer : 0LL, (long long)expected);
        _fail(file, line);
    }
}
#define expect_int(arena, hex, v) expect_int_at((arena), (hex), (v), __FILE__, __LINE__)

/* ---- spec examples ---- */

static void test_cdt_list_string_and_int_matches_spec_bytes(void **state)
{
    ak_value_t items[2] = {ak_value_string("a"), ak_value_int(1)};
    ak_value_t v = ak_value_list(items, 2);
    encode_decode(*state, &v, "92 a2 03 61 01");
}

static void test_cdt_unordered_map_matches_spec_bytes(void **state)
{
    ak_value_t e[2] = {ak_value_string("k"), ak_value_string("v")};
    ak_value_t v = ak_value_map(e, 1, 0);
    encode_decode(*state, &v, "81 a2 03 6b a2 03 76");
}

static void test_cdt_key_ordered_map_carries_ext_header_entry(void **state)
{
    ak_value_t e[2] = {ak_value_string("k"), ak_value_int(1)};
    ak_value_t v = ak_value_map(e, 1, 1);
    encode_decode(*state, &v, "82 c7 00 01 c0 a2 03 6b 01");
}

static void test_cdt_decodes_key_ordered_map_without_counting_the_ext_entry(void **state)
{
    ak_value_t out;
    ak_error_t err;
    akt_assert_ok(decode_hex(*state, "82 c7 00 01 c0 a2 03 6b 01", &out, &err), &err);
    assert_int_equal(out.type, AK_VALUE_MAP);
    assert_int_equal(out.subtype, 1);
    assert_int_equal(out.u.map.count, 1);
    assert_int_equal(out.u.map.entries[0].type, AK_VALUE_STRING);
    assert_int_equal(out.u.map.entries[0].u.bytes.len, 1);
    assert_memory_equal(out.u.map.entries[0].u.bytes.data, "k", 1);
    assert_int_equal(out.u.map.entries[1].type, AK_VALUE_INT);
    assert_int_equal(out.u.map.entries[1].u.integer, 1);
}

static void test_cdt_kv_ordered_and_empty_ordered_maps_round_trip(void **state)
{
    ak_value_t e[2] = {ak_value_string("k"), ak_value_int(1)};
    ak_value_t v = ak_value_map(e, 1, 3);
    encode_decode(*state, &v, "82 c7 00 03 c0 a2 03 6b 01");
    v = ak_value_map(NULL, 0, 1);
    encode_decode(*state, &v, "81 c7 00 01 c0");
    v = ak_value_map(NULL, 0, 0);
    encode_decode(*state, &v, "80");
    v = ak_value_list(NULL, 0);
    encode_decode(*state, &v, "90");
}

static void test_cdt_ordered_list_carries_ext_first_element(void **state)
{
    ak_value_t items[1] = {ak_value_int(1)};
    ak_value_t v = ak_value_list(items, 1);
    v.subtype = 1;
    encode_decode(*state, &v, "92 c7 00 01 01");
    ak_value_t out;
    ak_error_t err;
    akt_assert_ok(decode_hex(*state, "92 c7 00 01 01", &out, &err), &err);
    assert_int_equal(out.type, AK_VALUE_LIST);
    assert_int_equal(out.subtype, 1);
    assert_int_equal(out.u.list.count, 1);
}

/* ---- scalars ---- */

static void test_cdt_decodes_every_integer_form(void **state)
{
    expect_int(*state, "00", 0);
    expect_int(*state, "7f", 127);
    expect_int(*state, "cc 80", 128);
    expect_int(*state, "cc ff", 255);
    expect_int(*state, "cc 05", 5);
    expect_int(*state, "cd 01 00", 256);
    expect_int(*state, "cd ff ff", 65535);
    expect_int(*state, "ce 00 01 00 00", 65536);
    expect_int(*state, "ce ff ff ff ff", 4294967295LL);
    expect_int(*state, "cf 00 00 00 01 00 00 00 00", 4294967296LL);
    expect_int(*state, "cf 7f ff ff ff ff ff ff ff", INT64_MAX);
    expect_int(*state, "ff", -1);
    expect_int(*state, "e0", -32);
    expect_int(*state, "d0 df", -33);
    expect_int(*state, "d0 80", -128);
    expect_int(*state, "d0 05", 5);
    expect_int(*state, "d1 ff 7f", -129);
    expect_int(*state, "d1 80 00", -32768);
    expect_int(*state, "d2 ff ff 7f ff", -32769);
    expect_int(*state, "d2 80 00 00 00", INT32_MIN);
    expect_int(*state, "d3 ff ff ff ff 7f ff ff ff", (int64_t)INT32_MIN - 1);
    expect_int(*state, "d3 80 00 00 00 00 00 00 00", INT64_MIN);
}

static void test_cdt_encodes_integers_in_smallest_form(void **state)
{
    static const struct {
        int64_t v;
        const char *hex;
    } cases[] = {
        {0, "00"},
        {127, "7f"},
        {128, "cc 80"},
        {255, "cc ff"},
        {256, "cd 01 00"},
        {65535, "cd ff ff"},
        {65536, "ce 00 01 00 00"},
        {4294967295LL, "ce ff ff ff ff"},
        {4294967296LL, "cf 00 00 00 01 00 00 00 00"},
        {INT64_MAX, "cf 7f ff ff ff ff ff ff ff"},
        {-1, "ff"},
        {-32, "e0"},
        {-33, "d0 df"},
        {-128, "d0 80"},
        {-129, "d1 ff 7f"},
        {-32768, "d1 80 00"},
        {-32769, "d2 ff ff 7f ff"},
        {INT32_MIN, "d2 80 00 00 00"},
        {(int64_t)INT32_MIN - 1, "d3 ff ff ff ff 7f ff ff ff"},
        {INT64_MIN, "d3 80 00 00 00 00 00 00 00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ak_value_t v = ak_value_int(cases[i].v);
        encode_decode(*state, &v, cases[i].hex);
    }
}

static void test_cdt_doubles_are_float64(void **state)
{
    ak_value_t v = ak_value_double(1.5);
    encode_decode(*state, &v, "cb 3f f8 00 00 00 00 00 00");
    v = ak_value_double(-0.0);
    encode_decode(*state, &v, "cb 80 00 00 00 00 00 00 00");
    v = ak_value_double(0.25); /* representable as float32, still float64 */
    encode_decode(*state, &v, "cb 3f d0 00 00 00 00 00 00");
}

static void test_cdt_nil_true_false(void **state)
{
    ak_value_t v = ak_value_nil();
    encode_decode(*state, &v, "c0");
    v = ak_value_bool(true);
    encode_decode(*state, &v, "c3");
    v = ak_value_bool(false);
    encode_decode(*state, &v, "c2");
    ak_value_t out;
    ak_error_t err;
    akt_assert_ok(decode_hex(*state, "c3", &out, &err), &err);
    assert_int_equal(out.type, AK_VALUE_BOOL);
    assert_true(out.u.boolean);
}

static void test_cdt_strings_carry_type_prefix_counted_in_length(void **state)
{
    char s30[31], s31[32], s255[256];
    memset(s30, 'x', 30);
    s30[30] = 0;
    memset(s31, 'y', 31);
    s31[31] = 0;
    memset(s255, 'z', 255);
    s255[255] = 0;
    ak_buf_t buf;
    ak_buf_init(&buf);
    ak_error_t err;
    akt_error_reset(&err);

    ak_value_t v = ak_value_string(s30); /* 31 with prefix: still fixstr */
    akt_assert_ok(ak_cdt_encode(&v, &buf, &err), &err);
    assert_int_equal(buf.len, 32);
    akt_assert_hex_equal(buf.data, 2, "bf 03");
    ak_buf_clear(&buf);

    v = ak_value_string(s31); /* 32 with prefix: str8 */
    akt_assert_ok(ak_cdt_encode(&v, &buf, &err), &err);
    assert_int_equal(buf.len, 34);
    akt_assert_hex_equal(buf.data, 3, "d9 20 03");
    ak_buf_clear(&buf);

    v = ak_value_string(s255); /* 256 with prefix: str16 */
    akt_assert_ok(ak_cdt_encode(&v, &buf, &err), &err);
    assert_int_equal(buf.len, 259);
    akt_assert_hex_equal(buf.data, 4, "da 01 00 03");
    ak_buf_free(&buf);

    v = ak_value_string(s30);
    encode_decode(*state, &v, NULL);
    v = ak_value_string(s31);
    encode_decode(*state, &v, NULL);
    v = ak_value_string(s255);
    encode_decode(*state, &v, NULL);
    v = ak_value_string("");
    encode_decode(*state, &v, "a1 03");
}

static void test_cdt_decodes_wide_string_headers(void **state)
{
    static const char *const cases[] = {"d9 02 03 61", "da 00 02 03 61", "db 00 00 00 02 03 61"};
    for (size_t i = 0; i < 3; i++) {
        ak_value_t out;
        ak_error_t err;
        akt_assert_ok(decode_hex(*state, cases[i], &out, &err), &err);
        assert_int_equal(out.type, AK_VALUE_STRING);
        assert_int_equal(out.u.bytes.len, 1);
        assert_memory_equal(out.u.bytes.data, "a", 1);
    }
}

static void test_cdt_blobs_and_language_blobs_inside_lists_keep_subtype(void **state)
{
    static const uint8_t raw[] = {0x01, 0x02};
    ak_value_t items[7];
    items[0] = ak_value_blob(raw, 2);
    for (uint8_t t = 7; t <= 12; t++)
        items[t - 6] = ak_value_bytes_of(AK_VALUE_BYTES, t, raw, 2);
    ak_value_t v = ak_value_list(items, 7);
    encode_decode(*state, &v,
                  "97 a3 04 01 02 a3 07 01 02 a3 08 01 02 a3 09 01 02 a3 0a 01 02 a3 0b 01 02 "
                  "a3 0c 01 02");
    ak_value_t out;
    ak_error_t err;
    akt_assert_ok(decode_hex(*state, "92 a3 04 01 02 a3 0a 01 02", &out, &err), &err);
    assert_int_equal(out.u.list.count, 2);
    assert_int_equal(out.u.list.items[0].type, AK_VALUE_BYTES);
    assert_int_equal(out.u.list.items[0].subtype, 4);
    assert_int_equal(out.u.list.items[1].type, AK_VALUE_BYTES);
    assert_int_equal(out.u.list.items[1].subtype, 10);
    assert_memory_equal(out.u.list.items[1].u.bytes.data, raw, 2);
}

static void test_cdt_geojson_inside_a_list_uses_prefix_0x17(void **state)
{
    ak_value_t items[1] = {ak_value_bytes_of(AK_VALUE_GEOJSON, 23, "{}", 2)};
    ak_value_t v = ak_value_list(items, 1);
    encode_decode(*state, &v, "91 a3 17 7b 7d");
    ak_value_t out;
    ak_error_t err;
    akt_assert_ok(decode_hex(*state, "91 a3 17 7b 7d", &out, &err), &err);
    assert_int_equal(out.u.list.items[0].type, AK_VALUE_GEOJSON);
    assert_int_equal(out.u.list.items[0].u.bytes.len, 2);
}

static void test_cdt_mixed_map_with_int_keys_round_trips(void **state)
{
    static const uint8_t raw[] = {9, 8, 7};
    ak_value_t inner[4] = {ak_value_double(-3.5), ak_value_nil(), ak_value_bool(false),
                           ak_value_blob(raw, 3)};
    ak_value_t e[6] = {ak_value_int(1),      ak_value_list(inner, 4), ak_value_int(-100000),
                       ak_value_string("x"), ak_value_string("é"),   ak_value_int(INT64_MIN)};
    ak_value_t v = ak_value_map(e, 3, 0);
    encode_decode(*state, &v, NULL);
}

/* ---- nesting ---- */

static void test_cdt_200_level_nested_lists_round_trip(void **state)
{
    enum { DEPTH = 200 };
    ak_value_t *vals = calloc(DEPTH + 1, sizeof *vals);
    assert_non_null(vals);
    for (int i = 0; i < DEPTH; i++)
        vals[i] = ak_value_list(&vals[i + 1], 1);
    vals[DEPTH] = ak_value_int(7);
    ak_buf_t buf;
    ak_buf_init(&buf);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_cdt_encode(&vals[0], &buf, &err), &err);
    assert_int_equal(buf.len, DEPTH + 1);
    for (int i = 0; i < DEPTH; i++)
        assert_int_equal(buf.data[i], 0x91);
    assert_int_equal(buf.data[DEPTH], 0x07);
    ak_buf_free(&buf);
    encode_decode(*state, &vals[0], NULL);
    free(vals);
}

static void test_cdt_200_level_nested_maps_round_trip(void **state)
{
    enum { DEPTH = 200 };
    /* map {"k": map {"k": ... 7}} alternating with lists */
    ak_value_t *vals = calloc(3 * DEPTH + 1, sizeof *vals);
    assert_non_null(vals);
    size_t n = 0;
    ak_value_t *cur = &vals[n++];
    for (int i = 0; i < DEPTH; i++) {
        ak_value_t *entries = &vals[n];
        n += 2;
        entries[0] = ak_value_string("k");
        *cur = ak_value_map(entries, 1, (uint8_t)(i % 2 ? 1 : 0));
        cur = &entries[1];
    }
    *cur = ak_value_int(7);
    encode_decode(*state, &vals[0], NULL);
    free(vals);
}

static void test_cdt_accepts_nesting_of_1000_levels(void **state)
{
    enum { DEPTH = 1000 };
    uint8_t *bytes = malloc(DEPTH + 1);
    assert_non_null(bytes);
    memset(bytes, 0x91, DEPTH);
    bytes[DEPTH] = 0x05;
    ak_value_t out;
    ak_error_t err;
    ak_status_t st = decode_bytes(*state, bytes, DEPTH + 1, &out, &err);
    free(bytes);
    akt_assert_ok(st, &err);
    const ak_value_t *p = &out;
    for (int i = 0; i < DEPTH; i++) {
        assert_int_equal(p->type, AK_VALUE_LIST);
        assert_int_equal(p->u.list.count, 1);
        p = &p->u.list.items[0];
    }
    assert_int_equal(p->type, AK_VALUE_INT);
    assert_int_equal(p->u.integer, 5);
}

static void test_cdt_rejects_nesting_deeper_than_max_depth(void **state)
{
    static const size_t depths[] = {AK_CDT_MAX_DEPTH + 2, 2 * AK_CDT_MAX_DEPTH, 200000};
    for (size_t k = 0; k < 3; k++) {
        size_t depth = depths[k];
        uint8_t *bytes = malloc(depth + 1);
        assert_non_null(bytes);
        memset(bytes, 0x91, depth);
        bytes[depth] = 0x05;
        ak_value_t out;
        ak_error_t err;
        ak_status_t st = decode_bytes(*state, bytes, depth + 1, &out, &err);
        free(bytes);
        akt_assert_status(st, AK_ERR_LIMIT, &err);
    }
}

static void test_cdt_rejects_map_nesting_deeper_than_max_depth(void **state)
{
    size_t depth = AK_CDT_MAX_DEPTH + 10;
    uint8_t *bytes = malloc(2 * depth + 1);
    assert_non_null(bytes);
    for (size_t i = 0; i < depth; i++) {
        bytes[2 * i] = 0x81; /* map of 1 */
        bytes[2 * i + 1] = 0x01; /* key 1 */
    }
    bytes[2 * depth] = 0x02;
    ak_value_t out;
    ak_error_t err;
    ak_status_t st = decode_bytes(*state, bytes, 2 * depth + 1, &out, &err);
    free(bytes);
    akt_assert_status(st, AK_ERR_LIMIT, &err);
}

/* ---- lying counts ---- */

static void expect_rejected_cheaply_at(ak_arena_t *arena, const char *hex, const char *file, int line)
{
    ak_arena_reset(arena);
    clock_t t0 = clock();
    ak_value_t out;
    ak_error_t err;
    ak_status_t st = decode_hex(arena, hex, &out, &err);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (st == AK_OK) {
        print_error("%s: decoded successfully, expected an error\n", hex);
        _fail(file, line);
    }
    if (arena->total_allocated > 64 * 1024) {
        print_error("%s: arena grew to %zu bytes for a tiny input\n", hex, arena->total_allocated);
        _fail(file, line);
    }
    if (secs > 0.5) {
        print_error("%s: took %.2f s to reject\n", hex, secs);
        _fail(file, line);
    }
}
#define expect_rejected_cheaply(arena, hex) expect_rejected_cheaply_at((arena), (hex), __FILE__, __LINE__)

static void test_cdt_rejects_array_count_larger_than_input(void **state)
{
    expect_rejected_cheaply(*state, "dd ff ff ff ff");
    expect_rejected_cheaply(*state, "dd ff ff ff ff 01 02 03");
    expect_rejected_cheaply(*state, "dc ff ff 01 02");
    expect_rejected_cheaply(*state, "9f 01");
    expect_rejected_cheaply(*state, "91 91 dd 7f ff ff ff 00");
}

static void test_cdt_rejects_map_count_larger_than_input(void **state)
{
    expect_rejected_cheaply(*state, "df ff ff ff ff");
    expect_rejected_cheaply(*state, "df 10 00 00 00 01 01");
    expect_rejected_cheaply(*state, "de ff ff 01 01");
    expect_rejected_cheaply(*state, "81 01"); /* key without value */
}

static void test_cdt_rejects_string_length_larger_than_input(void **state)
{
    expect_rejected_cheaply(*state, "db 40 00 00 00 03 61 62");
    expect_rejected_cheaply(*state, "db ff ff ff ff 03");
    expect_rejected_cheaply(*state, "da ff ff 03 61");
    expect_rejected_cheaply(*state, "d9 10 03 61");
    expect_rejected_cheaply(*state, "a5 03 61");
    expect_rejected_cheaply(*state, "91 db 40 00 00 00 04");
}

static void test_cdt_truncated_scalars_are_errors(void **state)
{
    static const char *const cases[] = {"",         "cc",        "cd 01",   "ce 00 00 01",
                                        "cf 00",    "d0",        "d1 ff",   "d2 ff ff ff",
                                        "d3 00 00", "cb 3f f8",  "c7 00",   "c7"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ak_value_t out;
        ak_error_t err;
        akt_assert_failed(decode_hex(*state, cases[i], &out, &err), &err, cases[i]);
    }
}

static void test_cdt_truncation_of_nested_value_at_every_offset_is_an_error(void **state)
{
    static const uint8_t raw[] = {1, 2, 3, 4};
    ak_value_t inner_e[2] = {ak_value_string("n"), ak_value_int(70000)};
    ak_value_t omap_e[2] = {ak_value_int(1), ak_value_string("one")};
    ak_value_t list_items[9] = {ak_value_int(1),
                                ak_value_int(-200),
                                ak_value_double(1.5),
                                ak_value_string("xyz"),
                                ak_value_blob(raw, 4),
                                ak_value_bool(true),
                                ak_value_nil(),
                                ak_value_map(inner_e, 1, 0),
                                ak_value_bytes_of(AK_VALUE_GEOJSON, 23, "{}", 2)};
    ak_value_t top_e[4] = {ak_value_string("a"), ak_value_list(list_items, 9),
                           ak_value_string("b"), ak_value_map(omap_e, 1, 1)};
    ak_value_t top = ak_value_map(top_e, 2, 0);
    ak_buf_t buf;
    ak_buf_init(&buf);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_cdt_encode(&top, &buf, &err), &err);
    assert_true(buf.len > 40);
    /* copy each prefix into an exact-size heap block so ASan sees overreads */
    for (size_t len = 0; len < buf.len; len++) {
        uint8_t *p = malloc(len ? len : 1);
        assert_non_null(p);
        memcpy(p, buf.data, len);
        ak_value_t out;
        ak_arena_reset(*state);
        ak_status_t st = decode_bytes(*state, p, len, &out, &err);
        size_t used = 0;
        ak_status_t st2 = ak_cdt_decode_prefix(p, len, 0, *state, &out, &used, &err);
        free(p);
        if (st == AK_OK || st2 == AK_OK) {
            ak_buf_free(&buf);
            fail_msg("prefix of %zu bytes decoded (decode %d, decode_prefix %d)", len, st, st2);
        }
    }
    ak_value_t out;
    ak_arena_reset(*state);
    akt_assert_ok(decode_bytes(*state, buf.data, buf.len, &out, &err), &err);
    assert_true(ak_value_equal(&top, &out));
    ak_buf_free(&buf);
}

static void test_cdt_decode_rejects_trailing_bytes(void **state)
{
    ak_value_t out;
    ak_error_t err;
    akt_assert_failed(decode_hex(*state, "01 02", &out, &err), &err, "int then trailing byte");
    akt_assert_failed(decode_hex(*state, "92 a2 03 61 01 c0", &out, &err), &err,
                      "list then trailing nil");
}

static void test_cdt_decode_prefix_reports_bytes_used(void **state)
{
    size_t len;
    uint8_t *bytes = akt_hex("92 a2 03 61 01 c0 ff ff", &len);
    ak_value_t out;
    size_t used = 0;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_cdt_decode_prefix(bytes, len, 0, *state, &out, &used, &err), &err);
    assert_int_equal(used, 5);
    assert_int_equal(out.type, AK_VALUE_LIST);
    assert_int_equal(out.u.list.count, 2);
    used = 0;
    akt_assert_ok(ak_cdt_decode_prefix(bytes + 5, len - 5, 5, *state, &out, &used, &err), &err);
    assert_int_equal(used, 1);
    assert_int_equal(out.type, AK_VALUE_NIL);
    used = 0;
    akt_assert_ok(ak_cdt_decode_prefix(bytes + 6, len - 6, 6, *state, &out, &used, &err), &err);
    assert_int_equal(used, 1);
    assert_int_equal(out.type, AK_VALUE_INT);
    assert_int_equal(out.u.integer, -1);
    free(bytes);
}

static void test_cdt_error_offset_names_the_bad_byte(void **state)
{
    size_t len;
    uint8_t *bytes = akt_hex("92 01 c1", &len); /* 0xc1 is never used in MessagePack */
    ak_value_t out;
    ak_error_t err;
    akt_error_reset(&err);
    ak_status_t st = ak_cdt_decode(bytes, len, 100, *state, &out, &err);
    free(bytes);
    akt_assert_status(st, AK_ERR_MALFORMED, &err);
    assert_true(err.has_offset);
    assert_int_equal(err.offset, 102);
}

static void test_cdt_decoded_strings_point_into_the_input(void **state)
{
    size_t len;
    uint8_t *bytes = akt_hex("91 a4 03 61 62 63", &len);
    ak_value_t out;
    ak_error_t err;
    akt_assert_ok(decode_bytes(*state, bytes, len, &out, &err), &err);
    assert_int_equal(out.u.list.items[0].type, AK_VALUE_STRING);
    assert_int_equal(out.u.list.items[0].u.bytes.len, 3);
    assert_memory_equal(out.u.list.items[0].u.bytes.data, "abc", 3);
    free(bytes);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_arena, teardown_arena)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cdt_list_string_and_int_matches_spec_bytes),
        T(test_cdt_unordered_map_matches_spec_bytes),
        T(test_cdt_key_ordered_map_carries_ext_header_entry),
        T(test_cdt_decodes_key_ordered_map_without_counting_the_ext_entry),
        T(test_cdt_kv_ordered_and_empty_ordered_maps_round_trip),
        T(test_cdt_ordered_list_carries_ext_first_element),
        T(test_cdt_decodes_every_integer_form),
        T(test_cdt_encodes_integers_in_smallest_form),
        T(test_cdt_doubles_are_float64),
        T(test_cdt_nil_true_false),
        T(test_cdt_strings_carry_type_prefix_counted_in_length),
        T(test_cdt_decodes_wide_string_headers),
        T(test_cdt_blobs_and_language_blobs_inside_lists_keep_subtype),
        T(test_cdt_geojson_inside_a_list_uses_prefix_0x17),
        T(test_cdt_mixed_map_with_int_keys_round_trips),
        T(test_cdt_200_level_nested_lists_round_trip),
        T(test_cdt_200_level_nested_maps_round_trip),
        T(test_cdt_accepts_nesting_of_1000_levels),
        T(test_cdt_rejects_nesting_deeper_than_max_depth),
        T(test_cdt_rejects_map_nesting_deeper_than_max_depth),
        T(test_cdt_rejects_array_count_larger_than_input),
        T(test_cdt_rejects_map_count_larger_than_input),
        T(test_cdt_rejects_string_length_larger_than_input),
        T(test_cdt_truncated_scalars_are_errors),
        T(test_cdt_truncation_of_nested_value_at_every_offset_is_an_error),
        T(test_cdt_decode_rejects_trailing_bytes),
        T(test_cdt_decode_prefix_reports_bytes_used),
        T(test_cdt_error_offset_names_the_bad_byte),
        T(test_cdt_decoded_strings_point_into_the_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
