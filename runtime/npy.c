/* npy.c — see npy.h.
 *
 * The file format (numpy.lib.format):
 *
 *   "\x93NUMPY" major minor         8 bytes; version 1.0, 2.0 or 3.0
 *   header length                   uint16 LE (1.0) or uint32 LE (2.0, 3.0)
 *   header                          a Python dict literal, padded with spaces
 *                                   and ended by '\n' so the data is aligned:
 *                                   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *   data                            numel * itemsize bytes, nothing after
 *
 * 3.0 differs from 2.0 only in allowing UTF-8 in the header, which this
 * reader, seeing bytes, takes as it comes.
 */
#include "npy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_util.h"

static const char MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

size_t npy_itemsize(char dtype) {
    switch (dtype) {
    case 'f': case 'i': return 4;
    case 'd': case 'l': return 8;
    case 'b': return 1;
    default: return 0;
    }
}

const char *npy_descr(char dtype) {
    switch (dtype) {
    case 'f': return "<f4";
    case 'd': return "<f8";
    case 'i': return "<i4";
    case 'l': return "<i8";
    case 'b': return "|u1";
    default: return NULL;
    }
}

int64_t npy_numel(const NpyArray *a) {
    int64_t n = 1;
    for (int i = 0; i < a->rank; i++) n *= a->shape[i];
    return n;
}

void npy_free(NpyArray *a) {
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* Checks rank and shape and computes the byte size; what names the file or
 * function for messages. */
static int checked_nbytes(char dtype, int rank, const int64_t *shape, size_t *nbytes,
                          const char *what, char *err, size_t errlen) {
    size_t item = npy_itemsize(dtype);
    if (!item) return io_fail(err, errlen, "%s: unknown dtype code '%c'", what, dtype);
    if (rank < 0 || rank > NPY_MAX_RANK)
        return io_fail(err, errlen, "%s: rank %d is out of range (0 to %d)", what, rank, NPY_MAX_RANK);
    int64_t numel = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0) return io_fail(err, errlen, "%s: dimension %d is negative (%lld)", what, i, (long long)shape[i]);
        if (shape[i] && numel > INT64_MAX / shape[i])
            return io_fail(err, errlen, "%s: shape is too large (more than 2^63 elements)", what);
        numel *= shape[i];
    }
    if ((uint64_t)numel > SIZE_MAX / item || (uint64_t)numel > (uint64_t)INT64_MAX / item)
        return io_fail(err, errlen, "%s: shape is too large (%lld elements of %zu bytes)", what, (long long)numel, item);
    *nbytes = (size_t)numel * item;
    return 0;
}

/* ---- reading the header dict --------------------------------------------- */

typedef struct {
    const char *s;
    size_t n, i;
    const char *path;
    char *err;
    size_t errlen;
} Scan;

static void skip_ws(Scan *c) {
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
        c->i++;
}

static int at_end(Scan *c) { return c->i >= c->n; }

/* Copies up to max bytes of s[from, to) into buf as printable text. */
static const char *excerpt(const Scan *c, size_t from, size_t to, char *buf, size_t size) {
    size_t k = 0, max = size - 4;
    for (size_t j = from; j < to && j < c->n && c->s[j] != '\n'; j++) {
        if (k == max) {
            memcpy(buf + k, "...", 3);
            k += 3;
            break;
        }
        unsigned char ch = (unsigned char)c->s[j];
        buf[k++] = ch >= 32 && ch < 127 ? (char)ch : '?';
    }
    buf[k] = 0;
    return buf;
}

/* An error at the scan position: "PATH: bad header at byte N: WHAT". */
static int syntax(Scan *c, const char *what) {
    if (at_end(c)) return io_fail(c->err, c->errlen, "%s: header ends before its dict is closed", c->path);
    char buf[48];
    return io_fail(c->err, c->errlen, "%s: bad header at byte %zu: %s, found \"%s\"", c->path, c->i, what,
                   excerpt(c, c->i, c->n, buf, sizeof buf));
}

/* A quoted string without escapes: 'abc' or "abc". Longer than size - 1 is
 * truncated (the caller then sees an unknown value). */
