/*
 * ak_inbound_config: aerospike-kafka-inbound.yml, the configuration file of
 * Aerospike's inbound Kafka connector (Kafka -> Aerospike), loaded and
 * checked (spec inbound.md §3), plus aerokafka's extensions: consumer-props,
 * the Kafka Connect error keys (errors.*), value and key formats, tombstone
 * handling, service.manage and logging. docs/INBOUND.md explains the
 * choices; docs/CONFIGURATION.md lists every key (rendered from the tables
 * in ak_inbound_config.c by `aerokafka config-docs`).
 *
 * Every error names FILE:LINE, the key and what was expected. A loaded
 * configuration is immutable: any number of threads may read it at once.
 */
#ifndef AK_INBOUND_CONFIG_H
#define AK_INBOUND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_buf.h"
#include "common/ak_config.h"
#include "common/ak_error.h"
#include "common/ak_log.h"
#include "format/ak_inbound_decode.h"
#include "wire/ak_record.h"

/* Aerospike limits checked at load (static names) and per record. */
#define AK_INBOUND_NAMESPACE_MAX 31
#define AK_INBOUND_SET_MAX 63
#define AK_INBOUND_BIN_NAME_MAX 15
#define AK_INBOUND_MAX_BINS 32767       /* the server's RECORD_MAX_BINS */
#define AK_INBOUND_TTL_MAX 315360000    /* 10 years: the server refuses longer TTLs */

/* ---- aerospike ---- */

typedef struct ak_inbound_seed {
    char *host;
    int64_t port;         /* default 3000 */
    char *tls_name;       /* NULL: the host (when TLS is on) */
    unsigned line;
} ak_inbound_seed_t;

typedef enum ak_inbound_auth_mode {
    AK_INBOUND_AUTH_INTERNAL = 0,     /* hashed password */
    AK_INBOUND_AUTH_EXTERNAL,         /* LDAP: clear password, needs TLS */
    AK_INBOUND_AUTH_EXTERNAL_INSECURE,/* LDAP without TLS */
    AK_INBOUND_AUTH_PKI,              /* client certificate (server 5.7+) */
} ak_inbound_auth_mode_t;

typedef struct ak_inbound_credentials {
    char *username;
    char *password_file;  /* resolved against the config file's directory */
    char *password;       /* read from password_file at load, trailing newline removed */
    ak_inbound_auth_mode_t auth_mode;
} ak_inbound_credentials_t;

typedef struct ak_inbound_tls {
    bool enabled;                  /* the tls section is present */
    char *ca_file;                 /* PEM CAs the server certificates must chain to */
    char *cert_file;               /* PEM client certificate (mutual TLS, PKI auth) */
    char *key_file;                /* PEM key of cert_file */
    ak_config_strings_t protocols; /* default TLSv1.2 */
    ak_config_strings_t ciphers;   /* empty: OpenSSL's defaults */
} ak_inbound_tls_t;

typedef struct ak_inbound_aerospike {
    ak_inbound_seed_t *seeds;      /* at least one */
    size_t n_seeds;
    char *cluster_name;            /* NULL: not checked */
    ak_inbound_credentials_t *credentials; /* NULL: no authentication */
    ak_inbound_tls_t tls;
    int64_t connect_timeout_ms;    /* default 1000 */
    int64_t login_timeout_ms;      /* default 5000 */
    int64_t tend_interval_ms;      /* default 1000 */
    int64_t max_connections_per_node; /* default 100 */
    bool use_boolean_bin;          /* default true; false: booleans are written as 1/0 */
} ak_inbound_aerospike_t;

/* ---- topics ---- */

typedef enum ak_inbound_field_mode {
    AK_INBOUND_FIELD_STATIC = 0,
    AK_INBOUND_FIELD_DYNAMIC,
} ak_inbound_field_mode_t;

