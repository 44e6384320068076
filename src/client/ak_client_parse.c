/*
 * The client's parsers of `replicas` and `peers-*-std` answers
 * (ak_client_parse.h). Pure: no client state, views stay inside the value.
 */
#include "client/ak_client_parse.h"

#include <nettle/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ak_client_parse_int(const char *s, size_t len, long long *out)
{
    char text[32];
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, s, len);
    text[len] = '\0';
    char *end;
    long long v = strtoll(text, &end, 10);
    /* the whole span: a NUL inside it must not end the number early */
    if (end != text + len)
        return false;
    *out = v;
    return true;
}

#define AK_CP_BITMAP_BASE64 BASE64_ENCODE_RAW_LENGTH(AK_CLIENT_BITMAP_BYTES) /* 684, padding included */

static bool ak_cp_decode_bitmap(const char *b64, size_t len, uint8_t bitmap[AK_CLIENT_BITMAP_BYTES])
{
    /* nettle writes up to BASE64_DECODE_LENGTH(len) bytes whatever the
     * buffer: 684 characters without padding decode to 513, one more than
     * a bitmap. Decode into room for that, then keep exactly 512. */
    uint8_t decoded[BASE64_DECODE_LENGTH(AK_CP_BITMAP_BASE64)];
    struct base64_decode_ctx ctx;
    size_t out_len = sizeof decoded;
    if (len != AK_CP_BITMAP_BASE64)
        return false;
    base64_decode_init(&ctx);
    if (!base64_decode_update(&ctx, &out_len, decoded, len, b64) || !base64_decode_final(&ctx) ||
        out_len != AK_CLIENT_BITMAP_BYTES)
        return false;
    memcpy(bitmap, decoded, AK_CLIENT_BITMAP_BYTES);
    return true;
}

/* ---- replicas ---------------------------------------------------------- */

/* Parts of one entry after "ns:": regime, count and the bitmaps routed to,
 * plus room to notice a few more than a count claims. */
#define AK_CP_MAX_PARTS (2 + AK_CLIENT_MAX_REPLICAS + 8)

void ak_client_replicas_reader_init(ak_client_replicas_reader_t *reader, const char *text, size_t len)
{
    reader->text = text;
    reader->len = len;
    reader->pos = 0;
}

/* A malformed entry: err says what and where; nothing more is read. */
static int ak_cp_replicas_fail(ak_client_replicas_reader_t *reader, ak_error_t *err, size_t offset, const char *fmt,
                               ...) __attribute__((format(printf, 4, 5)));
static int ak_cp_replicas_fail(ak_client_replicas_reader_t *reader, ak_error_t *err, size_t offset, const char *fmt,
                               ...)
{
    reader->pos = reader->len;
    if (err) {
        char what[AK_ERROR_MESSAGE_MAX - 32];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        ak_error_at(err, AK_ERR_MALFORMED, offset, "%s", what);
    }
    return -1;
}

/* At most this much of an entry is quoted in an error. */
#define AK_CP_QUOTE(len) ((int)((len) < 40 ? (len) : 40))

