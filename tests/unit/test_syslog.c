/* Unit tests of the syslog parser (RFC 5424, RFC 3164, "<PRI>text"), the
 * RFC 3339 timestamp parser and the RFC 6587 stream framer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/syslog.h"
#include "tenantlog/tenantlog.h"

/* 2024-06-15T12:00:00Z, the receipt time of every test message. */
#define NOW_NS (INT64_C(1718452800) * 1000000000)

static void assert_slice(struct tl__slice s, const char *want)
{
    assert_non_null(s.p);
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.p, want, s.len);
}

static int parse(const char *text, struct tl__syslog_msg *m)
{
    return tl__syslog_parse(text, strlen(text), NOW_NS, m);
}

static void rfc5424_sd(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(parse("<165>1 2003-10-11T22:14:15.003Z "
                           "mymachine.example.com evntslog - ID47 "
                           "[exampleSDID@32473 iut=\"3\" "
                           "eventSource=\"Application\"] An event",
                           &m),
                     0);
    assert_int_equal(m.format, TL__SYSLOG_RFC5424);
    assert_int_equal(m.facility, 20);
    assert_int_equal(m.severity, 5);
    assert_int_equal(m.ts_ns, INT64_C(1065910455003) * 1000000);
    assert_slice(m.host, "mymachine.example.com");
    assert_slice(m.app, "evntslog");
    assert_null(m.procid.p);
    assert_slice(m.msgid, "ID47");
    assert_int_equal(m.n_params, 2);
    assert_slice(m.params[0].sd_id, "exampleSDID@32473");
    assert_slice(m.params[0].name, "iut");
    assert_slice(m.params[0].value, "3");
    assert_slice(m.params[1].name, "eventSource");
    assert_slice(m.params[1].value, "Application");
    assert_null(m.tenant.p);
    assert_slice(m.msg, "An event");
    tl__syslog_msg_fini(&m);
}

static void rfc5424_no_sd(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(parse("<34>1 2003-10-11T22:14:15.003Z host su 77 - - "
                           "'su root' failed\n",
                           &m),
                     0);
    assert_int_equal(m.format, TL__SYSLOG_RFC5424);
    assert_int_equal(m.facility, 4);
    assert_string_equal(tl__syslog_facility_name(m.facility), "auth");
    assert_int_equal(m.severity, 2);
    assert_slice(m.procid, "77");
    assert_null(m.msgid.p);
    assert_int_equal(m.n_params, 0);
    assert_slice(m.msg, "'su root' failed");
    tl__syslog_msg_fini(&m);
}

static void rfc5424_bom(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(
        parse("<14>1 - host app - - - \xef\xbb\xbfh\xc3\xa9llo", &m), 0);
    assert_int_equal(m.format, TL__SYSLOG_RFC5424);
    assert_slice(m.msg, "h\xc3\xa9llo");
    tl__syslog_msg_fini(&m);
}

static void rfc5424_nil(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(parse("<13>1 - - - - - -", &m), 0);
    assert_int_equal(m.format, TL__SYSLOG_RFC5424);
    assert_int_equal(m.ts_ns, 0);
    assert_null(m.host.p);
    assert_null(m.app.p);
    assert_null(m.procid.p);
    assert_null(m.msgid.p);
    assert_int_equal(m.n_params, 0);
    assert_int_equal(m.msg.len, 0);
    tl__syslog_msg_fini(&m);
}

static void rfc5424_escapes(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(parse("<13>1 - h a - - [x@1 a=\"q\\\"b\\\\c\\]d\" "
                           "b=\"e\\nf\"] msg",
                           &m),
                     0);
    assert_int_equal(m.format, TL__SYSLOG_RFC5424);
    assert_int_equal(m.n_params, 2);
    assert_slice(m.params[0].value, "q\"b\\c]d");
    assert_slice(m.params[1].value, "e\\nf");
    assert_slice(m.msg, "msg");
    tl__syslog_msg_fini(&m);
}

static void rfc5424_offset(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(parse("<13>1 2003-08-24T05:14:15.000003-07:00 h a - - "
                           "- x",
                           &m),
                     0);
    /* 2003-08-24T12:14:15.000003Z */
    assert_int_equal(m.ts_ns, INT64_C(1061727255) * 1000000000 + 3000);
    tl__syslog_msg_fini(&m);
}

static void rfc5424_tenant(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(parse("<13>1 - h a - - [timeQuality tzKnown=\"1\"]"
                           "[tenant@32473 id=\"acme\"] hello",
                           &m),
                     0);
    assert_slice(m.tenant, "acme");
    assert_int_equal(m.n_params, 1);
    assert_slice(m.params[0].sd_id, "timeQuality");
    assert_slice(m.msg, "hello");
    tl__syslog_msg_fini(&m);
}

