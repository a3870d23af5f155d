/* Input splitting and JSON property checks for the fuzz targets. */
#include "fuzz_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t fuzz_u8(struct fuzz_in *in)
{
    uint8_t v;

    if (in->len == 0) {
        return 0;
    }
    v = in->p[0];
    in->p++;
    in->len--;
    return v;
}

uint64_t fuzz_u64(struct fuzz_in *in)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++) {
        v = v << 8 | fuzz_u8(in);
    }
    return v;
}

const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len)
{
    const uint8_t *p;
    size_t n = fuzz_u8(in);

    if (n > max) {
        n = max;
    }
    if (n > in->len) {
        n = in->len;
    }
    p = in->p;
    in->p += n;
    in->len -= n;
    *len = n;
    return p;
}

char *fuzz_cstr(struct fuzz_in *in, size_t max)
{
    size_t n;
    const uint8_t *p = fuzz_bytes(in, max, &n);
    char *s = malloc(n + 1);

    if (s == NULL) {
        abort();
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Prints text with every byte outside printable ASCII as \xNN. */
static void show(const char *text, size_t len)
{
    size_t i;

    for (i = 0; i < len && i < 4096; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c >= 0x20 && c < 0x7f && c != '\\') {
            fputc(c, stderr);
        } else {
            fprintf(stderr, "\\x%02x", c);
        }
    }
    fputc('\n', stderr);
}

void fuzz_fail(const char *text, size_t len, const char *fmt, ...)
{
    va_list ap;

    fputs("property violated: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (text != NULL) {
        fputs("output: ", stderr);
        show(text, len);
    }
    abort();
}

json_t *fuzz_json_line(const char *text, size_t len, bool unique_keys)
{
    size_t flags = JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL;
    json_error_t err;
    json_t *obj;
    size_t i;

    if (len == 0 || text[len - 1] != '\n') {
        fuzz_fail(text, len, "the line does not end with LF");
    }
    for (i = 0; i + 1 < len; i++) {
        if ((unsigned char)text[i] < 0x20) {
            fuzz_fail(text, len, "raw byte 0x%02x at offset %zu",
                      (unsigned char)text[i], i);
        }
    }
    obj = json_loadb(text, len - 1, flags, &err);
    if (!json_is_object(obj)) {
        fuzz_fail(text, len, "not a JSON object: %s at byte %d", err.text,
                  err.position);
    }
    if (unique_keys) {
        json_t *strict =
            json_loadb(text, len - 1, flags | JSON_REJECT_DUPLICATES, &err);

        if (strict == NULL) {
            fuzz_fail(text, len, "%s at byte %d", err.text, err.position);
        }
        json_decref(strict);
    }
    return obj;
}
