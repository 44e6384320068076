/*
 * The client's parsers of `replicas` and `peers-*-std` answers
 * (client/ak_client_parse.h): what the tend learns the cluster from. Valid
 * answers as aerospike-dev and the server send them, and malformed ones
 * refused with the byte offset of the fault.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <nettle/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ak_test_util.h"
#include "client/ak_client_parse.h"
#include "common/ak_buf.h"

#define AKT_B64 BASE64_ENCODE_RAW_LENGTH(AK_CLIENT_BITMAP_BYTES)

/* Base64 of a bitmap owning the partitions p with p % every == rest. */
static void akt_bitmap_b64(char out[AKT_B64 + 1], uint32_t every, uint32_t rest)
{
    uint8_t bits[AK_CLIENT_BITMAP_BYTES] = {0};
    for (uint32_t pid = 0; pid < AK_PARTITION_COUNT; pid++)
        if (pid % every == rest)
            bits[pid >> 3] |= (uint8_t)(0x80u >> (pid & 7));
    base64_encode_raw(out, sizeof bits, bits);
    out[AKT_B64] = '\0';
}

static ak_client_replicas_entry_t *akt_entry(void)
{
    ak_client_replicas_entry_t *entry = calloc(1, sizeof *entry);
    assert_non_null(entry);
    return entry;
}

/* Reads the one malformed entry text must have; returns the error. */
static ak_error_t akt_replicas_refused(const char *text)
{
    ak_client_replicas_reader_t reader;
    ak_client_replicas_reader_init(&reader, text, strlen(text));
    ak_client_replicas_entry_t *entry = akt_entry();
    ak_error_t err;
    akt_error_reset(&err);
    int got;
    while ((got = ak_client_replicas_next(&reader, entry, &err)) == 1)
        ;
    if (got != -1)
        fail_msg("replicas '%.80s' accepted", text);
    assert_true(err.has_offset);
    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), 0); /* nothing read after it */
    free(entry);
    return err;
}

/* ---- replicas ---------------------------------------------------------- */

static void test_replicas_with_regime_gives_each_namespace_its_bitmaps(void **state)
{
    (void)state;
    char thirds[AKT_B64 + 1], rest[AKT_B64 + 1], all[AKT_B64 + 1];
    akt_bitmap_b64(thirds, 3, 0);
    akt_bitmap_b64(rest, 3, 1);
    akt_bitmap_b64(all, 1, 0);
    char text[4096];
    snprintf(text, sizeof text, "test:7,2,%s,%s;bar:3,1,%s", thirds, rest, all);
    ak_client_replicas_reader_t reader;
    ak_client_replicas_reader_init(&reader, text, strlen(text));
    ak_client_replicas_entry_t *entry = akt_entry();
    ak_error_t err;

    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), 1);
    assert_string_equal(entry->ns, "test");
    assert_true(entry->has_regime);
    assert_int_equal(entry->regime, 7);
    assert_int_equal(entry->count, 2);
    assert_int_equal(entry->n_bitmaps, 2);
    assert_true(ak_client_bitmap_has(entry->bitmaps[0], 0));
    assert_true(ak_client_bitmap_has(entry->bitmaps[0], 4095));
    assert_false(ak_client_bitmap_has(entry->bitmaps[0], 1));
    assert_true(ak_client_bitmap_has(entry->bitmaps[1], 1));
    assert_false(ak_client_bitmap_has(entry->bitmaps[1], 2));

    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), 1);
    assert_string_equal(entry->ns, "bar");
    assert_int_equal(entry->regime, 3);
    assert_int_equal(entry->n_bitmaps, 1);
    for (uint32_t pid = 0; pid < AK_PARTITION_COUNT; pid++)
        assert_true(ak_client_bitmap_has(entry->bitmaps[0], pid));

    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), 0);
    free(entry);
}

