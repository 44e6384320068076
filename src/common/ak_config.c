#include "common/ak_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AK_CONFIG_PATH_MAX 256

static void *ak_config_field(void *obj, const ak_config_key_t *key)
{
    return (char *)obj + key->offset;
}

ak_status_t ak_config_error(const ak_config_ctx_t *ctx, const ak_yaml_node_t *node,
                            ak_error_t *err, ak_status_t status, const char *fmt, ...)
{
    if (!err)
        return status;
    char msg[AK_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ak_error_set(err, status, "%s:%u: %s", ctx->file, node ? node->line : 1, msg);
}

void ak_config_note(ak_config_ctx_t *ctx, const ak_yaml_node_t *node, const char *fmt, ...)
{
    char msg[512], line[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s:%u: %s", ctx->file, node ? node->line : 1, msg);
    /* A note that cannot be stored is only lost information, never a wrong
     * configuration. */
    (void)ak_config_strings_push(&ctx->notes, line);
}

void ak_config_join_path(char *out, size_t out_size, const char *path, const char *key)
{
    if (path && path[0])
        snprintf(out, out_size, "%s.%s", path, key);
    else
        snprintf(out, out_size, "%s", key);
}

/* ---- small containers ---- */

void ak_config_strings_free(ak_config_strings_t *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

bool ak_config_strings_push(ak_config_strings_t *list, const char *s)
{
    char *copy = strdup(s);
    char **items = copy ? realloc(list->items, (list->n + 1) * sizeof *items) : NULL;
    if (!items) {
        free(copy);
        return false;
    }
    items[list->n++] = copy;
    list->items = items;
    return true;
}

bool ak_config_strings_contains(const ak_config_strings_t *list, const char *s, size_t len)
{
    for (size_t i = 0; i < list->n; i++)
        if (strlen(list->items[i]) == len && memcmp(list->items[i], s, len) == 0)
            return true;
    return false;
}

void ak_config_pairs_free(ak_config_pairs_t *pairs)
{
    for (size_t i = 0; i < pairs->n; i++) {
        free(pairs->items[i].name);
        free(pairs->items[i].value);
    }
    free(pairs->items);
    pairs->items = NULL;
    pairs->n = 0;
}

/* ---- edit distance ---- */

static size_t ak_config_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *ak_config_suggest(const char *word, const char *const *candidates, size_t n)
{
    size_t limit = strlen(word) / 3;
    if (limit < 2)
        limit = 2;
    const char *best = NULL;
    size_t best_distance = SIZE_MAX;
    size_t wlen = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = ak_config_distance(word, candidates[i]);
        /* A shortened key ("replace" for "replacement") is close too. */
        size_t clen = strlen(candidates[i]);
        if (wlen >= 4 && clen > wlen && strncmp(word, candidates[i], wlen) == 0 && limit < d)
            d = limit;
        if (d < best_distance) {
            best_distance = d;
            best = candidates[i];
        }
    }
    return best_distance <= limit ? best : NULL;
}

/* ---- scalars ---- */

char *ak_config_resolve_path(const ak_config_ctx_t *ctx, const char *path)
{
    if (path[0] == '/' || !ctx->dir || !ctx->dir[0] || strcmp(ctx->dir, ".") == 0)
        return strdup(path);
    size_t ld = strlen(ctx->dir), lp = strlen(path);
    char *out = malloc(ld + 1 + lp + 1);
    if (!out)
        return NULL;
    memcpy(out, ctx->dir, ld);
    out[ld] = '/';
    memcpy(out + ld + 1, path, lp + 1);
    return out;
}

char *ak_config_scalar_string(const ak_config_ctx_t *ctx, const char *path,
                              const ak_yaml_node_t *node, bool join_lists, ak_error_t *err)
{
    char got[64];
    if (node->kind == AK_YAML_SCALAR || node->kind == AK_YAML_NULL) {
        char *s = strdup(node->text);
        if (!s)
            ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
        return s;
    }
    if (node->kind == AK_YAML_SEQUENCE && join_lists) {
        size_t total = 1;
        for (size_t i = 0; i < node->n_items; i++) {
            const ak_yaml_node_t *item = node->items[i];
            if (item->kind != AK_YAML_SCALAR) {
                ak_yaml_describe(item, got, sizeof got);
                ak_config_error(ctx, item, err, AK_ERR_INVALID_ARG,
                                "%s: expected a list of strings, got %s in the list", path, got);
                return NULL;
            }
            total += item->len + 1;
        }
        char *s = malloc(total);
        if (!s) {
            ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
            return NULL;
        }
        size_t o = 0;
        for (size_t i = 0; i < node->n_items; i++) {
            if (i)
                s[o++] = ',';
            memcpy(s + o, node->items[i]->text, node->items[i]->len);
            o += node->items[i]->len;
        }
        s[o] = '\0';
        return s;
    }
    ak_yaml_describe(node, got, sizeof got);
    ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG, "%s: expected %s, got %s", path,
                    join_lists ? "a string or a list of strings" : "a string", got);
    return NULL;
}

static void ak_config_int_expectation(const ak_config_key_t *key, char *out, size_t out_size)
{
    if (key->min < key->max)
        snprintf(out, out_size, "an integer %" PRId64 "..%" PRId64, key->min, key->max);
    else
        snprintf(out, out_size, "an integer");
}

static ak_status_t ak_config_parse_int(const ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                       const char *path, const ak_yaml_node_t *node,
                                       int64_t *out, ak_error_t *err)
{
    char expected[80], got[64];
    ak_config_int_expectation(key, expected, sizeof expected);
    bool ok = node->kind == AK_YAML_SCALAR && node->len > 0;
    long long v = 0;
    if (ok) {
        char *end = NULL;
        errno = 0;
        v = strtoll(node->text, &end, 10);
        ok = errno == 0 && end == node->text + node->len && node->text[0] != ' ' &&
             node->text[0] != '\t' && node->text[0] != '\n';
    }
    if (ok && key->min < key->max && (v < key->min || v > key->max))
        ok = false;
    if (!ok) {
        ak_yaml_describe(node, got, sizeof got);
        return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG, "%s: expected %s, got %s", path,
                               expected, got);
    }
    *out = v;
    return AK_OK;
}

