/* The async-signal-safe path: a line written from a signal handler, its
 * escaping, its time, and the cut of a long message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/text.h"
#include "tenantlog/tenantlog.h"

static char output[8192];

/* Runs fn with stderr sent to a temporary file, then reads that file into
 * output. */
static void capture(void (*fn)(void))
{
    char path[] = "/tmp/tl-emergency-XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    ssize_t n;

    assert_true(fd >= 0);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = pread(fd, output, sizeof(output) - 1, 0);
    assert_true(n > 0);
    output[n] = '\0';
    close(fd);
    unlink(path);
}

static void on_signal(int sig)
{
    (void)sig;
    tl_log_emergency(TL_CRIT, "caught \"sig\\\"\n\x1b[2J \xff caf\xc3\xa9");
}

static void raise_signal(void)
{
    signal(SIGUSR1, on_signal);
    raise(SIGUSR1);
    signal(SIGUSR1, SIG_DFL);
}

static void emergency_from_signal_handler(void **state)
{
    const char *rest;

    (void)state;
    capture(raise_signal);
    rest = strstr(output, "\",\"level\"");
    assert_non_null(rest);
    assert_string_equal(rest, "\",\"level\":\"crit\",\"msg\":\"caught "
                              "\\\"sig\\\\\\\"\\u000a\\u001b[2J \\ufffd "
                              "caf\xc3\xa9\"}\n");
}

static void emergency_time_is_now(void **state)
{
    struct tl__buf now;

    (void)state;
    capture(raise_signal);
    tl__buf_init(&now);
    tl__time_rfc3339(&now, tl__now_ns());
    /* "{"ts":"YYYY-MM-DDTHH:MM:SS.uuuuuuZ": the date and hour agree with
     * the library's formatter, unless the test runs across an hour. */
    assert_int_equal(strncmp(output, "{\"ts\":\"", 7), 0);
    assert_int_equal(strncmp(output + 7, now.data, 13), 0);
    assert_int_equal(output[7 + 26], 'Z');
    tl__buf_free(&now);
}

static void write_long(void)
{
    char msg[6001];
    size_t i;

    /* Two-byte characters and quotes, so a careless cut would split one. */
    for (i = 0; i + 3 <= 6000; i += 3) {
        memcpy(msg + i, "\xc3\xa9\"", 3);
    }
    msg[i] = '\0';
    tl_log_emergency(TL_ERROR, msg);
}

static void emergency_long_message_cut(void **state)
{
    json_error_t error;
    json_t *obj;
    size_t len;

    (void)state;
    capture(write_long);
    len = strlen(output);
    assert_true(len <= 4096);
    assert_int_equal(output[len - 1], '\n');
    obj = json_loadb(output, len, 0, &error);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "level")),
                        "error");
    json_decref(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(emergency_from_signal_handler),
        cmocka_unit_test(emergency_time_is_now),
        cmocka_unit_test(emergency_long_message_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
