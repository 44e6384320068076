#include "common/ak_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void ak_error_vformat(ak_error_t *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void ak_error_vformat(ak_error_t *err, const char *fmt, va_list ap)
{
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

ak_status_t ak_error_set(ak_error_t *err, ak_status_t status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        ak_error_vformat(err, fmt, ap);
        va_end(ap);
        err->status = status;
        err->has_offset = 0;
        err->offset = 0;
    }
    return status;
}

ak_status_t ak_error_at(ak_error_t *err, ak_status_t status, size_t offset, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        ak_error_vformat(err, fmt, ap);
        va_end(ap);
        size_t used = strlen(err->message);
        if (used < sizeof err->message)
            snprintf(err->message + used, sizeof err->message - used, " at byte %zu", offset);
        err->status = status;
        err->has_offset = 1;
        err->offset = offset;
    }
    return status;
}

void ak_error_prefix(ak_error_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[AK_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Build "prefix: message" in place, truncating the old message if the
     * two do not fit. */
    char old[AK_ERROR_MESSAGE_MAX];
    memcpy(old, err->message, sizeof old);
    size_t used = strlen(prefix);
    if (used > sizeof err->message - 3)
        used = sizeof err->message - 3;
    memcpy(err->message, prefix, used);
    memcpy(err->message + used, ": ", 2);
    used += 2;
    size_t rest = strnlen(old, sizeof old);
    if (rest > sizeof err->message - 1 - used)
        rest = sizeof err->message - 1 - used;
    memcpy(err->message + used, old, rest);
    err->message[used + rest] = '\0';
}

const char *ak_status_name(ak_status_t status)
{
    switch (status) {
    case AK_OK: return "ok";
    case AK_ERR_TRUNCATED: return "truncated";
    case AK_ERR_MALFORMED: return "malformed";
    case AK_ERR_LIMIT: return "limit exceeded";
    case AK_ERR_UNSUPPORTED: return "unsupported";
    case AK_ERR_NOMEM: return "out of memory";
    case AK_ERR_INVALID_ARG: return "invalid argument";
    case AK_ERR_IO: return "i/o error";
    }
    return "unknown status";
}
