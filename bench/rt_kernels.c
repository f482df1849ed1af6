/* rt_kernels.c — every contraction, pooling and dropout mask of a Conv2Net
 * and a Conv1Net training step at batch 64: the reference interpreter's
 * kernel against the LLVM backend's runtime helper (backend/llvm/rt.h),
 * in milliseconds per call (median), with the normwise relative difference.
 *
 *   rt_kernels [--reps N] [--threads N] [--only SUBSTRING] [--cpu] [--rt-only]
 *              [--tap-runs | --no-tap-runs] [--scatter | --no-scatter]
 *
 * --tap-runs / --no-tap-runs: the shifted products' blocks of consecutive
 * taps (rt_shift_runs.c) on any AVX-512 core / never, rather than on
 * Intel's only, to weigh the two on a machine. --scatter / --no-scatter:
 * Conv2Net's second input gradient in one pass (rt_conv_scatter.c) on
 * any AVX-512 core / never (im2col and OpenBLAS), rather than where the
 * two make the same sums.
 *
 * Built with the project, not run by the tests.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interp.h"
#include "ir.h"
#include "rng.h"
#include "rt.h"
#include "blas.h"
#include "rt_conv.h"
#include "rt_desc.h"
#include "rt_shift.h"
#include "rt_thread.h"

/* One benchmark case: a node of op with inputs of the given types. */
typedef struct {
    const char *name;
    Op op;
    int nin;
    TType in[2];
    int64_t attr[4];
    int nattr;
    TType given; /* the result type, where the op needs it (rank 0: none) */
    double value;
} Case;

#define F32(...) {DT_F32, {sizeof((int64_t[]){__VA_ARGS__}) / 8, {__VA_ARGS__}}}
#define I64(...) {DT_I64, {sizeof((int64_t[]){__VA_ARGS__}) / 8, {__VA_ARGS__}}}
#define NOGIVEN {DT_F32, {0, {0}}}