static int scan_string(Scan *c, char *buf, size_t size) {
    if (at_end(c) || (c->s[c->i] != '\'' && c->s[c->i] != '"')) return 1;
    char q = c->s[c->i++];
    size_t k = 0;
    while (!at_end(c) && c->s[c->i] != q) {
        if (k + 1 < size) buf[k++] = c->s[c->i];
        c->i++;
    }
    if (at_end(c)) return syntax(c, "unterminated string");
    c->i++;
    buf[k] = 0;
    return 0;
}

/* True or False. */
static int scan_bool(Scan *c, int *v) {
    if (c->n - c->i >= 4 && memcmp(c->s + c->i, "True", 4) == 0) {
        c->i += 4, *v = 1;
        return 0;
    }
    if (c->n - c->i >= 5 && memcmp(c->s + c->i, "False", 5) == 0) {
        c->i += 5, *v = 0;
        return 0;
    }
    return io_fail(c->err, c->errlen, "%s: 'fortran_order' is not True or False", c->path);
}

/* A non-negative decimal integer (Python 2 numpy wrote a trailing L). */
static int scan_dim(Scan *c, int64_t *v) {
    if (at_end(c) || c->s[c->i] < '0' || c->s[c->i] > '9') return -1;
    *v = 0;
    while (!at_end(c) && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
        int d = c->s[c->i++] - '0';
        if (*v > (INT64_MAX - d) / 10) return -1;
        *v = *v * 10 + d;
    }
    if (!at_end(c) && c->s[c->i] == 'L') c->i++;
    return 0;
}

/* A tuple of non-negative ints: (), (3,), (2, 3), (2, 3,). */
static int scan_shape(Scan *c, int *rank, int64_t *shape) {
    size_t start = c->i;
    int n = 0, ok = !at_end(c) && c->s[c->i] == '(';
    if (ok) {
        c->i++;
        skip_ws(c);
        if (!at_end(c) && c->s[c->i] == ')') {
            c->i++;
        } else {
            for (;;) {
                int64_t d;
                if (scan_dim(c, &d) != 0) { ok = 0; break; }
                if (n < NPY_MAX_RANK) shape[n] = d;
                n++;
                skip_ws(c);
                if (at_end(c)) { ok = 0; break; }
                if (c->s[c->i] == ')') { ok = n > 1; c->i++; break; } /* (3) is an int */
                if (c->s[c->i] != ',') { ok = 0; break; }
                c->i++;
                skip_ws(c);
                if (!at_end(c) && c->s[c->i] == ')') { c->i++; break; }
            }
        }
    }
    if (!ok) {
        size_t end = start;
        while (end < c->n && !strchr(")]}", c->s[end])) end++;
        if (end < c->n && c->s[end] != '}') end++; /* show the closing bracket */
        char buf[64];
        return io_fail(c->err, c->errlen, "%s: bad shape tuple \"%s\" (expected a tuple of non-negative integers)",
                       c->path, excerpt(c, start, end, buf, sizeof buf));
    }
    if (n > NPY_MAX_RANK)
        return io_fail(c->err, c->errlen, "%s: shape has %d dimensions; at most %d are supported", c->path, n, NPY_MAX_RANK);
    *rank = n;
    return 0;
}

/* How the file stores its elements: what parse_header found beyond the
 * array's dtype, rank and shape. */
typedef struct {
    int half;     /* '<f2': 2-byte elements, read as float32 */
    int fortran;  /* fortran_order True: column-major, read as C order */
} Layout;

/* Maps a descr to a dtype code; '<f2' is read as 'f' (layout->half). */
static int parse_descr(const char *path, const char *descr, char *dtype, Layout *layout, char *err, size_t errlen) {
    static const struct { const char *descr; char dtype; } known[] = {
        {"<f4", 'f'}, {"<f8", 'd'}, {"<i4", 'i'}, {"<i8", 'l'}, {"|u1", 'b'}, {"<u1", 'b'}, {"<f2", 'f'},
    };
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        if (strcmp(descr, known[k].descr) == 0) {
            *dtype = known[k].dtype;
            layout->half = !strcmp(descr, "<f2");
            return 0;
        }
    if (descr[0] == '>')
        return io_fail(err, errlen, "%s: big-endian dtype '%s' is not supported (little-endian only)", path, descr);
    return io_fail(err, errlen, "%s: unsupported dtype '%s' (supported: '<f2', '<f4', '<f8', '<i4', '<i8', '|u1')", path,
                   descr);
}

