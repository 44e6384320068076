#include "outbound/ak_outbound.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "common/ak_log.h"
#include "format/ak_format.h"
#include "kafka/ak_producer.h"
#include "net/ak_http_server.h"
#include "net/ak_sock.h"
#include "outbound/ak_bin_transform.h"
#include "outbound/ak_outbound_internal.h"
#include "outbound/ak_route.h"
#include "wire/ak_compress.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"
#include "wire/ak_result.h"

#define AK_OB_SLOTS_PER_CONN 4096

/* --- answers ---
 * The codes we answer XDR with (XDR sorts them; shared spec outbound.md
 * §1.5). UNCONFIRMED which numbers the Java connector uses; any code of the
 * right class has the documented effect. */
#define AK_OB_ANSWER_OK AK_RESULT_OK
#define AK_OB_ANSWER_RETRY AK_RESULT_UNAVAILABLE    /* Kafka failed: re-ship later */
#define AK_OB_ANSWER_ABANDON AK_RESULT_PARAMETER    /* cannot be decoded or formatted */

/* ------------------------------------------------------------ pipeline */

static uint64_t ak_ob_now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* exp for the formats: Unix seconds, 0 = never, -1 = not shipped. XDR's
 * record_ttl is relative (seconds from now); both 0xFFFFFFFF and 0 mean the
 * record does not expire (0 is what a never-expiring record carries when a
 * shipper sends its void time 0); 0xFFFFFFFE ("leave unchanged") tells us
 * nothing. */
static int64_t ak_ob_exp(const ak_record_t *rec, uint64_t now_ms)
{
    if (rec->op != AK_RECORD_WRITE)
        return -1;
    if (rec->ttl == AK_TTL_NEVER_EXPIRE || rec->ttl == 0)
        return 0;
    if (rec->ttl == AK_TTL_DONT_UPDATE)
        return -1;
    return (int64_t)(now_ms / 1000u) + (int64_t)rec->ttl;
}

void ak_ob_finish(ak_outbound_t *ob, ak_ob_request_t *req, int code)
{
    uint64_t now = ak_loop_now_us(ob->loop);
    uint64_t latency = now > req->start_us ? now - req->start_us : 0;
    ak_histogram_record(&ob->stats.ack_latency_us, latency);
    req->answer(ob, req, code);
}

/* Runs one decoded message through the pipeline. Returns true when the
 * record was handed to Kafka (its answer comes from the delivery report);
 * otherwise it has been answered already. */
