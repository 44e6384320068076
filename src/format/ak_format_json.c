/*
 * Typed JSON (spec outbound.md §3.2) and the JSON writing helpers flat-json
 * shares:
 *
 *   {"msg":"write","key":[ns,set|null,digestB64,userKey|null],"gen":N,
 *    "exp":N|null,"lut":N|null,"bins":[{"name":..,"type":..,"value":..},..]}
 *   {"msg":"delete","key":[...],"gen":N,"lut":N|null,"durable":bool}
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/ak_format_internal.h"
#include "wire/ak_particle.h"

/* Typed JSON deletes carry gen and lut, as the observed flat-json deletes
 * do (docs/FORMATS.md); set to false for the 2019 layout
 * {"msg","key","durable"}. */
static const bool json_delete_has_gen_lut = true;

/* ---------------------------------------------------------------- strings */

static const char hex_digits[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at p (at most left bytes), 0 if the
 * bytes there are not one. p[0] >= 0x80. */
static size_t utf8_sequence(const uint8_t *p, size_t left)
{
    uint8_t c = p[0];
    if (c >= 0xC2 && c <= 0xDF)
        return left >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
            return 0; /* overlong, surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
            return 0;
        return 4;
    }
    return 0;
}

bool ak_format_utf8_valid(const void *data, size_t len)
{
    const uint8_t *s = data;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_sequence(s + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

void ak_format_utf8_sanitize(ak_buf_t *out, const void *data, size_t len)
{
    const uint8_t *s = data;
    size_t run = 0; /* start of the valid bytes not yet copied */
    for (size_t i = 0; i < len;) {
        size_t n = s[i] < 0x80 ? 1 : utf8_sequence(s + i, len - i);
        if (n) {
            i += n;
            continue;
        }
        ak_buf_append(out, s + run, i - run);
        ak_buf_append(out, "\xEF\xBF\xBD", 3);
        run = ++i;
    }
    ak_buf_append(out, s + run, len - run);
}

/* 1 for the bytes a JSON string carries as they are: printable ASCII
 * other than '"' and '\\'. */
static const uint8_t json_plain[256] = {
    [0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,           /* 0x20-0x2F, '"' = 0x22 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,                    /* 0x30-0x3F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,                    /* 0x40-0x4F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,                    /* 0x50-0x5F, '\\' = 0x5C */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,                    /* 0x60-0x6F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,                    /* 0x70-0x7F */
};

void ak_json_string(ak_buf_t *out, const void *data, size_t len)
{
    const uint8_t *s = data;
    if (!ak_buf_reserve(out, len + 2))
        return;
    out->data[out->len++] = '"';
    size_t i = 0;
    while (i < len) {
        /* Runs of plain ASCII are copied in one go. */
        size_t run = i;
        while (run < len && json_plain[s[run]])
            run++;
        if (run > i) {
            ak_json_raw(out, (const char *)s + i, run - i);
            i = run;
            continue;
        }
        uint8_t c = s[i];
        if (c >= 0x80) {
            size_t n = utf8_sequence(s + i, len - i);
            if (n) {
                ak_json_raw(out, (const char *)s + i, n);
                i += n;
            } else {
                AK_JSON_LIT(out, "\xEF\xBF\xBD"); /* U+FFFD for a byte that is not UTF-8 */
                i++;
            }
            continue;
        }
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex_digits[c >> 4];
            esc[5] = hex_digits[c & 15];
            n = 6;
            break;
        }
        ak_json_raw(out, esc, n);
        i++;
    }
    ak_json_char(out, '"');
}

static size_t json_key_slot_index(const uint8_t *name, size_t len)
{
    uint32_t h = 2166136261u ^ (uint32_t)len;
    for (size_t i = 0; i < len; i++)
        h = (h ^ name[i]) * 16777619u;
    return (h ^ (h >> 16)) % AK_JSON_KEY_SLOTS;
}

void ak_json_key(ak_json_key_cache_t *cache, ak_buf_t *out, const void *name, size_t len)
{
    if (!cache || len == 0 || len > AK_JSON_KEY_NAME_MAX) {
        ak_json_string(out, name, len);
        ak_json_char(out, ':');
        return;
    }
    ak_json_key_slot_t *slot = &cache->slots[json_key_slot_index(name, len)];
    if (slot->text_len && slot->name_len == len && memcmp(slot->name, name, len) == 0) {
        ak_json_raw(out, slot->text, slot->text_len);
        return;
    }
    size_t start = out->len;
    ak_json_string(out, name, len);
    ak_json_char(out, ':');
    size_t text_len = out->len - start;
    if (ak_buf_failed(out) || text_len > AK_JSON_KEY_TEXT_MAX)
        return; /* too long to keep: escaped each time */
    slot->name_len = (uint8_t)len;
    memcpy(slot->name, name, len);
    slot->text_len = (uint8_t)text_len;
    memcpy(slot->text, out->data + start, text_len);
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Two base64 characters per 12 bits: half the lookups of the plain loop. */
static uint16_t b64_pairs[4096];
static pthread_once_t b64_pairs_once = PTHREAD_ONCE_INIT;

static void b64_pairs_init(void)
{
    for (unsigned v = 0; v < 4096; v++) {
        uint8_t two[2] = {(uint8_t)b64_alphabet[v >> 6], (uint8_t)b64_alphabet[v & 63]};
        memcpy(&b64_pairs[v], two, 2);
    }
}

void ak_json_base64(ak_buf_t *out, const void *data, size_t len)
{
    const uint8_t *s = data;
    size_t need = 4 * ((len + 2) / 3) + 2;
    if (!ak_buf_reserve(out, need))
        return;
    pthread_once(&b64_pairs_once, b64_pairs_init);
    uint8_t *p = out->data + out->len;
    *p++ = '"';
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i + 1] << 8) | s[i + 2];
        memcpy(p, &b64_pairs[v >> 12], 2);
        memcpy(p + 2, &b64_pairs[v & 4095], 2);
        p += 4;
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *p++ = (uint8_t)b64_alphabet[v >> 18];
        *p++ = (uint8_t)b64_alphabet[(v >> 12) & 63];
        *p++ = '=';
        *p++ = '=';
    } else if (len - i == 2) {
        uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i + 1] << 8);
        *p++ = (uint8_t)b64_alphabet[v >> 18];
        *p++ = (uint8_t)b64_alphabet[(v >> 12) & 63];
        *p++ = (uint8_t)b64_alphabet[(v >> 6) & 63];
        *p++ = '=';
    }
    *p++ = '"';
    out->len = (size_t)(p - out->data);
}

