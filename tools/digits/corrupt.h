/* corrupt.h — the two corruptions, each drawn independently per sample.
 *
 * Image x [28, 28] in [0, 1]:
 *   x += s * N(0, 1) per pixel,  s ~ U(0, image_sigma_max)
 *   heavy, with image_heavy_prob:
 *     x += h * N(0, 1) per pixel,  h ~ U(image_heavy_sigma_min, image_heavy_sigma_max)
 *     a square of side image_heavy_square at a uniform place := U[0, 1) per pixel
 *   x = clip(x, 0, 1)
 *
 * Audio: the trimmed word w [len] (len <= 8000) in a 1 s window y [8000]:
 *   y = 0; y[o .. o + len) = w / max|w|,  o ~ uniform in [0, 8000 - len]
 *   snr ~ U(audio_snr_min, audio_snr_max) dB, or, heavy with audio_heavy_prob,
 *         U(audio_heavy_snr_min, audio_heavy_snr_max) dB
 *   y += sqrt(P / 10^(snr / 10)) * N(0, 1) per sample,  P = mean(w^2) / max|w|^2
 *        (the word's power, not the window's)
 *   y /= max|y|
 */
#ifndef MMGC_DIGITS_CORRUPT_H
#define MMGC_DIGITS_CORRUPT_H

#include <stdint.h>

#include "params.h"

/* Corrupts x [28 * 28] in place; returns 1 if the corruption was heavy. */
int corrupt_image(const DigitsParams *p, const DigitsKeys *k, uint64_t step, float *x);

/* Places word [len] (0 < len <= 8000) in out [8000] and adds noise; returns
 * 1 if heavy, and the SNR drawn in *snr_db and the offset in *offset. */
int corrupt_audio(const DigitsParams *p, const DigitsKeys *k, uint64_t step, const float *word, int len, float *out,
                  double *snr_db, int *offset);

#endif
