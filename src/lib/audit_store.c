/* The SQLite audit store: schema setup, and group commits that give each
 * event the next sequence number and chain hash of its tenant. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/text.h"
#include "audit_db.h"
#include "audit_store.h"
#include "sink.h"

/* Audit data is sensitive, so the folder and the database are not
 * world-readable. SQLite gives the -wal and -shm files the database's
 * mode. */
#define DIR_MODE 0750
#define FILE_MODE 0640
#define WAL_TRIES 100

/* Schema version 1. The triggers stop accidental edits through SQL. They
 * are no defence against a deliberate edit, which the hash chain reveals. */
static const char schema_sql[] =
    "CREATE TABLE audit_events ("
    " tenant TEXT NOT NULL,"
    " seq INTEGER NOT NULL CHECK (seq >= 1),"
    " ts_ns INTEGER NOT NULL,"
    " actor_type TEXT NOT NULL,"
    " actor_id TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " target_type TEXT,"
    " target_id TEXT,"
    " outcome TEXT NOT NULL"
    "  CHECK (outcome IN ('success', 'failure', 'denied')),"
    " reason TEXT,"
    " request_id TEXT,"
    " source TEXT,"
    " details TEXT NOT NULL,"
    " sender_pid INTEGER,"
    " sender_uid INTEGER,"
    " sender_gid INTEGER,"
    " hash BLOB NOT NULL CHECK (length(hash) = 32),"
    " UNIQUE (tenant, seq));"
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events"
    " BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events"
    " BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
    "PRAGMA user_version = 1;";

enum stmt_id {
    STMT_BEGIN = 0,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_LAST,
    STMT_INSERT,
    STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    /* Runs inside the batch's transaction, so it reads the rows this batch
     * has inserted so far. */
    [STMT_LAST] = "SELECT seq, hash FROM audit_events WHERE tenant = ?1"
                  " ORDER BY seq DESC LIMIT 1",
    [STMT_INSERT] = "INSERT INTO audit_events (" TL__AUDIT_COLUMNS ")"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
                    " ?12, ?13, ?14, ?15, ?16, ?17)",
};

struct tl__audit_store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmts[STMT_COUNT];
    struct tl__buf canonical; /* scratch for one event */
    char why[256];            /* what failed in the current batch */
};

int tl__audit_db_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : TL_ESTORE;
}

/* Creates every missing folder above path, like mkdir -p. */
static int parents_create(const char *path, char *err, size_t errlen)
{
    char *copy = strdup(path), *slash;
    int result = 0;

    if (copy == NULL) {
        return -ENOMEM;
    }
    for (slash = strchr(copy + 1, '/'); slash != NULL;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(copy, DIR_MODE) != 0 && errno != EEXIST) {
            result = -errno;
            tl__errf(err, errlen, "cannot create folder %s: %s", copy,
                     strerror(-result));
            break;
        }
        *slash = '/';
    }
    free(copy);
    return result;
}

/* Creates the database file with FILE_MODE before SQLite opens it, since
 * SQLite would create it with 0644 less the umask. */
static int file_create(const char *path, char *err, size_t errlen)
{
    int fd, result;

    result = parents_create(path, err, errlen);
    if (result != 0) {
        return result;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, FILE_MODE);
    if (fd < 0) {
        result = -errno;
        tl__errf(err, errlen, "cannot open audit database %s: %s", path,
                 strerror(-result));
        return result;
    }
    close(fd);
    return 0;
}

static int exec_sql(struct tl__audit_store *st, const char *sql, char *err,
                    size_t errlen)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        tl__errf(err, errlen, "audit database %s: %s: %s", st->path, sql,
                 sqlite3_errmsg(st->db));
        return TL_ESTORE;
    }
    return 0;
}

/* Runs PRAGMA journal_mode = WAL once. Returns true when the database is
 * in WAL mode afterwards, else copies the mode or the error to why. */
