#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ak_test_util.h"
#include "wire/ak_proto.h"

static ak_status_t parse_hex(const char *hex, size_t base, ak_proto_header_t *h, ak_error_t *err)
{
    size_t len;
    uint8_t *bytes = akt_hex(hex, &len);
    ak_status_t st = ak_proto_header_parse(bytes, len, base, h, err);
    free(bytes);
    return st;
}

static ak_status_t parse_raw(uint8_t version, uint8_t type, uint64_t size, ak_proto_header_t *h,
                             ak_error_t *err)
{
    ak_buf_t b;
    ak_buf_init(&b);
    akt_proto_header_raw(&b, version, type, size);
    ak_status_t st = ak_proto_header_parse(b.data, b.len, 0, h, err);
    ak_buf_free(&b);
    return st;
}

static void test_proto_header_parse_reads_version_type_and_size(void **state)
{
    (void)state;
    ak_proto_header_t h;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(parse_hex("02 03 00 00 00 00 00 52", 0, &h, &err), &err);
    assert_int_equal(h.version, 2);
    assert_int_equal(h.type, 3);
    assert_int_equal(h.size, 82);
}

static void test_proto_header_parse_reads_all_48_size_bits(void **state)
{
    (void)state;
    ak_proto_header_t h;
    ak_error_t err;
    akt_error_reset(&err);
    /* 0x00_00_07_ff_ff_ff is below the cap and uses 3 bytes; the cap check
     * would hide a 32-bit truncation, so also check a value with byte 4 set. */
    akt_assert_ok(parse_hex("02 01 00 00 07 ff ff fe", 0, &h, &err), &err);
    assert_int_equal(h.type, 1);
    assert_int_equal(h.size, 0x07fffffeULL);
    akt_assert_ok(parse_hex("02 04 00 00 01 02 03 04", 0, &h, &err), &err);
    assert_int_equal(h.size, 0x01020304ULL);
}

static void test_proto_header_parse_accepts_every_type_1_to_4(void **state)
{
    (void)state;
    for (uint8_t type = 1; type <= 4; type++) {
        ak_proto_header_t h;
        ak_error_t err;
        akt_error_reset(&err);
        akt_assert_ok(parse_raw(2, type, 10, &h, &err), &err);
        assert_int_equal(h.type, type);
        assert_int_equal(h.version, 2);
        assert_int_equal(h.size, 10);
    }
}

static void test_proto_header_parse_rejects_type_0_and_5_to_255(void **state)
{
    (void)state;
    for (unsigned type = 0; type <= 255; type++) {
        if (type >= 1 && type <= 4)
            continue;
        ak_proto_header_t h;
        ak_error_t err;
        akt_error_reset(&err);
        ak_status_t st = parse_raw(2, (uint8_t)type, 10, &h, &err);
        if (st == AK_OK)
            fail_msg("proto type %u accepted", type);
        akt_assert_status(st, AK_ERR_MALFORMED, &err);
        assert_true(err.has_offset);
        assert_int_equal(err.offset, 1);
    }
}

static void test_proto_header_parse_rejects_versions_other_than_2(void **state)
{
    (void)state;
    for (unsigned version = 0; version <= 255; version++) {
        if (version == 2)
            continue;
        for (uint8_t type = 1; type <= 4; type++) {
            if (version == 0 && type == AK_PROTO_TYPE_ADMIN)
                continue;
            ak_proto_header_t h;
            ak_error_t err;
            akt_error_reset(&err);
            ak_status_t st = parse_raw((uint8_t)version, type, 10, &h, &err);
            if (st == AK_OK)
                fail_msg("version %u type %u accepted", version, type);
            akt_assert_status(st, AK_ERR_MALFORMED, &err);
            assert_true(err.has_offset);
            assert_int_equal(err.offset, 0);
        }
    }
}

static void test_proto_header_parse_accepts_version_0_only_for_admin(void **state)
{
    (void)state;
    ak_proto_header_t h;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(parse_raw(0, AK_PROTO_TYPE_ADMIN, 16, &h, &err), &err);
    assert_int_equal(h.version, 0);
    assert_int_equal(h.type, 2);
    assert_int_equal(h.size, 16);
    akt_assert_failed(parse_raw(0, AK_PROTO_TYPE_MESSAGE, 16, &h, &err), &err, "version 0 type 3");
    akt_assert_failed(parse_raw(0, AK_PROTO_TYPE_INFO, 16, &h, &err), &err, "version 0 type 1");
}

