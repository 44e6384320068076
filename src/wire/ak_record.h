/*
 * ak_record: the neutral record model both connectors work on.
 *
 * A change to one Aerospike record: the operation, where it lives, its key
 * and digest, its metadata, the write policy it carries, and its bins as
 * typed value trees. The wire codec converts AS_MSG <-> ak_record_t; the
 * formats convert ak_record_t <-> Kafka payloads.
 *
 * Strings and values are views. A record decoded from a message borrows the
 * message bytes and the arena the message was parsed into: keep both alive
 * while the record is in use.
 */
#ifndef AK_RECORD_H
#define AK_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "common/ak_error.h"
#include "wire/ak_digest.h"
#include "wire/ak_msg.h"
#include "wire/ak_value.h"

typedef enum ak_record_op {
    AK_RECORD_WRITE = 0,
    AK_RECORD_DELETE,
    AK_RECORD_DURABLE_DELETE,
} ak_record_op_t;

/* Record-exists action, numbered as the Java client numbers it. */
typedef enum ak_exists_action {
    AK_EXISTS_UPDATE = 0,       /* create or merge bins (default) */
    AK_EXISTS_UPDATE_ONLY = 1,  /* must exist; merge bins */
    AK_EXISTS_REPLACE = 2,      /* create or replace all bins */
    AK_EXISTS_REPLACE_ONLY = 3, /* must exist; replace all bins */
    AK_EXISTS_CREATE_ONLY = 4,  /* must not exist */
} ak_exists_action_t;

typedef enum ak_generation_policy {
    AK_GEN_NONE = 0,
    AK_GEN_EQ,  /* apply only if stored generation == record generation */
    AK_GEN_GT,  /* apply only if record generation > stored generation */
} ak_generation_policy_t;

typedef enum ak_commit_level {
    AK_COMMIT_ALL = 0,
    AK_COMMIT_MASTER,
} ak_commit_level_t;

/* record_ttl special values on writes */
#define AK_TTL_NAMESPACE_DEFAULT 0u
#define AK_TTL_NEVER_EXPIRE 0xFFFFFFFFu
#define AK_TTL_DONT_UPDATE 0xFFFFFFFEu

/* Aerospike's epoch (2010-01-01T00:00:00Z) in Unix seconds and ms. */
#define AK_CITRUSLEAF_EPOCH_SECONDS 1262304000LL
#define AK_CITRUSLEAF_EPOCH_MS 1262304000000LL

typedef struct ak_str {
    const char *data; /* not NUL-terminated */
    size_t len;
} ak_str_t;

typedef struct ak_bin {
    ak_str_t name;
    ak_value_t value; /* NIL in a write means "delete this bin" */
    bool has_lut;
    uint64_t lut_ms;  /* per-bin last-update time, Unix ms, when has_lut */
} ak_bin_t;

typedef struct ak_record {
    ak_record_op_t op;
    ak_str_t ns;
    ak_str_t set;              /* len 0: no set */
    bool has_key;
    ak_value_t key;            /* user key: INT, STRING, BYTES (or DOUBLE) */
    bool has_digest;
    uint8_t digest[AK_DIGEST_SIZE];
    uint32_t generation;
    bool has_lut;
    uint64_t lut_ms;           /* last-update time, Unix milliseconds */
    uint32_t ttl;              /* record_ttl: seconds, or AK_TTL_* */
    ak_exists_action_t exists_action;
    ak_generation_policy_t generation_policy;
    ak_commit_level_t commit_level;
    bool xdr;                  /* shipped by XDR (info1 0x10) */
    ak_bin_t *bins;
    uint32_t n_bins;
    /* Fields this model does not interpret, kept so they survive a round
     * trip (MRT ids, record version, filters, ...). */
    const ak_msg_field_t *other_fields;
    uint32_t n_other_fields;
} ak_record_t;

void ak_record_init(ak_record_t *rec);

/* Interprets a parsed message as a record change. Requires a NAMESPACE
 * field and a DIGEST field or a KEY field (the digest is then computed).
 * Bins come from WRITE ops (and READ ops, which is how replies carry bins);
 * a DELETE op (14) makes the record a delete; other op types are an error
 * naming the op, and so is a delete that carries bins. */
ak_status_t ak_record_from_msg(const ak_msg_t *msg, ak_arena_t *arena, ak_record_t *rec,
                               ak_error_t *err);

/* Encodes a record as a complete type-3 frame appended to out: a write
 * (WRITE ops per bin) or a delete (info2 WRITE|DELETE, no ops), with the
 * policy bits, the digest (computed from the key if absent), the KEY field
 * when has_key, and the LUT field when has_lut (converted back to
 * Aerospike-epoch ms). transaction_ttl is the server timeout in ms. */
ak_status_t ak_record_to_msg(const ak_record_t *rec, uint32_t transaction_ttl, ak_buf_t *out,
                             ak_error_t *err);

/* True when two records describe the same change: operation, namespace,
 * set, key, digest, metadata, policies, bins (names, values, per-bin LUTs)
 * and uninterpreted fields. */
bool ak_record_equal(const ak_record_t *a, const ak_record_t *b);

const char *ak_record_op_name(ak_record_op_t op);
const char *ak_exists_action_name(ak_exists_action_t action);
const char *ak_generation_policy_name(ak_generation_policy_t policy);

#endif
