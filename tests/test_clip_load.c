/* Weight loading: one error that names every missing tensor, unexpected tensor and shape
 * mismatch; F16 and BF16 copies of a kit model (written here with the safetensors writer)
 * load to F32 and still compute the reference embeddings within the precision they carry. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "clip/clip.h"
#include "ctcir/safetensors.h"
#include "test_util.h"

static char kit[512], tmpdir[256];

/* float32 -> IEEE half, round to nearest even (normal, subnormal, overflow to inf) */
static uint16_t to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds to >= 65520: inf */
    if (absx < 0x38800000u) {                                   /* subnormal half: value / 2^-24 rounded to even */
        float a;
        memcpy(&a, &absx, 4);
        double q = (double)a * 16777216.0;
        double r = nearbyint(q);
        return (uint16_t)(sign | (uint32_t)r);
    }
    uint32_t mant = absx & 0x7fffffu, exp = (absx >> 23) - 127 + 15;
    uint32_t h = (exp << 10) | (mant >> 13), rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static uint16_t to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t rest = x & 0xffffu, h = x >> 16;
    if (rest > 0x8000u || (rest == 0x8000u && (h & 1u))) h++;
    return (uint16_t)h;
}

typedef enum { EDIT_NONE, EDIT_BREAK, EDIT_NAN } edit_mode;

/* Copies the kit model's weights into path, optionally converted to dtype and broken. */
static int write_variant(const char *path, ct_dtype dtype, edit_mode mode) {
    char src[600];
    snprintf(src, sizeof src, "%s/model.safetensors", kit);
    ct_st_file *f = NULL;
    if (ct_st_open(&f, src) != CT_OK) return 0;
    ct_st_writer *w = NULL;
    ct_st_writer_new(&w);
    for (int i = 0; i < ct_st_count(f); i++) {
        const ct_st_tensor *t = ct_st_at(f, i);
        if (mode == EDIT_BREAK && strcmp(t->name, "vision_model.post_layernorm.bias") == 0) continue; /* missing */
        int64_t shape[CT_ST_MAX_DIMS];
        memcpy(shape, t->shape, sizeof shape);
        if (mode == EDIT_BREAK && strcmp(t->name, "text_model.encoder.layers.1.mlp.fc1.weight") == 0)
            shape[0] -= 1; /* shape mismatch */
        if (t->dtype != CT_DT_F32) {
            ct_st_writer_add_copy(w, t->name, t->dtype, t->ndim, shape, t->data);
            continue;
        }
        size_t n = 1;
        for (int d = 0; d < t->ndim; d++) n *= (size_t)shape[d];
        float *x = malloc(t->numel * sizeof *x);
        ct_st_read_f32(f, t, x); /* the first n <= numel are written */
        if (mode == EDIT_NAN && strcmp(t->name, "vision_model.encoder.layers.0.mlp.fc1.weight") == 0) x[5] = NAN;
        if (mode == EDIT_NAN && strcmp(t->name, "text_model.final_layer_norm.bias") == 0) x[0] = -INFINITY;
        if (dtype == CT_DT_F32) {
            ct_st_writer_add_copy(w, t->name, CT_DT_F32, t->ndim, shape, x);
        } else {
            uint16_t *h = malloc(n * sizeof *h + 2);
            for (size_t k = 0; k < n; k++) h[k] = dtype == CT_DT_F16 ? to_f16(x[k]) : to_bf16(x[k]);
            ct_st_writer_add_copy(w, t->name, dtype, t->ndim, shape, h);
            free(h);
        }
        free(x);
    }
    if (mode == EDIT_BREAK) {
        float extra[4] = {1, 2, 3, 4};
        int64_t s4[1] = {4};
        ct_st_writer_add_copy(w, "text_model.pooler.weight", CT_DT_F32, 1, s4, extra); /* unexpected */
    }
    ct_status s = ct_st_writer_save(w, path);
    ct_st_writer_free(w);
    ct_st_close(f);
    return s == CT_OK;
}

static int load_into(ct_clip *m, ct_params *p, const char *weights) {
    char cfgp[600];
    snprintf(cfgp, sizeof cfgp, "%s/config.json", kit);
    ct_clip_config cfg;
    ct_params_init(p);
    if (ct_clip_config_load(&cfg, cfgp) != CT_OK || ct_clip_register(m, &cfg, p) != CT_OK ||
        ct_params_alloc(p) != CT_OK)
        return -1;
    return (int)ct_clip_load_weights(m, weights);
}

