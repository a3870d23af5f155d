/* Whether two file sinks can reach the same file (see overlap.h). Each
 * template, and each name derived from it, becomes a pattern of character
 * sets. Two patterns meet when one string matches both, which a walk over
 * pairs of pattern positions decides. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "overlap.h"

#define TEMPLATE_MAX 1024
#define TENANT_FIRST                                                           \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define TENANT_CHARS TENANT_FIRST "._-"
/* Templates with more {tenant} than this are compared as text only:
 * each one multiplies the patterns to try by 3. */
#define HOLES_MAX 2

/* One position of a pattern: a set of bytes, taken once, or at most
 * once (opt), or any number of times (star) including none. */
struct tok {
    uint8_t set[32];
    bool star, opt;
};

struct pat {
    struct tok *t;
    size_t n, cap;
    bool oom;
};

/* Appends a position that takes a byte of chars (of any byte but NUL
 * when any), once, at most once (opt) or any number of times (star). */
static void pat_push(struct pat *p, const char *chars, bool any, bool star,
                     bool opt)
{
    struct tok *grown;

    if (p->n == p->cap) {
        grown = realloc(p->t, (p->cap ? p->cap * 2 : 64) * sizeof(*grown));
        if (grown == NULL) {
            p->oom = true;
            return;
        }
        p->t = grown;
        p->cap = p->cap ? p->cap * 2 : 64;
    }
    memset(p->t[p->n].set, any ? 0xff : 0, sizeof(p->t[p->n].set));
    p->t[p->n].set[0] &= (uint8_t)~1u; /* never NUL */
    for (; !any && *chars != '\0'; chars++) {
        p->t[p->n].set[(uint8_t)*chars >> 3] |= (uint8_t)(1u << (*chars & 7));
    }
    p->t[p->n].opt = opt;
    p->t[p->n++].star = star;
}

static void pat_add(struct pat *p, const char *chars, bool any, bool star)
{
    pat_push(p, chars, any, star, false);
}

/* Appends literal text, each byte a set of its own. */
static void pat_text(struct pat *p, const char *s)
{
    char one[2] = {0, 0};

    for (; *s != '\0'; s++) {
        one[0] = *s;
        pat_add(p, one, false, false);
    }
}

/* Appends n digits. */
static void pat_digits(struct pat *p, int n)
{
    while (n-- > 0) {
        pat_add(p, "0123456789", false, false);
    }
}

/* Appends what one {tenant} becomes in variant v: 0 a tenant id (a
 * letter or digit, then up to 63 of TENANT_CHARS), 1 "_system", 2
 * "_quarantine". */
static void pat_tenant(struct pat *p, int v)
{
    int i;

    if (v == 1) {
        pat_text(p, "_system");
    } else if (v == 2) {
        pat_text(p, "_quarantine");
    } else {
        pat_add(p, TENANT_FIRST, false, false);
        for (i = 0; i < 63; i++) {
            pat_push(p, TENANT_CHARS, false, false, true);
        }
    }
}

/* Appends a template whose k-th {tenant} takes the variant that digit k
 * of v, in base 3, names (pat_tenant). */
static void pat_template(struct pat *p, const char *t, int v)
{
    const char *hole;
    char *chunk;

    while ((hole = strstr(t, "{tenant}")) != NULL) {
        chunk = strndup(t, (size_t)(hole - t));
        if (chunk == NULL) {
            p->oom = true;
            return;
        }
        pat_text(p, chunk);
        free(chunk);
        pat_tenant(p, v % 3);
        v /= 3;
        t = hole + strlen("{tenant}");
    }
    pat_text(p, t);
}

/* Returns how many variants the template t has: 3 per {tenant}, or 0
 * when there are too many to try (more than HOLES_MAX). */
static int variants(const char *t)
{
    int n = 1, holes = 0;

    for (t = strstr(t, "{tenant}"); t != NULL; t = strstr(t + 1, "{tenant}")) {
        if (++holes > HOLES_MAX) {
            return 0;
        }
        n *= 3;
    }
    return n;
}

static bool sets_meet(const struct tok *a, const struct tok *b)
{
    size_t i;

    for (i = 0; i < sizeof(a->set); i++) {
        if ((a->set[i] & b->set[i]) != 0) {
            return true;
        }
    }
    return false;
}

/* Returns true when some string matches both a and b. A state (i, j)
 * means a[0..i) and b[0..j) matched the same prefix. */
static bool pats_meet(const struct pat *a, const struct pat *b)
{
    size_t w = b->n + 1, cells = (a->n + 1) * w, top = 0, i, j;
    uint8_t *seen = calloc(cells / 8 + 1, 1);
    size_t *stack = malloc(cells * sizeof(*stack));
    bool met = false;

#define PUSH(x, y)                                                             \
    do {                                                                       \
        size_t c_ = (x)*w + (y);                                               \
        if (!(seen[c_ / 8] & (1u << (c_ % 8)))) {                              \
            seen[c_ / 8] |= (uint8_t)(1u << (c_ % 8));                         \
            stack[top++] = c_;                                                 \
        }                                                                      \
    } while (0)

    if (seen == NULL || stack == NULL) {
        free(seen);
        free(stack);
        return true; /* out of memory: assume the worst */
    }
    PUSH(0, 0);
    while (top > 0 && !met) {
        i = stack[--top] / w;
        j = stack[top] % w;
        met = i == a->n && j == b->n;
        if (i < a->n && (a->t[i].star || a->t[i].opt)) {
            PUSH(i + 1, j);
        }
        if (j < b->n && (b->t[j].star || b->t[j].opt)) {
            PUSH(i, j + 1);
        }
        if (i < a->n && j < b->n && sets_meet(&a->t[i], &b->t[j])) {
            PUSH(a->t[i].star ? i : i + 1, b->t[j].star ? j : j + 1);
        }
    }
#undef PUSH
    free(seen);
    free(stack);
    return met;
}

