/* test_checkpoint.c — safetensors checkpoints: round trips of F32 and I64
 * tensors (0-d, empty, rank 6, unaligned offsets) with metadata, the exact
 * bytes of a tiny file, hand-made headers, one malformed file per way a file
 * can be wrong (each with its exact message), and atomic writes: no .tmp
 * left behind, and a good file survives a failed write.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "crc32.h"
#include "harness.h"
#include "name_set.h"

/* Writes a safetensors file: the length h, h bytes of header as given, ndata data bytes (k & 255). */
static void put_st_n(const char *name, const char *header, size_t h, size_t ndata) {
    unsigned char *buf = malloc(8 + h + ndata);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    for (size_t k = 0; k < ndata; k++) buf[8 + h + k] = (unsigned char)k;
    harness_put_bytes(harness_tmp(name), buf, 8 + h + ndata);
    free(buf);
}

/* put_st_n of a NUL-terminated header. */
static void put_st(const char *name, const char *header, size_t ndata) { put_st_n(name, header, strlen(header), ndata); }

/* Asserts that reading tmpdir/name fails with "PATH: message". */
static void expect_error(const char *name, const char *message) {
    char want[512], err[512] = "";
    snprintf(want, sizeof want, "%s: %s", harness_tmp(name), message);
    Checkpoint *c = ckpt_read(harness_tmp(name), err, sizeof err);
    CU_ASSERT_PTR_NULL(c);
    ckpt_free(c);
    ASSERT_STR(err, want);
}

/* Asserts that a file with this header (and ndata bytes of data) fails with message. */
static void expect_header_error(const char *header, size_t ndata, const char *message) {
    put_st("bad.safetensors", header, ndata);
    expect_error("bad.safetensors", message);
}

/* Asserts that writing fails with "tmpdir/w.safetensors: message". */
static void expect_write_error(const CkptTensor *t, int n, const char *const *k, const char *const *v, int nmeta,
                               const char *message) {
    char want[512], err[512] = "";
    snprintf(want, sizeof want, "%s: %s", harness_tmp("w.safetensors"), message);
    CU_ASSERT_EQUAL(ckpt_write(harness_tmp("w.safetensors"), t, n, k, v, nmeta, err, sizeof err), -1);
    ASSERT_STR(err, want);
}

/* ---- round trips ------------------------------------------------------------ */

