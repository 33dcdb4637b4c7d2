/* Pointing-game and attention-mass grounding accuracy of noun phrases (see grounding.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/json.h"
#include "ctcir/explain.h"
#include "ctcir/grounding.h"

void ct_grounding_patch_mask(unsigned cells, int G, int g, unsigned char *inside) {
    for (int r = 0; r < g; r++)
        for (int c = 0; c < g; c++) {
            int cr = (2 * r + 1) * G / (2 * g), cc = (2 * c + 1) * G / (2 * g); /* floor((r + 0.5) G / g) */
            inside[r * g + c] = (unsigned char)((cells >> (cr * G + cc)) & 1u);
        }
}

static int type_index(const char *name) {
    for (int t = 0; t < CT_SYNTH_N_PHRASE_TYPES; t++)
        if (name && !strcmp(name, ct_synth_phrase_type_name((ct_synth_phrase_type)t))) return t;
    return -1;
}

/* One record: its reference image, caption and phrases with cells and types. */
/* The isolated map of phrase p over the g*g patches into iso (0: the phrase has no tokens). */
static ct_status isolated_map(const ct_model *m, const float *pixels, const char *p, float *iso, int P, int *ok) {
    ct_explain_result r = {0};
    ct_status s = ct_explain(&r, m, pixels, p, &p, 1);
    if (s) return s;
    *ok = r.start[0] >= 0 && r.grid * r.grid == P;
    if (*ok) memcpy(iso, r.maps, (size_t)P * sizeof *iso);
    ct_explain_result_free(&r);
    return CT_OK;
}

