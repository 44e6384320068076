#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ak_test_util.h"
#include "common/ak_arena.h"
#include "wire/ak_msg.h"
#include "wire/ak_particle.h"
#include "wire/ak_record.h"

#define PUT_EXAMPLE_HEX                                                                            \
    "02 03 00 00 00 00 00 52"                                                                      \
    "16 00 01 00 00 00 00000000 00000000 000003e8 0003 0001"                                       \
    "00000005 00 74657374"                                                                         \
    "00000005 01 64656d6f"                                                                         \
    "00000015 04 b747f5854d0b33259928d0cfab7fad81d6abfbf6"                                         \
    "0000000d 02 01 00 01 62 0000000000000001"

#define DELETE_EXAMPLE_HEX                                                                         \
    "02 03 00 00 00 00 00 41"                                                                      \
    "16 00 03 00 00 00 00000000 00000000 000003e8 0003 0000"                                       \
    "00000005 00 74657374"                                                                         \
    "00000005 01 64656d6f"                                                                         \
    "00000015 04 b747f5854d0b33259928d0cfab7fad81d6abfbf6"

static const uint8_t k1_digest[AK_DIGEST_SIZE] = {0xb7, 0x47, 0xf5, 0x85, 0x4d, 0x0b, 0x33,
                                                  0x25, 0x99, 0x28, 0xd0, 0xcf, 0xab, 0x7f,
                                                  0xad, 0x81, 0xd6, 0xab, 0xfb, 0xf6};

typedef struct fixture {
    ak_arena_t arena;
    ak_buf_t buf;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    ak_arena_init(&f->arena, 4096);
    ak_buf_init(&f->buf);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    ak_arena_destroy(&f->arena);
    ak_buf_free(&f->buf);
    free(f);
    return 0;
}

static ak_msg_header_t header_with(uint8_t info1, uint8_t info2, uint8_t info3, uint32_t ttl_ms)
{
    ak_msg_header_t h;
    memset(&h, 0, sizeof h);
    h.header_sz = AK_MSG_HEADER_SIZE;
    h.info1 = info1;
    h.info2 = info2;
    h.info3 = info3;
    h.transaction_ttl = ttl_ms;
    return h;
}

/* Parses bytes[8..len) as a message body with base offset 8. */
static ak_status_t parse_frame(fixture_t *f, const uint8_t *frame, size_t len, ak_msg_t *msg,
                               ak_error_t *err)
{
    akt_error_reset(err);
    assert_true(len >= 8);
    return ak_msg_parse(frame + 8, len - 8, 8, &f->arena, msg, err);
}

/* Parses a body given as hex, kept in an exact-size heap block so that ASan
 * catches any overread; the block is freed before returning, so the caller
 * must not look at views. */
static ak_status_t parse_body_hex(fixture_t *f, const char *hex, ak_error_t *err)
{
    size_t len;
    uint8_t *bytes = akt_hex(hex, &len);
    ak_msg_t msg;
    akt_error_reset(err);
    ak_status_t st = ak_msg_parse(bytes, len, 8, &f->arena, &msg, err);
    free(bytes);
    return st;
}

#define HDR_HEX(nf, nops) "16 00 01 00 00 00 00000000 00000000 00000000 " nf " " nops

static void build_put_example(ak_buf_t *out)
{
    ak_msg_builder_t b;
    ak_msg_header_t h = header_with(0, AK_INFO2_WRITE, 0, 1000);
    ak_msg_begin(&b, out, &h);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_SET, "demo", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
    ak_value_t one = ak_value_int(1);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_msg_add_op_value(&b, AK_OP_WRITE, "b", 1, &one, &err), &err);
    akt_assert_ok(ak_msg_end(&b, &err), &err);
}

static void test_msg_builder_produces_spec_put_example_byte_exact(void **state)
{
    fixture_t *f = *state;
    build_put_example(&f->buf);
    assert_int_equal(f->buf.len, 90);
    akt_assert_buf_hex(&f->buf, PUT_EXAMPLE_HEX);
}

static void test_msg_builder_produces_spec_delete_example_byte_exact(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    ak_msg_header_t h = header_with(0, AK_INFO2_WRITE | AK_INFO2_DELETE, 0, 1000);
    ak_msg_begin(&b, &f->buf, &h);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_SET, "demo", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_msg_end(&b, &err), &err);
    assert_int_equal(f->buf.len, 73);
    akt_assert_buf_hex(&f->buf, DELETE_EXAMPLE_HEX);
}

