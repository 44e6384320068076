/*
 * ak_format: exact output of every format for writes of every value type
 * and for deletes; key types; stringify-map-keys; Avro map and record
 * schemas decoded back with avro-c; kafka-avro against a fake Schema
 * Registry (ak_http_server on a loop thread).
 *
 * Expected outputs live in tests/data/format/ and are quoted verbatim in
 * docs/FORMATS.md (test_docs_quote_every_expected_output checks it). To
 * regenerate them after a deliberate change: AK_FORMAT_REGEN=1 test_format,
 * then review the diff. AK_FORMAT_BENCH=1 prints ns/record per format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <avro.h>
#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ak_test_util.h"
#include "format/ak_format.h"
#include "format/ak_format_internal.h" /* ak_format_double_text */
#include "format/ak_schema_registry.h"
#include "net/ak_http_server.h"
#include "net/ak_loop.h"
#include "wire/ak_particle.h"

/* ------------------------------------------------------------ files */

static char data_dir[1024];
static char docs_path[1024];

static void init_paths(void)
{
    /* __FILE__ is .../tests/unit/test_format.c */
    const char *file = __FILE__;
    const char *unit = strstr(file, "unit/test_format.c");
    assert_non_null(unit);
    int n = (int)(unit - file);
    snprintf(data_dir, sizeof data_dir, "%.*sdata/format", n, file);
    snprintf(docs_path, sizeof docs_path, "%.*s../docs/FORMATS.md", n, file);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static bool regen(void)
{
    const char *e = getenv("AK_FORMAT_REGEN");
    return e && e[0] == '1';
}

static const char *const expected_files[] = {
    "json-write.json",        "json-delete.json",        "json-delete-durable.json",
    "flat-json-write.json",   "flat-json-delete.json",   "flat-json-delete-durable.json",
    "message-pack-write.hex", "message-pack-delete.hex", "message-pack-delete-durable.hex",
    "avro-write.hex",         "avro-delete.hex",         "avro-map-write.hex",
    "kafka-avro-write.hex",   "kafka-avro-delete.hex",
};

/* Hex in lines of 32 bytes, as the data files and the docs show it. */
static char *hex_lines(const uint8_t *data, size_t len)
{
    char *hex = akt_to_hex(data, len);
    size_t n = strlen(hex);
    char *out = malloc(n + n / 64 + 2);
    assert_non_null(out);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = hex[i];
        if (i % 64 == 63 && i + 1 < n)
            out[o++] = '\n';
    }
    out[o++] = '\n';
    out[o] = '\0';
    free(hex);
    return out;
}

/* Compares output with tests/data/format/<name> (text files: the JSON and
 * a newline; .hex files: hex lines), or rewrites the file in regen mode. */
static void check_data(const char *name, const ak_buf_t *out)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    bool hex = strstr(name, ".hex") != NULL;
    char *actual;
    if (hex) {
        actual = hex_lines(out->data, out->len);
    } else {
        actual = malloc(out->len + 2);
        assert_non_null(actual);
        memcpy(actual, out->data, out->len);
        actual[out->len] = '\n';
        actual[out->len + 1] = '\0';
    }
    if (regen()) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs(actual, f);
        fclose(f);
        free(actual);
        return;
    }
    char *expected = read_text(path);
    if (!expected)
        fail_msg("missing %s (AK_FORMAT_REGEN=1 writes it)", path);
    if (strcmp(expected, actual) != 0)
        fail_msg("%s differs\nexpected: %s\nactual:   %s", name, expected, actual);
    free(expected);
    free(actual);
}

/* ------------------------------------------------------------ records */

#define SAMPLE_DIGEST_HEX "595a7b63eb185dbebd842553a44802b1a30ec159" /* WVp7Y+sYXb69hCVTpEgCsaMOwVk= */

static void set_digest(ak_record_t *rec, const char *hex)
{
    size_t n;
    uint8_t *d = akt_hex(hex, &n);
    assert_int_equal(n, 20);
    memcpy(rec->digest, d, 20);
    rec->has_digest = true;
    free(d);
}

static ak_str_t str_of(const char *s)
{
    ak_str_t v = {s, strlen(s)};
    return v;
}

static ak_bin_t bin_of(const char *name, ak_value_t value)
{
    ak_bin_t b;
    memset(&b, 0, sizeof b);
    b.name = str_of(name);
    b.value = value;
    return b;
}

/* The record of the real flat-json sample (connector 5.1.2). */
static ak_bin_t sample_bins[1];
static ak_record_t sample_record(ak_record_op_t op)
{
    ak_record_t rec;
    ak_record_init(&rec);
    rec.op = op;
    rec.ns = str_of("test");
    rec.set = str_of("demo");
    rec.has_key = true;
    rec.key = ak_value_int(123);
    set_digest(&rec, SAMPLE_DIGEST_HEX);
    rec.generation = op == AK_RECORD_WRITE ? 1 : 2;
    rec.has_lut = true;
    rec.lut_ms = op == AK_RECORD_WRITE ? 1698586936461ULL : 1698643829757ULL;
    if (op == AK_RECORD_WRITE) {
        sample_bins[0] = bin_of("tval", ak_value_string("test-value-ankush-first"));
        rec.bins = sample_bins;
        rec.n_bins = 1;
    }
    return rec;
}

static const uint8_t blob_bytes[] = {0x01, 0x02, 0x03, 0xff};
static const uint8_t java_bytes[] = {0xac, 0xed, 0x00, 0x05};
static const uint8_t hll_bytes[] = {0x00, 0x01, 0x02};
static const char geo_text[] = "{ \"type\": \"Point\", \"coordinates\": [1.3, 103.9] }";

static ak_value_t list_inner[2], list_items[4], map_in_list[2];
static ak_value_t ulist_items[4];
static ak_value_t kmap_entries[4], kvmap_entries[4], umap_entries[2], umap_list[2];
static ak_bin_t all_bins[16];

/* A write holding every value type. */
static ak_record_t all_types_record(void)
{
    ak_record_t rec;
    ak_record_init(&rec);
    rec.op = AK_RECORD_WRITE;
    rec.ns = str_of("test");
    rec.set = str_of("demo");
    rec.has_key = true;
    rec.key = ak_value_string("user-1");
    set_digest(&rec, SAMPLE_DIGEST_HEX);
    rec.generation = 3;
    rec.has_lut = true;
    rec.lut_ms = 1698586936461ULL;

    list_inner[0] = ak_value_double(1.5);
    list_inner[1] = ak_value_nil();
    map_in_list[0] = ak_value_string("k");
    map_in_list[1] = ak_value_bool(true);
    list_items[0] = ak_value_string("abc");
    list_items[1] = ak_value_int(42);
    list_items[2] = ak_value_list(list_inner, 2);
    list_items[3] = ak_value_map(map_in_list, 1, 0);
    ak_value_t list = ak_value_list(list_items, 4);
    list.subtype = 1; /* ordered */

    ulist_items[0] = ak_value_blob(blob_bytes, 2);
    ulist_items[1] = ak_value_bytes_of(AK_VALUE_BYTES, AK_PARTICLE_JAVA_BLOB, java_bytes, 4);
    ulist_items[2] = ak_value_bytes_of(AK_VALUE_GEOJSON, AK_PARTICLE_GEOJSON,
                                       "{\"type\":\"Point\",\"coordinates\":[0,0]}", 36);
    ulist_items[3] = ak_value_bytes_of(AK_VALUE_HLL, AK_PARTICLE_HLL, hll_bytes, 3);

    kmap_entries[0] = ak_value_int(1);
    kmap_entries[1] = ak_value_string("one");
    kmap_entries[2] = ak_value_double(2.5);
    kmap_entries[3] = ak_value_string("two and a half");
    kvmap_entries[0] = ak_value_string("i");
    kvmap_entries[1] = ak_value_int(42);
    kvmap_entries[2] = ak_value_string("f");
    kvmap_entries[3] = ak_value_double(3.1415);
    umap_list[0] = ak_value_int(1);
    umap_list[1] = ak_value_int(-2);
    umap_entries[0] = ak_value_string("a");
    umap_entries[1] = ak_value_list(umap_list, 2);

    int n = 0;
    all_bins[n++] = bin_of("str", ak_value_string("h\xc3\xa9llo \"w\"\n\x01\xff"));
    all_bins[n++] = bin_of("int", ak_value_int(124));
    all_bins[n++] = bin_of("neg", ak_value_int(INT64_MIN));
    all_bins[n++] = bin_of("dbl", ak_value_double(2.5));
    all_bins[n++] = bin_of("big", ak_value_double(1e10));
    all_bins[n++] = bin_of("bool", ak_value_bool(true));
    all_bins[n++] = bin_of("nil", ak_value_nil());
    all_bins[n++] = bin_of("blob", ak_value_blob(blob_bytes, 4));
    all_bins[n++] = bin_of("java", ak_value_bytes_of(AK_VALUE_BYTES, AK_PARTICLE_JAVA_BLOB,
                                                     java_bytes, 4));
    all_bins[n++] = bin_of("hll", ak_value_bytes_of(AK_VALUE_HLL, AK_PARTICLE_HLL, hll_bytes, 3));
    all_bins[n++] = bin_of("geo", ak_value_bytes_of(AK_VALUE_GEOJSON, AK_PARTICLE_GEOJSON,
                                                    geo_text, strlen(geo_text)));
    all_bins[n++] = bin_of("list", list);
    all_bins[n++] = bin_of("ulist", ak_value_list(ulist_items, 4));
    all_bins[n++] = bin_of("kmap", ak_value_map(kmap_entries, 2, 1));
    all_bins[n++] = bin_of("kvmap", ak_value_map(kvmap_entries, 2, 3));
    all_bins[n++] = bin_of("umap", ak_value_map(umap_entries, 1, 0));
    rec.bins = all_bins;
    rec.n_bins = (uint32_t)n;
    return rec;
}

