/* test_frontend.c — parsing, elaboration and the study's models. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "harness.h"
#include "parse.h"
#include "util.h"

/* The node id of the parameter with this path, or -1. */
static int param_node(const Compiled *c, const char *path) {
    const Graph *g = c->model.graph;
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].op == OP_PARAM && !strcmp(g->nodes[i].name, path)) return i;
    return -1;
}

/* The study's parameter counts (PyTorch's, for the same layers). */
static void test_param_counts(void) {
    static const struct {
        const char *file;
        long long params;
    } models[] = {
        {"models/image_conv2net.mmg", 225034},
        {"models/audio_conv1net.mmg", 4151914},
        {"models/multimodal.mmg", 4391466},
        {"models/multimodal_concat.mmg", 4391466},
        {"models/multimodal_gated.mmg", 4489770},
        {"models/multimodal_add.mmg", 4383274},
        {"models/multimodal_mul.mmg", 4383274},
        {"models/multimodal_max.mmg", 4383274},
        /* in: [128,128,128] + 128 bias; head 128 -> 64 */
        {"models/multimodal_bilinear.mmg", 4383274 + 128 * 128 * 128 + 128},
        /* 128x256 twice, 256x128 */
        {"models/multimodal_factorized_bilinear.mmg", 4383274 + 3 * 128 * 256},
        /* q, k, v, out projections with biases, layer norm */
        {"models/multimodal_attention.mmg", 4383274 + 4 * (128 * 128 + 128) + 2 * 128},
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        Compiled c;
        if (compile_file_ok(&c, models[i].file, NULL, 0)) {
            if (compiled_params(&c) != models[i].params)
                fprintf(stderr, "\n%s: %lld parameters, expected %lld\n", models[i].file, compiled_params(&c),
                        models[i].params);
            CU_ASSERT_EQUAL(compiled_params(&c), models[i].params);
        }
        compile_free(&c);
    }
}

/* The gated fusion's weights are where the study puts them. */
static void test_gated_params(void) {
    Compiled c;
    if (compile_file_ok(&c, "models/multimodal_gated.mmg", NULL, 0)) {
        int wa = param_node(&c, "multimodal.fusion.wa"), w0 = param_node(&c, "multimodal.fusion.w0");
        CU_ASSERT_TRUE(wa >= 0 && w0 >= 0);
        if (wa >= 0 && w0 >= 0) {
            const Shape *s = &c.model.graph->nodes[w0].type.shape;
            CU_ASSERT_EQUAL(s->rank, 2);
            CU_ASSERT_EQUAL(s->dim[0], 256);
            CU_ASSERT_EQUAL(s->dim[1], 256);
            /* U(-1/sqrt(128), 1/sqrt(128)) */
            CU_ASSERT_DOUBLE_EQUAL(c.model.graph->nodes[wa].init.b, 0.08838834764831845, 1e-12);
        }
    }
    compile_free(&c);
}