static void test_msg_builder_ignores_header_counts_and_counts_itself(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    ak_msg_header_t h = header_with(0, AK_INFO2_WRITE, 0, 1000);
    h.n_fields = 77;
    h.n_ops = 99;
    ak_msg_begin(&b, &f->buf, &h);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_SET, "demo", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
    ak_value_t one = ak_value_int(1);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_msg_add_op_value(&b, AK_OP_WRITE, "b", 1, &one, &err), &err);
    akt_assert_ok(ak_msg_end(&b, &err), &err);
    akt_assert_buf_hex(&f->buf, PUT_EXAMPLE_HEX);
}

static void test_record_to_msg_produces_spec_put_example_byte_exact(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec;
    ak_record_init(&rec);
    rec.op = AK_RECORD_WRITE;
    rec.ns = (ak_str_t){"test", 4};
    rec.set = (ak_str_t){"demo", 4};
    rec.has_key = false;
    rec.has_digest = true;
    memcpy(rec.digest, k1_digest, AK_DIGEST_SIZE);
    ak_bin_t bin;
    memset(&bin, 0, sizeof bin);
    bin.name = (ak_str_t){"b", 1};
    bin.value = ak_value_int(1);
    rec.bins = &bin;
    rec.n_bins = 1;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_record_to_msg(&rec, 1000, &f->buf, &err), &err);
    akt_assert_buf_hex(&f->buf, PUT_EXAMPLE_HEX);
}

static void test_record_to_msg_computes_the_spec_digest_from_the_key(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec;
    ak_record_init(&rec);
    rec.ns = (ak_str_t){"test", 4};
    rec.set = (ak_str_t){"demo", 4};
    rec.has_key = true;
    rec.key = ak_value_string("k1");
    ak_bin_t bin;
    memset(&bin, 0, sizeof bin);
    bin.name = (ak_str_t){"b", 1};
    bin.value = ak_value_int(1);
    rec.bins = &bin;
    rec.n_bins = 1;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_record_to_msg(&rec, 1000, &f->buf, &err), &err);
    ak_msg_t msg;
    akt_assert_ok(parse_frame(f, f->buf.data, f->buf.len, &msg, &err), &err);
    const ak_msg_field_t *d = ak_msg_find_field(&msg, AK_FIELD_DIGEST);
    assert_non_null(d);
    akt_assert_bytes_equal(d->data, d->len, k1_digest, AK_DIGEST_SIZE);
    const ak_msg_field_t *k = ak_msg_find_field(&msg, AK_FIELD_KEY);
    assert_non_null(k);
    akt_assert_hex_equal(k->data, k->len, "03 6b 31");
    assert_int_equal(msg.header.n_fields, 4);
}

static void test_record_to_msg_produces_spec_delete_example_byte_exact(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec;
    ak_record_init(&rec);
    rec.op = AK_RECORD_DELETE;
    rec.ns = (ak_str_t){"test", 4};
    rec.set = (ak_str_t){"demo", 4};
    rec.has_digest = true;
    memcpy(rec.digest, k1_digest, AK_DIGEST_SIZE);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_record_to_msg(&rec, 1000, &f->buf, &err), &err);
    akt_assert_buf_hex(&f->buf, DELETE_EXAMPLE_HEX);
}

