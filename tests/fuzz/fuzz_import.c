/* Fuzzes the `tenantlog import` parser: line splitting, per-line format
 * detection in every mode, and the OpenStack API request parser. Input:
 * two bytes that pick the syslog year, then the log text. Every byte must
 * belong to exactly one line or terminator, and every span must lie
 * inside its line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/import_parse.h"
#include "fuzz_util.h"

static volatile unsigned sink;

static void span_check(const struct tl__span *s, const char *line, size_t len,
                       const char *what)
{
    size_t i;

    if (s->p == NULL) {
        return;
    }
    if (s->p < line || s->len > len || s->p > line + len - s->len) {
        fuzz_fail(line, len, "span %s is outside its line", what);
    }
    for (i = 0; i < s->len; i++) {
        sink += (unsigned char)s->p[i];
    }
}

static void api_check(const struct tl__span *msg)
{
    struct tl__import_api api;

    if (msg->p == NULL || tl__import_parse_api(msg->p, msg->len, &api) != 0) {
        return;
    }
    span_check(&api.client, msg->p, msg->len, "client");
    span_check(&api.method, msg->p, msg->len, "method");
    span_check(&api.path, msg->p, msg->len, "path");
    if (api.status < 100 || api.status > 599 || api.method.len == 0 ||
        api.path.len == 0) {
        fuzz_fail(msg->p, msg->len,
                  "API line with status %d or an empty "
                  "method or path",
                  api.status);
    }
}

static void result_check(const struct tl__import_line *r, const char *line,
                         size_t len)
{
    if (r->kind < TL__LINE_PARSED || r->kind > TL__LINE_REJECTED ||
        (r->kind != TL__LINE_PARSED && r->reason == NULL) ||
        (unsigned)r->level > TL_DEBUG) {
        fuzz_fail(line, len, "kind %d, level %d, or no reason", (int)r->kind,
                  (int)r->level);
    }
    if (r->kind == TL__LINE_UNPARSED &&
        (r->msg.p != line || r->msg.len != len)) {
        fuzz_fail(line, len, "an unparsed line lost bytes of its text");
    }
    span_check(&r->logger, line, len, "logger");
    span_check(&r->msg, line, len, "msg");
    span_check(&r->tenant, line, len, "tenant");
    span_check(&r->request_id, line, len, "request_id");
    span_check(&r->user, line, len, "user");
    span_check(&r->source_file, line, len, "source_file");
    span_check(&r->host, line, len, "host");
    if (r->kind == TL__LINE_PARSED) {
        api_check(&r->msg);
    }
}

/* Checks that data[line_end..next) is a line terminator: LF, CR, CRLF,
 * or nothing at the very end, and that CRLF is never taken as CR. */
static void terminator_check(const char *data, size_t len, size_t line_end,
                             size_t next)
{
    const char *t = data + line_end;
    size_t n;
    bool ok;

    if (next < line_end || next > len) {
        fuzz_fail(data, len,
                  "the next line starts at %zu after a line "
                  "that ends at %zu",
                  next, line_end);
    }
    n = next - line_end;
    ok = (n == 0 && next == len) ||
         (n == 1 && (t[0] == '\n' || t[0] == '\r')) ||
         (n == 2 && memcmp(t, "\r\n", 2) == 0);
    if (!ok) {
        fuzz_fail(data, len, "bad terminator of %zu bytes at %zu", n, line_end);
    }
    if (n == 1 && t[0] == '\r' && next < len && data[next] == '\n') {
        fuzz_fail(data, len, "CRLF at %zu taken as two line ends", line_end);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum tl__import_format formats[] = {
        TL__IMPORT_AUTO, TL__IMPORT_OPENSTACK, TL__IMPORT_SYSLOG,
        TL__IMPORT_PLAIN};
    struct tl__import_opts opts;
    struct tl__import_line r;
    const char *text, *line;
    size_t pos = 0, prev, len, line_len, i;

    if (size < 2) {
        return 0;
    }
    /* Years 1600..2623, so that the range checks are reached. */
    opts.year = 1600 + ((data[0] << 8 | data[1]) & 1023);
    text = (const char *)data + 2;
    len = size - 2;
    while (prev = pos,
           tl__import_next_line(text, len, &pos, &line, &line_len)) {
        if (line != text + prev || memchr(line, '\n', line_len) ||
            memchr(line, '\r', line_len)) {
            fuzz_fail(text, len,
                      "line at %zu does not start where the "
                      "last ended, or contains CR or LF",
                      prev);
        }
        terminator_check(text, len, prev + line_len, pos);
        for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
            opts.format = formats[i];
            tl__import_parse_line(line, line_len, &opts, &r);
            result_check(&r, line, line_len);
        }
    }
    if (pos != len) {
        fuzz_fail(text, len, "lines end at %zu of %zu bytes", pos, len);
    }
    return 0;
}
