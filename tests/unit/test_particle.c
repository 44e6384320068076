#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ak_test_util.h"
#include "common/ak_arena.h"
#include "wire/ak_particle.h"

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

/* Encodes v, checks its particle type, decodes it back and checks equality.
 * If expected_hex is not NULL the encoding must match it. */
static void round_trip_at(ak_arena_t *arena, const ak_value_t *v, uint8_t expected_type,
                          const char *expected_hex, const char *file, int line)
{
    ak_buf_t buf;
    ak_buf_init(&buf);
    ak_error_t err;
    akt_error_reset(&err);
    uint8_t type = ak_particle_type_of(v);
    if (type != expected_type) {
        ak_buf_free(&buf);
        print_error("particle type %u, expected %u\n", type, expected_type);
        _fail(file, line);
    }
    akt_assert_status_at(ak_particle_encode(v, &buf, &err), AK_OK, &err, file, line);
    if (expected_hex) {
        char *copy = akt_to_hex(buf.data, buf.len);
        size_t elen;
        uint8_t *e = akt_hex(expected_hex, &elen);
        int same = elen == buf.len && (elen == 0 || memcmp(e, buf.data, elen) == 0);
        free(e);
        if (!same) {
            print_error("encoding differs\n  expected: %s\n  actual:   %s\n", expected_hex, copy);
            free(copy);
            ak_buf_free(&buf);
            _fail(file, line);
        }
        free(copy);
    }
    ak_value_t out;
    memset(&out, 0xa5, sizeof out);
    akt_error_reset(&err);
    ak_status_t st = ak_particle_decode(type, buf.data, buf.len, 0, arena, &out, &err);
    if (st != AK_OK) {
        ak_buf_free(&buf);
        akt_assert_status_at(st, AK_OK, &err, file, line);
    }
    bool eq = ak_value_equal(v, &out);
    /* BYTES must keep its subtype: ak_value_equal checks it for BYTES. */
    ak_buf_free(&buf);
    if (!eq) {
        print_error("decoded value differs from the original (type %s vs %s)\n",
                    ak_value_type_name(v), ak_value_type_name(&out));
        _fail(file, line);
    }
}

#define round_trip(arena, v, type, hex) round_trip_at((arena), (v), (type), (hex), __FILE__, __LINE__)

static ak_status_t decode_hex(ak_arena_t *arena, uint8_t type, const char *hex, ak_value_t *out,
                              ak_error_t *err)
{
    /* Decoded values are views into the input: keep a copy in the arena. */
    size_t len;
    uint8_t *bytes = akt_hex(hex, &len);
    uint8_t *copy = ak_arena_memdup(arena, bytes, len ? len : 1);
    free(bytes);
    assert_non_null(copy);
    akt_error_reset(err);
    return ak_particle_decode(type, copy, len, 0, arena, out, err);
}

static void test_particle_nil_round_trips_as_empty_bytes(void **state)
{
    ak_value_t v = ak_value_nil();
    round_trip(*state, &v, AK_PARTICLE_NULL, "");
}

static void test_particle_int_encodes_8_bytes_big_endian(void **state)
{
    ak_value_t v = ak_value_int(1);
    round_trip(*state, &v, AK_PARTICLE_INTEGER, "00 00 00 00 00 00 00 01");
    v = ak_value_int(0x0102030405060708LL);
    round_trip(*state, &v, AK_PARTICLE_INTEGER, "01 02 03 04 05 06 07 08");
}

static void test_particle_int_round_trips_extremes(void **state)
{
    ak_value_t v = ak_value_int(0);
    round_trip(*state, &v, AK_PARTICLE_INTEGER, "0000000000000000");
    v = ak_value_int(-1);
    round_trip(*state, &v, AK_PARTICLE_INTEGER, "ffffffffffffffff");
    v = ak_value_int(INT64_MIN);
    round_trip(*state, &v, AK_PARTICLE_INTEGER, "8000000000000000");
    v = ak_value_int(INT64_MAX);
    round_trip(*state, &v, AK_PARTICLE_INTEGER, "7fffffffffffffff");
}

