/*
 * The Aerospike client against in-process aerospike-dev over real sockets.
 *
 * Client and cluster share one loop on the test thread: a test issues
 * commands, then runs the loop until every callback it waits for has run
 * (or a deadline passes, which fails the test). Nothing sleeps and hopes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ak_test_util.h"
#include "client/ak_client.h"
#include "dev/aerospike/ak_aerospike_dev.h"
#include "net/ak_loop.h"
#include "wire/ak_cdt.h"
#include "wire/ak_digest.h"
#include "wire/ak_msg.h"
#include "wire/ak_result.h"

#define AKT_WAIT_MS 20000
#define AKT_TEND_MS 50

typedef struct akt_env {
    ak_loop_t *loop;
    ak_asd_cluster_t *asd;
    ak_client_t *client;
    const char *user; /* set before akt_client_start for login tests */
    const char *password;
} akt_env_t;

/* ---- running the loop until a condition holds ------------------------ */

typedef bool (*akt_cond_fn)(void *arg);

typedef struct akt_wait {
    akt_cond_fn cond;
    void *arg;
    uint64_t deadline;
    bool met;
} akt_wait_t;

static void akt_wait_tick(ak_loop_t *loop, void *arg)
{
    akt_wait_t *wait = arg;
    if (wait->cond(wait->arg)) {
        wait->met = true;
        ak_loop_stop(loop);
        return;
    }
    if (ak_clock_ms() > wait->deadline) {
        ak_loop_stop(loop);
        return;
    }
    ak_loop_timer(loop, 1, akt_wait_tick, wait);
}

static bool akt_run_until(akt_env_t *env, akt_cond_fn cond, void *arg, uint64_t timeout_ms)
{
    akt_wait_t wait = {cond, arg, ak_clock_ms() + timeout_ms, false};
    ak_loop_timer(env->loop, 0, akt_wait_tick, &wait);
    ak_loop_run(env->loop);
    return wait.met;
}

static bool akt_never(void *arg)
{
    (void)arg;
    return false;
}

/* Runs the loop for ms (lets the client tend and settle). */
static void akt_run_for(akt_env_t *env, uint64_t ms)
{
    akt_run_until(env, akt_never, NULL, ms);
}

/* ---- results --------------------------------------------------------- */

#define AKT_MAX_BINS 8

typedef struct akt_result {
    bool done;
    int calls;
    int code;
    bool in_doubt;
    int attempts;
    uint32_t generation;
    uint32_t ttl;
    char message[512];
    char node[32];
    uint32_t n_bins;
    char bin_names[AKT_MAX_BINS][16];
    ak_value_t bin_values[AKT_MAX_BINS]; /* scalars only; strings copied below */
    char bin_strings[AKT_MAX_BINS][64];
} akt_result_t;

static int akt_in_api_call; /* callbacks must never run inside an API call */

static void akt_on_result(const ak_client_result_t *result, void *arg)
{
    akt_result_t *r = arg;
    assert_int_equal(akt_in_api_call, 0);
    r->calls++;
    r->done = true;
    r->code = result->result_code;
    r->in_doubt = result->in_doubt;
    r->attempts = result->attempts;
    r->generation = result->generation;
    r->ttl = result->ttl;
    snprintf(r->message, sizeof r->message, "%s", result->message);
    snprintf(r->node, sizeof r->node, "%s", result->node);
    assert_string_equal(result->name, ak_result_name(result->result_code));
    r->n_bins = result->n_bins;
    for (uint32_t i = 0; i < result->n_bins && i < AKT_MAX_BINS; i++) {
        snprintf(r->bin_names[i], sizeof r->bin_names[i], "%.*s", (int)result->bins[i].name.len,
                 result->bins[i].name.data);
        r->bin_values[i] = result->bins[i].value;
        if (result->bins[i].value.type == AK_VALUE_STRING || result->bins[i].value.type == AK_VALUE_BYTES) {
            snprintf(r->bin_strings[i], sizeof r->bin_strings[i], "%.*s", (int)result->bins[i].value.u.bytes.len,
                     (const char *)result->bins[i].value.u.bytes.data);
            r->bin_values[i].u.bytes.data = (const uint8_t *)r->bin_strings[i];
        }
        if (result->bins[i].value.type == AK_VALUE_LIST)
            r->bin_values[i].u.list.items = NULL; /* count only */
    }
}

static bool akt_done(void *arg)
{
    return ((akt_result_t *)arg)->done;
}

static void akt_wait_result(akt_env_t *env, akt_result_t *r)
{
    if (!akt_run_until(env, akt_done, r, AKT_WAIT_MS))
        fail_msg("no result within %d ms", AKT_WAIT_MS);
    assert_int_equal(r->calls, 1);
}

static int akt_bin_index(const akt_result_t *r, const char *name)
{
    for (uint32_t i = 0; i < r->n_bins && i < AKT_MAX_BINS; i++)
        if (strcmp(r->bin_names[i], name) == 0)
            return (int)i;
    return -1;
}

static int64_t akt_bin_int(const akt_result_t *r, const char *name)
{
    int i = akt_bin_index(r, name);
    if (i < 0)
        fail_msg("bin '%s' missing from the result (%u bins)", name, r->n_bins);
    assert_int_equal(r->bin_values[i].type, AK_VALUE_INT);
    return r->bin_values[i].u.integer;
}

static const char *akt_bin_str(const akt_result_t *r, const char *name)
{
    int i = akt_bin_index(r, name);
    if (i < 0)
        fail_msg("bin '%s' missing from the result (%u bins)", name, r->n_bins);
    assert_int_equal(r->bin_values[i].type, AK_VALUE_STRING);
    return r->bin_strings[i];
}

#define akt_assert_code(r, expected)                                                                               \
    do {                                                                                                           \
        if ((r)->code != (expected))                                                                               \
            fail_msg("result %d (%s), expected %d (%s): %s", (r)->code, ak_result_name((r)->code), (expected),     \
                     ak_result_name(expected), (r)->message);                                                      \
    } while (0)

/* ---- setup ------------------------------------------------------------ */

