/*
 * Inbound decoders: json, connect-json, message-pack, string, bytes (avro and
 * kafka-avro are in ak_inbound_decode_avro.c). jansson and msgpack-c parse;
 * this file turns their trees into ak_value_t trees in the caller's arena.
 * Plain json is first read by yajl's event parser straight into the arena
 * (no intermediate tree: about eight times faster than jansson on the
 * connector's hot path); jansson stays the reference that decides every
 * case the fast path does not settle itself (see decode_json).
 */
#include "format/ak_inbound_decode.h"

#include <jansson.h>
#include <msgpack.h>
#include <nettle/base64.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "format/ak_format_internal.h"
#include "format/ak_inbound_decode_internal.h"

#define AK_ID_PATH_MAX 256

const char *ak_inbound_format_mode_name(ak_inbound_format_mode_t mode)
{
    switch (mode) {
    case AK_INBOUND_FORMAT_JSON: return "json";
    case AK_INBOUND_FORMAT_CONNECT_JSON: return "connect-json";
    case AK_INBOUND_FORMAT_AVRO: return "avro";
    case AK_INBOUND_FORMAT_KAFKA_AVRO: return "kafka-avro";
    case AK_INBOUND_FORMAT_MESSAGE_PACK: return "message-pack";
    case AK_INBOUND_FORMAT_STRING: return "string";
    case AK_INBOUND_FORMAT_BYTES: return "bytes";
    }
    return "unknown";
}

bool ak_inbound_copy_bytes(ak_arena_t *arena, ak_value_type_t type, const void *data, size_t len,
                           ak_value_t *out)
{
    if (len > UINT32_MAX)
        return false;
    /* memdup of 0 bytes still yields a valid pointer, so an empty string is
     * never a NULL view. */
    void *copy = ak_arena_memdup(arena, len ? data : "", len);
    if (!copy)
        return false;
    *out = ak_value_bytes_of(type, type == AK_VALUE_BYTES ? AK_BYTES_SUBTYPE_BLOB : 0, copy, len);
    return true;
}

static ak_status_t nomem(ak_error_t *err, const char *format)
{
    return ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", format);
}

/* ======================================================================
 * json
 * ====================================================================== */

static json_t *json_parse(const uint8_t *data, size_t len, const char *format, ak_error_t *err)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, len,
                              JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    /* jansson's position counts the bytes read, the offending one included. */
    if (!root)
        ak_error_at(err, AK_ERR_MALFORMED, (size_t)(jerr.position > 0 ? jerr.position - 1 : 0),
                    "%s: %s (line %d, column %d)", format, jerr.text, jerr.line, jerr.column);
    return root;
}

static ak_status_t json_to_value(const json_t *j, ak_arena_t *arena, int depth, ak_value_t *out,
                                 ak_error_t *err)
{
    switch (json_typeof(j)) {
    case JSON_NULL:
        *out = ak_value_nil();
        return AK_OK;
    case JSON_TRUE:
    case JSON_FALSE:
        *out = ak_value_bool(json_is_true(j));
        return AK_OK;
    case JSON_INTEGER:
        *out = ak_value_int(json_integer_value(j));
        return AK_OK;
    case JSON_REAL:
        *out = ak_value_double(json_real_value(j));
        return AK_OK;
    case JSON_STRING:
        if (!ak_inbound_copy_bytes(arena, AK_VALUE_STRING, json_string_value(j),
                                   json_string_length(j), out))
            return nomem(err, "json");
        return AK_OK;
    case JSON_ARRAY:
    case JSON_OBJECT:
        break;
    }
    if (depth >= AK_INBOUND_MAX_DEPTH)
        return ak_error_set(err, AK_ERR_LIMIT, "json: arrays and objects nest deeper than %d levels",
                            AK_INBOUND_MAX_DEPTH);
    if (json_is_array(j)) {
        size_t n = json_array_size(j);
        ak_value_t *items = ak_arena_alloc_array(arena, n ? n : 1, sizeof *items);
        if (!items)
            return nomem(err, "json");
        for (size_t i = 0; i < n; i++) {
            ak_status_t st = json_to_value(json_array_get(j, i), arena, depth + 1, &items[i], err);
            if (st != AK_OK)
                return st;
        }
        *out = ak_value_list(items, (uint32_t)n);
        return AK_OK;
    }
    size_t n = json_object_size(j);
    ak_value_t *entries = ak_arena_alloc_array(arena, n ? 2 * n : 1, sizeof *entries);
    if (!entries)
        return nomem(err, "json");
    size_t i = 0;
    const char *key;
    size_t key_len;
    json_t *value;
    /* jansson keeps object keys in document order. */
    json_object_keylen_foreach((json_t *)j, key, key_len, value) {
        if (!ak_inbound_copy_bytes(arena, AK_VALUE_STRING, key, key_len, &entries[2 * i]))
            return nomem(err, "json");
        ak_status_t st = json_to_value(value, arena, depth + 1, &entries[2 * i + 1], err);
        if (st != AK_OK)
            return st;
        i++;
    }
    *out = ak_value_map(entries, (uint32_t)n, 0);
    return AK_OK;
}

ak_status_t ak_inbound_decode_json_reference(const uint8_t *data, size_t len, ak_arena_t *arena,
                                             ak_value_t *out, ak_error_t *err)
{
    json_t *root = json_parse(data, len, "json", err);
    if (!root)
        return AK_ERR_MALFORMED;
    ak_status_t st = json_to_value(root, arena, 0, out, err);
    json_decref(root);
    return st;
}

