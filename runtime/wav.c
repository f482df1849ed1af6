/* wav.c — see wav.h.
 *
 * The reader walks the chunk list once with fseek, remembering where the
 * "fmt " and "data" chunks are, then checks the format and decodes the data
 * in blocks, de-interleaving frames into one row per channel.
 */
#include "wav.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "io_util.h"

/* Little-endian integers. */
static uint32_t le32(const unsigned char *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static unsigned le16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }

/* A chunk id as printable text ("fmt ", "LIST"; other bytes as '?'). */
static const char *chunk_id(const unsigned char *p, char buf[5]) {
    for (int i = 0; i < 4; i++) buf[i] = p[i] >= 32 && p[i] < 127 ? (char)p[i] : '?';
    buf[4] = 0;
    return buf;
}

/* What the chunk walk found. */
typedef struct {
    unsigned char fmt[40]; /* the first 40 bytes of the "fmt " chunk (zero-filled) */
    uint32_t fmt_size;
    int has_fmt, has_data;
    long long data_pos;    /* file offset of the data chunk's contents */
    uint32_t data_size;
} Chunks;

/* The RIFF header and the chunk list. */
static int walk_chunks(FILE *f, const char *path, Chunks *c, char *err, size_t errlen) {
    struct stat st;
    if (fstat(fileno(f), &st) != 0) return io_fail(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return io_fail(err, errlen, "%s: not a regular file", path);
    long long size = (long long)st.st_size;
    unsigned char h[12];
    size_t got = fread(h, 1, 12, f);
    if (got >= 4 && !memcmp(h, "RIFX", 4)) return io_fail(err, errlen, "%s: big-endian RIFX files are not supported", path);
    if (got >= 4 && !memcmp(h, "RF64", 4)) return io_fail(err, errlen, "%s: RF64 files are not supported", path);
    if (got < 4 || memcmp(h, "RIFF", 4)) return io_fail(err, errlen, "%s: not a WAV file (it does not start with \"RIFF\")", path);
    if (got < 12) return io_fail(err, errlen, "%s: file is too short (%zu bytes) to be a WAV file", path, got);
    char id[5];
    if (memcmp(h + 8, "WAVE", 4)) return io_fail(err, errlen, "%s: not a WAV file (a RIFF file of form '%s')", path, chunk_id(h + 8, id));
    long long end = 8 + (long long)le32(h + 4);
    if (end > size)
        return io_fail(err, errlen, "%s: file truncated: the RIFF header says %lld bytes, the file has %lld", path, end, size);
    long long pos = 12;
    while (end - pos >= 8) {
        unsigned char ch[8];
        if (fseek(f, pos, SEEK_SET) != 0 || fread(ch, 1, 8, f) != 8) return io_fail(err, errlen, "%s: read error at byte %lld", path, pos);
        uint32_t len = le32(ch + 4);
        chunk_id(ch, id);
        if ((long long)len > end - pos - 8)
            return io_fail(err, errlen, "%s: chunk '%s' at byte %lld is truncated: it says %lu bytes, %lld remain", path, id,
                           pos, (unsigned long)len, end - pos - 8);
        if (!memcmp(ch, "fmt ", 4)) {
            if (c->has_fmt) return io_fail(err, errlen, "%s: two 'fmt ' chunks", path);
            c->has_fmt = 1, c->fmt_size = len;
            size_t want = len < sizeof c->fmt ? len : sizeof c->fmt;
            if (fread(c->fmt, 1, want, f) != want) return io_fail(err, errlen, "%s: read error at byte %lld", path, pos + 8);
        } else if (!memcmp(ch, "data", 4)) {
            if (c->has_data) return io_fail(err, errlen, "%s: two 'data' chunks", path);
            c->has_data = 1, c->data_pos = pos + 8, c->data_size = len;
        }
        pos += 8 + (long long)len + (len & 1); /* odd chunks are padded to even */
    }
    if (pos < end) return io_fail(err, errlen, "%s: %lld stray bytes after the last chunk", path, end - pos);
    if (!c->has_fmt) return io_fail(err, errlen, "%s: no 'fmt ' chunk", path);
    if (!c->has_data) return io_fail(err, errlen, "%s: no 'data' chunk", path);
    return 0;
}

/* A name for an unsupported format tag. */
static const char *format_name(unsigned tag, unsigned bits, char *buf, size_t size) {
    switch (tag) {
    case 1: snprintf(buf, size, "%u-bit PCM", bits); break;
    case 2: snprintf(buf, size, "Microsoft ADPCM"); break;
    case 3: snprintf(buf, size, "%u-bit IEEE float", bits); break;
    case 6: snprintf(buf, size, "A-law"); break;
    case 7: snprintf(buf, size, "mu-law"); break;
    case 0x11: snprintf(buf, size, "IMA ADPCM"); break;
    case 0x55: snprintf(buf, size, "MPEG layer 3"); break;
    default: snprintf(buf, size, "format tag 0x%04x", tag); break;
    }
    return buf;
}

/* Checks the fmt chunk; sets *tag (1 PCM or 3 float), *channels, *rate and *block. */
static int check_format(const Chunks *c, const char *path, unsigned *tag, unsigned *channels, int *rate, unsigned *block,
                        char *err, size_t errlen) {
    const unsigned char *f = c->fmt;
    if (c->fmt_size < 16)
        return io_fail(err, errlen, "%s: 'fmt ' chunk is too short (%lu bytes; at least 16)", path, (unsigned long)c->fmt_size);
    *tag = le16(f);
    *channels = le16(f + 2);
    uint32_t hz = le32(f + 4);
    *block = le16(f + 12);
    unsigned bits = le16(f + 14);
    if (*tag == 0xFFFE) {
        static const unsigned char tail[14] = {0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71};
        if (c->fmt_size < 40 || le16(f + 16) < 22)
            return io_fail(err, errlen, "%s: WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is too short (%lu bytes; 40 needed)", path,
                           (unsigned long)c->fmt_size);
        if (memcmp(f + 26, tail, sizeof tail))
            return io_fail(err, errlen, "%s: unsupported WAVE_FORMAT_EXTENSIBLE subformat (not a PCM or IEEE float GUID)", path);
        *tag = le16(f + 24);
    }
    char name[64];
    if (!((*tag == 1 && bits == 16) || (*tag == 3 && bits == 32)))
        return io_fail(err, errlen, "%s: unsupported format: %s (supported: 16-bit PCM, 32-bit IEEE float)", path,
                       format_name(*tag, bits, name, sizeof name));
    if (*channels == 0) return io_fail(err, errlen, "%s: 'fmt ' chunk says 0 channels", path);
    if (hz == 0 || hz > INT_MAX) return io_fail(err, errlen, "%s: bad sample rate %lu", path, (unsigned long)hz);
    if (*block != *channels * bits / 8)
        return io_fail(err, errlen, "%s: block align %u does not match %u channels of %u bits", path, *block, *channels, bits);
    if (c->data_size % *block)
        return io_fail(err, errlen, "%s: 'data' chunk size %lu is not a multiple of the frame size %u", path,
                       (unsigned long)c->data_size, *block);
    *rate = (int)hz;
    return 0;
}

/* Reads and de-interleaves the frames into out ([channels, frames], already allocated). */
static int decode(FILE *f, const Chunks *c, unsigned tag, unsigned channels, unsigned block, NpyArray *out,
                  const char *path, char *err, size_t errlen) {
    int64_t frames = out->shape[1];
    float *dst = out->data;
    size_t per = (1u << 16) / block + 1; /* frames per read */
    unsigned char *buf = malloc(per * block);
    if (!buf) return io_fail(err, errlen, "%s: out of memory", path);
    int rc = fseek(f, c->data_pos, SEEK_SET) == 0 ? 0 : io_fail(err, errlen, "%s: cannot seek to the data", path);
    for (int64_t at = 0; rc == 0 && at < frames; at += (int64_t)per) {
        size_t n = frames - at < (int64_t)per ? (size_t)(frames - at) : per;
        if (fread(buf, block, n, f) != n) {
            rc = io_fail(err, errlen, "%s: read error in the data", path);
            break;
        }
        for (size_t k = 0; rc == 0 && k < n; k++)
            for (unsigned ch = 0; rc == 0 && ch < channels; ch++) {
                const unsigned char *p = buf + k * block + ch * (block / channels);
                float v;
                if (tag == 1) {
                    v = (float)(int16_t)le16(p) / 32768.0f;
                } else {
                    uint32_t w = le32(p);
                    memcpy(&v, &w, 4);
                    if (!isfinite(v))
                        rc = io_fail(err, errlen, "%s: sample %lld of channel %u is not finite", path, (long long)(at + (int64_t)k), ch);
                }
                dst[(int64_t)ch * frames + at + (int64_t)k] = v;
            }
    }
    free(buf);
    return rc;
}

/* Walks the chunks, checks the format, decodes; on error *out is left empty. */
int wav_read(const char *path, NpyArray *out, int *sample_rate, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return io_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    Chunks c = {0};
    unsigned tag = 0, channels = 0, block = 0;
    int rate = 0;
    int rc = walk_chunks(f, path, &c, err, errlen);
    if (rc == 0) rc = check_format(&c, path, &tag, &channels, &rate, &block, err, errlen);
    if (rc == 0) {
        int64_t shape[2] = {channels, c.data_size / block};
        rc = npy_alloc(out, 'f', 2, shape, err, errlen);
    }
    if (rc == 0) rc = decode(f, &c, tag, channels, block, out, path, err, errlen);
    fclose(f);
    if (rc != 0) npy_free(out);
    else if (sample_rate) *sample_rate = rate;
    return rc;
}

/* qsort's order of file names: bytes, as strcmp. */
static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The .wav names in dir, sorted, into *names (*count of them); -1 with a
 * message for an unreadable folder or a file that is not .wav. */
static int wav_names(const char *dir, char ***names, size_t *count, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) return io_fail(err, errlen, "%s: cannot open the folder: %s", dir, strerror(errno));
    size_t n = 0, cap = 0;
    char **v = NULL;
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.') continue;
        if (len < 5 || strcasecmp(e->d_name + len - 4, ".wav")) {
            rc = io_fail(err, errlen, "%s/%s: not a .wav file (a folder of WAV files holds .wav files only)", dir, e->d_name);
            break;
        }
        if (n == cap) {
            char **w = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof *v);
            if (!w) { rc = io_fail(err, errlen, "%s: out of memory", dir); break; }
            v = w;
        }
        if (!(v[n] = strdup(e->d_name))) rc = io_fail(err, errlen, "%s: out of memory", dir);
        else n++;
    }
    closedir(d);
    if (rc == 0 && n == 0) rc = io_fail(err, errlen, "%s: a folder of WAV files with no .wav file in it", dir);
    if (rc == 0) qsort(v, n, sizeof *v, by_name);
    if (rc != 0) {
        for (size_t i = 0; i < n; i++) free(v[i]);
        free(v), v = NULL, n = 0;
    }
    *names = v, *count = n;
    return rc;
}

