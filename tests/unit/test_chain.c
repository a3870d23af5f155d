/* Unit tests of the audit chain: canonical encoding, hashes, sequence
 * numbers, rejected events, and verification of tampered databases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "lib/audit_store.h"
#include "tenantlog/tenantlog.h"

#define TS_2017 1494892800008000000LL /* 2017-05-16T00:00:00.008000Z */
#define VERDICTS_MAX 8

struct fixture {
    char dir[64];
    char db[96];
};

struct verdict_copy {
    char tenant[80];
    uint64_t rows;
    uint64_t first_bad;
    char problem[80];
};

struct verdicts {
    size_t n;
    struct verdict_copy v[VERDICTS_MAX];
};

static char last_diag[512];

static void diag_capture(void *user, const char *message)
{
    (void)user;
    snprintf(last_diag, sizeof(last_diag), "%s", message);
}

static int fixture_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_chain.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->db, sizeof(fx->db), "%s/audit.db", fx->dir);
    tl_diag_set(diag_capture, NULL);
    last_diag[0] = '\0';
    *state = fx;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *fx = *state;
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[128];
    size_t i;

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", fx->db, suffixes[i]);
        unlink(path);
    }
    rmdir(fx->dir);
    free(fx);
    tl_diag_set(NULL, NULL);
    return 0;
}

/* The record of the golden tests, with every member set. */
static struct tl__audit_rec golden_rec(void)
{
    struct tl__audit_rec rec = {
        .ts_ns = TS_2017,
        .tenant = "acme",
        .actor_type = "user",
        .actor_id = "alice",
        .action = "db.update",
        .target_type = "table",
        .target_id = "instances",
        .outcome = "denied",
        .reason = "quota \"exceeded\"\n",
        .request_id = "req-1",
        .details = "{\"rows\":3}",
        .cred = {.set = true, .pid = 42, .uid = 1000, .gid = 100},
    };

    return rec;
}

static void hex_encode(const uint8_t *bytes, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", bytes[i]);
    }
}

static void canonical_golden(void **state)
{
    struct tl__audit_rec rec = golden_rec();
    struct tl__buf b;

    (void)state;
    tl__buf_init(&b);
    tl__audit_canonical(&b, &rec, 7);
    assert_string_equal(
        tl__buf_cstr(&b),
        "{\"v\":1,\"tenant\":\"acme\",\"seq\":7,"
        "\"ts\":\"2017-05-16T00:00:00.008000Z\","
        "\"actor\":{\"type\":\"user\",\"id\":\"alice\"},"
        "\"action\":\"db.update\","
        "\"target\":{\"type\":\"table\",\"id\":\"instances\"},"
        "\"outcome\":\"denied\",\"reason\":\"quota \\\"exceeded\\\"\\n\","
        "\"request_id\":\"req-1\",\"source\":null,"
        "\"details\":{\"rows\":3},"
        "\"sender\":{\"pid\":42,\"uid\":1000,\"gid\":100}}");
    tl__buf_free(&b);
}

static void canonical_nulls(void **state)
{
    struct tl__audit_rec rec = {
        .ts_ns = 0,
        .tenant = "t-1",
        .actor_type = "service",
        .actor_id = "zo\xc3\xab\xe2\x80\xa8", /* U+00EB, then U+2028 */
        .action = "auth.login",
        .outcome = "success",
        .source = "10.0.0.1",
    };
    struct tl__buf b;

    (void)state;
    tl__buf_init(&b);
    tl__audit_canonical(&b, &rec, 1);
    assert_string_equal(
        tl__buf_cstr(&b),
        "{\"v\":1,\"tenant\":\"t-1\",\"seq\":1,"
        "\"ts\":\"1970-01-01T00:00:00.000000Z\","
        "\"actor\":{\"type\":\"service\",\"id\":\"zo\xc3\xab\\u2028\"},"
        "\"action\":\"auth.login\","
        "\"target\":{\"type\":null,\"id\":null},"
        "\"outcome\":\"success\",\"reason\":null,"
        "\"request_id\":null,\"source\":\"10.0.0.1\","
        "\"details\":{},\"sender\":null}");
    tl__buf_free(&b);
}

