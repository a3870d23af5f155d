/* Syslog message parser (RFC 5424, RFC 3164 and "<PRI>text") and the
 * RFC 6587 stream framer. Pure functions of their input; the only outside
 * state read is the local time zone, for RFC 3164 timestamps. */
#include "syslog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tenantlog/tenantlog.h"

/* Maximum length of HOSTNAME, APP-NAME, PROCID and MSGID. RFC 5424 allows
 * 255 bytes for HOSTNAME and fewer for the others; longer ones are
 * accepted up to 255 because senders such as logger -t do not cut them. */
#define HEADER_TOKEN_MAX 255
#define SD_NAME_MAX 32 /* maximum length of SD-ID and PARAM-NAME (RFC 5424) */

static const char *const facility_names[24] = {
    "kern",   "user",   "mail",   "daemon", "auth",     "syslog",
    "lpr",    "news",   "uucp",   "cron",   "authpriv", "ftp",
    "ntp",    "audit",  "alert",  "clock",  "local0",   "local1",
    "local2", "local3", "local4", "local5", "local6",   "local7",
};

static const char *const month_names[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* A read position in the text being parsed. */
struct cursor {
    const char *p;
    size_t len;
    size_t pos;
};

const char *tl__syslog_facility_name(int facility)
{
    if (facility < 0 || facility > 23) {
        return NULL;
    }
    return facility_names[facility];
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int at(const struct cursor *c)
{
    return c->pos < c->len ? (unsigned char)c->p[c->pos] : -1;
}

static int expect(struct cursor *c, char ch)
{
    if (at(c) != (unsigned char)ch) {
        return TL_EINVAL;
    }
    c->pos++;
    return 0;
}

/* Reads n digits as a number. Returns it, or -1 when they are not all
 * digits. */
static int digits(struct cursor *c, size_t n)
{
    int v = 0;
    size_t i;

    if (c->len - c->pos < n) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (!is_digit(c->p[c->pos + i])) {
            return -1;
        }
        v = v * 10 + (c->p[c->pos + i] - '0');
    }
    c->pos += n;
    return v;
}

/* ---- RFC 3339 timestamps ---- */

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool date_valid(const struct tm *tm)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    int year = tm->tm_year + 1900;
    int max;

    if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1) {
        return false;
    }
    max = days[tm->tm_mon] + (tm->tm_mon == 1 && leap_year(year));
    return tm->tm_mday <= max && tm->tm_hour <= 23 && tm->tm_min <= 59 &&
           tm->tm_sec <= 60;
}

/* Reads ".digits" into nanoseconds. Without a fraction, *ns is 0. */
static int fraction(struct cursor *c, int64_t *ns)
{
    int64_t scale = 100000000;
    size_t n = 0;

    *ns = 0;
    if (at(c) != '.') {
        return 0;
    }
    c->pos++;
    while (c->pos < c->len && is_digit(c->p[c->pos])) {
        if (++n > 9) {
            return TL_EINVAL;
        }
        *ns += (c->p[c->pos++] - '0') * scale;
        scale /= 10;
    }
    return n == 0 ? TL_EINVAL : 0;
}

/* Reads "Z" or "+HH:MM" / "-HH:MM" as seconds east of UTC. */
static int utc_offset(struct cursor *c, int *offset_s)
{
    int sign, h, m;

    if (at(c) == 'Z' || at(c) == 'z') {
        c->pos++;
        *offset_s = 0;
        return 0;
    }
    if (at(c) != '+' && at(c) != '-') {
        return TL_EINVAL;
    }
    sign = at(c) == '-' ? -1 : 1;
    c->pos++;
    h = digits(c, 2);
    if (h < 0 || h > 23 || expect(c, ':') < 0) {
        return TL_EINVAL;
    }
    m = digits(c, 2);
    if (m < 0 || m > 59) {
        return TL_EINVAL;
    }
    *offset_s = sign * (h * 3600 + m * 60);
    return 0;
}

