/* ctcir index merge: joins complete index shards into one index. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/index_merge.h"
#include "cli/opts.h"
#include "ctcir/index.h"
#include "ctcir/log.h"

int cli_index_merge(int argc, char **argv) {
    const char *out = NULL;
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, &out, "PATH", "the merged index to write (written atomically)", .required = true}, {0}};
    const cli_cmd cmd = {"index merge",
                         "usage: ctcir index merge SHARD [SHARD...] --out INDEX\n"
                         "\n"
                         "Joins the shards written by 'ctcir index --shard k/N' into one index file.\n"
                         "The shards must be complete, come from the same model (model_id), have the same\n"
                         "dimension, dtype and gallery size, and together cover every gallery row exactly\n"
                         "once (shard k/N holds the contiguous rows [k*G/N, (k+1)*G/N)). Any order.\n",
                         opts,
                         NULL,
                         1 << 20,
                         "SHARD"};
    cli_list shards = {0};
    int rc = cli_parse(&cmd, argc, argv, &shards);
    if (rc == CLI_PARSED) {
        if (shards.n < 1)
            rc = cli_usage_error(cmd.name, "no input shards given");
        else {
            ct_status st = ct_index_merge(out, shards.v, shards.n);
            if (st)
                rc = cli_fail(cmd.name, st);
            else {
                ct_log(CT_LOG_INFO, "merged %d shard%s into %s\n", shards.n, shards.n == 1 ? "" : "s", out);
                rc = CLI_OK;
            }
        }
    }
    cli_list_free(&shards);
    return rc;
}
