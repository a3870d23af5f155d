/* Unit tests for time-based rotation boundaries: UTC, daylight-saving
 * gaps and repeats, half-hour zones, and a minute-by-minute reference
 * around each 2026 offset change of the zones tested. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "lib/rotate_time.h"

#define HOURLY TL__ROTATE_HOURLY
#define DAILY TL__ROTATE_DAILY
#define DAY_S 86400
#define REF_MAX 512

/* Selects the local time zone, as a process would through TZ. */
static void set_zone(const char *tz)
{
    assert_int_equal(setenv("TZ", tz, 1), 0);
    tzset();
}

static int64_t local_next(enum tl__rotate_every every, int at_min, int64_t t)
{
    return tl__rotate_next(every, at_min, false, t);
}

/* UTC ignores TZ, so these run with a +05:30 zone set on purpose. */
static void utc_hourly(void **state)
{
    (void)state;
    set_zone("Asia/Kolkata");
    /* 2026-01-01 23:59Z -> 2026-01-02 00:00Z */
    assert_int_equal(tl__rotate_next(HOURLY, 0, true, 1767311940), 1767312000);
    /* 2026-01-01 00:00Z is a boundary -> 01:00Z */
    assert_int_equal(tl__rotate_next(HOURLY, 0, true, 1767225600), 1767229200);
    /* 2026-01-01 00:59:59Z -> 01:00Z */
    assert_int_equal(tl__rotate_next(HOURLY, 0, true, 1767229199), 1767229200);
}

static void utc_daily_midnight(void **state)
{
    (void)state;
    set_zone("Asia/Kolkata");
    /* 2026-01-01 12:00Z -> 2026-01-02 00:00Z */
    assert_int_equal(tl__rotate_next(DAILY, 0, true, 1767268800), 1767312000);
    /* 2026-01-01 00:00Z is a boundary -> 2026-01-02 00:00Z */
    assert_int_equal(tl__rotate_next(DAILY, 0, true, 1767225600), 1767312000);
}

static void utc_daily_2359(void **state)
{
    (void)state;
    set_zone("Asia/Kolkata");
    /* 2026-01-01 12:00Z -> 23:59Z the same day */
    assert_int_equal(tl__rotate_next(DAILY, 1439, true, 1767268800),
                     1767311940);
    /* 2026-01-01 23:59Z is a boundary -> 2026-01-02 23:59Z */
    assert_int_equal(tl__rotate_next(DAILY, 1439, true, 1767311940),
                     1767398340);
    /* 2026-12-31 23:59:30Z -> 2027-01-01 23:59Z */
    assert_int_equal(tl__rotate_next(DAILY, 1439, true, 1798761570),
                     1798847940);
}

static void utc_before_epoch(void **state)
{
    (void)state;
    assert_int_equal(tl__rotate_next(HOURLY, 0, true, -1), 0);
    assert_int_equal(tl__rotate_next(HOURLY, 0, true, -3600), 0);
    assert_int_equal(tl__rotate_next(DAILY, 60, true, -1), 3600);
}

static void rotate_none(void **state)
{
    (void)state;
    assert_int_equal(tl__rotate_next(TL__ROTATE_NONE, 0, true, 0), INT64_MAX);
}

/* Daily at 02:30, which 2026-03-08 skips (02:00 EST becomes 03:00 EDT). */
static void new_york_daily_gap(void **state)
{
    (void)state;
    set_zone("America/New_York");
    /* 2026-03-08 00:00 EST -> 07:00Z, 03:00 EDT, the end of the gap */
    assert_int_equal(local_next(DAILY, 150, 1772946000), 1772953200);
    /* 2026-03-07 02:30 EST is a boundary -> the end of the gap */
    assert_int_equal(local_next(DAILY, 150, 1772868600), 1772953200);
    /* 03:00 EDT is a boundary -> 2026-03-09 02:30 EDT, 06:30Z */
    assert_int_equal(local_next(DAILY, 150, 1772953200), 1773037800);
}

/* Daily at 01:30, which 2026-11-01 shows twice (EDT, then EST). */
static void new_york_daily_repeat(void **state)
{
    (void)state;
    set_zone("America/New_York");
    /* 2026-11-01 00:00 EDT -> 05:30Z, the first 01:30 */
    assert_int_equal(local_next(DAILY, 90, 1793505600), 1793511000);
    /* the first 01:30 -> 2026-11-02 01:30 EST, not the second 01:30 */
    assert_int_equal(local_next(DAILY, 90, 1793511000), 1793601000);
    /* 01:10 EST, between the two 01:30s -> 2026-11-02 01:30 EST */
    assert_int_equal(local_next(DAILY, 90, 1793513400), 1793601000);
}

/* Checks n hourly steps from t against expected instants. */
static void check_hours(int64_t t, const int64_t *want, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        t = local_next(HOURLY, 0, t);
        assert_int_equal(t, want[i]);
    }
}

