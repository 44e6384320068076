/*
 * ak_tls: OpenSSL contexts from PEM files and non-blocking TLS connections.
 *
 * Sockets reach OpenSSL through a small BIO of our own rather than
 * BIO_s_socket: OpenSSL's writes to a socket whose peer has gone would raise
 * SIGPIPE, ours pass MSG_NOSIGNAL, as the plaintext receivers do.
 */
#include "net/ak_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/ak_loop.h"

#define AK_TLS_REASON_MAX 320

struct ak_tls_ctx {
    SSL_CTX *ssl;
    bool server;
    int refs;                  /* atomic: connections may be freed on another thread than the owner */
    char **allowed;            /* allowed peer names (server) */
    size_t n_allowed;
    unsigned char *alpn;       /* ALPN list in wire format (length-prefixed names) */
    size_t alpn_len;
    char *server_name;         /* client: SNI and the name to verify */
};

struct ak_tls {
    ak_tls_ctx_t *ctx;
    SSL *ssl;
    bool handshake_done;
    bool failed;
    bool eof;
    bool read_wants_write;
    bool write_wants_read;
    char peer[64];
    char peer_name[256];
    char alpn[256];
    char verify_reason[AK_TLS_REASON_MAX];
    char error[AK_ERROR_MESSAGE_MAX];
};

/* --- the socket BIO --- */

static int ak_tls_bio_write(BIO *bio, const char *data, int len)
{
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    for (;;) {
        ssize_t n = send(fd, data, (size_t)len, MSG_NOSIGNAL);
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(bio);
        return -1;
    }
}

static int ak_tls_bio_read(BIO *bio, char *buf, int cap)
{
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    for (;;) {
        ssize_t n = recv(fd, buf, (size_t)cap, 0);
        if (n == 0)
            BIO_set_flags(bio, BIO_FLAGS_IN_EOF); /* lets OpenSSL tell an end from an error */
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(bio);
        return -1;
    }
}

static long ak_tls_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1; /* nothing is buffered here */
    case BIO_CTRL_EOF: return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0;
    default: return 0;
    }
}

static BIO_METHOD *ak_tls_bio_method_ptr;

static void ak_tls_bio_method_init(void)
{
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "aerokafka socket");
    if (!method)
        return;
    BIO_meth_set_write(method, ak_tls_bio_write);
    BIO_meth_set_read(method, ak_tls_bio_read);
    BIO_meth_set_ctrl(method, ak_tls_bio_ctrl);
    ak_tls_bio_method_ptr = method; /* lives as long as the process */
}

static BIO_METHOD *ak_tls_bio_method(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, ak_tls_bio_method_init);
    return ak_tls_bio_method_ptr;
}

/* --- errors --- */

/* OpenSSL's reasons still queued on this thread, oldest (the cause) first;
 * empties the queue. */
static void ak_tls_ossl_reason(char *out, size_t cap, const char *fallback)
{
    size_t len = 0;
    out[0] = '\0';
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        const char *reason = ERR_reason_error_string(code);
        char text[256];
        if (!reason) {
            ERR_error_string_n(code, text, sizeof text);
            reason = text;
        }
        if (strstr(out, reason))
            continue; /* the same reason at several levels */
        int n = snprintf(out + len, cap - len, "%s%s", len ? ": " : "", reason);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    if (!out[0])
        snprintf(out, cap, "%s", fallback);
}

static ak_status_t ak_tls_ctx_error(ak_error_t *err, const char *fmt, const char *what)
{
    char reason[AK_TLS_REASON_MAX];
    ak_tls_ossl_reason(reason, sizeof reason, "unknown OpenSSL error");
    return ak_error_set(err, AK_ERR_INVALID_ARG, "%s %s: %s", fmt, what ? what : "", reason);
}

/* --- certificate names --- */

typedef bool (*ak_tls_name_fn)(void *arg, const char *kind, const char *name, size_t len);

/* Calls fn for each subject CN and each DNS subject alternative name of
 * cert until it returns true; returns whether one did. */
