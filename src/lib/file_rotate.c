/* The naming scheme of rotated files, their listing, and retention by
 * count, age and total size (see file_rotate.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compress.h"
#include "file_rotate.h"
#include "sys.h"

#define SUFFIX_DIGITS_MAX 9
#define SUFFIX_MAX 1000
/* How far ahead of the clock the newest rotated file's stamp may be for
 * a rotation to follow it, as after a clock stepped back. A stamp further
 * ahead is taken for the error of a wrong clock. */
#define AHEAD_MAX_US 86400000000LL
/* How long a rotated file may wait for compression before it counts
 * toward max_total_bytes with its plain size. */
#define WAIT_MAX_S 600

/* Returns true when s starts with a stamp YYYYMMDDTHHMMSS.uuuuuuZ. */
static bool is_stamp(const char *s)
{
    static const char shape[] = "DDDDDDDDTDDDDDD.DDDDDDZ";
    size_t i;

    for (i = 0; i < TL__STAMP_LEN; i++) {
        bool digit = s[i] >= '0' && s[i] <= '9';

        if (shape[i] == 'D' ? !digit : s[i] != shape[i]) {
            return false;
        }
    }
    return true;
}

static int digits_at(const char *s, int n)
{
    int v = 0;

    while (n-- > 0) {
        v = v * 10 + (*s++ - '0');
    }
    return v;
}

static int64_t stamp_seconds(const char *s)
{
    struct tm tm = {0};

    tm.tm_year = digits_at(s, 4) - 1900;
    tm.tm_mon = digits_at(s + 4, 2) - 1;
    tm.tm_mday = digits_at(s + 6, 2);
    tm.tm_hour = digits_at(s + 9, 2);
    tm.tm_min = digits_at(s + 11, 2);
    tm.tm_sec = digits_at(s + 13, 2);
    return (int64_t)timegm(&tm);
}

/* Parses an optional "-N" at *rest into *index. */
static int parse_index(const char **rest, long *index)
{
    size_t digits;

    *index = 1;
    if (**rest != '-') {
        return 0;
    }
    digits = strspn(*rest + 1, "0123456789");
    if (digits == 0 || digits > SUFFIX_DIGITS_MAX || (*rest)[1] == '0') {
        return -1;
    }
    *index = strtol(*rest + 1, NULL, 10);
    if (*index < 2 || *index > SUFFIX_MAX) {
        return -1; /* the sink writes "-2" to "-1000" only */
    }
    *rest += 1 + digits;
    return 0;
}

/* Parses an optional ".zst" or ".gz", then ".tmp" after either. */
static int parse_suffixes(const char *rest, struct tl__rotated *out)
{
    static const enum tl__compress methods[] = {TL__COMPRESS_ZSTD,
                                                TL__COMPRESS_GZIP};
    size_t i, len;

    out->comp = TL__COMPRESS_NONE;
    out->tmp = false;
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        len = strlen(tl__compress_ext(methods[i]));
        if (strncmp(rest, tl__compress_ext(methods[i]), len) == 0) {
            out->comp = methods[i];
            rest += len;
            break;
        }
    }
    if (out->comp != TL__COMPRESS_NONE && strcmp(rest, TL__COMPRESS_TMP) == 0) {
        out->tmp = true;
        return 0;
    }
    return *rest == '\0' ? 0 : -1;
}

int tl__rotated_parse(const char *name, const char *base,
                      struct tl__rotated *out)
{
    size_t n = strlen(base);
    const char *rest;

    if (strncmp(name, base, n) != 0 || name[n] != '.') {
        return -1;
    }
    rest = name + n + 1;
    if (strnlen(rest, TL__STAMP_LEN) < TL__STAMP_LEN || !is_stamp(rest)) {
        return -1;
    }
    memcpy(out->stamp, rest, TL__STAMP_LEN);
    out->stamp[TL__STAMP_LEN] = '\0';
    out->stamp_s = stamp_seconds(rest);
    rest += TL__STAMP_LEN;
    if (parse_index(&rest, &out->index) != 0) {
        return -1;
    }
    return parse_suffixes(rest, out);
}

bool tl__rotated_same(const struct tl__rotated *a, const struct tl__rotated *b)
{
    return strcmp(a->stamp, b->stamp) == 0 && a->index == b->index;
}