static const char *const akt_users[] = {"alice:s3cret"};

static void akt_cluster_start_secured(akt_env_t *env, int nodes, bool secured)
{
    ak_error_t err;
    env->loop = ak_loop_new(&err);
    assert_non_null(env->loop);
    ak_asd_options_t opts = {0};
    opts.nodes = nodes;
    if (secured) {
        opts.users = akt_users;
        opts.n_users = 1;
    }
    env->asd = ak_asd_cluster_new(env->loop, &opts, &err);
    if (!env->asd)
        fail_msg("aerospike-dev: %s", err.message);
}

static void akt_cluster_start(akt_env_t *env, int nodes)
{
    akt_cluster_start_secured(env, nodes, false);
}

static bool akt_client_ready(void *arg)
{
    return ak_client_is_ready(((akt_env_t *)arg)->client);
}

static void akt_client_config(akt_env_t *env, ak_client_config_t *config)
{
    ak_client_config_init(config);
    config->seeds = ak_asd_cluster_seeds(env->asd);
    config->tend_interval_ms = AKT_TEND_MS;
    config->user = env->user;
    config->password = env->password;
}

static void akt_client_start_with(akt_env_t *env, const ak_client_config_t *config)
{
    ak_error_t err;
    env->client = ak_client_new(env->loop, config, &err);
    if (!env->client)
        fail_msg("ak_client_new: %s", err.message);
    if (!akt_run_until(env, akt_client_ready, env, AKT_WAIT_MS))
        fail_msg("client not ready: %s", ak_client_last_error(env->client));
}

static void akt_client_start(akt_env_t *env)
{
    ak_client_config_t config;
    akt_client_config(env, &config);
    akt_client_start_with(env, &config);
}

static int akt_setup_one_node(void **state)
{
    akt_env_t *env = calloc(1, sizeof *env);
    *state = env;
    akt_cluster_start(env, 1);
    akt_client_start(env);
    return 0;
}

static int akt_setup_three_nodes(void **state)
{
    akt_env_t *env = calloc(1, sizeof *env);
    *state = env;
    akt_cluster_start(env, 3);
    akt_client_start(env);
    return 0;
}

static int akt_setup_cluster_only(void **state)
{
    akt_env_t *env = calloc(1, sizeof *env);
    *state = env;
    akt_cluster_start(env, 1);
    return 0;
}

static int akt_setup_secured(void **state)
{
    akt_env_t *env = calloc(1, sizeof *env);
    *state = env;
    akt_cluster_start_secured(env, 2, true);
    return 0;
}

static int akt_teardown(void **state)
{
    akt_env_t *env = *state;
    ak_client_free(env->client);
    ak_asd_cluster_free(env->asd);
    ak_loop_free(env->loop);
    free(env);
    return 0;
}

/* ---- commands --------------------------------------------------------- */

static void akt_key(ak_record_t *rec, const char *key)
{
    ak_record_init(rec);
    rec->ns = (ak_str_t){"test", 4};
    rec->set = (ak_str_t){"demo", 4};
    rec->has_key = true;
    rec->key = ak_value_string(key);
}

static void akt_put(akt_env_t *env, const ak_record_t *rec, const ak_client_policy_t *policy, akt_result_t *r)
{
    memset(r, 0, sizeof *r);
    ak_error_t err;
    akt_in_api_call = 1;
    ak_status_t st = ak_client_put(env->client, rec, policy, akt_on_result, r, &err);
    akt_in_api_call = 0;
    akt_assert_ok(st, &err);
}

static void akt_put_wait(akt_env_t *env, const ak_record_t *rec, const ak_client_policy_t *policy, akt_result_t *r)
{
    akt_put(env, rec, policy, r);
    akt_wait_result(env, r);
}

static void akt_get_wait(akt_env_t *env, const char *key, const char *const *names, size_t n_names,
                         akt_result_t *r)
{
    ak_record_t rec;
    akt_key(&rec, key);
    memset(r, 0, sizeof *r);
    ak_error_t err;
    akt_in_api_call = 1;
    ak_status_t st = ak_client_get(env->client, &rec, names, n_names, NULL, akt_on_result, r, &err);
    akt_in_api_call = 0;
    akt_assert_ok(st, &err);
    akt_wait_result(env, r);
}

/* A record with bins a (int) and b (string). */
static void akt_put_ab(akt_env_t *env, const char *key, int64_t a, const char *b, akt_result_t *r)
{
    ak_record_t rec;
    akt_key(&rec, key);
    ak_bin_t bins[2] = {{.name = {"a", 1}, .value = ak_value_int(a)},
                        {.name = {"b", 1}, .value = ak_value_string(b)}};
    rec.bins = bins;
    rec.n_bins = 2;
    akt_put_wait(env, &rec, NULL, r);
}

/* ---- one node: commands and policies ---------------------------------- */