static ak_status_t ak_config_parse_bool(const ak_config_ctx_t *ctx, const char *path,
                                        const ak_yaml_node_t *node, bool *out, ak_error_t *err)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    if (node->kind == AK_YAML_SCALAR) {
        for (size_t i = 0; i < 3; i++) {
            if (strcasecmp(node->text, yes[i]) == 0) {
                *out = true;
                return AK_OK;
            }
            if (strcasecmp(node->text, no[i]) == 0) {
                *out = false;
                return AK_OK;
            }
        }
    }
    char got[64];
    ak_yaml_describe(node, got, sizeof got);
    return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG, "%s: expected true or false, got %s",
                           path, got);
}

static void ak_config_enum_list(const ak_config_enum_t *values, char *out, size_t out_size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; values[i].name; i++) {
        if (values[i].reject || values[i].alias_of)
            continue;
        int w = snprintf(out + o, out_size - o, "%s%s", o ? ", " : "", values[i].name);
        if (w < 0 || (size_t)w >= out_size - o)
            break;
        o += (size_t)w;
    }
}

static ak_status_t ak_config_parse_enum(const ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                        const char *path, const ak_yaml_node_t *node, int *out,
                                        ak_error_t *err)
{
    if (node->kind == AK_YAML_SCALAR) {
        /* Case-insensitive: Aerospike's own samples mix `TCP` and `tcp`. */
        for (size_t i = 0; key->values[i].name; i++) {
            if (strcasecmp(node->text, key->values[i].name) != 0)
                continue;
            if (key->values[i].reject)
                return ak_config_error(ctx, node, err, AK_ERR_UNSUPPORTED, "%s: '%s' %s", path,
                                       key->values[i].name, key->values[i].reject);
            *out = key->values[i].value;
            return AK_OK;
        }
    }
    char list[200], got[64];
    ak_config_enum_list(key->values, list, sizeof list);
    ak_yaml_describe(node, got, sizeof got);
    return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG, "%s: expected one of %s, got %s",
                           path, list, got);
}

/* ---- freeing ---- */