static bool ak_tls_cert_names(X509 *cert, ak_tls_name_fn fn, void *arg)
{
    X509_NAME *subject = X509_get_subject_name(cert);
    for (int i = -1; subject && (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
        ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, data);
        if (len < 0)
            continue;
        bool stop = fn(arg, "CN", (const char *)utf8, (size_t)len);
        OPENSSL_free(utf8);
        if (stop)
            return true;
    }
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    bool stop = false;
    for (int i = 0; names && !stop && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gen = sk_GENERAL_NAME_value(names, i);
        if (gen->type != GEN_DNS)
            continue;
        stop = fn(arg, "DNS", (const char *)ASN1_STRING_get0_data(gen->d.dNSName),
                  (size_t)ASN1_STRING_length(gen->d.dNSName));
    }
    GENERAL_NAMES_free(names);
    return stop;
}

static bool ak_tls_name_allowed(void *arg, const char *kind, const char *name, size_t len)
{
    (void)kind;
    const ak_tls_ctx_t *ctx = arg;
    for (size_t i = 0; i < ctx->n_allowed; i++)
        if (strlen(ctx->allowed[i]) == len && strncasecmp(ctx->allowed[i], name, len) == 0)
            return true; /* an embedded NUL makes the lengths differ */
    return false;
}

typedef struct ak_tls_name_list {
    char *out;
    size_t cap, len;
} ak_tls_name_list_t;

static bool ak_tls_name_describe(void *arg, const char *kind, const char *name, size_t len)
{
    ak_tls_name_list_t *list = arg;
    if (list->len >= list->cap)
        return true;
    int n = snprintf(list->out + list->len, list->cap - list->len, "%s%s \"%.*s\"", list->len ? ", " : "",
                     kind, (int)(len > 100 ? 100 : len), name);
    if (n > 0)
        list->len += (size_t)n;
    return false;
}

static bool ak_tls_name_first_cn(void *arg, const char *kind, const char *name, size_t len)
{
    char *out = arg;
    if (strcmp(kind, "CN") != 0)
        return false;
    snprintf(out, 256, "%.*s", (int)(len > 255 ? 255 : len), name);
    return true;
}

/* Runs for every certificate of the peer's chain as OpenSSL verifies it:
 * records why a chain fails, and checks the peer's own certificate against
 * the allowed names. */
static int ak_tls_verify_cb(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    ak_tls_t *tls = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!tls)
        return ok;
    int depth = X509_STORE_CTX_get_error_depth(store);
    if (!ok) {
        if (!tls->verify_reason[0])
            snprintf(tls->verify_reason, sizeof tls->verify_reason,
                     "peer certificate (chain depth %d) not trusted: %s", depth,
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
        return 0;
    }
    if (depth != 0 || !tls->ctx->n_allowed)
        return 1;
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (cert && ak_tls_cert_names(cert, ak_tls_name_allowed, tls->ctx))
        return 1;
    char names[200];
    ak_tls_name_list_t list = {names, sizeof names, 0};
    names[0] = '\0';
    if (cert)
        ak_tls_cert_names(cert, ak_tls_name_describe, &list);
    snprintf(tls->verify_reason, sizeof tls->verify_reason,
             "peer certificate names (%s) are not in allowed-peer-names", names[0] ? names : "none");
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
}

/* --- contexts --- */

static int ak_tls_version_of(const char *name)
{
    static const struct {
        const char *name;
        int version;
    } versions[] = {{"TLSv1", TLS1_VERSION}, {"TLSv1.1", TLS1_1_VERSION},
                    {"TLSv1.2", TLS1_2_VERSION}, {"TLSv1.3", TLS1_3_VERSION}};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        if (strcmp(name, versions[i].name) == 0)
            return versions[i].version;
    return 0;
}

/* The listed versions: the range from the lowest to the highest, minus the
 * ones in between that are not listed. */