static bool wal_switch(struct tl__audit_store *st, char *why, size_t whylen)
{
    const unsigned char *mode = NULL;
    sqlite3_stmt *s = NULL;
    bool wal;

    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        mode = sqlite3_column_text(s, 0);
    }
    wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
    if (!wal) {
        tl__errf(why, whylen, "%s",
                 mode ? (const char *)mode : sqlite3_errmsg(st->db));
    }
    sqlite3_finalize(s);
    return wal;
}

/* Switches to WAL (checked, because SQLite keeps the old mode when the
 * file system cannot share memory) and fsyncs at every commit. The switch
 * needs an exclusive lock, which the busy timeout does not wait for while
 * another process creates the same new database, so it is tried for up
 * to WAL_TRIES times 20 ms. */
static int db_configure(struct tl__audit_store *st, char *err, size_t errlen)
{
    const struct timespec pause = {0, 20000000};
    char why[256] = "";
    int tries = 0;

    sqlite3_busy_timeout(st->db, TL__AUDIT_BUSY_TIMEOUT_MS);
    while (!wal_switch(st, why, sizeof(why))) {
        if (++tries == WAL_TRIES) {
            tl__errf(err, errlen,
                     "audit database %s: cannot switch to WAL mode: %s",
                     st->path, why);
            return TL_ESTORE;
        }
        nanosleep(&pause, NULL);
    }
    return exec_sql(st, "PRAGMA synchronous = FULL", err, errlen);
}

/* Creates the schema in an empty database. A database with tables but no
 * schema version belongs to someone else and is left alone. */
static int schema_create(struct tl__audit_store *st, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int objects = -1;

    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master", -1, &s,
                           NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        objects = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    if (objects < 0) {
        tl__errf(err, errlen, "cannot read audit database %s: %s", st->path,
                 sqlite3_errmsg(st->db));
        return TL_ESTORE;
    }
    if (objects > 0) {
        tl__errf(err, errlen,
                 "%s is not a tenantlog audit database: it has "
                 "tables but no schema version; choose another path",
                 st->path);
        return TL_ESTORE;
    }
    return exec_sql(st, schema_sql, err, errlen);
}

/* Creates or checks the schema in one write transaction, so two processes
 * opening a new database at once cannot both create it. */
static int schema_ensure(struct tl__audit_store *st, char *err, size_t errlen)
{
    int version = -1, result;

    result = exec_sql(st, "BEGIN IMMEDIATE", err, errlen);
    if (result != 0) {
        return result;
    }
    if (tl__audit_db_version(st->db, &version) != 0) {
        tl__errf(err, errlen, "cannot read audit database %s: %s", st->path,
                 sqlite3_errmsg(st->db));
        result = TL_ESTORE;
    } else if (version == 0) {
        result = schema_create(st, err, errlen);
    } else if (version != TL__AUDIT_SCHEMA_VERSION) {
        tl__errf(err, errlen,
                 "audit database %s has schema version %d; this "
                 "tenantlog reads version %d only",
                 st->path, version, TL__AUDIT_SCHEMA_VERSION);
        result = TL_ESTORE;
    }
    if (result == 0) {
        return exec_sql(st, "COMMIT", err, errlen);
    }
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return result;
}

static int stmts_prepare(struct tl__audit_store *st, char *err, size_t errlen)
{
    size_t i;

    for (i = 0; i < STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &st->stmts[i],
                               NULL) != SQLITE_OK) {
            tl__errf(err, errlen, "audit database %s: cannot prepare %s: %s",
                     st->path, stmt_sql[i], sqlite3_errmsg(st->db));
            return TL_ESTORE;
        }
    }
    return 0;
}

