/* The file sink: JSON lines appended to a per-tenant path under a base
 * folder. Descriptors open lazily, O_APPEND | O_CLOEXEC, one per tenant,
 * at most FILES_MAX at once (least recently used closed first). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/text.h"
#include "sink.h"

#define FILES_MAX 64
/* How often the path is compared with the open file: an external rename,
 * unlink or deleted folder is noticed within this time. */
#define CHECK_INTERVAL_NS 10000000LL
/* Folder names for records that cannot use their tenant id. They start
 * with '_', which no valid tenant id does, so they never collide. */
#define NO_TENANT_DIR "_system"
#define QUARANTINE_DIR "_quarantine"
/* A rotated file is "<path>.YYYYMMDDTHHMMSS.uuuuuuZ", then "-N" when
 * that name was taken. */
#define STAMP_LEN 23
#define SUFFIX_DIGITS_MAX 9
#define SUFFIX_MAX 1000

struct open_file {
    char key[TL__TENANT_MAX + 1]; /* tenant id or one of the _ names */
    int fd;                       /* -1 when closed */
    uint64_t last_use;
    /* The file ends in a torn line, left by a write stopped part way
     * (ENOSPC, EIO, a crash): the next record starts with a newline. */
    bool torn;
    dev_t dev; /* identity of the open file, to notice a rename */
    ino_t ino;
    int64_t checked_ns; /* CLOCK_MONOTONIC time of the last path check */
    bool dirty;         /* written since its last fsync */
    uint64_t size;      /* bytes in the file: fstat at open plus writes */
};

struct file_sink {
    struct tl__sink base;
    char *base_dir; /* absolute, fixed at creation */
    struct open_file files[FILES_MAX];
    size_t n_files;
    uint64_t tick;
    struct tl__buf path;
    int64_t synced_ns; /* CLOCK_MONOTONIC time of the last fsync pass */
};

static void file_close(struct file_sink *f, struct open_file *of)
{
    if (of->fd >= 0) {
        /* With an fsync policy, nothing written leaves unsynced. */
        if (of->dirty && f->base.conf->fsync_ms != TL__FSYNC_NEVER &&
            fsync(of->fd) == 0) {
            atomic_fetch_add(&f->base.stats->fsyncs, 1);
        }
        of->dirty = false;
        close(of->fd);
        of->fd = -1;
        atomic_fetch_sub(&f->base.stats->open_fds, 1);
    }
}

/* Builds base_dir/template with {tenant} replaced by key. The template
 * was checked when the configuration was parsed: relative, no "..". */
static const char *build_path(struct file_sink *f, const char *key)
{
    const char *t = f->base.conf->path, *hole;

    tl__buf_reset(&f->path);
    tl__buf_adds(&f->path, f->base_dir);
    tl__buf_addc(&f->path, '/');
    while ((hole = strstr(t, "{tenant}")) != NULL) {
        tl__buf_add(&f->path, t, (size_t)(hole - t));
        tl__buf_adds(&f->path, key);
        t = hole + strlen("{tenant}");
    }
    tl__buf_adds(&f->path, t);
    return f->path.oom ? NULL : tl__buf_cstr(&f->path);
}

/* Creates every missing folder above the file at path. */
static int make_parents(char *path)
{
    char *slash;
    int result = 0;

    for (slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(path, 0750) != 0 && errno != EEXIST) {
            result = -errno;
        }
        *slash = '/';
        if (result != 0) {
            return result;
        }
    }
    return 0;
}

/* Returns the last byte of the file open as fd, or a newline when the
 * file is empty or cannot be read. */
static char last_byte(int fd, off_t *size)
{
    struct stat st;
    char last = '\n';

    if (fstat(fd, &st) != 0 || st.st_size == 0 ||
        pread(fd, &last, 1, st.st_size - 1) != 1) {
        last = '\n';
        st.st_size = 0;
    }
    *size = st.st_size;
    return last;
}

