/* dist.h — the processes a run is spread over (data-parallel training and
 * parallel studies), behind one small interface.
 *
 * A plain mmgc is one process: rank 0 of 1, every sum a no-op, nothing
 * initialized. Under mpirun, the mmgc command installs the MPI
 * implementation (dist_mpi.c, dist_mpi_start) before anything else runs;
 * the runtime calls only these functions, so it builds and links without
 * MPI (programs compiled ahead of time never see it).
 *
 * Every sum is in a fixed order (rank 0's part, then rank 1's, ...) on
 * every rank: for a given number of processes the result is the same bits
 * from run to run, and the same on every rank, so every rank takes the
 * same decisions (early stopping, divergence) from it.
 */
#ifndef MMGC_DIST_H
#define MMGC_DIST_H

#include <stddef.h>
#include <stdint.h>

/* What an implementation provides; see the functions below. */
typedef struct {
    int rank, size;
    void (*sum_f32)(float *buf, size_t n);
    void (*sum_f64)(double *buf, size_t n);
    void (*sum_i64)(int64_t *buf, size_t n);
    void (*barrier)(void);
    void (*finish)(void);
    void (*abort)(int status);
} DistOps;

/* Installs an implementation (dist_mpi_start does); NULL: one process again. */
void dist_install(const DistOps *ops);

int dist_rank(void);
int dist_size(void);
/* Is the run spread over more than one process? */
static inline int dist_parallel(void) { return dist_size() > 1; }

/* In place, on every rank: the element-wise sum over ranks, in rank order. */
void dist_sum_f32(float *buf, size_t n);
void dist_sum_f64(double *buf, size_t n);
void dist_sum_i64(int64_t *buf, size_t n);
/* Waits for every rank (--time uses it to tell waiting from summing). */
void dist_barrier(void);
/* Ends the processes' session (MPI_Finalize); a no-op in one process. */
void dist_finish(void);
/* Ends every process of the job with status (MPI_Abort): after an error on
 * one rank, the others may be waiting for it in a sum and would never end
 * otherwise. A no-op in one process. */
void dist_abort(int status);

/* Before a process reports an error that every rank may have met alike
 * (they all read the same command line, program and data): on rank 0
 * returns at once; on another rank waits DIST_ERROR_GRACE seconds, in which
 * rank 0's report and its abort of the job usually end this process too,
 * so a job prints one copy of the error, not one per rank. A rank still
 * running afterwards met the error alone (a file its machine cannot read)
 * and reports it, naming its rank. */
#define DIST_ERROR_GRACE 3
void dist_defer_error(void);

/* dist_mpi.c (the mmgc command only): under mpirun (OMPI_COMM_WORLD_SIZE
 * or PMIX_RANK in the environment) initializes MPI and installs it; else
 * does nothing, so a plain mmgc never starts MPI. 0, or -1 with a
 * message when MPI cannot start or this mmgc was built without it. */
int dist_mpi_start(int *argc, char ***argv, char *err, size_t errlen);
/* Is this process one of an mpirun job (by the environment)? */
int dist_under_mpirun(void);
/* This process's rank by the environment mpirun sets, 0 outside a job:
 * what the command line's errors need before MPI starts. */
int dist_launch_rank(void);

#endif
