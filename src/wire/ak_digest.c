#include "wire/ak_digest.h"

#include <nettle/ripemd160.h>
#include <string.h>

#include "common/ak_buf.h"
#include "wire/ak_particle.h"

ak_status_t ak_key_bytes(const ak_value_t *key, uint8_t *particle_type, const uint8_t **bytes,
                         size_t *len, uint8_t scratch[8], ak_error_t *err)
{
    switch ((ak_value_type_t)key->type) {
    case AK_VALUE_INT:
        ak_put_be64(scratch, (uint64_t)key->u.integer);
        *particle_type = AK_PARTICLE_INTEGER;
        *bytes = scratch;
        *len = 8;
        return AK_OK;
    case AK_VALUE_DOUBLE: {
        uint64_t bits;
        _Static_assert(sizeof bits == sizeof key->u.dbl, "double is 64-bit");
        memcpy(&bits, &key->u.dbl, sizeof bits);
        ak_put_be64(scratch, bits);
        *particle_type = AK_PARTICLE_FLOAT;
        *bytes = scratch;
        *len = 8;
        return AK_OK;
    }
    case AK_VALUE_STRING:
        *particle_type = AK_PARTICLE_STRING;
        *bytes = key->u.bytes.data;
        *len = key->u.bytes.len;
        return AK_OK;
    case AK_VALUE_BYTES:
        *particle_type = key->subtype;
        *bytes = key->u.bytes.data;
        *len = key->u.bytes.len;
        return AK_OK;
    default:
        return ak_error_set(err, AK_ERR_INVALID_ARG,
                            "a user key must be an integer, string or blob, not %s",
                            ak_value_type_name(key));
    }
}

ak_status_t ak_digest_compute(const char *set, size_t set_len, const ak_value_t *key,
                              uint8_t digest[AK_DIGEST_SIZE], ak_error_t *err)
{
    uint8_t scratch[8];
    uint8_t particle_type = 0;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    ak_status_t st = ak_key_bytes(key, &particle_type, &bytes, &len, scratch, err);
    if (st != AK_OK)
        return st;

    struct ripemd160_ctx ctx;
    ripemd160_init(&ctx);
    if (set_len)
        ripemd160_update(&ctx, set_len, (const uint8_t *)set);
    ripemd160_update(&ctx, 1, &particle_type);
    if (len)
        ripemd160_update(&ctx, len, bytes);
    ripemd160_digest(&ctx, AK_DIGEST_SIZE, digest);
    return AK_OK;
}

void ak_digest_to_hex(const uint8_t digest[AK_DIGEST_SIZE], char out[2 * AK_DIGEST_SIZE + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < AK_DIGEST_SIZE; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0x0f];
    }
    out[2 * AK_DIGEST_SIZE] = '\0';
}
