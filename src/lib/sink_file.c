/* The file sink: JSON lines appended to a per-tenant path under a base
 * folder. Descriptors open lazily, O_APPEND | O_CLOEXEC, one per tenant,
 * at most FILES_MAX at once (least recently used closed first). Every
 * system call goes through tl__sys, so tests can fail any of them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../common/text.h"
#include "compress.h"
#include "file_rotate.h"
#include "rotate_time.h"
#include "sink.h"
#include "spool.h"
#include "sys.h"

#define FILES_MAX 64
/* How often the path is compared with the open file: an external rename,
 * unlink or deleted folder is noticed within this time. */
#define CHECK_INTERVAL_NS 10000000LL
/* Folder names for records that cannot use their tenant id. They start
 * with '_', which no valid tenant id does, so they never collide. */
#define NO_TENANT_DIR "_system"
#define QUARANTINE_DIR "_quarantine"
/* Retry after a failure: first after BACKOFF_MIN_NS, doubling up to
 * BACKOFF_MAX_NS while the failure lasts. */
#define BACKOFF_MIN_NS 10000000LL
#define BACKOFF_MAX_NS 2000000000LL
/* A rotated file is compressed once no process has written to it for
 * this long: another process may append to it until its own path check
 * notices the rotation. */
#define QUIET_NS 1000000000LL
/* Compression per flush: steps of COMPRESS_STEP input bytes, at most
 * COMPRESS_STEPS of them and no more once COMPRESS_STEP_NS has passed,
 * so the next batch waits for one step past 1 ms at most. While batches
 * come full, compression runs at one flush in COMPRESS_BUSY_EVERY. */
#define COMPRESS_STEP 65536
#define COMPRESS_STEPS 4
#define COMPRESS_STEP_NS 1000000LL
#define COMPRESS_BUSY_EVERY 8
/* After the process runs out of descriptors (EMFILE), a sink keeps no
 * more files open than fitted then, for this long. */
#define FD_CAP_NS 60000000000LL
/* How long a sink waits before it tries again to take a rotation lock
 * that another process holds. */
#define LOCK_RETRY_NS 10000000LL
/* A failed compression is tried again after COMPRESS_RETRY_NS, then
 * twice as long each time, COMPRESS_TRIES times in all. */
#define COMPRESS_RETRY_NS 10000000000LL
#define COMPRESS_TRIES 5
/* Retention by age runs at least this often. */
#define RETENTION_EVERY_NS 60000000000LL

struct open_file {
    char key[TL__TENANT_MAX + 1]; /* tenant id or one of the _ names */
    int fd;                       /* -1 when closed */
    uint64_t last_use;
    /* The file ends in a torn line, left by a write stopped part way
     * (ENOSPC, EIO, a crash): the next record starts with a newline. */
    bool torn;
    dev_t dev; /* identity of the open file, to notice a rename */
    ino_t ino;
    int64_t checked_ns;    /* CLOCK_MONOTONIC time of the last path check */
    bool dirty;            /* written since its last fsync */
    bool torn_foreign;     /* torn seen in the file, maybe a write still in
                              progress, not a write of ours cut short */
    uint64_t size;         /* bytes in the file: fstat at open plus writes */
    uint64_t retry_size;   /* after a failed rotation: size to try again at */
    int64_t lock_retry_ns; /* CLOCK_MONOTONIC: rotation lock busy until */
    int64_t boundary_s;    /* next time-rotation boundary (CLOCK_REALTIME) */
    int64_t seen_s;        /* CLOCK_REALTIME of the last look, to notice the
                              clock stepping back */
    int fail_err;          /* errno of the failure in progress, or 0 */
    int64_t retry_ns;      /* CLOCK_MONOTONIC time of the next attempt */
    int64_t backoff_ns;
    struct tl__spool_queue queue; /* records of this file in the spool */
};

/* Rotated files waiting for compression, oldest first. */
struct cq_item {
    char *path;
    size_t active_len;     /* path[0..active_len) is the active file */
    int tries;             /* failed compressions so far */
    int64_t not_before_ns; /* CLOCK_MONOTONIC: no new try before this */
};

struct compress_queue {
    struct cq_item *items;
    size_t n, cap;
    struct tl__compress_job *job; /* the one in progress, or NULL */
    unsigned yielded; /* flushes skipped for full batches in a row */
    bool next_ready;  /* a job just ended and more files wait */
    int lock_fd;      /* flock on the job's source, or -1 */
};

struct file_sink {
    struct tl__sink base;
    char *base_dir; /* absolute, fixed at creation */
    struct open_file files[FILES_MAX];
    size_t n_files;
    uint64_t tick;
    struct tl__buf path;
    struct tl__buf record; /* the record being written, formatted */
    int64_t synced_ns;     /* CLOCK_MONOTONIC time of the last fsync pass */
    int64_t retained_ns;   /* CLOCK_MONOTONIC time of the last age pass */
    struct tl__spool spool;
    struct compress_queue cq;
    size_t mkdir_len;  /* length of the folder whose mkdir failed last */
    size_t fd_cap;     /* files it may keep open after EMFILE; 0: FILES_MAX */
    int64_t fd_cap_ns; /* CLOCK_MONOTONIC time fd_cap was set */
    /* Keys whose folder was cleaned up at first use: an open-addressing
     * table of cap_scanned slots, n_scanned of them used. */
    char **scanned;
    size_t n_scanned, cap_scanned;
};

static int64_t mono_ns(void)
{
    return tl__sys_now_ns(CLOCK_MONOTONIC);
}

static int64_t real_s(void)
{
    return tl__sys_now_ns(CLOCK_REALTIME) / 1000000000;
}

/* Writes dir/name to out (cap bytes). Returns false when it is too long. */
static bool join(char *out, size_t cap, const char *dir, const char *name)
{
    int len = snprintf(out, cap, "%s/%s", dir, name);

    return len >= 0 && (size_t)len < cap;
}

