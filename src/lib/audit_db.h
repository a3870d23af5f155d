/* The SQLite layout of the audit store, schema version 1, shared by the
 * writer (audit_store.c) and the reader (audit_read.c). Private to the
 * src/lib/audit_*.c files. */
#ifndef TL_LIB_AUDIT_DB_H
#define TL_LIB_AUDIT_DB_H

#include <sqlite3.h>

/* Stored in PRAGMA user_version, where 0 means an empty database. */
#define TL__AUDIT_SCHEMA_VERSION 1

/* How long a writer or reader waits for another process's lock. */
#define TL__AUDIT_BUSY_TIMEOUT_MS 10000

/* Column order of every INSERT and SELECT, matching enum tl__audit_col. */
#define TL__AUDIT_COLUMNS                                                      \
    "tenant, seq, ts_ns, actor_type, actor_id, action, target_type, "          \
    "target_id, outcome, reason, request_id, source, details, sender_pid, "    \
    "sender_uid, sender_gid, hash"

enum tl__audit_col {
    TL__COL_TENANT = 0,
    TL__COL_SEQ,
    TL__COL_TS_NS,
    TL__COL_ACTOR_TYPE,
    TL__COL_ACTOR_ID,
    TL__COL_ACTION,
    TL__COL_TARGET_TYPE,
    TL__COL_TARGET_ID,
    TL__COL_OUTCOME,
    TL__COL_REASON,
    TL__COL_REQUEST_ID,
    TL__COL_SOURCE,
    TL__COL_DETAILS,
    TL__COL_SENDER_PID,
    TL__COL_SENDER_UID,
    TL__COL_SENDER_GID,
    TL__COL_HASH,
    TL__COL_COUNT
};

/* Reads PRAGMA user_version into *out. Returns 0 or TL_ESTORE (the
 * message is in sqlite3_errmsg(db)). */
int tl__audit_db_version(sqlite3 *db, int *out);

#endif
