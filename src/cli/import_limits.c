/* Applies tenantlogd's limits to imported records and audit events. A
 * value over its limit moves into a field (an audit target id is in the
 * detail "path" already), so that the record is accepted on every output
 * path and nothing of the line is lost. */
#include "import_limits.h"

#include <errno.h>
#include <string.h>

#include "common/text.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD, as UTF-8 */
#define REPLACEMENT_LEN 3
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One string member with a maximum length, and what replaces a value
 * over it (NULL: the member is removed). */
struct limit {
    const char **value;
    size_t max;
    const char *field_key; /* keeps the whole value, or NULL: no copy */
    const char *reason;
    const char *replacement;
};

/* Measures the UTF-8 sequence at s. Stores its length in *n (1 for an
 * invalid byte) and returns its length as sent, which is 3 for an invalid
 * byte because it becomes U+FFFD. */
static size_t wire_step(const char *s, size_t len, size_t *n)
{
    uint32_t cp;
    size_t k = tl__utf8_decode((const unsigned char *)s, len, &cp);

    if (k == 0) {
        *n = 1;
        return REPLACEMENT_LEN;
    }
    *n = k;
    return k;
}

size_t tl__import_wire_len(const char *s)
{
    size_t len = strlen(s), i = 0, total = 0, n;

    while (i < len) {
        total += wire_step(s + i, len - i, &n);
        i += n;
    }
    return total;
}

size_t tl__import_wire_cut(const char *s, size_t max)
{
    size_t len = strlen(s), i = 0, total = 0, n, w;

    while (i < len) {
        w = wire_step(s + i, len - i, &n);
        if (total + w > max) {
            break;
        }
        total += w;
        i += n;
    }
    return i;
}

void tl__import_utf8_add(struct tl__buf *b, const char *s, size_t len)
{
    size_t i = 0, n;
    uint32_t cp;

    while (i < len) {
        n = 0;
        if (s[i] != '\0') {
            n = tl__utf8_decode((const unsigned char *)s + i, len - i, &cp);
        }
        if (n == 0) {
            tl__buf_add(b, REPLACEMENT, REPLACEMENT_LEN);
            i++;
        } else {
            tl__buf_add(b, s + i, n);
            i += n;
        }
    }
}

/* Replaces each value over its limit, keeps it in a new string field at
 * fields[*n_fields] unless its field_key is NULL, and stores the reason in
 * reasons. Returns the number of values replaced. */
static size_t limits_apply(const struct limit *limits, size_t count,
                           struct tl_field *fields, size_t *n_fields,
                           const char **reasons)
{
    size_t i, replaced = 0;

    for (i = 0; i < count; i++) {
        const char *value = *limits[i].value;

        if (value == NULL || tl__import_wire_len(value) <= limits[i].max) {
            continue;
        }
        if (limits[i].field_key != NULL) {
            fields[(*n_fields)++] = TL_STR(limits[i].field_key, value);
        }
        *limits[i].value = limits[i].replacement;
        reasons[replaced++] = limits[i].reason;
    }
    return replaced;
}

/* Cuts an invalid tenant id that is too long to be quarantined. The cut
 * id, at least 253 bytes long, stays invalid. */
static int tenant_cut(struct tl__cli_rec *rec, struct tl_field *fields,
                      struct tl__buf *cut, const char **reason)
{
    const char *tenant = rec->tenant;

    if (tenant == NULL || tl_tenant_valid(tenant) ||
        tl__import_wire_len(tenant) <= TL__IMPORT_QUARANTINE_MAX) {
        return 0;
    }
    tl__buf_reset(cut);
    tl__import_utf8_add(cut, tenant,
                        tl__import_wire_cut(tenant, TL__IMPORT_QUARANTINE_MAX));
    if (cut->oom) {
        return -ENOMEM;
    }
    fields[rec->n_fields++] = TL_STR("tenant_too_long", tenant);
    rec->tenant = tl__buf_cstr(cut);
    *reason = "tenant too long";
    return 1;
}

int tl__import_limit_record(struct tl__cli_rec *rec, struct tl_field *fields,
                            const char *default_logger, struct tl__buf *cut,
                            struct tl__import_report *report)
{
    const struct limit limits[] = {
        {&rec->request_id, TL__ID_MAX, "request_id_too_long",
         "request id too long", NULL},
        {&rec->logger, TL__IMPORT_LOGGER_MAX, "logger_too_long",
         "logger too long", default_logger},
    };
    const char *reasons[1 + COUNT(limits)]; /* the tenant's, then these */
    size_t n;
    int result;

    result = tenant_cut(rec, fields, cut, &reasons[0]);
    if (result < 0) {
        return result;
    }
    n = (size_t)result;
    n += limits_apply(limits, COUNT(limits), fields, &rec->n_fields,
                      reasons + n);
    tl__import_report_adjusted(report, false, reasons, n);
    return 0;
}

void tl__import_limit_audit(struct tl_audit_event *ev, struct tl_field *details,
                            struct tl__import_report *report)
{
    const struct limit limits[] = {
        {&ev->request_id, TL__ID_MAX, "request_id_too_long",
         "request id too long", NULL},
        {&ev->actor_id, TL__IMPORT_AUDIT_STR_MAX, "actor_id_too_long",
         "actor id too long", "unknown"},
        /* The importer's details carry the whole path already, and a
         * second copy could push the frame over 1 MiB. */
        {&ev->target_id, TL__IMPORT_AUDIT_STR_MAX, NULL, "target id too long",
         NULL},
        {&ev->source, TL__IMPORT_AUDIT_STR_MAX, "source_too_long",
         "source too long", NULL},
    };
    const char *reasons[COUNT(limits)];
    size_t n;

    n = limits_apply(limits, COUNT(limits), details, &ev->n_details, reasons);
    tl__import_report_adjusted(report, true, reasons, n);
}
