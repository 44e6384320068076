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

static const uint8_t k1_digest[AK_DIGEST_SIZE] = {0xb7, 0x47, 0xf5, 0x85, 0x4d, 0x0b, 0x33,
                                                  0x25, 0x99, 0x28, 0xd0, 0xcf, 0xab, 0x7f,
                                                  0xad, 0x81, 0xd6, 0xab, 0xfb, 0xf6};

typedef struct fixture {
    ak_arena_t arena;
    ak_buf_t buf;
    ak_buf_t buf2;
    ak_msg_t msg;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    ak_arena_init(&f->arena, 4096);
    ak_buf_init(&f->buf);
    ak_buf_init(&f->buf2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    ak_arena_destroy(&f->arena);
    ak_buf_free(&f->buf);
    ak_buf_free(&f->buf2);
    free(f);
    return 0;
}

static ak_str_t str_of(const char *s)
{
    ak_str_t r = {s, strlen(s)};
    return r;
}

static void base_record(ak_record_t *rec)
{
    ak_record_init(rec);
    rec->ns = str_of("test");
    rec->set = str_of("demo");
    rec->has_key = true;
    rec->key = ak_value_string("k1");
}

/* Encodes rec into f->buf and parses the frame into f->msg. */
static void encode_and_parse(fixture_t *f, const ak_record_t *rec, uint32_t transaction_ttl)
{
    ak_error_t err;
    akt_error_reset(&err);
    ak_buf_clear(&f->buf);
    akt_assert_ok(ak_record_to_msg(rec, transaction_ttl, &f->buf, &err), &err);
    assert_true(f->buf.len >= 30);
    assert_int_equal(f->buf.data[0], 2);
    assert_int_equal(f->buf.data[1], 3);
    assert_int_equal(ak_get_be16(f->buf.data + 2), 0);
    assert_int_equal(ak_get_be32(f->buf.data + 4), f->buf.len - 8);
    akt_error_reset(&err);
    akt_assert_ok(ak_msg_parse(f->buf.data + 8, f->buf.len - 8, 8, &f->arena, &f->msg, &err), &err);
    assert_int_equal(f->msg.header.transaction_ttl, transaction_ttl);
}

static bool str_eq(ak_str_t a, ak_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static void assert_records_equal_at(const ak_record_t *a, const ak_record_t *b,
                                    const uint8_t *digest, const char *file, int line)
{
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_error("record mismatch: %s\n", #cond);                                           \
            _fail(file, line);                                                                     \
        }                                                                                          \
    } while (0)
    CHECK(a->op == b->op);
    CHECK(str_eq(a->ns, b->ns));
    CHECK(str_eq(a->set, b->set));
    CHECK(a->has_key == b->has_key);
    if (a->has_key)
        CHECK(ak_value_equal(&a->key, &b->key));
    CHECK(b->has_digest);
    CHECK(memcmp(b->digest, digest, AK_DIGEST_SIZE) == 0);
    CHECK(a->generation == b->generation);
    CHECK(a->has_lut == b->has_lut);
    if (a->has_lut)
        CHECK(a->lut_ms == b->lut_ms);
    CHECK(a->ttl == b->ttl);
    CHECK(a->exists_action == b->exists_action);
    CHECK(a->generation_policy == b->generation_policy);
    CHECK(a->commit_level == b->commit_level);
    CHECK(a->xdr == b->xdr);
    CHECK(a->n_bins == b->n_bins);
    for (uint32_t i = 0; i < a->n_bins && i < b->n_bins; i++) {
        CHECK(str_eq(a->bins[i].name, b->bins[i].name));
        CHECK(ak_value_equal(&a->bins[i].value, &b->bins[i].value));
        CHECK(a->bins[i].has_lut == b->bins[i].has_lut);
        if (a->bins[i].has_lut)
            CHECK(a->bins[i].lut_ms == b->bins[i].lut_ms);
    }
#undef CHECK
}
#define assert_records_equal(a, b, d) assert_records_equal_at((a), (b), (d), __FILE__, __LINE__)

/* to_msg -> parse -> from_msg, then compares. */
static void round_trip_at(fixture_t *f, const ak_record_t *rec, const uint8_t *digest,
                          ak_record_t *out, const char *file, int line)
{
    encode_and_parse(f, rec, 1000);
    ak_error_t err;
    akt_error_reset(&err);
    ak_record_init(out);
    akt_assert_status_at(ak_record_from_msg(&f->msg, &f->arena, out, &err), AK_OK, &err, file, line);
    assert_records_equal_at(rec, out, digest, file, line);
}
#define round_trip(f, rec, digest, out) round_trip_at((f), (rec), (digest), (out), __FILE__, __LINE__)

static void test_record_write_with_bins_of_every_value_type_round_trips(void **state)
{
    fixture_t *f = *state;
    static const uint8_t blob[] = {0, 1, 2, 0xff};
    static const uint8_t hll[] = {0x00, 0x0e, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    ak_value_t items[3] = {ak_value_string("a"), ak_value_int(1), ak_value_double(-0.5)};
    ak_value_t entries[4] = {ak_value_string("k"), ak_value_list(items, 3), ak_value_int(9),
                             ak_value_bool(true)};
    static const char *names[] = {"nil", "int", "dbl", "str", "blob", "java", "py", "bool",
                                  "hll", "geo", "list", "map", "omap"};
    ak_bin_t bins[13];
    memset(bins, 0, sizeof bins);
    bins[0].value = ak_value_nil();
    bins[1].value = ak_value_int(INT64_MIN);
    bins[2].value = ak_value_double(3.25);
    bins[3].value = ak_value_string("h\xc3\xa9llo");
    bins[4].value = ak_value_blob(blob, sizeof blob);
    bins[5].value = ak_value_bytes_of(AK_VALUE_BYTES, AK_PARTICLE_JAVA_BLOB, blob, 2);
    bins[6].value = ak_value_bytes_of(AK_VALUE_BYTES, AK_PARTICLE_PYTHON_BLOB, blob, 3);
    bins[7].value = ak_value_bool(false);
    bins[8].value = ak_value_bytes_of(AK_VALUE_HLL, AK_PARTICLE_HLL, hll, sizeof hll);
    bins[9].value = ak_value_bytes_of(AK_VALUE_GEOJSON, AK_PARTICLE_GEOJSON, "{\"a\":1}", 7);
    bins[10].value = ak_value_list(items, 3);
    bins[11].value = ak_value_map(entries, 2, 0);
    bins[12].value = ak_value_map(entries, 2, 3);
    for (int i = 0; i < 13; i++)
        bins[i].name = str_of(names[i]);
    ak_record_t rec, out;
    base_record(&rec);
    rec.bins = bins;
    rec.n_bins = 13;
    round_trip(f, &rec, k1_digest, &out);
    assert_int_equal(f->msg.header.n_ops, 13);
    for (int i = 0; i < 13; i++) {
        assert_int_equal(f->msg.ops[i].op_type, AK_OP_WRITE);
        assert_int_equal(f->msg.ops[i].particle_type, ak_particle_type_of(&bins[i].value));
        assert_int_equal(f->msg.ops[i].flags, 0);
    }
    assert_int_equal(f->msg.header.info2, AK_INFO2_WRITE);
}

static void test_record_int_key_is_sent_and_round_trips(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.key = ak_value_int(1);
    static const uint8_t d[AK_DIGEST_SIZE] = {0xb7, 0xf4, 0xb8, 0x38, 0x89, 0xe2, 0xda,
                                              0x67, 0xde, 0x68, 0x3e, 0x1d, 0xf6, 0x91,
                                              0x9a, 0x1e, 0xac, 0xc4, 0x46, 0xc8};
    round_trip(f, &rec, d, &out);
    const ak_msg_field_t *k = ak_msg_find_field(&f->msg, AK_FIELD_KEY);
    assert_non_null(k);
    akt_assert_hex_equal(k->data, k->len, "01 0000000000000001");
    assert_int_equal(out.key.type, AK_VALUE_INT);
}

static void test_record_string_key_is_sent_and_round_trips(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    round_trip(f, &rec, k1_digest, &out);
    const ak_msg_field_t *k = ak_msg_find_field(&f->msg, AK_FIELD_KEY);
    assert_non_null(k);
    akt_assert_hex_equal(k->data, k->len, "03 6b 31");
    const ak_msg_field_t *d = ak_msg_find_field(&f->msg, AK_FIELD_DIGEST);
    assert_non_null(d);
    akt_assert_bytes_equal(d->data, d->len, k1_digest, AK_DIGEST_SIZE);
    const ak_msg_field_t *ns = ak_msg_find_field(&f->msg, AK_FIELD_NAMESPACE);
    assert_non_null(ns);
    akt_assert_hex_equal(ns->data, ns->len, "74 65 73 74");
}

static void test_record_blob_key_is_sent_and_round_trips(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.set = str_of("set");
    rec.key = ak_value_blob("aaaaaaaaaa", 10);
    static const uint8_t d[AK_DIGEST_SIZE] = {0xd1, 0x09, 0x82, 0x32, 0x7b, 0x2b, 0x04,
                                              0xc7, 0x36, 0x05, 0x79, 0xf2, 0x52, 0xe1,
                                              0x64, 0xa7, 0x5f, 0x83, 0xcd, 0x99};
    round_trip(f, &rec, d, &out);
    const ak_msg_field_t *k = ak_msg_find_field(&f->msg, AK_FIELD_KEY);
    assert_non_null(k);
    akt_assert_hex_equal(k->data, k->len, "04 61616161616161616161");
    assert_int_equal(out.key.type, AK_VALUE_BYTES);
    assert_int_equal(out.key.subtype, AK_BYTES_SUBTYPE_BLOB);
}

static void test_record_without_key_sends_no_key_field(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.has_key = false;
    rec.has_digest = true;
    memcpy(rec.digest, k1_digest, AK_DIGEST_SIZE);
    round_trip(f, &rec, k1_digest, &out);
    assert_null(ak_msg_find_field(&f->msg, AK_FIELD_KEY));
    assert_false(out.has_key);
}

static void test_record_without_set_round_trips(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.set = str_of("");
    static const uint8_t d[AK_DIGEST_SIZE] = {0x50, 0x14, 0x99, 0x55, 0x95, 0x9c, 0x2f,
                                              0xef, 0x0a, 0x83, 0x61, 0x3a, 0xe8, 0x0c,
                                              0x78, 0xbb, 0x9c, 0x96, 0xb2, 0x69};
    round_trip(f, &rec, d, &out);
    assert_int_equal(out.set.len, 0);
}

static void test_record_delete_sets_write_and_delete_without_ops(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.op = AK_RECORD_DELETE;
    round_trip(f, &rec, k1_digest, &out);
    assert_int_equal(f->msg.header.info2, 0x03);
    assert_int_equal(f->msg.header.n_ops, 0);
    assert_int_equal(out.op, AK_RECORD_DELETE);
}

static void test_record_durable_delete_sets_info2_0x13(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.op = AK_RECORD_DURABLE_DELETE;
    round_trip(f, &rec, k1_digest, &out);
    assert_int_equal(f->msg.header.info2, 0x13);
    assert_int_equal(f->msg.header.info1, 0);
    assert_int_equal(f->msg.header.info3, 0);
    assert_int_equal(f->msg.header.n_ops, 0);
    assert_int_equal(out.op, AK_RECORD_DURABLE_DELETE);
}

static void test_record_exists_actions_map_to_info_bits(void **state)
{
    fixture_t *f = *state;
    static const struct {
        ak_exists_action_t action;
        uint8_t info2, info3;
    } cases[] = {
        {AK_EXISTS_UPDATE, 0x01, 0x00},       {AK_EXISTS_UPDATE_ONLY, 0x01, 0x08},
        {AK_EXISTS_REPLACE, 0x01, 0x10},      {AK_EXISTS_REPLACE_ONLY, 0x01, 0x20},
        {AK_EXISTS_CREATE_ONLY, 0x21, 0x00},
    };
    ak_bin_t bin;
    memset(&bin, 0, sizeof bin);
    bin.name = str_of("b");
    bin.value = ak_value_int(1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ak_record_t rec, out;
        base_record(&rec);
        rec.bins = &bin;
        rec.n_bins = 1;
        rec.exists_action = cases[i].action;
        round_trip(f, &rec, k1_digest, &out);
        if (f->msg.header.info2 != cases[i].info2 || f->msg.header.info3 != cases[i].info3)
            fail_msg("exists action %d: info2 %#x info3 %#x, expected %#x %#x",
                     (int)cases[i].action, f->msg.header.info2, f->msg.header.info3,
                     cases[i].info2, cases[i].info3);
        assert_int_equal(out.exists_action, cases[i].action);
        assert_int_equal(f->msg.header.info1, 0);
    }
}

static void test_record_generation_eq_sets_info2_0x04_and_generation(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.generation_policy = AK_GEN_EQ;
    rec.generation = 0x01020304;
    round_trip(f, &rec, k1_digest, &out);
    assert_int_equal(f->msg.header.info2, AK_INFO2_WRITE | AK_INFO2_GENERATION);
    assert_int_equal(f->msg.header.generation, 0x01020304);
    assert_int_equal(ak_get_be32(f->buf.data + 8 + 6), 0x01020304);
    assert_int_equal(out.generation_policy, AK_GEN_EQ);
}

static void test_record_generation_gt_sets_info2_0x08_and_generation(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.generation_policy = AK_GEN_GT;
    rec.generation = 42;
    round_trip(f, &rec, k1_digest, &out);
    assert_int_equal(f->msg.header.info2, AK_INFO2_WRITE | AK_INFO2_GENERATION_GT);
    assert_int_equal(f->msg.header.generation, 42);
    assert_int_equal(out.generation_policy, AK_GEN_GT);
}

static void test_record_commit_master_sets_info3_0x02(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.commit_level = AK_COMMIT_MASTER;
    round_trip(f, &rec, k1_digest, &out);
    assert_int_equal(f->msg.header.info3, 0x02);
    assert_int_equal(out.commit_level, AK_COMMIT_MASTER);
}

static void test_record_xdr_sets_info1_0x10(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.xdr = true;
    round_trip(f, &rec, k1_digest, &out);
    assert_int_equal(f->msg.header.info1, 0x10);
    assert_true(out.xdr);
    rec.xdr = false;
    round_trip(f, &rec, k1_digest, &out);
    assert_int_equal(f->msg.header.info1, 0x00);
    assert_false(out.xdr);
}

static void test_record_ttl_values_go_to_record_ttl(void **state)
{
    fixture_t *f = *state;
    static const uint32_t ttls[] = {0, 100, AK_TTL_NEVER_EXPIRE, AK_TTL_DONT_UPDATE};
    for (size_t i = 0; i < 4; i++) {
        ak_record_t rec, out;
        base_record(&rec);
        rec.ttl = ttls[i];
        round_trip(f, &rec, k1_digest, &out);
        assert_int_equal(f->msg.header.record_ttl, ttls[i]);
        assert_int_equal(ak_get_be32(f->buf.data + 8 + 10), ttls[i]);
        assert_int_equal(out.ttl, ttls[i]);
    }
}

static void test_record_lut_is_sent_as_aerospike_epoch_ms(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    rec.xdr = true;
    rec.has_lut = true;
    rec.lut_ms = 1700000000123ULL; /* Unix ms */
    round_trip(f, &rec, k1_digest, &out);
    const ak_msg_field_t *lut = ak_msg_find_field(&f->msg, AK_FIELD_LUT);
    assert_non_null(lut);
    /* 1700000000123 - 1262304000000 = 437696000123 = 0x65e8b6f07b */
    akt_assert_hex_equal(lut->data, lut->len, "00 00 00 65 e8 b6 f0 7b");
    assert_true(out.has_lut);
    assert_true(out.lut_ms == 1700000000123ULL);
}

static void test_record_without_lut_sends_no_lut_field(void **state)
{
    fixture_t *f = *state;
    ak_record_t rec, out;
    base_record(&rec);
    round_trip(f, &rec, k1_digest, &out);
    assert_null(ak_msg_find_field(&f->msg, AK_FIELD_LUT));
    assert_false(out.has_lut);
}

static void test_record_per_bin_lut_round_trips(void **state)
{
    fixture_t *f = *state;
    ak_bin_t bins[2];
    memset(bins, 0, sizeof bins);
    bins[0].name = str_of("a");
    bins[0].value = ak_value_int(5);
    bins[0].has_lut = true;
    bins[0].lut_ms = 1700000000123ULL;
    bins[1].name = str_of("b");
    bins[1].value = ak_value_string("x");
    ak_record_t rec, out;
    base_record(&rec);
    rec.xdr = true;
    rec.bins = bins;
    rec.n_bins = 2;
    round_trip(f, &rec, k1_digest, &out);
    assert_int_equal(f->msg.ops[0].flags & AK_OP_FLAG_HAS_LUT, AK_OP_FLAG_HAS_LUT);
    assert_true(f->msg.ops[0].has_lut);
    assert_int_equal(f->msg.ops[1].flags, 0);
    assert_false(f->msg.ops[1].has_lut);
    assert_true(out.bins[0].has_lut);
    assert_false(out.bins[1].has_lut);
}

static void test_record_per_bin_lut_uses_aerospike_epoch_on_the_wire(void **state)
{
    fixture_t *f = *state;
    ak_bin_t bin;
    memset(&bin, 0, sizeof bin);
    bin.name = str_of("a");
    bin.value = ak_value_int(5);
    bin.has_lut = true;
    bin.lut_ms = 1700000000123ULL;
    ak_record_t rec;
    base_record(&rec);
    rec.bins = &bin;
    rec.n_bins = 1;
    encode_and_parse(f, &rec, 1000);
    /* same conversion as the record LUT field */
    assert_true(f->msg.ops[0].lut == 1700000000123ULL - (uint64_t)AK_CITRUSLEAF_EPOCH_MS);
}

/* ---- from_msg on hand-built messages ---- */

static void begin(ak_msg_builder_t *b, ak_buf_t *out, uint8_t info1, uint8_t info2, uint8_t info3)
{
    ak_msg_header_t h;
    memset(&h, 0, sizeof h);
    h.header_sz = 22;
    h.info1 = info1;
    h.info2 = info2;
    h.info3 = info3;
    ak_msg_begin(b, out, &h);
}

static ak_status_t finish_and_decode(fixture_t *f, ak_msg_builder_t *b, ak_record_t *rec,
                                    ak_error_t *err)
{
    akt_error_reset(err);
    akt_assert_ok(ak_msg_end(b, err), err);
    akt_assert_ok(ak_msg_parse(f->buf.data + 8, f->buf.len - 8, 8, &f->arena, &f->msg, err), err);
    ak_record_init(rec);
    akt_error_reset(err);
    return ak_record_from_msg(&f->msg, &f->arena, rec, err);
}

static void test_record_from_msg_requires_namespace(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    begin(&b, &f->buf, 0, AK_INFO2_WRITE, 0);
    ak_msg_add_field(&b, AK_FIELD_SET, "demo", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
    ak_msg_add_op_raw(&b, AK_OP_WRITE, AK_PARTICLE_INTEGER, "b", 1, "\0\0\0\0\0\0\0\1", 8);
    ak_record_t rec;
    ak_error_t err;
    akt_assert_failed(finish_and_decode(f, &b, &rec, &err), &err, "no NAMESPACE field");
}

static void test_record_from_msg_requires_digest_or_key(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    begin(&b, &f->buf, 0, AK_INFO2_WRITE, 0);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_SET, "demo", 4);
    ak_record_t rec;
    ak_error_t err;
    akt_assert_failed(finish_and_decode(f, &b, &rec, &err), &err, "no DIGEST and no KEY");
}

static void test_record_from_msg_computes_digest_from_key(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    begin(&b, &f->buf, 0, AK_INFO2_WRITE, 0);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_SET, "demo", 4);
    ak_msg_add_field(&b, AK_FIELD_KEY, "\x03k1", 3);
    ak_record_t rec;
    ak_error_t err;
    akt_assert_ok(finish_and_decode(f, &b, &rec, &err), &err);
    assert_true(rec.has_digest);
    akt_assert_bytes_equal(rec.digest, AK_DIGEST_SIZE, k1_digest, AK_DIGEST_SIZE);
    assert_true(rec.has_key);
    assert_int_equal(rec.key.type, AK_VALUE_STRING);
    assert_int_equal(rec.key.u.bytes.len, 2);
    assert_memory_equal(rec.key.u.bytes.data, "k1", 2);
    assert_int_equal(rec.ns.len, 4);
    assert_memory_equal(rec.ns.data, "test", 4);
    assert_int_equal(rec.set.len, 4);
    assert_memory_equal(rec.set.data, "demo", 4);
}

static void test_record_from_msg_keeps_message_digest(void **state)
{
    fixture_t *f = *state;
    uint8_t other[AK_DIGEST_SIZE];
    memset(other, 0x42, sizeof other);
    ak_msg_builder_t b;
    begin(&b, &f->buf, 0, AK_INFO2_WRITE, 0);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, other, AK_DIGEST_SIZE);
    ak_record_t rec;
    ak_error_t err;
    akt_assert_ok(finish_and_decode(f, &b, &rec, &err), &err);
    assert_true(rec.has_digest);
    akt_assert_bytes_equal(rec.digest, AK_DIGEST_SIZE, other, AK_DIGEST_SIZE);
    assert_false(rec.has_key);
    assert_int_equal(rec.set.len, 0);
}

