/* Native protocol frames for records and audit events, built with
 * jansson. The client adds the sequence number. */
#ifndef TL_CLI_OUTPUT_FRAME_H
#define TL_CLI_OUTPUT_FRAME_H

#include <jansson.h>

#include "common/buf.h"
#include "output.h"

/* Builds a record frame, or returns NULL when out of memory. Bytes that
 * are not valid UTF-8 become U+FFFD, as the JSON formatter writes them.
 * scratch is working memory. */
json_t *tl__cli_frame_record(const struct tl__cli_rec *r,
                             struct tl__buf *scratch);

/* Builds an audit frame with the event time ts_ns (0: when the daemon
 * receives it), or returns NULL when out of memory. */
json_t *tl__cli_frame_audit(const struct tl_audit_event *ev, int64_t ts_ns,
                            struct tl__buf *scratch);

#endif
