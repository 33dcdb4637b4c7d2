/* The collectives of ctcir/dist.h: the one-rank identity when run alone, and real sums,
 * maxima and gathers across ranks under `mpirun -np N` (tests/test_dist_mpi.sh). */
#include <stdio.h>
#include <stdlib.h>

#include "ctcir/dist.h"

int main(int argc, char **argv) {
    if (ct_dist_init(&argc, &argv)) {
        fprintf(stderr, "%s\n", ct_error());
        return 1;
    }
    const int r = ct_dist_rank(), n = ct_dist_size();
    int bad = 0;
    /* sum: rank r contributes r+1 and 0.5 */
    float f[3] = {(float)(r + 1), 0.5f, -1.0f};
    double d[2] = {r + 1.0, 1e-3};
    int64_t i[2] = {r, 1}, mx[1] = {r * 10};
    if (ct_dist_sum_f32(f, 3) || ct_dist_sum_f64(d, 2) || ct_dist_sum_i64(i, 2) || ct_dist_max_i64(mx, 1)) bad++;
    const double tri = n * (n + 1) / 2.0;
    if (f[0] != (float)tri || f[1] != 0.5f * n || f[2] != -(float)n)
        bad++, fprintf(stderr, "sum f32: %g %g %g\n", f[0], f[1], f[2]);
    if (d[0] != tri || d[1] != 1e-3 * n) bad++, fprintf(stderr, "sum f64: %g %g\n", d[0], d[1]);
    if (i[0] != (int64_t)n * (n - 1) / 2 || i[1] != n || mx[0] != 10 * (n - 1)) bad++, fprintf(stderr, "i64 wrong\n");
    /* allgather: rank r sends {r, r + 0.25} */
    float send[2] = {(float)r, r + 0.25f}, *recv = malloc(2 * (size_t)n * sizeof *recv);
    if (!recv || ct_dist_allgather_f32(send, 2, recv)) bad++;
    for (int k = 0; recv && k < n; k++)
        if (recv[2 * k] != (float)k || recv[2 * k + 1] != k + 0.25f) bad++, fprintf(stderr, "allgather row %d\n", k);
    /* allgatherv: rank r sends r+1 copies of r */
    size_t *counts = malloc((size_t)n * sizeof *counts), total = 0;
    for (int k = 0; k < n; k++) counts[k] = (size_t)k + 1, total += counts[k];
    float *mine = malloc(((size_t)r + 1) * sizeof *mine), *all = malloc(total * sizeof *all);
    for (int k = 0; k <= r; k++) mine[k] = (float)r;
    if (ct_dist_allgatherv_f32(mine, counts, all)) bad++;
    size_t p = 0;
    for (int k = 0; k < n; k++)
        for (size_t j = 0; j < counts[k]; j++, p++)
            if (all[p] != (float)k) bad++, fprintf(stderr, "allgatherv at %zu\n", p);
    /* non-blocking sum */
    float big[1000];
    for (int k = 0; k < 1000; k++) big[k] = (float)k;
    ct_dist_request *req = NULL;
    if (ct_dist_isum_f32(big, 1000, &req) || ct_dist_wait(req)) bad++;
    for (int k = 0; k < 1000; k++)
        if (big[k] != (float)k * n) {
            bad++;
            break;
        }
    /* broadcast from the last rank */
    int64_t b = r == n - 1 ? 4242 : -1;
    if (ct_dist_bcast(&b, sizeof b, n - 1) || b != 4242) bad++;
    if (ct_dist_barrier()) bad++;
    free(recv), free(counts), free(mine), free(all);
    printf("rank %d of %d: %s\n", r, n, bad ? "FAILED" : "ok");
    ct_dist_finalize();
    return bad != 0;
}
