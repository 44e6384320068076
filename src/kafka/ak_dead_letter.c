#include "kafka/ak_dead_letter.h"

#include "common/ak_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct ak_dead_letter {
    rd_kafka_t *rk;
    rd_kafka_queue_t *main_queue;
    ak_loop_t *loop;
    ak_io_t wake_io;
    int wake_fd;
    bool io_started;
    char *topic;
    char *connector_name;
    bool context_headers;
    ak_dead_letter_done_fn on_done;
    void *ctx;
    ak_dead_letter_stats_t stats;
};

static void ak_dead_letter_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    ak_dead_letter_t *dlq = opaque;
    dlq->stats.in_flight--;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        dlq->stats.delivered++;
        dlq->on_done(dlq->ctx, msg->_private, 0, NULL);
        return;
    }
    dlq->stats.failed++;
    char errstr[512];
    snprintf(errstr, sizeof errstr, "dead-letter topic %s: %s", dlq->topic, rd_kafka_err2str(msg->err));
    dlq->on_done(dlq->ctx, msg->_private, msg->err, errstr);
}

static void ak_dead_letter_on_wake(ak_loop_t *loop, ak_io_t *io, unsigned events)
{
    (void)loop;
    (void)events;
    ak_dead_letter_t *dlq = io->data;
    uint64_t count;
    ssize_t n = read(dlq->wake_fd, &count, sizeof count);
    (void)n;
    rd_kafka_poll(dlq->rk, 0);
}

static void ak_dead_letter_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    ak_log_level_t ours = level <= 3 ? AK_LOG_ERROR : level == 4 ? AK_LOG_WARN : level <= 6 ? AK_LOG_INFO : AK_LOG_DEBUG;
    ak_log(ours, "kafka", "dead-letter %s: %s", fac, buf);
}

/* librdkafka's own table says which properties are consumer-only ("C" in
 * its C/P column); asking it keeps this list right for every version
 * instead of copying it here. Returns a malloc'd newline-separated list
 * with a newline on each side of every name, or NULL. */
static char *ak_dead_letter_consumer_only_names(void)
{
    char *table = NULL;
    size_t table_len = 0;
    FILE *fp = open_memstream(&table, &table_len);
    if (!fp)
        return NULL;
    rd_kafka_conf_properties_show(fp);
    fclose(fp);
    char *names = malloc(table_len + 2);
    if (!names) {
        free(table);
        return NULL;
    }
    size_t used = 0;
    names[used++] = '\n';
    for (char *line = table; line && *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        /* "name   |  C  | range | ..." */
        char *bar = strchr(line, '|');
        if (bar) {
            char *col = bar + 1;
            while (*col == ' ')
                col++;
            size_t name_len = strcspn(line, " |");
            if (col[0] == 'C' && (col[1] == ' ' || col[1] == '|') && name_len > 0) {
                memcpy(names + used, line, name_len);
                used += name_len;
                names[used++] = '\n';
            }
        }
        line = end ? end + 1 : NULL;
    }
    names[used] = '\0';
    free(table);
    return names;
}

static bool ak_dead_letter_listed(const char *names, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = names; (p = strstr(p, name)) != NULL; p += len)
        if (p > names && p[-1] == '\n' && p[len] == '\n')
            return true;
    return false;
}

static bool ak_dead_letter_user_set(const ak_dead_letter_options_t *opts, const char *name,
                                    const char *consumer_only)
{
    for (size_t i = 0; i < opts->prop_count; i++)
        if (strcmp(opts->props[i].name, name) == 0 &&
            !(consumer_only && ak_dead_letter_listed(consumer_only, name)))
            return true;
    return false;
}

