/* Configuration parser: YAML text (libyaml document API) into struct
 * tl__config. Each error names the file, line and column, and the fix. */
#include "config.h"
#include "overlap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml.h>

#include "../common/buf.h"
#include "../common/text.h"

/* Defaults for keys that a file leaves out. config_default.c spells the
 * same values as YAML. */
#define DEFAULT_CAPACITY 65536
#define DEFAULT_CLOSE_TIMEOUT_MS 5000
#define DEFAULT_AUDIT_PATH "./var/audit.db"
#define DEFAULT_SOCKET "./var/tenantlogd.sock"

#define CAPACITY_MIN 16
#define CAPACITY_MAX 16777216
#define CLOSE_TIMEOUT_MAX_MS 600000
#define SINK_NAME_MAX 32
#define ROTATE_BYTES_MIN 4096LL
#define ROTATE_BYTES_MAX 1099511627776LL /* 1 TiB */
#define KEEP_MIN 1
#define KEEP_MAX 10000
#define DEFAULT_KEEP 10
#define FSYNC_MS_MAX 3600000
#define TOTAL_BYTES_MIN ROTATE_BYTES_MIN
#define TOTAL_BYTES_MAX 1125899906842624ULL /* 1 PiB */
#define SPOOL_BYTES_MIN 65536ULL            /* 64 KiB */
#define SPOOL_BYTES_MAX 1073741824ULL       /* 1 GiB */
#define DEFAULT_SPOOL_BYTES 4194304ULL      /* 4 MiB */
#define DEFAULT_COMPRESS TL__COMPRESS_ZSTD
#define DEFAULT_FALLBACK TL__FALLBACK_STDERR
#define MAX_AGE_MAX_DAYS 36500       /* about 100 years */
#define FILE_MAX_BYTES (1024 * 1024) /* largest file tl__config_load reads */
#define SHOWN_MAX 64 /* bytes of a value quoted in an error message */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *name;
    enum tl__sink_type type;
    enum tl_level level;
    enum tl__format format;
    const char *base;
    const char *path;
} default_sinks[] = {
    {"console", TL__SINK_CONSOLE, TL_WARNING, TL__FORMAT_TEXT, NULL, NULL},
    {"files", TL__SINK_FILE, TL_DEBUG, TL__FORMAT_JSON, "./var/log",
     "{tenant}/app.log"},
};

/* State of one parse. Only the first error is written to err. */
struct parse {
    yaml_document_t *doc;
    const char *name; /* file name for messages */
    char *err;
    size_t errlen;
    struct tl__buf shown; /* a value escaped for the current message */
    struct tl__buf list;  /* a list of names for the current message */
    struct tl__config *cfg;
};

/* A key node and its value node, as found in a mapping. */
struct entry {
    yaml_node_t *key;
    yaml_node_t *value;
};

typedef int (*set_fn)(struct parse *p, yaml_node_t *value, void *obj);

/* A known key of a mapping and the function that stores its value. */
struct key {
    const char *name;
    set_fn set;
};

struct choice {
    const char *name;
    int value;
};

/* Error messages */

static int vfail_at(struct parse *p, yaml_mark_t mark, const char *fmt,
                    va_list ap)
{
    int n;

    if (p->err == NULL || p->errlen == 0) {
        return TL_ECONFIG;
    }
    n = snprintf(p->err, p->errlen, "%s:%zu:%zu: ", p->name, mark.line + 1,
                 mark.column + 1);
    if (n >= 0 && (size_t)n < p->errlen) {
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    }
    return TL_ECONFIG;
}

__attribute__((format(printf, 3, 4))) static int
fail_at(struct parse *p, yaml_mark_t mark, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail_at(p, mark, fmt, ap);
    va_end(ap);
    return rc;
}

/* Writes "NAME:LINE:COLUMN: message" for the start of node and returns
 * TL_ECONFIG. */
__attribute__((format(printf, 3, 4))) static int
fail(struct parse *p, const yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail_at(p, node->start_mark, fmt, ap);
    va_end(ap);
    return rc;
}

static int fail_oom(struct parse *p)
{
    if (p->err != NULL && p->errlen > 0) {
        snprintf(p->err, p->errlen, "%s: out of memory", p->name);
    }
    return -ENOMEM;
}

/* Returns s[0..len) escaped for a terminal and cut to SHOWN_MAX bytes. */
static const char *show_text(struct parse *p, const char *s, size_t len)
{
    tl__buf_reset(&p->shown);
    tl__text_escape(&p->shown, s, len < SHOWN_MAX ? len : SHOWN_MAX);
    if (len > SHOWN_MAX) {
        tl__buf_adds(&p->shown, "...");
    }
    return tl__buf_cstr(&p->shown);
}

static const char *show(struct parse *p, const yaml_node_t *scalar)
{
    return show_text(p, (const char *)scalar->data.scalar.value,
                     scalar->data.scalar.length);
}

static const char *list_choices(struct parse *p, const struct choice *c,
                                size_t n)
{
    size_t i;

    tl__buf_reset(&p->list);
    for (i = 0; i < n; i++) {
        tl__buf_adds(&p->list, i == 0 ? "" : ", ");
        tl__buf_adds(&p->list, c[i].name);
    }
    return tl__buf_cstr(&p->list);
}

static const char *list_keys(struct parse *p, const struct key *keys, size_t n)
{
    size_t i;

    tl__buf_reset(&p->list);
    for (i = 0; i < n; i++) {
        tl__buf_adds(&p->list, i == 0 ? "" : ", ");
        tl__buf_adds(&p->list, keys[i].name);
    }
    return tl__buf_cstr(&p->list);
}

static const char *kind_name(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return "a single value";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "an empty node";
    }
}

/* Scalars */

/* Returns true for a plain scalar that YAML reads as null: empty, "~",
 * "null", "Null" or "NULL". */
