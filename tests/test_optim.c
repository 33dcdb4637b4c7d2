/* AdamW, the schedule and clipping, against the formulas of model.md section 7 written out
 * independently in double. */
#include "test_util.h"
#include "train/optim.h"

static void test_schedule(void) {
    ct_lr_schedule s = {.lr_max = 2e-5, .lr_min = 2e-7, .warmup = 500, .cycle = 2500, .cycle_mult = 2};
    CHECK(fabs(ct_lr_at(&s, 1) - 2e-5 / 500) < 1e-15);
    CHECK(fabs(ct_lr_at(&s, 250) - 1e-5) < 1e-15);
    CHECK(fabs(ct_lr_at(&s, 500) - 2e-5) < 1e-15);
    CHECK(fabs(ct_lr_at(&s, 501) - 2e-5) < 1e-15); /* cosine starts at the top */
    double mid = 2e-7 + 0.5 * (2e-5 - 2e-7) * (1 + cos(M_PI * 1250 / 2500.0));
    CHECK(fabs(ct_lr_at(&s, 501 + 1250) - mid) < 1e-15);
    CHECK(fabs(ct_lr_at(&s, 501 + 2500) - 2e-5) < 1e-15); /* first restart */
    double second = 2e-7 + 0.5 * (2e-5 - 2e-7) * (1 + cos(M_PI * 1000 / 5000.0));
    CHECK(fabs(ct_lr_at(&s, 501 + 2500 + 1000) - second) < 1e-15); /* second cycle twice as long */
    CHECK(fabs(ct_lr_at(&s, 501 + 7500) - 2e-5) < 1e-15);
    ct_lr_schedule c = {.lr_max = 1e-3, .lr_min = 1e-3, .warmup = 0, .cycle = 10, .cycle_mult = 2};
    int constant = 1;
    for (int t = 1; t < 100; t++) constant &= fabs(ct_lr_at(&c, t) - 1e-3) < 1e-18;
    CHECK(constant);
}

static void test_adamw(void) {
    ct_params p;
    ct_params_init(&p);
    int64_t s2[2] = {2, 3}, s1[1] = {3};
    int iw, ib, ifz, iun;
    ct_params_add(&p, "w", 2, s2, &iw);
    ct_params_add(&p, "b", 1, s1, &ib);
    ct_params_add(&p, "frozen", 1, s1, &ifz);
    ct_params_add(&p, "unused", 2, s2, &iun);
    CHECK(ct_params_alloc(&p) == CT_OK && ct_params_alloc_moments(&p) == CT_OK);
    p.entries[ifz].frozen = true;
    p.entries[iun].used = false;
    double w[6], b[3], mw[6] = {0}, vw[6] = {0}, mb[3] = {0}, vb[3] = {0};
    for (int i = 0; i < 6; i++) ct_param(&p, iw)[i] = (float)(w[i] = 0.1 * (i - 2));
    for (int i = 0; i < 3; i++) ct_param(&p, ib)[i] = (float)(b[i] = 0.3 * i);
    for (int i = 0; i < 3; i++) ct_param(&p, ifz)[i] = 5, ct_param(&p, iun)[i] = 7;
    ct_adamw o = {.beta1 = 0.9, .beta2 = 0.98, .eps = 1e-8, .weight_decay = 0.01, .max_grad_norm = 1.0};
    for (int t = 1; t <= 3; t++) {
        double gw[6], gb[3], norm2 = 0;
        for (int i = 0; i < 6; i++) {
            gw[i] = (i + 1) * 0.4 * t;
            norm2 += gw[i] * gw[i];
        }
        for (int i = 0; i < 3; i++) {
            gb[i] = -0.2 * (i + t);
            norm2 += gb[i] * gb[i];
        }
        for (int i = 0; i < 6; i++) ct_grad(&p, iw)[i] = (float)gw[i];
        for (int i = 0; i < 3; i++) ct_grad(&p, ib)[i] = (float)gb[i];
        for (int i = 0; i < 3; i++) ct_grad(&p, ifz)[i] = 100, ct_grad(&p, iun)[i] = 100;
        double norm = ct_grad_norm(&p);
        CHECK(fabs(norm - sqrt(norm2)) < 1e-5 * sqrt(norm2));
        double lr = 0.01, clip = fmin(1.0, 1.0 / (norm + 1e-6));
        CHECK(ct_adamw_step(&o, &p, lr, t, norm)); /* finite weights: true */
        /* the reference update in double */
        double bc1 = 1 - pow(0.9, t), bc2 = 1 - pow(0.98, t);
        for (int i = 0; i < 9; i++) {
            int is_w = i < 6;
            double *x = is_w ? &w[i] : &b[i - 6], *m = is_w ? &mw[i] : &mb[i - 6], *v = is_w ? &vw[i] : &vb[i - 6];
            double g = (is_w ? gw[i] : gb[i - 6]) * clip;
            if (is_w) *x *= 1 - lr * 0.01;
            *m = 0.9 * *m + 0.1 * g;
            *v = 0.98 * *v + 0.02 * g * g;
            *x -= lr / bc1 * *m / (sqrt(*v) / sqrt(bc2) + 1e-8);
        }
        double err = 0;
        for (int i = 0; i < 6; i++) err = fmax(err, fabs(ct_param(&p, iw)[i] - w[i]));
        for (int i = 0; i < 3; i++) err = fmax(err, fabs(ct_param(&p, ib)[i] - b[i]));
        CHECK_MSG(err < 1e-6, "step %d: max error %g", t, err);
    }
    CHECK(ct_param(&p, ifz)[0] == 5 && ct_param(&p, iun)[0] == 7);
    /* an update that overflows a weight is reported, a frozen or unused NaN is not (never updated) */
    ct_param(&p, ifz)[1] = NAN;
    CHECK(ct_adamw_step(&o, &p, 0.01, 4, 1.0));
    CHECK(!ct_adamw_step(&o, &p, 1e39, 5, 1.0)); /* step size overflows float */
    ct_grad(&p, ib)[1] = NAN;
    CHECK(ct_grad_first_nonfinite(&p) == ib);
    ct_params_free(&p);
}

int main(void) {
    test_schedule();
    test_adamw();
    return test_finish();
}
