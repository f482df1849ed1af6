/* manifest.c — see manifest.h. */
#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_util.h"

#define GENERATOR "mkdigits 1"

static void str(FILE *f, const char *s) {
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void ints(FILE *f, const int64_t *v, int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) fprintf(f, "%s%lld", i ? ", " : "", (long long)v[i]);
    fputc(']', f);
}

static void strs(FILE *f, const char *const *v, int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        str(f, *v[i] ? v[i] : "none");
    }
    fputc(']', f);
}

/* A real for a parameter: the shortest of %.15g, so 0.3 stays 0.3. */
static void real(FILE *f, double x) { fprintf(f, "%.15g", x); }

static void split_stats(FILE *f, const Manifest *m, int split) {
    int64_t lo = split ? m->split->n_train : 0, n = split ? m->split->n_test : m->split->n_train;
    int64_t per[10] = {0}, voices[DIGITS_N_VOICES] = {0}, variants[DIGITS_N_VARIANTS] = {0};
    int64_t img = 0, aud = 0, both = 0, cut = 0;
    double snr = 0, snr_light = 0, snr_heavy = 0, secs = 0, secs_max = 0;
    for (int64_t k = lo; k < lo + n; k++) {
        const SampleInfo *s = &m->info[k];
        int ih = (int)m->meta[2 * k], ah = (int)m->meta[2 * k + 1];
        per[m->digit[k]]++;
        voices[s->voice]++;
        variants[s->variant]++;
        img += ih, aud += ah, both += ih && ah;
        snr += s->snr_db;
        if (ah) snr_heavy += s->snr_db;
        else snr_light += s->snr_db;
        double sec = (double)s->word_len / DIGITS_RATE;
        secs += sec;
        secs_max = sec > secs_max ? sec : secs_max;
        cut += s->word_len > DIGITS_WINDOW;
    }
    double dn = n ? (double)n : 1;
    fprintf(f, "    \"%s\": {\n      \"samples\": %lld,\n      \"per_digit\": ", split ? "test" : "train", (long long)n);
    ints(f, per, 10);
    fprintf(f, ",\n      \"image_heavy_fraction\": %.6g,\n      \"audio_heavy_fraction\": %.6g,\n", img / dn, aud / dn);
    fprintf(f, "      \"both_heavy_fraction\": %.6g,\n", both / dn);
    fprintf(f, "      \"snr_db_mean\": %.6g,\n      \"snr_db_mean_light\": %.6g,\n      \"snr_db_mean_heavy\": %.6g,\n",
            snr / dn, n - aud ? snr_light / (double)(n - aud) : 0, aud ? snr_heavy / (double)aud : 0);
    fprintf(f, "      \"word_seconds_mean\": %.6g,\n      \"word_seconds_max\": %.6g,\n      \"words_cut_to_1s\": %lld,\n",
            secs / dn, secs_max, (long long)cut);
    fputs("      \"voices\": ", f);
    ints(f, voices, DIGITS_N_VOICES);
    fputs(",\n      \"variants\": ", f);
    ints(f, variants, DIGITS_N_VARIANTS);
    fprintf(f, "\n    }%s\n", split ? "" : ",");
}

/* Why the split is not balanced, if it is not. */
static void split_note(FILE *f, const Manifest *m) {
    const SplitPlan *s = m->split;
    char note[1024] = "";
    size_t at = 0;
    if (s->balanced) {
        fputs("null", f);
        return;
    }
    at += (size_t)snprintf(note + at, sizeof note - at, "the source has too few images of digit");
    int64_t want = (s->n_train + s->n_test + 9) / 10;
    for (int d = 0, first = 1; d < 10; d++)
        if (m->mnist->count[d] < want && at < sizeof note) {
            at += (size_t)snprintf(note + at, sizeof note - at, "%s %d (%lld)", first ? "" : ",", d,
                                   (long long)m->mnist->count[d]);
            first = 0;
        }
    if (at < sizeof note)
        snprintf(note + at, sizeof note - at,
                 " for %lld of each: the test set takes as even a share of every digit as it can, and the train set "
                 "the images left, so its digit counts differ (train_per_digit)",
                 (long long)want);
    str(f, note);
}

