/* npy.h — NumPy .npy files: read, write, convert.
 *
 * Supported: format versions 1.0 and 2.0 (read and write) and 3.0 (read),
 * little-endian, rank 0 to NPY_MAX_RANK, and five dtypes:
 *
 *   NpyArray.dtype  descr          C type
 *   'f'             '<f4'          float
 *   'd'             '<f8'          double
 *   'i'             '<i4'          int32_t
 *   'l'             '<i8'          int64_t
 *   'b'             '|u1' ('<u1')  uint8_t
 *
 * Reading also takes what numpy writes but an NpyArray does not hold, and
 * converts it on load: '<f2' (float16) is read as 'f', exactly; a file in
 * Fortran order (fortran_order True) is read into C order. Writing writes
 * C order only.
 *
 * Every function returns 0 on success, or -1 with a message in err (when
 * err is not NULL): "PATH: what is wrong", e.g.
 *   "w.npy: data truncated: expected 48 bytes, found 20".
 * No input file, however malformed, makes these functions crash or abort.
 *
 *   NpyArray a;
 *   char err[256];
 *   if (npy_read("x.npy", &a, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); ... }
 *   ... a.rank, a.shape[0..rank), (float *)a.data when a.dtype == 'f' ...
 *   npy_free(&a);
 */
#ifndef MMGC_NPY_H
#define MMGC_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ir.h"

#define NPY_MAX_RANK IR_MAX_RANK
/* Headers longer than this are refused as malformed (numpy's own limit is 10000). */
#define NPY_MAX_HEADER (1 << 20)

typedef struct {
    char dtype;                   /* 'f' f32, 'd' f64, 'i' i32, 'l' i64, 'b' u8           */
    int rank;                     /* 0 = a scalar (one element)                          */
    int64_t shape[NPY_MAX_RANK];  /* shape[0..rank); entries past rank are 0             */
    void *data;                   /* numel * itemsize bytes, C order; owned, never NULL
                                     after a successful read, alloc or convert           */
    size_t nbytes;                /* numel * itemsize (0 for an empty array)             */
} NpyArray;

/* Bytes per element of a dtype ('f' -> 4), or 0 if dtype is not one of the five. */
size_t npy_itemsize(char dtype);
/* The descr numpy writes for a dtype ('f' -> "<f4"), or NULL if unknown. */
const char *npy_descr(char dtype);
/* Number of elements: the product of shape[0..rank) (1 for rank 0). */
int64_t npy_numel(const NpyArray *a);

/* Reads the .npy file at path into *out (which it fully overwrites). On
 * error *out is left empty (data NULL) and needs no npy_free. */
int npy_read(const char *path, NpyArray *out, char *err, size_t errlen);

/* How npy_read (and idx_read) read a file: opens path, calls
 * read(f, path, out, err, errlen) and closes it; *out is emptied first and
 * left empty on error, which is read's, or "PATH: cannot open: reason". */
typedef int (*NpyStreamReader)(FILE *f, const char *path, NpyArray *out, char *err, size_t errlen);
int npy_read_file(const char *path, NpyStreamReader read, NpyArray *out, char *err, size_t errlen);

/* Writes a to path, atomically: it writes path.tmp, then renames it over
 * path. Writes version 1.0, or 2.0 if the header does not fit in 1.0, with
 * the header numpy writes (padded so the data starts at a multiple of 64). */
int npy_write(const char *path, const NpyArray *a, char *err, size_t errlen);
/* npy_write with a chosen format version: 1 or 2 (0 = the smallest that fits). */
int npy_write_version(const char *path, const NpyArray *a, int version, char *err, size_t errlen);

/* Frees a's data and empties a. Safe on an empty or already freed array. */
void npy_free(NpyArray *a);

/* Makes *out a zero-filled array of the given dtype and shape. */
int npy_alloc(NpyArray *out, char dtype, int rank, const int64_t *shape, char *err, size_t errlen);

/* Makes *out a freshly allocated copy of in converted to dtype (any of the
 * five to any of the five). Conversions to an integer dtype fail, naming
 * the first offending element, if a value is not finite, not integral, or
 * out of the target's range; float64 -> float32 rounds to nearest. */
int npy_convert(const NpyArray *in, char dtype, NpyArray *out, char *err, size_t errlen);

/* npy_convert(in, 'f', ...): any numeric array as float32. */
int npy_to_f32(const NpyArray *in, NpyArray *out, char *err, size_t errlen);

/* The index (C order) of a's first NaN or infinity, or -1 if there is none
 * (always -1 for an integer dtype). */
int64_t npy_find_nonfinite(const NpyArray *a);

#endif