/* Returns true when the file at path does not end with a newline. The
 * descriptor the sink writes through is write-only, so this reads through
 * a second one; when that fails the file counts as whole. Another process
 * may be in the middle of a write(2), whose bytes a reader can see before
 * the write ends, so a file only counts as torn when it stays unchanged
 * and unterminated across 2 ms. */
static bool ends_torn(const char *path)
{
    const struct timespec pause = {0, 2000000};
    off_t before, after;
    bool torn = false;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        return false;
    }
    if (last_byte(fd, &before) != '\n') {
        nanosleep(&pause, NULL);
        torn = last_byte(fd, &after) != '\n' && after == before;
    }
    close(fd);
    return torn;
}

/* Returns fd when it is a regular file, else closes it and returns
 * -ENOTSUP: a FIFO or a device could block the writer forever. Sets
 * *torn when the file does not end with a newline. */
static int regular_only(int fd, const char *path, bool *torn)
{
    struct stat st;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -ENOTSUP;
    }
    *torn = ends_torn(path);
    return fd;
}

static int open_path(char *path, bool *torn)
{
    /* O_NONBLOCK keeps open(2) of a FIFO without a reader from blocking;
     * it changes nothing for the regular files that are kept. */
    const int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
                      O_NOCTTY | O_NONBLOCK;
    int fd, result;

    fd = open(path, flags, 0640);
    if (fd < 0 && errno == ENOENT) {
        result = make_parents(path);
        if (result != 0) {
            return result;
        }
        fd = open(path, flags, 0640);
    }
    return fd >= 0 ? regular_only(fd, path, torn) : -errno;
}

/* Returns the slot for key, evicting the least recently used one when
 * the table is full. */
static struct open_file *slot_for(struct file_sink *f, const char *key)
{
    struct open_file *lru = NULL;
    size_t i;

    for (i = 0; i < f->n_files; i++) {
        if (strcmp(f->files[i].key, key) == 0) {
            return &f->files[i];
        }
        if (lru == NULL || f->files[i].last_use < lru->last_use) {
            lru = &f->files[i];
        }
    }
    if (f->n_files < FILES_MAX) {
        lru = &f->files[f->n_files++];
        lru->fd = -1;
        lru->torn = false;
    } else {
        file_close(f, lru);
    }
    strcpy(lru->key, key);
    lru->torn = false;
    return lru;
}

