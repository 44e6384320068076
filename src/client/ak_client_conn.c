/*
 * Client connections: non-blocking connect, optional TLS, login, pipelined
 * frames out, replies matched to commands in order (a node answers the
 * requests of one connection in the order it received them).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/ak_client_internal.h"
#include "net/ak_sock.h"
#include "wire/ak_compress.h"
#include "wire/ak_proto.h"
#include "wire/ak_result.h"

#define AK_CLIENT_READ_CHUNK 65536

static void ak_client_conn_on_io(ak_loop_t *loop, ak_io_t *io, unsigned events);

static void ak_client_conn_free_deferred(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_client_conn_t *conn = arg;
    ak_buf_free(&conn->in);
    ak_buf_free(&conn->out);
    free(conn);
}

static void ak_client_conn_watch(ak_client_conn_t *conn)
{
    if (conn->state == AK_CONN_CLOSED)
        return;
    unsigned events = AK_IO_READ;
    if (conn->state == AK_CONN_CONNECTING || conn->out_sent < conn->out.len)
        events |= AK_IO_WRITE;
    if (conn->tls)
        events |= ak_tls_wanted_events(conn->tls);
    ak_loop_io_set(conn->client->loop, &conn->io, events);
}

static bool ak_client_session_valid(const ak_client_t *client)
{
    return client->session_token &&
           (!client->session_expires_ms || ak_clock_ms() < client->session_expires_ms);
}

static ak_tls_ctx_t *ak_client_node_tls_ctx(ak_client_node_t *node, ak_error_t *err)
{
    ak_client_t *client = node->client;
    ak_tls_client_options_t opts = {0};
    opts.ca_file = client->config.tls_ca_file;
    opts.cert_file = client->config.tls_cert_file;
    opts.key_file = client->config.tls_key_file;
    opts.protocols = client->config.tls_protocols;
    opts.n_protocols = client->config.n_tls_protocols;
    opts.ciphers = client->config.tls_ciphers;
    opts.n_ciphers = client->config.n_tls_ciphers;
    /* The certificate must carry the node's tls-name (from its seed or its
     * peers entry); without one, the host it was reached at. */
    opts.server_name = node->tls_name[0] ? node->tls_name : node->host;
    return ak_tls_client_ctx_new(&opts, err);
}

ak_client_conn_t *ak_client_conn_open(ak_client_node_t *node, bool is_info, ak_error_t *err)
{
    ak_client_t *client = node->client;
    ak_client_conn_t *conn = calloc(1, sizeof *conn);
    if (!conn) {
        ak_error_set(err, AK_ERR_NOMEM, "no memory for a connection");
        return NULL;
    }
    conn->client = client;
    conn->node = node;
    conn->is_info = is_info;
    ak_buf_init(&conn->in);
    ak_buf_init(&conn->out);
    int fd = ak_sock_connect(node->host, node->port, err);
    if (fd < 0) {
        free(conn);
        return NULL;
    }
    if (client->config.tls_enable) {
        ak_tls_ctx_t *ctx = ak_client_node_tls_ctx(node, err);
        if (ctx)
            conn->tls = ak_tls_new(ctx, fd, err);
        ak_tls_ctx_free(ctx); /* the connection holds its own reference */
        if (!conn->tls) {
            close(fd);
            free(conn);
            return NULL;
        }
    }
    ak_io_init(&conn->io, fd, ak_client_conn_on_io, conn);
    if (ak_loop_io_start(client->loop, &conn->io, AK_IO_READ | AK_IO_WRITE, err) != AK_OK) {
        ak_tls_free(conn->tls);
        close(fd);
        free(conn);
        return NULL;
    }
    conn->state = AK_CONN_CONNECTING;
    conn->opened_ms = ak_clock_ms();
    if (client->config.user) {
        /* The login goes first; commands may be pipelined behind it since
         * the node answers in order (a refused login fails them). */
        if (ak_client_session_valid(client)) {
            ak_admin_authenticate_build(&conn->out, client->config.user, client->session_token,
                                        client->session_token_len);
            conn->sent_login = false;
        } else {
            ak_admin_login_build(&conn->out, client->config.user, client->credential);
            conn->sent_login = true;
        }
        conn->bytes_queued = conn->out.len;
        conn->auth_pending = true;
    }
    return conn;
}

