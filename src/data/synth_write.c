/* synth-shapes dataset writer: images, JSONL manifests and gallery lists under one folder.
 * Triplets are generated in chunks, in parallel (OpenMP); every triplet and every image's
 * format depend only on (seed, split, index), so the output is byte-identical whatever the
 * thread count. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "data/synth_internal.h"

#define CHUNK        256
#define MAX_TRIPLETS 10000000L
#define ROLE_STREAM  1000 /* stream ids for per-image format draws */

static const char *const split_names[3] = {"train", "val", "test"};

void ct_synth_config_default(ct_synth_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->n_train = 10000;
    cfg->n_val = 200;
    cfg->n_test = 200;
    cfg->negatives = 3;
    cfg->size = 64;
    cfg->seed = 0;
    cfg->jpeg_fraction = 0.1;
    cfg->jpeg_quality = 90;
}

static ct_status mkdir_p(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ct_fail(CT_ERR_ARG, "synth: output path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c == '/' || c == 0) {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return ct_fail(CT_ERR_IO, "synth: cannot create directory %s: %s", buf, strerror(errno));
            *p = c;
        }
        if (!c) break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return ct_fail(CT_ERR_IO, "synth: %s is not a directory", path);
    return CT_OK;
}

/* Everything one triplet contributes: its manifest line and its gallery paths. */
typedef struct {
    char *line;
    char paths[2 + CT_SYNTH_MAX_NEGATIVES][64];
    int n_paths, n_jpeg;
} item_out;

static ct_status save_image(const ct_synth_config *cfg, const ct_synth_scene *s, int split, long idx, int role,
                            const char *stem, uint8_t *rgb, char *rel, size_t rel_cap, int *is_jpeg) {
    ct_rng r;
    ct_rng_seed(&r, synth_mix_seed(cfg->seed, ROLE_STREAM + (uint64_t)split, (uint64_t)idx * 16 + (uint64_t)role));
    *is_jpeg = ct_rng_uniform(&r) < cfg->jpeg_fraction;
    snprintf(rel, rel_cap, "images/%s/%s.%s", split_names[split], stem, *is_jpeg ? "jpg" : "png");
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s", cfg->out_dir, rel) >= (int)sizeof path)
        return ct_fail(CT_ERR_ARG, "synth: output path too long under %s", cfg->out_dir);
    ct_status st = ct_synth_render_into(s, cfg->size, rgb);
    if (st != CT_OK) return st;
    ct_image img = {cfg->size, cfg->size, rgb};
    return *is_jpeg ? ct_image_save_jpeg(&img, path, cfg->jpeg_quality) : ct_image_save_png(&img, path);
}

static ct_status make_item(const ct_synth_config *cfg, int split, long idx, uint8_t *rgb, item_out *out) {
    ct_synth_triplet *t = malloc(sizeof *t);
    cJSON *o = NULL;
    ct_status st = CT_OK;
    if (!t) return ct_fail(CT_ERR_NOMEM, "synth: cannot allocate a triplet");
    int hard = cfg->variant == CT_SYNTH_HARD;
    int negatives = split == 0 ? (hard ? cfg->train_negatives : 0) : cfg->negatives;
    uint64_t seed = synth_mix_seed(cfg->seed, (uint64_t)split, (uint64_t)idx);
    st = hard ? ct_synth_make_hard_triplet(t, seed, negatives) : ct_synth_make_triplet(t, seed, negatives);
    if (st != CT_OK) goto fail;
    char id[32];
    snprintf(id, sizeof id, "%s-%06ld", split_names[split], idx);
    out->n_paths = out->n_jpeg = 0;
    for (int role = 0; role < 2 + t->n_negatives; role++) {
        const ct_synth_scene *s = role == 0 ? &t->ref : role == 1 ? &t->tgt : &t->neg[role - 2];
        char stem[64];
        if (role < 2)
            snprintf(stem, sizeof stem, "%s-%s", id, role == 0 ? "ref" : "tgt");
        else
            snprintf(stem, sizeof stem, "%s-neg%d", id, role - 2);
        int jpeg;
        st = save_image(cfg, s, split, idx, role, stem, rgb, out->paths[role], sizeof out->paths[0], &jpeg);
        if (st != CT_OK) goto fail;
        out->n_paths++;
        out->n_jpeg += jpeg;
    }
    o = cJSON_CreateObject();
    cJSON *nps = cJSON_CreateArray(), *edits = cJSON_CreateArray();
    if (!o || !nps || !edits) {
        cJSON_Delete(nps);
        cJSON_Delete(edits);
        st = ct_fail(CT_ERR_NOMEM, "synth: cannot build a manifest record");
        goto fail;
    }
    cJSON_AddStringToObject(o, "reference", out->paths[0]);
    cJSON_AddStringToObject(o, "target", out->paths[1]);
    cJSON_AddStringToObject(o, "caption", t->caption);
    for (int i = 0; i < t->n_phrases; i++) cJSON_AddItemToArray(nps, cJSON_CreateString(t->phrases[i]));
    cJSON_AddItemToObject(o, "noun_phrases", nps);
    if (hard) { /* per phrase: reference-grid cells of what it names, and its type */
        cJSON *cells = cJSON_AddArrayToObject(o, "phrase_cells");
        cJSON *types = cJSON_AddArrayToObject(o, "phrase_types");
        for (int i = 0; cells && types && i < t->n_phrases; i++) {
            cJSON *c = cJSON_CreateArray();
            for (int k = 0; c && k < CT_SYNTH_CELLS; k++)
                if (t->phrase_cells[i] >> k & 1) cJSON_AddItemToArray(c, cJSON_CreateNumber(k));
            cJSON_AddItemToArray(cells, c);
            cJSON_AddItemToArray(types, cJSON_CreateString(ct_synth_phrase_type_name(t->phrase_type[i])));
        }
        cJSON_AddNumberToObject(o, "grid", CT_SYNTH_GRID);
    }
    cJSON_AddStringToObject(o, "id", id);
    for (int i = 0; i < t->n_edits; i++)
        cJSON_AddItemToArray(edits, cJSON_CreateString(ct_synth_edit_name(t->edits[i].kind)));
    cJSON_AddItemToObject(o, "edits", edits);
    if (t->n_negatives) {
        cJSON *negs = cJSON_AddArrayToObject(o, split == 0 ? "train_negatives" : "hard_negatives");
        for (int i = 0; negs && i < t->n_negatives; i++)
            cJSON_AddItemToArray(negs, cJSON_CreateString(out->paths[2 + i]));
    }
    out->line = cJSON_PrintUnformatted(o);
    if (!out->line) st = ct_fail(CT_ERR_NOMEM, "synth: cannot print a manifest record");
fail:
    cJSON_Delete(o);
    free(t);
    return st;
}