int ak_client_replicas_next(ak_client_replicas_reader_t *reader, ak_client_replicas_entry_t *entry,
                            ak_error_t *err)
{
    const char *value = reader->text;
    size_t len = reader->len;
    while (reader->pos < len) {
        size_t entry_at = reader->pos;
        const char *e = value + entry_at;
        const char *semi = memchr(e, ';', len - entry_at);
        size_t entry_len = semi ? (size_t)(semi - e) : len - entry_at;
        reader->pos = entry_at + entry_len + 1;
        if (reader->pos > len)
            reader->pos = len;
        if (!entry_len)
            continue;
        const char *colon = memchr(e, ':', entry_len);
        if (!colon)
            return ak_cp_replicas_fail(reader, err, entry_at, "replicas entry '%.*s' has no ':'",
                                       AK_CP_QUOTE(entry_len), e);
        size_t name_len = (size_t)(colon - e);
        if (name_len == 0 || name_len > AK_NAMESPACE_MAX)
            return ak_cp_replicas_fail(reader, err, entry_at,
                                       "replicas entry '%.*s': a namespace name has 1 to %d bytes, this one %zu",
                                       AK_CP_QUOTE(name_len), e, AK_NAMESPACE_MAX, name_len);
        const char *nul = memchr(e, '\0', name_len);
        if (nul)
            return ak_cp_replicas_fail(reader, err, (size_t)(nul - value),
                                       "replicas entry: a NUL byte in a namespace name");
        const char *parts[AK_CP_MAX_PARTS];
        size_t part_len[AK_CP_MAX_PARTS];
        size_t n_parts = 0;
        const char *p = colon + 1, *end = e + entry_len;
        while (p <= end && n_parts < AK_CP_MAX_PARTS) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma ? comma : end;
            parts[n_parts] = p;
            part_len[n_parts++] = (size_t)(stop - p);
            p = stop + 1;
            if (!comma)
                break;
        }
        long long first = 0, second = 0;
        bool ok1 = n_parts > 0 && ak_client_parse_int(parts[0], part_len[0], &first);
        bool ok2 = n_parts > 1 && ak_client_parse_int(parts[1], part_len[1], &second);
        long long regime = 0, count;
        size_t bitmaps_at;
        /* Which form: "regime,count,bitmaps" when the second number counts
         * the parts after it, else "count,bitmaps". A negative count never
         * matches (it wraps far above the parts there can be). */
        if (ok1 && ok2 && (size_t)second + 2 == n_parts) {
            regime = first;
            count = second;
            bitmaps_at = 2;
            entry->has_regime = true;
        } else if (ok1 && (size_t)first + 1 == n_parts) {
            count = first;
            bitmaps_at = 1;
            entry->has_regime = false;
        } else {
            return ak_cp_replicas_fail(reader, err, entry_at + name_len + 1,
                                       "replicas entry for '%.*s': counts do not match its %zu parts",
                                       (int)name_len, e, n_parts);
        }
        memcpy(entry->ns, e, name_len);
        entry->ns[name_len] = '\0';
        entry->regime = (uint32_t)regime;
        entry->count = count;
        /* later replicas are never routed to */
        entry->n_bitmaps = (int)(count > AK_CLIENT_MAX_REPLICAS ? AK_CLIENT_MAX_REPLICAS : count);
        for (int r = 0; r < entry->n_bitmaps; r++) {
            const char *b64 = parts[bitmaps_at + (size_t)r];
            if (!ak_cp_decode_bitmap(b64, part_len[bitmaps_at + (size_t)r], entry->bitmaps[r]))
                return ak_cp_replicas_fail(reader, err, (size_t)(b64 - value),
                                           "replicas bitmap %d of '%s' is not 512 bytes of base64 (%zu characters)",
                                           r, entry->ns, part_len[bitmaps_at + (size_t)r]);
        }
        return 1;
    }
    return 0;
}

/* ---- peers ------------------------------------------------------------- */

/* A malformed list: err says what and where; nothing more is read. */
static ak_status_t ak_cp_peers_fail(ak_client_peers_reader_t *reader, ak_error_t *err, size_t offset,
                                    const char *what)
{
    reader->done = true;
    reader->pos = reader->len;
    return ak_error_at(err, AK_ERR_MALFORMED, offset, "peers list: %s", what);
}

static int ak_cp_peer_fail(ak_client_peers_reader_t *reader, ak_error_t *err, size_t offset, const char *what)
{
    ak_cp_peers_fail(reader, err, offset, what);
    return -1;
}

ak_status_t ak_client_peers_begin(ak_client_peers_reader_t *reader, const char *text, size_t len, ak_error_t *err)
{
    reader->text = text;
    reader->len = len;
    reader->pos = 0;
    reader->default_port = 3000;
    reader->done = false;
    const char *end = text + len;
    const char *p = len ? memchr(text, ',', len) : NULL;
    if (!p)
        return ak_cp_peers_fail(reader, err, len, "expected ',' after the generation");
    p++;
    const char *comma = memchr(p, ',', (size_t)(end - p));
    if (!comma)
        return ak_cp_peers_fail(reader, err, (size_t)(p - text), "expected ',' after the default port");
    long long port;
    if (ak_client_parse_int(p, (size_t)(comma - p), &port))
        reader->default_port = port;
    p = comma + 1;
    if (p >= end || *p != '[')
        return ak_cp_peers_fail(reader, err, (size_t)(p - text), "expected '[' opening the peers");
    reader->pos = (size_t)(p + 1 - text);
    return AK_OK;
}

