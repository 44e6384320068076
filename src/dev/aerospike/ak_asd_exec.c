#include "dev/aerospike/ak_asd_exec.h"

#include <stdlib.h>
#include <string.h>

#include "dev/aerospike/ak_asd_cdt.h"
#include "wire/ak_batch.h"
#include "wire/ak_cdt.h"
#include "wire/ak_digest.h"
#include "wire/ak_particle.h"
#include "wire/ak_proto.h"
#include "wire/ak_record.h"
#include "wire/ak_result.h"

/* Server limit: TTLs above 10 years are refused (other than -1 and -2). */
#define AK_ASD_MAX_TTL (10u * 365u * 24u * 3600u)
#define AK_ASD_MAX_BINS 0x7FFF

void ak_asd_reply_code(ak_buf_t *reply, int result_code)
{
    ak_msg_write_reply(reply, (uint8_t)result_code, 0, 0);
}

/* The parts of a request every command needs. */
typedef struct ak_asd_request {
    ak_asd_namespace_t *ns;
    uint8_t digest[AK_DIGEST_SIZE];
    const ak_msg_field_t *set;
    const ak_msg_field_t *key;
} ak_asd_request_t;

static int ak_asd_resolve(ak_asd_exec_t *exec, const ak_msg_t *msg, ak_asd_request_t *req)
{
    memset(req, 0, sizeof *req);
    const ak_msg_field_t *ns = ak_msg_find_field(msg, AK_FIELD_NAMESPACE);
    if (!ns)
        return AK_RESULT_PARAMETER;
    req->ns = ak_asd_store_namespace(exec->store, (const char *)ns->data, ns->len);
    if (!req->ns)
        return AK_RESULT_NAMESPACE_NOT_FOUND;
    req->set = ak_msg_find_field(msg, AK_FIELD_SET);
    if (req->set && req->set->len > AK_SET_MAX)
        return AK_RESULT_PARAMETER;
    req->key = ak_msg_find_field(msg, AK_FIELD_KEY);
    if (req->key && req->key->len < 1)
        return AK_RESULT_PARAMETER;
    const ak_msg_field_t *digest = ak_msg_find_field(msg, AK_FIELD_DIGEST);
    if (digest) {
        if (digest->len != AK_DIGEST_SIZE)
            return AK_RESULT_PARAMETER;
        memcpy(req->digest, digest->data, AK_DIGEST_SIZE);
        return AK_RESULT_OK;
    }
    if (!req->key)
        return AK_RESULT_PARAMETER;
    ak_value_t key;
    ak_arena_t arena;
    ak_arena_init(&arena, 256);
    int rc = AK_RESULT_OK;
    if (ak_particle_decode(req->key->data[0], req->key->data + 1, req->key->len - 1, 0, &arena, &key,
                           NULL) != AK_OK ||
        ak_digest_compute(req->set ? (const char *)req->set->data : NULL, req->set ? req->set->len : 0,
                          &key, req->digest, NULL) != AK_OK)
        rc = AK_RESULT_PARAMETER;
    ak_arena_destroy(&arena);
    return rc;
}

/* --- replies --- */

typedef struct ak_asd_reply_op {
    const uint8_t *name;
    uint8_t name_len;
    uint8_t particle_type;
    const uint8_t *data;
    uint32_t len;
} ak_asd_reply_op_t;

static void ak_asd_reply_record(ak_buf_t *reply, int result_code, const ak_asd_record_t *rec,
                                const ak_asd_reply_op_t *ops, size_t n_ops, uint32_t transaction_ttl)
{
    ak_msg_header_t h = {0};
    h.result_code = (uint8_t)result_code;
    h.generation = rec ? rec->generation : 0;
    h.record_ttl = rec ? rec->void_time : 0;
    h.transaction_ttl = transaction_ttl;
    ak_msg_builder_t b;
    ak_msg_begin(&b, reply, &h);
    for (size_t i = 0; i < n_ops; i++)
        ak_msg_add_op_raw(&b, AK_OP_READ, ops[i].particle_type, (const char *)ops[i].name,
                          ops[i].name_len, ops[i].data, ops[i].len);
    ak_msg_end(&b, NULL);
}