static const char *key_for(const struct tl__record *r)
{
    if (r->tenant != NULL) {
        return r->tenant;
    }
    return r->tenant_invalid != NULL ? QUARANTINE_DIR : NO_TENANT_DIR;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Returns true when, at most every CHECK_INTERVAL_NS, the path no longer
 * names the open file: it was renamed or unlinked (logrotate), or its
 * folder was deleted. The caller then reopens by path. */
static bool path_moved(struct file_sink *f, struct open_file *of)
{
    int64_t now = monotonic_ns();
    const char *path;
    struct stat st;

    if (now - of->checked_ns < CHECK_INTERVAL_NS) {
        return false;
    }
    of->checked_ns = now;
    path = build_path(f, of->key);
    if (path == NULL) {
        return false;
    }
    return stat(path, &st) != 0 || st.st_dev != of->dev || st.st_ino != of->ino;
}

static void remember_identity(struct open_file *of, int fd)
{
    struct stat st;

    of->size = 0;
    if (fstat(fd, &st) == 0) {
        of->dev = st.st_dev;
        of->ino = st.st_ino;
        of->size = (uint64_t)st.st_size;
    }
    of->checked_ns = monotonic_ns();
}

static int file_fd(struct file_sink *f, const struct tl__record *r)
{
    struct open_file *of = slot_for(f, key_for(r));
    const char *path;
    int fd;

    of->last_use = ++f->tick;
    if (of->fd >= 0 && !path_moved(f, of)) {
        return of->fd;
    }
    if (of->fd >= 0) {
        file_close(f, of);
        atomic_fetch_add(&f->base.stats->reopens, 1);
    }
    path = build_path(f, of->key);
    if (path == NULL) {
        return -ENOMEM;
    }
    fd = open_path(f->path.data, &of->torn);
    if (fd >= 0) {
        of->fd = fd;
        remember_identity(of, fd);
        atomic_fetch_add(&f->base.stats->open_fds, 1);
    }
    return fd;
}

/* Notes the path of r's file for the failure report, and returns err. */
static int write_failed(struct file_sink *f, const struct tl__record *r,
                        int err)
{
    f->base.failed_path = build_path(f, key_for(r));
    return err;
}

/* Rotation by size */

struct rotated {
    char *name;
    const char *stamp; /* inside name */
    long index;        /* N of a "-N" suffix, or 1 without one */
};

/* Returns true when s starts with a stamp YYYYMMDDTHHMMSS.uuuuuuZ. */
static bool is_stamp(const char *s)
{
    static const char shape[] = "DDDDDDDDTDDDDDD.DDDDDDZ";
    size_t i;

    for (i = 0; i < STAMP_LEN; i++) {
        bool digit = s[i] >= '0' && s[i] <= '9';

        if (shape[i] == 'D' ? !digit : s[i] != shape[i]) {
            return false;
        }
    }
    return true;
}

/* Returns the index of name as a rotated file of base ("-N" gives N, no
 * suffix gives 1), or -1 when name is any other file. */
static long rotated_index(const char *name, const char *base)
{
    size_t n = strlen(base), digits;
    const char *rest;

    if (strncmp(name, base, n) != 0 || name[n] != '.') {
        return -1;
    }
    rest = name + n + 1;
    if (strnlen(rest, STAMP_LEN) < STAMP_LEN || !is_stamp(rest)) {
        return -1;
    }
    rest += STAMP_LEN;
    if (*rest == '\0') {
        return 1;
    }
    digits = strspn(rest + 1, "0123456789");
    if (*rest != '-' || digits == 0 || digits > SUFFIX_DIGITS_MAX ||
        rest[1 + digits] != '\0') {
        return -1;
    }
    return strtol(rest + 1, NULL, 10);
}

/* Oldest first: by stamp, then by index. */
static int rotated_cmp(const void *a, const void *b)
{
    const struct rotated *x = a, *y = b;
    int c = strncmp(x->stamp, y->stamp, STAMP_LEN);

    if (c != 0) {
        return c;
    }
    return (x->index > y->index) - (x->index < y->index);
}

static void rotated_free(struct rotated *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(list[i].name);
    }
    free(list);
}

/* Appends name to *list, which contains *n of *cap entries. */
static int rotated_add(struct rotated **list, size_t *n, size_t *cap,
                       const char *name, size_t base_len, long index)
{
    struct rotated *grown;

    if (*n == *cap) {
        grown = realloc(*list, (*cap ? *cap * 2 : 16) * sizeof(**list));
        if (grown == NULL) {
            return -ENOMEM;
        }
        *list = grown;
        *cap = *cap ? *cap * 2 : 16;
    }
    (*list)[*n].name = strdup(name);
    if ((*list)[*n].name == NULL) {
        return -ENOMEM;
    }
    (*list)[*n].stamp = (*list)[*n].name + base_len + 1;
    (*list)[*n].index = index;
    (*n)++;
    return 0;
}

/* Lists the rotated files of base in the folder d, into *out and *n. */
static int rotated_list(DIR *d, const char *base, struct rotated **out,
                        size_t *n)
{
    struct dirent *e;
    size_t cap = 0;
    long index;
    int rc = 0;

    *out = NULL;
    *n = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        index = rotated_index(e->d_name, base);
        if (index >= 0) {
            rc = rotated_add(out, n, &cap, e->d_name, strlen(base), index);
        }
    }
    return rc;
}

/* Deletes the oldest rotated files of base in folder dir, keeping the
 * newest keep. No other file is touched. */
