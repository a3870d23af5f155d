/* Syslog listeners: Unix datagram sockets read with recvmsg(2) and
 * SCM_CREDENTIALS (libuv's uv_udp has no Unix datagram support), and Unix
 * stream sockets split by the RFC 6587 framer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/text.h"
#include "daemon.h"

#define DGRAM_BATCH 256        /* datagrams read per readiness event */
#define DGRAM_RCVBUF (4 << 20) /* requested SO_RCVBUF, bytes */
#define DGRAM_DRAIN 65536      /* datagrams read at shutdown, at most */
#define SD_KEY_MAX (3 + 32 + 1 + 32 + 1) /* "sd.<id>.<name>" and NUL */

/* The message being turned into a record: its fixed fields, then one
 * field per structured data parameter. */
struct syslog_fields {
    struct tl_field *items;
    size_t *lens;
    size_t n;
};

static void field_str(struct syslog_fields *f, const char *key,
                      struct tl__slice s)
{
    if (s.p == NULL) {
        return;
    }
    f->items[f->n] = TL_STR(key, s.p);
    f->lens[f->n++] = s.len;
}

/* Copies s NUL-terminated into scratch, which was reserved to fit. */
static const char *scratch_put(struct tl__buf *b, const char *s, size_t n)
{
    char *dst = b->data + b->len;

    memcpy(dst, s, n);
    dst[n] = '\0';
    b->len += n + 1;
    return dst;
}

/* Fills the fields and the NUL-terminated strings of the record. The
 * strings live in d->scratch. */
static int fields_build(struct tl__daemon *d, const struct tl__syslog_msg *m,
                        struct syslog_fields *f, const char **logger,
                        const char **tenant)
{
    struct tl__buf *b = &d->scratch;
    const char *fac = tl__syslog_facility_name(m->facility);
    size_t i;

    tl__buf_reset(b);
    if (tl__buf_reserve(b, m->app.len + m->tenant.len + 2 +
                               m->n_params * SD_KEY_MAX) < 0) {
        return -ENOMEM;
    }
    *logger = m->app.p ? scratch_put(b, m->app.p, m->app.len) : NULL;
    *tenant = NULL;
    if (m->tenant.p != NULL) {
        char *t = b->data + b->len;

        *tenant = scratch_put(b, m->tenant.p, m->tenant.len);
        /* A NUL would cut "acme\0.evil" short into the valid id "acme".
         * SUB (0x1a) keeps the id invalid, so it is quarantined. */
        for (i = 0; i < m->tenant.len; i++) {
            t[i] = t[i] == '\0' ? '\x1a' : t[i];
        }
    }
    if (fac != NULL) {
        field_str(f, "facility", (struct tl__slice){fac, strlen(fac)});
    }
    field_str(f, "host", m->host);
    field_str(f, "procid", m->procid);
    field_str(f, "msgid", m->msgid);
    for (i = 0; i < m->n_params; i++) {
        const struct tl__syslog_param *p = &m->params[i];
        char *key = b->data + b->len;

        b->len +=
            (size_t)snprintf(key, SD_KEY_MAX, "sd.%.*s.%.*s", (int)p->sd_id.len,
                             p->sd_id.p, (int)p->name.len, p->name.p) +
            1;
        field_str(f, key, p->value);
    }
    return 0;
}

static int record_build(struct tl__syslog_listener *l,
                        const struct tl__syslog_msg *m,
                        const struct tl__cred *cred, struct tl__record **out)
{
    struct tl__record_src src = {.transport = TL__TRANSPORT_SYSLOG};
    size_t cap = 4 + m->n_params;
    struct syslog_fields f = {calloc(cap, sizeof(*f.items)),
                              calloc(cap, sizeof(*f.lens)), 0};
    int rc = -ENOMEM;

    if (f.items && f.lens) {
        rc = fields_build(l->d, m, &f, &src.logger, &src.tenant);
    }
    if (rc == 0) {
        if (src.tenant == NULL) {
            src.tenant = l->conf->default_tenant;
        }
        src.ts_ns = m->ts_ns;
        src.level = (enum tl_level)m->severity;
        src.cred = *cred;
        src.msg = m->msg.p;
        src.msg_len = m->msg.len;
        src.fields = f.items;
        src.n_fields = f.n;
        src.field_lens = f.lens;
        rc = tl__record_new(&src, out);
    }
    free(f.items);
    free(f.lens);
    return rc;
}

