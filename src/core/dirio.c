/* Atomic folder replacement and small folder helpers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dirio.h"

ct_status ct_remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? CT_OK : ct_fail(CT_ERR_IO, "cannot open folder %s: %s", dir, strerror(errno));
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    if (rmdir(dir) != 0) return ct_fail(CT_ERR_IO, "cannot remove folder %s: %s", dir, strerror(errno));
    return CT_OK;
}

ct_status ct_mkdirs(const char *dir) {
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) return ct_fail(CT_ERR_ARG, "bad folder name '%s'", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return ct_fail(CT_ERR_IO, "cannot create folder %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    return CT_OK;
}

ct_status ct_dir_begin(const char *dir, char *tmp, size_t cap) {
    if ((size_t)snprintf(tmp, cap, "%s.tmp-%ld", dir, (long)getpid()) >= cap)
        return ct_fail(CT_ERR_ARG, "folder name too long: %s", dir);
    ct_remove_dir(tmp);
    if (mkdir(tmp, 0755) != 0) return ct_fail(CT_ERR_IO, "cannot create folder %s: %s", tmp, strerror(errno));
    return CT_OK;
}

static void sync_path(const char *path, int flags) {
    int fd = open(path, flags);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

ct_status ct_dir_commit(const char *tmp, const char *dir) {
    sync_path(tmp, O_RDONLY | O_DIRECTORY);
    char old[4200];
    snprintf(old, sizeof old, "%s.old-%ld", dir, (long)getpid());
    struct stat st;
    int had = stat(dir, &st) == 0;
    if (had && rename(dir, old) != 0) return ct_fail(CT_ERR_IO, "cannot move %s aside: %s", dir, strerror(errno));
    if (rename(tmp, dir) != 0) {
        int err = errno;
        if (had) rename(old, dir);
        return ct_fail(CT_ERR_IO, "cannot rename %s to %s: %s", tmp, dir, strerror(err));
    }
    if (had) ct_remove_dir(old);
    /* make the rename durable */
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(parent, sizeof parent, ".");
    sync_path(parent, O_RDONLY | O_DIRECTORY);
    return CT_OK;
}
