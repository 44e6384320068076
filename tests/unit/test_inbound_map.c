/*
 * Mapping one Kafka record to an Aerospike record change: every mapping
 * option (static/dynamic namespace and set, key from the Kafka key or a
 * value field, digest, TTL, generation, bins by all-value-fields or map,
 * write/delete policies, tombstones) and the classified failures, each
 * naming topic, partition and offset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ak_test_util.h"
#include "inbound/ak_inbound_map.h"
#include "wire/ak_digest.h"

typedef struct fixture {
    ak_inbound_config_t *cfg;
    ak_inbound_mapper_t *mapper;
    ak_arena_t arena;
    ak_record_t rec;
    ak_error_t err;
} fixture_t;

static fixture_t *fx_new(const char *topics)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    char text[4096];
    snprintf(text, sizeof text,
             "consumer-props: {bootstrap.servers: k:9092}\naerospike: {seeds: [db]}\ntopics:\n%s",
             topics);
    akt_error_reset(&f->err);
    f->cfg = ak_inbound_config_load_string(text, strlen(text), "in.yml", NULL, &f->err);
    if (!f->cfg)
        fail_msg("config: %s", f->err.message);
    f->mapper = ak_inbound_mapper_new(f->cfg, &f->err);
    assert_non_null(f->mapper);
    ak_arena_init(&f->arena, 4096);
    return f;
}

static void fx_free(fixture_t *f)
{
    ak_arena_destroy(&f->arena);
    ak_inbound_mapper_free(f->mapper);
    ak_inbound_config_free(f->cfg);
    free(f);
}

static ak_inbound_map_result_t fx_map(fixture_t *f, const char *topic, const char *key,
                                      const char *value)
{
    ak_inbound_kafka_record_t in = {
        .topic = topic, .topic_len = strlen(topic), .partition = 3, .offset = 42,
        .key = (const uint8_t *)key, .key_len = key ? strlen(key) : 0,
        .value = (const uint8_t *)value, .value_len = value ? strlen(value) : 0};
    akt_error_reset(&f->err);
    return ak_inbound_map(f->mapper, &in, &f->arena, &f->rec, &f->err);
}

static void fx_map_ok(fixture_t *f, const char *topic, const char *key, const char *value)
{
    ak_inbound_map_result_t r = fx_map(f, topic, key, value);
    if (r != AK_INBOUND_MAP_OK)
        fail_msg("map: %s: %s", ak_inbound_map_result_name(r), f->err.message);
}

static void fx_expect(fixture_t *f, const char *topic, const char *key, const char *value,
                      ak_inbound_map_result_t expected, const char *fragment, const char *file, int line)
{
    ak_inbound_map_result_t r = fx_map(f, topic, key, value);
    if (r != expected)
        fail_msg("%s:%d: result %s, expected %s (%s)", file, line, ak_inbound_map_result_name(r),
                 ak_inbound_map_result_name(expected), f->err.message);
    if (!strstr(f->err.message, fragment))
        fail_msg("%s:%d: message \"%s\" lacks \"%s\"", file, line, f->err.message, fragment);
}
#define expect_result(f, topic, key, value, expected, fragment)                                    \
    fx_expect((f), (topic), (key), (value), (expected), (fragment), __FILE__, __LINE__)

static void assert_str_view(const char *data, size_t len, const char *s)
{
    if (len != strlen(s) || memcmp(data, s, len) != 0)
        fail_msg("\"%.*s\" != \"%s\"", (int)len, data, s);
}

static const ak_bin_t *bin(const ak_record_t *rec, const char *name)
{
    for (uint32_t i = 0; i < rec->n_bins; i++)
        if (rec->bins[i].name.len == strlen(name) && memcmp(rec->bins[i].name.data, name, strlen(name)) == 0)
            return &rec->bins[i];
    fail_msg("no bin %s", name);
    return NULL;
}

static void assert_digest_of(const ak_record_t *rec, const char *set, ak_value_t key)
{
    uint8_t expected[AK_DIGEST_SIZE];
    assert_int_equal(ak_digest_compute(set, strlen(set), &key, expected, NULL), AK_OK);
    assert_true(rec->has_digest);
    assert_memory_equal(rec->digest, expected, AK_DIGEST_SIZE);
}

#define USERS                                                                                      \
    "  users:\n"                                                                                   \
    "    invalid-record: ignore\n"                                                                 \
    "    mapping:\n"                                                                               \
    "      namespace: {mode: static, value: test}\n"                                               \
    "      set: {mode: static, value: people}\n"                                                   \
    "      key-field: {source: key}\n"                                                             \
    "      bins: {type: multi-bins, all-value-fields: true}\n"

static void test_all_value_fields_keep_types(void **state)
{
    (void)state;
    fixture_t *f = fx_new(USERS);
    fx_map_ok(f, "users", "7",
              "{\"name\": \"Ann\", \"age\": 42, \"score\": 9.5, \"vip\": true, "
              "\"tags\": [\"a\", 1], \"addr\": {\"city\": \"Paris\"}, \"nick\": null}");
    ak_record_t *rec = &f->rec;
    assert_int_equal(rec->op, AK_RECORD_WRITE);
    assert_str_view(rec->ns.data, rec->ns.len, "test");
    assert_str_view(rec->set.data, rec->set.len, "people");
    assert_int_equal(rec->key.type, AK_VALUE_INT); /* JSON 7: an integer key */
    assert_int_equal(rec->key.u.integer, 7);
    assert_false(rec->has_key); /* send-key false */
    assert_digest_of(rec, "people", ak_value_int(7));
    assert_int_equal(rec->ttl, AK_TTL_NAMESPACE_DEFAULT);
    assert_int_equal(rec->exists_action, AK_EXISTS_UPDATE);
    assert_int_equal(rec->n_bins, 7);
    assert_int_equal(bin(rec, "age")->value.type, AK_VALUE_INT);
    assert_int_equal(bin(rec, "score")->value.type, AK_VALUE_DOUBLE);
    assert_int_equal(bin(rec, "vip")->value.type, AK_VALUE_BOOL);
    assert_int_equal(bin(rec, "tags")->value.type, AK_VALUE_LIST);
    assert_int_equal(bin(rec, "addr")->value.type, AK_VALUE_MAP);
    assert_int_equal(bin(rec, "nick")->value.type, AK_VALUE_NIL); /* deletes the bin */

    /* "42" is a string key: another record than 42 */
    fx_map_ok(f, "users", "\"42\"", "{\"a\": 1}");
    assert_int_equal(f->rec.key.type, AK_VALUE_STRING);
    assert_digest_of(&f->rec, "people", ak_value_string("42"));
    fx_map_ok(f, "users", "42", "{\"a\": 1}");
    assert_digest_of(&f->rec, "people", ak_value_int(42));
    fx_free(f);
}