static void test_put_then_get_reads_back_every_bin(void **state)
{
    akt_env_t *env = *state;
    ak_record_t rec;
    akt_key(&rec, "k1");
    static const uint8_t blob[] = {0, 1, 2, 0xff};
    ak_bin_t bins[4] = {{.name = {"i", 1}, .value = ak_value_int(-42)},
                        {.name = {"s", 1}, .value = ak_value_string("hello")},
                        {.name = {"d", 1}, .value = ak_value_double(2.5)},
                        {.name = {"x", 1}, .value = ak_value_blob(blob, sizeof blob)}};
    rec.bins = bins;
    rec.n_bins = 4;
    akt_result_t r;
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    assert_false(r.in_doubt);
    assert_int_equal(r.generation, 1);
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.node, ak_asd_cluster_node_name(env->asd, 0));

    akt_get_wait(env, "k1", NULL, 0, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    assert_int_equal(r.n_bins, 4);
    assert_int_equal(akt_bin_int(&r, "i"), -42);
    assert_string_equal(akt_bin_str(&r, "s"), "hello");
    int d = akt_bin_index(&r, "d");
    assert_true(d >= 0);
    assert_true(r.bin_values[d].type == AK_VALUE_DOUBLE && r.bin_values[d].u.dbl == 2.5);
    int x = akt_bin_index(&r, "x");
    assert_true(x >= 0);
    assert_int_equal(r.bin_values[x].type, AK_VALUE_BYTES);
    assert_int_equal(r.bin_values[x].u.bytes.len, 4);
    assert_int_equal(r.generation, 1);
    assert_int_equal(r.ttl, AK_TTL_NEVER_EXPIRE); /* namespace default: never */

    /* chosen bins, then metadata only */
    const char *names[] = {"s"};
    akt_get_wait(env, "k1", names, 1, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    assert_int_equal(r.n_bins, 1);
    assert_string_equal(akt_bin_str(&r, "s"), "hello");
    akt_get_wait(env, "k1", names, 0, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    assert_int_equal(r.n_bins, 0);
    assert_int_equal(r.generation, 1);
}

static void test_get_of_missing_record_is_not_found_and_not_in_doubt(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    akt_get_wait(env, "nobody", NULL, 0, &r);
    akt_assert_code(&r, AK_RESULT_NOT_FOUND);
    assert_string_equal(ak_result_name(r.code), "RECORD_NOT_FOUND");
    assert_false(r.in_doubt);
    assert_int_equal(r.attempts, 1); /* not retry-class */
    assert_non_null(strstr(r.message, "RECORD_NOT_FOUND"));
}

static void test_delete_and_durable_delete_remove_the_record(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    for (int durable = 0; durable < 2; durable++) {
        akt_put_ab(env, "del", 1, "x", &r);
        akt_assert_code(&r, AK_RESULT_OK);
        ak_record_t rec;
        akt_key(&rec, "del");
        rec.op = durable ? AK_RECORD_DURABLE_DELETE : AK_RECORD_DELETE;
        akt_put_wait(env, &rec, NULL, &r);
        akt_assert_code(&r, AK_RESULT_OK);
        akt_get_wait(env, "del", NULL, 0, &r);
        akt_assert_code(&r, AK_RESULT_NOT_FOUND);
        /* deleting again: nothing there */
        akt_put_wait(env, &rec, NULL, &r);
        akt_assert_code(&r, AK_RESULT_NOT_FOUND);
    }
}

static void test_touch_bumps_generation_and_sets_ttl(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    akt_put_ab(env, "t", 1, "x", &r);
    assert_int_equal(r.generation, 1);
    ak_record_t rec;
    akt_key(&rec, "t");
    rec.ttl = 500;
    memset(&r, 0, sizeof r);
    ak_error_t err;
    akt_assert_ok(ak_client_touch(env->client, &rec, NULL, akt_on_result, &r, &err), &err);
    akt_wait_result(env, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    assert_int_equal(r.generation, 2);
    akt_get_wait(env, "t", NULL, 0, &r);
    assert_int_equal(r.generation, 2);
    assert_true(r.ttl >= 490 && r.ttl <= 500);
    assert_int_equal(akt_bin_int(&r, "a"), 1); /* bins untouched */
    /* touching a missing record */
    akt_key(&rec, "t-missing");
    memset(&r, 0, sizeof r);
    akt_assert_ok(ak_client_touch(env->client, &rec, NULL, akt_on_result, &r, &err), &err);
    akt_wait_result(env, &r);
    akt_assert_code(&r, AK_RESULT_NOT_FOUND);
}

static void test_create_only_on_existing_record_is_record_exists(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    ak_record_t rec;
    akt_key(&rec, "c");
    ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(1)};
    rec.bins = &bin;
    rec.n_bins = 1;
    rec.exists_action = AK_EXISTS_CREATE_ONLY;
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    bin.value = ak_value_int(2);
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_RECORD_EXISTS);
    assert_false(r.in_doubt); /* a definite answer */
    akt_get_wait(env, "c", NULL, 0, &r);
    assert_int_equal(akt_bin_int(&r, "a"), 1);
}

static void test_update_only_replace_and_replace_only_follow_their_rules(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    ak_record_t rec;
    akt_key(&rec, "u");
    ak_bin_t bin = {.name = {"c", 1}, .value = ak_value_int(3)};
    rec.bins = &bin;
    rec.n_bins = 1;
    rec.exists_action = AK_EXISTS_UPDATE_ONLY;
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_NOT_FOUND);
    rec.exists_action = AK_EXISTS_REPLACE_ONLY;
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_NOT_FOUND);

    akt_put_ab(env, "u", 1, "x", &r);
    rec.exists_action = AK_EXISTS_UPDATE_ONLY; /* merges */
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    akt_get_wait(env, "u", NULL, 0, &r);
    assert_int_equal(r.n_bins, 3);
    assert_int_equal(akt_bin_int(&r, "c"), 3);

    bin.value = ak_value_int(4);
    rec.exists_action = AK_EXISTS_REPLACE; /* replaces every bin */
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    akt_get_wait(env, "u", NULL, 0, &r);
    assert_int_equal(r.n_bins, 1);
    assert_int_equal(akt_bin_int(&r, "c"), 4);

    bin.value = ak_value_int(5);
    rec.exists_action = AK_EXISTS_REPLACE_ONLY;
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    akt_get_wait(env, "u", NULL, 0, &r);
    assert_int_equal(r.n_bins, 1);
    assert_int_equal(akt_bin_int(&r, "c"), 5);
}

static void test_generation_policies_apply_only_on_the_right_generation(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    akt_put_ab(env, "g", 1, "x", &r); /* generation 1 */
    ak_record_t rec;
    akt_key(&rec, "g");
    ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(2)};
    rec.bins = &bin;
    rec.n_bins = 1;
    rec.generation_policy = AK_GEN_EQ;
    rec.generation = 5;
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_GENERATION);
    assert_false(r.in_doubt);
    rec.generation = 1;
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    assert_int_equal(r.generation, 2);
    rec.generation_policy = AK_GEN_GT;
    rec.generation = 2; /* not greater than the stored 2 */
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_GENERATION);
    rec.generation = 10;
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    akt_get_wait(env, "g", NULL, 0, &r);
    assert_int_equal(akt_bin_int(&r, "a"), 2);
}

