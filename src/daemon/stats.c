/* The daemon's counters as key=value text (the stats file) and as a JSON
 * object (the "stats" frame). The names are stable, and
 * docs/daemon.md defines each one. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

/* Receives one counter. Per-socket and per-errno keys carry a label. */
typedef void (*counter_fn)(void *user, const char *key, uint64_t value);

/* Appends v as a label value, escaping '\', '"' and line breaks as the
 * Prometheus text format does. */
static void label_escape(struct tl__buf *b, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"') {
            tl__buf_addc(b, '\\');
            tl__buf_addc(b, *v);
        } else if (*v == '\n') {
            tl__buf_adds(b, "\\n");
        } else {
            tl__buf_addc(b, *v);
        }
    }
}

/* Writes errno err's name (or number) to b. */
static void errno_label(struct tl__buf *b, int err)
{
    const char *name = strerrorname_np(err);

    if (name != NULL) {
        tl__buf_adds(b, name);
    } else {
        tl__buf_printf(b, "%d", err);
    }
}

/* One counter per sink, operation and errno. */
static void sink_errors(const struct tl__sink_stats *s, counter_fn fn,
                        void *user, struct tl__buf *key)
{
    struct tl_sink_error errs[TL__SINK_ERR_SLOTS + 1];
    size_t i, n;

    n = tl__sink_stats_errors((struct tl__sink_stats *)s, errs,
                              TL__SINK_ERR_SLOTS + 1);
    for (i = 0; i < n && i <= TL__SINK_ERR_SLOTS; i++) {
        tl__buf_reset(key);
        tl__buf_adds(key, "sink_errors{sink=\"");
        label_escape(key, errs[i].sink);
        tl__buf_printf(key, "\",op=\"%s\",errno=\"", errs[i].op);
        errno_label(key, errs[i].err);
        tl__buf_adds(key, "\"}");
        fn(user, tl__buf_cstr(key), errs[i].count);
    }
}

static void sink_counters(const struct tl__daemon *d, counter_fn fn, void *user,
                          struct tl__buf *key)
{
    const struct tl__sink_stats *s = &d->sink_stats;
    int i;

    fn(user, "sink_written", atomic_load(&s->written));
    fn(user, "sink_write_failed", atomic_load(&s->write_failed));
    fn(user, "sink_write_errors", atomic_load(&s->write_errors));
    fn(user, "sink_fallback", atomic_load(&s->fallback));
    fn(user, "sink_tenant_invalid", atomic_load(&s->tenant_invalid));
    fn(user, "sink_reopens", atomic_load(&s->reopens));
    fn(user, "sink_rotations", atomic_load(&s->rotations));
    fn(user, "sink_fsyncs", atomic_load(&s->fsyncs));
    fn(user, "sink_open_fds", atomic_load(&s->open_fds));
    fn(user, "sink_spooled", atomic_load(&s->spooled));
    fn(user, "sink_spool_written", atomic_load(&s->spool_written));
    fn(user, "sink_spool_fallback", atomic_load(&s->spool_fallback));
    fn(user, "sink_spool_depth", atomic_load(&s->spool_depth));
    fn(user, "sink_compressed", atomic_load(&s->compressed));
    fn(user, "sink_pruned", atomic_load(&s->pruned));
    fn(user, "sink_truncations", atomic_load(&s->truncations));
    sink_errors(s, fn, user, key);
    for (i = 0; i < TL__ERRNO_SLOTS; i++) {
        int err = (int)atomic_load(&s->errno_keys[i]);

        if (err == 0) {
            continue;
        }
        tl__buf_reset(key);
        tl__buf_adds(key, "sink_errno{errno=\"");
        errno_label(key, err);
        tl__buf_adds(key, "\"}");
        fn(user, tl__buf_cstr(key), atomic_load(&s->errno_counts[i]));
    }
}

/* Calls fn for every counter, in a fixed order. */
static void counters_walk(const struct tl__daemon *d, counter_fn fn, void *user)
{
    struct tl__buf key;
    size_t i;

#define TL__COUNTER_CALL(name) fn(user, #name, d->n.name);
    TL__DAEMON_COUNTERS(TL__COUNTER_CALL)
#undef TL__COUNTER_CALL
    tl__buf_init(&key);
    for (i = 0; i < d->n_listeners; i++) {
        tl__buf_reset(&key);
        tl__buf_adds(&key, "syslog_received{path=\"");
        label_escape(&key, d->listeners[i].conf->path);
        tl__buf_adds(&key, "\"}");
        fn(user, tl__buf_cstr(&key), d->listeners[i].received);
    }
    sink_counters(d, fn, user, &key);
    tl__buf_free(&key);
}

static void text_line(void *user, const char *key, uint64_t value)
{
    tl__buf_printf(user, "%s=%" PRIu64 "\n", key, value);
}

void tl__stats_text(const struct tl__daemon *d, struct tl__buf *b)
{
    counters_walk(d, text_line, b);
}

static void json_member(void *user, const char *key, uint64_t value)
{
    json_object_set_new(user, key, json_integer((json_int_t)value));
}

json_t *tl__stats_json(const struct tl__daemon *d)
{
    json_t *obj = json_object();

    if (obj != NULL) {
        counters_walk(d, json_member, obj);
    }
    return obj;
}

static int file_write(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;

    if (fd < 0) {
        return -errno;
    }
    while (rc == 0 && len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno != EINTR) {
            rc = -errno;
        } else if (n > 0) {
            data += n;
            len -= (size_t)n;
        }
    }
    if (rc == 0 && fsync(fd) != 0) {
        rc = -errno;
    }
    if (close(fd) != 0 && rc == 0) {
        rc = -errno;
    }
    return rc;
}

int tl__stats_write(const struct tl__daemon *d, const char *path)
{
    struct tl__buf text, tmp;
    int rc;

    tl__buf_init(&text);
    tl__buf_init(&tmp);
    tl__stats_text(d, &text);
    tl__buf_printf(&tmp, "%s.tmp", path);
    rc = tl__dir_parents_make(path);
    if (rc == 0 && (text.oom || tmp.oom)) {
        rc = -ENOMEM;
    }
    if (rc == 0) {
        rc = file_write(tl__buf_cstr(&tmp), text.data ? text.data : "",
                        text.len);
    }
    /* rename(2) makes readers see the old file or the new one, never a
     * partial one. */
    if (rc == 0 && rename(tl__buf_cstr(&tmp), path) != 0) {
        rc = -errno;
    }
    if (rc < 0) {
        (void)unlink(tl__buf_cstr(&tmp));
    }
    tl__buf_free(&text);
    tl__buf_free(&tmp);
    return rc;
}
