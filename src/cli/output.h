/* Output of `tenantlog emit` and `tenantlog import`: records and audit
 * events go to the library in this process, or to tenantlogd over the
 * native protocol. Either way every record not accepted is counted. */
#ifndef TL_CLI_OUTPUT_H
#define TL_CLI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "tenantlog/tenantlog.h"

/* One record, every pointer borrowed for the duration of the call. */
struct tl__cli_rec {
    int64_t ts_ns; /* 0 means now */
    enum tl_level level;
    const char *logger; /* or NULL */
    const char *msg;    /* msg_len bytes, may hold NUL */
    size_t msg_len;
    const char *tenant;     /* or NULL, and an invalid id is kept */
    const char *request_id; /* or NULL */
    const struct tl_field *fields;
    size_t n_fields;
};

/* Outcome counts of everything sent, final only after close. */
struct tl__cli_tally {
    uint64_t sent;         /* records handed over */
    uint64_t failed;       /* records known not to be accepted */
    uint64_t audit_sent;   /* audit events handed over */
    uint64_t audit_failed; /* audit events known not to be durable */
};

struct tl__cli_out;

/*
 * Opens the library logger from config_path (NULL: TENANTLOG_CONFIG, else
 * the embedded default), or connects to tenantlogd's native socket when
 * socket_path is not NULL. prog prefixes error messages, which go to
 * stderr. Returns 0 or a negative code.
 */
int tl__cli_out_open(const char *prog, const char *config_path,
                     const char *socket_path, struct tl__cli_out **out);

/* Sends one record. Returns 0 when it was handed over, though the daemon
 * may still reject it. Else returns a negative code, and the record
 * counts as failed. */
int tl__cli_out_log(struct tl__cli_out *o, const struct tl__cli_rec *r);

/* Sends one audit event that happened at ts_ns (0: now). Through the
 * library it returns once the event is durable. Returns 0 or a negative
 * code. */
int tl__cli_out_audit(struct tl__cli_out *o, const struct tl_audit_event *ev,
                      int64_t ts_ns);

/*
 * Closes the logger (draining it) or waits for every acknowledgement,
 * then fills *tally, counting the failures found at the end: drops,
 * fallback and write errors in tl_stats(), or daemon error frames and
 * missing acks. Frees o. Returns 0 when nothing failed, else -1.
 */
int tl__cli_out_close(struct tl__cli_out *o, struct tl__cli_tally *tally);

#endif
