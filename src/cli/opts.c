/* The option parser of every command (cli/opts.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "ctcir/log.h"

#define MAX_OPTS 128

/* The options every command takes, after its own. */
static bool want_help, want_quiet, want_verbose;
static const cli_opt common_opts[] = {
    {"quiet", 'q', CLI_FLAG, &want_quiet, .help = "only warnings and errors on stderr (no progress, no info)"},
    {"verbose", 'v', CLI_FLAG, &want_verbose, .help = "also debug lines (activation sizes, timings)"},
    {"help", 'h', CLI_FLAG, &want_help, .help = "this help"},
    {0}};

static const cli_cmd *given_cmd;
static bool given[MAX_OPTS];
static bool quiet_set;

bool cli_quiet(void) { return quiet_set; }

void cli_list_free(cli_list *l) {
    if (!l) return;
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int cli_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 64;
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *cli_nearest(const char *word, const char *const *cand, int n) {
    const char *best = NULL;
    int bd = 1 << 30;
    for (int i = 0; i < n; i++) {
        int d = cli_edit_distance(word, cand[i]);
        if (d < bd) bd = d, best = cand[i];
    }
    /* a typo: at most 2 edits, and fewer than half the word */
    size_t len = strlen(word);
    return best && bd <= 2 && (size_t)bd * 2 < len + 1 ? best : NULL;
}

/* Walks the command's table, then the common one. */
static const cli_opt *opt_at(const cli_cmd *c, int i, int *n_own) {
    int n = 0;
    while (c->opts && c->opts[n].name) n++;
    if (n_own) *n_own = n;
    if (i < n) return &c->opts[i];
    i -= n;
    return i < (int)(sizeof common_opts / sizeof common_opts[0]) - 1 ? &common_opts[i] : NULL;
}

static int usage_error(const cli_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const cli_cmd *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = cli_usage_verror(c->name, fmt, ap);
    va_end(ap);
    return rc;
}

static bool takes_value(const cli_opt *o) {
    return o->kind != CLI_FLAG && !(o->kind == CLI_CALL && !((const cli_call *)o->dest)->takes_value);
}

static void default_text(const cli_opt *o, char *buf, size_t cap) {
    buf[0] = '\0';
    if (o->default_text) {
        if (*o->default_text) snprintf(buf, cap, " (default: %s)", o->default_text);
        return;
    }
    if (o->required) {
        snprintf(buf, cap, " (required)");
        return;
    }
    switch (o->kind) {
    case CLI_STR:
        if (*(const char **)o->dest) snprintf(buf, cap, " (default %s)", *(const char **)o->dest);
        break;
    case CLI_INT: snprintf(buf, cap, " (default %ld)", *(const long *)o->dest); break;
    case CLI_FLOAT: snprintf(buf, cap, " (default %g)", *(const double *)o->dest); break;
    default: break;
    }
}

static void print_opt(const cli_opt *o, FILE *out) {
    char left[96], dflt[160];
    int len = o->short_name ? snprintf(left, sizeof left, "  -%c, --%s", o->short_name, o->name)
                            : snprintf(left, sizeof left, "      --%s", o->name);
    if (takes_value(o) && len < (int)sizeof left)
        snprintf(left + len, sizeof left - (size_t)len, " %s", o->arg ? o->arg : "X");
    default_text(o, dflt, sizeof dflt);
    /* the help text may span lines (indented under the first); the default ends the last */
    const char *line = o->help ? o->help : "";
    bool first = true;
    for (;;) {
        const char *nl = strchr(line, '\n');
        int n = nl ? (int)(nl - line) : (int)strlen(line);
        if (first && strlen(left) > 24)
            fprintf(out, "%s\n%-24s", left, "");
        else
            fprintf(out, "%-24s", first ? left : "");
        fprintf(out, "  %.*s%s\n", n, line, nl ? "" : dflt);
        if (!nl) break;
        line = nl + 1;
        first = false;
    }
}

void cli_print_usage(const cli_cmd *c, FILE *out) {
    if (c->synopsis) fputs(c->synopsis, out);
    fputs("\noptions:\n", out);
    const cli_opt *o;
    for (int i = 0; (o = opt_at(c, i, NULL)); i++) print_opt(o, out);
    if (c->epilogue) fprintf(out, "\n%s", c->epilogue);
}

bool cli_given(const cli_cmd *c, const char *name) {
    if (c != given_cmd) return false;
    const cli_opt *o;
    for (int i = 0; (o = opt_at(c, i, NULL)) && i < MAX_OPTS; i++)
        if (!strcmp(o->name, name)) return given[i];
    return false;
}

/* Stores one value; 0 or CLI_USAGE (printed). */
static int store(const cli_cmd *c, const cli_opt *o, const char *flag, const char *v) {
    char range[96] = "";
    switch (o->kind) {
    case CLI_FLAG: *(bool *)o->dest = true; return 0;
    case CLI_STR: *(const char **)o->dest = v; return 0;
    case CLI_LIST: {
        cli_list *l = o->dest;
        l->v[l->n++] = v;
        return 0;
    }
    case CLI_CALL: {
        const cli_call *k = o->dest;
        return k->fn(k->ctx, c->name, flag, v) ? CLI_USAGE : 0;
    }
    case CLI_INT: {
        char *end;
        errno = 0;
        long x = strtol(v, &end, 10);
        bool bounded = o->min != 0 || o->max != 0;
        if (bounded) snprintf(range, sizeof range, " in %.0f..%.0f", o->min, o->max);
        if (!*v || *end || errno || (bounded && (x < o->min || x > o->max))) {
            return usage_error(c, "%s: expected an integer%s, got '%s'", flag, range, v);
        }
        *(long *)o->dest = x;
        return 0;
    }
    case CLI_FLOAT: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        bool bounded = o->min != 0 || o->max != 0;
        if (bounded) snprintf(range, sizeof range, " in [%g, %g]", o->min, o->max);
        if (!*v || *end || errno || !isfinite(x) || (bounded && (x < o->min || x > o->max))) {
            return usage_error(c, "%s: expected a number%s, got '%s'", flag, range, v);
        }
        *(double *)o->dest = x;
        return 0;
    }
    }
    return 0;
}

