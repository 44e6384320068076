#include "client/ak_client_admin.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "wire/ak_proto.h"

/* The salt every Aerospike client hashes passwords with (aerospike-common
 * as_password.c; spec aerospike-wire.md §12): the server stores and compares
 * this hash, so it must be exactly this one. */
#define AK_ADMIN_FIXED_SALT "$2a$10$7EqJtq98hPqEX7fNZaFWoO"

ak_status_t ak_admin_hash_password(const char *password, char out[AK_ADMIN_CREDENTIAL_SIZE + 1],
                                   ak_error_t *err)
{
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data)
        return ak_error_set(err, AK_ERR_NOMEM, "no memory to hash the password");
    const char *hash = crypt_rn(password, AK_ADMIN_FIXED_SALT, data, (int)sizeof *data);
    if (!hash || hash[0] == '*' || strlen(hash) != AK_ADMIN_CREDENTIAL_SIZE) {
        free(data);
        return ak_error_set(err, AK_ERR_UNSUPPORTED,
                            "bcrypt of the password failed (libxcrypt without $2a$ support?)");
    }
    memcpy(out, hash, AK_ADMIN_CREDENTIAL_SIZE + 1);
    explicit_bzero(data, sizeof *data);
    free(data);
    return AK_OK;
}

static void ak_admin_header(ak_buf_t *out, size_t *frame_start, uint8_t result, uint8_t command,
                            uint8_t n_fields)
{
    *frame_start = ak_buf_append_zeros(out, AK_PROTO_HEADER_SIZE);
    uint8_t header[AK_ADMIN_HEADER_SIZE] = {0};
    header[1] = result;
    header[2] = command;
    header[3] = n_fields;
    ak_buf_append(out, header, sizeof header);
}

static void ak_admin_field(ak_buf_t *out, uint8_t id, const void *data, size_t len)
{
    ak_buf_append_be32(out, (uint32_t)len + 1);
    ak_buf_append_byte(out, id);
    ak_buf_append(out, data, len);
}

static void ak_admin_end(ak_buf_t *out, size_t frame_start)
{
    if (!ak_buf_failed(out))
        ak_proto_header_write(out->data + frame_start, AK_PROTO_TYPE_ADMIN,
                              out->len - frame_start - AK_PROTO_HEADER_SIZE);
}

void ak_admin_login_build(ak_buf_t *out, const char *user, const char *credential)
{
    size_t start;
    ak_admin_header(out, &start, 0, AK_ADMIN_LOGIN, 2);
    ak_admin_field(out, AK_ADMIN_FIELD_USER, user, strlen(user));
    ak_admin_field(out, AK_ADMIN_FIELD_CREDENTIAL, credential, strlen(credential));
    ak_admin_end(out, start);
}

void ak_admin_authenticate_build(ak_buf_t *out, const char *user, const uint8_t *token, size_t token_len)
{
    size_t start;
    ak_admin_header(out, &start, 0, AK_ADMIN_AUTHENTICATE, 2);
    ak_admin_field(out, AK_ADMIN_FIELD_USER, user, strlen(user));
    ak_admin_field(out, AK_ADMIN_FIELD_SESSION_TOKEN, token, token_len);
    ak_admin_end(out, start);
}

void ak_admin_reply_build(ak_buf_t *out, uint8_t result, const uint8_t *token, size_t token_len,
                          uint32_t session_ttl)
{
    size_t start;
    ak_admin_header(out, &start, result, 0, token ? 2 : 0);
    if (token) {
        ak_admin_field(out, AK_ADMIN_FIELD_SESSION_TOKEN, token, token_len);
        uint8_t ttl[4];
        ak_put_be32(ttl, session_ttl);
        ak_admin_field(out, AK_ADMIN_FIELD_SESSION_TTL, ttl, sizeof ttl);
    }
    ak_admin_end(out, start);
}

ak_status_t ak_admin_parse(const uint8_t *body, size_t len, size_t base_offset, ak_admin_msg_t *msg,
                           ak_error_t *err)
{
    memset(msg, 0, sizeof *msg);
    if (len < AK_ADMIN_HEADER_SIZE)
        return ak_error_at(err, AK_ERR_TRUNCATED, base_offset,
                           "admin message of %zu bytes is shorter than its 16-byte header", len);
    msg->result = body[1];
    msg->command = body[2];
    msg->n_fields = body[3];
    size_t pos = AK_ADMIN_HEADER_SIZE;
    for (unsigned i = 0; i < msg->n_fields; i++) {
        if (len - pos < 5)
            return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + pos,
                               "admin field %u of %u: header needs 5 bytes, %zu left", i + 1,
                               msg->n_fields, len - pos);
        uint32_t size = ak_get_be32(body + pos);
        uint8_t id = body[pos + 4];
        if (size == 0)
            return ak_error_at(err, AK_ERR_MALFORMED, base_offset + pos,
                               "admin field %u of %u: size 0 (must count its id byte)", i + 1,
                               msg->n_fields);
        if ((uint64_t)size - 1 > len - pos - 5)
            return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + pos,
                               "admin field %u of %u (id %u): size %u runs past the end (%zu bytes left)",
                               i + 1, msg->n_fields, id, size, len - pos - 4);
        const uint8_t *data = body + pos + 5;
        size_t data_len = size - 1;
        switch (id) {
        case AK_ADMIN_FIELD_USER:
            msg->user = (const char *)data;
            msg->user_len = data_len;
            break;
        case AK_ADMIN_FIELD_CREDENTIAL:
            msg->credential = (const char *)data;
            msg->credential_len = data_len;
            break;
        case AK_ADMIN_FIELD_SESSION_TOKEN:
            msg->session_token = data;
            msg->session_token_len = data_len;
            break;
        case AK_ADMIN_FIELD_SESSION_TTL:
            if (data_len != 4)
                return ak_error_at(err, AK_ERR_MALFORMED, base_offset + pos,
                                   "admin field session-ttl has %zu bytes (must be 4)", data_len);
            msg->has_session_ttl = true;
            msg->session_ttl = ak_get_be32(data);
            break;
        default:
            break; /* fields a login does not use (roles, privileges, ...) */
        }
        pos += 5 + data_len;
    }
    if (pos != len)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset + pos,
                           "%zu bytes after the last of %u admin fields", len - pos, msg->n_fields);
    return AK_OK;
}
