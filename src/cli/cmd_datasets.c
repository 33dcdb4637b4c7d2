/* ctcir datasets: a doctor for local copies of the CIR benchmarks (`check`) and the CIRR
 * image tree from an NLVR2 download (`build-cirr`). The work is ctcir/datasets.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "ctcir/datasets.h"
#include "ctcir/log.h"

static const char synopsis[] =
    "usage: ctcir datasets check --dataset cirr|circo|fashioniq|lasco|cirr_r|hotel|manifest --root DIR\n"
    "                            [--split S] [--category C] [--json] [--write-excluded FILE] [-t N] [-q]\n"
    "       ctcir datasets build-cirr --nlvr2 DIR --out DIR [--cirr DIR] [--copy|--link] [-q]\n\n"
    "check: reads every split of the dataset (or --split S; FashionIQ: each category, or\n"
    "--category C) as `ctcir eval` reads it (docs/datasets.md section 6) and checks that every\n"
    "image it references exists and decodes, that gallery names and query ids are unique, that\n"
    "the reader skips no record, and that the record counts equal the published ones\n"
    "(docs/datasets.md section 8). Lists the missing and corrupt images and the queries each\n"
    "one affects (reference, target or subset member unusable). Exit 0 only if the copy is\n"
    "complete, 1 otherwise.\n"
    "  --json                one JSON object on stdout: complete, missing, corrupt, duplicates,\n"
    "                        queries_affected, counts {split: {found, published, images}}, ...\n"
    "                        (docs/formats.md section 13)\n"
    "  --write-excluded FILE the queries that cannot be evaluated and the unusable images, per\n"
    "                        split, for `ctcir eval --exclude FILE` (docs/formats.md section 13)\n"
    "  -t, --threads N       decoding threads (default 4)\n"
    "  -q, --quiet           no progress lines\n\n"
    "build-cirr: CIRR's images are NLVR2's. Fills --out (the CIRR root) with the tree its split\n"
    "files image_splits/split.rc2.<split>.json expect (train/<n>/..., dev/..., test1/...),\n"
    "finding each image by file name anywhere under --nlvr2. Prints a JSON summary with the\n"
    "images not found; exit 0 when none is missing, 1 otherwise. Re-running fills in only what\n"
    "is not yet there.\n"
    "  --cirr DIR            the CIRR annotation folder holding image_splits/ (default: --out);\n"
    "                        its captions/, captions_ext/ and image_splits/ JSON files are put\n"
    "                        into --out too\n"
    "  --link                symbolic links to the NLVR2 files (absolute paths; the default)\n"
    "  --copy                copies, each written atomically\n";

static int check_main(int argc, char **argv) {
    ct_check_opts o;
    ct_check_opts_default(&o);
    const char *excl = NULL;
    bool json = false;
    long threads = o.threads;
    const cli_opt opts[] = {
        {"dataset", 0, CLI_STR, &o.dataset, "KIND", "cirr | circo | fashioniq | lasco | cirr_r | hotel | manifest",
         .required = true},
        {"root", 0, CLI_STR, &o.root, "DIR", "the dataset's root", .required = true},
        {"split", 0, CLI_STR, &o.split, "S", "only this split (default: every split)"},
        {"category", 0, CLI_STR, &o.category, "C", "fashioniq: only this category"},
        {"json", 0, CLI_FLAG, &json, NULL, "one JSON object on stdout (docs/formats.md section 13)"},
        {"write-excluded", 0, CLI_STR, &excl, "FILE", "the exclusion list for `ctcir eval --exclude FILE`"},
        {"threads", 't', CLI_INT, &threads, "N", "decoding threads", 1, 64},
        {0}};
    const cli_cmd cmd = {"datasets check", synopsis, opts};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_PARSED) return rc;
    o.threads = (int)threads;
    o.quiet = cli_quiet();
    if (!o.dataset || !o.root) return cli_usage_error("datasets", "check needs --dataset and --root");
    ct_dataset_kind kind;
    if (ct_dataset_kind_parse(o.dataset, &kind)) return cli_usage_error("datasets", "unknown dataset '%s'", o.dataset);
    if (o.category && kind != CT_DS_FASHIONIQ) return cli_usage_error("datasets", "--category is for fashioniq");
    ct_check_report r;
    ct_status s = ct_datasets_check(&o, &r);
    if (s) return cli_fail("datasets", s);
    if (excl && (s = ct_check_write_excluded(&r, excl))) {
        ct_check_report_free(&r);
        return cli_fail("datasets", s);
    }
    if (json) {
        char *text = ct_check_report_json(&r);
        if (!text) {
            ct_check_report_free(&r);
            return cli_fail("datasets", ct_fail(CT_ERR_NOMEM, "out of memory"));
        }
        printf("%s\n", text);
        free(text);
    } else {
        for (int i = 0; i < r.n_splits; i++) {
            const ct_check_split *sp = &r.splits[i];
            if (sp->error) {
                printf("%s %s: cannot be read: %s\n", r.dataset, sp->split, sp->error);
                continue;
            }
            printf("%s %s: %d query records", r.dataset, sp->split, sp->records);
            if (sp->published_records >= 0) printf(" (published %d)", sp->published_records);
            printf(", %d gallery images", sp->images);
            if (sp->published_images >= 0) printf(" (published %d)", sp->published_images);
            printf(", %d images checked, %d queries affected", sp->images_checked, sp->n_affected);
            if (sp->skipped) printf(", %d records skipped by the reader", sp->skipped);
            if (sp->n_duplicates) printf(", %d repeated image names (first: %s)", sp->n_duplicates, sp->duplicates[0]);
            if (sp->n_duplicate_ids)
                printf(", %d repeated query ids (first: %s)", sp->n_duplicate_ids, sp->duplicate_ids[0]);
            printf("\n");
            int shown = 0, more = 0;
            for (int k = 0; k < r.n_bad; k++) {
                const ct_check_image *b = &r.bad[k];
                if (strcmp(b->split, sp->split)) continue;
                if (shown == 20) {
                    more++;
                    continue;
                }
                shown++;
                printf("  %-7s %s  %s  (%d quer%s)%s%s\n", b->problem == CT_IMG_MISSING ? "missing" : "corrupt",
                       b->name, b->path ? b->path : "(in no gallery)", b->n_queries, b->n_queries == 1 ? "y" : "ies",
                       b->error ? ": " : "", b->error ? b->error : "");
            }
            if (more) printf("  ... and %d more unusable images (--json lists them all)\n", more);
        }
        printf("%s: %s (%d images checked, %d unusable, %d queries affected, %.1f s)\n", r.root,
               r.complete ? "complete" : "INCOMPLETE", r.images_checked, r.n_bad, r.queries_affected, r.seconds);
    }
    if (excl) ct_log(CT_LOG_INFO, "datasets check: exclusion list written to %s\n", excl);
    rc = r.complete ? CLI_OK : CLI_RUNTIME;
    ct_check_report_free(&r);
    return rc;
}

static int build_cirr_main(int argc, char **argv) {
    ct_build_cirr_opts o;
    memset(&o, 0, sizeof o);
    bool copy = false, link = false;
    const cli_opt opts[] = {
        {"nlvr2", 0, CLI_STR, &o.nlvr2, "DIR", "the NLVR2 download (images found by file name anywhere below)",
         .required = true},
        {"out", 'o', CLI_STR, &o.out, "DIR", "the CIRR root to fill", .required = true},
        {"cirr", 0, CLI_STR, &o.cirr, "DIR", "the CIRR annotation folder holding image_splits/ (default: --out)"},
        {"copy", 0, CLI_FLAG, &copy, NULL, "copies, each written atomically"},
        {"link", 0, CLI_FLAG, &link, NULL, "symbolic links to the NLVR2 files (absolute paths; the default)"},
        {0}};
    const cli_cmd cmd = {"datasets build-cirr", synopsis, opts};
    int prc = cli_parse(&cmd, argc, argv, NULL);
    if (prc != CLI_PARSED) return prc;
    if (copy && link) return cli_usage_error("datasets", "--copy and --link exclude each other");
    o.copy = copy;
    ct_build_cirr_report r;
    ct_status s = ct_build_cirr(&o, &r);
    if (s) return cli_fail("datasets", s);
    char *text = ct_build_cirr_report_json(&r, &o);
    if (text) printf("%s\n", text);
    free(text);
    if (r.n_missing)
        fprintf(stderr, "ctcir datasets build-cirr: %d images not found under %s (listed in \"missing\")\n",
                r.n_missing, o.nlvr2);
    int rc = !text ? cli_fail("datasets", ct_fail(CT_ERR_NOMEM, "out of memory")) : r.n_missing ? CLI_RUNTIME : CLI_OK;
    ct_build_cirr_report_free(&r);
    return rc;
}

int cmd_datasets(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(synopsis, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "check")) return check_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "build-cirr")) return build_cirr_main(argc - 1, argv + 1);
    static const char *const subs[] = {"check", "build-cirr"};
    const char *near = cli_nearest(argv[1], subs, 2);
    if (near) return cli_usage_error("datasets", "unknown subcommand '%s'; did you mean '%s'?", argv[1], near);
    return cli_usage_error("datasets", "unknown subcommand '%s' (check or build-cirr)", argv[1]);
}
