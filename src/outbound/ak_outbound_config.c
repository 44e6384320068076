/*
 * aerospike-kafka-outbound.yml: one ak_config table per section, the checks
 * that span keys, and the per-record policy computed at load.
 */
#include "outbound/ak_outbound_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AK_OB_PATH_MAX 256
#define AK_OB_SCHEMA_MAX (16u * 1024 * 1024)

#define AK_OB_CUSTOM_CODE                                                                          \
    "needs a Java plug-in (custom transformer, router or formatter), and aerokafka cannot run "   \
    "Java plug-ins; use the built-in modes"

#define AK_OB_JKS                                                                                  \
    "JKS/PKCS12 stores are not supported: aerokafka needs PEM files (cert-file, key-file, "       \
    "ca-file); convert with keytool -importkeystore -deststoretype PKCS12, then openssl pkcs12 "  \
    "-nodes (see docs/CONFIGURATION.md)"

#define AK_CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

const char *ak_outbound_protocol_name(ak_outbound_protocol_t protocol)
{
    switch (protocol) {
    case AK_XDR_PROTOCOL_TCP: return "TCP";
    case AK_XDR_PROTOCOL_HTTP_1_1: return "HTTP_1_1";
    case AK_XDR_PROTOCOL_HTTP_2: return "HTTP_2";
    }
    return "unknown";
}

static const ak_yaml_node_t *ak_ob_line_of(const ak_yaml_node_t *node, const char *key,
                                           const ak_yaml_node_t *fallback)
{
    const ak_yaml_node_t *k = ak_yaml_get_key(node, key);
    return k ? k : fallback ? fallback : node;
}

/* ======================================================================
 * service
 * ====================================================================== */

static ak_status_t ak_ob_tls_validate(ak_config_ctx_t *ctx, const char *path,
                                      const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                      void *obj, ak_error_t *err)
{
    ak_outbound_tls_config_t *tls = obj;
    if (!node)
        return AK_OK;
    static const char *const known[] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
    for (size_t i = 0; i < tls->protocols.n; i++) {
        bool ok = false;
        for (size_t k = 0; k < 4; k++)
            ok = ok || strcmp(tls->protocols.items[i], known[k]) == 0;
        if (!ok)
            return ak_config_error(ctx, ak_yaml_get(node, "protocols"), err, AK_ERR_INVALID_ARG,
                                   "%s.protocols: expected TLSv1.2 or TLSv1.3, got \"%s\"", path,
                                   tls->protocols.items[i]);
    }
    if (tls->allowed_peer_names.n && !tls->ca_file)
        return ak_config_error(ctx, ak_ob_line_of(node, "allowed-peer-names", key_node), err,
                               AK_ERR_INVALID_ARG,
                               "%s.ca-file: required with allowed-peer-names (peers are verified against it)",
                               path);
    return AK_OK;
}

static const ak_config_key_t ak_ob_tls_keys[] = {
    {.name = "port", .type = AK_CFG_INT_LIST, .offset = offsetof(ak_outbound_tls_config_t, ports),
     .min = 1, .max = 65535, .required = true, .in_aerospike = true,
     .help = "TLS listening port(s) for XDR."},
    {.name = "address", .type = AK_CFG_STRING_LIST,
     .offset = offsetof(ak_outbound_tls_config_t, addresses), .def = "0.0.0.0", .in_aerospike = true,
     .help = "Address(es) the TLS ports listen on."},
    {.name = "cert-file", .type = AK_CFG_PATH, .offset = offsetof(ak_outbound_tls_config_t, cert_file),
     .required = true, .in_aerospike = false,
     .help = "PEM certificate chain presented to XDR (replaces Aerospike's key-store)."},
    {.name = "key-file", .type = AK_CFG_PATH, .offset = offsetof(ak_outbound_tls_config_t, key_file),
     .required = true, .in_aerospike = false, .help = "PEM private key of cert-file (unencrypted)."},
    {.name = "ca-file", .type = AK_CFG_PATH, .offset = offsetof(ak_outbound_tls_config_t, ca_file),
     .in_aerospike = false,
     .help = "PEM CA certificates that client certificates must chain to (replaces trust-store); "
             "required with allowed-peer-names."},
    {.name = "allowed-peer-names", .type = AK_CFG_STRING_LIST,
     .offset = offsetof(ak_outbound_tls_config_t, allowed_peer_names), .in_aerospike = true,
     .help = "Mutual TLS: only XDR nodes whose certificate name (CN or subject alternative name) "
             "is listed may connect."},
    {.name = "protocols", .type = AK_CFG_STRING_LIST,
     .offset = offsetof(ak_outbound_tls_config_t, protocols), .def = "TLSv1.2", .in_aerospike = true,
     .help = "TLS versions accepted: TLSv1.2, TLSv1.3."},
    {.name = "ciphers", .type = AK_CFG_STRING_LIST, .offset = offsetof(ak_outbound_tls_config_t, ciphers),
     .in_aerospike = true,
     .help = "Cipher suites, by OpenSSL name (Java's IANA names are not translated); empty: "
             "OpenSSL's defaults."},
    {.name = "key-store", .type = AK_CFG_REJECT, .in_aerospike = true, .help = AK_OB_JKS},
    {.name = "trust-store", .type = AK_CFG_REJECT, .in_aerospike = true, .help = AK_OB_JKS},
};

static const ak_config_table_t ak_ob_tls_table = {
    .name = "service.tls",
    .doc = "TLS for the XDR link, with PEM files. Aerospike's connector takes Java key stores "
           "(`key-store`, `trust-store`: JKS, PKCS12, ...); aerokafka refuses them and names "
           "the PEM keys to use instead. To convert a JKS store:\n\n"
           "    keytool -importkeystore -srckeystore svc.keystore.jks -destkeystore svc.p12 "
           "-deststoretype PKCS12\n"
           "    openssl pkcs12 -in svc.p12 -nokeys -out cert.pem\n"
           "    openssl pkcs12 -in svc.p12 -nocerts -nodes -out key.pem\n"
           "    keytool -exportcert -rfc -keystore truststore.jks -alias <ca-alias> -file ca.pem\n\n"
           "Relative paths are relative to the configuration file's directory, as for Aerospike's "
           "store files.",
    .size = sizeof(ak_outbound_tls_config_t),
    .keys = ak_ob_tls_keys,
    .n_keys = sizeof ak_ob_tls_keys / sizeof ak_ob_tls_keys[0],
    .validate = ak_ob_tls_validate,
};

static const ak_config_key_t ak_ob_manage_keys[] = {
    {.name = "address", .type = AK_CFG_STRING, .offset = offsetof(ak_outbound_manage_config_t, address),
     .def = "0.0.0.0", .in_aerospike = true, .help = "Address of the management API (metrics, health)."},
    {.name = "port", .type = AK_CFG_INT, .offset = offsetof(ak_outbound_manage_config_t, port),
     .min = 1, .max = 65535, .required = true, .in_aerospike = true,
     .help = "Port of the management API (`/manage/rest/v1/...`)."},
};

static const ak_config_table_t ak_ob_manage_table = {
    .name = "service.manage",
    .doc = "The management API: metrics (JSON and Prometheus) and health. Served only when this "
           "section is present.",
    .size = sizeof(ak_outbound_manage_config_t),
    .keys = ak_ob_manage_keys,
    .n_keys = sizeof ak_ob_manage_keys / sizeof ak_ob_manage_keys[0],
};

static const ak_config_enum_t ak_ob_protocols[] = {
    {.name = "TCP", .value = AK_XDR_PROTOCOL_TCP},
    {.name = "HTTP_1_1", .value = AK_XDR_PROTOCOL_HTTP_1_1},
    {.name = "HTTP_2", .value = AK_XDR_PROTOCOL_HTTP_2},
    {.name = NULL},
};

static bool ak_ob_ints_contains(const ak_config_ints_t *list, int64_t v)
{
    for (size_t i = 0; i < list->n; i++)
        if (list->items[i] == v)
            return true;
    return false;
}

static ak_status_t ak_ob_service_validate(ak_config_ctx_t *ctx, const char *path,
                                          const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                          void *obj, ak_error_t *err)
{
    (void)key_node;
    ak_outbound_service_config_t *svc = obj;
    if (!svc->has_port && !svc->tls.enabled) {
        svc->ports.items = malloc(sizeof *svc->ports.items);
        if (!svc->ports.items)
            return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
        svc->ports.items[0] = 8080;
        svc->ports.n = 1;
    }
    for (size_t i = 0; i < svc->tls.ports.n; i++)
        if (ak_ob_ints_contains(&svc->ports, svc->tls.ports.items[i]))
            return ak_config_error(ctx, ak_yaml_get(ak_yaml_get(node, "tls"), "port"), err,
                                   AK_ERR_INVALID_ARG,
                                   "%s.tls.port: %lld is also a plain port in %s.port", path,
                                   (long long)svc->tls.ports.items[i], path);
    if (svc->manage.enabled && (ak_ob_ints_contains(&svc->ports, svc->manage.port) ||
                                ak_ob_ints_contains(&svc->tls.ports, svc->manage.port)))
        return ak_config_error(ctx, ak_yaml_get(ak_yaml_get(node, "manage"), "port"), err,
                               AK_ERR_INVALID_ARG,
                               "%s.manage.port: %lld is also an XDR port", path,
                               (long long)svc->manage.port);
    return AK_OK;
}

