/* corrupt.c — see corrupt.h. */
#include "corrupt.h"

#include <math.h>
#include <string.h>

static double lerp(double lo, double hi, double u) { return lo + (hi - lo) * u; }

int corrupt_image(const DigitsParams *p, const DigitsKeys *k, uint64_t step, float *x /* [28 * 28] */) {
    double y[DIGITS_PIXELS];
    double sigma = lerp(0.0, p->image_sigma_max, digits_uniform(k, ST_IMAGE, step, DRAW_IMAGE_SIGMA));
    int heavy = digits_uniform(k, ST_IMAGE, step, DRAW_IMAGE_HEAVY) < p->image_heavy_prob;
    for (int i = 0; i < DIGITS_PIXELS; i++) y[i] = x[i] + sigma * digits_normal(k, ST_IMAGE_NOISE, step, (uint64_t)i);
    if (heavy) {
        double h = lerp(p->image_heavy_sigma_min, p->image_heavy_sigma_max,
                        digits_uniform(k, ST_IMAGE, step, DRAW_IMAGE_HEAVY_SIGMA));
        for (int i = 0; i < DIGITS_PIXELS; i++) y[i] += h * digits_normal(k, ST_IMAGE_HEAVY_NOISE, step, (uint64_t)i);
        int side = p->image_heavy_square;
        int r0 = (int)digits_uniform_int(k, ST_IMAGE, step, DRAW_IMAGE_SQUARE_Y, 0, DIGITS_SIDE - side);
        int c0 = (int)digits_uniform_int(k, ST_IMAGE, step, DRAW_IMAGE_SQUARE_X, 0, DIGITS_SIDE - side);
        for (int r = r0; r < r0 + side; r++)
            for (int c = c0; c < c0 + side; c++)
                y[r * DIGITS_SIDE + c] = digits_uniform(k, ST_IMAGE_SQUARE, step, (uint64_t)(r * DIGITS_SIDE + c));
    }
    for (int i = 0; i < DIGITS_PIXELS; i++) x[i] = (float)(y[i] < 0 ? 0 : y[i] > 1 ? 1 : y[i]);
    return heavy;
}

int corrupt_audio(const DigitsParams *p, const DigitsKeys *k, uint64_t step, const float *word, int len,
                  float *out /* [8000] */, double *snr_db, int *offset) {
    double y[DIGITS_WINDOW], peak = 0, power = 0;
    for (int i = 0; i < len; i++) peak = fabs(word[i]) > peak ? fabs(word[i]) : peak;
    int o = (int)digits_uniform_int(k, ST_AUDIO, step, DRAW_AUDIO_OFFSET, 0, DIGITS_WINDOW - len);
    memset(y, 0, sizeof y);
    for (int i = 0; i < len; i++) {
        y[o + i] = peak > 0 ? word[i] / peak : 0;
        power += y[o + i] * y[o + i];
    }
    power /= len;
    int heavy = digits_uniform(k, ST_AUDIO, step, DRAW_AUDIO_HEAVY) < p->audio_heavy_prob;
    double u = digits_uniform(k, ST_AUDIO, step, DRAW_AUDIO_SNR);
    double snr = heavy ? lerp(p->audio_heavy_snr_min, p->audio_heavy_snr_max, u) : lerp(p->audio_snr_min, p->audio_snr_max, u);
    double sd = sqrt(power / pow(10.0, snr / 10.0));
    double top = 0;
    for (int t = 0; t < DIGITS_WINDOW; t++) {
        y[t] += sd * digits_normal(k, ST_AUDIO_NOISE, step, (uint64_t)t);
        top = fabs(y[t]) > top ? fabs(y[t]) : top;
    }
    for (int t = 0; t < DIGITS_WINDOW; t++) out[t] = (float)(top > 0 ? y[t] / top : 0);
    *snr_db = snr;
    *offset = o;
    return heavy;
}
