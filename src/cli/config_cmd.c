/* `tenantlog config check FILE` and `tenantlog config default`: validate
 * a configuration file, or print the embedded default. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "lib/config.h"

#define CMD "config"
#define ERR_MAX 1024

static const char usage_text[] =
    "Usage: tenantlog config check FILE\n"
    "       tenantlog config default\n"
    "\n"
    "  check FILE   parse and validate FILE; print \"FILE: ok\" and exit 0,\n"
    "               or print the first error with its line and column and\n"
    "               exit 1\n"
    "  default      print the embedded default configuration, which the\n"
    "               library and tenantlogd use when no file is given\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 valid, 1 invalid or unreadable, 2 usage error.\n";

static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int config_check(const char *path)
{
    struct tl__config *cfg = NULL;
    char err[ERR_MAX];
    int result;

    err[0] = '\0';
    result = tl__config_load(path, &cfg, err, sizeof(err));
    if (result != 0) {
        if (err[0] != '\0') {
            fprintf(stderr, "%s\n", err);
        } else {
            fprintf(stderr, "%s: %s\n", path, tl_strerror(result));
        }
        return TL__EXIT_FAILURE;
    }
    tl__config_free(cfg);
    printf("%s: ok\n", path);
    return TL__EXIT_OK;
}

int tl__cli_config(int argc, char **argv)
{
    const char *action;
    int opt;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        if (opt != 'h') {
            return tl__cli_bad_option(CMD);
        }
        fputs(usage_text, stdout);
        return TL__EXIT_OK;
    }
    if (optind >= argc) {
        return tl__cli_usage_error(CMD, "missing action: use 'check FILE' "
                                        "or 'default'");
    }
    action = argv[optind++];
    if (strcmp(action, "check") == 0) {
        if (argc - optind != 1) {
            return tl__cli_usage_error(CMD,
                                       "'check' takes exactly one "
                                       "FILE, got %d arguments",
                                       argc - optind);
        }
        return config_check(argv[optind]);
    }
    if (strcmp(action, "default") == 0) {
        if (optind < argc) {
            return tl__cli_usage_error(CMD,
                                       "'default' takes no arguments, "
                                       "got '%s'",
                                       argv[optind]);
        }
        fputs(tl__config_default_yaml, stdout);
        return TL__EXIT_OK;
    }
    return tl__cli_usage_error(CMD,
                               "unknown action '%s': use 'check FILE' "
                               "or 'default'",
                               action);
}
