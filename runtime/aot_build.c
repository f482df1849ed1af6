/* aot_build.c — `mmgc FILE.mmg --aot -o PROGRAM`: one executable that
 * trains, evaluates and describes the model without LLVM or .mmg files.
 *
 * The training step and the evaluation graph are compiled to object files
 * for the chosen CPU (backend/llvm/aot_object.c); a generated C file holds
 * the model's sources with their import edges, the --set values, the table
 * of steps by graph fingerprint, the CPU features the code needs and the
 * text of --help (runtime/aot.h). The system C compiler links them with
 * mmgc's runtime libraries (static; OpenBLAS stays shared). The program is
 * written next to PROGRAM and renamed over it when complete.
 */
#include "aot_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aot_config.h"
#include "checkpoint.h"
#include "aot_object.h"
#include "rng.h"
#include "summary.h"
#include "train.h"
#include "util.h"

/* Writes s as a C string literal. */
static void put_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n\"\n\"", f);
        else if (*p < 0x20 || *p >= 0x7f) fprintf(f, "\\%03o", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

uint64_t aot_sources_hash(const Program *p) {
    uint64_t h = 0;
    for (int i = 0; i < p->nmodules; i++)
        if (p->modules[i]) h = h * 0x100000001b3u ^ rng_hash(p->src.files[i].text);
    return h;
}

/* What --help says of the model. */
static char *about(const Program *p, const Elaborated *m, const AotBuildOptions *o, const char *features) {
    char *buf = NULL, t[128];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fprintf(f, "model '%s', compiled by mmgc %s from %s (sources %016llx)\n", m->model, MMGC_VERSION,
            p->src.files[p->main_file].path, (unsigned long long)aot_sources_hash(p));
    fprintf(f, "  inputs:");
    for (int i = 0; i < m->ninputs; i++)
        fprintf(f, " %s %s", m->inputs[i].name, ir_type_str(&m->graph->nodes[m->inputs[i].node].type, t, sizeof t));
    fprintf(f, "\n  labels:");
    for (int i = 0; i < m->nlabels; i++)
        fprintf(f, " %s %s", m->labels[i].name, ir_type_str(&m->graph->nodes[m->labels[i].node].type, t, sizeof t));
    long long params = summary_param_count(m->graph);
    const TrainSettings *s = &m->train;
    fprintf(f, "%s\n  parameters: %lld\n", m->nlabels ? "" : " (none)", params);
    fprintf(f, "  train: %s lr %g, batch %d, max_epochs %d, val_split %g, early stopping on %s with patience %d, "
               "seed %lld%s\n",
            optimizer_names[s->optimizer.kind], s->optimizer.lr, s->batch, s->max_epochs, s->val_split, s->monitor, s->patience,
            s->seed, m->data ? "" : "; no data directory named");
    if (m->data) fprintf(f, "  data: %s\n", m->data);
    fprintf(f, "  CPU: %s%s%s\n", o->cpu, *features ? ", needs " : "", features);
    if (o->weights) fprintf(f, "  weights: baked in from %s (eval needs no --checkpoint)\n", o->weights);
    fclose(f);
    return buf;
}

/* Checks that the checkpoint at path holds every parameter of m, by name
 * and shape; its size in *size. 0, or -1 with a message. */
static int check_weights(const char *path, const Elaborated *m, long long *size, char *err, size_t n) {
    Checkpoint *c = ckpt_read(path, err, n);
    if (!c) return -1;
    int rc = 0;
    char a[128], b[128];
    for (int i = 0; i < m->graph->nnodes && !rc; i++) {
        const Node *nd = &m->graph->nodes[i];
        if (nd->op != OP_PARAM) continue;
        const CkptTensor *t = ckpt_find(c, nd->name);
        if (!t) rc = (snprintf(err, n, "--weights %s: no tensor '%s' (a checkpoint of another model?)", path, nd->name), -1);
        else if (t->dtype != DT_F32 || !ir_shape_eq(&t->shape, &nd->type.shape))
            rc = (snprintf(err, n, "--weights %s: '%s' is %s %s, the model's is f32 %s", path, nd->name,
                          ir_dtype_name(t->dtype), ir_shape_str(&t->shape, a, sizeof a),
                          ir_shape_str(&nd->type.shape, b, sizeof b)), -1);
    }
    ckpt_free(c);
    struct stat st;
    if (!rc && stat(path, &st)) rc = (snprintf(err, n, "cannot read '%s': %s", path, strerror(errno)), -1);
    *size = (long long)st.st_size;
    return rc;
}

/* An assembler file that includes the checkpoint's bytes as they are. */
static int write_weights_s(const char *s_path, const char *weights, char *err, size_t n) {
    char real[4096];
    if (!realpath(weights, real)) return snprintf(err, n, "cannot read '%s': %s", weights, strerror(errno)), -1;
    if (strchr(real, '"') || strchr(real, '\\') || strchr(real, '\n'))
        return snprintf(err, n, "--weights: the path '%s' has a quote, backslash or line break", real), -1;
    FILE *f = fopen(s_path, "w");
    if (!f) return snprintf(err, n, "cannot write '%s': %s", s_path, strerror(errno)), -1;
    fprintf(f, "\t.section .rodata\n\t.balign 64\n\t.globl mmgc_aot_weights_data\nmmgc_aot_weights_data:\n"
               "\t.incbin \"%s\"\n\t.section .note.GNU-stack,\"\",@progbits\n", real);
    if (fclose(f)) return snprintf(err, n, "cannot write '%s': %s", s_path, strerror(errno)), -1;
    return 0;
}

/* The generated C file: sources, sets, steps, CPU, --help. */
static int write_model_c(const char *path, const Program *p, const Elaborated *m, const AotBuildOptions *o,
                         const uint64_t *fp, const int64_t *scratch, int nsteps, const char *features,
                         long long weights_size, char *err, size_t n) {
    FILE *f = fopen(path, "w");
    if (!f) return snprintf(err, n, "cannot write '%s': %s", path, strerror(errno)), -1;
    fprintf(f, "/* generated by mmgc --aot */\n#include \"aot.h\"\n\n");
    int nfiles = 0;
    for (int i = 0; i < p->nmodules; i++) nfiles += p->modules[i] != NULL;
    for (int i = 0; i < nfiles; i++) {
        fprintf(f, "static const int deps%d[] = {", i);
        for (int k = 0; k < p->deps[i].n; k++) fprintf(f, "%d, ", p->deps[i].ids[k]);
        fprintf(f, "-1};\n");
    }
    fprintf(f, "static const ProgramFile files[] = {\n");
    for (int i = 0; i < nfiles; i++) {
        fprintf(f, "  {");
        put_string(f, p->src.files[i].path);
        fprintf(f, ",\n");
        put_string(f, p->src.files[i].text);
        fprintf(f, ", deps%d, %d},\n", i, p->deps[i].n);
    }
    fprintf(f, "};\nstatic const char *const sets[] = {");
    for (int i = 0; i < o->nsets; i++) {
        put_string(f, o->sets[i].text);
        fprintf(f, ", ");
    }
    fprintf(f, "0};\n");
    for (int i = 0; i < nsteps; i++)
        fprintf(f, "int32_t mmgc_step_%d(void **, const void *, float *);\nextern int32_t mmgc_fail_node_%d;\n", i, i);
    fprintf(f, "static const AotStep steps[] = {\n");
    for (int i = 0; i < nsteps; i++)
        fprintf(f, "  {0x%016llxull, mmgc_step_%d, &mmgc_fail_node_%d, %lld},\n", (unsigned long long)fp[i], i, i,
                (long long)scratch[i]);
    char *text = about(p, m, o, features);
    if (o->weights) fprintf(f, "};\nextern const unsigned char mmgc_aot_weights_data[];\nconst AotModel mmgc_aot_model = {\n  ");
    else fprintf(f, "};\nconst AotModel mmgc_aot_model = {\n  ");
    if (o->model) put_string(f, o->model);
    else fprintf(f, "0");
    fprintf(f, ", files, %d, sets, %d, steps, %d,\n  ", nfiles, o->nsets, nsteps);
    put_string(f, o->cpu);
    fprintf(f, ", ");
    put_string(f, features);
    fprintf(f, ",\n  ");
    put_string(f, text);
    if (o->weights)
        fprintf(f, ",\n  mmgc_aot_weights_data, %lld};\n", weights_size);
    else
        fprintf(f, ",\n  0, 0};\n");
    free(text);
    if (fclose(f)) return snprintf(err, n, "cannot write '%s': %s", path, strerror(errno)), -1;
    return 0;
}

/* The C compiler: $CC, or the build's default. */
static const char *c_compiler(void) {
    const char *cc = getenv("CC");
    return cc && *cc ? cc : MMGC_AOT_CC;
}

/* Runs a shell command; its messages go to stderr. 0, or -1 naming what failed. */
static int run(const char *cmd, const char *what, char *err, size_t n) {
    int rc = system(cmd);
    if (rc != 0) return snprintf(err, n, "%s failed (exit status %d)", what, WIFEXITED(rc) ? WEXITSTATUS(rc) : rc), -1;
    return 0;
}

/* Compiles and links the build directory's files into out: a program, or
 * (object) one relocatable object whose only globals are the API's. */
static int link_output(const char *dir, int nsteps, int weights, int object, const char *out, char *err, size_t n) {
    const char *cc = c_compiler();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s --version >/dev/null 2>&1", cc);
    if (strchr(cc, '\'') || system(cmd) != 0)
        return snprintf(err, n, "%s needs a C compiler and linker ('%s' did not run): install build-essential "
                                "(scripts/install-deps.sh does), or name one in $CC",
                        object ? "--emit=obj" : "--aot", cc), -1;
    int at = snprintf(cmd, sizeof cmd, "%s %s -O1 %s -o '%s' '%s/model.c'", cc, MMGC_AOT_FLAGS,
                      object ? "-r -nostdlib -Wl,-u,mmgc_model_create" : "", out, dir);
    for (int i = 0; i < nsteps; i++) at += snprintf(cmd + at, sizeof cmd - (size_t)at, " '%s/step%d.o'", dir, i);
    if (weights) at += snprintf(cmd + at, sizeof cmd - (size_t)at, " '%s/weights.s'", dir);
    snprintf(cmd + at, sizeof cmd - (size_t)at, " %s", object ? MMGC_AOT_LIB_LINK : MMGC_AOT_LINK);
    if (run(cmd, object ? "compiling the object" : "linking the program", err, n)) return -1;
    if (!object) return 0;
    /* everything but the API (mmgc_model.h: mmgc_model_*) becomes local, so the runtime's names cannot
       clash with the program's */
    snprintf(cmd, sizeof cmd, "objcopy --wildcard -G 'mmgc_model_*' '%s'", out);
    return run(cmd, "objcopy (binutils)", err, n);
}

/* Removes the build directory's files and itself. */
static void clean(const char *dir, int nsteps) {
    char path[600];
    snprintf(path, sizeof path, "%s/model.c", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/weights.s", dir);
    remove(path);
    for (int i = 0; i < nsteps; i++) {
        snprintf(path, sizeof path, "%s/step%d.o", dir, i);
        remove(path);
    }
    rmdir(dir);
}

int aot_build(const Program *p, const Elaborated *m, const AotBuildOptions *o, char *err, size_t n) {
    if (!llvm_aot_cpu_ok(o->cpu)) return snprintf(err, n, "unknown --cpu '%s' (expected %s)", o->cpu, llvm_aot_cpus()), -1;
    char dir[512];
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/mmgc-aot-XXXXXX", tmp);
    if (!mkdtemp(dir)) return snprintf(err, n, "cannot make a build directory in %s: %s", tmp, strerror(errno)), -1;
    Graph *train = train_step_graph(m, 1, err, n), *eval = train ? train_step_graph(m, 0, err, n) : NULL;
    const Graph *graphs[2] = {train, eval};
    enum { NSTEPS = 2 };
    uint64_t fp[NSTEPS];
    int64_t scratch[NSTEPS];
    char features[256], path[600], partial[600];
    llvm_aot_required(o->cpu, features, sizeof features);
    int rc = train && eval ? 0 : -1;
    long long weights_size = 0;
    if (!rc && o->weights) rc = check_weights(o->weights, m, &weights_size, err, n);
    snprintf(path, sizeof path, "%s/weights.s", dir);
    if (!rc && o->weights) rc = write_weights_s(path, o->weights, err, n);
    for (int i = 0; i < NSTEPS && !rc; i++) {
        char suffix[8];
        snprintf(suffix, sizeof suffix, "%d", i);
        snprintf(path, sizeof path, "%s/step%d.o", dir, i);
        fp[i] = ir_fingerprint(graphs[i]);
        rc = llvm_aot_object(graphs[i], o->cpu, suffix, path, &scratch[i], err, n);
    }
    snprintf(path, sizeof path, "%s/model.c", dir);
    if (!rc) rc = write_model_c(path, p, m, o, fp, scratch, NSTEPS, features, weights_size, err, n);
    snprintf(partial, sizeof partial, "%s.partial", o->output);
    if (!rc) rc = link_output(dir, NSTEPS, o->weights != NULL, o->object, partial, err, n);
    if (!rc && rename(partial, o->output)) {
        snprintf(err, n, "cannot write '%s': %s", o->output, strerror(errno));
        rc = -1;
    }
    if (rc) remove(partial);
    clean(dir, NSTEPS);
    if (train) ir_graph_free(train);
    ir_graph_free(eval);
    return rc;
}
