/* Helpers shared by the libFuzzer targets: a reader that splits the fuzz
 * input into typed values, and the property checks on JSON output. A
 * failed check prints what was wrong and aborts, which libFuzzer reports
 * as a crash and saves the input. */
#ifndef TL_FUZZ_UTIL_H
#define TL_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A read position in the fuzz input. Reads past the end return zeros and
 * empty strings, so every input is usable. */
struct fuzz_in {
    const uint8_t *p;
    size_t len;
};

uint8_t fuzz_u8(struct fuzz_in *in);
uint64_t fuzz_u64(struct fuzz_in *in);

/* Takes a run of bytes whose length is the next byte (at most max). The
 * run points into the input and may contain NUL bytes. */
const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len);

/* Like fuzz_bytes, but returns a NUL-terminated copy (free it), cut at
 * the first NUL byte. */
char *fuzz_cstr(struct fuzz_in *in, size_t max);

/* Prints "property violated: ..." with the text shown escaped, and
 * aborts. */
__attribute__((noreturn, format(printf, 3, 4))) void
fuzz_fail(const char *text, size_t len, const char *fmt, ...);

/*
 * Checks that text[0..len) is one JSON object on one line: it ends with
 * exactly one LF, has no other byte below 0x20, and jansson parses the
 * line as an object. "\u0000" (JSON_ALLOW_NUL) and integers beyond
 * int64 (JSON_DECODE_INT_AS_REAL) are valid JSON, so both are accepted.
 * With unique_keys, a member name that appears twice is a violation too.
 * Returns the parsed object (a new reference).
 */
json_t *fuzz_json_line(const char *text, size_t len, bool unique_keys);

#endif
