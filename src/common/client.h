/* A client of tenantlogd's native protocol (docs/protocol.md): frames of
 * a 4-byte big-endian length and a JSON object, acked by sequence
 * number. Used by the CLI and the tests. Not thread-safe. */
#ifndef TL_COMMON_CLIENT_H
#define TL_COMMON_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define TL__FRAME_MAX (1u << 20) /* largest frame body, bytes */

/* Maximum lengths tenantlogd accepts in a frame, in bytes of UTF-8.
 * Request, trace and span ids have TL__ID_MAX from common/text.h. */
#define TL__PROTO_LOGGER_MAX 256     /* a record's logger name */
#define TL__PROTO_QUARANTINE_MAX 256 /* an invalid tenant id in a record */
#define TL__PROTO_AUDIT_STR_MAX 256  /* actor id, target id, source, ... */

struct tl__client;

/* Called for each error frame the daemon sends: the rejected frame's
 * sequence number, the error code and its message. */
typedef void (*tl__client_error_fn)(void *user, uint64_t seq, const char *code,
                                    const char *message);

/* Connects to the Unix stream socket at path. Returns 0 or a negated
 * errno. */
int tl__client_connect(const char *path, struct tl__client **out);

/* Sets the error callback (default: none, errors are only counted). */
void tl__client_on_error(struct tl__client *c, tl__client_error_fn fn,
                         void *user);

/* Assigns the next sequence number to obj (member "seq"), sends it as one
 * frame and stores the number in *seq_out when not NULL. Reads acks when
 * more than window frames are unacknowledged (window 0 means 1024).
 * Borrowed obj is modified. Returns 0 or a negative code. */
int tl__client_send(struct tl__client *c, json_t *obj, uint64_t *seq_out);

/* Waits until every frame sent is acknowledged or timeout_ms passes.
 * Returns 0, TL_ETIMEDOUT, or TL_EPROTO when the connection closed. */
int tl__client_flush(struct tl__client *c, int timeout_ms);

/* Highest sequence number acknowledged so far. */
uint64_t tl__client_acked(const struct tl__client *c);

/* Number of error frames received so far. */
uint64_t tl__client_errors(const struct tl__client *c);

/* For an audit frame: the per-tenant audit sequence number the daemon
 * assigned to frame seq, or 0 when not (yet) known. */
uint64_t tl__client_audit_seq(const struct tl__client *c, uint64_t seq);

void tl__client_close(struct tl__client *c);

#endif
