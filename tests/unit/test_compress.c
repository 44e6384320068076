#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "ak_test_util.h"
#include "wire/ak_compress.h"
#include "wire/ak_proto.h"

#define PUT_EXAMPLE_HEX                                                                            \
    "02 03 00 00 00 00 00 52"                                                                      \
    "16 00 01 00 00 00 00000000 00000000 000003e8 0003 0001"                                       \
    "00000005 00 74657374"                                                                         \
    "00000005 01 64656d6f"                                                                         \
    "00000015 04 b747f5854d0b33259928d0cfab7fad81d6abfbf6"                                         \
    "0000000d 02 01 00 01 62 0000000000000001"

/* Builds a type-4 body by hand: declared size, then zlib(data). */
static void make_body(ak_buf_t *out, uint64_t declared, const uint8_t *data, size_t len)
{
    uLongf clen = compressBound((uLong)len);
    uint8_t *c = malloc(clen);
    assert_non_null(c);
    assert_int_equal(compress2(c, &clen, data, (uLong)len, 6), Z_OK);
    ak_buf_append_be64(out, declared);
    ak_buf_append(out, c, clen);
    free(c);
    assert_false(ak_buf_failed(out));
}

static ak_status_t decode(const ak_buf_t *body, ak_buf_t *out, ak_error_t *err)
{
    akt_error_reset(err);
    /* exact-size copy so ASan sees overreads */
    uint8_t *copy = malloc(body->len ? body->len : 1);
    assert_non_null(copy);
    if (body->len)
        memcpy(copy, body->data, body->len);
    ak_status_t st = ak_compress_decode(copy, body->len, 8, out, err);
    free(copy);
    return st;
}

static void test_compress_round_trips_a_message_frame(void **state)
{
    (void)state;
    ak_buf_t inner, frame, out;
    ak_buf_init(&inner);
    ak_buf_init(&frame);
    ak_buf_init(&out);
    akt_hex_append(&inner, PUT_EXAMPLE_HEX);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_compress_encode(inner.data, inner.len, 1, &frame, &err), &err);
    /* outer header: version 2, type 4, size = rest */
    ak_proto_header_t h;
    akt_assert_ok(ak_proto_header_parse(frame.data, frame.len, 0, &h, &err), &err);
    assert_int_equal(h.version, 2);
    assert_int_equal(h.type, AK_PROTO_TYPE_COMPRESSED);
    assert_int_equal(h.size, frame.len - 8);
    /* declared uncompressed size = the whole inner frame */
    assert_true(ak_get_be64(frame.data + 8) == 90);
    /* the rest is a zlib stream of the inner frame */
    uint8_t check[200];
    uLongf clen = sizeof check;
    assert_int_equal(uncompress(check, &clen, frame.data + 16, (uLong)(frame.len - 16)), Z_OK);
    akt_assert_bytes_equal(check, clen, inner.data, inner.len);

    ak_buf_t body;
    ak_buf_init(&body);
    ak_buf_append(&body, frame.data + 8, frame.len - 8);
    akt_assert_ok(decode(&body, &out, &err), &err);
    akt_assert_bytes_equal(out.data, out.len, inner.data, inner.len);
    ak_buf_free(&body);
    ak_buf_free(&inner);
    ak_buf_free(&frame);
    ak_buf_free(&out);
}

