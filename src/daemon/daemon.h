/* tenantlogd internals: the daemon state shared by its listeners, the
 * native protocol, the audit group commit, its own logging and its
 * counters. Everything runs on the one libuv loop thread. */
#ifndef TL_DAEMON_DAEMON_H
#define TL_DAEMON_DAEMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"
#include "common/syslog.h"
#include "lib/audit_store.h"
#include "lib/config.h"
#include "lib/record.h"
#include "lib/sink.h"

#define TL__STR2(x) #x
#define TL__STR(x) TL__STR2(x)
#define TL__DAEMON_VERSION                                                     \
    TL__STR(TL_VERSION_MAJOR)                                                  \
    "." TL__STR(TL_VERSION_MINOR) "." TL__STR(TL_VERSION_PATCH)

/* Counters written to the stats file. docs/daemon.md defines each. */
#define TL__DAEMON_COUNTERS(X)                                                 \
    X(native_frames)                                                           \
    X(native_records)                                                          \
    X(native_errors)                                                           \
    X(audit_committed)                                                         \
    X(audit_failed)                                                            \
    X(syslog_received)                                                         \
    X(syslog_unparsed)                                                         \
    X(syslog_empty)                                                            \
    X(syslog_truncated)                                                        \
    X(records_written)                                                         \
    X(records_failed)                                                          \
    X(connections)

struct tl__daemon_counters {
#define TL__COUNTER_FIELD(name) uint64_t name;
    TL__DAEMON_COUNTERS(TL__COUNTER_FIELD)
#undef TL__COUNTER_FIELD
};

struct tl__daemon;

/* One syslog listener of the configuration. */
struct tl__syslog_listener {
    struct tl__daemon *d;
    const struct tl__syslog_conf *conf; /* borrowed from d->cfg */
    uint64_t received;
    bool open;
    int fd;         /* datagram socket, or -1 */
    uv_poll_t poll; /* datagram readiness */
    uv_pipe_t pipe; /* stream listener */
    char *buf;      /* datagram receive buffer, TL__SYSLOG_MAX bytes */
};

enum tl__conn_kind { TL__CONN_NATIVE = 1, TL__CONN_SYSLOG };

/* An accepted stream connection, native or syslog. */
struct tl__conn {
    uv_pipe_t pipe;
    struct tl__daemon *d;
    enum tl__conn_kind kind;
    uint64_t id;          /* 1, 2, ... in accept order, for logs */
    struct tl__cred cred; /* SO_PEERCRED at accept */
    struct tl__conn *prev, *next;
    int refs;          /* the handle, plus one per batched audit */
    bool eof;          /* no more input will be read */
    bool closing;      /* uv_shutdown or uv_close has started */
    bool paused;       /* reading stopped while writes are queued */
    struct tl__buf in; /* received bytes not yet handled */
    /* Native protocol. */
    uint64_t last_seq;     /* highest sequence number received */
    uint64_t acked;        /* highest sequence number acked */
    size_t pending_audits; /* audit frames waiting for the commit */
    /* Syslog stream. */
    struct tl__syslog_listener *listener;
    struct tl__syslog_framer framer;
};

/* An audit frame waiting for the group commit. */
struct tl__audit_pending {
    struct tl__conn *conn; /* holds a reference */
    uint64_t seq;
    struct tl__audit_rec *rec;
};

/* One key of the error rate limiter. */
struct tl__dlog_slot {
    const char *key; /* static string naming the error site */
    int64_t window_ns;
    uint64_t in_window;
    uint64_t suppressed;
};

#define TL__DLOG_SLOTS 32

struct tl__daemon {
    uv_loop_t *loop;
    const char *config_name; /* the file, or "<default>" */
    struct tl__config *cfg;
    struct tl__sinks sinks;
    struct tl__sink_stats sink_stats;
    bool sinks_open;
    struct tl__audit_store *audit;
    struct tl__daemon_counters n;

    uv_pipe_t native;
    bool native_open;
    struct tl__syslog_listener *listeners;
    size_t n_listeners;
    struct tl__conn *conns; /* every open connection */
    uint64_t next_conn_id;

    uv_signal_t sigterm, sigint, sighup;
    uv_check_t commit;
    uv_timer_t dlog_timer;
    uv_timer_t stop_timer;
    uv_timer_t tend_timer; /* wakes the loop so idle sinks do their work */
    uv_idle_t busy;        /* running while a sink has work pending */
    bool handles_started;  /* the signal, check and timer handles */
    bool started;          /* tl__daemon_start succeeded */
    bool stopping;

    struct tl__audit_pending *batch;
    size_t n_batch, cap_batch;

    struct tl__dlog_slot dlog[TL__DLOG_SLOTS];
    struct tl__buf scratch; /* strings of the record being built */
};

/* ---- daemon.c: lifecycle ---- */

/* Opens the sinks, the audit store and every socket of d->cfg, and
 * installs the signal handlers. Returns 0, or a negative code after
 * printing why to stderr. */
int tl__daemon_start(struct tl__daemon *d);

/* Begins the shutdown: stop accepting, handle what is already read,
 * commit, ack, and close every connection. */
void tl__daemon_stop(struct tl__daemon *d);

/* Releases what is left after the loop ended: logs the stop, closes the
 * sinks and the store, writes the stats file. Returns 0 or a negated
 * errno when the stats file could not be written. */
int tl__daemon_finish(struct tl__daemon *d);