static void test_particle_int_decodes_to_the_right_value(void **state)
{
    ak_value_t out;
    ak_error_t err;
    akt_assert_ok(decode_hex(*state, AK_PARTICLE_INTEGER, "ff ff ff ff ff ff ff fe", &out, &err), &err);
    assert_int_equal(out.type, AK_VALUE_INT);
    assert_true(out.u.integer == -2);
    akt_assert_ok(decode_hex(*state, AK_PARTICLE_INTEGER, "00 00 01 00 00 00 00 00", &out, &err), &err);
    assert_true(out.u.integer == (int64_t)1 << 40);
}

static void test_particle_double_encodes_8_bytes_ieee_big_endian(void **state)
{
    ak_value_t v = ak_value_double(1.5);
    round_trip(*state, &v, AK_PARTICLE_FLOAT, "3f f8 00 00 00 00 00 00");
    v = ak_value_double(-2.0);
    round_trip(*state, &v, AK_PARTICLE_FLOAT, "c0 00 00 00 00 00 00 00");
}

static void test_particle_double_round_trips_negative_zero_nan_and_infinities(void **state)
{
    ak_value_t v = ak_value_double(-0.0);
    round_trip(*state, &v, AK_PARTICLE_FLOAT, "80 00 00 00 00 00 00 00");
    v = ak_value_double(0.0);
    round_trip(*state, &v, AK_PARTICLE_FLOAT, "00 00 00 00 00 00 00 00");
    v = ak_value_double(INFINITY);
    round_trip(*state, &v, AK_PARTICLE_FLOAT, "7f f0 00 00 00 00 00 00");
    v = ak_value_double(-INFINITY);
    round_trip(*state, &v, AK_PARTICLE_FLOAT, "ff f0 00 00 00 00 00 00");
    /* a NaN with a payload: bits must survive */
    uint64_t bits = 0x7ff8000000000123ULL;
    double nan_payload;
    memcpy(&nan_payload, &bits, sizeof bits);
    v = ak_value_double(nan_payload);
    round_trip(*state, &v, AK_PARTICLE_FLOAT, "7f f8 00 00 00 00 01 23");
    v = ak_value_double(NAN);
    round_trip(*state, &v, AK_PARTICLE_FLOAT, NULL);
}

static void test_particle_double_decodes_negative_zero_not_positive_zero(void **state)
{
    ak_value_t out;
    ak_error_t err;
    akt_assert_ok(decode_hex(*state, AK_PARTICLE_FLOAT, "80 00 00 00 00 00 00 00", &out, &err), &err);
    assert_int_equal(out.type, AK_VALUE_DOUBLE);
    assert_true(signbit(out.u.dbl));
    assert_true(out.u.dbl == 0.0);
}

static void test_particle_string_round_trips_empty_and_utf8(void **state)
{
    ak_value_t v = ak_value_string("");
    round_trip(*state, &v, AK_PARTICLE_STRING, "");
    v = ak_value_string("k1");
    round_trip(*state, &v, AK_PARTICLE_STRING, "6b 31");
    v = ak_value_string("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
    round_trip(*state, &v, AK_PARTICLE_STRING, "68 c3a9 6c6c6f 20 e282ac 20 f09f9880");
}

static void test_particle_string_decode_is_a_view_of_the_input(void **state)
{
    static const uint8_t data[] = {'a', 'b', 'c'};
    ak_value_t out;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_particle_decode(AK_PARTICLE_STRING, data, 3, 0, *state, &out, &err), &err);
    assert_int_equal(out.type, AK_VALUE_STRING);
    assert_int_equal(out.u.bytes.len, 3);
    assert_memory_equal(out.u.bytes.data, "abc", 3);
}

static void test_particle_blob_round_trips_with_generic_subtype(void **state)
{
    static const uint8_t raw[] = {0x00, 0x01, 0xfe, 0xff};
    ak_value_t v = ak_value_blob(raw, sizeof raw);
    assert_int_equal(v.subtype, AK_BYTES_SUBTYPE_BLOB);
    round_trip(*state, &v, AK_PARTICLE_BLOB, "00 01 fe ff");
    v = ak_value_blob(raw, 0);
    round_trip(*state, &v, AK_PARTICLE_BLOB, "");
}