/* Every kind of tensor survives a write and a read, in order, aligned, with metadata. */
static void test_round_trip(void) {
    float w[6] = {1.5f, -2, 0.25f, 3e-8f, -0.0f, 1e30f}, odd[3] = {7, 8, 9}, s = 42.5f, r6[12];
    int64_t ids[4] = {-1, 0, INT64_MAX, INT64_MIN}, step = 1234567890123LL, big[2] = {5, -5};
    for (int i = 0; i < 12; i++) r6[i] = (float)i / 7;
    CkptTensor t[] = {
        {"conv1.w", DT_F32, {2, {2, 3}}, w},
        {"odd", DT_F32, {1, {3}}, odd},           /* 12 bytes: the next tensor starts unaligned in the file */
        {"ids", DT_I64, {1, {4}}, ids},
        {"scalar", DT_F32, {0, {0}}, &s},
        {"step", DT_I64, {0, {0}}, &step},
        {"empty", DT_F32, {2, {0, 3}}, NULL},
        {"rank6", DT_F32, {6, {1, 2, 1, 3, 1, 2}}, r6},
        {"head.bias \"quoted\" \\ caf\xc3\xa9", DT_I64, {1, {2}}, big},
    };
    const char *keys[] = {"epoch", "note"}, *values[] = {"16", "line 1\nline \"2\"\t\\ \x01 \xe2\x9c\x93"};
    char err[256];
    int n = (int)(sizeof t / sizeof t[0]);
    CU_ASSERT_EQUAL_FATAL(ckpt_write(harness_tmp("rt.safetensors"), t, n, keys, values, 2, err, sizeof err), 0);
    CU_ASSERT_EQUAL(access(harness_tmp("rt.safetensors.tmp"), F_OK), -1);
    Checkpoint *c = ckpt_read(harness_tmp("rt.safetensors"), err, sizeof err);
    if (!c) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(ckpt_count(c), n);
    for (int i = 0; i < n; i++) {
        const CkptTensor *g = ckpt_get(c, i);
        ASSERT_STR(g->name, t[i].name);
        CU_ASSERT_EQUAL(g->dtype, t[i].dtype);
        CU_ASSERT_EQUAL_FATAL(g->shape.rank, t[i].shape.rank);
        int64_t numel = 1;
        for (int d = 0; d < g->shape.rank; d++) {
            CU_ASSERT_EQUAL(g->shape.dim[d], t[i].shape.dim[d]);
            numel *= g->shape.dim[d];
        }
        CU_ASSERT_PTR_NOT_NULL(g->data);
        CU_ASSERT_EQUAL((uintptr_t)g->data % 8, 0);
        if (numel) CU_ASSERT(memcmp(g->data, t[i].data, (size_t)numel * (g->dtype == DT_F32 ? 4 : 8)) == 0);
        CU_ASSERT_PTR_EQUAL(ckpt_find(c, t[i].name), g);
    }
    const int64_t *got_ids = ckpt_find(c, "ids")->data;
    CU_ASSERT(got_ids[0] == -1 && got_ids[2] == INT64_MAX && got_ids[3] == INT64_MIN);
    CU_ASSERT_PTR_NULL(ckpt_get(c, n));
    CU_ASSERT_PTR_NULL(ckpt_get(c, -1));
    CU_ASSERT_PTR_NULL(ckpt_find(c, "conv1"));
    ASSERT_STR(ckpt_meta(c, "epoch"), "16");
    ASSERT_STR(ckpt_meta(c, "note"), values[1]);
    CU_ASSERT_PTR_NULL(ckpt_meta(c, "missing"));
    CU_ASSERT_EQUAL(ckpt_meta_count(c), 2);
    const char *k, *v;
    ckpt_meta_get(c, 1, &k, &v);
    ASSERT_STR(k, "note");
    ckpt_free(c);
    ckpt_free(NULL);

    /* No tensors, no metadata: the header is "{}" and six spaces. */
    CU_ASSERT_EQUAL_FATAL(ckpt_write(harness_tmp("none.safetensors"), NULL, 0, NULL, NULL, 0, err, sizeof err), 0);
    c = ckpt_read(harness_tmp("none.safetensors"), err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(ckpt_count(c), 0);
    CU_ASSERT_EQUAL(ckpt_meta_count(c), 0);
    ckpt_free(c);
}

/* The bytes of a tiny file, as safetensors (serde_json, compact, padded with
 * spaces) writes them, with the checksum last in the metadata: Python's
 * zlib.crc32 of the 16 data bytes is 0x9b9696b3. */
static void test_exact_bytes(void) {
    float a[2] = {1, 2};
    int64_t x = 7;
    CkptTensor t[] = {{"a", DT_F32, {1, {2}}, a}, {"x", DT_I64, {0, {0}}, &x}};
    const char *keys[] = {"format"}, *values[] = {"pt"};
    char err[256];
    CU_ASSERT_EQUAL_FATAL(ckpt_write(harness_tmp("tiny.safetensors"), t, 2, keys, values, 1, err, sizeof err), 0);
    const char *json = "{\"__metadata__\":{\"format\":\"pt\",\"checksum\":\"crc32:9b9696b3\"},"
                       "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"x\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}";
    size_t j = strlen(json), padded = (j + 7) / 8 * 8, n;
    CU_ASSERT_EQUAL(j, 166);
    unsigned char *bytes = harness_slurp(harness_tmp("tiny.safetensors"), &n);
    CU_ASSERT_EQUAL_FATAL(n, 8 + padded + 16);
    CU_ASSERT(memcmp(bytes, "\xa8\0\0\0\0\0\0\0", 8) == 0); /* 168 */
    CU_ASSERT(memcmp(bytes + 8, json, j) == 0);
    for (size_t i = 8 + j; i < 8 + padded; i++) CU_ASSERT_EQUAL(bytes[i], ' ');
    CU_ASSERT(memcmp(bytes + 8 + padded, "\x00\x00\x80\x3f\x00\x00\x00\x40\x07\0\0\0\0\0\0\0", 16) == 0);
    free(bytes);

    /* Without metadata, "__metadata__" holds the checksum alone (of no bytes:
     * 0); escapes are serde_json's. */
    CkptTensor e = {"q\"\\\n\x1f", DT_I64, {1, {0}}, NULL};
    CU_ASSERT_EQUAL_FATAL(ckpt_write(harness_tmp("esc.safetensors"), &e, 1, NULL, NULL, 0, err, sizeof err), 0);
    bytes = harness_slurp(harness_tmp("esc.safetensors"), &n);
    json = "{\"__metadata__\":{\"checksum\":\"crc32:00000000\"},\"q\\\"\\\\\\n\\u001f\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[0,0]}}";
    CU_ASSERT_EQUAL(n, 8 + (strlen(json) + 7) / 8 * 8);
    CU_ASSERT(memcmp(bytes + 8, json, strlen(json)) == 0);
    free(bytes);
}

