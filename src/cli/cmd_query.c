/* ctcir query: the top-k gallery images for one (image, text) query, optionally
 * drawn as a results grid. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "model/model.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "ctcir/image.h"
#include "ctcir/image_draw.h"
#include "ctcir/index.h"
#include "core/timer.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: ctcir query --model CKPT --index INDEX --image FILE --text STR [-k 10] [--json]\n"
            "                   [--grid FILE.png --images DIR [--target NAME]] [-t N]\n\n"
            "Embeds f(image, text) and prints the k most similar gallery entries (cosine), best\n"
            "first: `rank name score` lines, or with --json one object {\"results\": [{\"rank\",\n"
            "\"name\", \"score\"}], \"seconds\"}. Exact search over the whole index (SGEMM + heap).\n\n"
            "  -k N            results (default 10)\n"
            "  --grid FILE     also draw the query image and the top-k results into one PNG\n"
            "  --images DIR    where the gallery names resolve to files (DIR/<name>.<png|jpg|...>),\n"
            "                  needed by --grid\n"
            "  --target NAME   mark this gallery entry green in the grid (e.g. the known answer)\n"
            "  -t, --threads N OpenBLAS/OpenMP threads (default: all cores)\n");
}

/* DIR/name with the first image extension that exists. */
static ct_status resolve(char *out, size_t cap, const char *dir, const char *name) {
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".ppm", ".pgm", ".pnm", ".psd", ""};
    struct stat st;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(out, cap, "%s/%s%s", dir, name, ext[i]);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) return CT_OK;
    }
    return ct_fail(CT_ERR_IO, "query: no image file for gallery entry '%s' under %s", name, dir);
}

static ct_status draw_grid(const char *path, const char *query_image, const char *text, const ct_index *ix,
                           const int *idx, const float *score, int k, const char *images, const char *target) {
    ct_image *imgs = calloc((size_t)k + 1, sizeof *imgs);
    ct_grid_cell *cells = calloc((size_t)k + 1, sizeof *cells);
    char (*labels)[96] = calloc((size_t)k + 1, sizeof *labels);
    ct_status s = imgs && cells && labels ? CT_OK : ct_fail(CT_ERR_NOMEM, "query: out of memory");
    if (!s) s = ct_image_load(&imgs[0], query_image);
    if (!s) cells[0] = (ct_grid_cell){&imgs[0], "QUERY", CT_MARK_QUERY};
    char file[4200];
    for (int i = 0; i < k && !s; i++) {
        const char *name = ct_index_name(ix, idx[i]);
        if ((s = resolve(file, sizeof file, images, name))) break;
        if ((s = ct_image_load(&imgs[i + 1], file))) break;
        snprintf(labels[i + 1], sizeof labels[0], "%d. %.3f", i + 1, score[i]);
        cells[i + 1] = (ct_grid_cell){&imgs[i + 1], labels[i + 1],
                                      target && !strcmp(name, target) ? CT_MARK_CORRECT : CT_MARK_NONE};
    }
    if (!s) {
        ct_image out = {0};
        ct_grid_opts go = {.cols = k + 1 <= 6 ? k + 1 : 6, .cell = 128, .title = text, .label_lines = 1};
        s = ct_draw_grid(&out, cells, k + 1, &go);
        if (!s) s = ct_image_save_png(&out, path);
        ct_image_free(&out);
    }
    for (int i = 0; i <= k && imgs; i++) ct_image_free(&imgs[i]);
    free(imgs), free(cells), free(labels);
    return s;
}