static bool is_null(const yaml_node_t *node)
{
    const char *v = NULL;

    if (node->type != YAML_SCALAR_NODE ||
        node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    v = (const char *)node->data.scalar.value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Reads a scalar that is not null, not empty and has no NUL byte. */
static int get_text(struct parse *p, yaml_node_t *node, const char *key,
                    const char **out)
{
    const char *v = NULL;

    if (node->type != YAML_SCALAR_NODE) {
        return fail(p, node, "%s must be a single value, not %s", key,
                    kind_name(node));
    }
    v = (const char *)node->data.scalar.value;
    if (is_null(node) || node->data.scalar.length == 0) {
        return fail(p, node, "missing value for %s; write it after \"%s: \"",
                    key, key);
    }
    if (strlen(v) != node->data.scalar.length) {
        return fail(p, node, "%s contains a NUL byte; remove it", key);
    }
    *out = v;
    return 0;
}

/* Replaces *dst with a copy of the scalar at node. */
static int set_text(struct parse *p, yaml_node_t *node, const char *key,
                    char **dst)
{
    const char *v = NULL;
    char *copy;
    int rc;

    rc = get_text(p, node, key, &v);
    if (rc != 0) {
        return rc;
    }
    copy = strdup(v);
    if (copy == NULL) {
        return fail_oom(p);
    }
    free(*dst);
    *dst = copy;
    return 0;
}

static int get_choice(struct parse *p, yaml_node_t *node, const char *key,
                      const struct choice *choices, size_t n, int *out)
{
    const char *v = NULL;
    size_t i;
    int rc;

    rc = get_text(p, node, key, &v);
    if (rc != 0) {
        return rc;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(v, choices[i].name) == 0) {
            *out = choices[i].value;
            return 0;
        }
    }
    rc = fail(p, node, "invalid %s \"%s\"; use one of %s", key, show(p, node),
              list_choices(p, choices, n));
    return rc;
}

/* Returns true for an optional '-' and decimal digits without leading
 * zeros, so that YAML 1.1 octal ("010") and hex ("0x10") never pass. */
static bool is_decimal(const char *v)
{
    if (*v == '-') {
        v++;
    }
    if (v[0] < '0' || v[0] > '9' || (v[0] == '0' && v[1] != '\0')) {
        return false;
    }
    while (*v >= '0' && *v <= '9') {
        v++;
    }
    return *v == '\0';
}

static int get_int(struct parse *p, yaml_node_t *node, const char *key,
                   long long min, long long max, long long *out)
{
    const char *v = NULL;
    long long n;
    int saved;
    int rc;

    rc = get_text(p, node, key, &v);
    if (rc != 0) {
        return rc;
    }
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !is_decimal(v)) {
        return fail(p, node,
                    "invalid %s \"%s\"; use a decimal integer from %lld to "
                    "%lld, without quotes",
                    key, show(p, node), min, max);
    }
    errno = 0;
    n = strtoll(v, NULL, 10);
    saved = errno;
    if (saved == ERANGE || n < min || n > max) {
        return fail(p, node,
                    "%s %s is out of range; use a value from %lld "
                    "to %lld",
                    key, show(p, node), min, max);
    }
    *out = n;
    return 0;
}

/* A suffix of a size or a duration, and how many bytes or seconds one of
 * it is. */
struct unit {
    const char *suffix;
    unsigned long long factor;
};

/* Both spellings (K and KiB) are powers of 1024. */
static const struct unit size_units[] = {
    {"", 1},
    {"K", 1ULL << 10},
    {"KiB", 1ULL << 10},
    {"M", 1ULL << 20},
    {"MiB", 1ULL << 20},
    {"G", 1ULL << 30},
    {"GiB", 1ULL << 30},
};

static const struct unit age_units[] = {
    {"s", 1},
    {"m", 60},
    {"h", 3600},
    {"d", 86400},
};

/*
 * Splits the plain scalar v into a decimal number without leading zeros
 * and a suffix from units. Returns false for any other form. A number
 * too large for unsigned long long is stored as ULLONG_MAX, so that the
 * caller's range check rejects it.
 */
static bool split_number(const yaml_node_t *node, const char *v,
                         const struct unit *units, size_t n_units,
                         unsigned long long *num, size_t *unit)
{
    size_t digits = strspn(v, "0123456789");
    size_t i;
    int saved;

    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || digits == 0 ||
        (v[0] == '0' && digits > 1)) {
        return false;
    }
    for (i = 0; i < n_units; i++) {
        if (strcmp(v + digits, units[i].suffix) == 0) {
            break;
        }
    }
    if (i == n_units) {
        return false;
    }
    errno = 0;
    *num = strtoull(v, NULL, 10);
    saved = errno;
    if (saved == ERANGE) {
        *num = ULLONG_MAX;
    }
    *unit = i;
    return true;
}

/* Writes n as the largest of G, M or K that divides it, or in bytes. */
static const char *size_text(char *buf, size_t len, unsigned long long n)
{
    if (n != 0 && n % (1ULL << 30) == 0) {
        snprintf(buf, len, "%lluG", n >> 30);
    } else if (n != 0 && n % (1ULL << 20) == 0) {
        snprintf(buf, len, "%lluM", n >> 20);
    } else if (n != 0 && n % (1ULL << 10) == 0) {
        snprintf(buf, len, "%lluK", n >> 10);
    } else {
        snprintf(buf, len, "%llu", n);
    }
    return buf;
}

/*
 * Reads a size in bytes: a decimal number, optionally followed by K, M
 * or G (or KiB, MiB, GiB), from min to max. With zero_ok, a size of 0
 * (meaning no limit) is also accepted.
 */
static int get_size(struct parse *p, yaml_node_t *node, const char *key,
                    unsigned long long min, unsigned long long max,
                    bool zero_ok, unsigned long long *out)
{
    const char *v = NULL;
    unsigned long long n = 0;
    unsigned long long factor;
    char lo[32];
    char hi[32];
    size_t unit = 0;
    int rc;

    rc = get_text(p, node, key, &v);
    if (rc != 0) {
        return rc;
    }
    if (!split_number(node, v, size_units, N_OF(size_units), &n, &unit)) {
        return fail(p, node,
                    "invalid %s \"%s\"; use a whole number of bytes, "
                    "optionally followed by K, M or G (powers of 1024, "
                    "also written KiB, MiB, GiB), such as 64M, without "
                    "quotes",
                    key, show(p, node));
    }
    factor = size_units[unit].factor;
    if ((n == 0 && zero_ok) || (n <= max / factor && n * factor >= min)) {
        *out = n * factor;
        return 0;
    }
    return fail(p, node,
                "%s %s is out of range; use %sa value from %llu to %llu "
                "bytes (%s to %s)",
                key, show(p, node), zero_ok ? "0 for no limit, or " : "", min,
                max, size_text(lo, sizeof(lo), min),
                size_text(hi, sizeof(hi), max));
}

static int get_level(struct parse *p, yaml_node_t *node, enum tl_level *out)
{
    const char *v = NULL;
    int level;
    int rc;

    rc = get_text(p, node, "level", &v);
    if (rc != 0) {
        return rc;
    }
    if (tl_level_parse(v, out) == 0) {
        return 0;
    }
    tl__buf_reset(&p->list);
    for (level = TL_EMERG; level <= TL_DEBUG; level++) {
        tl__buf_adds(&p->list, level == TL_EMERG ? "" : ", ");
        tl__buf_adds(&p->list, tl_level_name((enum tl_level)level));
    }
    return fail(p, node, "invalid level \"%s\"; use one of %s", show(p, node),
                tl__buf_cstr(&p->list));
}

/* Rejects a Unix socket path that does not fit sockaddr_un.sun_path with
 * its NUL. */
static int check_socket_path(struct parse *p, yaml_node_t *node,
                             const char *key, const char *v)
{
    size_t max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1;

    if (strlen(v) > max) {
        return fail(p, node,
                    "%s is %zu bytes long, but a Unix socket path "
                    "has at most %zu; use a shorter path",
                    key, strlen(v), max);
    }
    return 0;
}

/* Mappings */

/* Returns the value of key in mapping, or NULL. */
static yaml_node_t *find_value(struct parse *p, yaml_node_t *mapping,
                               const char *key)
{
    yaml_node_pair_t *pair;
    yaml_node_t *k;

    if (mapping->type != YAML_MAPPING_NODE) {
        return NULL;
    }
    for (pair = mapping->data.mapping.pairs.start;
         pair < mapping->data.mapping.pairs.top; pair++) {
        k = yaml_document_get_node(p->doc, pair->key);
        if (k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0) {
            return yaml_document_get_node(p->doc, pair->value);
        }
    }
    return NULL;
}

