/* libFuzzer entry point for the safetensors reader (built by tests/fuzz.cmake with clang):
 *     cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCTCIR_FUZZ=ON && cmake --build build-fuzz --target fuzz_safetensors
 *     build-fuzz/tests/fuzz_safetensors -max_total_time=60 corpus_dir/
 * An accepted input must have every tensor inside the input; the converters read every byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctcir/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ct_st_file *f;
    if (ct_st_open_memory(&f, data, size, "fuzz") != CT_OK) {
        if (!strstr(ct_error(), "fuzz")) abort(); /* a failure must name the file */
        return 0;
    }
    for (int i = 0; i < ct_st_count(f); i++) {
        const ct_st_tensor *t = ct_st_at(f, i);
        const uint8_t *d = t->data;
        if (d < data || t->nbytes > size || d > data + size - t->nbytes) abort();
        void *out = malloc(t->numel * 8 + 8);
        if (!out) continue;
        if (t->dtype <= CT_DT_BF16)
            (void)ct_st_read_f32(f, t, out);
        else
            (void)ct_st_read_i64(f, t, out);
        free(out);
    }
    for (int i = 0; i < ct_st_metadata_count(f); i++) {
        const char *k, *v;
        ct_st_metadata_at(f, i, &k, &v);
        if (!k || !v) abort();
    }
    ct_st_close(f);
    return 0;
}
