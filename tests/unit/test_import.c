/* Unit tests of the import parser: line splitting, OpenStack and syslog
 * lines, rejected lines, API request extraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The parser is part of the CLI program, not of the library, so the test
 * compiles it in. */
#include "cli/import_parse.c"
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
    assert_string_equal(r.reason, "no timestamp");
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
    assert_string_equal(r.reason, "no timestamp");
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
    assert_string_equal(r.reason, "no timestamp");
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
        cmocka_unit_test(empty_rejected),
        cmocka_unit_test(long_rejected),
        cmocka_unit_test(api_post),
        cmocka_unit_test(api_proxy_client),
        cmocka_unit_test(api_not_request),
        cmocka_unit_test(civil_epoch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