static size_t find_key(const struct key *keys, size_t n, const yaml_node_t *k)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strlen(keys[i].name) == k->data.scalar.length &&
            memcmp(keys[i].name, k->data.scalar.value, k->data.scalar.length) ==
                0) {
            break;
        }
    }
    return i;
}

static int walk_pair(struct parse *p, const yaml_node_pair_t *pair,
                     const char *what, const struct key *keys, size_t n_keys,
                     void *obj, struct entry *seen)
{
    yaml_node_t *key = yaml_document_get_node(p->doc, pair->key);
    yaml_node_t *value = yaml_document_get_node(p->doc, pair->value);
    size_t i;

    if (key->type != YAML_SCALAR_NODE) {
        return fail(p, key, "keys in %s must be names, not %s; use one of %s",
                    what, kind_name(key), list_keys(p, keys, n_keys));
    }
    i = find_key(keys, n_keys, key);
    if (i == n_keys) {
        return fail(p, key, "unknown key \"%s\" in %s; known keys: %s",
                    show(p, key), what, list_keys(p, keys, n_keys));
    }
    if (seen[i].key != NULL) {
        return fail(p, key,
                    "duplicate key \"%s\" in %s (first at line %zu "
                    "column %zu); keep only one",
                    keys[i].name, what, seen[i].key->start_mark.line + 1,
                    seen[i].key->start_mark.column + 1);
    }
    seen[i].key = key;
    seen[i].value = value;
    return keys[i].set(p, value, obj);
}

/*
 * Checks that node is a mapping, rejects unknown and duplicate keys, and
 * calls the setter of each key with obj. seen[i] receives the nodes of
 * keys[i], or NULLs when the mapping lacks it. A null value (a key with
 * nothing after it) counts as an empty mapping.
 */
static int walk_mapping(struct parse *p, yaml_node_t *node, const char *what,
                        const struct key *keys, size_t n_keys, void *obj,
                        struct entry *seen)
{
    yaml_node_pair_t *pair;
    int rc;

