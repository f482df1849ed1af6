/* checkpoint.c — see checkpoint.h.
 *
 * Writing builds the header in memory, then writes path.tmp and renames it.
 * Reading parses the header with the small JSON parser below into a tree,
 * checks the tree against the safetensors schema, then reads the data into
 * one block in which every tensor starts at a multiple of 8 bytes (offsets
 * in the file need not be aligned, pointers handed out must be).
 */
#include "checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crc32.h"
#include "io_util.h"
#include "json_tree.h"
#include "name_set.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c writes and reads tensor data in host order, which must be little-endian"
#endif

/* The safetensors name of a dtype, or NULL. */
static const char *dtype_name(DType d) {
    switch (d) {
    case DT_F32: return "F32";
    case DT_I64: return "I64";
    }
    return NULL;
}

/* Bytes per element of a (valid) dtype. */
static size_t dtype_size(DType d) { return d == DT_F32 ? 4 : 8; }

/* numel * itemsize of a shape, or -1 if a dimension is negative or the size overflows. */
static int64_t shape_bytes(const Shape *s, DType d) {
    int64_t n = (int64_t)dtype_size(d);
    for (int i = 0; i < s->rank; i++) {
        if (s->dim[i] < 0) return -1;
        if (s->dim[i] && n > INT64_MAX / s->dim[i]) return -1;
        n *= s->dim[i];
    }
    return n;
}

/* "F32 [2, 3]" for messages. */
static const char *type_str(DType d, const Shape *s, char *buf, size_t size) {
    char shape[IR_MAX_RANK * 22 + 4];
    snprintf(buf, size, "%s %s", dtype_name(d), ir_shape_str(s, shape, sizeof shape));
    return buf;
}

/* s as a JSON string literal, escaped as serde_json does. */
static void buf_json_str(RBuf *b, const char *s) {
    rb_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char tmp[8];
        switch (*p) {
        case '"': rb_str(b, "\\\""); break;
        case '\\': rb_str(b, "\\\\"); break;
        case '\b': rb_str(b, "\\b"); break;
        case '\f': rb_str(b, "\\f"); break;
        case '\n': rb_str(b, "\\n"); break;
        case '\r': rb_str(b, "\\r"); break;
        case '\t': rb_str(b, "\\t"); break;
        default:
            if (*p < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", *p);
                rb_str(b, tmp);
            } else {
                rb_add(b, p, 1);
            }
        }
    }
    rb_add(b, "\"", 1);
}

/* ---- writing ------------------------------------------------------------------ */

/* Checks the tensors and metadata; fills bytes[i] with each tensor's size.
 * Repeated names are found by sorting (name_set.h), not pairwise. */
