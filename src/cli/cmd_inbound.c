/*
 * aerokafka inbound: the inbound connector (Kafka -> Aerospike), configured
 * with Aerospike's aerospike-kafka-inbound.yml.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/ak_cli.h"
#include "common/ak_log.h"
#include "inbound/ak_inbound.h"
#include "inbound/ak_inbound_config.h"
#include "net/ak_loop.h"
#include "net/ak_signal.h"

#define AK_INBOUND_DRAIN_MS 10000
/* Leaving the group and the last commit need Kafka: with its brokers gone
 * librdkafka would wait for them without end. */
#define AK_INBOUND_CLOSE_DEADLINE_S 15

static void ak_inbound_close_deadline(int sig)
{
    (void)sig;
    static const char msg[] = "aerokafka inbound: Kafka did not answer the final commit and group leave "
                              "in time; exiting (records not committed are read again at the next start)\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)n;
    _exit(1);
}

/* From here on a second SIGINT/SIGTERM ends the process at once, and a
 * stuck close cannot hold it forever. */
static void ak_inbound_arm_close_deadline(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGALRM, ak_inbound_close_deadline);
    alarm(AK_INBOUND_CLOSE_DEADLINE_S);
}

static void ak_inbound_usage(FILE *out)
{
    fprintf(out,
            "usage: aerokafka inbound --config FILE [--check]\n\n"
            "Runs the inbound connector: consumes Kafka topics in a consumer group and writes\n"
            "each record to Aerospike, committing an offset only once Aerospike has the record\n"
            "(or it went to the dead-letter topic). FILE is an aerospike-kafka-inbound.yml as\n"
            "Aerospike's connector reads it (docs/INBOUND.md, docs/CONFIGURATION.md).\n\n"
            "  --config FILE   the configuration (default /etc/aerospike-kafka-inbound/aerospike-kafka-inbound.yml)\n"
            "  --check         validate the configuration (and the consumer properties) and exit\n"
            "  -h, --help      this text\n");
}

typedef struct ak_inbound_run {
    ak_loop_t *loop;
    bool stopped;
    bool failed;
} ak_inbound_run_t;

static void ak_inbound_on_stopped(void *ctx, bool failed, const char *message)
{
    ak_inbound_run_t *run = ctx;
    run->stopped = true;
    run->failed = failed;
    if (failed)
        fprintf(stderr, "aerokafka inbound: %s\n", message);
    ak_loop_stop(run->loop);
}

int ak_cmd_inbound(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = "/etc/aerospike-kafka-inbound/aerospike-kafka-inbound.yml";
    bool check = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'k': check = true; break;
        case 'h': ak_inbound_usage(stdout); return 0;
        default: ak_inbound_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aerokafka inbound: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    ak_error_t err;
    ak_inbound_config_t *cfg = ak_inbound_config_load(path, &err);
    if (!cfg) {
        fprintf(stderr, "aerokafka inbound: %s\n", err.message);
        return 1;
    }
    for (size_t i = 0; i < cfg->notes.n; i++)
        fprintf(stderr, "aerokafka inbound: note: %s\n", cfg->notes.items[i]);
    ak_cli_logging_notes("inbound", cfg->path, cfg->logging.levels, cfg->logging.n_levels);
    ak_loop_t *loop = ak_loop_new(&err);
    if (!loop) {
        fprintf(stderr, "aerokafka inbound: %s\n", err.message);
        ak_inbound_config_free(cfg);
        return 1;
    }
    if (check) {
        int status = 0;
        ak_log_set_level(AK_LOG_OFF);
        if (ak_inbound_check(loop, cfg, &err) == AK_OK) {
            printf("%s: configuration is valid\n", path);
        } else {
            fprintf(stderr, "aerokafka inbound: %s\n", err.message);
            status = 1;
        }
        ak_loop_free(loop);
        ak_inbound_config_free(cfg);
        return status;
    }
    const ak_inbound_logging_t *lg = &cfg->logging;
    if (ak_cli_logging_apply("inbound", cfg->path, lg->levels, lg->n_levels, lg->file, lg->enable_console_logging,
                             lg->max_history) != 0) {
        ak_loop_free(loop);
        ak_inbound_config_free(cfg);
        return 1;
    }
    /* SIGINT/SIGTERM stop the loop; the drain below then runs it again. */
    ak_signal_watch_t *signals = ak_signal_watch_stop(loop, &err);
    ak_inbound_run_t run = {loop, false, false};
    ak_inbound_t *ib = signals ? ak_inbound_new(loop, cfg, ak_inbound_on_stopped, &run, &err) : NULL;
    int status = 0;
    if (!ib) {
        fprintf(stderr, "aerokafka inbound: %s\n", err.message);
        status = 1;
    } else {
        ak_log(AK_LOG_INFO, "inbound", "aerokafka %s inbound connector started (%s)", AK_VERSION, path);
        ak_loop_run(loop);
        if (!run.stopped) {
            /* a signal: finish what is in flight, commit, leave the group */
            ak_inbound_stop(ib, AK_INBOUND_DRAIN_MS);
            ak_loop_run(loop);
        }
        status = run.failed ? 1 : 0;
        ak_inbound_arm_close_deadline();
        ak_inbound_free(ib);
        ak_log(AK_LOG_INFO, "inbound", "stopped");
    }
    ak_signal_watch_free(loop, signals);
    ak_loop_free(loop);
    ak_inbound_config_free(cfg);
    ak_log_close();
    return status;
}
