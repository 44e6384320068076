/*
 * Inbound decoders: Kafka bytes -> ak_value_t for json, connect-json, avro,
 * kafka-avro (fixed schema and a fake Schema Registry over HTTP),
 * message-pack, string and bytes; the types each produces, and that bad
 * input fails with a message naming the position and the problem.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <avro.h>
#include <jansson.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ak_test_util.h"
#include "common/ak_arena.h"
#include "format/ak_inbound_decode.h"
#include "net/ak_http_server.h"
#include "net/ak_loop.h"

static ak_arena_t arena;

static int setup(void **state)
{
    (void)state;
    ak_arena_init(&arena, 4096);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ak_arena_destroy(&arena);
    return 0;
}

static ak_status_t decode_cfg(const ak_inbound_format_config_t *cfg, const void *data, size_t len,
                              ak_value_t *out, ak_error_t *err)
{
    akt_error_reset(err);
    ak_inbound_decoder_t *dec = ak_inbound_decoder_new(cfg, err);
    if (!dec)
        fail_msg("decoder: %s", err->message);
    ak_status_t st = ak_inbound_decode(dec, data, len, &arena, out, err);
    ak_inbound_decoder_free(dec);
    return st;
}

static ak_status_t decode(ak_inbound_format_mode_t mode, const void *data, size_t len,
                          ak_value_t *out, ak_error_t *err)
{
    ak_inbound_format_config_t cfg = {.mode = mode};
    return decode_cfg(&cfg, data, len, out, err);
}

static ak_value_t decode_ok(ak_inbound_format_mode_t mode, const char *text)
{
    ak_value_t v;
    ak_error_t err;
    ak_status_t st = decode(mode, text, strlen(text), &v, &err);
    if (st != AK_OK)
        fail_msg("decode %s: %s", text, err.message);
    return v;
}

/* The message of a failing decode, checked to contain each of the fragments. */
static void expect_failure_at(ak_inbound_format_mode_t mode, const void *data, size_t len,
                              ak_status_t status, const char *fragment1, const char *fragment2,
                              const char *file, int line)
{
    ak_value_t v;
    ak_error_t err;
    ak_status_t st = decode(mode, data, len, &v, &err);
    if (st != status)
        fail_msg("%s:%d: status %s, expected %s (%s)", file, line, ak_status_name(st),
                 ak_status_name(status), err.message);
    assert_int_equal(v.type, AK_VALUE_NIL);
    if (!strstr(err.message, fragment1) || (fragment2 && !strstr(err.message, fragment2)))
        fail_msg("%s:%d: message \"%s\" lacks \"%s\" / \"%s\"", file, line, err.message, fragment1,
                 fragment2 ? fragment2 : "");
}
#define expect_failure(mode, data, len, status, f1, f2)                                            \
    expect_failure_at((mode), (data), (len), (status), (f1), (f2), __FILE__, __LINE__)
#define expect_text_failure(mode, text, status, f1, f2)                                            \
    expect_failure_at((mode), (text), strlen(text), (status), (f1), (f2), __FILE__, __LINE__)

static const ak_value_t *map_get(const ak_value_t *map, const char *key)
{
    assert_int_equal(map->type, AK_VALUE_MAP);
    for (uint32_t i = 0; i < map->u.map.count; i++) {
        const ak_value_t *k = &map->u.map.entries[2 * i];
        if (k->type == AK_VALUE_STRING && k->u.bytes.len == strlen(key) &&
            memcmp(k->u.bytes.data, key, k->u.bytes.len) == 0)
            return &map->u.map.entries[2 * i + 1];
    }
    fail_msg("no key %s", key);
    return NULL;
}

static void assert_str(const ak_value_t *v, const char *s)
{
    assert_int_equal(v->type, AK_VALUE_STRING);
    assert_int_equal(v->u.bytes.len, strlen(s));
    assert_memory_equal(v->u.bytes.data, s, strlen(s));
}

/* ------------------------------------------------------------------ json */

static void test_json_types_follow_connect_json_converter(void **state)
{
    (void)state;
    ak_value_t v = decode_ok(AK_INBOUND_FORMAT_JSON,
                             "{\"i\": 42, \"neg\": -7, \"d\": 1.0, \"e\": 2e3, \"t\": true, "
                             "\"f\": false, \"s\": \"h\\u00e9\", \"n\": null, "
                             "\"l\": [1, \"x\", [2]], \"o\": {\"k\": {\"z\": 0.5}}}");
    assert_int_equal(v.u.map.count, 10);
    /* document order */
    assert_str(&v.u.map.entries[0], "i");
    assert_str(&v.u.map.entries[18], "o");
    assert_int_equal(map_get(&v, "i")->type, AK_VALUE_INT);
    assert_int_equal(map_get(&v, "i")->u.integer, 42);
    assert_int_equal(map_get(&v, "neg")->u.integer, -7);
    assert_int_equal(map_get(&v, "d")->type, AK_VALUE_DOUBLE); /* 1.0 stays a double */
    assert_true(map_get(&v, "d")->u.dbl == 1.0);
    assert_int_equal(map_get(&v, "e")->type, AK_VALUE_DOUBLE);
    assert_int_equal(map_get(&v, "t")->type, AK_VALUE_BOOL);
    assert_true(map_get(&v, "t")->u.boolean);
    assert_false(map_get(&v, "f")->u.boolean);
    assert_str(map_get(&v, "s"), "h\xc3\xa9");
    assert_int_equal(map_get(&v, "n")->type, AK_VALUE_NIL);
    const ak_value_t *l = map_get(&v, "l");
    assert_int_equal(l->type, AK_VALUE_LIST);
    assert_int_equal(l->u.list.count, 3);
    assert_int_equal(l->u.list.items[2].type, AK_VALUE_LIST);
    const ak_value_t *o = map_get(map_get(&v, "o"), "k");
    assert_true(map_get(o, "z")->u.dbl == 0.5);
}