static const ak_config_key_t ak_ob_service_keys[] = {
    {.name = "port", .type = AK_CFG_INT_LIST, .offset = offsetof(ak_outbound_service_config_t, ports),
     .min = 1, .max = 65535, .def_doc = "`8080` (none when only `tls` is given)",
     AK_CFG_PRESENT(ak_outbound_service_config_t, has_port), .in_aerospike = true,
     .help = "Plain (non-TLS) port(s) XDR connects to. Each port listens on every address."},
    {.name = "address", .type = AK_CFG_STRING_LIST,
     .offset = offsetof(ak_outbound_service_config_t, addresses), .def = "0.0.0.0", .in_aerospike = true,
     .help = "Address(es) the plain ports listen on."},
    {.name = "protocol", .type = AK_CFG_ENUM, .offset = offsetof(ak_outbound_service_config_t, protocol),
     .values = ak_ob_protocols, .def = "TCP", .in_aerospike = true,
     .help = "How XDR talks to us: `TCP` is XDR's binary protocol (server 5.0 and later). "
             "`HTTP_1_1` and `HTTP_2` both select aerokafka's HTTP receiver, which serves "
             "HTTP/1.1 and HTTP/2 (h2c) on the same port."},
    {.name = "tls", .type = AK_CFG_SECTION, .offset = offsetof(ak_outbound_service_config_t, tls),
     .section = &ak_ob_tls_table, AK_CFG_PRESENT(ak_outbound_service_config_t, tls.enabled),
     .in_aerospike = true, .help = "TLS listener (PEM files)."},
    {.name = "manage", .type = AK_CFG_SECTION, .offset = offsetof(ak_outbound_service_config_t, manage),
     .section = &ak_ob_manage_table, AK_CFG_PRESENT(ak_outbound_service_config_t, manage.enabled),
     .in_aerospike = true, .help = "Management API listener."},
    {.name = "io-threads", .type = AK_CFG_INT, .offset = offsetof(ak_outbound_service_config_t, io_threads),
     .min = 0, .max = 1024, .def = "0", .def_doc = "`0` (number of CPUs)", .in_aerospike = true,
     .help = "Threads that read XDR requests and write acknowledgements."},
    {.name = "worker-threads", .type = AK_CFG_INT,
     .offset = offsetof(ak_outbound_service_config_t, worker_threads), .min = 0, .max = 1024,
     .def = "0", .def_doc = "`0` (number of CPUs)", .in_aerospike = true,
     .help = "Threads that transform, format and hand records to the Kafka producer."},
    {.name = "max-concurrent-records", .type = AK_CFG_INT,
     .offset = offsetof(ak_outbound_service_config_t, max_concurrent_records), .min = 1,
     .max = 16777216, .def = "32768", .in_aerospike = true,
     .help = "Records in flight (received, not yet acknowledged); reading from XDR pauses at "
             "this bound."},
    {.name = "enable-tcp-xdr-ack-buffering", .type = AK_CFG_BOOL,
     .offset = offsetof(ak_outbound_service_config_t, enable_tcp_xdr_ack_buffering), .def = "true",
     .in_aerospike = true,
     .help = "Coalesce acknowledgements ready together into one socket write."},
    {.name = "socket-receive-buffer-bytes", .type = AK_CFG_INT,
     .offset = offsetof(ak_outbound_service_config_t, socket_receive_buffer_bytes), .min = 1024,
     .max = 1073741824, .def = "32768", .in_aerospike = true,
     .help = "Bytes read from an XDR connection per attempt."},
    {.name = "cluster-name", .type = AK_CFG_STRING,
     .offset = offsetof(ak_outbound_service_config_t, cluster_name), .def = "aerospike-kafka-outbound",
     .in_aerospike = true, .help = "Name of this connector cluster, a label on every metric."},
};

static const ak_config_table_t ak_ob_service_table = {
    .name = "service",
    .doc = "Where and how XDR reaches the connector.",
    .size = sizeof(ak_outbound_service_config_t),
    .keys = ak_ob_service_keys,
    .n_keys = sizeof ak_ob_service_keys / sizeof ak_ob_service_keys[0],
    .validate = ak_ob_service_validate,
};

/* ======================================================================
 * format
 * ====================================================================== */

static const ak_config_enum_t ak_ob_format_modes[] = {
    {.name = "json", .value = AK_FORMAT_JSON},
    {.name = "flat-json", .value = AK_FORMAT_FLAT_JSON},
    {.name = "message-pack", .value = AK_FORMAT_MESSAGE_PACK},
    {.name = "avro", .value = AK_FORMAT_AVRO},
    {.name = "kafka-avro", .value = AK_FORMAT_KAFKA_AVRO},
    {.name = "kafka", .value = AK_FORMAT_KAFKA_AVRO, .alias_of = "kafka-avro"},
    {.name = "custom", .reject = AK_OB_CUSTOM_CODE},
    {.name = NULL},
};

static const char *ak_ob_format_mode_text(ak_format_mode_t mode)
{
    for (size_t i = 0; ak_ob_format_modes[i].name; i++)
        if (ak_ob_format_modes[i].value == (int)mode && !ak_ob_format_modes[i].reject)
            return ak_ob_format_modes[i].name;
    return "unknown";
}

static ak_status_t ak_ob_read_schema(ak_config_ctx_t *ctx, const char *path,
                                     const ak_yaml_node_t *line, ak_outbound_format_t *f,
                                     ak_error_t *err)
{
    FILE *file = fopen(f->fmt.schema_file, "rb");
    if (!file)
        return ak_config_error(ctx, line, err, AK_ERR_IO, "%s.schema-file: cannot read %s: %s", path,
                               f->fmt.schema_file, strerror(errno));
    ak_buf_t text;
    ak_buf_init(&text);
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, file)) > 0 && text.len <= AK_OB_SCHEMA_MAX)
        ak_buf_append(&text, chunk, got);
    bool failed = ferror(file) != 0;
    fclose(file);
    if (failed || text.len > AK_OB_SCHEMA_MAX || text.len == 0) {
        ak_buf_free(&text);
        return ak_config_error(ctx, line, err, AK_ERR_IO, "%s.schema-file: %s is %s", path,
                               f->fmt.schema_file,
                               failed ? "unreadable" : text.len ? "larger than 16 MiB" : "empty");
    }
    ak_buf_append_byte(&text, 0);
    if (ak_buf_failed(&text)) {
        ak_buf_free(&text);
        return ak_config_error(ctx, line, err, AK_ERR_NOMEM, "%s.schema-file: out of memory", path);
    }
    f->fmt.schema = (char *)text.data; /* ownership moves to the format */
    return AK_OK;
}

static bool ak_ob_is_topic_name_strategy(const char *v)
{
    size_t len = strlen(v), suffix = strlen("TopicNameStrategy");
    return len >= suffix && strcmp(v + len - suffix, "TopicNameStrategy") == 0 &&
           (len == suffix || v[len - suffix - 1] == '.');
}

