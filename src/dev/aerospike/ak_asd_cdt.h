/*
 * ak_asd_cdt: the list and map operations aerospike-dev supports inside
 * operate (op types 3 CDT_READ and 4 CDT_MODIFY).
 *
 * Payload: a MessagePack array [command, args...]. Supported: list
 * set-type, append, append-items, insert, insert-items, pop, remove, set,
 * clear, size, get, get-range, get-by-index; map set-type, add, put,
 * put-items, replace, increment, clear, remove-by-key, size, get-by-key.
 * Context paths ([0xff, ctx, [command...]]) answer PARAMETER.
 */
#ifndef AK_ASD_CDT_H
#define AK_ASD_CDT_H

#include <stdbool.h>

#include "common/ak_arena.h"
#include "dev/aerospike/ak_asd_store.h"
#include "wire/ak_msg.h"
#include "wire/ak_value.h"

/* Applies one CDT op to rec's bin named by op. Returns an Aerospike result
 * code (0 on success). On success *has_result tells whether *result holds
 * a value to return for this op. Values live in arena. */
int ak_asd_cdt_apply(ak_asd_record_t *rec, const ak_msg_op_t *op, ak_arena_t *arena,
                     ak_value_t *result, bool *has_result);

#endif
