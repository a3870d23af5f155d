/* `tenantlog import FILE`: migrates a legacy plain-text log into
 * structured records, with the tenant and request id of OpenStack request
 * contexts, optional audit events for mutating API calls, and a report. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "common/buf.h"
#include "common/text.h"
#include "import_limits.h"
#include "import_parse.h"
#include "import_report.h"
#include "output.h"

#define CMD "import"
#define READ_CHUNK 65536

struct import_opts {
    const char *path;
    const char *config;
    const char *socket;
    const char *logger;
    struct tl__import_opts parse;
    bool audit;
    bool dry_run;
};

/* Slots for NUL-terminated copies of one line's values, reused from line
 * to line. */
enum {
    T_LOGGER,
    T_MSG,
    T_TENANT,
    T_REQUEST_ID,
    T_USER,
    T_SOURCE_FILE,
    T_HOST,
    T_CLIENT,
    T_METHOD,
    T_PATH,
    T_TS,
    T_REASON,
    T_TENANT_CUT,
    T_COUNT
};

struct import_run {
    const struct import_opts *opts;
    struct tl__cli_out *out; /* NULL for a dry run */
    struct tl__import_report report;
    struct tl__buf text[T_COUNT];
    bool out_of_memory;
};

static const char usage_text[] =
    "Usage: tenantlog import [OPTIONS] FILE\n"
    "Migrate a plain-text log into structured records and print a report.\n"
    "FILE may be '-' for standard input. Lines end at LF, CRLF or CR.\n"
    "\n"
    "  --format F      auto, openstack, syslog or plain (default: auto,\n"
    "                  which tries OpenStack, then syslog, on each line)\n"
    "  --year Y        year of syslog timestamps, which carry none\n"
    "                  (default: the current year, UTC)\n"
    "  --logger NAME   logger of records whose line names none, at most\n"
    "                  256 bytes (default: import)\n"
    "  --audit         also record one audit event for each OpenStack API\n"
    "                  call with POST, PUT, PATCH or DELETE and a tenant\n"
    "  --dry-run       parse and print the report, write nothing\n"
    "  --daemon SOCKET send to tenantlogd's native socket and wait for\n"
    "                  every ack, instead of using the library\n"
    "  --config FILE   library configuration (default: $TENANTLOG_CONFIG,\n"
    "                  else the embedded default)\n"
    "  -h, --help      show this help\n"
    "\n"
    "OpenStack and syslog timestamps are taken as UTC. A request id over\n"
    "128 bytes or a logger over 256 bytes moves to a field such as\n"
    "request_id_too_long, because tenantlogd rejects longer ones.\n"
    "The report ends with \"import: read=N records=N unparsed=N rejected=N\n"
    "audit=N failed=N audit_failed=N\"; records - failed were written.\n"
    "Exit status: 0 every record and audit event accepted, 1 a failure,\n"
    "2 usage error.\n";

enum {
    OPT_FORMAT = 256,
    OPT_YEAR,
    OPT_LOGGER,
    OPT_AUDIT,
    OPT_DRY_RUN,
    OPT_DAEMON,
    OPT_CONFIG
};

static const struct option long_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"year", required_argument, NULL, OPT_YEAR},
    {"logger", required_argument, NULL, OPT_LOGGER},
    {"audit", no_argument, NULL, OPT_AUDIT},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"daemon", required_argument, NULL, OPT_DAEMON},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *const format_names[] = {
    [TL__IMPORT_AUTO] = "auto",
    [TL__IMPORT_OPENSTACK] = "openstack",
    [TL__IMPORT_SYSLOG] = "syslog",
    [TL__IMPORT_PLAIN] = "plain",
};

static int parse_format(const char *value, enum tl__import_format *out)
{
    size_t i;

    for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
        if (strcmp(value, format_names[i]) == 0) {
            *out = (enum tl__import_format)i;
            return 0;
        }
    }
    tl__cli_usage_error(CMD,
                        "invalid --format '%s': expected auto, "
                        "openstack, syslog or plain",
                        value);
    return -1;
}

static int current_year(void)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    return tm.tm_year + 1900;
}

