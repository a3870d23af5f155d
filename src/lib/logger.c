/* The process's logger: lifecycle (closed -> running -> draining ->
 * closed), producers, the writer thread that alone owns the sinks'
 * descriptors and the audit store, and the counters. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/text.h"
#include "audit_store.h"
#include "config.h"
#include "context.h"
#include "format.h"
#include "logger.h"
#include "queue.h"
#include "sink.h"

#define BATCH_MAX 256
#define WAKE_MS 100
#define DIAG_ERR_MAX 512

enum state { STATE_CLOSED = 0, STATE_RUNNING, STATE_DRAINING };

/* An audit event waiting for its commit; lives on the caller's stack. */
struct audit_req {
    struct tl__audit_rec *rec;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int result;
};

struct tl_logger {
    pthread_mutex_t life_mu; /* serializes open and close */
    _Atomic int state;
    _Atomic int producers; /* threads between the state check and push */
    int refs;
    struct tl__config *cfg;
    struct tl__queue queue;
    struct tl__sinks sinks;
    struct tl__audit_store *audit; /* opened by the writer on first use */
    pthread_t writer;
    _Atomic bool reopen;
    _Atomic int64_t deadline_ns; /* close deadline, 0 while running */
    /* Held by the writer while it works on a batch, so that fork() copies
     * the sinks between batches, never half-updated. */
    pthread_mutex_t batch_mu;
    /* Set in a child created by fork(): the writer thread is not running
     * there, and the first record starts one. */
    _Atomic bool writer_missing;
};

/* The one logger of the process. It is never freed, so a pointer to it
 * stays safe to use after close (invariant: defined lifecycle). */
static struct tl_logger the_logger = {
    .life_mu = PTHREAD_MUTEX_INITIALIZER,
    .batch_mu = PTHREAD_MUTEX_INITIALIZER,
};

static struct counters {
    _Atomic uint64_t submitted;
    _Atomic uint64_t enqueued;
    _Atomic uint64_t dequeued;
    _Atomic uint64_t dropped_full;
    _Atomic uint64_t dropped_closed;
    _Atomic uint64_t dropped_deadline;
    _Atomic uint64_t dropped_invalid;
    _Atomic uint64_t queue_high_water;
    _Atomic uint64_t audit_committed;
    _Atomic uint64_t audit_failed;
    struct tl__sink_stats sinks;
} counters;

static struct tl_logger *logger_of(struct tl_logger *lg)
{
    return lg ? lg : &the_logger;
}

/* Writes r to stderr with one write(2): the path for records logged while
 * the logger is not running. */
static void fallback_write(const struct tl__record *r)
{
    struct tl__buf b;

    tl__buf_init(&b);
    tl__format_json(&b, r);
    if (!b.oom && write(STDERR_FILENO, b.data, b.len) == (ssize_t)b.len) {
        atomic_fetch_add(&counters.sinks.fallback, 1);
    }
    tl__buf_free(&b);
}

static int build_record(enum tl_level level, const char *logger_name,
                        const char *msg, const struct tl_field *fields,
                        size_t n_fields, struct tl__record **out)
{
    struct tl__record_src src = {0};
    struct tl_context ctx;

    tl__context_current(&ctx);
    src.level = level;
    src.logger = logger_name;
    src.msg = msg;
    src.msg_len = (size_t)-1;
    src.tenant = ctx.tenant;
    src.request_id = ctx.request_id;
    src.trace_id = ctx.trace_id;
    src.span_id = ctx.span_id;
    src.fields = fields;
    src.n_fields = n_fields;
    return tl__record_new(&src, out);
}

static int start_writer(struct tl_logger *lg);
static pid_t writer_pid; /* the process whose writer thread runs */

/* Starts the writer thread in a child created by fork(), on its first
 * record, audit event or reopen. */
static void restart_writer(struct tl_logger *lg)
{
    pthread_mutex_lock(&lg->life_mu);
    if (atomic_load(&lg->writer_missing) &&
        atomic_load(&lg->state) == STATE_RUNNING && start_writer(lg) == 0) {
        writer_pid = getpid();
        atomic_store(&lg->writer_missing, false);
    }
    pthread_mutex_unlock(&lg->life_mu);
}

