/*
 * Ceiling of the inbound benchmark: the Aerospike client alone, writing N
 * records (5 bins, about 200 bytes each) into aerospike-dev as fast as it
 * goes with a bounded number of puts outstanding. Prints records/s and the
 * put latency percentiles (issue -> callback).
 *
 *   bench_client [--seeds HOST:PORT[,...]] [--nodes N] [--records N]
 *                [--in-flight N] [--set NAME] [--json]
 *
 * Without --seeds an in-process aerospike-dev with --nodes nodes (default
 * 1) runs on its own thread, so the client's loop has its thread to itself
 * as it would against a real cluster; with --seeds it writes to an
 * external one (`aerokafka aerospike-dev`). Records go to namespace test,
 * set --set (default bench), keys "bench-<i>".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/ak_client.h"
#include "common/ak_histogram.h"
#include "dev/aerospike/ak_aerospike_dev.h"
#include "net/ak_loop.h"

typedef struct bench {
    ak_loop_t *loop;
    ak_client_t *client;
    ak_client_policy_t policy;
    size_t records;
    size_t in_flight_max;
    size_t issued, completed, failed, in_doubt;
    size_t in_flight;
    int first_error_code;
    char first_error[512];
    uint64_t start_us;
    uint64_t end_us;
    ak_histogram_t latency_us;
    const char *set;
} bench_t;

typedef struct bench_put {
    bench_t *bench;
    uint64_t issued_us;
} bench_put_t;

static void bench_issue(bench_t *b);

static void bench_on_put(const ak_client_result_t *result, void *arg)
{
    bench_put_t *put = arg;
    bench_t *b = put->bench;
    ak_histogram_record(&b->latency_us, ak_clock_us() - put->issued_us);
    free(put);
    b->completed++;
    b->in_flight--;
    if (result->result_code != 0) {
        b->failed++;
        if (result->in_doubt)
            b->in_doubt++;
        if (!b->first_error[0]) {
            b->first_error_code = result->result_code;
            snprintf(b->first_error, sizeof b->first_error, "%s", result->message);
        }
    }
    if (b->completed == b->records) {
        b->end_us = ak_clock_us();
        ak_loop_stop(b->loop);
        return;
    }
    bench_issue(b);
}

/* Keeps in_flight_max puts outstanding. */
static void bench_issue(bench_t *b)
{
    while (b->issued < b->records && b->in_flight < b->in_flight_max) {
        size_t i = b->issued++;
        char key[32];
        snprintf(key, sizeof key, "bench-%zu", i);
        /* 5 bins: two integers, a 100-byte string, a double and a 40-byte
         * blob, about 200 bytes with names and particle headers. */
        static char text[101];
        if (!text[0])
            memset(text, 'x', 100);
        static uint8_t blob[40];
        ak_bin_t bins[5] = {
            {.name = {"id", 2}, .value = ak_value_int((int64_t)i)},
            {.name = {"count", 5}, .value = ak_value_int((int64_t)(i * 7))},
            {.name = {"text", 4}, .value = ak_value_string(text)},
            {.name = {"score", 5}, .value = ak_value_double((double)i / 3.0)},
            {.name = {"blob", 4}, .value = ak_value_blob(blob, sizeof blob)},
        };
        ak_record_t rec;
        ak_record_init(&rec);
        rec.ns = (ak_str_t){"test", 4};
        rec.set = (ak_str_t){b->set, strlen(b->set)};
        rec.has_key = true;
        rec.key = ak_value_string(key);
        rec.bins = bins;
        rec.n_bins = 5;
        bench_put_t *put = malloc(sizeof *put);
        if (!put) {
            fprintf(stderr, "bench_client: out of memory\n");
            exit(1);
        }
        put->bench = b;
        put->issued_us = ak_clock_us();
        ak_error_t err;
        if (ak_client_put(b->client, &rec, &b->policy, bench_on_put, put, &err) != AK_OK) {
            fprintf(stderr, "bench_client: put %zu: %s\n", i, err.message);
            exit(1);
        }
        b->in_flight++;
    }
}

static void bench_on_ready(ak_client_t *client, void *arg)
{
    (void)client;
    bench_t *b = arg;
    b->start_us = ak_clock_us();
    bench_issue(b);
}

static void bench_on_deadline(ak_loop_t *loop, void *arg)
{
    bench_t *b = arg;
    if (ak_client_is_ready(b->client))
        return;
    fprintf(stderr, "bench_client: no cluster: %s\n", ak_client_last_error(b->client));
    ak_loop_stop(loop);
}

static void *bench_asd_main(void *arg)
{
    ak_loop_run(arg);
    return NULL;
}