/* Parses the header dict into out's dtype, rank and shape, and *layout. */
static int parse_header(const char *path, const char *text, size_t len, NpyArray *out, Layout *layout, char *err,
                        size_t errlen) {
    Scan c = {text, len, 0, path, err, errlen};
    enum { DESCR = 1, FORTRAN = 2, SHAPE = 4 };
    int seen = 0, fortran = 0;
    char descr[32] = "";
    skip_ws(&c);
    if (at_end(&c) || text[c.i] != '{') {
        char buf[48];
        return io_fail(err, errlen, "%s: header is not a dict: \"%s\"", path, excerpt(&c, c.i, len, buf, sizeof buf));
    }
    c.i++;
    for (;;) {
        skip_ws(&c);
        if (!at_end(&c) && text[c.i] == '}') break;
        char key[32];
        int r = scan_string(&c, key, sizeof key);
        if (r < 0) return r;
        if (r > 0) return syntax(&c, "expected a quoted key or '}'");
        int bit = !strcmp(key, "descr") ? DESCR : !strcmp(key, "fortran_order") ? FORTRAN : !strcmp(key, "shape") ? SHAPE : 0;
        if (!bit) return io_fail(err, errlen, "%s: header has an unexpected key '%s'", path, key);
        if (seen & bit) return io_fail(err, errlen, "%s: header repeats the key '%s'", path, key);
        seen |= bit;
        skip_ws(&c);
        if (at_end(&c) || text[c.i] != ':') return syntax(&c, "expected ':' after a key");
        c.i++;
        skip_ws(&c);
        if (bit == DESCR) {
            if (!at_end(&c) && text[c.i] == '[')
                return io_fail(err, errlen, "%s: structured dtypes are not supported", path);
            r = scan_string(&c, descr, sizeof descr);
            if (r < 0) return r;
            if (r > 0) return io_fail(err, errlen, "%s: 'descr' is not a string", path);
        } else if (bit == FORTRAN) {
            if (scan_bool(&c, &fortran) != 0) return -1;
        } else if (scan_shape(&c, &out->rank, out->shape) != 0) {
            return -1;
        }
        skip_ws(&c);
        if (!at_end(&c) && text[c.i] == ',') {
            c.i++;
            continue;
        }
        if (!at_end(&c) && text[c.i] == '}') break;
        return syntax(&c, "expected ',' or '}'");
    }
    c.i++;
    skip_ws(&c);
    if (!at_end(&c)) {
        char buf[48];
        return io_fail(err, errlen, "%s: unexpected text after the header dict: \"%s\"", path,
                       excerpt(&c, c.i, len, buf, sizeof buf));
    }
    static const char *names[] = {"descr", "fortran_order", "shape"};
    for (int k = 0; k < 3; k++)
        if (!(seen & (1 << k))) return io_fail(err, errlen, "%s: header has no '%s' key", path, names[k]);
    if (parse_descr(path, descr, &out->dtype, layout, err, errlen) != 0) return -1;
    layout->fortran = fortran && out->rank > 1; /* one dimension reads the same in either order */
    return 0;
}

/* ---- converting what numpy writes but the array does not hold ------------------ */