/* ---------------------------------------------------------- json fast path
 *
 * yajl reports values as events; they are gathered on a value stack and
 * each finished array or object becomes one arena array. The fast path
 * gives a value only where jansson would give the same value; it gives up
 * (and jansson decides, error messages included) on anything else:
 *   - any yajl error (jansson then reports it, or reads what yajl refused);
 *   - anything but whitespace after the value (yajl misses an unterminated
 *     string there: it waits for the rest of it, even at the end);
 *   - \f and \v, which yajl takes for whitespace and JSON does not;
 *   - a \u escape of a surrogate (yajl turns unpaired ones into '?' where
 *     jansson refuses them);
 *   - invalid UTF-8 (yajl checks only the shape of a sequence; the check
 *     here is jansson's: no overlong forms, surrogates or code points above
 *     U+10FFFF), a NUL in an object key, a duplicate key, an integer or a
 *     real out of range, nesting deeper than AK_INBOUND_MAX_DEPTH. */

#define AK_JSON_FAST_STACK 64

typedef struct json_fast {
    ak_arena_t *arena;
    const uint8_t *borrow_begin, *borrow_end; /* strings inside are referenced, not copied (or NULL) */
    yajl_handle parser;
    bool in_text;              /* yajl_parse runs on the input (not yajl_complete_parse) */
    size_t value_end;          /* input offset where the top-level value ended, or SIZE_MAX */
    ak_value_t *stack;         /* values of the open containers, in order */
    size_t top, cap;
    size_t frame_start[AK_INBOUND_MAX_DEPTH];
    bool frame_is_map[AK_INBOUND_MAX_DEPTH];
    int depth;
    bool give_up;              /* not an error: let jansson decide */
    ak_value_t local[AK_JSON_FAST_STACK];
} json_fast_t;

static int json_fast_stop(json_fast_t *f)
{
    f->give_up = true;
    return 0; /* cancels the parse */
}

static int json_fast_push(json_fast_t *f, ak_value_t v)
{
    if (f->top == f->cap) {
        size_t cap = f->cap * 2;
        ak_value_t *grown = f->stack == f->local ? malloc(cap * sizeof *grown)
                                                 : realloc(f->stack, cap * sizeof *grown);
        if (!grown)
            return json_fast_stop(f);
        if (f->stack == f->local)
            memcpy(grown, f->local, sizeof f->local);
        f->stack = grown;
        f->cap = cap;
    }
    f->stack[f->top++] = v;
    if (f->depth == 0 && f->in_text)
        f->value_end = yajl_get_bytes_consumed(f->parser);
    return 1;
}

static int json_fast_null(void *ctx)
{
    return json_fast_push(ctx, ak_value_nil());
}

static int json_fast_boolean(void *ctx, int b)
{
    return json_fast_push(ctx, ak_value_bool(b != 0));
}

/* jansson's rule: a number without '.', 'e' or 'E' is an integer. yajl has
 * checked the syntax: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_fast_number(void *ctx, const char *text, size_t len)
{
    json_fast_t *f = ctx;
    char buf[64];
    if (len >= sizeof buf)
        return json_fast_stop(f);
    bool integer = true;
    for (size_t i = 0; i < len && integer; i++)
        integer = text[i] != '.' && text[i] != 'e' && text[i] != 'E';
    /* up to 18 digits cannot overflow: summed here, without strtoll */
    size_t digits_at = len && text[0] == '-' ? 1 : 0;
    if (integer && len > digits_at && len - digits_at <= 18) {
        int64_t v = 0;
        for (size_t i = digits_at; i < len; i++)
            v = v * 10 + (text[i] - '0');
        return json_fast_push(f, ak_value_int(digits_at ? -v : v));
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    if (integer) {
        long long v = strtoll(buf, &end, 10);
        if (errno == ERANGE || end != buf + len)
            return json_fast_stop(f);
        return json_fast_push(f, ak_value_int(v));
    }
    double d = strtod(buf, &end);
    if ((errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) || end != buf + len)
        return json_fast_stop(f);
    return json_fast_push(f, ak_value_double(d));
}

/* Most text is ASCII: eight bytes at a time, then jansson's UTF-8 rules
 * for whatever is not. */
static bool json_fast_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, s + i, sizeof word);
        if (word & 0x8080808080808080ull)
            break;
    }
    return ak_format_utf8_valid(s + i, len - i);
}

static int json_fast_text(json_fast_t *f, const unsigned char *s, size_t len)
{
    ak_value_t v;
    if (!json_fast_utf8_valid(s, len))
        return json_fast_stop(f);
    /* yajl hands out unescaped strings in place; escaped ones come from its
     * own buffer, which does not outlive the parse */
    uintptr_t at = (uintptr_t)s, begin = (uintptr_t)f->borrow_begin, end = (uintptr_t)f->borrow_end;
    if (begin && len > 0 && len <= UINT32_MAX && at >= begin && at < end && end - at >= len) {
        v = ak_value_bytes_of(AK_VALUE_STRING, 0, s, len);
    } else if (!ak_inbound_copy_bytes(f->arena, AK_VALUE_STRING, s, len, &v)) {
        return json_fast_stop(f);
    }
    return json_fast_push(f, v);
}

static int json_fast_string(void *ctx, const unsigned char *s, size_t len)
{
    return json_fast_text(ctx, s, len);
}

