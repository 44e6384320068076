/*
 * ak_asd_store: aerospike-dev's in-memory records.
 *
 * One store holds every namespace of a dev cluster; records are keyed by
 * digest and hold their bins as wire particles (type + bytes), so reads copy
 * bytes straight into replies and writes decode only what they modify.
 * Times follow the server: void time in seconds and last-update time in
 * milliseconds, both since 2010-01-01.
 *
 * Used from the dev cluster's loop thread only.
 */
#ifndef AK_ASD_STORE_H
#define AK_ASD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/ak_digest.h"
#include "wire/ak_msg.h"

typedef struct ak_asd_bin {
    char name[AK_BIN_NAME_MAX + 1];
    uint8_t name_len;
    uint8_t particle_type;
    uint32_t len;
    uint8_t *data; /* malloc'd, owned by the bin; NULL when len == 0 */
} ak_asd_bin_t;

typedef struct ak_asd_record {
    struct ak_asd_record *next; /* hash chain */
    uint8_t digest[AK_DIGEST_SIZE];
    uint16_t generation;        /* 16 bits on the server, wraps to 1 */
    uint32_t void_time;         /* seconds since 2010; 0 = never expires */
    uint64_t lut_ms;            /* ms since 2010 */
    char set[AK_SET_MAX + 1];
    uint8_t set_len;
    bool has_key;
    uint8_t key_type;
    uint32_t key_len;
    uint8_t *key;               /* malloc'd */
    ak_asd_bin_t *bins;         /* malloc'd array */
    uint16_t n_bins;
} ak_asd_record_t;

typedef struct ak_asd_namespace ak_asd_namespace_t;

/* Told about a record just before expiry removes it (for XDR's
 * ship-nsup-deletes), whether the periodic pass or a read found it. */
typedef void (*ak_asd_expire_fn)(void *ctx, const ak_asd_namespace_t *ns, const ak_asd_record_t *rec);

struct ak_asd_namespace {
    char name[AK_NAMESPACE_MAX + 1];
    uint32_t default_ttl;      /* seconds; 0 = never expire */
    uint32_t max_record_bytes; /* larger records fail with RECORD_TOO_BIG */
    ak_asd_record_t **buckets;
    size_t n_buckets;
    size_t n_records;
    /* No record expires before this void time (0: none expires), so the
     * periodic expiry pass skips namespaces with nothing due instead of
     * walking every record each second (which stalled every request while
     * a million records were walked). */
    uint32_t next_expiry;
    ak_asd_expire_fn on_expire; /* optional */
    void *expire_ctx;
};

typedef struct ak_asd_store {
    ak_asd_namespace_t *namespaces;
    size_t n_namespaces;
} ak_asd_store_t;

bool ak_asd_store_init(ak_asd_store_t *store, const char *const *namespaces, size_t count);
void ak_asd_store_free(ak_asd_store_t *store);
ak_asd_namespace_t *ak_asd_store_namespace(ak_asd_store_t *store, const char *name, size_t len);

/* Finds a record. An expired one is removed (after on_expire) and not
 * returned. */
ak_asd_record_t *ak_asd_ns_get(ak_asd_namespace_t *ns, const uint8_t digest[AK_DIGEST_SIZE],
                               uint32_t now_void_time);
/* Inserts rec (which must not be present); takes ownership. */
bool ak_asd_ns_insert(ak_asd_namespace_t *ns, ak_asd_record_t *rec);
/* Unlinks and frees the record with this digest; false if absent. */
bool ak_asd_ns_remove(ak_asd_namespace_t *ns, const uint8_t digest[AK_DIGEST_SIZE]);
/* Removes every record whose void time has passed (after on_expire). */
size_t ak_asd_ns_expire(ak_asd_namespace_t *ns, uint32_t now_void_time);

void ak_asd_record_free(ak_asd_record_t *rec);
/* Deep copy (bins, key); NULL when out of memory. */
ak_asd_record_t *ak_asd_record_clone(const ak_asd_record_t *rec);
/* Swaps the contents of two records but keeps each one's hash link. */
void ak_asd_record_swap_contents(ak_asd_record_t *a, ak_asd_record_t *b);

ak_asd_bin_t *ak_asd_record_bin(ak_asd_record_t *rec, const uint8_t *name, size_t name_len);
/* Sets (copying data) or adds a bin; false when out of memory. */
bool ak_asd_record_set_bin(ak_asd_record_t *rec, const uint8_t *name, size_t name_len,
                           uint8_t particle_type, const uint8_t *data, size_t len);
void ak_asd_record_remove_bin(ak_asd_record_t *rec, const uint8_t *name, size_t name_len);
void ak_asd_record_clear_bins(ak_asd_record_t *rec);
/* Bytes the record takes as the server would count them (roughly: bins,
 * names and a fixed overhead). */
size_t ak_asd_record_size(const ak_asd_record_t *rec);

/* Seconds since 2010 now, and ms since 2010 now. */
uint32_t ak_asd_now_void_time(void);
uint64_t ak_asd_now_lut_ms(void);

#endif