static void new_york_hourly_spring(void **state)
{
    /* From 2026-03-08 04:00Z (23:00 EST): 00:00 and 01:00 EST, then
     * 03:00, 04:00 and 05:00 EDT. */
    static const int64_t want[] = {1772946000, 1772949600, 1772953200,
                                   1772956800, 1772960400};

    (void)state;
    set_zone("America/New_York");
    check_hours(1772942400, want, sizeof(want) / sizeof(want[0]));
}

static void new_york_hourly_fall(void **state)
{
    /* From 2026-11-01 03:00Z (23:00 EDT): 00:00 and 01:00 EDT, 01:00,
     * 02:00 and 03:00 EST, each real hour once. */
    static const int64_t want[] = {1793505600, 1793509200, 1793512800,
                                   1793516400, 1793520000};

    (void)state;
    set_zone("America/New_York");
    check_hours(1793502000, want, sizeof(want) / sizeof(want[0]));
}

/* 2026-03-29 01:00 GMT becomes 02:00 BST; 2026-10-25 02:00 BST becomes
 * 01:00 GMT. */
static void london_daily(void **state)
{
    (void)state;
    set_zone("Europe/London");
    /* 01:30 is skipped: 2026-03-28 23:30Z -> 01:00Z, 02:00 BST */
    assert_int_equal(local_next(DAILY, 90, 1774740600), 1774746000);
    /* the end of the gap -> 2026-03-30 01:30 BST, 00:30Z */
    assert_int_equal(local_next(DAILY, 90, 1774746000), 1774830600);
    /* 01:30 repeats: 2026-10-24 23:00Z -> 00:30Z, 01:30 BST */
    assert_int_equal(local_next(DAILY, 90, 1792882800), 1792888200);
    /* the first 01:30 -> 2026-10-26 01:30 GMT */
    assert_int_equal(local_next(DAILY, 90, 1792888200), 1792978200);
}

static void london_hourly(void **state)
{
    /* From 2026-03-28 23:30Z: 00:00 GMT, 02:00 BST, 03:00 BST. */
    static const int64_t want[] = {1774742400, 1774746000, 1774749600};

    (void)state;
    set_zone("Europe/London");
    check_hours(1774740600, want, sizeof(want) / sizeof(want[0]));
}

/* Lord Howe Island moves 30 minutes: 2026-10-04 02:00 +10:30 becomes
 * 02:30 +11, and 2026-04-05 02:00 +11 becomes 01:30 +10:30. */
static void lord_howe_hourly_spring(void **state)
{
    /* From 2026-10-03 14:00Z (00:30 +10:30): 01:00 +10:30 at 14:30Z;
     * 02:00 is never shown, so 03:00 +11 at 16:00Z is next. */
    static const int64_t want[] = {1791037800, 1791043200};

    (void)state;
    set_zone("Australia/Lord_Howe");
    check_hours(1791036000, want, sizeof(want) / sizeof(want[0]));
}

static void lord_howe_hourly_fall(void **state)
{
    /* From 2026-04-04 13:30Z (00:30 +11): 01:00 +11 at 14:00Z; the clock
     * leaves 01:59:59 +11 for 01:30 +10:30, so 02:00 +10:30 at 15:30Z. */
    static const int64_t want[] = {1775311200, 1775316600};

    (void)state;
    set_zone("Australia/Lord_Howe");
    check_hours(1775309400, want, sizeof(want) / sizeof(want[0]));
}

static void lord_howe_daily(void **state)
{
    (void)state;
    set_zone("Australia/Lord_Howe");
    /* 02:00 is skipped: 2026-10-03 14:00Z -> 15:30Z, 02:30 +11 */
    assert_int_equal(local_next(DAILY, 120, 1791036000), 1791041400);
    /* 01:45 repeats: 2026-04-04 13:30Z -> 14:45Z, 01:45 +11 */
    assert_int_equal(local_next(DAILY, 105, 1775309400), 1775313900);
    /* the first 01:45 -> 2026-04-06 01:45 +10:30, 15:15Z */
    assert_int_equal(local_next(DAILY, 105, 1775313900), 1775402100);
}

/* India is +05:30 all year, so local hours start at half past in UTC. */
static void kolkata_hourly(void **state)
{
    /* From 2026-01-01 00:00Z (05:30 IST): 06:00 and 07:00 IST. */
    static const int64_t want[] = {1767227400, 1767231000};

    (void)state;
    set_zone("Asia/Kolkata");
    check_hours(1767225600, want, sizeof(want) / sizeof(want[0]));
}

static void kolkata_daily(void **state)
{
    (void)state;
    set_zone("Asia/Kolkata");
    /* 2026-01-01 00:00Z -> 18:30Z, midnight IST */
    assert_int_equal(local_next(DAILY, 0, 1767225600), 1767292200);
    /* midnight IST is a boundary -> one day later */
    assert_int_equal(local_next(DAILY, 0, 1767292200), 1767292200 + DAY_S);
}

/* A clock stepped backwards gives the boundary after the new time, and
 * rotation goes on from there. */
