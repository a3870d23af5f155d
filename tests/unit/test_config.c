/* Unit tests for the configuration parser: the embedded default, every
 * kind of error with its line and column, files and the examples. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/config.h"

#define NAME "test.yaml"

static struct tl__config *parse_ok(const char *yaml)
{
    struct tl__config *cfg = NULL;
    char err[512] = "";
    int rc;

    rc = tl__config_parse(yaml, strlen(yaml), NAME, &cfg, err, sizeof(err));
    if (rc != 0) {
        print_error("unexpected error: %s\n", err);
    }
    assert_int_equal(rc, 0);
    assert_non_null(cfg);
    return cfg;
}

/* Parses yaml, which must fail with a message that starts with want. */
static void check_error(const char *yaml, const char *want)
{
    struct tl__config *cfg = NULL;
    char err[512] = "";
    int rc;

    rc = tl__config_parse(yaml, strlen(yaml), NAME, &cfg, err, sizeof(err));
    if (strncmp(err, want, strlen(want)) != 0) {
        print_error("got:  %s\nwant: %s...\n", err, want);
    }
    assert_int_equal(rc, TL_ECONFIG);
    assert_null(cfg);
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
}

static void check_default_sinks(const struct tl__config *cfg)
{
    const struct tl__sink_conf *s = cfg->sinks;

    assert_int_equal(cfg->n_sinks, 2);
    assert_string_equal(s[0].name, "console");
    assert_int_equal(s[0].type, TL__SINK_CONSOLE);
    assert_int_equal(s[0].level, TL_WARNING);
    assert_int_equal(s[0].format, TL__FORMAT_TEXT);
    assert_int_equal(s[0].colour, TL__COLOUR_AUTO);
    assert_null(s[0].base);
    assert_null(s[0].path);
    assert_string_equal(s[1].name, "files");
    assert_int_equal(s[1].type, TL__SINK_FILE);
    assert_int_equal(s[1].level, TL_DEBUG);
    assert_int_equal(s[1].format, TL__FORMAT_JSON);
    assert_string_equal(s[1].base, "./var/log");
    assert_string_equal(s[1].path, "{tenant}/app.log");
    assert_int_equal(s[1].rotate, TL__ROTATE_NONE);
    assert_int_equal(s[1].compress, TL__COMPRESS_ZSTD);
    assert_int_equal(s[1].fallback, TL__FALLBACK_STDERR);
    assert_int_equal(s[1].spool_bytes, 4194304);
}

static void check_default_scalars(const struct tl__config *cfg)
{
    assert_int_equal(cfg->queue_capacity, 65536);
    assert_true(cfg->queue_block);
    assert_int_equal(cfg->close_timeout_ms, 5000);
    assert_string_equal(cfg->audit_path, "./var/audit.db");
    assert_string_equal(cfg->daemon_socket, "./var/tenantlogd.sock");
}

static void default_values(void **state)
{
    const char *yaml = tl__config_default_yaml;
    struct tl__config *cfg;

    (void)state;
    cfg = parse_ok(yaml);
    check_default_sinks(cfg);
    check_default_scalars(cfg);
    assert_string_equal(cfg->daemon_stats, "./var/tenantlogd.stats");
    assert_int_equal(cfg->n_syslog, 2);
    assert_string_equal(cfg->syslog[0].path, "./var/syslog.sock");
    assert_false(cfg->syslog[0].stream);
    assert_null(cfg->syslog[0].default_tenant);
    assert_string_equal(cfg->syslog[1].path, "./var/syslog-stream.sock");
    assert_true(cfg->syslog[1].stream);
    assert_null(cfg->syslog[1].default_tenant);
    assert_int_equal(cfg->text_len, strlen(yaml));
    assert_memory_equal(cfg->text, yaml, strlen(yaml));
    tl__config_free(cfg);
}

/* An empty file gives the defaults of the embedded configuration, except
 * that stats and syslog listeners are opt-in. */
static void empty_defaults(void **state)
{
    static const char *const texts[] = {
        "", "# only a comment\n", "---\n", "\n\n", "~\n",
    };
    struct tl__config *cfg;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        cfg = parse_ok(texts[i]);
        check_default_sinks(cfg);
        check_default_scalars(cfg);
        assert_null(cfg->daemon_stats);
        assert_int_equal(cfg->n_syslog, 0);
        assert_null(cfg->syslog);
        assert_int_equal(cfg->text_len, strlen(texts[i]));
        tl__config_free(cfg);
    }
}

static void empty_sections(void **state)
{
    struct tl__config *cfg;

    (void)state;
    cfg = parse_ok("queue:\naudit:\ndaemon:\n  syslog: []\n");
    check_default_sinks(cfg);
    check_default_scalars(cfg);
    assert_int_equal(cfg->n_syslog, 0);
    tl__config_free(cfg);
}

static void full_values(void **state)
{
    struct tl__config *cfg;

    (void)state;
    cfg = parse_ok("sinks:\n"
                   "  - {name: out_1, type: console, level: WARN,\n"
                   "     format: json, colour: never}\n"
                   "  - name: f\n"
                   "    type: file\n"
                   "    base: /srv/log\n"
                   "    path: 'logs/{tenant}-{tenant}.log'\n"
                   "    format: text\n"
                   "queue: {capacity: 16, full: drop, close_timeout_ms: 0}\n"
                   "audit: {path: a.db}\n"
                   "daemon:\n"
                   "  socket: d.sock\n"
                   "  stats: d.stats\n"
                   "  syslog:\n"
                   "    - {path: s.sock, type: stream, tenant: ops}\n");
    assert_int_equal(cfg->n_sinks, 2);
    assert_string_equal(cfg->sinks[0].name, "out_1");
    assert_int_equal(cfg->sinks[0].level, TL_WARNING);
    assert_int_equal(cfg->sinks[0].format, TL__FORMAT_JSON);
    assert_int_equal(cfg->sinks[0].colour, TL__COLOUR_NEVER);
    assert_int_equal(cfg->sinks[1].level, TL_INFO);
    assert_int_equal(cfg->sinks[1].format, TL__FORMAT_TEXT);
    assert_string_equal(cfg->sinks[1].base, "/srv/log");
    assert_string_equal(cfg->sinks[1].path, "logs/{tenant}-{tenant}.log");
    assert_int_equal(cfg->queue_capacity, 16);
    assert_false(cfg->queue_block);
    assert_int_equal(cfg->close_timeout_ms, 0);
    assert_string_equal(cfg->audit_path, "a.db");
    assert_string_equal(cfg->daemon_socket, "d.sock");
    assert_string_equal(cfg->daemon_stats, "d.stats");
    assert_int_equal(cfg->n_syslog, 1);
    assert_true(cfg->syslog[0].stream);
    assert_string_equal(cfg->syslog[0].default_tenant, "ops");
    tl__config_free(cfg);
}

