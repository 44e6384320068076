/*
 * The client's view of the cluster: nodes found from the seeds and the
 * peers lists, tended every tend_interval_ms over one info connection per
 * node, and the partition map read from `replicas` whenever a node's
 * partition-generation changes.
 *
 * Tend of a node, one info exchange:
 *   node, partition-generation, peers-generation [, cluster-name]
 * then, when a generation moved, a second one:
 *   partition-generation, replicas [, peers-generation, peers-clear-std]
 */
#include <nettle/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/ak_client_internal.h"
#include "wire/ak_info.h"
#include "wire/ak_result.h"

#define AK_CLIENT_BITMAP_BYTES (AK_PARTITION_COUNT / 8)

static void ak_client_tend_node(ak_client_node_t *node);

/* --- nodes --- */

static ak_client_node_t *ak_client_node_new(ak_client_t *client, const char *host, uint16_t port,
                                            const char *tls_name, const char *expected_name)
{
    if (client->n_nodes == AK_CLIENT_MAX_NODES)
        return NULL;
    ak_client_node_t *node = calloc(1, sizeof *node);
    if (!node)
        return NULL;
    node->conns = calloc((size_t)client->config.max_conns_per_node, sizeof *node->conns);
    if (!node->conns) {
        free(node);
        return NULL;
    }
    node->client = client;
    snprintf(node->host, sizeof node->host, "%s", host);
    node->port = port;
    snprintf(node->tls_name, sizeof node->tls_name, "%s",
             tls_name && *tls_name ? tls_name : (client->config.tls_name ? client->config.tls_name : ""));
    snprintf(node->expected_name, sizeof node->expected_name, "%s", expected_name ? expected_name : "");
    client->nodes[client->n_nodes++] = node;
    return node;
}

static void ak_client_node_free_deferred(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_client_node_t *node = arg;
    free(node->conns);
    free(node);
}

static void ak_client_node_close_conns(ak_client_node_t *node, int code, const char *message)
{
    if (node->info_conn)
        ak_client_conn_close(node->info_conn, code, message);
    while (node->n_conns)
        ak_client_conn_close(node->conns[node->n_conns - 1], code, message);
}

/* Forgets a node: its connections close (their commands are retried
 * elsewhere), its partitions are unowned until another node claims them. */
static void ak_client_node_remove(ak_client_node_t *node, const char *why)
{
    ak_client_t *client = node->client;
    if (node->removed)
        return;
    node->removed = true;
    node->active = false;
    for (int i = 0; i < client->n_nodes; i++) {
        if (client->nodes[i] == node) {
            client->nodes[i] = client->nodes[--client->n_nodes];
            break;
        }
    }
    for (int n = 0; n < client->n_namespaces; n++) {
        ak_client_ns_t *ns = client->namespaces[n];
        for (int r = 0; r < AK_CLIENT_MAX_REPLICAS; r++)
            for (int p = 0; p < AK_PARTITION_COUNT; p++)
                if (ns->owners[r][p] == node)
                    ns->owners[r][p] = NULL;
    }
    char message[600];
    snprintf(message, sizeof message, "node %s (%s:%u) removed: %s", node->name[0] ? node->name : "?", node->host,
             node->port, why);
    ak_client_node_close_conns(node, AK_CLIENT_ERR_INVALID_NODE, message);
    ak_client_node_fail_queue(node, AK_CLIENT_ERR_INVALID_NODE, message);
    ak_loop_defer(client->loop, ak_client_node_free_deferred, node);
}

static ak_client_node_t *ak_client_find_node_by_name(ak_client_t *client, const char *name, size_t len)
{
    for (int i = 0; i < client->n_nodes; i++) {
        const char *n = client->nodes[i]->validated ? client->nodes[i]->name : client->nodes[i]->expected_name;
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return client->nodes[i];
    }
    return NULL;
}

static ak_client_node_t *ak_client_find_node_by_address(ak_client_t *client, const char *host, uint16_t port)
{
    for (int i = 0; i < client->n_nodes; i++)
        if (client->nodes[i]->port == port && strcmp(client->nodes[i]->host, host) == 0)
            return client->nodes[i];
    return NULL;
}

