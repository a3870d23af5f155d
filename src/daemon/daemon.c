/* tenantlogd's lifecycle: start (sinks, audit store, sockets, signals),
 * the per-iteration audit commit, SIGHUP reopen, and the SIGTERM/SIGINT
 * drain that ends with the stop record and the stats file. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/text.h"
#include "daemon.h"

#define DLOG_FLUSH_MS 10000 /* how often suppressed counts are reported */
#define STOP_GRACE_MS 2000  /* wait for the last acks to go out at stop */
/* How often an idle loop wakes, so that time rotation, fsync intervals
 * and spool retries happen on time without traffic. */
#define TEND_MS 100

static void on_busy(uv_idle_t *h)
{
    (void)h; /* its presence alone keeps the loop from sleeping */
}

static void on_tend(uv_timer_t *t)
{
    (void)t; /* waking the loop runs on_check */
}

static void on_check(uv_check_t *h)
{
    struct tl__daemon *d = h->data;

    /* The files' fsync policy, rotation by time, spool retries and a
     * step of compression run once per loop iteration. */
    tl__sinks_flush(&d->sinks);
    tl__audit_batch_commit(d);
    if (tl__sinks_pending(&d->sinks)) {
        uv_idle_start(&d->busy, on_busy);
    } else {
        uv_idle_stop(&d->busy);
    }
}

static void on_dlog_timer(uv_timer_t *t)
{
    tl__dlog_flush(t->data, false);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct tl__daemon *d = s->data;
    struct tl_field f[] = {TL_STR("signal", strsignal(signum))};

    if (signum == SIGHUP) {
        tl__sinks_reopen(&d->sinks);
        tl__dlog(d, TL_INFO, "reopened every file sink on SIGHUP", NULL, 0);
        return;
    }
    if (!d->stopping) {
        tl__dlog(d, TL_INFO, "tenantlogd stopping", f, 1);
        tl__daemon_stop(d);
    }
}

static int signals_start(struct tl__daemon *d)
{
    struct {
        uv_signal_t *handle;
        int signum;
    } sigs[] = {
        {&d->sigterm, SIGTERM}, {&d->sigint, SIGINT}, {&d->sighup, SIGHUP}};
    size_t i;
    int rc = 0;

    /* All three are initialized first, because stopping closes them all
     * even when a start failed. */
    for (i = 0; i < 3; i++) {
        uv_signal_init(d->loop, sigs[i].handle);
        sigs[i].handle->data = d;
    }
    for (i = 0; i < 3 && rc == 0; i++) {
        rc = uv_signal_start(sigs[i].handle, on_signal, sigs[i].signum);
    }
    return rc;
}

/* Starts the handles that run for the daemon's whole life. */
static int loop_handles_start(struct tl__daemon *d)
{
    int rc;

    d->handles_started = true;
    rc = signals_start(d);
    uv_check_init(d->loop, &d->commit);
    d->commit.data = d;
    if (rc == 0) {
        rc = uv_check_start(&d->commit, on_check);
    }
    uv_timer_init(d->loop, &d->dlog_timer);
    d->dlog_timer.data = d;
    if (rc == 0) {
        rc = uv_timer_start(&d->dlog_timer, on_dlog_timer, DLOG_FLUSH_MS,
                            DLOG_FLUSH_MS);
    }
    uv_unref((uv_handle_t *)&d->dlog_timer);
    uv_timer_init(d->loop, &d->stop_timer);
    d->stop_timer.data = d;
    uv_idle_init(d->loop, &d->busy);
    uv_timer_init(d->loop, &d->tend_timer);
    if (rc == 0) {
        rc = uv_timer_start(&d->tend_timer, on_tend, TEND_MS, TEND_MS);
    }
    uv_unref((uv_handle_t *)&d->tend_timer);
    return rc;
}

static void start_log(struct tl__daemon *d)
{
    struct tl_field f[4 + 8];
    size_t n = 0, i;

    f[n++] = TL_STR("config", d->config_name);
    f[n++] = TL_I64("pid", (int64_t)getpid());
    f[n++] = TL_STR("version", TL__DAEMON_VERSION);
    f[n++] = TL_STR("socket", d->cfg->daemon_socket);
    for (i = 0; i < d->n_listeners && n < sizeof(f) / sizeof(f[0]); i++) {
        f[n++] = TL_STR(d->listeners[i].conf->stream ? "syslog_stream"
                                                     : "syslog_dgram",
                        d->listeners[i].conf->path);
    }
    tl__dlog(d, TL_INFO, "tenantlogd started", f, n);
}

static void store_open(struct tl__daemon *d)
{
    char err[512];

    if (d->cfg->audit_path == NULL) {
        return;
    }
    if (tl__audit_store_open(d->cfg->audit_path, &d->audit, err, sizeof(err)) <
        0) {
        struct tl_field f[] = {TL_STR("path", d->cfg->audit_path),
                               TL_STR("error", err)};

        /* This is not fatal, because records still flow and each audit
         * batch opens the store again. */
        tl__dlog_error(d, "audit.open", "failed to open the audit store", f, 2);
    }
}

