/*
 * The outbound configuration: loading aerospike-kafka-outbound.yml (every
 * key, every error with its FILE:LINE), per-record policy resolution
 * (set > namespace > global, port-based-config), routing and bin-transforms.
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
#include "common/ak_arena.h"
#include "common/ak_config.h"
#include "common/ak_yaml.h"
#include "outbound/ak_bin_transform.h"
#include "outbound/ak_outbound_config.h"
#include "outbound/ak_route.h"

/* ---- helpers ---- */

static char data_dir[1024];

static void init_data_dir(void)
{
    /* __FILE__ is tests/unit/test_outbound_config.c, absolute under CMake. */
    snprintf(data_dir, sizeof data_dir, "%s", __FILE__);
    char *slash = strrchr(data_dir, '/');
    if (slash)
        *slash = '\0';
    size_t len = strlen(data_dir);
    snprintf(data_dir + len, sizeof data_dir - len, "/../data/outbound");
}

static ak_outbound_config_t *load_data(const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    ak_error_t err;
    akt_error_reset(&err);
    ak_outbound_config_t *cfg = ak_outbound_config_load(path, &err);
    if (!cfg)
        fail_msg("%s: %s", path, err.message);
    return cfg;
}

static ak_outbound_config_t *load_text(const char *text, ak_error_t *err)
{
    akt_error_reset(err);
    return ak_outbound_config_load_string(text, strlen(text), "etc/a.yml", data_dir, err);
}

static ak_outbound_config_t *load_ok(const char *text)
{
    ak_error_t err;
    ak_outbound_config_t *cfg = load_text(text, &err);
    if (!cfg)
        fail_msg("unexpected error: %s", err.message);
    return cfg;
}

static void expect_error_at(const char *text, const char *expected, const char *file, int line)
{
    ak_error_t err;
    ak_outbound_config_t *cfg = load_text(text, &err);
    if (cfg) {
        ak_outbound_config_free(cfg);
        fail_msg("%s:%d: loaded, expected error: %s", file, line, expected);
    }
    if (strcmp(err.message, expected) != 0)
        fail_msg("%s:%d: wrong message\n  expected: %s\n  actual:   %s", file, line, expected,
                 err.message);
}
#define expect_error(text, expected) expect_error_at((text), (expected), __FILE__, __LINE__)

static const ak_outbound_policy_t *policy(const ak_outbound_config_t *cfg, uint16_t port, const char *ns,
                                          const char *set)
{
    return ak_outbound_policy_for(cfg, port, ns, strlen(ns), set, set ? strlen(set) : 0);
}

static ak_str_t str_of(const char *s)
{
    ak_str_t r = {s, strlen(s)};
    return r;
}

static void make_record(ak_record_t *rec, const char *ns, const char *set, ak_bin_t *bins, uint32_t n)
{
    ak_record_init(rec);
    rec->ns = str_of(ns);
    rec->set = str_of(set ? set : "");
    rec->bins = bins;
    rec->n_bins = n;
}

static ak_bin_t bin_of(const char *name, ak_value_t value)
{
    ak_bin_t b = {.name = str_of(name), .value = value};
    return b;
}

/* Routes a record of ns/set (no bins) with the policy the config gives it. */
static ak_route_result_t route_of(const ak_outbound_config_t *cfg, uint16_t port, const char *ns,
                                  const char *set, ak_buf_t *topic)
{
    ak_record_t rec;
    make_record(&rec, ns, set, NULL, 0);
    return ak_route_resolve(policy(cfg, port, ns, set)->routing, &rec, topic);
}

#define assert_routed(cfg, port, ns, set, expected)                                                \
    do {                                                                                           \
        ak_buf_t topic_;                                                                           \
        ak_buf_init(&topic_);                                                                      \
        assert_int_equal(route_of((cfg), (port), (ns), (set), &topic_), AK_ROUTE_ROUTED);          \
        assert_string_equal((const char *)topic_.data, (expected));                                \
        ak_buf_free(&topic_);                                                                      \
    } while (0)

/* ---- the spec's complete example ---- */

static void test_complete_example_loads_and_resolves(void **state)
{
    (void)state;
    ak_outbound_config_t *cfg = load_data("complete.yml");
    assert_int_equal(cfg->service.ports.n, 1);
    assert_int_equal(cfg->service.ports.items[0], 8080);
    assert_true(cfg->service.manage.enabled);
    assert_int_equal(cfg->service.manage.port, 8081);
    assert_int_equal(cfg->producer_props.n, 2);
    assert_string_equal(cfg->producer_props.items[0].name, "bootstrap.servers");
    assert_string_equal(cfg->producer_props.items[0].value, "kafka-1:9092,kafka-2:9092");
    assert_string_equal(cfg->producer_props.items[1].name, "acks");
    assert_string_equal(cfg->producer_props.items[1].value, "all");
    assert_true(cfg->logging.enable_console_logging);

    /* users/premium: set-level routing and bin map, namespace-level format. */
    const ak_outbound_policy_t *p = policy(cfg, 8080, "users", "premium");
    assert_int_equal(p->format->mode, AK_FORMAT_JSON);
    assert_routed(cfg, 8080, "users", "premium", "premium");
    ak_bin_t bins[] = {bin_of("gold", ak_value_int(1)), bin_of("yellow", ak_value_int(2))};
    ak_record_t rec, out;
    make_record(&rec, "users", "premium", bins, 2);
    ak_arena_t arena;
    ak_arena_init(&arena, 1024);
    ak_error_t err;
    akt_assert_ok(ak_bin_transform_apply(p->bin_transforms, &rec, &arena, &out, &err), &err);
    assert_int_equal(out.n_bins, 2);
    assert_memory_equal(out.bins[0].name.data, "platinum", 8);
    assert_int_equal(out.bins[0].name.len, 8);
    /* The set's bin-transforms replace the global ones whole: yellow stays. */
    assert_memory_equal(out.bins[1].name.data, "yellow", 6);

    /* users, another set: the namespace's routing and format, global bin map. */
    p = policy(cfg, 8080, "users", "other");
    assert_int_equal(p->format->mode, AK_FORMAT_JSON);
    assert_routed(cfg, 8080, "users", "other", "users");
    assert_routed(cfg, 8080, "users", NULL, "users");
    make_record(&rec, "users", "other", bins, 2);
    akt_assert_ok(ak_bin_transform_apply(p->bin_transforms, &rec, &arena, &out, &err), &err);
    assert_memory_equal(out.bins[1].name.data, "red", 3);

    /* Another namespace: everything global. */
    p = policy(cfg, 8080, "other", "x");
    assert_int_equal(p->format->mode, AK_FORMAT_FLAT_JSON);
    assert_string_equal(p->format->metadata_key, "metadata");
    assert_true(p->format->stringify_map_keys);
    assert_routed(cfg, 8080, "other", "x", "aerospike");

    /* Two distinct formats, indexed by the policies. */
    assert_int_equal(ak_outbound_config_format_count(cfg), 2);
    assert_ptr_equal(ak_outbound_config_format(cfg, p->format_index), p->format);
    assert_ptr_equal(ak_outbound_config_format(cfg, policy(cfg, 0, "users", "premium")->format_index),
                     policy(cfg, 0, "users", "x")->format);
    assert_null(ak_outbound_config_format(cfg, 2));
    ak_arena_destroy(&arena);
    ak_outbound_config_free(cfg);
}