static int check_input(const char *path, const CkptTensor *t, int n, const char *const *keys,
                       const char *const *values, int nmeta, int64_t *bytes, char *err, size_t errlen) {
    if (n > CKPT_MAX_TENSORS)
        return io_fail(err, errlen, "%s: %d tensors; at most %d are supported", path, n, CKPT_MAX_TENSORS);
    if (nmeta > CKPT_MAX_META)
        return io_fail(err, errlen, "%s: %d metadata entries; at most %d are supported", path, nmeta, CKPT_MAX_META);
    const char **names = calloc((size_t)n + 1, sizeof *names);
    if (!names) return io_fail(err, errlen, "%s: out of memory", path);
    for (int i = 0; i < n; i++) {
        if (!t[i].name || !*t[i].name) {
            free(names);
            return io_fail(err, errlen, "%s: tensor %d has no name", path, i);
        }
        names[i] = t[i].name;
    }
    int repeat = names_first_repeat(names, n);
    free(names);
    if (repeat == -2) return io_fail(err, errlen, "%s: out of memory", path);
    for (int i = 0; i < n; i++) {
        const char *name = t[i].name;
        if (!io_utf8_valid((const unsigned char *)name, strlen(name)))
            return io_fail(err, errlen, "%s: tensor %d: name is not valid UTF-8", path, i);
        if (!strcmp(name, "__metadata__")) return io_fail(err, errlen, "%s: a tensor cannot be named '__metadata__'", path);
        if (i == repeat) return io_fail(err, errlen, "%s: duplicate tensor name '%s'", path, name);
        if (!dtype_name(t[i].dtype)) return io_fail(err, errlen, "%s: tensor '%s': unknown dtype %d", path, name, (int)t[i].dtype);
        if (t[i].shape.rank < 0 || t[i].shape.rank > IR_MAX_RANK)
            return io_fail(err, errlen, "%s: tensor '%s': rank %d is out of range (0 to %d)", path, name, t[i].shape.rank, IR_MAX_RANK);
        for (int k = 0; k < t[i].shape.rank; k++)
            if (t[i].shape.dim[k] < 0)
                return io_fail(err, errlen, "%s: tensor '%s': dimension %d is negative (%lld)", path, name, k,
                               (long long)t[i].shape.dim[k]);
        bytes[i] = shape_bytes(&t[i].shape, t[i].dtype);
        if (bytes[i] < 0) return io_fail(err, errlen, "%s: tensor '%s': shape is too large", path, name);
        if (bytes[i] && !t[i].data) return io_fail(err, errlen, "%s: tensor '%s': data is NULL", path, name);
    }
    for (int i = 0; i < nmeta; i++) {
        if (!keys[i] || !values[i]) return io_fail(err, errlen, "%s: metadata entry %d has a NULL key or value", path, i);
        if (!io_utf8_valid((const unsigned char *)keys[i], strlen(keys[i])) ||
            !io_utf8_valid((const unsigned char *)values[i], strlen(values[i])))
            return io_fail(err, errlen, "%s: metadata entry %d is not valid UTF-8", path, i);
        if (!strcmp(keys[i], CKPT_CHECKSUM_KEY))
            return io_fail(err, errlen, "%s: metadata key '%s' is reserved: the writer computes it", path, keys[i]);
    }
    repeat = names_first_repeat(keys, nmeta);
    if (repeat == -2) return io_fail(err, errlen, "%s: out of memory", path);
    if (repeat >= 0) return io_fail(err, errlen, "%s: duplicate metadata key '%s'", path, keys[repeat]);
    return 0;
}

/* The checksum of the tensors' bytes, in their order: "crc32:" and 8 hex digits. */
static void checksum_of(const CkptTensor *t, int n, const int64_t *bytes, char *buf, size_t size) {
    uint32_t crc = 0;
    for (int i = 0; i < n; i++) crc = crc32_update(crc, t[i].data, (size_t)bytes[i]);
    snprintf(buf, size, "%s%08x", CKPT_CHECKSUM_PREFIX, (unsigned)crc);
}

/* The header: the metadata (always, with the checksum last), then the
 * tensors; padded with spaces to a multiple of 8 bytes. */
static void make_header(RBuf *b, const CkptTensor *t, int n, const int64_t *bytes, const char *const *keys,
                        const char *const *values, int nmeta) {
    rb_str(b, "{\"__metadata__\":{");
    for (int i = 0; i < nmeta; i++) {
        buf_json_str(b, keys[i]);
        rb_str(b, ":");
        buf_json_str(b, values[i]);
        rb_str(b, ",");
    }
    char sum[32];
    checksum_of(t, n, bytes, sum, sizeof sum);
    buf_json_str(b, CKPT_CHECKSUM_KEY);
    rb_str(b, ":");
    buf_json_str(b, sum);
    rb_str(b, "}");
    int64_t offset = 0;
    for (int i = 0; i < n; i++) {
        char num[48];
        rb_str(b, ",");
        buf_json_str(b, t[i].name);
        rb_str(b, ":{\"dtype\":\"");
        rb_str(b, dtype_name(t[i].dtype));
        rb_str(b, "\",\"shape\":[");
        for (int k = 0; k < t[i].shape.rank; k++) {
            snprintf(num, sizeof num, "%s%lld", k ? "," : "", (long long)t[i].shape.dim[k]);
            rb_str(b, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%lld,%lld]}", (long long)offset, (long long)(offset + bytes[i]));
        rb_str(b, num);
        offset += bytes[i];
    }
    rb_str(b, "}");
    while (b->n % 8) rb_str(b, " ");
}