    memset(seen, 0, n_keys * sizeof(*seen));
    if (is_null(node)) {
        return 0;
    }
    if (node->type != YAML_MAPPING_NODE) {
        return fail(p, node,
                    "%s must be a mapping of \"key: value\" lines, "
                    "not %s; its keys are %s",
                    what, kind_name(node), list_keys(p, keys, n_keys));
    }
    for (pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        rc = walk_pair(p, pair, what, keys, n_keys, obj, seen);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* Stores the number of items of a list in *n; a null value is an empty
 * list. */
static int check_list(struct parse *p, yaml_node_t *node, const char *key,
                      size_t *n)
{
    if (is_null(node)) {
        *n = 0;
        return 0;
    }
    if (node->type != YAML_SEQUENCE_NODE) {
        return fail(p, node,
                    "%s must be a list of entries that start with "
                    "\"- \", not %s",
                    key, kind_name(node));
    }
    *n = (size_t)(node->data.sequence.items.top -
                  node->data.sequence.items.start);
    return 0;
}

static yaml_node_t *list_item(struct parse *p, yaml_node_t *list, size_t i)
{
    return yaml_document_get_node(p->doc, list->data.sequence.items.start[i]);
}

/* Sinks */

enum {
    SINK_NAME,
    SINK_TYPE,
    SINK_LEVEL,
    SINK_FORMAT,
    SINK_COLOUR,
    SINK_BASE,
    SINK_PATH,
    SINK_MAX_BYTES,
    SINK_KEEP,
    SINK_FSYNC,
    SINK_ROTATE,
    SINK_ROTATE_AT,
    SINK_ROTATE_ZONE,
    SINK_MAX_AGE,
    SINK_MAX_TOTAL_BYTES,
    SINK_COMPRESS,
    SINK_FALLBACK,
    SINK_SPOOL_BYTES,
    SINK_KEYS
};

static const struct choice sink_types[] = {
    {"console", TL__SINK_CONSOLE},
    {"file", TL__SINK_FILE},
};

static const struct choice formats[] = {
    {"text", TL__FORMAT_TEXT},
    {"json", TL__FORMAT_JSON},
};

static const struct choice fsync_modes[] = {
    {"never", TL__FSYNC_NEVER},
    {"batch", TL__FSYNC_BATCH},
};

static const struct choice colours[] = {
    {"auto", TL__COLOUR_AUTO},
    {"always", TL__COLOUR_ALWAYS},
    {"never", TL__COLOUR_NEVER},
};

static const struct choice rotate_periods[] = {
    {"hourly", TL__ROTATE_HOURLY},
    {"daily", TL__ROTATE_DAILY},
};

static const struct choice rotate_zones[] = {
    {"local", false},
    {"utc", true},
};

static const struct choice compressions[] = {
    {"zstd", TL__COMPRESS_ZSTD},
    {"gzip", TL__COMPRESS_GZIP},
    {"none", TL__COMPRESS_NONE},
};

static const struct choice fallbacks[] = {
    {"stderr", TL__FALLBACK_STDERR},
    {"spool", TL__FALLBACK_SPOOL},
};

static bool is_sink_name(const char *v)
{
    size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "abcdefghijklmnopqrstuvwxyz0123456789_-");

    return n >= 1 && n <= SINK_NAME_MAX && v[n] == '\0';
}

static int set_sink_name(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    int rc;

    rc = set_text(p, value, "name", &sink->name);
    if (rc == 0 && !is_sink_name(sink->name)) {
        rc = fail(p, value,
                  "invalid sink name \"%s\"; use 1 to %d letters, "
                  "digits, '_' or '-'",
                  show(p, value), SINK_NAME_MAX);
    }
    return rc;
}

static int set_sink_type(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    int type;
    int rc;

    rc = get_choice(p, value, "type", sink_types, N_OF(sink_types), &type);
    if (rc == 0) {
        sink->type = (enum tl__sink_type)type;
    }
    return rc;
}

static int set_sink_level(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;

    return get_level(p, value, &sink->level);
}

static int set_sink_format(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    int format;
    int rc;

    rc = get_choice(p, value, "format", formats, N_OF(formats), &format);
    if (rc == 0) {
        sink->format = (enum tl__format)format;
    }
    return rc;
}

static int set_sink_colour(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    int colour = 0;
    int rc;

    rc = get_choice(p, value, "colour", colours, N_OF(colours), &colour);
    if (rc == 0) {
        sink->colour = (enum tl__colour)colour;
    }
    return rc;
}

static int set_sink_base(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;

    return set_text(p, value, "base", &sink->base);
}

/* Reports the placeholder that starts at c, which is not {tenant}. */
static int fail_placeholder(struct parse *p, yaml_node_t *node, const char *c,
                            size_t len)
{
    const char *end = memchr(c, '}', len);

    if (end == NULL) {
        return fail(p, node,
                    "unclosed \"{\" in path \"%s\"; the only "
                    "placeholder is {tenant}",
                    show(p, node));
    }
    return fail(p, node,
                "unknown placeholder \"%s\" in path; the only "
                "placeholder is {tenant}",
                show_text(p, c, (size_t)(end - c) + 1));
}

/* Checks one '/'-separated component c[0..len) of a path template. */
static int check_component(struct parse *p, yaml_node_t *node, const char *c,
                           size_t len)
{
    size_t i;

    if (len == 0) {
        return fail(p, node,
                    "path \"%s\" has an empty component; remove "
                    "the extra \"/\"",
                    show(p, node));
    }
    if (len == 2 && memcmp(c, "..", 2) == 0) {
        return fail(p, node,
                    "path \"%s\" contains a \"..\" component; "
                    "every file must stay under base",
                    show(p, node));
    }
    if (len == 1 && c[0] == '.') {
        return fail(p, node,
                    "path \"%s\" contains a \".\" component; remove it, "
                    "so that each file has one spelling",
                    show(p, node));
    }
    for (i = 0; i < len; i++) {
        if (c[i] == '}') {
            return fail(p, node,
                        "unmatched \"}\" in path \"%s\"; the only "
                        "placeholder is {tenant}",
                        show(p, node));
        }
        if (c[i] != '{') {
            continue;
        }
        if (len - i < 8 || memcmp(c + i, "{tenant}", 8) != 0) {
            return fail_placeholder(p, node, c + i, len - i);
        }
        i += 7;
    }
    return 0;
}

/* Checks that a file path template stays under base once {tenant} is
 * replaced by a valid tenant id, which never contains '/' and is never
 * "." or "..". */
/* Rejects a file name whose text after its last {tenant} could pass for
 * the tail of a rotated name (".20261204T000000.000000Z-2.zst.tmp"):
 * then one tenant's file could look like another tenant's rotated one,
 * and retention would delete it. A suffix with a letter that no such
 * tail contains, such as ".log", is safe. */
static int check_file_name(struct parse *p, yaml_node_t *node, const char *name)
{
    const char *last = NULL, *hole;

    for (hole = strstr(name, "{tenant}"); hole;
         hole = strstr(hole + 1, "{tenant}")) {
        last = hole + strlen("{tenant}");
    }
    if (last == NULL || last[strspn(last, ".-0123456789TZgmpstz")] != '\0') {
        return 0;
    }
    return fail(p, node,
                "path \"%s\" ends its file name with {tenant}%s, so one "
                "tenant's file could look like another tenant's rotated "
                "file; end the file name with a suffix such as \".log\"",
                show(p, node), last);
}

static int check_template(struct parse *p, yaml_node_t *node, const char *v)
{
    size_t len;
    int rc;

    if (v[0] == '/') {
        return fail(p, node,
                    "path \"%s\" is absolute; write it relative to "
                    "base, such as \"{tenant}/app.log\"",
                    show(p, node));
    }
    for (;;) {
        len = strcspn(v, "/");
        rc = check_component(p, node, v, len);
        if (rc != 0 || v[len] == '\0') {
            break;
        }
        v += len + 1;
    }
    return rc != 0 ? rc : check_file_name(p, node, v);
}

static int set_sink_path(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    int rc;

    rc = set_text(p, value, "path", &sink->path);
    if (rc == 0) {
        rc = check_template(p, value, sink->path);
    }
    return rc;
}

static int set_sink_max_bytes(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    unsigned long long n = 0;
    int rc;

    rc = get_size(p, value, "max_bytes", ROTATE_BYTES_MIN, ROTATE_BYTES_MAX,
                  false, &n);
    if (rc == 0) {
        sink->max_bytes = n;
    }
    return rc;
}

static int set_sink_keep(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    long long n = 0;
    int rc;

    rc = get_int(p, value, "keep", KEEP_MIN, KEEP_MAX, &n);
    if (rc == 0) {
        sink->keep = (unsigned)n;
    }
    return rc;
}

/* fsync: never, batch, or a number of milliseconds between fsyncs. */
static int set_sink_fsync(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    const char *v = NULL;
    long long n = 0;
    int mode = 0, rc;

    rc = get_text(p, value, "fsync", &v);
    if (rc != 0) {
        return rc;
    }
    if (v[0] >= '0' && v[0] <= '9') {
        rc = get_int(p, value, "fsync", 1, FSYNC_MS_MAX, &n);
        mode = (int)n;
    } else {
        rc = get_choice(p, value, "fsync", fsync_modes, N_OF(fsync_modes),
                        &mode);
    }
    if (rc == TL_ECONFIG) {
        /* One message naming every form, whichever form was tried. */
        return fail(p, value,
                    "invalid fsync \"%s\"; use never, batch, or a number "
                    "of milliseconds from 1 to %d, without quotes",
                    show(p, value), FSYNC_MS_MAX);
    }
    if (rc == 0) {
        sink->fsync_ms = mode;
    }
    return rc;
}

static int set_sink_rotate(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    int every = 0;
    int rc;

    rc = get_choice(p, value, "rotate", rotate_periods, N_OF(rotate_periods),
                    &every);
    if (rc == 0) {
        sink->rotate = (enum tl__rotate_every)every;
    }
    return rc;
}

/* Parses "HH:MM" on a 24-hour clock into minutes after midnight. Returns
 * false for any other text. */
static bool parse_clock_time(const char *v, int *out)
{
    int hours;
    int minutes;

    if (strlen(v) != 5 || strspn(v, "0123456789") != 2 || v[2] != ':' ||
        strspn(v + 3, "0123456789") != 2) {
        return false;
    }
    hours = (v[0] - '0') * 10 + (v[1] - '0');
    minutes = (v[3] - '0') * 10 + (v[4] - '0');
    if (hours > 23 || minutes > 59) {
        return false;
    }
    *out = hours * 60 + minutes;
    return true;
}

static int set_sink_rotate_at(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    const char *v = NULL;
    int rc;

    rc = get_text(p, value, "rotate_at", &v);
    if (rc == 0 && !parse_clock_time(v, &sink->rotate_at_min)) {
        rc = fail(p, value,
                  "invalid rotate_at \"%s\"; use HH:MM on a 24-hour "
                  "clock, from 00:00 to 23:59, such as \"02:30\"",
                  show(p, value));
    }
    return rc;
}

static int set_sink_rotate_zone(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    int utc = 0;
    int rc;

    rc = get_choice(p, value, "rotate_zone", rotate_zones, N_OF(rotate_zones),
                    &utc);
    if (rc == 0) {
        sink->rotate_utc = utc;
    }
    return rc;
}

/* Stores max_age, a whole number with the unit s, m, h or d, in seconds.
 * A bare 0 means no limit. */
static int set_sink_max_age(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    const char *v = NULL;
    unsigned long long n = 0;
    unsigned long long factor;
    size_t unit = 0;
    int rc;

    rc = get_text(p, value, "max_age", &v);
    if (rc != 0) {
        return rc;
    }
    if (value->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        strcmp(v, "0") == 0) {
        sink->max_age_s = 0;
        return 0;
    }
    if (!split_number(value, v, age_units, N_OF(age_units), &n, &unit)) {
        return fail(p, value,
                    "invalid max_age \"%s\"; use a whole number with "
                    "the unit s, m, h or d, such as 7d, without quotes, "
                    "or 0 for no limit",
                    show(p, value));
    }
    factor = age_units[unit].factor;
    if (n > MAX_AGE_MAX_DAYS * 86400ULL / factor) {
        return fail(p, value,
                    "max_age %s is out of range; use at most %dd, or 0 "
                    "for no limit",
                    show(p, value), MAX_AGE_MAX_DAYS);
    }
    sink->max_age_s = (int64_t)(n * factor);
    return 0;
}

static int set_sink_max_total_bytes(struct parse *p, yaml_node_t *value,
                                    void *obj)
{
    struct tl__sink_conf *sink = obj;
    unsigned long long n = 0;
    int rc;

    rc = get_size(p, value, "max_total_bytes", TOTAL_BYTES_MIN, TOTAL_BYTES_MAX,
                  true, &n);
    if (rc == 0) {
        sink->max_total_bytes = n;
    }
    return rc;
}

static int set_sink_compress(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    int method = 0;
    int rc;

    rc = get_choice(p, value, "compress", compressions, N_OF(compressions),
                    &method);
    if (rc == 0) {
        sink->compress = (enum tl__compress)method;
    }
    return rc;
}

static int set_sink_fallback(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    int fallback = 0;
    int rc;

    rc =
        get_choice(p, value, "fallback", fallbacks, N_OF(fallbacks), &fallback);
    if (rc == 0) {
        sink->fallback = (enum tl__fallback)fallback;
    }
    return rc;
}

static int set_sink_spool_bytes(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__sink_conf *sink = obj;
    unsigned long long n = 0;
    int rc;

    rc = get_size(p, value, "spool_bytes", SPOOL_BYTES_MIN, SPOOL_BYTES_MAX,
                  false, &n);
    if (rc == 0) {
        sink->spool_bytes = n;
    }
    return rc;
}

static const struct key sink_keys[SINK_KEYS] = {
    [SINK_NAME] = {"name", set_sink_name},
    [SINK_TYPE] = {"type", set_sink_type},
    [SINK_LEVEL] = {"level", set_sink_level},
    [SINK_FORMAT] = {"format", set_sink_format},
    [SINK_COLOUR] = {"colour", set_sink_colour},
    [SINK_BASE] = {"base", set_sink_base},
    [SINK_PATH] = {"path", set_sink_path},
    [SINK_MAX_BYTES] = {"max_bytes", set_sink_max_bytes},
    [SINK_KEEP] = {"keep", set_sink_keep},
    [SINK_FSYNC] = {"fsync", set_sink_fsync},
    [SINK_ROTATE] = {"rotate", set_sink_rotate},
    [SINK_ROTATE_AT] = {"rotate_at", set_sink_rotate_at},
    [SINK_ROTATE_ZONE] = {"rotate_zone", set_sink_rotate_zone},
    [SINK_MAX_AGE] = {"max_age", set_sink_max_age},
    [SINK_MAX_TOTAL_BYTES] = {"max_total_bytes", set_sink_max_total_bytes},
    [SINK_COMPRESS] = {"compress", set_sink_compress},
    [SINK_FALLBACK] = {"fallback", set_sink_fallback},
    [SINK_SPOOL_BYTES] = {"spool_bytes", set_sink_spool_bytes},
};

/* Rejects on a console sink the keys that only file sinks take. */
static int check_file_only(struct parse *p, struct tl__sink_conf *sink,
                           const struct entry *seen)
{
    static const int file_only[] = {SINK_BASE,       SINK_PATH,
                                    SINK_MAX_BYTES,  SINK_KEEP,
                                    SINK_FSYNC,      SINK_ROTATE,
                                    SINK_ROTATE_AT,  SINK_ROTATE_ZONE,
                                    SINK_MAX_AGE,    SINK_MAX_TOTAL_BYTES,
                                    SINK_COMPRESS,   SINK_FALLBACK,
                                    SINK_SPOOL_BYTES};
    size_t i;

    for (i = 0; i < N_OF(file_only); i++) {
        const struct entry *e = &seen[file_only[i]];

        if (e->key != NULL) {
            return fail(p, e->key,
                        "%s applies only to file sinks; remove it from "
                        "console sink \"%s\"",
                        sink_keys[file_only[i]].name, sink->name);
        }
    }
    return 0;
}

static int check_console_sink(struct parse *p, struct tl__sink_conf *sink,
                              const struct entry *seen)
{
    int rc = check_file_only(p, sink, seen);

    if (rc != 0) {
        return rc;
    }
    if (seen[SINK_FORMAT].key == NULL) {
        sink->format = TL__FORMAT_TEXT;
    }
    return 0;
}

/* Rejects the keys of a file sink that depend on a setting it lacks. */
static int check_file_depends(struct parse *p, struct tl__sink_conf *sink,
                              const struct entry *seen)
{
    const yaml_node_t *at = seen[SINK_ROTATE_AT].key;

    if (at != NULL && sink->rotate == TL__ROTATE_HOURLY) {
        return fail(p, at,
                    "rotate_at applies only to rotate: daily, but file "
                    "sink \"%s\" rotates hourly, at minute 0; remove "
                    "rotate_at or set rotate: daily",
                    sink->name);
    }
    if (at != NULL && sink->rotate == TL__ROTATE_NONE) {
        return fail(p, at,
                    "rotate_at needs rotate: daily, which file sink \"%s\" "
                    "lacks; add rotate: daily or remove rotate_at",
                    sink->name);
    }
    if (seen[SINK_ROTATE_ZONE].key != NULL && sink->rotate == TL__ROTATE_NONE) {
        return fail(p, seen[SINK_ROTATE_ZONE].key,
                    "rotate_zone needs rotate, which file sink \"%s\" "
                    "lacks; add rotate: hourly or rotate: daily, or remove "
                    "rotate_zone",
                    sink->name);
    }
    if (seen[SINK_SPOOL_BYTES].key != NULL &&
        sink->fallback != TL__FALLBACK_SPOOL) {
        return fail(p, seen[SINK_SPOOL_BYTES].key,
                    "spool_bytes applies only to fallback: spool, which "
                    "file sink \"%s\" lacks; add fallback: spool or remove "
                    "spool_bytes",
                    sink->name);
    }
    return 0;
}

static int check_file_sink(struct parse *p, yaml_node_t *node,
                           struct tl__sink_conf *sink, const struct entry *seen)
{
    if (seen[SINK_COLOUR].key != NULL) {
        return fail(p, seen[SINK_COLOUR].key,
                    "colour applies only to "
                    "console sinks; remove it from file sink \"%s\"",
                    sink->name);
    }
    if (seen[SINK_BASE].key == NULL) {
        return fail(p, node,
                    "file sink \"%s\" is missing required key "
                    "\"base\"; add the folder that its files stay under, "
                    "such as base: ./var/log",
                    sink->name);
    }
    if (seen[SINK_PATH].key == NULL) {
        return fail(p, node,
                    "file sink \"%s\" is missing required key "
                    "\"path\"; add a path relative to base, such as "
                    "path: \"{tenant}/app.log\"",
                    sink->name);
    }
    if (seen[SINK_FORMAT].key == NULL) {
        sink->format = TL__FORMAT_JSON;
    }
    return check_file_depends(p, sink, seen);
}

/* Sets the defaults of the file keys that are not zero. A console sink
 * gets them too, and ignores them. */
static void set_file_defaults(struct tl__sink_conf *sink)
{
    sink->keep = DEFAULT_KEEP;
    sink->compress = DEFAULT_COMPRESS;
    sink->fallback = DEFAULT_FALLBACK;
    sink->spool_bytes = DEFAULT_SPOOL_BYTES;
}

static int parse_sink(struct parse *p, yaml_node_t *node,
                      struct tl__sink_conf *sink)
{
    struct entry seen[SINK_KEYS];
    int rc;