/* Applies one option. Returns 0, or -1 after printing a usage error. */
static int apply_option(int opt, const char *arg, void *opts)
{
    struct import_opts *o = opts;

    uint64_t year;

    switch (opt) {
    case OPT_FORMAT:
        return parse_format(arg, &o->parse.format);
    case OPT_YEAR:
        if (tl__cli_parse_u64(CMD, "--year", arg, 1678, 2261, &year) != 0) {
            return -1;
        }
        o->parse.year = (int)year;
        return 0;
    case OPT_LOGGER:
        o->logger = arg;
        return 0;
    case OPT_AUDIT:
        o->audit = true;
        return 0;
    case OPT_DRY_RUN:
        o->dry_run = true;
        return 0;
    case OPT_DAEMON:
        o->socket = arg;
        return 0;
    case OPT_CONFIG:
        o->config = arg;
        return 0;
    }
    return -1;
}

/* Parses argv into *o. Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct import_opts *o)
{
    int status;

    status = tl__cli_getopt(CMD, argc, argv, long_options, usage_text,
                            apply_option, o);
    if (status != -1) {
        return status;
    }
    if (argc - optind != 1) {
        return tl__cli_usage_error(CMD,
                                   "expected exactly one FILE (or '-' "
                                   "for standard input), got %d",
                                   argc - optind);
    }
    o->path = argv[optind];
    if (o->socket != NULL && o->config != NULL) {
        return tl__cli_usage_error(CMD, "--daemon and --config exclude each "
                                        "other: the daemon uses its own "
                                        "configuration");
    }
    if (o->logger[0] == '\0') {
        return tl__cli_usage_error(CMD, "invalid --logger '': give a "
                                        "non-empty name");
    }
    if (tl__import_wire_len(o->logger) > TL__IMPORT_LOGGER_MAX) {
        return tl__cli_usage_error(CMD,
                                   "invalid --logger of %zu bytes: give "
                                   "a name of at most %d bytes, the "
                                   "maximum that tenantlogd accepts",
                                   tl__import_wire_len(o->logger),
                                   TL__IMPORT_LOGGER_MAX);
    }
    return -1;
}

/* Reads all of path ("-": standard input) into data. Returns 0 or a
 * negated errno. */
static int read_input(const char *path, struct tl__buf *data)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    int result = 0;
    ssize_t n;

    if (fd < 0) {
        return -errno;
    }
    for (;;) {
        if (tl__buf_reserve(data, READ_CHUNK) != 0) {
            result = -ENOMEM;
            break;
        }
        n = read(fd, data->data + data->len, READ_CHUNK);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            result = n < 0 ? -errno : 0;
            break;
        }
        data->len += (size_t)n;
    }
    if (!is_stdin) {
        close(fd);
    }
    return result;
}

/* Copies s into b as a C string and returns it, or NULL when s is absent.
 * NUL bytes become U+FFFD so that nothing is cut short. A tenant id with a
 * NUL byte thus stays invalid instead of being truncated into a valid one. */
static const char *span_text(struct import_run *run, struct tl__buf *b,
                             const struct tl__span *s)
{
    size_t i;

    if (s->p == NULL) {
        return NULL;
    }
    tl__buf_reset(b);
    for (i = 0; i < s->len; i++) {
        if (s->p[i] == '\0') {
            tl__buf_add(b, "\xef\xbf\xbd", 3);
        } else {
            tl__buf_addc(b, s->p[i]);
        }
    }
    if (b->oom) {
        run->out_of_memory = true;
        return NULL;
    }
    return tl__buf_cstr(b);
}

/* Returns the audit action of a mutating HTTP method, or NULL. */
static const char *method_action(const char *method)
{
    if (strcmp(method, "POST") == 0) {
        return "db.insert";
    }
    if (strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
        return "db.update";
    }
    if (strcmp(method, "DELETE") == 0) {
        return "db.delete";
    }
    return NULL;
}

/* Copies s into b as valid UTF-8, as the audit store requires, and
 * returns it, or NULL when s is absent. */
static const char *utf8_text(struct import_run *run, struct tl__buf *b,
                             const struct tl__span *s)
{
    if (s->p == NULL) {
        return NULL;
    }
    tl__buf_reset(b);
    tl__import_utf8_add(b, s->p, s->len);
    if (b->oom) {
        run->out_of_memory = true;
        return NULL;
    }
    return tl__buf_cstr(b);
}

/* Builds the audit event of an OpenStack API line as the tenant's
 * database operation (actor user/<user>, target api/<path>), applies
 * tenantlogd's limits to it and, unless this is a dry run, sends it. */