static void test_invalid_records_name_topic_partition_offset(void **state)
{
    (void)state;
    fixture_t *f = fx_new(USERS);
    expect_result(f, "users", "1", "{\"a\": ", AK_INBOUND_MAP_INVALID,
                  "topic users, partition 3, offset 42: value: json: ");
    expect_result(f, "users", NULL, "{\"a\": 1}", AK_INBOUND_MAP_INVALID,
                  "offset 42: the record has no Kafka key");
    expect_result(f, "users", "user-1", "{\"a\": 1}", AK_INBOUND_MAP_INVALID,
                  "key: json: ");
    expect_result(f, "users", "user-1", "{\"a\": 1}", AK_INBOUND_MAP_INVALID,
                  "(plain-text keys need key-format: {mode: string})");
    expect_result(f, "users", "1.5", "{\"a\": 1}", AK_INBOUND_MAP_INVALID,
                  "mapping.key-field: the Kafka key is a double; a key is an integer, a string or bytes");
    expect_result(f, "users", "1", "[1, 2]", AK_INBOUND_MAP_INVALID,
                  "bins.all-value-fields needs a value that is a map");
    expect_result(f, "users", "1", "{\"a-field-name-too-long\": 1}", AK_INBOUND_MAP_INVALID,
                  "field \"a-field-name-too-long\" cannot be a bin: bin names are 1..15 bytes");
    expect_result(f, "users", "1", "{}", AK_INBOUND_MAP_INVALID, "no bins to write");
    expect_result(f, "users", "1", NULL, AK_INBOUND_MAP_INVALID,
                  "the value is null (a tombstone) and on-tombstone is fail");
    expect_result(f, "orders", "1", "{}", AK_INBOUND_MAP_INVALID,
                  "topic orders, partition 3, offset 42: the topic is not configured");
    fx_free(f);
}

