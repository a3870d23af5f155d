/* The native protocol (docs/protocol.md): frames of a 4-byte big-endian
 * length and a JSON object. Records are written at once, audit events
 * wait for the group commit, and acks are cumulative. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/client.h"
#include "common/text.h"
#include "daemon.h"

static uint32_t be32_get(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 |
           u[3];
}

int tl__native_send(struct tl__conn *c, json_t *obj)
{
    char *body = json_dumps(obj, JSON_COMPACT);
    struct tl__buf frame;
    size_t len;
    int rc;

    json_decref(obj);
    if (body == NULL) {
        return -ENOMEM;
    }
    len = strlen(body);
    tl__buf_init(&frame);
    tl__buf_addc(&frame, (char)(len >> 24));
    tl__buf_addc(&frame, (char)(len >> 16));
    tl__buf_addc(&frame, (char)(len >> 8));
    tl__buf_addc(&frame, (char)len);
    tl__buf_add(&frame, body, len);
    free(body);
    rc = frame.oom ? -ENOMEM : tl__conn_write(c, frame.data, frame.len);
    tl__buf_free(&frame);
    return rc;
}

/* Logs a rejected frame as one of the daemon's own errors. All rejections
 * share one rate limit, so a client that sends bad frames in a loop
 * cannot flood the daemon's log. */
static void reject_log(struct tl__conn *c, uint64_t seq, const char *code,
                       const char *message)
{
    struct tl_field f[7];
    size_t n = 0;

    f[n++] = TL_U64("conn", c->id);
    if (c->cred.set) {
        f[n++] = TL_I64("pid", (int64_t)c->cred.pid);
        f[n++] = TL_U64("uid", (uint64_t)c->cred.uid);
        f[n++] = TL_U64("gid", (uint64_t)c->cred.gid);
    }
    if (seq > 0) {
        f[n++] = TL_U64("seq", seq);
    }
    f[n++] = TL_STR("code", code);
    f[n++] = TL_STR("error", message);
    tl__dlog_error(c->d, "native.reject", "rejected a native frame", f, n);
}

/* Copies s into out (size bytes) with each byte that is not part of valid
 * UTF-8 replaced by U+FFFD. A "%.64s" in a message can cut a character in
 * two, and jansson rejects a string with invalid UTF-8, so without this
 * the error frame would not be sent. */
static void utf8_repair(const char *s, char *out, size_t size)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), pos = 0, used = 0, n;
    uint32_t cp;

    while (pos < len) {
        n = tl__utf8_decode(u + pos, len - pos, &cp);
        if (used + (n ? n : 3) >= size) {
            break;
        }
        if (n == 0) {
            memcpy(out + used, "\xEF\xBF\xBD", 3);
            used += 3;
            pos++;
        } else {
            memcpy(out + used, s + pos, n);
            used += n;
            pos += n;
        }
    }
    out[used] = '\0';
}

void tl__native_error(struct tl__conn *c, uint64_t seq, const char *code,
                      const char *message)
{
    char text[1024];
    json_t *obj;

    utf8_repair(message, text, sizeof(text));
    c->d->n.native_errors++;
    reject_log(c, seq, code, text);
    obj = json_pack("{s:s,s:s,s:s}", "type", "error", "code", code, "message",
                    text);
    if (obj == NULL) {
        return;
    }
    if (seq > 0) {
        json_object_set_new(obj, "seq", json_integer((json_int_t)seq));
    }
    (void)tl__native_send(c, obj);
}

void tl__native_ack(struct tl__conn *c)
{
    if (c->pending_audits > 0 || c->last_seq <= c->acked || c->closing) {
        return;
    }
    if (tl__native_send(c, json_pack("{s:s,s:I}", "type", "ack", "seq",
                                     (json_int_t)c->last_seq)) == 0) {
        c->acked = c->last_seq;
    }
}

static void record_frame(struct tl__conn *c, json_t *obj, uint64_t seq)
{
    struct tl__native_err err = {0};
    struct tl__record *r;
    char msg[256];
    int rc;

    if (tl__native_record_decode(obj, &c->cred, &r, &err) < 0) {
        tl__native_error(c, seq, err.code, err.message);
        return;
    }
    c->d->n.native_records++;
    rc = tl__daemon_write(c->d, r);
    free(r);
    if (rc < 0) {
        snprintf(msg, sizeof(msg),
                 "a sink failed to write the record (%s); "
                 "it went to the daemon's standard error instead, so do not "
                 "send it again",
                 tl_strerror(rc));
        tl__native_error(c, seq, "write_failed", msg);
    }
}

static void audit_frame(struct tl__conn *c, json_t *obj, uint64_t seq)
{
    struct tl__native_err err = {0};
    struct tl__audit_rec *rec;

    if (tl__native_audit_decode(obj, &c->cred, &rec, &err) < 0) {
        tl__native_error(c, seq, err.code, err.message);
        return;
    }
    if (tl__audit_batch_add(c->d, c, seq, rec) < 0) {
        tl__native_error(c, seq, "internal",
                         "out of memory; send the audit "
                         "event again later");
    }
}

static void stats_frame(struct tl__conn *c, uint64_t seq)
{
    json_t *obj = json_pack("{s:s,s:I,s:o}", "type", "stats", "seq",
                            (json_int_t)seq, "counters", tl__stats_json(c->d));

    if (obj != NULL) {
        (void)tl__native_send(c, obj);
    }
}

