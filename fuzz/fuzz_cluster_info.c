/*
 * libFuzzer harness for the client's parsers of the info answers that
 * shape its cluster view (client/ak_client_parse.h): `replicas` (and
 * `replicas-all`, `replicas:max=N`) and `peers-clear-std` /
 * `peers-tls-std`. The input is an info answer body ("name\tvalue\n"...,
 * as a node sends it); each value is given to the parser its name selects,
 * and the whole input to both parsers as a raw value too.
 *
 * Checked: every refusal says why and names an offset inside the value;
 * the readers always move forward; what they accept is within the limits
 * the tend relies on (namespace names of 1..31 bytes, at most 4 bitmaps,
 * usable peers with a name, a host and a port of 1..65535); and what they
 * accept survives being written out in the server's format and read again
 * unchanged.
 *
 *   ./build.sh fuzz 600 cluster_info
 */
#include <nettle/base64.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/ak_client_parse.h"
#include "common/ak_buf.h"
#include "wire/ak_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ak_fuzz_check_error(const ak_error_t *err, size_t len)
{
    if (!err->message[0] || !err->has_offset || err->offset > len)
        abort();
}

static void ak_fuzz_append_bitmap(ak_buf_t *out, const uint8_t bitmap[AK_CLIENT_BITMAP_BYTES])
{
    char b64[BASE64_ENCODE_RAW_LENGTH(AK_CLIENT_BITMAP_BYTES)];
    base64_encode_raw(b64, AK_CLIENT_BITMAP_BYTES, bitmap);
    ak_buf_append(out, b64, sizeof b64);
}

/* An accepted entry that lists no more bitmaps than were decoded, written
 * back in its own form, must read back the same. */
static void ak_fuzz_replicas_round_trip(const ak_client_replicas_entry_t *entry)
{
    if (entry->count > AK_CLIENT_MAX_REPLICAS)
        return;
    ak_buf_t text;
    ak_buf_init(&text);
    char head[96];
    int n = entry->has_regime ? snprintf(head, sizeof head, "%s:%u,%lld", entry->ns, entry->regime, entry->count)
                              : snprintf(head, sizeof head, "%s:%lld", entry->ns, entry->count);
    ak_buf_append(&text, head, (size_t)n);
    for (int r = 0; r < entry->n_bitmaps; r++) {
        ak_buf_append_byte(&text, ',');
        ak_fuzz_append_bitmap(&text, entry->bitmaps[r]);
    }
    ak_client_replicas_reader_t reader;
    ak_client_replicas_reader_init(&reader, (const char *)text.data, text.len);
    ak_client_replicas_entry_t *again = malloc(sizeof *again);
    ak_error_t err;
    if (!again || ak_client_replicas_next(&reader, again, &err) != 1 || strcmp(again->ns, entry->ns) != 0 ||
        again->has_regime != entry->has_regime || again->regime != entry->regime || again->count != entry->count ||
        again->n_bitmaps != entry->n_bitmaps ||
        memcmp(again->bitmaps, entry->bitmaps, (size_t)entry->n_bitmaps * AK_CLIENT_BITMAP_BYTES) != 0 ||
        ak_client_replicas_next(&reader, again, &err) != 0)
        abort();
    free(again);
    ak_buf_free(&text);
}

static void ak_fuzz_replicas(const char *value, size_t len)
{
    ak_client_replicas_reader_t reader;
    ak_client_replicas_reader_init(&reader, value, len);
    ak_client_replicas_entry_t *entry = malloc(sizeof *entry);
    if (!entry)
        return;
    ak_error_t err;
    for (;;) {
        size_t before = reader.pos;
        int got = ak_client_replicas_next(&reader, entry, &err);
        if (reader.pos > len)
            abort();
        if (got == 0)
            break;
        if (got < 0) {
            ak_fuzz_check_error(&err, len);
            if (ak_client_replicas_next(&reader, entry, &err) != 0)
                abort(); /* nothing is read after a malformed entry */
            break;
        }
        size_t ns_len = strlen(entry->ns);
        if (reader.pos <= before || ns_len == 0 || ns_len > AK_NAMESPACE_MAX || strpbrk(entry->ns, ":;") ||
            entry->count < 0 || entry->n_bitmaps < 0 || entry->n_bitmaps > AK_CLIENT_MAX_REPLICAS ||
            entry->n_bitmaps != (entry->count < AK_CLIENT_MAX_REPLICAS ? entry->count : AK_CLIENT_MAX_REPLICAS))
            abort();
        ak_fuzz_replicas_round_trip(entry);
    }
    free(entry);
}

/* Hosts and names the server's format can carry back unchanged. */
static bool ak_fuzz_plain(const char *s, const char *allowed_extra)
{
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
            !strchr(".-_", *s) && !strchr(allowed_extra, *s))
            return false;
    return true;
}

static void ak_fuzz_peer_round_trip(const ak_client_peer_t *peer)
{
    if (!ak_fuzz_plain(peer->name, "") || !ak_fuzz_plain(peer->tls_name, "") || !ak_fuzz_plain(peer->host, ":"))
        return;
    char text[700];
    bool v6 = strchr(peer->host, ':') != NULL;
    /* The port as the list's default, as the server writes hosts on its
     * default port: a host of 255 bytes then still fits. */
    snprintf(text, sizeof text, "9,%lld,[[%s,%s,[%s%s%s]]]", peer->port, peer->name, peer->tls_name,
             v6 ? "[" : "", peer->host, v6 ? "]" : "");
    ak_client_peers_reader_t reader;
    ak_client_peer_t again;
    ak_error_t err;
    if (ak_client_peers_begin(&reader, text, strlen(text), &err) != AK_OK ||
        ak_client_peers_next(&reader, &again, &err) != 1 || !again.usable || strcmp(again.name, peer->name) != 0 ||
        strcmp(again.tls_name, peer->tls_name) != 0 || strcmp(again.host, peer->host) != 0 ||
        again.port != peer->port || ak_client_peers_next(&reader, &again, &err) != 0)
        abort();
}

static void ak_fuzz_peers(const char *value, size_t len)
{
    ak_client_peers_reader_t reader;
    ak_error_t err;
    if (ak_client_peers_begin(&reader, value, len, &err) != AK_OK) {
        ak_fuzz_check_error(&err, len);
        return;
    }
    ak_client_peer_t peer;
    for (;;) {
        size_t before = reader.pos;
        int got = ak_client_peers_next(&reader, &peer, &err);
        if (reader.pos > len)
            abort();
        if (got == 0)
            break;
        if (got < 0) {
            ak_fuzz_check_error(&err, len);
            if (ak_client_peers_next(&reader, &peer, &err) != 0)
                abort();
            break;
        }
        if (reader.pos <= before)
            abort();
        if (!peer.usable)
            continue;
        size_t name_len = strlen(peer.name);
        if (name_len == 0 || name_len >= sizeof peer.name || !peer.host[0] || peer.port < 1 || peer.port > 65535)
            abort();
        ak_fuzz_peer_round_trip(&peer);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ak_info_iter_t iter;
    ak_info_pair_t pair;
    ak_info_iter_init(&iter, text, size);
    while (ak_info_iter_next(&iter, &pair)) {
        if (pair.name_len >= 8 && memcmp(pair.name, "replicas", 8) == 0)
            ak_fuzz_replicas(pair.value, pair.value_len);
        else if (pair.name_len >= 6 && memcmp(pair.name, "peers-", 6) == 0)
            ak_fuzz_peers(pair.value, pair.value_len);
    }
    ak_fuzz_replicas(text, size);
    ak_fuzz_peers(text, size);
    return 0;
}
