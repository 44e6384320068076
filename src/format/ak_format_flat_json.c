/*
 * flat-json (spec outbound.md §3.3): one property per bin, no type tags,
 * the metadata in an object named by metadata-key, fields in the order of
 * the real connector's output:
 *
 *   {"metadata":{"namespace":"test","set":"demo","userKey":123,
 *    "digest":"WVp7Y+sYXb69hCVTpEgCsaMOwVk=","msg":"write","gen":1,
 *    "lut":1698586936461,"exp":1701178936},"tval":"test-value-ankush-first"}
 *
 * Absent values (no set, no user key, LUT or expiry not shipped) are left
 * out; a delete has no "exp" and carries "durable":true only when durable
 * (the observed nsup delete, which is not durable, has no "durable").
 *
 * This is the benchmark format: everything is written straight into the
 * output buffer, no intermediate tree.
 */
#include <string.h>

#include "format/ak_format_internal.h"

ak_status_t ak_format_flat_json_write(const ak_formatter_t *fmt, const ak_format_input_t *in,
                                      const uint8_t digest[20], ak_buf_t *out, ak_error_t *err)
{
    const ak_record_t *rec = in->rec;
    /* Worst-case-free estimate so the common record needs one reservation. */
    ak_buf_reserve(out, 160 + fmt->metadata_key_len + rec->ns.len + rec->set.len);
    ak_flat_json_prefix_t *prefix = fmt->prefix;
    if (prefix && prefix->valid && prefix->ns_len == rec->ns.len && prefix->set_len == rec->set.len &&
        (rec->ns.len == 0 || memcmp(prefix->ns, rec->ns.data, rec->ns.len) == 0) &&
        (rec->set.len == 0 || memcmp(prefix->set, rec->set.data, rec->set.len) == 0)) {
        ak_json_raw(out, (const char *)prefix->text.data, prefix->text.len);
    } else {
        size_t start = out->len;
        ak_json_char(out, '{');
        ak_json_string(out, fmt->metadata_key, fmt->metadata_key_len);
        AK_JSON_LIT(out, ":{\"namespace\":");
        ak_json_string(out, rec->ns.data, rec->ns.len);
        if (rec->set.len) {
            AK_JSON_LIT(out, ",\"set\":");
            ak_json_string(out, rec->set.data, rec->set.len);
        }
        /* kept for the next records of this namespace and set */
        if (prefix && !ak_buf_failed(out) && rec->ns.len <= sizeof prefix->ns &&
            rec->set.len <= sizeof prefix->set) {
            ak_buf_clear(&prefix->text);
            ak_buf_append(&prefix->text, out->data + start, out->len - start);
            prefix->valid = !ak_buf_failed(&prefix->text);
            prefix->ns_len = (uint8_t)rec->ns.len;
            prefix->set_len = (uint8_t)rec->set.len;
            if (rec->ns.len)
                memcpy(prefix->ns, rec->ns.data, rec->ns.len);
            if (rec->set.len)
                memcpy(prefix->set, rec->set.data, rec->set.len);
        }
    }
    if (rec->has_key) {
        const ak_value_t *k = &rec->key;
        switch ((ak_value_type_t)k->type) {
        case AK_VALUE_INT:
            AK_JSON_LIT(out, ",\"userKey\":");
            ak_json_int(out, k->u.integer);
            break;
        case AK_VALUE_DOUBLE:
            AK_JSON_LIT(out, ",\"userKey\":");
            ak_json_double(out, k->u.dbl);
            break;
        case AK_VALUE_STRING:
            AK_JSON_LIT(out, ",\"userKey\":");
            ak_json_string(out, k->u.bytes.data, k->u.bytes.len);
            break;
        case AK_VALUE_BYTES:
            AK_JSON_LIT(out, ",\"userKey\":");
            ak_json_base64(out, k->u.bytes.data, k->u.bytes.len);
            break;
        default:
            break; /* not a key type: no userKey */
        }
    }
    AK_JSON_LIT(out, ",\"digest\":");
    ak_json_base64(out, digest, 20);
    bool is_write = rec->op == AK_RECORD_WRITE;
    if (is_write)
        AK_JSON_LIT(out, ",\"msg\":\"write\",\"gen\":");
    else
        AK_JSON_LIT(out, ",\"msg\":\"delete\",\"gen\":");
    ak_json_int(out, rec->generation);
    if (rec->has_lut) {
        AK_JSON_LIT(out, ",\"lut\":");
        ak_json_int(out, (int64_t)rec->lut_ms);
    }
    if (is_write) {
        if (in->exp_s >= 0) {
            AK_JSON_LIT(out, ",\"exp\":");
            ak_json_int(out, in->exp_s);
        }
    } else if (rec->op == AK_RECORD_DURABLE_DELETE) {
        AK_JSON_LIT(out, ",\"durable\":true");
    }
    ak_json_char(out, '}');
    if (is_write) {
        for (uint32_t i = 0; i < rec->n_bins; i++) {
            const ak_bin_t *bin = &rec->bins[i];
            if (bin->name.len == fmt->metadata_key_len &&
                memcmp(bin->name.data, fmt->metadata_key, bin->name.len) == 0)
                return ak_error_set(err, AK_ERR_UNSUPPORTED,
                                    "bin '%s' has the name of metadata-key; rename the bin "
                                    "(bin-transforms) or choose another metadata-key",
                                    fmt->metadata_key);
            ak_json_char(out, ',');
            ak_json_key(fmt->keys, out, bin->name.data, bin->name.len);
            ak_status_t st = ak_json_value(fmt, out, &bin->value, bin, 0, err);
            if (st != AK_OK)
                return st;
        }
    }
    ak_json_char(out, '}');
    return AK_OK;
}
