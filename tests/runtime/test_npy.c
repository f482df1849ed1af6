/* test_npy.c — NumPy .npy files: round trips of every dtype and rank, the
 * exact bytes numpy writes, version 2.0 and 3.0 headers, conversions, and
 * one malformed file per way a file can be wrong, each with its exact
 * message. The files live in a temporary directory removed at the end.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "npy.h"

/* harness_put_bytes of a string literal (without its terminating NUL) to tmpdir/name. */
#define PUT_LIT(name, lit) harness_put_bytes(harness_tmp(name), lit, sizeof(lit) - 1)

/* Writes an NPY file with the given version and header text (unpadded, as
 * given), followed by ndata bytes of data (zeros). */
static void put_npy(const char *name, int major, const char *header, size_t ndata) {
    size_t hlen = strlen(header), pre = major == 1 ? 10 : 12;
    unsigned char *buf = calloc(1, pre + hlen + ndata);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + pre, header, hlen);
    harness_put_bytes(harness_tmp(name), buf, pre + hlen + ndata);
    free(buf);
}

/* Asserts that reading tmpdir/name fails with "PATH: message". */
static void expect_error(const char *name, const char *message) {
    char path[4352], want[4608], err[4608] = "";
    snprintf(path, sizeof path, "%s", harness_tmp(name));
    snprintf(want, sizeof want, "%s: %s", path, message);
    NpyArray a;
    CU_ASSERT_EQUAL(npy_read(path, &a, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(a.data);
    ASSERT_STR(err, want);
}

/* An array of the dtype and shape filled with k * 3 - 7 (mod 256 for u8). */
static NpyArray make(char dtype, int rank, const int64_t *shape) {
    NpyArray a;
    char err[256];
    CU_ASSERT_FATAL(npy_alloc(&a, dtype, rank, shape, err, sizeof err) == 0);
    for (int64_t k = 0; k < npy_numel(&a); k++) {
        int64_t v = k * 3 - 7;
        switch (dtype) {
        case 'f': ((float *)a.data)[k] = (float)v + 0.25f; break;
        case 'd': ((double *)a.data)[k] = (double)v + 1e-12; break;
        case 'i': ((int32_t *)a.data)[k] = (int32_t)v; break;
        case 'l': ((int64_t *)a.data)[k] = v * 1000000007LL * 1000; break;
        default: ((uint8_t *)a.data)[k] = (uint8_t)(v & 255); break;
        }
    }
    return a;
}

/* Asserts two arrays are the same dtype, shape and bytes. */
static void assert_same(const NpyArray *a, const NpyArray *b) {
    CU_ASSERT_EQUAL(a->dtype, b->dtype);
    CU_ASSERT_EQUAL_FATAL(a->rank, b->rank);
    for (int i = 0; i < NPY_MAX_RANK; i++) CU_ASSERT_EQUAL(a->shape[i], b->shape[i]);
    CU_ASSERT_EQUAL_FATAL(a->nbytes, b->nbytes);
    CU_ASSERT_PTR_NOT_NULL(b->data);
    CU_ASSERT(a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0);
}

/* ---- round trips ------------------------------------------------------------ */

/* Every dtype at ranks 0 to 6, including empty arrays, survives a write and a
 * read, and the data always starts at a multiple of 64 bytes. */
static void test_round_trip(void) {
    static const int64_t shapes[][NPY_MAX_RANK] = {{0}, {0}, {5}, {2, 3}, {2, 0, 3}, {3, 1, 4, 2}, {1, 2, 1, 3, 2}, {2, 1, 2, 1, 2, 3}};
    static const int ranks[] = {0, 1, 1, 2, 3, 4, 5, 6};
    const char *dtypes = "fdilb";
    char err[256];
    for (const char *d = dtypes; *d; d++)
        for (size_t s = 0; s < sizeof ranks / sizeof ranks[0]; s++) {
            NpyArray a = make(*d, ranks[s], shapes[s]), b;
            const char *path = harness_tmp("rt.npy");
            CU_ASSERT_EQUAL_FATAL(npy_write(path, &a, err, sizeof err), 0);
            CU_ASSERT_EQUAL(access(harness_tmp("rt.npy.tmp"), F_OK), -1); /* renamed away */
            if (npy_read(harness_tmp("rt.npy"), &b, err, sizeof err) != 0) fprintf(stderr, "\n  %s\n", err);
            assert_same(&a, &b);
            size_t n;
            unsigned char *bytes = harness_slurp(harness_tmp("rt.npy"), &n);
            CU_ASSERT_EQUAL(bytes[6], 1);
            CU_ASSERT_EQUAL((n - a.nbytes) % 64, 0);
            free(bytes);
            npy_free(&a);
            npy_free(&b);
        }
}

/* The writer's bytes are numpy's: np.save of float32 [2, 3] and of a 0-d int64. */
static void test_exact_bytes(void) {
    char err[256];
    int64_t shape[] = {2, 3};
    NpyArray a = make('f', 2, shape);
    CU_ASSERT_EQUAL_FATAL(npy_write(harness_tmp("exact.npy"), &a, err, sizeof err), 0);
    size_t n;
    unsigned char *bytes = harness_slurp(harness_tmp("exact.npy"), &n);
    CU_ASSERT_EQUAL_FATAL(n, 128 + 24);
    CU_ASSERT(memcmp(bytes, "\x93NUMPY\x01\x00\x76\x00", 10) == 0);
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    CU_ASSERT(memcmp(bytes + 10, dict, strlen(dict)) == 0);
    for (size_t i = 10 + strlen(dict); i < 127; i++) CU_ASSERT_EQUAL(bytes[i], ' ');
    CU_ASSERT_EQUAL(bytes[127], '\n');
    CU_ASSERT(memcmp(bytes + 128, a.data, 24) == 0);
    free(bytes);
    npy_free(&a);

    NpyArray s = make('l', 0, NULL);
    CU_ASSERT_EQUAL_FATAL(npy_write(harness_tmp("scalar.npy"), &s, err, sizeof err), 0);
    bytes = harness_slurp(harness_tmp("scalar.npy"), &n);
    CU_ASSERT_EQUAL(n, 128 + 8);
    dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (), }";
    CU_ASSERT(memcmp(bytes + 10, dict, strlen(dict)) == 0);
    free(bytes);
    npy_free(&s);

    int64_t one[] = {7};
    NpyArray u = make('b', 1, one);
    CU_ASSERT_EQUAL_FATAL(npy_write(harness_tmp("u8.npy"), &u, err, sizeof err), 0);
    bytes = harness_slurp(harness_tmp("u8.npy"), &n);
    dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (7,), }";
    CU_ASSERT(memcmp(bytes + 10, dict, strlen(dict)) == 0);
    free(bytes);
    npy_free(&u);
}

