/* params.h — every parameter of the digits data set, its defaults, and the
 * random streams it is drawn from.
 *
 * A sample is a 28x28 MNIST digit and the spoken word for it, each
 * corrupted independently (tools/digits/corrupt.c). Every random number is
 * a Philox draw (runtime/rng.h) keyed by
 *
 *   seed    --seed
 *   stream  rng_hash(digits_stream_names[s]): one per purpose, below
 *   step    digits_step(split, i): split 0 train / 1 test, i the sample's
 *           index in its split; for ST_SPLIT the digit, for ST_ORDER the split
 *   index   the draw within the sample (a pixel, an audio sample, or a
 *           fixed slot such as DRAW_IMAGE_SIGMA)
 *
 * so a sample is a pure function of its place, and any number of worker
 * processes produce the same bytes.
 */
#ifndef MMGC_DIGITS_PARAMS_H
#define MMGC_DIGITS_PARAMS_H

#include <stdint.h>

#define DIGITS_SIDE 28
#define DIGITS_PIXELS (DIGITS_SIDE * DIGITS_SIDE)
#define DIGITS_RATE 8000   /* audio sample rate, Hz        */
#define DIGITS_WINDOW 8000 /* audio samples per example: 1 s */
#define DIGITS_N_VOICES 8
#define DIGITS_N_VARIANTS 18
#define DIGITS_TEST_DIVISOR 5 /* test = total / 5, train = the rest: 8000 / 2000 */

extern const char *const digits_words[10];                   /* "zero" .. "nine"        */
extern const char *const digits_voices[DIGITS_N_VOICES];     /* "en-us", "en-gb", ...   */
extern const char *const digits_variants[DIGITS_N_VARIANTS]; /* "" (none), "m1", ...   */

typedef struct {
    uint64_t seed;
    int64_t total; /* samples in train + test (--limit); default 10000 */
    /* image: x + N(0, s^2), s ~ U(0, image_sigma_max); heavy with image_heavy_prob:
     * + N(0, h^2), h ~ U(image_heavy_sigma_min, image_heavy_sigma_max), and a
     * square of side image_heavy_square filled with U[0, 1]; clipped to [0, 1] */
    double image_sigma_max;
    double image_heavy_prob;
    double image_heavy_sigma_min, image_heavy_sigma_max;
    int image_heavy_square;
    /* audio: white noise at SNR ~ U(audio_snr_min, audio_snr_max) dB relative to
     * the word's power; heavy with audio_heavy_prob: SNR ~ U(heavy_min, heavy_max) */
    double audio_snr_min, audio_snr_max;
    double audio_heavy_prob;
    double audio_heavy_snr_min, audio_heavy_snr_max;
    /* speech: espeak-ng rate (words per minute) and pitch (0-100), uniform integers */
    int rate_min, rate_max;
    int pitch_min, pitch_max;
    double trim_db; /* silence = below peak * 10^(trim_db / 20) */
} DigitsParams;

void digits_params_default(DigitsParams *p);

typedef enum {
    ST_SPLIT,             /* which source images go to train and test     */
    ST_ORDER,             /* the order of samples within a split          */
    ST_IMAGE,             /* image uniforms: DRAW_IMAGE_*                 */
    ST_IMAGE_NOISE,       /* N(0, 1) per pixel                            */
    ST_IMAGE_HEAVY_NOISE, /* N(0, 1) per pixel, heavy corruption          */
    ST_IMAGE_SQUARE,      /* U[0, 1) per pixel of the heavy square        */
    ST_SPEECH,            /* speech uniforms: DRAW_SPEECH_*               */
    ST_AUDIO,             /* audio uniforms: DRAW_AUDIO_*                 */
    ST_AUDIO_NOISE,       /* N(0, 1) per audio sample                     */
    ST_COUNT
} DigitsStream;

enum { DRAW_IMAGE_SIGMA, DRAW_IMAGE_HEAVY, DRAW_IMAGE_HEAVY_SIGMA, DRAW_IMAGE_SQUARE_X, DRAW_IMAGE_SQUARE_Y };
enum { DRAW_SPEECH_VOICE, DRAW_SPEECH_VARIANT, DRAW_SPEECH_RATE, DRAW_SPEECH_PITCH, DRAW_SPEECH_RAND };
enum { DRAW_AUDIO_OFFSET, DRAW_AUDIO_HEAVY, DRAW_AUDIO_SNR };

extern const char *const digits_stream_names[ST_COUNT]; /* "mkdigits/split", ... */

typedef struct {
    uint32_t key[ST_COUNT][2]; /* rng_key(seed, rng_hash(digits_stream_names[s])) */
} DigitsKeys;

void digits_keys(uint64_t seed, DigitsKeys *k);

/* The Philox step of sample i of a split (0 train, 1 test). */
static inline uint64_t digits_step(int split, int64_t i) { return ((uint64_t)split << 32) | (uint64_t)i; }

/* U[0, 1) and N(0, 1) from a stream. */
double digits_uniform(const DigitsKeys *k, DigitsStream s, uint64_t step, uint64_t index);
double digits_normal(const DigitsKeys *k, DigitsStream s, uint64_t step, uint64_t index);
/* A uniform integer in [lo, hi]. */
int64_t digits_uniform_int(const DigitsKeys *k, DigitsStream s, uint64_t step, uint64_t index, int64_t lo, int64_t hi);

#endif
