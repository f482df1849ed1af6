/* manifest.h — manifest.json: every generation parameter, the seed, the
 * library versions, the source's checksums, each output file's shape and
 * SHA-256, and per-split statistics. It holds nothing that depends on the
 * machine, the paths or --jobs, so the same seed gives the same bytes. */
#ifndef MMGC_DIGITS_MANIFEST_H
#define MMGC_DIGITS_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "mnist_json.h"
#include "params.h"
#include "speech.h"
#include "split.h"

/* What was drawn for one sample, for the statistics. */
typedef struct {
    float snr_db;
    int32_t voice, variant, rate, pitch;
    int32_t offset;   /* where the word starts in the window (samples)       */
    int32_t word_len; /* the trimmed word at 8 kHz, before the cut to 1 s    */
} SampleInfo;

typedef struct {
    const char *name; /* "image_train.npy" */
    const char *dtype; /* "<f4", "<i8" */
    int rank;
    int64_t shape[4];
    char sha256[65];
} ManifestFile;

typedef struct {
    const DigitsParams *params;
    const char *source_name, *source_sha1; /* NULL when not given */
    const MnistDigits *mnist;
    const SplitPlan *split;
    const SpeechInfo *speech;
    const int64_t *digit;   /* [N]    */
    const int64_t *meta;    /* [N, 2] */
    const SampleInfo *info; /* [N]    */
    const ManifestFile *files;
    int n_files;
} Manifest;

/* Writes path atomically (io_write_atomic: path.tmp, then renamed to path). */
int manifest_write(const char *path, const Manifest *m, char *err, size_t errlen);

#endif