static void hash_golden(void **state)
{
    struct tl__audit_rec rec = golden_rec();
    uint8_t zero[TL__HASH_LEN] = {0}, hash[TL__HASH_LEN];
    char hex[2 * TL__HASH_LEN + 1];
    struct tl__buf b;

    (void)state;
    tl__buf_init(&b);
    tl__audit_canonical(&b, &rec, 7);
    assert_int_equal(tl__audit_hash(zero, b.data, b.len, hash), 0);
    hex_encode(hash, sizeof(hash), hex);
    /* Computed independently: Python's hashlib.sha256 over 32 zero bytes
     * and the golden canonical string of canonical_golden. */
    assert_string_equal(hex, "0363890aa730ccaacef70ce6ee139386"
                             "b7f458a0993b093705c011170234f215");
    tl__buf_free(&b);
}

static void event_details(void **state)
{
    const struct tl_field fields[] = {
        TL_STR("s", "a\"b"), TL_I64("i", -5),    TL_U64("u", UINT64_MAX),
        TL_F64("d", 1.5),    TL_F64("nan", NAN), TL_F64("inf", -INFINITY),
        TL_BOOL("b", true),  TL_STR("ts", NULL),
    };
    struct tl_audit_event ev = {
        .actor_type = "user",
        .actor_id = "alice",
        .action = "db.delete",
        .outcome = TL_OUTCOME_FAILURE,
        .details = fields,
        .n_details = sizeof(fields) / sizeof(fields[0]),
    };
    struct tl__audit_rec *rec = NULL;

    (void)state;
    assert_int_equal(tl__audit_rec_from_event(&ev, "ctx", "req-9", &rec), 0);
    assert_string_equal(rec->details,
                        "{\"s\":\"a\\\"b\",\"i\":-5,"
                        "\"u\":18446744073709551615,\"d\":1.5,"
                        "\"nan\":\"NaN\",\"inf\":\"-Infinity\",\"b\":true,"
                        "\"ts\":null}");
    assert_string_equal(rec->tenant, "ctx");
    assert_string_equal(rec->request_id, "req-9");
    assert_string_equal(rec->outcome, "failure");
    assert_false(rec->cred.set);
    assert_int_not_equal(rec->ts_ns, 0);
    tl__audit_rec_free(rec);
}

static void event_own_context(void **state)
{
    struct tl_audit_event ev = {
        .tenant = "acme",
        .actor_type = "user",
        .actor_id = "alice",
        .action = "db.insert",
        .outcome = TL_OUTCOME_SUCCESS,
        .request_id = "req-own",
    };
    struct tl__audit_rec *rec = NULL;

    (void)state;
    assert_int_equal(tl__audit_rec_from_event(&ev, "ctx", "req-ctx", &rec), 0);
    assert_string_equal(rec->tenant, "acme");
    assert_string_equal(rec->request_id, "req-own");
    assert_string_equal(rec->details, "{}");
    tl__audit_rec_free(rec);
}

static void event_invalid(void **state)
{
    const struct tl_audit_event good = {
        .tenant = "acme",
        .actor_type = "user",
        .actor_id = "alice",
        .action = "db.insert",
        .outcome = TL_OUTCOME_SUCCESS,
    };
    struct tl_audit_event ev;
    struct tl__audit_rec *rec = NULL;

    (void)state;
    ev = good;
    ev.tenant = NULL;
    assert_int_equal(tl__audit_rec_from_event(&ev, NULL, NULL, &rec),
                     TL_ETENANT);
    assert_non_null(strstr(last_diag, "missing tenant"));
    ev.tenant = "../x";
    assert_int_equal(tl__audit_rec_from_event(&ev, NULL, NULL, &rec),
                     TL_ETENANT);
    assert_non_null(strstr(last_diag, "invalid tenant id"));
    ev = good;
    ev.actor_id = NULL;
    assert_int_equal(tl__audit_rec_from_event(&ev, NULL, NULL, &rec),
                     TL_EINVAL);
    assert_non_null(strstr(last_diag, "missing actor_id"));
    ev = good;
    ev.actor_type = "";
    assert_int_equal(tl__audit_rec_from_event(&ev, NULL, NULL, &rec),
                     TL_EINVAL);
    assert_non_null(strstr(last_diag, "missing actor_type"));
    ev = good;
    ev.action = NULL;
    assert_int_equal(tl__audit_rec_from_event(&ev, NULL, NULL, &rec),
                     TL_EINVAL);
    assert_non_null(strstr(last_diag, "missing action"));
    ev = good;
    ev.outcome = 0;
    assert_int_equal(tl__audit_rec_from_event(&ev, NULL, NULL, &rec),
                     TL_EINVAL);
    assert_non_null(strstr(last_diag, "outcome 0"));
    ev = good;
    ev.reason = "bad \xff byte";
    assert_int_equal(tl__audit_rec_from_event(&ev, NULL, NULL, &rec),
                     TL_EINVAL);
    assert_non_null(strstr(last_diag, "reason is not valid UTF-8"));
    assert_null(rec);
}

