/* The CLI's two ways out: the library in this process, with tl_stats()
 * compared before and after, or tenantlogd's native protocol, waiting
 * for every acknowledgement. */
#include "output.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/client.h"
#include "common/text.h"
#include "lib/logger.h"
#include "output_frame.h"

#define FLUSH_TIMEOUT_MS 30000 /* maximum wait for the last acks */
#define ERRORS_SHOWN 10        /* daemon error frames printed, then counted */

struct tl__cli_out {
    const char *prog;
    struct tl_logger *lg;      /* library path */
    struct tl__client *client; /* daemon path */
    struct tl_stats before;
    uint64_t errors_shown;
    uint64_t record_errors; /* daemon error frames for records */
    uint64_t audit_errors;  /* daemon error frames for audit events */
    uint64_t last_seq;      /* last frame sent */
    uint64_t *audit_seqs;   /* frames that carried audit events */
    size_t n_audit_seqs;
    size_t cap_audit_seqs;
    bool send_failed; /* a send error was already printed */
    struct tl__buf scratch;
    struct tl__cli_tally tally;
};

/* Returns how many audit frames have a sequence number above seq. */
static size_t audit_frames_after(const struct tl__cli_out *o, uint64_t seq)
{
    size_t lo = 0, hi = o->n_audit_seqs;

    /* audit_seqs is ascending because frames are numbered in order. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (o->audit_seqs[mid] <= seq) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return o->n_audit_seqs - lo;
}

static bool is_audit_frame(const struct tl__cli_out *o, uint64_t seq)
{
    return audit_frames_after(o, seq - 1) != audit_frames_after(o, seq);
}

static void daemon_error(void *user, uint64_t seq, const char *code,
                         const char *message)
{
    struct tl__cli_out *o = user;

    if (seq != 0 && is_audit_frame(o, seq)) {
        o->audit_errors++;
    } else {
        o->record_errors++;
    }
    if (o->errors_shown++ < ERRORS_SHOWN) {
        fprintf(stderr, "%s: tenantlogd rejected frame %llu: %s: %s\n", o->prog,
                (unsigned long long)seq, code, message);
    }
}

int tl__cli_out_open(const char *prog, const char *config_path,
                     const char *socket_path, struct tl__cli_out **out)
{
    struct tl__cli_out *o = calloc(1, sizeof(*o));
    int result;

    if (o == NULL) {
        return -ENOMEM;
    }
    o->prog = prog;
    tl__buf_init(&o->scratch);
    if (socket_path != NULL) {
        result = tl__client_connect(socket_path, &o->client);
        if (result == 0) {
            tl__client_on_error(o->client, daemon_error, o);
        } else {
            fprintf(stderr,
                    "%s: failed to connect to tenantlogd at %s: "
                    "%s. Check that the daemon is running and that the "
                    "path is its native socket.\n",
                    prog, socket_path, tl_strerror(result));
        }
    } else {
        tl_stats(&o->before);
        result = tl_logger_open(config_path, &o->lg);
        if (result != 0) {
            fprintf(stderr, "%s: failed to open the logger%s%s: %s\n", prog,
                    config_path ? " with " : "", config_path ? config_path : "",
                    tl_strerror(result));
        }
    }
    if (result != 0) {
        tl__buf_free(&o->scratch);
        free(o);
        return result;
    }
    *out = o;
    return 0;
}

/* Hands the record to the library as it is: its own time, its message
 * length (NUL bytes included) and its tenant, which the library
 * quarantines when invalid. The thread's context is not used. */
static int lib_log(struct tl__cli_out *o, const struct tl__cli_rec *r)
{
    struct tl__record_src src = {0};

    src.ts_ns = r->ts_ns;
    src.level = r->level;
    src.logger = r->logger;
    src.msg = r->msg;
    src.msg_len = r->msg ? r->msg_len : 0;
    src.tenant = r->tenant;
    src.request_id = r->request_id;
    src.fields = r->fields;
    src.n_fields = r->n_fields;
    return tl__log_src(o->lg, &src);
}

/* Appends one audit event through the library, stamped with ts_ns when
 * it is not 0, and waits until it is durable. */
static int lib_audit(struct tl__cli_out *o, const struct tl_audit_event *ev,
                     int64_t ts_ns)
{
    struct tl__audit_rec *rec;
    int result;

    result = tl__audit_rec_from_event(ev, NULL, NULL, &rec);
    if (result != 0) {
        return result;
    }
    if (ts_ns != 0) {
        rec->ts_ns = ts_ns;
    }
    result = tl__audit_rec_submit(o->lg, rec);
    tl__audit_rec_free(rec);
    return result;
}

static int audit_seq_add(struct tl__cli_out *o, uint64_t seq)
{
    uint64_t *grown;
    size_t cap;

    if (o->n_audit_seqs == o->cap_audit_seqs) {
        cap = o->cap_audit_seqs ? o->cap_audit_seqs * 2 : 64;
        grown = realloc(o->audit_seqs, cap * sizeof(*grown));
        if (grown == NULL) {
            return -ENOMEM;
        }
        o->audit_seqs = grown;
        o->cap_audit_seqs = cap;
    }
    o->audit_seqs[o->n_audit_seqs++] = seq;
    return 0;
}

/* Sends one frame and takes ownership of it. The sequence number is
 * noted before the client waits for acks, so that an error frame that
 * arrives during the wait is attributed to the right kind. */
static int daemon_send(struct tl__cli_out *o, json_t *frame, bool audit)
{
    uint64_t seq = 0;
    int result;

    if (frame == NULL) {
        return -ENOMEM;
    }
    if (audit) {
        result = audit_seq_add(o, o->last_seq + 1);
        if (result != 0) {
            json_decref(frame);
            return result;
        }
    }
    result = tl__client_send(o->client, frame, &seq);
    json_decref(frame);
    if (seq != 0) {
        o->last_seq = seq;
    } else if (audit) {
        o->n_audit_seqs--;
    }
    if (result != 0 && !o->send_failed) {
        o->send_failed = true;
        fprintf(stderr, "%s: sending to tenantlogd failed: %s\n", o->prog,
                tl_strerror(result));
    }
    /* A frame that went out is counted at close: acked, rejected, or
     * missing an ack. */
    return seq != 0 ? 0 : result;
}

int tl__cli_out_log(struct tl__cli_out *o, const struct tl__cli_rec *r)
{
    int result;

    o->tally.sent++;
    if (o->client != NULL) {
        result = daemon_send(o, tl__cli_frame_record(r, &o->scratch), false);
    } else {
        result = lib_log(o, r);
    }
    if (result != 0) {
        o->tally.failed++;
    }
    return result;
}

int tl__cli_out_audit(struct tl__cli_out *o, const struct tl_audit_event *ev,
                      int64_t ts_ns)
{
    int result;

    o->tally.audit_sent++;
    if (o->client != NULL) {
        result =
            daemon_send(o, tl__cli_frame_audit(ev, ts_ns, &o->scratch), true);
    } else {
        result = lib_audit(o, ev, ts_ns);
    }
    if (result != 0) {
        o->tally.audit_failed++;
    }
    return result;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Returns whether any counter of a lost record moved. */
static bool lib_records_lost(const struct tl_stats *b, const struct tl_stats *s)
{
    return s->dropped_full != b->dropped_full ||
           s->dropped_closed != b->dropped_closed ||
           s->dropped_deadline != b->dropped_deadline ||
           s->dropped_invalid != b->dropped_invalid ||
           s->fallback != b->fallback || s->write_failed != b->write_failed ||
           s->spool_fallback != b->spool_fallback;
}

/* Prints each counter that moved while the logger was open and adds the
 * records lost after their tl_log call returned 0 to the tally. */
static void lib_finish(struct tl__cli_out *o, const struct tl_stats *s)
{
    const struct tl_stats *b = &o->before;
    bool records_lost = lib_records_lost(b, s);
    uint64_t lost, audit_lost;

    if (!records_lost && s->audit_failed == b->audit_failed &&
        s->write_errors == b->write_errors) {
        return;
    }
    if (s->spooled != b->spooled) {
        fprintf(stderr,
                "%s: per tl_stats(): spooled=%llu spool_written=%llu "
                "spool_fallback=%llu\n",
                o->prog, (unsigned long long)(s->spooled - b->spooled),
                (unsigned long long)(s->spool_written - b->spool_written),
                (unsigned long long)(s->spool_fallback - b->spool_fallback));
    }
    fprintf(stderr,
            "%s: %s, per tl_stats(): dropped_full=%llu "
            "dropped_closed=%llu "
            "dropped_deadline=%llu dropped_invalid=%llu fallback=%llu "
            "write_failed=%llu write_errors=%llu audit_failed=%llu\n",
            o->prog,
            records_lost ? "not accepted" : "failed writes, no record lost",
            (unsigned long long)(s->dropped_full - b->dropped_full),
            (unsigned long long)(s->dropped_closed - b->dropped_closed),
            (unsigned long long)(s->dropped_deadline - b->dropped_deadline),
            (unsigned long long)(s->dropped_invalid - b->dropped_invalid),
            (unsigned long long)(s->fallback - b->fallback),
            (unsigned long long)(s->write_failed - b->write_failed),
            (unsigned long long)(s->write_errors - b->write_errors),
            (unsigned long long)(s->audit_failed - b->audit_failed));
    /* tl_log returned the drops at the call, which are counted already.
     * These two happen after the call returned 0. */
    lost = (s->dropped_deadline - b->dropped_deadline) +
           (s->write_failed - b->write_failed) +
           (s->spool_fallback - b->spool_fallback);
    /* Any moved counter means something was not accepted, even when the
     * counters do not identify the record. */
    lost += (records_lost && lost == 0 && o->tally.failed == 0);
    o->tally.failed = min_u64(o->tally.sent, o->tally.failed + lost);
    audit_lost = s->audit_failed - b->audit_failed;
    if (audit_lost > o->tally.audit_failed) {
        o->tally.audit_failed = min_u64(o->tally.audit_sent, audit_lost);
    }
}

static int lib_close(struct tl__cli_out *o)
{
    struct tl_stats after;
    int result;

    result = tl_logger_close(o->lg, 0);
    if (result != 0) {
        fprintf(stderr, "%s: tl_logger_close failed: %s\n", o->prog,
                tl_strerror(result));
    }
    tl_stats(&after);
    lib_finish(o, &after);
    return result;
}

/* Waits for the last acks. A frame sent but neither acked nor rejected
 * failed too. */
static int daemon_close(struct tl__cli_out *o)
{
    uint64_t acked, missing, audit_missing;
    int result;

    result = tl__client_flush(o->client, FLUSH_TIMEOUT_MS);
    acked = min_u64(o->last_seq, tl__client_acked(o->client));
    missing = o->last_seq - acked;
    audit_missing = audit_frames_after(o, acked);
    if (result != 0) {
        fprintf(stderr,
                "%s: waiting for tenantlogd's acks failed: %s. %llu of "
                "%llu frames are unacknowledged.\n",
                o->prog, tl_strerror(result), (unsigned long long)missing,
                (unsigned long long)o->last_seq);
    }
    if (o->errors_shown > ERRORS_SHOWN) {
        fprintf(stderr, "%s: %llu more error frames not shown\n", o->prog,
                (unsigned long long)(o->errors_shown - ERRORS_SHOWN));
    }
    o->tally.failed =
        min_u64(o->tally.sent,
                o->tally.failed + o->record_errors + (missing - audit_missing));
    o->tally.audit_failed =
        min_u64(o->tally.audit_sent,
                o->tally.audit_failed + o->audit_errors + audit_missing);
    tl__client_close(o->client);
    free(o->audit_seqs);
    return result;
}

int tl__cli_out_close(struct tl__cli_out *o, struct tl__cli_tally *tally)
{
    if (o->client != NULL) {
        (void)daemon_close(o);
    } else {
        (void)lib_close(o);
    }
    *tally = o->tally;
    tl__buf_free(&o->scratch);
    free(o);
    return tally->failed == 0 && tally->audit_failed == 0 ? 0 : -1;
}