static void limits_accepted(void **state)
{
    struct tl__config *cfg;

    (void)state;
    cfg = parse_ok("queue:\n"
                   "  capacity: 16777216\n"
                   "  close_timeout_ms: 600000\n");
    assert_int_equal(cfg->queue_capacity, 16777216);
    assert_int_equal(cfg->close_timeout_ms, 600000);
    tl__config_free(cfg);
}

static void error_level(void **state)
{
    (void)state;
    check_error("sinks:\n"
                "  - name: console\n"
                "    type: console\n"
                "    level: verbose\n",
                NAME ":4:12: invalid level \"verbose\"; use one of emerg, "
                     "alert, crit, error, warning, notice, info, debug");
}

static void error_unknown_key(void **state)
{
    (void)state;
    check_error("queue:\n"
                "  capacity: 100\n"
                "  colour: auto\n",
                NAME ":3:3: unknown key \"colour\" in queue; known keys: "
                     "capacity, full, close_timeout_ms");
    check_error("logging:\n  level: info\n",
                NAME ":1:1: unknown key \"logging\" in the configuration; "
                     "known keys: sinks, queue, audit, daemon");
    check_error("sinks:\n  - name: a\n    type: console\n    colur: auto\n",
                NAME ":4:5: unknown key \"colur\" in a sink; known keys: "
                     "name, type, level, format, colour, base, path");
}

static void error_missing_type(void **state)
{
    (void)state;
    check_error("sinks:\n"
                "  - name: a\n"
                "    level: info\n",
                NAME ":2:5: sink \"a\" is missing required key \"type\"");
}

static void error_missing_name(void **state)
{
    (void)state;
    check_error("sinks:\n"
                "  - type: console\n",
                NAME ":2:5: sink is missing required key \"name\"");
}

static void error_missing_base(void **state)
{
    (void)state;
    check_error("sinks:\n"
                "  - name: f\n"
                "    type: file\n"
                "    path: a.log\n",
                NAME ":2:5: file sink \"f\" is missing required key "
                     "\"base\"");
    check_error("sinks:\n"
                "  - name: f\n"
                "    type: file\n"
                "    base: x\n",
                NAME ":2:5: file sink \"f\" is missing required key "
                     "\"path\"");
}

static void error_wrong_sink_keys(void **state)
{
    (void)state;
    check_error("sinks:\n"
                "  - {name: f, type: file, base: x, path: y, colour: auto}\n",
                NAME ":2:45: colour applies only to console sinks");
    check_error("sinks:\n"
                "  - {name: c, type: console, base: x}\n",
                NAME ":2:30: base applies only to file sinks");
}

/* A file sink with the given extra keys, in flow style on line 2. */
#define ROTATE_SINK(extra)                                                     \
    "sinks:\n  - {name: f, type: file, base: x, path: y, " extra "}\n"

static void rotate_values(void **state)
{
    struct tl__config *cfg;

    (void)state;
    cfg = parse_ok(ROTATE_SINK("max_bytes: 4096, keep: 1"));
    assert_int_equal(cfg->sinks[0].max_bytes, 4096);
    assert_int_equal(cfg->sinks[0].keep, 1);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("max_bytes: 1099511627776, keep: 10000"));
    assert_int_equal(cfg->sinks[0].max_bytes, 1099511627776ULL);
    assert_int_equal(cfg->sinks[0].keep, 10000);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("level: info"));
    assert_int_equal(cfg->sinks[0].max_bytes, 0);
    assert_int_equal(cfg->sinks[0].keep, 10);
    tl__config_free(cfg);
}

static void error_rotate_range(void **state)
{
    (void)state;
    check_error(ROTATE_SINK("max_bytes: 4095"),
                NAME ":2:56: max_bytes 4095 is out of range; use a value "
                     "from 4096 to 1099511627776");
    check_error(ROTATE_SINK("max_bytes: 1099511627777"),
                NAME ":2:56: max_bytes 1099511627777 is out of range");
    check_error(ROTATE_SINK("keep: 0"),
                NAME ":2:51: keep 0 is out of range; use a value from 1 to "
                     "10000");
    check_error(ROTATE_SINK("keep: 10001"),
                NAME ":2:51: keep 10001 is out of range");
    check_error(ROTATE_SINK("keep: \"3\""),
                NAME ":2:51: invalid keep \"3\"; use a decimal integer");
}

static void error_rotate_console(void **state)
{
    (void)state;
    check_error("sinks:\n  - {name: c, type: console, max_bytes: 65536}\n",
                NAME ":2:30: max_bytes applies only to file sinks; remove "
                     "it from console sink \"c\"");
    check_error("sinks:\n  - {name: c, type: console, keep: 3}\n",
                NAME ":2:30: keep applies only to file sinks");
}

static void fsync_values(void **state)
{
    struct tl__config *cfg;

    (void)state;
    cfg = parse_ok(ROTATE_SINK("level: info"));
    assert_int_equal(cfg->sinks[0].fsync_ms, TL__FSYNC_NEVER);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("fsync: batch"));
    assert_int_equal(cfg->sinks[0].fsync_ms, TL__FSYNC_BATCH);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("fsync: never"));
    assert_int_equal(cfg->sinks[0].fsync_ms, TL__FSYNC_NEVER);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("fsync: 250"));
    assert_int_equal(cfg->sinks[0].fsync_ms, 250);
    tl__config_free(cfg);
}

