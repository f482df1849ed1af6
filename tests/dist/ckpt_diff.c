/* ckpt_diff.c — how far apart two checkpoints' weights are:
 *   ckpt_diff A B TOL
 * For every F32 tensor of A (B must hold it, same shape): the largest
 * |a - b| / (1 + |b|). Prints it; exit 0 when it is at most TOL, 1 when
 * larger, 2 when a file cannot be read or the tensors do not match. Data
 * parallel training sums the gradients in another order than one process,
 * so its weights are close to, not the same bits as, one process's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "checkpoint.h"

int main(int argc, char **argv) {
    if (argc != 4) return fprintf(stderr, "usage: ckpt_diff A B TOL\n"), 2;
    char err[1024];
    Checkpoint *a = ckpt_read(argv[1], err, sizeof err), *b = a ? ckpt_read(argv[2], err, sizeof err) : NULL;
    if (!b) return fprintf(stderr, "ckpt_diff: %s\n", err), 2;
    double worst = 0;
    const char *where = "";
    int compared = 0;
    for (int i = 0; i < ckpt_count(a); i++) {
        const CkptTensor *t = ckpt_get(a, i), *u = ckpt_find(b, t->name);
        if (t->dtype != DT_F32) continue;
        if (!u || u->dtype != DT_F32 || !ir_shape_eq(&t->shape, &u->shape))
            return fprintf(stderr, "ckpt_diff: %s: '%s' is not in %s with its shape\n", argv[1], t->name, argv[2]), 2;
        const float *x = t->data, *y = u->data;
        for (int64_t k = 0; k < ir_numel(&t->shape); k++) {
            double d = fabs((double)x[k] - y[k]) / (1 + fabs((double)y[k]));
            if (!(d <= worst)) worst = d, where = t->name; /* NaN counts as the worst */
        }
        compared++;
    }
    printf("%d tensors, largest relative difference %.3g (%s)\n", compared, worst, where);
    ckpt_free(a);
    ckpt_free(b);
    return worst <= atof(argv[3]) ? 0 : 1;
}