int ckpt_write(const char *path, const CkptTensor *tensors, int n, const char *const *meta_keys,
               const char *const *meta_values, int nmeta, char *err, size_t errlen) {
    if (n < 0 || nmeta < 0) return io_fail(err, errlen, "%s: negative tensor or metadata count", path);
    if ((n && !tensors) || (nmeta && (!meta_keys || !meta_values)))
        return io_fail(err, errlen, "%s: tensors or metadata arrays are NULL", path);
    int64_t *bytes = calloc((size_t)n + 1, sizeof *bytes);
    if (!bytes) return io_fail(err, errlen, "%s: out of memory", path);
    if (check_input(path, tensors, n, meta_keys, meta_values, nmeta, bytes, err, errlen) != 0) {
        free(bytes);
        return -1;
    }
    RBuf h = {0};
    make_header(&h, tensors, n, bytes, meta_keys, meta_values, nmeta);
    IoPart *parts = h.oom ? NULL : calloc((size_t)n + 2, sizeof *parts);
    if (!parts) {
        free(bytes), free(h.s);
        return io_fail(err, errlen, "%s: out of memory", path);
    }
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)((uint64_t)h.n >> (8 * i));
    parts[0] = (IoPart){len, 8}, parts[1] = (IoPart){h.s, h.n};
    for (int i = 0; i < n; i++) parts[2 + i] = (IoPart){tensors[i].data, (size_t)bytes[i]};
    int rc = io_write_atomic(path, path, parts, n + 2, err, errlen);
    free(parts), free(h.s), free(bytes);
    return rc;
}


/* ---- reading ------------------------------------------------------------------ */

struct Checkpoint {
    int n, nmeta;
    CkptTensor *t;     /* names are owned (malloc'd)          */
    char **mkeys, **mvals;
    unsigned char *block; /* all tensor data, 8-byte aligned slots */
    int has_checksum;     /* the metadata held CKPT_CHECKSUM_KEY (not kept in mkeys) */
    uint32_t checksum;
};

/* Frees the names, metadata, data block and c. */
void ckpt_free(Checkpoint *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) free((char *)c->t[i].name);
    for (int i = 0; i < c->nmeta; i++) free(c->mkeys[i]), free(c->mvals[i]);
    free(c->t), free(c->mkeys), free(c->mvals), free(c->block);
    free(c);
}

/* The number of tensors. */
int ckpt_count(const Checkpoint *c) { return c->n; }

/* Tensor i, or NULL out of range. */
const CkptTensor *ckpt_get(const Checkpoint *c, int i) { return i >= 0 && i < c->n ? &c->t[i] : NULL; }

/* A linear search: checkpoints hold hundreds of tensors, not millions. */
const CkptTensor *ckpt_find(const Checkpoint *c, const char *name) {
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->t[i].name, name)) return &c->t[i];
    return NULL;
}

/* The value of a metadata key, or NULL. */
const char *ckpt_meta(const Checkpoint *c, const char *key) {
    for (int i = 0; i < c->nmeta; i++)
        if (!strcmp(c->mkeys[i], key)) return c->mvals[i];
    return NULL;
}

/* The number of metadata entries. */
int ckpt_meta_count(const Checkpoint *c) { return c->nmeta; }