static const Case cases[] = {
    /* ---- Conv2Net ---- */
    {"c2 conv2d 1->32 k3 [64,1,28,28]", OP_CONV2D, 2, {F32(64, 1, 28, 28), F32(32, 1, 3, 3)}, {1, 1, 0, 0}, 4, NOGIVEN, 0},
    {"c2 conv2d 32->64 k3 [64,32,13,13]", OP_CONV2D, 2, {F32(64, 32, 13, 13), F32(64, 32, 3, 3)}, {1, 1, 0, 0}, 4, NOGIVEN, 0},
    {"c2 conv2d_grad_input 64->32", OP_CONV2D_GRAD_INPUT, 2, {F32(64, 64, 11, 11), F32(64, 32, 3, 3)}, {1, 1, 0, 0}, 4, F32(64, 32, 13, 13), 0},
    {"c2 conv2d_grad_weight 32->64", OP_CONV2D_GRAD_WEIGHT, 2, {F32(64, 32, 13, 13), F32(64, 64, 11, 11)}, {1, 1, 0, 0}, 4, F32(64, 32, 3, 3), 0},
    {"c2 conv2d_grad_weight 1->32", OP_CONV2D_GRAD_WEIGHT, 2, {F32(64, 1, 28, 28), F32(64, 32, 26, 26)}, {1, 1, 0, 0}, 4, F32(32, 1, 3, 3), 0},
    {"c2 max_pool2d [64,32,26,26]", OP_MAX_POOL2D, 1, {F32(64, 32, 26, 26)}, {2, 2, 2, 2}, 4, NOGIVEN, 0},
    {"c2 max_pool2d [64,64,11,11]", OP_MAX_POOL2D, 1, {F32(64, 64, 11, 11)}, {2, 2, 2, 2}, 4, NOGIVEN, 0},
    {"c2 max_pool2d_grad [64,32,26,26]", OP_MAX_POOL2D_GRAD, 2, {F32(64, 32, 26, 26), F32(64, 32, 13, 13)}, {2, 2, 2, 2}, 4, NOGIVEN, 0},
    {"c2 max_pool2d_grad [64,64,11,11]", OP_MAX_POOL2D_GRAD, 2, {F32(64, 64, 11, 11), F32(64, 64, 5, 5)}, {2, 2, 2, 2}, 4, NOGIVEN, 0},
    {"c2 matmul [64,1600]@[1600,128]", OP_MATMUL, 2, {F32(64, 1600), F32(1600, 128)}, {0, 0}, 2, NOGIVEN, 0},
    {"c2 matmul [64,128]@[1600,128]^T", OP_MATMUL, 2, {F32(64, 128), F32(1600, 128)}, {0, 1}, 2, NOGIVEN, 0},
    {"c2 matmul [64,1600]^T@[64,128]", OP_MATMUL, 2, {F32(64, 1600), F32(64, 128)}, {1, 0}, 2, NOGIVEN, 0},
    {"c2 matmul [64,128]@[128,10]", OP_MATMUL, 2, {F32(64, 128), F32(128, 10)}, {0, 0}, 2, NOGIVEN, 0},
    {"c2 matmul [64,10]@[128,10]^T", OP_MATMUL, 2, {F32(64, 10), F32(128, 10)}, {0, 1}, 2, NOGIVEN, 0},
    {"c2 matmul [64,128]^T@[64,10]", OP_MATMUL, 2, {F32(64, 128), F32(64, 10)}, {1, 0}, 2, NOGIVEN, 0},
    {"c2 dropout_mask [64,1600]", OP_DROPOUT_MASK, 0, {NOGIVEN}, {0}, 1, F32(64, 1600), 0.5},
    {"c2 gather [64,10]", OP_GATHER, 2, {F32(64, 10), I64(64)}, {0}, 0, NOGIVEN, 0},
    {"c2 scatter [64]->[64,10]", OP_SCATTER, 2, {F32(64), I64(64)}, {0}, 0, F32(64, 10), 0},
    /* ---- Conv1Net ---- */
    {"c1 conv1d 1->32 k100 s4 [64,1,8000]", OP_CONV1D, 2, {F32(64, 1, 8000), F32(32, 1, 100)}, {4, 48, 48}, 3, NOGIVEN, 0},
    {"c1 conv1d 32->64 k25 s4 [64,32,2000]", OP_CONV1D, 2, {F32(64, 32, 2000), F32(64, 32, 25)}, {4, 11, 11}, 3, NOGIVEN, 0},
    {"c1 conv1d_grad_input 64->32", OP_CONV1D_GRAD_INPUT, 2, {F32(64, 64, 500), F32(64, 32, 25)}, {4, 11, 11}, 3, F32(64, 32, 2000), 0},
    {"c1 conv1d_grad_weight 32->64", OP_CONV1D_GRAD_WEIGHT, 2, {F32(64, 32, 2000), F32(64, 64, 500)}, {4, 11, 11}, 3, F32(64, 32, 25), 0},
    {"c1 conv1d_grad_weight 1->32", OP_CONV1D_GRAD_WEIGHT, 2, {F32(64, 1, 8000), F32(64, 32, 2000)}, {4, 48, 48}, 3, F32(32, 1, 100), 0},
    {"c1 matmul [64,32000]@[32000,128]", OP_MATMUL, 2, {F32(64, 32000), F32(32000, 128)}, {0, 0}, 2, NOGIVEN, 0},
    {"c1 matmul [64,128]@[32000,128]^T", OP_MATMUL, 2, {F32(64, 128), F32(32000, 128)}, {0, 1}, 2, NOGIVEN, 0},
    {"c1 matmul [64,32000]^T@[64,128]", OP_MATMUL, 2, {F32(64, 32000), F32(64, 128)}, {1, 0}, 2, NOGIVEN, 0},
    {"c1 dropout_mask [64,32000]", OP_DROPOUT_MASK, 0, {NOGIVEN}, {0}, 1, F32(64, 32000), 0.5},
    /* ---- multimodal attention fusion ---- */
    {"att matmul [64,1,128]@[128,128]", OP_MATMUL, 2, {F32(64, 1, 128), F32(128, 128)}, {0, 0}, 2, NOGIVEN, 0},
    {"att matmul [64,4,1,32]@[64,4,32,1]", OP_MATMUL, 2, {F32(64, 4, 1, 32), F32(64, 4, 32, 1)}, {0, 0}, 2, NOGIVEN, 0},
    {"att matmul [64,1,128]^T@[64,1,128]", OP_MATMUL, 2, {F32(64, 1, 128), F32(64, 1, 128)}, {1, 0}, 2, NOGIVEN, 0},
};

/* Wall time, or with --cpu the process's CPU time (steadier on a loaded
 * machine; with --threads 1 it is the helper's work). */
static clockid_t clock_id = CLOCK_MONOTONIC;

/* --rt-only: run the interpreter once (for the difference), time the helper
 * alone (for a profile of the helpers). */