static ak_asd_reply_op_t ak_asd_bin_op(const ak_asd_bin_t *bin)
{
    ak_asd_reply_op_t op = {(const uint8_t *)bin->name, bin->name_len, bin->particle_type, bin->data,
                            bin->len};
    return op;
}

/* --- reads --- */

static int ak_asd_read(ak_asd_exec_t *exec, const ak_msg_t *msg, const ak_asd_request_t *req,
                       ak_arena_t *arena, ak_buf_t *reply, uint32_t batch_index)
{
    (void)exec;
    ak_asd_record_t *rec = ak_asd_ns_get(req->ns, req->digest, ak_asd_now_void_time());
    if (!rec) {
        ak_asd_reply_record(reply, AK_RESULT_NOT_FOUND, NULL, NULL, 0, batch_index);
        return AK_RESULT_NOT_FOUND;
    }
    const ak_msg_header_t *h = &msg->header;
    if (h->info1 & AK_INFO1_GET_NOBINDATA) {
        ak_asd_reply_record(reply, AK_RESULT_OK, rec, NULL, 0, batch_index);
        return AK_RESULT_OK;
    }
    bool all = (h->info1 & AK_INFO1_GET_ALL) != 0;
    size_t max_ops = all ? rec->n_bins : 0;
    for (uint16_t i = 0; i < h->n_ops; i++)
        max_ops += msg->ops[i].name_len ? 1 : rec->n_bins;
    ak_asd_reply_op_t *ops = max_ops ? ak_arena_alloc_array(arena, max_ops, sizeof *ops) : NULL;
    size_t n = 0;
    if (all || h->n_ops == 0) {
        for (uint16_t i = 0; i < rec->n_bins && n < max_ops; i++)
            ops[n++] = ak_asd_bin_op(&rec->bins[i]);
    } else {
        for (uint16_t i = 0; i < h->n_ops; i++) {
            const ak_msg_op_t *op = &msg->ops[i];
            if (op->op_type != AK_OP_READ) {
                ak_asd_reply_record(reply, AK_RESULT_PARAMETER, NULL, NULL, 0, batch_index);
                return AK_RESULT_PARAMETER;
            }
            if (op->name_len == 0) {
                for (uint16_t j = 0; j < rec->n_bins; j++)
                    ops[n++] = ak_asd_bin_op(&rec->bins[j]);
                continue;
            }
            ak_asd_bin_t *bin = ak_asd_record_bin(rec, op->name, op->name_len);
            if (bin)
                ops[n++] = ak_asd_bin_op(bin);
        }
    }
    ak_asd_reply_record(reply, AK_RESULT_OK, rec, ops, n, batch_index);
    return AK_RESULT_OK;
}

/* --- writes --- */

static int ak_asd_check_generation(const ak_msg_header_t *h, const ak_asd_record_t *rec)
{
    if (!rec)
        return AK_RESULT_OK;
    if ((h->info2 & AK_INFO2_GENERATION) && h->generation != rec->generation)
        return AK_RESULT_GENERATION;
    if ((h->info2 & AK_INFO2_GENERATION_GT) && h->generation <= rec->generation)
        return AK_RESULT_GENERATION;
    return AK_RESULT_OK;
}

