/* Fuzzes tl__json_escape and tl__text_escape. JSON: the quoted output
 * parses with jansson as a string, contains no byte below 0x20 and no
 * raw U+2028/U+2029, and valid UTF-8 input comes back unchanged.
 * Terminal: the output is valid UTF-8 without C0, DEL or C1 controls. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/text.h"
#include "fuzz_util.h"

/* Scans the escaped output for bytes a reader could take as a line break
 * or a control: C0 (LF among them) and the UTF-8 of U+2028 and U+2029. */
static void json_bytes_check(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20) {
            fuzz_fail(s, len, "raw byte 0x%02x at offset %zu in JSON",
                      (unsigned char)s[i], i);
        }
        if (i + 2 < len && memcmp(s + i, "\xe2\x80", 2) == 0 &&
            ((unsigned char)s[i + 2] == 0xa8 ||
             (unsigned char)s[i + 2] == 0xa9)) {
            fuzz_fail(s, len, "raw U+2028 or U+2029 at offset %zu", i);
        }
    }
}

static void json_check(const uint8_t *data, size_t size)
{
    struct tl__buf b;
    json_error_t err;
    json_t *v, *orig;

    tl__buf_init(&b);
    tl__buf_addc(&b, '"');
    tl__json_escape(&b, (const char *)data, size);
    tl__buf_addc(&b, '"');
    if (b.oom) {
        abort();
    }
    json_bytes_check(b.data, b.len);
    /* jansson rejects the valid escape \u0000 unless JSON_ALLOW_NUL. */
    v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!json_is_string(v)) {
        fuzz_fail(b.data, b.len, "not a JSON string: %s at byte %d", err.text,
                  err.position);
    }
    /* json_stringn accepts exactly the well-formed UTF-8 inputs, which
     * must survive escaping byte for byte. */
    orig = size > 0 ? json_stringn((const char *)data, size) : json_string("");
    if (orig != NULL && (json_string_length(v) != size ||
                         memcmp(json_string_value(v), data, size) != 0)) {
        fuzz_fail(b.data, b.len, "valid UTF-8 input changed by escaping");
    }
    json_decref(orig);
    json_decref(v);
    tl__buf_free(&b);
}

/* True for a code point that a terminal may act on: C0, DEL, C1. */
static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

static void text_check(const uint8_t *data, size_t size)
{
    struct tl__buf b;
    size_t i = 0, n;
    uint32_t cp;
    json_t *utf8;

    tl__buf_init(&b);
    tl__text_escape(&b, (const char *)data, size);
    if (b.oom) {
        abort();
    }
    /* jansson's own UTF-8 check, independent of tl__utf8_decode. */
    utf8 = b.len > 0 ? json_stringn(b.data, b.len) : json_string("");
    if (utf8 == NULL) {
        fuzz_fail(b.data, b.len, "the terminal text is not valid UTF-8");
    }
    json_decref(utf8);
    while (i < b.len) {
        n = tl__utf8_decode((const unsigned char *)b.data + i, b.len - i, &cp);
        if (n == 0) {
            fuzz_fail(b.data, b.len, "invalid UTF-8 at offset %zu", i);
        }
        if (is_control(cp) || cp == 0x2028 || cp == 0x2029) {
            fuzz_fail(b.data, b.len, "control U+%04X at offset %zu",
                      (unsigned)cp, i);
        }
        i += n;
    }
    tl__buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_check(data, size);
    text_check(data, size);
    return 0;
}