static void error_fsync_values(void **state)
{
    (void)state;
    check_error(ROTATE_SINK("fsync: 0"),
                NAME ":2:52: invalid fsync \"0\"; use never, batch, or a "
                     "number of milliseconds from 1 to 3600000");
    check_error(ROTATE_SINK("fsync: -1"),
                NAME ":2:52: invalid fsync \"-1\"; use never, batch, or a "
                     "number of milliseconds");
    check_error(ROTATE_SINK("fsync: 1.5"),
                NAME ":2:52: invalid fsync \"1.5\"; use never, batch, or a "
                     "number of milliseconds");
    check_error(ROTATE_SINK("fsync: sometimes"),
                NAME ":2:52: invalid fsync \"sometimes\"; use never, batch, "
                     "or a number of milliseconds");
    check_error("sinks:\n  - {name: c, type: console, fsync: batch}\n",
                NAME ":2:30: fsync applies only to file sinks");
}

static void time_rotate_values(void **state)
{
    struct tl__config *cfg;

    (void)state;
    cfg = parse_ok(ROTATE_SINK("level: info"));
    assert_int_equal(cfg->sinks[0].rotate, TL__ROTATE_NONE);
    assert_int_equal(cfg->sinks[0].rotate_at_min, 0);
    assert_false(cfg->sinks[0].rotate_utc);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("rotate: hourly, rotate_zone: utc"));
    assert_int_equal(cfg->sinks[0].rotate, TL__ROTATE_HOURLY);
    assert_true(cfg->sinks[0].rotate_utc);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("rotate: daily"));
    assert_int_equal(cfg->sinks[0].rotate, TL__ROTATE_DAILY);
    assert_int_equal(cfg->sinks[0].rotate_at_min, 0);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("rotate: daily, rotate_at: \"02:30\", "
                               "rotate_zone: local"));
    assert_int_equal(cfg->sinks[0].rotate_at_min, 150);
    assert_false(cfg->sinks[0].rotate_utc);
    tl__config_free(cfg);
}

/* YAML 1.1 reads an unquoted 23:59 as a base-60 number, but tenantlog
 * reads it as a time of day. */
static void rotate_at_unquoted(void **state)
{
    struct tl__config *cfg;

    (void)state;
    cfg = parse_ok("sinks:\n  - name: f\n    type: file\n    base: x\n"
                   "    path: y\n    rotate: daily\n    rotate_at: 23:59\n");
    assert_int_equal(cfg->sinks[0].rotate_at_min, 1439);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("rotate: daily, rotate_at: 00:00"));
    assert_int_equal(cfg->sinks[0].rotate_at_min, 0);
    tl__config_free(cfg);
}

static void max_age_values(void **state)
{
    static const struct {
        const char *yaml;
        int64_t seconds;
    } cases[] = {
        {ROTATE_SINK("level: info"), 0},
        {ROTATE_SINK("max_age: 0"), 0},
        {ROTATE_SINK("max_age: 0d"), 0},
        {ROTATE_SINK("max_age: 30s"), 30},
        {ROTATE_SINK("max_age: 15m"), 900},
        {ROTATE_SINK("max_age: 12h"), 43200},
        {ROTATE_SINK("max_age: 7d"), 604800},
        {ROTATE_SINK("max_age: 36500d"), 3153600000LL},
    };
    struct tl__config *cfg;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cfg = parse_ok(cases[i].yaml);
        assert_int_equal(cfg->sinks[0].max_age_s, cases[i].seconds);
        tl__config_free(cfg);
    }
}

/* Parses a file sink with key: value and returns what the key stored. */
static uint64_t parse_size(const char *key, const char *value)
{
    struct tl__config *cfg;
    char yaml[256];
    uint64_t n = 0;

    snprintf(yaml, sizeof(yaml), ROTATE_SINK("fallback: spool, %s: %s"), key,
             value);
    cfg = parse_ok(yaml);
    if (strcmp(key, "max_bytes") == 0) {
        n = cfg->sinks[0].max_bytes;
    } else if (strcmp(key, "max_total_bytes") == 0) {
        n = cfg->sinks[0].max_total_bytes;
    } else {
        n = cfg->sinks[0].spool_bytes;
    }
    tl__config_free(cfg);
    return n;
}

static void size_values(void **state)
{
    (void)state;
    assert_int_equal(parse_size("max_total_bytes", "0"), 0);
    assert_int_equal(parse_size("max_total_bytes", "500000000"), 500000000);
    assert_int_equal(parse_size("max_total_bytes", "500M"), 524288000);
    assert_int_equal(parse_size("max_total_bytes", "2G"), 2147483648ULL);
    assert_int_equal(parse_size("max_total_bytes", "64K"), 65536);
    assert_int_equal(parse_size("max_total_bytes", "64KiB"), 65536);
    assert_int_equal(parse_size("max_total_bytes", "3MiB"), 3145728);
    assert_int_equal(parse_size("max_total_bytes", "1048576G"),
                     1125899906842624ULL);
    assert_int_equal(parse_size("max_bytes", "4K"), 4096);
    assert_int_equal(parse_size("max_bytes", "64M"), 67108864);
    assert_int_equal(parse_size("max_bytes", "1024GiB"), 1099511627776ULL);
    assert_int_equal(parse_size("spool_bytes", "64K"), 65536);
    assert_int_equal(parse_size("spool_bytes", "16M"), 16777216);
    assert_int_equal(parse_size("spool_bytes", "1G"), 1073741824);
}

