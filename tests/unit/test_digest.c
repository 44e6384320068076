#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <nettle/ripemd160.h>

#include "ak_test_util.h"
#include "wire/ak_digest.h"

static void check_digest_at(const char *set, const ak_value_t *key, const char *expected_hex,
                            int expected_pid, const char *file, int line)
{
    uint8_t digest[AK_DIGEST_SIZE];
    ak_error_t err;
    akt_error_reset(&err);
    ak_status_t st = ak_digest_compute(set, set ? strlen(set) : 0, key, digest, &err);
    akt_assert_status_at(st, AK_OK, &err, file, line);
    akt_assert_hex_equal_at(digest, AK_DIGEST_SIZE, expected_hex, file, line);
    if (expected_pid >= 0 && ak_partition_id(digest) != (uint32_t)expected_pid) {
        print_error("partition id %u, expected %d\n", ak_partition_id(digest), expected_pid);
        _fail(file, line);
    }
}
#define check_digest(set, key, hex, pid) check_digest_at((set), (key), (hex), (pid), __FILE__, __LINE__)

static void test_digest_matches_go_client_integer_vectors(void **state)
{
    (void)state;
    ak_value_t k = ak_value_int(0);
    check_digest("set", &k, "93d943aae37b017ad7e011b0c1d2e2143c2fb37d", 2451);
    k = ak_value_int(-1);
    check_digest("set", &k, "22116d253745e29fc63fdf760b6e26f7e197e01d", 290);
    k = ak_value_int(INT64_MAX);
    check_digest("set", &k, "1698328974afa62c8e069860c1516f780d63dbb8", 2070);
    k = ak_value_int(INT64_MIN);
    check_digest("set", &k, "7185c2a47fb02c996daed26b4e01b83240aee9d4", -1);
    k = ak_value_int(INT32_MAX);
    check_digest("set", &k, "fa8c47b8b898af1bbcb20af0d729ca68359a2645", -1);
}

static void test_digest_matches_go_client_string_vectors(void **state)
{
    (void)state;
    ak_value_t k = ak_value_string("");
    check_digest("set", &k, "2819b1ff6e346a43b4f5f6b77a88bc3eaac22a83", 2344);
    k = ak_value_string("s");
    check_digest("set", &k, "607cddba7cd111745ef0a3d783d57f0e83c8f311", 3168);
    k = ak_value_string("aaaaaaaaaa");
    check_digest("set", &k, "5979fb32a80da070ff356f7695455592272e36c2", 2393);
    char m100[101];
    memset(m100, 'm', 100);
    m100[100] = 0;
    k = ak_value_string(m100);
    check_digest("set", &k, "f00ad7dbcb4bd8122d9681bca49b8c2ffd4beeed", -1);
}

static void test_digest_matches_go_client_bytes_vectors(void **state)
{
    (void)state;
    ak_value_t k = ak_value_blob("", 0);
    check_digest("set", &k, "327e2877b8815c7aeede0d5a8620d4ef8df4a4b4", 3634);
    k = ak_value_blob("aaaaaaaaaa", 10);
    check_digest("set", &k, "d10982327b2b04c7360579f252e164a75f83cd99", 2513);
}

static void test_digest_matches_derived_vectors(void **state)
{
    (void)state;
    ak_value_t k = ak_value_string("k1");
    check_digest("demo", &k, "b747f5854d0b33259928d0cfab7fad81d6abfbf6", 1975);
    check_digest("", &k, "50149955959c2fef0a83613ae80c78bb9c96b269", 1104);
    k = ak_value_int(1);
    check_digest("demo", &k, "b7f4b83889e2da67de683e1df6919a1eacc446c8", 1207);
}

static void test_digest_accepts_null_set_with_zero_length(void **state)
{
    (void)state;
    ak_value_t k = ak_value_string("k1");
    uint8_t digest[AK_DIGEST_SIZE];
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_digest_compute(NULL, 0, &k, digest, &err), &err);
    akt_assert_hex_equal(digest, AK_DIGEST_SIZE, "50149955959c2fef0a83613ae80c78bb9c96b269");
}

static void test_digest_uses_set_len_not_nul(void **state)
{
    (void)state;
    ak_value_t k = ak_value_string("k1");
    uint8_t digest[AK_DIGEST_SIZE];
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_digest_compute("demoXYZ", 4, &k, digest, &err), &err);
    akt_assert_hex_equal(digest, AK_DIGEST_SIZE, "b747f5854d0b33259928d0cfab7fad81d6abfbf6");
}

static void test_digest_of_double_key_hashes_type_2_and_8_byte_big_endian(void **state)
{
    (void)state;
    /* independent oracle: RIPEMD-160("set" || 02 || 3ff8000000000000) */
    static const uint8_t input[] = {'s', 'e', 't', 0x02, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0};
    uint8_t expected[AK_DIGEST_SIZE];
    struct ripemd160_ctx ctx;
    ripemd160_init(&ctx);
    ripemd160_update(&ctx, sizeof input, input);
    ripemd160_digest(&ctx, AK_DIGEST_SIZE, expected);

    ak_value_t k = ak_value_double(1.5);
    uint8_t digest[AK_DIGEST_SIZE];
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_digest_compute("set", 3, &k, digest, &err), &err);
    akt_assert_bytes_equal(digest, AK_DIGEST_SIZE, expected, AK_DIGEST_SIZE);
}

