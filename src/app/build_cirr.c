/* `ctcir datasets build-cirr` as a library call (ctcir/datasets.h): CIRR's images are NLVR2's,
 * and CIRR's split files name them by the path they have in CIRR's own layout
 * ("./train/34/train-11041-2-img0.png", "./dev/dev-244-0-img0.png", "./test1/..."). This finds
 * every such file by its file name anywhere under an NLVR2 download and links (or copies) it
 * to that path under the output root. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/dirio.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/namemap.h"
#include "core/str.h"
#include "core/timer.h"
#include "ctcir/datasets.h"
#include "ctcir/log.h"

/* ---- the NLVR2 side: file name -> path ---- */

typedef struct {
    char **paths;
    int n, cap;
    ct_namemap *by_name; /* file name -> index of its first path */
    int ambiguous;
    dev_t skip_dev; /* the output root, when it lies inside the download */
    ino_t skip_ino;
    bool skip;
} file_index;

static ct_status index_add(file_index *fi, const char *name, char *path) {
    if (!path) return ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
    int v = ct_namemap_put(fi->by_name, name, fi->n);
    if (v == -2) {
        free(path);
        return ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
    }
    if (v != fi->n) { /* seen before: the first in sorted order stays */
        fi->ambiguous++;
        free(path);
        return CT_OK;
    }
    if (fi->n == fi->cap) {
        int nc = fi->cap ? fi->cap * 2 : 4096;
        char **np = realloc(fi->paths, (size_t)nc * sizeof *np);
        if (!np) {
            free(path);
            return ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
        }
        fi->paths = np, fi->cap = nc;
    }
    fi->paths[fi->n++] = path;
    return CT_OK;
}

/* Every regular file under dir, depth first in name order; symbolic links to folders are
 * not followed (no loops), links to files count as files. */
static ct_status index_walk(file_index *fi, const char *dir, int depth) {
    if (depth > 32) return ct_fail(CT_ERR_IO, "build-cirr: %s: folders nested more than 32 deep", dir);
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) return ct_fail(CT_ERR_IO, "build-cirr: cannot read folder %s: %s", dir, strerror(errno));
    ct_status s = CT_OK;
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i]->d_name;
        if (!s && strcmp(nm, ".") && strcmp(nm, "..")) {
            char *p = ct_path_join(dir, nm);
            struct stat st, lt;
            if (!p)
                s = ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
            else if (lstat(p, &lt) != 0)
                free(p);
            else if (S_ISDIR(lt.st_mode)) {
                if (!(fi->skip && lt.st_dev == fi->skip_dev && lt.st_ino == fi->skip_ino))
                    s = index_walk(fi, p, depth + 1);
                free(p);
            } else if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
                s = index_add(fi, nm, p);
            else
                free(p);
        }
        free(ents[i]);
    }
    free(ents);
    return s;
}

static void index_free(file_index *fi) {
    for (int i = 0; i < fi->n; i++) free(fi->paths[i]);
    free(fi->paths);
    ct_namemap_free(fi->by_name);
}

/* ---- placing one file ---- */

static ct_status copy_file(const char *src, const char *dst) {
    FILE *in = fopen(src, "rb");
    if (!in) return ct_fail(CT_ERR_IO, "build-cirr: cannot open %s: %s", src, strerror(errno));
    ct_atomic_file a;
    ct_status s = ct_atomic_begin(&a, dst);
    if (s) {
        fclose(in);
        return s;
    }
    char buf[1 << 16];
    size_t k;
    while (!s && (k = fread(buf, 1, sizeof buf, in)) > 0) s = ct_atomic_write(&a, buf, k);
    if (!s && ferror(in)) s = ct_fail(CT_ERR_IO, "build-cirr: cannot read %s", src);
    fclose(in);
    if (s) {
        ct_atomic_abort(&a);
        return s;
    }
    return ct_atomic_commit(&a);
}

