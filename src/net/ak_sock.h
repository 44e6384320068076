/*
 * ak_sock: small socket helpers (all sockets non-blocking, close-on-exec).
 */
#ifndef AK_SOCK_H
#define AK_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"

/* Listens on host:port (host NULL or "" = all IPv4 addresses; "localhost"
 * resolves). port 0 picks a free port; *bound_port receives the real one. */
int ak_sock_listen(const char *host, uint16_t port, int backlog, uint16_t *bound_port,
                   ak_error_t *err);
/* As ak_sock_listen; with reuse_port (SO_REUSEPORT) several sockets, one
 * per event loop, share the port and the kernel spreads connections. */
int ak_sock_listen_shared(const char *host, uint16_t port, int backlog, bool reuse_port,
                          uint16_t *bound_port, ak_error_t *err);

/* Starts a non-blocking connect; completion shows as writability. */
int ak_sock_connect(const char *host, uint16_t port, ak_error_t *err);

/* After writability: 0 if connected, else the errno of the failure. */
int ak_sock_connect_result(int fd);

/* Accepts one connection, non-blocking with TCP_NODELAY; -1 with errno
 * EAGAIN when none is waiting. */
int ak_sock_accept(int listen_fd);

void ak_sock_set_nodelay(int fd);

/* Splits "host:port" (IPv6 as "[addr]:port"). host_out gets a NUL-terminated
 * copy. */
ak_status_t ak_sock_parse_hostport(const char *text, char *host_out, size_t host_cap,
                                   uint16_t *port_out, ak_error_t *err);

#endif