static ak_status_t ak_tls_set_protocols(SSL_CTX *ssl, const char *const *protocols, size_t n,
                                        ak_error_t *err)
{
    if (!n)
        return SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION) ? AK_OK
               : ak_tls_ctx_error(err, "protocols", "TLSv1.2");
    int min = 0, max = 0;
    bool listed[4] = {false, false, false, false};
    for (size_t i = 0; i < n; i++) {
        int version = ak_tls_version_of(protocols[i]);
        if (!version)
            return ak_error_set(err, AK_ERR_INVALID_ARG,
                                "protocols: unknown TLS version \"%s\" (expected TLSv1.2 or TLSv1.3)",
                                protocols[i]);
        listed[version - TLS1_VERSION] = true;
        if (!min || version < min)
            min = version;
        if (version > max)
            max = version;
    }
    if (!SSL_CTX_set_min_proto_version(ssl, min) || !SSL_CTX_set_max_proto_version(ssl, max))
        return ak_tls_ctx_error(err, "protocols", protocols[0]);
    static const uint64_t no_version[4] = {SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1, SSL_OP_NO_TLSv1_2,
                                           SSL_OP_NO_TLSv1_3};
    for (int v = min; v <= max; v++)
        if (!listed[v - TLS1_VERSION])
            SSL_CTX_set_options(ssl, no_version[v - TLS1_VERSION]);
    return AK_OK;
}

/* TLS 1.3 suites (TLS_AES_128_GCM_SHA256, ...) and older ciphers are set
 * apart in OpenSSL; IANA names of older ciphers (TLS_..._WITH_...) are not
 * OpenSSL names and are refused as unknown. Each name is tried alone so an
 * unknown one is named instead of being skipped silently. */
static ak_status_t ak_tls_set_ciphers(SSL_CTX *ssl, const char *const *ciphers, size_t n,
                                      ak_error_t *err)
{
    ak_status_t st = AK_OK;
    size_t cap = 1;
    for (size_t i = 0; i < n; i++)
        cap += strlen(ciphers[i]) + 1;
    char *legacy = calloc(1, cap), *suites = calloc(1, cap);
    if (!legacy || !suites) {
        st = ak_error_set(err, AK_ERR_NOMEM, "ciphers: no memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        bool tls13 = strncmp(ciphers[i], "TLS_", 4) == 0 && !strstr(ciphers[i], "_WITH_");
        int ok = tls13 ? SSL_CTX_set_ciphersuites(ssl, ciphers[i]) : SSL_CTX_set_cipher_list(ssl, ciphers[i]);
        if (!ok) {
            ERR_clear_error();
            st = ak_error_set(err, AK_ERR_INVALID_ARG,
                              "ciphers: \"%s\" is not a cipher OpenSSL knows (use OpenSSL names, e.g. "
                              "ECDHE-RSA-AES128-GCM-SHA256 or TLS_AES_128_GCM_SHA256)",
                              ciphers[i]);
            goto done;
        }
        char *list = tls13 ? suites : legacy;
        if (*list)
            strcat(list, ":");
        strcat(list, ciphers[i]);
    }
    /* Each trial above replaced the list: set the whole ones (or the defaults). */
    if (!SSL_CTX_set_cipher_list(ssl, *legacy ? legacy : OSSL_default_cipher_list()) ||
        !SSL_CTX_set_ciphersuites(ssl, *suites ? suites : OSSL_default_ciphersuites()))
        st = ak_tls_ctx_error(err, "ciphers", legacy);
done:
    free(legacy);
    free(suites);
    return st;
}

static ak_status_t ak_tls_set_alpn_list(ak_tls_ctx_t *ctx, const char *const *alpn, size_t n,
                                        ak_error_t *err)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t name_len = strlen(alpn[i]);
        if (name_len == 0 || name_len > 255)
            return ak_error_set(err, AK_ERR_INVALID_ARG, "alpn: bad protocol name \"%s\"", alpn[i]);
        len += 1 + name_len;
    }
    if (!len)
        return AK_OK;
    ctx->alpn = malloc(len);
    if (!ctx->alpn)
        return ak_error_set(err, AK_ERR_NOMEM, "alpn: no memory");
    for (size_t i = 0; i < n; i++) {
        size_t name_len = strlen(alpn[i]);
        ctx->alpn[ctx->alpn_len++] = (unsigned char)name_len;
        memcpy(ctx->alpn + ctx->alpn_len, alpn[i], name_len);
        ctx->alpn_len += name_len;
    }
    return AK_OK;
}

