#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/random.h>

#include "client/ak_client_admin.h"
#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "dev/aerospike/ak_aerospike_dev.h"
#include "dev/aerospike/ak_asd_exec.h"
#include "dev/aerospike/ak_asd_store.h"
#include "dev/aerospike/ak_asd_xdr.h"
#include "net/ak_sock.h"
#include "wire/ak_compress.h"
#include "wire/ak_digest.h"
#include "wire/ak_info.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"
#include "wire/ak_result.h"

/* Advertised server version: >= 6.0 turns on the clients' batch-any and
 * partition queries, >= 8.1 makes them send user-agent-set. */
#define AK_ASD_BUILD "8.1.2.0"
#define AK_ASD_BITMAP_BYTES (AK_PARTITION_COUNT / 8)
#define AK_ASD_READ_CHUNK 65536
#define AK_ASD_NSUP_PERIOD_MS 1000

typedef struct ak_asd_node ak_asd_node_t;
typedef struct ak_asd_conn ak_asd_conn_t;

/* Replies held back by the latency fault, released in order. */
typedef struct ak_asd_delayed {
    struct ak_asd_delayed *next;
    uint64_t due_ms;
    size_t len;
    uint8_t data[];
} ak_asd_delayed_t;

struct ak_asd_conn {
    ak_asd_conn_t *prev, *next;
    ak_asd_node_t *node;
    ak_io_t io;
    ak_buf_t in;
    ak_buf_t out;
    size_t out_sent;
    ak_asd_delayed_t *delayed_head, *delayed_tail;
    uint64_t delay_timer;
    bool closing;
    uint64_t auth_epoch;   /* == cluster's when this connection logged in */
    bool authenticated;
};

struct ak_asd_node {
    ak_asd_cluster_t *cluster;
    int index;
    uint16_t port;
    char name[32];
    bool running;
    int listen_fd;
    ak_io_t listen_io;
    ak_asd_conn_t *conns;
    ak_asd_fault_t fault;
    uint64_t fault_rng;
    ak_asd_node_stats_t stats;
};

#define AK_ASD_TOKEN_SIZE 16
#define AK_ASD_MAX_SESSIONS 4096

typedef struct ak_asd_user {
    char name[64];
    char credential[AK_ADMIN_CREDENTIAL_SIZE + 1];
} ak_asd_user_t;

typedef struct ak_asd_session {
    uint8_t token[AK_ASD_TOKEN_SIZE];
    size_t user;
    uint64_t expires_ms;
} ak_asd_session_t;

struct ak_asd_cluster {
    ak_loop_t *loop;
    ak_asd_user_t *users;
    size_t n_users;
    uint32_t session_ttl;
    ak_asd_session_t *sessions; /* ring of the newest AK_ASD_MAX_SESSIONS */
    size_t n_sessions, next_session;
    uint64_t auth_epoch;
    char host[256];
    char cluster_name[64];
    ak_asd_node_t nodes[AK_ASD_MAX_NODES];
    int n_nodes;
    uint32_t partition_generation;
    uint32_t peers_generation;
    ak_asd_store_t store;
    ak_asd_exec_t exec;
    ak_asd_xdr_t *xdr;
    uint64_t nsup_timer;
    ak_arena_t arena;
    ak_buf_t scratch;
    char seeds[AK_ASD_MAX_NODES * 280];
    ak_asd_stats_t stats;
};

/* --- partition ownership --- */

static int ak_asd_live_nodes(const ak_asd_cluster_t *cluster, int live[AK_ASD_MAX_NODES])
{
    int n = 0;
    for (int i = 0; i < cluster->n_nodes; i++)
        if (cluster->nodes[i].running)
            live[n++] = i;
    return n;
}

static int ak_asd_replication(int n_live)
{
    return n_live >= 2 ? 2 : 1;
}

/* Replica r of partition p belongs to live node (p + r) mod n_live. */
static void ak_asd_append_bitmap(ak_buf_t *out, const ak_asd_cluster_t *cluster, int node, int replica)
{
    int live[AK_ASD_MAX_NODES];
    int n_live = ak_asd_live_nodes(cluster, live);
    uint8_t bitmap[AK_ASD_BITMAP_BYTES] = {0};
    for (int pid = 0; pid < AK_PARTITION_COUNT && n_live; pid++)
        if (live[(pid + replica) % n_live] == node)
            bitmap[pid >> 3] |= (uint8_t)(0x80 >> (pid & 7));
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < AK_ASD_BITMAP_BYTES; i += 3) {
        uint32_t v = (uint32_t)bitmap[i] << 16;
        size_t n = AK_ASD_BITMAP_BYTES - i;
        if (n > 1)
            v |= (uint32_t)bitmap[i + 1] << 8;
        if (n > 2)
            v |= bitmap[i + 2];
        char quad[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63], n > 1 ? b64[(v >> 6) & 63] : '=',
                        n > 2 ? b64[v & 63] : '='};
        ak_buf_append(out, quad, 4);
    }
}

static void ak_asd_membership_changed(ak_asd_cluster_t *cluster)
{
    cluster->partition_generation++;
    cluster->peers_generation++;
}

/* --- info --- */

static void ak_asd_info_value(ak_asd_node_t *node, const char *cmd, size_t cmd_len, ak_buf_t *out);

static bool ak_info_is(const char *cmd, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len == n && memcmp(cmd, name, n) == 0;
}

static bool ak_info_has_prefix(const char *cmd, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(cmd, prefix, n) == 0;
}

static void ak_asd_append_u64(ak_buf_t *out, uint64_t v)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%llu", (unsigned long long)v);
    ak_buf_append(out, text, (size_t)n);
}

