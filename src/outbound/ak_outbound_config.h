/*
 * ak_outbound_config: aerospike-kafka-outbound.yml, the configuration file
 * of Aerospike's outbound Kafka connector, loaded and checked, and the
 * effective per-record policy (format, routing, bin-transforms) for a
 * listening port, namespace and set.
 *
 * Every section is one ak_config table in ak_outbound_config.c; the tables
 * also render docs/CONFIGURATION.md (`aerokafka config-docs`). Every error
 * names FILE:LINE and the key.
 *
 * Override resolution (spec outbound.md §2.1), most specific first, per
 * section (format, routing, bin-transforms, batching are each taken whole
 * from the first level that has them; their keys are not merged):
 *   port-based-config.<port>.namespaces.<ns>.sets.<set>
 *   port-based-config.<port>.namespaces.<ns>
 *   port-based-config.<port>
 *   namespaces.<ns>.sets.<set>
 *   namespaces.<ns>
 *   top level
 * Every combination is computed at load, so ak_outbound_policy_for only
 * looks up and never allocates. A loaded configuration is immutable: any
 * number of threads may read it at once.
 */
#ifndef AK_OUTBOUND_CONFIG_H
#define AK_OUTBOUND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_buf.h"
#include "common/ak_config.h"
#include "common/ak_error.h"
#include "common/ak_log.h"
#include "format/ak_format.h"
#include "outbound/ak_bin_transform.h"
#include "outbound/ak_route.h"

typedef enum ak_outbound_protocol {
    AK_XDR_PROTOCOL_TCP = 0,  /* XDR's binary protocol (server 5.0+) */
    AK_XDR_PROTOCOL_HTTP_1_1, /* HTTP: our receiver serves HTTP/1.1 and h2c on one port */
    AK_XDR_PROTOCOL_HTTP_2,   /* the same receiver as HTTP_1_1 */
} ak_outbound_protocol_t;

typedef struct ak_outbound_tls_config {
    bool enabled;                          /* the tls section is present */
    ak_config_ints_t ports;                /* TLS listening ports */
    ak_config_strings_t addresses;         /* default 0.0.0.0 */
    char *cert_file;                       /* PEM, required; resolved against the config dir */
    char *key_file;                        /* PEM, required */
    char *ca_file;                         /* PEM; required with allowed-peer-names */
    ak_config_strings_t allowed_peer_names; /* non-empty: mutual TLS, peer CN/SAN must match */
    ak_config_strings_t protocols;         /* TLSv1.2, TLSv1.3 (default TLSv1.2) */
    ak_config_strings_t ciphers;           /* OpenSSL cipher names; empty: OpenSSL's default */
    uint32_t handshake_timeout_ms;         /* not a file key: 0 = AK_TLS_HANDSHAKE_TIMEOUT_MS
                                              (10 s); embedders and tests may set it */
} ak_outbound_tls_config_t;

typedef struct ak_outbound_manage_config {
    bool enabled;          /* the manage section is present */
    char *address;         /* default 0.0.0.0 */
    int64_t port;          /* required when enabled */
} ak_outbound_manage_config_t;

typedef struct ak_outbound_service_config {
    ak_config_ints_t ports;            /* plain listening ports; default [8080] unless tls is set */
    ak_config_strings_t addresses;     /* default [0.0.0.0]; every address x every port */
    ak_outbound_protocol_t protocol;
    ak_outbound_tls_config_t tls;
    ak_outbound_manage_config_t manage;
    int64_t io_threads;                /* 0: number of CPUs */
    int64_t worker_threads;            /* 0: number of CPUs */
    int64_t max_concurrent_records;    /* default 32768 */
    bool enable_tcp_xdr_ack_buffering; /* default true */
    int64_t socket_receive_buffer_bytes; /* default 32768 */
    char *cluster_name;                /* default aerospike-kafka-outbound */
    bool has_port;                     /* `port` was written */
} ak_outbound_service_config_t;

typedef struct ak_outbound_logging_config {
    char *file;                    /* NULL: no log file */
    bool enable_console_logging;   /* default false */
    ak_log_level_setting_t *levels; /* in file order; `root` defaults to info */
    size_t n_levels;
    int64_t max_history;           /* default 30 (daily files kept) */
    int64_t ticker_interval_s;     /* default 10 */
} ak_outbound_logging_config_t;

