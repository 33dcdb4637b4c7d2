/* Process-wide settings and a clock: how many threads the library uses, and monotonic
 * wall-clock seconds for rates and ETAs. */
#ifndef CTCIR_RUNTIME_H
#define CTCIR_RUNTIME_H

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the OpenMP team size, which matrix products then use too; n <= 0 means all cores.
 * Callers bound n (the CLI accepts 1..1024). */
void ct_set_threads(int n);

/* Seconds from a monotonic clock (only differences mean anything). */
double ct_now_s(void);

#ifdef __cplusplus
}
#endif
#endif