static int json_fast_key(void *ctx, const unsigned char *s, size_t len)
{
    if (memchr(s, '\0', len))
        return json_fast_stop(ctx); /* jansson: "NUL byte in object key not supported" */
    return json_fast_text(ctx, s, len);
}

static int json_fast_open(json_fast_t *f, bool is_map)
{
    if (f->depth >= AK_INBOUND_MAX_DEPTH)
        return json_fast_stop(f);
    f->frame_start[f->depth] = f->top;
    f->frame_is_map[f->depth] = is_map;
    f->depth++;
    return 1;
}

static int json_fast_start_map(void *ctx)
{
    return json_fast_open(ctx, true);
}

static int json_fast_start_array(void *ctx)
{
    return json_fast_open(ctx, false);
}

static int json_fast_key_order(const void *a, const void *b)
{
    const ak_value_t *x = *(const ak_value_t *const *)a, *y = *(const ak_value_t *const *)b;
    if (x->u.bytes.len != y->u.bytes.len)
        return x->u.bytes.len < y->u.bytes.len ? -1 : 1;
    return memcmp(x->u.bytes.data, y->u.bytes.data, x->u.bytes.len);
}

/* Keys are entries[0], [2], ...: pairwise for small objects, sorted
 * otherwise. */
static bool json_fast_has_duplicate(const ak_value_t *entries, size_t n)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (entries[2 * i].u.bytes.len == entries[2 * j].u.bytes.len &&
                    memcmp(entries[2 * i].u.bytes.data, entries[2 * j].u.bytes.data,
                           entries[2 * i].u.bytes.len) == 0)
                    return true;
        return false;
    }
    const ak_value_t **keys = malloc(n * sizeof *keys);
    if (!keys)
        return true; /* undecided: let jansson decide */
    for (size_t i = 0; i < n; i++)
        keys[i] = &entries[2 * i];
    qsort(keys, n, sizeof *keys, json_fast_key_order);
    bool dup = false;
    for (size_t i = 1; i < n && !dup; i++)
        dup = json_fast_key_order(&keys[i - 1], &keys[i]) == 0;
    free(keys);
    return dup;
}

static int json_fast_close(json_fast_t *f)
{
    f->depth--;
    size_t start = f->frame_start[f->depth];
    size_t count = f->top - start;
    ak_value_t *items = ak_arena_alloc_array(f->arena, count ? count : 1, sizeof *items);
    if (!items)
        return json_fast_stop(f);
    memcpy(items, f->stack + start, count * sizeof *items);
    f->top = start;
    if (!f->frame_is_map[f->depth])
        return json_fast_push(f, ak_value_list(items, (uint32_t)count));
    if (json_fast_has_duplicate(items, count / 2))
        return json_fast_stop(f); /* jansson: "duplicate object key" */
    return json_fast_push(f, ak_value_map(items, (uint32_t)(count / 2), 0));
}

static int json_fast_end(void *ctx)
{
    return json_fast_close(ctx);
}

static const yajl_callbacks json_fast_callbacks = {
    .yajl_null = json_fast_null,
    .yajl_boolean = json_fast_boolean,
    .yajl_number = json_fast_number,
    .yajl_string = json_fast_string,
    .yajl_start_map = json_fast_start_map,
    .yajl_map_key = json_fast_key,
    .yajl_end_map = json_fast_end,
    .yajl_start_array = json_fast_start_array,
    .yajl_end_array = json_fast_end,
};

/* yajl's own allocations (its handle, lexer, buffers: about six per
 * document) come from a buffer on the caller's stack, so a document costs
 * no malloc/free pair at all; anything that does not fit goes to the heap.
 * Each block is preceded by its size, the heap bit marking heap blocks. */
#define AK_JSON_SCRATCH_SIZE 4096
#define AK_JSON_SCRATCH_HEAP ((size_t)1 << (sizeof(size_t) * 8 - 1))
#define AK_JSON_SCRATCH_ALIGN 16

typedef struct json_scratch {
    _Alignas(AK_JSON_SCRATCH_ALIGN) unsigned char bytes[AK_JSON_SCRATCH_SIZE];
    size_t used;
} json_scratch_t;

static size_t *json_scratch_header(void *ptr)
{
    return (size_t *)((unsigned char *)ptr - AK_JSON_SCRATCH_ALIGN);
}

static void *json_scratch_malloc(void *ctx, size_t size)
{
    json_scratch_t *scratch = ctx;
    if (size > SIZE_MAX / 2 - 2 * AK_JSON_SCRATCH_ALIGN)
        return NULL;
    size_t need = AK_JSON_SCRATCH_ALIGN + ((size + AK_JSON_SCRATCH_ALIGN - 1) & ~(size_t)(AK_JSON_SCRATCH_ALIGN - 1));
    unsigned char *block;
    if (need <= sizeof scratch->bytes - scratch->used) {
        block = scratch->bytes + scratch->used;
        scratch->used += need;
        *(size_t *)block = size;
    } else {
        block = malloc(AK_JSON_SCRATCH_ALIGN + size);
        if (!block)
            return NULL;
        *(size_t *)block = size | AK_JSON_SCRATCH_HEAP;
    }
    return block + AK_JSON_SCRATCH_ALIGN;
}

static void json_scratch_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (ptr && (*json_scratch_header(ptr) & AK_JSON_SCRATCH_HEAP))
        free(json_scratch_header(ptr));
    /* stack blocks go with the stack frame */
}