static void compress_values(void **state)
{
    struct tl__config *cfg;

    (void)state;
    cfg = parse_ok(ROTATE_SINK("level: info"));
    assert_int_equal(cfg->sinks[0].compress, TL__COMPRESS_ZSTD);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("compress: zstd"));
    assert_int_equal(cfg->sinks[0].compress, TL__COMPRESS_ZSTD);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("compress: gzip"));
    assert_int_equal(cfg->sinks[0].compress, TL__COMPRESS_GZIP);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("compress: none"));
    assert_int_equal(cfg->sinks[0].compress, TL__COMPRESS_NONE);
    tl__config_free(cfg);
}

static void fallback_values(void **state)
{
    struct tl__config *cfg;

    (void)state;
    cfg = parse_ok(ROTATE_SINK("level: info"));
    assert_int_equal(cfg->sinks[0].fallback, TL__FALLBACK_STDERR);
    assert_int_equal(cfg->sinks[0].spool_bytes, 4194304);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("fallback: stderr"));
    assert_int_equal(cfg->sinks[0].fallback, TL__FALLBACK_STDERR);
    tl__config_free(cfg);
    cfg = parse_ok(ROTATE_SINK("fallback: spool"));
    assert_int_equal(cfg->sinks[0].fallback, TL__FALLBACK_SPOOL);
    assert_int_equal(cfg->sinks[0].spool_bytes, 4194304);
    tl__config_free(cfg);
}

/* The daily, compressed, spooled sink of docs/configuration.md. */
static void daily_spooled_sink(void **state)
{
    struct tl__config *cfg;
    const struct tl__sink_conf *s;

    (void)state;
    cfg = parse_ok("sinks:\n"
                   "  - name: daily\n"
                   "    type: file\n"
                   "    base: /var/log/myservice\n"
                   "    path: \"{tenant}/app.log\"\n"
                   "    rotate: daily\n"
                   "    rotate_at: \"02:30\"\n"
                   "    rotate_zone: utc\n"
                   "    compress: zstd\n"
                   "    keep: 1000\n"
                   "    max_age: 30d\n"
                   "    max_total_bytes: 10G\n"
                   "    fallback: spool\n"
                   "    spool_bytes: 16M\n");
    s = &cfg->sinks[0];
    assert_int_equal(s->rotate, TL__ROTATE_DAILY);
    assert_int_equal(s->rotate_at_min, 150);
    assert_true(s->rotate_utc);
    assert_int_equal(s->compress, TL__COMPRESS_ZSTD);
    assert_int_equal(s->keep, 1000);
    assert_int_equal(s->max_age_s, 2592000);
    assert_int_equal(s->max_total_bytes, 10737418240ULL);
    assert_int_equal(s->fallback, TL__FALLBACK_SPOOL);
    assert_int_equal(s->spool_bytes, 16777216);
    assert_int_equal(s->max_bytes, 0);
    tl__config_free(cfg);
}

static void error_rotate_choice(void **state)
{
    (void)state;
    check_error(ROTATE_SINK("rotate: weekly"),
                NAME ":2:53: invalid rotate \"weekly\"; use one of hourly, "
                     "daily");
    check_error(ROTATE_SINK("rotate: hourly, rotate_zone: gmt"),
                NAME ":2:74: invalid rotate_zone \"gmt\"; use one of local, "
                     "utc");
}

static void error_rotate_at_value(void **state)
{
    static const char *const values[] = {
        "\"24:00\"", "\"02:60\"", "\"2:30\"", "\"0230\"", "\"02:30:00\"",
    };
    char yaml[256];
    char want[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        snprintf(yaml, sizeof(yaml),
                 ROTATE_SINK("rotate: daily, rotate_at: %s"), values[i]);
        snprintf(want, sizeof(want),
                 NAME ":2:71: invalid rotate_at %s; use HH:MM on a 24-hour "
                      "clock, from 00:00 to 23:59, such as \"02:30\"",
                 values[i]);
        check_error(yaml, want);
    }
}

static void error_rotate_at_needs_daily(void **state)
{
    (void)state;
    check_error(ROTATE_SINK("rotate: hourly, rotate_at: \"02:30\""),
                NAME ":2:61: rotate_at applies only to rotate: daily, but "
                     "file sink \"f\" rotates hourly, at minute 0; remove "
                     "rotate_at or set rotate: daily");
    check_error(ROTATE_SINK("rotate_at: \"02:30\""),
                NAME ":2:45: rotate_at needs rotate: daily, which file sink "
                     "\"f\" lacks; add rotate: daily or remove rotate_at");
    check_error(ROTATE_SINK("rotate_zone: utc"),
                NAME ":2:45: rotate_zone needs rotate, which file sink \"f\" "
                     "lacks");
}

static void error_max_age(void **state)
{
    (void)state;
    check_error(ROTATE_SINK("max_age: 30"),
                NAME ":2:54: invalid max_age \"30\"; use a whole number with "
                     "the unit s, m, h or d, such as 7d, without quotes, or 0 "
                     "for no limit");
    check_error(ROTATE_SINK("max_age: 7w"),
                NAME ":2:54: invalid max_age \"7w\"");
    check_error(ROTATE_SINK("max_age: 7D"),
                NAME ":2:54: invalid max_age \"7D\"");
    check_error(ROTATE_SINK("max_age: 1.5h"),
                NAME ":2:54: invalid max_age \"1.5h\"");
    check_error(ROTATE_SINK("max_age: -1d"),
                NAME ":2:54: invalid max_age \"-1d\"");
    check_error(ROTATE_SINK("max_age: 07d"),
                NAME ":2:54: invalid max_age \"07d\"");
    check_error(ROTATE_SINK("max_age: '7d'"),
                NAME ":2:54: invalid max_age \"7d\"");
    check_error(ROTATE_SINK("max_age: 7 d"),
                NAME ":2:54: invalid max_age \"7 d\"");
    check_error(ROTATE_SINK("max_age: 36501d"),
                NAME ":2:54: max_age 36501d is out of range; use at most "
                     "36500d, or 0 for no limit");
    check_error(ROTATE_SINK("max_age: 99999999999999999999999s"),
                NAME ":2:54: max_age 99999999999999999999999s is out of "
                     "range");
}

