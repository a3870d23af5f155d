/* `tenantlog audit verify` and `tenantlog audit list`: check every
 * tenant's hash chain in the audit store, or print its rows. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "common/buf.h"
#include "common/text.h"
#include "lib/audit_store.h"
#include "lib/config.h"

#define CMD "audit"
#define ERR_MAX 1024

static const char usage_text[] =
    "Usage: tenantlog audit verify [--db PATH] [--tenant T] [--config FILE]\n"
    "       tenantlog audit list [--db PATH] [--tenant T] [--config FILE]\n"
    "\n"
    "  verify         recompute every tenant's hash chain and print one line\n"
    "                 per tenant: its row count, or the first bad sequence\n"
    "                 number and why\n"
    "  list           print the stored events as JSON lines: the canonical\n"
    "                 encoding plus \"hash\" in hex\n"
    "  --db PATH      the audit database (default: audit.path of the\n"
    "                 configuration)\n"
    "  --tenant T     check or list tenant T only\n"
    "  --config FILE  the configuration that names the database (default:\n"
    "                 $TENANTLOG_CONFIG, else the embedded default)\n"
    "  -h, --help     show this help\n"
    "\n"
    "The database is opened read-only. Rows removed from the end of a chain\n"
    "cannot be detected yet (see docs/audit.md).\n"
    "\n"
    "Exit status: 0 every chain intact (verify) or every row printed (list),\n"
    "1 a chain is broken or writing to stdout failed, 2 usage error or\n"
    "unreadable database.\n";

static const struct option long_options[] = {
    {"db", required_argument, NULL, 'd'},
    {"tenant", required_argument, NULL, 't'},
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct audit_opts {
    const char *action;
    const char *db;
    const char *tenant;
    const char *config;
};

/* Returns -1 to go on, or the exit status. */
static int opts_parse(int argc, char **argv, struct audit_opts *o)
{
    int opt;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        if (opt == 'd') {
            o->db = optarg;
        } else if (opt == 't') {
            o->tenant = optarg;
        } else if (opt == 'c') {
            o->config = optarg;
        } else if (opt == 'h') {
            fputs(usage_text, stdout);
            return TL__EXIT_OK;
        } else {
            return tl__cli_bad_option(CMD);
        }
    }
    if (optind >= argc) {
        return tl__cli_usage_error(CMD, "missing action: use 'verify' or "
                                        "'list'");
    }
    o->action = argv[optind++];
    if (optind < argc) {
        return tl__cli_usage_error(CMD, "unexpected argument '%s'",
                                   argv[optind]);
    }
    if (o->tenant != NULL &&
        tl__cli_check_tenant(CMD, "--tenant", o->tenant) != 0) {
        return TL__EXIT_USAGE;
    }
    return -1;
}

/* Finds the database path: --db, else audit.path of --config, of
 * $TENANTLOG_CONFIG, or of the embedded default. Prints what failed. */
static char *db_path_find(const struct audit_opts *o)
{
    const char *config = o->config ? o->config : getenv("TENANTLOG_CONFIG");
    struct tl__config *cfg = NULL;
    char err[ERR_MAX] = "";
    char *path = NULL;
    int result;

    if (o->db != NULL) {
        return strdup(o->db);
    }
    if (config != NULL && config[0] != '\0') {
        result = tl__config_load(config, &cfg, err, sizeof(err));
    } else {
        config = "<default>";
        result = tl__config_parse(tl__config_default_yaml,
                                  strlen(tl__config_default_yaml), config, &cfg,
                                  err, sizeof(err));
    }
    if (result != 0) {
        fprintf(stderr, "tenantlog audit: %s\n",
                err[0] ? err : tl_strerror(result));
    } else if (cfg->audit_path == NULL || cfg->audit_path[0] == '\0') {
        fprintf(stderr,
                "tenantlog audit: configuration %s names no audit "
                "database; pass --db PATH\n",
                config);
    } else {
        path = strdup(cfg->audit_path);
    }
    tl__config_free(cfg);
    return path;
}