bool ak_ob_process(ak_outbound_t *ob, ak_ob_request_t *req, const uint8_t *msg_body, size_t len,
                   uint16_t listen_port)
{
    ak_outbound_stats_t *st = &ob->stats;
    st->requests_total++;
    ak_arena_reset(&ob->arena);
    ak_error_t err;
    ak_msg_t msg;
    ak_record_t rec;
    if (ak_msg_parse(msg_body, len, AK_PROTO_HEADER_SIZE, &ob->arena, &msg, &err) != AK_OK ||
        ak_record_from_msg(&msg, &ob->arena, &rec, &err) != AK_OK) {
        st->requests_parse_error++;
        st->requests_error++;
        ak_log(AK_LOG_WARN, "outbound", "abandoning an undecodable record (port %u): %s", listen_port,
               err.message);
        ak_ob_finish(ob, req, AK_OB_ANSWER_ABANDON);
        return false;
    }
    /* wall clock: read once per loop iteration */
    if (ob->wall_stamp_us != ak_loop_now_us(ob->loop)) {
        ob->wall_stamp_us = ak_loop_now_us(ob->loop);
        ob->wall_ms = ak_ob_now_unix_ms();
    }
    uint64_t now_ms = ob->wall_ms;
    if (rec.has_lut)
        st->lag_ms = (int64_t)now_ms - (int64_t)rec.lut_ms;

    const ak_outbound_policy_t *policy =
        ak_outbound_policy_for(ob->cfg, listen_port, rec.ns.data, rec.ns.len, rec.set.data, rec.set.len);
    ak_record_t shaped;
    if (ak_bin_transform_apply(policy->bin_transforms, &rec, &ob->arena, &shaped, &err) != AK_OK) {
        st->requests_format_error++;
        st->requests_error++;
        ak_log(AK_LOG_WARN, "outbound", "abandoning %.*s/%.*s record: bin-transforms: %s", (int)rec.ns.len,
               rec.ns.data, (int)rec.set.len, rec.set.data, err.message);
        ak_ob_finish(ob, req, AK_OB_ANSWER_ABANDON);
        return false;
    }
    ak_buf_clear(&ob->topic);
    ak_route_result_t route = ak_route_resolve(policy->routing, &shaped, &ob->topic);
    if (route != AK_ROUTE_ROUTED) {
        /* routing skip, or no route: answered as success and counted */
        st->requests_skipped++;
        ak_ob_finish(ob, req, AK_OB_ANSWER_OK);
        return false;
    }
    if (!policy->format) {
        st->requests_skipped++; /* no format at any level */
        ak_ob_finish(ob, req, AK_OB_ANSWER_OK);
        return false;
    }
    ak_formatter_t *fmt = policy->format_index < ob->n_formatters ? ob->formatters[policy->format_index] : NULL;
    ak_format_input_t in = {&shaped, (const char *)ob->topic.data, ak_ob_exp(&shaped, now_ms)};
    ak_buf_clear(&ob->value);
    ak_buf_clear(&ob->key);
    ak_status_t fs = fmt ? ak_format_record(fmt, &in, &ob->value, &ob->key, &err)
                         : ak_error_set(&err, AK_ERR_INVALID_ARG, "no formatter %zu", policy->format_index);
    if (fs != AK_OK) {
        st->requests_error++;
        if (fs == AK_ERR_IO) {
            ak_log(AK_LOG_WARN, "outbound", "record for %s not formatted, XDR will retry: %s",
                   (const char *)ob->topic.data, err.message);
            ak_ob_finish(ob, req, AK_OB_ANSWER_RETRY);
        } else {
            st->requests_format_error++;
            ak_log(AK_LOG_WARN, "outbound", "abandoning a record for %s: %s", (const char *)ob->topic.data,
                   err.message);
            ak_ob_finish(ob, req, AK_OB_ANSWER_ABANDON);
        }
        return false;
    }
    int rc = ak_producer_send(ob->producer, (const char *)ob->topic.data, ob->key.data, ob->key.len,
                              ob->value.data, ob->value.len, (int64_t)now_ms, req);
    if (rc != 0) {
        st->requests_error++;
        st->kafka_errors++;
        ak_log(AK_LOG_WARN, "outbound", "cannot queue a record for %s, XDR will retry: error %d",
               (const char *)ob->topic.data, rc);
        ak_ob_finish(ob, req, AK_OB_ANSWER_RETRY);
        return false;
    }
    st->requests_queued++;
    return true;
}

static void ak_ob_on_delivery(void *ctx, void *msg_opaque, int error, const char *errstr)
{
    ak_outbound_t *ob = ctx;
    ak_ob_request_t *req = msg_opaque;
    ob->stats.requests_queued--;
    if (error == 0) {
        ob->stats.requests_success++;
        ak_ob_finish(ob, req, AK_OB_ANSWER_OK);
    } else {
        ob->stats.requests_error++;
        ob->stats.kafka_errors++;
        ak_log(AK_LOG_WARN, "outbound", "Kafka delivery failed, XDR will retry: %s", errstr ? errstr : "?");
        ak_ob_finish(ob, req, AK_OB_ANSWER_RETRY);
    }
    ak_ob_tcp_maybe_resume(ob);
}

bool ak_ob_full(const ak_outbound_t *ob)
{
    return ob->stats.requests_queued >= ob->max_in_flight;
}

/* ------------------------------------------------------------ totals */

static void ak_ob_add_stats(ak_outbound_stats_t *into, const ak_outbound_stats_t *from)
{
    into->connections_active += from->connections_active;
    into->connections_closed += from->connections_closed;
    into->requests_total += from->requests_total;
    into->requests_success += from->requests_success;
    into->requests_error += from->requests_error;
    into->requests_parse_error += from->requests_parse_error;
    into->requests_format_error += from->requests_format_error;
    into->requests_skipped += from->requests_skipped;
    into->requests_queued += from->requests_queued;
    into->kafka_errors += from->kafka_errors;
    into->bytes_received += from->bytes_received;
    into->paused += from->paused;
    if (from->lag_ms > into->lag_ms)
        into->lag_ms = from->lag_ms;
    ak_histogram_merge(&into->ack_latency_us, &from->ack_latency_us);
}

static void ak_ob_add_published(ak_outbound_stats_t *total, ak_outbound_t *from)
{
    pthread_mutex_lock(&from->published_lock);
    ak_ob_add_stats(total, &from->published);
    pthread_mutex_unlock(&from->published_lock);
}