static void test_compress_round_trips_a_large_frame_at_every_level(void **state)
{
    (void)state;
    enum { BODY = 300000 };
    ak_buf_t inner, frame, body, out;
    ak_buf_init(&inner);
    ak_buf_init(&out);
    akt_proto_header_raw(&inner, 2, 3, BODY);
    uint32_t x = 12345;
    for (size_t i = 0; i < BODY; i++) {
        x = x * 1103515245u + 12345u;
        ak_buf_append_byte(&inner, (uint8_t)(i % 3 ? 'a' : (x >> 24)));
    }
    static const int levels[] = {0, 1, 6, 9};
    for (size_t l = 0; l < 4; l++) {
        ak_buf_init(&frame);
        ak_buf_init(&body);
        ak_error_t err;
        akt_error_reset(&err);
        akt_assert_ok(ak_compress_encode(inner.data, inner.len, levels[l], &frame, &err), &err);
        ak_buf_append(&body, frame.data + 8, frame.len - 8);
        akt_assert_ok(decode(&body, &out, &err), &err);
        assert_int_equal(out.len, inner.len);
        assert_memory_equal(out.data, inner.data, inner.len);
        ak_buf_free(&frame);
        ak_buf_free(&body);
    }
    ak_buf_free(&inner);
    ak_buf_free(&out);
}

static void test_compress_encode_appends_after_existing_bytes(void **state)
{
    (void)state;
    ak_buf_t inner, frame;
    ak_buf_init(&inner);
    ak_buf_init(&frame);
    akt_hex_append(&inner, PUT_EXAMPLE_HEX);
    akt_hex_append(&frame, "01 02 03");
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_compress_encode(inner.data, inner.len, 1, &frame, &err), &err);
    akt_assert_hex_equal(frame.data, 3, "01 02 03");
    assert_int_equal(frame.data[3], 2);
    assert_int_equal(frame.data[4], 4);
    assert_true(ak_get_be64(frame.data + 11) == 90);
    ak_buf_free(&inner);
    ak_buf_free(&frame);
}

static void test_compress_decode_clears_output_first(void **state)
{
    (void)state;
    ak_buf_t inner, body, out;
    ak_buf_init(&inner);
    ak_buf_init(&body);
    ak_buf_init(&out);
    akt_hex_append(&inner, PUT_EXAMPLE_HEX);
    make_body(&body, inner.len, inner.data, inner.len);
    akt_hex_append(&out, "de ad be ef");
    ak_error_t err;
    akt_assert_ok(decode(&body, &out, &err), &err);
    akt_assert_bytes_equal(out.data, out.len, inner.data, inner.len);
    ak_buf_free(&inner);
    ak_buf_free(&body);
    ak_buf_free(&out);
}

static void test_compress_decode_rejects_declared_size_above_128_mib(void **state)
{
    (void)state;
    ak_buf_t inner, body, out;
    ak_buf_init(&inner);
    ak_buf_init(&body);
    ak_buf_init(&out);
    /* 256 KiB of incompressible bytes: enough compressed input that a
     * 128 MiB claim is not an impossible expansion ratio, so the size cap is
     * what rejects it. The declared size counts the inner 8-byte header, so
     * the first size over the cap under any reading is 128 MiB + 9. */
    enum { RANDOM = 256 * 1024 };
    akt_proto_header_raw(&inner, 2, 3, RANDOM);
    uint32_t x = 99;
    for (size_t i = 0; i < RANDOM; i++) {
        x = x * 1664525u + 1013904223u;
        ak_buf_append_byte(&inner, (uint8_t)(x >> 24));
    }
    make_body(&body, AK_PROTO_SIZE_MAX + 9, inner.data, inner.len);
    assert_true(body.len > 200 * 1024);
    ak_error_t err;
    akt_assert_status(decode(&body, &out, &err), AK_ERR_LIMIT, &err);
    assert_true(out.cap < 1024 * 1024);
    ak_buf_clear(&body);
    make_body(&body, UINT64_MAX, inner.data, inner.len);
    akt_assert_status(decode(&body, &out, &err), AK_ERR_LIMIT, &err);
    ak_buf_clear(&body);
    make_body(&body, (uint64_t)1 << 40, inner.data, inner.len);
    akt_assert_failed(decode(&body, &out, &err), &err, "declared 1 TiB");
    ak_buf_free(&inner);
    ak_buf_free(&body);
    ak_buf_free(&out);
}