static void test_proto_header_parse_accepts_exactly_128_mib(void **state)
{
    (void)state;
    ak_proto_header_t h;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(parse_hex("02 03 00 00 08 00 00 00", 0, &h, &err), &err);
    assert_int_equal(h.size, AK_PROTO_SIZE_MAX);
    assert_int_equal(h.size, 128u * 1024u * 1024u);
}

static void test_proto_header_parse_rejects_size_above_128_mib_as_limit(void **state)
{
    (void)state;
    ak_proto_header_t h;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_status(parse_hex("02 03 00 00 08 00 00 01", 0, &h, &err), AK_ERR_LIMIT, &err);
    assert_true(err.has_offset);
    akt_error_reset(&err);
    akt_assert_status(parse_hex("02 03 ff ff ff ff ff ff", 0, &h, &err), AK_ERR_LIMIT, &err);
    akt_error_reset(&err);
    /* only the top byte of the 48-bit size set: a 32-bit reader would see 0 */
    akt_assert_status(parse_hex("02 03 01 00 00 00 00 00", 0, &h, &err), AK_ERR_LIMIT, &err);
}

static void test_proto_header_parse_rejects_fewer_than_8_bytes(void **state)
{
    (void)state;
    static const uint8_t hdr[8] = {2, 3, 0, 0, 0, 0, 0, 0};
    for (size_t len = 0; len < 8; len++) {
        ak_proto_header_t h;
        ak_error_t err;
        akt_error_reset(&err);
        akt_assert_status(ak_proto_header_parse(hdr, len, 0, &h, &err), AK_ERR_TRUNCATED, &err);
    }
}

static void test_proto_header_parse_error_offsets_include_base_offset(void **state)
{
    (void)state;
    ak_proto_header_t h;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_failed(parse_hex("02 09 00 00 00 00 00 00", 1000, &h, &err), &err, "bad type");
    assert_true(err.has_offset);
    assert_int_equal(err.offset, 1001);
    akt_error_reset(&err);
    akt_assert_failed(parse_hex("07 03 00 00 00 00 00 00", 1000, &h, &err), &err, "bad version");
    assert_true(err.has_offset);
    assert_int_equal(err.offset, 1000);
    akt_error_reset(&err);
    akt_assert_failed(parse_hex("02 03 00 00 08 00 00 01", 1000, &h, &err), &err, "too big");
    assert_true(err.has_offset);
    assert_true(err.offset >= 1002 && err.offset <= 1007);
    /* the message ends with " at byte N" */
    assert_non_null(strstr(err.message, "at byte 100"));
}

static void test_proto_header_write_encodes_version_type_and_48_bit_size(void **state)
{
    (void)state;
    uint8_t out[8];
    ak_proto_header_write(out, AK_PROTO_TYPE_MESSAGE, 82);
    akt_assert_hex_equal(out, 8, "02 03 00 00 00 00 00 52");
    ak_proto_header_write(out, AK_PROTO_TYPE_INFO, 0x1a);
    akt_assert_hex_equal(out, 8, "02 01 00 00 00 00 00 1a");
    ak_proto_header_write(out, AK_PROTO_TYPE_COMPRESSED, 0x123456789abcULL);
    akt_assert_hex_equal(out, 8, "02 04 12 34 56 78 9a bc");
    ak_proto_header_write(out, AK_PROTO_TYPE_ADMIN, 0);
    akt_assert_hex_equal(out, 8, "02 02 00 00 00 00 00 00");
}

static void test_proto_header_write_then_parse_round_trips(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {0, 1, 255, 256, 65536, 0x01000000, AK_PROTO_SIZE_MAX};
    for (uint8_t type = 1; type <= 4; type++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint8_t out[8];
            ak_proto_header_t h;
            ak_error_t err;
            akt_error_reset(&err);
            ak_proto_header_write(out, (ak_proto_type_t)type, sizes[i]);
            akt_assert_ok(ak_proto_header_parse(out, 8, 0, &h, &err), &err);
            assert_int_equal(h.version, 2);
            assert_int_equal(h.type, type);
            assert_int_equal(h.size, sizes[i]);
        }
    }
}