static void error_size_format(void **state)
{
    (void)state;
    check_error(ROTATE_SINK("max_total_bytes: 2T"),
                NAME ":2:62: invalid max_total_bytes \"2T\"; use a whole "
                     "number of bytes, optionally followed by K, M or G "
                     "(powers of 1024, also written KiB, MiB, GiB), such as "
                     "64M, without quotes");
    check_error(ROTATE_SINK("max_total_bytes: 500MB"),
                NAME ":2:62: invalid max_total_bytes \"500MB\"");
    check_error(ROTATE_SINK("max_total_bytes: 500m"),
                NAME ":2:62: invalid max_total_bytes \"500m\"");
    check_error(ROTATE_SINK("max_total_bytes: 1.5G"),
                NAME ":2:62: invalid max_total_bytes \"1.5G\"");
    check_error(ROTATE_SINK("max_total_bytes: -1"),
                NAME ":2:62: invalid max_total_bytes \"-1\"");
    check_error(ROTATE_SINK("max_total_bytes: '2G'"),
                NAME ":2:62: invalid max_total_bytes \"2G\"");
    check_error(ROTATE_SINK("max_bytes: 64 K"),
                NAME ":2:56: invalid max_bytes \"64 K\"");
    check_error(ROTATE_SINK("fallback: spool, spool_bytes: 0x100000"),
                NAME ":2:75: invalid spool_bytes \"0x100000\"");
}

static void error_size_range(void **state)
{
    (void)state;
    check_error(ROTATE_SINK("max_total_bytes: 1K"),
                NAME ":2:62: max_total_bytes 1K is out of range; use 0 for no "
                     "limit, or a value from 4096 to 1125899906842624 bytes "
                     "(4K to 1048576G)");
    check_error(ROTATE_SINK("max_total_bytes: 1048577G"),
                NAME ":2:62: max_total_bytes 1048577G is out of range");
    check_error(ROTATE_SINK("max_total_bytes: 99999999999999999999G"),
                NAME ":2:62: max_total_bytes 99999999999999999999G is out of "
                     "range");
    check_error(ROTATE_SINK("max_bytes: 3K"),
                NAME ":2:56: max_bytes 3K is out of range; use a value from "
                     "4096 to 1099511627776 bytes (4K to 1024G)");
    check_error(ROTATE_SINK("max_bytes: 1025G"),
                NAME ":2:56: max_bytes 1025G is out of range");
    check_error(ROTATE_SINK("fallback: spool, spool_bytes: 32K"),
                NAME ":2:75: spool_bytes 32K is out of range; use a value "
                     "from 65536 to 1073741824 bytes (64K to 1G)");
    check_error(ROTATE_SINK("fallback: spool, spool_bytes: 0"),
                NAME ":2:75: spool_bytes 0 is out of range");
    check_error(ROTATE_SINK("fallback: spool, spool_bytes: 1025M"),
                NAME ":2:75: spool_bytes 1025M is out of range");
}

static void error_compress_fallback(void **state)
{
    (void)state;
    check_error(ROTATE_SINK("compress: lz4"),
                NAME ":2:55: invalid compress \"lz4\"; use one of zstd, gzip, "
                     "none");
    check_error(ROTATE_SINK("fallback: syslog"),
                NAME ":2:55: invalid fallback \"syslog\"; use one of stderr, "
                     "spool");
    check_error(ROTATE_SINK("spool_bytes: 1M"),
                NAME ":2:45: spool_bytes applies only to fallback: spool, "
                     "which file sink \"f\" lacks; add fallback: spool or "
                     "remove spool_bytes");
    check_error(ROTATE_SINK("fallback: stderr, spool_bytes: 1M"),
                NAME ":2:63: spool_bytes applies only to fallback: spool");
}

/* Each key that only file sinks take, on a console sink. */
static void error_file_keys_console(void **state)
{
    static const char *const keys[] = {
        "rotate: daily",   "rotate_at: \"02:30\"", "rotate_zone: utc",
        "max_age: 7d",     "max_total_bytes: 2G",  "compress: gzip",
        "fallback: spool", "spool_bytes: 1M",
    };
    char yaml[256];
    char want[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(yaml, sizeof(yaml),
                 "sinks:\n  - {name: c, type: console, %s}\n", keys[i]);
        snprintf(want, sizeof(want),
                 NAME ":2:30: %.*s applies only to file sinks; remove it "
                      "from console sink \"c\"",
                 (int)strcspn(keys[i], ":"), keys[i]);
        check_error(yaml, want);
    }
}

/* Checks the error for a file sink with this path, whose value starts at
 * line 5 column 11. */
static void check_path_error(const char *path, const char *want)
{
    char yaml[256];
    char full[256];

    snprintf(yaml, sizeof(yaml),
             "sinks:\n  - name: f\n    type: file\n    base: x\n"
             "    path: %s\n",
             path);
    snprintf(full, sizeof(full), "%s:5:11: %s", NAME, want);
    check_error(yaml, full);
}

static void error_path_absolute(void **state)
{
    (void)state;
    check_path_error("/etc/{tenant}.log",
                     "path \"/etc/{tenant}.log\" is absolute");
}

static void error_path_tenant_last(void **state)
{
    (void)state;
    check_path_error("\"logs/{tenant}\"",
                     "path \"logs/{tenant}\" ends its file name with "
                     "{tenant}, so one tenant's file could look like");
    check_path_error("\"{tenant}.gz\"",
                     "path \"{tenant}.gz\" ends its file name with "
                     "{tenant}.gz,");
    check_path_error("\"{tenant}/x-{tenant}-1\"",
                     "path \"{tenant}/x-{tenant}-1\" ends its file name "
                     "with {tenant}-1,");
}

/* check_sink_pair: a sink "a" at {tenant}/app.log and a sink "b" under
 * the same base at path_b, which must fail with want after "b". */