static struct tl__audit_rec *rec_new(const char *tenant, int n)
{
    const struct tl_field fields[] = {TL_I64("rows", n),
                                      TL_STR("table", "instances")};
    struct tl_audit_event ev = {
        .tenant = tenant,
        .actor_type = "user",
        .actor_id = "alice",
        .action = n % 2 ? "db.insert" : "db.update",
        .target_type = "instance",
        .target_id = "i-1",
        .outcome = TL_OUTCOME_SUCCESS,
        .request_id = "req-1",
        .source = "127.0.0.1",
        .details = fields,
        .n_details = 2,
    };
    struct tl__audit_rec *rec = NULL;

    assert_int_equal(tl__audit_rec_from_event(&ev, NULL, NULL, &rec), 0);
    rec->cred =
        (struct tl__cred){.set = true, .pid = 4242, .uid = 1000, .gid = 1000};
    return rec;
}

/* Appends n events of each tenant, interleaved, in one batch. When seqs
 * is not NULL, stores the seqs of the first tenant's events in it. */
static void append_batch(struct tl__audit_store *st, const char *const *tenants,
                         size_t n_tenants, size_t n, uint64_t *seqs)
{
    struct tl__audit_rec *recs[64];
    size_t i, count = n * n_tenants;

    assert_true(count <= 64);
    for (i = 0; i < count; i++) {
        recs[i] = rec_new(tenants[i % n_tenants], (int)i);
    }
    assert_int_equal(tl__audit_store_append(st, recs, count), 0);
    for (i = 0; i < count; i++) {
        assert_int_equal(recs[i]->result, 0);
        if (seqs != NULL && i % n_tenants == 0) {
            seqs[i / n_tenants] = recs[i]->seq;
        }
        tl__audit_rec_free(recs[i]);
    }
}

/* Creates the database of the verify tests: six rows of acme and four of
 * beta, in two batches each. */
static void db_fill(const char *path)
{
    static const char *const both[] = {"acme", "beta"};
    static const char *const acme[] = {"acme"};
    struct tl__audit_store *st = NULL;
    char err[256];

    assert_int_equal(tl__audit_store_open(path, &st, err, sizeof(err)), 0);
    append_batch(st, both, 2, 2, NULL);
    append_batch(st, both, 2, 2, NULL);
    append_batch(st, acme, 1, 2, NULL);
    tl__audit_store_close(st);
}

static void sql_tamper(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    rc = sqlite3_exec(db,
                      "DROP TRIGGER IF EXISTS audit_events_no_update;"
                      "DROP TRIGGER IF EXISTS audit_events_no_delete;",
                      NULL, NULL, &msg);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    }
    if (rc != SQLITE_OK) {
        print_error("%s: %s\n", sql, msg ? msg : "?");
    }
    assert_int_equal(rc, SQLITE_OK);
    assert_int_equal(sqlite3_changes(db) > 0, 1);
    sqlite3_free(msg);
    sqlite3_close(db);
}

