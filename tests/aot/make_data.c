/* make_data.c — a random data set for the AOT tests:
 *   make_data DIR N NAME:f32:D1xD2... NAME:i64:CLASSES NAME:bits:D ...
 * writes NAME_train.npy with N samples and NAME_test.npy with N / 2, f32
 * values uniform in [-1, 1), i64 labels in [0, CLASSES), or i64 flags [N, D]
 * of 0 and 1 (a meta file); the same arguments give the same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "npy.h"

static unsigned long long state = 88172645463325252ull;

static double next(void) { /* xorshift64 */
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (double)(state >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: make_data DIR N NAME:f32:D1xD2... NAME:i64:CLASSES ...\n");
        return 2;
    }
    mkdir(argv[1], 0755);
    long long n = atoll(argv[2]);
    const char *split[2] = {"train", "test"};
    for (int s = 0; s < 2; s++)
        for (int a = 3; a < argc; a++) {
            char name[128], kind[8], dims[128] = "";
            if (sscanf(argv[a], "%127[^:]:%7[^:]:%127s", name, kind, dims) < 3) return fprintf(stderr, "bad %s\n", argv[a]), 2;
            int64_t shape[8] = {s ? n / 2 : n};
            int rank = 1;
            int bits = !strcmp(kind, "bits"), i64 = bits || !strcmp(kind, "i64");
            long long classes = bits ? 2 : i64 ? atoll(dims) : 0;
            for (char *d = i64 && !bits ? NULL : strtok(dims, "x"); d && rank < 8; d = strtok(NULL, "x")) shape[rank++] = atoll(d);
            NpyArray arr = {0};
            char err[256], path[512];
            if (npy_alloc(&arr, i64 ? 'l' : 'f', rank, shape, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
            int64_t count = npy_numel(&arr);
            for (int64_t k = 0; k < count; k++) {
                if (i64) ((int64_t *)arr.data)[k] = (int64_t)(next() * (double)classes);
                else ((float *)arr.data)[k] = (float)(2 * next() - 1);
            }
            snprintf(path, sizeof path, "%s/%s_%s.npy", argv[1], name, split[s]);
            if (npy_write(path, &arr, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
            npy_free(&arr);
        }
    return 0;
}