static void ak_client_tend_failed(ak_client_node_t *node, const char *why)
{
    ak_client_t *client = node->client;
    node->tend_busy = false;
    node->failures++;
    bool was_active = node->active;
    node->active = false;
    ak_client_set_last_error(client, "node %s (%s:%u): %s", node->name[0] ? node->name : "?", node->host,
                             node->port, why);
    if (!node->validated || node->failures >= AK_CLIENT_NODE_MAX_FAILURES) {
        ak_client_node_remove(node, why);
        return;
    }
    if (was_active)
        ak_client_node_fail_queue(node, AK_CLIENT_ERR_INVALID_NODE, client->last_error);
}

/* --- partition map --- */

static ak_client_ns_t *ak_client_namespace(ak_client_t *client, const char *name, size_t len, bool create)
{
    for (int i = 0; i < client->n_namespaces; i++)
        if (strlen(client->namespaces[i]->name) == len && memcmp(client->namespaces[i]->name, name, len) == 0)
            return client->namespaces[i];
    if (!create || len == 0 || len > AK_NAMESPACE_MAX || client->n_namespaces == AK_CLIENT_MAX_NAMESPACES)
        return NULL;
    ak_client_ns_t *ns = calloc(1, sizeof *ns);
    if (!ns)
        return NULL;
    memcpy(ns->name, name, len);
    client->namespaces[client->n_namespaces++] = ns;
    return ns;
}

static bool ak_client_decode_bitmap(const char *b64, size_t len, uint8_t bitmap[AK_CLIENT_BITMAP_BYTES])
{
    struct base64_decode_ctx ctx;
    size_t out_len = AK_CLIENT_BITMAP_BYTES;
    if (len != BASE64_ENCODE_RAW_LENGTH(AK_CLIENT_BITMAP_BYTES))
        return false;
    base64_decode_init(&ctx);
    if (!base64_decode_update(&ctx, &out_len, bitmap, len, b64) || !base64_decode_final(&ctx))
        return false;
    return out_len == AK_CLIENT_BITMAP_BYTES;
}

static long long ak_client_parse_int(const char *s, size_t len, bool *ok)
{
    char text[32];
    *ok = len > 0 && len < sizeof text;
    if (!*ok)
        return 0;
    memcpy(text, s, len);
    text[len] = '\0';
    char *end;
    long long v = strtoll(text, &end, 10);
    *ok = *end == '\0';
    return v;
}

/* `replicas`: ns:regime,count,bitmap,...;ns:... (also the older form
 * without regime). Returns false with why on a malformed value. */
static bool ak_client_apply_replicas(ak_client_node_t *node, const char *value, size_t len, char *why, size_t why_cap)
{
    ak_client_t *client = node->client;
    size_t pos = 0;
    while (pos < len) {
        const char *entry = value + pos;
        const char *semi = memchr(entry, ';', len - pos);
        size_t entry_len = semi ? (size_t)(semi - entry) : len - pos;
        pos += entry_len + 1;
        if (!entry_len)
            continue;
        const char *colon = memchr(entry, ':', entry_len);
        if (!colon) {
            snprintf(why, why_cap, "replicas entry '%.40s' has no ':'", entry);
            return false;
        }
        size_t name_len = (size_t)(colon - entry);
        const char *parts[2 + AK_CLIENT_MAX_REPLICAS + 8];
        size_t part_len[2 + AK_CLIENT_MAX_REPLICAS + 8];
        size_t n_parts = 0;
        const char *p = colon + 1, *end = entry + entry_len;
        while (p <= end && n_parts < sizeof parts / sizeof parts[0]) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma ? comma : end;
            parts[n_parts] = p;
            part_len[n_parts++] = (size_t)(stop - p);
            p = stop + 1;
            if (!comma)
                break;
        }
        bool ok1 = false, ok2 = false;
        long long first = n_parts > 0 ? ak_client_parse_int(parts[0], part_len[0], &ok1) : 0;
        long long second = n_parts > 1 ? ak_client_parse_int(parts[1], part_len[1], &ok2) : 0;
        long long regime = 0, count;
        size_t bitmaps_at;
        if (ok1 && ok2 && (size_t)second + 2 == n_parts) {
            regime = first;
            count = second;
            bitmaps_at = 2;
        } else if (ok1 && (size_t)first + 1 == n_parts) {
            count = first;
            bitmaps_at = 1;
        } else {
            snprintf(why, why_cap, "replicas entry for '%.*s': counts do not match its %zu parts", (int)name_len,
                     entry, n_parts);
            return false;
        }
        ak_client_ns_t *ns = ak_client_namespace(client, entry, name_len, true);
        if (!ns) {
            snprintf(why, why_cap, "cannot track namespace '%.*s'", (int)name_len, entry);
            return false;
        }
        if (count > AK_CLIENT_MAX_REPLICAS)
            count = AK_CLIENT_MAX_REPLICAS; /* later replicas are never routed to */
        if (count > ns->n_replicas)
            ns->n_replicas = (int)count;
        for (long long r = 0; r < count; r++) {
            uint8_t bitmap[AK_CLIENT_BITMAP_BYTES];
            if (!ak_client_decode_bitmap(parts[bitmaps_at + r], part_len[bitmaps_at + r], bitmap)) {
                snprintf(why, why_cap, "replicas bitmap %lld of '%s' is not 512 bytes of base64", r, ns->name);
                return false;
            }
            for (int pid = 0; pid < AK_PARTITION_COUNT; pid++) {
                if (!(bitmap[pid >> 3] & (0x80 >> (pid & 7))))
                    continue;
                /* A strong-consistency regime older than what we saw is stale. */
                if ((uint32_t)regime < ns->regime[pid])
                    continue;
                ns->regime[pid] = (uint32_t)regime;
                ns->owners[r][pid] = node;
            }
        }
    }
    return true;
}