static int ak_asd_delete(ak_asd_exec_t *exec, const ak_msg_t *msg, const ak_asd_request_t *req,
                         ak_buf_t *reply)
{
    ak_asd_record_t *rec = ak_asd_ns_get(req->ns, req->digest, ak_asd_now_void_time());
    int rc = rec ? ak_asd_check_generation(&msg->header, rec) : AK_RESULT_NOT_FOUND;
    if (rc == AK_RESULT_OK) {
        if (exec->on_change)
            exec->on_change(exec->change_ctx, req->ns, rec,
                            (msg->header.info2 & AK_INFO2_DURABLE_DELETE) ? AK_ASD_CHANGE_DURABLE_DELETE
                                                                          : AK_ASD_CHANGE_DELETE);
        ak_asd_ns_remove(req->ns, req->digest);
    }
    ak_asd_reply_code(reply, rc);
    return rc;
}

static bool ak_asd_is_write_op(uint8_t op_type)
{
    switch (op_type) {
    case AK_OP_WRITE:
    case AK_OP_INCR:
    case AK_OP_APPEND:
    case AK_OP_PREPEND:
    case AK_OP_TOUCH:
    case AK_OP_DELETE:
    case AK_OP_CDT_MODIFY:
        return true;
    default:
        return false;
    }
}

static int ak_asd_apply_incr(ak_asd_record_t *rec, const ak_msg_op_t *op)
{
    ak_asd_bin_t *bin = ak_asd_record_bin(rec, op->name, op->name_len);
    if (op->particle_type != AK_PARTICLE_INTEGER && op->particle_type != AK_PARTICLE_FLOAT)
        return AK_RESULT_PARAMETER;
    if (op->value_len != 8)
        return AK_RESULT_PARAMETER;
    if (!bin)
        return ak_asd_record_set_bin(rec, op->name, op->name_len, op->particle_type, op->value, 8)
                   ? AK_RESULT_OK
                   : AK_RESULT_UNKNOWN;
    if (bin->particle_type != op->particle_type || bin->len != 8)
        return AK_RESULT_INCOMPATIBLE_TYPE;
    uint8_t out[8];
    if (op->particle_type == AK_PARTICLE_INTEGER) {
        uint64_t sum = ak_get_be64(bin->data) + ak_get_be64(op->value);
        ak_put_be64(out, sum);
    } else {
        uint64_t a_bits = ak_get_be64(bin->data), b_bits = ak_get_be64(op->value);
        double a, b;
        memcpy(&a, &a_bits, 8);
        memcpy(&b, &b_bits, 8);
        double sum = a + b;
        uint64_t bits;
        memcpy(&bits, &sum, 8);
        ak_put_be64(out, bits);
    }
    memcpy(bin->data, out, 8);
    return AK_RESULT_OK;
}

static int ak_asd_apply_concat(ak_asd_record_t *rec, const ak_msg_op_t *op, bool prepend)
{
    if (op->particle_type != AK_PARTICLE_STRING && !ak_particle_is_blob(op->particle_type))
        return AK_RESULT_PARAMETER;
    ak_asd_bin_t *bin = ak_asd_record_bin(rec, op->name, op->name_len);
    if (!bin)
        return ak_asd_record_set_bin(rec, op->name, op->name_len, op->particle_type, op->value,
                                     op->value_len)
                   ? AK_RESULT_OK
                   : AK_RESULT_UNKNOWN;
    if (bin->particle_type != op->particle_type)
        return AK_RESULT_INCOMPATIBLE_TYPE;
    size_t len = (size_t)bin->len + op->value_len;
    ak_buf_t joined;
    ak_buf_init(&joined);
    if (prepend) {
        ak_buf_append(&joined, op->value, op->value_len);
        ak_buf_append(&joined, bin->data, bin->len);
    } else {
        ak_buf_append(&joined, bin->data, bin->len);
        ak_buf_append(&joined, op->value, op->value_len);
    }
    bool ok = !ak_buf_failed(&joined) &&
              ak_asd_record_set_bin(rec, op->name, op->name_len, op->particle_type, joined.data, len);
    ak_buf_free(&joined);
    return ok ? AK_RESULT_OK : AK_RESULT_UNKNOWN;
}