static void *json_scratch_realloc(void *ctx, void *ptr, size_t size)
{
    if (!ptr)
        return json_scratch_malloc(ctx, size);
    size_t *header = json_scratch_header(ptr);
    size_t old = *header & ~AK_JSON_SCRATCH_HEAP;
    if (*header & AK_JSON_SCRATCH_HEAP) {
        if (size > SIZE_MAX / 2 - AK_JSON_SCRATCH_ALIGN)
            return NULL;
        size_t *grown = realloc(header, AK_JSON_SCRATCH_ALIGN + size);
        if (!grown)
            return NULL;
        *grown = size | AK_JSON_SCRATCH_HEAP;
        return (unsigned char *)grown + AK_JSON_SCRATCH_ALIGN;
    }
    if (size <= old)
        return ptr;
    void *moved = json_scratch_malloc(ctx, size);
    if (moved)
        memcpy(moved, ptr, old);
    return moved;
}

/* A \u escape of a surrogate (D800..DFFF) anywhere in the text; an escaped
 * backslash before a "u" may match too, which only costs the fast path. */
static bool json_fast_has_surrogate_escape(const uint8_t *data, size_t len)
{
    const uint8_t *p = data, *end = data + len;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p >= 4 && p[1] == 'u' && (p[2] == 'd' || p[2] == 'D') &&
            ((p[3] >= '8' && p[3] <= '9') || (p[3] >= 'a' && p[3] <= 'f') || (p[3] >= 'A' && p[3] <= 'F')))
            return true;
        p++;
    }
    return false;
}

/* true with *out set when the fast path settles the document */
static bool json_fast_decode(const uint8_t *data, size_t len, bool borrow, ak_arena_t *arena, ak_value_t *out)
{
    if (memchr(data, '\f', len) || memchr(data, '\v', len) || json_fast_has_surrogate_escape(data, len))
        return false;
    json_fast_t f;
    f.arena = arena;
    f.borrow_begin = borrow ? data : NULL;
    f.borrow_end = borrow ? data + len : NULL;
    f.stack = f.local;
    f.top = 0;
    f.cap = AK_JSON_FAST_STACK;
    f.depth = 0;
    f.give_up = false;
    f.in_text = false;
    f.value_end = SIZE_MAX;
    json_scratch_t scratch;
    scratch.used = 0;
    yajl_alloc_funcs alloc = {json_scratch_malloc, json_scratch_realloc, json_scratch_free, &scratch};
    f.parser = yajl_alloc(&json_fast_callbacks, &alloc, &f);
    bool ok = false;
    if (f.parser) {
        /* strings are checked here, as jansson checks them */
        yajl_config(f.parser, yajl_dont_validate_strings, 1);
        f.in_text = true;
        ok = yajl_parse(f.parser, data, len) == yajl_status_ok;
        f.in_text = false;
        ok = ok && yajl_complete_parse(f.parser) == yajl_status_ok && !f.give_up && f.depth == 0 && f.top == 1;
        yajl_free(f.parser);
    }
    /* A value that ended before the input did (a number at the very end
     * ends only in yajl_complete_parse) may be followed by whitespace only. */
    for (size_t i = f.value_end; ok && i < len; i++)
        ok = data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r';
    if (ok)
        *out = f.stack[0];
    if (f.stack != f.local)
        free(f.stack);
    return ok;
}

static ak_status_t decode_json(const uint8_t *data, size_t len, bool borrow, ak_arena_t *arena, ak_value_t *out,
                               ak_error_t *err)
{
    if (json_fast_decode(data, len, borrow, arena, out))
        return AK_OK;
    return ak_inbound_decode_json_reference(data, len, arena, out, err);
}

/* ======================================================================
 * connect-json: {"schema": ..., "payload": ...}
 * ====================================================================== */

typedef struct connect_ctx {
    ak_arena_t *arena;
    ak_error_t *err;
    char path[AK_ID_PATH_MAX];
    size_t path_len;
} connect_ctx_t;

/* Appends ".name" (name not NULL) or "[index]" to the path; returns the
 * length to restore. */
static size_t path_push(connect_ctx_t *c, const char *name, size_t index)
{
    size_t saved = c->path_len;
    size_t room = sizeof c->path - c->path_len;
    int w = name ? snprintf(c->path + c->path_len, room, ".%s", name)
                 : snprintf(c->path + c->path_len, room, "[%zu]", index);
    if (w > 0)
        c->path_len += (size_t)w < room ? (size_t)w : room - 1;
    return saved;
}

