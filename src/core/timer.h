/* Wall-clock seconds from a monotonic clock, for rates, ETAs and benchmarks
 * (ct_now_s, public in ctcir/runtime.h). */
#ifndef CTCIR_CORE_TIMER_H
#define CTCIR_CORE_TIMER_H

#include "ctcir/runtime.h"

#endif
