/* Internal entry points of the logger for the CLI and the tests: records
 * and audit events that carry their own time and context. */
#ifndef TL_LIB_LOGGER_H
#define TL_LIB_LOGGER_H

#include <stdbool.h>
#include <stdint.h>

#include "audit_store.h"
#include "record.h"

/* Queues a record built from src as given: the thread's context is not
 * read, src->ts_ns and src->msg_len are kept, and an invalid tenant id
 * is quarantined as in the daemon. Returns what tl_log returns. */
int tl__log_src(struct tl_logger *lg, const struct tl__record_src *src);

/* Appends rec, which the caller keeps owning, to its tenant's chain and
 * returns once it is durable, with rec->seq set. Blocks. Returns what
 * tl_audit returns. */
int tl__audit_rec_submit(struct tl_logger *lg, struct tl__audit_rec *rec);

/* Returns how many records are queued and not yet written. It reads two
 * atomic counters and nothing else, so it is async-signal-safe. A record
 * being pushed at that moment may be missing from the count. */
uint64_t tl__logger_backlog(void);

/* Returns true on the writer thread. Async-signal-safe. */
bool tl__logger_on_writer(void);

#endif
