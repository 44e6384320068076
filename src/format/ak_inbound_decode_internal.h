/*
 * Private to the inbound decoders (src/format/ak_inbound_decode*.c): the
 * decoder object, the Avro entry points and the arena helpers they share.
 */
#ifndef AK_INBOUND_DECODE_INTERNAL_H
#define AK_INBOUND_DECODE_INTERNAL_H

#include "format/ak_inbound_decode.h"

typedef struct ak_inbound_avro ak_inbound_avro_t;

struct ak_inbound_decoder {
    const ak_inbound_format_config_t *cfg;
    ak_inbound_avro_t *avro; /* avro, kafka-avro */
    bool borrow_input;       /* json strings may point into the input (ak_inbound_decoder_borrow_input) */
};

ak_status_t ak_inbound_avro_new(ak_inbound_decoder_t *dec, ak_error_t *err);
void ak_inbound_avro_free(ak_inbound_avro_t *avro);
ak_status_t ak_inbound_avro_decode(ak_inbound_decoder_t *dec, const uint8_t *data, size_t len,
                                   ak_arena_t *arena, ak_value_t *out, ak_error_t *err);
uint64_t ak_inbound_avro_registry_requests(const ak_inbound_avro_t *avro);

/* A STRING or BYTES value holding a copy of data in arena; false when the
 * arena is exhausted or len does not fit a value. */
bool ak_inbound_copy_bytes(ak_arena_t *arena, ak_value_type_t type, const void *data, size_t len,
                           ak_value_t *out);

/* The json decoder as jansson reads it: the reference the fast path of
 * ak_inbound_decode (yajl) must agree with, exposed for the differential
 * fuzz harness and tests. */
ak_status_t ak_inbound_decode_json_reference(const uint8_t *data, size_t len, ak_arena_t *arena,
                                             ak_value_t *out, ak_error_t *err);

#endif
