/* report.h — one run's report: a self-contained HTML page with the study's figures.
 *
 * dir/index.html holds, as inline SVG and data: URIs (no scripts, no
 * external resources; well-formed XML, so `xmllint --noout` parses it):
 *
 *   status    finished, or still training (epoch k of at most N; the page is
 *             rewritten after every epoch, test metrics come at the end)
 *   Run       what the run was: command line, date, mmgc version, data set
 *             and its manifest's hash, parameters, ... (key/value rows)
 *   Train settings  every train setting, the seed among them (key/value rows)
 *   Figure 1  training and validation loss per epoch, and training and
 *             validation accuracy per epoch, the chosen (best) epoch marked
 *             by a dashed line
 *   Table 1   per epoch: losses, accuracies, seconds, training samples/s
 *   Figure 2  the test confusion matrix as a heat map (true class down,
 *             predicted class across, counts in the cells, shade = share of
 *             the true class's samples)
 *   Figure 3  the training samples, each input drawn (images as greyscale
 *             BMP pictures, waveforms as min/max envelopes, and audio as a
 *             player of the waveform as a WAV file) beside its logits
 *             as a bar chart: predicted class filled (green if right, red if
 *             wrong), true class outlined
 *   Figure 4  the same for the test samples
 *   Table 2   test loss, test accuracy, per-class precision, recall, support
 *   Robustness (when given) Table 3: test accuracy by corruption group;
 *             Table 4: test accuracy with one input zeroed or swapped with
 *             another sample's; Table 5: the most confused pairs of classes
 *   Profile   (with --profile) Table 6: the training step's time by .mmg
 *             source line (report_profile.c)
 *   Notes     free text lines
 *
 * NaN and infinite values are skipped in the curves; every string is escaped
 * (and invalid UTF-8 replaced), so any model or class name is safe.
 * Accuracies are fractions in [0, 1] and are shown as percentages.
 *
 * report_write returns 0, or -1 with "DIR: what is wrong" in err (when not
 * NULL), e.g. "runs/gated: best_epoch 31 is out of range (0 to 30)".
 */
#ifndef MMGC_REPORT_H
#define MMGC_REPORT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* One input of a sample, C order:
 *   rank 3 [C, H, W]  an image (pixels scaled from the image's own min..max to black..white)
 *   rank 2 [C, L]     a waveform (drawn as a min/max envelope of about 800 points)
 * Only the first channel is drawn (C is 1 for the study's inputs); H and W are 1 to 1024. */
typedef struct {
    const char *name; /* "image", "audio" */
    int rank;
    int64_t shape[4];
    const float *data;
    int sample_rate;  /* a waveform that is sound: its rate in Hz, and the page gets a player; 0: none */
} ReportView;

typedef struct {
    ReportView views[4];
    int nviews;
    int label;            /* the true class, or -1 if unknown  */
    const float *logits;  /* [nclasses], or NULL                */
} ReportSample;

/* The robustness figures of a test set (runtime/breakdown.h computes them). */
typedef struct {
    const char *name;     /* "clean", "image ruined", ...                */
    int64_t samples;
    double accuracy;      /* NaN without samples                         */
} ReportGroup;
typedef struct {
    const char *input;    /* the model input replaced                    */
    double zeroed, swapped; /* test accuracy with it zeroed / swapped      */
} ReportAblation;
typedef struct {
    int truth, predicted; /* classes, 0 to nclasses - 1                  */
    int64_t count;
} ReportPair;
typedef struct {
    const ReportGroup *groups;      /* [ngroups]; 0 groups: no Table 2 */
    const ReportAblation *ablation; /* [nablation]                     */
    const ReportPair *pairs;        /* [npairs], most confused first   */
    int ngroups, nablation, npairs;
} ReportRobustness;
/* The profile of the training step (runtime/profile.h computes it): one
 * row per .mmg source line, the most time first, then the step's time
 * outside its kernels. Times, FLOPs and bytes are per step. */
typedef struct {
    const char *where;    /* "nn.mmg:13", or "(outside kernels)"         */
    const char *text;     /* the line, trimmed ("" when unknown)          */
    const char *paths;    /* block paths of its nodes, "a, b" ("" if none) */
    const char *kernels;  /* "k0 matmul, k3 matmul" (fusion's numbering)  */
    double ms, share, flops, bytes;
} ReportProfileLine;
typedef struct {
    const ReportProfileLine *lines; /* [nlines]                        */
    int nlines;
    int nkernels;
    uint64_t steps;       /* steps measured                               */
    double step_ms;       /* the measured step: the rows sum to it        */
    int threads;          /* threads the step ran on                      */
    /* the machine's limits on as many threads (support/machine.h), 0 when
     * not measured: each row's rates are shown as shares of them too */
    double peak_gflops, peak_gbytes;
} ReportProfile;
/* A row's rate: value per ms, in units of 1e9 per second (GFLOP/s from
 * FLOPs, GB/s from bytes); NaN for nothing measured. */
static inline double report_rate(double value, double ms) { return ms > 0 && value > 0 ? value / (ms * 1e6) : NAN; }
/* A rate's share of a limit; NaN for no rate or a limit not measured. */
static inline double report_share(double rate, double limit) { return limit > 0 && isfinite(rate) ? rate / limit : NAN; }
/* One row of the Run or Train settings table; a NULL value shows "not recorded". */
typedef struct {
    const char *key, *value;
} ReportItem;

typedef struct {
    const char *model;    /* the page's title                             */
    const char *subtitle; /* a line under it (fusion, settings), or NULL  */
    int nepochs;
    const double *train_loss, *val_loss, *val_accuracy; /* [nepochs] each, or NULL */
    const double *train_accuracy;                       /* [nepochs], or NULL */
    const double *epoch_seconds, *epoch_rate;           /* [nepochs] each (wall time, training samples/s), or NULL */
    int in_progress;      /* 1: still training, no test metrics yet       */
    int max_epochs;       /* the epoch limit (shown while training), 0: none */
    const ReportItem *run, *settings; /* the Run and Train settings tables */
    int nrun, nsettings;
    int best_epoch;       /* 1-based, 0 = none                            */
    int nclasses;
    const char *const *class_names; /* [nclasses], or NULL for "0", "1", ... */
    const int64_t *confusion;       /* [true * nclasses + predicted], test set, or NULL */
    double test_loss, test_accuracy;   /* NaN = not known                */
    const double *precision, *recall;  /* [nclasses] each, or NULL: then computed from confusion */
    ReportSample train_samples[5], test_samples[5];
    int ntrain_samples, ntest_samples;
    const ReportRobustness *robustness; /* or NULL: no Robustness section */
    const ReportProfile *profile;       /* or NULL: no Profile section    */
    const char *const *notes;
    int nnotes;
} ReportData;

/* Creates dir (and its parents) if needed and writes dir/index.html
 * atomically (index.html.tmp, fsync, rename). */
int report_write(const char *dir, const ReportData *r, char *err, size_t errlen);

#endif