static void test_compress_decode_rejects_declared_size_not_matching_inflated_size(void **state)
{
    (void)state;
    ak_buf_t inner, body, out;
    ak_buf_init(&inner);
    ak_buf_init(&body);
    ak_buf_init(&out);
    akt_hex_append(&inner, PUT_EXAMPLE_HEX);
    ak_error_t err;
    make_body(&body, inner.len - 1, inner.data, inner.len);
    akt_assert_failed(decode(&body, &out, &err), &err, "declared 89, inflates to 90");
    ak_buf_clear(&body);
    make_body(&body, inner.len + 1, inner.data, inner.len);
    akt_assert_failed(decode(&body, &out, &err), &err, "declared 91, inflates to 90");
    ak_buf_clear(&body);
    make_body(&body, 8, inner.data, inner.len);
    akt_assert_failed(decode(&body, &out, &err), &err, "declared 8, inflates to 90");
    ak_buf_free(&inner);
    ak_buf_free(&body);
    ak_buf_free(&out);
}

static void test_compress_decode_rejects_zip_bomb_quickly(void **state)
{
    (void)state;
    /* 64 MiB of zeros compresses to ~64 KiB; declare 100 bytes */
    size_t big = 64u * 1024 * 1024;
    uint8_t *zeros = calloc(big, 1);
    assert_non_null(zeros);
    ak_proto_header_write(zeros, AK_PROTO_TYPE_MESSAGE, big - 8);
    ak_buf_t body, out;
    ak_buf_init(&body);
    ak_buf_init(&out);
    make_body(&body, 100, zeros, big);
    free(zeros);
    ak_error_t err;
    clock_t t0 = clock();
    akt_assert_failed(decode(&body, &out, &err), &err, "declared 100, inflates to 64 MiB");
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(out.cap < 1024 * 1024);
    assert_true(secs < 2.0);
    ak_buf_free(&body);
    ak_buf_free(&out);
}

static void test_compress_decode_rejects_garbage_zlib_data(void **state)
{
    (void)state;
    ak_buf_t body, out;
    ak_buf_init(&body);
    ak_buf_init(&out);
    akt_hex_append(&body, "00 00 00 00 00 00 00 5a  6e 6f 74 20 7a 6c 69 62 20 64 61 74 61");
    ak_error_t err;
    akt_assert_failed(decode(&body, &out, &err), &err, "garbage after size");
    ak_buf_clear(&body);
    akt_hex_append(&body, "00 00 00 00 00 00 00 5a");
    akt_assert_failed(decode(&body, &out, &err), &err, "no zlib data at all");
    ak_buf_free(&body);
    ak_buf_free(&out);
}

static void test_compress_decode_rejects_truncated_zlib_stream(void **state)
{
    (void)state;
    ak_buf_t inner, body, out;
    ak_buf_init(&inner);
    ak_buf_init(&body);
    ak_buf_init(&out);
    akt_hex_append(&inner, PUT_EXAMPLE_HEX);
    make_body(&body, inner.len, inner.data, inner.len);
    size_t full = body.len;
    for (size_t cut = 1; cut <= full - 8; cut++) {
        ak_buf_t part;
        ak_buf_init(&part);
        ak_buf_append(&part, body.data, full - cut);
        ak_error_t err;
        ak_status_t st = decode(&part, &out, &err);
        ak_buf_free(&part);
        if (st == AK_OK)
            fail_msg("body cut by %zu of %zu bytes decoded", cut, full);
    }
    ak_buf_free(&inner);
    ak_buf_free(&body);
    ak_buf_free(&out);
}

