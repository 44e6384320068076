/*
 * The inbound configuration: aerospike-kafka-inbound.yml with every key the
 * mapping and the runtime read, errors.* inheritance, and every kind of
 * error with its FILE:LINE, key and expectation. The sample
 * etc/aerospike-kafka-inbound.yml must load.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ak_test_util.h"
#include "inbound/ak_inbound_config.h"

static char root_dir[1024];

static void init_root(void)
{
    snprintf(root_dir, sizeof root_dir, "%s", __FILE__); /* .../tests/unit/test_inbound_config.c */
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(root_dir, '/');
        if (slash)
            *slash = '\0';
    }
}

static ak_inbound_config_t *load_text(const char *text, ak_error_t *err)
{
    akt_error_reset(err);
    return ak_inbound_config_load_string(text, strlen(text), "in.yml", "/tmp", err);
}

static ak_inbound_config_t *load_ok(const char *text)
{
    ak_error_t err;
    ak_inbound_config_t *cfg = load_text(text, &err);
    if (!cfg)
        fail_msg("unexpected error: %s", err.message);
    return cfg;
}

static void expect_error_at(const char *text, const char *expected, const char *file, int line)
{
    ak_error_t err;
    ak_inbound_config_t *cfg = load_text(text, &err);
    if (cfg) {
        ak_inbound_config_free(cfg);
        fail_msg("%s:%d: loaded, expected error: %s", file, line, expected);
    }
    if (!strstr(err.message, expected))
        fail_msg("%s:%d: wrong message\n  expected: %s\n  actual:   %s", file, line, expected,
                 err.message);
}
#define expect_error(text, expected) expect_error_at((text), (expected), __FILE__, __LINE__)

#define HEAD                                                                                       \
    "consumer-props: {bootstrap.servers: k:9092}\n"                                                \
    "aerospike: {seeds: [db1]}\n"

/* A one-topic file with the mapping written at line 6 onwards. */
#define TOPIC(extra, mapping)                                                                      \
    HEAD "topics:\n"                                                                               \
         "  users:\n"                                                                              \
         "    invalid-record: ignore\n" extra "    mapping:\n" mapping

#define MAP_OK                                                                                     \
    "      namespace: {mode: static, value: test}\n"                                               \
    "      key-field: {source: key}\n"                                                             \
    "      bins: {type: multi-bins, all-value-fields: true}\n"

static void test_sample_config_loads(void **state)
{
    (void)state;
    char path[1200];
    snprintf(path, sizeof path, "%s/etc/aerospike-kafka-inbound.yml", root_dir);
    ak_error_t err;
    akt_error_reset(&err);
    ak_inbound_config_t *cfg = ak_inbound_config_load(path, &err);
    if (!cfg)
        fail_msg("%s", err.message);
    assert_int_equal(cfg->max_queued_records, 32768);
    assert_int_equal(cfg->aerospike.n_seeds, 2);
    assert_string_equal(cfg->aerospike.seeds[1].host, "localhost");
    assert_int_equal(cfg->aerospike.seeds[1].port, 3000);
    assert_int_equal(ak_inbound_config_topic_count(cfg), 4);
    const ak_inbound_topic_config_t *users = ak_inbound_config_topic(cfg, "users", 5);
    assert_non_null(users);
    assert_string_equal(users->errors.dlq_topic, "users-dlq");
    assert_true(users->errors.dlq_context_headers);
    assert_int_equal(users->errors.retry_timeout_ms, -1);
    assert_int_equal(users->mapping.ttl.number, 30 * 86400);
    assert_int_equal(users->on_tombstone, AK_INBOUND_TOMBSTONE_DELETE);
    assert_int_equal(users->key_format.mode, AK_INBOUND_FORMAT_STRING);
    assert_int_equal(users->operation.record_exists_action, AK_EXISTS_REPLACE);
    assert_int_equal(users->mapping.bins.map.n, 3);
    const ak_inbound_topic_config_t *products = ak_inbound_config_topic(cfg, "products", 8);
    assert_int_equal(products->invalid_record, AK_INBOUND_INVALID_KILL_TASK);
    assert_int_equal(products->value_format.mode, AK_INBOUND_FORMAT_CONNECT_JSON);
    assert_int_equal(products->mapping.set.source, AK_INBOUND_SOURCE_VALUE_FIELD);
    const ak_inbound_topic_config_t *deletions = ak_inbound_config_topic(cfg, "deletions", 9);
    assert_int_equal(deletions->operation.type, AK_INBOUND_OP_DELETE);
    assert_null(ak_inbound_config_topic(cfg, "user", 4));
    assert_true(cfg->manage.enabled);
    assert_int_equal(cfg->manage.port, 8082);
    assert_string_equal(cfg->logging.levels[0].logger, "root");
    ak_inbound_config_free(cfg);
}

