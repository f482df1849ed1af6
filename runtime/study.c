/* study.c — see study.h. Three phases: plan every (run, seed) — elaborate
 * it, check its data, compute its key and compare with what the output
 * folder holds — before anything trains; train what is not done, one
 * mmgc process per run, `jobs` at a time; collect and report
 * (study_report.c). */
#include "study.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "contrastive_study.h"
#include "dataset.h"
#include "dist.h"
#include "io_util.h"
#include "progress.h"
#include "rng.h"
#include "study_report.h"
#include "study_spec.h"
#include "summary.h"
#include "train.h"
#include "util.h"

extern char **environ;

enum { EXIT_ERROR = 1, EXIT_INTERRUPTED = TRAIN_INTERRUPTED };

/* What a job is when planned. */
enum { JOB_DONE, JOB_RESUME, JOB_FRESH };

typedef struct {
    const StudyRun *run;
    long long seed;
    char *dir;         /* OUT/runs/NAME/seed-S */
    char *key;         /* run.txt */
    const char *data;  /* its data set */
    long long params;
    int state;
    double seconds;    /* training time so far (time.txt) */
    pid_t pid;
    double started;
    int status;        /* exit status of its process, -1 before */
    int elsewhere;     /* mpirun -np K: another rank trains it (job i is rank i % K's) */
} Job;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

/* A run's name as a folder name: letters, digits and "._+-=" kept. */
static char *folder_name(const char *name) {
    char *s = xstrdup(name);
    for (char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("._+-=", *c)))
            *c = '_';
    return s;
}

