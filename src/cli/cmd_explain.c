/* ctcir explain: the query image beside one attention heat map per noun phrase (the paper's
 * Figures 5 and 6), plus a JSON summary on stdout. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "ctcir/explain.h"
#include "ctcir/image.h"
#include "ctcir/image_draw.h"
#include "ctcir/log.h"
#include "ctcir/model.h"
#include "ctcir/nps.h"

#define MAX_PHRASES 64

typedef struct {
    const char *model, *image, *text, *out;
    const char *phrases[MAX_PHRASES];
    int n_given, max_phrases, panel, threads;
    double alpha;
} explain_opts;

/* CLI_PARSED to go on, else the exit code (help printed, or a usage error). */
static int parse(explain_opts *o, int argc, char **argv) {
    ct_cir_options mo; /* at most the model's l (max_noun_phrases) phrases by default */
    ct_cir_options_default(&mo);
    *o = (explain_opts){.max_phrases = mo.max_noun_phrases, .panel = 224, .alpha = 0.5};
    cli_list phrases = {0};
    long max_phrases = o->max_phrases, panel = o->panel, threads = 0;
    const char *precision = NULL;
    const cli_opt opts[] = {
        {"model", 'm', CLI_STR, &o->model, "DIR", "ctcir checkpoint folder or plain CLIP folder (head seeded)",
         .required = true},
        {"image", 0, CLI_STR, &o->image, "FILE", "query image", .required = true},
        {"text", 0, CLI_STR, &o->text, "STR", "modification text", .required = true},
        {"out", 'o', CLI_STR, &o->out, "FILE.png", "output picture", .required = true},
        {"phrase", 'p', CLI_LIST, &phrases, "STR",
         "a phrase to show; repeatable (default: the noun phrases of --text)"},
        {"max-phrases", 0, CLI_INT, &max_phrases, "N", "at most N extracted phrases", 1, MAX_PHRASES},
        {"panel", 0, CLI_INT, &panel, "PX", "panel side in pixels", 16, 1024},
        {"alpha", 0, CLI_FLOAT, &o->alpha, "A", "heat map opacity", 0, 1},
        CLI_OPT_THREADS(&threads),
        CLI_OPT_PRECISION_ROW(&precision),
        {0}};
    const cli_cmd cmd = {"explain",
                         "usage: ctcir explain --model DIR --image FILE --text STR --out FILE.png\n"
                         "                     [--max-phrases N] [--phrase STR]... [--panel PX] [--alpha A] [-t N]\n\n"
                         "Draws the query image (as the model sees it: CLIP resize + centre crop) beside one heat map\n"
                         "per noun phrase of the text: the fusion's attention map of the query forward (mean over\n"
                         "layers and heads), averaged over the phrase's tokens in the caption (located as training\n"
                         "locates them), CLS row dropped, on the patch grid, upsampled bilinearly and overlaid with\n"
                         "the jet colour map (each map scaled to its own min..max). Prints JSON on stdout: the\n"
                         "phrases with their token spans, the unmatched ones, and the output path.\n",
                         opts};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc == CLI_PARSED && precision) {
        int prc = cli_set_precision("explain", precision);
        if (prc) rc = prc;
    }
    if (rc == CLI_PARSED && phrases.n > MAX_PHRASES)
        rc = cli_usage_error("explain", "at most %d --phrase", MAX_PHRASES);
    for (int i = 0; i < phrases.n && i < MAX_PHRASES; i++) o->phrases[i] = phrases.v[i];
    o->n_given = phrases.n < MAX_PHRASES ? phrases.n : MAX_PHRASES;
    o->max_phrases = (int)max_phrases, o->panel = (int)panel, o->threads = (int)threads;
    cli_list_free(&phrases);
    return rc;
}

/* The preprocessed crop back as an 8-bit picture (what the patches cover). */
static ct_status model_view(ct_image *view, float *pixels, const ct_image *img, int S) {
    static const float zero[3] = {0, 0, 0}, one[3] = {1, 1, 1};
    ct_status s = ct_clip_preprocess_norm(pixels, img, S, S, zero, one, NULL);
    if (s) return s;
    if ((s = ct_draw_canvas(view, S, S, NULL))) return s;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S * S; i++) {
            float u = pixels[(size_t)c * S * S + i] * 255.0f + 0.5f;
            view->rgb[(size_t)i * 3 + c] = (uint8_t)(u < 0 ? 0 : u > 255 ? 255 : u);
        }
    return CT_OK;
}

