/* Gallery listings for index and eval. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ctcir/embed.h"

static const char *const image_ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".ppm", ".pgm", ".pnm", ".psd", NULL};

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

static ct_status scan(ct_gallery *g, int64_t *cap, const char *root, const char *rel) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) return ct_fail(CT_ERR_IO, "gallery: cannot open folder %s: %s", dir, strerror(errno));
    struct dirent *e;
    ct_status s = CT_OK;
    while (!s && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[4096], full[8200];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) s = scan(g, cap, root, sub);
        else if (S_ISREG(st.st_mode) && is_image(e->d_name)) s = push(g, cap, strip_ext(sub), strdup(full));
    }
    closedir(d);
    return s;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

ct_status ct_gallery_from_dir(ct_gallery *g, const char *dir) {
    memset(g, 0, sizeof *g);
    int64_t cap = 0;
    ct_status s = scan(g, &cap, dir, "");
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
    const bool from_stdin = strcmp(file, "-") == 0; /* relative paths: against the working folder */
    FILE *f = from_stdin ? stdin : fopen(file, "r");
    if (!f) return ct_fail(CT_ERR_IO, "gallery: cannot open %s: %s", file, strerror(errno));
    char base[4096];
    snprintf(base, sizeof base, "%s", from_stdin ? "." : file);
    char *slash = strrchr(base, '/');
    if (slash) *slash = '\0';
    else snprintf(base, sizeof base, ".");
    if (from_stdin) file = "stdin";
    int64_t cap = 0, line_no = 0;
    char line[8192];
    ct_status s = CT_OK;
    while (!s && fgets(line, sizeof line, f)) {
        line_no++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') { s = ct_fail(CT_ERR_FORMAT, "gallery: %s:%lld: line too long", file, (long long)line_no); break; }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = '\0';
        if (!n) continue;
        char full[12300];
        if (line[0] == '/') snprintf(full, sizeof full, "%s", line);
        else snprintf(full, sizeof full, "%s/%s", base, line);
        s = push(g, &cap, strip_ext(line), strdup(full));
    }
    if (!from_stdin) fclose(f);
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
    char file[4200], gal[4200];
    if (k == CT_DS_MANIFEST) {
        snprintf(file, sizeof file, "%s/%s.jsonl", root, split);
        snprintf(gal, sizeof gal, "%s/%s_gallery.txt", root, split);
        struct stat st;
        o.file = file;
        o.gallery_file = stat(gal, &st) == 0 ? gal : NULL;
    }
    if ((s = ct_dataset_load(&g->ds, k, &o))) return s;
    g->n = g->ds->n_gallery;
    g->names = g->ds->gallery_names;
    g->paths = g->ds->gallery_paths;
    return CT_OK;
}

void ct_gallery_free(ct_gallery *g) {
    if (g->ds) ct_dataset_free(g->ds);
    else {
        for (int64_t i = 0; i < g->n; i++) free(g->names[i]), free(g->paths[i]);
        free(g->names), free(g->paths);
    }
    memset(g, 0, sizeof *g);
}