/* The option named by argv text `a` ("--name", "--name=v" or "-x..."), or NULL. */
static const cli_opt *lookup(const cli_cmd *c, const char *a, int *index) {
    const cli_opt *o;
    if (a[0] == '-' && a[1] == '-') {
        size_t n = strcspn(a + 2, "=");
        for (int i = 0; (o = opt_at(c, i, NULL)); i++)
            if (strlen(o->name) == n && !strncmp(o->name, a + 2, n)) return *index = i, o;
        /* an unambiguous abbreviation, as getopt_long allows (--batch for --batch-size) */
        const cli_opt *only = NULL;
        int at = -1, count = 0;
        for (int i = 0; n && (o = opt_at(c, i, NULL)); i++)
            if (!strncmp(o->name, a + 2, n)) only = o, at = i, count++;
        if (count == 1) return *index = at, only;
        return NULL;
    }
    for (int i = 0; (o = opt_at(c, i, NULL)); i++)
        if (o->short_name && o->short_name == a[1]) return *index = i, o;
    return NULL;
}

static int unknown(const cli_cmd *c, const char *a) {
    const char *names[MAX_OPTS];
    int n = 0;
    const cli_opt *o;
    for (int i = 0; (o = opt_at(c, i, NULL)) && n < MAX_OPTS; i++) names[n++] = o->name;
    char word[128];
    size_t len = strcspn(a, "=");
    snprintf(word, sizeof word, "%.*s", (int)len, a);
    if (word[0] == '-' && word[1] == '-' && word[2]) { /* an abbreviation of several options */
        char list[512] = "";
        int count = 0;
        for (int i = 0; i < n; i++)
            if (!strncmp(names[i], word + 2, strlen(word + 2)) && strlen(list) + strlen(names[i]) + 8 < sizeof list)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s--%s", count++ ? ", " : "", names[i]);
        if (count > 1) return usage_error(c, "ambiguous option %s: %s", word, list);
    }
    const char *near = word[0] == '-' && word[1] == '-' ? cli_nearest(word + 2, names, n) : NULL;
    if (near) return usage_error(c, "unknown option %s; did you mean --%s?", word, near);
    return usage_error(c, "unknown option %s", word);
}

