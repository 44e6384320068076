/*
 * aerokafka: one binary, subcommands. This file only dispatches.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/ak_cli.h"

typedef struct ak_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} ak_command_t;

static const ak_command_t ak_commands[] = {
    {"demo", ak_cmd_demo, "the whole round trip in one process: Aerospike -> Kafka -> Aerospike"},
    {"outbound", ak_cmd_outbound, "the outbound connector: Aerospike change notifications to Kafka"},
    {"inbound", ak_cmd_inbound, "the inbound connector: Kafka topics into Aerospike"},
    {"wire", ak_cmd_wire, "inspect the Aerospike wire protocol (digest, decode)"},
    {"selfcheck", ak_cmd_selfcheck, "run the built-in codec self-check"},
    {"xdr-load", ak_cmd_xdr_load, "a synthetic XDR shipper for load tests and benchmarks"},
    {"xdr-sink", ak_cmd_xdr_sink, "a trivial acknowledging XDR listener for tests and benchmarks"},
    {"kafka-dev", ak_cmd_kafka_dev, "an in-memory Kafka cluster for development and tests"},
    {"aerospike-dev", ak_cmd_aerospike_dev, "in-memory Aerospike node(s) that ship changes like XDR"},
    {"config-docs", ak_cmd_config_docs, NULL}, /* hidden: NULL summary */
};

static void ak_usage(FILE *out)
{
    fprintf(out, "usage: aerokafka <command> [options]\n"
                 "       aerokafka <command> --help\n"
                 "       aerokafka --version\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof ak_commands / sizeof ak_commands[0]; i++)
        if (ak_commands[i].summary)
            fprintf(out, "  %-12s %s\n", ak_commands[i].name, ak_commands[i].summary);
}

int main(int argc, char **argv)
{
    /* Every subcommand talks over sockets (TLS ones write through OpenSSL):
     * a peer that resets must surface as a write error, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        ak_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("aerokafka %s\n", AK_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        ak_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof ak_commands / sizeof ak_commands[0]; i++)
        if (strcmp(argv[1], ak_commands[i].name) == 0)
            return ak_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "aerokafka: unknown command '%s'\n\n", argv[1]);
    ak_usage(stderr);
    return 2;
}