ak_client_node_t *ak_client_cluster_route(ak_client_t *client, const char *ns_name, uint32_t partition_id,
                                          int replica, bool *ns_known)
{
    ak_client_ns_t *ns = ak_client_namespace(client, ns_name, strlen(ns_name), false);
    *ns_known = ns != NULL;
    if (!ns || ns->n_replicas == 0)
        return NULL;
    ak_client_node_t *master = ns->owners[0][partition_id];
    if (replica == 0)
        return master;
    /* Rotate over the replicas that have a usable owner. */
    for (int i = 0; i < ns->n_replicas; i++) {
        ak_client_node_t *node = ns->owners[(replica + i) % ns->n_replicas][partition_id];
        if (node && node->active)
            return node;
    }
    return master;
}

/* --- peers --- */

/* peers-clear-std: gen,default-port,[[id,tls-name,[host[:port],...]],...] */
static void ak_client_apply_peers(ak_client_node_t *node, const char *value, size_t len)
{
    ak_client_t *client = node->client;
    const char *end = value + len;
    const char *p = memchr(value, ',', len);
    if (!p)
        return;
    p++;
    const char *comma = memchr(p, ',', (size_t)(end - p));
    if (!comma)
        return;
    bool ok = false;
    long long default_port = ak_client_parse_int(p, (size_t)(comma - p), &ok);
    if (!ok)
        default_port = 3000;
    p = comma + 1;
    if (p >= end || *p != '[')
        return;
    p++;
    while (p < end && *p == '[') {
        p++;
        const char *id = p;
        const char *c1 = memchr(p, ',', (size_t)(end - p));
        if (!c1)
            return;
        size_t id_len = (size_t)(c1 - id);
        const char *tls = c1 + 1;
        const char *c2 = memchr(tls, ',', (size_t)(end - tls));
        if (!c2 || c2 + 1 >= end || c2[1] != '[')
            return;
        size_t tls_len = (size_t)(c2 - tls);
        const char *hosts = c2 + 2;
        /* IPv6 hosts are bracketed: find the list's own closing bracket. */
        const char *q = hosts;
        int depth = 0;
        while (q < end) {
            if (*q == '[')
                depth++;
            else if (*q == ']') {
                if (depth == 0)
                    break;
                depth--;
            }
            q++;
        }
        const char *hosts_end = q;
        if (hosts_end >= end)
            return;
        /* First address of the peer. */
        const char *h_end = memchr(hosts, ',', (size_t)(hosts_end - hosts));
        if (!h_end)
            h_end = hosts_end;
        char host[256] = "";
        long long port = default_port;
        size_t h_len = (size_t)(h_end - hosts);
        if (h_len && h_len < sizeof host) {
            char text[256];
            memcpy(text, hosts, h_len);
            text[h_len] = '\0';
            char *port_colon = NULL;
            if (text[0] == '[') {
                char *rb = strchr(text, ']');
                if (rb) {
                    *rb = '\0';
                    port_colon = rb[1] == ':' ? rb + 1 : NULL;
                    snprintf(host, sizeof host, "%s", text + 1);
                }
            } else {
                port_colon = strrchr(text, ':');
                if (port_colon)
                    *port_colon = '\0';
                snprintf(host, sizeof host, "%s", text);
            }
            if (port_colon) {
                port = ak_client_parse_int(port_colon + 1, strlen(port_colon + 1), &ok);
                if (!ok)
                    port = 0;
            }
        }
        if (host[0] && port > 0 && port < 65536 && id_len && id_len < 32 &&
            !ak_client_find_node_by_name(client, id, id_len)) {
            char name[32], tls_name[256];
            memcpy(name, id, id_len);
            name[id_len] = '\0';
            snprintf(tls_name, sizeof tls_name, "%.*s", (int)(tls_len < 255 ? tls_len : 255), tls);
            ak_client_node_t *existing = ak_client_find_node_by_address(client, host, (uint16_t)port);
            if (existing && !existing->validated)
                existing = NULL;
            if (!existing) {
                ak_client_node_t *peer = ak_client_node_new(client, host, (uint16_t)port, tls_name, name);
                if (peer)
                    ak_client_tend_node(peer);
            }
        }
        p = hosts_end + 1; /* past the hosts list */
        if (p < end && *p == ']')
            p++; /* past the peer */
        if (p < end && *p == ',')
            p++;
    }
}

