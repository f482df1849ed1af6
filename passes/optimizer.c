/* optimizer.c — the parameter update, appended to the graph so that one
 * graph is the whole training step: forward, loss, backward, update.
 *
 * Requires: outputs "grad:NAME" (autodiff). Keeps: topological order.
 * Adds, for every PARAM NAME, an output "update:NAME" with its new value,
 * and for every STATE it creates (moments "NAME.m", "NAME.v", momentum
 * "NAME.buf", the step count "optimizer.step") an output "update:STATE".
 * The backend writes each update back into its source after the step.
 * The updates follow PyTorch's SGD, Adam and AdamW exactly. With a
 * learning-rate schedule, lr is the scalar INPUT "optimizer.lr", set by the
 * runtime before each step, so one compiled step serves every epoch;
 * without one it is a constant. Gradient clipping by global norm and the
 * parameters exempt from weight decay (no_decay) are applied here too, so
 * every backend runs them.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "passes.h"
#include "util.h"

const char *const optimizer_names[OPT_COUNT] = {"sgd", "momentum", "adam", "adamw"};

/* The update being built: the builder, the spec, and where lr comes from. */
typedef struct {
    Builder b;
    const OptimizerSpec *o;
    int lr; /* the scalar INPUT "optimizer.lr", or -1: lr is the constant o->lr */
} Update;

/* Records the new value of a PARAM or STATE named `name`. */
static void update(Builder *b, const char *name, int value) {
    ir_add_output(b->g, arena_printf(&b->g->arena, IR_UPDATE "%s", name), value);
}

/* s * x, as a node */
static int scaled(Builder *b, double s, int x) { return b_ew2(b, OP_MUL, b_scalar(b, s), x); }

/* a * x + c * y */
static int lerp(Builder *b, double a, int x, double c, int y) {
    return b_ew2(b, OP_ADD, scaled(b, a, x), scaled(b, c, y));
}

/* lr * x */
static int lr_times(Update *u, int x) {
    return u->lr >= 0 ? b_ew2(&u->b, OP_MUL, u->lr, x) : scaled(&u->b, u->o->lr, x);
}

/* SGD, with momentum when o->kind is OPT_MOMENTUM:
 *   g += wd * p;  buf = mu * buf + g;  p -= lr * buf */
static int sgd(Update *u, int p, int g) {
    Builder *b = &u->b;
    const char *name = b->g->nodes[p].name;
    if (u->o->kind == OPT_MOMENTUM) {
        const char *sname = arena_printf(&b->g->arena, "%s.buf", name);
        TType type = b->g->nodes[p].type;
        int buf = b_state(b, &type, sname);
        int nbuf = lerp(b, u->o->momentum, buf, 1.0, g);
        update(b, sname, nbuf);
        g = nbuf;
    }
    return b_ew2(b, OP_SUB, p, lr_times(u, g));
}

/* Adam / AdamW at step t (1-based, a scalar node):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * AdamW first decays p by lr * wd (when `decay`); Adam adds wd * p to g. */
static int adam(Update *u, int p, int g, int t, int decay) {
    Builder *b = &u->b;
    const OptimizerSpec *o = u->o;
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
    if (o->kind == OPT_ADAMW && decay) {
        if (u->lr >= 0) p = b_ew2(b, OP_MUL, b_ew2(b, OP_SUB, b_scalar(b, 1), scaled(b, o->weight_decay, u->lr)), p);
        else p = scaled(b, 1 - o->lr * o->weight_decay, p);
    }
    return b_ew2(b, OP_SUB, p, lr_times(u, step));
}

/* Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_:
 *   norm = sqrt(sum of g^2 over every gradient)
 *   scale = min(max_norm / (norm + 1e-6), 1)
 * Returns the scalar node every gradient is multiplied by. */
static int clip_scale(Builder *b, const int *grads, int n, double max_norm) {
    int total = -1;
    for (int i = 0; i < n; i++) {
        int sq = b_sum_to(b, b_ew2(b, OP_MUL, grads[i], grads[i]), (Shape){0, {0}});
        total = total < 0 ? sq : b_ew2(b, OP_ADD, total, sq);
    }
    int norm = b_ew1(b, OP_SQRT, total);
    int coef = b_ew2(b, OP_DIV, b_scalar(b, max_norm), b_ew2(b, OP_ADD, norm, b_scalar(b, 1e-6)));
    return b_ew2(b, OP_MIN, coef, b_scalar(b, 1));
}

/* Does parameter `name` take weight decay? Counts the patterns it matches. */
static int decays(const OptimizerSpec *o, const char *name, int *matched) {
    int exempt = 0;
    for (int i = 0; i < o->nno_decay; i++)
        if (!fnmatch(o->no_decay[i], name, 0)) exempt = 1, matched[i]++;
    return o->weight_decay != 0 && !exempt;
}

int pass_optimizer(Graph *g, const PassConfig *cfg, PassError *err) {
    const OptimizerSpec *o = &cfg->optimizer;
    Update u = {{g, {0, 0, 0}}, o, -1};
    Builder *b = &u.b;
    int nparams = g->nnodes, t = -1, n = 0, matched[MAX_NO_DECAY] = {0};
    int *params = xmalloc((size_t)(nparams + 1) * sizeof *params), *grads = xmalloc((size_t)(nparams + 1) * sizeof *grads);
    for (int p = 0; p < nparams; p++) {
        if (g->nodes[p].op != OP_PARAM) continue;
        int grad = ir_output(g, arena_printf(&g->arena, IR_GRAD "%s", g->nodes[p].name));
        if (grad < 0) {
            err->loc = g->nodes[p].loc;
            snprintf(err->msg, sizeof err->msg, "the optimizer needs the gradient of '%s' (run autodiff first)",
                     g->nodes[p].name);
            free(params);
            free(grads);
            return -1;
        }
        params[n] = p;
        grads[n++] = grad;
    }
    if (optimizer_lr_is_input(o)) {
        TType scalar_t = {DT_F32, {0, {0}}};
        u.lr = b_op(b, OP_INPUT, NULL, 0, NULL, 0, 0, &scalar_t);
        ir_set_name(g, u.lr, IR_LR);
    }
    if (o->kind == OPT_ADAM || o->kind == OPT_ADAMW) {
        TType scalar_t = {DT_F32, {0, {0}}};
        int step = b_state(b, &scalar_t, "optimizer.step");
        t = b_ew2(b, OP_ADD, step, b_scalar(b, 1));
        update(b, "optimizer.step", t);
    }
    int scale = o->clip_grad_norm > 0 && n ? clip_scale(b, grads, n, o->clip_grad_norm) : -1;
    for (int i = 0; i < n; i++) {
        int p = params[i], grad = grads[i];
        b->loc = g->nodes[p].loc;
        if (scale >= 0) grad = b_ew2(b, OP_MUL, grad, scale);
        int decay = decays(o, g->nodes[p].name, matched);
        if (decay && o->kind != OPT_ADAMW) grad = lerp(b, o->weight_decay, p, 1.0, grad);
        int np = o->kind == OPT_ADAM || o->kind == OPT_ADAMW ? adam(&u, p, grad, t, decay) : sgd(&u, p, grad);
        update(b, g->nodes[p].name, np);
    }
    free(params);
    free(grads);
    for (int i = 0; i < o->nno_decay; i++)
        if (!matched[i]) {
            err->loc = o->no_decay_loc[i];
            snprintf(err->msg, sizeof err->msg, "no_decay: pattern \"%s\" matches no parameter", o->no_decay[i]);
            return -1;
        }
    return 0;
}
