/*
 * The command path: encode once, route to the partition's master, send on
 * a pipelined connection (or wait in a bounded queue), match the reply,
 * retry retry-class outcomes with jittered exponential backoff, enforce the
 * socket and total timeouts from one heap of deadlines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/ak_client_internal.h"
#include "net/ak_sock.h"
#include "wire/ak_msg.h"
#include "wire/ak_particle.h"
#include "wire/ak_proto.h"
#include "wire/ak_result.h"

#define AK_CLIENT_NO_HEAP SIZE_MAX

void ak_client_config_init(ak_client_config_t *config)
{
    memset(config, 0, sizeof *config);
    config->tend_interval_ms = 1000;
    config->conn_timeout_ms = 1000;
    config->login_timeout_ms = 5000;
    config->max_conns_per_node = 2;
    config->max_in_flight_per_node = 1024;
    config->max_queued = 100000;
}

void ak_client_policy_init(ak_client_policy_t *policy)
{
    memset(policy, 0, sizeof *policy);
    policy->socket_timeout_ms = 30000;
    policy->total_timeout_ms = 1000;
    policy->max_retries = 2;
    policy->backoff_ms = 10;
    policy->backoff_max_ms = 1000;
}

void ak_client_set_last_error(ak_client_t *client, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(client->last_error, sizeof client->last_error, fmt, ap);
    va_end(ap);
}

/* --- the deadline heap: one entry per command that has a next instant
 * (retry time, socket deadline, total deadline) --- */

static void ak_client_heap_swap(ak_client_t *client, size_t a, size_t b)
{
    ak_client_cmd_t *t = client->heap[a];
    client->heap[a] = client->heap[b];
    client->heap[b] = t;
    client->heap[a]->heap_index = a;
    client->heap[b]->heap_index = b;
}

static void ak_client_heap_up(ak_client_t *client, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (client->heap[parent]->due_ms <= client->heap[i]->due_ms)
            return;
        ak_client_heap_swap(client, parent, i);
        i = parent;
    }
}

static void ak_client_heap_down(ak_client_t *client, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < client->heap_len && client->heap[l]->due_ms < client->heap[m]->due_ms)
            m = l;
        if (r < client->heap_len && client->heap[r]->due_ms < client->heap[m]->due_ms)
            m = r;
        if (m == i)
            return;
        ak_client_heap_swap(client, m, i);
        i = m;
    }
}

static void ak_client_heap_remove(ak_client_cmd_t *cmd)
{
    ak_client_t *client = cmd->client;
    size_t i = cmd->heap_index;
    if (i == AK_CLIENT_NO_HEAP)
        return;
    cmd->heap_index = AK_CLIENT_NO_HEAP;
    client->heap_len--;
    if (i == client->heap_len)
        return;
    client->heap[i] = client->heap[client->heap_len];
    client->heap[i]->heap_index = i;
    ak_client_heap_down(client, i);
    ak_client_heap_up(client, i);
}

static void ak_client_on_heap_timer(ak_loop_t *loop, void *arg);

static void ak_client_arm_timer(ak_client_t *client)
{
    if (client->closing || !client->heap_len)
        return;
    uint64_t due = client->heap[0]->due_ms;
    if (client->heap_timer) {
        if (client->heap_timer_due <= due)
            return;
        ak_loop_timer_cancel(client->loop, client->heap_timer);
    }
    uint64_t now = ak_clock_ms();
    client->heap_timer = ak_loop_timer(client->loop, due > now ? due - now : 0, ak_client_on_heap_timer, client);
    client->heap_timer_due = due;
}

/* Puts or moves cmd in the heap at due (0 = take it out). */
static bool ak_client_heap_set(ak_client_cmd_t *cmd, uint64_t due)
{
    ak_client_t *client = cmd->client;
    if (!due) {
        ak_client_heap_remove(cmd);
        return true;
    }
    if (cmd->heap_index == AK_CLIENT_NO_HEAP) {
        if (client->heap_len == client->heap_cap) {
            size_t cap = client->heap_cap ? client->heap_cap * 2 : 1024;
            ak_client_cmd_t **heap = realloc(client->heap, cap * sizeof *heap);
            if (!heap)
                return false;
            client->heap = heap;
            client->heap_cap = cap;
        }
        cmd->heap_index = client->heap_len;
        client->heap[client->heap_len++] = cmd;
        cmd->due_ms = due;
        ak_client_heap_up(client, cmd->heap_index);
    } else {
        uint64_t old = cmd->due_ms;
        cmd->due_ms = due;
        if (due < old)
            ak_client_heap_up(client, cmd->heap_index);
        else
            ak_client_heap_down(client, cmd->heap_index);
    }
    ak_client_arm_timer(client);
    return true;
}

/* --- commands --- */

/* Finished commands are kept for reuse, up to this many: a command and its
 * frame buffer were two allocations and two frees per record. Frames that
 * grew past AK_CLIENT_POOL_FRAME_MAX are not kept. */
#define AK_CLIENT_CMD_POOL_MAX 4096
#define AK_CLIENT_POOL_FRAME_MAX 4096

static ak_client_cmd_t *ak_client_cmd_new(ak_client_t *client, const ak_client_policy_t *policy,
                                          ak_client_cb cb, void *arg)
{
    ak_client_cmd_t *cmd = client->cmd_pool;
    if (cmd) {
        client->cmd_pool = cmd->next;
        client->cmd_pool_len--;
        ak_buf_t frame = cmd->frame;
        memset(cmd, 0, sizeof *cmd);
        cmd->frame = frame;
        ak_buf_clear(&cmd->frame);
    } else {
        cmd = calloc(1, sizeof *cmd);
        if (!cmd)
            return NULL;
        ak_buf_init(&cmd->frame);
    }
    cmd->client = client;
    cmd->cb = cb;
    cmd->arg = arg;
    if (policy)
        cmd->policy = *policy;
    else
        ak_client_policy_init(&cmd->policy);
    cmd->heap_index = AK_CLIENT_NO_HEAP;
    cmd->state = AK_CMD_NEW;
    if (cmd->policy.total_timeout_ms)
        cmd->deadline_ms = ak_clock_ms() + cmd->policy.total_timeout_ms;
    return cmd;
}

