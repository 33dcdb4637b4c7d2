/* Grounding accuracy of the fusion's noun-phrase attention maps on a split whose records say
 * where each phrase's object is (`ctcir synth-shapes --variant hard`: "phrase_cells",
 * "phrase_types", "grid"; docs/synthetic.md). For every phrase that names cells of the
 * reference image, the map is the one `ctcir explain` draws (ct_explain: the in-context mean
 * attention of the caption's query forward over the phrase's tokens, CLS dropped, one value
 * per patch), and
 *   pointing: its peak patch lies in the phrase's cells (the "pointing game");
 *   mass:     the share of the map (over the patches) inside the phrase's cells.
 * Scene cells map to patches by the patch centre: patch (r, c) of a g x g grid belongs to
 * scene cell (floor((r + 0.5) G / g), floor((c + 0.5) G / g)) of the G x G scene grid (the
 * image is square, as synth-shapes writes them). Chance level of both is the share of the
 * patches inside the cells (a uniform map / a uniformly random peak). */
#ifndef CTCIR_GROUNDING_H
#define CTCIR_GROUNDING_H

#include <stdbool.h>
#include <stdio.h>

#include "ctcir/model.h"
#include "ctcir/synth.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CT_GROUNDING_ALL CT_SYNTH_N_PHRASE_TYPES /* the row of every type together */

typedef struct {
    /* per phrase type, then all: phrases scored and the sums over them of the hit (0/1), the
     * mass fraction and the chance level */
    long phrases[CT_SYNTH_N_PHRASE_TYPES + 1];
    double pointing[CT_SYNTH_N_PHRASE_TYPES + 1], mass[CT_SYNTH_N_PHRASE_TYPES + 1],
        chance[CT_SYNTH_N_PHRASE_TYPES + 1];
    /* with `isolated`: per scored phrase also its isolated map (the fusion run with the phrase
     * alone as the text, as the CC loss's a_iso): sums of the mean patch value of a_ctx and
     * a_iso, of the CC term mean_p |a_ctx - a_iso| (cc_normalize none) and of the same with
     * both maps divided by their sums (patches), and the isolated map's pointing hits */
    double ctx_level, iso_level, cc_abs, cc_abs_patches, iso_pointing;
    long queries;
    long no_cells;  /* phrases naming nothing in the reference (an added object): not scored */
    long unmatched; /* phrases whose tokens were not found in the caption's: not scored */
} ct_grounding_stats;

/* Scores every record of the JSONL manifest `path` (image paths relative to `image_root`);
 * at most max_queries records when > 0. A record without the grounding keys is an error
 * naming the file and line. */
ct_status ct_grounding_eval(const ct_model *m, const char *path, const char *image_root, long max_queries,
                            bool isolated, ct_grounding_stats *st);

/* The patches [g*g] (1: inside) of the scene cells `cells` (bit c: cell c of a G x G grid). */
void ct_grounding_patch_mask(unsigned cells, int G, int g, unsigned char *inside);

/* The metric keys of `eval --json` for `st`: fn(key, value) for grounding/pointing,
 * grounding/mass, grounding/<type>/{pointing,mass}, grounding/chance/..., grounding/phrases,
 * and with `isolated` grounding/cc/... and grounding/isolated/pointing. */
void ct_grounding_for_each(const ct_grounding_stats *st, bool isolated,
                           void (*fn)(void *ctx, const char *key, double v), void *ctx);
/* The human-readable table of `st`. */
void ct_grounding_print(FILE *out, const ct_grounding_stats *st, bool isolated);

#ifdef __cplusplus
}
#endif
#endif
