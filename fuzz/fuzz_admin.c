/*
 * libFuzzer harness for the security (admin) message parser the client
 * runs on login replies and aerospike-dev runs on login requests. Every
 * field view must lie inside the input, and a reply that parses must
 * survive build -> parse unchanged.
 *
 *   ./build.sh fuzz 600 admin
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/ak_client_admin.h"
#include "common/ak_buf.h"
#include "wire/ak_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ak_fuzz_in_bounds(const void *view, size_t len, const uint8_t *body, size_t body_len)
{
    if (!view)
        return;
    const uint8_t *p = view;
    if (p < body || p + len > body + body_len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        ak_frame_t frame;
        size_t consumed;
        if (ak_frame_next(data + pos, size - pos, pos, &frame, &consumed, NULL) != AK_FRAME_READY)
            break;
        pos += consumed;
        if (frame.header.type != AK_PROTO_TYPE_ADMIN)
            continue;
        size_t len = (size_t)frame.header.size;
        ak_admin_msg_t msg;
        ak_error_t err;
        if (ak_admin_parse(frame.body, len, AK_PROTO_HEADER_SIZE, &msg, &err) != AK_OK) {
            if (!err.message[0])
                abort(); /* every refusal says why */
            continue;
        }
        ak_fuzz_in_bounds(msg.user, msg.user_len, frame.body, len);
        ak_fuzz_in_bounds(msg.credential, msg.credential_len, frame.body, len);
        ak_fuzz_in_bounds(msg.session_token, msg.session_token_len, frame.body, len);
        if (!msg.session_token || !msg.has_session_ttl)
            continue;
        ak_buf_t out;
        ak_buf_init(&out);
        ak_admin_reply_build(&out, msg.result, msg.session_token, msg.session_token_len, msg.session_ttl);
        ak_admin_msg_t again;
        if (ak_admin_parse(out.data + AK_PROTO_HEADER_SIZE, out.len - AK_PROTO_HEADER_SIZE, AK_PROTO_HEADER_SIZE,
                           &again, &err) != AK_OK ||
            again.result != msg.result || again.session_ttl != msg.session_ttl ||
            again.session_token_len != msg.session_token_len ||
            memcmp(again.session_token, msg.session_token, msg.session_token_len) != 0)
            abort();
        ak_buf_free(&out);
    }
    return 0;
}
