#include "net/ak_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int ak_sock_resolve(const char *host, uint16_t port, bool passive, struct addrinfo **out,
                           ak_error_t *err)
{
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (passive)
        hints.ai_flags = AI_PASSIVE;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    const char *node = (host && *host) ? host : (passive ? "0.0.0.0" : "127.0.0.1");
    int rc = getaddrinfo(node, service, &hints, out);
    if (rc != 0) {
        ak_error_set(err, AK_ERR_IO, "cannot resolve %s: %s", node, gai_strerror(rc));
        return -1;
    }
    return 0;
}

void ak_sock_set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int ak_sock_listen(const char *host, uint16_t port, int backlog, uint16_t *bound_port,
                   ak_error_t *err)
{
    return ak_sock_listen_shared(host, port, backlog, false, bound_port, err);
}

int ak_sock_listen_shared(const char *host, uint16_t port, int backlog, bool reuse_port,
                          uint16_t *bound_port, ak_error_t *err)
{
    struct addrinfo *ai;
    if (ak_sock_resolve(host, port, true, &ai, err) != 0)
        return -1;
    int fd = -1;
    int last_errno = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (reuse_port)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, backlog) == 0)
            break;
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        ak_error_set(err, AK_ERR_IO, "cannot listen on %s:%u: %s", host && *host ? host : "0.0.0.0",
                     port, strerror(last_errno));
        return -1;
    }
    if (bound_port) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        getsockname(fd, (struct sockaddr *)&ss, &len);
        *bound_port = ss.ss_family == AF_INET6
                          ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                          : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    return fd;
}

int ak_sock_connect(const char *host, uint16_t port, ak_error_t *err)
{
    struct addrinfo *ai;
    if (ak_sock_resolve(host, port, false, &ai, err) != 0)
        return -1;
    int fd = -1;
    int last_errno = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        ak_sock_set_nodelay(fd);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS)
            break;
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        ak_error_set(err, AK_ERR_IO, "cannot connect to %s:%u: %s", host, port,
                     strerror(last_errno));
    return fd;
}

int ak_sock_connect_result(int fd)
{
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
        return errno;
    return so_error;
}

int ak_sock_accept(int listen_fd)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0)
        ak_sock_set_nodelay(fd);
    return fd;
}

ak_status_t ak_sock_parse_hostport(const char *text, char *host_out, size_t host_cap,
                                   uint16_t *port_out, ak_error_t *err)
{
    const char *host = text, *colon;
    size_t host_len;
    if (text[0] == '[') {
        const char *close_bracket = strchr(text, ']');
        if (!close_bracket || close_bracket[1] != ':')
            return ak_error_set(err, AK_ERR_INVALID_ARG, "'%s': expected [IPv6]:PORT", text);
        host = text + 1;
        host_len = (size_t)(close_bracket - host);
        colon = close_bracket + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon)
            return ak_error_set(err, AK_ERR_INVALID_ARG, "'%s': expected HOST:PORT", text);
        host_len = (size_t)(colon - text);
    }
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "'%s': port must be 1..65535", text);
    if (host_len + 1 > host_cap)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "'%s': host name too long", text);
    memcpy(host_out, host, host_len);
    host_out[host_len] = '\0';
    *port_out = (uint16_t)port;
    return AK_OK;
}
