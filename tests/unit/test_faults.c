/* Fault sweep of the file sink: a write-rotate-compress-reopen scenario,
 * run once per system call with that call failing (or every call from it
 * on), for each errno and fallback, checking descriptors, counters,
 * records and recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "fault.h"
#include "lib/config.h"
#include "lib/file_rotate.h"
#include "lib/format.h"
#include "lib/record.h"
#include "lib/sink.h"

#if defined(__SANITIZE_ADDRESS__)
#define SWEEP_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SWEEP_LEAK_CHECK 1
#endif
#endif
#ifdef SWEEP_LEAK_CHECK
#include <sanitizer/lsan_interface.h>
/* Under ASan every compression maps and zeroes fresh memory, so a full
 * sweep takes about 8 times as long. So it tries every 4th call unless
 * TL_SWEEP_STRIDE sets another stride. */
#define STRIDE_DEFAULT 4
#elif defined(__SANITIZE_THREAD__)
/* TSan slows the single-threaded sweep as much; it checks no data race
 * here, since one thread makes every call. */
#define STRIDE_DEFAULT 8
#else
#define STRIDE_DEFAULT 1
#endif

enum {
    MAIN_RECORDS = 46,    /* records of the phase where calls may fail */
    RECOVERY_RECORDS = 4, /* records written once the fault is off */
    RECORDS = MAIN_RECORDS + RECOVERY_RECORDS,
    /* Message padding: with about 1.5 KB a line, three records pass
     * max_bytes (4096), and the 64 KiB spool overflows when every
     * record of the main phase lands in it. */
    PAD_BYTES = 1400,
    BATCH = 4,              /* records between two flushes */
    SETTLE_ROUNDS_MAX = 50, /* flushes the recovery may take */
    SHOWN_MAX = 20,         /* failed runs printed per test */
    VERDICT_MAX = 2048,     /* bytes of one run's failure message */
    ERR_SLOTS = TL__SINK_ERR_SLOTS,
    KEEP = 3,        /* rotated files kept per tenant */
    GROUPS_MAX = 64, /* rotated files of a folder the checks follow */
    DIR_MAX = 512,   /* bytes of a run's folder name; paths below it fit in
                        PATH_MAX */
};

#define MS 1000000LL
#define BASE_TS_NS 1700000000000000000LL
/* Fake time that makes rotated files quiet enough to compress (1 s
 * without a write). Their mtime comes from the real clock, so the extra
 * 0.5 s covers the real time a run takes before it settles. */
#define QUIET_PAST_NS (1500 * MS)
/* Past the longest retry backoff of a failing file (2 s). */
#define BACKOFF_PAST_NS (2100 * MS)
/* Past the interval between two path checks (10 ms). */
#define CHECK_PAST_NS (20 * MS)

#define ACTIVE "app.log"
#define MOVED "app.log.moved"

static const char *const tenants[] = {"alpha", "beta"};

static const struct {
    int err;
    const char *name;
} errnos[] = {
    {ENOSPC, "ENOSPC"}, {EIO, "EIO"},     {EACCES, "EACCES"},
    {EMFILE, "EMFILE"}, {EROFS, "EROFS"},
};

/* How often each numbered record was found as a complete line. */
struct tally {
    unsigned count[RECORDS + 1];
    unsigned long unknown; /* lines and fragments that match no record */
};

/* The plan of one run: the calls numbered [from, to] of the main phase
 * (from 0: none) fail with errno err, then the sink recovers, or closes
 * at once while the fault lasts. */
struct plan {
    int err;
    enum tl__fallback mode;
    unsigned long from, to;
    bool recover;
};

struct run {
    struct plan plan;
    int records; /* records written: all, or those of the main phase */

    char dir[DIR_MAX]; /* the run's temporary folder */
    int open_rc;       /* of tl__config_parse, then tl__sinks_open */
    struct tl__sink_stats stats;
    unsigned long calls; /* calls of the main phase */
    unsigned long failed, bad_fds;
    int fds_before, fds_after;
    unsigned long diags; /* diagnostics the library emitted */
    int settle_rounds;
    struct tally files;        /* active, moved and rotated files at the end */
    struct tally errout;       /* what went to stderr */
    struct tally pruned;       /* files that retention deleted, every form */
    unsigned long strays;      /* files the scheme does not explain */
    unsigned long bad_unlinks; /* unlinks of files the sink does not own */
    unsigned long early_deletes; /* rotated files deleted within keep */
    bool moved_seen;             /* the externally renamed file exists */
    unsigned long uncompressed;  /* rotated files left without .zst form */
    const char *failed_call;     /* name of the first call failed */
};

