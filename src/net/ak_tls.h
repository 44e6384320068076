/*
 * ak_tls: TLS (OpenSSL) for sockets on an ak_loop, with PEM files.
 *
 * A context (ak_tls_ctx_t) holds what every connection of a listener or a
 * client shares: certificate, key, trusted CAs, versions, ciphers, ALPN and,
 * on a server, the allowed peer names. A connection (ak_tls_t) sits on a
 * non-blocking socket the caller owns; reads and writes drive the handshake
 * as they go, so a receiver only swaps read()/write() for ak_tls_read() /
 * ak_tls_write() and watches the extra events ak_tls_wanted_events() asks
 * for.
 *
 * Allowed peer names (Aerospike's `allowed-peer-names`): a client must
 * present a certificate that chains to ca-file and whose subject CN or one
 * of whose DNS subject alternative names equals one of the names (exactly,
 * ignoring case; no wildcards). Anything else fails the handshake.
 *
 * Contexts are reference-counted: each connection holds a reference, so a
 * context may be released while connections made from it live on.
 * Connections are used from one thread at a time (the loop thread).
 */
#ifndef AK_TLS_H
#define AK_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/ak_error.h"

typedef struct ak_tls_ctx ak_tls_ctx_t;
typedef struct ak_tls ak_tls_t;

typedef struct ak_tls_server_options {
    const char *cert_file;  /* PEM certificate chain (leaf first), required */
    const char *key_file;   /* PEM private key of cert_file (unencrypted), required */
    const char *ca_file;    /* PEM CAs client certificates must chain to; NULL: no client
                             * certificate is asked for. Without allowed names a client
                             * certificate is optional but verified when sent. */
    const char *const *allowed_peer_names; /* non-empty: a verified client certificate is
                                            * required and its CN or a DNS SAN must match */
    size_t n_allowed_peer_names;
    const char *const *protocols; /* "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"; none: 1.2 and up */
    size_t n_protocols;
    const char *const *ciphers;   /* OpenSSL names; TLS 1.3 suites (TLS_AES_...) too; none:
                                   * OpenSSL's defaults */
    size_t n_ciphers;
    const char *const *alpn;      /* protocols offered by ALPN in preference order ("h2",
                                   * "http/1.1"); none: no ALPN */
    size_t n_alpn;
} ak_tls_server_options_t;

typedef struct ak_tls_client_options {
    const char *ca_file;     /* PEM CAs the server must chain to; NULL: the system's */
    const char *server_name; /* SNI, and the name the server certificate must carry;
                              * NULL: the name is not checked */
    const char *cert_file;   /* optional client certificate (PEM) ... */
    const char *key_file;    /* ... and its key */
    const char *const *protocols; /* as for servers */
    size_t n_protocols;
    const char *const *ciphers;   /* as for servers */
    size_t n_ciphers;
    const char *const *alpn;      /* offered in this order */
    size_t n_alpn;
} ak_tls_client_options_t;

/* Builds a context. NULL on failure, with err naming the option, the file
 * and OpenSSL's reason ("cert-file /etc/x/cert.pem: cannot load the
 * certificate chain: no such file"). Free with ak_tls_ctx_free. */
ak_tls_ctx_t *ak_tls_server_ctx_new(const ak_tls_server_options_t *opts, ak_error_t *err);
ak_tls_ctx_t *ak_tls_client_ctx_new(const ak_tls_client_options_t *opts, ak_error_t *err);
/* Takes another reference (returns ctx; NULL stays NULL). */
ak_tls_ctx_t *ak_tls_ctx_ref(ak_tls_ctx_t *ctx);
/* Drops a reference; the last one frees the context. NULL is a no-op. */
void ak_tls_ctx_free(ak_tls_ctx_t *ctx);

/* Starts TLS on fd (accepting for a server context, connecting for a
 * client one). fd stays the caller's: ak_tls_free does not close it. Writes
 * never raise SIGPIPE. NULL only when out of memory. */
ak_tls_t *ak_tls_new(ak_tls_ctx_t *ctx, int fd, ak_error_t *err);
void ak_tls_free(ak_tls_t *tls);

/* Results of ak_tls_read / ak_tls_write besides byte counts. */
#define AK_TLS_AGAIN (-1) /* nothing now: wait for the events ak_tls_wanted_events names */
#define AK_TLS_ERROR (-2) /* the connection failed: ak_tls_error says why; close it */

/* Reads decrypted bytes, handshaking first if needed, until buf is full or
 * nothing more is ready now. Returns > 0 bytes, 0 when the peer closed the
 * connection, AK_TLS_AGAIN or AK_TLS_ERROR. A failure or an end met after
 * some bytes were read is reported by the next call. */
ssize_t ak_tls_read(ak_tls_t *tls, void *buf, size_t cap);
/* Writes up to len bytes (handshaking first if needed). Returns how many
 * were taken (> 0), AK_TLS_AGAIN or AK_TLS_ERROR. After AK_TLS_AGAIN, call
 * again with the same bytes at the front of data (more may follow them; the
 * buffer may have moved). len 0 returns 0. */
ssize_t ak_tls_write(ak_tls_t *tls, const void *data, size_t len);
/* Drives the handshake alone: 1 done, AK_TLS_AGAIN, AK_TLS_ERROR. On a
 * blocking socket it returns only 1 or AK_TLS_ERROR. */
int ak_tls_handshake(ak_tls_t *tls);
/* Sends close_notify, best effort (nothing is waited for). */
void ak_tls_shutdown(ak_tls_t *tls);

/* AK_IO_READ / AK_IO_WRITE the connection needs on top of the caller's own
 * interest: WRITE while a read waits for the socket to take handshake bytes,
 * READ while a write waits for the peer. 0 most of the time. */
unsigned ak_tls_wanted_events(const ak_tls_t *tls);
bool ak_tls_handshake_done(const ak_tls_t *tls);

/* Why the connection failed, naming the peer address: "TLS with
 * 127.0.0.1:50312: peer certificate name \"intruder\" is not in
 * allowed-peer-names". "" while nothing failed. */
const char *ak_tls_error(const ak_tls_t *tls);
/* "ADDRESS:PORT" of the peer, as learned when the connection was made. */
const char *ak_tls_peer_address(const ak_tls_t *tls);
/* After the handshake: the peer certificate's subject CN ("" if none), the
 * ALPN protocol chosen ("" if none), the TLS version ("TLSv1.3"). */
const char *ak_tls_peer_name(const ak_tls_t *tls);
const char *ak_tls_alpn(const ak_tls_t *tls);
const char *ak_tls_version(const ak_tls_t *tls);

#endif