static void test_dynamic_namespace_set_ttl_and_value_key(void **state)
{
    (void)state;
    fixture_t *f = fx_new("  products:\n"
                          "    invalid-record: kill-task\n"
                          "    mapping:\n"
                          "      namespace: {mode: dynamic, source: value-field, field-name: category}\n"
                          "      set: {mode: dynamic, source: value-field, field-name: brand}\n"
                          "      key-field: {source: value-field, field-name: sku}\n"
                          "      ttl: {mode: dynamic, source: value-field, field-name: ttl}\n"
                          "      bins:\n"
                          "        type: multi-bins\n"
                          "        map:\n"
                          "          name: {source: value-field, field-name: prod_name}\n"
                          "          price: {source: value-field, field-name: prod_price}\n"
                          "    aerospike-operation: {send-key: true, record-exists-action: "
                          "create-only, commit-level: commit-master}\n");
    fx_map_ok(f, "products", NULL,
              "{\"category\": \"shop\", \"brand\": \"acme\", \"sku\": \"A-1\", \"ttl\": \"2H\", "
              "\"prod_name\": \"anvil\", \"prod_price\": 12.5, \"other\": 1}");
    ak_record_t *rec = &f->rec;
    assert_str_view(rec->ns.data, rec->ns.len, "shop");
    assert_str_view(rec->set.data, rec->set.len, "acme");
    assert_true(rec->has_key); /* send-key */
    assert_digest_of(rec, "acme", ak_value_string("A-1"));
    assert_int_equal(rec->ttl, 7200);
    assert_int_equal(rec->exists_action, AK_EXISTS_CREATE_ONLY);
    assert_int_equal(rec->commit_level, AK_COMMIT_MASTER);
    assert_int_equal(rec->n_bins, 2); /* only the mapped fields, renamed */
    assert_true(bin(rec, "price")->value.u.dbl == 12.5);
    assert_int_equal(bin(rec, "name")->value.type, AK_VALUE_STRING);

    /* a mapped field the value lacks writes no bin */
    fx_map_ok(f, "products", NULL, "{\"category\": \"shop\", \"brand\": \"acme\", \"sku\": 5, "
                                   "\"ttl\": -1, \"prod_name\": \"x\"}");
    assert_int_equal(f->rec.n_bins, 1);
    assert_int_equal(f->rec.ttl, AK_TTL_NEVER_EXPIRE);
    fx_map_ok(f, "products", NULL, "{\"category\": \"shop\", \"brand\": \"acme\", \"sku\": 5, "
                                   "\"ttl\": -2, \"prod_name\": \"x\"}");
    assert_int_equal(f->rec.ttl, AK_TTL_DONT_UPDATE);

    expect_result(f, "products", NULL, "{\"brand\": \"acme\", \"sku\": 1}", AK_INBOUND_MAP_INVALID,
                  "mapping.namespace: value field 'category' is missing");
    expect_result(f, "products", NULL, "{\"category\": 7, \"brand\": \"acme\", \"sku\": 1}",
                  AK_INBOUND_MAP_INVALID, "mapping.namespace: value field 'category' is a int, not a string");
    expect_result(f, "products", NULL,
                  "{\"category\": \"a-namespace-name-longer-than-31-bytes\", \"brand\": \"b\", \"sku\": 1}",
                  AK_INBOUND_MAP_INVALID, "is 37 bytes; Aerospike allows 1..31");
    expect_result(f, "products", NULL,
                  "{\"category\": \"s\", \"brand\": \"b\", \"sku\": null, \"ttl\": 1}",
                  AK_INBOUND_MAP_INVALID, "mapping.key-field: value field 'sku' is null");
    expect_result(f, "products", NULL,
                  "{\"category\": \"s\", \"brand\": \"b\", \"sku\": 1, \"ttl\": 400000000, \"prod_name\": 1}",
                  AK_INBOUND_MAP_INVALID, "mapping.ttl: value field 'ttl' (int 400000000)");
    expect_result(f, "products", NULL,
                  "{\"category\": \"s\", \"brand\": \"b\", \"sku\": [1], \"ttl\": 1}",
                  AK_INBOUND_MAP_INVALID, "the value field is a list; a key is an integer");
    fx_free(f);
}

