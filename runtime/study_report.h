/* study_report.h — what a study's runs measured, compared: study.md,
 * results.csv, results.json and index.html in the study's folder (see
 * study.h for how the runs are made). */
#ifndef MMGC_STUDY_REPORT_H
#define MMGC_STUDY_REPORT_H

#include <stdio.h>

#include "study_spec.h"

/* One (run, seed). */
typedef struct {
    const char *name;   /* the run (a method of Table 1) */
    int baseline;
    long long seed;
    const char *dir;    /* its folder: metrics.json, report/index.html */
    long long params;
    double seconds;     /* its training process's wall time */
    char **argv;        /* the command that trains it, NULL-ended */
} StudyEntry;

/* The accuracy groups of robustness (metrics.json "robustness"). */
enum { STUDY_CLEAN, STUDY_IMAGE_RUINED, STUDY_AUDIO_RUINED, STUDY_BOTH_RUINED, STUDY_NGROUPS };

/* What a run's metrics.json says; absent figures are NaN. */
typedef struct {
    double test_accuracy, test_loss;
    int epochs, best_epoch;
    double group[STUDY_NGROUPS]; /* accuracy by corruption group */
    int nablation;
    char **ablation_keys;        /* "image_zeroed", "audio_swapped", ... */
    double *ablation;            /* their accuracies */
    int diverged;                /* training stopped on a non-finite loss */
} StudyResult;

/* Reads a run's metrics.json. 0, or -1 with a message (err may be NULL). */
int study_result_read(const char *path, StudyResult *r, char *err, size_t errlen);
void study_result_free(StudyResult *r);

/* Reads every entry's metrics and writes the study's files into out; the
 * tables also go to print (NULL: nowhere). 0, or -1 with a message. */
int study_report_write(const char *out, const StudySpec *spec, const StudyEntry *e, int n, FILE *print, char *err,
                       size_t errlen);

#endif
