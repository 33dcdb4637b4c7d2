/* The BLAS kernel choice (core/blas.h) as a pure function of CPU features and the kernel
 * OpenBLAS picked: made-up CPUs, from the Xeon that OpenBLAS 0.3.21 does not know (family 6
 * model 207, AVX-512 + BF16, where it runs its Prescott fallback) to CPUs without AVX2; then
 * this machine's detected features against each other. */
#include <string.h>

#include "core/blas.h"
#include "test_util.h"

static bool same(const char *got, const char *want) {
    if (!got || !want) return got == want;
    return strcmp(got, want) == 0;
}

#define EXPECT(f, current, want)                                                                                       \
    do {                                                                                                               \
        const char *got_ = ct_blas_kernel_preferred(&(f), (current));                                                  \
        CHECK_MSG(same(got_, (want)), "%s, OpenBLAS chose %s: got %s, want %s", #f,                                    \
                  (current) ? (const char *)(current) : "(null)", got_ ? got_ : "keep",                                \
                  (want) ? (const char *)(want) : "keep");                                                             \
    } while (0)

static ct_cpu_features avx2_cpu(bool amd) {
    ct_cpu_features f = {.amd = amd, .avx = true, .fma = true, .avx2 = true, .os_ymm = true};
    return f;
}

static ct_cpu_features avx512_cpu(bool amd, bool bf16) {
    ct_cpu_features f = avx2_cpu(amd);
    f.avx512f = f.avx512dq = f.avx512bw = f.avx512vl = true;
    f.avx512_bf16 = bf16;
    f.os_zmm = true;
    return f;
}

int main(void) {
    /* The unknown Xeon: every SSE/AVX-era fallback is replaced by Cooperlake */
    ct_cpu_features xeon = avx512_cpu(false, true);
    xeon.family = 6, xeon.model = 207;
    const char *fallbacks[] = {"Prescott", "Core2", "Nehalem", "Sandybridge", "Katmai", "Atom", "Penryn"};
    for (size_t i = 0; i < sizeof fallbacks / sizeof fallbacks[0]; i++) EXPECT(xeon, fallbacks[i], "Cooperlake");
    EXPECT(xeon, "prescott", "Cooperlake"); /* OPENBLAS_CORETYPE is matched without case */
    EXPECT(xeon, "Haswell", "Cooperlake");
    EXPECT(xeon, "SkylakeX", "Cooperlake");
    EXPECT(xeon, "Cooperlake", NULL);
    EXPECT(xeon, "SapphireRapids", NULL); /* a name from a newer OpenBLAS: never replaced */
    EXPECT(xeon, "", NULL);
    EXPECT(xeon, NULL, NULL);

    /* AVX-512 without BF16 (Skylake-SP, Ice Lake): SkylakeX */
    ct_cpu_features skx = avx512_cpu(false, false);
    EXPECT(skx, "Prescott", "SkylakeX");
    EXPECT(skx, "Haswell", "SkylakeX");
    EXPECT(skx, "SkylakeX", NULL);

    /* The OS does not save the zmm registers: AVX-512 kernels would fault, AVX2 is the best */
    ct_cpu_features no_zmm = avx512_cpu(false, true);
    no_zmm.os_zmm = false;
    EXPECT(no_zmm, "Prescott", "Haswell");
    EXPECT(no_zmm, "Haswell", NULL);

    /* AVX-512F without BW/VL/DQ (Knights Landing) is no SkylakeX */
    ct_cpu_features knl = avx2_cpu(false);
    knl.avx512f = true, knl.os_zmm = true;
    EXPECT(knl, "Prescott", "Haswell");

    /* AMD: the AVX2 kernel is Zen; Haswell counts as just as good */
    ct_cpu_features zen2 = avx2_cpu(true);
    EXPECT(zen2, "Prescott", "Zen");
    EXPECT(zen2, "Barcelona", "Zen");
    EXPECT(zen2, "Excavator", "Zen");
    EXPECT(zen2, "Zen", NULL);
    EXPECT(zen2, "Haswell", NULL);
    ct_cpu_features zen4 = avx512_cpu(true, true);
    EXPECT(zen4, "Prescott", "Cooperlake");
    EXPECT(zen4, "Zen", "Cooperlake");
    EXPECT(zen4, "Cooperlake", NULL);

    /* Nothing better than AVX: ctcir leaves OpenBLAS's choice alone */
    ct_cpu_features avx_only = {.avx = true, .os_ymm = true};
    EXPECT(avx_only, "Prescott", NULL);
    ct_cpu_features no_fma = avx2_cpu(false);
    no_fma.fma = false;
    EXPECT(no_fma, "Prescott", NULL);
    ct_cpu_features no_ymm = avx2_cpu(false);
    no_ymm.os_ymm = false;
    EXPECT(no_ymm, "Prescott", NULL);
    ct_cpu_features none = {0};
    EXPECT(none, "Prescott", NULL);

    /* Feature text: only what the OS lets run */
    char s[200];
    ct_cpu_features_str(&xeon, s, sizeof s);
    CHECK_MSG(strcmp(s, "avx fma avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16") == 0, "%s", s);
    ct_cpu_features_str(&no_zmm, s, sizeof s);
    CHECK_MSG(strcmp(s, "avx fma avx2") == 0, "%s", s);
    ct_cpu_features_str(&none, s, sizeof s);
    CHECK_MSG(strcmp(s, "none") == 0, "%s", s);
    char tiny[8];
    ct_cpu_features_str(&xeon, tiny, sizeof tiny); /* truncated, still terminated */
    CHECK(strlen(tiny) < sizeof tiny);

    /* This machine: the preferred kernel is never worse than any fallback, and a CPU never
     * prefers a kernel over the one it prefers itself (the choice is a fixed point). */
    ct_cpu_features here;
    ct_cpu_detect(&here);
    const char *best = ct_blas_kernel_preferred(&here, "Prescott");
    if (best) CHECK_MSG(ct_blas_kernel_preferred(&here, best) == NULL, "prefers %s over %s", best, best);
    CHECK(!here.os_zmm || here.os_ymm);
    ct_cpu_features_str(&here, s, sizeof s);
    printf("this CPU: %s family %d model %d, %s; OpenBLAS kernel %s, preferred over a fallback: %s\n", here.vendor,
           here.family, here.model, s, ct_blas_kernel(), best ? best : "none");
    return test_finish();
}
