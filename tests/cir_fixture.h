/* Test fixtures for the dataset / metrics tests: a temp folder, small files, and a CIRCO
 * root whose stand-in COCO image list holds every id the real annotations use. */
#ifndef CTCIR_TEST_CIR_FIXTURE_H
#define CTCIR_TEST_CIR_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "test_util.h"

static char fx_tmp[256];
static char fx_shared[512];

/* Creates the temp folder and makes the shared path absolute; false on failure. */
static bool fx_init(const char *tag) {
    const char *sd = test_shared_dir();
    char cwd[256] = "";
    if (sd[0] != '/' && !getcwd(cwd, sizeof cwd)) return false;
    snprintf(fx_shared, sizeof fx_shared, "%s%s%s", cwd, cwd[0] ? "/" : "", sd);
    snprintf(fx_tmp, sizeof fx_tmp, "/tmp/ctcir_%s_XXXXXX", tag);
    return mkdtemp(fx_tmp) != NULL;
}

static void fx_done(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", fx_tmp);
}

/* fx_tmp/rel (a rotating static buffer). */
static char *fx_path(const char *rel) {
    static char p[8][768];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/%s", fx_tmp, rel);
    return p[i];
}

static void fx_write(const char *rel, const char *text) {
    char p[768];
    snprintf(p, sizeof p, "%s/%s", fx_tmp, rel);
    for (char *s = p + strlen(fx_tmp) + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static char *fx_read(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* fx_tmp/circo: annotations -> the real ones; an image list of every id they use.
 * Returns the number of gallery images (0 on failure). */
__attribute__((unused)) static int fx_make_circo(void) {
    char src[1024], dst[1024];
    snprintf(src, sizeof src, "%s/cir-annotations/circo/annotations", fx_shared);
    snprintf(dst, sizeof dst, "%s/circo/annotations", fx_tmp);
    mkdir(fx_path("circo"), 0755);
    if (symlink(src, dst) != 0) return 0;
    cJSON *info = cJSON_CreateObject(), *imgs = cJSON_AddArrayToObject(info, "images");
    static const char *splits[2] = {"val", "test"};
    int seen = 0;
    for (int s = 0; s < 2; s++) {
        char p[1100];
        snprintf(p, sizeof p, "%s/%s.json", src, splits[s]);
        char *buf = fx_read(p);
        cJSON *a = buf ? cJSON_Parse(buf) : NULL, *r;
        free(buf);
        cJSON_ArrayForEach(r, a) {
            int ids[32], k = 0;
            ids[k++] = cJSON_GetObjectItem(r, "reference_img_id")->valueint;
            cJSON *gt = cJSON_GetObjectItem(r, "gt_img_ids"), *e;
            cJSON_ArrayForEach(e, gt) if (k < 32) ids[k++] = e->valueint;
            for (int i = 0; i < k; i++) {
                bool dup = false;
                cJSON *x;
                cJSON_ArrayForEach(x, imgs) dup |= cJSON_GetObjectItem(x, "id")->valueint == ids[i];
                if (dup) continue;
                char fn[32];
                snprintf(fn, sizeof fn, "%012d.jpg", ids[i]);
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "id", ids[i]);
                cJSON_AddStringToObject(o, "file_name", fn);
                cJSON_AddItemToArray(imgs, o);
                seen++;
            }
        }
        cJSON_Delete(a);
    }
    char *txt = cJSON_PrintUnformatted(info);
    fx_write("circo/COCO2017_unlabeled/annotations/image_info_unlabeled2017.json", txt);
    free(txt);
    cJSON_Delete(info);
    return seen;
}

#endif
