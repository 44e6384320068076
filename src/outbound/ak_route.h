/*
 * ak_route: the Kafka topic of a change notification (spec outbound.md §4).
 *
 * Modes: static (one topic), skip (publish nothing, ack success), namespace,
 * set and bin (the topic is that name or bin value after the name
 * transforms, else `default`). A routing section is filled by the config
 * loader and is read-only afterwards: ak_route_resolve may run on many
 * threads at once (glibc's regexec serializes uses of one compiled regex
 * with a lock of its own).
 */
#ifndef AK_ROUTE_H
#define AK_ROUTE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/ak_buf.h"
#include "wire/ak_record.h"

typedef enum ak_routing_mode {
    AK_ROUTING_STATIC = 0,
    AK_ROUTING_SKIP,
    AK_ROUTING_NAMESPACE,
    AK_ROUTING_SET,
    AK_ROUTING_BIN,
} ak_routing_mode_t;

typedef enum ak_name_transform_kind {
    AK_NAME_LOWERCASE = 0,
    AK_NAME_UPPERCASE,
    AK_NAME_TRIM,
    AK_NAME_REGEX,
} ak_name_transform_kind_t;

/* One step of `routing.transforms`. Regexes are POSIX extended (regcomp
 * with REG_EXTENDED), not Java regexes: lookaround, lazy quantifiers,
 * \d \w \s and the like are not available; use [0-9], [[:alnum:]_],
 * [[:space:]]. The replacement replaces every match (Java's replaceAll):
 * $0..$9 insert groups, \$ and \\ a literal $ or \. */
typedef struct ak_name_transform {
    ak_name_transform_kind_t kind;
    char *pattern;     /* REGEX, as written */
    char *replacement; /* REGEX */
    regex_t regex;     /* REGEX, compiled at load */
    bool compiled;
} ak_name_transform_t;

typedef struct ak_routing {
    ak_routing_mode_t mode;
    char *destination;   /* static: the topic (checked legal at load) */
    char *bin;           /* bin: the bin whose value names the topic */
    char *default_topic; /* namespace/set/bin: topic when no name resolves; NULL: none */
    ak_name_transform_t *transforms; /* applied in order to namespace/set/bin names */
    size_t n_transforms;
} ak_routing_t;

typedef enum ak_route_result {
    AK_ROUTE_ROUTED = 0,   /* topic_out holds the topic */
    AK_ROUTE_SKIP,         /* mode skip: acknowledge success, produce nothing */
    AK_ROUTE_UNROUTABLE,   /* no topic: skip the record and count it (requests-skipped) */
} ak_route_result_t;

/* Resolves the topic of rec. topic_out is cleared and, on ROUTED, holds the
 * topic NUL-terminated (len excludes the NUL). A NULL routing (no routing
 * section at any level) is UNROUTABLE.
 *
 * The name comes from the namespace, the set (none when the record has no
 * set) or the bin (a string or blob bin: its bytes as-is; an integer bin:
 * decimal text; any other type, a NIL or a missing bin: no name). The
 * transforms run in order on that name. No name, a name empty after the
 * transforms, or a name that is not a legal Kafka topic (1..249 characters
 * of [a-zA-Z0-9._-], not "." or "..") falls back to `default`; without a
 * default the record is UNROUTABLE. A failed allocation in topic_out is
 * also UNROUTABLE (ak_buf_failed tells). */
ak_route_result_t ak_route_resolve(const ak_routing_t *routing, const ak_record_t *rec,
                                   ak_buf_t *topic_out);

/* True when name is a legal Kafka topic name. */
bool ak_route_topic_is_legal(const char *name, size_t len);

/* Applies the transforms to name in place in buf (buf holds the name; its
 * len is updated). Exposed for tests. False on a failed allocation. */
bool ak_route_apply_transforms(const ak_name_transform_t *transforms, size_t n, ak_buf_t *buf);

const char *ak_routing_mode_name(ak_routing_mode_t mode);

#endif
