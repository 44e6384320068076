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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/ak_client_internal.h"
#include "wire/ak_info.h"
#include "wire/ak_result.h"

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

/* A generation: the whole value a decimal integer (ak_client_parse.h). */
static long long ak_client_info_int(const char *s, size_t len, bool *ok)
{
    long long v = 0;
    *ok = ak_client_parse_int(s, len, &v);
    return v;
}

/* `replicas` (ak_client_parse.h): each namespace entry as it is read; a
 * malformed entry stops there with why, the entries before it applied. */
static bool ak_client_apply_replicas(ak_client_node_t *node, const char *value, size_t len, char *why, size_t why_cap)
{
    ak_client_t *client = node->client;
    ak_client_replicas_reader_t reader;
    ak_client_replicas_reader_init(&reader, value, len);
    ak_client_replicas_entry_t *entry = malloc(sizeof *entry); /* 2 KB of bitmaps */
    if (!entry) {
        snprintf(why, why_cap, "out of memory reading replicas");
        return false;
    }
    ak_error_t err;
    int got;
    while ((got = ak_client_replicas_next(&reader, entry, &err)) == 1) {
        ak_client_ns_t *ns = ak_client_namespace(client, entry->ns, strlen(entry->ns), true);
        if (!ns) {
            snprintf(why, why_cap, "cannot track namespace '%s'", entry->ns);
            free(entry);
            return false;
        }
        if (entry->n_bitmaps > ns->n_replicas)
            ns->n_replicas = entry->n_bitmaps;
        for (int r = 0; r < entry->n_bitmaps; r++)
            for (uint32_t pid = 0; pid < AK_PARTITION_COUNT; pid++) {
                if (!ak_client_bitmap_has(entry->bitmaps[r], pid))
                    continue;
                /* A strong-consistency regime older than what we saw is stale. */
                if (entry->regime < ns->regime[pid])
                    continue;
                ns->regime[pid] = entry->regime;
                ns->owners[r][pid] = node;
            }
    }
    free(entry);
    if (got < 0) {
        /* why is shorter than an error message: keep its start */
        size_t n = strnlen(err.message, why_cap - 1);
        memcpy(why, err.message, n);
        why[n] = '\0';
        return false;
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

/* peers-clear-std / peers-tls-std (ak_client_parse.h): adds the peers
 * not known yet, each to be validated by its own tend. A malformed list
 * stops there (the peers before it are added) and is read again at the
 * next peers-generation. */
static void ak_client_apply_peers(ak_client_node_t *node, const char *value, size_t len)
{
    ak_client_t *client = node->client;
    ak_client_peers_reader_t reader;
    ak_client_peer_t peer;
    if (ak_client_peers_begin(&reader, value, len, NULL) != AK_OK)
        return;
    while (ak_client_peers_next(&reader, &peer, NULL) == 1) {
        if (!peer.usable || ak_client_find_node_by_name(client, peer.name, strlen(peer.name)))
            continue;
        ak_client_node_t *existing = ak_client_find_node_by_address(client, peer.host, (uint16_t)peer.port);
        if (existing && !existing->validated)
            existing = NULL;
        if (!existing) {
            ak_client_node_t *added = ak_client_node_new(client, peer.host, (uint16_t)peer.port, peer.tls_name,
                                                         peer.name);
            if (added)
                ak_client_tend_node(added);
        }
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
            long long gen = ak_client_info_int(value, value_len, &ok);
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
            long long gen = ak_client_info_int(gen_value, gen_len, &ok);
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
        pgen = ak_client_info_int(value, value_len, &ok);
    if (!ok || pgen < 0) {
        /* -1: the node is not ready (migrations starting) */
        ak_client_tend_failed(node, "partition-generation -1: node not ready");
        return;
    }
    if (ak_client_info_value(body, len, "peers-generation", &value, &value_len))
        peers_gen = ak_client_info_int(value, value_len, &ok);
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
