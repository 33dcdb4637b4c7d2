/* Training checkpoints: a ctcir model folder plus optimizer.safetensors (the AdamW moments,
 * "m.<name>" and "v.<name>") and trainer_state.json (step, sampler state, effective config). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "core/dirio.h"
#include "core/fileio.h"
#include "ctcir/safetensors.h"

static ct_status write_optimizer(const ct_model *m, const char *path) {
    ct_st_writer *w = NULL;
    ct_status s = ct_st_writer_new(&w);
    if (s) return s;
    if (!(s = ct_params_add_block(w, &m->params, m->params.m, "m.")) && !(s = ct_params_add_block(w, &m->params, m->params.v, "v.")))
        s = ct_st_writer_save(w, path);
    ct_st_writer_free(w);
    return s;
}

static ct_status write_state(const ct_trainer_state *st, const char *config_json, const char *path) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", (double)st->step);
    cJSON *smp = cJSON_AddObjectToObject(j, "sampler");
    char buf[32];
    cJSON *rng = cJSON_AddArrayToObject(smp, "rng");
    for (int i = 0; i < 4; i++) { /* 64-bit words as strings: JSON numbers lose bits */
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)st->sampler.rng[i]);
        cJSON_AddItemToArray(rng, cJSON_CreateString(buf));
    }
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)st->sampler.seed);
    cJSON_AddStringToObject(smp, "seed", buf);
    cJSON_AddNumberToObject(smp, "n_sources", st->sampler.n_sources);
    cJSON_AddNumberToObject(smp, "shuffle", st->sampler.shuffle);
    cJSON *ep = cJSON_AddArrayToObject(smp, "epoch"), *pos = cJSON_AddArrayToObject(smp, "pos");
    for (int i = 0; i < st->sampler.n_sources; i++) {
        cJSON_AddItemToArray(ep, cJSON_CreateNumber((double)st->sampler.epoch[i]));
        cJSON_AddItemToArray(pos, cJSON_CreateNumber((double)st->sampler.pos[i]));
    }
    cJSON *cfg = config_json ? cJSON_Parse(config_json) : NULL;
    if (cfg) cJSON_AddItemToObject(j, "config", cfg);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return ct_fail(CT_ERR_NOMEM, "checkpoint: out of memory");
    ct_status s = ct_write_file_atomic(path, text, strlen(text));
    free(text);
    return s;
}

ct_status ct_checkpoint_save(const ct_model *m, const ct_trainer_state *st, const char *config_json,
                             const char *dir) {
    char tmp[4096], path[4200];
    ct_status s = ct_dir_begin(dir, tmp, sizeof tmp);
    if (s) return s;
    if ((s = ct_model_write_files(m, tmp))) goto fail;
    snprintf(path, sizeof path, "%s/optimizer.safetensors", tmp);
    if ((s = write_optimizer(m, path))) goto fail;
    snprintf(path, sizeof path, "%s/trainer_state.json", tmp);
    if ((s = write_state(st, config_json, path))) goto fail;
    return ct_dir_commit(tmp, dir);
fail:
    ct_remove_dir(tmp);
    return s;
}

static ct_status read_u64(const cJSON *v, uint64_t *out, const char *path, const char *what) {
    if (cJSON_IsString(v)) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v->valuestring, &end, 10);
        if (!errno && *end == '\0' && end != v->valuestring) { *out = x; return CT_OK; }
    } else if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
        *out = (uint64_t)v->valuedouble;
        return CT_OK;
    }
    return ct_fail(CT_ERR_FORMAT, "%s: %s: expected an unsigned integer", path, what);
}