/* NOTE: another process may still append to a rotated file for up to
 * 10 ms, until its path check notices the rename. With a small keep this
 * can delete that file and the records written to it. */
static void rotated_prune(struct file_sink *f, const char *dir,
                          const char *base)
{
    size_t keep = f->base.conf->keep, n = 0, i;
    struct rotated *list = NULL;
    DIR *d = opendir(dir);
    int rc;

    if (d == NULL) {
        tl__sink_stats_errno(f->base.stats, errno);
        return;
    }
    rc = rotated_list(d, base, &list, &n);
    if (rc != 0) {
        tl__sink_stats_errno(f->base.stats, -rc);
    } else if (keep > 0 && n > keep) {
        qsort(list, n, sizeof(*list), rotated_cmp);
        for (i = 0; i < n - keep; i++) {
            if (unlinkat(dirfd(d), list[i].name, 0) != 0 && errno != ENOENT) {
                tl__sink_stats_errno(f->base.stats, errno);
            }
        }
    }
    rotated_free(list, n);
    closedir(d);
}

/* Renames path to path.STAMP, or path.STAMP-N when that name exists. */
static int rename_aside(const char *path)
{
    char stamp[64], to[PATH_MAX];
    struct timespec ts;
    struct stat st;
    struct tm tm;
    int i, len;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(stamp, sizeof(stamp), "%04d%02d%02dT%02d%02d%02d.%06ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000));
    for (i = 1; i <= SUFFIX_MAX; i++) {
        len = i == 1 ? snprintf(to, sizeof(to), "%s.%s", path, stamp)
                     : snprintf(to, sizeof(to), "%s.%s-%d", path, stamp, i);
        if (len < 0 || (size_t)len >= sizeof(to)) {
            return -ENAMETOOLONG;
        }
        if (lstat(to, &st) != 0 && errno == ENOENT) {
            return rename(path, to) == 0 ? 0 : -errno;
        }
    }
    return -EEXIST;
}

/* Opens "<path>.lock" and takes an exclusive flock(2) on it. */
static int lock_path(const char *path, int *out)
{
    char name[PATH_MAX];
    int fd, len, err;

    len = snprintf(name, sizeof(name), "%s.lock", path);
    if (len < 0 || (size_t)len >= sizeof(name)) {
        return -ENAMETOOLONG;
    }
    fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        return -errno;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            err = errno;
            close(fd);
            return -err;
        }
    }
    *out = fd;
    return 0;
}

/* Renames the file at path aside when it is still the one of has open,
 * then prunes. Returns 0 when the caller should reopen by path. */
static int rotate_locked(struct file_sink *f, struct open_file *of, char *path)
{
    char *slash = strrchr(path, '/');
    struct stat st;
    int rc;

    if (stat(path, &st) != 0 || st.st_dev != of->dev || st.st_ino != of->ino) {
        return 0; /* another process rotated it, or it is gone */
    }
    rc = rename_aside(path);
    if (rc != 0 || slash == NULL) {
        return rc;
    }
    atomic_fetch_add(&f->base.stats->rotations, 1);
    *slash = '\0';
    rotated_prune(f, path[0] != '\0' ? path : "/", slash + 1);
    return 0;
}

/* Rotates of's file, which reached max_bytes. On failure the file stays
 * open and the sink keeps appending to it, and tries again after another
 * max_bytes. */
static void file_rotate(struct file_sink *f, struct open_file *of)
{
    const char *built = build_path(f, of->key);
    char *path = built != NULL ? strdup(built) : NULL;
    int lock = -1, rc;

    rc = path != NULL ? lock_path(path, &lock) : -ENOMEM;
    if (rc == 0) {
        rc = rotate_locked(f, of, path);
        close(lock); /* releases the flock */
    }
    if (rc != 0) {
        tl__sink_stats_errno(f->base.stats, -rc);
        of->size = 0;
    } else {
        file_close(f, of);
    }
    free(path);
}