/* Metadata entry i (NULLs out of range). */
void ckpt_meta_get(const Checkpoint *c, int i, const char **key, const char **value) {
    int ok = i >= 0 && i < c->nmeta;
    *key = ok ? c->mkeys[i] : NULL;
    *value = ok ? c->mvals[i] : NULL;
}

/* Parses a checksum value "crc32:" and 8 hex digits into *crc; 0 or -1. */
static int parse_checksum(const char *v, uint32_t *crc) {
    size_t np = strlen(CKPT_CHECKSUM_PREFIX);
    if (strncmp(v, CKPT_CHECKSUM_PREFIX, np) || strlen(v) != np + 8) return -1;
    uint32_t x = 0;
    for (const char *p = v + np; *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
        if (d < 0) return -1;
        x = x << 4 | (uint32_t)d;
    }
    *crc = x;
    return 0;
}

/* Fills c's metadata from the "__metadata__" object m; the checksum goes
 * to c->checksum, not to the entries. */
static int read_meta(Checkpoint *c, const Json *m, const char *path, char *err, size_t errlen) {
    if (m->type != JSON_OBJ) return io_fail(err, errlen, "%s: '__metadata__' is not an object", path);
    int entries = 0; /* the checksum is not counted */
    for (int i = 0; i < m->n; i++) entries += strcmp(m->keys[i], CKPT_CHECKSUM_KEY) != 0;
    if (entries > CKPT_MAX_META)
        return io_fail(err, errlen, "%s: '__metadata__' holds %d entries; at most %d are supported", path, entries,
                       CKPT_MAX_META);
    int repeat = names_first_repeat((const char *const *)m->keys, m->n);
    if (repeat == -2) return io_fail(err, errlen, "%s: out of memory", path);
    c->mkeys = calloc((size_t)m->n + 1, sizeof *c->mkeys);
    c->mvals = calloc((size_t)m->n + 1, sizeof *c->mvals);
    if (!c->mkeys || !c->mvals) return io_fail(err, errlen, "%s: out of memory", path);
    for (int i = 0; i < m->n; i++) {
        if (m->items[i].type != JSON_STR)
            return io_fail(err, errlen, "%s: '__metadata__' value of '%s' is not a string", path, m->keys[i]);
        if (i == repeat) return io_fail(err, errlen, "%s: metadata key '%s' appears twice", path, m->keys[i]);
        if (!strcmp(m->keys[i], CKPT_CHECKSUM_KEY)) {
            if (parse_checksum(m->items[i].str, &c->checksum))
                return io_fail(err, errlen, "%s: metadata '%s' is '%s', not '%s' and 8 hex digits", path, CKPT_CHECKSUM_KEY,
                               m->items[i].str, CKPT_CHECKSUM_PREFIX);
            c->has_checksum = 1;
            continue;
        }
        c->mkeys[c->nmeta] = strdup(m->keys[i]);
        c->mvals[c->nmeta] = strdup(m->items[i].str);
        c->nmeta++;
        if (!c->mkeys[c->nmeta - 1] || !c->mvals[c->nmeta - 1]) return io_fail(err, errlen, "%s: out of memory", path);
    }
    return 0;
}

/* Compares the tensors' bytes, in header order, with the checksum of the metadata (if any). */
static int verify_checksum(const Checkpoint *c, const char *path, char *err, size_t errlen) {
    if (!c->has_checksum) return 0;
    uint32_t crc = 0;
    for (int i = 0; i < c->n; i++) {
        int64_t bytes = shape_bytes(&c->t[i].shape, c->t[i].dtype);
        crc = crc32_update(crc, c->t[i].data, (size_t)bytes);
    }
    if (crc == c->checksum) return 0;
    return io_fail(err, errlen, "%s: the tensors' bytes have checksum %s%08x, but the metadata says %s%08x: the file is corrupt",
                   path, CKPT_CHECKSUM_PREFIX, (unsigned)crc, CKPT_CHECKSUM_PREFIX, (unsigned)c->checksum);
}

