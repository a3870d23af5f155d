/* A growable byte buffer: amortized doubling, sticky out-of-memory flag. */
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tl__buf_init(struct tl__buf *b)
{
    memset(b, 0, sizeof(*b));
}

void tl__buf_free(struct tl__buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void tl__buf_reset(struct tl__buf *b)
{
    b->len = 0;
    b->oom = 0;
}

int tl__buf_reserve(struct tl__buf *b, size_t n)
{
    size_t want;
    char *p;

    if (b->oom) {
        return -ENOMEM;
    }
    if (n < b->cap - b->len) {
        return 0;
    }
    want = b->cap ? b->cap : 256;
    while (want - b->len <= n) {
        if (want > ((size_t)-1) / 2) {
            b->oom = 1;
            return -ENOMEM;
        }
        want *= 2;
    }
    p = realloc(b->data, want);
    if (p == NULL) {
        b->oom = 1;
        return -ENOMEM;
    }
    b->data = p;
    b->cap = want;
    return 0;
}

void tl__buf_add(struct tl__buf *b, const void *p, size_t n)
{
    if (n == 0 || tl__buf_reserve(b, n) != 0) {
        return;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void tl__buf_addc(struct tl__buf *b, char c)
{
    tl__buf_add(b, &c, 1);
}

void tl__buf_adds(struct tl__buf *b, const char *s)
{
    tl__buf_add(b, s, strlen(s));
}

void tl__buf_printf(struct tl__buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || tl__buf_reserve(b, (size_t)n + 1) != 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *tl__buf_cstr(struct tl__buf *b)
{
    if (tl__buf_reserve(b, 1) != 0) {
        return "";
    }
    b->data[b->len] = '\0';
    return b->data;
}
