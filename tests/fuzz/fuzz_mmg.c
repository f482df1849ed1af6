/* fuzz_mmg.c — the .mmg front end and the passes after it, on any text.
 *
 * The input is a main module given in memory (program_load_text); its
 * imports come from the repository's models/lib and models/ only. If it
 * parses, its model (the only one, else the first of the main file) is
 * elaborated; a forward graph is then taken through the training
 * pipeline (autodiff, optimizer, simplify, each verified) and planned
 * (fusion, memory planning, the plan checker in debug builds). No code is
 * generated. A pass may refuse a graph with a message; an internal error
 * aborts, and so does a forward or training graph that does not
 * round-trip through the text IR (the graph --emit=ir prints).
 *
 * Inputs over 32 KiB are skipped, and so are inputs naming a path under
 * /dev, /proc or /sys, which an import could otherwise read (a device
 * can block). */
#include <stdlib.h>
#include <string.h>

#include "elaborate.h"
#include "fuzz.h"
#include "passes.h"
#include "program.h"
#include "round_trip.h"

#define MAX_INPUT (32 << 10)

/* Does data[0..size) contain the string s? */
static int contains(const uint8_t *data, size_t size, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= size; i++)
        if (!memcmp(data + i, s, n)) return 1;
    return 0;
}

/* Trains and plans e's graph; aborts on an internal error, or if the
 * forward or the training graph does not round-trip through the text IR. */
static void run_passes(Elaborated *e) {
    fuzz_check_round_trip(e->graph);
    PassConfig cfg = {STAGE_TRAIN, e->train.optimizer, 0, NULL, NULL};
    PassError perr;
    if (pipeline_run(e->graph, &cfg, &perr) != 0) {
        if (strstr(perr.msg, "internal error")) {
            fprintf(stderr, "%s\n", perr.msg);
            abort();
        }
        return;
    }
    fuzz_check_round_trip(e->graph);
    KernelPlan plan;
    MemPlan mem;
    char err[512];
    if (pipeline_plan(e->graph, &plan, &mem, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    fusion_plan_free(&plan);
    memplan_free(&mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT || contains(data, size, "/dev") || contains(data, size, "/proc") ||
        contains(data, size, "/sys"))
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    Program p;
    program_init(&p);
    program_add_libdir(&p, MMGC_SOURCE_DIR "/models/lib");
    program_add_libdir(&p, MMGC_SOURCE_DIR "/models");
    if (program_load_text(&p, "fuzz.mmg", text) == 0) {
        const Module *m = p.modules[p.main_file];
        const char *name = m->models.n > 1 ? ((const ModelDef *)m->models.items[0])->name : NULL;
        Elaborated e;
        memset(&e, 0, sizeof e);
        if (elaborate(&p, name, NULL, 0, &e) == 0) run_passes(&e);
        elaborated_free(&e);
    }
    program_free(&p);
    free(text);
    return 0;
}
