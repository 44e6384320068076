/*
 * ak_histogram: a fixed-size log-linear histogram of microsecond (or any
 * non-negative integer) values, for latency percentiles and metrics.
 *
 * Each power of two is split into 32 linear sub-buckets, so a reported
 * percentile is within ~3% of the true value. Recording is O(1) and never
 * allocates. Not thread-safe: one writer, or merge per-thread copies.
 */
#ifndef AK_HISTOGRAM_H
#define AK_HISTOGRAM_H

#include <stdint.h>

#define AK_HISTOGRAM_SUB_BITS 5
#define AK_HISTOGRAM_BUCKETS ((64 - AK_HISTOGRAM_SUB_BITS + 1) << AK_HISTOGRAM_SUB_BITS)

typedef struct ak_histogram {
    uint64_t count;
    uint64_t sum;
    uint64_t min;
    uint64_t max;
    uint64_t buckets[AK_HISTOGRAM_BUCKETS];
} ak_histogram_t;

void ak_histogram_init(ak_histogram_t *h);
void ak_histogram_record(ak_histogram_t *h, uint64_t value);
void ak_histogram_merge(ak_histogram_t *into, const ak_histogram_t *from);
/* Value at percentile p (0..100): the upper edge of the bucket holding it,
 * clamped to the recorded max. 0 when empty. */
uint64_t ak_histogram_percentile(const ak_histogram_t *h, double p);
/* Upper edge (inclusive) of bucket i, for exporting bucket boundaries. */
uint64_t ak_histogram_bucket_upper(unsigned i);

#endif