/* --set swaps a model binding, a block argument by path, train settings. */
static void test_set(void) {
    Compiled c;
    const char *bilinear[] = {"fusion=bilinear"};
    if (compile_file_ok(&c, "models/multimodal_concat.mmg", bilinear, 1)) {
        CU_ASSERT_TRUE(param_node(&c, "multimodal.fusion.w") >= 0);
        CU_ASSERT_EQUAL(compiled_params(&c), 4383274 + 128 * 128 * 128 + 128);
    }
    compile_free(&c);

    const char *by_path[] = {"multimodal.fusion=add"};
    if (compile_file_ok(&c, "models/multimodal_gated.mmg", by_path, 1)) CU_ASSERT_EQUAL(compiled_params(&c), 4383274);
    compile_free(&c);

    const char *train[] = {"batch=128", "early_stopping.patience=3", "optimizer=sgd(lr: 0.1)", "val_split=0.25"};
    if (compile_file_ok(&c, "models/image_conv2net.mmg", train, 4)) {
        const TrainSettings *t = &c.model.train;
        CU_ASSERT_EQUAL(t->batch, 128);
        CU_ASSERT_EQUAL(t->patience, 3);
        CU_ASSERT_EQUAL(t->optimizer.kind, OPT_SGD);
        CU_ASSERT_DOUBLE_EQUAL(t->optimizer.lr, 0.1, 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(t->val_split, 0.25, 1e-12);
        CU_ASSERT_STRING_EQUAL(t->monitor, "val_loss");
        CU_ASSERT_EQUAL(c.model.graph->nodes[c.model.inputs[0].node].type.shape.dim[0], 128);
    }
    compile_free(&c);
}

/* The model file's train section as written. */
static void test_train_settings(void) {
    Compiled c;
    if (compile_file_ok(&c, "models/multimodal_gated.mmg", NULL, 0)) {
        const TrainSettings *t = &c.model.train;
        CU_ASSERT_EQUAL(t->batch, 64);
        CU_ASSERT_EQUAL(t->max_epochs, 100);
        CU_ASSERT_EQUAL(t->patience, 5);
        CU_ASSERT_EQUAL(t->optimizer.kind, OPT_ADAM);
        CU_ASSERT_DOUBLE_EQUAL(t->optimizer.lr, 1e-3, 1e-15);
        CU_ASSERT_DOUBLE_EQUAL(t->val_split, 0.2, 1e-15);
        CU_ASSERT_STRING_EQUAL(c.model.data, "models/../data/digits"); /* relative to multimodal.mmg, which says it */
        CU_ASSERT_EQUAL(c.model.ninputs, 2);
        CU_ASSERT_EQUAL(c.model.nlabels, 1);
        CU_ASSERT_STRING_EQUAL(c.model.inputs[1].name, "audio");
        CU_ASSERT_TRUE(ir_output(c.model.graph, "loss") >= 0);
        CU_ASSERT_TRUE(ir_output(c.model.graph, "logits") >= 0);
    }
    compile_free(&c);
}

/* The schedule, warm-up, clipping and no_decay settings, as written and by --set. */
static void test_update_settings(void) {
    Compiled c;
    if (compile_file_ok(&c, "tests/runtime/tiny_tuned.mmg", NULL, 0)) {
        const OptimizerSpec *o = &c.model.train.optimizer;
        CU_ASSERT_EQUAL(o->kind, OPT_ADAMW);
        CU_ASSERT_DOUBLE_EQUAL(o->weight_decay, 0.05, 1e-15);
        CU_ASSERT_EQUAL(o->schedule.kind, LR_COSINE);
        CU_ASSERT_EQUAL(o->schedule.t_max, 8);
        CU_ASSERT_DOUBLE_EQUAL(o->schedule.min_lr, 1e-4, 1e-18);
        CU_ASSERT_EQUAL(o->schedule.warmup, 10);
        CU_ASSERT_DOUBLE_EQUAL(o->clip_grad_norm, 1.0, 1e-15);
        CU_ASSERT_EQUAL(o->nno_decay, 1);
        if (o->nno_decay == 1) CU_ASSERT_STRING_EQUAL(o->no_decay[0], "*.b");
    }
    compile_free(&c);
    /* --set replaces one of them and keeps the others, whatever the order */
    const char *sets[] = {"schedule=step(every: 3, gamma: 0.5)", "optimizer=sgd(lr: 0.1, weight_decay: 0.01)",
                          "no_decay=[\"*.b\", \"*.w\"]", "warmup=0", "schedule=cosine"};
    if (compile_file_ok(&c, "tests/runtime/tiny_tuned.mmg", sets, 3)) {
        const OptimizerSpec *o = &c.model.train.optimizer;
        CU_ASSERT_EQUAL(o->kind, OPT_SGD);
        CU_ASSERT_DOUBLE_EQUAL(o->weight_decay, 0.01, 1e-15);
        CU_ASSERT_EQUAL(o->schedule.kind, LR_STEP);
        CU_ASSERT_EQUAL(o->schedule.every, 3);
        CU_ASSERT_DOUBLE_EQUAL(o->schedule.gamma, 0.5, 1e-15);
        CU_ASSERT_EQUAL(o->schedule.warmup, 10);
        CU_ASSERT_DOUBLE_EQUAL(o->clip_grad_norm, 1.0, 1e-15);
        CU_ASSERT_EQUAL(o->nno_decay, 2);
        if (o->nno_decay == 2) CU_ASSERT_STRING_EQUAL(o->no_decay[1], "*.w");
    }
    compile_free(&c);
    /* a bare cosine lasts max_epochs; a warm-up of 0 and no schedule leave lr a constant */
    if (compile_file_ok(&c, "tests/runtime/tiny_tuned.mmg", sets + 3, 2)) {
        const OptimizerSpec *o = &c.model.train.optimizer;
        CU_ASSERT_EQUAL(o->schedule.kind, LR_COSINE);
        CU_ASSERT_EQUAL(o->schedule.t_max, 40);
        CU_ASSERT_EQUAL(o->schedule.warmup, 0);
    }
    compile_free(&c);
    if (compile_file_ok(&c, "tests/runtime/tiny.mmg", NULL, 0)) {
        const OptimizerSpec *o = &c.model.train.optimizer;
        CU_ASSERT_FALSE(optimizer_lr_is_input(o));
        CU_ASSERT_EQUAL(o->clip_grad_norm, 0);
        CU_ASSERT_EQUAL(o->nno_decay, 0);
    }
    compile_free(&c);
}

/* A fusion method written in a user's own file compiles and trains its params. */
static void test_user_fusion(void) {
    Compiled c;
    if (compile_file_ok(&c, "tests/frontend/user/difference_fusion.mmg", NULL, 0)) {
        int gate = param_node(&c, "multimodal.fusion.gate");
        CU_ASSERT_TRUE(gate >= 0);
        CU_ASSERT_EQUAL(c.model.train.batch, 32);
        /* head sees [B, 256]: 256*64 + 64, then 64*10 + 10 */
        CU_ASSERT_EQUAL(compiled_params(&c), 4374368 + 256 + 256 * 64 + 64 + 650);
    }
    compile_free(&c);
}

/* Binding a block to a name shares its parameters between calls. */
static void test_shared_instance(void) {
    Compiled c;
    if (compile_file_ok(&c, "models/multimodal_attention.mmg", NULL, 0)) {
        int wq = param_node(&c, "multimodal.fusion.attend.wq");
        CU_ASSERT_TRUE(wq >= 0);
        int uses = 0;
        const Graph *g = c.model.graph;
        for (int i = 0; i < g->nnodes; i++)
            for (int k = 0; k < g->nodes[i].nin; k++) uses += g->nodes[i].in[k] == wq;
        CU_ASSERT_EQUAL(uses, 2); /* attend(a, b, b) and attend(b, a, a) */
        CU_ASSERT_EQUAL(param_node(&c, "multimodal.fusion.attend.wq_2"), -1);
    }
    compile_free(&c);
}

/* Prints a graph to a string (caller frees). */
static char *print_graph(const Graph *g) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ir_print(g, m);
    fclose(m);
    return buf;
}