static void rfc5424_bad_header(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    /* With an invalid timestamp, the text after the PRI is the msg. */
    assert_int_equal(parse("<13>1 2003-02-30T00:00:00Z h a - - - x", &m), 0);
    assert_int_equal(m.format, TL__SYSLOG_BARE);
    assert_slice(m.msg, "1 2003-02-30T00:00:00Z h a - - - x");
    tl__syslog_msg_fini(&m);
    /* An unterminated SD element. */
    assert_int_equal(parse("<13>1 - h a - - [x@1 a=\"b\" rest", &m), 0);
    assert_int_equal(m.format, TL__SYSLOG_BARE);
    assert_int_equal(m.n_params, 0);
    assert_null(m.values);
    tl__syslog_msg_fini(&m);
}

static void rfc3164_pid(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(parse("<38>Jun  5 17:32:18 myhost sshd[1234]: Accepted "
                           "password",
                           &m),
                     0);
    assert_int_equal(m.format, TL__SYSLOG_RFC3164);
    assert_int_equal(m.facility, 4);
    assert_int_equal(m.severity, 6);
    /* TZ is UTC in these tests, so this is 2024-06-05T17:32:18Z. */
    assert_int_equal(m.ts_ns, INT64_C(1717608738) * 1000000000);
    assert_slice(m.host, "myhost");
    assert_slice(m.app, "sshd");
    assert_slice(m.procid, "1234");
    assert_slice(m.msg, "Accepted password");
    tl__syslog_msg_fini(&m);
}

static void rfc3164_no_pid(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(parse("<78>Jun 15 01:02:03 myhost CRON: job ran", &m), 0);
    assert_int_equal(m.format, TL__SYSLOG_RFC3164);
    assert_slice(m.host, "myhost");
    assert_slice(m.app, "CRON");
    assert_null(m.procid.p);
    assert_slice(m.msg, "job ran");
    tl__syslog_msg_fini(&m);
}

static void rfc3164_no_host(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(parse("<13>Jun 15 01:02:03 app[99]: hi there", &m), 0);
    assert_int_equal(m.format, TL__SYSLOG_RFC3164);
    assert_null(m.host.p);
    assert_slice(m.app, "app");
    assert_slice(m.procid, "99");
    assert_slice(m.msg, "hi there");
    tl__syslog_msg_fini(&m);
}

static void rfc3164_last_year(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    /* Received in June 2024, a December stamp is from December 2023. */
    assert_int_equal(parse("<13>Dec 31 23:00:00 h t: x", &m), 0);
    assert_int_equal(m.ts_ns, INT64_C(1704063600) * 1000000000);
    tl__syslog_msg_fini(&m);
}

static void bare_text(void **state)
{
    struct tl__syslog_msg m;
    const char text[] = "<11>hello world\0";

    (void)state;
    assert_int_equal(tl__syslog_parse(text, sizeof(text), NOW_NS, &m), 0);
    assert_int_equal(m.format, TL__SYSLOG_BARE);
    assert_int_equal(m.facility, 1);
    assert_int_equal(m.severity, 3);
    assert_int_equal(m.ts_ns, 0);
    assert_slice(m.msg, "hello world");
    tl__syslog_msg_fini(&m);
}

static void invalid_pri(void **state)
{
    static const char *const cases[] = {
        "<192>too big", "<>empty", "<1a>x", "<1234>x", "no pri", "<13 x",
    };
    struct tl__syslog_msg m;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(cases[i], &m), 0);
        assert_int_equal(m.format, TL__SYSLOG_UNPARSED);
        assert_int_equal(m.facility, -1);
        assert_int_equal(m.severity, TL_NOTICE);
        assert_slice(m.msg, cases[i]);
        tl__syslog_msg_fini(&m);
    }
}

static void empty_message(void **state)
{
    struct tl__syslog_msg m;

    (void)state;
    assert_int_equal(tl__syslog_parse("\r\n\0", 3, NOW_NS, &m), TL_EINVAL);
    assert_int_equal(tl__syslog_parse("", 0, NOW_NS, &m), TL_EINVAL);
}

static void rfc3339_invalid(void **state)
{
    static const char *const cases[] = {
        "2003-13-01T00:00:00Z",     "2003-02-29T00:00:00Z",
        "2003-01-01T24:00:00Z",     "2003-01-01T00:00:00",
        "2003-01-01T00:00:00.Z",    "2003-01-01T00:00:00.1234567890Z",
        "2003-01-01T00:00:00+2400", "2003-01-01 00:00:00Z",
        "2003-01-01T00:00:00Zjunk", "9999-01-01T00:00:00Z",
    };
    int64_t ts;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(tl__rfc3339_parse(cases[i], strlen(cases[i]), &ts),
                         TL_EINVAL);
    }
}

static void rfc3339_valid(void **state)
{
    const char *s = "2024-02-29t23:59:59.123456789z";
    int64_t ts;

    (void)state;
    assert_int_equal(tl__rfc3339_parse(s, strlen(s), &ts), 0);
    assert_int_equal(ts, INT64_C(1709251199) * 1000000000 + 123456789);
}

