#include "dev/aerospike/ak_asd_store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire/ak_record.h"

#define AK_ASD_INITIAL_BUCKETS 1024
#define AK_ASD_DEFAULT_MAX_RECORD (1024 * 1024)

uint32_t ak_asd_now_void_time(void)
{
    return (uint32_t)((long long)time(NULL) - AK_CITRUSLEAF_EPOCH_SECONDS);
}

uint64_t ak_asd_now_lut_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t unix_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return unix_ms - (uint64_t)AK_CITRUSLEAF_EPOCH_MS;
}

bool ak_asd_store_init(ak_asd_store_t *store, const char *const *namespaces, size_t count)
{
    memset(store, 0, sizeof *store);
    store->namespaces = calloc(count ? count : 1, sizeof *store->namespaces);
    if (!store->namespaces)
        return false;
    for (size_t i = 0; i < count; i++) {
        ak_asd_namespace_t *ns = &store->namespaces[i];
        size_t len = strlen(namespaces[i]);
        if (len == 0 || len > AK_NAMESPACE_MAX) {
            ak_asd_store_free(store);
            return false;
        }
        memcpy(ns->name, namespaces[i], len + 1);
        ns->max_record_bytes = AK_ASD_DEFAULT_MAX_RECORD;
        ns->buckets = calloc(AK_ASD_INITIAL_BUCKETS, sizeof *ns->buckets);
        ns->n_buckets = AK_ASD_INITIAL_BUCKETS;
        store->n_namespaces++;
        if (!ns->buckets) {
            ak_asd_store_free(store);
            return false;
        }
    }
    return true;
}

void ak_asd_record_free(ak_asd_record_t *rec)
{
    if (!rec)
        return;
    for (uint16_t i = 0; i < rec->n_bins; i++)
        free(rec->bins[i].data);
    free(rec->bins);
    free(rec->key);
    free(rec);
}

void ak_asd_store_free(ak_asd_store_t *store)
{
    for (size_t i = 0; i < store->n_namespaces; i++) {
        ak_asd_namespace_t *ns = &store->namespaces[i];
        for (size_t b = 0; b < ns->n_buckets; b++) {
            ak_asd_record_t *rec = ns->buckets[b];
            while (rec) {
                ak_asd_record_t *next = rec->next;
                ak_asd_record_free(rec);
                rec = next;
            }
        }
        free(ns->buckets);
    }
    free(store->namespaces);
    memset(store, 0, sizeof *store);
}

ak_asd_namespace_t *ak_asd_store_namespace(ak_asd_store_t *store, const char *name, size_t len)
{
    for (size_t i = 0; i < store->n_namespaces; i++)
        if (strlen(store->namespaces[i].name) == len && memcmp(store->namespaces[i].name, name, len) == 0)
            return &store->namespaces[i];
    return NULL;
}

/* Digests are uniformly random: their bytes 8..15 make a good hash. */
static size_t ak_asd_bucket(const ak_asd_namespace_t *ns, const uint8_t digest[AK_DIGEST_SIZE])
{
    uint64_t h;
    memcpy(&h, digest + 8, sizeof h);
    return (size_t)(h & (ns->n_buckets - 1));
}

static bool ak_asd_record_expired(const ak_asd_record_t *rec, uint32_t now)
{
    return rec->void_time != 0 && rec->void_time <= now;
}

ak_asd_record_t *ak_asd_ns_get(ak_asd_namespace_t *ns, const uint8_t digest[AK_DIGEST_SIZE],
                               uint32_t now_void_time)
{
    ak_asd_record_t **link = &ns->buckets[ak_asd_bucket(ns, digest)];
    while (*link) {
        ak_asd_record_t *rec = *link;
        if (memcmp(rec->digest, digest, AK_DIGEST_SIZE) == 0) {
            if (ak_asd_record_expired(rec, now_void_time)) {
                if (ns->on_expire)
                    ns->on_expire(ns->expire_ctx, ns, rec);
                *link = rec->next;
                ak_asd_record_free(rec);
                ns->n_records--;
                return NULL;
            }
            return rec;
        }
        link = &rec->next;
    }
    return NULL;
}

static void ak_asd_ns_grow(ak_asd_namespace_t *ns)
{
    size_t n = ns->n_buckets * 2;
    ak_asd_record_t **buckets = calloc(n, sizeof *buckets);
    if (!buckets)
        return; /* keep the current table; chains just get longer */
    size_t old_n = ns->n_buckets;
    ak_asd_record_t **old = ns->buckets;
    ns->buckets = buckets;
    ns->n_buckets = n;
    for (size_t b = 0; b < old_n; b++) {
        ak_asd_record_t *rec = old[b];
        while (rec) {
            ak_asd_record_t *next = rec->next;
            size_t i = ak_asd_bucket(ns, rec->digest);
            rec->next = buckets[i];
            buckets[i] = rec;
            rec = next;
        }
    }
    free(old);
}

bool ak_asd_ns_insert(ak_asd_namespace_t *ns, ak_asd_record_t *rec)
{
    if (ns->n_records >= ns->n_buckets)
        ak_asd_ns_grow(ns);
    size_t i = ak_asd_bucket(ns, rec->digest);
    rec->next = ns->buckets[i];
    ns->buckets[i] = rec;
    ns->n_records++;
    if (rec->void_time && (ns->next_expiry == 0 || rec->void_time < ns->next_expiry))
        ns->next_expiry = rec->void_time;
    return true;
}

