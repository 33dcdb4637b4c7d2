/* libcurl multi interface: each request is an easy handle with its own response buffer;
 * the multi handle keeps the connection cache, so keep-alive connections are reused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "caption/http.h"

typedef struct xfer {
    CURL *easy;
    struct curl_slist *headers;
    void *tag;
    char *body;
    size_t len, cap;
    char *retry_after;
    char error[CURL_ERROR_SIZE];
    struct xfer *next;
} xfer;

struct ct_http {
    CURLM *multi;
    xfer *active; /* linked list */
    int n_active;
};

static bool curl_ready = false;

ct_status ct_http_new(ct_http **out) {
    *out = NULL;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return ct_fail(CT_ERR_IO, "http: curl_global_init failed");
        curl_ready = true;
    }
    ct_http *h = calloc(1, sizeof *h);
    if (!h) return ct_fail(CT_ERR_NOMEM, "out of memory");
    if (!(h->multi = curl_multi_init())) {
        free(h);
        return ct_fail(CT_ERR_NOMEM, "http: curl_multi_init failed");
    }
    *out = h;
    return CT_OK;
}

static void xfer_free(ct_http *h, xfer *x) {
    if (x->easy) {
        curl_multi_remove_handle(h->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    free(x->body);
    free(x->retry_after);
    free(x);
}

void ct_http_free(ct_http *h) {
    if (!h) return;
    while (h->active) {
        xfer *x = h->active;
        h->active = x->next;
        xfer_free(h, x);
    }
    curl_multi_cleanup(h->multi);
    free(h);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
    xfer *x = ud;
    size_t n = size * nmemb;
    if (x->len + n + 1 > x->cap) {
        size_t nc = x->cap ? x->cap : 4096;
        while (nc < x->len + n + 1) nc *= 2;
        if (nc > ((size_t)64 << 20)) return 0; /* a 64 MB answer is not a caption: abort */
        char *nb = realloc(x->body, nc);
        if (!nb) return 0;
        x->body = nb;
        x->cap = nc;
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
    x->body[x->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud) {
    xfer *x = ud;
    size_t n = size * nmemb;
    static const char key[] = "retry-after:";
    if (n > sizeof key - 1 && strncasecmp(data, key, sizeof key - 1) == 0) {
        const char *v = data + sizeof key - 1;
        size_t vn = n - (sizeof key - 1);
        while (vn && (*v == ' ' || *v == '\t')) v++, vn--;
        while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' ')) vn--;
        free(x->retry_after);
        x->retry_after = malloc(vn + 1);
        if (x->retry_after) {
            memcpy(x->retry_after, v, vn);
            x->retry_after[vn] = '\0';
        }
    } else if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or a 100-continue): forget the old header */
        free(x->retry_after);
        x->retry_after = NULL;
    }
    return n;
}

ct_status ct_http_post(ct_http *h, const char *url, const char *bearer, const char *body, size_t len, double timeout_s,
                       void *tag) {
    xfer *x = calloc(1, sizeof *x);
    if (!x) return ct_fail(CT_ERR_NOMEM, "out of memory");
    x->tag = tag;
    if (!(x->easy = curl_easy_init())) {
        free(x);
        return ct_fail(CT_ERR_NOMEM, "http: curl_easy_init failed");
    }
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    if (hd) x->headers = hd;
    if (hd) hd = curl_slist_append(x->headers, "Expect:"); /* no 100-continue round trip */
    if (hd && bearer && *bearer) {
        size_t n = strlen(bearer) + sizeof "Authorization: Bearer ";
        char *line = malloc(n);
        if (line) {
            snprintf(line, n, "Authorization: Bearer %s", bearer);
            hd = curl_slist_append(x->headers, line);
            memset(line, 0, n);
            free(line);
        } else {
            hd = NULL;
        }
    }
    if (!hd) {
        xfer_free(h, x);
        return ct_fail(CT_ERR_NOMEM, "out of memory");
    }
    long ms = timeout_s > 0 ? (long)(timeout_s * 1000.0) : 0;
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms && ms < 30000 ? ms : 30000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    /* never follow redirects: the Authorization header must not travel to another host */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        xfer_free(h, x);
        return ct_fail(CT_ERR_IO, "http: cannot add a transfer");
    }
    x->next = h->active;
    h->active = x;
    h->n_active++;
    return CT_OK;
}

ct_status ct_http_wait(ct_http *h, int timeout_ms) {
    int running = 0;
    CURLMcode mc = curl_multi_perform(h->multi, &running);
    /* poll unless a transfer has finished already (with none running it just sleeps) */
    if (mc == CURLM_OK && running >= h->n_active) mc = curl_multi_poll(h->multi, NULL, 0, timeout_ms, NULL);
    if (mc == CURLM_OK) mc = curl_multi_perform(h->multi, &running);
    if (mc != CURLM_OK) return ct_fail(CT_ERR_IO, "http: %s", curl_multi_strerror(mc));
    return CT_OK;
}

static bool transport_retryable(CURLcode c) {
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_COULDNT_RESOLVE_PROXY: return true;
    default: return false;
    }
}

bool ct_http_next(ct_http *h, ct_http_result *r) {
    memset(r, 0, sizeof *r);
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode code = m->data.result;
        r->tag = x->tag;
        r->curl_code = (int)code;
        r->timed_out = code == CURLE_OPERATION_TIMEDOUT;
        r->transport_retry = transport_retryable(code);
        if (code != CURLE_OK)
            snprintf(r->error, sizeof r->error, "%s", x->error[0] ? x->error : curl_easy_strerror(code));
        else
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
        r->body = x->body ? x->body : calloc(1, 1);
        r->body_len = x->len;
        r->retry_after = x->retry_after;
        x->body = NULL;
        x->retry_after = NULL;
        /* unlink and free */
        for (xfer **p = &h->active; *p; p = &(*p)->next)
            if (*p == x) {
                *p = x->next;
                break;
            }
        h->n_active--;
        xfer_free(h, x);
        return true;
    }
    return false;
}

void ct_http_result_clear(ct_http_result *r) {
    free(r->body);
    free(r->retry_after);
    memset(r, 0, sizeof *r);
}

int ct_http_in_flight(const ct_http *h) { return h->n_active; }
