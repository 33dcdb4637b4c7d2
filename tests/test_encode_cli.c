/* `ctcir encode` end to end on both parity models: the binary ($CTCIR) writes embeddings,
 * intermediates (--all) and the gradients of the kit's linear loss (--loss-weights), which
 * must match reference.safetensors; texts given as JSON and PNG images given as files must
 * reproduce the kit's input ids and pixel values. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctcir/safetensors.h"
#include "test_util.h"

static ct_st_file *ref, *out;
static const char *model_name;

static float *get(ct_st_file *f, const char *name, size_t *n) {
    const ct_st_tensor *t = ct_st_find(f, name);
    if (!t) return NULL;
    float *x = malloc((t->numel ? t->numel : 1) * sizeof *x);
    ct_st_read_f32(f, t, x);
    *n = t->numel;
    return x;
}

/* out[name_out] vs ref[name_ref]: max diff <= tol * max|ref| (abs_tol if > 0) */
static void cmp(const char *name_out, const char *name_ref, double tol, double abs_tol) {
    size_t n = 0, m = 0;
    float *a = get(out, name_out, &n), *b = get(ref, name_ref, &m);
    CHECK_MSG(a && b && n == m, "%s: %s missing or %zu vs %zu elements", model_name, name_out, n, m);
    if (a && b && n == m) {
        double md = 0, mr = 0;
        for (size_t i = 0; i < n; i++) md = fmax(md, fabs((double)a[i] - b[i])), mr = fmax(mr, fabs(b[i]));
        double lim = abs_tol > 0 ? abs_tol : tol * mr;
        CHECK_MSG(md <= lim, "%s: %s: max diff %.3g > %.3g", model_name, name_out, md, lim);
    }
    free(a);
    free(b);
}

static void cmp_i64(const char *name_out, const char *name_ref, size_t rows_from, size_t rows_n) {
    const ct_st_tensor *a = ct_st_find(out, name_out), *b = ct_st_find(ref, name_ref);
    CHECK_MSG(a && b, "%s: %s missing", model_name, name_out);
    if (!a || !b) return;
    int64_t *x = malloc(a->numel * 8), *y = malloc(b->numel * 8);
    ct_st_read_i64(out, a, x);
    ct_st_read_i64(ref, b, y);
    size_t row = b->ndim > 1 ? (size_t)b->shape[1] : 1, n = rows_n ? rows_n * row : b->numel;
    CHECK_MSG(a->numel == n && memcmp(x, y + rows_from * row, n * 8) == 0, "%s: %s differs", model_name, name_out);
    free(x);
    free(y);
}

static int run(const char *args) {
    const char *bin = getenv("CTCIR");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s encode %s 2>/dev/null >/dev/null", bin && *bin ? bin : "build/ctcir", args);
    return system(cmd);
}

