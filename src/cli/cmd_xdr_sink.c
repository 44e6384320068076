/*
 * aerokafka xdr-sink: a trivial acknowledging XDR listener for tests and
 * benchmarks (see src/dev/ak_xdr_sink.h).
 *
 * The first stdout line is LISTEN=host:port so scripts can read it and go;
 * it serves until SIGINT or SIGTERM, then prints a summary to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ak_cli.h"
#include "net/ak_signal.h"
#include "dev/ak_xdr_sink.h"
#include "net/ak_loop.h"
#include "net/ak_sock.h"

#define AK_XDR_SINK_CLI_MAX_CODES 64

typedef struct ak_xdr_sink_cli {
    ak_loop_t *loop;
    ak_xdr_sink_t *sink;
    bool quiet;
    uint64_t last_received;
    ak_xdr_sink_stats_t final;
} ak_xdr_sink_cli_t;

static void ak_xdr_sink_usage(FILE *out)
{
    fprintf(out,
            "usage: aerokafka xdr-sink [--listen HOST:PORT] [--protocol tcp|http]\n"
            "                          [--answer CODE[,CODE...]] [--http-status S[,S...]]\n"
            "                          [--hold-first N] [--print] [--quiet]\n"
            "\n"
            "Listens for XDR change notifications and acknowledges each one without\n"
            "decoding it. The first line on stdout is LISTEN=host:port; it serves until\n"
            "SIGINT or SIGTERM, then prints a summary line on stderr.\n"
            "\n"
            "  --listen HOST:PORT   address to listen on (default 127.0.0.1:0, any free port)\n"
            "  --protocol P         tcp: the Aerospike wire protocol (default); http: legacy\n"
            "                       HTTP change notifications, HTTP/1.1 and h2c on one port\n"
            "  --answer CODES       result codes answered in turn over TCP (default 0)\n"
            "  --http-status S      HTTP statuses answered in turn over HTTP (default 200)\n"
            "  --hold-first N       never answer the first N messages (tests XDR's timeout)\n"
            "  --print              print every message as a JSON line (as `wire decode`)\n"
            "  --quiet              no progress lines on stderr (the summary stays)\n"
            "  -h, --help           this text\n");
}

/* Comma-separated integers in [min, max]; count of values, or -1. */
static int ak_xdr_sink_parse_list(const char *text, long min, long max, long *out, int cap)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        char *end;
        errno = 0;
        long value = strtol(p, &end, 10);
        if (errno || end == p || value < min || value > max || n == cap)
            return -1;
        out[n++] = value;
        if (*end == '\0')
            return n;
        if (*end != ',')
            return -1;
        p = end + 1;
    }
}

static void ak_xdr_sink_print(void *ctx, const uint8_t *frame, size_t len, uint64_t index)
{
    (void)ctx;
    (void)index;
    ak_cli_decode_frames(frame, len);
    fflush(stdout);
}

static void ak_xdr_sink_progress(ak_loop_t *loop, void *arg)
{
    ak_xdr_sink_cli_t *cli = arg;
    ak_xdr_sink_stats_t stats;
    ak_xdr_sink_stats(cli->sink, &stats);
    if (stats.received != cli->last_received) {
        fprintf(stderr, "xdr-sink: received %llu (+%llu/s), answered %llu, held %llu, malformed %llu\n",
                (unsigned long long)stats.received,
                (unsigned long long)(stats.received - cli->last_received),
                (unsigned long long)stats.answered, (unsigned long long)stats.held,
                (unsigned long long)stats.malformed);
        cli->last_received = stats.received;
    }
    ak_loop_timer(loop, 1000, ak_xdr_sink_progress, cli);
}

static void ak_xdr_sink_summary(const ak_xdr_sink_stats_t *stats)
{
    fprintf(stderr, "received %llu, answered %llu (", (unsigned long long)stats->received,
            (unsigned long long)stats->answered);
    const char *sep = "";
    for (int code = 0; code < AK_XDR_SINK_CODE_SLOTS; code++) {
        if (stats->answered_by_code[code]) {
            fprintf(stderr, "%s%d:%llu", sep, code,
                    (unsigned long long)stats->answered_by_code[code]);
            sep = " ";
        }
    }
    fprintf(stderr, "), held %llu, malformed %llu\n", (unsigned long long)stats->held,
            (unsigned long long)stats->malformed);
}

