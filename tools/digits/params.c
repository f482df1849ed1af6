/* params.c — defaults and random streams; see params.h. */
#include "params.h"

#include "rng.h"

const char *const digits_words[10] = {"zero", "one", "two",   "three", "four",
                                      "five", "six", "seven", "eight", "nine"};

const char *const digits_voices[DIGITS_N_VOICES] = {
    "en-us", "en-gb", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd"};

const char *const digits_variants[DIGITS_N_VARIANTS] = {
    "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "croak", "klatt", "klatt2", "klatt3", "klatt4"};

const char *const digits_stream_names[ST_COUNT] = {
    "mkdigits/split",       "mkdigits/order",  "mkdigits/image",  "mkdigits/image_noise", "mkdigits/image_heavy_noise",
    "mkdigits/image_square", "mkdigits/speech", "mkdigits/audio", "mkdigits/audio_noise"};

void digits_params_default(DigitsParams *p) {
    *p = (DigitsParams){
        .seed = 1,
        .total = 10000,
        .image_sigma_max = 0.3,
        .image_heavy_prob = 0.12,
        .image_heavy_sigma_min = 2.0,
        .image_heavy_sigma_max = 3.0,
        .image_heavy_square = 18,
        .audio_snr_min = 0.0,
        .audio_snr_max = 10.0,
        .audio_heavy_prob = 0.22,
        .audio_heavy_snr_min = -20.0,
        .audio_heavy_snr_max = -12.0,
        .rate_min = 120,
        .rate_max = 220,
        .pitch_min = 20,
        .pitch_max = 80,
        .trim_db = -40.0,
    };
}

void digits_keys(uint64_t seed, DigitsKeys *k) {
    for (int s = 0; s < ST_COUNT; s++) rng_key(seed, rng_hash(digits_stream_names[s]), k->key[s]);
}

double digits_uniform(const DigitsKeys *k, DigitsStream s, uint64_t step, uint64_t index) {
    return rng_uniform_key(k->key[s], step, index);
}

double digits_normal(const DigitsKeys *k, DigitsStream s, uint64_t step, uint64_t index) {
    return rng_normal_key(k->key[s], step, index);
}

int64_t digits_uniform_int(const DigitsKeys *k, DigitsStream s, uint64_t step, uint64_t index, int64_t lo, int64_t hi) {
    int64_t v = lo + (int64_t)(digits_uniform(k, s, step, index) * (double)(hi - lo + 1));
    return v > hi ? hi : v;
}
