/* cg.h — what the LLVM backend's files share (not a public API; see
 * llvm_backend.h for that).
 *
 * codegen.c        kernels, the dispatch switch over ops, mmgc_step
 * codegen_loop.c   loop nests over strided operands (the one loop builder)
 * codegen_ew.c     elementwise ops, const, cast, select, comparisons
 * codegen_shape.c  reductions and data movement
 * codegen_rt.c     calls to the runtime helpers (backend/llvm/rt.h)
 * target.c         the host target machine, the O3 pipeline, LLVM errors
 * jit.c            the object, and ORC LLJIT: link it, resolve symbols, look up
 * code_cache*.c    compiled objects on disk, by a key over what they depend on
 * emit.c           --emit=llvm / --emit=asm
 * engine_llvm.c    the Engine the runtime drives
 *
 * The generated module exports
 *
 *   int32_t mmgc_step(void **bufs, const RtRandom *rnd, float *scratch);
 *   int32_t mmgc_fail_node;   the node whose helper failed (-1 if none)
 *
 * (A profiled module, for --profile, also calls mmgc_prof_enter(i32 k) and
 * mmgc_prof_leave(i32 k) around the call of kernel k: rt_prof.h.)
 *
 * mmgc_step runs the kernels in order, reading each buffer pointer from
 * bufs[node id] (so the runtime may bind sources after compiling), and
 * returns 0 or the first nonzero code of a runtime helper.
 *
 * The kernels are those of the fusion plan (passes/fusion.h). Each is
 * compiled into one internal function that takes the buffers it touches
 * (the kept values it reads or writes) as noalias pointers, then scratch
 * and rnd:
 *
 *   i32 @k<first id>_<op>(ptr noalias %<node>..., ptr noalias %scratch, ptr %rnd)
 *
 * A loop kernel is one loop nest over its shape; its members' values live
 * in registers, and only kept members are stored. Buffers are assumed
 * aligned to their element size only: the runtime may bind any memory to
 * a source (the engine's own buffers are 64-byte aligned).
 */
#ifndef MMGC_LLVM_CG_H
#define MMGC_LLVM_CG_H

#include <llvm-c/Core.h>
#include <llvm-c/Orc.h>
#include <llvm-c/TargetMachine.h>
#include <stddef.h>
#include <stdint.h>

#include "fusion.h"
#include "ir.h"

/* ---- the code generator's state ------------------------------------------- */

typedef struct {
    const Graph *g;
    const KernelPlan *plan;
    LLVMContextRef ctx;  /* borrowed from the caller                     */
    LLVMModuleRef mod;   /* being built; owned by llvm_codegen until it returns it */
    LLVMBuilderRef b;    /* owned; disposed by llvm_codegen              */
    LLVMTypeRef i1, i8, i32, i64, f32, f64, ptr, desc;
    LLVMValueRef fn;     /* the function being built (a kernel, or a parallel loop's body) */
    LLVMValueRef *buf;   /* buf[node id]: that node's buffer in fn, or NULL */
    LLVMValueRef *val;   /* val[node id]: a loop member's value in the loop body, or NULL */
    LLVMValueRef scratch, rnd;
    const int *kbuf;     /* the current kernel's buffers (node ids)        */
    int nkbuf;
    int npar;            /* parallel loops emitted so far (for their names) */
    int64_t scratch_floats; /* the most any kernel needs                 */
    int profile;         /* time each kernel: mmgc_prof_enter/leave (rt_prof.h) around its call */
    int part, nparts;    /* the module is part `part` of nparts (llvm_codegen_part) */
} Cg;

/* Element type of a dtype: float or i64. */
LLVMTypeRef cg_elem(Cg *cg, DType d);
/* The kernel's buffer holding node's value (its storage's: fusion_storage). */
LLVMValueRef cg_buffer(Cg *cg, int node);
/* Pointer to element off (an i64 value) of node's buffer in the current kernel. */
LLVMValueRef cg_addr(Cg *cg, int node, LLVMValueRef off);
/* Loads / stores element off of node's buffer (its dtype, naturally aligned). */
LLVMValueRef cg_load(Cg *cg, int node, LLVMValueRef off);
void cg_store(Cg *cg, int node, LLVMValueRef off, LLVMValueRef v);
/* i64 and float constants. */
LLVMValueRef cg_i64(Cg *cg, int64_t v);
LLVMValueRef cg_f32(Cg *cg, double v);
/* Calls an overloaded float intrinsic ("llvm.exp") on one or two f32 values. */
LLVMValueRef cg_intrinsic(Cg *cg, const char *name, LLVMValueRef a, LLVMValueRef b);
/* Calls a libm function float f(float) by name ("tanhf"), declaring it once. */
LLVMValueRef cg_libm(Cg *cg, const char *name, LLVMValueRef a);
/* The external function name of type ft (nounwind), declared on first use. */
LLVMValueRef cg_declare(Cg *cg, const char *name, LLVMTypeRef ft);
/* An alloca of t at the top of the current function's entry block. */
LLVMValueRef cg_entry_alloca(Cg *cg, LLVMTypeRef t, const char *name);
/* An enum attribute ("noalias", "nounwind", "alwaysinline") with no value. */
LLVMAttributeRef cg_attr(Cg *cg, const char *name);
/* Raises the scratch the step needs to at least floats. */
void cg_need_scratch(Cg *cg, int64_t floats);

