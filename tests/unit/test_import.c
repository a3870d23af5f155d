/* Unit tests of the import parser (line splitting, OpenStack and syslog
 * lines, rejected lines, API request extraction), of the daemon's limits
 * applied to imported records and audit events, and of the report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The parser, the limits and the report are part of the CLI program, not
 * of the library, so the test compiles them in. */
#include "cli/import_limits.c"
#include "cli/import_parse.c"
#include "cli/import_report.c"
#include "common/buf.h"
#include "lib/format.h"
#include "lib/record.h"

#define OS_TIME_NS 1494892800008000000LL /* 2017-05-16 00:00:00.008 UTC */

static const struct tl__import_opts auto_opts = {TL__IMPORT_AUTO, 2024};

static void assert_span(const struct tl__span *s, const char *expected)
{
    assert_non_null(s->p);
    assert_int_equal(s->len, strlen(expected));
    assert_memory_equal(s->p, expected, s->len);
}

static void parse(const char *line, struct tl__import_line *out)
{
    tl__import_parse_line(line, strlen(line), &auto_opts, out);
}

#define ASSERT_LINES(data, want)                                               \
    assert_lines((data), sizeof(data) - 1, (want),                             \
                 sizeof(want) / sizeof((want)[0]))

/* Splits data and checks the lines against expected[0..n). */
static void assert_lines(const char *data, size_t len,
                         const char *const *expected, size_t n)
{
    const char *line;
    size_t line_len, pos = 0, i = 0;

    while (tl__import_next_line(data, len, &pos, &line, &line_len)) {
        assert_true(i < n);
        assert_int_equal(line_len, strlen(expected[i]));
        assert_memory_equal(line, expected[i], line_len);
        i++;
    }
    assert_int_equal(i, n);
    assert_int_equal(pos, len);
}

static void split_lf(void **state)
{
    static const char *const want[] = {"a", "bc"};

    (void)state;
    ASSERT_LINES("a\nbc\n", want);
}

static void split_crlf(void **state)
{
    static const char *const want[] = {"a", "bc"};

    (void)state;
    ASSERT_LINES("a\r\nbc\r\n", want);
}

static void split_bare_cr(void **state)
{
    static const char *const want[] = {"a", "b", "c"};

    (void)state;
    ASSERT_LINES("a\rb\r\nc", want);
}

static void split_no_final_newline(void **state)
{
    static const char *const want[] = {"a", "last"};

    (void)state;
    ASSERT_LINES("a\r\nlast", want);
}

static void split_empty_lines(void **state)
{
    static const char *const want[] = {"", "a", "", ""};

    (void)state;
    ASSERT_LINES("\na\n\r\n\r", want);
}

static void split_cr_then_lf(void **state)
{
    static const char *const want[] = {"a", "", "b"};

    (void)state;
    /* LF CR is two line ends, unlike CR LF. */
    ASSERT_LINES("a\n\rb", want);
}

static void split_empty_input(void **state)
{
    (void)state;
    assert_lines("", 0, NULL, 0);
}

static void openstack_full(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 "
          "25746 INFO nova.osapi_compute.wsgi.server "
          "[req-38101a0b-2096 113d3a99 54fadb41 - - -] 10.11.10.1 "
          "\"GET /v2/54fadb41/servers/detail HTTP/1.1\" status: 200",
          &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_int_equal(r.format, TL__IMPORT_OPENSTACK);
    assert_true(r.ts_ns == OS_TIME_NS);
    assert_int_equal(r.pid, 25746);
    assert_int_equal(r.level, TL_INFO);
    assert_span(&r.source_file, "nova-api.log.1.2017-05-16_13:53:08");
    assert_span(&r.logger, "nova.osapi_compute.wsgi.server");
    assert_span(&r.request_id, "req-38101a0b-2096");
    assert_span(&r.user, "113d3a99");
    assert_span(&r.tenant, "54fadb41");
    assert_span(&r.msg, "10.11.10.1 \"GET /v2/54fadb41/servers/detail "
                        "HTTP/1.1\" status: 200");
}