static void test_json_top_level_scalars_keep_their_type(void **state)
{
    (void)state;
    ak_value_t v = decode_ok(AK_INBOUND_FORMAT_JSON, "42");
    assert_int_equal(v.type, AK_VALUE_INT);
    assert_int_equal(v.u.integer, 42);
    v = decode_ok(AK_INBOUND_FORMAT_JSON, "\"42\"");
    assert_str(&v, "42");
    v = decode_ok(AK_INBOUND_FORMAT_JSON, " -9223372036854775808 ");
    assert_int_equal(v.u.integer, INT64_MIN);
    /* integers of up to 18 digits are summed without strtoll: both sides
     * of that border, signs, zero */
    static const struct { const char *text; int64_t value; } ints[] = {
        {"999999999999999999", 999999999999999999ll},   {"-999999999999999999", -999999999999999999ll},
        {"1000000000000000000", 1000000000000000000ll}, {"-1000000000000000000", -1000000000000000000ll},
        {"9223372036854775807", INT64_MAX},             {"0", 0}, {"-0", 0}, {"-7", -7},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        v = decode_ok(AK_INBOUND_FORMAT_JSON, ints[i].text);
        assert_int_equal(v.type, AK_VALUE_INT);
        assert_true(v.u.integer == ints[i].value);
    }
    v = decode_ok(AK_INBOUND_FORMAT_JSON, "-0.0");
    assert_int_equal(v.type, AK_VALUE_DOUBLE);
    /* \u0000 is kept inside a string */
    v = decode_ok(AK_INBOUND_FORMAT_JSON, "\"a\\u0000b\"");
    assert_int_equal(v.u.bytes.len, 3);
}

static void test_json_values_outlive_the_input(void **state)
{
    (void)state;
    char *text = strdup("{\"name\": \"ann\"}");
    ak_value_t v;
    ak_error_t err;
    akt_assert_ok(decode(AK_INBOUND_FORMAT_JSON, text, strlen(text), &v, &err), &err);
    memset(text, 'x', strlen(text));
    free(text);
    assert_str(map_get(&v, "name"), "ann");
}

/* Borrowing (the inbound connector's mode): strings written plainly in the
 * input are views into it, escaped ones are decoded copies, and the value
 * is the same as without borrowing. */
static void test_json_borrowed_strings_point_into_the_input(void **state)
{
    (void)state;
    const char *text = "{\"plain\": \"ann\", \"esc\\u0061ped\": \"a\\\"b\", \"empty\": \"\", \"n\": [\"x\", 1]}";
    ak_inbound_format_config_t cfg = {.mode = AK_INBOUND_FORMAT_JSON};
    ak_error_t err;
    akt_error_reset(&err);
    ak_inbound_decoder_t *dec = ak_inbound_decoder_new(&cfg, &err);
    assert_non_null(dec);
    ak_value_t copied, borrowed;
    akt_assert_ok(ak_inbound_decode(dec, (const uint8_t *)text, strlen(text), &arena, &copied, &err), &err);
    ak_inbound_decoder_borrow_input(dec, true);
    akt_assert_ok(ak_inbound_decode(dec, (const uint8_t *)text, strlen(text), &arena, &borrowed, &err), &err);
    ak_inbound_decoder_free(dec);
    assert_true(ak_value_equal(&copied, &borrowed));

    const char *end = text + strlen(text);
    const ak_value_t *plain = map_get(&borrowed, "plain");
    assert_str(plain, "ann");
    assert_true((const char *)plain->u.bytes.data > text && (const char *)plain->u.bytes.data < end);
    const ak_value_t *key = &borrowed.u.map.entries[0];
    assert_true((const char *)key->u.bytes.data > text && (const char *)key->u.bytes.data < end);
    /* "esc\u0061ped" and "a\"b" exist only decoded */
    const ak_value_t *escaped = map_get(&borrowed, "escaped");
    assert_str(escaped, "a\"b");
    assert_false((const char *)escaped->u.bytes.data >= text && (const char *)escaped->u.bytes.data < end);
    const ak_value_t *escaped_key = &borrowed.u.map.entries[2];
    assert_false((const char *)escaped_key->u.bytes.data >= text && (const char *)escaped_key->u.bytes.data < end);
    /* an empty string is never a NULL view */
    assert_non_null(map_get(&borrowed, "empty")->u.bytes.data);
    const ak_value_t *list = map_get(&borrowed, "n");
    assert_true((const char *)list->u.list.items[0].u.bytes.data > text &&
                (const char *)list->u.list.items[0].u.bytes.data < end);
}

static void test_json_errors_name_the_position(void **state)
{
    (void)state;
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "{\"a\": 1,}", AK_ERR_MALFORMED, "json: ",
                        "at byte 8");
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "{\"a\": 1}\n{", AK_ERR_MALFORMED, "line 2", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "", AK_ERR_MALFORMED, "json: ", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "{\"a\": 1, \"a\": 2}", AK_ERR_MALFORMED,
                        "duplicate", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "99999999999999999999", AK_ERR_MALFORMED,
                        "too big", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "user-1", AK_ERR_MALFORMED, "json: ", "at byte");
}

