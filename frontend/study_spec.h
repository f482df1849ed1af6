/* study_spec.h — a `study NAME { ... }` section read into the runs it asks
 * for (mmgc FILE --study trains them: runtime/study.c).
 *
 *   study fusion_study {
 *       baselines: [image_conv2net, audio_conv1net],  // models trained as they are
 *       model: multimodal,                            // the model whose bindings vary
 *       vary: { fusion: [concat, add, gated] },       // one run per value (per combination)
 *       variants: { dropout: { drop_modality: 0.3, fusion: [concat, gated] } },
 *       seeds: 3,                                     // seeds 0, 1, 2; or a list [1, 5]
 *       data: "data/digits",                          // optional: every run's data set
 *       reference: { concat: { test_loss: 0.278, test_accuracy: 0.945 } },
 *       contrastive_table: true,                      // also the contrastive losses' table
 *   }
 *
 * A variant trains the varied model again with more bindings set; a key of
 * `vary` in it (with a list) narrows that key's values for the variant.
 * Values are names, numbers, strings or true/false, passed to the model as
 * `--set KEY=VALUE` would be.
 */
#ifndef MMGC_STUDY_SPEC_H
#define MMGC_STUDY_SPEC_H

#include "program.h"

typedef struct {
    char *name;       /* unique in the study: "gated", "gated+dropout", "image_conv2net" */
    const char *model; /* the model section it elaborates */
    char **sets;      /* "fusion=gated", ... (nsets) */
    int nsets;
    int baseline;     /* a model of `baselines` */
    Loc loc;          /* where the study names it */
} StudyRun;

typedef struct {
    const char *method; /* a run's name */
    double test_loss, test_accuracy;
} StudyReference;

typedef struct {
    const char *name;
    Loc loc;
    StudyRun *runs;
    int nruns;
    long long *seeds;
    int nseeds;
    const char *data;  /* NULL: each model's own */
    StudyReference *refs;
    int nrefs;
    int contrastive_table;
} StudySpec;

/* Reads the study `name` (NULL: the main file's only one) of a loaded
 * program. 0, or -1 with errors in p->diag (each at its place in the
 * file: an unknown key or model, a value of the wrong kind, no runs). */
int study_spec_read(Program *p, const char *name, StudySpec *out);
void study_spec_free(StudySpec *s);

#endif
