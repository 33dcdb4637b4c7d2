/* The three good4cir prompt templates: the shipped defaults (configs/good4cir/stage{1,2,3}.txt,
 * compiled in by CMake) or the files of a folder the user edits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/str.h"
#include "ctcir/caption.h"

/* Generated at configure time from configs/good4cir/ (see CMakeLists.txt). */
extern const unsigned char ct_good4cir_default_stage1[];
extern const unsigned char ct_good4cir_default_stage2[];
extern const unsigned char ct_good4cir_default_stage3[];

ct_status ct_caption_prompts_load(ct_caption_prompts *p, const char *dir) {
    memset(p, 0, sizeof *p);
    const char *defaults[3] = {(const char *)ct_good4cir_default_stage1, (const char *)ct_good4cir_default_stage2,
                               (const char *)ct_good4cir_default_stage3};
    for (int i = 0; i < 3; i++) {
        if (!dir) {
            if (!(p->stage[i] = ct_strdup(defaults[i]))) goto nomem;
            continue;
        }
        char path[4096];
        if (snprintf(path, sizeof path, "%s/stage%d.txt", dir, i + 1) >= (int)sizeof path) {
            ct_caption_prompts_free(p);
            return ct_fail(CT_ERR_ARG, "caption-pairs: prompt folder name too long: %s", dir);
        }
        size_t n;
        ct_status st = ct_read_file(path, &p->stage[i], &n, 1 << 20);
        if (st) {
            ct_caption_prompts_free(p);
            return ct_fail(st, "caption-pairs: prompts: %s", ct_error());
        }
        if (strlen(p->stage[i]) != n || n == 0) {
            ct_caption_prompts_free(p);
            return ct_fail(CT_ERR_FORMAT, "caption-pairs: prompts: %s is empty or holds a NUL byte", path);
        }
    }
    return CT_OK;
nomem:
    ct_caption_prompts_free(p);
    return ct_fail(CT_ERR_NOMEM, "out of memory");
}

void ct_caption_prompts_free(ct_caption_prompts *p) {
    for (int i = 0; i < 3; i++) {
        free(p->stage[i]);
        p->stage[i] = NULL;
    }
}

char *ct_caption_prompt_fill(const char *tmpl, int max_objects, const char *ref_objects, const char *tgt_objects) {
    char num[24];
    snprintf(num, sizeof num, "%d", max_objects);
    const char *keys[3] = {"{max_objects}", "{reference_objects}", "{target_objects}"};
    const char *vals[3] = {num, ref_objects ? ref_objects : "[]", tgt_objects ? tgt_objects : "[]"};
    /* Two passes: measure, then write. */
    char *out = NULL;
    size_t len = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t o = 0;
        for (const char *s = tmpl; *s;) {
            int k = 0;
            while (k < 3 && strncmp(s, keys[k], strlen(keys[k])) != 0) k++;
            if (k < 3) {
                size_t n = strlen(vals[k]);
                if (out) memcpy(out + o, vals[k], n);
                o += n;
                s += strlen(keys[k]);
            } else {
                if (out) out[o] = *s;
                o++;
                s++;
            }
        }
        if (out) {
            out[o] = '\0';
            break;
        }
        len = o;
        if (!(out = malloc(len + 1))) return NULL;
    }
    return out;
}