void tl__syslog_message(struct tl__syslog_listener *l, const char *text,
                        size_t len, const struct tl__cred *cred, bool truncated)
{
    struct tl__daemon *d = l->d;
    struct tl__syslog_msg m;
    struct tl__record *r;
    int rc;

    d->n.syslog_received++;
    l->received++;
    d->n.syslog_truncated += truncated;
    rc = tl__syslog_parse(text, len, tl__now_ns(), &m);
    if (rc == TL_EINVAL) {
        d->n.syslog_empty++;
        return;
    }
    if (rc == 0) {
        d->n.syslog_unparsed += m.format == TL__SYSLOG_UNPARSED;
        rc = record_build(l, &m, cred, &r);
        tl__syslog_msg_fini(&m);
    }
    if (rc < 0) {
        struct tl_field f[] = {TL_STR("socket", l->conf->path),
                               TL_STR("error", tl_strerror(rc))};

        d->n.records_failed++;
        tl__dlog_error(d, "syslog.record",
                       "failed to build a record from "
                       "a syslog message; it is lost",
                       f, 2);
        return;
    }
    (void)tl__daemon_write(d, r);
    free(r);
}

void tl__syslog_stream_input(struct tl__conn *c)
{
    const char *msg;
    size_t len;
    bool cut;

    if (c->in.len > 0 &&
        tl__syslog_framer_push(&c->framer, c->in.data, c->in.len) < 0) {
        struct tl_field f[] = {TL_U64("conn", c->id),
                               TL_STR("socket", c->listener->conf->path)};

        tl__dlog_error(c->d, "syslog.framer",
                       "out of memory while reading "
                       "a syslog stream; the connection is closed",
                       f, 2);
        c->eof = true;
        uv_read_stop((uv_stream_t *)&c->pipe);
    }
    c->in.len = 0;
    while (tl__syslog_framer_next(&c->framer, c->eof, &msg, &len, &cut) == 1) {
        tl__syslog_message(c->listener, msg, len, &c->cred, cut);
    }
}

/* ---- datagram sockets ---- */

/* Reads the sender's credentials from the control messages. */
static void cred_from_cmsg(struct msghdr *mh, struct tl__cred *cred)
{
    struct cmsghdr *cm;

    memset(cred, 0, sizeof(*cred));
    for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
            cm->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred uc;

            memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
            cred->set = true;
            cred->pid = uc.pid;
            cred->uid = uc.uid;
            cred->gid = uc.gid;
        }
    }
}

/* Reads one datagram. Returns 1 when one was handled, 0 when none is
 * queued, or a negated errno. */
static int dgram_read(struct tl__syslog_listener *l)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {l->buf, TL__SYSLOG_MAX};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof(control.buf)};
    struct tl__cred cred;
    ssize_t n;

    n = recvmsg(l->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    }
    cred_from_cmsg(&mh, &cred);
    tl__syslog_message(l, l->buf, (size_t)n, &cred,
                       (mh.msg_flags & MSG_TRUNC) != 0);
    return 1;
}

/* Reads up to max datagrams. */
static void dgram_read_all(struct tl__syslog_listener *l, int max)
{
    int i, rc = 1;

    for (i = 0; i < max && rc == 1; i++) {
        rc = dgram_read(l);
    }
    if (rc < 0) {
        struct tl_field f[] = {TL_STR("socket", l->conf->path),
                               TL_STR("error", strerror(-rc))};

        tl__dlog_error(l->d, "syslog.recv",
                       "failed to read a syslog "
                       "datagram",
                       f, 2);
    }
}

static void dgram_ready(uv_poll_t *p, int status, int events)
{
    struct tl__syslog_listener *l = p->data;

    (void)events;
    if (status < 0) {
        struct tl_field f[] = {TL_STR("socket", l->conf->path),
                               TL_STR("error", uv_strerror(status))};

        tl__dlog_error(l->d, "syslog.poll", "failed to poll a syslog socket", f,
                       2);
        return;
    }
    dgram_read_all(l, DGRAM_BATCH);
}