static void test_digest_rejects_non_key_types(void **state)
{
    (void)state;
    ak_value_t items[1] = {ak_value_int(1)};
    ak_value_t entries[2] = {ak_value_int(1), ak_value_int(2)};
    ak_value_t bad[6];
    bad[0] = ak_value_nil();
    bad[1] = ak_value_bool(true);
    bad[2] = ak_value_list(items, 1);
    bad[3] = ak_value_map(entries, 1, 0);
    bad[4] = ak_value_bytes_of(AK_VALUE_GEOJSON, 23, "{}", 2);
    bad[5] = ak_value_bytes_of(AK_VALUE_HLL, 18, "\x01", 1);
    for (size_t i = 0; i < 6; i++) {
        uint8_t digest[AK_DIGEST_SIZE];
        ak_error_t err;
        akt_error_reset(&err);
        akt_assert_status(ak_digest_compute("set", 3, &bad[i], digest, &err), AK_ERR_INVALID_ARG,
                          &err);
        uint8_t type = 0, scratch[8];
        const uint8_t *bytes = NULL;
        size_t len = 0;
        akt_error_reset(&err);
        akt_assert_status(ak_key_bytes(&bad[i], &type, &bytes, &len, scratch, &err),
                          AK_ERR_INVALID_ARG, &err);
    }
}

static void test_key_bytes_gives_particle_type_and_wire_bytes(void **state)
{
    (void)state;
    uint8_t type = 0, scratch[8];
    const uint8_t *bytes = NULL;
    size_t len = 0;
    ak_error_t err;
    akt_error_reset(&err);

    ak_value_t k = ak_value_int(-2);
    akt_assert_ok(ak_key_bytes(&k, &type, &bytes, &len, scratch, &err), &err);
    assert_int_equal(type, 1);
    akt_assert_hex_equal(bytes, len, "ff ff ff ff ff ff ff fe");

    k = ak_value_string("k1");
    akt_assert_ok(ak_key_bytes(&k, &type, &bytes, &len, scratch, &err), &err);
    assert_int_equal(type, 3);
    akt_assert_hex_equal(bytes, len, "6b 31");

    k = ak_value_blob("\x00\x01", 2);
    akt_assert_ok(ak_key_bytes(&k, &type, &bytes, &len, scratch, &err), &err);
    assert_int_equal(type, 4);
    akt_assert_hex_equal(bytes, len, "00 01");

    k = ak_value_double(1.5);
    akt_assert_ok(ak_key_bytes(&k, &type, &bytes, &len, scratch, &err), &err);
    assert_int_equal(type, 2);
    akt_assert_hex_equal(bytes, len, "3f f8 00 00 00 00 00 00");
}

static void test_digest_to_hex_writes_40_lowercase_digits(void **state)
{
    (void)state;
    uint8_t digest[AK_DIGEST_SIZE];
    for (int i = 0; i < AK_DIGEST_SIZE; i++)
        digest[i] = (uint8_t)(0xf0 + i - 3 * i);
    char hex[2 * AK_DIGEST_SIZE + 1];
    memset(hex, 'Z', sizeof hex);
    ak_digest_to_hex(digest, hex);
    char *expected = akt_to_hex(digest, AK_DIGEST_SIZE);
    assert_string_equal(hex, expected);
    free(expected);
    assert_int_equal(strlen(hex), 40);

    static const uint8_t d2[AK_DIGEST_SIZE] = {0xb7, 0x47, 0xf5, 0x85, 0x4d, 0x0b, 0x33,
                                               0x25, 0x99, 0x28, 0xd0, 0xcf, 0xab, 0x7f,
                                               0xad, 0x81, 0xd6, 0xab, 0xfb, 0xf6};
    ak_digest_to_hex(d2, hex);
    assert_string_equal(hex, "b747f5854d0b33259928d0cfab7fad81d6abfbf6");
}

static void test_partition_id_reads_first_two_bytes_little_endian_low_12_bits(void **state)
{
    (void)state;
    uint8_t d[AK_DIGEST_SIZE] = {0};
    d[0] = 0x34;
    d[1] = 0xf2;
    assert_int_equal(ak_partition_id(d), 0x234);
    d[0] = 0xff;
    d[1] = 0xff;
    assert_int_equal(ak_partition_id(d), 4095);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_matches_go_client_integer_vectors),
        cmocka_unit_test(test_digest_matches_go_client_string_vectors),
        cmocka_unit_test(test_digest_matches_go_client_bytes_vectors),
        cmocka_unit_test(test_digest_matches_derived_vectors),
        cmocka_unit_test(test_digest_accepts_null_set_with_zero_length),
        cmocka_unit_test(test_digest_uses_set_len_not_nul),
        cmocka_unit_test(test_digest_of_double_key_hashes_type_2_and_8_byte_big_endian),
        cmocka_unit_test(test_digest_rejects_non_key_types),
        cmocka_unit_test(test_key_bytes_gives_particle_type_and_wire_bytes),
        cmocka_unit_test(test_digest_to_hex_writes_40_lowercase_digits),
        cmocka_unit_test(test_partition_id_reads_first_two_bytes_little_endian_low_12_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
