/* metrics.jsonl (docs/formats.md section 5): one JSON object per line, appended as training
 * goes. Every write is checked; a failed write (disk full) is undone by truncating the file
 * back to its last whole line, so the file never holds a torn line. Opening for a resumed run
 * keeps only the whole, parseable lines of steps <= the resumed step (rewritten atomically). */
#ifndef CTCIR_TRAIN_METRICS_LOG_H
#define CTCIR_TRAIN_METRICS_LOG_H

#include <stdint.h>

#include "ctcir/status.h"

typedef struct ct_metrics_log ct_metrics_log;

/* keep_through: lines of later steps are dropped (-1: start a new, empty file). */
ct_status ct_metrics_log_open(ct_metrics_log **out, const char *path, int64_t keep_through);
/* Appends one line (a JSON object without the newline). */
ct_status ct_metrics_log_line(ct_metrics_log *l, const char *json_object);
/* printf form of ct_metrics_log_line. */
ct_status ct_metrics_log_printf(ct_metrics_log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* fsync (before a checkpoint, so its steps' lines are on disk too). */
ct_status ct_metrics_log_sync(ct_metrics_log *l);
void ct_metrics_log_close(ct_metrics_log *l); /* NULL-safe */

#endif
