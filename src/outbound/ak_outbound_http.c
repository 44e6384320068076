/*
 * The legacy HTTP receiver (XDR change notification on servers up to 4.9:
 * POST, body = version byte 1 + one wire message; 200 once Kafka has the
 * record) and the management API (health, metrics, Prometheus).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ak_log.h"
#include "outbound/ak_outbound_internal.h"
#include "wire/ak_proto.h"
#include "wire/ak_result.h"

struct ak_ob_http_req {
    ak_ob_request_t req; /* first: the delivery report's opaque points here */
    ak_http_request_t *http;
};

/* Legacy XDR re-ships anything that is not 200; 400 marks a body we cannot
 * use (re-sending it cannot help), 503 a temporary failure. */
static int ak_ob_http_status(int code)
{
    switch (ak_result_xdr_class(code)) {
    case AK_XDR_DONE: return 200;
    case AK_XDR_RETRY: return 503;
    case AK_XDR_ABANDON: return 400;
    }
    return 500;
}

static void ak_ob_http_answer(ak_outbound_t *ob, ak_ob_request_t *req, int code)
{
    (void)ob;
    ak_ob_http_req_t *hr = (ak_ob_http_req_t *)req;
    int status = ak_ob_http_status(code);
    ak_http_respond(hr->http, status, "text/plain", status == 200 ? "ok" : "error", status == 200 ? 2 : 5);
    free(hr);
}

static void ak_ob_manage_handler(void *ctx, ak_http_request_t *http, const ak_http_request_info_t *info);

static void ak_ob_http_handler(void *ctx, ak_http_request_t *http, const ak_http_request_info_t *info)
{
    ak_outbound_t *ob = ctx;
    /* Aerospike's HTTP connectors serve the management API on the service
     * port itself (the spec's §5.1: "service port = manage port"). */
    if (strncmp(info->path, "/manage/rest/v1", 15) == 0 && (info->path[15] == '\0' || info->path[15] == '/' ||
                                                            info->path[15] == '?')) {
        ak_ob_manage_handler(ob, http, info);
        return;
    }
    if (strcmp(info->method, "GET") == 0 || strcmp(info->method, "HEAD") == 0) {
        ak_http_respond(http, 200, "text/plain", "ok", 2); /* XDR's health check */
        return;
    }
    if (strcmp(info->method, "POST") != 0) {
        ak_http_respond(http, 405, "text/plain", "POST change notifications here", 30);
        return;
    }
    ob->stats.bytes_received += info->body_len;
    if (info->body_len == 0) {
        ak_http_respond(http, 400, "text/plain", "empty body", 10);
        return;
    }
    if (info->body[0] != 1) {
        char text[64];
        int n = snprintf(text, sizeof text, "unsupported version byte %u", info->body[0]);
        ak_http_respond(http, 501, "text/plain", text, (size_t)n);
        return;
    }
    ak_frame_t frame;
    size_t consumed;
    ak_error_t err;
    const uint8_t *msg = info->body + 1;
    size_t len = info->body_len - 1;
    if (ak_frame_next(msg, len, 1, &frame, &consumed, &err) != AK_FRAME_READY || consumed != len ||
        frame.header.type != AK_PROTO_TYPE_MESSAGE) {
        ob->stats.requests_total++;
        ob->stats.requests_parse_error++;
        ob->stats.requests_error++;
        ak_log(AK_LOG_WARN, "outbound", "HTTP body is not one wire message (%zu bytes)", len);
        ak_http_respond(http, 400, "text/plain", "body is not one Aerospike message", 33);
        return;
    }
    if (ak_ob_full(ob)) {
        /* Back-pressure for HTTP: XDR re-ships what is not answered 200. */
        ak_http_respond(http, 503, "text/plain", "busy", 4);
        return;
    }
    ak_ob_http_req_t *hr = calloc(1, sizeof *hr);
    if (!hr) {
        ak_http_respond(http, 503, "text/plain", "busy", 4);
        return;
    }
    hr->req.answer = ak_ob_http_answer;
    hr->req.start_us = ak_loop_now_us(ob->loop);
    hr->http = http;
    ak_ob_process(ob, &hr->req, frame.body, (size_t)frame.header.size, info->local_port);
}

/* A TLS handshake failed or a peer was refused: the server closed it. */
static void ak_ob_http_tls_error(void *ctx, const char *message)
{
    (void)ctx;
    ak_log(AK_LOG_WARN, "outbound", "closing an XDR connection (HTTP over TLS): %s", message);
}

