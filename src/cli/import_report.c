/* Counting and printing `tenantlog import`'s report. */
#include "import_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/text.h"

void tl__import_report_init(struct tl__import_report *r)
{
    memset(r, 0, sizeof(*r));
}

void tl__import_report_free(struct tl__import_report *r)
{
    size_t i;

    for (i = 0; i < r->cap_tenants; i++) {
        free(r->tenants[i].name);
    }
    free(r->tenants);
    r->tenants = NULL;
    r->cap_tenants = 0;
    r->n_tenants = 0;
}

/* Adds one to reason's count. Reasons are static strings,
 * so comparing pointers finds them. The last slot is kept for "other",
 * which counts any reason that finds no free slot. */
static void reason_add(struct tl__reason_count *table, const char *reason)
{
    size_t i;

    for (i = 0; i < TL__REASONS_MAX - 1; i++) {
        if (table[i].reason == NULL || table[i].reason == reason) {
            table[i].reason = reason;
            table[i].n++;
            return;
        }
    }
    table[i].reason = "other";
    table[i].n++;
}

void tl__import_report_line(struct tl__import_report *r,
                            const struct tl__import_line *line)
{
    r->read++;
    switch (line->kind) {
    case TL__LINE_PARSED:
        r->parsed++;
        if (line->format == TL__IMPORT_OPENSTACK) {
            r->parsed_openstack++;
        } else {
            r->parsed_syslog++;
        }
        break;
    case TL__LINE_UNPARSED:
        r->unparsed++;
        reason_add(r->unparsed_by, line->reason);
        break;
    case TL__LINE_REJECTED:
        r->rejected++;
        reason_add(r->rejected_by, line->reason);
        break;
    }
}

void tl__import_report_adjusted(struct tl__import_report *r, bool audit,
                                const char *const *reasons, size_t n)
{
    size_t i;

    if (n == 0) {
        return;
    }
    if (audit) {
        r->audit_adjusted++;
    } else {
        r->adjusted++;
    }
    for (i = 0; i < n; i++) {
        reason_add(audit ? r->audit_adjusted_by : r->adjusted_by, reasons[i]);
    }
}

/* FNV-1a, 64-bit. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037);

    while (*s != '\0') {
        h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
    }
    return h;
}

static struct tl__tenant_count *slot_find(struct tl__tenant_count *table,
                                          size_t cap, const char *name)
{
    size_t i = (size_t)name_hash(name) & (cap - 1);

    while (table[i].name != NULL && strcmp(table[i].name, name) != 0) {
        i = (i + 1) & (cap - 1);
    }
    return &table[i];
}

/* Doubles the table, keeping it at most half full. */
static int tenants_grow(struct tl__import_report *r)
{
    size_t cap = r->cap_tenants ? r->cap_tenants * 2 : 16;
    struct tl__tenant_count *table = calloc(cap, sizeof(*table));
    size_t i;

    if (table == NULL) {
        return -ENOMEM;
    }
    for (i = 0; i < r->cap_tenants; i++) {
        if (r->tenants[i].name != NULL) {
            *slot_find(table, cap, r->tenants[i].name) = r->tenants[i];
        }
    }
    free(r->tenants);
    r->tenants = table;
    r->cap_tenants = cap;
    return 0;
}

int tl__import_report_tenant(struct tl__import_report *r, const char *tenant,
                             bool valid)
{
    struct tl__tenant_count *slot;

    if (tenant == NULL) {
        r->no_tenant++;
        return 0;
    }
    r->invalid_tenant += !valid;
    if ((r->n_tenants + 1) * 2 > r->cap_tenants && tenants_grow(r) != 0) {
        return -ENOMEM;
    }
    slot = slot_find(r->tenants, r->cap_tenants, tenant);
    if (slot->name == NULL) {
        slot->name = strdup(tenant);
        if (slot->name == NULL) {
            return -ENOMEM;
        }
        slot->valid = valid;
        r->n_tenants++;
    }
    slot->n++;
    return 0;
}

