/* test_dataset.c — reading a data set: NaN and infinity refused naming the
 * file, sample and element; uint8 inputs scaled to [0, 1]; float16 and
 * Fortran-order files; IDX files and folders of WAV files as data; size-1
 * dimensions; a missing directory; evaluation with the test split only;
 * the model's `data` relative to its file. Data sets for tiny.mmg (x
 * [B, 8] f32, y [B] i64, 3 classes) written in a temporary directory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "frontend/compile.h"
#include "harness.h"
#include "npy.h"
#include "tiny_data.h"
#include "train.h"
#include "util.h"
#include "wav.h"

/* A fresh directory tmpdir/name (path into buf). */
static const char *fresh_dir(const char *name, char *buf, size_t size) {
    snprintf(buf, size, "%s/%s", harness_tmpdir(), name);
    mkdir(buf, 0755);
    return buf;
}

/* x_SPLIT.npy ([n, 8] of dtype, from data) and y_SPLIT.npy (i % 3) for both splits. */
static void put_split(const char *dir, const char *split, int64_t n, char dtype, const void *x) {
    char name[64];
    int64_t xs[2] = {n, 8}, ys[1] = {n};
    int64_t *y = xmalloc((size_t)n * sizeof *y);
    for (int64_t i = 0; i < n; i++) y[i] = i % 3;
    snprintf(name, sizeof name, "x_%s.npy", split);
    write_npy(dir, name, dtype, 2, xs, x);
    snprintf(name, sizeof name, "y_%s.npy", split);
    write_npy(dir, name, 'l', 1, ys, y);
    free(y);
}

/* Loads dir for tiny.mmg (both splits) and expects failure with exactly
 * dir followed by want. */
static void load_fails(const char *dir, const char *want) {
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    Dataset d;
    char err[1024] = "", full[1024];
    snprintf(full, sizeof full, "%s%s", dir, want);
    CU_ASSERT_EQUAL(dataset_load(&d, dir, &c.model, 1, err, sizeof err), -1);
    ASSERT_STR(err, full);
    dataset_free(&d);
    compile_free(&c);
}

/* A NaN or infinity anywhere in an input, train or test, or in labels, is
 * an error naming the file, the sample and the element; so is a float64
 * value float32 cannot hold. */
static void test_nonfinite(void) {
    char dir[300];
    fresh_dir("nan", dir, sizeof dir);
    float x[4 * 8] = {0};
    put_split(dir, "train", 4, 'f', x);
    put_split(dir, "test", 4, 'f', x);
    x[2 * 8 + 5] = NAN;
    put_split(dir, "train", 4, 'f', x);
    load_fails(dir, "/x_train.npy: sample 2, element 5 is NaN");
    x[2 * 8 + 5] = 0;
    x[3 * 8 + 0] = -INFINITY;
    put_split(dir, "train", 4, 'f', x);
    load_fails(dir, "/x_train.npy: sample 3, element 0 is -inf");
    x[3 * 8 + 0] = 0;
    put_split(dir, "train", 4, 'f', x);
    x[1 * 8 + 7] = INFINITY;
    put_split(dir, "test", 4, 'f', x);
    load_fails(dir, "/x_test.npy: sample 1, element 7 is +inf");
    double xd[4 * 8] = {0};
    xd[9] = 1e300;
    put_split(dir, "test", 4, 'd', xd);
    load_fails(dir, "/x_test.npy: sample 1, element 1 is 1e+300, beyond float32's range");
    xd[9] = 3.0e38; /* within float32 */
    put_split(dir, "test", 4, 'd', xd);
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    Dataset d;
    char err[1024] = "";
    CU_ASSERT_EQUAL(dataset_load(&d, dir, &c.model, 1, err, sizeof err), 0);
    dataset_free(&d);
    float yf[4] = {0, 1, NAN, 2};
    int64_t ys[1] = {4};
    write_npy(dir, "y_test.npy", 'f', 1, ys, yf);
    load_fails(dir, "/y_test.npy: the label of sample 2 is NaN");
    compile_free(&c);
}

