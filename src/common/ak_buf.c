#include "common/ak_buf.h"

#include <stdlib.h>
#include <string.h>

void ak_buf_init(ak_buf_t *buf)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->failed = false;
}

void ak_buf_free(ak_buf_t *buf)
{
    free(buf->data);
    ak_buf_init(buf);
}

void ak_buf_clear(ak_buf_t *buf)
{
    buf->len = 0;
    buf->failed = false;
}

bool ak_buf_reserve_slow(ak_buf_t *buf, size_t extra)
{
    if (buf->failed)
        return false;
    if (extra <= buf->cap - buf->len)
        return true;
    if (extra > SIZE_MAX / 2 - buf->len) {
        buf->failed = true;
        return false;
    }
    size_t need = buf->len + extra;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *data = realloc(buf->data, cap);
    if (!data) {
        buf->failed = true;
        return false;
    }
    buf->data = data;
    buf->cap = cap;
    return true;
}

void ak_buf_append_slow(ak_buf_t *buf, const void *data, size_t len)
{
    if (len == 0 || !ak_buf_reserve(buf, len))
        return;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
}

void ak_buf_append_be16(ak_buf_t *buf, uint16_t v)
{
    uint8_t b[2];
    ak_put_be16(b, v);
    ak_buf_append(buf, b, sizeof b);
}

void ak_buf_append_be32(ak_buf_t *buf, uint32_t v)
{
    uint8_t b[4];
    ak_put_be32(b, v);
    ak_buf_append(buf, b, sizeof b);
}

void ak_buf_append_be64(ak_buf_t *buf, uint64_t v)
{
    uint8_t b[8];
    ak_put_be64(b, v);
    ak_buf_append(buf, b, sizeof b);
}

void ak_buf_append_str(ak_buf_t *buf, const char *s)
{
    ak_buf_append(buf, s, strlen(s));
}

size_t ak_buf_append_zeros(ak_buf_t *buf, size_t len)
{
    size_t at = buf->len;
    if (!ak_buf_reserve(buf, len))
        return at;
    memset(buf->data + buf->len, 0, len);
    buf->len += len;
    return at;
}

bool ak_buf_failed(const ak_buf_t *buf)
{
    return buf->failed;
}
