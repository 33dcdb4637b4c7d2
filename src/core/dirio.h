/* Folders written atomically: build everything in a temporary sibling, then rename it into
 * place, so a reader never sees a half-written checkpoint. */
#ifndef CTCIR_CORE_DIRIO_H
#define CTCIR_CORE_DIRIO_H

#include <stddef.h>

#include "ctcir/status.h"

/* Creates "<dir>.tmp-<pid>" (removing a stale one) and returns its path in tmp. */
ct_status ct_dir_begin(const char *dir, char *tmp, size_t cap);
/* fsyncs the files of tmp, renames tmp to dir (an existing dir is replaced). */
ct_status ct_dir_commit(const char *tmp, const char *dir);
/* Removes a folder of plain files (one level); missing is fine. */
ct_status ct_remove_dir(const char *dir);
/* mkdir -p */
ct_status ct_mkdirs(const char *dir);

#endif