int ak_cmd_xdr_sink(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"listen", required_argument, NULL, 'l'},
        {"protocol", required_argument, NULL, 'p'},
        {"answer", required_argument, NULL, 'a'},
        {"http-status", required_argument, NULL, 's'},
        {"hold-first", required_argument, NULL, 'H'},
        {"print", no_argument, NULL, 'P'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen_text = "127.0.0.1:0";
    char host[256] = "127.0.0.1";
    uint16_t port = 0;
    ak_xdr_sink_options_t opts = {.protocol = AK_XDR_SINK_TCP};
    long values[AK_XDR_SINK_CLI_MAX_CODES];
    uint8_t answers[AK_XDR_SINK_CLI_MAX_CODES];
    int statuses[AK_XDR_SINK_CLI_MAX_CODES];
    bool print = false, quiet = false;
    int c, n;

    opterr = 0; /* we name the bad argument ourselves */
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case 'l': listen_text = optarg; break;
        case 'p':
            if (ak_xdr_sink_protocol_parse(optarg, &opts.protocol) != 0) {
                fprintf(stderr, "aerokafka xdr-sink: --protocol '%s': expected tcp or http\n",
                        optarg);
                return 2;
            }
            break;
        case 'a':
            n = ak_xdr_sink_parse_list(optarg, 0, 255, values, AK_XDR_SINK_CLI_MAX_CODES);
            if (n < 0) {
                fprintf(stderr,
                        "aerokafka xdr-sink: --answer '%s': expected result codes 0..255, "
                        "comma-separated (at most %d)\n",
                        optarg, AK_XDR_SINK_CLI_MAX_CODES);
                return 2;
            }
            for (int i = 0; i < n; i++)
                answers[i] = (uint8_t)values[i];
            opts.answers = answers;
            opts.n_answers = (size_t)n;
            break;
        case 's':
            n = ak_xdr_sink_parse_list(optarg, 100, 599, values, AK_XDR_SINK_CLI_MAX_CODES);
            if (n < 0) {
                fprintf(stderr,
                        "aerokafka xdr-sink: --http-status '%s': expected statuses 100..599, "
                        "comma-separated (at most %d)\n",
                        optarg, AK_XDR_SINK_CLI_MAX_CODES);
                return 2;
            }
            for (int i = 0; i < n; i++)
                statuses[i] = (int)values[i];
            opts.http_statuses = statuses;
            opts.n_http_statuses = (size_t)n;
            break;
        case 'H': {
            char *end;
            errno = 0;
            unsigned long long held = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "aerokafka xdr-sink: --hold-first '%s': expected a count\n",
                        optarg);
                return 2;
            }
            opts.hold_first = held;
            break;
        }
        case 'P': print = true; break;
        case 'q': quiet = true; break;
        case 'h': ak_xdr_sink_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "aerokafka xdr-sink: %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "aerokafka xdr-sink: unknown option '%s'\n", argv[optind - 1]);
            ak_xdr_sink_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aerokafka xdr-sink: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    ak_error_t err;
    /* Port 0 is allowed here (any free port), which ak_sock_parse_hostport refuses. */
    size_t text_len = strlen(listen_text);
    if (text_len >= 2 && strcmp(listen_text + text_len - 2, ":0") == 0) {
        char copy[sizeof host + 8];
        snprintf(copy, sizeof copy, "%.*s:1", (int)(text_len - 2), listen_text);
        if (ak_sock_parse_hostport(copy, host, sizeof host, &port, &err) != AK_OK) {
            fprintf(stderr, "aerokafka xdr-sink: --listen %s\n", err.message);
            return 2;
        }
        port = 0;
    } else if (ak_sock_parse_hostport(listen_text, host, sizeof host, &port, &err) != AK_OK) {
        fprintf(stderr, "aerokafka xdr-sink: --listen %s\n", err.message);
        return 2;
    }
    opts.host = host;
    opts.port = port;
    if (print)
        opts.on_message = ak_xdr_sink_print;

    signal(SIGPIPE, SIG_IGN);

    ak_xdr_sink_cli_t cli = {.quiet = quiet};
    int status = 1;
    cli.loop = ak_loop_new(&err);
    if (!cli.loop) {
        fprintf(stderr, "aerokafka xdr-sink: %s\n", err.message);
        return 1;
    }
    /* SIGINT and SIGTERM stop the loop from the loop itself. */
    ak_signal_watch_t *signals = ak_signal_watch_stop(cli.loop, &err);
    if (!signals) {
        fprintf(stderr, "aerokafka xdr-sink: %s\n", err.message);
        goto done;
    }
    cli.sink = ak_xdr_sink_new(cli.loop, &opts, &err);
    if (!cli.sink) {
        fprintf(stderr, "aerokafka xdr-sink: %s\n", err.message);
        goto done;
    }
    printf("LISTEN=%s%s%s:%u\n", strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
           ak_xdr_sink_port(cli.sink));
    fflush(stdout);
    if (!quiet)
        ak_loop_timer(cli.loop, 1000, ak_xdr_sink_progress, &cli);
    if (ak_loop_run(cli.loop) != AK_OK) {
        fprintf(stderr, "aerokafka xdr-sink: the event loop failed: %s\n", strerror(errno));
        goto done;
    }
    ak_xdr_sink_stats(cli.sink, &cli.final);
    ak_xdr_sink_summary(&cli.final);
    status = 0;
done:
    /* connections closed here are freed by ak_loop_free's deferred tasks */
    if (cli.sink)
        ak_xdr_sink_free(cli.sink);
    ak_signal_watch_free(cli.loop, signals);
    ak_loop_free(cli.loop);
    return status;
}
