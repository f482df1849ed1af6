/* test_idx.c — IDX files (MNIST's format): every element type read back from
 * files made here, conversion on the way (idx_read_as), an MNIST-shaped pair
 * of files, and one malformed file per way a file can be wrong, each with
 * its exact message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "idx.h"

/* Writes an IDX file: magic with type, the dims (big-endian), then n data bytes as given. */
static void put_idx(const char *name, unsigned char type, int rank, const uint32_t *dims, const void *data, size_t n) {
    unsigned char *buf = malloc(4 + 4 * (size_t)rank + n + 1);
    buf[0] = 0, buf[1] = 0, buf[2] = type, buf[3] = (unsigned char)rank;
    for (int i = 0; i < rank; i++)
        for (int k = 0; k < 4; k++) buf[4 + 4 * i + k] = (unsigned char)(dims[i] >> (24 - 8 * k));
    if (n) memcpy(buf + 4 + 4 * rank, data, n);
    harness_put_bytes(harness_tmp(name), buf, 4 + 4 * (size_t)rank + n);
    free(buf);
}

/* Big-endian bytes of an n-byte value. */
static void be_bytes(unsigned char *p, uint64_t v, int n) {
    for (int k = 0; k < n; k++) p[k] = (unsigned char)(v >> (8 * (n - 1 - k)));
}