    sink->level = TL_INFO;
    sink->colour = TL__COLOUR_AUTO;
    set_file_defaults(sink);
    rc = walk_mapping(p, node, "a sink", sink_keys, SINK_KEYS, sink, seen);
    if (rc != 0) {
        return rc;
    }
    if (seen[SINK_NAME].key == NULL) {
        return fail(p, node,
                    "sink is missing required key \"name\"; add a "
                    "unique name, such as name: console");
    }
    if (seen[SINK_TYPE].key == NULL) {
        return fail(p, node,
                    "sink \"%s\" is missing required key \"type\"; "
                    "add type: console or type: file",
                    sink->name);
    }
    if (sink->type == TL__SINK_CONSOLE) {
        return check_console_sink(p, sink, seen);
    }
    return check_file_sink(p, node, sink, seen);
}

/* Rejects sink i when an earlier sink has the same name. */
static int check_sink_unique(struct parse *p, yaml_node_t *list, size_t i)
{
    const struct tl__sink_conf *sinks = p->cfg->sinks;
    yaml_node_t *first;
    size_t j;

    for (j = 0; j < i; j++) {
        if (strcmp(sinks[j].name, sinks[i].name) != 0) {
            continue;
        }
        first = find_value(p, list_item(p, list, j), "name");
        return fail(p, find_value(p, list_item(p, list, i), "name"),
                    "duplicate sink name \"%s\" (first at line %zu); give "
                    "each sink its own name",
                    sinks[i].name, first->start_mark.line + 1);
    }
    return 0;
}

/* Writes sink c's file template, its base resolved and its path
 * joined, to out (cap bytes). */
static void file_template(const struct tl__sink_conf *c, char *out, size_t cap)
{
    char base[PATH_MAX];

    if (tl__overlap_base(c->base, base, sizeof(base)) != 0) {
        snprintf(base, sizeof(base), "%s", c->base);
    }
    snprintf(out, cap, "%s%s%s", base,
             base[0] != '\0' && base[strlen(base) - 1] == '/' ? "" : "/",
             c->path);
}

/* Rejects file sink i when its files could meet those of an earlier
 * file sink (overlap.h): retention would then delete the other's files.
 * Bases are compared after resolving ".", ".." and symbolic links. */
static int check_sink_files(struct parse *p, yaml_node_t *list, size_t i)
{
    static const char *const why[] = {
        [TL__OVERLAP_SAME] = "can write the same files as",
        [TL__OVERLAP_ROTATED] =
            "can write files named like the rotated files or lock of",
        [TL__OVERLAP_FOLDER] = "has paths that can run through the files of",
    };
    const struct tl__sink_conf *sinks = p->cfg->sinks;
    char mine[2 * PATH_MAX], other[2 * PATH_MAX];
    enum tl__overlap o = TL__OVERLAP_NONE;
    size_t j;

    if (sinks[i].type != TL__SINK_FILE) {
        return 0;
    }
    file_template(&sinks[i], mine, sizeof(mine));
    for (j = 0; j < i && o == TL__OVERLAP_NONE; j++) {
        if (sinks[j].type == TL__SINK_FILE) {
            file_template(&sinks[j], other, sizeof(other));
            o = tl__overlap_check(mine, other);
        }
    }
    if (o == TL__OVERLAP_NONE) {
        return 0;
    }
    return fail(p, find_value(p, list_item(p, list, i), "path"),
                "sink \"%s\" %s sink \"%s\" (%s and %s); give each file "
                "sink file names of its own",
                sinks[i].name, why[o], sinks[j - 1].name, mine, other);
}

static int set_sinks(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__config *cfg = obj;
    size_t n;
    size_t i;
    int rc;

    rc = check_list(p, value, "sinks", &n);
    if (rc != 0) {
        return rc;
    }
    if (n == 0) {
        return fail(p, value,
                    "sinks is empty, so every record would be "
                    "lost; list at least one sink, or remove \"sinks:\" to "
                    "use the default sinks");
    }
    cfg->sinks = calloc(n, sizeof(*cfg->sinks));
    if (cfg->sinks == NULL) {
        return fail_oom(p);
    }
    for (i = 0; i < n && rc == 0; i++) {
        cfg->n_sinks = i + 1;
        rc = parse_sink(p, list_item(p, value, i), &cfg->sinks[i]);
        if (rc == 0) {
            rc = check_sink_unique(p, value, i);
        }
        if (rc == 0) {
            rc = check_sink_files(p, value, i);
        }
    }
    return rc;
}

static int copy_default(const char *s, char **dst)
{
    if (s == NULL) {
        return 0;
    }
    *dst = strdup(s);
    return *dst == NULL ? -ENOMEM : 0;
}

static int add_default_sinks(struct parse *p)
{
    struct tl__config *cfg = p->cfg;
    struct tl__sink_conf *sink;
    size_t i;

    cfg->sinks = calloc(N_OF(default_sinks), sizeof(*cfg->sinks));
    if (cfg->sinks == NULL) {
        return fail_oom(p);
    }
    for (i = 0; i < N_OF(default_sinks); i++) {
        sink = &cfg->sinks[i];
        cfg->n_sinks = i + 1;
        sink->type = default_sinks[i].type;
        sink->level = default_sinks[i].level;
        sink->format = default_sinks[i].format;
        sink->colour = TL__COLOUR_AUTO;
        set_file_defaults(sink);
        if (copy_default(default_sinks[i].name, &sink->name) != 0 ||
            copy_default(default_sinks[i].base, &sink->base) != 0 ||
            copy_default(default_sinks[i].path, &sink->path) != 0) {
            return fail_oom(p);
        }
    }
    return 0;
}

/* Queue and audit */

enum { QUEUE_CAPACITY, QUEUE_FULL, QUEUE_CLOSE_TIMEOUT, QUEUE_KEYS };

static const struct choice full_policies[] = {
    {"block", true},
    {"drop", false},
};

static int set_queue_capacity(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__config *cfg = obj;
    long long n = 0;
    int rc;

    rc = get_int(p, value, "capacity", CAPACITY_MIN, CAPACITY_MAX, &n);
    if (rc == 0) {
        cfg->queue_capacity = (size_t)n;
    }
    return rc;
}

static int set_queue_full(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__config *cfg = obj;
    int block;
    int rc;

    rc = get_choice(p, value, "full", full_policies, N_OF(full_policies),
                    &block);
    if (rc == 0) {
        cfg->queue_block = block;
    }
    return rc;
}

static int set_queue_close_timeout(struct parse *p, yaml_node_t *value,
                                   void *obj)
{
    struct tl__config *cfg = obj;
    long long ms = 0;
    int rc;

    rc = get_int(p, value, "close_timeout_ms", 0, CLOSE_TIMEOUT_MAX_MS, &ms);
    if (rc == 0) {
        cfg->close_timeout_ms = (int)ms;
    }
    return rc;
}

static const struct key queue_keys[QUEUE_KEYS] = {
    [QUEUE_CAPACITY] = {"capacity", set_queue_capacity},
    [QUEUE_FULL] = {"full", set_queue_full},
    [QUEUE_CLOSE_TIMEOUT] = {"close_timeout_ms", set_queue_close_timeout},
};

static int set_queue(struct parse *p, yaml_node_t *value, void *obj)
{
    struct entry seen[QUEUE_KEYS];

    return walk_mapping(p, value, "queue", queue_keys, QUEUE_KEYS, obj, seen);
}

static int set_audit_path(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__config *cfg = obj;

    return set_text(p, value, "path", &cfg->audit_path);
}

static const struct key audit_keys[] = {
    {"path", set_audit_path},
};

static int set_audit(struct parse *p, yaml_node_t *value, void *obj)
{
    struct entry seen[N_OF(audit_keys)];

    return walk_mapping(p, value, "audit", audit_keys, N_OF(audit_keys), obj,
                        seen);
}

/* Syslog listeners */

enum { SYSLOG_PATH, SYSLOG_TYPE, SYSLOG_TENANT, SYSLOG_KEYS };

static const struct choice socket_types[] = {
    {"dgram", false},
    {"stream", true},
};

static int set_syslog_path(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__syslog_conf *conf = obj;
    int rc;

    rc = set_text(p, value, "path", &conf->path);
    if (rc == 0) {
        rc = check_socket_path(p, value, "path", conf->path);
    }
    return rc;
}

static int set_syslog_type(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__syslog_conf *conf = obj;
    int stream;
    int rc;

    rc =
        get_choice(p, value, "type", socket_types, N_OF(socket_types), &stream);
    if (rc == 0) {
        conf->stream = stream;
    }
    return rc;
}

static int set_syslog_tenant(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__syslog_conf *conf = obj;
    const char *v = NULL;
    int rc;

    rc = get_text(p, value, "tenant", &v);
    if (rc != 0) {
        return rc;
    }
    if (!tl_tenant_valid(v)) {
        return fail(p, value,
                    "invalid tenant \"%s\"; a tenant id has 1 to "
                    "%d letters, digits, '.', '_' or '-', starts with a "
                    "letter or digit, and is not \".\" or \"..\"",
                    show(p, value), TL__TENANT_MAX);
    }
    return set_text(p, value, "tenant", &conf->default_tenant);
}

static const struct key syslog_keys[SYSLOG_KEYS] = {
    [SYSLOG_PATH] = {"path", set_syslog_path},
    [SYSLOG_TYPE] = {"type", set_syslog_type},
    [SYSLOG_TENANT] = {"tenant", set_syslog_tenant},
};

static int parse_syslog(struct parse *p, yaml_node_t *node,
                        struct tl__syslog_conf *conf)
{
    struct entry seen[SYSLOG_KEYS];
    int rc;