/* Builds, for the template t, the pattern of kind k: 0 its files, 1 a
 * folder inside them, 2 its lock, 3 and up its rotated names (with or
 * without "-N", plain, .zst, .gz, .zst.tmp, .gz.tmp). Returns false when
 * k is past the last kind. */
static bool pat_kind(struct pat *p, const char *t, int v, int k)
{
    static const char *const tails[] = {"", ".zst", ".gz", ".zst.tmp",
                                        ".gz.tmp"};
    int r = k - 3;

    if (r >= 2 * (int)(sizeof(tails) / sizeof(tails[0]))) {
        return false;
    }
    pat_template(p, t, v);
    if (k == 1) {
        pat_text(p, "/");
        pat_add(p, NULL, true, true);
    } else if (k == 2) {
        pat_text(p, ".lock");
    } else if (k >= 3) {
        pat_text(p, ".");
        pat_digits(p, 8);
        pat_text(p, "T");
        pat_digits(p, 6);
        pat_text(p, ".");
        pat_digits(p, 6);
        pat_text(p, "Z");
        if (r % 2 == 1) {
            pat_text(p, "-");
            pat_digits(p, 1);
            pat_add(p, "0123456789", false, true);
        }
        pat_text(p, tails[r / 2]);
    }
    return true;
}

/* Returns true when a's files, in variant va, meet b's pattern of some
 * kind from first on (first 0 alone: the same files), in any variant. */
static bool variant_meets(const char *a, int va, const char *b, int first,
                          bool only)
{
    struct pat pa = {0}, pb = {0};
    int k, vb, nb = variants(b);
    bool met = false;

    pat_template(&pa, a, va);
    for (vb = 0; vb < nb && !met; vb++) {
        for (k = first; !met && (k == first || !only); k++) {
            pb.n = 0;
            if (!pat_kind(&pb, b, vb, k)) {
                break;
            }
            met = pa.oom || pb.oom || pats_meet(&pa, &pb);
        }
    }
    free(pa.t);
    free(pb.t);
    return met;
}

static bool files_meet(const char *a, const char *b, int first, bool only)
{
    int va, na = variants(a);
    bool met = false;

    for (va = 0; va < na && !met; va++) {
        met = variant_meets(a, va, b, first, only);
    }
    return met;
}

enum tl__overlap tl__overlap_check(const char *a, const char *b)
{
    if (strlen(a) > TEMPLATE_MAX || strlen(b) > TEMPLATE_MAX ||
        variants(a) == 0 || variants(b) == 0) {
        return strcmp(a, b) == 0 ? TL__OVERLAP_SAME : TL__OVERLAP_NONE;
    }
    if (files_meet(a, b, 0, true)) {
        return TL__OVERLAP_SAME;
    }
    if (files_meet(a, b, 2, false) || files_meet(b, a, 2, false)) {
        return TL__OVERLAP_ROTATED;
    }
    if (files_meet(a, b, 1, true) || files_meet(b, a, 1, true)) {
        return TL__OVERLAP_FOLDER;
    }
    return TL__OVERLAP_NONE;
}

/* Rewrites the absolute path p in place without "//", "." and "..". */
static void collapse(char *p)
{
    char *out = p, *in = p;
    size_t len;

    while (*in != '\0') {
        while (*in == '/') {
            in++;
        }
        len = strcspn(in, "/");
        if (len == 0 || (len == 1 && in[0] == '.')) {
            in += len;
            continue;
        }
        if (len == 2 && in[0] == '.' && in[1] == '.') {
            while (out > p && *--out != '/') {
            }
            in += len;
            continue;
        }
        *out++ = '/';
        memmove(out, in, len);
        out += len;
        in += len;
    }
    if (out == p) {
        *out++ = '/';
    }
    *out = '\0';
}

int tl__overlap_base(const char *base, char *out, size_t cap)
{
    char path[2 * PATH_MAX], real[PATH_MAX], saved;
    size_t end;
    bool found;
    int len;

    if (base[0] == '/') {
        len = snprintf(path, sizeof(path), "%s", base);
    } else {
        if (getcwd(real, sizeof(real)) == NULL) {
            return -errno;
        }
        len = snprintf(path, sizeof(path), "%s/%s", real, base);
    }
    if (len < 0 || (size_t)len >= sizeof(path)) {
        return -ENAMETOOLONG;
    }
    /* Resolves links in the longest prefix path[0..end) that exists, ".."
     * after a link included, as the kernel will. The rest does not exist
     * yet, so it is collapsed as text. */
    for (end = strlen(path);;) {
        saved = path[end];
        path[end] = '\0';
        found = realpath(path, real) != NULL;
        path[end] = saved;
        if (found || end <= 1) {
            break;
        }
        while (end > 1 && path[end - 1] != '/') {
            end--;
        }
        end--; /* before the slash */
    }
    len = found ? snprintf(out, cap, "%s/%s", real, path + end)
                : snprintf(out, cap, "%s", path);
    if (len < 0 || (size_t)len >= cap) {
        return -ENAMETOOLONG;
    }
    collapse(out);
    return 0;
}
