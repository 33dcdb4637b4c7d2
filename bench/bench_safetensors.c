/* Times saving and loading a large F32 checkpoint against plain memcpy and read().
 *     bench_safetensors [MB=600] [DIR=/tmp]
 * Loads are timed with the file in the page cache (it was just written), which is the
 * case that shows the reader's own overhead: open + validate + copy vs memcpy. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctcir/safetensors.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 600;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    enum { N_TENSORS = 400 };
    size_t per = mb * 1000 * 1000 / 4 / N_TENSORS, total = per * N_TENSORS;
    float *src = malloc(total * sizeof *src), *dst = malloc(total * sizeof *dst);
    if (!src || !dst) return 1;
    for (size_t i = 0; i < total; i++) src[i] = (float)(i % 1000) * 0.001f;
    memset(dst, 0, total * sizeof *dst);
    char path[512];
    snprintf(path, sizeof path, "%s/bench_st_%d.safetensors", dir, (int)getpid());
    double gb = (double)total * 4 / 1e9;

    ct_st_writer *w;
    ct_st_writer_new(&w);
    char name[64];
    for (int i = 0; i < N_TENSORS; i++) {
        snprintf(name, sizeof name, "layers.%d.weight", i);
        int64_t shape[2] = {(int64_t)per / 64, 64};
        ct_st_writer_add(w, name, CT_DT_F32, 2, shape, src + (size_t)i * per);
    }
    double t0 = now();
    if (ct_st_writer_save(w, path) != CT_OK) {
        fprintf(stderr, "%s\n", ct_error());
        return 1;
    }
    double t_save = now() - t0;
    ct_st_writer_free(w);

    double best_load = 1e9, best_open = 1e9, best_memcpy = 1e9, best_read = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        t0 = now();
        ct_st_file *f;
        if (ct_st_open(&f, path) != CT_OK) {
            fprintf(stderr, "%s\n", ct_error());
            return 1;
        }
        double t1 = now();
        size_t off = 0;
        for (int i = 0; i < ct_st_count(f); i++) {
            const ct_st_tensor *t = ct_st_at(f, i);
            ct_st_read_f32(f, t, dst + off);
            off += t->numel;
        }
        ct_st_close(f);
        double t2 = now();
        if (t1 - t0 < best_open) best_open = t1 - t0;
        if (t2 - t0 < best_load) best_load = t2 - t0;

        memset(dst, 0, 4096); /* keep the copy honest */
        t0 = now();
        memcpy(dst, src, total * sizeof *src);
        t1 = now();
        if (t1 - t0 < best_memcpy) best_memcpy = t1 - t0;

        t0 = now();
        int fd = open(path, O_RDONLY);
        size_t got = 0;
        char *p = (char *)dst;
        for (ssize_t k; got < total * 4 && (k = read(fd, p + got, total * 4 - got)) > 0;) got += (size_t)k;
        close(fd);
        t1 = now();
        if (t1 - t0 < best_read) best_read = t1 - t0;
    }
    printf("checkpoint: %d F32 tensors, %.3f GB, %s\n", N_TENSORS, gb, path);
    printf("save (stream + fsync + rename): %.3f s  (%.2f GB/s)\n", t_save, gb / t_save);
    printf("ct_st_open (mmap + validate):   %.6f s\n", best_open);
    printf("open + read_f32 all + close:    %.3f s  (%.2f GB/s)\n", best_load, gb / best_load);
    printf("memcpy of the same bytes:       %.3f s  (%.2f GB/s)\n", best_memcpy, gb / best_memcpy);
    printf("read() of the whole file:       %.3f s  (%.2f GB/s)\n", best_read, gb / best_read);
    unlink(path);
    free(src);
    free(dst);
    return 0;
}