/* ---------------------------------------------------------------- numbers */

/* Two digits per division: integers are in most records. */
static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static size_t format_uint(uint64_t v, char *end)
{
    char *p = end;
    while (v >= 100) {
        unsigned pair = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, digit_pairs + 2 * pair, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return (size_t)(end - p);
}

static size_t decimal_digits(uint64_t v)
{
    size_t n = 1;
    while (v >= 10000) {
        v /= 10000;
        n += 4;
    }
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

void ak_json_int(ak_buf_t *out, int64_t v)
{
    /* Written in place: no copy through a scratch array. */
    if (!ak_buf_reserve(out, 21))
        return;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = (char *)out->data + out->len;
    if (v < 0)
        *p++ = '-';
    size_t n = decimal_digits(mag);
    format_uint(mag, p + n);
    out->len = (size_t)(p + n - (char *)out->data);
}

typedef unsigned __int128 ak_u128;

/* 10^0 .. 10^20 (10^20 needs more than 64 bits). */
#define AK_P10_19 ((ak_u128)10000000000000000000ULL)
static const ak_u128 exact_pow10[21] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, AK_P10_19, AK_P10_19 * 10};

/* mag = m * 2^-sh. With k fractional digits, the correctly rounded
 * n = round(mag * 10^k) if it lies inside the interval of reals that round
 * to mag (half-way to each neighbour; ends included when m is even, as
 * strtod rounds ties to even); 0 if it does not. */
static ak_u128 exact_digits_at(uint64_t m, int sh, bool lower_closer, int k)
{
    ak_u128 p10 = exact_pow10[k];
    bool even = (m & 1) == 0;
    ak_u128 scaled = (ak_u128)m * p10; /* mag * 10^k * 2^sh */
    ak_u128 n = scaled >> sh;
    ak_u128 rem = scaled & (((ak_u128)1 << sh) - 1);
    ak_u128 half = (ak_u128)1 << (sh - 1);
    if (rem > half || (rem == half && (n & 1)))
        n++;
    if (n == 0)
        return 0;
    /* upper end: (2m + 1) / 2^(sh + 1), scaled by 10^k */
    ak_u128 hi = ((ak_u128)(2 * m + 1) * p10);
    ak_u128 hi_q = hi >> (sh + 1);
    bool hi_exact = (hi & (((ak_u128)1 << (sh + 1)) - 1)) == 0;
    bool ok_hi = n < hi_q || (n == hi_q && (!hi_exact || even));
    /* lower end: (2m - 1) / 2^(sh + 1), or (4m - 1) / 2^(sh + 2) */
    int lo_sh = lower_closer ? sh + 2 : sh + 1;
    ak_u128 lo = (ak_u128)(lower_closer ? 4 * m - 1 : 2 * m - 1) * p10;
    ak_u128 lo_q = lo >> lo_sh;
    bool lo_exact = (lo & (((ak_u128)1 << lo_sh) - 1)) == 0;
    bool ok_lo = n > lo_q || (n == lo_q && lo_exact && even);
    return ok_hi && ok_lo ? n : 0;
}

/* The shortest decimal that reads back as mag (1e-3 <= mag < 1e7, the
 * range Java prints in plain notation and where nearly all real values
 * fall), computed exactly in 128-bit integers: mag = M * 2^-sh, and the
 * fewest fractional digits k = 0, 1, ... for which the correctly rounded
 * n = round(mag * 10^k) lies inside the interval of reals that round to mag
 * (exact_digits_at). That is what the printf/strtod search below finds, at
 * a few percent of its cost. Returns the digit count (0 if not found). */
static size_t shortest_digits_exact(double mag, char digits[24], int *exp10)
{
    int e2;
    double frac = frexp(mag, &e2); /* mag = frac * 2^e2, 0.5 <= frac < 1 */
    uint64_t m = (uint64_t)ldexp(frac, 53);
    int sh = 53 - e2; /* mag = m * 2^-sh; 29 <= sh <= 63 in this range */
    if (sh < 1 || sh > 63)
        return 0;
    bool lower_closer = m == (1ULL << 52); /* the gap below a power of two is half */
    int k = -1;
    ak_u128 n = 0;
    if (lower_closer) {
        for (int i = 0; i <= 20 && k < 0; i++)
            if ((n = exact_digits_at(m, sh, lower_closer, i)) != 0)
                k = i;
    } else {
        /* The interval is symmetric around mag, so once some k has a
         * decimal inside it every larger k has one too (10n): a binary
         * search finds the fewest digits in 5 tries instead of up to 17
         * (full-precision values need 15..17 significant digits). */
        int lo = 0, hi = 21; /* the answer lies in [lo, hi); 21: none */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (exact_digits_at(m, sh, lower_closer, mid) != 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        if (lo <= 20) {
            k = lo;
            n = exact_digits_at(m, sh, lower_closer, k);
        }
    }
    if (k < 0)
        return 0;
    if (n >= (ak_u128)100000000000000000ULL) /* more than 17 digits: cannot be shortest */
        return 0;
    char tmp[24];
    size_t len = format_uint((uint64_t)n, tmp + sizeof tmp);
    memcpy(digits, tmp + sizeof tmp - len, len);
    *exp10 = (int)len - 1 - k;
    return len;
}

/* The general case: every finite non-zero magnitude. */
static size_t shortest_digits_search(double mag, char digits[24], int *exp10_out)
{
    size_t nd = 0;
    int exp10 = 0;
    /* Fast path (measured: 10x faster than the search below on typical
     * values such as 2.5 or 3.1415): the fewest decimals k for which
     * m = round(mag * 10^k) gives back mag as m / 10^k. With m < 10^15 and
     * 10^k exact, IEEE division is correctly rounded like strtod, so the
     * decimal m * 10^-k reads back as mag, and with at most 15 digits no
     * other decimal of that length does. */
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                   1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
    for (int k = 0; k < 18; k++) {
        double scaled = mag * pow10[k];
        if (scaled >= 1e15)
            break;
        double m = floor(scaled + 0.5);
        if (m == 0 || m / pow10[k] != mag)
            continue;
        char tmp[24];
        size_t len = format_uint((uint64_t)m, tmp + sizeof tmp);
        memcpy(digits, tmp + sizeof tmp - len, len);
        nd = len;
        exp10 = (int)len - 1 - k;
        break;
    }
    if (nd == 0) {
        /* Shortest round trip: the fewest significant digits (2..17) whose
         * correctly rounded decimal reads back as mag. More digits never
         * stop round-tripping once fewer do, so a binary search finds it.
         * Java always writes a digit after the point and, when one digit
         * would do, picks the closest two-digit decimal (4.9E-324, not
         * 5.0E-324); the two-digit nearest also round-trips, so start at 2. */
        char best[40];
        int lo = 2, hi = 17;
        snprintf(best, sizeof best, "%.16e", mag);
        /* Most doubles that miss the fast path need 16 or 17 digits: settle
         * those with one or two conversions before searching lower. */
        {
            char tmp[40];
            snprintf(tmp, sizeof tmp, "%.15e", mag);
            if (strtod(tmp, NULL) != mag) {
                lo = hi; /* 17 digits: best already holds them */
            } else {
                memcpy(best, tmp, sizeof tmp);
                hi = 16;
                snprintf(tmp, sizeof tmp, "%.14e", mag);
                if (strtod(tmp, NULL) != mag)
                    lo = hi; /* 16 digits */
                else {
                    memcpy(best, tmp, sizeof tmp);
                    hi = 15;
                }
            }
        }
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            char tmp[40];
            snprintf(tmp, sizeof tmp, "%.*e", mid - 1, mag);
            if (strtod(tmp, NULL) == mag) {
                memcpy(best, tmp, sizeof tmp);
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        /* best is "D[.DDD]e[+-]X": collect the digits and the exponent. */
        const char *p = best;
        for (; *p && *p != 'e'; p++)
            if (*p >= '0' && *p <= '9')
                digits[nd++] = *p;
        exp10 = *p == 'e' ? atoi(p + 1) : 0;
    }
    *exp10_out = exp10;
    return nd;
}

size_t ak_format_double_text(double d, char s[32])
{
    if (isnan(d)) {
        memcpy(s, "NaN", 4);
        return 3;
    }
    if (isinf(d)) {
        const char *t = d < 0 ? "-Infinity" : "Infinity";
        size_t n = strlen(t);
        memcpy(s, t, n + 1);
        return n;
    }
    if (d == 0) {
        const char *t = signbit(d) ? "-0.0" : "0.0";
        size_t n = strlen(t);
        memcpy(s, t, n + 1);
        return n;
    }
    size_t n = 0;
    if (d < 0)
        s[n++] = '-';
    double mag = fabs(d);
    /* Fast path: integral values below 1e7 print as "N.0" (Java's plain
     * range), the common case for whole-number doubles. */
    if (mag < 1e7 && mag == (double)(int64_t)mag) {
        char tmp[24];
        size_t k = format_uint((uint64_t)mag, tmp + sizeof tmp);
        memcpy(s + n, tmp + sizeof tmp - k, k);
        n += k;
        memcpy(s + n, ".0", 3);
        return n + 2;
    }
    char digits[24];
    size_t nd = 0;
    int exp10 = 0;
    if (mag >= 1e-3 && mag < 1e7)
        nd = shortest_digits_exact(mag, digits, &exp10);
    if (nd == 0)
        nd = shortest_digits_search(mag, digits, &exp10);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (exp10 >= -3 && exp10 < 7) {
        /* Plain notation, as Double.toString for 1e-3 <= |d| < 1e7. */
        if (exp10 < 0) {
            s[n++] = '0';
            s[n++] = '.';
            for (int z = 0; z < -exp10 - 1; z++)
                s[n++] = '0';
            memcpy(s + n, digits, nd);
            n += nd;
        } else {
            size_t int_digits = (size_t)exp10 + 1;
            for (size_t k = 0; k < int_digits; k++)
                s[n++] = k < nd ? digits[k] : '0';
            s[n++] = '.';
            if (nd > int_digits) {
                memcpy(s + n, digits + int_digits, nd - int_digits);
                n += nd - int_digits;
            } else {
                s[n++] = '0';
            }
        }
    } else {
        /* Computerized scientific notation: d.dddE[-]x. */
        s[n++] = digits[0];
        s[n++] = '.';
        if (nd > 1) {
            memcpy(s + n, digits + 1, nd - 1);
            n += nd - 1;
        } else {
            s[n++] = '0';
        }
        n += (size_t)snprintf(s + n, 32 - n, "E%d", exp10);
    }
    s[n] = '\0';
    return n;
}

void ak_json_double(ak_buf_t *out, double d)
{
    char s[32];
    size_t n = ak_format_double_text(d, s);
    if (isnan(d) || isinf(d)) {
        ak_json_string(out, s, n);
        return;
    }
    ak_json_raw(out, s, n);
}

/* ---------------------------------------------------------------- GeoJSON */

typedef struct geo_reader {
    const uint8_t *p;
    const uint8_t *end;
    ak_buf_t *out;   /* NULL: only validate */
    bool saw_space;  /* whitespace outside strings (dropped when copying) */
} geo_reader_t;

static inline void geo_emit(geo_reader_t *r, const void *p, size_t n)
{
    if (r->out)
        ak_json_raw(r->out, p, n);
}

static inline void geo_emit_char(geo_reader_t *r, char c)
{
    if (r->out)
        ak_json_char(r->out, c);
}

/* 1 for the bytes a JSON number is made of (as the scan below accepts them). */
static const uint8_t geo_number_char[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['e'] = 1, ['E'] = 1,
};

static inline void geo_skip_ws(geo_reader_t *r)
{
    if (r->p == r->end || *r->p > ' ')
        return; /* compact text: nothing to skip, the usual case */
    const uint8_t *start = r->p;
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
    r->saw_space |= r->p != start;
}

static bool geo_string(geo_reader_t *r)
{
    const uint8_t *start = r->p++;
    while (r->p < r->end && *r->p != '"') {
        if (json_plain[*r->p]) {
            r->p++; /* the usual byte: nothing to check */
            continue;
        }
        if (*r->p < 0x20)
            return false;
        if (*r->p == '\\') {
            r->p++;
            if (r->p == r->end)
                return false;
        }
        r->p++;
    }
    if (r->p == r->end)
        return false;
    r->p++;
    geo_emit(r, (const char *)start, (size_t)(r->p - start));
    return true;
}

static bool geo_value(geo_reader_t *r, int depth)
{
    if (depth > 64)
        return false;
    geo_skip_ws(r);
    if (r->p == r->end)
        return false;
    uint8_t c = *r->p;
    if (c == '"')
        return geo_string(r);
    if (c == '{' || c == '[') {
        uint8_t close = c == '{' ? '}' : ']';
        geo_emit_char(r, (char)c);
        r->p++;
        geo_skip_ws(r);
        if (r->p < r->end && *r->p == close) {
            r->p++;
            geo_emit_char(r, (char)close);
            return true;
        }
        for (;;) {
            if (c == '{') {
                geo_skip_ws(r);
                if (r->p == r->end || *r->p != '"' || !geo_string(r))
                    return false;
                geo_skip_ws(r);
                if (r->p == r->end || *r->p != ':')
                    return false;
                r->p++;
                geo_emit_char(r, ':');
            }
            if (!geo_value(r, depth + 1))
                return false;
            geo_skip_ws(r);
            if (r->p == r->end)
                return false;
            if (*r->p == ',') {
                r->p++;
                geo_emit_char(r, ',');
                continue;
            }
            if (*r->p != close)
                return false;
            r->p++;
            geo_emit_char(r, (char)close);
            return true;
        }
    }
    const uint8_t *start = r->p;
    if (c == '-' || (c >= '0' && c <= '9')) {
        while (r->p < r->end && geo_number_char[*r->p])
            r->p++;
    } else {
        static const char *const literals[] = {"true", "false", "null"};
        size_t k = 0;
        for (; k < 3; k++) {
            size_t n = strlen(literals[k]);
            if ((size_t)(r->end - r->p) >= n && memcmp(r->p, literals[k], n) == 0) {
                r->p += n;
                break;
            }
        }
        if (k == 3)
            return false;
    }
    geo_emit(r, (const char *)start, (size_t)(r->p - start));
    return true;
}

ak_status_t ak_json_geojson(ak_buf_t *out, const ak_value_t *v, const ak_bin_t *bin,
                            ak_error_t *err)
{
    /* Validate first; compact text (what clients store) is then copied in
     * one piece, and only text with whitespace is re-emitted token by token. */
    geo_reader_t r = {v->u.bytes.data, v->u.bytes.data + v->u.bytes.len, NULL, false};
    geo_skip_ws(&r);
    const uint8_t *value_start = r.p;
    r.saw_space = false;
    bool ok = r.p < r.end && *r.p == '{' && geo_value(&r, 0);
    const uint8_t *value_end = r.p;
    bool inner_space = r.saw_space;
    if (ok) {
        geo_skip_ws(&r);
        ok = r.p == r.end;
    }
    if (!ok)
        return ak_error_set(err, AK_ERR_UNSUPPORTED, "bin '%.*s': GeoJSON value is not a JSON object",
                            bin ? (int)bin->name.len : 0, bin ? bin->name.data : "");
    if (!inner_space) {
        ak_json_raw(out, (const char *)value_start, (size_t)(value_end - value_start));
        return AK_OK;
    }
    geo_reader_t copy = {value_start, value_end, out, false};
    (void)geo_value(&copy, 0);
    return AK_OK;
}

/* ---------------------------------------------------------------- values */

const char *ak_format_blob_lang(uint8_t particle_type)
{
    switch (particle_type) {
    case AK_PARTICLE_JAVA_BLOB: return "java";
    case AK_PARTICLE_CSHARP_BLOB: return "csharp";
    case AK_PARTICLE_PYTHON_BLOB: return "python";
    case AK_PARTICLE_RUBY_BLOB: return "ruby";
    case AK_PARTICLE_PHP_BLOB: return "php";
    case AK_PARTICLE_ERLANG_BLOB: return "erlang";
    default: return NULL;
    }
}

#define BIN_ARGS(bin) (bin) ? (int)(bin)->name.len : 0, (bin) ? (bin)->name.data : ""

static ak_status_t json_map_key(const ak_formatter_t *fmt, ak_buf_t *out, const ak_value_t *k,
                                const ak_bin_t *bin, ak_error_t *err)
{
    if (k->type == AK_VALUE_STRING) {
        ak_json_string(out, k->u.bytes.data, k->u.bytes.len);
        return AK_OK;
    }
    if (k->type == AK_VALUE_INT || k->type == AK_VALUE_DOUBLE) {
        if (!fmt->stringify_map_keys)
            return ak_error_set(err, AK_ERR_UNSUPPORTED,
                                "bin '%.*s': map key of type %s is not a string and "
                                "stringify-map-keys is false",
                                BIN_ARGS(bin), ak_value_type_name(k));
        char s[32];
        ak_json_char(out, '"');
        if (k->type == AK_VALUE_INT) {
            ak_json_int(out, k->u.integer);
        } else {
            size_t n = ak_format_double_text(k->u.dbl, s);
            ak_json_raw(out, s, n);
        }
        ak_json_char(out, '"');
        return AK_OK;
    }
    return ak_error_set(err, AK_ERR_UNSUPPORTED,
                        "bin '%.*s': map key of type %s cannot be a JSON object key "
                        "(only string and numeric keys can)",
                        BIN_ARGS(bin), ak_value_type_name(k));
}

ak_status_t ak_json_value(const ak_formatter_t *fmt, ak_buf_t *out, const ak_value_t *v,
                          const ak_bin_t *bin, int depth, ak_error_t *err)
{
    switch ((ak_value_type_t)v->type) {
    case AK_VALUE_NIL:
        AK_JSON_LIT(out, "null");
        return AK_OK;
    case AK_VALUE_INT:
        ak_json_int(out, v->u.integer);
        return AK_OK;
    case AK_VALUE_DOUBLE:
        ak_json_double(out, v->u.dbl);
        return AK_OK;
    case AK_VALUE_STRING:
        ak_json_string(out, v->u.bytes.data, v->u.bytes.len);
        return AK_OK;
    case AK_VALUE_BYTES:
    case AK_VALUE_HLL:
        ak_json_base64(out, v->u.bytes.data, v->u.bytes.len);
        return AK_OK;
    case AK_VALUE_BOOL:
        if (v->u.boolean)
            AK_JSON_LIT(out, "true");
        else
            AK_JSON_LIT(out, "false");
        return AK_OK;
    case AK_VALUE_GEOJSON:
        return ak_json_geojson(out, v, bin, err);
    case AK_VALUE_LIST:
    case AK_VALUE_MAP:
        break;
    default:
        return ak_error_set(err, AK_ERR_UNSUPPORTED, "bin '%.*s': value type %u not supported",
                            BIN_ARGS(bin), (unsigned)v->type);
    }
    if (depth >= AK_FORMAT_MAX_DEPTH)
        return ak_error_set(err, AK_ERR_LIMIT, "bin '%.*s': lists and maps nested deeper than %d",
                            BIN_ARGS(bin), AK_FORMAT_MAX_DEPTH);
    if (v->type == AK_VALUE_LIST) {
        ak_json_char(out, '[');
        for (uint32_t i = 0; i < v->u.list.count; i++) {
            if (i)
                ak_json_char(out, ',');
            ak_status_t st = ak_json_value(fmt, out, &v->u.list.items[i], bin, depth + 1, err);
            if (st != AK_OK)
                return st;
        }
        ak_json_char(out, ']');
        return AK_OK;
    }
    ak_json_char(out, '{');
    for (uint32_t i = 0; i < v->u.map.count; i++) {
        if (i)
            ak_json_char(out, ',');
        ak_status_t st = json_map_key(fmt, out, &v->u.map.entries[2 * i], bin, err);
        if (st != AK_OK)
            return st;
        ak_json_char(out, ':');
        st = ak_json_value(fmt, out, &v->u.map.entries[2 * i + 1], bin, depth + 1, err);
        if (st != AK_OK)
            return st;
    }
    ak_json_char(out, '}');
    return AK_OK;
}

/* ---------------------------------------------------------------- typed JSON */

static void json_user_key(ak_buf_t *out, const ak_record_t *rec)
{
    if (!rec->has_key) {
        AK_JSON_LIT(out, "null");
        return;
    }
    switch ((ak_value_type_t)rec->key.type) {
    case AK_VALUE_INT: ak_json_int(out, rec->key.u.integer); break;
    case AK_VALUE_DOUBLE: ak_json_double(out, rec->key.u.dbl); break;
    case AK_VALUE_STRING: ak_json_string(out, rec->key.u.bytes.data, rec->key.u.bytes.len); break;
    case AK_VALUE_BYTES: ak_json_base64(out, rec->key.u.bytes.data, rec->key.u.bytes.len); break;
    default: AK_JSON_LIT(out, "null"); break;
    }
}

static const char *json_type_tag(const ak_value_t *v)
{
    switch ((ak_value_type_t)v->type) {
    case AK_VALUE_NIL: return "nil";
    case AK_VALUE_INT: return "int";
    case AK_VALUE_DOUBLE: return "float";
    case AK_VALUE_STRING: return "str";
    case AK_VALUE_BYTES: return "blob";
    case AK_VALUE_BOOL: return "bool";
    case AK_VALUE_HLL: return "hll";
    case AK_VALUE_GEOJSON: return "geojson";
    case AK_VALUE_LIST: return "list";
    case AK_VALUE_MAP: return "map";
    }
    return NULL;
}

static ak_status_t json_bin(const ak_formatter_t *fmt, ak_buf_t *out, const ak_bin_t *bin,
                            ak_error_t *err)
{
    const ak_value_t *v = &bin->value;
    const char *tag = json_type_tag(v);
    if (!tag)
        return ak_error_set(err, AK_ERR_UNSUPPORTED, "bin '%.*s': value type %u not supported",
                            BIN_ARGS(bin), (unsigned)v->type);
    AK_JSON_LIT(out, "{\"name\":");
    ak_json_string(out, bin->name.data, bin->name.len);
    AK_JSON_LIT(out, ",\"type\":\"");
    ak_json_raw(out, tag, strlen(tag));
    AK_JSON_LIT(out, "\",\"value\":");
    ak_status_t st = ak_json_value(fmt, out, v, bin, 0, err);
    if (st != AK_OK)
        return st;
    if (v->type == AK_VALUE_LIST) {
        if (v->subtype & 1)
            AK_JSON_LIT(out, ",\"ordered\":true");
        else
            AK_JSON_LIT(out, ",\"ordered\":false");
    } else if (v->type == AK_VALUE_MAP && (v->subtype & 3)) {
        if ((v->subtype & 3) == 3)
            AK_JSON_LIT(out, ",\"order\":\"key-value\"");
        else
            AK_JSON_LIT(out, ",\"order\":\"key\"");
    } else if (v->type == AK_VALUE_BYTES) {
        const char *lang = ak_format_blob_lang(v->subtype);
        if (lang) {
            AK_JSON_LIT(out, ",\"lang\":\"");
            ak_json_raw(out, lang, strlen(lang));
            ak_json_char(out, '"');
        }
    }
    ak_json_char(out, '}');
    return AK_OK;
}

ak_status_t ak_format_json_write(const ak_formatter_t *fmt, const ak_format_input_t *in,
                                 const uint8_t digest[20], ak_buf_t *out, ak_error_t *err)
{
    const ak_record_t *rec = in->rec;
    bool is_write = rec->op == AK_RECORD_WRITE;
    if (is_write)
        AK_JSON_LIT(out, "{\"msg\":\"write\",\"key\":[");
    else
        AK_JSON_LIT(out, "{\"msg\":\"delete\",\"key\":[");
    ak_json_string(out, rec->ns.data, rec->ns.len);
    ak_json_char(out, ',');
    if (rec->set.len)
        ak_json_string(out, rec->set.data, rec->set.len);
    else
        AK_JSON_LIT(out, "null");
    ak_json_char(out, ',');
    ak_json_base64(out, digest, 20);
    ak_json_char(out, ',');
    json_user_key(out, rec);
    AK_JSON_LIT(out, "]");
    if (is_write || json_delete_has_gen_lut) {
        AK_JSON_LIT(out, ",\"gen\":");
        ak_json_int(out, rec->generation);
    }
    if (is_write) {
        AK_JSON_LIT(out, ",\"exp\":");
        if (in->exp_s < 0)
            AK_JSON_LIT(out, "null");
        else
            ak_json_int(out, in->exp_s);
    }
    if (is_write || json_delete_has_gen_lut) {
        AK_JSON_LIT(out, ",\"lut\":");
        if (rec->has_lut)
            ak_json_int(out, (int64_t)rec->lut_ms);
        else
            AK_JSON_LIT(out, "null");
    }
    if (!is_write) {
        if (rec->op == AK_RECORD_DURABLE_DELETE)
            AK_JSON_LIT(out, ",\"durable\":true}");
        else
            AK_JSON_LIT(out, ",\"durable\":false}");
        return AK_OK;
    }
    AK_JSON_LIT(out, ",\"bins\":[");
    for (uint32_t i = 0; i < rec->n_bins; i++) {
        if (i)
            ak_json_char(out, ',');
        ak_status_t st = json_bin(fmt, out, &rec->bins[i], err);
        if (st != AK_OK)
            return st;
    }
    AK_JSON_LIT(out, "]}");
    return AK_OK;
}