/* A symbolic link dst -> target, made beside dst and renamed over it. */
static ct_status link_file(const char *target, const char *dst) {
    char *tmp = ct_strprintf("%s.tmp-%ld", dst, (long)getpid());
    if (!tmp) return ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
    unlink(tmp);
    ct_status s = CT_OK;
    if (symlink(target, tmp) != 0)
        s = ct_fail(CT_ERR_IO, "build-cirr: cannot create link %s: %s", tmp, strerror(errno));
    else if (rename(tmp, dst) != 0) {
        s = ct_fail(CT_ERR_IO, "build-cirr: cannot rename %s to %s: %s", tmp, dst, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return s;
}

/* Puts src at dst (folders created); *made = false when dst already was what it should be:
 * a link to src (link mode) or a regular file of src's size (copy mode, or a file someone
 * copied there before). */
static ct_status place(const char *src, const char *dst, bool copy, bool *made) {
    *made = false;
    char real[PATH_MAX], have[PATH_MAX];
    if (!realpath(src, real)) return ct_fail(CT_ERR_IO, "build-cirr: %s: %s", src, strerror(errno));
    struct stat ls, ss, ds;
    if (lstat(dst, &ls) == 0) {
        if (S_ISLNK(ls.st_mode) && !copy) {
            ssize_t k = readlink(dst, have, sizeof have - 1);
            if (k >= 0 && (have[k] = 0, !strcmp(have, real))) return CT_OK;
        } else if (S_ISREG(ls.st_mode) && stat(src, &ss) == 0 && ss.st_size == ls.st_size) {
            return CT_OK;
        }
    }
    char *dir = ct_strdup(dst);
    if (!dir) return ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
    char *slash = strrchr(dir, '/');
    ct_status s = CT_OK;
    if (slash && slash != dir) {
        *slash = 0;
        if (stat(dir, &ds) != 0) s = ct_mkdirs(dir);
    }
    free(dir);
    if (s) return s;
    s = copy ? copy_file(real, dst) : link_file(real, dst);
    *made = s == CT_OK;
    return s;
}

/* A split file's path must stay under the root: relative, no ".." component. */
static bool safe_rel(const char *rel) {
    if (!*rel || rel[0] == '/') return false;
    for (const char *p = rel; *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return false;
        p += n + (e ? 1 : 0);
    }
    return true;
}

/* ---- the CIRR side ---- */

static bool push_missing(ct_build_cirr_report *r, const char *name) {
    char **nm = realloc(r->missing, (size_t)(r->n_missing + 1) * sizeof *nm);
    if (!nm) return false;
    r->missing = nm;
    return (nm[r->n_missing] = ct_strdup(name)) ? (r->n_missing++, true) : false;
}

static ct_status build_split(const ct_build_cirr_opts *o, const file_index *fi, const char *split_file,
                             ct_build_cirr_split *sp, ct_build_cirr_report *r) {
    cJSON *j = NULL;
    ct_status s = ct_json_load(split_file, &j);
    if (s) return s;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return ct_fail(CT_ERR_FORMAT, "build-cirr: %s: expected a JSON object {name: path}", split_file);
    }
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, j) {
        sp->images++;
        const char *rel = cJSON_IsString(e) ? e->valuestring : NULL;
        if (rel && !strncmp(rel, "./", 2)) rel += 2;
        if (!rel || !safe_rel(rel)) {
            ct_log(CT_LOG_WARN, "warning: %s: entry %d ('%s'): not a relative path under the root; skipped\n",
                   split_file, i, e->string);
            sp->missing++;
            if (!push_missing(r, e->string)) {
                s = ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
                break;
            }
            i++;
            continue;
        }
        const char *base = strrchr(rel, '/');
        base = base ? base + 1 : rel;
        int k = ct_namemap_get(fi->by_name, base);
        if (k < 0) {
            sp->missing++;
            if (!push_missing(r, e->string)) {
                s = ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
                break;
            }
        } else {
            char *dst = ct_path_join(o->out, rel);
            bool made = false;
            s = dst ? place(fi->paths[k], dst, o->copy, &made) : ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
            free(dst);
            if (s) break;
            if (made)
                sp->created++;
            else
                sp->present++;
        }
        i++;
    }
    cJSON_Delete(j);
    return s;
}

/* The split.rc2.<split>.json files of <cirr>/image_splits, in name order. */
static ct_status split_files(const char *cirr, char ***out, int *n) {
    *out = NULL, *n = 0;
    char *dir = ct_path_join(cirr, "image_splits");
    if (!dir) return ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
    struct dirent **ents = NULL;
    int k = scandir(dir, &ents, NULL, alphasort);
    ct_status s = CT_OK;
    if (k < 0)
        s = ct_fail(CT_ERR_IO, "build-cirr: cannot read %s: %s (--cirr is the CIRR annotation folder)", dir,
                    strerror(errno));
    for (int i = 0; i < k; i++) {
        const char *nm = ents[i]->d_name;
        size_t len = strlen(nm);
        if (!s && len > 15 && !strncmp(nm, "split.rc2.", 10) && !strcmp(nm + len - 5, ".json")) {
            char **nl = realloc(*out, (size_t)(*n + 1) * sizeof *nl);
            if (!nl || !(nl[*n] = ct_path_join(dir, nm))) s = ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
            if (nl) *out = nl;
            if (!s) ++*n;
        }
        free(ents[i]);
    }
    free(ents);
    if (!s && !*n) s = ct_fail(CT_ERR_IO, "build-cirr: no split.rc2.<split>.json in %s", dir);
    free(dir);
    return s;
}

/* captions/, captions_ext/ and image_splits/ JSON files of the annotation folder, put into
 * out the same way as the images (when the two folders differ). */