/* ------------------------------------------------------------ helpers */

static ak_format_config_t config_of(ak_format_mode_t mode)
{
    ak_format_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mode = mode;
    cfg.stringify_map_keys = true;
    if (mode == AK_FORMAT_FLAT_JSON)
        cfg.metadata_key = "metadata";
    return cfg;
}

static ak_formatter_t *new_formatter(const ak_format_config_t *cfg)
{
    ak_error_t err;
    akt_error_reset(&err);
    ak_formatter_t *fmt = ak_formatter_new(cfg, &err);
    if (!fmt)
        fail_msg("ak_formatter_new: %s", err.message);
    return fmt;
}

/* Formats rec (exp_s given) and checks the key is the raw digest. */
static ak_status_t format_rec(ak_formatter_t *fmt, const ak_record_t *rec, int64_t exp_s,
                              ak_buf_t *value, ak_error_t *err)
{
    ak_buf_t key;
    ak_buf_init(&key);
    ak_buf_clear(value);
    akt_error_reset(err);
    ak_format_input_t in = {rec, "topic-a", exp_s};
    ak_status_t st = ak_format_record(fmt, &in, value, &key, err);
    if (st == AK_OK)
        akt_assert_bytes_equal(key.data, key.len, rec->digest, 20);
    else
        assert_int_equal(key.len, 0);
    ak_buf_free(&key);
    return st;
}

static void assert_text(const ak_buf_t *buf, const char *expected)
{
    if (buf->len != strlen(expected) || memcmp(buf->data, expected, buf->len) != 0) {
        fprintf(stderr, "expected: %s\nactual:   %.*s\n", expected, (int)buf->len,
                (const char *)buf->data);
        fail();
    }
}

/* Output as one string, for formats that are text. */
static char *text_of(const ak_buf_t *buf)
{
    char *s = malloc(buf->len + 1);
    assert_non_null(s);
    memcpy(s, buf->data, buf->len);
    s[buf->len] = '\0';
    return s;
}

static void assert_valid_json(const ak_buf_t *buf)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf->data, buf->len, 0, &jerr);
    if (!root)
        fail_msg("not JSON (%s): %.*s", jerr.text, (int)buf->len, (const char *)buf->data);
    json_decref(root);
}

/* ------------------------------------------------------------ names, lifecycle */

static void test_mode_names_are_the_config_names(void **state)
{
    (void)state;
    assert_string_equal(ak_format_mode_name(AK_FORMAT_JSON), "json");
    assert_string_equal(ak_format_mode_name(AK_FORMAT_FLAT_JSON), "flat-json");
    assert_string_equal(ak_format_mode_name(AK_FORMAT_MESSAGE_PACK), "message-pack");
    assert_string_equal(ak_format_mode_name(AK_FORMAT_AVRO), "avro");
    assert_string_equal(ak_format_mode_name(AK_FORMAT_KAFKA_AVRO), "kafka-avro");
}

static void test_config_errors_name_the_option(void **state)
{
    (void)state;
    ak_error_t err;
    ak_format_config_t cfg = config_of(AK_FORMAT_FLAT_JSON);
    cfg.metadata_key = NULL;
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&cfg, &err));
    assert_non_null(strstr(err.message, "metadata-key"));

    cfg = config_of(AK_FORMAT_AVRO);
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&cfg, &err));
    assert_non_null(strstr(err.message, "schema"));

    cfg.schema = "{\"type\":\"recrd\"}";
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&cfg, &err));
    assert_non_null(strstr(err.message, "not a valid Avro schema"));

    cfg.schema = "\"string\"";
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&cfg, &err));
    assert_non_null(strstr(err.message, "map or record"));
}

/* ------------------------------------------------------------ doubles */

/* The significant digits of the shortest decimal that reads back as d,
 * found the slow, obvious way: printf with 1, 2, ... 17 digits. */
static void reference_shortest_digits(double d, char *digits, int *exp10)
{
    char tmp[48];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    size_t n = 0;
    const char *c = tmp;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9')
            digits[n++] = *c;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *exp10 = atoi(c + 1);
}

/* The same digits read off our text (plain or E notation). */
static void printed_digits(const char *s, char *digits, int *exp10)
{
    size_t n = 0;
    int point = -1, first = -1, pos = 0;
    const char *c = s;
    if (*c == '-')
        c++;
    for (; *c && *c != 'E'; c++) {
        if (*c == '.') {
            point = pos;
            continue;
        }
        if (first < 0 && *c == '0')
            { pos++; continue; }
        if (first < 0)
            first = pos;
        digits[n++] = *c;
        pos++;
    }
    if (point < 0)
        point = pos;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *exp10 = point - first - 1 + (*c == 'E' ? atoi(c + 1) : 0);
}

/* Base64 (RFC 4648, padded) the obvious way, to check the table-driven one. */
static void reference_base64(const uint8_t *s, size_t len, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < len)
            v |= s[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = i + 1 < len ? a[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? a[v & 63] : '=';
    }
    out[o] = '\0';
}

static void test_blobs_and_strings_escape_as_json_requires(void **state)
{
    (void)state;
    uint64_t x = 0x853C49E6748FEA9BULL;
    for (size_t len = 0; len < 200; len++) {
        uint8_t data[200];
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            data[i] = (uint8_t)x;
        }
        char want[300];
        reference_base64(data, len, want);
        ak_buf_t out;
        ak_buf_init(&out);
        ak_json_base64(&out, data, len);
        if (out.len != strlen(want) + 2 || memcmp(out.data + 1, want, strlen(want)) != 0)
            fail_msg("base64 of %zu bytes: %.*s, expected \"%s\"", len, (int)out.len, (const char *)out.data, want);
        ak_buf_free(&out);
    }
    /* every ASCII byte: plain ones as they are, the rest escaped */
    char all[128];
    for (int c = 0; c < 128; c++)
        all[c] = (char)c;
    ak_buf_t out;
    ak_buf_init(&out);
    ak_json_string(&out, all + 1, 127);
    const char *want = "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
                       "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b"
                       "\\u001c\\u001d\\u001e\\u001f !\\\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\"";
    if (out.len != strlen(want) || memcmp(out.data, want, out.len) != 0)
        fail_msg("got %.*s\nwant %s", (int)out.len, (const char *)out.data, want);
    ak_buf_free(&out);
}

static void test_integers_print_as_printf_does(void **state)
{
    (void)state;
    int64_t fixed[] = {0, 1, 9, 10, 99, 100, 101, 999, 1000, -1, -9, -10, -99, -100, INT64_MAX, INT64_MIN,
                       1234567890123456789LL, -1000000000000000000LL};
    uint64_t x = 0x2545F4914F6CDD1DULL;
    for (size_t i = 0; i < 100000; i++) {
        int64_t v;
        if (i < sizeof fixed / sizeof fixed[0]) {
            v = fixed[i];
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v = (int64_t)(x >> (x % 64)); /* every length */
            if (i % 2)
                v = -v;
        }
        ak_buf_t out;
        ak_buf_init(&out);
        ak_json_int(&out, v);
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)v);
        if (out.len != strlen(want) || memcmp(out.data, want, out.len) != 0)
            fail_msg("%s printed as %.*s", want, (int)out.len, (const char *)out.data);
        ak_buf_free(&out);
    }
}

static void test_doubles_print_the_fewest_digits_that_read_back(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        if (i % 3 == 0) {
            memcpy(&d, &x, sizeof d); /* any bit pattern */
            if (isnan(d) || isinf(d) || d == 0)
                continue;
        } else {
            /* full-precision values in the plain range, as sensors send */
            static const double scale[] = {1e-3, 1e-2, 0.1, 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7};
            d = (double)(x >> 11) / 9007199254740992.0 * scale[(x >> 3) % 11];
            if (d == 0)
                continue;
        }
        char s[32], want[24], got[24];
        int want_exp, got_exp;
        ak_format_double_text(d, s);
        reference_shortest_digits(fabs(d), want, &want_exp);
        printed_digits(s, got, &got_exp);
        if (strcmp(want, got) != 0 || want_exp != got_exp)
            fail_msg("%a (%.17g) printed as %s: digits %s e%d, shortest is %s e%d", d, d, s, got, got_exp, want,
                     want_exp);
    }
}

/* The key-text cache must write exactly what escaping each time writes,
 * for names that need escapes or replacement characters, names too long to
 * keep, names whose text is too long to keep, and more names than slots
 * (collisions replace entries), on first sight and on every later hit. */
