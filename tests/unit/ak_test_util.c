#include "ak_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_separator(char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ':';
}

uint8_t *akt_hex(const char *hex, size_t *len)
{
    size_t digits = 0;
    for (const char *p = hex; *p; p++) {
        if (is_separator(*p))
            continue;
        if (hex_digit(*p) < 0)
            fail_msg("akt_hex: bad hex character '%c' in \"%s\"", *p, hex);
        digits++;
    }
    if (digits % 2 != 0)
        fail_msg("akt_hex: odd number of hex digits in \"%s\"", hex);
    uint8_t *out = malloc(digits / 2 + 1);
    assert_non_null(out);
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (is_separator(*p))
            continue;
        int d = hex_digit(*p);
        if (hi < 0) {
            hi = d;
        } else {
            out[n++] = (uint8_t)((hi << 4) | d);
            hi = -1;
        }
    }
    *len = n;
    return out;
}

void akt_hex_append(ak_buf_t *buf, const char *hex)
{
    size_t len;
    uint8_t *bytes = akt_hex(hex, &len);
    ak_buf_append(buf, bytes, len);
    free(bytes);
    assert_false(ak_buf_failed(buf));
}

char *akt_to_hex(const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *out = malloc(2 * len + 1);
    assert_non_null(out);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return out;
}

void akt_proto_header_raw(ak_buf_t *out, uint8_t version, uint8_t type, uint64_t size)
{
    uint8_t h[8];
    h[0] = version;
    h[1] = type;
    for (int i = 0; i < 6; i++)
        h[2 + i] = (uint8_t)(size >> (8 * (5 - i)));
    ak_buf_append(out, h, sizeof h);
    assert_false(ak_buf_failed(out));
}

void akt_frame(ak_buf_t *out, uint8_t type, const uint8_t *body, size_t len)
{
    akt_proto_header_raw(out, 2, type, len);
    if (len > 0)
        ak_buf_append(out, body, len);
    assert_false(ak_buf_failed(out));
}

void akt_assert_bytes_equal_at(const uint8_t *actual, size_t actual_len, const uint8_t *expected,
                               size_t expected_len, const char *file, int line)
{
    if (actual_len == expected_len &&
        (expected_len == 0 || memcmp(actual, expected, expected_len) == 0))
        return;
    size_t first = 0;
    size_t min = actual_len < expected_len ? actual_len : expected_len;
    while (first < min && actual[first] == expected[first])
        first++;
    char *a = akt_to_hex(actual, actual_len);
    char *e = akt_to_hex(expected, expected_len);
    print_error("bytes differ (first difference at byte %zu)\n"
                "  expected (%zu bytes): %s\n"
                "  actual   (%zu bytes): %s\n",
                first, expected_len, e, actual_len, a);
    free(a);
    free(e);
    _fail(file, line);
}

void akt_assert_hex_equal_at(const uint8_t *actual, size_t actual_len, const char *expected_hex,
                             const char *file, int line)
{
    size_t len;
    uint8_t *expected = akt_hex(expected_hex, &len);
    /* Copy so the expected buffer is freed before a failing longjmp. */
    int same = actual_len == len && (len == 0 || memcmp(actual, expected, len) == 0);
    if (same) {
        free(expected);
        return;
    }
    size_t first = 0;
    size_t min = actual_len < len ? actual_len : len;
    while (first < min && actual[first] == expected[first])
        first++;
    char *a = akt_to_hex(actual, actual_len);
    char *e = akt_to_hex(expected, len);
    print_error("bytes differ (first difference at byte %zu)\n"
                "  expected (%zu bytes): %s\n"
                "  actual   (%zu bytes): %s\n",
                first, len, e, actual_len, a);
    free(a);
    free(e);
    free(expected);
    _fail(file, line);
}

void akt_assert_status_at(ak_status_t status, ak_status_t expected, const ak_error_t *err,
                          const char *file, int line)
{
    if (status == expected)
        return;
    print_error("status %s (%d), expected %s (%d); error message: \"%s\"\n",
                ak_status_name(status), (int)status, ak_status_name(expected), (int)expected,
                err ? err->message : "(no err)");
    _fail(file, line);
}

void akt_assert_failed_at(ak_status_t status, const ak_error_t *err, const char *what,
                          const char *file, int line)
{
    if (status == AK_OK) {
        print_error("expected an error for %s, got AK_OK\n", what);
        _fail(file, line);
    }
    if (err && err->message[0] == '\0') {
        print_error("error status %s for %s but the error message is empty\n",
                    ak_status_name(status), what);
        _fail(file, line);
    }
}

void akt_error_reset(ak_error_t *err)
{
    memset(err, 0, sizeof *err);
}