static void path_pop(connect_ctx_t *c, size_t saved)
{
    c->path_len = saved;
    c->path[saved] = '\0';
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction or exponent";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

static ak_status_t connect_fail(connect_ctx_t *c, ak_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ak_status_t connect_fail(connect_ctx_t *c, ak_status_t st, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ak_error_set(c->err, st, "connect-json: %s: %s", c->path, what);
}

static ak_status_t connect_value(connect_ctx_t *c, const json_t *schema, const json_t *payload,
                                 int depth, ak_value_t *out);

static ak_status_t connect_base64(connect_ctx_t *c, const json_t *payload, ak_value_t *out)
{
    const char *text = json_string_value(payload);
    size_t len = json_string_length(payload);
    uint8_t *bytes = ak_arena_alloc(c->arena, BASE64_DECODE_LENGTH(len) + 1);
    if (!bytes)
        return nomem(c->err, "connect-json");
    struct base64_decode_ctx b64;
    size_t got = BASE64_DECODE_LENGTH(len) + 1;
    base64_decode_init(&b64);
    if (!base64_decode_update(&b64, &got, bytes, len, text) || !base64_decode_final(&b64))
        return connect_fail(c, AK_ERR_MALFORMED, "expected Base64 text for bytes, got \"%.40s\"", text);
    *out = ak_value_bytes_of(AK_VALUE_BYTES, AK_BYTES_SUBTYPE_BLOB, bytes, got);
    return AK_OK;
}

static ak_status_t connect_struct(connect_ctx_t *c, const json_t *schema, const json_t *payload,
                                  int depth, ak_value_t *out)
{
    const json_t *fields = json_object_get(schema, "fields");
    if (!json_is_array(fields))
        return connect_fail(c, AK_ERR_MALFORMED, "struct schema has no \"fields\" array");
    if (!json_is_object(payload))
        return connect_fail(c, AK_ERR_MALFORMED, "expected an object for struct, got %s",
                            json_kind(payload));
    size_t n = json_array_size(fields);
    ak_value_t *entries = ak_arena_alloc_array(c->arena, n ? 2 * n : 1, sizeof *entries);
    if (!entries)
        return nomem(c->err, "connect-json");
    for (size_t i = 0; i < n; i++) {
        const json_t *field = json_array_get(fields, i);
        const char *name = json_string_value(json_object_get(field, "field"));
        if (!json_is_object(field) || !name)
            return connect_fail(c, AK_ERR_MALFORMED,
                                "struct schema field %zu has no \"field\" name", i);
        size_t saved = path_push(c, name, 0);
        if (!ak_inbound_copy_bytes(c->arena, AK_VALUE_STRING, name, strlen(name), &entries[2 * i]))
            return nomem(c->err, "connect-json");
        /* A field the payload leaves out reads as null, as JsonConverter reads it. */
        const json_t *value = json_object_get(payload, name);
        if (!value)
            value = json_null(); /* jansson's shared null: no reference to drop */
        ak_status_t st = connect_value(c, field, value, depth + 1, &entries[2 * i + 1]);
        if (st != AK_OK)
            return st;
        path_pop(c, saved);
    }
    *out = ak_value_map(entries, (uint32_t)n, 0);
    return AK_OK;
}

static ak_status_t connect_map(connect_ctx_t *c, const json_t *schema, const json_t *payload,
                               int depth, ak_value_t *out)
{
    const json_t *keys = json_object_get(schema, "keys");
    const json_t *values = json_object_get(schema, "values");
    if (!json_is_object(keys) || !json_is_object(values))
        return connect_fail(c, AK_ERR_MALFORMED, "map schema needs \"keys\" and \"values\" schemas");
    const char *key_type = json_string_value(json_object_get(keys, "type"));
    bool string_keys = key_type && strcmp(key_type, "string") == 0;
    if (string_keys && json_is_object(payload)) {
        size_t n = json_object_size(payload), i = 0;
        ak_value_t *entries = ak_arena_alloc_array(c->arena, n ? 2 * n : 1, sizeof *entries);
        if (!entries)
            return nomem(c->err, "connect-json");
        const char *key;
        size_t key_len;
        json_t *value;
        json_object_keylen_foreach((json_t *)payload, key, key_len, value) {
            if (!ak_inbound_copy_bytes(c->arena, AK_VALUE_STRING, key, key_len, &entries[2 * i]))
                return nomem(c->err, "connect-json");
            size_t saved = path_push(c, key, 0);
            ak_status_t st = connect_value(c, values, value, depth + 1, &entries[2 * i + 1]);
            if (st != AK_OK)
                return st;
            path_pop(c, saved);
            i++;
        }
        *out = ak_value_map(entries, (uint32_t)n, 0);
        return AK_OK;
    }
    if (!json_is_array(payload))
        return connect_fail(c, AK_ERR_MALFORMED, "expected %s for map, got %s",
                            string_keys ? "an object" : "an array of [key, value] pairs",
                            json_kind(payload));
    size_t n = json_array_size(payload);
    ak_value_t *entries = ak_arena_alloc_array(c->arena, n ? 2 * n : 1, sizeof *entries);
    if (!entries)
        return nomem(c->err, "connect-json");
    for (size_t i = 0; i < n; i++) {
        const json_t *pair = json_array_get(payload, i);
        size_t saved = path_push(c, NULL, i);
        if (!json_is_array(pair) || json_array_size(pair) != 2)
            return connect_fail(c, AK_ERR_MALFORMED, "expected a [key, value] pair, got %s",
                                json_kind(pair));
        ak_status_t st = connect_value(c, keys, json_array_get(pair, 0), depth + 1, &entries[2 * i]);
        if (st == AK_OK)
            st = connect_value(c, values, json_array_get(pair, 1), depth + 1, &entries[2 * i + 1]);
        if (st != AK_OK)
            return st;
        path_pop(c, saved);
    }
    *out = ak_value_map(entries, (uint32_t)n, 0);
    return AK_OK;
}

static ak_status_t connect_int(connect_ctx_t *c, const char *type, const json_t *payload,
                               ak_value_t *out)
{
    static const struct {
        const char *name;
        int64_t min, max;
    } widths[] = {{"int8", INT8_MIN, INT8_MAX},
                  {"int16", INT16_MIN, INT16_MAX},
                  {"int32", INT32_MIN, INT32_MAX},
                  {"int64", INT64_MIN, INT64_MAX}};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(type, widths[i].name) != 0)
            continue;
        if (!json_is_integer(payload))
            return connect_fail(c, AK_ERR_MALFORMED, "expected an integer for %s, got %s", type,
                                json_kind(payload));
        json_int_t v = json_integer_value(payload);
        if (v < widths[i].min || v > widths[i].max) {
            char text[32];
            snprintf(text, sizeof text, "%lld", (long long)v);
            return connect_fail(c, AK_ERR_MALFORMED, "%s is out of range for %s", text, type);
        }
        *out = ak_value_int(v);
        return AK_OK;
    }
    return AK_ERR_INVALID_ARG; /* not an integer type */
}