/* Computes the void time a write leaves, from the request TTL. */
static int ak_asd_void_time(const ak_asd_namespace_t *ns, uint32_t ttl, const ak_asd_record_t *old,
                            uint32_t now, uint32_t *void_time)
{
    if (ttl == AK_TTL_NEVER_EXPIRE) {
        *void_time = 0;
        return AK_RESULT_OK;
    }
    if (ttl == AK_TTL_DONT_UPDATE) {
        if (old) {
            *void_time = old->void_time;
            return AK_RESULT_OK;
        }
        ttl = AK_TTL_NAMESPACE_DEFAULT;
    }
    if (ttl == AK_TTL_NAMESPACE_DEFAULT)
        ttl = ns->default_ttl;
    if (ttl > AK_ASD_MAX_TTL)
        return AK_RESULT_PARAMETER;
    *void_time = ttl ? now + ttl : 0;
    return AK_RESULT_OK;
}

static bool ak_asd_key_matches(const ak_asd_record_t *rec, const ak_msg_field_t *key)
{
    if (!rec->has_key || !key)
        return true;
    return rec->key_type == key->data[0] && rec->key_len == key->len - 1 &&
           memcmp(rec->key, key->data + 1, rec->key_len) == 0;
}

static int ak_asd_write(ak_asd_exec_t *exec, const ak_msg_t *msg, const ak_asd_request_t *req,
                        ak_arena_t *arena, ak_buf_t *reply)
{
    const ak_msg_header_t *h = &msg->header;
    uint32_t now = ak_asd_now_void_time();
    ak_asd_record_t *existing = ak_asd_ns_get(req->ns, req->digest, now);
    int rc = AK_RESULT_OK;

    if ((h->info2 & AK_INFO2_CREATE_ONLY) && existing)
        rc = AK_RESULT_RECORD_EXISTS;
    else if ((h->info3 & (AK_INFO3_UPDATE_ONLY | AK_INFO3_REPLACE_ONLY)) && !existing)
        rc = AK_RESULT_NOT_FOUND;
    else
        rc = ak_asd_check_generation(h, existing);
    if (rc == AK_RESULT_OK && existing && !ak_asd_key_matches(existing, req->key))
        rc = AK_RESULT_KEY_MISMATCH;
    if (rc != AK_RESULT_OK) {
        ak_asd_reply_code(reply, rc);
        return rc;
    }

    /* Work on a copy so a failing op leaves the stored record untouched. */
    ak_asd_record_t blank = {0};
    ak_asd_record_t *work = existing ? ak_asd_record_clone(existing) : ak_asd_record_clone(&blank);
    if (!work) {
        ak_asd_reply_code(reply, AK_RESULT_UNKNOWN);
        return AK_RESULT_UNKNOWN;
    }
    if (!existing)
        memcpy(work->digest, req->digest, AK_DIGEST_SIZE);
    if (h->info3 & (AK_INFO3_CREATE_OR_REPLACE | AK_INFO3_REPLACE_ONLY))
        ak_asd_record_clear_bins(work);

    bool respond_all = (h->info2 & AK_INFO2_RESPOND_ALL_OPS) != 0;
    /* One result per op at most, except a read of all bins, which returns
     * every bin (the record can grow by at most one bin per op). */
    size_t max_results = h->n_ops;
    for (uint16_t i = 0; i < h->n_ops; i++)
        if (msg->ops[i].op_type == AK_OP_READ && msg->ops[i].name_len == 0)
            max_results += (size_t)work->n_bins + h->n_ops;
    ak_asd_reply_op_t *results = max_results ? ak_arena_alloc_array(arena, max_results, sizeof *results) : NULL;
    if (max_results && !results) {
        ak_asd_record_free(work);
        ak_asd_reply_code(reply, AK_RESULT_UNKNOWN);
        return AK_RESULT_UNKNOWN;
    }
    size_t n_results = 0;
    bool touched = false, any_write = false, deleted_all = false;

    for (uint16_t i = 0; i < h->n_ops && rc == AK_RESULT_OK; i++) {
        const ak_msg_op_t *op = &msg->ops[i];
        if (op->name_len > AK_BIN_NAME_MAX) {
            rc = AK_RESULT_BIN_NAME;
            break;
        }
        if (ak_asd_is_write_op(op->op_type))
            any_write = true;
        switch (op->op_type) {
        case AK_OP_WRITE:
            if (op->particle_type == AK_PARTICLE_NULL) {
                ak_asd_record_remove_bin(work, op->name, op->name_len);
            } else {
                /* validate the value the way the server parses it */
                ak_value_t parsed;
                if (ak_particle_decode(op->particle_type, op->value, op->value_len, 0, arena, &parsed,
                                       NULL) != AK_OK)
                    rc = AK_RESULT_PARAMETER;
                else if (!ak_asd_record_set_bin(work, op->name, op->name_len, op->particle_type,
                                                op->value, op->value_len))
                    rc = AK_RESULT_UNKNOWN;
            }
            if (respond_all)
                results[n_results++] = (ak_asd_reply_op_t){op->name, op->name_len, AK_PARTICLE_NULL, NULL, 0};
            break;
        case AK_OP_INCR:
        case AK_OP_APPEND:
        case AK_OP_PREPEND:
            rc = op->op_type == AK_OP_INCR ? ak_asd_apply_incr(work, op)
                                           : ak_asd_apply_concat(work, op, op->op_type == AK_OP_PREPEND);
            if (respond_all)
                results[n_results++] = (ak_asd_reply_op_t){op->name, op->name_len, AK_PARTICLE_NULL, NULL, 0};
            break;
        case AK_OP_TOUCH:
            if (!existing)
                rc = AK_RESULT_NOT_FOUND;
            touched = true; /* no result entry, even with RESPOND_ALL_OPS */
            break;
        case AK_OP_DELETE:
            ak_asd_record_clear_bins(work);
            deleted_all = true;
            if (respond_all)
                results[n_results++] = (ak_asd_reply_op_t){op->name, op->name_len, AK_PARTICLE_NULL, NULL, 0};
            break;
        case AK_OP_READ: {
            if (op->name_len == 0) {
                for (uint16_t j = 0; j < work->n_bins; j++) {
                    ak_asd_bin_t *bin = &work->bins[j];
                    uint8_t *copy = ak_arena_memdup(arena, bin->data, bin->len);
                    results[n_results++] = (ak_asd_reply_op_t){
                        (const uint8_t *)ak_arena_memdup(arena, bin->name, bin->name_len),
                        bin->name_len, bin->particle_type, copy, bin->len};
                }
                break;
            }
            ak_asd_bin_t *bin = ak_asd_record_bin(work, op->name, op->name_len);
            if (bin)
                results[n_results++] = (ak_asd_reply_op_t){op->name, op->name_len, bin->particle_type,
                                                           ak_arena_memdup(arena, bin->data, bin->len),
                                                           bin->len};
            else if (respond_all)
                results[n_results++] = (ak_asd_reply_op_t){op->name, op->name_len, AK_PARTICLE_NULL, NULL, 0};
            break;
        }
        case AK_OP_CDT_READ:
        case AK_OP_CDT_MODIFY: {
            ak_value_t value;
            bool has_result;
            rc = ak_asd_cdt_apply(work, op, arena, &value, &has_result);
            if (rc != AK_RESULT_OK)
                break;
            if (has_result || respond_all) {
                ak_buf_t bytes;
                ak_buf_init(&bytes);
                if (!has_result)
                    value = ak_value_nil();
                if (ak_particle_encode(&value, &bytes, NULL) != AK_OK) {
                    rc = AK_RESULT_UNKNOWN;
                } else {
                    results[n_results++] = (ak_asd_reply_op_t){
                        op->name, op->name_len, ak_particle_type_of(&value),
                        ak_arena_memdup(arena, bytes.data, bytes.len), (uint32_t)bytes.len};
                }
                ak_buf_free(&bytes);
            }
            break;
        }
        default:
            rc = AK_RESULT_UNSUPPORTED_FEATURE;
            break;
        }
    }

    uint32_t void_time = 0;
    if (rc == AK_RESULT_OK && any_write)
        rc = ak_asd_void_time(req->ns, h->record_ttl, existing, now, &void_time);
    if (rc == AK_RESULT_OK && work->n_bins > AK_ASD_MAX_BINS)
        rc = AK_RESULT_BIN_NAME;
    if (rc == AK_RESULT_OK && ak_asd_record_size(work) > req->ns->max_record_bytes)
        rc = AK_RESULT_RECORD_TOO_BIG;
    if (rc == AK_RESULT_OK && !existing && work->n_bins == 0 && any_write && !deleted_all)
        rc = touched ? AK_RESULT_NOT_FOUND : AK_RESULT_OK; /* nothing to create */
    if (rc != AK_RESULT_OK) {
        ak_asd_record_free(work);
        ak_asd_reply_code(reply, rc);
        return rc;
    }

    if (!any_write) {
        /* a read-only operate */
        ak_asd_record_t *shown = existing;
        if (!existing) {
            ak_asd_record_free(work);
            ak_asd_reply_code(reply, AK_RESULT_NOT_FOUND);
            return AK_RESULT_NOT_FOUND;
        }
        ak_asd_reply_record(reply, AK_RESULT_OK, shown, results, n_results, 0);
        ak_asd_record_free(work);
        return AK_RESULT_OK;
    }

    if (work->n_bins == 0) {
        /* the write removed every bin: the record goes away */
        if (existing) {
            if (exec->on_change)
                exec->on_change(exec->change_ctx, req->ns, existing, AK_ASD_CHANGE_DELETE);
            ak_asd_ns_remove(req->ns, req->digest);
        }
        ak_asd_reply_record(reply, AK_RESULT_OK, NULL, results, n_results, 0);
        ak_asd_record_free(work);
        return AK_RESULT_OK;
    }

    work->generation = existing ? (uint16_t)(existing->generation == UINT16_MAX ? 1 : existing->generation + 1) : 1;
    work->void_time = void_time;
    work->lut_ms = ak_asd_now_lut_ms();
    if (req->set) {
        memcpy(work->set, req->set->data, req->set->len);
        work->set[req->set->len] = '\0';
        work->set_len = (uint8_t)req->set->len;
    }
    if (req->key && !work->has_key) {
        uint8_t *key = req->key->len > 1 ? malloc(req->key->len - 1) : NULL;
        if (req->key->len > 1 && !key) {
            ak_asd_record_free(work);
            ak_asd_reply_code(reply, AK_RESULT_UNKNOWN);
            return AK_RESULT_UNKNOWN;
        }
        if (key)
            memcpy(key, req->key->data + 1, req->key->len - 1);
        work->key = key;
        work->key_len = req->key->len - 1;
        work->key_type = req->key->data[0];
        work->has_key = true;
    }

    ak_asd_record_t *stored;
    if (existing) {
        ak_asd_record_swap_contents(existing, work);
        ak_asd_record_free(work);
        stored = existing;
    } else {
        ak_asd_ns_insert(req->ns, work);
        stored = work;
    }
    if (exec->on_change)
        exec->on_change(exec->change_ctx, req->ns, stored, AK_ASD_CHANGE_WRITE);
    ak_asd_reply_record(reply, AK_RESULT_OK, stored, results, n_results, 0);
    return AK_RESULT_OK;
}

