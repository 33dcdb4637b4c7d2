/* Wall-clock seconds from a monotonic clock, for rates, ETAs and benchmarks. */
#ifndef CTCIR_CORE_TIMER_H
#define CTCIR_CORE_TIMER_H

#include <time.h>

static inline double ct_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
