/* Text helpers shared by the library, the daemon and the CLI: escaping,
 * tenant ids, timestamps. */
#ifndef TL_COMMON_TEXT_H
#define TL_COMMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TL__TENANT_MAX 64
#define TL__ID_MAX 128

/* Appends s[0..len) as the body of a JSON string (no quotes). Escapes
 * quote, backslash, C0, DEL, C1, U+2028 and U+2029; each byte that is not
 * part of well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at
 * most U+10FFFF) becomes U+FFFD. */
void tl__json_escape(struct tl__buf *b, const char *s, size_t len);

/* Appends s as a quoted JSON string; NULL becomes null. */
void tl__json_str(struct tl__buf *b, const char *s);

/* Appends d as a JSON number with 17 significant digits, whatever the
 * locale. JSON has no NaN or infinity, so those become the strings "NaN",
 * "Infinity" and "-Infinity". */
void tl__json_double(struct tl__buf *b, double d);

/* Appends s[0..len) for a terminal: printable UTF-8 stays, everything
 * else (controls, DEL, C1, invalid bytes) becomes \xNN or \u{NNNN}. */
void tl__text_escape(struct tl__buf *b, const char *s, size_t len);

/* Returns the length of the valid UTF-8 sequence at s (1 to 4), or 0 when
 * the bytes at s do not start one; *cp receives the code point. */
size_t tl__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Validates a tenant id of len bytes (see tl_tenant_valid). */
bool tl__tenant_valid(const char *s, size_t len);

/* Formats a message into err (errlen bytes, truncated), unless err is
 * NULL or errlen is 0. */
void tl__errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Wall-clock time in nanoseconds since the Unix epoch. */
int64_t tl__now_ns(void);

/* Appends ts_ns as RFC 3339 UTC with microseconds:
 * 2017-05-16T00:00:00.008000Z. */
void tl__time_rfc3339(struct tl__buf *b, int64_t ts_ns);

#endif
