/* good4cir in C: fine-grained difference captions for image pairs from any OpenAI-compatible
 * /v1/chat/completions endpoint (OpenAI, vLLM, llama.cpp's server, Ollama).
 *
 * Per pair, three requests, each asking for a JSON object
 * ("response_format": {"type": "json_object"}):
 *   1. the reference image -> {"objects": [{"name", "descriptors": [..]}, ..]}, at most
 *      max_objects, most prominent first;
 *   2. the target image + stage 1's list -> the target's objects, identical descriptors for
 *      unchanged objects;
 *   3. both lists, text only -> {"captions": [..]}: short modification sentences.
 * Other keys of an answer are ignored; anything else is a malformed answer, retried like a
 * transport error and finally recorded as a failure, never written as a caption.
 *
 * Output: one JSON line per finished pair,
 *   {"reference": path, "target": path, "difference_captions": [str, ..] [, "id": ..]}
 * appended (write + fsync) to `out_path` in completion order. The manifest reader reads it
 * (`ctcir train --data OUT --image-root ROOT`; docs/datasets.md section 5.3). A re-run
 * skips the pairs already in `out_path`, so a killed run loses at most the pairs in flight;
 * pairs that failed are listed in `failed_path` (rewritten by every run) and tried again by
 * the next run. Messages and progress go through ct_log (ctcir/log.h). Prompts and the
 * answer rules: configs/good4cir/README.md. */
#ifndef CTCIR_CAPTION_H
#define CTCIR_CAPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctcir/dataset.h"
#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pairs ---- */

typedef struct {
    char *reference; /* as written to the output (relative to the image root) */
    char *target;
    char *ref_file; /* the image files read */
    char *tgt_file;
    char *id; /* optional: copied to the output as "id" (JSON text of a string or integer) */
} ct_caption_pair;

typedef struct {
    ct_caption_pair *items;
    int n;
} ct_caption_pairs;

/* JSON lines {"reference": path, "target": path [, "id": str|int]} relative to image_root.
 * Blank lines are skipped; a malformed line is an error naming the file and line. Repeated
 * (reference, target) pairs are kept once. */
ct_status ct_caption_pairs_read(ct_caption_pairs *out, const char *file, const char *image_root);
/* The distinct (reference, target) pairs of a loaded dataset's queries that have a target;
 * paths are written relative to `root` (the prefix "root/" removed), ids are query ids. */
ct_status ct_caption_pairs_from_dataset(ct_caption_pairs *out, const ct_dataset *ds, const char *root);
void ct_caption_pairs_free(ct_caption_pairs *p);

/* ---- prompts ---- */

typedef struct {
    char *stage[3]; /* templates with {max_objects}, {reference_objects}, {target_objects} */
} ct_caption_prompts;

/* The prompts of `dir` (stage1.txt, stage2.txt, stage3.txt), or the built-in defaults
 * (configs/good4cir/ at build time) when dir is NULL. */
ct_status ct_caption_prompts_load(ct_caption_prompts *p, const char *dir);
void ct_caption_prompts_free(ct_caption_prompts *p);
/* The template with its placeholders replaced (malloc'ed; NULL when out of memory). */
char *ct_caption_prompt_fill(const char *tmpl, int max_objects, const char *ref_objects, const char *tgt_objects);

/* ---- the run ---- */

typedef struct {
    const char *endpoint; /* base URL, e.g. http://127.0.0.1:8000/v1 */
    const char *model;
    const char *api_key; /* NULL or "": no Authorization header */
    const char *out_path;
    const char *failed_path; /* NULL: out_path + ".failed" */
    const ct_caption_prompts *prompts;
    int concurrency;  /* pairs in flight, one request each at a time (default 4) */
    int max_objects;  /* default 10 */
    int retries;      /* extra attempts per request (default 5) */
    int min_words;    /* shortest caption kept (default 3) */
    double timeout_s; /* per request (default 120) */
    double backoff_s; /* first retry delay; doubles per attempt, +-50% jitter (default 1) */
} ct_caption_opts;

void ct_caption_opts_default(ct_caption_opts *o);

typedef struct {
    int64_t pairs;           /* distinct pairs given */
    int64_t skipped;         /* already in the output file */
    int64_t done;            /* written by this run */
    int64_t failed;          /* recorded in the failed file */
    int64_t captions;        /* captions written by this run */
    int64_t requests;        /* HTTP requests sent */
    int64_t retries;         /* of which repeats */
    int64_t usage_responses; /* responses that reported usage */
    int64_t prompt_tokens, completion_tokens, total_tokens;
    double seconds;
} ct_caption_summary;

/* Runs the pipeline over `pairs`. Failed pairs are not an error (summary->failed counts
 * them); an unusable endpoint (401/403/404, a malformed URL) or an output file that cannot
 * be written is; a stop request (ct_caption_request_stop) returns CT_ERR_INTERRUPTED. The
 * summary is filled in every case. */
ct_status ct_caption_run(const ct_caption_opts *o, const ct_caption_pairs *pairs, ct_caption_summary *summary);

/* Async-signal-safe: makes a running ct_caption_run stop after recording what finished. */
void ct_caption_request_stop(void);

#ifdef __cplusplus
}
#endif
#endif