static void ak_client_conn_detach(ak_client_conn_t *conn)
{
    ak_client_node_t *node = conn->node;
    if (!node)
        return;
    if (node->info_conn == conn) {
        node->info_conn = NULL;
    } else {
        for (int i = 0; i < node->n_conns; i++) {
            if (node->conns[i] == conn) {
                node->conns[i] = node->conns[--node->n_conns];
                break;
            }
        }
    }
}

void ak_client_conn_close(ak_client_conn_t *conn, int code, const char *message)
{
    if (conn->state == AK_CONN_CLOSED)
        return;
    ak_client_t *client = conn->client;
    ak_client_node_t *node = conn->node;
    conn->state = AK_CONN_CLOSED;
    snprintf(conn->close_reason, sizeof conn->close_reason, "%s", message);
    ak_loop_io_stop(client->loop, &conn->io);
    if (conn->tls)
        ak_tls_free(conn->tls);
    conn->tls = NULL;
    close(conn->io.fd);
    ak_client_conn_detach(conn);
    if (node) {
        node->errors++;
        if (!conn->is_info && code == AK_CLIENT_ERR_CONNECTION && !client->closing)
            ak_client_cluster_node_trouble(node);
    }
    ak_loop_defer(client->loop, ak_client_conn_free_deferred, conn);

    ak_client_cmd_t *cmd = conn->fifo_head;
    conn->fifo_head = conn->fifo_tail = NULL;
    conn->fifo_len = 0;
    while (cmd) {
        ak_client_cmd_t *next = cmd->next;
        cmd->next = NULL;
        cmd->conn = NULL;
        if (node)
            node->in_flight--;
        client->in_flight--;
        if (cmd->state == AK_CMD_ABANDONED) {
            ak_client_cmd_free(cmd);
        } else {
            if (cmd->kind == AK_CMD_KIND_WRITE && conn->bytes_written > cmd->stream_start)
                cmd->maybe_applied = true; /* sent; the answer never came */
            ak_client_cmd_on_failure(cmd, code, message);
        }
        cmd = next;
    }
    if (conn->info_cb) {
        ak_client_info_cb cb = conn->info_cb;
        conn->info_cb = NULL;
        cb(conn, NULL, 0, conn->info_arg);
    }
    if (node && !node->removed && !client->closing)
        ak_client_node_pump(node);
}

/* Closes with a message naming the node: "node BB9...(127.0.0.1:3000): what". */
static void ak_client_conn_fail(ak_client_conn_t *conn, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ak_client_conn_fail(ak_client_conn_t *conn, int code, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char message[600];
    ak_client_node_t *node = conn->node;
    snprintf(message, sizeof message, "node %s (%.100s:%u): %s", node->name[0] ? node->name : "?",
             node->host, node->port, what);
    ak_client_conn_close(conn, code, message);
}

static void ak_client_conn_flush(ak_client_conn_t *conn)
{
    if (conn->state != AK_CONN_OPEN)
        return;
    while (conn->out_sent < conn->out.len) {
        ssize_t n;
        size_t left = conn->out.len - conn->out_sent;
        if (conn->tls) {
            n = ak_tls_write(conn->tls, conn->out.data + conn->out_sent, left);
            if (n == AK_TLS_AGAIN)
                break;
            if (n == AK_TLS_ERROR) {
                ak_client_conn_fail(conn, AK_CLIENT_ERR_TLS, "%s", ak_tls_error(conn->tls));
                return;
            }
        } else {
            n = write(conn->io.fd, conn->out.data + conn->out_sent, left);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                ak_client_conn_fail(conn, AK_CLIENT_ERR_CONNECTION, "write: %s", strerror(errno));
                return;
            }
        }
        conn->out_sent += (size_t)n;
        conn->bytes_written += (uint64_t)n;
    }
    if (conn->out_sent == conn->out.len) {
        ak_buf_clear(&conn->out);
        conn->out_sent = 0;
    }
    ak_client_conn_watch(conn);
}

