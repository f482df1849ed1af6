/* ckpt_layout.c — see ckpt_layout.h. */
#include "ckpt_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* "resume:" NAME, into buf. */
static const char *resume_name(const char *name, char *buf, size_t size) {
    snprintf(buf, size, "%s%s", CKPT_RESUME_PREFIX, name);
    return buf;
}

int ckpt_layout_write(const char *path, const ParamStore *ps, const CkptContents *c, char *err, size_t errlen) {
    CkptTensor *t = xcalloc((size_t)(2 * ps->n + 1), sizeof *t);
    char **names = xcalloc((size_t)(ps->n + 1), sizeof *names);
    int n = 0;
    for (int i = 0; i < ps->n; i++) {
        const ParamSlot *p = &ps->slots[i];
        if (!p->is_state) t[n++] = (CkptTensor){p->name, DT_F32, p->shape, c->weights + p->offset};
    }
    for (int i = 0; i < ps->n; i++) {
        const ParamSlot *p = &ps->slots[i];
        size_t len = strlen(CKPT_RESUME_PREFIX) + strlen(p->name) + 1;
        names[i] = xmalloc(len);
        t[n++] = (CkptTensor){resume_name(p->name, names[i], len), DT_F32, p->shape, ps->block + p->offset};
    }
    int nmeta = 4 + c->nmeta;
    const char **keys = xcalloc((size_t)nmeta, sizeof *keys), **values = xcalloc((size_t)nmeta, sizeof *values);
    char epoch[32];
    snprintf(epoch, sizeof epoch, "%d", c->weights_epoch);
    const char *k[4] = {"format", "model", "weights", "weights_epoch"}, *v[4] = {CKPT_FORMAT, c->model, c->which, epoch};
    for (int i = 0; i < 4; i++) keys[i] = k[i], values[i] = v[i];
    for (int i = 0; i < c->nmeta; i++) keys[4 + i] = c->keys[i], values[4 + i] = c->values[i];
    int rc = ckpt_write(path, t, n, keys, values, nmeta, err, errlen);
    for (int i = 0; i < ps->n; i++) free(names[i]);
    free(names);
    free(t);
    free(keys);
    free(values);
    return rc;
}

Checkpoint *ckpt_layout_read(const char *path, char *err, size_t errlen) {
    Checkpoint *c = ckpt_read(path, err, errlen);
    if (!c) return NULL;
    const char *format = ckpt_meta(c, "format");
    if (!format || !strcmp(format, CKPT_FORMAT)) return c;
    if (!strcmp(format, "mmgc-checkpoint-1"))
        snprintf(err, errlen,
                 "%s: checkpoint format 'mmgc-checkpoint-1' is an older layout (plain names hold the last epoch's "
                 "weights, best:NAME the best ones); this mmgc reads '%s' (see README, Training)",
                 path, CKPT_FORMAT);
    else
        snprintf(err, errlen, "%s: unknown checkpoint format '%s' (this mmgc reads '%s')", path, format, CKPT_FORMAT);
    ckpt_free(c);
    return NULL;
}

/* Copies tensor `name` into dst after checking its dtype and shape. */
static int take(const Checkpoint *c, const char *path, const char *name, const ParamSlot *p, float *dst, char *err,
                size_t errlen) {
    const CkptTensor *t = ckpt_find(c, name);
    char a[128], b[128];
    if (!t) {
        snprintf(err, errlen, "%s: no tensor '%s' (was it saved from another model?)", path, name);
        return -1;
    }
    if (t->dtype != DT_F32 || !ir_shape_eq(&t->shape, &p->shape)) {
        snprintf(err, errlen, "%s: '%s' is %s%s but the model's is f32 %s", path, name, t->dtype == DT_F32 ? "f32 " : "i64 ",
                 ir_shape_str(&t->shape, a, sizeof a), ir_shape_str(&p->shape, b, sizeof b));
        return -1;
    }
    memcpy(dst, t->data, (size_t)ir_numel(&p->shape) * sizeof(float));
    return 0;
}

int ckpt_layout_weights(const Checkpoint *c, const char *path, const ParamStore *ps, float *dst, char *err,
                        size_t errlen) {
    for (int i = 0; i < ps->n; i++) {
        const ParamSlot *p = &ps->slots[i];
        if (!p->is_state && take(c, path, p->name, p, dst + p->offset, err, errlen)) return -1;
    }
    return 0;
}

int ckpt_layout_resume(const Checkpoint *c, const char *path, ParamStore *ps, char *err, size_t errlen) {
    const char *format = ckpt_meta(c, "format");
    if (!format || strcmp(format, CKPT_FORMAT)) {
        snprintf(err, errlen, "%s: holds weights only (no format '%s' in its metadata), nothing to resume from", path,
                 CKPT_FORMAT);
        return -1;
    }
    for (int i = 0; i < ps->n; i++) {
        const ParamSlot *p = &ps->slots[i];
        char name[600];
        if (take(c, path, resume_name(p->name, name, sizeof name), p, ps->block + p->offset, err, errlen)) return -1;
    }
    return 0;
}
