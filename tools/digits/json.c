/* json.c — see json.h. */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 256

void json_init(JsonIn *in, const char *path, const char *s, size_t len, char *err, size_t errlen) {
    *in = (JsonIn){.path = path, .s = s, .len = len, .pos = 0, .err = err, .errlen = errlen};
}

int json_fail(JsonIn *in, const char *fmt, ...) {
    if (!in->err || !in->errlen) return -1;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < in->pos && i < in->len; i++) {
        if (in->s[i] == '\n') line++, col = 1;
        else col++;
    }
    int n = snprintf(in->err, in->errlen, "%s:%zu:%zu: ", in->path, line, col);
    if (n >= 0 && (size_t)n < in->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(in->err + n, in->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

const char *json_found(JsonIn *in, char buf[16]) {
    if (in->pos >= in->len) return "the end of the file";
    unsigned char c = (unsigned char)in->s[in->pos];
    if (c >= 0x20 && c < 0x7f) snprintf(buf, 16, "'%c'", c);
    else snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

static int is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

char json_peek(JsonIn *in) {
    while (in->pos < in->len && is_space(in->s[in->pos])) in->pos++;
    return in->pos < in->len ? in->s[in->pos] : 0;
}

int json_expect(JsonIn *in, char c) {
    char buf[16];
    if (json_peek(in) != c || in->pos >= in->len) return json_fail(in, "expected '%c', found %s", c, json_found(in, buf));
    in->pos++;
    return 0;
}

int json_string(JsonIn *in, char *buf, size_t n) {
    size_t k = 0;
    if (json_expect(in, '"') != 0) return -1;
    for (;;) {
        if (in->pos >= in->len) return json_fail(in, "unterminated string");
        unsigned char c = (unsigned char)in->s[in->pos];
        if (c == '"') break;
        if (c < 0x20) return json_fail(in, "control character 0x%02x in a string", c);
        in->pos++;
        if (c == '\\') {
            if (in->pos >= in->len) return json_fail(in, "unterminated string");
            char e = in->s[in->pos++];
            const char *esc = strchr("\"\\/bfnrt", e);
            if (e == 'u') {
                for (int i = 0; i < 4; i++, in->pos++)
                    if (in->pos >= in->len || !strchr("0123456789abcdefABCDEF", in->s[in->pos]) || !in->s[in->pos])
                        return json_fail(in, "bad \\u escape: expected 4 hex digits");
                c = '?';
            } else if (!esc || !e) {
                in->pos--;
                return json_fail(in, "bad escape '\\%c' in a string", e);
            } else {
                c = (unsigned char)"\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"];
            }
        }
        if (buf && k + 1 < n) buf[k++] = (char)c;
    }
    in->pos++;
    if (buf && n) buf[k] = 0;
    return 0;
}

static int is_digit(JsonIn *in, size_t i) { return i < in->len && in->s[i] >= '0' && in->s[i] <= '9'; }

/* Exact powers of ten: 1e0 .. 1e22 are exact doubles. */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int json_number(JsonIn *in, double *out) {
    char fb[16];
    json_peek(in);
    size_t start = in->pos, i = in->pos;
    int neg = 0, digits = 0, frac = 0;
    uint64_t mant = 0;
    long exp10 = 0;
    if (i < in->len && in->s[i] == '-') neg = 1, i++;
    if (!is_digit(in, i)) return json_fail(in, "expected a number, found %s", json_found(in, fb));
    if (in->s[i] == '0' && is_digit(in, i + 1)) {
        in->pos = i + 1;
        return json_fail(in, "a number may not have leading zeros");
    }
    for (; is_digit(in, i); i++, digits++) mant = mant * 10 + (uint64_t)(in->s[i] - '0');
    if (i < in->len && in->s[i] == '.') {
        i++;
        if (!is_digit(in, i)) {
            in->pos = i;
            return json_fail(in, "expected a digit after '.'");
        }
        for (; is_digit(in, i); i++, digits++, frac++) mant = mant * 10 + (uint64_t)(in->s[i] - '0');
    }
    if (i < in->len && (in->s[i] == 'e' || in->s[i] == 'E')) {
        int eneg = 0;
        i++;
        if (i < in->len && (in->s[i] == '+' || in->s[i] == '-')) eneg = in->s[i++] == '-';
        if (!is_digit(in, i)) {
            in->pos = i;
            return json_fail(in, "expected a digit in the exponent");
        }
        for (; is_digit(in, i); i++)
            if (exp10 < 100000) exp10 = exp10 * 10 + (in->s[i] - '0');
        if (eneg) exp10 = -exp10;
    }
    exp10 -= frac;
    double v;
    if (digits <= 15 && exp10 >= -22 && exp10 <= 22) {
        /* Both operands exact: one correctly rounded operation (Clinger's fast path). */
        v = exp10 < 0 ? (double)mant / POW10[-exp10] : (double)mant * POW10[exp10];
        if (neg) v = -v;
    } else {
        char buf[512];
        size_t n = i - start;
        if (n >= sizeof buf) {
            in->pos = start;
            return json_fail(in, "number too long");
        }
        memcpy(buf, in->s + start, n);
        buf[n] = 0;
        v = strtod(buf, NULL);
    }
    if (!isfinite(v)) {
        in->pos = start;
        return json_fail(in, "number out of range");
    }
    in->pos = i;
    *out = v;
    return 0;
}

static int skip_literal(JsonIn *in, const char *word) {
    size_t n = strlen(word);
    if (in->len - in->pos < n || memcmp(in->s + in->pos, word, n) != 0) {
        char fb[16];
        return json_fail(in, "expected a value, found %s", json_found(in, fb));
    }
    in->pos += n;
    return 0;
}

static int skip(JsonIn *in, int depth) {
    char fb[16];
    if (depth > JSON_MAX_DEPTH) return json_fail(in, "nested more than %d deep", JSON_MAX_DEPTH);
    char c = json_peek(in);
    double d;
    switch (c) {
    case '{':
        in->pos++;
        if (json_peek(in) == '}') return in->pos++, 0;
        for (;;) {
            if (json_string(in, NULL, 0) != 0 || json_expect(in, ':') != 0 || skip(in, depth + 1) != 0) return -1;
            c = json_peek(in);
            if (c == '}') return in->pos++, 0;
            if (c != ',') return json_fail(in, "expected ',' or '}' in an object, found %s", json_found(in, fb));
            in->pos++;
        }
    case '[':
        in->pos++;
        if (json_peek(in) == ']') return in->pos++, 0;
        for (;;) {
            if (skip(in, depth + 1) != 0) return -1;
            c = json_peek(in);
            if (c == ']') return in->pos++, 0;
            if (c != ',') return json_fail(in, "expected ',' or ']' in an array, found %s", json_found(in, fb));
            in->pos++;
        }
    case '"': return json_string(in, NULL, 0);
    case 't': return skip_literal(in, "true");
    case 'f': return skip_literal(in, "false");
    case 'n': return skip_literal(in, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return json_number(in, &d);
        return json_fail(in, "expected a value, found %s", json_found(in, fb));
    }
}

int json_skip_value(JsonIn *in) { return skip(in, 0); }

int json_validate(JsonIn *in) {
    char fb[16];
    if (skip(in, 0) != 0) return -1;
    if (json_peek(in) != 0 || in->pos < in->len) return json_fail(in, "unexpected %s after the value", json_found(in, fb));
    return 0;
}
