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

#define MAX_INPUT (64 << 10)

/* g printed into a malloc'd string (*len bytes), or NULL. */
static char *print_graph(const Graph *g, size_t *len) {
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f) return NULL;
    ir_print(g, f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* Aborts unless print(parse(print(g))) == print(g). */
static void check_round_trip(const Graph *g) {
    size_t n1, n2;
    char *t1 = print_graph(g, &n1);
    if (!t1) return;
    char err[512];
    Graph *back = ir_parse(t1, "printed.ir", err, sizeof err);
    if (!back) {
        fprintf(stderr, "the printed graph does not parse: %s\n%s", err, t1);
        abort();
    }
    char *t2 = print_graph(back, &n2);
    if (t2 && (n1 != n2 || memcmp(t1, t2, n1))) {
        fprintf(stderr, "the printed graph prints differently once read back:\n%s\n--- vs ---\n%s", t1, t2);
        abort();
    }
    free(t2);
    free(t1);
    ir_graph_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    char err[512];
    Graph *g = ir_parse(text, "fuzz.ir", err, sizeof err);
    free(text);
    if (!g) return 0;
    check_round_trip(g);
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
