#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ak_test_util.h"
#include "wire/ak_info.h"

static void assert_pair_at(const ak_info_pair_t *p, const char *name, const char *value,
                           const char *file, int line)
{
    if (p->name_len != strlen(name) || memcmp(p->name, name, p->name_len) != 0 ||
        p->value_len != strlen(value) || (p->value_len && memcmp(p->value, value, p->value_len) != 0)) {
        print_error("pair \"%.*s\" = \"%.*s\", expected \"%s\" = \"%s\"\n", (int)p->name_len,
                    p->name, (int)p->value_len, p->value, name, value);
        _fail(file, line);
    }
}
#define assert_pair(p, n, v) assert_pair_at((p), (n), (v), __FILE__, __LINE__)

static void test_info_request_build_matches_spec_bytes(void **state)
{
    (void)state;
    static const char *const cmds[] = {"node", "partition-generation"};
    ak_buf_t b;
    ak_buf_init(&b);
    ak_info_request_build(&b, cmds, 2);
    assert_int_equal(b.len, 8 + 26);
    akt_assert_hex_equal(b.data, 8, "02 01 00 00 00 00 00 1a");
    assert_memory_equal(b.data + 8, "node\npartition-generation\n", 26);
    ak_buf_free(&b);
}

static void test_info_request_build_with_no_commands_has_empty_body(void **state)
{
    (void)state;
    ak_buf_t b;
    ak_buf_init(&b);
    ak_info_request_build(&b, NULL, 0);
    akt_assert_buf_hex(&b, "02 01 00 00 00 00 00 00");
    ak_buf_free(&b);
}

static void test_info_request_build_appends_to_existing_buffer(void **state)
{
    (void)state;
    static const char *const cmds[] = {"build"};
    ak_buf_t b;
    ak_buf_init(&b);
    akt_hex_append(&b, "ff");
    ak_info_request_build(&b, cmds, 1);
    akt_assert_buf_hex(&b, "ff 02 01 00 00 00 00 00 06 6275696c640a");
    ak_buf_free(&b);
}

static void test_info_response_build_writes_name_tab_value_lines(void **state)
{
    (void)state;
    static const char *const names[] = {"node", "partition-generation"};
    static const char *const values[] = {"BB9020011AC4202", "5"};
    ak_buf_t b;
    ak_buf_init(&b);
    ak_info_response_build(&b, names, values, 2);
    const char *body = "node\tBB9020011AC4202\npartition-generation\t5\n";
    size_t blen = strlen(body);
    assert_int_equal(b.len, 8 + blen);
    assert_int_equal(b.data[0], 2);
    assert_int_equal(b.data[1], 1);
    assert_int_equal(ak_get_be16(b.data + 2), 0);
    assert_int_equal(ak_get_be32(b.data + 4), blen);
    assert_memory_equal(b.data + 8, body, blen);
    ak_buf_free(&b);
}

static void test_info_response_build_then_iterate_round_trips(void **state)
{
    (void)state;
    static const char *const names[] = {"namespaces", "peers-clear-std", "replicas", "empty"};
    static const char *const values[] = {
        "test;bar", "2,3000,[[BB9,,[10.0.0.1:3001]]]", "test:0,2,AAAA,BBBB;bar:1,1,CCCC", ""};
    ak_buf_t b;
    ak_buf_init(&b);
    ak_info_response_build(&b, names, values, 4);
    ak_info_iter_t it;
    ak_info_iter_init(&it, (const char *)b.data + 8, b.len - 8);
    ak_info_pair_t p;
    for (int i = 0; i < 4; i++) {
        assert_true(ak_info_iter_next(&it, &p));
        assert_pair(&p, names[i], values[i]);
    }
    assert_false(ak_info_iter_next(&it, &p));
    assert_false(ak_info_iter_next(&it, &p));
    ak_buf_free(&b);
}

static void test_info_iter_splits_at_first_tab_only(void **state)
{
    (void)state;
    const char *body = "cmd\tvalue\twith\ttabs\nx:a=1;b=2\tk=v;k2=v2:z\n";
    ak_info_iter_t it;
    ak_info_iter_init(&it, body, strlen(body));
    ak_info_pair_t p;
    assert_true(ak_info_iter_next(&it, &p));
    assert_pair(&p, "cmd", "value\twith\ttabs");
    assert_true(ak_info_iter_next(&it, &p));
    assert_pair(&p, "x:a=1;b=2", "k=v;k2=v2:z");
    assert_false(ak_info_iter_next(&it, &p));
}

static void test_info_iter_accepts_missing_trailing_newline(void **state)
{
    (void)state;
    const char *body = "node\tA1\nbuild\t8.1.2.0";
    ak_info_iter_t it;
    ak_info_iter_init(&it, body, strlen(body));
    ak_info_pair_t p;
    assert_true(ak_info_iter_next(&it, &p));
    assert_pair(&p, "node", "A1");
    assert_true(ak_info_iter_next(&it, &p));
    assert_pair(&p, "build", "8.1.2.0");
    assert_false(ak_info_iter_next(&it, &p));
}