static void check_sink_pair(const char *path_b, const char *want)
{
    char yaml[512], full[512];

    snprintf(yaml, sizeof(yaml),
             "sinks:\n"
             "  - {name: a, type: file, base: /x, path: \"{tenant}/app.log\"}\n"
             "  - name: b\n"
             "    type: file\n"
             "    base: /x/\n"
             "    path: \"%s\"\n",
             path_b);
    snprintf(full, sizeof(full), "%s:6:11: sink \"b\" %s", NAME, want);
    check_error(yaml, full);
}

static void error_sinks_overlap(void **state)
{
    (void)state;
    check_sink_pair("{tenant}/app.log",
                    "can write the same files as sink \"a\"");
    check_sink_pair("{tenant}/app.log.20000101T000000.000000Z",
                    "can write files named like the rotated files or lock "
                    "of sink \"a\"");
    check_sink_pair("{tenant}/app.log.lock",
                    "can write files named like the rotated files or lock");
    check_sink_pair("acme/app.log.20000101T000000.000000Z-2.zst",
                    "can write files named like the rotated files or lock");
    check_sink_pair("_system/app.log", "can write the same files as");
    check_sink_pair("{tenant}/app.log/x.log",
                    "has paths that can run through the files of sink \"a\"");
    /* A tenant named app.log.err would have its folder there. */
    check_sink_pair("app.log.err", "has paths that can run through the files");
}

/* Sinks whose file names only share a prefix are accepted. */
static void sinks_apart_ok(void **state)
{
    static const char *const paths[] = {
        "{tenant}/app.log.json", "{tenant}/audit.log", "{tenant}/app.err",
        "{tenant}/app.log.d/x.log"};
    struct tl__config *cfg = NULL;
    char yaml[512], err[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        snprintf(yaml, sizeof(yaml),
                 "sinks:\n"
                 "  - {name: a, type: file, base: /x, path: "
                 "\"{tenant}/app.log\"}\n"
                 "  - {name: b, type: file, base: /x, path: \"%s\"}\n",
                 paths[i]);
        assert_int_equal(
            tl__config_parse(yaml, strlen(yaml), NAME, &cfg, err, sizeof(err)),
            0);
        tl__config_free(cfg);
    }
}

static void path_tenant_suffix_ok(void **state)
{
    struct tl__config *cfg = NULL;
    char err[512];
    const char *yaml = "sinks:\n  - name: f\n    type: file\n    base: x\n"
                       "    path: \"logs/{tenant}.log\"\n";

    (void)state;
    assert_int_equal(
        tl__config_parse(yaml, strlen(yaml), NAME, &cfg, err, sizeof(err)), 0);
    tl__config_free(cfg);
}

static void error_path_dotdot(void **state)
{
    (void)state;
    check_path_error("\"{tenant}/../x.log\"",
                     "path \"{tenant}/../x.log\" contains a \"..\"");
    check_path_error("..", "path \"..\" contains a \"..\"");
}

static void error_path_empty_part(void **state)
{
    (void)state;
    check_path_error("\"./app.log\"",
                     "path \"./app.log\" contains a \".\" component");
    check_path_error("\"{tenant}/./app.log\"",
                     "path \"{tenant}/./app.log\" contains a \".\"");
    check_path_error("a//b.log", "path \"a//b.log\" has an empty component");
    check_path_error("logs/", "path \"logs/\" has an empty component");
}

static void error_path_placeholder(void **state)
{
    (void)state;
    check_path_error("\"{foo}/app.log\"",
                     "unknown placeholder \"{foo}\" in path");
    check_path_error("\"{tenant}/{Tenant}.log\"",
                     "unknown placeholder \"{Tenant}\" in path");
    check_path_error("\"{tenant\"", "unclosed \"{\" in path");
    check_path_error("\"a}.log\"", "unmatched \"}\" in path");
}

static void error_duplicate_name(void **state)
{
    (void)state;
    check_error("sinks:\n"
                "  - name: out\n"
                "    type: console\n"
                "  - name: out\n"
                "    type: console\n",
                NAME ":4:11: duplicate sink name \"out\" (first at line 2)");
}

static void error_sink_name(void **state)
{
    (void)state;
    check_error("sinks:\n  - name: a/b\n    type: console\n",
                NAME ":2:11: invalid sink name \"a/b\"");
    check_error("sinks:\n  - name: abcdefghijklmnopqrstuvwxyz0123456\n",
                NAME ":2:11: invalid sink name");
}

static void error_duplicate_key(void **state)
{
    (void)state;
    check_error("queue:\n  full: drop\n  full: block\n",
                NAME ":3:3: duplicate key \"full\" in queue (first at "
                     "line 2");
    check_error("audit: {path: a}\naudit: {path: b}\n",
                NAME ":2:1: duplicate key \"audit\"");
}

static void error_capacity_range(void **state)
{
    (void)state;
    check_error("queue:\n  capacity: 8\n",
                NAME ":2:13: capacity 8 is out of range; use a value from "
                     "16 to 16777216");
    check_error("queue:\n  capacity: 16777217\n",
                NAME ":2:13: capacity 16777217 is out of range");
    check_error("queue:\n  capacity: -1\n",
                NAME ":2:13: capacity -1 is out of range");
    check_error("queue:\n  capacity: 99999999999999999999999\n",
                NAME ":2:13: capacity 99999999999999999999999 is out of "
                     "range");
    check_error("queue:\n  close_timeout_ms: 600001\n",
                NAME ":2:21: close_timeout_ms 600001 is out of range; use a "
                     "value from 0 to 600000");
}

static void error_not_decimal(void **state)
{
    (void)state;
    check_error("queue:\n  capacity: 0x100\n",
                NAME ":2:13: invalid capacity \"0x100\"; use a decimal "
                     "integer from 16 to 16777216");
    check_error("queue:\n  capacity: 0100\n",
                NAME ":2:13: invalid capacity \"0100\"");
    check_error("queue:\n  capacity: \"100\"\n",
                NAME ":2:13: invalid capacity \"100\"");
    check_error("queue:\n  capacity: 1e3\n",
                NAME ":2:13: invalid capacity \"1e3\"");
}

