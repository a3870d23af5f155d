/* Line splitting and per-line format detection for `tenantlog import`.
 * Formats: OpenStack (oslo.log), RFC 3164 syslog, and plain text. */
#include "import_parse.h"

#include <string.h>
#include <time.h>

/* A read position in one line. */
struct cursor {
    const char *p;
    const char *end;
};

static const char *const month_names[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

bool tl__import_next_line(const char *data, size_t len, size_t *pos,
                          const char **line, size_t *line_len)
{
    size_t start = *pos;
    size_t i = start;

    if (start >= len) {
        return false;
    }
    while (i < len && data[i] != '\n' && data[i] != '\r') {
        i++;
    }
    *line = data + start;
    *line_len = i - start;
    if (i < len && data[i] == '\r' && i + 1 < len && data[i + 1] == '\n') {
        i++;
    }
    *pos = i < len ? i + 1 : len;
    return true;
}

static bool is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int tl__import_civil_ns(int year, int month, int day, int hour, int minute,
                        int second, long nsec, int64_t *out)
{
    static const int month_days[12] = {31, 28, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};
    struct tm tm = {0};
    int days;
    time_t secs;

    /* int64 nanoseconds reach from 1677 to 2262. */
    if (year < 1678 || year > 2261 || month < 1 || month > 12) {
        return TL_EINVAL;
    }
    days = month_days[month - 1] + (month == 2 && is_leap(year));
    if (day < 1 || day > days || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60 || nsec < 0 ||
        nsec > 999999999L) {
        return TL_EINVAL;
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second; /* a leap second 60 becomes :00 of the next minute */
    secs = timegm(&tm);
    *out = (int64_t)secs * 1000000000 + nsec;
    return 0;
}

static bool at_end(const struct cursor *c)
{
    return c->p >= c->end;
}

static bool take_char(struct cursor *c, char ch)
{
    if (at_end(c) || *c->p != ch) {
        return false;
    }
    c->p++;
    return true;
}

/* Reads between min and max decimal digits into *out. */
static bool take_number(struct cursor *c, size_t min, size_t max, long *out)
{
    size_t n = 0;
    long v = 0;

    while (n < max && !at_end(c) && *c->p >= '0' && *c->p <= '9') {
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    if (n < min) {
        return false;
    }
    *out = v;
    return true;
}

/* Reads a run of bytes other than space, and fails when the run is
 * empty. */
static bool take_token(struct cursor *c, struct tl__span *out)
{
    const char *start = c->p;

    while (!at_end(c) && *c->p != ' ') {
        c->p++;
    }
    if (c->p == start) {
        return false;
    }
    out->p = start;
    out->len = (size_t)(c->p - start);
    return true;
}

static void skip_spaces(struct cursor *c)
{
    while (!at_end(c) && *c->p == ' ') {
        c->p++;
    }
}

static void take_rest(struct cursor *c, struct tl__span *out)
{
    out->p = c->p;
    out->len = (size_t)(c->end - c->p);
    c->p = c->end;
}

/* Reads "HH:MM:SS" into hms[0..2]. */
static bool take_clock(struct cursor *c, long hms[3])
{
    return take_number(c, 2, 2, &hms[0]) && take_char(c, ':') &&
           take_number(c, 2, 2, &hms[1]) && take_char(c, ':') &&
           take_number(c, 2, 2, &hms[2]);
}

/* Reads an optional fraction of a second, ".mmm" (1 to 9 digits), as
 * nanoseconds. */
static bool take_fraction(struct cursor *c, long *nsec)
{
    const char *start;
    long digits;
    size_t n;

    *nsec = 0;
    if (!take_char(c, '.') && !take_char(c, ',')) {
        return true;
    }
    start = c->p;
    if (!take_number(c, 1, 9, &digits)) {
        return false;
    }
    for (n = (size_t)(c->p - start); n < 9; n++) {
        digits *= 10;
    }
    *nsec = digits;
    return true;
}

/* Reads "YYYY-MM-DD HH:MM:SS[.fff]" as UTC. */
static bool take_iso_time(struct cursor *c, int64_t *ts_ns)
{
    long year, month, day, hms[3], nsec;

    if (!take_number(c, 4, 4, &year) || !take_char(c, '-') ||
        !take_number(c, 2, 2, &month) || !take_char(c, '-') ||
        !take_number(c, 2, 2, &day) || !take_char(c, ' ') ||
        !take_clock(c, hms) || !take_fraction(c, &nsec)) {
        return false;
    }
    return tl__import_civil_ns((int)year, (int)month, (int)day, (int)hms[0],
                               (int)hms[1], (int)hms[2], nsec, ts_ns) == 0;
}

static bool starts_with_date(const struct cursor *c)
{
    struct cursor probe = *c;
    long v;

    return take_number(&probe, 4, 4, &v) && take_char(&probe, '-') &&
           take_number(&probe, 2, 2, &v) && take_char(&probe, '-');
}

static bool span_is(const struct tl__span *s, const char *text)
{
    size_t n = strlen(text);

    return s->len == n && memcmp(s->p, text, n) == 0;
}

/* Parses an OpenStack level name. OpenStack's AUDIT level, which its log
 * module defines as logging.INFO + 1, becomes notice, the syslog
 * severity between info and warning. */
static bool parse_level(const struct tl__span *s, enum tl_level *out)
{
    char name[16];

    if (s->len == 0 || s->len >= sizeof(name)) {
        return false;
    }
    memcpy(name, s->p, s->len);
    name[s->len] = '\0';
    if (strcmp(name, "AUDIT") == 0) {
        *out = TL_NOTICE;
        return true;
    }
    return tl_level_parse(name, out) == 0;
}

/* Stores one context token; "-" means the value is absent. */
static void set_context_value(struct tl__span *dst, const struct tl__span *v)
{
    if (v->len == 1 && v->p[0] == '-') {
        return;
    }
    *dst = *v;
}

/*
 * Reads the request context "[req-<id> <user> <tenant> ...]" or "[-]"
 * when the cursor is at one. The members after the tenant (domains) are
 * ignored. Anything else in brackets, such as "[instance: ...]", belongs
 * to the message and is left unread.
 */
static void take_context(struct cursor *c, struct tl__import_line *out)
{
    struct cursor in = *c;
    struct tl__span tok[3] = {{0}};
    const char *close;
    size_t n = 0;

    if (!take_char(&in, '[')) {
        return;
    }
    close = memchr(in.p, ']', (size_t)(in.end - in.p));
    if (close == NULL) {
        return;
    }
    in.end = close;
    while (n < 3 && take_token(&in, &tok[n])) {
        n++;
        skip_spaces(&in);
    }
    if (n == 1 && span_is(&tok[0], "-")) {
        c->p = close + 1;
        return;
    }
    if (n == 0 || tok[0].len < 5 || memcmp(tok[0].p, "req-", 4) != 0) {
        return;
    }
    out->request_id = tok[0];
    if (n > 1) {
        set_context_value(&out->user, &tok[1]);
    }
    if (n > 2) {
        set_context_value(&out->tenant, &tok[2]);
    }
    c->p = close + 1;
}

/* Parses "[<source-file> ]YYYY-MM-DD HH:MM:SS.mmm <pid> <LEVEL>
 * <logger> [<context>] <message>". */
static bool parse_openstack(const char *line, size_t len,
                            struct tl__import_line *out)
{
    struct cursor c = {line, line + len};
    struct tl__span tok;
    long pid;

    if (!starts_with_date(&c)) {
        if (!take_token(&c, &out->source_file) || !take_char(&c, ' ')) {
            return false;
        }
    }
    if (!take_iso_time(&c, &out->ts_ns) || !take_char(&c, ' ') ||
        !take_number(&c, 1, 10, &pid) || !take_char(&c, ' ') ||
        !take_token(&c, &tok) || !parse_level(&tok, &out->level) ||
        !take_char(&c, ' ') || !take_token(&c, &out->logger)) {
        return false;
    }
    out->pid = pid;
    skip_spaces(&c);
    take_context(&c, out);
    skip_spaces(&c);
    take_rest(&c, &out->msg);
    return true;
}

/* Reads "Mmm dd hh:mm:ss" (the day may be space-padded) with the given
 * year, as UTC. */
static bool take_syslog_time(struct cursor *c, int year, int64_t *ts_ns)
{
    long day, hms[3];
    int month = 0;

    if (c->end - c->p < 4) {
        return false;
    }
    while (month < 12 && memcmp(c->p, month_names[month], 3) != 0) {
        month++;
    }
    if (month == 12) {
        return false;
    }
    c->p += 3;
    if (!take_char(c, ' ')) {
        return false;
    }
    (void)take_char(c, ' ');
    if (!take_number(c, 1, 2, &day) || !take_char(c, ' ') ||
        !take_clock(c, hms)) {
        return false;
    }
    return tl__import_civil_ns(year, month + 1, (int)day, (int)hms[0],
                               (int)hms[1], (int)hms[2], 0, ts_ns) == 0;
}

/* Reads "tag[pid]: " or "tag: " (the space is optional) when the cursor
 * is at one, storing the tag as the logger. */
static bool take_tag(struct cursor *c, struct tl__import_line *out)
{
    struct cursor in = *c;
    const char *start = in.p;
    long pid = -1;

    while (!at_end(&in) && *in.p != ' ' && *in.p != '[' && *in.p != ':') {
        in.p++;
    }
    if (in.p == start) {
        return false;
    }
    out->logger.p = start;
    out->logger.len = (size_t)(in.p - start);
    if (take_char(&in, '[') &&
        (!take_number(&in, 1, 10, &pid) || !take_char(&in, ']'))) {
        out->logger.p = NULL;
        return false;
    }
    if (!take_char(&in, ':')) {
        out->logger.p = NULL;
        return false;
    }
    (void)take_char(&in, ' ');
    out->pid = pid;
    *c = in;
    return true;
}

/* Reads an optional "<PRI>" prefix, whose low three bits are the
 * severity (PRI = facility * 8 + severity, RFC 5424 section 6.2.1). */
static bool take_priority(struct cursor *c, enum tl_level *level)
{
    long pri;

    if (!take_char(c, '<')) {
        return true;
    }
    if (!take_number(c, 1, 3, &pri) || pri > 191 || !take_char(c, '>')) {
        return false;
    }
    *level = (enum tl_level)(pri & 7);
    return true;
}

/*
 * Parses "Mmm dd hh:mm:ss host tag[pid]: message". Without a "<PRI>"
 * prefix the level is notice, as in logger(1)'s default priority
 * user.notice. A missing host or tag is tolerated. The first token is
 * taken as the tag when it ends in ':' or "[pid]:".
 */
static bool parse_syslog(const char *line, size_t len, int year,
                         struct tl__import_line *out)
{
    struct cursor c = {line, line + len};

    out->level = TL_NOTICE;
    if (!take_priority(&c, &out->level) ||
        !take_syslog_time(&c, year, &out->ts_ns) || !take_char(&c, ' ')) {
        return false;
    }
    skip_spaces(&c);
    if (!take_tag(&c, out)) {
        if (!take_token(&c, &out->host)) {
            return false;
        }
        skip_spaces(&c);
        (void)take_tag(&c, out);
    }
    take_rest(&c, &out->msg);
    return true;
}

static bool is_blank(const char *line, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t') {
            return false;
        }
    }
    return true;
}

static void set_plain(const char *line, size_t len, const char *reason,
                      struct tl__import_line *out)
{
    struct tl__import_line plain = {0};

    plain.kind = TL__LINE_UNPARSED;
    plain.format = TL__IMPORT_PLAIN;
    plain.reason = reason;
    plain.level = TL_INFO;
    plain.pid = -1;
    plain.msg.p = line;
    plain.msg.len = len;
    *out = plain;
}

/* Tries one format on a fresh result; false leaves *out untouched. */
static bool try_format(const char *line, size_t len, int year,
                       enum tl__import_format format,
                       struct tl__import_line *out)
{
    struct tl__import_line r = {0};
    bool ok;

    r.kind = TL__LINE_PARSED;
    r.format = format;
    r.pid = -1;
    if (format == TL__IMPORT_OPENSTACK) {
        ok = parse_openstack(line, len, &r);
    } else {
        ok = parse_syslog(line, len, year, &r);
    }
    if (ok) {
        *out = r;
    }
    return ok;
}

void tl__import_parse_line(const char *line, size_t len,
                           const struct tl__import_opts *opts,
                           struct tl__import_line *out)
{
    enum tl__import_format f = opts->format;

    memset(out, 0, sizeof(*out));
    out->pid = -1;
    if (is_blank(line, len)) {
        out->kind = TL__LINE_REJECTED;
        out->reason = "empty line";
        return;
    }
    if (len > TL__IMPORT_LINE_MAX) {
        out->kind = TL__LINE_REJECTED;
        out->reason = "line too long";
        return;
    }
    if ((f == TL__IMPORT_AUTO || f == TL__IMPORT_OPENSTACK) &&
        try_format(line, len, opts->year, TL__IMPORT_OPENSTACK, out)) {
        return;
    }
    if ((f == TL__IMPORT_AUTO || f == TL__IMPORT_SYSLOG) &&
        try_format(line, len, opts->year, TL__IMPORT_SYSLOG, out)) {
        return;
    }
    if (f == TL__IMPORT_OPENSTACK) {
        set_plain(line, len, "not an OpenStack line", out);
    } else if (f == TL__IMPORT_SYSLOG) {
        set_plain(line, len, "not a syslog line", out);
    } else if (f == TL__IMPORT_PLAIN) {
        set_plain(line, len, "plain format requested", out);
    } else {
        /* Lines of Apache, HDFS, Android and other logs start with a
         * timestamp too, in a format that the importer does not read. */
        set_plain(line, len, "unknown format", out);
    }
}

/* Reads an HTTP method: 1 to 16 uppercase letters. */
static bool take_method(struct cursor *c, struct tl__span *out)
{
    const char *start = c->p;

    while (!at_end(c) && *c->p >= 'A' && *c->p <= 'Z' && c->p - start < 16) {
        c->p++;
    }
    out->p = start;
    out->len = (size_t)(c->p - start);
    return out->len > 0;
}

/* Reads the request target up to the next space or quote. */
static bool take_path(struct cursor *c, struct tl__span *out)
{
    const char *start = c->p;

    while (!at_end(c) && *c->p != ' ' && *c->p != '"') {
        c->p++;
    }
    out->p = start;
    out->len = (size_t)(c->p - start);
    return out->len > 0;
}

int tl__import_parse_api(const char *msg, size_t len,
                         struct tl__import_api *out)
{
    struct cursor c = {msg, msg + len};
    struct tl__import_api api = {{0}};
    const char *quote;
    long status;

    if (!take_token(&c, &api.client) || !take_char(&c, ' ') ||
        !take_char(&c, '"') || !take_method(&c, &api.method) ||
        !take_char(&c, ' ') || !take_path(&c, &api.path)) {
        return TL_EINVAL;
    }
    quote = memchr(c.p, '"', (size_t)(c.end - c.p));
    if (quote == NULL) {
        return TL_EINVAL;
    }
    c.p = quote + 1;
    skip_spaces(&c);
    if (c.end - c.p < 7 || memcmp(c.p, "status:", 7) != 0) {
        return TL_EINVAL;
    }
    c.p += 7;
    skip_spaces(&c);
    if (!take_number(&c, 3, 3, &status) || status < 100 || status > 599 ||
        (!at_end(&c) && *c.p != ' ')) {
        return TL_EINVAL;
    }
    api.status = (int)status;
    *out = api;
    return 0;
}
