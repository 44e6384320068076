/*
 * Ceiling (b) of the outbound benchmark: a bare librdkafka producer sending
 * the payloads the connector would send for the same xdr-load records
 * (same seed, bins and value size), pre-formatted as flat-json before the
 * clock starts, with the connector's producer defaults (acks=all,
 * idempotence, linger.ms=2, batch.size=131072, partitioner=murmur2_random).
 * Prints records/s.
 *
 *   bench_produce BOOTSTRAP TOPIC RECORDS BINS VALUE_SIZE
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "dev/ak_xdr_load.h"
#include "format/ak_format.h"
#include "net/ak_loop.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"
#include "wire/ak_record.h"

static size_t delivered, failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (msg->err)
        failed++;
    else
        delivered++;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_produce BOOTSTRAP TOPIC RECORDS BINS VALUE_SIZE\n");
        return 2;
    }
    const char *bootstrap = argv[1], *topic = argv[2];
    size_t records = strtoul(argv[3], NULL, 10);
    ak_xdr_load_options_t opts = {0};
    opts.records = records;
    opts.bins = (uint32_t)strtoul(argv[4], NULL, 10);
    opts.value_size = (uint32_t)strtoul(argv[5], NULL, 10);
    opts.seed = 1;

    /* The payloads, formatted before the clock starts. */
    ak_error_t err;
    ak_buf_t frames;
    ak_buf_init(&frames);
    if (ak_xdr_load_frames(&opts, 0, records, &frames, &err) != AK_OK) {
        fprintf(stderr, "bench_produce: %s\n", err.message);
        return 1;
    }
    ak_format_config_t fmt_cfg = {0};
    fmt_cfg.mode = AK_FORMAT_FLAT_JSON;
    fmt_cfg.metadata_key = "metadata";
    fmt_cfg.stringify_map_keys = true;
    ak_formatter_t *fmt = ak_formatter_new(&fmt_cfg, &err);
    if (!fmt) {
        fprintf(stderr, "bench_produce: %s\n", err.message);
        return 1;
    }
    ak_buf_t values, keys;
    ak_buf_init(&values);
    ak_buf_init(&keys);
    size_t *value_end = malloc(records * sizeof *value_end);
    ak_arena_t arena;
    ak_arena_init(&arena, 65536);
    size_t pos = 0;
    for (size_t i = 0; i < records; i++) {
        ak_frame_t frame;
        size_t consumed;
        ak_msg_t msg;
        ak_record_t rec;
        ak_arena_reset(&arena);
        if (ak_frame_next(frames.data + pos, frames.len - pos, pos, &frame, &consumed, &err) != AK_FRAME_READY ||
            ak_msg_parse(frame.body, (size_t)frame.header.size, 8, &arena, &msg, &err) != AK_OK ||
            ak_record_from_msg(&msg, &arena, &rec, &err) != AK_OK) {
            fprintf(stderr, "bench_produce: record %zu: %s\n", i, err.message);
            return 1;
        }
        pos += consumed;
        ak_format_input_t in = {&rec, topic, 0};
        if (ak_format_record(fmt, &in, &values, &keys, &err) != AK_OK) {
            fprintf(stderr, "bench_produce: record %zu: %s\n", i, err.message);
            return 1;
        }
        value_end[i] = values.len;
    }
    ak_arena_destroy(&arena);
    ak_buf_free(&frames);

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "linger.ms", "2", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "batch.size", "131072", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "partitioner", "murmur2_random", errstr, sizeof errstr)) {
        fprintf(stderr, "bench_produce: %s\n", errstr);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "bench_produce: %s\n", errstr);
        return 1;
    }
    /* Warm-up, as for the connector: metadata and the idempotence handshake
     * happen before the clock starts. */
    for (size_t i = 0; i < 1000 && i < records; i++)
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(keys.data + 20 * i, 20),
                          RD_KAFKA_V_VALUE(values.data, value_end[0]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END);
    rd_kafka_flush(rk, 10000);
    delivered = failed = 0;
    uint64_t start = ak_clock_us();
    size_t prev = 0;
    for (size_t i = 0; i < records; i++) {
        for (;;) {
            rd_kafka_resp_err_t rc = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(keys.data + 20 * i, 20),
                RD_KAFKA_V_VALUE(values.data + prev, value_end[i] - prev),
                /* copied, as the connector must (it formats into a reused buffer) */
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (rc == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "bench_produce: %s\n", rd_kafka_err2str(rc));
                return 1;
            }
            rd_kafka_poll(rk, 1);
        }
        prev = value_end[i];
        rd_kafka_poll(rk, 0);
    }
    while (delivered + failed < records)
        rd_kafka_poll(rk, 10);
    double secs = (double)(ak_clock_us() - start) / 1e6;
    printf("{\"records\":%zu,\"delivered\":%zu,\"failed\":%zu,\"elapsed_s\":%.3f,\"records_per_s\":%.0f,"
           "\"avg_value_bytes\":%.0f}\n",
           records, delivered, failed, secs, (double)delivered / secs, (double)values.len / (double)records);
    rd_kafka_destroy(rk);
    ak_formatter_free(fmt);
    ak_buf_free(&values);
    ak_buf_free(&keys);
    free(value_end);
    return failed ? 1 : 0;
}