static void test_json_key_cache_writes_what_escaping_writes(void **state)
{
    (void)state;
    ak_json_key_cache_t *cache = calloc(1, sizeof *cache);
    assert_non_null(cache);
    static const char *const fixed[] = {
        "b0", "name", "with \"quote\"", "back\\slash", "tab\there", "ctl\x01\x1f", "caf\xc3\xa9",
        "bad\xff\xfeutf8", "\n\n\n\n\n\n\n\n\n\n\n", /* escaped text longer than a slot */
        "exactly-thirty-two-bytes-long-xx", "thirty-three-bytes-long-name-xxxx", "a much longer bin name than Aerospike allows, renamed by a transform",
    };
    char many[600][16];
    for (int i = 0; i < 600; i++)
        snprintf(many[i], sizeof many[i], "bin%d", i);
    ak_buf_t got, want;
    ak_buf_init(&got);
    ak_buf_init(&want);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] + 600; i++) {
            const char *name = i < sizeof fixed / sizeof fixed[0] ? fixed[i] : many[i - sizeof fixed / sizeof fixed[0]];
            size_t len = strlen(name);
            ak_buf_clear(&got);
            ak_buf_clear(&want);
            ak_buf_append(&got, "x", 1); /* keys are written after other text */
            ak_buf_append(&want, "x", 1);
            ak_json_key(cache, &got, name, len);
            ak_json_string(&want, name, len);
            ak_buf_append(&want, ":", 1);
            if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0)
                fail_msg("round %d, name '%s': cache wrote %.*s, escaping writes %.*s", round, name, (int)got.len,
                         (const char *)got.data, (int)want.len, (const char *)want.data);
        }
    }
    /* a name that is a prefix of a cached one is its own key */
    ak_buf_clear(&got);
    ak_json_key(cache, &got, "name", 2);
    assert_int_equal(got.len, 5);
    assert_memory_equal(got.data, "\"na\":", 5);
    ak_buf_free(&got);
    ak_buf_free(&want);
    free(cache);
}

/* Doubles at and around powers of two (whose lower neighbour is closer)
 * print the shortest digits too. */
static void test_doubles_near_powers_of_two_print_shortest(void **state)
{
    (void)state;
    for (int e = -12; e <= 24; e++) {
        double p = ldexp(1.0, e);
        double around[] = {p, nextafter(p, 0), nextafter(p, INFINITY), p * 3, p * 1.5};
        for (size_t i = 0; i < sizeof around / sizeof around[0]; i++) {
            char s[32], want[24], got[24];
            int want_exp, got_exp;
            ak_format_double_text(around[i], s);
            reference_shortest_digits(around[i], want, &want_exp);
            printed_digits(s, got, &got_exp);
            if (strcmp(want, got) != 0 || want_exp != got_exp)
                fail_msg("%a printed as %s: digits %s e%d, shortest is %s e%d", around[i], s, got, got_exp, want,
                         want_exp);
        }
    }
}

static void test_doubles_print_shortest_round_trip_as_java_does(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *text;
    } cases[] = {
        {2.5, "2.5"},
        {0.1, "0.1"},
        {1.0, "1.0"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {100.0, "100.0"},
        {9999999.0, "9999999.0"},
        {1e7, "1.0E7"},
        {1e10, "1.0E10"},
        {12345678.9, "1.23456789E7"},
        {123456.789, "123456.789"},
        {0.001, "0.001"},
        {0.0001, "1.0E-4"},
        {-3.1415, "-3.1415"},
        {0.30000000000000004, "0.30000000000000004"},
        {1.7976931348623157e308, "1.7976931348623157E308"},
        {4.9e-324, "4.9E-324"},
        {2.2250738585072014e-308, "2.2250738585072014E-308"},
        {-1e-5, "-1.0E-5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char s[32];
        ak_format_double_text(cases[i].d, s);
        if (strcmp(s, cases[i].text) != 0)
            fail_msg("%.17g: expected %s, got %s", cases[i].d, cases[i].text, s);
    }
    /* Random bit patterns read back exactly. */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (isnan(d) || isinf(d))
            continue;
        char s[32];
        ak_format_double_text(d, s);
        if (strtod(s, NULL) != d)
            fail_msg("%a printed as %s does not read back", d, s);
    }
    /* Short decimals m / 10^k print with no more digits than m has. */
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t m = x % 1000000000000000ULL;
        int k = (int)((x >> 50) % 18);
        char in[48], s[32];
        snprintf(in, sizeof in, "%llue-%d", (unsigned long long)m, k);
        double d = strtod(in, NULL);
        ak_format_double_text(d, s);
        if (strtod(s, NULL) != d)
            fail_msg("%s printed as %s does not read back", in, s);
        /* significant digits printed (leading and trailing zeros aside) vs m's */
        char sig[32];
        size_t n_sig = 0;
        for (const char *p = s; *p && *p != 'E'; p++)
            if ((*p >= '1' && *p <= '9') || (*p == '0' && n_sig))
                sig[n_sig++] = *p;
        while (n_sig && sig[n_sig - 1] == '0')
            n_sig--;
        uint64_t v = m;
        while (v && v % 10 == 0)
            v /= 10;
        size_t m_sig = 0;
        for (; v; v /= 10)
            m_sig++;
        if (m && n_sig > m_sig)
            fail_msg("%s printed as %s: more digits than needed", in, s);
    }
    /* NaN and infinities are strings in JSON (Jackson's default). */
    ak_buf_t out;
    ak_buf_init(&out);
    ak_format_config_t cfg = config_of(AK_FORMAT_FLAT_JSON);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_record_t rec = sample_record(AK_RECORD_WRITE);
    ak_bin_t bins[3] = {bin_of("n", ak_value_double(NAN)), bin_of("p", ak_value_double(INFINITY)),
                        bin_of("m", ak_value_double(-INFINITY))};
    rec.bins = bins;
    rec.n_bins = 3;
    ak_error_t err;
    akt_assert_ok(format_rec(fmt, &rec, -1, &out, &err), &err);
    char *text = text_of(&out);
    assert_non_null(strstr(text, "\"n\":\"NaN\",\"p\":\"Infinity\",\"m\":\"-Infinity\"}"));
    free(text);
    ak_formatter_free(fmt);
    ak_buf_free(&out);
}

/* ------------------------------------------------------------ flat-json */

static void test_flat_json_reproduces_the_real_connector_samples(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_FLAT_JSON);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;

    ak_record_t rec = sample_record(AK_RECORD_WRITE);
    akt_assert_ok(format_rec(fmt, &rec, 1701178936, &out, &err), &err);
    assert_text(&out, "{\"metadata\":{\"namespace\":\"test\",\"set\":\"demo\",\"userKey\":123,"
                      "\"digest\":\"WVp7Y+sYXb69hCVTpEgCsaMOwVk=\",\"msg\":\"write\",\"gen\":1,"
                      "\"lut\":1698586936461,\"exp\":1701178936},"
                      "\"tval\":\"test-value-ankush-first\"}");

    rec = sample_record(AK_RECORD_DELETE);
    akt_assert_ok(format_rec(fmt, &rec, -1, &out, &err), &err);
    assert_text(&out, "{\"metadata\":{\"namespace\":\"test\",\"set\":\"demo\",\"userKey\":123,"
                      "\"digest\":\"WVp7Y+sYXb69hCVTpEgCsaMOwVk=\",\"msg\":\"delete\",\"gen\":2,"
                      "\"lut\":1698643829757}}");
    check_data("flat-json-delete.json", &out);

    rec.op = AK_RECORD_DURABLE_DELETE;
    akt_assert_ok(format_rec(fmt, &rec, -1, &out, &err), &err);
    check_data("flat-json-delete-durable.json", &out);
    char *text = text_of(&out);
    assert_non_null(strstr(text, ",\"lut\":1698643829757,\"durable\":true}}"));
    free(text);

    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static void test_flat_json_writes_every_value_type(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_FLAT_JSON);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = all_types_record();
    akt_assert_ok(format_rec(fmt, &rec, 0, &out, &err), &err);
    assert_valid_json(&out);
    check_data("flat-json-write.json", &out);
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static void test_flat_json_leaves_out_what_was_not_shipped(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_FLAT_JSON);
    cfg.metadata_key = "m";
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = sample_record(AK_RECORD_WRITE);
    rec.set = str_of("");
    rec.has_key = false;
    rec.has_lut = false;
    rec.n_bins = 0;
    akt_assert_ok(format_rec(fmt, &rec, -1, &out, &err), &err);
    assert_text(&out, "{\"m\":{\"namespace\":\"test\",\"digest\":\"WVp7Y+sYXb69hCVTpEgCsaMOwVk=\","
                      "\"msg\":\"write\",\"gen\":1}}");
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static void test_flat_json_bin_named_like_metadata_key_fails(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_FLAT_JSON);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = sample_record(AK_RECORD_WRITE);
    ak_bin_t bins[1] = {bin_of("metadata", ak_value_int(1))};
    rec.bins = bins;
    rec.n_bins = 1;
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.message, "bin 'metadata'"));
    assert_int_equal(out.len, 0);
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

/* ------------------------------------------------------------ json */