static ct_status place_annotations(const ct_build_cirr_opts *o, ct_build_cirr_report *r) {
    static const char *const subs[] = {"captions", "captions_ext", "image_splits"};
    ct_status s = CT_OK;
    for (int d = 0; d < 3 && !s; d++) {
        char *dir = ct_path_join(o->cirr, subs[d]);
        struct dirent **ents = NULL;
        int k = dir ? scandir(dir, &ents, NULL, alphasort) : -1;
        for (int i = 0; i < k; i++) {
            const char *nm = ents[i]->d_name;
            size_t len = strlen(nm);
            if (!s && len > 5 && !strcmp(nm + len - 5, ".json")) {
                char *src = ct_path_join(dir, nm), *rel = ct_strprintf("%s/%s", subs[d], nm);
                char *dst = rel ? ct_path_join(o->out, rel) : NULL;
                bool made;
                s = src && dst ? place(src, dst, o->copy, &made) : ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
                if (!s) r->annotations++;
                free(src), free(rel), free(dst);
            }
            free(ents[i]);
        }
        free(ents);
        free(dir);
    }
    return s;
}

static bool same_folder(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

ct_status ct_build_cirr(const ct_build_cirr_opts *o_in, ct_build_cirr_report *r) {
    memset(r, 0, sizeof *r);
    if (!o_in->nlvr2 || !o_in->out)
        return ct_fail(CT_ERR_ARG, "build-cirr: the NLVR2 folder and the output folder are required");
    ct_build_cirr_opts o = *o_in;
    if (!o.cirr) o.cirr = o.out;
    const double t0 = ct_now_s();
    struct stat st;
    if (stat(o.nlvr2, &st) != 0 || !S_ISDIR(st.st_mode))
        return ct_fail(CT_ERR_IO, "build-cirr: %s is not a folder", o.nlvr2);
    ct_status s = ct_mkdirs(o.out);
    if (s) return s;
    char **files = NULL;
    int n_files = 0;
    file_index fi = {0};
    if ((s = split_files(o.cirr, &files, &n_files))) goto done;
    if (!(fi.by_name = ct_namemap_new())) {
        s = ct_fail(CT_ERR_NOMEM, "build-cirr: out of memory");
        goto done;
    }
    if (stat(o.out, &st) == 0) fi.skip = true, fi.skip_dev = st.st_dev, fi.skip_ino = st.st_ino;
    if ((s = index_walk(&fi, o.nlvr2, 0))) goto done;
    r->nlvr2_files = fi.n;
    r->ambiguous = fi.ambiguous;
    ct_log(CT_LOG_INFO, "build-cirr: %d files under %s (%d file names found more than once)\n", fi.n, o.nlvr2,
           fi.ambiguous);
    for (int i = 0; i < n_files && !s; i++) {
        if (r->n_splits == (int)(sizeof r->splits / sizeof *r->splits)) {
            s = ct_fail(CT_ERR_ARG, "build-cirr: more than %d split files", r->n_splits);
            break;
        }
        ct_build_cirr_split *sp = &r->splits[r->n_splits++];
        const char *nm = strrchr(files[i], '/') + 1 + 10; /* after "split.rc2." */
        snprintf(sp->split, sizeof sp->split, "%.*s", (int)(strlen(nm) - 5), nm);
        s = build_split(&o, &fi, files[i], sp, r);
        if (!s)
            ct_log(CT_LOG_INFO, "build-cirr: %s: %d images, %d %s now, %d already there, %d missing\n", sp->split,
                   sp->images, sp->created, o.copy ? "copied" : "linked", sp->present, sp->missing);
    }
    if (!s && !same_folder(o.cirr, o.out)) s = place_annotations(&o, r);
    r->seconds = ct_now_s() - t0;
done:
    for (int i = 0; i < n_files; i++) free(files[i]);
    free(files);
    index_free(&fi);
    if (s) ct_build_cirr_report_free(r);
    return s;
}

void ct_build_cirr_report_free(ct_build_cirr_report *r) {
    if (!r) return;
    ct_str_list_free(r->missing, r->n_missing);
    memset(r, 0, sizeof *r);
}

char *ct_build_cirr_report_json(const ct_build_cirr_report *r, const ct_build_cirr_opts *o) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "out", o->out);
    cJSON_AddStringToObject(root, "cirr", o->cirr ? o->cirr : o->out);
    cJSON_AddStringToObject(root, "nlvr2", o->nlvr2);
    cJSON_AddStringToObject(root, "mode", o->copy ? "copy" : "link");
    cJSON_AddBoolToObject(root, "complete", r->n_missing == 0);
    cJSON_AddNumberToObject(root, "nlvr2_files", r->nlvr2_files);
    cJSON_AddNumberToObject(root, "ambiguous", r->ambiguous);
    cJSON_AddNumberToObject(root, "annotations", r->annotations);
    cJSON *splits = cJSON_AddObjectToObject(root, "splits");
    for (int i = 0; i < r->n_splits; i++) {
        const ct_build_cirr_split *sp = &r->splits[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "images", sp->images);
        cJSON_AddNumberToObject(e, "created", sp->created);
        cJSON_AddNumberToObject(e, "present", sp->present);
        cJSON_AddNumberToObject(e, "missing", sp->missing);
        cJSON_AddItemToObject(splits, sp->split, e);
    }
    cJSON *missing = cJSON_AddArrayToObject(root, "missing");
    for (int i = 0; i < r->n_missing; i++) cJSON_AddItemToArray(missing, cJSON_CreateString(r->missing[i]));
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}