static void test_msg_parse_reads_every_part_of_the_put_example(void **state)
{
    fixture_t *f = *state;
    akt_hex_append(&f->buf, PUT_EXAMPLE_HEX);
    ak_msg_t msg;
    ak_error_t err;
    akt_assert_ok(parse_frame(f, f->buf.data, f->buf.len, &msg, &err), &err);
    assert_int_equal(msg.header.header_sz, 22);
    assert_int_equal(msg.header.info1, 0);
    assert_int_equal(msg.header.info2, AK_INFO2_WRITE);
    assert_int_equal(msg.header.info3, 0);
    assert_int_equal(msg.header.info4, 0);
    assert_int_equal(msg.header.result_code, 0);
    assert_int_equal(msg.header.generation, 0);
    assert_int_equal(msg.header.record_ttl, 0);
    assert_int_equal(msg.header.transaction_ttl, 1000);
    assert_int_equal(msg.header.n_fields, 3);
    assert_int_equal(msg.header.n_ops, 1);

    assert_int_equal(msg.fields[0].type, AK_FIELD_NAMESPACE);
    assert_int_equal(msg.fields[0].len, 4);
    assert_memory_equal(msg.fields[0].data, "test", 4);
    assert_ptr_equal(msg.fields[0].data, f->buf.data + 35);
    assert_int_equal(msg.fields[0].offset, 30);
    assert_int_equal(msg.fields[1].type, AK_FIELD_SET);
    assert_int_equal(msg.fields[1].len, 4);
    assert_memory_equal(msg.fields[1].data, "demo", 4);
    assert_int_equal(msg.fields[1].offset, 39);
    assert_int_equal(msg.fields[2].type, AK_FIELD_DIGEST);
    assert_int_equal(msg.fields[2].len, 20);
    assert_memory_equal(msg.fields[2].data, k1_digest, 20);
    assert_int_equal(msg.fields[2].offset, 48);

    const ak_msg_op_t *op = &msg.ops[0];
    assert_int_equal(op->op_type, AK_OP_WRITE);
    assert_int_equal(op->particle_type, AK_PARTICLE_INTEGER);
    assert_int_equal(op->flags, 0);
    assert_int_equal(op->name_len, 1);
    assert_memory_equal(op->name, "b", 1);
    assert_false(op->has_lut);
    assert_int_equal(op->value_len, 8);
    akt_assert_hex_equal(op->value, op->value_len, "0000000000000001");
    assert_int_equal(op->offset, 73);
    assert_int_equal(op->value_offset, 82);
    assert_ptr_equal(op->value, f->buf.data + 82);

    assert_ptr_equal(ak_msg_find_field(&msg, AK_FIELD_SET), &msg.fields[1]);
    assert_null(ak_msg_find_field(&msg, AK_FIELD_KEY));
}

static void test_msg_parse_reads_the_delete_example(void **state)
{
    fixture_t *f = *state;
    akt_hex_append(&f->buf, DELETE_EXAMPLE_HEX);
    ak_msg_t msg;
    ak_error_t err;
    akt_assert_ok(parse_frame(f, f->buf.data, f->buf.len, &msg, &err), &err);
    assert_int_equal(msg.header.info2, 0x03);
    assert_int_equal(msg.header.n_fields, 3);
    assert_int_equal(msg.header.n_ops, 0);
    assert_int_equal(msg.header.transaction_ttl, 1000);
}

static void test_msg_parse_reads_big_endian_header_words(void **state)
{
    fixture_t *f = *state;
    akt_hex_append(&f->buf, "16 81 42 24 11 05 01020304 0a0b0c0d 11121314 0000 0000");
    ak_msg_t msg;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_msg_parse(f->buf.data, f->buf.len, 8, &f->arena, &msg, &err), &err);
    assert_int_equal(msg.header.info1, 0x81);
    assert_int_equal(msg.header.info2, 0x42);
    assert_int_equal(msg.header.info3, 0x24);
    assert_int_equal(msg.header.info4, 0x11);
    assert_int_equal(msg.header.result_code, 5);
    assert_int_equal(msg.header.generation, 0x01020304);
    assert_int_equal(msg.header.record_ttl, 0x0a0b0c0d);
    assert_int_equal(msg.header.transaction_ttl, 0x11121314);
}

/* A message with several fields and ops, one with a LUT. */
static void build_rich_message(ak_buf_t *out)
{
    ak_msg_builder_t b;
    ak_msg_header_t h = header_with(AK_INFO1_XDR, AK_INFO2_WRITE | AK_INFO2_GENERATION, 0, 500);
    h.generation = 7;
    h.record_ttl = 3600;
    ak_msg_begin(&b, out, &h);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_SET, "demo", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
    ak_msg_add_field(&b, AK_FIELD_KEY, "\x03k1", 3);
    ak_msg_add_field_u64(&b, AK_FIELD_LUT, 0x0102030405060708ULL);
    ak_error_t err;
    akt_error_reset(&err);
    ak_value_t v = ak_value_int(-5);
    akt_assert_ok(ak_msg_add_op_value(&b, AK_OP_WRITE, "i", 1, &v, &err), &err);
    v = ak_value_string("hello");
    akt_assert_ok(ak_msg_add_op_value_lut(&b, AK_OP_WRITE, "str", 3, 0x1122334455667788ULL, &v,
                                          &err),
                  &err);
    ak_value_t items[2] = {ak_value_string("a"), ak_value_int(1)};
    v = ak_value_list(items, 2);
    akt_assert_ok(ak_msg_add_op_value(&b, AK_OP_WRITE, "lst", 3, &v, &err), &err);
    ak_msg_add_op_raw(&b, AK_OP_WRITE, AK_PARTICLE_NULL, "gone", 4, NULL, 0);
    akt_assert_ok(ak_msg_end(&b, &err), &err);
}