static ak_status_t ak_ob_format_validate(ak_config_ctx_t *ctx, const char *path,
                                         const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                         void *obj, ak_error_t *err)
{
    ak_outbound_format_t *f = obj;
    const char *mode = ak_ob_format_mode_text(f->fmt.mode);
    if (f->fmt.mode == AK_FORMAT_FLAT_JSON && !f->has_metadata_key)
        return ak_config_error(ctx, key_node, err, AK_ERR_INVALID_ARG,
                               "%s.metadata-key: required when mode is flat-json", path);
    if (f->fmt.mode == AK_FORMAT_AVRO || f->fmt.mode == AK_FORMAT_KAFKA_AVRO) {
        if (f->has_schema && f->has_schema_file)
            return ak_config_error(ctx, ak_ob_line_of(node, "schema-file", key_node), err,
                                   AK_ERR_INVALID_ARG,
                                   "%s: give schema or schema-file, not both", path);
        if (!f->has_schema && !f->has_schema_file)
            return ak_config_error(ctx, key_node, err, AK_ERR_INVALID_ARG,
                                   "%s.schema: required when mode is %s (or schema-file)", path, mode);
        if (f->has_schema_file) {
            ak_status_t st = ak_ob_read_schema(ctx, path, ak_yaml_get(node, "schema-file"), f, err);
            if (st != AK_OK)
                return st;
        }
    } else {
        /* Not used by this mode: Aerospike's connector ignores them too. */
        free(f->fmt.schema);
        f->fmt.schema = NULL;
    }
    if (f->fmt.mode == AK_FORMAT_KAFKA_AVRO) {
        if (!f->has_props)
            return ak_config_error(ctx, key_node, err, AK_ERR_INVALID_ARG,
                                   "%s.props: required when mode is kafka-avro (schema.registry.url, ...)",
                                   path);
        for (size_t i = 0; i < f->props_raw.n; i++)
            if (strcmp(f->props_raw.items[i].name, "value.subject.name.strategy") == 0 &&
                ak_ob_is_topic_name_strategy(f->props_raw.items[i].value)) {
                ak_yaml_node_t at = {.line = f->props_raw.items[i].line};
                return ak_config_error(ctx, &at, err, AK_ERR_INVALID_ARG,
                                       "%s.props.value.subject.name.strategy: TopicNameStrategy cannot "
                                       "hold both the write and the delete schema; use "
                                       "RecordNameStrategy or TopicRecordNameStrategy",
                                       path);
            }
    }
    /* Move props into the ak_format_config_t layout the formatters take. */
    if (f->props_raw.n) {
        f->fmt.props = calloc(f->props_raw.n, sizeof *f->fmt.props);
        if (!f->fmt.props)
            return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < f->props_raw.n; i++) {
            f->fmt.props[i].name = f->props_raw.items[i].name;
            f->fmt.props[i].value = f->props_raw.items[i].value;
            f->props_raw.items[i].name = f->props_raw.items[i].value = NULL;
        }
        f->fmt.n_props = f->props_raw.n;
        ak_config_pairs_free(&f->props_raw);
    }
    return AK_OK;
}

static void ak_ob_format_free_extra(void *obj)
{
    ak_outbound_format_t *f = obj;
    for (size_t i = 0; i < f->fmt.n_props; i++) {
        free(f->fmt.props[i].name);
        free(f->fmt.props[i].value);
    }
    free(f->fmt.props);
    f->fmt.props = NULL;
    f->fmt.n_props = 0;
}

static const ak_config_key_t ak_ob_format_keys[] = {
    {.name = "mode", .type = AK_CFG_ENUM, .offset = offsetof(ak_outbound_format_t, fmt.mode),
     .values = ak_ob_format_modes, .required = true, .in_aerospike = true,
     .help = "The Kafka message format. `kafka` is accepted as an alias of `kafka-avro` (a "
             "4.0-era sample lists it; unconfirmed). `custom` (a Java formatter) is refused."},
    {.name = "metadata-key", .type = AK_CFG_STRING, .offset = offsetof(ak_outbound_format_t, fmt.metadata_key),
     AK_CFG_PRESENT(ak_outbound_format_t, has_metadata_key), .in_aerospike = true,
     .help = "flat-json (required): name of the object holding the metadata. kafka-avro: field "
             "that receives the metadata (none when absent)."},
    {.name = "stringify-map-keys", .type = AK_CFG_BOOL,
     .offset = offsetof(ak_outbound_format_t, fmt.stringify_map_keys), .def = "true", .in_aerospike = true,
     .help = "Write numeric map keys as strings (JSON and Avro maps have string keys)."},
    {.name = "schema", .type = AK_CFG_STRING, .offset = offsetof(ak_outbound_format_t, fmt.schema),
     AK_CFG_PRESENT(ak_outbound_format_t, has_schema), .in_aerospike = true,
     .help = "avro, kafka-avro: the Avro schema as JSON text. Give this or schema-file."},
    {.name = "schema-file", .type = AK_CFG_PATH, .offset = offsetof(ak_outbound_format_t, fmt.schema_file),
     AK_CFG_PRESENT(ak_outbound_format_t, has_schema_file), .in_aerospike = true,
     .help = "avro, kafka-avro: file holding the Avro schema, read at start."},
    {.name = "registry-topic", .type = AK_CFG_STRING,
     .offset = offsetof(ak_outbound_format_t, fmt.registry_topic), .in_aerospike = true,
     .help = "kafka-avro: topic part of TopicRecordNameStrategy subjects."},
    {.name = "props", .type = AK_CFG_STRING_MAP, .offset = offsetof(ak_outbound_format_t, props_raw),
     AK_CFG_PRESENT(ak_outbound_format_t, has_props), .in_aerospike = true,
     .help = "kafka-avro (required): serializer settings: `schema.registry.url`, "
             "`value.subject.name.strategy` (RecordNameStrategy or TopicRecordNameStrategy; "
             "TopicNameStrategy is refused), registry credentials."},
    {.name = "class", .type = AK_CFG_REJECT, .in_aerospike = true, .help = AK_OB_CUSTOM_CODE},
    {.name = "params", .type = AK_CFG_REJECT, .in_aerospike = true, .help = AK_OB_CUSTOM_CODE},
    {.name = "payload-format", .type = AK_CFG_REJECT, .in_aerospike = true, .help = AK_OB_CUSTOM_CODE},
};

static const ak_config_table_t ak_ob_format_table = {
    .name = "format",
    .doc = "How a record becomes a Kafka message (spec outbound.md §3). A `format` section at "
           "any level is complete on its own: keys are not merged with a less specific level.",
    .size = sizeof(ak_outbound_format_t),
    .keys = ak_ob_format_keys,
    .n_keys = sizeof ak_ob_format_keys / sizeof ak_ob_format_keys[0],
    .validate = ak_ob_format_validate,
    .free_extra = ak_ob_format_free_extra,
};

/* ======================================================================
 * routing
 * ====================================================================== */

typedef struct ak_ob_regex_spec {
    char *pattern;
    char *replacement;
} ak_ob_regex_spec_t;

static const ak_config_key_t ak_ob_regex_keys[] = {
    {.name = "pattern", .type = AK_CFG_STRING, .offset = offsetof(ak_ob_regex_spec_t, pattern),
     .required = true, .in_aerospike = true,
     .help = "POSIX extended regular expression (not Java syntax: no \\d, \\w, lookaround or lazy "
             "quantifiers)."},
    {.name = "replacement", .type = AK_CFG_STRING, .offset = offsetof(ak_ob_regex_spec_t, replacement),
     .def = "", .def_doc = "empty", .in_aerospike = true,
     .help = "Replaces every match; `$1`..`$9` insert groups, `\\$` a dollar sign."},
};

static const ak_config_table_t ak_ob_regex_table = {
    .name = "routing.transforms[].regex",
    .doc = "A regular-expression replacement step of `routing.transforms`: "
           "`- regex: {pattern: '[^A-Za-z0-9]', replacement: '-'}`.",
    .size = sizeof(ak_ob_regex_spec_t),
    .keys = ak_ob_regex_keys,
    .n_keys = sizeof ak_ob_regex_keys / sizeof ak_ob_regex_keys[0],
};

static void ak_ob_name_transforms_free(void *field)
{
    ak_routing_t *r = AK_CONTAINER(field, ak_routing_t, transforms);
    for (size_t i = 0; i < r->n_transforms; i++) {
        if (r->transforms[i].compiled)
            regfree(&r->transforms[i].regex);
        free(r->transforms[i].pattern);
        free(r->transforms[i].replacement);
    }
    free(r->transforms);
    r->transforms = NULL;
    r->n_transforms = 0;
}

static ak_status_t ak_ob_name_transform_one(ak_config_ctx_t *ctx, const char *path,
                                            const ak_yaml_node_t *item, ak_name_transform_t *tr,
                                            ak_error_t *err)
{
    char got[64];
    if (item->kind == AK_YAML_SCALAR) {
        static const struct {
            const char *name;
            ak_name_transform_kind_t kind;
        } simple[] = {{"lowercase", AK_NAME_LOWERCASE}, {"uppercase", AK_NAME_UPPERCASE}, {"trim", AK_NAME_TRIM}};
        for (size_t i = 0; i < 3; i++)
            if (strcasecmp(item->text, simple[i].name) == 0) {
                tr->kind = simple[i].kind;
                return AK_OK;
            }
    } else if (item->kind == AK_YAML_MAPPING && item->n_pairs == 1 &&
               strcmp(item->pairs[0].key->text, "regex") == 0) {
        char sub[AK_OB_PATH_MAX];
        ak_config_join_path(sub, sizeof sub, path, "regex");
        ak_ob_regex_spec_t spec = {0};
        ak_status_t st = ak_config_parse(ctx, &ak_ob_regex_table, sub, item->pairs[0].key,
                                         item->pairs[0].value, &spec, err);
        if (st == AK_OK && item->pairs[0].value->kind != AK_YAML_MAPPING)
            st = ak_config_error(ctx, item->pairs[0].key, err, AK_ERR_INVALID_ARG,
                                 "%s: expected {pattern: ..., replacement: ...}", sub);
        tr->kind = AK_NAME_REGEX;
        tr->pattern = spec.pattern;
        tr->replacement = spec.replacement;
        if (st != AK_OK)
            return st;
        int rc = regcomp(&tr->regex, tr->pattern, REG_EXTENDED);
        if (rc != 0) {
            char why[128];
            regerror(rc, &tr->regex, why, sizeof why);
            return ak_config_error(ctx, ak_yaml_get(item->pairs[0].value, "pattern"), err,
                                   AK_ERR_INVALID_ARG,
                                   "%s.pattern: not a POSIX extended regular expression (%s): \"%s\"",
                                   sub, why, tr->pattern);
        }
        tr->compiled = true;
        return AK_OK;
    }
    ak_yaml_describe(item, got, sizeof got);
    return ak_config_error(ctx, item, err, AK_ERR_INVALID_ARG,
                           "%s: expected lowercase, uppercase, trim or {regex: {pattern, replacement}}, got %s",
                           path, got);
}