static int tenant_compare(const void *a, const void *b)
{
    const struct tl__tenant_count *const *x = a;
    const struct tl__tenant_count *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

/* Prints "tenant ID: N" for each tenant, sorted by id. An invalid id is
 * printed JSON-quoted, so that no byte of it can break the line. */
static void print_tenants(const struct tl__import_report *r, FILE *out)
{
    const struct tl__tenant_count **sorted;
    struct tl__buf quoted;
    size_t i, n = 0;

    sorted = calloc(r->n_tenants ? r->n_tenants : 1, sizeof(*sorted));
    if (sorted == NULL) {
        fprintf(out, "tenants: out of memory\n");
        return;
    }
    for (i = 0; i < r->cap_tenants; i++) {
        if (r->tenants[i].name != NULL) {
            sorted[n++] = &r->tenants[i];
        }
    }
    qsort(sorted, n, sizeof(*sorted), tenant_compare);
    tl__buf_init(&quoted);
    for (i = 0; i < n; i++) {
        if (sorted[i]->valid) {
            fprintf(out, "tenant %s: %" PRIu64 "\n", sorted[i]->name,
                    sorted[i]->n);
            continue;
        }
        tl__buf_reset(&quoted);
        tl__json_str(&quoted, sorted[i]->name);
        fprintf(out, "tenant invalid %s: %" PRIu64 "\n", tl__buf_cstr(&quoted),
                sorted[i]->n);
    }
    tl__buf_free(&quoted);
    free(sorted);
}

static void print_reasons(FILE *out, const char *prefix,
                          const struct tl__reason_count *table)
{
    size_t i;

    for (i = 0; i < TL__REASONS_MAX && table[i].reason != NULL; i++) {
        fprintf(out, "%s %s: %" PRIu64 "\n", prefix, table[i].reason,
                table[i].n);
    }
}

void tl__import_report_print(const struct tl__import_report *r, FILE *out,
                             const char *path, const char *output,
                             const struct tl__cli_tally *tally)
{
    uint64_t records = r->parsed + r->unparsed;
    uint64_t failed = tally ? tally->failed : 0;
    uint64_t audit_failed = tally ? tally->audit_failed : 0;

    fprintf(out, "file: %s\n", path);
    fprintf(out, "output: %s\n", output);
    fprintf(out, "read: %" PRIu64 "\n", r->read);
    fprintf(out, "parsed: %" PRIu64 "\n", r->parsed);
    fprintf(out, "parsed openstack: %" PRIu64 "\n", r->parsed_openstack);
    fprintf(out, "parsed syslog: %" PRIu64 "\n", r->parsed_syslog);
    fprintf(out, "unparsed: %" PRIu64 "\n", r->unparsed);
    print_reasons(out, "unparsed", r->unparsed_by);
    fprintf(out, "rejected: %" PRIu64 "\n", r->rejected);
    print_reasons(out, "rejected", r->rejected_by);
    fprintf(out, "records: %" PRIu64 "\n", records);
    print_tenants(r, out);
    fprintf(out, "tenant (none): %" PRIu64 "\n", r->no_tenant);
    fprintf(out, "records with invalid tenant: %" PRIu64 "\n",
            r->invalid_tenant);
    fprintf(out, "records adjusted: %" PRIu64 "\n", r->adjusted);
    print_reasons(out, "adjusted", r->adjusted_by);
    fprintf(out, "audit: %" PRIu64 "\n", r->audit);
    fprintf(out, "audit adjusted: %" PRIu64 "\n", r->audit_adjusted);
    print_reasons(out, "audit adjusted", r->audit_adjusted_by);
    fprintf(out, "audit skipped for invalid tenant: %" PRIu64 "\n",
            r->audit_skipped);
    fprintf(out, "records failed: %" PRIu64 "\n", failed);
    fprintf(out, "audit failed: %" PRIu64 "\n", audit_failed);
    fprintf(out,
            "import: read=%" PRIu64 " records=%" PRIu64 " unparsed=%" PRIu64
            " rejected=%" PRIu64 " audit=%" PRIu64 " failed=%" PRIu64
            " audit_failed=%" PRIu64 "\n",
            r->read, records, r->unparsed, r->rejected, r->audit, failed,
            audit_failed);
}
