/* mem_usage.c — see mem_usage.h. */
#include "mem_usage.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

double mem_rss_mib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    int ok = f && fscanf(f, "%ld %ld", &pages, &rss) == 2;
    if (f) fclose(f);
    return ok ? (double)rss * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0) : 0;
}

double mem_peak_rss_mib(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? 0 : (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB */
}
