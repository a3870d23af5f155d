/* The tenantlog command-line tool: dispatches to its subcommands. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"

struct command {
    const char *name;
    const char *prog; /* argv[0] for the subcommand, so getopt's messages
                         name it */
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"emit", "tenantlog emit", tl__cli_emit,
     "send N numbered records for a tenant (tests, load)"},
    {"import", "tenantlog import", tl__cli_import,
     "migrate a plain-text log into structured records"},
    {"audit", "tenantlog audit", tl__cli_audit,
     "verify and query the per-tenant audit trail"},
    {"config", "tenantlog config", tl__cli_config,
     "check a configuration file or print the default"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    size_t i;

    fputs("Usage: tenantlog COMMAND [OPTIONS] [ARGS]\n"
          "       tenantlog --help | --version\n"
          "\n"
          "Commands:\n",
          out);
    for (i = 0; i < N_COMMANDS; i++) {
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\nRun 'tenantlog COMMAND --help' for a command's options.\n"
          "Exit status: 0 success, 1 failure, 2 usage error.\n",
          out);
}

static const struct command *command_find(const char *name)
{
    size_t i;

    for (i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

/* Handles the options before the command. Returns -1 to go on to the
 * command at argv[optind], or the exit status. */
static int main_options(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    /* "+" stops at the command, whose options are its own. */
    opt = getopt_long(argc, argv, "+hV", long_options, NULL);
    if (opt == 'h') {
        usage(stdout);
        return TL__EXIT_OK;
    }
    if (opt == 'V') {
        printf("tenantlog %d.%d.%d\n", TL_VERSION_MAJOR, TL_VERSION_MINOR,
               TL_VERSION_PATCH);
        return TL__EXIT_OK;
    }
    if (opt != -1) {
        fputs("Run 'tenantlog --help' for usage.\n", stderr);
        return TL__EXIT_USAGE;
    }
    if (optind >= argc) {
        fputs("tenantlog: missing command\n", stderr);
        usage(stderr);
        return TL__EXIT_USAGE;
    }
    return -1;
}

int main(int argc, char **argv)
{
    const struct command *cmd;
    int status;

    /* getopt_long prefixes its messages with argv[0]. */
    argv[0] = "tenantlog";
    status = main_options(argc, argv);
    if (status >= 0) {
        return status;
    }
    cmd = command_find(argv[optind]);
    if (cmd == NULL && strcmp(argv[optind], "help") == 0) {
        usage(stdout);
        return TL__EXIT_OK;
    }
    if (cmd == NULL) {
        fprintf(stderr,
                "tenantlog: unknown command '%s'; run 'tenantlog "
                "--help' for the list\n",
                argv[optind]);
        return TL__EXIT_USAGE;
    }
    argv[optind] = (char *)cmd->prog;
    return cmd->run(argc - optind, argv + optind);
}
