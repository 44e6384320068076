#include "wire/ak_record.h"

#include <string.h>

#include "wire/ak_particle.h"

void ak_record_init(ak_record_t *rec)
{
    /* In pieces of at most 128 bytes, which compilers clear with vector
     * stores: one memset of the whole record becomes `rep stos`, whose
     * start-up costs more than the clearing itself (once per decoded record). */
    _Static_assert(sizeof *rec <= 256, "ak_record_t outgrew the two-piece clear");
    size_t first = sizeof *rec < 128 ? sizeof *rec : 128;
    memset(rec, 0, first);
    memset((char *)rec + first, 0, sizeof *rec - first);
}

const char *ak_record_op_name(ak_record_op_t op)
{
    switch (op) {
    case AK_RECORD_WRITE: return "write";
    case AK_RECORD_DELETE: return "delete";
    case AK_RECORD_DURABLE_DELETE: return "durable-delete";
    }
    return "unknown";
}

const char *ak_exists_action_name(ak_exists_action_t action)
{
    switch (action) {
    case AK_EXISTS_UPDATE: return "update";
    case AK_EXISTS_UPDATE_ONLY: return "update-only";
    case AK_EXISTS_REPLACE: return "replace";
    case AK_EXISTS_REPLACE_ONLY: return "replace-only";
    case AK_EXISTS_CREATE_ONLY: return "create-only";
    }
    return "unknown";
}

const char *ak_generation_policy_name(ak_generation_policy_t policy)
{
    switch (policy) {
    case AK_GEN_NONE: return "none";
    case AK_GEN_EQ: return "expect-gen-equal";
    case AK_GEN_GT: return "expect-gen-gt";
    }
    return "unknown";
}