static void test_defaults(void **state)
{
    (void)state;
    ak_inbound_config_t *cfg = load_ok(TOPIC("", MAP_OK));
    assert_int_equal(cfg->max_queued_records, 32768);
    assert_int_equal(cfg->processing_threads, 0);
    assert_int_equal(cfg->aerospike.seeds[0].port, 3000);
    assert_null(cfg->aerospike.seeds[0].tls_name);
    assert_int_equal(cfg->aerospike.connect_timeout_ms, 1000);
    assert_true(cfg->aerospike.use_boolean_bin);
    assert_int_equal(cfg->logging.ticker_interval_s, 10); /* the stats line, unless 0 turns it off */
    assert_null(cfg->aerospike.credentials);
    assert_false(cfg->aerospike.tls.enabled);
    assert_false(cfg->manage.enabled);
    const ak_inbound_topic_config_t *t = ak_inbound_config_topic_at(cfg, 0);
    assert_string_equal(t->name, "users");
    assert_int_equal(t->value_format.mode, AK_INBOUND_FORMAT_JSON);
    assert_int_equal(t->key_format.mode, AK_INBOUND_FORMAT_JSON);
    assert_int_equal(t->on_tombstone, AK_INBOUND_TOMBSTONE_FAIL);
    assert_int_equal(t->operation.type, AK_INBOUND_OP_WRITE);
    assert_int_equal(t->operation.record_exists_action, AK_EXISTS_UPDATE);
    assert_int_equal(t->operation.commit_level, AK_COMMIT_ALL);
    assert_int_equal(t->operation.max_retries, 2);
    assert_int_equal(t->operation.socket_timeout_ms, 30000);
    assert_false(t->operation.send_key);
    assert_int_equal(t->errors.tolerance, AK_INBOUND_TOLERANCE_ALL); /* from ignore */
    assert_null(t->errors.dlq_topic);
    assert_int_equal(t->errors.retry_timeout_ms, -1);
    assert_int_equal(t->errors.retry_delay_max_ms, 60000);
    assert_false(t->mapping.set.given);
    assert_false(t->mapping.ttl.given);
    /* consumer-props keep their lines; group.id is added */
    assert_int_equal(cfg->consumer_props.n, 2);
    assert_string_equal(cfg->consumer_props.items[0].name, "bootstrap.servers");
    assert_int_equal(cfg->consumer_props.items[0].line, 1);
    assert_string_equal(cfg->consumer_props.items[1].value, "aerospike-kafka-inbound");
    ak_inbound_config_free(cfg);
}