static void test_digest_from_a_value_field(void **state)
{
    (void)state;
    fixture_t *f = fx_new("  t:\n"
                          "    invalid-record: ignore\n"
                          "    mapping:\n"
                          "      namespace: {mode: static, value: test}\n"
                          "      digest: {source: value-field, field-name: d}\n"
                          "      ttl: {mode: static, value: 10M}\n"
                          "      bins: {all-value-fields: true}\n");
    fx_map_ok(f, "t", NULL, "{\"d\": \"000102030405060708090a0b0c0d0e0f10111213\"}");
    assert_true(f->rec.has_digest);
    assert_false(f->rec.has_key);
    assert_int_equal(f->rec.digest[19], 0x13);
    assert_int_equal(f->rec.ttl, 600);
    assert_int_equal(f->rec.n_bins, 1); /* the digest field is a bin too (all-value-fields) */
    fx_map_ok(f, "t", NULL, "{\"d\": \"AAECAwQFBgcICQoLDA0ODxAREhM=\"}"); /* Base64 of the same */
    assert_int_equal(f->rec.digest[19], 0x13);
    expect_result(f, "t", NULL, "{\"d\": \"abc\"}", AK_INBOUND_MAP_INVALID,
                  "mapping.digest: value field 'd' is not a 20-byte digest");
    fx_free(f);
}

static void test_bin_sources_and_booleans_as_integers(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, "  t:\n"
                                "    invalid-record: ignore\n"
                                "    key-format: {mode: string}\n"
                                "    value-format: {mode: string}\n"
                                "    mapping:\n"
                                "      namespace: {mode: static, value: test}\n"
                                "      key-field: {source: key}\n"
                                "      bins:\n"
                                "        map:\n"
                                "          body: {source: value}\n"
                                "          id: {source: key}\n");
    fixture_t *f = fx_new(text);
    fx_map_ok(f, "t", "user-1", "hello");
    assert_int_equal(f->rec.key.type, AK_VALUE_STRING);
    assert_int_equal(f->rec.n_bins, 2);
    assert_int_equal(bin(&f->rec, "body")->value.type, AK_VALUE_STRING);
    assert_str_view((const char *)bin(&f->rec, "id")->value.u.bytes.data,
                    bin(&f->rec, "id")->value.u.bytes.len, "user-1");
    fx_free(f);

    const char *cfg = "consumer-props: {bootstrap.servers: k}\n"
                      "aerospike: {seeds: [db], use-boolean-bin: false}\n"
                      "topics:\n" USERS;
    ak_error_t err;
    ak_inbound_config_t *c = ak_inbound_config_load_string(cfg, strlen(cfg), "in.yml", NULL, &err);
    assert_non_null(c);
    ak_inbound_mapper_t *m = ak_inbound_mapper_new(c, &err);
    ak_arena_t arena;
    ak_arena_init(&arena, 1024);
    ak_inbound_kafka_record_t in = {.topic = "users", .topic_len = 5, .key = (const uint8_t *)"1",
                                    .key_len = 1, .value = (const uint8_t *)"{\"b\": true}", .value_len = 11};
    ak_record_t rec;
    assert_int_equal(ak_inbound_map(m, &in, &arena, &rec, &err), AK_INBOUND_MAP_OK);
    assert_int_equal(rec.bins[0].value.type, AK_VALUE_INT);
    assert_int_equal(rec.bins[0].value.u.integer, 1);
    ak_arena_destroy(&arena);
    ak_inbound_mapper_free(m);
    ak_inbound_config_free(c);
}