static void test_proto_type_name_names_types_1_to_4_distinctly(void **state)
{
    (void)state;
    for (uint8_t a = 1; a <= 4; a++) {
        const char *na = ak_proto_type_name(a);
        assert_non_null(na);
        assert_true(na[0] != '\0');
        for (uint8_t b = (uint8_t)(a + 1); b <= 4; b++)
            assert_string_not_equal(na, ak_proto_type_name(b));
    }
    assert_non_null(ak_proto_type_name(0));
    assert_non_null(ak_proto_type_name(200));
    assert_string_not_equal(ak_proto_type_name(200), ak_proto_type_name(3));
}

/* ---- ak_frame_next ---- */

static void test_frame_next_returns_ready_for_one_complete_frame(void **state)
{
    (void)state;
    ak_buf_t b;
    ak_buf_init(&b);
    akt_hex_append(&b, "02 03 00 00 00 00 00 03 aa bb cc");
    ak_frame_t f;
    size_t consumed = 99;
    ak_error_t err;
    akt_error_reset(&err);
    assert_int_equal(ak_frame_next(b.data, b.len, 0, &f, &consumed, &err), AK_FRAME_READY);
    assert_int_equal(consumed, 11);
    assert_int_equal(f.header.type, 3);
    assert_int_equal(f.header.size, 3);
    assert_ptr_equal(f.body, b.data + 8);
    assert_int_equal(f.offset, 0);
    ak_buf_free(&b);
}

static void test_frame_next_accepts_empty_body(void **state)
{
    (void)state;
    ak_buf_t b;
    ak_buf_init(&b);
    akt_hex_append(&b, "02 01 00 00 00 00 00 00");
    ak_frame_t f;
    size_t consumed = 0;
    ak_error_t err;
    akt_error_reset(&err);
    assert_int_equal(ak_frame_next(b.data, b.len, 0, &f, &consumed, &err), AK_FRAME_READY);
    assert_int_equal(consumed, 8);
    assert_int_equal(f.header.size, 0);
    ak_buf_free(&b);
}

static void test_frame_next_needs_more_at_every_truncation_point(void **state)
{
    (void)state;
    ak_buf_t b;
    ak_buf_init(&b);
    akt_hex_append(&b, "02 03 00 00 00 00 00 05 01 02 03 04 05");
    for (size_t len = 0; len < b.len; len++) {
        ak_frame_t f;
        size_t consumed = 1234;
        ak_error_t err;
        akt_error_reset(&err);
        ak_frame_scan_t r = ak_frame_next(b.data, len, 0, &f, &consumed, &err);
        if (r != AK_FRAME_NEED_MORE)
            fail_msg("prefix of %zu bytes: expected NEED_MORE, got %d", len, (int)r);
        assert_int_equal(consumed, 0);
    }
    ak_buf_free(&b);
}

static void test_frame_next_walks_several_frames_back_to_back(void **state)
{
    (void)state;
    ak_buf_t b;
    ak_buf_init(&b);
    akt_hex_append(&b, "02 01 00 00 00 00 00 02 61 62"      /* info "ab" at 0 */
                       "02 03 00 00 00 00 00 00"            /* empty message at 10 */
                       "02 04 00 00 00 00 00 03 01 02 03"); /* compressed at 18 */
    static const uint8_t types[] = {1, 3, 4};
    static const uint64_t sizes[] = {2, 0, 3};
    static const size_t offsets[] = {0, 10, 18};
    size_t pos = 0;
    for (int i = 0; i < 3; i++) {
        ak_frame_t f;
        size_t consumed = 0;
        ak_error_t err;
        akt_error_reset(&err);
        assert_int_equal(ak_frame_next(b.data + pos, b.len - pos, pos, &f, &consumed, &err),
                         AK_FRAME_READY);
        assert_int_equal(f.header.type, types[i]);
        assert_int_equal(f.header.size, sizes[i]);
        assert_int_equal(f.offset, offsets[i]);
        assert_ptr_equal(f.body, b.data + offsets[i] + 8);
        assert_int_equal(consumed, 8 + sizes[i]);
        pos += consumed;
    }
    assert_int_equal(pos, b.len);
    ak_frame_t f;
    size_t consumed = 5;
    ak_error_t err;
    akt_error_reset(&err);
    assert_int_equal(ak_frame_next(b.data + pos, 0, pos, &f, &consumed, &err), AK_FRAME_NEED_MORE);
    ak_buf_free(&b);
}

