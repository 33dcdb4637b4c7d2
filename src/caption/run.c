/* The good4cir driver: up to `concurrency` pairs in flight, each walking stage 1 -> 2 -> 3
 * with one request at a time; retries with backoff; results appended with fsync.
 *
 * Resume: the output file is the record of what is finished. At start its lines are read
 * (an incomplete last line, left by a kill during a write, is cut off) and their
 * (reference, target) pairs skipped. Each finished pair is one write() of one line followed
 * by fsync, so a kill loses only the pairs in flight. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "caption/caption_internal.h"
#include "caption/http.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/rng.h"
#include "core/str.h"
#include "core/timer.h"
#include "ctcir/log.h"

static volatile sig_atomic_t stop_requested = 0;

void ct_caption_request_stop(void) { stop_requested = 1; }

void ct_caption_opts_default(ct_caption_opts *o) {
    memset(o, 0, sizeof *o);
    o->concurrency = 4;
    o->max_objects = 10;
    o->retries = 5;
    o->min_words = 3;
    o->timeout_s = 120;
    o->backoff_s = 1;
}

typedef struct {
    int pair;    /* index into pairs, -1 when the slot is free */
    int stage;   /* 0, 1, 2 */
    int attempt; /* attempts made at this stage */
    bool in_flight;
    double wake; /* send (again) at this time */
    char *body;  /* the request of this stage */
    size_t body_len;
    char *objects[2]; /* validated answers of stages 1 and 2 (compact JSON) */
} slot;

typedef struct {
    const ct_caption_opts *o;
    const ct_caption_pairs *pairs;
    ct_caption_summary *sum;
    char *url;
    const char *failed_path;
    int out_fd, failed_fd;
    ct_http *http;
    slot *slots;
    ct_rng rng;
    double t0, last_progress;
    int last_decile; /* non-TTY: one line per 10% */
    int64_t last_printed;
    int64_t todo;
    bool any_response;     /* some HTTP answer arrived in this run */
    int unreachable_pairs; /* pairs failed on connection errors before any answer */
} run_state;

/* ---- messages: never the key ---- */

/* A printable, key-free excerpt of a server answer (at most 200 bytes). */
static void excerpt(char *out, size_t cap, const char *body, size_t len, const char *key) {
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < cap && i < 200; i++) {
        unsigned char c = (unsigned char)body[i];
        out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    if (len > 200 && o + 4 < cap) out[o++] = '.', out[o++] = '.', out[o++] = '.';
    out[o] = '\0';
    size_t kn = key ? strlen(key) : 0;
    if (kn >= 4) /* the server might echo the key: hide every copy */
        for (char *p = strstr(out, key); p; p = strstr(p, key)) memset(p, '*', kn);
}

/* ---- resume: the pairs already in the output ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *pair_key(const char *ref, const char *tgt) {
    size_t a = strlen(ref), b = strlen(tgt);
    char *k = malloc(a + b + 2);
    if (!k) return NULL;
    memcpy(k, ref, a);
    k[a] = '\n';
    memcpy(k + a + 1, tgt, b + 1);
    return k;
}

/* Reads the finished pairs of `path` (missing file: none) into a sorted key list and cuts
 * an incomplete last line. */
