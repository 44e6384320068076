/*
 * aerokafka aerospike-dev: in-memory Aerospike node(s) for development and
 * tests, optionally shipping change notifications to connectors like XDR.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ak_cli.h"
#include "dev/aerospike/ak_aerospike_dev.h"
#include "net/ak_loop.h"
#include "net/ak_signal.h"

#define AK_ASD_MAX_LIST 32
#define AK_ASD_STATS_PERIOD_MS 10000

static void ak_asd_usage(FILE *out)
{
    fprintf(out,
            "usage: aerokafka aerospike-dev [options]\n\n"
            "In-memory Aerospike node(s) speaking the wire protocol (the official clients\n"
            "connect to them), optionally shipping every change to connectors as XDR does.\n"
            "Prints AEROSPIKE=host:port,... first, then serves until SIGINT or SIGTERM.\n\n"
            "  --host H              listen and advertise address (default 127.0.0.1)\n"
            "  --port P              first node's port (default 3000; 0 = any free ports)\n"
            "  --nodes N             nodes on consecutive ports (default 1, at most %d)\n"
            "  --namespace NAME      a namespace (repeatable; default test)\n"
            "  --cluster-name NAME   (default aerospike-dev)\n"
            "  --default-ttl SECS    namespace default-ttl (default 0 = never expire)\n"
            "  --xdr HOST:PORT       ship change notifications to this connector (repeatable;\n"
            "                        round-robin over several)\n"
            "  --xdr-protocol P      tcp (wire protocol, XDR 5+; default), http1 or http2\n"
            "                        (legacy change notification POSTs)\n"
            "  --xdr-path PATH       HTTP path for http1/http2 (default /)\n"
            "  --xdr-timeout-ms MS   re-ship after this long without an answer (default 10000)\n"
            "  --xdr-in-flight N     notifications in flight per connection (default 64)\n"
            "  --ship-expiry         ship expirations as deletes (XDR ship-nsup-deletes)\n"
            "  --fault-code C        answer data commands with result code C ...\n"
            "  --fault-ratio R       ... for this fraction of them (default 1)\n"
            "  --latency-ms MS       delay every data reply\n"
            "  --user NAME:PASSWORD  turn security on: clients must log in as this user\n"
            "                        (repeatable; internal authentication, bcrypt credential)\n"
            "  --session-ttl SECS    lifetime of login session tokens (default 86400)\n\n"
            "Fault switches at run time, as info commands (asinfo -v, or a client's info call):\n"
            "  dev-fault:code=14;ratio=0.5[;node=N|all]   dev-fault:clear\n"
            "  dev-latency:ms=50    dev-refuse:on|off    dev-node-stop:node=N    dev-node-start:node=N\n"
            "  dev-stats            counters, including XDR shipped/acknowledged/retried/abandoned\n",
            AK_ASD_MAX_NODES);
}

static void ak_asd_print_stats(const ak_asd_cluster_t *cluster, const char *prefix)
{
    ak_asd_stats_t s;
    ak_asd_cluster_stats(cluster, &s);
    fprintf(stderr,
            "aerospike-dev: %srecords %llu, commands %llu, connections %llu, faults %llu; xdr shipped %llu, "
            "acknowledged %llu, retried %llu, abandoned %llu, in flight %llu, queued %llu\n",
            prefix, (unsigned long long)s.records, (unsigned long long)s.commands,
            (unsigned long long)s.connections, (unsigned long long)s.faults_injected,
            (unsigned long long)s.xdr.shipped, (unsigned long long)s.xdr.acknowledged,
            (unsigned long long)s.xdr.retried, (unsigned long long)s.xdr.abandoned,
            (unsigned long long)s.xdr.in_flight, (unsigned long long)s.xdr_queued);
}

typedef struct ak_asd_stats_tick {
    ak_asd_cluster_t *cluster;
} ak_asd_stats_tick_t;

static void ak_asd_on_stats_timer(ak_loop_t *loop, void *arg)
{
    ak_asd_stats_tick_t *tick = arg;
    ak_asd_print_stats(tick->cluster, "");
    ak_loop_timer(loop, AK_ASD_STATS_PERIOD_MS, ak_asd_on_stats_timer, tick);
}

static int ak_parse_uint(const char *opt, const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || end == text || v > max || text[0] == '-') {
        fprintf(stderr, "aerokafka aerospike-dev: %s '%s' must be an integer 0..%lu\n", opt, text, max);
        return -1;
    }
    *out = v;
    return 0;
}

int ak_cmd_aerospike_dev(int argc, char **argv)
{
    enum { OPT_HOST = 256, OPT_PORT, OPT_NODES, OPT_NS, OPT_CLUSTER, OPT_TTL, OPT_XDR, OPT_XDR_PROTO,
           OPT_XDR_PATH, OPT_XDR_TIMEOUT, OPT_XDR_INFLIGHT, OPT_SHIP_EXPIRY, OPT_FAULT_CODE,
           OPT_FAULT_RATIO, OPT_LATENCY, OPT_USER, OPT_SESSION_TTL, OPT_HELP };
    static const struct option options[] = {
        {"host", required_argument, NULL, OPT_HOST},
        {"port", required_argument, NULL, OPT_PORT},
        {"nodes", required_argument, NULL, OPT_NODES},
        {"namespace", required_argument, NULL, OPT_NS},
        {"cluster-name", required_argument, NULL, OPT_CLUSTER},
        {"default-ttl", required_argument, NULL, OPT_TTL},
        {"xdr", required_argument, NULL, OPT_XDR},
        {"xdr-protocol", required_argument, NULL, OPT_XDR_PROTO},
        {"xdr-path", required_argument, NULL, OPT_XDR_PATH},
        {"xdr-timeout-ms", required_argument, NULL, OPT_XDR_TIMEOUT},
        {"xdr-in-flight", required_argument, NULL, OPT_XDR_INFLIGHT},
        {"ship-expiry", no_argument, NULL, OPT_SHIP_EXPIRY},
        {"fault-code", required_argument, NULL, OPT_FAULT_CODE},
        {"fault-ratio", required_argument, NULL, OPT_FAULT_RATIO},
        {"latency-ms", required_argument, NULL, OPT_LATENCY},
        {"user", required_argument, NULL, OPT_USER},
        {"session-ttl", required_argument, NULL, OPT_SESSION_TTL},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    ak_asd_options_t opts = {0};
    opts.port = 3000;
    const char *namespaces[AK_ASD_MAX_LIST];
    const char *xdr[AK_ASD_MAX_LIST];
    const char *users[AK_ASD_MAX_LIST];
    ak_asd_fault_t fault = {0};
    fault.fail_ratio = 1.0;
    unsigned long v = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_HOST: opts.host = optarg; break;
        case OPT_PORT:
            if (ak_parse_uint("--port", optarg, 65535, &v))
                return 2;
            opts.port = (uint16_t)v;
            break;
        case OPT_NODES:
            if (ak_parse_uint("--nodes", optarg, AK_ASD_MAX_NODES, &v) || v == 0) {
                if (v == 0)
                    fprintf(stderr, "aerokafka aerospike-dev: --nodes must be 1..%d\n", AK_ASD_MAX_NODES);
                return 2;
            }
            opts.nodes = (int)v;
            break;
        case OPT_NS:
            if (opts.n_namespaces == AK_ASD_MAX_LIST) {
                fprintf(stderr, "aerokafka aerospike-dev: at most %d namespaces\n", AK_ASD_MAX_LIST);
                return 2;
            }
            namespaces[opts.n_namespaces++] = optarg;
            break;
        case OPT_CLUSTER: opts.cluster_name = optarg; break;
        case OPT_TTL:
            if (ak_parse_uint("--default-ttl", optarg, 315360000, &v))
                return 2;
            opts.default_ttl = (uint32_t)v;
            break;
        case OPT_XDR:
            if (opts.n_xdr_destinations == AK_ASD_MAX_LIST) {
                fprintf(stderr, "aerokafka aerospike-dev: at most %d --xdr destinations\n", AK_ASD_MAX_LIST);
                return 2;
            }
            xdr[opts.n_xdr_destinations++] = optarg;
            break;
        case OPT_XDR_PROTO:
            if (!ak_xdr_protocol_parse(optarg, &opts.xdr_protocol)) {
                fprintf(stderr, "aerokafka aerospike-dev: --xdr-protocol '%s' must be tcp, http1 or http2\n", optarg);
                return 2;
            }
            break;
        case OPT_XDR_PATH: opts.xdr_http_path = optarg; break;
        case OPT_XDR_TIMEOUT:
            if (ak_parse_uint("--xdr-timeout-ms", optarg, 3600000, &v) || v == 0)
                return 2;
            opts.xdr_timeout_ms = (uint32_t)v;
            break;
        case OPT_XDR_INFLIGHT:
            if (ak_parse_uint("--xdr-in-flight", optarg, 100000, &v) || v == 0)
                return 2;
            opts.xdr_in_flight = (int)v;
            break;
        case OPT_SHIP_EXPIRY: opts.xdr_ship_expiry = true; break;
        case OPT_FAULT_CODE:
            if (ak_parse_uint("--fault-code", optarg, 255, &v))
                return 2;
            fault.fail_code = (int)v;
            break;
        case OPT_FAULT_RATIO: {
            char *end;
            double r = strtod(optarg, &end);
            if (*end || end == optarg || r < 0 || r > 1) {
                fprintf(stderr, "aerokafka aerospike-dev: --fault-ratio '%s' must be 0..1\n", optarg);
                return 2;
            }
            fault.fail_ratio = r;
            break;
        }
        case OPT_LATENCY:
            if (ak_parse_uint("--latency-ms", optarg, 600000, &v))
                return 2;
            fault.latency_ms = (uint32_t)v;
            break;
        case OPT_USER:
            if (opts.n_users == AK_ASD_MAX_LIST) {
                fprintf(stderr, "aerokafka aerospike-dev: at most %d --user\n", AK_ASD_MAX_LIST);
                return 2;
            }
            users[opts.n_users++] = optarg;
            break;
        case OPT_SESSION_TTL:
            if (ak_parse_uint("--session-ttl", optarg, 0xFFFFFFFFul, &v) || v == 0) {
                if (v == 0)
                    fprintf(stderr, "aerokafka aerospike-dev: --session-ttl must be at least 1\n");
                return 2;
            }
            opts.session_ttl = (uint32_t)v;
            break;
        case OPT_HELP:
            ak_asd_usage(stdout);
            return 0;
        default:
            ak_asd_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aerokafka aerospike-dev: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    opts.namespaces = namespaces;
    opts.xdr_destinations = xdr;
    opts.users = users;

    ak_error_t err;
    ak_loop_t *loop = ak_loop_new(&err);
    if (!loop) {
        fprintf(stderr, "aerokafka aerospike-dev: %s\n", err.message);
        return 1;
    }
    ak_signal_watch_t *signals = ak_signal_watch_stop(loop, &err);
    ak_asd_cluster_t *cluster = signals ? ak_asd_cluster_new(loop, &opts, &err) : NULL;
    if (!cluster) {
        fprintf(stderr, "aerokafka aerospike-dev: %s\n", err.message);
        ak_signal_watch_free(loop, signals);
        ak_loop_free(loop);
        return 1;
    }
    if (fault.fail_code || fault.latency_ms)
        ak_asd_cluster_set_fault(cluster, -1, &fault);
    printf("AEROSPIKE=%s\n", ak_asd_cluster_seeds(cluster));
    fflush(stdout);
    fprintf(stderr, "aerospike-dev: %d node(s) serving %s", ak_asd_cluster_node_count(cluster),
            ak_asd_cluster_seeds(cluster));
    if (opts.n_xdr_destinations)
        fprintf(stderr, ", shipping to %zu connector(s) over %s", opts.n_xdr_destinations,
                ak_xdr_protocol_name(opts.xdr_protocol));
    if (opts.n_users)
        fprintf(stderr, ", security on (%zu user(s))", opts.n_users);
    fprintf(stderr, "\n");

    ak_asd_stats_tick_t tick = {cluster};
    ak_loop_timer(loop, AK_ASD_STATS_PERIOD_MS, ak_asd_on_stats_timer, &tick);
    ak_loop_run(loop);
    ak_asd_print_stats(cluster, "stopping: ");
    ak_asd_cluster_free(cluster);
    ak_signal_watch_free(loop, signals);
    ak_loop_free(loop);
    return 0;
}