typedef enum ak_inbound_source {
    AK_INBOUND_SOURCE_NONE = 0,    /* static */
    AK_INBOUND_SOURCE_KEY,         /* the decoded Kafka key */
    AK_INBOUND_SOURCE_VALUE_FIELD, /* a top-level field of the decoded value */
    AK_INBOUND_SOURCE_VALUE,       /* the whole decoded value (bins only) */
} ak_inbound_source_t;

/* One field selection: `{mode: static, value: X}`,
 * `{mode: dynamic, source: value-field, field-name: F}`, `{source: key}`. */
typedef struct ak_inbound_field {
    bool given;                    /* written in the file */
    ak_inbound_field_mode_t mode;  /* inferred when not written */
    ak_inbound_source_t source;
    char *value;                   /* static */
    char *field_name;              /* source value-field */
    bool has_mode, has_source, has_value;
    int64_t number;                /* static ttl (parsed, -2..TTL_MAX) and generation */
} ak_inbound_field_t;

typedef struct ak_inbound_bins {
    int type;                      /* multi-bins (the only type) */
    bool all_value_fields;         /* every top-level value field becomes a bin */
    ak_config_section_map_t map;   /* bin name -> ak_inbound_field_t, in file order */
    bool given;
} ak_inbound_bins_t;

typedef struct ak_inbound_mapping {
    ak_inbound_field_t ns;
    ak_inbound_field_t set;        /* not given: no set */
    ak_inbound_field_t key_field;  /* exactly one of key_field and digest is given */
    ak_inbound_field_t digest;
    ak_inbound_field_t ttl;        /* not given: 0, the namespace default */
    ak_inbound_field_t generation; /* required with generation-policy other than none */
    ak_inbound_bins_t bins;
} ak_inbound_mapping_t;

typedef enum ak_inbound_op_type {
    AK_INBOUND_OP_WRITE = 0,
    AK_INBOUND_OP_DELETE,
} ak_inbound_op_type_t;

typedef struct ak_inbound_operation {
    ak_inbound_op_type_t type;
    ak_exists_action_t record_exists_action;
    ak_generation_policy_t generation_policy;
    ak_commit_level_t commit_level;
    bool send_key;
    bool durable_delete;           /* every delete (type delete, tombstones) */
    int64_t max_retries;           /* client retries of a write; default 2 */
    int64_t total_timeout_ms;      /* 0: no total limit */
    int64_t socket_timeout_ms;     /* per attempt; default 30000 */
    bool has_record_exists_action, has_send_key;
} ak_inbound_operation_t;

typedef enum ak_inbound_invalid_action {
    AK_INBOUND_INVALID_IGNORE = 0, /* skip it (dead-letter it when a DLQ topic is set) */
    AK_INBOUND_INVALID_KILL_TASK,  /* stop consuming: the connector fails */
} ak_inbound_invalid_action_t;

typedef enum ak_inbound_tombstone_action {
    AK_INBOUND_TOMBSTONE_FAIL = 0, /* an invalid record */
    AK_INBOUND_TOMBSTONE_DELETE,   /* delete the record the Kafka key names */
    AK_INBOUND_TOMBSTONE_IGNORE,   /* skip it */
} ak_inbound_tombstone_action_t;

typedef enum ak_inbound_tolerance {
    AK_INBOUND_TOLERANCE_NONE = 0,
    AK_INBOUND_TOLERANCE_ALL,
} ak_inbound_tolerance_t;

/* Kafka Connect's error keys, at the top level and per topic. */
typedef struct ak_inbound_errors {
    ak_inbound_tolerance_t tolerance;
    char *dlq_topic;               /* errors.deadletterqueue.topic.name; NULL: none */
    bool dlq_context_headers;      /* errors.deadletterqueue.context.headers.enable */
    int64_t retry_timeout_ms;      /* errors.retry.timeout; -1: retry forever */
    int64_t retry_delay_max_ms;    /* errors.retry.delay.max.ms */
    bool has_tolerance, has_dlq_topic, has_dlq_context_headers, has_retry_timeout,
        has_retry_delay_max;
} ak_inbound_errors_t;

