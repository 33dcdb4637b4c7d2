/* Gallery listings for index and eval. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "ctcir/embed.h"
#include "ctcir/image.h"
#include "ctcir/log.h"
#include "ctcir/runtime.h"

static const char *const image_ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga",
                                        ".ppm", ".pgm", ".pnm",  ".psd", NULL};

static int is_image(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (int i = 0; image_ext[i]; i++)
        if (strcasecmp(dot, image_ext[i]) == 0) return 1;
    return 0;
}

static char *strip_ext(const char *path) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    size_t n = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    char *r = malloc(n + 1);
    if (r) memcpy(r, path, n), r[n] = '\0';
    return r;
}

static ct_status push(ct_gallery *g, int64_t *cap, char *name, char *path) {
    if (!name || !path) {
        free(name), free(path);
        return ct_fail(CT_ERR_NOMEM, "gallery: out of memory");
    }
    if (g->n == *cap) {
        int64_t c = *cap ? *cap * 2 : 1024;
        char **a = realloc(g->names, (size_t)c * sizeof *a), **b = a ? realloc(g->paths, (size_t)c * sizeof *b) : NULL;
        if (a) g->names = a;
        if (b) g->paths = b;
        if (!a || !b) {
            free(name), free(path);
            return ct_fail(CT_ERR_NOMEM, "gallery: out of memory");
        }
        *cap = c;
    }
    g->names[g->n] = name;
    g->paths[g->n] = path;
    g->n++;
    return CT_OK;
}

/* Folders entered so far, by (device, inode): a symlink loop or a second link to a folder
 * already walked is not entered again. */
typedef struct {
    dev_t *dev;
    ino_t *ino;
    int n, cap;
} visited;

static int visit(visited *v, const struct stat *st) {
    for (int i = 0; i < v->n; i++)
        if (v->dev[i] == st->st_dev && v->ino[i] == st->st_ino) return 0;
    if (v->n == v->cap) {
        int c = v->cap ? v->cap * 2 : 64;
        dev_t *d = realloc(v->dev, (size_t)c * sizeof *d);
        if (d) v->dev = d;
        ino_t *i = d ? realloc(v->ino, (size_t)c * sizeof *i) : NULL;
        if (i) v->ino = i;
        if (!d || !i) return -1;
        v->cap = c;
    }
    v->dev[v->n] = st->st_dev;
    v->ino[v->n] = st->st_ino;
    v->n++;
    return 1;
}

/* Whether the file starts like an image the decoders read (TGA has no signature: trusted). */
static bool looks_like_image(const char *path, const char *name) {
    const char *dot = strrchr(name, '.');
    if (dot && strcasecmp(dot, ".tga") == 0) return true;
    int fd;
    if (ct_open_regular(path, &fd, NULL)) return false;
    unsigned char head[16];
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    return n > 0 && ct_image_sniff(head, (size_t)n) != NULL;
}

static ct_status scan(ct_gallery *g, int64_t *cap, const char *root, const char *rel, visited *seen) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) return ct_fail(CT_ERR_IO, "gallery: cannot open folder %s: %s", dir, strerror(errno));
    struct stat dst;
    int fresh = fstat(dirfd(d), &dst) == 0 ? visit(seen, &dst) : 1;
    if (fresh <= 0) {
        closedir(d);
        if (fresh < 0) return ct_fail(CT_ERR_NOMEM, "gallery: out of memory");
        ct_log(CT_LOG_WARN, "warning: gallery: %s is a folder already listed (a symlink loop?); not entered again\n",
               dir);
        return CT_OK;
    }
    struct dirent *e;
    ct_status s = CT_OK;
    while (!s && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[4096], full[8200];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0) continue;
        bool dir_entry = S_ISDIR(st.st_mode), image = S_ISREG(st.st_mode) && is_image(e->d_name);
        if ((dir_entry || image) && strpbrk(e->d_name, "\n\r")) {
            /* Names are written one a line (query output, lists): a newline would break them. */
            ct_log(CT_LOG_WARN, "warning: gallery: skipping a name with a line break in %s\n", dir);
            continue;
        }
        if (dir_entry) {
            s = scan(g, cap, root, sub, seen);
        } else if (image) {
            if (!looks_like_image(full, e->d_name))
                ct_log(CT_LOG_WARN, "warning: gallery: %s is not an image file (unknown signature); skipped\n", full);
            else
                s = push(g, cap, strip_ext(sub), strdup(full));
        }
    }
    closedir(d);
    return s;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

