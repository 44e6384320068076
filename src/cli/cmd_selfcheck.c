/*
 * aerokafka selfcheck: proves the codec on this machine without any server.
 * Encodes a record holding every value type, decodes it back (plain and
 * compressed) and compares, checks official digest vectors, and prints the
 * decoded message as `wire decode` would.
 */
#include <stdio.h>
#include <string.h>

#include "cli/ak_cli.h"
#include "common/ak_arena.h"
#include "wire/ak_compress.h"
#include "wire/ak_digest.h"
#include "wire/ak_msg.h"
#include "wire/ak_proto.h"
#include "wire/ak_record.h"

typedef struct ak_check_run {
    int passed;
    int failed;
} ak_check_run_t;

static void ak_check(ak_check_run_t *run, bool ok, const char *what)
{
    printf("  %s  %s\n", ok ? "ok  " : "FAIL", what);
    if (ok)
        run->passed++;
    else
        run->failed++;
}

/* Official vectors from Aerospike's Go client tests (set "set"). */
static void ak_check_digests(ak_check_run_t *run)
{
    static const struct {
        int is_int;
        long long n;
        const char *s;
        const char *hex;
    } vectors[] = {
        {1, 0, NULL, "93d943aae37b017ad7e011b0c1d2e2143c2fb37d"},
        {1, -1, NULL, "22116d253745e29fc63fdf760b6e26f7e197e01d"},
        {0, 0, "", "2819b1ff6e346a43b4f5f6b77a88bc3eaac22a83"},
        {0, 0, "s", "607cddba7cd111745ef0a3d783d57f0e83c8f311"},
        {0, 0, "aaaaaaaaaa", "5979fb32a80da070ff356f7695455592272e36c2"},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        ak_value_t key = vectors[i].is_int ? ak_value_int(vectors[i].n) : ak_value_string(vectors[i].s);
        uint8_t digest[AK_DIGEST_SIZE];
        char hex[41], what[128];
        bool ok = ak_digest_compute("set", 3, &key, digest, NULL) == AK_OK;
        ak_digest_to_hex(digest, hex);
        ok = ok && strcmp(hex, vectors[i].hex) == 0;
        if (vectors[i].is_int)
            snprintf(what, sizeof what, "digest of int key %lld = %s", vectors[i].n, vectors[i].hex);
        else
            snprintf(what, sizeof what, "digest of string key \"%s\" = %s", vectors[i].s, vectors[i].hex);
        ak_check(run, ok, what);
    }
}