/* Server side of ALPN: our preference wins; a client offering none of our
 * protocols goes on without ALPN (the receiver still recognises h2 by its
 * preface). */
static int ak_tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *out_len,
                              const unsigned char *in, unsigned int in_len, void *arg)
{
    (void)ssl;
    const ak_tls_ctx_t *ctx = arg;
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, out_len, ctx->alpn, (unsigned int)ctx->alpn_len, in, in_len) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

static ak_tls_ctx_t *ak_tls_ctx_alloc(bool server, ak_error_t *err)
{
    ak_tls_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        ak_error_set(err, AK_ERR_NOMEM, "TLS: no memory");
        return NULL;
    }
    ERR_clear_error();
    ctx->server = server;
    ctx->refs = 1;
    ctx->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx->ssl) {
        ak_tls_ctx_error(err, "TLS", "context");
        free(ctx);
        return NULL;
    }
    /* Partial writes and a moving buffer: callers retry from an output
     * buffer that may grow (and move) while a record waits for the socket. */
    SSL_CTX_set_mode(ctx->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                   SSL_MODE_RELEASE_BUFFERS);
    /* No renegotiation (a write would then wait for reads); a peer that
     * closes its socket without close_notify simply ends the stream, as
     * shippers do. */
    SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    return ctx;
}

static ak_status_t ak_tls_load_pair(SSL_CTX *ssl, const char *cert_file, const char *key_file,
                                    ak_error_t *err)
{
    if (SSL_CTX_use_certificate_chain_file(ssl, cert_file) != 1)
        return ak_tls_ctx_error(err, "cert-file", cert_file);
    if (SSL_CTX_use_PrivateKey_file(ssl, key_file, SSL_FILETYPE_PEM) != 1)
        return ak_tls_ctx_error(err, "key-file", key_file);
    if (SSL_CTX_check_private_key(ssl) != 1) {
        ERR_clear_error();
        return ak_error_set(err, AK_ERR_INVALID_ARG, "key-file %s: not the private key of cert-file %s",
                            key_file, cert_file);
    }
    return AK_OK;
}

ak_tls_ctx_t *ak_tls_server_ctx_new(const ak_tls_server_options_t *opts, ak_error_t *err)
{
    if (!opts || !opts->cert_file || !opts->key_file) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "TLS server: cert-file and key-file are required");
        return NULL;
    }
    if (opts->n_allowed_peer_names && !opts->ca_file) {
        ak_error_set(err, AK_ERR_INVALID_ARG,
                     "TLS server: ca-file is required with allowed-peer-names (peers are verified against it)");
        return NULL;
    }
    ak_tls_ctx_t *ctx = ak_tls_ctx_alloc(true, err);
    if (!ctx)
        return NULL;
    SSL_CTX *ssl = ctx->ssl;
    if (ak_tls_load_pair(ssl, opts->cert_file, opts->key_file, err) != AK_OK ||
        ak_tls_set_protocols(ssl, opts->protocols, opts->n_protocols, err) != AK_OK ||
        ak_tls_set_ciphers(ssl, opts->ciphers, opts->n_ciphers, err) != AK_OK ||
        ak_tls_set_alpn_list(ctx, opts->alpn, opts->n_alpn, err) != AK_OK)
        goto fail;
    SSL_CTX_set_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (opts->ca_file) {
        if (SSL_CTX_load_verify_locations(ssl, opts->ca_file, NULL) != 1) {
            ak_tls_ctx_error(err, "ca-file", opts->ca_file);
            goto fail;
        }
        /* Name the accepted CAs in the certificate request. */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(opts->ca_file);
        if (names)
            SSL_CTX_set_client_CA_list(ssl, names);
        ERR_clear_error();
        int mode = SSL_VERIFY_PEER;
        if (opts->n_allowed_peer_names)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ssl, mode, ak_tls_verify_cb);
        /* Resumed sessions keep the verified peer: OpenSSL wants an id for them. */
        static const unsigned char session_id[] = "aerokafka";
        SSL_CTX_set_session_id_context(ssl, session_id, sizeof session_id - 1);
    }
    if (opts->n_allowed_peer_names) {
        ctx->allowed = calloc(opts->n_allowed_peer_names, sizeof *ctx->allowed);
        if (!ctx->allowed) {
            ak_error_set(err, AK_ERR_NOMEM, "allowed-peer-names: no memory");
            goto fail;
        }
        for (size_t i = 0; i < opts->n_allowed_peer_names; i++) {
            ctx->allowed[i] = strdup(opts->allowed_peer_names[i]);
            if (!ctx->allowed[i]) {
                ak_error_set(err, AK_ERR_NOMEM, "allowed-peer-names: no memory");
                goto fail;
            }
            ctx->n_allowed++;
        }
    }
    if (ctx->alpn_len)
        SSL_CTX_set_alpn_select_cb(ssl, ak_tls_alpn_select, ctx);
    return ctx;
