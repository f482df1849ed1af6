/* op_cases.h — the one table of per-op test cases (tests/op_cases.c).
 *
 * Every op of ir/ops.def has at least one row, and each row drives three
 * suites: test_ir checks its inferred type against the row's `type`,
 * test_gradcheck checks the gradient of loss = sum(op(..) * r) against
 * finite differences when the op has a gradient rule, and test_llvm runs
 * the forward graph and the training step on the LLVM backend against the
 * interpreter. An op without a row fails all three. Inputs are f32 params
 * p0, p1, ... (i64 labels for R_INDEX), drawn as their Range says.
 */
#ifndef MMGC_TEST_OP_CASES_H
#define MMGC_TEST_OP_CASES_H

#include <stdint.h>

#include "ir.h"

/* How an input's values are drawn: U(-1, 1); U(0.5, 2); distinct values
 * 0.1 apart (shifted by 0.03 per input, so two inputs never tie: no kinks
 * near the values for finite differences); small integers 0..3 (ties for
 * comparisons, zeros for select); special values (NaN, infinities, signed
 * zeros, huge and denormal ones); i64 labels in [0, classes); halves
 * n + 0.5 +- 0.15 for n in -2..1 and units +-(1 +- 0.05), so that the
 * quotient of the two keeps away from integers (mod's jumps). */
typedef enum { R_ANY, R_POS, R_SPREAD, R_INT, R_SPECIAL, R_INDEX, R_HALF, R_UNIT } Range;

typedef struct {
    int rank;
    int64_t dim[4];
    Range range;
    int classes;
} InputSpec;

typedef struct {
    Op op;
    InputSpec in[3];
    int nin;
    int64_t attr[8];
    int nattr;
    double value;
    int given_rank; /* > 0: the node's type is given (sources, reshape, cast, grads, ...) */
    int64_t given[4];
    int given_i64;
    const char *type; /* the inferred type, as ir_type_str writes it */
    double tol;       /* gradcheck's relative tolerance; 0 means 1e-3 */
} OpCase;

/* Row literals (a file that includes ir_helpers.h, whose IN means
 * something else, defines OP_CASES_NO_ROW_MACROS first). */
#ifndef OP_CASES_NO_ROW_MACROS
#define S1(a) 1, {a}
#define S2(a, b) 2, {a, b}
#define S3(a, b, c) 3, {a, b, c}
#define S4(a, b, c, d) 4, {a, b, c, d}
#define IN(shape, r) {shape, r, 0}
#define IDX(shape, classes) {shape, R_INDEX, classes}
#define NOIN {{0}}
#endif

extern const OpCase op_cases[];
extern const int op_ncases;

/* 1 if some row of the table is for op. */
int op_has_case(Op op);

/* The tests' own generator (an LCG): U[0, 1), and its state. */
extern unsigned op_rng_state;
double op_uniform(void);

/* Fills n elements (f32, or i64 for R_INDEX) of input k as r says. */
void op_fill(void *buf, int64_t n, Range r, int classes, int k);

/* A graph with the case's inputs (params p0.. with zeros init, or labels)
 * and its node, whose id goes to *y. NULL, with the message printed, if
 * the node does not build. */
Graph *op_case_graph(const OpCase *c, int *y);

#endif