static int rt_only;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(clock_id, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The graph of one case: its inputs, then the node (the last id). */
static Graph *case_graph(const Case *c) {
    Graph *g = ir_graph_new("bench");
    int in[2];
    char err[256];
    for (int k = 0; k < c->nin; k++)
        in[k] = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &c->in[k], (Loc){0, 0, 0}, err,
                         sizeof err);
    int id = ir_build(g, c->op, in, c->nin, c->attr, c->nattr, c->value,
                      c->given.shape.rank ? &c->given : NULL, (Loc){0, 0, 0}, err, sizeof err);
    if (id < 0) {
        fprintf(stderr, "rt_kernels: %s: %s\n", c->name, err);
        exit(1);
    }
    return g;
}

/* Fills the inputs with U[-1, 1) (indices: row i mod C). */
static void fill_inputs(Interp *in, const Graph *g) {
    for (int id = 0; id < g->nnodes - 1; id++) {
        int64_t n = ir_numel(&g->nodes[id].type.shape);
        if (g->nodes[id].type.dtype == DT_I64) {
            for (int64_t i = 0; i < n; i++) interp_i64(in, id)[i] = i % 10;
            continue;
        }
        float *x = interp_f32(in, id);
        for (int64_t i = 0; i < n; i++) x[i] = 2 * rng_uniform(7, (uint64_t)id, 0, (uint64_t)i) - 1;
    }
}

/* OpenBLAS's threads when the program starts (the interpreter's). */
static int interp_blas_threads;

/* Runs the interpreter (which = 0, OpenBLAS with its own threads) or the
 * helper (which = 1) once; returns the milliseconds. */
static double time_one(int which, Interp *in, const RtDesc *d, void *out, void *const *bufs,
                       float *scratch) {
    RtRandom rnd = {1, 0, 1};
    char err[256];
    blas_set_threads(which == 0 ? interp_blas_threads : 1);
    double t0 = now_ms();
    if (which == 0 && interp_run(in, 1, 1, 0, err, sizeof err)) {
        fprintf(stderr, "rt_kernels: %s\n", err);
        exit(1);
    }
    if (which == 1 && mmgc_rt_call(d, out, bufs, scratch, &rnd)) {
        fprintf(stderr, "rt_kernels: helper failed\n");
        exit(1);
    }
    return now_ms() - t0;
}

/* Median and least milliseconds of reps runs of the interpreter (med[0],
 * med[2]) and of the helper (med[1], med[3]). The interpreter's runs come
 * first, then a pause: OpenBLAS's own threads spin for a while after a
 * call (sched_yield), and would take the second core from the helper's
 * threads (interleaving the two made the helpers look no faster on two
 * threads than on one). */
static void time_runs(int reps, Interp *in, const RtDesc *d, void *out, void *const *bufs,
                      float *scratch, double med[4]) {
    double t[2][64];
    if (reps > 64) reps = 64;
    for (int which = 0; which < 2; which++) {
        if (which == 1) nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
        for (int r = -1; r < reps; r++) { /* r = -1: warm-up (and the interpreter's result) */
            if (which == 0 && r >= 0 && rt_only) break;
            double ms = time_one(which, in, d, out, bufs, scratch);
            if (r >= 0) t[which][r] = ms;
        }
    }
    for (int which = rt_only; which < 2; which++) {
        qsort(t[which], (size_t)reps, sizeof(double), cmp_double);
        med[which] = t[which][reps / 2];
        med[2 + which] = t[which][0];
    }
}