static void openstack_dashes(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("nova-compute.log.1 2017-05-16 00:00:04.500 2931 INFO "
          "nova.compute.manager [req-3ea4 - - - - -] [instance: b9] "
          "VM Started",
          &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_span(&r.request_id, "req-3ea4");
    assert_null(r.user.p);
    assert_null(r.tenant.p);
    assert_span(&r.msg, "[instance: b9] VM Started");
}

static void openstack_dash_context(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("2017-05-16 00:00:10.302 2931 WARNING nova.virt.libvirt.driver "
          "[-] [instance: b9] Instance spawned",
          &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_null(r.source_file.p);
    assert_int_equal(r.level, TL_WARNING);
    assert_null(r.request_id.p);
    assert_null(r.tenant.p);
    assert_span(&r.msg, "[instance: b9] Instance spawned");
}

static void openstack_no_context(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("2017-05-16 00:00:00.008 7 ERROR nova.compute [instance: b9] "
          "failed",
          &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_int_equal(r.level, TL_ERROR);
    assert_null(r.request_id.p);
    assert_span(&r.msg, "[instance: b9] failed");
}

static void openstack_audit_level(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("2017-05-16 00:00:00.008 7 AUDIT nova.compute msg", &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_int_equal(r.level, TL_NOTICE);
    assert_span(&r.msg, "msg");
}

static void openstack_bad_level(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("2017-05-16 00:00:00.008 7 LOUD nova.compute msg", &r);
    assert_int_equal(r.kind, TL__LINE_UNPARSED);
    assert_string_equal(r.reason, "unknown format");
}

static void openstack_bad_date(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("2017-02-30 00:00:00.008 7 INFO nova.compute msg", &r);
    assert_int_equal(r.kind, TL__LINE_UNPARSED);
}

static void openstack_invalid_bytes(void **state)
{
    static const char line[] = "2017-05-16 00:00:00.008 7 INFO x [-] "
                               "a\0b\xff";
    struct tl__import_line r;

    (void)state;
    tl__import_parse_line(line, sizeof(line) - 1, &auto_opts, &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_int_equal(r.msg.len, 4);
    assert_memory_equal(r.msg.p, "a\0b\xff", 4);
}

/* A NUL byte and invalid UTF-8 in a message survive into the JSON
 * output, escaped, without cutting the line short. */
static void invalid_bytes_escaped(void **state)
{
    static const char line[] = "2017-05-16 00:00:00.008 7 INFO x [-] "
                               "a\0b\xff";
    struct tl__import_line r;
    struct tl__record_src src = {0};
    struct tl__record *rec = NULL;
    struct tl__buf b;

    (void)state;
    tl__import_parse_line(line, sizeof(line) - 1, &auto_opts, &r);
    src.ts_ns = r.ts_ns;
    src.level = r.level;
    src.msg = r.msg.p;
    src.msg_len = r.msg.len;
    assert_int_equal(tl__record_new(&src, &rec), 0);
    tl__buf_init(&b);
    tl__format_json(&b, rec);
    assert_non_null(strstr(tl__buf_cstr(&b), "\"msg\":\"a\\u0000b\\ufffd\""));
    tl__buf_free(&b);
    free(rec);
}

static void syslog_basic(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster", &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_int_equal(r.format, TL__IMPORT_SYSLOG);
    assert_true(r.ts_ns == 1733813746LL * 1000000000);
    assert_int_equal(r.level, TL_NOTICE);
    assert_span(&r.host, "LabSZ");
    assert_span(&r.logger, "sshd");
    assert_int_equal(r.pid, 24200);
    assert_span(&r.msg, "Invalid user webmaster");
}

static void syslog_padded_day(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("Jul  3 04:08:03 combo syslogd 1.4.1: restart.", &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_span(&r.host, "combo");
    assert_null(r.logger.p);
    assert_int_equal(r.pid, -1);
    assert_span(&r.msg, "syslogd 1.4.1: restart.");
}

static void syslog_tag_no_pid(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("Jun 14 15:16:01 combo sshd(pam_unix): check pass", &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_span(&r.logger, "sshd(pam_unix)");
    assert_int_equal(r.pid, -1);
    assert_span(&r.msg, "check pass");
}

static void syslog_no_host(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("Jun 14 15:16:01 cron[42]: job done", &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_null(r.host.p);
    assert_span(&r.logger, "cron");
    assert_int_equal(r.pid, 42);
}

static void syslog_priority(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed", &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_int_equal(r.level, TL_CRIT);
    assert_span(&r.logger, "su");
}

static void syslog_leap_day(void **state)
{
    struct tl__import_line r;
    struct tl__import_opts opts = {TL__IMPORT_AUTO, 2023};
    const char *line = "Feb 29 12:00:00 host app: x";

    (void)state;
    tl__import_parse_line(line, strlen(line), &opts, &r);
    assert_int_equal(r.kind, TL__LINE_UNPARSED);
    parse(line, &r);
    assert_int_equal(r.kind, TL__LINE_PARSED);
    assert_true(r.ts_ns == 1709208000LL * 1000000000);
}

static void plain_line(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok", &r);
    assert_int_equal(r.kind, TL__LINE_UNPARSED);
    assert_int_equal(r.format, TL__IMPORT_PLAIN);
    assert_string_equal(r.reason, "unknown format");
    assert_int_equal(r.level, TL_INFO);
    assert_true(r.ts_ns == 0);
    assert_span(&r.msg, "[Sun Dec 04 04:47:44 2005] [notice] "
                        "workerEnv.init() ok");
}

static void forced_format(void **state)
{
    struct tl__import_line r;
    struct tl__import_opts opts = {TL__IMPORT_SYSLOG, 2024};
    const char *line = "2017-05-16 00:00:00.008 7 INFO nova.compute msg";

    (void)state;
    tl__import_parse_line(line, strlen(line), &opts, &r);
    assert_int_equal(r.kind, TL__LINE_UNPARSED);
    assert_string_equal(r.reason, "not a syslog line");
    opts.format = TL__IMPORT_PLAIN;
    tl__import_parse_line(line, strlen(line), &opts, &r);
    assert_int_equal(r.kind, TL__LINE_UNPARSED);
    assert_string_equal(r.reason, "plain format requested");
}

/* The first lines of loghub's Apache, HDFS, Hadoop, Spark, Zookeeper and
 * Android samples start with timestamps of formats the importer does not
 * read. */
static void unknown_formats(void **state)
{
    static const char *const lines[] = {
        "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok "
        "/etc/httpd/conf/workers2.properties",
        "081109 203615 148 INFO dfs.DataNode$PacketResponder: "
        "PacketResponder 1 for block blk_38865049064139660 terminating",
        "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce."
        "v2.app.MRAppMaster: Created MRAppMaster for application",
        "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: "
        "Registered signal handlers for [TERM, HUP, INT]",
        "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:"
        "0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
        "03-17 16:13:38.811  1702  2395 D WindowManager: "
        "printFreezingDisplayLogsopening app wtoken",
    };
    struct tl__import_line r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        parse(lines[i], &r);
        assert_int_equal(r.kind, TL__LINE_UNPARSED);
        assert_string_equal(r.reason, "unknown format");
    }
}

static void empty_rejected(void **state)
{
    struct tl__import_line r;

    (void)state;
    parse("", &r);
    assert_int_equal(r.kind, TL__LINE_REJECTED);
    assert_string_equal(r.reason, "empty line");
    parse(" \t ", &r);
    assert_int_equal(r.kind, TL__LINE_REJECTED);
    assert_string_equal(r.reason, "empty line");
}

static void long_rejected(void **state)
{
    size_t len = TL__IMPORT_LINE_MAX + 1;
    char *line = malloc(len);
    struct tl__import_line r;

    (void)state;
    assert_non_null(line);
    memset(line, 'x', len);
    tl__import_parse_line(line, len, &auto_opts, &r);
    assert_int_equal(r.kind, TL__LINE_REJECTED);
    assert_string_equal(r.reason, "line too long");
    tl__import_parse_line(line, len - 1, &auto_opts, &r);
    assert_int_equal(r.kind, TL__LINE_UNPARSED);
    free(line);
}

static void api_post(void **state)
{
    static const char msg[] = "10.11.10.1 \"POST /v2/e97/os-server-external"
                              "-events HTTP/1.1\" status: 404 len: 296";
    struct tl__import_api api;

    (void)state;
    assert_int_equal(tl__import_parse_api(msg, strlen(msg), &api), 0);
    assert_span(&api.client, "10.11.10.1");
    assert_span(&api.method, "POST");
    assert_span(&api.path, "/v2/e97/os-server-external-events");
    assert_int_equal(api.status, 404);
}

static void api_proxy_client(void **state)
{
    static const char msg[] = "10.11.21.122,10.11.10.1 \"DELETE /v2/x/"
                              "servers/b9 HTTP/1.1\" status: 204 len: 203";
    struct tl__import_api api;

    (void)state;
    assert_int_equal(tl__import_parse_api(msg, strlen(msg), &api), 0);
    assert_span(&api.client, "10.11.21.122,10.11.10.1");
    assert_span(&api.method, "DELETE");
    assert_int_equal(api.status, 204);
}

static void api_not_request(void **state)
{
    static const char *const msgs[] = {
        "[instance: b9] Instance spawned successfully.",
        "10.11.10.1 \"GET /v2 HTTP/1.1\" status: 2000 len: 1",
        "10.11.10.1 \"GET /v2 HTTP/1.1\" len: 1",
        "10.11.10.1 \"get /v2 HTTP/1.1\" status: 200",
        "10.11.10.1 \"GET /v2 HTTP/1.1 status: 200",
        "",
    };
    struct tl__import_api api;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        assert_int_equal(tl__import_parse_api(msgs[i], strlen(msgs[i]), &api),
                         TL_EINVAL);
    }
}

static void civil_epoch(void **state)
{
    int64_t ns = -1;

    (void)state;
    assert_int_equal(tl__import_civil_ns(1970, 1, 1, 0, 0, 0, 0, &ns), 0);
    assert_true(ns == 0);
    assert_int_equal(tl__import_civil_ns(2017, 5, 16, 0, 0, 0, 8000000, &ns),
                     0);
    assert_true(ns == OS_TIME_NS);
    assert_int_equal(tl__import_civil_ns(2023, 2, 29, 0, 0, 0, 0, &ns),
                     TL_EINVAL);
    assert_int_equal(tl__import_civil_ns(2023, 4, 1, 24, 0, 0, 0, &ns),
                     TL_EINVAL);
    assert_int_equal(tl__import_civil_ns(2300, 1, 1, 0, 0, 0, 0, &ns),
                     TL_EINVAL);
}

/* Returns a string of n copies of c, which the caller frees. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void wire_len_counts(void **state)
{
    (void)state;
    assert_int_equal(tl__import_wire_len("req-1"), 5);
    /* é is two valid bytes. Each 0xff becomes the 3 bytes of U+FFFD. */
    assert_int_equal(tl__import_wire_len("\xc3\xa9"), 2);
    assert_int_equal(tl__import_wire_len("a\xff\xff"), 7);
    assert_int_equal(tl__import_wire_len("\xe2\x82"), 6);
}

static void wire_cut_boundary(void **state)
{
    (void)state;
    assert_int_equal(tl__import_wire_cut("abcdef", 4), 4);
    assert_int_equal(tl__import_wire_cut("abc", 10), 3);
    /* The euro sign (3 bytes) does not fit in 4 after "ab". */
    assert_int_equal(tl__import_wire_cut("ab\xe2\x82\xac", 4), 2);
    assert_int_equal(tl__import_wire_cut("a\xff", 3), 1);
    assert_int_equal(tl__import_wire_cut("a\xff", 4), 2);
}

static void utf8_add_replaces(void **state)
{
    struct tl__buf b;

    (void)state;
    tl__buf_init(&b);
    tl__import_utf8_add(&b, "u\xff\0\xc3\xa9", 5);
    assert_string_equal(tl__buf_cstr(&b), "u\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9");
    tl__buf_free(&b);
}

/* Finds the string field key among rec's fields, or returns NULL. */
static const char *field_str(const struct tl__cli_rec *rec, const char *key)
{
    size_t i;

    for (i = 0; i < rec->n_fields; i++) {
        if (strcmp(rec->fields[i].key, key) == 0) {
            return rec->fields[i].v.s;
        }
    }
    return NULL;
}

static void limit_record_within(void **state)
{
    struct tl_field fields[1 + TL__IMPORT_RECORD_LIMIT_FIELDS];
    struct tl__cli_rec rec = {0};
    struct tl__import_report report;
    struct tl__buf cut;
    char *id = repeat('a', TL__ID_MAX), *logger = repeat('l', 256);
    char *tenant = repeat('t', 256);

    (void)state;
    tl__import_report_init(&report);
    tl__buf_init(&cut);
    fields[0] = TL_U64("line", 1);
    rec.fields = fields;
    rec.n_fields = 1;
    rec.request_id = id;
    rec.logger = logger;
    rec.tenant = tenant;
    assert_int_equal(
        tl__import_limit_record(&rec, fields, "import", &cut, &report), 0);
    assert_ptr_equal(rec.request_id, id);
    assert_ptr_equal(rec.logger, logger);
    assert_ptr_equal(rec.tenant, tenant);
    assert_int_equal(rec.n_fields, 1);
    assert_int_equal(report.adjusted, 0);
    tl__buf_free(&cut);
    free(id);
    free(logger);
    free(tenant);
}

static void limit_record_over(void **state)
{
    struct tl_field fields[1 + TL__IMPORT_RECORD_LIMIT_FIELDS];
    struct tl__cli_rec rec = {0};
    struct tl__import_report report;
    struct tl__buf cut;
    char *id = repeat('a', TL__ID_MAX + 1), *logger = repeat('l', 257);
    char *tenant = repeat('t', 300);

    (void)state;
    tl__import_report_init(&report);
    tl__buf_init(&cut);
    fields[0] = TL_U64("line", 1);
    rec.fields = fields;
    rec.n_fields = 1;
    rec.request_id = id;
    rec.logger = logger;
    rec.tenant = tenant;
    assert_int_equal(
        tl__import_limit_record(&rec, fields, "import", &cut, &report), 0);
    assert_null(rec.request_id);
    assert_string_equal(rec.logger, "import");
    assert_int_equal(strlen(rec.tenant), TL__IMPORT_QUARANTINE_MAX);
    assert_false(tl_tenant_valid(rec.tenant));
    assert_int_equal(rec.n_fields, 4);
    assert_ptr_equal(field_str(&rec, "request_id_too_long"), id);
    assert_ptr_equal(field_str(&rec, "logger_too_long"), logger);
    assert_ptr_equal(field_str(&rec, "tenant_too_long"), tenant);
    assert_int_equal(report.adjusted, 1);
    assert_string_equal(report.adjusted_by[0].reason, "tenant too long");
    assert_string_equal(report.adjusted_by[1].reason, "request id too long");
    assert_string_equal(report.adjusted_by[2].reason, "logger too long");
    tl__buf_free(&cut);
    free(id);
    free(logger);
    free(tenant);
}

/* A request id of 50 bytes 0xff is 154 bytes once sent. */
static void limit_record_invalid_bytes(void **state)
{
    struct tl_field fields[TL__IMPORT_RECORD_LIMIT_FIELDS];
    struct tl__cli_rec rec = {0};
    struct tl__import_report report;
    struct tl__buf cut;
    char *id = repeat('\xff', 50);

    (void)state;
    tl__import_report_init(&report);
    tl__buf_init(&cut);
    rec.fields = fields;
    rec.request_id = id;
    assert_int_equal(
        tl__import_limit_record(&rec, fields, "import", &cut, &report), 0);
    assert_null(rec.request_id);
    assert_ptr_equal(field_str(&rec, "request_id_too_long"), id);
    tl__buf_free(&cut);
    free(id);
}

static void limit_audit_over(void **state)
{
    struct tl_field details[1 + TL__IMPORT_AUDIT_LIMIT_FIELDS];
    struct tl_audit_event ev = {0};
    struct tl__import_report report;
    char *id = repeat('a', TL__ID_MAX + 1), *actor = repeat('u', 257);
    char *target = repeat('p', 257), *source = repeat('c', 256);

    (void)state;
    tl__import_report_init(&report);
    details[0] = TL_STR("method", "POST");
    ev.details = details;
    ev.n_details = 1;
    ev.request_id = id;
    ev.actor_id = actor;
    ev.target_id = target;
    ev.source = source;
    tl__import_limit_audit(&ev, details, &report);
    assert_null(ev.request_id);
    assert_string_equal(ev.actor_id, "unknown");
    assert_null(ev.target_id);
    assert_ptr_equal(ev.source, source);
    assert_int_equal(ev.n_details, 3);
    assert_string_equal(details[1].key, "request_id_too_long");
    assert_ptr_equal(details[1].v.s, id);
    assert_string_equal(details[2].key, "actor_id_too_long");
    assert_ptr_equal(details[2].v.s, actor);
    assert_int_equal(report.audit_adjusted, 1);
    assert_int_equal(report.adjusted, 0);
    free(id);
    free(actor);
    free(target);
    free(source);
}

/* Every member over its limit: four reasons, three details. */
static void limit_audit_all_over(void **state)
{
    struct tl_field details[TL__IMPORT_AUDIT_LIMIT_FIELDS];
    struct tl_audit_event ev = {0};
    struct tl__import_report report;
    char *id = repeat('a', TL__ID_MAX + 1), *other = repeat('x', 257);

    (void)state;
    tl__import_report_init(&report);
    ev.details = details;
    ev.request_id = id;
    ev.actor_id = other;
    ev.target_id = other;
    ev.source = other;
    tl__import_limit_audit(&ev, details, &report);
    assert_null(ev.source);
    assert_int_equal(ev.n_details, 3);
    assert_string_equal(details[2].key, "source_too_long");
    assert_int_equal(report.audit_adjusted, 1);
    assert_string_equal(report.audit_adjusted_by[2].reason,
                        "target id too long");
    assert_string_equal(report.audit_adjusted_by[3].reason, "source too long");
    free(id);
    free(other);
}

/* Prints r into a string, which the caller frees. */
static char *report_text(const struct tl__import_report *r,
                         const struct tl__cli_tally *tally)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    tl__import_report_print(r, f, "in.log", "library", tally);
    assert_int_equal(fclose(f), 0);
    return text;
}

static void report_counts_failed(void **state)
{
    static const struct tl__import_line parsed = {.kind = TL__LINE_PARSED};
    struct tl__cli_tally tally = {
        .sent = 2, .failed = 1, .audit_sent = 1, .audit_failed = 1};
    struct tl__import_report r;
    char *text;

    (void)state;
    tl__import_report_init(&r);
    tl__import_report_line(&r, &parsed);
    tl__import_report_line(&r, &parsed);
    r.audit = 1;
    text = report_text(&r, &tally);
    assert_non_null(strstr(text, "\nrecords failed: 1\n"));
    assert_non_null(strstr(text, "\naudit failed: 1\n"));
    assert_non_null(strstr(text, "\nimport: read=2 records=2 unparsed=0 "
                                 "rejected=0 audit=1 failed=1 "
                                 "audit_failed=1\n"));
    free(text);
    tl__import_report_free(&r);
}

/* A dry run prints the failure counts too, as 0. */
static void report_dry_run_failed(void **state)
{
    struct tl__import_report r;
    char *text;

    (void)state;
    tl__import_report_init(&r);
    text = report_text(&r, NULL);
    assert_non_null(strstr(text, "\nrecords failed: 0\n"));
    assert_non_null(strstr(text, "\naudit failed: 0\n"));
    assert_non_null(strstr(text, " failed=0 audit_failed=0\n"));
    free(text);
    tl__import_report_free(&r);
}

static void report_adjusted_reasons(void **state)
{
    static const char *const reasons[] = {"request id too long",
                                          "logger too long"};
    struct tl__import_report r;
    char *text;

    (void)state;
    tl__import_report_init(&r);
    tl__import_report_adjusted(&r, false, reasons, 2);
    tl__import_report_adjusted(&r, false, reasons, 1);
    tl__import_report_adjusted(&r, true, reasons, 1);
    tl__import_report_adjusted(&r, false, reasons, 0);
    text = report_text(&r, NULL);
    assert_non_null(strstr(text, "\nrecords adjusted: 2\n"));
    assert_non_null(strstr(text, "\nadjusted request id too long: 2\n"));
    assert_non_null(strstr(text, "\nadjusted logger too long: 1\n"));
    assert_non_null(strstr(text, "\naudit adjusted: 1\n"));
    assert_non_null(strstr(text, "\naudit adjusted request id too long: "
                                 "1\n"));
    free(text);
    tl__import_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_lf),
        cmocka_unit_test(split_crlf),
        cmocka_unit_test(split_bare_cr),
        cmocka_unit_test(split_no_final_newline),
        cmocka_unit_test(split_empty_lines),
        cmocka_unit_test(split_cr_then_lf),
        cmocka_unit_test(split_empty_input),
        cmocka_unit_test(openstack_full),
        cmocka_unit_test(openstack_dashes),
        cmocka_unit_test(openstack_dash_context),
        cmocka_unit_test(openstack_no_context),
        cmocka_unit_test(openstack_audit_level),
        cmocka_unit_test(openstack_bad_level),
        cmocka_unit_test(openstack_bad_date),
        cmocka_unit_test(openstack_invalid_bytes),
        cmocka_unit_test(invalid_bytes_escaped),
        cmocka_unit_test(syslog_basic),
        cmocka_unit_test(syslog_padded_day),
        cmocka_unit_test(syslog_tag_no_pid),
        cmocka_unit_test(syslog_no_host),
        cmocka_unit_test(syslog_priority),
        cmocka_unit_test(syslog_leap_day),
        cmocka_unit_test(plain_line),
        cmocka_unit_test(forced_format),
        cmocka_unit_test(unknown_formats),
        cmocka_unit_test(empty_rejected),
        cmocka_unit_test(long_rejected),
        cmocka_unit_test(api_post),
        cmocka_unit_test(api_proxy_client),
        cmocka_unit_test(api_not_request),
        cmocka_unit_test(civil_epoch),
        cmocka_unit_test(wire_len_counts),
        cmocka_unit_test(wire_cut_boundary),
        cmocka_unit_test(utf8_add_replaces),
        cmocka_unit_test(limit_record_within),
        cmocka_unit_test(limit_record_over),
        cmocka_unit_test(limit_record_invalid_bytes),
        cmocka_unit_test(limit_audit_over),
        cmocka_unit_test(limit_audit_all_over),
        cmocka_unit_test(report_counts_failed),
        cmocka_unit_test(report_dry_run_failed),
        cmocka_unit_test(report_adjusted_reasons),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