/* Whether v is an array of n non-negative integers (any n if n < 0); copies them to out. */
static int int_array(const Json *v, int n, int max, int64_t *out) {
    if (v->type != JSON_ARR || (n >= 0 && v->n != n) || v->n > max) return 0;
    for (int i = 0; i < v->n; i++) {
        if (v->items[i].type != JSON_NUM || !v->items[i].is_int || v->items[i].ival < 0) return 0;
        out[i] = v->items[i].ival;
    }
    return 1;
}

/* Checks one tensor entry e named name; fills t and its offsets [begin, end). */
static int read_entry(const char *name, const Json *e, int64_t data_len, CkptTensor *t, int64_t *off,
                      const char *path, char *err, size_t errlen) {
    if (e->type != JSON_OBJ) return io_fail(err, errlen, "%s: tensor '%s': entry is not an object", path, name);
    static const char *fields[] = {"dtype", "shape", "data_offsets"};
    const Json *f[3] = {NULL, NULL, NULL};
    for (int i = 0; i < e->n; i++) {
        int k = 0;
        while (k < 3 && strcmp(e->keys[i], fields[k])) k++;
        if (k == 3) return io_fail(err, errlen, "%s: tensor '%s': unexpected key '%s'", path, name, e->keys[i]);
        if (f[k]) return io_fail(err, errlen, "%s: tensor '%s': key '%s' appears twice", path, name, fields[k]);
        f[k] = &e->items[i];
    }
    for (int k = 0; k < 3; k++)
        if (!f[k]) return io_fail(err, errlen, "%s: tensor '%s': no '%s'", path, name, fields[k]);

    if (f[0]->type != JSON_STR) return io_fail(err, errlen, "%s: tensor '%s': 'dtype' is not a string", path, name);
    const char *d = f[0]->str;
    static const char *other[] = {"F16", "BF16", "F64", "F8_E4M3", "F8_E5M2", "I8", "I16", "I32", "U8",
                                  "U16", "U32", "U64", "BOOL", "C64", "F4", "F6_E2M3", "F6_E3M2", "F8_E8M0"};
    if (!strcmp(d, "F32")) t->dtype = DT_F32;
    else if (!strcmp(d, "I64")) t->dtype = DT_I64;
    else {
        for (size_t k = 0; k < sizeof other / sizeof other[0]; k++)
            if (!strcmp(d, other[k]))
                return io_fail(err, errlen, "%s: tensor '%s': unsupported dtype '%s' (supported: F32, I64)", path, name, d);
        return io_fail(err, errlen, "%s: tensor '%s': unknown dtype '%s'", path, name, d);
    }

    if (f[1]->type == JSON_ARR && f[1]->n > IR_MAX_RANK)
        return io_fail(err, errlen, "%s: tensor '%s': shape has %d dimensions; at most %d are supported", path, name,
                       f[1]->n, IR_MAX_RANK);
    if (!int_array(f[1], -1, IR_MAX_RANK, t->shape.dim))
        return io_fail(err, errlen, "%s: tensor '%s': 'shape' is not an array of non-negative integers", path, name);
    t->shape.rank = f[1]->n;
    int64_t need = shape_bytes(&t->shape, t->dtype);
    if (need < 0) return io_fail(err, errlen, "%s: tensor '%s': shape is too large", path, name);

    if (!int_array(f[2], 2, 2, off))
        return io_fail(err, errlen, "%s: tensor '%s': 'data_offsets' is not [begin, end] with non-negative integers", path, name);
    if (off[1] < off[0])
        return io_fail(err, errlen, "%s: tensor '%s': data_offsets [%lld, %lld] end before they begin", path, name,
                       (long long)off[0], (long long)off[1]);
    if (off[1] > data_len)
        return io_fail(err, errlen, "%s: tensor '%s': data_offsets [%lld, %lld] go past the end of the data (%lld bytes)",
                       path, name, (long long)off[0], (long long)off[1], (long long)data_len);
    if (off[1] - off[0] != need) {
        char ty[IR_MAX_RANK * 22 + 16];
        return io_fail(err, errlen, "%s: tensor '%s': data_offsets [%lld, %lld] hold %lld bytes, but %s needs %lld", path,
                       name, (long long)off[0], (long long)off[1], (long long)(off[1] - off[0]),
                       type_str(t->dtype, &t->shape, ty, sizeof ty), (long long)need);
    }
    return 0;
}

