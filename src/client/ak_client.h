/*
 * ak_client: a native, cluster-aware, asynchronous Aerospike client.
 *
 * From seeds it learns the cluster (info `node`, `peers-clear-std` /
 * `peers-tls-std`) and the partition map (`replicas`), re-tends every
 * tend_interval_ms and re-reads the map whenever a node's
 * partition-generation changes. Single-record commands (put, delete,
 * touch, get, operate) go to the master of the key's partition over
 * pipelined connections, at most max_in_flight_per_node at a time per node;
 * beyond that they wait in a bounded queue. Retry-class outcomes (server
 * TIMEOUT, KEY_BUSY, DEVICE_OVERLOAD, UNAVAILABLE, OUT_OF_SPACE, connection
 * failures, a node gone) are retried with jittered exponential backoff until
 * max_retries or the total timeout.
 *
 * Threading: a client lives on one ak_loop. Every function below must be
 * called on that loop's thread, and every callback runs there. Callbacks may
 * issue new commands, but must not free the client.
 *
 * Results carry the Aerospike result code (server codes >= 0, client codes
 * < 0 as in the official clients' as_status.h), its name, a message, and
 * whether a write may have been applied although it reports failure
 * (in_doubt).
 */
#ifndef AK_CLIENT_H
#define AK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "net/ak_loop.h"
#include "wire/ak_record.h"
#include "wire/ak_value.h"

/* Client-side result codes (the official clients' numbers). Server codes
 * are ak_result_code_t (wire/ak_result.h). */
enum {
    AK_CLIENT_ERR_CLIENT = -1,           /* out of memory, client freed, ... */
    AK_CLIENT_ERR_PARAM = -2,            /* the command cannot be encoded */
    AK_CLIENT_ERR_INVALID_NODE = -8,     /* no node serves the partition */
    AK_CLIENT_ERR_TLS = -9,              /* TLS handshake failed */
    AK_CLIENT_ERR_CONNECTION = -10,      /* connect failed or connection lost */
    AK_CLIENT_ERR_QUEUE_FULL = -11,      /* max_queued commands already wait */
};

typedef struct ak_client ak_client_t;

typedef struct ak_client_result {
    int result_code;        /* 0 OK, > 0 server code, < 0 AK_CLIENT_ERR_* */
    const char *name;       /* ak_result_name(result_code) */
    bool in_doubt;          /* a write that fails may still have been applied */
    const char *message;    /* "" on success; else what failed, where, after how many tries */
    int attempts;           /* times the command was sent or tried */
    const char *node;       /* name of the node that answered last ("" if none) */
    uint32_t generation;    /* record generation from the reply */
    uint32_t ttl;           /* remaining seconds from the reply's void time; 0xFFFFFFFF never expires */
    /* get and operate: the bins read (views valid only during the callback). */
    const ak_bin_t *bins;
    uint32_t n_bins;
} ak_client_result_t;

typedef void (*ak_client_cb)(const ak_client_result_t *result, void *arg);
typedef void (*ak_client_ready_cb)(ak_client_t *client, void *arg);

typedef struct ak_client_config {
    /* "host:port[,host:port...]"; with TLS a host may carry its tls-name as
     * "host:tls-name:port" (Aerospike's host syntax). */
    const char *seeds;
    const char *cluster_name;       /* if set, nodes reporting another name are refused */
    const char *user;               /* internal authentication; NULL: none */
    const char *password;
    /* TLS: on when tls_enable; tls_name is the default name for seeds that
     * do not give one (peers carry their own). */
    bool tls_enable;
    const char *tls_name;
    const char *tls_ca_file;
    const char *tls_cert_file;
    const char *tls_key_file;
    /* TLS versions ("TLSv1.2", "TLSv1.3"; none: 1.2 and up) and OpenSSL
     * cipher names (none: OpenSSL's defaults). These arrays are not copied:
     * they must outlive the client. */
    const char *const *tls_protocols;
    size_t n_tls_protocols;
    const char *const *tls_ciphers;
    size_t n_tls_ciphers;
    uint32_t tend_interval_ms;      /* default 1000 */
    uint32_t conn_timeout_ms;       /* connect + TLS + login; default 1000 */
    uint32_t login_timeout_ms;      /* wait for the login reply; default 5000 */
    int max_conns_per_node;         /* pipelined data connections; default 2 */
    int max_in_flight_per_node;     /* commands on the wire per node; default 1024 */
    size_t max_queued;              /* commands waiting (all nodes); default 100000 */
    ak_client_ready_cb on_ready;    /* once, when the first partition map is known */
    void *on_ready_arg;
} ak_client_config_t;