static void producer_enter(struct tl_logger *lg)
{
    if (atomic_load(&lg->writer_missing)) {
        restart_writer(lg);
    }
    atomic_fetch_add(&lg->producers, 1);
}

static void producer_leave(struct tl_logger *lg)
{
    atomic_fetch_sub(&lg->producers, 1);
}

/* Queues r, or counts it and sends it to the fallback path. Takes r. */
static int enqueue(struct tl_logger *lg, struct tl__record *r)
{
    int result;

    producer_enter(lg);
    result = TL_ECLOSED;
    if (atomic_load(&lg->state) == STATE_RUNNING) {
        /* Counted before the push, so that the writer never counts the
         * record written before it counts as enqueued. */
        atomic_fetch_add(&counters.enqueued, 1);
        result =
            tl__queue_push(&lg->queue, (struct tl__item){TL__ITEM_RECORD, r},
                           lg->cfg->queue_block);
        if (result != 0) {
            atomic_fetch_sub(&counters.enqueued, 1);
        }
    }
    producer_leave(lg);
    if (result == 0) {
        return 0;
    }
    if (result == TL_EFULL) {
        atomic_fetch_add(&counters.dropped_full, 1);
    } else {
        atomic_fetch_add(&counters.dropped_closed, 1);
        fallback_write(r);
    }
    free(r);
    return result;
}

static bool args_valid(enum tl_level level, const struct tl_field *fields,
                       size_t n_fields)
{
    return (unsigned)level <= TL_DEBUG && (fields != NULL || n_fields == 0);
}

int tl_log(struct tl_logger *lg, enum tl_level level, const char *logger_name,
           const char *msg, const struct tl_field *fields, size_t n_fields)
{
    struct tl__record *r = NULL;
    int result = TL_EINVAL;

    atomic_fetch_add(&counters.submitted, 1);
    if (args_valid(level, fields, n_fields)) {
        result = build_record(level, logger_name, msg, fields, n_fields, &r);
    }
    if (result != 0) {
        atomic_fetch_add(&counters.dropped_invalid, 1);
        return result;
    }
    return enqueue(logger_of(lg), r);
}

int tl__log_src(struct tl_logger *lg, const struct tl__record_src *src)
{
    struct tl__record *r = NULL;
    int result = TL_EINVAL;

    atomic_fetch_add(&counters.submitted, 1);
    if (args_valid(src->level, src->fields, src->n_fields)) {
        result = tl__record_new(src, &r);
    }
    if (result != 0) {
        atomic_fetch_add(&counters.dropped_invalid, 1);
        return result;
    }
    return enqueue(logger_of(lg), r);
}

int tl_reopen(struct tl_logger *lg)
{
    lg = logger_of(lg);
    producer_enter(lg);
    if (atomic_load(&lg->state) != STATE_RUNNING) {
        producer_leave(lg);
        return TL_ECLOSED;
    }
    atomic_store(&lg->reopen, true);
    tl__queue_wake(&lg->queue);
    producer_leave(lg);
    return 0;
}

static void audit_finish(struct audit_req *req, int result)
{
    pthread_mutex_lock(&req->mu);
    req->result = result;
    req->done = true;
    pthread_cond_signal(&req->cv);
    pthread_mutex_unlock(&req->mu);
}

static int audit_wait(struct audit_req *req)
{
    pthread_mutex_lock(&req->mu);
    while (!req->done) {
        pthread_cond_wait(&req->cv, &req->mu);
    }
    pthread_mutex_unlock(&req->mu);
    return req->result;
}

static int audit_submit(struct tl_logger *lg, struct audit_req *req)
{
    int result = TL_ECLOSED;

    producer_enter(lg);
    if (atomic_load(&lg->state) == STATE_RUNNING) {
        /* Audit events are never dropped: always wait for room. */
        result = tl__queue_push(&lg->queue,
                                (struct tl__item){TL__ITEM_AUDIT, req}, true);
    }
    producer_leave(lg);
    return result == 0 ? audit_wait(req) : result;
}

