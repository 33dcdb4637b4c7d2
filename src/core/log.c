/* The log hook (ctcir/log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "ctcir/dist.h"
#include "ctcir/log.h"

static ct_log_fn log_fn;
static void *log_user;
static ct_log_level log_max = CT_LOG_PROGRESS;

void ct_log_set(ct_log_fn fn, void *user) {
    log_fn = fn;
    log_user = user;
}

void ct_log_set_level(ct_log_level max) { log_max = max; }
ct_log_level ct_log_get_level(void) { return log_max; }
bool ct_log_enabled(ct_log_level level) { return level <= log_max; }

bool ct_log_progress_is_tty(void) { return !log_fn && isatty(STDERR_FILENO); }

void ct_log(ct_log_level level, const char *fmt, ...) {
    if (level > log_max) return;
    /* under mpirun only rank 0 reports what a run does; warnings and errors come from every rank */
    if (level >= CT_LOG_INFO && ct_dist_rank() > 0) return;
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (log_fn) {
        log_fn(level, buf, log_user);
        return;
    }
    fputs(buf, stderr);
    fflush(stderr);
}
