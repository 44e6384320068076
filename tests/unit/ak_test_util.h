/*
 * Helpers shared by the cmocka unit tests.
 *
 * Hex strings may contain spaces, newlines, tabs and ':' as separators; they
 * are ignored. Every helper that allocates returns memory the caller frees
 * with free() (or ak_buf_free for ak_buf_t), so LeakSanitizer stays clean.
 */
#ifndef AK_TEST_UTIL_H
#define AK_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include "common/ak_buf.h"
#include "common/ak_error.h"

/* Decodes hex (separators ignored) into a malloc'd buffer; *len gets its
 * length. Fails the test on an odd digit count or a non-hex character.
 * Never returns NULL (a zero-length result is a 1-byte allocation). */
uint8_t *akt_hex(const char *hex, size_t *len);

/* Appends the bytes of hex to buf. */
void akt_hex_append(ak_buf_t *buf, const char *hex);

/* Lowercase hex of data, no separators, malloc'd, NUL-terminated. */
char *akt_to_hex(const uint8_t *data, size_t len);

/* Appends a proto frame (version 2 unless overridden via akt_frame_raw)
 * holding body to out. */
void akt_frame(ak_buf_t *out, uint8_t type, const uint8_t *body, size_t len);
/* Appends an 8-byte proto header with arbitrary version/type/size. */
void akt_proto_header_raw(ak_buf_t *out, uint8_t version, uint8_t type, uint64_t size);

/* Compares two byte strings; on mismatch prints both in hex plus the first
 * differing offset and fails the test at file:line. */
void akt_assert_bytes_equal_at(const uint8_t *actual, size_t actual_len, const uint8_t *expected,
                               size_t expected_len, const char *file, int line);
/* As above with the expected bytes given as a hex string. */
void akt_assert_hex_equal_at(const uint8_t *actual, size_t actual_len, const char *expected_hex,
                             const char *file, int line);
/* Fails unless status == expected; prints both status names and the error
 * message. */
void akt_assert_status_at(ak_status_t status, ak_status_t expected, const ak_error_t *err,
                          const char *file, int line);
/* Fails if status is AK_OK (prints the expectation); used where any error
 * code is acceptable. Also checks that err->message is non-empty. */
void akt_assert_failed_at(ak_status_t status, const ak_error_t *err, const char *what,
                          const char *file, int line);

#define akt_assert_bytes_equal(actual, actual_len, expected, expected_len)                         \
    akt_assert_bytes_equal_at((actual), (actual_len), (expected), (expected_len), __FILE__,        \
                              __LINE__)
#define akt_assert_hex_equal(actual, actual_len, expected_hex)                                     \
    akt_assert_hex_equal_at((actual), (actual_len), (expected_hex), __FILE__, __LINE__)
#define akt_assert_buf_hex(buf, expected_hex)                                                      \
    akt_assert_hex_equal_at((buf)->data, (buf)->len, (expected_hex), __FILE__, __LINE__)
#define akt_assert_ok(status, err) akt_assert_status_at((status), AK_OK, (err), __FILE__, __LINE__)
#define akt_assert_status(status, expected, err)                                                   \
    akt_assert_status_at((status), (expected), (err), __FILE__, __LINE__)
#define akt_assert_failed(status, err, what)                                                       \
    akt_assert_failed_at((status), (err), (what), __FILE__, __LINE__)

/* Resets an ak_error_t to a recognisable "untouched" state. */
void akt_error_reset(ak_error_t *err);

#endif
