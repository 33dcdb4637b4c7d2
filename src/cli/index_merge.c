/* ctcir index merge: joins complete index shards into one index. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/index_merge.h"
#include "ctcir/index.h"

static void merge_usage(void) {
    printf("usage: ctcir index merge SHARD [SHARD...] --out INDEX\n"
           "\n"
           "Joins the shards written by 'ctcir index --shard k/N' into one index file.\n"
           "The shards must be complete, come from the same model (model_id), have the same\n"
           "dimension, dtype and gallery size, and together cover every gallery row exactly\n"
           "once (shard k/N holds the contiguous rows [k*G/N, (k+1)*G/N)). Any order.\n"
           "\n"
           "options:\n"
           "  -o, --out PATH   the merged index to write (required; written atomically)\n"
           "  -h, --help       this text\n");
}

int cli_index_merge(int argc, char **argv) {
    const char *cmd = "index merge";
    if (cli_wants_help(argc, argv)) { merge_usage(); return CLI_OK; }
    static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'o') out = optarg;
        else return cli_usage_error(cmd, "unknown option or missing value: %s", argv[optind - 1]);
    }
    if (!out) return cli_usage_error(cmd, "--out INDEX is required");
    int n = argc - optind;
    if (n < 1) return cli_usage_error(cmd, "no input shards given");
    ct_status st = ct_index_merge(out, (const char *const *)(argv + optind), n);
    if (st) return cli_fail(cmd, st);
    fprintf(stderr, "merged %d shard%s into %s\n", n, n == 1 ? "" : "s", out);
    return CLI_OK;
}
