/*
 * ak_asd_xdr: aerospike-dev's XDR queue: records changes and ships each
 * record as it is at ship time through ak_xdr_ship.
 */
#ifndef AK_ASD_XDR_H
#define AK_ASD_XDR_H

#include "dev/aerospike/ak_asd_exec.h"
#include "dev/aerospike/ak_asd_store.h"
#include "dev/ak_xdr_ship.h"

typedef struct ak_asd_xdr ak_asd_xdr_t;

ak_asd_xdr_t *ak_asd_xdr_new(ak_loop_t *loop, ak_asd_store_t *store,
                             const ak_xdr_ship_options_t *ship_opts, size_t queue_limit,
                             ak_error_t *err);
void ak_asd_xdr_free(ak_asd_xdr_t *xdr);
/* An ak_asd_change_fn: queues the change for shipping. */
void ak_asd_xdr_on_change(void *ctx, const ak_asd_namespace_t *ns, const ak_asd_record_t *rec,
                          ak_asd_change_t change);
size_t ak_asd_xdr_queued(const ak_asd_xdr_t *xdr);
uint64_t ak_asd_xdr_dropped(const ak_asd_xdr_t *xdr);
void ak_asd_xdr_ship_stats(const ak_asd_xdr_t *xdr, ak_xdr_ship_stats_t *stats);

#endif
