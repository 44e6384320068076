#include "format/ak_schema_registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ak_buf.h"

#define REGISTRY_CONNECT_TIMEOUT_MS 5000L
#define REGISTRY_TIMEOUT_MS 15000L

typedef struct cache_entry {
    uint64_t hash;
    char *subject;
    char *schema;
    size_t schema_len;
    int32_t id;
} cache_entry_t;

struct ak_schema_registry {
    char **urls; /* without a trailing '/' */
    size_t n_urls;
    bool auto_register;
    char *user_info;     /* USER_INFO credentials, or NULL */
    char *ca_file;       /* PEM truststore */
    char *cert_file;     /* client certificate */
    char *cert_type;     /* "PEM" or "P12" */
    char *key_file;      /* PEM private key (the keystore file) */
    char *key_password;
    bool verify_host;
    CURL *curl;          /* reused: keeps the connection alive */
    struct curl_slist *headers;
    cache_entry_t *cache;
    size_t n_cache, cap_cache;
    uint64_t requests;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *prop_get(const ak_format_prop_t *props, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (props[i].name && strcmp(props[i].name, name) == 0)
            return props[i].value ? props[i].value : "";
    return NULL;
}

static char *dup_or_null(const char *s, bool *nomem)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *nomem = true;
    return d;
}

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

void ak_schema_registry_free(ak_schema_registry_t *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n_urls; i++)
        free(reg->urls[i]);
    free(reg->urls);
    free(reg->user_info);
    free(reg->ca_file);
    free(reg->cert_file);
    free(reg->cert_type);
    free(reg->key_file);
    free(reg->key_password);
    for (size_t i = 0; i < reg->n_cache; i++) {
        free(reg->cache[i].subject);
        free(reg->cache[i].schema);
    }
    free(reg->cache);
    if (reg->headers)
        curl_slist_free_all(reg->headers);
    if (reg->curl)
        curl_easy_cleanup(reg->curl);
    free(reg);
}

static ak_status_t parse_urls(ak_schema_registry_t *reg, const char *list, ak_error_t *err)
{
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    reg->urls = calloc(cap, sizeof *reg->urls);
    if (!reg->urls)
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *b = p, *e = end;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '/'))
            e--;
        if (e > b) {
            char *url = strndup(b, (size_t)(e - b));
            if (!url)
                return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
            reg->urls[reg->n_urls++] = url;
        }
        p = comma ? comma + 1 : end;
    }
    if (reg->n_urls == 0)
        return ak_error_set(err, AK_ERR_INVALID_ARG, "props: schema.registry.url is empty");
    return AK_OK;
}