static void test_compress_decode_rejects_inner_frame_not_v2_type_3(void **state)
{
    (void)state;
    static const char *const inner_hex[] = {
        "01 03 00 00 00 00 00 02 aa bb", /* version 1 */
        "02 01 00 00 00 00 00 02 aa bb", /* type 1 info */
        "02 04 00 00 00 00 00 02 aa bb", /* type 4 nested */
        "00 02 00 00 00 00 00 02 aa bb", /* admin v0 */
    };
    for (size_t i = 0; i < 4; i++) {
        ak_buf_t inner, body, out;
        ak_buf_init(&inner);
        ak_buf_init(&body);
        ak_buf_init(&out);
        akt_hex_append(&inner, inner_hex[i]);
        make_body(&body, inner.len, inner.data, inner.len);
        ak_error_t err;
        akt_assert_failed(decode(&body, &out, &err), &err, inner_hex[i]);
        ak_buf_free(&inner);
        ak_buf_free(&body);
        ak_buf_free(&out);
    }
}

static void test_compress_decode_rejects_inner_size_mismatch(void **state)
{
    (void)state;
    static const char *const inner_hex[] = {
        "02 03 00 00 00 00 00 03 aa bb",       /* claims 3, has 2 */
        "02 03 00 00 00 00 00 01 aa bb",       /* claims 1, has 2 */
        "02 03 00 00 00 00 00 00 aa bb",       /* claims 0, has 2 */
        "02 03 00 00",                         /* shorter than a header */
    };
    for (size_t i = 0; i < 4; i++) {
        ak_buf_t inner, body, out;
        ak_buf_init(&inner);
        ak_buf_init(&body);
        ak_buf_init(&out);
        akt_hex_append(&inner, inner_hex[i]);
        make_body(&body, inner.len, inner.data, inner.len);
        ak_error_t err;
        akt_assert_failed(decode(&body, &out, &err), &err, inner_hex[i]);
        ak_buf_free(&inner);
        ak_buf_free(&body);
        ak_buf_free(&out);
    }
}

static void test_compress_decode_rejects_body_shorter_than_8_bytes(void **state)
{
    (void)state;
    for (size_t len = 0; len < 8; len++) {
        ak_buf_t body, out;
        ak_buf_init(&body);
        ak_buf_init(&out);
        for (size_t i = 0; i < len; i++)
            ak_buf_append_byte(&body, 0);
        ak_error_t err;
        ak_status_t st = decode(&body, &out, &err);
        ak_buf_free(&body);
        ak_buf_free(&out);
        if (st == AK_OK)
            fail_msg("%zu-byte body accepted", len);
        assert_true(err.message[0] != '\0');
    }
}

static void test_compress_decode_accepts_empty_inner_message_frame(void **state)
{
    (void)state;
    ak_buf_t inner, body, out;
    ak_buf_init(&inner);
    ak_buf_init(&body);
    ak_buf_init(&out);
    akt_hex_append(&inner, "02 03 00 00 00 00 00 00");
    make_body(&body, inner.len, inner.data, inner.len);
    ak_error_t err;
    akt_assert_ok(decode(&body, &out, &err), &err);
    akt_assert_buf_hex(&out, "02 03 00 00 00 00 00 00");
    ak_buf_free(&inner);
    ak_buf_free(&body);
    ak_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compress_round_trips_a_message_frame),
        cmocka_unit_test(test_compress_round_trips_a_large_frame_at_every_level),
        cmocka_unit_test(test_compress_encode_appends_after_existing_bytes),
        cmocka_unit_test(test_compress_decode_clears_output_first),
        cmocka_unit_test(test_compress_decode_rejects_declared_size_above_128_mib),
        cmocka_unit_test(test_compress_decode_rejects_declared_size_not_matching_inflated_size),
        cmocka_unit_test(test_compress_decode_rejects_zip_bomb_quickly),
        cmocka_unit_test(test_compress_decode_rejects_garbage_zlib_data),
        cmocka_unit_test(test_compress_decode_rejects_truncated_zlib_stream),
        cmocka_unit_test(test_compress_decode_rejects_inner_frame_not_v2_type_3),
        cmocka_unit_test(test_compress_decode_rejects_inner_size_mismatch),
        cmocka_unit_test(test_compress_decode_rejects_body_shorter_than_8_bytes),
        cmocka_unit_test(test_compress_decode_accepts_empty_inner_message_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