int tl__audit_rec_submit(struct tl_logger *lg, struct tl__audit_rec *rec)
{
    struct audit_req req = {.rec = rec, .done = false};
    int result;

    pthread_mutex_init(&req.mu, NULL);
    pthread_cond_init(&req.cv, NULL);
    result = audit_submit(logger_of(lg), &req);
    atomic_fetch_add(
        result == 0 ? &counters.audit_committed : &counters.audit_failed, 1);
    pthread_cond_destroy(&req.cv);
    pthread_mutex_destroy(&req.mu);
    return result;
}

int tl_audit(struct tl_logger *lg, const struct tl_audit_event *ev,
             uint64_t *seq_out)
{
    struct tl__audit_rec *rec;
    struct tl_context ctx;
    int result;

    if (ev == NULL) {
        return TL_EINVAL;
    }
    tl__context_current(&ctx);
    result = tl__audit_rec_from_event(ev, ctx.tenant, ctx.request_id, &rec);
    if (result != 0) {
        atomic_fetch_add(&counters.audit_failed, 1);
        return result;
    }
    result = tl__audit_rec_submit(lg, rec);
    if (result == 0 && seq_out != NULL) {
        *seq_out = rec->seq;
    }
    tl__audit_rec_free(rec);
    return result;
}

/* Commits the collected audit requests as one group. */
static void audit_commit(struct tl_logger *lg, struct audit_req **reqs,
                         size_t n)
{
    struct tl__audit_rec *recs[BATCH_MAX];
    char err[DIAG_ERR_MAX];
    int result = 0;
    size_t i;

    if (n == 0) {
        return;
    }
    if (lg->audit == NULL) {
        result = tl__audit_store_open(lg->cfg->audit_path, &lg->audit, err,
                                      sizeof(err));
        if (result != 0) {
            tl__diag("audit store: %s", err);
        }
    }
    for (i = 0; i < n; i++) {
        recs[i] = reqs[i]->rec;
    }
    if (result == 0) {
        result = tl__audit_store_append(lg->audit, recs, n);
    }
    for (i = 0; i < n; i++) {
        audit_finish(reqs[i], result != 0 ? result : recs[i]->result);
    }
}

static void process(struct tl_logger *lg, struct tl__item *items, size_t n)
{
    struct audit_req *audits[BATCH_MAX];
    size_t i, n_audits = 0;

    for (i = 0; i < n; i++) {
        if (items[i].kind == TL__ITEM_AUDIT) {
            audits[n_audits++] = items[i].ptr;
            continue;
        }
        (void)tl__sinks_write(&lg->sinks, items[i].ptr);
        free(items[i].ptr);
        atomic_fetch_add(&counters.dequeued, 1);
    }
    audit_commit(lg, audits, n_audits);
}

/* Drops items left at the close deadline; audit callers get an error. */
static void discard(struct tl__item *items, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (items[i].kind == TL__ITEM_AUDIT) {
            audit_finish(items[i].ptr, TL_ETIMEDOUT);
            continue;
        }
        atomic_fetch_add(&counters.dropped_deadline, 1);
        atomic_fetch_add(&counters.dequeued, 1);
        free(items[i].ptr);
    }
}

static bool past_deadline(struct tl_logger *lg)
{
    int64_t deadline = atomic_load(&lg->deadline_ns);

    return deadline != 0 && tl__now_ns() > deadline;
}

static void note_depth(struct tl_logger *lg)
{
    size_t depth, high;

    tl__queue_depth(&lg->queue, &depth, &high);
    /* Cumulative across opens: keep the highest mark of any queue. */
    if (high > atomic_load(&counters.queue_high_water)) {
        atomic_store(&counters.queue_high_water, high);
    }
}

/* The thread id of the writer thread, 0 while none runs. The
 * fatal-signal handler reads it, so it is an atomic pid_t rather than a
 * pthread_t. */
static _Atomic pid_t writer_tid;

uint64_t tl__logger_backlog(void)
{
    uint64_t dequeued = atomic_load(&counters.dequeued);
    uint64_t enqueued = atomic_load(&counters.enqueued);

    return enqueued > dequeued ? enqueued - dequeued : 0;
}

bool tl__logger_on_writer(void)
{
    return gettid() == atomic_load(&writer_tid);
}

