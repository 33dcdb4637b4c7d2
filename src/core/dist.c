/* Multi-process collectives over MPI (ctcir/dist.h); the one-rank identity without it. */
#include <stdlib.h>
#include <string.h>

#include "ctcir/dist.h"

#ifdef CTCIR_MPI
#include <mpi.h>
#endif

static int dist_rank = 0, dist_size = 1;
static bool dist_on = false;
static uint64_t dist_sent = 0;

bool ct_dist_built_with_mpi(void) {
#ifdef CTCIR_MPI
    return true;
#else
    return false;
#endif
}

int ct_dist_rank(void) { return dist_rank; }
int ct_dist_size(void) { return dist_size; }
uint64_t ct_dist_bytes_sent(void) { return dist_sent; }

#ifdef CTCIR_MPI
/* Started by an MPI launcher? (Open MPI, MPICH/Hydra, PMIx, Slurm's srun with PMI.) */
static bool launched_by_mpi(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return true;
    return false;
}

static ct_status mpi_check(int rc, const char *what) {
    if (rc == MPI_SUCCESS) return CT_OK;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return ct_fail(CT_ERR_IO, "mpi: %s failed on rank %d: %s", what, dist_rank, msg);
}
#endif

ct_status ct_dist_init(int *argc, char ***argv) {
#ifdef CTCIR_MPI
    if (dist_on || !launched_by_mpi()) return CT_OK;
    int provided = 0;
    int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return ct_fail(CT_ERR_IO, "mpi: MPI_Init_thread failed");
    MPI_Comm_rank(MPI_COMM_WORLD, &dist_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &dist_size);
    dist_on = true;
#else
    (void)argc, (void)argv;
#endif
    return CT_OK;
}

void ct_dist_finalize(void) {
#ifdef CTCIR_MPI
    if (dist_on) MPI_Finalize();
    dist_on = false;
#endif
}

