/* test_profile.c — --profile (runtime/profile.h) on tests/runtime/prof.mmg
 * with the LLVM backend: the rows sum to the step time measured here
 * around the step call; every kernel is on a line of the source that
 * exists; the matmul's line gets exactly the FLOPs of the matmul and of
 * its weight gradient, and a view no bytes; a line's block paths are the instances that ran
 * it; the JSON parses and has the fields; the report's
 * Profile section is there and the page still parses as XML; the
 * machine's limits are measured and each row's rates are shown as shares
 * of them (table, JSON, report); the step
 * compiled without profiling has no profiling calls, the profiled one a
 * pair per kernel; the interpreter refuses to profile. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "frontend/compile.h"
#include "harness.h"
#include "json_tree.h"
#include "llvm_backend.h"
#include "params.h"
#include "profile.h"
#include "report.h"
#include "train.h"

enum { B = 64, STEPS = 100, BLOCKS = 5, WARMUP = 3 };

static const char *model_path = MMGC_SOURCE_DIR "/tests/runtime/prof.mmg";

/* prof.mmg at batch B, its training step on a profiled LLVM engine, run
 * BLOCKS times STEPS times (after WARMUP steps, not profiled) with random
 * inputs, the profile reset before each block. On a busy machine a
 * preemption between this test's clock and the engine's would count on
 * one side only: the median block's ratio is what is checked. */
typedef struct {
    Compiled c;
    Graph *g;
    ParamStore ps;
    Engine e;
    double measured_ms; /* the mean of the last block's step calls, timed here */
    double ratio;       /* the engine's step time / the one timed here: the median block's */
    double inside;      /* the largest share of a block's step time spent inside its kernels */
    Profile p;          /* of the last block */
} Run;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Inputs in [-1, 1), labels in 0..2, sample weights and training 1. */
static void fill(Run *r) {
    unsigned s = 7;
    const Elaborated *m = &r->c.model;
    for (int i = 0; i < r->g->nnodes; i++) {
        const Node *n = &r->g->nodes[i];
        if (n->op != OP_INPUT && n->op != OP_LABEL) continue;
        for (int64_t k = 0; k < ir_numel(&n->type.shape); k++) {
            s = s * 1664525u + 1013904223u;
            if (n->op == OP_LABEL) engine_i64(&r->e, i)[k] = (int64_t)((s >> 8) % 3);
            else if (i == m->weight_node || i == m->training_node) engine_f32(&r->e, i)[k] = 1.0f;
            else engine_f32(&r->e, i)[k] = (float)((s >> 8) / 8388608.0 - 1.0);
        }
    }
}

