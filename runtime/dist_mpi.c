/* dist_mpi.c — dist.h over MPI, for the mmgc command.
 *
 * Sums do not use MPI's own reductions (MPI_Allreduce may pick its
 * algorithm, and so its order of additions, by message size and process
 * placement): each float sum is a reduce-scatter by MPI_Alltoall (rank k
 * gets chunk k of every rank's vector and adds them in rank order) and an
 * MPI_Allgather of the summed chunks. That moves the bytes a ring
 * all-reduce moves, 2 (N-1)/N of the vector per rank, and the result
 * depends only on N. Small sums (metrics) gather everything and add in
 * rank order on every rank.
 *
 * Errors are MPI's default, fatal: a rank that dies makes mpirun end the
 * whole job rather than leave the others waiting in a collective.
 */
#include "dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int dist_under_mpirun(void) { return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK"); }

int dist_launch_rank(void) {
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    if (!r) r = getenv("PMIX_RANK");
    return r ? atoi(r) : 0;
}

#ifdef MMGC_HAVE_MPI
#include <mpi.h>

static DistOps mpi_ops;
static void *scratch;      /* the collectives' buffers, grown as needed */
static size_t scratch_size;

static void *room(size_t size) {
    if (size > scratch_size) {
        free(scratch);
        scratch = xmalloc(size);
        scratch_size = size;
    }
    return scratch;
}

static void sum_f32(float *buf, size_t n) {
    int p = mpi_ops.size, me = mpi_ops.rank;
    size_t chunk = (n + (size_t)p - 1) / (size_t)p;
    float *send = room(3 * (size_t)p * chunk * sizeof *send), *recv = send + (size_t)p * chunk,
          *all = recv + (size_t)p * chunk;
    memcpy(send, buf, n * sizeof *buf);
    memset(send + n, 0, ((size_t)p * chunk - n) * sizeof *send);
    MPI_Alltoall(send, (int)chunk, MPI_FLOAT, recv, (int)chunk, MPI_FLOAT, MPI_COMM_WORLD);
    float *mine = send + (size_t)me * chunk; /* reused: this rank's chunk, summed */
    for (size_t k = 0; k < chunk; k++) {
        float v = recv[k];
        for (int r = 1; r < p; r++) v += recv[(size_t)r * chunk + k];
        mine[k] = v;
    }
    MPI_Allgather(mine, (int)chunk, MPI_FLOAT, all, (int)chunk, MPI_FLOAT, MPI_COMM_WORLD);
    memcpy(buf, all, n * sizeof *buf);
}

static void sum_f64(double *buf, size_t n) {
    int p = mpi_ops.size;
    double *all = room((size_t)p * n * sizeof *all);
    MPI_Allgather(buf, (int)n, MPI_DOUBLE, all, (int)n, MPI_DOUBLE, MPI_COMM_WORLD);
    for (size_t k = 0; k < n; k++) {
        double v = all[k];
        for (int r = 1; r < p; r++) v += all[(size_t)r * n + k];
        buf[k] = v;
    }
}

static void sum_i64(int64_t *buf, size_t n) {
    int p = mpi_ops.size;
    int64_t *all = room((size_t)p * n * sizeof *all);
    MPI_Allgather(buf, (int)n, MPI_INT64_T, all, (int)n, MPI_INT64_T, MPI_COMM_WORLD);
    for (size_t k = 0; k < n; k++) {
        int64_t v = 0;
        for (int r = 0; r < p; r++) v += all[(size_t)r * n + k];
        buf[k] = v;
    }
}

static void barrier(void) { MPI_Barrier(MPI_COMM_WORLD); }

static void finish(void) {
    MPI_Finalize();
    free(scratch);
    scratch = NULL;
    scratch_size = 0;
}

static void abort_all(int status) { MPI_Abort(MPI_COMM_WORLD, status); }

int dist_mpi_start(int *argc, char ***argv, char *err, size_t errlen) {
    (void)err, (void)errlen;
    if (!dist_under_mpirun()) return 0;
    MPI_Init(argc, argv);
    mpi_ops = (DistOps){0, 1, sum_f32, sum_f64, sum_i64, barrier, finish, abort_all};
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_ops.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_ops.size);
    dist_install(&mpi_ops);
    return 0;
}

#else

int dist_mpi_start(int *argc, char ***argv, char *err, size_t errlen) {
    (void)argc, (void)argv;
    if (!dist_under_mpirun() || !getenv("OMPI_COMM_WORLD_SIZE") || atoi(getenv("OMPI_COMM_WORLD_SIZE")) < 2) return 0;
    snprintf(err, errlen, "this mmgc was built without MPI (libopenmpi-dev was not found), so it cannot run as one of %s processes",
             getenv("OMPI_COMM_WORLD_SIZE"));
    return -1;
}

#endif