void ct_dist_abort(int code) {
#ifdef CTCIR_MPI
    if (dist_on && dist_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    exit(code);
}

ct_status ct_dist_barrier(void) {
#ifdef CTCIR_MPI
    if (dist_on && dist_size > 1) return mpi_check(MPI_Barrier(MPI_COMM_WORLD), "barrier");
#endif
    return CT_OK;
}

#ifdef CTCIR_MPI
static ct_status allreduce(void *buf, size_t n, MPI_Datatype t, size_t elem, MPI_Op op, const char *what) {
    /* MPI counts are int: large buffers go in pieces. */
    const size_t chunk = (size_t)1 << 28;
    for (size_t i = 0; i < n; i += chunk) {
        size_t m = n - i < chunk ? n - i : chunk;
        ct_status s =
            mpi_check(MPI_Allreduce(MPI_IN_PLACE, (char *)buf + i * elem, (int)m, t, op, MPI_COMM_WORLD), what);
        if (s) return s;
        dist_sent += m * elem;
    }
    return CT_OK;
}
#define DIST_ACTIVE (dist_on && dist_size > 1)
#endif

ct_status ct_dist_sum_f32(float *buf, size_t n) {
#ifdef CTCIR_MPI
    if (DIST_ACTIVE) return allreduce(buf, n, MPI_FLOAT, sizeof *buf, MPI_SUM, "allreduce (sum f32)");
#endif
    (void)buf, (void)n;
    return CT_OK;
}

ct_status ct_dist_sum_f64(double *buf, size_t n) {
#ifdef CTCIR_MPI
    if (DIST_ACTIVE) return allreduce(buf, n, MPI_DOUBLE, sizeof *buf, MPI_SUM, "allreduce (sum f64)");
#endif
    (void)buf, (void)n;
    return CT_OK;
}

ct_status ct_dist_sum_i64(int64_t *buf, size_t n) {
#ifdef CTCIR_MPI
    if (DIST_ACTIVE) return allreduce(buf, n, MPI_INT64_T, sizeof *buf, MPI_SUM, "allreduce (sum i64)");
#endif
    (void)buf, (void)n;
    return CT_OK;
}

ct_status ct_dist_max_i64(int64_t *buf, size_t n) {
#ifdef CTCIR_MPI
    if (DIST_ACTIVE) return allreduce(buf, n, MPI_INT64_T, sizeof *buf, MPI_MAX, "allreduce (max i64)");
#endif
    (void)buf, (void)n;
    return CT_OK;
}

ct_status ct_dist_allgather_f32(const float *send, size_t n, float *recv) {
#ifdef CTCIR_MPI
    if (DIST_ACTIVE) {
        if (n > (size_t)1 << 30) return ct_fail(CT_ERR_ARG, "mpi: allgather of %zu floats per rank is too large", n);
        dist_sent += n * sizeof *send;
        return mpi_check(MPI_Allgather(send, (int)n, MPI_FLOAT, recv, (int)n, MPI_FLOAT, MPI_COMM_WORLD), "allgather");
    }
#endif
    if (recv != send) memmove(recv, send, n * sizeof *send);
    return CT_OK;
}

ct_status ct_dist_allgatherv_f32(const float *send, const size_t *counts, float *recv) {
#ifdef CTCIR_MPI
    if (DIST_ACTIVE) {
        int *cnt = malloc(2 * (size_t)dist_size * sizeof *cnt);
        if (!cnt) return ct_fail(CT_ERR_NOMEM, "mpi: out of memory");
        int *disp = cnt + dist_size;
        size_t off = 0;
        for (int r = 0; r < dist_size; r++) {
            if (counts[r] > (size_t)1 << 30 || off > (size_t)1 << 30) {
                free(cnt);
                return ct_fail(CT_ERR_ARG, "mpi: allgatherv of %zu floats is too large", counts[r]);
            }
            cnt[r] = (int)counts[r], disp[r] = (int)off;
            off += counts[r];
        }
        dist_sent += counts[dist_rank] * sizeof *send;
        /* this rank's part already in place: MPI_IN_PLACE (aliased buffers are not allowed) */
        const void *src = send == recv + disp[dist_rank] ? MPI_IN_PLACE : (const void *)send;
        ct_status s = mpi_check(
            MPI_Allgatherv(src, cnt[dist_rank], MPI_FLOAT, recv, cnt, disp, MPI_FLOAT, MPI_COMM_WORLD), "allgatherv");
        free(cnt);
        return s;
    }
#endif
    if (recv != send) memmove(recv, send, counts[0] * sizeof *send);
    return CT_OK;
}

ct_status ct_dist_bcast(void *buf, size_t bytes, int root) {
#ifdef CTCIR_MPI
    if (DIST_ACTIVE) {
        if (bytes > (size_t)1 << 30) return ct_fail(CT_ERR_ARG, "mpi: broadcast of %zu bytes is too large", bytes);
        if (dist_rank == root) dist_sent += bytes;
        return mpi_check(MPI_Bcast(buf, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD), "broadcast");
    }
#endif
    (void)buf, (void)bytes, (void)root;
    return CT_OK;
}

struct ct_dist_request {
#ifdef CTCIR_MPI
    MPI_Request req[8];
#endif
    int n;
};

ct_status ct_dist_isum_f32(float *buf, size_t n, ct_dist_request **out) {
    *out = NULL;
#ifdef CTCIR_MPI
    if (DIST_ACTIVE) {
        const size_t chunk = (size_t)1 << 28;
        if (n > 8 * chunk) return ct_dist_sum_f32(buf, n);
        ct_dist_request *r = calloc(1, sizeof *r);
        if (!r) return ct_fail(CT_ERR_NOMEM, "mpi: out of memory");
        for (size_t i = 0; i < n; i += chunk) {
            size_t m = n - i < chunk ? n - i : chunk;
            int rc = MPI_Iallreduce(MPI_IN_PLACE, buf + i, (int)m, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r->req[r->n]);
            if (rc != MPI_SUCCESS) {
                ct_dist_wait(r);
                return mpi_check(rc, "iallreduce");
            }
            r->n++;
            dist_sent += m * sizeof *buf;
        }
        *out = r;
    }
#endif
    (void)buf, (void)n;
    return CT_OK;
}

ct_status ct_dist_wait(ct_dist_request *r) {
    if (!r) return CT_OK;
    ct_status s = CT_OK;
#ifdef CTCIR_MPI
    if (r->n) s = mpi_check(MPI_Waitall(r->n, r->req, MPI_STATUSES_IGNORE), "wait");
#endif
    free(r);
    return s;
}