/* uint8 inputs are scaled from 0..255 to [0, 1] (labels are not). */
static void test_uint8_scaled(void) {
    char dir[300];
    fresh_dir("u8", dir, sizeof dir);
    uint8_t x[3 * 8];
    for (int i = 0; i < 24; i++) x[i] = (uint8_t)(i * 11);
    put_split(dir, "train", 3, 'b', x);
    put_split(dir, "test", 3, 'b', x);
    uint8_t y[3] = {2, 0, 1};
    int64_t ys[1] = {3};
    write_npy(dir, "y_test.npy", 'b', 1, ys, y);
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    Dataset d;
    char err[1024] = "";
    CU_ASSERT_EQUAL_FATAL(dataset_load(&d, dir, &c.model, 1, err, sizeof err), 0);
    const float *xf = d.t[0].split[SPLIT_TRAIN].data;
    CU_ASSERT_EQUAL(d.t[0].split[SPLIT_TRAIN].dtype, 'f');
    int bad = 0;
    for (int i = 0; i < 24; i++) bad += xf[i] != (float)(i * 11) / 255.0f;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(xf[0], 0.0f);
    CU_ASSERT_EQUAL(xf[23], 253.0f / 255.0f);
    const int64_t *yl = d.t[1].split[SPLIT_TEST].data;
    CU_ASSERT(yl[0] == 2 && yl[1] == 0 && yl[2] == 1);
    dataset_free(&d);
    compile_free(&c);
}

/* Writes an NPY file of raw header and data bytes (version 1.0). */
static void put_raw_npy(const char *path, const char *header, const void *data, size_t n) {
    size_t hlen = strlen(header);
    unsigned char *buf = xmalloc(10 + hlen + n);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)hlen, buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, header, hlen);
    memcpy(buf + 10 + hlen, data, n);
    harness_put_bytes(path, buf, 10 + hlen + n);
    free(buf);
}

/* A float16 input in Fortran order, as numpy writes x.T.astype(np.float16):
 * read as the same float32 values in C order. */
static void test_half_fortran(void) {
    char dir[300], path[400];
    fresh_dir("half", dir, sizeof dir);
    float x[2 * 8] = {0};
    put_split(dir, "train", 2, 'f', x);
    put_split(dir, "test", 2, 'f', x);
    /* x[i][j] = j + 8i (exact in float16), stored column-major */
    unsigned char h[32];
    for (int j = 0; j < 8; j++)
        for (int i = 0; i < 2; i++) {
            float v = (float)(j + 8 * i);
            uint32_t b;
            memcpy(&b, &v, 4);
            uint16_t half = v == 0 ? 0 : (uint16_t)(((b >> 23) - 112) << 10 | (b >> 13 & 0x3ff));
            h[2 * (j * 2 + i)] = (unsigned char)half, h[2 * (j * 2 + i) + 1] = (unsigned char)(half >> 8);
        }
    snprintf(path, sizeof path, "%s/x_test.npy", dir);
    put_raw_npy(path, "{'descr': '<f2', 'fortran_order': True, 'shape': (2, 8), }\n", h, sizeof h);
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    Dataset d;
    char err[1024] = "";
    CU_ASSERT_EQUAL_FATAL(dataset_load(&d, dir, &c.model, 0, err, sizeof err), 0);
    const float *xf = d.t[0].split[SPLIT_TEST].data;
    int bad = 0;
    for (int k = 0; k < 16; k++) bad += xf[k] != (float)k;
    CU_ASSERT_EQUAL(bad, 0);
    dataset_free(&d);
    compile_free(&c);
}