static int rfc3339_date_time(struct cursor *c, struct tm *tm)
{
    int year = digits(c, 4);

    if (year < 0 || expect(c, '-') < 0) {
        return TL_EINVAL;
    }
    tm->tm_year = year - 1900;
    tm->tm_mon = digits(c, 2) - 1;
    if (expect(c, '-') < 0) {
        return TL_EINVAL;
    }
    tm->tm_mday = digits(c, 2);
    if (at(c) != 'T' && at(c) != 't') {
        return TL_EINVAL;
    }
    c->pos++;
    tm->tm_hour = digits(c, 2);
    if (tm->tm_hour < 0 || expect(c, ':') < 0) {
        return TL_EINVAL;
    }
    tm->tm_min = digits(c, 2);
    if (tm->tm_min < 0 || expect(c, ':') < 0) {
        return TL_EINVAL;
    }
    tm->tm_sec = digits(c, 2);
    if (tm->tm_sec < 0 || !date_valid(tm)) {
        return TL_EINVAL;
    }
    return 0;
}

int tl__rfc3339_parse(const char *s, size_t len, int64_t *ts_ns)
{
    struct cursor c = {s, len, 0};
    struct tm tm = {0};
    int64_t frac_ns, sec;
    int offset_s;

    if (rfc3339_date_time(&c, &tm) < 0 || fraction(&c, &frac_ns) < 0 ||
        utc_offset(&c, &offset_s) < 0 || c.pos != len) {
        return TL_EINVAL;
    }
    /* int64 nanoseconds cover the years 1678 to 2262. */
    if (tm.tm_year < 1678 - 1900 || tm.tm_year > 2261 - 1900) {
        return TL_EINVAL;
    }
    sec = (int64_t)timegm(&tm) - offset_s;
    *ts_ns = sec * 1000000000 + frac_ns;
    return 0;
}

/* ---- PRI and header tokens ---- */

/* Reads "<PRIVAL>" with 1 to 3 digits and a value up to 191. Returns
 * PRIVAL, or -1 when the text does not start with one. */
static int pri(struct cursor *c)
{
    int v = 0;
    size_t n = 0;

    if (expect(c, '<') < 0) {
        return -1;
    }
    while (c->pos < c->len && is_digit(c->p[c->pos]) && n < 4) {
        v = v * 10 + (c->p[c->pos++] - '0');
        n++;
    }
    if (n == 0 || n > 3 || v > 191 || expect(c, '>') < 0) {
        return -1;
    }
    return v;
}

/* Reads a token of printable US-ASCII up to the next space or the end.
 * The NILVALUE "-" yields an absent slice. */
static int header_token(struct cursor *c, struct tl__slice *out)
{
    size_t start = c->pos;

    while (c->pos < c->len && c->p[c->pos] > ' ' && c->p[c->pos] < 0x7f) {
        c->pos++;
    }
    if (c->pos == start || c->pos - start > HEADER_TOKEN_MAX) {
        return TL_EINVAL;
    }
    if (c->pos - start == 1 && c->p[start] == '-') {
        *out = (struct tl__slice){NULL, 0};
    } else {
        *out = (struct tl__slice){c->p + start, c->pos - start};
    }
    return 0;
}

/* ---- RFC 5424 structured data ---- */

/* Reads an SD-ID or PARAM-NAME: 1 to 32 printable US-ASCII characters
 * other than '=', ']' and '"'. */
static int sd_name(struct cursor *c, struct tl__slice *out)
{
    size_t start = c->pos;
    int ch;

    while ((ch = at(c)) > ' ' && ch < 0x7f && ch != '=' && ch != ']' &&
           ch != '"') {
        c->pos++;
    }
    if (c->pos == start || c->pos - start > SD_NAME_MAX) {
        return TL_EINVAL;
    }
    *out = (struct tl__slice){c->p + start, c->pos - start};
    return 0;
}

/* Reads a quoted PARAM-VALUE into *store, undoing the escapes \" \\ and
 * \]. A backslash before any other byte stays, as RFC 5424 requires. */
