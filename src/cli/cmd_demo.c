/*
 * aerokafka demo: the whole round trip in one process, with no outside
 * services (src/dev/ak_demo.h, docs/DEMO.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ak_cli.h"
#include "dev/ak_demo.h"

static void ak_demo_usage(FILE *out)
{
    fprintf(out,
            "usage: aerokafka demo [--records N] [--show N] [--quiet] [--live|--plain] [--timeout MS] [--verbose]\n\n"
            "Starts, in this process: kafka-dev, aerospike-dev namespace 'source' shipping every\n"
            "change by XDR to the outbound connector, which publishes flat-json to Kafka, and the\n"
            "inbound connector, which writes those records into aerospike-dev namespace 'sink'.\n"
            "Then writes N records of every value type, updates a quarter and deletes a tenth of\n"
            "them through the client, shows them travelling, and compares every record in 'sink'\n"
            "with 'source'. Exits 0 only if every record made the round trip (docs/DEMO.md).\n\n"
            "  --records N    records written (default %d)\n"
            "  --show N       Kafka messages printed in flat-json, with the records they became (default 4)\n"
            "  --quiet        print only the summary\n"
            "  --live         a progress line rewritten in place (default when stdout is a terminal)\n"
            "  --plain        a plain progress line every second (default otherwise)\n"
            "  --timeout MS   how long the round trip may take after the last change (default 30000)\n"
            "  --verbose      the connectors' own log lines on stderr\n"
            "  -h, --help     this text\n",
            AK_DEMO_DEFAULT_RECORDS);
}

static bool ak_demo_parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || text[0] == '-' || v < min || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

int ak_cmd_demo(int argc, char **argv)
{
    static const struct option options[] = {
        {"records", required_argument, NULL, 'n'},
        {"show", required_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},
        {"live", no_argument, NULL, 'l'},
        {"plain", no_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ak_demo_options_t opts = {.records = AK_DEMO_DEFAULT_RECORDS, .show_messages = 4};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:s:qvh", options, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (!ak_demo_parse_u32(optarg, 1, AK_DEMO_MAX_RECORDS, &opts.records)) {
                fprintf(stderr, "aerokafka demo: --records: '%s' is not a number from 1 to %d\n", optarg,
                        AK_DEMO_MAX_RECORDS);
                return 2;
            }
            break;
        case 's':
            if (!ak_demo_parse_u32(optarg, 0, 32, &opts.show_messages)) {
                fprintf(stderr, "aerokafka demo: --show: '%s' is not a number from 0 to 32\n", optarg);
                return 2;
            }
            break;
        case 't':
            if (!ak_demo_parse_u32(optarg, 100, 600000, &opts.timeout_ms)) {
                fprintf(stderr, "aerokafka demo: --timeout: '%s' is not a number of ms from 100 to 600000\n",
                        optarg);
                return 2;
            }
            break;
        case 'q': opts.quiet = true; break;
        case 'l': opts.progress = AK_DEMO_PROGRESS_LIVE; break;
        case 'p': opts.progress = AK_DEMO_PROGRESS_LINES; break;
        case 'v': opts.verbose = true; break;
        case 'h': ak_demo_usage(stdout); return 0;
        default: ak_demo_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aerokafka demo: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    ak_demo_summary_t summary;
    ak_error_t err;
    if (ak_demo_run(&opts, &summary, &err) != AK_OK) {
        fprintf(stderr, "aerokafka demo: %s\n", err.message);
        return 1;
    }
    if (summary.interrupted) {
        fprintf(stderr, "aerokafka demo: interrupted; everything stopped\n");
        return 130;
    }
    if (summary.lost > 0 || summary.client_errors > 0) {
        fprintf(stderr, "aerokafka demo: %llu record%s did not make the round trip\n",
                (unsigned long long)(summary.lost + summary.client_errors),
                summary.lost + summary.client_errors == 1 ? "" : "s");
        return 1;
    }
    return 0;
}