static void ak_config_free_field(const ak_config_key_t *key, void *field)
{
    switch (key->type) {
    case AK_CFG_STRING:
    case AK_CFG_PATH:
        free(*(char **)field);
        *(char **)field = NULL;
        break;
    case AK_CFG_INT_LIST: {
        ak_config_ints_t *list = field;
        free(list->items);
        list->items = NULL;
        list->n = 0;
        break;
    }
    case AK_CFG_STRING_LIST:
        ak_config_strings_free(field);
        break;
    case AK_CFG_STRING_MAP:
        ak_config_pairs_free(field);
        break;
    case AK_CFG_SECTION:
        ak_config_free(key->section, field);
        memset(field, 0, key->section->size);
        break;
    case AK_CFG_SECTION_PTR: {
        void **ptr = field;
        if (*ptr) {
            ak_config_free(key->section, *ptr);
            free(*ptr);
            *ptr = NULL;
        }
        break;
    }
    case AK_CFG_SECTION_MAP: {
        ak_config_section_map_t *map = field;
        for (size_t i = 0; i < map->n; i++) {
            free(map->items[i].name);
            if (map->items[i].obj) {
                ak_config_free(key->section, map->items[i].obj);
                free(map->items[i].obj);
            }
        }
        free(map->items);
        map->items = NULL;
        map->n = 0;
        break;
    }
    case AK_CFG_CUSTOM:
        if (key->free_fn)
            key->free_fn(field);
        break;
    default:
        break;
    }
}

void ak_config_free(const ak_config_table_t *t, void *obj)
{
    if (!obj)
        return;
    for (size_t i = 0; i < t->n_keys; i++)
        ak_config_free_field(&t->keys[i], ak_config_field(obj, &t->keys[i]));
    if (t->free_extra)
        t->free_extra(obj);
}

/* ---- parsing ---- */

static ak_status_t ak_config_parse_section_map(ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                               const char *path, const ak_yaml_node_t *node,
                                               ak_config_section_map_t *map, ak_error_t *err)
{
    char got[64];
    if (node->kind != AK_YAML_MAPPING) {
        ak_yaml_describe(node, got, sizeof got);
        return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG, "%s: expected a mapping, got %s",
                               path, got);
    }
    map->items = node->n_pairs ? calloc(node->n_pairs, sizeof *map->items) : NULL;
    if (node->n_pairs && !map->items)
        return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < node->n_pairs; i++) {
        const ak_yaml_node_t *name = node->pairs[i].key;
        if (key->min < key->max) {
            int64_t unused;
            ak_config_key_t int_key = {.name = key->name, .min = key->min, .max = key->max};
            ak_status_t st = ak_config_parse_int(ctx, &int_key, path, name, &unused, err);
            if (st != AK_OK)
                return st;
        } else if (name->len == 0) {
            return ak_config_error(ctx, name, err, AK_ERR_INVALID_ARG, "%s: empty name", path);
        }
        ak_config_named_t *item = &map->items[map->n++];
        item->name = strdup(name->text);
        item->line = name->line;
        item->obj = calloc(1, key->section->size);
        if (!item->name || !item->obj)
            return ak_config_error(ctx, name, err, AK_ERR_NOMEM, "%s: out of memory", path);
        char sub[AK_CONFIG_PATH_MAX];
        ak_config_join_path(sub, sizeof sub, path, name->text);
        ak_status_t st = ak_config_parse(ctx, key->section, sub, name, node->pairs[i].value,
                                         item->obj, err);
        if (st != AK_OK)
            return st;
    }
    return AK_OK;
}

