/* The parts of good4cir below the run: JSON lines, data URLs, chat-completion responses,
 * stage answer validation and caption post-filtering (pure functions, tested on their own). */
#ifndef CTCIR_CAPTION_INTERNAL_H
#define CTCIR_CAPTION_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctcir/caption.h"

/* JSON lines: steps *pos past the next non-blank line of text[0, len) and returns it in
 * (*line, *line_len) with its 1-based number in *line_no (count from 0). False at the end. */
bool ct_caption_next_line(const char *text, size_t len, size_t *pos, size_t *line_no, const char **line,
                          size_t *line_len);

/* Base64 (RFC 4648, with padding) of n bytes into out, which holds 4 * ((n + 2) / 3) + 1
 * bytes; returns the length written (NUL not counted). */
size_t ct_base64_encode(char *out, const unsigned char *in, size_t n);
/* "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp" from the magic bytes;
 * NULL when unknown. */
const char *ct_image_mime(const unsigned char *data, size_t n);

typedef struct {
    int64_t prompt, completion, total; /* -1 when the server did not report them */
} ct_caption_usage;

/* Extracts choices[0].message.content (malloc'ed) and the usage of a chat-completion
 * response body. CT_ERR_FORMAT with a reason when the body is not one. */
ct_status ct_chat_response_parse(const char *body, size_t len, char **content, ct_caption_usage *usage);

/* Validates a stage 1/2 answer {"objects": [{"name": str, "descriptors": [str..]}..]}
 * (at least one object, names non-empty) and returns the list, cut to max_objects, as
 * compact JSON text (malloc'ed) holding only those keys. CT_ERR_FORMAT says why. A
 * ```json fence around the object is tolerated. */
ct_status ct_caption_objects_parse(const char *content, int max_objects, char **objects_json);

/* Validates a stage 3 answer {"captions": [str..]} and post-filters it: each string is
 * split into sentences; list markers ("1.", "2)", "-", "*", bullets) and surrounding
 * quotes and spaces are stripped; sentences under min_words words, sentences naming the
 * images ("image 1", "first image", "the reference image", ...) and repeats (ignoring
 * case) are dropped. CT_ERR_FORMAT when the answer is malformed or nothing is left. */
ct_status ct_caption_captions_parse(const char *content, int min_words, char ***captions, int *n);
void ct_caption_list_free(char **list, int n);

/* Seconds from a Retry-After value (delta seconds or an HTTP date); -1 when unusable. */
double ct_retry_after_parse(const char *value, int64_t now_unix);

#endif