static void ak_client_conn_flush_deferred(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_client_conn_t *conn = arg;
    conn->flush_scheduled = false;
    ak_client_conn_flush(conn);
}

/* Frames queued during one loop iteration leave in one write. */
static void ak_client_conn_schedule_flush(ak_client_conn_t *conn)
{
    if (conn->flush_scheduled || conn->state != AK_CONN_OPEN)
        return;
    if (ak_loop_defer(conn->client->loop, ak_client_conn_flush_deferred, conn))
        conn->flush_scheduled = true;
    else
        ak_client_conn_flush(conn);
}

void ak_client_conn_send_cmd(ak_client_conn_t *conn, ak_client_cmd_t *cmd)
{
    ak_buf_append(&conn->out, cmd->frame.data, cmd->frame.len);
    cmd->stream_start = conn->bytes_queued;
    conn->bytes_queued += cmd->frame.len;
    cmd->conn = conn;
    cmd->next = NULL;
    if (conn->fifo_tail)
        conn->fifo_tail->next = cmd;
    else
        conn->fifo_head = cmd;
    conn->fifo_tail = cmd;
    conn->fifo_len++;
    ak_client_conn_schedule_flush(conn);
}

void ak_client_conn_send_info(ak_client_conn_t *conn, const char *request, ak_client_info_cb cb, void *arg)
{
    size_t len = strlen(request);
    uint8_t header[AK_PROTO_HEADER_SIZE];
    ak_proto_header_write(header, AK_PROTO_TYPE_INFO, len);
    ak_buf_append(&conn->out, header, sizeof header);
    ak_buf_append(&conn->out, request, len);
    conn->bytes_queued += sizeof header + len;
    conn->info_cb = cb;
    conn->info_arg = arg;
    conn->info_sent_ms = ak_clock_ms();
    ak_client_conn_schedule_flush(conn);
}

static void ak_client_conn_on_admin(ak_client_conn_t *conn, const uint8_t *body, size_t len)
{
    ak_client_t *client = conn->client;
    ak_admin_msg_t msg;
    ak_error_t err;
    if (!conn->auth_pending) {
        ak_client_conn_fail(conn, AK_CLIENT_ERR_CLIENT, "unexpected security reply");
        return;
    }
    if (ak_admin_parse(body, len, AK_PROTO_HEADER_SIZE, &msg, &err) != AK_OK) {
        ak_client_conn_fail(conn, AK_CLIENT_ERR_CLIENT, "login reply: %s", err.message);
        return;
    }
    conn->auth_pending = false;
    if (msg.result == AK_RESULT_OK || msg.result == AK_ADMIN_RESULT_SECURITY_NOT_ENABLED)
        ; /* logged in (52: the node has no security, which counts as success) */
    else if (!conn->sent_login) {
        /* The session token is no longer good: log in afresh on the next
         * connection; the commands behind it are retried. */
        free(client->session_token);
        client->session_token = NULL;
        ak_client_conn_fail(conn, AK_RESULT_NOT_AUTHENTICATED, "session token refused (%s)",
                            ak_result_name(msg.result));
        return;
    } else {
        ak_client_set_last_error(client, "login as '%s' to %s:%u refused: %s (%d)", client->config.user,
                                 conn->node->host, conn->node->port, ak_result_name(msg.result), msg.result);
        ak_client_conn_fail(conn, msg.result, "login as '%s' refused: %s", client->config.user,
                            ak_result_name(msg.result));
        return;
    }
    if (conn->sent_login && msg.session_token && msg.session_token_len) {
        uint8_t *token = malloc(msg.session_token_len);
        if (token) {
            memcpy(token, msg.session_token, msg.session_token_len);
            free(client->session_token);
            client->session_token = token;
            client->session_token_len = msg.session_token_len;
            /* Expire our copy a minute early, as the C client does, so a
             * new connection never presents a token about to lapse. */
            uint64_t ttl_ms = msg.has_session_ttl ? (uint64_t)msg.session_ttl * 1000u : 0;
            client->session_expires_ms = ttl_ms > 60000 ? ak_clock_ms() + ttl_ms - 60000 : 0;
        }
    }
    if (conn->sent_login)
        client->stats.logins++;
}

