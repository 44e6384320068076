#include "outbound/ak_bin_transform.h"

#include <stdlib.h>
#include <string.h>

void ak_bin_transforms_finish(ak_bin_transforms_t *bt)
{
    bt->identity = bt->include.type == AK_BIN_FILTER_ALL && bt->exclude.type == AK_BIN_FILTER_NONE &&
                   bt->map.n == 0 && bt->n_transforms == 0;
}

static bool ak_bin_filter_matches(const ak_bin_filter_t *filter, const ak_str_t *name)
{
    switch (filter->type) {
    case AK_BIN_FILTER_ALL: return true;
    case AK_BIN_FILTER_NONE: return false;
    case AK_BIN_FILTER_SPECIFIED: return ak_config_strings_contains(&filter->bins, name->data, name->len);
    }
    return false;
}

static const char *ak_bin_map_lookup(const ak_config_pairs_t *map, const ak_str_t *name)
{
    for (size_t i = 0; i < map->n; i++)
        if (strlen(map->items[i].name) == name->len &&
            memcmp(map->items[i].name, name->data, name->len) == 0)
            return map->items[i].value;
    return NULL;
}

static bool ak_str_eq(const ak_str_t *a, const ak_str_t *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

typedef struct ak_bin_ref {
    ak_str_t name;
    uint32_t original; /* index into in->bins */
} ak_bin_ref_t;

static int ak_bin_ref_cmp(const void *a, const void *b)
{
    const ak_bin_ref_t *x = a, *y = b;
    size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = n ? memcmp(x->name.data, y->name.data, n) : 0;
    if (c)
        return c;
    if (x->name.len != y->name.len)
        return x->name.len < y->name.len ? -1 : 1;
    return x->original < y->original ? -1 : x->original > y->original;
}

static ak_status_t ak_bin_collision(const ak_record_t *in, uint32_t a, uint32_t b,
                                    const ak_str_t *name, ak_error_t *err)
{
    return ak_error_set(err, AK_ERR_INVALID_ARG, "bin-transforms: bins '%.*s' and '%.*s' both become '%.*s'",
                        (int)in->bins[a].name.len, in->bins[a].name.data, (int)in->bins[b].name.len,
                        in->bins[b].name.data, (int)name->len, name->data);
}

/* Small records compare every pair; larger ones sort (n log n). */
static ak_status_t ak_bin_check_unique(const ak_record_t *in, ak_bin_t *bins, const uint32_t *origin,
                                       uint32_t n, ak_arena_t *arena, ak_error_t *err)
{
    if (n <= 16) {
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = i + 1; j < n; j++)
                if (ak_str_eq(&bins[i].name, &bins[j].name))
                    return ak_bin_collision(in, origin[i], origin[j], &bins[i].name, err);
        return AK_OK;
    }
    ak_bin_ref_t *refs = ak_arena_alloc_array(arena, n, sizeof *refs);
    if (!refs)
        return ak_error_set(err, AK_ERR_NOMEM, "bin-transforms: out of memory");
    for (uint32_t i = 0; i < n; i++) {
        refs[i].name = bins[i].name;
        refs[i].original = origin[i];
    }
    qsort(refs, n, sizeof *refs, ak_bin_ref_cmp);
    for (uint32_t i = 1; i < n; i++)
        if (ak_str_eq(&refs[i - 1].name, &refs[i].name))
            return ak_bin_collision(in, refs[i - 1].original, refs[i].original, &refs[i].name, err);
    return AK_OK;
}

ak_status_t ak_bin_transform_apply(const ak_bin_transforms_t *bt, const ak_record_t *in,
                                   ak_arena_t *arena, ak_record_t *out, ak_error_t *err)
{
    *out = *in;
    if (!bt || bt->identity || in->n_bins == 0)
        return AK_OK;
    ak_bin_t *bins = ak_arena_alloc_array(arena, in->n_bins, sizeof *bins);
    uint32_t *origin = ak_arena_alloc_array(arena, in->n_bins, sizeof *origin);
    if (!bins || !origin)
        return ak_error_set(err, AK_ERR_NOMEM, "bin-transforms: out of memory");
    uint32_t n = 0;
    for (uint32_t i = 0; i < in->n_bins; i++) {
        const ak_bin_t *bin = &in->bins[i];
        if (ak_bin_filter_matches(&bt->exclude, &bin->name) || !ak_bin_filter_matches(&bt->include, &bin->name))
            continue;
        ak_bin_t *dst = &bins[n];
        *dst = *bin;
        origin[n++] = i;
        const char *renamed = ak_bin_map_lookup(&bt->map, &bin->name);
        if (renamed) {
            dst->name.data = renamed; /* owned by the configuration, which outlives records */
            dst->name.len = strlen(renamed);
            continue;
        }
        if (bt->n_transforms == 0 || bin->name.len == 0)
            continue;
        char *name = ak_arena_strndup(arena, bin->name.data, bin->name.len);
        if (!name)
            return ak_error_set(err, AK_ERR_NOMEM, "bin-transforms: out of memory");
        for (size_t t = 0; t < bt->n_transforms; t++) {
            for (size_t c = 0; c < bin->name.len; c++) {
                char ch = name[c];
                if (bt->transforms[t] == AK_BIN_NAME_UPPERCASE && ch >= 'a' && ch <= 'z')
                    name[c] = (char)(ch - 'a' + 'A');
                else if (bt->transforms[t] == AK_BIN_NAME_LOWERCASE && ch >= 'A' && ch <= 'Z')
                    name[c] = (char)(ch - 'A' + 'a');
            }
        }
        dst->name.data = name;
    }
    ak_status_t st = ak_bin_check_unique(in, bins, origin, n, arena, err);
    if (st != AK_OK)
        return st;
    out->bins = bins;
    out->n_bins = n;
    return AK_OK;
}
