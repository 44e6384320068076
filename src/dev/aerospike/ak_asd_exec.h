/*
 * ak_asd_exec: executes single-record commands and batch reads against the
 * aerospike-dev store and builds the replies, with the server's semantics:
 * record-exists actions, generation policies, TTL and void time, send-key,
 * bin name and record size limits, and the result codes the server gives.
 */
#ifndef AK_ASD_EXEC_H
#define AK_ASD_EXEC_H

#include <stdint.h>

#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "dev/aerospike/ak_asd_store.h"
#include "wire/ak_msg.h"

typedef enum ak_asd_change {
    AK_ASD_CHANGE_WRITE,          /* created, updated or touched */
    AK_ASD_CHANGE_DELETE,
    AK_ASD_CHANGE_DURABLE_DELETE,
    AK_ASD_CHANGE_EXPIRE,         /* removed by expiry (nsup) */
} ak_asd_change_t;

/* Called after every successful change. For deletes `rec` is the record as
 * it was (set and stored key still readable); for writes the record now. */
typedef void (*ak_asd_change_fn)(void *ctx, const ak_asd_namespace_t *ns,
                                 const ak_asd_record_t *rec, ak_asd_change_t change);

typedef struct ak_asd_exec {
    ak_asd_store_t *store;
    ak_asd_change_fn on_change;
    void *change_ctx;
} ak_asd_exec_t;

/* Executes the AS_MSG in msg and appends the complete reply frame(s) to
 * reply. Returns the result code of the (last) reply. */
int ak_asd_exec_message(ak_asd_exec_t *exec, const ak_msg_t *msg, ak_arena_t *arena,
                        ak_buf_t *reply);

/* Appends a reply carrying only a result code. */
void ak_asd_reply_code(ak_buf_t *reply, int result_code);

#endif
