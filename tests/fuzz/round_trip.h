/* round_trip.h — the IR text round trip, checked by the fuzz harnesses. */
#ifndef MMGC_FUZZ_ROUND_TRIP_H
#define MMGC_FUZZ_ROUND_TRIP_H

#include "ir.h"

/* Prints g, reads the text back with ir_parse and prints that: aborts,
 * after printing both texts, unless the read succeeds and both prints are
 * the same bytes (ir.h: "ir_parse reads back exactly what ir_print
 * writes"). g must be verified. */
void fuzz_check_round_trip(const Graph *g);

#endif