/* Builds base_dir/template with {tenant} replaced by key, into b. The
 * template was checked when the configuration was parsed: relative, no
 * "..". */
static const char *path_into(struct file_sink *f, struct tl__buf *b,
                             const char *key)
{
    const char *t = f->base.conf->path, *hole;

    tl__buf_reset(b);
    tl__buf_adds(b, f->base_dir);
    tl__buf_addc(b, '/');
    while ((hole = strstr(t, "{tenant}")) != NULL) {
        tl__buf_add(b, t, (size_t)(hole - t));
        tl__buf_adds(b, key);
        t = hole + strlen("{tenant}");
    }
    tl__buf_adds(b, t);
    return b->oom ? NULL : tl__buf_cstr(b);
}

static const char *build_path(struct file_sink *f, const char *key)
{
    return path_into(f, &f->path, key);
}

/* Counts and reports a failed call on key's file (path rebuilt in a
 * buffer of its own, so callers may hold f->path). */
static void report(struct file_sink *f, enum tl__sink_op op, int err,
                   const char *key, const char *then)
{
    struct tl__buf b;

    tl__buf_init(&b);
    tl__sink_fail(&f->base, op, err, key ? path_into(f, &b, key) : NULL, then);
    tl__buf_free(&b);
}

/* Closes fd, counting a failure under the file at path (may be NULL):
 * the descriptor is released even then, but written data may be lost. */
static void close_fd(struct file_sink *f, int fd, const char *path)
{
    if (tl__sys->close(fd) != 0) {
        tl__sink_fail(&f->base, TL__OP_CLOSE, errno, path, NULL);
    }
}

static void file_close(struct file_sink *f, struct open_file *of)
{
    if (of->fd < 0) {
        return;
    }
    /* With an fsync policy, nothing written leaves unsynced. */
    if (of->dirty && f->base.conf->fsync_ms != TL__FSYNC_NEVER) {
        if (tl__sys->fsync(of->fd) == 0) {
            atomic_fetch_add(&f->base.stats->fsyncs, 1);
        } else {
            report(f, TL__OP_FSYNC, errno, of->key, NULL);
        }
    }
    of->dirty = false;
    if (tl__sys->close(of->fd) != 0) {
        report(f, TL__OP_CLOSE, errno, of->key, NULL);
    }
    of->fd = -1;
    atomic_fetch_sub(&f->base.stats->open_fds, 1);
}

/* Creates every missing folder above the file at path. */
static int make_parents(char *path, size_t *failed_len)
{
    char *slash;
    int result = 0;

    for (slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (tl__sys->mkdir(path, 0750) != 0 && errno != EEXIST) {
            result = -errno;
            *failed_len = (size_t)(slash - path); /* the folder that failed */
        }
        *slash = '/';
        if (result != 0) {
            return result;
        }
    }
    return 0;
}

/* Returns the last byte of the file at path, open as fd, or a newline
 * when the file is empty or cannot be read (counted). */
static char last_byte(struct file_sink *f, int fd, const char *path,
                      off_t *size)
{
    struct stat st;
    char last = '\n';

    *size = 0;
    if (tl__sys->fstat(fd, &st) != 0) {
        tl__sink_fail(&f->base, TL__OP_STAT, errno, path, NULL);
        return '\n';
    }
    if (st.st_size > 0 && tl__sys->pread(fd, &last, 1, st.st_size - 1) != 1) {
        tl__sink_fail(&f->base, TL__OP_READ, errno, path, NULL);
        return '\n';
    }
    *size = st.st_size;
    return last;
}

/* Returns true when the file at path, read through a descriptor of its
 * own, does not end with a newline. A file that cannot be read counts as
 * ending with one. */
static bool ends_unterminated(struct file_sink *f, const char *path)
{
    off_t size;
    bool torn;
    int fd;

    fd = tl__sys->open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
    if (fd < 0) {
        return false;
    }
    torn = last_byte(f, fd, path, &size) != '\n';
    close_fd(f, fd, path);
    return torn;
}

/* Returns true when the file at path does not end with a newline. The
 * descriptor the sink writes through is write-only, so this reads through
 * a second one; when that fails the file counts as whole. Another process
 * may be in the middle of a write(2), whose bytes a reader can see before
 * the write ends, so a file only counts as torn when it stays unchanged
 * and unterminated across 2 ms. */
static bool ends_torn(struct file_sink *f, const char *path)
{
    const struct timespec pause = {0, 2000000};
    off_t before, after;
    bool torn = false;
    int fd;

    fd = tl__sys->open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
    if (fd < 0) {
        /* ENOENT: renamed since it was opened; the path check follows. */
        if (errno != ENOENT) {
            tl__sink_fail(&f->base, TL__OP_OPEN, errno, path,
                          "the check for a torn last line was skipped");
        }
        return false;
    }
    if (last_byte(f, fd, path, &before) != '\n') {
        nanosleep(&pause, NULL);
        torn = last_byte(f, fd, path, &after) != '\n' && after == before;
    }
    close_fd(f, fd, path);
    return torn;
}

/* Returns fd when it is a regular file, else closes it and returns
 * -ENOTSUP: a FIFO or a device could block the writer forever. Sets
 * *torn when the file does not end with a newline. */
static int regular_only(struct file_sink *f, int fd, const char *path,
                        bool *torn)
{
    struct stat st;
    int err = 0;

    if (tl__sys->fstat(fd, &st) != 0) {
        err = errno;
    } else if (!S_ISREG(st.st_mode)) {
        err = ENOTSUP;
    }
    if (err != 0) {
        close_fd(f, fd, path);
        return -err;
    }
    *torn = ends_torn(f, path);
    return fd;
}

/* Opens the file at path for appending, creating it and its folders.
 * Returns the descriptor, or a negated errno with *op set to what
 * failed. */