void ak_client_cmd_free(ak_client_cmd_t *cmd)
{
    ak_client_t *client = cmd->client;
    if (!client->closing && client->cmd_pool_len < AK_CLIENT_CMD_POOL_MAX &&
        cmd->frame.cap <= AK_CLIENT_POOL_FRAME_MAX) {
        cmd->next = client->cmd_pool;
        client->cmd_pool = cmd;
        client->cmd_pool_len++;
        return;
    }
    ak_buf_free(&cmd->frame);
    free(cmd);
}

static void ak_client_cmd_pool_drain(ak_client_t *client)
{
    while (client->cmd_pool) {
        ak_client_cmd_t *cmd = client->cmd_pool;
        client->cmd_pool = cmd->next;
        ak_buf_free(&cmd->frame);
        free(cmd);
    }
    client->cmd_pool_len = 0;
}

static void ak_client_list_push(ak_client_cmd_t **head, ak_client_cmd_t **tail, ak_client_cmd_t *cmd)
{
    cmd->next = NULL;
    cmd->prev = *tail;
    if (*tail)
        (*tail)->next = cmd;
    else
        *head = cmd;
    *tail = cmd;
}

static void ak_client_list_unlink(ak_client_cmd_t **head, ak_client_cmd_t **tail, ak_client_cmd_t *cmd)
{
    if (cmd->prev)
        cmd->prev->next = cmd->next;
    else
        *head = cmd->next;
    if (cmd->next)
        cmd->next->prev = cmd->prev;
    else
        *tail = cmd->prev;
    cmd->prev = cmd->next = NULL;
}

/* Takes cmd out of whatever waiting list holds it. */
static void ak_client_cmd_unqueue(ak_client_cmd_t *cmd)
{
    ak_client_t *client = cmd->client;
    switch (cmd->state) {
    case AK_CMD_WAIT_MAP:
        ak_client_list_unlink(&client->wait_map_head, &client->wait_map_tail, cmd);
        client->queued--;
        break;
    case AK_CMD_NODE_QUEUE:
        ak_client_list_unlink(&cmd->node->queue_head, &cmd->node->queue_tail, cmd);
        cmd->node->queued--;
        cmd->node = NULL;
        client->queued--;
        break;
    case AK_CMD_BACKOFF:
    case AK_CMD_FAILING:
        client->queued--;
        break;
    default:
        break;
    }
}

static uint32_t ak_client_ttl_from_void_time(uint32_t void_time)
{
    if (void_time == 0)
        return AK_TTL_NEVER_EXPIRE;
    int64_t now = (int64_t)time(NULL) - AK_CITRUSLEAF_EPOCH_SECONDS;
    int64_t ttl = (int64_t)void_time - now;
    return ttl < 1 ? 1 : (uint32_t)ttl;
}

/* Calls the callback once and releases cmd (unless a connection still
 * expects its reply: then that connection frees it). */
static void ak_client_cmd_finish(ak_client_cmd_t *cmd, int code, const char *message, const ak_msg_t *reply,
                                 const ak_bin_t *bins, uint32_t n_bins)
{
    ak_client_t *client = cmd->client;
    ak_client_heap_remove(cmd);
    ak_client_cmd_unqueue(cmd);
    ak_client_result_t result = {0};
    result.result_code = code;
    result.name = ak_result_name(code);
    result.message = message ? message : "";
    result.attempts = cmd->attempts;
    result.node = cmd->node_name;
    result.in_doubt = code != AK_RESULT_OK && cmd->kind == AK_CMD_KIND_WRITE && cmd->maybe_applied;
    if (reply) {
        result.generation = reply->header.generation;
        result.ttl = ak_client_ttl_from_void_time(reply->header.record_ttl);
    }
    result.bins = bins;
    result.n_bins = n_bins;
    client->stats.commands++;
    if (code == AK_RESULT_OK)
        client->stats.succeeded++;
    else
        client->stats.failed++;
    if (result.in_doubt)
        client->stats.in_doubt++;
    bool on_fifo = cmd->state == AK_CMD_IN_FLIGHT && cmd->conn;
    cmd->state = on_fifo ? AK_CMD_ABANDONED : AK_CMD_NEW;
    if (cmd->cb)
        cmd->cb(&result, cmd->arg);
    if (!on_fifo)
        ak_client_cmd_free(cmd);
}

/* The outcome is known but the caller may be inside an API call: complete
 * from the timer. */
static void ak_client_cmd_fail_later(ak_client_cmd_t *cmd, int code, const char *message)
{
    ak_client_t *client = cmd->client;
    cmd->last_code = code;
    snprintf(cmd->last_message, sizeof cmd->last_message, "%s", message);
    if (client->closing) {
        ak_client_cmd_finish(cmd, code, cmd->last_message, NULL, NULL, 0);
        return;
    }
    cmd->state = AK_CMD_FAILING;
    client->queued++;
    if (!ak_client_heap_set(cmd, ak_clock_ms())) {
        client->queued--;
        ak_client_cmd_finish(cmd, code, cmd->last_message, NULL, NULL, 0);
    }
}

static bool ak_client_retryable_failure(int code)
{
    return code == AK_CLIENT_ERR_CONNECTION || code == AK_CLIENT_ERR_INVALID_NODE ||
           code == AK_RESULT_NOT_AUTHENTICATED || code == AK_ADMIN_RESULT_EXPIRED_SESSION ||
           ak_result_is_retryable(code);
}

/* A try ended with a retry-class outcome: retry after a jittered
 * exponential backoff, or give up with this outcome when the tries or the
 * total timeout are used up. */