static void test_seed_forms_and_credentials(void **state)
{
    (void)state;
    char pw[] = "/tmp/ak_inbound_pw_XXXXXX";
    int fd = mkstemp(pw);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cret\n", 7), 7);
    close(fd);
    char text[2048];
    snprintf(text, sizeof text,
             "consumer-props: {bootstrap.servers: k:9092}\n"
             "aerospike:\n"
             "  seeds:\n"
             "    - 192.168.50.1: {port: 4333, tls-name: red}\n"
             "    - 192.168.50.2:\n"
             "    - db3\n"
             "  cluster-name: east\n"
             "  credentials: {username: connector, password-file: %s}\n"
             "  tls: {ca-file: ca.pem, protocols: [TLSv1.2, TLSv1.3]}\n"
             "topics:\n"
             "  users:\n"
             "    invalid-record: ignore\n"
             "    mapping:\n" MAP_OK,
             pw);
    ak_inbound_config_t *cfg = load_ok(text);
    const ak_inbound_aerospike_t *as = &cfg->aerospike;
    assert_int_equal(as->n_seeds, 3);
    assert_string_equal(as->seeds[0].host, "192.168.50.1");
    assert_int_equal(as->seeds[0].port, 4333);
    assert_string_equal(as->seeds[0].tls_name, "red");
    assert_int_equal(as->seeds[1].port, 3000);
    assert_int_equal(as->seeds[2].line, 6);
    assert_string_equal(as->cluster_name, "east");
    assert_string_equal(as->credentials->username, "connector");
    assert_string_equal(as->credentials->password, "s3cret");
    assert_true(as->tls.enabled);
    assert_string_equal(as->tls.ca_file, "/tmp/ca.pem"); /* relative to the file's directory */
    assert_int_equal(as->tls.protocols.n, 2);
    /* TLS on port 3000 gets a note */
    assert_int_equal(cfg->notes.n, 2);
    assert_non_null(strstr(cfg->notes.items[0], "in.yml:5: aerospike.seeds: 192.168.50.2 uses port 3000"));
    ak_inbound_config_free(cfg);
    unlink(pw);
    expect_error("consumer-props: {bootstrap.servers: k}\n"
                 "aerospike:\n"
                 "  seeds: [db]\n"
                 "  credentials: {username: u, password-file: /nonexistent/pw}\n",
                 "in.yml:4: aerospike.credentials.password-file: cannot read /nonexistent/pw");
    /* logins the client cannot make are refused, not ignored */
    expect_error("consumer-props: {bootstrap.servers: k}\n"
                 "aerospike:\n"
                 "  seeds: [db]\n"
                 "  credentials:\n"
                 "    username: u\n"
                 "    auth-mode: external\n",
                 "in.yml:6: aerospike.credentials.auth-mode: external is not supported");
}

static void test_unknown_keys_and_wrong_types_name_file_and_line(void **state)
{
    (void)state;
    expect_error(HEAD "max-queued-record: 5\n",
                 "in.yml:3: unknown key 'max-queued-record' (did you mean 'max-queued-records'?)");
    expect_error(HEAD "max-queued-records: lots\n",
                 "in.yml:3: max-queued-records: expected an integer 1..16777216, got \"lots\"");
    expect_error(TOPIC("    on-tombstone: drop\n", MAP_OK),
                 "in.yml:6: topics.users.on-tombstone: expected one of fail, delete, ignore, got \"drop\"");
    expect_error(TOPIC("", "      namespace: {mode: static, value: test}\n"
                           "      key-field: {source: key, fieldname: id}\n"),
                 "in.yml:8: topics.users.mapping.key-field: unknown key 'fieldname' (did you mean "
                 "'field-name'?)");
    expect_error(TOPIC("    aerospike-operation: {send-key: maybe}\n", MAP_OK),
                 "in.yml:6: topics.users.aerospike-operation.send-key: expected true or false, got \"maybe\"");
    expect_error(HEAD "topics: [users]\n", "in.yml:3: topics: expected a mapping, got a list");
    expect_error(TOPIC("    message-transformer: {class: com.x.T}\n", MAP_OK),
                 "in.yml:6: topics.users.message-transformer: needs a Java plug-in");
    expect_error("consumer-props: {bootstrap.servers: k}\naerospike: {seeds: [db]}\n",
                 "in.yml:1: topics: required");
    expect_error("", "in.yml:1: ");
}