static int dgram_bind(struct tl__syslog_listener *l)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int on = 1, size = DGRAM_RCVBUF;

    if (strlen(l->conf->path) >= sizeof(addr.sun_path)) {
        return -ENAMETOOLONG;
    }
    strcpy(addr.sun_path, l->conf->path);
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (l->fd < 0) {
        return -errno;
    }
    /* SO_RCVBUF is only a request, which the kernel caps at rmem_max. */
    (void)setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (setsockopt(l->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0 ||
        bind(l->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        return -errno;
    }
    return 0;
}

static int dgram_open(struct tl__syslog_listener *l)
{
    int rc;

    l->buf = malloc(TL__SYSLOG_MAX);
    if (l->buf == NULL) {
        return -ENOMEM;
    }
    rc = dgram_bind(l);
    if (rc < 0) {
        return rc;
    }
    rc = uv_poll_init(l->d->loop, &l->poll, l->fd);
    if (rc < 0) {
        return rc;
    }
    l->open = true;
    l->poll.data = l;
    return uv_poll_start(&l->poll, UV_READABLE, dgram_ready);
}

/* ---- stream sockets ---- */

static void stream_connection(uv_stream_t *server, int status)
{
    struct tl__syslog_listener *l = server->data;
    int rc = status;

    if (rc == 0) {
        rc = tl__conn_accept(l->d, server, TL__CONN_SYSLOG, l);
    }
    if (rc < 0) {
        struct tl_field f[] = {TL_STR("socket", l->conf->path),
                               TL_STR("error", uv_strerror(rc))};

        tl__dlog_error(l->d, "syslog.accept",
                       "failed to accept a syslog "
                       "connection",
                       f, 2);
    }
}

static int stream_open(struct tl__syslog_listener *l)
{
    int rc;

    uv_pipe_init(l->d->loop, &l->pipe, 0);
    l->pipe.data = l;
    l->open = true;
    rc = uv_pipe_bind(&l->pipe, l->conf->path);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&l->pipe, 128, stream_connection);
    }
    return rc;
}

static int listener_open(struct tl__syslog_listener *l, char *err,
                         size_t errlen)
{
    const char *path = l->conf->path;
    int rc;

    rc = tl__socket_path_prepare(
        path, l->conf->stream ? SOCK_STREAM : SOCK_DGRAM, err, errlen);
    if (rc < 0) {
        return rc;
    }
    rc = l->conf->stream ? stream_open(l) : dgram_open(l);
    if (rc == 0 && chmod(path, 0666) != 0) {
        rc = -errno;
    }
    if (rc < 0) {
        snprintf(err, errlen,
                 "%s: failed to listen on the syslog socket: "
                 "%s",
                 path, uv_strerror(rc));
    }
    return rc;
}

int tl__syslog_listeners_open(struct tl__daemon *d, char *err, size_t errlen)
{
    size_t i;
    int rc;

    d->listeners =
        calloc(d->cfg->n_syslog ? d->cfg->n_syslog : 1, sizeof(*d->listeners));
    if (d->listeners == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (i = 0; i < d->cfg->n_syslog; i++) {
        struct tl__syslog_listener *l = &d->listeners[i];

        l->d = d;
        l->conf = &d->cfg->syslog[i];
        l->fd = -1;
        d->n_listeners = i + 1;
        rc = listener_open(l, err, errlen);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static void dgram_closed(uv_handle_t *h)
{
    struct tl__syslog_listener *l = h->data;

    close(l->fd);
    l->fd = -1;
}

void tl__syslog_listeners_close(struct tl__daemon *d)
{
    size_t i;

    for (i = 0; i < d->n_listeners; i++) {
        struct tl__syslog_listener *l = &d->listeners[i];

        if (l->conf->stream && l->open) {
            uv_close((uv_handle_t *)&l->pipe, NULL);
        } else if (l->open) {
            /* Datagrams already queued were sent before the stop. */
            dgram_read_all(l, DGRAM_DRAIN);
            uv_close((uv_handle_t *)&l->poll, dgram_closed);
        } else if (l->fd >= 0) {
            close(l->fd);
            l->fd = -1;
        }
        l->open = false;
    }
}