/* Reads and checks "seq". Returns it, or 0 after sending the error. */
static uint64_t seq_take(struct tl__conn *c, json_t *obj)
{
    json_t *v = json_object_get(obj, "seq");
    char msg[160];

    if (json_is_integer(v) && json_integer_value(v) > 0 &&
        (uint64_t)json_integer_value(v) > c->last_seq) {
        c->last_seq = (uint64_t)json_integer_value(v);
        return c->last_seq;
    }
    snprintf(msg, sizeof(msg),
             "\"seq\" must be an integer greater than %" PRIu64
             ", the last one received on this connection",
             c->last_seq);
    tl__native_error(c, 0, "invalid_seq", msg);
    return 0;
}

static void type_dispatch(struct tl__conn *c, json_t *obj, uint64_t seq)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    char msg[160];

    if (type == NULL) {
        tl__native_error(c, seq, "missing_member",
                         "\"type\" is missing or "
                         "not a string; use \"record\", \"audit\" or "
                         "\"stats\"");
    } else if (strcmp(type, "record") == 0) {
        record_frame(c, obj, seq);
    } else if (strcmp(type, "audit") == 0) {
        audit_frame(c, obj, seq);
    } else if (strcmp(type, "stats") == 0) {
        stats_frame(c, seq);
    } else {
        snprintf(msg, sizeof(msg),
                 "unknown frame type \"%.64s\"; use "
                 "\"record\", \"audit\" or \"stats\"",
                 type);
        tl__native_error(c, seq, "unknown_type", msg);
    }
}

/* Handles one frame body. Returns false when the connection must close
 * because framing or sequencing is lost. */
static bool frame_handle(struct tl__conn *c, const char *body, size_t len)
{
    json_error_t jerr;
    json_t *obj;
    uint64_t seq;
    char msg[256];

    c->d->n.native_frames++;
    obj = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!json_is_object(obj)) {
        if (obj == NULL) {
            snprintf(msg, sizeof(msg),
                     "the frame is not valid JSON: %s at "
                     "byte %d",
                     jerr.text, jerr.position);
        } else {
            snprintf(msg, sizeof(msg),
                     "the frame is valid JSON but not an "
                     "object");
        }
        json_decref(obj);
        tl__native_error(c, 0, "invalid_json", msg);
        return false;
    }
    seq = seq_take(c, obj);
    if (seq > 0) {
        type_dispatch(c, obj, seq);
    }
    json_decref(obj);
    return seq > 0;
}

/* Stops reading after a fatal protocol error. The connection closes once
 * its pending audit events are committed and acked. */
static void input_fail(struct tl__conn *c)
{
    c->eof = true;
    uv_read_stop((uv_stream_t *)&c->pipe);
}

/* Handles every complete frame in c->in. Returns the bytes consumed, or
 * all of them after a fatal error. */
static size_t frames_handle(struct tl__conn *c)
{
    size_t pos = 0;
    uint32_t n;
    char msg[160];

    while (!c->closing && c->in.len - pos >= 4) {
        n = be32_get(c->in.data + pos);
        if (n == 0 || n > TL__FRAME_MAX) {
            snprintf(msg, sizeof(msg),
                     "frame length %" PRIu32 " is not in "
                     "1..%u; the connection is closed",
                     n, TL__FRAME_MAX);
            tl__native_error(c, 0, "frame_length", msg);
            input_fail(c);
            return c->in.len;
        }
        if (c->in.len - pos - 4 < n) {
            break;
        }
        if (!frame_handle(c, c->in.data + pos + 4, n)) {
            input_fail(c);
            return c->in.len;
        }
        pos += 4 + (size_t)n;
    }
    return pos;
}

void tl__native_input(struct tl__conn *c)
{
    size_t used = frames_handle(c);

    if (used > 0) {
        memmove(c->in.data, c->in.data + used, c->in.len - used);
        c->in.len -= used;
    }
    tl__native_ack(c);
    if (c->eof && c->pending_audits == 0) {
        tl__conn_finish(c);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct tl__daemon *d = server->data;
    int rc = status;

    if (rc == 0) {
        rc = tl__conn_accept(d, server, TL__CONN_NATIVE, NULL);
    }
    if (rc < 0) {
        struct tl_field f[] = {TL_STR("socket", d->cfg->daemon_socket),
                               TL_STR("error", uv_strerror(rc))};

        tl__dlog_error(d, "native.accept", "failed to accept a connection", f,
                       2);
    }
}

int tl__native_listen(struct tl__daemon *d, char *err, size_t errlen)
{
    const char *path = d->cfg->daemon_socket;
    int rc;

    rc = tl__socket_path_prepare(path, SOCK_STREAM, err, errlen);
    if (rc < 0) {
        return rc;
    }
    uv_pipe_init(d->loop, &d->native, 0);
    d->native.data = d;
    d->native_open = true;
    rc = uv_pipe_bind(&d->native, path);
    if (rc == 0 && chmod(path, 0666) != 0) {
        rc = -errno;
    }
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&d->native, 128, on_connection);
    }
    if (rc < 0) {
        snprintf(err, errlen,
                 "%s: failed to listen on the native socket: "
                 "%s",
                 path, uv_strerror(rc));
    }
    return rc;
}