ak_dead_letter_t *ak_dead_letter_new(ak_loop_t *loop, const ak_dead_letter_options_t *opts,
                                     ak_error_t *err)
{
    if (!opts->topic || !opts->topic[0] || strlen(opts->topic) > AK_KAFKA_TOPIC_MAX) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "dead letter: the topic name must have 1..%d characters",
                     AK_KAFKA_TOPIC_MAX);
        return NULL;
    }
    if (!opts->on_done) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "dead letter: on_done is required");
        return NULL;
    }
    ak_dead_letter_t *dlq = calloc(1, sizeof *dlq);
    char *consumer_only = NULL;
    if (dlq && opts->from_consumer_props)
        consumer_only = ak_dead_letter_consumer_only_names();
    if (!dlq || !(dlq->topic = strdup(opts->topic)) ||
        (opts->connector_name && !(dlq->connector_name = strdup(opts->connector_name))) ||
        (opts->from_consumer_props && !consumer_only)) {
        ak_error_set(err, AK_ERR_NOMEM, "no memory for the dead-letter producer");
        free(consumer_only);
        if (dlq) {
            free(dlq->topic);
            free(dlq->connector_name);
        }
        free(dlq);
        return NULL;
    }
    dlq->loop = loop;
    dlq->wake_fd = -1;
    dlq->context_headers = opts->context_headers;
    dlq->on_done = opts->on_done;
    dlq->ctx = opts->ctx;

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* A dead-lettered record must be durable before its original offset is
     * committed. */
    static const char *const defaults[][2] = {
        {"acks", "all"},
        {"enable.idempotence", "true"},
        {"linger.ms", "5"},
        /* Kafka Connect's dead-letter producer is a Java producer: the same
         * key lands in the same partition */
        {"partitioner", "murmur2_random"},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (!ak_dead_letter_user_set(opts, defaults[i][0], consumer_only))
            rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], errstr, sizeof errstr);
    const char *section = opts->from_consumer_props ? "consumer-props" : "dead-letter producer props";
    for (size_t i = 0; i < opts->prop_count; i++) {
        const ak_consumer_prop_t *prop = &opts->props[i];
        if (consumer_only && ak_dead_letter_listed(consumer_only, prop->name))
            continue;
        if (rd_kafka_conf_set(conf, prop->name, prop->value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            ak_error_set(err, AK_ERR_INVALID_ARG, "%s%s%s.%s: %s (librdkafka), got \"%s\"",
                         prop->where ? prop->where : "", prop->where ? ": " : "", section, prop->name,
                         errstr, prop->value);
            rd_kafka_conf_destroy(conf);
            free(consumer_only);
            ak_dead_letter_free(dlq, 0);
            return NULL;
        }
    }
    free(consumer_only);
    rd_kafka_conf_set_opaque(conf, dlq);
    rd_kafka_conf_set_dr_msg_cb(conf, ak_dead_letter_dr);
    rd_kafka_conf_set_log_cb(conf, ak_dead_letter_log);
    dlq->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!dlq->rk) {
        ak_error_set(err, AK_ERR_INVALID_ARG, "cannot create the dead-letter producer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        ak_dead_letter_free(dlq, 0);
        return NULL;
    }
    dlq->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (dlq->wake_fd < 0) {
        ak_error_set(err, AK_ERR_IO, "eventfd: %s", strerror(errno));
        ak_dead_letter_free(dlq, 0);
        return NULL;
    }
    dlq->main_queue = rd_kafka_queue_get_main(dlq->rk);
    static const uint64_t one = 1;
    rd_kafka_queue_io_event_enable(dlq->main_queue, dlq->wake_fd, &one, sizeof one);
    ak_io_init(&dlq->wake_io, dlq->wake_fd, ak_dead_letter_on_wake, dlq);
    if (ak_loop_io_start(loop, &dlq->wake_io, AK_IO_READ, err) != AK_OK) {
        ak_dead_letter_free(dlq, 0);
        return NULL;
    }
    dlq->io_started = true;
    return dlq;
}

static rd_kafka_resp_err_t ak_dead_letter_set_header(rd_kafka_headers_t *hdrs, const char *name,
                                                     const char *value)
{
    /* Connect replaces a context header the original already carried. */
    rd_kafka_header_remove(hdrs, name);
    return rd_kafka_header_add(hdrs, name, -1, value, -1);
}