static int open_path(struct file_sink *f, char *path, bool *torn,
                     enum tl__sink_op *op)
{
    /* O_NONBLOCK keeps open(2) of a FIFO without a reader from blocking;
     * it changes nothing for the regular files that are kept. */
    const int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
                      O_NOCTTY | O_NONBLOCK;
    int fd, result;

    *op = TL__OP_OPEN;
    fd = tl__sys->open(path, flags, 0640);
    if (fd < 0 && errno == ENOENT) {
        result = make_parents(path, &f->mkdir_len);
        if (result != 0) {
            *op = TL__OP_MKDIR;
            return result;
        }
        fd = tl__sys->open(path, flags, 0640);
    }
    return fd >= 0 ? regular_only(f, fd, path, torn) : -errno;
}

static const char *key_for(const struct tl__record *r)
{
    if (r->tenant != NULL) {
        return r->tenant;
    }
    return r->tenant_invalid != NULL ? QUARANTINE_DIR : NO_TENANT_DIR;
}

/* Spool and failure state */

/* Sends the spooled records of of's file to stderr, for good. */
static void spool_to_stderr(struct file_sink *f, struct open_file *of)
{
    const struct tl__spooled *e;

    while ((e = of->queue.head) != NULL) {
        if (tl__stderr_write(e->data, e->len) == 0) {
            atomic_fetch_add(&f->base.stats->fallback, 1);
        }
        atomic_fetch_add(&f->base.stats->spool_fallback, 1);
        atomic_fetch_sub(&f->base.stats->spool_depth, 1);
        tl__spool_pop(&f->spool, &of->queue);
    }
}

/* Counts and reports a failure of op on of's file, and puts off the next
 * attempt: BACKOFF_MIN_NS after the first failure, twice as long after
 * each further one, at most BACKOFF_MAX_NS. */
static void file_failed(struct file_sink *f, struct open_file *of,
                        enum tl__sink_op op, int err)
{
    bool spool = f->base.conf->fallback == TL__FALLBACK_SPOOL;

    const char *then = of->fail_err != 0 ? NULL
                       : spool ? "records kept in memory until it recovers"
                               : "records sent to stderr until it recovers";
    struct tl__buf b;

    tl__buf_init(&b);
    if (op == TL__OP_MKDIR && path_into(f, &b, of->key) != NULL &&
        f->mkdir_len < b.len) {
        b.data[f->mkdir_len] = '\0'; /* name the folder, not the file */
        tl__sink_fail(&f->base, op, err, b.data, then);
    } else {
        report(f, op, err, of->key, then);
    }
    tl__buf_free(&b);
    of->fail_err = err < 0 ? -err : err;
    of->backoff_ns = of->backoff_ns == 0 ? BACKOFF_MIN_NS : of->backoff_ns * 2;
    if (of->backoff_ns > BACKOFF_MAX_NS) {
        of->backoff_ns = BACKOFF_MAX_NS;
    }
    of->retry_ns = mono_ns() + of->backoff_ns;
}

static void file_recovered(struct file_sink *f, struct open_file *of)
{
    if (of->fail_err != 0) {
        tl__diag("sink %s: %s works again", f->base.conf->name,
                 build_path(f, of->key));
    }
    of->fail_err = 0;
    of->backoff_ns = 0;
}

/* Keeps a record that could not be written in the spool, when the sink
 * has one with room; else the caller sends it to stderr. */
static int defer(struct file_sink *f, struct open_file *of, const char *data,
                 size_t len, int err)
{
    if (f->base.conf->fallback == TL__FALLBACK_SPOOL &&
        tl__spool_push(&f->spool, &of->queue, data, len) == 0) {
        atomic_fetch_add(&f->base.stats->spooled, 1);
        atomic_fetch_add(&f->base.stats->spool_depth, 1);
        return TL__SINK_SPOOLED;
    }
    return err < 0 ? err : -err;
}

/* Returns the slot for key, evicting the least recently used one when
 * the table is full; a slot with spooled records goes last. */
static struct open_file *slot_for(struct file_sink *f, const char *key)
{
    struct open_file *lru = NULL, *of;
    size_t i;

    for (i = 0; i < f->n_files; i++) {
        of = &f->files[i];
        if (strcmp(of->key, key) == 0) {
            return of;
        }
        if (lru == NULL || (lru->queue.count > 0 && of->queue.count == 0) ||
            ((lru->queue.count > 0) == (of->queue.count > 0) &&
             of->last_use < lru->last_use)) {
            lru = of;
        }
    }
    if (f->n_files < FILES_MAX) {
        lru = &f->files[f->n_files++];
        lru->fd = -1;
    } else {
        file_close(f, lru);
        spool_to_stderr(f, lru);
    }
    memset(lru, 0, sizeof(*lru));
    lru->fd = -1;
    strcpy(lru->key, key);
    return lru;
}

/* Returns true when, at most every CHECK_INTERVAL_NS, the path no longer
 * names the open file: it was renamed or unlinked (logrotate), or its
 * folder was deleted. The caller then reopens by path. */
static bool path_moved(struct file_sink *f, struct open_file *of)
{
    int64_t now = mono_ns();
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
    if (tl__sys->stat(path, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            tl__sink_fail(&f->base, TL__OP_STAT, errno, path, NULL);
        }
        return true; /* gone, or unknown: reopen by path */
    }
    if (st.st_dev != of->dev || st.st_ino != of->ino) {
        return true;
    }
    /* Smaller than the bytes it had plus those written since: truncated
     * (logrotate's copytruncate). O_APPEND already writes at the new
     * end; the size for max_bytes starts again from there. */
    if ((uint64_t)st.st_size < of->size) {
        atomic_fetch_add(&f->base.stats->truncations, 1);
    }
    /* Another process wrote (or truncated): its last write may have been
     * cut short, so look again whether the file ends in a torn line. */
    if ((uint64_t)st.st_size != of->size) {
        of->torn = st.st_size > 0 && ends_torn(f, path);
        of->torn_foreign = of->torn;
    }
    /* Other processes' writes count toward max_bytes too. */
    of->size = (uint64_t)st.st_size;
    return false;
}

