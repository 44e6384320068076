/*
 * Internals shared by the outbound connector's files: the connector state,
 * a request awaiting its answer, and the settings taken from the config.
 */
#ifndef AK_OUTBOUND_INTERNAL_H
#define AK_OUTBOUND_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "format/ak_format.h"
#include "kafka/ak_producer.h"
#include "net/ak_http_server.h"
#include "net/ak_loop.h"
#include "net/ak_tls.h"
#include "outbound/ak_outbound.h"

#define AK_OB_MAX_LISTENERS 16

typedef struct ak_ob_request ak_ob_request_t;
/* Sends the answer for req (a reply message or an HTTP status) and
 * releases it. Called exactly once per request. */
typedef void (*ak_ob_answer_fn)(ak_outbound_t *ob, ak_ob_request_t *req, int code);

struct ak_ob_request {
    ak_ob_answer_fn answer;
    uint64_t start_us;
};

typedef struct ak_ob_listen {
    char host[256];
    uint16_t port;
} ak_ob_listen_t;

/* What the connector needs from the configuration, in one place. */
typedef struct ak_ob_settings {
    ak_ob_listen_t listen[AK_OB_MAX_LISTENERS];
    size_t n_listen;
    ak_ob_listen_t tls_listen[AK_OB_MAX_LISTENERS]; /* service.tls: address x port */
    size_t n_tls_listen;
    ak_tls_ctx_t *tls;         /* server context for tls_listen (one reference, dropped by
                                * ak_ob_settings_free); NULL without service.tls */
    bool http;                 /* service.protocol HTTP_1_1 / HTTP_2 */
    ak_ob_listen_t manage;
    bool manage_port_set;
    size_t max_concurrent_records;
    uint64_t ticker_ms;        /* 0: no stats line */
    size_t read_chunk;         /* socket-receive-buffer-bytes */
    bool ack_buffering;
    ak_producer_prop_t *producer_props;
    size_t n_producer_props;
    char (*producer_prop_where)[300]; /* "FILE:LINE" per property */
    const ak_format_config_t **formats; /* every distinct format section */
    size_t n_formats;
} ak_ob_settings_t;

ak_status_t ak_ob_settings_from_config(const ak_outbound_config_t *cfg, ak_ob_settings_t *settings,
                                       ak_error_t *err);
void ak_ob_settings_free(ak_ob_settings_t *settings);
const char *ak_ob_cluster_name(const ak_outbound_config_t *cfg);

typedef struct ak_ob_conn ak_ob_conn_t;
typedef struct ak_ob_http_req ak_ob_http_req_t;

typedef struct ak_ob_listener {
    ak_outbound_t *ob;
    int fd;
    uint16_t port;
    ak_tls_ctx_t *tls;         /* a TLS port: the context (ob->tls); NULL: plain */
    ak_io_t io;
} ak_ob_listener_t;

struct ak_outbound {
    ak_loop_t *loop;
    const ak_outbound_config_t *cfg;
    ak_producer_t *producer;
    ak_formatter_t **formatters; /* by the config's distinct format index */
    size_t n_formatters;
    size_t max_in_flight;
    size_t read_chunk;
    bool ack_buffering;
    uint64_t ticker;
    uint64_t ticker_ms;
    ak_outbound_stats_t stats;
    /* scratch for the pipeline (loop thread only) */
    ak_arena_t arena;
    ak_buf_t topic, value, key;
    uint64_t wall_ms, wall_stamp_us; /* wall clock cached per loop iteration */
    /* TCP receiver */
    ak_ob_listener_t listeners[AK_OB_MAX_LISTENERS];
    size_t n_listeners;
    ak_ob_conn_t *conns;
    bool reading_paused;
    ak_tls_ctx_t *tls;         /* the TLS listeners' context (a reference) */
    /* HTTP receiver */
    ak_http_server_t *http[AK_OB_MAX_LISTENERS];
    size_t n_http;
    /* management API */
    ak_http_server_t *manage;
    /* several pipelines (ak_outbound_new_worker) */
    int worker, workers;
    struct ak_outbound **siblings; /* worker 0 only */
    size_t n_siblings;
    struct ak_outbound *primary;   /* the other workers: worker 0 */
    pthread_mutex_t published_lock;
    ak_outbound_stats_t published;  /* a copy of stats, refreshed every 200 ms */
    uint64_t publish_timer;
};

/* pipeline (ak_outbound.c) */
bool ak_ob_process(ak_outbound_t *ob, ak_ob_request_t *req, const uint8_t *msg_body, size_t len,
                   uint16_t listen_port);
void ak_ob_finish(ak_outbound_t *ob, ak_ob_request_t *req, int code);
bool ak_ob_full(const ak_outbound_t *ob);
/* Counters of every instance added up, on any pipeline's thread: the
 * calling pipeline's live ones, the others' last published copies (at most
 * 200 ms old). */
void ak_ob_total_stats(const ak_outbound_t *ob, ak_outbound_stats_t *total);

/* TCP receiver (ak_outbound_tcp.c) */
/* How long a TLS peer may take to finish its handshake after connecting. */
static inline uint32_t ak_ob_tls_handshake_timeout_ms(const ak_outbound_t *ob)
{
    uint32_t ms = ob->cfg->service.tls.handshake_timeout_ms;
    return ms ? ms : AK_TLS_HANDSHAKE_TIMEOUT_MS;
}

ak_status_t ak_ob_tcp_start(ak_outbound_t *ob, const ak_ob_settings_t *settings, ak_error_t *err);
void ak_ob_tcp_maybe_resume(ak_outbound_t *ob);
void ak_ob_tcp_stop_listening(ak_outbound_t *ob);
void ak_ob_tcp_free(ak_outbound_t *ob);

/* HTTP receiver and management API (ak_outbound_http.c) */
ak_status_t ak_ob_http_start(ak_outbound_t *ob, const ak_ob_settings_t *settings, ak_error_t *err);
void ak_ob_http_free(ak_outbound_t *ob);
ak_status_t ak_ob_manage_start(ak_outbound_t *ob, const ak_ob_settings_t *settings, ak_error_t *err);

#endif