static void verdict_collect(void *user, const struct tl__audit_verdict *v)
{
    struct verdicts *all = user;
    struct verdict_copy *c;

    assert_true(all->n < VERDICTS_MAX);
    c = &all->v[all->n++];
    snprintf(c->tenant, sizeof(c->tenant), "%s", v->tenant);
    c->rows = v->rows;
    c->first_bad = v->first_bad;
    snprintf(c->problem, sizeof(c->problem), "%s",
             v->problem ? v->problem : "");
}

static int verify_run(const char *path, const char *tenant,
                      struct verdicts *all)
{
    char err[256] = "";

    memset(all, 0, sizeof(*all));
    return tl__audit_verify(path, tenant, verdict_collect, all, err,
                            sizeof(err));
}

/* Checks that verification of path reports acme broken at seq with
 * problem, and beta intact. */
static void expect_acme_broken(const char *path, uint64_t seq,
                               const char *problem)
{
    struct verdicts all;

    assert_int_equal(verify_run(path, NULL, &all), TL_ECHAIN);
    assert_int_equal(all.n, 2);
    assert_string_equal(all.v[0].tenant, "acme");
    assert_int_equal(all.v[0].first_bad, seq);
    assert_string_equal(all.v[0].problem, problem);
    assert_string_equal(all.v[1].tenant, "beta");
    assert_int_equal(all.v[1].first_bad, 0);
    assert_int_equal(all.v[1].rows, 4);
}

static void append_gapless(void **state)
{
    static const char *const ab[] = {"a", "b"};
    static const char *const b_only[] = {"b"};
    struct fixture *fx = *state;
    struct tl__audit_store *st = NULL;
    uint64_t seqs[8] = {0};
    char err[256];

    assert_int_equal(tl__audit_store_open(fx->db, &st, err, sizeof(err)), 0);
    append_batch(st, ab, 2, 3, seqs);
    assert_int_equal(seqs[0], 1);
    assert_int_equal(seqs[1], 2);
    assert_int_equal(seqs[2], 3);
    append_batch(st, b_only, 1, 2, seqs);
    assert_int_equal(seqs[0], 4);
    assert_int_equal(seqs[1], 5);
    append_batch(st, ab, 2, 1, seqs);
    assert_int_equal(seqs[0], 4);
    tl__audit_store_close(st);
    /* A second open continues each chain where it stopped. */
    assert_int_equal(tl__audit_store_open(fx->db, &st, err, sizeof(err)), 0);
    append_batch(st, b_only, 1, 1, seqs);
    assert_int_equal(seqs[0], 7);
    tl__audit_store_close(st);
}

static void append_skips_invalid(void **state)
{
    struct fixture *fx = *state;
    struct tl__audit_store *st = NULL;
    struct tl__audit_rec *recs[5];
    char *outcome;
    char err[256];
    size_t i;

    for (i = 0; i < 5; i++) {
        recs[i] = rec_new("acme", (int)i);
    }
    free(recs[1]->actor_id);
    recs[1]->actor_id = NULL;
    free(recs[2]->tenant);
    recs[2]->tenant = strdup("../x");
    outcome = recs[3]->outcome;
    recs[3]->outcome = strdup("maybe");
    free(outcome);
    assert_int_equal(tl__audit_store_open(fx->db, &st, err, sizeof(err)), 0);
    assert_int_equal(tl__audit_store_append(st, recs, 5), 0);
    assert_int_equal(recs[0]->result, 0);
    assert_int_equal(recs[0]->seq, 1);
    assert_int_equal(recs[1]->result, TL_EINVAL);
    assert_int_equal(recs[1]->seq, 0);
    assert_int_equal(recs[2]->result, TL_ETENANT);
    assert_int_equal(recs[3]->result, TL_EINVAL);
    assert_int_equal(recs[4]->result, 0);
    assert_int_equal(recs[4]->seq, 2);
    tl__audit_store_close(st);
    for (i = 0; i < 5; i++) {
        tl__audit_rec_free(recs[i]);
    }
}

/* Collects the stored hash and time of each row of one tenant. */
struct stored {
    uint8_t hash[4][TL__HASH_LEN];
    int64_t ts_ns[4];
    size_t n;
};