/* Headers other writers make: white space, any key order, escapes, metadata last. */
static void test_hand_made(void) {
    put_st("hand.safetensors",
           "{\n  \"b\\u00e9\\ud83d\\ude00\" : { \"shape\" : [ 1 ], \"data_offsets\" : [ 4 , 12 ], \"dtype\" : \"I64\" },\n"
           "  \"a\": {\"data_offsets\": [0, 4], \"dtype\": \"F32\", \"shape\": []},\n"
           "  \"__metadata__\": {\"k\\/\": \"v\\u0041\"}\n}   \n\t",
           12);
    char err[256];
    Checkpoint *c = ckpt_read(harness_tmp("hand.safetensors"), err, sizeof err);
    if (!c) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(ckpt_count(c), 2);
    ASSERT_STR(ckpt_get(c, 0)->name, "b\xc3\xa9\xf0\x9f\x98\x80");
    CU_ASSERT_EQUAL(ckpt_get(c, 0)->dtype, DT_I64);
    CU_ASSERT_EQUAL(*(const int64_t *)ckpt_get(c, 0)->data, 0x0b0a090807060504LL);
    CU_ASSERT_EQUAL(ckpt_get(c, 1)->shape.rank, 0);
    CU_ASSERT(memcmp(ckpt_get(c, 1)->data, "\0\1\2\3", 4) == 0);
    ASSERT_STR(ckpt_meta(c, "k/"), "vA");
    ckpt_free(c);
}

/* ---- malformed files ------------------------------------------------------------ */

#define T_OK "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"

/* The file around the header: missing, short, lengths that do not fit. */
static void test_bad_file(void) {
    expect_error("missing.safetensors", "cannot open: No such file or directory");
    harness_put_bytes(harness_tmp("empty.safetensors"), "", 0);
    expect_error("empty.safetensors", "file is too short (0 bytes) to be a safetensors file");
    harness_put_bytes(harness_tmp("short.safetensors"), "\x02\0\0\0\0", 5);
    expect_error("short.safetensors", "file is too short (5 bytes) to be a safetensors file");
    harness_put_bytes(harness_tmp("long.safetensors"), "\x64\0\0\0\0\0\0\0{}", 10);
    expect_error("long.safetensors", "header length 100 goes past the end of the file (10 bytes)");
    harness_put_bytes(harness_tmp("huge.safetensors"), "\xff\xff\xff\xff\xff\xff\xff\xff{}", 10);
    expect_error("huge.safetensors", "header length 18446744073709551615 goes past the end of the file (10 bytes)");
    CU_ASSERT_EQUAL_FATAL(mkdir(harness_tmp("dir.safetensors"), 0700), 0);
    expect_error("dir.safetensors", "not a regular file");
    expect_header_error("", 0, "header is empty");
    expect_header_error("        ", 0, "header is empty");
    expect_header_error("[1, 2]", 0, "header is not a JSON object");
    expect_header_error("\"{}\"", 0, "header is not a JSON object");
}