static void test_deletes_and_tombstones(void **state)
{
    (void)state;
    fixture_t *f = fx_new("  del:\n"
                          "    invalid-record: ignore\n"
                          "    value-format: {mode: message-pack}\n"
                          "    mapping:\n"
                          "      namespace: {mode: static, value: test}\n"
                          "      key-field: {source: value-field, field-name: id}\n"
                          "    aerospike-operation: {type: delete, durable-delete: true}\n"
                          "  users:\n"
                          "    invalid-record: ignore\n"
                          "    on-tombstone: delete\n"
                          "    key-format: {mode: string}\n"
                          "    mapping:\n"
                          "      namespace: {mode: static, value: test}\n"
                          "      set: {mode: static, value: people}\n"
                          "      key-field: {source: key}\n"
                          "      bins: {all-value-fields: true}\n"
                          "  quiet:\n"
                          "    invalid-record: ignore\n"
                          "    on-tombstone: ignore\n"
                          "    mapping:\n"
                          "      namespace: {mode: static, value: test}\n"
                          "      key-field: {source: key}\n"
                          "      bins: {all-value-fields: true}\n");
    fx_map_ok(f, "del", NULL, "\x81\xa2id\x07"); /* {"id": 7} */
    assert_int_equal(f->rec.op, AK_RECORD_DURABLE_DELETE);
    assert_int_equal(f->rec.n_bins, 0);
    assert_digest_of(&f->rec, "", ak_value_int(7));

    fx_map_ok(f, "users", "user-1", NULL);
    assert_int_equal(f->rec.op, AK_RECORD_DELETE);
    assert_digest_of(&f->rec, "people", ak_value_string("user-1"));
    fx_map_ok(f, "users", "user-1", "{\"a\": 1}");
    assert_int_equal(f->rec.op, AK_RECORD_WRITE);

    expect_result(f, "quiet", "1", NULL, AK_INBOUND_MAP_SKIP, "tombstone ignored");
    fx_free(f);
}

static void test_generation(void **state)
{
    (void)state;
    fixture_t *f = fx_new("  t:\n"
                          "    invalid-record: ignore\n"
                          "    mapping:\n"
                          "      namespace: {mode: static, value: test}\n"
                          "      key-field: {source: key}\n"
                          "      generation: {source: value-field, field-name: v}\n"
                          "      bins: {all-value-fields: true}\n"
                          "    aerospike-operation: {generation-policy: expect-gen-equal}\n");
    fx_map_ok(f, "t", "1", "{\"v\": 12}");
    assert_int_equal(f->rec.generation, 12);
    assert_int_equal(f->rec.generation_policy, AK_GEN_EQ);
    expect_result(f, "t", "1", "{\"v\": \"12\"}", AK_INBOUND_MAP_INVALID,
                  "mapping.generation: value field 'v' is a string");
    fx_free(f);
}

static void test_record_encodes_to_the_wire(void **state)
{
    (void)state;
    fixture_t *f = fx_new(USERS);
    fx_map_ok(f, "users", "7", "{\"name\": \"Ann\", \"addr\": {\"zip\": [1, 2.5, true]}}");
    ak_buf_t frame;
    ak_buf_init(&frame);
    ak_error_t err;
    akt_assert_ok(ak_record_to_msg(&f->rec, 1000, &frame, &err), &err);
    assert_true(frame.len > 8);
    ak_buf_free(&frame);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_value_fields_keep_types),
        cmocka_unit_test(test_invalid_records_name_topic_partition_offset),
        cmocka_unit_test(test_dynamic_namespace_set_ttl_and_value_key),
        cmocka_unit_test(test_digest_from_a_value_field),
        cmocka_unit_test(test_bin_sources_and_booleans_as_integers),
        cmocka_unit_test(test_deletes_and_tombstones),
        cmocka_unit_test(test_generation),
        cmocka_unit_test(test_record_encodes_to_the_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