static int64_t next_boundary(const struct tl__sink_conf *c, int64_t t)
{
    return tl__rotate_next(c->rotate, c->rotate_at_min, c->rotate_utc, t);
}

static void remember_identity(struct file_sink *f, struct open_file *of, int fd)
{
    const struct tl__sink_conf *c = f->base.conf;
    int64_t now = real_s(), since = now;
    struct stat st;

    of->size = 0;
    of->retry_size = 0;
    if (tl__sys->fstat(fd, &st) == 0) {
        of->dev = st.st_dev;
        of->ino = st.st_ino;
        of->size = (uint64_t)st.st_size;
        /* A file last written in an earlier period rotates at once. */
        if (of->size > 0 && st.st_mtime < now) {
            since = st.st_mtime;
        }
    } else {
        /* Unknown identity: the next path check reopens the file. */
        report(f, TL__OP_STAT, errno, of->key, NULL);
    }
    of->checked_ns = mono_ns();
    of->seen_s = now;
    if (c->rotate != TL__ROTATE_NONE) {
        of->boundary_s = next_boundary(c, since);
    }
}

/* Returns true when of's file has passed its time-rotation boundary. An
 * empty file is not rotated: its boundary moves on. When the clock has
 * stepped back, the boundary is recomputed from the new time. */
static bool time_due(struct file_sink *f, struct open_file *of)
{
    const struct tl__sink_conf *c = f->base.conf;
    int64_t now;

    if (c->rotate == TL__ROTATE_NONE || of->fd < 0) {
        return false;
    }
    now = real_s();
    if (now < of->seen_s) {
        of->boundary_s = next_boundary(c, now);
    }
    of->seen_s = now;
    if (now < of->boundary_s) {
        return false;
    }
    if (of->size == 0) {
        of->boundary_s = next_boundary(c, now);
        return false;
    }
    return true;
}

/* Retention */

/* Returns true when dir/name is the source of the compression running. */
static bool is_compressing(struct file_sink *f, const char *dir,
                           const char *name)
{
    const char *src, *base;
    char sdir[PATH_MAX];
    size_t len;

    if (f->cq.job == NULL) {
        return false;
    }
    src = tl__compress_path(f->cq.job);
    base = tl__path_split(src, sdir, sizeof(sdir));
    if (base == NULL) {
        return false;
    }
    len = strlen(base);
    return strncmp(base, name, len) == 0 &&
           (name[len] == '\0' || name[len] == '.') && strcmp(sdir, dir) == 0;
}

/* Deletes the rotated files of path that its retention no longer
 * keeps. No other file is touched. */
/* NOTE: another process may still append to a rotated file for up to
 * 10 ms, until its path check notices the rename. With a small keep this
 * can delete that file and the records written to it. */
static void prune(struct file_sink *f, const char *path)
{
    char dir[PATH_MAX], victim[PATH_MAX];
    const char *base = tl__path_split(path, dir, sizeof(dir));
    struct tl__rotated *list = NULL;
    size_t n = 0, i;
    int rc;

    rc = base != NULL ? tl__rotated_list(dir, base, &list, &n) : -ENAMETOOLONG;
    if (rc != 0) {
        tl__sink_fail(&f->base, TL__OP_LIST, rc, path, NULL);
        return;
    }
    tl__retention_plan(list, n, f->base.conf, real_s());
    for (i = 0; i < n; i++) {
        if (!list[i].doomed || is_compressing(f, dir, list[i].name)) {
            continue;
        }
        if (!join(victim, sizeof(victim), dir, list[i].name)) {
            continue;
        }
        if (tl__sys->unlink(victim) == 0) {
            atomic_fetch_add(&f->base.stats->pruned, 1);
        } else if (errno != ENOENT) {
            tl__sink_fail(&f->base, TL__OP_UNLINK, errno, victim, NULL);
        }
    }
    tl__rotated_free(list, n);
}

/* Compression of rotated files, a step per flush */

/* Queues the rotated file at path, whose active file's path is the
 * first active_len bytes of path. */
static void cq_push(struct file_sink *f, const char *path, size_t active_len)
{
    struct compress_queue *q = &f->cq;
    struct cq_item *grown;
    char *copy;
    size_t i;

    if (f->base.conf->compress == TL__COMPRESS_NONE) {
        return;
    }
    for (i = 0; i < q->n; i++) {
        if (strcmp(q->items[i].path, path) == 0) {
            return;
        }
    }
    if (q->n == q->cap) {
        grown = realloc(q->items, (q->cap ? q->cap * 2 : 8) * sizeof(*grown));
        if (grown == NULL) {
            return; /* compressed at the next start instead */
        }
        q->items = grown;
        q->cap = q->cap ? q->cap * 2 : 8;
    }
    copy = strdup(path);
    if (copy != NULL) {
        q->items[q->n].path = copy;
        q->items[q->n].active_len = active_len;
        q->items[q->n].tries = 0;
        q->items[q->n++].not_before_ns = 0;
    }
}

static void cq_pop(struct compress_queue *q)
{
    free(q->items[0].path);
    memmove(q->items, q->items + 1, (q->n - 1) * sizeof(*q->items));
    q->n--;
}

/* Moves the first item whose next try may start at now to the front.
 * Returns false when none may. */
static bool cq_ready_first(struct compress_queue *q, int64_t now)
{
    struct cq_item ready;
    size_t i;

    for (i = 0; i < q->n && q->items[i].not_before_ns > now; i++) {
    }
    if (i == q->n) {
        return false;
    }
    ready = q->items[i];
    memmove(q->items + 1, q->items, i * sizeof(*q->items));
    q->items[0] = ready;
    return true;
}

