/* audit_fill DB TENANT N: appends N audit events for TENANT to the audit
 * store at DB, in batches, for the integration tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/audit_store.h"
#include "tenantlog/tenantlog.h"

#define BATCH_MAX 50

static const char *const actions[] = {"db.insert", "db.update", "db.delete"};

static struct tl__audit_rec *event_new(const char *tenant, uint64_t n)
{
    char target[32], request[32];
    const struct tl_field details[] = {
        TL_I64("rows", 1),
        TL_U64("n", n),
        TL_STR("table", "instances"),
    };
    struct tl_audit_event ev = {
        .tenant = tenant,
        .actor_type = "user",
        .actor_id = "audit_fill",
        .action = actions[n % 3],
        .target_type = "instance",
        .target_id = target,
        .outcome = n % 10 == 0 ? TL_OUTCOME_DENIED : TL_OUTCOME_SUCCESS,
        .reason = n % 10 == 0 ? "quota exceeded" : NULL,
        .request_id = request,
        .source = "127.0.0.1",
        .details = details,
        .n_details = sizeof(details) / sizeof(details[0]),
    };
    struct tl__audit_rec *rec = NULL;

    snprintf(target, sizeof(target), "i-%llu", (unsigned long long)n);
    snprintf(request, sizeof(request), "req-%llu", (unsigned long long)n);
    if (tl__audit_rec_from_event(&ev, NULL, NULL, &rec) != 0) {
        return NULL;
    }
    return rec;
}

/* Appends events first..first+n-1 in one batch. Returns 0 or an error. */
static int batch_append(struct tl__audit_store *st, const char *tenant,
                        uint64_t first, size_t n)
{
    struct tl__audit_rec *recs[BATCH_MAX];
    size_t i, created = 0;
    int result = 0;

    for (i = 0; i < n; i++) {
        recs[i] = event_new(tenant, first + i);
        if (recs[i] == NULL) {
            result = TL_EINVAL;
            break;
        }
        created++;
    }
    if (result == 0) {
        result = tl__audit_store_append(st, recs, n);
    }
    for (i = 0; i < created; i++) {
        if (result == 0 && recs[i]->result != 0) {
            result = recs[i]->result;
        }
        tl__audit_rec_free(recs[i]);
    }
    return result;
}

int main(int argc, char **argv)
{
    struct tl__audit_store *st = NULL;
    unsigned long long total;
    char err[512], *end;
    uint64_t done = 0;
    int result;

    if (argc != 4) {
        fprintf(stderr, "usage: audit_fill DB TENANT N\n");
        return 2;
    }
    errno = 0;
    total = strtoull(argv[3], &end, 10);
    if (argv[3][0] == '\0' || *end != '\0' || errno != 0) {
        fprintf(stderr, "audit_fill: invalid N '%s'\n", argv[3]);
        return 2;
    }
    result = tl__audit_store_open(argv[1], &st, err, sizeof(err));
    if (result != 0) {
        fprintf(stderr, "audit_fill: %s\n", err);
        return 1;
    }
    while (result == 0 && done < total) {
        size_t n =
            total - done < BATCH_MAX ? (size_t)(total - done) : BATCH_MAX;

        result = batch_append(st, argv[2], done + 1, n);
        done += n;
    }
    tl__audit_store_close(st);
    if (result != 0) {
        fprintf(stderr,
                "audit_fill: appending to %s for tenant %s failed: "
                "%s\n",
                argv[1], argv[2], tl_strerror(result));
        return 1;
    }
    printf("appended %llu events for tenant %s to %s\n", total, argv[2],
           argv[1]);
    return 0;
}