/* Version 2.0 written on request, and 2.0 / 3.0 headers read. */
static void test_version2(void) {
    char err[256];
    int64_t shape[] = {4, 3};
    NpyArray a = make('d', 2, shape), b;
    CU_ASSERT_EQUAL_FATAL(npy_write_version(harness_tmp("v2.npy"), &a, 2, err, sizeof err), 0);
    size_t n;
    unsigned char *bytes = harness_slurp(harness_tmp("v2.npy"), &n);
    CU_ASSERT(memcmp(bytes, "\x93NUMPY\x02\x00\x74\x00\x00\x00{'descr': '<f8'", 27) == 0);
    CU_ASSERT_EQUAL(n, 128 + 96);
    free(bytes);
    CU_ASSERT_EQUAL_FATAL(npy_read(harness_tmp("v2.npy"), &b, err, sizeof err), 0);
    assert_same(&a, &b);
    npy_free(&b);
    npy_free(&a);

    /* Hand-made headers: key order, double quotes, no trailing comma, Python 2's 3L, <u1. */
    put_npy("v2hand.npy", 2, "{\"shape\": (2L, 3), \"fortran_order\": False, \"descr\": \"<u1\"}\n", 6);
    CU_ASSERT_EQUAL_FATAL(npy_read(harness_tmp("v2hand.npy"), &b, err, sizeof err), 0);
    CU_ASSERT(b.dtype == 'b' && b.rank == 2 && b.shape[0] == 2 && b.shape[1] == 3 && b.nbytes == 6);
    npy_free(&b);
    put_npy("v3.npy", 3, "{'descr': '<i4', 'fortran_order': False, 'shape': (1, ), }          \n", 4);
    CU_ASSERT_EQUAL_FATAL(npy_read(harness_tmp("v3.npy"), &b, err, sizeof err), 0);
    CU_ASSERT(b.dtype == 'i' && b.rank == 1 && b.shape[0] == 1 && ((int32_t *)b.data)[0] == 0);
    npy_free(&b);
    put_npy("v1min.npy", 1, "{'descr':'<f4','fortran_order':False,'shape':(0,2,)}", 0);
    CU_ASSERT_EQUAL_FATAL(npy_read(harness_tmp("v1min.npy"), &b, err, sizeof err), 0);
    CU_ASSERT(b.dtype == 'f' && b.rank == 2 && b.shape[0] == 0 && b.shape[1] == 2 && b.nbytes == 0 && b.data);
    npy_free(&b);
    npy_free(&b); /* twice is harmless */
}