/* ||a - b|| / ||b||. */
static double rel_diff(const float *a, const float *b, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d, den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Times one case; adds the two times to the totals. */
static void run_case(const Case *c, int reps, double *tot_i, double *tot_r) {
    Graph *g = case_graph(c);
    char err[256];
    Interp *in = interp_new(g, err, sizeof err);
    if (!in) {
        fprintf(stderr, "rt_kernels: %s\n", err);
        exit(1);
    }
    fill_inputs(in, g);
    int id = g->nnodes - 1;
    RtDesc d;
    rt_desc_of(g, id, &d);
    int64_t n = ir_numel(&g->nodes[id].type.shape), ns = rt_scratch_floats(&d);
    float *out = malloc((size_t)n * sizeof *out), *scratch = malloc((size_t)(ns ? ns : 1) * 4);
    void *bufs[2] = {NULL, NULL};
    for (int k = 0; k < c->nin; k++)
        bufs[k] = g->nodes[k].type.dtype == DT_I64 ? (void *)interp_i64(in, k)
                                                    : (void *)interp_f32(in, k);
    double med[4];
    time_runs(reps, in, &d, out, bufs, scratch, med);
    double ti = med[0], tr = med[1];
    double diff = rel_diff(out, interp_f32(in, id), n);
    printf("%-40s %10.3f %10.3f %7.2fx %10.3f %10.3f %10.2g %8.1f MB\n", c->name, ti, tr, ti / tr,
           med[2], med[3], diff, (double)ns * 4 / 1e6);
    *tot_i += ti, *tot_r += tr;
    free(out);
    free(scratch);
    interp_free(in);
    ir_graph_free(g);
}

/* Whether the shifted products take the blocks of consecutive taps. */
static int tap_runs_taken(void) {
    Shift s = {.R = 64, .P = 500, .T = 7};
    for (int64_t t = 0; t < s.T; t++) s.depth[t] = 32, s.reach[t] = 64, s.off[t] = t;
    rt_shift_choose();
    return rt_shift_runs_suit(&s);
}

int main(int argc, char **argv) {
    blas_configure(argc, argv);
    interp_blas_threads = blas_threads();
    int reps = 15, threads = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--cpu") == 0) clock_id = CLOCK_PROCESS_CPUTIME_ID;
        else if (strcmp(a, "--rt-only") == 0) rt_only = 1;
        else if (strcmp(a, "--tap-runs") == 0) rt_shift_tap_runs = 1;
        else if (strcmp(a, "--no-tap-runs") == 0) rt_shift_tap_runs = 0;
        else if (strcmp(a, "--scatter") == 0) rt_conv_scatter_mode = 1;
        else if (strcmp(a, "--no-scatter") == 0) rt_conv_scatter_mode = 0;
        else if (v && strcmp(a, "--reps") == 0) reps = atoi(v), i++;
        else if (v && strcmp(a, "--threads") == 0) threads = atoi(v), i++;
        else if (v && strcmp(a, "--only") == 0) only = v, i++;
        else {
            int help = strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
            if (!help) fprintf(stderr, "rt_kernels: unknown or incomplete option %s\n", a);
            fprintf(help ? stdout : stderr,
                    "usage: rt_kernels [--reps N] [--threads N] [--only SUBSTRING] [--cpu] [--rt-only]\n"
                    "                  [--tap-runs | --no-tap-runs] [--scatter | --no-scatter]\n"
                    "times each Conv2Net and Conv1Net contraction, the interpreter against the LLVM\n"
                    "backend's helpers (least and median of --reps runs, default 15); --cpu: CPU time\n"
                    "instead of the wall clock; --rt-only: the helpers alone; the last four force\n"
                    "kernels on or off\n");
            return help ? 0 : 2;
        }
    }
    if (reps < 1) reps = 1;
    if (threads > 0) rt_set_threads(threads);
    printf("OpenBLAS core %s; interpreter: OpenBLAS with %d threads; helpers: %d threads, "
           "OpenBLAS with 1, %s; median of %d runs\n",
           blas_core(), interp_blas_threads, rt_threads(),
           tap_runs_taken() ? "runs of consecutive taps" : "one tap at a time", reps);
    FILE *la = fopen("/proc/loadavg", "r");
    char load[64] = "?";
    if (la && fgets(load, sizeof load, la)) load[strcspn(load, "\n")] = 0;
    if (la) fclose(la);
    printf("load average at start: %s\n", load);
    printf("%-40s %10s %10s %8s %10s %10s %10s %11s\n", "kernel", "interp ms", "rt ms", "speedup",
           "interp min", "rt min", "rel diff", "scratch");
    double ti[2] = {0, 0}, tr[2] = {0, 0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (only && !strstr(cases[i].name, only)) continue;
        int net = !strncmp(cases[i].name, "c2", 2) ? 0 : !strncmp(cases[i].name, "c1", 2) ? 1 : 2;
        double sink_i = 0, sink_r = 0;
        run_case(&cases[i], reps, net < 2 ? &ti[net] : &sink_i, net < 2 ? &tr[net] : &sink_r);
    }
    printf("%-40s %10.3f %10.3f\n", "sum of c2 (Conv2Net) rows", ti[0], tr[0]);
    printf("%-40s %10.3f %10.3f\n", "sum of c1 (Conv1Net) rows", ti[1], tr[1]);
    return 0;
}
