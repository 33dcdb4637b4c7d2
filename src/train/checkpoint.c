/* Training checkpoints: a ctcir model folder plus optimizer.safetensors (the AdamW moments,
 * "m.<name>" and "v.<name>") and trainer_state.json (step, sampler state, effective config). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dirio.h"
#include "core/fileio.h"
#include "core/json.h"
#include "ctcir/log.h"
#include "ctcir/safetensors.h"
#include "ctcir/version.h"
#include "train/checkpoint.h"

static ct_status write_optimizer(const ct_model *m, const char *path) {
    ct_st_writer *w = NULL;
    ct_status s = ct_st_writer_new(&w);
    if (s) return s;
    if (!(s = ct_params_add_block(w, &m->params, m->params.m, "m.")) &&
        !(s = ct_params_add_block(w, &m->params, m->params.v, "v.")))
        s = ct_st_writer_save(w, path);
    ct_st_writer_free(w);
    return s;
}

static ct_status write_state(const ct_trainer_state *st, const char *config_json, const char *path) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", (double)st->step);
    cJSON_AddStringToObject(j, "run_id", st->run_id);
    cJSON_AddStringToObject(j, "ctcir_version", ctcir_version());
    cJSON_AddStringToObject(j, "ctcir_commit", ctcir_commit());
    if (st->has_best) {
        cJSON *b = cJSON_AddObjectToObject(j, "best");
        cJSON_AddStringToObject(b, "metric", st->best_metric);
        cJSON_AddNumberToObject(b, "value", st->best_value);
        cJSON_AddNumberToObject(b, "step", (double)st->best_step);
    }
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
    char *text = ct_json_print_indented(j);
    cJSON_Delete(j);
    if (!text) return ct_fail(CT_ERR_NOMEM, "checkpoint: out of memory");
    ct_status s = ct_write_file_atomic(path, text, strlen(text));
    free(text);
    return s;
}

ct_status ct_checkpoint_save(const ct_model *m, const ct_trainer_state *st, const char *config_json, const char *dir) {
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

/* Below 2^64: larger doubles do not convert (undefined behaviour). */
#define U64_LIMIT 18446744073709551616.0

static ct_status read_u64(const cJSON *v, uint64_t *out, const char *path, const char *what) {
    if (cJSON_IsString(v)) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v->valuestring, &end, 10);
        if (!errno && *end == '\0' && end != v->valuestring && v->valuestring[0] != '-') {
            *out = x;
            return CT_OK;
        }
    } else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < U64_LIMIT &&
               v->valuedouble == floor(v->valuedouble)) {
        *out = (uint64_t)v->valuedouble;
        return CT_OK;
    }
    return ct_fail(CT_ERR_FORMAT, "%s: %s: expected an unsigned 64-bit integer", path, what);
}

/* A JSON number that is an integer in [lo, hi]. */
static bool int_in(const cJSON *v, int64_t lo, int64_t hi) {
    int64_t x;
    return ct_json_int_in(v, lo, hi, &x);
}

static ct_status parse_state(ct_trainer_state *st, const cJSON *j, const char *path) {
    memset(st, 0, sizeof *st);
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
    const cJSON *smp = cJSON_GetObjectItemCaseSensitive(j, "sampler");
    if (!cJSON_IsNumber(step) || !cJSON_IsObject(smp))
        return ct_fail(CT_ERR_FORMAT, "%s: missing \"step\" or \"sampler\"", path);
    if (!int_in(step, 0, CT_MAX_STEP))
        return ct_fail(CT_ERR_FORMAT, "%s: \"step\" %g is not an integer in 0..2^53", path, step->valuedouble);
    st->step = (int64_t)step->valuedouble;
    const char *run = ct_json_str(j, "run_id");
    if (run) snprintf(st->run_id, sizeof st->run_id, "%s", run);
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(j, "best");
    if (cJSON_IsObject(best)) {
        const cJSON *bv = cJSON_GetObjectItemCaseSensitive(best, "value"),
                    *bs = cJSON_GetObjectItemCaseSensitive(best, "step");
        const char *bm = ct_json_str(best, "metric");
        if (!bm || !cJSON_IsNumber(bv) || !isfinite(bv->valuedouble) || !int_in(bs, 0, st->step))
            return ct_fail(CT_ERR_FORMAT, "%s: malformed \"best\"", path);
        st->has_best = true;
        st->best_value = bv->valuedouble;
        st->best_step = (int64_t)bs->valuedouble;
        snprintf(st->best_metric, sizeof st->best_metric, "%s", bm);
    }
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(smp, "rng");
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(smp, "epoch"),
                *pos = cJSON_GetObjectItemCaseSensitive(smp, "pos");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(smp, "n_sources"),
                *sh = cJSON_GetObjectItemCaseSensitive(smp, "shuffle");
    if (!cJSON_IsArray(rng) || cJSON_GetArraySize(rng) != 4 || !int_in(ns, 0, CT_SAMPLER_MAX_SOURCES) ||
        !int_in(sh, 0, 1) || !cJSON_IsArray(ep) || !cJSON_IsArray(pos) ||
        cJSON_GetArraySize(ep) != (int)ns->valuedouble || cJSON_GetArraySize(pos) != (int)ns->valuedouble)
        return ct_fail(CT_ERR_FORMAT, "%s: malformed \"sampler\"", path);
    ct_status s = CT_OK;
    for (int i = 0; i < 4 && !s; i++)
        s = read_u64(cJSON_GetArrayItem(rng, i), &st->sampler.rng[i], path, "sampler.rng");
    if (!s) s = read_u64(cJSON_GetObjectItemCaseSensitive(smp, "seed"), &st->sampler.seed, path, "sampler.seed");
    st->sampler.n_sources = (int32_t)ns->valuedouble;
    st->sampler.shuffle = (int32_t)sh->valuedouble;
    for (int i = 0; i < st->sampler.n_sources && !s; i++) {
        s = read_u64(cJSON_GetArrayItem(ep, i), &st->sampler.epoch[i], path, "sampler.epoch");
        if (!s) s = read_u64(cJSON_GetArrayItem(pos, i), &st->sampler.pos[i], path, "sampler.pos");
    }
    return s;
}

