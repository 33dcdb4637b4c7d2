/* ct_now_s (ctcir/runtime.h). */
#include <time.h>

#include "ctcir/runtime.h"

double ct_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