static void test_record_from_msg_keeps_unknown_fields_in_other_fields(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    begin(&b, &f->buf, 0, AK_INFO2_WRITE, 0);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_SET, "demo", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
    ak_msg_add_field(&b, AK_FIELD_MRT_ID, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    ak_msg_add_field(&b, AK_FIELD_FILTER, "\x93\x01\x02\x03", 4);
    ak_msg_add_op_raw(&b, AK_OP_WRITE, AK_PARTICLE_STRING, "s", 1, "v", 1);
    ak_record_t rec;
    ak_error_t err;
    akt_assert_ok(finish_and_decode(f, &b, &rec, &err), &err);
    assert_int_equal(rec.n_other_fields, 2);
    assert_int_equal(rec.other_fields[0].type, AK_FIELD_MRT_ID);
    akt_assert_hex_equal(rec.other_fields[0].data, rec.other_fields[0].len, "0102030405060708");
    assert_int_equal(rec.other_fields[1].type, AK_FIELD_FILTER);
    akt_assert_hex_equal(rec.other_fields[1].data, rec.other_fields[1].len, "93 01 02 03");
    assert_int_equal(rec.n_bins, 1);

    /* and they survive re-encoding */
    akt_error_reset(&err);
    akt_assert_ok(ak_record_to_msg(&rec, 1000, &f->buf2, &err), &err);
    ak_msg_t msg2;
    akt_assert_ok(ak_msg_parse(f->buf2.data + 8, f->buf2.len - 8, 8, &f->arena, &msg2, &err), &err);
    const ak_msg_field_t *mrt = ak_msg_find_field(&msg2, AK_FIELD_MRT_ID);
    assert_non_null(mrt);
    akt_assert_hex_equal(mrt->data, mrt->len, "0102030405060708");
    const ak_msg_field_t *flt = ak_msg_find_field(&msg2, AK_FIELD_FILTER);
    assert_non_null(flt);
    akt_assert_hex_equal(flt->data, flt->len, "93 01 02 03");
}

static void test_record_from_msg_rejects_op_types_other_than_read_and_write(void **state)
{
    fixture_t *f = *state;
    /* (AK_OP_DELETE is left out: ak_record.c reads a DELETE op as a record
     * delete, which the header comment does not mention.) */
    static const uint8_t bad_ops[] = {AK_OP_INCR, AK_OP_CDT_MODIFY, AK_OP_TOUCH, AK_OP_APPEND,
                                      AK_OP_CDT_READ};
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        ak_buf_clear(&f->buf);
        ak_msg_builder_t b;
        begin(&b, &f->buf, 0, AK_INFO2_WRITE, 0);
        ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
        ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
        ak_msg_add_op_raw(&b, bad_ops[i], AK_PARTICLE_INTEGER, "b", 1, "\0\0\0\0\0\0\0\1", 8);
        ak_record_t rec;
        ak_error_t err;
        akt_assert_failed(finish_and_decode(f, &b, &rec, &err), &err, "non read/write op");
        const char *name = ak_op_type_name(bad_ops[i]);
        if (!strstr(err.message, name))
            fail_msg("error \"%s\" does not name op \"%s\"", err.message, name);
    }
}