/* --- tend --- */

static void ak_client_notify_map(ak_client_t *client)
{
    client->stats.partition_map_updates++;
    if (!client->ready) {
        client->ready = true;
        client->last_error[0] = '\0';
    }
    ak_client_cmds_map_changed(client);
    if (!client->ready_notified && client->config.on_ready) {
        client->ready_notified = true;
        client->config.on_ready(client, client->config.on_ready_arg);
    }
}

static bool ak_client_info_value(const char *body, size_t len, const char *name, const char **value,
                                 size_t *value_len)
{
    ak_info_pair_t pair;
    if (!ak_info_find(body, len, name, &pair))
        return false;
    *value = pair.value;
    *value_len = pair.value_len;
    return true;
}

static void ak_client_on_tend_followup(ak_client_conn_t *conn, const char *body, size_t len, void *arg)
{
    (void)conn;
    ak_client_node_t *node = arg;
    ak_client_t *client = node->client;
    if (!body) {
        ak_client_tend_failed(node, conn->close_reason[0] ? conn->close_reason
                                                          : "connection lost while reading the partition map");
        return;
    }
    node->tend_busy = false;
    const char *value;
    size_t value_len;
    bool ok;
    if (ak_client_info_value(body, len, "replicas", &value, &value_len)) {
        char why[200];
        if (ak_info_value_is_error(value, value_len)) {
            ak_client_set_last_error(client, "node %s: replicas: %.*s", node->name, (int)value_len, value);
        } else if (!ak_client_apply_replicas(node, value, value_len, why, sizeof why)) {
            ak_client_set_last_error(client, "node %s: %s", node->name, why);
        } else if (ak_client_info_value(body, len, "partition-generation", &value, &value_len)) {
            long long gen = ak_client_parse_int(value, value_len, &ok);
            if (ok) {
                node->partition_generation = gen;
                node->has_partition_generation = true;
            }
            ak_client_notify_map(client);
        }
    }
    const char *peers_name = client->config.tls_enable ? "peers-tls-std" : "peers-clear-std";
    if (ak_client_info_value(body, len, peers_name, &value, &value_len) &&
        !ak_info_value_is_error(value, value_len)) {
        const char *gen_value;
        size_t gen_len;
        if (ak_client_info_value(body, len, "peers-generation", &gen_value, &gen_len)) {
            long long gen = ak_client_parse_int(gen_value, gen_len, &ok);
            if (ok) {
                node->peers_generation = gen;
                node->has_peers_generation = true;
            }
        }
        ak_client_apply_peers(node, value, value_len);
    }
}