/* An IEEE 754 half (binary16) as a float, exactly: subnormals, infinities
 * and NaN included. */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | man << 13; /* infinity or NaN (payload kept) */
    } else if (exp) {
        bits = sign | (exp + 112) << 23 | man << 13; /* rebias 15 -> 127 */
    } else {
        float f = (float)man * 0x1p-24f; /* zero or subnormal: man * 2^-24, exact in float */
        memcpy(&bits, &f, 4);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Widens n little-endian halves in src to floats in dst. */
static void halves_to_floats(const unsigned char *src, float *dst, int64_t n) {
    for (int64_t k = 0; k < n; k++) dst[k] = half_to_float((uint16_t)(src[2 * k] | src[2 * k + 1] << 8));
}

/* Reorders a's data (items of `item` bytes) from column-major to row-major
 * into a fresh buffer that replaces it; 0, or -1 when out of memory. */
static int fortran_to_c(NpyArray *a, size_t item) {
    int64_t n = npy_numel(a), idx[NPY_MAX_RANK] = {0}, stride[NPY_MAX_RANK];
    char *dst = malloc(a->nbytes ? a->nbytes : 1);
    if (!dst) return -1;
    int64_t s = 1;
    for (int d = 0; d < a->rank; d++) stride[d] = s, s *= a->shape[d]; /* column-major strides */
    int64_t from = 0;
    for (int64_t k = 0; k < n; k++) { /* k walks C order; idx is its index, from its column-major offset */
        memcpy(dst + (size_t)k * item, (const char *)a->data + (size_t)from * item, item);
        for (int d = a->rank - 1; d >= 0; d--) {
            from += stride[d];
            if (++idx[d] < a->shape[d]) break;
            from -= stride[d] * a->shape[d];
            idx[d] = 0;
        }
    }
    free(a->data);
    a->data = dst;
    return 0;
}

/* ---- reading ---------------------------------------------------------------- */

static int read_stream(FILE *f, const char *path, NpyArray *out, char *err, size_t errlen) {
    unsigned char pre[12];
    Layout layout = {0, 0};
    long long got = io_read(f, pre, 8, path, err, errlen);
    if (got < 0) return -1;
    if (got < 6 || memcmp(pre, MAGIC, 6) != 0)
        return io_fail(err, errlen, "%s: not an NPY file (it does not start with \"\\x93NUMPY\")", path);
    if (got < 8) return io_fail(err, errlen, "%s: file ends inside the header (after %lld bytes)", path, got);
    int major = pre[6], minor = pre[7];
    if (!(minor == 0 && major >= 1 && major <= 3))
        return io_fail(err, errlen, "%s: unsupported NPY format version %d.%d (supported: 1.0, 2.0, 3.0)", path, major, minor);
    size_t lenbytes = major == 1 ? 2 : 4;
    got = io_read(f, pre + 8, lenbytes, path, err, errlen);
    if (got < 0) return -1;
    if ((size_t)got < lenbytes)
        return io_fail(err, errlen, "%s: file ends inside the header (after %lld bytes)", path, 8 + got);
    uint32_t hlen = pre[8] | (uint32_t)pre[9] << 8;
    if (lenbytes == 4) hlen |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    if (hlen > NPY_MAX_HEADER)
        return io_fail(err, errlen, "%s: header length %lu is too long (limit %d)", path, (unsigned long)hlen, NPY_MAX_HEADER);
    char *header = malloc(hlen + 1);
    if (!header) return io_fail(err, errlen, "%s: out of memory", path);
    got = io_read(f, header, hlen, path, err, errlen);
    int rc = got < 0 ? -1
           : (size_t)got < hlen
               ? io_fail(err, errlen, "%s: header truncated: its length field says %lu bytes, found %lld", path,
                         (unsigned long)hlen, got)
               : parse_header(path, header, hlen, out, &layout, err, errlen);
    free(header);
    if (rc != 0) return -1;

    size_t nbytes; /* as the file stores them: half as many for '<f2' */
    if (checked_nbytes(out->dtype, out->rank, out->shape, &nbytes, path, err, errlen) != 0) return -1;
    if (layout.half) nbytes /= 2;
    /* For a regular file, compare sizes before allocating anything. */
    long long avail = io_bytes_left(f);
    if (avail >= 0 && (unsigned long long)avail < nbytes)
        return io_fail(err, errlen, "%s: data truncated: expected %zu bytes, found %lld", path, nbytes, avail);
    out->data = malloc(nbytes ? nbytes : 1);
    if (!out->data) return io_fail(err, errlen, "%s: out of memory (%zu bytes of data)", path, nbytes);
    out->nbytes = nbytes;
    got = io_read(f, out->data, nbytes, path, err, errlen);
    if (got < 0) return -1;
    if ((size_t)got < nbytes)
        return io_fail(err, errlen, "%s: data truncated: expected %zu bytes, found %lld", path, nbytes, got);
    unsigned long long extra = 0;
    char tail[4096];
    while ((got = io_read(f, tail, sizeof tail, path, err, errlen)) > 0) extra += (unsigned long long)got;
    if (got < 0) return -1;
    if (extra)
        return io_fail(err, errlen, "%s: %llu bytes of trailing garbage after the %zu bytes of data", path, extra, nbytes);
    if (layout.half) {
        float *wide = malloc(nbytes ? 2 * nbytes : 1);
        if (!wide) return io_fail(err, errlen, "%s: out of memory (%zu bytes of data)", path, 2 * nbytes);
        halves_to_floats(out->data, wide, npy_numel(out));
        free(out->data);
        out->data = wide;
        out->nbytes = 2 * nbytes;
    }
    if (layout.fortran && fortran_to_c(out, npy_itemsize(out->dtype)) != 0)
        return io_fail(err, errlen, "%s: out of memory (%zu bytes of data)", path, out->nbytes);
    return 0;
}

int npy_read_file(const char *path, NpyStreamReader read, NpyArray *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return io_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    int rc = read(f, path, out, err, errlen);
    fclose(f);
    if (rc != 0) npy_free(out);
    return rc;
}

int npy_read(const char *path, NpyArray *out, char *err, size_t errlen) {
    return npy_read_file(path, read_stream, out, err, errlen);
}

/* ---- writing ---------------------------------------------------------------- */

/* The header numpy writes, padded with spaces and '\n' so that the prefix
 * (magic, version, length) plus header is a multiple of 64 bytes. Returns
 * the header length; *version is 1, or 2 if it does not fit in 1.0. */
static size_t make_header(const NpyArray *a, int *version, char *buf, size_t size) {
    char shape[NPY_MAX_RANK * 22 + 4];
    size_t k = 0;
    shape[k++] = '(';
    for (int i = 0; i < a->rank; i++)
        k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%lld", i ? ", " : "", (long long)a->shape[i]);
    if (a->rank == 1) shape[k++] = ',';
    shape[k++] = ')';
    shape[k] = 0;
    size_t n = (size_t)snprintf(buf, size, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                                npy_descr(a->dtype), shape);
    if (*version == 0) *version = n + 64 <= 65535 ? 1 : 2; /* always 1 for rank <= 6 */
    size_t prefix = *version == 1 ? 10 : 12;
    while ((prefix + n + 1) % 64) buf[n++] = ' ';
    buf[n++] = '\n';
    return n;
}

int npy_write_version(const char *path, const NpyArray *a, int version, char *err, size_t errlen) {
    size_t nbytes;
    if (version < 0 || version > 2) return io_fail(err, errlen, "%s: cannot write NPY version %d", path, version);
    if (checked_nbytes(a->dtype, a->rank, a->shape, &nbytes, path, err, errlen) != 0) return -1;
    if (a->nbytes != nbytes)
        return io_fail(err, errlen, "%s: nbytes is %zu but the shape needs %zu", path, a->nbytes, nbytes);
    if (nbytes && !a->data) return io_fail(err, errlen, "%s: data is NULL", path);

    char header[512];
    size_t hlen = make_header(a, &version, header, sizeof header);
    unsigned char pre[12];
    memcpy(pre, MAGIC, 6);
    pre[6] = (unsigned char)version, pre[7] = 0;
    for (int i = 0; i < 4; i++) pre[8 + i] = (unsigned char)(hlen >> (8 * i));

    IoPart parts[] = {{pre, version == 1 ? 10 : 12}, {header, hlen}, {a->data, nbytes}};
    return io_write_atomic(path, path, parts, 3, err, errlen);
}

int npy_write(const char *path, const NpyArray *a, char *err, size_t errlen) {
    return npy_write_version(path, a, 0, err, errlen);
}

/* ---- making and converting -------------------------------------------------- */

int npy_alloc(NpyArray *out, char dtype, int rank, const int64_t *shape, char *err, size_t errlen) {
    size_t nbytes;
    memset(out, 0, sizeof *out);
    if (checked_nbytes(dtype, rank, shape, &nbytes, "npy_alloc", err, errlen) != 0) return -1;
    out->data = calloc(nbytes ? nbytes : 1, 1);
    if (!out->data) return io_fail(err, errlen, "npy_alloc: out of memory (%zu bytes)", nbytes);
    out->dtype = dtype;
    out->rank = rank;
    for (int i = 0; i < rank; i++) out->shape[i] = shape[i];
    out->nbytes = nbytes;
    return 0;
}

static int is_int(char dtype) { return dtype == 'i' || dtype == 'l' || dtype == 'b'; }

static int64_t get_int(const NpyArray *a, int64_t k) {
    switch (a->dtype) {
    case 'i': return ((const int32_t *)a->data)[k];
    case 'l': return ((const int64_t *)a->data)[k];
    default: return ((const uint8_t *)a->data)[k];
    }
}

static double get_float(const NpyArray *a, int64_t k) {
    return a->dtype == 'f' ? ((const float *)a->data)[k] : ((const double *)a->data)[k];
}

/* Whether v fits the integer dtype. */
static int int_fits(char dtype, int64_t v) {
    return dtype == 'l' || (dtype == 'i' ? v >= INT32_MIN && v <= INT32_MAX : v >= 0 && v <= 255);
}

/* Whether v is finite, integral and within the integer dtype. */
static int float_fits(char dtype, double v) {
    if (!isfinite(v) || v != floor(v)) return 0;
    double lo = dtype == 'l' ? -0x1p63 : dtype == 'i' ? -0x1p31 : 0;
    double end = dtype == 'l' ? 0x1p63 : dtype == 'i' ? 0x1p31 : 256; /* exclusive */
    return v >= lo && v < end;
}

static void put(NpyArray *a, int64_t k, int64_t iv, double fv, int from_int) {
    switch (a->dtype) {
    case 'f': ((float *)a->data)[k] = from_int ? (float)iv : (float)fv; break;
    case 'd': ((double *)a->data)[k] = from_int ? (double)iv : fv; break;
    case 'i': ((int32_t *)a->data)[k] = (int32_t)(from_int ? iv : (int64_t)fv); break;
    case 'l': ((int64_t *)a->data)[k] = from_int ? iv : (int64_t)fv; break;
    default: ((uint8_t *)a->data)[k] = (uint8_t)(from_int ? iv : (int64_t)fv); break;
    }
}

int npy_convert(const NpyArray *in, char dtype, NpyArray *out, char *err, size_t errlen) {
    size_t nbytes;
    memset(out, 0, sizeof *out);
    if (checked_nbytes(in->dtype, in->rank, in->shape, &nbytes, "npy_convert", err, errlen) != 0) return -1;
    if (in->nbytes != nbytes) return io_fail(err, errlen, "npy_convert: nbytes is %zu but the shape needs %zu", in->nbytes, nbytes);
    if (npy_alloc(out, dtype, in->rank, in->shape, err, errlen) != 0) return -1;
    int64_t n = npy_numel(in);
    int from_int = is_int(in->dtype);
    for (int64_t k = 0; k < n; k++) {
        int64_t iv = from_int ? get_int(in, k) : 0;
        double fv = from_int ? 0 : get_float(in, k);
        int fits = !is_int(dtype) || (from_int ? int_fits(dtype, iv) : float_fits(dtype, fv));
        if (!fits) {
            char v[40];
            if (from_int) snprintf(v, sizeof v, "%lld", (long long)iv);
            else snprintf(v, sizeof v, "%.17g", fv);
            npy_free(out);
            return io_fail(err, errlen, "npy_convert: element %lld (%s) does not fit in %s", (long long)k, v, npy_descr(dtype));
        }
        put(out, k, iv, fv, from_int);
    }
    return 0;
}

int npy_to_f32(const NpyArray *in, NpyArray *out, char *err, size_t errlen) {
    return npy_convert(in, 'f', out, err, errlen);
}

int64_t npy_find_nonfinite(const NpyArray *a) {
    int64_t n = npy_numel(a);
    if (a->dtype == 'f') {
        const float *x = a->data;
        for (int64_t k = 0; k < n; k++)
            if (!isfinite(x[k])) return k;
    } else if (a->dtype == 'd') {
        const double *x = a->data;
        for (int64_t k = 0; k < n; k++)
            if (!isfinite(x[k])) return k;
    }
    return -1;
}