/* Writes an IDX file: type code, dims, then big-endian elements of size `size` from data. */
static void put_idx(const char *path, unsigned char type, int rank, const uint32_t *dims, const void *data, size_t size,
                    size_t count) {
    unsigned char *buf = xmalloc(4 + 4 * (size_t)rank + size * count);
    size_t k = 0;
    buf[k++] = 0, buf[k++] = 0, buf[k++] = type, buf[k++] = (unsigned char)rank;
    for (int i = 0; i < rank; i++)
        for (int b = 3; b >= 0; b--) buf[k++] = (unsigned char)(dims[i] >> (8 * b));
    for (size_t e = 0; e < count; e++)
        for (size_t b = 0; b < size; b++) buf[k++] = ((const unsigned char *)data)[e * size + size - 1 - b];
    harness_put_bytes(path, buf, k);
    free(buf);
}

/* MNIST's own format as a data set: x_SPLIT.idx (u8 [N, 1, 8]: size-1
 * dimensions aside, the model's [B, 8]; scaled to [0, 1]) and y_SPLIT.idx
 * (u8 [N], not scaled). */
static void test_idx_dataset(void) {
    char dir[300], path[400];
    fresh_dir("idx", dir, sizeof dir);
    uint8_t x[5 * 8], y[5];
    for (int i = 0; i < 40; i++) x[i] = (uint8_t)(255 - i);
    for (int i = 0; i < 5; i++) y[i] = (uint8_t)(i % 3);
    const char *split[2] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        uint32_t xd[3] = {5, 1, 8}, yd[1] = {5};
        snprintf(path, sizeof path, "%s/x_%s.idx", dir, split[s]);
        put_idx(path, 0x08, 3, xd, x, 1, 40);
        snprintf(path, sizeof path, "%s/y_%s.idx", dir, split[s]);
        put_idx(path, 0x08, 1, yd, y, 1, 5);
    }
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    Dataset d;
    char err[1024] = "";
    CU_ASSERT_EQUAL_FATAL(dataset_load(&d, dir, &c.model, 1, err, sizeof err), 0);
    CU_ASSERT(d.count[SPLIT_TRAIN] == 5 && d.count[SPLIT_TEST] == 5);
    const float *xf = d.t[0].split[SPLIT_TEST].data;
    CU_ASSERT(xf[0] == 1.0f && xf[39] == 216.0f / 255.0f);
    const int64_t *yl = d.t[1].split[SPLIT_TRAIN].data;
    CU_ASSERT(yl[0] == 0 && yl[4] == 1);
    dataset_free(&d);
    char want[600];
    /* a .npy beside it is preferred */
    float zeros[5 * 8] = {0};
    int64_t xs[2] = {5, 8};
    write_npy(dir, "x_train.npy", 'f', 2, xs, zeros);
    CU_ASSERT_EQUAL_FATAL(dataset_load(&d, dir, &c.model, 1, err, sizeof err), 0);
    CU_ASSERT_EQUAL(((float *)d.t[0].split[SPLIT_TRAIN].data)[0], 0.0f);
    dataset_free(&d);
    snprintf(path, sizeof path, "%s/x_train.npy", dir);
    remove(path);
    /* a wrong shape names the IDX file; so does a float NaN in it */
    uint32_t bad[3] = {5, 2, 4};
    snprintf(path, sizeof path, "%s/x_train.idx", dir);
    put_idx(path, 0x08, 3, bad, x, 1, 40);
    snprintf(want, sizeof want, "/x_train.idx: shape [5, 2, 4] does not match the model's input 'x' ([-1, 8], any sample count)");
    load_fails(dir, want);
    float xf32[40] = {0};
    xf32[17] = NAN;
    uint32_t good[2] = {5, 8};
    put_idx(path, 0x0D, 2, good, xf32, 4, 40);
    load_fails(dir, "/x_train.idx: sample 2, element 1 is NaN");
    /* sample counts that differ name the files */
    put_idx(path, 0x08, 2, (uint32_t[]){4, 8}, x, 1, 32);
    load_fails(dir, ": y_train.idx has 5 samples but x_train.idx has 4");
    compile_free(&c);
}

