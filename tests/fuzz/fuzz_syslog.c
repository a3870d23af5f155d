/* Fuzzes the syslog parser and the RFC 6587 stream framer. Input: one
 * option byte (receipt time, message size limit), one chunk-size byte,
 * then the bytes of a syslog stream. The framer must split the stream
 * the same way whether the bytes arrive at once or in small chunks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/syslog.h"
#include "fuzz_util.h"
#include "tenantlog/tenantlog.h"

/* Receipt times: 2024-01-01T00:30:00Z (just after New Year, so December
 * stamps belong to last year), 2024-06-15T12:00:00Z, 2023-12-31T23:59:59Z
 * and the Unix epoch. */
static const int64_t now_choices[4] = {
    1704069000LL * 1000000000,
    1718452800LL * 1000000000,
    1704067199LL * 1000000000,
    0,
};

static volatile unsigned sink;

/* Reads every byte of a slice, so that ASan checks its bounds. */
static void slice_touch(struct tl__slice s)
{
    size_t i;

    if (s.p == NULL) {
        if (s.len != 0) {
            fuzz_fail(NULL, 0, "absent slice with length %zu", s.len);
        }
        return;
    }
    for (i = 0; i < s.len; i++) {
        sink += (unsigned char)s.p[i];
    }
}

static bool slice_inside(struct tl__slice s, const char *text, size_t len)
{
    return s.p == NULL ||
           (s.p >= text && s.len <= len && s.p <= text + len - s.len);
}

static void header_check(const struct tl__syslog_msg *m, const char *text,
                         size_t len)
{
    if (!slice_inside(m->host, text, len) || !slice_inside(m->app, text, len) ||
        !slice_inside(m->procid, text, len) ||
        !slice_inside(m->msgid, text, len) ||
        !slice_inside(m->msg, text, len)) {
        fuzz_fail(text, len, "a header slice points outside the message");
    }
    if (m->format == TL__SYSLOG_UNPARSED &&
        (m->facility != -1 || m->severity != TL_NOTICE || m->msg.p != text)) {
        fuzz_fail(text, len,
                  "unparsed message with facility %d, severity "
                  "%d or a cut text",
                  m->facility, m->severity);
    }
    if (m->format != TL__SYSLOG_UNPARSED &&
        (m->facility < 0 || m->facility > 23 || m->severity < 0 ||
         m->severity > 7)) {
        fuzz_fail(text, len, "facility %d or severity %d out of range",
                  m->facility, m->severity);
    }
}

static void parse_check(const char *text, size_t len, int64_t now_ns)
{
    struct tl__syslog_msg m;
    size_t i;
    int rc;

    memset(&m, 0xa5, sizeof(m));
    rc = tl__syslog_parse(text, len, now_ns, &m);
    if (rc == TL_EINVAL) {
        return;
    }
    if (rc != 0) {
        fuzz_fail(text, len, "tl__syslog_parse returned %d", rc);
    }
    if (m.format > TL__SYSLOG_RFC5424) {
        fuzz_fail(text, len, "format %d", (int)m.format);
    }
    header_check(&m, text, len);
    slice_touch(m.host);
    slice_touch(m.app);
    slice_touch(m.procid);
    slice_touch(m.msgid);
    slice_touch(m.tenant);
    slice_touch(m.msg);
    for (i = 0; i < m.n_params; i++) {
        slice_touch(m.params[i].sd_id);
        slice_touch(m.params[i].name);
        slice_touch(m.params[i].value);
    }
    tl__syslog_msg_fini(&m);
}

/* Appends each message as its length, its truncated flag and its bytes. */
static void record(struct tl__buf *out, const char *msg, size_t len,
                   bool truncated, size_t max, int64_t now_ns)
{
    if (len > max) {
        fuzz_fail(msg, len, "message of %zu bytes, above the maximum %zu", len,
                  max);
    }
    tl__buf_add(out, &len, sizeof(len));
    tl__buf_addc(out, truncated ? 'T' : 'C');
    tl__buf_add(out, msg, len);
    parse_check(msg, len, now_ns);
}

static void drain(struct tl__syslog_framer *f, bool at_eof, struct tl__buf *out,
                  int64_t now_ns)
{
    const char *msg;
    size_t len, n = 0;
    bool truncated;

    while (tl__syslog_framer_next(f, at_eof, &msg, &len, &truncated) == 1) {
        record(out, msg, len, truncated, f->max, now_ns);
        if (++n > 1000000) {
            fuzz_fail(NULL, 0, "the framer does not advance");
        }
    }
}

/* Splits data with the framer, pushing it in chunks of chunk bytes. */
static void frame_all(const char *data, size_t size, size_t max, size_t chunk,
                      int64_t now_ns, struct tl__buf *out)
{
    struct tl__syslog_framer f;
    size_t pos = 0, n;

    tl__syslog_framer_init(&f, max);
    while (pos < size) {
        n = size - pos < chunk ? size - pos : chunk;
        if (tl__syslog_framer_push(&f, data + pos, n) != 0) {
            abort();
        }
        pos += n;
        drain(&f, false, out, now_ns);
    }
    drain(&f, true, out, now_ns);
    tl__syslog_framer_fini(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tl__buf whole, chunked;
    const char *text = (const char *)data + 2;
    uint8_t opt, chunk_opt;
    int64_t now_ns;
    size_t max;

    if (size < 2) {
        return 0;
    }
    opt = data[0];
    chunk_opt = data[1];
    size -= 2;
    now_ns = now_choices[opt & 3];
    max = (opt & 0x80) ? TL__SYSLOG_MAX : 1 + ((opt >> 2) & 0x1f) * 8u;

    parse_check(text, size, now_ns);

    tl__buf_init(&whole);
    tl__buf_init(&chunked);
    frame_all(text, size, max, size > 0 ? size : 1, now_ns, &whole);
    frame_all(text, size, max, 1 + chunk_opt % 17u, now_ns, &chunked);
    if (whole.oom || chunked.oom) {
        abort();
    }
    if (whole.len != chunked.len ||
        (whole.len > 0 && memcmp(whole.data, chunked.data, whole.len) != 0)) {
        fuzz_fail(text, size,
                  "the framer splits the stream differently "
                  "when it arrives in chunks of %u bytes",
                  1 + chunk_opt % 17u);
    }
    tl__buf_free(&whole);
    tl__buf_free(&chunked);
    return 0;
}