static ct_status read_done(const char *path, char ***keys, int64_t *n_keys) {
    *keys = NULL;
    *n_keys = 0;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) return CT_OK;
        return ct_fail(CT_ERR_IO, "caption-pairs: %s: %s", path, strerror(errno));
    }
    char *text;
    size_t len;
    ct_status st = ct_read_file(path, &text, &len, (size_t)1 << 34);
    if (st) return st;
    size_t complete = len;
    while (complete > 0 && text[complete - 1] != '\n') complete--;
    if (complete < len) {
        ct_log(CT_LOG_WARN,
               "caption-pairs: %s: cutting an incomplete last line (%zu bytes) left by an interrupted run\n", path,
               len - complete);
        if (truncate(path, (off_t)complete) != 0) {
            free(text);
            return ct_fail(CT_ERR_IO, "caption-pairs: %s: cannot truncate: %s", path, strerror(errno));
        }
    }
    int64_t cap = 0;
    size_t line = 0, pos = 0, n;
    const char *at;
    while (ct_caption_next_line(text, complete, &pos, &line, &at, &n)) {
        cJSON *r = NULL;
        if ((st = ct_json_parse(path, at, n, line - 1, &r))) goto fail;
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(r, "reference");
        const cJSON *tgt = cJSON_GetObjectItemCaseSensitive(r, "target");
        if (!cJSON_IsString(ref) || !cJSON_IsString(tgt)) {
            cJSON_Delete(r);
            st = ct_fail(CT_ERR_FORMAT,
                         "caption-pairs: %s: line %zu is not a JSON object with 'reference' and "
                         "'target' (is this an output file of caption-pairs?)",
                         path, line);
            goto fail;
        }
        if (*n_keys == cap) {
            cap = cap ? cap * 2 : 1024;
            char **nk = realloc(*keys, (size_t)cap * sizeof *nk);
            if (!nk) {
                cJSON_Delete(r);
                st = ct_fail(CT_ERR_NOMEM, "out of memory");
                goto fail;
            }
            *keys = nk;
        }
        char *key = pair_key(ref->valuestring, tgt->valuestring);
        cJSON_Delete(r);
        if (!key) {
            st = ct_fail(CT_ERR_NOMEM, "out of memory");
            goto fail;
        }
        (*keys)[(*n_keys)++] = key;
    }
    free(text);
    if (*n_keys) qsort(*keys, (size_t)*n_keys, sizeof **keys, cmp_str);
    return CT_OK;
fail:
    free(text);
    for (int64_t i = 0; i < *n_keys; i++) free((*keys)[i]);
    free(*keys);
    *keys = NULL;
    *n_keys = 0;
    return st;
}

/* ---- output ---- */