/* ---- every key ---- */

static void test_every_key_of_every_section(void **state)
{
    (void)state;
    ak_outbound_config_t *cfg = load_data("all_keys.yml");
    const ak_outbound_service_config_t *svc = &cfg->service;
    assert_int_equal(svc->ports.n, 2);
    assert_int_equal(svc->ports.items[1], 8082);
    assert_int_equal(svc->addresses.n, 2);
    assert_string_equal(svc->addresses.items[1], "::1");
    assert_int_equal(svc->protocol, AK_XDR_PROTOCOL_HTTP_2);
    assert_true(svc->tls.enabled);
    assert_int_equal(svc->tls.ports.n, 1);
    assert_int_equal(svc->tls.ports.items[0], 8443);
    assert_string_equal(svc->tls.addresses.items[0], "0.0.0.0");
    /* Relative paths resolve against the config file's directory. */
    char expected[1200];
    snprintf(expected, sizeof expected, "%s/tls/cert.pem", data_dir);
    assert_string_equal(svc->tls.cert_file, expected);
    assert_string_equal(svc->tls.key_file, "/etc/aerokafka/key.pem");
    snprintf(expected, sizeof expected, "%s/tls/ca.pem", data_dir);
    assert_string_equal(svc->tls.ca_file, expected);
    assert_int_equal(svc->tls.allowed_peer_names.n, 2);
    assert_string_equal(svc->tls.allowed_peer_names.items[1], "xdr-2");
    assert_int_equal(svc->tls.protocols.n, 2);
    assert_string_equal(svc->tls.protocols.items[1], "TLSv1.3");
    assert_int_equal(svc->tls.ciphers.n, 1);
    assert_string_equal(svc->tls.ciphers.items[0], "ECDHE-RSA-AES128-GCM-SHA256");
    assert_true(svc->manage.enabled);
    assert_string_equal(svc->manage.address, "127.0.0.1");
    assert_int_equal(svc->manage.port, 8902);
    assert_int_equal(svc->io_threads, 4);
    assert_int_equal(svc->worker_threads, 8);
    assert_int_equal(svc->max_concurrent_records, 1000);
    assert_false(svc->enable_tcp_xdr_ack_buffering);
    assert_int_equal(svc->socket_receive_buffer_bytes, 131072);
    assert_string_equal(svc->cluster_name, "east");

    /* Serializers are dropped with a note; the rest is kept in order. */
    assert_int_equal(cfg->producer_props.n, 3);
    assert_string_equal(cfg->producer_props.items[0].value, "k1:9092,k2:9092");
    assert_string_equal(cfg->producer_props.items[1].name, "linger.ms");
    assert_string_equal(cfg->producer_props.items[1].value, "5");
    assert_string_equal(cfg->producer_props.items[2].value, "true");
    assert_int_equal(cfg->notes.n, 2);
    assert_non_null(strstr(cfg->notes.items[0], "all_keys.yml:30: producer-props.key.serializer: ignored"));

    /* Global format: avro, schema read from the file. */
    const ak_outbound_policy_t *p = policy(cfg, 8080, "other", NULL);
    assert_int_equal(p->format->mode, AK_FORMAT_AVRO);
    assert_non_null(strstr(p->format->schema, "\"type\": \"map\""));
    assert_non_null(strstr(p->format->schema_file, "schema.avsc"));
    assert_false(p->format->stringify_map_keys);
    assert_int_equal(p->routing->mode, AK_ROUTING_BIN);
    assert_string_equal(p->routing->bin, "topic");
    assert_string_equal(p->routing->default_topic, "fallback");
    assert_int_equal(p->routing->n_transforms, 4);
    assert_int_equal(p->routing->transforms[1].kind, AK_NAME_REGEX);
    assert_string_equal(p->routing->transforms[1].pattern, "[^A-Za-z0-9]");
    assert_string_equal(p->routing->transforms[1].replacement, "-");
    const ak_bin_transforms_t *bt = p->bin_transforms;
    assert_int_equal(bt->include.type, AK_BIN_FILTER_SPECIFIED);
    assert_int_equal(bt->include.bins.n, 4);
    assert_int_equal(bt->exclude.type, AK_BIN_FILTER_SPECIFIED);
    assert_int_equal(bt->map.n, 1);
    assert_string_equal(bt->map.items[0].value, "alpha");
    assert_int_equal(bt->n_transforms, 1);
    assert_int_equal(bt->transforms[0], AK_BIN_NAME_LOWERCASE);
    assert_false(bt->identity);
    assert_non_null(cfg->global.batching);
    assert_false(cfg->global.batching->enabled);
    assert_int_equal(cfg->global.batching->max_bytes, 1000000);
    assert_int_equal(cfg->global.batching->max_records, 100);
    assert_int_equal(cfg->global.batching->batch_interval_ms, 500);

    /* Routing by bin: trim, non-alphanumerics to '-', lower then upper case. */
    ak_bin_t bins[] = {bin_of("topic", ak_value_string("  Orders/EU 2 "))};
    ak_record_t rec;
    make_record(&rec, "other", NULL, bins, 1);
    ak_buf_t topic;
    ak_buf_init(&topic);
    assert_int_equal(ak_route_resolve(p->routing, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "ORDERS-EU-2");

    /* Namespace test: kafka (alias of kafka-avro) with inline schema and props. */
    p = policy(cfg, 8080, "test", "x");
    assert_int_equal(p->format->mode, AK_FORMAT_KAFKA_AVRO);
    assert_string_equal(p->format->schema, "{\"type\": \"string\"}");
    assert_null(p->format->schema_file);
    assert_string_equal(p->format->registry_topic, "reg");
    assert_string_equal(p->format->metadata_key, "meta");
    assert_int_equal(p->format->n_props, 2);
    assert_string_equal(p->format->props[0].name, "schema.registry.url");
    assert_string_equal(p->format->props[0].value, "http://registry:8081");
    assert_int_equal(p->routing->mode, AK_ROUTING_SET);
    assert_int_equal(p->bin_transforms->include.type, AK_BIN_FILTER_NONE);
    assert_routed(cfg, 8080, "test", "x", "x");
    assert_routed(cfg, 8080, "test", NULL, "test-default");

    /* Set test/demo. */
    p = policy(cfg, 8080, "test", "demo");
    assert_int_equal(p->format->mode, AK_FORMAT_MESSAGE_PACK);
    assert_int_equal(p->routing->mode, AK_ROUTING_NAMESPACE);
    assert_int_equal(p->bin_transforms->exclude.type, AK_BIN_FILTER_ALL);
    assert_routed(cfg, 8080, "test", "demo", "test");

    /* Port 8082: its own sections, then its namespaces. */
    p = policy(cfg, 8082, "other", NULL);
    assert_int_equal(p->format->mode, AK_FORMAT_JSON);
    assert_false(p->format->stringify_map_keys);
    assert_int_equal(p->routing->mode, AK_ROUTING_SKIP);
    assert_int_equal(route_of(cfg, 8082, "other", NULL, &topic), AK_ROUTE_SKIP);
    assert_int_equal(p->bin_transforms->transforms[0], AK_BIN_NAME_UPPERCASE);
    assert_routed(cfg, 8082, "test", "x", "port-test");
    assert_routed(cfg, 8082, "test", "demo", "port-test-demo");
    /* Port 8082 format beats the global namespace's. */
    assert_int_equal(policy(cfg, 8082, "test", "demo")->format->mode, AK_FORMAT_JSON);

    const ak_outbound_logging_config_t *log = &cfg->logging;
    assert_string_equal(log->file, "/var/log/aerokafka.log");
    assert_false(log->enable_console_logging);
    assert_int_equal(log->n_levels, 3);
    assert_string_equal(log->levels[0].logger, "root");
    assert_int_equal(log->levels[0].level, AK_LOG_DEBUG);
    assert_string_equal(log->levels[1].logger, "com.aerospike.connect");
    assert_int_equal(log->levels[1].level, AK_LOG_WARN);
    assert_int_equal(log->levels[2].level, AK_LOG_OFF);
    assert_int_equal(log->max_history, 7);
    assert_int_equal(log->ticker_interval_s, 60);

    /* avro, kafka-avro, message-pack, json (port 8082). */
    assert_int_equal(ak_outbound_config_format_count(cfg), 4);
    ak_buf_free(&topic);
    ak_outbound_config_free(cfg);
}

static void test_empty_file_gives_defaults(void **state)
{
    (void)state;
    ak_outbound_config_t *cfg = load_ok("# nothing\n");
    const ak_outbound_service_config_t *svc = &cfg->service;
    assert_int_equal(svc->ports.n, 1);
    assert_int_equal(svc->ports.items[0], 8080);
    assert_int_equal(svc->addresses.n, 1);
    assert_string_equal(svc->addresses.items[0], "0.0.0.0");
    assert_int_equal(svc->protocol, AK_XDR_PROTOCOL_TCP);
    assert_false(svc->tls.enabled);
    assert_false(svc->manage.enabled);
    assert_int_equal(svc->io_threads, 0);
    assert_int_equal(svc->max_concurrent_records, 32768);
    assert_true(svc->enable_tcp_xdr_ack_buffering);
    assert_int_equal(svc->socket_receive_buffer_bytes, 32768);
    assert_string_equal(svc->cluster_name, "aerospike-kafka-outbound");
    assert_int_equal(cfg->producer_props.n, 0);
    assert_int_equal(cfg->logging.n_levels, 1);
    assert_string_equal(cfg->logging.levels[0].logger, "root");
    assert_int_equal(cfg->logging.levels[0].level, AK_LOG_INFO);
    assert_int_equal(cfg->logging.max_history, 30);
    assert_int_equal(cfg->logging.ticker_interval_s, 10);
    assert_false(cfg->logging.enable_console_logging);
    assert_null(cfg->logging.file);

    /* No format or routing anywhere: the record is skipped. */
    const ak_outbound_policy_t *p = policy(cfg, 8080, "test", "demo");
    assert_null(p->format);
    assert_int_equal(p->format_index, SIZE_MAX);
    assert_null(p->routing);
    assert_non_null(p->bin_transforms);
    assert_true(p->bin_transforms->identity);
    ak_buf_t topic;
    ak_buf_init(&topic);
    assert_int_equal(route_of(cfg, 8080, "test", "demo", &topic), AK_ROUTE_UNROUTABLE);
    ak_buf_free(&topic);
    assert_int_equal(ak_outbound_config_format_count(cfg), 0);
    ak_outbound_config_free(cfg);
}

static void test_scalar_or_list_forms(void **state)
{
    (void)state;
    ak_outbound_config_t *cfg = load_ok("service:\n"
                                        "  port: [3000, 3001]\n"
                                        "  address: 10.0.0.1\n"
                                        "  protocol: http_1_1\n"
                                        "  enable-tcp-xdr-ack-buffering: yes\n"
                                        "producer-props:\n"
                                        "  bootstrap.servers: one:9092\n"
                                        "  empty:\n"
                                        "  retries: 5\n");
    assert_int_equal(cfg->service.ports.n, 2);
    assert_int_equal(cfg->service.ports.items[1], 3001);
    assert_int_equal(cfg->service.addresses.n, 1);
    assert_string_equal(cfg->service.addresses.items[0], "10.0.0.1");
    assert_int_equal(cfg->service.protocol, AK_XDR_PROTOCOL_HTTP_1_1);
    assert_true(cfg->service.enable_tcp_xdr_ack_buffering);
    assert_int_equal(cfg->producer_props.n, 2); /* `empty:` counts as not given */
    assert_string_equal(cfg->producer_props.items[0].value, "one:9092");
    assert_string_equal(cfg->producer_props.items[1].value, "5");
    ak_outbound_config_free(cfg);

    /* Only TLS: no plain port by default. */
    cfg = load_ok("service:\n  tls: {port: 8443, cert-file: c.pem, key-file: k.pem}\n");
    assert_int_equal(cfg->service.ports.n, 0);
    assert_int_equal(cfg->service.tls.protocols.n, 1);
    assert_string_equal(cfg->service.tls.protocols.items[0], "TLSv1.2");
    ak_outbound_config_free(cfg);
}

static void test_equal_formats_are_one_distinct_format(void **state)
{
    (void)state;
    ak_outbound_config_t *cfg = load_ok("format: {mode: json}\n"
                                        "namespaces:\n"
                                        "  a: {format: {mode: json}}\n"
                                        "  b: {format: {mode: json, stringify-map-keys: false}}\n"
                                        "  c: {format: {mode: JSON, stringify-map-keys: true}}\n");
    assert_int_equal(ak_outbound_config_format_count(cfg), 2);
    assert_ptr_equal(policy(cfg, 0, "a", NULL)->format, policy(cfg, 0, "c", NULL)->format);
    assert_int_equal(policy(cfg, 0, "b", NULL)->format_index, 1);
    ak_outbound_config_free(cfg);
}

/* ---- errors: exact FILE:LINE and key ---- */

static void test_unknown_keys_name_line_and_suggest(void **state)
{
    (void)state;
    expect_error("service:\n  port: 8080\nrouting:\n  mode: static\n  destinaton: x\n",
                 "etc/a.yml:5: routing: unknown key 'destinaton' (did you mean 'destination'?)");
    expect_error("servce:\n  port: 8080\n", "etc/a.yml:1: unknown key 'servce' (did you mean 'service'?)");
    expect_error("service:\n  xyzzy: 1\n", "etc/a.yml:2: service: unknown key 'xyzzy'");
    expect_error("namespaces:\n  test:\n    sets:\n      demo:\n        routng: {mode: skip}\n",
                 "etc/a.yml:5: namespaces.test.sets.demo: unknown key 'routng' (did you mean 'routing'?)");
    expect_error("service:\n  tls:\n    port: 1\n    cert-fle: a\n",
                 "etc/a.yml:4: service.tls: unknown key 'cert-fle' (did you mean 'cert-file'?)");
    expect_error("routing:\n  mode: set\n  transforms:\n    - regex: {pattern: a, replace: b}\n",
                 "etc/a.yml:4: routing.transforms[0].regex: unknown key 'replace' (did you mean 'replacement'?)");
    expect_error("port-based-config:\n  8080:\n    namespace: {}\n",
                 "etc/a.yml:3: port-based-config.8080: unknown key 'namespace' (did you mean 'namespaces'?)");
}

static void test_wrong_types_and_ranges(void **state)
{
    (void)state;
    expect_error("service:\n  port: 80a\n", "etc/a.yml:2: service.port: expected an integer 1..65535, got \"80a\"");
    expect_error("service:\n  port: 70000\n",
                 "etc/a.yml:2: service.port: expected an integer 1..65535, got \"70000\"");
    expect_error("service:\n  port:\n    - 8080\n    - zero\n",
                 "etc/a.yml:4: service.port: expected an integer 1..65535, got \"zero\"");
    expect_error("service:\n  port: []\n",
                 "etc/a.yml:2: service.port: expected an integer 1..65535 or a non-empty list of them, got an empty list");
    expect_error("service:\n  port: {a: 1}\n",
                 "etc/a.yml:2: service.port: expected an integer 1..65535 or a non-empty list of them, got a mapping");
    expect_error("service:\n  protocol: UDP\n",
                 "etc/a.yml:2: service.protocol: expected one of TCP, HTTP_1_1, HTTP_2, got \"UDP\"");
    expect_error("service:\n  enable-tcp-xdr-ack-buffering: maybe\n",
                 "etc/a.yml:2: service.enable-tcp-xdr-ack-buffering: expected true or false, got \"maybe\"");
    expect_error("service:\n  max-concurrent-records: 0\n",
                 "etc/a.yml:2: service.max-concurrent-records: expected an integer 1..16777216, got \"0\"");
    expect_error("service:\n  socket-receive-buffer-bytes: 12\n",
                 "etc/a.yml:2: service.socket-receive-buffer-bytes: expected an integer 1024..1073741824, got \"12\"");
    expect_error("service:\n  io-threads: -1\n", "etc/a.yml:2: service.io-threads: expected an integer 0..1024, got \"-1\"");
    expect_error("service:\n  cluster-name: [a, b]\n", "etc/a.yml:2: service.cluster-name: expected a string, got a list");
    expect_error("service:\n  address: [a, [b]]\n",
                 "etc/a.yml:2: service.address: expected a string or a list of strings, got a list in the list");
    expect_error("service: 8080\n", "etc/a.yml:1: service: expected a mapping of keys, got \"8080\"");
    expect_error("- a\n- b\n", "etc/a.yml:1: expected a mapping of sections at the top level, got a list");
    expect_error("producer-props: [a]\n",
                 "etc/a.yml:1: producer-props: expected a mapping of names to values, got a list");
    expect_error("producer-props:\n  acks: {x: 1}\n",
                 "etc/a.yml:2: producer-props.acks: expected a string or a list of strings, got a mapping");
    expect_error("format:\n  mode: json\n  stringify-map-keys: 2\n",
                 "etc/a.yml:3: format.stringify-map-keys: expected true or false, got \"2\"");
    expect_error("format:\n  mode: protobuf\n",
                 "etc/a.yml:2: format.mode: expected one of json, flat-json, message-pack, avro, kafka-avro, got \"protobuf\"");
    expect_error("routing:\n  mode: topic\n",
                 "etc/a.yml:2: routing.mode: expected one of static, skip, namespace, set, bin, got \"topic\"");
    expect_error("namespaces: [a]\n", "etc/a.yml:1: namespaces: expected a mapping, got a list");
    expect_error("port-based-config:\n  dc1: {}\n",
                 "etc/a.yml:2: port-based-config: expected an integer 1..65535, got \"dc1\"");
    expect_error("logging:\n  levels:\n    root: loud\n",
                 "etc/a.yml:3: logging.levels.root: expected one of trace, debug, info, warn, error, off, got \"loud\"");
    expect_error("logging:\n  max-history: many\n", "etc/a.yml:2: logging.max-history: expected an integer 0..100000, got \"many\"");
    expect_error("bin-transforms:\n  include: {type: some}\n",
                 "etc/a.yml:2: bin-transforms.include.type: expected one of all, none, specified, got \"some\"");
    expect_error("bin-transforms:\n  transforms: [uppercase, reverse]\n",
                 "etc/a.yml:2: bin-transforms.transforms[1]: expected uppercase or lowercase, got \"reverse\"");
    expect_error("routing:\n  mode: set\n  transforms:\n    - lowercase\n    - shout\n",
                 "etc/a.yml:5: routing.transforms[1]: expected lowercase, uppercase, trim or {regex: {pattern, replacement}}, got \"shout\"");
}

static void test_missing_required_keys(void **state)
{
    (void)state;
    expect_error("format:\n  metadata-key: m\n", "etc/a.yml:1: format.mode: required");
    expect_error("service:\n  port: 8080\nformat:\n  mode: flat-json\n",
                 "etc/a.yml:3: format.metadata-key: required when mode is flat-json");
    expect_error("format:\n  mode: avro\n", "etc/a.yml:1: format.schema: required when mode is avro (or schema-file)");
    expect_error("format:\n  mode: avro\n  schema: x\n  schema-file: y\n",
                 "etc/a.yml:4: format: give schema or schema-file, not both");
    expect_error("format:\n  mode: kafka-avro\n  schema: x\n",
                 "etc/a.yml:1: format.props: required when mode is kafka-avro (schema.registry.url, ...)");
    expect_error("routing:\n  mode: static\n", "etc/a.yml:1: routing.destination: required when mode is static");
    expect_error("namespaces:\n  ns:\n    routing: {mode: bin}\n",
                 "etc/a.yml:3: namespaces.ns.routing.bin: required when mode is bin");
    expect_error("routing:\n  mode: set\n  transforms:\n    - regex: {replacement: b}\n",
                 "etc/a.yml:4: routing.transforms[0].regex.pattern: required");
    expect_error("bin-transforms:\n  include:\n    type: specified\n",
                 "etc/a.yml:2: bin-transforms.include.bins: required when type is specified");
    expect_error("service:\n  tls:\n    port: 8443\n    cert-file: c.pem\n",
                 "etc/a.yml:2: service.tls.key-file: required");
    expect_error("service:\n  tls:\n    cert-file: c.pem\n    key-file: k.pem\n", "etc/a.yml:2: service.tls.port: required");
    expect_error("service:\n  tls:\n    port: 8443\n    cert-file: c.pem\n    key-file: k.pem\n    allowed-peer-names: [a]\n",
                 "etc/a.yml:6: service.tls.ca-file: required with allowed-peer-names (peers are verified against it)");
    expect_error("service:\n  manage:\n    address: 0.0.0.0\n", "etc/a.yml:2: service.manage.port: required");
}

static void test_refused_features_explain_why(void **state)
{
    (void)state;
    expect_error("service:\n  port: 8080\n  tls:\n    port: 8443\n    key-store:\n      store-file: ks.jks\n",
                 "etc/a.yml:5: service.tls.key-store: JKS/PKCS12 stores are not supported: aerokafka needs "
                 "PEM files (cert-file, key-file, ca-file); convert with keytool -importkeystore "
                 "-deststoretype PKCS12, then openssl pkcs12 -nodes (see docs/CONFIGURATION.md)");
    ak_error_t err;
    assert_null(load_text("service:\n  tls:\n    trust-store: {store-file: t.jks}\n", &err));
    assert_non_null(strstr(err.message, "etc/a.yml:3: service.tls.trust-store: JKS/PKCS12 stores are not supported"));

    const char *custom = "needs a Java plug-in (custom transformer, router or formatter), and aerokafka "
                         "cannot run Java plug-ins; use the built-in modes";
    char expected[512];
    snprintf(expected, sizeof expected, "etc/a.yml:1: custom-transformer: %s", custom);
    expect_error("custom-transformer:\n  class: com.example.T\n", expected);
    snprintf(expected, sizeof expected, "etc/a.yml:3: namespaces.test.custom-transformer: %s", custom);
    expect_error("namespaces:\n  test:\n    custom-transformer: {class: x}\n", expected);
    snprintf(expected, sizeof expected, "etc/a.yml:5: namespaces.test.sets.s.custom-transformer: %s", custom);
    expect_error("namespaces:\n  test:\n    sets:\n      s:\n        custom-transformer:\n", expected);
    snprintf(expected, sizeof expected, "etc/a.yml:2: routing.mode: 'custom' %s", custom);
    expect_error("routing:\n  mode: custom\n  class: com.example.Router\n", expected);
    snprintf(expected, sizeof expected, "etc/a.yml:3: format.mode: 'custom' %s", custom);
    expect_error("format:\n\n  mode: custom\n", expected);
    snprintf(expected, sizeof expected, "etc/a.yml:2: format.class: %s", custom);
    expect_error("format:\n  class: com.example.F\n  mode: custom\n", expected);
    expect_error("routing:\n  mode: path\n",
                 "etc/a.yml:2: routing.mode: 'path' was the 1.x HTTP connector's mode; XDR sends no URL path");
    snprintf(expected, sizeof expected, "etc/a.yml:3: port-based-config.8080.custom-transformer: %s", custom);
    expect_error("port-based-config:\n  8080:\n    custom-transformer: {}\n", expected);

    /* batching: only disabled. */
    expect_error("batching:\n  enabled: true\n",
                 "etc/a.yml:2: batching.enabled: batching only feeds a custom BatchFormatter (a Java "
                 "plug-in aerokafka cannot run); set `enabled: false` or remove the section");
    expect_error("namespaces:\n  n:\n    batching:\n      max-records: 10\n",
                 "etc/a.yml:3: namespaces.n.batching.enabled: batching only feeds a custom BatchFormatter (a Java "
                 "plug-in aerokafka cannot run); set `enabled: false` or remove the section");
    expect_error("batching:\n  enabled: false\n  max-records: 0\n",
                 "etc/a.yml:3: batching.max-records: expected an integer 1..2147483647, got \"0\"");
}

static void test_value_checks_across_keys(void **state)
{
    (void)state;
    expect_error("routing:\n  mode: static\n  destination: \"bad topic\"\n",
                 "etc/a.yml:3: routing.destination: expected a Kafka topic name (1..249 of a-z A-Z 0-9 . _ -), got \"bad topic\"");
    expect_error("routing:\n  mode: set\n  default: ..\n",
                 "etc/a.yml:3: routing.default: expected a Kafka topic name (1..249 of a-z A-Z 0-9 . _ -), got \"..\"");
    expect_error("routing:\n  mode: set\n  transforms:\n    - regex:\n        pattern: \"a(b\"\n",
                 "etc/a.yml:5: routing.transforms[0].regex.pattern: not a POSIX extended regular expression "
                 "(Unmatched ( or \\(): \"a(b\"");
    char missing[1400];
    snprintf(missing, sizeof missing,
             "etc/a.yml:3: format.schema-file: cannot read %s/missing.avsc: No such file or directory", data_dir);
    expect_error("format:\n  mode: avro\n  schema-file: missing.avsc\n", missing);
    expect_error("format:\n  mode: kafka-avro\n  schema: x\n  props:\n    schema.registry.url: http://r\n"
                 "    value.subject.name.strategy: io.confluent.kafka.serializers.subject.TopicNameStrategy\n",
                 "etc/a.yml:6: format.props.value.subject.name.strategy: TopicNameStrategy cannot hold both "
                 "the write and the delete schema; use RecordNameStrategy or TopicRecordNameStrategy");
    expect_error("bin-transforms:\n  map:\n    a: \"\"\n", "etc/a.yml:3: bin-transforms.map.a: expected a new bin name, got \"\"");
    expect_error("service:\n  port: 8080\n  tls:\n    port: 8080\n    cert-file: c\n    key-file: k\n",
                 "etc/a.yml:4: service.tls.port: 8080 is also a plain port in service.port");
    expect_error("service:\n  port: 8080\n  manage: {port: 8080}\n", "etc/a.yml:3: service.manage.port: 8080 is also an XDR port");
    expect_error("service:\n  tls:\n    port: 1\n    cert-file: c\n    key-file: k\n    protocols: [SSLv3]\n",
                 "etc/a.yml:6: service.tls.protocols: expected TLSv1.2 or TLSv1.3, got \"SSLv3\"");
    expect_error("service:\n  port: 8080\nport-based-config:\n  9000:\n    routing: {mode: skip}\n",
                 "etc/a.yml:4: port-based-config: 9000 is not a listening port (service.port or service.tls.port)");
}

static void test_yaml_errors(void **state)
{
    (void)state;
    expect_error("service:\n  port: 8080\n  port: 8081\n", "etc/a.yml:3: duplicate key 'port' (first at line 2)");
    ak_error_t err;
    assert_null(load_text("service:\n  port: [8080\n", &err));
    assert_non_null(strstr(err.message, "etc/a.yml:3: "));
    assert_null(ak_outbound_config_load("/nonexistent/a.yml", &err));
    assert_string_equal(err.message, "/nonexistent/a.yml: No such file or directory");
    /* An alias to an enclosing anchor is a cycle: refused, not followed. */
    assert_null(load_text("a: &x [1, *x]\n", &err));
    assert_non_null(strstr(err.message, "etc/a.yml:"));
}

static void test_yaml_tree(void **state)
{
    (void)state;
    const char *text = "a: 1\nb:\n  - x\n  - 'null'\n  - ~\nc: {d: e}\nf: &anchor v\ng: *anchor\n";
    ak_error_t err;
    ak_yaml_doc_t *doc = ak_yaml_load_string(text, strlen(text), "t.yml", &err);
    assert_non_null(doc);
    const ak_yaml_node_t *b = ak_yaml_get(doc->root, "b");
    assert_int_equal(b->kind, AK_YAML_SEQUENCE);
    assert_int_equal(b->n_items, 3);
    assert_int_equal(b->line, 3);
    assert_int_equal(b->column, 3);
    assert_int_equal(b->items[1]->kind, AK_YAML_SCALAR); /* quoted: a string */
    assert_true(b->items[1]->quoted);
    assert_int_equal(b->items[2]->kind, AK_YAML_NULL);
    assert_string_equal(ak_yaml_get(ak_yaml_get(doc->root, "c"), "d")->text, "e");
    assert_string_equal(ak_yaml_get(doc->root, "g")->text, "v");
    assert_int_equal(ak_yaml_get_key(doc->root, "c")->line, 6);
    assert_null(ak_yaml_get(doc->root, "zz"));
    char got[64];
    ak_yaml_describe(ak_yaml_get(doc->root, "c"), got, sizeof got);
    assert_string_equal(got, "a mapping");
    ak_yaml_free(doc);

    const char *names[] = {"destination", "default", "transforms"};
    assert_string_equal(ak_config_suggest("destinaton", names, 3), "destination");
    assert_string_equal(ak_config_suggest("defualt", names, 3), "default");
    assert_null(ak_config_suggest("xyz", names, 3));
}

/* ---- port-based-config ---- */

static void test_port_based_config_resolution(void **state)
{
    (void)state;
    ak_outbound_config_t *cfg = load_data("port_based.yml");
    /* No port-based-config for 8080 (and for an unknown port or 0). */
    assert_routed(cfg, 8080, "users", "vip", "global-users-vip");
    assert_routed(cfg, 8080, "users", "x", "global-users");
    assert_routed(cfg, 8080, "orders", NULL, "global");
    assert_routed(cfg, 9999, "users", "vip", "global-users-vip");
    assert_routed(cfg, 0, "orders", NULL, "global");
    assert_int_equal(policy(cfg, 8080, "users", "vip")->format->mode, AK_FORMAT_MESSAGE_PACK);

    /* 8081: port set > port namespace > port > global set > global ns > global. */
    assert_routed(cfg, 8081, "users", "vip", "dc1-users-vip");
    assert_routed(cfg, 8081, "users", "other", "dc1");
    assert_routed(cfg, 8081, "orders", "x", "orders");
    assert_routed(cfg, 8081, "misc", NULL, "dc1");
    assert_int_equal(policy(cfg, 8081, "users", "vip")->format->mode, AK_FORMAT_MESSAGE_PACK);
    assert_int_equal(policy(cfg, 8081, "orders", NULL)->format->mode, AK_FORMAT_JSON);

    /* 8082: only a format; routing comes from the global levels. */
    assert_routed(cfg, 8082, "users", "vip", "global-users-vip");
    assert_routed(cfg, 8082, "misc", NULL, "global");
    const ak_outbound_policy_t *p = policy(cfg, 8082, "users", "vip");
    assert_int_equal(p->format->mode, AK_FORMAT_FLAT_JSON);
    assert_string_equal(p->format->metadata_key, "md");

    /* json (global and 8081/orders, equal), message-pack, flat-json. */
    assert_int_equal(ak_outbound_config_format_count(cfg), 3);
    assert_ptr_equal(policy(cfg, 8081, "orders", NULL)->format, policy(cfg, 8080, "misc", NULL)->format);
    ak_outbound_config_free(cfg);
}

/* ---- routing ---- */

static ak_route_result_t resolve(const ak_routing_t *r, const ak_record_t *rec, ak_buf_t *topic)
{
    return ak_route_resolve(r, rec, topic);
}

static void test_routing_modes(void **state)
{
    (void)state;
    ak_routing_t r = {.mode = AK_ROUTING_SET};
    ak_record_t rec;
    ak_buf_t topic;
    ak_buf_init(&topic);
    make_record(&rec, "ns", "demo", NULL, 0);
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "demo");
    assert_int_equal(topic.len, 4);

    /* No set: default, else unroutable. */
    make_record(&rec, "ns", NULL, NULL, 0);
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_UNROUTABLE);
    r.default_topic = "fallback";
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "fallback");

    /* A set name that is no legal topic: default. */
    make_record(&rec, "ns", "a b", NULL, 0);
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "fallback");
    r.default_topic = NULL;
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_UNROUTABLE);

    r.mode = AK_ROUTING_NAMESPACE;
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "ns");

    r.mode = AK_ROUTING_SKIP;
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_SKIP);
    r.mode = AK_ROUTING_STATIC;
    r.destination = "fixed";
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "fixed");
    assert_int_equal(resolve(NULL, &rec, &topic), AK_ROUTE_UNROUTABLE);

    /* Bin mode: string, blob, integer; other types and missing bins: default. */
    static const uint8_t blob[] = {'b', 'l', 'o', 'b'};
    ak_bin_t bins[] = {bin_of("s", ak_value_string("Str")), bin_of("b", ak_value_blob(blob, 4)),
                       bin_of("i", ak_value_int(-42)), bin_of("d", ak_value_double(1.5))};
    make_record(&rec, "ns", "set", bins, 4);
    r = (ak_routing_t){.mode = AK_ROUTING_BIN, .bin = "s"};
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "Str");
    r.bin = "b";
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "blob");
    r.bin = "i";
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "-42");
    r.bin = "d";
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_UNROUTABLE);
    r.default_topic = "dflt";
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "dflt");
    r.bin = "missing";
    assert_int_equal(resolve(&r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "dflt");
    ak_buf_free(&topic);
}