static int sd_value(struct cursor *c, char **store, struct tl__slice *out)
{
    char *dst = *store;
    int ch;

    if (expect(c, '"') < 0) {
        return TL_EINVAL;
    }
    while ((ch = at(c)) != '"') {
        if (ch < 0) {
            return TL_EINVAL;
        }
        c->pos++;
        if (ch == '\\') {
            int next = at(c);

            if (next == '"' || next == '\\' || next == ']') {
                ch = next;
                c->pos++;
            }
        }
        *dst++ = (char)ch;
    }
    c->pos++;
    *out = (struct tl__slice){*store, (size_t)(dst - *store)};
    *store = dst;
    return 0;
}

static bool slice_is(struct tl__slice s, const char *lit)
{
    return s.p != NULL && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static int param_add(struct tl__syslog_msg *m, size_t *cap,
                     const struct tl__syslog_param *prm)
{
    if (slice_is(prm->sd_id, TL__SYSLOG_TENANT_SDID) &&
        slice_is(prm->name, "id") && m->tenant.p == NULL) {
        m->tenant = prm->value;
        return 0;
    }
    if (m->n_params == *cap) {
        size_t n = *cap ? *cap * 2 : 8;
        struct tl__syslog_param *p = realloc(m->params, n * sizeof(*p));

        if (p == NULL) {
            return -ENOMEM;
        }
        m->params = p;
        *cap = n;
    }
    m->params[m->n_params++] = *prm;
    return 0;
}

/* Reads one SD-ELEMENT, "[" SD-ID *(SP PARAM-NAME "=" PARAM-VALUE) "]". */
static int sd_element(struct cursor *c, struct tl__syslog_msg *m, char **store,
                      size_t *cap)
{
    struct tl__syslog_param prm;
    int rc;

    if (expect(c, '[') < 0 || sd_name(c, &prm.sd_id) < 0) {
        return TL_EINVAL;
    }
    while (at(c) == ' ') {
        c->pos++;
        if (sd_name(c, &prm.name) < 0 || expect(c, '=') < 0 ||
            sd_value(c, store, &prm.value) < 0) {
            return TL_EINVAL;
        }
        rc = param_add(m, cap, &prm);
        if (rc < 0) {
            return rc;
        }
    }
    return expect(c, ']');
}

static int structured_data(struct cursor *c, struct tl__syslog_msg *m)
{
    size_t cap = 0;
    char *store;
    int rc;

    if (at(c) == '-') {
        c->pos++;
        return 0;
    }
    if (at(c) != '[') {
        return TL_EINVAL;
    }
    /* Unescaped values are never longer than the text they come from. */
    m->values = malloc(c->len - c->pos);
    if (m->values == NULL) {
        return -ENOMEM;
    }
    store = m->values;
    while (at(c) == '[') {
        rc = sd_element(c, m, &store, &cap);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* ---- RFC 5424 ---- */

static void msg_set(struct tl__syslog_msg *m, struct cursor *c)
{
    static const char bom[3] = {'\xef', '\xbb', '\xbf'};
    const char *p = c->p + c->pos;
    size_t n = c->len - c->pos;

    if (n >= 3 && memcmp(p, bom, 3) == 0) {
        p += 3;
        n -= 3;
    }
    m->msg = (struct tl__slice){p, n};
}

static int header_5424(struct cursor *c, struct tl__syslog_msg *m)
{
    struct tl__slice ts;

    if (expect(c, '1') < 0 || expect(c, ' ') < 0 || header_token(c, &ts) < 0 ||
        expect(c, ' ') < 0) {
        return TL_EINVAL;
    }
    if (ts.p != NULL && tl__rfc3339_parse(ts.p, ts.len, &m->ts_ns) < 0) {
        return TL_EINVAL;
    }
    if (header_token(c, &m->host) < 0 || expect(c, ' ') < 0 ||
        header_token(c, &m->app) < 0 || expect(c, ' ') < 0 ||
        header_token(c, &m->procid) < 0 || expect(c, ' ') < 0 ||
        header_token(c, &m->msgid) < 0 || expect(c, ' ') < 0) {
        return TL_EINVAL;
    }
    return 0;
}

static int parse_5424(struct cursor *c, struct tl__syslog_msg *m)
{
    int rc = header_5424(c, m);

    if (rc < 0) {
        return rc;
    }
    rc = structured_data(c, m);
    if (rc < 0) {
        return rc;
    }
    if (c->pos < c->len && expect(c, ' ') < 0) {
        return TL_EINVAL;
    }
    msg_set(m, c);
    m->format = TL__SYSLOG_RFC5424;
    return 0;
}

/* ---- RFC 3164 ---- */

/* Reads "Mmm dd hh:mm:ss" (the day may be space-padded) into tm. */
static int timestamp_3164(struct cursor *c, struct tm *tm)
{
    int i;

    if (c->len - c->pos < 15) {
        return TL_EINVAL;
    }
    for (i = 0; i < 12; i++) {
        if (memcmp(c->p + c->pos, month_names[i], 3) == 0) {
            break;
        }
    }
    if (i == 12 || c->p[c->pos + 3] != ' ') {
        return TL_EINVAL;
    }
    tm->tm_mon = i;
    c->pos += 4;
    if (at(c) == ' ') {
        c->pos++;
        tm->tm_mday = digits(c, 1);
    } else {
        tm->tm_mday = digits(c, 2);
    }
    if (tm->tm_mday < 1 || expect(c, ' ') < 0) {
        return TL_EINVAL;
    }
    tm->tm_hour = digits(c, 2);
    if (tm->tm_hour < 0 || expect(c, ':') < 0) {
        return TL_EINVAL;
    }
    tm->tm_min = digits(c, 2);
    if (tm->tm_min < 0 || expect(c, ':') < 0) {
        return TL_EINVAL;
    }
    tm->tm_sec = digits(c, 2);
    return tm->tm_sec < 0 ? TL_EINVAL : 0;
}

/* Converts a local time without a year, taking the year of now_ns. A time
 * more than a day ahead of now is from last year (a December message
 * read in January). */
static int time_3164(struct tm *tm, int64_t now_ns, int64_t *ts_ns)
{
    time_t now = (time_t)(now_ns / 1000000000), t;
    struct tm local;

    if (localtime_r(&now, &local) == NULL) {
        return TL_EINVAL;
    }
    tm->tm_year = local.tm_year;
    if (!date_valid(tm)) {
        return TL_EINVAL;
    }
    tm->tm_isdst = -1;
    t = mktime(tm);
    if (t > now + 86400) {
        tm->tm_year--;
        tm->tm_isdst = -1;
        t = mktime(tm);
    }
    if (t == (time_t)-1) {
        return TL_EINVAL;
    }
    *ts_ns = (int64_t)t * 1000000000;
    return 0;
}

/* Reads "tag:" or "tag[pid]:" and the space after it. Returns 0, or
 * TL_EINVAL (the cursor unchanged) when the next token is not a tag. */
static int tag_3164(struct cursor *c, struct tl__syslog_msg *m)
{
    size_t start = c->pos, end = c->pos, pid = 0;

    while (end < c->len && c->p[end] != ' ' && c->p[end] != ':' &&
           c->p[end] != '[') {
        end++;
    }
    if (end == start || end - start > HEADER_TOKEN_MAX) {
        return TL_EINVAL;
    }
    if (end < c->len && c->p[end] == '[') {
        pid = end + 1;
        while (end < c->len && c->p[end] != ']' && c->p[end] != ' ') {
            end++;
        }
        if (end >= c->len || c->p[end] != ']' || end == pid) {
            return TL_EINVAL;
        }
        m->procid = (struct tl__slice){c->p + pid, end - pid};
        end++;
    }
    if (end >= c->len || c->p[end] != ':') {
        m->procid = (struct tl__slice){NULL, 0};
        return TL_EINVAL;
    }
    m->app = (struct tl__slice){c->p + start, (pid ? pid - 1 : end) - start};
    c->pos = end + 1;
    if (at(c) == ' ') {
        c->pos++;
    }
    return 0;
}

static int parse_3164(struct cursor *c, int64_t now_ns,
                      struct tl__syslog_msg *m)
{
    struct tm tm = {0};

    if (timestamp_3164(c, &tm) < 0 || time_3164(&tm, now_ns, &m->ts_ns) < 0) {
        return TL_EINVAL;
    }
    if (c->pos < c->len && expect(c, ' ') < 0) {
        return TL_EINVAL;
    }
    /* HOSTNAME is required by RFC 3164 but left out by local senders
     * such as syslog(3) and logger(1) on a Unix socket. A first token
     * that is a tag means there is no host. */
    if (c->pos < c->len && tag_3164(c, m) < 0) {
        if (header_token(c, &m->host) < 0) {
            return TL_EINVAL;
        }
        if (at(c) == ' ') {
            c->pos++;
            (void)tag_3164(c, m);
        }
    }
    m->msg = (struct tl__slice){c->p + c->pos, c->len - c->pos};
    m->format = TL__SYSLOG_RFC3164;
    return 0;
}

/* ---- the whole message ---- */

static void header_reset(struct tl__syslog_msg *m)
{
    free(m->params);
    free(m->values);
    m->params = NULL;
    m->values = NULL;
    m->n_params = 0;
    m->ts_ns = 0;
    m->host = m->app = m->procid = m->msgid = (struct tl__slice){NULL, 0};
    m->tenant = (struct tl__slice){NULL, 0};
}

static size_t strip_trailing(const char *text, size_t len)
{
    while (len > 0 && (text[len - 1] == '\0' || text[len - 1] == '\n' ||
                       text[len - 1] == '\r')) {
        len--;
    }
    return len;
}

int tl__syslog_parse(const char *text, size_t len, int64_t now_ns,
                     struct tl__syslog_msg *out)
{
    struct cursor c = {text, strip_trailing(text, len), 0};
    struct tl__syslog_msg m = {0};
    size_t body;
    int prival, rc;

    if (c.len == 0) {
        return TL_EINVAL;
    }
    prival = pri(&c);
    if (prival < 0) {
        m.format = TL__SYSLOG_UNPARSED;
        m.facility = -1;
        m.severity = TL_NOTICE;
        m.msg = (struct tl__slice){text, c.len};
        *out = m;
        return 0;
    }
    m.facility = prival >> 3;
    m.severity = prival & 7;
    body = c.pos;
    rc = parse_5424(&c, &m);
    if (rc == -ENOMEM) {
        header_reset(&m);
        return rc;
    }
    if (rc < 0) {
        header_reset(&m);
        c.pos = body;
        if (parse_3164(&c, now_ns, &m) < 0) {
            header_reset(&m);
            m.format = TL__SYSLOG_BARE;
            m.msg = (struct tl__slice){text + body, c.len - body};
        }
    }
    *out = m;
    return 0;
}

void tl__syslog_msg_fini(struct tl__syslog_msg *m)
{
    header_reset(m);
}

/* ---- RFC 6587 framing ---- */

void tl__syslog_framer_init(struct tl__syslog_framer *f, size_t max)
{
    memset(f, 0, sizeof(*f));
    tl__buf_init(&f->in);
    f->max = max;
}

void tl__syslog_framer_fini(struct tl__syslog_framer *f)
{
    tl__buf_free(&f->in);
    f->start = 0;
}

int tl__syslog_framer_push(struct tl__syslog_framer *f, const char *data,
                           size_t len)
{
    /* Drop consumed bytes first, so the buffer never contains more than
     * one partial frame (at most max bytes plus a header) and the new
     * data. */
    if (f->start > 0) {
        memmove(f->in.data, f->in.data + f->start, f->in.len - f->start);
        f->in.len -= f->start;
        f->start = 0;
    }
    tl__buf_add(&f->in, data, len);
    return f->in.oom ? -ENOMEM : 0;
}

static void emit(struct tl__syslog_framer *f, size_t offset, size_t n,
                 size_t consumed, const char **msg, size_t *len)
{
    *msg = f->in.data + f->start + offset;
    *len = n;
    f->start += consumed;
    f->scanned = 0;
}

static size_t find_end(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] == '\n' || p[i] == '\0') {
            return i;
        }
    }
    return n;
}