/* ---- loop nests (codegen_loop.c) -------------------------------------------
 * A Nest visits every index of dims in row-major order; operand k is at
 * element base[k] + sum(idx[d] * st[k][d]) of its buffer. The builder
 * drops dims of 1, merges dims every operand walks contiguously, makes the
 * trip counts constants, and calls body once, inside the innermost loop,
 * with each operand's offset (i64 values). Operand 0 is the output by
 * convention, so the innermost loop is unit-stride where the output is.
 *
 * A body writes only at operand 0's offset (reading it first is fine). So
 * when the nest has at least CG_PAR_MIN elements and the iterations of its
 * outermost loop write disjoint ranges of operand 0, cg_nest splits that
 * loop into tasks of about CG_PAR_GRAIN elements and runs them on the
 * runtime's thread pool (rt_parallel). The split depends on the shape
 * alone, and every output element is computed by one task in the serial
 * order, so results do not depend on the thread count. */
#define CG_MAX_OPS 4
#define CG_PAR_MIN (1 << 16)
#define CG_PAR_GRAIN (1 << 14)

typedef struct {
    int rank, nops;
    int64_t dim[IR_MAX_RANK];
    int64_t st[CG_MAX_OPS][IR_MAX_RANK];
    int64_t base[CG_MAX_OPS];
    unsigned char unroll[IR_MAX_RANK]; /* emit dim d as straight-line copies, not a loop */
} Nest;

typedef void (*NestBody)(Cg *cg, LLVMValueRef off[CG_MAX_OPS], void *ctx);

/* A nest over s with nops operands, every stride and base 0. */
void nest_start(Nest *n, const Shape *s, int nops);
/* Row-major strides of s, in elements. */
void cg_strides(const Shape *s, int64_t st[IR_MAX_RANK]);
/* Strides reading s as if broadcast to out (numpy rules: right-aligned;
 * 0 where s lacks the dim or has it as 1). */
void cg_bcast_strides(const Shape *s, const Shape *out, int64_t st[IR_MAX_RANK]);
/* Emits the loops at the builder's position; the builder ends after them. */
void cg_nest(Cg *cg, const Nest *n, NestBody body, void *ctx);
/* Strided copy of every index of dims: dst node at doff + idx . dst_st
 * gets src node at soff + idx . src_st. */
void cg_copy(Cg *cg, const Shape *dims, int dst, int64_t doff, const int64_t dst_st[IR_MAX_RANK],
             int src, int64_t soff, const int64_t src_st[IR_MAX_RANK]);

/* ---- lowerings, one per op family -----------------------------------------
 * Each emits node id's computation into the current kernel. The rt
 * lowering returns the helper's i32 status; the others cannot fail. */
void cg_loop(Cg *cg, const FusedKernel *k); /* codegen_ew.c: a loop kernel */
/* reduce_sum node id in parts (codegen_shape.c), for a loop kernel that
 * computes it: cg_sum_begin zeroes its partial sums in the scratch and
 * makes *nest, the nest of its additions in reduce_sum's order, operand 0
 * the partial sums and operands 1..nv the views st (strides over the
 * reduction's input; each walks the trailing reduced run contiguously or
 * not at all), and returns the partial sums per output element; the body
 * adds each value with cg_sum_add at operand 0's offset; cg_sum_end rounds
 * the sums into the node's buffer. */
