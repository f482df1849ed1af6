/* aot_cpu.c — does this CPU have what a program's code was compiled for?
 * Checked first thing, so a program built for a newer CPU stops with a
 * message instead of an illegal instruction. */
#include <stdio.h>
#include <string.h>

#include "aot_cpu.h"

/* One feature by name (the names llvm_aot_required writes). */
static int has(const char *f) {
    __builtin_cpu_init();
#define F(name) \
    if (!strcmp(f, name)) return __builtin_cpu_supports(name);
    F("sse3") F("ssse3") F("sse4.1") F("sse4.2") F("popcnt") F("avx") F("avx2") F("bmi") F("bmi2") F("fma")
    F("f16c") F("avx512f") F("avx512bw") F("avx512cd") F("avx512dq") F("avx512vl")
#undef F
    return 0; /* a name this check does not know: assume absent */
}

int aot_cpu_missing(const char *features, char *missing, size_t n) {
    char word[32];
    size_t at = 0;
    missing[0] = 0;
    for (const char *p = features; p && *p;) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, " ");
        if (!len) break;
        snprintf(word, sizeof word, "%.*s", (int)len, p);
        if (!has(word)) at += (size_t)snprintf(missing + at, at < n ? n - at : 0, "%s%s", at ? " " : "", word);
        p += len;
    }
    return missing[0] != 0;
}
