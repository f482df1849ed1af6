/* run_info.h — what a run's report says about the run besides its numbers:
 * every train setting as text, and the data set's manifest (its SHA-256,
 * and the rate its audio is played at). */
#ifndef MMGC_RUN_INFO_H
#define MMGC_RUN_INFO_H

#include "elaborate.h"
#include "report.h"

#define RUN_INFO_SETTINGS 12 /* rows run_info_settings writes */
#define RUN_INFO_TEXT 256    /* bytes of each value */

/* Every train setting of t, the seed among them, as rows "seed" = "0",
 * "optimizer" = "adam(lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-08)",
 * ..., in the order of the README's table; values are written to
 * text[0..RUN_INFO_SETTINGS). Returns the number of rows. */
int run_info_settings(const TrainSettings *t, ReportItem items[RUN_INFO_SETTINGS], char text[][RUN_INFO_TEXT]);

typedef struct {
    int found;       /* DIR/manifest.json could be read */
    char sha256[65]; /* of its bytes, lowercase hex (sha256sum prints the same) */
    int audio_rate;  /* its "audio": {"sample_rate": N}, or 0 */
} DataManifest;

/* Reads dir/manifest.json (written by mkdigits; see README "Data"). A
 * missing or unreadable file leaves found 0. */
void run_info_manifest(const char *dir, DataManifest *out);

#endif
