/* driver.c — replays inputs through a harness without libFuzzer.
 *
 *   fuzz_npy_replay tests/fuzz/corpus/npy tests/fuzz/crashes/npy x.npy
 *
 * Every argument is a file or a directory (its files, not recursively;
 * names starting with '.' are skipped). Each file's bytes go to
 * LLVMFuzzerTestOneInput once; a crash is the sanitizers' to report.
 * Exits 0 after printing how many inputs ran, 1 if an argument or file
 * could not be read. Built with the project's compiler, so `make test`
 * replays the corpus under ASan + UBSan even where clang is missing.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads path whole and runs it; 0, or -1 after a message. */
static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            uint8_t *grown = realloc(buf, cap *= 2);
            if (!grown) free(buf);
            buf = grown;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return -1;
    }
    /* a copy of exactly n bytes, so reading past the input is caught */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

/* Runs path, or each file in it if it is a directory; adds to *count.
 * 0, or -1 if something could not be read. */
static int run_arg(const char *path, int *count) {
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        perror(path);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char file[4096];
            snprintf(file, sizeof file, "%s/%s", path, names[i]->d_name);
            if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
                (*count)++;
                if (run_file(file)) rc = -1;
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    int count = 0, rc = 0;
    for (int i = 1; i < argc; i++)
        if (run_arg(argv[i], &count)) rc = 1;
    printf("%s: %d inputs\n", argc > 0 ? argv[0] : "replay", count);
    return rc;
}