static void ak_client_conn_on_data_reply(ak_client_conn_t *conn, const ak_frame_t *frame)
{
    ak_client_t *client = conn->client;
    ak_client_cmd_t *cmd = conn->fifo_head;
    if (!cmd) {
        ak_client_conn_fail(conn, AK_CLIENT_ERR_CLIENT, "a reply arrived with no command waiting");
        return;
    }
    conn->fifo_head = cmd->next;
    if (!conn->fifo_head)
        conn->fifo_tail = NULL;
    conn->fifo_len--;
    cmd->next = NULL;
    cmd->conn = NULL;
    conn->node->in_flight--;
    conn->node->commands++;
    client->in_flight--;
    if (cmd->state == AK_CMD_ABANDONED) {
        ak_client_cmd_free(cmd);
        return;
    }
    if (frame->header.type == AK_PROTO_TYPE_COMPRESSED) {
        ak_buf_t inner;
        ak_buf_init(&inner);
        ak_error_t err;
        if (ak_compress_decode(frame->body, (size_t)frame->header.size, AK_PROTO_HEADER_SIZE, &inner, &err) !=
            AK_OK) {
            ak_buf_free(&inner);
            ak_client_cmd_on_failure(cmd, AK_CLIENT_ERR_CLIENT, err.message);
            ak_client_conn_fail(conn, AK_CLIENT_ERR_CONNECTION, "bad compressed reply");
            return;
        }
        ak_client_cmd_on_reply(cmd, conn, inner.data + AK_PROTO_HEADER_SIZE, inner.len - AK_PROTO_HEADER_SIZE);
        ak_buf_free(&inner);
        return;
    }
    ak_client_cmd_on_reply(cmd, conn, frame->body, (size_t)frame->header.size);
}

static void ak_client_conn_process(ak_client_conn_t *conn)
{
    while (conn->state != AK_CONN_CLOSED) {
        ak_frame_t frame;
        size_t consumed;
        ak_error_t err;
        ak_frame_scan_t scan = ak_frame_next(conn->in.data + conn->in_pos, conn->in.len - conn->in_pos,
                                             conn->in_pos, &frame, &consumed, &err);
        if (scan == AK_FRAME_NEED_MORE)
            break;
        if (scan == AK_FRAME_ERROR) {
            ak_client_conn_fail(conn, AK_CLIENT_ERR_CONNECTION, "bad reply: %s", err.message);
            return;
        }
        conn->in_pos += consumed;
        uint8_t type = frame.header.type;
        if (conn->auth_pending && type != AK_PROTO_TYPE_ADMIN) {
            ak_client_conn_fail(conn, AK_CLIENT_ERR_CLIENT, "expected the login reply, got a %s frame",
                                ak_proto_type_name(type));
            return;
        }
        if (type == AK_PROTO_TYPE_ADMIN) {
            ak_client_conn_on_admin(conn, frame.body, (size_t)frame.header.size);
        } else if (type == AK_PROTO_TYPE_INFO) {
            if (!conn->info_cb) {
                ak_client_conn_fail(conn, AK_CLIENT_ERR_CLIENT, "unexpected info reply");
                return;
            }
            ak_client_info_cb cb = conn->info_cb;
            conn->info_cb = NULL;
            cb(conn, (const char *)frame.body, (size_t)frame.header.size, conn->info_arg);
        } else if (type == AK_PROTO_TYPE_MESSAGE || type == AK_PROTO_TYPE_COMPRESSED) {
            ak_client_conn_on_data_reply(conn, &frame);
        } else {
            ak_client_conn_fail(conn, AK_CLIENT_ERR_CLIENT, "unexpected %s frame", ak_proto_type_name(type));
            return;
        }
    }
    if (conn->state == AK_CONN_CLOSED)
        return;
    if (conn->in_pos == conn->in.len) {
        ak_buf_clear(&conn->in);
        conn->in_pos = 0;
    } else if (conn->in_pos > conn->in.cap / 2) {
        memmove(conn->in.data, conn->in.data + conn->in_pos, conn->in.len - conn->in_pos);
        conn->in.len -= conn->in_pos;
        conn->in_pos = 0;
    }
}