/* Oldest first: by stamp and index, then original, compressed, temporary. */
static int rotated_cmp(const void *pa, const void *pb)
{
    const struct tl__rotated *a = pa, *b = pb;
    int c = strcmp(a->stamp, b->stamp);

    if (c != 0) {
        return c;
    }
    if (a->index != b->index) {
        return a->index < b->index ? -1 : 1;
    }
    if (a->comp != b->comp) {
        return (int)a->comp - (int)b->comp;
    }
    return (int)a->tmp - (int)b->tmp;
}

void tl__rotated_free(struct tl__rotated *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(list[i].name);
    }
    free(list);
}

/* Appends *r, named name, with its size read from dir, to *list. */
static int rotated_add(struct tl__rotated **list, size_t *n, size_t *cap,
                       const char *dir, const char *name, struct tl__rotated *r)
{
    char path[PATH_MAX];
    struct stat st;
    struct tl__rotated *grown;

    if (*n == *cap) {
        grown = realloc(*list, (*cap ? *cap * 2 : 16) * sizeof(**list));
        if (grown == NULL) {
            return -ENOMEM;
        }
        *list = grown;
        *cap = *cap ? *cap * 2 : 16;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (tl__sys->lstat(path, &st) != 0) {
        /* Gone since readdir (another process pruned it): skip it. */
        return errno == ENOENT ? 0 : -errno;
    }
    r->name = strdup(name);
    if (r->name == NULL) {
        return -ENOMEM;
    }
    r->bytes = (uint64_t)st.st_size;
    r->doomed = false;
    (*list)[(*n)++] = *r;
    return 0;
}

int tl__rotated_list(const char *dir, const char *base,
                     struct tl__rotated **out, size_t *n)
{
    DIR *d = tl__sys->opendir(dir);
    struct tl__rotated r;
    struct dirent *e;
    size_t cap = 0;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (d == NULL) {
        return -errno;
    }
    while (rc == 0 && (e = tl__sys->readdir(d)) != NULL) {
        if (tl__rotated_parse(e->d_name, base, &r) == 0) {
            rc = rotated_add(out, n, &cap, dir, e->d_name, &r);
        }
    }
    tl__sys->closedir(d);
    if (rc != 0) {
        tl__rotated_free(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    if (*n > 1) {
        qsort(*out, *n, sizeof(**out), rotated_cmp);
    }
    return 0;
}

/* Returns the time, in nanoseconds since the epoch with microseconds
 * kept, that the stamp at s stands for. */
static int64_t stamp_us(const char *s)
{
    return stamp_seconds(s) * 1000000 + (int64_t)digits_at(s + 16, 6);
}

const char *tl__path_split(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash != NULL ? (size_t)(slash - path) : 0;

    if (slash == NULL || len >= cap) {
        return NULL; /* never "/" in place of a folder too long */
    }
    if (len == 0) {
        snprintf(dir, cap, "/");
    } else {
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    return slash + 1;
}

/* Sets *newest to the time (microseconds since the epoch) of the newest
 * rotated file of path stamped at most AHEAD_MAX_US after now_us, or to
 * INT64_MIN when there is none. Returns 0 or a negated errno. */
static int newest_rotation(const char *path, int64_t now_us, int64_t *newest)
{
    struct tl__rotated *list = NULL;
    char dir[PATH_MAX];
    const char *base = tl__path_split(path, dir, sizeof(dir));
    size_t n = 0;
    int rc;

    if (base == NULL) {
        return -ENAMETOOLONG;
    }
    rc = tl__rotated_list(dir, base, &list, &n);
    if (rc != 0) {
        return rc;
    }
    *newest = INT64_MIN;
    while (n > 0 && *newest == INT64_MIN) {
        int64_t t = stamp_us(list[--n].stamp);

        if (t - now_us <= AHEAD_MAX_US) {
            *newest = t;
        }
        free(list[n].name);
    }
    tl__rotated_free(list, n);
    return 0;
}

/* Renames path to its rotated name. The stamp is the rotation time. When
 * the newest rotated file's stamp is no earlier, but at most AHEAD_MAX_US
 * ahead (the clock stepped back, or is coarse), the stamp is 1 us after
 * it instead. So names sort in the order of the rotations, and retention
 * by count keeps the newest. */
int tl__rotate_aside(const char *path, int64_t now_ns, char *to, size_t cap)
{
    int64_t newest, t = now_ns / 1000;
    char stamp[64];
    struct stat st;
    struct tm tm;
    time_t secs;
    int len, rc;

    rc = newest_rotation(path, t, &newest);
    if (rc != 0) {
        return rc;
    }
    if (newest != INT64_MIN && t <= newest) {
        t = newest + 1;
    }
    secs = (time_t)(t / 1000000);
    gmtime_r(&secs, &tm);
    snprintf(stamp, sizeof(stamp), "%04d%02d%02dT%02d%02d%02d.%06ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)(t % 1000000));
    len = snprintf(to, cap, "%s.%s", path, stamp);
    if (len < 0 || (size_t)len >= cap) {
        return -ENAMETOOLONG;
    }
    if (tl__sys->lstat(to, &st) == 0) {
        return -EEXIST; /* only after a clock error, within a microsecond */
    }
    return tl__sys->rename(path, to) == 0 ? 0 : -errno;
}

/* The size one rotated file will have: its compressed form once that
 * exists, else its original. Looks at list[first..end). */
static uint64_t group_bytes(const struct tl__rotated *list, size_t first,
                            size_t end)
{
    uint64_t bytes = 0;
    size_t i;

    for (i = first; i < end; i++) {
        if (!list[i].tmp) {
            bytes = list[i].bytes; /* compressed forms sort last */
        }
    }
    return bytes;
}

/* The running state of a retention plan, newest file first. */
struct plan {
    const struct tl__sink_conf *c;
    int64_t now_s;
    size_t count;
    uint64_t total;
    bool over_bytes;
};

/* Returns true when the group list[first..end) waits for compression: it
 * has no final size yet. One rotated longer than WAIT_MAX_S ago counts
 * with its plain size anyway, because processes that exit before they
 * compress (compress.h) could otherwise fill the disk. */
static bool waiting(const struct plan *pl, const struct tl__rotated *list,
                    size_t first, size_t end)
{
    int64_t age = pl->now_s - list[first].stamp_s;
    bool plain =
        pl->c->compress != TL__COMPRESS_NONE && age >= 0 && age < WAIT_MAX_S;
    size_t i;

    for (i = first; i < end && plain; i++) {
        plain = list[i].comp == TL__COMPRESS_NONE || list[i].tmp;
    }
    return plain;
}

/* Decides the fate of the group list[first..end), the next newest. */
static void plan_group(struct plan *pl, struct tl__rotated *list, size_t first,
                       size_t end)
{
    const struct tl__sink_conf *c = pl->c;
    bool wait = waiting(pl, list, first, end), doom;
    size_t i;

    pl->count++;
    if (!wait) {
        pl->total += group_bytes(list, first, end);
    }
    pl->over_bytes = pl->over_bytes ||
                     (c->max_total_bytes > 0 && pl->total > c->max_total_bytes);
    doom = (c->keep > 0 && pl->count > c->keep) || (pl->over_bytes && !wait) ||
           (c->max_age_s > 0 && pl->now_s - list[first].stamp_s > c->max_age_s);
    for (i = first; i < end; i++) {
        list[i].doomed = doom && !list[i].tmp;
    }
}

/* Plans the groups stamped more than AHEAD_MAX_US after now (future
 * true), or the others, newest first. */
static void plan_pass(struct plan *pl, struct tl__rotated *list, size_t n,
                      bool future)
{
    size_t end = n, first;

    while (end > 0) {
        first = end - 1;
        while (first > 0 &&
               tl__rotated_same(&list[first - 1], &list[end - 1])) {
            first--;
        }
        if ((list[first].stamp_s - pl->now_s > AHEAD_MAX_US / 1000000) ==
            future) {
            plan_group(pl, list, first, end);
        }
        end = first;
    }
}

void tl__retention_plan(struct tl__rotated *list, size_t n,
                        const struct tl__sink_conf *c, int64_t now_s)
{
    struct plan pl = {c, now_s, 0, 0, false};

    /* Files stamped by a clock that was far ahead count as the oldest. */
    plan_pass(&pl, list, n, false);
    plan_pass(&pl, list, n, true);
}