/* A folder of WAV files as an input: x_SPLIT/ of mono 8-frame WAV files, in
 * name order, with labels in y_SPLIT.npy; the errors of a folder. */
static void test_wav_folder(void) {
    char dir[300], path[400], sub[350];
    fresh_dir("wav", dir, sizeof dir);
    const char *split[2] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        snprintf(sub, sizeof sub, "%s/x_%s", dir, split[s]);
        mkdir(sub, 0755);
        for (int i = 0; i < 4; i++) {
            float v[8];
            for (int j = 0; j < 8; j++) v[j] = (float)(i * 8 + j) / 64.0f - 0.25f;
            size_t size;
            unsigned char *w = wav_encode(v, 8, 8000, &size);
            snprintf(path, sizeof path, "%s/%c.wav", sub, "dcba"[i]); /* name order: a, b, c, d = samples 3, 2, 1, 0 */
            harness_put_bytes(path, w, size);
            free(w);
        }
        int64_t y[4] = {0, 1, 2, 0}, ys[1] = {4};
        char name[32];
        snprintf(name, sizeof name, "y_%s.npy", split[s]);
        write_npy(dir, name, 'l', 1, ys, y);
    }
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    Dataset d;
    char err[1024] = "";
    int rc = dataset_load(&d, dir, &c.model, 1, err, sizeof err);
    if (rc) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(d.count[SPLIT_TRAIN], 4);
    const float *x = d.t[0].split[SPLIT_TRAIN].data;
    int bad = 0;
    for (int r = 0; r < 4; r++) /* row r is a.wav, b.wav, ...: sample 3 - r as written */
        for (int j = 0; j < 8; j++) {
            float v = (float)((3 - r) * 8 + j) / 64.0f - 0.25f;
            bad += x[r * 8 + j] != (float)lrintf(v * 32767.0f) / 32768.0f;
        }
    CU_ASSERT_EQUAL(bad, 0);
    dataset_free(&d);
    /* a file of another length, a file that is not .wav, an empty folder */
    float v9[9] = {0};
    size_t size;
    unsigned char *w = wav_encode(v9, 9, 8000, &size);
    snprintf(path, sizeof path, "%s/x_test/e.wav", dir);
    harness_put_bytes(path, w, size);
    free(w);
    char want[600];
    snprintf(want, sizeof want, "/x_test/e.wav: 1 channels of 9 frames at 8000 Hz, but a.wav has 1 of 8 at 8000 Hz "
             "(every file of the folder must match)");
    load_fails(dir, want);
    remove(path);
    snprintf(path, sizeof path, "%s/x_test/labels.txt", dir);
    harness_put_bytes(path, "0\n", 2);
    load_fails(dir, "/x_test/labels.txt: not a .wav file (a folder of WAV files holds .wav files only)");
    remove(path);
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/x_test/%c.wav", dir, "abcd"[i]);
        remove(path);
    }
    load_fails(dir, "/x_test: a folder of WAV files with no .wav file in it");
    compile_free(&c);
}

/* A data directory that is not there says how to make one or name another. */
static void test_missing_dir(void) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s/nowhere", harness_tmpdir());
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    Dataset d;
    char err[1024] = "", want[700];
    CU_ASSERT_EQUAL(dataset_load(&d, dir, &c.model, 0, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "%s: no such data directory (`make data` builds the digits data set in data/digits; --data DIR reads another)",
             dir);
    ASSERT_STR(err, want);
    dataset_free(&d);
    compile_free(&c);
}

/* Evaluation reads the test split only: a directory without train files
 * evaluates (dataset_load and eval_model), the same metrics as with them. */
