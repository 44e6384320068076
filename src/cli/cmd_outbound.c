/*
 * aerokafka outbound: the outbound connector (Aerospike XDR -> Kafka),
 * configured with Aerospike's aerospike-kafka-outbound.yml.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/ak_cli.h"
#include "common/ak_log.h"
#include "net/ak_loop.h"
#include "net/ak_signal.h"
#include "outbound/ak_outbound.h"
#include "outbound/ak_outbound_config.h"

#define AK_OUTBOUND_DRAIN_MS 10000
#define AK_OUTBOUND_MAX_WORKERS 16

/* Pipelines to run: service.io-threads / worker-threads (the larger), or
 * one per CPU. Sharing a port needs a fixed one. */
static int ak_outbound_workers(const ak_outbound_config_t *cfg)
{
    int64_t asked = cfg->service.io_threads > cfg->service.worker_threads ? cfg->service.io_threads
                                                                           : cfg->service.worker_threads;
    long n = asked > 0 ? (long)asked : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > AK_OUTBOUND_MAX_WORKERS)
        n = AK_OUTBOUND_MAX_WORKERS;
    for (size_t i = 0; i < cfg->service.ports.n; i++)
        if (cfg->service.ports.items[i] == 0)
            return 1;
    for (size_t i = 0; i < cfg->service.tls.ports.n; i++)
        if (cfg->service.tls.ports.items[i] == 0)
            return 1;
    return (int)n;
}

typedef struct ak_outbound_worker {
    ak_loop_t *loop;
    ak_outbound_t *ob;
    pthread_t thread;
    bool started;
} ak_outbound_worker_t;

static void *ak_outbound_worker_main(void *arg)
{
    ak_outbound_worker_t *w = arg;
    ak_loop_run(w->loop);
    return NULL;
}

static void ak_outbound_usage(FILE *out)
{
    fprintf(out,
            "usage: aerokafka outbound --config FILE [--check]\n\n"
            "Runs the outbound connector: receives Aerospike change notifications (XDR over\n"
            "the wire protocol, or legacy HTTP) and publishes them to Kafka, answering XDR\n"
            "only after Kafka has each record. FILE is an aerospike-kafka-outbound.yml as\n"
            "Aerospike's connector reads it (docs/CONFIGURATION.md).\n\n"
            "  --config FILE   the configuration (default /etc/aerospike-kafka-outbound/aerospike-kafka-outbound.yml)\n"
            "  --check         validate the configuration (and the producer properties) and exit\n"
            "  -h, --help      this text\n");
}

int ak_cmd_outbound(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = "/etc/aerospike-kafka-outbound/aerospike-kafka-outbound.yml";
    bool check = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'k': check = true; break;
        case 'h': ak_outbound_usage(stdout); return 0;
        default: ak_outbound_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aerokafka outbound: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    ak_error_t err;
    ak_outbound_config_t *cfg = ak_outbound_config_load(path, &err);
    if (!cfg) {
        fprintf(stderr, "aerokafka outbound: %s\n", err.message);
        return 1;
    }
    for (size_t i = 0; i < cfg->notes.n; i++)
        fprintf(stderr, "aerokafka outbound: note: %s\n", cfg->notes.items[i]);
    ak_cli_logging_notes("outbound", cfg->path, cfg->logging.levels, cfg->logging.n_levels);

    ak_loop_t *loop = ak_loop_new(&err);
    if (!loop) {
        fprintf(stderr, "aerokafka outbound: %s\n", err.message);
        ak_outbound_config_free(cfg);
        return 1;
    }
    if (check) {
        int status = 0;
        /* the probe producer's connection attempts are not the check's news */
        ak_log_set_level(AK_LOG_OFF);
        if (ak_outbound_check(loop, cfg, &err) == AK_OK) {
            printf("%s: configuration is valid\n", path);
        } else {
            fprintf(stderr, "aerokafka outbound: %s\n", err.message);
            status = 1;
        }
        ak_loop_free(loop);
        ak_outbound_config_free(cfg);
        return status;
    }
    const ak_outbound_logging_config_t *lg = &cfg->logging;
    if (ak_cli_logging_apply("outbound", cfg->path, lg->levels, lg->n_levels, lg->file, lg->enable_console_logging,
                             lg->max_history) != 0) {
        ak_loop_free(loop);
        ak_outbound_config_free(cfg);
        return 1;
    }
    /* Blocks SIGINT/SIGTERM before any thread starts, so only the main
     * loop's signalfd sees them. */
    ak_signal_watch_t *signals = ak_signal_watch_stop(loop, &err);
    int n_workers = ak_outbound_workers(cfg);
    ak_outbound_worker_t workers[AK_OUTBOUND_MAX_WORKERS] = {0};
    ak_outbound_t *others[AK_OUTBOUND_MAX_WORKERS];
    int status = 0;
    ak_outbound_t *ob = signals ? ak_outbound_new_worker(loop, cfg, 0, n_workers, &err) : NULL;
    for (int i = 1; ob && i < n_workers; i++) {
        workers[i].loop = ak_loop_new(&err);
        workers[i].ob = workers[i].loop ? ak_outbound_new_worker(workers[i].loop, cfg, i, n_workers, &err) : NULL;
        if (!workers[i].ob) {
            ak_outbound_free(ob, 0);
            ob = NULL;
            break;
        }
        others[i - 1] = workers[i].ob;
    }
    if (!ob) {
        fprintf(stderr, "aerokafka outbound: %s\n", err.message);
        status = 1;
        goto done;
    }
    ak_outbound_link(ob, others, (size_t)n_workers - 1);
    for (int i = 1; i < n_workers; i++)
        workers[i].started = pthread_create(&workers[i].thread, NULL, ak_outbound_worker_main, &workers[i]) == 0;
    ak_log(AK_LOG_INFO, "outbound", "aerokafka %s outbound connector started (%s), %d pipeline%s",
           AK_VERSION, path, n_workers, n_workers == 1 ? "" : "s");
    ak_loop_run(loop);
    ak_log(AK_LOG_INFO, "outbound", "stopping: answering records still in flight (up to %d s)",
           AK_OUTBOUND_DRAIN_MS / 1000);
    for (int i = 1; i < n_workers; i++) {
        if (workers[i].started) {
            ak_loop_stop(workers[i].loop);
            pthread_join(workers[i].thread, NULL);
        }
    }
    /* The other pipelines drain after their threads ended, so each drain
     * runs alone; worker 0 last, as it reads their counters. */
    for (int i = 1; i < n_workers; i++)
        ak_outbound_free(workers[i].ob, AK_OUTBOUND_DRAIN_MS);
    ak_outbound_free(ob, AK_OUTBOUND_DRAIN_MS);
done:
    for (int i = 1; i < n_workers; i++) {
        if (!ob && workers[i].ob)
            ak_outbound_free(workers[i].ob, 0);
        ak_loop_free(workers[i].loop);
    }
    ak_signal_watch_free(loop, signals);
    ak_loop_free(loop);
    ak_outbound_config_free(cfg);
    ak_log_close();
    return status;
}