static ak_status_t ak_ob_name_transforms_parse(ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                               const char *path, const ak_yaml_node_t *node,
                                               void *field, ak_error_t *err)
{
    (void)key;
    ak_routing_t *r = AK_CONTAINER(field, ak_routing_t, transforms);
    size_t n = node->kind == AK_YAML_SEQUENCE ? node->n_items : 1;
    r->transforms = calloc(n, sizeof *r->transforms);
    if (!r->transforms)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        const ak_yaml_node_t *item = node->kind == AK_YAML_SEQUENCE ? node->items[i] : node;
        char sub[AK_OB_PATH_MAX];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        r->n_transforms++;
        ak_status_t st = ak_ob_name_transform_one(ctx, sub, item, &r->transforms[i], err);
        if (st != AK_OK)
            return st;
    }
    return AK_OK;
}

static const ak_config_enum_t ak_ob_routing_modes[] = {
    {.name = "static", .value = AK_ROUTING_STATIC},
    {.name = "skip", .value = AK_ROUTING_SKIP},
    {.name = "namespace", .value = AK_ROUTING_NAMESPACE},
    {.name = "set", .value = AK_ROUTING_SET},
    {.name = "bin", .value = AK_ROUTING_BIN},
    {.name = "custom", .reject = AK_OB_CUSTOM_CODE},
    {.name = "path", .reject = "was the 1.x HTTP connector's mode; XDR sends no URL path"},
    {.name = NULL},
};

static ak_status_t ak_ob_check_topic(ak_config_ctx_t *ctx, const char *path, const char *key,
                                     const ak_yaml_node_t *node, const char *topic, ak_error_t *err)
{
    if (!topic || ak_route_topic_is_legal(topic, strlen(topic)))
        return AK_OK;
    return ak_config_error(ctx, ak_yaml_get(node, key), err, AK_ERR_INVALID_ARG,
                           "%s.%s: expected a Kafka topic name (1..249 of a-z A-Z 0-9 . _ -), got \"%.60s\"",
                           path, key, topic);
}

static ak_status_t ak_ob_routing_validate(ak_config_ctx_t *ctx, const char *path,
                                          const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                          void *obj, ak_error_t *err)
{
    ak_routing_t *r = obj;
    if (r->mode == AK_ROUTING_STATIC && !r->destination)
        return ak_config_error(ctx, key_node, err, AK_ERR_INVALID_ARG,
                               "%s.destination: required when mode is static", path);
    if (r->mode == AK_ROUTING_BIN && (!r->bin || !r->bin[0]))
        return ak_config_error(ctx, key_node, err, AK_ERR_INVALID_ARG,
                               "%s.bin: required when mode is bin", path);
    ak_status_t st = ak_ob_check_topic(ctx, path, "destination", node, r->destination, err);
    if (st == AK_OK)
        st = ak_ob_check_topic(ctx, path, "default", node, r->default_topic, err);
    return st;
}

static const ak_config_key_t ak_ob_routing_keys[] = {
    {.name = "mode", .type = AK_CFG_ENUM, .offset = offsetof(ak_routing_t, mode), .values = ak_ob_routing_modes,
     .def = "static", .in_aerospike = true,
     .help = "static: every record to `destination`. skip: publish nothing and acknowledge success. "
             "namespace, set, bin: the topic is the namespace, the set name or the value of `bin` "
             "(string, blob or integer bins) after `transforms`, else `default`. `custom` (a Java "
             "router) is refused."},
    {.name = "destination", .type = AK_CFG_STRING, .offset = offsetof(ak_routing_t, destination),
     .in_aerospike = true, .help = "static (required): the topic."},
    {.name = "bin", .type = AK_CFG_STRING, .offset = offsetof(ak_routing_t, bin), .in_aerospike = true,
     .help = "bin (required): the bin whose value names the topic."},
    {.name = "default", .type = AK_CFG_STRING, .offset = offsetof(ak_routing_t, default_topic),
     .in_aerospike = true,
     .help = "namespace, set, bin: topic for records with no name (no set, no such bin, a bin of "
             "another type) or whose transformed name is empty or not a legal topic name. Without "
             "it such records are skipped and counted."},
    {.name = "transforms", .type = AK_CFG_CUSTOM, .offset = offsetof(ak_routing_t, transforms),
     .parse = ak_ob_name_transforms_parse, .free_fn = ak_ob_name_transforms_free,
     .section = &ak_ob_regex_table,
     .type_doc = "list of `lowercase`, `uppercase`, `trim`, `{regex: {pattern, replacement}}`",
     .in_aerospike = true,
     .help = "Applied in order to the namespace, set or bin name. Regexes are POSIX extended "
             "(ERE), checked at start; Java regex syntax beyond ERE is not supported."},
    {.name = "class", .type = AK_CFG_REJECT, .in_aerospike = true, .help = AK_OB_CUSTOM_CODE},
    {.name = "params", .type = AK_CFG_REJECT, .in_aerospike = true, .help = AK_OB_CUSTOM_CODE},
};

static const ak_config_table_t ak_ob_routing_table = {
    .name = "routing",
    .doc = "Which Kafka topic a record goes to (spec outbound.md §4). A resolved name must be a "
           "legal Kafka topic name (1..249 characters of `a-z A-Z 0-9 . _ -`, not `.` or `..`); "
           "otherwise `default` is used, and without `default` the record is skipped, acknowledged "
           "as success and counted in `requests-skipped`. A record with no routing section at any "
           "level is skipped the same way.",
    .size = sizeof(ak_routing_t),
    .keys = ak_ob_routing_keys,
    .n_keys = sizeof ak_ob_routing_keys / sizeof ak_ob_routing_keys[0],
    .validate = ak_ob_routing_validate,
};

/* ======================================================================
 * bin-transforms
 * ====================================================================== */

static const ak_config_enum_t ak_ob_filter_types[] = {
    {.name = "all", .value = AK_BIN_FILTER_ALL},
    {.name = "none", .value = AK_BIN_FILTER_NONE},
    {.name = "specified", .value = AK_BIN_FILTER_SPECIFIED},
    {.name = NULL},
};

static ak_status_t ak_ob_filter_validate(ak_config_ctx_t *ctx, const char *path,
                                         const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                         void *obj, ak_error_t *err)
{
    (void)node;
    ak_bin_filter_t *filter = obj;
    if (filter->type == AK_BIN_FILTER_SPECIFIED && filter->bins.n == 0)
        return ak_config_error(ctx, key_node, err, AK_ERR_INVALID_ARG,
                               "%s.bins: required when type is specified", path);
    return AK_OK;
}

#define AK_OB_FILTER_KEYS(default_type)                                                            \
    {.name = "type", .type = AK_CFG_ENUM, .offset = offsetof(ak_bin_filter_t, type),                \
     .values = ak_ob_filter_types, .def = default_type, .in_aerospike = true,                       \
     .help = "all, none, or the bins listed in `bins`."},                                           \
    {.name = "bins", .type = AK_CFG_STRING_LIST, .offset = offsetof(ak_bin_filter_t, bins),         \
     .in_aerospike = true, .help = "specified (required): bin names."}

static const ak_config_key_t ak_ob_include_keys[] = {AK_OB_FILTER_KEYS("all")};
static const ak_config_key_t ak_ob_exclude_keys[] = {AK_OB_FILTER_KEYS("none")};

static const ak_config_table_t ak_ob_include_table = {
    .name = "bin-transforms.include",
    .doc = "Bins kept (matched by original name).",
    .size = sizeof(ak_bin_filter_t),
    .keys = ak_ob_include_keys,
    .n_keys = 2,
    .validate = ak_ob_filter_validate,
};

static const ak_config_table_t ak_ob_exclude_table = {
    .name = "bin-transforms.exclude",
    .doc = "Bins dropped (matched by original name); wins over `include`.",
    .size = sizeof(ak_bin_filter_t),
    .keys = ak_ob_exclude_keys,
    .n_keys = 2,
    .validate = ak_ob_filter_validate,
};

static void ak_ob_bin_transforms_free(void *field)
{
    ak_bin_transforms_t *bt = AK_CONTAINER(field, ak_bin_transforms_t, transforms);
    free(bt->transforms);
    bt->transforms = NULL;
    bt->n_transforms = 0;
}

