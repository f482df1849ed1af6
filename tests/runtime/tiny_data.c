/* tiny_data.c — see tiny_data.h. */
#include "tiny_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "frontend/compile.h"
#include "npy.h"
#include "train.h"
#include "util.h"

void write_npy(const char *dir, const char *file, char dtype, int rank, const int64_t *shape, const void *data) {
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    NpyArray a = {0};
    CU_ASSERT_EQUAL_FATAL(npy_alloc(&a, dtype, rank, shape, err, sizeof err), 0);
    memcpy(a.data, data, a.nbytes);
    CU_ASSERT_EQUAL(npy_write(path, &a, err, sizeof err), 0);
    npy_free(&a);
}

/* 200 train and 100 test samples: x = prototype[y] + noise. */
void make_data(const char *dir) {
    mkdir(dir, 0755);
    const char *split[2] = {"train", "test"};
    int64_t count[2] = {200, 100};
    unsigned s = 99;
    for (int k = 0; k < 2; k++) {
        float *x = xmalloc((size_t)count[k] * 8 * sizeof *x);
        int64_t *y = xmalloc((size_t)count[k] * sizeof *y);
        for (int64_t i = 0; i < count[k]; i++) {
            y[i] = i % 3;
            for (int j = 0; j < 8; j++) {
                s = s * 1664525u + 1013904223u;
                double noise = ((s >> 8) / 16777216.0 - 0.5) * 1.6;
                x[i * 8 + j] = (float)((j % 3 == y[i] ? 1.0 : 0.0) + noise);
            }
        }
        char name[64];
        int64_t xs[2] = {count[k], 8};
        snprintf(name, sizeof name, "x_%s.npy", split[k]);
        write_npy(dir, name, 'f', 2, xs, x);
        snprintf(name, sizeof name, "y_%s.npy", split[k]);
        write_npy(dir, name, 'l', 1, xs, y);
        free(x);
        free(y);
    }
}

const TinyRun *tiny_run(void) {
    static TinyRun run;
    static int ready;
    if (ready) return &run;
    snprintf(run.data, sizeof run.data, "%s/data", harness_tmpdir());
    snprintf(run.ckpt, sizeof run.ckpt, "%s/tiny.safetensors", harness_tmpdir());
    snprintf(run.metrics, sizeof run.metrics, "%s/tiny.json", harness_tmpdir());
    make_data(run.data);
    FILE *out = fopen("/dev/null", "w");
    RunOptions ro = {run.data, NULL, run.metrics, NULL, run.ckpt, NULL, NULL, &engine_llvm, 0, out, NULL, NULL, 0, NULL, NULL};
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    char err[512] = "";
    int rc = train_model(&c.model, &ro, err, sizeof err);
    if (rc) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    compile_free(&c);
    fclose(out);
    ready = 1;
    return &run;
}

const float *ckpt_tensor(const Checkpoint *c, const char *name) {
    const CkptTensor *t = ckpt_find(c, name);
    if (!t) fprintf(stderr, "\nno tensor '%s'\n", name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    return t->data;
}

void ckpt_rewrite(const char *from, const char *path, const char *name, const Shape *shape, const char *key,
                  const char *value) {
    char err[512] = "";
    Checkpoint *c = ckpt_read(from, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int n = 0, nmeta = 0;
    CkptTensor *t = xcalloc((size_t)ckpt_count(c), sizeof *t);
    for (int i = 0; i < ckpt_count(c); i++) {
        CkptTensor u = *ckpt_get(c, i);
        if (name && !strcmp(u.name, name)) {
            if (!shape) continue;
            u.shape = *shape;
        }
        t[n++] = u;
    }
    const char **k = xcalloc((size_t)ckpt_meta_count(c) + 1, sizeof *k), **v = xcalloc((size_t)ckpt_meta_count(c) + 1, sizeof *v);
    for (int i = 0; i < ckpt_meta_count(c); i++) {
        ckpt_meta_get(c, i, &k[nmeta], &v[nmeta]);
        if (key && !strcmp(k[nmeta], key)) {
            if (!value) continue;
            v[nmeta] = value;
        }
        nmeta++;
    }
    CU_ASSERT_EQUAL(ckpt_write(path, t, n, k, v, nmeta, err, sizeof err), 0);
    free(t);
    free(k);
    free(v);
    ckpt_free(c);
}

void ckpt_rewrite_value(const char *from, const char *path, const char *name, int64_t index, float value) {
    char err[512] = "";
    Checkpoint *c = ckpt_read(from, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int n = ckpt_count(c), nmeta = ckpt_meta_count(c);
    CkptTensor *t = xcalloc((size_t)n, sizeof *t);
    float *copy = NULL;
    for (int i = 0; i < n; i++) {
        t[i] = *ckpt_get(c, i);
        if (strcmp(t[i].name, name)) continue;
        int64_t numel = ir_numel(&t[i].shape);
        CU_ASSERT_FATAL(t[i].dtype == DT_F32 && index < numel);
        copy = xmalloc((size_t)numel * sizeof *copy);
        memcpy(copy, t[i].data, (size_t)numel * sizeof *copy);
        copy[index] = value;
        t[i].data = copy;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    const char **k = xcalloc((size_t)nmeta + 1, sizeof *k), **v = xcalloc((size_t)nmeta + 1, sizeof *v);
    for (int i = 0; i < nmeta; i++) ckpt_meta_get(c, i, &k[i], &v[i]);
    CU_ASSERT_EQUAL(ckpt_write(path, t, n, k, v, nmeta, err, sizeof err), 0);
    free(copy);
    free(t);
    free(k);
    free(v);
    ckpt_free(c);
}
