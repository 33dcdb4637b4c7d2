/* ctcir index: embed a gallery in the model's target mode into an index file;
 * `ctcir index merge` joins shards. Interrupted runs resume where they stopped. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/embed.h"
#include "model/model.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "app/gallery_source.h"
#include "cli/index_merge.h"
#include "core/blas.h"
#include "ctcir/index.h"

static volatile int stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static void usage(FILE *out) {
    fprintf(out,
            "usage: ctcir index --model CKPT (--images DIR | --list FILE | --dataset NAME --root DIR --split S\n"
            "                   [--category C]) --out INDEX [--batch N] [--shard k/N] [--dtype f32|f16] [-t N]\n"
            "       ctcir index merge SHARD... --out INDEX\n\n"
            "Embeds every gallery image in the checkpoint's target mode and writes an index: a\n"
            "safetensors file with `embeddings` [G,P] (F32 or F16), `row_ids`, `done`, the names\n"
            "(`names` + `name_offsets`) and metadata (model_id, gallery_size, dim, shard, complete).\n"
            "The model identity is checked wherever the index is used. Names are paths without\n"
            "extension (relative to DIR for --images, as written in --list, the dataset's own names).\n"
            "Re-running the same command on an interrupted index continues it; Ctrl-C saves progress.\n\n"
            "  --model CKPT     a ctcir checkpoint folder (or a plain CLIP folder: the head is seeded)\n"
            "  --images DIR     every image file below DIR (recursive, sorted)\n"
            "  --list FILE      one image path per line (relative to the list's folder)\n"
            "  --dataset NAME   cirr | circo | fashioniq | lasco | manifest (with --root, --split)\n"
            "  --batch N        images per model call (default 32)\n"
            "  --shard k/N      only rows [k*G/N, (k+1)*G/N); join shards with `ctcir index merge`\n"
            "  --dtype f32|f16  storage of the embeddings (default f32)\n"
            "  --loader-threads N  decoding threads (default 1)\n"
            "  -t, --threads N  OpenBLAS/OpenMP threads (default: all cores)\n");
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
    if (exists) s = ct_index_writer_resume(&w, out, ct_model_identity(m), g->n, (const char *const *)g->names,
                                           ct_model_embed_dim(m), dtype, shard_k, shard_n);
    else s = ct_index_writer_new(&w, out, ct_model_identity(m), g->n, (const char *const *)g->names,
                                 ct_model_embed_dim(m), dtype, shard_k, shard_n);
    if (s) goto done;
    int64_t begin, end;
    ct_index_writer_range(w, &begin, &end);
    rows = malloc((size_t)(end - begin + 1) * sizeof *rows);
    if (!rows) { s = ct_fail(CT_ERR_NOMEM, "index: out of memory"); goto done; }
    int64_t todo = 0;
    for (int64_t r = begin; r < end; r++)
        if (!ct_index_writer_done(w, r)) rows[todo++] = r;
    if (exists) fprintf(stderr, "index: resuming %s: %lld of %lld rows already done\n", out,
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
        if (!s) s = ct_fail(CT_ERR_INTERRUPTED, "interrupted: %lld of %lld rows saved in %s; run the same command to continue",
                            (long long)ct_index_writer_count_done(w), (long long)(end - begin), out);
        goto done;
    }
    if ((s = ct_index_writer_finish(w))) goto done;
    fprintf(stderr, "index: %s: %lld rows, %.1f s, %.1f images/s (decoding %.1f s in the background, waited %.1f s)\n", out,
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

int cmd_index(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "merge") == 0) return cli_index_merge(argc - 1, argv + 1);
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    enum { O_MODEL = 256, O_IMAGES, O_LIST, O_DATASET, O_ROOT, O_SPLIT, O_CAT, O_OUT, O_BATCH, O_SHARD, O_DTYPE, O_LT };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL}, {"images", required_argument, 0, O_IMAGES},
        {"list", required_argument, 0, O_LIST}, {"dataset", required_argument, 0, O_DATASET},
        {"root", required_argument, 0, O_ROOT}, {"split", required_argument, 0, O_SPLIT},
        {"category", required_argument, 0, O_CAT}, {"out", required_argument, 0, O_OUT},
        {"batch", required_argument, 0, O_BATCH}, {"shard", required_argument, 0, O_SHARD},
        {"dtype", required_argument, 0, O_DTYPE}, {"loader-threads", required_argument, 0, O_LT},
        {"threads", required_argument, 0, 't'}, {0, 0, 0, 0}};
    const char *model = NULL, *images = NULL, *list = NULL, *dataset = NULL, *root = NULL, *split = NULL,
               *category = NULL, *out = NULL;
    long batch = 32, threads = 0, shard_k = 0, shard_n = 1, lt = 1;
    ct_dtype dtype = CT_DT_F32;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model = optarg; break;
        case O_IMAGES: images = optarg; break;
        case O_LIST: list = optarg; break;
        case O_DATASET: dataset = optarg; break;
        case O_ROOT: root = optarg; break;
        case O_SPLIT: split = optarg; break;
        case O_CAT: category = optarg; break;
        case O_OUT: out = optarg; break;
        case O_BATCH: if (!cli_parse_int(optarg, &batch) || batch < 1 || batch > 1024) return cli_usage_error("index", "--batch: 1..1024"); break;
        case O_LT: if (!cli_parse_int(optarg, &lt) || lt < 1 || lt > 8) return cli_usage_error("index", "--loader-threads: 1..8"); break;
        case 't': if (!cli_parse_int(optarg, &threads) || threads < 0) return cli_usage_error("index", "--threads: a number >= 0"); break;
        case O_SHARD:
            if (sscanf(optarg, "%ld/%ld", &shard_k, &shard_n) != 2 || shard_n < 1 || shard_k < 0 || shard_k >= shard_n)
                return cli_usage_error("index", "--shard k/N with 0 <= k < N");
            break;
        case O_DTYPE:
            if (!strcmp(optarg, "f32")) dtype = CT_DT_F32;
            else if (!strcmp(optarg, "f16")) dtype = CT_DT_F16;
            else return cli_usage_error("index", "--dtype f32 or f16");
            break;
        default: return cli_usage_error("index", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("index", "unexpected argument '%s'", argv[optind]);
    if (!model || !out) return cli_usage_error("index", "--model and --out are required");
    if (!!images + !!list + !!dataset != 1) return cli_usage_error("index", "give exactly one of --images, --list, --dataset");
    if (dataset && (!root || !split)) return cli_usage_error("index", "--dataset needs --root and --split");
    cli_set_threads((int)threads);
    ct_gallery g;
    ct_status s = images ? ct_gallery_from_dir(&g, images)
                : list   ? ct_gallery_from_list(&g, list)
                         : ct_gallery_from_dataset(&g, dataset, root, split, category);
    if (s) return cli_fail("index", s);
    int rc = run_index(model, &g, out, (int)batch, (int)shard_k, (int)shard_n, dtype, (int)lt);
    ct_gallery_free(&g);
    return rc;
}
