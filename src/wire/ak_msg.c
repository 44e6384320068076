#include "wire/ak_msg.h"

#include <string.h>

#include "wire/ak_particle.h"
#include "wire/ak_proto.h"

static const char *const ak_info1_names[8] = {
    "READ", "GET_ALL", "SHORT_QUERY", "BATCH", "XDR", "GET_NOBINDATA", "READ_MODE_AP_ALL",
    "COMPRESS_RESPONSE"};
static const char *const ak_info2_names[8] = {
    "WRITE", "DELETE", "GENERATION", "GENERATION_GT", "DURABLE_DELETE", "CREATE_ONLY",
    "RELAX_AP_LONG_QUERY", "RESPOND_ALL_OPS"};
static const char *const ak_info3_names[8] = {
    "LAST", "COMMIT_MASTER", "PARTITION_DONE", "UPDATE_ONLY", "CREATE_OR_REPLACE",
    "REPLACE_ONLY", "SC_READ_TYPE", "SC_READ_RELAX"};
static const char *const ak_info4_names[8] = {
    "MRT_VERIFY_READ", "MRT_ROLL_FORWARD", "MRT_ROLL_BACK", "MRT_MONITOR_DRIVEN",
    "MRT_ON_LOCKING_ONLY", "INFO4_BIT5", "INFO4_BIT6", "INFO4_BIT7"};

size_t ak_msg_info_flag_names(int info_byte, uint8_t flags, const char *names[8])
{
    const char *const *table;
    switch (info_byte) {
    case 1: table = ak_info1_names; break;
    case 2: table = ak_info2_names; break;
    case 3: table = ak_info3_names; break;
    case 4: table = ak_info4_names; break;
    default: return 0;
    }
    size_t n = 0;
    for (int bit = 0; bit < 8; bit++)
        if (flags & (1u << bit))
            names[n++] = table[bit];
    return n;
}

const char *ak_field_type_name(uint8_t type)
{
    switch (type) {
    case AK_FIELD_NAMESPACE: return "namespace";
    case AK_FIELD_SET: return "set";
    case AK_FIELD_KEY: return "key";
    case AK_FIELD_RECORD_VERSION: return "record-version";
    case AK_FIELD_DIGEST: return "digest";
    case AK_FIELD_MRT_ID: return "mrt-id";
    case AK_FIELD_MRT_DEADLINE: return "mrt-deadline";
    case AK_FIELD_TRID: return "trid";
    case AK_FIELD_SOCKET_TIMEOUT: return "socket-timeout";
    case AK_FIELD_RECS_PER_SEC: return "recs-per-sec";
    case AK_FIELD_PID_ARRAY: return "pid-array";
    case AK_FIELD_DIGEST_ARRAY: return "digest-array";
    case AK_FIELD_MAX_RECORDS: return "max-records";
    case AK_FIELD_LUT: return "lut";
    case AK_FIELD_BVAL_ARRAY: return "bval-array";
    case AK_FIELD_INDEX_NAME: return "index-name";
    case AK_FIELD_INDEX_RANGE: return "index-range";
    case AK_FIELD_INDEX_CONTEXT: return "index-context";
    case AK_FIELD_INDEX_EXPRESSION: return "index-expression";
    case AK_FIELD_INDEX_TYPE: return "index-type";
    case AK_FIELD_UDF_PACKAGE: return "udf-package";
    case AK_FIELD_UDF_FUNCTION: return "udf-function";
    case AK_FIELD_UDF_ARGLIST: return "udf-arglist";
    case AK_FIELD_UDF_OP: return "udf-op";
    case AK_FIELD_QUERY_BINLIST: return "query-binlist";
    case AK_FIELD_BATCH: return "batch";
    case AK_FIELD_BATCH_WITH_SET: return "batch-with-set";
    case AK_FIELD_FILTER: return "filter";
    case AK_FIELD_ERROR_DETAILS: return "error-details";
    }
    return "unknown";
}

const char *ak_op_type_name(uint8_t type)
{
    switch (type) {
    case AK_OP_READ: return "read";
    case AK_OP_WRITE: return "write";
    case AK_OP_CDT_READ: return "cdt-read";
    case AK_OP_CDT_MODIFY: return "cdt-modify";
    case AK_OP_INCR: return "incr";
    case AK_OP_EXP_READ: return "exp-read";
    case AK_OP_EXP_MODIFY: return "exp-modify";
    case AK_OP_APPEND: return "append";
    case AK_OP_PREPEND: return "prepend";
    case AK_OP_TOUCH: return "touch";
    case AK_OP_BITS_READ: return "bits-read";
    case AK_OP_BITS_MODIFY: return "bits-modify";
    case AK_OP_DELETE: return "delete";
    case AK_OP_HLL_READ: return "hll-read";
    case AK_OP_HLL_MODIFY: return "hll-modify";
    case AK_OP_STRING_READ: return "string-read";
    case AK_OP_STRING_MODIFY: return "string-modify";
    case AK_OP_TO_STRING: return "to-string";
    }
    return "unknown";
}

