/* Option parsing and usage errors shared by the CLI's subcommands. */
#include "cli_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tl__cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "tenantlog %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'tenantlog %s --help' for usage.\n", cmd);
    return TL__EXIT_USAGE;
}

int tl__cli_parse_u64(const char *cmd, const char *opt, const char *value,
                      uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end;
    int err;

    errno = 0;
    v = strtoull(value, &end, 10);
    err = errno;
    if (value[0] == '\0' || value[0] == '-' || value[0] == '+' ||
        *end != '\0' || err == ERANGE || v < min || v > max) {
        tl__cli_usage_error(cmd,
                            "invalid %s '%s': expected a whole number from "
                            "%" PRIu64 " to %" PRIu64,
                            opt, value, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int tl__cli_parse_level(const char *cmd, const char *opt, const char *value,
                        enum tl_level *out)
{
    if (tl_level_parse(value, out) != 0) {
        tl__cli_usage_error(cmd,
                            "invalid %s '%s': expected a level name such as "
                            "debug, info, notice, warning, error, crit, "
                            "alert or emerg",
                            opt, value);
        return -1;
    }
    return 0;
}

int tl__cli_check_tenant(const char *cmd, const char *opt, const char *value)
{
    if (!tl_tenant_valid(value)) {
        tl__cli_usage_error(cmd,
                            "invalid %s '%s': a tenant id has 1 to 64 "
                            "characters from A-Z, a-z, 0-9, '.', '_' and "
                            "'-', starts with a letter or digit, and is "
                            "not '.' or '..'",
                            opt, value);
        return -1;
    }
    return 0;
}

int tl__cli_bad_option(const char *cmd)
{
    /* getopt_long has already printed what was wrong with the option. */
    fprintf(stderr, "Run 'tenantlog %s --help' for usage.\n", cmd);
    return TL__EXIT_USAGE;
}

int tl__cli_getopt(const char *cmd, int argc, char **argv,
                   const struct option *longopts, const char *usage,
                   tl__cli_apply_fn apply, void *opts)
{
    int opt;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage, stdout);
            return TL__EXIT_OK;
        }
        if (opt == '?' || opt == ':') {
            return tl__cli_bad_option(cmd);
        }
        if (apply(opt, optarg, opts) != 0) {
            return TL__EXIT_USAGE;
        }
    }
    return -1;
}