/* Files np.save wrote: two of the golden fixtures (tests/golden/gen.py). */
static void test_numpy_files(void) {
    char err[512];
    NpyArray a;
    CU_ASSERT_EQUAL_FATAL(npy_read(MMGC_SOURCE_DIR "/tests/golden/cross_entropy/input.y.npy", &a, err, sizeof err), 0);
    CU_ASSERT(a.dtype == 'l' && a.rank == 1 && a.shape[0] == 6 && a.nbytes == 48);
    for (int i = 0; i < 6; i++) CU_ASSERT(((int64_t *)a.data)[i] >= 0 && ((int64_t *)a.data)[i] < 10);
    npy_free(&a);
    CU_ASSERT_EQUAL_FATAL(npy_read(MMGC_SOURCE_DIR "/tests/golden/linear/param.linear.w.npy", &a, err, sizeof err), 0);
    CU_ASSERT(a.dtype == 'f' && a.rank == 2 && a.shape[0] == 7 && a.shape[1] == 5 && a.nbytes == 140);
    npy_free(&a);
    CU_ASSERT_EQUAL_FATAL(npy_read(MMGC_SOURCE_DIR "/tests/golden/conv2net/out.loss.npy", &a, err, sizeof err), 0);
    CU_ASSERT(a.dtype == 'f' && a.rank == 0 && a.nbytes == 4 && isfinite(*(float *)a.data));
    npy_free(&a);
}

/* ---- malformed files ------------------------------------------------------- */

#define F4(shape) "{'descr': '<f4', 'fortran_order': False, 'shape': " shape ", }\n"

/* Missing, empty, not NPY, wrong version, cut short. */
static void test_bad_prefix(void) {
    expect_error("missing.npy", "cannot open: No such file or directory");
    PUT_LIT("empty.npy", "");
    expect_error("empty.npy", "not an NPY file (it does not start with \"\\x93NUMPY\")");
    PUT_LIT("magic.npy", "PK\x03\x04 this is a zip");
    expect_error("magic.npy", "not an NPY file (it does not start with \"\\x93NUMPY\")");
    PUT_LIT("short.npy", "\x93NUMPY\x01");
    expect_error("short.npy", "file ends inside the header (after 7 bytes)");
    put_npy("v4.npy", 1, F4("(1,)"), 4);
    FILE *f = fopen(harness_tmp("v4.npy"), "r+b");
    fseek(f, 6, SEEK_SET);
    fputc(4, f);
    fclose(f);
    expect_error("v4.npy", "unsupported NPY format version 4.0 (supported: 1.0, 2.0, 3.0)");
    PUT_LIT("v11.npy", "\x93NUMPY\x01\x01\x00\x00");
    expect_error("v11.npy", "unsupported NPY format version 1.1 (supported: 1.0, 2.0, 3.0)");
    PUT_LIT("nolen.npy", "\x93NUMPY\x02\x00\x10\x00");
    expect_error("nolen.npy", "file ends inside the header (after 10 bytes)");
    CU_ASSERT_EQUAL_FATAL(mkdir(harness_tmp("dir.npy"), 0700), 0);
    expect_error("dir.npy", "read error: Is a directory");
}