typedef struct {
    int64_t begin, end;
    int index;
} Span;

/* Orders spans by begin, then end. */
static int by_offset(const void *a, const void *b) {
    const Span *x = a, *y = b;
    return x->begin != y->begin ? (x->begin < y->begin ? -1 : 1) : x->end != y->end ? (x->end < y->end ? -1 : 1) : 0;
}

/* Checks that the tensors, sorted by offset, tile [0, data_len) exactly; order gets the sorted indices. */
static int check_tiling(const Checkpoint *c, const int64_t *off, int64_t data_len, int *order, const char *path,
                        char *err, size_t errlen) {
    Span *s = malloc(((size_t)c->n + 1) * sizeof *s);
    if (!s) return io_fail(err, errlen, "%s: out of memory", path);
    for (int i = 0; i < c->n; i++) s[i] = (Span){off[2 * i], off[2 * i + 1], i};
    qsort(s, (size_t)c->n, sizeof *s, by_offset);
    s[c->n] = (Span){data_len, data_len, -1};
    int rc = 0;
    for (int k = 0; rc == 0 && k <= c->n; k++) {
        int64_t end = k ? s[k - 1].end : 0;
        if (k < c->n) order[k] = s[k].index;
        if (k > 0 && s[k].begin < end)
            rc = io_fail(err, errlen, "%s: tensors '%s' and '%s' overlap: bytes [%lld, %lld) and [%lld, %lld)", path,
                         c->t[s[k - 1].index].name, c->t[s[k].index].name, (long long)s[k - 1].begin,
                         (long long)s[k - 1].end, (long long)s[k].begin, (long long)s[k].end);
        else if (s[k].begin > end)
            rc = io_fail(err, errlen, "%s: bytes [%lld, %lld) of the data belong to no tensor", path, (long long)end,
                         (long long)s[k].begin);
    }
    free(s);
    return rc;
}