static ak_status_t connect_value(connect_ctx_t *c, const json_t *schema, const json_t *payload,
                                 int depth, ak_value_t *out)
{
    if (!json_is_object(schema))
        return connect_fail(c, AK_ERR_MALFORMED, "expected a schema object, got %s",
                            json_kind(schema));
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (!type)
        return connect_fail(c, AK_ERR_MALFORMED, "schema has no \"type\"");
    if (json_is_null(payload)) {
        const json_t *def = json_object_get(schema, "default");
        if (def && !json_is_null(def))
            return connect_value(c, schema, def, depth, out);
        if (json_is_true(json_object_get(schema, "optional"))) {
            *out = ak_value_nil();
            return AK_OK;
        }
        return connect_fail(c, AK_ERR_MALFORMED,
                            "null for a required %s (the schema has no \"optional\": true and no "
                            "default)",
                            type);
    }
    ak_status_t st = connect_int(c, type, payload, out);
    if (st != AK_ERR_INVALID_ARG)
        return st;
    if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        if (!json_is_number(payload))
            return connect_fail(c, AK_ERR_MALFORMED, "expected a number for %s, got %s", type,
                                json_kind(payload));
        double d = json_number_value(payload);
        *out = ak_value_double(type[0] == 'f' ? (double)(float)d : d);
        return AK_OK;
    }
    if (strcmp(type, "boolean") == 0) {
        if (!json_is_boolean(payload))
            return connect_fail(c, AK_ERR_MALFORMED, "expected true or false for boolean, got %s",
                                json_kind(payload));
        *out = ak_value_bool(json_is_true(payload));
        return AK_OK;
    }
    if (strcmp(type, "string") == 0) {
        if (!json_is_string(payload))
            return connect_fail(c, AK_ERR_MALFORMED, "expected a string, got %s",
                                json_kind(payload));
        if (!ak_inbound_copy_bytes(c->arena, AK_VALUE_STRING, json_string_value(payload),
                                   json_string_length(payload), out))
            return nomem(c->err, "connect-json");
        return AK_OK;
    }
    if (strcmp(type, "bytes") == 0) {
        if (!json_is_string(payload))
            return connect_fail(c, AK_ERR_MALFORMED, "expected a Base64 string for bytes, got %s",
                                json_kind(payload));
        return connect_base64(c, payload, out);
    }
    bool container = strcmp(type, "array") == 0 || strcmp(type, "map") == 0 ||
                     strcmp(type, "struct") == 0;
    if (!container)
        return connect_fail(c, AK_ERR_UNSUPPORTED,
                            "unknown schema type \"%s\" (expected int8, int16, int32, int64, "
                            "float, double, boolean, string, bytes, array, map or struct)",
                            type);
    if (depth >= AK_INBOUND_MAX_DEPTH)
        return connect_fail(c, AK_ERR_LIMIT, "values nest deeper than %d levels", AK_INBOUND_MAX_DEPTH);
    if (strcmp(type, "struct") == 0)
        return connect_struct(c, schema, payload, depth, out);
    if (strcmp(type, "map") == 0)
        return connect_map(c, schema, payload, depth, out);
    const json_t *items = json_object_get(schema, "items");
    if (!json_is_object(items))
        return connect_fail(c, AK_ERR_MALFORMED, "array schema has no \"items\" schema");
    if (!json_is_array(payload))
        return connect_fail(c, AK_ERR_MALFORMED, "expected an array, got %s", json_kind(payload));
    size_t n = json_array_size(payload);
    ak_value_t *list = ak_arena_alloc_array(c->arena, n ? n : 1, sizeof *list);
    if (!list)
        return nomem(c->err, "connect-json");
    for (size_t i = 0; i < n; i++) {
        size_t saved = path_push(c, NULL, i);
        st = connect_value(c, items, json_array_get(payload, i), depth + 1, &list[i]);
        if (st != AK_OK)
            return st;
        path_pop(c, saved);
    }
    *out = ak_value_list(list, (uint32_t)n);
    return AK_OK;
}

static ak_status_t decode_connect_json(const uint8_t *data, size_t len, ak_arena_t *arena,
                                       ak_value_t *out, ak_error_t *err)
{
    json_t *root = json_parse(data, len, "connect-json", err);
    if (!root)
        return AK_ERR_MALFORMED;
    ak_status_t st;
    const json_t *schema = json_object_get(root, "schema");
    const json_t *payload = json_object_get(root, "payload");
    if (!json_is_object(root) || !schema || !payload || json_object_size(root) != 2) {
        /* JsonConverter's own rule for schemas.enable=true. */
        st = ak_error_set(err, AK_ERR_MALFORMED,
                          "connect-json: expected an object with exactly the fields \"schema\" "
                          "and \"payload\", got %s%s",
                          json_kind(root),
                          json_is_object(root) ? " with other fields (is the producer writing "
                                                 "plain JSON? use value-format mode json)"
                                               : "");
    } else if (json_is_null(schema)) {
        st = json_to_value(payload, arena, 0, out, err);
    } else {
        connect_ctx_t c = {.arena = arena, .err = err, .path = "payload", .path_len = 7};
        st = connect_value(&c, schema, payload, 0, out);
    }
    json_decref(root);
    return st;
}

