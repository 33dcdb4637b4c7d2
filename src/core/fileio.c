/* Whole-file reads and atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "ctcir/runtime.h"

static const char *file_kind(mode_t m) {
    if (S_ISDIR(m)) return "a folder";
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
    return "a special file";
}

ct_status ct_open_regular(const char *path, int *fd_out, struct stat *st_out) {
    *fd_out = -1;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return ct_fail(CT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ct_fail(CT_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ct_fail(CT_ERR_IO, "%s: not a regular file: it is %s", path, file_kind(st.st_mode));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        return ct_fail(CT_ERR_IO, "%s: fcntl: %s", path, strerror(e));
    }
    if (st_out) *st_out = st;
    *fd_out = fd;
    return CT_OK;
}

ct_status ct_fopen_regular(const char *path, FILE **fp) {
    int fd;
    *fp = NULL;
    ct_status s = ct_open_regular(path, &fd, NULL);
    if (s) return s;
    *fp = fdopen(fd, "rb");
    if (!*fp) {
        int e = errno;
        close(fd);
        return ct_fail(CT_ERR_IO, "%s: fdopen: %s", path, strerror(e));
    }
    return CT_OK;
}

ct_status ct_read_file(const char *path, char **data, size_t *n, size_t max_bytes) {
    *data = NULL;
    *n = 0;
    char *buf = NULL;
    int fd;
    struct stat st;
    ct_status s = ct_open_regular(path, &fd, &st);
    if (s) return s;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return ct_fail(CT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        fclose(fp);
        return ct_fail(CT_ERR_NOMEM, "%s: file is %lld bytes, more than the limit of %zu", path, (long long)st.st_size,
                       max_bytes);
    }
    size_t size = (size_t)st.st_size;
    buf = malloc(size + 1);
    if (!buf) {
        fclose(fp);
        return ct_fail(CT_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, size + 1);
    }
    size_t got = fread(buf, 1, size, fp);
    /* A file that grew since fstat is read up to its size then; one that shrank is an error. */
    int bad = ferror(fp) || got != size;
    fclose(fp);
    if (bad) {
        free(buf);
        return ct_fail(CT_ERR_IO, "%s: read %zu of %zu bytes", path, got, size);
    }
    buf[size] = '\0';
    *data = buf;
    *n = size;
    return CT_OK;
}

ct_status ct_atomic_begin(ct_atomic_file *a, const char *path) {
    memset(a, 0, sizeof *a);
    size_t len = strlen(path);
    a->path = malloc(len + 1);
    a->tmp_path = malloc(len + sizeof ".tmp.XXXXXX");
    if (!a->path || !a->tmp_path) {
        ct_atomic_abort(a);
        return ct_fail(CT_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(a->path, path, len + 1);
    memcpy(a->tmp_path, path, len);
    memcpy(a->tmp_path + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(a->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(a->tmp_path);
        a->tmp_path = NULL; /* nothing to remove */
        ct_atomic_abort(a);
        return ct_fail(CT_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(e));
    }
    /* mkstemp makes the file 0600; give it the permissions an ordinary create would. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    a->fp = fdopen(fd, "wb");
    if (!a->fp) {
        int e = errno;
        close(fd);
        ct_atomic_abort(a);
        return ct_fail(CT_ERR_IO, "%s: fdopen: %s", path, strerror(e));
    }
    return CT_OK;
}

ct_status ct_atomic_write(ct_atomic_file *a, const void *data, size_t n) {
    if (n && fwrite(data, 1, n, a->fp) != n)
        return ct_fail(CT_ERR_IO, "%s: write failed: %s", a->path, strerror(errno));
    return CT_OK;
}

void ct_atomic_abort(ct_atomic_file *a) {
    if (a->fp) fclose(a->fp);
    if (a->tmp_path) unlink(a->tmp_path);
    free(a->tmp_path);
    free(a->path);
    memset(a, 0, sizeof *a);
}

/* fsync of the directory holding `path`, so that the rename itself is durable. */
static void sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd); /* some file systems refuse; the data itself is already synced */
        close(fd);
    }
    free(dir);
}

ct_status ct_atomic_commit(ct_atomic_file *a) {
    ct_status s = CT_OK;
    if (ferror(a->fp) || fflush(a->fp) != 0) {
        s = ct_fail(CT_ERR_IO, "%s: write failed: %s", a->path, strerror(errno));
        goto fail;
    }
    if (fsync(fileno(a->fp)) != 0) {
        s = ct_fail(CT_ERR_IO, "%s: fsync failed: %s", a->path, strerror(errno));
        goto fail;
    }
    FILE *fp = a->fp;
    a->fp = NULL;
    if (fclose(fp) != 0) {
        s = ct_fail(CT_ERR_IO, "%s: close failed: %s", a->path, strerror(errno));
        goto fail;
    }
    if (rename(a->tmp_path, a->path) != 0) {
        s = ct_fail(CT_ERR_IO, "%s: cannot rename %s over it: %s", a->path, a->tmp_path, strerror(errno));
        goto fail;
    }
    sync_parent_dir(a->path);
    free(a->tmp_path);
    a->tmp_path = NULL;
fail:
    ct_atomic_abort(a);
    return s;
}

ct_status ct_write_file_atomic(const char *path, const void *data, size_t n) {
    ct_atomic_file a;
    ct_status s = ct_atomic_begin(&a, path);
    if (s) return s;
    if ((s = ct_atomic_write(&a, data, n))) {
        ct_atomic_abort(&a);
        return s;
    }
    return ct_atomic_commit(&a);
}

ct_status ct_open_input(const char *path, FILE **f, const char **name, char *base, size_t base_cap) {
    const bool from_stdin = strcmp(path, "-") == 0;
    *f = stdin;
    if (!from_stdin && ct_fopen_regular(path, f)) return CT_ERR_IO;
    *name = from_stdin ? "stdin" : path;
    snprintf(base, base_cap, "%s", from_stdin ? "." : path);
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(base, base_cap, ".");
    return CT_OK;
}

void ct_close_input(FILE *f) {
    if (f && f != stdin) fclose(f);
}