static void test_json_reproduces_the_real_connector_sample(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_JSON);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec;
    ak_record_init(&rec);
    rec.op = AK_RECORD_WRITE;
    rec.ns = str_of("test");
    set_digest(&rec, "d84a518b230c56139fea75785c1aff3c5a1f6416");
    rec.generation = 1;
    rec.has_lut = true;
    rec.lut_ms = 1635778671921ULL;
    ak_bin_t bins[2] = {bin_of("a", ak_value_string("aaa")), bin_of("b", ak_value_int(124))};
    rec.bins = bins;
    rec.n_bins = 2;
    akt_assert_ok(format_rec(fmt, &rec, 0, &out, &err), &err);
    assert_text(&out, "{\"msg\":\"write\",\"key\":[\"test\",null,\"2EpRiyMMVhOf6nV4XBr/PFofZBY=\","
                      "null],\"gen\":1,\"exp\":0,\"lut\":1635778671921,\"bins\":[{\"name\":\"a\","
                      "\"type\":\"str\",\"value\":\"aaa\"},{\"name\":\"b\",\"type\":\"int\","
                      "\"value\":124}]}");
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static void test_json_writes_every_value_type_and_deletes(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_JSON);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = all_types_record();
    akt_assert_ok(format_rec(fmt, &rec, 1701178936, &out, &err), &err);
    assert_valid_json(&out);
    check_data("json-write.json", &out);

    rec = sample_record(AK_RECORD_DELETE);
    akt_assert_ok(format_rec(fmt, &rec, -1, &out, &err), &err);
    check_data("json-delete.json", &out);
    rec.op = AK_RECORD_DURABLE_DELETE;
    akt_assert_ok(format_rec(fmt, &rec, -1, &out, &err), &err);
    check_data("json-delete-durable.json", &out);
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static void test_json_2019_spec_bins(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_JSON);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = sample_record(AK_RECORD_WRITE);
    ak_value_t items[2] = {ak_value_string("abc"), ak_value_string("def")};
    ak_value_t entries[4] = {ak_value_string("i"), ak_value_int(42), ak_value_string("f"),
                             ak_value_double(3.1415)};
    ak_value_t list = ak_value_list(items, 2);
    list.subtype = 1;
    const char *geo = "{\"type\":\"Point\",\"coordinates\":[1.3,103.9]}";
    ak_bin_t bins[3] = {
        bin_of("myList", list),
        bin_of("myMap", ak_value_map(entries, 2, 3)),
        bin_of("myGeo", ak_value_bytes_of(AK_VALUE_GEOJSON, AK_PARTICLE_GEOJSON, geo, strlen(geo))),
    };
    rec.bins = bins;
    rec.n_bins = 3;
    akt_assert_ok(format_rec(fmt, &rec, 0, &out, &err), &err);
    char *text = text_of(&out);
    assert_non_null(strstr(text, "{\"name\":\"myList\",\"type\":\"list\",\"value\":[\"abc\",\"def\"],"
                                 "\"ordered\":true}"));
    assert_non_null(strstr(text, "{\"name\":\"myMap\",\"type\":\"map\",\"value\":{\"i\":42,"
                                 "\"f\":3.1415},\"order\":\"key-value\"}"));
    assert_non_null(strstr(text, "{\"name\":\"myGeo\",\"type\":\"geojson\",\"value\":{\"type\":"
                                 "\"Point\",\"coordinates\":[1.3,103.9]}}"));
    free(text);
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static void test_user_key_types_in_json_formats(void **state)
{
    (void)state;
    static const uint8_t key_bytes[] = {0xde, 0xad, 0xbe, 0xef};
    struct {
        ak_value_t key;
        const char *json;
    } cases[] = {
        {ak_value_int(-7), "-7"},
        {ak_value_double(0.5), "0.5"},
        {ak_value_string("k\"1"), "\"k\\\"1\""},
        {ak_value_blob(key_bytes, 4), "\"3q2+7w==\""},
    };
    ak_format_config_t jcfg = config_of(AK_FORMAT_JSON);
    ak_format_config_t fcfg = config_of(AK_FORMAT_FLAT_JSON);
    ak_formatter_t *json = new_formatter(&jcfg);
    ak_formatter_t *flat = new_formatter(&fcfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    for (size_t i = 0; i < 4; i++) {
        ak_record_t rec = sample_record(AK_RECORD_DELETE);
        rec.key = cases[i].key;
        char expected[256];
        akt_assert_ok(format_rec(json, &rec, -1, &out, &err), &err);
        snprintf(expected, sizeof expected,
                 "{\"msg\":\"delete\",\"key\":[\"test\",\"demo\",\"WVp7Y+sYXb69hCVTpEgCsaMOwVk=\","
                 "%s],\"gen\":2,\"lut\":1698643829757,\"durable\":false}",
                 cases[i].json);
        assert_text(&out, expected);
        akt_assert_ok(format_rec(flat, &rec, -1, &out, &err), &err);
        snprintf(expected, sizeof expected,
                 "{\"metadata\":{\"namespace\":\"test\",\"set\":\"demo\",\"userKey\":%s,"
                 "\"digest\":\"WVp7Y+sYXb69hCVTpEgCsaMOwVk=\",\"msg\":\"delete\",\"gen\":2,"
                 "\"lut\":1698643829757}}",
                 cases[i].json);
        assert_text(&out, expected);
    }
    ak_buf_free(&out);
    ak_formatter_free(json);
    ak_formatter_free(flat);
}

static void test_digest_is_computed_when_the_record_has_only_a_key(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_FLAT_JSON);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out, key;
    ak_buf_init(&out);
    ak_buf_init(&key);
    ak_error_t err;
    ak_record_t rec = sample_record(AK_RECORD_DELETE);
    rec.has_digest = false;
    rec.set = str_of("set");
    rec.key = ak_value_string("s");
    ak_format_input_t in = {&rec, "t", -1};
    akt_assert_ok(ak_format_record(fmt, &in, &out, &key, &err), &err);
    akt_assert_buf_hex(&key, "607cddba7cd111745ef0a3d783d57f0e83c8f311"); /* README's example */
    rec.has_key = false;
    ak_buf_clear(&out);
    ak_buf_clear(&key);
    akt_assert_status(ak_format_record(fmt, &in, &out, &key, &err), AK_ERR_INVALID_ARG, &err);
    ak_buf_free(&out);
    ak_buf_free(&key);
    ak_formatter_free(fmt);
}

static void test_stringify_map_keys(void **state)
{
    (void)state;
    ak_value_t entries[4] = {ak_value_int(-5), ak_value_string("int"), ak_value_double(0.25),
                             ak_value_string("double")};
    ak_value_t blob_key[2] = {ak_value_blob(blob_bytes, 2), ak_value_int(1)};
    ak_record_t rec = sample_record(AK_RECORD_WRITE);
    ak_bin_t bins[1];
    rec.bins = bins;
    rec.n_bins = 1;
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    for (int mode = 0; mode < 2; mode++) {
        ak_format_config_t cfg = config_of(mode ? AK_FORMAT_FLAT_JSON : AK_FORMAT_JSON);
        ak_formatter_t *fmt = new_formatter(&cfg);
        bins[0] = bin_of("m", ak_value_map(entries, 2, 0));
        akt_assert_ok(format_rec(fmt, &rec, 0, &out, &err), &err);
        char *text = text_of(&out);
        assert_non_null(strstr(text, "{\"-5\":\"int\",\"0.25\":\"double\"}"));
        free(text);
        bins[0] = bin_of("bm", ak_value_map(blob_key, 1, 0));
        akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
        assert_non_null(strstr(err.message, "bin 'bm'"));
        assert_non_null(strstr(err.message, "blob"));
        ak_formatter_free(fmt);

        cfg.stringify_map_keys = false;
        fmt = new_formatter(&cfg);
        bins[0] = bin_of("m", ak_value_map(entries, 2, 0));
        akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
        assert_non_null(strstr(err.message, "bin 'm'"));
        assert_non_null(strstr(err.message, "stringify-map-keys"));
        assert_int_equal(out.len, 0);
        ak_formatter_free(fmt);
    }
    ak_buf_free(&out);
}

static void test_invalid_geojson_fails_naming_the_bin(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_JSON);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = sample_record(AK_RECORD_WRITE);
    const char *bad = "{\"type\":\"Point\",";
    ak_bin_t bins[1] = {
        bin_of("g", ak_value_bytes_of(AK_VALUE_GEOJSON, AK_PARTICLE_GEOJSON, bad, strlen(bad)))};
    rec.bins = bins;
    rec.n_bins = 1;
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.message, "bin 'g'"));
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

/* ------------------------------------------------------------ message-pack */

/* A MessagePack value as text that shows each type: "str", h'bin',
 * ext(N, h'..'), integers, doubles as Java prints them, [..], {k: v}. */
