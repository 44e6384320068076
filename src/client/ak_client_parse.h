/*
 * ak_client_parse: the client's parsers of the info answers that shape its
 * view of the cluster, as pure functions (text in, parsed values out, no
 * client state), so that the fuzzer (fuzz/fuzz_cluster_info.c) and the
 * unit tests drive exactly the code the tend runs on server bytes.
 *
 *   replicas         ns:regime,count,bitmap,...;ns:...   (docs/CLIENT.md)
 *                    and the older form without regime,
 *                    ns:count,bitmap,...                 (replicas-all)
 *   peers-clear-std  gen,default-port,[[id,tls-name,[host[:port],...]],...]
 *   peers-tls-std    the same; IPv6 hosts are bracketed, [::1]:3000
 *
 * Both are readers: one namespace entry or one peer per call, so that the
 * tend applies what precedes a malformed part and stops there. An error
 * names the byte offset in the value (ak_error_at: "... at byte N").
 *
 * Both parsers take the value only (after "name\t" of the info answer),
 * which need not be NUL-terminated; every view stays inside it.
 */
#ifndef AK_CLIENT_PARSE_H
#define AK_CLIENT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "wire/ak_digest.h"
#include "wire/ak_msg.h"

/* Replicas routed to; the server may list more (they are skipped). */
#define AK_CLIENT_MAX_REPLICAS 4
/* A partition bitmap: 4096 bits, partition 0 is the top bit of byte 0. */
#define AK_CLIENT_BITMAP_BYTES (AK_PARTITION_COUNT / 8)

/* A decimal integer filling exactly s[0..len) (sign allowed, at most 31
 * characters): true with *out, false for anything else (*out untouched). */
bool ak_client_parse_int(const char *s, size_t len, long long *out);

/* ---- replicas ---------------------------------------------------------- */

typedef struct ak_client_replicas_entry {
    char ns[AK_NAMESPACE_MAX + 1];
    bool has_regime;     /* false in the older form */
    uint32_t regime;     /* strong-consistency regime (the value's low 32 bits); 0 without */
    long long count;     /* replicas the entry lists */
    int n_bitmaps;       /* decoded: min(count, AK_CLIENT_MAX_REPLICAS) */
    uint8_t bitmaps[AK_CLIENT_MAX_REPLICAS][AK_CLIENT_BITMAP_BYTES];
} ak_client_replicas_entry_t;

typedef struct ak_client_replicas_reader {
    const char *text;
    size_t len;
    size_t pos;
} ak_client_replicas_reader_t;

void ak_client_replicas_reader_init(ak_client_replicas_reader_t *reader, const char *text, size_t len);

/* The next namespace entry (empty entries, ";;", are skipped): 1 with
 * *entry filled, 0 at the end, -1 with err on a malformed entry (no ':', a
 * count that does not match the parts, a namespace name of 0 or more than
 * 31 bytes, a bitmap that is not 512 bytes of base64). After -1 the reader
 * stays at the end. */
int ak_client_replicas_next(ak_client_replicas_reader_t *reader, ak_client_replicas_entry_t *entry,
                            ak_error_t *err);

static inline bool ak_client_bitmap_has(const uint8_t bitmap[AK_CLIENT_BITMAP_BYTES], uint32_t partition_id)
{
    return (bitmap[partition_id >> 3] & (0x80u >> (partition_id & 7))) != 0;
}

/* ---- peers ------------------------------------------------------------- */

typedef struct ak_client_peer {
    char name[32];       /* node name as listed; "" when it does not fit */
    char tls_name[256];  /* "" in peers-clear-std; cut at 255 bytes */
    char host[256];      /* the peer's first address, IPv6 without brackets */
    long long port;      /* its port, else the list's default port */
    /* a name of 1..31 bytes, a host and a port of 1..65535, no NUL byte in
     * the name, the TLS name or the hosts: the tend adds only such peers
     * and skips the others */
    bool usable;
} ak_client_peer_t;

typedef struct ak_client_peers_reader {
    const char *text;
    size_t len;
    size_t pos;
    long long default_port; /* from the header; 3000 when it is empty or not a number */
    bool done;
} ak_client_peers_reader_t;

/* Reads the header, "gen,default-port,[": AK_OK, or AK_ERR_MALFORMED with
 * err naming the offset (no comma after the generation or the port, no
 * '[' opening the list). */
ak_status_t ak_client_peers_begin(ak_client_peers_reader_t *reader, const char *text, size_t len, ak_error_t *err);

/* The next peer: 1 with *peer filled (check peer->usable), 0 at the end of
 * the list, -1 with err on a malformed peer (no comma after its name or its
 * TLS name, no '[' opening its hosts, hosts not closed). After -1 the
 * reader stays at the end. */
int ak_client_peers_next(ak_client_peers_reader_t *reader, ak_client_peer_t *peer, ak_error_t *err);

#endif
