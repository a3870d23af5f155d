/* Sinks: where records go. The library's writer thread and the daemon's
 * event loop call this code; nothing else touches a sink's descriptors.
 * None of these functions is thread-safe: one thread owns a sink set. */
#ifndef TL_LIB_SINK_H
#define TL_LIB_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../common/buf.h"
#include "config.h"
#include "record.h"

#define TL__ERRNO_SLOTS 16
#define TL__SINK_NAMES_MAX 16
#define TL__SINK_ERR_SLOTS 256

/* The operation of a sink during which a system call failed. */
enum tl__sink_op {
    TL__OP_OPEN = 1,
    TL__OP_WRITE,
    TL__OP_FSYNC,
    TL__OP_RENAME,
    TL__OP_MKDIR,
    TL__OP_UNLINK,
    TL__OP_LOCK,
    TL__OP_LIST,
    TL__OP_STAT,
    TL__OP_READ,
    TL__OP_CLOSE,
    TL__OP_COMPRESS,
};

const char *tl__sink_op_name(enum tl__sink_op op);

/* Counters the owning thread updates and any thread may read. */
struct tl__sink_stats {
    _Atomic uint64_t written;      /* records written by every routed sink */
    _Atomic uint64_t write_failed; /* records that a routed sink failed */
    _Atomic uint64_t write_errors; /* failed system calls, all sinks */
    _Atomic uint64_t fallback;     /* records sent to stderr instead */
    _Atomic uint64_t tenant_invalid;
    _Atomic uint64_t reopens;
    _Atomic uint64_t fsyncs;
    _Atomic uint64_t open_fds;
    _Atomic uint64_t rotations;   /* files renamed for size or time */
    _Atomic uint64_t truncations; /* files found shorter: copytruncate */
    _Atomic uint64_t spooled;     /* records a file sink kept in memory */
    _Atomic uint64_t spool_written;
    _Atomic uint64_t spool_fallback;
    _Atomic uint64_t spool_depth;
    _Atomic uint64_t compressed;
    _Atomic uint64_t pruned;
    _Atomic uint64_t errno_keys[TL__ERRNO_SLOTS]; /* an errno, 0 when free */
    _Atomic uint64_t errno_counts[TL__ERRNO_SLOTS];
    /* Sink names, appended once each and never changed: a reader takes
     * n_names with acquire order and reads names below it. */
    char names[TL__SINK_NAMES_MAX][64];
    _Atomic int n_names;
    /* Failures per sink, operation and errno: key is
     * (name index + 1) << 40 | op << 32 | errno, 0 when free. */
    _Atomic uint64_t err_keys[TL__SINK_ERR_SLOTS];
    _Atomic uint64_t err_counts[TL__SINK_ERR_SLOTS];
    /* Failures that fit no slot, or whose sink name did not fit. */
    _Atomic uint64_t err_other;
};

struct tl__sink;

/* A write that a sink kept in its spool, to write when it recovers. */
#define TL__SINK_SPOOLED 1

struct tl__sink_ops {
    /* Writes one record with one write(2). Returns 0, TL__SINK_SPOOLED,
     * or a negated errno when the caller must send the record to the
     * fallback. The sink counts and reports failed system calls itself
     * with tl__sink_fail(). */
    int (*write)(struct tl__sink *s, const struct tl__record *r);
    /* Closes every descriptor so the next write reopens by path. */
    void (*reopen)(struct tl__sink *s);
    /* Applies the sink's fsync policy after a batch, and does a step of
     * deferred work; NULL when the sink has none. Reports its own
     * failures. */
    void (*flush)(struct tl__sink *s);
    /* Returns true while the sink is in the middle of work that later
     * calls of flush continue (a compression); NULL when it never is. */
    bool (*pending)(const struct tl__sink *s);
    /* In a fork() child: drops the work the sink deferred (spooled
     * records, compressions), which stays the parent's to finish, without
     * touching the parent's files. NULL when it defers nothing. */
    void (*after_fork)(struct tl__sink *s);
    /* Writes what the sink deferred (a spool), whatever its backoff, or
     * gives it to stderr; NULL when it defers nothing. */
    void (*finish)(struct tl__sink *s);
    /* Closes every descriptor and frees the sink, finishing first. */
    void (*free)(struct tl__sink *s);
};

