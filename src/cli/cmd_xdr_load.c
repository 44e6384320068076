/*
 * aerokafka xdr-load: a synthetic XDR shipper for load tests and benchmarks.
 *   xdr-load --to HOST:PORT [--to ...] [--protocol tcp|http1|http2] [--records N]
 *            [--rate R] [--connections C] [--in-flight K] [--bins B]
 *            [--value-size S] [--deletes PCT] [--seed S] [--namespace NS]
 *            [--set SET] [--timeout-ms T] [--max-retries N] [--time-limit-ms T]
 *            [--http-path P] [--json]
 *
 * The summary goes to stdout (text, or one JSON object with --json);
 * diagnostics to stderr. Exit 0 only if every record was acknowledged or
 * abandoned.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ak_cli.h"
#include "dev/ak_xdr_load.h"

#define AK_XDR_LOAD_MAX_DESTINATIONS 64

static volatile sig_atomic_t ak_xdr_load_interrupted;

static void ak_xdr_load_on_signal(int sig)
{
    (void)sig;
    ak_xdr_load_interrupted = 1;
}

static void ak_xdr_load_usage(FILE *out)
{
    fprintf(out,
            "usage: aerokafka xdr-load --to HOST:PORT [--to HOST:PORT]... [options]\n"
            "\n"
            "Ships synthetic change notifications the way Aerospike XDR does and reports\n"
            "how the destination answered: retry-class answers, timeouts and dropped\n"
            "connections re-send a record; abandon-class answers drop it.\n"
            "\n"
            "  --to HOST:PORT       a destination (repeatable; round-robin between them)\n"
            "  --protocol P         tcp (XDR 5+ wire protocol, default), http1 or http2\n"
            "                       (legacy XDR: POST, body = version byte 1 + message)\n"
            "  --records N          records to ship (default 100000)\n"
            "  --rate R             at most R notifications/s, retries included (default 0:\n"
            "                       as fast as the destination answers)\n"
            "  --connections C      connections per destination (default 1)\n"
            "  --in-flight K        notifications in flight per connection (default 64)\n"
            "  --bins B             bins per written record (default 4); their types cycle\n"
            "                       through every particle type\n"
            "  --value-size S       bytes per value, about (default 64)\n"
            "  --deletes PCT        percent of records that are deletes (default 0)\n"
            "  --seed S             makes the records (default 1)\n"
            "  --namespace NS       default test\n"
            "  --set SET            default xdr-load (\"\" for none)\n"
            "  --timeout-ms T       answer timeout per notification (default 10000, as XDR)\n"
            "  --max-retries N      give a record up after N retries (default 0: never)\n"
            "  --time-limit-ms T    stop after T ms even if records are unresolved\n"
            "  --http-path P        request path for http1/http2 (default /)\n"
            "  --json               print the summary as one JSON object\n"
            "  -h, --help           this text\n"
            "\n"
            "Exit status: 0 when every record was acknowledged or abandoned; 1 when some\n"
            "were given up or left unresolved (time limit, SIGINT, unreachable); 2 for a\n"
            "usage error.\n");
}

static int ak_xdr_load_parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (text[0] == '-')
        return -1;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static void ak_xdr_load_print_text(const ak_xdr_load_options_t *o, const ak_xdr_load_summary_t *s)
{
    printf("xdr-load: %s to %zu destination%s, %d connection%s each, %d in flight per "
           "connection\n",
           ak_xdr_protocol_name(o->protocol), o->n_destinations, o->n_destinations == 1 ? "" : "s",
           o->connections, o->connections == 1 ? "" : "s", o->in_flight);
    printf("records          %" PRIu64 "\n", s->records);
    printf("deletes          %" PRIu64 "\n", s->deletes);
    printf("shipped          %" PRIu64 "\n", s->shipped);
    printf("acknowledged     %" PRIu64 "\n", s->acknowledged);
    printf("retried          %" PRIu64 "\n", s->retried);
    printf("abandoned        %" PRIu64 "\n", s->abandoned);
    printf("gave_up          %" PRIu64 "\n", s->gave_up);
    printf("unresolved       %" PRIu64 "\n", s->unresolved);
    printf("timeouts         %" PRIu64 "\n", s->timeouts);
    printf("connects         %" PRIu64 "\n", s->connects);
    printf("connect_failures %" PRIu64 "\n", s->connect_failures);
    printf("elapsed_s        %.3f\n", s->elapsed_s);
    printf("throughput       %.0f acks/s\n", s->throughput);
    printf("latency_us       p50 %" PRIu64 "  p99 %" PRIu64 "  p99.9 %" PRIu64 "  max %" PRIu64
           "\n",
           s->p50_us, s->p99_us, s->p999_us, s->max_us);
}

static void ak_xdr_load_print_json(const ak_xdr_load_options_t *o, const ak_xdr_load_summary_t *s)
{
    json_t *j = json_object();
    json_object_set_new(j, "protocol", json_string(ak_xdr_protocol_name(o->protocol)));
    json_object_set_new(j, "records", json_integer((json_int_t)s->records));
    json_object_set_new(j, "deletes", json_integer((json_int_t)s->deletes));
    json_object_set_new(j, "shipped", json_integer((json_int_t)s->shipped));
    json_object_set_new(j, "acknowledged", json_integer((json_int_t)s->acknowledged));
    json_object_set_new(j, "retried", json_integer((json_int_t)s->retried));
    json_object_set_new(j, "abandoned", json_integer((json_int_t)s->abandoned));
    json_object_set_new(j, "gave_up", json_integer((json_int_t)s->gave_up));
    json_object_set_new(j, "unresolved", json_integer((json_int_t)s->unresolved));
    json_object_set_new(j, "timeouts", json_integer((json_int_t)s->timeouts));
    json_object_set_new(j, "connects", json_integer((json_int_t)s->connects));
    json_object_set_new(j, "connect_failures", json_integer((json_int_t)s->connect_failures));
    json_object_set_new(j, "elapsed_s", json_real(s->elapsed_s));
    json_object_set_new(j, "throughput", json_real(s->throughput));
    json_object_set_new(j, "p50_us", json_integer((json_int_t)s->p50_us));
    json_object_set_new(j, "p99_us", json_integer((json_int_t)s->p99_us));
    json_object_set_new(j, "p999_us", json_integer((json_int_t)s->p999_us));
    json_object_set_new(j, "max_us", json_integer((json_int_t)s->max_us));
    json_object_set_new(j, "complete", json_boolean(ak_xdr_load_complete(s)));
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(j);
}

int ak_cmd_xdr_load(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"to", required_argument, NULL, 't'},
        {"protocol", required_argument, NULL, 'p'},
        {"records", required_argument, NULL, 'n'},
        {"rate", required_argument, NULL, 'r'},
        {"connections", required_argument, NULL, 'c'},
        {"in-flight", required_argument, NULL, 'k'},
        {"bins", required_argument, NULL, 'b'},
        {"value-size", required_argument, NULL, 's'},
        {"deletes", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 'S'},
        {"namespace", required_argument, NULL, 'N'},
        {"set", required_argument, NULL, 'E'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"max-retries", required_argument, NULL, 'R'},
        {"time-limit-ms", required_argument, NULL, 'L'},
        {"http-path", required_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *destinations[AK_XDR_LOAD_MAX_DESTINATIONS];
    ak_xdr_load_options_t o = {
        .destinations = destinations,
        .protocol = AK_XDR_PROTO_TCP,
        .records = 100000,
        .connections = 1,
        .in_flight = 64,
        .bins = 4,
        .value_size = 64,
        .seed = 1,
        .timeout_ms = 10000,
        .stop_flag = &ak_xdr_load_interrupted,
    };
    bool json = false;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        uint64_t v = 0;
        const char *bad = NULL;
        switch (opt) {
        case 't':
            if (o.n_destinations == AK_XDR_LOAD_MAX_DESTINATIONS) {
                fprintf(stderr, "xdr-load: at most %d --to destinations\n",
                        AK_XDR_LOAD_MAX_DESTINATIONS);
                return 2;
            }
            destinations[o.n_destinations++] = optarg;
            break;
        case 'p':
            if (!ak_xdr_protocol_parse(optarg, &o.protocol))
                bad = "--protocol must be tcp, http1 or http2";
            break;
        case 'n':
            if (ak_xdr_load_parse_u64(optarg, UINT64_MAX / 2, &o.records))
                bad = "--records must be a non-negative integer";
            break;
        case 'r':
            if (ak_xdr_load_parse_u64(optarg, 1000000000, &o.rate))
                bad = "--rate must be 0..1000000000";
            break;
        case 'c':
            if (ak_xdr_load_parse_u64(optarg, 1024, &v) || v == 0)
                bad = "--connections must be 1..1024";
            o.connections = (int)v;
            break;
        case 'k':
            if (ak_xdr_load_parse_u64(optarg, 65536, &v) || v == 0)
                bad = "--in-flight must be 1..65536";
            o.in_flight = (int)v;
            break;
        case 'b':
            if (ak_xdr_load_parse_u64(optarg, 1000, &v))
                bad = "--bins must be 0..1000";
            o.bins = (uint32_t)v;
            break;
        case 's':
            if (ak_xdr_load_parse_u64(optarg, 1024 * 1024, &v))
                bad = "--value-size must be 0..1048576";
            o.value_size = (uint32_t)v;
            break;
        case 'd':
            if (ak_xdr_load_parse_u64(optarg, 100, &v))
                bad = "--deletes must be 0..100";
            o.delete_percent = (uint32_t)v;
            break;
        case 'S':
            if (ak_xdr_load_parse_u64(optarg, UINT64_MAX, &o.seed))
                bad = "--seed must be a non-negative integer";
            break;
        case 'N':
            o.ns = optarg;
            break;
        case 'E':
            o.set = optarg;
            break;
        case 'T':
            if (ak_xdr_load_parse_u64(optarg, 3600000, &v) || v == 0)
                bad = "--timeout-ms must be 1..3600000";
            o.timeout_ms = (uint32_t)v;
            break;
        case 'R':
            if (ak_xdr_load_parse_u64(optarg, 65535, &v))
                bad = "--max-retries must be 0..65535";
            o.max_retries = (uint32_t)v;
            break;
        case 'L':
            if (ak_xdr_load_parse_u64(optarg, UINT32_MAX, &v))
                bad = "--time-limit-ms must be a non-negative integer";
            o.time_limit_ms = (uint32_t)v;
            break;
        case 'P':
            o.http_path = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            ak_xdr_load_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "xdr-load: unknown or incomplete option '%s'\n", argv[optind - 1]);
            ak_xdr_load_usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "xdr-load: %s, not '%s'\n", bad, optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "xdr-load: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o.n_destinations == 0) {
        fprintf(stderr, "xdr-load: at least one --to HOST:PORT is required\n");
        ak_xdr_load_usage(stderr);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ak_xdr_load_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ak_xdr_load_summary_t summary;
    ak_error_t err = {0};
    ak_status_t st = ak_xdr_load_run(&o, &summary, &err);
    if (st != AK_OK) {
        fprintf(stderr, "xdr-load: %s\n", err.message);
        return st == AK_ERR_INVALID_ARG ? 2 : 1;
    }
    if (json)
        ak_xdr_load_print_json(&o, &summary);
    else
        ak_xdr_load_print_text(&o, &summary);
    if (summary.unreachable)
        fprintf(stderr, "xdr-load: no destination could be reached within %u ms\n", o.timeout_ms);
    else if (ak_xdr_load_interrupted)
        fprintf(stderr, "xdr-load: interrupted\n");
    else if (summary.stopped_early)
        fprintf(stderr, "xdr-load: time limit reached with %" PRIu64 " records unresolved\n",
                summary.unresolved);
    if (summary.gave_up)
        fprintf(stderr, "xdr-load: %" PRIu64 " records given up after %u retries\n",
                summary.gave_up, o.max_retries);
    return ak_xdr_load_complete(&summary) ? 0 : 1;
}
