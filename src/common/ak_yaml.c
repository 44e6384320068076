#include "common/ak_yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Aliases let a small file describe a huge tree ("billion laughs"), and an
 * alias to an enclosing anchor a cyclic one: both are capped. */
#define AK_YAML_MAX_DEPTH 64
#define AK_YAML_MAX_NODES 1000000
#define AK_YAML_MAX_FILE (64u * 1024 * 1024)

typedef struct ak_yaml_builder {
    ak_yaml_doc_t *doc;
    yaml_document_t *ydoc;
    size_t n_nodes;
    ak_error_t *err;
} ak_yaml_builder_t;

static bool ak_yaml_plain_null(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '~') ||
           (len == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
                         memcmp(s, "NULL", 4) == 0));
}

static const ak_yaml_node_t *ak_yaml_convert(ak_yaml_builder_t *b, yaml_node_t *ynode,
                                             unsigned depth);

static ak_status_t ak_yaml_fail(ak_yaml_builder_t *b, const yaml_node_t *ynode, ak_status_t status,
                                const char *what)
{
    return ak_error_set(b->err, status, "%s:%lu: %s", b->doc->name,
                        (unsigned long)ynode->start_mark.line + 1, what);
}

static bool ak_yaml_convert_mapping(ak_yaml_builder_t *b, yaml_node_t *ynode, ak_yaml_node_t *node,
                                    unsigned depth)
{
    size_t n = (size_t)(ynode->data.mapping.pairs.top - ynode->data.mapping.pairs.start);
    ak_yaml_pair_t *pairs = n ? ak_arena_alloc_array(&b->doc->arena, n, sizeof *pairs) : NULL;
    if (n && !pairs) {
        ak_yaml_fail(b, ynode, AK_ERR_NOMEM, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *yp = &ynode->data.mapping.pairs.start[i];
        yaml_node_t *ykey = yaml_document_get_node(b->ydoc, yp->key);
        yaml_node_t *yvalue = yaml_document_get_node(b->ydoc, yp->value);
        if (!ykey || !yvalue) {
            ak_yaml_fail(b, ynode, AK_ERR_MALFORMED, "broken mapping");
            return false;
        }
        if (ykey->type != YAML_SCALAR_NODE) {
            ak_yaml_fail(b, ykey, AK_ERR_UNSUPPORTED, "mapping keys must be plain text");
            return false;
        }
        const ak_yaml_node_t *key = ak_yaml_convert(b, ykey, depth + 1);
        if (!key)
            return false;
        for (size_t j = 0; j < i; j++) {
            if (pairs[j].key->len == key->len && memcmp(pairs[j].key->text, key->text, key->len) == 0) {
                ak_error_set(b->err, AK_ERR_MALFORMED, "%s:%u: duplicate key '%s' (first at line %u)",
                             b->doc->name, key->line, key->text, pairs[j].key->line);
                return false;
            }
        }
        const ak_yaml_node_t *value = ak_yaml_convert(b, yvalue, depth + 1);
        if (!value)
            return false;
        pairs[i].key = key;
        pairs[i].value = value;
    }
    node->pairs = pairs;
    node->n_pairs = n;
    return true;
}

static const ak_yaml_node_t *ak_yaml_convert(ak_yaml_builder_t *b, yaml_node_t *ynode,
                                             unsigned depth)
{
    if (depth > AK_YAML_MAX_DEPTH) {
        ak_yaml_fail(b, ynode, AK_ERR_LIMIT, "nested deeper than 64 levels (or a cyclic alias)");
        return NULL;
    }
    if (++b->n_nodes > AK_YAML_MAX_NODES) {
        ak_yaml_fail(b, ynode, AK_ERR_LIMIT, "more than 1000000 nodes (aliases expanding?)");
        return NULL;
    }
    ak_yaml_node_t *node = ak_arena_alloc(&b->doc->arena, sizeof *node);
    if (!node) {
        ak_yaml_fail(b, ynode, AK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memset(node, 0, sizeof *node);
    node->line = (unsigned)ynode->start_mark.line + 1;
    node->column = (unsigned)ynode->start_mark.column + 1;
    switch (ynode->type) {
    case YAML_SCALAR_NODE: {
        const char *s = (const char *)ynode->data.scalar.value;
        size_t len = ynode->data.scalar.length;
        node->quoted = ynode->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
                       ynode->data.scalar.style != YAML_ANY_SCALAR_STYLE;
        node->kind = !node->quoted && ak_yaml_plain_null(s, len) ? AK_YAML_NULL : AK_YAML_SCALAR;
        node->text = ak_arena_strndup(&b->doc->arena, s, len);
        node->len = len;
        if (!node->text) {
            ak_yaml_fail(b, ynode, AK_ERR_NOMEM, "out of memory");
            return NULL;
        }
        return node;
    }
    case YAML_SEQUENCE_NODE: {
        size_t n = (size_t)(ynode->data.sequence.items.top - ynode->data.sequence.items.start);
        node->kind = AK_YAML_SEQUENCE;
        const ak_yaml_node_t **items =
            n ? ak_arena_alloc_array(&b->doc->arena, n, sizeof *items) : NULL;
        if (n && !items) {
            ak_yaml_fail(b, ynode, AK_ERR_NOMEM, "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *yitem = yaml_document_get_node(b->ydoc, ynode->data.sequence.items.start[i]);
            if (!yitem || !(items[i] = ak_yaml_convert(b, yitem, depth + 1)))
                return NULL;
        }
        node->items = items;
        node->n_items = n;
        return node;
    }
    case YAML_MAPPING_NODE:
        node->kind = AK_YAML_MAPPING;
        return ak_yaml_convert_mapping(b, ynode, node, depth) ? node : NULL;
    default:
        ak_yaml_fail(b, ynode, AK_ERR_MALFORMED, "empty node");
        return NULL;
    }
}

ak_yaml_doc_t *ak_yaml_load_string(const char *text, size_t len, const char *name,
                                   ak_error_t *err)
{
    ak_yaml_doc_t *doc = calloc(1, sizeof *doc);
    if (!doc) {
        ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    ak_arena_init(&doc->arena, 16384);
    doc->name = ak_arena_strndup(&doc->arena, name, strlen(name));
    if (!doc->name) {
        ak_yaml_free(doc);
        ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }

    yaml_parser_t parser;
    yaml_document_t ydoc;
    if (!yaml_parser_initialize(&parser)) {
        ak_yaml_free(doc);
        ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &ydoc)) {
        size_t line = parser.problem_mark.line + 1;
        if (parser.error == YAML_MEMORY_ERROR)
            ak_error_set(err, AK_ERR_NOMEM, "%s: out of memory", name);
        else if (parser.context)
            ak_error_set(err, AK_ERR_MALFORMED, "%s:%zu: %s (%s at line %zu)", name, line,
                         parser.problem ? parser.problem : "malformed YAML", parser.context,
                         parser.context_mark.line + 1);
        else
            ak_error_set(err, AK_ERR_MALFORMED, "%s:%zu: %s", name, line,
                         parser.problem ? parser.problem : "malformed YAML");
        yaml_parser_delete(&parser);
        ak_yaml_free(doc);
        return NULL;
    }
    yaml_parser_delete(&parser);

    yaml_node_t *yroot = yaml_document_get_root_node(&ydoc);
    if (!yroot) {
        static const ak_yaml_node_t empty = {.kind = AK_YAML_NULL, .line = 1, .column = 1, .text = "", .len = 0};
        doc->root = &empty;
    } else {
        ak_yaml_builder_t b = {.doc = doc, .ydoc = &ydoc, .err = err};
        doc->root = ak_yaml_convert(&b, yroot, 0);
    }
    yaml_document_delete(&ydoc);
    if (!doc->root) {
        ak_yaml_free(doc);
        return NULL;
    }
    return doc;
}

ak_yaml_doc_t *ak_yaml_load_file(const char *path, ak_error_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ak_error_set(err, AK_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *ntext = ncap <= AK_YAML_MAX_FILE ? realloc(text, ncap) : NULL;
            if (!ntext) {
                free(text);
                fclose(f);
                ak_error_set(err, ncap > AK_YAML_MAX_FILE ? AK_ERR_LIMIT : AK_ERR_NOMEM,
                             "%s: larger than 64 MiB or out of memory", path);
                return NULL;
            }
            text = ntext;
            cap = ncap;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int read_error = ferror(f);
    fclose(f);
    if (read_error) {
        free(text);
        ak_error_set(err, AK_ERR_IO, "%s: read error", path);
        return NULL;
    }
    ak_yaml_doc_t *doc = ak_yaml_load_string(text, len, path, err);
    free(text);
    return doc;
}

void ak_yaml_free(ak_yaml_doc_t *doc)
{
    if (!doc)
        return;
    ak_arena_destroy(&doc->arena);
    free(doc);
}

const ak_yaml_node_t *ak_yaml_get_key(const ak_yaml_node_t *map, const char *key)
{
    if (!map || map->kind != AK_YAML_MAPPING)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < map->n_pairs; i++)
        if (map->pairs[i].key->len == len && memcmp(map->pairs[i].key->text, key, len) == 0)
            return map->pairs[i].key;
    return NULL;
}

const ak_yaml_node_t *ak_yaml_get(const ak_yaml_node_t *map, const char *key)
{
    if (!map || map->kind != AK_YAML_MAPPING)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < map->n_pairs; i++)
        if (map->pairs[i].key->len == len && memcmp(map->pairs[i].key->text, key, len) == 0)
            return map->pairs[i].value;
    return NULL;
}

void ak_yaml_describe(const ak_yaml_node_t *node, char *out, size_t out_size)
{
    if (out_size == 0)
        return;
    if (!node || node->kind == AK_YAML_NULL) {
        snprintf(out, out_size, "nothing");
        return;
    }
    if (node->kind == AK_YAML_MAPPING) {
        snprintf(out, out_size, "a mapping");
        return;
    }
    if (node->kind == AK_YAML_SEQUENCE) {
        snprintf(out, out_size, "a list");
        return;
    }
    /* Quote the text, escaping what would make the message ambiguous. */
    size_t o = 0;
    const size_t cut = 40;
    if (o + 1 < out_size)
        out[o++] = '"';
    for (size_t i = 0; i < node->len && o + 6 < out_size; i++) {
        if (i == cut) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)node->text[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    if (o + 1 < out_size)
        out[o++] = '"';
    out[o < out_size ? o : out_size - 1] = '\0';
}