/* ---- listen.c: sockets ---- */

/* Creates every missing folder above the file at path (mkdir -p of its
 * dirname), mode 0755. Returns 0 or a negated errno. */
int tl__dir_parents_make(const char *path);

/* Prepares path for bind(2): creates its folder, and removes a stale
 * socket file (one on which no process accepts connections). Returns 0,
 * or a negative code with a message in err. */
int tl__socket_path_prepare(const char *path, int type, char *err,
                            size_t errlen);

/* Reads SO_PEERCRED of a connected Unix socket into *cred. */
void tl__peer_cred(int fd, struct tl__cred *cred);

/* ---- conn.c: stream connections ---- */

int tl__conn_accept(struct tl__daemon *d, uv_stream_t *server,
                    enum tl__conn_kind kind,
                    struct tl__syslog_listener *listener);

/* Queues len bytes (copied) on the connection. Returns 0 or a negative
 * code. */
int tl__conn_write(struct tl__conn *c, const char *data, size_t len);

/* Ends a connection once its queued writes are sent. */
void tl__conn_finish(struct tl__conn *c);

/* Closes the connection at once, dropping queued writes. */
void tl__conn_abort(struct tl__conn *c);

/* Drops one reference. The last one frees the connection. */
void tl__conn_unref(struct tl__conn *c);

/* Reads what the kernel still has queued for the connection, without
 * blocking, and handles it (used at shutdown). */
void tl__conn_drain(struct tl__conn *c);

/* ---- native.c: the native protocol ---- */

/* Binds and listens on d->cfg->daemon_socket. Returns 0, or a negative
 * code with a message in err. */
int tl__native_listen(struct tl__daemon *d, char *err, size_t errlen);

/* Handles the bytes in c->in. */
void tl__native_input(struct tl__conn *c);

/* Sends the ack for c->last_seq when nothing is pending. */
void tl__native_ack(struct tl__conn *c);

/* Sends one frame with obj, a JSON object whose reference it takes. */
int tl__native_send(struct tl__conn *c, json_t *obj);

/* Sends an error frame. seq 0 means the frame had no usable seq. */
void tl__native_error(struct tl__conn *c, uint64_t seq, const char *code,
                      const char *message);

/* ---- native_decode.c: frame members into records and audit events ---- */

/* Why a frame was rejected: a stable code and a message. */
struct tl__native_err {
    const char *code;
    char message[256];
};

/* Builds a record from a "record" frame. Returns 0 and sets *out (free
 * with free(3)), or a negative code with *err filled. */
int tl__native_record_decode(json_t *obj, const struct tl__cred *cred,
                             struct tl__record **out,
                             struct tl__native_err *err);

/* Builds an audit event from an "audit" frame. Returns 0 and sets *out
 * (free with tl__audit_rec_free), or a negative code with *err filled. */
int tl__native_audit_decode(json_t *obj, const struct tl__cred *cred,
                            struct tl__audit_rec **out,
                            struct tl__native_err *err);

/* ---- audit_batch.c: group commit ---- */

/* Queues rec (owned from now on) for the commit at the end of this loop
 * iteration. Returns 0 or -ENOMEM (rec is then freed). */
int tl__audit_batch_add(struct tl__daemon *d, struct tl__conn *c, uint64_t seq,
                        struct tl__audit_rec *rec);

/* Commits every queued audit event in one transaction, then sends the
 * audit_ack or error frames and the acks. */
void tl__audit_batch_commit(struct tl__daemon *d);

/* ---- syslog_in.c: syslog listeners ---- */

int tl__syslog_listeners_open(struct tl__daemon *d, char *err, size_t errlen);

/* Stops every listener after handling the datagrams already queued. */
void tl__syslog_listeners_close(struct tl__daemon *d);

/* Handles one syslog message received on listener l. */
void tl__syslog_message(struct tl__syslog_listener *l, const char *text,
                        size_t len, const struct tl__cred *cred,
                        bool truncated);

/* Handles the bytes in c->in of a syslog stream connection. */
void tl__syslog_stream_input(struct tl__conn *c);

/* ---- dlog.c: the daemon's own records ---- */

/* Writes a record from the daemon itself (transport "daemon", logger
 * "tenantlogd", no tenant) through the sinks. */
void tl__dlog(struct tl__daemon *d, enum tl_level level, const char *msg,
              const struct tl_field *fields, size_t n_fields);

/* Writes an error record like tl__dlog, at most a burst per 10 seconds
 * per key. The rest are counted and reported as "N more suppressed". */
void tl__dlog_error(struct tl__daemon *d, const char *key, const char *msg,
                    const struct tl_field *fields, size_t n_fields);

/* Reports every suppressed count whose window has closed (all of them
 * when force is true). */
void tl__dlog_flush(struct tl__daemon *d, bool force);

/* Writes r through the sinks and counts it as written or failed. */
int tl__daemon_write(struct tl__daemon *d, const struct tl__record *r);

/* ---- stats.c: counters ---- */

/* Appends every counter as "name=value\n" lines. */
void tl__stats_text(const struct tl__daemon *d, struct tl__buf *b);

/* Returns every counter as a JSON object (a new reference). */
json_t *tl__stats_json(const struct tl__daemon *d);

/* Writes the counters to path through a temporary file and rename(2).
 * Returns 0 or a negated errno. */
int tl__stats_write(const struct tl__daemon *d, const char *path);

#endif
