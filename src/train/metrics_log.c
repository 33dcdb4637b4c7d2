/* The metrics log (see metrics_log.h). A plain file descriptor with O_APPEND: each line goes
 * out in one write() loop, and on failure the file is cut back to the size it had before. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/json.h"
#include "core/str.h"
#include "train/metrics_log.h"

struct ct_metrics_log {
    int fd;
    char *path;
    off_t good; /* size after the last whole line */
};

/* Keeps whole lines that parse as objects whose "step" is <= keep_through. */
static ct_status rewrite_kept(const char *path, int64_t keep_through) {
    char *text;
    size_t n;
    struct stat st;
    if (stat(path, &st) != 0) return CT_OK; /* nothing yet */
    ct_status s = ct_read_file(path, &text, &n, (size_t)1 << 32);
    if (s) return s;
    char *out = malloc(n + 1);
    if (!out) {
        free(text);
        return ct_fail(CT_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t len = 0, dropped = 0;
    for (char *line = text; line < text + n;) {
        char *nl = memchr(line, '\n', (size_t)(text + n - line));
        if (!nl) {
            dropped++;
            break;
        } /* a torn last line */
        *nl = '\0';
        cJSON *j = cJSON_Parse(line);
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
        if (cJSON_IsObject(j) && cJSON_IsNumber(step) && step->valuedouble <= (double)keep_through) {
            size_t k = (size_t)(nl - line);
            memcpy(out + len, line, k);
            out[len + k] = '\n';
            len += k + 1;
        } else
            dropped++;
        cJSON_Delete(j);
        line = nl + 1;
    }
    free(text);
    s = dropped ? ct_write_file_atomic(path, out, len) : CT_OK;
    free(out);
    return s;
}

ct_status ct_metrics_log_open(ct_metrics_log **out, const char *path, int64_t keep_through) {
    *out = NULL;
    ct_status s = CT_OK;
    if (keep_through >= 0)
        s = rewrite_kept(path, keep_through);
    else
        s = ct_write_file_atomic(path, "", 0);
    if (s) return s;
    ct_metrics_log *l = calloc(1, sizeof *l);
    if (l) l->fd = -1;
    if (!l || !(l->path = ct_strdup(path))) {
        free(l);
        return ct_fail(CT_ERR_NOMEM, "%s: out of memory", path);
    }
    l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    struct stat st;
    if (l->fd < 0 || fstat(l->fd, &st) != 0) {
        s = ct_fail(CT_ERR_IO, "%s: cannot open for appending: %s", path, strerror(errno));
        ct_metrics_log_close(l);
        return s;
    }
    l->good = st.st_size;
    *out = l;
    return CT_OK;
}

ct_status ct_metrics_log_line(ct_metrics_log *l, const char *json_object) {
    size_t n = strlen(json_object);
    char *buf = malloc(n + 1);
    if (!buf) return ct_fail(CT_ERR_NOMEM, "%s: out of memory", l->path);
    memcpy(buf, json_object, n);
    buf[n++] = '\n';
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(l->fd, buf + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            free(buf);
            /* undo the part that made it, so that the next line does not run into it */
            const bool cut = ftruncate(l->fd, l->good) == 0;
            return ct_fail(CT_ERR_IO, "%s: write failed: %s%s", l->path, strerror(e),
                           cut ? "" : " (and the partial line could not be removed)");
        }
        done += (size_t)w;
    }
    free(buf);
    l->good += (off_t)n;
    return CT_OK;
}

ct_status ct_metrics_log_printf(ct_metrics_log *l, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[1024], *line = small;
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof small && (line = malloc((size_t)n + 1))) {
        va_start(ap, fmt);
        vsnprintf(line, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    if (n < 0 || !line) return ct_fail(CT_ERR_NOMEM, "%s: out of memory", l->path);
    ct_status s = ct_metrics_log_line(l, line);
    if (line != small) free(line);
    return s;
}

ct_status ct_metrics_log_sync(ct_metrics_log *l) {
    if (fsync(l->fd) != 0 && errno != EINVAL && errno != EROFS)
        return ct_fail(CT_ERR_IO, "%s: fsync failed: %s", l->path, strerror(errno));
    return CT_OK;
}

void ct_metrics_log_close(ct_metrics_log *l) {
    if (!l) return;
    if (l->fd >= 0) close(l->fd);
    free(l->path);
    free(l);
}
