/* The table of subcommands. Each lives in its own file src/cli/cmd_<name>.c and defines
 * `int cmd_<name>(int argc, char **argv)` (argv[0] is the command name). A command given
 * `--help` prints its usage on stdout and returns 0. Exit codes: 0 ok, 1 runtime error,
 * 2 usage error. Add a command with one line here. */
#ifndef CTCIR_CLI_COMMANDS_H
#define CTCIR_CLI_COMMANDS_H

#define CTCIR_COMMANDS(X) \
    X(version, "print the version") \
    X(tokenize, "texts (JSON strings, one per line) -> CLIP token ids") \
    X(bpe_train, "learn a CLIP-format BPE vocabulary from captions")

#define X(name, summary) int cmd_##name(int argc, char **argv);
CTCIR_COMMANDS(X)
#undef X

#endif
