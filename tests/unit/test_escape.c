/* Escaping in every output format, tenant id validation, and the JSON
 * record layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "lib/format.h"
#include "lib/record.h"

static char *json_of(const char *s, size_t len)
{
    static struct tl__buf b;

    tl__buf_reset(&b);
    tl__json_escape(&b, s, len);
    return (char *)tl__buf_cstr(&b);
}

#define JSON(lit) json_of(lit, sizeof(lit) - 1)

static void escape_quote_backslash(void **state)
{
    (void)state;
    assert_string_equal(JSON("a\"b\\c"), "a\\\"b\\\\c");
}

static void escape_c0_and_del(void **state)
{
    (void)state;
    assert_string_equal(JSON("\n\r\t"), "\\n\\r\\t");
    assert_string_equal(JSON("\x01\x1b[31m"), "\\u0001\\u001b[31m");
    assert_string_equal(JSON("\x7f"), "\\u007f");
}

static void escape_nul_byte(void **state)
{
    (void)state;
    assert_string_equal(JSON("a\0b"), "a\\u0000b");
}

static void escape_valid_utf8_kept(void **state)
{
    (void)state;
    assert_string_equal(JSON("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void escape_invalid_utf8(void **state)
{
    (void)state;
    /* Lone continuation byte, overlong NUL, surrogate, past U+10FFFF,
     * truncated sequence: each bad byte becomes U+FFFD. */
    assert_string_equal(JSON("\x80"), "\\ufffd");
    assert_string_equal(JSON("\xc0\x80"), "\\ufffd\\ufffd");
    assert_string_equal(JSON("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
    assert_string_equal(JSON("\xf4\x90\x80\x80"),
                        "\\ufffd\\ufffd\\ufffd\\ufffd");
    assert_string_equal(JSON("a\xe2\x82"), "a\\ufffd\\ufffd");
    assert_string_equal(JSON("\xff"), "\\ufffd");
}

static void escape_c1_and_separators(void **state)
{
    (void)state;
    assert_string_equal(JSON("\xc2\x85"), "\\u0085");
    assert_string_equal(JSON("\xc2\x9b"), "\\u009b");
    assert_string_equal(JSON("\xe2\x80\xa8"), "\\u2028");
}

static void escape_terminal_text(void **state)
{
    struct tl__buf b;
    const char in[] = "ok \x1b[2J\x07 \xc2\x9b \xff \xc3\xa9\n";

    (void)state;
    tl__buf_init(&b);
    tl__text_escape(&b, in, sizeof(in) - 1);
    assert_string_equal(tl__buf_cstr(&b),
                        "ok \\x1b[2J\\x07 \\u{009b} \\xff \xc3\xa9\\x0a");
    tl__buf_free(&b);
}

static void tenant_valid_cases(void **state)
{
    static const char *const good[] = {
        "acme",
        "a",
        "A9",
        "54fadb412c4e40cdbaed9335e4c35a9e",
        "a.b-c_d",
        "0",
        "1234567890123456789012345678901234567890123456789012345678901234",
    };
    static const char *const bad[] = {
        "",
        ".",
        "..",
        "../x",
        "a/b",
        "/abs",
        "-a",
        "_a",
        ".a",
        "a b",
        "a\n",
        "a\\b",
        "\xc3\xa9",
        "a:b",
        "12345678901234567890123456789012345678901234567890123456789012345",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(tl_tenant_valid(good[i]));
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(tl_tenant_valid(bad[i]));
    }
    assert_false(tl_tenant_valid(NULL));
    assert_false(tl__tenant_valid("a\0b", 3));
}

static char *format_record(const struct tl__record_src *src)
{
    static struct tl__buf b;
    struct tl__record *r;

    assert_int_equal(tl__record_new(src, &r), 0);
    tl__buf_reset(&b);
    tl__format_json(&b, r);
    free(r);
    return (char *)tl__buf_cstr(&b);
}

static void record_one_line(void **state)
{
    struct tl__record_src src = {.ts_ns = 1,
                                 .level = TL_INFO,
                                 .msg = "x\n{\"level\":\"emerg\"}",
                                 .msg_len = (size_t)-1};
    char *line;

    (void)state;
    line = format_record(&src);
    assert_non_null(strchr(line, '\n'));
    assert_int_equal(strchr(line, '\n') - line, strlen(line) - 1);
    assert_string_equal(line, "{\"ts\":\"1970-01-01T00:00:00.000000Z\","
                              "\"level\":\"info\",\"msg\":\"x\\n{\\\"level\\\":"
                              "\\\"emerg\\\"}\"}\n");
}

static void record_reserved_keys_renamed(void **state)
{
    struct tl_field fields[] = {TL_STR("ts", "forged"), TL_U64("_uid", 0),
                                TL_I64("n", -3), TL_BOOL("ok", true)};
    struct tl__record_src src = {.ts_ns = 1,
                                 .level = TL_ERROR,
                                 .tenant = "acme",
                                 .fields = fields,
                                 .n_fields = 4};

    (void)state;
    assert_string_equal(format_record(&src),
                        "{\"ts\":\"1970-01-01T00:00:00.000000Z\","
                        "\"level\":\"error\",\"tenant\":\"acme\","
                        "\"fields.ts\":\"forged\",\"fields._uid\":0,"
                        "\"n\":-3,\"ok\":true}\n");
}

static void record_duplicate_keys_renamed(void **state)
{
    struct tl_field fields[] = {
        TL_I64("k", 1),          TL_I64("k", 2),    TL_I64("msg", 3),
        TL_I64("fields.msg", 4), TL_I64("\xff", 5), TL_I64("\xfe", 6),
    };
    struct tl__record_src src = {
        .ts_ns = 1, .level = TL_INFO, .fields = fields, .n_fields = 6};

    (void)state;
    assert_string_equal(format_record(&src),
                        "{\"ts\":\"1970-01-01T00:00:00.000000Z\","
                        "\"level\":\"info\",\"k\":1,\"k#2\":2,"
                        "\"fields.msg\":3,\"fields.msg#4\":4,"
                        "\"\\ufffd\":5,\"\\ufffd#6\":6}\n");
}

static void record_suffix_collision_renamed(void **state)
{
    struct tl_field fields[] = {TL_I64("k", 1), TL_I64("k", 2),
                                TL_I64("k#2", 3)};
    struct tl__record_src src = {
        .ts_ns = 1, .level = TL_INFO, .fields = fields, .n_fields = 3};

    (void)state;
    /* The caller's own "k#2" comes after the renamed second "k". */
    assert_non_null(
        strstr(format_record(&src), "\"k\":1,\"k#2\":2,\"k#2#3\":3}"));
}

static void record_many_fields_unique(void **state)
{
    struct tl_field fields[40];
    struct tl__record_src src = {
        .ts_ns = 1, .level = TL_INFO, .fields = fields, .n_fields = 40};
    char *line;
    size_t i;

    (void)state;
    for (i = 0; i < 40; i++) {
        fields[i] = TL_U64("n", i);
    }
    line = format_record(&src);
    assert_non_null(strstr(line, "\"n\":0,\"n#2\":1,"));
    assert_non_null(strstr(line, "\"n#40\":39}"));
}

static void record_invalid_tenant_quarantined(void **state)
{
    struct tl__record_src src = {
        .ts_ns = 1, .level = TL_INFO, .tenant = "../x"};
    struct tl__record *r;

    (void)state;
    assert_int_equal(tl__record_new(&src, &r), 0);
    assert_null(r->tenant);
    assert_string_equal(r->tenant_invalid, "../x");
    free(r);
    assert_non_null(
        strstr(format_record(&src), "\"_tenant_invalid\":\"../x\""));
}

static void record_trusted_creds(void **state)
{
    struct tl__record_src src = {.ts_ns = 1,
                                 .level = TL_INFO,
                                 .transport = TL__TRANSPORT_SYSLOG,
                                 .cred = {true, 42, 1000, 100}};

    (void)state;
    assert_string_equal(format_record(&src),
                        "{\"ts\":\"1970-01-01T00:00:00.000000Z\","
                        "\"level\":\"info\",\"_transport\":\"syslog\","
                        "\"_pid\":42,\"_uid\":1000,\"_gid\":100}\n");
}

static void record_unknown_field_type(void **state)
{
    struct tl_field field = {.key = "k", .type = (enum tl_field_type)99};
    struct tl__record_src src = {
        .level = TL_INFO, .fields = &field, .n_fields = 1};
    struct tl__record *r;

    (void)state;
    assert_int_equal(tl__record_new(&src, &r), TL_EINVAL);
}

static void record_too_large(void **state)
{
    static char big[TL__RECORD_MAX + 1];
    struct tl__record_src src = {
        .level = TL_INFO, .msg = big, .msg_len = sizeof(big)};
    struct tl__record *r;

    (void)state;
    assert_int_equal(tl__record_new(&src, &r), TL_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_quote_backslash),
        cmocka_unit_test(escape_c0_and_del),
        cmocka_unit_test(escape_nul_byte),
        cmocka_unit_test(escape_valid_utf8_kept),
        cmocka_unit_test(escape_invalid_utf8),
        cmocka_unit_test(escape_c1_and_separators),
        cmocka_unit_test(escape_terminal_text),
        cmocka_unit_test(tenant_valid_cases),
        cmocka_unit_test(record_one_line),
        cmocka_unit_test(record_reserved_keys_renamed),
        cmocka_unit_test(record_duplicate_keys_renamed),
        cmocka_unit_test(record_suffix_collision_renamed),
        cmocka_unit_test(record_many_fields_unique),
        cmocka_unit_test(record_invalid_tenant_quarantined),
        cmocka_unit_test(record_trusted_creds),
        cmocka_unit_test(record_unknown_field_type),
        cmocka_unit_test(record_too_large),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