static void test_mapping_field_errors(void **state)
{
    (void)state;
    expect_error(TOPIC("", "      namespace: {mode: static}\n"
                           "      key-field: {source: key}\n"),
                 "in.yml:7: topics.users.mapping.namespace.value: required when mode is static");
    expect_error(TOPIC("", "      namespace: {mode: static, value: a-namespace-name-longer-than-31-bytes}\n"
                           "      key-field: {source: key}\n"
                           "      bins: {all-value-fields: true}\n"),
                 "in.yml:7: topics.users.mapping.namespace.value: expected 1..31 bytes");
    expect_error(TOPIC("", "      namespace: {mode: static, value: test}\n"
                           "      key-field: {mode: static, value: k}\n"),
                 "in.yml:8: topics.users.mapping.key-field: key-field cannot be static; expected "
                 "{source: key}, {mode: dynamic, source: value-field, field-name: ...}");
    expect_error(TOPIC("", "      namespace: {mode: static, value: test}\n"
                           "      digest: {source: key}\n"),
                 "in.yml:8: topics.users.mapping.digest.source: digest cannot come from the Kafka key");
    expect_error(TOPIC("", "      namespace: {mode: dynamic, source: value-field}\n"
                           "      key-field: {source: key}\n"),
                 "in.yml:7: topics.users.mapping.namespace.field-name: required when source is value-field");
    expect_error(TOPIC("", "      namespace: {mode: static, value: test}\n"
                           "      key-field: {source: key}\n"
                           "      digest: {source: value-field, field-name: d}\n"),
                 "in.yml:9: topics.users.mapping: give key-field or digest, not both");
    expect_error(TOPIC("", "      namespace: {mode: static, value: test}\n"
                           "      bins: {all-value-fields: true}\n"),
                 "in.yml:6: topics.users.mapping.key-field: required (or digest)");
    expect_error(TOPIC("", "      namespace: {mode: static, value: test}\n"
                           "      key-field: {source: key}\n"
                           "      ttl: {mode: static, value: 10Y}\n"
                           "      bins: {all-value-fields: true}\n"),
                 "in.yml:9: topics.users.mapping.ttl.value: expected seconds, optionally with a suffix");
    expect_error(TOPIC("", "      namespace: {mode: static, value: test}\n"
                           "      key-field: {source: key}\n"
                           "      bins:\n"
                           "        map:\n"
                           "          a-very-long-bin-name: {source: value-field, field-name: x}\n"),
                 "in.yml:11: topics.users.mapping.bins.map.a-very-long-bin-name: bin names are at most 15 bytes");
    expect_error(TOPIC("", "      namespace: {mode: static, value: test}\n"
                           "      key-field: {source: key}\n"
                           "      bins: {all-value-fields: true, map: {a: {source: value}}}\n"),
                 "topics.users.mapping.bins: give all-value-fields: true or a map, not both");
    expect_error(TOPIC("", "      namespace: {mode: static, value: test}\n"
                           "      key-field: {source: key}\n"),
                 "in.yml:6: topics.users.mapping.bins: required for writes");
}

static void test_operation_and_tombstone_rules(void **state)
{
    (void)state;
    expect_error(TOPIC("    aerospike-operation: {type: delete, send-key: true}\n",
                       "      namespace: {mode: static, value: test}\n"
                       "      key-field: {source: key}\n"),
                 "in.yml:6: topics.users.aerospike-operation.send-key: applies to writes, and type is delete");
    expect_error(TOPIC("    aerospike-operation: {generation-policy: expect-gen-gt}\n", MAP_OK),
                 "topics.users: mapping.generation: required with aerospike-operation.generation-policy");
    ak_inbound_config_t *cfg = load_ok(TOPIC("    aerospike-operation: {generation-policy: expect-gen-gt}\n",
                                             MAP_OK "      generation: {source: value-field, field-name: v}\n"));
    assert_int_equal(ak_inbound_config_topic_at(cfg, 0)->operation.generation_policy, AK_GEN_GT);
    ak_inbound_config_free(cfg);
    expect_error(TOPIC("    on-tombstone: delete\n",
                       "      namespace: {mode: static, value: test}\n"
                       "      key-field: {source: value-field, field-name: id}\n"
                       "      bins: {all-value-fields: true}\n"),
                 "in.yml:6: topics.users.on-tombstone: delete needs the record's address without a "
                 "value, but mapping.key-field comes from the value");
}