/* Every model's graph survives print -> parse -> print unchanged. */
static void test_ir_round_trip(void) {
    const char *files[] = {"models/image_conv2net.mmg", "models/audio_conv1net.mmg", "models/multimodal_gated.mmg",
                           "models/multimodal_attention.mmg", "models/multimodal_bilinear.mmg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        Compiled c;
        if (compile_file_ok(&c, files[i], NULL, 0)) {
            char *a = print_graph(c.model.graph);
            char err[512] = "";
            Graph *g = ir_parse(a, files[i], err, sizeof err);
            if (!g) fprintf(stderr, "\n%s: %s\n", files[i], err);
            CU_ASSERT_PTR_NOT_NULL(g);
            if (g) {
                char *b = print_graph(g);
                CU_ASSERT_STRING_EQUAL(a, b);
                free(b);
                ir_graph_free(g);
            }
            free(a);
        }
        compile_free(&c);
    }
}

/* Parses text as a module (registered under name) and prints its AST. */
static char *ast_of(const char *name, const char *text, int *errors) {
    Program p;
    program_init(&p);
    int id = program_add_text(&p, name, text);
    Module *m = parse_module(&p.arena, &p.diag, id);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (m) ast_print_module(m, name, out);
    fclose(out);
    *errors = p.diag.nerrors;
    program_free(&p);
    return buf;
}