static void test_particle_language_blobs_7_to_12_keep_their_subtype(void **state)
{
    static const uint8_t raw[] = {0xca, 0xfe};
    for (uint8_t t = AK_PARTICLE_JAVA_BLOB; t <= AK_PARTICLE_ERLANG_BLOB; t++) {
        ak_value_t v = ak_value_bytes_of(AK_VALUE_BYTES, t, raw, sizeof raw);
        round_trip(*state, &v, t, "ca fe");
        ak_value_t out;
        ak_error_t err;
        akt_error_reset(&err);
        akt_assert_ok(ak_particle_decode(t, raw, sizeof raw, 0, *state, &out, &err), &err);
        assert_int_equal(out.type, AK_VALUE_BYTES);
        assert_int_equal(out.subtype, t);
    }
}

static void test_particle_bool_encodes_one_byte(void **state)
{
    ak_value_t v = ak_value_bool(true);
    round_trip(*state, &v, AK_PARTICLE_BOOL, "01");
    v = ak_value_bool(false);
    round_trip(*state, &v, AK_PARTICLE_BOOL, "00");
}

static void test_particle_hll_round_trips_opaque_bytes(void **state)
{
    static const uint8_t raw[] = {0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x77};
    ak_value_t v = ak_value_bytes_of(AK_VALUE_HLL, AK_PARTICLE_HLL, raw, sizeof raw);
    round_trip(*state, &v, AK_PARTICLE_HLL, "00 0e 00 00 00 00 00 00 00 01 77");
}

static void test_particle_geojson_encodes_flags_zero_cells_and_text(void **state)
{
    const char *json = "{\"type\":\"Point\",\"coordinates\":[1,2]}";
    ak_value_t v = ak_value_bytes_of(AK_VALUE_GEOJSON, AK_PARTICLE_GEOJSON, json, strlen(json));
    ak_buf_t buf;
    ak_buf_init(&buf);
    ak_error_t err;
    akt_error_reset(&err);
    assert_int_equal(ak_particle_type_of(&v), AK_PARTICLE_GEOJSON);
    akt_assert_ok(ak_particle_encode(&v, &buf, &err), &err);
    assert_int_equal(buf.len, 3 + strlen(json));
    akt_assert_hex_equal(buf.data, 3, "00 00 00");
    assert_memory_equal(buf.data + 3, json, strlen(json));
    ak_buf_free(&buf);
    round_trip(*state, &v, AK_PARTICLE_GEOJSON, NULL);
}

static void test_particle_geojson_decode_skips_cells(void **state)
{
    /* flags 0, ncells 2, two 8-byte cell ids, then "{}" */
    ak_value_t out;
    ak_error_t err;
    akt_assert_ok(decode_hex(*state, AK_PARTICLE_GEOJSON,
                             "00 0002 1111111111111111 2222222222222222 7b7d", &out, &err),
                  &err);
    assert_int_equal(out.type, AK_VALUE_GEOJSON);
    assert_int_equal(out.u.bytes.len, 2);
    assert_memory_equal(out.u.bytes.data, "{}", 2);
}

static void test_particle_geojson_rejects_cell_count_past_the_end(void **state)
{
    ak_value_t out;
    ak_error_t err;
    /* claims 5 cells (40 bytes), only 10 bytes follow */
    akt_assert_failed(decode_hex(*state, AK_PARTICLE_GEOJSON, "00 0005 1111111111111111 7b7d",
                                 &out, &err),
                      &err, "geojson ncells past end");
    /* claims 0xffff cells */
    akt_assert_failed(decode_hex(*state, AK_PARTICLE_GEOJSON, "00 ffff 7b7d", &out, &err), &err,
                      "geojson huge ncells");
}

