/* Core utilities: status messages, the RNG and the parameter layout table. */
#include <string.h>

#include "core/params.h"
#include "core/rng.h"
#include "ctcir/status.h"
#include "test_util.h"

static void test_status(void) {
    ct_error_clear();
    CHECK(ct_error()[0] == '\0');
    ct_status s = ct_fail(CT_ERR_FORMAT, "file %s: field %d", "x.json", 7);
    CHECK(s == CT_ERR_FORMAT);
    CHECK(strcmp(ct_error(), "file x.json: field 7") == 0);
    CHECK(strcmp(ct_status_name(CT_ERR_IO), "io") == 0);
    ct_fail(CT_ERR_IO, "inner %d", 1);
    ct_fail(CT_ERR_IO, "outer: %s", ct_error()); /* context prefixed onto the message itself */
    CHECK(strcmp(ct_error(), "outer: inner 1") == 0);
}

static void test_rng(void) {
    ct_rng a, b;
    ct_rng_seed(&a, 42);
    ct_rng_seed(&b, 42);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= ct_rng_next(&a) == ct_rng_next(&b);
    CHECK(same);
    ct_rng_seed(&b, 43);
    CHECK(ct_rng_next(&a) != ct_rng_next(&b));
    double sum = 0, sq = 0;
    int n = 200000, in_range = 1;
    for (int i = 0; i < n; i++) {
        double u = ct_rng_uniform(&a);
        in_range &= u >= 0 && u < 1;
        double z = ct_rng_normal(&a);
        sum += z;
        sq += z * z;
        in_range &= ct_rng_below(&a, 7) < 7;
    }
    CHECK(in_range);
    CHECK(fabs(sum / n) < 0.01);
    CHECK(fabs(sq / n - 1) < 0.02);
}

static void test_params(void) {
    ct_params p;
    ct_params_init(&p);
    int64_t s1[2] = {3, 5}, s2[1] = {7};
    int i1 = -1, i2 = -1, i3 = -1;
    CHECK(ct_params_add(&p, "a.weight", 2, s1, &i1) == CT_OK);
    CHECK(ct_params_add(&p, "a.bias", 1, s2, &i2) == CT_OK);
    CHECK(ct_params_add(&p, "logit_scale", 0, NULL, &i3) == CT_OK);
    CHECK(ct_params_add(&p, "a.bias", 1, s2, NULL) == CT_ERR_ARG);
    CHECK(i1 == 0 && i2 == 1 && i3 == 2);
    CHECK(p.entries[1].offset == 16 && p.entries[2].offset == 32);
    CHECK(p.entries[2].numel == 1);
    CHECK(ct_params_alloc(&p) == CT_OK);
    CHECK(((uintptr_t)ct_param(&p, i2) % 64) == 0);
    CHECK(ct_params_find(&p, "a.bias") == 1 && ct_params_find(&p, "zz") == -1);
    CHECK(ct_params_add(&p, "late", 1, s2, NULL) == CT_ERR_ARG);
    ct_grad(&p, i1)[3] = 2.0f;
    ct_params_zero_grad(&p);
    CHECK(ct_grad(&p, i1)[3] == 0.0f);
    ct_params_free(&p);
}

int main(void) {
    test_status();
    test_rng();
    test_params();
    return test_finish();
}
