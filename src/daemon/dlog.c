/* The daemon's own records (start, stop, errors), written through the
 * same sinks as every other record, with per-site rate limiting of
 * errors. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "daemon.h"

#define DLOG_WINDOW_NS (INT64_C(10) * 1000000000) /* rate limit window */
#define DLOG_BURST 5 /* records per key and window before suppression */

int tl__daemon_write(struct tl__daemon *d, const struct tl__record *r)
{
    int rc = tl__sinks_write(&d->sinks, r);

    if (rc == 0) {
        d->n.records_written++;
    } else {
        d->n.records_failed++;
    }
    return rc;
}

void tl__dlog(struct tl__daemon *d, enum tl_level level, const char *msg,
              const struct tl_field *fields, size_t n_fields)
{
    struct tl__record_src src = {
        .level = level,
        .transport = TL__TRANSPORT_DAEMON,
        .logger = "tenantlogd",
        .msg = msg,
        .msg_len = (size_t)-1,
        .fields = fields,
        .n_fields = n_fields,
    };
    struct tl__record *r;

    /* Before the sinks open, and if a record cannot be built, stderr is
     * the simpler channel that cannot loop back here. */
    if (!d->sinks_open || tl__record_new(&src, &r) < 0) {
        fprintf(stderr, "tenantlogd: %s\n", msg);
        return;
    }
    (void)tl__daemon_write(d, r);
    free(r);
}

static struct tl__dlog_slot *slot_find(struct tl__daemon *d, const char *key)
{
    size_t i;

    for (i = 0; i < TL__DLOG_SLOTS; i++) {
        if (d->dlog[i].key == NULL) {
            d->dlog[i].key = key;
            return &d->dlog[i];
        }
        if (strcmp(d->dlog[i].key, key) == 0) {
            return &d->dlog[i];
        }
    }
    return NULL;
}

static void summary_write(struct tl__daemon *d, struct tl__dlog_slot *s)
{
    struct tl_field f[] = {TL_STR("error_key", s->key),
                           TL_U64("suppressed", s->suppressed)};
    char msg[160];

    snprintf(msg, sizeof(msg), "%" PRIu64 " more \"%s\" errors suppressed",
             s->suppressed, s->key);
    tl__dlog(d, TL_WARNING, msg, f, 2);
    s->suppressed = 0;
}

void tl__dlog_error(struct tl__daemon *d, const char *key, const char *msg,
                    const struct tl_field *fields, size_t n_fields)
{
    struct tl__dlog_slot *s = slot_find(d, key);
    int64_t now = tl__now_ns();

    if (s == NULL) {
        /* With more error sites than slots, the rest log without a
         * limit. */
        tl__dlog(d, TL_ERROR, msg, fields, n_fields);
        return;
    }
    if (now - s->window_ns >= DLOG_WINDOW_NS) {
        if (s->suppressed > 0) {
            summary_write(d, s);
        }
        s->window_ns = now;
        s->in_window = 0;
    }
    if (s->in_window++ < DLOG_BURST) {
        tl__dlog(d, TL_ERROR, msg, fields, n_fields);
    } else {
        s->suppressed++;
    }
}

void tl__dlog_flush(struct tl__daemon *d, bool force)
{
    int64_t now = tl__now_ns();
    size_t i;

    for (i = 0; i < TL__DLOG_SLOTS && d->dlog[i].key != NULL; i++) {
        struct tl__dlog_slot *s = &d->dlog[i];

        if (s->suppressed > 0 &&
            (force || now - s->window_ns >= DLOG_WINDOW_NS)) {
            summary_write(d, s);
        }
    }
}