static void mp_print(ak_buf_t *o, const msgpack_object *obj)
{
    char tmp[64];
    switch (obj->type) {
    case MSGPACK_OBJECT_NIL: ak_buf_append_str(o, "nil"); break;
    case MSGPACK_OBJECT_BOOLEAN: ak_buf_append_str(o, obj->via.boolean ? "true" : "false"); break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)obj->via.u64);
        ak_buf_append_str(o, tmp);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(tmp, sizeof tmp, "%lld", (long long)obj->via.i64);
        ak_buf_append_str(o, tmp);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        ak_buf_append_str(o, obj->type == MSGPACK_OBJECT_FLOAT32 ? "f32:" : "");
        ak_format_double_text(obj->via.f64, tmp);
        ak_buf_append_str(o, tmp);
        break;
    case MSGPACK_OBJECT_STR:
        ak_buf_append_byte(o, '"');
        for (uint32_t i = 0; i < obj->via.str.size; i++) {
            uint8_t c = (uint8_t)obj->via.str.ptr[i];
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) {
                snprintf(tmp, sizeof tmp, "\\x%02x", c);
                ak_buf_append_str(o, tmp);
            } else {
                ak_buf_append_byte(o, c);
            }
        }
        ak_buf_append_byte(o, '"');
        break;
    case MSGPACK_OBJECT_BIN:
    case MSGPACK_OBJECT_EXT: {
        const char *ptr = obj->type == MSGPACK_OBJECT_BIN ? obj->via.bin.ptr : obj->via.ext.ptr;
        uint32_t size = obj->type == MSGPACK_OBJECT_BIN ? obj->via.bin.size : obj->via.ext.size;
        if (obj->type == MSGPACK_OBJECT_EXT) {
            snprintf(tmp, sizeof tmp, "ext(%d, ", (int)obj->via.ext.type);
            ak_buf_append_str(o, tmp);
        }
        char *hex = akt_to_hex((const uint8_t *)ptr, size);
        ak_buf_append_str(o, "h'");
        ak_buf_append_str(o, hex);
        ak_buf_append_str(o, obj->type == MSGPACK_OBJECT_EXT ? "')" : "'");
        free(hex);
        break;
    }
    case MSGPACK_OBJECT_ARRAY:
        ak_buf_append_byte(o, '[');
        for (uint32_t i = 0; i < obj->via.array.size; i++) {
            if (i)
                ak_buf_append_str(o, ", ");
            mp_print(o, &obj->via.array.ptr[i]);
        }
        ak_buf_append_byte(o, ']');
        break;
    case MSGPACK_OBJECT_MAP:
        ak_buf_append_byte(o, '{');
        for (uint32_t i = 0; i < obj->via.map.size; i++) {
            if (i)
                ak_buf_append_str(o, ", ");
            mp_print(o, &obj->via.map.ptr[i].key);
            ak_buf_append_str(o, ": ");
            mp_print(o, &obj->via.map.ptr[i].val);
        }
        ak_buf_append_byte(o, '}');
        break;
    }
}

/* Decodes exactly one MessagePack value and returns mp_print's text. */
static char *msgpack_text(const ak_buf_t *buf)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&u, (const char *)buf->data, buf->len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, buf->len);
    ak_buf_t o;
    ak_buf_init(&o);
    mp_print(&o, &u.data);
    ak_buf_append_byte(&o, 0);
    msgpack_unpacked_destroy(&u);
    if (getenv("AK_FORMAT_DEBUG"))
        fprintf(stderr, "msgpack: %s\n", (char *)o.data);
    return (char *)o.data;
}

/* what message-pack-write.hex holds, as mp_print shows it */
#define MSGPACK_WRITE_TEXT \
    "[1, 1, [[\"test\", \"demo\", h'595a7b63eb185dbebd842553a44802b1a30ec159', \"user-1\"], 3" \
    ", 0, 1698586936461, [[\"str\", 3, 0, \"h\\xc3\\xa9llo \\x22w\\x22\\x0a\\x01\\xef\\xbf\\x" \
    "bd\"], [\"int\", 1, 0, 124], [\"neg\", 1, 0, -9223372036854775808], [\"dbl\", 2, 0, 2.5]" \
    ", [\"big\", 2, 0, 1.0E10], [\"bool\", 17, 0, true], [\"nil\", 0, 0, nil], [\"blob\", 4, " \
    "0, h'010203ff'], [\"java\", 7, 0, h'aced0005'], [\"hll\", 18, 0, h'000102'], [\"geo\", 2" \
    "3, 0, \"{ \\x22type\\x22: \\x22Point\\x22, \\x22coordinates\\x22: [1.3, 103.9] }\"], [\"" \
    "list\", 20, 1, [\"abc\", 42, [1.5, nil], {\"k\": true}]], [\"ulist\", 20, 0, [h'0102', e" \
    "xt(7, h'aced0005'), ext(23, h'7b2274797065223a22506f696e74222c22636f6f7264696e6174657322" \
    "3a5b302c305d7d'), ext(18, h'000102')]], [\"kmap\", 19, 1, {1: \"one\", 2.5: \"two and a " \
    "half\"}], [\"kvmap\", 19, 3, {\"i\": 42, \"f\": 3.1415}], [\"umap\", 19, 0, {\"a\": [1, " \
    "-2]}]]]]"

static void test_message_pack_writes_every_value_type_and_deletes(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_MESSAGE_PACK);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = all_types_record();
    akt_assert_ok(format_rec(fmt, &rec, 0, &out, &err), &err);
    check_data("message-pack-write.hex", &out);
    char *text = msgpack_text(&out);
    assert_string_equal(text, MSGPACK_WRITE_TEXT);
    free(text);

    rec = sample_record(AK_RECORD_DELETE);
    akt_assert_ok(format_rec(fmt, &rec, -1, &out, &err), &err);
    check_data("message-pack-delete.hex", &out);
    text = msgpack_text(&out);
    assert_string_equal(text, "[1, 2, [[\"test\", \"demo\", h'" SAMPLE_DIGEST_HEX "', 123], 0]]");
    free(text);
    rec.op = AK_RECORD_DURABLE_DELETE;
    akt_assert_ok(format_rec(fmt, &rec, -1, &out, &err), &err);
    check_data("message-pack-delete-durable.hex", &out);
    text = msgpack_text(&out);
    assert_string_equal(text, "[1, 2, [[\"test\", \"demo\", h'" SAMPLE_DIGEST_HEX "', 123], 1]]");
    free(text);
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static void test_message_pack_nil_for_what_was_not_shipped(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_MESSAGE_PACK);
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = sample_record(AK_RECORD_WRITE);
    rec.set = str_of("");
    rec.has_key = false;
    rec.has_lut = false;
    rec.n_bins = 0;
    akt_assert_ok(format_rec(fmt, &rec, -1, &out, &err), &err);
    akt_assert_buf_hex(&out, "93 01 01 95 94 a4 74657374 c0 c4 14 " SAMPLE_DIGEST_HEX
                             " c0 01 c0 c0 90");
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

/* ------------------------------------------------------------ avro */