static void test_msg_rich_message_round_trips_through_parse(void **state)
{
    fixture_t *f = *state;
    build_rich_message(&f->buf);
    ak_msg_t msg;
    ak_error_t err;
    akt_assert_ok(parse_frame(f, f->buf.data, f->buf.len, &msg, &err), &err);
    assert_int_equal(f->buf.data[1], 3);
    assert_int_equal(ak_get_be32(f->buf.data + 4), f->buf.len - 8);
    assert_int_equal(msg.header.info1, AK_INFO1_XDR);
    assert_int_equal(msg.header.info2, AK_INFO2_WRITE | AK_INFO2_GENERATION);
    assert_int_equal(msg.header.generation, 7);
    assert_int_equal(msg.header.record_ttl, 3600);
    assert_int_equal(msg.header.transaction_ttl, 500);
    assert_int_equal(msg.header.n_fields, 5);
    assert_int_equal(msg.header.n_ops, 4);
    const ak_msg_field_t *lut = ak_msg_find_field(&msg, AK_FIELD_LUT);
    assert_non_null(lut);
    akt_assert_hex_equal(lut->data, lut->len, "0102030405060708");
    const ak_msg_field_t *key = ak_msg_find_field(&msg, AK_FIELD_KEY);
    assert_non_null(key);
    akt_assert_hex_equal(key->data, key->len, "03 6b 31");

    assert_int_equal(msg.ops[0].particle_type, AK_PARTICLE_INTEGER);
    akt_assert_hex_equal(msg.ops[0].value, msg.ops[0].value_len, "fffffffffffffffb");

    const ak_msg_op_t *op = &msg.ops[1];
    assert_int_equal(op->flags, AK_OP_FLAG_HAS_LUT);
    assert_true(op->has_lut);
    assert_true(op->lut == 0x1122334455667788ULL);
    assert_int_equal(op->name_len, 3);
    assert_memory_equal(op->name, "str", 3);
    assert_int_equal(op->particle_type, AK_PARTICLE_STRING);
    assert_int_equal(op->value_len, 5);
    assert_memory_equal(op->value, "hello", 5);
    assert_int_equal(op->value_offset, op->offset + 8 + 3 + 8);

    assert_int_equal(msg.ops[2].particle_type, AK_PARTICLE_LIST);
    akt_assert_hex_equal(msg.ops[2].value, msg.ops[2].value_len, "92 a2 03 61 01");
    assert_int_equal(msg.ops[3].particle_type, AK_PARTICLE_NULL);
    assert_int_equal(msg.ops[3].value_len, 0);
    assert_memory_equal(msg.ops[3].name, "gone", 4);
}

static void test_msg_op_with_lut_flag_has_lut_after_the_name_on_the_wire(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    ak_msg_header_t h = header_with(0, AK_INFO2_WRITE, 0, 0);
    ak_msg_begin(&b, &f->buf, &h);
    ak_value_t v = ak_value_int(1);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_msg_add_op_value_lut(&b, AK_OP_WRITE, "b", 1, 0xa1a2a3a4a5a6a7a8ULL, &v, &err),
                  &err);
    akt_assert_ok(ak_msg_end(&b, &err), &err);
    akt_assert_buf_hex(&f->buf, "02 03 00 00 00 00 00 2f"
                                "16 00 01 00 00 00 00000000 00000000 00000000 0000 0001"
                                "00000015 02 01 01 01 62 a1a2a3a4a5a6a7a8 0000000000000001");
}

static void test_msg_parse_reads_lut_of_hand_made_op(void **state)
{
    fixture_t *f = *state;
    akt_hex_append(&f->buf, HDR_HEX("0000", "0001") "00000015 02 03 01 01 62 0000000000000009 "
                                                    "6b 31 6b 31 6b 31 6b 31");
    ak_msg_t msg;
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_msg_parse(f->buf.data, f->buf.len, 8, &f->arena, &msg, &err), &err);
    assert_true(msg.ops[0].has_lut);
    assert_true(msg.ops[0].lut == 9);
    assert_int_equal(msg.ops[0].value_len, 8);
    assert_memory_equal(msg.ops[0].value, "k1k1k1k1", 8);
}