typedef struct ak_inbound_topic_config {
    const char *name;              /* the Kafka topic (the key under `topics`) */
    ak_inbound_invalid_action_t invalid_record; /* effective (see errors) */
    bool has_invalid_record;
    ak_inbound_mapping_t mapping;
    ak_inbound_operation_t operation;
    ak_inbound_format_config_t value_format;
    ak_inbound_format_config_t key_format;
    ak_inbound_tombstone_action_t on_tombstone;
    bool has_on_tombstone;
    ak_inbound_errors_t errors;    /* effective: the topic's keys over the top level's */
} ak_inbound_topic_config_t;

/* ---- top level ---- */

typedef struct ak_inbound_manage {
    bool enabled;                  /* service.manage is present */
    char *address;                 /* default 0.0.0.0 */
    int64_t port;
} ak_inbound_manage_t;

typedef ak_log_level_setting_t ak_inbound_log_level_t;

typedef struct ak_inbound_logging {
    char *file;                    /* NULL: no log file */
    bool enable_console_logging;
    ak_inbound_log_level_t *levels; /* `root` first, info unless given */
    size_t n_levels;
    int64_t max_history;
    int64_t ticker_interval_s;
} ak_inbound_logging_t;

typedef struct ak_inbound_config {
    char *path;                    /* the file loaded; consumer-props lines refer to it */
    int64_t max_queued_records;    /* default 32768 */
    int64_t processing_threads;    /* 0: number of CPUs */
    ak_inbound_aerospike_t aerospike;
    ak_config_section_map_t topics; /* name -> ak_inbound_topic_config_t, in file order */
    ak_config_pairs_t consumer_props; /* for librdkafka, in file order, each with its line;
                                         group.id added (line 0) when not given */
    ak_inbound_errors_t errors;    /* top-level defaults of every topic */
    ak_inbound_manage_t manage;    /* service.manage */
    ak_inbound_logging_t logging;
    char *feature_key_file;        /* accepted and not used (a note says so) */
    ak_config_strings_t notes;     /* "FILE:LINE: ..." to log at start */
} ak_inbound_config_t;

/* Loads and checks path (schema-file, password-file and TLS paths resolve
 * against its directory; those files are read now). NULL on failure, with
 * "FILE:LINE: key: problem" in err. Free with ak_inbound_config_free. */
ak_inbound_config_t *ak_inbound_config_load(const char *path, ak_error_t *err);

/* As above from text in memory; name stands for the file in messages, dir
 * for its directory (NULL: the current directory). */
ak_inbound_config_t *ak_inbound_config_load_string(const char *text, size_t len, const char *name,
                                                   const char *dir, ak_error_t *err);

void ak_inbound_config_free(ak_inbound_config_t *cfg);

size_t ak_inbound_config_topic_count(const ak_inbound_config_t *cfg);
const ak_inbound_topic_config_t *ak_inbound_config_topic_at(const ak_inbound_config_t *cfg,
                                                            size_t index);
/* The topic's configuration, or NULL when topic is not configured. */
const ak_inbound_topic_config_t *ak_inbound_config_topic(const ak_inbound_config_t *cfg,
                                                         const char *topic, size_t topic_len);

/* A TTL as the mapping accepts it: an integer of seconds, optionally with
 * a suffix S, M, H or D (any case: "100H", "10m", "1D"), or -1 (never
 * expire), -2 (keep the record's TTL), 0 (the namespace default). Returns
 * false (with why set to a short reason) when text is none of these or is
 * above AK_INBOUND_TTL_MAX. */
bool ak_inbound_ttl_parse(const char *text, size_t len, int64_t *ttl, const char **why);

/* Appends the inbound part of docs/CONFIGURATION.md to out. */
void ak_inbound_config_render_docs(ak_buf_t *out);

#endif
