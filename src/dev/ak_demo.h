/*
 * ak_demo: `aerokafka demo`, the whole round trip in one process with no
 * outside services (docs/DEMO.md):
 *
 *   client -> aerospike-dev `source` --XDR--> outbound connector
 *          -> kafka-dev (flat-json) -> inbound connector
 *          -> aerospike-dev `sink` <- client (verification)
 *
 * The demo makes real changes through the client (writes of every value
 * type, updates, deletes), shows them travelling (live counters, a few Kafka
 * messages in flat-json, the records they became in the sink), then reads
 * every record back from both clusters and compares them, value by value, as
 * JSON carries them.
 *
 * Everything Aerospike-side and both connectors run on one ak_loop in the
 * calling thread; kafka-dev (librdkafka's mock cluster), the librdkafka
 * clients and the inbound processing threads run threads of their own.
 * SIGINT and SIGTERM are blocked in the calling thread before any thread
 * starts and stop the run cleanly.
 */
#ifndef AK_DEMO_H
#define AK_DEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/ak_error.h"

#define AK_DEMO_DEFAULT_RECORDS 2000
#define AK_DEMO_MAX_RECORDS 1000000

typedef enum ak_demo_progress {
    AK_DEMO_PROGRESS_AUTO = 0, /* a live line when out is a terminal, else plain lines */
    AK_DEMO_PROGRESS_LIVE,     /* one line rewritten in place (\r) */
    AK_DEMO_PROGRESS_LINES,    /* a plain line every second */
} ak_demo_progress_t;

typedef struct ak_demo_options {
    uint32_t records;          /* records written; 0 = AK_DEMO_DEFAULT_RECORDS */
    uint32_t show_messages;    /* Kafka messages printed in flat-json (writes, an update, a delete) */
    bool quiet;                /* only the summary: no progress, no messages */
    bool verbose;              /* the connectors' own log lines (info) on stderr */
    ak_demo_progress_t progress;
    uint32_t timeout_ms;       /* for the round trip after the last change; 0 = 30000 */
    FILE *out;                 /* NULL = stdout */
} ak_demo_options_t;

typedef struct ak_demo_summary {
    /* Made through the client on `source`. */
    uint64_t writes, updates, deletes;
    uint64_t client_errors;    /* changes the client could not make */
    /* XDR: notifications aerospike-dev shipped and the outbound acknowledged. */
    uint64_t shipped;
    uint64_t ship_retries;
    /* The outbound connector. */
    uint64_t published;        /* records in Kafka (delivery reports) */
    uint64_t outbound_errors;  /* parse, format and Kafka errors */
    /* Kafka, as a separate consumer group sees it. */
    uint64_t seen_changes, seen_deletes;
    /* The inbound connector. */
    uint64_t written_back;     /* writes to `sink` Aerospike acknowledged */
    uint64_t deleted_back;     /* deletes applied to `sink` */
    uint64_t inbound_invalid;
    /* Verification: every record compared on both clusters. */
    uint64_t verified_equal;   /* present in both, every bin equal */
    uint64_t verified_deleted; /* absent from both */
    uint64_t lost;             /* anything else: missing, different, or not deleted */
    double start_s;            /* bringing the stack up */
    double changes_s;          /* making changes: the writing, updating and deleting phases */
    double round_trip_s;       /* first change to the last record written back (the wait before
                                  the deletes included) */
    double total_s;
    bool interrupted;          /* SIGINT / SIGTERM */
} ak_demo_summary_t;

/* Runs the demo and prints as it goes. AK_OK when the run took place (the
 * summary says whether every record made the round trip: lost == 0 and not
 * interrupted); an error (with err naming what could not start or what
 * failed on the way) otherwise. */
ak_status_t ak_demo_run(const ak_demo_options_t *opts, ak_demo_summary_t *summary, ak_error_t *err);

#endif