ak_schema_registry_t *ak_schema_registry_new(const ak_format_prop_t *props, size_t n_props,
                                             ak_error_t *err)
{
    const char *url = prop_get(props, n_props, "schema.registry.url");
    if (!url || !url[0]) {
        ak_error_set(err, AK_ERR_INVALID_ARG,
                     "props: schema.registry.url is required (the Schema Registry's URL, or a "
                     "comma list of them)");
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK) {
        ak_error_set(err, AK_ERR_IO, "libcurl initialisation failed: %s",
                     curl_easy_strerror(curl_init_result));
        return NULL;
    }
    ak_schema_registry_t *reg = calloc(1, sizeof *reg);
    if (!reg) {
        ak_error_set(err, AK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (parse_urls(reg, url, err) != AK_OK)
        goto fail;

    const char *auto_reg = prop_get(props, n_props, "auto.register.schemas");
    reg->auto_register = !auto_reg || strcasecmp(auto_reg, "false") != 0;

    bool nomem = false;
    const char *source = prop_get(props, n_props, "basic.auth.credentials.source");
    if (source && strcasecmp(source, "USER_INFO") == 0) {
        const char *info = prop_get(props, n_props, "basic.auth.user.info");
        if (!info)
            info = prop_get(props, n_props, "schema.registry.basic.auth.user.info");
        if (!info || !strchr(info, ':')) {
            ak_error_set(err, AK_ERR_INVALID_ARG,
                         "props: basic.auth.credentials.source is USER_INFO but "
                         "basic.auth.user.info (user:password) is missing");
            goto fail;
        }
        reg->user_info = dup_or_null(info, &nomem);
    } else if (source && strcasecmp(source, "URL") != 0) {
        ak_error_set(err, AK_ERR_INVALID_ARG,
                     "props: basic.auth.credentials.source '%s' is not supported (use URL or "
                     "USER_INFO)",
                     source);
        goto fail;
    }

    const char *trust = prop_get(props, n_props, "schema.registry.ssl.truststore.location");
    if (trust && trust[0]) {
        const char *type = prop_get(props, n_props, "schema.registry.ssl.truststore.type");
        if ((type && strcasecmp(type, "PEM") != 0) || (!type && ends_with_ci(trust, ".jks"))) {
            ak_error_set(err, AK_ERR_INVALID_ARG,
                         "props: schema.registry.ssl.truststore.type %s is not supported: give a "
                         "PEM CA bundle (keytool -exportcert -rfc) and set the type to PEM",
                         type ? type : "JKS");
            goto fail;
        }
        reg->ca_file = dup_or_null(trust, &nomem);
    }
    const char *keystore = prop_get(props, n_props, "schema.registry.ssl.keystore.location");
    if (keystore && keystore[0]) {
        const char *type = prop_get(props, n_props, "schema.registry.ssl.keystore.type");
        if (type && strcasecmp(type, "PKCS12") == 0) {
            reg->cert_type = dup_or_null("P12", &nomem);
            reg->key_password = dup_or_null(
                prop_get(props, n_props, "schema.registry.ssl.keystore.password"), &nomem);
        } else if ((type && strcasecmp(type, "PEM") == 0) ||
                   (!type && !ends_with_ci(keystore, ".jks"))) {
            reg->cert_type = dup_or_null("PEM", &nomem);
            reg->key_file = dup_or_null(keystore, &nomem);
            reg->key_password =
                dup_or_null(prop_get(props, n_props, "schema.registry.ssl.key.password"), &nomem);
        } else {
            ak_error_set(err, AK_ERR_INVALID_ARG,
                         "props: schema.registry.ssl.keystore.type %s is not supported: use "
                         "PKCS12 or PEM (certificate and key in one file)",
                         type ? type : "JKS");
            goto fail;
        }
        reg->cert_file = dup_or_null(keystore, &nomem);
    }
    const char *algo =
        prop_get(props, n_props, "schema.registry.ssl.endpoint.identification.algorithm");
    reg->verify_host = !algo || algo[0] != '\0';

    reg->curl = curl_easy_init();
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/vnd.schemaregistry.v1+json");
    if (h)
        reg->headers = h;
    h = h ? curl_slist_append(h, "Accept: application/vnd.schemaregistry.v1+json, "
                                 "application/json")
          : NULL;
    if (nomem || !reg->curl || !h) {
        ak_error_set(err, AK_ERR_NOMEM, "out of memory");
        goto fail;
    }
    reg->headers = h;
    return reg;
fail:
    ak_schema_registry_free(reg);
    return NULL;
}

uint64_t ak_schema_registry_requests(const ak_schema_registry_t *reg)
{
    return reg ? reg->requests : 0;
}

static uint64_t cache_hash(const char *subject, const char *schema, size_t schema_len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = subject; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    h ^= 0xff;
    for (size_t i = 0; i < schema_len; i++)
        h = (h ^ (uint8_t)schema[i]) * 1099511628211ULL;
    return h;
}

static size_t collect(char *data, size_t size, size_t n, void *userdata)
{
    ak_buf_append(userdata, data, size * n);
    return size * n;
}

/* The registry's error message, or the body's start. */
static void registry_message(const ak_buf_t *body, char *msg, size_t cap)
{
    json_t *root = body->len ? json_loadb((const char *)body->data, body->len, 0, NULL) : NULL;
    const char *m = root ? json_string_value(json_object_get(root, "message")) : NULL;
    if (m)
        snprintf(msg, cap, "%s", m);
    else
        snprintf(msg, cap, "%.*s", (int)(body->len > 120 ? 120 : body->len),
                 body->len ? (const char *)body->data : "");
    json_decref(root);
}

/* Prepares the reused handle for one request: a POST of payload, or a GET
 * when payload is NULL; the answer lands in body. */
static void configure(ak_schema_registry_t *reg, const char *url, const char *payload,
                      ak_buf_t *body)
{
    CURL *c = reg->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, reg->headers);
    if (payload)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, REGISTRY_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, REGISTRY_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    if (reg->user_info) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, reg->user_info);
    }
    if (reg->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, reg->ca_file);
    if (reg->cert_file) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, reg->cert_file);
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, reg->cert_type);
    }
    if (reg->key_file)
        curl_easy_setopt(c, CURLOPT_SSLKEY, reg->key_file);
    if (reg->key_password)
        curl_easy_setopt(c, CURLOPT_KEYPASSWD, reg->key_password);
    if (!reg->verify_host)
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    ak_buf_clear(body);
}