static void test_ast(void) {
    int errors;
    char *got = ast_of("t.mmg",
                       "import \"nn.mmg\"\n"
                       "// comment\n"
                       "fusion f(a: [B, n], b: [B, ...] f32, k: int = 2 * 3) -> [B, n + 1] {\n"
                       "    param w: [n, n] = uniform(-0.1, 0.1)\n"
                       "    y = -a @ w + b * (k - 1); return cat(y, op.relu(y), axis: 1)\n"
                       "}\n"
                       "model m extends base {\n"
                       "    data \"d\"\n"
                       "    input x: [B, 3], z: [B]\n"
                       "    label y: [B] i64\n"
                       "    loss = f(x, x)\n"
                       "    train { batch: 8,\n"
                       "            early_stopping: { monitor: val_loss }\n"
                       "    }\n"
                       "}\n",
                       &errors);
    const char *want = "module \"t.mmg\"\n"
                       "  import \"nn.mmg\"\n"
                       "  fusion f  @3:8\n"
                       "    arg a: [B, n]\n"
                       "    arg b: [B, ...] f32\n"
                       "    arg k: int = 2 * 3\n"
                       "    result [B, n + 1]\n"
                       "    param w: [n, n] = uniform(-0.1, 0.1)\n"
                       "    let y = -a @ w + b * (k - 1)\n"
                       "    return cat(y, op.relu(y), axis: 1)\n"
                       "  model m extends base  @7:7\n"
                       "    data \"d\"\n"
                       "    input x: [B, 3]\n"
                       "    input z: [B]\n"
                       "    label y: [B] i64\n"
                       "    let loss = f(x, x)\n"
                       "    train { batch: 8, early_stopping: { monitor: val_loss } }\n";
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT_STRING_EQUAL(got, want);
    if (strcmp(got, want)) fprintf(stderr, "\n--- got\n%s--- want\n%s", got, want);
    free(got);
}

/* Compiles a mangled copy; it must fail or succeed, never crash or leak. */
static void compile_mangled(const char *text, size_t len, int *failures) {
    const char *path = compile_temp_file(text, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    Compiled c;
    compile_file(&c, path, NULL, 0);
    if (c.status != 0 && c.prog.diag.nerrors == 0) (*failures)++; /* failed without saying why */
    compile_free(&c);
    remove(path);
}

/* Truncations and byte changes of every model file: no crash, no silent failure. */
static void test_malformed_inputs(void) {
    const char *files[] = {"models/lib/nn.mmg", "models/lib/fusion.mmg", "models/lib/digits.mmg",
                           "models/lib/losses.mmg", "models/multimodal.mmg", "models/multimodal_gated.mmg"};
    const char junk[] = {'(', ')', '[', ']', '{', '}', ',', ':', '"', '\n', '@', '\0', (char)0xff, '-', '.', '/'};
    int failures = 0;
    unsigned seed = 12345;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        char *text = read_file(files[f], &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        for (int k = 1; k <= 24; k++) compile_mangled(text, len * (size_t)k / 25, &failures);
        for (int k = 0; k < 24; k++) {
            char *copy = xmalloc(len + 1);
            memcpy(copy, text, len + 1);
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            copy[at] = junk[(seed >> 4) % sizeof junk];
            compile_mangled(copy, len, &failures);
            free(copy);
        }
        free(text);
    }
    CU_ASSERT_EQUAL(failures, 0);
}

static CU_TestInfo tests[] = {
    {"the study's models have the study's parameter counts", test_param_counts},
    {"gated fusion parameters: names, shapes, init", test_gated_params},
    {"--set: model binding, block argument by path, train settings", test_set},
    {"train settings as written in the model file", test_train_settings},
    {"schedule, warm-up, clipping and no_decay settings, and --set", test_update_settings},
    {"a user's own fusion block compiles", test_user_fusion},
    {"a block bound to a name shares its parameters", test_shared_instance},
    {"IR print -> parse -> print is the identity on every model", test_ir_round_trip},
    {"--emit=ast prints the syntax tree", test_ast},
    {"malformed inputs fail with a diagnostic, never crash", test_malformed_inputs},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("frontend", tests); }
