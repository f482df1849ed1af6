/* test_code_cache.c — the LLVM backend's on-disk code cache
 * (backend/llvm/code_cache.h).
 *
 * Each test points MMGC_CACHE_DIR at a folder of its own under the suite's
 * temporary directory, builds LLVM engines for a small model's training
 * step (tests/runtime/tiny.mmg at batch 4) and runs one step from fixed
 * parameters and inputs. A run's result is the loss and every updated
 * parameter, compared bit for bit with a run that did not use the cache:
 *
 * 1. a miss stores one entry, the next engine hits it, all three agree;
 *    MMGC_NO_CACHE and an empty MMGC_CACHE_DIR turn the cache off;
 * 2. every part of the key changes it (the graph, the plan, the host,
 *    LLVM's and mmgc's versions, the sources), and another model misses;
 * 3. a corrupt entry (a flipped byte in the header or the object, cut to
 *    nothing or to half, another key's file, a directory, an object the
 *    JIT cannot link behind a valid header) is a miss: the step is compiled
 *    again, right, and the entry replaced by a valid one;
 * 4. four processes compiling the same model into one empty folder at once
 *    all succeed with the same bits, leaving one valid entry and no
 *    temporary files; a killed writer's temporary goes once it is old;
 * 5. over MMGC_CACHE_SIZE the least recently used entries are removed
 *    (a hit counts as a use; the entry just stored always stays);
 * 6. a folder that cannot be created or written still runs, uncached;
 * 7. a step compiled as two modules (two threads) is two entries, read
 *    back together; a part missing or corrupt compiles the step again.
 * Tests 1-6 run on one thread: one module, one entry a step.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "code_cache.h"
#include "crc32.h"
#include "engine.h"
#include "engine_feed.h"
#include "frontend/compile.h"
#include "harness.h"
#include "llvm_backend.h"
#include "params.h"
#include "passes.h"
#include "rt_thread.h"

#define TINY MMGC_SOURCE_DIR "/tests/runtime/tiny.mmg"
#define TINY_BN MMGC_SOURCE_DIR "/tests/runtime/tiny_bn.mmg"

/* ---- one training step -------------------------------------------------------- */

typedef struct {
    unsigned char *bytes; /* the loss, then every parameter after the update */
    size_t n;
} Result;

/* A new LLVM engine for g (compiled or from the cache, as the environment
 * says) runs one training step; 0 with its result, or -1. */
static int step(const Graph *g, Result *r) {
    ParamStore ps = {0};
    Engine e = {0};
    char err[512];
    int rc = -1;
    if (params_init(&ps, g, err, sizeof err) == 0) {
        params_reset(&ps, g, 42);
        if (engine_open(&e, &engine_llvm, g, err, sizeof err) == 0 && params_bind(&ps, &e, err, sizeof err) == 0) {
            test_feed(&e, g, 3, ir_input(g, "sample_weight")); /* weights 1: batch norm's count is the batch */
            if (e.ops->run(e.impl, 1, 42, 0, err, sizeof err) == 0) {
                e.ops->apply_updates(e.impl);
                int loss = ir_output(g, "loss");
                size_t pbytes = ps.nfloats * sizeof(float);
                r->n = sizeof(float) + pbytes;
                r->bytes = malloc(r->n);
                memcpy(r->bytes, engine_f32(&e, loss), sizeof(float));
                memcpy(r->bytes + sizeof(float), ps.block, pbytes);
                rc = 0;
            }
        }
    }
    if (rc) fprintf(stderr, "\nstep: %s\n", err);
    if (e.impl) engine_close(&e);
    if (ps.slots) params_free(&ps);
    return rc;
}

static int same(const Result *a, const Result *b) { return a->n == b->n && !memcmp(a->bytes, b->bytes, a->n); }

/* ---- the models, and the reference run ---------------------------------------- */

static Compiled tiny, tiny_bn;
static Result want; /* tiny's step without the cache */

static int suite_init(void) {
    rt_set_threads(1); /* one module, one entry, a step (test 7 takes two threads) */
    if (!compile_train_step(&tiny, TINY) || !compile_train_step(&tiny_bn, TINY_BN)) return 1;
    setenv("MMGC_NO_CACHE", "1", 1);
    int rc = step(tiny.model.graph, &want);
    unsetenv("MMGC_NO_CACHE");
    return rc ? 1 : 0;
}