typedef struct ak_client_policy {
    uint32_t socket_timeout_ms;   /* per attempt, from sending; 0 = none; default 30000 */
    uint32_t total_timeout_ms;    /* whole command incl. retries and waiting; 0 = none; default 1000 */
    int max_retries;              /* retries after the first try; default 2 */
    uint32_t backoff_ms;          /* first retry delay; doubles per retry; default 10 */
    uint32_t backoff_max_ms;      /* cap of the delay; default 1000 */
    bool send_key;                /* store the user key with the record (KEY field) */
} ak_client_policy_t;

/* One operation of ak_client_operate. */
typedef struct ak_client_op {
    uint8_t op_type;       /* ak_op_type_t: AK_OP_READ, WRITE, INCR, APPEND, PREPEND, TOUCH,
                            * DELETE, CDT_READ, CDT_MODIFY, ... */
    const char *bin;       /* NUL-terminated; NULL or "" for whole-record ops (READ all, TOUCH, DELETE) */
    ak_value_t value;      /* WRITE/INCR/APPEND/PREPEND value; CDT ops: the op's MessagePack as
                            * a BYTES value (subtype ignored); otherwise NIL */
} ak_client_op_t;

typedef struct ak_client_node_stats {
    char name[32];
    char address[280];      /* host:port */
    bool active;
    int connections;        /* open data connections */
    int in_flight;          /* commands on the wire */
    size_t queued;          /* commands waiting for this node */
    uint64_t commands;      /* replies received */
    uint64_t errors;        /* connection failures */
} ak_client_node_stats_t;

typedef struct ak_client_stats {
    uint64_t commands;       /* completed (callback called) */
    uint64_t succeeded;      /* completed with OK */
    uint64_t failed;
    uint64_t retries;
    uint64_t timeouts;       /* socket or total timeouts seen (each attempt) */
    uint64_t in_doubt;       /* completed failures flagged in doubt */
    uint64_t logins;
    uint64_t tends;
    uint64_t partition_map_updates;
    size_t in_flight;        /* on the wire now */
    size_t queued;           /* waiting for a node, a connection or a retry */
    int n_nodes;
    ak_client_node_stats_t nodes[32]; /* the first 32 nodes */
} ak_client_stats_t;

void ak_client_config_init(ak_client_config_t *config);
void ak_client_policy_init(ak_client_policy_t *policy);

/* Starts discovery (nothing blocks: connections complete on the loop).
 * Copies what config points to. With a user, hashes the password (bcrypt,
 * about 0.1 s of CPU, once). NULL with err on a bad configuration. */
ak_client_t *ak_client_new(ak_loop_t *loop, const ak_client_config_t *config, ak_error_t *err);
/* Completes every command still pending with AK_CLIENT_ERR_CLIENT
 * ("client closed", in doubt for writes already sent), closes every
 * connection. */
void ak_client_free(ak_client_t *client);

/* True once a partition map is known (at least one node answered). */
bool ak_client_is_ready(const ak_client_t *client);
/* The last discovery problem ("seed 127.0.0.1:3000: connection refused"),
 * "" if none. */
const char *ak_client_last_error(const ak_client_t *client);

/* Writes or deletes rec: rec->op WRITE (bins, with rec->ttl,
 * exists_action, generation_policy + generation, commit_level) or DELETE /
 * DURABLE_DELETE. rec needs ns and a key or digest. rec is encoded before
 * the call returns: it need not outlive the call. policy NULL = defaults.
 * Returns AK_OK when the command was accepted: cb then runs exactly once,
 * never from inside this call. On AK_ERR_* (unusable record) cb is not
 * called and err says why. Queue full is reported through cb. */
ak_status_t ak_client_put(ak_client_t *client, const ak_record_t *rec, const ak_client_policy_t *policy,
                          ak_client_cb cb, void *arg, ak_error_t *err);
/* Bumps generation and sets the TTL (rec->ttl; bins ignored). */
ak_status_t ak_client_touch(ak_client_t *client, const ak_record_t *rec, const ak_client_policy_t *policy,
                            ak_client_cb cb, void *arg, ak_error_t *err);
/* Reads bins (names NULL: all bins; n_names 0 with names non-NULL: metadata
 * only, i.e. exists). The result carries the bins. */
ak_status_t ak_client_get(ak_client_t *client, const ak_record_t *key, const char *const *names,
                          size_t n_names, const ak_client_policy_t *policy, ak_client_cb cb, void *arg,
                          ak_error_t *err);
/* Several operations on one record, atomically, with rec's write policy;
 * reads answer in order in result->bins (RESPOND_ALL_OPS when a CDT op or
 * several reads of one bin need it). */
ak_status_t ak_client_operate(ak_client_t *client, const ak_record_t *rec, const ak_client_op_t *ops,
                              size_t n_ops, const ak_client_policy_t *policy, ak_client_cb cb, void *arg,
                              ak_error_t *err);

void ak_client_stats(const ak_client_t *client, ak_client_stats_t *stats);

#endif