static int file_write(struct tl__sink *s, const struct tl__record *r)
{
    struct file_sink *f = (struct file_sink *)s;
    int fd = file_fd(f, r);
    struct open_file *of;
    const char *p;
    size_t left;

    if (fd < 0) {
        return write_failed(f, r, fd);
    }
    of = slot_for(f, key_for(r));
    tl__buf_reset(&s->line);
    if (of->torn) {
        tl__buf_addc(&s->line, '\n');
    }
    tl__format_json(&s->line, r);
    if (s->line.oom) {
        return -ENOMEM;
    }
    p = s->line.data;
    left = s->line.len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int err = errno;

            of->torn = left < s->line.len;
            /* Reopen by path on the next record: the file may be gone. */
            file_close(f, of);
            return write_failed(f, r, -err);
        }
        p += n;
        left -= (size_t)n;
    }
    of->torn = false;
    of->dirty = true;
    of->size += s->line.len;
    if (s->conf->max_bytes > 0 && of->size >= s->conf->max_bytes) {
        file_rotate(f, of);
    }
    return 0;
}

/* fsyncs the files written since the last pass: after every batch, or
 * once fsync_ms milliseconds have passed, as the configuration sets. */
static int file_flush(struct tl__sink *s)
{
    struct file_sink *f = (struct file_sink *)s;
    int mode = s->conf->fsync_ms, first = 0;
    int64_t now;
    size_t i;

    if (mode == TL__FSYNC_NEVER) {
        return 0;
    }
    now = monotonic_ns();
    if (mode > 0 && now - f->synced_ns < (int64_t)mode * 1000000) {
        return 0;
    }
    f->synced_ns = now;
    for (i = 0; i < f->n_files; i++) {
        struct open_file *of = &f->files[i];

        if (of->fd < 0 || !of->dirty) {
            continue;
        }
        of->dirty = false;
        if (fsync(of->fd) == 0) {
            atomic_fetch_add(&s->stats->fsyncs, 1);
        } else if (first == 0) {
            first = -errno;
            s->failed_path = build_path(f, of->key);
        }
    }
    return first;
}

static void file_reopen(struct tl__sink *s)
{
    struct file_sink *f = (struct file_sink *)s;
    size_t i;

    for (i = 0; i < f->n_files; i++) {
        if (f->files[i].fd >= 0) {
            atomic_fetch_add(&s->stats->reopens, 1);
        }
        file_close(f, &f->files[i]);
    }
}

static void file_free(struct tl__sink *s)
{
    struct file_sink *f = (struct file_sink *)s;
    size_t i;

    for (i = 0; i < f->n_files; i++) {
        file_close(f, &f->files[i]);
    }
    tl__buf_free(&f->path);
    free(f->base_dir);
    free(f);
}

static const struct tl__sink_ops file_ops = {
    .write = file_write,
    .reopen = file_reopen,
    .flush = file_flush,
    .free = file_free,
};

/* Returns base as an absolute path, so a later chdir changes nothing. */
static char *absolute_dir(const char *base)
{
    char cwd[PATH_MAX];
    struct tl__buf b;

    if (base[0] == '/') {
        return strdup(base);
    }
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
        return NULL;
    }
    tl__buf_init(&b);
    tl__buf_adds(&b, cwd);
    tl__buf_addc(&b, '/');
    tl__buf_adds(&b, strncmp(base, "./", 2) == 0 ? base + 2 : base);
    if (b.oom) {
        tl__buf_free(&b);
        return NULL;
    }
    return b.data;
}

int tl__sink_file_new(const struct tl__sink_conf *conf, struct tl__sink **out)
{
    struct file_sink *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -ENOMEM;
    }
    f->base_dir = absolute_dir(conf->base);
    if (f->base_dir == NULL) {
        int err = errno ? -errno : -ENOMEM;

        free(f);
        return err;
    }
    f->base.ops = &file_ops;
    f->base.conf = conf;
    tl__buf_init(&f->path);
    *out = &f->base;
    return 0;
}