static void test_record_from_msg_takes_bins_from_read_ops(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    begin(&b, &f->buf, 0, 0, 0);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
    ak_msg_add_op_raw(&b, AK_OP_READ, AK_PARTICLE_INTEGER, "n", 1, "\0\0\0\0\0\0\0\x2a", 8);
    ak_msg_add_op_raw(&b, AK_OP_WRITE, AK_PARTICLE_STRING, "s", 1, "hi", 2);
    ak_record_t rec;
    ak_error_t err;
    akt_assert_ok(finish_and_decode(f, &b, &rec, &err), &err);
    assert_int_equal(rec.n_bins, 2);
    assert_int_equal(rec.bins[0].name.len, 1);
    assert_memory_equal(rec.bins[0].name.data, "n", 1);
    assert_int_equal(rec.bins[0].value.type, AK_VALUE_INT);
    assert_int_equal(rec.bins[0].value.u.integer, 42);
    assert_int_equal(rec.bins[1].value.type, AK_VALUE_STRING);
}

static void test_record_from_msg_decodes_policy_bits(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    ak_msg_header_t h;
    memset(&h, 0, sizeof h);
    h.header_sz = 22;
    h.info1 = AK_INFO1_XDR;
    h.info2 = AK_INFO2_WRITE | AK_INFO2_GENERATION_GT;
    h.info3 = AK_INFO3_COMMIT_MASTER | AK_INFO3_REPLACE_ONLY;
    h.generation = 9;
    h.record_ttl = 3600;
    ak_msg_begin(&b, &f->buf, &h);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
    ak_msg_add_field_u64(&b, AK_FIELD_LUT, 437696000123ULL);
    ak_record_t rec;
    ak_error_t err;
    akt_assert_ok(finish_and_decode(f, &b, &rec, &err), &err);
    assert_int_equal(rec.op, AK_RECORD_WRITE);
    assert_true(rec.xdr);
    assert_int_equal(rec.generation_policy, AK_GEN_GT);
    assert_int_equal(rec.generation, 9);
    assert_int_equal(rec.commit_level, AK_COMMIT_MASTER);
    assert_int_equal(rec.exists_action, AK_EXISTS_REPLACE_ONLY);
    assert_int_equal(rec.ttl, 3600);
    assert_true(rec.has_lut);
    assert_true(rec.lut_ms == 1700000000123ULL);
}