/* Counts the failed compression (rc) of the front item and puts it at
 * the back for another try after a backoff, or drops it: once gone, or
 * after COMPRESS_TRIES tries. */
static void cq_failed(struct file_sink *f, int rc)
{
    struct compress_queue *q = &f->cq;
    struct cq_item item = q->items[0];
    bool again = rc != -ENOENT && item.tries + 1 < COMPRESS_TRIES;

    tl__sink_fail(&f->base, TL__OP_COMPRESS, rc, item.path,
                  again ? "tries again later" : "the file stays uncompressed");
    if (!again) {
        cq_pop(q);
        return;
    }
    memmove(q->items, q->items + 1, (q->n - 1) * sizeof(*q->items));
    item.not_before_ns = mono_ns() + (COMPRESS_RETRY_NS << item.tries);
    item.tries++;
    q->items[q->n - 1] = item;
}

static void cq_end_job(struct file_sink *f)
{
    if (f->cq.job != NULL) {
        tl__compress_free(f->cq.job);
        f->cq.job = NULL;
    }
    if (f->cq.lock_fd >= 0) {
        close_fd(f, f->cq.lock_fd, NULL); /* releases the flock */
        f->cq.lock_fd = -1;
    }
}

/* Opens path with flags and takes an exclusive flock(2) on it into *out,
 * without waiting: the owner thread must not stall behind another
 * process (tenantlogd serves every tenant from that thread). Returns 0,
 * -EWOULDBLOCK when another process holds the lock, or a negated errno. */
static int lock_open(const char *path, int flags, int *out)
{
    int fd = tl__sys->open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0640), err;

    if (fd < 0) {
        return -errno;
    }
    if (tl__sys->flock(fd, LOCK_EX | LOCK_NB) != 0) {
        err = errno;
        tl__sys->close(fd);
        return -err;
    }
    *out = fd;
    return 0;
}

/* Locks the rotated file at path against other processes compressing it
 * too, into *out. Returns 1 when locked, 0 when another process holds it
 * or it is gone, or a negated errno. */
static int lock_rotated(const char *path, int *out)
{
    int rc = lock_open(path, O_RDONLY, out);

    if (rc == -ENOENT || rc == -EWOULDBLOCK) {
        return 0;
    }
    return rc == 0 ? 1 : rc;
}

/* Starts compressing the oldest queued file once it has been quiet for
 * QUIET_NS. Returns true when a job runs. */
static bool cq_start(struct file_sink *f)
{
    struct compress_queue *q = &f->cq;
    int64_t quiet;
    struct stat st;
    int rc;

    while (q->job == NULL && q->n > 0 && cq_ready_first(q, mono_ns())) {
        const char *path = q->items[0].path;

        if (tl__sys->lstat(path, &st) != 0) {
            /* ENOENT: deleted by retention or by another process. */
            if (errno != ENOENT) {
                cq_failed(f, -errno);
            } else {
                cq_pop(q);
            }
            continue;
        }
        quiet = tl__sys_now_ns(CLOCK_REALTIME) -
                ((int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
        /* Written less than QUIET_NS ago: look again later, and go on to
         * the next. A time further ahead than that means that the clock
         * stepped back since, and counts as quiet. */
        if (quiet > -QUIET_NS && quiet < QUIET_NS) {
            q->items[0].not_before_ns = mono_ns() + (QUIET_NS - quiet);
            continue;
        }
        rc = lock_rotated(path, &q->lock_fd);
        if (rc == 1) {
            rc = tl__compress_begin(path, f->base.conf->compress, &q->job);
            if (rc != 0) {
                q->job = NULL;
                cq_end_job(f);
            }
        }
        if (rc < 0) {
            cq_failed(f, rc);
        } else if (q->job == NULL) {
            cq_pop(q); /* another process compresses it, or it is gone */
        }
    }
    q->next_ready = false; /* until the next job ends */
    return q->job != NULL;
}

/* Compresses a step of the oldest queued file; once done, applies the
 * retention by bytes again, since sizes changed. */
static void cq_step(struct file_sink *f)
{
    struct compress_queue *q = &f->cq;
    int64_t start = mono_ns();
    char active[PATH_MAX];
    int rc = 1, i;

    if (f->base.set != NULL && f->base.set->busy &&
        ++q->yielded < COMPRESS_BUSY_EVERY) {
        return;
    }
    q->yielded = 0;
    if (q->job == NULL && !cq_start(f)) {
        return;
    }
    for (i = 0; i < COMPRESS_STEPS && rc == 1; i++) {
        rc = tl__compress_step(q->job, COMPRESS_STEP);
        if (mono_ns() - start >= COMPRESS_STEP_NS) {
            break;
        }
    }
    if (rc == 1) {
        return;
    }
    cq_end_job(f);
    snprintf(active, sizeof(active), "%.*s", (int)q->items[0].active_len,
             q->items[0].path);
    if (rc == 0) {
        atomic_fetch_add(&f->base.stats->compressed, 1);
        cq_pop(q);
    } else {
        cq_failed(f, rc);
    }
    q->next_ready = q->n > 0;
    prune(f, active);
}

/* Leftovers of earlier runs */

/* FNV-1a of key, for the set of keys already scanned. */
static size_t key_hash(const char *key)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *key != '\0'; key++) {
        h = (h ^ (unsigned char)*key) * 1099511628211ULL;
    }
    return (size_t)h;
}

/* Returns the slot of key in the open-addressing table of cap (a power
 * of two) slots: where it is, or the empty one where it would go. */
static char **scanned_slot(char **table, size_t cap, const char *key)
{
    size_t i = key_hash(key) & (cap - 1);

    while (table[i] != NULL && strcmp(table[i], key) != 0) {
        i = (i + 1) & (cap - 1);
    }
    return &table[i];
}

