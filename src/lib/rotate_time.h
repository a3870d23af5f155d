/* Time-based rotation: where the next hourly or daily boundary falls, in
 * UTC or in the local time zone (TZ), across daylight-saving changes. */
#ifndef TL_LIB_ROTATE_TIME_H
#define TL_LIB_ROTATE_TIME_H

#include <stdint.h>

#include "config.h"

/*
 * Returns the first boundary strictly after t (seconds since the epoch)
 * for a sink rotating every `every` (not TL__ROTATE_NONE):
 *   hourly: each instant where the clock (UTC or local) shows minute 0;
 *   daily:  each instant where it shows at_min minutes after midnight.
 * In local time, a daily time that a spring-forward gap skips falls at
 * the end of the gap. A time that a fall-back repeats falls once, at its
 * first occurrence. Returns INT64_MAX (no boundary) for TL__ROTATE_NONE.
 * at_min is taken modulo a day.
 */
int64_t tl__rotate_next(enum tl__rotate_every every, int at_min, bool utc,
                        int64_t t);

#endif