static void test_msg_parse_rejects_truncation_at_every_offset(void **state)
{
    fixture_t *f = *state;
    build_rich_message(&f->buf);
    const uint8_t *body = f->buf.data + 8;
    size_t body_len = f->buf.len - 8;
    for (size_t len = 0; len < body_len; len++) {
        uint8_t *p = malloc(len ? len : 1);
        assert_non_null(p);
        memcpy(p, body, len);
        ak_msg_t msg;
        ak_error_t err;
        akt_error_reset(&err);
        ak_arena_reset(&f->arena);
        ak_status_t st = ak_msg_parse(p, len, 8, &f->arena, &msg, &err);
        free(p);
        if (st == AK_OK)
            fail_msg("body truncated to %zu of %zu bytes parsed successfully", len, body_len);
        if (err.message[0] == '\0')
            fail_msg("body truncated to %zu bytes: error without message", len);
    }
}

static void test_msg_parse_rejects_field_size_zero(void **state)
{
    ak_error_t err;
    ak_status_t st = parse_body_hex(*state, HDR_HEX("0001", "0000") "00000000 00", &err);
    akt_assert_failed(st, &err, "field size 0");
    assert_true(err.has_offset);
    assert_true(err.offset >= 30 && err.offset < 35);
    st = parse_body_hex(*state, HDR_HEX("0001", "0000") "00000000", &err);
    akt_assert_failed(st, &err, "field size 0, nothing after");
}

static void test_msg_parse_rejects_field_size_past_the_end(void **state)
{
    ak_error_t err;
    ak_status_t st = parse_body_hex(*state, HDR_HEX("0001", "0000") "00000010 00 74657374", &err);
    akt_assert_failed(st, &err, "field size past end");
    st = parse_body_hex(*state, HDR_HEX("0001", "0000") "ffffffff 00 74657374", &err);
    akt_assert_failed(st, &err, "field size 0xffffffff");
    st = parse_body_hex(*state, HDR_HEX("0001", "0000") "000000", &err);
    akt_assert_failed(st, &err, "field size word cut");
}

static void test_msg_parse_rejects_op_size_smaller_than_header_and_name(void **state)
{
    ak_error_t err;
    /* size 4 with name_len 1: name does not fit in the op */
    ak_status_t st = parse_body_hex(*state, HDR_HEX("0000", "0001") "00000004 02 01 00 01 62", &err);
    akt_assert_failed(st, &err, "op size 4 name_len 1");
    /* size 3: not even the op header */
    st = parse_body_hex(*state, HDR_HEX("0000", "0001") "00000003 02 01 00", &err);
    akt_assert_failed(st, &err, "op size 3");
    st = parse_body_hex(*state, HDR_HEX("0000", "0001") "00000000", &err);
    akt_assert_failed(st, &err, "op size 0");
}

static void test_msg_parse_rejects_lut_flag_without_room_for_lut(void **state)
{
    ak_error_t err;
    /* size 4 + 1 + 4: LUT needs 8 bytes after the name */
    ak_status_t st =
        parse_body_hex(*state, HDR_HEX("0000", "0001") "00000009 02 01 01 01 62 00000001", &err);
    akt_assert_failed(st, &err, "op LUT flag without room");
}

static void test_msg_parse_rejects_op_name_len_past_the_end(void **state)
{
    ak_error_t err;
    ak_status_t st =
        parse_body_hex(*state, HDR_HEX("0000", "0001") "0000000d 02 01 00 c8 62 0000000000000001", &err);
    akt_assert_failed(st, &err, "name_len 200");
    st = parse_body_hex(*state, HDR_HEX("0000", "0001") "00000006 02 01 00 05 62 63", &err);
    akt_assert_failed(st, &err, "name_len 5 at end of input");
}

static void test_msg_parse_rejects_op_size_past_the_end(void **state)
{
    ak_error_t err;
    ak_status_t st =
        parse_body_hex(*state, HDR_HEX("0000", "0001") "00000020 02 01 00 01 62 0000000000000001", &err);
    akt_assert_failed(st, &err, "op size past end");
}

static void test_msg_parse_rejects_counts_larger_than_present(void **state)
{
    ak_error_t err;
    ak_status_t st = parse_body_hex(*state, HDR_HEX("0002", "0000") "00000005 00 74657374", &err);
    akt_assert_failed(st, &err, "n_fields 2, one present");
    st = parse_body_hex(*state, HDR_HEX("0000", "0002") "0000000d 02 01 00 01 62 0000000000000001",
                        &err);
    akt_assert_failed(st, &err, "n_ops 2, one present");
    st = parse_body_hex(*state, HDR_HEX("ffff", "ffff"), &err);
    akt_assert_failed(st, &err, "n_fields/n_ops 65535, none present");
}

