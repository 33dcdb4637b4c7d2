/* `ctcir bench`: throughput of the model's parts at a CLIP config's real shapes, with random
 * weights and random inputs, no files besides the config (ct_model_synthetic).
 *   image  vision tower forward (images/s)          text   text tower forward (texts/s)
 *   index  target embedding, image + empty text through fusion and pooling (images/s;
 *          decoding not included)
 *   step   full ConText-CIR training step + AdamW (triplets/s)
 *   topk   exact cosine top-10 of `batch` queries over 100k random F32 rows (queries/s) */
#ifndef CTCIR_BENCH_H
#define CTCIR_BENCH_H

#include "ctcir/runtime.h" /* ct_precision */
#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { CT_BENCH_IMAGE, CT_BENCH_TEXT, CT_BENCH_STEP, CT_BENCH_INDEX, CT_BENCH_TOPK } ct_bench_what;

typedef struct {
    const char *config; /* CLIP config.json (configs/clip/...) */
    ct_bench_what what;
    int batch;       /* 0: 32 (16 for step) */
    int micro_batch; /* step: 0 = batch */
    int phrases;     /* step: noun phrases per caption (default 3) */
    int steps;       /* timed repetitions after one warm-up (default 3) */
    int threads;     /* 0: all cores */
    ct_precision precision;
    int recompute; /* step: ct_recompute (train/train_step.h): 0 auto, 1 on, 2 off */
} ct_bench_opts;

typedef struct {
    double items_per_s;   /* images, texts, triplets or queries per second */
    double seconds;       /* timed wall time */
    double cpu_seconds;   /* CPU time of the process (all threads) over the same steps: on a
                              * shared machine, gflops * seconds / cpu_seconds is the rate per
                              * busy core that other processes do not dilute */
    double peak_rss_mb;   /* of the whole process */
    double gflops;        /* matrix-product FLOPs (ct_matmul; top-k: its G x P x Q) per second */
    int batch;            /* the batch used (step under mpirun: the global batch) */
    int ranks;            /* processes (mpirun -np N; step only splits its batch over them) */
    double collective_mb; /* step: MB this rank handed to collectives per step */
    double loss;          /* step: the last step's loss */
} ct_bench_result;

void ct_bench_opts_default(ct_bench_opts *o);
/* "image", "text", "step", "index", "topk" -> *out. */
ct_status ct_bench_what_parse(const char *s, ct_bench_what *out);
const char *ct_bench_what_name(ct_bench_what w);
ct_status ct_bench_run(const ct_bench_opts *o, ct_bench_result *r);

#ifdef __cplusplus
}
#endif
#endif