int ak_cmd_selfcheck(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: aerokafka selfcheck\n\nRuns the built-in codec self-check and prints each check.\n");
        return 0;
    }
    ak_check_run_t run = {0, 0};
    printf("aerokafka %s codec self-check\n", AK_VERSION);
    ak_check_digests(&run);

    /* A record change holding every value type, nested three levels. */
    static const uint8_t blob[] = {0xde, 0xad, 0xbe, 0xef};
    static const uint8_t hll[] = {0x00, 0x0e, 0x05, 0x01};
    static const char ak_geo_point[] = "{\"type\":\"Point\",\"coordinates\":[1.5,2.5]}";
    ak_value_t inner_list[] = {ak_value_int(1), ak_value_string("two"), ak_value_double(3.5)};
    ak_value_t inner_map[] = {ak_value_string("nested"), ak_value_list(inner_list, 3),
                              ak_value_int(7), ak_value_bool(true)};
    ak_value_t outer_list[] = {ak_value_map(inner_map, 2, 1), ak_value_nil(),
                               ak_value_bytes_of(AK_VALUE_BYTES, 7, blob, sizeof blob)};
    ak_bin_t bins[] = {
        {{"int", 3}, ak_value_int(-42), false, 0},
        {{"double", 6}, ak_value_double(2.718281828), false, 0},
        {{"string", 6}, ak_value_string("héllo wörld"), false, 0},
        {{"blob", 4}, ak_value_blob(blob, sizeof blob), false, 0},
        {{"java", 4}, ak_value_bytes_of(AK_VALUE_BYTES, 7, blob, sizeof blob), false, 0},
        {{"bool", 4}, ak_value_bool(true), false, 0},
        {{"hll", 3}, ak_value_bytes_of(AK_VALUE_HLL, 18, hll, sizeof hll), false, 0},
        {{"geo", 3}, ak_value_bytes_of(AK_VALUE_GEOJSON, 23, ak_geo_point, strlen(ak_geo_point)), false, 0},
        {{"list", 4}, ak_value_list(outer_list, 3), false, 0},
        {{"map", 3}, ak_value_map(inner_map, 2, 0), false, 0},
    };
    ak_record_t rec;
    ak_record_init(&rec);
    rec.ns = (ak_str_t){"test", 4};
    rec.set = (ak_str_t){"demo", 4};
    rec.has_key = true;
    rec.key = ak_value_string("k1");
    rec.has_digest = ak_digest_compute("demo", 4, &rec.key, rec.digest, NULL) == AK_OK;
    rec.generation = 3;
    rec.ttl = 3600;
    rec.has_lut = true;
    rec.lut_ms = 1764000000123ULL;
    rec.xdr = true;
    rec.bins = bins;
    rec.n_bins = sizeof bins / sizeof bins[0];

    ak_buf_t frame, inflated, compressed;
    ak_buf_init(&frame);
    ak_buf_init(&inflated);
    ak_buf_init(&compressed);
    ak_arena_t arena;
    ak_arena_init(&arena, 4096);
    ak_error_t err;
    ak_msg_t msg;
    ak_record_t back;

    bool encoded = ak_record_to_msg(&rec, 1000, &frame, &err) == AK_OK;
    ak_check(&run, encoded, "encode a write of every value type");
    bool decoded = encoded &&
                   ak_msg_parse(frame.data + AK_PROTO_HEADER_SIZE, frame.len - AK_PROTO_HEADER_SIZE,
                                AK_PROTO_HEADER_SIZE, &arena, &msg, &err) == AK_OK &&
                   ak_record_from_msg(&msg, &arena, &back, &err) == AK_OK;
    ak_check(&run, decoded && ak_record_equal(&rec, &back), "decode it back to the same record");
    ak_check(&run, decoded && memcmp(back.digest, "\xb7\x47\xf5\x85", 4) == 0,
             "digest of (demo, \"k1\") = b747f585...");

    bool zipped = encoded && ak_compress_encode(frame.data, frame.len, 1, &compressed, &err) == AK_OK &&
                  ak_compress_decode(compressed.data + AK_PROTO_HEADER_SIZE,
                                     compressed.len - AK_PROTO_HEADER_SIZE, AK_PROTO_HEADER_SIZE,
                                     &inflated, &err) == AK_OK;
    ak_check(&run, zipped && inflated.len == frame.len && memcmp(inflated.data, frame.data, frame.len) == 0,
             "compress and inflate a frame (type 4)");

    ak_record_t del;
    ak_record_init(&del);
    del.op = AK_RECORD_DURABLE_DELETE;
    del.ns = rec.ns;
    del.set = rec.set;
    del.has_key = true;
    del.key = ak_value_int(99);
    size_t del_start = frame.len;
    ak_arena_reset(&arena);
    bool del_ok = ak_record_to_msg(&del, 1000, &frame, &err) == AK_OK &&
                  ak_msg_parse(frame.data + del_start + AK_PROTO_HEADER_SIZE,
                               frame.len - del_start - AK_PROTO_HEADER_SIZE, AK_PROTO_HEADER_SIZE,
                               &arena, &msg, &err) == AK_OK &&
                  ak_record_from_msg(&msg, &arena, &back, &err) == AK_OK &&
                  back.op == AK_RECORD_DURABLE_DELETE && back.n_bins == 0;
    ak_check(&run, del_ok, "encode and decode a durable delete");

    /* A frame cut anywhere must be refused, never misread. */
    bool all_refused = true;
    for (size_t cut = 0; encoded && cut < del_start; cut++) {
        ak_frame_t fr;
        size_t consumed;
        if (ak_frame_next(frame.data, cut, 0, &fr, &consumed, &err) != AK_FRAME_NEED_MORE)
            all_refused = false;
        if (cut > AK_PROTO_HEADER_SIZE) {
            ak_arena_reset(&arena);
            if (ak_msg_parse(frame.data + AK_PROTO_HEADER_SIZE, cut - AK_PROTO_HEADER_SIZE,
                             AK_PROTO_HEADER_SIZE, &arena, &msg, &err) == AK_OK)
                all_refused = false;
        }
    }
    ak_check(&run, all_refused, "refuse the frame truncated at every offset");

    if (encoded) {
        printf("\nthe sample write and delete, as `aerokafka wire decode` prints them:\n");
        fflush(stdout);
        ak_cli_decode_frames(frame.data, frame.len);
    }
    printf("\n%d passed, %d failed\n", run.passed, run.failed);

    ak_arena_destroy(&arena);
    ak_buf_free(&frame);
    ak_buf_free(&inflated);
    ak_buf_free(&compressed);
    return run.failed ? 1 : 0;
}
