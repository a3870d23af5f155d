/* Blocking client of tenantlogd's native protocol: sends length-prefixed
 * JSON frames and reads the acks, audit acks and error frames that come
 * back, with poll(2) timeouts. */
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "tenantlog/tenantlog.h"

#define WINDOW_DEFAULT 1024 /* unacknowledged frames before send waits */
#define IO_TIMEOUT_MS 30000 /* maximum wait for the daemon in send */
#define READ_CHUNK 65536

struct audit_ack {
    uint64_t seq;
    uint64_t audit_seq;
};

struct tl__client {
    int fd;
    bool eof;      /* the daemon closed the connection */
    uint64_t sent; /* sequence number of the last frame sent */
    uint64_t acked;
    uint64_t errors;
    tl__client_error_fn on_error;
    void *user;
    struct tl__buf in; /* received bytes not yet parsed */
    struct audit_ack *audits;
    size_t n_audits;
    size_t cap_audits;
};

int tl__client_connect(const char *path, struct tl__client **out)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct tl__client *c;
    int err;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        return -ENAMETOOLONG;
    }
    strcpy(addr.sun_path, path);
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    tl__buf_init(&c->in);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 ||
        connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        err = -errno;
        tl__client_close(c);
        return err;
    }
    *out = c;
    return 0;
}

void tl__client_on_error(struct tl__client *c, tl__client_error_fn fn,
                         void *user)
{
    c->on_error = fn;
    c->user = user;
}

uint64_t tl__client_acked(const struct tl__client *c)
{
    return c->acked;
}

uint64_t tl__client_errors(const struct tl__client *c)
{
    return c->errors;
}

uint64_t tl__client_audit_seq(const struct tl__client *c, uint64_t seq)
{
    size_t lo = 0, hi = c->n_audits;

    /* audits is sorted by seq because the daemon acks in order. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (c->audits[mid].seq == seq) {
            return c->audits[mid].audit_seq;
        }
        if (c->audits[mid].seq < seq) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return 0;
}

static int audit_ack_add(struct tl__client *c, uint64_t seq, uint64_t audit_seq)
{
    if (c->n_audits > 0 && c->audits[c->n_audits - 1].seq >= seq) {
        return TL_EPROTO;
    }
    if (c->n_audits == c->cap_audits) {
        size_t n = c->cap_audits ? c->cap_audits * 2 : 64;
        struct audit_ack *a = realloc(c->audits, n * sizeof(*a));

        if (a == NULL) {
            return -ENOMEM;
        }
        c->audits = a;
        c->cap_audits = n;
    }
    c->audits[c->n_audits++] = (struct audit_ack){seq, audit_seq};
    return 0;
}

static uint64_t member_u64(const json_t *obj, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(obj, key));

    return v > 0 ? (uint64_t)v : 0;
}

static void error_frame(struct tl__client *c, const json_t *obj)
{
    const char *code = json_string_value(json_object_get(obj, "code"));
    const char *msg = json_string_value(json_object_get(obj, "message"));

    c->errors++;
    if (c->on_error) {
        c->on_error(c->user, member_u64(obj, "seq"), code ? code : "",
                    msg ? msg : "");
    }
}

/* Handles one frame body from the daemon. */
static int frame_handle(struct tl__client *c, const char *body, size_t len)
{
    json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    const char *type = json_string_value(json_object_get(obj, "type"));
    uint64_t seq = member_u64(obj, "seq");
    int rc = 0;

    if (!json_is_object(obj) || type == NULL) {
        rc = TL_EPROTO;
    } else if (strcmp(type, "ack") == 0) {
        c->acked = seq > c->acked ? seq : c->acked;
    } else if (strcmp(type, "audit_ack") == 0) {
        rc = audit_ack_add(c, seq, member_u64(obj, "audit_seq"));
    } else if (strcmp(type, "error") == 0) {
        error_frame(c, obj);
    }
    json_decref(obj);
    return rc;
}

static uint32_t be32_get(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 |
           u[3];
}

/* Parses every complete frame in c->in and keeps the partial rest. */
static int frames_parse(struct tl__client *c)
{
    size_t pos = 0;
    int rc = 0;

    while (rc == 0 && c->in.len - pos >= 4) {
        uint32_t n = be32_get(c->in.data + pos);

        if (n == 0 || n > TL__FRAME_MAX) {
            rc = TL_EPROTO;
        } else if (c->in.len - pos - 4 < n) {
            break;
        } else {
            rc = frame_handle(c, c->in.data + pos + 4, n);
            pos += 4 + (size_t)n;
        }
    }
    memmove(c->in.data, c->in.data + pos, c->in.len - pos);
    c->in.len -= pos;
    return rc;
}

/* Reads what is available without blocking and handles it. */
static int input_read(struct tl__client *c)
{
    ssize_t n;

    if (tl__buf_reserve(&c->in, READ_CHUNK) < 0) {
        return -ENOMEM;
    }
    n = recv(c->fd, c->in.data + c->in.len, READ_CHUNK, MSG_DONTWAIT);
    if (n < 0) {
        int err = errno;

        if (err == EAGAIN || err == EINTR) {
            return 0;
        }
        c->eof = true;
        return err == ECONNRESET ? TL_EPROTO : -err;
    }
    if (n == 0) {
        c->eof = true;
        return 0;
    }
    c->in.len += (size_t)n;
    return frames_parse(c);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on the socket for at most timeout_ms and reads what
 * arrived. Sets *writable when a send would make progress. */
static int io_wait(struct tl__client *c, short events, int timeout_ms,
                   bool *writable)
{
    struct pollfd pfd = {.fd = c->fd, .events = events};
    int n = poll(&pfd, 1, timeout_ms);

    *writable = false;
    if (n < 0) {
        return errno == EINTR ? 0 : -errno;
    }
    if (n == 0) {
        return TL_ETIMEDOUT;
    }
    *writable = (pfd.revents & POLLOUT) != 0;
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
        return input_read(c);
    }
    return 0;
}

/* Sends all of data, reading what the daemon sends meanwhile so that
 * neither side can block on a full socket buffer. */
static int send_all(struct tl__client *c, const char *data, size_t len)
{
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    bool writable;
    ssize_t n;
    int rc;

    while (len > 0) {
        int64_t left = deadline - now_ms();

        if (c->eof) {
            return TL_EPROTO;
        }
        rc = io_wait(c, POLLIN | POLLOUT, left > 0 ? (int)left : 0, &writable);
        if (rc < 0) {
            return rc;
        }
        if (!writable) {
            continue;
        }
        n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            rc = errno;
            c->eof = true;
            return rc == EPIPE || rc == ECONNRESET ? TL_EPROTO : -rc;
        }
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        }
    }
    return 0;
}