/* A batch answers one message per row (transaction_ttl = row index, the
 * row's own result code), all in one proto frame, then a LAST message. */
static int ak_asd_exec_batch(ak_asd_exec_t *exec, const ak_msg_t *msg, ak_arena_t *arena,
                             ak_buf_t *reply)
{
    const ak_msg_field_t *field = ak_msg_find_field(msg, AK_FIELD_BATCH);
    ak_batch_request_t batch;
    if (!field || ak_batch_parse(field->data, field->len, 0, arena, &batch, NULL) != AK_OK) {
        ak_asd_reply_code(reply, AK_RESULT_PARAMETER);
        return AK_RESULT_PARAMETER;
    }
    size_t frame_start = reply->len;
    ak_buf_append_zeros(reply, AK_PROTO_HEADER_SIZE);
    ak_buf_t row_reply;
    ak_buf_init(&row_reply);
    for (uint32_t i = 0; i < batch.n_rows; i++) {
        const ak_batch_row_t *row = &batch.rows[i];
        ak_msg_t row_msg;
        row_msg.header = row->header;
        row_msg.ops = row->ops;
        row_msg.fields = ak_arena_alloc_array(arena, (size_t)row->header.n_fields + 1, sizeof *row_msg.fields);
        if (!row_msg.fields)
            break;
        if (row->header.n_fields)
            memcpy(row_msg.fields, row->fields, row->header.n_fields * sizeof *row_msg.fields);
        row_msg.fields[row->header.n_fields] =
            (ak_msg_field_t){AK_FIELD_DIGEST, row->digest, AK_DIGEST_SIZE, 0};
        row_msg.header.n_fields = (uint16_t)(row->header.n_fields + 1);
        ak_buf_clear(&row_reply);
        ak_asd_exec_message(exec, &row_msg, arena, &row_reply);
        if (ak_buf_failed(&row_reply) || row_reply.len < AK_PROTO_HEADER_SIZE + AK_MSG_HEADER_SIZE)
            continue;
        /* the row's reply without its proto header, tagged with the row index */
        uint8_t *body = row_reply.data + AK_PROTO_HEADER_SIZE;
        ak_put_be32(body + 14, row->index);
        ak_buf_append(reply, body, row_reply.len - AK_PROTO_HEADER_SIZE);
    }
    ak_buf_free(&row_reply);
    uint8_t last[AK_MSG_HEADER_SIZE] = {AK_MSG_HEADER_SIZE, 0, 0, AK_INFO3_LAST};
    ak_buf_append(reply, last, sizeof last);
    if (!ak_buf_failed(reply))
        ak_proto_header_write(reply->data + frame_start, AK_PROTO_TYPE_MESSAGE,
                              reply->len - frame_start - AK_PROTO_HEADER_SIZE);
    return AK_RESULT_OK;
}

