/*
 * aerokafka wire: inspection tools over the wire codec.
 *   wire digest --set SET (--int N | --string S | --bytes HEX)
 *   wire decode [--hex HEX]       (binary frames on stdin otherwise)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ak_cli.h"
#include "common/ak_arena.h"
#include "wire/ak_compress.h"
#include "wire/ak_digest.h"
#include "wire/ak_info.h"
#include "wire/ak_msg.h"
#include "wire/ak_particle.h"
#include "wire/ak_proto.h"
#include "wire/ak_record.h"
#include "wire/ak_result.h"

int ak_cli_parse_hex(const char *hex, ak_buf_t *out, char *errbuf, size_t errlen)
{
    int high = -1;
    for (size_t i = 0; hex[i]; i++) {
        char c = hex[i];
        int nibble;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':')
            continue;
        if (c >= '0' && c <= '9')
            nibble = c - '0';
        else if (c >= 'a' && c <= 'f')
            nibble = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            nibble = c - 'A' + 10;
        else {
            snprintf(errbuf, errlen, "invalid hex character '%c' at position %zu", c, i);
            return -1;
        }
        if (high < 0) {
            high = nibble;
        } else {
            ak_buf_append_byte(out, (uint8_t)(high << 4 | nibble));
            high = -1;
        }
    }
    if (high >= 0) {
        snprintf(errbuf, errlen, "odd number of hex digits");
        return -1;
    }
    return 0;
}

static json_t *ak_json_hex(const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * len + 1);
    if (!s)
        return json_null();
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[data[i] >> 4];
        s[2 * i + 1] = digits[data[i] & 0xf];
    }
    json_t *j = json_stringn(s, 2 * len);
    free(s);
    return j;
}

/* Text that may not be valid UTF-8: as a JSON string when it is, as hex
 * (under "hex") otherwise, so nothing is lost or mangled. */
static json_t *ak_json_text(const uint8_t *data, size_t len)
{
    json_t *j = json_stringn((const char *)data, len);
    if (j)
        return j;
    return json_pack("{s:o}", "hex", ak_json_hex(data, len));
}

static json_t *ak_json_plain_value(const ak_value_t *v);

static json_t *ak_json_map_key(const ak_value_t *k)
{
    return ak_json_plain_value(k);
}

/* Nested values as plain JSON: blobs as hex strings, maps with string keys
 * as objects, other maps as [[key, value], ...]. */
static json_t *ak_json_plain_value(const ak_value_t *v)
{
    switch ((ak_value_type_t)v->type) {
    case AK_VALUE_NIL: return json_null();
    case AK_VALUE_INT: return json_integer(v->u.integer);
    case AK_VALUE_DOUBLE: {
        json_t *j = json_real(v->u.dbl);
        return j ? j : json_string(v->u.dbl != v->u.dbl ? "NaN" : (v->u.dbl > 0 ? "Infinity" : "-Infinity"));
    }
    case AK_VALUE_BOOL: return json_boolean(v->u.boolean);
    case AK_VALUE_STRING:
    case AK_VALUE_GEOJSON: return ak_json_text(v->u.bytes.data, v->u.bytes.len);
    case AK_VALUE_BYTES:
    case AK_VALUE_HLL: return ak_json_hex(v->u.bytes.data, v->u.bytes.len);
    case AK_VALUE_LIST: {
        json_t *arr = json_array();
        for (uint32_t i = 0; i < v->u.list.count; i++)
            json_array_append_new(arr, ak_json_plain_value(&v->u.list.items[i]));
        return arr;
    }
    case AK_VALUE_MAP: {
        bool string_keys = true;
        for (uint32_t i = 0; i < v->u.map.count; i++)
            if (v->u.map.entries[2 * i].type != AK_VALUE_STRING)
                string_keys = false;
        if (string_keys) {
            json_t *obj = json_object();
            for (uint32_t i = 0; i < v->u.map.count; i++) {
                const ak_value_t *k = &v->u.map.entries[2 * i];
                json_object_setn_new(obj, (const char *)k->u.bytes.data, k->u.bytes.len,
                                     ak_json_plain_value(&v->u.map.entries[2 * i + 1]));
            }
            return obj;
        }
        json_t *pairs = json_array();
        for (uint32_t i = 0; i < v->u.map.count; i++)
            json_array_append_new(pairs, json_pack("[oo]", ak_json_map_key(&v->u.map.entries[2 * i]),
                                                   ak_json_plain_value(&v->u.map.entries[2 * i + 1])));
        return pairs;
    }
    }
    return json_null();
}