static void test_model(const char *model, const char *tmp) {
    char dir[512], refp[600], outp[600], args[3000];
    model_name = model;
    snprintf(dir, sizeof dir, "%s/parity/models/%s", test_shared_dir(), model);
    snprintf(refp, sizeof refp, "%s/reference.safetensors", dir);
    snprintf(outp, sizeof outp, "%s/%s.safetensors", tmp, model);
    if (ct_st_open(&ref, refp) != CT_OK) {
        CHECK_MSG(0, "%s: %s", model, ct_error());
        return;
    }
    /* 1. kit inputs, everything out; batch 2 so that chunking is exercised */
    snprintf(args, sizeof args, "--model %s --pixels %s --input-ids %s --all --loss-weights %s --batch 2 -t 2 --out %s",
             dir, refp, refp, refp, outp);
    CHECK_MSG(run(args) == 0, "%s: encode failed: %s", model, args);
    if (ct_st_open(&out, outp) == CT_OK) {
        const double ft = 2e-5, gt = 1e-4;
        const char *fwd[] = {"image_embeds",
                             "text_embeds",
                             "vision.last_hidden_state",
                             "vision.pooled_output",
                             "text.last_hidden_state",
                             "text.pooled_output",
                             "loss.value"};
        for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) cmp(fwd[i], fwd[i], ft, 0);
        cmp_i64("text.eot_index", "text.eot_index", 0, 0);
        cmp_i64("input.input_ids", "input.input_ids", 0, 0);
        cmp("input.pixel_values", "input.pixel_values", 0, 1e-30);
        cmp("grad.input.pixel_values", "grad.input.pixel_values", gt, 0);
        int n_grads = 0;
        for (int i = 0; i < ct_st_count(ref); i++) {
            const char *name = ct_st_at(ref, i)->name;
            if (strncmp(name, "grad.", 5) != 0 || strcmp(name, "grad.input.text_inputs_embeds") == 0 ||
                strcmp(name, "grad.logit_scale") == 0)
                continue;
            n_grads++;
            const char *kb = strstr(name, "self_attn.k_proj.bias");
            if (!kb) {
                cmp(name, name, gt, 0);
                continue;
            }
            char qn[300];
            size_t nq = 0;
            snprintf(qn, sizeof qn, "%.*sself_attn.q_proj.bias", (int)(kb - name), name);
            float *q = get(ref, qn, &nq);
            double qmax = 0;
            for (size_t k = 0; q && k < nq; k++) qmax = fmax(qmax, fabs(q[k]));
            free(q);
            cmp(name, name, 0, gt * qmax);
        }
        CHECK_MSG(n_grads > 30, "%s: only %d gradients compared", model, n_grads);
        /* dense token-embedding gradient: the kit's rows, zeros elsewhere */
        size_t nt = 0, nv = 0;
        float *g = get(out, "grad.text_model.embeddings.token_embedding.weight", &nt);
        float *vals = get(ref, "grad_rows.text_model.embeddings.token_embedding.weight.values", &nv);
        const ct_st_tensor *ti = ct_st_find(ref, "grad_rows.text_model.embeddings.token_embedding.weight.ids");
        if (g && vals && ti) {
            int64_t *ids = malloc(ti->numel * 8);
            ct_st_read_i64(ref, ti, ids);
            size_t D = nv / ti->numel;
            double md = 0, mr = 0, outside = 0;
            char *listed = calloc(nt / D, 1);
            for (size_t k = 0; k < ti->numel; k++) {
                listed[ids[k]] = 1;
                for (size_t d = 0; d < D; d++) {
                    md = fmax(md, fabs((double)g[ids[k] * D + d] - vals[k * D + d]));
                    mr = fmax(mr, fabs(vals[k * D + d]));
                }
            }
            for (size_t r = 0; r < nt / D; r++)
                for (size_t d = 0; !listed[r] && d < D; d++) outside = fmax(outside, fabs(g[r * D + d]));
            CHECK_MSG(md <= gt * mr && outside == 0, "%s: token embedding grad: diff %.3g, outside rows %.3g", model,
                      md, outside);
            free(ids);
            free(listed);
        } else {
            CHECK_MSG(0, "%s: token embedding gradient missing", model);
        }
        free(g);
        free(vals);
        ct_st_close(out);
        out = NULL;
    }
    /* 2. raw inputs: the kit's texts (JSON file) and its PNG images */
    char jsonp[600], texts_path[600];
    snprintf(jsonp, sizeof jsonp, "%s/reference.json", dir);
    snprintf(texts_path, sizeof texts_path, "%s/texts.json", tmp);
    FILE *f = fopen(jsonp, "rb");
    char *buf = malloc(1 << 20);
    size_t len = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    if (f) fclose(f);
    buf[len] = 0;
    cJSON *root = cJSON_Parse(buf), *texts = cJSON_GetObjectItem(root, "texts");
    char *tj = texts ? cJSON_Print(texts) : NULL;
    f = fopen(texts_path, "wb");
    if (f && tj) fputs(tj, f);
    if (f) fclose(f);
    free(tj);
    cJSON_Delete(root);
    free(buf);
    snprintf(args, sizeof args,
             "--model %s --image %s/parity/images/img0_97x61.png --image %s/parity/images/img2_61x203_rgba.png "
             "--texts %s --all --out %s",
             dir, test_shared_dir(), test_shared_dir(), texts_path, outp);
    CHECK_MSG(run(args) == 0, "%s: encode failed: %s", model, args);
    if (ct_st_open(&out, outp) == CT_OK) {
        cmp_i64("input.input_ids", "input.input_ids", 0, 0);
        cmp("text_embeds", "text_embeds", 2e-5, 0);
        size_t n = 0, m = 0;
        float *px = get(out, "input.pixel_values", &n), *rp = get(ref, "input.pixel_values", &m);
        size_t per = m / 5;
        double d = 0;
        for (size_t i = 0; px && rp && n == 2 * per && i < per; i++) {
            d = fmax(d, fabs(px[i] - rp[i]));
            d = fmax(d, fabs(px[per + i] - rp[2 * per + i]));
        }
        CHECK_MSG(px && n == 2 * per && d <= 1e-6, "%s: PNG pixel values differ by %.3g", model, d);
        free(px);
        free(rp);
        ct_st_close(out);
        out = NULL;
    }
    unlink(texts_path);
    unlink(outp);
    ct_st_close(ref);
    ref = NULL;
}

int main(void) {
    char tmp[] = "/tmp/ctcir_test_encode_XXXXXX";
    if (!mkdtemp(tmp)) return 1;
    test_model("tiny-vit-b", tmp);
    test_model("tiny-gelu", tmp);
    /* usage errors exit 2, runtime errors 1 */
    CHECK(WEXITSTATUS(run("--out /tmp/x.safetensors")) == 2);
    CHECK(WEXITSTATUS(run("--model /nonexistent --text hi --out /tmp/ctcir_never.safetensors")) == 1);
    CHECK(WEXITSTATUS(run("--model x --out y --batch 0 --text a")) == 2);
    rmdir(tmp);
    return test_finish();
}