/* An LF- or NUL-terminated frame. */
static int lf_frame(struct tl__syslog_framer *f, bool at_eof, const char **msg,
                    size_t *len, bool *truncated)
{
    size_t avail = f->in.len - f->start;
    size_t scan = avail < f->max + 1 ? avail : f->max + 1;
    size_t end;

    /* Resume where the last search stopped, so a line that arrives a byte
     * at a time costs linear, not quadratic, time. */
    end = f->scanned +
          find_end(f->in.data + f->start + f->scanned, scan - f->scanned);
    f->scanned = end < scan ? 0 : scan;

    if (end < scan) {
        emit(f, 0, end, end + 1, msg, len);
        if (end > 0 && (*msg)[end - 1] == '\r') {
            (*len)--;
        }
        return 1;
    }
    if (avail > f->max) {
        emit(f, 0, f->max, f->max, msg, len);
        f->discard = true;
        *truncated = true;
        return 1;
    }
    if (at_eof) {
        emit(f, 0, avail, avail, msg, len);
        return 1;
    }
    return 0;
}

/* Returns the header length of an octet-counted frame and sets *n, 0 when
 * more bytes are needed, or -1 when the frame is not octet-counted. */
static long octet_header(const char *p, size_t avail, bool at_eof, size_t *n)
{
    size_t i = 0;

    *n = 0;
    while (i < avail && i < 9 && is_digit(p[i])) {
        *n = *n * 10 + (size_t)(p[i] - '0');
        i++;
    }
    if (i == avail) {
        /* Even after 9 digits, the next byte decides: a space makes it a
         * length, anything else a non-transparent frame. */
        return at_eof ? -1 : 0;
    }
    return p[i] == ' ' ? (long)i + 1 : -1;
}

