/*
 * TLS on the XDR link, over real sockets: the outbound connector (TCP wire
 * and HTTP receivers) serves service.tls ports with PEM files made at test
 * time by the openssl command (a throwaway CA, a server certificate for
 * xdr.test, client certificates for aerospike-node-1 and intruder), and
 * publishes to an in-process kafka-dev before it answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <time.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ak_test_util.h"
#include "common/ak_buf.h"
#include "dev/ak_kafka_dev.h"
#include "net/ak_loop.h"
#include "net/ak_tls.h"
#include "outbound/ak_outbound.h"
#include "outbound/ak_outbound_config.h"
#include "wire/ak_msg.h"
#include "wire/ak_particle.h"
#include "wire/ak_proto.h"

#define AKT_REPLY_SIZE (AK_PROTO_HEADER_SIZE + 22)

static char akt_dir[256];
static ak_kafka_dev_t *akt_kafka;

/* --- certificates --- */

static void akt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void akt_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

static const char *akt_path(const char *name)
{
    static char paths[8][512];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, sizeof paths[0], "%s/%s", akt_dir, name);
    return path;
}

/* A key and a certificate signed by the test CA, with CN name and a DNS
 * subject alternative name. */
static void akt_make_cert(const char *file, const char *cn, const char *san)
{
    akt_sh("cd %s && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout %s.key -out %s.csr -subj '/CN=%s' 2>/dev/null && "
           "printf 'basicConstraints=CA:FALSE\\nsubjectAltName=DNS:%s\\n' > %s.ext && "
           "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -set_serial 0x%lx -days 2 "
           "-extfile %s.ext -out %s.pem 2>/dev/null",
           akt_dir, file, file, cn, san, file, file, (unsigned long)random(), file, file);
}

static int akt_group_setup(void **state)
{
    (void)state;
    snprintf(akt_dir, sizeof akt_dir, "/tmp/aerokafka-tls-XXXXXX");
    if (!mkdtemp(akt_dir))
        fail_msg("mkdtemp: %s", strerror(errno));
    akt_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout ca.key -out ca.pem -days 2 -subj '/CN=aerokafka test CA' "
           "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign 2>/dev/null",
           akt_dir);
    akt_make_cert("server", "xdr.test", "xdr.test");
    akt_make_cert("node1", "aerospike-node-1", "node1.aerospike.test");
    akt_make_cert("intruder", "intruder", "intruder.test");
    ak_error_t err;
    akt_kafka = ak_kafka_dev_start(NULL, &err);
    if (!akt_kafka)
        fail_msg("kafka-dev: %s", err.message);
    return 0;
}

static int akt_group_teardown(void **state)
{
    (void)state;
    ak_kafka_dev_stop(akt_kafka);
    akt_sh("rm -rf %s", akt_dir);
    return 0;
}

/* --- the connector --- */

typedef struct akt_outbound {
    ak_loop_t *loop;
    ak_outbound_config_t *cfg;
    ak_outbound_t *ob;
    pthread_t thread;
    uint16_t plain_port, tls_port;
} akt_outbound_t;

static uint16_t akt_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static void *akt_loop_thread(void *arg)
{
    akt_outbound_t *fx = arg;
    ak_loop_run(fx->loop);
    return NULL;
}

/* Starts the connector with a plain and a TLS port; tls_extra is added to
 * the service.tls section; handshake_ms (0: the default) is the TLS
 * handshake deadline. */