static void ak_client_cmd_retry(ak_client_cmd_t *cmd, int code, const char *message)
{
    ak_client_t *client = cmd->client;
    char text[sizeof cmd->last_message];
    if (client->closing) {
        ak_client_cmd_fail_later(cmd, AK_CLIENT_ERR_CLIENT, "client closed");
        return;
    }
    if (cmd->attempts > cmd->policy.max_retries) {
        snprintf(text, sizeof text, "%s (gave up after %d tr%s)", message, cmd->attempts,
                 cmd->attempts == 1 ? "y" : "ies");
        ak_client_cmd_fail_later(cmd, code, text);
        return;
    }
    uint64_t delay = cmd->policy.backoff_ms;
    for (int i = 1; i < cmd->attempts && delay < cmd->policy.backoff_max_ms; i++)
        delay *= 2;
    if (delay > cmd->policy.backoff_max_ms)
        delay = cmd->policy.backoff_max_ms;
    if (delay > 1) {
        /* Full jitter over the upper half: spreads retries of commands
         * that failed together. */
        client->rng ^= client->rng << 13;
        client->rng ^= client->rng >> 7;
        client->rng ^= client->rng << 17;
        delay = delay / 2 + client->rng % (delay / 2 + 1);
    }
    uint64_t now = ak_clock_ms();
    if (cmd->deadline_ms && now + delay >= cmd->deadline_ms) {
        snprintf(text, sizeof text, "%s (total timeout of %u ms left no time for try %d)", message,
                 cmd->policy.total_timeout_ms, cmd->attempts + 1);
        ak_client_cmd_fail_later(cmd, code, text);
        return;
    }
    cmd->last_code = code;
    snprintf(cmd->last_message, sizeof cmd->last_message, "%s", message);
    cmd->state = AK_CMD_BACKOFF;
    client->queued++;
    client->stats.retries++;
    if (!ak_client_heap_set(cmd, now + delay + (delay == 0))) {
        client->queued--;
        cmd->state = AK_CMD_NEW;
        ak_client_cmd_finish(cmd, AK_CLIENT_ERR_CLIENT, "no memory to schedule a retry", NULL, NULL, 0);
    }
}

void ak_client_cmd_on_failure(ak_client_cmd_t *cmd, int code, const char *message)
{
    ak_client_heap_remove(cmd);
    cmd->state = AK_CMD_NEW;
    cmd->node = NULL;
    if (code == AK_RESULT_TIMEOUT)
        cmd->client->stats.timeouts++;
    if (ak_client_retryable_failure(code))
        ak_client_cmd_retry(cmd, code, message);
    else
        ak_client_cmd_fail_later(cmd, code, message);
}

static bool ak_client_node_usable(const ak_client_node_t *node)
{
    return node->active && !node->removed && ak_clock_ms() >= node->unreachable_until_ms;
}

static ak_client_conn_t *ak_client_pick_conn(ak_client_node_t *node, char *why, size_t why_cap)
{
    ak_client_t *client = node->client;
    ak_client_conn_t *best = NULL;
    for (int i = 0; i < node->n_conns; i++)
        if (!best || node->conns[i]->fifo_len < best->fifo_len)
            best = node->conns[i];
    if ((!best || best->fifo_len > 0) && node->n_conns < client->config.max_conns_per_node) {
        ak_error_t err;
        ak_client_conn_t *conn = ak_client_conn_open(node, false, &err);
        if (conn) {
            node->conns[node->n_conns++] = conn;
            return conn;
        }
        node->unreachable_until_ms = ak_clock_ms() + client->config.tend_interval_ms;
        snprintf(why, why_cap, "node %s (%.100s:%u): %.200s", node->name, node->host, node->port, err.message);
        ak_client_cluster_node_trouble(node);
    }
    return best;
}

/* The name stays with the command for its messages after the node goes
 * (a copy per send: snprintf showed in profiles). */
static void ak_client_copy_node_name(ak_client_cmd_t *cmd, const ak_client_node_t *node)
{
    size_t len = strnlen(node->name, sizeof cmd->node_name - 1);
    memcpy(cmd->node_name, node->name, len);
    cmd->node_name[len] = '\0';
}

static void ak_client_send_to_node(ak_client_cmd_t *cmd, ak_client_node_t *node)
{
    ak_client_t *client = cmd->client;
    char why[400] = "";
    ak_client_conn_t *conn = ak_client_pick_conn(node, why, sizeof why);
    ak_client_copy_node_name(cmd, node);
    if (!conn) {
        ak_client_cmd_retry(cmd, AK_CLIENT_ERR_CONNECTION, why[0] ? why : "no connection");
        return;
    }
    cmd->state = AK_CMD_IN_FLIGHT;
    cmd->node = node;
    cmd->sent_ms = ak_clock_ms();
    node->in_flight++;
    client->in_flight++;
    ak_client_conn_send_cmd(conn, cmd);
    uint64_t due = cmd->deadline_ms;
    if (cmd->policy.socket_timeout_ms) {
        uint64_t socket_due = cmd->sent_ms + cmd->policy.socket_timeout_ms;
        if (!due || socket_due < due)
            due = socket_due;
    }
    ak_client_heap_set(cmd, due);
}

static void ak_client_dispatch(ak_client_cmd_t *cmd)
{
    ak_client_t *client = cmd->client;
    char text[300];
    if (!client->ready) {
        if (client->queued >= client->config.max_queued) {
            snprintf(text, sizeof text, "queue full: %zu commands already wait (max-queued)", client->queued);
            ak_client_cmd_fail_later(cmd, AK_CLIENT_ERR_QUEUE_FULL, text);
            return;
        }
        cmd->state = AK_CMD_WAIT_MAP;
        ak_client_list_push(&client->wait_map_head, &client->wait_map_tail, cmd);
        client->queued++;
        ak_client_heap_set(cmd, cmd->deadline_ms);
        return;
    }
    bool ns_known = false;
    /* Writes go to the master; reads move to the next replica on each try. */
    int replica = cmd->kind == AK_CMD_KIND_READ ? cmd->attempts : 0;
    ak_client_node_t *node = ak_client_cluster_route(client, cmd->ns, cmd->partition_id, replica, &ns_known);
    if (!ns_known) {
        snprintf(text, sizeof text, "namespace '%s' is not in the cluster's partition map", cmd->ns);
        ak_client_cmd_fail_later(cmd, AK_RESULT_NAMESPACE_NOT_FOUND, text);
        return;
    }
    if (!node || !ak_client_node_usable(node)) {
        cmd->attempts++;
        if (node) {
            snprintf(cmd->node_name, sizeof cmd->node_name, "%s", node->name);
            snprintf(text, sizeof text, "node %s (%.100s:%u), master of partition %u of '%s', is down", node->name,
                     node->host, node->port, cmd->partition_id, cmd->ns);
        } else {
            snprintf(text, sizeof text, "no node owns partition %u of '%s'", cmd->partition_id, cmd->ns);
        }
        ak_client_cmd_retry(cmd, AK_CLIENT_ERR_INVALID_NODE, text);
        return;
    }
    if (node->in_flight >= client->config.max_in_flight_per_node) {
        if (client->queued >= client->config.max_queued) {
            snprintf(text, sizeof text, "queue full: %zu commands already wait (max-queued)", client->queued);
            ak_client_cmd_fail_later(cmd, AK_CLIENT_ERR_QUEUE_FULL, text);
            return;
        }
        cmd->state = AK_CMD_NODE_QUEUE;
        cmd->node = node;
        ak_client_list_push(&node->queue_head, &node->queue_tail, cmd);
        node->queued++;
        client->queued++;
        ak_client_heap_set(cmd, cmd->deadline_ms);
        return;
    }
    cmd->attempts++;
    ak_client_send_to_node(cmd, node);
}

