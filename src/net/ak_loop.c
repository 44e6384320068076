#include "net/ak_loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

typedef struct ak_loop_task {
    struct ak_loop_task *next;
    ak_loop_fn fn;
    void *arg;
} ak_loop_task_t;

typedef struct ak_loop_timer_entry {
    uint64_t due_ms;
    uint64_t id;
    ak_loop_fn fn;
    void *arg;
} ak_loop_timer_entry_t;

struct ak_loop {
    int epoll_fd;
    int wake_fd;
    volatile int stopping;
    uint64_t now_ms;
    uint64_t now_us;

    /* timers: a binary min-heap on due_ms; cancelled ones are removed in place */
    ak_loop_timer_entry_t *timers;
    size_t n_timers, cap_timers;
    uint64_t next_timer_id;

    /* posted from any thread */
    pthread_mutex_t post_lock;
    ak_loop_task_t *posted_head, *posted_tail;

    /* deferred to the end of the current batch (loop thread only) */
    ak_loop_task_t *deferred_head, *deferred_tail;
};

uint64_t ak_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t ak_clock_ms(void)
{
    return ak_clock_us() / 1000u;
}

ak_loop_t *ak_loop_new(ak_error_t *err)
{
    ak_loop_t *loop = calloc(1, sizeof *loop);
    if (!loop) {
        ak_error_set(err, AK_ERR_NOMEM, "no memory for an event loop");
        return NULL;
    }
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->epoll_fd < 0 || loop->wake_fd < 0) {
        ak_error_set(err, AK_ERR_IO, "epoll/eventfd: %s", strerror(errno));
        if (loop->epoll_fd >= 0)
            close(loop->epoll_fd);
        if (loop->wake_fd >= 0)
            close(loop->wake_fd);
        free(loop);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->wake_fd, &ev);
    pthread_mutex_init(&loop->post_lock, NULL);
    loop->next_timer_id = 1;
    loop->now_us = ak_clock_us();
    loop->now_ms = loop->now_us / 1000u;
    return loop;
}

static void ak_loop_free_tasks(ak_loop_task_t *task)
{
    while (task) {
        ak_loop_task_t *next = task->next;
        free(task);
        task = next;
    }
}

static void ak_loop_run_deferred(ak_loop_t *loop);

void ak_loop_free(ak_loop_t *loop)
{
    if (!loop)
        return;
    /* Objects closed after the loop stopped are freed by deferred tasks:
     * run them rather than leak. */
    ak_loop_run_deferred(loop);
    close(loop->epoll_fd);
    close(loop->wake_fd);
    pthread_mutex_destroy(&loop->post_lock);
    ak_loop_free_tasks(loop->posted_head);
    ak_loop_free_tasks(loop->deferred_head);
    free(loop->timers);
    free(loop);
}

uint64_t ak_loop_now_ms(const ak_loop_t *loop)
{
    return loop->now_ms;
}

uint64_t ak_loop_now_us(const ak_loop_t *loop)
{
    return loop->now_us;
}

void ak_io_init(ak_io_t *io, int fd, ak_io_cb cb, void *data)
{
    io->fd = fd;
    io->events = 0;
    io->cb = cb;
    io->data = data;
    io->active = false;
}

static uint32_t ak_loop_epoll_events(unsigned events)
{
    uint32_t ev = 0;
    if (events & AK_IO_READ)
        ev |= EPOLLIN | EPOLLRDHUP;
    if (events & AK_IO_WRITE)
        ev |= EPOLLOUT;
    return ev;
}

ak_status_t ak_loop_io_start(ak_loop_t *loop, ak_io_t *io, unsigned events, ak_error_t *err)
{
    struct epoll_event ev = {.events = ak_loop_epoll_events(events), .data.ptr = io};
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, io->fd, &ev) != 0)
        return ak_error_set(err, AK_ERR_IO, "epoll_ctl add fd %d: %s", io->fd, strerror(errno));
    io->events = events;
    io->active = true;
    return AK_OK;
}

void ak_loop_io_set(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    if (!io->active || io->events == events)
        return;
    struct epoll_event ev = {.events = ak_loop_epoll_events(events), .data.ptr = io};
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, io->fd, &ev);
    io->events = events;
}

void ak_loop_io_stop(ak_loop_t *loop, ak_io_t *io)
{
    if (!io->active)
        return;
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, io->fd, NULL);
    io->active = false;
    io->events = 0;
}

/* --- timers --- */

static void ak_timer_swap(ak_loop_timer_entry_t *a, ak_loop_timer_entry_t *b)
{
    ak_loop_timer_entry_t t = *a;
    *a = *b;
    *b = t;
}

static void ak_timer_sift_up(ak_loop_t *loop, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (loop->timers[parent].due_ms <= loop->timers[i].due_ms)
            break;
        ak_timer_swap(&loop->timers[parent], &loop->timers[i]);
        i = parent;
    }
}

static void ak_timer_sift_down(ak_loop_t *loop, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < loop->n_timers && loop->timers[l].due_ms < loop->timers[m].due_ms)
            m = l;
        if (r < loop->n_timers && loop->timers[r].due_ms < loop->timers[m].due_ms)
            m = r;
        if (m == i)
            return;
        ak_timer_swap(&loop->timers[m], &loop->timers[i]);
        i = m;
    }
}

static void ak_timer_remove_at(ak_loop_t *loop, size_t i)
{
    loop->n_timers--;
    if (i == loop->n_timers)
        return;
    loop->timers[i] = loop->timers[loop->n_timers];
    ak_timer_sift_down(loop, i);
    ak_timer_sift_up(loop, i);
}

