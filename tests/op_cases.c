/* op_cases.c — the per-op test table (see op_cases.h) and its helpers.
 * Sizes are odd, and broadcasts and dtypes vary, so that backends are
 * exercised off their fast paths.
 */
#include <math.h>
#include <stdio.h>

#include "op_cases.h"

const OpCase op_cases[] = {
    /* sources */
    {OP_INPUT, NOIN, 0, {0}, 0, 0, 2, {3, 5}, 0, "f32[3, 5]", 0},
    {OP_LABEL, NOIN, 0, {0}, 0, 0, 1, {7}, 1, "i64[7]", 0},
    {OP_PARAM, NOIN, 0, {0}, 0, 0, 2, {3, 5}, 0, "f32[3, 5]", 0},
    {OP_STATE, NOIN, 0, {0}, 0, 0, 1, {9}, 0, "f32[9]", 0},
    {OP_CONST, NOIN, 0, {0}, 0, 2.5, 3, {3, 5, 7}, 0, "f32[3, 5, 7]", 0},
    {OP_CONST, NOIN, 0, {0}, 0, -7.9, 2, {3, 5}, 1, "i64[3, 5]", 0},
    {OP_CONST, NOIN, 0, {0}, 0, 1e30, 1, {3}, 1, "i64[3]", 0},
    {OP_RANDOM_UNIFORM, NOIN, 0, {3}, 1, 0, 2, {5, 37}, 0, "f32[5, 37]", 0},
    {OP_RANDOM_NORMAL, NOIN, 0, {5}, 1, 0, 2, {5, 37}, 0, "f32[5, 37]", 0},
    {OP_IOTA, NOIN, 0, {1}, 1, 0, 3, {3, 5, 7}, 0, "f32[3, 5, 7]", 0},
    {OP_IOTA, NOIN, 0, {0}, 1, 0, 1, {11}, 0, "f32[11]", 0},
    {OP_DROPOUT_MASK, NOIN, 0, {4}, 1, 0.3, 2, {9, 37}, 0, "f32[9, 37]", 0},
    /* elementwise */
    {OP_NEG, {IN(S2(5, 37), R_ANY)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_EXP, {IN(S2(5, 37), R_ANY)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_LOG, {IN(S2(5, 37), R_POS)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_SQRT, {IN(S2(5, 37), R_POS)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_RSQRT, {IN(S2(5, 37), R_POS)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_TANH, {IN(S2(5, 37), R_ANY)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_SIGMOID, {IN(S2(5, 37), R_ANY)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_RELU, {IN(S2(5, 37), R_SPREAD)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_ABS, {IN(S2(5, 37), R_SPREAD)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_SIGN, {IN(S2(5, 37), R_SPREAD)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_FLOOR, {IN(S2(5, 37), R_SPREAD)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_SIN, {IN(S2(5, 37), R_SPREAD)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_COS, {IN(S2(5, 37), R_SPREAD)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_STOP_GRADIENT, {IN(S2(5, 37), R_ANY)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_STEP, {IN(S2(5, 37), R_SPREAD)}, 1, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_CAST, {IN(S2(5, 7), R_SPECIAL)}, 1, {0}, 0, 0, 2, {5, 7}, 1, "i64[5, 7]", 0},
    {OP_CAST, {IDX(S2(5, 7), 10)}, 1, {0}, 0, 0, 2, {5, 7}, 0, "f32[5, 7]", 0},
    {OP_CAST, {IN(S2(5, 7), R_ANY)}, 1, {0}, 0, 0, 2, {5, 7}, 0, "f32[5, 7]", 0},
    {OP_CAST, {IDX(S1(11), 10)}, 1, {0}, 0, 0, 1, {11}, 1, "i64[11]", 0},
    {OP_ADD, {IN(S3(3, 5, 37), R_ANY), IN(S2(5, 1), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[3, 5, 37]", 0},
    {OP_ADD, {IN(S1(1), R_ANY), IN(S2(3, 37), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[3, 37]", 0},
    {OP_SUB, {IN(S2(1, 37), R_ANY), IN(S3(3, 5, 37), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[3, 5, 37]", 0},
    {OP_MUL, {IN(S3(3, 5, 37), R_ANY), IN(S1(37), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[3, 5, 37]", 0},
    {OP_MUL, {IN(S3(3, 1, 7), R_ANY), IN(S3(1, 5, 1), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[3, 5, 7]", 0},
    {OP_DIV, {IN(S2(5, 37), R_ANY), IN(S2(5, 1), R_POS)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_MAX, {IN(S2(5, 37), R_SPREAD), IN(S2(5, 37), R_SPREAD)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_MIN, {IN(S2(5, 37), R_SPREAD), IN(S1(37), R_SPREAD)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_POW, {IN(S2(5, 37), R_POS), IN(S2(5, 37), R_ANY)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_MOD, {IN(S2(5, 37), R_HALF), IN(S1(37), R_UNIT)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_GT, {IN(S2(5, 37), R_INT), IN(S2(1, 37), R_INT)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_GE, {IN(S2(5, 37), R_INT), IN(S2(5, 1), R_INT)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_EQ, {IN(S2(5, 37), R_INT), IN(S1(37), R_INT)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_EQ, {IDX(S2(5, 7), 3), IDX(S1(7), 3)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[5, 7]", 0},
    {OP_SELECT, {IN(S2(5, 37), R_INT), IN(S2(5, 37), R_ANY), IN(S1(37), R_ANY)}, 3, {0}, 0, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_SELECT, {IN(S2(5, 1), R_INT), IN(S1(1), R_ANY), IN(S2(1, 7), R_ANY)}, 3, {0}, 0, 0, 0, {0}, 0, "f32[5, 7]", 0},
    /* reductions: inner axis reduced, inner axis kept, all, keepdims */
    {OP_REDUCE_SUM, {IN(S3(3, 5, 37), R_ANY)}, 1, {0, 0, 2}, 3, 0, 0, {0}, 0, "f32[5]", 0},
    {OP_REDUCE_SUM, {IN(S3(3, 5, 37), R_ANY)}, 1, {0, 0}, 2, 0, 0, {0}, 0, "f32[5, 37]", 0},
    {OP_REDUCE_SUM, {IN(S3(3, 5, 37), R_ANY)}, 1, {1, 1}, 2, 0, 0, {0}, 0, "f32[3, 1, 37]", 0},
    {OP_REDUCE_SUM, {IN(S2(33, 65), R_ANY)}, 1, {0}, 1, 0, 0, {0}, 0, "f32[]", 0},
    {OP_REDUCE_MAX, {IN(S3(3, 5, 37), R_SPREAD)}, 1, {1, 1}, 2, 0, 0, {0}, 0, "f32[3, 1, 37]", 0},
    {OP_REDUCE_MAX, {IN(S3(3, 5, 37), R_SPREAD)}, 1, {0, 0, 2}, 3, 0, 0, {0}, 0, "f32[5]", 0},
    {OP_REDUCE_MAX, {IN(S2(9, 13), R_SPREAD)}, 1, {0}, 1, 0, 0, {0}, 0, "f32[]", 0},
    /* data movement */
    {OP_RESHAPE, {IN(S3(3, 5, 7), R_ANY)}, 1, {0}, 0, 0, 2, {15, 7}, 0, "f32[15, 7]", 0},
    {OP_RESHAPE, {IDX(S2(3, 5), 9)}, 1, {0}, 0, 0, 1, {15}, 1, "i64[15]", 0},
    {OP_BROADCAST, {IN(S2(5, 1), R_ANY)}, 1, {0}, 0, 0, 3, {3, 5, 37}, 0, "f32[3, 5, 37]", 0},
    {OP_BROADCAST, {IN(S1(37), R_ANY)}, 1, {0}, 0, 0, 3, {3, 5, 37}, 0, "f32[3, 5, 37]", 0},
    {OP_TRANSPOSE, {IN(S3(3, 5, 7), R_ANY)}, 1, {2, 0, 1}, 3, 0, 0, {0}, 0, "f32[7, 3, 5]", 0},
    {OP_TRANSPOSE, {IN(S4(2, 3, 5, 7), R_ANY)}, 1, {0, 2, 1, 3}, 4, 0, 0, {0}, 0, "f32[2, 5, 3, 7]", 0},
    {OP_CONCAT, {IN(S2(5, 3), R_ANY), IN(S2(5, 7), R_ANY), IN(S2(5, 2), R_ANY)}, 3, {1}, 1, 0, 0, {0}, 0, "f32[5, 12]", 0},
    {OP_CONCAT, {IN(S3(2, 5, 3), R_ANY), IN(S3(3, 5, 3), R_ANY)}, 2, {0}, 1, 0, 0, {0}, 0, "f32[5, 5, 3]", 0},
    {OP_CONCAT, {IDX(S1(5), 4), IDX(S1(3), 4)}, 2, {0}, 1, 0, 0, {0}, 0, "i64[8]", 0},
    {OP_SLICE, {IN(S2(5, 11), R_ANY)}, 1, {1, 2, 9}, 3, 0, 0, {0}, 0, "f32[5, 7]", 0},
    {OP_SLICE, {IN(S3(7, 3, 5), R_ANY)}, 1, {0, 1, 6}, 3, 0, 0, {0}, 0, "f32[5, 3, 5]", 0},
    {OP_PAD, {IN(S2(5, 7), R_ANY)}, 1, {0, 1, 2}, 3, 0, 0, {0}, 0, "f32[8, 7]", 0},
    {OP_PAD, {IN(S3(2, 5, 7), R_ANY)}, 1, {2, 3, 0}, 3, 0, 0, {0}, 0, "f32[2, 5, 10]", 0},
    /* contractions */
    {OP_MATMUL, {IN(S3(2, 5, 7), R_ANY), IN(S2(7, 9), R_ANY)}, 2, {0, 0}, 2, 0, 0, {0}, 0, "f32[2, 5, 9]", 2e-3},
    {OP_MATMUL, {IN(S2(7, 5), R_ANY), IN(S3(2, 9, 7), R_ANY)}, 2, {1, 1}, 2, 0, 0, {0}, 0, "f32[2, 5, 9]", 2e-3},
    {OP_MATMUL, {IN(S2(37, 33), R_ANY), IN(S2(33, 65), R_ANY)}, 2, {0, 0}, 2, 0, 0, {0}, 0, "f32[37, 65]", 2e-3},
    {OP_CONV1D, {IN(S3(2, 3, 23), R_ANY), IN(S3(4, 3, 5), R_ANY)}, 2, {2, 1, 2}, 3, 0, 0, {0}, 0, "f32[2, 4, 11]", 2e-3},
    {OP_CONV1D_GRAD_INPUT, {IN(S3(2, 4, 11), R_ANY), IN(S3(4, 3, 5), R_ANY)}, 2, {2, 1, 2}, 3, 0, 3, {2, 3, 23}, 0, "f32[2, 3, 23]", 0},
    {OP_CONV1D_GRAD_WEIGHT, {IN(S3(2, 3, 23), R_ANY), IN(S3(2, 4, 11), R_ANY)}, 2, {2, 1, 2}, 3, 0, 3, {4, 3, 5}, 0, "f32[4, 3, 5]", 0},
    {OP_CONV2D, {IN(S4(2, 2, 9, 7), R_ANY), IN(S4(3, 2, 3, 2), R_ANY)}, 2, {2, 1, 1, 0}, 4, 0, 0, {0}, 0, "f32[2, 3, 5, 6]", 2e-3},
    {OP_CONV2D_GRAD_INPUT, {IN(S4(2, 3, 5, 6), R_ANY), IN(S4(3, 2, 3, 2), R_ANY)}, 2, {2, 1, 1, 0}, 4, 0, 4, {2, 2, 9, 7}, 0, "f32[2, 2, 9, 7]", 0},
    {OP_CONV2D_GRAD_WEIGHT, {IN(S4(2, 2, 9, 7), R_ANY), IN(S4(2, 3, 5, 6), R_ANY)}, 2, {2, 1, 1, 0}, 4, 0, 4, {3, 2, 3, 2}, 0, "f32[3, 2, 3, 2]", 0},
    {OP_MAX_POOL1D, {IN(S3(2, 3, 11), R_SPREAD)}, 1, {3, 2}, 2, 0, 0, {0}, 0, "f32[2, 3, 5]", 0},
    {OP_MAX_POOL1D_GRAD, {IN(S3(2, 3, 11), R_SPREAD), IN(S3(2, 3, 5), R_ANY)}, 2, {3, 2}, 2, 0, 0, {0}, 0, "f32[2, 3, 11]", 0},
    {OP_MAX_POOL2D, {IN(S4(2, 2, 7, 9), R_SPREAD)}, 1, {2, 3, 2, 2}, 4, 0, 0, {0}, 0, "f32[2, 2, 3, 4]", 0},
    {OP_MAX_POOL2D_GRAD, {IN(S4(2, 2, 7, 9), R_SPREAD), IN(S4(2, 2, 3, 4), R_ANY)}, 2, {2, 3, 2, 2}, 4, 0, 0, {0}, 0, "f32[2, 2, 7, 9]", 0},
    /* indexing */
    {OP_GATHER, {IN(S2(5, 7), R_ANY), IDX(S1(5), 7)}, 2, {0}, 0, 0, 0, {0}, 0, "f32[5]", 0},
    {OP_ARGMAX, {IN(S3(3, 5, 7), R_SPREAD)}, 1, {1}, 1, 0, 0, {0}, 0, "i64[3, 7]", 0},
    {OP_ARGMAX, {IN(S2(4, 16), R_SPECIAL)}, 1, {1}, 1, 0, 0, {0}, 0, "i64[4]", 0},
    {OP_ARGMAX, {IN(S2(5, 6), R_INT)}, 1, {0}, 1, 0, 0, {0}, 0, "i64[6]", 0},
    {OP_SCATTER, {IN(S1(5), R_ANY), IDX(S1(5), 7)}, 2, {0}, 0, 0, 2, {5, 7}, 0, "f32[5, 7]", 0},
    /* variants: stride-4 convolutions as in Conv1Net, padded strided conv2d,
     * reductions over all axes kept, batched transposed matmul; one
     * matrix against a batch (its gradient one product over the batch's
     * rows): transposed, with a batch dim of 1, under two batch dims, and
     * the batch transposed (a product per item, then summed) */
    {OP_CONV1D, {IN(S3(2, 2, 23), R_ANY), IN(S3(3, 2, 5), R_ANY)}, 2, {4, 2, 2}, 3, 0, 0, {0}, 0, "f32[2, 3, 6]", 2e-3},
    {OP_CONV2D, {IN(S4(1, 2, 7, 7), R_ANY), IN(S4(2, 2, 3, 3), R_ANY)}, 2, {2, 2, 1, 1}, 4, 0, 0, {0}, 0, "f32[1, 2, 4, 4]", 2e-3},
    {OP_REDUCE_SUM, {IN(S3(2, 3, 5), R_ANY)}, 1, {1}, 1, 0, 0, {0}, 0, "f32[1, 1, 1]", 0},
    {OP_MATMUL, {IN(S3(2, 4, 3), R_ANY), IN(S3(2, 4, 5), R_ANY)}, 2, {1, 0}, 2, 0, 0, {0}, 0, "f32[2, 3, 5]", 2e-3},
    {OP_MATMUL, {IN(S3(2, 5, 7), R_ANY), IN(S2(9, 7), R_ANY)}, 2, {0, 1}, 2, 0, 0, {0}, 0, "f32[2, 5, 9]", 2e-3},
    {OP_MATMUL, {IN(S3(2, 5, 7), R_ANY), IN(S3(1, 7, 9), R_ANY)}, 2, {0, 0}, 2, 0, 0, {0}, 0, "f32[2, 5, 9]", 2e-3},
    {OP_MATMUL, {IN(S4(2, 3, 5, 7), R_ANY), IN(S2(7, 9), R_ANY)}, 2, {0, 0}, 2, 0, 0, {0}, 0, "f32[2, 3, 5, 9]", 2e-3},
    {OP_MATMUL, {IN(S3(2, 7, 5), R_ANY), IN(S2(7, 9), R_ANY)}, 2, {1, 0}, 2, 0, 0, {0}, 0, "f32[2, 5, 9]", 2e-3},
};

const int op_ncases = (int)(sizeof op_cases / sizeof op_cases[0]);

int op_has_case(Op op) {
    for (int i = 0; i < op_ncases; i++)
        if (op_cases[i].op == op) return 1;
    return 0;
}

unsigned op_rng_state = 2024;

double op_uniform(void) {
    op_rng_state = op_rng_state * 1664525u + 1013904223u;
    return (op_rng_state >> 8) / 16777216.0;
}

static const float specials[16] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1.5f, -2.5f, 3e38f,
                                   -3e38f, 1e-40f, 2.0f, -1.0f, 0.5f, 7.25f, 1e20f, -1e20f};

void op_fill(void *buf, int64_t n, Range r, int classes, int k) {
    float *x = buf;
    for (int64_t i = 0; i < n; i++) {
        if (r == R_INDEX) ((int64_t *)buf)[i] = (int64_t)(op_uniform() * classes) % classes;
        else if (r == R_POS) x[i] = (float)(0.5 + 1.5 * op_uniform());
        else if (r == R_INT) x[i] = (float)(int)(op_uniform() * 4);
        else if (r == R_SPECIAL) x[i] = specials[(i * 7 + (int64_t)(op_uniform() * 3)) % 16];
        else if (r == R_SPREAD) x[i] = (float)(0.1 * (double)(i - n / 2) + 0.05 + 0.03 * k);
        else if (r == R_HALF) x[i] = (float)((int)(op_uniform() * 4) - 1.5 + 0.3 * (op_uniform() - 0.5));
        else if (r == R_UNIT) x[i] = (float)((op_uniform() < 0.5 ? -1 : 1) * (0.95 + 0.1 * op_uniform()));
        else x[i] = (float)(2 * op_uniform() - 1);
    }
    if (r == R_SPREAD)
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)(op_uniform() * (double)(i + 1)) % (i + 1);
            float t = x[i];
            x[i] = x[j];
            x[j] = t;
        }
}

Graph *op_case_graph(const OpCase *c, int *y) {
    Graph *g = ir_graph_new(ir_op_info[c->op].name);
    char err[512];
    Loc loc = {0, 0, 0};
    int in[3];
    for (int k = 0; k < c->nin; k++) {
        const InputSpec *s = &c->in[k];
        TType t = {s->range == R_INDEX ? DT_I64 : DT_F32, {s->rank, {0}}};
        for (int i = 0; i < s->rank; i++) t.shape.dim[i] = s->dim[i];
        in[k] = ir_build(g, s->range == R_INDEX ? OP_LABEL : OP_PARAM, NULL, 0, NULL, 0, 0, &t, loc, err, sizeof err);
        char name[16];
        snprintf(name, sizeof name, "p%d", k);
        ir_set_name(g, in[k], name);
        g->nodes[in[k]].init = (Init){INIT_ZEROS, 0, 0};
    }
    TType given = {c->given_i64 ? DT_I64 : DT_F32, {c->given_rank, {0}}};
    for (int i = 0; i < c->given_rank; i++) given.shape.dim[i] = c->given[i];
    *y = ir_build(g, c->op, in, c->nin, c->attr, c->nattr, c->value, c->given_rank ? &given : NULL, loc, err,
                  sizeof err);
    if (*y < 0) {
        fprintf(stderr, "\n%s: %s\n", ir_op_info[c->op].name, err);
        ir_graph_free(g);
        return NULL;
    }
    if (c->op == OP_PARAM) g->nodes[*y].init = (Init){INIT_ZEROS, 0, 0};
    if (c->op == OP_PARAM || c->op == OP_STATE) ir_set_name(g, *y, "y");
    return g;
}
