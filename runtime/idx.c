/* idx.c — see idx.h. */
#include "idx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_util.h"

/* One IDX element type: its code, size in the file, and the NpyArray dtype that holds it. */
typedef struct {
    unsigned char code;
    size_t size;
    char dtype;
    const char *name;
} IdxType;

static const IdxType TYPES[] = {
    {0x08, 1, 'b', "u8"}, {0x09, 1, 'i', "i8"},  {0x0B, 2, 'i', "i16"},
    {0x0C, 4, 'i', "i32"}, {0x0D, 4, 'f', "f32"}, {0x0E, 8, 'd', "f64"},
};

/* A big-endian unsigned integer of n bytes. */
static uint64_t be(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* Converts numel big-endian elements in raw (the file's type t) into out->data. */
static void decode(const IdxType *t, const unsigned char *raw, int64_t numel, NpyArray *out) {
    for (int64_t k = 0; k < numel; k++) {
        const unsigned char *p = raw + (size_t)k * t->size;
        uint64_t u = be(p, t->size);
        switch (t->code) {
        case 0x08: ((uint8_t *)out->data)[k] = (uint8_t)u; break;
        case 0x09: ((int32_t *)out->data)[k] = (int8_t)(uint8_t)u; break;
        case 0x0B: ((int32_t *)out->data)[k] = (int16_t)(uint16_t)u; break;
        case 0x0C: ((int32_t *)out->data)[k] = (int32_t)(uint32_t)u; break;
        case 0x0D: {
            uint32_t w = (uint32_t)u;
            float f;
            memcpy(&f, &w, 4);
            ((float *)out->data)[k] = f;
            break;
        }
        default: {
            double d;
            memcpy(&d, &u, 8);
            ((double *)out->data)[k] = d;
            break;
        }
        }
    }
}

/* The magic, the dimensions, the data. */
static int read_stream(FILE *f, const char *path, NpyArray *out, char *err, size_t errlen) {
    unsigned char head[4 + 4 * 255];
    long long got = io_read(f, head, 4, path, err, errlen);
    if (got < 0) return -1;
    if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        return io_fail(err, errlen, "%s: gzip-compressed; decompress it first (gunzip)", path);
    if (got < 4) return io_fail(err, errlen, "%s: file is too short (%lld bytes) to be an IDX file", path, got);
    if (head[0] || head[1])
        return io_fail(err, errlen, "%s: not an IDX file (it starts with 0x%02x 0x%02x, not 0x00 0x00)", path, head[0], head[1]);
    const IdxType *t = NULL;
    for (size_t k = 0; k < sizeof TYPES / sizeof TYPES[0]; k++)
        if (TYPES[k].code == head[2]) t = &TYPES[k];
    if (!t)
        return io_fail(err, errlen, "%s: unknown IDX element type 0x%02x (known: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)",
                       path, head[2]);
    int rank = head[3];
    if (rank < 1 || rank > NPY_MAX_RANK)
        return io_fail(err, errlen, "%s: %d dimensions; 1 to %d are supported", path, rank, NPY_MAX_RANK);
    got = io_read(f, head + 4, 4 * (size_t)rank, path, err, errlen);
    if (got < 0) return -1;
    if (got < 4 * rank)
        return io_fail(err, errlen, "%s: file ends inside the dimensions (%d expected, after %lld bytes)", path, rank, 4 + got);
    int64_t shape[NPY_MAX_RANK], numel = 1;
    for (int i = 0; i < rank; i++) {
        shape[i] = (int64_t)be(head + 4 + 4 * i, 4);
        if (shape[i] && numel > INT64_MAX / 8 / shape[i])
            return io_fail(err, errlen, "%s: shape is too large", path);
        numel *= shape[i];
    }
    uint64_t nbytes = (uint64_t)numel * t->size;
    /* Compare sizes before allocating anything. */
    long long avail = io_bytes_left(f);
    if (avail >= 0) {
        if ((unsigned long long)avail < nbytes)
            return io_fail(err, errlen, "%s: data truncated: expected %llu bytes (%s %lld elements), found %lld", path,
                           (unsigned long long)nbytes, t->name, (long long)numel, avail);
        if ((unsigned long long)avail > nbytes)
            return io_fail(err, errlen, "%s: %llu bytes of trailing garbage after the %llu bytes of data", path,
                           (unsigned long long)avail - nbytes, (unsigned long long)nbytes);
    }
    if (nbytes != (size_t)nbytes) return io_fail(err, errlen, "%s: shape is too large", path);
    unsigned char *raw = malloc(nbytes ? (size_t)nbytes : 1);
    if (!raw) return io_fail(err, errlen, "%s: out of memory (%llu bytes of data)", path, (unsigned long long)nbytes);
    got = io_read(f, raw, (size_t)nbytes, path, err, errlen);
    int rc = got < 0 ? -1
           : (uint64_t)got < nbytes
               ? io_fail(err, errlen, "%s: data truncated: expected %llu bytes (%s %lld elements), found %lld", path,
                         (unsigned long long)nbytes, t->name, (long long)numel, got)
               : fgetc(f) != EOF ? io_fail(err, errlen, "%s: trailing garbage after the %llu bytes of data", path, (unsigned long long)nbytes)
               : npy_alloc(out, t->dtype, rank, shape, err, errlen);
    if (rc == 0) decode(t, raw, numel, out);
    free(raw);
    return rc;
}

/* Opens path and reads it; on error *out is left empty. */
int idx_read(const char *path, NpyArray *out, char *err, size_t errlen) {
    return npy_read_file(path, read_stream, out, err, errlen);
}

/* idx_read, then a conversion whose errors name the file. */
int idx_read_as(const char *path, char dtype, NpyArray *out, char *err, size_t errlen) {
    NpyArray a;
    memset(out, 0, sizeof *out);
    if (!npy_itemsize(dtype)) return io_fail(err, errlen, "%s: unknown dtype code '%c'", path, dtype);
    if (idx_read(path, &a, err, errlen) != 0) return -1;
    if (a.dtype == dtype) {
        *out = a;
        return 0;
    }
    char why[256];
    int rc = npy_convert(&a, dtype, out, why, sizeof why);
    /* npy_convert says "npy_convert: ..."; name the file instead. */
    if (rc != 0) io_fail(err, errlen, "%s: %s", path, strncmp(why, "npy_convert: ", 13) ? why : why + 13);
    npy_free(&a);
    return rc;
}
