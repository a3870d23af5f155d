/* Sinks: where records go. The library's writer thread and the daemon's
 * event loop call this code; nothing else touches a sink's descriptors.
 * None of these functions is thread-safe: one thread owns a sink set. */
#ifndef TL_LIB_SINK_H
#define TL_LIB_SINK_H

#include <stdatomic.h>
#include <stdint.h>

#include "../common/buf.h"
#include "config.h"
#include "record.h"

#define TL__ERRNO_SLOTS 16

/* Counters the owning thread updates and any thread may read. */
struct tl__sink_stats {
    _Atomic uint64_t written;      /* records written by every routed sink */
    _Atomic uint64_t write_failed; /* records that a routed sink failed */
    _Atomic uint64_t write_errors; /* failed writes, all sinks */
    _Atomic uint64_t fallback;     /* records sent to stderr instead */
    _Atomic uint64_t tenant_invalid;
    _Atomic uint64_t reopens;
    _Atomic uint64_t fsyncs;
    _Atomic uint64_t open_fds;
    _Atomic uint64_t rotations; /* files renamed for size */
    _Atomic int errno_keys[TL__ERRNO_SLOTS];
    _Atomic uint64_t errno_counts[TL__ERRNO_SLOTS];
};

struct tl__sink;

struct tl__sink_ops {
    /* Writes one record with one write(2). Returns 0 or a negated errno;
     * the caller counts and reports the failure. */
    int (*write)(struct tl__sink *s, const struct tl__record *r);
    /* Closes every descriptor so the next write reopens by path. */
    void (*reopen)(struct tl__sink *s);
    /* Applies the sink's fsync policy after a batch; NULL when the sink
     * has none. Returns 0 or a negated errno. */
    int (*flush)(struct tl__sink *s);
    /* Closes every descriptor and frees the sink. */
    void (*free)(struct tl__sink *s);
};

struct tl__sink {
    const struct tl__sink_ops *ops;
    const struct tl__sink_conf *conf; /* borrowed from the configuration */
    struct tl__sink_stats *stats;     /* shared by the set */
    struct tl__buf line;              /* formatting scratch */
    const char *failed_path; /* file of the last failed write, or NULL */
};

struct tl__sinks {
    struct tl__sink **items;
    size_t n;
    struct tl__sink_stats *stats;
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

/* Writes r to every sink whose level admits it. A failed write sends the
 * record to stderr (counted as fallback) and is reported through the
 * rate-limited diagnostic. Returns 0 when every routed sink took the
 * record, else the first negated errno. */
int tl__sinks_write(struct tl__sinks *set, const struct tl__record *r);

void tl__sinks_reopen(struct tl__sinks *set);

/* Applies each sink's fsync policy; the owner calls it after every batch
 * and when idle. A failed fsync is counted and reported like a failed
 * write. */
void tl__sinks_flush(struct tl__sinks *set);
void tl__sinks_close(struct tl__sinks *set);

/* Counts one failure of errno err in stats. */
void tl__sink_stats_errno(struct tl__sink_stats *stats, int err);

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
