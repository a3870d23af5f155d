/* Behaviour of the file sink through the sink set, single-threaded on
 * fake clocks: time rotation, retention of earlier runs' files,
 * compression, a failing rename, the memory spool and the stderr
 * fallback. */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "lib/config.h"
#include "lib/record.h"
#include "lib/sink.h"

#define NS 1000000000LL
#define MS 1000000LL
/* Longer than the sink's longest retry backoff (2 s). */
#define PAST_BACKOFF_NS (3 * NS)
/* Longer than the quiet time before a rotated file is compressed (1 s),
 * with room for a slow run: the sink measures it from the file's real
 * mtime, and these tests start the fake clock at the real time. */
#define PAST_QUIET_NS (10 * NS)
/* Longer than the interval of the retention by age (60 s). */
#define PAST_AGE_PASS_NS (61 * NS)
#define FLUSHES_MAX 100
#define PAD_MAX 20000

static char dir[64];
static struct tl__config *cfg;
static struct tl__sinks set;
static struct tl__sink_stats stats;
static bool set_open;
static unsigned long diags;

/* fd 2 while a test sends it to dir/stderr.txt, else -1. */
static int saved_stderr = -1;

/* ---- clocks, paths and files ---- */

static int64_t utc_ns(int year, int mon, int day, int hour, int min, int sec)
{
    struct tm tm = {0};

    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    return (int64_t)timegm(&tm) * NS;
}

static int64_t real_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* Sets the fake realtime clock, moving the monotonic one forward by
 * step_ns whichever way the realtime one moves. */
static void clock_set(int64_t real_ns, int64_t step_ns)
{
    fault.real_ns = real_ns;
    fault.mono_ns += step_ns;
}

/* Writes dir/<rel> to out. */
static const char *at(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", dir, rel);
    return out;
}

/* Writes the rotated name of base for a rotation at ns (UTC), with "-N"
 * when index > 1 and ext after it. */
static const char *rotated_name(char *out, size_t cap, const char *base,
                                int64_t ns, int index, const char *ext)
{
    time_t secs = (time_t)(ns / NS);
    char suffix[16] = "";
    struct tm tm;

    gmtime_r(&secs, &tm);
    if (index > 1) {
        snprintf(suffix, sizeof(suffix), "-%d", index);
    }
    snprintf(out, cap, "%s.%04d%02d%02dT%02d%02d%02d.%06ldZ%s%s", base,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)(ns % NS / 1000), suffix, ext);
    return out;
}

static bool exists(const char *rel)
{
    char path[PATH_MAX];
    struct stat st;

    return lstat(at(path, sizeof(path), rel), &st) == 0;
}

/* Creates dir/<rel> and its folder with content, and sets its mtime
 * to mtime_ns unless that is 0. */
static void file_make(const char *rel, const char *content, int64_t mtime_ns)
{
    char path[PATH_MAX];
    char *slash;
    FILE *f;

    at(path, sizeof(path), rel);
    slash = strrchr(path, '/');
    *slash = '\0';
    assert_true(mkdir(path, 0750) == 0 || errno == EEXIST);
    *slash = '/';
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(content, f) >= 0, true);
    assert_int_equal(fclose(f), 0);
    if (mtime_ns != 0) {
        struct timespec times[2] = {
            {(time_t)(mtime_ns / NS), 0},
            {(time_t)(mtime_ns / NS), 0},
        };

        assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    }
}

/* Creates dir/<rel> with size bytes of text and an mtime long ago. */
static void file_sized(const char *rel, size_t size)
{
    char *text = malloc(size + 1);

    assert_non_null(text);
    memset(text, 'o', size);
    if (size > 0) {
        text[size - 1] = '\n';
    }
    text[size] = '\0';
    file_make(rel, text, utc_ns(2025, 1, 1, 0, 0, 0));
    free(text);
}

/* Reads all of stream into a NUL-terminated string. */
static char *stream_read(FILE *f)
{
    size_t len = 0, cap = 4096, n;
    char *text = malloc(cap);

    assert_non_null(text);
    while ((n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            text = realloc(text, cap);
            assert_non_null(text);
        }
    }
    text[len] = '\0';
    return text;
}

/* Returns the content of dir/<rel>, or NULL when it cannot be read. */
static char *file_text(const char *rel)
{
    char path[PATH_MAX];
    FILE *f = fopen(at(path, sizeof(path), rel), "r");
    char *text;

    if (f == NULL) {
        return NULL;
    }
    text = stream_read(f);
    fclose(f);
    return text;
}