static char *summary_json(const explain_opts *o, const char *const *phrases, int n, const ct_explain_result *r) {
    cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray(), *miss = cJSON_CreateArray();
    char *text = NULL;
    if (!root || !list || !miss) goto done;
    cJSON_AddItemToObject(root, "phrases", list);
    cJSON_AddItemToObject(root, "unmatched", miss);
    for (int i = 0; i < n; i++) {
        if (r->start[i] < 0) {
            cJSON_AddItemToArray(miss, cJSON_CreateString(phrases[i]));
            continue;
        }
        cJSON *p = cJSON_CreateObject();
        if (!p) goto done;
        cJSON_AddItemToArray(list, p);
        cJSON_AddStringToObject(p, "phrase", phrases[i]);
        cJSON_AddItemToObject(p, "span", cJSON_CreateIntArray((const int[]){r->start[i], r->end[i]}, 2));
        /* the hottest patch, as (row, column) of the grid */
        const float *map = r->maps + (size_t)i * r->grid * r->grid;
        int best = 0;
        for (int k = 1; k < r->grid * r->grid; k++)
            if (map[k] > map[best]) best = k;
        cJSON_AddItemToObject(p, "peak_patch", cJSON_CreateIntArray((const int[]){best / r->grid, best % r->grid}, 2));
        char peak[32];
        snprintf(peak, sizeof peak, "%.6g", (double)map[best]);
        cJSON_AddNumberToObject(p, "peak", strtod(peak, NULL));
    }
    cJSON_AddStringToObject(root, "text", o->text);
    cJSON_AddNumberToObject(root, "grid", r->grid);
    cJSON_AddStringToObject(root, "out", o->out);
    list = miss = NULL;
    text = cJSON_PrintUnformatted(root);
done:
    cJSON_Delete(list), cJSON_Delete(miss), cJSON_Delete(root);
    return text;
}

int cmd_explain(int argc, char **argv) {
    explain_opts o;
    int prc = parse(&o, argc, argv);
    if (prc != CLI_PARSED) return prc;
    cli_set_threads(o.threads);
    ct_model *m = NULL;
    ct_image img = {0}, view = {0}, canvas = {0};
    ct_image *panels = NULL;
    ct_grid_cell *cells = NULL;
    char **found = NULL, *json = NULL;
    int n_found = 0, rc = CLI_OK;
    float *pixels = NULL;
    ct_explain_result r = {0};
    const char *const *phrases = o.phrases;
    int n = o.n_given, S;
    ct_status s;
    if ((s = ct_image_load(&img, o.image))) goto fail;
    if ((s = ct_model_load(&m, o.model, NULL, NULL, 0))) goto fail;
    S = ct_model_image_size(m);
    if (n == 0) {
        if ((s = ct_noun_phrases(o.text, o.max_phrases, &found, &n_found))) goto fail;
        phrases = (const char *const *)found;
        n = n_found;
    }
    pixels = malloc((size_t)3 * S * S * sizeof *pixels);
    panels = calloc((size_t)n + 1, sizeof *panels);
    cells = calloc((size_t)n + 1, sizeof *cells);
    if (!pixels || !panels || !cells) {
        s = ct_fail(CT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((s = model_view(&view, pixels, &img, S))) goto fail;
    if ((s = ct_model_load_image(m, o.image, pixels))) goto fail;
    if ((s = ct_explain(&r, m, pixels, o.text, phrases, n))) goto fail;
    /* panels: the query, then one overlay per matched phrase */
    if ((s = ct_image_resize_bicubic(&panels[0], &view, o.panel, o.panel))) goto fail;
    cells[0] = (ct_grid_cell){&panels[0], "query", CT_MARK_QUERY};
    int n_cells = 1;
    for (int i = 0; i < n; i++) {
        if (r.start[i] < 0) continue;
        s = ct_draw_heatmap(&panels[n_cells], &panels[0], r.maps + (size_t)i * r.grid * r.grid, r.grid, r.grid,
                            (float)o.alpha, 0.0f, 0.0f);
        if (s) goto fail;
        cells[n_cells] = (ct_grid_cell){&panels[n_cells], phrases[i], CT_MARK_NONE};
        n_cells++;
    }
    ct_grid_opts go = {.cols = 0, .cell = o.panel, .label_lines = 2, .title = o.text};
    if ((s = ct_draw_grid(&canvas, cells, n_cells, &go))) goto fail;
    if ((s = ct_image_save_png(&canvas, o.out))) goto fail;
    if (!(json = summary_json(&o, phrases, n, &r))) {
        s = ct_fail(CT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    printf("%s\n", json);
    ct_log(CT_LOG_INFO, "explain: %d phrase(s), %d matched, %dx%d patch grid -> %s\n", n, n_cells - 1, r.grid, r.grid,
           o.out);
    goto done;
fail:
    rc = cli_fail("explain", s);
done:
    for (int i = 0; panels && i <= n; i++) ct_image_free(&panels[i]);
    free(panels), free(cells), free(pixels), free(json);
    ct_image_free(&img), ct_image_free(&view), ct_image_free(&canvas);
    ct_explain_result_free(&r);
    ct_noun_phrases_free(found, n_found);
    ct_model_free(m);
    return rc;
}
