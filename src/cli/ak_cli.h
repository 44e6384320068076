/*
 * Subcommands of the aerokafka binary. Each takes argv with argv[0] set to
 * its own name and returns the process exit status: 0 success, 1 failure,
 * 2 usage error.
 */
#ifndef AK_CLI_H
#define AK_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "common/ak_buf.h"

int ak_cmd_wire(int argc, char **argv);
int ak_cmd_selfcheck(int argc, char **argv);
int ak_cmd_xdr_load(int argc, char **argv);
int ak_cmd_xdr_sink(int argc, char **argv);
int ak_cmd_kafka_dev(int argc, char **argv);
int ak_cmd_aerospike_dev(int argc, char **argv);
/* Hidden: prints docs/CONFIGURATION.md. */
int ak_cmd_config_docs(int argc, char **argv);
int ak_cmd_outbound(int argc, char **argv);
int ak_cmd_inbound(int argc, char **argv);
int ak_cmd_demo(int argc, char **argv);

/* Parses hex digits (whitespace ignored) into out. Returns 0, or -1 with a
 * message in errbuf naming the bad character's position. */
int ak_cli_parse_hex(const char *hex, ak_buf_t *out, char *errbuf, size_t errlen);

/* Decodes every frame in data and prints one JSON line per message to
 * stdout; errors go to stderr. Returns the number of frames that failed. */
size_t ak_cli_decode_frames(const uint8_t *data, size_t len);

#endif