static void test_ttl_values_reach_the_server(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    ak_record_t rec;
    akt_key(&rec, "ttl");
    ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(1)};
    rec.bins = &bin;
    rec.n_bins = 1;
    rec.ttl = 100;
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    assert_true(r.ttl >= 95 && r.ttl <= 100);
    rec.ttl = AK_TTL_DONT_UPDATE;
    akt_put_wait(env, &rec, NULL, &r);
    akt_get_wait(env, "ttl", NULL, 0, &r);
    assert_true(r.ttl >= 95 && r.ttl <= 100);
    rec.ttl = AK_TTL_NEVER_EXPIRE;
    akt_put_wait(env, &rec, NULL, &r);
    akt_get_wait(env, "ttl", NULL, 0, &r);
    assert_int_equal(r.ttl, AK_TTL_NEVER_EXPIRE);
    rec.ttl = 11u * 366u * 24u * 3600u; /* over ten years */
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_PARAMETER);
}

static void test_send_key_stores_the_key_so_another_key_on_its_digest_mismatches(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    ak_record_t rec;
    akt_key(&rec, "sk");
    ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(1)};
    rec.bins = &bin;
    rec.n_bins = 1;
    ak_error_t err;
    uint8_t digest[AK_DIGEST_SIZE];
    akt_assert_ok(ak_digest_compute("demo", 4, &rec.key, digest, &err), &err);

    /* Without send-key the key is not stored: another key on that digest is accepted. */
    akt_put_wait(env, &rec, NULL, &r);
    ak_record_t other = rec;
    other.has_digest = true;
    memcpy(other.digest, digest, sizeof digest);
    other.key = ak_value_string("not-sk");
    ak_client_policy_t policy;
    ak_client_policy_init(&policy);
    policy.send_key = true;
    akt_put_wait(env, &other, &policy, &r);
    akt_assert_code(&r, AK_RESULT_OK);

    /* With send-key it was stored: the real key now mismatches. */
    akt_put_wait(env, &rec, &policy, &r);
    akt_assert_code(&r, AK_RESULT_KEY_MISMATCH);
}

static void test_commit_level_master_writes(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    ak_record_t rec;
    akt_key(&rec, "cm");
    ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(9)};
    rec.bins = &bin;
    rec.n_bins = 1;
    rec.commit_level = AK_COMMIT_MASTER;
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    akt_get_wait(env, "cm", NULL, 0, &r);
    assert_int_equal(akt_bin_int(&r, "a"), 9);
}

static void akt_operate_wait(akt_env_t *env, const ak_record_t *rec, const ak_client_op_t *ops, size_t n,
                             akt_result_t *r)
{
    memset(r, 0, sizeof *r);
    ak_error_t err;
    akt_in_api_call = 1;
    ak_status_t st = ak_client_operate(env->client, rec, ops, n, NULL, akt_on_result, r, &err);
    akt_in_api_call = 0;
    akt_assert_ok(st, &err);
    akt_wait_result(env, r);
}

static void test_operate_writes_increments_appends_and_reads_in_one_command(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    akt_put_ab(env, "op", 10, "ab", &r);
    ak_record_t rec;
    akt_key(&rec, "op");
    ak_client_op_t ops[] = {
        {AK_OP_INCR, "a", ak_value_int(5)},
        {AK_OP_APPEND, "b", ak_value_string("cd")},
        {AK_OP_WRITE, "n", ak_value_int(7)},
        {AK_OP_READ, "a", ak_value_nil()},
        {AK_OP_READ, "b", ak_value_nil()},
    };
    akt_operate_wait(env, &rec, ops, 5, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    assert_int_equal(r.generation, 2);
    assert_int_equal(akt_bin_int(&r, "a"), 15);
    assert_string_equal(akt_bin_str(&r, "b"), "abcd");
    akt_get_wait(env, "op", NULL, 0, &r);
    assert_int_equal(akt_bin_int(&r, "n"), 7);

    /* a list append (CDT modify) answers the new size; then delete in an operate */
    ak_value_t args[2] = {ak_value_int(1), ak_value_int(99)}; /* LIST_APPEND 99 */
    ak_value_t list_op = ak_value_list(args, 2);
    ak_buf_t packed;
    ak_buf_init(&packed);
    ak_error_t err;
    akt_assert_ok(ak_cdt_encode(&list_op, &packed, &err), &err);
    ak_client_op_t cdt[] = {{AK_OP_CDT_MODIFY, "l", ak_value_blob(packed.data, packed.len)}};
    akt_operate_wait(env, &rec, cdt, 1, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    assert_int_equal(akt_bin_int(&r, "l"), 1);
    ak_buf_free(&packed);

    ak_client_op_t del[] = {{AK_OP_DELETE, NULL, ak_value_nil()}};
    akt_operate_wait(env, &rec, del, 1, &r);
    akt_assert_code(&r, AK_RESULT_OK);
    akt_get_wait(env, "op", NULL, 0, &r);
    akt_assert_code(&r, AK_RESULT_NOT_FOUND);
}

static void test_unusable_records_are_refused_at_the_call_without_a_callback(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r = {0};
    ak_record_t rec;
    ak_record_init(&rec);
    rec.ns = (ak_str_t){"test", 4};
    ak_error_t err;
    akt_assert_failed(ak_client_put(env->client, &rec, NULL, akt_on_result, &r, &err), &err, "no key");
    akt_key(&rec, "x");
    rec.ns = (ak_str_t){"", 0};
    akt_assert_failed(ak_client_put(env->client, &rec, NULL, akt_on_result, &r, &err), &err, "empty namespace");
    akt_run_for(env, 20);
    assert_int_equal(r.calls, 0);
}

static void test_unknown_namespace_is_namespace_not_found(void **state)
{
    akt_env_t *env = *state;
    akt_result_t r;
    ak_record_t rec;
    akt_key(&rec, "x");
    rec.ns = (ak_str_t){"nope", 4};
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_NAMESPACE_NOT_FOUND);
    assert_non_null(strstr(r.message, "nope"));
}

/* ---- faults and retries ------------------------------------------------ */

static void akt_fault(akt_env_t *env, int node, int code, double ratio, uint32_t latency_ms)
{
    ak_asd_fault_t fault = {0};
    fault.fail_code = code;
    fault.fail_ratio = ratio;
    fault.latency_ms = latency_ms;
    ak_asd_cluster_set_fault(env->asd, node, &fault);
}

static void test_key_busy_is_retried_then_fails_with_key_busy(void **state)
{
    akt_env_t *env = *state;
    akt_fault(env, -1, AK_RESULT_KEY_BUSY, 1.0, 0);
    ak_client_policy_t policy;
    ak_client_policy_init(&policy);
    policy.max_retries = 3;
    policy.backoff_ms = 2;
    policy.total_timeout_ms = 5000;
    ak_record_t rec;
    akt_key(&rec, "busy");
    ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(1)};
    rec.bins = &bin;
    rec.n_bins = 1;
    akt_result_t r;
    akt_put_wait(env, &rec, &policy, &r);
    akt_assert_code(&r, AK_RESULT_KEY_BUSY);
    assert_string_equal(ak_result_name(r.code), "RECORD_BUSY");
    assert_int_equal(r.attempts, 4);
    assert_false(r.in_doubt); /* the server said no */
    ak_asd_stats_t stats;
    ak_asd_cluster_stats(env->asd, &stats);
    assert_int_equal(stats.faults_injected, 4);
    ak_client_stats_t cstats;
    ak_client_stats(env->client, &cstats);
    assert_int_equal(cstats.retries, 3);
}