fail:
    ak_tls_ctx_free(ctx);
    return NULL;
}

ak_tls_ctx_t *ak_tls_client_ctx_new(const ak_tls_client_options_t *opts, ak_error_t *err)
{
    ak_tls_client_options_t none = {0};
    if (!opts)
        opts = &none;
    if (!opts->cert_file != !opts->key_file) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "TLS client: cert-file and key-file go together");
        return NULL;
    }
    ak_tls_ctx_t *ctx = ak_tls_ctx_alloc(false, err);
    if (!ctx)
        return NULL;
    SSL_CTX *ssl = ctx->ssl;
    if (opts->ca_file) {
        if (SSL_CTX_load_verify_locations(ssl, opts->ca_file, NULL) != 1) {
            ak_tls_ctx_error(err, "ca-file", opts->ca_file);
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ssl) != 1) {
        ak_tls_ctx_error(err, "TLS client:", "the system's CA certificates");
        goto fail;
    }
    SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER, ak_tls_verify_cb);
    if (opts->cert_file && ak_tls_load_pair(ssl, opts->cert_file, opts->key_file, err) != AK_OK)
        goto fail;
    if (ak_tls_set_protocols(ssl, opts->protocols, opts->n_protocols, err) != AK_OK ||
        (opts->n_ciphers && ak_tls_set_ciphers(ssl, opts->ciphers, opts->n_ciphers, err) != AK_OK) ||
        ak_tls_set_alpn_list(ctx, opts->alpn, opts->n_alpn, err) != AK_OK)
        goto fail;
    if (ctx->alpn_len && SSL_CTX_set_alpn_protos(ssl, ctx->alpn, (unsigned int)ctx->alpn_len) != 0) {
        ak_tls_ctx_error(err, "alpn", "");
        goto fail;
    }
    if (opts->server_name && !(ctx->server_name = strdup(opts->server_name))) {
        ak_error_set(err, AK_ERR_NOMEM, "TLS client: no memory");
        goto fail;
    }
    return ctx;
fail:
    ak_tls_ctx_free(ctx);
    return NULL;
}

ak_tls_ctx_t *ak_tls_ctx_ref(ak_tls_ctx_t *ctx)
{
    if (ctx)
        __atomic_add_fetch(&ctx->refs, 1, __ATOMIC_RELAXED);
    return ctx;
}