ct_status ct_checkpoint_read_state(ct_trainer_state *st, const char *dir) {
    char path[4500];
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    cJSON *j = NULL;
    ct_status s = ct_json_load(path, &j);
    if (s) return s;
    s = cJSON_IsObject(j) ? parse_state(st, j, path) : ct_fail(CT_ERR_FORMAT, "%s: not a JSON object", path);
    cJSON_Delete(j);
    return s;
}

ct_status ct_checkpoint_load_state(ct_model *m, ct_trainer_state *st, const char *dir) {
    char path[4200];
    ct_status s = ct_checkpoint_read_state(st, dir);
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
            if (!t || t->numel != e->numel)
                s = ct_fail(CT_ERR_SHAPE, "%s: tensor '%s' missing or of the wrong size", path, name);
            else
                s = ct_st_read_f32(f, t, (k ? m->params.v : m->params.m) + e->offset);
            const float *x = (k ? m->params.v : m->params.m) + e->offset;
            for (size_t i = 0; i < e->numel && !s; i++) /* v is a mean of squares */
                if (!isfinite(x[i]) || (k && x[i] < 0))
                    s = ct_fail(CT_ERR_FORMAT, "%s: tensor '%s' holds %g at %zu (must be finite%s)", path, name, x[i],
                                i, k ? " and >= 0" : "");
        }
    }
    ct_st_close(f);
    return s;
}

void ct_checkpoint_name(char *buf, size_t cap, int64_t step) { snprintf(buf, cap, "checkpoint-%lld", (long long)step); }

bool ct_checkpoint_parse_name(const char *name, int64_t *step) {
    if (strncmp(name, "checkpoint-", 11) != 0) return false;
    const char *p = name + 11;
    if (*p < '0' || *p > '9') return false;
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > CT_MAX_STEP) return false;
        v = v * 10 + (*p - '0');
    }
    *step = v;
    return true;
}

static bool has_state(const char *dir, const char *name) {
    char probe[4400];
    struct stat st;
    snprintf(probe, sizeof probe, "%s/%s/trainer_state.json", dir, name);
    return stat(probe, &st) == 0 && S_ISREG(st.st_mode);
}

ct_status ct_checkpoint_find_latest(const char *dir, char *out, size_t cap) {
    if (has_state(dir, ".")) {
        snprintf(out, cap, "%s", dir);
        return CT_OK;
    }
    char link[4200], target[256];
    snprintf(link, sizeof link, "%s/last", dir);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        int64_t step;
        if (!strchr(target, '/') && ct_checkpoint_parse_name(target, &step) && has_state(dir, target)) {
            snprintf(out, cap, "%s/%s", dir, target);
            return CT_OK;
        }
    }
    DIR *d = opendir(dir);
    if (!d) return ct_fail(CT_ERR_IO, "resume: cannot open %s: %s", dir, strerror(errno));
    int64_t best = -1;
    char best_name[256] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        int64_t step;
        if (ct_checkpoint_parse_name(e->d_name, &step) && step > best && strlen(e->d_name) < sizeof best_name &&
            has_state(dir, e->d_name)) {
            best = step;
            snprintf(best_name, sizeof best_name, "%s", e->d_name);
        }
    }
    closedir(d);
    if (best < 0) return ct_fail(CT_ERR_IO, "resume: %s holds no checkpoint (no trainer_state.json)", dir);
    snprintf(out, cap, "%s/%s", dir, best_name);
    return CT_OK;
}