static void error_choices(void **state)
{
    (void)state;
    check_error("queue:\n  full: wait\n",
                NAME ":2:9: invalid full \"wait\"; use one of block, drop");
    check_error("sinks:\n  - {name: a, type: syslog}\n",
                NAME ":2:21: invalid type \"syslog\"; use one of console, "
                     "file");
    check_error("sinks:\n  - {name: a, type: console, format: xml}\n",
                NAME ":2:38: invalid format \"xml\"; use one of text, json");
    check_error("sinks:\n  - {name: a, type: console, colour: yes}\n",
                NAME ":2:38: invalid colour \"yes\"; use one of auto, "
                     "always, never");
}

static void error_syntax(void **state)
{
    (void)state;
    check_error("sinks: [console\n",
                NAME ":2:1: invalid YAML: did not find expected ',' or ']' "
                     "while parsing a flow sequence that starts at line 1 "
                     "column 8");
    check_error("queue:\n  capacity: 100\n\tfull: drop\n",
                NAME ":3:1: invalid YAML: found a tab character");
    check_error("audit:\n  path: \"x\n", NAME ":3:1: invalid YAML:");
    check_error("audit: *nothing\n",
                NAME ":1:8: invalid YAML: found undefined alias");
}

static void error_encoding(void **state)
{
    (void)state;
    check_error("audit:\n  path: a\xff\n",
                NAME ":2:10: invalid YAML: invalid leading UTF-8 octet "
                     "(byte 0xff)");
    check_error("audit:\n  path: \x01\n",
                NAME ":2:9: invalid YAML: control characters are not "
                     "allowed");
}

static void error_node_kind(void **state)
{
    (void)state;
    check_error("sinks: console\n",
                NAME ":1:8: sinks must be a list of entries that start with "
                     "\"- \", not a single value");
    check_error("queue: [1, 2]\n",
                NAME ":1:8: queue must be a mapping of \"key: value\" lines, "
                     "not a list");
    check_error("sinks:\n  - console\n", NAME ":2:5: a sink must be a mapping");
    check_error("sinks:\n  - name: [a]\n    type: console\n",
                NAME ":2:11: name must be a single value, not a list");
    check_error("- a\n- b\n", NAME ":1:1: the configuration must be a mapping");
    check_error("daemon:\n  syslog: {path: x}\n",
                NAME ":2:11: syslog must be a list");
    check_error("{[a]: 1}\n", NAME ":1:2: keys in the configuration must "
                                   "be names, not a list");
}

static void error_missing_value(void **state)
{
    (void)state;
    check_error("audit:\n  path:\n", NAME ":2:8: missing value for path");
    check_error("audit:\n  path: ''\n", NAME ":2:9: missing value for path");
    check_error("audit:\n  path: ~\n", NAME ":2:9: missing value for path");
    check_error("audit:\n  path: \"a\\0b\"\n",
                NAME ":2:9: path contains a NUL byte");
}

static void error_empty_sinks(void **state)
{
    (void)state;
    check_error("sinks: []\n", NAME ":1:8: sinks is empty");
    check_error("sinks:\nqueue: {}\n", NAME ":1:7: sinks is empty");
}

static void error_tenant(void **state)
{
    (void)state;
    check_error("daemon:\n"
                "  syslog:\n"
                "    - path: s.sock\n"
                "      type: dgram\n"
                "      tenant: ../x\n",
                NAME ":5:15: invalid tenant \"../x\"; a tenant id has 1 to "
                     "64 letters");
    check_error("daemon:\n  syslog:\n    - {path: s, type: dgram, "
                "tenant: a/b}\n",
                NAME ":3:38: invalid tenant \"a/b\"");
    check_error("daemon:\n  syslog:\n    - {path: s, type: dgram, "
                "tenant: ..}\n",
                NAME ":3:38: invalid tenant \"..\"");
}

static void error_syslog(void **state)
{
    (void)state;
    check_error("daemon:\n  syslog:\n    - path: s.sock\n",
                NAME ":3:7: syslog listener \"s.sock\" is missing required "
                     "key \"type\"");
    check_error("daemon:\n  syslog:\n    - type: dgram\n",
                NAME ":3:7: syslog listener is missing required key "
                     "\"path\"");
    check_error("daemon:\n  syslog:\n    - {path: a, type: dgram}\n"
                "    - {path: a, type: stream}\n",
                NAME ":4:14: duplicate syslog path \"a\"");
    check_error("daemon:\n  syslog:\n    - {path: d, type: dgram}\n"
                "  socket: d\n",
                NAME ":3:14: syslog path \"d\" is also the daemon socket");
}

static void error_socket_length(void **state)
{
    char yaml[256];

    (void)state;
    snprintf(yaml, sizeof(yaml), "daemon:\n  socket: /%0120d\n", 0);
    check_error(yaml, NAME ":2:11: socket is 121 bytes long, but a Unix "
                           "socket path has at most 107");
}

static void error_two_documents(void **state)
{
    (void)state;
    check_error("queue: {}\n---\naudit: {}\n",
                NAME ":2:1: a second YAML document starts here");
}

static void error_buffer_small(void **state)
{
    struct tl__config *cfg = NULL;
    const char *yaml = "queue:\n  full: wait\n";
    char err[12];
    int rc;

    (void)state;
    memset(err, 'x', sizeof(err));
    rc = tl__config_parse(yaml, strlen(yaml), NAME, &cfg, err, sizeof(err));
    assert_int_equal(rc, TL_ECONFIG);
    assert_string_equal(err, "test.yaml:2");
    rc = tl__config_parse(yaml, strlen(yaml), NAME, &cfg, NULL, 0);
    assert_int_equal(rc, TL_ECONFIG);
    assert_null(cfg);
}

