/* Syslog input: a pure parser for RFC 5424 and RFC 3164 messages and the
 * RFC 6587 stream framer (octet counting, or LF/NUL-terminated frames).
 * Nothing here does I/O, so both can be unit-tested and fuzzed. */
#ifndef TL_COMMON_SYSLOG_H
#define TL_COMMON_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Maximum message size the daemon accepts, in bytes. Longer messages are
 * truncated. */
#define TL__SYSLOG_MAX (64u * 1024)

/* Private enterprise number of the tenant structured data element,
 * [tenant@32473 id="acme"]. 32473 is the number RFC 5612 reserves for
 * documentation. */
#define TL__SYSLOG_TENANT_SDID "tenant@32473"

/* A borrowed run of bytes, not NUL-terminated. p is NULL when the value
 * is absent. */
struct tl__slice {
    const char *p;
    size_t len;
};

enum tl__syslog_format {
    TL__SYSLOG_UNPARSED = 0, /* no valid PRI, so the whole text is msg */
    TL__SYSLOG_BARE,         /* "<PRI>text" with text as msg */
    TL__SYSLOG_RFC3164,
    TL__SYSLOG_RFC5424
};

/* One structured data parameter, [sd_id name="value"]. */
struct tl__syslog_param {
    struct tl__slice sd_id;
    struct tl__slice name;
    struct tl__slice value; /* unescaped, points into msg->values */
};

/* A parsed message. Slices point into the input text or into values, so
 * the input must outlive the message. */
struct tl__syslog_msg {
    enum tl__syslog_format format;
    int facility;  /* 0..23, or -1 when unparsed */
    int severity;  /* 0..7, or 5 (notice) when unparsed */
    int64_t ts_ns; /* from the header, or 0 when absent */
    struct tl__slice host;
    struct tl__slice app; /* RFC 5424 APP-NAME or RFC 3164 tag */
    struct tl__slice procid;
    struct tl__slice msgid;
    struct tl__slice tenant; /* id of [tenant@32473 id="..."], unescaped */
    struct tl__slice msg;    /* without a leading UTF-8 BOM */
    struct tl__syslog_param *params; /* every other SD parameter */
    size_t n_params;
    char *values; /* owns the unescaped SD values */
};

/*
 * Parses one message of len bytes. Trailing NUL, LF and CR bytes are
 * ignored. now_ns is the receipt time. An RFC 3164 timestamp has no year,
 * so it takes the year of now_ns in local time. A message that is not
 * valid RFC 5424 after its PRI falls back to RFC 3164, then to BARE, so
 * no text is lost. Returns 0 and fills *out (release it with
 * tl__syslog_msg_fini), TL_EINVAL for an empty message (nothing is
 * filled), or -ENOMEM.
 */
int tl__syslog_parse(const char *text, size_t len, int64_t now_ns,
                     struct tl__syslog_msg *out);

void tl__syslog_msg_fini(struct tl__syslog_msg *m);

/* Returns the name of facility 0..23 ("kern", "user", "auth", "local7"),
 * or NULL when out of range. */
const char *tl__syslog_facility_name(int facility);

/*
 * Parses an RFC 3339 timestamp of len bytes, such as
 * 2003-10-11T22:14:15.003Z or 2003-08-24T05:14:15.000003-07:00, into
 * nanoseconds since the Unix epoch (UTC). Accepts up to 9 fraction digits
 * and lowercase 't' and 'z'. Returns 0 or TL_EINVAL.
 */
int tl__rfc3339_parse(const char *s, size_t len, int64_t *ts_ns);

/*
 * Splits a syslog byte stream into messages (RFC 6587). A frame that
 * starts with a digit uses octet counting, "LEN SP MSG". Any other frame
 * ends at LF or NUL (non-transparent framing), and a CR before the LF is
 * dropped. A message longer than max is cut to max bytes and flagged as
 * truncated, and the rest of its frame is skipped.
 */
struct tl__syslog_framer {
    struct tl__buf in; /* bytes received and not yet consumed */
    size_t start;      /* offset of the first unconsumed byte in in */
    size_t max;        /* largest message, bytes */
    size_t skip;       /* bytes still to skip of a cut octet frame */
    size_t scanned;    /* bytes after start already searched for LF/NUL */
    bool discard;      /* skipping to the end of a cut LF/NUL frame */
};

void tl__syslog_framer_init(struct tl__syslog_framer *f, size_t max);
void tl__syslog_framer_fini(struct tl__syslog_framer *f);

/* Appends len received bytes. Returns 0 or -ENOMEM. */
int tl__syslog_framer_push(struct tl__syslog_framer *f, const char *data,
                           size_t len);

/*
 * Takes the next complete message. Returns 1 and sets *msg and *len (the
 * bytes stay valid until the next push or fini) and *truncated, or 0 when
 * more bytes are needed. With at_eof true, the bytes left over at the end
 * of the stream are returned as a last message, flagged as truncated when
 * they were an incomplete octet-counted frame.
 */
int tl__syslog_framer_next(struct tl__syslog_framer *f, bool at_eof,
                           const char **msg, size_t *len, bool *truncated);

#endif