/* ---- framer ---- */

/* Pushes each chunk in turn and collects every message as "text|" with a
 * "!" before the bar when it was truncated. */
static char *frame_all(const char *const *chunks, size_t n, size_t max,
                       const size_t *lens)
{
    static char out[4096];
    struct tl__syslog_framer f;
    const char *msg;
    size_t len, i, used = 0;
    bool cut;

    tl__syslog_framer_init(&f, max);
    for (i = 0; i <= n; i++) {
        if (i < n) {
            size_t clen = lens ? lens[i] : strlen(chunks[i]);

            assert_int_equal(tl__syslog_framer_push(&f, chunks[i], clen), 0);
        }
        while (tl__syslog_framer_next(&f, i == n, &msg, &len, &cut) == 1) {
            memcpy(out + used, msg, len);
            used += len;
            if (cut) {
                out[used++] = '!';
            }
            out[used++] = '|';
        }
    }
    out[used] = '\0';
    tl__syslog_framer_fini(&f);
    return out;
}

static void frame_octet_split(void **state)
{
    static const char *const chunks[] = {"1", "5 <13>hello", " w", "orld5 <1>x",
                                         "y"};

    (void)state;
    assert_string_equal(frame_all(chunks, 5, 1024, NULL),
                        "<13>hello world|<1>xy|");
}

static void frame_lf_split(void **state)
{
    static const char *const chunks[] = {"<13>one\r", "\n<13>tw", "o\n\n",
                                         "<13>three"};

    (void)state;
    assert_string_equal(frame_all(chunks, 4, 1024, NULL),
                        "<13>one|<13>two||<13>three|");
}

static void frame_nul_split(void **state)
{
    static const char *const chunks[] = {"<14>a\0<14>", "b\0"};
    static const size_t lens[] = {10, 2};

    (void)state;
    assert_string_equal(frame_all(chunks, 2, 1024, lens), "<14>a|<14>b|");
}

static void frame_oversize_lf(void **state)
{
    static const char *const chunks[] = {"<13>abcdef", "ghij\n<13>ok\n"};

    (void)state;
    assert_string_equal(frame_all(chunks, 2, 8, NULL), "<13>abcd!|<13>ok|");
}

static void frame_oversize_octet(void **state)
{
    static const char *const chunks[] = {"12 <13>abcd", "efgh3 <1>"};

    (void)state;
    assert_string_equal(frame_all(chunks, 2, 8, NULL), "<13>abcd!|<1>|");
}

static void frame_octet_eof(void **state)
{
    static const char *const chunks[] = {"20 <13>short"};

    (void)state;
    assert_string_equal(frame_all(chunks, 1, 1024, NULL), "<13>short!|");
}

static void frame_digits_no_space(void **state)
{
    static const char *const chunks[] = {"123abc\n", "1234567890 x\n"};

    (void)state;
    assert_string_equal(frame_all(chunks, 2, 1024, NULL),
                        "123abc|1234567890 x|");
}

static void frame_nine_digits_split(void **state)
{
    static const char *const chunks[] = {"000000004", " <1>x"};

    (void)state;
    /* With max 2, the first 9 digits alone are more than a message, yet
     * the framer must wait for the byte that says they are a length. */
    assert_string_equal(frame_all(chunks, 2, 2, NULL), "<1!|");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5424_sd),
        cmocka_unit_test(rfc5424_no_sd),
        cmocka_unit_test(rfc5424_bom),
        cmocka_unit_test(rfc5424_nil),
        cmocka_unit_test(rfc5424_escapes),
        cmocka_unit_test(rfc5424_offset),
        cmocka_unit_test(rfc5424_tenant),
        cmocka_unit_test(rfc5424_bad_header),
        cmocka_unit_test(rfc3164_pid),
        cmocka_unit_test(rfc3164_no_pid),
        cmocka_unit_test(rfc3164_no_host),
        cmocka_unit_test(rfc3164_last_year),
        cmocka_unit_test(bare_text),
        cmocka_unit_test(invalid_pri),
        cmocka_unit_test(empty_message),
        cmocka_unit_test(rfc3339_invalid),
        cmocka_unit_test(rfc3339_valid),
        cmocka_unit_test(frame_octet_split),
        cmocka_unit_test(frame_lf_split),
        cmocka_unit_test(frame_nul_split),
        cmocka_unit_test(frame_oversize_lf),
        cmocka_unit_test(frame_oversize_octet),
        cmocka_unit_test(frame_octet_eof),
        cmocka_unit_test(frame_digits_no_space),
        cmocka_unit_test(frame_nine_digits_split),
    };

    /* RFC 3164 timestamps are local time, so the tests fix the zone. */
    setenv("TZ", "UTC", 1);
    tzset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
