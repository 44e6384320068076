/*
 * ak_buf: a growable byte buffer that encoders append to.
 *
 * Appends never fail silently: a failed growth marks the buffer as failed
 * (ak_buf_failed) and later appends do nothing, so an encoder can write a
 * whole message and check once at the end.
 */
#ifndef AK_BUF_H
#define AK_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ak_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool failed;
} ak_buf_t;

void ak_buf_init(ak_buf_t *buf);
void ak_buf_free(ak_buf_t *buf);
/* Empties the buffer, keeping its memory. */
void ak_buf_clear(ak_buf_t *buf);
/* Growth path of ak_buf_reserve. */
bool ak_buf_reserve_slow(ak_buf_t *buf, size_t extra);
/* Ensures room for extra more bytes; false (and failed set) if impossible. */
static inline bool ak_buf_reserve(ak_buf_t *buf, size_t extra)
{
    /* the hot case inline: room already there */
    if (extra <= buf->cap - buf->len && !buf->failed)
        return true;
    return ak_buf_reserve_slow(buf, extra);
}
/* Out-of-line growth path of the appends below. */
void ak_buf_append_slow(ak_buf_t *buf, const void *data, size_t len);

/* Appends are inline: formatting appends many small pieces per record, and
 * a call per piece showed in profiles. */
static inline void ak_buf_append(ak_buf_t *buf, const void *data, size_t len)
{
    if (len && len <= buf->cap - buf->len && !buf->failed) {
        __builtin_memcpy(buf->data + buf->len, data, len);
        buf->len += len;
        return;
    }
    ak_buf_append_slow(buf, data, len);
}
static inline void ak_buf_append_byte(ak_buf_t *buf, uint8_t byte)
{
    if (buf->len < buf->cap && !buf->failed) {
        buf->data[buf->len++] = byte;
        return;
    }
    ak_buf_append_slow(buf, &byte, 1);
}
void ak_buf_append_be16(ak_buf_t *buf, uint16_t v);
void ak_buf_append_be32(ak_buf_t *buf, uint32_t v);
void ak_buf_append_be64(ak_buf_t *buf, uint64_t v);
void ak_buf_append_str(ak_buf_t *buf, const char *s);
/* Appends len zero bytes and returns their offset, to be patched later. */
size_t ak_buf_append_zeros(ak_buf_t *buf, size_t len);
bool ak_buf_failed(const ak_buf_t *buf);

/* Big-endian helpers for patching and for decoders. */
static inline void ak_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void ak_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void ak_put_be64(uint8_t *p, uint64_t v)
{
    ak_put_be32(p, (uint32_t)(v >> 32));
    ak_put_be32(p + 4, (uint32_t)v);
}
static inline uint16_t ak_get_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t ak_get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t ak_get_be64(const uint8_t *p)
{
    return ((uint64_t)ak_get_be32(p) << 32) | ak_get_be32(p + 4);
}

#endif
