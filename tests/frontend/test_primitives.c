/* test_primitives.c — the primitives added with the op recipe, called
 * from .mmg (tests/frontend/primitives.mmg) and run by the interpreter:
 * each block of the logits against the same function written in C, and
 * numbers folded at compile time. `param w: [n] = zeros()` keeps working
 * (test_frontend compiles such parameters); zeros([4]) is a tensor. */
#include <math.h>
#include <stdio.h>

#include "frontend/compile.h"
#include "harness.h"
#include "interp.h"
#include "rng.h"

#define B 2
#define N 4

static const float xs[B][N] = {{-1.3f, 0.25f, 0.0f, 2.6f}, {1.7f, -0.0f, -2.0f, 1.5f}};

/* Python's float %: the sign of b. */
static double pymod(double a, double b) {
    double r = fmod(a, b);
    return r != 0 ? ((r < 0) != (b < 0) ? r + b : r) : copysign(0, b);
}

#define SEED 7

/* The expected block `blk` of row i, column j; stream is random_normal's. */
static double want(int blk, int i, int j, uint64_t stream) {
    double x = xs[i][j], lo = xs[i][0];
    int top = 0;
    for (int c = 1; c < N; c++) {
        lo = fmin(lo, xs[i][c]);
        if (xs[i][c] > xs[i][top]) top = c;
    }
    switch (blk) {
    case 0: return x > 0 ? 1 : x < 0 ? -1 : x;
    case 1: return floor(x);
    case 2: return sinf((float)x);
    case 3: return cosf((float)x);
    case 4: return x;
    case 5: return pymod(x, 0.75);
    case 6: return pymod(x, -0.75);
    case 7: return x < 0.25;
    case 8: return x <= 0.25;
    case 9: return lo;
    case 10: return 2.5; /* mod(-7.5, 2) + sign(-3) + floor(2.5) + sin(0) + cos(0) */
    case 11: return j == top; /* one_hot(argmax(x, axis: 1), 4) */
    case 12: return 0;
    case 13: return 1;
    case 14: return 0.5;
    case 15: return j;
    case 16: return j == i + 1; /* rows 1 and 2 of eye(4) */
    default: return (float)rng_normal(SEED, stream, 0, (uint64_t)(i * N + j));
    }
}

static void test_values(void) {
    Compiled c;
    compile_file(&c, "tests/frontend/primitives.mmg", NULL, 0);
    if (c.status) diag_print(&c.prog.diag, stderr);
    CU_ASSERT_EQUAL_FATAL(c.status, 0);
    Graph *g = c.model.graph;
    char err[256];
    Interp *in = interp_new(g, err, sizeof err);
    if (!in) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    float *x = interp_f32(in, c.model.inputs[0].node);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++) x[i * N + j] = xs[i][j];
    CU_ASSERT_EQUAL_FATAL(interp_run(in, 0, SEED, 0, err, sizeof err), 0);
    uint64_t stream = 0;
    int normals = 0;
    for (int id = 0; id < g->nnodes; id++)
        if (g->nodes[id].op == OP_RANDOM_NORMAL) stream = (uint64_t)g->nodes[id].attr[0], normals++;
    CU_ASSERT_EQUAL(normals, 1);
    int logits = ir_output(g, "logits");
    const Shape *s = &g->nodes[logits].type.shape;
    int blocks = 18;
    CU_ASSERT_FATAL(s->rank == 2 && s->dim[0] == B && s->dim[1] == blocks * N);
    const float *y = interp_f32(in, logits);
    for (int blk = 0; blk < blocks; blk++)
        for (int i = 0; i < B; i++)
            for (int j = 0; j < N; j++) {
                double got = y[i * blocks * N + blk * N + j], w = want(blk, i, j, stream);
                if (fabs(got - w) > 1e-6 * (1 + fabs(w)))
                    fprintf(stderr, "\nblock %d [%d, %d]: %.9g, expected %.9g\n", blk, i, j, got, w);
                CU_ASSERT_DOUBLE_EQUAL(got, w, 1e-6 * (1 + fabs(w)));
            }
    interp_free(in);
    compile_free(&c);
}

static CU_TestInfo tests[] = {
    {"every new primitive from .mmg against C", test_values},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("primitives", tests); }