static rd_kafka_resp_err_t ak_dead_letter_add_context(const ak_dead_letter_t *dlq, rd_kafka_headers_t *hdrs,
                                                      const ak_consumer_msg_t *msg,
                                                      const ak_dead_letter_reason_t *reason)
{
    char number[32];
    rd_kafka_resp_err_t rc = ak_dead_letter_set_header(hdrs, AK_DEAD_LETTER_HEADER_TOPIC, msg->topic);
    snprintf(number, sizeof number, "%" PRId32, msg->partition);
    if (!rc)
        rc = ak_dead_letter_set_header(hdrs, AK_DEAD_LETTER_HEADER_PARTITION, number);
    snprintf(number, sizeof number, "%" PRId64, msg->offset);
    if (!rc)
        rc = ak_dead_letter_set_header(hdrs, AK_DEAD_LETTER_HEADER_OFFSET, number);
    if (!rc && dlq->connector_name)
        rc = ak_dead_letter_set_header(hdrs, AK_DEAD_LETTER_HEADER_CONNECTOR, dlq->connector_name);
    if (!rc && reason && reason->stage)
        rc = ak_dead_letter_set_header(hdrs, AK_DEAD_LETTER_HEADER_STAGE, reason->stage);
    if (!rc && reason && reason->class_name)
        rc = ak_dead_letter_set_header(hdrs, AK_DEAD_LETTER_HEADER_CLASS, reason->class_name);
    if (!rc && reason && reason->message)
        rc = ak_dead_letter_set_header(hdrs, AK_DEAD_LETTER_HEADER_MESSAGE, reason->message);
    if (!rc && reason && reason->has_result_code) {
        snprintf(number, sizeof number, "%d", reason->result_code);
        rc = ak_dead_letter_set_header(hdrs, AK_DEAD_LETTER_HEADER_RESULT_CODE, number);
    }
    return rc;
}

ak_status_t ak_dead_letter_send(ak_dead_letter_t *dlq, const ak_consumer_msg_t *msg,
                                const ak_dead_letter_reason_t *reason, void *opaque, ak_error_t *err)
{
    rd_kafka_headers_t *original = NULL;
    rd_kafka_headers_t *hdrs = NULL;
    if (msg->rkmessage && rd_kafka_message_headers(msg->rkmessage, &original) == RD_KAFKA_RESP_ERR_NO_ERROR)
        hdrs = rd_kafka_headers_copy(original);
    else
        hdrs = rd_kafka_headers_new(8);
    rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (dlq->context_headers)
        rc = ak_dead_letter_add_context(dlq, hdrs, msg, reason);
    if (!rc)
        rc = rd_kafka_producev(dlq->rk, RD_KAFKA_V_TOPIC(dlq->topic),
                               RD_KAFKA_V_KEY((void *)msg->key, msg->key_len),
                               RD_KAFKA_V_VALUE((void *)msg->value, msg->value_len),
                               RD_KAFKA_V_TIMESTAMP(msg->timestamp_ms >= 0 ? msg->timestamp_ms : 0),
                               RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (rc) {
        /* On failure the headers stay ours. */
        rd_kafka_headers_destroy(hdrs);
        return ak_error_set(err, rc == RD_KAFKA_RESP_ERR__QUEUE_FULL ? AK_ERR_LIMIT : AK_ERR_IO,
                            "dead-letter %s [%d] offset %lld to %s: %s", msg->topic, (int)msg->partition,
                            (long long)msg->offset, dlq->topic, rd_kafka_err2str(rc));
    }
    dlq->stats.sent++;
    dlq->stats.in_flight++;
    return AK_OK;
}

void ak_dead_letter_stats(const ak_dead_letter_t *dlq, ak_dead_letter_stats_t *out)
{
    *out = dlq->stats;
}

bool ak_dead_letter_get_prop(const ak_dead_letter_t *dlq, const char *name, char *out, size_t cap)
{
    size_t size = cap;
    return rd_kafka_conf_get(rd_kafka_conf(dlq->rk), name, out, &size) == RD_KAFKA_CONF_OK;
}

void ak_dead_letter_free(ak_dead_letter_t *dlq, int timeout_ms)
{
    if (!dlq)
        return;
    if (dlq->rk) {
        if (timeout_ms > 0)
            rd_kafka_flush(dlq->rk, timeout_ms);
        /* Whatever is left is reported failed, so no caller waits forever
         * for an answer. */
        if (dlq->stats.in_flight > 0) {
            rd_kafka_purge(dlq->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            rd_kafka_poll(dlq->rk, 0);
        }
    }
    if (dlq->io_started)
        ak_loop_io_stop(dlq->loop, &dlq->wake_io);
    if (dlq->main_queue) {
        rd_kafka_queue_io_event_enable(dlq->main_queue, -1, NULL, 0);
        rd_kafka_queue_destroy(dlq->main_queue);
    }
    if (dlq->rk)
        rd_kafka_destroy(dlq->rk);
    if (dlq->wake_fd >= 0)
        close(dlq->wake_fd);
    free(dlq->topic);
    free(dlq->connector_name);
    free(dlq);
}
