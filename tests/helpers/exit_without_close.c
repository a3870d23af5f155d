/* Opens the logger from the configuration in argv[1], logs argv[3]
 * records for tenant argv[2] and returns from main without closing, so
 * the library's exit handler must drain them. A handler registered
 * before the logger opened runs after that drain, and a destructor runs
 * after every exit handler: each logs once more and prints the
 * counters. */
#include <stdio.h>
#include <stdlib.h>

#include "tenantlog/tenantlog.h"

static struct tl_logger *lg;

static void log_after_drain(void)
{
    struct tl_stats s;
    int result = tl_log(lg, TL_INFO, "late", "after the drain", NULL, 0);

    tl_stats(&s);
    printf("late=%d written=%llu dropped_closed=%llu queue_depth=%llu "
           "fallback=%llu\n",
           result, (unsigned long long)s.written,
           (unsigned long long)s.dropped_closed,
           (unsigned long long)s.queue_depth, (unsigned long long)s.fallback);
}

/* Runs after the exit handlers, when the library's state is closed and
 * its buffers freed. stdout is flushed after the destructors. */
__attribute__((destructor)) static void log_in_destructor(void)
{
    struct tl_stats s;
    int result;

    if (lg == NULL) {
        return;
    }
    result = tl_log(lg, TL_INFO, "late", "in a destructor", NULL, 0);
    tl_stats(&s);
    printf("destructor=%d written=%llu dropped_closed=%llu fallback=%llu\n",
           result, (unsigned long long)s.written,
           (unsigned long long)s.dropped_closed,
           (unsigned long long)s.fallback);
}

int main(int argc, char **argv)
{
    unsigned long i, count;

    if (argc != 4) {
        fprintf(stderr, "usage: exit_without_close CONFIG TENANT COUNT\n");
        return 2;
    }
    count = strtoul(argv[3], NULL, 10);
    atexit(log_after_drain);
    if (tl_logger_open(argv[1], &lg) != 0 ||
        tl_context_push(&(struct tl_context){.tenant = argv[2]}) != 0) {
        return 1;
    }
    for (i = 1; i <= count; i++) {
        struct tl_field f = TL_U64("n", i);

        if (tl_log(lg, TL_INFO, "exit", "pending at exit", &f, 1) != 0) {
            return 1;
        }
    }
    return 0;
}
