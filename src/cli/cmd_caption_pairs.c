/* ctcir caption-pairs: good4cir difference captions from an OpenAI-compatible endpoint. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "ctcir/caption.h"
#include "ctcir/log.h"

static const char synopsis[] =
    "usage: ctcir caption-pairs (--pairs FILE.jsonl --image-root DIR | --dataset KIND --root DIR --split S)\n"
    "                           --endpoint URL --model NAME --out FILE.jsonl [options]\n\n"
    "Writes fine-grained difference captions for image pairs with the three-stage good4cir\n"
    "pipeline (configs/good4cir/README.md), asking any OpenAI-compatible /v1/chat/completions server\n"
    "(OpenAI, vLLM, llama.cpp's server, Ollama) that accepts images:\n"
    "  1. reference image -> {\"objects\": [{\"name\", \"descriptors\": [...]}, ...]}, most prominent first\n"
    "  2. target image + list 1 -> the target's objects (identical descriptors when unchanged)\n"
    "  3. both lists, text only -> {\"captions\": [...]}: one change (addition, removal,\n"
    "     modification) per sentence\n"
    "Every request carries \"response_format\": {\"type\": \"json_object\"}; images travel as base64\n"
    "data URLs (PNG, JPEG, GIF, WebP, BMP, detected from their bytes). An answer of another\n"
    "shape is malformed: retried, then recorded as failed, never written as a caption.\n\n"
    "Input: --pairs with --image-root, or --dataset with --root, --split (and --category);\n"
    "repeated pairs are captioned once. The API key comes from the environment variable\n"
    "OPENAI_API_KEY when it is set (sent as 'Authorization: Bearer ...'); it is never a flag and\n"
    "never printed.\n";

static const char epilogue[] =
    "Post-filtering: each caption is split into sentences; list markers (\"1.\", \"2)\", \"-\",\n"
    "\"*\") and quotes are stripped; sentences under --min-words words, sentences that talk\n"
    "about the images (\"image 1\", \"the first image\", \"the target image\", ...) and repeats are\n"
    "dropped. A pair with nothing left is a malformed stage 3 answer.\n\n"
    "Resuming: a re-run with the same --out skips the pairs already in it and tries the others\n"
    "again, failed ones included. Each finished pair is appended and fsynced at once, so a\n"
    "killed run loses only the pairs in flight (an incomplete last line is cut on restart).\n"
    "HTTP 401/403/404/405 stop the run (key or endpoint is wrong), and so does a server that\n"
    "never answers (three pairs out of retries on connection errors); other 4xx fail the pair.\n\n"
    "Progress (done/total, rate, ETA) goes to stderr; the summary to stdout as JSON:\n"
    "  {\"pairs\", \"skipped\", \"done\", \"failed\", \"captions\", \"requests\", \"retries\",\n"
    "   \"tokens\": {\"prompt\", \"completion\", \"total\"} or null when the server reports no usage,\n"
    "   \"seconds\", \"out\", \"failed_file\"}\n"
    "Exit status: 0 when every pair has captions, 1 when some failed or on an error, 2 on a\n"
    "usage error, 130 when interrupted (Ctrl-C; what finished is kept).\n";

static void on_signal(int sig) {
    (void)sig;
    ct_caption_request_stop();
}

static void print_summary(const ct_caption_summary *s, const char *out, const char *failed) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return;
    cJSON_AddNumberToObject(j, "pairs", (double)s->pairs);
    cJSON_AddNumberToObject(j, "skipped", (double)s->skipped);
    cJSON_AddNumberToObject(j, "done", (double)s->done);
    cJSON_AddNumberToObject(j, "failed", (double)s->failed);
    cJSON_AddNumberToObject(j, "captions", (double)s->captions);
    cJSON_AddNumberToObject(j, "requests", (double)s->requests);
    cJSON_AddNumberToObject(j, "retries", (double)s->retries);
    if (s->usage_responses > 0) {
        cJSON *t = cJSON_AddObjectToObject(j, "tokens");
        cJSON_AddNumberToObject(t, "prompt", (double)s->prompt_tokens);
        cJSON_AddNumberToObject(t, "completion", (double)s->completion_tokens);
        cJSON_AddNumberToObject(t, "total", (double)s->total_tokens);
    } else {
        cJSON_AddNullToObject(j, "tokens");
    }
    cJSON_AddNumberToObject(j, "seconds", (double)(int64_t)(s->seconds * 1000 + 0.5) / 1000);
    cJSON_AddStringToObject(j, "out", out);
    cJSON_AddStringToObject(j, "failed_file", failed);
    char *text = cJSON_PrintUnformatted(j);
    if (text) printf("%s\n", text);
    free(text);
    cJSON_Delete(j);
}

int cmd_caption_pairs(int argc, char **argv) {
    const char *cmd = "caption-pairs";
    ct_caption_opts o;
    ct_caption_opts_default(&o);
    const char *pairs_file = NULL, *image_root = NULL, *dataset = NULL, *root = NULL, *split = NULL;
    const char *category = NULL, *prompts_dir = NULL;
    long conc = o.concurrency, maxobj = o.max_objects, retries = o.retries, minw = o.min_words;
    const cli_opt opts[] = {
        {"pairs", 0, CLI_STR, &pairs_file, "FILE",
         "JSON lines {\"reference\": path, \"target\": path [, \"id\": str|int]}"},
        {"image-root", 0, CLI_STR, &image_root, "DIR", "folder the pairs' paths are relative to"},
        {"dataset", 0, CLI_STR, &dataset, "KIND",
         "the (reference, target) pairs of a dataset ctcir reads: cirr, cirr_r,\n"
         "hotel, lasco, fashioniq, circo (queries without a target are skipped)"},
        {"root", 0, CLI_STR, &root, "DIR", "the dataset's root"},
        {"split", 0, CLI_STR, &split, "S", "the dataset's split"},
        {"category", 0, CLI_STR, &category, "C", "fashioniq: the category"},
        {"endpoint", 0, CLI_STR, &o.endpoint, "URL",
         "the API base, e.g. http://127.0.0.1:8000/v1 or https://api.openai.com/v1\n"
         "(requests go to URL/chat/completions)",
         .required = true},
        {"model", 0, CLI_STR, &o.model, "NAME", "model name sent with every request (the server's, not a ctcir folder)",
         .required = true},
        {"out", 'o', CLI_STR, &o.out_path, "FILE.jsonl",
         "one line per finished pair, in completion order:\n"
         "{\"reference\", \"target\", \"difference_captions\": [...] [, \"id\"]}\n"
         "with the paths as given (dataset: relative to --root). Train on it with\n"
         "'ctcir train --data FILE.jsonl --image-root DIR'.",
         .required = true},
        {"failed", 0, CLI_STR, &o.failed_path, "FILE",
         "the pairs that failed in this run, JSON lines {\"reference\", \"target\",\n"
         "\"stage\", \"attempts\", \"error\"} (rewritten by every run)",
         .default_text = "FILE.jsonl.failed"},
        {"prompts", 0, CLI_STR, &prompts_dir, "DIR",
         "stage1.txt, stage2.txt, stage3.txt to use instead of the built-in\n"
         "prompts (the repository's configs/good4cir/, compiled in; copy that\n"
         "folder to edit them). Placeholders: {max_objects},\n"
         "{reference_objects}, {target_objects} (the stage 1 / 2 lists as JSON)"},
        {"concurrency", 0, CLI_INT, &conc, "N", "pairs in flight, one request each at a time", 1, 1000},
        {"max-objects", 0, CLI_INT, &maxobj, "N",
         "objects asked for per image; longer lists are cut (stage 2 may list\n"
         "up to 2N)",
         1, 1000},
        {"retries", 0, CLI_INT, &retries, "N",
         "extra attempts per request after a 429, 408, 409, 5xx, timeout,\n"
         "dropped connection or malformed answer",
         0, 1000},
        {"timeout", 0, CLI_FLOAT, &o.timeout_s, "SECONDS", "per request (over 0)", 0, 86400},
        {"backoff", 0, CLI_FLOAT, &o.backoff_s, "SECONDS",
         "first retry delay, doubled per attempt up to 60 s, with +-50%\n"
         "jitter; a Retry-After header is honoured instead",
         0, 86400},
        {"min-words", 0, CLI_INT, &minw, "N", "post-filter: shorter sentences are dropped", 0, 1000},
        {0}};
    const cli_cmd command = {cmd, synopsis, opts, epilogue};
    int prc = cli_parse(&command, argc, argv, NULL);
    if (prc != CLI_PARSED) return prc;
    if (!(o.timeout_s > 0))
        return cli_usage_error(cmd, "--timeout: expected a number of seconds over 0, got %g", o.timeout_s);
    o.concurrency = (int)conc, o.max_objects = (int)maxobj, o.retries = (int)retries, o.min_words = (int)minw;
    if (!!pairs_file == !!dataset) return cli_usage_error(cmd, "give either --pairs FILE or --dataset KIND");
    if (pairs_file && !image_root) return cli_usage_error(cmd, "--pairs needs --image-root DIR");
    if (pairs_file && (root || split || category))
        return cli_usage_error(cmd, "--root, --split and --category go with --dataset");
    if (dataset && (!root || !split)) return cli_usage_error(cmd, "--dataset needs --root DIR and --split S");
    if (dataset && image_root) return cli_usage_error(cmd, "--image-root goes with --pairs (use --root)");
    const char *key = getenv("OPENAI_API_KEY");
    o.api_key = key && *key ? key : NULL;

    ct_caption_prompts prompts;
    ct_status s = ct_caption_prompts_load(&prompts, prompts_dir);
    if (s) return cli_fail(cmd, s);
    o.prompts = &prompts;
    ct_caption_pairs pairs = {0};
    if (pairs_file) {
        s = ct_caption_pairs_read(&pairs, pairs_file, image_root);
    } else {
        ct_dataset_kind kind;
        ct_dataset *ds = NULL;
        s = ct_dataset_kind_parse(dataset, &kind);
        if (s) {
            ct_caption_prompts_free(&prompts);
            return cli_usage_error(cmd, "%s", ct_error());
        }
        if (kind == CT_DS_MANIFEST) {
            ct_caption_prompts_free(&prompts);
            return cli_usage_error(cmd, "a manifest is a pairs file: use --pairs FILE --image-root DIR");
        }
        ct_dataset_opts dopts = {.root = root, .split = split, .category = category};
        if (!(s = ct_dataset_load(&ds, kind, &dopts))) s = ct_caption_pairs_from_dataset(&pairs, ds, root);
        ct_dataset_free(ds);
    }
    if (s) {
        ct_caption_prompts_free(&prompts);
        return cli_fail(cmd, s);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ct_caption_summary sum;
    s = ct_caption_run(&o, &pairs, &sum);
    char failed_default[4096];
    snprintf(failed_default, sizeof failed_default, "%s.failed", o.out_path);
    print_summary(&sum, o.out_path, o.failed_path ? o.failed_path : failed_default);
    int rc = CLI_OK;
    if (s == CT_ERR_INTERRUPTED) {
        fprintf(stderr, "ctcir %s: %s\n", cmd, ct_error());
        rc = 130;
    } else if (s) {
        rc = cli_fail(cmd, s);
    } else if (sum.failed > 0) {
        fprintf(stderr, "ctcir %s: %lld of %lld pairs failed (listed in %s); run again to retry them\n", cmd,
                (long long)sum.failed, (long long)(sum.done + sum.failed),
                o.failed_path ? o.failed_path : failed_default);
        rc = CLI_RUNTIME;
    }
    ct_caption_pairs_free(&pairs);
    ct_caption_prompts_free(&prompts);
    return rc;
}