static void ak_asd_peers(ak_asd_node_t *node, ak_buf_t *out)
{
    ak_asd_cluster_t *cluster = node->cluster;
    ak_asd_append_u64(out, cluster->peers_generation);
    ak_buf_append_str(out, ",,[");
    bool first = true;
    for (int i = 0; i < cluster->n_nodes; i++) {
        ak_asd_node_t *peer = &cluster->nodes[i];
        if (peer == node || !peer->running)
            continue; /* clients must not see a node list itself */
        if (!first)
            ak_buf_append_byte(out, ',');
        first = false;
        char text[400];
        int n = snprintf(text, sizeof text, "[%s,,[%s:%u]]", peer->name, cluster->host, peer->port);
        ak_buf_append(out, text, (size_t)n);
    }
    ak_buf_append_byte(out, ']');
}

static void ak_asd_replicas(ak_asd_node_t *node, ak_buf_t *out, bool with_regime, int max_replicas)
{
    ak_asd_cluster_t *cluster = node->cluster;
    int live[AK_ASD_MAX_NODES];
    int replication = ak_asd_replication(ak_asd_live_nodes(cluster, live));
    if (max_replicas > 0 && replication > max_replicas)
        replication = max_replicas;
    for (size_t i = 0; i < cluster->store.n_namespaces; i++) {
        if (i)
            ak_buf_append_byte(out, ';');
        ak_buf_append_str(out, cluster->store.namespaces[i].name);
        ak_buf_append_str(out, with_regime ? ":0," : ":");
        ak_asd_append_u64(out, (uint64_t)replication);
        for (int r = 0; r < replication; r++) {
            ak_buf_append_byte(out, ',');
            ak_asd_append_bitmap(out, cluster, node->index, r);
        }
    }
}

static bool ak_asd_param(const char *params, size_t len, const char *key, char *value, size_t cap)
{
    size_t key_len = strlen(key);
    size_t pos = 0;
    while (pos < len) {
        const char *item = params + pos;
        const char *end = memchr(item, ';', len - pos);
        size_t item_len = end ? (size_t)(end - item) : len - pos;
        if (item_len > key_len && memcmp(item, key, key_len) == 0 && item[key_len] == '=') {
            size_t n = item_len - key_len - 1;
            if (n >= cap)
                n = cap - 1;
            memcpy(value, item + key_len + 1, n);
            value[n] = '\0';
            return true;
        }
        pos += item_len + 1;
    }
    return false;
}

/* dev-* commands: the fault switches, reachable by any client or asinfo.
 *   dev-fault:code=14;ratio=0.5[;node=N|all]   answer data commands with a code
 *   dev-fault:clear[;node=N|all]
 *   dev-latency:ms=50[;node=N|all]
 *   dev-refuse:on|off[;node=N|all]              close / reopen the listener
 *   dev-node-stop:node=N   dev-node-start:node=N
 *   dev-stats */
static void ak_asd_dev_command(ak_asd_node_t *node, const char *cmd, size_t len, ak_buf_t *out)
{
    ak_asd_cluster_t *cluster = node->cluster;
    const char *colon = memchr(cmd, ':', len);
    size_t name_len = colon ? (size_t)(colon - cmd) : len;
    const char *params = colon ? colon + 1 : "";
    size_t params_len = colon ? len - name_len - 1 : 0;
    char value[64];
    int target = node->index;
    if (ak_asd_param(params, params_len, "node", value, sizeof value))
        target = strcmp(value, "all") == 0 ? -1 : atoi(value);
    if (target >= cluster->n_nodes || target < -1) {
        ak_buf_append_str(out, "ERROR:4:no such node");
        return;
    }
    ak_asd_fault_t fault = target >= 0 ? cluster->nodes[target].fault : node->fault;
    if (ak_info_is(cmd, name_len, "dev-fault")) {
        if (ak_info_has_prefix(params, params_len, "clear")) {
            fault.fail_code = 0;
            fault.fail_ratio = 0;
        } else {
            if (!ak_asd_param(params, params_len, "code", value, sizeof value)) {
                ak_buf_append_str(out, "ERROR:4:dev-fault needs code=N;ratio=R or clear");
                return;
            }
            fault.fail_code = atoi(value);
            fault.fail_ratio = ak_asd_param(params, params_len, "ratio", value, sizeof value) ? atof(value) : 1.0;
        }
    } else if (ak_info_is(cmd, name_len, "dev-latency")) {
        fault.latency_ms = ak_asd_param(params, params_len, "ms", value, sizeof value) ? (uint32_t)atoi(value) : 0;
    } else if (ak_info_is(cmd, name_len, "dev-refuse")) {
        fault.refuse_connections = ak_info_has_prefix(params, params_len, "on");
    } else if (ak_info_is(cmd, name_len, "dev-node-stop") || ak_info_is(cmd, name_len, "dev-node-start")) {
        if (target < 0) {
            ak_buf_append_str(out, "ERROR:4:give node=N");
            return;
        }
        if (cmd[9] == 's' && cmd[10] == 't' && cmd[11] == 'o') {
            ak_asd_cluster_stop_node(cluster, target);
        } else {
            ak_error_t err;
            if (ak_asd_cluster_start_node(cluster, target, &err) != AK_OK) {
                ak_buf_append_str(out, "ERROR:1:");
                ak_buf_append_str(out, err.message);
                return;
            }
        }
        ak_buf_append_str(out, "ok");
        return;
    } else if (ak_info_is(cmd, name_len, "dev-stats")) {
        ak_asd_stats_t stats;
        ak_asd_cluster_stats(cluster, &stats);
        char text[512];
        int n = snprintf(text, sizeof text,
                         "records=%llu;commands=%llu;faults=%llu;xdr-queued=%llu;xdr-shipped=%llu;"
                         "xdr-acknowledged=%llu;xdr-retried=%llu;xdr-abandoned=%llu;xdr-timeouts=%llu;"
                         "xdr-in-flight=%llu;xdr-dropped=%llu",
                         (unsigned long long)stats.records, (unsigned long long)stats.commands,
                         (unsigned long long)stats.faults_injected, (unsigned long long)stats.xdr_queued,
                         (unsigned long long)stats.xdr.shipped, (unsigned long long)stats.xdr.acknowledged,
                         (unsigned long long)stats.xdr.retried, (unsigned long long)stats.xdr.abandoned,
                         (unsigned long long)stats.xdr.timeouts, (unsigned long long)stats.xdr.in_flight,
                         (unsigned long long)stats.xdr_dropped);
        ak_buf_append(out, text, (size_t)n);
        return;
    } else {
        ak_buf_append_str(out, "ERROR:4:unrecognized command");
        return;
    }
    ak_asd_cluster_set_fault(cluster, target, &fault);
    ak_buf_append_str(out, "ok");
}