static ak_status_t ak_ob_http_listen(ak_outbound_t *ob, const ak_ob_listen_t *where, ak_tls_ctx_t *tls,
                                     ak_error_t *err)
{
    ak_http_server_options_t opts = {0};
    opts.host = where->host;
    opts.port = where->port;
    opts.tls = tls;
    opts.on_tls_error = ak_ob_http_tls_error;
    opts.tls_handshake_timeout_ms = ak_ob_tls_handshake_timeout_ms(ob);
    opts.reuse_port = ob->workers > 1;
    ak_http_server_t *server = ak_http_server_new(ob->loop, &opts, ak_ob_http_handler, ob, err);
    if (!server)
        return AK_ERR_IO;
    ob->http[ob->n_http++] = server;
    ob->listeners[ob->n_listeners].port = ak_http_server_port(server);
    ob->listeners[ob->n_listeners].fd = -1;
    ob->n_listeners++;
    if (ob->worker == 0)
        ak_log(AK_LOG_INFO, "outbound", "listening for XDR (%s) on %s:%u",
               tls ? "HTTP/1.1 and HTTP/2 over TLS" : "HTTP/1.1 and h2c", *opts.host ? opts.host : "0.0.0.0",
               ak_http_server_port(server));
    return AK_OK;
}

/* Plain ports first, then TLS ports (ak_outbound_port's order). Each server
 * holds its own reference to the TLS context. */
ak_status_t ak_ob_http_start(ak_outbound_t *ob, const ak_ob_settings_t *settings, ak_error_t *err)
{
    for (size_t i = 0; i < settings->n_listen; i++)
        if (ak_ob_http_listen(ob, &settings->listen[i], NULL, err) != AK_OK)
            return AK_ERR_IO;
    for (size_t i = 0; i < settings->n_tls_listen; i++)
        if (ak_ob_http_listen(ob, &settings->tls_listen[i], settings->tls, err) != AK_OK)
            return AK_ERR_IO;
    return AK_OK;
}

void ak_ob_http_free(ak_outbound_t *ob)
{
    for (size_t i = 0; i < ob->n_http; i++)
        ak_http_server_free(ob->http[i]);
    ob->n_http = 0;
}

/* --- management API --- */

typedef struct ak_ob_metric {
    const char *name;
    const char *status; /* Prometheus label for the grouped counters */
    uint64_t value;
} ak_ob_metric_t;

static size_t ak_ob_metrics(const ak_outbound_stats_t *s, ak_ob_metric_t out[16])
{
    size_t n = 0;
    out[n++] = (ak_ob_metric_t){"connections-active", "active", s->connections_active};
    out[n++] = (ak_ob_metric_t){"connections-closed", "closed", s->connections_closed};
    out[n++] = (ak_ob_metric_t){"requests-total", "total", s->requests_total};
    out[n++] = (ak_ob_metric_t){"requests-success", "success", s->requests_success};
    out[n++] = (ak_ob_metric_t){"requests-errors", "error", s->requests_error};
    out[n++] = (ak_ob_metric_t){"requests-parse-error", "parse-error", s->requests_parse_error};
    out[n++] = (ak_ob_metric_t){"requests-format-error", "format-error", s->requests_format_error};
    out[n++] = (ak_ob_metric_t){"requests-skipped", "skipped", s->requests_skipped};
    out[n++] = (ak_ob_metric_t){"requests-queued", "queued", s->requests_queued};
    out[n++] = (ak_ob_metric_t){"kafka-delivery-errors", "kafka-error", s->kafka_errors};
    out[n++] = (ak_ob_metric_t){"bytes-received", NULL, s->bytes_received};
    out[n++] = (ak_ob_metric_t){"reads-paused", NULL, s->paused};
    return n;
}

static const double ak_ob_quantiles[] = {0.5, 0.9, 0.99, 0.999};

static void ak_ob_metrics_json(const ak_outbound_t *ob, const ak_outbound_stats_t *st, ak_buf_t *out)
{
    ak_ob_metric_t m[16];
    size_t n = ak_ob_metrics(st, m);
    char text[256];
    ak_buf_append_byte(out, '{');
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(text, sizeof text, "\"%s\":%llu,", m[i].name, (unsigned long long)m[i].value);
        ak_buf_append(out, text, (size_t)len);
    }
    const ak_histogram_t *h = &st->ack_latency_us;
    int len = snprintf(text, sizeof text, "\"requests-lag-ms\":%lld,\"ack-latency-us\":{\"count\":%llu",
                       (long long)st->lag_ms, (unsigned long long)h->count);
    ak_buf_append(out, text, (size_t)len);
    for (size_t i = 0; i < sizeof ak_ob_quantiles / sizeof ak_ob_quantiles[0]; i++) {
        len = snprintf(text, sizeof text, ",\"p%g\":%llu", ak_ob_quantiles[i] * 100,
                       (unsigned long long)ak_histogram_percentile(h, ak_ob_quantiles[i] * 100));
        ak_buf_append(out, text, (size_t)len);
    }
    len = snprintf(text, sizeof text, "},\"kafka-reachable\":%s}", ak_producer_healthy(ob->producer) ? "true" : "false");
    ak_buf_append(out, text, (size_t)len);
}