/* Header lengths that do not fit the file or the limit; a cut-off dict. */
static void test_bad_header_length(void) {
    PUT_LIT("hlong.npy", "\x93NUMPY\x01\x00\xff\x00{'descr'");
    expect_error("hlong.npy", "header truncated: its length field says 255 bytes, found 8");
    PUT_LIT("hhuge.npy", "\x93NUMPY\x02\x00\xff\xff\xff\x7f{}");
    expect_error("hhuge.npy", "header length 2147483647 is too long (limit 1048576)");
    put_npy("hshort.npy", 1, "{'descr': '<f4', 'fortran", 0);
    expect_error("hshort.npy", "header ends before its dict is closed");
    put_npy("hempty.npy", 1, "", 0);
    expect_error("hempty.npy", "header is not a dict: \"\"");
    put_npy("hlist.npy", 1, "['<f4', False, (1,)]\n", 4);
    expect_error("hlist.npy", "header is not a dict: \"['<f4', False, (1,)]\"");
    put_npy("hafter.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x\n", 4);
    expect_error("hafter.npy", "unexpected text after the header dict: \"x\"");
    put_npy("hcolon.npy", 1, "{'descr' '<f4'}\n", 4);
    expect_error("hcolon.npy", "bad header at byte 9: expected ':' after a key, found \"'<f4'}\"");
    put_npy("hcomma.npy", 1, "{'descr': '<f4' 'shape': ()}\n", 4);
    expect_error("hcomma.npy", "bad header at byte 16: expected ',' or '}', found \"'shape': ()}\"");
    put_npy("hkey.npy", 1, "{descr: '<f4'}\n", 4);
    expect_error("hkey.npy", "bad header at byte 1: expected a quoted key or '}', found \"descr: '<f4'}\"");
    put_npy("hquote.npy", 1, "{'descr: '<f4'}\n", 4);
    expect_error("hquote.npy", "header has an unexpected key 'descr: '");
}

/* Keys: unknown, repeated, missing. */
static void test_bad_keys(void) {
    put_npy("kextra.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'align': 1}\n", 4);
    expect_error("kextra.npy", "header has an unexpected key 'align'");
    put_npy("krepeat.npy", 1, "{'descr': '<f4', 'descr': '<f8'}\n", 4);
    expect_error("krepeat.npy", "header repeats the key 'descr'");
    put_npy("kmissing.npy", 1, "{'descr': '<f4', 'fortran_order': False}\n", 4);
    expect_error("kmissing.npy", "header has no 'shape' key");
    put_npy("knone.npy", 1, "{}\n", 4);
    expect_error("knone.npy", "header has no 'descr' key");
}