static ct_status write_split(const ct_synth_config *cfg, int split, long n, ct_synth_stats *stats) {
    const char *name = split_names[split];
    char path[4200], gpath[4200];
    snprintf(path, sizeof path, "%s/images/%s", cfg->out_dir, name);
    ct_status st = mkdir_p(path);
    if (st != CT_OK) return st;
    snprintf(path, sizeof path, "%s/%s.jsonl", cfg->out_dir, name);
    snprintf(gpath, sizeof gpath, "%s/%s_gallery.txt", cfg->out_dir, name);
    FILE *man = fopen(path, "w"), *gal = fopen(gpath, "w");
    item_out *items = calloc(CHUNK, sizeof *items);
    if (!man || !gal || !items) {
        st = !items ? ct_fail(CT_ERR_NOMEM, "synth: cannot allocate a chunk")
                    : ct_fail(CT_ERR_IO, "synth: cannot create %s: %s", !man ? path : gpath, strerror(errno));
        goto fail;
    }
    for (long start = 0; start < n; start += CHUNK) {
        long m = n - start < CHUNK ? n - start : CHUNK;
        ct_status first = CT_OK;
        char msg[512] = "";
#pragma omp parallel
        {
            uint8_t *rgb = malloc((size_t)cfg->size * (size_t)cfg->size * 3);
#pragma omp for schedule(dynamic, 4)
            for (long i = 0; i < m; i++) {
                ct_status s = rgb ? make_item(cfg, split, start + i, rgb, &items[i])
                                  : ct_fail(CT_ERR_NOMEM, "synth: cannot allocate an image");
                if (s != CT_OK) {
#pragma omp critical(synth_err)
                    if (first == CT_OK) {
                        first = s;
                        snprintf(msg, sizeof msg, "%s", ct_error());
                    }
                }
            }
            free(rgb);
        }
        if (first != CT_OK) {
            for (long i = 0; i < m; i++) {
                free(items[i].line);
                items[i].line = NULL;
            }
            st = ct_fail(first, "%s", msg);
            goto fail;
        }
        for (long i = 0; i < m; i++) {
            fputs(items[i].line, man);
            fputc('\n', man);
            for (int k = 0; k < items[i].n_paths; k++) fprintf(gal, "%s\n", items[i].paths[k]);
            stats->images += items[i].n_paths;
            stats->jpeg_images += items[i].n_jpeg;
            stats->gallery[split] += items[i].n_paths;
            free(items[i].line);
            items[i].line = NULL;
        }
        stats->triplets += m;
        if (cfg->progress) cfg->progress(cfg->progress_ctx, name, start + m, n);
    }
    int bad = ferror(man) || ferror(gal);
    int c1 = fclose(man), c2 = fclose(gal);
    man = gal = NULL;
    if (bad || c1 || c2) st = ct_fail(CT_ERR_IO, "synth: writing %s or %s failed", path, gpath);
fail:
    if (man) fclose(man);
    if (gal) fclose(gal);
    free(items);
    return st;
}