static json_t *ak_json_typed_value(const ak_value_t *v)
{
    json_t *obj = json_pack("{s:s}", "type", ak_value_type_name(v));
    json_object_set_new(obj, "value", ak_json_plain_value(v));
    return obj;
}

static json_t *ak_json_flags(int info_byte, uint8_t flags)
{
    const char *names[8];
    size_t n = ak_msg_info_flag_names(info_byte, flags, names);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(names[i]));
    return arr;
}

static void ak_print_json_line(json_t *obj)
{
    char *line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    if (line) {
        puts(line);
        free(line);
    }
    json_decref(obj);
}

/* Describes an AS_MSG; returns false (with err) if it cannot be parsed. */
static bool ak_json_message(const uint8_t *body, size_t len, size_t body_offset, json_t *obj,
                            ak_error_t *err)
{
    ak_arena_t arena;
    ak_arena_init(&arena, 4096);
    ak_msg_t msg;
    bool ok = false;
    if (ak_msg_parse(body, len, body_offset, &arena, &msg, err) != AK_OK)
        goto done;
    const ak_msg_header_t *h = &msg.header;
    json_object_set_new(obj, "info1", ak_json_flags(1, h->info1));
    json_object_set_new(obj, "info2", ak_json_flags(2, h->info2));
    json_object_set_new(obj, "info3", ak_json_flags(3, h->info3));
    json_object_set_new(obj, "info4", ak_json_flags(4, h->info4));
    json_object_set_new(obj, "result_code", json_integer(h->result_code));
    json_object_set_new(obj, "result", json_string(ak_result_name(h->result_code)));
    json_object_set_new(obj, "generation", json_integer(h->generation));
    json_object_set_new(obj, "ttl", json_integer(h->record_ttl));
    json_object_set_new(obj, "transaction_ttl", json_integer(h->transaction_ttl));
    json_object_set_new(obj, "n_fields", json_integer(h->n_fields));
    json_object_set_new(obj, "n_ops", json_integer(h->n_ops));

    const ak_msg_field_t *f;
    if ((f = ak_msg_find_field(&msg, AK_FIELD_NAMESPACE)))
        json_object_set_new(obj, "namespace", ak_json_text(f->data, f->len));
    if ((f = ak_msg_find_field(&msg, AK_FIELD_SET)))
        json_object_set_new(obj, "set", ak_json_text(f->data, f->len));
    if ((f = ak_msg_find_field(&msg, AK_FIELD_DIGEST))) {
        json_object_set_new(obj, "digest", ak_json_hex(f->data, f->len));
        if (f->len == AK_DIGEST_SIZE)
            json_object_set_new(obj, "partition", json_integer(ak_partition_id(f->data)));
    }
    if ((f = ak_msg_find_field(&msg, AK_FIELD_KEY)) && f->len >= 1) {
        ak_value_t key;
        ak_error_t key_err;
        if (ak_particle_decode(f->data[0], f->data + 1, f->len - 1, f->offset + 6, &arena, &key,
                               &key_err) == AK_OK)
            json_object_set_new(obj, "key", ak_json_typed_value(&key));
        else
            json_object_set_new(obj, "key", json_pack("{s:s}", "error", key_err.message));
    }
    if ((f = ak_msg_find_field(&msg, AK_FIELD_LUT)) && f->len == 8) {
        uint64_t lut = ak_get_be64(f->data);
        json_object_set_new(obj, "lut", json_integer((json_int_t)lut));
        json_object_set_new(obj, "lut_unix_ms", json_integer((json_int_t)(lut + AK_CITRUSLEAF_EPOCH_MS)));
    }
    json_t *others = json_array();
    for (uint16_t i = 0; i < h->n_fields; i++) {
        f = &msg.fields[i];
        switch (f->type) {
        case AK_FIELD_NAMESPACE: case AK_FIELD_SET: case AK_FIELD_DIGEST: case AK_FIELD_KEY:
        case AK_FIELD_LUT:
            break;
        default:
            json_array_append_new(others, json_pack("{s:i,s:s,s:o}", "type", f->type, "name",
                                                    ak_field_type_name(f->type), "data",
                                                    ak_json_hex(f->data, f->len)));
        }
    }
    if (json_array_size(others))
        json_object_set_new(obj, "fields", others);
    else
        json_decref(others);

    json_t *bins = json_array();
    for (uint16_t i = 0; i < h->n_ops; i++) {
        const ak_msg_op_t *op = &msg.ops[i];
        json_t *bin = json_object();
        json_object_set_new(bin, "op", json_string(ak_op_type_name(op->op_type)));
        json_object_set_new(bin, "name", ak_json_text(op->name, op->name_len));
        if (op->has_lut)
            json_object_set_new(bin, "lut", json_integer((json_int_t)op->lut));
        ak_value_t value;
        ak_error_t value_err;
        if (ak_particle_decode(op->particle_type, op->value, op->value_len, op->value_offset,
                               &arena, &value, &value_err) == AK_OK) {
            json_object_set_new(bin, "type", json_string(ak_value_type_name(&value)));
            json_object_set_new(bin, "value", ak_json_plain_value(&value));
        } else {
            json_object_set_new(bin, "type", json_string(ak_particle_type_name(op->particle_type)));
            json_object_set_new(bin, "error", json_string(value_err.message));
        }
        json_array_append_new(bins, bin);
    }
    json_object_set_new(obj, "bins", bins);
    ok = true;
done:
    ak_arena_destroy(&arena);
    return ok;
}