static int stored_collect(void *user, const struct tl__audit_row *row)
{
    struct stored *s = user;

    assert_true(s->n < 4);
    assert_null(row->invalid);
    assert_int_equal(row->hash_len, TL__HASH_LEN);
    memcpy(s->hash[s->n], row->hash, TL__HASH_LEN);
    s->ts_ns[s->n++] = row->rec.ts_ns;
    return 0;
}

static void append_chains_hashes(void **state)
{
    struct fixture *fx = *state;
    struct tl__audit_store *st = NULL;
    struct tl__audit_rec *recs[2];
    uint8_t zero[TL__HASH_LEN] = {0}, want[TL__HASH_LEN];
    struct stored stored = {.n = 0};
    struct tl__buf b;
    char err[256];

    recs[0] = rec_new("acme", 1);
    recs[1] = rec_new("acme", 2);
    recs[0]->ts_ns = TS_2017 + 999; /* truncated to TS_2017 */
    assert_int_equal(tl__audit_store_open(fx->db, &st, err, sizeof(err)), 0);
    assert_int_equal(tl__audit_store_append(st, recs, 2), 0);
    tl__audit_store_close(st);
    assert_int_equal(recs[0]->ts_ns, TS_2017);
    assert_int_equal(tl__audit_read(fx->db, "acme", stored_collect, &stored,
                                    err, sizeof(err)),
                     0);
    assert_int_equal(stored.n, 2);
    assert_int_equal(stored.ts_ns[0], TS_2017);
    tl__buf_init(&b);
    tl__audit_canonical(&b, recs[0], 1);
    assert_int_equal(tl__audit_hash(zero, b.data, b.len, want), 0);
    assert_memory_equal(stored.hash[0], want, TL__HASH_LEN);
    tl__buf_reset(&b);
    tl__audit_canonical(&b, recs[1], 2);
    assert_int_equal(tl__audit_hash(want, b.data, b.len, want), 0);
    assert_memory_equal(stored.hash[1], want, TL__HASH_LEN);
    tl__buf_free(&b);
    tl__audit_rec_free(recs[0]);
    tl__audit_rec_free(recs[1]);
}

static void store_rejects_foreign_db(void **state)
{
    struct fixture *fx = *state;
    struct tl__audit_store *st = NULL;
    sqlite3 *db = NULL;
    char err[256] = "";

    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE other (x)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(tl__audit_store_open(fx->db, &st, err, sizeof(err)),
                     TL_ESTORE);
    assert_non_null(strstr(err, fx->db));
    assert_non_null(strstr(err, "not a tenantlog audit database"));
}

