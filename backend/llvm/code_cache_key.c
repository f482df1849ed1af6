/* code_cache_key.c — the code cache's key (code_cache.h): what a step's
 * machine code is a function of.
 *
 *   the graph           every node's op, type, inputs, attributes, value,
 *                       init and name, the outputs (ir_fingerprint_walk)
 *   the kernel plan     which nodes each kernel holds, loop or not, and which
 *                       values are kept: llvm_codegen's other input. It is
 *                       a function of the graph today, but it is hashed
 *                       anyway so a change of the fusion rules cannot
 *                       bring back code cut along the old lines.
 *   the host            triple, CPU name and feature string
 *   the compiler        LLVM's version, mmgc's, and a hash of the sources
 *                       that shape the code (CMake computes it, so an edited
 *                       code generator is never served its old output)
 *   the variant         profiled or not (--profile adds timing calls)
 *   the format          CODE_CACHE_FORMAT
 *
 * Not the memory plan: the generated code reads every buffer's address
 * from bufs[node] at run time (cg.h), so where the arena puts a value is
 * the engine's business, not the object's.
 */
#include <string.h>

#include "code_cache.h"
#include "sha256.h"

static void feed(void *ctx, const void *p, size_t n) { sha256_update(ctx, p, n); }

static void put_i64(Sha256 *c, int64_t v) { sha256_update(c, &v, sizeof v); }

/* A string and its NUL, so "ab"+"c" and "a"+"bc" differ; NULL as -1. */
static void put_str(Sha256 *c, const char *s) {
    if (s) sha256_update(c, s, strlen(s) + 1);
    else put_i64(c, -1);
}

void code_cache_key(const Graph *g, const KernelPlan *plan, const CodeCacheTarget *t,
                    unsigned char key[CODE_CACHE_KEY_BYTES]) {
    Sha256 c;
    sha256_init(&c);
    put_str(&c, "mmgc code cache");
    put_i64(&c, CODE_CACHE_FORMAT);
    put_str(&c, t->triple);
    put_str(&c, t->cpu);
    put_str(&c, t->features);
    put_str(&c, t->llvm_version);
    put_str(&c, t->mmgc_version);
    put_str(&c, t->sources);
    put_i64(&c, t->profiled);
    put_i64(&c, t->part);
    put_i64(&c, t->nparts);
    ir_fingerprint_walk(g, feed, &c);
    put_i64(&c, plan->nk);
    for (int k = 0; k < plan->nk; k++) {
        put_i64(&c, plan->k[k].n);
        put_i64(&c, plan->k[k].loop);
        put_i64(&c, plan->k[k].reduce);
        for (int i = 0; i < plan->k[k].n; i++) put_i64(&c, plan->k[k].nodes[i]);
    }
    for (int i = 0; i < g->nnodes; i++) {
        put_i64(&c, plan->kernel_of[i]);
        put_i64(&c, plan->kept[i]);
        put_i64(&c, plan->view_of ? plan->view_of[i] : -1);
        put_i64(&c, fusion_update_into(plan, i));
        put_i64(&c, plan->over ? plan->over[i] : -1);
        put_i64(&c, plan->in_call ? plan->in_call[i] : -1);
    }
    put_i64(&c, plan->update_into ? plan->guard : -1);
    sha256_final(&c, key);
}