static void clock_backwards(void **state)
{
    (void)state;
    /* 2026-05-02 00:00Z is a boundary -> 2026-05-03 00:00Z */
    assert_int_equal(tl__rotate_next(DAILY, 0, true, 1777680000), 1777766400);
    /* stepped back to 2026-05-01 23:59Z -> 2026-05-02 00:00Z again */
    assert_int_equal(tl__rotate_next(DAILY, 0, true, 1777679940), 1777680000);
    set_zone("America/New_York");
    /* 2026-11-01 06:30Z (01:30 EST) -> 07:00Z */
    assert_int_equal(local_next(HOURLY, 0, 1793514600), 1793516400);
    /* stepped back an hour to 05:30Z (01:30 EDT) -> 06:00Z */
    assert_int_equal(local_next(HOURLY, 0, 1793511000), 1793512800);
    /* from that boundary -> 07:00Z */
    assert_int_equal(local_next(HOURLY, 0, 1793512800), 1793516400);
}

/* Seconds since 1970-01-01 00:00 on the local clock at t. */
static int64_t ref_wall(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    assert_non_null(localtime_r(&tt, &tm));
    return (int64_t)timegm(&tm);
}

/* Lists every whole minute in (from, to] whose local clock shows minute
 * 0; the zones tested change offset only on whole minutes. */
static size_t ref_hours(int64_t from, int64_t to, int64_t *out)
{
    size_t n = 0;
    int64_t u;

    for (u = from + 60 - from % 60; u <= to && n < REF_MAX; u += 60) {
        if (ref_wall(u) % 3600 == 0) {
            out[n++] = u;
        }
    }
    return n;
}

/* Lists, for each local date, the first whole minute in (from, to] whose
 * local clock reaches at_min past midnight of that date. */
static size_t ref_days(int64_t from, int64_t to, int at_min, int64_t *out)
{
    int64_t start = from - 2 * DAY_S;
    int64_t target = ref_wall(start) - ref_wall(start) % DAY_S + at_min * 60;
    size_t n = 0;
    int64_t u;

    for (u = start; u <= to && n < REF_MAX; u += 60) {
        while (ref_wall(u) >= target) {
            if (u > from) {
                out[n++] = u;
            }
            target += DAY_S;
        }
    }
    return n;
}

/* Steps from `from` to `to` and compares with the reference list. */
static void check_steps(enum tl__rotate_every every, int at_min, int64_t from,
                        int64_t to, const int64_t *want, size_t n)
{
    int64_t t = from;
    size_t i;

    for (i = 0; i < n; i++) {
        t = local_next(every, at_min, t);
        if (t != want[i]) {
            print_error("step %zu from %lld, at_min %d\n", i, (long long)from,
                        at_min);
        }
        assert_int_equal(t, want[i]);
    }
    assert_true(local_next(every, at_min, t) > to);
}

/* Compares hourly and daily steps with the references over four days
 * around each 2026 offset change of these zones (and a plain day in
 * Kolkata). Starts are whole hours in UTC. */
static void reference_sweep(void **state)
{
    static const struct {
        const char *zone;
        int64_t from;
    } cases[] = {
        {"America/New_York", 1772769600},    /* 2026-03-06 04:00Z */
        {"America/New_York", 1793332800},    /* 2026-10-30 04:00Z */
        {"Europe/London", 1774569600},       /* 2026-03-27 00:00Z */
        {"Europe/London", 1792713600},       /* 2026-10-23 00:00Z */
        {"Australia/Lord_Howe", 1775131200}, /* 2026-04-02 12:00Z */
        {"Australia/Lord_Howe", 1790856000}, /* 2026-10-01 12:00Z */
        {"Asia/Kolkata", 1767225600},        /* 2026-01-01 00:00Z */
    };
    static const int at_mins[] = {0, 59, 60, 90, 105, 119, 120, 150, 1439};
    int64_t want[REF_MAX];
    size_t i;
    size_t j;
    size_t n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t to = cases[i].from + 4 * DAY_S;

        set_zone(cases[i].zone);
        n = ref_hours(cases[i].from, to, want);
        check_steps(HOURLY, 0, cases[i].from, to, want, n);
        for (j = 0; j < sizeof(at_mins) / sizeof(at_mins[0]); j++) {
            n = ref_days(cases[i].from, to, at_mins[j], want);
            check_steps(DAILY, at_mins[j], cases[i].from, to, want, n);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utc_hourly),
        cmocka_unit_test(utc_daily_midnight),
        cmocka_unit_test(utc_daily_2359),
        cmocka_unit_test(utc_before_epoch),
        cmocka_unit_test(rotate_none),
        cmocka_unit_test(new_york_daily_gap),
        cmocka_unit_test(new_york_daily_repeat),
        cmocka_unit_test(new_york_hourly_spring),
        cmocka_unit_test(new_york_hourly_fall),
        cmocka_unit_test(london_daily),
        cmocka_unit_test(london_hourly),
        cmocka_unit_test(lord_howe_hourly_spring),
        cmocka_unit_test(lord_howe_hourly_fall),
        cmocka_unit_test(lord_howe_daily),
        cmocka_unit_test(kolkata_hourly),
        cmocka_unit_test(kolkata_daily),
        cmocka_unit_test(clock_backwards),
        cmocka_unit_test(reference_sweep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
