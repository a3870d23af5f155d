/*
 * libtenantlog: structured logging with per-request tenant context, an
 * async writer thread that owns every descriptor, and a per-tenant audit
 * trail. Every function is thread-safe unless its comment states otherwise.
 */
#ifndef TENANTLOG_TENANTLOG_H
#define TENANTLOG_TENANTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TL_VERSION_MAJOR 0
#define TL_VERSION_MINOR 1
#define TL_VERSION_PATCH 0

/* Marks the functions the shared library exports. */
#define TL_API __attribute__((visibility("default")))

/* Project error codes. Functions return 0 on success, a negated errno
 * for a failed system call, or one of these negative codes. */
#define TL_ERRORS(X)                                                           \
    X(TL_EINVAL, -1000, "invalid argument")                                    \
    X(TL_ECONFIG, -1001, "invalid configuration")                              \
    X(TL_ECLOSED, -1002, "logger is not open")                                 \
    X(TL_EBUSY, -1003, "logger already open with another configuration")       \
    X(TL_EFULL, -1004, "queue full, record dropped")                           \
    X(TL_ETENANT, -1005, "invalid tenant id")                                  \
    X(TL_ETOOBIG, -1006, "record too large")                                   \
    X(TL_ESTORE, -1007, "audit store error")                                   \
    X(TL_EPROTO, -1008, "protocol error")                                      \
    X(TL_ECHAIN, -1009, "audit chain broken")                                  \
    X(TL_EDEPTH, -1010, "context stack full")                                  \
    X(TL_ETIMEDOUT, -1011, "timed out")

enum tl_error {
#define TL_ERROR_ENUM(name, value, text) name = value,
    TL_ERRORS(TL_ERROR_ENUM)
#undef TL_ERROR_ENUM
};

/* Returns a static string describing code, a project code or a negated
 * errno. Thread-safe. */
TL_API const char *tl_strerror(int code);

/* Levels are the syslog severities (RFC 5424 section 6.2.1). */
enum tl_level {
    TL_EMERG = 0,
    TL_ALERT = 1,
    TL_CRIT = 2,
    TL_ERROR = 3,
    TL_WARNING = 4,
    TL_NOTICE = 5,
    TL_INFO = 6,
    TL_DEBUG = 7
};

/* Returns the lowercase name of level ("error"), or NULL if invalid. */
TL_API const char *tl_level_name(enum tl_level level);

/* Parses a level name, syslog ("err", "warning") or Python ("ERROR",
 * "WARN", "CRITICAL"), case-insensitively. Returns 0 or TL_EINVAL. */
TL_API int tl_level_parse(const char *name, enum tl_level *out);

enum tl_field_type {
    TL_FIELD_STR = 1,
    TL_FIELD_I64,
    TL_FIELD_U64,
    TL_FIELD_F64,
    TL_FIELD_BOOL
};

/* A typed key-value pair. Keys and strings are borrowed for the duration
 * of the call only; the library copies them. */
struct tl_field {
    const char *key;
    enum tl_field_type type;
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        double d;
        bool b;
    } v;
};

#define TL_STR(k, x)                                                           \
    ((struct tl_field){.key = (k), .type = TL_FIELD_STR, .v.s = (x)})
#define TL_I64(k, x)                                                           \
    ((struct tl_field){.key = (k), .type = TL_FIELD_I64, .v.i = (x)})
#define TL_U64(k, x)                                                           \
    ((struct tl_field){.key = (k), .type = TL_FIELD_U64, .v.u = (x)})
#define TL_F64(k, x)                                                           \
    ((struct tl_field){.key = (k), .type = TL_FIELD_F64, .v.d = (x)})
#define TL_BOOL(k, x)                                                          \
    ((struct tl_field){.key = (k), .type = TL_FIELD_BOOL, .v.b = (x)})

struct tl_logger;

/*
 * Opens the process's logger from the YAML file at config_path, or from
 * the embedded default when config_path is NULL and TENANTLOG_CONFIG is
 * unset. There is one logger per process. A second open with the same
 * configuration returns the same logger and takes a reference, and one
 * with a different configuration fails with TL_EBUSY. Starts the writer
 * thread. On success *out is set. The logger object itself is never
 * freed, so a pointer stays safe to pass after close. Returns 0, TL_ECONFIG
 * (details through the diagnostic callback), TL_EBUSY or a negated errno.
 */
TL_API int tl_logger_open(const char *config_path, struct tl_logger **out);

/*
 * Drops one reference. The last one drains the queue for at most
 * timeout_ms milliseconds (0 means the configured default), closes every
 * sink and stops the writer thread. Records still queued at the deadline
 * are counted as dropped. Returns 0, or TL_ETIMEDOUT if records were
 * dropped at the deadline. Calling it on a closed logger returns
 * TL_ECLOSED and changes nothing. Blocks.
 */
