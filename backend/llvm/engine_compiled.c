/* engine_compiled.c — an Engine over a step compiled to machine code,
 * whoever compiled it: the LLVM JIT (engine_llvm.c) or an object file
 * linked into a program built ahead of time. No LLVM here.
 *
 * compiled_new takes the planned graph (pipeline_plan's kernels and memory
 * plan, the same the code was generated from) and the code's entry points,
 * and allocates: one zeroed 64-byte aligned block per external source
 * (input, label, param, state; freed if the runtime binds the node to its
 * own memory), the planned arena for the computed values kept in memory,
 * and the scratch the code asks for. Blocks of a megabyte or more are
 * mapped (zeroed.h): nothing is touched until a step writes it. In a build
 * with assertions (the sanitizer build of the tests) the arena starts with
 * every bit set (NaN, or -1) instead, so a kernel that wrongly relies on
 * zeroed memory fails the tests. Values fused away, and values whose
 * memory a later one reuses, have no buffer after the step (buffer() gives
 * NULL).
 * run: one call of the step over the table of buffer pointers; before it,
 * the code is swapped for its successor when one is ready
 * (CompiledStep.poll), so a run never meets half-swapped code.
 * apply_updates: as the interpreter does it (every update reads the values
 * from before any is written; none applies when the loss is not finite).
 * An update the plan computes in place (KernelPlan.update_into) is already
 * in its PARAM or STATE after the step: the code writes it there, skipping
 * the writing kernels when the loss is not finite, and its buffer is that
 * node's.
 *
 * Ownership: the engine owns its buffers, the arena, the scratch, the plans
 * and the code's owner (released with it); bound memory stays the caller's;
 * the graph is borrowed and must outlive the engine.
 */
#include "engine_compiled.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpmode.h"
#include "rt_prof.h"
#include "rt_thread.h"
#include "util.h"
#include "zeroed.h"

typedef struct {
    const Graph *g;
    KernelPlan plan;
    MemPlan mem;
    unsigned char *survives; /* survives[id]: the buffer still holds node id after a step */
    CompiledStep code;
    void **bufs;          /* bufs[id]: node id's elements (what the step reads) */
    char *own;            /* own[id]: bufs[id] is a block of ours, not in the arena */
    char *arena;          /* computed nodes */
    float *scratch;
    size_t scratch_bytes;
    int nupd;             /* "update:X" outputs: source node, PARAM/STATE node, */
    int *upd_src, *upd_dst;
    int guard;            /* ir_update_guard: no update applies unless it is finite */
    void **staged;        /* and a copy for sources that are themselves PARAM/STATE */
    int64_t *upd_first;   /* upd_first[u]: update u's first piece (compiled_apply_updates);
                           * upd_first[nupd]: the pieces of all */
    RtProfile prof;       /* code.profiled: what the step's marks measure */
    EngineProfile view;   /* prof as the runtime reads it */
} CompiledEngine;

/* Formats a message; returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Bytes of node id's elements. */
static size_t bytes_of(const Graph *g, int id) {
    const TType *t = &g->nodes[id].type;
    return (size_t)ir_numel(&t->shape) * (t->dtype == DT_I64 ? 8 : 4);
}

/* The copies of compiled_apply_updates run on the thread pool in pieces
 * of UPDATE_PIECE bytes: a Conv1Net model moves about 50 MB of
 * parameters and Adam moments a step, more than one core copies at the
 * memory's speed. */
#define UPDATE_PIECE ((size_t)1 << 20)

/* Rounded up to 64 bytes, at least 64. */
static size_t padded(size_t bytes) { return bytes ? (bytes + 63) / 64 * 64 : 64; }

/* ---- lifecycle ------------------------------------------------------------------ */

/* Frees the JIT, every buffer of ours, the arena and the scratch. NULL is fine. */
void compiled_destroy(void *impl) {
    CompiledEngine *e = impl;
    if (!e) return;
    for (int id = 0; e->bufs && id < e->g->nnodes; id++)
        if (e->own[id]) zeroed_free(e->bufs[id], bytes_of(e->g, id));
    for (int u = 0; u < e->nupd; u++) free(e->staged[u]);
    if (e->code.release) e->code.release(e->code.owner);
    free(e->bufs);
    free(e->own);
    zeroed_free(e->arena, (size_t)e->mem.size);
    zeroed_free(e->scratch, e->scratch_bytes);
    free(e->upd_src);
    free(e->upd_dst);
    free(e->staged);
    free(e->upd_first);
    if (e->plan.k) fusion_plan_free(&e->plan);
    if (e->mem.offset) memplan_free(&e->mem);
    free(e->survives);
    free(e->prof.kernel_ns);
    free(e);
}

/* 1 if node is an update the code computes into its PARAM or STATE. */
static int in_place(const CompiledEngine *e, int node) { return fusion_update_into(&e->plan, node) >= 0; }