ak_status_t ak_msg_parse_items(const uint8_t *body, size_t len, size_t *pos_io, size_t base_offset,
                               uint16_t n_fields, uint16_t n_ops, ak_arena_t *arena,
                               ak_msg_field_t **fields_out, ak_msg_op_t **ops_out, ak_error_t *err)
{
    size_t pos = *pos_io;
    *fields_out = NULL;
    *ops_out = NULL;
    /* Each field takes at least 5 bytes and each op at least 8: refuse
     * counts the body cannot hold before sizing any table from them. */
    size_t min_needed = (size_t)n_fields * AK_MSG_FIELD_HEADER_SIZE +
                        (size_t)n_ops * AK_MSG_OP_HEADER_SIZE;
    if (min_needed > len - pos)
        return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + pos,
                           "%u fields and %u ops need at least %zu bytes but %zu are left",
                           n_fields, n_ops, min_needed, len - pos);
    ak_msg_field_t *fields = NULL;
    ak_msg_op_t *ops = NULL;
    if (n_fields) {
        fields = ak_arena_alloc_array(arena, n_fields, sizeof *fields);
        if (!fields)
            return ak_error_set(err, AK_ERR_NOMEM, "no memory for %u fields", n_fields);
    }
    if (n_ops) {
        ops = ak_arena_alloc_array(arena, n_ops, sizeof *ops);
        if (!ops)
            return ak_error_set(err, AK_ERR_NOMEM, "no memory for %u ops", n_ops);
    }
    for (uint16_t i = 0; i < n_fields; i++) {
        size_t at = pos;
        if (len - pos < AK_MSG_FIELD_HEADER_SIZE)
            return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + at,
                               "field %u of %u: header needs 5 bytes, %zu left", i + 1,
                               n_fields, len - pos);
        uint32_t field_sz = ak_get_be32(body + pos);
        if (field_sz < 1)
            return ak_error_at(err, AK_ERR_MALFORMED, base_offset + at,
                               "field %u of %u: size 0 (must count the type byte)", i + 1,
                               n_fields);
        if ((size_t)field_sz > len - pos - 4)
            return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + at,
                               "field %u of %u (%s): size %u runs past the end (%zu bytes left)",
                               i + 1, n_fields, ak_field_type_name(body[pos + 4]), field_sz,
                               len - pos - 4);
        ak_msg_field_t *f = &fields[i];
        f->type = body[pos + 4];
        f->data = body + pos + 5;
        f->len = field_sz - 1;
        f->offset = base_offset + at;
        pos += 4 + (size_t)field_sz;
    }

    for (uint16_t i = 0; i < n_ops; i++) {
        size_t at = pos;
        if (len - pos < AK_MSG_OP_HEADER_SIZE)
            return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + at,
                               "op %u of %u: header needs 8 bytes, %zu left", i + 1, n_ops,
                               len - pos);
        uint32_t op_sz = ak_get_be32(body + pos);
        ak_msg_op_t *op = &ops[i];
        op->op_type = body[pos + 4];
        op->particle_type = body[pos + 5];
        op->flags = body[pos + 6];
        op->name_len = body[pos + 7];
        op->has_lut = (op->flags & AK_OP_FLAG_HAS_LUT) != 0;
        op->offset = base_offset + at;
        size_t fixed = 4 + (size_t)op->name_len + (op->has_lut ? 8 : 0);
        if (op_sz < fixed)
            return ak_error_at(err, AK_ERR_MALFORMED, base_offset + at,
                               "op %u of %u (%s): size %u is smaller than its header and name (%zu)",
                               i + 1, n_ops, ak_op_type_name(op->op_type), op_sz, fixed);
        if ((size_t)op_sz > len - pos - 4)
            return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + at,
                               "op %u of %u (%s): size %u runs past the end (%zu bytes left)",
                               i + 1, n_ops, ak_op_type_name(op->op_type), op_sz,
                               len - pos - 4);
        size_t p = pos + AK_MSG_OP_HEADER_SIZE;
        op->name = body + p;
        p += op->name_len;
        if (op->has_lut) {
            op->lut = ak_get_be64(body + p);
            p += 8;
        }
        op->value = body + p;
        op->value_len = (uint32_t)(op_sz - fixed);
        op->value_offset = base_offset + p;
        pos += 4 + (size_t)op_sz;
    }

    *pos_io = pos;
    *fields_out = fields;
    *ops_out = ops;
    return AK_OK;
}