static bool ak_json_frame(const ak_frame_t *frame, json_t *obj, ak_error_t *err)
{
    const uint8_t *body = frame->body;
    size_t len = (size_t)frame->header.size;
    size_t body_offset = frame->offset + AK_PROTO_HEADER_SIZE;
    switch (frame->header.type) {
    case AK_PROTO_TYPE_INFO: {
        json_t *lines = json_array();
        ak_info_iter_t iter;
        ak_info_pair_t pair;
        ak_info_iter_init(&iter, (const char *)body, len);
        while (ak_info_iter_next(&iter, &pair))
            json_array_append_new(lines, json_pack("{s:o,s:o}", "name",
                                                   ak_json_text((const uint8_t *)pair.name, pair.name_len),
                                                   "value",
                                                   ak_json_text((const uint8_t *)pair.value, pair.value_len)));
        json_object_set_new(obj, "lines", lines);
        return true;
    }
    case AK_PROTO_TYPE_ADMIN:
        json_object_set_new(obj, "body", ak_json_hex(body, len));
        return true;
    case AK_PROTO_TYPE_COMPRESSED: {
        ak_buf_t inner;
        ak_buf_init(&inner);
        bool ok = ak_compress_decode(body, len, body_offset, &inner, err) == AK_OK &&
                  ak_json_message(inner.data + AK_PROTO_HEADER_SIZE, inner.len - AK_PROTO_HEADER_SIZE,
                                  AK_PROTO_HEADER_SIZE, obj, err);
        if (!ok && err)
            ak_error_prefix(err, "inside compressed frame");
        json_object_set_new(obj, "uncompressed_size", json_integer((json_int_t)inner.len));
        ak_buf_free(&inner);
        return ok;
    }
    default:
        return ak_json_message(body, len, body_offset, obj, err);
    }
}

size_t ak_cli_decode_frames(const uint8_t *data, size_t len)
{
    size_t pos = 0, failed = 0;
    while (pos < len) {
        ak_frame_t frame;
        size_t consumed;
        ak_error_t err;
        ak_frame_scan_t scan = ak_frame_next(data + pos, len - pos, pos, &frame, &consumed, &err);
        if (scan == AK_FRAME_NEED_MORE) {
            fprintf(stderr, "aerokafka wire decode: frame at byte %zu is truncated (%zu bytes present)\n",
                    pos, len - pos);
            return failed + 1;
        }
        if (scan == AK_FRAME_ERROR) {
            fprintf(stderr, "aerokafka wire decode: %s\n", err.message);
            return failed + 1;
        }
        json_t *obj = json_object();
        json_object_set_new(obj, "offset", json_integer((json_int_t)pos));
        json_object_set_new(obj, "proto", json_string(ak_proto_type_name(frame.header.type)));
        json_object_set_new(obj, "size", json_integer((json_int_t)frame.header.size));
        if (ak_json_frame(&frame, obj, &err)) {
            ak_print_json_line(obj);
        } else {
            json_decref(obj);
            fprintf(stderr, "aerokafka wire decode: frame at byte %zu: %s\n", pos, err.message);
            failed++;
        }
        pos += consumed;
    }
    return failed;
}

