/* ir_helpers.h — building graphs in tests (test_ir, test_interp, test_rt): inputs and
 * attributes as literals, a type from its dims, and ir_build that fails the
 * test, with the message, when it fails.
 *
 *   TType t = T(DT_F32, 2, 4, 3);
 *   int x = B(g, OP_INPUT, NONE, NONE, 0, &t), y = B(g, OP_RELU, IN(x), NONE, 0, NULL);
 */
#ifndef MMGC_TEST_IR_HELPERS_H
#define MMGC_TEST_IR_HELPERS_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ir.h"

/* Inputs and integer attributes as (array, count) argument pairs. */
#define IN(...) (const int[]){__VA_ARGS__}, (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int))
#define AT(...)                                                                                     \
    (const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define NONE NULL, 0

/* A type from a dtype, a rank and that many int dims. */
static inline TType T(DType d, int rank, ...) {
    TType t;
    memset(&t, 0, sizeof t);
    t.dtype = d;
    t.shape.rank = rank;
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++) t.shape.dim[i] = va_arg(ap, int);
    va_end(ap);
    return t;
}

/* An f32 type from its dims, each converted to int64_t (ints, int64_t
 * variables or a mix): F32(64, 32, 26, 26). */
static inline TType f32_of(int rank, const int64_t *dims) {
    TType t;
    memset(&t, 0, sizeof t);
    t.dtype = DT_F32;
    t.shape.rank = rank;
    for (int i = 0; i < rank; i++) t.shape.dim[i] = dims[i];
    return t;
}
#define F32(...) f32_of((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})

/* Adds a node with ir_build, failing the test (with the message) if it fails. */
static inline int B(Graph *g, Op op, const int *in, int nin, const int64_t *attr, int nattr, double value,
                    const TType *given) {
    char err[256];
    int id = ir_build(g, op, in, nin, attr, nattr, value, given, (Loc){0, 0, 0}, err, sizeof err);
    if (id < 0) fprintf(stderr, "\n  building %s failed: %s\n", ir_op_info[op].name, err);
    CU_ASSERT_FATAL(id >= 0);
    return id;
}

#endif
