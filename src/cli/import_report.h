/* The counts behind `tenantlog import`'s report: lines by outcome,
 * format and reason, records per tenant, audit events. */
#ifndef TL_CLI_IMPORT_REPORT_H
#define TL_CLI_IMPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "import_parse.h"
#include "output.h"

#define TL__REASONS_MAX 8 /* distinct reasons per table, more than any uses */

struct tl__reason_count {
    const char *reason; /* static text from the parser or the limits */
    uint64_t n;
};

struct tl__tenant_count {
    char *name; /* NULL marks a free slot */
    bool valid;
    uint64_t n;
};

struct tl__import_report {
    uint64_t read;
    uint64_t parsed;
    uint64_t parsed_openstack;
    uint64_t parsed_syslog;
    uint64_t unparsed;
    uint64_t rejected;
    uint64_t no_tenant;
    uint64_t invalid_tenant; /* records whose tenant id is invalid */
    uint64_t adjusted;       /* records with a value moved to a field */
    uint64_t audit;          /* audit events sent, or planned */
    uint64_t audit_adjusted; /* audit events with a value moved */
    uint64_t audit_skipped;  /* API lines whose tenant id is invalid */
    struct tl__reason_count unparsed_by[TL__REASONS_MAX];
    struct tl__reason_count rejected_by[TL__REASONS_MAX];
    struct tl__reason_count adjusted_by[TL__REASONS_MAX];
    struct tl__reason_count audit_adjusted_by[TL__REASONS_MAX];
    struct tl__tenant_count *tenants; /* open addressing, power of 2 */
    size_t n_tenants;
    size_t cap_tenants;
};

void tl__import_report_init(struct tl__import_report *r);
void tl__import_report_free(struct tl__import_report *r);

/* Counts one line by its kind, format and reason. */
void tl__import_report_line(struct tl__import_report *r,
                            const struct tl__import_line *line);

/* Counts one record for tenant (NUL-terminated, NULL for none). Returns
 * 0 or -ENOMEM. */
int tl__import_report_tenant(struct tl__import_report *r, const char *tenant,
                             bool valid);

/* Counts one record (or, with audit set, one audit event) with n values
 * moved to fields, one for each static reason text. Counts nothing when n
 * is 0. */
void tl__import_report_adjusted(struct tl__import_report *r, bool audit,
                                const char *const *reasons, size_t n);

/*
 * Prints the report as "key: value" lines, tenants sorted by id, and ends
 * with "import: read=N records=N unparsed=N rejected=N audit=N failed=N
 * audit_failed=N". output names where the records went. tally is NULL for
 * a dry run, which prints 0 failed.
 */
void tl__import_report_print(const struct tl__import_report *r, FILE *out,
                             const char *path, const char *output,
                             const struct tl__cli_tally *tally);

#endif