static char *path_join(const char *dir, const char *name) {
    char *s = xmalloc(strlen(dir) + strlen(name) + 2);
    sprintf(s, "%s/%s", dir, name);
    return s;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The data set's identity: a hash of its manifest.json, or without one of
 * the names and sizes of the files the model reads. */
static uint64_t data_identity(const char *dir, const Elaborated *m, const char **how) {
    char *manifest = path_join(dir, "manifest.json");
    size_t len;
    char *text = read_file(manifest, &len);
    free(manifest);
    if (text) {
        uint64_t h = rng_hash(text);
        free(text);
        *how = "manifest.json";
        return h;
    }
    uint64_t h = 0;
    for (int i = 0; i < m->ninputs + m->nlabels; i++) {
        const char *name = i < m->ninputs ? m->inputs[i].name : m->labels[i - m->ninputs].name;
        for (int split = 0; split < 2; split++) {
            char file[1024];
            struct stat st;
            dataset_path(dir, name, split, file, sizeof file);
            h = h * 0x100000001b3u ^ rng_hash(file + strlen(dir)) ^ (uint64_t)(stat(file, &st) ? 0 : st.st_size);
        }
    }
    *how = "file sizes (no manifest.json)";
    return h;
}

/* Every file the model reads is in dir; -1 with a message otherwise. */
static int check_data(const char *run, const char *dir, const Elaborated *m, char *err, size_t n) {
    for (int i = 0; i < m->ninputs + m->nlabels; i++) {
        int label = i >= m->ninputs;
        const char *name = label ? m->labels[i - m->ninputs].name : m->inputs[i].name;
        for (int split = 0; split < 2; split++) {
            char file[1024];
            dataset_path(dir, name, split, file, sizeof file);
            if (access(file, R_OK))
                return snprintf(err, n, "run '%s': the data set %s has no %s (the model's %s '%s'): %s", run, dir,
                                file + strlen(dir) + 1, label ? "label" : "input", name, strerror(errno)),
                       -1;
        }
    }
    return 0;
}

/* The train settings the graph does not show, as text. */
static void settings_text(RBuf *b, const TrainSettings *t) {
    const LrSchedule *s = &t->optimizer.schedule;
    char buf[512];
    snprintf(buf, sizeof buf,
             "train batch=%d max_epochs=%d val_split=%.17g monitor=%s patience=%d min_delta=%.17g lr=%.17g "
             "schedule=%d,%d,%.17g,%d,%.17g,%d\n",
             t->batch, t->max_epochs, t->val_split, t->monitor, t->patience, t->min_delta, t->optimizer.lr,
             (int)s->kind, s->every, s->gamma, s->t_max, s->min_lr, s->warmup);
    rb_str(b, buf);
}

/* Elaborates a run (with the study's and the command line's --set) and
 * fills the parts of its key that do not depend on the seed; prints the
 * diagnostics of a run that does not compile. */
static int plan_run(const StudyOptions *o, const StudySpec *spec, const StudyRun *run, RBuf *key, long long *params,
                    const char **data, char *err, size_t n) {
    Program p;
    program_init(&p);
    for (int i = 0; i < o->nlib; i++) program_add_libdir(&p, o->libdirs[i]);
    program_default_libdirs(&p);
    SetOption *sets = xcalloc((size_t)(run->nsets + o->nsets) + 1, sizeof *sets);
    for (int i = 0; i < run->nsets; i++) sets[i].text = run->sets[i];
    for (int i = 0; i < o->nsets; i++) sets[run->nsets + i] = o->sets[i];
    Elaborated m = {0};
    int rc = 0;
    if (program_load(&p, o->file) || elaborate(&p, run->model, sets, run->nsets + o->nsets, &m)) {
        diag_print(&p.diag, stderr);
        rc = (snprintf(err, n, "run '%s' (model %s) does not compile", run->name, run->model), -1);
    }
    Graph *step = rc ? NULL : train_step_graph(&m, 1, err, n);
    if (!rc && !step) rc = -1;
    *data = o->data_dir ? o->data_dir : spec->data ? spec->data : m.data;
    if (!rc && !*data)
        rc = (snprintf(err, n, "run '%s': model '%s' names no data directory (give the study 'data: \"DIR\"' or --data)",
                       run->name, run->model), -1);
    if (!rc) rc = check_data(run->name, *data, &m, err, n);
    if (!rc) {
        char buf[256];
        const char *how;
        uint64_t id = data_identity(*data, &m, &how);
        *data = xstrdup(*data); /* outlives the program */
        snprintf(buf, sizeof buf, "model %s\n", run->model);
        rb_str(key, buf);
        for (int i = 0; i < run->nsets + o->nsets; i++) {
            rb_str(key, "set ");
            rb_str(key, sets[i].text);
            rb_str(key, "\n");
        }
        snprintf(buf, sizeof buf, "graph %016llx\n", (unsigned long long)ir_fingerprint(step));
        rb_str(key, buf);
        settings_text(key, &m.train);
        snprintf(buf, sizeof buf, "data %016llx (%s)\n", (unsigned long long)id, how);
        rb_str(key, buf);
        *params = summary_param_count(m.graph);
    }
    if (step) ir_graph_free(step);
    if (m.graph) elaborated_free(&m);
    program_free(&p);
    free(sets);
    return rc;
}

/* The lines of a key that start with "kind ", their rests joined with ", "
 * ("(none)" for none). */
static void key_field(const char *key, const char *kind, char *out, size_t n) {
    size_t len = strlen(kind), at = 0;
    out[0] = 0;
    for (const char *line = key; *line;) {
        size_t l = strcspn(line, "\n");
        if (l > len && !strncmp(line, kind, len) && line[len] == ' ' && at < n)
            at += (size_t)snprintf(out + at, n - at, "%s%.*s", at ? ", " : "", (int)(l - len - 1), line + len + 1);
        line += l + (line[l] != 0);
    }
    if (!out[0]) snprintf(out, n, "(none)");
}

/* Compares a job's key with the run.txt its folder holds: 0 when they
 * agree or there is none; -1 saying what differs. */
static int compare_key(const Job *j, char *err, size_t n) {
    static const char *const kinds[] = {"model", "set", "train", "graph", "data", "seed"};
    static const char *const what[] = {"model", "configuration", "configuration", "model version", "data set", "seed"};
    char *file = path_join(j->dir, "run.txt");
    size_t len;
    char *old = read_file(file, &len);
    free(file);
    int rc = 0;
    for (int k = 0; old && strcmp(old, j->key) && k < 6 && !rc; k++) {
        char a[400], b[400];
        key_field(old, kinds[k], a, sizeof a);
        key_field(j->key, kinds[k], b, sizeof b);
        if (strcmp(a, b))
            rc = (snprintf(err, n,
                           "%s holds a run of another %s: it has '%s %s', this study makes '%s %s'; delete that folder "
                           "(or give another -o DIR) to train it again",
                           j->dir, what[k], kinds[k], a, kinds[k], b), -1);
    }
    if (!rc && old && strcmp(old, j->key))
        rc = (snprintf(err, n, "%s holds a run.txt this study does not make; delete that folder to train it again",
                       j->dir), -1);
    free(old);
    return rc;
}

/* Has the job finished: a metrics file a study can read? */
static int job_done(const Job *j) {
    char *file = path_join(j->dir, "metrics.json");
    StudyResult r;
    int ok = study_result_read(file, &r, NULL, 0) == 0;
    if (ok) study_result_free(&r);
    free(file);
    return ok;
}

static double read_seconds(const Job *j) {
    char *file = path_join(j->dir, "time.txt");
    size_t len;
    char *text = read_file(file, &len);
    free(file);
    double s = text ? atof(text) : 0;
    free(text);
    return s;
}

static void write_seconds(const Job *j) {
    char *file = path_join(j->dir, "time.txt"), text[64], err[256];
    int len = snprintf(text, sizeof text, "%.3f\n", j->seconds);
    IoPart part = {text, (size_t)len};
    if (io_write_atomic(file, file, &part, 1, err, sizeof err)) fprintf(stderr, "mmgc: warning: %s\n", err);
    free(file);
}

/* Plans every (run, seed): jobs[] in study order. 0, or -1 with a message. */
static int plan(const StudyOptions *o, const StudySpec *spec, const char *out, Job *jobs, char *err, size_t n) {
    int k = 0;
    for (int r = 0; r < spec->nruns; r++) {
        RBuf key = {0};
        long long params = 0;
        const char *data = NULL;
        if (plan_run(o, spec, &spec->runs[r], &key, &params, &data, err, n)) {
            free(key.s);
            return -1;
        }
        char *folder = folder_name(spec->runs[r].name);
        for (int s = 0; s < spec->nseeds; s++, k++) {
            Job *j = &jobs[k];
            char sub[1200], buf[64];
            snprintf(sub, sizeof sub, "%s/runs/%s/seed-%lld", out, folder, spec->seeds[s]);
            RBuf full = {0};
            rb_str(&full, key.s);
            snprintf(buf, sizeof buf, "seed %lld\n", spec->seeds[s]);
            rb_str(&full, buf);
            *j = (Job){&spec->runs[r], spec->seeds[s], xstrdup(sub), full.s, s ? xstrdup(data) : data, params,
                       JOB_FRESH, 0, 0, 0, -1, k % dist_size() != dist_rank()};
            if (compare_key(j, err, n)) {
                free(folder), free(key.s);
                return -1;
            }
            char *ckpt = path_join(j->dir, "checkpoint.safetensors");
            j->state = job_done(j) ? JOB_DONE : exists(ckpt) ? JOB_RESUME : JOB_FRESH;
            j->seconds = read_seconds(j);
            free(ckpt);
        }
        free(folder);
        free(key.s);
    }
    return 0;
}

/* The command line of a job (NULL-ended; free with free_argv). */
static char **job_argv(const StudyOptions *o, const Job *j, int with_paths, const char *label) {
    char **v = xcalloc((size_t)(40 + 2 * (j->run->nsets + o->nsets + o->nlib)), sizeof *v);
    int n = 0;
    char buf[64];
    v[n++] = xstrdup(with_paths ? o->self : "mmgc");
    v[n++] = xstrdup(o->file);
    v[n++] = xstrdup("--model"), v[n++] = xstrdup(j->run->model);
    for (int i = 0; i < o->nlib; i++) v[n++] = xstrdup("-I"), v[n++] = xstrdup(o->libdirs[i]);
    for (int i = 0; i < j->run->nsets; i++) v[n++] = xstrdup("--set"), v[n++] = xstrdup(j->run->sets[i]);
    for (int i = 0; i < o->nsets; i++) v[n++] = xstrdup("--set"), v[n++] = xstrdup(o->sets[i].text);
    snprintf(buf, sizeof buf, "seed=%lld", j->seed);
    v[n++] = xstrdup("--set"), v[n++] = xstrdup(buf);
    v[n++] = xstrdup("--train");
    v[n++] = xstrdup("--data"), v[n++] = xstrdup(j->data);
    if (o->backend) v[n++] = xstrdup("--backend"), v[n++] = xstrdup(o->backend);
    if (!with_paths) return v;
    if (label) v[n++] = xstrdup("--progress-label"), v[n++] = xstrdup(label);
    v[n++] = xstrdup("--save"), v[n++] = path_join(j->dir, "checkpoint.safetensors");
    if (j->state == JOB_RESUME) v[n++] = xstrdup("--resume"), v[n++] = path_join(j->dir, "checkpoint.safetensors");
    v[n++] = xstrdup("--log"), v[n++] = path_join(j->dir, "log.csv");
    v[n++] = xstrdup("--metrics-json"), v[n++] = path_join(j->dir, "metrics.json");
    v[n++] = xstrdup("--report"), v[n++] = path_join(j->dir, "report");
    return v;
}

static void free_argv(char **v) {
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

/* The folder and its key; the process, its output into output.txt (and,
 * with several at once, its messages into messages.txt). */
static int launch(const StudyOptions *o, Job *j, const char *label, char *err, size_t n) {
    if (io_make_dirs(j->dir, err, n)) return -1;
    char *file = path_join(j->dir, "run.txt");
    IoPart part = {j->key, strlen(j->key)};
    int rc = io_write_atomic(file, file, &part, 1, err, n);
    free(file);
    if (rc) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    char *out = path_join(j->dir, "output.txt"), *msgs = path_join(j->dir, "messages.txt");
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (o->jobs > 1) posix_spawn_file_actions_addopen(&fa, 2, msgs, O_WRONLY | O_CREAT | O_APPEND, 0644);
    char **argv = job_argv(o, j, 1, label);
    /* the cores shared out: each of `jobs` processes gets its part (of
     * this rank's part, when mpirun started several on this machine) */
    int env_n = 0;
    while (environ[env_n]) env_n++;
    char **env = xcalloc((size_t)env_n + 4, sizeof *env);
    char threads[64], blas[64], parent[64];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    long share = (long)o->jobs * (local && atoi(local) > 1 ? atoi(local) : 1);
    long each = share > 1 ? (cores / share > 0 ? cores / share : 1) : 0;
    int k = 0;
    for (int i = 0; i < env_n; i++) {
        /* a run is one process of its own, never one of this rank's mpirun job */
        if (!strncmp(environ[i], "OMPI_", 5) || !strncmp(environ[i], "PMIX_", 5)) continue;
        if (!each || (strncmp(environ[i], "MMGC_THREADS=", 13) && strncmp(environ[i], "OPENBLAS_NUM_THREADS=", 21)))
            env[k++] = environ[i];
    }
    if (each) {
        snprintf(threads, sizeof threads, "MMGC_THREADS=%ld", each);
        snprintf(blas, sizeof blas, "OPENBLAS_NUM_THREADS=%ld", each);
        env[k++] = threads, env[k++] = blas;
    }
    /* Under mpirun a rank may be killed (mpirun then ends the others): its
     * run must not train on unseen, so it stops with it (main.c) and the
     * next invocation resumes it from its last checkpoint. */
    if (dist_parallel()) {
        snprintf(parent, sizeof parent, "MMGC_STOP_WITH_PARENT=%ld", (long)getpid());
        env[k++] = parent;
    }
    rc = posix_spawn(&j->pid, o->self, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env), free(out), free(msgs);
    free_argv(argv);
    if (rc) return snprintf(err, n, "cannot start %s: %s", o->self, strerror(rc)), -1;
    j->started = progress_now();
    return 0;
}

/* Runs every job that is not done, `jobs` at a time, with one line per
 * start and end. Returns 0, EXIT_INTERRUPTED, or -1 (a message) when a
 * process could not start; failed runs are counted in *failed. */
static int run_jobs(const StudyOptions *o, Job *jobs, int njobs, int *failed, char *err, size_t n) {
    int todo = 0, started = 0, running = 0, finished = 0;
    double t0 = progress_now(), done_seconds = 0;
    for (int i = 0; i < njobs; i++) todo += jobs[i].state != JOB_DONE && !jobs[i].elsewhere;
    if (!todo) return 0;
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    int next = 0, rc = 0, forwarded = 0;
    while ((next < njobs && !interrupted) || running) {
        while (running < o->jobs && next < njobs && !interrupted && !rc) {
            Job *j = &jobs[next++];
            if (j->state == JOB_DONE || j->elsewhere) continue;
            char a[32], b[32], line[600];
            double elapsed = progress_now() - t0;
            /* estimate: the mean time of the runs finished so far, shared by the processes */
            double left = finished ? done_seconds / finished * (todo - started) / o->jobs : -1;
            snprintf(line, sizeof line, "[%d/%d] %s seed %lld%s  (study: %s elapsed%s%s%s)", started + 1, todo,
                     j->run->name, j->seed, j->state == JOB_RESUME ? ", resuming" : "", progress_time(a, sizeof a, elapsed),
                     left >= 0 ? ", about " : "", left >= 0 ? progress_time(b, sizeof b, left) : "",
                     left >= 0 ? " left" : "");
            if (dist_parallel()) fprintf(stderr, "rank %d: %s\n", dist_rank(), line); /* each rank counts its own runs */
            else fprintf(stderr, "%s\n", line);
            char label[640];
            snprintf(label, sizeof label, "[%d/%d] %s seed %lld (study %s%s%s%s) | ", started + 1, todo, j->run->name,
                     j->seed, progress_time(a, sizeof a, elapsed), left >= 0 ? ", ~" : "",
                     left >= 0 ? progress_time(b, sizeof b, left) : "", left >= 0 ? " left" : "");
            if (launch(o, j, label, err, n)) {
                rc = -1;
                break;
            }
            started++, running++;
        }
        if (!running) break;
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR && interrupted && !forwarded) {
            /* Ctrl-C reaches the runs too; a signal sent to mmgc alone is passed on
               (a run saves at its next batch either way) */
            for (int i = 0; i < njobs; i++)
                if (jobs[i].pid > 0) kill(jobs[i].pid, SIGINT);
            forwarded = 1;
        }
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < njobs; i++) {
            Job *j = &jobs[i];
            if (j->pid != pid) continue;
            running--;
            j->pid = 0;
            j->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            j->seconds += progress_now() - j->started;
            write_seconds(j);
            if ((j->status == 0 || j->status == TRAIN_DIVERGED) && job_done(j)) {
                if (j->status == TRAIN_DIVERGED)
                    fprintf(stderr, "mmgc: run '%s' seed %lld diverged; its results are those of its best epoch "
                                    "before (see %s/output.txt)\n",
                            j->run->name, j->seed, j->dir);
                j->state = JOB_DONE;
                finished++;
                done_seconds += progress_now() - j->started;
            } else if (j->status != EXIT_INTERRUPTED) {
                (*failed)++;
                if (j->status == 0)
                    fprintf(stderr, "mmgc: run '%s' seed %lld ended without test metrics; see %s/output.txt\n",
                            j->run->name, j->seed, j->dir);
                else if (j->status == TRAIN_DIVERGED)
                    fprintf(stderr, "mmgc: run '%s' seed %lld diverged and has no test metrics; see %s/output.txt\n",
                            j->run->name, j->seed, j->dir);
                else
                    fprintf(stderr, "mmgc: run '%s' seed %lld failed (exit status %d); see %s/output.txt%s\n",
                            j->run->name, j->seed, j->status, j->dir, o->jobs > 1 ? " and messages.txt" : "");
            }
        }
    }
    sigaction(SIGINT, &old, NULL);
    if (rc) return -1;
    return interrupted ? EXIT_INTERRUPTED : 0;
}