static void test_record_from_msg_decodes_durable_delete(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    begin(&b, &f->buf, 0, AK_INFO2_WRITE | AK_INFO2_DELETE | AK_INFO2_DURABLE_DELETE, 0);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
    ak_record_t rec;
    ak_error_t err;
    akt_assert_ok(finish_and_decode(f, &b, &rec, &err), &err);
    assert_int_equal(rec.op, AK_RECORD_DURABLE_DELETE);
    assert_int_equal(rec.n_bins, 0);
}

static void test_record_from_msg_rejects_bad_bin_value(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    begin(&b, &f->buf, 0, AK_INFO2_WRITE, 0);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, AK_DIGEST_SIZE);
    ak_msg_add_op_raw(&b, AK_OP_WRITE, AK_PARTICLE_INTEGER, "b", 1, "\0\0\0\1", 4);
    ak_record_t rec;
    ak_error_t err;
    akt_assert_failed(finish_and_decode(f, &b, &rec, &err), &err, "4-byte integer bin");
}

static void test_record_from_msg_rejects_digest_of_wrong_size(void **state)
{
    fixture_t *f = *state;
    ak_msg_builder_t b;
    begin(&b, &f->buf, 0, AK_INFO2_WRITE, 0);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, k1_digest, 19);
    ak_record_t rec;
    ak_error_t err;
    akt_assert_failed(finish_and_decode(f, &b, &rec, &err), &err, "19-byte digest");
}

