/* The libc system-call table of the file sinks (see sys.h). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "sys.h"

static int sys_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}

const struct tl__sys tl__sys_libc = {
    .open = sys_open,
    .close = close,
    .read = read,
    .pread = pread,
    .write = write,
    .fsync = fsync,
    .fstat = fstat,
    .stat = stat,
    .lstat = lstat,
    .rename = rename,
    .unlink = unlink,
    .mkdir = mkdir,
    .flock = flock,
    .futimens = futimens,
    .opendir = opendir,
    .readdir = readdir,
    .closedir = closedir,
    .clock_gettime = clock_gettime,
};

const struct tl__sys *tl__sys = &tl__sys_libc;

void tl__sys_set(const struct tl__sys *ops)
{
    tl__sys = ops != NULL ? ops : &tl__sys_libc;
}

int64_t tl__sys_now_ns(clockid_t id)
{
    struct timespec ts = {0, 0};

    tl__sys->clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
