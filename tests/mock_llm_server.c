/* A stand-in for an OpenAI-compatible /v1/chat/completions server, for the caption-pairs
 * tests. Listens on 127.0.0.1 only, on an ephemeral port printed as the first line of
 * stdout, and exits by itself after --lifetime seconds.
 *
 *   mock_llm_server [--pattern LIST] [--slow-ms N] [--retry-after S] [--lifetime S] [--no-usage]
 *
 * Request n (1-based, over all connections) gets action LIST[(n - 1) % len] (default "ok"):
 *   ok          a valid answer for the stage
 *   slow        the same after --slow-ms milliseconds (default 1500)
 *   429         HTTP 429 with "Retry-After: S" (default 1)
 *   500         HTTP 500
 *   bad         HTTP 200 whose body is not JSON
 *   badanswer   HTTP 200, a valid response whose content is not the stage's JSON shape
 *   drop        the connection closed without an answer
 *   cut         the connection closed in the middle of a 200 answer
 * The stage is read from the request: no image -> 3; an image and a prompt holding
 * "Reference objects:" -> 2; else 1. Every request is checked independently of the client:
 * POST to .../chat/completions, JSON body with "model", "response_format": {"type":
 * "json_object"}, image data URLs whose base64 decodes (here, with this file's own decoder)
 * to bytes of the declared type, stage 2 prompts holding stage 1's objects and stage 3
 * prompts holding both lists, and (when MOCK_EXPECT_KEY is set) "Authorization: Bearer
 * <key>". A failed check answers 400 (401 for the key) naming it.
 * One line per request on stderr: req, t_ms, stage, action, inflight, auth, check. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static char *pattern[64];
static int n_pattern = 0;
static int slow_ms = 1500, retry_after = 1, usage = 1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long n_requests = 0;
static int inflight = 0;
static struct timespec t_start;

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t_start.tv_sec) * 1000 + (t.tv_nsec - t_start.tv_nsec) / 1000000;
}

static int b64_value(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes the first bytes of a padded base64 string; -1 when it is not valid base64. */
static long b64_decode_check(const char *s, unsigned char *head, size_t head_cap) {
    size_t n = strlen(s);
    if (n == 0 || n % 4) return -1;
    long out = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = s[i + k] == '=' ? 0 : b64_value((unsigned char)s[i + k]);
            if (v[k] < 0) return -1;
            if (s[i + k] == '=' && (i + 4 != n || k < 2)) return -1;
        }
        unsigned bits = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        int bytes = s[i + 2] == '=' ? 1 : s[i + 3] == '=' ? 2 : 3;
        for (int k = 0; k < bytes; k++, out++)
            if ((size_t)out < head_cap) head[out] = (unsigned char)(bits >> (16 - 8 * k));
    }
    return out;
}

/* Checks a data URL; returns NULL when fine, else what is wrong. */
static const char *check_image(const char *url) {
    static const char png[] = "data:image/png;base64,", jpg[] = "data:image/jpeg;base64,";
    unsigned char head[8];
    long n;
    if (strncmp(url, png, sizeof png - 1) == 0) {
        n = b64_decode_check(url + sizeof png - 1, head, sizeof head);
        if (n < 8 || memcmp(head, "\x89PNG\r\n\x1a\n", 8) != 0) return "image/png data URL is not a PNG";
    } else if (strncmp(url, jpg, sizeof jpg - 1) == 0) {
        n = b64_decode_check(url + sizeof jpg - 1, head, sizeof head);
        if (n < 3 || head[0] != 0xFF || head[1] != 0xD8) return "image/jpeg data URL is not a JPEG";
    } else {
        return "image url is not a PNG or JPEG base64 data URL";
    }
    return NULL;
}

static const char *STAGE1 = "{\"objects\":[{\"name\":\"red circle\",\"descriptors\":[\"red\",\"small\",\"left\"]},"
                            "{\"name\":\"green triangle\",\"descriptors\":[\"green\",\"large\"]}],"
                            "\"note\":\"other keys are ignored\"}";
static const char *STAGE2 = "{\"objects\":[{\"name\":\"red circle\",\"descriptors\":[\"red\",\"small\",\"left\"]},"
                            "{\"name\":\"blue square\",\"descriptors\":[\"blue\",\"medium\",\"right\"]}]}";
static const char *STAGE3 = "{\"captions\":[\"1. Add a medium blue square on the right.\","
                            "\"- Remove the large green triangle. Keep the red circle where it is.\","
                            "\"ok\",\"Make image 2 brighter than image 1.\","
                            "\"add a medium blue square on the right.\"]}";

