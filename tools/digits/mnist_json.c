/* mnist_json.c — see mnist_json.h. */
#include "mnist_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "params.h"
#include "sha256.h"
#include "util.h"

/* The "data" array: numbers in [0, 1] appended to *v (capacity *cap). */
static int parse_data(JsonIn *in, float **v, size_t *n, size_t *cap) {
    char fb[16];
    if (json_expect(in, '[') != 0) return -1;
    if (json_peek(in) == ']') return in->pos++, 0;
    for (;;) {
        double x;
        json_peek(in);
        size_t at = in->pos;
        if (json_number(in, &x) != 0) return -1;
        if (!(x >= 0.0 && x <= 1.0)) {
            in->pos = at;
            return json_fail(in, "pixel %zu is %g, outside [0, 1]", *n, x);
        }
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 1 << 16;
            *v = xrealloc(*v, *cap * sizeof **v);
        }
        (*v)[(*n)++] = (float)x;
        char c = json_peek(in);
        if (c == ']') return in->pos++, 0;
        if (c != ',') return json_fail(in, "expected ',' or ']' in the data array, found %s", json_found(in, fb));
        in->pos++;
    }
}

int mnist_parse(const char *path, const char *text, size_t len, float **pixels, int64_t *count, char *err,
                size_t errlen) {
    JsonIn in;
    float *v = NULL;
    size_t n = 0, cap = 0;
    int seen = 0;
    json_init(&in, path, text, len, err, errlen);
    *pixels = NULL;
    *count = 0;
    if (json_expect(&in, '{') != 0) goto fail;
    if (json_peek(&in) != '}') {
        for (;;) {
            char key[64];
            if (json_string(&in, key, sizeof key) != 0 || json_expect(&in, ':') != 0) goto fail;
            if (!strcmp(key, "data")) {
                if (seen) {
                    json_fail(&in, "a second \"data\" member");
                    goto fail;
                }
                seen = 1;
                if (parse_data(&in, &v, &n, &cap) != 0) goto fail;
            } else if (json_skip_value(&in) != 0) {
                goto fail;
            }
            if (json_peek(&in) == '}') break;
            if (json_expect(&in, ',') != 0) goto fail;
        }
    }
    if (json_expect(&in, '}') != 0) goto fail;
    if (json_peek(&in) != 0 || in.pos < in.len) {
        json_fail(&in, "unexpected text after the object");
        goto fail;
    }
    if (!seen) {
        in.pos = 0;
        json_fail(&in, "no \"data\" member: expected {\"data\": [784 numbers per image]}");
        goto fail;
    }
    if (n % DIGITS_PIXELS != 0) {
        snprintf(err, errlen, "%s: the data array has %zu numbers, not a multiple of 784 (28 x 28)", path, n);
        goto fail;
    }
    *pixels = v;
    *count = (int64_t)(n / DIGITS_PIXELS);
    return 0;
fail:
    free(v);
    return -1;
}

int mnist_load(const char *dir, MnistDigits *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    for (int d = 0; d < 10; d++) {
        char path[4096];
        size_t len;
        snprintf(path, sizeof path, "%s/%d.json", dir, d);
        char *text = read_file(path, &len);
        if (!text) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            mnist_free(out);
            return -1;
        }
        sha256_hex(text, len, out->sha256[d]);
        int rc = mnist_parse(path, text, len, &out->pixels[d], &out->count[d], err, errlen);
        free(text);
        if (rc != 0) {
            mnist_free(out);
            return -1;
        }
    }
    return 0;
}

void mnist_free(MnistDigits *m) {
    for (int d = 0; d < 10; d++) free(m->pixels[d]);
    memset(m, 0, sizeof *m);
}