static void test_eval_test_split_only(void) {
    const TinyRun *run = tiny_run();
    char dir[300], json[400], json2[400], err[1024] = "";
    fresh_dir("testonly", dir, sizeof dir);
    const char *files[2] = {"x_test.npy", "y_test.npy"};
    for (int i = 0; i < 2; i++) {
        char from[400], to[400];
        snprintf(from, sizeof from, "%s/%s", run->data, files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        size_t n;
        unsigned char *b = harness_slurp(from, &n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        harness_put_bytes(to, b, n);
        free(b);
    }
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    Dataset d;
    CU_ASSERT_EQUAL(dataset_load(&d, dir, &c.model, 0, err, sizeof err), 0);
    CU_ASSERT(d.count[SPLIT_TEST] == 100 && d.t[0].split[SPLIT_TRAIN].data == NULL);
    dataset_free(&d);
    snprintf(json, sizeof json, "%s/testonly.json", harness_tmpdir());
    snprintf(json2, sizeof json2, "%s/full.json", harness_tmpdir());
    FILE *out = fopen("/dev/null", "w");
    RunOptions o = {dir, NULL, json, NULL, NULL, NULL, run->ckpt, &engine_interp, 0, out, NULL, NULL, 0, NULL, NULL};
    int rc = eval_model(&c.model, &o, err, sizeof err);
    if (rc) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL(rc, 0);
    o.data_dir = run->data, o.metrics_json = json2;
    CU_ASSERT_EQUAL(eval_model(&c.model, &o, err, sizeof err), 0);
    fclose(out);
    char *a = (char *)harness_slurp(json, NULL), *b = (char *)harness_slurp(json2, NULL);
    CU_ASSERT(a && b && !strcmp(a, b));
    free(a);
    free(b);
    compile_free(&c);
}

/* `data "DIR"` is relative to the file that says it; an absolute one stays. */
static void test_data_relative_to_model(void) {
    char dir[300], path[400];
    fresh_dir("sub", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.mmg", dir);
    const char *text = "import \"nn.mmg\"\nimport \"losses.mmg\"\n"
                       "model m {\n    data \"d/set\"\n    input x: [B, 8]\n    label y: [B] i64\n"
                       "    logits = linear(x, 3)\n    loss = cross_entropy(logits, y)\n}\n";
    harness_put_bytes(path, text, strlen(text));
    Compiled c;
    compile_file(&c, path, NULL, 0);
    char want[400];
    snprintf(want, sizeof want, "%s/d/set", dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.model.data);
    ASSERT_STR(c.model.data, want);
    compile_free(&c);
    /* a child model in another file: the data of the file that says it */
    char child[400];
    snprintf(child, sizeof child, "%s/child.mmg", harness_tmpdir());
    const char *ctext = "import \"sub/m.mmg\"\nmodel k extends m {\n}\n";
    harness_put_bytes(child, ctext, strlen(ctext));
    compile_file(&c, child, NULL, 0);
    if (c.model.data) ASSERT_STR(c.model.data, want);
    compile_free(&c);
    text = "import \"nn.mmg\"\nimport \"losses.mmg\"\n"
           "model m {\n    data \"/abs/set\"\n    input x: [B, 8]\n    label y: [B] i64\n"
           "    logits = linear(x, 3)\n    loss = cross_entropy(logits, y)\n}\n";
    harness_put_bytes(path, text, strlen(text));
    compile_file(&c, path, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.model.data);
    ASSERT_STR(c.model.data, "/abs/set");
    compile_free(&c);
}

int main(void) {
    static CU_TestInfo tests[] = {
        {"NaN and infinity name the file, sample and element", test_nonfinite},
        {"uint8 inputs scaled to [0, 1]", test_uint8_scaled},
        {"float16 in Fortran order", test_half_fortran},
        {"IDX files as a data set", test_idx_dataset},
        {"a folder of WAV files as an input", test_wav_folder},
        {"a missing data directory", test_missing_dir},
        {"evaluation reads the test split only", test_eval_test_split_only},
        {"data relative to the model's file", test_data_relative_to_model},
        CU_TEST_INFO_NULL,
    };
    return harness_run_in_tmpdir("dataset", tests);
}
