/* synth-shapes throughput, one thread: triplet generation (captions + 3 hard negatives),
 * rendering, PNG and JPEG encoding to a file. usage: bench_synth [size] [n] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/timer.h"
#include "ctcir/synth.h"

int main(int argc, char **argv) {
    int size = argc > 1 ? atoi(argv[1]) : 64, n = argc > 2 ? atoi(argv[2]) : 4000;
    ct_synth_triplet *t = malloc(sizeof *t);
    uint8_t *rgb = malloc((size_t)size * (size_t)size * 3);
    if (!t || !rgb || size < 16 || size > 1024 || n < 4) {
        fprintf(stderr, "usage: bench_synth [size 16..1024] [n >= 4]\n");
        return 2;
    }
    double t0 = ct_now_s();
    for (int i = 0; i < n; i++) ct_synth_make_triplet(t, (uint64_t)i, 3);
    double gen = ct_now_s() - t0;
    t0 = ct_now_s();
    for (int i = 0; i < n; i++) ct_synth_render_into(i % 2 ? &t->ref : &t->tgt, size, rgb);
    double ren = ct_now_s() - t0;
    char path[64];
    snprintf(path, sizeof path, "/tmp/bench_synth_%d.img", (int)getpid());
    ct_image img = {size, size, rgb};
    int m = n / 4;
    t0 = ct_now_s();
    for (int i = 0; i < m; i++) ct_image_save_png(&img, path);
    double png = ct_now_s() - t0;
    t0 = ct_now_s();
    for (int i = 0; i < m; i++) ct_image_save_jpeg(&img, path, 90);
    double jpg = ct_now_s() - t0;
    remove(path);
    printf("size %d, one thread: triplets (3 negatives) %.0f/s, render %.0f images/s, "
           "PNG save %.0f/s, JPEG save %.0f/s\n",
           size, n / gen, n / ren, m / png, m / jpg);
    free(t);
    free(rgb);
    return 0;
}
