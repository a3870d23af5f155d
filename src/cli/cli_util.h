/* Helpers shared by the CLI's subcommands: option values and usage
 * errors. A usage error exits with status 2, a runtime failure with 1. */
#ifndef TL_CLI_CLI_UTIL_H
#define TL_CLI_CLI_UTIL_H

#include <getopt.h>
#include <stdint.h>

#include "tenantlog/tenantlog.h"

#define TL__EXIT_OK 0
#define TL__EXIT_FAILURE 1
#define TL__EXIT_USAGE 2

/* Prints "tenantlog CMD: <message>" and a hint to run --help to stderr,
 * and returns TL__EXIT_USAGE. */
int tl__cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses value, the argument of option opt, as a decimal integer from min
 * to max. On failure prints a usage error naming both and returns -1. */
int tl__cli_parse_u64(const char *cmd, const char *opt, const char *value,
                      uint64_t min, uint64_t max, uint64_t *out);

/* Parses a level name for option opt. On failure prints a usage error and
 * returns -1. */
int tl__cli_parse_level(const char *cmd, const char *opt, const char *value,
                        enum tl_level *out);

/* Checks a tenant id for option opt; prints a usage error explaining the
 * rule and returns -1 when it is invalid. */
int tl__cli_check_tenant(const char *cmd, const char *opt, const char *value);

/* Applies one option of a subcommand to its options struct. Returns 0,
 * or -1 after printing a usage error. */
typedef int (*tl__cli_apply_fn)(int opt, const char *arg, void *opts);

/* Runs getopt_long over argv with longopts (and -h), printing usage on
 * -h/--help and calling apply for every other option. Returns -1 to go
 * on, with optind at the first operand, or the exit status. */
int tl__cli_getopt(const char *cmd, int argc, char **argv,
                   const struct option *longopts, const char *usage,
                   tl__cli_apply_fn apply, void *opts);

/* Completes the message getopt_long printed for a bad option with a hint
 * to run --help, and returns TL__EXIT_USAGE. */
int tl__cli_bad_option(const char *cmd);

#endif
