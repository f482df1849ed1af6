/* wav.h — WAV files, read into float32 [channels, frames].
 *
 *   "RIFF" size "WAVE"             then chunks: id (4 bytes), size (uint32 LE),
 *                                  contents, a pad byte if size is odd
 *   "fmt " chunk                   format tag, channels, sample rate, byte rate,
 *                                  block align, bits per sample [, extension]
 *   "data" chunk                   interleaved frames
 *
 * Supported: 16-bit PCM (format 1), 32-bit IEEE float (format 3), and
 * WAVE_FORMAT_EXTENSIBLE (0xFFFE) with either as its subformat; any number
 * of channels. Other chunks (LIST, fact, cue, ...) are skipped, in any order.
 * PCM samples are scaled by 1/32768 into [-1, 1); float samples are returned
 * as stored (normally within [-1, 1]; a NaN or infinity is an error).
 *
 * wav_read returns 0, or -1 with "PATH: what is wrong" in err (when not NULL), e.g.
 *   "a.wav: unsupported format: 24-bit PCM (supported: 16-bit PCM, 32-bit IEEE float)".
 * On error *out is empty (data NULL). No file makes it crash.
 *
 *   NpyArray a; int rate;
 *   if (wav_read("0_jackson_0.wav", &a, &rate, err, sizeof err) == 0)
 *       ... a.shape[0] channels, a.shape[1] frames, (float *)a.data, channel c at c * a.shape[1] ...
 */
#ifndef MMGC_WAV_H
#define MMGC_WAV_H

#include <stddef.h>
#include <stdint.h>

#include "npy.h"

/* Reads path into *out ('f', rank 2, [channels, frames]) and its rate in Hz
 * into *sample_rate (if not NULL). */
int wav_read(const char *path, NpyArray *out, int *sample_rate, char *err, size_t errlen);

/* Reads a folder of WAV files, one sample each, into *out ('f', rank 3,
 * [files, channels, frames]) in file-name order (byte order, as `LC_ALL=C
 * ls`); *sample_rate (if not NULL) is their rate. Every file must have the
 * first one's channels, frames and rate; the folder holds .wav files only
 * (names starting with '.' aside) and at least one. -1 with "PATH: what is
 * wrong", naming the file. */
int wav_read_dir(const char *dir, NpyArray *out, int *sample_rate, char *err, size_t errlen);

/* A mono 16-bit PCM WAV file of x[0..n) at `rate` Hz, in memory: a malloc'd
 * buffer of *size bytes (44 + 2n), or NULL when out of memory or n is too
 * large for a WAV file. Samples are clipped to [-1, 1] and scaled by 32767
 * (rounded); NaN becomes 0. wav_read reads it back. */
unsigned char *wav_encode(const float *x, int64_t n, int rate, size_t *size);

#endif