static akt_outbound_t *akt_outbound_start_deadline(const char *protocol, const char *tls_extra,
                                                   uint32_t handshake_ms)
{
    akt_outbound_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    char yaml[4096];
    int n = snprintf(yaml, sizeof yaml,
                     "service:\n"
                     "  port: %u\n"
                     "  address: 127.0.0.1\n"
                     "  protocol: %s\n"
                     "  tls:\n"
                     "    port: %u\n"
                     "    address: 127.0.0.1\n"
                     "    cert-file: server.pem\n"
                     "    key-file: server.key\n"
                     "    ca-file: ca.pem\n"
                     "%s"
                     "producer-props:\n"
                     "  bootstrap.servers: %s\n"
                     "  linger.ms: 1\n"
                     "format:\n"
                     "  mode: flat-json\n"
                     "  metadata-key: metadata\n"
                     "routing:\n"
                     "  mode: static\n"
                     "  destination: tls-test\n",
                     akt_free_port(), protocol, akt_free_port(), tls_extra,
                     ak_kafka_dev_bootstrap(akt_kafka));
    assert_true(n > 0 && (size_t)n < sizeof yaml);
    ak_error_t err;
    fx->cfg = ak_outbound_config_load_string(yaml, (size_t)n, "tls.yml", akt_dir, &err);
    if (!fx->cfg)
        fail_msg("config: %s", err.message);
    fx->cfg->service.tls.handshake_timeout_ms = handshake_ms;
    fx->loop = ak_loop_new(&err);
    assert_non_null(fx->loop);
    fx->ob = ak_outbound_new(fx->loop, fx->cfg, &err);
    if (!fx->ob)
        fail_msg("ak_outbound_new: %s", err.message);
    fx->plain_port = ak_outbound_port(fx->ob, 0);
    fx->tls_port = ak_outbound_port(fx->ob, 1);
    assert_int_not_equal(fx->tls_port, 0);
    assert_int_equal(pthread_create(&fx->thread, NULL, akt_loop_thread, fx), 0);
    return fx;
}

static akt_outbound_t *akt_outbound_start(const char *protocol, const char *tls_extra)
{
    return akt_outbound_start_deadline(protocol, tls_extra, 0);
}

static void akt_outbound_stop(akt_outbound_t *fx)
{
    ak_loop_stop(fx->loop);
    pthread_join(fx->thread, NULL);
    ak_outbound_free(fx->ob, 0);
    ak_loop_free(fx->loop);
    ak_outbound_config_free(fx->cfg);
    free(fx);
}

/* --- a blocking client --- */

typedef struct akt_client {
    int fd;
    ak_tls_ctx_t *ctx;
    ak_tls_t *tls;
} akt_client_t;

static int akt_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval timeout = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    return fd;
}

/* Connects and handshakes as name (a certificate file stem, or NULL for
 * no client certificate). Returns the handshake result (1 or an error). */
static int akt_client_open(akt_client_t *c, uint16_t port, const char *name, const char *alpn)
{
    char cert[512], key[512];
    const char *alpn_list[] = {alpn};
    ak_tls_client_options_t opts = {.ca_file = akt_path("ca.pem"), .server_name = "xdr.test"};
    if (name) {
        snprintf(cert, sizeof cert, "%s/%s.pem", akt_dir, name);
        snprintf(key, sizeof key, "%s/%s.key", akt_dir, name);
        opts.cert_file = cert;
        opts.key_file = key;
    }
    if (alpn) {
        opts.alpn = alpn_list;
        opts.n_alpn = 1;
    }
    ak_error_t err;
    c->ctx = ak_tls_client_ctx_new(&opts, &err);
    if (!c->ctx)
        fail_msg("client context: %s", err.message);
    c->fd = akt_connect(port);
    c->tls = ak_tls_new(c->ctx, c->fd, &err);
    assert_non_null(c->tls);
    return ak_tls_handshake(c->tls);
}

static void akt_client_close(akt_client_t *c)
{
    ak_tls_free(c->tls);
    ak_tls_ctx_free(c->ctx);
    close(c->fd);
}

static bool akt_client_send(akt_client_t *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = ak_tls_write(c->tls, p, len);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads exactly len bytes; false on an error, the end or a 10 s timeout. */
static bool akt_client_recv(akt_client_t *c, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = ak_tls_read(c->tls, (uint8_t *)buf + got, len - got);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

/* An XDR change notification: a write of bin i = value to test/demo. */
static void akt_notification(ak_buf_t *out, int64_t value)
{
    ak_msg_builder_t b;
    ak_msg_header_t header = {.header_sz = 22, .info1 = AK_INFO1_XDR, .info2 = AK_INFO2_WRITE,
                              .generation = 1};
    uint8_t digest[20];
    for (size_t i = 0; i < sizeof digest; i++)
        digest[i] = (uint8_t)(i * 7 + (uint64_t)value);
    uint8_t particle[8];
    ak_put_be64(particle, (uint64_t)value);
    ak_msg_begin(&b, out, &header);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, "test", 4);
    ak_msg_add_field(&b, AK_FIELD_SET, "demo", 4);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, digest, sizeof digest);
    ak_msg_add_op_raw(&b, AK_OP_WRITE, AK_PARTICLE_INTEGER, "i", 1, particle, sizeof particle);
    ak_error_t err;
    akt_assert_ok(ak_msg_end(&b, &err), &err);
}