static void test_json_depth_is_bounded(void **state)
{
    (void)state;
    char deep[200] = "", ok[200] = "";
    for (int i = 0; i < 33; i++)
        strcat(deep, "[");
    for (int i = 0; i < 33; i++)
        strcat(deep, "]");
    expect_text_failure(AK_INBOUND_FORMAT_JSON, deep, AK_ERR_LIMIT, "deeper than 32", NULL);
    for (int i = 0; i < 32; i++)
        strcat(ok, "[");
    for (int i = 0; i < 32; i++)
        strcat(ok, "]");
    decode_ok(AK_INBOUND_FORMAT_JSON, ok);
}

/* The json decoder reads ordinary documents with yajl and leaves every
 * case where yajl and JSON (as jansson reads it) part ways to jansson: the
 * user sees one decoder either way. */
static void test_json_refuses_what_json_refuses(void **state)
{
    (void)state;
    /* yajl takes form feed and vertical tab for whitespace */
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "{\f}", AK_ERR_MALFORMED, "json: ", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "[1,\v2]", AK_ERR_MALFORMED, "json: ", NULL);
    /* unpaired surrogate escapes (yajl would write '?') */
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "\"\\ud800\"", AK_ERR_MALFORMED, "invalid Unicode", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "\"\\ud800\\u0041\"", AK_ERR_MALFORMED, "invalid Unicode", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "\"\\udc00\"", AK_ERR_MALFORMED, "invalid Unicode", NULL);
    /* UTF-8 that only looks like UTF-8: overlong, surrogate, above U+10FFFF */
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "\"\xc0\x80\"", AK_ERR_MALFORMED, "json: ", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "\"\xed\xa0\x80\"", AK_ERR_MALFORMED, "json: ", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "{\"\xf4\x90\x80\x80\": 1}", AK_ERR_MALFORMED, "json: ", NULL);
    /* a NUL in a key; numbers out of range */
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "{\"a\\u0000\": 1}", AK_ERR_MALFORMED, "NUL byte", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "[-9223372036854775809]", AK_ERR_MALFORMED, "too big negative",
                        NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "{\"x\": 1e400}", AK_ERR_MALFORMED, "overflow", NULL);
    /* duplicates after unescaping, and in an object too big to compare pairwise */
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "{\"a\": 1, \"\\u0061\": 2}", AK_ERR_MALFORMED, "duplicate",
                        NULL);
    char many[1024] = "{";
    for (int i = 0; i < 40; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "\"k%d\": %d, ", i, i);
    strcat(many, "\"k7\": 0}");
    expect_text_failure(AK_INBOUND_FORMAT_JSON, many, AK_ERR_MALFORMED, "duplicate", NULL);
    /* an unterminated string after the value (yajl waits for its end) */
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "{\"a\": 1} \"abc", AK_ERR_MALFORMED, "json: ", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_JSON, "0\"", AK_ERR_MALFORMED, "json: ", NULL);
    /* a syntax error still wins over the depth limit, as jansson parses first */
    char deep[100] = "";
    for (int i = 0; i < 33; i++)
        strcat(deep, "[");
    expect_text_failure(AK_INBOUND_FORMAT_JSON, deep, AK_ERR_MALFORMED, "json: ", NULL);
}

static void test_json_keeps_what_json_keeps(void **state)
{
    (void)state;
    ak_value_t v = decode_ok(AK_INBOUND_FORMAT_JSON,
                             "{\"caf\xc3\xa9\": \"\xf0\x9f\x98\x80\", \"pair\": \"\\ud83d\\ude00\", "
                             "\"tiny\": 1e-400, \"z\": -0, \"esc\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\", "
                             "\"del\": \"a\x7f\", \"e\": {}, \"l\": []}");
    assert_int_equal(v.u.map.count, 8);
    assert_str(map_get(&v, "caf\xc3\xa9"), "\xf0\x9f\x98\x80");
    assert_str(map_get(&v, "pair"), "\xf0\x9f\x98\x80");
    assert_int_equal(map_get(&v, "tiny")->type, AK_VALUE_DOUBLE); /* underflow is no error */
    assert_int_equal(map_get(&v, "z")->type, AK_VALUE_INT);
    assert_str(map_get(&v, "esc"), "\"\\/\b\f\n\r\t");
    assert_str(map_get(&v, "del"), "a\x7f");
    assert_int_equal(map_get(&v, "e")->type, AK_VALUE_MAP);
    assert_int_equal(map_get(&v, "e")->u.map.count, 0);
    assert_int_equal(map_get(&v, "l")->u.list.count, 0);
    /* 40 keys (checked for duplicates by sorting) stay in document order */
    char many[1024] = "{";
    for (int i = 0; i < 40; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"k%d\": [%d]", i ? ", " : "", i, i);
    strcat(many, "}");
    v = decode_ok(AK_INBOUND_FORMAT_JSON, many);
    assert_int_equal(v.u.map.count, 40);
    assert_str(&v.u.map.entries[2 * 39], "k39");
    assert_int_equal(v.u.map.entries[2 * 39 + 1].u.list.items[0].u.integer, 39);
    /* a list longer than the decoder's first value stack */
    char list[1024] = "[";
    for (int i = 0; i < 150; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? "," : "", i);
    strcat(list, "]");
    v = decode_ok(AK_INBOUND_FORMAT_JSON, list);
    assert_int_equal(v.u.list.count, 150);
    assert_int_equal(v.u.list.items[149].u.integer, 149);
}

/* ---------------------------------------------------------- connect-json */