static void test_key_busy_on_half_the_answers_is_retried_until_every_put_succeeds(void **state)
{
    akt_env_t *env = *state;
    akt_fault(env, -1, AK_RESULT_KEY_BUSY, 0.5, 0);
    ak_client_policy_t policy;
    ak_client_policy_init(&policy);
    policy.max_retries = 30;
    policy.backoff_ms = 1;
    policy.backoff_max_ms = 4;
    policy.total_timeout_ms = 10000;
    enum { N = 200 };
    static akt_result_t results[N];
    char keys[N][16];
    for (int i = 0; i < N; i++) {
        ak_record_t rec;
        snprintf(keys[i], sizeof keys[i], "kb%d", i);
        akt_key(&rec, keys[i]);
        ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(i)};
        rec.bins = &bin;
        rec.n_bins = 1;
        akt_put(env, &rec, &policy, &results[i]);
    }
    for (int i = 0; i < N; i++) {
        akt_wait_result(env, &results[i]);
        akt_assert_code(&results[i], AK_RESULT_OK);
    }
    ak_client_stats_t stats;
    ak_client_stats(env->client, &stats);
    assert_true(stats.retries >= 50); /* about N expected */
    akt_fault(env, -1, 0, 0, 0);
    akt_result_t r;
    akt_get_wait(env, "kb7", NULL, 0, &r);
    assert_int_equal(akt_bin_int(&r, "a"), 7);
}

static void test_server_timeout_is_retried_then_fails_in_doubt(void **state)
{
    akt_env_t *env = *state;
    akt_fault(env, -1, AK_RESULT_TIMEOUT, 1.0, 0);
    ak_client_policy_t policy;
    ak_client_policy_init(&policy);
    policy.max_retries = 2;
    policy.backoff_ms = 1;
    ak_record_t rec;
    akt_key(&rec, "st");
    ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(1)};
    rec.bins = &bin;
    rec.n_bins = 1;
    akt_result_t r;
    akt_put_wait(env, &rec, &policy, &r);
    akt_assert_code(&r, AK_RESULT_TIMEOUT);
    assert_int_equal(r.attempts, 3);
    assert_true(r.in_doubt); /* a server timeout may follow the master's write */
    /* a read that times out is never in doubt */
    const char *names[] = {"a"};
    (void)names;
    akt_get_wait(env, "st", NULL, 0, &r);
    akt_assert_code(&r, AK_RESULT_TIMEOUT);
    assert_false(r.in_doubt);
}

static void test_latency_beyond_socket_timeout_fails_in_doubt_and_late_answers_are_dropped(void **state)
{
    akt_env_t *env = *state;
    akt_fault(env, -1, 0, 0, 300);
    ak_client_policy_t policy;
    ak_client_policy_init(&policy);
    policy.socket_timeout_ms = 60;
    policy.total_timeout_ms = 3000;
    policy.max_retries = 1;
    policy.backoff_ms = 1;
    ak_record_t rec;
    akt_key(&rec, "slow");
    ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(1)};
    rec.bins = &bin;
    rec.n_bins = 1;
    akt_result_t r;
    uint64_t start = ak_clock_ms();
    akt_put_wait(env, &rec, &policy, &r);
    akt_assert_code(&r, AK_RESULT_TIMEOUT);
    assert_int_equal(r.attempts, 2);
    assert_true(r.in_doubt);
    assert_true(ak_clock_ms() - start < 300); /* did not wait for the slow answer */
    assert_non_null(strstr(r.message, "socket timeout"));
    ak_client_stats_t stats;
    ak_client_stats(env->client, &stats);
    assert_true(stats.timeouts >= 2);
    assert_int_equal(stats.in_doubt, 1);

    /* The write did happen (the node applies, then delays the answer). */
    akt_fault(env, -1, 0, 0, 0);
    akt_get_wait(env, "slow", NULL, 0, &r);
    akt_assert_code(&r, AK_RESULT_OK);

    /* total timeout shorter than the latency, no socket timeout */
    akt_fault(env, -1, 0, 0, 300);
    policy.socket_timeout_ms = 0;
    policy.total_timeout_ms = 80;
    akt_put_wait(env, &rec, &policy, &r);
    akt_assert_code(&r, AK_RESULT_TIMEOUT);
    assert_true(r.in_doubt);
    assert_non_null(strstr(r.message, "total timeout"));
    /* the late answer arrives and is dropped; the connection keeps working */
    akt_run_for(env, 400);
    akt_fault(env, -1, 0, 0, 0);
    akt_get_wait(env, "slow", NULL, 0, &r);
    akt_assert_code(&r, AK_RESULT_OK);
}