static void test_particle_geojson_rejects_fewer_than_3_header_bytes(void **state)
{
    ak_value_t out;
    ak_error_t err;
    akt_assert_failed(decode_hex(*state, AK_PARTICLE_GEOJSON, "00 00", &out, &err), &err,
                      "geojson 2 bytes");
    akt_assert_failed(decode_hex(*state, AK_PARTICLE_GEOJSON, "", &out, &err), &err,
                      "geojson empty");
}

static void test_particle_list_encodes_as_aerospike_msgpack(void **state)
{
    ak_value_t items[2];
    items[0] = ak_value_string("a");
    items[1] = ak_value_int(1);
    ak_value_t v = ak_value_list(items, 2);
    round_trip(*state, &v, AK_PARTICLE_LIST, "92 a2 03 61 01");
}

static void test_particle_map_encodes_as_aerospike_msgpack(void **state)
{
    ak_value_t entries[2];
    entries[0] = ak_value_string("k");
    entries[1] = ak_value_string("v");
    ak_value_t v = ak_value_map(entries, 1, 0);
    round_trip(*state, &v, AK_PARTICLE_MAP, "81 a2 03 6b a2 03 76");
    entries[1] = ak_value_int(1);
    v = ak_value_map(entries, 1, 1);
    round_trip(*state, &v, AK_PARTICLE_MAP, "82 c7 00 01 c0 a2 03 6b 01");
}

static void test_particle_nested_list_and_map_round_trip(void **state)
{
    static const uint8_t blob[] = {1, 2, 3};
    ak_value_t inner[3];
    inner[0] = ak_value_double(2.25);
    inner[1] = ak_value_bool(true);
    inner[2] = ak_value_blob(blob, sizeof blob);
    ak_value_t entries[4];
    entries[0] = ak_value_string("list");
    entries[1] = ak_value_list(inner, 3);
    entries[2] = ak_value_int(-7);
    entries[3] = ak_value_nil();
    ak_value_t v = ak_value_map(entries, 2, 0);
    round_trip(*state, &v, AK_PARTICLE_MAP, NULL);
}

static void test_particle_int_rejects_length_other_than_8(void **state)
{
    static const char *const cases[] = {"", "01", "00000001", "00000000000001", "000000000000000001"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ak_value_t out;
        ak_error_t err;
        akt_assert_failed(decode_hex(*state, AK_PARTICLE_INTEGER, cases[i], &out, &err), &err,
                          cases[i]);
    }
}

static void test_particle_double_rejects_length_other_than_8(void **state)
{
    static const char *const cases[] = {"", "3ff8", "3fc00000", "3ff80000000000", "3ff800000000000000"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ak_value_t out;
        ak_error_t err;
        akt_assert_failed(decode_hex(*state, AK_PARTICLE_FLOAT, cases[i], &out, &err), &err,
                          cases[i]);
    }
}

static void test_particle_bool_rejects_length_other_than_1(void **state)
{
    ak_value_t out;
    ak_error_t err;
    akt_assert_failed(decode_hex(*state, AK_PARTICLE_BOOL, "", &out, &err), &err, "bool empty");
    akt_assert_failed(decode_hex(*state, AK_PARTICLE_BOOL, "0001", &out, &err), &err, "bool 2 bytes");
}

static void test_particle_bool_decodes_0_and_1(void **state)
{
    ak_value_t out;
    ak_error_t err;
    akt_assert_ok(decode_hex(*state, AK_PARTICLE_BOOL, "01", &out, &err), &err);
    assert_int_equal(out.type, AK_VALUE_BOOL);
    assert_true(out.u.boolean);
    akt_assert_ok(decode_hex(*state, AK_PARTICLE_BOOL, "00", &out, &err), &err);
    assert_int_equal(out.type, AK_VALUE_BOOL);
    assert_false(out.u.boolean);
}

static void test_particle_list_rejects_malformed_msgpack(void **state)
{
    ak_value_t out;
    ak_error_t err;
    akt_assert_failed(decode_hex(*state, AK_PARTICLE_LIST, "92 01", &out, &err), &err,
                      "list truncated");
    akt_assert_failed(decode_hex(*state, AK_PARTICLE_MAP, "", &out, &err), &err, "map empty");
}

