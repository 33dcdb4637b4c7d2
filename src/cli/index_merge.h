/* `ctcir index merge A B ... --out INDEX`: the model-free part of `ctcir index`;
 * cmd_index.c dispatches here with argv[0] = "merge". */
#ifndef CTCIR_CLI_INDEX_MERGE_H
#define CTCIR_CLI_INDEX_MERGE_H

int cli_index_merge(int argc, char **argv);

#endif
