/* study.h — `mmgc FILE.mmg --study`: every run of a study (study_spec.h),
 * each with every seed, trained under the model's protocol, kept, and
 * compared (study_report.h).
 *
 * Each run trains in its own mmgc process (`mmgc FILE --model M --set ...
 * --train`, the command a user would type; study.md lists them) into
 * OUT/runs/NAME/seed-S/: checkpoint.safetensors, metrics.json, log.csv,
 * output.txt, report/. A run is known by its key (run.txt): the model's
 * forward graph fingerprint and train settings, the seed and the data
 * set's manifest. Running the study again skips the runs whose metrics
 * exist, resumes those with only a checkpoint (Ctrl-C loses at most the
 * epoch in progress), and refuses an output folder whose runs have another
 * key, saying what differs, before anything trains. With no_train it
 * only writes the report of the runs finished so far (a long study can be
 * looked at while it runs).
 */
#ifndef MMGC_STUDY_H
#define MMGC_STUDY_H

#include "elaborate.h"

typedef struct {
    const char *file;          /* the .mmg file with the study */
    const char *study;         /* --model NAME: which study, or NULL */
    const char *out_dir;       /* -o DIR, or NULL: out/STUDY */
    const char *data_dir;      /* --data DIR: every run's data set, or NULL */
    const char *const *libdirs; /* -I DIR */
    int nlib;
    const SetOption *sets;     /* --set: applied to every run, after the study's */
    int nsets;
    const char *backend;       /* --backend, or NULL */
    int jobs;                  /* --jobs N: runs at once */
    int no_train;              /* --no-train: report the finished runs, train nothing */
    const char *self;          /* this mmgc executable, for the runs */
} StudyOptions;

/* Plans, runs and reports the study. Returns the exit status: 0, 1 (an
 * error, printed; or a run failed), 2 (bad use), 130 (interrupted). */
int study_main(const StudyOptions *o);

#endif
