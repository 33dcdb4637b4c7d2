/* ctcir index: embed a gallery in the model's target mode into an index file;
 * `ctcir index merge` joins shards. Interrupted runs resume where they stopped. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/index_merge.h"
#include "cli/opts.h"
#include "ctcir/dist.h"
#include "ctcir/embed.h"
#include "ctcir/index.h"
#include "ctcir/log.h"

static volatile int stop_flag;
static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

typedef struct {
    ct_index_writer *w;
    int P, since_checkpoint;
} sink_ctx;

static ct_status put_rows(void *ctx, const int64_t *rows, int n, const float *emb) {
    sink_ctx *c = ctx;
    for (int i = 0; i < n; i++) {
        ct_status s = ct_index_writer_put(c->w, rows[i], 1, emb + (size_t)i * c->P);
        if (s) return s;
    }
    if (++c->since_checkpoint >= 50) { /* progress survives a crash */
        c->since_checkpoint = 0;
        return ct_index_writer_checkpoint(c->w);
    }
    return CT_OK;
}

static int run_index(const char *model_dir, ct_gallery *g, const char *out, int batch, int shard_k, int shard_n,
                     ct_dtype dtype, int loader_threads) {
    ct_model *m = NULL;
    ct_index_writer *w = NULL;
    int64_t *rows = NULL;
    ct_status s = ct_model_load(&m, model_dir, NULL, NULL, 0);
    if (s) return cli_fail("index", s);
    struct stat st;
    const bool exists = stat(out, &st) == 0;
    if (exists)
        s = ct_index_writer_resume(&w, out, ct_model_identity(m), g->n, (const char *const *)g->names,
                                   ct_model_embed_dim(m), dtype, shard_k, shard_n);
    else
        s = ct_index_writer_new(&w, out, ct_model_identity(m), g->n, (const char *const *)g->names,
                                ct_model_embed_dim(m), dtype, shard_k, shard_n);
    if (s) goto done;
    int64_t begin, end;
    ct_index_writer_range(w, &begin, &end);
    rows = malloc((size_t)(end - begin + 1) * sizeof *rows);
    if (!rows) {
        s = ct_fail(CT_ERR_NOMEM, "index: out of memory");
        goto done;
    }
    int64_t todo = 0;
    for (int64_t r = begin; r < end; r++)
        if (!ct_index_writer_done(w, r)) rows[todo++] = r;
    if (exists)
        ct_log(CT_LOG_INFO, "index: resuming %s: %lld of %lld rows already done\n", out,
               (long long)(end - begin - todo), (long long)(end - begin));
    sink_ctx ctx = {w, ct_model_embed_dim(m), 0};
    ct_embed_job job = {(const char *const *)g->paths, NULL, rows, todo, batch, loader_threads, "index"};
    ct_embed_stats es = {0};
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (todo) s = ct_embed_run(m, &job, put_rows, &ctx, &stop_flag, &es);
    if (s) {
        ct_status s2 = ct_index_writer_checkpoint(w); /* keep what was done */
        (void)s2;
        goto done;
    }
    if (stop_flag) {
        s = ct_index_writer_checkpoint(w);
        if (!s)
            s = ct_fail(CT_ERR_INTERRUPTED,
                        "interrupted: %lld of %lld rows saved in %s; run the same command to continue",
                        (long long)ct_index_writer_count_done(w), (long long)(end - begin), out);
        goto done;
    }
    if ((s = ct_index_writer_finish(w))) goto done;
    ct_log(CT_LOG_INFO,
           "index: %s: %lld rows, %.1f s, %.1f images/s (decoding %.1f s in the background, waited %.1f s)\n", out,
           (long long)(end - begin), es.seconds, es.seconds > 0 ? es.done / es.seconds : 0.0, es.decode_seconds,
           es.wait_seconds);
done:
    free(rows);
    ct_index_writer_free(w);
    ct_model_free(m);
    if (s == CT_ERR_INTERRUPTED) {
        fprintf(stderr, "ctcir index: %s\n", ct_error());
        return 130;
    }
    return s ? cli_fail("index", s) : CLI_OK;
}

/* Under mpirun (docs/distributed.md): rank r writes shard r/N beside the output (resumable like
 * any shard), then rank 0 merges the shards into `out` and removes them: one index equal to the
 * one-process index (rows embedded in other batches agree to float rounding). */
static int run_ranks(const char *model_dir, ct_gallery *g, const char *out, int batch, ct_dtype dtype,
                     int loader_threads) {
    const int rank = ct_dist_rank(), ranks = ct_dist_size();
    char **parts = calloc((size_t)ranks, sizeof *parts);
    int rc = CLI_OK;
    for (int r = 0; parts && r < ranks; r++)
        if (!(parts[r] = malloc(strlen(out) + 48))) {
            free(parts), parts = NULL;
        } else
            sprintf(parts[r], "%s.part-%d-of-%d", out, r, ranks);
    if (!parts) return cli_fail("index", ct_fail(CT_ERR_NOMEM, "index: out of memory"));
    rc = run_index(model_dir, g, parts[rank], batch, rank, ranks, dtype, loader_threads);
    /* a rank that failed ends the job in main(); the others meet here */
    if (rc == CLI_OK && ct_dist_barrier()) rc = cli_fail("index", CT_ERR_IO);
    if (rc == CLI_OK && rank == 0) {
        ct_status s = ct_index_merge(out, (const char *const *)parts, ranks);
        if (s)
            rc = cli_fail("index", s);
        else {
            for (int r = 0; r < ranks; r++) remove(parts[r]);
            ct_log(CT_LOG_INFO, "index: %d rank shards merged into %s\n", ranks, out);
        }
    }
    if (rc == CLI_OK && ct_dist_barrier()) rc = cli_fail("index", CT_ERR_IO);
    for (int r = 0; r < ranks; r++) free(parts[r]);
    free(parts);
    return rc;
}

