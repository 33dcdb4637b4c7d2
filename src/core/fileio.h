/* Whole-file reads with a size cap, and atomic writes (temporary file beside the target,
 * fsync, rename, fsync of the directory), so a crash never leaves a half-written file
 * under the final name. Every error names the file. */
#ifndef CTCIR_CORE_FILEIO_H
#define CTCIR_CORE_FILEIO_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include "ctcir/status.h"

/* Opens `path` for reading without ever blocking: a FIFO, socket, device or folder is
 * refused ("not a regular file") instead of waiting for a writer. Opens with O_NONBLOCK,
 * checks with fstat, then clears the flag. *fd is owned by the caller; `st` (optional)
 * receives the fstat result. Every input file is opened through one of these. */
ct_status ct_open_regular(const char *path, int *fd, struct stat *st);
/* The same as a FILE * ("rb"). */
ct_status ct_fopen_regular(const char *path, FILE **fp);

/* Reads the whole of `path` into a fresh buffer with a NUL appended (not counted in *n).
 * Fails with CT_ERR_NOMEM, without reading, when the file is larger than max_bytes. */
ct_status ct_read_file(const char *path, char **data, size_t *n, size_t max_bytes);

/* Writes n bytes to `path` atomically. */
ct_status ct_write_file_atomic(const char *path, const void *data, size_t n);

/* Streaming form of the atomic write, for files too big to build in memory:
 *     ct_atomic_file a;
 *     if ((s = ct_atomic_begin(&a, path))) return s;
 *     ... ct_atomic_write(&a, buf, n) ...   (or fwrite to a.fp, then check ferror)
 *     return ct_atomic_commit(&a);          (on any error path: ct_atomic_abort(&a))
 * commit and abort always release everything; abort removes the temporary. */
typedef struct {
    FILE *fp;
    char *path;     /* final name */
    char *tmp_path; /* the temporary beside it */
} ct_atomic_file;

ct_status ct_atomic_begin(ct_atomic_file *a, const char *path);
ct_status ct_atomic_write(ct_atomic_file *a, const void *data, size_t n);
ct_status ct_atomic_commit(ct_atomic_file *a);
void ct_atomic_abort(ct_atomic_file *a);

#endif