/* Pairs each "update:X" output with the PARAM or STATE X (ir_update_pairs);
 * an update whose source is itself a PARAM or STATE gets a staging buffer. */
static int find_updates(CompiledEngine *e, char *err, size_t errlen) {
    const Graph *g = e->g;
    e->upd_src = xcalloc((size_t)g->nouts + 1, sizeof *e->upd_src);
    e->upd_dst = xcalloc((size_t)g->nouts + 1, sizeof *e->upd_dst);
    e->staged = xcalloc((size_t)g->nouts + 1, sizeof *e->staged);
    int n = ir_update_pairs(g, e->upd_src, e->upd_dst, err, errlen);
    if (n < 0) return -1;
    e->upd_first = xcalloc((size_t)n + 1, sizeof *e->upd_first);
    for (e->nupd = 0; e->nupd < n; e->nupd++) {
        int u = e->nupd;
        Op src = g->nodes[e->upd_src[u]].op;
        if (src == OP_PARAM || src == OP_STATE) e->staged[u] = xmalloc(padded(bytes_of(g, e->upd_src[u])));
        int64_t pieces = in_place(e, e->upd_src[u]) ? 0 : (int64_t)((bytes_of(g, e->upd_dst[u]) + UPDATE_PIECE - 1) / UPDATE_PIECE);
        e->upd_first[u + 1] = e->upd_first[u] + pieces;
    }
    e->guard = ir_update_guard(g);
    return 0;
}

/* A block per external source, the planned arena for the rest, the scratch. */
static int alloc_buffers(CompiledEngine *e, int64_t scratch_floats, char *err, size_t errlen) {
    const Graph *g = e->g;
    e->bufs = xcalloc((size_t)g->nnodes + 1, sizeof *e->bufs);
    e->own = xcalloc((size_t)g->nnodes + 1, 1);
    e->survives = xcalloc((size_t)g->nnodes + 1, 1);
    for (int id = 0; id < g->nnodes; id++) {
        if (!ir_is_external(g->nodes[id].op)) continue;
        if (!(e->bufs[id] = zeroed_alloc(bytes_of(g, id))))
            return fail(err, errlen, "out of memory: node %%%d needs %zu bytes", id, bytes_of(g, id));
        e->own[id] = 1;
        e->survives[id] = 1;
    }
    e->arena = zeroed_alloc((size_t)e->mem.size);
    e->scratch_bytes = (size_t)(scratch_floats > 0 ? scratch_floats : 1) * sizeof(float);
    e->scratch = zeroed_alloc(e->scratch_bytes);
    if (!e->arena || !e->scratch)
        return fail(err, errlen, "out of memory: the graph's values need %" PRId64 " bytes and the scratch %" PRId64,
                    e->mem.size, scratch_floats * 4);
#ifndef NDEBUG
    memset(e->arena, 0xff, padded((size_t)e->mem.size));
#endif
    for (int id = 0; id < g->nnodes; id++)
        if (e->mem.offset[id] >= 0) {
            e->bufs[id] = e->arena + e->mem.offset[id];
            e->survives[id] = (unsigned char)memplan_survives(g, &e->mem, id);
        }
    return 0;
}

/* See engine_compiled.h. */
void *compiled_new(const Graph *g, KernelPlan *plan, MemPlan *mem, const CompiledStep *code, char *err,
                   size_t errlen) {
    CompiledEngine *e = xcalloc(1, sizeof *e);
    e->g = g;
    e->plan = *plan;
    e->mem = *mem;
    e->code = *code;
    if (find_updates(e, err, errlen) || alloc_buffers(e, code->scratch_floats, err, errlen)) {
        compiled_destroy(e);
        return NULL;
    }
    if (code->profiled) {
        e->prof.nk = e->plan.nk;
        e->prof.kernel_ns = xcalloc((size_t)e->plan.nk + 1, sizeof *e->prof.kernel_ns);
    }
    return e;
}

/* ---- running ----------------------------------------------------------------------- */

/* Makes external source `node` use the caller's memory. */
int compiled_bind(void *impl, int node, void *memory) {
    CompiledEngine *e = impl;
    if (node < 0 || node >= e->g->nnodes || !memory || !ir_is_external(e->g->nodes[node].op)) return -1;
    if (e->own[node]) zeroed_free(e->bufs[node], bytes_of(e->g, node));
    e->own[node] = 0;
    e->bufs[node] = memory;
    return 0;
}

/* Node's buffer: NULL for no such node, a value fused away, or one whose
 * memory a later value reuses (see the top of the file). */
void *compiled_buffer(void *impl, int node) {
    CompiledEngine *e = impl;
    if (node < 0 || node >= e->g->nnodes) return NULL;
    if (in_place(e, node)) return e->bufs[fusion_update_into(&e->plan, node)];
    return e->survives[node] ? e->bufs[node] : NULL;
}

/* The message for a failed step: the interpreter's for a bad index, else
 * the node and the helper's code. */