static ak_status_t ak_config_parse_value(ak_config_ctx_t *ctx, const ak_config_key_t *key,
                                         const char *path, const ak_yaml_node_t *key_node,
                                         const ak_yaml_node_t *node, void *field, ak_error_t *err)
{
    char got[64];
    switch (key->type) {
    case AK_CFG_STRING:
    case AK_CFG_PATH: {
        char *s = ak_config_scalar_string(ctx, path, node, false, err);
        if (!s)
            return err ? err->status : AK_ERR_INVALID_ARG;
        if (key->type == AK_CFG_PATH) {
            char *resolved = ak_config_resolve_path(ctx, s);
            free(s);
            if (!resolved)
                return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
            s = resolved;
        }
        *(char **)field = s;
        return AK_OK;
    }
    case AK_CFG_INT:
        return ak_config_parse_int(ctx, key, path, node, field, err);
    case AK_CFG_INT_LIST: {
        ak_config_ints_t *list = field;
        size_t n = node->kind == AK_YAML_SEQUENCE ? node->n_items : 1;
        if (node->kind == AK_YAML_MAPPING || n == 0) {
            char expected[80];
            ak_config_int_expectation(key, expected, sizeof expected);
            ak_yaml_describe(node, got, sizeof got);
            return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG,
                                   "%s: expected %s or a non-empty list of them, got %s", path,
                                   expected, n == 0 ? "an empty list" : got);
        }
        list->items = calloc(n, sizeof *list->items);
        if (!list->items)
            return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < n; i++) {
            const ak_yaml_node_t *item = node->kind == AK_YAML_SEQUENCE ? node->items[i] : node;
            ak_status_t st = ak_config_parse_int(ctx, key, path, item, &list->items[i], err);
            if (st != AK_OK)
                return st;
            list->n++;
        }
        return AK_OK;
    }
    case AK_CFG_BOOL:
        return ak_config_parse_bool(ctx, path, node, field, err);
    case AK_CFG_ENUM:
        return ak_config_parse_enum(ctx, key, path, node, field, err);
    case AK_CFG_STRING_LIST: {
        ak_config_strings_t *list = field;
        size_t n = node->kind == AK_YAML_SEQUENCE ? node->n_items : 1;
        for (size_t i = 0; i < n; i++) {
            const ak_yaml_node_t *item = node->kind == AK_YAML_SEQUENCE ? node->items[i] : node;
            if (item->kind != AK_YAML_SCALAR) {
                ak_yaml_describe(item, got, sizeof got);
                return ak_config_error(ctx, item, err, AK_ERR_INVALID_ARG,
                                       "%s: expected a string or a list of strings, got %s%s", path,
                                       got, item == node ? "" : " in the list");
            }
            if (!ak_config_strings_push(list, item->text))
                return ak_config_error(ctx, item, err, AK_ERR_NOMEM, "%s: out of memory", path);
        }
        return AK_OK;
    }
    case AK_CFG_STRING_MAP: {
        ak_config_pairs_t *pairs = field;
        if (node->kind != AK_YAML_MAPPING) {
            ak_yaml_describe(node, got, sizeof got);
            return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG,
                                   "%s: expected a mapping of names to values, got %s", path, got);
        }
        pairs->items = node->n_pairs ? calloc(node->n_pairs, sizeof *pairs->items) : NULL;
        if (node->n_pairs && !pairs->items)
            return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < node->n_pairs; i++) {
            const ak_yaml_node_t *name = node->pairs[i].key, *value = node->pairs[i].value;
            if (value->kind == AK_YAML_NULL)
                continue;
            char sub[AK_CONFIG_PATH_MAX];
            ak_config_join_path(sub, sizeof sub, path, name->text);
            ak_config_pair_t *pair = &pairs->items[pairs->n];
            pair->value = ak_config_scalar_string(ctx, sub, value, true, err);
            if (!pair->value)
                return err ? err->status : AK_ERR_INVALID_ARG;
            pair->name = strdup(name->text);
            pair->line = name->line;
            pairs->n++;
            if (!pair->name)
                return ak_config_error(ctx, name, err, AK_ERR_NOMEM, "%s: out of memory", path);
        }
        return AK_OK;
    }
    case AK_CFG_SECTION:
        ak_config_free(key->section, field);
        memset(field, 0, key->section->size);
        return ak_config_parse(ctx, key->section, path, key_node, node, field, err);
    case AK_CFG_SECTION_PTR: {
        void **ptr = field;
        *ptr = calloc(1, key->section->size);
        if (!*ptr)
            return ak_config_error(ctx, node, err, AK_ERR_NOMEM, "%s: out of memory", path);
        return ak_config_parse(ctx, key->section, path, key_node, node, *ptr, err);
    }
    case AK_CFG_SECTION_MAP:
        return ak_config_parse_section_map(ctx, key, path, node, field, err);
    case AK_CFG_CUSTOM:
        return key->parse(ctx, key, path, node, field, err);
    case AK_CFG_REJECT:
        return ak_config_error(ctx, key_node ? key_node : node, err, AK_ERR_UNSUPPORTED, "%s: %s",
                               path, key->help);
    }
    return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG, "%s: unknown key type", path);
}

