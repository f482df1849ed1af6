/* checkpoint.h — checkpoints as safetensors files: write and read.
 *
 * The file (huggingface.co/docs/safetensors):
 *
 *   N                 uint64 LE, the header's length in bytes
 *   header            N bytes of JSON, padded with spaces to a multiple of 8:
 *                     {"__metadata__": {"epoch": "16", "checksum": "crc32:1c291ca3"},
 *                      "conv1.w": {"dtype": "F32", "shape": [32, 1, 3, 3], "data_offsets": [0, 1152]}, ...}
 *   data              the tensors' bytes, little-endian, C order; data_offsets
 *                     are [begin, end) relative to the start of the data
 *
 * Two dtypes: "F32" (DT_F32, float) and "I64" (DT_I64, int64_t). The writer
 * packs the tensors in the order given; the reader accepts what safetensors
 * itself accepts: the tensors, sorted by offset, tile the data exactly (no
 * overlap, no gap, nothing after the last one).
 *
 * Every function that can fail returns 0 (or a pointer) on success, and -1
 * (or NULL) with "PATH: what is wrong" in err (when err is not NULL), e.g.
 *   "ckpt/best.safetensors: tensor 'fc.w': data_offsets [0, 20] hold 20 bytes, but F32 [2, 3] needs 24".
 * No input file, however malformed, makes the reader crash or abort.
 *
 *   CkptTensor t[] = {{"fc.w", DT_F32, {2, {64, 10}}, w}, {"step", DT_I64, {0, {0}}, &step}};
 *   const char *k[] = {"epoch"}, *v[] = {"16"};
 *   if (ckpt_write("best.safetensors", t, 2, k, v, 1, err, sizeof err) != 0) ...
 *
 *   Checkpoint *c = ckpt_read("best.safetensors", err, sizeof err);
 *   const CkptTensor *w = ckpt_find(c, "fc.w");   // w->data: 640 floats, owned by c
 *   ckpt_free(c);
 */
#ifndef MMGC_CHECKPOINT_H
#define MMGC_CHECKPOINT_H

#include <stddef.h>

#include "ir.h"

/* Headers longer than this are refused (safetensors' own limit is 100 MB). */
#define CKPT_MAX_HEADER (100 * 1000 * 1000)
/* At most this many tensors, and metadata entries besides the checksum, in
 * a file (written or read): the largest published safetensors shards hold a
 * few thousand tensors. */
#define CKPT_MAX_TENSORS 65536
#define CKPT_MAX_META 1024

/* The metadata key of the checksum: "crc32:" and 8 lowercase hex digits,
 * the CRC-32 (zlib's, crc32.h) of every tensor's bytes in header order; as
 * the writer packs them in that order, it is the CRC-32 of the whole data
 * section. The writer always adds it (last, after the caller's keys; a
 * caller cannot set it). The reader checks it when present (a file without
 * it, say one from PyTorch, is read as it is) and does not count it among
 * the metadata (ckpt_meta does not return it). */
#define CKPT_CHECKSUM_KEY "checksum"
#define CKPT_CHECKSUM_PREFIX "crc32:"

typedef struct {
    const char *name;
    DType dtype;
    Shape shape;      /* rank 0 (a scalar) to IR_MAX_RANK */
    const void *data; /* numel * itemsize bytes, C order */
} CkptTensor;

/* Writes the tensors (in this order) and the metadata to path, atomically:
 * path.tmp is written, fsync'ed and renamed over path, so path always holds
 * either its old contents or the whole new file. Names must be non-empty,
 * distinct and not "__metadata__"; metadata keys distinct and not
 * CKPT_CHECKSUM_KEY; at most CKPT_MAX_TENSORS tensors, CKPT_MAX_META keys. */
int ckpt_write(const char *path, const CkptTensor *tensors, int n, const char *const *meta_keys,
               const char *const *meta_values, int nmeta, char *err, size_t errlen);

typedef struct Checkpoint Checkpoint;

/* Reads and checks a whole file; NULL on error. */
Checkpoint *ckpt_read(const char *path, char *err, size_t errlen);
/* The number of tensors, and tensor i (0 <= i < count) in the header's order. */
int ckpt_count(const Checkpoint *c);
const CkptTensor *ckpt_get(const Checkpoint *c, int i);
/* The tensor named name, or NULL. */
const CkptTensor *ckpt_find(const Checkpoint *c, const char *name);
/* The metadata value of key, or NULL. */
const char *ckpt_meta(const Checkpoint *c, const char *key);
/* The number of metadata entries, and entry i (0 <= i < count) as key and value. */
int ckpt_meta_count(const Checkpoint *c);
void ckpt_meta_get(const Checkpoint *c, int i, const char **key, const char **value);
/* Frees c and everything it owns (names, data). Safe on NULL. */
void ckpt_free(Checkpoint *c);

#endif