static ak_status_t request(ak_schema_registry_t *reg, const char *subject, const char *payload,
                           int32_t *id, ak_error_t *err)
{
    char *escaped = curl_easy_escape(reg->curl, subject, 0);
    if (!escaped)
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    ak_status_t st = AK_ERR_IO;
    char last_failure[160] = "";
    ak_buf_t body;
    ak_buf_init(&body);
    for (size_t u = 0; u < reg->n_urls; u++) {
        char url[2048];
        int n = snprintf(url, sizeof url, "%s/subjects/%s%s", reg->urls[u], escaped,
                         reg->auto_register ? "/versions" : "");
        if (n < 0 || (size_t)n >= sizeof url) {
            snprintf(last_failure, sizeof last_failure, "URL too long");
            continue;
        }
        CURL *c = reg->curl;
        configure(reg, url, payload, &body);
        reg->requests++;
        CURLcode rc = curl_easy_perform(c);
        if (rc != CURLE_OK) {
            /* Not reachable: try the next URL, as the Java client does. */
            snprintf(last_failure, sizeof last_failure, "%s: %s", reg->urls[u],
                     curl_easy_strerror(rc));
            continue;
        }
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        char msg[160];
        if (status == 200) {
            json_t *root = json_loadb((const char *)body.data, body.len, 0, NULL);
            json_t *jid = root ? json_object_get(root, "id") : NULL;
            if (json_is_integer(jid) && json_integer_value(jid) >= 0 &&
                json_integer_value(jid) <= INT32_MAX) {
                *id = (int32_t)json_integer_value(jid);
                st = AK_OK;
            } else {
                registry_message(&body, msg, sizeof msg);
                st = ak_error_set(err, AK_ERR_IO,
                                  "schema registry %s: subject '%s': answer has no id: %s",
                                  reg->urls[u], subject, msg);
            }
            json_decref(root);
            goto done;
        }
        registry_message(&body, msg, sizeof msg);
        if (status >= 500 || status == 408 || status == 429) {
            st = ak_error_set(err, AK_ERR_IO, "schema registry %s: subject '%s': HTTP %ld: %s",
                              reg->urls[u], subject, status, msg);
        } else {
            st = ak_error_set(err, AK_ERR_UNSUPPORTED,
                              "schema registry %s refused the schema for subject '%s': HTTP "
                              "%ld: %s",
                              reg->urls[u], subject, status, msg);
        }
        goto done;
    }
    st = ak_error_set(err, AK_ERR_IO, "schema registry unreachable (subject '%s'): %s", subject,
                      last_failure);
done:
    ak_buf_free(&body);
    curl_free(escaped);
    return st;
}