static int ak_read_all(FILE *in, ak_buf_t *out)
{
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
        ak_buf_append(out, chunk, n);
    return ferror(in) || ak_buf_failed(out) ? -1 : 0;
}

static int ak_cmd_wire_decode(int argc, char **argv)
{
    static const struct option options[] = {
        {"hex", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *hex = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "x:h", options, NULL)) != -1) {
        switch (c) {
        case 'x': hex = optarg; break;
        case 'h':
            printf("usage: aerokafka wire decode [--hex HEX]\n\n"
                   "Reads Aerospike frames (binary on stdin, or --hex) and prints each as one JSON\n"
                   "line: proto type, header fields, info flags by name, namespace, set, digest,\n"
                   "partition, user key, generation, ttl, lut, and every bin with type and value.\n"
                   "Blobs print as hex. Exits 1 if any frame fails to decode.\n");
            return 0;
        default: return 2;
        }
    }
    ak_buf_t input;
    ak_buf_init(&input);
    if (hex) {
        char msg[128];
        if (ak_cli_parse_hex(hex, &input, msg, sizeof msg) != 0) {
            fprintf(stderr, "aerokafka wire decode: --hex: %s\n", msg);
            ak_buf_free(&input);
            return 2;
        }
    } else if (ak_read_all(stdin, &input) != 0) {
        fprintf(stderr, "aerokafka wire decode: reading stdin: %s\n", strerror(errno));
        ak_buf_free(&input);
        return 1;
    }
    size_t failed = ak_cli_decode_frames(input.data, input.len);
    ak_buf_free(&input);
    return failed ? 1 : 0;
}

static int ak_cmd_wire_digest(int argc, char **argv)
{
    static const struct option options[] = {
        {"set", required_argument, NULL, 's'},
        {"int", required_argument, NULL, 'i'},
        {"string", required_argument, NULL, 'S'},
        {"bytes", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *set = "";
    int key_count = 0;
    ak_value_t key = ak_value_nil();
    ak_buf_t blob;
    ak_buf_init(&blob);
    int c, status = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 's': set = optarg; break;
        case 'i': {
            char *end;
            errno = 0;
            long long n = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg) {
                fprintf(stderr, "aerokafka wire digest: --int '%s' is not a 64-bit integer\n", optarg);
                status = 2;
                goto done;
            }
            key = ak_value_int(n);
            key_count++;
            break;
        }
        case 'S':
            key = ak_value_string(optarg);
            key_count++;
            break;
        case 'b': {
            char msg[128];
            ak_buf_clear(&blob);
            if (ak_cli_parse_hex(optarg, &blob, msg, sizeof msg) != 0) {
                fprintf(stderr, "aerokafka wire digest: --bytes: %s\n", msg);
                status = 2;
                goto done;
            }
            key_count++;
            key = ak_value_blob(blob.data, blob.len);
            break;
        }
        case 'h':
            printf("usage: aerokafka wire digest --set SET (--int N | --string S | --bytes HEX)\n\n"
                   "Prints the record key digest (40 hex digits) and its partition id.\n"
                   "--set \"\" (or no --set) means a record without a set.\n");
            return 0;
        default:
            status = 2;
            goto done;
        }
    }
    if (key_count != 1) {
        fprintf(stderr, "aerokafka wire digest: give exactly one of --int, --string, --bytes\n");
        status = 2;
        goto done;
    }
    uint8_t digest[AK_DIGEST_SIZE];
    char hex[2 * AK_DIGEST_SIZE + 1];
    ak_error_t err;
    if (ak_digest_compute(set, strlen(set), &key, digest, &err) != AK_OK) {
        fprintf(stderr, "aerokafka wire digest: %s\n", err.message);
        status = 1;
        goto done;
    }
    ak_digest_to_hex(digest, hex);
    printf("digest %s\npartition %u\n", hex, ak_partition_id(digest));
done:
    ak_buf_free(&blob);
    return status;
}

int ak_cmd_wire(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: aerokafka wire digest --set SET (--int N | --string S | --bytes HEX)\n"
                     "       aerokafka wire decode [--hex HEX]\n");
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "digest") == 0)
        return ak_cmd_wire_digest(argc - 1, argv + 1);
    if (strcmp(argv[1], "decode") == 0)
        return ak_cmd_wire_decode(argc - 1, argv + 1);
    fprintf(stderr, "aerokafka wire: unknown subcommand '%s' (digest, decode)\n", argv[1]);
    return 2;
}
