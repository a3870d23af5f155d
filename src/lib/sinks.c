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

int tl__stderr_write(const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, data, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        data += n;
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

        (void)tl__stderr_write(
            line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
    }
    pthread_mutex_unlock(&diag_mu);
}

const char *tl__sink_op_name(enum tl__sink_op op)
{
    static const char *const names[] = {
        [TL__OP_OPEN] = "open",         [TL__OP_WRITE] = "write",
        [TL__OP_FSYNC] = "fsync",       [TL__OP_RENAME] = "rename",
        [TL__OP_MKDIR] = "mkdir",       [TL__OP_UNLINK] = "unlink",
        [TL__OP_LOCK] = "lock",         [TL__OP_LIST] = "list",
        [TL__OP_COMPRESS] = "compress", [TL__OP_STAT] = "stat",
        [TL__OP_READ] = "read",         [TL__OP_CLOSE] = "close",
    };

    if ((size_t)op < sizeof(names) / sizeof(names[0]) && names[op]) {
        return names[op];
    }
    return "?";
}

/* Adds one to the slot of key in keys/counts, claiming a free one.
 * Returns false when every slot contains another key. */
static bool count_key(_Atomic uint64_t *keys, _Atomic uint64_t *counts,
                      size_t n, uint64_t key)
{
    uint64_t expected;
    size_t i;

    for (i = 0; i < n; i++) {
        expected = 0;
        if (atomic_load(&keys[i]) == key ||
            atomic_compare_exchange_strong(&keys[i], &expected, key) ||
            expected == key) {
            atomic_fetch_add(&counts[i], 1);
            return true;
        }
    }
    return false;
}

/* Returns the index of name in stats->names, appending it when new, or
 * -1 when the table is full. Only the owner of the set calls this. */
static int name_index(struct tl__sink_stats *stats, const char *name)
{
    int i, n = atomic_load_explicit(&stats->n_names, memory_order_acquire);

    for (i = 0; i < n; i++) {
        if (strcmp(stats->names[i], name) == 0) {
            return i;
        }
    }
    if (n == TL__SINK_NAMES_MAX) {
        return -1;
    }
    snprintf(stats->names[n], sizeof(stats->names[n]), "%s", name);
    atomic_store_explicit(&stats->n_names, n + 1, memory_order_release);
    return n;
}

size_t tl__sink_stats_errors(struct tl__sink_stats *stats,
                             struct tl_sink_error *out, size_t max)
{
    int names = atomic_load_explicit(&stats->n_names, memory_order_acquire);
    size_t i, n = 0;

    for (i = 0; i < TL__SINK_ERR_SLOTS; i++) {
        uint64_t key = atomic_load(&stats->err_keys[i]);
        int name = (int)(key >> 40) - 1;

        if (key == 0 || name < 0 || name >= names) {
            continue;
        }
        if (n < max) {
            snprintf(out[n].sink, sizeof(out[n].sink), "%s",
                     stats->names[name]);
            out[n].op = tl__sink_op_name((enum tl__sink_op)(key >> 32 & 0xff));
            out[n].err = (int)(key & 0xffffffff);
            out[n].count = atomic_load(&stats->err_counts[i]);
        }
        n++;
    }
    if (atomic_load(&stats->err_other) > 0) {
        if (n < max) {
            snprintf(out[n].sink, sizeof(out[n].sink), "(other)");
            out[n].op = "other";
            out[n].err = 0;
            out[n].count = atomic_load(&stats->err_other);
        }
        n++;
    }
    return n;
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
        s->set = set;
        s->name_index = name_index(stats, c->name);
        tl__buf_init(&s->line);
        set->items[set->n++] = s;
    }
    if (result != 0) {
        tl__sinks_close(set);
    }
    return result;
}

/* Returns true when a diagnostic may go out now: at most
 * DIAG_PER_WINDOW a second, with a count of the suppressed ones when the
 * next window opens. */