static void ak_asd_info_value(ak_asd_node_t *node, const char *cmd, size_t len, ak_buf_t *out)
{
    ak_asd_cluster_t *cluster = node->cluster;
    const char *colon = memchr(cmd, ':', len);
    size_t name_len = colon ? (size_t)(colon - cmd) : len;
    char text[512];
    int n;

    if (ak_info_is(cmd, name_len, "node")) {
        ak_buf_append_str(out, node->name);
    } else if (ak_info_is(cmd, name_len, "build") || ak_info_is(cmd, name_len, "version")) {
        ak_buf_append_str(out, ak_info_is(cmd, name_len, "build") ? AK_ASD_BUILD
                                                                   : "Aerospike Community Edition build " AK_ASD_BUILD);
    } else if (ak_info_is(cmd, name_len, "edition")) {
        ak_buf_append_str(out, "Aerospike Community Edition");
    } else if (ak_info_is(cmd, name_len, "cluster-name")) {
        ak_buf_append_str(out, cluster->cluster_name);
    } else if (ak_info_is(cmd, name_len, "features")) {
        ak_buf_append_str(out, "batch-any;batch-index;blob-bits;cdt-list;cdt-map;cluster-stable;float;"
                               "geo;peers;pipelining;pquery;pscans;replicas;replicas-all;replicas-master;"
                               "replicas-max;truncate-namespace;udf");
    } else if (ak_info_is(cmd, name_len, "namespaces")) {
        for (size_t i = 0; i < cluster->store.n_namespaces; i++) {
            if (i)
                ak_buf_append_byte(out, ';');
            ak_buf_append_str(out, cluster->store.namespaces[i].name);
        }
    } else if (ak_info_is(cmd, name_len, "partition-generation")) {
        ak_asd_append_u64(out, cluster->partition_generation);
    } else if (ak_info_is(cmd, name_len, "peers-generation")) {
        ak_asd_append_u64(out, cluster->peers_generation);
    } else if (ak_info_is(cmd, name_len, "rebalance-generation")) {
        ak_asd_append_u64(out, cluster->partition_generation);
    } else if (ak_info_is(cmd, name_len, "partitions")) {
        ak_asd_append_u64(out, AK_PARTITION_COUNT);
    } else if (ak_info_is(cmd, name_len, "replicas")) {
        int max = 0;
        char value[16];
        if (colon && ak_asd_param(colon + 1, len - name_len - 1, "max", value, sizeof value))
            max = atoi(value);
        ak_asd_replicas(node, out, true, max);
    } else if (ak_info_is(cmd, name_len, "replicas-all")) {
        ak_asd_replicas(node, out, false, 0);
    } else if (ak_info_is(cmd, name_len, "replicas-master")) {
        for (size_t i = 0; i < cluster->store.n_namespaces; i++) {
            if (i)
                ak_buf_append_byte(out, ';');
            ak_buf_append_str(out, cluster->store.namespaces[i].name);
            ak_buf_append_byte(out, ':');
            ak_asd_append_bitmap(out, cluster, node->index, 0);
        }
    } else if (ak_info_is(cmd, name_len, "peers-clear-std") || ak_info_is(cmd, name_len, "peers-clear-alt")) {
        ak_asd_peers(node, out);
    } else if (ak_info_is(cmd, name_len, "peers-tls-std") || ak_info_is(cmd, name_len, "peers-tls-alt")) {
        ak_asd_append_u64(out, cluster->peers_generation);
        ak_buf_append_str(out, ",,[]");
    } else if (ak_info_is(cmd, name_len, "service-clear-std") || ak_info_is(cmd, name_len, "service-clear-alt") ||
               ak_info_is(cmd, name_len, "service")) {
        n = snprintf(text, sizeof text, "%s:%u", cluster->host, node->port);
        ak_buf_append(out, text, (size_t)n);
    } else if (ak_info_is(cmd, name_len, "service-tls-std") || ak_info_is(cmd, name_len, "service-tls-alt")) {
        /* no TLS service */
    } else if (ak_info_is(cmd, name_len, "status")) {
        ak_buf_append_str(out, "ok");
    } else if (ak_info_is(cmd, name_len, "user-agent-set") || ak_info_is(cmd, name_len, "cluster-stable")) {
        if (ak_info_is(cmd, name_len, "cluster-stable")) {
            n = snprintf(text, sizeof text, "%08X", cluster->partition_generation);
            ak_buf_append(out, text, (size_t)n);
        } else {
            ak_buf_append_str(out, "ok");
        }
    } else if (ak_info_is(cmd, name_len, "statistics")) {
        uint64_t records = 0;
        for (size_t i = 0; i < cluster->store.n_namespaces; i++)
            records += cluster->store.namespaces[i].n_records;
        n = snprintf(text, sizeof text, "cluster_size=%d;objects=%llu;client_connections=%llu",
                     ak_asd_live_nodes(cluster, (int[AK_ASD_MAX_NODES]){0}), (unsigned long long)records,
                     (unsigned long long)cluster->stats.connections);
        ak_buf_append(out, text, (size_t)n);
    } else if (ak_info_has_prefix(cmd, name_len, "namespace/") || ak_info_is(cmd, name_len, "namespace")) {
        const char *ns_name = colon ? colon + 1 : cmd + 10;
        size_t ns_len = colon ? len - name_len - 1 : name_len - 10;
        if (colon && ak_info_has_prefix(ns_name, ns_len, "id="))
            ns_name += 3, ns_len -= 3;
        ak_asd_namespace_t *ns = ak_asd_store_namespace(&cluster->store, ns_name, ns_len);
        if (!ns) {
            ak_buf_append_str(out, "ERROR:20:namespace not found");
            return;
        }
        n = snprintf(text, sizeof text, "objects=%zu;replication-factor=%d;default-ttl=%u;nsup-period=1",
                     ns->n_records, ak_asd_replication(ak_asd_live_nodes(cluster, (int[AK_ASD_MAX_NODES]){0})),
                     ns->default_ttl);
        ak_buf_append(out, text, (size_t)n);
    } else if (ak_info_has_prefix(cmd, name_len, "dev-")) {
        ak_asd_dev_command(node, cmd, len, out);
    } else {
        ak_buf_append_str(out, "ERROR:4:unrecognized command");
    }
}

