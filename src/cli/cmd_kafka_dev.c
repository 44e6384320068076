/*
 * aerokafka kafka-dev: an in-memory Kafka cluster (librdkafka's mock
 * cluster) for development and tests.
 *   kafka-dev [--brokers N] [--port P] [--topic NAME:PARTITIONS]...
 *
 * The first line on stdout is BOOTSTRAP=host:port,... so scripts can read it
 * and go; the cluster then serves until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cli/ak_cli.h"
#include "dev/ak_kafka_dev.h"

static void ak_kafka_dev_usage(FILE *out)
{
    fprintf(out,
            "usage: aerokafka kafka-dev [--brokers N] [--port P] [--topic NAME:PARTITIONS]...\n"
            "\n"
            "Runs an in-memory Kafka cluster (librdkafka's mock cluster) on 127.0.0.1 until\n"
            "SIGINT or SIGTERM. The first line on stdout is BOOTSTRAP=host:port,... to pass\n"
            "to any Kafka client as bootstrap.servers.\n"
            "\n"
            "  --brokers N          brokers, ids 1..N (default 1, at most %d)\n"
            "  --port P             broker i listens on port P+i-1 (default 0: ports the\n"
            "                       kernel chooses; librdkafka %s's mock cluster)\n"
            "  --topic NAME:PARTITIONS\n"
            "                       create a topic before serving (repeatable)\n"
            "  -h, --help           this text\n"
            "\n"
            "Topics a producer names are created on first use with %d partitions.\n",
            AK_KAFKA_DEV_MAX_BROKERS, rd_kafka_version_str(), AK_KAFKA_DEV_AUTO_PARTITIONS);
}

/* Whole-string decimal in [min, max]; 0 on success, -1 otherwise. */
static int ak_kafka_dev_parse_int(const char *text, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
        return -1;
    *out = (int)value;
    return 0;
}

/* Splits NAME:PARTITIONS in place (text is a copy we own). There is no
 * replication field: librdkafka 2.0.2's mock ignores it. */
static int ak_kafka_dev_parse_topic(char *text, ak_kafka_dev_topic_t *topic)
{
    char *colon = strchr(text, ':');
    if (!colon || colon == text)
        return -1;
    *colon = '\0';
    topic->name = text;
    topic->replication = 0;
    return ak_kafka_dev_parse_int(colon + 1, 1, AK_KAFKA_DEV_MAX_PARTITIONS, &topic->partitions);
}

/* librdkafka logs from its own threads; warnings and worse are worth a
 * line on stderr, the rest is noise for a dev cluster. */
static void ak_kafka_dev_log_stderr(void *opaque, int level, const char *facility,
                                    const char *message)
{
    (void)opaque;
    if (level <= LOG_WARNING)
        fprintf(stderr, "kafka-dev: librdkafka %s: %s\n", facility, message);
}

int ak_cmd_kafka_dev(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},
        {"topic", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ak_kafka_dev_options_t opts = {.brokers = 1, .log = ak_kafka_dev_log_stderr};
    /* At most one topic per argument, so argc bounds the table. */
    ak_kafka_dev_topic_t *topics = calloc((size_t)argc + 1, sizeof *topics);
    char **topic_texts = calloc((size_t)argc + 1, sizeof *topic_texts);
    size_t topic_count = 0;
    int status = 2;
    if (!topics || !topic_texts) {
        fprintf(stderr, "aerokafka kafka-dev: out of memory\n");
        status = 1;
        goto done;
    }

    opterr = 0; /* we name the bad argument ourselves */
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (ak_kafka_dev_parse_int(optarg, 1, AK_KAFKA_DEV_MAX_BROKERS, &opts.brokers) != 0) {
                fprintf(stderr, "aerokafka kafka-dev: --brokers '%s': expected a number 1..%d\n",
                        optarg, AK_KAFKA_DEV_MAX_BROKERS);
                goto done;
            }
            break;
        case 'p':
            if (ak_kafka_dev_parse_int(optarg, 0, 65535, &opts.port) != 0) {
                fprintf(stderr, "aerokafka kafka-dev: --port '%s': expected a port 0..65535\n",
                        optarg);
                goto done;
            }
            break;
        case 't':
            topic_texts[topic_count] = strdup(optarg);
            if (!topic_texts[topic_count]) {
                fprintf(stderr, "aerokafka kafka-dev: out of memory\n");
                status = 1;
                goto done;
            }
            topic_count++;
            if (ak_kafka_dev_parse_topic(topic_texts[topic_count - 1], &topics[topic_count - 1]) != 0) {
                fprintf(stderr,
                        "aerokafka kafka-dev: --topic '%s': expected NAME:PARTITIONS with 1..%d "
                        "partitions\n",
                        optarg, AK_KAFKA_DEV_MAX_PARTITIONS);
                goto done;
            }
            break;
        case 'h':
            ak_kafka_dev_usage(stdout);
            status = 0;
            goto done;
        case ':':
            fprintf(stderr, "aerokafka kafka-dev: %s needs a value\n", argv[optind - 1]);
            ak_kafka_dev_usage(stderr);
            goto done;
        default:
            fprintf(stderr, "aerokafka kafka-dev: unknown option '%s'\n", argv[optind - 1]);
            ak_kafka_dev_usage(stderr);
            goto done;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aerokafka kafka-dev: unexpected argument '%s'\n", argv[optind]);
        ak_kafka_dev_usage(stderr);
        goto done;
    }
    opts.topics = topics;
    opts.topic_count = topic_count;

    /* Block the stop signals before librdkafka starts its threads, which
     * inherit the mask, so sigwait() below is the only taker. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    int rc = pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    if (rc != 0) {
        fprintf(stderr, "aerokafka kafka-dev: blocking SIGINT and SIGTERM: %s\n", strerror(rc));
        status = 1;
        goto done;
    }

    ak_error_t err;
    ak_kafka_dev_t *dev = ak_kafka_dev_start(&opts, &err);
    if (!dev) {
        fprintf(stderr, "aerokafka %s\n", err.message);
        /* A value we cannot honour (a port range, a topic) is a usage error. */
        status = err.status == AK_ERR_INVALID_ARG || err.status == AK_ERR_UNSUPPORTED ? 2 : 1;
        goto done;
    }

    printf("BOOTSTRAP=%s\n", ak_kafka_dev_bootstrap(dev));
    fflush(stdout);
    fprintf(stderr, "kafka-dev: %d broker%s on %s, %zu topic%s created; SIGINT or SIGTERM stops\n",
            opts.brokers, opts.brokers == 1 ? "" : "s", ak_kafka_dev_bootstrap(dev), topic_count,
            topic_count == 1 ? "" : "s");

    int signal_number = 0;
    rc = sigwait(&stop_signals, &signal_number);
    if (rc != 0)
        fprintf(stderr, "aerokafka kafka-dev: sigwait: %s\n", strerror(rc));
    else
        fprintf(stderr, "kafka-dev: %s, stopping\n", strsignal(signal_number));
    ak_kafka_dev_stop(dev);
    status = rc == 0 ? 0 : 1;

done:
    if (topic_texts)
        for (size_t i = 0; i < topic_count; i++)
            free(topic_texts[i]);
    free(topic_texts);
    free(topics);
    return status;
}