typedef struct {
    int64_t step;
    char name[64];
} named_step;

static int newest_first(const void *a, const void *b) {
    const int64_t x = ((const named_step *)a)->step, y = ((const named_step *)b)->step;
    return x < y ? 1 : x > y ? -1 : 0;
}

ct_status ct_checkpoint_prune(const char *dir, int keep, const char *run_id, bool include_legacy, const char *protect) {
    DIR *d = opendir(dir);
    if (!d) return ct_fail(CT_ERR_IO, "checkpoint: cannot open %s: %s", dir, strerror(errno));
    named_step *ours = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d))) {
        int64_t step;
        if (!ct_checkpoint_parse_name(e->d_name, &step) || strlen(e->d_name) >= sizeof ours->name) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ct_trainer_state st;
        if (ct_checkpoint_read_state(&st, path) != CT_OK) continue; /* not a checkpoint of ours to judge */
        if (strcmp(st.run_id, run_id) != 0 && !(include_legacy && st.run_id[0] == '\0')) continue;
        if (n == cap) {
            named_step *grown = realloc(ours, (cap = cap ? cap * 2 : 16) * sizeof *ours);
            if (!grown) break;
            ours = grown;
        }
        ours[n].step = step;
        if (snprintf(ours[n].name, sizeof ours[n].name, "%s", e->d_name) >= (int)sizeof ours[n].name) continue;
        n++;
    }
    closedir(d);
    if (n > 1) qsort(ours, n, sizeof *ours, newest_first);
    for (size_t i = (size_t)keep; i < n; i++) {
        if (protect && !strcmp(ours[i].name, protect)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, ours[i].name);
        ct_remove_dir(path);
    }
    free(ours);
    return CT_OK;
}

ct_status ct_checkpoint_link(const char *dir, const char *link_name, const char *name) {
    char link[4200], tmp[4300];
    snprintf(link, sizeof link, "%s/%s", dir, link_name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%ld", dir, link_name, (long)getpid());
    unlink(tmp);
    if (symlink(name, tmp) != 0 || rename(tmp, link) != 0) {
        ct_status s = ct_fail(CT_ERR_IO, "checkpoint: cannot point %s at %s: %s", link, name, strerror(errno));
        unlink(tmp);
        return s;
    }
    return CT_OK;
}

bool ct_checkpoint_dir_has_run(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    struct dirent *e;
    int64_t step;
    char path[4400];
    struct stat st;
    while (!found && (e = readdir(d))) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        found = ct_checkpoint_parse_name(e->d_name, &step) || !strcmp(e->d_name, "last") ||
                !strcmp(e->d_name, "best") ||
                (!strcmp(e->d_name, "metrics.jsonl") && stat(path, &st) == 0 && st.st_size > 0);
    }
    closedir(d);
    return found;
}

ct_status ct_checkpoint_remove_run(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return ct_fail(CT_ERR_IO, "train: cannot open %s: %s", dir, strerror(errno));
    struct dirent *e;
    char path[4400];
    int n = 0;
    ct_status s = CT_OK;
    while ((e = readdir(d)) && !s) {
        int64_t step;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (ct_checkpoint_parse_name(e->d_name, &step)) {
            if (!(s = ct_remove_dir(path))) n++;
        } else if (!strcmp(e->d_name, "last") || !strcmp(e->d_name, "best") || !strcmp(e->d_name, "metrics.jsonl") ||
                   !strcmp(e->d_name, "train_config.json")) {
            if (unlink(path) != 0 && errno != ENOENT)
                s = ct_fail(CT_ERR_IO, "train: --force: cannot remove %s: %s", path, strerror(errno));
        }
    }
    closedir(d);
    if (!s)
        ct_log(CT_LOG_WARN, "--force: removed the previous run in %s (%d checkpoint(s), its metrics and links)\n", dir,
               n);
    return s;
}

void ct_checkpoint_clean_stale(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d))) {
        const char *t = strstr(e->d_name, ".tmp-");
        if (!t || !t[5]) continue;
        char *end;
        errno = 0;
        long pid = strtol(t + 5, &end, 10);
        if (errno || *end || pid <= 0) continue;
        if (pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue; /* alive (or not ours to judge) */
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            ct_remove_dir(path);
        else
            unlink(path);
        ct_log(CT_LOG_INFO, "removed %s, left by a process (pid %ld) that no longer runs\n", path, pid);
    }
    closedir(d);
}

ct_status ct_checkpoint_lock(const char *dir, int *fd_out) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ct_fail(CT_ERR_IO, "train: cannot create %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        return ct_fail(CT_ERR_IO, "train: %s is in use by another trainer%s%s%s (lock %s)", dir, pid[0] ? " (pid " : "",
                       pid, pid[0] ? ")" : "", path);
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) { /* informative only */
    }
    *fd_out = fd;
    return CT_OK;
}