void ak_client_node_pump(ak_client_node_t *node)
{
    ak_client_t *client = node->client;
    while (node->queue_head && node->in_flight < client->config.max_in_flight_per_node &&
           ak_client_node_usable(node)) {
        ak_client_cmd_t *cmd = node->queue_head;
        ak_client_cmd_unqueue(cmd);
        cmd->state = AK_CMD_NEW;
        cmd->attempts++;
        ak_client_send_to_node(cmd, node);
    }
}

void ak_client_node_fail_queue(ak_client_node_t *node, int code, const char *message)
{
    while (node->queue_head) {
        ak_client_cmd_t *cmd = node->queue_head;
        ak_client_cmd_unqueue(cmd);
        ak_client_heap_remove(cmd);
        cmd->state = AK_CMD_NEW;
        cmd->attempts++;
        ak_client_cmd_retry(cmd, code, message);
    }
}

void ak_client_cmds_map_changed(ak_client_t *client)
{
    ak_client_cmd_t *list = client->wait_map_head;
    client->wait_map_head = client->wait_map_tail = NULL;
    while (list) {
        ak_client_cmd_t *cmd = list;
        list = cmd->next;
        cmd->prev = cmd->next = NULL;
        client->queued--;
        ak_client_heap_remove(cmd);
        cmd->state = AK_CMD_NEW;
        ak_client_dispatch(cmd);
    }
}

static void ak_client_on_timeout(ak_client_cmd_t *cmd, uint64_t now)
{
    ak_client_t *client = cmd->client;
    char text[300];
    switch (cmd->state) {
    case AK_CMD_BACKOFF:
        client->queued--;
        cmd->state = AK_CMD_NEW;
        ak_client_dispatch(cmd);
        break;
    case AK_CMD_FAILING:
        ak_client_cmd_finish(cmd, cmd->last_code, cmd->last_message, NULL, NULL, 0);
        break;
    case AK_CMD_WAIT_MAP:
    case AK_CMD_NODE_QUEUE:
        client->stats.timeouts++;
        if (cmd->last_code)
            snprintf(text, sizeof text, "total timeout of %u ms while waiting to retry; last try: %s (%s)",
                     cmd->policy.total_timeout_ms, cmd->last_message, ak_result_name(cmd->last_code));
        else
            snprintf(text, sizeof text, "total timeout of %u ms while waiting %s",
                     cmd->policy.total_timeout_ms,
                     cmd->state == AK_CMD_WAIT_MAP ? "for the partition map" : "for a free slot on the node");
        ak_client_cmd_finish(cmd, AK_RESULT_TIMEOUT, text, NULL, NULL, 0);
        break;
    case AK_CMD_IN_FLIGHT:
        if (cmd->policy.socket_timeout_ms && now >= cmd->sent_ms + cmd->policy.socket_timeout_ms &&
            (!cmd->deadline_ms || cmd->sent_ms + cmd->policy.socket_timeout_ms < cmd->deadline_ms)) {
            /* The connection's later answers are stuck behind this one:
             * close it; everything on it is retried. */
            snprintf(text, sizeof text, "socket timeout: no answer within %u ms", cmd->policy.socket_timeout_ms);
            ak_client_conn_t *conn = cmd->conn;
            ak_client_heap_remove(cmd);
            ak_client_conn_close(conn, AK_RESULT_TIMEOUT, text);
        } else {
            client->stats.timeouts++;
            if (cmd->kind == AK_CMD_KIND_WRITE && cmd->conn && cmd->conn->bytes_written > cmd->stream_start)
                cmd->maybe_applied = true;
            snprintf(text, sizeof text, "total timeout of %u ms: no answer from node %s after %d tr%s",
                     cmd->policy.total_timeout_ms, cmd->node_name, cmd->attempts,
                     cmd->attempts == 1 ? "y" : "ies");
            ak_client_cmd_finish(cmd, AK_RESULT_TIMEOUT, text, NULL, NULL, 0);
        }
        break;
    default:
        ak_client_heap_remove(cmd);
        break;
    }
}

static void ak_client_on_heap_timer(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_client_t *client = arg;
    client->heap_timer = 0;
    uint64_t now = ak_clock_ms();
    while (client->heap_len && client->heap[0]->due_ms <= now) {
        ak_client_cmd_t *cmd = client->heap[0];
        ak_client_heap_remove(cmd);
        ak_client_on_timeout(cmd, now);
    }
    ak_client_arm_timer(client);
}