static void test_frame_next_reports_only_the_first_frame_when_a_second_is_partial(void **state)
{
    (void)state;
    ak_buf_t b;
    ak_buf_init(&b);
    akt_hex_append(&b, "02 01 00 00 00 00 00 01 61  02 01 00 00 00 00 00 04 61 62");
    ak_frame_t f;
    size_t consumed = 0;
    ak_error_t err;
    akt_error_reset(&err);
    assert_int_equal(ak_frame_next(b.data, b.len, 0, &f, &consumed, &err), AK_FRAME_READY);
    assert_int_equal(consumed, 9);
    assert_int_equal(ak_frame_next(b.data + 9, b.len - 9, 9, &f, &consumed, &err),
                     AK_FRAME_NEED_MORE);
    assert_int_equal(consumed, 0);
    ak_buf_free(&b);
}

static void test_frame_next_reports_error_with_stream_offset_of_bad_header(void **state)
{
    (void)state;
    ak_buf_t b;
    ak_buf_init(&b);
    /* a good frame (11 bytes) then a frame with type 9 */
    akt_hex_append(&b, "02 03 00 00 00 00 00 03 aa bb cc  02 09 00 00 00 00 00 00");
    ak_frame_t f;
    size_t consumed = 0;
    ak_error_t err;
    akt_error_reset(&err);
    assert_int_equal(ak_frame_next(b.data, b.len, 500, &f, &consumed, &err), AK_FRAME_READY);
    assert_int_equal(f.offset, 500);
    assert_int_equal(consumed, 11);
    akt_error_reset(&err);
    assert_int_equal(ak_frame_next(b.data + 11, b.len - 11, 511, &f, &consumed, &err),
                     AK_FRAME_ERROR);
    assert_true(err.has_offset);
    assert_int_equal(err.offset, 512);
    assert_int_not_equal(err.status, AK_OK);
    ak_buf_free(&b);
}

static void test_frame_next_rejects_bad_version_and_oversize(void **state)
{
    (void)state;
    ak_buf_t b;
    ak_buf_init(&b);
    akt_hex_append(&b, "03 03 00 00 00 00 00 00");
    ak_frame_t f;
    size_t consumed = 0;
    ak_error_t err;
    akt_error_reset(&err);
    assert_int_equal(ak_frame_next(b.data, b.len, 40, &f, &consumed, &err), AK_FRAME_ERROR);
    assert_true(err.has_offset);
    assert_int_equal(err.offset, 40);
    ak_buf_clear(&b);
    /* oversize: error immediately, without waiting for 128 MiB of body */
    akt_hex_append(&b, "02 03 00 00 08 00 00 01");
    akt_error_reset(&err);
    assert_int_equal(ak_frame_next(b.data, b.len, 0, &f, &consumed, &err), AK_FRAME_ERROR);
    assert_int_equal(err.status, AK_ERR_LIMIT);
    ak_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto_header_parse_reads_version_type_and_size),
        cmocka_unit_test(test_proto_header_parse_reads_all_48_size_bits),
        cmocka_unit_test(test_proto_header_parse_accepts_every_type_1_to_4),
        cmocka_unit_test(test_proto_header_parse_rejects_type_0_and_5_to_255),
        cmocka_unit_test(test_proto_header_parse_rejects_versions_other_than_2),
        cmocka_unit_test(test_proto_header_parse_accepts_version_0_only_for_admin),
        cmocka_unit_test(test_proto_header_parse_accepts_exactly_128_mib),
        cmocka_unit_test(test_proto_header_parse_rejects_size_above_128_mib_as_limit),
        cmocka_unit_test(test_proto_header_parse_rejects_fewer_than_8_bytes),
        cmocka_unit_test(test_proto_header_parse_error_offsets_include_base_offset),
        cmocka_unit_test(test_proto_header_write_encodes_version_type_and_48_bit_size),
        cmocka_unit_test(test_proto_header_write_then_parse_round_trips),
        cmocka_unit_test(test_proto_type_name_names_types_1_to_4_distinctly),
        cmocka_unit_test(test_frame_next_returns_ready_for_one_complete_frame),
        cmocka_unit_test(test_frame_next_accepts_empty_body),
        cmocka_unit_test(test_frame_next_needs_more_at_every_truncation_point),
        cmocka_unit_test(test_frame_next_walks_several_frames_back_to_back),
        cmocka_unit_test(test_frame_next_reports_only_the_first_frame_when_a_second_is_partial),
        cmocka_unit_test(test_frame_next_reports_error_with_stream_offset_of_bad_header),
        cmocka_unit_test(test_frame_next_rejects_bad_version_and_oversize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