static bool diag_allowed(struct tl__sinks *set)
{
    int64_t now = tl__now_ns();

    if (now - set->diag_window_ns >= DIAG_WINDOW_NS) {
        if (set->diag_suppressed > 0) {
            tl__diag("%llu more sink failures suppressed",
                     (unsigned long long)set->diag_suppressed);
        }
        set->diag_window_ns = now;
        set->diag_in_window = 0;
        set->diag_suppressed = 0;
    }
    if (set->diag_in_window++ >= DIAG_PER_WINDOW) {
        set->diag_suppressed++;
        return false;
    }
    return true;
}

void tl__sink_fail(struct tl__sink *s, enum tl__sink_op op, int err,
                   const char *path, const char *then)
{
    struct tl__sink_stats *st = s->stats;
    uint64_t key;

    if (err < 0) {
        err = -err;
    }
    atomic_fetch_add(&st->write_errors, 1);
    (void)count_key(st->errno_keys, st->errno_counts, TL__ERRNO_SLOTS,
                    (uint64_t)err);
    key = (uint64_t)(s->name_index + 1) << 40 | (uint64_t)op << 32 |
          (uint32_t)err;
    if (s->name_index < 0 ||
        !count_key(st->err_keys, st->err_counts, TL__SINK_ERR_SLOTS, key)) {
        atomic_fetch_add(&st->err_other, 1);
    }
    if (s->set == NULL || !diag_allowed(s->set)) {
        return;
    }
    tl__diag("sink %s: %s%s%s failed: %s%s%s", s->conf->name,
             tl__sink_op_name(op), path ? " " : "", path ? path : "",
             tl_strerror(-err), then ? "; " : "", then ? then : "");
}

/* Writes r to stderr as a JSON line: the path of last resort. */
static void fallback(struct tl__sinks *set, struct tl__sink *s,
                     const struct tl__record *r)
{
    tl__buf_reset(&s->line);
    tl__format_json(&s->line, r);
    if (tl__stderr_write(s->line.data, s->line.len) == 0) {
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
        if (result < 0) {
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

/* Reports the count of suppressed failures, if any, now. */
static void diag_flush(struct tl__sinks *set)
{
    if (set->diag_suppressed > 0) {
        tl__diag("%llu more sink failures suppressed",
                 (unsigned long long)set->diag_suppressed);
        set->diag_suppressed = 0;
        set->diag_window_ns = tl__now_ns();
        set->diag_in_window = 0;
    }
}

void tl__sinks_flush(struct tl__sinks *set)
{
    size_t i;

    /* Reports the count of suppressed failures once their window is
     * over, even when no failure follows. */
    if (tl__now_ns() - set->diag_window_ns >= DIAG_WINDOW_NS) {
        diag_flush(set);
    }

    for (i = 0; i < set->n; i++) {
        struct tl__sink *s = set->items[i];

        if (s->ops->flush != NULL) {
            s->ops->flush(s);
        }
    }
}

bool tl__sinks_pending(const struct tl__sinks *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        const struct tl__sink *s = set->items[i];

        if (s->ops->pending != NULL && s->ops->pending(s)) {
            return true;
        }
    }
    return false;
}

void tl__sinks_reopen(struct tl__sinks *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        set->items[i]->ops->reopen(set->items[i]);
    }
}

void tl__sinks_finish(struct tl__sinks *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        struct tl__sink *s = set->items[i];

        if (s->ops->finish != NULL) {
            s->ops->finish(s);
        }
    }
    diag_flush(set);
}

void tl__sinks_after_fork(struct tl__sinks *set)
{
    size_t i;

    for (i = 0; i < set->n; i++) {
        struct tl__sink *s = set->items[i];

        if (s->ops->after_fork != NULL) {
            s->ops->after_fork(s);
        }
    }
}

void tl__sinks_close(struct tl__sinks *set)
{
    size_t i;

    tl__sinks_finish(set);
    for (i = 0; i < set->n; i++) {
        struct tl__sink *s = set->items[i];

        tl__buf_free(&s->line);
        s->ops->free(s);
    }
    free(set->items);
    set->items = NULL;
    set->n = 0;
}
