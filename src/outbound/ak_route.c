#include "outbound/ak_route.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *ak_routing_mode_name(ak_routing_mode_t mode)
{
    switch (mode) {
    case AK_ROUTING_STATIC: return "static";
    case AK_ROUTING_SKIP: return "skip";
    case AK_ROUTING_NAMESPACE: return "namespace";
    case AK_ROUTING_SET: return "set";
    case AK_ROUTING_BIN: return "bin";
    }
    return "unknown";
}

bool ak_route_topic_is_legal(const char *name, size_t len)
{
    /* Kafka's Topic.validate: 1..249 of [a-zA-Z0-9._-], and not "." or "..". */
    if (len == 0 || len > 249)
        return false;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Java's replaceAll replacement syntax: $n is group n, \x is x. */
static void ak_route_append_replacement(ak_buf_t *out, const char *replacement, const char *subject,
                                        const regmatch_t *match, size_t n_match)
{
    for (const char *r = replacement; *r; r++) {
        if (*r == '\\' && r[1]) {
            ak_buf_append_byte(out, (uint8_t)*++r);
        } else if (*r == '$' && r[1] >= '0' && r[1] <= '9') {
            size_t group = (size_t)(*++r - '0');
            if (group < n_match && match[group].rm_so >= 0)
                ak_buf_append(out, subject + match[group].rm_so,
                              (size_t)(match[group].rm_eo - match[group].rm_so));
        } else {
            ak_buf_append_byte(out, (uint8_t)*r);
        }
    }
}

static bool ak_route_regex_replace(const ak_name_transform_t *tr, ak_buf_t *buf)
{
    if (!ak_buf_reserve(buf, 1))
        return false;
    buf->data[buf->len] = '\0';
    const char *s = (const char *)buf->data;
    size_t len = strnlen(s, buf->len); /* regexec stops at a NUL anyway */
    ak_buf_t result;
    ak_buf_init(&result);
    size_t pos = 0;
    while (pos <= len) {
        regmatch_t match[10];
        if (regexec(&tr->regex, s + pos, 10, match, pos > 0 ? REG_NOTBOL : 0) != 0)
            break;
        size_t so = (size_t)match[0].rm_so, eo = (size_t)match[0].rm_eo;
        ak_buf_append(&result, s + pos, so);
        ak_route_append_replacement(&result, tr->replacement, s + pos, match, 10);
        if (eo == so) {
            /* An empty match: keep one character and move on, as Java does. */
            if (pos + eo < len)
                ak_buf_append_byte(&result, (uint8_t)s[pos + eo]);
            pos += eo + 1;
        } else {
            pos += eo;
        }
    }
    if (pos < len)
        ak_buf_append(&result, s + pos, len - pos);
    bool ok = !ak_buf_failed(&result);
    ak_buf_clear(buf);
    if (ok && result.len)
        ak_buf_append(buf, result.data, result.len);
    ak_buf_free(&result);
    return ok && !ak_buf_failed(buf);
}

bool ak_route_apply_transforms(const ak_name_transform_t *transforms, size_t n, ak_buf_t *buf)
{
    for (size_t t = 0; t < n; t++) {
        const ak_name_transform_t *tr = &transforms[t];
        switch (tr->kind) {
        case AK_NAME_LOWERCASE:
            for (size_t i = 0; i < buf->len; i++)
                if (buf->data[i] >= 'A' && buf->data[i] <= 'Z')
                    buf->data[i] = (uint8_t)(buf->data[i] - 'A' + 'a');
            break;
        case AK_NAME_UPPERCASE:
            for (size_t i = 0; i < buf->len; i++)
                if (buf->data[i] >= 'a' && buf->data[i] <= 'z')
                    buf->data[i] = (uint8_t)(buf->data[i] - 'a' + 'A');
            break;
        case AK_NAME_TRIM: {
            /* Java's String.trim: every character <= ' ' at either end. */
            size_t start = 0, end = buf->len;
            while (start < end && buf->data[start] <= ' ')
                start++;
            while (end > start && buf->data[end - 1] <= ' ')
                end--;
            if (start)
                memmove(buf->data, buf->data + start, end - start);
            buf->len = end - start;
            break;
        }
        case AK_NAME_REGEX:
            if (!ak_route_regex_replace(tr, buf))
                return false;
            break;
        }
    }
    return true;
}

static ak_route_result_t ak_route_finish(ak_buf_t *topic_out)
{
    ak_buf_append_byte(topic_out, 0);
    if (ak_buf_failed(topic_out))
        return AK_ROUTE_UNROUTABLE;
    topic_out->len--;
    return AK_ROUTE_ROUTED;
}

static ak_route_result_t ak_route_default(const ak_routing_t *routing, ak_buf_t *topic_out)
{
    ak_buf_clear(topic_out);
    if (!routing->default_topic)
        return AK_ROUTE_UNROUTABLE;
    ak_buf_append_str(topic_out, routing->default_topic);
    return ak_route_finish(topic_out);
}

ak_route_result_t ak_route_resolve(const ak_routing_t *routing, const ak_record_t *rec,
                                   ak_buf_t *topic_out)
{
    ak_buf_clear(topic_out);
    if (!routing)
        return AK_ROUTE_UNROUTABLE;
    switch (routing->mode) {
    case AK_ROUTING_SKIP:
        return AK_ROUTE_SKIP;
    case AK_ROUTING_STATIC:
        if (!routing->destination)
            return AK_ROUTE_UNROUTABLE;
        ak_buf_append_str(topic_out, routing->destination);
        return ak_route_finish(topic_out);
    case AK_ROUTING_NAMESPACE:
        ak_buf_append(topic_out, rec->ns.data, rec->ns.len);
        break;
    case AK_ROUTING_SET:
        if (rec->set.len == 0)
            return ak_route_default(routing, topic_out);
        ak_buf_append(topic_out, rec->set.data, rec->set.len);
        break;
    case AK_ROUTING_BIN: {
        const ak_bin_t *bin = NULL;
        size_t want = routing->bin ? strlen(routing->bin) : 0;
        for (uint32_t i = 0; i < rec->n_bins && !bin; i++)
            if (rec->bins[i].name.len == want && memcmp(rec->bins[i].name.data, routing->bin, want) == 0)
                bin = &rec->bins[i];
        if (!bin)
            return ak_route_default(routing, topic_out);
        if (bin->value.type == AK_VALUE_STRING || bin->value.type == AK_VALUE_BYTES) {
            ak_buf_append(topic_out, bin->value.u.bytes.data, bin->value.u.bytes.len);
        } else if (bin->value.type == AK_VALUE_INT) {
            char digits[24];
            int w = snprintf(digits, sizeof digits, "%" PRId64, bin->value.u.integer);
            ak_buf_append(topic_out, digits, (size_t)w);
        } else {
            return ak_route_default(routing, topic_out);
        }
        break;
    }
    default:
        return AK_ROUTE_UNROUTABLE;
    }
    if (!ak_route_apply_transforms(routing->transforms, routing->n_transforms, topic_out) ||
        ak_buf_failed(topic_out))
        return AK_ROUTE_UNROUTABLE;
    if (!ak_route_topic_is_legal((const char *)topic_out->data, topic_out->len))
        return ak_route_default(routing, topic_out);
    return ak_route_finish(topic_out);
}
