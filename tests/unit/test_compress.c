/* Compression of rotated files: round trips through the zstd and gzip
 * command-line tools, the step budget, stale and crashed temporaries, and
 * sweeps that fail each system call of one compression in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/compress.h"
#include "lib/sys.h"

enum {
    KIB = 1024,
    MIB = 1024 * 1024,
    MAX_FDS = 1024,
};

struct blob {
    unsigned char *data;
    size_t len;
};

/* The Loghub samples concatenated: about 3 MB of real log lines. */
static struct blob loghub;

static char dir[64];
static char path[128]; /* the file to compress, dir/app.log */
static char dst[160];  /* path<ext> */
static char tmp[192];  /* path<ext>.tmp */

/* Whether tmp existed when a step had just failed, before the free. */
static bool tmp_after_error;

/* ---- files ---- */

/* Returns the Loghub folder: $TL_DATA, or the shared data folder beside
 * the repository, which is three levels above this file. */
static void data_dir(char *buf, size_t len)
{
    const char *env = getenv("TL_DATA");
    char *slash;
    int i;

    if (env != NULL && env[0] != '\0') {
        snprintf(buf, len, "%s", env);
        return;
    }
    snprintf(buf, len, "%s", __FILE__);
    for (i = 0; i < 3; i++) {
        slash = strrchr(buf, '/');
        if (slash == NULL) {
            fail_msg("set TL_DATA to the loghub folder; %s is relative",
                     __FILE__);
        }
        *slash = '\0';
    }
    strncat(buf, "/../shared/data/loghub", len - strlen(buf) - 1);
}

/* Reads the whole file at p, or returns a blob with data NULL. */
static struct blob file_read(const char *p)
{
    struct blob b = {NULL, 0};
    struct stat st;
    FILE *f = fopen(p, "rb");

    if (f == NULL) {
        return b;
    }
    if (fstat(fileno(f), &st) == 0) {
        b.data = malloc((size_t)st.st_size + 1);
        b.len = b.data != NULL ? fread(b.data, 1, (size_t)st.st_size, f) : 0;
    }
    fclose(f);
    return b;
}