void ak_client_cmd_on_reply(ak_client_cmd_t *cmd, ak_client_conn_t *conn, const uint8_t *body, size_t len)
{
    ak_client_t *client = cmd->client;
    ak_client_heap_remove(cmd);
    ak_arena_reset(&client->reply_arena);
    ak_msg_t msg;
    ak_error_t err;
    char text[700];
    if (ak_msg_parse(body, len, AK_PROTO_HEADER_SIZE, &client->reply_arena, &msg, &err) != AK_OK) {
        snprintf(text, sizeof text, "bad reply from node %s: %s", cmd->node_name, err.message);
        cmd->state = AK_CMD_NEW;
        ak_client_cmd_finish(cmd, AK_CLIENT_ERR_CLIENT, text, NULL, NULL, 0);
        return;
    }
    int code = msg.header.result_code;
    if (code == AK_RESULT_NOT_AUTHENTICATED && client->config.user) {
        /* The node forgot our session: log in again on a new connection. */
        free(client->session_token);
        client->session_token = NULL;
        cmd->state = AK_CMD_NEW;
        cmd->node = NULL;
        snprintf(text, sizeof text, "node %s: not authenticated", cmd->node_name);
        ak_client_cmd_retry(cmd, code, text);
        ak_client_conn_close(conn, AK_RESULT_NOT_AUTHENTICATED, "session no longer accepted; logging in again");
        return;
    }
    if (ak_result_is_retryable(code)) {
        if (code == AK_RESULT_TIMEOUT) {
            client->stats.timeouts++;
            if (cmd->kind == AK_CMD_KIND_WRITE)
                cmd->maybe_applied = true; /* the master may have applied it */
        }
        cmd->state = AK_CMD_NEW;
        cmd->node = NULL;
        snprintf(text, sizeof text, "node %s answered %s (%d)", cmd->node_name, ak_result_name(code), code);
        ak_client_cmd_retry(cmd, code, text);
        return;
    }
    ak_bin_t *bins = NULL;
    uint32_t n_bins = 0;
    if (msg.header.n_ops) {
        bins = ak_arena_alloc_array(&client->reply_arena, msg.header.n_ops, sizeof *bins);
        if (!bins) {
            cmd->state = AK_CMD_NEW;
            ak_client_cmd_finish(cmd, AK_CLIENT_ERR_CLIENT, "no memory for the bins read", NULL, NULL, 0);
            return;
        }
        for (uint16_t i = 0; i < msg.header.n_ops; i++) {
            const ak_msg_op_t *op = &msg.ops[i];
            ak_bin_t *bin = &bins[n_bins++];
            memset(bin, 0, sizeof *bin);
            bin->name.data = (const char *)op->name;
            bin->name.len = op->name_len;
            if (ak_particle_decode(op->particle_type, op->value, op->value_len, op->value_offset,
                                   &client->reply_arena, &bin->value, &err) != AK_OK) {
                snprintf(text, sizeof text, "bad bin '%.*s' in the reply from node %s: %s", (int)op->name_len,
                         (const char *)op->name, cmd->node_name, err.message);
                cmd->state = AK_CMD_NEW;
                ak_client_cmd_finish(cmd, AK_CLIENT_ERR_CLIENT, text, NULL, NULL, 0);
                return;
            }
        }
    }
    if (code == AK_RESULT_OK) {
        text[0] = '\0';
    } else {
        snprintf(text, sizeof text, "node %s answered %s (%d)", cmd->node_name, ak_result_name(code), code);
    }
    cmd->state = AK_CMD_NEW;
    ak_client_cmd_finish(cmd, code, text, &msg, bins, n_bins);
}

/* --- encoding --- */

static uint32_t ak_client_server_timeout(const ak_client_policy_t *policy)
{
    uint32_t socket = policy->socket_timeout_ms, total = policy->total_timeout_ms;
    if (socket && (!total || socket < total))
        return socket;
    return total;
}

static ak_status_t ak_client_key_digest(const ak_record_t *rec, uint8_t digest[AK_DIGEST_SIZE], ak_error_t *err)
{
    if (rec->ns.len == 0 || rec->ns.len > AK_NAMESPACE_MAX)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "namespace of %zu bytes (must be 1..%d)", rec->ns.len,
                            AK_NAMESPACE_MAX);
    if (rec->set.len > AK_SET_MAX)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "set name of %zu bytes (at most %d)", rec->set.len,
                            AK_SET_MAX);
    if (rec->has_digest) {
        memcpy(digest, rec->digest, AK_DIGEST_SIZE);
        return AK_OK;
    }
    if (!rec->has_key)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "record has neither a key nor a digest");
    return ak_digest_compute(rec->set.data, rec->set.len, &rec->key, digest, err);
}

static void ak_client_key_fields(ak_msg_builder_t *b, const ak_record_t *rec, const uint8_t *digest,
                                 bool send_key)
{
    ak_msg_add_field(b, AK_FIELD_NAMESPACE, rec->ns.data, rec->ns.len);
    if (rec->set.len)
        ak_msg_add_field(b, AK_FIELD_SET, rec->set.data, rec->set.len);
    ak_msg_add_field(b, AK_FIELD_DIGEST, digest, AK_DIGEST_SIZE);
    if (send_key && rec->has_key) {
        uint8_t scratch[8], type = 0;
        const uint8_t *bytes = NULL;
        size_t len = 0;
        if (ak_key_bytes(&rec->key, &type, &bytes, &len, scratch, NULL) == AK_OK)
            ak_msg_add_field_prefixed(b, AK_FIELD_KEY, type, bytes, len);
    }
}

/* info bits of rec's write policy (spec §2.5). */
static void ak_client_write_policy_bits(const ak_record_t *rec, ak_msg_header_t *h)
{
    switch (rec->exists_action) {
    case AK_EXISTS_UPDATE: break;
    case AK_EXISTS_UPDATE_ONLY: h->info3 |= AK_INFO3_UPDATE_ONLY; break;
    case AK_EXISTS_REPLACE: h->info3 |= AK_INFO3_CREATE_OR_REPLACE; break;
    case AK_EXISTS_REPLACE_ONLY: h->info3 |= AK_INFO3_REPLACE_ONLY; break;
    case AK_EXISTS_CREATE_ONLY: h->info2 |= AK_INFO2_CREATE_ONLY; break;
    }
    if (rec->generation_policy == AK_GEN_EQ)
        h->info2 |= AK_INFO2_GENERATION;
    else if (rec->generation_policy == AK_GEN_GT)
        h->info2 |= AK_INFO2_GENERATION_GT;
    if (rec->generation_policy != AK_GEN_NONE)
        h->generation = rec->generation;
    if (rec->commit_level == AK_COMMIT_MASTER)
        h->info3 |= AK_INFO3_COMMIT_MASTER;
    if (rec->op == AK_RECORD_DURABLE_DELETE)
        h->info2 |= AK_INFO2_DURABLE_DELETE;
    h->record_ttl = rec->ttl;
}

