/*
 * ak_key_order: the per-key ordering gate of the inbound connector.
 *
 * "Two records for the same Aerospike key are never in flight together; the
 * later one applies last." The runtime asks the gate before it issues a
 * write: if no write for that key (its 20-byte digest) is in flight, the key
 * is marked busy and the record may go; otherwise the record is queued
 * behind the busy key, in arrival order. When a write completes, release
 * hands back the next queued record for that key (to be issued now, the key
 * stays busy) or frees the key.
 *
 * Sized at creation for `capacity` records (the runtime's
 * max-queued-records): keys in flight and records waiting never exceed the
 * records the runtime holds. The waiting list is allocated at once; the key
 * table starts small and doubles when half of it is busy, up to what
 * capacity needs, so only a new high of busy keys allocates. Lookups are
 * O(1) on average (open addressing over the digest, which is already a
 * uniform hash).
 *
 * @locality not thread-safe: one gate per loop thread.
 */
#ifndef AK_KEY_ORDER_H
#define AK_KEY_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "wire/ak_digest.h"

typedef struct ak_key_order ak_key_order_t;

typedef enum ak_key_order_result {
    AK_KEY_ORDER_ACQUIRED, /* the key was free: it is now busy, issue the record */
    AK_KEY_ORDER_QUEUED,   /* the key is busy: item waits until release hands it back */
    AK_KEY_ORDER_FULL,     /* more records than capacity: nothing changed */
} ak_key_order_result_t;

/* capacity: the most records (busy keys plus queued items) the caller will
 * ever hold at once; 1..(1 << 30). */
ak_key_order_t *ak_key_order_new(size_t capacity, ak_error_t *err);
void ak_key_order_free(ak_key_order_t *order);

/* Marks digest busy (ACQUIRED) or queues item behind the write in flight for
 * it (QUEUED). item is the caller's and is only handed back by release. */
ak_key_order_result_t ak_key_order_try_acquire(ak_key_order_t *order,
                                               const uint8_t digest[AK_DIGEST_SIZE], void *item);

/* The write for digest completed. Returns true and sets *next to the oldest
 * queued item for that key, which the caller must issue now (the key stays
 * busy and needs another release when that write completes). Returns false
 * when nothing waited: the key is free again (also false, and nothing
 * changes, if the key was not busy). */
bool ak_key_order_release(ak_key_order_t *order, const uint8_t digest[AK_DIGEST_SIZE], void **next);

/* True while a write for digest is in flight. */
bool ak_key_order_busy(const ak_key_order_t *order, const uint8_t digest[AK_DIGEST_SIZE]);

/* Busy keys, and items queued behind them. */
size_t ak_key_order_busy_keys(const ak_key_order_t *order);
size_t ak_key_order_queued(const ak_key_order_t *order);

#endif
