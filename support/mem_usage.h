/* mem_usage.h — how much memory this process holds: what a training run
 * reports (--time, metrics.json, the report) and the step benchmark prints.
 * Linux: the resident set from /proc/self/statm, its peak from getrusage. */
#ifndef MMGC_MEM_USAGE_H
#define MMGC_MEM_USAGE_H

/* The resident set now, in MiB; 0 where it cannot be read. */
double mem_rss_mib(void);
/* The largest resident set this process has had, in MiB. */
double mem_peak_rss_mib(void);

#endif