struct tl__sink {
    const struct tl__sink_ops *ops;
    const struct tl__sink_conf *conf; /* borrowed from the configuration */
    struct tl__sink_stats *stats;     /* shared by the set */
    struct tl__sinks *set;            /* the set, for its diagnostics */
    int name_index;                   /* in stats->names, or -1 */
    struct tl__buf line;              /* formatting scratch */
};

struct tl__sinks {
    struct tl__sink **items;
    size_t n;
    struct tl__sink_stats *stats;
    /* Set by the owner before a flush when its last batch was full:
     * deferred work (compression) then yields to records. */
    bool busy;
    /* Rate limit for diagnostics about failed writes. */
    int64_t diag_window_ns;
    uint64_t diag_in_window;
    uint64_t diag_suppressed;
};

/* Opens every sink of cfg (which must outlive the set); counters go to
 * stats. Files open lazily on the first record. Returns 0 or a negative
 * code, with a diagnostic. */
int tl__sinks_open(struct tl__sinks *set, const struct tl__config *cfg,
                   struct tl__sink_stats *stats);

/* Writes r to every sink whose level admits it. A record that a sink
 * can neither write nor spool goes to stderr (counted as fallback).
 * Returns 0 when every routed sink took the record, else the first
 * negated errno. */
int tl__sinks_write(struct tl__sinks *set, const struct tl__record *r);

void tl__sinks_reopen(struct tl__sinks *set);

/* Writes every sink's deferred records, or sends them to stderr, and
 * reports the suppressed failure count: the owner calls it before it
 * reads the counters one last time. tl__sinks_close does it too. */
void tl__sinks_finish(struct tl__sinks *set);

/* Calls each sink's after_fork in a fork() child, so that parent and
 * child never both write a spooled record or compress one file. */
void tl__sinks_after_fork(struct tl__sinks *set);

/* Applies each sink's fsync policy; the owner calls it after every batch
 * and when idle. A failed fsync is counted and reported like a failed
 * write. */
void tl__sinks_flush(struct tl__sinks *set);

/* Returns true while a sink has work for the next tl__sinks_flush: the
 * owner then calls it again soon instead of sleeping. */
bool tl__sinks_pending(const struct tl__sinks *set);
void tl__sinks_close(struct tl__sinks *set);

/* Counts one failed system call of sink s (errno err, during op on
 * path, which may be NULL) and reports it through the rate-limited
 * diagnostic, adding what happened to the record (then, may be NULL). */
void tl__sink_fail(struct tl__sink *s, enum tl__sink_op op, int err,
                   const char *path, const char *then);

/* Copies up to max per-sink failure counts of stats into out (see
 * tl_sink_errors). Returns how many distinct ones were seen. */
size_t tl__sink_stats_errors(struct tl__sink_stats *stats,
                             struct tl_sink_error *out, size_t max);

/* Writes len bytes of data to stderr, the path of last resort. Returns
 * 0 or a negated errno. */
int tl__stderr_write(const char *data, size_t len);

int tl__sink_console_new(const struct tl__sink_conf *c, struct tl__sink **out);
int tl__sink_file_new(const struct tl__sink_conf *c, struct tl__sink **out);

/* Hold and release the diagnostic lock around fork(), and make it new in
 * the child, so that no child starts with it held by a vanished thread. */
void tl__diag_fork_prepare(void);
void tl__diag_fork_parent(void);
void tl__diag_fork_child(void);

/* Emits a library diagnostic through the installed callback. */
void tl__diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