    rc = walk_mapping(p, node, "a syslog listener", syslog_keys, SYSLOG_KEYS,
                      conf, seen);
    if (rc != 0) {
        return rc;
    }
    if (seen[SYSLOG_PATH].key == NULL) {
        return fail(p, node,
                    "syslog listener is missing required key "
                    "\"path\"; add its socket path, such as "
                    "path: ./var/syslog.sock");
    }
    if (seen[SYSLOG_TYPE].key == NULL) {
        return fail(p, node,
                    "syslog listener \"%s\" is missing required key "
                    "\"type\"; add type: dgram or type: stream",
                    show_text(p, conf->path, strlen(conf->path)));
    }
    return 0;
}

static int set_daemon_syslog(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__config *cfg = obj;
    size_t n;
    size_t i;
    int rc;

    rc = check_list(p, value, "syslog", &n);
    if (rc != 0 || n == 0) {
        return rc;
    }
    cfg->syslog = calloc(n, sizeof(*cfg->syslog));
    if (cfg->syslog == NULL) {
        return fail_oom(p);
    }
    for (i = 0; i < n && rc == 0; i++) {
        cfg->n_syslog = i + 1;
        rc = parse_syslog(p, list_item(p, value, i), &cfg->syslog[i]);
    }
    return rc;
}

/* Daemon */

enum { DAEMON_SOCKET, DAEMON_STATS, DAEMON_SYSLOG, DAEMON_KEYS };

static int set_daemon_socket(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__config *cfg = obj;
    int rc;

    rc = set_text(p, value, "socket", &cfg->daemon_socket);
    if (rc == 0) {
        rc = check_socket_path(p, value, "socket", cfg->daemon_socket);
    }
    return rc;
}

static int set_daemon_stats(struct parse *p, yaml_node_t *value, void *obj)
{
    struct tl__config *cfg = obj;

    return set_text(p, value, "stats", &cfg->daemon_stats);
}

static const struct key daemon_keys[DAEMON_KEYS] = {
    [DAEMON_SOCKET] = {"socket", set_daemon_socket},
    [DAEMON_STATS] = {"stats", set_daemon_stats},
    [DAEMON_SYSLOG] = {"syslog", set_daemon_syslog},
};

/* Rejects a syslog path used twice, or equal to the daemon socket. */
static int check_sockets(struct parse *p, yaml_node_t *list)
{
    const struct tl__config *cfg = p->cfg;
    yaml_node_t *node;
    size_t i;
    size_t j;

    for (i = 0; i < cfg->n_syslog; i++) {
        node = find_value(p, list_item(p, list, i), "path");
        if (strcmp(cfg->syslog[i].path, cfg->daemon_socket) == 0) {
            return fail(p, node,
                        "syslog path \"%s\" is also the daemon "
                        "socket; give each socket its own path",
                        show(p, node));
        }
        for (j = 0; j < i; j++) {
            if (strcmp(cfg->syslog[i].path, cfg->syslog[j].path) == 0) {
                return fail(p, node,
                            "duplicate syslog path \"%s\"; give "
                            "each listener its own path",
                            show(p, node));
            }
        }
    }
    return 0;
}

static int set_daemon(struct parse *p, yaml_node_t *value, void *obj)
{
    struct entry seen[DAEMON_KEYS];
    int rc;

    rc = walk_mapping(p, value, "daemon", daemon_keys, DAEMON_KEYS, obj, seen);
    if (rc == 0 && seen[DAEMON_SYSLOG].value != NULL) {
        rc = check_sockets(p, seen[DAEMON_SYSLOG].value);
    }
    return rc;
}

/* The document */

enum { TOP_SINKS, TOP_QUEUE, TOP_AUDIT, TOP_DAEMON, TOP_KEYS };

static const struct key top_keys[TOP_KEYS] = {
    [TOP_SINKS] = {"sinks", set_sinks},
    [TOP_QUEUE] = {"queue", set_queue},
    [TOP_AUDIT] = {"audit", set_audit},
    [TOP_DAEMON] = {"daemon", set_daemon},
};

/* Parses the root node; an empty document gives every default. */
static int parse_root(struct parse *p)
{
    yaml_node_t *root = yaml_document_get_root_node(p->doc);
    struct entry seen[TOP_KEYS];
    int rc;

    memset(seen, 0, sizeof(seen));
    if (root != NULL) {
        rc = walk_mapping(p, root, "the configuration", top_keys, TOP_KEYS,
                          p->cfg, seen);
        if (rc != 0) {
            return rc;
        }
    }
    if (seen[TOP_SINKS].key == NULL) {
        return add_default_sinks(p);
    }
    return 0;
}

/* Returns the mark (0-based line and column) of byte offset in text,
 * counting UTF-8 characters as libyaml does. */
static yaml_mark_t mark_at(const char *text, size_t len, size_t offset)
{
    yaml_mark_t mark = {.index = offset};
    size_t i;

    for (i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            mark.line++;
            mark.column = 0;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            mark.column++;
        }
    }
    return mark;
}