/* Builds c from the parsed header root, then reads the data from f. */
static int read_body(Checkpoint *c, const Json *root, FILE *f, int64_t data_len, const char *path, char *err,
                     size_t errlen) {
    if (root->type != JSON_OBJ) return io_fail(err, errlen, "%s: header is not a JSON object", path);
    int ntensors = 0;
    for (int i = 0; i < root->n; i++) ntensors += strcmp(root->keys[i], "__metadata__") != 0;
    if (ntensors > CKPT_MAX_TENSORS)
        return io_fail(err, errlen, "%s: header holds %d tensors; at most %d are supported", path, ntensors,
                       CKPT_MAX_TENSORS);
    int repeat = names_first_repeat((const char *const *)root->keys, root->n);
    if (repeat == -2) return io_fail(err, errlen, "%s: out of memory", path);
    for (int i = 0; i < root->n; i++) {
        const char *name = root->keys[i];
        if (i == repeat)
            return io_fail(err, errlen, !strcmp(name, "__metadata__") ? "%s: '%s' appears twice"
                                                                       : "%s: duplicate tensor name '%s'", path, name);
        if (!*name) return io_fail(err, errlen, "%s: a tensor has an empty name", path);
    }
    c->t = calloc((size_t)ntensors + 1, sizeof *c->t);
    int64_t *off = calloc(2 * (size_t)ntensors + 2, sizeof *off);
    int *order = calloc((size_t)ntensors + 1, sizeof *order);
    int rc = !c->t || !off || !order ? io_fail(err, errlen, "%s: out of memory", path) : 0;
    for (int i = 0; rc == 0 && i < root->n; i++) {
        if (!strcmp(root->keys[i], "__metadata__")) {
            rc = read_meta(c, &root->items[i], path, err, errlen);
            continue;
        }
        CkptTensor *t = &c->t[c->n];
        rc = read_entry(root->keys[i], &root->items[i], data_len, t, off + 2 * c->n, path, err, errlen);
        if (rc == 0 && !(t->name = strdup(root->keys[i]))) rc = io_fail(err, errlen, "%s: out of memory", path);
        if (rc == 0) c->n++;
    }
    if (rc == 0) rc = check_tiling(c, off, data_len, order, path, err, errlen);
    /* One block; tensor i gets an 8-aligned slot. Read in file order (the tiling makes it sequential). */
    size_t total = 8;
    for (int i = 0; rc == 0 && i < c->n; i++) total += ((size_t)(off[2 * i + 1] - off[2 * i]) + 7) & ~(size_t)7;
    if (rc == 0 && !(c->block = malloc(total))) rc = io_fail(err, errlen, "%s: out of memory (%zu bytes of data)", path, total);
    size_t at = 0;
    for (int k = 0; rc == 0 && k < c->n; k++) {
        int i = order[k];
        size_t len = (size_t)(off[2 * i + 1] - off[2 * i]);
        c->t[i].data = c->block + at;
        if (fread(c->block + at, 1, len, f) != len)
            rc = io_fail(err, errlen, "%s: read error in the data of tensor '%s'%s%s", path, c->t[i].name,
                         ferror(f) ? ": " : "", ferror(f) ? strerror(errno) : "");
        at += (len + 7) & ~(size_t)7;
    }
    free(off), free(order);
    if (rc == 0) rc = verify_checksum(c, path, err, errlen);
    return rc;
}

/* The 8-byte length, the header and its JSON tree; then read_body. */
static int read_file(Checkpoint *c, FILE *f, const char *path, char *err, size_t errlen) {
    struct stat st;
    if (fstat(fileno(f), &st) != 0) return io_fail(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return io_fail(err, errlen, "%s: not a regular file", path);
    int64_t size = (int64_t)st.st_size;
    unsigned char len[8];
    if (size < 8 || fread(len, 1, 8, f) != 8)
        return io_fail(err, errlen, "%s: file is too short (%lld bytes) to be a safetensors file", path, (long long)size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | len[i];
    if (n > (uint64_t)(size - 8))
        return io_fail(err, errlen, "%s: header length %llu goes past the end of the file (%lld bytes)", path,
                       (unsigned long long)n, (long long)size);
    if (n > CKPT_MAX_HEADER)
        return io_fail(err, errlen, "%s: header length %llu is too long (limit %d)", path, (unsigned long long)n, CKPT_MAX_HEADER);
    char *text = malloc(n + 1);
    if (!text) return io_fail(err, errlen, "%s: out of memory", path);
    if (fread(text, 1, n, f) != n) {
        free(text);
        return io_fail(err, errlen, "%s: read error in the header", path);
    }
    text[n] = 0;
    Json root;
    int rc = json_parse(text, n, path, "header", 8, 1, &root, err, errlen);
    if (rc == 0) rc = read_body(c, &root, f, size - 8 - (int64_t)n, path, err, errlen);
    json_free(&root);
    free(text);
    return rc;
}

/* Opens path and reads it whole; NULL (and nothing to free) on error. */
Checkpoint *ckpt_read(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        io_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    Checkpoint *c = calloc(1, sizeof *c);
    int rc = c ? read_file(c, f, path, err, errlen) : io_fail(err, errlen, "%s: out of memory", path);
    fclose(f);
    if (rc != 0) {
        ckpt_free(c);
        return NULL;
    }
    return c;
}