ak_status_t ak_schema_registry_id(ak_schema_registry_t *reg, const char *subject,
                                  const char *schema, size_t schema_len, int32_t *id,
                                  ak_error_t *err)
{
    uint64_t h = cache_hash(subject, schema, schema_len);
    for (size_t i = 0; i < reg->n_cache; i++) {
        cache_entry_t *e = &reg->cache[i];
        if (e->hash == h && e->schema_len == schema_len && strcmp(e->subject, subject) == 0 &&
            memcmp(e->schema, schema, schema_len) == 0) {
            *id = e->id;
            return AK_OK;
        }
    }
    json_t *root = json_object();
    json_t *text = json_stringn(schema, schema_len);
    if (!root || !text || json_object_set_new(root, "schema", text) != 0) {
        json_decref(root);
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory (or schema text is not UTF-8)");
    }
    char *payload = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!payload)
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    int32_t got = 0;
    ak_status_t st = request(reg, subject, payload, &got, err);
    free(payload);
    if (st != AK_OK)
        return st;
    if (reg->n_cache == reg->cap_cache) {
        size_t cap = reg->cap_cache ? 2 * reg->cap_cache : 4;
        cache_entry_t *c = realloc(reg->cache, cap * sizeof *c);
        if (!c)
            return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
        reg->cache = c;
        reg->cap_cache = cap;
    }
    cache_entry_t *e = &reg->cache[reg->n_cache];
    e->subject = strdup(subject);
    e->schema = malloc(schema_len ? schema_len : 1);
    if (!e->subject || !e->schema) {
        free(e->subject);
        free(e->schema);
        return ak_error_set(err, AK_ERR_NOMEM, "out of memory");
    }
    memcpy(e->schema, schema, schema_len);
    e->schema_len = schema_len;
    e->hash = h;
    e->id = got;
    reg->n_cache++;
    *id = got;
    return AK_OK;
}

ak_status_t ak_schema_registry_schema(ak_schema_registry_t *reg, int32_t id, char **schema,
                                      ak_error_t *err)
{
    *schema = NULL;
    ak_status_t st = AK_ERR_IO;
    char last_failure[160] = "";
    ak_buf_t body;
    ak_buf_init(&body);
    for (size_t u = 0; u < reg->n_urls; u++) {
        char url[2048];
        int n = snprintf(url, sizeof url, "%s/schemas/ids/%ld", reg->urls[u], (long)id);
        if (n < 0 || (size_t)n >= sizeof url) {
            snprintf(last_failure, sizeof last_failure, "URL too long");
            continue;
        }
        configure(reg, url, NULL, &body);
        reg->requests++;
        CURLcode rc = curl_easy_perform(reg->curl);
        if (rc != CURLE_OK) {
            snprintf(last_failure, sizeof last_failure, "%s: %s", reg->urls[u],
                     curl_easy_strerror(rc));
            continue;
        }
        long status = 0;
        curl_easy_getinfo(reg->curl, CURLINFO_RESPONSE_CODE, &status);
        char msg[160];
        if (status == 200) {
            json_t *root = json_loadb((const char *)body.data, body.len, 0, NULL);
            const char *text = json_string_value(json_object_get(root, "schema"));
            const char *type = json_string_value(json_object_get(root, "schemaType"));
            if (type && strcmp(type, "AVRO") != 0) {
                st = ak_error_set(err, AK_ERR_UNSUPPORTED,
                                  "schema registry %s: schema id %ld is a %s schema, not Avro",
                                  reg->urls[u], (long)id, type);
            } else if (text) {
                *schema = strdup(text);
                st = *schema ? AK_OK : ak_error_set(err, AK_ERR_NOMEM, "out of memory");
            } else {
                registry_message(&body, msg, sizeof msg);
                st = ak_error_set(err, AK_ERR_IO,
                                  "schema registry %s: schema id %ld: answer has no schema: %s",
                                  reg->urls[u], (long)id, msg);
            }
            json_decref(root);
            goto done;
        }
        registry_message(&body, msg, sizeof msg);
        st = ak_error_set(err,
                          status >= 500 || status == 408 || status == 429 ? AK_ERR_IO
                                                                          : AK_ERR_UNSUPPORTED,
                          "schema registry %s: schema id %ld: HTTP %ld: %s", reg->urls[u],
                          (long)id, status, msg);
        goto done;
    }
    st = ak_error_set(err, AK_ERR_IO, "schema registry unreachable (schema id %ld): %s", (long)id,
                      last_failure);
done:
    ak_buf_free(&body);
    return st;
}
