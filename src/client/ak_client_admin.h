/*
 * ak_client_admin: the security (admin, proto type 2) messages a client
 * sends to log in, and the parser of their replies.
 *
 *   proto header (type 2), then a 16-byte security header:
 *   scheme:u8(0) result:u8 command:u8 n_fields:u8 reserved[12]
 *   field: size:u32 BE (data + 1) id:u8 data
 *
 * LOGIN (20) carries USER and CREDENTIAL (the password hashed with bcrypt
 * and the fixed salt every Aerospike client uses); its reply carries a
 * SESSION_TOKEN and SESSION_TTL. AUTHENTICATE (0) carries USER and the
 * SESSION_TOKEN on every later connection.
 *
 * Pure: no I/O.
 */
#ifndef AK_CLIENT_ADMIN_H
#define AK_CLIENT_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_buf.h"
#include "common/ak_error.h"

#define AK_ADMIN_HEADER_SIZE 16

enum {
    AK_ADMIN_AUTHENTICATE = 0,
    AK_ADMIN_LOGIN = 20,
};

enum {
    AK_ADMIN_FIELD_USER = 0,
    AK_ADMIN_FIELD_PASSWORD = 1,
    AK_ADMIN_FIELD_OLD_PASSWORD = 2,
    AK_ADMIN_FIELD_CREDENTIAL = 3,
    AK_ADMIN_FIELD_CLEAR_PASSWORD = 4,
    AK_ADMIN_FIELD_SESSION_TOKEN = 5,
    AK_ADMIN_FIELD_SESSION_TTL = 6,
};

/* Security result codes the login path looks at. */
enum {
    AK_ADMIN_RESULT_SECURITY_NOT_SUPPORTED = 51,
    AK_ADMIN_RESULT_SECURITY_NOT_ENABLED = 52,
    AK_ADMIN_RESULT_INVALID_USER = 60,
    AK_ADMIN_RESULT_INVALID_PASSWORD = 62,
    AK_ADMIN_RESULT_INVALID_CREDENTIAL = 65,
    AK_ADMIN_RESULT_EXPIRED_SESSION = 66,
    AK_ADMIN_RESULT_NOT_AUTHENTICATED = 80,
};

/* bcrypt's output for the fixed salt: "$2a$10$" + 53 characters. */
#define AK_ADMIN_CREDENTIAL_SIZE 60

/* Hashes password with bcrypt (cost 10) and the salt
 * "$2a$10$7EqJtq98hPqEX7fNZaFWoO" that Aerospike clients and servers agree
 * on; out gets 60 characters and a NUL. About 0.1 s of CPU. */
ak_status_t ak_admin_hash_password(const char *password, char out[AK_ADMIN_CREDENTIAL_SIZE + 1],
                                   ak_error_t *err);

/* Appends a complete LOGIN frame (USER, CREDENTIAL). */
void ak_admin_login_build(ak_buf_t *out, const char *user, const char *credential);
/* Appends a complete AUTHENTICATE frame (USER, SESSION_TOKEN). */
void ak_admin_authenticate_build(ak_buf_t *out, const char *user, const uint8_t *token, size_t token_len);

/* A parsed admin message (request or reply). Views into the body. */
typedef struct ak_admin_msg {
    uint8_t result;
    uint8_t command;
    uint8_t n_fields;
    const char *user;              /* USER, when present */
    size_t user_len;
    const char *credential;        /* CREDENTIAL */
    size_t credential_len;
    const uint8_t *session_token;  /* SESSION_TOKEN */
    size_t session_token_len;
    bool has_session_ttl;
    uint32_t session_ttl;          /* SESSION_TTL, seconds */
} ak_admin_msg_t;

/* Parses an admin body (the bytes after the proto header): the 16-byte
 * header and every field, each checked against the bytes present; unknown
 * fields are skipped, a SESSION_TTL that is not 4 bytes is an error.
 * Errors name the field and its byte offset (base_offset = the body's
 * offset in the frame, 8 for a whole frame). */
ak_status_t ak_admin_parse(const uint8_t *body, size_t len, size_t base_offset, ak_admin_msg_t *msg,
                           ak_error_t *err);

/* Appends a reply frame: result, and the token and TTL when token is not
 * NULL (what aerospike-dev answers a login with). */
void ak_admin_reply_build(ak_buf_t *out, uint8_t result, const uint8_t *token, size_t token_len,
                          uint32_t session_ttl);

#endif