ak_status_t ak_msg_parse(const uint8_t *body, size_t len, size_t base_offset, ak_arena_t *arena,
                         ak_msg_t *msg, ak_error_t *err)
{
    memset(msg, 0, sizeof *msg);
    if (len < AK_MSG_HEADER_SIZE)
        return ak_error_at(err, AK_ERR_TRUNCATED, base_offset + len,
                           "message header needs 22 bytes, body has %zu", len);
    ak_msg_header_t *h = &msg->header;
    h->header_sz = body[0];
    h->info1 = body[1];
    h->info2 = body[2];
    h->info3 = body[3];
    h->info4 = body[4];
    h->result_code = body[5];
    h->generation = ak_get_be32(body + 6);
    h->record_ttl = ak_get_be32(body + 10);
    h->transaction_ttl = ak_get_be32(body + 14);
    h->n_fields = ak_get_be16(body + 18);
    h->n_ops = ak_get_be16(body + 20);
    if (h->header_sz != AK_MSG_HEADER_SIZE)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset,
                           "message header size is %u, expected 22", h->header_sz);

    size_t pos = AK_MSG_HEADER_SIZE;
    if (h->n_fields || h->n_ops) {
        ak_msg_field_t *fields;
        ak_msg_op_t *ops;
        ak_status_t st = ak_msg_parse_items(body, len, &pos, base_offset, h->n_fields, h->n_ops,
                                            arena, &fields, &ops, err);
        if (st != AK_OK)
            return st;
        msg->fields = fields;
        msg->ops = ops;
    }

    if (pos != len)
        return ak_error_at(err, AK_ERR_MALFORMED, base_offset + pos,
                           "%zu bytes follow the last op", len - pos);
    return AK_OK;
}

const ak_msg_field_t *ak_msg_find_field(const ak_msg_t *msg, uint8_t type)
{
    for (uint16_t i = 0; i < msg->header.n_fields; i++)
        if (msg->fields[i].type == type)
            return &msg->fields[i];
    return NULL;
}

void ak_msg_begin(ak_msg_builder_t *builder, ak_buf_t *out, const ak_msg_header_t *header)
{
    builder->out = out;
    builder->frame_start = out->len;
    builder->n_fields = 0;
    builder->n_ops = 0;
    builder->too_many = false;
    uint8_t bytes[AK_PROTO_HEADER_SIZE + AK_MSG_HEADER_SIZE];
    ak_proto_header_write(bytes, AK_PROTO_TYPE_MESSAGE, 0);
    uint8_t *h = bytes + AK_PROTO_HEADER_SIZE;
    h[0] = AK_MSG_HEADER_SIZE;
    h[1] = header->info1;
    h[2] = header->info2;
    h[3] = header->info3;
    h[4] = header->info4;
    h[5] = header->result_code;
    ak_put_be32(h + 6, header->generation);
    ak_put_be32(h + 10, header->record_ttl);
    ak_put_be32(h + 14, header->transaction_ttl);
    ak_put_be16(h + 18, 0);
    ak_put_be16(h + 20, 0);
    ak_buf_append(out, bytes, sizeof bytes);
}

static bool ak_msg_count(uint16_t *counter, bool *too_many)
{
    if (*counter == UINT16_MAX) {
        *too_many = true;
        return false;
    }
    (*counter)++;
    return true;
}

void ak_msg_add_field(ak_msg_builder_t *builder, uint8_t type, const void *data, size_t len)
{
    if (len >= UINT32_MAX || !ak_msg_count(&builder->n_fields, &builder->too_many)) {
        builder->too_many = true;
        return;
    }
    ak_buf_append_be32(builder->out, (uint32_t)len + 1);
    ak_buf_append_byte(builder->out, type);
    ak_buf_append(builder->out, data, len);
}

void ak_msg_add_field_prefixed(ak_msg_builder_t *builder, uint8_t type, uint8_t first,
                               const void *data, size_t len)
{
    if (len >= UINT32_MAX - 1 || !ak_msg_count(&builder->n_fields, &builder->too_many)) {
        builder->too_many = true;
        return;
    }
    ak_buf_append_be32(builder->out, (uint32_t)len + 2);
    ak_buf_append_byte(builder->out, type);
    ak_buf_append_byte(builder->out, first);
    ak_buf_append(builder->out, data, len);
}

void ak_msg_add_field_u64(ak_msg_builder_t *builder, uint8_t type, uint64_t value)
{
    uint8_t bytes[8];
    ak_put_be64(bytes, value);
    ak_msg_add_field(builder, type, bytes, sizeof bytes);
}

