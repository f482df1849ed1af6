/* fuzz_ir.c — the text IR parser (ir/parse.c) on any text.
 *
 * A graph it reads must round-trip: printing it, reading the print back
 * and printing that gives the same text (ir.h: "ir_parse reads back
 * exactly what ir_print writes"); any difference aborts. The graph, being
 * verified, is then planned (fusion and memory planning, with the plan
 * checker in debug builds) as a backend would. Inputs over 64 KiB are
 * skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ir.h"
#include "passes.h"
#include "round_trip.h"

#define MAX_INPUT (64 << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    char err[512];
    Graph *g = ir_parse(text, "fuzz.ir", err, sizeof err);
    free(text);
    if (!g) return 0;
    fuzz_check_round_trip(g);
    KernelPlan plan;
    MemPlan mem;
    if (pipeline_plan(g, &plan, &mem, err, sizeof err) == 0) {
        fusion_plan_free(&plan);
        memplan_free(&mem);
    } else {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    ir_graph_free(g);
    return 0;
}