static void *writer_main(void *arg)
{
    struct tl_logger *lg = arg;
    struct tl__item items[BATCH_MAX];
    int n, wait_ms = WAKE_MS;

    atomic_store(&writer_tid, gettid());
    for (;;) {
        n = tl__queue_pop(&lg->queue, items, BATCH_MAX, wait_ms);
        if (atomic_exchange(&lg->reopen, false)) {
            pthread_mutex_lock(&lg->batch_mu);
            tl__sinks_reopen(&lg->sinks);
            pthread_mutex_unlock(&lg->batch_mu);
        }
        if (n < 0) {
            break;
        }
        note_depth(lg);
        pthread_mutex_lock(&lg->batch_mu);
        if (past_deadline(lg)) {
            discard(items, (size_t)n);
        } else {
            process(lg, items, (size_t)n);
        }
        /* Also when idle (n == 0), so an fsync interval ends on time. */
        lg->sinks.busy = n == BATCH_MAX;
        tl__sinks_flush(&lg->sinks);
        /* A sink with work left (compression, a spool) gets its next step
         * after the next batch, or at once when the queue is empty. */
        wait_ms = tl__sinks_pending(&lg->sinks) ? 0 : WAKE_MS;
        pthread_mutex_unlock(&lg->batch_mu);
    }
    return NULL;
}

static int load_config(const char *path, struct tl__config **out)
{
    char err[DIAG_ERR_MAX];
    int result;

    if (path == NULL) {
        path = getenv("TENANTLOG_CONFIG");
    }
    if (path != NULL && path[0] != '\0') {
        result = tl__config_load(path, out, err, sizeof(err));
    } else {
        result = tl__config_parse(tl__config_default_yaml,
                                  strlen(tl__config_default_yaml), "<default>",
                                  out, err, sizeof(err));
    }
    if (result != 0) {
        tl__diag("%s", err);
    }
    return result;
}

static int start_writer(struct tl_logger *lg)
{
    sigset_t all, old;
    int result;

    /* The writer takes no signals: they belong to the application. The
     * exceptions are the faults, which the kernel delivers to the thread
     * that caused them in any case: a blocked fault kills the process at
     * once, whereas unblocked it reaches the fatal-signal handler. */
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGFPE);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    result = -pthread_create(&lg->writer, NULL, writer_main, lg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return result;
}

static void stop(struct tl_logger *lg, int timeout_ms);

static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* Drains a logger that is still running when the process exits, within
 * the configured close deadline. A child created by fork() that never
 * started its own writer skips it, because its queue has nothing of its
 * own. */
static void drain_at_exit(void)
{
    struct tl_logger *lg = &the_logger;

    pthread_mutex_lock(&lg->life_mu);
    if (atomic_load(&lg->state) == STATE_RUNNING && getpid() == writer_pid) {
        lg->refs = 0;
        stop(lg, lg->cfg->close_timeout_ms);
    }
    pthread_mutex_unlock(&lg->life_mu);
}

static bool fork_queue_locked;

/* Runs in the parent before fork(): takes every lock of the logger, so
 * the child's copy is consistent and between batches. */
static void fork_prepare(void)
{
    struct tl_logger *lg = &the_logger;

    pthread_mutex_lock(&lg->life_mu);
    pthread_mutex_lock(&lg->batch_mu);
    fork_queue_locked = atomic_load(&lg->state) == STATE_RUNNING;
    if (fork_queue_locked) {
        pthread_mutex_lock(&lg->queue.mu);
    }
    tl__diag_fork_prepare();
}

static void fork_parent(void)
{
    struct tl_logger *lg = &the_logger;

    tl__diag_fork_parent();
    if (fork_queue_locked) {
        pthread_mutex_unlock(&lg->queue.mu);
    }
    pthread_mutex_unlock(&lg->batch_mu);
    pthread_mutex_unlock(&lg->life_mu);
}

/* Drops the queued items in a child: they are the parent's, which writes
 * them, and its audit callers wait in the parent. */