/* Doubles the table of scanned keys (at least 64 slots). */
static bool scanned_grow(struct file_sink *f)
{
    size_t cap = f->cap_scanned ? f->cap_scanned * 2 : 64, i;
    char **table = calloc(cap, sizeof(*table));

    if (table == NULL) {
        return false;
    }
    for (i = 0; i < f->cap_scanned; i++) {
        if (f->scanned[i] != NULL) {
            *scanned_slot(table, cap, f->scanned[i]) = f->scanned[i];
        }
    }
    free(f->scanned);
    f->scanned = table;
    f->cap_scanned = cap;
    return true;
}

/* Returns true the first time it is called with key, and records key. */
static bool first_use(struct file_sink *f, const char *key)
{
    char **slot;

    if (f->n_scanned * 2 >= f->cap_scanned && !scanned_grow(f)) {
        return false;
    }
    slot = scanned_slot(f->scanned, f->cap_scanned, key);
    if (*slot != NULL) {
        return false;
    }
    *slot = strdup(key);
    if (*slot == NULL) {
        return false;
    }
    f->n_scanned++;
    return true;
}

static void unlink_quietly(struct file_sink *f, const char *path)
{
    if (tl__sys->unlink(path) != 0 && errno != ENOENT) {
        tl__sink_fail(&f->base, TL__OP_UNLINK, errno, path, NULL);
    }
}

/* Handles one rotated file (list[first..end), its forms) left by an
 * earlier run: removes a compression temporary that no process works
 * on, an original whose compressed form is complete, and queues an
 * uncompressed one. */
static void scan_group(struct file_sink *f, const char *dir, size_t act_len,
                       const struct tl__rotated *list, size_t first, size_t end)
{
    const struct tl__rotated *orig = NULL, *done = NULL, *tmp = NULL;
    char path[PATH_MAX], other[PATH_MAX];
    int lock = -1, locked;
    size_t i;

    for (i = first; i < end; i++) {
        const struct tl__rotated *r = &list[i];

        if (r->tmp) {
            tmp = r;
        } else if (r->comp != TL__COMPRESS_NONE) {
            done = r;
        } else {
            orig = r;
        }
    }
    if ((orig != NULL && !join(path, sizeof(path), dir, orig->name)) ||
        (tmp != NULL && !join(other, sizeof(other), dir, tmp->name))) {
        return;
    }
    locked = tmp != NULL && orig != NULL ? lock_rotated(path, &lock) : 1;
    if (locked < 0) {
        tl__sink_fail(&f->base, TL__OP_LOCK, locked, path, NULL);
    }
    if (tmp != NULL && locked == 1) {
        unlink_quietly(f, other);
        if (lock >= 0) {
            close_fd(f, lock, NULL); /* releases the flock */
        }
    } else if (tmp != NULL) {
        return; /* another process compresses it now */
    }
    if (orig != NULL && done != NULL) {
        unlink_quietly(f, path);
    } else if (orig != NULL) {
        cq_push(f, path, act_len);
    }
}

/* At the first use of a file in this process, finishes what an earlier
 * run left in its folder, then applies the retention. */
static void scan_once(struct file_sink *f, const char *key, const char *path)
{
    char dir[PATH_MAX];
    const char *base = tl__path_split(path, dir, sizeof(dir));
    struct tl__rotated *list = NULL;
    size_t n = 0, first, end;
    int rc;

    if (!first_use(f, key)) {
        return;
    }
    rc = base != NULL ? tl__rotated_list(dir, base, &list, &n) : -ENAMETOOLONG;
    if (rc == 0) {
        for (first = 0; first < n; first = end) {
            end = first + 1;
            while (end < n && tl__rotated_same(&list[first], &list[end])) {
                end++;
            }
            scan_group(f, dir, strlen(path), list, first, end);
        }
        tl__rotated_free(list, n);
    } else {
        tl__sink_fail(&f->base, TL__OP_LIST, rc, dir,
                      "files left by an earlier run stay as they are");
    }
    prune(f, path);
}

/* Rotation */

/* Takes the rotation lock of path: a flock on "<path>.lock". */
static int lock_path(const char *path, int *out)
{
    char name[PATH_MAX];
    int len = snprintf(name, sizeof(name), "%s.lock", path);

    if (len < 0 || (size_t)len >= sizeof(name)) {
        return -ENAMETOOLONG;
    }
    return lock_open(name, O_WRONLY | O_CREAT, out);
}

/* Renames the file at path aside when it is still the one of has open,
 * then applies the retention. Returns 0 when the caller should reopen
 * by path. */
static int rotate_locked(struct file_sink *f, struct open_file *of,
                         const char *path)
{
    char to[PATH_MAX];
    struct stat st;
    int rc;

    if (tl__sys->stat(path, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            tl__sink_fail(&f->base, TL__OP_STAT, errno, path, NULL);
        }
        st.st_ino = 0; /* gone, or unknown */
    }
    if (st.st_ino == 0 || st.st_dev != of->dev || st.st_ino != of->ino) {
        /* Gone, or another process rotated it: the caller reopens. */
        atomic_fetch_add(&f->base.stats->reopens, 1);
        return 0;
    }
    rc = tl__rotate_aside(path, tl__sys_now_ns(CLOCK_REALTIME), to, sizeof(to));
    if (rc != 0) {
        return rc;
    }
    atomic_fetch_add(&f->base.stats->rotations, 1);
    cq_push(f, to, strlen(path));
    prune(f, path);
    return 0;
}

/* Rotates of's file, which reached max_bytes or a time boundary. On
 * failure the file stays open and the sink keeps appending to it; it
 * tries again after another max_bytes, or a minute later. While another
 * process holds the rotation lock, it tries again LOCK_RETRY_NS later. */