static void bench_usage(void)
{
    fprintf(stderr, "usage: bench_client [--seeds HOST:PORT[,...]] [--nodes N] [--records N] [--in-flight N] "
                    "[--set NAME] [--json]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *seeds = NULL;
    int nodes = 1;
    bool json = false;
    bench_t b = {0};
    b.records = 1000000;
    b.in_flight_max = 2048;
    b.set = "bench";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
            seeds = argv[++i];
        else if (!strcmp(argv[i], "--nodes") && i + 1 < argc)
            nodes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--records") && i + 1 < argc)
            b.records = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--in-flight") && i + 1 < argc)
            b.in_flight_max = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--set") && i + 1 < argc)
            b.set = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else
            bench_usage();
    }
    if (!b.records || !b.in_flight_max || nodes < 1)
        bench_usage();

    ak_error_t err;
    ak_loop_t *asd_loop = NULL;
    ak_asd_cluster_t *asd = NULL;
    pthread_t asd_thread;
    if (!seeds) {
        asd_loop = ak_loop_new(&err);
        ak_asd_options_t opts = {0};
        opts.nodes = nodes;
        asd = asd_loop ? ak_asd_cluster_new(asd_loop, &opts, &err) : NULL;
        if (!asd) {
            fprintf(stderr, "bench_client: aerospike-dev: %s\n", err.message);
            return 1;
        }
        seeds = ak_asd_cluster_seeds(asd);
        pthread_create(&asd_thread, NULL, bench_asd_main, asd_loop);
    }

    b.loop = ak_loop_new(&err);
    ak_histogram_init(&b.latency_us);
    ak_client_policy_init(&b.policy);
    b.policy.total_timeout_ms = 30000;
    b.policy.socket_timeout_ms = 10000;
    ak_client_config_t config;
    ak_client_config_init(&config);
    config.seeds = seeds;
    /* The bench bounds what is outstanding; the client bounds per node. */
    config.max_in_flight_per_node = (int)b.in_flight_max;
    config.max_queued = b.in_flight_max + 1;
    config.on_ready = bench_on_ready;
    config.on_ready_arg = &b;
    b.client = ak_client_new(b.loop, &config, &err);
    if (!b.client) {
        fprintf(stderr, "bench_client: %s\n", err.message);
        return 1;
    }
    ak_loop_timer(b.loop, 10000, bench_on_deadline, &b); /* only fires if the cluster never shows */
    ak_loop_run(b.loop);

    int rc = 0;
    if (b.completed == b.records) {
        double seconds = (double)(b.end_us - b.start_us) / 1e6;
        double rate = (double)b.records / seconds;
        ak_client_stats_t stats;
        ak_client_stats(b.client, &stats);
        if (json)
            printf("{\"records\":%zu,\"failed\":%zu,\"in_doubt\":%zu,\"elapsed_s\":%.3f,\"records_per_s\":%.0f,"
                   "\"p50_us\":%llu,\"p99_us\":%llu,\"p999_us\":%llu,\"retries\":%llu,\"nodes\":%d,"
                   "\"in_flight\":%zu}\n",
                   b.records, b.failed, b.in_doubt, seconds, rate,
                   (unsigned long long)ak_histogram_percentile(&b.latency_us, 50),
                   (unsigned long long)ak_histogram_percentile(&b.latency_us, 99),
                   (unsigned long long)ak_histogram_percentile(&b.latency_us, 99.9),
                   (unsigned long long)stats.retries, stats.n_nodes, b.in_flight_max);
        else
            printf("client puts: %zu records in %.3f s = %.0f records/s; latency p50 %llu us, p99 %llu us, "
                   "p99.9 %llu us; failed %zu (in doubt %zu), retries %llu, %d node(s), in flight %zu\n",
                   b.records, seconds, rate, (unsigned long long)ak_histogram_percentile(&b.latency_us, 50),
                   (unsigned long long)ak_histogram_percentile(&b.latency_us, 99),
                   (unsigned long long)ak_histogram_percentile(&b.latency_us, 99.9), b.failed, b.in_doubt,
                   (unsigned long long)stats.retries, stats.n_nodes, b.in_flight_max);
        if (b.failed) {
            fprintf(stderr, "bench_client: first failure %d: %s\n", b.first_error_code, b.first_error);
            rc = 1;
        }
    } else {
        fprintf(stderr, "bench_client: %zu of %zu puts completed\n", b.completed, b.records);
        rc = 1;
    }
    ak_client_free(b.client);
    ak_loop_free(b.loop);
    if (asd) {
        ak_loop_stop(asd_loop);
        pthread_join(asd_thread, NULL);
        ak_asd_cluster_free(asd);
        ak_loop_free(asd_loop);
    }
    return rc;
}