/* Sends one notification over TLS; returns the reply's result code, or -1
 * when no reply came. */
static int akt_ship(akt_client_t *c, int64_t value)
{
    ak_buf_t frame;
    ak_buf_init(&frame);
    akt_notification(&frame, value);
    bool sent = akt_client_send(c, frame.data, frame.len);
    ak_buf_free(&frame);
    uint8_t reply[AKT_REPLY_SIZE];
    if (!sent || !akt_client_recv(c, reply, sizeof reply))
        return -1;
    assert_int_equal(reply[1], AK_PROTO_TYPE_MESSAGE);
    return reply[AK_PROTO_HEADER_SIZE + 5]; /* result code */
}

/* Connects as name and ships one notification: its result code or -1. */
static int akt_ship_as(uint16_t port, const char *name)
{
    akt_client_t c;
    int code = akt_client_open(&c, port, name, NULL) == 1 ? akt_ship(&c, 42) : -1;
    akt_client_close(&c);
    return code;
}

/* --- tests --- */

static void test_tls_wire_notification_is_answered_after_kafka(void **state)
{
    (void)state;
    akt_outbound_t *fx = akt_outbound_start("TCP", "");
    akt_client_t c;
    assert_int_equal(akt_client_open(&c, fx->tls_port, NULL, NULL), 1);
    assert_string_equal(ak_tls_version(c.tls), "TLSv1.2"); /* the default protocols */
    assert_int_equal(akt_ship(&c, 1), 0);
    assert_int_equal(akt_ship(&c, 2), 0); /* the connection goes on */
    akt_client_close(&c);
    ak_outbound_stats_t stats;
    ak_outbound_stats(fx->ob, &stats);
    assert_int_equal(stats.requests_success, 2);
    akt_outbound_stop(fx);
}

static void test_tls_allowed_peer_names_accept_only_listed_certificates(void **state)
{
    (void)state;
    /* Listed in other case: the match ignores case. */
    akt_outbound_t *fx = akt_outbound_start("TCP", "    allowed-peer-names: [other-node, AEROSPIKE-NODE-1]\n"
                                                   "    protocols: [TLSv1.2, TLSv1.3]\n");
    assert_int_equal(akt_ship_as(fx->tls_port, "node1"), 0);
    assert_int_equal(akt_ship_as(fx->tls_port, "intruder"), -1);
    assert_int_equal(akt_ship_as(fx->tls_port, NULL), -1);
    /* Refusals close connections, never the connector. */
    akt_client_t c;
    assert_int_equal(akt_client_open(&c, fx->tls_port, "node1", NULL), 1);
    assert_string_equal(ak_tls_version(c.tls), "TLSv1.3");
    assert_int_equal(akt_ship(&c, 3), 0);
    akt_client_close(&c);
    akt_outbound_stop(fx);
}

static void test_tls_intruder_handshake_fails_under_tls12(void **state)
{
    (void)state;
    /* Under TLS 1.2 the server judges the client certificate before its
     * Finished: the client's handshake itself fails. */
    akt_outbound_t *fx = akt_outbound_start("TCP", "    allowed-peer-names: aerospike-node-1\n");
    akt_client_t c;
    assert_int_equal(akt_client_open(&c, fx->tls_port, "intruder", NULL), AK_TLS_ERROR);
    assert_non_null(strstr(ak_tls_error(c.tls), "TLS handshake with 127.0.0.1:"));
    akt_client_close(&c);
    assert_int_equal(akt_client_open(&c, fx->tls_port, "node1", NULL), 1);
    assert_string_equal(ak_tls_peer_name(c.tls), "xdr.test");
    akt_client_close(&c);
    akt_outbound_stop(fx);
}