static int step_failed(CompiledEngine *e, int32_t code, char *err, size_t errlen) {
    int id = *e->code.fail_node;
    if (id < 0 || id >= e->g->nnodes) return fail(err, errlen, "the compiled step failed with code %d", code);
    const Node *n = &e->g->nodes[id];
    if (n->op == OP_GATHER || n->op == OP_SCATTER) {
        const Shape *s = n->op == OP_GATHER ? &e->g->nodes[n->in[0]].type.shape : &n->type.shape;
        const int64_t *idx = e->bufs[n->in[1]];
        for (int64_t i = 0; i < s->dim[0]; i++)
            if (idx[i] < 0 || idx[i] >= s->dim[1])
                return fail(err, errlen, "%s: index %" PRId64 " out of range for %" PRId64 " classes at row %" PRId64,
                            ir_op_info[n->op].name, idx[i], s->dim[1], i);
    }
    return fail(err, errlen, "node %%%d (%s): runtime helper failed with code %d", id, ir_op_info[n->op].name, code);
}

/* Adopts the code's successor if it is ready (CompiledStep.poll). */
static void adopt_better_code(CompiledEngine *e) {
    CompiledStep next;
    if (!e->code.poll(e->code.owner, &next)) return;
    size_t need = (size_t)(next.scratch_floats > 0 ? next.scratch_floats : 1) * sizeof(float);
    if (need > e->scratch_bytes) { /* the same plan asks for the same scratch; but never run short */
        float *bigger = zeroed_alloc(need);
        if (!bigger) {
            if (next.release) next.release(next.owner);
            return; /* keep running the code we have */
        }
        zeroed_free(e->scratch, e->scratch_bytes);
        e->scratch = bigger, e->scratch_bytes = need;
    }
    CompiledStep old = e->code;
    next.profiled = old.profiled;
    e->code = next;
    if (old.release) old.release(old.owner);
}

/* One call of the compiled step; a training step with denormals flushed
 * to zero (fpmode.h), the caller's mode put back after. */
int compiled_run(void *impl, int training, uint64_t seed, uint64_t step, char *err, size_t errlen) {
    CompiledEngine *e = impl;
    if (e->code.poll) adopt_better_code(e);
    RtRandom rnd = {seed, step, training};
    FpMode caller = training ? fp_flush_denormals() : 0;
    int32_t code;
    if (!e->code.profiled) {
        code = e->code.step(e->bufs, &rnd, e->scratch);
    } else {
        /* the step's own time around the call: what the kernels' times are
         * part of (the rest is the step's entry, its failure checks and part
         * of the marks themselves; a kernel's buffer loads are inside its marks) */
        rt_prof_begin(&e->prof);
        uint64_t t0 = rt_prof_now();
        code = e->code.step(e->bufs, &rnd, e->scratch);
        e->prof.step_ns += rt_prof_now() - t0;
        e->prof.runs++;
        rt_prof_end();
    }
    if (training) fp_set_mode(caller);
    return code ? step_failed(e, code, err, errlen) : 0;
}

/* See engine_compiled.h. */
const EngineProfile *compiled_profile(void *impl, int reset) {
    CompiledEngine *e = impl;
    if (!e->code.profiled) return NULL;
    if (reset) {
        for (int k = 0; k < e->prof.nk; k++) e->prof.kernel_ns[k] = 0;
        e->prof.step_ns = e->prof.runs = 0;
    }
    e->view = (EngineProfile){e->plan.nk, e->plan.kernel_of, e->plan.kept, e->prof.kernel_ns, e->prof.step_ns, e->prof.runs,
                              rt_threads(), e->plan.view_of};
    return &e->view;
}

/* Piece i of every update's copy into its PARAM or STATE. */
static void copy_piece(void *arg, int64_t i) {
    const CompiledEngine *e = arg;
    int u = 0;
    while (e->upd_first[u + 1] <= i) u++;
    size_t at = (size_t)(i - e->upd_first[u]) * UPDATE_PIECE, n = bytes_of(e->g, e->upd_dst[u]) - at;
    const char *src = e->staged[u] ? e->staged[u] : e->bufs[e->upd_src[u]];
    memcpy((char *)e->bufs[e->upd_dst[u]] + at, src + at, n < UPDATE_PIECE ? n : UPDATE_PIECE);
}

/* Copies every update:X into X (those computed in place are there
 * already); sources that are PARAM or STATE themselves are staged first,
 * so every update reads the values from before. Nothing when the loss is
 * not finite. */
void compiled_apply_updates(void *impl) {
    CompiledEngine *e = impl;
    if (e->guard >= 0 && !isfinite(*(const float *)e->bufs[e->guard])) return;
    for (int u = 0; u < e->nupd; u++)
        if (e->staged[u]) memcpy(e->staged[u], e->bufs[e->upd_src[u]], bytes_of(e->g, e->upd_src[u]));
    rt_parallel(e->upd_first[e->nupd], copy_piece, e);
}