/* `format` as written at one level: the ak_format_config_t the formatters
 * take, plus loader bookkeeping. */
typedef struct ak_outbound_format {
    ak_format_config_t fmt;
    ak_config_pairs_t props_raw; /* moved into fmt.props after parsing */
    bool has_schema, has_schema_file, has_metadata_key, has_props;
    size_t index;                /* index of the distinct format equal to this one */
} ak_outbound_format_t;

/* `batching`: accepted only disabled (see docs/CONFIGURATION.md). */
typedef struct ak_batching {
    bool enabled;
    int64_t max_bytes;
    int64_t max_records;
    int64_t batch_interval_ms;
} ak_batching_t;

/* The sections that can be overridden, at one level. NULL: not given here. */
typedef struct ak_outbound_overrides {
    ak_outbound_format_t *format;
    ak_routing_t *routing;
    ak_bin_transforms_t *bin_transforms;
    ak_batching_t *batching;
    ak_config_section_map_t namespaces; /* top level and port level: ak_outbound_overrides_t */
    ak_config_section_map_t sets;       /* namespace level: ak_outbound_overrides_t */
} ak_outbound_overrides_t;

/* The effective policy of a record. */
typedef struct ak_outbound_policy {
    const ak_format_config_t *format;   /* NULL: no format at any level: skip the record */
    size_t format_index;                /* index for ak_outbound_config_format; SIZE_MAX with NULL */
    const ak_routing_t *routing;        /* NULL: no routing at any level (ak_route_resolve: UNROUTABLE) */
    const ak_bin_transforms_t *bin_transforms; /* never NULL (identity when none) */
} ak_outbound_policy_t;

typedef struct ak_outbound_policy_table ak_outbound_policy_table_t;

typedef struct ak_outbound_config {
    char *path;                         /* the file loaded */
    ak_outbound_service_config_t service;
    ak_config_pairs_t producer_props;   /* in file order; list values comma-joined;
                                           key.serializer/value.serializer removed */
    ak_outbound_logging_config_t logging;
    ak_outbound_overrides_t global;     /* top-level format, routing, ..., namespaces */
    ak_config_section_map_t ports;      /* port-based-config: ak_outbound_overrides_t */
    ak_config_strings_t notes;          /* "FILE:LINE: ..." to log at start (ignored keys) */
    /* Derived at load. */
    const ak_format_config_t **formats; /* distinct format configurations */
    size_t n_formats;
    ak_outbound_policy_table_t *policies;
} ak_outbound_config_t;

/* Loads and checks path (schema-file and relative TLS paths resolve against
 * its directory). NULL on failure, with "FILE:LINE: section.key: problem"
 * in err. Free with ak_outbound_config_free. */
ak_outbound_config_t *ak_outbound_config_load(const char *path, ak_error_t *err);

/* As above from text in memory; name stands for the file in messages and
 * dir for its directory (NULL: the current directory). */
ak_outbound_config_t *ak_outbound_config_load_string(const char *text, size_t len, const char *name,
                                                     const char *dir, ak_error_t *err);

void ak_outbound_config_free(ak_outbound_config_t *cfg);

/* The effective policy for a record that arrived on listen_port (0 or a
 * port without port-based-config: the global levels only). ns and set are
 * not NUL-terminated; set_len 0 means no set. Never NULL. No allocation, no
 * locks. */
const ak_outbound_policy_t *ak_outbound_policy_for(const ak_outbound_config_t *cfg,
                                                   uint16_t listen_port, const char *ns,
                                                   size_t ns_len, const char *set, size_t set_len);

/* The distinct format configurations (the pipeline builds one formatter for
 * each and picks one by policy->format_index). */
size_t ak_outbound_config_format_count(const ak_outbound_config_t *cfg);
const ak_format_config_t *ak_outbound_config_format(const ak_outbound_config_t *cfg, size_t index);

/* Appends docs/CONFIGURATION.md (every table, as Markdown) to out. */
void ak_outbound_config_render_docs(ak_buf_t *out);

const char *ak_outbound_protocol_name(ak_outbound_protocol_t protocol);

#endif