/* ---- load and bounds ------------------------------------------------------ */

typedef struct akt_counter {
    int done;
    int ok;
    int first_bad_code;
    char first_bad[256];
} akt_counter_t;

static void akt_count(const ak_client_result_t *result, void *arg)
{
    akt_counter_t *c = arg;
    c->done++;
    if (result->result_code == AK_RESULT_OK)
        c->ok++;
    else if (!c->first_bad[0]) {
        c->first_bad_code = result->result_code;
        snprintf(c->first_bad, sizeof c->first_bad, "%s", result->message);
    }
}

typedef struct akt_count_wait {
    akt_counter_t *counter;
    int target;
} akt_count_wait_t;

static bool akt_count_reached(void *arg)
{
    akt_count_wait_t *w = arg;
    return w->counter->done >= w->target;
}

static void akt_put_many(akt_env_t *env, const char *prefix, int n, const ak_client_policy_t *policy,
                         akt_counter_t *counter)
{
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s%d", prefix, i);
        ak_record_t rec;
        akt_key(&rec, key);
        ak_bin_t bin = {.name = {"v", 1}, .value = ak_value_int(i)};
        rec.bins = &bin;
        rec.n_bins = 1;
        ak_error_t err;
        akt_assert_ok(ak_client_put(env->client, &rec, policy, akt_count, counter, &err), &err);
    }
    akt_count_wait_t w = {counter, n};
    if (!akt_run_until(env, akt_count_reached, &w, 60000))
        fail_msg("%d of %d puts completed", counter->done, n);
}

static void test_fifty_thousand_pipelined_puts_all_complete(void **state)
{
    akt_env_t *env = *state;
    ak_client_policy_t policy;
    ak_client_policy_init(&policy);
    policy.total_timeout_ms = 60000;
    akt_counter_t counter = {0};
    akt_put_many(env, "many", 50000, &policy, &counter);
    if (counter.ok != 50000)
        fail_msg("%d ok; first failure %d: %s", counter.ok, counter.first_bad_code, counter.first_bad);
    ak_asd_stats_t stats;
    ak_asd_cluster_stats(env->asd, &stats);
    assert_int_equal(stats.records, 50000);
    ak_client_stats_t cstats;
    ak_client_stats(env->client, &cstats);
    assert_int_equal(cstats.in_flight, 0);
    assert_int_equal(cstats.queued, 0);
    assert_true(cstats.nodes[0].connections <= 2);
}

static void test_in_flight_bound_holds_and_a_full_queue_fails_fast(void **state)
{
    akt_env_t *env = *state;
    ak_client_config_t config;
    akt_client_config(env, &config);
    config.max_in_flight_per_node = 4;
    config.max_queued = 10;
    ak_error_t err;
    env->client = ak_client_new(env->loop, &config, &err);
    assert_non_null(env->client);
    /* Before the map is known every command waits: 10 fit, the rest fail. */
    akt_counter_t counter = {0};
    static akt_result_t results[30];
    for (int i = 0; i < 30; i++) {
        ak_record_t rec;
        char key[16];
        snprintf(key, sizeof key, "q%d", i);
        akt_key(&rec, key);
        ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(i)};
        rec.bins = &bin;
        rec.n_bins = 1;
        akt_in_api_call = 1;
        akt_assert_ok(ak_client_put(env->client, &rec, NULL, akt_on_result, &results[i], &err), &err);
        akt_in_api_call = 0;
    }
    (void)counter;
    for (int i = 0; i < 30; i++)
        akt_wait_result(env, &results[i]);
    int ok = 0, full = 0;
    for (int i = 0; i < 30; i++) {
        if (results[i].code == AK_RESULT_OK)
            ok++;
        else if (results[i].code == AK_CLIENT_ERR_QUEUE_FULL) {
            full++;
            assert_non_null(strstr(results[i].message, "queue full"));
            assert_false(results[i].in_doubt);
        }
    }
    assert_int_equal(ok, 10);
    assert_int_equal(full, 20);
    assert_string_equal(ak_result_name(AK_CLIENT_ERR_QUEUE_FULL), "ASYNC_QUEUE_FULL");

    /* With the map known, 4 go on the wire and the rest wait their turn. */
    akt_fault(env, -1, 0, 0, 50);
    akt_counter_t c2 = {0};
    for (int i = 0; i < 14; i++) {
        ak_record_t rec;
        char key[16];
        snprintf(key, sizeof key, "w%d", i);
        akt_key(&rec, key);
        ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(i)};
        rec.bins = &bin;
        rec.n_bins = 1;
        akt_assert_ok(ak_client_put(env->client, &rec, NULL, akt_count, &c2, &err), &err);
    }
    ak_client_stats_t stats;
    ak_client_stats(env->client, &stats);
    assert_int_equal(stats.in_flight, 4);
    assert_int_equal(stats.queued, 10);
    assert_int_equal(stats.nodes[0].in_flight, 4);
    akt_count_wait_t w = {&c2, 14};
    assert_true(akt_run_until(env, akt_count_reached, &w, AKT_WAIT_MS));
    assert_int_equal(c2.ok, 14);
}

static void test_no_reachable_seed_times_out_waiting_for_the_map(void **state)
{
    akt_env_t *env = *state;
    ak_client_config_t config;
    akt_client_config(env, &config);
    char seeds[64];
    snprintf(seeds, sizeof seeds, "127.0.0.1:%u", ak_asd_cluster_node_port(env->asd, 0));
    config.seeds = seeds;
    ak_asd_cluster_stop_node(env->asd, 0);
    ak_error_t err;
    env->client = ak_client_new(env->loop, &config, &err);
    assert_non_null(env->client);
    ak_client_policy_t policy;
    ak_client_policy_init(&policy);
    policy.total_timeout_ms = 200;
    ak_record_t rec;
    akt_key(&rec, "x");
    ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(1)};
    rec.bins = &bin;
    rec.n_bins = 1;
    akt_result_t r;
    akt_put_wait(env, &rec, &policy, &r);
    akt_assert_code(&r, AK_RESULT_TIMEOUT);
    assert_false(r.in_doubt);
    assert_non_null(strstr(r.message, "partition map"));
    assert_false(ak_client_is_ready(env->client));
    assert_non_null(strstr(ak_client_last_error(env->client), seeds));

    /* the node starts: the client finds it through its seed */
    akt_assert_ok(ak_asd_cluster_start_node(env->asd, 0, &err), &err);
    assert_true(akt_run_until(env, akt_client_ready, env, AKT_WAIT_MS));
    akt_put_wait(env, &rec, NULL, &r);
    akt_assert_code(&r, AK_RESULT_OK);
}

