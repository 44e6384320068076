/*
 * ak_config: declarative configuration tables.
 *
 * One table per YAML section lists its keys: name, type, default, range,
 * help, whether Aerospike's Java connector has the key, and the offset of the
 * field the value lands in. The same table drives parsing (with
 * "FILE:LINE: section.key: expected X, got Y" errors), defaults, freeing,
 * and the generated Markdown reference (docs/CONFIGURATION.md).
 *
 * Conventions:
 * - A YAML null (`key:` with nothing, `~`, `null`) means "not given": the
 *   default stays.
 * - Unknown keys are errors, with a suggestion by edit distance.
 * - Strings, lists and maps are malloc'd and owned by the struct they land
 *   in; ak_config_free releases them by walking the same table.
 */
#ifndef AK_CONFIG_H
#define AK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ak_buf.h"
#include "common/ak_error.h"
#include "common/ak_yaml.h"

/* A list of strings (STRING_LIST). */
typedef struct ak_config_strings {
    char **items;
    size_t n;
} ak_config_strings_t;

/* A list of integers (INT_LIST). */
typedef struct ak_config_ints {
    int64_t *items;
    size_t n;
} ak_config_ints_t;

/* An ordered name/value list (STRING_MAP). */
typedef struct ak_config_pair {
    char *name;
    char *value;
    unsigned line; /* where the key was written, for later messages */
} ak_config_pair_t;

typedef struct ak_config_pairs {
    ak_config_pair_t *items;
    size_t n;
} ak_config_pairs_t;

/* A mapping of names to sections of one table (SECTION_MAP), e.g.
 * `namespaces: {users: {...}, other: {...}}`. */
typedef struct ak_config_named {
    char *name;
    unsigned line;
    void *obj; /* a struct of the key's table, malloc'd */
} ak_config_named_t;

typedef struct ak_config_section_map {
    ak_config_named_t *items;
    size_t n;
} ak_config_section_map_t;

typedef enum ak_config_type {
    AK_CFG_STRING,       /* char *; any scalar, as written */
    AK_CFG_PATH,         /* char *; a file path, resolved against the config file's directory */
    AK_CFG_INT,          /* int64_t in min..max */
    AK_CFG_INT_LIST,     /* ak_config_ints_t; an integer or a list of them */
    AK_CFG_BOOL,         /* bool; true/false (also yes/no, on/off) */
    AK_CFG_ENUM,         /* int (an enum); one of values[] */
    AK_CFG_STRING_LIST,  /* ak_config_strings_t; a scalar or a list of scalars */
    AK_CFG_STRING_MAP,   /* ak_config_pairs_t; values may be lists (comma-joined) */
    AK_CFG_SECTION,      /* a struct of table `section`, embedded at offset */
    AK_CFG_SECTION_PTR,  /* a pointer to a malloc'd struct of `section`; NULL when absent */
    AK_CFG_SECTION_MAP,  /* ak_config_section_map_t of `section` structs */
    AK_CFG_CUSTOM,       /* parsed by parse(), freed by free_fn() */
    AK_CFG_REJECT,       /* a key of Aerospike's connector aerokafka refuses; help says why */
} ak_config_type_t;

typedef struct ak_config_enum {
    const char *name;
    int value;
    const char *reject; /* non-NULL: the value exists in Aerospike's connector but is
                           refused; this says why */
    const char *alias_of; /* non-NULL: documented as an alias of that value */
} ak_config_enum_t;

typedef struct ak_config_ctx ak_config_ctx_t;
typedef struct ak_config_key ak_config_key_t;
typedef struct ak_config_table ak_config_table_t;

/* Parses node (never NULL-kind) into field. path is "section.key". */
typedef ak_status_t (*ak_config_parse_fn)(ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                          const char *path, const ak_yaml_node_t *node,
                                          void *field, ak_error_t *err);
typedef void (*ak_config_free_fn)(void *field);
/* Cross-key checks of a parsed section. node is the section's mapping (or
 * NULL when absent), key_node the key that introduced it (NULL at top level). */
typedef ak_status_t (*ak_config_validate_fn)(ak_config_ctx_t *ctx, const char *path,
                                             const ak_yaml_node_t *key_node,
                                             const ak_yaml_node_t *node, void *obj,
                                             ak_error_t *err);

