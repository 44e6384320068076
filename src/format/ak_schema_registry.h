/*
 * ak_schema_registry: a Confluent Schema Registry REST client (libcurl) for
 * kafka-avro: registers a schema under a subject and caches the id, so a
 * schema costs one request per (subject, schema) for the formatter's life;
 * and, for the inbound kafka-avro decoder, fetches a schema by its id.
 *
 * Configured from the kafka-avro `props`, with the names Confluent's
 * KafkaAvroSerializer reads:
 *
 *   schema.registry.url              required; a comma list, tried in order
 *                                    until one answers
 *   auto.register.schemas            true (default): POST /subjects/S/versions;
 *                                    false: POST /subjects/S (look up only)
 *   basic.auth.credentials.source    URL (default: user:pass@ in the URL) or
 *                                    USER_INFO; SASL_INHERIT is refused
 *   basic.auth.user.info             user:password for USER_INFO (also read as
 *   schema.registry.basic.auth.user.info)
 *   schema.registry.ssl.truststore.location / .type      PEM CA bundle
 *   schema.registry.ssl.keystore.location / .type / .password
 *                                    client certificate: PEM or PKCS12
 *   schema.registry.ssl.key.password key password (PEM keystores)
 *   schema.registry.ssl.endpoint.identification.algorithm
 *                                    "" turns off host name verification
 *
 * JKS stores cannot be read by libcurl and are refused with an explanation.
 * Other props (serializer options) are ignored.
 *
 * Not thread-safe: one client per formatter, used by one thread at a time.
 */
#ifndef AK_SCHEMA_REGISTRY_H
#define AK_SCHEMA_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "common/ak_error.h"
#include "format/ak_format.h"

typedef struct ak_schema_registry ak_schema_registry_t;

/* Reads the props above; fails (AK_ERR_INVALID_ARG) naming the property
 * that is missing or unusable. Makes no request. */
ak_schema_registry_t *ak_schema_registry_new(const ak_format_prop_t *props, size_t n_props,
                                             ak_error_t *err);
void ak_schema_registry_free(ak_schema_registry_t *reg);

/* The id of schema (JSON text) under subject: from the cache, or from the
 * registry. No URL answering -> AK_ERR_IO (retry later); a 5xx answer ->
 * AK_ERR_IO; a refusal (incompatible or invalid schema, 401/403, 404 on a
 * look-up) -> AK_ERR_UNSUPPORTED with the registry's message. */
ak_status_t ak_schema_registry_id(ak_schema_registry_t *reg, const char *subject,
                                  const char *schema, size_t schema_len, int32_t *id,
                                  ak_error_t *err);

/* The schema registered under id (GET /schemas/ids/<id>; the inbound
 * kafka-avro decoder's look-up), as malloc'd JSON text in *schema. No URL
 * answering or a 5xx answer -> AK_ERR_IO (retry later); an unknown id (404)
 * or a schema that is not Avro -> AK_ERR_UNSUPPORTED. Not cached here: the
 * caller caches what it parses. */
ak_status_t ak_schema_registry_schema(ak_schema_registry_t *reg, int32_t id, char **schema,
                                      ak_error_t *err);

/* Requests sent so far (every URL tried counts). */
uint64_t ak_schema_registry_requests(const ak_schema_registry_t *reg);

#endif