static void test_msg_parse_rejects_header_sz_other_than_22(void **state)
{
    ak_error_t err;
    ak_status_t st = parse_body_hex(*state, "17 00 01 00 00 00 00000000 00000000 00000000 0000 0000",
                                    &err);
    akt_assert_failed(st, &err, "header_sz 23");
    st = parse_body_hex(*state, "00 00 01 00 00 00 00000000 00000000 00000000 0000 0000", &err);
    akt_assert_failed(st, &err, "header_sz 0");
    assert_true(err.has_offset);
    assert_int_equal(err.offset, 8);
}

static void test_msg_parse_rejects_body_shorter_than_header(void **state)
{
    ak_error_t err;
    ak_status_t st = parse_body_hex(*state, "16 00 01 00 00 00 00000000 00000000 00000000 0000 00",
                                    &err);
    akt_assert_failed(st, &err, "21-byte body");
    st = parse_body_hex(*state, "", &err);
    akt_assert_failed(st, &err, "empty body");
}

static void test_msg_parse_rejects_trailing_bytes_after_last_op(void **state)
{
    ak_error_t err;
    ak_status_t st = parse_body_hex(
        *state, HDR_HEX("0000", "0001") "0000000d 02 01 00 01 62 0000000000000001 00", &err);
    akt_assert_failed(st, &err, "trailing byte after op");
    st = parse_body_hex(*state, HDR_HEX("0001", "0000") "00000005 00 74657374 aa bb", &err);
    akt_assert_failed(st, &err, "trailing bytes after field");
    st = parse_body_hex(*state, HDR_HEX("0000", "0000") "00", &err);
    akt_assert_failed(st, &err, "trailing byte after header");
}

static void test_msg_parse_error_offset_points_into_the_frame(void **state)
{
    fixture_t *f = *state;
    /* second field (at frame offset 39) claims 16 bytes that are not there */
    akt_hex_append(&f->buf, HDR_HEX("0002", "0000") "00000005 00 74657374 00000010 01 64656d6f");
    ak_msg_t msg;
    ak_error_t err;
    akt_error_reset(&err);
    ak_status_t st = ak_msg_parse(f->buf.data, f->buf.len, 8, &f->arena, &msg, &err);
    akt_assert_failed(st, &err, "field past end");
    assert_true(err.has_offset);
    assert_true(err.offset >= 39 && err.offset <= 8 + f->buf.len);
}

static void test_msg_add_field_u64_and_op_raw_encode_exactly(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    ak_msg_header_t h = header_with(0, 0, 0, 0);
    ak_msg_begin(&b, &f->buf, &h);
    ak_msg_add_field_u64(&b, AK_FIELD_LUT, 0x0000006578b6f07bULL);
    ak_msg_add_op_raw(&b, AK_OP_READ, AK_PARTICLE_NULL, "bin", 3, NULL, 0);
    ak_msg_add_op_raw(&b, AK_OP_WRITE, AK_PARTICLE_BLOB, "x", 1, "\x01\x02", 2);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_msg_end(&b, &err), &err);
    akt_assert_buf_hex(&f->buf, "02 03 00 00 00 00 00 39"
                                "16 00 00 00 00 00 00000000 00000000 00000000 0001 0002"
                                "00000009 0e 0000006578b6f07b"
                                "00000007 01 00 00 03 62696e"
                                "00000007 02 04 00 01 78 0102");
}

static void test_msg_builder_appends_after_existing_bytes(void **state)
{
    fixture_t *f = *state;
    akt_hex_append(&f->buf, "aa bb cc");
    build_put_example(&f->buf);
    assert_int_equal(f->buf.len, 93);
    akt_assert_hex_equal(f->buf.data, 3, "aa bb cc");
    akt_assert_hex_equal(f->buf.data + 3, 90, PUT_EXAMPLE_HEX);
    /* and a second frame after the first */
    build_put_example(&f->buf);
    assert_int_equal(f->buf.len, 183);
    akt_assert_hex_equal(f->buf.data + 93, 90, PUT_EXAMPLE_HEX);
}