ct_status ct_checkpoint_load_state(ct_model *m, ct_trainer_state *st, const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    char *text;
    size_t n;
    ct_status s = ct_read_file(path, &text, &n, 64u << 20);
    if (s) return s;
    cJSON *j = cJSON_Parse(text);
    free(text);
    memset(st, 0, sizeof *st);
    const cJSON *step = j ? cJSON_GetObjectItemCaseSensitive(j, "step") : NULL;
    const cJSON *smp = j ? cJSON_GetObjectItemCaseSensitive(j, "sampler") : NULL;
    if (!cJSON_IsNumber(step) || !cJSON_IsObject(smp)) {
        cJSON_Delete(j);
        return ct_fail(CT_ERR_FORMAT, "%s: missing \"step\" or \"sampler\"", path);
    }
    st->step = (int64_t)step->valuedouble;
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(smp, "rng");
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(smp, "epoch"), *pos = cJSON_GetObjectItemCaseSensitive(smp, "pos");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(smp, "n_sources"), *sh = cJSON_GetObjectItemCaseSensitive(smp, "shuffle");
    if (cJSON_GetArraySize(rng) != 4 || !cJSON_IsNumber(ns) || !cJSON_IsNumber(sh) || ns->valueint < 0 ||
        ns->valueint > CT_SAMPLER_MAX_SOURCES || cJSON_GetArraySize(ep) != ns->valueint || cJSON_GetArraySize(pos) != ns->valueint) {
        cJSON_Delete(j);
        return ct_fail(CT_ERR_FORMAT, "%s: malformed \"sampler\"", path);
    }
    for (int i = 0; i < 4 && !s; i++) s = read_u64(cJSON_GetArrayItem(rng, i), &st->sampler.rng[i], path, "sampler.rng");
    if (!s) s = read_u64(cJSON_GetObjectItemCaseSensitive(smp, "seed"), &st->sampler.seed, path, "sampler.seed");
    st->sampler.n_sources = ns->valueint;
    st->sampler.shuffle = sh->valueint;
    for (int i = 0; i < ns->valueint && !s; i++) {
        s = read_u64(cJSON_GetArrayItem(ep, i), &st->sampler.epoch[i], path, "sampler.epoch");
        if (!s) s = read_u64(cJSON_GetArrayItem(pos, i), &st->sampler.pos[i], path, "sampler.pos");
    }
    cJSON_Delete(j);
    if (s) return s;
    /* the moments */
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    ct_st_file *f = NULL;
    if ((s = ct_st_open(&f, path))) return s;
    char name[CT_PARAM_NAME_MAX + 4];
    for (int i = 0; i < m->params.count && !s; i++) {
        const ct_param_entry *e = &m->params.entries[i];
        for (int k = 0; k < 2 && !s; k++) {
            snprintf(name, sizeof name, "%s.%s", k ? "v" : "m", e->name);
            const ct_st_tensor *t = ct_st_find(f, name);
            if (!t || t->numel != e->numel) s = ct_fail(CT_ERR_SHAPE, "%s: tensor '%s' missing or of the wrong size", path, name);
            else s = ct_st_read_f32(f, t, (k ? m->params.v : m->params.m) + e->offset);
        }
    }
    ct_st_close(f);
    return s;
}

ct_status ct_checkpoint_find_latest(const char *dir, char *out, size_t cap) {
    struct stat st;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/trainer_state.json", dir);
    if (stat(probe, &st) == 0) {
        snprintf(out, cap, "%s", dir);
        return CT_OK;
    }
    DIR *d = opendir(dir);
    if (!d) return ct_fail(CT_ERR_IO, "resume: cannot open %s: %s", dir, strerror(errno));
    long long best = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        long long step;
        char tail;
        if (sscanf(e->d_name, "checkpoint-%lld%c", &step, &tail) == 1 && step > best) {
            snprintf(probe, sizeof probe, "%s/%s/trainer_state.json", dir, e->d_name);
            if (stat(probe, &st) == 0) best = step;
        }
    }
    closedir(d);
    if (best < 0) return ct_fail(CT_ERR_IO, "resume: %s holds no checkpoint (no trainer_state.json)", dir);
    snprintf(out, cap, "%s/checkpoint-%08lld", dir, best);
    return CT_OK;
}

ct_status ct_checkpoint_prune(const char *dir, int keep) {
    DIR *d = opendir(dir);
    if (!d) return ct_fail(CT_ERR_IO, "checkpoint: cannot open %s: %s", dir, strerror(errno));
    long long steps[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096) {
        long long step;
        char tail;
        if (sscanf(e->d_name, "checkpoint-%lld%c", &step, &tail) == 1) steps[n++] = step;
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort, newest first */
        for (int k = i; k > 0 && steps[k] > steps[k - 1]; k--) {
            long long t = steps[k];
            steps[k] = steps[k - 1], steps[k - 1] = t;
        }
    char path[4200];
    for (int i = keep; i < n; i++) {
        snprintf(path, sizeof path, "%s/checkpoint-%08lld", dir, steps[i]);
        ct_remove_dir(path);
    }
    return CT_OK;
}

ct_status ct_checkpoint_link_last(const char *dir, const char *name) {
    char link[4200], tmp[4300];
    snprintf(link, sizeof link, "%s/last", dir);
    snprintf(tmp, sizeof tmp, "%s/.last.tmp-%ld", dir, (long)getpid());
    unlink(tmp);
    if (symlink(name, tmp) != 0 || rename(tmp, link) != 0)
        return ct_fail(CT_ERR_IO, "checkpoint: cannot point %s at %s: %s", link, name, strerror(errno));
    return CT_OK;
}