static Run *run_profiled(void) {
    static Run r;
    static int done;
    if (done) return &r;
    done = 1;
    char set[32], err[1024] = "";
    snprintf(set, sizeof set, "batch=%d", B);
    const char *sets[1] = {set};
    if (!compile_file_ok(&r.c, model_path, sets, 1)) return NULL;
    r.g = train_step_graph(&r.c.model, 1, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.g);
    CU_ASSERT_EQUAL_FATAL(params_init(&r.ps, r.g, err, sizeof err), 0);
    int rc = engine_open_profiled(&r.e, &engine_llvm, r.g, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL_FATAL(params_bind(&r.ps, &r.e, err, sizeof err), 0);
    params_reset(&r.ps, r.g, 1);
    fill(&r);
    for (int i = 0; i < WARMUP; i++) CU_ASSERT_EQUAL(r.e.ops->run(r.e.impl, 1, 1, (uint64_t)i, err, sizeof err), 0);
    const EngineProfile *ep = NULL;
    double ratio[BLOCKS];
    for (int b = 0; b < BLOCKS; b++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(engine_profile(&r.e, 1)); /* zeroed: the warm-up and earlier blocks do not count */
        double total = 0;
        for (int i = 0; i < STEPS; i++) {
            double t0 = now_ms();
            rc = r.e.ops->run(r.e.impl, 1, 1, (uint64_t)(WARMUP + b * STEPS + i), err, sizeof err);
            total += now_ms() - t0;
            CU_ASSERT_EQUAL(rc, 0);
        }
        r.measured_ms = total / STEPS;
        ep = engine_profile(&r.e, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ep);
        CU_ASSERT_EQUAL(ep->runs, (uint64_t)STEPS);
        uint64_t in = 0;
        for (int k = 0; k < ep->nk; k++) in += ep->kernel_ns[k];
        if (ep->step_ns && (double)in / (double)ep->step_ns > r.inside) r.inside = (double)in / (double)ep->step_ns;
        ratio[b] = (double)ep->step_ns / 1e6 / STEPS / r.measured_ms;
        for (int k = b; k > 0 && ratio[k] < ratio[k - 1]; k--) { /* kept sorted */
            double t = ratio[k];
            ratio[k] = ratio[k - 1], ratio[k - 1] = t;
        }
    }
    r.ratio = ratio[BLOCKS / 2];
    CU_ASSERT_EQUAL_FATAL(
        profile_build(r.g, ep, (const char *const *)r.c.model.block, r.c.model.graph->nnodes, &r.p, err, sizeof err), 0);
    profile_print(&r.p, stdout);
    return &r;
}

/* The row of `where` ("prof.mmg:9"), or NULL. */
static const ReportProfileLine *row(const Profile *p, const char *where) {
    for (int i = 0; i < p->rep.nlines; i++)
        if (!strcmp(p->rep.lines[i].where, where)) return &p->rep.lines[i];
    return NULL;
}

static void test_sums_to_step(void) {
    Run *r = run_profiled();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    double sum = 0, share = 0;
    for (int i = 0; i < r->p.rep.nlines; i++) sum += r->p.rep.lines[i].ms, share += r->p.rep.lines[i].share;
    /* the rows are the step the engine timed, exactly (the last is its time outside kernels) */
    CU_ASSERT_DOUBLE_EQUAL(sum, r->p.rep.step_ms, 1e-9 * r->p.rep.step_ms);
    CU_ASSERT_DOUBLE_EQUAL(share, 1.0, 1e-9);
    ASSERT_STR(r->p.rep.lines[r->p.rep.nlines - 1].where, "(outside kernels)");
    /* the kernels were timed, not only the step: in the quietest block
     * (a 50 us step on a busy machine loses whole blocks to other work,
     * which counts outside the kernels) they are most of it */
    CU_ASSERT(r->inside > 0.5);
    /* and that is the step as timed here around the call, within 5% */
    printf("\n  rows sum to %.4f ms, measured around the call %.4f ms; the median block's ratio %.4f\n", sum,
           r->measured_ms, r->ratio);
    CU_ASSERT(r->ratio > 0.95 && r->ratio < 1.05);
    CU_ASSERT_EQUAL(r->p.rep.steps, (uint64_t)STEPS);
}

/* Counts the lines of a file. */
static int lines_of(const char *path) {
    size_t n;
    unsigned char *s = harness_slurp(path, &n);
    int lines = 0;
    for (size_t i = 0; i < n; i++) lines += s[i] == '\n';
    free(s);
    return lines;
}

static void test_every_kernel_on_a_line(void) {
    Run *r = run_profiled();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const Profile *p = &r->p;
    CU_ASSERT(p->rep.nkernels > 5);
    for (int k = 0; k < p->rep.nkernels; k++) {
        int l = p->kernel[k].line;
        CU_ASSERT_FATAL(l >= 0 && l < p->rep.nlines - 1); /* a source line, not the outside row */
        CU_ASSERT_PTR_NOT_NULL_FATAL(p->files[l]);
        CU_ASSERT(p->lineno[l] >= 1 && p->lineno[l] <= lines_of(p->files[l]));
        CU_ASSERT(p->rep.lines[l].text[0] != 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(p->rep.lines[l].kernels, p->kernel[k].name));
    }
}

static void test_matmul_line_flops(void) {
    Run *r = run_profiled();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const ReportProfileLine *l = row(&r->p, "prof.mmg:9");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    ASSERT_STR(l->text, "return y @ w");
    ASSERT_STR(l->paths, "project");
    /* y @ w: 2 * B * 8 * 3; its weight gradient y^T @ dlogits the same; nothing else is on the line */
    CU_ASSERT_DOUBLE_EQUAL(l->flops, 2.0 * (2.0 * B * 8 * 3), 1e-9);
    /* bytes: y [B, 8], w [8, 3], logits [B, 3] forward; y, dlogits [B, 3], dw [8, 3] backward */
    CU_ASSERT_DOUBLE_EQUAL(l->bytes, 4.0 * ((B * 8 + 8 * 3 + B * 3) * 2), 1e-9);
    CU_ASSERT_PTR_NOT_NULL(strstr(l->kernels, "matmul"));
    /* relu(x) is on line 8, the SGD update of w on the parameter's line 7 */
    const ReportProfileLine *relu = row(&r->p, "prof.mmg:8"), *update = row(&r->p, "prof.mmg:7");
    CU_ASSERT_PTR_NOT_NULL_FATAL(relu);
    CU_ASSERT_PTR_NOT_NULL_FATAL(update);
    CU_ASSERT_DOUBLE_EQUAL(relu->flops, (double)B * 8, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(update->flops, 2.0 * 8 * 3, 1e-9); /* w - lr * dw */
    /* line 15: x's reshape copies (reads x, writes [B, 2, 4]), relu reads
     * and writes [B, 2, 4], and relu's reshape is a view: no bytes */
    const ReportProfileLine *views = row(&r->p, "prof.mmg:15");
    CU_ASSERT_PTR_NOT_NULL_FATAL(views);
    ASSERT_STR(views->kernels, "k0 reshape, k1 loop, k2 reshape");
    CU_ASSERT_DOUBLE_EQUAL(views->bytes, 4.0 * (B * 8 * 4), 1e-9);
}

static void test_blocks(void) {
    Run *r = run_profiled();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const Elaborated *m = &r->c.model;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->block);
    int project = 0, model = 0;
    for (int i = 0; i < m->graph->nnodes; i++) {
        const Node *n = &m->graph->nodes[i];
        const char *file = m->graph->files[n->loc.file], *base = strrchr(file, '/');
        if (strcmp(base ? base + 1 : file, "prof.mmg")) continue;
        if (n->loc.line >= 7 && n->loc.line <= 9) { /* project's param, relu, matmul */
            CU_ASSERT_PTR_NOT_NULL_FATAL(m->block[i]);
            ASSERT_STR(m->block[i], "project");
            project++;
        }
        if (n->loc.line == 16 && n->op != OP_INPUT) { /* the model's mean of the per-sample loss */
            CU_ASSERT_PTR_NULL(m->block[i]);
            model++;
        }
    }
    CU_ASSERT_EQUAL(project, 3);
    CU_ASSERT(model > 0);
    ASSERT_STR(row(&r->p, "losses.mmg:8")->paths, "cross_entropy");
    ASSERT_STR(row(&r->p, "nn.mmg:57")->paths, "cross_entropy.log_softmax");
    ASSERT_STR(row(&r->p, "prof.mmg:16")->paths, "prof");
}

static void test_json(void) {
    Run *r = run_profiled();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    char err[1024];
    const char *path = harness_tmp("profile.json");
    CU_ASSERT_EQUAL_FATAL(profile_write_json(&r->p, path, err, sizeof err), 0);
    size_t n;
    char *text = (char *)harness_slurp(path, &n);
    Json root;
    int rc = json_parse(text, n, path, "profile", 0, 1, &root, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(json_number_or(json_get(&root, "steps"), -1), STEPS);
    CU_ASSERT_EQUAL(json_number_or(json_get(&root, "kernels"), -1), r->p.rep.nkernels);
    CU_ASSERT_DOUBLE_EQUAL(json_number_or(json_get(&root, "step_ms"), -1), r->p.rep.step_ms, 1e-6 * r->p.rep.step_ms);
    CU_ASSERT_PTR_NOT_NULL(json_get(&root, "rule"));
    const Json *lines = json_get(&root, "lines");
    CU_ASSERT_PTR_NOT_NULL_FATAL(lines);
    CU_ASSERT_EQUAL_FATAL(lines->type, JSON_ARR);
    CU_ASSERT_EQUAL_FATAL(lines->n, r->p.rep.nlines);
    const char *keys[] = {"where", "file", "line", "text", "paths", "ms_per_step", "share", "flops_per_step",
                          "bytes_per_step", "gflops_per_s", "gbytes_per_s", "kernels"};
    double ms = 0;
    int kernels = 0, found = 0;
    for (int i = 0; i < lines->n; i++) {
        const Json *l = &lines->items[i];
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) CU_ASSERT_PTR_NOT_NULL(json_get(l, keys[k]));
        ms += json_number_or(json_get(l, "ms_per_step"), NAN);
        kernels += json_get(l, "kernels")->n;
        const Json *where = json_get(l, "where");
        if (where && where->type == JSON_STR && !strcmp(where->str, "prof.mmg:9")) {
            found = 1;
            CU_ASSERT_EQUAL(json_number_or(json_get(l, "line"), -1), 9);
            CU_ASSERT_DOUBLE_EQUAL(json_number_or(json_get(l, "flops_per_step"), -1), 2.0 * (2.0 * B * 8 * 3), 1e-9);
        }
    }
    CU_ASSERT(found);
    CU_ASSERT_EQUAL(kernels, r->p.rep.nkernels);
    CU_ASSERT_DOUBLE_EQUAL(ms, r->p.rep.step_ms, 1e-6 * r->p.rep.step_ms);
    json_free(&root);
    free(text);
}

/* A report of nothing but r's profile in the test folder's dir; its page
 * (the caller frees it), NULL if it could not be written, and its path
 * into path. */
static char *profile_page(const Run *r, const char *dir, char *path, size_t size) {
    ReportData d;
    memset(&d, 0, sizeof d);
    d.model = "prof";
    d.test_loss = d.test_accuracy = NAN;
    d.profile = &r->p.rep;
    char err[1024];
    int rc = report_write(harness_tmp(dir), &d, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    CU_ASSERT_EQUAL(rc, 0);
    snprintf(path, size, "%s/index.html", harness_tmp(dir));
    return rc ? NULL : (char *)harness_slurp(path, NULL);
}

static void test_report_section(void) {
    Run *r = run_profiled();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    char path[4400];
    char *page = profile_page(r, "report", path, sizeof path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(page);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "<h2 id=\"profile\">Profile</h2>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "<td>prof.mmg:9</td><td class=\"src\"><code>return y @ w</code></td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "<td>(outside kernels)</td>"));
    CU_ASSERT(harness_xml_ok(path));
    free(page);
}

/* Occurrences of needle in s. */
static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* The machine's limits are measured (both positive, on the step's
 * threads); given limits, the table has a limits line and each row's
 * shares are its rates over them, and the JSON and the report carry them.
 * The limits are set by hand for the values, so that the expected shares
 * are known. */
static void test_limits(void) {
    Run *r = run_profiled();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    ReportProfile saved = r->p.rep;
    profile_measure_limits(&r->p, 0.05);
    CU_ASSERT(r->p.rep.peak_gflops > 0);
    CU_ASSERT(r->p.rep.peak_gbytes > 0);
    CU_ASSERT(r->p.rep.threads >= 1);

    r->p.rep.peak_gflops = 0.5, r->p.rep.peak_gbytes = 0.25, r->p.rep.threads = 3;
    const ReportProfileLine *l = row(&r->p, "prof.mmg:9");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    double gflops = l->flops / (l->ms * 1e6), gbytes = l->bytes / (l->ms * 1e6);
    char *text = NULL, want[160];
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    profile_print(&r->p, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nlimits: FMA peak 0.5 GFLOP/s, memory 0.2 GB/s on 3 threads (measured after "
                                       "the steps; \"peak\" and \"mem\" are each row's shares of them)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "  GFLOP/s  peak     GB/s   mem  line\n"));
    snprintf(want, sizeof want, "%9.2f %4.0f%%%9.2f %4.0f%%  prof.mmg:9", gflops, 100 * gflops / 0.5, gbytes,
             100 * gbytes / 0.25);
    if (!strstr(text, want)) fprintf(stderr, "\n  no row '%s' in\n%s", want, text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
    free(text);

    char err[1024];
    const char *path = harness_tmp("limits.json");
    CU_ASSERT_EQUAL_FATAL(profile_write_json(&r->p, path, err, sizeof err), 0);
    char *json = (char *)harness_slurp(path, &n);
    Json root;
    CU_ASSERT_EQUAL_FATAL(json_parse(json, n, path, "profile", 0, 1, &root, err, sizeof err), 0);
    CU_ASSERT_EQUAL(json_number_or(json_get(&root, "threads"), -1), 3);
    const Json *lim = json_get(&root, "limits");
    CU_ASSERT_PTR_NOT_NULL_FATAL(lim);
    CU_ASSERT_DOUBLE_EQUAL(json_number_or(json_get(lim, "fma_peak_gflops_per_s"), -1), 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(json_number_or(json_get(lim, "memory_gbytes_per_s"), -1), 0.25, 1e-12);
    const Json *lines = json_get(&root, "lines");
    CU_ASSERT_PTR_NOT_NULL_FATAL(lines);
    for (int i = 0; i < lines->n; i++) {
        const Json *jl = &lines->items[i];
        double g = json_number_or(json_get(jl, "gflops_per_s"), NAN), s = json_number_or(json_get(jl, "peak_share"), NAN);
        if (isfinite(g)) CU_ASSERT_DOUBLE_EQUAL(s, g / 0.5, 1e-6 * (s > 1 ? s : 1));
        double b = json_number_or(json_get(jl, "gbytes_per_s"), NAN), m = json_number_or(json_get(jl, "memory_share"), NAN);
        if (isfinite(b)) CU_ASSERT_DOUBLE_EQUAL(m, b / 0.25, 1e-6 * (m > 1 ? m : 1));
    }
    json_free(&root);
    free(json);

    char page_path[4400];
    char *page = profile_page(r, "report-limits", page_path, sizeof page_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(page);
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "<th>GFLOP/s</th><th>of peak</th><th>GB/s</th><th>of memory</th>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(page, "Measured after the steps on 3 threads: an FMA peak of 0.5 GFLOP/s and a "
                                        "memory bandwidth of 0.2 GB/s"));
    CU_ASSERT(harness_xml_ok(page_path));
    free(page);
    r->p.rep = saved;
}

/* The optimized LLVM IR of the step, with or without profiling. */
static char *step_ir(Run *r, int profile) {
    char *text = NULL, err[1024];
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    CU_ASSERT_EQUAL(llvm_emit(r->g, 0, profile, f, err, sizeof err), 0);
    fclose(f);
    return text;
}

static void test_ir(void) {
    Run *r = run_profiled();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    char *plain = step_ir(r, 0), *timed = step_ir(r, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(plain, "define i32 @mmgc_step("));
    CU_ASSERT_PTR_NULL(strstr(plain, "mmgc_prof"));
    CU_ASSERT_EQUAL(count(timed, "call void @mmgc_prof_enter(i32 "), r->p.rep.nkernels);
    CU_ASSERT_EQUAL(count(timed, "call void @mmgc_prof_leave(i32 "), r->p.rep.nkernels);
    free(plain);
    free(timed);
}

static void test_interp_refuses(void) {
    Run *r = run_profiled();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    Engine e;
    char err[256];
    CU_ASSERT_EQUAL(engine_open_profiled(&e, &engine_interp, r->g, err, sizeof err), -1);
    ASSERT_STR(err, "profiling needs the llvm backend (the interp backend does not time its kernels)");
    /* an engine made without profiling has no profile */
    CU_ASSERT_EQUAL_FATAL(engine_open(&e, &engine_llvm, r->g, err, sizeof err), 0);
    CU_ASSERT_PTR_NULL(engine_profile(&e, 0));
    engine_close(&e);
}

/* Frees the run (last, so that ASan sees everything released). */
static void test_cleanup(void) {
    Run *r = run_profiled();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    profile_free(&r->p);
    engine_close(&r->e);
    params_free(&r->ps);
    ir_graph_free(r->g);
    compile_free(&r->c);
}

static CU_TestInfo tests[] = {
    {"the rows sum to the step time measured around the call", test_sums_to_step},
    {"every kernel is on a line of the source that exists", test_every_kernel_on_a_line},
    {"the matmul's line gets the matmul's FLOPs and bytes", test_matmul_line_flops},
    {"the elaborator records each node's block instance; the rows list them", test_blocks},
    {"the JSON parses and has the fields", test_json},
    {"the report has the Profile section and is valid XML", test_report_section},
    {"the machine's limits: measured, and each row's shares of them", test_limits},
    {"no profiling calls without profiling; a pair per kernel with it", test_ir},
    {"the interpreter cannot profile; an unprofiled engine has no profile", test_interp_refuses},
    {"cleanup", test_cleanup},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run_in_tmpdir("profile", tests); }