int cg_sum_begin(Cg *cg, int id, int nv, const int64_t (*st)[IR_MAX_RANK], Nest *nest);
void cg_sum_add(Cg *cg, LLVMValueRef off, LLVMValueRef v);
void cg_sum_end(Cg *cg, int id, int lanes);
void cg_reduce(Cg *cg, int id);     /* codegen_shape.c */
void cg_movement(Cg *cg, int id);
LLVMValueRef cg_rt_call(Cg *cg, int id); /* codegen_rt.c */
/* The LLVM struct type of RtDesc (the C layout, packed with explicit padding). */
LLVMTypeRef cg_desc_type(Cg *cg);

/* ---- codegen.c -------------------------------------------------------------- */

/* Lowers verified g, cut into the kernels of plan (fusion_plan of g), into
 * a new module in ctx; with profile, mmgc_step calls mmgc_prof_enter(k)
 * and mmgc_prof_leave(k) around kernel k (without it, no trace of them).
 * On success *out is the
 * module (the caller owns it: dispose it or hand it to the JIT) and
 * *scratch_floats the scratch mmgc_step needs; returns 0. Returns -1 with
 * a message on failure (nothing to dispose). */
int llvm_codegen(const Graph *g, const KernelPlan *plan, int profile, LLVMContextRef ctx, LLVMModuleRef *out,
                 int64_t *scratch_floats, char *err, size_t errlen);
/* llvm_codegen's step as nparts modules, this call building the one of
 * part `part` (0 .. nparts-1): part 0 has mmgc_step, mmgc_fail_node and
 * its first run of kernels (codegen.c: kernel_parts); every other part its own
 * kernels, which part 0 calls. Linked together (llvm_jit), the parts are
 * llvm_codegen's module; *scratch_floats is this part's need (the step
 * needs the largest). nparts 1 is llvm_codegen. */
int llvm_codegen_part(const Graph *g, const KernelPlan *plan, int profile, int part, int nparts, LLVMContextRef ctx,
                      LLVMModuleRef *out, int64_t *scratch_floats, char *err, size_t errlen);

/* ---- target.c --------------------------------------------------------------- */

/* Initializes LLVM's native target once per process. */
void llvm_init_native(void);
/* A TargetMachine for the host CPU and its features, at -O3, or with
 * quick at -O0 (the quick code of engine_llvm.c's tiers); for_jit picks
 * the JIT code model. The caller owns it (LLVMDisposeTargetMachine, or
 * hand it to llvm_jit). NULL with a message on failure. */
LLVMTargetMachineRef llvm_host_machine(int for_jit, int quick, char *err, size_t errlen);
/* The host as llvm_host_machine describes it (LLVM-allocated strings):
 * what the code cache's key says the code was compiled for. */
typedef struct {
    char *triple, *cpu, *features;
} LlvmHostNames;
void llvm_host_names(LlvmHostNames *h);
void llvm_host_names_free(LlvmHostNames *h);
/* Sets m's data layout and triple from tm and runs default<O3>, or with
 * quick only SROA. Neither changes a result's bits: the generated code has
 * no fast-math flags, so LLVM may not reorder or contract its arithmetic. */
int llvm_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, int quick, char *err, size_t errlen);
/* The one place LLVM errors become messages: writes "<what>: <LLVM's
 * message>" into err, consumes e (an LLVMErrorRef, may be NULL) or
 * disposes msg (an LLVM-allocated message, may be NULL); returns -1. */
int llvm_fail(char *err, size_t errlen, const char *what, LLVMErrorRef e, char *msg);

/* ---- jit.c ------------------------------------------------------------------- */

typedef struct LlvmJit LlvmJit;

/* Machine code for the host: mod (optimized) as a relocatable object,
 * emitted by tm, which must be the machine llvm_jit gets (its code model
 * is the JIT's), so the object is exactly what a JIT compile would link.
 * Borrows mod and tm; the caller owns *obj. -1 with a message on failure. */
int llvm_emit_object(LLVMModuleRef mod, LLVMTargetMachineRef tm, LLVMMemoryBufferRef *obj, char *err, size_t errlen);

/* Links the objects of one step (llvm_emit_object's, fresh or from the
 * code cache: the one module, or the parts of llvm_codegen_part) into a
 * new LLJIT for the host. Takes ownership of objs[0..nobj) and tm, success
 * or not. On success returns the JIT, with the addresses of mmgc_step and
 * mmgc_fail_node in *step and *fail_node; NULL with a message otherwise. */
LlvmJit *llvm_jit(LLVMMemoryBufferRef *objs, int nobj, LLVMTargetMachineRef tm, void **step, void **fail_node,
                  char *err, size_t errlen);
/* Frees the JIT and all its code. NULL is fine. */
void llvm_jit_free(LlvmJit *j);

#endif