/* Reads from the daemon until at most max_pending frames are unacked. */
static int acks_wait(struct tl__client *c, uint64_t max_pending, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    bool writable;
    int rc;

    while (c->sent - c->acked > max_pending) {
        int64_t left = deadline - now_ms();

        if (c->eof) {
            return TL_EPROTO;
        }
        rc = io_wait(c, POLLIN, left > 0 ? (int)left : 0, &writable);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

int tl__client_send(struct tl__client *c, json_t *obj, uint64_t *seq_out)
{
    uint64_t seq = c->sent + 1;
    unsigned char hdr[4];
    char *body = NULL;
    size_t len;
    int rc;

    if (json_object_set_new(obj, "seq", json_integer((json_int_t)seq)) < 0) {
        return TL_EINVAL;
    }
    body = json_dumps(obj, JSON_COMPACT);
    if (body == NULL) {
        return -ENOMEM;
    }
    len = strlen(body);
    if (len > TL__FRAME_MAX) {
        rc = TL_ETOOBIG;
        goto out;
    }
    hdr[0] = (unsigned char)(len >> 24);
    hdr[1] = (unsigned char)(len >> 16);
    hdr[2] = (unsigned char)(len >> 8);
    hdr[3] = (unsigned char)len;
    rc = send_all(c, (const char *)hdr, sizeof(hdr));
    if (rc == 0) {
        rc = send_all(c, body, len);
    }
    if (rc < 0) {
        /* Part of the frame may be out, so framing is lost. */
        c->eof = true;
        goto out;
    }
    c->sent = seq;
    if (seq_out) {
        *seq_out = seq;
    }
    rc = acks_wait(c, WINDOW_DEFAULT, IO_TIMEOUT_MS);
out:
    free(body);
    return rc;
}

int tl__client_flush(struct tl__client *c, int timeout_ms)
{
    return acks_wait(c, 0, timeout_ms);
}

void tl__client_close(struct tl__client *c)
{
    if (c == NULL) {
        return;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    tl__buf_free(&c->in);
    free(c->audits);
    free(c);
}