/* Returns what `tool -dc` writes for dir/<rel>, or NULL when it fails. */
static char *decompressed(const char *tool, const char *rel)
{
    char path[PATH_MAX], cmd[PATH_MAX + 32];
    char *text;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "%s -dc '%s' 2>/dev/null", tool,
             at(path, sizeof(path), rel));
    p = popen(cmd, "r");
    assert_non_null(p);
    text = stream_read(p);
    if (pclose(p) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* Counts the files in dir/<sub> whose names start with prefix. */
static int count_named(const char *sub, const char *prefix)
{
    char path[PATH_MAX];
    struct dirent *e;
    int n = 0;
    DIR *d = opendir(at(path, sizeof(path), sub));

    if (d == NULL) {
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    }
    closedir(d);
    return n;
}

/* Counts the rotated files of acme/app.log, whose stamps start with a
 * year from 2000 on. */
static int rotated_count(void)
{
    return count_named("acme", "app.log.2");
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ---- records ---- */

/* Counts the records in text whose message is id, alone or followed by
 * "/" and padding. */
static int count_msg(const char *text, const char *id)
{
    char needle[128];
    const char *p;
    size_t len;
    int n = 0;

    if (text == NULL) {
        return 0;
    }
    len = (size_t)snprintf(needle, sizeof(needle), "\"msg\":\"%s", id);
    for (p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) {
        n += p[len] == '"' || p[len] == '/';
    }
    return n;
}

/* Returns where record id starts in text, or NULL. */
static const char *find_msg(const char *text, const char *id)
{
    char needle[128];
    const char *p;
    size_t len;

    len = (size_t)snprintf(needle, sizeof(needle), "\"msg\":\"%s", id);
    for (p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) {
        if (p[len] == '"' || p[len] == '/') {
            return p;
        }
    }
    return NULL;
}

/* Checks that text contains records prefix-from .. prefix-to, each once
 * and in order. */
static void assert_run(const char *text, const char *prefix, int from, int to)
{
    const char *last = text, *p;
    char id[64];
    int i;

    assert_non_null(text);
    for (i = from; i <= to; i++) {
        snprintf(id, sizeof(id), "%s-%d", prefix, i);
        assert_int_equal(count_msg(text, id), 1);
        p = find_msg(text, id);
        assert_true(p >= last);
        last = p;
    }
}

/* Logs a record for tenant with message id, then pad bytes of padding
 * after a "/". Returns what tl__sinks_write returns. */
static int log_padded(const char *tenant, const char *id, size_t pad)
{
    static char msg[PAD_MAX + 64];
    struct tl__record_src src = {
        .ts_ns = fault.real_ns,
        .level = TL_INFO,
        .logger = "test",
        .msg = msg,
        .msg_len = (size_t)-1,
        .tenant = tenant,
    };
    struct tl__record *r;
    size_t len;
    int rc;

    assert_true(pad <= PAD_MAX);
    len = (size_t)snprintf(msg, 64, "%s", id);
    if (pad > 0) {
        msg[len++] = '/';
        memset(msg + len, 'x', pad);
        len += pad;
    }
    msg[len] = '\0';
    assert_int_equal(tl__record_new(&src, &r), 0);
    rc = tl__sinks_write(&set, r);
    free(r);
    return rc;
}

static int log_msg(const char *tenant, const char *id)
{
    return log_padded(tenant, id, 0);
}

/* Logs acme records prefix-from .. prefix-to; returns the first error. */
static int log_run(const char *prefix, int from, int to, size_t pad)
{
    char id[64];
    int i, rc, first = 0;

    for (i = from; i <= to; i++) {
        snprintf(id, sizeof(id), "%s-%d", prefix, i);
        rc = log_padded("acme", id, pad);
        if (first == 0) {
            first = rc;
        }
    }
    return first;
}

/* ---- the sink set ---- */

static void diag_count(void *user, const char *message)
{
    (void)user;
    (void)message;
    diags++;
    if (getenv("TL_TEST_DIAG") != NULL) {
        fprintf(stderr, "diag: %s\n", message);
    }
}

/* Opens a set with one file sink "files" writing the path template
 * path under dir, plus the YAML lines in extra (indented four spaces). */
static void sink_open_path(const char *path, const char *extra)
{
    char yaml[2048], err[512] = "";
    int rc;

    snprintf(yaml, sizeof(yaml),
             "sinks:\n"
             "  - name: files\n"
             "    type: file\n"
             "    level: debug\n"
             "    base: %s\n"
             "    path: \"%s\"\n"
             "%s",
             dir, path, extra);
    rc = tl__config_parse(yaml, strlen(yaml), "<test>", &cfg, err, sizeof(err));
    if (rc != 0) {
        fail_msg("configuration rejected: %s", err);
    }
    assert_int_equal(tl__sinks_open(&set, cfg, &stats), 0);
    set_open = true;
}

/* Opens the set with the path template {tenant}/app.log. */
static void sink_open(const char *extra)
{
    sink_open_path("{tenant}/app.log", extra);
}

/* Closes the set and checks that every descriptor was closed through
 * the table and none was used after its close. */
static void sink_close(void)
{
    tl__sinks_close(&set);
    tl__config_free(cfg);
    cfg = NULL;
    set_open = false;
    assert_int_equal(fault.bad_fds, 0);
    assert_int_equal(atomic_load(&stats.open_fds), 0);
}

static void flush_until_idle(void)
{
    int i;

    tl__sinks_flush(&set);
    for (i = 0; i < FLUSHES_MAX && tl__sinks_pending(&set); i++) {
        tl__sinks_flush(&set);
    }
    assert_false(tl__sinks_pending(&set));
}

/* Returns the failures of sink "files" counted for op and err. */
static uint64_t sink_errors(const char *op, int err)
{
    struct tl_sink_error out[TL__SINK_ERR_SLOTS];
    size_t n, i;
    uint64_t count = 0;

    n = tl__sink_stats_errors(&stats, out, TL__SINK_ERR_SLOTS);
    for (i = 0; i < n && i < TL__SINK_ERR_SLOTS; i++) {
        if (strcmp(out[i].sink, "files") == 0 && strcmp(out[i].op, op) == 0 &&
            out[i].err == err) {
            count += out[i].count;
        }
    }
    return count;
}

/* Fails every later call named op with err. */
static void fault_on(const char *op, int err)
{
    fault.only = op;
    fault.err = err;
    fault.fail_from = fault.calls + 1;
    fault.fail_to = ULONG_MAX;
}

static void fault_off(void)
{
    fault.fail_from = 0;
}

static void assert_spool_balanced(void)
{
    assert_int_equal(atomic_load(&stats.spooled),
                     atomic_load(&stats.spool_written) +
                         atomic_load(&stats.spool_fallback) +
                         atomic_load(&stats.spool_depth));
}

/* Sends fd 2 to dir/stderr.txt until stderr_release. */
static void stderr_capture(void)
{
    char path[PATH_MAX];
    int fd;

    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    fd = open(at(path, sizeof(path), "stderr.txt"),
              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    close(fd);
}

/* Puts fd 2 back and returns what went to it meanwhile. */
static char *stderr_release(void)
{
    if (saved_stderr >= 0) {
        fflush(stderr);
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
    }
    return file_text("stderr.txt");
}

static int count_lines(const char *text)
{
    int n = 0;

    for (; text != NULL && *text != '\0'; text++) {
        n += *text == '\n';
    }
    return n;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tl-file-sink-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    memset(&stats, 0, sizeof(stats));
    diags = 0;
    tl_diag_set(diag_count, NULL);
    fault_install(true, utc_ns(2026, 1, 10, 12, 0, 0));
    return 0;
}

static int teardown(void **state)
{
    char *lost;

    (void)state;
    if (saved_stderr >= 0) {
        /* A failed assertion printed its message into the capture. */
        lost = stderr_release();
        if (lost != NULL) {
            fputs(lost, stderr);
        }
        free(lost);
    }
    if (set_open) {
        tl__sinks_close(&set);
        tl__config_free(cfg);
        set_open = false;
    }
    fault_remove();
    tl_diag_set(NULL, NULL);
    unsetenv("TZ");
    tzset();
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- time rotation ---- */

#define DAILY_UTC                                                              \
    "    rotate: daily\n"                                                      \
    "    rotate_at: \"00:00\"\n"                                               \
    "    rotate_zone: utc\n"                                                   \
    "    compress: none\n"
#define DAILY_LOCAL(hhmm)                                                      \
    "    rotate: daily\n"                                                      \
    "    rotate_at: \"" hhmm "\"\n"                                            \
    "    rotate_zone: local\n"                                                 \
    "    compress: none\n"

/* Checks that the rotated file of acme/app.log for a rotation at ns
 * (with index) contains records prefix-from .. prefix-to. */
static void assert_rotated(int64_t ns, int index, const char *prefix, int from,
                           int to)
{
    char name[128], rel[160];
    char *text;

    rotated_name(name, sizeof(name), "app.log", ns, index, "");
    snprintf(rel, sizeof(rel), "acme/%s", name);
    text = file_text(rel);
    if (text == NULL) {
        fail_msg("rotated file %s is missing", rel);
    }
    assert_run(text, prefix, from, to);
    assert_int_equal(count_lines(text), to - from + 1);
    free(text);
}

static void assert_active(const char *prefix, int from, int to)
{
    char *text = file_text("acme/app.log");

    assert_run(text, prefix, from, to);
    assert_int_equal(count_lines(text), to - from + 1);
    free(text);
}

static void time_daily_utc(void **state)
{
    int64_t midnight = utc_ns(2026, 1, 11, 0, 0, 0);

    (void)state;
    clock_set(utc_ns(2026, 1, 10, 23, 59, 0), NS);
    sink_open(DAILY_UTC);
    assert_int_equal(log_msg("acme", "d-1"), 0);
    clock_set(midnight - 1, 59 * NS); /* 23:59:59.999999999 */
    assert_int_equal(log_msg("acme", "d-2"), 0);
    assert_int_equal(atomic_load(&stats.rotations), 0);

    clock_set(midnight, 1);
    assert_int_equal(log_msg("acme", "d-3"), 0);
    assert_int_equal(log_msg("acme", "d-4"), 0);

    assert_int_equal(atomic_load(&stats.rotations), 1);
    assert_int_equal(rotated_count(), 1);
    assert_rotated(midnight, 1, "d", 1, 2);
    assert_active("d", 3, 4);
    sink_close();
}

static void time_hourly(void **state)
{
    int64_t eleven = utc_ns(2026, 1, 10, 11, 0, 0);
    int64_t noon = utc_ns(2026, 1, 10, 12, 0, 0);

    (void)state;
    clock_set(utc_ns(2026, 1, 10, 10, 59, 30), NS);
    sink_open("    rotate: hourly\n"
              "    rotate_zone: utc\n"
              "    compress: none\n");
    assert_int_equal(log_msg("acme", "h-1"), 0);
    clock_set(eleven, 30 * NS);
    assert_int_equal(log_msg("acme", "h-2"), 0);
    clock_set(noon - NS, 3599 * NS);
    assert_int_equal(log_msg("acme", "h-3"), 0);
    assert_int_equal(atomic_load(&stats.rotations), 1);
    clock_set(noon, NS);
    assert_int_equal(log_msg("acme", "h-4"), 0);

    assert_int_equal(atomic_load(&stats.rotations), 2);
    assert_int_equal(rotated_count(), 2);
    assert_rotated(eleven, 1, "h", 1, 1);
    assert_rotated(noon, 1, "h", 2, 3);
    assert_active("h", 4, 4);
    sink_close();
}

/* New York springs forward on 2026-03-08 at 02:00 EST: that day has 23
 * hours, so local midnights fall at 05:00Z and then 04:00Z. */
static void time_local_spring(void **state)
{
    int64_t mar8 = utc_ns(2026, 3, 8, 5, 0, 0);
    int64_t mar9 = utc_ns(2026, 3, 9, 4, 0, 0);

    (void)state;
    setenv("TZ", "America/New_York", 1);
    tzset();
    clock_set(mar8 - 60 * NS, NS);
    sink_open(DAILY_LOCAL("00:00"));
    assert_int_equal(log_msg("acme", "s-1"), 0);
    clock_set(mar8, 60 * NS);
    assert_int_equal(log_msg("acme", "s-2"), 0);
    clock_set(mar9 - NS, 23 * 3600 * NS - NS);
    assert_int_equal(log_msg("acme", "s-3"), 0);
    assert_int_equal(atomic_load(&stats.rotations), 1);
    clock_set(mar9, NS);
    assert_int_equal(log_msg("acme", "s-4"), 0);

    assert_int_equal(atomic_load(&stats.rotations), 2);
    assert_rotated(mar8, 1, "s", 1, 1);
    assert_rotated(mar9, 1, "s", 2, 3);
    assert_active("s", 4, 4);
    sink_close();
}

/* 02:30 does not exist in New York on 2026-03-08: the rotation falls at
 * the end of the gap, 03:00 EDT (07:00Z), not at 06:30Z or 07:30Z. */
static void time_local_gap(void **state)
{
    int64_t gap_end = utc_ns(2026, 3, 8, 7, 0, 0);

    (void)state;
    setenv("TZ", "America/New_York", 1);
    tzset();
    clock_set(utc_ns(2026, 3, 8, 6, 0, 0), NS);
    sink_open(DAILY_LOCAL("02:30"));
    assert_int_equal(log_msg("acme", "g-1"), 0);
    clock_set(utc_ns(2026, 3, 8, 6, 30, 0), 1800 * NS);
    assert_int_equal(log_msg("acme", "g-2"), 0);
    clock_set(gap_end - NS, 1799 * NS);
    assert_int_equal(log_msg("acme", "g-3"), 0);
    assert_int_equal(atomic_load(&stats.rotations), 0);
    clock_set(gap_end, NS);
    assert_int_equal(log_msg("acme", "g-4"), 0);

    assert_int_equal(atomic_load(&stats.rotations), 1);
    assert_rotated(gap_end, 1, "g", 1, 3);
    assert_active("g", 4, 4);
    sink_close();
}

/* New York falls back on 2026-11-01 at 02:00 EDT: that day has 25
 * hours, so local midnights fall at 04:00Z and then 05:00Z. */
static void time_local_fall(void **state)
{
    int64_t nov1 = utc_ns(2026, 11, 1, 4, 0, 0);
    int64_t nov2 = utc_ns(2026, 11, 2, 5, 0, 0);

    (void)state;
    setenv("TZ", "America/New_York", 1);
    tzset();
    clock_set(nov1 - NS, NS);
    sink_open(DAILY_LOCAL("00:00"));
    assert_int_equal(log_msg("acme", "f-1"), 0);
    clock_set(nov1, NS);
    assert_int_equal(log_msg("acme", "f-2"), 0);
    /* 24 hours later the local clock shows 23:00 on 2026-11-01. */
    clock_set(nov1 + 24 * 3600 * NS, 24 * 3600 * NS);
    assert_int_equal(log_msg("acme", "f-3"), 0);
    clock_set(nov2 - NS, 3600 * NS - NS);
    assert_int_equal(log_msg("acme", "f-4"), 0);
    assert_int_equal(atomic_load(&stats.rotations), 1);
    clock_set(nov2, NS);
    assert_int_equal(log_msg("acme", "f-5"), 0);

    assert_int_equal(atomic_load(&stats.rotations), 2);
    assert_rotated(nov1, 1, "f", 1, 1);
    assert_rotated(nov2, 1, "f", 2, 4);
    assert_active("f", 5, 5);
    sink_close();
}

/* 01:30 happens twice in New York on 2026-11-01 (05:30Z EDT, 06:30Z
 * EST): the sink rotates at the first only. */
static void time_local_repeat(void **state)
{
    int64_t first = utc_ns(2026, 11, 1, 5, 30, 0);
    int64_t next_day = utc_ns(2026, 11, 2, 6, 30, 0);

    (void)state;
    setenv("TZ", "America/New_York", 1);
    tzset();
    clock_set(first - 1800 * NS, NS);
    sink_open(DAILY_LOCAL("01:30"));
    assert_int_equal(log_msg("acme", "r-1"), 0);
    clock_set(first, 1800 * NS);
    assert_int_equal(log_msg("acme", "r-2"), 0);
    clock_set(first + 3600 * NS, 3600 * NS); /* 01:30 EST */
    assert_int_equal(log_msg("acme", "r-3"), 0);
    clock_set(next_day - NS, 24 * 3600 * NS - NS);
    assert_int_equal(log_msg("acme", "r-4"), 0);
    assert_int_equal(atomic_load(&stats.rotations), 1);
    clock_set(next_day, NS);
    assert_int_equal(log_msg("acme", "r-5"), 0);

    assert_int_equal(atomic_load(&stats.rotations), 2);
    assert_rotated(first, 1, "r", 1, 1);
    assert_rotated(next_day, 1, "r", 2, 4);
    assert_active("r", 5, 5);
    sink_close();
}

/* The clock steps back an hour right after a midnight rotation. The
 * sink takes the new time as it is: no rotation while the clock shows
 * the previous day, and a second rotation when it shows midnight again,
 * stamped 1 us after the first so that it sorts as the newer. No record
 * is lost or repeated. */
static void time_clock_back(void **state)
{
    int64_t midnight = utc_ns(2026, 1, 11, 0, 0, 0);
    int64_t rotated_at = midnight + 30 * NS;

    (void)state;
    clock_set(midnight - 30 * NS, NS);
    sink_open(DAILY_UTC);
    assert_int_equal(log_msg("acme", "b-1"), 0);
    clock_set(rotated_at, 60 * NS);
    assert_int_equal(log_msg("acme", "b-2"), 0);
    assert_int_equal(atomic_load(&stats.rotations), 1);

    clock_set(rotated_at - 3600 * NS, NS);
    assert_int_equal(log_msg("acme", "b-3"), 0);
    tl__sinks_flush(&set);
    assert_int_equal(atomic_load(&stats.rotations), 1);
    assert_active("b", 2, 3);

    clock_set(rotated_at, 3600 * NS);
    assert_int_equal(log_msg("acme", "b-4"), 0);

    assert_int_equal(atomic_load(&stats.rotations), 2);
    assert_int_equal(rotated_count(), 2);
    assert_rotated(rotated_at, 1, "b", 1, 1);
    assert_rotated(rotated_at + 1000, 1, "b", 2, 3);
    assert_active("b", 4, 4);
    sink_close();
}

/* With no record after the boundary, tl__sinks_flush rotates alone. */
static void time_idle_flush(void **state)
{
    int64_t midnight = utc_ns(2026, 1, 11, 0, 0, 0);

    (void)state;
    clock_set(midnight - 60 * NS, NS);
    sink_open(DAILY_UTC);
    assert_int_equal(log_msg("acme", "i-1"), 0);
    clock_set(midnight - NS, 59 * NS);
    tl__sinks_flush(&set);
    assert_int_equal(atomic_load(&stats.rotations), 0);

    clock_set(midnight + 60 * NS, 61 * NS);
    tl__sinks_flush(&set);
    assert_int_equal(atomic_load(&stats.rotations), 1);
    assert_rotated(midnight + 60 * NS, 1, "i", 1, 1);

    clock_set(midnight + 120 * NS, 60 * NS);
    assert_int_equal(log_msg("acme", "i-2"), 0);
    assert_int_equal(atomic_load(&stats.rotations), 1);
    assert_active("i", 2, 2);
    sink_close();
}

/* An empty app.log last changed two days ago is not rotated when the
 * sink opens it. */
static void time_empty_file(void **state)
{
    (void)state;
    file_make("acme/app.log", "", utc_ns(2026, 1, 8, 12, 0, 0));
    sink_open(DAILY_UTC);
    assert_int_equal(log_msg("acme", "e-1"), 0);
    tl__sinks_flush(&set);

    assert_int_equal(atomic_load(&stats.rotations), 0);
    assert_int_equal(rotated_count(), 0);
    assert_active("e", 1, 1);
    sink_close();
}

/* A file last written before the current day's boundary is rotated at
 * the first open, before the first record goes in. */
static void time_first_open(void **state)
{
    char name[128], rel[160];
    char *text;

    (void)state;
    file_make("acme/app.log", "yesterday\n", utc_ns(2026, 1, 9, 15, 0, 0));
    sink_open(DAILY_UTC);
    assert_int_equal(log_msg("acme", "o-1"), 0);

    assert_int_equal(atomic_load(&stats.rotations), 1);
    assert_int_equal(rotated_count(), 1);
    assert_active("o", 1, 1);
    rotated_name(name, sizeof(name), "app.log", fault.real_ns, 1, "");
    snprintf(rel, sizeof(rel), "acme/%s", name);
    text = file_text(rel);
    assert_non_null(text);
    assert_string_equal(text, "yesterday\n");
    free(text);
    sink_close();
}

/* A file last written earlier in the current day is appended to. */
static void time_same_period(void **state)
{
    char *text;

    (void)state;
    file_make("acme/app.log", "this morning\n", utc_ns(2026, 1, 10, 8, 0, 0));
    sink_open(DAILY_UTC);
    assert_int_equal(log_msg("acme", "p-1"), 0);

    assert_int_equal(atomic_load(&stats.rotations), 0);
    text = file_text("acme/app.log");
    assert_non_null(text);
    assert_true(strncmp(text, "this morning\n", 13) == 0);
    assert_int_equal(count_msg(text, "p-1"), 1);
    free(text);
    sink_close();
}

/* ---- retention ---- */

/* Creates acme/<base>.<stamp of day d of January 2026> with size bytes
 * and writes its name relative to dir to rel. */
static const char *old_rotated(char *rel, size_t cap, const char *sub,
                               const char *base, int day, size_t size)
{
    char name[128];

    rotated_name(name, sizeof(name), base, utc_ns(2026, 1, day, 0, 0, 0), 1,
                 "");
    snprintf(rel, cap, "%s/%s", sub, name);
    file_sized(rel, size);
    return rel;
}

static void retention_keep(void **state)
{
    char rel[6][192];
    int day;

    (void)state;
    for (day = 1; day <= 5; day++) {
        old_rotated(rel[day], sizeof(rel[day]), "acme", "app.log", day, 100);
    }
    sink_open("    keep: 3\n"
              "    compress: none\n");
    assert_int_equal(log_msg("acme", "k-1"), 0);

    assert_int_equal(atomic_load(&stats.pruned), 2);
    assert_false(exists(rel[1]));
    assert_false(exists(rel[2]));
    assert_true(exists(rel[3]));
    assert_true(exists(rel[4]));
    assert_true(exists(rel[5]));
    assert_active("k", 1, 1);
    sink_close();
}

/* Files older than max_age go at first use, and later ones as they age
 * past it, from the retention pass of tl__sinks_flush. */
static void retention_age(void **state)
{
    char rel[20][192];
    static const int days[] = {10, 12, 13, 14, 19};
    size_t i;

    (void)state;
    clock_set(utc_ns(2026, 1, 20, 0, 0, 0), NS);
    for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
        old_rotated(rel[days[i]], sizeof(rel[0]), "acme", "app.log", days[i],
                    100);
    }
    sink_open("    keep: 100\n"
              "    max_age: 7d\n"
              "    compress: none\n");
    assert_int_equal(log_msg("acme", "a-1"), 0);

    assert_int_equal(atomic_load(&stats.pruned), 2);
    assert_false(exists(rel[10]));
    assert_false(exists(rel[12]));
    assert_true(exists(rel[13])); /* exactly 7 days old */
    assert_true(exists(rel[14]));

    clock_set(utc_ns(2026, 1, 22, 0, 0, 0), PAST_AGE_PASS_NS);
    tl__sinks_flush(&set);
    assert_int_equal(atomic_load(&stats.pruned), 4);
    assert_false(exists(rel[13]));
    assert_false(exists(rel[14]));
    assert_true(exists(rel[19]));
    assert_active("a", 1, 1);
    sink_close();
}

/* Counting from the newest, the first file past max_total_bytes and
 * every older one go, however small. */
static void retention_bytes(void **state)
{
    char rel[10][192];

    (void)state;
    old_rotated(rel[9], sizeof(rel[9]), "acme", "app.log", 9, 4000);
    old_rotated(rel[8], sizeof(rel[8]), "acme", "app.log", 8, 4000);
    old_rotated(rel[7], sizeof(rel[7]), "acme", "app.log", 7, 4000);
    old_rotated(rel[6], sizeof(rel[6]), "acme", "app.log", 6, 1000);
    sink_open("    keep: 100\n"
              "    max_total_bytes: 10000\n"
              "    compress: none\n");
    assert_int_equal(log_msg("acme", "t-1"), 0);

    assert_int_equal(atomic_load(&stats.pruned), 2);
    assert_true(exists(rel[9]));
    assert_true(exists(rel[8]));
    assert_false(exists(rel[7]));
    assert_false(exists(rel[6]));
    sink_close();
}

/* Files that only look like this sink's rotated files, and those of
 * another tenant or another sink, survive the strictest retention. */
static void retention_decoys(void **state)
{
    static const char *const decoys[] = {
        "acme/app.log.20260101T000000.000000Z.bz2",
        "acme/app.log.20260101T000000.000000Z.gz.bak",
        "acme/app.log.20260101T000000.000000Z.zst.part",
        "acme/app.log.20260101T000000.000000Z-x",
        "acme/app.log.20260101T000000.000000Z-1",
        "acme/app.log.20260101T000000.000000Z-01",
        "acme/app.log.20260101T000000.000000Z-0",
        "acme/app.log.20260101T000000.000000Z-1001",
        "acme/app.log.20260101T000000Z",
        "acme/app.log.old",
        "acme/app2.log.20260101T000000.000000Z",
        "acme/xapp.log.20260101T000000.000000Z",
        "globex/app.log.20260101T000000.000000Z",
        "globex/app.log.20260102T000000.000000Z.zst",
    };
    char mine[2][192];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(decoys) / sizeof(decoys[0]); i++) {
        file_sized(decoys[i], 5000);
    }
    old_rotated(mine[0], sizeof(mine[0]), "acme", "app.log", 1, 100);
    old_rotated(mine[1], sizeof(mine[1]), "acme", "app.log", 2, 100);
    sink_open("    keep: 1\n"
              "    max_age: 1d\n"
              "    max_total_bytes: 4096\n"
              "    compress: none\n");
    assert_int_equal(log_msg("acme", "x-1"), 0);

    assert_int_equal(atomic_load(&stats.pruned), 2);
    assert_false(exists(mine[0]));
    assert_false(exists(mine[1]));
    for (i = 0; i < sizeof(decoys) / sizeof(decoys[0]); i++) {
        if (!exists(decoys[i])) {
            fail_msg("retention deleted %s", decoys[i]);
        }
    }
    sink_close();
}

/* Tenants "acme" and "acme.log" share a folder: logs/acme.log and
 * logs/acme.log.log. Each one's retention leaves the other's files. */
static void retention_shared_folder(void **state)
{
    char acme[192], other[192];
    char *text;

    (void)state;
    old_rotated(acme, sizeof(acme), "logs", "acme.log", 1, 100);
    old_rotated(other, sizeof(other), "logs", "acme.log.log", 1, 100);
    sink_open_path("logs/{tenant}.log", "    keep: 1\n"
                                        "    max_age: 1d\n"
                                        "    compress: none\n");
    assert_int_equal(log_msg("acme", "y-1"), 0);
    assert_int_equal(atomic_load(&stats.pruned), 1);
    assert_false(exists(acme));
    assert_true(exists(other));

    assert_int_equal(log_msg("acme.log", "y-2"), 0);
    assert_int_equal(atomic_load(&stats.pruned), 2);
    assert_false(exists(other));
    text = file_text("logs/acme.log");
    assert_int_equal(count_msg(text, "y-1"), 1);
    free(text);
    sink_close();
}

/* ---- compression ---- */

/* Writes acme records c-1.. until a size rotation, then one more.
 * Returns the number before the rotation and writes the rotated file's
 * name relative to dir to rel. */
static int fill_until_rotation(char *rel, size_t cap)
{
    char name[128];
    int n = 0;

    while (atomic_load(&stats.rotations) == 0) {
        assert_true(n < 1000);
        n++;
        assert_int_equal(log_run("c", n, n, 200), 0);
    }
    rotated_name(name, sizeof(name), "app.log", fault.real_ns, 1, "");
    snprintf(rel, cap, "acme/%s", name);
    assert_int_equal(log_run("c", n + 1, n + 1, 200), 0);
    return n;
}

static void check_compression(const char *method, const char *ext,
                              const char *tool)
{
    char yaml[128], rel[192], packed[200], temp[208];
    char *original, *text;
    int n;

    /* The quiet time is measured against the file's real mtime. */
    clock_set(real_now_ns(), NS);
    snprintf(yaml, sizeof(yaml),
             "    max_bytes: 4096\n"
             "    compress: %s\n",
             method);
    sink_open(yaml);
    n = fill_until_rotation(rel, sizeof(rel));
    snprintf(packed, sizeof(packed), "%s%s", rel, ext);
    snprintf(temp, sizeof(temp), "%s.tmp", packed);
    original = file_text(rel);
    assert_non_null(original);
    assert_run(original, "c", 1, n);

    tl__sinks_flush(&set);
    assert_false(exists(packed));
    assert_int_equal(atomic_load(&stats.compressed), 0);

    fault_advance(PAST_QUIET_NS);
    flush_until_idle();
    assert_int_equal(atomic_load(&stats.compressed), 1);
    assert_true(exists(packed));
    assert_false(exists(rel));
    assert_false(exists(temp));
    text = decompressed(tool, packed);
    assert_non_null(text);
    assert_string_equal(text, original);
    free(text);
    free(original);
    assert_active("c", n + 1, n + 1);
    sink_close();
}

/* A compression that fails (ENOSPC on its fsync) keeps the original,
 * is counted, and is tried again after its backoff of 10 s. */
static void compress_retried(void **state)
{
    char rel[192], packed[200];
    int n;

    (void)state;
    clock_set(real_now_ns(), NS);
    sink_open("    max_bytes: 4096\n"
              "    compress: zstd\n");
    n = fill_until_rotation(rel, sizeof(rel));
    snprintf(packed, sizeof(packed), "%s.zst", rel);
    fault_advance(PAST_QUIET_NS);
    fault_on("fsync", ENOSPC);
    flush_until_idle();
    fault_off();
    assert_int_equal(sink_errors("compress", ENOSPC), 1);
    assert_int_equal(atomic_load(&stats.compressed), 0);
    assert_true(exists(rel));
    assert_false(exists(packed));

    fault_advance(5 * NS);
    flush_until_idle();
    assert_int_equal(atomic_load(&stats.compressed), 0);
    fault_advance(6 * NS);
    flush_until_idle();
    assert_int_equal(atomic_load(&stats.compressed), 1);
    assert_true(exists(packed));
    assert_false(exists(rel));
    assert_true(n > 0);
    sink_close();
}

static void compress_zstd(void **state)
{
    (void)state;
    check_compression("zstd", ".zst", "zstd");
}

static void compress_gzip(void **state)
{
    (void)state;
    check_compression("gzip", ".gz", "gzip");
}

static void compress_none(void **state)
{
    char rel[192], packed[200];
    int i, n;

    (void)state;
    clock_set(real_now_ns(), NS);
    sink_open("    max_bytes: 4096\n"
              "    compress: none\n");
    n = fill_until_rotation(rel, sizeof(rel));
    for (i = 0; i < 3; i++) {
        fault_advance(PAST_QUIET_NS);
        flush_until_idle();
    }

    assert_int_equal(atomic_load(&stats.compressed), 0);
    assert_true(exists(rel));
    snprintf(packed, sizeof(packed), "%s.zst", rel);
    assert_false(exists(packed));
    snprintf(packed, sizeof(packed), "%s.gz", rel);
    assert_false(exists(packed));
    assert_int_equal(count_named("acme", "app.log.2"), 1);
    assert_true(n > 1);
    sink_close();
}

/* Three rotations in a row are compressed one after the other, each to
 * its own lines. */
static void compress_queue(void **state)
{
    char name[128], rel[3][160], packed[PATH_MAX];
    char *original[3], *text;
    int i, n = 0;

    (void)state;
    clock_set(real_now_ns(), NS);
    sink_open("    max_bytes: 4096\n");
    for (i = 0; i < 3; i++) {
        while (atomic_load(&stats.rotations) == (uint64_t)i) {
            n++;
            assert_true(n < 1000);
            assert_int_equal(log_run("q", n, n, 200), 0);
        }
        /* The clock is frozen: each rotation is stamped 1 us later. */
        rotated_name(name, sizeof(name), "app.log", fault.real_ns + i * 1000, 1,
                     "");
        snprintf(rel[i], sizeof(rel[i]), "acme/%s", name);
        original[i] = file_text(rel[i]);
        assert_non_null(original[i]);
    }

    fault_advance(PAST_QUIET_NS);
    for (i = 0; i < FLUSHES_MAX && atomic_load(&stats.compressed) < 3; i++) {
        tl__sinks_flush(&set);
    }
    assert_int_equal(atomic_load(&stats.compressed), 3);
    for (i = 0; i < 3; i++) {
        assert_false(exists(rel[i]));
        snprintf(packed, sizeof(packed), "%s.zst", rel[i]);
        text = decompressed("zstd", packed);
        assert_non_null(text);
        assert_string_equal(text, original[i]);
        free(text);
        free(original[i]);
    }
    assert_false(tl__sinks_pending(&set));
    sink_close();
}

/* What a crash can leave: a half-written "<rotated>.zst.tmp" beside its
 * original, and an original beside its complete ".zst". */
static void compress_leftovers(void **state)
{
    char orig1[192], tmp1[208], zst1[200], orig2[192], zst2[200];
    char *text;
    int64_t now = real_now_ns();

    (void)state;
    clock_set(now, NS);
    old_rotated(orig1, sizeof(orig1), "acme", "app.log", 1, 0);
    file_make(orig1, "left-1\nleft-2\n", now - 3600 * NS);
    snprintf(tmp1, sizeof(tmp1), "%s.zst.tmp", orig1);
    snprintf(zst1, sizeof(zst1), "%s.zst", orig1);
    file_make(tmp1, "half a frame", now - 3600 * NS);
    old_rotated(orig2, sizeof(orig2), "acme", "app.log", 2, 0);
    file_make(orig2, "done-1\n", now - 3600 * NS);
    snprintf(zst2, sizeof(zst2), "%s.zst", orig2);
    file_make(zst2, "a complete frame", now - 3600 * NS);

    sink_open("");
    assert_int_equal(log_msg("acme", "l-1"), 0);
    assert_false(exists(tmp1));
    assert_false(exists(orig2));
    text = file_text(zst2);
    assert_non_null(text);
    assert_string_equal(text, "a complete frame");
    free(text);

    clock_set(now + PAST_QUIET_NS, PAST_QUIET_NS);
    flush_until_idle();
    assert_int_equal(atomic_load(&stats.compressed), 1);
    assert_false(exists(orig1));
    assert_false(exists(tmp1));
    text = decompressed("zstd", zst1);
    assert_non_null(text);
    assert_string_equal(text, "left-1\nleft-2\n");
    free(text);
    assert_int_equal(atomic_load(&stats.pruned), 0);
    sink_close();
}

/* ---- a failing rename ---- */

/* Size rotations fail with EXDEV, then EACCES: every record stays in
 * the active file, each failure is counted under "rename", and the
 * first rotation after the fault goes through. */
static void rename_fails(void **state)
{
    unsigned long failed_exdev, failed_eacces;
    char *text;
    int n;

    (void)state;
    sink_open("    max_bytes: 4096\n"
              "    compress: none\n");
    fault_on("rename", EXDEV);
    assert_int_equal(log_run("n", 1, 20, 500), 0);
    failed_exdev = fault.failed;
    assert_true(failed_exdev >= 2);
    assert_int_equal(sink_errors("rename", EXDEV), failed_exdev);

    fault_on("rename", EACCES);
    assert_int_equal(log_run("n", 21, 40, 500), 0);
    failed_eacces = fault.failed - failed_exdev;
    assert_true(failed_eacces >= 2);
    assert_int_equal(sink_errors("rename", EACCES), failed_eacces);

    assert_int_equal(atomic_load(&stats.rotations), 0);
    assert_int_equal(rotated_count(), 0);
    text = file_text("acme/app.log");
    assert_run(text, "n", 1, 40);
    assert_int_equal(count_lines(text), 40);
    free(text);

    /* Lifted: the next size rotation takes every record so far. */
    fault_off();
    for (n = 41; atomic_load(&stats.rotations) == 0; n++) {
        assert_true(n <= 60);
        assert_int_equal(log_run("n", n, n, 500), 0);
    }
    assert_int_equal(log_run("n", n, n, 500), 0);
    assert_int_equal(atomic_load(&stats.rotations), 1);
    assert_int_equal(rotated_count(), 1);
    assert_rotated(fault.real_ns, 1, "n", 1, n - 1);
    assert_active("n", n, n);
    sink_close();
}

/* Rotations under a frozen clock are stamped 1 us apart, so the newest
 * sorts last and keep: 1 keeps it. */
static void same_stamp_newest_kept(void **state)
{
    int64_t t = utc_ns(2026, 1, 12, 10, 0, 0);
    char name[128], rel[160], path[512];
    struct stat st;
    int rotations;

    (void)state;
    clock_set(t, NS);
    sink_open("    max_bytes: 4096\n"
              "    keep: 1\n"
              "    compress: none\n");
    assert_int_equal(log_run("a", 1, 30, 600), 0);
    rotations = (int)atomic_load(&stats.rotations);
    assert_true(rotations >= 3);
    assert_int_equal(rotated_count(), 1);
    rotated_name(name, sizeof(name), "app.log", t + (rotations - 1) * 1000, 1,
                 "");
    snprintf(rel, sizeof(rel), "acme/%s", name);
    assert_int_equal(stat(at(path, sizeof(path), rel), &st), 0);
    sink_close();
}

/* Out of descriptors (EMFILE at 8 open), a sink writing 30 tenants
 * round-robin closes its least recently used files and keeps fewer open:
 * every record reaches its file and only the first opens fail. */
static void emfile_closes_idle(void **state)
{
    char tenant[16], rel[64], *text;
    int i;

    (void)state;
    sink_open("    compress: none\n");
    fault.fd_limit = 8;
    for (i = 0; i < 300; i++) {
        snprintf(tenant, sizeof(tenant), "t%02d", i % 30);
        assert_int_equal(log_msg(tenant, "e"), 0);
    }
    assert_int_equal(atomic_load(&stats.fallback), 0);
    assert_true(atomic_load(&stats.write_errors) <= 3);
    for (i = 0; i < 30; i++) {
        snprintf(rel, sizeof(rel), "t%02d/app.log", i);
        text = file_text(rel);
        assert_non_null(text);
        assert_int_equal(count_lines(text), 10);
        free(text);
    }
    fault.fd_limit = 0;
    sink_close();
}

/* max_total_bytes waits for compression: rotated files count with their
 * compressed size, so 4 KiB files that compress well all stay under a
 * 4 KiB limit instead of being deleted while still plain. */
static void total_bytes_waits(void **state)
{
    int n = 0;

    (void)state;
    clock_set(real_now_ns(), NS);
    sink_open("    max_bytes: 4096\n"
              "    max_total_bytes: 4096\n"
              "    compress: zstd\n");
    while (atomic_load(&stats.rotations) < 3) {
        n++;
        assert_true(n < 1000);
        assert_int_equal(log_run("w", n, n, 200), 0);
    }
    assert_int_equal(atomic_load(&stats.pruned), 0);
    fault_advance(PAST_QUIET_NS);
    flush_until_idle();
    assert_int_equal(atomic_load(&stats.compressed), 3);
    assert_int_equal(atomic_load(&stats.pruned), 0);
    assert_int_equal(rotated_count(), 3);
    sink_close();
}

/* A rotated file whose mtime is an hour ahead (the clock stepped back
 * since) is compressed, and does not hold up the files after it. */
static void compress_future_mtime(void **state)
{
    static const char *const left[] = {
        "acme/app.log.20260112T080000.000000Z",
        "acme/app.log.20260112T090000.000000Z",
    };
    int64_t now = utc_ns(2026, 1, 12, 10, 0, 0);

    (void)state;
    file_make(left[0], "{\"msg\":\"l-1\"}\n", now + 3600 * NS);
    file_make(left[1], "{\"msg\":\"l-2\"}\n", now - 3600 * NS);
    clock_set(now, NS);
    sink_open("    compress: zstd\n");
    assert_int_equal(log_msg("acme", "m-1"), 0);
    flush_until_idle();
    tl__sinks_flush(&set);
    flush_until_idle();
    assert_int_equal(atomic_load(&stats.compressed), 2);
    assert_false(exists(left[0]));
    assert_false(exists(left[1]));
    sink_close();
}

/* Plain rotated files left uncompressed for over 10 minutes (by
 * processes that exited first) count toward max_total_bytes with their
 * plain size, so they cannot fill the disk. */
static void total_bytes_old_plain(void **state)
{
    static const char *const old[] = {
        "acme/app.log.20260112T090000.000000Z",
        "acme/app.log.20260112T091000.000000Z",
        "acme/app.log.20260112T092000.000000Z",
    };

    (void)state;
    file_sized(old[0], 3000);
    file_sized(old[1], 3000);
    file_sized(old[2], 3000);
    clock_set(utc_ns(2026, 1, 12, 10, 0, 0), NS);
    sink_open("    max_total_bytes: 4096\n"
              "    compress: zstd\n");
    assert_int_equal(log_msg("acme", "o-1"), 0);
    assert_false(exists(old[0]));
    assert_false(exists(old[1]));
    assert_true(exists(old[2]));
    assert_int_equal(atomic_load(&stats.pruned), 2);
    sink_close();
}

/* Rotated files stamped more than a day in the future (by a clock that
 * was wrong) count as the oldest: keep deletes them before any new
 * rotation, which the clock stamps. */
static void clock_back_keeps_new(void **state)
{
    static const char *const future[] = {
        "acme/app.log.20270101T000000.000000Z",
        "acme/app.log.20270102T000000.000000Z",
    };
    int rotations;

    (void)state;
    file_sized(future[0], 100);
    file_sized(future[1], 100);
    clock_set(utc_ns(2026, 1, 12, 10, 0, 0), NS);
    sink_open("    max_bytes: 4096\n"
              "    keep: 2\n"
              "    compress: none\n");
    assert_int_equal(log_run("k", 1, 40, 600), 0);
    rotations = (int)atomic_load(&stats.rotations);
    assert_true(rotations >= 3);
    assert_false(exists(future[0]));
    assert_false(exists(future[1]));
    assert_int_equal(rotated_count(), 2);
    sink_close();
}

/* A failing rename is tried again only after another max_bytes, even
 * when the path check refreshes the size from the file every 10 ms. */
static void rename_retry_rate(void **state)
{
    int n;

    (void)state;
    sink_open("    max_bytes: 4096\n"
              "    compress: none\n");
    fault_on("rename", EXDEV);
    for (n = 1; n <= 20; n++) {
        fault_advance(20000000);
        assert_int_equal(log_run("n", n, n, 500), 0);
    }
    assert_true(fault.failed >= 2);
    assert_true(fault.failed <= 3);
    fault_off();
    sink_close();
}

/* A time rotation whose rename fails keeps appending and tries again a
 * minute later, from tl__sinks_flush alone when no record comes. */
static void rename_fails_time(void **state)
{
    int64_t midnight = utc_ns(2026, 1, 11, 0, 0, 0);

    (void)state;
    clock_set(midnight - 60 * NS, NS);
    sink_open(DAILY_UTC);
    assert_int_equal(log_msg("acme", "m-1"), 0);
    fault_on("rename", EACCES);
    clock_set(midnight, 60 * NS);
    tl__sinks_flush(&set);
    assert_int_equal(sink_errors("rename", EACCES), 1);
    assert_int_equal(atomic_load(&stats.rotations), 0);
    assert_active("m", 1, 1);

    fault_off();
    clock_set(midnight + 61 * NS, 61 * NS);
    tl__sinks_flush(&set);
    assert_int_equal(atomic_load(&stats.rotations), 1);
    assert_rotated(midnight + 61 * NS, 1, "m", 1, 1);
    sink_close();
}

/* ---- the spool ---- */

#define SPOOL "    fallback: spool\n    compress: none\n"

/* Fails op with ENOSPC: records wait in the spool, retries back off
 * without a system call in between, and once the fault is lifted a
 * flush writes them in order before newer records. Nothing reaches
 * stderr. */
/* A fork() child drops the parent's spool: after both have written,
 * each spooled record is in the file once, written by the parent. */
static void spool_fork_once(void **state)
{
    int status;
    char *text;
    pid_t pid;

    (void)state;
    sink_open(SPOOL);
    fault_on("open", ENOSPC);
    assert_int_equal(log_msg("acme", "f-1"), 0);
    assert_int_equal(log_msg("acme", "f-2"), 0);
    assert_int_equal(atomic_load(&stats.spool_depth), 2);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        tl__sinks_after_fork(&set);
        fault_off();
        fault_advance(PAST_BACKOFF_NS);
        (void)log_msg("acme", "child-1");
        tl__sinks_close(&set);
        _exit(atomic_load(&stats.spool_depth) == 0 ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    fault_off();
    fault_advance(PAST_BACKOFF_NS);
    tl__sinks_flush(&set);
    assert_int_equal(log_msg("acme", "f-3"), 0);
    text = file_text("acme/app.log");
    assert_non_null(text);
    assert_run(text, "f", 1, 3);
    assert_int_equal(count_lines(text), 4); /* and the child's record */
    free(text);
    sink_close();
}

static void check_spool(const char *op)
{
    unsigned long calls;
    char *errors, *text;
    uint64_t failures;

    sink_open(SPOOL);
    stderr_capture();
    assert_int_equal(log_msg("acme", "p-1"), 0);
    tl__sinks_reopen(&set); /* the next record opens the file again */
    fault_on(op, ENOSPC);
    assert_int_equal(log_msg("acme", "p-2"), 0);
    failures = fault.failed;

    /* Within the backoff: no system call at all. */
    calls = fault.calls;
    assert_int_equal(log_msg("acme", "p-3"), 0);
    tl__sinks_flush(&set);
    assert_int_equal(log_msg("acme", "p-4"), 0);
    assert_int_equal(fault.calls, calls);
    assert_int_equal(fault.failed, failures);

    /* After the first backoff (10 ms) the sink tries and fails again. */
    fault_advance(20 * MS);
    assert_int_equal(log_msg("acme", "p-5"), 0);
    assert_true(fault.failed > failures);
    assert_int_equal(atomic_load(&stats.spool_depth), 4);
    assert_spool_balanced();

    fault_off();
    fault_advance(PAST_BACKOFF_NS);
    tl__sinks_flush(&set);
    assert_int_equal(atomic_load(&stats.spool_depth), 0);
    assert_int_equal(log_msg("acme", "p-6"), 0);
    errors = stderr_release();

    assert_int_equal(count_lines(errors), 0);
    free(errors);
    text = file_text("acme/app.log");
    assert_run(text, "p", 1, 6);
    assert_int_equal(count_lines(text), 6);
    free(text);
    assert_int_equal(atomic_load(&stats.spooled), 4);
    assert_int_equal(atomic_load(&stats.spool_written), 4);
    assert_int_equal(atomic_load(&stats.spool_fallback), 0);
    assert_int_equal(atomic_load(&stats.fallback), 0);
    assert_spool_balanced();
    assert_int_equal(sink_errors(op, ENOSPC), fault.failed);
    assert_true(diags > 0);
    sink_close();
}

static void spool_write_fails(void **state)
{
    (void)state;
    check_spool("write");
}

static void spool_open_fails(void **state)
{
    (void)state;
    check_spool("open");
}

/* A 64 KiB spool takes four 16 KB records; the next ones go to stderr
 * and count as fallback. */
static void spool_full(void **state)
{
    char *errors, *text;

    (void)state;
    sink_open("    fallback: spool\n"
              "    spool_bytes: 65536\n"
              "    compress: none\n");
    stderr_capture();
    assert_int_equal(log_run("big", 1, 1, 16000), 0);
    fault_on("write", ENOSPC);
    assert_int_equal(log_run("big", 2, 5, 16000), 0);
    assert_int_equal(log_run("big", 6, 7, 16000), -ENOSPC);
    assert_int_equal(atomic_load(&stats.spool_depth), 4);

    fault_off();
    fault_advance(PAST_BACKOFF_NS);
    tl__sinks_flush(&set);
    errors = stderr_release();

    assert_int_equal(count_lines(errors), 2);
    assert_int_equal(count_msg(errors, "big-6"), 1);
    assert_int_equal(count_msg(errors, "big-7"), 1);
    free(errors);
    text = file_text("acme/app.log");
    assert_run(text, "big", 1, 5);
    assert_int_equal(count_lines(text), 5);
    free(text);
    assert_int_equal(atomic_load(&stats.fallback), 2);
    assert_int_equal(atomic_load(&stats.write_failed), 2);
    assert_int_equal(atomic_load(&stats.spooled), 4);
    assert_int_equal(atomic_load(&stats.spool_written), 4);
    assert_int_equal(atomic_load(&stats.spool_depth), 0);
    assert_spool_balanced();
    sink_close();
}

/* Closing while the file still fails sends the spool to stderr. */
static void spool_close_fails(void **state)
{
    char *errors, *text;

    (void)state;
    sink_open(SPOOL);
    stderr_capture();
    assert_int_equal(log_run("z", 1, 1, 0), 0);
    fault_on("write", ENOSPC);
    assert_int_equal(log_run("z", 2, 4, 0), 0);
    assert_int_equal(atomic_load(&stats.spool_depth), 3);
    tl__sinks_close(&set);
    set_open = false;
    errors = stderr_release();

    assert_run(errors, "z", 2, 4);
    assert_int_equal(count_lines(errors), 3);
    free(errors);
    text = file_text("acme/app.log");
    assert_run(text, "z", 1, 1);
    assert_int_equal(count_lines(text), 1);
    free(text);
    assert_int_equal(atomic_load(&stats.spooled), 3);
    assert_int_equal(atomic_load(&stats.spool_fallback), 3);
    assert_int_equal(atomic_load(&stats.spool_written), 0);
    assert_int_equal(atomic_load(&stats.spool_depth), 0);
    assert_int_equal(atomic_load(&stats.fallback), 3);
    assert_spool_balanced();
    tl__config_free(cfg);
    cfg = NULL;
    assert_int_equal(fault.bad_fds, 0);
    assert_int_equal(atomic_load(&stats.open_fds), 0);
}

/* ---- the stderr fallback ---- */

/* By default a failing file sends records to stderr, with no system call
 * during the backoff. Once the fault is gone, the sink writes to the
 * file again without a reopen request. */
static void fallback_stderr(void **state)
{
    unsigned long calls;
    char *errors, *text;

    (void)state;
    sink_open("    compress: none\n");
    stderr_capture();
    assert_int_equal(log_msg("acme", "s-1"), 0);
    fault_on("write", ENOSPC);
    assert_int_equal(log_msg("acme", "s-2"), -ENOSPC);
    calls = fault.calls;
    assert_int_equal(log_msg("acme", "s-3"), -ENOSPC);
    assert_int_equal(fault.calls, calls);

    fault_off();
    fault_advance(PAST_BACKOFF_NS);
    assert_int_equal(log_msg("acme", "s-4"), 0);
    errors = stderr_release();

    assert_run(errors, "s", 2, 3);
    assert_int_equal(count_lines(errors), 2);
    free(errors);
    text = file_text("acme/app.log");
    assert_int_equal(count_msg(text, "s-1"), 1);
    assert_int_equal(count_msg(text, "s-2"), 0);
    assert_int_equal(count_msg(text, "s-3"), 0);
    assert_int_equal(count_msg(text, "s-4"), 1);
    assert_int_equal(count_lines(text), 2);
    free(text);
    assert_int_equal(atomic_load(&stats.fallback), 2);
    assert_int_equal(atomic_load(&stats.write_failed), 2);
    assert_int_equal(atomic_load(&stats.spooled), 0);
    assert_int_equal(sink_errors("write", ENOSPC), 1);
    sink_close();
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(time_daily_utc),
        TEST(time_hourly),
        TEST(time_local_spring),
        TEST(time_local_gap),
        TEST(time_local_fall),
        TEST(time_local_repeat),
        TEST(time_clock_back),
        TEST(time_idle_flush),
        TEST(time_empty_file),
        TEST(time_first_open),
        TEST(time_same_period),
        TEST(retention_keep),
        TEST(retention_age),
        TEST(retention_bytes),
        TEST(retention_decoys),
        TEST(retention_shared_folder),
        TEST(compress_zstd),
        TEST(compress_gzip),
        TEST(compress_none),
        TEST(compress_queue),
        TEST(compress_leftovers),
        TEST(compress_retried),
        TEST(rename_fails),
        TEST(same_stamp_newest_kept),
        TEST(emfile_closes_idle),
        TEST(spool_fork_once),
        TEST(total_bytes_waits),
        TEST(total_bytes_old_plain),
        TEST(compress_future_mtime),
        TEST(clock_back_keeps_new),
        TEST(rename_retry_rate),
        TEST(rename_fails_time),
        TEST(spool_write_fails),
        TEST(spool_open_fails),
        TEST(spool_full),
        TEST(spool_close_fails),
        TEST(fallback_stderr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