static void test_formats(void **state)
{
    (void)state;
    expect_error(TOPIC("    value-format: {mode: avro}\n", MAP_OK),
                 "in.yml:6: topics.users.value-format.schema: required when mode is avro");
    expect_error(TOPIC("    value-format: {mode: avro, schema: '{\"type\": \"nope\"}'}\n", MAP_OK),
                 "in.yml:6: topics.users.value-format.schema: avro: the schema is not a valid Avro schema");
    expect_error(TOPIC("    value-format: {mode: kafka-avro}\n", MAP_OK),
                 "topics.users.value-format.props.schema.registry.url: required when mode is kafka-avro");
    expect_error(TOPIC("    value-format: {mode: kafka-avro, schema: '\"long\"', props: "
                       "{schema.registry.url: 'http://r'}}\n",
                       MAP_OK),
                 "topics.users.value-format: give props.schema.registry.url or a fixed schema, not both");
    expect_error(TOPIC("    value-format: {mode: json, schema: '\"long\"'}\n", MAP_OK),
                 "topics.users.value-format.schema: applies to modes avro and kafka-avro only, not json");
    expect_error(TOPIC("    value-format: {mode: avro, schema-file: missing.avsc}\n", MAP_OK),
                 "topics.users.value-format.schema-file: cannot read /tmp/missing.avsc");
    ak_inbound_config_t *cfg = load_ok(TOPIC("    value-format: {mode: avro, schema: '\"long\"'}\n"
                                             "    key-format: {mode: bytes}\n",
                                             MAP_OK));
    const ak_inbound_topic_config_t *t = ak_inbound_config_topic_at(cfg, 0);
    assert_int_equal(t->value_format.mode, AK_INBOUND_FORMAT_AVRO);
    assert_string_equal(t->value_format.schema, "\"long\"");
    assert_int_equal(t->key_format.mode, AK_INBOUND_FORMAT_BYTES);
    ak_inbound_config_free(cfg);
    expect_error(TOPIC("", MAP_OK) "aerospike-tls: {}\n", "unknown key 'aerospike-tls'");
    expect_error("consumer-props: {bootstrap.servers: k}\n"
                 "aerospike: {seeds: [db], tls: {key-store: {store-file: x.jks}}}\n",
                 "in.yml:2: aerospike.tls.key-store: Java key stores are not supported");
}

static void test_errors_keys_inherit_and_must_agree(void **state)
{
    (void)state;
    const char *text = HEAD "errors.tolerance: all\n"
                            "errors.deadletterqueue.topic.name: dead\n"
                            "errors.retry.timeout: 30000\n"
                            "topics:\n"
                            "  a:\n"
                            "    mapping:\n" MAP_OK "  b:\n"
                            "    invalid-record: kill-task\n"
                            "    errors.deadletterqueue.topic.name: ~\n"
                            "    mapping:\n" MAP_OK;
    expect_error(text, "topics.b: errors.deadletterqueue.topic.name needs invalid-record ignore");
    text = HEAD "errors.tolerance: all\n"
                "errors.retry.timeout: 30000\n"
                "topics:\n"
                "  a:\n"
                "    errors.deadletterqueue.topic.name: a-dead\n"
                "    mapping:\n" MAP_OK "  b:\n"
                "    invalid-record: kill-task\n"
                "    errors.retry.timeout: 5\n"
                "    mapping:\n" MAP_OK;
    ak_inbound_config_t *cfg = load_ok(text);
    const ak_inbound_topic_config_t *a = ak_inbound_config_topic(cfg, "a", 1);
    const ak_inbound_topic_config_t *b = ak_inbound_config_topic(cfg, "b", 1);
    assert_int_equal(a->invalid_record, AK_INBOUND_INVALID_IGNORE); /* from errors.tolerance all */
    assert_string_equal(a->errors.dlq_topic, "a-dead");
    assert_int_equal(a->errors.retry_timeout_ms, 30000);
    assert_int_equal(b->invalid_record, AK_INBOUND_INVALID_KILL_TASK); /* the topic wins */
    assert_int_equal(b->errors.tolerance, AK_INBOUND_TOLERANCE_NONE);
    assert_int_equal(b->errors.retry_timeout_ms, 5);
    ak_inbound_config_free(cfg);
    expect_error(TOPIC("    errors.tolerance: none\n", MAP_OK),
                 "in.yml:6: topics.users: invalid-record ignore and errors.tolerance none disagree");
    expect_error(HEAD "topics:\n  users:\n    mapping:\n" MAP_OK,
                 "in.yml:4: topics.users.invalid-record: required (ignore or kill-task");
    expect_error(TOPIC("    errors.deadletterqueue.topic.name: 'bad name'\n", MAP_OK),
                 "topics.users: errors.deadletterqueue.topic.name: expected a Kafka topic name");
}