ak_status_t ak_config_parse(ak_config_ctx_t *ctx, const ak_config_table_t *t, const char *path,
                            const ak_yaml_node_t *key_node, const ak_yaml_node_t *node,
                            void *obj, ak_error_t *err)
{
    char sub[AK_CONFIG_PATH_MAX], got[64];
    /* Defaults first, parsed by the same rules as the file's values. */
    for (size_t i = 0; i < t->n_keys; i++) {
        const ak_config_key_t *key = &t->keys[i];
        void *field = ak_config_field(obj, key);
        ak_config_join_path(sub, sizeof sub, path, key->name);
        ak_status_t st = AK_OK;
        if (key->type == AK_CFG_SECTION) {
            st = ak_config_parse(ctx, key->section, sub, NULL, NULL, field, err);
        } else if (key->def) {
            ak_yaml_node_t def = {.kind = AK_YAML_SCALAR, .line = 0, .text = key->def,
                                  .len = strlen(key->def)};
            st = ak_config_parse_value(ctx, key, sub, NULL, &def, field, err);
        }
        if (st != AK_OK)
            return st;
    }
    if (node && node->kind != AK_YAML_NULL) {
        if (node->kind != AK_YAML_MAPPING) {
            ak_yaml_describe(node, got, sizeof got);
            if (path[0])
                return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG,
                                       "%s: expected a mapping of keys, got %s", path, got);
            return ak_config_error(ctx, node, err, AK_ERR_INVALID_ARG,
                                   "expected a mapping of sections at the top level, got %s", got);
        }
        for (size_t p = 0; p < node->n_pairs; p++) {
            const ak_yaml_node_t *name = node->pairs[p].key, *value = node->pairs[p].value;
            const ak_config_key_t *key = NULL;
            for (size_t i = 0; i < t->n_keys && !key; i++)
                if (strcmp(t->keys[i].name, name->text) == 0)
                    key = &t->keys[i];
            if (!key) {
                const char *names[128];
                size_t n = 0;
                for (size_t i = 0; i < t->n_keys && n < 128; i++)
                    names[n++] = t->keys[i].name;
                const char *hint = ak_config_suggest(name->text, names, n);
                char where[AK_CONFIG_PATH_MAX + 2];
                snprintf(where, sizeof where, "%s%s", path, path[0] ? ": " : "");
                if (hint)
                    return ak_config_error(ctx, name, err, AK_ERR_INVALID_ARG,
                                           "%sunknown key '%s' (did you mean '%s'?)", where,
                                           name->text, hint);
                return ak_config_error(ctx, name, err, AK_ERR_INVALID_ARG, "%sunknown key '%s'",
                                       where, name->text);
            }
            ak_config_join_path(sub, sizeof sub, path, key->name);
            if (value->kind == AK_YAML_NULL) {
                if (key->type == AK_CFG_REJECT)
                    return ak_config_error(ctx, name, err, AK_ERR_UNSUPPORTED, "%s: %s", sub,
                                           key->help);
                continue; /* "not given": the default stays */
            }
            void *field = ak_config_field(obj, key);
            if (key->type != AK_CFG_SECTION)
                ak_config_free_field(key, field); /* drop the default */
            ak_status_t st = ak_config_parse_value(ctx, key, sub, name, value, field, err);
            if (st != AK_OK)
                return st;
            if (key->has_present)
                *(bool *)((char *)obj + key->present_offset) = true;
        }
    }
    /* Required keys are required of a section that is written; an absent
     * section keeps its defaults (a SECTION_PTR one stays NULL). */
    for (size_t i = 0; i < t->n_keys && node && node->kind == AK_YAML_MAPPING; i++) {
        const ak_config_key_t *key = &t->keys[i];
        const ak_yaml_node_t *value = ak_yaml_get(node, key->name);
        if (key->required && (!value || value->kind == AK_YAML_NULL)) {
            ak_config_join_path(sub, sizeof sub, path, key->name);
            return ak_config_error(ctx, key_node ? key_node : node, err, AK_ERR_INVALID_ARG,
                                   "%s: required", sub);
        }
    }
    if (t->validate)
        return t->validate(ctx, path, key_node, node && node->kind == AK_YAML_MAPPING ? node : NULL,
                           obj, err);
    return AK_OK;
}

/* ---- documentation ---- */

