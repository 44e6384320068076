#include "dev/ak_demo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>
#include <nettle/base64.h>

#include "client/ak_client.h"
#include "common/ak_log.h"
#include "dev/aerospike/ak_aerospike_dev.h"
#include "dev/ak_kafka_dev.h"
#include "format/ak_format.h"
#include "inbound/ak_inbound.h"
#include "inbound/ak_inbound_config.h"
#include "kafka/ak_consumer.h"
#include "net/ak_loop.h"
#include "net/ak_signal.h"
#include "outbound/ak_outbound.h"
#include "outbound/ak_outbound_config.h"
#include "wire/ak_digest.h"
#include "wire/ak_msg.h"
#include "wire/ak_result.h"

#define AK_DEMO_CHANGES_TOPIC "aerospike-changes"
#define AK_DEMO_DELETES_TOPIC "aerospike-deletes"
#define AK_DEMO_PARTITIONS 4
#define AK_DEMO_SOURCE_NS "source"
#define AK_DEMO_SINK_NS "sink"
#define AK_DEMO_SET "demo"
#define AK_DEMO_WINDOW 256          /* client commands in flight at once */
#define AK_DEMO_START_TIMEOUT_MS 30000
#define AK_DEMO_POLL_MS 20
#define AK_DEMO_LANDING_TIMEOUT_MS 10000
#define AK_DEMO_MAX_SHOWN 32
#define AK_DEMO_MAX_EXAMPLES 5      /* lost records named in the summary */

/* Which records the demo updates and deletes after writing them all. */
static bool ak_demo_is_updated(uint32_t i) { return i % 4 == 1; }
static bool ak_demo_is_deleted(uint32_t i) { return i % 10 == 9; }

typedef enum ak_demo_phase {
    AK_DEMO_STARTING = 0,
    AK_DEMO_WRITING,
    AK_DEMO_UPDATING,
    AK_DEMO_SETTLING_WRITES,  /* writes and updates travel before deletes start */
    AK_DEMO_DELETING,
    AK_DEMO_SETTLING_DELETES,
    AK_DEMO_VERIFYING,
    AK_DEMO_DONE,
} ak_demo_phase_t;

/* A Kafka message printed, whose record the demo then waits to see land in
 * the sink. */
typedef struct ak_demo_landing {
    bool active;
    bool is_delete;
    uint8_t digest[AK_DIGEST_SIZE]; /* the source record's: the Kafka key */
    json_t *expected;               /* the message's bins (writes) */
    uint64_t since_ms;
    bool reading;
} ak_demo_landing_t;

typedef struct ak_demo {
    const ak_demo_options_t *opts;
    ak_demo_summary_t *sum;
    FILE *out;
    bool live;          /* progress rewritten in place */
    bool live_shown;    /* a live line is on screen now */
    ak_loop_t *loop;
    ak_signal_watch_t *signals;
    ak_kafka_dev_t *kafka;
    ak_asd_cluster_t *source, *sink;
    ak_outbound_config_t *ob_cfg;
    ak_outbound_t *ob;
    ak_inbound_config_t *ib_cfg;
    ak_inbound_t *ib;
    bool ib_stopped, ib_failed;
    char ib_message[512];
    ak_consumer_t *watch;
    size_t watch_partitions;
    ak_client_t *src_client, *sink_client;
    ak_client_policy_t policy;
    ak_formatter_t *printer;  /* flat-json, for records read back from the sink */

    uint32_t n;               /* records */
    uint8_t (*digests)[AK_DIGEST_SIZE];
    uint8_t *why;             /* per record: AK_DEMO_MATCHED or why not, at its last comparison */
    uint32_t *pending;        /* indices still to compare with the sink */
    uint32_t n_pending;
    uint32_t *retry;          /* mismatches of the current pass */
    uint32_t n_retry;

    ak_demo_phase_t phase;
    uint32_t total, next, in_flight, completed;
    uint64_t updates_done, deletes_done;
    uint64_t t0_ms, t_started_ms, t_first_change_ms, t_settled_ms;
    uint64_t deadline_ms;
    uint64_t tick_timer, poll_timer, landing_timer;
    uint64_t last_plain_ms;
    uint64_t phase_started_ms;
    uint64_t changes_active_ms; /* time spent in the writing, updating and deleting phases */
    /* written back at the last ticks, for the current rate */
    uint64_t rate_ms[11], rate_back[11];
    size_t rate_n;

    uint32_t shown_writes, shown_updates, shown_deletes;
    uint32_t want_writes, want_updates, want_deletes;
    ak_demo_landing_t landings[AK_DEMO_MAX_SHOWN];

    bool failed;
    bool stopping;      /* tearing down: completions start nothing new */
    ak_error_t *err;
} ak_demo_t;

/* ---- output ------------------------------------------------------------ */

/* A line of its own: the live line, if shown, is cleared first and comes
 * back at the next tick. */
