/* Reading the audit store back, read-only: rows in chain order, and the
 * verification that recomputes every tenant's hash chain from them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/text.h"
#include "audit_db.h"
#include "audit_store.h"

#define SELECT_ALL                                                             \
    "SELECT " TL__AUDIT_COLUMNS " FROM audit_events ORDER BY tenant, seq"
#define SELECT_TENANT                                                          \
    "SELECT " TL__AUDIT_COLUMNS " FROM audit_events WHERE tenant = ?1"         \
    " ORDER BY seq"

/* The text columns and the record members they fill. */
static const struct {
    int col;
    size_t offset;
    const char *name;
    bool required; /* NOT NULL in the schema */
} text_cols[] = {
    {TL__COL_TENANT, offsetof(struct tl__audit_rec, tenant), "tenant", true},
    {TL__COL_ACTOR_TYPE, offsetof(struct tl__audit_rec, actor_type),
     "actor_type", true},
    {TL__COL_ACTOR_ID, offsetof(struct tl__audit_rec, actor_id), "actor_id",
     true},
    {TL__COL_ACTION, offsetof(struct tl__audit_rec, action), "action", true},
    {TL__COL_TARGET_TYPE, offsetof(struct tl__audit_rec, target_type),
     "target_type", false},
    {TL__COL_TARGET_ID, offsetof(struct tl__audit_rec, target_id), "target_id",
     false},
    {TL__COL_OUTCOME, offsetof(struct tl__audit_rec, outcome), "outcome", true},
    {TL__COL_REASON, offsetof(struct tl__audit_rec, reason), "reason", false},
    {TL__COL_REQUEST_ID, offsetof(struct tl__audit_rec, request_id),
     "request_id", false},
    {TL__COL_SOURCE, offsetof(struct tl__audit_rec, source), "source", false},
    {TL__COL_DETAILS, offsetof(struct tl__audit_rec, details), "details", true},
};