static ak_status_t ak_client_submit(ak_client_t *client, ak_client_cmd_t *cmd, const ak_record_t *rec,
                                    const uint8_t *digest, ak_error_t *err)
{
    if (ak_buf_failed(&cmd->frame)) {
        ak_client_cmd_free(cmd);
        return ak_error_set(err, AK_ERR_NOMEM, "no memory to encode the command");
    }
    memcpy(cmd->ns, rec->ns.data, rec->ns.len);
    cmd->ns[rec->ns.len] = '\0';
    cmd->partition_id = ak_partition_id(digest);
    if (client->closing) {
        ak_client_cmd_free(cmd);
        return ak_error_set(err, AK_ERR_INVALID_ARG, "the client is closing");
    }
    ak_client_dispatch(cmd);
    return AK_OK;
}

static ak_client_cmd_t *ak_client_cmd_begin(ak_client_t *client, const ak_client_policy_t *policy, ak_client_cb cb,
                                            void *arg, ak_error_t *err)
{
    ak_client_cmd_t *cmd = ak_client_cmd_new(client, policy, cb, arg);
    if (!cmd)
        ak_error_set(err, AK_ERR_NOMEM, "no memory for a command");
    return cmd;
}

ak_status_t ak_client_put(ak_client_t *client, const ak_record_t *rec, const ak_client_policy_t *policy,
                          ak_client_cb cb, void *arg, ak_error_t *err)
{
    uint8_t digest[AK_DIGEST_SIZE];
    ak_status_t st = ak_client_key_digest(rec, digest, err);
    if (st != AK_OK)
        return st;
    ak_client_cmd_t *cmd = ak_client_cmd_begin(client, policy, cb, arg, err);
    if (!cmd)
        return AK_ERR_NOMEM;
    ak_record_t copy = *rec;
    copy.has_digest = true;
    memcpy(copy.digest, digest, sizeof digest);
    if (!cmd->policy.send_key)
        copy.has_key = false;
    if (copy.generation_policy == AK_GEN_NONE)
        copy.generation = 0;
    st = ak_record_to_msg(&copy, ak_client_server_timeout(&cmd->policy), &cmd->frame, err);
    if (st != AK_OK) {
        ak_client_cmd_free(cmd);
        return st;
    }
    cmd->kind = AK_CMD_KIND_WRITE;
    return ak_client_submit(client, cmd, rec, digest, err);
}

ak_status_t ak_client_touch(ak_client_t *client, const ak_record_t *rec, const ak_client_policy_t *policy,
                            ak_client_cb cb, void *arg, ak_error_t *err)
{
    uint8_t digest[AK_DIGEST_SIZE];
    ak_status_t st = ak_client_key_digest(rec, digest, err);
    if (st != AK_OK)
        return st;
    ak_client_cmd_t *cmd = ak_client_cmd_begin(client, policy, cb, arg, err);
    if (!cmd)
        return AK_ERR_NOMEM;
    ak_msg_header_t h = {0};
    h.info2 = AK_INFO2_WRITE;
    ak_record_t policy_rec = *rec;
    policy_rec.op = AK_RECORD_WRITE;
    ak_client_write_policy_bits(&policy_rec, &h);
    h.transaction_ttl = ak_client_server_timeout(&cmd->policy);
    ak_msg_builder_t b;
    ak_msg_begin(&b, &cmd->frame, &h);
    ak_client_key_fields(&b, rec, digest, cmd->policy.send_key);
    ak_msg_add_op_raw(&b, AK_OP_TOUCH, 0, NULL, 0, NULL, 0);
    if ((st = ak_msg_end(&b, err)) != AK_OK) {
        ak_client_cmd_free(cmd);
        return st;
    }
    cmd->kind = AK_CMD_KIND_WRITE;
    return ak_client_submit(client, cmd, rec, digest, err);
}

ak_status_t ak_client_get(ak_client_t *client, const ak_record_t *key, const char *const *names, size_t n_names,
                          const ak_client_policy_t *policy, ak_client_cb cb, void *arg, ak_error_t *err)
{
    uint8_t digest[AK_DIGEST_SIZE];
    ak_status_t st = ak_client_key_digest(key, digest, err);
    if (st != AK_OK)
        return st;
    ak_client_cmd_t *cmd = ak_client_cmd_begin(client, policy, cb, arg, err);
    if (!cmd)
        return AK_ERR_NOMEM;
    ak_msg_header_t h = {0};
    h.info1 = AK_INFO1_READ;
    if (!names)
        h.info1 |= AK_INFO1_GET_ALL;
    else if (n_names == 0)
        h.info1 |= AK_INFO1_GET_NOBINDATA;
    h.transaction_ttl = ak_client_server_timeout(&cmd->policy);
    ak_msg_builder_t b;
    ak_msg_begin(&b, &cmd->frame, &h);
    ak_client_key_fields(&b, key, digest, false);
    for (size_t i = 0; names && i < n_names; i++)
        ak_msg_add_op_raw(&b, AK_OP_READ, 0, names[i], strlen(names[i]), NULL, 0);
    if ((st = ak_msg_end(&b, err)) != AK_OK) {
        ak_client_cmd_free(cmd);
        return st;
    }
    cmd->kind = AK_CMD_KIND_READ;
    return ak_client_submit(client, cmd, key, digest, err);
}

static bool ak_client_op_is_read(uint8_t op_type)
{
    return op_type == AK_OP_READ || op_type == AK_OP_CDT_READ || op_type == AK_OP_EXP_READ ||
           op_type == AK_OP_BITS_READ || op_type == AK_OP_HLL_READ;
}