void ak_tls_ctx_free(ak_tls_ctx_t *ctx)
{
    if (!ctx || __atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    SSL_CTX_free(ctx->ssl);
    for (size_t i = 0; i < ctx->n_allowed; i++)
        free(ctx->allowed[i]);
    free(ctx->allowed);
    free(ctx->alpn);
    free(ctx->server_name);
    free(ctx);
}

/* --- connections --- */

static void ak_tls_peer_of(int fd, char *out, size_t cap)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getpeername(fd, (struct sockaddr *)&addr, &len) == 0) {
        if (addr.ss_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)&addr;
            inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
            port = ntohs(in->sin_port);
        } else if (addr.ss_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&addr;
            inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
            port = ntohs(in6->sin6_port);
        }
    }
    snprintf(out, cap, addr.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

ak_tls_t *ak_tls_new(ak_tls_ctx_t *ctx, int fd, ak_error_t *err)
{
    ak_tls_t *tls = calloc(1, sizeof *tls);
    BIO_METHOD *method = ak_tls_bio_method();
    BIO *bio = NULL;
    ERR_clear_error();
    if (!tls || !method || !(tls->ssl = SSL_new(ctx->ssl)) || !(bio = BIO_new(method))) {
        ak_tls_ctx_error(err, "TLS", "connection");
        if (tls)
            SSL_free(tls->ssl);
        free(tls);
        return NULL;
    }
    BIO_set_data(bio, (void *)(intptr_t)fd);
    BIO_set_init(bio, 1);
    SSL_set_bio(tls->ssl, bio, bio);
    SSL_set_app_data(tls->ssl, tls);
    tls->ctx = ak_tls_ctx_ref(ctx);
    ak_tls_peer_of(fd, tls->peer, sizeof tls->peer);
    if (ctx->server) {
        SSL_set_accept_state(tls->ssl);
    } else {
        SSL_set_connect_state(tls->ssl);
        if (ctx->server_name && (!SSL_set_tlsext_host_name(tls->ssl, ctx->server_name) ||
                                 !SSL_set1_host(tls->ssl, ctx->server_name))) {
            ak_tls_ctx_error(err, "TLS server name", ctx->server_name);
            ak_tls_free(tls);
            return NULL;
        }
    }
    return tls;
}

void ak_tls_free(ak_tls_t *tls)
{
    if (!tls)
        return;
    SSL_free(tls->ssl);
    ak_tls_ctx_free(tls->ctx);
    free(tls);
}

static void ak_tls_note_handshake(ak_tls_t *tls)
{
    if (tls->handshake_done || !SSL_is_init_finished(tls->ssl))
        return;
    tls->handshake_done = true;
    X509 *peer = SSL_get0_peer_certificate(tls->ssl);
    if (peer)
        ak_tls_cert_names(peer, ak_tls_name_first_cn, tls->peer_name);
    const unsigned char *alpn = NULL;
    unsigned int len = 0;
    SSL_get0_alpn_selected(tls->ssl, &alpn, &len);
    if (alpn && len)
        snprintf(tls->alpn, sizeof tls->alpn, "%.*s", (int)len, (const char *)alpn);
}

/* Records why the connection failed (from SSL_get_error's answer). */
static void ak_tls_note_handshake(ak_tls_t *tls);

static void ak_tls_fail(ak_tls_t *tls, int ssl_error, int saved_errno)
{
    char reason[AK_TLS_REASON_MAX];
    ak_tls_note_handshake(tls); /* it may have ended in the call that failed */
    if (tls->verify_reason[0]) {
        snprintf(reason, sizeof reason, "%s", tls->verify_reason);
        ERR_clear_error();
    } else if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        snprintf(reason, sizeof reason, "%s",
                 saved_errno ? strerror(saved_errno) : "the peer closed the connection");
    } else {
        int first = ERR_GET_REASON(ERR_peek_error());
        bool not_tls = !tls->handshake_done &&
                       (first == SSL_R_WRONG_VERSION_NUMBER || first == SSL_R_HTTP_REQUEST ||
                        first == SSL_R_PACKET_LENGTH_TOO_LONG || first == SSL_R_UNEXPECTED_MESSAGE);
        ak_tls_ossl_reason(reason, sizeof reason, "unknown OpenSSL error");
        if (not_tls) {
            size_t len = strlen(reason);
            snprintf(reason + len, sizeof reason - len, " (is the peer speaking TLS?)");
        }
        long verify = SSL_get_verify_result(tls->ssl);
        if (!tls->handshake_done && verify != X509_V_OK) {
            size_t len = strlen(reason);
            snprintf(reason + len, sizeof reason - len, " (%s)", X509_verify_cert_error_string(verify));
        }
    }
    tls->failed = true;
    snprintf(tls->error, sizeof tls->error, "TLS %s %s failed: %s",
             tls->handshake_done ? "connection with" : "handshake with", tls->peer, reason);
}