static void drop_parent_items(struct tl__queue *q)
{
    while (q->count > 0) {
        struct tl__item *item = &q->slots[q->head];

        if (item->kind == TL__ITEM_RECORD) {
            free(item->ptr);
        }
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
}

/* Makes the child's copy of the counters hold only what the parent had
 * written. Records it had enqueued but not written (queued, or in the
 * batch its writer took) were never submitted here: the parent counts
 * and writes them. A record pushed and written but not yet counted by
 * its producer, whose count the fork cut off, counts as enqueued. */
static void forget_parent_records(void)
{
    uint64_t enqueued = atomic_load(&counters.enqueued);
    uint64_t dequeued = atomic_load(&counters.dequeued);

    if (enqueued > dequeued) {
        atomic_fetch_sub(&counters.submitted, enqueued - dequeued);
    }
    atomic_store(&counters.enqueued, dequeued);
}

/* Runs in the child after fork(): new locks, an empty queue, no audit
 * handle (SQLite connections must not cross fork()), and a writer thread
 * started by the first record. */
static void fork_child(void)
{
    struct tl_logger *lg = &the_logger;

    pthread_mutex_init(&lg->life_mu, NULL);
    pthread_mutex_init(&lg->batch_mu, NULL);
    tl__diag_fork_child();
    if (!fork_queue_locked) {
        return;
    }
    tl__queue_after_fork(&lg->queue);
    drop_parent_items(&lg->queue);
    forget_parent_records();
    tl__sinks_after_fork(&lg->sinks);
    /* NOTE: the parent's SQLite handle is leaked, not closed: closing it
     * in the child could disturb the parent's locks on the database. */
    lg->audit = NULL;
    atomic_store(&writer_tid, 0);
    atomic_store(&lg->producers, 0);
    atomic_store(&lg->writer_missing, true);
}

static void register_drain(void)
{
    atexit(drain_at_exit);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Opens /dev/null on each of descriptors 0, 1 and 2 that is closed, so
 * that no log file gets one of those numbers and then receives what is
 * written to stdout or stderr. */
static void guard_std_fds(void)
{
    int fd;

    for (fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

            if (null_fd >= 0 && null_fd != fd) {
                close(null_fd);
                break;
            }
        }
    }
}

static int start(struct tl_logger *lg, struct tl__config *cfg)
{
    int result;

    guard_std_fds();
    lg->cfg = cfg;
    result = tl__queue_init(&lg->queue, cfg->queue_capacity);
    if (result != 0) {
        return result;
    }
    result = tl__sinks_open(&lg->sinks, cfg, &counters.sinks);
    if (result == 0) {
        atomic_store(&lg->deadline_ns, 0);
        atomic_store(&lg->reopen, false);
        result = start_writer(lg);
        if (result != 0) {
            tl__sinks_close(&lg->sinks);
        }
    }
    if (result != 0) {
        tl__queue_fini(&lg->queue);
        return result;
    }
    lg->refs = 1;
    writer_pid = getpid();
    atomic_store(&lg->state, STATE_RUNNING);
    pthread_once(&exit_once, register_drain);
    return 0;
}

static bool same_config(const struct tl__config *a, const struct tl__config *b)
{
    return a->text_len == b->text_len &&
           memcmp(a->text, b->text, a->text_len) == 0;
}

int tl_logger_open(const char *config_path, struct tl_logger **out)
{
    struct tl_logger *lg = &the_logger;
    struct tl__config *cfg = NULL;
    int result;

    if (out == NULL) {
        return TL_EINVAL;
    }
    result = load_config(config_path, &cfg);
    if (result != 0) {
        return result;
    }
    pthread_mutex_lock(&lg->life_mu);
    if (atomic_load(&lg->state) == STATE_RUNNING) {
        result = same_config(lg->cfg, cfg) ? 0 : TL_EBUSY;
        lg->refs += result == 0;
        tl__config_free(cfg);
    } else {
        result = start(lg, cfg);
        if (result != 0) {
            tl__config_free(cfg);
        }
    }
    pthread_mutex_unlock(&lg->life_mu);
    if (result == 0) {
        *out = lg;
    }
    return result;
}

/* Waits until no producer is between its state check and its push, so
 * the queue can be torn down safely. */
static void wait_producers(struct tl_logger *lg)
{
    while (atomic_load(&lg->producers) > 0) {
        sched_yield();
    }
}

static void stop(struct tl_logger *lg, int timeout_ms)
{
    int64_t timeout_ns = (int64_t)timeout_ms * 1000000;

    atomic_store(&lg->state, STATE_DRAINING);
    atomic_store(&lg->deadline_ns, tl__now_ns() + timeout_ns);
    tl__queue_close(&lg->queue);
    wait_producers(lg);
    if (!atomic_exchange(&lg->writer_missing, false)) {
        pthread_join(lg->writer, NULL);
    }
    atomic_store(&writer_tid, 0);
    tl__sinks_close(&lg->sinks);
    if (lg->audit != NULL) {
        tl__audit_store_close(lg->audit);
        lg->audit = NULL;
    }
    tl__queue_fini(&lg->queue);
    tl__config_free(lg->cfg);
    lg->cfg = NULL;
    atomic_store(&lg->state, STATE_CLOSED);
}

int tl_logger_close(struct tl_logger *lg, int timeout_ms)
{
    uint64_t dropped_before;
    int result = 0;

    lg = logger_of(lg);
    pthread_mutex_lock(&lg->life_mu);
    if (atomic_load(&lg->state) != STATE_RUNNING) {
        result = TL_ECLOSED;
    } else if (--lg->refs == 0) {
        dropped_before = atomic_load(&counters.dropped_deadline);
        stop(lg, timeout_ms > 0 ? timeout_ms : lg->cfg->close_timeout_ms);
        if (atomic_load(&counters.dropped_deadline) != dropped_before) {
            result = TL_ETIMEDOUT;
        }
    }
    pthread_mutex_unlock(&lg->life_mu);
    return result;
}

void tl_stats(struct tl_stats *out)
{
    uint64_t enqueued = atomic_load(&counters.enqueued);
    uint64_t dequeued = atomic_load(&counters.dequeued);

    memset(out, 0, sizeof(*out));
    out->submitted = atomic_load(&counters.submitted);
    out->enqueued = enqueued;
    out->written = atomic_load(&counters.sinks.written);
    out->write_failed = atomic_load(&counters.sinks.write_failed);
    out->dropped_full = atomic_load(&counters.dropped_full);
    out->dropped_closed = atomic_load(&counters.dropped_closed);
    out->dropped_deadline = atomic_load(&counters.dropped_deadline);
    out->dropped_invalid = atomic_load(&counters.dropped_invalid);
    out->fallback = atomic_load(&counters.sinks.fallback);
    out->write_errors = atomic_load(&counters.sinks.write_errors);
    out->tenant_invalid = atomic_load(&counters.sinks.tenant_invalid);
    out->reopens = atomic_load(&counters.sinks.reopens);
    out->fsyncs = atomic_load(&counters.sinks.fsyncs);
    out->open_fds = atomic_load(&counters.sinks.open_fds);
    out->queue_depth = enqueued > dequeued ? enqueued - dequeued : 0;
    out->queue_high_water = atomic_load(&counters.queue_high_water);
    out->audit_committed = atomic_load(&counters.audit_committed);
    out->audit_failed = atomic_load(&counters.audit_failed);
    out->rotations = atomic_load(&counters.sinks.rotations);
    out->spooled = atomic_load(&counters.sinks.spooled);
    out->spool_written = atomic_load(&counters.sinks.spool_written);
    out->spool_fallback = atomic_load(&counters.sinks.spool_fallback);
    out->spool_depth = atomic_load(&counters.sinks.spool_depth);
    out->compressed = atomic_load(&counters.sinks.compressed);
    out->pruned = atomic_load(&counters.sinks.pruned);
    out->truncations = atomic_load(&counters.sinks.truncations);
}

size_t tl_sink_errors(struct tl_sink_error *out, size_t max)
{
    return tl__sink_stats_errors(&counters.sinks, out, max);
}

size_t tl_stats_errnos(int *errnos, uint64_t *counts, size_t max)
{
    size_t i, n = 0;

    for (i = 0; i < TL__ERRNO_SLOTS; i++) {
        int key = (int)atomic_load(&counters.sinks.errno_keys[i]);

        if (key == 0) {
            continue;
        }
        if (n < max) {
            errnos[n] = key;
            counts[n] = atomic_load(&counters.sinks.errno_counts[i]);
        }
        n++;
    }
    return n;
}
