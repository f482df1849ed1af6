/* json.h — a small JSON reader: enough to read the MNIST digit files
 * ({"data": [numbers]}) and to check that a file is valid JSON.
 *
 *   JsonIn in;
 *   json_init(&in, path, text, len, err, errlen);
 *   if (json_expect(&in, '{') != 0) ... err holds "path:line:col: expected '{', found 'x'"
 *
 * Every function returns 0 on success or -1 with a message in err; none
 * reads past len or aborts on bad input.
 */
#ifndef MMGC_DIGITS_JSON_H
#define MMGC_DIGITS_JSON_H

#include <stddef.h>

typedef struct {
    const char *path; /* for messages */
    const char *s;    /* the text [len]; need not be NUL-terminated */
    size_t len, pos;
    char *err;
    size_t errlen;
} JsonIn;

void json_init(JsonIn *in, const char *path, const char *s, size_t len, char *err, size_t errlen);
/* Sets err to "path:line:col: message" at the current position; returns -1. */
int json_fail(JsonIn *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* What is at the current position, for messages: "'x'", "byte 0x01" or
 * "the end of the file" (buf holds the first two). */
const char *json_found(JsonIn *in, char buf[16]);
/* Skips whitespace; returns the next character, or 0 at the end. */
char json_peek(JsonIn *in);
/* Skips whitespace and consumes c, or fails naming what was found. */
int json_expect(JsonIn *in, char c);
/* Reads a string into buf (truncated to n - 1 bytes; escapes are checked, \uXXXX kept as '?'). */
int json_string(JsonIn *in, char *buf, size_t n);
/* Reads a number (JSON grammar; finite). */
int json_number(JsonIn *in, double *out);
/* Reads and discards any value (nested at most 256 deep). */
int json_skip_value(JsonIn *in);
/* The whole text is one value and nothing but whitespace after it. */
int json_validate(JsonIn *in);

#endif