static ct_status write_info(const ct_synth_config *cfg, const long counts[3], const ct_synth_stats *stats) {
    char path[4200];
    snprintf(path, sizeof path, "%s/synth.json", cfg->out_dir);
    cJSON *o = cJSON_CreateObject();
    cJSON *splits = cJSON_AddObjectToObject(o, "splits");
    if (!o || !splits) {
        cJSON_Delete(o);
        return ct_fail(CT_ERR_NOMEM, "synth: cannot build synth.json");
    }
    cJSON_AddStringToObject(o, "generator", "ctcir synth-shapes");
    cJSON_AddNumberToObject(o, "format_version", 1);
    cJSON_AddNumberToObject(o, "seed", (double)cfg->seed);
    cJSON_AddNumberToObject(o, "size", cfg->size);
    cJSON_AddNumberToObject(o, "negatives", cfg->negatives);
    if (cfg->variant == CT_SYNTH_HARD) { /* absent: the default variant (files unchanged) */
        cJSON_AddStringToObject(o, "variant", "hard");
        cJSON_AddNumberToObject(o, "train_negatives", cfg->train_negatives);
    }
    cJSON_AddNumberToObject(o, "jpeg_fraction", cfg->jpeg_fraction);
    cJSON_AddNumberToObject(o, "jpeg_quality", cfg->jpeg_quality);
    cJSON_AddStringToObject(o, "gallery",
                            "val/test: reference, target and hard negatives of every query "
                            "(rank with each query's own reference removed, as CIRR does); "
                            "train: references and targets");
    for (int s = 0; s < 3; s++) {
        cJSON *sp = cJSON_AddObjectToObject(splits, split_names[s]);
        if (!sp) continue;
        cJSON_AddNumberToObject(sp, "triplets", (double)counts[s]);
        cJSON_AddNumberToObject(sp, "gallery", (double)stats->gallery[s]);
    }
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) return ct_fail(CT_ERR_NOMEM, "synth: cannot print synth.json");
    FILE *f = fopen(path, "w");
    ct_status st = CT_OK;
    if (!f)
        st = ct_fail(CT_ERR_IO, "synth: cannot create %s: %s", path, strerror(errno));
    else {
        fprintf(f, "%s\n", text);
        if (fclose(f) != 0) st = ct_fail(CT_ERR_IO, "synth: writing %s failed", path);
    }
    free(text);
    return st;
}

ct_status ct_synth_write_dataset(const ct_synth_config *cfg, ct_synth_stats *stats) {
    ct_synth_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!cfg || !cfg->out_dir || !cfg->out_dir[0]) return ct_fail(CT_ERR_ARG, "synth: no output directory");
    long counts[3] = {cfg->n_train, cfg->n_val, cfg->n_test};
    for (int s = 0; s < 3; s++)
        if (counts[s] < 0 || counts[s] > MAX_TRIPLETS)
            return ct_fail(CT_ERR_ARG, "synth: %s: %ld triplets (expected 0..%ld)", split_names[s], counts[s],
                           MAX_TRIPLETS);
    if (cfg->variant != CT_SYNTH_DEFAULT && cfg->variant != CT_SYNTH_HARD)
        return ct_fail(CT_ERR_ARG, "synth: unknown variant %d", (int)cfg->variant);
    if (cfg->train_negatives < 0 || cfg->train_negatives > CT_SYNTH_MAX_NEGATIVES ||
        (cfg->train_negatives && cfg->variant != CT_SYNTH_HARD))
        return ct_fail(CT_ERR_ARG, "synth: %d training negatives (expected 0, or 0..%d with the hard variant)",
                       cfg->train_negatives, CT_SYNTH_MAX_NEGATIVES);
    if (cfg->negatives < 0 || cfg->negatives > CT_SYNTH_MAX_NEGATIVES)
        return ct_fail(CT_ERR_ARG, "synth: %d negatives per query (expected 0..%d)", cfg->negatives,
                       CT_SYNTH_MAX_NEGATIVES);
    if (cfg->size < 16 || cfg->size > 1024)
        return ct_fail(CT_ERR_ARG, "synth: image size %d (expected 16..1024)", cfg->size);
    if (!(cfg->jpeg_fraction >= 0 && cfg->jpeg_fraction <= 1))
        return ct_fail(CT_ERR_ARG, "synth: JPEG fraction %g (expected 0..1)", cfg->jpeg_fraction);
    if (cfg->jpeg_quality < 1 || cfg->jpeg_quality > 100)
        return ct_fail(CT_ERR_ARG, "synth: JPEG quality %d (expected 1..100)", cfg->jpeg_quality);
    ct_status st = mkdir_p(cfg->out_dir);
    for (int s = 0; s < 3 && st == CT_OK; s++)
        if (counts[s] > 0) st = write_split(cfg, s, counts[s], stats);
    if (st == CT_OK) st = write_info(cfg, counts, stats);
    return st;
}