static int octet_frame(struct tl__syslog_framer *f, bool at_eof,
                       const char **msg, size_t *len, bool *truncated)
{
    size_t avail = f->in.len - f->start, n, want;
    long hdr = octet_header(f->in.data + f->start, avail, at_eof, &n);

    if (hdr <= 0) {
        return (int)hdr;
    }
    want = n < f->max ? n : f->max;
    if (avail - (size_t)hdr >= want) {
        emit(f, (size_t)hdr, want, (size_t)hdr + want, msg, len);
        f->skip = n - want;
        *truncated = n > want;
        return 1;
    }
    if (at_eof) {
        emit(f, (size_t)hdr, avail - (size_t)hdr, avail, msg, len);
        *truncated = true;
        return 1;
    }
    return 0;
}

/* Consumes what a cut frame left behind. Returns true when done. */
static bool skip_rest(struct tl__syslog_framer *f)
{
    size_t avail = f->in.len - f->start, n;

    if (f->skip > 0) {
        f->scanned = 0;
        n = f->skip < avail ? f->skip : avail;
        f->start += n;
        f->skip -= n;
        return f->skip == 0;
    }
    if (f->discard) {
        f->scanned = 0;
        n = find_end(f->in.data + f->start, avail);
        if (n == avail) {
            f->start += avail;
            return false;
        }
        f->start += n + 1;
        f->discard = false;
    }
    return true;
}

int tl__syslog_framer_next(struct tl__syslog_framer *f, bool at_eof,
                           const char **msg, size_t *len, bool *truncated)
{
    int rc;

    *truncated = false;
    if (!skip_rest(f) || f->start == f->in.len) {
        return 0;
    }
    if (is_digit(f->in.data[f->start])) {
        rc = octet_frame(f, at_eof, msg, len, truncated);
        if (rc >= 0) {
            return rc;
        }
    }
    return lf_frame(f, at_eof, msg, len, truncated);
}