struct ak_config_key {
    const char *name;
    ak_config_type_t type;
    size_t offset;
    const char *def;       /* default, as YAML text parsed by the key's own rules; NULL: none */
    const char *def_doc;   /* default as documented, when it differs from def */
    int64_t min, max;      /* INT, INT_LIST (when min < max); SECTION_MAP: integer keys in min..max */
    const ak_config_enum_t *values; /* ENUM; ends with a {NULL} entry */
    const ak_config_table_t *section; /* SECTION, SECTION_PTR, SECTION_MAP; CUSTOM: a table
                                         its items use, rendered in the docs */
    ak_config_parse_fn parse;         /* CUSTOM */
    ak_config_free_fn free_fn;        /* CUSTOM */
    const char *type_doc;  /* CUSTOM: the type as docs and errors name it */
    const char *help;
    bool in_aerospike;     /* Aerospike's Java connector has this key */
    bool required;
    bool has_present;      /* set the bool at present_offset when the key is given */
    size_t present_offset;
};

struct ak_config_table {
    const char *name;      /* for docs: the section as users write it */
    const char *doc;       /* paragraph shown above the key table */
    size_t size;           /* sizeof the struct (SECTION_PTR, SECTION_MAP) */
    const ak_config_key_t *keys;
    size_t n_keys;
    ak_config_validate_fn validate;
    ak_config_free_fn free_extra; /* frees what validate added */
};

/* Shared by every parse call of one file. */
struct ak_config_ctx {
    const char *file; /* as given to the loader, for messages */
    const char *dir;  /* directory of the file, for AK_CFG_PATH */
    void *user;       /* the loader's own state */
    ak_config_strings_t notes; /* "FILE:LINE: ..." notes to log at start (ignored keys) */
};

#define AK_CFG_PRESENT(type, field) .has_present = true, .present_offset = offsetof(type, field)

/* Applies the defaults of t to obj (which the caller zeroed), parses node
 * (a mapping, or NULL-kind / NULL pointer for "absent") into obj, then runs
 * t->validate. On failure obj may be partly filled: free it with
 * ak_config_free. */
ak_status_t ak_config_parse(ak_config_ctx_t *ctx, const ak_config_table_t *t, const char *path,
                            const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                            void *obj, ak_error_t *err);

/* Releases everything t's keys own in obj (not obj itself). */
void ak_config_free(const ak_config_table_t *t, void *obj);

/* Sets err to "FILE:LINE: message" for node (line 1 when node is NULL). */
ak_status_t ak_config_error(const ak_config_ctx_t *ctx, const ak_yaml_node_t *node,
                            ak_error_t *err, ak_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Appends a "FILE:LINE: message" note to ctx->notes. */
void ak_config_note(ak_config_ctx_t *ctx, const ak_yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Joins path and key with '.' into out ("" path: just key). */
void ak_config_join_path(char *out, size_t out_size, const char *path, const char *key);

/* A scalar as a string ("a,b" for a list of scalars when join_lists). NULL
 * with an error naming path for other shapes. malloc'd. */
char *ak_config_scalar_string(const ak_config_ctx_t *ctx, const char *path,
                              const ak_yaml_node_t *node, bool join_lists, ak_error_t *err);

/* path resolved against ctx->dir unless absolute; malloc'd. */
char *ak_config_resolve_path(const ak_config_ctx_t *ctx, const char *path);

/* The closest of candidates to word by edit distance, or NULL when none is
 * close (distance above a third of the word's length, at least 2). */
const char *ak_config_suggest(const char *word, const char *const *candidates, size_t n);

void ak_config_strings_free(ak_config_strings_t *list);
bool ak_config_strings_push(ak_config_strings_t *list, const char *s);
bool ak_config_strings_contains(const ak_config_strings_t *list, const char *s, size_t len);
void ak_config_pairs_free(ak_config_pairs_t *pairs);

/* The directory of a configuration file, against which the paths it names
 * resolve: "." for a bare name, "/" for a file at the root. malloc'd; NULL
 * when out of memory. */
char *ak_config_dir_of(const char *path);

/* The type as the docs name it ("integer 1..65535, or a list of them"). */
void ak_config_describe_type(const ak_config_key_t *key, char *out, size_t out_size);

/* Renders t as Markdown: a "### `path`" heading, t->doc, and a table of
 * key | type | default | meaning | in Aerospike's connector. Nested sections
 * follow, each table once (seen[] holds those already printed, n_seen its
 * count, capacity max_seen). */
void ak_config_render_markdown(const ak_config_table_t *t, const char *path, ak_buf_t *out,
                               const ak_config_table_t **seen, size_t *n_seen, size_t max_seen);

#endif
