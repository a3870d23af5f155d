/* The async-signal-safe path: one JSON line built in a stack buffer with
 * no allocation, no locks and no stdio, written to stderr with write(2).
 * Safe inside a signal handler, after a crash, or with the logger in any
 * state. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/text.h"
#include "tenantlog/tenantlog.h"

#define LINE_MAX_BYTES 4096

struct line {
    char data[LINE_MAX_BYTES];
    size_t len;
};

/* Bytes kept free for the end of the line: "}, a newline. */
#define TAIL 3

static void put(struct line *l, const char *s, size_t n)
{
    memcpy(l->data + l->len, s, n);
    l->len += n;
}

/* Appends s when it fits before the tail, else returns false. So a cut
 * message never ends inside an escape or a UTF-8 sequence. */
static bool put_unit(struct line *l, const char *s, size_t n)
{
    if (n > sizeof(l->data) - TAIL - l->len) {
        return false;
    }
    put(l, s, n);
    return true;
}

static void put_digits(struct line *l, long value, int width)
{
    char d[20];
    int i = width;

    while (i-- > 0) {
        d[i] = (char)('0' + value % 10);
        value /= 10;
    }
    put(l, d, (size_t)width);
}

/* Appends the UTC time as RFC 3339 with microseconds. The civil date
 * comes from days since 1970 by Howard Hinnant's days_from_civil
 * inverse, because gmtime_r is not async-signal-safe. */
static void put_time(struct line *l)
{
    struct timespec ts;
    long days, secs, era, doe, yoe, y, doy, mp, d, m;

    clock_gettime(CLOCK_REALTIME, &ts);
    days = (long)(ts.tv_sec / 86400);
    secs = (long)(ts.tv_sec % 86400);
    days += 719468;
    era = (days >= 0 ? days : days - 146096) / 146097;
    doe = days - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    put_digits(l, y + (m <= 2), 4);
    put(l, "-", 1);
    put_digits(l, m, 2);
    put(l, "-", 1);
    put_digits(l, d, 2);
    put(l, "T", 1);
    put_digits(l, secs / 3600, 2);
    put(l, ":", 1);
    put_digits(l, secs / 60 % 60, 2);
    put(l, ":", 1);
    put_digits(l, secs % 60, 2);
    put(l, ".", 1);
    put_digits(l, ts.tv_nsec / 1000, 6);
    put(l, "Z", 1);
}

/* Appends s as a JSON string body, escaped as tl__json_escape does for
 * quote, backslash, controls and invalid UTF-8. */
static void put_escaped(struct line *l, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, n;
    uint32_t c;

    while (i < len) {
        char e[6] = {'\\', 'u', '0', '0', '0', '0'};
        bool fits;

        n = tl__utf8_decode(p + i, len - i, &c);
        if (n == 0) {
            fits = put_unit(l, "\\ufffd", 6);
            n = 1;
        } else if (c == '"' || c == '\\') {
            e[1] = (char)c;
            fits = put_unit(l, e, 2);
        } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) {
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            fits = put_unit(l, e, sizeof(e));
        } else {
            fits = put_unit(l, (const char *)p + i, n);
        }
        if (!fits) {
            return;
        }
        i += n;
    }
}

int tl_log_emergency(enum tl_level level, const char *msg)
{
    const char *name = tl_level_name(level);
    struct line l = {.len = 0};
    int saved = errno, result = 0;

    put(&l, "{\"ts\":\"", 7);
    put_time(&l);
    put(&l, "\",\"level\":\"", 11);
    put(&l, name ? name : "emerg", strlen(name ? name : "emerg"));
    put(&l, "\",\"msg\":\"", 9);
    put_escaped(&l, msg ? msg : "");
    put(&l, "\"}\n", TAIL);
    if (write(STDERR_FILENO, l.data, l.len) != (ssize_t)l.len) {
        result = -EIO;
    }
    errno = saved;
    return result;
}
