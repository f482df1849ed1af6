/* round_trip.c — see round_trip.h. */
#include "round_trip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void fuzz_check_round_trip(const Graph *g) {
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
