/* tenantlogd's limits on the strings of records and audit events, applied
 * by `tenantlog import` before either output path, so that the library,
 * tenantlogd and --dry-run accept the same records. */
#ifndef TL_CLI_IMPORT_LIMITS_H
#define TL_CLI_IMPORT_LIMITS_H

#include <stddef.h>

#include "common/buf.h"
#include "common/client.h"
#include "import_report.h"
#include "output.h"

/* Maximum lengths in bytes as sent over the native protocol, where each
 * byte outside valid UTF-8 becomes U+FFFD (3 bytes): tenantlogd's own
 * limits, from common/client.h. Request ids have TL__ID_MAX (128). */
#define TL__IMPORT_LOGGER_MAX TL__PROTO_LOGGER_MAX
#define TL__IMPORT_QUARANTINE_MAX TL__PROTO_QUARANTINE_MAX
#define TL__IMPORT_AUDIT_STR_MAX TL__PROTO_AUDIT_STR_MAX

/* Fields that tl__import_limit_record adds at most. */
#define TL__IMPORT_RECORD_LIMIT_FIELDS 3
/* Details that tl__import_limit_audit adds at most. */
#define TL__IMPORT_AUDIT_LIMIT_FIELDS 3

/* Returns the length of s as the native protocol sends it. */
size_t tl__import_wire_len(const char *s);

/* Returns the length in bytes of the longest prefix of s whose length as
 * sent is at most max and that ends between two UTF-8 sequences. */
size_t tl__import_wire_cut(const char *s, size_t max);

/* Appends s[0..len) to b with each NUL byte and each byte outside valid
 * UTF-8 replaced by U+FFFD, as the audit store and the protocol require. */
void tl__import_utf8_add(struct tl__buf *b, const char *s, size_t len);

/*
 * Applies tenantlogd's limits to rec. A request id or logger over its
 * limit is removed (the logger becomes default_logger) and kept whole in
 * the field "request_id_too_long" or "logger_too_long". An invalid tenant
 * id over its limit is cut to its first 256 bytes as sent, so that the
 * record still goes to quarantine, and kept whole in "tenant_too_long".
 * fields is the array rec->fields points to; the new fields are appended
 * to it, so it needs room for TL__IMPORT_RECORD_LIMIT_FIELDS more. cut
 * receives the cut tenant id. Counts the changes in report. Returns 0, or
 * -ENOMEM with rec unchanged.
 */
int tl__import_limit_record(struct tl__cli_rec *rec, struct tl_field *fields,
                            const char *default_logger, struct tl__buf *cut,
                            struct tl__import_report *report);

/*
 * Applies tenantlogd's limits to ev, whose strings must be valid UTF-8.
 * A request id, actor id or source over its limit is removed (the actor
 * id becomes "unknown", because an event needs one) and kept whole in the
 * detail "<member>_too_long". A target id over its limit is removed with
 * no copy, because the importer's target id is the request path, which
 * its detail "path" contains already. details is the array
 * ev->details points to; the new details are appended to it, so it needs
 * room for TL__IMPORT_AUDIT_LIMIT_FIELDS more. Counts the changes in
 * report.
 */
void tl__import_limit_audit(struct tl_audit_event *ev, struct tl_field *details,
                            struct tl__import_report *report);

#endif