static void body(FILE *f, const Manifest *m) {
    const DigitsParams *p = m->params;
    const SplitPlan *s = m->split;
    fprintf(f, "{\n  \"name\": \"digits\",\n");
    fprintf(f, "  \"description\": \"written digits (MNIST, 28x28) paired with the spoken word for the digit "
               "(espeak-ng, 1 s at 8 kHz), each modality corrupted independently\",\n");
    fprintf(f, "  \"generator\": \"%s\",\n  \"seed\": %llu,\n", GENERATOR, (unsigned long long)p->seed);
    fprintf(f, "  \"samples\": {\"train\": %lld, \"test\": %lld},\n", (long long)s->n_train, (long long)s->n_test);
    fputs("  \"files\": {\n", f);
    for (int i = 0; i < m->n_files; i++) {
        const ManifestFile *o = &m->files[i];
        fprintf(f, "    \"%s\": {\"dtype\": \"%s\", \"shape\": ", o->name, o->dtype);
        ints(f, o->shape, o->rank);
        fprintf(f, ", \"sha256\": \"%s\"}%s\n", o->sha256, i + 1 < m->n_files ? "," : "");
    }
    fputs("  },\n", f);
    fputs("  \"meta_columns\": [\"image_heavy\", \"audio_heavy\"],\n", f);
    fputs("  \"meta_doc\": \"meta_{train,test}.npy, int64 [N, 2]: column 0 is 1 if the image got the heavy "
          "corruption, column 1 is 1 if the audio did\",\n", f);

    fputs("  \"source\": {\n    \"package\": ", f);
    str(f, m->source_name);
    fputs(",\n    \"tarball_sha1\": ", f);
    str(f, m->source_sha1);
    fputs(",\n    \"images_per_digit\": ", f);
    ints(f, m->mnist->count, 10);
    fputs(",\n    \"json_sha256\": [", f);
    for (int d = 0; d < 10; d++) fprintf(f, "%s\"%s\"", d ? ", " : "", m->mnist->sha256[d]);
    fputs("]\n  },\n", f);

    fputs("  \"split\": {\n    \"test_fraction\": \"total / 5\",\n    \"train_per_digit\": ", f);
    ints(f, s->train_per, 10);
    fputs(",\n    \"test_per_digit\": ", f);
    ints(f, s->test_per, 10);
    fprintf(f, ",\n    \"balanced\": %s,\n    \"note\": ", s->balanced ? "true" : "false");
    split_note(f, m);
    fputs(",\n    \"method\": \"test set first, then train set, each spread as evenly over the digits as the "
          "source allows (leftover samples to the lowest digits); images of a digit taken in random order; each "
          "split shuffled\"\n  },\n", f);

    fputs("  \"image\": {\n    \"shape\": [1, 28, 28],\n    \"range\": [0, 1],\n", f);
    fputs("    \"sigma_max\": ", f), real(f, p->image_sigma_max);
    fputs(",\n    \"heavy_prob\": ", f), real(f, p->image_heavy_prob);
    fputs(",\n    \"heavy_sigma_min\": ", f), real(f, p->image_heavy_sigma_min);
    fputs(",\n    \"heavy_sigma_max\": ", f), real(f, p->image_heavy_sigma_max);
    fprintf(f, ",\n    \"heavy_square\": %d,\n", p->image_heavy_square);
    fputs("    \"recipe\": \"x + s*N(0,1), s ~ U(0, sigma_max); heavy: + h*N(0,1), h ~ U(heavy_sigma_min, "
          "heavy_sigma_max), then a heavy_square x heavy_square square at a uniform place set to U[0,1); "
          "clip to [0, 1]\"\n  },\n", f);

    fprintf(f, "  \"audio\": {\n    \"shape\": [1, %d],\n    \"sample_rate\": %d,\n    \"range\": [-1, 1],\n",
            DIGITS_WINDOW, DIGITS_RATE);
    fputs("    \"words\": ", f);
    strs(f, digits_words, 10);
    fprintf(f, ",\n    \"espeak_ng\": {\n      \"version\": \"%s\",\n      \"sample_rate\": %d,\n",
            m->speech->espeak_version, m->speech->espeak_rate);
    fputs("      \"mode\": \"AUDIO_OUTPUT_SYNCHRONOUS, each word spoken by a process forked from a freshly "
          "initialized engine, rand() seeded per sample\",\n      \"voices\": {", f);
    for (int v = 0; v < DIGITS_N_VOICES; v++) {
        fprintf(f, "%s\"%s\": ", v ? ", " : "", digits_voices[v]);
        str(f, m->speech->voice_id[v]);
    }
    fputs("},\n      \"variants\": ", f);
    strs(f, digits_variants, DIGITS_N_VARIANTS);
    fprintf(f, ",\n      \"rate_min\": %d,\n      \"rate_max\": %d,\n      \"pitch_min\": %d,\n      \"pitch_max\": %d\n    },\n",
            p->rate_min, p->rate_max, p->pitch_min, p->pitch_max);
    fprintf(f, "    \"soxr\": {\"version\": \"%s\", \"call\": \"soxr_oneshot\", \"quality\": \"SOXR_HQ\", "
               "\"io\": \"int16 in, float32 out\"},\n", m->speech->soxr_version);
    fputs("    \"trim_db\": ", f), real(f, p->trim_db);
    fputs(",\n    \"snr_db_min\": ", f), real(f, p->audio_snr_min);
    fputs(",\n    \"snr_db_max\": ", f), real(f, p->audio_snr_max);
    fputs(",\n    \"heavy_prob\": ", f), real(f, p->audio_heavy_prob);
    fputs(",\n    \"heavy_snr_db_min\": ", f), real(f, p->audio_heavy_snr_min);
    fputs(",\n    \"heavy_snr_db_max\": ", f), real(f, p->audio_heavy_snr_max);
    fputs(",\n    \"recipe\": \"speak at 22050 Hz, resample to 8 kHz, trim samples below peak * 10^(trim_db/20) at "
          "both ends, keep the first second, scale to peak 1, place at a uniform offset in a 1 s window of zeros; "
          "add white noise at SNR ~ U(snr_db_min, snr_db_max) dB, heavy: U(heavy_snr_db_min, heavy_snr_db_max) dB, "
          "relative to the power of the word (not the window); scale to peak 1\"\n  },\n", f);

    fputs("  \"rng\": {\n    \"generator\": \"Philox4x32-10 (runtime/rng.h)\",\n", f);
    fputs("    \"key\": \"rng_key(seed, rng_hash(stream))\",\n", f);
    fputs("    \"step\": \"split << 32 | index in split (split 0 train, 1 test)\",\n    \"streams\": ", f);
    strs(f, digits_stream_names, ST_COUNT);
    fputs("\n  },\n  \"stats\": {\n", f);
    split_stats(f, m, 0);
    split_stats(f, m, 1);
    fputs("  }\n}\n", f);
}

int manifest_write(const char *path, const Manifest *m, char *err, size_t errlen) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return io_fail(err, errlen, "%s: %s", path, strerror(errno));
    body(f, m);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(text);
        return io_fail(err, errlen, "%s: out of memory", path);
    }
    int rc = io_write_atomic(path, path, &(IoPart){text, len}, 1, err, errlen);
    free(text);
    return rc;
}
