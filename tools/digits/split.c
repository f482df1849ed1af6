/* split.c — see split.h. */
#include "split.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

int split_fill(int64_t total, const int64_t caps[10], int64_t counts[10]) {
    int64_t sum = 0, level = 0, below = 0;
    for (int d = 0; d < 10; d++) sum += caps[d], counts[d] = 0;
    if (sum < total) return -1;
    if (total == 0) return 0;
    /* The smallest level L with sum(min(cap, L)) >= total; below = sum(min(cap, L - 1)). */
    for (;;) {
        int64_t at = 0;
        for (int d = 0; d < 10; d++) at += caps[d] < level + 1 ? caps[d] : level + 1;
        level++;
        if (at >= total) break;
        below = at;
    }
    int64_t left = total - below;
    for (int d = 0; d < 10; d++) {
        counts[d] = caps[d] < level - 1 ? caps[d] : level - 1;
        if (left > 0 && caps[d] >= level) counts[d]++, left--;
    }
    return 0;
}

/* Fisher–Yates on v[n] with draws from (stream, step). */
static void shuffle(SampleRef *v, int64_t n, const DigitsKeys *k, DigitsStream s, uint64_t step) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = digits_uniform_int(k, s, step, (uint64_t)i, 0, i);
        SampleRef t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

static int spread_ok(const int64_t c[10]) {
    int64_t lo = c[0], hi = c[0];
    for (int d = 1; d < 10; d++) lo = c[d] < lo ? c[d] : lo, hi = c[d] > hi ? c[d] : hi;
    return hi - lo <= 1;
}

int split_plan(const int64_t avail[10], int64_t n_train, int64_t n_test, const DigitsKeys *k, SplitPlan *out,
               char *err, size_t errlen) {
    int64_t left[10], sum = 0;
    *out = (SplitPlan){.n_train = n_train, .n_test = n_test};
    for (int d = 0; d < 10; d++) sum += avail[d];
    if (split_fill(n_test, avail, out->test_per) != 0 || sum < n_train + n_test) {
        snprintf(err, errlen, "the source has %lld images, fewer than the %lld samples asked for", (long long)sum,
                 (long long)(n_train + n_test));
        return -1;
    }
    for (int d = 0; d < 10; d++) left[d] = avail[d] - out->test_per[d];
    if (split_fill(n_train, left, out->train_per) != 0) { /* cannot happen after the check above */
        snprintf(err, errlen, "internal error: train split does not fit");
        return -1;
    }
    out->balanced = spread_ok(out->test_per) && spread_ok(out->train_per);
    out->refs = xmalloc((size_t)(n_train + n_test + 1) * sizeof *out->refs);
    SampleRef *train = out->refs, *test = out->refs + n_train;
    int64_t nt = 0, ns = 0, maxd = 0;
    for (int d = 0; d < 10; d++) maxd = avail[d] > maxd ? avail[d] : maxd;
    SampleRef *order = xmalloc((size_t)(maxd + 1) * sizeof *order);
    for (int d = 0; d < 10; d++) {
        for (int64_t i = 0; i < avail[d]; i++) order[i] = (SampleRef){d, i};
        shuffle(order, avail[d], k, ST_SPLIT, (uint64_t)d);
        for (int64_t i = 0; i < out->test_per[d]; i++) test[ns++] = order[i];
        for (int64_t i = 0; i < out->train_per[d]; i++) train[nt++] = order[out->test_per[d] + i];
    }
    free(order);
    shuffle(train, n_train, k, ST_ORDER, 0);
    shuffle(test, n_test, k, ST_ORDER, 1);
    return 0;
}

void split_free(SplitPlan *p) {
    free(p->refs);
    p->refs = NULL;
}
