/*
 * ak_error: status codes and a caller-owned error message.
 *
 * Library code never prints. A failing function returns a status other than
 * AK_OK and, when the caller passed an ak_error_t, writes into it a message
 * that names what failed and where (byte offset of a frame, file and line of
 * a config, topic/partition/offset of a Kafka record).
 */
#ifndef AK_ERROR_H
#define AK_ERROR_H

#include <stddef.h>

typedef enum ak_status {
    AK_OK = 0,
    AK_ERR_TRUNCATED,   /* input ends before a declared length */
    AK_ERR_MALFORMED,   /* input breaks a rule of the format */
    AK_ERR_LIMIT,       /* input exceeds a limit (size cap, depth, count) */
    AK_ERR_UNSUPPORTED, /* valid input we do not handle */
    AK_ERR_NOMEM,       /* allocation failed */
    AK_ERR_INVALID_ARG, /* caller passed something unusable */
    AK_ERR_IO,          /* a system call failed */
} ak_status_t;

#define AK_ERROR_MESSAGE_MAX 512

typedef struct ak_error {
    ak_status_t status;
    size_t offset;      /* byte offset the message refers to, when has_offset */
    int has_offset;
    char message[AK_ERROR_MESSAGE_MAX];
} ak_error_t;

/* Sets err (if not NULL) and returns status, so callers can write
 * `return ak_error_set(err, AK_ERR_MALFORMED, "...")`. */
ak_status_t ak_error_set(ak_error_t *err, ak_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As ak_error_set, and records the byte offset; the message ends with
 * " at byte N". */
ak_status_t ak_error_at(ak_error_t *err, ak_status_t status, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds "context: " in front of an existing message. */
void ak_error_prefix(ak_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

const char *ak_status_name(ak_status_t status);

#endif
