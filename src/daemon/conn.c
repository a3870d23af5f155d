/* Accepted stream connections (native and syslog): reading, queued
 * writes with backpressure, orderly shutdown and reference counting. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon.h"

#define READ_CHUNK 65536
/* A peer that does not read its acks stops being read from once this
 * many bytes wait to be sent to it, until the queue is below WRITE_LOW. */
#define WRITE_HIGH (4u << 20)
#define WRITE_LOW (512u << 10)
/* Bytes read from one connection at shutdown, at most. */
#define DRAIN_MAX (16u << 20)

struct write_req {
    uv_write_t req;
    struct tl__conn *conn;
    char data[];
};

static void conn_free(struct tl__conn *c)
{
    tl__buf_free(&c->in);
    if (c->kind == TL__CONN_SYSLOG) {
        tl__syslog_framer_fini(&c->framer);
    }
    free(c);
}

void tl__conn_unref(struct tl__conn *c)
{
    if (--c->refs == 0) {
        conn_free(c);
    }
}

static void list_remove(struct tl__conn *c)
{
    if (c->prev) {
        c->prev->next = c->next;
    } else if (c->d->conns == c) {
        c->d->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
}

static void close_cb(uv_handle_t *h)
{
    struct tl__conn *c = (struct tl__conn *)h;

    list_remove(c);
    tl__conn_unref(c);
}

static void input(struct tl__conn *c)
{
    if (c->kind == TL__CONN_NATIVE) {
        tl__native_input(c);
    } else {
        tl__syslog_stream_input(c);
    }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct tl__conn *c = (struct tl__conn *)h;

    (void)suggested;
    if (tl__buf_reserve(&c->in, READ_CHUNK) < 0) {
        *buf = uv_buf_init(NULL, 0); /* read_cb gets UV_ENOBUFS */
        return;
    }
    *buf = uv_buf_init(c->in.data + c->in.len, READ_CHUNK);
}

/* No more input: handle the end of the stream, then close once no audit
 * event of this connection waits for its commit. */
static void input_end(struct tl__conn *c)
{
    c->eof = true;
    uv_read_stop((uv_stream_t *)&c->pipe);
    input(c);
    if (c->pending_audits == 0) {
        tl__conn_finish(c);
    }
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tl__conn *c = (struct tl__conn *)s;

    (void)buf;
    if (nread > 0) {
        c->in.len += (size_t)nread;
        input(c);
        return;
    }
    if (nread == 0 || c->eof) {
        return;
    }
    if (nread != UV_EOF) {
        struct tl_field f[] = {TL_U64("conn", c->id),
                               TL_STR("error", uv_strerror((int)nread))};

        tl__dlog_error(c->d, "conn.read", "failed to read from a client", f, 2);
    }
    input_end(c);
}

int tl__conn_accept(struct tl__daemon *d, uv_stream_t *server,
                    enum tl__conn_kind kind,
                    struct tl__syslog_listener *listener)
{
    struct tl__conn *c = calloc(1, sizeof(*c));
    uv_os_fd_t fd;
    int rc;

    if (c == NULL) {
        return -ENOMEM;
    }
    c->d = d;
    c->kind = kind;
    c->refs = 1;
    c->listener = listener;
    tl__buf_init(&c->in);
    if (kind == TL__CONN_SYSLOG) {
        tl__syslog_framer_init(&c->framer, TL__SYSLOG_MAX);
    }
    uv_pipe_init(d->loop, &c->pipe, 0);
    c->next = d->conns;
    if (d->conns) {
        d->conns->prev = c;
    }
    d->conns = c;
    rc = uv_accept(server, (uv_stream_t *)&c->pipe);
    if (rc == 0 && uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0) {
        tl__peer_cred(fd, &c->cred);
    }
    if (rc == 0) {
        rc = uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
    }
    if (rc < 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->pipe, close_cb);
        return rc;
    }
    c->id = ++d->next_conn_id;
    d->n.connections++;
    return 0;
}

static void write_cb(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct tl__conn *c = w->conn;
    uv_stream_t *s = (uv_stream_t *)&c->pipe;

    if (status < 0 && status != UV_ECANCELED && status != UV_EPIPE) {
        struct tl_field f[] = {TL_U64("conn", c->id),
                               TL_STR("error", uv_strerror(status))};

        tl__dlog_error(c->d, "conn.write", "failed to send to a client", f, 2);
    }
    if (c->paused && !c->eof && !c->closing &&
        uv_stream_get_write_queue_size(s) < WRITE_LOW) {
        c->paused = false;
        uv_read_start(s, alloc_cb, read_cb);
    }
    free(w);
    tl__conn_unref(c);
}

int tl__conn_write(struct tl__conn *c, const char *data, size_t len)
{
    uv_stream_t *s = (uv_stream_t *)&c->pipe;
    struct write_req *w;
    uv_buf_t buf;
    int rc;

    if (c->closing || uv_is_closing((uv_handle_t *)s)) {
        return UV_ECANCELED;
    }
    w = malloc(sizeof(*w) + len);
    if (w == NULL) {
        return -ENOMEM;
    }
    memcpy(w->data, data, len);
    w->conn = c;
    buf = uv_buf_init(w->data, (unsigned int)len);
    rc = uv_write(&w->req, s, &buf, 1, write_cb);
    if (rc < 0) {
        free(w);
        return rc;
    }
    c->refs++;
    if (!c->paused && !c->eof &&
        uv_stream_get_write_queue_size(s) > WRITE_HIGH) {
        c->paused = true;
        uv_read_stop(s);
    }
    return 0;
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    struct tl__conn *c = req->data;

    (void)status;
    free(req);
    if (!uv_is_closing((uv_handle_t *)&c->pipe)) {
        uv_close((uv_handle_t *)&c->pipe, close_cb);
    }
}

void tl__conn_finish(struct tl__conn *c)
{
    uv_shutdown_t *req;

    if (c->closing) {
        return;
    }
    c->closing = true;
    uv_read_stop((uv_stream_t *)&c->pipe);
    /* uv_shutdown waits for the queued writes (the last acks) first. */
    req = malloc(sizeof(*req));
    if (req != NULL) {
        req->data = c;
        if (uv_shutdown(req, (uv_stream_t *)&c->pipe, shutdown_cb) == 0) {
            return;
        }
        free(req);
    }
    uv_close((uv_handle_t *)&c->pipe, close_cb);
}

void tl__conn_abort(struct tl__conn *c)
{
    c->closing = true;
    if (!uv_is_closing((uv_handle_t *)&c->pipe)) {
        uv_close((uv_handle_t *)&c->pipe, close_cb);
    }
}

void tl__conn_drain(struct tl__conn *c)
{
    size_t total = 0;
    uv_os_fd_t fd;
    ssize_t n;

    if (c->eof || c->closing) {
        return;
    }
    uv_read_stop((uv_stream_t *)&c->pipe);
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0) {
        while (total < DRAIN_MAX && tl__buf_reserve(&c->in, READ_CHUNK) == 0) {
            n = recv(fd, c->in.data + c->in.len, READ_CHUNK, MSG_DONTWAIT);
            if (n <= 0) {
                break;
            }
            c->in.len += (size_t)n;
            total += (size_t)n;
            input(c);
        }
    }
    input_end(c);
}
