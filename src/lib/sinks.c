/* The sink set: routing by level, failure counting, the stderr fallback,
 * and the library's rate-limited diagnostics. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/text.h"
#include "format.h"
#include "sink.h"

#define DIAG_WINDOW_NS 1000000000LL
#define DIAG_PER_WINDOW 10

static pthread_mutex_t diag_mu = PTHREAD_MUTEX_INITIALIZER;
static tl_diag_fn diag_fn;
static void *diag_user;

void tl_diag_set(tl_diag_fn fn, void *user)
{
    pthread_mutex_lock(&diag_mu);
    diag_fn = fn;
    diag_user = user;
    pthread_mutex_unlock(&diag_mu);
}

/* Writes all of buf to fd, retrying partial writes and EINTR. Returns 0
 * or a negated errno. Async-signal-safe. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

void tl__diag_fork_prepare(void)
{
    pthread_mutex_lock(&diag_mu);
}

void tl__diag_fork_parent(void)
{
    pthread_mutex_unlock(&diag_mu);
}

void tl__diag_fork_child(void)
{
    pthread_mutex_init(&diag_mu, NULL);
}

void tl__diag(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    pthread_mutex_lock(&diag_mu);
    if (diag_fn != NULL) {
        diag_fn(diag_user, msg);
    } else {
        char line[1100];
        int len = snprintf(line, sizeof(line), "tenantlog: %s\n", msg);

        (void)write_all(STDERR_FILENO, line,
                        (size_t)len < sizeof(line) ? (size_t)len
                                                   : sizeof(line) - 1);
    }
    pthread_mutex_unlock(&diag_mu);
}

void tl__sink_stats_errno(struct tl__sink_stats *stats, int err)
{
    int i, expected;

    atomic_fetch_add(&stats->write_errors, 1);
    for (i = 0; i < TL__ERRNO_SLOTS; i++) {
        expected = 0;
        if (atomic_load(&stats->errno_keys[i]) == err ||
            atomic_compare_exchange_strong(&stats->errno_keys[i], &expected,
                                           err) ||
            expected == err) {
            atomic_fetch_add(&stats->errno_counts[i], 1);
            return;
        }
    }
}

int tl__sinks_open(struct tl__sinks *set, const struct tl__config *cfg,
                   struct tl__sink_stats *stats)
{
    size_t i;
    int result = 0;

    memset(set, 0, sizeof(*set));
    set->stats = stats;
    set->items = calloc(cfg->n_sinks ? cfg->n_sinks : 1, sizeof(*set->items));
    if (set->items == NULL) {
        return -ENOMEM;
    }
    for (i = 0; i < cfg->n_sinks && result == 0; i++) {
        const struct tl__sink_conf *c = &cfg->sinks[i];
        struct tl__sink *s = NULL;

        result = c->type == TL__SINK_FILE ? tl__sink_file_new(c, &s)
                                          : tl__sink_console_new(c, &s);
        if (result != 0) {
            tl__diag("sink %s: cannot open: %s", c->name, tl_strerror(result));
            break;
        }
        s->stats = stats;
        tl__buf_init(&s->line);
        set->items[set->n++] = s;
    }
    if (result != 0) {
        tl__sinks_close(set);
    }
    return result;
}

/* Reports a failed write, at most DIAG_PER_WINDOW times a second, with a
 * count of the suppressed ones when the next window opens. */
static void report_failure(struct tl__sinks *set, const struct tl__sink *s,
                           int err, bool is_write)
{
    int64_t now = tl__now_ns();

    if (now - set->diag_window_ns >= DIAG_WINDOW_NS) {
        if (set->diag_suppressed > 0) {
            tl__diag("%llu more sink write failures suppressed",
                     (unsigned long long)set->diag_suppressed);
        }
        set->diag_window_ns = now;
        set->diag_in_window = 0;
        set->diag_suppressed = 0;
    }
    if (set->diag_in_window++ >= DIAG_PER_WINDOW) {
        set->diag_suppressed++;
    } else if (s->failed_path != NULL) {
        tl__diag("sink %s: %s %s failed: %s%s", s->conf->name,
                 is_write ? "write to" : "fsync of", s->failed_path,
                 tl_strerror(err), is_write ? "; record sent to stderr" : "");
    } else {
        tl__diag("sink %s: %s failed: %s%s", s->conf->name,
                 is_write ? "write" : "fsync", tl_strerror(err),
                 is_write ? "; record sent to stderr" : "");
    }
}

/* Writes r to stderr as a JSON line: the path of last resort. */
static void fallback(struct tl__sinks *set, struct tl__sink *s,
                     const struct tl__record *r)
{
    tl__buf_reset(&s->line);
    tl__format_json(&s->line, r);
    if (write_all(STDERR_FILENO, s->line.data, s->line.len) == 0) {
        atomic_fetch_add(&set->stats->fallback, 1);
    }
}

int tl__sinks_write(struct tl__sinks *set, const struct tl__record *r)
{
    int first = 0, result;
    size_t i;

    if (r->tenant_invalid != NULL) {
        atomic_fetch_add(&set->stats->tenant_invalid, 1);
    }
    for (i = 0; i < set->n; i++) {
        struct tl__sink *s = set->items[i];

        if (r->level > s->conf->level) {
            continue;
        }
        result = s->ops->write(s, r);
        if (result != 0) {
            tl__sink_stats_errno(set->stats, -result);
            report_failure(set, s, result, true);
            fallback(set, s, r);
            if (first == 0) {
                first = result;
            }
        }
    }
    atomic_fetch_add(
        first == 0 ? &set->stats->written : &set->stats->write_failed, 1);
    return first;
}

void tl__sinks_flush(struct tl__sinks *set)
{
    size_t i;
    int result;

    for (i = 0; i < set->n; i++) {
        struct tl__sink *s = set->items[i];

        if (s->ops->flush == NULL) {
            continue;
        }
        result = s->ops->flush(s);
        if (result != 0) {
            tl__sink_stats_errno(set->stats, -result);
            report_failure(set, s, result, false);
        }
    }
}

void tl__sinks_reopen(struct tl__sinks *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        set->items[i]->ops->reopen(set->items[i]);
    }
}

void tl__sinks_close(struct tl__sinks *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        struct tl__sink *s = set->items[i];

        tl__buf_free(&s->line);
        s->ops->free(s);
    }
    free(set->items);
    set->items = NULL;
    set->n = 0;
}
