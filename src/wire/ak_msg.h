/*
 * ak_msg: the AS_MSG body (proto type 3): a 22-byte header, fields, ops.
 *
 *   header_sz(22) info1 info2 info3 info4 result_code generation:u32
 *   record_ttl:u32 transaction_ttl:u32 n_fields:u16 n_ops:u16
 *   field: size:u32 (data + 1) type:u8 data
 *   op:    size:u32 (4 + name + [lut] + value) op:u8 particle:u8 flags:u8
 *          name_len:u8 name [lut:u64 when flags & 1] value
 *
 * Parsing produces views into the caller's bytes; the field and op tables
 * live in the caller's arena. Building appends to an ak_buf_t.
 */
#ifndef AK_MSG_H
#define AK_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_arena.h"
#include "common/ak_buf.h"
#include "common/ak_error.h"
#include "wire/ak_value.h"

#define AK_MSG_HEADER_SIZE 22
#define AK_MSG_FIELD_HEADER_SIZE 5
#define AK_MSG_OP_HEADER_SIZE 8
#define AK_BIN_NAME_MAX 15
#define AK_NAMESPACE_MAX 31
#define AK_SET_MAX 63

/* info1: read-side flags */
enum {
    AK_INFO1_READ = 0x01,
    AK_INFO1_GET_ALL = 0x02,
    AK_INFO1_SHORT_QUERY = 0x04,
    AK_INFO1_BATCH = 0x08,
    AK_INFO1_XDR = 0x10,
    AK_INFO1_GET_NOBINDATA = 0x20,
    AK_INFO1_READ_MODE_AP_ALL = 0x40,
    AK_INFO1_COMPRESS_RESPONSE = 0x80,
};

/* info2: write-side flags */
enum {
    AK_INFO2_WRITE = 0x01,
    AK_INFO2_DELETE = 0x02,
    AK_INFO2_GENERATION = 0x04,
    AK_INFO2_GENERATION_GT = 0x08,
    AK_INFO2_DURABLE_DELETE = 0x10,
    AK_INFO2_CREATE_ONLY = 0x20,
    AK_INFO2_RELAX_AP_LONG_QUERY = 0x40,
    AK_INFO2_RESPOND_ALL_OPS = 0x80,
};

/* info3: misc flags */
enum {
    AK_INFO3_LAST = 0x01,
    AK_INFO3_COMMIT_MASTER = 0x02,
    AK_INFO3_PARTITION_DONE = 0x04,
    AK_INFO3_UPDATE_ONLY = 0x08,
    AK_INFO3_CREATE_OR_REPLACE = 0x10,
    AK_INFO3_REPLACE_ONLY = 0x20,
    AK_INFO3_SC_READ_TYPE = 0x40,
    AK_INFO3_SC_READ_RELAX = 0x80,
};

/* info4: multi-record transaction flags (server 8.0+) */
enum {
    AK_INFO4_MRT_VERIFY_READ = 0x01,
    AK_INFO4_MRT_ROLL_FORWARD = 0x02,
    AK_INFO4_MRT_ROLL_BACK = 0x04,
    AK_INFO4_MRT_MONITOR_DRIVEN = 0x08,
    AK_INFO4_MRT_ON_LOCKING_ONLY = 0x10,
};

/* Names of the set bits of an info byte (1..4), in bit order, for
 * diagnostics. Returns the number of names written to names[0..8). */
size_t ak_msg_info_flag_names(int info_byte, uint8_t flags, const char *names[8]);

typedef enum ak_field_type {
    AK_FIELD_NAMESPACE = 0,
    AK_FIELD_SET = 1,
    AK_FIELD_KEY = 2,
    AK_FIELD_RECORD_VERSION = 3,
    AK_FIELD_DIGEST = 4,
    AK_FIELD_MRT_ID = 5,
    AK_FIELD_MRT_DEADLINE = 6,
    AK_FIELD_TRID = 7,
    AK_FIELD_SOCKET_TIMEOUT = 9,
    AK_FIELD_RECS_PER_SEC = 10,
    AK_FIELD_PID_ARRAY = 11,
    AK_FIELD_DIGEST_ARRAY = 12,
    AK_FIELD_MAX_RECORDS = 13,
    AK_FIELD_LUT = 14,
    AK_FIELD_BVAL_ARRAY = 15,
    AK_FIELD_INDEX_NAME = 21,
    AK_FIELD_INDEX_RANGE = 22,
    AK_FIELD_INDEX_CONTEXT = 23,
    AK_FIELD_INDEX_EXPRESSION = 24,
    AK_FIELD_INDEX_TYPE = 26,
    AK_FIELD_UDF_PACKAGE = 30,
    AK_FIELD_UDF_FUNCTION = 31,
    AK_FIELD_UDF_ARGLIST = 32,
    AK_FIELD_UDF_OP = 33,
    AK_FIELD_QUERY_BINLIST = 40,
    AK_FIELD_BATCH = 41,
    AK_FIELD_BATCH_WITH_SET = 42,
    AK_FIELD_FILTER = 43,
    AK_FIELD_ERROR_DETAILS = 45,
} ak_field_type_t;

const char *ak_field_type_name(uint8_t type);

