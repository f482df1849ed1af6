/* idx.h — IDX files (the format MNIST ships in), read into an NpyArray.
 *
 *   0x00 0x00 TYPE NDIMS       TYPE: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
 *   NDIMS x uint32 BE          the dimensions, outermost first
 *   data                       numel elements, big-endian, C order; nothing after
 *
 * train-images-idx3-ubyte is u8 [60000, 28, 28], train-labels-idx1-ubyte u8 [60000].
 * Files must be decompressed first (a gzip file is reported as such).
 *
 * The array's dtype is the type that holds the file's exactly:
 *   u8 -> 'b'   i8, i16, i32 -> 'i'   f32 -> 'f'   f64 -> 'd'
 * idx_read_as converts on the way ('f' for images, 'l' for labels), with
 * npy_convert's rules. Values are not rescaled here: MNIST pixels stay 0..255
 * (a data set of .idx files scales uint8 inputs to [0, 1], see dataset.h).
 *
 * Both return 0, or -1 with "PATH: what is wrong" in err (when not NULL), e.g.
 *   "train-images-idx3-ubyte: data truncated: expected 47040000 bytes, found 1000".
 * On error *out is empty (data NULL). No file makes them crash.
 */
#ifndef MMGC_IDX_H
#define MMGC_IDX_H

#include <stddef.h>

#include "npy.h"

int idx_read(const char *path, NpyArray *out, char *err, size_t errlen);
/* idx_read, then npy_convert to dtype ('f', 'd', 'i', 'l' or 'b') if it differs. */
int idx_read_as(const char *path, char dtype, NpyArray *out, char *err, size_t errlen);

#endif