static int db_open(struct tl__audit_store *st, char *err, size_t errlen)
{
    int result;

    result = file_create(st->path, err, errlen);
    if (result != 0) {
        return result;
    }
    if (sqlite3_open_v2(st->path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        tl__errf(err, errlen, "cannot open audit database %s: %s", st->path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        return TL_ESTORE;
    }
    result = db_configure(st, err, errlen);
    if (result == 0) {
        result = schema_ensure(st, err, errlen);
    }
    if (result == 0) {
        result = stmts_prepare(st, err, errlen);
    }
    return result;
}

int tl__audit_store_open(const char *path, struct tl__audit_store **out,
                         char *err, size_t errlen)
{
    struct tl__audit_store *st;
    int result;

    if (path == NULL || path[0] == '\0') {
        tl__errf(err, errlen, "no audit database path configured");
        return TL_ESTORE;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL || (st->path = strdup(path)) == NULL) {
        free(st);
        tl__errf(err, errlen, "audit database %s: out of memory", path);
        return -ENOMEM;
    }
    tl__buf_init(&st->canonical);
    result = db_open(st, err, errlen);
    if (result != 0) {
        tl__audit_store_close(st);
        return result;
    }
    *out = st;
    return 0;
}

void tl__audit_store_close(struct tl__audit_store *st)
{
    size_t i;

    if (st == NULL) {
        return;
    }
    for (i = 0; i < STMT_COUNT; i++) {
        sqlite3_finalize(st->stmts[i]);
    }
    /* The last connection to close checkpoints the WAL into the file. */
    sqlite3_close(st->db);
    tl__buf_free(&st->canonical);
    free(st->path);
    free(st);
}

/* Runs a statement that returns no rows. */
static int stmt_run(struct tl__audit_store *st, enum stmt_id id)
{
    sqlite3_stmt *s = st->stmts[id];
    int rc = sqlite3_step(s);

    if (rc != SQLITE_DONE) {
        tl__errf(st->why, sizeof(st->why), "%s: %s", stmt_sql[id],
                 sqlite3_errmsg(st->db));
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : TL_ESTORE;
}

/* Reads the tenant's last seq and hash, or 0 and 32 zero bytes for a
 * tenant without rows. */
static int chain_tail(struct tl__audit_store *st, const char *tenant,
                      uint64_t *seq, uint8_t hash[TL__HASH_LEN])
{
    sqlite3_stmt *s = st->stmts[STMT_LAST];
    int rc, result = 0;

    sqlite3_bind_text(s, 1, tenant, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        *seq = 0;
        memset(hash, 0, TL__HASH_LEN);
    } else if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0) >= 1 &&
               sqlite3_column_bytes(s, 1) == TL__HASH_LEN) {
        *seq = (uint64_t)sqlite3_column_int64(s, 0);
        memcpy(hash, sqlite3_column_blob(s, 1), TL__HASH_LEN);
    } else if (rc == SQLITE_ROW) {
        tl__errf(st->why, sizeof(st->why),
                 "the last row of tenant %s has "
                 "an invalid seq or hash; run tenantlog audit verify",
                 tenant);
        result = TL_ESTORE;
    } else {
        tl__errf(st->why, sizeof(st->why),
                 "reading the last row of tenant "
                 "%s: %s",
                 tenant, sqlite3_errmsg(st->db));
        result = TL_ESTORE;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return result;
}

static void bind_text(sqlite3_stmt *s, int index, const char *text)
{
    if (text == NULL) {
        sqlite3_bind_null(s, index);
    } else {
        sqlite3_bind_text(s, index, text, -1, SQLITE_STATIC);
    }
}

static void bind_sender(sqlite3_stmt *s, const struct tl__cred *cred)
{
    if (!cred->set) {
        return; /* cleared bindings are NULL */
    }
    sqlite3_bind_int64(s, TL__COL_SENDER_PID + 1, (sqlite3_int64)cred->pid);
    sqlite3_bind_int64(s, TL__COL_SENDER_UID + 1, (sqlite3_int64)cred->uid);
    sqlite3_bind_int64(s, TL__COL_SENDER_GID + 1, (sqlite3_int64)cred->gid);
}

static int row_insert(struct tl__audit_store *st,
                      const struct tl__audit_rec *rec, uint64_t seq,
                      const uint8_t hash[TL__HASH_LEN])
{
    sqlite3_stmt *s = st->stmts[STMT_INSERT];

    bind_text(s, TL__COL_TENANT + 1, rec->tenant);
    sqlite3_bind_int64(s, TL__COL_SEQ + 1, (sqlite3_int64)seq);
    sqlite3_bind_int64(s, TL__COL_TS_NS + 1, rec->ts_ns);
    bind_text(s, TL__COL_ACTOR_TYPE + 1, rec->actor_type);
    bind_text(s, TL__COL_ACTOR_ID + 1, rec->actor_id);
    bind_text(s, TL__COL_ACTION + 1, rec->action);
    bind_text(s, TL__COL_TARGET_TYPE + 1, rec->target_type);
    bind_text(s, TL__COL_TARGET_ID + 1, rec->target_id);
    bind_text(s, TL__COL_OUTCOME + 1, rec->outcome);
    bind_text(s, TL__COL_REASON + 1, rec->reason);
    bind_text(s, TL__COL_REQUEST_ID + 1, rec->request_id);
    bind_text(s, TL__COL_SOURCE + 1, rec->source);
    bind_text(s, TL__COL_DETAILS + 1, rec->details ? rec->details : "{}");
    bind_sender(s, &rec->cred);
    sqlite3_bind_blob(s, TL__COL_HASH + 1, hash, TL__HASH_LEN, SQLITE_STATIC);
    return stmt_run(st, STMT_INSERT);
}

/* Rounds down to whole microseconds, the precision of the canonical
 * timestamp, so the stored value re-encodes to the same bytes. */
static int64_t ts_truncate_us(int64_t ts_ns)
{
    int64_t rem = ts_ns % 1000;

    return rem < 0 ? ts_ns - rem - 1000 : ts_ns - rem;
}

static int append_one(struct tl__audit_store *st, struct tl__audit_rec *rec)
{
    uint8_t prev[TL__HASH_LEN], hash[TL__HASH_LEN];
    uint64_t seq;
    int result;

    result = chain_tail(st, rec->tenant, &seq, prev);
    if (result != 0) {
        return result;
    }
    seq++;
    rec->ts_ns = ts_truncate_us(rec->ts_ns);
    tl__buf_reset(&st->canonical);
    tl__audit_canonical(&st->canonical, rec, seq);
    if (st->canonical.oom) {
        tl__errf(st->why, sizeof(st->why), "out of memory");
        return -ENOMEM;
    }
    result = tl__audit_hash(prev, st->canonical.data, st->canonical.len, hash);
    if (result != 0) {
        tl__errf(st->why, sizeof(st->why), "SHA-256 failed in OpenSSL");
        return result;
    }
    result = row_insert(st, rec, seq, hash);
    if (result == 0) {
        rec->seq = seq;
    }
    return result;
}

/* Rolls back a failed batch and sets TL_ESTORE on every event of it that
 * was valid. */
static void batch_fail(struct tl__audit_store *st, struct tl__audit_rec **recs,
                       size_t n, size_t valid)
{
    size_t i;

    if (!sqlite3_get_autocommit(st->db)) {
        (void)stmt_run(st, STMT_ROLLBACK);
    }
    for (i = 0; i < n; i++) {
        if (recs[i]->result == 0) {
            recs[i]->result = TL_ESTORE;
            recs[i]->seq = 0;
        }
    }
    tl__diag("audit store %s: batch of %zu events not committed: %s", st->path,
             valid, st->why);
}

int tl__audit_store_append(struct tl__audit_store *st,
                           struct tl__audit_rec **recs, size_t n)
{
    size_t i, valid = 0;
    int result;

    for (i = 0; i < n; i++) {
        recs[i]->seq = 0;
        recs[i]->result = tl__audit_rec_check(recs[i], NULL, 0);
        valid += recs[i]->result == 0;
    }
    if (valid == 0) {
        return 0;
    }
    result = stmt_run(st, STMT_BEGIN);
    for (i = 0; result == 0 && i < n; i++) {
        if (recs[i]->result == 0) {
            result = append_one(st, recs[i]);
        }
    }
    if (result == 0) {
        result = stmt_run(st, STMT_COMMIT);
    }
    if (result != 0) {
        batch_fail(st, recs, n, valid);
        return TL_ESTORE;
    }
    return 0;
}