typedef enum ak_op_type {
    AK_OP_READ = 1,
    AK_OP_WRITE = 2,
    AK_OP_CDT_READ = 3,
    AK_OP_CDT_MODIFY = 4,
    AK_OP_INCR = 5,
    AK_OP_EXP_READ = 7,
    AK_OP_EXP_MODIFY = 8,
    AK_OP_APPEND = 9,
    AK_OP_PREPEND = 10,
    AK_OP_TOUCH = 11,
    AK_OP_BITS_READ = 12,
    AK_OP_BITS_MODIFY = 13,
    AK_OP_DELETE = 14,
    AK_OP_HLL_READ = 15,
    AK_OP_HLL_MODIFY = 16,
    AK_OP_STRING_READ = 17,
    AK_OP_STRING_MODIFY = 18,
    AK_OP_TO_STRING = 19,
} ak_op_type_t;

const char *ak_op_type_name(uint8_t type);

/* op flags byte: bit 0 = an 8-byte per-bin last-update time follows the
 * name (XDR with ship-bin-luts). */
#define AK_OP_FLAG_HAS_LUT 0x01

typedef struct ak_msg_header {
    uint8_t header_sz;
    uint8_t info1, info2, info3, info4;
    uint8_t result_code;
    uint32_t generation;
    uint32_t record_ttl;
    uint32_t transaction_ttl;
    uint16_t n_fields;
    uint16_t n_ops;
} ak_msg_header_t;

typedef struct ak_msg_field {
    uint8_t type;
    const uint8_t *data;
    uint32_t len;
    size_t offset; /* of the field's size word, from the frame start */
} ak_msg_field_t;

typedef struct ak_msg_op {
    uint8_t op_type;
    uint8_t particle_type;
    uint8_t flags;
    uint8_t name_len;
    const uint8_t *name;  /* not NUL-terminated */
    bool has_lut;
    uint64_t lut;         /* raw wire value when has_lut */
    const uint8_t *value;
    uint32_t value_len;
    size_t offset;        /* of the op's size word, from the frame start */
    size_t value_offset;  /* of the value, from the frame start */
} ak_msg_op_t;

typedef struct ak_msg {
    ak_msg_header_t header;
    ak_msg_field_t *fields; /* header.n_fields entries */
    ak_msg_op_t *ops;       /* header.n_ops entries */
} ak_msg_t;

/* Parses an AS_MSG body (the bytes after the proto header). base_offset is
 * the body's offset in the frame (8 for a whole frame) and appears in
 * errors. Every length is checked against the bytes present; trailing bytes
 * after the last op are an error. */
ak_status_t ak_msg_parse(const uint8_t *body, size_t len, size_t base_offset, ak_arena_t *arena,
                         ak_msg_t *msg, ak_error_t *err);

/* Parses n_fields fields then n_ops ops starting at body[*pos_io], for
 * structures that embed them (batch rows); advances *pos_io past them.
 * Tables are allocated in arena (NULL when the count is 0). */
ak_status_t ak_msg_parse_items(const uint8_t *body, size_t len, size_t *pos_io, size_t base_offset,
                               uint16_t n_fields, uint16_t n_ops, ak_arena_t *arena,
                               ak_msg_field_t **fields_out, ak_msg_op_t **ops_out, ak_error_t *err);

/* First field of the given type, or NULL. */
const ak_msg_field_t *ak_msg_find_field(const ak_msg_t *msg, uint8_t type);

/*
 * Building a frame: begin, add fields, then ops, then end. The builder
 * appends to out (which may already hold other frames) and patches sizes and
 * counts at the end.
 */
typedef struct ak_msg_builder {
    ak_buf_t *out;
    size_t frame_start;
    uint16_t n_fields;
    uint16_t n_ops;
    bool too_many;
} ak_msg_builder_t;

/* header's n_fields and n_ops are ignored: the builder counts. */
void ak_msg_begin(ak_msg_builder_t *builder, ak_buf_t *out, const ak_msg_header_t *header);
void ak_msg_add_field(ak_msg_builder_t *builder, uint8_t type, const void *data, size_t len);
/* A field whose data is one byte followed by len bytes (the KEY field:
 * particle type, then the key). */
void ak_msg_add_field_prefixed(ak_msg_builder_t *builder, uint8_t type, uint8_t first,
                               const void *data, size_t len);
void ak_msg_add_field_u64(ak_msg_builder_t *builder, uint8_t type, uint64_t value);
/* An op with raw value bytes. name_len must be <= 255. */
void ak_msg_add_op_raw(ak_msg_builder_t *builder, uint8_t op_type, uint8_t particle_type,
                       const char *name, size_t name_len, const void *value, size_t value_len);
/* An op whose value is a typed value, encoded as its particle. */
ak_status_t ak_msg_add_op_value(ak_msg_builder_t *builder, uint8_t op_type, const char *name,
                                size_t name_len, const ak_value_t *value, ak_error_t *err);
/* As ak_msg_add_op_value with an 8-byte per-bin LUT after the name. */
ak_status_t ak_msg_add_op_value_lut(ak_msg_builder_t *builder, uint8_t op_type, const char *name,
                                    size_t name_len, uint64_t lut, const ak_value_t *value,
                                    ak_error_t *err);
/* Patches the proto size and the counts. Fails if out ran out of memory or
 * more than 65535 fields or ops were added. */
ak_status_t ak_msg_end(ak_msg_builder_t *builder, ak_error_t *err);

/* Appends a complete reply frame: 22-byte header with only result_code,
 * generation and record_ttl set, no fields, no ops (the shape the server
 * answers writes with, and what a connector answers XDR with). */
void ak_msg_write_reply(ak_buf_t *out, uint8_t result_code, uint32_t generation,
                        uint32_t record_ttl);

#endif