/* Answers every request line, echoing each line exactly (clients match
 * values to requests by name and position). */
static void ak_asd_handle_info(ak_asd_node_t *node, const uint8_t *body, size_t len, ak_buf_t *out)
{
    node->cluster->stats.info_requests++;
    size_t start = out->len;
    ak_buf_append_zeros(out, AK_PROTO_HEADER_SIZE);
    ak_info_iter_t iter;
    ak_info_pair_t line;
    ak_info_iter_init(&iter, (const char *)body, len);
    while (ak_info_iter_next(&iter, &line)) {
        ak_buf_append(out, line.name, line.name_len);
        ak_buf_append_byte(out, '\t');
        ak_asd_info_value(node, line.name, line.name_len, out);
        ak_buf_append_byte(out, '\n');
    }
    if (!ak_buf_failed(out))
        ak_proto_header_write(out->data + start, AK_PROTO_TYPE_INFO, out->len - start - AK_PROTO_HEADER_SIZE);
}

/* Every line answered ERROR:80 (what a secured server says to info
 * before a login). */
static void ak_asd_info_not_authenticated(const uint8_t *body, size_t len, ak_buf_t *out)
{
    size_t start = out->len;
    ak_buf_append_zeros(out, AK_PROTO_HEADER_SIZE);
    ak_info_iter_t iter;
    ak_info_pair_t line;
    ak_info_iter_init(&iter, (const char *)body, len);
    while (ak_info_iter_next(&iter, &line)) {
        ak_buf_append(out, line.name, line.name_len);
        ak_buf_append_str(out, "\tERROR:80:not authenticated\n");
    }
    if (!ak_buf_failed(out))
        ak_proto_header_write(out->data + start, AK_PROTO_TYPE_INFO, out->len - start - AK_PROTO_HEADER_SIZE);
}

/* --- data commands --- */

