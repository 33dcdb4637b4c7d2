/* ctcir query: the top-k gallery images for one (image, text) query, or for every query of
 * a JSON-lines file in one process; optionally drawn as a results grid. Follows eval's
 * protocol where asked: excluded names (the query's own reference) are not ranked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "ctcir/image.h"
#include "ctcir/image_draw.h"
#include "ctcir/index.h"
#include "ctcir/log.h"
#include "ctcir/model.h"
#include "ctcir/runtime.h"
#include "ctcir/tokenizer.h"

#define MAX_K          100000
#define MAX_QUERY_LINE (1 << 20)

/* DIR/name with the first image extension that exists. */
static ct_status resolve(char *out, size_t cap, const char *dir, const char *name) {
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga",
                                      ".ppm", ".pgm", ".pnm",  ".psd", ""};
    struct stat st;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(out, cap, "%s/%s%s", dir, name, ext[i]);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) return CT_OK;
    }
    return ct_fail(CT_ERR_IO, "query: no image file for gallery entry '%s' under %s", name, dir);
}

static ct_status draw_grid(const char *path, const char *query_image, const char *text, const ct_index_set *ix,
                           const int *idx, const float *score, int k, const char *images, int target_row) {
    ct_image *imgs = calloc((size_t)k + 1, sizeof *imgs);
    ct_grid_cell *cells = calloc((size_t)k + 1, sizeof *cells);
    char(*labels)[96] = calloc((size_t)k + 1, sizeof *labels);
    ct_status s = imgs && cells && labels ? CT_OK : ct_fail(CT_ERR_NOMEM, "query: out of memory");
    if (!s) s = ct_image_load(&imgs[0], query_image);
    if (!s) cells[0] = (ct_grid_cell){&imgs[0], "QUERY", CT_MARK_QUERY};
    char file[4200];
    for (int i = 0; i < k && !s; i++) {
        const char *name = ct_index_set_name(ix, idx[i]);
        if ((s = resolve(file, sizeof file, images, name))) break;
        if ((s = ct_image_load(&imgs[i + 1], file))) break;
        snprintf(labels[i + 1], sizeof labels[0], "%d. %.3f", i + 1, score[i]);
        cells[i + 1] =
            (ct_grid_cell){&imgs[i + 1], labels[i + 1], idx[i] == target_row ? CT_MARK_CORRECT : CT_MARK_NONE};
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

/* The model, the index and the buffers every query reuses. */
typedef struct {
    ct_model *m;
    ct_index_set *ix; /* one index, or several shards used as one gallery */
    ct_encoder *e;
    int P, S;
    int64_t G;
    float *pixels, *q, *score;
    int *idx;
    unsigned char *excluded; /* [G] */
} engine;

static void engine_free(engine *g) {
    free(g->pixels), free(g->q), free(g->score), free(g->idx), free(g->excluded);
    ct_encoder_free(g->e);
    ct_index_set_close(g->ix);
    ct_model_free(g->m);
}

static ct_status engine_open(engine *g, const char *model, const cli_list *index) {
    memset(g, 0, sizeof *g);
    ct_status s = ct_model_load(&g->m, model, NULL, NULL, 0);
    if (!s) s = ct_index_set_open(&g->ix, index->v, index->n, ct_model_identity(g->m));
    if (!s) s = ct_encoder_new(&g->e, g->m, 1);
    if (s) return s;
    g->P = ct_model_embed_dim(g->m), g->S = ct_model_image_size(g->m);
    g->G = ct_index_set_rows(g->ix);
    g->pixels = malloc((size_t)3 * g->S * g->S * sizeof(float));
    g->q = malloc((size_t)g->P * sizeof(float));
    g->excluded = calloc((size_t)g->G, 1);
    if (!g->pixels || !g->q || !g->excluded) return ct_fail(CT_ERR_NOMEM, "query: out of memory");
    return CT_OK;
}

/* Row of an exact gallery name, or -1. */
static int64_t find_name(const ct_index_set *ix, const char *name) {
    for (int64_t i = 0, n = ct_index_set_rows(ix); i < n; i++)
        if (!strcmp(ct_index_set_name(ix, i), name)) return i;
    return -1;
}

/* The row whose name is the longest '/'-bounded tail of `path` without its extension (how an
 * image file names its gallery entry: "d/images/x.png" -> "images/x"), or -1. */
static int64_t find_tail(const ct_index_set *ix, const char *path) {
    char stem[4200];
    snprintf(stem, sizeof stem, "%s", path);
    char *dot = strrchr(stem, '.'), *slash = strrchr(stem, '/');
    if (dot && (!slash || dot > slash)) *dot = '\0';
    size_t ls = strlen(stem), best_len = 0;
    int64_t best = -1;
    for (int64_t i = 0, n = ct_index_set_rows(ix); i < n; i++) {
        const char *name = ct_index_set_name(ix, i);
        size_t ln = strlen(name);
        if (ln > ls || ln <= best_len || strcmp(stem + ls - ln, name)) continue;
        if (ln < ls && stem[ls - ln - 1] != '/') continue;
        best = i, best_len = ln;
    }
    return best;
}

/* The first row whose name ends in "/" + `tail` (a likely meant name), or -1. */
static int64_t find_ending(const ct_index_set *ix, const char *tail) {
    size_t lt = strlen(tail);
    for (int64_t i = 0, n = ct_index_set_rows(ix); i < n; i++) {
        const char *name = ct_index_set_name(ix, i);
        size_t ln = strlen(name);
        if (ln > lt && name[ln - lt - 1] == '/' && !strcmp(name + ln - lt, tail)) return i;
    }
    return -1;
}

typedef struct {
    const char *image, *text, *target;
    const char *const *exclude;
    int n_exclude;
    bool exclude_reference;
} query_in;

typedef struct {
    int n;               /* results (k, or fewer when the gallery is smaller) */
    int64_t target_row;  /* -1: no --target, or not in the index */
    int64_t target_rank; /* 1-based, among the ranked (not excluded) rows */
    float target_score;
    double search_seconds, seconds;
} query_out;

/* Marks the exclusions of one query (each unknown name is a warning); returns their count. */
static int mark_excluded(engine *g, const query_in *in, const char *where) {
    memset(g->excluded, 0, (size_t)g->G);
    int n = 0;
    for (int i = 0; i < in->n_exclude; i++) {
        int64_t r = find_name(g->ix, in->exclude[i]);
        if (r < 0)
            ct_log(CT_LOG_WARN, "query: %s--exclude '%s' is not in the index\n", where, in->exclude[i]);
        else
            n += !g->excluded[r], g->excluded[r] = 1;
    }
    if (in->exclude_reference) {
        int64_t r = find_tail(g->ix, in->image);
        if (r < 0)
            ct_log(CT_LOG_WARN, "query: %s--exclude-reference: no gallery entry is named after %s\n", where, in->image);
        else
            n += !g->excluded[r], g->excluded[r] = 1;
    }
    return n;
}

/* Ranks the gallery for one query: g->idx/g->score hold the n best rows not excluded. */
static ct_status answer(engine *g, const query_in *in, int k, const char *where, query_out *o) {
    double t0 = ct_now_s();
    *o = (query_out){.target_row = -1};
    int64_t ids[CT_CONTEXT_LENGTH];
    ct_status s;
    if ((s = ct_model_load_image(g->m, in->image, g->pixels)) || (s = ct_model_tokenize(g->m, in->text, ids))) return s;
    if ((s = ct_encode_query(g->e, g->pixels, ids, 1, g->q))) return s;
    const int n_ex = mark_excluded(g, in, where);
    if (in->target) {
        o->target_row = find_name(g->ix, in->target);
        if (o->target_row < 0) {
            int64_t near = find_ending(g->ix, in->target);
            if (near >= 0)
                ct_log(CT_LOG_WARN, "query: %s--target '%s' is not in the index; did you mean '%s'?\n", where,
                       in->target, ct_index_set_name(g->ix, near));
            else
                ct_log(CT_LOG_WARN, "query: %s--target '%s' is not in the index\n", where, in->target);
        }
    }
    /* ask for k plus the excluded rows, or the whole gallery when the target's rank is wanted
     * and it is not among them */
    int64_t want = k + n_ex < g->G ? k + n_ex : g->G;
    for (int pass = 0; pass < 2; pass++) {
        free(g->idx), free(g->score);
        g->idx = malloc((size_t)want * sizeof *g->idx);
        g->score = malloc((size_t)want * sizeof *g->score);
        if (!g->idx || !g->score)
            return ct_fail(CT_ERR_NOMEM, "query: out of memory for %lld results", (long long)want);
        double t1 = ct_now_s();
        if ((s = ct_index_set_topk(g->ix, g->idx, g->score, g->q, 1, (int)want))) return s;
        o->search_seconds += ct_now_s() - t1;
        int n = 0;
        int64_t rank = 0;
        for (int64_t i = 0; i < want; i++) {
            if (g->idx[i] < 0 || g->excluded[g->idx[i]]) continue;
            rank++;
            if (g->idx[i] == o->target_row) o->target_rank = rank, o->target_score = g->score[i];
            if (n < k) g->idx[n] = g->idx[i], g->score[n] = g->score[i], n++;
        }
        o->n = n;
        if (o->target_row < 0 || o->target_rank > 0 || g->excluded[o->target_row] || want == g->G) break;
        want = g->G;
    }
    o->seconds = ct_now_s() - t0;
    return CT_OK;
}

static void print_json(const engine *g, const query_in *in, const query_out *o, const cJSON *id) {
    printf("{");
    if (id) {
        char *t = cJSON_PrintUnformatted(id);
        printf("\"id\": %s, ", t ? t : "null");
        free(t);
    }
    printf("\"results\": [");
    for (int i = 0; i < o->n; i++) {
        printf("%s{\"rank\": %d, \"name\": ", i ? ", " : "", i + 1);
        cli_json_string(stdout, ct_index_set_name(g->ix, g->idx[i]));
        printf(", \"score\": %.6f}", g->score[i]);
    }
    printf("]");
    if (in->target) {
        printf(", \"target\": ");
        cli_json_string(stdout, in->target);
        if (o->target_rank > 0)
            printf(", \"target_rank\": %lld, \"target_score\": %.6f", (long long)o->target_rank, o->target_score);
        else
            printf(", \"target_rank\": null");
    }
    printf(", \"gallery_size\": %lld, \"search_seconds\": %.6f, \"seconds\": %.4f}\n", (long long)g->G,
           o->search_seconds, o->seconds);
}

static void print_tsv(const engine *g, const query_in *in, const query_out *o) {
    for (int i = 0; i < o->n; i++) printf("%d\t%s\t%.6f\n", i + 1, ct_index_set_name(g->ix, g->idx[i]), g->score[i]);
    if (in->target && o->target_rank > o->n)
        printf("# target %s: rank %lld, score %.6f (outside the top-%d)\n", in->target, (long long)o->target_rank,
               o->target_score, o->n);
}

/* --queries FILE: one JSON object per line, {"image", "text", "id"?, "target"?, "exclude"?}. */
static ct_status run_file(engine *g, const char *file, const query_in *common, int k) {
    FILE *f;
    const char *name;
    char base[4096];
    if (ct_open_input(file, &f, &name, base, sizeof base)) return ct_fail(CT_ERR_IO, "query: %s", ct_error());
    char *line = NULL, path[8300], where[4200];
    size_t cap = 0;
    ssize_t len;
    long line_no = 0, answered = 0;
    ct_status s = CT_OK;
    const char **excl = NULL;
    while (!s && (len = getline(&line, &cap, f)) >= 0) {
        line_no++;
        if (strspn(line, " \t\r\n") == (size_t)len) continue;
        if (len > MAX_QUERY_LINE) {
            s = ct_fail(CT_ERR_FORMAT, "query: %s:%ld: line longer than %d bytes", name, line_no, MAX_QUERY_LINE);
            break;
        }
        cJSON *rec = cJSON_ParseWithLength(line, (size_t)len);
        const cJSON *img = cJSON_GetObjectItemCaseSensitive(rec, "image"),
                    *txt = cJSON_GetObjectItemCaseSensitive(rec, "text");
        const cJSON *tgt = cJSON_GetObjectItemCaseSensitive(rec, "target"),
                    *ex = cJSON_GetObjectItemCaseSensitive(rec, "exclude");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
        if (!cJSON_IsObject(rec) || !cJSON_IsString(img) || !cJSON_IsString(txt) || (tgt && !cJSON_IsString(tgt)) ||
            (ex && !cJSON_IsArray(ex))) {
            s = ct_fail(CT_ERR_FORMAT,
                        "query: %s:%ld: expected {\"image\": PATH, \"text\": STR} (optional \"id\", \"target\", "
                        "\"exclude\": [names])",
                        name, line_no);
            cJSON_Delete(rec);
            break;
        }
        int n_ex = ex ? cJSON_GetArraySize(ex) : 0;
        excl = realloc(excl, (size_t)(common->n_exclude + n_ex + 1) * sizeof *excl);
        if (!excl) {
            s = ct_fail(CT_ERR_NOMEM, "query: out of memory");
            cJSON_Delete(rec);
            break;
        }
        for (int i = 0; i < common->n_exclude; i++) excl[i] = common->exclude[i];
        for (int i = 0; i < n_ex && !s; i++) {
            const cJSON *e = cJSON_GetArrayItem(ex, i);
            if (!cJSON_IsString(e))
                s = ct_fail(CT_ERR_FORMAT, "query: %s:%ld: \"exclude\" holds a non-string", name, line_no);
            else
                excl[common->n_exclude + i] = e->valuestring;
        }
        if (s) {
            cJSON_Delete(rec);
            break;
        }
        if (img->valuestring[0] == '/')
            snprintf(path, sizeof path, "%s", img->valuestring);
        else
            snprintf(path, sizeof path, "%s/%s", base, img->valuestring);
        snprintf(where, sizeof where, "%s:%ld: ", name, line_no);
        query_in in = {path, txt->valuestring,         tgt ? tgt->valuestring : NULL,
                       excl, common->n_exclude + n_ex, common->exclude_reference};
        query_out o;
        s = answer(g, &in, k, where, &o);
        if (s)
            s = ct_fail(s, "%s:%ld: %s", name, line_no, ct_error());
        else
            print_json(g, &in, &o, id), answered++;
        cJSON_Delete(rec);
    }
    if (!s && ferror(f)) s = ct_fail(CT_ERR_IO, "query: error reading %s", name);
    free(line), free(excl);
    ct_close_input(f);
    if (!s) ct_log(CT_LOG_INFO, "query: %ld queries from %s\n", answered, name);
    return s;
}

int cmd_query(int argc, char **argv) {
    cli_list index = {0};
    const char *model = NULL, *image = NULL, *text = NULL, *grid = NULL, *images = NULL, *target = NULL,
               *queries = NULL;
    long k = 10, threads = 0;
    bool json = false, exclude_reference = false;
    cli_list exclude = {0};
    const char *precision = NULL;
    const cli_opt opts[] = {
        {"model", 'm', CLI_STR, &model, "CKPT", "a ctcir checkpoint folder (or a plain CLIP folder)", .required = true},
        {"index", 0, CLI_LIST, &index, "INDEX",
         "an index of the same model (`ctcir index`); repeat it to search several\n"
         "complete shards of one gallery as one (no merge step)",
         .required = true},
        {"image", 0, CLI_STR, &image, "FILE", "the query image"},
        {"text", 0, CLI_STR, &text, "STR", "the modification text"},
        {"queries", 0, CLI_STR, &queries, "FILE",
         "many queries, one JSON object per line: {\"image\", \"text\", \"id\"?,\n"
         "\"target\"?, \"exclude\"?: [names]}; images relative to FILE's folder;\n"
         "- reads stdin. Prints one JSON line per query (the keys of --json, plus \"id\")"},
        {"top-k", 'k', CLI_INT, &k, "N", "results", 1, MAX_K},
        {"json", 0, CLI_FLAG, &json, NULL, "one JSON object instead of `rank name score` lines"},
        {"exclude", 0, CLI_LIST, &exclude, "NAME", "leave this gallery entry out of the ranking (repeatable)"},
        {"exclude-reference", 0, CLI_FLAG, &exclude_reference, NULL,
         "leave out the query image's own entry (the name the image file gives, as\n"
         "eval does for CIRR, LaSCo and manifests)"},
        {"target", 0, CLI_STR, &target, "NAME",
         "the known answer: its rank is printed (JSON: target_rank; lines: a\n"
         "'# target' line when outside the top-k) and the grid marks it green"},
        {"grid", 0, CLI_STR, &grid, "FILE", "also draw the query image and the top-k results into one PNG"},
        {"images", 0, CLI_STR, &images, "DIR",
         "where the gallery names resolve to files (DIR/<name>.<png|jpg|...>),\n"
         "needed by --grid"},
        CLI_OPT_THREADS(&threads),
        CLI_OPT_PRECISION_ROW(&precision),
        {0}};
    const cli_cmd cmd = {
        "query",
        "usage: ctcir query --model CKPT --index INDEX --image FILE --text STR [-k N] [--json]\n"
        "                   [--exclude NAME]... [--exclude-reference] [--target NAME]\n"
        "                   [--grid FILE.png --images DIR] [-t N]\n"
        "       ctcir query --model CKPT --index INDEX --queries FILE.jsonl [-k N] [...]\n\n"
        "Embeds f(image, text) and prints the k most similar gallery entries (cosine), best\n"
        "first: `rank name score` lines, or with --json one object {\"results\": [{\"rank\",\n"
        "\"name\", \"score\"}], \"gallery_size\", \"search_seconds\", \"seconds\"} (with --target also\n"
        "\"target\", \"target_rank\", \"target_score\"). Exact search over the whole index.\n",
        opts};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_PARSED) goto out;
    if (precision && (rc = cli_set_precision("query", precision))) goto out;
    rc = CLI_OK;
    if (queries && (image || text || grid))
        rc = cli_usage_error("query", "--queries excludes --image, --text and --grid");
    else if (!queries && (!image || !text))
        rc = cli_usage_error("query", "--image and --text are required (or --queries FILE)");
    else if (grid && !images)
        rc = cli_usage_error("query", "--grid needs --images DIR to find the result images");
    if (rc) goto out;
    cli_set_threads((int)threads);
    engine g;
    ct_status s = engine_open(&g, model, &index);
    if (s) goto done;
    const query_in common = {image, text, target, exclude.v, exclude.n, exclude_reference};
    if (queries) {
        s = run_file(&g, queries, &common, (int)k);
        goto done;
    }
    query_out o;
    if ((s = answer(&g, &common, (int)k, "", &o))) goto done;
    if (json)
        print_json(&g, &common, &o, NULL);
    else
        print_tsv(&g, &common, &o);
    ct_log(CT_LOG_INFO, "query: top-%d of %lld in %.2f ms (search), %.2f s in all\n", o.n, (long long)g.G,
           o.search_seconds * 1e3, o.seconds);
    if (target && o.target_rank > 0 && o.target_rank > o.n)
        ct_log(CT_LOG_INFO, "query: target %s at rank %lld (outside the top-%d)\n", target, (long long)o.target_rank,
               o.n);
    if (grid) {
        if ((s = draw_grid(grid, image, text, g.ix, g.idx, g.score, o.n, images, (int)o.target_row))) goto done;
        ct_log(CT_LOG_INFO, "query: grid written to %s\n", grid);
    }
done:
    engine_free(&g);
    if (s) rc = cli_fail("query", s);
out:
    cli_list_free(&exclude);
    cli_list_free(&index);
    return rc;
}