static void file_rotate(struct file_sink *f, struct open_file *of)
{
    const char *built;
    char *path;
    int lock = -1, rc;
    enum tl__sink_op op = TL__OP_LOCK;

    if (mono_ns() < of->lock_retry_ns) {
        return;
    }
    built = build_path(f, of->key);
    path = built != NULL ? strdup(built) : NULL;
    rc = path != NULL ? lock_path(path, &lock) : -ENOMEM;
    if (rc == -EWOULDBLOCK) {
        of->lock_retry_ns = mono_ns() + LOCK_RETRY_NS;
        free(path);
        return;
    }
    if (rc == 0) {
        op = TL__OP_RENAME;
        rc = rotate_locked(f, of, path);
        close_fd(f, lock, NULL); /* releases the flock */
    }
    if (rc != 0) {
        tl__sink_fail(&f->base, op, rc, path, "kept appending to the file");
        of->retry_size = of->size + f->base.conf->max_bytes;
        if (of->boundary_s != 0) {
            of->boundary_s = real_s() + 60;
        }
    } else {
        file_close(f, of);
    }
    free(path);
}

/* Writing */

static size_t open_count(const struct file_sink *f)
{
    size_t i, n = 0;

    for (i = 0; i < f->n_files; i++) {
        n += f->files[i].fd >= 0;
    }
    return n;
}

/* Returns how many files the sink may keep open: FILES_MAX, or fewer for
 * FD_CAP_NS after the process ran out of descriptors. */
static size_t fd_cap(struct file_sink *f)
{
    if (f->fd_cap != 0 && mono_ns() - f->fd_cap_ns >= FD_CAP_NS) {
        f->fd_cap = 0;
    }
    return f->fd_cap != 0 ? f->fd_cap : FILES_MAX;
}

/* Closes the least recently used open file other than keep, to free a
 * descriptor when the process has run out. Returns false when there is
 * none. */
static bool close_idle(struct file_sink *f, const struct open_file *keep)
{
    struct open_file *lru = NULL;
    size_t i;

    for (i = 0; i < f->n_files; i++) {
        struct open_file *of = &f->files[i];

        if (of != keep && of->fd >= 0 &&
            (lru == NULL || of->last_use < lru->last_use)) {
            lru = of;
        }
    }
    if (lru == NULL) {
        return false;
    }
    file_close(f, lru);
    return true;
}

/* Opens of's file when it is closed or its path names another file now,
 * and rotates it first when its time boundary has passed. Returns the
 * descriptor, or a negated errno, counted and reported. */
static int file_fd(struct file_sink *f, struct open_file *of)
{
    enum tl__sink_op op;
    const char *path;
    int fd, tries;

    for (tries = 0; tries < 2; tries++) {
        if (of->fd >= 0 && !path_moved(f, of)) {
            if (!time_due(f, of)) {
                return of->fd;
            }
            file_rotate(f, of);
            if (of->fd >= 0) {
                return of->fd; /* the rotation failed: keep appending */
            }
        } else if (of->fd >= 0) {
            file_close(f, of);
            atomic_fetch_add(&f->base.stats->reopens, 1);
        }
        path = build_path(f, of->key);
        if (path == NULL) {
            return -ENOMEM;
        }
        while (open_count(f) >= fd_cap(f) && close_idle(f, of)) {
        }
        fd = open_path(f, f->path.data, &of->torn, &op);
        if ((fd == -EMFILE || fd == -ENFILE) && close_idle(f, of)) {
            tl__sink_fail(&f->base, op, fd, f->path.data,
                          "closed the least recently used file and retried");
            fd = build_path(f, of->key) != NULL
                     ? open_path(f, f->path.data, &of->torn, &op)
                     : -ENOMEM;
            /* Keep fewer open than fitted, for FD_CAP_NS: one less, so
             * that the probe for a torn line has a descriptor too. */
            f->fd_cap = open_count(f) + (fd >= 0);
            f->fd_cap = f->fd_cap > 2 ? f->fd_cap - 1 : 1;
            f->fd_cap_ns = mono_ns();
        }
        if (fd < 0) {
            file_failed(f, of, op, fd);
            return fd;
        }
        of->fd = fd;
        of->torn_foreign = of->torn;
        atomic_fetch_add(&f->base.stats->open_fds, 1);
        remember_identity(f, of, fd);
        if (build_path(f, of->key) != NULL) {
            scan_once(f, of->key, f->path.data);
        }
    }
    return of->fd;
}

/* Writes one formatted record to of's file with one write(2) (more only
 * after a partial write). Returns 0 or a negated errno, counted and
 * reported. */
static int write_line(struct file_sink *f, struct open_file *of,
                      const char *data, size_t len)
{
    struct tl__buf *line = &f->base.line;
    int fd = file_fd(f, of);
    size_t left, total;
    const char *p;

    if (fd < 0) {
        return fd;
    }
    /* A torn line seen by looking at the file may be another process's
     * write still in progress: look again right before this one. */
    if (of->torn && of->torn_foreign && build_path(f, of->key) != NULL) {
        of->torn = ends_unterminated(f, f->path.data);
    }
    p = data;
    total = len;
    if (of->torn) {
        tl__buf_reset(line);
        tl__buf_addc(line, '\n');
        tl__buf_add(line, data, len);
        if (line->oom) {
            return -ENOMEM;
        }
        p = line->data;
        total = line->len;
    }
    for (left = total; left > 0;) {
        ssize_t n = tl__sys->write(fd, p, left);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int err = n < 0 ? errno : EIO; /* 0 would loop forever */

            of->torn = of->torn || left < total;
            of->torn_foreign = false;
            /* Reopen by path on the next record: the file may be gone. */
            file_close(f, of);
            file_failed(f, of, TL__OP_WRITE, err);
            return -err;
        }
        p += n;
        left -= (size_t)n;
    }
    of->torn = false;
    of->torn_foreign = false;
    of->dirty = true;
    of->size += total;
    file_recovered(f, of);
    if (f->base.conf->max_bytes > 0 && of->size >= f->base.conf->max_bytes &&
        of->size >= of->retry_size) {
        file_rotate(f, of);
    }
    return 0;
}