static void ak_ob_metrics_prometheus(const ak_outbound_stats_t *st, const char *cluster, ak_buf_t *out)
{
    ak_ob_metric_t m[16];
    size_t n = ak_ob_metrics(st, m);
    char text[512];
    int len;
    ak_buf_append_str(out, "# TYPE aerospike_kafka_outbound_connections gauge\n"
                           "# TYPE aerospike_kafka_outbound_requests counter\n");
    for (size_t i = 0; i < n; i++) {
        if (!m[i].status)
            continue;
        const char *family = i < 2 ? "connections" : "requests";
        len = snprintf(text, sizeof text, "aerospike_kafka_outbound_%s{status=\"%s\",cluster_name=\"%s\"} %llu\n",
                       family, m[i].status, cluster, (unsigned long long)m[i].value);
        ak_buf_append(out, text, (size_t)len);
    }
    len = snprintf(text, sizeof text,
                   "# TYPE aerospike_kafka_outbound_bytes_received counter\n"
                   "aerospike_kafka_outbound_bytes_received{cluster_name=\"%s\"} %llu\n"
                   "# TYPE aerospike_kafka_outbound_requests_lag_ms gauge\n"
                   "aerospike_kafka_outbound_requests_lag_ms{cluster_name=\"%s\"} %lld\n"
                   "# TYPE aerospike_kafka_outbound_ack_latency_seconds summary\n",
                   cluster, (unsigned long long)st->bytes_received, cluster, (long long)st->lag_ms);
    ak_buf_append(out, text, (size_t)len);
    const ak_histogram_t *h = &st->ack_latency_us;
    for (size_t i = 0; i < sizeof ak_ob_quantiles / sizeof ak_ob_quantiles[0]; i++) {
        len = snprintf(text, sizeof text,
                       "aerospike_kafka_outbound_ack_latency_seconds{quantile=\"%g\",cluster_name=\"%s\"} %.6f\n",
                       ak_ob_quantiles[i], cluster,
                       (double)ak_histogram_percentile(h, ak_ob_quantiles[i] * 100) / 1e6);
        ak_buf_append(out, text, (size_t)len);
    }
    len = snprintf(text, sizeof text,
                   "aerospike_kafka_outbound_ack_latency_seconds_sum{cluster_name=\"%s\"} %.6f\n"
                   "aerospike_kafka_outbound_ack_latency_seconds_count{cluster_name=\"%s\"} %llu\n",
                   cluster, (double)h->sum / 1e6, cluster, (unsigned long long)h->count);
    ak_buf_append(out, text, (size_t)len);
}

static void ak_ob_manage_handler(void *ctx, ak_http_request_t *http, const ak_http_request_info_t *info)
{
    ak_outbound_t *ob = ctx;
    if (strcmp(info->method, "GET") != 0) {
        ak_http_respond(http, 405, "text/plain", "GET only", 8);
        return;
    }
    const char *path = info->path;
    size_t path_len = strcspn(path, "?");
    ak_buf_t body;
    ak_buf_init(&body);
    if (path_len == strlen("/manage/rest/v1") && strncmp(path, "/manage/rest/v1", path_len) == 0) {
        bool up = ak_producer_healthy(ob->producer);
        ak_buf_append_str(&body, up ? "{\"status\":\"ok\",\"kafka\":\"reachable\"}"
                                    : "{\"status\":\"unhealthy\",\"kafka\":\"unreachable\"}");
        ak_http_respond(http, up ? 200 : 503, "application/json", body.data, body.len);
    } else if (strncmp(path, "/manage/rest/v1/metrics", path_len) == 0 && path_len == 23) {
        ak_outbound_stats_t total;
        ak_ob_total_stats(ob, &total);
        ak_ob_metrics_json(ob, &total, &body);
        ak_http_respond(http, 200, "application/json", body.data, body.len);
    } else if (strncmp(path, "/manage/rest/v1/prometheus", path_len) == 0 && path_len == 26) {
        ak_outbound_stats_t total;
        ak_ob_total_stats(ob, &total);
        ak_ob_metrics_prometheus(&total, ak_ob_cluster_name(ob->cfg), &body);
        ak_http_respond(http, 200, "text/plain; version=0.0.4", body.data, body.len);
    } else {
        ak_http_respond(http, 404, "text/plain", "not found", 9);
    }
    ak_buf_free(&body);
}

ak_status_t ak_ob_manage_start(ak_outbound_t *ob, const ak_ob_settings_t *settings, ak_error_t *err)
{
    ak_http_server_options_t opts = {0};
    opts.host = settings->manage.host;
    opts.port = settings->manage.port;
    ob->manage = ak_http_server_new(ob->loop, &opts, ak_ob_manage_handler, ob, err);
    if (!ob->manage) {
        ak_error_prefix(err, "service.manage");
        return AK_ERR_IO;
    }
    ak_log(AK_LOG_INFO, "outbound", "management API on %s:%u/manage/rest/v1",
           *opts.host ? opts.host : "0.0.0.0", ak_http_server_port(ob->manage));
    return AK_OK;
}