static void store_blocks_update(void **state)
{
    struct fixture *fx = *state;
    sqlite3 *db = NULL;
    int rc;

    db_fill(fx->db);
    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    rc = sqlite3_exec(db, "UPDATE audit_events SET action = 'x'", NULL, NULL,
                      NULL);
    assert_int_not_equal(rc, SQLITE_OK);
    rc = sqlite3_exec(db, "DELETE FROM audit_events", NULL, NULL, NULL);
    assert_int_not_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

static void verify_intact(void **state)
{
    struct fixture *fx = *state;
    struct verdicts all;

    db_fill(fx->db);
    assert_int_equal(verify_run(fx->db, NULL, &all), 0);
    assert_int_equal(all.n, 2);
    assert_string_equal(all.v[0].tenant, "acme");
    assert_int_equal(all.v[0].rows, 6);
    assert_int_equal(all.v[0].first_bad, 0);
    assert_string_equal(all.v[1].tenant, "beta");
    assert_int_equal(all.v[1].rows, 4);
    assert_int_equal(all.v[1].first_bad, 0);
}

static void verify_modified_columns(void **state)
{
    static const char *const changes[] = {
        "actor_id = 'mallory'", "actor_type = 'service'",
        "action = 'db.select'", "ts_ns = ts_ns + 1000",
        "target_id = NULL",     "outcome = 'denied'",
        "reason = 'none'",      "request_id = 'req-2'",
        "source = '10.0.0.9'",  "details = '{\"rows\":9}'",
        "sender_uid = 0",       "tenant = 'beta', seq = 99",
    };
    struct fixture *fx = *state;
    char sql[256];
    size_t i;

    for (i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        fixture_teardown(state);
        fixture_setup(state);
        fx = *state;
        db_fill(fx->db);
        snprintf(sql, sizeof(sql),
                 "UPDATE audit_events SET %s WHERE tenant = 'acme' AND "
                 "seq = 3",
                 changes[i]);
        sql_tamper(fx->db, sql);
        print_message("change: %s\n", changes[i]);
        if (i == sizeof(changes) / sizeof(changes[0]) - 1) {
            /* The row moved to another tenant: acme has a gap. */
            struct verdicts all;

            assert_int_equal(verify_run(fx->db, NULL, &all), TL_ECHAIN);
            assert_int_equal(all.v[0].first_bad, 3);
            assert_string_equal(all.v[0].problem, "missing row");
            assert_int_equal(all.v[1].first_bad, 5);
            continue;
        }
        expect_acme_broken(fx->db, 3, "hash mismatch");
    }
}

static void verify_invalid_columns(void **state)
{
    static const struct {
        const char *change;
        const char *problem;
    } cases[] = {
        {"ts_ns = ts_ns + 1", "invalid value in column ts_ns"},
        {"actor_id = CAST(X'616C69636500626F62' AS TEXT)",
         "invalid value in column actor_id"},
        {"actor_id = CAST(X'616CFF' AS TEXT)",
         "invalid value in column actor_id"},
        {"action = X'64622E696E73657274'", "invalid value in column action"},
        {"sender_pid = NULL", "invalid value in column sender"},
        {"ts_ns = ts_ns || 'x'", "invalid value in column ts_ns"},
    };
    struct fixture *fx;
    char sql[256];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fixture_teardown(state);
        fixture_setup(state);
        fx = *state;
        db_fill(fx->db);
        snprintf(sql, sizeof(sql),
                 "UPDATE audit_events SET %s WHERE tenant = 'acme' AND "
                 "seq = 4",
                 cases[i].change);
        sql_tamper(fx->db, sql);
        print_message("change: %s\n", cases[i].change);
        expect_acme_broken(fx->db, 4, cases[i].problem);
    }
}

static void verify_deleted_row(void **state)
{
    struct fixture *fx = *state;

    db_fill(fx->db);
    sql_tamper(fx->db,
               "DELETE FROM audit_events WHERE tenant = 'acme' AND seq = 3");
    expect_acme_broken(fx->db, 3, "missing row");
}

static void verify_swapped_pair(void **state)
{
    struct fixture *fx = *state;

    db_fill(fx->db);
    /* Every column but tenant and seq trades places between rows 2, 3. */
    sql_tamper(fx->db,
               "CREATE TEMP TABLE pair AS SELECT * FROM audit_events"
               " WHERE tenant = 'acme' AND seq IN (2, 3);"
               "UPDATE audit_events SET (ts_ns, actor_type, actor_id,"
               " action, target_type, target_id, outcome, reason,"
               " request_id, source, details, sender_pid, sender_uid,"
               " sender_gid, hash) = (SELECT ts_ns, actor_type, actor_id,"
               " action, target_type, target_id, outcome, reason,"
               " request_id, source, details, sender_pid, sender_uid,"
               " sender_gid, hash FROM pair WHERE pair.seq ="
               " 5 - audit_events.seq)"
               " WHERE tenant = 'acme' AND seq IN (2, 3)");
    expect_acme_broken(fx->db, 2, "hash mismatch");
}

static void verify_swapped_seqs(void **state)
{
    struct fixture *fx = *state;

    db_fill(fx->db);
    sql_tamper(fx->db, "UPDATE audit_events SET seq = 1000"
                       " WHERE tenant = 'acme' AND seq = 4;"
                       "UPDATE audit_events SET seq = 4"
                       " WHERE tenant = 'acme' AND seq = 5;"
                       "UPDATE audit_events SET seq = 5"
                       " WHERE tenant = 'acme' AND seq = 1000");
    expect_acme_broken(fx->db, 4, "hash mismatch");
}