static void test_topic_names(void **state)
{
    (void)state;
    char long_name[251];
    memset(long_name, 'a', 250);
    long_name[250] = '\0';
    assert_true(ak_route_topic_is_legal("a.b_c-D9", 8));
    assert_true(ak_route_topic_is_legal(long_name, 249));
    assert_false(ak_route_topic_is_legal(long_name, 250));
    assert_false(ak_route_topic_is_legal("", 0));
    assert_false(ak_route_topic_is_legal(".", 1));
    assert_false(ak_route_topic_is_legal("..", 2));
    assert_true(ak_route_topic_is_legal("...", 3));
    assert_false(ak_route_topic_is_legal("a/b", 3));
    assert_false(ak_route_topic_is_legal("é", 2));
}

static void test_regex_transforms(void **state)
{
    (void)state;
    ak_outbound_config_t *cfg = load_ok("routing:\n"
                                        "  mode: set\n"
                                        "  default: none-left\n"
                                        "  transforms:\n"
                                        "    - trim\n"
                                        "    - regex: {pattern: \"^([a-z]+)_([0-9]+)$\", replacement: \"$2.$1\"}\n"
                                        "    - regex: {pattern: \"x*\", replacement: \"-\"}\n"
                                        "    - uppercase\n");
    const ak_routing_t *r = policy(cfg, 0, "ns", NULL)->routing;
    ak_buf_t topic;
    ak_buf_init(&topic);
    ak_record_t rec;
    /* Groups swap; then Java's replaceAll of an empty-matching pattern puts
     * the replacement between every character. */
    make_record(&rec, "ns", " abc_12\t", NULL, 0);
    assert_int_equal(ak_route_resolve(r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "-1-2-.-A-B-C-");
    ak_outbound_config_free(cfg);

    /* A name emptied by the transforms falls back to default. */
    cfg = load_ok("routing:\n  mode: namespace\n  default: dflt\n  transforms:\n"
                  "    - regex: {pattern: \"[^A-Za-z0-9]\"}\n    - lowercase\n");
    r = policy(cfg, 0, "ns", NULL)->routing;
    make_record(&rec, "My-NS.1", NULL, NULL, 0);
    assert_int_equal(ak_route_resolve(r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "myns1");
    make_record(&rec, "--", NULL, NULL, 0);
    assert_int_equal(ak_route_resolve(r, &rec, &topic), AK_ROUTE_ROUTED);
    assert_string_equal((const char *)topic.data, "dflt");
    ak_outbound_config_free(cfg);

    /* Literal $ and \ in replacements. */
    ak_name_transform_t tr = {.kind = AK_NAME_REGEX, .replacement = "\\$-\\\\"};
    assert_int_equal(regcomp(&tr.regex, "b", REG_EXTENDED), 0);
    ak_buf_clear(&topic);
    ak_buf_append_str(&topic, "abcb");
    assert_true(ak_route_apply_transforms(&tr, 1, &topic));
    assert_int_equal(topic.len, 8);
    assert_memory_equal(topic.data, "a$-\\c$-\\", 8);
    regfree(&tr.regex);
    ak_buf_free(&topic);
}

/* ---- bin-transforms ---- */

static ak_bin_transforms_t *bt_of(ak_outbound_config_t **cfg, const char *yaml)
{
    *cfg = load_ok(yaml);
    return (ak_bin_transforms_t *)policy(*cfg, 0, "ns", NULL)->bin_transforms;
}

static void assert_names(const ak_record_t *rec, const char *const *names, uint32_t n)
{
    assert_int_equal(rec->n_bins, n);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(rec->bins[i].name.len, strlen(names[i]));
        assert_memory_equal(rec->bins[i].name.data, names[i], rec->bins[i].name.len);
    }
}

static void test_bin_transforms(void **state)
{
    (void)state;
    ak_arena_t arena;
    ak_arena_init(&arena, 1024);
    ak_error_t err;
    ak_bin_t bins[] = {bin_of("a", ak_value_int(1)), bin_of("B", ak_value_int(2)), bin_of("c", ak_value_int(3)),
                       bin_of("d", ak_value_int(4))};
    ak_record_t rec, out;
    make_record(&rec, "ns", "s", bins, 4);

    /* Identity: the record is shared, no array built. */
    akt_assert_ok(ak_bin_transform_apply(NULL, &rec, &arena, &out, &err), &err);
    assert_ptr_equal(out.bins, rec.bins);
    ak_outbound_config_t *cfg;
    ak_bin_transforms_t *bt = bt_of(&cfg, "bin-transforms: {}\n");
    assert_true(bt->identity);
    akt_assert_ok(ak_bin_transform_apply(bt, &rec, &arena, &out, &err), &err);
    assert_ptr_equal(out.bins, rec.bins);
    ak_outbound_config_free(cfg);

    /* include/exclude (exclude wins), map skips transforms, transforms in order. */
    bt = bt_of(&cfg, "bin-transforms:\n"
                     "  include: {type: specified, bins: [a, B, c]}\n"
                     "  exclude: {type: specified, bins: [c, d]}\n"
                     "  map: {a: keep_Me}\n"
                     "  transforms: [uppercase, lowercase]\n");
    akt_assert_ok(ak_bin_transform_apply(bt, &rec, &arena, &out, &err), &err);
    const char *names1[] = {"keep_Me", "b"};
    assert_names(&out, names1, 2);
    assert_int_equal(out.bins[1].value.u.integer, 2);
    assert_memory_equal(rec.bins[1].name.data, "B", 1); /* input untouched */
    assert_ptr_equal(out.ns.data, rec.ns.data);
    ak_outbound_config_free(cfg);

    bt = bt_of(&cfg, "bin-transforms:\n  exclude: {type: all}\n");
    akt_assert_ok(ak_bin_transform_apply(bt, &rec, &arena, &out, &err), &err);
    assert_int_equal(out.n_bins, 0);
    ak_outbound_config_free(cfg);
    bt = bt_of(&cfg, "bin-transforms:\n  include: {type: none}\n");
    akt_assert_ok(ak_bin_transform_apply(bt, &rec, &arena, &out, &err), &err);
    assert_int_equal(out.n_bins, 0);
    ak_outbound_config_free(cfg);

    /* Two bins ending with one name: an error naming both. */
    bt = bt_of(&cfg, "bin-transforms:\n  transforms: [lowercase]\n");
    ak_bin_t clash[] = {bin_of("x", ak_value_int(1)), bin_of("Name", ak_value_int(2)), bin_of("NAME", ak_value_int(3))};
    make_record(&rec, "ns", "s", clash, 3);
    akt_assert_status(ak_bin_transform_apply(bt, &rec, &arena, &out, &err), AK_ERR_INVALID_ARG, &err);
    assert_string_equal(err.message, "bin-transforms: bins 'Name' and 'NAME' both become 'name'");
    ak_outbound_config_free(cfg);
    bt = bt_of(&cfg, "bin-transforms:\n  map: {a: b}\n");
    ak_bin_t clash2[] = {bin_of("a", ak_value_int(1)), bin_of("b", ak_value_int(2))};
    make_record(&rec, "ns", "s", clash2, 2);
    akt_assert_status(ak_bin_transform_apply(bt, &rec, &arena, &out, &err), AK_ERR_INVALID_ARG, &err);
    assert_string_equal(err.message, "bin-transforms: bins 'a' and 'b' both become 'b'");
    ak_outbound_config_free(cfg);

    /* Many bins: the sorted check finds the clash too. */
    bt = bt_of(&cfg, "bin-transforms:\n  transforms: [uppercase]\n");
    static char many_names[40][8];
    ak_bin_t many[40];
    for (int i = 0; i < 40; i++) {
        snprintf(many_names[i], sizeof many_names[i], "b%d", i);
        many[i] = bin_of(many_names[i], ak_value_int(i));
    }
    make_record(&rec, "ns", "s", many, 40);
    akt_assert_ok(ak_bin_transform_apply(bt, &rec, &arena, &out, &err), &err);
    assert_int_equal(out.n_bins, 40);
    assert_memory_equal(out.bins[39].name.data, "B39", 3);
    snprintf(many_names[25], sizeof many_names[25], "B7");
    many[25] = bin_of(many_names[25], ak_value_int(25));
    akt_assert_status(ak_bin_transform_apply(bt, &rec, &arena, &out, &err), AK_ERR_INVALID_ARG, &err);
    assert_string_equal(err.message, "bin-transforms: bins 'b7' and 'B7' both become 'B7'");
    ak_outbound_config_free(cfg);
    ak_arena_destroy(&arena);
}

/* ---- docs ---- */

static void test_docs_cover_every_section(void **state)
{
    (void)state;
    ak_buf_t out;
    ak_buf_init(&out);
    ak_outbound_config_render_docs(&out);
    ak_buf_append_byte(&out, 0);
    const char *md = (const char *)out.data;
    const char *headings[] = {"### `service`\n", "### `service.tls`\n", "### `service.manage`\n",
                              "### `format`\n", "### `routing`\n", "### `bin-transforms`\n",
                              "### `bin-transforms.include`\n", "### `batching`\n",
                              "### `namespaces.<namespace>`\n", "### `namespaces.<namespace>.sets.<set>`\n",
                              "### `port-based-config.<port>`\n", "### `logging`\n"};
    for (size_t i = 0; i < sizeof headings / sizeof headings[0]; i++)
        if (!strstr(md, headings[i]))
            fail_msg("missing %s", headings[i]);
    /* Shared tables are printed once. */
    const char *first = strstr(md, "### `format`\n");
    assert_null(strstr(first + 1, "### `format`\n"));
    assert_non_null(strstr(md, "| `max-concurrent-records` | integer 1..16777216 | `32768` |"));
    assert_non_null(strstr(md, "| `cert-file` | file path (relative: to the config file's directory), required | — |"));
    ak_buf_free(&out);
}

int main(void)
{
    init_data_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_example_loads_and_resolves),
        cmocka_unit_test(test_every_key_of_every_section),
        cmocka_unit_test(test_empty_file_gives_defaults),
        cmocka_unit_test(test_scalar_or_list_forms),
        cmocka_unit_test(test_equal_formats_are_one_distinct_format),
        cmocka_unit_test(test_unknown_keys_name_line_and_suggest),
        cmocka_unit_test(test_wrong_types_and_ranges),
        cmocka_unit_test(test_missing_required_keys),
        cmocka_unit_test(test_refused_features_explain_why),
        cmocka_unit_test(test_value_checks_across_keys),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_yaml_tree),
        cmocka_unit_test(test_port_based_config_resolution),
        cmocka_unit_test(test_routing_modes),
        cmocka_unit_test(test_topic_names),
        cmocka_unit_test(test_regex_transforms),
        cmocka_unit_test(test_bin_transforms),
        cmocka_unit_test(test_docs_cover_every_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