int study_main(const StudyOptions *o) {
    Program p;
    program_init(&p);
    for (int i = 0; i < o->nlib; i++) program_add_libdir(&p, o->libdirs[i]);
    program_default_libdirs(&p);
    StudySpec spec;
    memset(&spec, 0, sizeof spec);
    if (program_load(&p, o->file) || study_spec_read(&p, o->study, &spec)) {
        dist_defer_error(); /* one report per job (dist.h) */
        if (dist_rank() != 0)
            fprintf(stderr, "mmgc: error (rank %d of %d): the study does not build on this process alone:\n",
                    dist_rank(), dist_size());
        diag_print(&p.diag, stderr);
        dist_abort(EXIT_ERROR); /* before any run: the other ranks need not wait for this one at the end */
        study_spec_free(&spec);
        program_free(&p);
        return EXIT_ERROR;
    }
    char out[1024], err[2048];
    if (o->out_dir) snprintf(out, sizeof out, "%s", o->out_dir);
    else snprintf(out, sizeof out, "out/%s", spec.name);
    int njobs = spec.nruns * spec.nseeds, status = 0, failed = 0;
    Job *jobs = xcalloc((size_t)njobs + 1, sizeof *jobs);
    if (plan(o, &spec, out, jobs, err, sizeof err)) {
        dist_defer_error();
        if (dist_rank() != 0) fprintf(stderr, "mmgc: error (rank %d of %d): %s\n", dist_rank(), dist_size(), err);
        else fprintf(stderr, "mmgc: error: %s\n", err);
        dist_abort(EXIT_ERROR);
        status = EXIT_ERROR;
        goto done;
    }
    int ndone = 0;
    for (int i = 0; i < njobs; i++) ndone += jobs[i].state == JOB_DONE;
    if (dist_rank() == 0)
        fprintf(stderr, "study '%s': %d runs (%d methods x %d seeds), %d done, into %s%s\n", spec.name, njobs, spec.nruns,
                spec.nseeds, ndone, out, dist_parallel() ? " (spread over the mpirun processes)" : "");
    int rc = o->no_train ? 0 : run_jobs(o, jobs, njobs, &failed, err, sizeof err);
    if (dist_parallel()) { /* every rank's runs have ended; rank 0 alone reports them */
        int64_t sum[3] = {failed, rc < 0, rc == EXIT_INTERRUPTED};
        dist_sum_i64(sum, 3);
        failed = (int)sum[0];
        if (rc >= 0 && sum[1]) rc = -1, snprintf(err, sizeof err, "a run of another process could not start");
        if (rc == 0 && sum[2]) rc = EXIT_INTERRUPTED;
        for (int i = 0; i < njobs; i++)
            if (jobs[i].elsewhere) jobs[i].seconds = read_seconds(&jobs[i]);
        if (dist_rank() != 0) { /* rank 0's status is the study's */
            status = rc == EXIT_INTERRUPTED ? EXIT_INTERRUPTED : 0;
            goto done;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "mmgc: error: %s\n", err);
        status = EXIT_ERROR;
    } else if (rc == EXIT_INTERRUPTED) {
        fprintf(stderr, "interrupted: every finished epoch is kept; run the same command to go on\n");
        status = EXIT_INTERRUPTED;
    }
    if (status) goto done;
    StudyEntry *entries = xcalloc((size_t)njobs + 1, sizeof *entries);
    for (int i = 0; i < njobs; i++) {
        char **argv = job_argv(o, &jobs[i], 0, NULL);
        entries[i] = (StudyEntry){jobs[i].run->name, jobs[i].run->baseline, jobs[i].seed, jobs[i].dir,
                                  jobs[i].params, jobs[i].seconds, argv};
    }
    if (spec.contrastive_table && contrastive_study(out, NULL, err, sizeof err)) {
        fprintf(stderr, "mmgc: error: %s\n", err);
        status = EXIT_ERROR;
    } else if (study_report_write(out, &spec, entries, njobs, stdout, err, sizeof err)) {
        fprintf(stderr, "mmgc: error: %s\n", err);
        status = EXIT_ERROR;
    } else {
        int diverged = 0; /* of the finished runs, now or before */
        for (int i = 0; i < njobs; i++) {
            char *file = path_join(jobs[i].dir, "metrics.json");
            StudyResult r;
            if (study_result_read(file, &r, NULL, 0) == 0) diverged += r.diverged, study_result_free(&r);
            free(file);
        }
        if (failed || diverged) {
            fprintf(stderr, "mmgc: %d run%s failed, %d diverged (their results are those of their best epoch before); "
                            "the report shows what there is\n",
                    failed, failed == 1 ? "" : "s", diverged);
            status = EXIT_ERROR;
        }
    }
    for (int i = 0; i < njobs; i++) free_argv(entries[i].argv);
    free(entries);
done:
    for (int i = 0; i < njobs; i++) {
        free(jobs[i].dir);
        free(jobs[i].key);
        free((char *)jobs[i].data);
    }
    free(jobs);
    study_spec_free(&spec);
    program_free(&p);
    return status;
}