static ct_status write_line(int fd, const char *path, cJSON *obj) {
    char *text = cJSON_PrintUnformatted(obj);
    if (!text) return ct_fail(CT_ERR_NOMEM, "out of memory");
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL; the line goes out in one write */
    size_t off = 0;
    ct_status st = CT_OK;
    while (off < n + 1) {
        ssize_t w = write(fd, text + off, n + 1 - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            st = ct_fail(CT_ERR_IO, "caption-pairs: %s: write failed: %s", path, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    free(text);
    if (!st && fsync(fd) != 0) st = ct_fail(CT_ERR_IO, "caption-pairs: %s: fsync failed: %s", path, strerror(errno));
    return st;
}

static void add_id(cJSON *obj, const char *id_json) {
    if (!id_json) return;
    cJSON *id = cJSON_Parse(id_json);
    if (id) cJSON_AddItemToObject(obj, "id", id);
}

static void slot_release(slot *s) {
    free(s->body);
    free(s->objects[0]);
    free(s->objects[1]);
    memset(s, 0, sizeof *s);
    s->pair = -1;
}

static ct_status record_failure(run_state *R, slot *s, const char *why) {
    const ct_caption_pair *p = &R->pairs->items[s->pair];
    cJSON *o = cJSON_CreateObject();
    if (!o) return ct_fail(CT_ERR_NOMEM, "out of memory");
    cJSON_AddStringToObject(o, "reference", p->reference);
    cJSON_AddStringToObject(o, "target", p->target);
    add_id(o, p->id);
    cJSON_AddNumberToObject(o, "stage", s->stage + 1);
    cJSON_AddNumberToObject(o, "attempts", s->attempt);
    cJSON_AddStringToObject(o, "error", why);
    ct_status st = write_line(R->failed_fd, R->failed_path, o);
    cJSON_Delete(o);
    R->sum->failed++;
    slot_release(s);
    return st;
}

static ct_status record_done(run_state *R, slot *s, char **caps, int n) {
    const ct_caption_pair *p = &R->pairs->items[s->pair];
    cJSON *o = cJSON_CreateObject();
    cJSON *list = cJSON_CreateArray();
    if (!o || !list) {
        cJSON_Delete(o);
        cJSON_Delete(list);
        return ct_fail(CT_ERR_NOMEM, "out of memory");
    }
    cJSON_AddStringToObject(o, "reference", p->reference);
    cJSON_AddStringToObject(o, "target", p->target);
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(list, cJSON_CreateString(caps[i]));
    cJSON_AddItemToObject(o, "difference_captions", list);
    add_id(o, p->id);
    ct_status st = write_line(R->out_fd, R->o->out_path, o);
    cJSON_Delete(o);
    R->sum->done++;
    R->sum->captions += n;
    slot_release(s);
    return st;
}

/* ---- requests ---- */

/* "data:<mime>;base64,..." of an image file; *why says what is wrong when NULL. */
static char *data_url(const char *path, char *why, size_t why_cap) {
    char *bytes;
    size_t n;
    if (ct_read_file(path, &bytes, &n, (size_t)50 << 20)) {
        snprintf(why, why_cap, "%s", ct_error());
        return NULL;
    }
    const char *mime = ct_image_mime((const unsigned char *)bytes, n);
    if (!mime) {
        snprintf(why, why_cap, "%s: not a PNG, JPEG, GIF, WebP or BMP image (unknown magic bytes)", path);
        free(bytes);
        return NULL;
    }
    size_t head = strlen("data:") + strlen(mime) + strlen(";base64,");
    char *url = malloc(head + 4 * ((n + 2) / 3) + 1);
    if (url) {
        snprintf(url, head + 1, "data:%s;base64,", mime);
        ct_base64_encode(url + head, (const unsigned char *)bytes, n);
    } else {
        snprintf(why, why_cap, "out of memory");
    }
    free(bytes);
    return url;
}

/* Builds the request of the slot's stage into s->body; *why is set for a pair-level error. */
static ct_status build_request(run_state *R, slot *s, char *why, size_t why_cap) {
    const ct_caption_opts *o = R->o;
    const ct_caption_pair *p = &R->pairs->items[s->pair];
    free(s->body);
    s->body = NULL;
    why[0] = '\0';
    char *prompt = ct_caption_prompt_fill(o->prompts->stage[s->stage], o->max_objects, s->objects[0], s->objects[1]);
    char *url = NULL;
    if (!prompt) return ct_fail(CT_ERR_NOMEM, "out of memory");
    if (s->stage < 2 && !(url = data_url(s->stage == 0 ? p->ref_file : p->tgt_file, why, why_cap))) {
        free(prompt);
        return CT_OK; /* the pair fails; the run goes on */
    }
    cJSON *req = cJSON_CreateObject(), *msgs = cJSON_AddArrayToObject(req, "messages");
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "model", o->model);
    cJSON_AddItemToArray(msgs, msg);
    cJSON_AddStringToObject(msg, "role", "user");
    if (url) {
        cJSON *content = cJSON_AddArrayToObject(msg, "content");
        cJSON *text = cJSON_CreateObject(), *image = cJSON_CreateObject();
        cJSON_AddItemToArray(content, text);
        cJSON_AddItemToArray(content, image);
        cJSON_AddStringToObject(text, "type", "text");
        cJSON_AddStringToObject(text, "text", prompt);
        cJSON_AddStringToObject(image, "type", "image_url");
        cJSON *iu = cJSON_AddObjectToObject(image, "image_url");
        cJSON_AddStringToObject(iu, "url", url);
    } else {
        cJSON_AddStringToObject(msg, "content", prompt);
    }
    cJSON *rf = cJSON_AddObjectToObject(req, "response_format");
    cJSON_AddStringToObject(rf, "type", "json_object");
    s->body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    free(prompt);
    free(url);
    if (!s->body) return ct_fail(CT_ERR_NOMEM, "out of memory building a request");
    s->body_len = strlen(s->body);
    s->wake = 0;
    return CT_OK;
}

/* Moves the slot to `stage` (attempt 0); a pair-level error records the failure. */
static ct_status enter_stage(run_state *R, slot *s, int stage) {
    char why[512];
    s->stage = stage;
    s->attempt = 0;
    ct_status st = build_request(R, s, why, sizeof why);
    if (st) return st;
    return s->body ? CT_OK : record_failure(R, s, why);
}

static ct_status retry_or_fail(run_state *R, slot *s, const char *why, double retry_after) {
    if (s->attempt > R->o->retries) return record_failure(R, s, why);
    double d;
    if (retry_after >= 0) {
        d = (retry_after < 600 ? retry_after : 600) * (1.0 + 0.1 * ct_rng_uniform(&R->rng));
    } else {
        d = R->o->backoff_s * pow(2.0, s->attempt - 1);
        if (d > 60) d = 60;
        d *= 0.5 + ct_rng_uniform(&R->rng);
    }
    s->wake = ct_now_s() + d;
    return CT_OK;
}

/* Handles one finished transfer; returns an error only for run-level failures. */
static ct_status on_result(run_state *R, ct_http_result *r) {
    slot *s = r->tag;
    s->in_flight = false;
    s->attempt++;
    char why[600], ex[260];
    const char *key = R->o->api_key;
    if (r->curl_code) {
        if (!r->transport_retry) return ct_fail(CT_ERR_IO, "caption-pairs: %s: %s", R->url, r->error);
        snprintf(why, sizeof why, "%s%s", r->timed_out ? "timeout: " : "connection: ", r->error);
        int64_t failed_before = R->sum->failed;
        ct_status st = retry_or_fail(R, s, why, -1);
        /* Nothing has ever answered and pairs run out of retries: a wrong host or port, or
         * a server that is down. Stop instead of failing every pair the same slow way. */
        if (!st && !R->any_response && R->sum->failed > failed_before && ++R->unreachable_pairs >= 3)
            st = ct_fail(CT_ERR_IO, "caption-pairs: no answer from %s: %d pairs failed (%s); is the server running?",
                         R->url, R->unreachable_pairs, why);
        return st;
    }
    R->any_response = true;
    excerpt(ex, sizeof ex, r->body, r->body_len, key);
    if (r->status == 401 || r->status == 403 || r->status == 404 || r->status == 405)
        return ct_fail(CT_ERR_IO, "caption-pairs: %s answered HTTP %ld (%s): %s", R->url, r->status,
                       r->status == 401 || r->status == 403 ? "check OPENAI_API_KEY" : "check --endpoint", ex);
    if (r->status == 408 || r->status == 409 || r->status == 429 || r->status >= 500) {
        snprintf(why, sizeof why, "HTTP %ld: %s", r->status, ex);
        return retry_or_fail(R, s, why, ct_retry_after_parse(r->retry_after, (int64_t)time(NULL)));
    }
    if (r->status != 200) {
        snprintf(why, sizeof why, "HTTP %ld: %s", r->status, ex);
        return record_failure(R, s, why); /* a client error: a retry would send the same request */
    }
    char *content = NULL;
    ct_caption_usage u;
    ct_status st = ct_chat_response_parse(r->body, r->body_len, &content, &u);
    if (u.total >= 0) {
        R->sum->usage_responses++;
        R->sum->prompt_tokens += u.prompt > 0 ? u.prompt : 0;
        R->sum->completion_tokens += u.completion > 0 ? u.completion : 0;
        R->sum->total_tokens += u.total;
    }
    if (st) {
        snprintf(why, sizeof why, "malformed response: %s: %s", ct_error(), ex);
        return retry_or_fail(R, s, why, -1);
    }
    if (s->stage < 2) {
        char *objs = NULL;
        int cap = s->stage == 0 ? R->o->max_objects : 2 * R->o->max_objects;
        st = ct_caption_objects_parse(content, cap, &objs);
        if (st == CT_ERR_NOMEM) {
            free(content);
            return st;
        }
        if (st) {
            excerpt(ex, sizeof ex, content, strlen(content), key);
            snprintf(why, sizeof why, "malformed stage %d answer: %s: %s", s->stage + 1, ct_error(), ex);
            free(content);
            return retry_or_fail(R, s, why, -1);
        }
        free(content);
        s->objects[s->stage] = objs;
        return enter_stage(R, s, s->stage + 1);
    }
    char **caps = NULL;
    int n = 0;
    st = ct_caption_captions_parse(content, R->o->min_words, &caps, &n);
    if (st == CT_ERR_NOMEM) {
        free(content);
        return st;
    }
    if (st) {
        excerpt(ex, sizeof ex, content, strlen(content), key);
        snprintf(why, sizeof why, "malformed stage 3 answer: %s: %s", ct_error(), ex);
        free(content);
        return retry_or_fail(R, s, why, -1);
    }
    free(content);
    st = record_done(R, s, caps, n);
    ct_caption_list_free(caps, n);
    return st;
}

static void fmt_duration(char *out, size_t cap, double s) {
    if (!(s >= 0) || s > 1e8)
        snprintf(out, cap, "?");
    else if (s < 60)
        snprintf(out, cap, "%.0fs", s);
    else if (s < 3600)
        snprintf(out, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(out, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static void progress(run_state *R, bool final) {
    if (R->todo == 0 || !ct_log_enabled(CT_LOG_PROGRESS)) return;
    double now = ct_now_s(), el = now - R->t0;
    int64_t fin = R->sum->done + R->sum->failed;
    bool tty = ct_log_progress_is_tty();
    int decile = (int)(10 * fin / R->todo);
    if (final ? fin == R->last_printed && !tty : tty ? now - R->last_progress < 0.25 : decile == R->last_decile) return;
    R->last_progress = now;
    R->last_decile = decile;
    R->last_printed = fin;
    double rate = el > 0 ? (double)fin / el : 0;
    char eta[32];
    fmt_duration(eta, sizeof eta, rate > 0 ? (double)(R->todo - fin) / rate : -1);
    ct_log(CT_LOG_PROGRESS,
           "%scaption-pairs: %lld/%lld pairs (%lld failed) | %.2f pairs/s | %lld requests, %lld retries | ETA %s%s",
           tty ? "\r\033[K" : "", (long long)fin, (long long)R->todo, (long long)R->sum->failed, rate,
           (long long)R->sum->requests, (long long)R->sum->retries, eta, tty && !final ? "" : "\n");
}

static char *chat_url(const char *endpoint) {
    int n = (int)strlen(endpoint);
    while (n && endpoint[n - 1] == '/') n--;
    return ct_strprintf("%.*s/chat/completions", n, endpoint);
}

ct_status ct_caption_run(const ct_caption_opts *o, const ct_caption_pairs *pairs, ct_caption_summary *sum) {
    memset(sum, 0, sizeof *sum);
    sum->pairs = pairs->n;
    if (!o->endpoint || !*o->endpoint || !o->model || !*o->model || !o->out_path || !o->prompts)
        return ct_fail(CT_ERR_ARG, "caption-pairs: endpoint, model, output and prompts are required");
    if (o->concurrency < 1 || o->max_objects < 1 || o->retries < 0 || o->min_words < 0 || !(o->timeout_s > 0) ||
        !(o->backoff_s >= 0))
        return ct_fail(CT_ERR_ARG, "caption-pairs: an option is out of range");
    run_state R = {.o = o, .pairs = pairs, .sum = sum, .out_fd = -1, .failed_fd = -1, .last_printed = -1};
    char **done_keys = NULL;
    char *failed_path = NULL;
    int64_t n_done_keys = 0;
    ct_status st = CT_OK;
    R.t0 = ct_now_s();
    ct_rng_seed(&R.rng, (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32);
    stop_requested = 0;
    if (!(R.url = chat_url(o->endpoint))) return ct_fail(CT_ERR_NOMEM, "out of memory");
    failed_path = o->failed_path ? ct_strdup(o->failed_path) : ct_strprintf("%s.failed", o->out_path);
    R.failed_path = failed_path;
    R.slots = calloc((size_t)o->concurrency, sizeof *R.slots);
    if (!failed_path || !R.slots) {
        st = ct_fail(CT_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < o->concurrency; i++) R.slots[i].pair = -1;
    if ((st = read_done(o->out_path, &done_keys, &n_done_keys))) goto done;
    /* The pairs left to do, in input order. */
    int *todo = malloc(((size_t)pairs->n + 1) * sizeof *todo);
    if (!todo) {
        st = ct_fail(CT_ERR_NOMEM, "out of memory");
        goto done;
    }
    int n_todo = 0;
    for (int i = 0; i < pairs->n; i++) {
        char *k = pair_key(pairs->items[i].reference, pairs->items[i].target);
        if (!k) {
            free(todo);
            st = ct_fail(CT_ERR_NOMEM, "out of memory");
            goto done;
        }
        bool found = n_done_keys && bsearch(&k, done_keys, (size_t)n_done_keys, sizeof *done_keys, cmp_str);
        free(k);
        if (found)
            sum->skipped++;
        else
            todo[n_todo++] = i;
    }
    R.todo = n_todo;
    R.out_fd = open(o->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (R.out_fd < 0) {
        free(todo);
        st = ct_fail(CT_ERR_IO, "caption-pairs: %s: cannot open for appending: %s", o->out_path, strerror(errno));
        goto done;
    }
    R.failed_fd = open(failed_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (R.failed_fd < 0) {
        free(todo);
        st = ct_fail(CT_ERR_IO, "caption-pairs: %s: cannot open: %s", failed_path, strerror(errno));
        goto done;
    }
    ct_log(CT_LOG_INFO, "caption-pairs: %d pairs, %lld already in %s, %d to caption with %s at %s (%d in flight)\n",
           pairs->n, (long long)sum->skipped, o->out_path, n_todo, o->model, R.url, o->concurrency);
    if (n_todo && (st = ct_http_new(&R.http))) {
        free(todo);
        goto done;
    }
    int next = 0, busy = 0;
    while (!st && (next < n_todo || busy > 0)) {
        if (stop_requested) {
            st = ct_fail(CT_ERR_INTERRUPTED,
                         "caption-pairs: interrupted; %d pairs in flight are lost, the rest is "
                         "recorded (run again to continue)",
                         busy);
            break;
        }
        double now = ct_now_s(), next_wake = now + 0.1;
        for (int i = 0; i < o->concurrency && !st; i++) {
            slot *s = &R.slots[i];
            while (s->pair < 0 && next < n_todo && !st) { /* a pair failing at once frees the slot again */
                s->pair = todo[next++];
                st = enter_stage(&R, s, 0);
            }
            if (st || s->pair < 0 || s->in_flight) continue;
            if (s->wake > now) {
                if (s->wake < next_wake) next_wake = s->wake;
                continue;
            }
            if ((st = ct_http_post(R.http, R.url, o->api_key, s->body, s->body_len, o->timeout_s, s))) break;
            s->in_flight = true;
            sum->requests++;
            if (s->attempt > 0) sum->retries++;
        }
        if (st) break;
        busy = 0;
        for (int i = 0; i < o->concurrency; i++) busy += R.slots[i].pair >= 0;
        if (busy == 0) continue;
        int wait_ms = (int)((next_wake - ct_now_s()) * 1000);
        if ((st = ct_http_wait(R.http, wait_ms < 1 ? 1 : wait_ms > 100 ? 100 : wait_ms))) break;
        ct_http_result r;
        while (!st && ct_http_next(R.http, &r)) {
            if (!r.body)
                st = ct_fail(CT_ERR_NOMEM, "out of memory");
            else
                st = on_result(&R, &r);
            ct_http_result_clear(&r);
            progress(&R, false);
        }
        busy = 0;
        for (int i = 0; i < o->concurrency; i++) busy += R.slots[i].pair >= 0;
    }
    free(todo);
    progress(&R, true);
done:
    sum->seconds = ct_now_s() - R.t0;
    ct_http_free(R.http);
    if (R.slots)
        for (int i = 0; i < o->concurrency; i++) slot_release(&R.slots[i]);
    free(R.slots);
    if (R.out_fd >= 0) close(R.out_fd);
    if (R.failed_fd >= 0) close(R.failed_fd);
    for (int64_t i = 0; i < n_done_keys; i++) free(done_keys[i]);
    free(done_keys);
    free(failed_path);
    free(R.url);
    return st;
}