void ak_ob_total_stats(const ak_outbound_t *ob, ak_outbound_stats_t *total)
{
    *total = ob->stats;
    if (ob->primary)
        ak_ob_add_published(total, ob->primary);
    const ak_outbound_t *primary = ob->primary ? ob->primary : ob;
    for (size_t i = 0; i < primary->n_siblings; i++)
        if (primary->siblings[i] != ob)
            ak_ob_add_published(total, primary->siblings[i]);
}

/* With several pipelines each publishes its counters for the others to add
 * up (ak_ob_total_stats). */
static void ak_ob_publish(ak_loop_t *loop, void *arg)
{
    ak_outbound_t *ob = arg;
    pthread_mutex_lock(&ob->published_lock);
    ob->published = ob->stats;
    pthread_mutex_unlock(&ob->published_lock);
    ob->publish_timer = ak_loop_timer(loop, 200, ak_ob_publish, ob);
}

void ak_outbound_link(ak_outbound_t *primary, ak_outbound_t *const *others, size_t n)
{
    primary->siblings = calloc(n ? n : 1, sizeof *primary->siblings);
    if (!primary->siblings)
        return;
    for (size_t i = 0; i < n; i++) {
        primary->siblings[i] = others[i];
        others[i]->primary = primary;
    }
    primary->n_siblings = n;
}

/* ------------------------------------------------------------ ticker */

static void ak_ob_ticker(ak_loop_t *loop, void *arg)
{
    ak_outbound_t *ob = arg;
    ak_outbound_stats_t total;
    ak_ob_total_stats(ob, &total);
    ak_outbound_stats_t *s = &total;
    ak_log(AK_LOG_INFO, "stats",
           "connections %llu active %llu closed; requests %llu total, %llu success, %llu error "
           "(%llu parse, %llu format, %llu kafka), %llu skipped, %llu queued; ack latency p50 %llu us "
           "p99 %llu us; lag %lld ms; kafka %s",
           (unsigned long long)s->connections_active, (unsigned long long)s->connections_closed,
           (unsigned long long)s->requests_total, (unsigned long long)s->requests_success,
           (unsigned long long)s->requests_error, (unsigned long long)s->requests_parse_error,
           (unsigned long long)s->requests_format_error, (unsigned long long)s->kafka_errors,
           (unsigned long long)s->requests_skipped, (unsigned long long)s->requests_queued,
           (unsigned long long)ak_histogram_percentile(&s->ack_latency_us, 50),
           (unsigned long long)ak_histogram_percentile(&s->ack_latency_us, 99), (long long)s->lag_ms,
           ak_producer_healthy(ob->producer) ? "up" : "unreachable");
    ob->ticker = ak_loop_timer(loop, ob->ticker_ms, ak_ob_ticker, ob);
}

/* ------------------------------------------------------------ lifecycle */

ak_outbound_t *ak_outbound_new(ak_loop_t *loop, const ak_outbound_config_t *cfg, ak_error_t *err)
{
    return ak_outbound_new_worker(loop, cfg, 0, 1, err);
}

ak_outbound_t *ak_outbound_new_worker(ak_loop_t *loop, const ak_outbound_config_t *cfg, int worker,
                                      int workers, ak_error_t *err)
{
    ak_outbound_t *ob = calloc(1, sizeof *ob);
    if (!ob) {
        ak_error_set(err, AK_ERR_NOMEM, "no memory for the outbound connector");
        return NULL;
    }
    ob->loop = loop;
    ob->cfg = cfg;
    ob->worker = worker;
    ob->workers = workers > 0 ? workers : 1;
    pthread_mutex_init(&ob->published_lock, NULL);
    ak_arena_init(&ob->arena, 65536);
    ak_buf_init(&ob->topic);
    ak_buf_init(&ob->value);
    ak_buf_init(&ob->key);
    ak_histogram_init(&ob->stats.ack_latency_us);
    ak_ob_settings_t settings;
    if (ak_ob_settings_from_config(cfg, &settings, err) != AK_OK)
        goto fail;
    /* the in-flight bound is the connector's: each pipeline takes its share */
    ob->max_in_flight = settings.max_concurrent_records / (size_t)ob->workers;
    if (ob->max_in_flight == 0)
        ob->max_in_flight = 1;
    ob->ticker_ms = settings.ticker_ms;
    ob->read_chunk = settings.read_chunk;

    ob->producer = ak_producer_new(loop, settings.producer_props, settings.n_producer_props,
                                   ak_ob_on_delivery, ob, err);
    if (!ob->producer)
        goto fail;
    /* One formatter per distinct format section, built now so that a bad
     * schema stops the start. */
    if (settings.n_formats) {
        ob->formatters = calloc(settings.n_formats, sizeof *ob->formatters);
        if (!ob->formatters) {
            ak_error_set(err, AK_ERR_NOMEM, "no memory for formatters");
            goto fail;
        }
    }
    for (size_t i = 0; i < settings.n_formats; i++) {
        ob->formatters[i] = ak_formatter_new(settings.formats[i], err);
        if (!ob->formatters[i]) {
            ak_error_prefix(err, "%s: format (%s)", cfg->path ? cfg->path : "config",
                            ak_format_mode_name(settings.formats[i]->mode));
            goto fail;
        }
        ob->n_formatters++;
    }
    if (settings.http) {
        if (ak_ob_http_start(ob, &settings, err) != AK_OK)
            goto fail;
    } else if (ak_ob_tcp_start(ob, &settings, err) != AK_OK) {
        goto fail;
    }
    if (worker == 0 && settings.manage_port_set && ak_ob_manage_start(ob, &settings, err) != AK_OK)
        goto fail;
    if (worker == 0 && ob->ticker_ms)
        ob->ticker = ak_loop_timer(loop, ob->ticker_ms, ak_ob_ticker, ob);
    /* every pipeline's counters are read by the others: worker 0's through
     * the management port, any one's through an HTTP service port */
    if (workers > 1)
        ob->publish_timer = ak_loop_timer(loop, 200, ak_ob_publish, ob);
    ak_ob_settings_free(&settings);
    return ob;
fail:
    ak_ob_settings_free(&settings);
    ak_outbound_free(ob, 0);
    return NULL;
}

