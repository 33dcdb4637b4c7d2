/* The pure parts of good4cir: base64 data URLs, chat-completion responses, validation of
 * the stage answers and the post-filtering of captions. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "caption/caption_internal.h"
#include "core/json.h"
#include "core/str.h"

/* Exactly one JSON value (white space around it allowed), or NULL. */
static cJSON *parse_exact(const char *s, size_t n) {
    cJSON *j = NULL;
    return ct_json_parse("answer", s, n, 0, &j) ? NULL : j;
}

size_t ct_base64_encode(char *out, const unsigned char *in, size_t n) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

const char *ct_image_mime(const unsigned char *d, size_t n) {
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return "image/png";
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return "image/jpeg";
    if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) return "image/gif";
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) return "image/webp";
    if (n >= 14 && d[0] == 'B' && d[1] == 'M') return "image/bmp";
    return NULL;
}

static int64_t usage_field(const cJSON *u, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(u, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9e15 ? (int64_t)v->valuedouble : -1;
}

ct_status ct_chat_response_parse(const char *body, size_t len, char **content, ct_caption_usage *usage) {
    *content = NULL;
    usage->prompt = usage->completion = usage->total = -1;
    cJSON *j = parse_exact(body, len);
    if (!j) return ct_fail(CT_ERR_FORMAT, "the response body is not JSON");
    ct_status st = CT_OK;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "usage");
    if (cJSON_IsObject(u)) {
        usage->prompt = usage_field(u, "prompt_tokens");
        usage->completion = usage_field(u, "completion_tokens");
        usage->total = usage_field(u, "total_tokens");
        if (usage->total < 0 && usage->prompt >= 0 && usage->completion >= 0)
            usage->total = usage->prompt + usage->completion;
    }
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(choices, 0), "message");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (!cJSON_IsArray(choices) || cJSON_GetArraySize(choices) < 1)
        st = ct_fail(CT_ERR_FORMAT, "the response has no 'choices'");
    else if (!cJSON_IsObject(msg))
        st = ct_fail(CT_ERR_FORMAT, "choices[0] has no 'message'");
    else if (!cJSON_IsString(c))
        st = ct_fail(CT_ERR_FORMAT, "choices[0].message.content is not a string");
    else if (!(*content = ct_strdup(c->valuestring)))
        st = ct_fail(CT_ERR_NOMEM, "out of memory");
    cJSON_Delete(j);
    return st;
}

/* Parses the answer text as a JSON object, tolerating surrounding spaces and a ``` fence. */
static cJSON *answer_object(const char *content) {
    const char *s = content, *e = content + strlen(content);
    while (s < e && isspace((unsigned char)*s)) s++;
    while (e > s && isspace((unsigned char)e[-1])) e--;
    if (e - s >= 6 && strncmp(s, "```", 3) == 0 && strncmp(e - 3, "```", 3) == 0) {
        s += 3;
        while (s < e && *s != '\n' && *s != '{') s++; /* the fence's language tag */
        e -= 3;
    }
    cJSON *j = parse_exact(s, (size_t)(e - s));
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

static bool blank(const char *s) {
    while (*s && isspace((unsigned char)*s)) s++;
    return *s == '\0';
}

ct_status ct_caption_objects_parse(const char *content, int max_objects, char **objects_json) {
    *objects_json = NULL;
    cJSON *j = answer_object(content);
    if (!j) return ct_fail(CT_ERR_FORMAT, "the answer is not a JSON object");
    ct_status st = CT_OK;
    cJSON *list = cJSON_CreateArray();
    const cJSON *objs = cJSON_GetObjectItemCaseSensitive(j, "objects");
    if (!list) {
        st = ct_fail(CT_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (!cJSON_IsArray(objs)) {
        st = ct_fail(CT_ERR_FORMAT, "the answer has no list 'objects'");
        goto done;
    }
    if (cJSON_GetArraySize(objs) == 0) {
        st = ct_fail(CT_ERR_FORMAT, "the answer lists no objects");
        goto done;
    }
    int i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, objs) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
        const cJSON *desc = cJSON_GetObjectItemCaseSensitive(o, "descriptors");
        if (!cJSON_IsObject(o))
            st = ct_fail(CT_ERR_FORMAT, "objects[%d] is not an object", i);
        else if (!cJSON_IsString(name) || blank(name->valuestring))
            st = ct_fail(CT_ERR_FORMAT, "objects[%d].name is missing, empty or not a string", i);
        else if (!cJSON_IsArray(desc))
            st = ct_fail(CT_ERR_FORMAT, "objects[%d].descriptors is not a list", i);
        if (!st) {
            const cJSON *d;
            cJSON_ArrayForEach(d, desc) if (!cJSON_IsString(d)) {
                st = ct_fail(CT_ERR_FORMAT, "objects[%d].descriptors holds a non-string", i);
                break;
            }
        }
        if (st) goto done;
        if (i < max_objects) {
            cJSON *item = cJSON_CreateObject();
            cJSON *dd = cJSON_Duplicate(desc, true);
            if (!item || !dd || !cJSON_AddStringToObject(item, "name", name->valuestring)) {
                cJSON_Delete(item);
                cJSON_Delete(dd);
                st = ct_fail(CT_ERR_NOMEM, "out of memory");
                goto done;
            }
            cJSON_AddItemToObject(item, "descriptors", dd);
            cJSON_AddItemToArray(list, item);
        }
        i++;
    }
    if (!(*objects_json = cJSON_PrintUnformatted(list))) st = ct_fail(CT_ERR_NOMEM, "out of memory");
done:
    cJSON_Delete(list);
    cJSON_Delete(j);
    return st;
}

/* ---- post-filtering of captions ---- */

static bool ci_contains(const char *s, const char *needle) {
    size_t n = strlen(needle);
    for (; *s; s++)
        if (strncasecmp(s, needle, n) == 0) return true;
    return false;
}

/* Captions that talk about the images instead of the edit. */
static bool names_images(const char *s) {
    static const char *const bad[] = {"image 1",      "image 2",         "image one",    "image two",   "first image",
                                      "second image", "reference image", "target image", "query image", "1st image",
                                      "2nd image",    "the images",      "both images"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (ci_contains(s, bad[i])) return true;
    return false;
}

/* Removes list markers ("1.", "12)", "(3)", "-", "*", "•") and quotes around the text. */
static char *strip_sentence(char *s) {
    for (;;) {
        while (isspace((unsigned char)*s) || *s == '"' || *s == '\'') s++;
        char *p = s;
        if (*p == '(') p++;
        if (isdigit((unsigned char)*p)) {
            while (isdigit((unsigned char)*p)) p++;
            if ((*p == '.' || *p == ')' || *p == ':') && (isspace((unsigned char)p[1]) || !p[1])) {
                s = p + 1;
                continue;
            }
        }
        if ((*s == '-' || *s == '*' || *s == '+') && isspace((unsigned char)s[1])) {
            s += 1;
            continue;
        }
        if (strncmp(s, "\xe2\x80\xa2", 3) == 0) { /* U+2022 bullet */
            s += 3;
            continue;
        }
        break;
    }
    size_t n = strlen(s);
    while (n && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '"' || s[n - 1] == '\'')) s[--n] = '\0';
    return s;
}

static int word_count(const char *s) {
    int n = 0;
    bool in = false;
    for (; *s; s++) {
        bool w = !isspace((unsigned char)*s);
        if (w && !in) n++;
        in = w;
    }
    return n;
}

/* Appends s to the list unless it is too short, names the images or repeats one. */
static ct_status keep(char ***list, int *n, int *cap, const char *s, int min_words) {
    if (word_count(s) < min_words || names_images(s)) return CT_OK;
    for (int i = 0; i < *n; i++)
        if (strcasecmp((*list)[i], s) == 0) return CT_OK;
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        char **nl = realloc(*list, (size_t)nc * sizeof *nl);
        if (!nl) return ct_fail(CT_ERR_NOMEM, "out of memory");
        *list = nl;
        *cap = nc;
    }
    if (!((*list)[*n] = ct_strdup(s))) return ct_fail(CT_ERR_NOMEM, "out of memory");
    (*n)++;
    return CT_OK;
}