/* ======================================================================
 * message-pack
 * ====================================================================== */

/* msgpack-c allocates the element arrays a container declares before it
 * reads them, so a 5-byte input declaring 2^32 elements would ask for 96
 * GiB. This walk checks every declared length and count against the bytes
 * that remain, bounds the nesting, refuses ext types and integers above
 * INT64_MAX, and names the byte offset of the first problem; msgpack-c then
 * decodes input known to be sane. */
static ak_status_t mp_check(const uint8_t *p, size_t len, size_t *pos, int depth, ak_error_t *err)
{
    if (*pos >= len)
        return ak_error_at(err, AK_ERR_TRUNCATED, *pos, "message-pack: input ends before a value");
    size_t at = *pos;
    uint8_t b = p[(*pos)++];
    size_t rest = len - *pos;
    uint64_t n = 0;     /* payload bytes (str/bin/ext) or element count */
    int kind = 0;       /* 0 scalar with n payload bytes, 1 array of n, 2 map of n */
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        return AK_OK;
    } else if (b >= 0x80 && b <= 0x8f) {
        kind = 2, n = b & 0x0f;
    } else if (b >= 0x90 && b <= 0x9f) {
        kind = 1, n = b & 0x0f;
    } else if (b >= 0xa0 && b <= 0xbf) {
        n = b & 0x1f;
    } else {
        static const uint8_t width[32] = {
            /* c0 */ 0, 0, 0, 0, 1, 2, 4, 1, 2, 4, 0, 0, 0, 0, 0, 0,
            /* d0 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 2, 4, 2, 4};
        static const uint8_t fixed[32] = {
            /* c0 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 8, 1, 2, 4, 8,
            /* d0 */ 1, 2, 4, 8, 2, 3, 5, 9, 17, 0, 0, 0, 0, 0, 0, 0};
        if (b == 0xc1)
            return ak_error_at(err, AK_ERR_MALFORMED, at, "message-pack: 0xc1 is not a type byte");
        if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8))
            return ak_error_at(err, AK_ERR_UNSUPPORTED, at,
                               "message-pack: ext values (type byte 0x%02x) are not supported", b);
        uint8_t w = width[b - 0xc0];
        if (w) {
            if (rest < w)
                return ak_error_at(err, AK_ERR_TRUNCATED, at,
                                   "message-pack: input ends inside the length of a value");
            for (uint8_t i = 0; i < w; i++)
                n = (n << 8) | p[*pos + i];
            *pos += w;
            rest -= w;
            kind = b == 0xdc || b == 0xdd ? 1 : b == 0xde || b == 0xdf ? 2 : 0;
        } else {
            n = fixed[b - 0xc0];
            if (b == 0xcf && rest >= 8 && ak_get_be64(p + *pos) > (uint64_t)INT64_MAX)
                return ak_error_at(err, AK_ERR_UNSUPPORTED, at,
                                   "message-pack: unsigned integer %llu is above the largest "
                                   "Aerospike integer (2^63-1)",
                                   (unsigned long long)ak_get_be64(p + *pos));
        }
    }
    if (kind == 0) {
        if (n > rest)
            return ak_error_at(err, AK_ERR_TRUNCATED, at,
                               "message-pack: value declares %llu bytes but only %zu remain",
                               (unsigned long long)n, rest);
        *pos += (size_t)n;
        return AK_OK;
    }
    if (depth >= AK_INBOUND_MAX_DEPTH)
        return ak_error_at(err, AK_ERR_LIMIT, at,
                           "message-pack: arrays and maps nest deeper than %d levels",
                           AK_INBOUND_MAX_DEPTH);
    uint64_t items = kind == 2 ? 2 * n : n;
    if (items > rest) /* every element takes at least one byte */
        return ak_error_at(err, AK_ERR_TRUNCATED, at,
                           "message-pack: %s declares %llu elements but only %zu bytes remain",
                           kind == 2 ? "map" : "array", (unsigned long long)n, rest);
    for (uint64_t i = 0; i < items; i++) {
        ak_status_t st = mp_check(p, len, pos, depth + 1, err);
        if (st != AK_OK)
            return st;
    }
    return AK_OK;
}

