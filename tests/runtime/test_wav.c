/* test_wav.c — WAV files made here and read back: 16-bit PCM and 32-bit
 * float, mono and multi-channel (de-interleaved), WAVE_FORMAT_EXTENSIBLE,
 * unknown chunks in any order, no frames; and one malformed file per way a
 * file can be wrong, each with its exact message.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "wav.h"

/* A file being built. */
typedef struct {
    unsigned char b[4096];
    size_t n;
} Bytes;

/* Appends n bytes. */
static void add(Bytes *w, const void *p, size_t n) {
    CU_ASSERT_FATAL(w->n + n <= sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

/* Appends a little-endian uint16. */
static void add16(Bytes *w, unsigned v) { add(w, (unsigned char[]){(unsigned char)v, (unsigned char)(v >> 8)}, 2); }
/* Appends a little-endian uint32. */
static void add32(Bytes *w, uint32_t v) {
    add16(w, v & 0xFFFF);
    add16(w, v >> 16);
}

/* "RIFF" (size patched by finish) "WAVE". */
static Bytes begin(void) {
    Bytes w = {{0}, 0};
    add(&w, "RIFF\0\0\0\0WAVE", 12);
    return w;
}

/* A chunk: id, size, contents, and a pad byte if the size is odd. */
static void chunk(Bytes *w, const char *id, const void *p, uint32_t n) {
    add(w, id, 4);
    add32(w, n);
    add(w, p, n);
    if (n & 1) add(w, "", 1);
}

/* A 16-byte fmt chunk. */
static void fmt(Bytes *w, unsigned tag, unsigned channels, uint32_t rate, unsigned bits) {
    Bytes f = {{0}, 0};
    add16(&f, tag);
    add16(&f, channels);
    add32(&f, rate);
    add32(&f, rate * channels * bits / 8);
    add16(&f, channels * bits / 8);
    add16(&f, bits);
    chunk(w, "fmt ", f.b, (uint32_t)f.n);
}

/* A 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk with subformat code sub (guid_ok = 0 spoils the GUID). */
static void fmt_ext(Bytes *w, unsigned sub, unsigned channels, uint32_t rate, unsigned bits, int guid_ok) {
    Bytes f = {{0}, 0};
    add16(&f, 0xFFFE);
    add16(&f, channels);
    add32(&f, rate);
    add32(&f, rate * channels * bits / 8);
    add16(&f, channels * bits / 8);
    add16(&f, bits);
    add16(&f, 22);       /* cbSize */
    add16(&f, bits);     /* valid bits */
    add32(&f, channels == 2 ? 3 : 4); /* channel mask */
    add16(&f, sub);
    add(&f, guid_ok ? "\0\0\0\0\x10\0\x80\0\0\xaa\0\x38\x9b\x71" : "\0\0\0\0\x10\0\x80\0\0\xaa\0\x38\x9b\x72", 14);
    chunk(w, "fmt ", f.b, (uint32_t)f.n);
}

/* Patches the RIFF size and writes tmpdir/name. */
static void finish(Bytes *w, const char *name) {
    uint32_t size = (uint32_t)w->n - 8;
    for (int i = 0; i < 4; i++) w->b[4 + i] = (unsigned char)(size >> (8 * i));
    harness_put_bytes(harness_tmp(name), w->b, w->n);
}

/* Little-endian 16-bit samples. */
static Bytes pcm16(const int16_t *s, int n) {
    Bytes d = {{0}, 0};
    for (int i = 0; i < n; i++) add16(&d, (uint16_t)s[i]);
    return d;
}

/* Reads tmpdir/name, asserting success, [channels, frames] and the rate. */
static NpyArray read_ok(const char *name, int64_t channels, int64_t frames, int rate) {
    NpyArray a;
    char err[512];
    int r = -1;
    if (wav_read(harness_tmp(name), &a, &r, err, sizeof err) != 0) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a.data);
    CU_ASSERT(a.dtype == 'f' && a.rank == 2);
    CU_ASSERT_EQUAL(a.shape[0], channels);
    CU_ASSERT_EQUAL(a.shape[1], frames);
    CU_ASSERT_EQUAL(r, rate);
    return a;
}

/* Asserts that reading tmpdir/name fails with "PATH: message". */
static void expect_error(const char *name, const char *message) {
    char want[512], err[512] = "";
    snprintf(want, sizeof want, "%s: %s", harness_tmp(name), message);
    NpyArray a;
    int rate = -7;
    CU_ASSERT_EQUAL(wav_read(harness_tmp(name), &a, &rate, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(a.data);
    CU_ASSERT_EQUAL(rate, -7);
    ASSERT_STR(err, want);
}

/* ---- good files ------------------------------------------------------------------ */

/* 16-bit PCM: scaled by 1/32768; stereo frames de-interleaved. */
static void test_pcm16(void) {
    int16_t s[6] = {0, 1, -1, 32767, -32768, 16384};
    Bytes w = begin(), d = pcm16(s, 6);
    fmt(&w, 1, 1, 8000, 16);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    finish(&w, "mono.wav");
    NpyArray a = read_ok("mono.wav", 1, 6, 8000);
    float *x = a.data;
    for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(x[i], s[i] / 32768.0f);
    CU_ASSERT(x[3] < 1 && x[4] == -1);
    npy_free(&a);

    /* Stereo: frames L0 R0 L1 R1 ... become rows [L..., R...]. */
    int16_t st[8] = {100, -100, 200, -200, 300, -300, 400, -400};
    w = begin(), d = pcm16(st, 8);
    fmt(&w, 1, 2, 44100, 16);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    finish(&w, "stereo.wav");
    a = read_ok("stereo.wav", 2, 4, 44100);
    x = a.data;
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(x[i], (float)(100 * (i + 1)) / 32768.0f);
        CU_ASSERT_EQUAL(x[4 + i], (float)(-100 * (i + 1)) / 32768.0f);
    }
    npy_free(&a);
}

/* 32-bit float samples come back exactly, one row per channel. */
static void test_float32(void) {
    float s[6] = {0.5f, -1.0f, 1.0f, 0.25f, -0.125f, 1e-7f}; /* 3 channels, 2 frames */
    Bytes w = begin();
    fmt(&w, 3, 3, 16000, 32);
    chunk(&w, "data", s, sizeof s);
    finish(&w, "float.wav");
    NpyArray a = read_ok("float.wav", 3, 2, 16000);
    float *x = a.data, want[6] = {0.5f, 0.25f, -1.0f, -0.125f, 1.0f, 1e-7f};
    CU_ASSERT(memcmp(x, want, sizeof want) == 0);
    npy_free(&a);
}

/* WAVE_FORMAT_EXTENSIBLE with PCM and float subformats. */
static void test_extensible(void) {
    int16_t s[4] = {1, 2, 3, 4};
    Bytes w = begin(), d = pcm16(s, 4);
    fmt_ext(&w, 1, 2, 22050, 16, 1);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    finish(&w, "ext16.wav");
    NpyArray a = read_ok("ext16.wav", 2, 2, 22050);
    CU_ASSERT(((float *)a.data)[1] == 3 / 32768.0f && ((float *)a.data)[2] == 2 / 32768.0f);
    npy_free(&a);

    float f[2] = {-0.5f, 0.75f};
    w = begin();
    fmt_ext(&w, 3, 1, 48000, 32, 1);
    chunk(&w, "data", f, sizeof f);
    finish(&w, "ext32.wav");
    a = read_ok("ext32.wav", 1, 2, 48000);
    CU_ASSERT(((float *)a.data)[1] == 0.75f);
    npy_free(&a);
}

/* Unknown chunks (odd-sized, padded) anywhere, data before fmt, bytes after the RIFF chunk. */
static void test_chunks(void) {
    int16_t s[3] = {-5, 6, -7};
    Bytes w = begin(), d = pcm16(s, 3);
    chunk(&w, "LIST", "INFOx", 5); /* odd: followed by a pad byte */
    chunk(&w, "data", d.b, (uint32_t)d.n);
    chunk(&w, "junk", "", 0);
    fmt(&w, 1, 1, 8000, 16);
    chunk(&w, "fact", "\3\0\0\0", 4);
    finish(&w, "chunks.wav");
    FILE *f = fopen(harness_tmp("chunks.wav"), "ab");
    fputs("ID3 tag after the RIFF chunk", f);
    fclose(f);
    NpyArray a = read_ok("chunks.wav", 1, 3, 8000);
    CU_ASSERT(((float *)a.data)[2] == -7 / 32768.0f);
    npy_free(&a);

    /* An odd last chunk whose pad byte is missing. */
    w = begin(), d = pcm16(s, 3);
    fmt(&w, 1, 1, 8000, 16);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    chunk(&w, "note", "abc", 3);
    w.n--;
    finish(&w, "nopad.wav");
    a = read_ok("nopad.wav", 1, 3, 8000);
    npy_free(&a);

    /* No frames. */
    w = begin();
    fmt(&w, 1, 2, 8000, 16);
    chunk(&w, "data", "", 0);
    finish(&w, "silent.wav");
    a = read_ok("silent.wav", 2, 0, 8000);
    CU_ASSERT_EQUAL(a.nbytes, 0);
    npy_free(&a);
    /* The rate pointer may be NULL. */
    char err[256];
    CU_ASSERT_EQUAL(wav_read(harness_tmp("silent.wav"), &a, NULL, err, sizeof err), 0);
    npy_free(&a);
}

/* ---- malformed files ------------------------------------------------------------ */

/* The RIFF header, the file size, chunks cut short, stray bytes. */
static void test_bad_container(void) {
    expect_error("missing.wav", "cannot open: No such file or directory");
    harness_put_bytes(harness_tmp("empty.wav"), "", 0);
    expect_error("empty.wav", "not a WAV file (it does not start with \"RIFF\")");
    harness_put_bytes(harness_tmp("id3.wav"), "ID3\x03\0\0\0\0\0\0\0\0", 12);
    expect_error("id3.wav", "not a WAV file (it does not start with \"RIFF\")");
    harness_put_bytes(harness_tmp("rifx.wav"), "RIFX\4\0\0\0WAVE", 12);
    expect_error("rifx.wav", "big-endian RIFX files are not supported");
    harness_put_bytes(harness_tmp("rf64.wav"), "RF64\xff\xff\xff\xffWAVE", 12);
    expect_error("rf64.wav", "RF64 files are not supported");
    harness_put_bytes(harness_tmp("short.wav"), "RIFF\4\0\0\0WA", 10);
    expect_error("short.wav", "file is too short (10 bytes) to be a WAV file");
    harness_put_bytes(harness_tmp("avi.wav"), "RIFF\4\0\0\0AVI ", 12);
    expect_error("avi.wav", "not a WAV file (a RIFF file of form 'AVI ')");
    CU_ASSERT_EQUAL_FATAL(mkdir(harness_tmp("dir.wav"), 0700), 0);
    expect_error("dir.wav", "not a regular file");

    int16_t s[4] = {1, 2, 3, 4};
    Bytes w = begin(), d = pcm16(s, 4);
    fmt(&w, 1, 1, 8000, 16);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    finish(&w, "cut.wav");
    w.n -= 3; /* cut after finish: the RIFF size now overstates the file */
    harness_put_bytes(harness_tmp("cut.wav"), w.b, w.n);
    expect_error("cut.wav", "file truncated: the RIFF header says 52 bytes, the file has 49");

    w = begin();
    fmt(&w, 1, 1, 8000, 16);
    add(&w, "data\x00\x01\0\0", 8); /* says 256 bytes */
    add(&w, d.b, d.n);
    finish(&w, "datacut.wav");
    expect_error("datacut.wav", "chunk 'data' at byte 36 is truncated: it says 256 bytes, 8 remain");

    w = begin();
    fmt(&w, 1, 1, 8000, 16);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    add(&w, "\0\0\0", 3);
    finish(&w, "stray.wav");
    expect_error("stray.wav", "3 stray bytes after the last chunk");
}

/* fmt or data missing or repeated; a fmt chunk too short. */
static void test_bad_chunks(void) {
    int16_t s[4] = {1, 2, 3, 4};
    Bytes w = begin(), d = pcm16(s, 4);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    finish(&w, "nofmt.wav");
    expect_error("nofmt.wav", "no 'fmt ' chunk");

    w = begin();
    fmt(&w, 1, 1, 8000, 16);
    chunk(&w, "LIST", "abcd", 4);
    finish(&w, "nodata.wav");
    expect_error("nodata.wav", "no 'data' chunk");

    w = begin();
    fmt(&w, 1, 1, 8000, 16);
    fmt(&w, 1, 1, 8000, 16);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    finish(&w, "twofmt.wav");
    expect_error("twofmt.wav", "two 'fmt ' chunks");

    w = begin();
    fmt(&w, 1, 1, 8000, 16);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    finish(&w, "twodata.wav");
    expect_error("twodata.wav", "two 'data' chunks");

    w = begin();
    chunk(&w, "fmt ", "\1\0\1\0\x40\x1f\0\0\x80\x3e\0\0\2\0", 14);
    chunk(&w, "data", d.b, (uint32_t)d.n);
    finish(&w, "fmtshort.wav");
    expect_error("fmtshort.wav", "'fmt ' chunk is too short (14 bytes; at least 16)");
}

/* Formats other than 16-bit PCM and 32-bit float, and fmt fields that disagree. */
static void test_bad_format(void) {
    static const struct { unsigned tag, bits; const char *name; } bad[] = {
        {1, 24, "24-bit PCM"}, {1, 8, "8-bit PCM"}, {1, 32, "32-bit PCM"}, {3, 64, "64-bit IEEE float"},
        {2, 4, "Microsoft ADPCM"}, {6, 8, "A-law"}, {7, 8, "mu-law"}, {0x55, 16, "MPEG layer 3"}, {0x1234, 16, "format tag 0x1234"},
    };
    char file[32], msg[160];
    unsigned char d[48] = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Bytes w = begin();
        fmt(&w, bad[i].tag, 1, 8000, bad[i].bits);
        chunk(&w, "data", d, 48);
        snprintf(file, sizeof file, "fmt%zu.wav", i);
        finish(&w, file);
        snprintf(msg, sizeof msg, "unsupported format: %s (supported: 16-bit PCM, 32-bit IEEE float)", bad[i].name);
        expect_error(file, msg);
    }
    Bytes w = begin();
    fmt_ext(&w, 1, 2, 8000, 24, 1);
    chunk(&w, "data", d, 48);
    finish(&w, "ext24.wav");
    expect_error("ext24.wav", "unsupported format: 24-bit PCM (supported: 16-bit PCM, 32-bit IEEE float)");
    w = begin();
    fmt_ext(&w, 1, 2, 8000, 16, 0);
    chunk(&w, "data", d, 48);
    finish(&w, "extguid.wav");
    expect_error("extguid.wav", "unsupported WAVE_FORMAT_EXTENSIBLE subformat (not a PCM or IEEE float GUID)");
    w = begin();
    fmt(&w, 0xFFFE, 1, 8000, 16);
    chunk(&w, "data", d, 48);
    finish(&w, "extshort.wav");
    expect_error("extshort.wav", "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is too short (16 bytes; 40 needed)");

    w = begin();
    fmt(&w, 1, 0, 8000, 16);
    chunk(&w, "data", d, 48);
    finish(&w, "mute.wav");
    expect_error("mute.wav", "'fmt ' chunk says 0 channels");
    w = begin();
    fmt(&w, 1, 1, 0, 16);
    chunk(&w, "data", d, 48);
    finish(&w, "rate0.wav");
    expect_error("rate0.wav", "bad sample rate 0");
    w = begin();
    fmt(&w, 1, 2, 8000, 16);
    w.b[12 + 8 + 12] = 2; /* block align 2 for 2 channels of 16 bits */
    chunk(&w, "data", d, 48);
    finish(&w, "align.wav");
    expect_error("align.wav", "block align 2 does not match 2 channels of 16 bits");
    w = begin();
    fmt(&w, 1, 2, 8000, 16);
    chunk(&w, "data", d, 7);
    finish(&w, "odd.wav");
    expect_error("odd.wav", "'data' chunk size 7 is not a multiple of the frame size 4");

    float f[4] = {0, 0.5f, NAN, 1};
    w = begin();
    fmt(&w, 3, 2, 8000, 32);
    chunk(&w, "data", f, sizeof f);
    finish(&w, "nan.wav");
    expect_error("nan.wav", "sample 1 of channel 0 is not finite");
}

/* Runs the suite in a fresh temporary directory, removed afterwards. */
/* wav_encode: 16-bit mono at the given rate, clipped, NaN as 0; wav_read reads it back. */
static void test_encode(void) {
    float x[6] = {0.0f, 0.5f, -0.5f, 1.5f, -2.0f, NAN};
    size_t size = 0;
    unsigned char *w = wav_encode(x, 6, 8000, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(size, 44 + 12);
    harness_put_bytes(harness_tmp("encoded.wav"), w, size);
    free(w);
    NpyArray a;
    int rate = 0;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(wav_read(harness_tmp("encoded.wav"), &a, &rate, err, sizeof err), 0);
    CU_ASSERT_EQUAL(rate, 8000);
    CU_ASSERT(a.rank == 2 && a.shape[0] == 1 && a.shape[1] == 6);
    const float *y = a.data;
    const float want[6] = {0, 16384 / 32768.0f, -16384 / 32768.0f, 32767 / 32768.0f, -32767 / 32768.0f, 0};
    for (int i = 0; i < 6; i++) CU_ASSERT_DOUBLE_EQUAL(y[i], want[i], 1e-7);
    npy_free(&a);
    CU_ASSERT_PTR_NULL(wav_encode(x, 6, 0, &size)); /* no rate */
}

int main(void) {
    static CU_TestInfo tests[] = {
        {"16-bit PCM, mono and stereo", test_pcm16},
        {"encoding a waveform as 16-bit PCM", test_encode},
        {"32-bit float, three channels", test_float32},
        {"WAVE_FORMAT_EXTENSIBLE", test_extensible},
        {"unknown chunks, any order, pad bytes, no frames", test_chunks},
        {"malformed: the RIFF container", test_bad_container},
        {"malformed: chunks missing or repeated", test_bad_chunks},
        {"malformed: unsupported and inconsistent formats", test_bad_format},
        CU_TEST_INFO_NULL,
    };
    return harness_run_in_tmpdir("wav", tests);
}