static void test_errors(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/broken.safetensors", tmpdir);
    CHECK(write_variant(path, CT_DT_F32, EDIT_BREAK));
    ct_clip m;
    ct_params p;
    int s = load_into(&m, &p, path);
    CHECK(s == CT_ERR_SHAPE);
    const char *e = ct_error();
    CHECK_MSG(strstr(e, "missing tensor 'vision_model.post_layernorm.bias'") != NULL, "message: %s", e);
    CHECK_MSG(strstr(e, "unexpected tensor 'text_model.pooler.weight'") != NULL, "message: %s", e);
    CHECK_MSG(strstr(e, "'text_model.encoder.layers.1.mlp.fc1.weight' shape mismatch: expected [128,32], file has "
                        "[127,32]") != NULL,
              "message: %s", e);
    CHECK_MSG(strstr(e, "broken.safetensors") && strstr(e, "3 problem(s)"), "message: %s", e);
    CHECK_MSG(strstr(e, "position_ids") == NULL, "legacy position_ids are ignored: %s", e);
    ct_clip_free(&m);
    ct_params_free(&p);
    /* NaN/Inf weights are refused at load, naming the tensor (else eval ranks NaN scores) */
    CHECK(write_variant(path, CT_DT_F32, EDIT_NAN));
    s = load_into(&m, &p, path);
    e = ct_error();
    CHECK(s == CT_ERR_SHAPE);
    CHECK_MSG(strstr(e, "tensor 'vision_model.encoder.layers.0.mlp.fc1.weight' holds a non-finite value (nan at "
                        "element 5)") &&
                  strstr(e, "'text_model.final_layer_norm.bias' holds a non-finite value (-inf") &&
                  strstr(e, "broken.safetensors") && strstr(e, "2 problem(s)"),
              "message: %s", e);
    ct_clip_free(&m);
    ct_params_free(&p);
    CHECK(load_into(&m, &p, "/nonexistent.safetensors") == CT_ERR_IO);
    ct_clip_free(&m);
    ct_params_free(&p);
    unlink(path);
}

/* Loads the dtype variant; every weight equals the exact conversion of the F32 weight, and
 * the image/text embeddings stay within rel_tol x max|ref| of the reference. */
static void test_dtype(ct_dtype dtype, double rel_tol) {
    char path[512], refp[600];
    snprintf(path, sizeof path, "%s/model_%s.safetensors", tmpdir, ct_dtype_name(dtype));
    CHECK(write_variant(path, dtype, EDIT_NONE));
    ct_clip m, m32;
    ct_params p, p32;
    int s = load_into(&m, &p, path);
    CHECK_MSG(s == CT_OK, "%s: %s", ct_dtype_name(dtype), ct_error());
    snprintf(refp, sizeof refp, "%s/model.safetensors", kit);
    CHECK(load_into(&m32, &p32, refp) == CT_OK);
    if (s != CT_OK) goto out;
    size_t bad = 0;
    for (size_t i = 0; i < p.total; i++) {
        float want = p32.param[i];
        uint16_t h = dtype == CT_DT_F16 ? to_f16(want) : to_bf16(want);
        float conv = dtype == CT_DT_F16 ? ct_f16_to_f32(h) : ct_bf16_to_f32(h);
        bad += p.param[i] != conv;
    }
    CHECK_MSG(bad == 0, "%s: %zu weights differ from their exact conversion", ct_dtype_name(dtype), bad);
    snprintf(refp, sizeof refp, "%s/reference.safetensors", kit);
    ct_st_file *ref = NULL;
    if (ct_st_open(&ref, refp) != CT_OK) goto out;
    const ct_st_tensor *tp = ct_st_find(ref, "input.pixel_values"), *ti = ct_st_find(ref, "input.input_ids");
    const ct_st_tensor *ie = ct_st_find(ref, "image_embeds"), *te = ct_st_find(ref, "text_embeds");
    int N = (int)tp->shape[0], T = (int)ti->shape[0];
    float *pix = malloc(tp->numel * 4), *rie = malloc(ie->numel * 4), *rte = malloc(te->numel * 4);
    int64_t *ids = malloc(ti->numel * 8);
    ct_st_read_f32(ref, tp, pix);
    ct_st_read_f32(ref, ie, rie);
    ct_st_read_f32(ref, te, rte);
    ct_st_read_i64(ref, ti, ids);
    ct_clip_vision_acts va;
    ct_clip_text_acts ta;
    CHECK(ct_clip_vision_acts_new(&va, &m, N, false) == CT_OK && ct_clip_vision_forward(&m, &va, pix, N) == CT_OK);
    CHECK(ct_clip_text_acts_new(&ta, &m, T, false) == CT_OK && ct_clip_text_forward(&m, &ta, ids, T) == CT_OK);
    double di = 0, mi = 0, dt = 0, mt = 0;
    for (size_t i = 0; i < ie->numel; i++) di = fmax(di, fabs(va.embeds[i] - rie[i])), mi = fmax(mi, fabs(rie[i]));
    for (size_t i = 0; i < te->numel; i++) dt = fmax(dt, fabs(ta.embeds[i] - rte[i])), mt = fmax(mt, fabs(rte[i]));
    printf("%s: image_embeds rel diff %.2e, text_embeds rel diff %.2e\n", ct_dtype_name(dtype), di / mi, dt / mt);
    CHECK_MSG(di <= rel_tol * mi && dt <= rel_tol * mt, "%s: embeddings off by %.3g / %.3g of max",
              ct_dtype_name(dtype), di / mi, dt / mt);
    CHECK_MSG(di > 0 || dt > 0, "%s: the conversion changed nothing (test would not catch a no-op)",
              ct_dtype_name(dtype));
    ct_clip_vision_acts_free(&va);
    ct_clip_text_acts_free(&ta);
    free(pix);
    free(rie);
    free(rte);
    free(ids);
    ct_st_close(ref);
out:
    ct_clip_free(&m);
    ct_params_free(&p);
    ct_clip_free(&m32);
    ct_params_free(&p32);
    unlink(path);
}

int main(void) {
    snprintf(kit, sizeof kit, "%s/parity/models/tiny-vit-b", test_shared_dir());
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ctcir_test_clip_load_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    test_errors();
    /* half keeps 11 significant bits, bfloat16 8: the embeddings move accordingly */
    test_dtype(CT_DT_F16, 5e-3);
    test_dtype(CT_DT_BF16, 4e-2);
    rmdir(tmpdir);
    return test_finish();
}