ak_status_t ak_outbound_check(ak_loop_t *loop, const ak_outbound_config_t *cfg, ak_error_t *err)
{
    ak_ob_settings_t settings;
    ak_status_t st = ak_ob_settings_from_config(cfg, &settings, err);
    if (st != AK_OK)
        return st;
    ak_producer_t *prod = ak_producer_new(loop, settings.producer_props, settings.n_producer_props,
                                          NULL, NULL, err);
    if (!prod)
        st = err ? err->status : AK_ERR_INVALID_ARG;
    ak_producer_free(prod, 0);
    for (size_t i = 0; st == AK_OK && i < settings.n_formats; i++) {
        ak_formatter_t *fmt = ak_formatter_new(settings.formats[i], err);
        if (!fmt) {
            st = err ? err->status : AK_ERR_INVALID_ARG;
            ak_error_prefix(err, "%s: format (%s)", cfg->path ? cfg->path : "config",
                            ak_format_mode_name(settings.formats[i]->mode));
        }
        ak_formatter_free(fmt);
    }
    ak_ob_settings_free(&settings);
    return st;
}

uint16_t ak_outbound_port(const ak_outbound_t *ob, size_t index)
{
    return index < ob->n_listeners ? ob->listeners[index].port : 0;
}

uint16_t ak_outbound_manage_port(const ak_outbound_t *ob)
{
    return ob->manage ? ak_http_server_port(ob->manage) : 0;
}

void ak_outbound_stats(const ak_outbound_t *ob, ak_outbound_stats_t *stats)
{
    *stats = ob->stats;
}

void ak_outbound_free(ak_outbound_t *ob, int timeout_ms)
{
    if (!ob)
        return;
    if (ob->ticker)
        ak_loop_timer_cancel(ob->loop, ob->ticker);
    if (ob->publish_timer)
        ak_loop_timer_cancel(ob->loop, ob->publish_timer);
    ak_ob_tcp_stop_listening(ob);
    /* Deliveries in flight still answer their connections while we wait;
     * the loop no longer runs, so answers are written at once. */
    ob->ack_buffering = false;
    if (ob->producer && timeout_ms > 0) {
        uint64_t deadline = ak_clock_ms() + (uint64_t)timeout_ms;
        while (ob->stats.requests_queued && ak_clock_ms() < deadline)
            ak_producer_poll(ob->producer, 100);
    }
    ak_producer_free(ob->producer, 0);
    ak_ob_tcp_free(ob);
    ak_ob_http_free(ob);
    if (ob->manage)
        ak_http_server_free(ob->manage);
    for (size_t i = 0; i < ob->n_formatters; i++)
        ak_formatter_free(ob->formatters[i]);
    free(ob->formatters);
    ak_arena_destroy(&ob->arena);
    ak_buf_free(&ob->topic);
    ak_buf_free(&ob->value);
    ak_buf_free(&ob->key);
    free(ob->siblings);
    pthread_mutex_destroy(&ob->published_lock);
    free(ob);
}
