#include "inbound/ak_key_order.h"

#include <stdlib.h>
#include <string.h>

#define AK_KEY_ORDER_NONE UINT32_MAX
#define AK_KEY_ORDER_MAX_CAPACITY ((size_t)1 << 30)

/* A busy key and the FIFO of items waiting behind it (indices into the
 * node pool). */
typedef struct ak_key_order_slot {
    uint8_t digest[AK_DIGEST_SIZE];
    bool used;
    uint32_t head;
    uint32_t tail;
} ak_key_order_slot_t;

typedef struct ak_key_order_node {
    void *item;
    uint32_t next;
} ak_key_order_node_t;

/* The table starts this small and doubles as busy keys grow: a table sized
 * for every record that may be held (megabytes) made each lookup a cache
 * miss, while the keys actually busy at once are usually a few thousand. */
#define AK_KEY_ORDER_FIRST_SLOTS ((size_t)8192)

struct ak_key_order {
    ak_key_order_slot_t *slots;
    size_t mask;             /* slot count - 1; slot count is a power of two */
    size_t max_slots;        /* twice the capacity: at most half the slots are used */
    ak_key_order_node_t *nodes;
    uint32_t free_node;      /* head of the free node list */
    size_t capacity;
    size_t busy;
    size_t queued;
};

ak_key_order_t *ak_key_order_new(size_t capacity, ak_error_t *err)
{
    if (capacity == 0 || capacity > AK_KEY_ORDER_MAX_CAPACITY) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "key order: capacity %zu is outside 1..%zu", capacity,
                     AK_KEY_ORDER_MAX_CAPACITY);
        return NULL;
    }
    ak_key_order_t *order = calloc(1, sizeof *order);
    /* At most half the slots are used, which keeps linear probes short. */
    size_t max_slots = 2;
    while (max_slots < 2 * capacity)
        max_slots *= 2;
    size_t slots = max_slots < AK_KEY_ORDER_FIRST_SLOTS ? max_slots : AK_KEY_ORDER_FIRST_SLOTS;
    if (order) {
        order->max_slots = max_slots;
        order->slots = calloc(slots, sizeof *order->slots);
        order->nodes = calloc(capacity, sizeof *order->nodes);
    }
    if (!order || !order->slots || !order->nodes) {
        ak_key_order_free(order);
        ak_error_set(err, AK_ERR_NOMEM, "key order: no memory for %zu records", capacity);
        return NULL;
    }
    order->mask = slots - 1;
    order->capacity = capacity;
    for (size_t i = 0; i < capacity; i++)
        order->nodes[i].next = i + 1 < capacity ? (uint32_t)(i + 1) : AK_KEY_ORDER_NONE;
    order->free_node = 0;
    return order;
}

void ak_key_order_free(ak_key_order_t *order)
{
    if (!order)
        return;
    free(order->slots);
    free(order->nodes);
    free(order);
}

/* The digest is RIPEMD-160 output, so any 8 of its bytes are already a
 * uniform hash; the multiply only spreads them over the low bits. Bytes 8..15
 * are used because Aerospike's partition id comes from the first ones. */
static size_t ak_key_order_home(const ak_key_order_t *order, const uint8_t digest[AK_DIGEST_SIZE])
{
    uint64_t h;
    memcpy(&h, digest + 8, sizeof h);
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & order->mask;
}

/* The slot holding digest, or the empty slot where it would go. */
static size_t ak_key_order_find(const ak_key_order_t *order, const uint8_t digest[AK_DIGEST_SIZE])
{
    size_t i = ak_key_order_home(order, digest);
    while (order->slots[i].used && memcmp(order->slots[i].digest, digest, AK_DIGEST_SIZE) != 0)
        i = (i + 1) & order->mask;
    return i;
}

/* Doubles the table, re-placing every busy key. On failure the table
 * stays as it is: it still has free slots, only probes get longer. */
static void ak_key_order_grow(ak_key_order_t *order)
{
    size_t old_slots = order->mask + 1, slots = old_slots * 2;
    ak_key_order_slot_t *fresh = calloc(slots, sizeof *fresh);
    if (!fresh)
        return;
    ak_key_order_slot_t *old = order->slots;
    order->slots = fresh;
    order->mask = slots - 1;
    for (size_t i = 0; i < old_slots; i++) {
        if (!old[i].used)
            continue;
        size_t j = ak_key_order_home(order, old[i].digest);
        while (fresh[j].used)
            j = (j + 1) & order->mask;
        fresh[j] = old[i];
    }
    free(old);
}

ak_key_order_result_t ak_key_order_try_acquire(ak_key_order_t *order,
                                               const uint8_t digest[AK_DIGEST_SIZE], void *item)
{
    if (order->busy + order->queued >= order->capacity)
        return AK_KEY_ORDER_FULL;
    if (2 * (order->busy + 1) > order->mask + 1 && order->mask + 1 < order->max_slots)
        ak_key_order_grow(order);
    size_t i = ak_key_order_find(order, digest);
    ak_key_order_slot_t *slot = &order->slots[i];
    if (!slot->used) {
        memcpy(slot->digest, digest, AK_DIGEST_SIZE);
        slot->used = true;
        slot->head = slot->tail = AK_KEY_ORDER_NONE;
        order->busy++;
        return AK_KEY_ORDER_ACQUIRED;
    }
    /* busy + queued < capacity guarantees a free node. */
    uint32_t n = order->free_node;
    order->free_node = order->nodes[n].next;
    order->nodes[n].item = item;
    order->nodes[n].next = AK_KEY_ORDER_NONE;
    if (slot->tail == AK_KEY_ORDER_NONE)
        slot->head = n;
    else
        order->nodes[slot->tail].next = n;
    slot->tail = n;
    order->queued++;
    return AK_KEY_ORDER_QUEUED;
}

/* Empties slot i without tombstones: later entries of the same probe run
 * move back into the hole (backward-shift deletion), so lookups stay short
 * however long the gate runs. */
static void ak_key_order_remove_at(ak_key_order_t *order, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & order->mask;
        if (!order->slots[j].used)
            break;
        size_t home = ak_key_order_home(order, order->slots[j].digest);
        /* Entry j may fill hole i unless its home lies cyclically in (i, j]. */
        bool home_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!home_between) {
            order->slots[i] = order->slots[j];
            i = j;
        }
    }
    order->slots[i].used = false;
}

bool ak_key_order_release(ak_key_order_t *order, const uint8_t digest[AK_DIGEST_SIZE], void **next)
{
    size_t i = ak_key_order_find(order, digest);
    ak_key_order_slot_t *slot = &order->slots[i];
    if (!slot->used)
        return false;
    if (slot->head != AK_KEY_ORDER_NONE) {
        uint32_t n = slot->head;
        *next = order->nodes[n].item;
        slot->head = order->nodes[n].next;
        if (slot->head == AK_KEY_ORDER_NONE)
            slot->tail = AK_KEY_ORDER_NONE;
        order->nodes[n].item = NULL;
        order->nodes[n].next = order->free_node;
        order->free_node = n;
        order->queued--;
        return true;
    }
    ak_key_order_remove_at(order, i);
    order->busy--;
    return false;
}

bool ak_key_order_busy(const ak_key_order_t *order, const uint8_t digest[AK_DIGEST_SIZE])
{
    return order->slots[ak_key_order_find(order, digest)].used;
}

size_t ak_key_order_busy_keys(const ak_key_order_t *order)
{
    return order->busy;
}

size_t ak_key_order_queued(const ak_key_order_t *order)
{
    return order->queued;
}
