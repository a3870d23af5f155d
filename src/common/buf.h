/* A growable byte buffer used by formatters, the protocol and the CLI. */
#ifndef TL_COMMON_BUF_H
#define TL_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct tl__buf {
    char *data;
    size_t len;
    size_t cap;
    int oom; /* set once an allocation failed; later appends do nothing */
};

void tl__buf_init(struct tl__buf *b);
void tl__buf_free(struct tl__buf *b);
void tl__buf_reset(struct tl__buf *b);
/* Makes room for n more bytes. Returns 0 or -ENOMEM (and sets oom). */
int tl__buf_reserve(struct tl__buf *b, size_t n);
void tl__buf_add(struct tl__buf *b, const void *p, size_t n);
void tl__buf_addc(struct tl__buf *b, char c);
void tl__buf_adds(struct tl__buf *b, const char *s);
void tl__buf_printf(struct tl__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Returns data as a NUL-terminated string (the NUL is not counted). */
const char *tl__buf_cstr(struct tl__buf *b);

#endif