static int fail_syntax(struct parse *p, const yaml_parser_t *parser,
                       const char *text, size_t len)
{
    const char *problem = parser->problem ? parser->problem : "unknown error";
    yaml_mark_t mark = parser->problem_mark;

    if (parser->error == YAML_MEMORY_ERROR) {
        return fail_oom(p);
    }
    if (parser->error == YAML_READER_ERROR) {
        mark = mark_at(text, len, parser->problem_offset);
        return fail_at(p, mark,
                       "invalid YAML: %s (byte 0x%02x); save the "
                       "file as UTF-8 without control characters",
                       problem, (unsigned)parser->problem_value & 0xFFu);
    }
    if (parser->context != NULL) {
        return fail_at(p, mark,
                       "invalid YAML: %s %s that starts at line "
                       "%zu column %zu; fix the syntax here",
                       problem, parser->context, parser->context_mark.line + 1,
                       parser->context_mark.column + 1);
    }
    return fail_at(p, mark, "invalid YAML: %s; fix the syntax here", problem);
}

static int check_single_document(struct parse *p, yaml_parser_t *parser,
                                 const char *text, size_t len)
{
    yaml_document_t extra;
    int rc = 0;

    if (!yaml_parser_load(parser, &extra)) {
        return fail_syntax(p, parser, text, len);
    }
    if (yaml_document_get_root_node(&extra) != NULL) {
        rc = fail_at(p, extra.start_mark,
                     "a second YAML document starts "
                     "here; keep one document per file");
    }
    yaml_document_delete(&extra);
    return rc;
}

