/* The audit store: per-tenant hash chains in SQLite. Used by the
 * library's writer thread, the daemon and `tenantlog audit`. A store
 * handle belongs to one thread at a time. */
#ifndef TL_LIB_AUDIT_STORE_H
#define TL_LIB_AUDIT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "record.h"
#include "tenantlog/tenantlog.h"

#define TL__HASH_LEN 32 /* SHA-256 */

/* One audit event, owned (every string is heap-allocated, or NULL). */
struct tl__audit_rec {
    int64_t ts_ns;
    char *tenant;     /* required, valid tenant id */
    char *actor_type; /* required */
    char *actor_id;   /* required */
    char *action;     /* required */
    char *target_type;
    char *target_id;
    char *outcome; /* "success", "failure" or "denied" */
    char *reason;
    char *request_id;
    char *source;
    char *details;        /* a JSON object as text, "{}" when none */
    struct tl__cred cred; /* the sender, when it came through the daemon */
    uint64_t seq;         /* assigned by tl__audit_store_append */
    int result;           /* 0, or why this event was rejected */
};

/* Builds a record from the public event, filling tenant and request id
 * from ctx_tenant and ctx_request_id when the event leaves them NULL.
 * Returns 0, TL_ETENANT, TL_EINVAL (naming the missing member through
 * tl__diag) or -ENOMEM. */
int tl__audit_rec_from_event(const struct tl_audit_event *ev,
                             const char *ctx_tenant, const char *ctx_request_id,
                             struct tl__audit_rec **out);
void tl__audit_rec_free(struct tl__audit_rec *rec);

/* Checks rec as tl__audit_store_append does: tenant present and valid,
 * actor_type, actor_id and action present and not empty, outcome one of
 * the three names, every string valid UTF-8, details NULL or one JSON
 * object on one line. Returns 0, TL_ETENANT or TL_EINVAL, and when err is
 * not NULL writes what is wrong to it (at most errlen bytes). */
int tl__audit_rec_check(const struct tl__audit_rec *rec, char *err,
                        size_t errlen);

/* Appends the canonical encoding, version 1, of rec with sequence seq to
 * b. The hash of a row is SHA-256(previous hash || canonical), with 32
 * zero bytes before the first row of a tenant. */
void tl__audit_canonical(struct tl__buf *b, const struct tl__audit_rec *rec,
                         uint64_t seq);

/* Computes SHA-256(prev || canonical[0..len)) into out. Returns 0, or
 * TL_ESTORE when OpenSSL fails (no memory or no SHA-256 provider). */
int tl__audit_hash(const uint8_t prev[TL__HASH_LEN], const char *canonical,
                   size_t len, uint8_t out[TL__HASH_LEN]);

struct tl__audit_store;

/* Opens (creating when missing, with its folder) the SQLite database at
 * path in WAL mode with synchronous=FULL. On failure returns TL_ESTORE or
 * a negated errno, and writes a message naming the path to err. */
int tl__audit_store_open(const char *path, struct tl__audit_store **out,
                         char *err, size_t errlen);

/* Appends the n events in one transaction (a group commit): each gets
 * the next sequence number of its tenant and its chain hash. Returns 0
 * once the commit is durable; on failure nothing is committed, every
 * rec->result is set, and the return value is TL_ESTORE. */
int tl__audit_store_append(struct tl__audit_store *st,
                           struct tl__audit_rec **recs, size_t n);

void tl__audit_store_close(struct tl__audit_store *st);

/* The verification result for one tenant. */
struct tl__audit_verdict {
    const char *tenant;
    uint64_t rows;       /* rows checked */
    uint64_t first_bad;  /* first bad sequence number, 0 when intact */
    const char *problem; /* "hash mismatch", "missing row", ... or NULL;
                            valid during the callback only */
};

typedef void (*tl__audit_verdict_fn)(void *user,
                                     const struct tl__audit_verdict *v);

/* Verifies every chain in the database at path, or only tenant's when
 * tenant is not NULL, calling fn once per tenant. Returns 0 when every
 * chain checked is intact, TL_ECHAIN when one is not, TL_ESTORE (message
 * in err) when the database cannot be read, TL_ETENANT for an unknown
 * tenant. */
int tl__audit_verify(const char *path, const char *tenant,
                     tl__audit_verdict_fn fn, void *user, char *err,
                     size_t errlen);

/* One stored row as read back. The strings of rec point into SQLite's
 * memory and are valid during the callback only; rec.seq is the stored
 * sequence number. */
struct tl__audit_row {
    struct tl__audit_rec rec;
    const uint8_t *hash;
    size_t hash_len;
    /* The first column whose stored value has no exact canonical encoding
     * (wrong type, NUL byte, invalid UTF-8, sub-microsecond time), so the
     * row cannot be verified; NULL when every column is usable. */
    const char *invalid;
};

/* Receives one row; a non-zero return stops the read and is returned. */
typedef int (*tl__audit_row_fn)(void *user, const struct tl__audit_row *row);

/* Reads the rows of the database at path, only tenant's when tenant is
 * not NULL, ordered by tenant and then seq, calling fn for each. Opens
 * the database read-only. Returns 0, fn's non-zero value, TL_ESTORE when
 * the database cannot be read, or TL_ETENANT when tenant is invalid or
 * has no rows. Every error except fn's comes with a message in err. */
int tl__audit_read(const char *path, const char *tenant, tl__audit_row_fn fn,
                   void *user, char *err, size_t errlen);

#endif
