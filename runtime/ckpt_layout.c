/* ckpt_layout.c — see ckpt_layout.h. */
#include "ckpt_layout.h"

#include <math.h>
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
    const float *v = t->data;
    int64_t n = ir_numel(&p->shape);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i])) {
            snprintf(err, errlen, "%s: tensor '%s' holds %s at index %lld; a checkpoint's values must be finite numbers",
                     path, name, isnan(v[i]) ? "NaN" : v[i] > 0 ? "inf" : "-inf", (long long)i);
            return -1;
        }
    memcpy(dst, v, (size_t)n * sizeof(float));
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

/* Whether name (without the prefix) is an optimizer's state of a
 * parameter of ps: "optimizer.step", or PARAM.m, PARAM.v, PARAM.buf. */
static int optimizer_state_name(const ParamStore *ps, const char *name) {
    if (!strcmp(name, "optimizer.step")) return 1;
    const char *dot = strrchr(name, '.');
    if (!dot || (strcmp(dot, ".m") && strcmp(dot, ".v") && strcmp(dot, ".buf"))) return 0;
    for (int i = 0; i < ps->n; i++)
        if (!ps->slots[i].is_state && strlen(ps->slots[i].name) == (size_t)(dot - name) &&
            !strncmp(ps->slots[i].name, name, (size_t)(dot - name)))
            return 1;
    return 0;
}

/* Checks that c was saved from this model with this optimizer: the
 * optimizer named in its metadata (when there is one), then a
 * resume:NAME for every parameter and model state, then for every
 * optimizer state (their shapes are checked by take), and no other
 * resume: tensor. */
static int same_model(const Checkpoint *c, const char *path, const ParamStore *ps, const char *optimizer, char *err,
                      size_t errlen) {
    const char *theirs = ckpt_meta(c, "optimizer");
    if (theirs && strcmp(theirs, optimizer)) {
        snprintf(err, errlen, "%s: was trained with optimizer %s, but the model's optimizer is %s (resuming needs the same one)",
                 path, theirs, optimizer);
        return -1;
    }
    char name[600];
    for (int i = 0; i < ps->n; i++) {
        const ParamSlot *p = &ps->slots[i];
        if (!p->is_state && !ckpt_find(c, resume_name(p->name, name, sizeof name))) {
            snprintf(err, errlen, "%s: no tensor '%s' (was it saved from another model?)", path, name);
            return -1;
        }
    }
    for (int i = 0; i < ps->n; i++) {
        const ParamSlot *p = &ps->slots[i];
        if (p->is_state && !ckpt_find(c, resume_name(p->name, name, sizeof name))) {
            snprintf(err, errlen, "%s: no tensor '%s', state of the model's optimizer (%s): was it trained with another optimizer?",
                     path, name, optimizer);
            return -1;
        }
    }
    size_t np = strlen(CKPT_RESUME_PREFIX);
    for (int i = 0; i < ckpt_count(c); i++) {
        const char *n = ckpt_get(c, i)->name;
        if (strncmp(n, CKPT_RESUME_PREFIX, np) || params_find(ps, n + np)) continue;
        if (optimizer_state_name(ps, n + np))
            snprintf(err, errlen,
                     "%s: holds '%s', optimizer state that the model's optimizer (%s) does not have: was it trained with "
                     "another optimizer?", path, n, optimizer);
        else
            snprintf(err, errlen, "%s: holds '%s', which the model does not have (was it saved from another model?)", path, n);
        return -1;
    }
    return 0;
}

int ckpt_layout_resume(const Checkpoint *c, const char *path, ParamStore *ps, const char *optimizer, char *err,
                       size_t errlen) {
    const char *format = ckpt_meta(c, "format");
    if (!format || strcmp(format, CKPT_FORMAT)) {
        snprintf(err, errlen, "%s: holds weights only (no format '%s' in its metadata), nothing to resume from", path,
                 CKPT_FORMAT);
        return -1;
    }
    if (same_model(c, path, ps, optimizer, err, errlen)) return -1;
    for (int i = 0; i < ps->n; i++) {
        const ParamSlot *p = &ps->slots[i];
        char name[600];
        if (take(c, path, resume_name(p->name, name, sizeof name), p, ps->block + p->offset, err, errlen)) return -1;
    }
    return 0;
}
