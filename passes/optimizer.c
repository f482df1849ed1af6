/* optimizer.c — the parameter update, appended to the graph so that one
 * graph is the whole training step: forward, loss, backward, update.
 *
 * Requires: outputs "grad:NAME" (autodiff). Keeps: topological order.
 * Adds, for every PARAM NAME, an output "update:NAME" with its new value,
 * and for every STATE it creates (moments "NAME.m", "NAME.v", momentum
 * "NAME.buf", the step count "optimizer.step") an output "update:STATE".
 * The backend writes each update back into its source after the step.
 * The updates follow PyTorch's SGD, Adam and AdamW exactly.
 */
#include <stdio.h>
#include <string.h>

#include "builder.h"
#include "passes.h"
#include "util.h"

/* Records the new value of a PARAM or STATE named `name`. */
static void update(Builder *b, const char *name, int value) {
    ir_add_output(b->g, arena_printf(&b->g->arena, "update:%s", name), value);
}

/* lr * x, as a node */
static int scaled(Builder *b, double s, int x) { return b_ew2(b, OP_MUL, b_scalar(b, s), x); }

/* a * x + c * y */
static int lerp(Builder *b, double a, int x, double c, int y) {
    return b_ew2(b, OP_ADD, scaled(b, a, x), scaled(b, c, y));
}

/* SGD, with momentum when o->kind is OPT_MOMENTUM:
 *   g += wd * p;  buf = mu * buf + g;  p -= lr * buf */
static int sgd(Builder *b, const OptimizerSpec *o, int p, int g) {
    const char *name = b->g->nodes[p].name;
    if (o->kind == OPT_MOMENTUM) {
        const char *sname = arena_printf(&b->g->arena, "%s.buf", name);
        TType type = b->g->nodes[p].type;
        int buf = b_state(b, &type, sname);
        int nbuf = lerp(b, o->momentum, buf, 1.0, g);
        update(b, sname, nbuf);
        g = nbuf;
    }
    return b_ew2(b, OP_SUB, p, scaled(b, o->lr, g));
}

/* Adam / AdamW at step t (1-based, a scalar node):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * AdamW first decays p by lr * wd; Adam adds wd * p to g. */
static int adam(Builder *b, const OptimizerSpec *o, int p, int g, int t) {
    const char *name = b->g->nodes[p].name;
    TType type = b->g->nodes[p].type; /* a copy: building moves the node array */
    const char *mname = arena_printf(&b->g->arena, "%s.m", name);
    const char *vname = arena_printf(&b->g->arena, "%s.v", name);
    int m = b_state(b, &type, mname), v = b_state(b, &type, vname);
    int nm = lerp(b, o->beta1, m, 1 - o->beta1, g);
    int nv = lerp(b, o->beta2, v, 1 - o->beta2, b_ew2(b, OP_MUL, g, g));
    update(b, mname, nm);
    update(b, vname, nv);
    int c1 = b_ew2(b, OP_SUB, b_scalar(b, 1), b_ew2(b, OP_POW, b_scalar(b, o->beta1), t));
    int c2 = b_ew2(b, OP_SUB, b_scalar(b, 1), b_ew2(b, OP_POW, b_scalar(b, o->beta2), t));
    int denom = b_ew2(b, OP_ADD, b_ew1(b, OP_SQRT, b_ew2(b, OP_DIV, nv, c2)), b_scalar(b, o->eps));
    int step = b_ew2(b, OP_DIV, b_ew2(b, OP_DIV, nm, c1), denom);
    if (o->kind == OPT_ADAMW && o->weight_decay != 0) p = scaled(b, 1 - o->lr * o->weight_decay, p);
    return b_ew2(b, OP_SUB, p, scaled(b, o->lr, step));
}

int pass_optimizer(Graph *g, const PassConfig *cfg, PassError *err) {
    const OptimizerSpec *o = &cfg->optimizer;
    Builder b = {g, {0, 0, 0}};
    int nparams = g->nnodes, t = -1;
    if (o->kind == OPT_ADAM || o->kind == OPT_ADAMW) {
        TType scalar_t = {DT_F32, {0, {0}}};
        int step = b_state(&b, &scalar_t, "optimizer.step");
        t = b_ew2(&b, OP_ADD, step, b_scalar(&b, 1));
        update(&b, "optimizer.step", t);
    }
    for (int p = 0; p < nparams; p++) {
        if (g->nodes[p].op != OP_PARAM) continue;
        int grad = ir_output(g, arena_printf(&g->arena, "grad:%s", g->nodes[p].name));
        if (grad < 0) {
            err->loc = g->nodes[p].loc;
            snprintf(err->msg, sizeof err->msg, "the optimizer needs the gradient of '%s' (run autodiff first)",
                     g->nodes[p].name);
            return -1;
        }
        b.loc = g->nodes[p].loc;
        if (o->weight_decay != 0 && o->kind != OPT_ADAMW) grad = lerp(&b, o->weight_decay, p, 1.0, grad);
        int np = o->kind == OPT_ADAM || o->kind == OPT_ADAMW ? adam(&b, o, p, grad, t) : sgd(&b, o, p, grad);
        update(&b, g->nodes[p].name, np);
    }
    return 0;
}