static bool mp_to_value(const msgpack_object *o, ak_arena_t *arena, ak_value_t *out)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: *out = ak_value_nil(); return true;
    case MSGPACK_OBJECT_BOOLEAN: *out = ak_value_bool(o->via.boolean); return true;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = ak_value_int((int64_t)o->via.u64); return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = ak_value_int(o->via.i64); return true;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = ak_value_double(o->via.f64); return true;
    case MSGPACK_OBJECT_STR:
        return ak_inbound_copy_bytes(arena, AK_VALUE_STRING, o->via.str.ptr, o->via.str.size, out);
    case MSGPACK_OBJECT_BIN:
        return ak_inbound_copy_bytes(arena, AK_VALUE_BYTES, o->via.bin.ptr, o->via.bin.size, out);
    case MSGPACK_OBJECT_ARRAY: {
        uint32_t n = o->via.array.size;
        ak_value_t *items = ak_arena_alloc_array(arena, n ? n : 1, sizeof *items);
        if (!items)
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!mp_to_value(&o->via.array.ptr[i], arena, &items[i]))
                return false;
        *out = ak_value_list(items, n);
        return true;
    }
    case MSGPACK_OBJECT_MAP: {
        uint32_t n = o->via.map.size;
        ak_value_t *entries = ak_arena_alloc_array(arena, n ? 2 * (size_t)n : 1, sizeof *entries);
        if (!entries)
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!mp_to_value(&o->via.map.ptr[i].key, arena, &entries[2 * i]) ||
                !mp_to_value(&o->via.map.ptr[i].val, arena, &entries[2 * i + 1]))
                return false;
        *out = ak_value_map(entries, n, 0);
        return true;
    }
    default: /* ext: refused by mp_check */
        *out = ak_value_nil();
        return true;
    }
}

static ak_status_t decode_msgpack(const uint8_t *data, size_t len, ak_arena_t *arena,
                                  ak_value_t *out, ak_error_t *err)
{
    size_t pos = 0;
    ak_status_t st = mp_check(data, len, &pos, 0, err);
    if (st != AK_OK)
        return st;
    if (pos != len)
        return ak_error_at(err, AK_ERR_MALFORMED, pos,
                           "message-pack: %zu bytes follow the value (one object per message)",
                           len - pos);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack_next(&result, (const char *)data, len, &off);
    if (rc != MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy(&result);
        return rc == MSGPACK_UNPACK_NOMEM_ERROR
                   ? nomem(err, "message-pack")
                   : ak_error_at(err, AK_ERR_MALFORMED, off, "message-pack: cannot decode");
    }
    bool ok = mp_to_value(&result.data, arena, out);
    msgpack_unpacked_destroy(&result);
    return ok ? AK_OK : nomem(err, "message-pack");
}

/* ======================================================================
 * string, bytes, dispatch
 * ====================================================================== */

static ak_status_t decode_string(const uint8_t *data, size_t len, ak_arena_t *arena,
                                 ak_value_t *out, ak_error_t *err)
{
    if (ak_format_utf8_valid(data, len)) {
        if (!ak_inbound_copy_bytes(arena, AK_VALUE_STRING, data, len, out))
            return nomem(err, "string");
        return AK_OK;
    }
    ak_buf_t clean;
    ak_buf_init(&clean);
    ak_format_utf8_sanitize(&clean, data, len);
    bool ok = !ak_buf_failed(&clean) &&
              ak_inbound_copy_bytes(arena, AK_VALUE_STRING, clean.data, clean.len, out);
    ak_buf_free(&clean);
    return ok ? AK_OK : nomem(err, "string");
}

ak_inbound_decoder_t *ak_inbound_decoder_new(const ak_inbound_format_config_t *cfg,
                                             ak_error_t *err)
{
    ak_inbound_decoder_t *dec = calloc(1, sizeof *dec);
    if (!dec) {
        ak_error_set(err, AK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    dec->cfg = cfg;
    if ((cfg->mode == AK_INBOUND_FORMAT_AVRO || cfg->mode == AK_INBOUND_FORMAT_KAFKA_AVRO) &&
        ak_inbound_avro_new(dec, err) != AK_OK) {
        ak_inbound_decoder_free(dec);
        return NULL;
    }
    return dec;
}

void ak_inbound_decoder_free(ak_inbound_decoder_t *dec)
{
    if (!dec)
        return;
    ak_inbound_avro_free(dec->avro);
    free(dec);
}

void ak_inbound_decoder_borrow_input(ak_inbound_decoder_t *dec, bool borrow)
{
    dec->borrow_input = borrow;
}

uint64_t ak_inbound_decoder_registry_requests(const ak_inbound_decoder_t *dec)
{
    return dec && dec->avro ? ak_inbound_avro_registry_requests(dec->avro) : 0;
}

ak_status_t ak_inbound_decode(ak_inbound_decoder_t *dec, const uint8_t *data, size_t len,
                              ak_arena_t *arena, ak_value_t *out, ak_error_t *err)
{
    *out = ak_value_nil();
    if (!data)
        data = (const uint8_t *)"";
    ak_status_t st = AK_ERR_INVALID_ARG;
    switch (dec->cfg->mode) {
    case AK_INBOUND_FORMAT_JSON: st = decode_json(data, len, dec->borrow_input, arena, out, err); break;
    case AK_INBOUND_FORMAT_CONNECT_JSON: st = decode_connect_json(data, len, arena, out, err); break;
    case AK_INBOUND_FORMAT_AVRO:
    case AK_INBOUND_FORMAT_KAFKA_AVRO: st = ak_inbound_avro_decode(dec, data, len, arena, out, err); break;
    case AK_INBOUND_FORMAT_MESSAGE_PACK: st = decode_msgpack(data, len, arena, out, err); break;
    case AK_INBOUND_FORMAT_STRING: st = decode_string(data, len, arena, out, err); break;
    case AK_INBOUND_FORMAT_BYTES:
        st = ak_inbound_copy_bytes(arena, AK_VALUE_BYTES, data, len, out) ? AK_OK
                                                                          : nomem(err, "bytes");
        break;
    }
    if (st != AK_OK)
        *out = ak_value_nil();
    return st;
}