int cli_parse(const cli_cmd *c, int argc, char **argv, cli_list *pos) {
    /* --help wins over everything else on the line */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cli_print_usage(c, stdout);
            return CLI_OK;
        }
    }
    want_quiet = want_verbose = false;
    given_cmd = c;
    memset(given, 0, sizeof given);
    int n_own = 0;
    opt_at(c, 0, &n_own);
    for (int i = 0; i < n_own; i++) {
        const cli_opt *o = &c->opts[i];
        if (o->kind == CLI_LIST) {
            cli_list *l = o->dest;
            l->n = 0;
            l->v = calloc((size_t)argc + 1, sizeof *l->v);
            if (!l->v) return usage_error(c, "out of memory");
        }
    }
    if (pos) {
        pos->n = 0;
        pos->v = calloc((size_t)argc + 1, sizeof *pos->v);
        if (!pos->v) return usage_error(c, "out of memory");
    }
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || !a[1]) { /* "-" alone is a value (stdin) */
            if (!pos || pos->n >= c->max_positional) {
                if (c->max_positional == 0) return usage_error(c, "unexpected argument '%s'", a);
                return usage_error(c, "too many arguments: '%s'", a);
            }
            pos->v[pos->n++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = true;
            continue;
        }
        int idx = -1;
        const cli_opt *o = lookup(c, a, &idx);
        if (!o) return unknown(c, a);
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", o->name);
        const char *v = NULL;
        if (a[1] == '-') {
            const char *eq = strchr(a, '=');
            if (eq) {
                if (!takes_value(o)) return usage_error(c, "%s takes no value", flag);
                v = eq + 1;
            }
        } else if (a[2]) { /* -xVALUE, or -qv: short flags together */
            if (takes_value(o))
                v = a + 2;
            else {
                for (const char *p = a + 1; *p; p++) {
                    char one[3] = {'-', *p, 0};
                    int j;
                    const cli_opt *f = lookup(c, one, &j);
                    if (!f) return unknown(c, one);
                    if (takes_value(f)) return usage_error(c, "-%c needs a value; give it on its own", one[1]);
                    if (j < MAX_OPTS) given[j] = true;
                    char fl[80];
                    snprintf(fl, sizeof fl, "--%s", f->name);
                    if (store(c, f, fl, NULL)) return CLI_USAGE;
                }
                continue;
            }
        }
        if (takes_value(o) && !v) {
            int j;
            if (i + 1 >= argc ||
                (argv[i + 1][0] == '-' && argv[i + 1][1] == '-' && argv[i + 1][2] && lookup(c, argv[i + 1], &j)))
                return usage_error(c, "%s needs a value", flag);
            v = argv[++i];
        }
        if (idx < MAX_OPTS) given[idx] = true;
        if (store(c, o, flag, v)) return CLI_USAGE;
    }
    for (int i = 0; i < n_own; i++)
        if (c->opts[i].required && !given[i]) return usage_error(c, "--%s is required", c->opts[i].name);
    quiet_set = want_quiet;
    if (want_quiet && want_verbose) return usage_error(c, "--quiet and --verbose exclude each other");
    if (want_quiet)
        ct_log_set_level(CT_LOG_WARN);
    else if (want_verbose)
        ct_log_set_level(CT_LOG_DEBUG);
    return CLI_PARSED;
}