TL_API int tl_logger_close(struct tl_logger *lg, int timeout_ms);

/*
 * Logs one record. logger_name and msg may be NULL. The current thread's
 * context (tenant, request id) is copied into the record now. Never
 * blocks when the queue policy is "drop"; blocks while the queue is full
 * when it is "block" (the default). Returns 0 when queued, TL_ECLOSED
 * when the logger is not running (the record goes to the fallback path
 * and is counted), TL_EFULL when dropped, TL_EINVAL for an invalid
 * level or field type, TL_ETOOBIG past 1 MiB, or -ENOMEM. The last three
 * count the record in dropped_invalid.
 */
TL_API int tl_log(struct tl_logger *lg, enum tl_level level,
                  const char *logger_name, const char *msg,
                  const struct tl_field *fields, size_t n_fields);

/* Writes one JSON line (ts, level, msg) to stderr with a single write(2),
 * using no lock, no allocation and no stdio, so it is async-signal-safe
 * and works in any state of the logger, for a signal or crash handler.
 * It bypasses the queue and the sinks and is not counted. A message of
 * more than about 4 KiB is cut. Returns 0, or -EIO when the write failed
 * or was short. */
TL_API int tl_log_emergency(enum tl_level level, const char *msg);

/*
 * Installs a handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT. On
 * such a signal it writes an emergency record naming the signal (as
 * tl_log_emergency does). Then it waits up to drain_ms milliseconds for
 * the writer thread to write the records still queued, polling two
 * atomic counters every millisecond with no lock and no allocation. It
 * does not wait when the signal arrived on the writer thread. When
 * records are left, it writes a second record with their number. Then it
 * restores the disposition from before the first call and lets the
 * signal end the process as it would have without the handler. A fault
 * repeats when the handler returns, so a previous handler receives its
 * siginfo, and any other signal is raised again. Each signal is handled
 * once.
 *
 * The calling thread gets an alternate signal stack (sigaltstack) unless
 * it has one, so that a stack overflow on it is reported too. Other
 * threads need their own, for example by calling this function as well.
 * A later call only sets the new drain_ms and the caller's stack.
 * Thread-safe, not async-signal-safe, does not block. Returns 0,
 * TL_EINVAL for a negative drain_ms, -ENOMEM, or a negated errno when
 * sigaction(2) or sigaltstack(2) fails.
 */
TL_API int tl_fatal_signals_install(int drain_ms);

/* Asks the writer thread to reopen every file sink at once, as after an
 * external rotation. Returns 0 or TL_ECLOSED. Does not block. */
TL_API int tl_reopen(struct tl_logger *lg);

/*
 * A frame of per-thread context. Strings are borrowed; push copies them.
 * A NULL member leaves that value unset in the frame.
 */
struct tl_context {
    const char *tenant;
    const char *request_id;
    const char *trace_id;
    const char *span_id;
};

/* Pushes a context frame for the calling thread. Returns 0, TL_ETENANT
 * when the tenant id is invalid (nothing is pushed), TL_ETOOBIG for an id
 * longer than 128 bytes, or TL_EDEPTH past 16 nested frames. */
TL_API int tl_context_push(const struct tl_context *ctx);

/* Pops the innermost frame of the calling thread. Returns 0, or TL_EINVAL
 * when there is no frame. */
TL_API int tl_context_pop(void);

/* Returns the number of frames pushed on the calling thread, so a thread
 * pool can detect a scope left open when a task returns. */
TL_API int tl_context_depth(void);

/* Returns the innermost tenant of the calling thread, or NULL. The string
 * is valid until the next push or pop on this thread. */
TL_API const char *tl_context_tenant(void);

static inline void tl__context_scope_end(int *pushed)
{
    if (*pushed == 0) {
        (void)tl_context_pop();
    }
}

/* Pushes a frame for the rest of the enclosing block; it is popped when
 * the block is left by any path. Needs GCC or Clang. */
#define TL_CONTEXT_SCOPE(...)                                                  \
    TL__CONTEXT_SCOPE(TL__CAT(tl__scope_, __LINE__), __VA_ARGS__)
#define TL__CAT2(a, b) a##b
#define TL__CAT(a, b) TL__CAT2(a, b)
#define TL__CONTEXT_SCOPE(var, ...)                                            \
    int var __attribute__((cleanup(tl__context_scope_end), unused)) =          \
        tl_context_push(&(struct tl_context){__VA_ARGS__})

/* Counters of invariant "everything is counted", process-wide and
 * cumulative across opens. */