/* JSON syntax: each error names its byte in the file (the header starts at byte 8). */
static void test_bad_json(void) {
    expect_header_error("{", 0, "header is not valid JSON: expected a string key at the end of the header");
    expect_header_error("{\"a\":}", 0, "header is not valid JSON: expected a value at byte 13");
    expect_header_error("{\"a\" 1}", 0, "header is not valid JSON: expected ':' after a key at byte 13");
    expect_header_error("{a:1}", 0, "header is not valid JSON: expected a string key at byte 9");
    expect_header_error("{\"a\":1,}", 0, "header is not valid JSON: expected a string key at byte 15");
    expect_header_error("{\"a\":[1 2]}", 0, "header is not valid JSON: expected ',' or ']' at byte 16");
    expect_header_error("{\"a\":1 \"b\":2}", 0, "header is not valid JSON: expected ',' or '}' at byte 15");
    expect_header_error("{\"a\":tru}", 0, "header is not valid JSON: expected a value at byte 13");
    expect_header_error("{\"a\":01}", 0, "header is not valid JSON: number with a leading zero at byte 13");
    expect_header_error("{\"a\":-}", 0, "header is not valid JSON: bad number at byte 13");
    expect_header_error("{\"a\":1.}", 0, "header is not valid JSON: bad number at byte 13");
    expect_header_error("{\"a\":1e+}", 0, "header is not valid JSON: bad number at byte 13");
    expect_header_error("{\"ab", 0, "header is not valid JSON: unterminated string at the end of the header");
    expect_header_error("{\"a\\qb\":1}", 0, "header is not valid JSON: bad escape in a string at byte 11");
    expect_header_error("{\"a\\u12g4\":1}", 0, "header is not valid JSON: bad \\u escape in a string at byte 11");
    expect_header_error("{\"a\\ud800x\":1}", 0, "header is not valid JSON: unpaired surrogate in a string at byte 11");
    expect_header_error("{\"a\\udc00\":1}", 0, "header is not valid JSON: unpaired surrogate in a string at byte 11");
    expect_header_error("{\"a\\u0000\":1}", 0, "header is not valid JSON: \\u0000 in a string at byte 11");
    expect_header_error("{\"a\tb\":1}", 0, "header is not valid JSON: control character in a string at byte 11");
    expect_header_error("{\"a\xff\":1}", 0, "header is not valid JSON: string is not valid UTF-8 at byte 9");
    expect_header_error("{\"a\":1} x", 0, "header is not valid JSON: text after the JSON object at byte 16");
    put_st_n("nul.safetensors", "{\"a\":1}\0\0", 9, 0);
    expect_error("nul.safetensors", "header is not valid JSON: text after the JSON object at byte 15");
    char deep[300] = "{\"a\":";
    for (int i = 0; i < 100; i++) strcat(deep, "[");
    expect_header_error(deep, 0, "header is not valid JSON: nesting too deep at byte 76");
}

/* Entries: not objects, fields missing, repeated, unexpected, of the wrong type. */
static void test_bad_entry(void) {
    expect_header_error("{\"a\":1}", 0, "tensor 'a': entry is not an object");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'a': no 'data_offsets'");
    expect_header_error("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': no 'dtype'");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 'a': no 'shape'");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                        "tensor 'a': key 'dtype' appears twice");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"stride\":[1]}}", 4,
                        "tensor 'a': unexpected key 'stride'");
    expect_header_error("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': 'dtype' is not a string");
    expect_header_error("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2,
                        "tensor 'a': unsupported dtype 'F16' (supported: F32, I64)");
    expect_header_error("{\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2,
                        "tensor 'a': unsupported dtype 'BF16' (supported: F32, I64)");
    expect_header_error("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': unknown dtype 'f32'");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4,
                        "tensor 'a': 'shape' is not an array of non-negative integers");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
                        "tensor 'a': 'shape' is not an array of non-negative integers");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4,
                        "tensor 'a': 'shape' is not an array of non-negative integers");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4,
                        "tensor 'a': 'shape' is not an array of non-negative integers");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
                        "tensor 'a': shape has 7 dimensions; at most 6 are supported");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4,
                        "tensor 'a': shape is too large");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
                        "tensor 'a': 'data_offsets' is not [begin, end] with non-negative integers");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0,4\"}}", 4,
                        "tensor 'a': 'data_offsets' is not [begin, end] with non-negative integers");
    expect_header_error("{\"\":" T_OK "}", 4, "a tensor has an empty name");
}