static void test_consumer_props(void **state)
{
    (void)state;
    expect_error("aerospike: {seeds: [db]}\ntopics: {}\n", "in.yml:2: topics: expected at least one topic");
    expect_error("consumer-props: {group.id: g}\naerospike: {seeds: [db]}\n"
                 "topics:\n  users:\n    invalid-record: ignore\n    mapping:\n" MAP_OK,
                 "in.yml:1: consumer-props.bootstrap.servers: required");
    expect_error("consumer-props:\n  bootstrap.servers: k\n  enable.auto.commit: true\n"
                 "aerospike: {seeds: [db]}\n"
                 "topics:\n  users:\n    invalid-record: ignore\n    mapping:\n" MAP_OK,
                 "in.yml:3: consumer-props.enable.auto.commit: must be false");
    ak_inbound_config_t *cfg = load_ok(
        "consumer-props:\n  bootstrap.servers: [k1:9092, k2:9092]\n  group.id: mine\n"
        "  value.deserializer: org.apache.kafka.common.serialization.StringDeserializer\n"
        "aerospike: {seeds: [db]}\n"
        "topics:\n  users:\n    invalid-record: ignore\n    mapping:\n" MAP_OK);
    assert_int_equal(cfg->consumer_props.n, 2);
    assert_string_equal(cfg->consumer_props.items[0].value, "k1:9092,k2:9092");
    assert_string_equal(cfg->consumer_props.items[1].value, "mine");
    assert_int_equal(cfg->consumer_props.items[1].line, 3);
    assert_int_equal(cfg->notes.n, 1);
    assert_non_null(strstr(cfg->notes.items[0], "in.yml:4: consumer-props.value.deserializer: ignored"));
    ak_inbound_config_free(cfg);
}

static void test_ttl_syntax(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
        int64_t ttl;
    } cases[] = {
        {"0", true, 0},        {"-1", true, -1},         {"-2", true, -2},     {"3600", true, 3600},
        {"100H", true, 360000}, {"10m", true, 600},      {"1D", true, 86400},  {"45s", true, 45},
        {"3650D", true, 315360000}, {"3651D", false, 0}, {"-3", false, 0},     {"-1D", false, 0},
        {"H", false, 0},       {"", false, 0},           {"1.5H", false, 0},   {"1W", false, 0},
        {" 1", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ttl = 12345;
        const char *why = NULL;
        bool ok = ak_inbound_ttl_parse(cases[i].text, strlen(cases[i].text), &ttl, &why);
        if (ok != cases[i].ok || (ok && ttl != cases[i].ttl))
            fail_msg("ttl \"%s\": ok %d ttl %lld", cases[i].text, ok, (long long)ttl);
        if (!ok)
            assert_non_null(why);
    }
}

static void test_config_docs_cover_inbound(void **state)
{
    (void)state;
    ak_buf_t out;
    ak_buf_init(&out);
    ak_inbound_config_render_docs(&out);
    ak_buf_append_byte(&out, 0);
    const char *md = (const char *)out.data;
    assert_non_null(strstr(md, "## Inbound connector: `aerospike-kafka-inbound.yml`"));
    assert_non_null(strstr(md, "| `max-queued-records` | integer 1..16777216 | `32768` |"));
    assert_non_null(strstr(md, "### `topics.<topic>.mapping`"));
    assert_non_null(strstr(md, "| `errors.deadletterqueue.topic.name` |"));
    assert_non_null(strstr(md, "### `aerospike.seeds[]`"));
    ak_buf_free(&out);
}

int main(void)
{
    init_root();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_config_loads),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_seed_forms_and_credentials),
        cmocka_unit_test(test_unknown_keys_and_wrong_types_name_file_and_line),
        cmocka_unit_test(test_mapping_field_errors),
        cmocka_unit_test(test_operation_and_tombstone_rules),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_errors_keys_inherit_and_must_agree),
        cmocka_unit_test(test_consumer_props),
        cmocka_unit_test(test_ttl_syntax),
        cmocka_unit_test(test_config_docs_cover_inbound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
