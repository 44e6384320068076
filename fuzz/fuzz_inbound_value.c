/*
 * libFuzzer harness for the inbound value decoders. The first byte picks the
 * format (json, connect-json, avro, kafka-avro, message-pack, string, bytes;
 * the Avro ones with a fixed schema, so no registry is asked), the rest is
 * the Kafka message value. Every value that decodes must be a well-formed
 * tree: containers within the depth limit, every view non-NULL.
 *
 *   ./build.sh fuzz 600 inbound_value
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ak_arena.h"
#include "format/ak_inbound_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Records, unions, enums, fixed, arrays, maps and a recursive link. */
static const char *fuzz_schema =
    "{\"type\": \"record\", \"name\": \"Node\", \"fields\": ["
    " {\"name\": \"id\", \"type\": \"long\"},"
    " {\"name\": \"name\", \"type\": [\"null\", \"string\"]},"
    " {\"name\": \"x\", \"type\": \"double\"},"
    " {\"name\": \"f\", \"type\": \"float\"},"
    " {\"name\": \"ok\", \"type\": \"boolean\"},"
    " {\"name\": \"raw\", \"type\": \"bytes\"},"
    " {\"name\": \"h\", \"type\": {\"type\": \"fixed\", \"name\": \"H\", \"size\": 4}},"
    " {\"name\": \"c\", \"type\": {\"type\": \"enum\", \"name\": \"C\", \"symbols\": [\"A\", \"B\"]}},"
    " {\"name\": \"tags\", \"type\": {\"type\": \"array\", \"items\": \"null\"}},"
    " {\"name\": \"attrs\", \"type\": {\"type\": \"map\", \"values\": \"int\"}},"
    " {\"name\": \"kids\", \"type\": {\"type\": \"array\", \"items\": \"Node\"}}"
    "]}";

static void check_value(const ak_value_t *v, int depth)
{
    if (depth > AK_INBOUND_MAX_DEPTH + 1)
        abort();
    switch (v->type) {
    case AK_VALUE_STRING:
    case AK_VALUE_BYTES:
        if (!v->u.bytes.data)
            abort();
        break;
    case AK_VALUE_LIST:
        for (uint32_t i = 0; i < v->u.list.count; i++)
            check_value(&v->u.list.items[i], depth + 1);
        break;
    case AK_VALUE_MAP:
        for (uint32_t i = 0; i < 2 * v->u.map.count; i++)
            check_value(&v->u.map.entries[i], depth + 1);
        break;
    case AK_VALUE_NIL:
    case AK_VALUE_INT:
    case AK_VALUE_DOUBLE:
    case AK_VALUE_BOOL:
        break;
    default:
        abort(); /* no decoder makes HLL, GeoJSON */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ak_inbound_format_config_t cfg = {.mode = (ak_inbound_format_mode_t)(data[0] % 7)};
    if (cfg.mode == AK_INBOUND_FORMAT_AVRO || cfg.mode == AK_INBOUND_FORMAT_KAFKA_AVRO)
        cfg.schema = (char *)fuzz_schema;
    ak_error_t err;
    ak_inbound_decoder_t *dec = ak_inbound_decoder_new(&cfg, &err);
    if (!dec)
        abort();
    ak_arena_t arena;
    ak_arena_init(&arena, 4096);
    ak_value_t v;
    ak_status_t st = ak_inbound_decode(dec, data + 1, size - 1, &arena, &v, &err);
    if (st == AK_OK)
        check_value(&v, 0);
    else if (v.type != AK_VALUE_NIL || !err.message[0])
        abort();
    ak_arena_destroy(&arena);
    ak_inbound_decoder_free(dec);
    return 0;
}