static uint64_t ak_asd_rng(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static void ak_asd_handle_message(ak_asd_node_t *node, const uint8_t *body, size_t len, ak_buf_t *out)
{
    ak_asd_cluster_t *cluster = node->cluster;
    cluster->stats.commands++;
    node->stats.commands++;
    if (node->fault.fail_code && node->fault.fail_ratio > 0) {
        double draw = (double)(ak_asd_rng(&node->fault_rng) >> 11) / (double)(1ULL << 53);
        if (draw < node->fault.fail_ratio) {
            cluster->stats.faults_injected++;
            ak_asd_reply_code(out, node->fault.fail_code);
            return;
        }
    }
    ak_arena_reset(&cluster->arena);
    ak_msg_t msg;
    if (ak_msg_parse(body, len, AK_PROTO_HEADER_SIZE, &cluster->arena, &msg, NULL) != AK_OK) {
        ak_asd_reply_code(out, AK_RESULT_PARAMETER);
        return;
    }
    const ak_msg_field_t *digest = ak_msg_find_field(&msg, AK_FIELD_DIGEST);
    if (digest && digest->len == AK_DIGEST_SIZE) {
        int live[AK_ASD_MAX_NODES];
        int n_live = ak_asd_live_nodes(cluster, live);
        if (n_live && live[ak_partition_id(digest->data) % (uint32_t)n_live] != node->index)
            node->stats.not_master++;
    }
    ak_asd_exec_message(&cluster->exec, &msg, &cluster->arena, out);
}

static bool ak_asd_conn_authenticated(const ak_asd_conn_t *conn)
{
    const ak_asd_cluster_t *cluster = conn->node->cluster;
    return !cluster->n_users || (conn->authenticated && conn->auth_epoch == cluster->auth_epoch);
}

static ssize_t ak_asd_find_user(const ak_asd_cluster_t *cluster, const char *name, size_t len)
{
    for (size_t i = 0; i < cluster->n_users; i++)
        if (strlen(cluster->users[i].name) == len && memcmp(cluster->users[i].name, name, len) == 0)
            return (ssize_t)i;
    return -1;
}

/* Security messages. Without users the node has no security, which clients
 * accept (result 52, SECURITY_NOT_ENABLED, counts as a successful login).
 * With users: LOGIN checks the bcrypt credential and hands out a session
 * token; AUTHENTICATE accepts a live token. */
static void ak_asd_handle_admin(ak_asd_conn_t *conn, const uint8_t *body, size_t len, ak_buf_t *out)
{
    ak_asd_cluster_t *cluster = conn->node->cluster;
    if (!cluster->n_users) {
        ak_admin_reply_build(out, AK_ADMIN_RESULT_SECURITY_NOT_ENABLED, NULL, 0, 0);
        return;
    }
    ak_admin_msg_t msg;
    if (ak_admin_parse(body, len, AK_PROTO_HEADER_SIZE, &msg, NULL) != AK_OK) {
        ak_admin_reply_build(out, 54 /* bad field */, NULL, 0, 0);
        return;
    }
    ssize_t user = msg.user ? ak_asd_find_user(cluster, msg.user, msg.user_len) : -1;
    uint64_t now = ak_clock_ms();
    if (msg.command == AK_ADMIN_LOGIN) {
        if (user < 0) {
            ak_admin_reply_build(out, AK_ADMIN_RESULT_INVALID_USER, NULL, 0, 0);
            return;
        }
        if (!msg.credential || msg.credential_len != AK_ADMIN_CREDENTIAL_SIZE ||
            memcmp(msg.credential, cluster->users[user].credential, AK_ADMIN_CREDENTIAL_SIZE) != 0) {
            ak_admin_reply_build(out, AK_ADMIN_RESULT_INVALID_CREDENTIAL, NULL, 0, 0);
            return;
        }
        ak_asd_session_t *session = &cluster->sessions[cluster->next_session];
        cluster->next_session = (cluster->next_session + 1) % AK_ASD_MAX_SESSIONS;
        if (cluster->n_sessions < AK_ASD_MAX_SESSIONS)
            cluster->n_sessions++;
        if (getrandom(session->token, sizeof session->token, 0) != (ssize_t)sizeof session->token) {
            for (size_t i = 0; i < sizeof session->token; i++)
                session->token[i] = (uint8_t)(now >> (i % 8)) ^ (uint8_t)i;
        }
        session->user = (size_t)user;
        session->expires_ms = now + (uint64_t)cluster->session_ttl * 1000u;
        conn->authenticated = true;
        conn->auth_epoch = cluster->auth_epoch;
        conn->node->stats.logins++;
        ak_admin_reply_build(out, AK_RESULT_OK, session->token, sizeof session->token, cluster->session_ttl);
        return;
    }
    if (msg.command == AK_ADMIN_AUTHENTICATE) {
        for (size_t i = 0; i < cluster->n_sessions && user >= 0; i++) {
            ak_asd_session_t *session = &cluster->sessions[i];
            if (session->user == (size_t)user && session->expires_ms > now &&
                msg.session_token_len == sizeof session->token &&
                memcmp(msg.session_token, session->token, sizeof session->token) == 0) {
                conn->authenticated = true;
                conn->auth_epoch = cluster->auth_epoch;
                conn->node->stats.logins++;
                ak_admin_reply_build(out, AK_RESULT_OK, NULL, 0, 0);
                return;
            }
        }
        ak_admin_reply_build(out, AK_ADMIN_RESULT_EXPIRED_SESSION, NULL, 0, 0);
        return;
    }
    /* user administration is not emulated */
    ak_admin_reply_build(out, ak_asd_conn_authenticated(conn) ? 53 /* bad command */
                                                             : AK_ADMIN_RESULT_NOT_AUTHENTICATED,
                         NULL, 0, 0);
}

void ak_asd_cluster_revoke_sessions(ak_asd_cluster_t *cluster)
{
    cluster->n_sessions = 0;
    cluster->next_session = 0;
    cluster->auth_epoch++;
}

/* --- connections --- */

static void ak_asd_conn_free_deferred(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_asd_conn_t *conn = arg;
    ak_buf_free(&conn->in);
    ak_buf_free(&conn->out);
    ak_asd_delayed_t *d = conn->delayed_head;
    while (d) {
        ak_asd_delayed_t *next = d->next;
        free(d);
        d = next;
    }
    free(conn);
}

static void ak_asd_conn_close(ak_asd_conn_t *conn)
{
    if (conn->closing)
        return;
    conn->closing = true;
    ak_asd_node_t *node = conn->node;
    ak_loop_t *loop = node->cluster->loop;
    ak_loop_io_stop(loop, &conn->io);
    close(conn->io.fd);
    if (conn->delay_timer)
        ak_loop_timer_cancel(loop, conn->delay_timer);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        node->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    ak_loop_defer(loop, ak_asd_conn_free_deferred, conn);
}

static void ak_asd_conn_flush(ak_asd_conn_t *conn)
{
    while (conn->out_sent < conn->out.len) {
        ssize_t n = write(conn->io.fd, conn->out.data + conn->out_sent, conn->out.len - conn->out_sent);
        if (n > 0) {
            conn->out_sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ak_loop_io_set(conn->node->cluster->loop, &conn->io, AK_IO_READ | AK_IO_WRITE);
            return;
        }
        ak_asd_conn_close(conn);
        return;
    }
    ak_buf_clear(&conn->out);
    conn->out_sent = 0;
    ak_loop_io_set(conn->node->cluster->loop, &conn->io, AK_IO_READ);
}

static void ak_asd_release_delayed(ak_loop_t *loop, void *arg)
{
    ak_asd_conn_t *conn = arg;
    conn->delay_timer = 0;
    uint64_t now = ak_clock_ms();
    while (conn->delayed_head && conn->delayed_head->due_ms <= now) {
        ak_asd_delayed_t *d = conn->delayed_head;
        conn->delayed_head = d->next;
        if (!conn->delayed_head)
            conn->delayed_tail = NULL;
        ak_buf_append(&conn->out, d->data, d->len);
        free(d);
    }
    if (conn->delayed_head)
        conn->delay_timer = ak_loop_timer(loop, conn->delayed_head->due_ms - now, ak_asd_release_delayed, conn);
    ak_asd_conn_flush(conn);
}

/* Queues reply bytes: now, or after the latency fault's delay (keeping
 * replies in request order). */
static void ak_asd_conn_reply(ak_asd_conn_t *conn, const uint8_t *data, size_t len, bool delay)
{
    uint32_t latency = conn->node->fault.latency_ms;
    if ((!delay || latency == 0) && !conn->delayed_head) {
        ak_buf_append(&conn->out, data, len);
        return;
    }
    ak_asd_delayed_t *d = malloc(sizeof *d + len);
    if (!d) {
        ak_asd_conn_close(conn);
        return;
    }
    d->next = NULL;
    d->due_ms = ak_clock_ms() + (delay ? latency : 0);
    d->len = len;
    memcpy(d->data, data, len);
    if (conn->delayed_tail)
        conn->delayed_tail->next = d;
    else
        conn->delayed_head = d;
    conn->delayed_tail = d;
    if (!conn->delay_timer)
        conn->delay_timer = ak_loop_timer(conn->node->cluster->loop, delay ? latency : 0,
                                          ak_asd_release_delayed, conn);
}

static void ak_asd_conn_process(ak_asd_conn_t *conn)
{
    ak_asd_cluster_t *cluster = conn->node->cluster;
    size_t pos = 0;
    while (!conn->closing) {
        ak_frame_t frame;
        size_t consumed;
        ak_frame_scan_t scan = ak_frame_next(conn->in.data + pos, conn->in.len - pos, pos, &frame,
                                             &consumed, NULL);
        if (scan == AK_FRAME_NEED_MORE)
            break;
        if (scan == AK_FRAME_ERROR) {
            ak_asd_conn_close(conn); /* as the server: drop the connection */
            return;
        }
        ak_buf_t *reply = &cluster->scratch;
        ak_buf_clear(reply);
        bool delay = false;
        if (frame.header.type != AK_PROTO_TYPE_ADMIN && !ak_asd_conn_authenticated(conn)) {
            /* security on, no login yet */
            if (frame.header.type == AK_PROTO_TYPE_INFO)
                ak_asd_info_not_authenticated(frame.body, (size_t)frame.header.size, reply);
            else
                ak_asd_reply_code(reply, AK_RESULT_NOT_AUTHENTICATED);
            ak_asd_conn_reply(conn, reply->data, reply->len, false);
            pos += consumed;
            continue;
        }
        switch (frame.header.type) {
        case AK_PROTO_TYPE_INFO:
            ak_asd_handle_info(conn->node, frame.body, (size_t)frame.header.size, reply);
            break;
        case AK_PROTO_TYPE_ADMIN:
            ak_asd_handle_admin(conn, frame.body, (size_t)frame.header.size, reply);
            break;
        case AK_PROTO_TYPE_MESSAGE:
            ak_asd_handle_message(conn->node, frame.body, (size_t)frame.header.size, reply);
            delay = true;
            break;
        case AK_PROTO_TYPE_COMPRESSED: {
            ak_buf_t inner;
            ak_buf_init(&inner);
            if (ak_compress_decode(frame.body, (size_t)frame.header.size, 0, &inner, NULL) == AK_OK)
                ak_asd_handle_message(conn->node, inner.data + AK_PROTO_HEADER_SIZE,
                                      inner.len - AK_PROTO_HEADER_SIZE, reply);
            else
                ak_asd_reply_code(reply, AK_RESULT_PARAMETER);
            ak_buf_free(&inner);
            delay = true;
            break;
        }
        }
        ak_asd_conn_reply(conn, reply->data, reply->len, delay);
        pos += consumed;
    }
    if (conn->closing)
        return;
    if (pos) {
        memmove(conn->in.data, conn->in.data + pos, conn->in.len - pos);
        conn->in.len -= pos;
    }
    ak_asd_conn_flush(conn);
}

static void ak_asd_conn_on_io(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    ak_asd_conn_t *conn = io->data;
    if (events & AK_IO_WRITE) {
        ak_asd_conn_flush(conn);
        if (conn->closing)
            return;
    }
    if (!(events & AK_IO_READ))
        return;
    for (;;) {
        if (!ak_buf_reserve(&conn->in, AK_ASD_READ_CHUNK)) {
            ak_asd_conn_close(conn);
            return;
        }
        ssize_t n = read(io->fd, conn->in.data + conn->in.len, conn->in.cap - conn->in.len);
        if (n > 0) {
            conn->in.len += (size_t)n;
            if ((size_t)n < AK_ASD_READ_CHUNK)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        ak_asd_conn_close(conn); /* EOF or error */
        return;
    }
    ak_asd_conn_process(conn);
}

static void ak_asd_node_on_accept(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)events;
    ak_asd_node_t *node = io->data;
    for (;;) {
        int fd = ak_sock_accept(io->fd);
        if (fd < 0)
            return;
        ak_asd_conn_t *conn = calloc(1, sizeof *conn);
        if (!conn) {
            close(fd);
            continue;
        }
        conn->node = node;
        ak_buf_init(&conn->in);
        ak_buf_init(&conn->out);
        ak_io_init(&conn->io, fd, ak_asd_conn_on_io, conn);
        if (ak_loop_io_start(loop, &conn->io, AK_IO_READ, NULL) != AK_OK) {
            close(fd);
            free(conn);
            continue;
        }
        conn->next = node->conns;
        if (node->conns)
            node->conns->prev = conn;
        node->conns = conn;
        node->cluster->stats.connections++;
        node->stats.connections++;
    }
}

static ak_status_t ak_asd_node_listen(ak_asd_node_t *node, ak_error_t *err)
{
    uint16_t bound = 0;
    int fd = ak_sock_listen(node->cluster->host, node->port, 512, &bound, err);
    if (fd < 0)
        return AK_ERR_IO;
    node->listen_fd = fd;
    node->port = bound;
    ak_io_init(&node->listen_io, fd, ak_asd_node_on_accept, node);
    return ak_loop_io_start(node->cluster->loop, &node->listen_io, AK_IO_READ, err);
}

static void ak_asd_node_unlisten(ak_asd_node_t *node)
{
    if (node->listen_fd < 0)
        return;
    ak_loop_io_stop(node->cluster->loop, &node->listen_io);
    close(node->listen_fd);
    node->listen_fd = -1;
}

/* --- expiry (nsup) --- */

static void ak_asd_on_expire(void *ctx, const ak_asd_namespace_t *ns, const ak_asd_record_t *rec)
{
    ak_asd_cluster_t *cluster = ctx;
    if (cluster->exec.on_change)
        cluster->exec.on_change(cluster->exec.change_ctx, ns, rec, AK_ASD_CHANGE_EXPIRE);
}

static void ak_asd_nsup(ak_loop_t *loop, void *arg)
{
    ak_asd_cluster_t *cluster = arg;
    uint32_t now = ak_asd_now_void_time();
    for (size_t i = 0; i < cluster->store.n_namespaces; i++)
        ak_asd_ns_expire(&cluster->store.namespaces[i], now);
    cluster->nsup_timer = ak_loop_timer(loop, AK_ASD_NSUP_PERIOD_MS, ak_asd_nsup, cluster);
}

/* Expiry is shipped only with ship-expiry on; other changes always. */
static void ak_asd_cluster_on_change(void *ctx, const ak_asd_namespace_t *ns,
                                     const ak_asd_record_t *rec, ak_asd_change_t change)
{
    ak_asd_cluster_t *cluster = ctx;
    if (cluster->xdr)
        ak_asd_xdr_on_change(cluster->xdr, ns, rec, change);
}

static void ak_asd_cluster_on_change_with_expiry_filter(void *ctx, const ak_asd_namespace_t *ns,
                                                        const ak_asd_record_t *rec,
                                                        ak_asd_change_t change)
{
    if (change == AK_ASD_CHANGE_EXPIRE)
        return;
    ak_asd_cluster_on_change(ctx, ns, rec, change);
}

/* --- cluster --- */

ak_asd_cluster_t *ak_asd_cluster_new(ak_loop_t *loop, const ak_asd_options_t *opts, ak_error_t *err)
{
    int nodes = opts->nodes > 0 ? opts->nodes : 1;
    if (nodes > AK_ASD_MAX_NODES) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "at most %d nodes (asked for %d)", AK_ASD_MAX_NODES, nodes);
        return NULL;
    }
    if (opts->port && (uint32_t)opts->port + (uint32_t)nodes - 1 > 65535) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "ports %u..%u do not fit", opts->port, opts->port + nodes - 1);
        return NULL;
    }
    ak_asd_cluster_t *cluster = calloc(1, sizeof *cluster);
    if (!cluster) {
        ak_error_set(err, AK_ERR_NOMEM, "no memory for aerospike-dev");
        return NULL;
    }
    cluster->loop = loop;
    snprintf(cluster->host, sizeof cluster->host, "%s", opts->host && *opts->host ? opts->host : "127.0.0.1");
    snprintf(cluster->cluster_name, sizeof cluster->cluster_name, "%s",
             opts->cluster_name && *opts->cluster_name ? opts->cluster_name : "aerospike-dev");
    cluster->partition_generation = 1;
    cluster->peers_generation = 1;
    cluster->session_ttl = opts->session_ttl ? opts->session_ttl : 86400;
    if (opts->n_users) {
        cluster->users = calloc(opts->n_users, sizeof *cluster->users);
        cluster->sessions = calloc(AK_ASD_MAX_SESSIONS, sizeof *cluster->sessions);
        if (!cluster->users || !cluster->sessions) {
            ak_error_set(err, AK_ERR_NOMEM, "no memory for users");
            goto fail;
        }
        for (size_t i = 0; i < opts->n_users; i++) {
            const char *colon = strchr(opts->users[i], ':');
            size_t name_len = colon ? (size_t)(colon - opts->users[i]) : 0;
            if (!colon || name_len == 0 || name_len >= sizeof cluster->users[i].name) {
                ak_error_set(err, AK_ERR_INVALID_ARG, "user '%s': expected NAME:PASSWORD (name 1..63 bytes)",
                             opts->users[i]);
                goto fail;
            }
            memcpy(cluster->users[i].name, opts->users[i], name_len);
            /* The server keeps the credential the clients send: the bcrypt
             * hash with the fixed salt. */
            if (ak_admin_hash_password(colon + 1, cluster->users[i].credential, err) != AK_OK)
                goto fail;
            cluster->n_users++;
        }
    }
    ak_arena_init(&cluster->arena, 65536);
    ak_buf_init(&cluster->scratch);
    for (int i = 0; i < AK_ASD_MAX_NODES; i++)
        cluster->nodes[i].listen_fd = -1;

    static const char *const default_namespaces[] = {"test"};
    const char *const *names = opts->n_namespaces ? opts->namespaces : default_namespaces;
    size_t n_names = opts->n_namespaces ? opts->n_namespaces : 1;
    for (size_t i = 0; i < n_names; i++) {
        size_t len = strlen(names[i]);
        if (len == 0 || len > AK_NAMESPACE_MAX) {
            ak_error_set(err, AK_ERR_INVALID_ARG, "namespace '%s' must be 1..%d characters", names[i],
                         AK_NAMESPACE_MAX);
            goto fail;
        }
    }
    if (!ak_asd_store_init(&cluster->store, names, n_names)) {
        ak_error_set(err, AK_ERR_NOMEM, "no memory for the store");
        goto fail;
    }
    for (size_t i = 0; i < cluster->store.n_namespaces; i++) {
        cluster->store.namespaces[i].default_ttl = opts->default_ttl;
        cluster->store.namespaces[i].on_expire = ak_asd_on_expire;
        cluster->store.namespaces[i].expire_ctx = cluster;
    }

    cluster->exec.store = &cluster->store;
    if (opts->n_xdr_destinations) {
        ak_xdr_ship_options_t ship = {0};
        ship.destinations = opts->xdr_destinations;
        ship.n_destinations = opts->n_xdr_destinations;
        ship.protocol = opts->xdr_protocol;
        ship.connections_per_destination = 1;
        ship.in_flight_per_connection = opts->xdr_in_flight > 0 ? opts->xdr_in_flight : 64;
        ship.timeout_ms = opts->xdr_timeout_ms ? opts->xdr_timeout_ms : 10000;
        ship.reconnect_delay_ms = 1000;
        ship.http_path = opts->xdr_http_path;
        cluster->xdr = ak_asd_xdr_new(loop, &cluster->store, &ship, 0, err);
        if (!cluster->xdr)
            goto fail;
        cluster->exec.on_change = opts->xdr_ship_expiry ? ak_asd_cluster_on_change
                                                        : ak_asd_cluster_on_change_with_expiry_filter;
        cluster->exec.change_ctx = cluster;
    }

    cluster->n_nodes = nodes;
    size_t seeds_len = 0;
    for (int i = 0; i < nodes; i++) {
        ak_asd_node_t *node = &cluster->nodes[i];
        node->cluster = cluster;
        node->index = i;
        node->port = opts->port ? (uint16_t)(opts->port + i) : 0;
        node->fault_rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(i + 1);
        if (ak_asd_node_listen(node, err) != AK_OK)
            goto fail;
        /* Node names: 15 upper-case hex digits like the server's, unique
         * and stable per node (derived from the port). */
        snprintf(node->name, sizeof node->name, "BB9%012X", (unsigned)node->port * 16u + (unsigned)i);
        node->running = true;
        seeds_len += (size_t)snprintf(cluster->seeds + seeds_len, sizeof cluster->seeds - seeds_len, "%s%s:%u",
                                      i ? "," : "", cluster->host, node->port);
    }
    cluster->nsup_timer = ak_loop_timer(loop, AK_ASD_NSUP_PERIOD_MS, ak_asd_nsup, cluster);
    return cluster;