static ct_status score_record(const ct_model *m, const cJSON *o, const char *path, long line, const char *root,
                              float *pixels, bool isolated, ct_grounding_stats *st) {
    const char *ref = ct_json_str(o, "reference"), *caption = ct_json_str(o, "caption");
    const cJSON *nps = cJSON_GetObjectItemCaseSensitive(o, "noun_phrases");
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(o, "phrase_cells");
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(o, "phrase_types");
    const cJSON *grid = cJSON_GetObjectItemCaseSensitive(o, "grid");
    int n = cJSON_IsArray(nps) ? cJSON_GetArraySize(nps) : -1;
    if (!ref || !caption || n < 0)
        return ct_fail(CT_ERR_FORMAT, "grounding: %s:%ld: needs \"reference\", \"caption\" and \"noun_phrases\"", path,
                       line);
    if (!cJSON_IsArray(cells) || !cJSON_IsArray(types) || cJSON_GetArraySize(cells) != n ||
        cJSON_GetArraySize(types) != n || !cJSON_IsNumber(grid))
        return ct_fail(
            CT_ERR_FORMAT,
            "grounding: %s:%ld: no \"phrase_cells\"/\"phrase_types\" lists as long as \"noun_phrases\", or no "
            "\"grid\" (a split of `ctcir synth-shapes --variant hard` has them)",
            path, line);
    int G = grid->valueint;
    if (G < 1 || G > 4) return ct_fail(CT_ERR_FORMAT, "grounding: %s:%ld: grid %d (expected 1..4)", path, line, G);
    const char **ph = malloc(((size_t)n + 1) * sizeof *ph);
    unsigned *mask = malloc(((size_t)n + 1) * sizeof *mask);
    int *type = malloc(((size_t)n + 1) * sizeof *type);
    ct_explain_result r = {0};
    unsigned char *inside = NULL;
    float *iso = NULL;
    ct_status s = CT_OK;
    if (!ph || !mask || !type) {
        s = ct_fail(CT_ERR_NOMEM, "grounding: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const cJSON *p = cJSON_GetArrayItem(nps, i), *c = cJSON_GetArrayItem(cells, i);
        ph[i] = cJSON_IsString(p) ? p->valuestring : NULL;
        type[i] =
            type_index(cJSON_IsString(cJSON_GetArrayItem(types, i)) ? cJSON_GetArrayItem(types, i)->valuestring : NULL);
        mask[i] = 0;
        if (!ph[i] || type[i] < 0 || !cJSON_IsArray(c)) {
            s = ct_fail(CT_ERR_FORMAT,
                        "grounding: %s:%ld: phrase %d: not a string, a known type (object, "
                        "attribute+object, relation, background) and a list of cells",
                        path, line, i);
            goto done;
        }
        const cJSON *x;
        cJSON_ArrayForEach(x, c) {
            if (!cJSON_IsNumber(x) || x->valueint < 0 || x->valueint >= G * G) {
                s = ct_fail(CT_ERR_FORMAT, "grounding: %s:%ld: phrase %d: cell outside the %dx%d grid", path, line, i,
                            G, G);
                goto done;
            }
            mask[i] |= 1u << x->valueint;
        }
    }
    char img[4200];
    snprintf(img, sizeof img, "%s/%s", root, ref);
    if ((s = ct_model_load_image(m, img, pixels))) goto done;
    if ((s = ct_explain(&r, m, pixels, caption, ph, n))) goto done;
    const int g = r.grid, P = g * g;
    if (!(inside = malloc((size_t)P)) || !(iso = malloc((size_t)P * sizeof *iso))) {
        s = ct_fail(CT_ERR_NOMEM, "grounding: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (!mask[i]) {
            st->no_cells++;
            continue;
        }
        if (r.start[i] < 0) {
            st->unmatched++;
            continue;
        }
        ct_grounding_patch_mask(mask[i], G, g, inside);
        const float *map = r.maps + (size_t)i * P;
        int peak = 0, n_in = 0;
        double in = 0, all = 0;
        for (int p = 0; p < P; p++) {
            if (map[p] > map[peak]) peak = p;
            all += map[p];
            if (inside[p]) in += map[p], n_in++;
        }
        if (!n_in) {
            st->no_cells++;
            continue;
        } /* no patch centre inside the cells */
        int iso_ok = 0;
        if (isolated && (s = isolated_map(m, pixels, ph[i], iso, P, &iso_ok))) goto done;
        if (iso_ok) {
            double isum = 0, d = 0, dn = 0;
            int ipeak = 0;
            for (int p = 0; p < P; p++) {
                isum += iso[p];
                if (iso[p] > iso[ipeak]) ipeak = p;
            }
            for (int p = 0; p < P; p++) {
                d += fabs((double)map[p] - iso[p]);
                dn += fabs((all > 0 ? map[p] / all : 0) - (isum > 0 ? iso[p] / isum : 0));
            }
            st->ctx_level += all / P, st->iso_level += isum / P;
            st->cc_abs += d / P, st->cc_abs_patches += dn / P;
            st->iso_pointing += inside[ipeak];
        }
        for (int k = 0; k < 2; k++) {
            int row = k ? CT_GROUNDING_ALL : type[i];
            st->phrases[row]++;
            st->pointing[row] += inside[peak];
            st->mass[row] += all > 0 ? in / all : 0;
            st->chance[row] += (double)n_in / P;
        }
    }
    st->queries++;
done:
    ct_explain_result_free(&r);
    free(ph), free(mask), free(type), free(inside), free(iso);
    return s;
}

ct_status ct_grounding_eval(const ct_model *m, const char *path, const char *image_root, long max_queries,
                            bool isolated, ct_grounding_stats *st) {
    memset(st, 0, sizeof *st);
    char *text = NULL;
    size_t len = 0;
    ct_status s = ct_read_file(path, &text, &len, (size_t)1 << 32);
    if (s) return s;
    const int S = ct_model_image_size(m);
    float *pixels = malloc((size_t)3 * S * S * sizeof *pixels);
    if (!pixels) {
        free(text);
        return ct_fail(CT_ERR_NOMEM, "grounding: out of memory");
    }
    long line = 0;
    for (char *p = text, *end = text + len; p < end && !s && (max_queries <= 0 || st->queries < max_queries);) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        size_t k = 0;
        while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r')) k++;
        if (k < n) {
            cJSON *o = NULL;
            if (!(s = ct_json_parse(path, p, n, (size_t)line - 1, &o)))
                s = score_record(m, o, path, line, image_root, pixels, isolated, st);
            cJSON_Delete(o);
        }
        p += n + 1;
    }
    free(pixels);
    free(text);
    if (!s && !st->phrases[CT_GROUNDING_ALL])
        s = ct_fail(CT_ERR_FORMAT, "grounding: %s: no phrase names cells of its reference image", path);
    return s;
}