static const char *connect_doc =
    "{\"schema\": {\"type\": \"struct\", \"name\": \"user\", \"optional\": false, \"fields\": ["
    "  {\"field\": \"i8\", \"type\": \"int8\"},"
    "  {\"field\": \"i64\", \"type\": \"int64\"},"
    "  {\"field\": \"f\", \"type\": \"float\"},"
    "  {\"field\": \"d\", \"type\": \"double\"},"
    "  {\"field\": \"b\", \"type\": \"boolean\"},"
    "  {\"field\": \"s\", \"type\": \"string\"},"
    "  {\"field\": \"raw\", \"type\": \"bytes\"},"
    "  {\"field\": \"tags\", \"type\": \"array\", \"items\": {\"type\": \"string\"}},"
    "  {\"field\": \"scores\", \"type\": \"map\", \"keys\": {\"type\": \"string\"},"
    "   \"values\": {\"type\": \"int32\"}},"
    "  {\"field\": \"byid\", \"type\": \"map\", \"keys\": {\"type\": \"int32\"},"
    "   \"values\": {\"type\": \"string\"}},"
    "  {\"field\": \"addr\", \"type\": \"struct\", \"optional\": true, \"fields\": ["
    "    {\"field\": \"zip\", \"type\": \"int32\"}]},"
    "  {\"field\": \"nick\", \"type\": \"string\", \"optional\": true},"
    "  {\"field\": \"level\", \"type\": \"int32\", \"default\": 3}"
    "]},"
    " \"payload\": {\"i8\": -128, \"i64\": 9007199254740993, \"f\": 0.1, \"d\": 2,"
    "  \"b\": true, \"s\": \"x\", \"raw\": \"AAEC\", \"tags\": [\"a\", \"b\"],"
    "  \"scores\": {\"m\": 1}, \"byid\": [[7, \"seven\"]], \"addr\": {\"zip\": 75001},"
    "  \"nick\": null, \"level\": null}}";

static void test_connect_json_uses_the_schema_types(void **state)
{
    (void)state;
    ak_value_t v = decode_ok(AK_INBOUND_FORMAT_CONNECT_JSON, connect_doc);
    assert_int_equal(v.type, AK_VALUE_MAP);
    assert_int_equal(v.u.map.count, 13);
    assert_str(&v.u.map.entries[0], "i8"); /* schema order */
    assert_int_equal(map_get(&v, "i8")->u.integer, -128);
    assert_int_equal(map_get(&v, "i64")->u.integer, 9007199254740993LL);
    assert_int_equal(map_get(&v, "f")->type, AK_VALUE_DOUBLE);
    assert_true(map_get(&v, "f")->u.dbl == (double)0.1f); /* float32 precision */
    assert_int_equal(map_get(&v, "d")->type, AK_VALUE_DOUBLE); /* 2 read as a double */
    assert_true(map_get(&v, "d")->u.dbl == 2.0);
    assert_true(map_get(&v, "b")->u.boolean);
    const ak_value_t *raw = map_get(&v, "raw");
    assert_int_equal(raw->type, AK_VALUE_BYTES);
    akt_assert_hex_equal(raw->u.bytes.data, raw->u.bytes.len, "000102");
    assert_int_equal(map_get(&v, "tags")->u.list.count, 2);
    assert_int_equal(map_get(map_get(&v, "scores"), "m")->u.integer, 1);
    const ak_value_t *byid = map_get(&v, "byid");
    assert_int_equal(byid->u.map.count, 1);
    assert_int_equal(byid->u.map.entries[0].type, AK_VALUE_INT);
    assert_str(&byid->u.map.entries[1], "seven");
    assert_int_equal(map_get(map_get(&v, "addr"), "zip")->u.integer, 75001);
    assert_int_equal(map_get(&v, "nick")->type, AK_VALUE_NIL);
    assert_int_equal(map_get(&v, "level")->u.integer, 3); /* the default */
}

static void test_connect_json_null_schema_is_schemaless(void **state)
{
    (void)state;
    ak_value_t v = decode_ok(AK_INBOUND_FORMAT_CONNECT_JSON,
                             "{\"schema\": null, \"payload\": {\"a\": 1.5}}");
    assert_true(map_get(&v, "a")->u.dbl == 1.5);
}

#define STRUCT1(field_schema, payload)                                                             \
    "{\"schema\": {\"type\": \"struct\", \"fields\": [" field_schema "]}, \"payload\": " payload "}"

static void test_connect_json_errors_name_the_field(void **state)
{
    (void)state;
    expect_text_failure(AK_INBOUND_FORMAT_CONNECT_JSON,
                        STRUCT1("{\"field\": \"small\", \"type\": \"int8\"}", "{\"small\": 128}"),
                        AK_ERR_MALFORMED, "connect-json: payload.small: 128 is out of range for int8",
                        NULL);
    expect_text_failure(AK_INBOUND_FORMAT_CONNECT_JSON,
                        STRUCT1("{\"field\": \"id\", \"type\": \"int32\"}", "{}"), AK_ERR_MALFORMED,
                        "payload.id: null for a required int32", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_CONNECT_JSON,
                        STRUCT1("{\"field\": \"l\", \"type\": \"array\", \"items\": {\"type\": "
                                "\"int64\"}}",
                                "{\"l\": [1, \"2\"]}"),
                        AK_ERR_MALFORMED, "payload.l[1]: expected an integer for int64, got a string",
                        NULL);
    expect_text_failure(AK_INBOUND_FORMAT_CONNECT_JSON,
                        STRUCT1("{\"field\": \"r\", \"type\": \"bytes\"}", "{\"r\": \"**\"}"),
                        AK_ERR_MALFORMED, "payload.r: expected Base64", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_CONNECT_JSON,
                        STRUCT1("{\"field\": \"x\", \"type\": \"decimal128\"}", "{\"x\": 1}"),
                        AK_ERR_UNSUPPORTED, "unknown schema type \"decimal128\"", NULL);
    expect_text_failure(AK_INBOUND_FORMAT_CONNECT_JSON, "{\"a\": 1}", AK_ERR_MALFORMED,
                        "exactly the fields \"schema\" and \"payload\"", "mode json");
    expect_text_failure(AK_INBOUND_FORMAT_CONNECT_JSON, "{\"schema\": ", AK_ERR_MALFORMED,
                        "connect-json: ", "at byte");
}

