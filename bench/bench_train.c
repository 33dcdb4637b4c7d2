/* Benchmark (not a test): full ConText-CIR training steps at real CLIP shapes with random
 * weights: both towers, 4 fusion blocks, PMA, contrastive + concept-consistency loss, AdamW.
 * The same measurement as `ctcir bench --what step` (app/bench.c), with positional arguments:
 *
 *   bench_train [CONFIG.json] [BATCH] [PHRASES] [STEPS] [THREADS] [MICRO] [fp32|bf16]
 *   defaults:    configs/clip/clip-vit-base-patch32.json 16 3 3 2 = batch fp32
 *
 * Prints triplets/s (after one warm-up step), the peak resident set and GFLOP/s as JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "ctcir/bench.h"

int main(int argc, char **argv) {
    ct_bench_opts o;
    ct_bench_opts_default(&o);
    o.config = argc > 1 ? argv[1] : "configs/clip/clip-vit-base-patch32.json";
    o.what = CT_BENCH_STEP;
    o.batch = argc > 2 ? atoi(argv[2]) : 16;
    o.phrases = argc > 3 ? atoi(argv[3]) : 3;
    o.steps = argc > 4 ? atoi(argv[4]) : 3;
    o.threads = argc > 5 ? atoi(argv[5]) : 2;
    o.micro_batch = argc > 6 ? atoi(argv[6]) : 0;
    if (argc > 7 && ct_precision_parse(argv[7], "bench_train", &o.precision)) {
        fprintf(stderr, "bench_train: %s\n", ct_error());
        return 2;
    }
    ct_bench_result r;
    if (ct_bench_run(&o, &r)) {
        fprintf(stderr, "bench_train: %s\n", ct_error());
        return 1;
    }
    printf(
        "{\"config\": \"%s\", \"batch\": %d, \"micro_batch\": %d, \"phrases_per_caption\": %d, \"threads\": %d, "
        "\"precision\": \"%s\", \"step_s\": %.3f, \"triplets_per_s\": %.3f, \"gflops\": %.1f, \"peak_rss_MB\": %.0f}\n",
        o.config, r.batch, o.micro_batch ? o.micro_batch : r.batch, o.phrases, o.threads,
        ct_precision_name(o.precision), r.seconds / o.steps, r.items_per_s, r.gflops, r.peak_rss_mb);
    return 0;
}
