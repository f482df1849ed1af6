/* sha256.h — SHA-256 (FIPS 180-4): the data set's manifest, and its hash in a run's report. */
#ifndef MMGC_SHA256_H
#define MMGC_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t fill;
} Sha256;

void sha256_init(Sha256 *c);
void sha256_update(Sha256 *c, const void *data, size_t n);
void sha256_final(Sha256 *c, unsigned char digest[32]);

/* The digest of data[n] as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t n, char hex[65]);
/* The digest of a file; -1 with "path: reason" in err if it cannot be read. */
int sha256_file(const char *path, char hex[65], char *err, size_t errlen);

#endif