static void verify_modified_hash(void **state)
{
    struct fixture *fx = *state;

    db_fill(fx->db);
    sql_tamper(fx->db, "UPDATE audit_events SET hash = zeroblob(32)"
                       " WHERE tenant = 'acme' AND seq = 5");
    expect_acme_broken(fx->db, 5, "hash mismatch");
}

static void verify_tenant_filter(void **state)
{
    struct fixture *fx = *state;
    struct verdicts all;

    db_fill(fx->db);
    sql_tamper(fx->db, "UPDATE audit_events SET action = 'x'"
                       " WHERE tenant = 'acme' AND seq = 2");
    assert_int_equal(verify_run(fx->db, "beta", &all), 0);
    assert_int_equal(all.n, 1);
    assert_string_equal(all.v[0].tenant, "beta");
    assert_int_equal(all.v[0].rows, 4);
    assert_int_equal(verify_run(fx->db, "acme", &all), TL_ECHAIN);
    assert_int_equal(all.n, 1);
    assert_int_equal(all.v[0].first_bad, 2);
}

static void verify_unknown_tenant(void **state)
{
    struct fixture *fx = *state;
    struct verdicts all = {.n = 0};
    char err[256] = "";

    db_fill(fx->db);
    assert_int_equal(tl__audit_verify(fx->db, "gamma", verdict_collect, &all,
                                      err, sizeof(err)),
                     TL_ETENANT);
    assert_non_null(strstr(err, "gamma"));
    assert_int_equal(verify_run(fx->db, "../x", &all), TL_ETENANT);
    assert_int_equal(all.n, 0);
}

static void verify_missing_db(void **state)
{
    struct fixture *fx = *state;
    struct verdicts all = {.n = 0};
    char err[256] = "";

    assert_int_equal(
        tl__audit_verify(fx->db, NULL, verdict_collect, &all, err, sizeof(err)),
        TL_ESTORE);
    assert_non_null(strstr(err, fx->db));
    assert_int_equal(access(fx->db, F_OK), -1);
}

static char *file_read(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    char *data;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    *len = ftell(f);
    rewind(f);
    data = malloc((size_t)*len);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
    return data;
}

static void verify_leaves_db_unchanged(void **state)
{
    struct fixture *fx = *state;
    struct verdicts all;
    long before_len, after_len;
    char *before, *after;

    db_fill(fx->db);
    before = file_read(fx->db, &before_len);
    assert_int_equal(verify_run(fx->db, NULL, &all), 0);
    after = file_read(fx->db, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, (size_t)before_len);
    free(before);
    free(after);
}

/* Pins a documented limit: without a checkpoint, a chain cut short at its
 * end still verifies. */
static void verify_misses_tail_cut(void **state)
{
    struct fixture *fx = *state;
    struct verdicts all;

    db_fill(fx->db);
    sql_tamper(fx->db,
               "DELETE FROM audit_events WHERE tenant = 'acme' AND seq = 6");
    assert_int_equal(verify_run(fx->db, NULL, &all), 0);
    assert_int_equal(all.v[0].rows, 5);
}

#define FX_TEST(f)                                                             \
    cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_golden),
        cmocka_unit_test(canonical_nulls),
        cmocka_unit_test(hash_golden),
        FX_TEST(event_details),
        FX_TEST(event_own_context),
        FX_TEST(event_invalid),
        FX_TEST(append_gapless),
        FX_TEST(append_skips_invalid),
        FX_TEST(append_chains_hashes),
        FX_TEST(store_rejects_foreign_db),
        FX_TEST(store_blocks_update),
        FX_TEST(verify_intact),
        FX_TEST(verify_modified_columns),
        FX_TEST(verify_invalid_columns),
        FX_TEST(verify_deleted_row),
        FX_TEST(verify_swapped_pair),
        FX_TEST(verify_swapped_seqs),
        FX_TEST(verify_modified_hash),
        FX_TEST(verify_tenant_filter),
        FX_TEST(verify_unknown_tenant),
        FX_TEST(verify_missing_db),
        FX_TEST(verify_leaves_db_unchanged),
        FX_TEST(verify_misses_tail_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