static ak_status_t ak_ob_bin_transforms_parse(ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                              const char *path, const ak_yaml_node_t *node,
                                              void *field, ak_error_t *err)
{
    (void)key;
    ak_bin_transforms_t *bt = AK_CONTAINER(field, ak_bin_transforms_t, transforms);
    size_t n = node->kind == AK_YAML_SEQUENCE ? node->n_items : 1;
    bt->transforms = calloc(n, sizeof *bt->transforms);
    if (!bt->transforms)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        const ak_yaml_node_t *item = node->kind == AK_YAML_SEQUENCE ? node->items[i] : node;
        if (item->kind == AK_YAML_SCALAR && strcasecmp(item->text, "uppercase") == 0)
            bt->transforms[bt->n_transforms++] = AK_BIN_NAME_UPPERCASE;
        else if (item->kind == AK_YAML_SCALAR && strcasecmp(item->text, "lowercase") == 0)
            bt->transforms[bt->n_transforms++] = AK_BIN_NAME_LOWERCASE;
        else {
            char got[64];
            ak_yaml_describe(item, got, sizeof got);
            return ak_config_error(ctx, item, err, AK_ERR_INVALID_ARG,
                                   "%s[%zu]: expected uppercase or lowercase, got %s", path, i, got);
        }
    }
    return AK_OK;
}

static ak_status_t ak_ob_bin_transforms_validate(ak_config_ctx_t *ctx, const char *path,
                                                 const ak_yaml_node_t *key_node,
                                                 const ak_yaml_node_t *node, void *obj,
                                                 ak_error_t *err)
{
    (void)key_node;
    ak_bin_transforms_t *bt = obj;
    for (size_t i = 0; i < bt->map.n; i++)
        if (!bt->map.items[i].value[0]) {
            ak_yaml_node_t at = {.line = bt->map.items[i].line};
            return ak_config_error(ctx, &at, err, AK_ERR_INVALID_ARG,
                                   "%s.map.%s: expected a new bin name, got \"\"", path,
                                   bt->map.items[i].name);
        }
    (void)node;
    ak_bin_transforms_finish(bt);
    return AK_OK;
}

static const ak_config_key_t ak_ob_bin_transforms_keys[] = {
    {.name = "include", .type = AK_CFG_SECTION, .offset = offsetof(ak_bin_transforms_t, include),
     .section = &ak_ob_include_table, .def_doc = "`{type: all}`", .in_aerospike = true,
     .help = "Bins to keep."},
    {.name = "exclude", .type = AK_CFG_SECTION, .offset = offsetof(ak_bin_transforms_t, exclude),
     .section = &ak_ob_exclude_table, .def_doc = "`{type: none}`", .in_aerospike = true,
     .help = "Bins to drop; wins over include."},
    {.name = "map", .type = AK_CFG_STRING_MAP, .offset = offsetof(ak_bin_transforms_t, map),
     .in_aerospike = true, .help = "Renames: `{old-name: new-name}`. Renamed bins skip `transforms`."},
    {.name = "transforms", .type = AK_CFG_CUSTOM, .offset = offsetof(ak_bin_transforms_t, transforms),
     .parse = ak_ob_bin_transforms_parse, .free_fn = ak_ob_bin_transforms_free,
     .type_doc = "list of `uppercase`, `lowercase`", .in_aerospike = true,
     .help = "Applied in order to the names of bins not renamed by `map` (ASCII letters only)."},
};

static const ak_config_table_t ak_ob_bin_transforms_table = {
    .name = "bin-transforms",
    .doc = "Which bins a record keeps and what they are called (spec outbound.md §2.6). Two bins "
           "that end up with the same name make the record fail (it is skipped and counted), "
           "rather than one silently replacing the other.",
    .size = sizeof(ak_bin_transforms_t),
    .keys = ak_ob_bin_transforms_keys,
    .n_keys = sizeof ak_ob_bin_transforms_keys / sizeof ak_ob_bin_transforms_keys[0],
    .validate = ak_ob_bin_transforms_validate,
};

/* ======================================================================
 * batching
 * ====================================================================== */

static ak_status_t ak_ob_batching_validate(ak_config_ctx_t *ctx, const char *path,
                                           const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                           void *obj, ak_error_t *err)
{
    ak_batching_t *b = obj;
    if (b->enabled)
        return ak_config_error(ctx, ak_ob_line_of(node, "enabled", key_node), err,
                               AK_ERR_UNSUPPORTED,
                               "%s.enabled: batching only feeds a custom BatchFormatter (a Java "
                               "plug-in aerokafka cannot run); set `enabled: false` or remove the section",
                               path);
    return AK_OK;
}

static const ak_config_key_t ak_ob_batching_keys[] = {
    {.name = "enabled", .type = AK_CFG_BOOL, .offset = offsetof(ak_batching_t, enabled), .def = "true",
     .in_aerospike = true, .help = "Must be `false` in aerokafka (see above)."},
    {.name = "max-bytes", .type = AK_CFG_INT, .offset = offsetof(ak_batching_t, max_bytes), .min = 1,
     .max = INT64_MAX, .def = "9223372036854775807", .in_aerospike = true,
     .help = "Accepted and unused."},
    {.name = "max-records", .type = AK_CFG_INT, .offset = offsetof(ak_batching_t, max_records), .min = 1,
     .max = 2147483647, .def = "2147483647", .in_aerospike = true, .help = "Accepted and unused."},
    {.name = "batch-interval", .type = AK_CFG_INT, .offset = offsetof(ak_batching_t, batch_interval_ms),
     .min = 1, .max = 86400000, .def = "8000", .in_aerospike = true,
     .help = "Milliseconds. Accepted and unused."},
};

static const ak_config_table_t ak_ob_batching_table = {
    .name = "batching",
    .doc = "In Aerospike's connector batching only feeds a custom `BatchFormatter` (a Java "
           "plug-in) that turns N records into M messages; with the built-in formats it has no "
           "meaning. aerokafka therefore accepts a `batching` section only with `enabled: false` "
           "(its other keys are checked and ignored), and refuses `enabled: true`, the default "
           "when the section is present. Kafka-side batching is librdkafka's: `linger.ms`, "
           "`batch.size` in `producer-props`.",
    .size = sizeof(ak_batching_t),
    .keys = ak_ob_batching_keys,
    .n_keys = sizeof ak_ob_batching_keys / sizeof ak_ob_batching_keys[0],
    .validate = ak_ob_batching_validate,
};

/* ======================================================================
 * overrides: top level, namespaces, sets, ports
 * ====================================================================== */

#define AK_OB_OVERRIDE_KEYS                                                                         \
    {.name = "format", .type = AK_CFG_SECTION_PTR, .offset = offsetof(ak_outbound_overrides_t, format), \
     .section = &ak_ob_format_table, .in_aerospike = true, .help = "Message format."},             \
    {.name = "routing", .type = AK_CFG_SECTION_PTR,                                                 \
     .offset = offsetof(ak_outbound_overrides_t, routing), .section = &ak_ob_routing_table,         \
     .in_aerospike = true, .help = "Topic selection."},                                             \
    {.name = "bin-transforms", .type = AK_CFG_SECTION_PTR,                                          \
     .offset = offsetof(ak_outbound_overrides_t, bin_transforms),                                   \
     .section = &ak_ob_bin_transforms_table, .in_aerospike = true, .help = "Bin selection and renames."}, \
    {.name = "batching", .type = AK_CFG_SECTION_PTR,                                                \
     .offset = offsetof(ak_outbound_overrides_t, batching), .section = &ak_ob_batching_table,       \
     .in_aerospike = true, .help = "Only `enabled: false` is accepted."},                           \
    {.name = "custom-transformer", .type = AK_CFG_REJECT, .in_aerospike = true,                    \
     .help = AK_OB_CUSTOM_CODE}

static const ak_config_key_t ak_ob_set_keys[] = {AK_OB_OVERRIDE_KEYS};

static const ak_config_table_t ak_ob_set_table = {
    .name = "namespaces.<namespace>.sets.<set>",
    .doc = "Overrides for the records of one set.",
    .size = sizeof(ak_outbound_overrides_t),
    .keys = ak_ob_set_keys,
    .n_keys = sizeof ak_ob_set_keys / sizeof ak_ob_set_keys[0],
};

static const ak_config_key_t ak_ob_namespace_keys[] = {
    AK_OB_OVERRIDE_KEYS,
    {.name = "sets", .type = AK_CFG_SECTION_MAP, .offset = offsetof(ak_outbound_overrides_t, sets),
     .section = &ak_ob_set_table, .in_aerospike = true, .help = "Per-set overrides, by set name."},
};

static const ak_config_table_t ak_ob_namespace_table = {
    .name = "namespaces.<namespace>",
    .doc = "Overrides for the records of one namespace.",
    .size = sizeof(ak_outbound_overrides_t),
    .keys = ak_ob_namespace_keys,
    .n_keys = sizeof ak_ob_namespace_keys / sizeof ak_ob_namespace_keys[0],
};