static void test_particle_type_names_are_distinct(void **state)
{
    (void)state;
    static const uint8_t types[] = {0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 17, 18, 19, 20, 23};
    size_t n = sizeof types / sizeof types[0];
    for (size_t i = 0; i < n; i++) {
        const char *a = ak_particle_type_name(types[i]);
        assert_non_null(a);
        assert_true(a[0] != '\0');
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(a, ak_particle_type_name(types[j]));
    }
    assert_true(ak_particle_is_blob(4));
    assert_true(ak_particle_is_blob(7));
    assert_true(ak_particle_is_blob(12));
    assert_false(ak_particle_is_blob(3));
    assert_false(ak_particle_is_blob(13));
}

static void test_particle_type_of_maps_each_value_type(void **state)
{
    (void)state;
    static const uint8_t raw[] = {1};
    ak_value_t v = ak_value_nil();
    assert_int_equal(ak_particle_type_of(&v), 0);
    v = ak_value_int(5);
    assert_int_equal(ak_particle_type_of(&v), 1);
    v = ak_value_double(5);
    assert_int_equal(ak_particle_type_of(&v), 2);
    v = ak_value_string("x");
    assert_int_equal(ak_particle_type_of(&v), 3);
    v = ak_value_blob(raw, 1);
    assert_int_equal(ak_particle_type_of(&v), 4);
    v = ak_value_bytes_of(AK_VALUE_BYTES, 9, raw, 1);
    assert_int_equal(ak_particle_type_of(&v), 9);
    v = ak_value_bool(false);
    assert_int_equal(ak_particle_type_of(&v), 17);
    v = ak_value_bytes_of(AK_VALUE_HLL, 18, raw, 1);
    assert_int_equal(ak_particle_type_of(&v), 18);
    v = ak_value_map(NULL, 0, 0);
    assert_int_equal(ak_particle_type_of(&v), 19);
    v = ak_value_list(NULL, 0);
    assert_int_equal(ak_particle_type_of(&v), 20);
    v = ak_value_bytes_of(AK_VALUE_GEOJSON, 23, "{}", 2);
    assert_int_equal(ak_particle_type_of(&v), 23);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_arena, teardown_arena)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_particle_nil_round_trips_as_empty_bytes),
        T(test_particle_int_encodes_8_bytes_big_endian),
        T(test_particle_int_round_trips_extremes),
        T(test_particle_int_decodes_to_the_right_value),
        T(test_particle_double_encodes_8_bytes_ieee_big_endian),
        T(test_particle_double_round_trips_negative_zero_nan_and_infinities),
        T(test_particle_double_decodes_negative_zero_not_positive_zero),
        T(test_particle_string_round_trips_empty_and_utf8),
        T(test_particle_string_decode_is_a_view_of_the_input),
        T(test_particle_blob_round_trips_with_generic_subtype),
        T(test_particle_language_blobs_7_to_12_keep_their_subtype),
        T(test_particle_bool_encodes_one_byte),
        T(test_particle_hll_round_trips_opaque_bytes),
        T(test_particle_geojson_encodes_flags_zero_cells_and_text),
        T(test_particle_geojson_decode_skips_cells),
        T(test_particle_geojson_rejects_cell_count_past_the_end),
        T(test_particle_geojson_rejects_fewer_than_3_header_bytes),
        T(test_particle_list_encodes_as_aerospike_msgpack),
        T(test_particle_map_encodes_as_aerospike_msgpack),
        T(test_particle_nested_list_and_map_round_trip),
        T(test_particle_int_rejects_length_other_than_8),
        T(test_particle_double_rejects_length_other_than_8),
        T(test_particle_bool_rejects_length_other_than_1),
        T(test_particle_bool_decodes_0_and_1),
        T(test_particle_list_rejects_malformed_msgpack),
        T(test_particle_type_names_are_distinct),
        T(test_particle_type_of_maps_each_value_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
