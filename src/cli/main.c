/* ctcir: the thin command-line front end. Dispatches to one function per subcommand. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/blas.h"
#include "ctcir/dist.h"

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
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void print_help(FILE *out) {
    fprintf(out,
            "ctcir %s: ConText-CIR composed image retrieval (train, index, query, eval)\n\n"
            "usage: ctcir <command> [options]\n"
            "       ctcir help <command>\n"
            "       ctcir --version\n\ncommands:\n",
            CTCIR_VERSION);
    for (int i = 0; i < n_commands; i++) {
        char shown[64]; /* C identifiers name the commands; users type '-' for '_' */
        snprintf(shown, sizeof shown, "%s", commands[i].name);
        for (char *p = shown; *p; p++)
            if (*p == '_') *p = '-';
        fprintf(out, "  %-14s %s\n", shown, commands[i].summary);
    }
    fprintf(out, "\nexit codes: 0 ok, 1 runtime error, 2 usage error\n");
}

/* Matches "synth-shapes" (or "synth_shapes") to the command synth_shapes. */
static const command *find(const char *name) {
    for (int i = 0; i < n_commands; i++) {
        const char *a = commands[i].name, *b = name;
        while (*a && (*a == *b || (*a == '_' && *b == '-'))) a++, b++;
        if (!*a && !*b) return &commands[i];
    }
    return NULL;
}

int cmd_version(int argc, char **argv) {
    (void)argc;
    (void)argv;
    char blas[256], cpu[256];
    ct_blas_describe(blas, sizeof blas);
    ct_cpu_describe(cpu, sizeof cpu);
    printf("ctcir %s\nblas: %s\ncpu:  %s\n", CTCIR_VERSION, blas, cpu);
    return CLI_OK;
}

/* OpenBLAS fixes its kernel when the library loads, so a better one than its fallback on a CPU
 * it does not know takes a restart: run this binary again, once, with OPENBLAS_CORETYPE set
 * (src/core/blas.h says when). If exec fails, carry on with the fallback. */
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

int main(int argc, char **argv) {
    use_best_blas_kernel(argv);
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
        if (!c) {
            fprintf(stderr, "ctcir: unknown command '%s'\n", argv[2]);
            return CLI_USAGE;
        }
        char *help_argv[] = {argv[2], "--help", NULL};
        return c->fn(2, help_argv);
    }
    const command *c = find(name);
    if (!c) {
        fprintf(stderr, "ctcir: unknown command '%s' (see 'ctcir --help')\n", name);
        return CLI_USAGE;
    }
    return run_distributed(c, argc - 1, argv + 1);
}
