/* json_tree.c — see json_tree.h. */
#include "json_tree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io_util.h"


typedef struct {
    const char *s; /* the text, NUL-terminated */
    size_t n, i;
    int depth;
    const char *path;
    const char *what; /* the text's name in messages ("header") */
    size_t base;      /* added to byte offsets in messages and in Json.pos */
    char *err;
    size_t errlen;
} JParse;

void json_free(Json *v) {
    free(v->str);
    for (int i = 0; i < v->n; i++) {
        json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

/* A JSON syntax error at the parse position: "PATH: header is not valid JSON: WHAT at byte N". */
static int jerr(JParse *p, const char *what) {
    if (p->i >= p->n)
        return io_fail(p->err, p->errlen, "%s: %s is not valid JSON: %s at the end of the %s", p->path, p->what, what,
                       p->what);
    return io_fail(p->err, p->errlen, "%s: %s is not valid JSON: %s at byte %zu", p->path, p->what, what, p->i + p->base);
}

/* Skips JSON white space. */
static void jskip(JParse *p) {
    while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]) && p->s[p->i]) p->i++;
}

/* Four hex digits at s into *v; -1 if they are not. */
static int hex4(const char *s, unsigned *v) {
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v << 4 | (unsigned)d;
    }
    return 0;
}

/* Appends code point cp as UTF-8. */
static void put_utf8(RBuf *b, unsigned cp) {
    unsigned char u[4];
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (n == 1) u[0] = (unsigned char)cp;
    else {
        for (size_t k = n - 1; k > 0; k--, cp >>= 6) u[k] = (unsigned char)(0x80 | (cp & 0x3F));
        u[0] = (unsigned char)((0xF00 >> n) | cp);
    }
    rb_add(b, u, n);
}

/* A string literal at p->i (which is '"'), decoded into *out (malloc'd). */
static int jstring(JParse *p, char **out) {
    RBuf b = {0};
    size_t start = ++p->i;
    rb_add(&b, "", 0);
    for (;;) {
        if (p->i >= p->n) {
            free(b.s);
            return jerr(p, "unterminated string");
        }
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') break;
        if (c < 0x20) {
            free(b.s);
            return jerr(p, "control character in a string");
        }
        if (c != '\\') {
            rb_add(&b, &c, 1), p->i++;
            continue;
        }
        const char *e = p->i + 1 < p->n ? strchr("\"\\/bfnrtu", p->s[p->i + 1]) : NULL;
        if (!e || !*e) {
            free(b.s);
            return jerr(p, "bad escape in a string");
        }
        if (*e != 'u') {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            rb_add(&b, &to[strchr(from, *e) - from], 1);
            p->i += 2;
            continue;
        }
        unsigned cp, lo;
        if (p->i + 6 > p->n || hex4(p->s + p->i + 2, &cp) != 0) {
            free(b.s);
            return jerr(p, "bad \\u escape in a string");
        }
        size_t len = 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair: \uD83D\uDE00 */
            if (p->i + 12 > p->n || p->s[p->i + 6] != '\\' || p->s[p->i + 7] != 'u' ||
                hex4(p->s + p->i + 8, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
                free(b.s);
                return jerr(p, "unpaired surrogate in a string");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            len = 12;
        } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
            free(b.s);
            return jerr(p, cp ? "unpaired surrogate in a string" : "\\u0000 in a string");
        }
        put_utf8(&b, cp);
        p->i += len;
    }
    p->i++;
    if (b.oom) return io_fail(p->err, p->errlen, "%s: out of memory", p->path);
    if (!io_utf8_valid((const unsigned char *)b.s, b.n)) {
        p->i = start - 1;
        free(b.s);
        return jerr(p, "string is not valid UTF-8");
    }
    *out = b.s;
    return 0;
}