static void test_freeing_the_client_completes_pending_commands(void **state)
{
    akt_env_t *env = *state;
    akt_fault(env, -1, 0, 0, 200);
    static akt_result_t results[5];
    for (int i = 0; i < 5; i++) {
        ak_record_t rec;
        akt_key(&rec, "free");
        ak_bin_t bin = {.name = {"a", 1}, .value = ak_value_int(i)};
        rec.bins = &bin;
        rec.n_bins = 1;
        memset(&results[i], 0, sizeof results[i]);
        ak_error_t err;
        akt_assert_ok(ak_client_put(env->client, &rec, NULL, akt_on_result, &results[i], &err), &err);
    }
    akt_run_for(env, 20); /* on the wire */
    ak_client_free(env->client);
    env->client = NULL;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(results[i].calls, 1);
        akt_assert_code(&results[i], AK_CLIENT_ERR_CLIENT);
        assert_true(results[i].in_doubt); /* sent, never answered */
    }
}

/* ---- three nodes: routing, node loss and return ------------------------- */

static bool akt_three_nodes_known(void *arg)
{
    akt_env_t *env = arg;
    ak_client_stats_t stats;
    ak_client_stats(env->client, &stats);
    int active = 0;
    for (int i = 0; i < stats.n_nodes; i++)
        active += stats.nodes[i].active;
    return active == 3;
}

static void akt_node_stats(akt_env_t *env, ak_asd_node_stats_t out[3])
{
    for (int i = 0; i < 3; i++)
        ak_asd_cluster_node_stats(env->asd, i, &out[i]);
}

static void test_three_nodes_are_discovered_from_one_seed_and_commands_go_to_masters(void **state)
{
    akt_env_t *env = *state;
    /* restart the client with only the first node as seed */
    ak_client_free(env->client);
    ak_client_config_t config;
    akt_client_config(env, &config);
    char seed[64];
    snprintf(seed, sizeof seed, "127.0.0.1:%u", ak_asd_cluster_node_port(env->asd, 0));
    config.seeds = seed;
    akt_client_start_with(env, &config);
    assert_true(akt_run_until(env, akt_three_nodes_known, env, AKT_WAIT_MS));

    ak_asd_node_stats_t before[3], after[3];
    akt_node_stats(env, before);
    akt_counter_t counter = {0};
    akt_put_many(env, "route", 600, NULL, &counter);
    assert_int_equal(counter.ok, 600);
    akt_node_stats(env, after);
    for (int i = 0; i < 3; i++) {
        uint64_t commands = after[i].commands - before[i].commands;
        /* 600 keys over 3 masters: each gets a fair share, and only its own */
        assert_true(commands > 100);
        assert_int_equal(after[i].not_master, 0);
    }
    ak_client_stats_t stats;
    ak_client_stats(env->client, &stats);
    assert_int_equal(stats.n_nodes, 3);
}

static void test_stopped_node_is_routed_around_and_used_again_when_back(void **state)
{
    akt_env_t *env = *state;
    assert_true(akt_run_until(env, akt_three_nodes_known, env, AKT_WAIT_MS));
    ak_asd_cluster_stop_node(env->asd, 1);

    /* Commands issued right away ride the retries until the map moves. */
    ak_client_policy_t policy;
    ak_client_policy_init(&policy);
    policy.max_retries = 50;
    policy.backoff_ms = 5;
    policy.backoff_max_ms = 50;
    policy.total_timeout_ms = 10000;
    akt_counter_t counter = {0};
    akt_put_many(env, "down", 300, &policy, &counter);
    if (counter.ok != 300)
        fail_msg("%d ok; first failure %d: %s", counter.ok, counter.first_bad_code, counter.first_bad);

    akt_run_for(env, 4 * AKT_TEND_MS);
    ak_asd_node_stats_t before[3], after[3];
    akt_node_stats(env, before);
    akt_counter_t c2 = {0};
    akt_put_many(env, "down2-", 300, NULL, &c2);
    assert_int_equal(c2.ok, 300);
    akt_node_stats(env, after);
    assert_int_equal(after[1].commands, before[1].commands);
    assert_true(after[0].commands - before[0].commands > 100);
    assert_true(after[2].commands - before[2].commands > 100);
    assert_int_equal(after[0].not_master, before[0].not_master);
    assert_int_equal(after[2].not_master, before[2].not_master);

    ak_error_t err;
    akt_assert_ok(ak_asd_cluster_start_node(env->asd, 1, &err), &err);
    assert_true(akt_run_until(env, akt_three_nodes_known, env, AKT_WAIT_MS));
    akt_run_for(env, 4 * AKT_TEND_MS);
    akt_node_stats(env, before);
    akt_counter_t c3 = {0};
    akt_put_many(env, "back", 300, NULL, &c3);
    assert_int_equal(c3.ok, 300);
    akt_node_stats(env, after);
    assert_true(after[1].commands - before[1].commands > 50);
    for (int i = 0; i < 3; i++)
        assert_int_equal(after[i].not_master, before[i].not_master);
    akt_result_t r;
    akt_get_wait(env, "down7", NULL, 0, &r); /* data written while it was away */
    akt_assert_code(&r, AK_RESULT_OK);
}

/* ---- security ------------------------------------------------------------ */