static void ak_client_conn_read(ak_client_conn_t *conn)
{
    for (int rounds = 0; rounds < 16 && conn->state == AK_CONN_OPEN; rounds++) {
        if (!ak_buf_reserve(&conn->in, AK_CLIENT_READ_CHUNK)) {
            ak_client_conn_fail(conn, AK_CLIENT_ERR_CLIENT, "no memory for replies");
            return;
        }
        size_t cap = conn->in.cap - conn->in.len;
        ssize_t n;
        if (conn->tls) {
            n = ak_tls_read(conn->tls, conn->in.data + conn->in.len, cap);
            if (n == AK_TLS_AGAIN)
                break;
            if (n == AK_TLS_ERROR) {
                ak_client_conn_fail(conn, AK_CLIENT_ERR_TLS, "%s", ak_tls_error(conn->tls));
                return;
            }
        } else {
            n = read(conn->io.fd, conn->in.data + conn->in.len, cap);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                ak_client_conn_fail(conn, AK_CLIENT_ERR_CONNECTION, "read: %s", strerror(errno));
                return;
            }
        }
        if (n == 0) {
            ak_client_conn_fail(conn, AK_CLIENT_ERR_CONNECTION, "connection closed by the node");
            return;
        }
        conn->in.len += (size_t)n;
        ak_client_conn_process(conn);
        if ((size_t)n < cap)
            break;
    }
    /* Answers freed in-flight slots: send what waits for this node. */
    ak_client_node_t *node = conn->node;
    if (node && node->queue_head && !node->removed && !conn->client->closing)
        ak_client_node_pump(node);
}

static void ak_client_conn_on_io(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    ak_client_conn_t *conn = io->data;
    if (conn->state == AK_CONN_CONNECTING) {
        int so_error = ak_sock_connect_result(io->fd);
        if (so_error) {
            ak_client_node_t *node = conn->node;
            /* Don't hammer a node that refuses: the next tend says when it
             * is back. */
            node->unreachable_until_ms = ak_clock_ms() + node->client->config.tend_interval_ms;
            ak_client_conn_fail(conn, AK_CLIENT_ERR_CONNECTION, "connect: %s", strerror(so_error));
            return;
        }
        conn->state = AK_CONN_OPEN;
        ak_client_conn_flush(conn);
        if (conn->state == AK_CONN_CLOSED)
            return;
    }
    if (conn->tls) {
        /* TLS may need either direction for either operation. */
        ak_client_conn_flush(conn);
        if (conn->state == AK_CONN_CLOSED)
            return;
        ak_client_conn_read(conn);
    } else {
        if (events & AK_IO_WRITE)
            ak_client_conn_flush(conn);
        if (conn->state == AK_CONN_CLOSED)
            return;
        if (events & AK_IO_READ)
            ak_client_conn_read(conn);
    }
    ak_client_conn_watch(conn);
}