static void test_info_iter_respects_len_not_nul(void **state)
{
    (void)state;
    const char *body = "node\tA1\nbuild\t8.1.2.0\n";
    ak_info_iter_t it;
    ak_info_iter_init(&it, body, 8); /* only "node\tA1\n" */
    ak_info_pair_t p;
    assert_true(ak_info_iter_next(&it, &p));
    assert_pair(&p, "node", "A1");
    assert_false(ak_info_iter_next(&it, &p));
}

static void test_info_iter_on_empty_body_yields_nothing(void **state)
{
    (void)state;
    ak_info_iter_t it;
    ak_info_pair_t p;
    ak_info_iter_init(&it, "", 0);
    assert_false(ak_info_iter_next(&it, &p));
    ak_info_iter_init(&it, "\n\n", 2);
    assert_false(ak_info_iter_next(&it, &p));
}

static void test_info_iter_skips_empty_lines(void **state)
{
    (void)state;
    const char *body = "\na\t1\n\n\nb\t2\n\n";
    ak_info_iter_t it;
    ak_info_iter_init(&it, body, strlen(body));
    ak_info_pair_t p;
    assert_true(ak_info_iter_next(&it, &p));
    assert_pair(&p, "a", "1");
    assert_true(ak_info_iter_next(&it, &p));
    assert_pair(&p, "b", "2");
    assert_false(ak_info_iter_next(&it, &p));
}

static void test_info_iter_reads_request_lines_with_empty_values(void **state)
{
    (void)state;
    const char *body = "node\npartition-generation\n";
    ak_info_iter_t it;
    ak_info_iter_init(&it, body, strlen(body));
    ak_info_pair_t p;
    assert_true(ak_info_iter_next(&it, &p));
    assert_pair(&p, "node", "");
    assert_true(ak_info_iter_next(&it, &p));
    assert_pair(&p, "partition-generation", "");
    assert_false(ak_info_iter_next(&it, &p));
}

static void test_info_find_returns_the_named_value(void **state)
{
    (void)state;
    const char *body = "nodes\tX\nnode\tBB9\npartition-generation\t-1\n";
    ak_info_pair_t p;
    assert_true(ak_info_find(body, strlen(body), "node", &p));
    assert_pair(&p, "node", "BB9");
    assert_true(ak_info_find(body, strlen(body), "partition-generation", &p));
    assert_pair(&p, "partition-generation", "-1");
    assert_true(ak_info_find(body, strlen(body), "nodes", &p));
    assert_pair(&p, "nodes", "X");
    assert_false(ak_info_find(body, strlen(body), "no", &p));
    assert_false(ak_info_find(body, strlen(body), "build", &p));
    assert_false(ak_info_find("", 0, "node", &p));
}

static void test_info_value_is_error_detects_error_prefixes(void **state)
{
    (void)state;
    static const char *const errors[] = {"ERROR:4:unrecognized command", "ERROR::x",
                                         "FAIL:2:not ready", "error=bad-parameter"};
    for (size_t i = 0; i < 4; i++)
        if (!ak_info_value_is_error(errors[i], strlen(errors[i])))
            fail_msg("\"%s\" not detected as an error", errors[i]);
}

static void test_info_value_is_error_accepts_values_that_only_resemble_error_words(void **state)
{
    (void)state;
    static const char *const fine[] = {"", "5", "test;bar", "BB9020011AC4202",
                                       "ok", "x:ERROR:4", "cluster_size=3;error_count=0",
                                       /* a namespaces value whose first namespace is "failover" */
                                       "failover;test", "errors=0"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        if (ak_info_value_is_error(fine[i], strlen(fine[i])))
            fail_msg("\"%s\" wrongly detected as an error", fine[i]);
}

static void test_info_value_is_error_respects_len(void **state)
{
    (void)state;
    /* only "ERR" is the value */
    assert_false(ak_info_value_is_error("ERROR:4:x", 3));
    assert_true(ak_info_value_is_error("ERROR:4:x", 9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_request_build_matches_spec_bytes),
        cmocka_unit_test(test_info_request_build_with_no_commands_has_empty_body),
        cmocka_unit_test(test_info_request_build_appends_to_existing_buffer),
        cmocka_unit_test(test_info_response_build_writes_name_tab_value_lines),
        cmocka_unit_test(test_info_response_build_then_iterate_round_trips),
        cmocka_unit_test(test_info_iter_splits_at_first_tab_only),
        cmocka_unit_test(test_info_iter_accepts_missing_trailing_newline),
        cmocka_unit_test(test_info_iter_respects_len_not_nul),
        cmocka_unit_test(test_info_iter_on_empty_body_yields_nothing),
        cmocka_unit_test(test_info_iter_skips_empty_lines),
        cmocka_unit_test(test_info_iter_reads_request_lines_with_empty_values),
        cmocka_unit_test(test_info_find_returns_the_named_value),
        cmocka_unit_test(test_info_value_is_error_detects_error_prefixes),
        cmocka_unit_test(test_info_value_is_error_accepts_values_that_only_resemble_error_words),
        cmocka_unit_test(test_info_value_is_error_respects_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