static void test_msg_end_fails_with_more_than_65535_fields(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    ak_msg_header_t h = header_with(0, 0, 0, 0);
    ak_msg_begin(&b, &f->buf, &h);
    for (unsigned i = 0; i < 65536; i++)
        ak_msg_add_field(&b, AK_FIELD_TRID, "", 0);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_failed(ak_msg_end(&b, &err), &err, "65536 fields");
}

static void test_msg_end_accepts_exactly_65535_ops(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    ak_msg_header_t h = header_with(0, 0, 0, 0);
    ak_msg_begin(&b, &f->buf, &h);
    for (unsigned i = 0; i < 65535; i++)
        ak_msg_add_op_raw(&b, AK_OP_READ, 0, "", 0, NULL, 0);
    ak_error_t err;
    akt_error_reset(&err);
    akt_assert_ok(ak_msg_end(&b, &err), &err);
    assert_int_equal(ak_get_be16(f->buf.data + 8 + 20), 65535);
    ak_msg_t msg;
    akt_assert_ok(parse_frame(f, f->buf.data, f->buf.len, &msg, &err), &err);
    assert_int_equal(msg.header.n_ops, 65535);
    assert_int_equal(msg.ops[65534].op_type, AK_OP_READ);
}

static void test_msg_write_reply_produces_header_only_frame(void **state)
{
    fixture_t *f = *state;
    ak_msg_write_reply(&f->buf, 0, 0, 0);
    akt_assert_buf_hex(&f->buf, "02 03 00 00 00 00 00 16"
                                "16 00 00 00 00 00 00000000 00000000 00000000 0000 0000");
    ak_buf_clear(&f->buf);
    ak_msg_write_reply(&f->buf, 14, 0, 0);
    akt_assert_buf_hex(&f->buf, "02 03 00 00 00 00 00 16"
                                "16 00 00 00 00 0e 00000000 00000000 00000000 0000 0000");
    ak_buf_clear(&f->buf);
    ak_msg_write_reply(&f->buf, 2, 7, 100);
    akt_assert_buf_hex(&f->buf, "02 03 00 00 00 00 00 16"
                                "16 00 00 00 00 02 00000007 00000064 00000000 0000 0000");
    /* appends */
    ak_msg_write_reply(&f->buf, 10, 0, 0);
    assert_int_equal(f->buf.len, 60);
    akt_assert_hex_equal(f->buf.data + 30, 30,
                         "02 03 00 00 00 00 00 16"
                         "16 00 00 00 00 0a 00000000 00000000 00000000 0000 0000");
}

static size_t names_of(int info, uint8_t flags, const char *names[8])
{
    for (int i = 0; i < 8; i++)
        names[i] = NULL;
    return ak_msg_info_flag_names(info, flags, names);
}

static void assert_contains_ci_at(const char *hay, const char *needle, const char *file, int line)
{
    if (!hay || !strcasestr(hay, needle)) {
        print_error("\"%s\" does not contain \"%s\"\n", hay ? hay : "(null)", needle);
        _fail(file, line);
    }
}
#define assert_contains_ci(h, n) assert_contains_ci_at((h), (n), __FILE__, __LINE__)

static void test_msg_info_flag_names_lists_set_bits_in_order(void **state)
{
    (void)state;
    const char *names[8];
    assert_int_equal(names_of(2, 0x03, names), 2);
    assert_contains_ci(names[0], "write");
    assert_contains_ci(names[1], "delete");
    assert_int_equal(names_of(2, 0x13, names), 3);
    assert_contains_ci(names[2], "durable");
    assert_int_equal(names_of(1, 0x10, names), 1);
    assert_contains_ci(names[0], "xdr");
    assert_int_equal(names_of(3, 0x08, names), 1);
    assert_contains_ci(names[0], "update");
    assert_int_equal(names_of(3, 0x22, names), 2);
    assert_contains_ci(names[0], "master");
    assert_contains_ci(names[1], "replace");
    assert_int_equal(names_of(2, 0x20, names), 1);
    assert_contains_ci(names[0], "create");
    assert_int_equal(names_of(4, 0x01, names), 1);
    assert_contains_ci(names[0], "verify");
    assert_int_equal(names_of(1, 0x00, names), 0);
}

static void test_msg_info_flag_names_are_distinct_for_all_bits(void **state)
{
    (void)state;
    for (int info = 1; info <= 3; info++) {
        const char *names[8];
        assert_int_equal(names_of(info, 0xff, names), 8);
        for (int i = 0; i < 8; i++) {
            assert_non_null(names[i]);
            assert_true(names[i][0] != '\0');
            for (int j = i + 1; j < 8; j++)
                assert_string_not_equal(names[i], names[j]);
        }
    }
}

