/* ctcir datasets: a doctor for local copies of the CIR benchmarks (`check`) and the CIRR
 * image tree from an NLVR2 download (`build-cirr`). The work is ctcir/datasets.h. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "ctcir/datasets.h"
#include "ctcir/log.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: ctcir datasets check --dataset cirr|circo|fashioniq|lasco|cirr_r|hotel|manifest --root DIR\n"
            "                            [--split S] [--category C] [--json] [--write-excluded FILE] [-j N] [-q]\n"
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
            "  -j, --threads N       decoding threads (default 4)\n"
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
            "  --copy                copies, each written atomically\n");
}

static int check_main(int argc, char **argv) {
    enum { O_DATASET = 256, O_ROOT, O_SPLIT, O_CAT, O_JSON, O_EXCL };
    static const struct option opts[] = {
        {"dataset", required_argument, 0, O_DATASET}, {"root", required_argument, 0, O_ROOT},
        {"split", required_argument, 0, O_SPLIT},     {"category", required_argument, 0, O_CAT},
        {"json", no_argument, 0, O_JSON},             {"write-excluded", required_argument, 0, O_EXCL},
        {"threads", required_argument, 0, 'j'},       {"quiet", no_argument, 0, 'q'},
        {0, 0, 0, 0}};
    ct_check_opts o;
    ct_check_opts_default(&o);
    const char *excl = NULL;
    bool json = false;
    long v;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "j:q", opts, NULL)) != -1) {
        switch (c) {
        case O_DATASET: o.dataset = optarg; break;
        case O_ROOT: o.root = optarg; break;
        case O_SPLIT: o.split = optarg; break;
        case O_CAT: o.category = optarg; break;
        case O_JSON: json = true; break;
        case O_EXCL: excl = optarg; break;
        case 'j': if (!cli_parse_int(optarg, &v) || v < 1 || v > 64) return cli_usage_error("datasets", "--threads: 1..64"); o.threads = (int)v; break;
        case 'q': o.quiet = true; break;
        default: return cli_usage_error("datasets", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("datasets", "unexpected argument '%s'", argv[optind]);
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
            if (sp->n_duplicate_ids) printf(", %d repeated query ids (first: %s)", sp->n_duplicate_ids, sp->duplicate_ids[0]);
            printf("\n");
            int shown = 0, more = 0;
            for (int k = 0; k < r.n_bad; k++) {
                const ct_check_image *b = &r.bad[k];
                if (strcmp(b->split, sp->split)) continue;
                if (shown == 20) { more++; continue; }
                shown++;
                printf("  %-7s %s  %s  (%d quer%s)%s%s\n", b->problem == CT_IMG_MISSING ? "missing" : "corrupt", b->name,
                       b->path ? b->path : "(in no gallery)", b->n_queries, b->n_queries == 1 ? "y" : "ies",
                       b->error ? ": " : "", b->error ? b->error : "");
            }
            if (more) printf("  ... and %d more unusable images (--json lists them all)\n", more);
        }
        printf("%s: %s (%d images checked, %d unusable, %d queries affected, %.1f s)\n", r.root,
               r.complete ? "complete" : "INCOMPLETE", r.images_checked, r.n_bad, r.queries_affected, r.seconds);
    }
    if (excl) ct_log(CT_LOG_INFO, "datasets check: exclusion list written to %s\n", excl);
    int rc = r.complete ? CLI_OK : CLI_RUNTIME;
    ct_check_report_free(&r);
    return rc;
}

static int build_cirr_main(int argc, char **argv) {
    enum { O_NLVR2 = 256, O_OUT, O_CIRR, O_COPY, O_LINK };
    static const struct option opts[] = {
        {"nlvr2", required_argument, 0, O_NLVR2}, {"out", required_argument, 0, O_OUT},
        {"cirr", required_argument, 0, O_CIRR},   {"copy", no_argument, 0, O_COPY},
        {"link", no_argument, 0, O_LINK},         {"quiet", no_argument, 0, 'q'},
        {0, 0, 0, 0}};
    ct_build_cirr_opts o;
    memset(&o, 0, sizeof o);
    int modes = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        switch (c) {
        case O_NLVR2: o.nlvr2 = optarg; break;
        case O_OUT: o.out = optarg; break;
        case O_CIRR: o.cirr = optarg; break;
        case O_COPY: o.copy = true; modes |= 1; break;
        case O_LINK: o.copy = false; modes |= 2; break;
        case 'q': ct_log_set_level(CT_LOG_WARN); break;
        default: return cli_usage_error("datasets", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("datasets", "unexpected argument '%s'", argv[optind]);
    if (!o.nlvr2 || !o.out) return cli_usage_error("datasets", "build-cirr needs --nlvr2 and --out");
    if (modes == 3) return cli_usage_error("datasets", "--copy and --link exclude each other");
    ct_build_cirr_report r;
    ct_status s = ct_build_cirr(&o, &r);
    if (s) return cli_fail("datasets", s);
    char *text = ct_build_cirr_report_json(&r, &o);
    if (text) printf("%s\n", text);
    free(text);
    if (r.n_missing)
        fprintf(stderr, "ctcir datasets build-cirr: %d images not found under %s (listed in \"missing\")\n", r.n_missing, o.nlvr2);
    int rc = !text ? cli_fail("datasets", ct_fail(CT_ERR_NOMEM, "out of memory")) : r.n_missing ? CLI_RUNTIME : CLI_OK;
    ct_build_cirr_report_free(&r);
    return rc;
}

int cmd_datasets(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "check")) return check_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "build-cirr")) return build_cirr_main(argc - 1, argv + 1);
    return cli_usage_error("datasets", "unknown subcommand '%s' (check or build-cirr)", argv[1]);
}
