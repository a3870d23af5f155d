/* Opens the logger, installs the fatal-signal handler, logs numbered
 * records and then crashes in one of several ways, so a test can check
 * what the handler wrote and what reached the log file. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tenantlog/tenantlog.h"

static const char usage[] =
    "usage: crash_after_logging CONFIG TENANT COUNT DRAIN_MS MODE\n"
    "MODE is one of:\n"
    "  null      a second thread logs COUNT records, then writes through\n"
    "            a NULL pointer\n"
    "  abort     a second thread logs COUNT records, then calls abort()\n"
    "  overflow  the main thread logs COUNT records, then overflows its\n"
    "            stack by unbounded recursion\n"
    "  blocked   the main thread holds a lock that the diagnostic\n"
    "            callback waits for, logs COUNT records to a sink that\n"
    "            fails (so the writer thread blocks in the callback), then\n"
    "            writes through a NULL pointer\n";

static struct tl_logger *lg;
static const char *tenant;
static unsigned long count;

/* A NULL pointer the compiler cannot see through, so the write below is
 * a real memory access rather than a trap it inserted. */
static int *volatile null_target;

/* Writes through NULL. UBSan's null check is off here, because in a
 * sanitizer build it would end the process before the fault. */
__attribute__((no_sanitize("null"))) static void write_null(void)
{
    *null_target = 1;
}

static pthread_mutex_t app_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool diag_blocks;
static atomic_bool writer_in_diag;

static int log_records(void)
{
    unsigned long i;

    if (tl_context_push(&(struct tl_context){.tenant = tenant}) != 0) {
        return -1;
    }
    for (i = 1; i <= count; i++) {
        struct tl_field f = TL_U64("n", i);

        if (tl_log(lg, TL_INFO, "crash", "logged before the crash", &f, 1) !=
            0) {
            return -1;
        }
    }
    return 0;
}

/* Logs, then crashes in the way arg names: "null" or "abort". */
static void *log_then_crash(void *arg)
{
    if (log_records() != 0) {
        fprintf(stderr, "crash_after_logging: tl_log failed\n");
        exit(1);
    }
    if (strcmp(arg, "abort") == 0) {
        abort();
    }
    write_null();
    return NULL;
}

static int crash_on_thread(const char *mode)
{
    pthread_t t;

    if (pthread_create(&t, NULL, log_then_crash, (void *)mode) != 0) {
        return 1;
    }
    pthread_join(t, NULL);
    fprintf(stderr, "crash_after_logging: the thread did not crash\n");
    return 1;
}

/* A depth that recursion never reaches. It is volatile, so the compiler
 * must assume that recurse() can return. */
static volatile unsigned long depth_limit = (unsigned long)-1;

/* Recurses until the stack runs out. The array and the use of the result
 * keep the compiler from turning the recursion into a loop. */
static unsigned long recurse(unsigned long depth)
{
    volatile char frame[512];

    if (depth == depth_limit) {
        return 0;
    }
    frame[depth % sizeof(frame)] = (char)depth;
    return recurse(depth + 1) + frame[0];
}

static int overflow_stack(void)
{
    if (log_records() != 0) {
        return 1;
    }
    fprintf(stderr, "crash_after_logging: recursion ended at %lu\n",
            recurse(0));
    return 1;
}

/* Runs on the writer thread for each failed write while diag_blocks is
 * set, and waits there for the lock that main holds until it crashes. */
static void on_diag(void *user, const char *message)
{
    (void)user;
    (void)message;
    if (!atomic_load(&diag_blocks)) {
        return;
    }
    atomic_store(&writer_in_diag, true);
    pthread_mutex_lock(&app_lock);
    pthread_mutex_unlock(&app_lock);
}

static int crash_with_writer_blocked(void)
{
    struct timespec pause = {0, 1000000};
    int waited_ms;

    tl_diag_set(on_diag, NULL);
    pthread_mutex_lock(&app_lock);
    atomic_store(&diag_blocks, true);
    if (log_records() != 0) {
        return 1;
    }
    for (waited_ms = 0; !atomic_load(&writer_in_diag); waited_ms++) {
        if (waited_ms == 5000) {
            fprintf(stderr, "crash_after_logging: the writer thread did "
                            "not call the diagnostic callback in 5 s\n");
            return 1;
        }
        nanosleep(&pause, NULL);
    }
    write_null();
    return 1;
}

int main(int argc, char **argv)
{
    const char *mode;
    int result;

    if (argc != 6) {
        fputs(usage, stderr);
        return 2;
    }
    tenant = argv[2];
    count = strtoul(argv[3], NULL, 10);
    mode = argv[5];
    result = tl_logger_open(argv[1], &lg);
    if (result != 0) {
        fprintf(stderr, "crash_after_logging: open failed: %s\n",
                tl_strerror(result));
        return 1;
    }
    result = tl_fatal_signals_install(atoi(argv[4]));
    if (result != 0) {
        fprintf(stderr, "crash_after_logging: install failed: %s\n",
                tl_strerror(result));
        return 1;
    }
    if (strcmp(mode, "null") == 0 || strcmp(mode, "abort") == 0) {
        return crash_on_thread(mode);
    }
    if (strcmp(mode, "overflow") == 0) {
        return overflow_stack();
    }
    if (strcmp(mode, "blocked") == 0) {
        return crash_with_writer_blocked();
    }
    fputs(usage, stderr);
    return 2;
}
