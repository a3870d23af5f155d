/* A system-call table for tests of the file sinks (see src/lib/sys.h):
 * counts calls, fails chosen ones with a chosen errno, checks that no
 * call uses a descriptor that is not open, and runs the clocks by hand.
 * Header-only: each test program includes it once. */
#ifndef TL_TESTS_FAULT_H
#define TL_TESTS_FAULT_H

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/sys.h"

#define FAULT_FDS 4096

/* Which calls fail: those numbered [fail_from, fail_to] (1-based, over
 * every counted call), and only calls named `only` when it is set. */
struct fault {
    unsigned long calls;     /* calls counted so far */
    unsigned long fail_from; /* 0: none */
    unsigned long fail_to;
    const char *only; /* e.g. "rename", or NULL for every call */
    int err;
    unsigned long failed;  /* calls failed so far */
    unsigned long bad_fds; /* calls on a descriptor that was not open */
    bool open_fds[FAULT_FDS];
    int fd_limit; /* open fails with EMFILE at this many open; 0: none */
    bool fake_clocks;
    int64_t mono_ns, real_ns;
};

static struct fault fault;

/* Returns true when this call, named name, must fail; sets errno. */
static bool fault_hit(const char *name)
{
    fault.calls++;
    if (fault.fail_from == 0 || fault.calls < fault.fail_from ||
        fault.calls > fault.fail_to ||
        (fault.only != NULL && strcmp(fault.only, name) != 0)) {
        return false;
    }
    fault.failed++;
    errno = fault.err;
    return true;
}

static void fault_use(int fd)
{
    if (fd < 0 || fd >= FAULT_FDS || !fault.open_fds[fd]) {
        fault.bad_fds++;
    }
}

static void fault_opened(int fd)
{
    if (fd >= 0 && fd < FAULT_FDS) {
        fault.open_fds[fd] = true;
    }
}

/* Returns how many descriptors opened through the table are open. */
static int fault_open_count(void)
{
    int fd, n = 0;

    for (fd = 0; fd < FAULT_FDS; fd++) {
        n += fault.open_fds[fd];
    }
    return n;
}

static int fault_open(const char *path, int flags, mode_t mode)
{
    int fd;

    if (fault_hit("open")) {
        return -1;
    }
    if (fault.fd_limit > 0 && fault_open_count() >= fault.fd_limit) {
        errno = EMFILE;
        return -1;
    }
    fd = tl__sys_libc.open(path, flags, mode);
    fault_opened(fd);
    return fd;
}

static int fault_close(int fd)
{
    fault_use(fd);
    if (fd >= 0 && fd < FAULT_FDS) {
        fault.open_fds[fd] = false;
    }
    /* Like Linux, a failed close still releases the descriptor. */
    tl__sys_libc.close(fd);
    return fault_hit("close") ? -1 : 0;
}

#define FAULT_FD_CALL(name, fd, call)                                          \
    do {                                                                       \
        fault_use(fd);                                                         \
        if (fault_hit(name)) {                                                 \
            return -1;                                                         \
        }                                                                      \
        return call;                                                           \
    } while (0)

#define FAULT_PATH_CALL(name, call)                                            \
    do {                                                                       \
        if (fault_hit(name)) {                                                 \
            return -1;                                                         \
        }                                                                      \
        return call;                                                           \
    } while (0)

static ssize_t fault_read(int fd, void *buf, size_t len)
{
    FAULT_FD_CALL("read", fd, tl__sys_libc.read(fd, buf, len));
}

static ssize_t fault_pread(int fd, void *buf, size_t len, off_t off)
{
    FAULT_FD_CALL("pread", fd, tl__sys_libc.pread(fd, buf, len, off));
}

static ssize_t fault_write(int fd, const void *buf, size_t len)
{
    FAULT_FD_CALL("write", fd, tl__sys_libc.write(fd, buf, len));
}

static int fault_fsync(int fd)
{
    FAULT_FD_CALL("fsync", fd, tl__sys_libc.fsync(fd));
}

static int fault_fstat(int fd, struct stat *st)
{
    FAULT_FD_CALL("fstat", fd, tl__sys_libc.fstat(fd, st));
}

static int fault_flock(int fd, int op)
{
    FAULT_FD_CALL("flock", fd, tl__sys_libc.flock(fd, op));
}

static int fault_futimens(int fd, const struct timespec times[2])
{
    FAULT_FD_CALL("futimens", fd, tl__sys_libc.futimens(fd, times));
}

static int fault_stat(const char *path, struct stat *st)
{
    FAULT_PATH_CALL("stat", tl__sys_libc.stat(path, st));
}

static int fault_lstat(const char *path, struct stat *st)
{
    FAULT_PATH_CALL("lstat", tl__sys_libc.lstat(path, st));
}

static int fault_rename(const char *from, const char *to)
{
    FAULT_PATH_CALL("rename", tl__sys_libc.rename(from, to));
}

static int fault_unlink(const char *path)
{
    FAULT_PATH_CALL("unlink", tl__sys_libc.unlink(path));
}

static int fault_mkdir(const char *path, mode_t mode)
{
    FAULT_PATH_CALL("mkdir", tl__sys_libc.mkdir(path, mode));
}

static DIR *fault_opendir(const char *path)
{
    DIR *d;

    if (fault_hit("opendir")) {
        return NULL;
    }
    d = tl__sys_libc.opendir(path);
    if (d != NULL) {
        fault_opened(dirfd(d));
    }
    return d;
}

static struct dirent *fault_readdir(DIR *d)
{
    fault_use(dirfd(d));
    return tl__sys_libc.readdir(d);
}

static int fault_closedir(DIR *d)
{
    int fd = dirfd(d);

    fault_use(fd);
    if (fd >= 0 && fd < FAULT_FDS) {
        fault.open_fds[fd] = false;
    }
    return tl__sys_libc.closedir(d);
}

static int fault_clock_gettime(clockid_t id, struct timespec *ts)
{
    int64_t ns;

    if (!fault.fake_clocks) {
        return tl__sys_libc.clock_gettime(id, ts);
    }
    ns = id == CLOCK_REALTIME ? fault.real_ns : fault.mono_ns;
    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
    return 0;
}

static const struct tl__sys fault_sys = {
    .open = fault_open,
    .close = fault_close,
    .read = fault_read,
    .pread = fault_pread,
    .write = fault_write,
    .fsync = fault_fsync,
    .fstat = fault_fstat,
    .stat = fault_stat,
    .lstat = fault_lstat,
    .rename = fault_rename,
    .unlink = fault_unlink,
    .mkdir = fault_mkdir,
    .flock = fault_flock,
    .futimens = fault_futimens,
    .opendir = fault_opendir,
    .readdir = fault_readdir,
    .closedir = fault_closedir,
    .clock_gettime = fault_clock_gettime,
};

/* Installs the table with nothing failing and the clocks at the given
 * times (fake_clocks: the tests move them), or the real clocks. */
static void fault_install(bool fake_clocks, int64_t real_ns)
{
    memset(&fault, 0, sizeof(fault));
    fault.fake_clocks = fake_clocks;
    fault.real_ns = real_ns;
    fault.mono_ns = 1000000000;
    tl__sys_set(&fault_sys);
}

static void fault_remove(void)
{
    tl__sys_set(NULL);
}

/* Moves both fake clocks forward by ns. */
static void fault_advance(int64_t ns)
{
    fault.mono_ns += ns;
    fault.real_ns += ns;
}

#endif