static const ak_config_key_t ak_ob_port_keys[] = {
    AK_OB_OVERRIDE_KEYS,
    {.name = "namespaces", .type = AK_CFG_SECTION_MAP,
     .offset = offsetof(ak_outbound_overrides_t, namespaces), .section = &ak_ob_namespace_table,
     .in_aerospike = true, .help = "Per-namespace (and per-set) overrides for this port."},
};

static const ak_config_table_t ak_ob_port_table = {
    .name = "port-based-config.<port>",
    .doc = "Overrides for the records that arrive on one listening port (one XDR datacenter "
           "per port). The port must be one of `service.port` or `service.tls.port`.",
    .size = sizeof(ak_outbound_overrides_t),
    .keys = ak_ob_port_keys,
    .n_keys = sizeof ak_ob_port_keys / sizeof ak_ob_port_keys[0],
};

/* ======================================================================
 * logging
 * ====================================================================== */

static void ak_ob_levels_free(void *field)
{
    ak_outbound_logging_config_t *log = AK_CONTAINER(field, ak_outbound_logging_config_t, levels);
    for (size_t i = 0; i < log->n_levels; i++)
        free(log->levels[i].logger);
    free(log->levels);
    log->levels = NULL;
    log->n_levels = 0;
}

static ak_status_t ak_ob_levels_parse(ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                      const char *path, const ak_yaml_node_t *node, void *field,
                                      ak_error_t *err)
{
    (void)key;
    ak_outbound_logging_config_t *log = AK_CONTAINER(field, ak_outbound_logging_config_t, levels);
    char got[64];
    if (node->kind != AK_YAML_MAPPING) {
        ak_yaml_describe(node, got, sizeof got);
        return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG,
                               "%s: expected a mapping of logger names to levels, got %s", path, got);
    }
    log->levels = calloc(node->n_pairs + 1, sizeof *log->levels);
    if (!log->levels)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < node->n_pairs; i++) {
        const ak_yaml_node_t *value = node->pairs[i].value;
        ak_log_level_t level;
        if (value->kind != AK_YAML_SCALAR || !ak_log_level_parse(value->text, &level)) {
            /* ak_log_level_parse is exact; Aerospike's samples also write INFO, DEBUG. */
            char lower[16];
            size_t n = value->len < sizeof lower - 1 ? value->len : sizeof lower - 1;
            for (size_t c = 0; c < n; c++)
                lower[c] = (char)(value->text[c] >= 'A' && value->text[c] <= 'Z'
                                      ? value->text[c] - 'A' + 'a' : value->text[c]);
            lower[n] = '\0';
            if (value->kind != AK_YAML_SCALAR || value->len >= sizeof lower ||
                !ak_log_level_parse(lower, &level)) {
                ak_yaml_describe(value, got, sizeof got);
                return ak_config_error(ctx, value, err, AK_ERR_INVALID_ARG,
                                       "%s.%s: expected one of trace, debug, info, warn, error, off, got %s",
                                       path, node->pairs[i].key->text, got);
            }
        }
        log->levels[log->n_levels].logger = strdup(node->pairs[i].key->text);
        log->levels[log->n_levels].level = level;
        if (!log->levels[log->n_levels++].logger)
            return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    }
    return AK_OK;
}

static ak_status_t ak_ob_logging_validate(ak_config_ctx_t *ctx, const char *path,
                                          const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                          void *obj, ak_error_t *err)
{
    (void)key_node;
    ak_outbound_logging_config_t *log = obj;
    for (size_t i = 0; i < log->n_levels; i++)
        if (strcmp(log->levels[i].logger, "root") == 0)
            return AK_OK;
    /* Every configuration has a root level: info unless given. */
    ak_log_level_setting_t *levels = realloc(log->levels, (log->n_levels + 1) * sizeof *levels);
    if (!levels)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    memmove(levels + 1, levels, log->n_levels * sizeof *levels);
    levels[0].logger = strdup("root");
    levels[0].level = AK_LOG_INFO;
    log->levels = levels;
    log->n_levels++;
    if (!levels[0].logger)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    return AK_OK;
}

static const ak_config_key_t ak_ob_logging_keys[] = {
    {.name = "file", .type = AK_CFG_STRING, .offset = offsetof(ak_outbound_logging_config_t, file),
     .in_aerospike = true, .help = "Log file (as written: relative to the working directory). None: "
                                   "no file."},
    {.name = "enable-console-logging", .type = AK_CFG_BOOL,
     .offset = offsetof(ak_outbound_logging_config_t, enable_console_logging), .def = "false",
     .in_aerospike = true, .help = "Also log to the console (stderr)."},
    {.name = "levels", .type = AK_CFG_CUSTOM, .offset = offsetof(ak_outbound_logging_config_t, levels),
     .parse = ak_ob_levels_parse, .free_fn = ak_ob_levels_free, .def_doc = "`{root: info}`",
     .type_doc = "mapping of logger names to `trace`, `debug`, `info`, `warn`, `error`, `off`",
     .in_aerospike = true,
     .help = "`root` sets aerokafka's level; other names (Java logger names such as "
             "`com.aerospike.connect`) are accepted and kept for the components that use them."},
    {.name = "max-history", .type = AK_CFG_INT, .offset = offsetof(ak_outbound_logging_config_t, max_history),
     .min = 0, .max = 100000, .def = "30", .in_aerospike = true,
     .help = "Rotated log files kept (one per day)."},
    {.name = "ticker-interval", .type = AK_CFG_INT,
     .offset = offsetof(ak_outbound_logging_config_t, ticker_interval_s), .min = 0, .max = 86400,
     .def = "10", .in_aerospike = true, .help = "Seconds between metric summaries in the log; 0: none."},
};

static const ak_config_table_t ak_ob_logging_table = {
    .name = "logging",
    .doc = "Where log lines go and how many. (`max-history` and `ticker-interval` come from the "
           "2019 JMS documentation; whether current Kafka connectors keep them is unconfirmed.)",
    .size = sizeof(ak_outbound_logging_config_t),
    .keys = ak_ob_logging_keys,
    .n_keys = sizeof ak_ob_logging_keys / sizeof ak_ob_logging_keys[0],
    .validate = ak_ob_logging_validate,
};

/* ======================================================================
 * top level
 * ====================================================================== */

static ak_status_t ak_ob_top_validate(ak_config_ctx_t *ctx, const char *path,
                                      const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                                      void *obj, ak_error_t *err)
{
    (void)path;
    (void)key_node;
    ak_outbound_config_t *cfg = obj;
    /* Aerospike's connector forces byte-array serializers; so do we. */
    size_t kept = 0;
    for (size_t i = 0; i < cfg->producer_props.n; i++) {
        ak_config_pair_t *p = &cfg->producer_props.items[i];
        if (strcmp(p->name, "key.serializer") == 0 || strcmp(p->name, "value.serializer") == 0) {
            ak_yaml_node_t at = {.line = p->line};
            ak_config_note(ctx, &at,
                           "producer-props.%s: ignored: messages are always bytes, as in "
                           "Aerospike's connector",
                           p->name);
            free(p->name);
            free(p->value);
            continue;
        }
        cfg->producer_props.items[kept++] = *p;
    }
    cfg->producer_props.n = kept;
    const ak_outbound_service_config_t *svc = &cfg->service;
    for (size_t i = 0; i < cfg->ports.n; i++) {
        int64_t port = strtoll(cfg->ports.items[i].name, NULL, 10);
        if (!ak_ob_ints_contains(&svc->ports, port) && !ak_ob_ints_contains(&svc->tls.ports, port)) {
            ak_yaml_node_t at = {.line = cfg->ports.items[i].line};
            return ak_config_error(ctx, &at, err, AK_ERR_INVALID_ARG,
                                   "port-based-config: %lld is not a listening port (service.port "
                                   "or service.tls.port)",
                                   (long long)port);
        }
    }
    (void)node;
    return AK_OK;
}

