/*
 * ak_loop: a single-threaded epoll event loop with timers and a thread-safe
 * wake-up queue.
 *
 * Everything registered with a loop runs on the loop's thread. Other threads
 * talk to it only through ak_loop_post (a function run on the loop thread,
 * carried by an eventfd wake-up) and ak_loop_stop.
 */
#ifndef AK_LOOP_H
#define AK_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/ak_error.h"

typedef struct ak_loop ak_loop_t;

enum {
    AK_IO_READ = 0x01,
    AK_IO_WRITE = 0x02,
};

typedef struct ak_io ak_io_t;
/* events: AK_IO_READ / AK_IO_WRITE that are ready; errors and hang-ups are
 * reported as READ so the callback sees them from read(). */
typedef void (*ak_io_cb)(ak_loop_t *loop, ak_io_t *io, unsigned events);

/* Owned by the caller (usually embedded in a connection). Keep it alive
 * until ak_loop_io_stop has been called. */
struct ak_io {
    int fd;
    unsigned events;
    ak_io_cb cb;
    void *data;
    bool active;
};

typedef void (*ak_loop_fn)(ak_loop_t *loop, void *arg);

ak_loop_t *ak_loop_new(ak_error_t *err);
/* Runs tasks still deferred (frees of closed objects), then frees the loop;
 * posted tasks and timers that never ran are dropped. */
void ak_loop_free(ak_loop_t *loop);

/* Runs until ak_loop_stop. Returns AK_OK, or AK_ERR_IO if epoll fails. */
ak_status_t ak_loop_run(ak_loop_t *loop);
/* Thread-safe. */
void ak_loop_stop(ak_loop_t *loop);

void ak_io_init(ak_io_t *io, int fd, ak_io_cb cb, void *data);
ak_status_t ak_loop_io_start(ak_loop_t *loop, ak_io_t *io, unsigned events, ak_error_t *err);
/* Changes the watched events of a started io (0 watches nothing). */
void ak_loop_io_set(ak_loop_t *loop, ak_io_t *io, unsigned events);
void ak_loop_io_stop(ak_loop_t *loop, ak_io_t *io);

/* Runs fn(loop, arg) once after delay_ms. Returns an id for cancel (never 0). */
uint64_t ak_loop_timer(ak_loop_t *loop, uint64_t delay_ms, ak_loop_fn fn, void *arg);
void ak_loop_timer_cancel(ak_loop_t *loop, uint64_t id);

/* Thread-safe: runs fn(loop, arg) on the loop thread soon. Returns false if
 * out of memory. */
bool ak_loop_post(ak_loop_t *loop, ak_loop_fn fn, void *arg);

/* Runs fn(loop, arg) after the current batch of events: the safe place to
 * free an object whose io may still have events pending in this batch. */
bool ak_loop_defer(ak_loop_t *loop, ak_loop_fn fn, void *arg);

/* Monotonic milliseconds, refreshed once per loop iteration. */
uint64_t ak_loop_now_ms(const ak_loop_t *loop);
/* The same instant in microseconds: one clock read per iteration serves
 * every event of the batch (hot paths stamp requests with it). */
uint64_t ak_loop_now_us(const ak_loop_t *loop);
/* Monotonic clock read now. */
uint64_t ak_clock_ms(void);
uint64_t ak_clock_us(void);

#endif