static void ak_demo_say(ak_demo_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ak_demo_say(ak_demo_t *d, const char *fmt, ...)
{
    if (d->opts->quiet)
        return;
    if (d->live_shown) {
        fputs("\r\033[K", d->out);
        d->live_shown = false;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
    fputc('\n', d->out);
    fflush(d->out);
}

static double ak_demo_seconds(uint64_t from_ms, uint64_t to_ms)
{
    return to_ms > from_ms ? (double)(to_ms - from_ms) / 1000.0 : 0.0;
}

/* "850 ms" or "2.35 s". */
static const char *ak_demo_duration(double seconds, char buf[32])
{
    if (seconds < 1.0)
        snprintf(buf, 32, "%.0f ms", seconds * 1000.0);
    else
        snprintf(buf, 32, "%.2f s", seconds);
    return buf;
}

static double ak_demo_rate(uint64_t count, double seconds)
{
    return seconds > 0.0 ? (double)count / seconds : 0.0;
}

static void ak_demo_collect(ak_demo_t *d)
{
    ak_demo_summary_t *s = d->sum;
    if (d->source) {
        ak_asd_stats_t as;
        ak_asd_cluster_stats(d->source, &as);
        s->shipped = as.xdr.acknowledged;
        s->ship_retries = as.xdr.retried;
    }
    if (d->ob) {
        ak_outbound_stats_t os;
        ak_outbound_stats(d->ob, &os);
        s->published = os.requests_success;
        s->outbound_errors = os.requests_parse_error + os.requests_format_error + os.kafka_errors;
    }
    if (d->ib) {
        ak_inbound_stats_t is;
        ak_inbound_stats(d->ib, &is);
        s->written_back = is.written;
        s->deleted_back = is.deleted;
        s->inbound_invalid = is.invalid;
    }
}

static const char *ak_demo_phase_name(ak_demo_phase_t phase)
{
    switch (phase) {
    case AK_DEMO_STARTING: return "starting";
    case AK_DEMO_WRITING: return "writing";
    case AK_DEMO_UPDATING: return "updating";
    case AK_DEMO_SETTLING_WRITES:
    case AK_DEMO_SETTLING_DELETES: return "travelling";
    case AK_DEMO_DELETING: return "deleting";
    case AK_DEMO_VERIFYING: return "verifying";
    case AK_DEMO_DONE: return "done";
    }
    return "";
}

/* Records written back per second over the last second or so. */
static double ak_demo_current_rate(ak_demo_t *d, uint64_t now, uint64_t back)
{
    size_t cap = sizeof d->rate_ms / sizeof d->rate_ms[0];
    if (d->rate_n == cap) {
        memmove(d->rate_ms, d->rate_ms + 1, (cap - 1) * sizeof d->rate_ms[0]);
        memmove(d->rate_back, d->rate_back + 1, (cap - 1) * sizeof d->rate_back[0]);
        d->rate_n--;
    }
    d->rate_ms[d->rate_n] = now;
    d->rate_back[d->rate_n] = back;
    d->rate_n++;
    uint64_t span = now - d->rate_ms[0];
    return span ? (double)(back - d->rate_back[0]) * 1000.0 / (double)span : 0.0;
}

static bool ak_demo_ready(ak_demo_t *d, const char **waiting_for);

static void ak_demo_progress(ak_demo_t *d, bool force_plain)
{
    if (d->opts->quiet)
        return;
    if (d->phase == AK_DEMO_STARTING) {
        /* The consumer groups take a few seconds to form: say what is awaited. */
        const char *waiting_for;
        if (d->live && !ak_demo_ready(d, &waiting_for)) {
            fprintf(d->out, "\r\033[K%5.1fs starting   waiting for %s",
                    ak_demo_seconds(d->t0_ms, ak_clock_ms()), waiting_for);
            d->live_shown = true;
            fflush(d->out);
        }
        return;
    }
    ak_demo_collect(d);
    const ak_demo_summary_t *s = d->sum;
    uint64_t now = ak_clock_ms();
    uint64_t changes = s->writes + s->updates + s->deletes;
    uint64_t back = s->written_back + s->deleted_back;
    double rate = ak_demo_current_rate(d, now, back);
    if (!d->live && !force_plain && now - d->last_plain_ms < 1000)
        return;
    char line[256];
    snprintf(line, sizeof line,
             "%5.1fs %-10s changes %" PRIu64 " (%" PRIu64 " writes, %" PRIu64 " updates, %" PRIu64
             " deletes)  shipped %" PRIu64 "  in kafka %" PRIu64 "  written back %" PRIu64 "  (%.0f/s)",
             ak_demo_seconds(d->t_first_change_ms, now), ak_demo_phase_name(d->phase), changes, s->writes,
             s->updates, s->deletes, s->shipped, s->seen_changes + s->seen_deletes, back, rate);
    if (d->live) {
        fprintf(d->out, "\r\033[K%s", line);
        d->live_shown = true;
    } else {
        d->last_plain_ms = now;
        fprintf(d->out, "progress %s\n", line);
    }
    fflush(d->out);
}

static void ak_demo_tick(ak_loop_t *loop, void *arg)
{
    ak_demo_t *d = arg;
    d->tick_timer = 0;
    ak_demo_progress(d, false);
    d->tick_timer = ak_loop_timer(loop, 100, ak_demo_tick, d);
}

static void ak_demo_fail(ak_demo_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ak_demo_fail(ak_demo_t *d, const char *fmt, ...)
{
    if (d->failed)
        return;
    char message[sizeof d->err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    ak_error_set(d->err, AK_ERR_IO, "%s", message);
    d->failed = true;
    ak_loop_stop(d->loop);
}

/* ---- values -------------------------------------------------------------- */

static json_t *ak_demo_json_base64(const uint8_t *data, size_t len)
{
    char *text = malloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
    if (!text)
        return NULL;
    base64_encode_raw(text, len, data);
    size_t n = BASE64_ENCODE_RAW_LENGTH(len);
    json_t *s = json_stringn(text, n);
    free(text);
    return s;
}

/* A value as JSON carries it: what the outbound's flat-json writes and the
 * inbound's json decoder reads. Blobs (of any language) and HLL become
 * Base64 text, GeoJSON its object, map keys text (integers in decimal);
 * list and map ordering flags are not carried. NULL for a value JSON
 * cannot hold (the comparison then fails, loudly). */
static json_t *ak_demo_json(const ak_value_t *v)
{
    switch ((ak_value_type_t)v->type) {
    case AK_VALUE_NIL: return json_null();
    case AK_VALUE_INT: return json_integer(v->u.integer);
    case AK_VALUE_DOUBLE: return json_real(v->u.dbl);
    case AK_VALUE_BOOL: return json_boolean(v->u.boolean);
    case AK_VALUE_STRING: return json_stringn((const char *)v->u.bytes.data, v->u.bytes.len);
    case AK_VALUE_BYTES:
    case AK_VALUE_HLL: return ak_demo_json_base64(v->u.bytes.data, v->u.bytes.len);
    case AK_VALUE_GEOJSON:
        return json_loadb((const char *)v->u.bytes.data, v->u.bytes.len, JSON_DECODE_ANY, NULL);
    case AK_VALUE_LIST: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < v->u.list.count; i++) {
            json_t *item = ak_demo_json(&v->u.list.items[i]);
            if (!item || json_array_append_new(a, item) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case AK_VALUE_MAP: {
        json_t *o = json_object();
        for (uint32_t i = 0; o && i < v->u.map.count; i++) {
            const ak_value_t *k = &v->u.map.entries[2 * i];
            char key[64];
            const char *name = key;
            char *owned = NULL;
            if (k->type == AK_VALUE_STRING) {
                owned = strndup((const char *)k->u.bytes.data, k->u.bytes.len);
                name = owned;
            } else if (k->type == AK_VALUE_INT) {
                snprintf(key, sizeof key, "%" PRId64, k->u.integer);
            } else {
                json_decref(o);
                return NULL; /* the demo writes string and integer keys only */
            }
            json_t *item = name ? ak_demo_json(&v->u.map.entries[2 * i + 1]) : NULL;
            int rc = item ? json_object_set_new(o, name, item) : -1;
            free(owned);
            if (rc != 0) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    }
    return NULL;
}

static json_t *ak_demo_bins_json(const ak_bin_t *bins, uint32_t n)
{
    json_t *o = json_object();
    for (uint32_t i = 0; o && i < n; i++) {
        char *name = strndup(bins[i].name.data, bins[i].name.len);
        json_t *v = name ? ak_demo_json(&bins[i].value) : NULL;
        int rc = v ? json_object_set_new(o, name, v) : -1;
        free(name);
        if (rc != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* The bins of record i: every value type Aerospike has, nested ones too. */
typedef struct ak_demo_scratch {
    char str[96];
    uint8_t blob[12];
    uint8_t hll[16];
    char geo[96];
    char tag[32];
    char name[32];
    ak_value_t list[5], inner[2], map[6], tags[2], imap[6];
    ak_bin_t bins[12];
} ak_demo_scratch_t;

static uint32_t ak_demo_bins(uint32_t i, ak_demo_scratch_t *s)
{
    uint32_t n = 0;
    snprintf(s->str, sizeof s->str, "héllo wörld ✓ №%u \"quoted\"", i);
    for (size_t b = 0; b < sizeof s->blob; b++)
        s->blob[b] = (uint8_t)(i * 31 + b * 17);
    s->blob[0] = 0x00;
    s->blob[1] = 0xff;
    for (size_t b = 0; b < sizeof s->hll; b++)
        s->hll[b] = (uint8_t)(i + b);
    /* coordinates exact in binary, so every printer shows them alike */
    snprintf(s->geo, sizeof s->geo, "{\"type\": \"Point\", \"coordinates\": [%.10g, %.10g]}",
             -122.5 + (double)(i % 64) * 0.125, 37.25 + (double)(i % 32) * 0.0625);
    snprintf(s->tag, sizeof s->tag, "tag-%u", i);
    snprintf(s->name, sizeof s->name, "user-%u", i);

    s->inner[0] = ak_value_int(i);
    s->inner[1] = ak_value_double(-0.5);
    s->list[0] = ak_value_string(s->tag);
    s->list[1] = ak_value_int((int64_t)i * 7);
    s->list[2] = ak_value_double(2.5);
    s->list[3] = ak_value_list(s->inner, 2);
    s->list[4] = ak_value_bool(true);
    s->list[3].subtype = 1; /* an ordered list inside an unordered one */

    s->tags[0] = ak_value_string("a");
    s->tags[1] = ak_value_string("b");
    s->map[0] = ak_value_string("name");
    s->map[1] = ak_value_string(s->name);
    s->map[2] = ak_value_string("score");
    s->map[3] = ak_value_double((double)i / 3.0); /* needs all 17 digits */
    s->map[4] = ak_value_string("tags");
    s->map[5] = ak_value_list(s->tags, 2);

    s->imap[0] = ak_value_int(1);
    s->imap[1] = ak_value_string("one");
    s->imap[2] = ak_value_int(-2);
    s->imap[3] = ak_value_string("minus two");
    s->imap[4] = ak_value_int((int64_t)i + 1000);
    s->imap[5] = ak_value_bool(i % 2 == 0);

#define AK_DEMO_BIN(bin_name, v)                                                   \
    do {                                                                           \
        s->bins[n].name = (ak_str_t){bin_name, sizeof bin_name - 1};               \
        s->bins[n].value = (v);                                                    \
        s->bins[n].has_lut = false;                                                \
        n++;                                                                       \
    } while (0)
    AK_DEMO_BIN("id", ak_value_int(i));
    AK_DEMO_BIN("str", ak_value_string(s->str));
    AK_DEMO_BIN("int", ak_value_int(i % 2 ? INT64_MAX - (int64_t)i : INT64_MIN + (int64_t)i));
    AK_DEMO_BIN("dbl", ak_value_double((double)i + 0.25));
    AK_DEMO_BIN("bool", ak_value_bool(i % 3 == 0));
    AK_DEMO_BIN("blob", ak_value_blob(s->blob, sizeof s->blob));
    AK_DEMO_BIN("hll", ak_value_bytes_of(AK_VALUE_HLL, 0, s->hll, sizeof s->hll));
    AK_DEMO_BIN("geo", ak_value_bytes_of(AK_VALUE_GEOJSON, 0, s->geo, strlen(s->geo)));
    AK_DEMO_BIN("list", ak_value_list(s->list, 5));
    AK_DEMO_BIN("map", ak_value_map(s->map, 3, 0));
    AK_DEMO_BIN("imap", ak_value_map(s->imap, 3, 1)); /* key-ordered, integer keys */
#undef AK_DEMO_BIN
    return n;
}

/* The bins the inbound mapping copies: every bin the demo ever writes. */
static const char *const ak_demo_bin_names[] = {"id",  "str", "int",  "dbl",  "bool", "blob",
                                                "hll", "geo", "list", "map",  "imap", "extra"};

static void ak_demo_key(ak_record_t *rec, const char *ns, uint32_t i)
{
    ak_record_init(rec);
    rec->ns = (ak_str_t){ns, strlen(ns)};
    rec->set = (ak_str_t){AK_DEMO_SET, sizeof AK_DEMO_SET - 1};
    rec->has_key = true;
    rec->key = ak_value_int(i);
}

/* The sink record of source record i: the inbound connector keys it by the
 * Kafka key, the source record's digest, as a blob user key. */
static void ak_demo_sink_key(const ak_demo_t *d, ak_record_t *rec, const uint8_t digest[AK_DIGEST_SIZE])
{
    (void)d;
    ak_record_init(rec);
    rec->ns = (ak_str_t){AK_DEMO_SINK_NS, sizeof AK_DEMO_SINK_NS - 1};
    rec->set = (ak_str_t){AK_DEMO_SET, sizeof AK_DEMO_SET - 1};
    rec->has_key = true;
    rec->key = ak_value_blob(digest, AK_DIGEST_SIZE);
}

/* ---- phases -------------------------------------------------------------- */

static void ak_demo_pump(ak_demo_t *d);
static void ak_demo_enter(ak_demo_t *d, ak_demo_phase_t phase);

/* The record index of the k-th command of the current phase. */
static uint32_t ak_demo_index(const ak_demo_t *d, uint32_t k)
{
    switch (d->phase) {
    case AK_DEMO_UPDATING: return 4 * k + 1;
    case AK_DEMO_DELETING: return 10 * k + 9;
    case AK_DEMO_VERIFYING: return d->pending[k];
    default: return k;
    }
}

typedef struct ak_demo_cmd {
    ak_demo_t *d;
    uint32_t index;
    json_t *expected; /* verification: the source record's bins, NULL when it is absent */
} ak_demo_cmd_t;

static void ak_demo_command_done(ak_demo_t *d)
{
    d->in_flight--;
    d->completed++;
    ak_demo_pump(d);
}

static void ak_demo_on_change(const ak_client_result_t *r, void *arg)
{
    ak_demo_cmd_t *cmd = arg;
    ak_demo_t *d = cmd->d;
    if (r->result_code != AK_RESULT_OK) {
        d->sum->client_errors++;
        if (!d->stopping)
            ak_demo_say(d, "error  record %u: %s (%s)", cmd->index, r->name, r->message);
    } else if (d->phase == AK_DEMO_WRITING) {
        d->sum->writes++;
    } else if (d->phase == AK_DEMO_UPDATING) {
        d->sum->updates++;
    } else {
        d->sum->deletes++;
    }
    free(cmd);
    ak_demo_command_done(d);
}


/* Why a record did not match (d->why, one byte per record). */
enum {
    AK_DEMO_MATCHED = 0,
    AK_DEMO_MISSING,       /* in source, not in sink */
    AK_DEMO_DIFFERENT,     /* in both, bins differ */
    AK_DEMO_NOT_DELETED,   /* deleted from source, still in sink */
    AK_DEMO_SOURCE_ERROR,  /* source could not be read */
    AK_DEMO_SINK_ERROR,    /* sink could not be read */
};

static const char *ak_demo_why_name(uint8_t why)
{
    switch (why) {
    case AK_DEMO_MISSING: return "missing from sink";
    case AK_DEMO_DIFFERENT: return "bins differ between source and sink";
    case AK_DEMO_NOT_DELETED: return "deleted from source, still in sink";
    case AK_DEMO_SOURCE_ERROR: return "could not be read from source";
    case AK_DEMO_SINK_ERROR: return "could not be read from sink";
    }
    return "matched";
}

static void ak_demo_verified(ak_demo_t *d, ak_demo_cmd_t *cmd, uint8_t why)
{
    d->why[cmd->index] = why;
    if (why != AK_DEMO_MATCHED)
        d->retry[d->n_retry++] = cmd->index;
    else if (cmd->expected)
        d->sum->verified_equal++;
    else
        d->sum->verified_deleted++;
    json_decref(cmd->expected);
    free(cmd);
    ak_demo_command_done(d);
}

static void ak_demo_on_sink_read(const ak_client_result_t *r, void *arg)
{
    ak_demo_cmd_t *cmd = arg;
    uint8_t why = AK_DEMO_MATCHED;
    if (r->result_code == AK_RESULT_NOT_FOUND) {
        if (cmd->expected)
            why = AK_DEMO_MISSING;
    } else if (r->result_code != AK_RESULT_OK) {
        why = AK_DEMO_SINK_ERROR;
    } else if (!cmd->expected) {
        why = AK_DEMO_NOT_DELETED;
    } else {
        json_t *got = ak_demo_bins_json(r->bins, r->n_bins);
        if (!got || !json_equal(got, cmd->expected))
            why = AK_DEMO_DIFFERENT;
        json_decref(got);
    }
    ak_demo_verified(cmd->d, cmd, why);
}

/* Verification reads the source record, then the sink record it should
 * have become, and compares them: only a window of records is held. */
static void ak_demo_on_source_read(const ak_client_result_t *r, void *arg)
{
    ak_demo_cmd_t *cmd = arg;
    ak_demo_t *d = cmd->d;
    if (r->result_code == AK_RESULT_OK) {
        cmd->expected = ak_demo_bins_json(r->bins, r->n_bins);
        if (!cmd->expected) {
            ak_demo_verified(d, cmd, AK_DEMO_SOURCE_ERROR);
            return;
        }
    } else if (r->result_code != AK_RESULT_NOT_FOUND) {
        ak_demo_verified(d, cmd, AK_DEMO_SOURCE_ERROR);
        return;
    }
    if (d->stopping) {
        ak_demo_verified(d, cmd, AK_DEMO_SINK_ERROR);
        return;
    }
    ak_record_t rec;
    ak_demo_sink_key(d, &rec, d->digests[cmd->index]);
    ak_error_t err;
    if (ak_client_get(d->sink_client, &rec, NULL, 0, &d->policy, ak_demo_on_sink_read, cmd, &err) != AK_OK)
        ak_demo_verified(d, cmd, AK_DEMO_SINK_ERROR);
}

static ak_status_t ak_demo_issue(ak_demo_t *d, uint32_t i, ak_demo_cmd_t *cmd, ak_error_t *err)
{
    ak_record_t rec;
    switch (d->phase) {
    case AK_DEMO_WRITING: {
        ak_demo_scratch_t s;
        ak_demo_key(&rec, AK_DEMO_SOURCE_NS, i);
        rec.bins = s.bins;
        rec.n_bins = ak_demo_bins(i, &s);
        return ak_client_put(d->src_client, &rec, &d->policy, ak_demo_on_change, cmd, err);
    }
    case AK_DEMO_UPDATING: {
        /* An update in one operate: a bin rewritten, one incremented, one
         * removed and one added. */
        char str[64];
        snprintf(str, sizeof str, "updated №%u", i);
        ak_client_op_t ops[4] = {
            {AK_OP_WRITE, "str", ak_value_string(str)},
            {AK_OP_INCR, "int", ak_value_int(1)},
            {AK_OP_WRITE, "blob", ak_value_nil()},
            {AK_OP_WRITE, "extra", ak_value_string("added by an update")},
        };
        ak_demo_key(&rec, AK_DEMO_SOURCE_NS, i);
        return ak_client_operate(d->src_client, &rec, ops, 4, &d->policy, ak_demo_on_change, cmd, err);
    }
    case AK_DEMO_DELETING:
        ak_demo_key(&rec, AK_DEMO_SOURCE_NS, i);
        rec.op = AK_RECORD_DELETE;
        return ak_client_put(d->src_client, &rec, &d->policy, ak_demo_on_change, cmd, err);
    case AK_DEMO_VERIFYING:
        ak_demo_key(&rec, AK_DEMO_SOURCE_NS, i);
        return ak_client_get(d->src_client, &rec, NULL, 0, &d->policy, ak_demo_on_source_read, cmd, err);
    default:
        return ak_error_set(err, AK_ERR_INVALID_ARG, "no commands in this phase");
    }
}

static void ak_demo_verify_pass_done(ak_demo_t *d);

/* Issues the current phase's commands, AK_DEMO_WINDOW at a time, and moves
 * on when the last one completes. */
static void ak_demo_pump(ak_demo_t *d)
{
    while (!d->failed && !d->stopping && d->next < d->total && d->in_flight < AK_DEMO_WINDOW) {
        uint32_t i = ak_demo_index(d, d->next++);
        ak_demo_cmd_t *cmd = malloc(sizeof *cmd);
        ak_error_t err;
        if (!cmd) {
            ak_demo_fail(d, "out of memory");
            return;
        }
        *cmd = (ak_demo_cmd_t){.d = d, .index = i};
        if (ak_demo_issue(d, i, cmd, &err) != AK_OK) {
            free(cmd);
            ak_demo_fail(d, "record %u: %s", i, err.message);
            return;
        }
        d->in_flight++;
    }
    if (d->failed || d->stopping || d->next < d->total || d->in_flight > 0)
        return;
    switch (d->phase) {
    case AK_DEMO_WRITING:
        ak_demo_enter(d, AK_DEMO_UPDATING);
        break;
    case AK_DEMO_UPDATING:
        ak_demo_enter(d, AK_DEMO_SETTLING_WRITES);
        break;
    case AK_DEMO_DELETING:
        ak_demo_enter(d, AK_DEMO_SETTLING_DELETES);
        break;
    case AK_DEMO_VERIFYING:
        ak_demo_verify_pass_done(d);
        break;
    default:
        break;
    }
}

/* Everything made so far has travelled: XDR has nothing queued or in
 * flight, the outbound nothing unanswered, and the inbound has applied as
 * many records as the outbound published (and holds none). */
static bool ak_demo_settled(ak_demo_t *d)
{
    ak_asd_stats_t as;
    ak_asd_cluster_stats(d->source, &as);
    if (as.xdr_queued || as.xdr.in_flight)
        return false;
    ak_outbound_stats_t os;
    ak_outbound_stats(d->ob, &os);
    if (os.requests_queued)
        return false;
    ak_inbound_stats_t is;
    ak_inbound_stats(d->ib, &is);
    if (is.held || is.writing || is.waiting_for_key)
        return false;
    /* the watcher too: it shows what reached Kafka, and on a loaded
     * machine its consumer group may form after the connectors' */
    if (d->sum->seen_changes + d->sum->seen_deletes < os.requests_success)
        return false;
    return is.written + is.deleted + is.invalid + is.skipped >= os.requests_success;
}

static bool ak_demo_ready(ak_demo_t *d, const char **waiting_for)
{
    ak_inbound_stats_t is;
    ak_inbound_stats(d->ib, &is);
    *waiting_for = !ak_client_is_ready(d->src_client)    ? "the client of source"
                   : !ak_client_is_ready(d->sink_client) ? "the client of sink"
                   : !is.aerospike_ready                 ? "the inbound connector's Aerospike client"
                   : is.partitions < 2 * AK_DEMO_PARTITIONS ? "the inbound connector's consumer group"
                   : d->watch_partitions < 2 * AK_DEMO_PARTITIONS ? "the Kafka watcher's consumer group"
                                                                  : NULL;
    return *waiting_for == NULL;
}

static void ak_demo_poll(ak_loop_t *loop, void *arg);

static void ak_demo_schedule_poll(ak_demo_t *d)
{
    if (!d->poll_timer)
        d->poll_timer = ak_loop_timer(d->loop, AK_DEMO_POLL_MS, ak_demo_poll, d);
}

static void ak_demo_poll(ak_loop_t *loop, void *arg)
{
    (void)loop;
    ak_demo_t *d = arg;
    d->poll_timer = 0;
    uint64_t now = ak_clock_ms();
    if (d->ib_stopped) {
        ak_demo_fail(d, "the inbound connector stopped: %s", d->ib_message);
        return;
    }
    switch (d->phase) {
    case AK_DEMO_STARTING: {
        const char *waiting_for;
        if (ak_demo_ready(d, &waiting_for)) {
            d->t_started_ms = now;
            d->sum->start_s = ak_demo_seconds(d->t0_ms, now);
            ak_demo_say(d, "ready   in %.1f s: kafka-dev, aerospike-dev (source, sink), outbound and "
                           "inbound connectors",
                        d->sum->start_s);
            ak_demo_enter(d, AK_DEMO_WRITING);
            return;
        }
        if (now > d->deadline_ms) {
            ak_demo_fail(d, "the stack did not come up within %d s: still waiting for %s",
                         AK_DEMO_START_TIMEOUT_MS / 1000, waiting_for);
            return;
        }
        break;
    }
    case AK_DEMO_SETTLING_WRITES:
    case AK_DEMO_SETTLING_DELETES:
        if (ak_demo_settled(d) || now > d->deadline_ms) {
            if (now > d->deadline_ms)
                ak_demo_say(d, "warning: the round trip did not settle within %u ms; verifying anyway",
                            d->opts->timeout_ms ? d->opts->timeout_ms : 30000);
            d->t_settled_ms = now;
            ak_demo_enter(d, d->phase == AK_DEMO_SETTLING_WRITES ? AK_DEMO_DELETING : AK_DEMO_VERIFYING);
            return;
        }
        break;
    case AK_DEMO_VERIFYING:
        /* waiting before re-reading the records that did not match yet */
        d->next = d->in_flight = d->completed = 0;
        ak_demo_pump(d);
        return;
    default:
        return;
    }
    ak_demo_schedule_poll(d);
}

static void ak_demo_verify_pass_done(ak_demo_t *d)
{
    uint64_t now = ak_clock_ms();
    if (d->n_retry > 0 && now < d->deadline_ms) {
        /* Not there yet: read those again shortly (a record can still be on
         * its way if the settle check above timed out). */
        uint32_t *swap = d->pending;
        d->pending = d->retry;
        d->retry = swap;
        d->n_pending = d->total = d->n_retry;
        d->n_retry = 0;
        ak_demo_schedule_poll(d);
        return;
    }
    d->sum->lost = d->n_retry;
    ak_demo_enter(d, AK_DEMO_DONE);
}

static void ak_demo_enter(ak_demo_t *d, ak_demo_phase_t phase)
{
    if (d->phase == AK_DEMO_WRITING || d->phase == AK_DEMO_UPDATING || d->phase == AK_DEMO_DELETING)
        d->changes_active_ms += ak_clock_ms() - d->phase_started_ms;
    d->phase_started_ms = ak_clock_ms();
    d->phase = phase;
    d->next = d->in_flight = d->completed = 0;
    uint64_t now = ak_clock_ms();
    uint32_t timeout = d->opts->timeout_ms ? d->opts->timeout_ms : 30000;
    switch (phase) {
    case AK_DEMO_WRITING:
        d->t_first_change_ms = now;
        d->total = d->n;
        ak_demo_say(d, "writing %u records to aerospike-dev namespace '%s' (set '%s'), every value type",
                    d->n, AK_DEMO_SOURCE_NS, AK_DEMO_SET);
        ak_demo_progress(d, true);
        ak_demo_pump(d);
        return;
    case AK_DEMO_UPDATING:
        d->total = d->n / 4 + (d->n % 4 > 1);
        ak_demo_say(d, "updating %u of them (a bin rewritten, one incremented, one removed, one added)",
                    d->total);
        ak_demo_pump(d);
        return;
    case AK_DEMO_DELETING:
        d->total = d->n / 10;
        ak_demo_say(d, "deleting %u of them (writes and updates have made the round trip: deletes "
                       "travel on their own topic, which Kafka does not order against the other)",
                    d->total);
        ak_demo_pump(d);
        return;
    case AK_DEMO_SETTLING_WRITES:
    case AK_DEMO_SETTLING_DELETES:
        d->deadline_ms = now + timeout;
        ak_demo_schedule_poll(d);
        return;
    case AK_DEMO_VERIFYING:
        ak_demo_progress(d, true);
        d->sum->round_trip_s = ak_demo_seconds(d->t_first_change_ms, d->t_settled_ms);
        ak_demo_say(d, "verifying: reading all %u records from '%s' and from '%s' and comparing them", d->n,
                    AK_DEMO_SOURCE_NS, AK_DEMO_SINK_NS);
        d->deadline_ms = now + timeout;
        d->n_pending = d->total = d->n;
        for (uint32_t i = 0; i < d->n; i++)
            d->pending[i] = i;
        ak_demo_pump(d);
        return;
    case AK_DEMO_DONE:
        ak_loop_stop(d->loop);
        return;
    default:
        return;
    }
}

/* ---- watching Kafka, and the sink ------------------------------------------ */

static void ak_demo_print_landed(ak_demo_t *d, const ak_demo_landing_t *l, const ak_client_result_t *r)
{
    if (l->is_delete) {
        ak_demo_say(d, "sink    %s/%s: the record is gone (deleted by the inbound connector)", AK_DEMO_SINK_NS,
                    AK_DEMO_SET);
        return;
    }
    ak_record_t rec;
    ak_demo_sink_key(d, &rec, l->digest);
    ak_error_t err;
    if (ak_digest_compute(rec.set.data, rec.set.len, &rec.key, rec.digest, &err) != AK_OK)
        return;
    rec.has_digest = true;
    rec.generation = r->generation;
    rec.bins = (ak_bin_t *)r->bins;
    rec.n_bins = r->n_bins;
    ak_buf_t value, key;
    ak_buf_init(&value);
    ak_buf_init(&key);
    ak_format_input_t in = {.rec = &rec, .topic = "", .exp_s = -1};
    if (ak_format_record(d->printer, &in, &value, &key, &err) == AK_OK)
        ak_demo_say(d, "sink    %s/%s, landed: %.*s", AK_DEMO_SINK_NS, AK_DEMO_SET, (int)value.len,
                    (const char *)value.data);
    ak_buf_free(&value);
    ak_buf_free(&key);
}

typedef struct ak_demo_landing_read {
    ak_demo_t *d;
    ak_demo_landing_t *landing;
} ak_demo_landing_read_t;

static void ak_demo_on_landing_read(const ak_client_result_t *r, void *arg)
{
    ak_demo_landing_read_t *lr = arg;
    ak_demo_t *d = lr->d;
    ak_demo_landing_t *l = lr->landing;
    free(lr);
    l->reading = false;
    bool landed = false;
    if (l->is_delete) {
        landed = r->result_code == AK_RESULT_NOT_FOUND;
    } else if (r->result_code == AK_RESULT_OK) {
        json_t *got = ak_demo_bins_json(r->bins, r->n_bins);
        landed = got && json_equal(got, l->expected);
        json_decref(got);
    }
    if (landed) {
        ak_demo_print_landed(d, l, r);
        json_decref(l->expected);
        l->expected = NULL;
        l->active = false;
    }
}

static void ak_demo_landing_tick(ak_loop_t *loop, void *arg)
{
    ak_demo_t *d = arg;
    d->landing_timer = 0;
    uint64_t now = ak_clock_ms();
    bool any = false;
    for (size_t k = 0; k < AK_DEMO_MAX_SHOWN; k++) {
        ak_demo_landing_t *l = &d->landings[k];
        if (!l->active || l->reading)
            continue;
        if (now - l->since_ms > AK_DEMO_LANDING_TIMEOUT_MS) {
            /* superseded by a later change, or not there: the verification judges */
            json_decref(l->expected);
            l->expected = NULL;
            l->active = false;
            continue;
        }
        ak_demo_landing_read_t *lr = malloc(sizeof *lr);
        if (!lr)
            continue;
        *lr = (ak_demo_landing_read_t){d, l};
        ak_record_t rec;
        ak_demo_sink_key(d, &rec, l->digest);
        ak_error_t err;
        if (ak_client_get(d->sink_client, &rec, NULL, 0, &d->policy, ak_demo_on_landing_read, lr, &err) != AK_OK) {
            free(lr);
            continue;
        }
        l->reading = true;
        any = true;
    }
    for (size_t k = 0; k < AK_DEMO_MAX_SHOWN; k++)
        any = any || d->landings[k].active;
    if (any)
        d->landing_timer = ak_loop_timer(loop, 10, ak_demo_landing_tick, d);
}

static void ak_demo_watch_landing(ak_demo_t *d, const uint8_t digest[AK_DIGEST_SIZE], bool is_delete,
                                  json_t *expected)
{
    for (size_t k = 0; k < AK_DEMO_MAX_SHOWN; k++) {
        ak_demo_landing_t *l = &d->landings[k];
        if (l->active)
            continue;
        *l = (ak_demo_landing_t){.active = true, .is_delete = is_delete, .expected = expected,
                                 .since_ms = ak_clock_ms()};
        memcpy(l->digest, digest, AK_DIGEST_SIZE);
        if (!d->landing_timer)
            d->landing_timer = ak_loop_timer(d->loop, 0, ak_demo_landing_tick, d);
        return;
    }
    json_decref(expected);
}

/* Decides whether to print a message: the first few writes of records that
 * no later change touches (so their landing shows exactly this message),
 * the first update and the first delete. */
static void ak_demo_maybe_show(ak_demo_t *d, const ak_consumer_msg_t *msg, bool is_delete)
{
    if (d->opts->quiet || !msg->value || msg->key_len != AK_DIGEST_SIZE)
        return;
    json_t *value = json_loadb(msg->value, msg->value_len, 0, NULL);
    if (!value)
        return;
    json_t *id = json_object_get(value, "id");
    bool show = false;
    if (is_delete) {
        show = d->shown_deletes < d->want_deletes;
        d->shown_deletes += show;
    } else if (json_is_integer(id)) {
        uint32_t i = (uint32_t)json_integer_value(id);
        bool update = json_object_get(value, "extra") != NULL;
        if (update) {
            show = d->shown_updates < d->want_updates && !ak_demo_is_deleted(i);
            d->shown_updates += show;
        } else {
            show = d->shown_writes < d->want_writes && !ak_demo_is_updated(i) && !ak_demo_is_deleted(i);
            d->shown_writes += show;
        }
    }
    if (show) {
        ak_demo_say(d, "kafka   %s [partition %d, offset %" PRId64 "]: %.*s", msg->topic, msg->partition,
                    msg->offset, (int)msg->value_len, (const char *)msg->value);
        json_t *expected = NULL;
        if (!is_delete) {
            expected = json_deep_copy(value);
            json_object_del(expected, "metadata");
        }
        ak_demo_watch_landing(d, msg->key, is_delete, expected);
    }
    json_decref(value);
}

static void ak_demo_on_watch_message(void *ctx, const ak_consumer_msg_t *msg)
{
    ak_demo_t *d = ctx;
    bool is_delete = strcmp(msg->topic, AK_DEMO_DELETES_TOPIC) == 0;
    if (is_delete)
        d->sum->seen_deletes++;
    else
        d->sum->seen_changes++;
    ak_demo_maybe_show(d, msg, is_delete);
    ak_consumer_ack(d->watch, msg);
}

static void ak_demo_on_watch_assign(void *ctx, const rd_kafka_topic_partition_list_t *parts, bool lost)
{
    (void)lost;
    ak_demo_t *d = ctx;
    d->watch_partitions += (size_t)parts->cnt;
}

static void ak_demo_on_watch_revoke(void *ctx, const rd_kafka_topic_partition_list_t *parts, bool lost)
{
    (void)lost;
    ak_demo_t *d = ctx;
    d->watch_partitions -= (size_t)parts->cnt < d->watch_partitions ? (size_t)parts->cnt : d->watch_partitions;
}

static void ak_demo_on_watch_error(void *ctx, int err, const char *message, bool fatal)
{
    ak_demo_t *d = ctx;
    if (fatal)
        ak_demo_fail(d, "the Kafka watcher failed: %s (%s)", message, rd_kafka_err2str(err));
    else
        ak_log(AK_LOG_INFO, "demo", "Kafka watcher: %s", message);
}

static void ak_demo_on_inbound_stopped(void *ctx, bool failed, const char *message)
{
    ak_demo_t *d = ctx;
    d->ib_stopped = true;
    d->ib_failed = failed;
    snprintf(d->ib_message, sizeof d->ib_message, "%s", message ? message : "");
    if (failed)
        ak_demo_fail(d, "the inbound connector stopped: %s", d->ib_message);
    else
        ak_loop_stop(d->loop);
}

/* ---- the stack ------------------------------------------------------------- */

static ak_status_t ak_demo_free_port(uint16_t *port, ak_error_t *err)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return ak_error_set(err, AK_ERR_IO, "socket: %s", strerror(errno));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        int e = errno;
        close(fd);
        return ak_error_set(err, AK_ERR_IO, "finding a free port for the outbound connector: %s", strerror(e));
    }
    close(fd);
    *port = ntohs(addr.sin_port);
    return AK_OK;
}

static ak_status_t ak_demo_start_outbound(ak_demo_t *d, ak_error_t *err)
{
    uint16_t port = 0;
    ak_status_t st = ak_demo_free_port(&port, err);
    if (st != AK_OK)
        return st;
    /* Writes go to aerospike-changes; a delete carries no bins, so routing by
     * the `id` bin sends it to the `default` topic, aerospike-deletes, where
     * the inbound connector applies it as a delete. */
    char yaml[2048];
    int n = snprintf(yaml, sizeof yaml,
                     "service:\n"
                     "  port: %u\n"
                     "  address: 127.0.0.1\n"
                     "producer-props:\n"
                     "  bootstrap.servers: %s\n"
                     "  linger.ms: 2\n"
                     "format:\n"
                     "  mode: flat-json\n"
                     "  metadata-key: metadata\n"
                     "routing:\n"
                     "  mode: bin\n"
                     "  bin: id\n"
                     "  transforms:\n"
                     "    - regex: {pattern: '^.*$', replacement: " AK_DEMO_CHANGES_TOPIC "}\n"
                     "  default: " AK_DEMO_DELETES_TOPIC "\n",
                     port, ak_kafka_dev_bootstrap(d->kafka));
    if (n < 0 || (size_t)n >= sizeof yaml)
        return ak_error_set(err, AK_ERR_LIMIT, "demo outbound configuration too long");
    d->ob_cfg = ak_outbound_config_load_string(yaml, (size_t)n, "demo-outbound.yml", NULL, err);
    if (!d->ob_cfg)
        return err->status;
    d->ob = ak_outbound_new(d->loop, d->ob_cfg, err);
    return d->ob ? AK_OK : err->status;
}

static ak_status_t ak_demo_start_inbound(ak_demo_t *d, ak_error_t *err)
{
    char bins[1024];
    size_t used = 0;
    for (size_t i = 0; i < sizeof ak_demo_bin_names / sizeof ak_demo_bin_names[0]; i++)
        used += (size_t)snprintf(bins + used, sizeof bins - used,
                                 "          %s: {source: value-field, field-name: %s}\n", ak_demo_bin_names[i],
                                 ak_demo_bin_names[i]);
    /* Both topics key the sink record by the Kafka key, which the outbound
     * sets to the source record's digest (20 bytes). */
    char yaml[4096];
    int n = snprintf(yaml, sizeof yaml,
                     "processing-threads: 1\n"
                     "consumer-props:\n"
                     "  bootstrap.servers: %s\n"
                     "  group.id: aerokafka-demo-inbound\n"
                     "  auto.offset.reset: earliest\n"
                     "  fetch.wait.max.ms: 50\n"
                     "  fetch.error.backoff.ms: 20\n"
                     "aerospike:\n"
                     "  seeds:\n"
                     "    - 127.0.0.1:\n"
                     "        port: %u\n"
                     "topics:\n"
                     "  " AK_DEMO_CHANGES_TOPIC ":\n"
                     "    invalid-record: kill-task\n"
                     "    key-format: {mode: bytes}\n"
                     "    mapping:\n"
                     "      namespace: {mode: static, value: " AK_DEMO_SINK_NS "}\n"
                     "      set: {mode: static, value: " AK_DEMO_SET "}\n"
                     "      key-field: {source: key}\n"
                     "      bins:\n"
                     "        type: multi-bins\n"
                     "        map:\n"
                     "%s"
                     "    aerospike-operation:\n"
                     "      type: write\n"
                     "      record-exists-action: replace\n"
                     "  " AK_DEMO_DELETES_TOPIC ":\n"
                     "    invalid-record: kill-task\n"
                     "    key-format: {mode: bytes}\n"
                     "    mapping:\n"
                     "      namespace: {mode: static, value: " AK_DEMO_SINK_NS "}\n"
                     "      set: {mode: static, value: " AK_DEMO_SET "}\n"
                     "      key-field: {source: key}\n"
                     "    aerospike-operation:\n"
                     "      type: delete\n",
                     ak_kafka_dev_bootstrap(d->kafka), ak_asd_cluster_node_port(d->sink, 0), bins);
    if (n < 0 || (size_t)n >= sizeof yaml)
        return ak_error_set(err, AK_ERR_LIMIT, "demo inbound configuration too long");
    d->ib_cfg = ak_inbound_config_load_string(yaml, (size_t)n, "demo-inbound.yml", NULL, err);
    if (!d->ib_cfg)
        return err->status;
    d->ib = ak_inbound_new(d->loop, d->ib_cfg, ak_demo_on_inbound_stopped, d, err);
    return d->ib ? AK_OK : err->status;
}

static ak_status_t ak_demo_start_watch(ak_demo_t *d, ak_error_t *err)
{
    static const char *const topics[] = {AK_DEMO_CHANGES_TOPIC, AK_DEMO_DELETES_TOPIC};
    ak_consumer_prop_t props[] = {
        {"bootstrap.servers", ak_kafka_dev_bootstrap(d->kafka), NULL},
        {"group.id", "aerokafka-demo-watch", NULL},
        {"auto.offset.reset", "earliest", NULL},
        {"fetch.wait.max.ms", "50", NULL},
        {"fetch.error.backoff.ms", "20", NULL},
    };
    ak_consumer_options_t o = {
        .topics = topics,
        .topic_count = 2,
        .props = props,
        .prop_count = sizeof props / sizeof props[0],
        .on_message = ak_demo_on_watch_message,
        .on_assign = ak_demo_on_watch_assign,
        .on_revoke = ak_demo_on_watch_revoke,
        .on_error = ak_demo_on_watch_error,
        .ctx = d,
    };
    d->watch = ak_consumer_new(d->loop, &o, err);
    return d->watch ? AK_OK : err->status;
}

static ak_client_t *ak_demo_client(ak_demo_t *d, const ak_asd_cluster_t *cluster, ak_error_t *err)
{
    ak_client_config_t cc;
    ak_client_config_init(&cc);
    cc.seeds = ak_asd_cluster_seeds(cluster);
    cc.tend_interval_ms = 200;
    return ak_client_new(d->loop, &cc, err);
}

static void ak_demo_kafka_log(void *opaque, int level, const char *facility, const char *message)
{
    (void)opaque;
    if (level <= 3)
        ak_log(AK_LOG_WARN, "kafka-dev", "%s: %s", facility, message);
}

static ak_status_t ak_demo_start(ak_demo_t *d, ak_error_t *err)
{
    ak_kafka_dev_topic_t topics[] = {
        {AK_DEMO_CHANGES_TOPIC, AK_DEMO_PARTITIONS, 0},
        {AK_DEMO_DELETES_TOPIC, AK_DEMO_PARTITIONS, 0},
    };
    ak_kafka_dev_options_t ko = {.brokers = 1, .topics = topics, .topic_count = 2, .log = ak_demo_kafka_log};
    d->kafka = ak_kafka_dev_start(&ko, err);
    if (!d->kafka)
        return err->status;
    ak_demo_say(d, "kafka   kafka-dev at %s: topics %s and %s, %d partitions each",
                ak_kafka_dev_bootstrap(d->kafka), AK_DEMO_CHANGES_TOPIC, AK_DEMO_DELETES_TOPIC,
                AK_DEMO_PARTITIONS);

    static const char *const sink_ns[] = {AK_DEMO_SINK_NS};
    ak_asd_options_t sink_opts = {.namespaces = sink_ns, .n_namespaces = 1, .cluster_name = "demo-sink"};
    d->sink = ak_asd_cluster_new(d->loop, &sink_opts, err);
    if (!d->sink)
        return err->status;

    ak_status_t st = ak_demo_start_outbound(d, err);
    if (st != AK_OK)
        return st;
    char destination[64];
    snprintf(destination, sizeof destination, "127.0.0.1:%u", ak_outbound_port(d->ob, 0));
    const char *destinations[] = {destination};
    static const char *const source_ns[] = {AK_DEMO_SOURCE_NS};
    ak_asd_options_t source_opts = {
        .namespaces = source_ns,
        .n_namespaces = 1,
        .cluster_name = "demo-source",
        .xdr_destinations = destinations,
        .n_xdr_destinations = 1,
        .xdr_protocol = AK_XDR_PROTO_TCP,
    };
    d->source = ak_asd_cluster_new(d->loop, &source_opts, err);
    if (!d->source)
        return err->status;
    ak_demo_say(d, "aerospike-dev '%s' at %s, shipping every change by XDR to the outbound connector at %s",
                AK_DEMO_SOURCE_NS, ak_asd_cluster_seeds(d->source), destination);
    ak_demo_say(d, "outbound  flat-json: writes to %s, deletes to %s", AK_DEMO_CHANGES_TOPIC,
                AK_DEMO_DELETES_TOPIC);

    if ((st = ak_demo_start_inbound(d, err)) != AK_OK)
        return st;
    ak_demo_say(d, "inbound   %s -> writes, %s -> deletes, into aerospike-dev '%s' at %s", AK_DEMO_CHANGES_TOPIC,
                AK_DEMO_DELETES_TOPIC, AK_DEMO_SINK_NS, ak_asd_cluster_seeds(d->sink));
    if ((st = ak_demo_start_watch(d, err)) != AK_OK)
        return st;
    if (!(d->src_client = ak_demo_client(d, d->source, err)) || !(d->sink_client = ak_demo_client(d, d->sink, err)))
        return err->status;

    ak_format_config_t fc = {.mode = AK_FORMAT_FLAT_JSON, .metadata_key = "metadata", .stringify_map_keys = true};
    d->printer = ak_formatter_new(&fc, err);
    return d->printer ? AK_OK : err->status;
}

static void ak_demo_stop(ak_demo_t *d)
{
    if (d->tick_timer)
        ak_loop_timer_cancel(d->loop, d->tick_timer);
    if (d->poll_timer)
        ak_loop_timer_cancel(d->loop, d->poll_timer);
    if (d->landing_timer)
        ak_loop_timer_cancel(d->loop, d->landing_timer);
    d->tick_timer = d->poll_timer = d->landing_timer = 0;
    d->stopping = true;
    if (d->ib && !d->ib_stopped) {
        /* Let what is in flight finish and commit, then leave the group. A
         * second Ctrl-C stops this wait too. */
        ak_inbound_stop(d->ib, 2000);
        ak_loop_run(d->loop);
    }
    ak_inbound_free(d->ib);
    d->ib = NULL;
    if (d->watch)
        ak_consumer_free(d->watch);
    /* Freeing a client completes its pending commands (their callbacks free
     * their contexts). */
    ak_client_free(d->src_client);
    ak_client_free(d->sink_client);
    ak_asd_cluster_free(d->source);
    if (d->ob)
        ak_outbound_free(d->ob, 1000);
    ak_asd_cluster_free(d->sink);
    ak_kafka_dev_stop(d->kafka);
    ak_outbound_config_free(d->ob_cfg);
    ak_inbound_config_free(d->ib_cfg);
    ak_formatter_free(d->printer);
    for (size_t k = 0; k < AK_DEMO_MAX_SHOWN; k++)
        json_decref(d->landings[k].expected);
}

static void ak_demo_print_summary(ak_demo_t *d)
{
    const ak_demo_summary_t *s = d->sum;
    FILE *o = d->out;
    if (d->live_shown) {
        fputs("\r\033[K", o);
        d->live_shown = false;
    }
    uint64_t changes = s->writes + s->updates + s->deletes;
    uint64_t back = s->written_back + s->deleted_back;
    fprintf(o, "\nsummary\n");
    char t1[32], t2[32], t3[32], t4[32];
    fprintf(o, "  changes made     %8" PRIu64 "  (%" PRIu64 " writes, %" PRIu64 " updates, %" PRIu64
               " deletes; %" PRIu64 " failed) in %s, %.0f/s\n",
            changes, s->writes, s->updates, s->deletes, s->client_errors, ak_demo_duration(s->changes_s, t1),
            ak_demo_rate(changes, s->changes_s));
    fprintf(o, "  shipped          %8" PRIu64 "  XDR notifications acknowledged by the outbound connector (%" PRIu64
               " retried)\n",
            s->shipped, s->ship_retries);
    fprintf(o, "  published        %8" PRIu64 "  records in Kafka, flat-json (%" PRIu64 " outbound errors)\n",
            s->published, s->outbound_errors);
    fprintf(o, "  seen in kafka    %8" PRIu64 "  (%" PRIu64 " on %s, %" PRIu64 " on %s)\n",
            s->seen_changes + s->seen_deletes, s->seen_changes, AK_DEMO_CHANGES_TOPIC, s->seen_deletes,
            AK_DEMO_DELETES_TOPIC);
    fprintf(o, "  written back     %8" PRIu64 "  (%" PRIu64 " writes, %" PRIu64 " deletes; %" PRIu64
               " invalid) into '%s', %.0f/s over the round trip\n",
            back, s->written_back, s->deleted_back, s->inbound_invalid, AK_DEMO_SINK_NS,
            ak_demo_rate(back, s->round_trip_s));
    fprintf(o, "  verified         %8" PRIu64 "  records (%" PRIu64 " equal in both, %" PRIu64
               " deleted from both)\n",
            s->verified_equal + s->verified_deleted, s->verified_equal, s->verified_deleted);
    fprintf(o, "  lost             %8" PRIu64 "\n", s->lost);
    for (uint32_t k = 0; k < d->n_retry && k < AK_DEMO_MAX_EXAMPLES; k++)
        fprintf(o, "    record %u: %s\n", d->retry[k], ak_demo_why_name(d->why[d->retry[k]]));
    fprintf(o, "  times            start %s, changes %s, round trip %s, total %s\n",
            ak_demo_duration(s->start_s, t1), ak_demo_duration(s->changes_s, t2),
            ak_demo_duration(s->round_trip_s, t3), ak_demo_duration(s->total_s, t4));
    fprintf(o, "  compared as JSON carries values: blobs and HLL as Base64 text, GeoJSON as an object,\n"
               "  integer map keys as text; list and map order flags are not carried\n");
    fflush(o);
}

ak_status_t ak_demo_run(const ak_demo_options_t *opts, ak_demo_summary_t *summary, ak_error_t *err)
{
    memset(summary, 0, sizeof *summary);
    ak_demo_t *d = calloc(1, sizeof *d);
    if (!d)
        return ak_error_set(err, AK_ERR_NOMEM, "no memory for the demo");
    d->opts = opts;
    d->sum = summary;
    d->err = err;
    d->out = opts->out ? opts->out : stdout;
    d->n = opts->records ? opts->records : AK_DEMO_DEFAULT_RECORDS;
    d->live = !opts->quiet && (opts->progress == AK_DEMO_PROGRESS_LIVE ||
                               (opts->progress == AK_DEMO_PROGRESS_AUTO && isatty(fileno(d->out))));
    uint32_t show = opts->show_messages > AK_DEMO_MAX_SHOWN ? AK_DEMO_MAX_SHOWN : opts->show_messages;
    d->want_updates = show >= 3;
    d->want_deletes = show >= 2;
    d->want_writes = show - d->want_updates - d->want_deletes;
    d->t0_ms = ak_clock_ms();
    ak_client_policy_init(&d->policy);
    d->policy.total_timeout_ms = 10000;
    d->policy.max_retries = 5;
    d->policy.send_key = true;
    ak_log_set_level(opts->verbose ? AK_LOG_INFO : AK_LOG_ERROR);

    ak_status_t st = AK_OK;
    d->digests = calloc(d->n, sizeof *d->digests);
    d->why = calloc(d->n, sizeof *d->why);
    d->pending = calloc(d->n, sizeof *d->pending);
    d->retry = calloc(d->n, sizeof *d->retry);
    if (!d->digests || !d->why || !d->pending || !d->retry) {
        st = ak_error_set(err, AK_ERR_NOMEM, "no memory for %u records", d->n);
        goto out;
    }
    for (uint32_t i = 0; i < d->n; i++) {
        ak_value_t key = ak_value_int(i);
        if ((st = ak_digest_compute(AK_DEMO_SET, sizeof AK_DEMO_SET - 1, &key, d->digests[i], err)) != AK_OK)
            goto out;
    }
    d->loop = ak_loop_new(err);
    if (!d->loop) {
        st = err->status;
        goto out;
    }
    /* Before any thread starts, so SIGINT/SIGTERM reach only this loop. */
    d->signals = ak_signal_watch_stop(d->loop, err);
    if (!d->signals) {
        st = err->status;
        goto out;
    }
    if ((st = ak_demo_start(d, err)) == AK_OK) {
        d->deadline_ms = ak_clock_ms() + AK_DEMO_START_TIMEOUT_MS;
        d->phase = AK_DEMO_STARTING;
        ak_demo_schedule_poll(d);
        d->tick_timer = ak_loop_timer(d->loop, 100, ak_demo_tick, d);
        ak_loop_run(d->loop);
        summary->interrupted = ak_signal_watch_received(d->signals) != 0;
        if (summary->interrupted) {
            if (d->live_shown)
                fputs("\n", d->out);
            d->live_shown = false;
            fprintf(d->out, "interrupted: stopping everything\n");
            fflush(d->out);
        }
        ak_demo_collect(d);
        summary->changes_s = (double)d->changes_active_ms / 1000.0;
        if (!d->failed && !summary->interrupted && d->phase != AK_DEMO_DONE)
            ak_demo_fail(d, "the demo stopped before it finished (while %s)", ak_demo_phase_name(d->phase));
        st = d->failed ? err->status : AK_OK;
    }
    ak_demo_stop(d);
    summary->total_s = ak_demo_seconds(d->t0_ms, ak_clock_ms());
    if (st == AK_OK && !summary->interrupted)
        ak_demo_print_summary(d);
out:
    if (d->signals)
        ak_signal_watch_free(d->loop, d->signals);
    if (d->loop)
        ak_loop_free(d->loop);
    free(d->digests);
    free(d->why);
    free(d->pending);
    free(d->retry);
    free(d);
    return st;
}