bool ak_asd_ns_remove(ak_asd_namespace_t *ns, const uint8_t digest[AK_DIGEST_SIZE])
{
    ak_asd_record_t **link = &ns->buckets[ak_asd_bucket(ns, digest)];
    while (*link) {
        ak_asd_record_t *rec = *link;
        if (memcmp(rec->digest, digest, AK_DIGEST_SIZE) == 0) {
            *link = rec->next;
            ak_asd_record_free(rec);
            ns->n_records--;
            return true;
        }
        link = &rec->next;
    }
    return false;
}

size_t ak_asd_ns_expire(ak_asd_namespace_t *ns, uint32_t now_void_time)
{
    size_t expired = 0;
    if (ns->next_expiry == 0 || now_void_time < ns->next_expiry)
        return 0;
    uint32_t next = 0;
    for (size_t b = 0; b < ns->n_buckets; b++) {
        ak_asd_record_t **link = &ns->buckets[b];
        while (*link) {
            ak_asd_record_t *rec = *link;
            if (ak_asd_record_expired(rec, now_void_time)) {
                if (ns->on_expire)
                    ns->on_expire(ns->expire_ctx, ns, rec);
                *link = rec->next;
                ak_asd_record_free(rec);
                ns->n_records--;
                expired++;
            } else {
                if (rec->void_time && (next == 0 || rec->void_time < next))
                    next = rec->void_time;
                link = &rec->next;
            }
        }
    }
    ns->next_expiry = next;
    return expired;
}

ak_asd_record_t *ak_asd_record_clone(const ak_asd_record_t *rec)
{
    ak_asd_record_t *copy = malloc(sizeof *copy);
    if (!copy)
        return NULL;
    *copy = *rec;
    copy->next = NULL;
    copy->key = NULL;
    copy->bins = NULL;
    copy->n_bins = 0;
    if (rec->has_key && rec->key_len) {
        copy->key = malloc(rec->key_len);
        if (!copy->key)
            goto fail;
        memcpy(copy->key, rec->key, rec->key_len);
    }
    if (rec->n_bins) {
        copy->bins = calloc(rec->n_bins, sizeof *copy->bins);
        if (!copy->bins)
            goto fail;
        for (uint16_t i = 0; i < rec->n_bins; i++) {
            copy->bins[i] = rec->bins[i];
            copy->bins[i].data = NULL;
            if (rec->bins[i].len) {
                copy->bins[i].data = malloc(rec->bins[i].len);
                if (!copy->bins[i].data)
                    goto fail;
                memcpy(copy->bins[i].data, rec->bins[i].data, rec->bins[i].len);
            }
            copy->n_bins = (uint16_t)(i + 1);
        }
    }
    return copy;
fail:
    ak_asd_record_free(copy);
    return NULL;
}

void ak_asd_record_swap_contents(ak_asd_record_t *a, ak_asd_record_t *b)
{
    ak_asd_record_t tmp = *a;
    ak_asd_record_t *a_next = a->next, *b_next = b->next;
    *a = *b;
    *b = tmp;
    a->next = a_next;
    b->next = b_next;
}

ak_asd_bin_t *ak_asd_record_bin(ak_asd_record_t *rec, const uint8_t *name, size_t name_len)
{
    for (uint16_t i = 0; i < rec->n_bins; i++)
        if (rec->bins[i].name_len == name_len && memcmp(rec->bins[i].name, name, name_len) == 0)
            return &rec->bins[i];
    return NULL;
}

bool ak_asd_record_set_bin(ak_asd_record_t *rec, const uint8_t *name, size_t name_len,
                           uint8_t particle_type, const uint8_t *data, size_t len)
{
    if (name_len > AK_BIN_NAME_MAX || len > UINT32_MAX)
        return false;
    uint8_t *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy)
            return false;
        memcpy(copy, data, len);
    }
    ak_asd_bin_t *bin = ak_asd_record_bin(rec, name, name_len);
    if (!bin) {
        if (rec->n_bins == UINT16_MAX) {
            free(copy);
            return false;
        }
        ak_asd_bin_t *bins = realloc(rec->bins, ((size_t)rec->n_bins + 1) * sizeof *bins);
        if (!bins) {
            free(copy);
            return false;
        }
        rec->bins = bins;
        bin = &bins[rec->n_bins++];
        memset(bin, 0, sizeof *bin);
        memcpy(bin->name, name, name_len);
        bin->name[name_len] = '\0';
        bin->name_len = (uint8_t)name_len;
    } else {
        free(bin->data);
    }
    bin->particle_type = particle_type;
    bin->data = copy;
    bin->len = (uint32_t)len;
    return true;
}

void ak_asd_record_remove_bin(ak_asd_record_t *rec, const uint8_t *name, size_t name_len)
{
    ak_asd_bin_t *bin = ak_asd_record_bin(rec, name, name_len);
    if (!bin)
        return;
    free(bin->data);
    size_t index = (size_t)(bin - rec->bins);
    memmove(bin, bin + 1, (rec->n_bins - index - 1) * sizeof *bin);
    rec->n_bins--;
}

void ak_asd_record_clear_bins(ak_asd_record_t *rec)
{
    for (uint16_t i = 0; i < rec->n_bins; i++)
        free(rec->bins[i].data);
    free(rec->bins);
    rec->bins = NULL;
    rec->n_bins = 0;
}

size_t ak_asd_record_size(const ak_asd_record_t *rec)
{
    size_t size = 64 + rec->key_len;
    for (uint16_t i = 0; i < rec->n_bins; i++)
        size += 8 + rec->bins[i].name_len + rec->bins[i].len;
    return size;
}