static struct tl__record *records[RECORDS + 1];
static char *lines[RECORDS + 1]; /* records[n] formatted, no newline */
static size_t line_lens[RECORDS + 1];
static char tmp_root[DIR_MAX - 32];
static struct tl__sys sweep_sys; /* fault.h's table, watched */
static struct run *cur;          /* the run in progress */
static struct run run;
static unsigned long calls_k; /* calls of the main phase without faults */
static ZSTD_DStream *dstream;

/* ---- files ---- */

struct blob {
    char *data; /* NUL-terminated */
    size_t len;
};

static bool blob_add(struct blob *b, const void *p, size_t len)
{
    char *grown = realloc(b->data, b->len + len + 1);

    if (grown == NULL) {
        return false;
    }
    b->data = grown;
    memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

/* Reads the file at path with libc, not through the table under test. */
static bool blob_read(const char *path, struct blob *out)
{
    char chunk[65536];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && blob_add(out, "", 0);

    while (ok && (n = read(fd, chunk, sizeof(chunk))) != 0) {
        ok = n > 0 && blob_add(out, chunk, (size_t)n);
    }
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/* Decompresses the zstd frames in z into out. One context serves every
 * call, because under ASan a fresh one per file costs more than the
 * sink does. */
static bool blob_unzstd(const struct blob *z, struct blob *out)
{
    char chunk[65536];
    ZSTD_inBuffer in = {z->data, z->len, 0};
    size_t rc = 1;
    bool ok = blob_add(out, "", 0);

    if (dstream == NULL) {
        dstream = ZSTD_createDStream();
    }
    ok = ok && dstream != NULL &&
         !ZSTD_isError(ZSTD_DCtx_reset(dstream, ZSTD_reset_session_only));

    while (ok && (in.pos < in.size || rc != 0)) {
        ZSTD_outBuffer o = {chunk, sizeof(chunk), 0};

        rc = ZSTD_decompressStream(dstream, &o, &in);
        ok = !ZSTD_isError(rc) && blob_add(out, chunk, o.pos) &&
             (o.pos > 0 || in.pos < in.size);
    }
    return ok;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Returns n when line is exactly record n's line, else 0. */
static int record_of(const char *line, size_t len)
{
    static const char key[] = "\"msg\":\"rec ";
    const char *at = memmem(line, len, key, sizeof(key) - 1);
    int n = 0, i;

    if (at == NULL || (size_t)(at - line) + sizeof(key) + 4 > len) {
        return 0;
    }
    at += sizeof(key) - 1;
    for (i = 0; i < 4 && at[i] >= '0' && at[i] <= '9'; i++) {
        n = n * 10 + (at[i] - '0');
    }
    if (i < 4 || n < 1 || n > RECORDS || len != line_lens[n] ||
        memcmp(line, lines[n], len) != 0) {
        return 0;
    }
    return n;
}

/* Counts the complete record lines of text; anything else, such as a
 * fragment without its newline, counts as unknown. */
static void tally_text(struct tally *t, const char *p, size_t len)
{
    const char *end = p + len, *nl;
    int n;

    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            t->unknown++;
            return;
        }
        n = record_of(p, (size_t)(nl - p));
        if (n > 0) {
            t->count[n]++;
        } else {
            t->unknown++;
        }
        p = nl + 1;
    }
}

/* Counts the records in the file at path, decompressing a ".zst" one.
 * A file that cannot be read or decompressed counts as unknown. */
static void tally_file(struct tally *t, const char *path)
{
    struct blob raw = {NULL, 0}, text = {NULL, 0};
    bool ok = blob_read(path, &raw);

    if (ok && ends_with(path, ".zst")) {
        ok = blob_unzstd(&raw, &text);
    } else if (ok) {
        text = raw;
        raw.data = NULL;
    }
    if (ok) {
        tally_text(t, text.data, text.len);
    } else {
        t->unknown++;
    }
    free(raw.data);
    free(text.data);
}

static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* Returns true when the other form of the rotated file at path (its
 * original, or its compressed form) exists. */
static bool other_form_exists(const char *path, const struct tl__rotated *r)
{
    char other[PATH_MAX];

    if (r->comp == TL__COMPRESS_NONE) {
        snprintf(other, sizeof(other), "%s.zst", path);
    } else {
        snprintf(other, sizeof(other), "%.*s", (int)(strlen(path) - 4), path);
    }
    return exists(other);
}

/* Counts one file of a tenant's folder at the end of a run. */
static void tally_entry(struct run *r, const char *path, const char *name)
{
    struct tl__rotated rot;

    if (strcmp(name, ACTIVE) == 0 || strcmp(name, MOVED) == 0) {
        r->moved_seen = r->moved_seen || strcmp(name, MOVED) == 0;
        tally_file(&r->files, path);
    } else if (strcmp(name, ACTIVE ".lock") == 0) {
        return;
    } else if (tl__rotated_parse(name, ACTIVE, &rot) != 0) {
        r->strays++;
    } else if (rot.tmp) {
        return; /* a compression's temporary: never a complete file */
    } else if (rot.comp == TL__COMPRESS_NONE && other_form_exists(path, &rot)) {
        return; /* counted through its compressed form */
    } else {
        r->uncompressed += rot.comp == TL__COMPRESS_NONE;
        tally_file(&r->files, path);
    }
}

static void tally_folders(struct run *r)
{
    char dir[DIR_MAX + 64], path[DIR_MAX + 64 + 256];
    struct dirent *e;
    size_t i;
    DIR *d;

    for (i = 0; i < sizeof(tenants) / sizeof(tenants[0]); i++) {
        snprintf(dir, sizeof(dir), "%s/logs/%s", r->dir, tenants[i]);
        d = opendir(dir);
        if (d == NULL) {
            continue;
        }
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] != '.') {
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                tally_entry(r, path, e->d_name);
            }
        }
        closedir(d);
    }
    snprintf(path, sizeof(path), "%s/stderr.log", r->dir);
    tally_file(&r->errout, path);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