fail:
    ak_asd_cluster_free(cluster);
    return NULL;
}

static void ak_asd_node_close_all(ak_asd_node_t *node)
{
    while (node->conns)
        ak_asd_conn_close(node->conns);
}

void ak_asd_cluster_free(ak_asd_cluster_t *cluster)
{
    if (!cluster)
        return;
    for (int i = 0; i < AK_ASD_MAX_NODES; i++) {
        ak_asd_node_t *node = &cluster->nodes[i];
        if (!node->cluster)
            continue;
        ak_asd_node_unlisten(node);
        ak_asd_node_close_all(node);
    }
    if (cluster->nsup_timer)
        ak_loop_timer_cancel(cluster->loop, cluster->nsup_timer);
    ak_asd_xdr_free(cluster->xdr);
    ak_asd_store_free(&cluster->store);
    ak_arena_destroy(&cluster->arena);
    ak_buf_free(&cluster->scratch);
    free(cluster->users);
    free(cluster->sessions);
    free(cluster);
}

int ak_asd_cluster_node_count(const ak_asd_cluster_t *cluster)
{
    return cluster->n_nodes;
}

uint16_t ak_asd_cluster_node_port(const ak_asd_cluster_t *cluster, int node)
{
    return node >= 0 && node < cluster->n_nodes ? cluster->nodes[node].port : 0;
}