static int suite_clean(void) {
    compile_free(&tiny);
    compile_free(&tiny_bn);
    free(want.bytes);
    return 0;
}

/* ---- the cache folder ------------------------------------------------------------ */

/* A fresh folder tmpdir/name as the cache (not created: the first store does). */
static const char *use_cache(const char *name) {
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", harness_tmp(name));
    setenv("MMGC_CACHE_DIR", dir, 1);
    unsetenv("MMGC_NO_CACHE");
    return dir;
}

/* How many files dir holds: entries (*.o) and others (temporaries). */
static void count_files(const char *dir, int *entries, int *others) {
    *entries = *others = 0;
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *f; (f = readdir(d));) {
        size_t n = strlen(f->d_name);
        if (!strcmp(f->d_name, ".") || !strcmp(f->d_name, "..")) continue;
        if (n > 2 && !strcmp(f->d_name + n - 2, ".o")) ++*entries;
        else ++*others;
    }
    closedir(d);
}

/* The paths of up to max of dir's entries into path[]; returns how many
 * there are (all of them, even past max). */
static int entry_paths(const char *dir, char (*path)[4096 + 256], int max) {
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    for (struct dirent *f; (f = readdir(d));) {
        size_t len = strlen(f->d_name);
        if (len <= 2 || strcmp(f->d_name + len - 2, ".o")) continue;
        if (n < max) snprintf(path[n], sizeof path[0], "%s/%s", dir, f->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* The path of dir's one entry (static; "" if there is none). */
static const char *the_entry(const char *dir) {
    static char path[1][4096 + 256];
    path[0][0] = 0;
    entry_paths(dir, path, 1);
    return path[0];
}

/* Runs g's step on a new engine: the result must be expect's (if not
 * NULL), with that many cache hits and misses. */
static void check_step(const Graph *g, const Result *expect, int hits, int misses) {
    LlvmTimes t0 = llvm_times();
    Result r = {0};
    CU_ASSERT_EQUAL_FATAL(step(g, &r), 0);
    if (expect) CU_ASSERT_TRUE(same(&r, expect));
    LlvmTimes t1 = llvm_times();
    CU_ASSERT_EQUAL(t1.cache_hits - t0.cache_hits, hits);
    CU_ASSERT_EQUAL(t1.cache_misses - t0.cache_misses, misses);
    free(r.bytes);
}

/* ---- 1. a miss, then hits -------------------------------------------------------- */

static void test_miss_then_hit(void) {
    const char *dir = use_cache("hit");
    const Graph *g = tiny.model.graph;
    check_step(g, &want, 0, 1);
    int entries, others;
    count_files(dir, &entries, &others);
    CU_ASSERT_EQUAL(entries, 1);
    CU_ASSERT_EQUAL(others, 0);
    check_step(g, &want, 1, 0);
    check_step(g, &want, 1, 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(dir, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0755 & ~(unsigned)umask(022));

    /* off: neither read nor written */
    setenv("MMGC_NO_CACHE", "1", 1);
    LlvmTimes t0 = llvm_times();
    check_step(g, &want, 0, 0);
    CU_ASSERT_EQUAL(llvm_times().cache_off - t0.cache_off, 1);
    setenv("MMGC_NO_CACHE", "0", 1); /* "0" is not "off" */
    check_step(g, &want, 1, 0);
    unsetenv("MMGC_NO_CACHE");
    setenv("MMGC_CACHE_DIR", "", 1);
    check_step(g, &want, 0, 0);
    use_cache("hit");
}

/* ---- 2. the key ------------------------------------------------------------------ */

static void key_of(const Graph *g, const KernelPlan *p, const CodeCacheTarget *t, unsigned char k[32]) {
    code_cache_key(g, p, t, k);
}

static void test_key_parts(void) {
    Graph *g = ir_clone(tiny.model.graph);
    KernelPlan plan;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(pipeline_plan(g, &plan, NULL, err, sizeof err), 0);
    const CodeCacheTarget base = {"x86_64-pc-linux-gnu", "znver3", "+avx2,+fma", "19.1.7", "0.1.0", "abc", 0, 0, 1};
    unsigned char k0[32], k[32];
    key_of(g, &plan, &base, k0);
    key_of(g, &plan, &base, k);
    CU_ASSERT_EQUAL(memcmp(k0, k, 32), 0); /* a function of its inputs */

    for (int f = 0; f < 6; f++)
        for (int v = 0; v < 2; v++) {
            CodeCacheTarget t = base;
            const char *x = v ? NULL : "other";
            switch (f) {
            case 0: t.triple = x; break;
            case 1: t.cpu = x; break;
            case 2: t.features = x; break;
            case 3: t.llvm_version = x; break;
            case 4: t.mmgc_version = x; break;
            default: t.sources = x; break;
            }
            key_of(g, &plan, &t, k);
            CU_ASSERT_NOT_EQUAL(memcmp(k0, k, 32), 0);
        }
    /* the profiled variant of the same step (--profile) */
    CodeCacheTarget prof = base;
    prof.profiled = 1;
    key_of(g, &plan, &prof, k);
    CU_ASSERT_NOT_EQUAL(memcmp(k0, k, 32), 0);
    /* another part of the step, or the step cut into another number of parts */
    unsigned char kp[3][32];
    for (int i = 0; i < 3; i++) {
        CodeCacheTarget t = base;
        t.part = i == 1, t.nparts = i == 2 ? 3 : 2;
        key_of(g, &plan, &t, kp[i]);
        CU_ASSERT_NOT_EQUAL(memcmp(k0, kp[i], 32), 0);
    }
    CU_ASSERT_NOT_EQUAL(memcmp(kp[0], kp[1], 32), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(kp[1], kp[2], 32), 0);
    /* two fields' text moved across their boundary */
    CodeCacheTarget t = base;
    t.cpu = "znver3+", t.features = "avx2,+fma";
    key_of(g, &plan, &t, k);
    CU_ASSERT_NOT_EQUAL(memcmp(k0, k, 32), 0);

    /* the plan: a value kept that was not */
    int id = 0;
    while (id < g->nnodes && plan.kept[id]) id++;
    CU_ASSERT_FATAL(id < g->nnodes);
    plan.kept[id] = 1;
    key_of(g, &plan, &base, k);
    CU_ASSERT_NOT_EQUAL(memcmp(k0, k, 32), 0);
    plan.kept[id] = 0;
    /* the plan: an update copied after the step instead of computed in place */
    int u = 0;
    while (u < g->nnodes && plan.update_into[u] < 0) u++;
    CU_ASSERT_FATAL(u < g->nnodes);
    int into = plan.update_into[u];
    plan.update_into[u] = -1;
    key_of(g, &plan, &base, k);
    CU_ASSERT_NOT_EQUAL(memcmp(k0, k, 32), 0);
    plan.update_into[u] = into;

    /* the graph: a dimension, an attribute, a value, a name */
    int last = g->nnodes - 1;
    g->nodes[last].value += 1;
    key_of(g, &plan, &base, k);
    CU_ASSERT_NOT_EQUAL(memcmp(k0, k, 32), 0);
    g->nodes[last].value -= 1;
    key_of(g, &plan, &base, k);
    CU_ASSERT_EQUAL(memcmp(k0, k, 32), 0);
    g->nodes[last].op = g->nodes[last].op == OP_ADD ? OP_SUB : OP_ADD;
    key_of(g, &plan, &base, k);
    CU_ASSERT_NOT_EQUAL(memcmp(k0, k, 32), 0);
    fusion_plan_free(&plan);
    ir_graph_free(g);

    /* end to end: another model is a miss beside the first one's entry */
    const char *dir = use_cache("key");
    check_step(tiny.model.graph, &want, 0, 1);
    Result bn = {0};
    setenv("MMGC_NO_CACHE", "1", 1);
    CU_ASSERT_EQUAL_FATAL(step(tiny_bn.model.graph, &bn), 0);
    unsetenv("MMGC_NO_CACHE");
    check_step(tiny_bn.model.graph, &bn, 0, 1);
    check_step(tiny_bn.model.graph, &bn, 1, 0);
    check_step(tiny.model.graph, &want, 1, 0);
    int entries, others;
    count_files(dir, &entries, &others);
    CU_ASSERT_EQUAL(entries, 2);
    CU_ASSERT_EQUAL(others, 0);
    free(bn.bytes);
}

/* ---- 3. corrupt entries -------------------------------------------------------- */

static void put_le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Reads the entry back through the cache: is it whole and for its key? */
static int entry_valid(const char *dir) {
    const char *path = the_entry(dir);
    const char *name = strrchr(path, '/');
    if (!name || strlen(name + 1) != 66) return 0;
    unsigned char key[32];
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(name + 1 + 2 * i, "%2x", &v) != 1) return 0;
        key[i] = (unsigned char)v;
    }
    CodeCacheEntry e;
    char err[256];
    int ok = code_cache_load(dir, key, &e, err, sizeof err);
    if (!ok) fprintf(stderr, "\n%s\n", err);
    free(e.object);
    return ok;
}

static void test_corrupt_entries(void) {
    const Graph *g = tiny.model.graph;
    /* another model's entry, to put under tiny's name */
    const char *other = use_cache("corrupt-other");
    check_step(tiny_bn.model.graph, NULL, 0, 1);
    size_t nforeign;
    unsigned char *foreign = harness_slurp(the_entry(other), &nforeign);

    const char *dir = use_cache("corrupt");
    check_step(g, &want, 0, 1);
    char path[4096 + 256];
    snprintf(path, sizeof path, "%s", the_entry(dir));
    size_t n;
    unsigned char *good = harness_slurp(path, &n);
    CU_ASSERT_FATAL(n > 72);
    unsigned char *bad = malloc(n);
    const struct {
        const char *what;
        size_t at;   /* the byte flipped, or n for none */
        size_t keep; /* the bytes left */
    } cases[] = {
        {"magic", 0, n},          {"format", 8, n},       {"key", 20, n},         {"scratch_floats", 48, n},
        {"object size", 56, n},   {"object CRC", 64, n},  {"header CRC", 68, n},  {"first object byte", 72, n},
        {"middle of the object", 72 + (n - 72) / 2, n},   {"last byte", n - 1, n},
        {"cut to nothing", n, 0}, {"cut to the header", n, 72}, {"cut in half", n, n / 2}, {"one byte short", n, n - 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memcpy(bad, good, n);
        if (cases[c].at < n) bad[cases[c].at] ^= 0x10;
        harness_put_bytes(path, bad, cases[c].keep);
        check_step(g, &want, 0, 1);
        CU_ASSERT_STRING_NOT_EQUAL(llvm_times().cache_note, ""); /* --time says why */
        size_t m;
        unsigned char *now = harness_slurp(path, &m);
        if (m != n || memcmp(now, good, n)) fprintf(stderr, "\n%s: entry not rebuilt as before\n", cases[c].what);
        CU_ASSERT_TRUE(m == n && !memcmp(now, good, n)); /* the same compile gives the same object */
        free(now);
        check_step(g, &want, 1, 0);
    }
    /* a well-formed entry (CRCs right) whose object the JIT cannot link */
    memcpy(bad, good, n);
    memset(bad + 72, 0, 16); /* the ELF identification */
    put_le32(bad + 64, crc32_update(0, bad + 72, n - 72));
    put_le32(bad + 68, crc32_update(0, bad, 68));
    harness_put_bytes(path, bad, n);
    check_step(g, &want, 0, 1);
    CU_ASSERT_STRING_NOT_EQUAL(llvm_times().cache_note, "");
    size_t m;
    unsigned char *now = harness_slurp(path, &m);
    CU_ASSERT_TRUE(m == n && !memcmp(now, good, n));
    free(now);
    /* a whole, valid entry of another key under this name */
    harness_put_bytes(path, foreign, nforeign);
    check_step(g, &want, 0, 1);
    CU_ASSERT_TRUE(entry_valid(dir));
    /* a folder where the entry should be: compiled, not cached, still right */
    CU_ASSERT_EQUAL_FATAL(remove(path), 0);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0755), 0);
    check_step(g, &want, 0, 1);
    CU_ASSERT_STRING_NOT_EQUAL(llvm_times().cache_note, "");
    CU_ASSERT_EQUAL(rmdir(path), 0);
    int entries, others;
    count_files(dir, &entries, &others);
    CU_ASSERT_EQUAL(others, 0);
    free(bad);
    free(good);
    free(foreign);
}

/* ---- 4. concurrent writers ------------------------------------------------------ */

static void test_concurrent_writers(void) {
    const char *dir = use_cache("concurrent");
    int go[2];
    CU_ASSERT_EQUAL_FATAL(pipe(go), 0);
    enum { N = 4 };
    pid_t pid[N];
    fflush(NULL); /* the children must not write the parent's buffered output again */
    for (int i = 0; i < N; i++) {
        pid[i] = fork();
        CU_ASSERT_FATAL(pid[i] >= 0);
        if (pid[i] == 0) {
            close(go[1]);
            char c;
            while (read(go[0], &c, 1) > 0) {
            } /* all start when the parent closes the pipe */
            Result r = {0};
            int rc = step(tiny.model.graph, &r);
            char name[32];
            snprintf(name, sizeof name, "out%d", i);
            FILE *f = rc ? NULL : fopen(harness_tmp(name), "wb");
            rc = !f || fwrite(r.bytes, 1, r.n, f) != r.n || fclose(f) != 0;
            _exit(rc);
        }
    }
    close(go[0]);
    close(go[1]);
    for (int i = 0; i < N; i++) {
        int st;
        CU_ASSERT_EQUAL(waitpid(pid[i], &st, 0), pid[i]);
        CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        char name[32];
        snprintf(name, sizeof name, "out%d", i);
        Result r = {0};
        r.bytes = harness_slurp(harness_tmp(name), &r.n);
        CU_ASSERT_TRUE(same(&r, &want));
        free(r.bytes);
    }
    int entries, others;
    count_files(dir, &entries, &others);
    CU_ASSERT_EQUAL(entries, 1);
    CU_ASSERT_EQUAL(others, 0); /* no temporaries left */
    CU_ASSERT_TRUE(entry_valid(dir));
    check_step(tiny.model.graph, &want, 1, 0);
}

/* a killed writer's temporary goes once it is an hour old; a live one stays */
static void test_stale_temporaries(void) {
    const char *dir = use_cache("stale");
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
    char old[4096 + 128], fresh[4096 + 128], other[4096 + 128];
    const char *key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    snprintf(old, sizeof old, "%s/%s.o.99999.0.tmp", dir, key);
    snprintf(fresh, sizeof fresh, "%s/%s.o.99999.1.tmp", dir, key);
    snprintf(other, sizeof other, "%s/notes.tmp", dir);
    harness_put_bytes(old, "x", 1);
    harness_put_bytes(fresh, "x", 1);
    harness_put_bytes(other, "x", 1);
    struct timespec times[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
    CU_ASSERT_EQUAL_FATAL(utimensat(AT_FDCWD, old, times, 0), 0);
    CU_ASSERT_EQUAL_FATAL(utimensat(AT_FDCWD, other, times, 0), 0);
    check_step(tiny.model.graph, &want, 0, 1);
    struct stat st;
    CU_ASSERT_NOT_EQUAL(stat(old, &st), 0);
    CU_ASSERT_EQUAL(stat(fresh, &st), 0);
    CU_ASSERT_EQUAL(stat(other, &st), 0); /* not the cache's: left alone */
}

/* ---- 5. the size limit ------------------------------------------------------------ */

/* MMGC_CACHE_SIZE: sizes with units, 0 for no limit, anything else the default */
static void test_size_setting(void) {
    static const struct {
        const char *v;
        uint64_t want;
        int bad;
    } cases[] = {
        {"", CODE_CACHE_DEFAULT_LIMIT, 0}, {"4096", 4096, 0},          {"100K", 100 << 10, 0},
        {"512M", 512ull << 20, 0},         {"2G", 2ull << 30, 0},      {"2GiB", 2ull << 30, 0},
        {"3mb", 3ull << 20, 0},            {"0", 0, 0},                {"abc", CODE_CACHE_DEFAULT_LIMIT, 1},
        {"12X", CODE_CACHE_DEFAULT_LIMIT, 1}, {"-5M", CODE_CACHE_DEFAULT_LIMIT, 1},
        {" 5M", CODE_CACHE_DEFAULT_LIMIT, 1}, {"5 M", CODE_CACHE_DEFAULT_LIMIT, 1},
        {"99999999999G", CODE_CACHE_DEFAULT_LIMIT, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        setenv("MMGC_CACHE_SIZE", cases[i].v, 1);
        int bad = -1;
        uint64_t got = code_cache_limit(&bad);
        if (got != cases[i].want || bad != cases[i].bad)
            fprintf(stderr, "\nMMGC_CACHE_SIZE=\"%s\": %llu bad %d\n", cases[i].v, (unsigned long long)got, bad);
        CU_ASSERT_EQUAL(got, cases[i].want);
        CU_ASSERT_EQUAL(bad, cases[i].bad);
    }
    unsetenv("MMGC_CACHE_SIZE");
    int bad;
    CU_ASSERT_EQUAL(code_cache_limit(&bad), CODE_CACHE_DEFAULT_LIMIT);
    CU_ASSERT_EQUAL(bad, 0);
}

/* An entry of size bytes (header included) for a key made of byte k. */
static void put_entry(const char *dir, unsigned char k, size_t size, time_t used) {
    unsigned char key[CODE_CACHE_KEY_BYTES];
    memset(key, k, sizeof key);
    unsigned char *obj = calloc(1, size - 72);
    CodeCacheEntry e = {obj, size - 72, 0};
    char err[256];
    CU_ASSERT_EQUAL(code_cache_store(dir, key, &e, err, sizeof err), 0);
    free(obj);
    char *path = code_cache_path(dir, key);
    struct timespec t[2] = {{used, 0}, {used, 0}};
    CU_ASSERT_EQUAL(utimensat(AT_FDCWD, path, t, 0), 0);
    free(path);
}

static int has_entry(const char *dir, unsigned char k) {
    unsigned char key[CODE_CACHE_KEY_BYTES];
    memset(key, k, sizeof key);
    char *path = code_cache_path(dir, key);
    struct stat st;
    int yes = stat(path, &st) == 0;
    free(path);
    return yes;
}

/* over the limit, the least recently used entries go (a hit counts as a
 * use); the entry just stored stays even when it alone is over; files that
 * are not entries are left alone */
static void test_size_limit(void) {
    const char *dir = use_cache("limit");
    time_t now = time(NULL);
    setenv("MMGC_CACHE_SIZE", "30K", 1);
    put_entry(dir, 1, 10 << 10, now - 400);
    put_entry(dir, 2, 10 << 10, now - 300);
    put_entry(dir, 3, 10 << 10, now - 200); /* 30K: at the limit, all stay */
    CU_ASSERT_TRUE(has_entry(dir, 1) && has_entry(dir, 2) && has_entry(dir, 3));
    char other[4096 + 32];
    snprintf(other, sizeof other, "%s/notes.o", dir);
    harness_put_bytes(other, "x", 1);
    /* reading entry 1 makes it the most recently used */
    unsigned char key[CODE_CACHE_KEY_BYTES];
    memset(key, 1, sizeof key);
    CodeCacheEntry e;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(code_cache_load(dir, key, &e, err, sizeof err), 1);
    free(e.object);
    put_entry(dir, 4, 10 << 10, now); /* 40K: 2, the oldest unread, goes */
    CU_ASSERT_TRUE(has_entry(dir, 1));
    CU_ASSERT_FALSE(has_entry(dir, 2));
    CU_ASSERT_TRUE(has_entry(dir, 3) && has_entry(dir, 4));
    put_entry(dir, 5, 25 << 10, now); /* 55K: 3, 1 and 4 go, 5 stays alone */
    CU_ASSERT_FALSE(has_entry(dir, 1) || has_entry(dir, 3) || has_entry(dir, 4));
    CU_ASSERT_TRUE(has_entry(dir, 5));
    put_entry(dir, 6, 40 << 10, now); /* over the limit by itself: stays, 5 goes */
    CU_ASSERT_FALSE(has_entry(dir, 5));
    CU_ASSERT_TRUE(has_entry(dir, 6));
    struct stat st;
    CU_ASSERT_EQUAL(stat(other, &st), 0);
    /* no limit: nothing goes */
    setenv("MMGC_CACHE_SIZE", "0", 1);
    put_entry(dir, 7, 40 << 10, now);
    CU_ASSERT_TRUE(has_entry(dir, 6) && has_entry(dir, 7));
    /* a bad size: the default (1G), nothing goes, and --time says so */
    setenv("MMGC_CACHE_SIZE", "lots", 1);
    check_step(tiny.model.graph, &want, 0, 1);
    CU_ASSERT_TRUE(has_entry(dir, 6) && has_entry(dir, 7));
    CU_ASSERT_PTR_NOT_NULL(strstr(llvm_times().cache_note, "MMGC_CACHE_SIZE is not a size"));
    unsetenv("MMGC_CACHE_SIZE");
}

/* ---- 6. a cache that cannot be written ------------------------------------------ */

static void test_unwritable(void) {
    const Graph *g = tiny.model.graph;
    /* below a regular file: the folder cannot be created (even by root) */
    harness_put_bytes(harness_tmp("plain"), "x", 1);
    char dir[4096 + 16];
    snprintf(dir, sizeof dir, "%s/cache", harness_tmp("plain"));
    setenv("MMGC_CACHE_DIR", dir, 1);
    check_step(g, &want, 0, 1);
    CU_ASSERT_STRING_NOT_EQUAL(llvm_times().cache_note, "");
    check_step(g, &want, 0, 1);
    /* a read-only folder (root writes into it anyway) */
    snprintf(dir, sizeof dir, "%s", harness_tmp("readonly"));
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0555), 0);
    setenv("MMGC_CACHE_DIR", dir, 1);
    if (geteuid() != 0) {
        check_step(g, &want, 0, 1);
        check_step(g, &want, 0, 1);
        int entries, others;
        count_files(dir, &entries, &others);
        CU_ASSERT_EQUAL(entries + others, 0);
    }
    chmod(dir, 0755); /* so the suite's folder can be removed */
}

/* ---- 7. a step in two parts ------------------------------------------------------- */

static void test_two_parts(void) {
    const Graph *g = tiny.model.graph;
    const char *dir = use_cache("parts");
    rt_set_threads(2);
    LlvmTimes t0 = llvm_times();
    check_step(g, &want, 0, 1);
    CU_ASSERT_EQUAL(llvm_times().modules - t0.modules, 2);
    char path[2][4096 + 256];
    CU_ASSERT_EQUAL_FATAL(entry_paths(dir, path, 2), 2);
    check_step(g, &want, 1, 0); /* both parts read */
    for (int p = 0; p < 2; p++) { /* either part gone, or cut short: compiled again, both stored */
        size_t n;
        unsigned char *keep = harness_slurp(path[p], &n);
        CU_ASSERT_FATAL(keep && n > 72);
        unlink(path[p]);
        check_step(g, &want, 0, 1);
        CU_ASSERT_EQUAL(entry_paths(dir, path, 2), 2);
        truncate(path[p], (off_t)n / 2);
        check_step(g, &want, 0, 1);
        check_step(g, &want, 1, 0);
        free(keep);
    }
    /* one thread: the one-module step is an entry of its own */
    rt_set_threads(1);
    check_step(g, &want, 0, 1);
    int entries, others;
    count_files(dir, &entries, &others);
    CU_ASSERT_EQUAL(entries, 3);
}

static CU_TestInfo tests[] = {
    {"a miss stores an entry, later engines hit it, same bits as uncached; off switches", test_miss_then_hit},
    {"every part of the key changes it; another model misses", test_key_parts},
    {"corrupt, truncated and foreign entries are rebuilt, results right", test_corrupt_entries},
    {"four processes fill one empty cache at once: same bits, one entry, no temporaries", test_concurrent_writers},
    {"a killed writer's temporary is removed once an hour old", test_stale_temporaries},
    {"MMGC_CACHE_SIZE: sizes with K, M, G; 0 for none; anything else the default", test_size_setting},
    {"over the size limit the least recently used entries go, never the one just stored", test_size_limit},
    {"a cache folder that cannot be created or written: runs, uncached", test_unwritable},
    {"a step in two modules: two entries read together; a part missing or cut, compiled again", test_two_parts},
    CU_TEST_INFO_NULL,
};

int main(void) {
    if (suite_init()) return 2;
    int rc = harness_run_in_tmpdir("code cache", tests);
    suite_clean();
    return rc;
}
