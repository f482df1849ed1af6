/* classify.c — a C program that embeds a model compiled by mmgc and
 * predicts the class of each sample of its inputs.
 *
 *   mmgc MODEL.mmg --emit=obj --weights trained.safetensors -o model.o
 *   mmgc MODEL.mmg --emit=header -o model.h
 *   cc -I. classify.c model.o -lopenblas -lm -lpthread -o classify
 *   ./classify [-w WEIGHTS.safetensors] logits.npy image.npy audio.npy
 *
 * (one .npy per model input, in order) prints "INDEX  CLASS  PROBABILITY"
 * per sample, as `mmgc --predict` does, and writes the logits [N, classes]
 * to the first file. The weights are those baked into model.o, or -w's.
 * The inputs are float32 .npy files [N, per-sample shape...] as
 * numpy.save writes them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* Reads a little-endian float32 .npy file of n rows of `size` floats. */
static float *read_npy(const char *path, int64_t size, int64_t *n) {
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    if (!f || fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) {
        fprintf(stderr, "classify: %s: not a .npy file\n", path);
        exit(1);
    }
    size_t hlen = pre[8] | (size_t)pre[9] << 8; /* format version 1 */
    char *header = calloc(hlen + 1, 1);
    if (fread(header, 1, hlen, f) != hlen || !strstr(header, "'<f4'") || strstr(header, "True")) {
        fprintf(stderr, "classify: %s: expected float32 in C order\n", path);
        exit(1);
    }
    /* 'shape': (N, d1, d2, ...): the sample count, and each sample's size */
    const char *shape = strstr(header, "'shape': (");
    int64_t per = 1, d;
    char *p = shape ? (char *)shape + 10 : NULL;
    *n = p ? strtoll(p, &p, 10) : -1;
    while (p && *p == ',' && (d = strtoll(p + 1, &p, 10)) > 0) per *= d;
    if (*n < 0 || per != size) {
        fprintf(stderr, "classify: %s: each sample must hold %lld floats (the model's input)\n", path,
                (long long)size);
        exit(1);
    }
    float *x = malloc((size_t)(*n * size) * sizeof *x);
    if (*n < 1 || fread(x, sizeof *x, (size_t)(*n * size), f) != (size_t)(*n * size)) {
        fprintf(stderr, "classify: %s: no samples of %lld floats\n", path, (long long)size);
        exit(1);
    }
    free(header);
    fclose(f);
    return x;
}

/* Writes x [n, c] as a float32 .npy file. */
static void write_npy(const char *path, const float *x, int64_t n, int c) {
    char header[128];
    int len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %d), }",
                       (long long)n, c);
    int pad = 64 - (10 + len + 1) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc((len + pad + 1) & 0xff, f);
    fputc((len + pad + 1) >> 8, f);
    fprintf(f, "%s%*s\n", header, pad, "");
    fwrite(x, sizeof *x, (size_t)(n * c), f);
    if (fclose(f)) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv) {
    const char *weights = NULL; /* NULL: the weights baked in */
    if (argc > 2 && !strcmp(argv[1], "-w")) {
        weights = argv[2];
        argc -= 2, argv += 2;
    }
    if (argc != 2 + MMGC_MODEL_NINPUTS) {
        fprintf(stderr, "usage: classify [-w WEIGHTS] LOGITS.npy INPUT.npy... (%d inputs of model %s)\n",
                MMGC_MODEL_NINPUTS, MMGC_MODEL_NAME);
        return 2;
    }
    char err[1024];
    MmgcModel *m = mmgc_model_create(weights, err, sizeof err);
    if (!m) {
        fprintf(stderr, "classify: %s\n", err);
        return 1;
    }
    const float *inputs[MMGC_MODEL_NINPUTS];
    int64_t n = 0;
    for (int i = 0; i < MMGC_MODEL_NINPUTS; i++) {
        int64_t rows;
        inputs[i] = read_npy(argv[2 + i], mmgc_model_input_size(m, i), &rows);
        if (i > 0 && rows != n) {
            fprintf(stderr, "classify: %s has %lld samples, %s has %lld\n", argv[2 + i], (long long)rows, argv[2],
                    (long long)n);
            return 1;
        }
        n = rows;
    }
    int c = mmgc_model_classes(m);
    float *logits = malloc((size_t)(n * c) * sizeof *logits);
    if (mmgc_model_predict(m, inputs, n, logits)) {
        fprintf(stderr, "classify: %s\n", mmgc_model_error(m));
        return 1;
    }
    for (int64_t i = 0; i < n; i++) { /* the class and its softmax probability */
        const float *l = logits + i * c;
        int k = 0;
        for (int j = 1; j < c; j++)
            if (l[j] > l[k]) k = j;
        double sum = 0;
        for (int j = 0; j < c; j++) sum += exp((double)l[j] - (double)l[k]);
        printf("%lld  %d  %.4f\n", (long long)i, k, 1.0 / sum);
    }
    write_npy(argv[1], logits, n, c);
    for (int i = 0; i < MMGC_MODEL_NINPUTS; i++) free((void *)inputs[i]);
    free(logits);
    mmgc_model_destroy(m);
    return 0;
}