static void test_tls_plaintext_on_tls_port_is_closed_and_service_goes_on(void **state)
{
    (void)state;
    akt_outbound_t *fx = akt_outbound_start("TCP", "");
    int fd = akt_connect(fx->tls_port);
    ak_buf_t frame;
    ak_buf_init(&frame);
    akt_notification(&frame, 5);
    assert_int_equal(write(fd, frame.data, frame.len), (ssize_t)frame.len);
    ak_buf_free(&frame);
    /* What comes back is at most a TLS alert (content type 21), then the end. */
    uint8_t buf[256];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got)
        assert_int_equal(buf[0], 21);
    close(fd);
    /* Both ports still serve. */
    assert_int_equal(akt_ship_as(fx->tls_port, NULL), 0);
    fd = akt_connect(fx->plain_port);
    ak_buf_init(&frame);
    akt_notification(&frame, 6);
    assert_int_equal(write(fd, frame.data, frame.len), (ssize_t)frame.len);
    ak_buf_free(&frame);
    uint8_t reply[AKT_REPLY_SIZE];
    got = 0;
    while (got < sizeof reply) {
        ssize_t n = read(fd, reply + got, sizeof reply - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(reply[AK_PROTO_HEADER_SIZE + 5], 0);
    close(fd);
    akt_outbound_stop(fx);
}

/* Reads an HTTP/1.1 response with a Content-Length; returns its status. */
static int akt_http_response(akt_client_t *c)
{
    char head[1024];
    size_t len = 0;
    while (len < sizeof head - 1 && !(len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0)) {
        if (!akt_client_recv(c, head + len, 1))
            return -1;
        len++;
    }
    head[len] = '\0';
    int status = 0;
    assert_int_equal(sscanf(head, "HTTP/1.1 %d", &status), 1);
    const char *cl = strcasestr(head, "Content-Length:");
    assert_non_null(cl);
    size_t body_len = strtoul(cl + 15, NULL, 10);
    char body[256];
    assert_true(body_len < sizeof body);
    assert_true(akt_client_recv(c, body, body_len));
    return status;
}

/* POSTs one notification as legacy XDR does (version byte 1 + message);
 * returns the response status. */
static int akt_http_post(akt_client_t *c, int64_t value)
{
    ak_buf_t body, request;
    ak_buf_init(&body);
    ak_buf_init(&request);
    ak_buf_append_byte(&body, 1);
    akt_notification(&body, value);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST / HTTP/1.1\r\nHost: xdr.test\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Length: %zu\r\n\r\n", body.len);
    ak_buf_append(&request, head, (size_t)n);
    ak_buf_append(&request, body.data, body.len);
    bool sent = akt_client_send(c, request.data, request.len);
    ak_buf_free(&body);
    ak_buf_free(&request);
    return sent ? akt_http_response(c) : -1;
}

static void test_tls_http_post_over_tls_is_answered_200(void **state)
{
    (void)state;
    akt_outbound_t *fx = akt_outbound_start("HTTP_1_1", "    allowed-peer-names: aerospike-node-1\n");
    akt_client_t c;
    assert_int_equal(akt_client_open(&c, fx->tls_port, "node1", "http/1.1"), 1);
    assert_string_equal(ak_tls_alpn(c.tls), "http/1.1");
    for (int i = 0; i < 2; i++) /* keep-alive: two requests on one connection */
        assert_int_equal(akt_http_post(&c, 7 + i), 200);
    akt_client_close(&c);
    /* h2 is offered by ALPN; the intruder is refused here too. */
    assert_int_equal(akt_client_open(&c, fx->tls_port, "node1", "h2"), 1);
    assert_string_equal(ak_tls_alpn(c.tls), "h2");
    akt_client_close(&c);
    assert_int_equal(akt_client_open(&c, fx->tls_port, "intruder", "http/1.1"), AK_TLS_ERROR);
    akt_client_close(&c);
    ak_outbound_stats_t stats;
    ak_outbound_stats(fx->ob, &stats);
    assert_int_equal(stats.requests_success, 2);
    akt_outbound_stop(fx);
}

static uint64_t akt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A peer that connects to a TLS port and never handshakes is closed at the
 * deadline (a port scan must not hold a connection for hours); a peer that
 * handshook and then stays quiet past the deadline is kept. */
static void akt_silent_peer_is_closed_at_the_deadline(const char *protocol)
{
    akt_outbound_t *fx = akt_outbound_start_deadline(protocol, "", 400);
    akt_client_t quiet;
    assert_int_equal(akt_client_open(&quiet, fx->tls_port, "node1", NULL), 1);
    uint64_t start = akt_now_ms();
    int fd = akt_connect(fx->tls_port);
    uint8_t buf[64];
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf);
    while (n > 0);
    uint64_t waited = akt_now_ms() - start;
    assert_true(n == 0 || errno == ECONNRESET); /* closed by the connector, not our 10 s read timeout */
    assert_true(waited >= 350 && waited < 5000);
    close(fd);
    /* the handshaken peer outlived the deadline and is still served */
    usleep(200 * 1000);
    if (strcmp(protocol, "TCP") == 0) {
        assert_int_equal(akt_ship(&quiet, 42), 0);
    } else {
        assert_int_equal(akt_http_post(&quiet, 42), 200);
    }
    akt_client_close(&quiet);
    akt_outbound_stop(fx);
}

