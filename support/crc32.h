/* crc32.h — CRC-32 as zlib, PNG and Python's zlib.crc32 compute it
 * (polynomial 0xEDB88320 reflected, initial value and final XOR 0xFFFFFFFF).
 *
 *   uint32_t c = crc32_update(0, a, na);
 *   c = crc32_update(c, b, nb);      // the CRC of a then b
 *
 * crc32_update(0, "123456789", 9) is 0xcbf43926.
 */
#ifndef MMGC_CRC32_H
#define MMGC_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of the bytes whose CRC so far is crc (0 to start), followed by p[0..n). */
uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

#endif