/* Offsets: backwards, past the end, the wrong size, overlapping, leaving gaps. */
static void test_bad_offsets(void) {
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4,
                        "tensor 'a': data_offsets [4, 0] end before they begin");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
                        "tensor 'a': data_offsets [0, 8] go past the end of the data (4 bytes)");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24,
                        "tensor 'a': data_offsets [0, 20] hold 20 bytes, but F32 [2, 3] needs 24");
    expect_header_error("{\"a\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,4]}}", 4,
                        "tensor 'a': data_offsets [0, 4] hold 4 bytes, but I64 [] needs 8");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
                        "tensors 'a' and 'b' overlap: bytes [0, 8) and [4, 12)");
    expect_header_error("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                        "tensors 'b' and 'a' overlap: bytes [0, 4) and [0, 4)");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12,
                        "bytes [4, 8) of the data belong to no tensor");
    expect_header_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                        "bytes [0, 4) of the data belong to no tensor");
    expect_header_error("{\"a\":" T_OK "}", 7, "bytes [4, 7) of the data belong to no tensor");
    expect_header_error("{}", 1, "bytes [0, 1) of the data belong to no tensor");
}

/* Names and metadata: duplicates, metadata of the wrong shape. */
static void test_bad_names(void) {
    expect_header_error("{\"a\":" T_OK ",\"a\":" T_OK "}", 4, "duplicate tensor name 'a'");
    expect_header_error("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "'__metadata__' appears twice");
    expect_header_error("{\"__metadata__\":[]}", 0, "'__metadata__' is not an object");
    expect_header_error("{\"__metadata__\":{\"epoch\":16}}", 0, "'__metadata__' value of 'epoch' is not a string");
    expect_header_error("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "metadata key 'k' appears twice");
}

/* ---- checksums and limits ---------------------------------------------------------- */

/* The writer's checksum is zlib's CRC-32 of the data section; a flipped bit
 * in the data is an error, a malformed checksum too; a file without one is
 * read; a caller cannot set it; the reader does not list it as metadata. */
static void test_checksum(void) {
    CU_ASSERT_EQUAL(crc32_update(0, "123456789", 9), 0xcbf43926u);
    CU_ASSERT_EQUAL(crc32_update(crc32_update(0, "1234", 4), "56789", 5), 0xcbf43926u);
    CU_ASSERT_EQUAL(crc32_update(0, "", 0), 0u);
    float w[3] = {1, 2, 3};
    int64_t x = 7;
    CkptTensor t[] = {{"w", DT_F32, {1, {3}}, w}, {"x", DT_I64, {0, {0}}, &x}};
    const char *k[] = {"epoch"}, *v[] = {"2"};
    char err[512], want[1024];
    const char *path = harness_tmp("sum.safetensors");
    CU_ASSERT_EQUAL_FATAL(ckpt_write(path, t, 2, k, v, 1, err, sizeof err), 0);
    size_t n;
    unsigned char *bytes = harness_slurp(path, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    size_t data = n - 20; /* 12 + 8 bytes of data at the end */
    char sum[32];
    snprintf(sum, sizeof sum, "\"checksum\":\"crc32:%08x\"", (unsigned)crc32_update(0, bytes + data, 20));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)bytes + 8, sum));
    Checkpoint *c = ckpt_read(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(ckpt_meta_count(c), 1);
    CU_ASSERT_PTR_NULL(ckpt_meta(c, "checksum"));
    ckpt_free(c);

    /* one bit of w[1] flipped: 2.0f (0x40000000) becomes 0x40000001 */
    bytes[data + 4] ^= 1;
    harness_put_bytes(harness_tmp("flipped.safetensors"), bytes, n);
    uint32_t good = crc32_update(0, bytes + data, 20) , stored;
    bytes[data + 4] ^= 1;
    stored = crc32_update(0, bytes + data, 20);
    snprintf(want, sizeof want,
             "the tensors' bytes have checksum crc32:%08x, but the metadata says crc32:%08x: the file is corrupt",
             (unsigned)good, (unsigned)stored);
    expect_error("flipped.safetensors", want);
    free(bytes);

    expect_header_error("{\"__metadata__\":{\"checksum\":\"crc32:1234\"},\"a\":" T_OK "}", 4,
                        "metadata 'checksum' is 'crc32:1234', not 'crc32:' and 8 hex digits");
    expect_header_error("{\"__metadata__\":{\"checksum\":\"md5:0123456789abcdef\"},\"a\":" T_OK "}", 4,
                        "metadata 'checksum' is 'md5:0123456789abcdef', not 'crc32:' and 8 hex digits");
    expect_header_error("{\"__metadata__\":{\"checksum\":\"crc32:0000000g\"},\"a\":" T_OK "}", 4,
                        "metadata 'checksum' is 'crc32:0000000g', not 'crc32:' and 8 hex digits");
    /* put_st's data bytes are 0, 1, 2, 3: zlib.crc32(bytes(range(4))) == 0x8bb98613 (upper case is read too) */
    put_st("hand_sum.safetensors", "{\"__metadata__\":{\"checksum\":\"crc32:8BB98613\"},\"a\":" T_OK "}", 4);
    c = ckpt_read(harness_tmp("hand_sum.safetensors"), err, sizeof err);
    if (!c) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_PTR_NOT_NULL(c);
    ckpt_free(c);

    const char *rk[] = {"checksum"}, *rv[] = {"crc32:00000000"};
    expect_write_error(t, 2, rk, rv, 1, "metadata key 'checksum' is reserved: the writer computes it");
}

/* names_first_repeat: the first name (in order) that repeats an earlier one,
 * among many. */
static void test_many_names(void) {
    enum { N = 200000 };
    char (*buf)[16] = malloc(N * sizeof *buf);
    const char **names = malloc(N * sizeof *names);
    for (int i = 0; i < N; i++) snprintf(buf[i], sizeof buf[i], "t%d", (i * 7919) % N), names[i] = buf[i];
    CU_ASSERT_EQUAL(names_first_repeat(names, N), -1);
    names[N - 1] = names[3];
    names[N - 5] = names[N - 6];
    CU_ASSERT_EQUAL(names_first_repeat(names, N), N - 5);
    CU_ASSERT_EQUAL(names_first_repeat(names, 0), -1);
    CU_ASSERT_EQUAL(names_first_repeat(names, 1), -1);
    const char *three[] = {"a", "b", "a", "b", "b"};
    CU_ASSERT_EQUAL(names_first_repeat(three, 5), 2);
    CU_ASSERT_EQUAL(names_first_repeat(three + 1, 4), 2);
    free(names);
    free(buf);
}

/* Writes a header of n empty tensors "t0".."t{n-1}" (the last one named
 * `last` when not NULL) and nmeta metadata keys; returns the file's name. */
static const char *put_many(const char *name, int n, const char *last, int nmeta) {
    size_t cap = (size_t)(n + nmeta) * 80 + 64, len = 0;
    char *h = malloc(cap);
    len += (size_t)snprintf(h + len, cap - len, "{\"__metadata__\":{");
    for (int i = 0; i < nmeta; i++) len += (size_t)snprintf(h + len, cap - len, "%s\"k%d\":\"v\"", i ? "," : "", i);
    len += (size_t)snprintf(h + len, cap - len, "}");
    for (int i = 0; i < n; i++) {
        char tn[32];
        snprintf(tn, sizeof tn, "t%d", i);
        len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
                                i == n - 1 && last ? last : tn);
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    put_st_n(name, h, len, 0);
    free(h);
    return name;
}

/* A header of 100,000 tensors is refused by its count before anything else
 * (it took seconds when repeated names were looked for pairwise); 60,000
 * are read, and a repeated name among them is found; too many metadata
 * entries are refused; the writer keeps to the same limits. */
static void test_limits(void) {
    expect_error(put_many("many.safetensors", 100000, NULL, 0), "header holds 100000 tensors; at most 65536 are supported");
    char err[512];
    Checkpoint *c = ckpt_read(harness_tmp(put_many("60k.safetensors", 60000, NULL, 3)), err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(ckpt_count(c), 60000);
    CU_ASSERT_EQUAL(ckpt_meta_count(c), 3);
    ckpt_free(c);
    expect_error(put_many("60k_dup.safetensors", 60000, "t17", 0), "duplicate tensor name 't17'");
    expect_error(put_many("meta.safetensors", 1, NULL, 1025), "'__metadata__' holds 1025 entries; at most 1024 are supported");
    c = ckpt_read(harness_tmp(put_many("meta_ok.safetensors", 1, NULL, 1024)), err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(c);
    ckpt_free(c);

    enum { N = 65537 };
    CkptTensor *t = calloc(N, sizeof *t);
    char (*names)[16] = malloc(N * sizeof *names);
    for (int i = 0; i < N; i++) snprintf(names[i], sizeof names[i], "t%d", i), t[i] = (CkptTensor){names[i], DT_F32, {1, {0}}, NULL};
    expect_write_error(t, N, NULL, NULL, 0, "65537 tensors; at most 65536 are supported");
    t[N - 2].name = "t5";
    expect_write_error(t, N - 1, NULL, NULL, 0, "duplicate tensor name 't5'");
    const char **k = calloc(1025, sizeof *k);
    for (int i = 0; i < 1025; i++) k[i] = names[i];
    expect_write_error(t, 1, k, k, 1025, "1025 metadata entries; at most 1024 are supported");
    free(k);
    free(names);
    free(t);
}

/* ---- writing -------------------------------------------------------------------- */

/* Bad arguments are refused before anything is written. */
static void test_write_errors(void) {
    float v[2] = {1, 2};
    char err[512];
    CkptTensor t[2] = {{"a", DT_F32, {1, {2}}, v}, {"a", DT_F32, {1, {2}}, v}};
    const char *k[2] = {"x", "x"}, *val[2] = {"1", "2"};
    expect_write_error(t, 2, NULL, NULL, 0, "duplicate tensor name 'a'");
    t[1].name = "";
    expect_write_error(t, 2, NULL, NULL, 0, "tensor 1 has no name");
    t[1].name = "__metadata__";
    expect_write_error(t, 2, NULL, NULL, 0, "a tensor cannot be named '__metadata__'");
    t[1].name = "b\xff";
    expect_write_error(t, 2, NULL, NULL, 0, "tensor 1: name is not valid UTF-8");
    t[1].name = "b", t[1].data = NULL;
    expect_write_error(t, 2, NULL, NULL, 0, "tensor 'b': data is NULL");
    t[1].data = v, t[1].shape.dim[0] = -2;
    expect_write_error(t, 2, NULL, NULL, 0, "tensor 'b': dimension 0 is negative (-2)");
    t[1].shape.rank = 7;
    expect_write_error(t, 2, NULL, NULL, 0, "tensor 'b': rank 7 is out of range (0 to 6)");
    t[1].shape = (Shape){2, {INT64_MAX / 2, 4}};
    expect_write_error(t, 2, NULL, NULL, 0, "tensor 'b': shape is too large");
    t[1].shape = (Shape){1, {2}}, t[1].dtype = (DType)9;
    expect_write_error(t, 2, NULL, NULL, 0, "tensor 'b': unknown dtype 9");
    t[1].dtype = DT_F32;
    expect_write_error(t, 2, k, val, 2, "duplicate metadata key 'x'");
    k[1] = NULL;
    expect_write_error(t, 2, k, val, 2, "metadata entry 1 has a NULL key or value");
    expect_write_error(t, -1, NULL, NULL, 0, "negative tensor or metadata count");
    CU_ASSERT_EQUAL(access(harness_tmp("w.safetensors"), F_OK), -1);
    CU_ASSERT_EQUAL(access(harness_tmp("w.safetensors.tmp"), F_OK), -1);

    CU_ASSERT_EQUAL(ckpt_write("/nonexistent-dir/c.safetensors", t, 2, NULL, NULL, 0, err, sizeof err), -1);
    ASSERT_STR(err, "/nonexistent-dir/c.safetensors: cannot write /nonexistent-dir/c.safetensors.tmp: No such file or directory");
    /* A NULL err is allowed. */
    CU_ASSERT_PTR_NULL(ckpt_read(harness_tmp("missing.safetensors"), NULL, 0));
}

/* A write that fails half-way (the file size limit) leaves the old file whole and no .tmp. */
static void test_atomic(void) {
    char err[512], want[1024];
    float small[4] = {1, 2, 3, 4};
    static float large[4096];
    CkptTensor good = {"w", DT_F32, {1, {4}}, small}, bad = {"w", DT_F32, {1, {4096}}, large};
    const char *path = "atomic.safetensors";
    char full[256];
    snprintf(full, sizeof full, "%s", harness_tmp(path));
    CU_ASSERT_EQUAL_FATAL(ckpt_write(full, &good, 1, NULL, NULL, 0, err, sizeof err), 0);
    size_t n0;
    unsigned char *before = harness_slurp(full, &n0);

    /* A stale .tmp from an earlier crash is simply overwritten. */
    harness_put_bytes(harness_tmp("atomic.safetensors.tmp"), "junk", 4);

    struct rlimit old, lim;
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 4096; /* the new file needs 16 KiB */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = ckpt_write(full, &bad, 1, NULL, NULL, 0, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CU_ASSERT_EQUAL(rc, -1);
    snprintf(want, sizeof want, "%s: cannot write %s.tmp: File too large", full, full);
    ASSERT_STR(err, want);
    CU_ASSERT_EQUAL(access(harness_tmp("atomic.safetensors.tmp"), F_OK), -1);
    size_t n1;
    unsigned char *after = harness_slurp(full, &n1);
    CU_ASSERT(n0 == n1 && memcmp(before, after, n0) == 0);
    free(before), free(after);
    Checkpoint *c = ckpt_read(full, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(ckpt_get(c, 0)->shape.dim[0], 4);
    ckpt_free(c);

    /* A good write replaces the file whole. */
    CU_ASSERT_EQUAL(ckpt_write(full, &bad, 1, NULL, NULL, 0, err, sizeof err), 0);
    c = ckpt_read(full, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(ckpt_get(c, 0)->shape.dim[0], 4096);
    ckpt_free(c);
}

/* Runs the suite in a fresh temporary directory, removed afterwards. */
int main(void) {
    static CU_TestInfo tests[] = {
        {"round trip: F32, I64, 0-d, empty, rank 6, unaligned, metadata", test_round_trip},
        {"the exact bytes of a tiny file", test_exact_bytes},
        {"hand-made headers: white space, key order, escapes", test_hand_made},
        {"malformed: file, lengths, not an object", test_bad_file},
        {"malformed: JSON syntax", test_bad_json},
        {"malformed: tensor entries", test_bad_entry},
        {"malformed: data offsets", test_bad_offsets},
        {"malformed: names and metadata", test_bad_names},
        {"write errors", test_write_errors},
        {"atomic write: a failed write keeps the old file", test_atomic},
        {"checksum: zlib's CRC-32 of the data, a flipped bit refused", test_checksum},
        {"a repeated name among 200,000", test_many_names},
        {"limits: 100,000 tensors, 1,025 metadata entries", test_limits},
        CU_TEST_INFO_NULL,
    };
    return harness_run_in_tmpdir("checkpoint", tests);
}
