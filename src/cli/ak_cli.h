/*
 * Subcommands of the aerokafka binary. Each takes argv with argv[0] set to
 * its own name and returns the process exit status: 0 success, 1 failure,
 * 2 usage error.
 */
#ifndef AK_CLI_H
#define AK_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "common/ak_buf.h"
#include "common/ak_log.h"

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

/* The connectors' `logging` section: a note for each Java logger name
 * (aerokafka keeps one log), and applying the root level, the file, its
 * console copy and rotation. apply returns 0, or -1 after printing why the
 * file cannot be opened. */
void ak_cli_logging_notes(const char *cmd, const char *cfg_path, const ak_log_level_setting_t *levels,
                          size_t n_levels);
int ak_cli_logging_apply(const char *cmd, const char *cfg_path, const ak_log_level_setting_t *levels,
                         size_t n_levels, const char *file, bool console, int64_t max_history);

/* Decodes every frame in data and prints one JSON line per message to
 * stdout; errors go to stderr. Returns the number of frames that failed. */
size_t ak_cli_decode_frames(const uint8_t *data, size_t len);

#endif
