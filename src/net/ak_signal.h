/*
 * ak_signal: stop an event loop on SIGINT / SIGTERM through a signalfd, so
 * the shutdown runs on the loop thread like everything else.
 */
#ifndef AK_SIGNAL_H
#define AK_SIGNAL_H

#include "common/ak_error.h"
#include "net/ak_loop.h"

typedef struct ak_signal_watch ak_signal_watch_t;

/* Blocks SIGINT and SIGTERM in the calling thread (call before starting
 * other threads, so they inherit the mask) and stops loop when one arrives. */
ak_signal_watch_t *ak_signal_watch_stop(ak_loop_t *loop, ak_error_t *err);
/* The signal that stopped the loop, or 0. */
int ak_signal_watch_received(const ak_signal_watch_t *watch);
void ak_signal_watch_free(ak_loop_t *loop, ak_signal_watch_t *watch);

#endif
