/*
 * Private to src/client: the structures shared by the command path
 * (ak_client.c), the connections (ak_client_conn.c) and the cluster view
 * (ak_client_cluster.c). Everything here runs on the client's loop thread.
 */
#ifndef AK_CLIENT_INTERNAL_H
#define AK_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/ak_client.h"
#include "client/ak_client_admin.h"
#include "client/ak_client_parse.h"
#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "net/ak_loop.h"
#include "net/ak_tls.h"
#include "wire/ak_digest.h"

#define AK_CLIENT_MAX_NODES 128
#define AK_CLIENT_MAX_NAMESPACES 32
/* AK_CLIENT_MAX_REPLICAS: client/ak_client_parse.h */
#define AK_CLIENT_MAX_SEEDS 32
/* Consecutive failed tends after which a node is forgotten (it comes back
 * through a peers list or the seeds). */
#define AK_CLIENT_NODE_MAX_FAILURES 3

typedef struct ak_client_node ak_client_node_t;
typedef struct ak_client_conn ak_client_conn_t;
typedef struct ak_client_cmd ak_client_cmd_t;

typedef enum ak_cmd_state {
    AK_CMD_NEW,
    AK_CMD_WAIT_MAP,    /* on client->wait_map: no partition map yet */
    AK_CMD_NODE_QUEUE,  /* on node->queue: the node is at its in-flight bound */
    AK_CMD_IN_FLIGHT,   /* on conn's FIFO, answer expected */
    AK_CMD_BACKOFF,     /* waiting to be retried (only in the timer heap) */
    AK_CMD_ABANDONED,   /* completed (total timeout) but still on a conn's FIFO */
    AK_CMD_FAILING,     /* outcome decided; completes from the timer (never inside an API call) */
} ak_cmd_state_t;

typedef enum ak_cmd_kind {
    AK_CMD_KIND_WRITE,   /* put, delete, touch, operate with writes */
    AK_CMD_KIND_READ,    /* get, operate with reads only */
} ak_cmd_kind_t;

struct ak_client_cmd {
    ak_client_t *client;
    ak_client_cb cb;
    void *arg;
    ak_buf_t frame;          /* the encoded request, sent as is on every try */
    ak_cmd_kind_t kind;
    ak_cmd_state_t state;
    char ns[AK_NAMESPACE_MAX + 1];
    uint32_t partition_id;
    ak_client_policy_t policy;
    uint64_t deadline_ms;    /* total timeout; 0 none */
    uint64_t sent_ms;        /* this try, when queued to a connection */
    int attempts;
    bool maybe_applied;      /* a write was sent and its outcome stayed unknown */
    int last_code;
    char last_message[200];
    char node_name[32];
    /* lists: client->wait_map or node->queue (doubly linked), or a conn FIFO (next only) */
    ak_client_cmd_t *prev, *next;
    ak_client_node_t *node;
    ak_client_conn_t *conn;
    uint64_t stream_start;   /* offset of the frame in the conn's output stream */
    /* timer heap */
    size_t heap_index;       /* SIZE_MAX when not in the heap */
    uint64_t due_ms;
};

typedef enum ak_conn_state {
    AK_CONN_CONNECTING,
    AK_CONN_OPEN,        /* TCP up (TLS may still be handshaking, auth may be pending) */
    AK_CONN_CLOSED,
} ak_conn_state_t;

typedef void (*ak_client_info_cb)(ak_client_conn_t *conn, const char *body, size_t len, void *arg);

struct ak_client_conn {
    ak_client_t *client;
    ak_client_node_t *node;
    bool is_info;            /* the node's tend connection */
    ak_conn_state_t state;
    ak_io_t io;
    ak_tls_t *tls;
    ak_buf_t out;
    size_t out_sent;
    uint64_t bytes_written;  /* stream offsets, for "was this frame sent" */
    uint64_t bytes_queued;
    ak_buf_t in;
    size_t in_pos;
    bool flush_scheduled;
    bool auth_pending;       /* first reply expected is the admin one */
    bool sent_login;         /* LOGIN (not AUTHENTICATE) */
    uint64_t opened_ms;
    /* data: commands in send order */
    ak_client_cmd_t *fifo_head, *fifo_tail;
    int fifo_len;
    /* info: at most one request outstanding */
    ak_client_info_cb info_cb;
    void *info_arg;
    uint64_t info_sent_ms;
    char close_reason[300];  /* why it closed, for the info callback */
};

