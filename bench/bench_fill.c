/*
 * Fills a topic for the inbound benchmark before its clock starts: N JSON
 * records of about 200 bytes with 5 fields, the same bins bench_client
 * writes (two integers, a 100-character string, a double, a 40-character
 * string standing for its 40-byte blob), under distinct string keys
 * "bench-<i>" spread over the partitions by the default partitioner.
 * Prints one JSON object: records, average value bytes, time taken.
 *
 * It then checks that the topic holds every record: kafka-dev (librdkafka's
 * mock cluster) keeps at most 5 MB per partition and silently drops the
 * oldest batches beyond that, so a topic with too few partitions would lose
 * records and the benchmark would wait for writes that never come.
 *
 *   bench_fill BOOTSTRAP TOPIC RECORDS
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/ak_loop.h"

static size_t delivered, failed;
static char first_error[512];

static void bench_fill_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (!msg->err) {
        delivered++;
        return;
    }
    if (!failed++)
        snprintf(first_error, sizeof first_error, "%s", rd_kafka_err2str(msg->err));
}

/* Records between the low and high watermarks of every partition; -1 when
 * the broker cannot tell. */
static long long bench_fill_records_held(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (!rkt || rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1) {
        if (md)
            rd_kafka_metadata_destroy(md);
        if (rkt)
            rd_kafka_topic_destroy(rkt);
        return -1;
    }
    long long held = 0;
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int64_t low, high;
        if (rd_kafka_query_watermark_offsets(rk, topic, md->topics[0].partitions[i].id, &low, &high, 10000) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            held = -1;
            break;
        }
        held += high - low;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return held;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_fill BOOTSTRAP TOPIC RECORDS\n");
        return 2;
    }
    const char *bootstrap = argv[1], *topic = argv[2];
    size_t records = strtoul(argv[3], NULL, 10);
    if (!records) {
        fprintf(stderr, "bench_fill: RECORDS must be a positive number\n");
        return 2;
    }

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Throughput only: large batches, the local mock acknowledges at once. */
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "acks", "1", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "linger.ms", "20", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "batch.num.messages", "10000", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "queue.buffering.max.messages", "500000", errstr, sizeof errstr)) {
        fprintf(stderr, "bench_fill: %s\n", errstr);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, bench_fill_on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "bench_fill: %s\n", errstr);
        return 1;
    }

    char text[101], tag[41];
    memset(text, 'x', 100);
    text[100] = '\0';
    memset(tag, 'b', 40);
    tag[40] = '\0';
    size_t value_bytes = 0;
    uint64_t start = ak_clock_us();
    for (size_t i = 0; i < records; i++) {
        char key[32], value[256];
        int key_len = snprintf(key, sizeof key, "bench-%zu", i);
        int value_len = snprintf(value, sizeof value,
                                 "{\"id\":%zu,\"count\":%zu,\"text\":\"%s\",\"score\":%.17g,\"tag\":\"%s\"}", i,
                                 i * 7, text, (double)i / 3.0, tag);
        value_bytes += (size_t)value_len;
        for (;;) {
            rd_kafka_resp_err_t rc =
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, (size_t)key_len),
                                  RD_KAFKA_V_VALUE(value, (size_t)value_len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (rc == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "bench_fill: record %zu: %s\n", i, rd_kafka_err2str(rc));
                return 1;
            }
            rd_kafka_poll(rk, 5);
        }
        rd_kafka_poll(rk, 0);
    }
    while (delivered + failed < records)
        rd_kafka_poll(rk, 10);
    double secs = (double)(ak_clock_us() - start) / 1e6;
    if (failed) {
        fprintf(stderr, "bench_fill: %zu of %zu records not delivered; first: %s\n", failed, records, first_error);
        rd_kafka_destroy(rk);
        return 1;
    }
    long long held = bench_fill_records_held(rk, topic);
    rd_kafka_destroy(rk);
    if (held != (long long)records) {
        fprintf(stderr,
                "bench_fill: topic %s holds %lld of the %zu records produced: kafka-dev keeps at most 5 MB per "
                "partition; create the topic with more partitions\n",
                topic, held, records);
        return 1;
    }
    printf("{\"records\":%zu,\"avg_value_bytes\":%.0f,\"elapsed_s\":%.3f,\"records_per_s\":%.0f}\n", records,
           (double)value_bytes / (double)records, secs, (double)records / secs);
    return 0;
}