static void test_replicas_older_form_without_regime_and_empty_entries(void **state)
{
    (void)state;
    char all[AKT_B64 + 1];
    akt_bitmap_b64(all, 1, 0);
    char text[2048];
    snprintf(text, sizeof text, ";test:1,%s;;bar:0;", all);
    ak_client_replicas_reader_t reader;
    ak_client_replicas_reader_init(&reader, text, strlen(text));
    ak_client_replicas_entry_t *entry = akt_entry();
    ak_error_t err;
    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), 1);
    assert_string_equal(entry->ns, "test");
    assert_false(entry->has_regime);
    assert_int_equal(entry->regime, 0);
    assert_int_equal(entry->n_bitmaps, 1);
    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), 1);
    assert_string_equal(entry->ns, "bar");
    assert_int_equal(entry->count, 0);
    assert_int_equal(entry->n_bitmaps, 0);
    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), 0);
    free(entry);
}

static void test_replicas_beyond_four_are_listed_but_not_decoded(void **state)
{
    (void)state;
    char b[AKT_B64 + 1];
    akt_bitmap_b64(b, 5, 0);
    ak_buf_t text;
    ak_buf_init(&text);
    ak_buf_append_str(&text, "big:1,5");
    for (int r = 0; r < 4; r++) {
        ak_buf_append_byte(&text, ',');
        ak_buf_append_str(&text, b);
    }
    ak_buf_append_str(&text, ",not-even-base64"); /* the fifth is never routed to */
    ak_client_replicas_reader_t reader;
    ak_client_replicas_reader_init(&reader, (const char *)text.data, text.len);
    ak_client_replicas_entry_t *entry = akt_entry();
    ak_error_t err;
    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), 1);
    assert_int_equal(entry->count, 5);
    assert_int_equal(entry->n_bitmaps, AK_CLIENT_MAX_REPLICAS);
    assert_true(ak_client_bitmap_has(entry->bitmaps[3], 5));
    free(entry);
    ak_buf_free(&text);
}

static void test_replicas_reads_only_its_length(void **state)
{
    (void)state;
    char all[AKT_B64 + 1];
    akt_bitmap_b64(all, 1, 0);
    char text[2048];
    /* The value is followed by more of the info answer, not a NUL. */
    int n = snprintf(text, sizeof text, "test:0,1,%s\npeers-generation\t3\n", all);
    size_t value_len = (size_t)n - strlen("\npeers-generation\t3\n");
    ak_client_replicas_reader_t reader;
    ak_client_replicas_reader_init(&reader, text, value_len);
    ak_client_replicas_entry_t *entry = akt_entry();
    ak_error_t err;
    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), 1);
    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), 0);
    free(entry);
}

static void test_replicas_malformed_answers_name_the_offset(void **state)
{
    (void)state;
    char all[AKT_B64 + 1];
    akt_bitmap_b64(all, 1, 0);
    char text[2048];

    snprintf(text, sizeof text, "test:0,1,%s;bar", all);
    ak_error_t err = akt_replicas_refused(text);
    assert_int_equal(err.offset, 9 + AKT_B64 + 1);
    assert_non_null(strstr(err.message, "replicas entry 'bar' has no ':'"));

    err = akt_replicas_refused("test:0,3,AAAA");
    assert_int_equal(err.offset, 5);
    assert_non_null(strstr(err.message, "counts do not match its 3 parts"));

    err = akt_replicas_refused("test:0,-1");
    assert_non_null(strstr(err.message, "counts do not match"));

    err = akt_replicas_refused("test:0,1,AAAA");
    assert_int_equal(err.offset, 9);
    assert_non_null(strstr(err.message, "replicas bitmap 0 of 'test' is not 512 bytes of base64 (4 characters)"));

    snprintf(text, sizeof text, "%s:0,1,%s", "n23456789012345678901234567890123", all);
    err = akt_replicas_refused(text);
    assert_int_equal(err.offset, 0);
    assert_non_null(strstr(err.message, "a namespace name has 1 to 31 bytes, this one 33"));

    snprintf(text, sizeof text, ":0,1,%s", all);
    err = akt_replicas_refused(text);
    assert_non_null(strstr(err.message, "this one 0"));

    /* A NUL byte: in a namespace name, and after a count (strtoll would
     * stop there and read "0"). */
    static const char nul_name[] = "te\0st:0";
    ak_client_replicas_reader_t reader;
    ak_client_replicas_entry_t *entry = akt_entry();
    ak_client_replicas_reader_init(&reader, nul_name, sizeof nul_name - 1);
    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), -1);
    assert_int_equal(err.offset, 2);
    assert_non_null(strstr(err.message, "a NUL byte in a namespace name"));
    static const char nul_count[] = "test:0\0junk";
    ak_client_replicas_reader_init(&reader, nul_count, sizeof nul_count - 1);
    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), -1);
    assert_non_null(strstr(err.message, "counts do not match"));
    free(entry);
}

