/*
 * ak_inbound_map: one Kafka record -> one Aerospike record change, by the
 * topic's configuration (decode the value and, when needed, the key; pick
 * namespace, set, key or digest, TTL, generation, bins; apply the
 * aerospike-operation policies) or a classified failure.
 *
 * Pure apart from the Schema Registry look-ups of kafka-avro decoders (one
 * per schema id, cached): no sockets of its own, no clocks, no logging.
 *
 * Threads: a mapper holds decoders with caches, so each processing thread
 * builds its own (ak_inbound_mapper_new is cheap: no I/O). The
 * configuration it was built from must outlive it, and records it produces
 * point into that configuration (static names) and into the arena.
 */
#ifndef AK_INBOUND_MAP_H
#define AK_INBOUND_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/ak_arena.h"
#include "common/ak_error.h"
#include "inbound/ak_inbound_config.h"
#include "wire/ak_record.h"

typedef struct ak_inbound_header {
    const char *name;
    size_t name_len;
    const uint8_t *value;  /* NULL: a header without a value */
    size_t value_len;
} ak_inbound_header_t;

/* A view of one consumed Kafka record (e.g. over an rd_kafka_message_t). */
typedef struct ak_inbound_kafka_record {
    const char *topic;
    size_t topic_len;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;          /* -1: none */
    const uint8_t *key;            /* NULL: the record has no key */
    size_t key_len;
    const uint8_t *value;          /* NULL: a tombstone */
    size_t value_len;
    const ak_inbound_header_t *headers; /* not read by the mapping; carried for the
                                           dead-letter queue */
    size_t n_headers;
} ak_inbound_kafka_record_t;

typedef enum ak_inbound_map_result {
    AK_INBOUND_MAP_OK = 0, /* rec holds the change to apply */
    AK_INBOUND_MAP_SKIP,   /* nothing to write (a tombstone with on-tombstone ignore): commit
                              the offset and count it as skipped */
    AK_INBOUND_MAP_INVALID,/* the record is at fault (cannot be decoded or mapped): handle it
                              per the topic's invalid-record / dead-letter queue */
    AK_INBOUND_MAP_RETRY,  /* not the record's fault (Schema Registry unreachable): try the
                              same record again later, per errors.retry.* */
} ak_inbound_map_result_t;

typedef struct ak_inbound_mapper ak_inbound_mapper_t;

/* Builds the decoders of every topic of cfg. Fails only on memory or a
 * decoder configuration the loader let through. */
ak_inbound_mapper_t *ak_inbound_mapper_new(const ak_inbound_config_t *cfg, ak_error_t *err);
void ak_inbound_mapper_free(ak_inbound_mapper_t *mapper);

/* Maps one Kafka record. On AK_INBOUND_MAP_OK *rec is filled; it refers
 * into the arena, cfg and the Kafka record's key and value bytes (json
 * strings are not copied), so those stay alive as long as *rec is used:
 *   op            WRITE, or DELETE / DURABLE_DELETE (type delete, tombstone delete)
 *   ns, set       static names (views into cfg) or value fields (in arena or the value)
 *   key           the user key (INT, STRING or BYTES) when mapped from a key-field;
 *                 has_key is true only with send-key (then the KEY field is sent)
 *   digest        always computed (or taken from the digest field): has_digest true
 *   ttl           record_ttl: seconds, AK_TTL_NAMESPACE_DEFAULT, AK_TTL_NEVER_EXPIRE,
 *                 AK_TTL_DONT_UPDATE
 *   generation, generation_policy, exists_action, commit_level
 *   bins          writes only; values and names in arena or the value
 * The client's per-command settings (max-retries, timeouts) are in the
 * topic's operation config: ak_inbound_config_topic(cfg, topic)->operation.
 * On any other result err holds "topic T, partition P, offset O: reason"
 * (INVALID, RETRY) or the reason a record was skipped (SKIP). */
ak_inbound_map_result_t ak_inbound_map(ak_inbound_mapper_t *mapper,
                                       const ak_inbound_kafka_record_t *in, ak_arena_t *arena,
                                       ak_record_t *rec, ak_error_t *err);

const char *ak_inbound_map_result_name(ak_inbound_map_result_t result);

#endif