int wav_read_dir(const char *dir, NpyArray *out, int *sample_rate, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    char **names = NULL;
    size_t count = 0;
    if (wav_names(dir, &names, &count, err, errlen) != 0) return -1;
    int rc = 0, rate0 = 0;
    char first[4096];
    for (size_t i = 0; rc == 0 && i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        NpyArray a;
        int rate;
        if ((rc = wav_read(path, &a, &rate, err, errlen)) != 0) break;
        if (i == 0) {
            int64_t shape[3] = {(int64_t)count, a.shape[0], a.shape[1]};
            rc = npy_alloc(out, 'f', 3, shape, err, errlen);
            rate0 = rate;
            snprintf(first, sizeof first, "%s", names[i]);
        } else if (a.shape[0] != out->shape[1] || a.shape[1] != out->shape[2] || rate != rate0) {
            rc = io_fail(err, errlen, "%s: %lld channels of %lld frames at %d Hz, but %s has %lld of %lld at %d Hz "
                         "(every file of the folder must match)", path, (long long)a.shape[0], (long long)a.shape[1],
                         rate, first, (long long)out->shape[1], (long long)out->shape[2], rate0);
        }
        if (rc == 0) memcpy((char *)out->data + i * a.nbytes, a.data, a.nbytes);
        npy_free(&a);
    }
    for (size_t i = 0; i < count; i++) free(names[i]);
    free(names);
    if (rc != 0) npy_free(out);
    else if (sample_rate) *sample_rate = rate0;
    return rc;
}

