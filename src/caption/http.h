/* Concurrent HTTP POSTs on libcurl's multi interface: submit, wait, collect. One thread;
 * connections are reused across requests. */
#ifndef CTCIR_CAPTION_HTTP_H
#define CTCIR_CAPTION_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "ctcir/status.h"

typedef struct ct_http ct_http;

typedef struct {
    void *tag;     /* as given to ct_http_post */
    long status;   /* HTTP status; 0 when no response came */
    int curl_code; /* CURLcode; 0 = the transfer completed */
    bool timed_out;
    bool transport_retry; /* a connection-level failure worth retrying */
    char error[256];      /* curl's message when curl_code != 0 */
    char *body;           /* response body, NUL-terminated (owned by the result) */
    size_t body_len;
    char *retry_after; /* the Retry-After header value, or NULL */
} ct_http_result;

ct_status ct_http_new(ct_http **out);
void ct_http_free(ct_http *h); /* NULL-safe; aborts transfers in flight */

/* Starts a POST of `body` (len bytes, JSON; must stay valid until the result is collected)
 * to `url` with the optional bearer token. */
ct_status ct_http_post(ct_http *h, const char *url, const char *bearer, const char *body, size_t len, double timeout_s,
                       void *tag);
/* Drives transfers and waits up to timeout_ms for activity. */
ct_status ct_http_wait(ct_http *h, int timeout_ms);
/* Next finished transfer, if any. */
bool ct_http_next(ct_http *h, ct_http_result *r);
void ct_http_result_clear(ct_http_result *r);
int ct_http_in_flight(const ct_http *h);

#endif