static const char person_schema[] =
    "{\"type\":\"record\",\"name\":\"Person\",\"namespace\":\"test.aerokafka\",\"fields\":["
    "{\"name\":\"meta\",\"type\":{\"type\":\"record\",\"name\":\"Metadata\",\"fields\":["
    "{\"name\":\"namespace\",\"type\":\"string\"},"
    "{\"name\":\"set\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"userKey\",\"type\":[\"null\",\"long\",\"double\",\"string\",\"bytes\"]},"
    "{\"name\":\"digest\",\"type\":{\"type\":\"fixed\",\"name\":\"Digest\",\"size\":20}},"
    "{\"name\":\"msg\",\"type\":\"string\"},"
    "{\"name\":\"gen\",\"type\":\"int\"},"
    "{\"name\":\"lut\",\"type\":[\"null\",\"long\"]},"
    "{\"name\":\"exp\",\"type\":[\"null\",\"int\"]}]}},"
    "{\"name\":\"name\",\"type\":\"string\"},"
    "{\"name\":\"age\",\"type\":\"int\"},"
    "{\"name\":\"score\",\"type\":\"double\"},"
    "{\"name\":\"active\",\"type\":\"boolean\"},"
    "{\"name\":\"photo\",\"type\":[\"null\",\"bytes\"]},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
    "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":[\"long\",\"string\"]}},"
    "{\"name\":\"color\",\"type\":{\"type\":\"enum\",\"name\":\"Color\",\"symbols\":[\"RED\","
    "\"GREEN\"]}},"
    "{\"name\":\"address\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Address\","
    "\"fields\":[{\"name\":\"city\",\"type\":\"string\"},{\"name\":\"zip\",\"type\":\"long\"}]}]},"
    "{\"name\":\"nickname\",\"type\":[\"null\",\"string\"],\"default\":null}]}";

static ak_value_t person_tags[2], person_attrs[4], person_address[4];
static ak_bin_t person_bins[9];

static ak_record_t person_record(void)
{
    ak_record_t rec = sample_record(AK_RECORD_WRITE);
    person_tags[0] = ak_value_string("a");
    person_tags[1] = ak_value_string("b");
    person_attrs[0] = ak_value_string("x");
    person_attrs[1] = ak_value_int(1);
    person_attrs[2] = ak_value_int(7);
    person_attrs[3] = ak_value_string("seven");
    person_address[0] = ak_value_string("city");
    person_address[1] = ak_value_string("Oslo");
    person_address[2] = ak_value_string("zip");
    person_address[3] = ak_value_int(150);
    int n = 0;
    person_bins[n++] = bin_of("name", ak_value_string("Ann"));
    person_bins[n++] = bin_of("age", ak_value_int(42));
    person_bins[n++] = bin_of("score", ak_value_int(97)); /* promoted to double */
    person_bins[n++] = bin_of("active", ak_value_bool(true));
    person_bins[n++] = bin_of("photo", ak_value_blob(blob_bytes, 4));
    person_bins[n++] = bin_of("tags", ak_value_list(person_tags, 2));
    person_bins[n++] = bin_of("attrs", ak_value_map(person_attrs, 2, 0));
    person_bins[n++] = bin_of("color", ak_value_string("GREEN"));
    person_bins[n++] = bin_of("address", ak_value_map(person_address, 2, 0));
    rec.bins = person_bins;
    rec.n_bins = (uint32_t)n;
    return rec;
}

/* Decodes Avro binary with schema_text and returns avro-c's JSON form. */
static char *avro_decode_json(const char *schema_text, const uint8_t *data, size_t len)
{
    avro_schema_t schema;
    assert_int_equal(avro_schema_from_json_length(schema_text, strlen(schema_text), &schema), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t value;
    assert_int_equal(avro_generic_value_new(iface, &value), 0);
    avro_reader_t reader = avro_reader_memory((const char *)data, (int64_t)len);
    if (avro_value_read(reader, &value) != 0)
        fail_msg("avro_value_read: %s", avro_strerror());
    char *json = NULL;
    assert_int_equal(avro_value_to_json(&value, 1, &json), 0);
    avro_reader_free(reader);
    avro_value_decref(&value);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
    return json;
}

static const char delete_schema_text[] =
    "{\"type\":\"record\",\"name\":\"AerospikeOutboundDelete\","
    "\"namespace\":\"com.aerospike.connect\",\"fields\":["
    "{\"name\":\"namespace\",\"type\":\"string\"},"
    "{\"name\":\"set\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"userKey\",\"type\":[\"null\",\"long\",\"double\",\"string\",\"bytes\"],"
    "\"default\":null},"
    "{\"name\":\"digest\",\"type\":\"bytes\"},"
    "{\"name\":\"msg\",\"type\":\"string\"},"
    "{\"name\":\"gen\",\"type\":\"int\"},"
    "{\"name\":\"lut\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"durable\",\"type\":\"boolean\"}]}";

static const char person_json[] =
    "{\"meta\": {\"namespace\": \"test\", \"set\": {\"string\": \"demo\"}, \"userKey\": "
    "{\"long\": 123}, \"digest\": \"YZ{c\\u00EB\\u0018]\\u00BE\\u00BD\\u0084%S\\u00A4H\\u0002"
    "\\u00B1\\u00A3\\u000E\\u00C1Y\", \"msg\": \"write\", \"gen\": 1, \"lut\": {\"long\": "
    "1698586936461}, \"exp\": {\"int\": 1701178936}}, \"name\": \"Ann\", \"age\": 42, "
    "\"score\": 97.0, \"active\": true, \"photo\": {\"bytes\": \"\\u0001\\u0002\\u0003\\u00FF\"}, "
    "\"tags\": [\"a\", \"b\"], \"attrs\": {\"x\": {\"long\": 1}, \"7\": {\"string\": \"seven\"}}, "
    "\"color\": \"GREEN\", \"address\": {\"Address\": {\"city\": \"Oslo\", "
    "\"zip\": 150}}, \"nickname\": null}";

static const char delete_json[] =
    "{\"namespace\": \"test\", \"set\": {\"string\": \"demo\"}, \"userKey\": {\"long\": 123}, "
    "\"digest\": \"YZ{c\\u00EB\\u0018]\\u00BE\\u00BD\\u0084%S\\u00A4H\\u0002\\u00B1\\u00A3"
    "\\u000E\\u00C1Y\", \"msg\": \"delete\", \"gen\": 2, \"lut\": {\"long\": 1698643829757}, "
    "\"durable\": true}";

static void assert_avro_json(const char *schema, const uint8_t *data, size_t len,
                             const char *expected)
{
    char *json = avro_decode_json(schema, data, len);
    if (strcmp(json, expected) != 0) {
        fprintf(stderr, "expected: %s\nactual:   %s\n", expected, json);
        fail();
    }
    free(json);
}

static void test_avro_record_schema_round_trips(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_AVRO);
    cfg.schema = (char *)person_schema;
    cfg.metadata_key = "meta";
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = person_record();
    for (int round = 0; round < 2; round++) { /* the generic value is reused */
        akt_assert_ok(format_rec(fmt, &rec, 1701178936, &out, &err), &err);
        check_data("avro-write.hex", &out);
        assert_avro_json(person_schema, out.data, out.len, person_json);
    }
    ak_record_t del = sample_record(AK_RECORD_DURABLE_DELETE);
    akt_assert_ok(format_rec(fmt, &del, -1, &out, &err), &err);
    check_data("avro-delete.hex", &out);
    assert_avro_json(delete_schema_text, out.data, out.len, delete_json);
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static const char map_schema[] =
    "{\"type\":\"map\",\"values\":[\"null\",\"boolean\",\"long\",\"double\",\"string\",\"bytes\","
    "{\"type\":\"array\",\"items\":[\"null\",\"long\",\"double\",\"string\",{\"type\":\"map\","
    "\"values\":\"boolean\"},{\"type\":\"array\",\"items\":[\"null\",\"double\"]}]},"
    "{\"type\":\"map\",\"values\":[\"long\",\"double\",\"string\",{\"type\":\"array\","
    "\"items\":\"long\"}]}]}";

/* The bytes branch of map entry name, compared whole. */
static void assert_avro_map_bytes(const char *schema_text, const ak_buf_t *out, const char *name,
                                  const uint8_t *expected, size_t len)
{
    avro_schema_t schema;
    assert_int_equal(avro_schema_from_json_length(schema_text, strlen(schema_text), &schema), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t value, entry, branch;
    assert_int_equal(avro_generic_value_new(iface, &value), 0);
    avro_reader_t reader = avro_reader_memory((const char *)out->data, (int64_t)out->len);
    assert_int_equal(avro_value_read(reader, &value), 0);
    assert_int_equal(avro_value_get_by_name(&value, name, &entry, NULL), 0);
    assert_int_equal(avro_value_get_current_branch(&entry, &branch), 0);
    const void *data = NULL;
    size_t size = 0;
    assert_int_equal(avro_value_get_bytes(&branch, &data, &size), 0);
    akt_assert_bytes_equal(data, size, expected, len);
    avro_reader_free(reader);
    avro_value_decref(&value);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
}

static void test_avro_map_schema_round_trips(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_AVRO);
    cfg.schema = (char *)map_schema;
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t all = all_types_record();
    /* every bin but ulist (language blobs have no place in that array) */
    ak_bin_t bins[16];
    uint32_t n = 0;
    for (uint32_t i = 0; i < all.n_bins; i++)
        if (strcmp(all.bins[i].name.data, "ulist") != 0)
            bins[n++] = all.bins[i];
    all.bins = bins;
    all.n_bins = n;
    akt_assert_ok(format_rec(fmt, &all, 0, &out, &err), &err);
    check_data("avro-map-write.hex", &out);
    /* avro-c prints bytes as C strings: "java" and "hll" stop at their NUL
     * bytes here; avro_bytes_of checks them whole below. */
    assert_avro_json(map_schema, out.data, out.len,
                     "{\"str\": {\"string\": \"h\\u00E9llo \\\"w\\\"\\n\\u0001\\uFFFD\"}, \"int\": {\"long\": "
                     "124}, \"neg\": {\"long\": -9223372036854775808}, \"dbl\": {\"double\": 2.5}, \"big\": {"
                     "\"double\": 10000000000.0}, \"bool\": {\"boolean\": true}, \"nil\": null, \"blob\": {\"b"
                     "ytes\": \"\\u0001\\u0002\\u0003\\u00FF\"}, \"java\": {\"bytes\": \"\\u00AC\\u00ED\"}, \""
                     "hll\": {\"bytes\": \"\"}, \"geo\": {\"string\": \"{ \\\"type\\\": \\\"Point\\\", \\\"coo"
                     "rdinates\\\": [1.3, 103.9] }\"}, \"list\": {\"array\": [{\"string\": \"abc\"}, {\"long\""
                     ": 42}, {\"array\": [{\"double\": 1.5}, null]}, {\"map\": {\"k\": true}}]}, \"kmap\": {\""
                     "map\": {\"1\": {\"string\": \"one\"}, \"2.5\": {\"string\": \"two and a half\"}}}, \"kvm"
                     "ap\": {\"map\": {\"i\": {\"long\": 42}, \"f\": {\"double\": 3.1415000000000002}}}, \"uma"
                     "p\": {\"map\": {\"a\": {\"array\": [1, -2]}}}}");
    assert_avro_map_bytes(map_schema, &out, "java", java_bytes, 4);
    assert_avro_map_bytes(map_schema, &out, "hll", hll_bytes, 3);
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static void test_avro_misfits_name_the_bin_and_the_expected_type(void **state)
{
    (void)state;
    ak_format_config_t cfg = config_of(AK_FORMAT_AVRO);
    cfg.schema = (char *)person_schema;
    ak_formatter_t *fmt = new_formatter(&cfg); /* no metadata-key: meta is an ordinary field */
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = person_record();
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.message, "'meta'")); /* a required field with no bin */
    ak_formatter_free(fmt);

    cfg.metadata_key = "meta";
    fmt = new_formatter(&cfg);
    person_bins[1] = bin_of("age", ak_value_string("old"));
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_string_equal(err.message, "avro: bin 'age': value of type string does not fit the "
                                     "schema type int");

    rec = person_record();
    person_bins[1] = bin_of("age", ak_value_int(1LL << 40));
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.message, "(out of range)"));

    rec = person_record();
    person_bins[4] = bin_of("photo", ak_value_int(5));
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_string_equal(err.message, "avro: bin 'photo': value of type int does not fit the "
                                     "schema type union [null, bytes]");

    rec = person_record();
    person_bins[7] = bin_of("color", ak_value_string("BLUE"));
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.message, "not one of its symbols"));

    rec = person_record();
    person_bins[8] = bin_of("zzz", ak_value_int(1));
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_string_equal(err.message, "avro: bin 'zzz' is not a field of record "
                                     "test.aerokafka.Person");

    rec = person_record();
    rec.n_bins = 8; /* no address: nullable, fine */
    akt_assert_ok(format_rec(fmt, &rec, 0, &out, &err), &err);
    rec.n_bins = 1; /* no age: not nullable */
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.message, "bin 'age' is missing"));
    assert_int_equal(out.len, 0);

    /* an int map key with stringify-map-keys off */
    ak_formatter_free(fmt);
    cfg.stringify_map_keys = false;
    fmt = new_formatter(&cfg);
    rec = person_record();
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.message, "bin 'attrs'"));
    assert_non_null(strstr(err.message, "stringify-map-keys"));
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static void test_avro_config_checks(void **state)
{
    (void)state;
    ak_error_t err;
    ak_format_config_t cfg = config_of(AK_FORMAT_AVRO);
    cfg.schema = (char *)person_schema;
    cfg.metadata_key = "nope";
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&cfg, &err));
    assert_non_null(strstr(err.message, "no field 'nope'"));

    cfg.metadata_key = "name";
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&cfg, &err));
    assert_non_null(strstr(err.message, "must be a record"));

    cfg.schema = (char *)map_schema;
    cfg.metadata_key = "meta";
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&cfg, &err));
    assert_non_null(strstr(err.message, "needs a record schema"));

    cfg.schema = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"m\",\"type\":"
                 "{\"type\":\"record\",\"name\":\"M\",\"fields\":[{\"name\":\"when\",\"type\":"
                 "\"long\"}]}}]}";
    cfg.metadata_key = "m";
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&cfg, &err));
    assert_non_null(strstr(err.message, "'when' is not a metadata name"));

    cfg.schema = (char *)delete_schema_text;
    cfg.metadata_key = NULL;
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&cfg, &err));
    assert_non_null(strstr(err.message, "different names"));
}