/* Little-endian 16 and 32-bit integers for the header. */
static void put_le(unsigned char *p, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

unsigned char *wav_encode(const float *x, int64_t n, int rate, size_t *size) {
    if (n < 0 || n > (INT64_C(1) << 30) || rate <= 0) return NULL;
    size_t data = (size_t)n * 2, total = 44 + data;
    unsigned char *w = malloc(total);
    if (!w) return NULL;
    memcpy(w, "RIFF", 4), put_le(w + 4, (uint32_t)(total - 8), 4), memcpy(w + 8, "WAVEfmt ", 8);
    put_le(w + 16, 16, 4), put_le(w + 20, 1, 2), put_le(w + 22, 1, 2);          /* PCM, mono */
    put_le(w + 24, (uint32_t)rate, 4), put_le(w + 28, (uint32_t)rate * 2, 4);   /* rate, byte rate */
    put_le(w + 32, 2, 2), put_le(w + 34, 16, 2), memcpy(w + 36, "data", 4);     /* block, bits */
    put_le(w + 40, (uint32_t)data, 4);
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] != x[i] ? 0.0f : x[i] > 1 ? 1.0f : x[i] < -1 ? -1.0f : x[i];
        put_le(w + 44 + 2 * i, (uint32_t)(uint16_t)(int16_t)lrintf(v * 32767.0f), 2);
    }
    *size = total;
    return w;
}