int tl__daemon_start(struct tl__daemon *d)
{
    char err[512];
    int rc;

    tl__buf_init(&d->scratch);
    rc = tl__sinks_open(&d->sinks, d->cfg, &d->sink_stats);
    if (rc < 0) {
        fprintf(stderr, "tenantlogd: failed to open the sinks of %s: %s\n",
                d->config_name, tl_strerror(rc));
        return rc;
    }
    d->sinks_open = true;
    store_open(d);
    rc = tl__native_listen(d, err, sizeof(err));
    if (rc == 0) {
        rc = tl__syslog_listeners_open(d, err, sizeof(err));
    }
    if (rc < 0) {
        fprintf(stderr, "tenantlogd: %s\n", err);
        return rc;
    }
    rc = loop_handles_start(d);
    if (rc < 0) {
        fprintf(stderr,
                "tenantlogd: failed to start the event loop "
                "handles: %s\n",
                uv_strerror(rc));
        return rc;
    }
    d->started = true;
    start_log(d);
    return 0;
}

static void on_stop_timer(uv_timer_t *t)
{
    struct tl__daemon *d = t->data;
    struct tl__conn *c;

    for (c = d->conns; c != NULL; c = c->next) {
        tl__conn_abort(c);
    }
}

void tl__daemon_stop(struct tl__daemon *d)
{
    struct tl__conn *c, *next;

    if (d->stopping) {
        return;
    }
    d->stopping = true;
    if (d->native_open) {
        uv_close((uv_handle_t *)&d->native, NULL);
        d->native_open = false;
    }
    tl__syslog_listeners_close(d);
    for (c = d->conns; c != NULL; c = next) {
        next = c->next;
        tl__conn_drain(c);
    }
    tl__audit_batch_commit(d);
    if (!d->handles_started) {
        return;
    }
    /* Signals stay caught so a second SIGTERM cannot kill the drain, but
     * no longer keep the loop running. */
    uv_unref((uv_handle_t *)&d->sigterm);
    uv_unref((uv_handle_t *)&d->sigint);
    uv_unref((uv_handle_t *)&d->sighup);
    uv_check_stop(&d->commit);
    uv_idle_stop(&d->busy);
    uv_timer_stop(&d->tend_timer);
    uv_timer_start(&d->stop_timer, on_stop_timer, STOP_GRACE_MS, 0);
    uv_unref((uv_handle_t *)&d->stop_timer);
}

static void handle_close(uv_handle_t *h)
{
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

static void stop_log(struct tl__daemon *d)
{
    struct tl_field f[] = {
#define TL__COUNTER_INIT(name) TL_U64(#name, d->n.name),
        TL__DAEMON_COUNTERS(TL__COUNTER_INIT)
#undef TL__COUNTER_INIT
    };

    tl__dlog(d, TL_INFO, "tenantlogd stopped", f, sizeof(f) / sizeof(f[0]));
}

static int stats_save(struct tl__daemon *d)
{
    int rc = tl__stats_write(d, d->cfg->daemon_stats);

    if (rc < 0) {
        struct tl_field f[] = {TL_STR("path", d->cfg->daemon_stats),
                               TL_STR("error", strerror(-rc))};

        tl__dlog_error(d, "stats.write", "failed to write the stats file", f,
                       2);
    }
    return rc;
}

int tl__daemon_finish(struct tl__daemon *d)
{
    size_t i;
    int rc = 0;

    if (d->handles_started) {
        handle_close((uv_handle_t *)&d->sigterm);
        handle_close((uv_handle_t *)&d->sigint);
        handle_close((uv_handle_t *)&d->sighup);
        handle_close((uv_handle_t *)&d->commit);
        handle_close((uv_handle_t *)&d->dlog_timer);
        handle_close((uv_handle_t *)&d->stop_timer);
        handle_close((uv_handle_t *)&d->tend_timer);
        handle_close((uv_handle_t *)&d->busy);
    }
    /* Runs the close callbacks of every handle closed so far. */
    uv_run(d->loop, UV_RUN_DEFAULT);
    tl__dlog_flush(d, true);
    if (d->started) {
        stop_log(d);
        /* Spooled records reach their file or stderr before the count. */
        if (d->sinks_open) {
            tl__sinks_finish(&d->sinks);
        }
        if (d->cfg->daemon_stats != NULL) {
            rc = stats_save(d);
        }
    }
    tl__audit_store_close(d->audit);
    d->audit = NULL;
    if (d->sinks_open) {
        tl__sinks_close(&d->sinks);
        d->sinks_open = false;
    }
    for (i = 0; i < d->n_listeners; i++) {
        free(d->listeners[i].buf);
    }
    free(d->listeners);
    d->listeners = NULL;
    free(d->batch);
    d->batch = NULL;
    tl__buf_free(&d->scratch);
    return rc;
}