/* Writes an op header with a zero size and returns where the size goes. */
static size_t ak_msg_op_header(ak_msg_builder_t *builder, uint8_t op_type, uint8_t particle_type,
                               uint8_t flags, const char *name, size_t name_len)
{
    size_t at = builder->out->len;
    ak_buf_append_be32(builder->out, 0);
    ak_buf_append_byte(builder->out, op_type);
    ak_buf_append_byte(builder->out, particle_type);
    ak_buf_append_byte(builder->out, flags);
    ak_buf_append_byte(builder->out, (uint8_t)name_len);
    ak_buf_append(builder->out, name, name_len);
    return at;
}

static void ak_msg_op_patch(ak_msg_builder_t *builder, size_t at)
{
    if (ak_buf_failed(builder->out))
        return;
    size_t op_sz = builder->out->len - at - 4;
    if (op_sz > UINT32_MAX) {
        builder->too_many = true;
        return;
    }
    ak_put_be32(builder->out->data + at, (uint32_t)op_sz);
}

void ak_msg_add_op_raw(ak_msg_builder_t *builder, uint8_t op_type, uint8_t particle_type,
                       const char *name, size_t name_len, const void *value, size_t value_len)
{
    if (name_len > UINT8_MAX || !ak_msg_count(&builder->n_ops, &builder->too_many)) {
        builder->too_many = true;
        return;
    }
    size_t at = ak_msg_op_header(builder, op_type, particle_type, 0, name, name_len);
    ak_buf_append(builder->out, value, value_len);
    ak_msg_op_patch(builder, at);
}

static ak_status_t ak_msg_add_op(ak_msg_builder_t *builder, uint8_t op_type, const char *name,
                                 size_t name_len, bool has_lut, uint64_t lut,
                                 const ak_value_t *value, ak_error_t *err)
{
    if (name_len > UINT8_MAX)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "bin name of %zu bytes is too long", name_len);
    if (!ak_msg_count(&builder->n_ops, &builder->too_many))
        return ak_error_set(err, AK_ERR_LIMIT, "more than 65535 ops in one message");
    size_t at = ak_msg_op_header(builder, op_type, ak_particle_type_of(value),
                                 has_lut ? AK_OP_FLAG_HAS_LUT : 0, name, name_len);
    if (has_lut)
        ak_buf_append_be64(builder->out, lut);
    ak_status_t st = ak_particle_encode(value, builder->out, err);
    if (st != AK_OK)
        return st;
    ak_msg_op_patch(builder, at);
    return AK_OK;
}

ak_status_t ak_msg_add_op_value(ak_msg_builder_t *builder, uint8_t op_type, const char *name,
                                size_t name_len, const ak_value_t *value, ak_error_t *err)
{
    return ak_msg_add_op(builder, op_type, name, name_len, false, 0, value, err);
}

ak_status_t ak_msg_add_op_value_lut(ak_msg_builder_t *builder, uint8_t op_type, const char *name,
                                    size_t name_len, uint64_t lut, const ak_value_t *value,
                                    ak_error_t *err)
{
    return ak_msg_add_op(builder, op_type, name, name_len, true, lut, value, err);
}

ak_status_t ak_msg_end(ak_msg_builder_t *builder, ak_error_t *err)
{
    ak_buf_t *out = builder->out;
    if (ak_buf_failed(out))
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory building a message");
    if (builder->too_many)
        return ak_error_set(err, AK_ERR_LIMIT,
                            "message exceeds a wire limit (65535 fields or ops, 4 GiB per item)");
    size_t body = out->len - builder->frame_start - AK_PROTO_HEADER_SIZE;
    if (body > AK_PROTO_SIZE_MAX)
        return ak_error_set(err, AK_ERR_LIMIT, "message of %zu bytes exceeds the 128 MiB cap", body);
    uint8_t *frame = out->data + builder->frame_start;
    ak_proto_header_write(frame, AK_PROTO_TYPE_MESSAGE, body);
    ak_put_be16(frame + AK_PROTO_HEADER_SIZE + 18, builder->n_fields);
    ak_put_be16(frame + AK_PROTO_HEADER_SIZE + 20, builder->n_ops);
    return AK_OK;
}

void ak_msg_write_reply(ak_buf_t *out, uint8_t result_code, uint32_t generation,
                        uint32_t record_ttl)
{
    uint8_t bytes[AK_PROTO_HEADER_SIZE + AK_MSG_HEADER_SIZE] = {0};
    ak_proto_header_write(bytes, AK_PROTO_TYPE_MESSAGE, AK_MSG_HEADER_SIZE);
    uint8_t *h = bytes + AK_PROTO_HEADER_SIZE;
    h[0] = AK_MSG_HEADER_SIZE;
    h[5] = result_code;
    ak_put_be32(h + 6, generation);
    ak_put_be32(h + 10, record_ttl);
    ak_buf_append(out, bytes, sizeof bytes);
}
