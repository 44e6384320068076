/*
 * ak_bin_transform: the `bin-transforms` section applied to a record
 * (spec outbound.md §2.6).
 *
 * Order: a bin is dropped when `exclude` names it (exclude wins) or
 * `include` does not; a kept bin named in `map` gets its new name and skips
 * `transforms`; other bins run through `transforms` (uppercase, lowercase;
 * ASCII letters only) in order. Include, exclude and map match the original
 * name.
 *
 * Two bins that end with the same name are an error naming both: the record
 * cannot be represented without silently dropping one of them, and Kafka
 * consumers would not know which one they see. The pipeline treats it as a
 * record that cannot be formatted (skipped and counted).
 */
#ifndef AK_BIN_TRANSFORM_H
#define AK_BIN_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "common/ak_arena.h"
#include "common/ak_config.h"
#include "common/ak_error.h"
#include "wire/ak_record.h"

typedef enum ak_bin_filter_type {
    AK_BIN_FILTER_ALL = 0,
    AK_BIN_FILTER_NONE,
    AK_BIN_FILTER_SPECIFIED,
} ak_bin_filter_type_t;

typedef struct ak_bin_filter {
    ak_bin_filter_type_t type;
    ak_config_strings_t bins; /* SPECIFIED */
} ak_bin_filter_t;

typedef enum ak_bin_name_transform {
    AK_BIN_NAME_UPPERCASE = 0,
    AK_BIN_NAME_LOWERCASE,
} ak_bin_name_transform_t;

typedef struct ak_bin_transforms {
    ak_bin_filter_t include;       /* default all */
    ak_bin_filter_t exclude;       /* default none */
    ak_config_pairs_t map;         /* old name -> new name */
    ak_bin_name_transform_t *transforms;
    size_t n_transforms;
    bool identity;                 /* nothing to do: computed at load */
} ak_bin_transforms_t;

/* Fills out with in's bins after bt. Everything but the bins array (and
 * renamed names) is shared with in; the new array and names live in arena.
 * A NULL or identity bt copies in without allocating. A collision fails with
 * AK_ERR_INVALID_ARG: "bin-transforms: bins 'a' and 'A' both become 'A'". */
ak_status_t ak_bin_transform_apply(const ak_bin_transforms_t *bt, const ak_record_t *in,
                                   ak_arena_t *arena, ak_record_t *out, ak_error_t *err);

/* Recomputes bt->identity. The loader calls it. */
void ak_bin_transforms_finish(ak_bin_transforms_t *bt);

#endif