/* Examines the request body: stage (1..3) or 0 with *why set. */
static int examine(const char *body, const char **why) {
    static char msg[200];
    cJSON *j = cJSON_Parse(body);
    int stage = 0;
    *why = NULL;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(j, "response_format");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msgs, 0), "content");
    const char *text = NULL, *url = NULL;
    if (!j)
        *why = "request body is not JSON";
    else if (!cJSON_IsString(model) || !*model->valuestring)
        *why = "no model";
    else if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rf, "type")) ||
             strcmp(cJSON_GetObjectItemCaseSensitive(rf, "type")->valuestring, "json_object") != 0)
        *why = "response_format is not json_object";
    else if (cJSON_IsString(content))
        text = content->valuestring;
    else if (cJSON_IsArray(content)) {
        const cJSON *part;
        cJSON_ArrayForEach(part, content) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
            if (!cJSON_IsString(type)) continue;
            if (!strcmp(type->valuestring, "text") && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(part, "text")))
                text = cJSON_GetObjectItemCaseSensitive(part, "text")->valuestring;
            if (!strcmp(type->valuestring, "image_url")) {
                const cJSON *u =
                    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(part, "image_url"), "url");
                if (cJSON_IsString(u)) url = u->valuestring;
            }
        }
    }
    if (!*why && !text) *why = "no prompt text";
    if (!*why && url && (*why = check_image(url))) url = NULL;
    if (!*why) {
        stage = !url ? 3 : strstr(text, "Reference objects:") ? 2 : 1;
        if (stage >= 2 && !strstr(text, "\"name\":\"red circle\"")) *why = "prompt lacks the reference objects";
        if (stage == 3 && !strstr(text, "\"name\":\"blue square\"")) *why = "prompt lacks the target objects";
        if (stage == 1 && strstr(text, "{reference_objects}")) *why = "unfilled placeholder";
        if (*why) stage = 0;
    }
    if (*why) {
        snprintf(msg, sizeof msg, "%s", *why);
        *why = msg;
    }
    cJSON_Delete(j);
    return stage;
}

static int send_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Header and body in one send: two small writes would meet Nagle's algorithm and the
 * client's delayed ACK (tens of milliseconds per answer). */
static int respond(int fd, int status, const char *extra_header, const char *body) {
    char head[512];
    const char *reason = status == 200   ? "OK"
                         : status == 400 ? "Bad Request"
                         : status == 401 ? "Unauthorized"
                         : status == 404 ? "Not Found"
                         : status == 429 ? "Too Many Requests"
                                         : "Internal Server Error";
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s"
                     "Connection: keep-alive\r\n\r\n",
                     status, reason, strlen(body), extra_header ? extra_header : "");
    size_t bn = strlen(body);
    char *all = malloc((size_t)n + bn);
    if (!all) return -1;
    memcpy(all, head, (size_t)n);
    memcpy(all + n, body, bn);
    int rc = send_all(fd, all, (size_t)n + bn);
    free(all);
    return rc;
}