static void send_audit(struct import_run *run, const struct tl__import_line *p,
                       const struct tl__import_api *api, const char *action)
{
    struct tl__buf *t = run->text;
    struct tl_field details[4 + TL__IMPORT_AUDIT_LIMIT_FIELDS];
    struct tl_audit_event ev = {0};
    const char *user = utf8_text(run, &t[T_USER], &p->user);

    tl__buf_reset(&t[T_TS]);
    tl__time_rfc3339(&t[T_TS], p->ts_ns);
    details[0] = TL_STR("method", tl__buf_cstr(&t[T_METHOD]));
    details[1] = TL_STR("path", utf8_text(run, &t[T_PATH], &api->path));
    details[2] = TL_U64("status", (uint64_t)api->status);
    details[3] = TL_STR("source_ts", tl__buf_cstr(&t[T_TS]));
    ev.tenant = tl__buf_cstr(&t[T_TENANT]);
    ev.actor_type = "user";
    /* NOTE: a context without a user id gets the actor "unknown". */
    ev.actor_id = user ? user : "unknown";
    ev.action = action;
    ev.target_type = "api";
    ev.target_id = details[1].v.s;
    ev.outcome = api->status >= 200 && api->status < 400 ? TL_OUTCOME_SUCCESS
                                                         : TL_OUTCOME_FAILURE;
    if (ev.outcome == TL_OUTCOME_FAILURE) {
        tl__buf_reset(&t[T_REASON]);
        tl__buf_printf(&t[T_REASON], "HTTP %d", api->status);
        ev.reason = tl__buf_cstr(&t[T_REASON]);
    }
    ev.request_id = utf8_text(run, &t[T_REQUEST_ID], &p->request_id);
    ev.source = utf8_text(run, &t[T_CLIENT], &api->client);
    ev.details = details;
    ev.n_details = 4;
    if (run->out_of_memory) {
        return;
    }
    tl__import_limit_audit(&ev, details, &run->report);
    if (run->out != NULL) {
        (void)tl__cli_out_audit(run->out, &ev, p->ts_ns);
    }
}

/* Plans, and unless this is a dry run sends, the audit event of an
 * OpenStack API line with a mutating method and a tenant. */
static void maybe_audit(struct import_run *run, const struct tl__import_line *p,
                        bool tenant_valid)
{
    struct tl__import_api api;
    const char *action;

    if (p->format != TL__IMPORT_OPENSTACK || p->tenant.p == NULL ||
        tl__import_parse_api(p->msg.p, p->msg.len, &api) != 0) {
        return;
    }
    action = method_action(span_text(run, &run->text[T_METHOD], &api.method));
    if (action == NULL) {
        return;
    }
    if (!tenant_valid) {
        run->report.audit_skipped++;
        return;
    }
    run->report.audit++;
    send_audit(run, p, &api, action);
}

/* Fills fields with the line number and the line's optional values.
 * Returns how many it filled, at most 5. */
static size_t record_fields(struct import_run *run,
                            const struct tl__import_line *p, uint64_t number,
                            struct tl_field *fields)
{
    struct tl__buf *t = run->text;
    const char *s;
    size_t n = 0;

    fields[n++] = TL_U64("line", number);
    if (p->pid >= 0) {
        fields[n++] = TL_I64("pid", p->pid);
    }
    if ((s = span_text(run, &t[T_SOURCE_FILE], &p->source_file)) != NULL) {
        fields[n++] = TL_STR("source_file", s);
    }
    if ((s = span_text(run, &t[T_USER], &p->user)) != NULL) {
        fields[n++] = TL_STR("user", s);
    }
    if ((s = span_text(run, &t[T_HOST], &p->host)) != NULL) {
        fields[n++] = TL_STR("host", s);
    }
    return n;
}

/* Counts, and unless this is a dry run sends, the record of one line,
 * after applying tenantlogd's limits to it. Returns whether its tenant
 * id, if any, is valid. */
static bool send_record(struct import_run *run, const struct tl__import_line *p,
                        uint64_t number)
{
    struct tl__buf *t = run->text;
    struct tl_field fields[5 + TL__IMPORT_RECORD_LIMIT_FIELDS];
    struct tl__cli_rec rec = {0};
    bool tenant_valid;

    rec.n_fields = record_fields(run, p, number, fields);
    rec.fields = fields;
    rec.ts_ns = p->ts_ns;
    rec.level = p->level;
    rec.logger = span_text(run, &t[T_LOGGER], &p->logger);
    rec.logger = rec.logger ? rec.logger : run->opts->logger;
    tl__buf_reset(&t[T_MSG]);
    tl__buf_add(&t[T_MSG], p->msg.p, p->msg.len);
    rec.msg = tl__buf_cstr(&t[T_MSG]);
    rec.msg_len = p->msg.len;
    rec.tenant = span_text(run, &t[T_TENANT], &p->tenant);
    rec.request_id = span_text(run, &t[T_REQUEST_ID], &p->request_id);
    tenant_valid = rec.tenant == NULL || tl_tenant_valid(rec.tenant);
    if (tl__import_report_tenant(&run->report, rec.tenant, tenant_valid) != 0 ||
        t[T_MSG].oom ||
        tl__import_limit_record(&rec, fields, run->opts->logger,
                                &t[T_TENANT_CUT], &run->report) != 0) {
        run->out_of_memory = true;
    }
    if (run->out != NULL && !run->out_of_memory) {
        (void)tl__cli_out_log(run->out, &rec);
    }
    return tenant_valid;
}

