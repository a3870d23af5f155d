/* Escaping for JSON and terminals, tenant id validation, timestamps. */
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tenantlog/tenantlog.h"

static const char hex[] = "0123456789abcdef";

size_t tl__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    uint32_t c;
    size_t n, i;

    if (len == 0) {
        return 0;
    }
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        c = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        c = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len < n) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    /* Reject overlong forms, UTF-16 surrogates and values past U+10FFFF. */
    if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
        (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
        return 0;
    }
    *cp = c;
    return n;
}

static void json_u(struct tl__buf *b, uint32_t c)
{
    char e[6] = {'\\',
                 'u',
                 hex[(c >> 12) & 15],
                 hex[(c >> 8) & 15],
                 hex[(c >> 4) & 15],
                 hex[c & 15]};

    tl__buf_add(b, e, sizeof(e));
}

static int json_short_escape(struct tl__buf *b, unsigned char c)
{
    switch (c) {
    case '"':
        tl__buf_add(b, "\\\"", 2);
        return 1;
    case '\\':
        tl__buf_add(b, "\\\\", 2);
        return 1;
    case '\n':
        tl__buf_add(b, "\\n", 2);
        return 1;
    case '\r':
        tl__buf_add(b, "\\r", 2);
        return 1;
    case '\t':
        tl__buf_add(b, "\\t", 2);
        return 1;
    default:
        return 0;
    }
}

void tl__json_escape(struct tl__buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0, n;
    uint32_t c;

    while (i < len) {
        unsigned char ch = p[i];

        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
            i++;
            run++;
            continue;
        }
        tl__buf_add(b, p + i - run, run);
        run = 0;
        if (ch < 0x80) {
            if (!json_short_escape(b, ch)) {
                json_u(b, ch);
            }
            i++;
            continue;
        }
        n = tl__utf8_decode(p + i, len - i, &c);
        if (n == 0) {
            json_u(b, 0xfffd);
            i++;
        } else if ((c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029) {
            json_u(b, c);
            i += n;
        } else {
            tl__buf_add(b, p + i, n);
            i += n;
        }
    }
    tl__buf_add(b, p + i - run, run);
}

void tl__json_str(struct tl__buf *b, const char *s)
{
    if (s == NULL) {
        tl__buf_add(b, "null", 4);
        return;
    }
    tl__buf_addc(b, '"');
    tl__json_escape(b, s, strlen(s));
    tl__buf_addc(b, '"');
}

void tl__json_double(struct tl__buf *b, double d)
{
    size_t start = b->len, i;

    if (isnan(d)) {
        tl__buf_adds(b, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        tl__buf_adds(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    tl__buf_printf(b, "%.17g", d);
    /* printf follows LC_NUMERIC, so a locale with a decimal comma writes
     * "1,5"; JSON needs the dot. */
    for (i = start; i < b->len; i++) {
        if (b->data[i] == ',') {
            b->data[i] = '.';
        }
    }
}

void tl__text_escape(struct tl__buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;
    uint32_t c;

    while (i < len) {
        if (p[i] >= 0x20 && p[i] < 0x7f) {
            tl__buf_addc(b, (char)p[i++]);
            continue;
        }
        n = tl__utf8_decode(p + i, len - i, &c);
        if (n <= 1) {
            /* An ASCII control, DEL, or a byte that is not UTF-8. */
            tl__buf_printf(b, "\\x%02x", p[i]);
            i++;
            continue;
        }
        if (c < 0xa0 || c == 0x2028 || c == 0x2029) {
            tl__buf_printf(b, "\\u{%04x}", (unsigned)c);
            i += n;
            continue;
        }
        tl__buf_add(b, p + i, n);
        i += n;
    }
}

bool tl__tenant_valid(const char *s, size_t len)
{
    size_t i;

    if (s == NULL || len == 0 || len > TL__TENANT_MAX) {
        return false;
    }
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
        return false;
    }
    for (i = 0; i < len; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9');

        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
            return false;
        }
    }
    return true;
}

bool tl_tenant_valid(const char *s)
{
    return s != NULL && tl__tenant_valid(s, strnlen(s, TL__TENANT_MAX + 1));
}

void tl__errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int64_t tl__now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void tl__time_rfc3339(struct tl__buf *b, int64_t ts_ns)
{
    time_t sec = (time_t)(ts_ns / 1000000000);
    long us = (long)((ts_ns % 1000000000) / 1000);
    struct tm tm;

    if (us < 0) {
        us += 1000000;
        sec -= 1;
    }
    gmtime_r(&sec, &tm);
    tl__buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   us);
}