static void ak_client_on_tend_reply(ak_client_conn_t *conn, const char *body, size_t len, void *arg)
{
    ak_client_node_t *node = arg;
    ak_client_t *client = node->client;
    if (!body) {
        ak_client_tend_failed(node, conn->close_reason[0] ? conn->close_reason : "info connection lost");
        return;
    }
    const char *value;
    size_t value_len;
    if (!ak_client_info_value(body, len, "node", &value, &value_len) || value_len == 0) {
        ak_client_tend_failed(node, "no node name in the info reply");
        return;
    }
    if (value_len >= 9 && memcmp(value, "ERROR:80:", 9) == 0 && client->config.user && !conn->sent_login) {
        /* Our session was dropped: log in afresh on a new connection. */
        free(client->session_token);
        client->session_token = NULL;
        node->tend_busy = false;
        ak_client_conn_close(conn, AK_RESULT_NOT_AUTHENTICATED, "session no longer accepted");
        ak_client_tend_node(node);
        return;
    }
    if (ak_info_value_is_error(value, value_len) || value_len >= 32) {
        char why[200];
        snprintf(why, sizeof why, "info 'node' answered '%.*s'", (int)(value_len < 120 ? value_len : 120), value);
        ak_client_tend_failed(node, why);
        return;
    }
    if (!node->validated) {
        if (node->expected_name[0] &&
            (strlen(node->expected_name) != value_len || memcmp(node->expected_name, value, value_len) != 0)) {
            ak_client_node_remove(node, "the peers list named another node at this address");
            return;
        }
        ak_client_node_t *same = ak_client_find_node_by_name(client, value, value_len);
        if (same && same != node && same->validated) {
            ak_client_node_remove(node, "already known under another address");
            return;
        }
        if (client->config.cluster_name) {
            const char *cn = NULL;
            size_t cn_len = 0;
            if (!ak_client_info_value(body, len, "cluster-name", &cn, &cn_len) ||
                strlen(client->config.cluster_name) != cn_len || memcmp(client->config.cluster_name, cn, cn_len)) {
                char why[200];
                snprintf(why, sizeof why, "cluster name '%.*s' is not '%s'", (int)(cn_len < 64 ? cn_len : 64),
                         cn ? cn : "", client->config.cluster_name);
                ak_client_set_last_error(client, "%s:%u: %s", node->host, node->port, why);
                ak_client_node_remove(node, why);
                return;
            }
        }
        memcpy(node->name, value, value_len);
        node->name[value_len] = '\0';
        node->validated = true;
    } else if (strlen(node->name) != value_len || memcmp(node->name, value, value_len) != 0) {
        ak_client_node_remove(node, "another node now answers at its address");
        return;
    }
    bool ok = false;
    long long pgen = -1, peers_gen = -1;
    if (ak_client_info_value(body, len, "partition-generation", &value, &value_len))
        pgen = ak_client_parse_int(value, value_len, &ok);
    if (!ok || pgen < 0) {
        /* -1: the node is not ready (migrations starting) */
        ak_client_tend_failed(node, "partition-generation -1: node not ready");
        return;
    }
    if (ak_client_info_value(body, len, "peers-generation", &value, &value_len))
        peers_gen = ak_client_parse_int(value, value_len, &ok);
    bool was_active = node->active;
    node->active = true;
    node->failures = 0;
    node->unreachable_until_ms = 0;
    node->tend_busy = false;
    bool need_map = !node->has_partition_generation || node->partition_generation != pgen;
    bool need_peers = ok && (!node->has_peers_generation || node->peers_generation != peers_gen);
    if (need_map || need_peers) {
        char request[128] = "";
        if (need_map)
            strcat(request, "partition-generation\nreplicas\n");
        if (need_peers)
            strcat(request, client->config.tls_enable ? "peers-generation\npeers-tls-std\n"
                                                      : "peers-generation\npeers-clear-std\n");
        node->tend_busy = true;
        ak_client_conn_send_info(conn, request, ak_client_on_tend_followup, node);
    }
    if (!was_active)
        ak_client_node_pump(node);
}

static void ak_client_tend_node(ak_client_node_t *node)
{
    ak_client_t *client = node->client;
    uint64_t now = ak_clock_ms();
    if (node->tend_busy) {
        ak_client_conn_t *conn = node->info_conn;
        uint64_t limit = client->config.tend_interval_ms > client->config.conn_timeout_ms
                             ? client->config.tend_interval_ms
                             : client->config.conn_timeout_ms;
        if (client->config.user && conn && conn->auth_pending && limit < client->config.login_timeout_ms)
            limit = client->config.login_timeout_ms;
        if (conn && now - conn->info_sent_ms > limit)
            ak_client_conn_close(conn, AK_RESULT_TIMEOUT, "info request timed out"); /* -> tend failed */
        else if (!conn)
            node->tend_busy = false;
        return;
    }
    if (!node->info_conn) {
        ak_error_t err;
        node->info_conn = ak_client_conn_open(node, true, &err);
        if (!node->info_conn) {
            ak_client_tend_failed(node, err.message);
            return;
        }
    }
    node->tend_busy = true;
    ak_client_conn_send_info(node->info_conn,
                             node->validated ? "node\npartition-generation\npeers-generation\n"
                                             : "node\npartition-generation\npeers-generation\ncluster-name\n",
                             ak_client_on_tend_reply, node);
}