ct_status ct_gallery_from_dir(ct_gallery *g, const char *dir) {
    memset(g, 0, sizeof *g);
    int64_t cap = 0;
    visited seen = {0};
    ct_status s = scan(g, &cap, dir, "", &seen);
    free(seen.dev);
    free(seen.ino);
    if (s) return s;
    if (g->n == 0) return ct_fail(CT_ERR_FORMAT, "gallery: no image files in %s", dir);
    /* sort names and paths together: sort an index */
    int64_t *ix = malloc((size_t)g->n * sizeof *ix);
    char **key = malloc((size_t)g->n * 2 * sizeof *key);
    if (!ix || !key) {
        free(ix), free(key);
        return ct_fail(CT_ERR_NOMEM, "gallery: out of memory");
    }
    for (int64_t i = 0; i < g->n; i++) key[2 * i] = g->names[i], key[2 * i + 1] = g->paths[i];
    qsort(key, (size_t)g->n, 2 * sizeof *key, by_name);
    for (int64_t i = 0; i < g->n; i++) g->names[i] = key[2 * i], g->paths[i] = key[2 * i + 1];
    free(ix), free(key);
    return CT_OK;
}

ct_status ct_gallery_from_list(ct_gallery *g, const char *file) {
    memset(g, 0, sizeof *g);
    /* "-" is standard input (relative paths then resolve against the current folder). */
    FILE *f;
    char base[4096];
    if (ct_open_input(file, &f, &file, base, sizeof base)) return ct_fail(CT_ERR_IO, "gallery: %s", ct_error());
    int64_t cap = 0, line_no = 0;
    char line[8192];
    ct_status s = CT_OK;
    while (!s && fgets(line, sizeof line, f)) {
        line_no++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            s = ct_fail(CT_ERR_FORMAT, "gallery: %s:%lld: line too long", file, (long long)line_no);
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = '\0';
        if (!n) continue;
        char full[12300];
        if (line[0] == '/')
            snprintf(full, sizeof full, "%s", line);
        else
            snprintf(full, sizeof full, "%s/%s", base, line);
        s = push(g, &cap, strip_ext(line), strdup(full));
    }
    if (!s && ferror(f)) s = ct_fail(CT_ERR_IO, "gallery: %s: read error", file);
    ct_close_input(f);
    if (!s && g->n == 0) s = ct_fail(CT_ERR_FORMAT, "gallery: %s lists no images", file);
    return s;
}

ct_status ct_gallery_from_dataset(ct_gallery *g, const char *kind, const char *root, const char *split,
                                  const char *category) {
    memset(g, 0, sizeof *g);
    ct_dataset_kind k;
    ct_status s = ct_dataset_kind_parse(kind, &k);
    if (s) return s;
    ct_dataset_opts o = {.root = root, .split = split, .category = category};
    if ((s = ct_dataset_load(&g->ds, k, &o))) return s;
    if (g->ds->n_gallery == 0) {
        s = ct_fail(CT_ERR_FORMAT, "gallery: %s: the gallery is empty (no usable image entries)", g->ds->name);
        ct_dataset_free(g->ds);
        g->ds = NULL;
        return s;
    }
    g->n = g->ds->n_gallery;
    g->names = g->ds->gallery_names;
    g->paths = g->ds->gallery_paths;
    return CT_OK;
}

void ct_gallery_free(ct_gallery *g) {
    if (g->ds)
        ct_dataset_free(g->ds);
    else {
        for (int64_t i = 0; i < g->n; i++) free(g->names[i]), free(g->paths[i]);
        free(g->names), free(g->paths);
    }
    memset(g, 0, sizeof *g);
}