int ak_asd_exec_message(ak_asd_exec_t *exec, const ak_msg_t *msg, ak_arena_t *arena,
                        ak_buf_t *reply)
{
    const ak_msg_header_t *h = &msg->header;
    if (h->info1 & AK_INFO1_BATCH)
        return ak_asd_exec_batch(exec, msg, arena, reply);
    ak_asd_request_t req;
    int rc = ak_asd_resolve(exec, msg, &req);
    if (rc != AK_RESULT_OK) {
        ak_asd_reply_code(reply, rc);
        return rc;
    }
    if (h->info2 & AK_INFO2_WRITE) {
        if (h->info2 & AK_INFO2_DELETE)
            return ak_asd_delete(exec, msg, &req, reply);
        return ak_asd_write(exec, msg, &req, arena, reply);
    }
    if (h->info1 & AK_INFO1_READ) {
        bool only_reads = true;
        for (uint16_t i = 0; i < h->n_ops; i++)
            if (msg->ops[i].op_type != AK_OP_READ)
                only_reads = false;
        if (only_reads)
            return ak_asd_read(exec, msg, &req, arena, reply, 0);
        return ak_asd_write(exec, msg, &req, arena, reply);
    }
    ak_asd_reply_code(reply, AK_RESULT_PARAMETER);
    return AK_RESULT_PARAMETER;
}
