/*
 * The inbound connector's management API, as the outbound one's:
 *   GET /manage/rest/v1             health: 200 while an Aerospike node answers
 *                                   (the client knows the partition map and a node is up) and the connector runs,
 *                                   503 otherwise
 *   GET /manage/rest/v1/metrics     counters as JSON
 *   GET /manage/rest/v1/prometheus  the same in Prometheus text format
 */
#include <stdio.h>
#include <string.h>

#include "common/ak_buf.h"
#include "common/ak_log.h"
#include "inbound/ak_inbound_internal.h"

typedef struct ak_ib_metric {
    const char *name;       /* JSON name */
    const char *prom;       /* Prometheus family (aerospike_kafka_inbound_<prom>) */
    const char *type;       /* counter | gauge */
    int64_t value;
} ak_ib_metric_t;

#define AK_IB_METRICS 16

static size_t ak_ib_metrics(const ak_inbound_stats_t *s, ak_ib_metric_t out[AK_IB_METRICS])
{
    size_t n = 0;
    out[n++] = (ak_ib_metric_t){"records-consumed", "records_consumed_total", "counter", (int64_t)s->consumed};
    out[n++] = (ak_ib_metric_t){"records-written", "records_written_total", "counter", (int64_t)s->written};
    out[n++] = (ak_ib_metric_t){"records-deleted", "records_deleted_total", "counter", (int64_t)s->deleted};
    out[n++] = (ak_ib_metric_t){"records-skipped", "records_skipped_total", "counter", (int64_t)s->skipped};
    out[n++] = (ak_ib_metric_t){"records-failed", "records_failed_total", "counter", (int64_t)s->invalid};
    out[n++] = (ak_ib_metric_t){"records-ignored", "records_ignored_total", "counter", (int64_t)s->ignored};
    out[n++] = (ak_ib_metric_t){"records-dead-lettered", "records_dead_lettered_total", "counter",
                                (int64_t)s->dead_lettered};
    out[n++] = (ak_ib_metric_t){"records-retried", "records_retried_total", "counter", (int64_t)s->retried};
    out[n++] = (ak_ib_metric_t){"aerospike-errors", "aerospike_errors_total", "counter",
                                (int64_t)s->aerospike_errors};
    out[n++] = (ak_ib_metric_t){"records-in-flight", "records_in_flight", "gauge", (int64_t)s->held};
    out[n++] = (ak_ib_metric_t){"writes-in-flight", "writes_in_flight", "gauge", (int64_t)s->writing};
    out[n++] = (ak_ib_metric_t){"records-waiting-for-key", "records_waiting_for_key", "gauge",
                                (int64_t)s->waiting_for_key};
    out[n++] = (ak_ib_metric_t){"consumer-lag", "consumer_lag", "gauge", s->lag};
    out[n++] = (ak_ib_metric_t){"partitions-assigned", "partitions_assigned", "gauge", (int64_t)s->partitions};
    out[n++] = (ak_ib_metric_t){"offsets-committed", "offsets_committed_total", "counter", (int64_t)s->committed};
    out[n++] = (ak_ib_metric_t){"paused", "paused", "gauge", s->paused ? 1 : 0};
    return n;
}

static const double ak_ib_quantiles[] = {0.5, 0.9, 0.99, 0.999};

static void ak_ib_metrics_json(const ak_inbound_stats_t *st, ak_buf_t *out)
{
    ak_ib_metric_t m[AK_IB_METRICS];
    size_t n = ak_ib_metrics(st, m);
    char text[256];
    ak_buf_append_byte(out, '{');
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(text, sizeof text, "\"%s\":%lld,", m[i].name, (long long)m[i].value);
        ak_buf_append(out, text, (size_t)len);
    }
    const ak_histogram_t *h = &st->write_latency_us;
    int len = snprintf(text, sizeof text, "\"write-latency-us\":{\"count\":%llu", (unsigned long long)h->count);
    ak_buf_append(out, text, (size_t)len);
    for (size_t i = 0; i < sizeof ak_ib_quantiles / sizeof ak_ib_quantiles[0]; i++) {
        len = snprintf(text, sizeof text, ",\"p%g\":%llu", ak_ib_quantiles[i] * 100,
                       (unsigned long long)ak_histogram_percentile(h, ak_ib_quantiles[i] * 100));
        ak_buf_append(out, text, (size_t)len);
    }
    len = snprintf(text, sizeof text, "},\"aerospike-ready\":%s}", st->aerospike_ready ? "true" : "false");
    ak_buf_append(out, text, (size_t)len);
}

