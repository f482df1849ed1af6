/* known_data.c — the data set of known.mmg:  known_data DIR
 * x_SPLIT.npy [N, 3]: sample i is the one-hot of class i % 3; y_SPLIT.npy:
 * the label, class i % 3 except where i % 10 < 3, there (i + 1) % 3. So the
 * prediction (x's class) is right on exactly 70% of the samples: of the 100
 * test samples 70, and the confusion matrix is known (test_dist.sh). */
#include <stdio.h>
#include <sys/stat.h>

#include "npy.h"

static int write(const char *dir, const char *split, int64_t n) {
    NpyArray x = {0}, y = {0};
    int64_t xs[2] = {n, 3}, ys[1] = {n};
    char err[256], path[512];
    if (npy_alloc(&x, 'f', 2, xs, err, sizeof err) || npy_alloc(&y, 'l', 1, ys, err, sizeof err))
        return fprintf(stderr, "%s\n", err), 1;
    for (int64_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++) ((float *)x.data)[i * 3 + c] = c == i % 3 ? 1.0f : 0.0f;
        ((int64_t *)y.data)[i] = i % 10 < 3 ? (i + 1) % 3 : i % 3;
    }
    snprintf(path, sizeof path, "%s/x_%s.npy", dir, split);
    if (npy_write(path, &x, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
    snprintf(path, sizeof path, "%s/y_%s.npy", dir, split);
    if (npy_write(path, &y, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
    npy_free(&x);
    npy_free(&y);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) return fprintf(stderr, "usage: known_data DIR\n"), 2;
    mkdir(argv[1], 0755);
    return write(argv[1], "train", 200) || write(argv[1], "test", 100);
}