/* Data connections that never got up or never logged in. */
static void ak_client_check_conns(ak_client_node_t *node, uint64_t now)
{
    ak_client_t *client = node->client;
    for (int i = node->n_conns - 1; i >= 0; i--) {
        ak_client_conn_t *conn = node->conns[i];
        if (conn->state == AK_CONN_CONNECTING && now - conn->opened_ms > client->config.conn_timeout_ms)
            ak_client_conn_close(conn, AK_CLIENT_ERR_CONNECTION, "connect timed out");
        else if (conn->auth_pending && now - conn->opened_ms > client->config.login_timeout_ms)
            ak_client_conn_close(conn, AK_RESULT_TIMEOUT, "login timed out");
    }
}

static void ak_client_tend(ak_client_t *client)
{
    client->stats.tends++;
    bool any_active = false;
    for (int i = 0; i < client->n_nodes; i++)
        if (client->nodes[i]->active)
            any_active = true;
    if (!any_active) {
        /* Nobody to ask for peers: go back to the seeds. */
        for (int i = 0; i < client->n_seeds; i++) {
            const ak_client_seed_t *seed = &client->seeds[i];
            if (!ak_client_find_node_by_address(client, seed->host, seed->port))
                ak_client_node_new(client, seed->host, seed->port, seed->tls_name, NULL);
        }
    }
    uint64_t now = ak_clock_ms();
    /* Tending may add or remove nodes: walk a snapshot. */
    ak_client_node_t *snapshot[AK_CLIENT_MAX_NODES];
    int n = client->n_nodes;
    memcpy(snapshot, client->nodes, (size_t)n * sizeof *snapshot);
    for (int i = 0; i < n; i++) {
        if (snapshot[i]->removed)
            continue;
        ak_client_check_conns(snapshot[i], now);
        if (!snapshot[i]->removed)
            ak_client_tend_node(snapshot[i]);
    }
}

static void ak_client_on_tend_timer(ak_loop_t *loop, void *arg)
{
    ak_client_t *client = arg;
    client->tend_timer = ak_loop_timer(loop, client->config.tend_interval_ms, ak_client_on_tend_timer, client);
    ak_client_tend(client);
}

static void ak_client_on_early_tend(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_client_t *client = arg;
    client->early_tend_timer = 0;
    ak_client_tend(client);
}

void ak_client_cluster_node_trouble(ak_client_node_t *node)
{
    ak_client_t *client = node->client;
    if (client->closing || client->early_tend_timer)
        return;
    /* A connection failed: check the cluster now rather than at the next
     * tick, so commands are routed around a dead node sooner. */
    client->early_tend_timer = ak_loop_timer(client->loop, 20, ak_client_on_early_tend, client);
}

ak_status_t ak_client_cluster_start(ak_client_t *client, ak_error_t *err)
{
    for (int i = 0; i < client->n_seeds; i++) {
        const ak_client_seed_t *seed = &client->seeds[i];
        if (!ak_client_find_node_by_address(client, seed->host, seed->port) &&
            !ak_client_node_new(client, seed->host, seed->port, seed->tls_name, NULL))
            return ak_error_set(err, AK_ERR_NOMEM, "no memory for seed %s:%u", seed->host, seed->port);
    }
    client->tend_timer = ak_loop_timer(client->loop, client->config.tend_interval_ms, ak_client_on_tend_timer, client);
    for (int i = 0; i < client->n_nodes; i++)
        ak_client_tend_node(client->nodes[i]);
    return AK_OK;
}

void ak_client_cluster_stop(ak_client_t *client)
{
    if (client->tend_timer)
        ak_loop_timer_cancel(client->loop, client->tend_timer);
    if (client->early_tend_timer)
        ak_loop_timer_cancel(client->loop, client->early_tend_timer);
    client->tend_timer = client->early_tend_timer = 0;
    while (client->n_nodes) {
        ak_client_node_t *node = client->nodes[client->n_nodes - 1];
        node->removed = true;
        client->n_nodes--;
        ak_client_node_close_conns(node, AK_CLIENT_ERR_CLIENT, "client closed");
        ak_client_node_fail_queue(node, AK_CLIENT_ERR_CLIENT, "client closed");
        ak_loop_defer(client->loop, ak_client_node_free_deferred, node);
    }
    for (int i = 0; i < client->n_namespaces; i++)
        free(client->namespaces[i]);
    client->n_namespaces = 0;
}