static void import_all(struct import_run *run, const struct tl__buf *data)
{
    struct tl__import_line parsed;
    const char *line;
    size_t len, pos = 0;
    uint64_t number = 0;
    bool tenant_valid;

    while (!run->out_of_memory &&
           tl__import_next_line(data->data, data->len, &pos, &line, &len)) {
        number++;
        tl__import_parse_line(line, len, &run->opts->parse, &parsed);
        tl__import_report_line(&run->report, &parsed);
        if (parsed.kind == TL__LINE_REJECTED) {
            continue;
        }
        tenant_valid = send_record(run, &parsed, number);
        if (run->opts->audit) {
            maybe_audit(run, &parsed, tenant_valid);
        }
    }
}

/* Describes where the records go, for the report. */
static const char *output_name(const struct import_opts *o, struct tl__buf *b)
{
    if (o->dry_run) {
        tl__buf_adds(b, "dry run, nothing written");
    } else if (o->socket != NULL) {
        tl__buf_printf(b, "tenantlogd at %s", o->socket);
    } else if (o->config != NULL) {
        tl__buf_printf(b, "library with %s", o->config);
    } else {
        tl__buf_adds(b, "library");
    }
    return tl__buf_cstr(b);
}

/* Counts as failed the records and audit events that were planned but,
 * because memory ran out, never handed over, so that records - failed is
 * what was written. */
static void count_unsent(const struct tl__import_report *r,
                         struct tl__cli_tally *tally)
{
    uint64_t records = r->parsed + r->unparsed;

    if (records > tally->sent) {
        tally->failed += records - tally->sent;
    }
    if (r->audit > tally->audit_sent) {
        tally->audit_failed += r->audit - tally->audit_sent;
    }
}

/* Imports data and prints the report. Returns the exit status. */
static int import_run(const struct import_opts *o, const struct tl__buf *data)
{
    struct import_run run = {.opts = o};
    struct tl__cli_tally tally = {0};
    struct tl__buf name;
    int status = TL__EXIT_OK;
    size_t i;

    if (!o->dry_run && tl__cli_out_open("tenantlog import", o->config,
                                        o->socket, &run.out) != 0) {
        return TL__EXIT_FAILURE;
    }
    tl__import_report_init(&run.report);
    for (i = 0; i < T_COUNT; i++) {
        tl__buf_init(&run.text[i]);
    }
    import_all(&run, data);
    if (run.out != NULL) {
        if (tl__cli_out_close(run.out, &tally) != 0) {
            status = TL__EXIT_FAILURE;
        }
        count_unsent(&run.report, &tally);
    }
    if (run.out_of_memory) {
        fprintf(stderr,
                "tenantlog import: out of memory; stopped after "
                "line %" PRIu64 "\n",
                run.report.read);
        status = TL__EXIT_FAILURE;
    }
    tl__buf_init(&name);
    tl__import_report_print(&run.report, stdout, o->path, output_name(o, &name),
                            o->dry_run ? NULL : &tally);
    tl__buf_free(&name);
    for (i = 0; i < T_COUNT; i++) {
        tl__buf_free(&run.text[i]);
    }
    tl__import_report_free(&run.report);
    return status;
}

int tl__cli_import(int argc, char **argv)
{
    struct import_opts o = {.logger = "import"};
    struct tl__buf data;
    int status, result;

    o.parse.format = TL__IMPORT_AUTO;
    o.parse.year = current_year();
    status = parse_args(argc, argv, &o);
    if (status >= 0) {
        return status;
    }
    tl__buf_init(&data);
    result = read_input(o.path, &data);
    if (result != 0) {
        fprintf(stderr, "tenantlog import: failed to read %s: %s\n", o.path,
                tl_strerror(result));
        status = TL__EXIT_FAILURE;
    } else {
        status = import_run(&o, &data);
    }
    tl__buf_free(&data);
    return status;
}