static bool utf8_valid(const char *s, size_t len)
{
    size_t i = 0, n;
    uint32_t cp;

    while (i < len) {
        n = tl__utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

/* Points *out at a text column. Returns false when the store cannot have
 * written the value, which has the wrong type, is NULL in a NOT NULL
 * column, or contains a NUL byte (the encoding would stop there) or
 * invalid UTF-8 (the encoding would replace it). */
static bool text_load(sqlite3_stmt *s, int col, bool required, char **out)
{
    int type = sqlite3_column_type(s, col);
    const char *text;
    size_t len;

    *out = NULL;
    if (type == SQLITE_NULL) {
        return !required;
    }
    if (type != SQLITE_TEXT) {
        return false;
    }
    text = (const char *)sqlite3_column_text(s, col);
    len = (size_t)sqlite3_column_bytes(s, col);
    *out = (char *)text;
    return text != NULL && strlen(text) == len && utf8_valid(text, len);
}

static bool int_load(sqlite3_stmt *s, int col, int64_t min, int64_t max,
                     int64_t *out)
{
    if (sqlite3_column_type(s, col) != SQLITE_INTEGER) {
        return false;
    }
    *out = sqlite3_column_int64(s, col);
    return *out >= min && *out <= max;
}

/* The sender is three NULLs or three integers in range. */
static bool sender_load(sqlite3_stmt *s, struct tl__cred *cred)
{
    int64_t pid, uid, gid;
    int nulls = (sqlite3_column_type(s, TL__COL_SENDER_PID) == SQLITE_NULL) +
                (sqlite3_column_type(s, TL__COL_SENDER_UID) == SQLITE_NULL) +
                (sqlite3_column_type(s, TL__COL_SENDER_GID) == SQLITE_NULL);

    if (nulls == 3) {
        return true;
    }
    if (!int_load(s, TL__COL_SENDER_PID, INT32_MIN, INT32_MAX, &pid) ||
        !int_load(s, TL__COL_SENDER_UID, 0, UINT32_MAX, &uid) ||
        !int_load(s, TL__COL_SENDER_GID, 0, UINT32_MAX, &gid)) {
        return false;
    }
    cred->set = true;
    cred->pid = (pid_t)pid;
    cred->uid = (uid_t)uid;
    cred->gid = (gid_t)gid;
    return true;
}

/* Fills row from the current result row; row->invalid names the first
 * column that has no exact canonical encoding. */
static void row_load(sqlite3_stmt *s, struct tl__audit_row *row)
{
    int64_t seq = 0, ts_ns = 0;
    size_t i;

    memset(row, 0, sizeof(*row));
    for (i = 0; i < sizeof(text_cols) / sizeof(text_cols[0]); i++) {
        char **member = (char **)((char *)&row->rec + text_cols[i].offset);

        if (!text_load(s, text_cols[i].col, text_cols[i].required, member) &&
            row->invalid == NULL) {
            row->invalid = text_cols[i].name;
        }
    }
    if (!int_load(s, TL__COL_SEQ, 1, INT64_MAX, &seq)) {
        row->invalid = "seq";
    }
    /* The canonical form has microseconds, so nanoseconds must be 000. */
    if ((!int_load(s, TL__COL_TS_NS, INT64_MIN, INT64_MAX, &ts_ns) ||
         ts_ns % 1000 != 0) &&
        row->invalid == NULL) {
        row->invalid = "ts_ns";
    }
    if (!sender_load(s, &row->rec.cred) && row->invalid == NULL) {
        row->invalid = "sender";
    }
    if (sqlite3_column_type(s, TL__COL_HASH) != SQLITE_BLOB &&
        row->invalid == NULL) {
        row->invalid = "hash";
    }
    row->rec.seq = (uint64_t)seq;
    row->rec.ts_ns = ts_ns;
    row->hash = sqlite3_column_blob(s, TL__COL_HASH);
    row->hash_len = (size_t)sqlite3_column_bytes(s, TL__COL_HASH);
}

/* Opens path read-only, so reading never changes the database, and
 * checks that it is an audit store this build can read. */
static int db_open_ro(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int version = -1, result = TL_ESTORE;

    /* SQLite reports only "unable to open database file" for a missing or
     * unreadable file, so check first and report the errno. */
    if (access(path, R_OK) != 0) {
        result = errno;
        tl__errf(err, errlen, "cannot open audit database %s: %s", path,
                 strerror(result));
        return TL_ESTORE;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        tl__errf(err, errlen, "cannot open audit database %s: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return TL_ESTORE;
    }
    sqlite3_busy_timeout(db, TL__AUDIT_BUSY_TIMEOUT_MS);
    if (tl__audit_db_version(db, &version) != 0) {
        tl__errf(err, errlen, "cannot read audit database %s: %s", path,
                 sqlite3_errmsg(db));
    } else if (version == 0) {
        tl__errf(err, errlen,
                 "%s is not a tenantlog audit database (schema "
                 "version 0)",
                 path);
    } else if (version != TL__AUDIT_SCHEMA_VERSION) {
        tl__errf(err, errlen,
                 "audit database %s has schema version %d; this "
                 "tenantlog reads version %d only",
                 path, version, TL__AUDIT_SCHEMA_VERSION);
    } else {
        result = 0;
    }
    if (result != 0) {
        sqlite3_close(db);
        return result;
    }
    *out = db;
    return 0;
}

static int rows_walk(sqlite3 *db, sqlite3_stmt *s, const char *path,
                     tl__audit_row_fn fn, void *user, char *err, size_t errlen,
                     uint64_t *count)
{
    struct tl__audit_row row;
    int rc, result;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        row_load(s, &row);
        (*count)++;
        result = fn(user, &row);
        if (result != 0) {
            return result;
        }
    }
    if (rc != SQLITE_DONE) {
        tl__errf(err, errlen, "cannot read audit database %s: %s", path,
                 sqlite3_errmsg(db));
        return TL_ESTORE;
    }
    return 0;
}

int tl__audit_read(const char *path, const char *tenant, tl__audit_row_fn fn,
                   void *user, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    sqlite3 *db = NULL;
    uint64_t count = 0;
    int result;

    if (tenant != NULL && !tl_tenant_valid(tenant)) {
        tl__errf(err, errlen,
                 "invalid tenant id \"%s\": expected "
                 "[A-Za-z0-9][A-Za-z0-9._-]{0,63}",
                 tenant);
        return TL_ETENANT;
    }
    result = db_open_ro(path, &db, err, errlen);
    if (result != 0) {
        return result;
    }
    if (sqlite3_prepare_v2(db, tenant ? SELECT_TENANT : SELECT_ALL, -1, &s,
                           NULL) != SQLITE_OK) {
        tl__errf(err, errlen, "cannot read audit database %s: %s", path,
                 sqlite3_errmsg(db));
        result = TL_ESTORE;
        goto done;
    }
    if (tenant != NULL) {
        sqlite3_bind_text(s, 1, tenant, -1, SQLITE_STATIC);
    }
    result = rows_walk(db, s, path, fn, user, err, errlen, &count);
    if (result == 0 && tenant != NULL && count == 0) {
        tl__errf(err, errlen, "no audit rows for tenant %s in %s", tenant,
                 path);
        result = TL_ETENANT;
    }
done:
    sqlite3_finalize(s);
    sqlite3_close(db);
    return result;
}

/* State of a verification: the chain of the tenant being read. */
struct verify {
    tl__audit_verdict_fn fn;
    void *user;
    struct tl__audit_verdict v;
    char *tenant;      /* owned copy of v.tenant */
    uint64_t expected; /* the seq the next row must have */
    uint8_t prev[TL__HASH_LEN];
    struct tl__buf canonical;
    char problem[64];
    bool broken; /* some chain is broken */
    int error;   /* a failure while checking, not a broken chain */
};

static void verdict_emit(struct verify *vf)
{
    if (vf->tenant == NULL) {
        return;
    }
    vf->v.tenant = vf->tenant;
    vf->fn(vf->user, &vf->v);
    vf->broken |= vf->v.first_bad != 0;
    free(vf->tenant);
    vf->tenant = NULL;
}

static int tenant_start(struct verify *vf, const char *tenant)
{
    verdict_emit(vf);
    vf->tenant = strdup(tenant);
    if (vf->tenant == NULL) {
        return -ENOMEM;
    }
    memset(&vf->v, 0, sizeof(vf->v));
    vf->expected = 1;
    memset(vf->prev, 0, sizeof(vf->prev));
    return 0;
}

static void mark_bad(struct verify *vf, uint64_t seq, const char *problem)
{
    vf->v.first_bad = seq;
    vf->v.problem = problem;
}

/* Checks one row against the chain so far. Seqs arrive in ascending
 * order, so a seq above the expected one means rows are missing, and one
 * below it a duplicate (possible only once UNIQUE is dropped). */
static int chain_step(struct verify *vf, const struct tl__audit_row *row)
{
    uint8_t hash[TL__HASH_LEN];
    int result;

    if (row->invalid != NULL) {
        snprintf(vf->problem, sizeof(vf->problem),
                 "invalid value in column "
                 "%s",
                 row->invalid);
    }
    if (row->invalid != NULL && strcmp(row->invalid, "seq") == 0) {
        mark_bad(vf, vf->expected, vf->problem);
    } else if (row->rec.seq > vf->expected) {
        mark_bad(vf, vf->expected, "missing row");
    } else if (row->rec.seq < vf->expected) {
        mark_bad(vf, row->rec.seq, "duplicate seq");
    } else if (row->invalid != NULL) {
        mark_bad(vf, row->rec.seq, vf->problem);
    }
    if (vf->v.first_bad != 0) {
        return 0;
    }
    tl__buf_reset(&vf->canonical);
    tl__audit_canonical(&vf->canonical, &row->rec, row->rec.seq);
    if (vf->canonical.oom) {
        return -ENOMEM;
    }
    result =
        tl__audit_hash(vf->prev, vf->canonical.data, vf->canonical.len, hash);
    if (result != 0) {
        return result;
    }
    if (row->hash_len != TL__HASH_LEN ||
        memcmp(hash, row->hash, TL__HASH_LEN) != 0) {
        mark_bad(vf, row->rec.seq, "hash mismatch");
        return 0;
    }
    memcpy(vf->prev, row->hash, TL__HASH_LEN);
    vf->expected++;
    return 0;
}

static int verify_row(void *user, const struct tl__audit_row *row)
{
    struct verify *vf = user;
    /* A NULL tenant is itself reported, as an invalid column. */
    const char *tenant = row->rec.tenant ? row->rec.tenant : "(null)";
    int result;

    if (vf->tenant == NULL || strcmp(vf->tenant, tenant) != 0) {
        result = tenant_start(vf, tenant);
        if (result != 0) {
            vf->error = result;
            return result;
        }
    }
    if (vf->v.first_bad != 0) {
        return 0; /* only the first break of a chain is reported */
    }
    vf->v.rows++;
    vf->error = chain_step(vf, row);
    return vf->error;
}

/* NOTE: rows removed from the end of a chain leave a shorter chain that
 * is still intact, and a tenant whose rows are all removed disappears.
 * Neither is detectable without a checkpoint of each chain's length and
 * last hash kept outside the database. */
int tl__audit_verify(const char *path, const char *tenant,
                     tl__audit_verdict_fn fn, void *user, char *err,
                     size_t errlen)
{
    struct verify vf = {.fn = fn, .user = user};
    int result;

    tl__buf_init(&vf.canonical);
    result = tl__audit_read(path, tenant, verify_row, &vf, err, errlen);
    if (result == 0) {
        verdict_emit(&vf);
    } else if (vf.error != 0) {
        tl__errf(err, errlen, "verifying %s failed: %s", path,
                 tl_strerror(vf.error));
    }
    free(vf.tenant);
    tl__buf_free(&vf.canonical);
    if (result != 0) {
        return result;
    }
    return vf.broken ? TL_ECHAIN : 0;
}
