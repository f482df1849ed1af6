/* shape.c — shapes and types: element counts, broadcasting, printing. */
#include <inttypes.h>
#include <string.h>

#include "ir.h"

/* Number of elements; 1 for rank 0. The shape must be valid. */
int64_t ir_numel(const Shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->dim[i];
    return n;
}

/* 1 if a and b have the same rank and dims, else 0. */
int ir_shape_eq(const Shape *a, const Shape *b) {
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dim[i] != b->dim[i]) return 0;
    return 1;
}

/* Dim i counted from the right (0 = last); 1 past the rank. */
void ir_reduced_axes(const Node *n, int rank, int red[IR_MAX_RANK]) {
    for (int d = 0; d < rank; d++) red[d] = n->nattr == 1;
    for (int k = 1; k < n->nattr; k++) red[n->attr[k]] = 1;
}

int ir_sum_lanes(const Shape *x, const int red[IR_MAX_RANK], int64_t *trailing) {
    int d = x->rank;
    *trailing = 1;
    while (d > 0 && red[d - 1]) *trailing *= x->dim[--d];
    if (d == x->rank) *trailing = 0; /* the innermost axis is kept: no trailing run */
    return d < x->rank && x->rank < IR_MAX_RANK && *trailing % IR_SUM_LANES == 0 ? IR_SUM_LANES : 1;
}

int ir_sum_chunks(const Shape *x, const int red[IR_MAX_RANK]) {
    int kept = 0;
    for (int d = 1; d < x->rank; d++) kept |= !red[d];
    return x->rank >= 2 && x->rank <= IR_MAX_RANK - 2 && red[0] && kept && x->dim[0] > 0 &&
                   x->dim[0] % IR_SUM_CHUNKS == 0
               ? IR_SUM_CHUNKS
               : 1;
}

static int64_t dim_from_right(const Shape *s, int i) {
    return i < s->rank ? s->dim[s->rank - 1 - i] : 1;
}

/* Numpy broadcasting: dims are right-aligned; each pair must be equal or
 * contain a 1. [64, 1, 28] and [5, 1] -> [64, 5, 28]. out may alias a/b. */
int ir_broadcast(const Shape *a, const Shape *b, Shape *out) {
    Shape r;
    memset(&r, 0, sizeof r);
    r.rank = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < r.rank; i++) {
        int64_t da = dim_from_right(a, i), db = dim_from_right(b, i);
        if (da != db && da != 1 && db != 1) return -1;
        r.dim[r.rank - 1 - i] = da == 1 ? db : da;
    }
    *out = r;
    return 0;
}

/* Appends printf output at *pos in buf[n], clamping *pos at the end. */
static void put(char *buf, size_t n, size_t *pos, const char *fmt, int64_t v) {
    if (*pos >= n) return;
    int k = snprintf(buf + *pos, n - *pos, fmt, v);
    *pos = k < 0 ? n : *pos + (size_t)k;
}

/* "[64, 1, 28, 28]"; "[]" for rank 0; "[rank 9?]" for an invalid rank. */
char *ir_shape_str(const Shape *s, char *buf, size_t n) {
    size_t pos = 0;
    if (n == 0) return buf;
    buf[0] = 0;
    if (s->rank < 0 || s->rank > IR_MAX_RANK) {
        put(buf, n, &pos, "[rank %" PRId64 "?]", s->rank);
        return buf;
    }
    put(buf, n, &pos, "[", 0);
    for (int i = 0; i < s->rank; i++) put(buf, n, &pos, i ? ", %" PRId64 : "%" PRId64, s->dim[i]);
    put(buf, n, &pos, "]", 0);
    return buf;
}

/* "f32[64, 10]". */
char *ir_type_str(const TType *t, char *buf, size_t n) {
    int k = snprintf(buf, n, "%s", ir_dtype_name(t->dtype));
    if (k >= 0 && (size_t)k < n) ir_shape_str(&t->shape, buf + k, n - (size_t)k);
    return buf;
}

/* "f32" / "i64"; "?" for a value outside DType. */
const char *ir_dtype_name(DType d) {
    switch (d) {
    case DT_F32: return "f32";
    case DT_I64: return "i64";
    }
    return "?";
}