struct ak_client_node {
    ak_client_t *client;
    char name[32];           /* "" until validated */
    char expected_name[32];  /* from a peers list: the name it must report */
    char host[256];
    uint16_t port;
    char tls_name[256];
    bool validated;          /* answered `node` once */
    bool active;             /* last tend succeeded */
    bool removed;
    int failures;            /* consecutive failed tends */
    bool has_partition_generation;
    int64_t partition_generation;
    bool has_peers_generation;
    int64_t peers_generation;
    bool tend_busy;
    uint64_t unreachable_until_ms; /* a connect failed: no new data connections before */
    ak_client_conn_t *info_conn;
    ak_client_conn_t **conns;      /* max_conns_per_node slots */
    int n_conns;
    int in_flight;
    ak_client_cmd_t *queue_head, *queue_tail;
    size_t queued;
    uint64_t commands;
    uint64_t errors;
};

typedef struct ak_client_ns {
    char name[AK_NAMESPACE_MAX + 1];
    int n_replicas;
    ak_client_node_t *owners[AK_CLIENT_MAX_REPLICAS][AK_PARTITION_COUNT];
    uint32_t regime[AK_PARTITION_COUNT];
} ak_client_ns_t;

typedef struct ak_client_seed {
    char host[256];
    char tls_name[256];
    uint16_t port;
} ak_client_seed_t;

struct ak_client {
    ak_loop_t *loop;
    ak_client_config_t config;   /* strings point into the copies below */
    char *strings;               /* one allocation holding the copied strings */
    ak_client_seed_t seeds[AK_CLIENT_MAX_SEEDS];
    int n_seeds;
    ak_tls_ctx_t *tls_ctx;
    char credential[AK_ADMIN_CREDENTIAL_SIZE + 1];
    uint8_t *session_token;
    size_t session_token_len;
    uint64_t session_expires_ms; /* 0: no expiry known */

    ak_client_node_t *nodes[AK_CLIENT_MAX_NODES];
    int n_nodes;
    ak_client_ns_t *namespaces[AK_CLIENT_MAX_NAMESPACES];
    int n_namespaces;
    bool ready;
    bool ready_notified;
    bool closing;
    uint64_t tend_timer;
    uint64_t early_tend_timer;
    char last_error[AK_ERROR_MESSAGE_MAX];

    /* commands */
    ak_client_cmd_t *wait_map_head, *wait_map_tail;
    size_t queued;               /* wait_map + node queues + backoff */
    size_t in_flight;
    ak_client_cmd_t **heap;
    size_t heap_len, heap_cap;
    uint64_t heap_timer;
    uint64_t heap_timer_due;
    uint64_t rng;
    ak_arena_t reply_arena;
    ak_client_stats_t stats;
    ak_client_cmd_t *cmd_pool;   /* finished commands kept for reuse, with their frame buffers */
    size_t cmd_pool_len;
};

/* ak_client.c: the command path, called by connections and the cluster */
void ak_client_cmd_on_reply(ak_client_cmd_t *cmd, ak_client_conn_t *conn, const uint8_t *body, size_t len);
/* The try failed without an answer (code: connection, TLS, timeout). */
void ak_client_cmd_on_failure(ak_client_cmd_t *cmd, int code, const char *message);
/* Commands waiting for the map or for this node may move now. */
void ak_client_cmds_map_changed(ak_client_t *client);
void ak_client_node_pump(ak_client_node_t *node);
/* The node is gone or unreachable: its queued commands are retried. */
void ak_client_node_fail_queue(ak_client_node_t *node, int code, const char *message);
void ak_client_cmd_free(ak_client_cmd_t *cmd);

/* ak_client_conn.c */
ak_client_conn_t *ak_client_conn_open(ak_client_node_t *node, bool is_info, ak_error_t *err);
/* Fails every command on it with code/message and frees it at the end of
 * the loop iteration. */
void ak_client_conn_close(ak_client_conn_t *conn, int code, const char *message);
/* Appends a command's frame and puts it on the FIFO. */
void ak_client_conn_send_cmd(ak_client_conn_t *conn, ak_client_cmd_t *cmd);
/* Sends one info request (commands joined with '\n'); cb gets the body. */
void ak_client_conn_send_info(ak_client_conn_t *conn, const char *request, ak_client_info_cb cb, void *arg);

/* ak_client_cluster.c */
ak_status_t ak_client_cluster_start(ak_client_t *client, ak_error_t *err);
void ak_client_cluster_stop(ak_client_t *client);
/* Node for a partition (replica index rotated), NULL if none. */
ak_client_node_t *ak_client_cluster_route(ak_client_t *client, const char *ns, uint32_t partition_id,
                                          int replica, bool *ns_known);
/* A data connection to node failed: tend soon. */
void ak_client_cluster_node_trouble(ak_client_node_t *node);
void ak_client_set_last_error(ak_client_t *client, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