/* ----------------------------------------------------------- message-pack */

static int mp_write(void *data, const char *buf, size_t len)
{
    ak_buf_append(data, buf, len);
    return 0;
}

static void test_msgpack_types(void **state)
{
    (void)state;
    ak_buf_t buf;
    ak_buf_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, mp_write);
    msgpack_pack_map(&pk, 7);
    msgpack_pack_str_with_body(&pk, "i", 1);
    msgpack_pack_int64(&pk, -5);
    msgpack_pack_str_with_body(&pk, "u", 1);
    msgpack_pack_uint64(&pk, (uint64_t)INT64_MAX);
    msgpack_pack_str_with_body(&pk, "d", 1);
    msgpack_pack_double(&pk, 2.5);
    msgpack_pack_str_with_body(&pk, "b", 1);
    msgpack_pack_bin_with_body(&pk, "\x01\x02", 2);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_true(&pk);
    msgpack_pack_str_with_body(&pk, "l", 1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_nil(&pk);
    msgpack_pack_float(&pk, 0.5f);
    msgpack_pack_int(&pk, 9); /* an integer map key */
    msgpack_pack_str_with_body(&pk, "nine", 4);
    ak_value_t v;
    ak_error_t err;
    akt_assert_ok(decode(AK_INBOUND_FORMAT_MESSAGE_PACK, buf.data, buf.len, &v, &err), &err);
    assert_int_equal(v.u.map.count, 7);
    assert_int_equal(map_get(&v, "i")->u.integer, -5);
    assert_int_equal(map_get(&v, "u")->u.integer, INT64_MAX);
    assert_true(map_get(&v, "d")->u.dbl == 2.5);
    assert_int_equal(map_get(&v, "b")->type, AK_VALUE_BYTES);
    assert_int_equal(map_get(&v, "t")->type, AK_VALUE_BOOL);
    const ak_value_t *l = map_get(&v, "l");
    assert_int_equal(l->u.list.items[0].type, AK_VALUE_NIL);
    assert_true(l->u.list.items[1].u.dbl == 0.5);
    assert_int_equal(v.u.map.entries[12].type, AK_VALUE_INT);
    assert_int_equal(v.u.map.entries[12].u.integer, 9);
    ak_buf_free(&buf);
}

static void test_msgpack_bad_input_names_the_byte(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b;
    /* an array declaring 2^32-1 elements in 5 bytes: refused before msgpack-c allocates */
    b = akt_hex("dd ffffffff", &len);
    expect_failure(AK_INBOUND_FORMAT_MESSAGE_PACK, b, len, AK_ERR_TRUNCATED,
                   "array declares 4294967295 elements but only 0 bytes remain", "at byte 0");
    free(b);
    b = akt_hex("92 01 d9 05 61", &len); /* [1, str8 of 5 bytes with 1 present] */
    expect_failure(AK_INBOUND_FORMAT_MESSAGE_PACK, b, len, AK_ERR_TRUNCATED,
                   "declares 5 bytes but only 1 remain", "at byte 2");
    free(b);
    b = akt_hex("01 02", &len);
    expect_failure(AK_INBOUND_FORMAT_MESSAGE_PACK, b, len, AK_ERR_MALFORMED,
                   "1 bytes follow the value", "at byte 1");
    free(b);
    b = akt_hex("91 c1", &len);
    expect_failure(AK_INBOUND_FORMAT_MESSAGE_PACK, b, len, AK_ERR_MALFORMED, "0xc1",
                   "at byte 1");
    free(b);
    b = akt_hex("81 a1 78 d4 01 00", &len); /* {"x": fixext1} */
    expect_failure(AK_INBOUND_FORMAT_MESSAGE_PACK, b, len, AK_ERR_UNSUPPORTED, "ext values",
                   "at byte 3");
    free(b);
    b = akt_hex("cf 8000000000000000", &len);
    expect_failure(AK_INBOUND_FORMAT_MESSAGE_PACK, b, len, AK_ERR_UNSUPPORTED,
                   "9223372036854775808 is above", NULL);
    free(b);
    expect_failure(AK_INBOUND_FORMAT_MESSAGE_PACK, "", 0, AK_ERR_TRUNCATED, "ends before a value",
                   NULL);
    uint8_t deep[40];
    memset(deep, 0x91, sizeof deep); /* 39 nested one-element arrays around a 0 */
    deep[39] = 0x00;
    expect_failure(AK_INBOUND_FORMAT_MESSAGE_PACK, deep, sizeof deep, AK_ERR_LIMIT,
                   "deeper than 32", "at byte 32");
    ak_value_t v;
    ak_error_t err;
    akt_assert_ok(decode(AK_INBOUND_FORMAT_MESSAGE_PACK, deep + 8, 32, &v, &err), &err);
}

/* --------------------------------------------------------- string, bytes */

