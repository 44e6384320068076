/*
 * ak_yaml: a YAML file as a small tree of scalars, sequences and mappings,
 * each node knowing its line and column, so that configuration errors can
 * say FILE:LINE.
 *
 * libyaml does the parsing (anchors and aliases resolved). Only the first
 * document of a stream is read. Scalars keep their text as written; whether
 * a plain scalar is null (empty, ~, null) is decided here, everything else
 * (integers, booleans) by the config layer that knows what it expects.
 * Duplicate keys in a mapping are an error (YAML forbids them; libyaml does
 * not check).
 *
 * The tree and its strings live in one arena owned by the document.
 */
#ifndef AK_YAML_H
#define AK_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "common/ak_arena.h"
#include "common/ak_error.h"

typedef enum ak_yaml_kind {
    AK_YAML_NULL = 0, /* a plain scalar "", "~", "null", "Null" or "NULL" */
    AK_YAML_SCALAR,
    AK_YAML_SEQUENCE,
    AK_YAML_MAPPING,
} ak_yaml_kind_t;

typedef struct ak_yaml_node ak_yaml_node_t;

typedef struct ak_yaml_pair {
    const ak_yaml_node_t *key;   /* a SCALAR (keys of other kinds are refused at load) */
    const ak_yaml_node_t *value;
} ak_yaml_pair_t;

struct ak_yaml_node {
    ak_yaml_kind_t kind;
    unsigned line;   /* 1-based */
    unsigned column; /* 1-based */
    bool quoted;     /* scalar written in quotes (or as a block scalar) */
    const char *text; /* SCALAR / NULL: NUL-terminated text (may hold NULs; see len) */
    size_t len;
    const ak_yaml_node_t **items; /* SEQUENCE */
    size_t n_items;
    const ak_yaml_pair_t *pairs;  /* MAPPING, in file order */
    size_t n_pairs;
};

typedef struct ak_yaml_doc {
    const ak_yaml_node_t *root; /* an empty file gives a NULL-kind root */
    const char *name;           /* the path or name given at load, for messages */
    ak_arena_t arena;
} ak_yaml_doc_t;

/* Loads path. On failure returns NULL and sets err to "PATH:LINE: problem"
 * (or "PATH: strerror" when the file cannot be read). */
ak_yaml_doc_t *ak_yaml_load_file(const char *path, ak_error_t *err);

/* Parses len bytes of text; name is used in messages. */
ak_yaml_doc_t *ak_yaml_load_string(const char *text, size_t len, const char *name,
                                   ak_error_t *err);

void ak_yaml_free(ak_yaml_doc_t *doc);

/* The value under key in a mapping, or NULL (also when map is not a mapping). */
const ak_yaml_node_t *ak_yaml_get(const ak_yaml_node_t *map, const char *key);
/* The key node of that pair, or NULL. */
const ak_yaml_node_t *ak_yaml_get_key(const ak_yaml_node_t *map, const char *key);

/* "a mapping", "a list", "nothing", or the scalar's text quoted and cut to
 * about 40 characters, for "expected X, got Y" messages. */
void ak_yaml_describe(const ak_yaml_node_t *node, char *out, size_t out_size);

#endif
