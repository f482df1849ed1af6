/* opt_hint.h — the message for an unknown command-line option, shared by
 * mmgc (cli.c) and the programs mmgc --aot builds (aot_main.c): what the
 * user most likely meant.
 *
 *   --epochs=20     unknown option '--epochs=20'; max_epochs is a train setting: --set max_epochs=20
 *   --sav x         unknown option '--sav'; did you mean '--save'?
 *   --frobnicate    unknown option '--frobnicate'; the options are --train, --eval, ...
 */
#ifndef MMGC_OPT_HINT_H
#define MMGC_OPT_HINT_H

#include <stddef.h>

/* Writes into err the message for arg, not one of options[0..noptions):
 * the train setting it names (--epochs, --batch-size, --lr, --seed, or a
 * near miss of one), else the option it is a near miss of, else the list. */
void opt_unknown(const char *arg, const char *const *options, int noptions, char *err, size_t n);

#endif