static void test_string_and_bytes(void **state)
{
    (void)state;
    ak_value_t v = decode_ok(AK_INBOUND_FORMAT_STRING, "user-1");
    assert_str(&v, "user-1");
    ak_error_t err;
    akt_assert_ok(decode(AK_INBOUND_FORMAT_STRING, "a\xff", 2, &v, &err), &err);
    assert_str(&v, "a\xef\xbf\xbd"); /* U+FFFD, as Kafka's StringConverter decodes it */
    akt_assert_ok(decode(AK_INBOUND_FORMAT_BYTES, "\x00\x01", 2, &v, &err), &err);
    assert_int_equal(v.type, AK_VALUE_BYTES);
    assert_int_equal(v.subtype, AK_BYTES_SUBTYPE_BLOB);
    assert_int_equal(v.u.bytes.len, 2);
    akt_assert_ok(decode(AK_INBOUND_FORMAT_BYTES, NULL, 0, &v, &err), &err);
    assert_int_equal(v.type, AK_VALUE_BYTES);
    assert_non_null(v.u.bytes.data);
    assert_int_equal(v.u.bytes.len, 0);
}

/* ------------------------------------------------------------------ avro */

static const char *person_schema =
    "{\"type\": \"record\", \"name\": \"Person\", \"fields\": ["
    " {\"name\": \"id\", \"type\": \"long\"},"
    " {\"name\": \"age\", \"type\": \"int\"},"
    " {\"name\": \"name\", \"type\": \"string\"},"
    " {\"name\": \"score\", \"type\": \"double\"},"
    " {\"name\": \"ratio\", \"type\": \"float\"},"
    " {\"name\": \"ok\", \"type\": \"boolean\"},"
    " {\"name\": \"photo\", \"type\": \"bytes\"},"
    " {\"name\": \"hash\", \"type\": {\"type\": \"fixed\", \"name\": \"h\", \"size\": 2}},"
    " {\"name\": \"color\", \"type\": {\"type\": \"enum\", \"name\": \"c\", \"symbols\": [\"RED\", \"BLUE\"]}},"
    " {\"name\": \"nick\", \"type\": [\"null\", \"string\"]},"
    " {\"name\": \"tags\", \"type\": {\"type\": \"array\", \"items\": \"string\"}},"
    " {\"name\": \"attrs\", \"type\": {\"type\": \"map\", \"values\": \"long\"}},"
    " {\"name\": \"home\", \"type\": {\"type\": \"record\", \"name\": \"Addr\", \"fields\": ["
    "   {\"name\": \"city\", \"type\": \"string\"}]}}"
    "]}";