/* ------------------------------------------------------------ fake Schema Registry */

#define MAX_SCHEMAS 16

typedef struct registry {
    ak_loop_t *loop;
    pthread_t thread;
    ak_http_server_t *server;
    uint16_t port;
    int refuse_status; /* answer every request with this status when set */
    /* written by the loop thread, read after the request completed */
    int requests;
    char *schemas[MAX_SCHEMAS];
    int n_schemas;
    char subjects[32][160];
    int n_subjects;
} registry_t;

static void registry_handler(void *ctx, ak_http_request_t *req, const ak_http_request_info_t *info)
{
    registry_t *r = ctx;
    __atomic_add_fetch(&r->requests, 1, __ATOMIC_SEQ_CST);
    if (r->refuse_status) {
        const char *body = "{\"error_code\":409,\"message\":\"Schema being registered is "
                           "incompatible with an earlier schema\"}";
        ak_http_respond(req, r->refuse_status, "application/json", body, strlen(body));
        return;
    }
    const char *prefix = "/subjects/";
    const char *suffix = strstr(info->path, "/versions");
    if (strcmp(info->method, "POST") != 0 || strncmp(info->path, prefix, strlen(prefix)) != 0 ||
        !suffix || !info->content_type ||
        strcmp(info->content_type, "application/vnd.schemaregistry.v1+json") != 0) {
        ak_http_respond(req, 404, "application/json", "{\"error_code\":404}", 18);
        return;
    }
    json_t *root = json_loadb((const char *)info->body, info->body_len, 0, NULL);
    const char *schema = json_string_value(json_object_get(root, "schema"));
    avro_schema_t parsed;
    if (!schema || avro_schema_from_json_length(schema, strlen(schema), &parsed) != 0) {
        json_decref(root);
        ak_http_respond(req, 422, "application/json", "{\"error_code\":42201}", 20);
        return;
    }
    avro_schema_decref(parsed);
    int id = 0;
    for (int i = 0; i < r->n_schemas; i++)
        if (strcmp(r->schemas[i], schema) == 0)
            id = i + 1;
    if (!id && r->n_schemas < MAX_SCHEMAS) {
        r->schemas[r->n_schemas] = strdup(schema);
        id = ++r->n_schemas;
    }
    json_decref(root);
    size_t start = strlen(prefix);
    snprintf(r->subjects[r->n_subjects++ % 32], 160, "%.*s", (int)(suffix - info->path - start),
             info->path + start);
    char body[64];
    int n = snprintf(body, sizeof body, "{\"id\":%d}", id);
    ak_http_respond(req, 200, "application/vnd.schemaregistry.v1+json", body, (size_t)n);
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
    for (int i = 0; i < r->n_schemas; i++)
        free(r->schemas[i]);
    free(r);
}

static int registry_requests(registry_t *r)
{
    return __atomic_load_n(&r->requests, __ATOMIC_SEQ_CST);
}

/* A port nothing listens on: bound, then closed. */
static uint16_t closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

typedef struct kafka_avro_cfg {
    ak_format_config_t cfg;
    ak_format_prop_t props[4];
    char url[256];
} kafka_avro_cfg_t;

static void kafka_avro_config(kafka_avro_cfg_t *k, const char *url, const char *strategy)
{
    memset(k, 0, sizeof *k);
    k->cfg = config_of(AK_FORMAT_KAFKA_AVRO);
    k->cfg.schema = (char *)person_schema;
    k->cfg.metadata_key = "meta";
    snprintf(k->url, sizeof k->url, "%s", url);
    size_t n = 0;
    k->props[n++] = (ak_format_prop_t){"schema.registry.url", k->url};
    if (strategy)
        k->props[n++] = (ak_format_prop_t){"value.subject.name.strategy", (char *)strategy};
    k->props[n++] = (ak_format_prop_t){"auto.register.schemas", "true"};
    k->cfg.props = k->props;
    k->cfg.n_props = n;
}

#define RECORD_NAME "io.confluent.kafka.serializers.subject.RecordNameStrategy"
#define TOPIC_RECORD_NAME "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"

static void test_kafka_avro_registers_once_and_frames_like_confluent(void **state)
{
    (void)state;
    registry_t *r = registry_start();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)r->port);
    kafka_avro_cfg_t k;
    kafka_avro_config(&k, url, RECORD_NAME);
    ak_formatter_t *fmt = new_formatter(&k.cfg);
    assert_int_equal(registry_requests(r), 0); /* nothing before the first record */
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = person_record();
    for (int i = 0; i < 3; i++) {
        akt_assert_ok(format_rec(fmt, &rec, 1701178936, &out, &err), &err);
        assert_int_equal(registry_requests(r), 1);
    }
    check_data("kafka-avro-write.hex", &out);
    assert_int_equal(out.data[0], 0);
    assert_int_equal(ak_get_be32(out.data + 1), 1);
    assert_avro_json(person_schema, out.data + 5, out.len - 5, person_json);
    assert_string_equal(r->subjects[0], "test.aerokafka.Person");
    assert_string_equal(r->schemas[0], person_schema);

    ak_record_t del = sample_record(AK_RECORD_DURABLE_DELETE);
    for (int i = 0; i < 2; i++) {
        akt_assert_ok(format_rec(fmt, &del, -1, &out, &err), &err);
        assert_int_equal(registry_requests(r), 2);
    }
    check_data("kafka-avro-delete.hex", &out);
    assert_int_equal(ak_get_be32(out.data + 1), 2);
    assert_avro_json(delete_schema_text, out.data + 5, out.len - 5, delete_json);
    assert_string_equal(r->subjects[1], "com.aerospike.connect.AerospikeOutboundDelete");
    ak_buf_free(&out);
    ak_formatter_free(fmt);
    registry_stop(r);
}

static void test_kafka_avro_topic_record_name_strategy_subjects(void **state)
{
    (void)state;
    registry_t *r = registry_start();
    char url[128];
    /* the first URL is down: the next one in the list is tried */
    snprintf(url, sizeof url, "http://127.0.0.1:%u, http://127.0.0.1:%u/", (unsigned)closed_port(),
             (unsigned)r->port);
    kafka_avro_cfg_t k;
    kafka_avro_config(&k, url, TOPIC_RECORD_NAME);
    ak_formatter_t *fmt = new_formatter(&k.cfg);
    ak_buf_t out, key;
    ak_buf_init(&out);
    ak_buf_init(&key);
    ak_error_t err;
    ak_record_t rec = person_record();
    const char *topics[] = {"orders", "users", "orders"};
    for (int i = 0; i < 3; i++) {
        ak_format_input_t in = {&rec, topics[i], 0};
        ak_buf_clear(&out);
        akt_assert_ok(ak_format_record(fmt, &in, &out, &key, &err), &err);
        assert_int_equal(ak_get_be32(out.data + 1), 1); /* same schema, same id */
    }
    assert_int_equal(r->n_subjects, 2); /* "orders" was cached */
    assert_string_equal(r->subjects[0], "orders-test.aerokafka.Person");
    assert_string_equal(r->subjects[1], "users-test.aerokafka.Person");
    ak_formatter_free(fmt);

    /* registry-topic overrides the routed topic */
    k.cfg.registry_topic = "registry";
    fmt = new_formatter(&k.cfg);
    ak_format_input_t in = {&rec, "orders", 0};
    akt_assert_ok(ak_format_record(fmt, &in, &out, &key, &err), &err);
    assert_string_equal(r->subjects[2], "registry-test.aerokafka.Person");
    ak_buf_free(&out);
    ak_buf_free(&key);
    ak_formatter_free(fmt);
    registry_stop(r);
}