ak_status_t ak_client_operate(ak_client_t *client, const ak_record_t *rec, const ak_client_op_t *ops, size_t n_ops,
                              const ak_client_policy_t *policy, ak_client_cb cb, void *arg, ak_error_t *err)
{
    if (n_ops == 0)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "operate needs at least one operation");
    uint8_t digest[AK_DIGEST_SIZE];
    ak_status_t st = ak_client_key_digest(rec, digest, err);
    if (st != AK_OK)
        return st;
    ak_msg_header_t h = {0};
    bool has_write = false, respond_all = false;
    for (size_t i = 0; i < n_ops; i++) {
        uint8_t t = ops[i].op_type;
        bool unnamed = !ops[i].bin || !ops[i].bin[0];
        if (ak_client_op_is_read(t)) {
            h.info1 |= AK_INFO1_READ;
            if (t == AK_OP_READ && unnamed)
                h.info1 |= AK_INFO1_GET_ALL;
        } else {
            has_write = true;
        }
        if (t == AK_OP_CDT_READ || t == AK_OP_CDT_MODIFY || t == AK_OP_EXP_READ || t == AK_OP_EXP_MODIFY ||
            t == AK_OP_BITS_READ || t == AK_OP_BITS_MODIFY || t == AK_OP_HLL_READ || t == AK_OP_HLL_MODIFY)
            respond_all = true;
    }
    ak_client_cmd_t *cmd = ak_client_cmd_begin(client, policy, cb, arg, err);
    if (!cmd)
        return AK_ERR_NOMEM;
    if (has_write) {
        h.info2 |= AK_INFO2_WRITE;
        ak_record_t policy_rec = *rec;
        policy_rec.op = AK_RECORD_WRITE;
        ak_client_write_policy_bits(&policy_rec, &h);
    }
    /* CDT and expression results come one per op, as the clients ask. */
    if (respond_all && !(h.info1 & AK_INFO1_GET_ALL))
        h.info2 |= AK_INFO2_RESPOND_ALL_OPS;
    h.transaction_ttl = ak_client_server_timeout(&cmd->policy);
    ak_msg_builder_t b;
    ak_msg_begin(&b, &cmd->frame, &h);
    ak_client_key_fields(&b, rec, digest, has_write && cmd->policy.send_key);
    for (size_t i = 0; i < n_ops && st == AK_OK; i++) {
        const ak_client_op_t *op = &ops[i];
        const char *name = op->bin ? op->bin : "";
        size_t name_len = strlen(name);
        if (name_len > AK_BIN_NAME_MAX) {
            st = ak_error_set(err, AK_ERR_INVALID_ARG, "operation %zu: bin name '%s' is longer than %d bytes", i,
                              name, AK_BIN_NAME_MAX);
            break;
        }
        switch (op->op_type) {
        case AK_OP_WRITE:
        case AK_OP_INCR:
        case AK_OP_APPEND:
        case AK_OP_PREPEND:
            st = ak_msg_add_op_value(&b, op->op_type, name, name_len, &op->value, err);
            break;
        case AK_OP_READ:
        case AK_OP_TOUCH:
        case AK_OP_DELETE:
            ak_msg_add_op_raw(&b, op->op_type, 0, name, name_len, NULL, 0);
            break;
        default:
            /* CDT, bit, HLL and expression ops: the value is the op's
             * MessagePack, sent as a blob particle as the clients do. */
            if (op->value.type != AK_VALUE_BYTES && op->value.type != AK_VALUE_NIL) {
                st = ak_error_set(err, AK_ERR_INVALID_ARG,
                                  "operation %zu (%s): the value must be the op's MessagePack bytes", i,
                                  ak_op_type_name(op->op_type));
                break;
            }
            ak_msg_add_op_raw(&b, op->op_type, AK_PARTICLE_BLOB, name, name_len,
                              op->value.type == AK_VALUE_BYTES ? op->value.u.bytes.data : NULL,
                              op->value.type == AK_VALUE_BYTES ? op->value.u.bytes.len : 0);
            break;
        }
    }
    if (st == AK_OK)
        st = ak_msg_end(&b, err);
    if (st != AK_OK) {
        ak_client_cmd_free(cmd);
        return st;
    }
    cmd->kind = has_write ? AK_CMD_KIND_WRITE : AK_CMD_KIND_READ;
    return ak_client_submit(client, cmd, rec, digest, err);
}

/* --- client --- */

static ak_status_t ak_client_parse_seeds(ak_client_t *client, const char *seeds, ak_error_t *err)
{
    const char *p = seeds;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            if (client->n_seeds == AK_CLIENT_MAX_SEEDS)
                return ak_error_set(err, AK_ERR_INVALID_ARG, "more than %d seeds", AK_CLIENT_MAX_SEEDS);
            char text[600];
            if (len >= sizeof text)
                return ak_error_set(err, AK_ERR_INVALID_ARG, "seed '%.40s...' is too long", p);
            memcpy(text, p, len);
            text[len] = '\0';
            ak_client_seed_t *seed = &client->seeds[client->n_seeds];
            /* host:tls-name:port (Aerospike's syntax) when there are two
             * colons outside brackets. */
            char *last = strrchr(text, ':');
            char *first = text[0] == '[' ? strchr(strchr(text, ']') ? strchr(text, ']') : text, ':') : strchr(text, ':');
            if (first && last && first != last) {
                *last = '\0';
                snprintf(seed->tls_name, sizeof seed->tls_name, "%s", first + 1);
                *first = '\0';
                char hostport[1300];
                snprintf(hostport, sizeof hostport, "%s:%s", text, last + 1);
                if (ak_sock_parse_hostport(hostport, seed->host, sizeof seed->host, &seed->port, err) != AK_OK) {
                    ak_error_prefix(err, "seeds");
                    return AK_ERR_INVALID_ARG;
                }
            } else if (ak_sock_parse_hostport(text, seed->host, sizeof seed->host, &seed->port, err) != AK_OK) {
                ak_error_prefix(err, "seeds");
                return AK_ERR_INVALID_ARG;
            }
            if (!seed->tls_name[0] && client->config.tls_name)
                snprintf(seed->tls_name, sizeof seed->tls_name, "%s", client->config.tls_name);
            client->n_seeds++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (!client->n_seeds)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "seeds: no host:port given");
    return AK_OK;
}

