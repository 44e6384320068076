/*
 * ak_xdr_load: a synthetic XDR shipper for load tests and benchmarks.
 *
 * Generates `records` change notifications, deterministic for a seed, and
 * ships them with ak_xdr_ship under XDR's rules: a retry-class answer, a
 * timeout or a dropped connection re-sends the record (until it is
 * acknowledged or abandoned, or the run ends), an abandon-class answer
 * drops it.
 *
 * Records: integer user key = record index, digest computed from it, info1
 * XDR bit, a generation, LUT = now, a TTL, and `bins` bins whose particle
 * types cycle through every type (int, double, string, blob, bool, list,
 * map, geojson, hll and the language blobs), each value about value_size
 * bytes where the type allows. delete_percent of them are deletes (no bins).
 *
 * To keep the hot path free of allocation, a few hundred records are encoded
 * once as templates; each notification copies one and patches its key,
 * digest, generation and LUT in place.
 */
#ifndef AK_XDR_LOAD_H
#define AK_XDR_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "dev/ak_xdr_ship.h"

typedef struct ak_xdr_load_options {
    const char *const *destinations; /* "host:port" each */
    size_t n_destinations;
    ak_xdr_protocol_t protocol;
    uint64_t records;          /* default: none (0 records) */
    uint64_t rate;             /* records/s on the wire, retries included; 0 = unlimited */
    int connections;           /* per destination; 0 = 1 */
    int in_flight;             /* per connection; 0 = 64 */
    uint32_t bins;             /* per written record */
    uint32_t value_size;       /* bytes per value, about */
    uint32_t delete_percent;   /* 0..100 */
    uint64_t seed;
    const char *ns;            /* NULL = "test" */
    const char *set;           /* NULL = "xdr-load"; "" = no set */
    uint32_t timeout_ms;       /* per notification; 0 = 10000 */
    uint32_t max_retries;      /* per record, then given up; 0 = unlimited */
    uint32_t time_limit_ms;    /* stop after this; 0 = run until every record is resolved */
    const char *http_path;     /* NULL = "/" */
    /* Polled every 100 ms; when it becomes non-zero the run stops (a
     * SIGINT handler sets it). May be NULL. */
    const volatile sig_atomic_t *stop_flag;
} ak_xdr_load_options_t;

typedef struct ak_xdr_load_summary {
    uint64_t records;
    uint64_t shipped;      /* notifications sent, retries included */
    uint64_t acknowledged; /* records acknowledged */
    uint64_t retried;      /* retry outcomes (answers, timeouts, dropped connections) */
    uint64_t abandoned;    /* records answered with an abandon-class code */
    uint64_t gave_up;      /* records retried max_retries times */
    uint64_t timeouts;
    uint64_t unresolved;   /* records neither acknowledged, abandoned nor given up at the end */
    uint64_t deletes;      /* records that are deletes */
    uint64_t connects;
    uint64_t connect_failures;
    double elapsed_s;
    double throughput;     /* acknowledged per second */
    uint64_t p50_us, p99_us, p999_us, max_us; /* send -> acknowledgement */
    bool stopped_early;    /* time limit, stop flag, or nothing reachable */
    bool unreachable;      /* no connection could be made within timeout_ms */
} ak_xdr_load_summary_t;

/* Runs a whole load on a loop of its own, in the calling thread. Returns
 * AK_OK when the run took place (see summary for how it went), or an error
 * for options that cannot work. */
ak_status_t ak_xdr_load_run(const ak_xdr_load_options_t *opts, ak_xdr_load_summary_t *summary,
                            ak_error_t *err);

/* True when every record was acknowledged or abandoned. */
/* Appends the frames xdr-load would ship for records first..first+count-1
 * with these options (same seed, same records), without shipping them:
 * for benchmarks that need the identical payloads. */
ak_status_t ak_xdr_load_frames(const ak_xdr_load_options_t *opts, uint64_t first, size_t count,
                               ak_buf_t *out, ak_error_t *err);

bool ak_xdr_load_complete(const ak_xdr_load_summary_t *summary);

#endif