struct tl_stats {
    uint64_t submitted;        /* tl_log calls */
    uint64_t enqueued;         /* records accepted into the queue */
    uint64_t written;          /* records written to every routed sink */
    uint64_t write_failed;     /* records that a routed sink failed */
    uint64_t dropped_full;     /* queue full with the "drop" policy */
    uint64_t dropped_closed;   /* logged while not running */
    uint64_t dropped_deadline; /* still queued at the close deadline */
    uint64_t dropped_invalid;  /* too large, or out of memory */
    uint64_t fallback;         /* written to stderr by the fallback path */
    uint64_t write_errors;     /* failed sink writes, all errnos */
    uint64_t tenant_invalid;   /* records quarantined for their tenant */
    uint64_t reopens;          /* file reopens */
    uint64_t open_fds;         /* descriptors the sinks hold now */
    uint64_t queue_depth;      /* records in the queue now */
    uint64_t queue_high_water; /* deepest the queue has been */
    uint64_t audit_committed;  /* audit events durable in the store */
    uint64_t audit_failed;     /* audit events the store rejected */
    uint64_t rotations;        /* files the file sinks rotated */
    uint64_t truncations;      /* open files found truncated */
    uint64_t fsyncs;           /* fsync(2) calls of the fsync policy */
    uint64_t spooled;          /* records kept in a file sink's spool */
    uint64_t spool_written;    /* spooled records later written */
    uint64_t spool_fallback;   /* spooled records sent to stderr */
    uint64_t spool_depth;      /* records in the spools now */
    uint64_t compressed;       /* rotated files compressed */
    uint64_t pruned;           /* rotated files deleted by retention */
};

/* Copies the counters into *out. Always succeeds, even when closed. */
TL_API void tl_stats(struct tl_stats *out);

/* Copies up to max (errno, count) pairs of sink write errors into errnos
 * and counts; returns how many distinct errnos were seen. */
TL_API size_t tl_stats_errnos(int *errnos, uint64_t *counts, size_t max);

/* One (sink, operation, errno) failure count. op is one of "open",
 * "write", "fsync", "rename", "mkdir", "unlink", "lock", "list",
 * "compress", "stat", "read", "close". */
struct tl_sink_error {
    char sink[64];
    const char *op;
    int err;
    uint64_t count;
};

/* Copies up to max failure counts per sink, operation and errno into
 * out; returns how many distinct ones were seen. Failures past the first
 * 16 sink names or 256 combinations add up in one entry with sink
 * "(other)", op "other" and err 0, so the counts always sum to
 * write_errors. */
TL_API size_t tl_sink_errors(struct tl_sink_error *out, size_t max);

enum tl_outcome {
    TL_OUTCOME_SUCCESS = 1,
    TL_OUTCOME_FAILURE,
    TL_OUTCOME_DENIED
};

/* An audit event. Strings are borrowed for the duration of the call. A
 * NULL tenant or request_id is taken from the thread's context. */
struct tl_audit_event {
    const char *tenant;
    const char *actor_type; /* "user", "service", ... */
    const char *actor_id;
    const char *action; /* "db.insert", "auth.login", ... */
    const char *target_type;
    const char *target_id;
    enum tl_outcome outcome;
    const char *reason; /* why it failed or was denied, or NULL */
    const char *request_id;
    const char *source; /* source address, or NULL */
    const struct tl_field *details;
    size_t n_details;
};

/*
 * Appends an audit event to its tenant's chain and returns once it is
 * durable (committed with fsync), storing its sequence number in *seq_out
 * when seq_out is not NULL. Audit events are never dropped: the call
 * blocks while the queue is full. Returns 0, TL_ETENANT, TL_EINVAL for a
 * missing action or actor, or TL_ECLOSED. Returns TL_ETIMEDOUT when the
 * logger closed before the commit, TL_ESTORE when the store rejected the
 * commit, and a negated errno when the store could not be opened (for
 * example, its folder cannot be created).
 */
TL_API int tl_audit(struct tl_logger *lg, const struct tl_audit_event *ev,
                    uint64_t *seq_out);

/* Returns true when s is a valid tenant id:
 * [A-Za-z0-9][A-Za-z0-9._-]{0,63}, and neither "." nor "..". */
TL_API bool tl_tenant_valid(const char *s);

/* Receives the library's own diagnostics (configuration errors, sink
 * failures). The default writes them to stderr. fn runs on any thread,
 * must not call back into the logger, and may be NULL to restore the
 * default. */
typedef void (*tl_diag_fn)(void *user, const char *message);
TL_API void tl_diag_set(tl_diag_fn fn, void *user);

#ifdef __cplusplus
}
#endif

#endif