void ak_config_describe_type(const ak_config_key_t *key, char *out, size_t out_size)
{
    char range[96] = "";
    if (key->min < key->max)
        snprintf(range, sizeof range, " %" PRId64 "..%" PRId64, key->min, key->max);
    switch (key->type) {
    case AK_CFG_STRING: snprintf(out, out_size, "string"); break;
    case AK_CFG_PATH: snprintf(out, out_size, "file path (relative: to the config file's directory)"); break;
    case AK_CFG_INT: snprintf(out, out_size, "integer%s", range); break;
    case AK_CFG_INT_LIST: snprintf(out, out_size, "integer%s, or a list of them", range); break;
    case AK_CFG_BOOL: snprintf(out, out_size, "boolean"); break;
    case AK_CFG_ENUM: {
        size_t o = (size_t)snprintf(out, out_size, "one of");
        const char *sep = " ";
        for (size_t i = 0; key->values[i].name && o < out_size; i++) {
            const ak_config_enum_t *v = &key->values[i];
            if (v->reject)
                continue;
            int w = v->alias_of ? snprintf(out + o, out_size - o, "%s`%s` (alias of `%s`)", sep,
                                           v->name, v->alias_of)
                                : snprintf(out + o, out_size - o, "%s`%s`", sep, v->name);
            sep = ", ";
            if (w < 0)
                break;
            o += (size_t)w;
        }
        break;
    }
    case AK_CFG_STRING_LIST: snprintf(out, out_size, "string, or a list of strings"); break;
    case AK_CFG_STRING_MAP: snprintf(out, out_size, "mapping of names to strings (a list value is comma-joined)"); break;
    case AK_CFG_SECTION:
    case AK_CFG_SECTION_PTR: snprintf(out, out_size, "section `%s`", key->section->name); break;
    case AK_CFG_SECTION_MAP:
        snprintf(out, out_size, "mapping of %s to `%s` sections",
                 key->min < key->max ? "ports" : "names", key->section->name);
        break;
    case AK_CFG_CUSTOM: snprintf(out, out_size, "%s", key->type_doc ? key->type_doc : "see text"); break;
    case AK_CFG_REJECT: snprintf(out, out_size, "refused"); break;
    }
}

static void ak_config_append_cell(ak_buf_t *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            ak_buf_append_byte(out, '\\');
        ak_buf_append_byte(out, *s == '\n' ? ' ' : (uint8_t)*s);
    }
}

void ak_config_render_markdown(const ak_config_table_t *t, const char *path, ak_buf_t *out,
                               const ak_config_table_t **seen, size_t *n_seen, size_t max_seen)
{
    for (size_t i = 0; i < *n_seen; i++)
        if (seen[i] == t)
            return;
    if (*n_seen < max_seen)
        seen[(*n_seen)++] = t;
    const char *title = t->name && t->name[0] ? t->name : path;
    ak_buf_append_str(out, "### ");
    if (title && title[0]) {
        ak_buf_append_str(out, "`");
        ak_buf_append_str(out, title);
        ak_buf_append_str(out, "`");
    } else {
        ak_buf_append_str(out, "Top level");
    }
    ak_buf_append_str(out, "\n\n");
    if (t->doc) {
        ak_buf_append_str(out, t->doc);
        ak_buf_append_str(out, "\n\n");
    }
    ak_buf_append_str(out, "| key | type | default | meaning | in Aerospike's connector |\n"
                           "|---|---|---|---|---|\n");
    for (size_t i = 0; i < t->n_keys; i++) {
        const ak_config_key_t *key = &t->keys[i];
        char type[512];
        ak_config_describe_type(key, type, sizeof type);
        ak_buf_append_str(out, "| `");
        ak_buf_append_str(out, key->name);
        ak_buf_append_str(out, "` | ");
        ak_config_append_cell(out, type);
        if (key->required)
            ak_buf_append_str(out, ", required");
        ak_buf_append_str(out, " | ");
        if (key->def_doc) {
            ak_config_append_cell(out, key->def_doc);
        } else if (key->def) {
            ak_buf_append_str(out, "`");
            ak_config_append_cell(out, key->def);
            ak_buf_append_str(out, "`");
        } else {
            ak_buf_append_str(out, "—");
        }
        ak_buf_append_str(out, " | ");
        ak_config_append_cell(out, key->help ? key->help : "");
        ak_buf_append_str(out, key->in_aerospike ? " | yes |\n" : " | no |\n");
    }
    ak_buf_append_str(out, "\n");
    for (size_t i = 0; i < t->n_keys; i++) {
        const ak_config_key_t *key = &t->keys[i];
        if (key->section && (key->type == AK_CFG_SECTION || key->type == AK_CFG_SECTION_PTR ||
                             key->type == AK_CFG_SECTION_MAP || key->type == AK_CFG_CUSTOM)) {
            char sub[AK_CONFIG_PATH_MAX];
            ak_config_join_path(sub, sizeof sub, path, key->name);
            ak_config_render_markdown(key->section, sub, out, seen, n_seen, max_seen);
        }
    }
}

char *ak_config_dir_of(const char *path)
{
    size_t len = strlen(path);
    char *dir = malloc(len + 2);
    if (!dir)
        return NULL;
    memcpy(dir, path, len + 1);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        slash[1] = '\0'; /* "/x.yml": the root directory */
    else
        *slash = '\0';
    return dir;
}