const char *ak_asd_cluster_node_name(const ak_asd_cluster_t *cluster, int node)
{
    return node >= 0 && node < cluster->n_nodes ? cluster->nodes[node].name : "";
}

const char *ak_asd_cluster_seeds(const ak_asd_cluster_t *cluster)
{
    return cluster->seeds;
}

static void ak_asd_node_apply_fault(ak_asd_node_t *node, const ak_asd_fault_t *fault)
{
    bool was_refusing = node->fault.refuse_connections;
    node->fault = *fault;
    if (!node->running)
        return;
    if (fault->refuse_connections && !was_refusing)
        ak_asd_node_unlisten(node);
    else if (!fault->refuse_connections && was_refusing)
        ak_asd_node_listen(node, NULL);
}

void ak_asd_cluster_set_fault(ak_asd_cluster_t *cluster, int node, const ak_asd_fault_t *fault)
{
    for (int i = 0; i < cluster->n_nodes; i++)
        if (node < 0 || node == i)
            ak_asd_node_apply_fault(&cluster->nodes[i], fault);
}

void ak_asd_cluster_stop_node(ak_asd_cluster_t *cluster, int index)
{
    if (index < 0 || index >= cluster->n_nodes || !cluster->nodes[index].running)
        return;
    ak_asd_node_t *node = &cluster->nodes[index];
    node->running = false;
    ak_asd_node_unlisten(node);
    ak_asd_node_close_all(node);
    ak_asd_membership_changed(cluster);
}