/* Sorts out a call that did not succeed: true if it is only "not now". */
static bool ak_tls_again(ak_tls_t *tls, int rc, bool reading)
{
    int saved_errno = errno;
    int e = SSL_get_error(tls->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        if (!reading)
            tls->write_wants_read = true;
        return true;
    case SSL_ERROR_WANT_WRITE:
        if (reading)
            tls->read_wants_write = true;
        return true;
    case SSL_ERROR_ZERO_RETURN:
        tls->eof = true;
        return false;
    default:
        ak_tls_fail(tls, e, saved_errno);
        return false;
    }
}

ssize_t ak_tls_read(ak_tls_t *tls, void *buf, size_t cap)
{
    if (tls->failed)
        return AK_TLS_ERROR;
    if (tls->eof)
        return 0;
    tls->read_wants_write = false;
    size_t got = 0;
    while (got < cap) {
        size_t n = 0;
        errno = 0;
        ERR_clear_error();
        int rc = SSL_read_ex(tls->ssl, (char *)buf + got, cap - got, &n);
        if (rc == 1) {
            got += n;
            continue;
        }
        ak_tls_again(tls, rc, true);
        break;
    }
    ak_tls_note_handshake(tls);
    if (got)
        return (ssize_t)got;
    if (tls->failed)
        return AK_TLS_ERROR;
    return tls->eof ? 0 : AK_TLS_AGAIN;
}

ssize_t ak_tls_write(ak_tls_t *tls, const void *data, size_t len)
{
    if (tls->failed)
        return AK_TLS_ERROR;
    if (len == 0)
        return 0;
    tls->write_wants_read = false;
    size_t n = 0;
    errno = 0;
    ERR_clear_error();
    int rc = SSL_write_ex(tls->ssl, data, len, &n);
    ak_tls_note_handshake(tls);
    if (rc == 1)
        return (ssize_t)n;
    if (ak_tls_again(tls, rc, false))
        return AK_TLS_AGAIN;
    if (!tls->failed) /* close_notify met while writing: the peer reads no more */
        snprintf(tls->error, sizeof tls->error, "TLS connection with %s: closed by the peer", tls->peer);
    tls->failed = true;
    return AK_TLS_ERROR;
}

int ak_tls_handshake(ak_tls_t *tls)
{
    if (tls->failed)
        return AK_TLS_ERROR;
    if (tls->handshake_done)
        return 1;
    tls->read_wants_write = tls->write_wants_read = false;
    errno = 0;
    ERR_clear_error();
    int rc = SSL_do_handshake(tls->ssl);
    ak_tls_note_handshake(tls);
    if (rc == 1)
        return 1;
    /* The handshake both reads and writes: either wait is the caller's. */
    int e = SSL_get_error(tls->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        tls->read_wants_write = e == SSL_ERROR_WANT_WRITE;
        return AK_TLS_AGAIN;
    }
    if (!ak_tls_again(tls, rc, true) && !tls->failed) {
        tls->failed = true;
        snprintf(tls->error, sizeof tls->error, "TLS handshake with %s failed: the peer closed the connection",
                 tls->peer);
    }
    return AK_TLS_ERROR;
}

void ak_tls_shutdown(ak_tls_t *tls)
{
    if (!tls || tls->failed || !tls->handshake_done)
        return;
    ERR_clear_error();
    SSL_shutdown(tls->ssl);
    ERR_clear_error();
}

unsigned ak_tls_wanted_events(const ak_tls_t *tls)
{
    return (tls->read_wants_write ? AK_IO_WRITE : 0u) | (tls->write_wants_read ? AK_IO_READ : 0u);
}

bool ak_tls_handshake_done(const ak_tls_t *tls)
{
    return tls->handshake_done;
}

const char *ak_tls_error(const ak_tls_t *tls)
{
    return tls->error;
}

const char *ak_tls_peer_address(const ak_tls_t *tls)
{
    return tls->peer;
}

const char *ak_tls_peer_name(const ak_tls_t *tls)
{
    return tls->peer_name;
}

const char *ak_tls_alpn(const ak_tls_t *tls)
{
    return tls->alpn;
}

const char *ak_tls_version(const ak_tls_t *tls)
{
    return SSL_get_version(tls->ssl);
}