/* Prints s escaped for a terminal, because a tenant id read from a
 * tampered database may contain control characters. */
static void print_escaped(const char *s)
{
    struct tl__buf b;

    tl__buf_init(&b);
    tl__text_escape(&b, s, strlen(s));
    fputs(tl__buf_cstr(&b), stdout);
    tl__buf_free(&b);
}

static void verdict_print(void *user, const struct tl__audit_verdict *v)
{
    uint64_t *tenants = user;

    (*tenants)++;
    fputs("tenant ", stdout);
    print_escaped(v->tenant);
    if (v->first_bad == 0) {
        printf(": %" PRIu64 " row%s, chain intact\n", v->rows,
               v->rows == 1 ? "" : "s");
    } else {
        printf(": chain broken at seq %" PRIu64 ": %s\n", v->first_bad,
               v->problem ? v->problem : "unknown problem");
    }
}

static int store_error(const char *action, const char *path, int result,
                       const char *err)
{
    fflush(stdout);
    fprintf(stderr, "tenantlog audit %s: %s\n", action,
            err[0] ? err : tl_strerror(result));
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "Pass the database with --db PATH, or the "
                        "configuration that names it with --config FILE.\n");
    }
    return TL__EXIT_USAGE;
}

static int audit_verify(const char *path, const char *tenant)
{
    char err[ERR_MAX] = "";
    uint64_t tenants = 0;
    int result;

    result = tl__audit_verify(path, tenant, verdict_print, &tenants, err,
                              sizeof(err));
    if (result == TL_ECHAIN) {
        return TL__EXIT_FAILURE;
    }
    if (result != 0) {
        return store_error("verify", path, result, err);
    }
    if (tenants == 0) {
        printf("no audit rows in %s\n", path);
    }
    return TL__EXIT_OK;
}

/* Prints one row as its canonical encoding with "hash" added at the end. */
static int row_print(void *user, const struct tl__audit_row *row)
{
    struct tl__buf *b = user;
    size_t i;

    tl__buf_reset(b);
    tl__audit_canonical(b, &row->rec, row->rec.seq);
    if (b->len > 0) {
        b->len--; /* the closing brace */
    }
    tl__buf_adds(b, ",\"hash\":\"");
    for (i = 0; i < row->hash_len; i++) {
        tl__buf_printf(b, "%02x", row->hash[i]);
    }
    tl__buf_adds(b, "\"}\n");
    if (b->oom) {
        return -ENOMEM;
    }
    fwrite(b->data, 1, b->len, stdout);
    return 0;
}

static int audit_list(const char *path, const char *tenant)
{
    char err[ERR_MAX] = "";
    struct tl__buf b;
    int result;

    tl__buf_init(&b);
    result = tl__audit_read(path, tenant, row_print, &b, err, sizeof(err));
    tl__buf_free(&b);
    if (result != 0) {
        return store_error("list", path, result, err);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "tenantlog audit list: writing to stdout failed\n");
        return TL__EXIT_FAILURE;
    }
    return TL__EXIT_OK;
}

int tl__cli_audit(int argc, char **argv)
{
    struct audit_opts o = {NULL};
    char *path;
    int status;

    status = opts_parse(argc, argv, &o);
    if (status >= 0) {
        return status;
    }
    if (strcmp(o.action, "verify") != 0 && strcmp(o.action, "list") != 0) {
        return tl__cli_usage_error(CMD,
                                   "unknown action '%s': use 'verify' "
                                   "or 'list'",
                                   o.action);
    }
    path = db_path_find(&o);
    if (path == NULL) {
        return TL__EXIT_USAGE;
    }
    if (strcmp(o.action, "verify") == 0) {
        status = audit_verify(path, o.tenant);
    } else {
        status = audit_list(path, o.tenant);
    }
    free(path);
    return status;
}
