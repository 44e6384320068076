#include "net/ak_signal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct ak_signal_watch {
    ak_io_t io;
    int received;
};

static void ak_signal_on_io(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)events;
    ak_signal_watch_t *watch = io->data;
    struct signalfd_siginfo info;
    while (read(io->fd, &info, sizeof info) == (ssize_t)sizeof info) {
        watch->received = (int)info.ssi_signo;
        ak_loop_stop(loop);
    }
}

ak_signal_watch_t *ak_signal_watch_stop(ak_loop_t *loop, ak_error_t *err)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0) {
        ak_error_set(err, AK_ERR_IO, "cannot block SIGINT/SIGTERM");
        return NULL;
    }
    int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        ak_error_set(err, AK_ERR_IO, "signalfd: %s", strerror(errno));
        return NULL;
    }
    ak_signal_watch_t *watch = calloc(1, sizeof *watch);
    if (!watch) {
        close(fd);
        ak_error_set(err, AK_ERR_NOMEM, "no memory for a signal watch");
        return NULL;
    }
    ak_io_init(&watch->io, fd, ak_signal_on_io, watch);
    if (ak_loop_io_start(loop, &watch->io, AK_IO_READ, err) != AK_OK) {
        close(fd);
        free(watch);
        return NULL;
    }
    return watch;
}

int ak_signal_watch_received(const ak_signal_watch_t *watch)
{
    return watch ? watch->received : 0;
}

void ak_signal_watch_free(ak_loop_t *loop, ak_signal_watch_t *watch)
{
    if (!watch)
        return;
    ak_loop_io_stop(loop, &watch->io);
    close(watch->io.fd);
    free(watch);
}