static const char synopsis[] =
    "usage: ctcir index --model CKPT (--images DIR | --list FILE | --dataset NAME --root DIR --split S\n"
    "                   [--category C]) --out INDEX [--batch N] [--shard k/N] [--dtype f32|f16] [-t N]\n"
    "       ctcir index merge SHARD... --out INDEX   (see 'ctcir help index merge')\n\n"
    "Embeds every gallery image in the checkpoint's target mode and writes an index: a\n"
    "safetensors file with `embeddings` [G,P] (F32 or F16), `row_ids`, `done`, the names\n"
    "(`names` + `name_offsets`) and metadata (model_id, gallery_size, dim, shard, complete).\n"
    "The model identity is checked wherever the index is used. Names are paths without\n"
    "extension (relative to DIR for --images, as written in --list, the dataset's own names).\n"
    "Re-running the same command on an interrupted index continues it; Ctrl-C saves progress.\n";

int cmd_index(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "merge") == 0) return cli_index_merge(argc - 1, argv + 1);
    static const char *const subcommands[] = {"merge"};
    if (argc >= 2 && argv[1][0] != '-' && cli_nearest(argv[1], subcommands, 1))
        return cli_usage_error("index", "unknown subcommand '%s'; did you mean 'merge'?", argv[1]);
    const char *model = NULL, *images = NULL, *list = NULL, *dataset = NULL, *root = NULL, *split = NULL,
               *category = NULL, *out = NULL, *shard = NULL, *dtype_name = "f32";
    const char *precision = NULL;
    ct_embed_job dflt = {.batch = 32, .threads = 1}; /* ct_embed_run's defaults */
    long batch = dflt.batch, threads = 0, lt = dflt.threads, shard_k = 0, shard_n = 1;
    const cli_opt opts[] = {
        {"model", 'm', CLI_STR, &model, "CKPT",
         "a ctcir checkpoint folder (or a plain CLIP folder: the head is seeded)", .required = true},
        {"images", 0, CLI_STR, &images, "DIR", "every image file below DIR (recursive, sorted)"},
        {"list", 0, CLI_STR, &list, "FILE", "one image path per line (relative to the list's folder); - reads stdin"},
        {"dataset", 0, CLI_STR, &dataset, "NAME", "cirr | circo | fashioniq | lasco | manifest (with --root, --split)"},
        {"root", 0, CLI_STR, &root, "DIR", "dataset root"},
        {"split", 0, CLI_STR, &split, "S", "dataset split"},
        {"category", 0, CLI_STR, &category, "C", "FashionIQ category"},
        {"out", 'o', CLI_STR, &out, "INDEX", "the index file to write (or to continue)", .required = true},
        {"batch", 0, CLI_INT, &batch, "N", "images per model call", 1, 1024},
        {"shard", 0, CLI_STR, &shard, "k/N", "only rows [k*G/N, (k+1)*G/N); join shards with `ctcir index merge`"},
        {"dtype", 0, CLI_STR, &dtype_name, "f32|f16", "storage of the embeddings"},
        {"loader-threads", 0, CLI_INT, &lt, "N", "decoding threads", 1, 8},
        CLI_OPT_THREADS(&threads),
        CLI_OPT_PRECISION_ROW(&precision),
        {0}};
    const cli_cmd cmd = {"index", synopsis, opts};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_PARSED) return rc;
    if (precision && (rc = cli_set_precision("index", precision))) return rc;
    if (shard && ct_dist_size() > 1)
        return cli_usage_error("index", "--shard with mpirun: each rank already takes shard rank/N of the gallery");
    if (shard) {
        char tail;
        if (sscanf(shard, "%ld/%ld%c", &shard_k, &shard_n, &tail) != 2 || shard_n < 1 || shard_k < 0 ||
            shard_k >= shard_n)
            return cli_usage_error("index", "--shard: expected k/N with 0 <= k < N, got '%s'", shard);
    }
    ct_dtype dtype;
    if (!strcmp(dtype_name, "f32"))
        dtype = CT_DT_F32;
    else if (!strcmp(dtype_name, "f16"))
        dtype = CT_DT_F16;
    else
        return cli_usage_error("index", "--dtype: expected f32 or f16, got '%s'", dtype_name);
    if (!!images + !!list + !!dataset != 1)
        return cli_usage_error("index", "give exactly one of --images, --list, --dataset");
    if (dataset && (!root || !split)) return cli_usage_error("index", "--dataset needs --root and --split");
    cli_set_threads((int)threads);
    ct_gallery g;
    ct_status s = images ? ct_gallery_from_dir(&g, images)
                  : list ? ct_gallery_from_list(&g, list)
                         : ct_gallery_from_dataset(&g, dataset, root, split, category);
    if (s) return cli_fail("index", s);
    if (ct_dist_size() > 1)
        rc = run_ranks(model, &g, out, (int)batch, dtype, (int)lt);
    else
        rc = run_index(model, &g, out, (int)batch, (int)shard_k, (int)shard_n, dtype, (int)lt);
    ct_gallery_free(&g);
    return rc;
}
