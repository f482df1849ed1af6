/* code_cache.h — the JIT's on-disk cache of compiled code: one object file
 * per module (a step, or one part of a step cut into parts), found again by a key over everything its code depends on, so a
 * second run of an unchanged model skips codegen, O3 and instruction
 * selection (engine_llvm.c loads a cached object and a fresh one the same way).
 *
 * Where: $MMGC_CACHE_DIR, else $XDG_CACHE_HOME/mmgc, else $HOME/.cache/mmgc,
 * created on first store. Off when MMGC_CACHE_DIR is set but empty, when
 * MMGC_NO_CACHE is set to anything but "" or "0" (mmgc --no-cache sets it),
 * or when no directory can be named. One file per key, KEYHEX.o, each
 * written whole (a temporary of its own, then rename), so runs sharing the
 * directory see an entry entirely or not at all; a killed writer's
 * temporary is removed by a later store once it is an hour old. Any file
 * may be deleted at any time.
 *
 * Size: after each store, while the entries take more than
 * code_cache_limit() bytes, the least recently used entry is removed (a
 * hit marks an entry used by touching its mtime); the entry just stored
 * always stays.
 *
 * Nothing here fails a compile: a missing, unreadable, corrupt or foreign
 * entry is a miss, and a store that fails leaves the cache as it was; the
 * messages are for --time only. No LLVM types here (the tests include it).
 */
#ifndef MMGC_CODE_CACHE_H
#define MMGC_CODE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "fusion.h"
#include "ir.h"

/* Bumped whenever the entry layout or what the object means changes (the
 * engine's calling convention, the target-machine settings): old entries
 * then stop matching instead of being misread. */
#define CODE_CACHE_FORMAT 1

#define CODE_CACHE_KEY_BYTES 32

/* What the code depends on besides the graph and its kernel plan, as
 * strings (so a test can vary each). */
typedef struct {
    const char *triple, *cpu, *features; /* the host, as the JIT's target machine sees it */
    const char *llvm_version;             /* "19.1.7" */
    const char *mmgc_version;             /* MMGC_VERSION */
    const char *sources;                  /* hash of the compiler's sources (this build) */
    int profiled;                         /* the step times its kernels (--profile) */
    int part, nparts;                     /* the object is part `part` of a step compiled as nparts */
} CodeCacheTarget;

/* The key: SHA-256 over the format, every field of t, the graph
 * (ir_fingerprint_walk) and the kernel plan. */
void code_cache_key(const Graph *g, const KernelPlan *plan, const CodeCacheTarget *t,
                    unsigned char key[CODE_CACHE_KEY_BYTES]);

/* At most this many bytes of entries unless $MMGC_CACHE_SIZE says. */
#define CODE_CACHE_DEFAULT_LIMIT ((uint64_t)1 << 30)

/* The most bytes the entries may take together: $MMGC_CACHE_SIZE, a
 * number of bytes with an optional K, M or G (KiB, MiB, GiB; "512M",
 * "2GiB"), "0" for no limit; else CODE_CACHE_DEFAULT_LIMIT. Sets *bad when
 * the variable is set but not such a size (the default then applies). */
uint64_t code_cache_limit(int *bad);

/* The cache directory from the environment (see above), malloc'd; NULL
 * when the cache is off. */
char *code_cache_dir(void);

/* A compiled step as the cache holds it. */
typedef struct {
    unsigned char *object; /* the relocatable object, malloc'd */
    size_t size;
    int64_t scratch_floats; /* codegen's: the scratch mmgc_step needs */
} CodeCacheEntry;

/* Reads dir's entry for key: 1 with *e filled (free e->object) when it is
 * whole and is for key; 0 when there is none or it is not valid (err says
 * why, unless simply absent: err[0] == 0). */
int code_cache_load(const char *dir, const unsigned char key[CODE_CACHE_KEY_BYTES], CodeCacheEntry *e, char *err,
                    size_t errlen);

/* Writes e as dir's entry for key, creating dir; 0, or -1 with a message
 * (the cache is as it was). */
int code_cache_store(const char *dir, const unsigned char key[CODE_CACHE_KEY_BYTES], const CodeCacheEntry *e, char *err,
                     size_t errlen);

/* dir/KEYHEX.o, malloc'd. */
char *code_cache_path(const char *dir, const unsigned char key[CODE_CACHE_KEY_BYTES]);

#endif