void ct_grounding_for_each(const ct_grounding_stats *g, bool isolated, void (*fn)(void *ctx, const char *key, double v),
                           void *ctx) {
    static const char *const what[2] = {"pointing", "mass"};
    for (int t = 0; t <= CT_GROUNDING_ALL; t++) {
        const long n = g->phrases[t];
        if (!n) continue;
        const char *name = t == CT_GROUNDING_ALL ? NULL : ct_synth_phrase_type_name((ct_synth_phrase_type)t);
        const double v[2] = {100.0 * g->pointing[t] / n, 100.0 * g->mass[t] / n}, ch = 100.0 * g->chance[t] / n;
        char key[96], pre[48];
        snprintf(pre, sizeof pre, "%s%s", name ? name : "", name ? "/" : "");
        for (int k = 0; k < 2; k++) {
            snprintf(key, sizeof key, "grounding/%s%s", pre, what[k]);
            fn(ctx, key, v[k]);
            snprintf(key, sizeof key, "grounding/chance/%s%s", pre, what[k]);
            fn(ctx, key, ch); /* the same for both: patches inside / all */
        }
        snprintf(key, sizeof key, "grounding/%sphrases", pre);
        fn(ctx, key, (double)n);
    }
    const long n = g->phrases[CT_GROUNDING_ALL];
    if (!isolated || !n) return;
    static const char *const keys[5] = {"grounding/cc/ctx_level", "grounding/cc/iso_level", "grounding/cc/abs",
                                        "grounding/cc/abs_patches", "grounding/isolated/pointing"};
    const double v[5] = {g->ctx_level / n, g->iso_level / n, g->cc_abs / n, g->cc_abs_patches / n,
                         100.0 * g->iso_pointing / n};
    for (int k = 0; k < 5; k++) fn(ctx, keys[k], v[k]);
}

void ct_grounding_print(FILE *out, const ct_grounding_stats *g, bool isolated) {
    fprintf(out,
            "grounding (%ld queries; %ld phrases scored, %ld naming nothing in the reference, %ld not found in the "
            "caption)\n",
            g->queries, g->phrases[CT_GROUNDING_ALL], g->no_cells, g->unmatched);
    fprintf(out, "  %-18s %8s %8s %8s %8s\n", "phrase type", "phrases", "pointing", "mass", "chance");
    for (int t = 0; t <= CT_GROUNDING_ALL; t++) {
        const char *name = t == CT_GROUNDING_ALL ? "all" : ct_synth_phrase_type_name((ct_synth_phrase_type)t);
        const long n = g->phrases[t];
        fprintf(out, "  %-18s %8ld %8.2f %8.2f %8.2f\n", name, n, n ? 100.0 * g->pointing[t] / n : 0,
                n ? 100.0 * g->mass[t] / n : 0, n ? 100.0 * g->chance[t] / n : 0);
    }
    const long n = g->phrases[CT_GROUNDING_ALL];
    if (isolated && n)
        fprintf(out,
                "  isolated maps: mean patch value a_ctx %.4f, a_iso %.4f; mean |a_ctx - a_iso| %.4f "
                "(normalised per map: %.4f); isolated pointing %.2f\n",
                g->ctx_level / n, g->iso_level / n, g->cc_abs / n, g->cc_abs_patches / n, 100.0 * g->iso_pointing / n);
}