uint64_t ak_loop_timer(ak_loop_t *loop, uint64_t delay_ms, ak_loop_fn fn, void *arg)
{
    if (loop->n_timers == loop->cap_timers) {
        size_t cap = loop->cap_timers ? loop->cap_timers * 2 : 16;
        ak_loop_timer_entry_t *t = realloc(loop->timers, cap * sizeof *t);
        if (!t)
            return 0;
        loop->timers = t;
        loop->cap_timers = cap;
    }
    uint64_t id = loop->next_timer_id++;
    loop->timers[loop->n_timers] =
        (ak_loop_timer_entry_t){ak_clock_ms() + delay_ms, id, fn, arg};
    ak_timer_sift_up(loop, loop->n_timers++);
    return id;
}

void ak_loop_timer_cancel(ak_loop_t *loop, uint64_t id)
{
    for (size_t i = 0; i < loop->n_timers; i++) {
        if (loop->timers[i].id == id) {
            ak_timer_remove_at(loop, i);
            return;
        }
    }
}

static void ak_loop_run_timers(ak_loop_t *loop)
{
    while (loop->n_timers && loop->timers[0].due_ms <= loop->now_ms) {
        ak_loop_timer_entry_t t = loop->timers[0];
        ak_timer_remove_at(loop, 0);
        t.fn(loop, t.arg);
    }
}

static int ak_loop_timeout_ms(const ak_loop_t *loop)
{
    if (loop->posted_head || loop->deferred_head)
        return 0;
    if (!loop->n_timers)
        return 1000;
    uint64_t due = loop->timers[0].due_ms;
    if (due <= loop->now_ms)
        return 0;
    uint64_t wait = due - loop->now_ms;
    return wait > 1000 ? 1000 : (int)wait;
}

/* --- posted and deferred work --- */

bool ak_loop_post(ak_loop_t *loop, ak_loop_fn fn, void *arg)
{
    ak_loop_task_t *task = malloc(sizeof *task);
    if (!task)
        return false;
    task->next = NULL;
    task->fn = fn;
    task->arg = arg;
    pthread_mutex_lock(&loop->post_lock);
    bool was_empty = loop->posted_head == NULL;
    if (loop->posted_tail)
        loop->posted_tail->next = task;
    else
        loop->posted_head = task;
    loop->posted_tail = task;
    pthread_mutex_unlock(&loop->post_lock);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t n = write(loop->wake_fd, &one, sizeof one);
        (void)n; /* a full eventfd counter already means "wake up" */
    }
    return true;
}

bool ak_loop_defer(ak_loop_t *loop, ak_loop_fn fn, void *arg)
{
    ak_loop_task_t *task = malloc(sizeof *task);
    if (!task)
        return false;
    task->next = NULL;
    task->fn = fn;
    task->arg = arg;
    if (loop->deferred_tail)
        loop->deferred_tail->next = task;
    else
        loop->deferred_head = task;
    loop->deferred_tail = task;
    return true;
}

static void ak_loop_run_posted(ak_loop_t *loop)
{
    uint64_t drained;
    ssize_t n = read(loop->wake_fd, &drained, sizeof drained);
    (void)n;
    pthread_mutex_lock(&loop->post_lock);
    ak_loop_task_t *task = loop->posted_head;
    loop->posted_head = loop->posted_tail = NULL;
    pthread_mutex_unlock(&loop->post_lock);
    while (task) {
        ak_loop_task_t *next = task->next;
        task->fn(loop, task->arg);
        free(task);
        task = next;
    }
}

static void ak_loop_run_deferred(ak_loop_t *loop)
{
    while (loop->deferred_head) {
        ak_loop_task_t *task = loop->deferred_head;
        loop->deferred_head = NULL;
        loop->deferred_tail = NULL;
        while (task) {
            ak_loop_task_t *next = task->next;
            task->fn(loop, task->arg);
            free(task);
            task = next;
        }
    }
}

void ak_loop_stop(ak_loop_t *loop)
{
    loop->stopping = 1;
    uint64_t one = 1;
    ssize_t n = write(loop->wake_fd, &one, sizeof one);
    (void)n;
}

ak_status_t ak_loop_run(ak_loop_t *loop)
{
    struct epoll_event events[256];
    loop->stopping = 0;
    while (!loop->stopping) {
        loop->now_ms = ak_clock_ms();
        int n = epoll_wait(loop->epoll_fd, events, 256, ak_loop_timeout_ms(loop));
        if (n < 0 && errno != EINTR)
            return AK_ERR_IO;
        loop->now_us = ak_clock_us();
        loop->now_ms = loop->now_us / 1000u;
        bool woken = false;
        for (int i = 0; i < n; i++) {
            ak_io_t *io = events[i].data.ptr;
            if (!io) {
                woken = true;
                continue;
            }
            if (!io->active)
                continue;
            unsigned ready = 0;
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                ready |= AK_IO_READ;
            if (events[i].events & EPOLLOUT)
                ready |= AK_IO_WRITE;
            ready &= io->events | AK_IO_READ;
            if (ready)
                io->cb(loop, io, ready);
        }
        if (woken || loop->posted_head)
            ak_loop_run_posted(loop);
        ak_loop_run_timers(loop);
        ak_loop_run_deferred(loop);
    }
    ak_loop_run_deferred(loop);
    return AK_OK;
}