static void test_record_names_are_distinct(void **state)
{
    (void)state;
    assert_string_not_equal(ak_record_op_name(AK_RECORD_WRITE), ak_record_op_name(AK_RECORD_DELETE));
    assert_string_not_equal(ak_record_op_name(AK_RECORD_DELETE),
                            ak_record_op_name(AK_RECORD_DURABLE_DELETE));
    for (int a = 0; a <= 4; a++)
        for (int c = a + 1; c <= 4; c++)
            assert_string_not_equal(ak_exists_action_name((ak_exists_action_t)a),
                                    ak_exists_action_name((ak_exists_action_t)c));
    assert_string_not_equal(ak_generation_policy_name(AK_GEN_NONE), ak_generation_policy_name(AK_GEN_EQ));
    assert_string_not_equal(ak_generation_policy_name(AK_GEN_EQ), ak_generation_policy_name(AK_GEN_GT));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_record_write_with_bins_of_every_value_type_round_trips),
        T(test_record_int_key_is_sent_and_round_trips),
        T(test_record_string_key_is_sent_and_round_trips),
        T(test_record_blob_key_is_sent_and_round_trips),
        T(test_record_without_key_sends_no_key_field),
        T(test_record_without_set_round_trips),
        T(test_record_delete_sets_write_and_delete_without_ops),
        T(test_record_durable_delete_sets_info2_0x13),
        T(test_record_exists_actions_map_to_info_bits),
        T(test_record_generation_eq_sets_info2_0x04_and_generation),
        T(test_record_generation_gt_sets_info2_0x08_and_generation),
        T(test_record_commit_master_sets_info3_0x02),
        T(test_record_xdr_sets_info1_0x10),
        T(test_record_ttl_values_go_to_record_ttl),
        T(test_record_lut_is_sent_as_aerospike_epoch_ms),
        T(test_record_without_lut_sends_no_lut_field),
        T(test_record_per_bin_lut_round_trips),
        T(test_record_per_bin_lut_uses_aerospike_epoch_on_the_wire),
        T(test_record_from_msg_requires_namespace),
        T(test_record_from_msg_requires_digest_or_key),
        T(test_record_from_msg_computes_digest_from_key),
        T(test_record_from_msg_keeps_message_digest),
        T(test_record_from_msg_keeps_unknown_fields_in_other_fields),
        T(test_record_from_msg_rejects_op_types_other_than_read_and_write),
        T(test_record_from_msg_takes_bins_from_read_ops),
        T(test_record_from_msg_decodes_policy_bits),
        T(test_record_from_msg_decodes_durable_delete),
        T(test_record_from_msg_rejects_bad_bin_value),
        T(test_record_from_msg_rejects_digest_of_wrong_size),
        T(test_record_names_are_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
