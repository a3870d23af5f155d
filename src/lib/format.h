/* Formatters: one record in, one line out (LF-terminated). */
#ifndef TL_LIB_FORMAT_H
#define TL_LIB_FORMAT_H

#include "../common/buf.h"
#include "record.h"

enum tl__format { TL__FORMAT_JSON = 1, TL__FORMAT_TEXT };

/* Appends r as one JSON object and a newline. Keys: ts, level, logger,
 * msg, tenant, request_id, trace_id, span_id (absent ones are omitted),
 * then the trusted keys _transport, _pid, _uid, _gid, _tenant_invalid,
 * then the fields in call order. A field key that is reserved is written
 * as "fields.<key>", and one already written gets the suffix "#N" (N the
 * field's position from 1), so no field is dropped and no key repeats. */
void tl__format_json(struct tl__buf *b, const struct tl__record *r);

/* Appends r as one human-readable line: time, level, [tenant/request],
 * logger, message, key=value fields. Colour when colour is true. */
void tl__format_text(struct tl__buf *b, const struct tl__record *r,
                     bool colour);

#endif