static char *completion(const char *content, long n) {
    cJSON *j = cJSON_CreateObject();
    char id[32];
    snprintf(id, sizeof id, "mock-%ld", n);
    cJSON_AddStringToObject(j, "id", id);
    cJSON_AddStringToObject(j, "object", "chat.completion");
    cJSON *choices = cJSON_AddArrayToObject(j, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    cJSON *m = cJSON_AddObjectToObject(c, "message");
    cJSON_AddStringToObject(m, "role", "assistant");
    cJSON_AddStringToObject(m, "content", content);
    cJSON_AddStringToObject(c, "finish_reason", "stop");
    if (usage) {
        cJSON *u = cJSON_AddObjectToObject(j, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", 100);
        cJSON_AddNumberToObject(u, "completion_tokens", 20);
        cJSON_AddNumberToObject(u, "total_tokens", 120);
    }
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

/* Serves one request; returns -1 to close the connection. */
static int serve(int fd, const char *headers, const char *body) {
    pthread_mutex_lock(&lock);
    long n = ++n_requests;
    int inf = ++inflight;
    pthread_mutex_unlock(&lock);
    const char *action = n_pattern ? pattern[(n - 1) % n_pattern] : "ok";
    /* request line */
    char method[8] = "", path[256] = "";
    sscanf(headers, "%7s %255s", method, path);
    const char *auth = "missing";
    const char *expect = getenv("MOCK_EXPECT_KEY");
    const char *h = strcasestr(headers, "\r\nAuthorization:");
    if (h) {
        h += strlen("\r\nAuthorization:");
        while (*h == ' ') h++;
        const char *e = strstr(h, "\r\n");
        size_t len = e ? (size_t)(e - h) : strlen(h);
        auth = !expect                                                                                      ? "present"
               : strlen(expect) + 7 == len && !strncmp(h, "Bearer ", 7) && !strncmp(h + 7, expect, len - 7) ? "ok"
                                                                                                            : "bad";
    }
    const char *why = NULL;
    int stage = 0, rc = 0, status = 200;
    if (strcmp(method, "POST") != 0 || strlen(path) < 17 ||
        strcmp(path + strlen(path) - 17, "/chat/completions") != 0) {
        why = "not POST .../chat/completions";
        status = 404;
    } else if (expect && strcmp(auth, "ok") != 0) {
        why = "authorization";
        status = 401;
    } else if (!(stage = examine(body, &why))) {
        status = 400;
    }
    fprintf(stderr, "mock: req=%ld t_ms=%ld stage=%d action=%s inflight=%d auth=%s check=%s\n", n, now_ms(), stage,
            action, inf, auth, why ? why : "ok");
    if (status != 200) {
        char err[300];
        snprintf(err, sizeof err, "{\"error\":{\"message\":\"mock: %s\"}}", why);
        rc = respond(fd, status, NULL, err);
    } else if (!strcmp(action, "drop")) {
        rc = -1;
    } else if (!strcmp(action, "cut")) {
        static const char part[] =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"cho";
        send_all(fd, part, sizeof part - 1);
        rc = -1;
    } else if (!strcmp(action, "429")) {
        char hdr[64];
        snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", retry_after);
        rc = respond(fd, 429, hdr, "{\"error\":{\"message\":\"rate limited\"}}");
    } else if (!strcmp(action, "500")) {
        rc = respond(fd, 500, NULL, "{\"error\":{\"message\":\"mock internal error\"}}");
    } else if (!strcmp(action, "bad")) {
        rc = respond(fd, 200, NULL, "{\"choices\": [ this is not json");
    } else {
        if (!strcmp(action, "slow")) usleep((useconds_t)slow_ms * 1000);
        const char *content = !strcmp(action, "badanswer") ? "Sure! Here are the objects: a red circle."
                              : stage == 1                 ? STAGE1
                              : stage == 2                 ? STAGE2
                                                           : STAGE3;
        char *resp = completion(content, n);
        rc = resp ? respond(fd, 200, NULL, resp) : -1;
        free(resp);
    }
    pthread_mutex_lock(&lock);
    inflight--;
    pthread_mutex_unlock(&lock);
    return rc;
}

static void *connection(void *arg) {
    int fd = (int)(intptr_t)arg;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        char *end;
        while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
            if (len + 4096 > cap) {
                char *nb = realloc(buf, cap *= 2);
                if (!nb) goto out;
                buf = nb;
            }
            ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
            if (r <= 0) goto out;
            len += (size_t)r;
        }
        size_t head_len = (size_t)(end - buf) + 4;
        buf[head_len - 2] = '\0'; /* headers end with one CRLF */
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        size_t body_len = cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
        if (head_len + body_len + 1 > cap) {
            cap = head_len + body_len + 1;
            char *nb = realloc(buf, cap);
            if (!nb) goto out;
            buf = nb;
        }
        while (len < head_len + body_len) {
            ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
            if (r <= 0) goto out;
            len += (size_t)r;
        }
        char saved = buf[head_len + body_len];
        buf[head_len + body_len] = '\0';
        int rc = serve(fd, buf, buf + head_len);
        buf[head_len + body_len] = saved;
        if (rc) goto out;
        memmove(buf, buf + head_len + body_len, len - head_len - body_len);
        len -= head_len + body_len;
    }
out:
    free(buf);
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    int lifetime = 60;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-usage")) {
            usage = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "mock: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--pattern")) {
            char *list = strdup(v);
            for (char *t = strtok(list, ","); t && n_pattern < 64; t = strtok(NULL, ",")) pattern[n_pattern++] = t;
        } else if (!strcmp(a, "--slow-ms"))
            slow_ms = atoi(v);
        else if (!strcmp(a, "--retry-after"))
            retry_after = atoi(v);
        else if (!strcmp(a, "--lifetime"))
            lifetime = atoi(v);
        else {
            fprintf(stderr, "mock: unknown option %s\n", a);
            return 2;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) || listen(s, 64) ||
        getsockname(s, (struct sockaddr *)&addr, &alen)) {
        perror("mock: socket");
        return 1;
    }
    printf("%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    alarm((unsigned)lifetime); /* the default action ends the process */
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR) continue;
            perror("mock: accept");
            return 1;
        }
        pthread_t t;
        if (pthread_create(&t, NULL, connection, (void *)(intptr_t)c) != 0) {
            close(c);
            continue;
        }
        pthread_detach(t);
    }
}