static const ak_config_key_t ak_ob_top_keys[] = {
    {.name = "service", .type = AK_CFG_SECTION, .offset = offsetof(ak_outbound_config_t, service),
     .section = &ak_ob_service_table, .in_aerospike = true, .help = "Listeners for XDR and the management API."},
    {.name = "producer-props", .type = AK_CFG_STRING_MAP, .offset = offsetof(ak_outbound_config_t, producer_props),
     .in_aerospike = true,
     .help = "Kafka producer properties, passed to librdkafka unchanged (a list value, such as "
             "`bootstrap.servers`, is comma-joined). `key.serializer` and `value.serializer` are "
             "ignored, as Aerospike's connector ignores them. Java-only properties "
             "(`ssl.truststore.location`, `sasl.jaas.config`, ...) have librdkafka equivalents "
             "(`ssl.ca.location`, `sasl.username`, ...); librdkafka refuses unknown ones at start."},
    {.name = "format", .type = AK_CFG_SECTION_PTR, .offset = offsetof(ak_outbound_config_t, global.format),
     .section = &ak_ob_format_table, .in_aerospike = true, .help = "Message format."},
    {.name = "routing", .type = AK_CFG_SECTION_PTR, .offset = offsetof(ak_outbound_config_t, global.routing),
     .section = &ak_ob_routing_table, .in_aerospike = true, .help = "Topic selection."},
    {.name = "bin-transforms", .type = AK_CFG_SECTION_PTR,
     .offset = offsetof(ak_outbound_config_t, global.bin_transforms), .section = &ak_ob_bin_transforms_table,
     .in_aerospike = true, .help = "Bin selection and renames."},
    {.name = "batching", .type = AK_CFG_SECTION_PTR, .offset = offsetof(ak_outbound_config_t, global.batching),
     .section = &ak_ob_batching_table, .in_aerospike = true, .help = "Only `enabled: false` is accepted."},
    {.name = "namespaces", .type = AK_CFG_SECTION_MAP,
     .offset = offsetof(ak_outbound_config_t, global.namespaces), .section = &ak_ob_namespace_table,
     .in_aerospike = true, .help = "Per-namespace (and per-set) overrides."},
    {.name = "port-based-config", .type = AK_CFG_SECTION_MAP, .offset = offsetof(ak_outbound_config_t, ports),
     .section = &ak_ob_port_table, .min = 1, .max = 65535, .in_aerospike = true,
     .help = "Overrides by the listening port a record arrived on."},
    {.name = "custom-transformer", .type = AK_CFG_REJECT, .in_aerospike = true, .help = AK_OB_CUSTOM_CODE},
    {.name = "logging", .type = AK_CFG_SECTION, .offset = offsetof(ak_outbound_config_t, logging),
     .section = &ak_ob_logging_table, .in_aerospike = true, .help = "Log destination and levels."},
};

static const ak_config_table_t ak_ob_top_table = {
    .name = "",
    .doc = "The sections of `aerospike-kafka-outbound.yml`.",
    .size = sizeof(ak_outbound_config_t),
    .keys = ak_ob_top_keys,
    .n_keys = sizeof ak_ob_top_keys / sizeof ak_ob_top_keys[0],
    .validate = ak_ob_top_validate,
};

/* ======================================================================
 * policies
 * ====================================================================== */

typedef struct ak_ob_policy_set {
    const char *name;
    size_t len;
    ak_outbound_policy_t policy;
} ak_ob_policy_set_t;

typedef struct ak_ob_policy_ns {
    const char *name;
    size_t len;
    ak_outbound_policy_t policy; /* records of this namespace in no listed set */
    ak_ob_policy_set_t *sets;
    size_t n_sets;
} ak_ob_policy_ns_t;

typedef struct ak_ob_policy_port {
    uint16_t port;               /* 0: no port-based-config */
    ak_outbound_policy_t policy; /* records of no listed namespace */
    ak_ob_policy_ns_t *nss;
    size_t n_ns;
} ak_ob_policy_port_t;

struct ak_outbound_policy_table {
    ak_ob_policy_port_t *ports; /* [0]: global */
    size_t n_ports;
};

static const ak_bin_transforms_t ak_ob_identity_bin_transforms = {
    .include = {.type = AK_BIN_FILTER_ALL},
    .exclude = {.type = AK_BIN_FILTER_NONE},
    .identity = true,
};

static ak_outbound_overrides_t *ak_ob_find(const ak_config_section_map_t *map, const char *name, size_t len)
{
    if (!map)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strlen(map->items[i].name) == len && memcmp(map->items[i].name, name, len) == 0)
            return map->items[i].obj;
    return NULL;
}

/* levels: most specific first; NULL entries are skipped. */
static ak_outbound_policy_t ak_ob_resolve(const ak_outbound_config_t *cfg,
                                          ak_outbound_overrides_t *const *levels, size_t n)
{
    ak_outbound_policy_t p = {.format_index = SIZE_MAX, .bin_transforms = &ak_ob_identity_bin_transforms};
    const ak_outbound_format_t *format = NULL;
    const ak_routing_t *routing = NULL;
    const ak_bin_transforms_t *bt = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!levels[i])
            continue;
        if (!format)
            format = levels[i]->format;
        if (!routing)
            routing = levels[i]->routing;
        if (!bt)
            bt = levels[i]->bin_transforms;
    }
    if (format) {
        p.format_index = format->index;
        p.format = cfg->formats[format->index];
    }
    p.routing = routing;
    if (bt)
        p.bin_transforms = bt;
    return p;
}