ak_status_t ak_asd_cluster_start_node(ak_asd_cluster_t *cluster, int index, ak_error_t *err)
{
    if (index < 0 || index >= cluster->n_nodes)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "no node %d", index);
    ak_asd_node_t *node = &cluster->nodes[index];
    if (node->running)
        return AK_OK;
    if (!node->fault.refuse_connections) {
        ak_status_t st = ak_asd_node_listen(node, err);
        if (st != AK_OK)
            return st;
    }
    node->running = true;
    ak_asd_membership_changed(cluster);
    return AK_OK;
}

bool ak_asd_cluster_node_running(const ak_asd_cluster_t *cluster, int node)
{
    return node >= 0 && node < cluster->n_nodes && cluster->nodes[node].running;
}

void ak_asd_cluster_stats(const ak_asd_cluster_t *cluster, ak_asd_stats_t *stats)
{
    *stats = cluster->stats;
    stats->records = 0;
    for (size_t i = 0; i < cluster->store.n_namespaces; i++)
        stats->records += cluster->store.namespaces[i].n_records;
    if (cluster->xdr) {
        stats->xdr_queued = ak_asd_xdr_queued(cluster->xdr);
        stats->xdr_dropped = ak_asd_xdr_dropped(cluster->xdr);
        ak_asd_xdr_ship_stats(cluster->xdr, &stats->xdr);
    }
}

void ak_asd_cluster_node_stats(const ak_asd_cluster_t *cluster, int node, ak_asd_node_stats_t *stats)
{
    if (node < 0 || node >= cluster->n_nodes) {
        memset(stats, 0, sizeof *stats);
        return;
    }
    *stats = cluster->nodes[node].stats;
}