static void test_login_with_the_password_then_commands_work_on_every_connection(void **state)
{
    akt_env_t *env = *state;
    env->user = "alice";
    env->password = "s3cret";
    akt_client_start(env);
    akt_result_t r;
    akt_put_ab(env, "sec", 1, "x", &r);
    akt_assert_code(&r, AK_RESULT_OK);
    akt_get_wait(env, "sec", NULL, 0, &r);
    assert_int_equal(akt_bin_int(&r, "a"), 1);
    ak_client_stats_t stats;
    ak_client_stats(env->client, &stats);
    assert_true(stats.logins >= 1);
    /* every connection the nodes accepted logged in (LOGIN or AUTHENTICATE) */
    ak_asd_node_stats_t n0, n1;
    ak_asd_cluster_node_stats(env->asd, 0, &n0);
    ak_asd_cluster_node_stats(env->asd, 1, &n1);
    assert_int_equal(n0.logins, n0.connections);
    assert_int_equal(n1.logins, n1.connections);
    assert_true(n0.logins + n1.logins >= 3); /* 2 info connections + at least 1 data */
}

static void test_wrong_password_is_refused_and_named(void **state)
{
    akt_env_t *env = *state;
    ak_client_config_t config;
    akt_client_config(env, &config);
    config.user = "alice";
    config.password = "guess";
    ak_error_t err;
    env->client = ak_client_new(env->loop, &config, &err);
    assert_non_null(env->client);
    akt_run_for(env, 200);
    assert_false(ak_client_is_ready(env->client));
    const char *why = ak_client_last_error(env->client);
    assert_non_null(strstr(why, "alice"));
    assert_non_null(strstr(why, "INVALID_CREDENTIAL"));
}

static void test_without_login_a_secured_cluster_says_not_authenticated(void **state)
{
    akt_env_t *env = *state;
    ak_client_config_t config;
    akt_client_config(env, &config);
    ak_error_t err;
    env->client = ak_client_new(env->loop, &config, &err);
    assert_non_null(env->client);
    akt_run_for(env, 200);
    assert_false(ak_client_is_ready(env->client));
    assert_non_null(strstr(ak_client_last_error(env->client), "ERROR:80"));
}

static void test_revoked_session_is_logged_in_again_and_the_command_retried(void **state)
{
    akt_env_t *env = *state;
    env->user = "alice";
    env->password = "s3cret";
    akt_client_start(env);
    akt_result_t r;
    akt_put_ab(env, "rev", 1, "x", &r);
    akt_assert_code(&r, AK_RESULT_OK);
    ak_client_stats_t before, after;
    ak_client_stats(env->client, &before);
    ak_asd_cluster_revoke_sessions(env->asd);
    akt_put_ab(env, "rev", 2, "y", &r);
    akt_assert_code(&r, AK_RESULT_OK);
    assert_int_equal(r.attempts, 2); /* NOT_AUTHENTICATED, then a new login */
    ak_client_stats(env->client, &after);
    assert_true(after.logins > before.logins);
    akt_get_wait(env, "rev", NULL, 0, &r);
    assert_int_equal(akt_bin_int(&r, "a"), 2);
    /* the tend connections log in again too: the cluster stays known */
    akt_run_for(env, 4 * AKT_TEND_MS);
    ak_client_stats(env->client, &after);
    int active = 0;
    for (int i = 0; i < after.n_nodes; i++)
        active += after.nodes[i].active;
    assert_int_equal(active, 2);
}

#define AKT_SEC(fn) cmocka_unit_test_setup_teardown(fn, akt_setup_secured, akt_teardown)
#define AKT_ONE(fn) cmocka_unit_test_setup_teardown(fn, akt_setup_one_node, akt_teardown)
#define AKT_THREE(fn) cmocka_unit_test_setup_teardown(fn, akt_setup_three_nodes, akt_teardown)
#define AKT_BARE(fn) cmocka_unit_test_setup_teardown(fn, akt_setup_cluster_only, akt_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        AKT_ONE(test_put_then_get_reads_back_every_bin),
        AKT_ONE(test_get_of_missing_record_is_not_found_and_not_in_doubt),
        AKT_ONE(test_delete_and_durable_delete_remove_the_record),
        AKT_ONE(test_touch_bumps_generation_and_sets_ttl),
        AKT_ONE(test_create_only_on_existing_record_is_record_exists),
        AKT_ONE(test_update_only_replace_and_replace_only_follow_their_rules),
        AKT_ONE(test_generation_policies_apply_only_on_the_right_generation),
        AKT_ONE(test_ttl_values_reach_the_server),
        AKT_ONE(test_send_key_stores_the_key_so_another_key_on_its_digest_mismatches),
        AKT_ONE(test_commit_level_master_writes),
        AKT_ONE(test_operate_writes_increments_appends_and_reads_in_one_command),
        AKT_ONE(test_unusable_records_are_refused_at_the_call_without_a_callback),
        AKT_ONE(test_unknown_namespace_is_namespace_not_found),
        AKT_ONE(test_key_busy_is_retried_then_fails_with_key_busy),
        AKT_ONE(test_key_busy_on_half_the_answers_is_retried_until_every_put_succeeds),
        AKT_ONE(test_server_timeout_is_retried_then_fails_in_doubt),
        AKT_ONE(test_latency_beyond_socket_timeout_fails_in_doubt_and_late_answers_are_dropped),
        AKT_ONE(test_fifty_thousand_pipelined_puts_all_complete),
        AKT_BARE(test_in_flight_bound_holds_and_a_full_queue_fails_fast),
        AKT_BARE(test_no_reachable_seed_times_out_waiting_for_the_map),
        AKT_ONE(test_freeing_the_client_completes_pending_commands),
        AKT_THREE(test_three_nodes_are_discovered_from_one_seed_and_commands_go_to_masters),
        AKT_THREE(test_stopped_node_is_routed_around_and_used_again_when_back),
        AKT_SEC(test_login_with_the_password_then_commands_work_on_every_connection),
        AKT_SEC(test_wrong_password_is_refused_and_named),
        AKT_SEC(test_without_login_a_secured_cluster_says_not_authenticated),
        AKT_SEC(test_revoked_session_is_logged_in_again_and_the_command_retried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