static bool ak_str_equal(ak_str_t a, ak_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

bool ak_record_equal(const ak_record_t *a, const ak_record_t *b)
{
    if (a->op != b->op || !ak_str_equal(a->ns, b->ns) || !ak_str_equal(a->set, b->set) ||
        a->has_key != b->has_key || (a->has_key && !ak_value_equal(&a->key, &b->key)) ||
        a->has_digest != b->has_digest ||
        (a->has_digest && memcmp(a->digest, b->digest, AK_DIGEST_SIZE) != 0) ||
        a->generation != b->generation || a->has_lut != b->has_lut ||
        (a->has_lut && a->lut_ms != b->lut_ms) || a->ttl != b->ttl ||
        a->exists_action != b->exists_action || a->generation_policy != b->generation_policy ||
        a->commit_level != b->commit_level || a->xdr != b->xdr || a->n_bins != b->n_bins ||
        a->n_other_fields != b->n_other_fields)
        return false;
    for (uint32_t i = 0; i < a->n_bins; i++) {
        const ak_bin_t *x = &a->bins[i], *y = &b->bins[i];
        if (!ak_str_equal(x->name, y->name) || x->has_lut != y->has_lut ||
            (x->has_lut && x->lut_ms != y->lut_ms) || !ak_value_equal(&x->value, &y->value))
            return false;
    }
    for (uint32_t i = 0; i < a->n_other_fields; i++) {
        const ak_msg_field_t *x = &a->other_fields[i], *y = &b->other_fields[i];
        if (x->type != y->type || x->len != y->len || (x->len && memcmp(x->data, y->data, x->len)))
            return false;
    }
    return true;
}

static ak_exists_action_t ak_record_exists_from_bits(uint8_t info2, uint8_t info3)
{
    if (info2 & AK_INFO2_CREATE_ONLY)
        return AK_EXISTS_CREATE_ONLY;
    if (info3 & AK_INFO3_REPLACE_ONLY)
        return AK_EXISTS_REPLACE_ONLY;
    if (info3 & AK_INFO3_CREATE_OR_REPLACE)
        return AK_EXISTS_REPLACE;
    if (info3 & AK_INFO3_UPDATE_ONLY)
        return AK_EXISTS_UPDATE_ONLY;
    return AK_EXISTS_UPDATE;
}

static ak_status_t ak_record_take_key(const ak_msg_field_t *f, ak_arena_t *arena, ak_record_t *rec,
                                      ak_error_t *err)
{
    if (f->len < 1)
        return ak_error_at(err, AK_ERR_MALFORMED, f->offset, "key field has no particle type byte");
    uint8_t type = f->data[0];
    if (type != AK_PARTICLE_INTEGER && type != AK_PARTICLE_FLOAT && type != AK_PARTICLE_STRING &&
        !ak_particle_is_blob(type))
        return ak_error_at(err, AK_ERR_MALFORMED, f->offset + 5,
                           "key field has particle type %u (%s); keys are integer, string or blob",
                           type, ak_particle_type_name(type));
    ak_status_t st = ak_particle_decode(type, f->data + 1, f->len - 1, f->offset + 6, arena,
                                        &rec->key, err);
    if (st != AK_OK)
        return st;
    rec->has_key = true;
    return AK_OK;
}

static ak_status_t ak_record_take_fields(const ak_msg_t *msg, ak_arena_t *arena, ak_record_t *rec,
                                         ak_error_t *err)
{
    bool has_ns = false;
    uint32_t n_other = 0;
    for (uint16_t i = 0; i < msg->header.n_fields; i++) {
        const ak_msg_field_t *f = &msg->fields[i];
        ak_status_t st;
        switch (f->type) {
        case AK_FIELD_NAMESPACE:
            if (f->len == 0 || f->len > AK_NAMESPACE_MAX)
                return ak_error_at(err, AK_ERR_MALFORMED, f->offset,
                                   "namespace of %u bytes (must be 1..%d)", f->len, AK_NAMESPACE_MAX);
            rec->ns.data = (const char *)f->data;
            rec->ns.len = f->len;
            has_ns = true;
            break;
        case AK_FIELD_SET:
            if (f->len > AK_SET_MAX)
                return ak_error_at(err, AK_ERR_MALFORMED, f->offset,
                                   "set name of %u bytes (at most %d)", f->len, AK_SET_MAX);
            rec->set.data = (const char *)f->data;
            rec->set.len = f->len;
            break;
        case AK_FIELD_DIGEST:
            if (f->len != AK_DIGEST_SIZE)
                return ak_error_at(err, AK_ERR_MALFORMED, f->offset,
                                   "digest field of %u bytes (must be 20)", f->len);
            memcpy(rec->digest, f->data, AK_DIGEST_SIZE);
            rec->has_digest = true;
            break;
        case AK_FIELD_KEY:
            if ((st = ak_record_take_key(f, arena, rec, err)) != AK_OK)
                return st;
            break;
        case AK_FIELD_LUT: {
            if (f->len != 8)
                return ak_error_at(err, AK_ERR_MALFORMED, f->offset,
                                   "lut field of %u bytes (must be 8)", f->len);
            /* On the wire: ms since 2010-01-01 (Aerospike's epoch). */
            uint64_t lut = ak_get_be64(f->data);
            if (lut > UINT64_MAX - AK_CITRUSLEAF_EPOCH_MS)
                return ak_error_at(err, AK_ERR_MALFORMED, f->offset + 5, "lut %llu out of range",
                                   (unsigned long long)lut);
            rec->lut_ms = lut + AK_CITRUSLEAF_EPOCH_MS;
            rec->has_lut = true;
            break;
        }
        default:
            n_other++;
            break;
        }
    }
    if (!has_ns)
        return ak_error_set(err, AK_ERR_MALFORMED, "message has no namespace field");

    if (n_other) {
        ak_msg_field_t *other = ak_arena_alloc_array(arena, n_other, sizeof *other);
        if (!other)
            return ak_error_set(err, AK_ERR_NOMEM, "no memory for %u fields", n_other);
        uint32_t k = 0;
        for (uint16_t i = 0; i < msg->header.n_fields; i++) {
            switch (msg->fields[i].type) {
            case AK_FIELD_NAMESPACE:
            case AK_FIELD_SET:
            case AK_FIELD_DIGEST:
            case AK_FIELD_KEY:
            case AK_FIELD_LUT:
                break;
            default:
                other[k++] = msg->fields[i];
            }
        }
        rec->other_fields = other;
        rec->n_other_fields = n_other;
    }

    if (!rec->has_digest) {
        if (!rec->has_key)
            return ak_error_set(err, AK_ERR_MALFORMED, "message has neither a digest nor a key field");
        ak_status_t st = ak_digest_compute(rec->set.data, rec->set.len, &rec->key, rec->digest, err);
        if (st != AK_OK)
            return st;
        rec->has_digest = true;
    }
    return AK_OK;
}

static ak_status_t ak_record_take_ops(const ak_msg_t *msg, ak_arena_t *arena, ak_record_t *rec,
                                      ak_error_t *err)
{
    uint32_t n_bins = 0;
    for (uint16_t i = 0; i < msg->header.n_ops; i++) {
        const ak_msg_op_t *op = &msg->ops[i];
        switch (op->op_type) {
        case AK_OP_READ:
        case AK_OP_WRITE:
            n_bins++;
            break;
        case AK_OP_DELETE:
            if (rec->op == AK_RECORD_WRITE)
                rec->op = AK_RECORD_DELETE;
            break;
        default:
            return ak_error_at(err, AK_ERR_UNSUPPORTED, op->offset,
                               "op %u is a %s op; a record change carries write ops only", i + 1,
                               ak_op_type_name(op->op_type));
        }
    }
    if (n_bins == 0)
        return AK_OK;
    rec->bins = ak_arena_alloc_array(arena, n_bins, sizeof *rec->bins);
    if (!rec->bins)
        return ak_error_set(err, AK_ERR_NOMEM, "no memory for %u bins", n_bins);
    uint32_t k = 0;
    for (uint16_t i = 0; i < msg->header.n_ops; i++) {
        const ak_msg_op_t *op = &msg->ops[i];
        if (op->op_type != AK_OP_READ && op->op_type != AK_OP_WRITE)
            continue;
        ak_bin_t *bin = &rec->bins[k++];
        bin->name.data = (const char *)op->name;
        bin->name.len = op->name_len;
        bin->has_lut = op->has_lut;
        if (op->has_lut) {
            if (op->lut > UINT64_MAX - AK_CITRUSLEAF_EPOCH_MS)
                return ak_error_at(err, AK_ERR_MALFORMED, op->offset, "bin lut out of range");
            bin->lut_ms = op->lut + AK_CITRUSLEAF_EPOCH_MS;
        }
        ak_status_t st = ak_particle_decode(op->particle_type, op->value, op->value_len,
                                            op->value_offset, arena, &bin->value, err);
        if (st != AK_OK) {
            ak_error_prefix(err, "bin '%.*s'", (int)op->name_len, (const char *)op->name);
            return st;
        }
    }
    rec->n_bins = n_bins;
    return AK_OK;
}

ak_status_t ak_record_from_msg(const ak_msg_t *msg, ak_arena_t *arena, ak_record_t *rec,
                               ak_error_t *err)
{
    ak_record_init(rec);
    const ak_msg_header_t *h = &msg->header;
    if (h->info2 & AK_INFO2_DELETE)
        rec->op = (h->info2 & AK_INFO2_DURABLE_DELETE) ? AK_RECORD_DURABLE_DELETE : AK_RECORD_DELETE;
    rec->generation = h->generation;
    rec->ttl = h->record_ttl;
    rec->exists_action = ak_record_exists_from_bits(h->info2, h->info3);
    rec->generation_policy = (h->info2 & AK_INFO2_GENERATION)      ? AK_GEN_EQ
                             : (h->info2 & AK_INFO2_GENERATION_GT) ? AK_GEN_GT
                                                                   : AK_GEN_NONE;
    rec->commit_level = (h->info3 & AK_INFO3_COMMIT_MASTER) ? AK_COMMIT_MASTER : AK_COMMIT_ALL;
    rec->xdr = (h->info1 & AK_INFO1_XDR) != 0;

    ak_status_t st = ak_record_take_fields(msg, arena, rec, err);
    if (st != AK_OK)
        return st;
    if ((st = ak_record_take_ops(msg, arena, rec, err)) != AK_OK)
        return st;
    if (rec->op != AK_RECORD_WRITE && rec->n_bins)
        return ak_error_set(err, AK_ERR_MALFORMED, "a delete carries %u bins", rec->n_bins);
    return AK_OK;
}

ak_status_t ak_record_to_msg(const ak_record_t *rec, uint32_t transaction_ttl, ak_buf_t *out,
                             ak_error_t *err)
{
    ak_msg_header_t h = {0};
    h.info1 = rec->xdr ? AK_INFO1_XDR : 0;
    h.info2 = AK_INFO2_WRITE;
    if (rec->op != AK_RECORD_WRITE)
        h.info2 |= AK_INFO2_DELETE;
    if (rec->op == AK_RECORD_DURABLE_DELETE)
        h.info2 |= AK_INFO2_DURABLE_DELETE;
    switch (rec->exists_action) {
    case AK_EXISTS_UPDATE: break;
    case AK_EXISTS_UPDATE_ONLY: h.info3 |= AK_INFO3_UPDATE_ONLY; break;
    case AK_EXISTS_REPLACE: h.info3 |= AK_INFO3_CREATE_OR_REPLACE; break;
    case AK_EXISTS_REPLACE_ONLY: h.info3 |= AK_INFO3_REPLACE_ONLY; break;
    case AK_EXISTS_CREATE_ONLY: h.info2 |= AK_INFO2_CREATE_ONLY; break;
    }
    if (rec->generation_policy == AK_GEN_EQ)
        h.info2 |= AK_INFO2_GENERATION;
    else if (rec->generation_policy == AK_GEN_GT)
        h.info2 |= AK_INFO2_GENERATION_GT;
    if (rec->commit_level == AK_COMMIT_MASTER)
        h.info3 |= AK_INFO3_COMMIT_MASTER;
    h.generation = rec->generation;
    h.record_ttl = rec->ttl;
    h.transaction_ttl = transaction_ttl;

    if (rec->ns.len == 0 || rec->ns.len > AK_NAMESPACE_MAX)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "namespace of %zu bytes (must be 1..%d)",
                            rec->ns.len, AK_NAMESPACE_MAX);
    if (rec->set.len > AK_SET_MAX)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "set name of %zu bytes (at most %d)",
                            rec->set.len, AK_SET_MAX);

    uint8_t digest[AK_DIGEST_SIZE];
    if (rec->has_digest) {
        memcpy(digest, rec->digest, sizeof digest);
    } else if (rec->has_key) {
        ak_status_t st = ak_digest_compute(rec->set.data, rec->set.len, &rec->key, digest, err);
        if (st != AK_OK)
            return st;
    } else {
        return ak_error_set(err, AK_ERR_INVALID_ARG, "record has neither a digest nor a key");
    }

    size_t start = out->len;
    ak_msg_builder_t b;
    ak_msg_begin(&b, out, &h);
    ak_msg_add_field(&b, AK_FIELD_NAMESPACE, rec->ns.data, rec->ns.len);
    if (rec->set.len)
        ak_msg_add_field(&b, AK_FIELD_SET, rec->set.data, rec->set.len);
    ak_msg_add_field(&b, AK_FIELD_DIGEST, digest, sizeof digest);
    if (rec->has_key) {
        uint8_t scratch[8];
        uint8_t type = 0;
        const uint8_t *bytes = NULL;
        size_t len = 0;
        ak_status_t st = ak_key_bytes(&rec->key, &type, &bytes, &len, scratch, err);
        if (st != AK_OK) {
            out->len = start;
            return st;
        }
        ak_msg_add_field_prefixed(&b, AK_FIELD_KEY, type, bytes, len);
    }
    if (rec->has_lut) {
        if (rec->lut_ms < (uint64_t)AK_CITRUSLEAF_EPOCH_MS) {
            out->len = start;
            return ak_error_set(err, AK_ERR_INVALID_ARG,
                                "last-update time %llu ms is before 2010-01-01",
                                (unsigned long long)rec->lut_ms);
        }
        ak_msg_add_field_u64(&b, AK_FIELD_LUT, rec->lut_ms - AK_CITRUSLEAF_EPOCH_MS);
    }
    for (uint32_t i = 0; i < rec->n_other_fields; i++)
        ak_msg_add_field(&b, rec->other_fields[i].type, rec->other_fields[i].data,
                         rec->other_fields[i].len);

    if (rec->op == AK_RECORD_WRITE) {
        for (uint32_t i = 0; i < rec->n_bins; i++) {
            const ak_bin_t *bin = &rec->bins[i];
            ak_status_t st;
            if (bin->has_lut) {
                if (bin->lut_ms < (uint64_t)AK_CITRUSLEAF_EPOCH_MS) {
                    out->len = start;
                    return ak_error_set(err, AK_ERR_INVALID_ARG, "bin '%.*s' lut before 2010",
                                        (int)bin->name.len, bin->name.data);
                }
                st = ak_msg_add_op_value_lut(&b, AK_OP_WRITE, bin->name.data, bin->name.len,
                                             bin->lut_ms - AK_CITRUSLEAF_EPOCH_MS, &bin->value, err);
            } else {
                st = ak_msg_add_op_value(&b, AK_OP_WRITE, bin->name.data, bin->name.len,
                                         &bin->value, err);
            }
            if (st != AK_OK) {
                ak_error_prefix(err, "bin '%.*s'", (int)bin->name.len, bin->name.data);
                out->len = start;
                return st;
            }
        }
    }
    ak_status_t st = ak_msg_end(&b, err);
    if (st != AK_OK)
        out->len = start;
    return st;
}
