/* Test tool (not a test): compares the float tensors of two safetensors files by name and
 * prints "max_abs_diff <d> max_abs <m> tensors <n>" (m: the largest |value| of the first
 * file). Exit 1 when the files do not hold the same tensor names and shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctcir/safetensors.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: st_maxdiff A.safetensors B.safetensors\n");
        return 2;
    }
    ct_st_file *a = NULL, *b = NULL;
    if (ct_st_open(&a, argv[1]) || ct_st_open(&b, argv[2])) {
        fprintf(stderr, "st_maxdiff: %s\n", ct_error());
        return 1;
    }
    double diff = 0, mx = 0;
    int n = 0, bad = ct_st_count(a) != ct_st_count(b);
    for (int i = 0; i < ct_st_count(a) && !bad; i++) {
        const ct_st_tensor *ta = ct_st_at(a, i), *tb = ct_st_find(b, ta->name);
        if (!tb || tb->numel != ta->numel) {
            bad = 1;
            break;
        }
        if (ta->dtype != CT_DT_F32 && ta->dtype != CT_DT_F16 && ta->dtype != CT_DT_BF16) continue;
        float *x = malloc((ta->numel ? ta->numel : 1) * sizeof *x),
              *y = malloc((ta->numel ? ta->numel : 1) * sizeof *y);
        if (!x || !y || ct_st_read_f32(a, ta, x) || ct_st_read_f32(b, tb, y)) {
            bad = 1;
            free(x), free(y);
            break;
        }
        for (size_t k = 0; k < ta->numel; k++) {
            double d = fabs((double)x[k] - y[k]);
            if (d > diff || d != d) diff = d;
            if (fabs(x[k]) > mx) mx = fabs(x[k]);
        }
        free(x), free(y);
        n++;
    }
    ct_st_close(a), ct_st_close(b);
    if (bad) {
        fprintf(stderr, "st_maxdiff: the files differ in tensor names or shapes\n");
        return 1;
    }
    printf("max_abs_diff %.9g max_abs %.9g tensors %d\n", diff, mx, n);
    return 0;
}