int cmd_query(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    enum { O_MODEL = 256, O_INDEX, O_IMAGE, O_TEXT, O_JSON, O_GRID, O_IMAGES, O_TARGET };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL}, {"index", required_argument, 0, O_INDEX},
        {"image", required_argument, 0, O_IMAGE}, {"text", required_argument, 0, O_TEXT},
        {"json", no_argument, 0, O_JSON}, {"grid", required_argument, 0, O_GRID},
        {"images", required_argument, 0, O_IMAGES}, {"target", required_argument, 0, O_TARGET},
        {"threads", required_argument, 0, 't'}, {0, 0, 0, 0}};
    const char *model = NULL, *index = NULL, *image = NULL, *text = NULL, *grid = NULL, *images = NULL, *target = NULL;
    long k = 10, threads = 0;
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "k:t:", opts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model = optarg; break;
        case O_INDEX: index = optarg; break;
        case O_IMAGE: image = optarg; break;
        case O_TEXT: text = optarg; break;
        case O_JSON: json = true; break;
        case O_GRID: grid = optarg; break;
        case O_IMAGES: images = optarg; break;
        case O_TARGET: target = optarg; break;
        case 'k': if (!cli_parse_int(optarg, &k) || k < 1 || k > 100000) return cli_usage_error("query", "-k: 1..100000"); break;
        case 't': if (!cli_parse_int(optarg, &threads) || threads < 0) return cli_usage_error("query", "--threads: a number >= 0"); break;
        default: return cli_usage_error("query", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("query", "unexpected argument '%s'", argv[optind]);
    if (!model || !index || !image || !text) return cli_usage_error("query", "--model, --index, --image and --text are required");
    if (grid && !images) return cli_usage_error("query", "--grid needs --images DIR to find the result images");
    cli_set_threads((int)threads);
    ct_model *m = NULL;
    ct_index *ix = NULL;
    ct_encoder *e = NULL;
    float *pixels = NULL, *score = NULL, q[4096];
    int *idx = NULL;
    int64_t ids[CT_CONTEXT_LENGTH];
    double t0 = ct_now_s();
    ct_status s = ct_model_load(&m, model, NULL, NULL, 0);
    if (!s) s = ct_index_open(&ix, index, ct_model_identity(m), false);
    if (s) goto done;
    const int P = ct_model_embed_dim(m), S = ct_model_image_size(m);
    const int64_t G = ct_index_rows(ix);
    if (P > 4096) { s = ct_fail(CT_ERR_UNSUPPORTED, "query: embedding dim %d > 4096", P); goto done; }
    if (k > G) k = G;
    pixels = malloc((size_t)3 * S * S * sizeof(float));
    idx = malloc((size_t)k * sizeof *idx);
    score = malloc((size_t)k * sizeof *score);
    if (!pixels || !idx || !score) { s = ct_fail(CT_ERR_NOMEM, "query: out of memory"); goto done; }
    if ((s = ct_model_load_image(m, image, pixels)) || (s = ct_model_tokenize(m, text, ids))) goto done;
    if ((s = ct_encoder_new(&e, m, 1)) || (s = ct_encode_query(e, pixels, ids, 1, q))) goto done;
    double t1 = ct_now_s();
    if ((s = ct_topk(idx, score, q, 1, ct_index_data(ix), ct_index_dtype(ix), G, P, (int)k))) goto done;
    double t_search = ct_now_s() - t1;
    if (json) {
        printf("{\"results\": [");
        for (int i = 0; i < k; i++) {
            printf("%s{\"rank\": %d, \"name\": ", i ? ", " : "", i + 1);
            cli_json_string(stdout, ct_index_name(ix, idx[i]));
            printf(", \"score\": %.6f}", score[i]);
        }
        printf("], \"gallery_size\": %lld, \"search_seconds\": %.6f, \"seconds\": %.4f}\n", (long long)G, t_search, ct_now_s() - t0);
    } else {
        for (int i = 0; i < k; i++) printf("%d\t%s\t%.6f\n", i + 1, ct_index_name(ix, idx[i]), score[i]);
    }
    fprintf(stderr, "query: top-%ld of %lld in %.2f ms (search), %.2f s in all\n", k, (long long)G, t_search * 1e3, ct_now_s() - t0);
    if (grid) {
        if ((s = draw_grid(grid, image, text, ix, idx, score, (int)k, images, target))) goto done;
        fprintf(stderr, "query: grid written to %s\n", grid);
    }
done:
    free(pixels), free(idx), free(score);
    ct_encoder_free(e);
    ct_index_close(ix);
    ct_model_free(m);
    return s ? cli_fail("query", s) : CLI_OK;
}
