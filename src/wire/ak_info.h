/*
 * ak_info: the info protocol (proto type 1), plain text.
 *
 * Request body: command names, each ended by '\n' ("node\nbuild\n").
 * Response body: one line per command, "<command>\t<value>\n".
 */
#ifndef AK_INFO_H
#define AK_INFO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/ak_buf.h"
#include "common/ak_error.h"

/* Appends a complete info request frame (proto header included). */
void ak_info_request_build(ak_buf_t *out, const char *const *commands, size_t count);

/* Appends a complete info response frame from parallel name/value arrays. */
void ak_info_response_build(ak_buf_t *out, const char *const *names, const char *const *values,
                            size_t count);

typedef struct ak_info_pair {
    const char *name; /* views into the body; not NUL-terminated */
    size_t name_len;
    const char *value;
    size_t value_len;
} ak_info_pair_t;

/* Walks a response body (or a request body: lines without a tab have an
 * empty value). */
typedef struct ak_info_iter {
    const char *body;
    size_t len;
    size_t pos;
} ak_info_iter_t;

void ak_info_iter_init(ak_info_iter_t *iter, const char *body, size_t len);
/* Returns true and fills pair for each non-empty line; false at the end. */
bool ak_info_iter_next(ak_info_iter_t *iter, ak_info_pair_t *pair);

/* Finds the value for name in a response body. */
bool ak_info_find(const char *body, size_t len, const char *name, ak_info_pair_t *pair);

/* True if value is an error reply ("ERROR:...", "FAIL:...", "error=..."). */
bool ak_info_value_is_error(const char *value, size_t len);

#endif
