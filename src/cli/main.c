/* ctcir: the thin command-line front end. Dispatches to one function per subcommand, then
 * checks that stdout took everything (a full disk or a closed pipe is an error, exit 1). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "ctcir/dist.h"
#include "ctcir/runtime.h"
#include "ctcir/status.h"
#include "ctcir/version.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command;

static const command commands[] = {
#define X(name, summary) {#name, cmd_##name, summary},
    CTCIR_COMMANDS(X)
#undef X
};
enum { N_COMMANDS = (int)(sizeof commands / sizeof commands[0]) };

/* C identifiers name the commands; users type '-' for '_'. */
static void shown_name(const char *name, char *out, size_t cap) {
    snprintf(out, cap, "%s", name);
    for (char *p = out; *p; p++)
        if (*p == '_') *p = '-';
}

static void print_help(FILE *out) {
    fprintf(out,
            "ctcir %s: ConText-CIR composed image retrieval (train, index, query, eval)\n\n"
            "usage: ctcir <command> [options]\n"
            "       ctcir help <command> [subcommand]\n"
            "       ctcir --version\n\ncommands:\n",
            ctcir_version());
    for (int i = 0; i < N_COMMANDS; i++) {
        char shown[64];
        shown_name(commands[i].name, shown, sizeof shown);
        fprintf(out, "  %-14s %s\n", shown, commands[i].summary);
    }
    fprintf(out, "\nevery command: -h/--help, -q/--quiet (warnings and errors only), -v/--verbose (debug lines);\n"
                 "model commands: -t/--threads N, -m/--model DIR, -o/--out PATH.\n"
                 "results go to stdout, logs and progress to stderr.\n"
                 "exit codes: 0 ok, 1 runtime error, 2 usage error, 130 interrupted (Ctrl-C; progress saved)\n");
}

/* Matches "synth-shapes" (or "synth_shapes") to the command synth_shapes. */
static const command *find(const char *name) {
    for (int i = 0; i < N_COMMANDS; i++) {
        const char *a = commands[i].name, *b = name;
        while (*a && (*a == *b || (*a == '_' && *b == '-'))) a++, b++;
        if (!*a && !*b) return &commands[i];
    }
    return NULL;
}

static int unknown_command(const char *name) {
    char shown[N_COMMANDS][64];
    const char *names[N_COMMANDS];
    for (int i = 0; i < N_COMMANDS; i++) {
        shown_name(commands[i].name, shown[i], sizeof shown[i]);
        names[i] = shown[i];
    }
    const char *near = cli_nearest(name, names, N_COMMANDS);
    if (near)
        fprintf(stderr, "ctcir: unknown command '%s'; did you mean '%s'?\n", name, near);
    else
        fprintf(stderr, "ctcir: unknown command '%s' (see 'ctcir --help')\n", name);
    return CLI_USAGE;
}

int cmd_version(int argc, char **argv) {
    const cli_cmd cmd = {"version", "usage: ctcir --version (or ctcir version)\n\n"
                                    "Prints the version, the commit it was built from, the compiler, the BLAS\n"
                                    "with the kernel it runs, and the CPU features that choose that kernel.\n"};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_PARSED) return rc;
    printf("ctcir %s\n", ctcir_version());
    printf("commit: %s\n", ctcir_commit());
    printf("compiler: %s\n", ctcir_compiler());
    char blas[256], cpu[256];
    ct_blas_describe(blas, sizeof blas);
    ct_cpu_describe(cpu, sizeof cpu);
    printf("blas: %s\ncpu:  %s\n", blas, cpu);
    return CLI_OK;
}

/* OpenBLAS fixes its kernel when the library loads, so a better one than its fallback on a CPU
 * it does not know takes a restart: run this binary again, once, with OPENBLAS_CORETYPE set
 * (ctcir/runtime.h says when). If exec fails, carry on with the fallback. */
static void use_best_blas_kernel(char **argv) {
    const char *kernel = ct_blas_kernel_restart();
    if (!kernel) return;
    if (setenv(CT_BLAS_RESTART_ENV, ct_blas_kernel(), 1) == 0 && setenv("OPENBLAS_CORETYPE", kernel, 1) == 0)
        execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE");
}

/* Under mpirun every rank runs the command; a rank that fails ends the whole job (no rank may
 * be left waiting in a collective), one that succeeds leaves MPI cleanly. */
static int run_distributed(const command *c, int argc, char **argv) {
    if (ct_dist_init(&argc, &argv)) {
        fprintf(stderr, "ctcir: %s\n", ct_error());
        return CLI_RUNTIME;
    }
    int rc = c->fn(argc, argv);
    if (rc != CLI_OK && ct_dist_size() > 1) {
        fprintf(stderr, "ctcir %s: rank %d of %d exits with status %d; ending the job\n", c->name, ct_dist_rank(),
                ct_dist_size(), rc);
        ct_dist_abort(rc);
    }
    ct_dist_finalize();
    return rc;
}

/* stdout must have taken every byte: a full disk or a closed pipe makes the exit code 1. */
static int finish_stdout(const char *cmd, int rc) {
    bool bad = fflush(stdout) != 0 || ferror(stdout);
    int err = errno;
    if (fclose(stdout) != 0 && !bad) bad = true, err = errno;
    if (bad) {
        fprintf(stderr, "ctcir %s: error: writing stdout: %s\n", cmd, strerror(err));
        if (rc == CLI_OK) rc = CLI_RUNTIME;
    }
    return rc;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        print_help(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_help(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) return cmd_version(argc - 1, argv + 1);
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            print_help(stdout);
            return CLI_OK;
        }
        const command *c = find(argv[2]);
        if (!c) return unknown_command(argv[2]);
        /* `help index merge` -> `index merge --help` */
        char *help_argv[8];
        int n = 0;
        for (int i = 2; i < argc && n < 6; i++) help_argv[n++] = argv[i];
        help_argv[n++] = "--help";
        help_argv[n] = NULL;
        return c->fn(n, help_argv);
    }
    if (name[0] == '-') {
        fprintf(stderr, "ctcir: unknown option %s before the command (see 'ctcir --help')\n", name);
        return CLI_USAGE;
    }
    const command *c = find(name);
    if (!c) return unknown_command(name);
    return run_distributed(c, argc - 1, argv + 1);
}

int main(int argc, char **argv) {
    use_best_blas_kernel(argv);
    int rc = dispatch(argc, argv);
    return finish_stdout(argc > 1 ? argv[1] : "", rc);
}