static void test_parse_int_takes_exactly_the_span(void **state)
{
    (void)state;
    long long v = -7;
    assert_true(ak_client_parse_int("4333", 4, &v));
    assert_int_equal(v, 4333);
    assert_true(ak_client_parse_int("-12", 3, &v));
    assert_int_equal(v, -12);
    assert_true(ak_client_parse_int("123456", 3, &v)); /* the span, not the string */
    assert_int_equal(v, 123);
    v = -7;
    assert_false(ak_client_parse_int("", 0, &v));
    assert_false(ak_client_parse_int("12a", 3, &v));
    assert_false(ak_client_parse_int("1\0" "2", 3, &v));
    assert_false(ak_client_parse_int("12345678901234567890123456789012", 32, &v));
    assert_int_equal(v, -7);
}

static void test_replicas_bitmap_of_684_characters_without_padding_is_refused(void **state)
{
    (void)state;
    /* 684 base64 characters with no '=' decode to 513 bytes: one more than
     * a bitmap holds. The parser must refuse it and write nothing past the
     * bitmap: the byte after bitmap 0 (bitmap 1's first) keeps its value. */
    char text[16 + AKT_B64];
    memcpy(text, "test:0,1,", 9);
    memset(text + 9, 'k', AKT_B64);
    text[9 + AKT_B64] = '\0';
    ak_client_replicas_reader_t reader;
    ak_client_replicas_reader_init(&reader, text, strlen(text));
    ak_client_replicas_entry_t *entry = akt_entry();
    memset(entry->bitmaps, 0xAA, sizeof entry->bitmaps);
    ak_error_t err;
    assert_int_equal(ak_client_replicas_next(&reader, entry, &err), -1);
    assert_int_equal(err.offset, 9);
    assert_non_null(strstr(err.message, "not 512 bytes of base64"));
    assert_int_equal(entry->bitmaps[1][0], 0xAA);
    free(entry);
}

/* ---- peers ------------------------------------------------------------- */

static void akt_peers_begin(ak_client_peers_reader_t *reader, const char *text)
{
    ak_error_t err;
    if (ak_client_peers_begin(reader, text, strlen(text), &err) != AK_OK)
        fail_msg("peers '%s' refused: %s", text, err.message);
}

static void test_peers_from_aerospike_dev(void **state)
{
    (void)state;
    /* node 1 of `aerokafka aerospike-dev --nodes 3` (default port empty) */
    const char *text = "1,,[[BB9000000090391,,[127.0.0.1:36921]],[BB90000000B5012,,[127.0.0.1:46337]]]";
    ak_client_peers_reader_t reader;
    akt_peers_begin(&reader, text);
    assert_int_equal(reader.default_port, 3000);
    ak_client_peer_t peer;
    ak_error_t err;
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 1);
    assert_true(peer.usable);
    assert_string_equal(peer.name, "BB9000000090391");
    assert_string_equal(peer.tls_name, "");
    assert_string_equal(peer.host, "127.0.0.1");
    assert_int_equal(peer.port, 36921);
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 1);
    assert_string_equal(peer.name, "BB90000000B5012");
    assert_int_equal(peer.port, 46337);
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 0);
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 0);
}

static void test_peers_tls_names_ipv6_and_default_port(void **state)
{
    (void)state;
    const char *text = "7,4333,[[A1,tls-a.example.com,[10.0.0.1,192.168.1.1:4000]],"
                       "[A2,tls-b.example.com,[[2001:db8::2]:4334]],[A3,tls-c.example.com,[[2001:db8::3]]]]";
    ak_client_peers_reader_t reader;
    akt_peers_begin(&reader, text);
    assert_int_equal(reader.default_port, 4333);
    ak_client_peer_t peer;
    ak_error_t err;
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 1);
    assert_string_equal(peer.tls_name, "tls-a.example.com");
    assert_string_equal(peer.host, "10.0.0.1"); /* the first address only */
    assert_int_equal(peer.port, 4333);          /* the list's default port */
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 1);
    assert_string_equal(peer.host, "2001:db8::2");
    assert_int_equal(peer.port, 4334);
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 1);
    assert_string_equal(peer.name, "A3");
    assert_string_equal(peer.host, "2001:db8::3");
    assert_int_equal(peer.port, 4333);
    assert_true(peer.usable);
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 0);
}

