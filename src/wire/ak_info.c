#include "wire/ak_info.h"

#include <string.h>

#include "wire/ak_proto.h"

static void ak_info_frame_begin(ak_buf_t *out, size_t *start)
{
    *start = out->len;
    ak_buf_append_zeros(out, AK_PROTO_HEADER_SIZE);
}

static void ak_info_frame_end(ak_buf_t *out, size_t start)
{
    if (ak_buf_failed(out))
        return;
    ak_proto_header_write(out->data + start, AK_PROTO_TYPE_INFO,
                          out->len - start - AK_PROTO_HEADER_SIZE);
}

void ak_info_request_build(ak_buf_t *out, const char *const *commands, size_t count)
{
    size_t start;
    ak_info_frame_begin(out, &start);
    for (size_t i = 0; i < count; i++) {
        ak_buf_append_str(out, commands[i]);
        ak_buf_append_byte(out, '\n');
    }
    ak_info_frame_end(out, start);
}

void ak_info_response_build(ak_buf_t *out, const char *const *names, const char *const *values,
                            size_t count)
{
    size_t start;
    ak_info_frame_begin(out, &start);
    for (size_t i = 0; i < count; i++) {
        ak_buf_append_str(out, names[i]);
        ak_buf_append_byte(out, '\t');
        ak_buf_append_str(out, values[i]);
        ak_buf_append_byte(out, '\n');
    }
    ak_info_frame_end(out, start);
}

void ak_info_iter_init(ak_info_iter_t *iter, const char *body, size_t len)
{
    iter->body = body;
    iter->len = len;
    iter->pos = 0;
}

bool ak_info_iter_next(ak_info_iter_t *iter, ak_info_pair_t *pair)
{
    while (iter->pos < iter->len) {
        const char *line = iter->body + iter->pos;
        size_t rest = iter->len - iter->pos;
        const char *nl = memchr(line, '\n', rest);
        size_t line_len = nl ? (size_t)(nl - line) : rest;
        iter->pos += line_len + (nl ? 1 : 0);
        if (line_len == 0)
            continue;
        /* The first tab separates the command from its value; values may
         * contain further tabs. */
        const char *tab = memchr(line, '\t', line_len);
        pair->name = line;
        if (tab) {
            pair->name_len = (size_t)(tab - line);
            pair->value = tab + 1;
            pair->value_len = line_len - pair->name_len - 1;
        } else {
            pair->name_len = line_len;
            pair->value = line + line_len;
            pair->value_len = 0;
        }
        return true;
    }
    return false;
}

bool ak_info_find(const char *body, size_t len, const char *name, ak_info_pair_t *pair)
{
    size_t name_len = strlen(name);
    ak_info_iter_t iter;
    ak_info_iter_init(&iter, body, len);
    while (ak_info_iter_next(&iter, pair))
        if (pair->name_len == name_len && memcmp(pair->name, name, name_len) == 0)
            return true;
    return false;
}

static bool ak_info_starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* Only the exact error forms: a namespace called "failover" or a statistic
 * "errors=0" is not an error. */
bool ak_info_value_is_error(const char *value, size_t len)
{
    return ak_info_starts_with(value, len, "ERROR:") || ak_info_starts_with(value, len, "FAIL:") ||
           ak_info_starts_with(value, len, "error=");
}
