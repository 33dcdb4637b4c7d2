/* Process-wide settings and facts: how many threads the library uses, which BLAS and which
 * of its kernels runs on this CPU (what `ctcir --version` prints), and monotonic wall-clock
 * seconds for rates and ETAs. */
#ifndef CTCIR_RUNTIME_H
#define CTCIR_RUNTIME_H

#include <stddef.h>
#include <stdio.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the OpenMP team size, which matrix products then use too; n <= 0 means all cores.
 * Callers bound n (the CLI accepts 1..1024). The first call also logs the BLAS and its
 * kernel at debug level (the CLI's -v), once. */
void ct_set_threads(int n);

/* Seconds from a monotonic clock (only differences mean anything). */
double ct_now_s(void);

/* Opens a list file for reading: "-" is standard input (its name becomes "stdin" and relative
 * entries resolve against "."), anything else must be a regular file (a FIFO or a folder is
 * refused without blocking). *base gets the folder the entries are relative to. Close with
 * ct_close_input. */
ct_status ct_open_input(const char *path, FILE **f, const char **name, char *base, size_t base_cap);
void ct_close_input(FILE *f); /* leaves stdin open; NULL-safe */

/* The linked BLAS ("OpenBLAS 0.3.21") and its running kernel ("Cooperlake"). */
const char *ct_blas_name(void);
const char *ct_blas_kernel(void);

/* OpenBLAS fixes its kernel when the library loads; on a CPU it does not know it may run a
 * generic fallback. A program that wants the better kernel restarts itself once with
 * OPENBLAS_CORETYPE set to what this returns (and CT_BLAS_RESTART_ENV set to ct_blas_kernel(),
 * which marks the restarted process). NULL when the user set OPENBLAS_CORETYPE (always
 * respected; CTCIR_TEST_BLAS_FALLBACK=1 lets the tests pretend that OpenBLAS picked that
 * kernel itself, to make a fallback on any CPU), when this process is already the restart,
 * when the BLAS cannot switch kernels (not an OpenBLAS DYNAMIC_ARCH build), or when the
 * running kernel is already the preferred one. */
#define CT_BLAS_RESTART_ENV "CTCIR_BLAS_FALLBACK"
const char *ct_blas_kernel_restart(void);

/* One line on the BLAS, its kernel and why that kernel:
 * "OpenBLAS 0.3.21, kernel Cooperlake (chosen by OpenBLAS)", and one on the CPU and the
 * features that decide it: "AuthenticAMD family 26 model 2, avx fma avx2 avx512f ...". */
void ct_blas_describe(char *buf, size_t size);
void ct_cpu_describe(char *buf, size_t size);

/* Precision of the model's matrix products. fp32: ct_sgemm. bf16: ct_gemm_bf16 (bf16 inputs, fp32
 * sums); everything outside the products stays fp32 (docs/perf-bf16.md). */
typedef enum { CT_PRECISION_FP32 = 0, CT_PRECISION_BF16 = 1 } ct_precision;

/* "fp32" or "bf16" -> *out; anything else fails, naming `where` (a flag or config file). */
ct_status ct_precision_parse(const char *s, const char *where, ct_precision *out);
const char *ct_precision_name(ct_precision p);

/* Sets the precision ct_matmul uses, process-wide (default fp32). bf16 fails with
 * CT_ERR_UNSUPPORTED on a CPU without AVX512_BF16 rather than running slowly or falling back
 * silently. Set it before running a model, not while one runs. */
ct_status ct_set_matmul_precision(ct_precision p);
ct_precision ct_get_matmul_precision(void);

#ifdef __cplusplus
}
#endif
#endif