/* A number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int jnumber(JParse *p, Json *v) {
    size_t i = p->i;
    const char *s = p->s;
    int neg = s[i] == '-', digits = 0, overflow = 0;
    if (neg) i++;
    if (s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9') return jerr(p, "number with a leading zero");
    int64_t acc = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        int d = s[i++] - '0';
        if (acc > (INT64_MAX - d) / 10) overflow = 1;
        else acc = acc * 10 + d;
        digits++;
    }
    if (!digits) return jerr(p, "bad number");
    int integral = 1;
    if (s[i] == '.') {
        integral = 0, i++;
        if (!(s[i] >= '0' && s[i] <= '9')) return jerr(p, "bad number");
        while (s[i] >= '0' && s[i] <= '9') i++;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        integral = 0, i++;
        if (s[i] == '+' || s[i] == '-') i++;
        if (!(s[i] >= '0' && s[i] <= '9')) return jerr(p, "bad number");
        while (s[i] >= '0' && s[i] <= '9') i++;
    }
    v->type = JSON_NUM;
    v->num = strtod(s + p->i, NULL);
    v->is_int = integral && !overflow;
    v->ival = neg ? -acc : acc;
    p->i = i;
    return 0;
}

static int jvalue(JParse *p, Json *v);

/* Appends item (and key, which it takes) to an array or object. */
static int jpush(JParse *p, Json *v, Json *item, char *key) {
    if (v->n == v->cap) {
        int cap = v->cap ? 2 * v->cap : 4;
        Json *items = realloc(v->items, (size_t)cap * sizeof *items);
        if (items) v->items = items;
        char **keys = v->type == JSON_OBJ ? realloc(v->keys, (size_t)cap * sizeof *keys) : NULL;
        if (keys) v->keys = keys;
        if (!items || (v->type == JSON_OBJ && !keys)) {
            json_free(item);
            free(key);
            return io_fail(p->err, p->errlen, "%s: out of memory", p->path);
        }
        v->cap = cap;
    }
    if (v->type == JSON_OBJ) v->keys[v->n] = key;
    v->items[v->n++] = *item;
    return 0;
}

/* [v, ...] or {"k": v, ...} at p->i. */
static int jcontainer(JParse *p, Json *v) {
    char close = p->s[p->i] == '[' ? ']' : '}';
    v->type = close == ']' ? JSON_ARR : JSON_OBJ;
    if (++p->depth > JSON_MAX_DEPTH) return jerr(p, "nesting too deep");
    p->i++;
    jskip(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++, p->depth--;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        jskip(p);
        if (v->type == JSON_OBJ) {
            if (p->i >= p->n || p->s[p->i] != '"') return jerr(p, "expected a string key");
            if (jstring(p, &key) != 0) return -1;
            jskip(p);
            if (p->i >= p->n || p->s[p->i] != ':') {
                free(key);
                return jerr(p, "expected ':' after a key");
            }
            p->i++;
        }
        Json item = {0};
        if (jvalue(p, &item) != 0) {
            json_free(&item);
            free(key);
            return -1;
        }
        if (jpush(p, v, &item, key) != 0) return -1;
        jskip(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close) break;
        return jerr(p, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
    p->i++, p->depth--;
    return 0;
}

/* Any value at p->i (after white space). On error *v may hold a partial tree to free. */
static int jvalue(JParse *p, Json *v) {
    jskip(p);
    if (p->i >= p->n) return jerr(p, "expected a value");
    v->pos = p->i + p->base;
    char c = p->s[p->i];
    if (c == '{' || c == '[') return jcontainer(p, v);
    if (c == '"') {
        v->type = JSON_STR;
        return jstring(p, &v->str);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return jnumber(p, v);
    static const char *words[] = {"null", "true", "false"};
    for (int k = 0; k < 3; k++) {
        size_t len = strlen(words[k]);
        if (p->n - p->i >= len && !memcmp(p->s + p->i, words[k], len)) {
            v->type = k ? JSON_BOOL : JSON_NULL;
            v->boolean = k == 1;
            p->i += len;
            return 0;
        }
    }
    return jerr(p, "expected a value");
}

int json_parse(const char *text, size_t n, const char *path, const char *what, size_t base, int object, Json *out,
               char *err, size_t errlen) {
    JParse p = {text, n, 0, 0, path, what, base, err, errlen};
    memset(out, 0, sizeof *out);
    jskip(&p);
    if (p.i >= p.n) return io_fail(err, errlen, "%s: %s is empty", path, what);
    if (object && text[p.i] != '{') return io_fail(err, errlen, "%s: %s is not a JSON object", path, what);
    int rc = jvalue(&p, out);
    if (rc == 0) {
        jskip(&p);
        if (p.i < p.n) rc = jerr(&p, out->type == JSON_OBJ ? "text after the JSON object" : "text after the JSON value");
    }
    if (rc) {
        json_free(out);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

const Json *json_get(const Json *obj, const char *key) {
    for (int i = 0; obj && obj->type == JSON_OBJ && i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return &obj->items[i];
    return NULL;
}

double json_number_or(const Json *v, double dflt) { return v && v->type == JSON_NUM ? v->num : dflt; }