/* Copies the configuration's strings into one allocation. */
static ak_status_t ak_client_copy_config(ak_client_t *client, const ak_client_config_t *config, ak_error_t *err)
{
    const char **fields[] = {&client->config.seeds,       &client->config.cluster_name, &client->config.user,
                             &client->config.password,    &client->config.tls_name,     &client->config.tls_ca_file,
                             &client->config.tls_cert_file, &client->config.tls_key_file};
    client->config = *config;
    size_t total = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (*fields[i])
            total += strlen(*fields[i]) + 1;
    client->strings = malloc(total ? total : 1);
    if (!client->strings)
        return ak_error_set(err, AK_ERR_NOMEM, "no memory for the client configuration");
    char *p = client->strings;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!*fields[i])
            continue;
        size_t len = strlen(*fields[i]) + 1;
        memcpy(p, *fields[i], len);
        *fields[i] = p;
        p += len;
    }
    ak_client_config_t defaults;
    ak_client_config_init(&defaults);
    if (!client->config.tend_interval_ms)
        client->config.tend_interval_ms = defaults.tend_interval_ms;
    if (!client->config.conn_timeout_ms)
        client->config.conn_timeout_ms = defaults.conn_timeout_ms;
    if (!client->config.login_timeout_ms)
        client->config.login_timeout_ms = defaults.login_timeout_ms;
    if (client->config.max_conns_per_node <= 0)
        client->config.max_conns_per_node = defaults.max_conns_per_node;
    if (client->config.max_in_flight_per_node <= 0)
        client->config.max_in_flight_per_node = defaults.max_in_flight_per_node;
    if (!client->config.max_queued)
        client->config.max_queued = defaults.max_queued;
    return AK_OK;
}

ak_client_t *ak_client_new(ak_loop_t *loop, const ak_client_config_t *config, ak_error_t *err)
{
    if (!config->seeds || !*config->seeds) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "seeds: at least one host:port is needed");
        return NULL;
    }
    if (config->user && !config->password) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "user '%s' given without a password", config->user);
        return NULL;
    }
    ak_client_t *client = calloc(1, sizeof *client);
    if (!client) {
        ak_error_set(err, AK_ERR_NOMEM, "no memory for a client");
        return NULL;
    }
    client->loop = loop;
    client->rng = 0x9E3779B97F4A7C15ULL ^ ak_clock_us();
    ak_arena_init(&client->reply_arena, 65536);
    if (ak_client_copy_config(client, config, err) != AK_OK)
        goto fail;
    if (ak_client_parse_seeds(client, client->config.seeds, err) != AK_OK)
        goto fail;
    if (client->config.user) {
        if (ak_admin_hash_password(client->config.password, client->credential, err) != AK_OK)
            goto fail;
    }
    if (client->config.tls_enable) {
        /* Build one context now so a bad file is reported here, not on the
         * first connection. */
        ak_tls_client_options_t opts = {0};
        opts.ca_file = client->config.tls_ca_file;
        opts.cert_file = client->config.tls_cert_file;
        opts.key_file = client->config.tls_key_file;
        opts.protocols = client->config.tls_protocols;
        opts.n_protocols = client->config.n_tls_protocols;
        opts.ciphers = client->config.tls_ciphers;
        opts.n_ciphers = client->config.n_tls_ciphers;
        client->tls_ctx = ak_tls_client_ctx_new(&opts, err);
        if (!client->tls_ctx) {
            ak_error_prefix(err, "tls");
            goto fail;
        }
    }
    if (ak_client_cluster_start(client, err) != AK_OK)
        goto fail;
    return client;
fail:
    ak_client_free(client);
    return NULL;
}

void ak_client_free(ak_client_t *client)
{
    if (!client)
        return;
    client->closing = true;
    if (client->heap_timer)
        ak_loop_timer_cancel(client->loop, client->heap_timer);
    client->heap_timer = 0;
    /* Closing connections completes what was on them (closing: no retries). */
    ak_client_cluster_stop(client);
    while (client->wait_map_head)
        ak_client_cmd_finish(client->wait_map_head, AK_CLIENT_ERR_CLIENT, "client closed", NULL, NULL, 0);
    while (client->heap_len) {
        ak_client_cmd_t *cmd = client->heap[0];
        if (cmd->state == AK_CMD_FAILING)
            ak_client_cmd_finish(cmd, cmd->last_code, cmd->last_message, NULL, NULL, 0);
        else
            ak_client_cmd_finish(cmd, AK_CLIENT_ERR_CLIENT, "client closed", NULL, NULL, 0);
    }
    free(client->heap);
    ak_client_cmd_pool_drain(client);
    ak_tls_ctx_free(client->tls_ctx);
    free(client->session_token);
    explicit_bzero(client->credential, sizeof client->credential);
    ak_arena_destroy(&client->reply_arena);
    free(client->strings);
    free(client);
}

bool ak_client_is_ready(const ak_client_t *client)
{
    return client->ready;
}

const char *ak_client_last_error(const ak_client_t *client)
{
    return client->last_error;
}

void ak_client_stats(const ak_client_t *client, ak_client_stats_t *stats)
{
    *stats = client->stats;
    stats->in_flight = client->in_flight;
    stats->queued = client->queued;
    stats->n_nodes = 0;
    for (int i = 0; i < client->n_nodes; i++) {
        const ak_client_node_t *node = client->nodes[i];
        if (stats->n_nodes == (int)(sizeof stats->nodes / sizeof stats->nodes[0]))
            break;
        ak_client_node_stats_t *ns = &stats->nodes[stats->n_nodes++];
        snprintf(ns->name, sizeof ns->name, "%s", node->name);
        snprintf(ns->address, sizeof ns->address, "%s:%u", node->host, node->port);
        ns->active = node->active;
        ns->connections = node->n_conns;
        ns->in_flight = node->in_flight;
        ns->queued = node->queued;
        ns->commands = node->commands;
        ns->errors = node->errors;
    }
}