/* ---- the watched table and the diagnostics ---- */

static bool is_newer(const struct tl__rotated *a, const struct tl__rotated *b)
{
    int c = strcmp(a->stamp, b->stamp);

    return c > 0 || (c == 0 && a->index > b->index);
}

static bool listed(const struct tl__rotated *list, int n,
                   const struct tl__rotated *r)
{
    int i;

    for (i = 0; i < n; i++) {
        if (tl__rotated_same(&list[i], r)) {
            return true;
        }
    }
    return false;
}

/* Returns how many rotated files of the folder of path (the forms of
 * one counting once) are newer than rot, read with libc. */
static int newer_rotated(const char *path, const struct tl__rotated *rot)
{
    struct tl__rotated seen[GROUPS_MAX], r;
    char dir[DIR_MAX + 64];
    const char *slash = strrchr(path, '/');
    struct dirent *e;
    int n = 0;
    DIR *d;

    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    d = opendir(dir);
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (tl__rotated_parse(e->d_name, ACTIVE, &r) == 0 && !r.tmp &&
            is_newer(&r, rot) && !listed(seen, n, &r) && n < GROUPS_MAX) {
            seen[n++] = r;
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    return n;
}

/* Records the name of the first call that fault.h's table failed. */
static void note(const char *name, unsigned long failed_before)
{
    if (fault.failed != failed_before && cur->failed_call == NULL) {
        cur->failed_call = name;
    }
}

static int watch_open(const char *path, int flags, mode_t mode)
{
    unsigned long before = fault.failed;
    int rc = fault_sys.open(path, flags, mode);

    note("open", before);
    return rc;
}

static int watch_close(int fd)
{
    unsigned long before = fault.failed;
    int rc = fault_sys.close(fd);

    note("close", before);
    return rc;
}

static ssize_t watch_read(int fd, void *buf, size_t len)
{
    unsigned long before = fault.failed;
    ssize_t rc = fault_sys.read(fd, buf, len);

    note("read", before);
    return rc;
}

static ssize_t watch_pread(int fd, void *buf, size_t len, off_t off)
{
    unsigned long before = fault.failed;
    ssize_t rc = fault_sys.pread(fd, buf, len, off);

    note("pread", before);
    return rc;
}

static ssize_t watch_write(int fd, const void *buf, size_t len)
{
    unsigned long before = fault.failed;
    ssize_t rc = fault_sys.write(fd, buf, len);

    note("write", before);
    return rc;
}

static int watch_fsync(int fd)
{
    unsigned long before = fault.failed;
    int rc = fault_sys.fsync(fd);

    note("fsync", before);
    return rc;
}

static int watch_fstat(int fd, struct stat *st)
{
    unsigned long before = fault.failed;
    int rc = fault_sys.fstat(fd, st);

    note("fstat", before);
    return rc;
}

static int watch_stat(const char *path, struct stat *st)
{
    unsigned long before = fault.failed;
    int rc = fault_sys.stat(path, st);

    note("stat", before);
    return rc;
}

static int watch_lstat(const char *path, struct stat *st)
{
    unsigned long before = fault.failed;
    int rc = fault_sys.lstat(path, st);

    note("lstat", before);
    return rc;
}

static int watch_rename(const char *from, const char *to)
{
    unsigned long before = fault.failed;
    int rc = fault_sys.rename(from, to);

    note("rename", before);
    return rc;
}

static int watch_mkdir(const char *path, mode_t mode)
{
    unsigned long before = fault.failed;
    int rc = fault_sys.mkdir(path, mode);

    note("mkdir", before);
    return rc;
}

static int watch_flock(int fd, int op)
{
    unsigned long before = fault.failed;
    int rc = fault_sys.flock(fd, op);

    note("flock", before);
    return rc;
}

static int watch_futimens(int fd, const struct timespec times[2])
{
    unsigned long before = fault.failed;
    int rc = fault_sys.futimens(fd, times);

    note("futimens", before);
    return rc;
}

static DIR *watch_opendir(const char *path)
{
    unsigned long before = fault.failed;
    DIR *d = fault_sys.opendir(path);

    note("opendir", before);
    return d;
}

/* Reads fault.h's fake clocks, moving the real-time one 1 us at each
 * read as a running clock would. Rotated files are named after that
 * clock, and retention takes their names for their order. */
static int watch_clock(clockid_t id, struct timespec *ts)
{
    if (id == CLOCK_REALTIME && fault.fake_clocks) {
        fault.real_ns += 1000;
    }
    return fault_sys.clock_gettime(id, ts);
}

/* Passes unlink through fault.h's table, and records what a successful
 * one removes for good: the records of a rotated file whose other form
 * is gone too (retention), and whether KEEP newer ones remain. Unlinks
 * of any other file are counted. */
static int watch_unlink(const char *path)
{
    struct tally gone;
    struct tl__rotated rot;
    const char *slash = strrchr(path, '/');
    bool named = tl__rotated_parse(slash ? slash + 1 : path, ACTIVE, &rot) == 0;
    bool rotated = named && !rot.tmp;
    unsigned long before;
    int rc, err, n;

    memset(&gone, 0, sizeof(gone));
    if (!named) {
        cur->bad_unlinks++;
    } else if (rotated) {
        tally_file(&gone, path);
    }
    before = fault.failed;
    rc = fault_unlink(path);
    err = errno;
    note("unlink", before);
    if (rc == 0 && rotated && !other_form_exists(path, &rot)) {
        for (n = 1; n <= RECORDS; n++) {
            cur->pruned.count[n] += gone.count[n];
        }
        cur->early_deletes += newer_rotated(path, &rot) < KEEP;
    }
    errno = err;
    return rc;
}

static void on_diag(void *user, const char *message)
{
    struct run *r = user;

    (void)message;
    r->diags++;
}

/* ---- the scenario ---- */

/* Writes records first..last, flushing after every BATCH of them, with
 * the fake clocks 1 ms further at each flush. */
static void write_batches(struct tl__sinks *set, int first, int last)
{
    int n;

    for (n = first; n <= last; n++) {
        (void)tl__sinks_write(set, records[n]);
        if ((n - first + 1) % BATCH == 0 || n == last) {
            tl__sinks_flush(set);
            fault_advance(MS);
        }
    }
}

/* Lets rotated files turn quiet, then flushes rounds times: each flush
 * compresses at most one file. */
static void settle(struct tl__sinks *set, int rounds)
{
    fault_advance(QUIET_PAST_NS);
    while (rounds-- > 0) {
        tl__sinks_flush(set);
        fault_advance(MS);
    }
}

/* Renames alpha's active file as logrotate would, with rename(2) itself
 * rather than through the table. The file may be missing after a
 * failure, so the result does not matter. */
static void move_active(const struct run *r)
{
    char from[DIR_MAX + 64], to[DIR_MAX + 64];

    snprintf(from, sizeof(from), "%s/logs/%s/" ACTIVE, r->dir, tenants[0]);
    snprintf(to, sizeof(to), "%s/logs/%s/" MOVED, r->dir, tenants[0]);
    (void)rename(from, to);
}

/* The phase where calls may fail: size rotations, compression and
 * retention, an external rename noticed by the path check, a reopen. */
static void scenario_main(struct tl__sinks *set, const struct run *r)
{
    write_batches(set, 1, 32);
    settle(set, 4);
    move_active(r);
    fault_advance(CHECK_PAST_NS);
    write_batches(set, 33, 38);
    tl__sinks_reopen(set);
    write_batches(set, 39, MAIN_RECORDS);
    settle(set, 3);
}

static uint64_t progress_sum(const struct tl__sink_stats *st)
{
    return atomic_load(&st->compressed) + atomic_load(&st->pruned) +
           atomic_load(&st->write_errors) + atomic_load(&st->spool_written) +
           atomic_load(&st->rotations);
}

/* With the fault off and every backoff over: writes the last records,
 * then flushes until no work is pending and a flush changes nothing.
 * Returns the flushes it took. */
static int scenario_recover(struct tl__sinks *set, struct run *r)
{
    uint64_t before;
    int rounds;

    fault.fail_from = 0;
    fault_advance(BACKOFF_PAST_NS);
    write_batches(set, MAIN_RECORDS + 1, RECORDS);
    for (rounds = 1; rounds <= SETTLE_ROUNDS_MAX; rounds++) {
        before = progress_sum(&r->stats);
        fault_advance(QUIET_PAST_NS);
        tl__sinks_flush(set);
        if (!tl__sinks_pending(set) && progress_sum(&r->stats) == before) {
            break;
        }
    }
    return rounds;
}

static int config_make(const struct run *r, struct tl__config **cfg)
{
    const char *fallback = r->plan.mode == TL__FALLBACK_SPOOL
                               ? "    fallback: spool\n"
                                 "    spool_bytes: 65536\n"
                               : "    fallback: stderr\n";
    char yaml[DIR_MAX + 512], err[512];
    int len;

    len = snprintf(yaml, sizeof(yaml),
                   "sinks:\n"
                   "  - name: files\n"
                   "    type: file\n"
                   "    base: %s/logs\n"
                   "    path: '{tenant}/" ACTIVE "'\n"
                   "    max_bytes: 4096\n"
                   "    keep: %d\n"
                   "    fsync: batch\n"
                   "    compress: zstd\n"
                   "%s",
                   r->dir, KEEP, fallback);
    return tl__config_parse(yaml, (size_t)len, "sweep", cfg, err, sizeof(err));
}

/* Runs the scenario with stderr sent to a file of the run's folder and
 * the watched table installed, then puts both back. */
static void scenario_run(struct run *r, const struct tl__config *cfg)
{
    char path[DIR_MAX + 32];
    struct tl__sinks set;
    struct timespec now;
    int saved, fd;

    snprintf(path, sizeof(path), "%s/stderr.log", r->dir);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    clock_gettime(CLOCK_REALTIME, &now);
    fault_install(true, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
    tl__sys_set(&sweep_sys);
    fault.err = r->plan.err;
    fault.fail_from = r->plan.from;
    fault.fail_to = r->plan.to;

    r->open_rc = tl__sinks_open(&set, cfg, &r->stats);
    if (r->open_rc == 0) {
        scenario_main(&set, r);
        r->calls = fault.calls;
        r->records = MAIN_RECORDS;
        if (r->plan.recover) {
            r->records = RECORDS;
            r->settle_rounds = scenario_recover(&set, r);
        }
        tl__sinks_close(&set);
    }

    r->failed = fault.failed;
    r->bad_fds = fault.bad_fds;
    fault_remove();
    dup2(saved, STDERR_FILENO);
    close(saved);
}

/* Runs the scenario once in a fresh folder and counts what it left. */
static void run_once(struct run *r, const struct plan *plan)
{
    struct tl__config *cfg = NULL;

    memset(r, 0, sizeof(*r));
    r->plan = *plan;
    snprintf(r->dir, sizeof(r->dir), "%s/tl-faults-XXXXXX", tmp_root);
    assert_non_null(mkdtemp(r->dir));
    cur = r;
    tl_diag_set(on_diag, r);
    r->fds_before = count_fds();
    r->open_rc = config_make(r, &cfg);
    if (r->open_rc == 0) {
        scenario_run(r, cfg);
    }
    r->fds_after = count_fds();
    tl_diag_set(NULL, NULL);
    tl__config_free(cfg);
    tally_folders(r);
    nftw(r->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    cur = NULL;
}

/* ---- judging a run ---- */

struct verdict {
    char text[VERDICT_MAX];
    size_t len;
};

/* Adds the message to v when ok is false. */
static void expect(struct verdict *v, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void expect(struct verdict *v, bool ok, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ok || v->len + 4 >= sizeof(v->text)) {
        return;
    }
    if (v->len > 0) {
        v->len +=
            (size_t)snprintf(v->text + v->len, sizeof(v->text) - v->len, "; ");
    }
    va_start(ap, fmt);
    n = vsnprintf(v->text + v->len, sizeof(v->text) - v->len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        v->len += (size_t)n < sizeof(v->text) - v->len
                      ? (size_t)n
                      : sizeof(v->text) - v->len - 1;
    }
}

static uint64_t errors_listed(struct tl__sink_stats *st, size_t *kinds)
{
    struct tl_sink_error list[ERR_SLOTS];
    uint64_t sum = 0;
    size_t i;

    *kinds = tl__sink_stats_errors(st, list, ERR_SLOTS);
    for (i = 0; i < *kinds && i < ERR_SLOTS; i++) {
        sum += list[i].count;
    }
    return sum;
}

static void judge_counters(struct run *r, struct verdict *v)
{
    struct tl__sink_stats *st = &r->stats;
    uint64_t written = atomic_load(&st->written);
    uint64_t failed = atomic_load(&st->write_failed);
    uint64_t spooled = atomic_load(&st->spooled);
    uint64_t sp_written = atomic_load(&st->spool_written);
    uint64_t sp_fallback = atomic_load(&st->spool_fallback);
    uint64_t depth = atomic_load(&st->spool_depth);
    uint64_t errors = atomic_load(&st->write_errors);
    uint64_t fallback = atomic_load(&st->fallback);
    size_t kinds;
    uint64_t listed = errors_listed(st, &kinds);

    expect(v, written + failed == (uint64_t)r->records,
           "written %llu + write_failed %llu != %d records",
           (unsigned long long)written, (unsigned long long)failed, r->records);
    expect(v, spooled == sp_written + sp_fallback + depth,
           "spooled %llu != spool_written %llu + spool_fallback %llu + "
           "spool_depth %llu",
           (unsigned long long)spooled, (unsigned long long)sp_written,
           (unsigned long long)sp_fallback, (unsigned long long)depth);
    expect(v, depth == 0, "spool_depth %llu after close",
           (unsigned long long)depth);
    expect(v, atomic_load(&st->open_fds) == 0, "open_fds %llu after close",
           (unsigned long long)atomic_load(&st->open_fds));
    expect(v, kinds <= ERR_SLOTS, "%zu failure kinds overflow the list", kinds);
    expect(v, listed == errors,
           "per-sink failures add up to %llu, write_errors is %llu",
           (unsigned long long)listed, (unsigned long long)errors);
    expect(v, fallback == failed + sp_fallback,
           "fallback %llu != write_failed %llu + spool_fallback %llu",
           (unsigned long long)fallback, (unsigned long long)failed,
           (unsigned long long)sp_fallback);
    expect(v, errors == 0 || r->diags > 0, "%llu failures but no diagnostic",
           (unsigned long long)errors);
    expect(v, (fallback == 0 && spooled == 0) || errors > 0,
           "records went to the fallback with no failure counted");
    expect(v, r->uncompressed == 0 || errors > 0 || !r->plan.recover,
           "%lu rotated files left uncompressed with no failure counted",
           r->uncompressed);
}

/* Returns true when record n is where it belongs. That is exactly once
 * in the files, on stderr or in a file that retention deleted. A record
 * written after recovery must be in the files, and one never written
 * must be nowhere. */
static bool record_placed(const struct run *r, int n)
{
    unsigned f = r->files.count[n], e = r->errout.count[n];
    unsigned p = r->pruned.count[n];

    if (n > r->records) {
        return f + e + p == 0;
    }
    if (n > MAIN_RECORDS) {
        return f == 1 && e + p == 0;
    }
    return f + e + p == 1;
}

static void judge_records(struct run *r, struct verdict *v)
{
    unsigned long on_stderr = 0;
    int n, bad = 0;

    for (n = 1; n <= RECORDS; n++) {
        on_stderr += r->errout.count[n];
        if (record_placed(r, n) || bad++ > 0) {
            continue;
        }
        expect(v, false,
               "record %d found %u times in the files, %u on stderr, "
               "%u in deleted files%s",
               n, r->files.count[n], r->errout.count[n], r->pruned.count[n],
               n > MAIN_RECORDS ? " (written after recovery)" : "");
    }
    expect(v, bad <= 1, "%d records misplaced in all", bad);
    expect(v, on_stderr == atomic_load(&r->stats.fallback),
           "%lu records on stderr, fallback counter %llu", on_stderr,
           (unsigned long long)atomic_load(&r->stats.fallback));
    expect(v, r->files.unknown == 0, "%lu lines in the files are no record",
           r->files.unknown);
    expect(v, r->errout.unknown == 0, "%lu lines on stderr are no record",
           r->errout.unknown);
}

/* Returns true when run r passed every check, else writes why to v. */
static bool judge(struct run *r, struct verdict *v)
{
    v->len = 0;
    v->text[0] = '\0';
    expect(v, r->open_rc == 0, "setup failed: %d", r->open_rc);
    if (r->open_rc != 0) {
        return false;
    }
    expect(v, r->bad_fds == 0, "%lu calls on a descriptor not open",
           r->bad_fds);
    expect(v, r->fds_after == r->fds_before, "%d descriptors open, %d before",
           r->fds_after, r->fds_before);
    expect(v, r->plan.from == 0 || r->plan.from > calls_k || r->failed > 0,
           "the fault was never hit");
    expect(v, r->settle_rounds <= SETTLE_ROUNDS_MAX,
           "still busy after %d flushes", SETTLE_ROUNDS_MAX);
    expect(v, r->bad_unlinks == 0, "%lu unlinks of files the sink does not own",
           r->bad_unlinks);
    expect(v, r->strays == 0, "%lu unexpected files", r->strays);
    expect(v, r->early_deletes == 0,
           "%lu rotated files deleted with fewer than %d newer ones",
           r->early_deletes, KEEP);
    judge_counters(r, v);
    judge_records(r, v);
    return v->len == 0;
}

/* ---- sweeps ---- */

static unsigned long env_ulong(const char *name, unsigned long fallback)
{
    const char *s = getenv(name);
    char *end;
    unsigned long v;

    if (s == NULL || s[0] == '\0') {
        return fallback;
    }
    v = strtoul(s, &end, 10);
    return *end == '\0' && v > 0 ? v : fallback;
}

static const char *mode_name(enum tl__fallback mode)
{
    return mode == TL__FALLBACK_SPOOL ? "spool" : "stderr";
}

/* Under ASan, fails when memory leaked during the runs named by label
 * and mode. LeakSanitizer prints where the memory was allocated. */
static void leak_check(const char *label, const char *mode)
{
#ifdef SWEEP_LEAK_CHECK
    if (__lsan_do_recoverable_leak_check() != 0) {
        fail_msg("memory leaked during the %s runs, fallback %s", label, mode);
    }
#else
    (void)label;
    (void)mode;
#endif
}

/* Runs whose failed call no counter shows, by the name of that call. */
struct uncounted {
    const char *names[16];
    unsigned long runs[16];
};

static void uncounted_add(struct uncounted *u, const char *name)
{
    size_t i;

    if (name == NULL) {
        return;
    }
    for (i = 0; i < 16 && u->names[i] != NULL; i++) {
        if (strcmp(u->names[i], name) == 0) {
            break;
        }
    }
    if (i < 16) {
        u->names[i] = name;
        u->runs[i]++;
    }
}

/* Prints the calls whose failure the sink absorbed without counting it,
 * such as a failed close(2) or a path check that reopens the file. */
static void uncounted_print(const struct uncounted *u)
{
    size_t i;

    for (i = 0; i < 16 && u->names[i] != NULL; i++) {
        print_message("  failed %s, not counted: %lu runs\n", u->names[i],
                      u->runs[i]);
    }
}

struct totals {
    unsigned long runs, failures;
    unsigned long counted;   /* runs that counted a failed call */
    unsigned long to_stderr; /* runs that sent records to stderr */
    struct uncounted uncounted;
};

/* Runs plan once, judges it, and prints why when it fails. */
static void sweep_run(struct totals *t, const struct plan *plan,
                      const char *err_name)
{
    uint64_t errors;
    struct verdict v;

    run_once(&run, plan);
    errors = atomic_load(&run.stats.write_errors);
    t->runs++;
    t->counted += errors > 0;
    t->to_stderr += atomic_load(&run.stats.fallback) > 0;
    if (errors == 0) {
        uncounted_add(&t->uncounted, run.failed_call);
    }
    if (judge(&run, &v) || t->failures++ >= SHOWN_MAX) {
        return;
    }
    print_error(
        "%s, k %lu of %lu (%s)%s, fallback %s%s: %s\n", err_name, plan->from,
        calls_k, run.failed_call ? run.failed_call : "not hit",
        plan->to != plan->from ? " and later" : "", mode_name(plan->mode),
        plan->recover ? "" : ", closed while failing", v.text);
}

/*
 * Runs the scenario for each errno and each k of the main phase's calls,
 * failing call k alone or, when lasting, every call from k until the
 * recovery phase or the close. TL_SWEEP_STRIDE thins k, and TL_SWEEP_K
 * runs one k only. Prints the first SHOWN_MAX failed runs and fails when
 * any did.
 */
static void sweep(enum tl__fallback mode, bool lasting, bool recover)
{
    unsigned long stride = env_ulong("TL_SWEEP_STRIDE", STRIDE_DEFAULT);
    unsigned long first = env_ulong("TL_SWEEP_K", 1);
    unsigned long last = getenv("TL_SWEEP_K") != NULL ? first : calls_k;
    struct plan plan = {.mode = mode, .recover = recover};
    struct totals t;
    size_t i;

    memset(&t, 0, sizeof(t));
    for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
        plan.err = errnos[i].err;
        for (plan.from = first; plan.from <= last; plan.from += stride) {
            plan.to = lasting ? ULONG_MAX : plan.from;
            sweep_run(&t, &plan, errnos[i].name);
        }
        leak_check(errnos[i].name, mode_name(mode));
    }
    print_message("%lu runs, %lu failed; %lu counted a failed call, %lu "
                  "sent records to stderr\n",
                  t.runs, t.failures, t.counted, t.to_stderr);
    uncounted_print(&t.uncounted);
    assert_int_equal(t.failures, 0);
}

/* ---- tests ---- */

static void clean_run(void **state)
{
    const struct plan plan = {.mode = TL__FALLBACK_STDERR, .recover = true};
    struct verdict v;

    (void)state;
    run_once(&run, &plan);
    if (!judge(&run, &v)) {
        fail_msg("%s", v.text);
    }
    assert_int_equal(run.calls, calls_k);
    assert_int_equal(run.failed, 0);
    assert_int_equal(atomic_load(&run.stats.write_errors), 0);
    assert_int_equal(atomic_load(&run.stats.fallback), 0);
    assert_int_equal(run.diags, 0);
    /* The scenario reaches every path it is meant to sweep. */
    assert_true(atomic_load(&run.stats.rotations) >= 8);
    assert_true(atomic_load(&run.stats.compressed) >= 4);
    assert_true(atomic_load(&run.stats.pruned) >= 4);
    assert_true(run.moved_seen);
    assert_true(atomic_load(&run.stats.reopens) >= 2);
    assert_true(atomic_load(&run.stats.fsyncs) >= 10);
    assert_int_equal(run.uncompressed, 0);
    leak_check("fault-free", "stderr");
}

static void one_call_stderr(void **state)
{
    (void)state;
    sweep(TL__FALLBACK_STDERR, false, true);
}

static void one_call_spool(void **state)
{
    (void)state;
    sweep(TL__FALLBACK_SPOOL, false, true);
}

static void from_call_stderr(void **state)
{
    (void)state;
    sweep(TL__FALLBACK_STDERR, true, true);
}

static void from_call_spool(void **state)
{
    (void)state;
    sweep(TL__FALLBACK_SPOOL, true, true);
}

/* The sink closes while its calls still fail: spooled records go to
 * stderr. */
static void close_failing_stderr(void **state)
{
    (void)state;
    sweep(TL__FALLBACK_STDERR, true, false);
}

static void close_failing_spool(void **state)
{
    (void)state;
    sweep(TL__FALLBACK_SPOOL, true, false);
}

/* ---- setup ---- */

static void record_make(int n, struct tl__buf *b)
{
    char msg[PAD_BYTES + 32];
    struct tl__record_src src;
    int len = snprintf(msg, sizeof(msg), "rec %04d ", n);

    memset(msg + len, 'x', PAD_BYTES);
    msg[len + PAD_BYTES] = '\0';
    memset(&src, 0, sizeof(src));
    src.ts_ns = BASE_TS_NS + (int64_t)n * 1000;
    src.level = TL_INFO;
    src.logger = "sweep";
    src.msg = msg;
    src.msg_len = (size_t)-1;
    src.tenant = tenants[n % 2];
    assert_int_equal(tl__record_new(&src, &records[n]), 0);
    tl__buf_reset(b);
    tl__format_json(b, records[n]);
    assert_false(b->oom);
    assert_true(b->len > 0 && b->data[b->len - 1] == '\n');
    line_lens[n] = b->len - 1;
    lines[n] = strndup(b->data, line_lens[n]);
    assert_non_null(lines[n]);
}

/* Builds the records, installs the watched table's functions and counts
 * the calls of a run without faults. Temporary folders go under
 * $TMPDIR, else /dev/shm, where the many fsyncs of the sweep cost no
 * disk flush, else /tmp. */
static int group_setup(void **state)
{
    const struct plan clean = {.mode = TL__FALLBACK_STDERR, .recover = true};
    const char *env = getenv("TMPDIR");
    struct tl__buf b;
    int n;

    (void)state;
    tl__buf_init(&b);
    for (n = 1; n <= RECORDS; n++) {
        record_make(n, &b);
    }
    tl__buf_free(&b);
    n = snprintf(tmp_root, sizeof(tmp_root), "%s",
                 env != NULL && env[0] != '\0'   ? env
                 : access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                                 : "/tmp");
    if (n < 0 || (size_t)n >= sizeof(tmp_root)) {
        print_error("TMPDIR is longer than %zu bytes\n", sizeof(tmp_root) - 1);
        return -1;
    }
    sweep_sys = (struct tl__sys){
        .open = watch_open,
        .close = watch_close,
        .read = watch_read,
        .pread = watch_pread,
        .write = watch_write,
        .fsync = watch_fsync,
        .fstat = watch_fstat,
        .stat = watch_stat,
        .lstat = watch_lstat,
        .rename = watch_rename,
        .unlink = watch_unlink,
        .mkdir = watch_mkdir,
        .flock = watch_flock,
        .futimens = watch_futimens,
        .opendir = watch_opendir,
        .readdir = fault_sys.readdir,
        .closedir = fault_sys.closedir,
        .clock_gettime = watch_clock,
    };
    run_once(&run, &clean);
    calls_k = run.calls;
    return calls_k > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    int n;

    (void)state;
    for (n = 1; n <= RECORDS; n++) {
        free(records[n]);
        free(lines[n]);
    }
    ZSTD_freeDStream(dstream);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_run),
        cmocka_unit_test(one_call_stderr),
        cmocka_unit_test(one_call_spool),
        cmocka_unit_test(from_call_stderr),
        cmocka_unit_test(from_call_spool),
        cmocka_unit_test(close_failing_stderr),
        cmocka_unit_test(close_failing_spool),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
