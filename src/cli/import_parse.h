/* The parser behind `tenantlog import`: splits legacy log text into lines
 * and classifies each line as OpenStack, RFC 3164 syslog or plain text.
 * The functions do no I/O, and every span points into the caller's bytes. */
#ifndef TL_CLI_IMPORT_PARSE_H
#define TL_CLI_IMPORT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tenantlog/tenantlog.h"

/* Maximum length of an imported line, in bytes. A longer line is rejected
 * ("line too long"), so that even a line of control bytes, six times as
 * long once escaped as JSON, fits in one native protocol frame (1 MiB). */
#define TL__IMPORT_LINE_MAX (128u * 1024u)

enum tl__import_format {
    TL__IMPORT_AUTO = 0, /* per line: OpenStack, then syslog, then plain */
    TL__IMPORT_OPENSTACK,
    TL__IMPORT_SYSLOG,
    TL__IMPORT_PLAIN
};

enum tl__import_kind {
    TL__LINE_PARSED = 1, /* a known format with its timestamp */
    TL__LINE_UNPARSED,   /* imported as plain text, stamped at import */
    TL__LINE_REJECTED    /* not imported */
};

/* Bytes inside a line; p is NULL when the value is absent. */
struct tl__span {
    const char *p;
    size_t len;
};

/* The request of an OpenStack API access line:
 * 10.11.10.1 "POST /v2/... HTTP/1.1" status: 202 len: 733 time: 0.66 */
struct tl__import_api {
    struct tl__span client; /* the first token: the client address(es) */
    struct tl__span method;
    struct tl__span path;
    int status; /* HTTP status code, 100 to 599 */
};

struct tl__import_line {
    enum tl__import_kind kind;
    enum tl__import_format format; /* the format that matched */
    const char *reason; /* static text for unparsed and rejected lines */
    int64_t ts_ns;      /* UTC, or 0 for unparsed lines */
    enum tl_level level;
    struct tl__span logger; /* OpenStack logger or syslog tag */
    struct tl__span msg;
    struct tl__span tenant;     /* OpenStack context, absent for "-" */
    struct tl__span request_id; /* "req-...", kept whole */
    struct tl__span user;
    struct tl__span source_file; /* OpenStack, the optional first token */
    struct tl__span host;        /* syslog */
    int64_t pid;                 /* -1 when absent */
};

struct tl__import_opts {
    enum tl__import_format format;
    int year; /* syslog timestamps carry no year */
};

/*
 * Finds the line that starts at *pos in data[0..len). A line ends at LF,
 * CRLF or a bare CR, and the last one may lack a terminator. A terminator
 * at the very end does not start another line. Sets *line and *line_len
 * (without the terminator), advances *pos past the terminator and
 * returns true, or returns false when no bytes are left.
 */
bool tl__import_next_line(const char *data, size_t len, size_t *pos,
                          const char **line, size_t *line_len);

/* Classifies one line (without its terminator) and fills *out. The line
 * may hold any bytes, NUL and invalid UTF-8 included. */
void tl__import_parse_line(const char *line, size_t len,
                           const struct tl__import_opts *opts,
                           struct tl__import_line *out);

/* Extracts the API request from an OpenStack message. Returns 0, or
 * TL_EINVAL when the message is not an API access line. */
int tl__import_parse_api(const char *msg, size_t len,
                         struct tl__import_api *out);

/* Converts a civil UTC date and time to nanoseconds since the Unix epoch.
 * Returns 0, or TL_EINVAL for a field out of range (Feb 30, hour 24). */
int tl__import_civil_ns(int year, int month, int day, int hour, int minute,
                        int second, long nsec, int64_t *out);

#endif