/* Writes of's spooled records, oldest first, until one fails. */
static int drain(struct file_sink *f, struct open_file *of)
{
    const struct tl__spooled *e;
    int rc;

    while ((e = of->queue.head) != NULL) {
        rc = write_line(f, of, e->data, e->len);
        if (rc != 0) {
            return rc;
        }
        tl__spool_pop(&f->spool, &of->queue);
        atomic_fetch_add(&f->base.stats->spool_written, 1);
        atomic_fetch_sub(&f->base.stats->spool_depth, 1);
    }
    return 0;
}

static int file_write(struct tl__sink *s, const struct tl__record *r)
{
    struct file_sink *f = (struct file_sink *)s;
    struct open_file *of = slot_for(f, key_for(r));
    int rc = 0;

    of->last_use = ++f->tick;
    tl__buf_reset(&f->record);
    tl__format_json(&f->record, r);
    if (f->record.oom) {
        return -ENOMEM;
    }
    if (of->fail_err != 0 && mono_ns() < of->retry_ns) {
        rc = -of->fail_err; /* backing off: no system call */
    } else if (of->queue.count > 0) {
        rc = drain(f, of);
    }
    if (rc == 0) {
        rc = write_line(f, of, f->record.data, f->record.len);
    }
    return rc == 0 ? 0 : defer(f, of, f->record.data, f->record.len, rc);
}

/* fsyncs the files written since the last pass: after every batch, or
 * once fsync_ms milliseconds have passed, as the configuration sets. */
static void sync_files(struct file_sink *f)
{
    int mode = f->base.conf->fsync_ms;
    int64_t now;
    size_t i;

    if (mode == TL__FSYNC_NEVER) {
        return;
    }
    now = mono_ns();
    if (mode > 0 && now - f->synced_ns < (int64_t)mode * 1000000) {
        return;
    }
    f->synced_ns = now;
    for (i = 0; i < f->n_files; i++) {
        struct open_file *of = &f->files[i];

        if (of->fd < 0 || !of->dirty) {
            continue;
        }
        of->dirty = false;
        if (tl__sys->fsync(of->fd) == 0) {
            atomic_fetch_add(&f->base.stats->fsyncs, 1);
        } else {
            report(f, TL__OP_FSYNC, errno, of->key, NULL);
        }
    }
}

/* Work between batches: rotations whose time came while idle, spools
 * whose retry is due, and the retention by age. */
static void tend_files(struct file_sink *f)
{
    int64_t now = mono_ns();
    bool ages = f->base.conf->max_age_s > 0 &&
                now - f->retained_ns >= RETENTION_EVERY_NS;
    size_t i;

    if (ages) {
        f->retained_ns = now;
    }
    for (i = 0; i < f->n_files; i++) {
        struct open_file *of = &f->files[i];

        if (time_due(f, of)) {
            file_rotate(f, of);
        }
        if (of->queue.count > 0 && now >= of->retry_ns) {
            (void)drain(f, of);
        }
        if (ages && build_path(f, of->key) != NULL) {
            prune(f, f->path.data);
        }
    }
}

static void file_flush(struct tl__sink *s)
{
    struct file_sink *f = (struct file_sink *)s;

    sync_files(f);
    tend_files(f);
    cq_step(f);
}

static bool file_pending(const struct tl__sink *s)
{
    const struct file_sink *f = (const struct file_sink *)s;

    return f->cq.job != NULL || f->cq.next_ready;
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
        f->files[i].retry_ns = 0; /* a reopen retries at once */
    }
}

/* In a fork() child: drops the parent's compressions and spooled
 * records. The parent finishes them; counted here, they would be written
 * or compressed twice. */
static void file_after_fork(struct tl__sink *s)
{
    struct file_sink *f = (struct file_sink *)s;
    size_t i, n;

    tl__compress_forget(f->cq.job);
    f->cq.job = NULL;
    if (f->cq.lock_fd >= 0) {
        tl__sys->close(f->cq.lock_fd); /* the parent's flock stays */
        f->cq.lock_fd = -1;
    }
    while (f->cq.n > 0) {
        cq_pop(&f->cq);
    }
    for (i = 0; i < f->n_files; i++) {
        n = f->files[i].queue.count;
        tl__spool_clear(&f->spool, &f->files[i].queue);
        atomic_fetch_sub(&f->base.stats->spooled, n);
        atomic_fetch_sub(&f->base.stats->spool_depth, n);
    }
}

/* Writes the spooled records of every file, whatever the backoff, and
 * sends those that still fail to stderr. */
static void file_finish(struct tl__sink *s)
{
    struct file_sink *f = (struct file_sink *)s;
    size_t i;

    for (i = 0; i < f->n_files; i++) {
        struct open_file *of = &f->files[i];

        if (of->queue.count > 0) {
            (void)drain(f, of);
            spool_to_stderr(f, of);
        }
    }
}

static void file_free(struct tl__sink *s)
{
    struct file_sink *f = (struct file_sink *)s;
    size_t i;

    file_finish(s);
    for (i = 0; i < f->n_files; i++) {
        file_close(f, &f->files[i]);
    }
    cq_end_job(f);
    while (f->cq.n > 0) {
        cq_pop(&f->cq);
    }
    free(f->cq.items);
    for (i = 0; i < f->cap_scanned; i++) {
        free(f->scanned[i]);
    }
    free(f->scanned);
    tl__buf_free(&f->path);
    tl__buf_free(&f->record);
    free(f->base_dir);
    free(f);
}

static const struct tl__sink_ops file_ops = {
    .write = file_write,
    .reopen = file_reopen,
    .flush = file_flush,
    .pending = file_pending,
    .finish = file_finish,
    .after_fork = file_after_fork,
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
    f->cq.lock_fd = -1;
    tl__buf_init(&f->path);
    tl__buf_init(&f->record);
    tl__spool_init(&f->spool, conf->spool_bytes);
    *out = &f->base;
    return 0;
}
