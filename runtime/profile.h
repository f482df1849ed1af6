/* profile.h — the training step's time by .mmg source line (--profile).
 *
 * A profiled engine (engine_open_profiled) times each kernel of the step
 * and the step call around them. profile_build turns those times into rows
 * that speak .mmg: each kernel is attributed to one source line, and a
 * line's row sums its kernels' time, FLOPs and bytes.
 *
 * The rule: a kernel goes to the line of its most expensive node (the
 * most FLOPs, ir_node_flops; on ties the first in the kernel). A fused
 * loop's members mostly come from one expression, and a kernel is timed
 * as a whole, so splitting its time by estimates would only look precise.
 * A node with no line of its own (the optimizer's step counter and bias
 * corrections) takes the line of a node that reads it which has one (else
 * of one of its inputs; else the loss's), so every kernel
 * lands on a line of the source. Backward nodes carry the line of the
 * forward node they differentiate (passes/autodiff.c), so a line's row
 * holds its forward and backward work; optimizer updates go to the line
 * of the parameter's declaration.
 *
 * Per kernel: FLOPs = sum of ir_node_flops of its nodes; bytes = the sizes
 * of the buffers it reads and writes (the kept values among its nodes and
 * their inputs, each once: what the generated kernel takes as pointers;
 * none for a view, a reshape that copies nothing).
 * The "(outside kernels)" row is the measured step time minus the kernels'
 * (the step's own loads, branches and timing marks), so the rows sum to
 * the measured step time.
 *
 * A row's block paths are the block instances ("multimodal.fusion") whose
 * calls made the forward nodes on its line, as the elaborator recorded
 * them (Elaborated.block); a line of a library block lists every
 * instance that ran it, the model's own lines the model's name.
 */
#ifndef MMGC_PROFILE_H
#define MMGC_PROFILE_H

#include <stddef.h>
#include <stdio.h>

#include "engine.h"
#include "report.h"

typedef struct {
    int line;          /* its row in rep.lines           */
    char name[64];     /* "k3 matmul", "k2 loop"         */
    double ms, flops, bytes; /* per step             */
} ProfileKernel;

typedef struct Profile {
    ReportProfile rep;      /* the rows (rep.lines points into lines) */
    ReportProfileLine *lines;
    ProfileKernel *kernel;  /* [rep.nkernels], in the order the step runs them */
    char **files;           /* [nlines]: each row's file as the graph names it (NULL: none) */
    int *lineno;            /* [nlines]: each row's line number (0: none) */
} Profile;

/* The rows of what the profiled engine measured for step graph g, whose
 * nodes 0..nforward-1 are the forward graph's, made in the block instances
 * block[] names (Elaborated.block: NULL entries, or a NULL block, are the
 * model's own). 0, or -1 with a message (no step was measured). Free with
 * profile_free. */
int profile_build(const Graph *g, const EngineProfile *ep, const char *const *block, int nforward, Profile *p, char *err,
                  size_t errlen);
void profile_free(Profile *p);
/* Measures the machine's FMA peak and memory bandwidth on the step's
 * threads (support/machine.h: about `seconds`, in a child process whose
 * buffers do not count in this one's peak memory), so that the table, the
 * JSON and the report show each row's rates as shares of them. */
void profile_measure_limits(Profile *p, double seconds);
/* What --profile spends measuring them, after the steps. */
#define PROFILE_LIMIT_SECONDS 0.5

/* The table: a header line (and the limits, if measured), one row per
 * source line (ms/step, share, FLOPs and bytes per step, GFLOP/s and its
 * share of the FMA peak, GB/s and its share of the memory bandwidth (the
 * shares if measured), where, text, block paths, kernels), the total. */
void profile_print(const Profile *p, FILE *out);
/* The profile as a JSON object: "steps", "step_ms", "kernels", "threads",
 * "limits" (null if not measured), "rule" and "lines" (each row with its
 * "kernels"). */
void profile_json(const Profile *p, FILE *f);
/* profile_json into path (atomically, out_file_write); 0 or -1 with a message. */
int profile_write_json(const Profile *p, const char *path, char *err, size_t errlen);

#endif