/* Splits one answer string into sentences: after '.', '!' or '?' followed by white space
 * (or a line break anywhere), when the next word does not start in lower case. */
static ct_status split_sentences(const char *text, int min_words, char ***list, int *n, int *cap) {
    char *buf = ct_strdup(text);
    if (!buf) return ct_fail(CT_ERR_NOMEM, "out of memory");
    ct_status st = CT_OK;
    char *start = buf;
    for (char *p = buf;; p++) {
        bool end = *p == '\0' || *p == '\n';
        if (!end && (*p == '.' || *p == '!' || *p == '?') && isspace((unsigned char)p[1])) {
            char *q = p + 1;
            while (isspace((unsigned char)*q)) q++;
            end = *q && !islower((unsigned char)*q); /* a list marker "1." alone is dropped later */
            if (end) p++;                            /* keep the full stop in this sentence */
        }
        if (!end) continue;
        char c = *p;
        *p = '\0';
        st = keep(list, n, cap, strip_sentence(start), min_words);
        if (st || c == '\0') break;
        start = p + 1;
    }
    free(buf);
    return st;
}

ct_status ct_caption_captions_parse(const char *content, int min_words, char ***captions, int *n) {
    *captions = NULL;
    *n = 0;
    cJSON *j = answer_object(content);
    if (!j) return ct_fail(CT_ERR_FORMAT, "the answer is not a JSON object");
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(j, "captions");
    ct_status st = CT_OK;
    int cap = 0, i = 0;
    if (!cJSON_IsArray(caps)) {
        st = ct_fail(CT_ERR_FORMAT, "the answer has no list 'captions'");
        goto done;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, caps) {
        if (!cJSON_IsString(c)) {
            st = ct_fail(CT_ERR_FORMAT, "captions[%d] is not a string", i);
            goto done;
        }
        if ((st = split_sentences(c->valuestring, min_words, captions, n, &cap))) goto done;
        i++;
    }
    if (*n == 0) st = ct_fail(CT_ERR_FORMAT, "no caption left after filtering (%d given)", i);
done:
    if (st) {
        ct_caption_list_free(*captions, *n);
        *captions = NULL;
        *n = 0;
    }
    cJSON_Delete(j);
    return st;
}

void ct_caption_list_free(char **list, int n) {
    if (!list) return;
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

double ct_retry_after_parse(const char *v, int64_t now_unix) {
    if (!v) return -1;
    while (isspace((unsigned char)*v)) v++;
    if (!*v) return -1;
    if (isdigit((unsigned char)*v)) {
        char *end;
        double s = strtod(v, &end);
        while (isspace((unsigned char)*end)) end++;
        return *end || !(s >= 0) ? -1 : s;
    }
    time_t t = curl_getdate(v, NULL);
    if (t == (time_t)-1) return -1;
    double d = (double)((int64_t)t - now_unix);
    return d < 0 ? 0 : d;
}