static bool ak_ob_name_listed(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* Union of the names of two section maps, in order. */
static const char **ak_ob_union_names(const ak_config_section_map_t *a, const ak_config_section_map_t *b,
                                      size_t *n)
{
    size_t cap = (a ? a->n : 0) + (b ? b->n : 0);
    const char **names = calloc(cap ? cap : 1, sizeof *names);
    *n = 0;
    if (!names)
        return NULL;
    const ak_config_section_map_t *maps[2] = {a, b};
    for (size_t m = 0; m < 2; m++)
        for (size_t i = 0; maps[m] && i < maps[m]->n; i++)
            if (!ak_ob_name_listed(names, *n, maps[m]->items[i].name))
                names[(*n)++] = maps[m]->items[i].name;
    return names;
}

static bool ak_ob_build_port(ak_outbound_config_t *cfg, ak_ob_policy_port_t *pp, ak_outbound_overrides_t *port)
{
    ak_outbound_overrides_t *global = &cfg->global;
    ak_outbound_overrides_t *chain[6] = {NULL, NULL, port, NULL, NULL, global};
    pp->policy = ak_ob_resolve(cfg, chain, 6);
    size_t n_ns;
    const char **ns_names = ak_ob_union_names(&global->namespaces, port ? &port->namespaces : NULL, &n_ns);
    if (!ns_names)
        return false;
    pp->nss = calloc(n_ns ? n_ns : 1, sizeof *pp->nss);
    if (!pp->nss) {
        free(ns_names);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n_ns && ok; i++) {
        ak_ob_policy_ns_t *pn = &pp->nss[pp->n_ns++];
        pn->name = ns_names[i];
        pn->len = strlen(ns_names[i]);
        ak_outbound_overrides_t *port_ns = port ? ak_ob_find(&port->namespaces, pn->name, pn->len) : NULL;
        ak_outbound_overrides_t *global_ns = ak_ob_find(&global->namespaces, pn->name, pn->len);
        ak_outbound_overrides_t *ns_chain[6] = {NULL, port_ns, port, NULL, global_ns, global};
        pn->policy = ak_ob_resolve(cfg, ns_chain, 6);
        size_t n_sets;
        const char **set_names = ak_ob_union_names(global_ns ? &global_ns->sets : NULL,
                                                   port_ns ? &port_ns->sets : NULL, &n_sets);
        pn->sets = set_names ? calloc(n_sets ? n_sets : 1, sizeof *pn->sets) : NULL;
        if (!pn->sets) {
            free(set_names);
            ok = false;
            break;
        }
        for (size_t s = 0; s < n_sets; s++) {
            ak_ob_policy_set_t *ps = &pn->sets[pn->n_sets++];
            ps->name = set_names[s];
            ps->len = strlen(set_names[s]);
            ak_outbound_overrides_t *set_chain[6] = {
                port_ns ? ak_ob_find(&port_ns->sets, ps->name, ps->len) : NULL, port_ns, port,
                global_ns ? ak_ob_find(&global_ns->sets, ps->name, ps->len) : NULL, global_ns, global};
            ps->policy = ak_ob_resolve(cfg, set_chain, 6);
        }
        free(set_names);
    }
    free(ns_names);
    return ok;
}

static bool ak_ob_format_equal(const ak_format_config_t *a, const ak_format_config_t *b)
{
#define AK_OB_STREQ(x, y) ((!(x) && !(y)) || ((x) && (y) && strcmp((x), (y)) == 0))
    if (a->mode != b->mode || a->stringify_map_keys != b->stringify_map_keys ||
        !AK_OB_STREQ(a->metadata_key, b->metadata_key) || !AK_OB_STREQ(a->schema, b->schema) ||
        !AK_OB_STREQ(a->registry_topic, b->registry_topic) || a->n_props != b->n_props)
        return false;
    for (size_t i = 0; i < a->n_props; i++)
        if (strcmp(a->props[i].name, b->props[i].name) != 0 || strcmp(a->props[i].value, b->props[i].value) != 0)
            return false;
    return true;
#undef AK_OB_STREQ
}

static bool ak_ob_add_format(ak_outbound_config_t *cfg, ak_outbound_format_t *f)
{
    if (!f)
        return true;
    for (size_t i = 0; i < cfg->n_formats; i++)
        if (ak_ob_format_equal(cfg->formats[i], &f->fmt)) {
            f->index = i;
            return true;
        }
    const ak_format_config_t **formats = realloc(cfg->formats, (cfg->n_formats + 1) * sizeof *formats);
    if (!formats)
        return false;
    cfg->formats = formats;
    f->index = cfg->n_formats;
    formats[cfg->n_formats++] = &f->fmt;
    return true;
}

static bool ak_ob_collect_formats(ak_outbound_config_t *cfg, ak_outbound_overrides_t *level)
{
    if (!ak_ob_add_format(cfg, level->format))
        return false;
    for (size_t i = 0; i < level->namespaces.n; i++)
        if (!ak_ob_collect_formats(cfg, level->namespaces.items[i].obj))
            return false;
    for (size_t i = 0; i < level->sets.n; i++)
        if (!ak_ob_collect_formats(cfg, level->sets.items[i].obj))
            return false;
    return true;
}

static void ak_ob_policies_free(ak_outbound_policy_table_t *table)
{
    if (!table)
        return;
    for (size_t p = 0; p < table->n_ports; p++) {
        for (size_t n = 0; n < table->ports[p].n_ns; n++)
            free(table->ports[p].nss[n].sets);
        free(table->ports[p].nss);
    }
    free(table->ports);
    free(table);
}

static bool ak_ob_build_policies(ak_outbound_config_t *cfg)
{
    if (!ak_ob_collect_formats(cfg, &cfg->global))
        return false;
    for (size_t i = 0; i < cfg->ports.n; i++)
        if (!ak_ob_collect_formats(cfg, cfg->ports.items[i].obj))
            return false;
    ak_outbound_policy_table_t *table = calloc(1, sizeof *table);
    if (!table)
        return false;
    cfg->policies = table;
    table->ports = calloc(cfg->ports.n + 1, sizeof *table->ports);
    if (!table->ports)
        return false;
    table->n_ports = 1;
    if (!ak_ob_build_port(cfg, &table->ports[0], NULL))
        return false;
    for (size_t i = 0; i < cfg->ports.n; i++) {
        ak_ob_policy_port_t *pp = &table->ports[table->n_ports++];
        pp->port = (uint16_t)strtol(cfg->ports.items[i].name, NULL, 10);
        if (!ak_ob_build_port(cfg, pp, cfg->ports.items[i].obj))
            return false;
    }
    return true;
}

const ak_outbound_policy_t *ak_outbound_policy_for(const ak_outbound_config_t *cfg,
                                                   uint16_t listen_port, const char *ns,
                                                   size_t ns_len, const char *set, size_t set_len)
{
    const ak_outbound_policy_table_t *table = cfg->policies;
    const ak_ob_policy_port_t *pp = &table->ports[0];
    for (size_t i = 1; i < table->n_ports && listen_port; i++)
        if (table->ports[i].port == listen_port) {
            pp = &table->ports[i];
            break;
        }
    /* Linear scans: configurations list a handful of namespaces and sets. */
    for (size_t i = 0; i < pp->n_ns; i++) {
        const ak_ob_policy_ns_t *pn = &pp->nss[i];
        if (pn->len != ns_len || memcmp(pn->name, ns, ns_len) != 0)
            continue;
        for (size_t s = 0; s < pn->n_sets && set_len; s++)
            if (pn->sets[s].len == set_len && memcmp(pn->sets[s].name, set, set_len) == 0)
                return &pn->sets[s].policy;
        return &pn->policy;
    }
    return &pp->policy;
}

size_t ak_outbound_config_format_count(const ak_outbound_config_t *cfg)
{
    return cfg->n_formats;
}

const ak_format_config_t *ak_outbound_config_format(const ak_outbound_config_t *cfg, size_t index)
{
    return index < cfg->n_formats ? cfg->formats[index] : NULL;
}

/* ======================================================================
 * load / free
 * ====================================================================== */

void ak_outbound_config_free(ak_outbound_config_t *cfg)
{
    if (!cfg)
        return;
    ak_config_free(&ak_ob_top_table, cfg);
    ak_config_strings_free(&cfg->notes);
    ak_ob_policies_free(cfg->policies);
    free(cfg->formats);
    free(cfg->path);
    free(cfg);
}

static ak_outbound_config_t *ak_ob_load_doc(const ak_yaml_doc_t *doc, const char *name, const char *dir,
                                            ak_error_t *err)
{
    ak_outbound_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->path = strdup(name))) {
        free(cfg);
        ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    ak_config_ctx_t ctx = {.file = name, .dir = dir, .user = cfg};
    ak_status_t st = ak_config_parse(&ctx, &ak_ob_top_table, "", NULL, doc->root, cfg, err);
    cfg->notes = ctx.notes;
    if (st == AK_OK && !ak_ob_build_policies(cfg))
        st = ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", name);
    if (st != AK_OK) {
        ak_outbound_config_free(cfg);
        return NULL;
    }
    return cfg;
}

ak_outbound_config_t *ak_outbound_config_load_string(const char *text, size_t len, const char *name,
                                                     const char *dir, ak_error_t *err)
{
    ak_yaml_doc_t *doc = ak_yaml_load_string(text, len, name, err);
    if (!doc)
        return NULL;
    ak_outbound_config_t *cfg = ak_ob_load_doc(doc, name, dir, err);
    ak_yaml_free(doc);
    return cfg;
}

ak_outbound_config_t *ak_outbound_config_load(const char *path, ak_error_t *err)
{
    ak_yaml_doc_t *doc = ak_yaml_load_file(path, err);
    if (!doc)
        return NULL;
    char *dir = ak_config_dir_of(path);
    if (!dir) {
        ak_yaml_free(doc);
        ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    ak_outbound_config_t *cfg = ak_ob_load_doc(doc, path, dir, err);
    free(dir);
    ak_yaml_free(doc);
    return cfg;
}

/* ======================================================================
 * documentation
 * ====================================================================== */

void ak_outbound_config_render_docs(ak_buf_t *out)
{
    ak_buf_append_str(
        out,
        "# Configuration reference\n\n"
        "<!-- Generated by `aerokafka config-docs` from the tables in "
        "src/outbound/ak_outbound_config.c and src/inbound/ak_inbound_config.c; do not edit. -->\n\n"
        "aerokafka reads the configuration files of Aerospike's Java connectors. This page lists "
        "every key it knows, its type and default, and whether Aerospike's connector has it. "
        "Unknown keys, wrong types and out-of-range values stop the start with "
        "`FILE:LINE: section.key: what was expected, got what`. A key written with no value "
        "(`key:`, `~`, `null`) counts as not given.\n\n"
        "## Outbound connector: `aerospike-kafka-outbound.yml`\n\n"
        "### How overrides resolve\n\n"
        "`format`, `routing`, `bin-transforms` and `batching` can be given at the top level, per "
        "namespace (`namespaces.<ns>`), per set (`namespaces.<ns>.sets.<set>`) and per listening "
        "port (`port-based-config.<port>`, which may hold its own `namespaces`). For each record "
        "each section is taken whole (keys are not merged) from the first level that has it:\n\n"
        "1. `port-based-config.<port>.namespaces.<ns>.sets.<set>`\n"
        "2. `port-based-config.<port>.namespaces.<ns>`\n"
        "3. `port-based-config.<port>`\n"
        "4. `namespaces.<ns>.sets.<set>`\n"
        "5. `namespaces.<ns>`\n"
        "6. the top level\n\n"
        "How port-based sections combine with top-level namespaces is not documented by "
        "Aerospike; this order (a port's sections first, then the global ones) is aerokafka's "
        "choice. A record with no `routing` at any level, or no `format`, is skipped: "
        "acknowledged as success and counted in `requests-skipped`.\n\n"
        "### What aerokafka refuses\n\n"
        "- Java plug-ins: `custom-transformer` (at any level), `routing.mode: custom`, "
        "`format.mode: custom` and their `class` / `params` keys. aerokafka cannot load JARs.\n"
        "- `batching` with `enabled: true` (it only feeds a custom BatchFormatter).\n"
        "- Java key stores in `service.tls` (`key-store`, `trust-store`): use PEM files, "
        "converted as shown under `service.tls`.\n"
        "- Routing regexes are POSIX extended regular expressions, not Java regexes.\n\n"
        "### Choices on points Aerospike does not document\n\n"
        "- `format.mode: kafka` is an alias of `kafka-avro` (a 4.0-era sample lists `kafka` among "
        "the modes).\n"
        "- `service.protocol: HTTP_1_1` is accepted and, like `HTTP_2`, selects the HTTP "
        "receiver, which serves HTTP/1.1 and HTTP/2 (h2c) on the same port.\n"
        "- Enumerated values (`TCP`, `json`, `static`, ...) are matched without regard to case.\n"
        "- `bin-transforms.transforms` knows `uppercase` and `lowercase`.\n"
        "- A routed name that is not a legal Kafka topic name falls back to `default`.\n\n");
    const ak_config_table_t *seen[64];
    size_t n_seen = 0;
    ak_config_render_markdown(&ak_ob_top_table, "", out, seen, &n_seen, 64);
}