static void test_tls_peer_without_handshake_is_closed_at_the_deadline_tcp(void **state)
{
    (void)state;
    akt_silent_peer_is_closed_at_the_deadline("TCP");
}

static void test_tls_peer_without_handshake_is_closed_at_the_deadline_http(void **state)
{
    (void)state;
    akt_silent_peer_is_closed_at_the_deadline("HTTP_1_1");
}

static void test_tls_bad_files_and_options_are_named(void **state)
{
    (void)state;
    ak_error_t err;
    ak_tls_server_options_t opts = {.cert_file = akt_path("missing.pem"), .key_file = akt_path("server.key")};
    assert_null(ak_tls_server_ctx_new(&opts, &err));
    assert_non_null(strstr(err.message, "cert-file"));
    assert_non_null(strstr(err.message, "missing.pem"));
    opts.cert_file = akt_path("server.pem");
    opts.key_file = akt_path("node1.key");
    assert_null(ak_tls_server_ctx_new(&opts, &err));
    assert_non_null(strstr(err.message, "key-file "));
    assert_non_null(strstr(err.message, "node1.key: key values mismatch"));
    opts.key_file = akt_path("server.key");
    const char *ciphers[] = {"ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
    opts.ciphers = ciphers;
    opts.n_ciphers = 2;
    assert_null(ak_tls_server_ctx_new(&opts, &err));
    assert_non_null(strstr(err.message, "\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\" is not a cipher"));
    opts.n_ciphers = 1;
    ak_tls_ctx_t *ctx = ak_tls_server_ctx_new(&opts, &err);
    if (!ctx)
        fail_msg("%s", err.message);
    ak_tls_ctx_free(ctx);

    /* Through the connector: the config file and the section lead the message. */
    char yaml[1024];
    int n = snprintf(yaml, sizeof yaml,
                     "service:\n  tls:\n    port: 8443\n    cert-file: nowhere.pem\n    key-file: server.key\n"
                     "producer-props:\n  bootstrap.servers: 127.0.0.1:1\n");
    ak_outbound_config_t *cfg = ak_outbound_config_load_string(yaml, (size_t)n, "tls.yml", akt_dir, &err);
    if (!cfg)
        fail_msg("config: %s", err.message);
    ak_loop_t *loop = ak_loop_new(&err);
    assert_null(ak_outbound_new(loop, cfg, &err));
    assert_non_null(strstr(err.message, "tls.yml: service.tls: cert-file "));
    assert_non_null(strstr(err.message, "nowhere.pem"));
    ak_loop_free(loop);
    ak_outbound_config_free(cfg);

    /* Java key stores are refused with the PEM keys to use instead. */
    const char *jks = "service:\n  tls:\n    port: 8443\n    key-store:\n      store-file: ks.jks\n";
    assert_null(ak_outbound_config_load_string(jks, strlen(jks), "tls.yml", akt_dir, &err));
    assert_non_null(strstr(err.message, "key-store"));
    assert_non_null(strstr(err.message, "PEM"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_wire_notification_is_answered_after_kafka),
        cmocka_unit_test(test_tls_allowed_peer_names_accept_only_listed_certificates),
        cmocka_unit_test(test_tls_intruder_handshake_fails_under_tls12),
        cmocka_unit_test(test_tls_plaintext_on_tls_port_is_closed_and_service_goes_on),
        cmocka_unit_test(test_tls_http_post_over_tls_is_answered_200),
        cmocka_unit_test(test_tls_bad_files_and_options_are_named),
        cmocka_unit_test(test_tls_peer_without_handshake_is_closed_at_the_deadline_tcp),
        cmocka_unit_test(test_tls_peer_without_handshake_is_closed_at_the_deadline_http),
    };
    return cmocka_run_group_tests(tests, akt_group_setup, akt_group_teardown);
}