/* Asserts that reading tmpdir/name fails with "PATH: message". */
static void expect_error(const char *name, const char *message) {
    char want[512], err[512] = "";
    snprintf(want, sizeof want, "%s: %s", harness_tmp(name), message);
    NpyArray a;
    CU_ASSERT_EQUAL(idx_read(harness_tmp(name), &a, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(a.data);
    ASSERT_STR(err, want);
}

/* Reads tmpdir/name, asserting success, dtype and shape. */
static NpyArray read_ok(const char *name, char dtype, int rank, const int64_t *shape) {
    NpyArray a;
    char err[512];
    if (idx_read(harness_tmp(name), &a, err, sizeof err) != 0) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a.data);
    CU_ASSERT_EQUAL(a.dtype, dtype);
    CU_ASSERT_EQUAL_FATAL(a.rank, rank);
    for (int i = 0; i < rank; i++) CU_ASSERT_EQUAL(a.shape[i], shape[i]);
    return a;
}

/* ---- every element type ---------------------------------------------------------- */

/* Each of the six element types, big-endian in the file, read into its dtype. */
static void test_types(void) {
    uint32_t dims[] = {2, 3};
    int64_t shape[] = {2, 3};
    unsigned char raw[48];

    unsigned char u8[6] = {0, 1, 127, 128, 254, 255};
    put_idx("u8.idx", 0x08, 2, dims, u8, 6);
    NpyArray a = read_ok("u8.idx", 'b', 2, shape);
    CU_ASSERT(a.nbytes == 6 && memcmp(a.data, u8, 6) == 0);
    npy_free(&a);

    put_idx("i8.idx", 0x09, 2, dims, u8, 6);
    a = read_ok("i8.idx", 'i', 2, shape);
    int32_t *i = a.data;
    CU_ASSERT(i[0] == 0 && i[2] == 127 && i[3] == -128 && i[4] == -2 && i[5] == -1);
    npy_free(&a);

    int16_t v16[6] = {0, 1, -1, 32767, -32768, 258};
    for (int k = 0; k < 6; k++) be_bytes(raw + 2 * k, (uint16_t)v16[k], 2);
    put_idx("i16.idx", 0x0B, 2, dims, raw, 12);
    a = read_ok("i16.idx", 'i', 2, shape);
    for (int k = 0; k < 6; k++) CU_ASSERT_EQUAL(((int32_t *)a.data)[k], v16[k]);
    npy_free(&a);

    int32_t v32[6] = {0, 1, -1, INT32_MAX, INT32_MIN, 0x01020304};
    for (int k = 0; k < 6; k++) be_bytes(raw + 4 * k, (uint32_t)v32[k], 4);
    put_idx("i32.idx", 0x0C, 2, dims, raw, 24);
    a = read_ok("i32.idx", 'i', 2, shape);
    CU_ASSERT(memcmp(a.data, v32, 24) == 0);
    npy_free(&a);

    float f32[6] = {0.0f, -0.0f, 1.5f, -3.25e-10f, 3.4e38f, 1.0f / 3};
    for (int k = 0; k < 6; k++) {
        uint32_t w;
        memcpy(&w, &f32[k], 4);
        be_bytes(raw + 4 * k, w, 4);
    }
    put_idx("f32.idx", 0x0D, 2, dims, raw, 24);
    a = read_ok("f32.idx", 'f', 2, shape);
    CU_ASSERT(memcmp(a.data, f32, 24) == 0);
    npy_free(&a);

    double f64[6] = {0.0, -1e-300, 1.0 / 3, 2.5, -7e300, 42};
    for (int k = 0; k < 6; k++) {
        uint64_t w;
        memcpy(&w, &f64[k], 8);
        be_bytes(raw + 8 * k, w, 8);
    }
    put_idx("f64.idx", 0x0E, 2, dims, raw, 48);
    a = read_ok("f64.idx", 'd', 2, shape);
    CU_ASSERT(memcmp(a.data, f64, 48) == 0);
    npy_free(&a);

    /* Rank 1, rank 6 and an empty array. */
    uint32_t one[] = {4}, six[] = {1, 2, 1, 2, 1, 1}, none[] = {0, 28, 28};
    put_idx("r1.idx", 0x08, 1, one, u8, 4);
    a = read_ok("r1.idx", 'b', 1, (int64_t[]){4});
    npy_free(&a);
    put_idx("r6.idx", 0x08, 6, six, u8, 4);
    a = read_ok("r6.idx", 'b', 6, (int64_t[]){1, 2, 1, 2, 1, 1});
    npy_free(&a);
    put_idx("empty.idx", 0x0D, 3, none, NULL, 0);
    a = read_ok("empty.idx", 'f', 3, (int64_t[]){0, 28, 28});
    CU_ASSERT_EQUAL(a.nbytes, 0);
    npy_free(&a);
}

/* MNIST's two files, read as the trainer wants them: images float32, labels int64. */
static void test_mnist_shaped(void) {
    enum { N = 3 };
    static unsigned char px[N * 28 * 28];
    for (int k = 0; k < N * 28 * 28; k++) px[k] = (unsigned char)(k * 7);
    unsigned char labels[N] = {5, 0, 4};
    put_idx("train-images-idx3-ubyte", 0x08, 3, (uint32_t[]){N, 28, 28}, px, sizeof px);
    put_idx("train-labels-idx1-ubyte", 0x08, 1, (uint32_t[]){N}, labels, N);
    NpyArray x, y;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(idx_read_as(harness_tmp("train-images-idx3-ubyte"), 'f', &x, err, sizeof err), 0);
    CU_ASSERT(x.dtype == 'f' && x.rank == 3 && x.shape[0] == N && x.shape[1] == 28 && x.shape[2] == 28);
    CU_ASSERT(((float *)x.data)[1] == 7.0f && ((float *)x.data)[37] == (float)(37 * 7 % 256));
    CU_ASSERT_EQUAL_FATAL(idx_read_as(harness_tmp("train-labels-idx1-ubyte"), 'l', &y, err, sizeof err), 0);
    CU_ASSERT(y.dtype == 'l' && y.rank == 1 && y.shape[0] == N);
    CU_ASSERT(((int64_t *)y.data)[0] == 5 && ((int64_t *)y.data)[2] == 4);
    npy_free(&x);
    npy_free(&y);
    /* Same dtype: no conversion. */
    CU_ASSERT_EQUAL(idx_read_as(harness_tmp("train-labels-idx1-ubyte"), 'b', &y, err, sizeof err), 0);
    CU_ASSERT(y.dtype == 'b' && ((uint8_t *)y.data)[0] == 5);
    npy_free(&y);
}

/* Conversions that cannot be made name the file and the element. */
static void test_convert_errors(void) {
    unsigned char raw[4];
    be_bytes(raw, (uint16_t)-1, 2);
    be_bytes(raw + 2, 300, 2);
    put_idx("neg.idx", 0x0B, 1, (uint32_t[]){2}, raw, 4);
    NpyArray a;
    char err[512], want[512];
    CU_ASSERT_EQUAL(idx_read_as(harness_tmp("neg.idx"), 'b', &a, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(a.data);
    snprintf(want, sizeof want, "%s: element 0 (-1) does not fit in |u1", harness_tmp("neg.idx"));
    ASSERT_STR(err, want);
    CU_ASSERT_EQUAL(idx_read_as(harness_tmp("neg.idx"), 'q', &a, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: unknown dtype code 'q'", harness_tmp("neg.idx"));
    ASSERT_STR(err, want);
    CU_ASSERT_EQUAL(idx_read_as(harness_tmp("missing.idx"), 'f', &a, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", harness_tmp("missing.idx"));
    ASSERT_STR(err, want);
    CU_ASSERT_EQUAL(idx_read(harness_tmp("missing.idx"), &a, NULL, 0), -1); /* a NULL err is allowed */
}

/* ---- malformed files ------------------------------------------------------------- */

/* One file per way an IDX file can be wrong. */
static void test_malformed(void) {
    expect_error("missing.idx", "cannot open: No such file or directory");
    harness_put_bytes(harness_tmp("empty.bad"), "", 0);
    expect_error("empty.bad", "file is too short (0 bytes) to be an IDX file");
    harness_put_bytes(harness_tmp("three.bad"), "\0\0\x08", 3);
    expect_error("three.bad", "file is too short (3 bytes) to be an IDX file");
    harness_put_bytes(harness_tmp("gz.bad"), "\x1f\x8b\x08\x08\0\0\0\0", 8);
    expect_error("gz.bad", "gzip-compressed; decompress it first (gunzip)");
    harness_put_bytes(harness_tmp("magic.bad"), "\x01\x00\x08\x01\0\0\0\1x", 9);
    expect_error("magic.bad", "not an IDX file (it starts with 0x01 0x00, not 0x00 0x00)");
    harness_put_bytes(harness_tmp("type.bad"), "\0\0\x0a\x01\0\0\0\1x", 9);
    expect_error("type.bad",
                 "unknown IDX element type 0x0a (known: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)");
    harness_put_bytes(harness_tmp("rank0.bad"), "\0\0\x08\x00x", 5);
    expect_error("rank0.bad", "0 dimensions; 1 to 6 are supported");
    put_idx("rank7.bad", 0x08, 7, (uint32_t[]){1, 1, 1, 1, 1, 1, 1}, "x", 1);
    expect_error("rank7.bad", "7 dimensions; 1 to 6 are supported");
    harness_put_bytes(harness_tmp("dims.bad"), "\0\0\x08\x03\0\0\0\x02\0\0", 10);
    expect_error("dims.bad", "file ends inside the dimensions (3 expected, after 10 bytes)");
    put_idx("trunc.bad", 0x0C, 2, (uint32_t[]){2, 3}, "0123456789", 10);
    expect_error("trunc.bad", "data truncated: expected 24 bytes (i32 6 elements), found 10");
    put_idx("nodata.bad", 0x08, 3, (uint32_t[]){60000, 28, 28}, NULL, 0);
    expect_error("nodata.bad", "data truncated: expected 47040000 bytes (u8 47040000 elements), found 0");
    put_idx("trail.bad", 0x08, 1, (uint32_t[]){2}, "abc", 3);
    expect_error("trail.bad", "1 bytes of trailing garbage after the 2 bytes of data");
    put_idx("huge.bad", 0x0E, 3, (uint32_t[]){0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, NULL, 0);
    expect_error("huge.bad", "shape is too large");
    CU_ASSERT_EQUAL_FATAL(mkdir(harness_tmp("dir.idx"), 0700), 0);
    expect_error("dir.idx", "read error: Is a directory");
}

/* Runs the suite in a fresh temporary directory, removed afterwards. */
int main(void) {
    static CU_TestInfo tests[] = {
        {"every element type, ranks 1 to 6, empty", test_types},
        {"MNIST-shaped files as float32 images and int64 labels", test_mnist_shaped},
        {"conversion errors name the file", test_convert_errors},
        {"malformed files", test_malformed},
        CU_TEST_INFO_NULL,
    };
    return harness_run_in_tmpdir("idx", tests);
}