static void file_write(const char *p, const struct blob *b)
{
    FILE *f = fopen(p, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
    assert_int_equal(fclose(f), 0);
}

static bool file_exists(const char *p)
{
    struct stat st;

    return lstat(p, &st) == 0;
}

/* True when the file at p contains exactly the bytes of want. */
static bool file_equal(const char *p, const struct blob *want)
{
    struct blob got = file_read(p);
    bool same = got.data != NULL && got.len == want->len &&
                memcmp(got.data, want->data, want->len) == 0;

    free(got.data);
    return same;
}

/* Decompresses p with the real command-line tool into a blob. The
 * blob's data is NULL when the tool fails. */
static struct blob tool_decompress(enum tl__compress m, const char *p)
{
    struct blob b = {NULL, 0};
    char cmd[256];
    size_t cap = MIB;
    size_t n;
    FILE *f;

    snprintf(cmd, sizeof(cmd), "%s -d -c -- '%s'",
             m == TL__COMPRESS_ZSTD ? "zstd -q" : "gzip", p);
    f = popen(cmd, "r");
    assert_non_null(f);
    b.data = malloc(cap);
    assert_non_null(b.data);
    while ((n = fread(b.data + b.len, 1, cap - b.len, f)) > 0) {
        b.len += n;
        if (b.len == cap) {
            cap *= 2;
            b.data = realloc(b.data, cap);
            assert_non_null(b.data);
        }
    }
    if (pclose(f) != 0) {
        free(b.data);
        b.data = NULL;
    }
    return b;
}

/* True when the tool decompresses p to exactly the bytes of want. */
static bool tool_equal(enum tl__compress m, const char *p,
                       const struct blob *want)
{
    struct blob got = tool_decompress(m, p);
    bool same = got.data != NULL && got.len == want->len &&
                memcmp(got.data, want->data, want->len) == 0;

    free(got.data);
    return same;
}

static struct blob blob_prefix(size_t len)
{
    assert_true(len <= loghub.len);
    return (struct blob){loghub.data, len};
}

static int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

static void names_set(enum tl__compress m)
{
    snprintf(dst, sizeof(dst), "%s%s", path, tl__compress_ext(m));
    snprintf(tmp, sizeof(tmp), "%s%s", dst, TL__COMPRESS_TMP);
}

/* Compresses path with budget bytes a step. Returns the last result and
 * counts the steps that returned 1. */
static int job_run(enum tl__compress m, size_t budget, long *steps)
{
    struct tl__compress_job *job = NULL;
    long more = 0;
    int rc;

    rc = tl__compress_begin(path, m, &job);
    if (rc < 0) {
        return rc;
    }
    while ((rc = tl__compress_step(job, budget)) == 1) {
        more++;
    }
    tmp_after_error = rc < 0 && file_exists(tmp);
    tl__compress_free(job);
    if (steps != NULL) {
        *steps = more;
    }
    return rc;
}

/* ---- the fault-injecting system-call table ---- */

/* Counts the calls of the file-system entries of tl__sys, fails call
 * number fail_at (counted from 1, and 0 for none) with err, and flags
 * every call on a descriptor that is closed or came from elsewhere. */
static struct {
    long calls;
    long fail_at;
    int err;
    const char *failed; /* name of the failed call */
    bool ignorable;     /* it closed a read-only descriptor */
    bool renamed;       /* a rename succeeded */
    int bad_fd_calls;   /* calls on a descriptor not open */
    int bad_opens;      /* opens without O_CLOEXEC, or creates without
                           O_EXCL and O_NOFOLLOW */
    bool open[MAX_FDS]; /* descriptors opened through the table */
    bool writable[MAX_FDS];
    size_t read_bytes; /* bytes returned by read */
    size_t write_max;  /* cap on one write's length, or 0 */
    int eintr_every;   /* fail every n-th read and write with EINTR */
    long rw_calls;
} fault;

static struct tl__sys fault_sys;

static bool fault_hit(const char *name)
{
    fault.calls++;
    if (fault.calls != fault.fail_at) {
        return false;
    }
    fault.failed = name;
    return true;
}

static void fd_check(int fd)
{
    if (fd < 0 || fd >= MAX_FDS || !fault.open[fd]) {
        fault.bad_fd_calls++;
    }
}

static bool eintr_due(void)
{
    fault.rw_calls++;
    return fault.eintr_every > 0 && fault.rw_calls % fault.eintr_every == 0;
}

static int f_open(const char *p, int flags, mode_t mode)
{
    int create = O_CREAT | O_EXCL | O_NOFOLLOW;
    int fd;

    if (!(flags & O_CLOEXEC) ||
        ((flags & O_CREAT) && (flags & create) != create)) {
        fault.bad_opens++;
    }
    if (fault_hit("open")) {
        errno = fault.err;
        return -1;
    }
    fd = tl__sys_libc.open(p, flags, mode);
    if (fd >= 0 && fd < MAX_FDS) {
        fault.open[fd] = true;
        fault.writable[fd] = (flags & O_ACCMODE) != O_RDONLY;
    }
    return fd;
}

/* A failed close still releases the descriptor, as on Linux. */
static int f_close(int fd)
{
    bool writable = fd >= 0 && fd < MAX_FDS && fault.writable[fd];
    int rc;

    fd_check(fd);
    if (fd >= 0 && fd < MAX_FDS) {
        fault.open[fd] = false;
    }
    rc = tl__sys_libc.close(fd);
    if (fault_hit("close")) {
        fault.ignorable = !writable;
        errno = fault.err;
        return -1;
    }
    return rc;
}

static ssize_t f_read(int fd, void *buf, size_t len)
{
    ssize_t n;

    fd_check(fd);
    if (fault_hit("read")) {
        errno = fault.err;
        return -1;
    }
    if (eintr_due()) {
        errno = EINTR;
        return -1;
    }
    n = tl__sys_libc.read(fd, buf, len);
    if (n > 0) {
        fault.read_bytes += (size_t)n;
    }
    return n;
}

static ssize_t f_write(int fd, const void *buf, size_t len)
{
    fd_check(fd);
    if (fault_hit("write")) {
        errno = fault.err;
        return -1;
    }
    if (eintr_due()) {
        errno = EINTR;
        return -1;
    }
    if (fault.write_max > 0 && len > fault.write_max) {
        len = fault.write_max;
    }
    return tl__sys_libc.write(fd, buf, len);
}

static int f_fsync(int fd)
{
    fd_check(fd);
    if (fault_hit("fsync")) {
        errno = fault.err;
        return -1;
    }
    return tl__sys_libc.fsync(fd);
}

static int f_fstat(int fd, struct stat *st)
{
    fd_check(fd);
    if (fault_hit("fstat")) {
        errno = fault.err;
        return -1;
    }
    return tl__sys_libc.fstat(fd, st);
}

static int f_rename(const char *from, const char *to)
{
    int rc;

    if (fault_hit("rename")) {
        errno = fault.err;
        return -1;
    }
    rc = tl__sys_libc.rename(from, to);
    fault.renamed = fault.renamed || rc == 0;
    return rc;
}

static int f_unlink(const char *p)
{
    if (fault_hit("unlink")) {
        errno = fault.err;
        return -1;
    }
    return tl__sys_libc.unlink(p);
}

static void fault_install(long fail_at, int err)
{
    memset(&fault, 0, sizeof(fault));
    fault.fail_at = fail_at;
    fault.err = err;
    fault.failed = "none";
    fault_sys = tl__sys_libc;
    fault_sys.open = f_open;
    fault_sys.close = f_close;
    fault_sys.read = f_read;
    fault_sys.write = f_write;
    fault_sys.fsync = f_fsync;
    fault_sys.fstat = f_fstat;
    fault_sys.rename = f_rename;
    fault_sys.unlink = f_unlink;
    tl__sys_set(&fault_sys);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
    static const char *const files[] = {
        "Android_2k.log", "Apache_2k.log",    "HDFS_2k.log",
        "HPC_2k.log",     "Hadoop_2k.log",    "Linux_2k.log",
        "OpenSSH_2k.log", "OpenStack_2k.log", "Proxifier_2k.log",
        "Spark_2k.log",   "Zookeeper_2k.log",
    };
    char folder[4096];
    char p[4200];
    struct blob b;
    size_t i;

    (void)state;
    data_dir(folder, sizeof(folder));
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", folder, files[i]);
        b = file_read(p);
        if (b.data == NULL) {
            fail_msg("cannot read %s; set TL_DATA to the loghub folder", p);
        }
        loghub.data = realloc(loghub.data, loghub.len + b.len);
        assert_non_null(loghub.data);
        memcpy(loghub.data + loghub.len, b.data, b.len);
        loghub.len += b.len;
        free(b.data);
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(loghub.data);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tl-compress-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/app.log", dir);
    return 0;
}

static int teardown(void **state)
{
    char p[512];
    struct dirent *e;
    DIR *d;

    (void)state;
    tl__sys_set(NULL);
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
    return 0;
}

/* ---- round trips ---- */

/* Compresses src at path and checks the result with the real tool. */
static void round_trip(enum tl__compress m, const struct blob *src)
{
    names_set(m);
    file_write(path, src);
    assert_int_equal(job_run(m, MIB, NULL), 0);
    assert_true(tool_equal(m, dst, src));
    assert_false(file_exists(path));
    assert_false(file_exists(tmp));
}

static void zstd_empty(void **state)
{
    struct blob empty = {(unsigned char *)"", 0};

    (void)state;
    round_trip(TL__COMPRESS_ZSTD, &empty);
}

static void gzip_empty(void **state)
{
    struct blob empty = {(unsigned char *)"", 0};

    (void)state;
    round_trip(TL__COMPRESS_GZIP, &empty);
}

static void zstd_small(void **state)
{
    struct blob small = blob_prefix(300);

    (void)state;
    round_trip(TL__COMPRESS_ZSTD, &small);
}

static void gzip_small(void **state)
{
    struct blob small = blob_prefix(300);

    (void)state;
    round_trip(TL__COMPRESS_GZIP, &small);
}

static void zstd_loghub(void **state)
{
    (void)state;
    assert_true(loghub.len > 2 * MIB);
    round_trip(TL__COMPRESS_ZSTD, &loghub);
}

static void gzip_loghub(void **state)
{
    (void)state;
    assert_true(loghub.len > 2 * MIB);
    round_trip(TL__COMPRESS_GZIP, &loghub);
}

static void compress_ext_names(void **state)
{
    (void)state;
    assert_string_equal(tl__compress_ext(TL__COMPRESS_ZSTD), ".zst");
    assert_string_equal(tl__compress_ext(TL__COMPRESS_GZIP), ".gz");
    assert_string_equal(tl__compress_ext(TL__COMPRESS_NONE), "");
}

static void compress_keeps_mtime(void **state)
{
    struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
    struct blob src = blob_prefix(64 * KIB);
    struct stat st;

    (void)state;
    names_set(TL__COMPRESS_ZSTD);
    file_write(path, &src);
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    assert_int_equal(job_run(TL__COMPRESS_ZSTD, MIB, NULL), 0);
    assert_int_equal(stat(dst, &st), 0);
    assert_int_equal(st.st_mtim.tv_sec, 1000000000);
}

static void compress_temp_mode(void **state)
{
    struct tl__compress_job *job = NULL;
    struct blob src = blob_prefix(KIB);
    struct stat st;

    (void)state;
    names_set(TL__COMPRESS_GZIP);
    file_write(path, &src);
    assert_int_equal(tl__compress_begin(path, TL__COMPRESS_GZIP, &job), 0);
    assert_int_equal(stat(tmp, &st), 0);
    assert_int_equal(st.st_mode & 0777 & ~0640, 0);
    tl__compress_free(job);
}

/* ---- temporaries, budget, arguments ---- */

static void compress_stale_tmp_replaced(void **state)
{
    struct blob junk = {(unsigned char *)"not a zstd frame", 16};
    struct blob src = blob_prefix(200 * KIB);

    (void)state;
    names_set(TL__COMPRESS_ZSTD);
    file_write(tmp, &junk);
    file_write(path, &src);
    assert_int_equal(job_run(TL__COMPRESS_ZSTD, 64 * KIB, NULL), 0);
    assert_true(tool_equal(TL__COMPRESS_ZSTD, dst, &src));
    assert_false(file_exists(tmp));
}

/* Runs one job with the given budget and checks each step's reads. */
static void budget_check(size_t budget)
{
    struct tl__compress_job *job = NULL;
    struct blob src = blob_prefix(MIB);
    long more = 0;
    int rc;

    names_set(TL__COMPRESS_GZIP);
    unlink(dst);
    file_write(path, &src);
    fault_install(0, 0);
    assert_int_equal(tl__compress_begin(path, TL__COMPRESS_GZIP, &job), 0);
    do {
        fault.read_bytes = 0;
        rc = tl__compress_step(job, budget);
        assert_in_range(fault.read_bytes, 0, budget);
        more += rc == 1;
    } while (rc == 1);
    tl__compress_free(job);
    tl__sys_set(NULL);
    assert_int_equal(rc, 0);
    assert_true(more >= (long)(MIB / budget));
    assert_true(tool_equal(TL__COMPRESS_GZIP, dst, &src));
}

static void compress_budget_honoured(void **state)
{
    (void)state;
    budget_check(64 * KIB); /* at least 16 steps for 1 MiB */
    budget_check(100 * KIB);
    budget_check(5000);
}

/* Short writes and EINTR on reads and writes are retried. */
static void compress_short_writes(void **state)
{
    struct blob src = blob_prefix(300 * KIB);
    enum tl__compress m;

    (void)state;
    for (m = TL__COMPRESS_ZSTD; m <= TL__COMPRESS_GZIP; m++) {
        names_set(m);
        file_write(path, &src);
        fault_install(0, 0);
        fault.write_max = 1000;
        fault.eintr_every = 3;
        assert_int_equal(job_run(m, 64 * KIB, NULL), 0);
        tl__sys_set(NULL);
        assert_true(tool_equal(m, dst, &src));
    }
}

static void compress_missing_source(void **state)
{
    struct tl__compress_job *job = NULL;

    (void)state;
    names_set(TL__COMPRESS_ZSTD);
    assert_int_equal(tl__compress_begin(path, TL__COMPRESS_ZSTD, &job),
                     -ENOENT);
    assert_null(job);
    assert_false(file_exists(tmp));
}

static void compress_symlink_rejected(void **state)
{
    struct tl__compress_job *job = NULL;
    struct blob src = blob_prefix(KIB);
    char target[160];

    (void)state;
    names_set(TL__COMPRESS_ZSTD);
    snprintf(target, sizeof(target), "%s/target.log", dir);
    file_write(target, &src);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(tl__compress_begin(path, TL__COMPRESS_ZSTD, &job), -ELOOP);
    assert_false(file_exists(tmp));
    assert_true(file_equal(target, &src));
}

/* A FIFO at the path is rejected without blocking in open. */
static void compress_fifo_rejected(void **state)
{
    struct tl__compress_job *job = NULL;

    (void)state;
    names_set(TL__COMPRESS_ZSTD);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(tl__compress_begin(path, TL__COMPRESS_ZSTD, &job),
                     -EINVAL);
    assert_null(job);
    assert_false(file_exists(tmp));
}

static void compress_none_rejected(void **state)
{
    struct tl__compress_job *job = NULL;
    struct blob src = blob_prefix(KIB);

    (void)state;
    file_write(path, &src);
    assert_int_equal(tl__compress_begin(path, TL__COMPRESS_NONE, &job),
                     -EINVAL);
    assert_null(job);
}

static void compress_free_midway(void **state)
{
    struct tl__compress_job *job = NULL;
    struct blob src = blob_prefix(MIB);
    int before;

    (void)state;
    names_set(TL__COMPRESS_ZSTD);
    file_write(path, &src);
    before = fd_count();
    assert_int_equal(tl__compress_begin(path, TL__COMPRESS_ZSTD, &job), 0);
    assert_int_equal(tl__compress_step(job, 64 * KIB), 1);
    assert_true(file_exists(tmp));
    tl__compress_free(job);
    assert_int_equal(fd_count(), before);
    assert_false(file_exists(tmp));
    assert_false(file_exists(dst));
    assert_true(file_equal(path, &src));
}

/* A process that dies mid-way leaves the original and a temporary. The
 * next begin on the same path removes the temporary and succeeds. */
static void compress_crash_midway(void **state)
{
    struct tl__compress_job *job = NULL;
    struct blob src = blob_prefix(MIB);
    int status = 0;
    pid_t pid;

    (void)state;
    names_set(TL__COMPRESS_ZSTD);
    file_write(path, &src);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (tl__compress_begin(path, TL__COMPRESS_ZSTD, &job) != 0 ||
            tl__compress_step(job, 64 * KIB) != 1) {
            _exit(1);
        }
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(file_equal(path, &src));
    assert_true(file_exists(tmp));
    assert_false(file_exists(dst));

    assert_int_equal(job_run(TL__COMPRESS_ZSTD, 256 * KIB, NULL), 0);
    assert_true(tool_equal(TL__COMPRESS_ZSTD, dst, &src));
    assert_false(file_exists(tmp));
    assert_false(file_exists(path));
}

/* ---- fault sweeps ---- */

/*
 * Fails call k of one compression with err and checks the outcome. The
 * job returns -err, unless the call was the close of a read-only
 * descriptor, which loses no data and is ignored. Before the rename: the
 * original intact, no temporary, no path<ext>. After it: path<ext>
 * complete; the original is removed on success and intact when the
 * folder fsync or the unlink failed. Always: no descriptor leaked and no
 * call on a closed one.
 */
static void sweep_one(enum tl__compress m, int err, long k,
                      const struct blob *src)
{
    const char *name;
    int before, rc;

    unlink(dst);
    file_write(path, src);
    before = fd_count();
    fault_install(k, err);
    rc = job_run(m, 64 * KIB, NULL);
    tl__sys_set(NULL);
    name = fault.failed;

    if (fault.calls < k) {
        fail_msg("call %ld never came: the job made %ld calls", k, fault.calls);
    }
    if (rc != (fault.ignorable ? 0 : -err)) {
        fail_msg("call %ld (%s): returned %d, expected %d", k, name, rc,
                 fault.ignorable ? 0 : -err);
    }
    if (tmp_after_error) {
        fail_msg("call %ld (%s): the failed step left its temporary", k, name);
    }
    if (file_exists(tmp)) {
        fail_msg("call %ld (%s): temporary left behind", k, name);
    }
    if (fd_count() != before) {
        fail_msg("call %ld (%s): %d descriptors before, %d after", k, name,
                 before, fd_count());
    }
    if (fault.bad_fd_calls != 0) {
        fail_msg("call %ld (%s): %d calls on a closed descriptor", k, name,
                 fault.bad_fd_calls);
    }
    if (fault.bad_opens != 0) {
        fail_msg("call %ld (%s): %d opens without the required flags", k, name,
                 fault.bad_opens);
    }
    if (!fault.renamed && file_exists(dst)) {
        fail_msg("call %ld (%s): %s exists without a rename", k, name, dst);
    }
    if (fault.renamed && !tool_equal(m, dst, src)) {
        fail_msg("call %ld (%s): %s is not complete", k, name, dst);
    }
    if ((rc < 0 || !fault.renamed) && !file_equal(path, src)) {
        fail_msg("call %ld (%s): original changed or removed", k, name);
    }
    if (rc == 0 && file_exists(path)) {
        fail_msg("call %ld (%s): success left the original", k, name);
    }
}

/* Counts the calls of one compression, then fails each in turn. */
static void sweep(enum tl__compress m, int err)
{
    struct blob src = blob_prefix(200 * KIB);
    long total, k;

    names_set(m);
    file_write(path, &src);
    fault_install(0, err);
    assert_int_equal(job_run(m, 64 * KIB, NULL), 0);
    tl__sys_set(NULL);
    total = fault.calls;
    assert_true(total >= 15);
    for (k = 1; k <= total; k++) {
        sweep_one(m, err, k, &src);
    }
}

static void sweep_zstd_enospc(void **state)
{
    (void)state;
    sweep(TL__COMPRESS_ZSTD, ENOSPC);
}

static void sweep_zstd_eio(void **state)
{
    (void)state;
    sweep(TL__COMPRESS_ZSTD, EIO);
}

static void sweep_gzip_enospc(void **state)
{
    (void)state;
    sweep(TL__COMPRESS_GZIP, ENOSPC);
}

static void sweep_gzip_eio(void **state)
{
    (void)state;
    sweep(TL__COMPRESS_GZIP, EIO);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(compress_ext_names),
        TEST(zstd_empty),
        TEST(gzip_empty),
        TEST(zstd_small),
        TEST(gzip_small),
        TEST(zstd_loghub),
        TEST(gzip_loghub),
        TEST(compress_keeps_mtime),
        TEST(compress_temp_mode),
        TEST(compress_stale_tmp_replaced),
        TEST(compress_budget_honoured),
        TEST(compress_short_writes),
        TEST(compress_missing_source),
        TEST(compress_symlink_rejected),
        TEST(compress_fifo_rejected),
        TEST(compress_none_rejected),
        TEST(compress_free_midway),
        TEST(compress_crash_midway),
        TEST(sweep_zstd_enospc),
        TEST(sweep_zstd_eio),
        TEST(sweep_gzip_enospc),
        TEST(sweep_gzip_eio),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
