#include "common/ak_histogram.h"

#include <string.h>

#define AK_SUB_COUNT (1u << AK_HISTOGRAM_SUB_BITS)

void ak_histogram_init(ak_histogram_t *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

/* Values below 32 map to themselves; above, the top bit picks the group and
 * the next five bits the sub-bucket. */
static unsigned ak_histogram_index(uint64_t v)
{
    if (v < AK_SUB_COUNT)
        return (unsigned)v;
    unsigned top = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = top - AK_HISTOGRAM_SUB_BITS;
    unsigned sub = (unsigned)(v >> shift) & (AK_SUB_COUNT - 1);
    return ((shift + 1) << AK_HISTOGRAM_SUB_BITS) + sub;
}

uint64_t ak_histogram_bucket_upper(unsigned i)
{
    if (i < AK_SUB_COUNT)
        return i;
    unsigned shift = (i >> AK_HISTOGRAM_SUB_BITS) - 1;
    uint64_t sub = i & (AK_SUB_COUNT - 1);
    uint64_t lower = (AK_SUB_COUNT + sub) << shift;
    return lower + ((uint64_t)1 << shift) - 1;
}

void ak_histogram_record(ak_histogram_t *h, uint64_t value)
{
    h->buckets[ak_histogram_index(value)]++;
    h->count++;
    h->sum += value;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

void ak_histogram_merge(ak_histogram_t *into, const ak_histogram_t *from)
{
    for (unsigned i = 0; i < AK_HISTOGRAM_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t ak_histogram_percentile(const ak_histogram_t *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p < 0)
        p = 0;
    if (p > 100)
        p = 100;
    uint64_t rank = (uint64_t)((p / 100.0) * (double)h->count + 0.5);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < AK_HISTOGRAM_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t upper = ak_histogram_bucket_upper(i);
            return upper > h->max ? h->max : upper;
        }
    }
    return h->max;
}