/* dtypes: unknown, big-endian, structured, not a string; fortran_order not a bool. */
static void test_bad_dtype(void) {
    put_npy("dc8.npy", 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", 8);
    expect_error("dc8.npy", "unsupported dtype '<c8' (supported: '<f2', '<f4', '<f8', '<i4', '<i8', '|u1')");
    put_npy("dbig.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", 4);
    expect_error("dbig.npy", "big-endian dtype '>f4' is not supported (little-endian only)");
    put_npy("dstruct.npy", 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", 4);
    expect_error("dstruct.npy", "structured dtypes are not supported");
    put_npy("dint.npy", 1, "{'descr': 4, 'fortran_order': False, 'shape': (1,), }\n", 4);
    expect_error("dint.npy", "'descr' is not a string");
    put_npy("fortx.npy", 1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 2), }\n", 16);
    expect_error("fortx.npy", "'fortran_order' is not True or False");
}

/* Shapes that are not tuples of non-negative ints, or too long. */
static void test_bad_shape(void) {
    put_npy("sneg.npy", 1, F4("(2, -3)"), 0);
    expect_error("sneg.npy", "bad shape tuple \"(2, -3)\" (expected a tuple of non-negative integers)");
    put_npy("sint.npy", 1, F4("(3)"), 12);
    expect_error("sint.npy", "bad shape tuple \"(3)\" (expected a tuple of non-negative integers)");
    put_npy("slist.npy", 1, F4("[2, 3]"), 24);
    expect_error("slist.npy", "bad shape tuple \"[2, 3]\" (expected a tuple of non-negative integers)");
    put_npy("scommas.npy", 1, F4("(2,,3)"), 24);
    expect_error("scommas.npy", "bad shape tuple \"(2,,3)\" (expected a tuple of non-negative integers)");
    put_npy("sfloat.npy", 1, F4("(2.5,)"), 24);
    expect_error("sfloat.npy", "bad shape tuple \"(2.5,)\" (expected a tuple of non-negative integers)");
    put_npy("sbig.npy", 1, F4("(99999999999999999999,)"), 0);
    expect_error("sbig.npy", "bad shape tuple \"(99999999999999999999,)\" (expected a tuple of non-negative integers)");
    put_npy("sopen.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", 0);
    expect_error("sopen.npy", "bad shape tuple \"(2, 3\" (expected a tuple of non-negative integers)");
    put_npy("srank.npy", 1, F4("(1, 1, 1, 1, 1, 1, 1)"), 4);
    expect_error("srank.npy", "shape has 7 dimensions; at most 6 are supported");
    put_npy("shuge.npy", 1, F4("(4611686018427387904, 4)"), 0);
    expect_error("shuge.npy", "shape is too large (more than 2^63 elements)");
    put_npy("shuge2.npy", 1, F4("(4611686018427387904,)"), 0);
    expect_error("shuge2.npy", "shape is too large (4611686018427387904 elements of 4 bytes)");
}

/* Data shorter or longer than the shape says. */
static void test_bad_data(void) {
    put_npy("trunc.npy", 1, F4("(2, 3)"), 20);
    expect_error("trunc.npy", "data truncated: expected 24 bytes, found 20");
    put_npy("nodata.npy", 1, F4("(1000000, 1000000)"), 0);
    expect_error("nodata.npy", "data truncated: expected 4000000000000 bytes, found 0");
    put_npy("trail.npy", 1, F4("(2, 3)"), 27);
    expect_error("trail.npy", "3 bytes of trailing garbage after the 24 bytes of data");
    put_npy("trail0.npy", 1, F4("(0,)"), 1);
    expect_error("trail0.npy", "1 bytes of trailing garbage after the 0 bytes of data");
}

/* ---- writing errors, alloc and convert ---------------------------------------- */

static void test_write_errors(void) {
    char err[256];
    int64_t shape[] = {2};
    NpyArray a = make('f', 1, shape);
    CU_ASSERT_EQUAL(npy_write("/nonexistent-dir/x.npy", &a, err, sizeof err), -1);
    ASSERT_STR(err, "/nonexistent-dir/x.npy: cannot write /nonexistent-dir/x.npy.tmp: No such file or directory");
    a.nbytes = 4;
    CU_ASSERT_EQUAL(npy_write(harness_tmp("w.npy"), &a, err, sizeof err), -1);
    char want[512];
    snprintf(want, sizeof want, "%s: nbytes is 4 but the shape needs 8", harness_tmp("w.npy"));
    ASSERT_STR(err, want);
    a.nbytes = 8, a.dtype = 'x';
    CU_ASSERT_EQUAL(npy_write(harness_tmp("w.npy"), &a, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: unknown dtype code 'x'", harness_tmp("w.npy"));
    ASSERT_STR(err, want);
    a.dtype = 'f', a.rank = 7;
    CU_ASSERT_EQUAL(npy_write(harness_tmp("w.npy"), &a, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: rank 7 is out of range (0 to 6)", harness_tmp("w.npy"));
    ASSERT_STR(err, want);
    a.rank = 1;
    CU_ASSERT_EQUAL(npy_write_version(harness_tmp("w.npy"), &a, 3, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot write NPY version 3", harness_tmp("w.npy"));
    ASSERT_STR(err, want);
    CU_ASSERT_EQUAL(access(harness_tmp("w.npy"), F_OK), -1);
    CU_ASSERT_EQUAL(access(harness_tmp("w.npy.tmp"), F_OK), -1);
    /* An existing file is replaced whole. */
    CU_ASSERT_EQUAL(npy_write(harness_tmp("w.npy"), &a, err, sizeof err), 0);
    a.shape[0] = 1, a.nbytes = 4;
    CU_ASSERT_EQUAL(npy_write(harness_tmp("w.npy"), &a, err, sizeof err), 0);
    NpyArray b;
    CU_ASSERT_EQUAL(npy_read(harness_tmp("w.npy"), &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(b.shape[0], 1);
    npy_free(&b);
    npy_free(&a);
    /* A NULL err is allowed. */
    CU_ASSERT_EQUAL(npy_read(harness_tmp("missing.npy"), &b, NULL, 0), -1);
}

static void test_alloc_convert(void) {
    char err[256];
    int64_t shape[] = {2, 2}, bad[] = {2, -1};
    NpyArray a, b;
    CU_ASSERT_EQUAL(npy_alloc(&a, 'f', 2, bad, err, sizeof err), -1);
    ASSERT_STR(err, "npy_alloc: dimension 1 is negative (-1)");
    CU_ASSERT_EQUAL(npy_alloc(&a, 'q', 2, shape, err, sizeof err), -1);
    ASSERT_STR(err, "npy_alloc: unknown dtype code 'q'");

    /* int64 -> float32, uint8 -> float32, float64 -> float32 */
    CU_ASSERT_EQUAL_FATAL(npy_alloc(&a, 'l', 2, shape, err, sizeof err), 0);
    int64_t *l = a.data;
    l[0] = -3, l[1] = 0, l[2] = 9, l[3] = (1LL << 40) + 1;
    CU_ASSERT_EQUAL_FATAL(npy_to_f32(&a, &b, err, sizeof err), 0);
    float *f = b.data;
    CU_ASSERT(b.dtype == 'f' && b.rank == 2 && b.shape[1] == 2 && b.nbytes == 16);
    CU_ASSERT(f[0] == -3.0f && f[1] == 0.0f && f[2] == 9.0f && f[3] == 0x1p40f);
    npy_free(&b);
    npy_free(&a);
    NpyArray u = make('b', 2, shape), d = make('d', 2, shape);
    CU_ASSERT_EQUAL_FATAL(npy_to_f32(&u, &b, err, sizeof err), 0);
    CU_ASSERT(((float *)b.data)[0] == 249.0f && ((float *)b.data)[3] == 2.0f);
    npy_free(&b);
    CU_ASSERT_EQUAL_FATAL(npy_to_f32(&d, &b, err, sizeof err), 0);
    CU_ASSERT(((float *)b.data)[1] == -4.0f);
    npy_free(&b);

    /* float -> int: integral values convert, others name the element */
    CU_ASSERT_EQUAL_FATAL(npy_alloc(&a, 'f', 2, shape, err, sizeof err), 0);
    f = a.data;
    f[0] = 1, f[1] = -2, f[2] = 255, f[3] = 3;
    CU_ASSERT_EQUAL_FATAL(npy_convert(&a, 'l', &b, err, sizeof err), 0);
    CU_ASSERT(((int64_t *)b.data)[1] == -2 && ((int64_t *)b.data)[2] == 255);
    npy_free(&b);
    CU_ASSERT_EQUAL(npy_convert(&a, 'b', &b, err, sizeof err), -1);
    ASSERT_STR(err, "npy_convert: element 1 (-2) does not fit in |u1");
    CU_ASSERT_PTR_NULL(b.data);
    f[1] = 2.5f;
    CU_ASSERT_EQUAL(npy_convert(&a, 'i', &b, err, sizeof err), -1);
    ASSERT_STR(err, "npy_convert: element 1 (2.5) does not fit in <i4");
    f[1] = NAN;
    CU_ASSERT_EQUAL(npy_convert(&a, 'l', &b, err, sizeof err), -1);
    ASSERT_STR(err, "npy_convert: element 1 (nan) does not fit in <i8");
    f[1] = 0x1p63f;
    CU_ASSERT_EQUAL(npy_convert(&a, 'l', &b, err, sizeof err), -1);
    ASSERT_STR(err, "npy_convert: element 1 (9.2233720368547758e+18) does not fit in <i8");
    npy_free(&a);
    CU_ASSERT_EQUAL_FATAL(npy_alloc(&a, 'l', 2, shape, err, sizeof err), 0);
    ((int64_t *)a.data)[3] = 1LL << 31;
    CU_ASSERT_EQUAL(npy_convert(&a, 'i', &b, err, sizeof err), -1);
    ASSERT_STR(err, "npy_convert: element 3 (2147483648) does not fit in <i4");
    npy_free(&a);
    /* u8 -> f64 -> i32 round trip */
    NpyArray w;
    CU_ASSERT_EQUAL_FATAL(npy_convert(&u, 'd', &w, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(npy_convert(&w, 'b', &b, err, sizeof err), 0);
    assert_same(&u, &b);
    npy_free(&b);
    npy_free(&w);
    npy_free(&u);
    npy_free(&d);
}

/* An NPY file (version 1.0) of header and the given data bytes, read back. */
static NpyArray read_with(const char *name, const char *header, const void *data, size_t ndata) {
    size_t hlen = strlen(header);
    unsigned char *buf = malloc(10 + hlen + ndata);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)hlen, buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, header, hlen);
    memcpy(buf + 10 + hlen, data, ndata);
    harness_put_bytes(harness_tmp(name), buf, 10 + hlen + ndata);
    free(buf);
    NpyArray a;
    char err[512] = "";
    if (npy_read(harness_tmp(name), &a, err, sizeof err)) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_PTR_NOT_NULL(a.data);
    return a;
}

/* float16 ('<f2', which numpy writes for np.float16) is read as float32,
 * exactly: normal, subnormal, the largest, signed zero, infinities, NaN. */
static void test_float16(void) {
    const uint16_t h[9] = {0x3C00, 0xC000, 0x0001, 0x7BFF, 0x8000, 0x3555, 0x7C00, 0xFC00, 0x7E00};
    unsigned char le[18];
    for (int i = 0; i < 9; i++) le[2 * i] = (unsigned char)h[i], le[2 * i + 1] = (unsigned char)(h[i] >> 8);
    NpyArray a = read_with("half.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (3, 3), }\n", le, 18);
    if (!a.data) return;
    CU_ASSERT_EQUAL(a.dtype, 'f');
    CU_ASSERT(a.rank == 2 && a.shape[0] == 3 && a.shape[1] == 3 && a.nbytes == 36);
    const float *x = a.data;
    CU_ASSERT(x[0] == 1.0f && x[1] == -2.0f && x[2] == 0x1p-24f && x[3] == 65504.0f && x[5] == 0.333251953125f);
    CU_ASSERT(x[4] == 0.0f && signbit(x[4]));
    CU_ASSERT(isinf(x[6]) && x[6] > 0 && isinf(x[7]) && x[7] < 0 && isnan(x[8]));
    npy_free(&a);
    a = read_with("half0.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (0, 4), }\n", "", 0);
    CU_ASSERT(a.dtype == 'f' && a.nbytes == 0 && a.shape[1] == 4);
    npy_free(&a);
    put_npy("halftrunc.npy", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }\n", 5);
    expect_error("halftrunc.npy", "data truncated: expected 6 bytes, found 5");
}

/* fortran_order True (np.asfortranarray, or a transposed array saved) is
 * read into C order: element [i, j, k] of a [2, 3, 4] array stored
 * column-major is at i + 2j + 6k in the file. */
static void test_fortran_order(void) {
    int32_t col[24];
    for (int k = 0; k < 24; k++) col[k] = k;
    NpyArray a = read_with("fort.npy", "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }\n", col, sizeof col);
    if (!a.data) return;
    CU_ASSERT(a.dtype == 'i' && a.rank == 3 && a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 4);
    int bad = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) bad += ((int32_t *)a.data)[(i * 3 + j) * 4 + k] != i + 2 * j + 6 * k;
    CU_ASSERT_EQUAL(bad, 0);
    npy_free(&a);
    /* float16 and Fortran order at once: [[1, 2], [3, 4]] stored as 1, 3, 2, 4 */
    const unsigned char h[8] = {0x00, 0x3C, 0x00, 0x42, 0x00, 0x40, 0x00, 0x44};
    a = read_with("forthalf.npy", "{'descr': '<f2', 'fortran_order': True, 'shape': (2, 2), }\n", h, 8);
    if (!a.data) return;
    const float *x = a.data;
    CU_ASSERT(a.dtype == 'f' && x[0] == 1.0f && x[1] == 2.0f && x[2] == 3.0f && x[3] == 4.0f);
    npy_free(&a);
    /* one dimension, and an empty array, are the same in either order */
    a = read_with("fort1.npy", "{'descr': '<i4', 'fortran_order': True, 'shape': (3,), }\n", col, 12);
    CU_ASSERT(a.data && ((int32_t *)a.data)[2] == 2);
    npy_free(&a);
    a = read_with("fort0.npy", "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 0), }\n", "", 0);
    CU_ASSERT(a.data && a.nbytes == 0);
    npy_free(&a);
}

/* npy_find_nonfinite: the first NaN or infinity in C order, or -1. */
static void test_find_nonfinite(void) {
    int64_t shape[1] = {4};
    NpyArray a;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(npy_alloc(&a, 'f', 1, shape, err, sizeof err), 0);
    CU_ASSERT_EQUAL(npy_find_nonfinite(&a), -1);
    ((float *)a.data)[3] = -INFINITY;
    ((float *)a.data)[2] = NAN;
    CU_ASSERT_EQUAL(npy_find_nonfinite(&a), 2);
    npy_free(&a);
    CU_ASSERT_EQUAL_FATAL(npy_alloc(&a, 'd', 1, shape, err, sizeof err), 0);
    ((double *)a.data)[1] = INFINITY;
    CU_ASSERT_EQUAL(npy_find_nonfinite(&a), 1);
    npy_free(&a);
    CU_ASSERT_EQUAL_FATAL(npy_alloc(&a, 'l', 1, shape, err, sizeof err), 0);
    CU_ASSERT_EQUAL(npy_find_nonfinite(&a), -1);
    npy_free(&a);
}

int main(void) {
    static CU_TestInfo tests[] = {
        {"float16 read as float32", test_float16},
        {"Fortran order read as C order", test_fortran_order},
        {"the first NaN or infinity", test_find_nonfinite},
        {"round trip: every dtype, ranks 0-6, empty", test_round_trip},
        {"the bytes numpy writes", test_exact_bytes},
        {"version 2.0 and 3.0 headers", test_version2},
        {"files numpy wrote", test_numpy_files},
        {"malformed: missing, magic, version, short", test_bad_prefix},
        {"malformed: header length and dict syntax", test_bad_header_length},
        {"malformed: keys", test_bad_keys},
        {"malformed: dtype and fortran_order", test_bad_dtype},
        {"malformed: shape tuple", test_bad_shape},
        {"malformed: data truncated, trailing garbage", test_bad_data},
        {"write errors, atomic replace", test_write_errors},
        {"alloc and convert", test_alloc_convert},
        CU_TEST_INFO_NULL,
    };
    return harness_run_in_tmpdir("npy", tests);
}