static void parse_not_terminated(void **state)
{
    struct tl__config *cfg;
    char yaml[] = "queue: {capacity: 100}XXXX";
    char err[256] = "";
    int rc;

    (void)state;
    rc = tl__config_parse(yaml, strlen(yaml) - 4, NAME, &cfg, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_int_equal(cfg->queue_capacity, 100);
    assert_int_equal(cfg->text_len, strlen(yaml) - 4);
    assert_string_equal(cfg->text, "queue: {capacity: 100}");
    tl__config_free(cfg);
}

static void load_missing(void **state)
{
    struct tl__config *cfg = NULL;
    char folder[] = "/tmp/test_config.XXXXXX";
    char path[256];
    char want[512];
    char err[512] = "";
    int rc;

    (void)state;
    assert_non_null(mkdtemp(folder));
    snprintf(path, sizeof(path), "%s/none.yaml", folder);
    rc = tl__config_load(path, &cfg, err, sizeof(err));
    snprintf(want, sizeof(want),
             "%s: failed to read the configuration "
             "file: %s;",
             path, strerror(ENOENT));
    assert_int_equal(rc, -ENOENT);
    assert_null(cfg);
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    assert_int_equal(rmdir(folder), 0);
}

static void load_file(void **state)
{
    const char *yaml = "queue:\n  full: drop\n";
    struct tl__config *cfg = NULL;
    char path[] = "/tmp/test_config.XXXXXX";
    char err[512] = "";
    int fd;
    int rc;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    assert_int_equal(close(fd), 0);
    rc = tl__config_load(path, &cfg, err, sizeof(err));
    unlink(path);
    assert_int_equal(rc, 0);
    assert_false(cfg->queue_block);
    assert_int_equal(cfg->text_len, strlen(yaml));
    assert_string_equal(cfg->text, yaml);
    tl__config_free(cfg);
}

/* Returns the source folder: $TL_SRC, or three levels above this file,
 * which CMake compiles by its absolute path. */
static const char *source_dir(char *buf, size_t len)
{
    const char *env = getenv("TL_SRC");
    char *slash;
    int i;

    if (env != NULL && env[0] != '\0') {
        return env;
    }
    snprintf(buf, len, "%s", __FILE__);
    for (i = 0; i < 3; i++) {
        slash = strrchr(buf, '/');
        if (slash == NULL) {
            fail_msg("set TL_SRC to the source folder; %s is relative",
                     __FILE__);
        }
        *slash = '\0';
    }
    return buf;
}

static void check_example(const char *file)
{
    struct tl__config *cfg = NULL;
    char dir[4096];
    char path[4200];
    char err[512] = "";
    int rc;

    snprintf(path, sizeof(path), "%s/examples/%s", source_dir(dir, sizeof(dir)),
             file);
    rc = tl__config_load(path, &cfg, err, sizeof(err));
    if (rc != 0) {
        print_error("%s\n", err);
    }
    assert_int_equal(rc, 0);
    tl__config_free(cfg);
}

static void example_library(void **state)
{
    (void)state;
    check_example("tenantlog.yaml");
}

static void example_daemon(void **state)
{
    (void)state;
    check_example("daemon.yaml");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_values),
        cmocka_unit_test(empty_defaults),
        cmocka_unit_test(empty_sections),
        cmocka_unit_test(full_values),
        cmocka_unit_test(limits_accepted),
        cmocka_unit_test(error_level),
        cmocka_unit_test(error_unknown_key),
        cmocka_unit_test(error_missing_type),
        cmocka_unit_test(error_missing_name),
        cmocka_unit_test(error_missing_base),
        cmocka_unit_test(error_wrong_sink_keys),
        cmocka_unit_test(rotate_values),
        cmocka_unit_test(error_rotate_range),
        cmocka_unit_test(fsync_values),
        cmocka_unit_test(error_fsync_values),
        cmocka_unit_test(error_rotate_console),
        cmocka_unit_test(time_rotate_values),
        cmocka_unit_test(rotate_at_unquoted),
        cmocka_unit_test(max_age_values),
        cmocka_unit_test(size_values),
        cmocka_unit_test(compress_values),
        cmocka_unit_test(fallback_values),
        cmocka_unit_test(daily_spooled_sink),
        cmocka_unit_test(error_rotate_choice),
        cmocka_unit_test(error_rotate_at_value),
        cmocka_unit_test(error_rotate_at_needs_daily),
        cmocka_unit_test(error_max_age),
        cmocka_unit_test(error_size_format),
        cmocka_unit_test(error_size_range),
        cmocka_unit_test(error_compress_fallback),
        cmocka_unit_test(error_file_keys_console),
        cmocka_unit_test(error_path_absolute),
        cmocka_unit_test(error_path_tenant_last),
        cmocka_unit_test(path_tenant_suffix_ok),
        cmocka_unit_test(error_sinks_overlap),
        cmocka_unit_test(sinks_apart_ok),
        cmocka_unit_test(error_path_dotdot),
        cmocka_unit_test(error_path_empty_part),
        cmocka_unit_test(error_path_placeholder),
        cmocka_unit_test(error_duplicate_name),
        cmocka_unit_test(error_sink_name),
        cmocka_unit_test(error_duplicate_key),
        cmocka_unit_test(error_capacity_range),
        cmocka_unit_test(error_not_decimal),
        cmocka_unit_test(error_choices),
        cmocka_unit_test(error_syntax),
        cmocka_unit_test(error_encoding),
        cmocka_unit_test(error_node_kind),
        cmocka_unit_test(error_missing_value),
        cmocka_unit_test(error_empty_sinks),
        cmocka_unit_test(error_tenant),
        cmocka_unit_test(error_syslog),
        cmocka_unit_test(error_socket_length),
        cmocka_unit_test(error_two_documents),
        cmocka_unit_test(error_buffer_small),
        cmocka_unit_test(parse_not_terminated),
        cmocka_unit_test(load_missing),
        cmocka_unit_test(load_file),
        cmocka_unit_test(example_library),
        cmocka_unit_test(example_daemon),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