/* The first address of a peer's hosts (text of h_len bytes): "host",
 * "host:port", "[v6]" or "[v6]:port". */
static void ak_cp_peer_address(ak_client_peer_t *peer, const char *hosts, size_t h_len, long long default_port)
{
    peer->host[0] = '\0';
    peer->port = default_port;
    if (!h_len || h_len >= sizeof peer->host)
        return;
    char text[sizeof peer->host];
    memcpy(text, hosts, h_len);
    text[h_len] = '\0';
    char *port_colon = NULL;
    if (text[0] == '[') {
        char *rb = strchr(text, ']');
        if (rb) {
            *rb = '\0';
            port_colon = rb[1] == ':' ? rb + 1 : NULL;
            snprintf(peer->host, sizeof peer->host, "%s", text + 1);
        }
    } else {
        port_colon = strrchr(text, ':');
        if (port_colon)
            *port_colon = '\0';
        snprintf(peer->host, sizeof peer->host, "%s", text);
    }
    if (port_colon) {
        long long port;
        peer->port = ak_client_parse_int(port_colon + 1, strlen(port_colon + 1), &port) ? port : 0;
    }
}

int ak_client_peers_next(ak_client_peers_reader_t *reader, ak_client_peer_t *peer, ak_error_t *err)
{
    const char *text = reader->text;
    const char *end = text + reader->len;
    const char *p = text + reader->pos;
    if (reader->done || p >= end || *p != '[') {
        reader->done = true;
        return 0;
    }
    size_t peer_at = reader->pos;
    p++;
    const char *id = p;
    const char *c1 = memchr(p, ',', (size_t)(end - p));
    if (!c1)
        return ak_cp_peer_fail(reader, err, peer_at, "expected ',' after the peer's node name");
    size_t id_len = (size_t)(c1 - id);
    const char *tls = c1 + 1;
    const char *c2 = memchr(tls, ',', (size_t)(end - tls));
    if (!c2)
        return ak_cp_peer_fail(reader, err, (size_t)(tls - text), "expected ',' after the peer's TLS name");
    if (c2 + 1 >= end || c2[1] != '[')
        return ak_cp_peer_fail(reader, err, (size_t)(c2 + 1 - text), "expected '[' opening the peer's hosts");
    size_t tls_len = (size_t)(c2 - tls);
    const char *hosts = c2 + 2;
    /* IPv6 hosts are bracketed: find the list's own closing bracket. */
    const char *q = hosts;
    int depth = 0;
    while (q < end) {
        if (*q == '[')
            depth++;
        else if (*q == ']') {
            if (depth == 0)
                break;
            depth--;
        }
        q++;
    }
    const char *hosts_end = q;
    if (hosts_end >= end)
        return ak_cp_peer_fail(reader, err, (size_t)(c2 + 1 - text), "the peer's hosts list is not closed");

    memset(peer, 0, sizeof *peer);
    /* A NUL inside a name or the address would cut it short: such a peer
     * would be added with no name to check its answer against, or at an
     * address it did not give. */
    bool has_nul = memchr(id, '\0', id_len) || memchr(tls, '\0', tls_len) ||
                   memchr(hosts, '\0', (size_t)(hosts_end - hosts));
    if (id_len && id_len < sizeof peer->name) {
        memcpy(peer->name, id, id_len);
        peer->name[id_len] = '\0';
    }
    snprintf(peer->tls_name, sizeof peer->tls_name, "%.*s", (int)(tls_len < 255 ? tls_len : 255), tls);
    const char *h_end = memchr(hosts, ',', (size_t)(hosts_end - hosts));
    if (!h_end)
        h_end = hosts_end;
    ak_cp_peer_address(peer, hosts, (size_t)(h_end - hosts), reader->default_port);
    peer->usable = !has_nul && peer->host[0] && peer->port > 0 && peer->port < 65536 && id_len &&
                   id_len < sizeof peer->name;

    p = hosts_end + 1; /* past the hosts list */
    if (p < end && *p == ']')
        p++; /* past the peer */
    if (p < end && *p == ',')
        p++;
    reader->pos = (size_t)(p - text);
    return 1;
}
