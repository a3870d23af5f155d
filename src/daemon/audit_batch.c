/* The audit group commit: audit frames read during one loop iteration are
 * appended in one SQLite transaction from the check handle, and only then
 * acknowledged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/text.h"
#include "daemon.h"

int tl__audit_batch_add(struct tl__daemon *d, struct tl__conn *c, uint64_t seq,
                        struct tl__audit_rec *rec)
{
    if (d->n_batch == d->cap_batch) {
        size_t n = d->cap_batch ? d->cap_batch * 2 : 64;
        struct tl__audit_pending *b = realloc(d->batch, n * sizeof(*b));

        if (b == NULL) {
            tl__audit_rec_free(rec);
            return -ENOMEM;
        }
        d->batch = b;
        d->cap_batch = n;
    }
    d->batch[d->n_batch++] = (struct tl__audit_pending){c, seq, rec};
    c->refs++;
    c->pending_audits++;
    return 0;
}

/* Opens the store on first use, and again after an earlier failure. */
static int store_ready(struct tl__daemon *d)
{
    char err[512];
    int rc;

    if (d->audit != NULL) {
        return 0;
    }
    rc = tl__audit_store_open(d->cfg->audit_path, &d->audit, err, sizeof(err));
    if (rc < 0) {
        struct tl_field f[] = {
            TL_STR("path", d->cfg->audit_path ? d->cfg->audit_path : ""),
            TL_STR("error", err)};

        tl__dlog_error(d, "audit.open", "failed to open the audit store", f, 2);
    }
    return rc;
}

static int batch_append(struct tl__daemon *d, struct tl__audit_rec **recs)
{
    int rc = store_ready(d);
    size_t i;

    if (rc < 0) {
        for (i = 0; i < d->n_batch; i++) {
            recs[i]->result = TL_ESTORE;
        }
        return rc;
    }
    rc = tl__audit_store_append(d->audit, recs, d->n_batch);
    if (rc < 0) {
        struct tl_field f[] = {TL_STR("path", d->cfg->audit_path),
                               TL_U64("events", d->n_batch),
                               TL_STR("error", tl_strerror(rc))};

        tl__dlog_error(d, "audit.commit",
                       "audit group commit failed, so "
                       "the events were rejected with store_failed",
                       f, 3);
    }
    return rc;
}

/* Sends the outcome of one event to its connection. */
static void outcome_send(struct tl__daemon *d, struct tl__audit_pending *p)
{
    struct tl__audit_rec *rec = p->rec;
    char msg[256];

    if (rec->result == 0) {
        d->n.audit_committed++;
        (void)tl__native_send(
            p->conn, json_pack("{s:s,s:I,s:s,s:I}", "type", "audit_ack", "seq",
                               (json_int_t)p->seq, "tenant", rec->tenant,
                               "audit_seq", (json_int_t)rec->seq));
        return;
    }
    d->n.audit_failed++;
    if (rec->result == TL_ESTORE) {
        snprintf(msg, sizeof(msg),
                 "the audit store did not commit the "
                 "event; it is not stored, so send it again later");
        tl__native_error(p->conn, p->seq, "store_failed", msg);
    } else {
        (void)tl__audit_rec_check(rec, msg, sizeof(msg));
        tl__native_error(p->conn, p->seq, "invalid_member", msg);
    }
}

void tl__audit_batch_commit(struct tl__daemon *d)
{
    struct tl__audit_rec **recs;
    size_t i, n = d->n_batch;

    if (n == 0) {
        return;
    }
    recs = malloc(n * sizeof(*recs));
    for (i = 0; recs != NULL && i < n; i++) {
        recs[i] = d->batch[i].rec;
    }
    if (recs == NULL || batch_append(d, recs) < 0) {
        for (i = 0; i < n; i++) {
            d->batch[i].rec->result = TL_ESTORE;
        }
    }
    free(recs);
    /* Every outcome goes out before the acks, because an ack covers
     * them all. */
    for (i = 0; i < n; i++) {
        outcome_send(d, &d->batch[i]);
        d->batch[i].conn->pending_audits--;
    }
    d->n_batch = 0;
    for (i = 0; i < n; i++) {
        struct tl__conn *c = d->batch[i].conn;

        tl__native_ack(c);
        if (c->eof && c->pending_audits == 0) {
            tl__conn_finish(c);
        }
        tl__audit_rec_free(d->batch[i].rec);
        tl__conn_unref(c);
    }
}