/* Avro binary of a Person, written by avro-c itself. */
static void write_person(ak_buf_t *out, const char *nick)
{
    avro_schema_t schema;
    assert_int_equal(avro_schema_from_json_length(person_schema, strlen(person_schema), &schema), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t rec, f, branch, item;
    assert_int_equal(avro_generic_value_new(iface, &rec), 0);
    avro_value_get_by_name(&rec, "id", &f, NULL);
    avro_value_set_long(&f, 1234567890123LL);
    avro_value_get_by_name(&rec, "age", &f, NULL);
    avro_value_set_int(&f, 42);
    avro_value_get_by_name(&rec, "name", &f, NULL);
    avro_value_set_string(&f, "Ann");
    avro_value_get_by_name(&rec, "score", &f, NULL);
    avro_value_set_double(&f, 9.5);
    avro_value_get_by_name(&rec, "ratio", &f, NULL);
    avro_value_set_float(&f, 0.25f);
    avro_value_get_by_name(&rec, "ok", &f, NULL);
    avro_value_set_boolean(&f, 1);
    avro_value_get_by_name(&rec, "photo", &f, NULL);
    avro_value_set_bytes(&f, "\x00\xff", 2);
    avro_value_get_by_name(&rec, "hash", &f, NULL);
    avro_value_set_fixed(&f, "\x01\x02", 2);
    avro_value_get_by_name(&rec, "color", &f, NULL);
    avro_value_set_enum(&f, 1);
    avro_value_get_by_name(&rec, "nick", &f, NULL);
    if (nick) {
        avro_value_set_branch(&f, 1, &branch);
        avro_value_set_string(&branch, nick);
    } else {
        avro_value_set_branch(&f, 0, &branch);
        avro_value_set_null(&branch);
    }
    avro_value_get_by_name(&rec, "tags", &f, NULL);
    avro_value_append(&f, &item, NULL);
    avro_value_set_string(&item, "a");
    avro_value_get_by_name(&rec, "attrs", &f, NULL);
    avro_value_add(&f, "k", &item, NULL, NULL);
    avro_value_set_long(&item, -1);
    avro_value_get_by_name(&rec, "home", &f, NULL);
    avro_value_get_by_name(&f, "city", &item, NULL);
    avro_value_set_string(&item, "Paris");
    char bytes[512];
    avro_writer_t w = avro_writer_memory(bytes, sizeof bytes);
    assert_int_equal(avro_value_write(w, &rec), 0);
    ak_buf_append(out, bytes, (size_t)avro_writer_tell(w));
    avro_writer_free(w);
    avro_value_decref(&rec);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
}

static void assert_person(const ak_value_t *v, const char *nick)
{
    assert_int_equal(v->type, AK_VALUE_MAP);
    assert_int_equal(v->u.map.count, 13);
    assert_str(&v->u.map.entries[0], "id");
    assert_int_equal(map_get(v, "id")->u.integer, 1234567890123LL);
    assert_int_equal(map_get(v, "age")->u.integer, 42);
    assert_str(map_get(v, "name"), "Ann");
    assert_true(map_get(v, "score")->u.dbl == 9.5);
    assert_true(map_get(v, "ratio")->u.dbl == 0.25);
    assert_int_equal(map_get(v, "ok")->type, AK_VALUE_BOOL);
    assert_int_equal(map_get(v, "photo")->type, AK_VALUE_BYTES);
    assert_int_equal(map_get(v, "hash")->u.bytes.len, 2);
    assert_str(map_get(v, "color"), "BLUE");
    if (nick)
        assert_str(map_get(v, "nick"), nick);
    else
        assert_int_equal(map_get(v, "nick")->type, AK_VALUE_NIL);
    assert_str(&map_get(v, "tags")->u.list.items[0], "a");
    assert_int_equal(map_get(map_get(v, "attrs"), "k")->u.integer, -1);
    assert_str(map_get(map_get(v, "home"), "city"), "Paris");
}

static void test_avro_with_a_fixed_schema(void **state)
{
    (void)state;
    ak_buf_t data;
    ak_buf_init(&data);
    write_person(&data, "annie");
    ak_inbound_format_config_t cfg = {.mode = AK_INBOUND_FORMAT_AVRO, .schema = (char *)person_schema};
    ak_value_t v;
    ak_error_t err;
    akt_assert_ok(decode_cfg(&cfg, data.data, data.len, &v, &err), &err);
    assert_person(&v, "annie");

    /* truncated, trailing bytes, an absurd declared length */
    akt_assert_status(decode_cfg(&cfg, data.data, data.len - 1, &v, &err), AK_ERR_TRUNCATED, &err);
    assert_non_null(strstr(err.message, "avro: "));
    ak_buf_append_byte(&data, 0);
    akt_assert_status(decode_cfg(&cfg, data.data, data.len, &v, &err), AK_ERR_MALFORMED, &err);
    assert_non_null(strstr(err.message, "1 bytes follow the value"));
    uint8_t huge[] = {0x02, 0x02, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    /* id 1, age 1, then a name declaring 2^62 bytes */
    akt_assert_status(decode_cfg(&cfg, huge, sizeof huge, &v, &err), AK_ERR_TRUNCATED, &err);
    assert_non_null(strstr(err.message, "string declares"));
    assert_non_null(strstr(err.message, "at byte 2"));

    ak_inbound_format_config_t bad = {.mode = AK_INBOUND_FORMAT_AVRO, .schema = "{\"type\": 1}"};
    akt_error_reset(&err);
    assert_null(ak_inbound_decoder_new(&bad, &err));
    assert_non_null(strstr(err.message, "avro: the schema is not a valid Avro schema"));
    ak_buf_free(&data);
}

static void test_avro_zero_size_items_are_bounded(void **state)
{
    (void)state;
    ak_inbound_format_config_t cfg = {.mode = AK_INBOUND_FORMAT_AVRO,
                                      .schema = "{\"type\": \"array\", \"items\": \"null\"}"};
    uint8_t ten[] = {0x14, 0x00}; /* 10 nulls */
    ak_value_t v;
    ak_error_t err;
    akt_assert_ok(decode_cfg(&cfg, ten, sizeof ten, &v, &err), &err);
    assert_int_equal(v.u.list.count, 10);
    uint8_t many[] = {0xfe, 0xff, 0xff, 0xff, 0x0f, 0x00}; /* 2^31-1 nulls */
    akt_assert_status(decode_cfg(&cfg, many, sizeof many, &v, &err), AK_ERR_TRUNCATED, &err);
    assert_non_null(strstr(err.message, "array block declares 2147483647 items"));
}

static void test_kafka_avro_framing_with_a_fixed_schema(void **state)
{
    (void)state;
    ak_buf_t data;
    ak_buf_init(&data);
    akt_hex_append(&data, "00 0000002a");
    write_person(&data, NULL);
    ak_inbound_format_config_t cfg = {.mode = AK_INBOUND_FORMAT_KAFKA_AVRO,
                                      .schema = (char *)person_schema};
    ak_value_t v;
    ak_error_t err;
    akt_assert_ok(decode_cfg(&cfg, data.data, data.len, &v, &err), &err);
    assert_person(&v, NULL);
    data.data[0] = 1;
    akt_assert_status(decode_cfg(&cfg, data.data, data.len, &v, &err), AK_ERR_MALFORMED, &err);
    assert_non_null(strstr(err.message, "magic byte is 0x01"));
    akt_assert_status(decode_cfg(&cfg, data.data, 4, &v, &err), AK_ERR_TRUNCATED, &err);
    assert_non_null(strstr(err.message, "shorter than the 5-byte Confluent header"));
    ak_buf_free(&data);
}

/* A fake Schema Registry answering GET /schemas/ids/<id> on a loop thread. */
typedef struct registry {
    ak_loop_t *loop;
    pthread_t thread;
    ak_http_server_t *server;
    uint16_t port;
    int requests;
    int fail_status; /* answer every request with this status when set */
} registry_t;

static void registry_handler(void *ctx, ak_http_request_t *req, const ak_http_request_info_t *info)
{
    registry_t *r = ctx;
    __atomic_add_fetch(&r->requests, 1, __ATOMIC_SEQ_CST);
    if (r->fail_status) {
        ak_http_respond(req, r->fail_status, "application/json", "{\"message\":\"busy\"}", 18);
        return;
    }
    if (strcmp(info->method, "GET") == 0 && strcmp(info->path, "/schemas/ids/7") == 0) {
        json_t *body = json_pack("{s:s}", "schema", person_schema);
        char *text = json_dumps(body, JSON_COMPACT);
        ak_http_respond(req, 200, "application/vnd.schemaregistry.v1+json", text, strlen(text));
        free(text);
        json_decref(body);
        return;
    }
    if (strcmp(info->path, "/schemas/ids/8") == 0) {
        const char *proto = "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\"}";
        ak_http_respond(req, 200, "application/json", proto, strlen(proto));
        return;
    }
    const char *missing = "{\"error_code\":40403,\"message\":\"Schema not found\"}";
    ak_http_respond(req, 404, "application/json", missing, strlen(missing));
}

static void *registry_loop_thread(void *arg)
{
    registry_t *r = arg;
    ak_loop_run(r->loop);
    return NULL;
}

static registry_t *registry_start(void)
{
    registry_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    ak_error_t err;
    r->loop = ak_loop_new(&err);
    assert_non_null(r->loop);
    ak_http_server_options_t opts = {.host = "127.0.0.1"};
    r->server = ak_http_server_new(r->loop, &opts, registry_handler, r, &err);
    if (!r->server)
        fail_msg("ak_http_server_new: %s", err.message);
    r->port = ak_http_server_port(r->server);
    assert_int_equal(pthread_create(&r->thread, NULL, registry_loop_thread, r), 0);
    return r;
}

typedef struct loop_call {
    registry_t *r;
    int done;
} loop_call_t;

static void free_server_on_loop(ak_loop_t *loop, void *arg)
{
    (void)loop;
    loop_call_t *call = arg;
    ak_http_server_free(call->r->server);
    __atomic_store_n(&call->done, 1, __ATOMIC_RELEASE);
}

static void registry_stop(registry_t *r)
{
    loop_call_t call = {r, 0};
    assert_true(ak_loop_post(r->loop, free_server_on_loop, &call));
    while (!__atomic_load_n(&call.done, __ATOMIC_ACQUIRE))
        usleep(1000);
    ak_loop_stop(r->loop);
    pthread_join(r->thread, NULL);
    ak_loop_free(r->loop);
    free(r);
}

static void test_kafka_avro_fetches_each_schema_id_once(void **state)
{
    (void)state;
    registry_t *r = registry_start();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)r->port);
    ak_format_prop_t props[] = {{"schema.registry.url", url}};
    ak_inbound_format_config_t cfg = {.mode = AK_INBOUND_FORMAT_KAFKA_AVRO, .props = props,
                                      .n_props = 1};
    ak_error_t err;
    akt_error_reset(&err);
    ak_inbound_decoder_t *dec = ak_inbound_decoder_new(&cfg, &err);
    assert_non_null(dec);
    assert_int_equal(ak_inbound_decoder_registry_requests(dec), 0);

    ak_buf_t data;
    ak_buf_init(&data);
    akt_hex_append(&data, "00 00000007");
    write_person(&data, "x");
    ak_value_t v;
    for (int i = 0; i < 3; i++) {
        akt_assert_ok(ak_inbound_decode(dec, data.data, data.len, &arena, &v, &err), &err);
        assert_person(&v, "x");
    }
    assert_int_equal(ak_inbound_decoder_registry_requests(dec), 1);
    assert_int_equal(__atomic_load_n(&r->requests, __ATOMIC_SEQ_CST), 1);

    /* an unknown id is the record's fault; a schema of another type too */
    data.data[4] = 9;
    akt_assert_status(ak_inbound_decode(dec, data.data, data.len, &arena, &v, &err),
                      AK_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.message, "schema id 9: HTTP 404: Schema not found"));
    data.data[4] = 8;
    akt_assert_status(ak_inbound_decode(dec, data.data, data.len, &arena, &v, &err),
                      AK_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.message, "PROTOBUF schema, not Avro"));
    /* a registry in trouble is not: retry later */
    __atomic_store_n(&r->fail_status, 503, __ATOMIC_SEQ_CST);
    data.data[4] = 10;
    akt_assert_status(ak_inbound_decode(dec, data.data, data.len, &arena, &v, &err), AK_ERR_IO,
                      &err);
    assert_non_null(strstr(err.message, "HTTP 503"));
    ak_inbound_decoder_free(dec);
    registry_stop(r);

    /* nobody listening */
    dec = ak_inbound_decoder_new(&cfg, &err);
    assert_non_null(dec);
    akt_assert_status(ak_inbound_decode(dec, data.data, data.len, &arena, &v, &err), AK_ERR_IO,
                      &err);
    assert_non_null(strstr(err.message, "unreachable"));
    ak_inbound_decoder_free(dec);
    ak_buf_free(&data);

    ak_inbound_format_config_t no_url = {.mode = AK_INBOUND_FORMAT_KAFKA_AVRO};
    assert_null(ak_inbound_decoder_new(&no_url, &err));
    assert_non_null(strstr(err.message, "kafka-avro: props: schema.registry.url is required"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_types_follow_connect_json_converter),
        cmocka_unit_test(test_json_top_level_scalars_keep_their_type),
        cmocka_unit_test(test_json_values_outlive_the_input),
        cmocka_unit_test(test_json_borrowed_strings_point_into_the_input),
        cmocka_unit_test(test_json_errors_name_the_position),
        cmocka_unit_test(test_json_depth_is_bounded),
        cmocka_unit_test(test_json_refuses_what_json_refuses),
        cmocka_unit_test(test_json_keeps_what_json_keeps),
        cmocka_unit_test(test_connect_json_uses_the_schema_types),
        cmocka_unit_test(test_connect_json_null_schema_is_schemaless),
        cmocka_unit_test(test_connect_json_errors_name_the_field),
        cmocka_unit_test(test_msgpack_types),
        cmocka_unit_test(test_msgpack_bad_input_names_the_byte),
        cmocka_unit_test(test_string_and_bytes),
        cmocka_unit_test(test_avro_with_a_fixed_schema),
        cmocka_unit_test(test_avro_zero_size_items_are_bounded),
        cmocka_unit_test(test_kafka_avro_framing_with_a_fixed_schema),
        cmocka_unit_test(test_kafka_avro_fetches_each_schema_id_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