static void ak_ib_metrics_prometheus(const ak_inbound_stats_t *st, ak_buf_t *out)
{
    ak_ib_metric_t m[AK_IB_METRICS];
    size_t n = ak_ib_metrics(st, m);
    char text[512];
    int len;
    for (size_t i = 0; i < n; i++) {
        len = snprintf(text, sizeof text, "# TYPE aerospike_kafka_inbound_%s %s\naerospike_kafka_inbound_%s %lld\n",
                       m[i].prom, m[i].type, m[i].prom, (long long)m[i].value);
        ak_buf_append(out, text, (size_t)len);
    }
    const ak_histogram_t *h = &st->write_latency_us;
    ak_buf_append_str(out, "# TYPE aerospike_kafka_inbound_write_latency_seconds summary\n");
    for (size_t i = 0; i < sizeof ak_ib_quantiles / sizeof ak_ib_quantiles[0]; i++) {
        len = snprintf(text, sizeof text, "aerospike_kafka_inbound_write_latency_seconds{quantile=\"%g\"} %.6f\n",
                       ak_ib_quantiles[i], (double)ak_histogram_percentile(h, ak_ib_quantiles[i] * 100) / 1e6);
        ak_buf_append(out, text, (size_t)len);
    }
    len = snprintf(text, sizeof text,
                   "aerospike_kafka_inbound_write_latency_seconds_sum %.6f\n"
                   "aerospike_kafka_inbound_write_latency_seconds_count %llu\n",
                   (double)h->sum / 1e6, (unsigned long long)h->count);
    ak_buf_append(out, text, (size_t)len);
}

static bool ak_ib_path_is(const char *path, size_t len, const char *want)
{
    return len == strlen(want) && strncmp(path, want, len) == 0;
}

static void ak_ib_manage_handler(void *ctx, ak_http_request_t *http, const ak_http_request_info_t *info)
{
    ak_inbound_t *ib = ctx;
    if (strcmp(info->method, "GET") != 0) {
        ak_http_respond(http, 405, "text/plain", "GET only", 8);
        return;
    }
    size_t path_len = strcspn(info->path, "?");
    ak_inbound_stats_t st;
    ak_inbound_stats(ib, &st);
    ak_buf_t body;
    ak_buf_init(&body);
    if (ak_ib_path_is(info->path, path_len, "/manage/rest/v1")) {
        bool up = st.aerospike_ready && !ib->failed;
        ak_buf_append_str(&body, up ? "{\"status\":\"ok\",\"aerospike\":\"reachable\"}"
                          : ib->failed ? "{\"status\":\"unhealthy\",\"reason\":\"stopping after a failure\"}"
                                       : "{\"status\":\"unhealthy\",\"aerospike\":\"unreachable\"}");
        ak_http_respond(http, up ? 200 : 503, "application/json", (const char *)body.data, body.len);
    } else if (ak_ib_path_is(info->path, path_len, "/manage/rest/v1/metrics")) {
        ak_ib_metrics_json(&st, &body);
        ak_http_respond(http, 200, "application/json", (const char *)body.data, body.len);
    } else if (ak_ib_path_is(info->path, path_len, "/manage/rest/v1/prometheus")) {
        ak_ib_metrics_prometheus(&st, &body);
        ak_http_respond(http, 200, "text/plain; version=0.0.4", (const char *)body.data, body.len);
    } else {
        ak_http_respond(http, 404, "text/plain", "not found", 9);
    }
    ak_buf_free(&body);
}

ak_status_t ak_ib_manage_start(ak_inbound_t *ib, ak_error_t *err)
{
    ak_http_server_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.host = ib->cfg->manage.address ? ib->cfg->manage.address : "";
    opts.port = (uint16_t)ib->cfg->manage.port;
    ib->manage = ak_http_server_new(ib->loop, &opts, ak_ib_manage_handler, ib, err);
    if (!ib->manage) {
        ak_error_prefix(err, "service.manage");
        return AK_ERR_IO;
    }
    ak_log(AK_LOG_INFO, "inbound", "management API on %s:%u/manage/rest/v1",
           *opts.host ? opts.host : "0.0.0.0", ak_http_server_port(ib->manage));
    return AK_OK;
}

void ak_ib_manage_stop(ak_inbound_t *ib)
{
    if (ib->manage)
        ak_http_server_free(ib->manage);
    ib->manage = NULL;
}

uint16_t ak_inbound_manage_port(const ak_inbound_t *ib)
{
    return ib->manage ? ak_http_server_port(ib->manage) : 0;
}