static int parse_text(struct parse *p, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc;

    if (!yaml_parser_initialize(&parser)) {
        return fail_oom(p);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = fail_syntax(p, &parser, text, len);
        goto done;
    }
    p->doc = &doc;
    rc = check_single_document(p, &parser, text, len);
    if (rc == 0) {
        rc = parse_root(p);
    }
    yaml_document_delete(&doc);
    p->doc = NULL;
done:
    yaml_parser_delete(&parser);
    return rc;
}

/* Allocates a configuration with every scalar default and a copy of the
 * source text. */
static struct tl__config *config_new(const char *text, size_t len)
{
    struct tl__config *cfg = calloc(1, sizeof(*cfg));

    if (cfg == NULL) {
        return NULL;
    }
    cfg->queue_capacity = DEFAULT_CAPACITY;
    cfg->queue_block = true;
    cfg->close_timeout_ms = DEFAULT_CLOSE_TIMEOUT_MS;
    cfg->audit_path = strdup(DEFAULT_AUDIT_PATH);
    cfg->daemon_socket = strdup(DEFAULT_SOCKET);
    cfg->text = malloc(len + 1);
    if (cfg->audit_path == NULL || cfg->daemon_socket == NULL ||
        cfg->text == NULL) {
        tl__config_free(cfg);
        return NULL;
    }
    memcpy(cfg->text, text, len);
    cfg->text[len] = '\0';
    cfg->text_len = len;
    return cfg;
}

int tl__config_parse(const char *text, size_t len, const char *name,
                     struct tl__config **out, char *err, size_t errlen)
{
    struct parse p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.name = name != NULL ? name : "<config>";
    p.err = err;
    p.errlen = errlen;
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    if (text == NULL || out == NULL) {
        return TL_EINVAL;
    }
    p.cfg = config_new(text, len);
    if (p.cfg == NULL) {
        return fail_oom(&p);
    }
    rc = parse_text(&p, text, len);
    tl__buf_free(&p.shown);
    tl__buf_free(&p.list);
    if (rc != 0) {
        tl__config_free(p.cfg);
        return rc;
    }
    *out = p.cfg;
    return 0;
}

/* Reads the whole file at path into b. Returns 0, a negated errno, or
 * -EFBIG for a file larger than FILE_MAX_BYTES. */
static int read_file(const char *path, struct tl__buf *b)
{
    const size_t chunk = 16384;
    ssize_t n;
    int rc = 0;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    for (;;) {
        if (tl__buf_reserve(b, chunk) != 0) {
            rc = -ENOMEM;
            break;
        }
        n = read(fd, b->data + b->len, chunk);
        if (n < 0) {
            rc = -errno;
            if (rc == -EINTR) {
                rc = 0;
                continue;
            }
            break;
        }
        if (n == 0) {
            break;
        }
        b->len += (size_t)n;
        if (b->len > FILE_MAX_BYTES) {
            rc = -EFBIG;
            break;
        }
    }
    close(fd);
    return rc;
}

int tl__config_load(const char *path, struct tl__config **out, char *err,
                    size_t errlen)
{
    struct tl__buf b;
    int rc;

    if (path == NULL || out == NULL) {
        return TL_EINVAL;
    }
    tl__buf_init(&b);
    rc = read_file(path, &b);
    if (rc == -EFBIG && err != NULL && errlen > 0) {
        snprintf(err, errlen,
                 "%s: the configuration file is larger than %d "
                 "bytes; check that the path names a configuration file",
                 path, FILE_MAX_BYTES);
    } else if (rc != 0 && err != NULL && errlen > 0) {
        snprintf(err, errlen,
                 "%s: failed to read the configuration file: "
                 "%s; check the path and its permissions",
                 path, tl_strerror(rc));
    } else if (rc == 0) {
        rc = tl__config_parse(b.len > 0 ? b.data : "", b.len, path, out, err,
                              errlen);
    }
    tl__buf_free(&b);
    return rc;
}

void tl__config_free(struct tl__config *cfg)
{
    size_t i;

    if (cfg == NULL) {
        return;
    }
    for (i = 0; i < cfg->n_sinks; i++) {
        free(cfg->sinks[i].name);
        free(cfg->sinks[i].base);
        free(cfg->sinks[i].path);
    }
    free(cfg->sinks);
    for (i = 0; i < cfg->n_syslog; i++) {
        free(cfg->syslog[i].path);
        free(cfg->syslog[i].default_tenant);
    }
    free(cfg->syslog);
    free(cfg->audit_path);
    free(cfg->daemon_socket);
    free(cfg->daemon_stats);
    free(cfg->text);
    free(cfg);
}