static void test_msg_field_type_names(void **state)
{
    (void)state;
    assert_contains_ci(ak_field_type_name(AK_FIELD_NAMESPACE), "namespace");
    assert_contains_ci(ak_field_type_name(AK_FIELD_SET), "set");
    assert_contains_ci(ak_field_type_name(AK_FIELD_KEY), "key");
    assert_contains_ci(ak_field_type_name(AK_FIELD_DIGEST), "digest");
    assert_contains_ci(ak_field_type_name(AK_FIELD_LUT), "lut");
    assert_contains_ci(ak_field_type_name(AK_FIELD_BATCH), "batch");
    static const uint8_t types[] = {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 21, 22,
                                    23, 24, 26, 30, 31, 32, 33, 40, 41, 42, 43, 45};
    size_t n = sizeof types / sizeof types[0];
    for (size_t i = 0; i < n; i++) {
        const char *a = ak_field_type_name(types[i]);
        assert_non_null(a);
        assert_true(a[0] != '\0');
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(a, ak_field_type_name(types[j]));
    }
    assert_non_null(ak_field_type_name(200));
}

static void test_msg_op_type_names(void **state)
{
    (void)state;
    assert_contains_ci(ak_op_type_name(AK_OP_READ), "read");
    assert_contains_ci(ak_op_type_name(AK_OP_WRITE), "write");
    assert_contains_ci(ak_op_type_name(AK_OP_INCR), "incr");
    assert_contains_ci(ak_op_type_name(AK_OP_TOUCH), "touch");
    assert_contains_ci(ak_op_type_name(AK_OP_DELETE), "delete");
    assert_contains_ci(ak_op_type_name(AK_OP_APPEND), "append");
    for (uint8_t a = 1; a <= 19; a++) {
        if (a == 6)
            continue;
        const char *na = ak_op_type_name(a);
        assert_non_null(na);
        assert_true(na[0] != '\0');
        for (uint8_t b = (uint8_t)(a + 1); b <= 19; b++)
            if (b != 6)
                assert_string_not_equal(na, ak_op_type_name(b));
    }
    assert_non_null(ak_op_type_name(250));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_msg_builder_produces_spec_put_example_byte_exact),
        T(test_msg_builder_produces_spec_delete_example_byte_exact),
        T(test_msg_builder_ignores_header_counts_and_counts_itself),
        T(test_record_to_msg_produces_spec_put_example_byte_exact),
        T(test_record_to_msg_computes_the_spec_digest_from_the_key),
        T(test_record_to_msg_produces_spec_delete_example_byte_exact),
        T(test_msg_parse_reads_every_part_of_the_put_example),
        T(test_msg_parse_reads_the_delete_example),
        T(test_msg_parse_reads_big_endian_header_words),
        T(test_msg_rich_message_round_trips_through_parse),
        T(test_msg_op_with_lut_flag_has_lut_after_the_name_on_the_wire),
        T(test_msg_parse_reads_lut_of_hand_made_op),
        T(test_msg_parse_rejects_truncation_at_every_offset),
        T(test_msg_parse_rejects_field_size_zero),
        T(test_msg_parse_rejects_field_size_past_the_end),
        T(test_msg_parse_rejects_op_size_smaller_than_header_and_name),
        T(test_msg_parse_rejects_lut_flag_without_room_for_lut),
        T(test_msg_parse_rejects_op_name_len_past_the_end),
        T(test_msg_parse_rejects_op_size_past_the_end),
        T(test_msg_parse_rejects_counts_larger_than_present),
        T(test_msg_parse_rejects_header_sz_other_than_22),
        T(test_msg_parse_rejects_body_shorter_than_header),
        T(test_msg_parse_rejects_trailing_bytes_after_last_op),
        T(test_msg_parse_error_offset_points_into_the_frame),
        T(test_msg_add_field_u64_and_op_raw_encode_exactly),
        T(test_msg_builder_appends_after_existing_bytes),
        T(test_msg_end_fails_with_more_than_65535_fields),
        T(test_msg_end_accepts_exactly_65535_ops),
        T(test_msg_write_reply_produces_header_only_frame),
        T(test_msg_info_flag_names_lists_set_bits_in_order),
        T(test_msg_info_flag_names_are_distinct_for_all_bits),
        T(test_msg_field_type_names),
        T(test_msg_op_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