static void test_peers_empty_list(void **state)
{
    (void)state;
    ak_client_peers_reader_t reader;
    akt_peers_begin(&reader, "1,,[]");
    ak_client_peer_t peer;
    ak_error_t err;
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 0);
}

static void test_peers_unusable_entries_are_read_and_marked(void **state)
{
    (void)state;
    /* no name, port 0, a name of 32 bytes, no host, a port out of range,
     * a NUL in the name: each is skipped by the tend, the next one read. */
    static const char text[] = "3,3000,[[,,[10.0.0.1]],[B2,,[10.0.0.2:0]],[NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN,,[10.0.0.3]],"
                               "[B4,,[]],[B5,,[10.0.0.5:70000]],[B\0x,,[10.0.0.6]],[B7,,[10.0.0.7]]]";
    ak_client_peers_reader_t reader;
    ak_error_t err;
    assert_int_equal(ak_client_peers_begin(&reader, text, sizeof text - 1, &err), AK_OK);
    ak_client_peer_t peer;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 1);
        if (peer.usable)
            fail_msg("peer %d ('%s' at %s:%lld) should be unusable", i + 1, peer.name, peer.host, peer.port);
    }
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 1);
    assert_true(peer.usable);
    assert_string_equal(peer.name, "B7");
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 0);
}

static void test_peers_malformed_lists_name_the_offset(void **state)
{
    (void)state;
    ak_client_peers_reader_t reader;
    ak_client_peer_t peer;
    ak_error_t err;

    assert_int_equal(ak_client_peers_begin(&reader, "17", 2, &err), AK_ERR_MALFORMED);
    assert_non_null(strstr(err.message, "expected ',' after the generation at byte 2"));
    assert_int_equal(ak_client_peers_begin(&reader, "1,3000", 6, &err), AK_ERR_MALFORMED);
    assert_non_null(strstr(err.message, "after the default port at byte 2"));
    assert_int_equal(ak_client_peers_begin(&reader, "1,3000,x", 8, &err), AK_ERR_MALFORMED);
    assert_non_null(strstr(err.message, "expected '[' opening the peers at byte 7"));

    /* the first peer is read, the second is not closed */
    const char *text = "1,3000,[[A1,,[10.0.0.1]],[A2,,[10.0.0.2:3000";
    akt_peers_begin(&reader, text);
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 1);
    assert_string_equal(peer.name, "A1");
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), -1);
    assert_non_null(strstr(err.message, "the peer's hosts list is not closed at byte 30"));
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), 0);

    akt_peers_begin(&reader, "1,3000,[[A1,,10.0.0.1]]");
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), -1);
    assert_non_null(strstr(err.message, "expected '[' opening the peer's hosts at byte 13"));

    akt_peers_begin(&reader, "1,3000,[[A1]]");
    assert_int_equal(ak_client_peers_next(&reader, &peer, &err), -1);
    assert_non_null(strstr(err.message, "expected ',' after the peer's node name at byte 8"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replicas_with_regime_gives_each_namespace_its_bitmaps),
        cmocka_unit_test(test_replicas_older_form_without_regime_and_empty_entries),
        cmocka_unit_test(test_replicas_beyond_four_are_listed_but_not_decoded),
        cmocka_unit_test(test_replicas_reads_only_its_length),
        cmocka_unit_test(test_replicas_malformed_answers_name_the_offset),
        cmocka_unit_test(test_replicas_bitmap_of_684_characters_without_padding_is_refused),
        cmocka_unit_test(test_parse_int_takes_exactly_the_span),
        cmocka_unit_test(test_peers_from_aerospike_dev),
        cmocka_unit_test(test_peers_tls_names_ipv6_and_default_port),
        cmocka_unit_test(test_peers_empty_list),
        cmocka_unit_test(test_peers_unusable_entries_are_read_and_marked),
        cmocka_unit_test(test_peers_malformed_lists_name_the_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
