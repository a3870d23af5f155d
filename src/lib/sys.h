/* The system calls of the file sinks, through one table that tests can
 * replace to fail any call with a chosen errno, and the clocks they read,
 * which tests can move. Production code uses the libc functions. */
#ifndef TL_LIB_SYS_H
#define TL_LIB_SYS_H

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct tl__sys {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*read)(int fd, void *buf, size_t len);
    ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
    ssize_t (*write)(int fd, const void *buf, size_t len);
    int (*fsync)(int fd);
    int (*fstat)(int fd, struct stat *st);
    int (*stat)(const char *path, struct stat *st);
    int (*lstat)(const char *path, struct stat *st);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*mkdir)(const char *path, mode_t mode);
    int (*flock)(int fd, int op);
    int (*futimens)(int fd, const struct timespec times[2]);
    DIR *(*opendir)(const char *path);
    struct dirent *(*readdir)(DIR *d);
    int (*closedir)(DIR *d);
    /* clock_gettime(2) of CLOCK_MONOTONIC or CLOCK_REALTIME. */
    int (*clock_gettime)(clockid_t id, struct timespec *ts);
};

/* The table in use. Replace it only while no sink is open. */
extern const struct tl__sys *tl__sys;

/* The libc table, for wrappers that pass calls through. */
extern const struct tl__sys tl__sys_libc;

/* Installs ops, or the libc table when ops is NULL. */
void tl__sys_set(const struct tl__sys *ops);

/* Nanoseconds on clock id, read through the table. */
int64_t tl__sys_now_ns(clockid_t id);

#endif
