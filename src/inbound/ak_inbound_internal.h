/*
 * The inbound connector's shared state, for its run time (ak_inbound.c)
 * and its management API (ak_inbound_manage.c). Not for other layers.
 */
#ifndef AK_INBOUND_INTERNAL_H
#define AK_INBOUND_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "client/ak_client.h"
#include "common/ak_arena.h"
#include "inbound/ak_inbound.h"
#include "inbound/ak_inbound_map.h"
#include "inbound/ak_key_order.h"
#include "kafka/ak_consumer.h"
#include "kafka/ak_dead_letter.h"
#include "net/ak_http_server.h"

typedef struct ak_inbound ak_inbound_t;

/* One consumed record, from the consumer's hand-over to its acknowledgement. */
typedef struct ak_ib_item {
    ak_inbound_t *ib;
    const ak_consumer_msg_t *msg;
    const ak_inbound_topic_config_t *topic;
    ak_arena_t arena;              /* the mapped record's names and values */
    ak_record_t rec;
    ak_inbound_map_result_t map_result;
    ak_error_t err;                /* why the mapping did not give a record */
    bool gated;                    /* holds its key in the per-key gate */
    int attempts;                  /* retry-class failures so far */
    uint64_t first_failure_ms;
    uint64_t retry_timer;
    uint64_t issued_us;
    bool ahead;                    /* counted in ib->ahead (handed to mapping, not yet written) */
    atomic_bool mapped_flag;       /* set by the processing thread that mapped it */
    struct ak_ib_item *next;       /* free list / work queue */
    struct ak_ib_item *order_next; /* consumption order, while being mapped */
    struct ak_ib_item *all_next;   /* every item ever made, for freeing */
} ak_ib_item_t;

typedef struct ak_ib_worker {
    ak_inbound_t *ib;
    ak_inbound_mapper_t *mapper;   /* decoders with caches: one per thread */
    pthread_t thread;
    bool started;
} ak_ib_worker_t;

typedef struct ak_ib_dlq {
    const char *topic;
    ak_dead_letter_t *dlq;
} ak_ib_dlq_t;

struct ak_inbound {
    ak_loop_t *loop;
    const ak_inbound_config_t *cfg;
    ak_inbound_stopped_fn on_stopped;
    void *ctx;

    ak_client_t *client;
    char *seeds;
    ak_consumer_t *consumer;
    const char **topic_names;
    ak_consumer_prop_t *props;
    char **wheres;
    size_t n_props;
    ak_ib_dlq_t *dlq;
    size_t n_dlq;
    ak_key_order_t *key_order;
    ak_inbound_mapper_t *loop_mapper; /* maps on the loop thread (1 thread, retries) */

    /* processing threads (when more than one) */
    ak_ib_worker_t *workers;
    int n_workers;
    pthread_mutex_t work_lock;
    pthread_cond_t work_cond;
    ak_ib_item_t *work_head, *work_tail;
    bool work_stop;
    bool locks_ready;
    atomic_bool wake_posted;
    ak_ib_item_t *order_head, *order_tail; /* consumption order, waiting for mapping */
    ak_ib_item_t *to_map_head, *to_map_tail; /* consumed, not yet handed to the processing threads */
    size_t ahead;                  /* handed to mapping and not yet to the client (or finished) */
    bool feed_scheduled;

    ak_ib_item_t *write_wait_head, *write_wait_tail; /* gated, waiting for room in the client */
    ak_ib_item_t *free_items;
    ak_ib_item_t *all_items;
    size_t held;
    size_t writing;
    size_t waiting_for_key;
    size_t retrying;
    bool paused;
    uint64_t pauses;
    uint64_t abandoned;            /* failed while stopping: left unacknowledged */

    bool stopping;
    bool closing;                  /* ak_inbound_free runs */
    bool failed;
    bool reported_stop;
    char failure[1024];
    uint64_t stop_timer;

    uint64_t rng;
    ak_inbound_stats_t stats;
    uint64_t stats_timer;
    uint32_t stats_interval_ms;
    uint64_t last_line_ms;
    uint64_t last_line_done;

    ak_http_server_t *manage;
};

ak_status_t ak_ib_manage_start(ak_inbound_t *ib, ak_error_t *err);
void ak_ib_manage_stop(ak_inbound_t *ib);

#endif
