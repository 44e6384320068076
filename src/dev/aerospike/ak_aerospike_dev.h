/*
 * aerospike-dev: in-memory Aerospike node(s) speaking the wire protocol well
 * enough for the official clients, and shipping change notifications the
 * way XDR does.
 *
 * N nodes listen on consecutive ports of one host and split the 4096
 * partitions between the live ones (replica r of partition p belongs to live
 * node (p + r) mod N). They share one store, so a stopped node's partitions
 * move to the others with their data, as after migrations.
 *
 * Everything runs on the loop given at creation; the functions below must
 * be called on that loop's thread.
 */
#ifndef AK_AEROSPIKE_DEV_H
#define AK_AEROSPIKE_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "dev/ak_xdr_ship.h"
#include "net/ak_loop.h"

#define AK_ASD_MAX_NODES 16

typedef struct ak_asd_options {
    const char *host;                /* listen and advertise; default 127.0.0.1 */
    uint16_t port;                   /* first node's port; 0 = any free ports */
    int nodes;                       /* default 1 */
    const char *const *namespaces;   /* default {"test"} */
    size_t n_namespaces;
    const char *cluster_name;        /* default "aerospike-dev" */
    uint32_t default_ttl;            /* seconds; default 0 = never expire */
    /* XDR */
    const char *const *xdr_destinations; /* connector "host:port" list; none = no shipping */
    size_t n_xdr_destinations;
    ak_xdr_protocol_t xdr_protocol;
    uint32_t xdr_timeout_ms;         /* default 10000 */
    int xdr_in_flight;               /* per connection; default 64 */
    bool xdr_ship_expiry;            /* ship expirations as deletes (ship-nsup-deletes) */
    const char *xdr_http_path;       /* default "/" */
    /* Security: with users, every connection must log in (LOGIN with the
     * bcrypt credential, or AUTHENTICATE with a session token) before any
     * info or data command, which otherwise get NOT_AUTHENTICATED (80). */
    const char *const *users;        /* "NAME:PASSWORD" */
    size_t n_users;
    uint32_t session_ttl;            /* seconds; default 86400 */
} ak_asd_options_t;

/* Fault switches for tests, per node. */
typedef struct ak_asd_fault {
    int fail_code;          /* answer data commands with this result code ... */
    double fail_ratio;      /* ... for this fraction of them (0..1) */
    uint32_t latency_ms;    /* delay every data reply */
    bool refuse_connections; /* close the listener */
} ak_asd_fault_t;

typedef struct ak_asd_stats {
    uint64_t connections;   /* accepted, all nodes */
    uint64_t commands;      /* data commands answered */
    uint64_t info_requests;
    uint64_t faults_injected;
    uint64_t records;       /* stored now, all namespaces */
    uint64_t xdr_queued;    /* waiting to ship */
    uint64_t xdr_dropped;   /* changes not queued because the queue was full */
    ak_xdr_ship_stats_t xdr;
} ak_asd_stats_t;

typedef struct ak_asd_cluster ak_asd_cluster_t;

ak_asd_cluster_t *ak_asd_cluster_new(ak_loop_t *loop, const ak_asd_options_t *opts, ak_error_t *err);
void ak_asd_cluster_free(ak_asd_cluster_t *cluster);

int ak_asd_cluster_node_count(const ak_asd_cluster_t *cluster);
uint16_t ak_asd_cluster_node_port(const ak_asd_cluster_t *cluster, int node);
const char *ak_asd_cluster_node_name(const ak_asd_cluster_t *cluster, int node);
/* "host:port,host:port,..." of every node. */
const char *ak_asd_cluster_seeds(const ak_asd_cluster_t *cluster);

/* node -1 applies to every node. */
void ak_asd_cluster_set_fault(ak_asd_cluster_t *cluster, int node, const ak_asd_fault_t *fault);
/* Stops a node: closes its listener and connections; its partitions move
 * to the live nodes. */
void ak_asd_cluster_stop_node(ak_asd_cluster_t *cluster, int node);
ak_status_t ak_asd_cluster_start_node(ak_asd_cluster_t *cluster, int node, ak_error_t *err);
bool ak_asd_cluster_node_running(const ak_asd_cluster_t *cluster, int node);

void ak_asd_cluster_stats(const ak_asd_cluster_t *cluster, ak_asd_stats_t *stats);

/* Per node, for routing checks. */
typedef struct ak_asd_node_stats {
    uint64_t commands;      /* data commands this node answered */
    uint64_t not_master;    /* ... for a partition whose master is another live node */
    uint64_t connections;   /* accepted */
    uint64_t logins;        /* successful LOGIN / AUTHENTICATE */
} ak_asd_node_stats_t;
/* Forgets every session token and makes every open connection log in
 * again: their next command is answered NOT_AUTHENTICATED (what a client
 * sees when its session expires or is revoked). */
void ak_asd_cluster_revoke_sessions(ak_asd_cluster_t *cluster);

void ak_asd_cluster_node_stats(const ak_asd_cluster_t *cluster, int node, ak_asd_node_stats_t *stats);

#endif
