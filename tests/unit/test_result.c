#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ak_test_util.h"
#include "wire/ak_result.h"

static void test_result_names_of_well_known_codes(void **state)
{
    (void)state;
    assert_non_null(strstr(ak_result_name(AK_RESULT_OK), "OK"));
    assert_non_null(strstr(ak_result_name(AK_RESULT_NOT_FOUND), "NOT_FOUND"));
    assert_non_null(strstr(ak_result_name(AK_RESULT_GENERATION), "GENERATION"));
    assert_non_null(strstr(ak_result_name(AK_RESULT_TIMEOUT), "TIMEOUT"));
    assert_non_null(strstr(ak_result_name(AK_RESULT_KEY_BUSY), "BUSY"));
    assert_non_null(strstr(ak_result_name(AK_RESULT_DEVICE_OVERLOAD), "DEVICE_OVERLOAD"));
    assert_non_null(strstr(ak_result_name(AK_RESULT_FORBIDDEN), "FORBIDDEN"));
    assert_non_null(strstr(ak_result_name(AK_RESULT_RECORD_TOO_BIG), "RECORD_TOO_BIG"));
    assert_non_null(strstr(ak_result_name(AK_RESULT_LOST_CONFLICT), "LOST_CONFLICT"));
    assert_non_null(strstr(ak_result_name(AK_RESULT_NOT_AUTHENTICATED), "NOT_AUTHENTICATED"));
    /* the shortened form, not the client's *_ERROR name */
    assert_null(strstr(ak_result_name(AK_RESULT_NOT_FOUND), "_ERROR"));
}

static void test_result_names_0_to_28_are_non_empty_and_distinct(void **state)
{
    (void)state;
    for (int a = 0; a <= 28; a++) {
        const char *na = ak_result_name(a);
        assert_non_null(na);
        if (na[0] == '\0')
            fail_msg("code %d has an empty name", a);
        for (int b = a + 1; b <= 28; b++)
            if (strcmp(na, ak_result_name(b)) == 0)
                fail_msg("codes %d and %d share the name \"%s\"", a, b, na);
    }
}

static void test_result_names_of_unnamed_codes_are_unknown(void **state)
{
    (void)state;
    static const int unnamed[] = {29, 33, 47, 99, 255, 1000};
    for (size_t i = 0; i < sizeof unnamed / sizeof unnamed[0]; i++) {
        const char *n = ak_result_name(unnamed[i]);
        assert_non_null(n);
        assert_non_null(strstr(n, "UNKNOWN"));
        assert_string_not_equal(n, ak_result_name(AK_RESULT_OK));
    }
    assert_non_null(ak_result_name(-1));
    assert_true(ak_result_name(-1)[0] != '\0');
}

static ak_xdr_class_t expected_class(int code)
{
    switch (code) {
    case 0:
    case 2:
        return AK_XDR_DONE;
    case 8:
    case 9:
    case 11:
    case 14:
    case 18:
    case 80:
        return AK_XDR_RETRY;
    default:
        return AK_XDR_ABANDON;
    }
}

static void test_result_xdr_class_of_every_code_0_to_255(void **state)
{
    (void)state;
    for (int code = 0; code <= 255; code++) {
        ak_xdr_class_t got = ak_result_xdr_class(code);
        ak_xdr_class_t want = expected_class(code);
        if (got != want)
            fail_msg("code %d (%s): class %s, expected %s", code, ak_result_name(code),
                     ak_xdr_class_name(got), ak_xdr_class_name(want));
    }
}

static void test_result_code_10_is_abandoned(void **state)
{
    (void)state;
    assert_int_equal(ak_result_xdr_class(AK_RESULT_XDR_PERMANENT), AK_XDR_ABANDON);
    assert_int_equal(ak_result_xdr_class(AK_RESULT_PARAMETER), AK_XDR_ABANDON);
    assert_int_equal(ak_result_xdr_class(AK_RESULT_XDR_KEY_BUSY), AK_XDR_ABANDON);
}

static void test_result_xdr_class_names_are_distinct(void **state)
{
    (void)state;
    const char *d = ak_xdr_class_name(AK_XDR_DONE);
    const char *r = ak_xdr_class_name(AK_XDR_RETRY);
    const char *a = ak_xdr_class_name(AK_XDR_ABANDON);
    assert_non_null(d);
    assert_non_null(r);
    assert_non_null(a);
    assert_true(d[0] && r[0] && a[0]);
    assert_string_not_equal(d, r);
    assert_string_not_equal(r, a);
    assert_string_not_equal(d, a);
}

static void test_result_is_retryable_for_timeout_busy_overload_unavailable(void **state)
{
    (void)state;
    assert_true(ak_result_is_retryable(AK_RESULT_TIMEOUT));
    assert_true(ak_result_is_retryable(AK_RESULT_KEY_BUSY));
    assert_true(ak_result_is_retryable(AK_RESULT_DEVICE_OVERLOAD));
    assert_true(ak_result_is_retryable(AK_RESULT_UNAVAILABLE));
    assert_false(ak_result_is_retryable(AK_RESULT_OK));
    assert_false(ak_result_is_retryable(AK_RESULT_NOT_FOUND));
    assert_false(ak_result_is_retryable(AK_RESULT_PARAMETER));
    assert_false(ak_result_is_retryable(AK_RESULT_XDR_PERMANENT));
    assert_false(ak_result_is_retryable(AK_RESULT_RECORD_TOO_BIG));
    assert_false(ak_result_is_retryable(AK_RESULT_GENERATION));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_names_of_well_known_codes),
        cmocka_unit_test(test_result_names_0_to_28_are_non_empty_and_distinct),
        cmocka_unit_test(test_result_names_of_unnamed_codes_are_unknown),
        cmocka_unit_test(test_result_xdr_class_of_every_code_0_to_255),
        cmocka_unit_test(test_result_code_10_is_abandoned),
        cmocka_unit_test(test_result_xdr_class_names_are_distinct),
        cmocka_unit_test(test_result_is_retryable_for_timeout_busy_overload_unavailable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
