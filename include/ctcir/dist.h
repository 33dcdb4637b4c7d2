/* Many processes, one job (MPI, docs/distributed.md). A binary built with MPI runs under
 * `mpirun -np N` as N ranks; started without mpirun it is one rank and never touches MPI.
 * Built without MPI every call below is the one-rank identity.
 *
 *     ct_dist_init(&argc, &argv);         // first thing in main()
 *     if (ct_dist_rank() == 0) ...        // only rank 0 writes files
 *     ct_dist_finalize();
 */
#ifndef CTCIR_DIST_H
#define CTCIR_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Initialises MPI when the process was started by an MPI launcher (and MPI is built in). */
ct_status ct_dist_init(int *argc, char ***argv);
void ct_dist_finalize(void);
int ct_dist_rank(void);
int ct_dist_size(void);
bool ct_dist_built_with_mpi(void);
/* Ends every rank of the job (MPI_Abort) with `code`; a plain exit(code) with one rank. */
void ct_dist_abort(int code);

/* Collectives over all ranks (every rank must call them in the same order). */
ct_status ct_dist_barrier(void);
ct_status ct_dist_sum_f32(float *buf, size_t n);   /* in place */
ct_status ct_dist_sum_f64(double *buf, size_t n);  /* in place */
ct_status ct_dist_sum_i64(int64_t *buf, size_t n); /* in place */
ct_status ct_dist_max_i64(int64_t *buf, size_t n); /* in place */
/* Each rank sends `n` floats; recv [size * n] holds them in rank order. */
ct_status ct_dist_allgather_f32(const float *send, size_t n, float *recv);
/* Rank r sends counts[r] floats; recv holds them in rank order (counts known everywhere).
 * `send` may already be this rank's place inside recv. */
ct_status ct_dist_allgatherv_f32(const float *send, const size_t *counts, float *recv);
ct_status ct_dist_bcast(void *buf, size_t bytes, int root);

/* Non-blocking sum in place (for gradient buckets that overlap with backward). */
typedef struct ct_dist_request ct_dist_request;
ct_status ct_dist_isum_f32(float *buf, size_t n, ct_dist_request **req);
ct_status ct_dist_wait(ct_dist_request *req); /* frees req; NULL-safe */

/* Bytes this rank has sent through the collectives above since start (for reports). */
uint64_t ct_dist_bytes_sent(void);

#ifdef __cplusplus
}
#endif
#endif