static void test_kafka_avro_rejects_topic_name_strategy(void **state)
{
    (void)state;
    ak_error_t err;
    kafka_avro_cfg_t k;
    kafka_avro_config(&k, "http://127.0.0.1:1", "io.confluent.kafka.serializers.subject."
                                                "TopicNameStrategy");
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&k.cfg, &err));
    assert_non_null(strstr(err.message, "TopicNameStrategy is not allowed"));
    assert_non_null(strstr(err.message, "different schemas"));

    kafka_avro_config(&k, "http://127.0.0.1:1", NULL); /* the serializer's default */
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&k.cfg, &err));
    assert_non_null(strstr(err.message, "value.subject.name.strategy is not set"));

    kafka_avro_config(&k, "http://127.0.0.1:1", RECORD_NAME);
    k.cfg.schema = (char *)map_schema;
    k.cfg.metadata_key = NULL;
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&k.cfg, &err));
    assert_non_null(strstr(err.message, "needs a record schema"));

    kafka_avro_config(&k, "", RECORD_NAME);
    akt_error_reset(&err);
    assert_null(ak_formatter_new(&k.cfg, &err));
    assert_non_null(strstr(err.message, "schema.registry.url"));
}

static void test_kafka_avro_registry_down_is_a_retryable_io_error(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)closed_port());
    kafka_avro_cfg_t k;
    kafka_avro_config(&k, url, RECORD_NAME);
    ak_formatter_t *fmt = new_formatter(&k.cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = person_record();
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_IO, &err);
    assert_non_null(strstr(err.message, "unreachable"));
    assert_int_equal(out.len, 0);
    ak_buf_free(&out);
    ak_formatter_free(fmt);
}

static void test_kafka_avro_registry_refusal_is_unsupported(void **state)
{
    (void)state;
    registry_t *r = registry_start();
    r->refuse_status = 409;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)r->port);
    kafka_avro_cfg_t k;
    kafka_avro_config(&k, url, RECORD_NAME);
    ak_formatter_t *fmt = new_formatter(&k.cfg);
    ak_buf_t out;
    ak_buf_init(&out);
    ak_error_t err;
    ak_record_t rec = person_record();
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.message, "incompatible"));
    r->refuse_status = 503;
    akt_assert_status(format_rec(fmt, &rec, 0, &out, &err), AK_ERR_IO, &err);
    assert_non_null(strstr(err.message, "HTTP 503"));
    ak_buf_free(&out);
    ak_formatter_free(fmt);
    registry_stop(r);
}

static void test_schema_registry_props(void **state)
{
    (void)state;
    ak_error_t err;
    ak_format_prop_t props[3] = {
        {"schema.registry.url", "https://r:8081"},
        {"basic.auth.credentials.source", "USER_INFO"},
    };
    akt_error_reset(&err);
    assert_null(ak_schema_registry_new(props, 2, &err));
    assert_non_null(strstr(err.message, "basic.auth.user.info"));
    props[2] = (ak_format_prop_t){"basic.auth.user.info", "u:p"};
    ak_schema_registry_t *reg = ak_schema_registry_new(props, 3, &err);
    assert_non_null(reg);
    ak_schema_registry_free(reg);

    props[1] = (ak_format_prop_t){"schema.registry.ssl.truststore.location", "/etc/trust.jks"};
    akt_error_reset(&err);
    assert_null(ak_schema_registry_new(props, 2, &err));
    assert_non_null(strstr(err.message, "PEM"));
}

/* ------------------------------------------------------------ docs */

static void test_docs_quote_every_expected_output(void **state)
{
    (void)state;
    char *docs = read_text(docs_path);
    if (!docs)
        fail_msg("cannot read %s", docs_path);
    for (size_t i = 0; i < sizeof expected_files / sizeof expected_files[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", data_dir, expected_files[i]);
        char *text = read_text(path);
        if (!text)
            fail_msg("missing %s", path);
        if (!strstr(docs, text))
            fail_msg("docs/FORMATS.md does not quote %s verbatim:\n%s", expected_files[i], text);
        free(text);
    }
    free(docs);
}

/* ------------------------------------------------------------ benchmark */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void bench_one(const char *label, ak_formatter_t *fmt, const ak_record_t *rec)
{
    ak_buf_t value, key;
    ak_buf_init(&value);
    ak_buf_init(&key);
    ak_format_input_t in = {rec, "topic", 1701178936};
    ak_error_t err;
    int n = 1000000;
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        double t0 = now_ns();
        for (int i = 0; i < n; i++) {
            value.len = 0;
            key.len = 0;
            if (ak_format_record(fmt, &in, &value, &key, &err) != AK_OK)
                fail_msg("%s: %s", label, err.message);
        }
        double per = (now_ns() - t0) / n;
        if (per < best)
            best = per;
    }
    printf("bench %-28s %7.1f ns/record (%zu bytes)\n", label, best, value.len);
    ak_buf_free(&value);
    ak_buf_free(&key);
}

static void test_bench_when_asked(void **state)
{
    (void)state;
    const char *e = getenv("AK_FORMAT_BENCH");
    if (!e || e[0] != '1')
        skip();
    ak_record_t small = sample_record(AK_RECORD_WRITE);
    ak_record_t all = all_types_record();
    ak_format_mode_t modes[] = {AK_FORMAT_FLAT_JSON, AK_FORMAT_JSON, AK_FORMAT_MESSAGE_PACK};
    for (size_t i = 0; i < 3; i++) {
        ak_format_config_t cfg = config_of(modes[i]);
        ak_formatter_t *fmt = new_formatter(&cfg);
        char label[64];
        snprintf(label, sizeof label, "%s small", ak_format_mode_name(modes[i]));
        bench_one(label, fmt, &small);
        snprintf(label, sizeof label, "%s all-types", ak_format_mode_name(modes[i]));
        bench_one(label, fmt, &all);
        ak_formatter_free(fmt);
    }
    ak_format_config_t cfg = config_of(AK_FORMAT_AVRO);
    cfg.schema = (char *)person_schema;
    cfg.metadata_key = "meta";
    ak_formatter_t *fmt = new_formatter(&cfg);
    ak_record_t person = person_record();
    bench_one("avro person", fmt, &person);
    ak_formatter_free(fmt);

    registry_t *r = registry_start();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)r->port);
    kafka_avro_cfg_t k;
    kafka_avro_config(&k, url, RECORD_NAME);
    fmt = new_formatter(&k.cfg);
    bench_one("kafka-avro person", fmt, &person);
    ak_formatter_free(fmt);
    registry_stop(r);
}

int main(void)
{
    init_paths();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_names_are_the_config_names),
        cmocka_unit_test(test_config_errors_name_the_option),
        cmocka_unit_test(test_doubles_print_shortest_round_trip_as_java_does),
        cmocka_unit_test(test_json_key_cache_writes_what_escaping_writes),
        cmocka_unit_test(test_doubles_near_powers_of_two_print_shortest),
        cmocka_unit_test(test_doubles_print_the_fewest_digits_that_read_back),
        cmocka_unit_test(test_integers_print_as_printf_does),
        cmocka_unit_test(test_blobs_and_strings_escape_as_json_requires),
        cmocka_unit_test(test_flat_json_reproduces_the_real_connector_samples),
        cmocka_unit_test(test_flat_json_writes_every_value_type),
        cmocka_unit_test(test_flat_json_leaves_out_what_was_not_shipped),
        cmocka_unit_test(test_flat_json_bin_named_like_metadata_key_fails),
        cmocka_unit_test(test_json_reproduces_the_real_connector_sample),
        cmocka_unit_test(test_json_writes_every_value_type_and_deletes),
        cmocka_unit_test(test_json_2019_spec_bins),
        cmocka_unit_test(test_user_key_types_in_json_formats),
        cmocka_unit_test(test_digest_is_computed_when_the_record_has_only_a_key),
        cmocka_unit_test(test_stringify_map_keys),
        cmocka_unit_test(test_invalid_geojson_fails_naming_the_bin),
        cmocka_unit_test(test_message_pack_writes_every_value_type_and_deletes),
        cmocka_unit_test(test_message_pack_nil_for_what_was_not_shipped),
        cmocka_unit_test(test_avro_record_schema_round_trips),
        cmocka_unit_test(test_avro_map_schema_round_trips),
        cmocka_unit_test(test_avro_misfits_name_the_bin_and_the_expected_type),
        cmocka_unit_test(test_avro_config_checks),
        cmocka_unit_test(test_kafka_avro_registers_once_and_frames_like_confluent),
        cmocka_unit_test(test_kafka_avro_topic_record_name_strategy_subjects),
        cmocka_unit_test(test_kafka_avro_rejects_topic_name_strategy),
        cmocka_unit_test(test_kafka_avro_registry_down_is_a_retryable_io_error),
        cmocka_unit_test(test_kafka_avro_registry_refusal_is_unsupported),
        cmocka_unit_test(test_schema_registry_props),
        cmocka_unit_test(test_docs_quote_every_expected_output),
        cmocka_unit_test(test_bench_when_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
