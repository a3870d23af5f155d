/* Fuzzes the daemon's native protocol input: src/daemon/native.c (frame
 * lengths, JSON, seq, dispatch) and native_decode.c (record and audit
 * members), on one fake connection. Stubs below replace the rest of the
 * daemon and check what native.c passes to them. Every frame sent back
 * must be valid, and acks must grow and cover every frame received. Every
 * record must format as one JSON line without duplicate members, and
 * every audit event must have a canonical encoding that reads back the
 * same.
 *
 * Input: one option byte, then frame bodies separated by 0x1e, each sent
 * with a correct length header (an empty body gets length 0). When bit 7
 * of the option byte is set, the rest is sent as is, headers included.
 * The low 6 bits pick the size of the reads that deliver the stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "fuzz_util.h"
#include "lib/format.h"

#define SEPARATOR 0x1e

/* The outcomes seen in one run. Each frame that native.c reads must get
 * exactly one: written, queued for the audit commit, a stats frame sent
 * back, or rejected with an error frame. */
static struct {
    uint64_t last_ack;
    uint64_t written, audits, stats, errors;
} seen;

/* ---- stubs for the parts of the daemon that native.c calls ---- */

static uint32_t be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 |
           u[3];
}

static void ack_check(const struct tl__conn *c, json_t *obj, const char *body,
                      size_t len)
{
    json_t *seq = json_object_get(obj, "seq");
    uint64_t n;

    if (!json_is_integer(seq) || json_integer_value(seq) <= 0) {
        fuzz_fail(body, len, "an ack without a positive seq");
    }
    n = (uint64_t)json_integer_value(seq);
    if (n <= seen.last_ack || n > c->last_seq) {
        fuzz_fail(body, len, "ack %llu after ack %llu, last seq %llu",
                  (unsigned long long)n, (unsigned long long)seen.last_ack,
                  (unsigned long long)c->last_seq);
    }
    seen.last_ack = n;
}

/* Counts an error frame. A frame_length error comes before any frame
 * is read, so it is not the outcome of one. */
static void error_check(json_t *obj, const char *body, size_t len)
{
    const char *code = json_string_value(json_object_get(obj, "code"));

    if (code == NULL || !json_is_string(json_object_get(obj, "message"))) {
        fuzz_fail(body, len, "an error frame without code or message");
    }
    if (strcmp(code, "frame_length") != 0) {
        seen.errors++;
    }
}

/* Checks one frame the daemon sends: length header, JSON object, type. */
int tl__conn_write(struct tl__conn *c, const char *data, size_t len)
{
    const char *body = data + 4, *type;
    json_error_t err;
    json_t *obj;

    if (len < 5 || be32(data) != len - 4) {
        fuzz_fail(data, len, "a sent frame with a wrong length header");
    }
    obj = json_loadb(body, len - 4, JSON_REJECT_DUPLICATES, &err);
    type = json_string_value(json_object_get(obj, "type"));
    if (type == NULL) {
        fuzz_fail(body, len - 4, "a sent frame without a type: %s", err.text);
    }
    if (strcmp(type, "ack") == 0) {
        ack_check(c, obj, body, len - 4);
    } else if (strcmp(type, "error") == 0) {
        error_check(obj, body, len - 4);
    } else if (strcmp(type, "stats") == 0) {
        seen.stats++;
    } else {
        fuzz_fail(body, len - 4, "a sent frame of unknown type");
    }
    json_decref(obj);
    return 0;
}

void tl__conn_finish(struct tl__conn *c)
{
    c->closing = true;
}

int tl__conn_accept(struct tl__daemon *d, uv_stream_t *server,
                    enum tl__conn_kind kind,
                    struct tl__syslog_listener *listener)
{
    (void)d;
    (void)server;
    (void)kind;
    (void)listener;
    abort();
}

int tl__socket_path_prepare(const char *path, int type, char *err,
                            size_t errlen)
{
    (void)path;
    (void)type;
    (void)err;
    (void)errlen;
    abort();
}

void tl__dlog_error(struct tl__daemon *d, const char *key, const char *msg,
                    const struct tl_field *fields, size_t n_fields)
{
    (void)d;
    (void)key;
    (void)msg;
    (void)fields;
    (void)n_fields;
}

json_t *tl__stats_json(const struct tl__daemon *d)
{
    (void)d;
    return json_object();
}

/* Formats the record as the file sink does. The frame's field keys are
 * distinct (duplicates make the frame invalid JSON), so the line must
 * have no duplicate member either. */
int tl__daemon_write(struct tl__daemon *d, const struct tl__record *r)
{
    struct tl__buf b;
    json_t *obj, *uid;

    (void)d;
    seen.written++;
    tl__buf_init(&b);
    tl__format_json(&b, r);
    obj = fuzz_json_line(b.data, b.len, true);
    uid = json_object_get(obj, "_uid");
    if (json_number_value(uid) != (double)r->cred.uid) {
        fuzz_fail(b.data, b.len, "_uid is not the sender's");
    }
    json_decref(obj);
    tl__buf_free(&b);
    return 0;
}

/* Compares member key of obj with the string s, or with JSON null when
 * s is NULL. */
static void canonical_member_check(json_t *obj, const char *key, const char *s,
                                   const char *text, size_t len)
{
    json_t *v = json_object_get(obj, key);
    const char *got = json_string_value(v);
    bool same;

    if (s == NULL) {
        same = json_is_null(v);
    } else {
        same = got != NULL && strcmp(got, s) == 0;
    }
    if (!same) {
        fuzz_fail(text, len, "canonical member %s differs from the event", key);
    }
}

/* Checks the canonical encoding instead of queueing the event. */
int tl__audit_batch_add(struct tl__daemon *d, struct tl__conn *c, uint64_t seq,
                        struct tl__audit_rec *rec)
{
    struct tl__buf b;
    json_t *obj, *actor, *details;

    (void)d;
    (void)c;
    seen.audits++;
    tl__buf_init(&b);
    tl__audit_canonical(&b, rec, seq);
    tl__buf_addc(&b, '\n');
    obj = fuzz_json_line(b.data, b.len, true);
    canonical_member_check(obj, "tenant", rec->tenant, b.data, b.len);
    canonical_member_check(obj, "action", rec->action, b.data, b.len);
    canonical_member_check(obj, "outcome", rec->outcome, b.data, b.len);
    canonical_member_check(obj, "reason", rec->reason, b.data, b.len);
    actor = json_object_get(obj, "actor");
    canonical_member_check(actor, "type", rec->actor_type, b.data, b.len);
    canonical_member_check(actor, "id", rec->actor_id, b.data, b.len);
    details = json_loads(rec->details, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
                         NULL);
    if (!json_equal(details, json_object_get(obj, "details"))) {
        fuzz_fail(b.data, b.len, "canonical details differ from the event");
    }
    json_decref(details);
    json_decref(obj);
    tl__buf_free(&b);
    tl__audit_rec_free(rec);
    return 0;
}

/* ---- the harness ---- */

/* Builds the byte stream: the input as is, or its bodies with headers. */
static void stream_build(const uint8_t *data, size_t size, bool raw,
                         struct tl__buf *out)
{
    const uint8_t *body = data, *end = data + size, *sep;
    size_t n;

    if (raw) {
        tl__buf_add(out, data, size);
        return;
    }
    while (body < end) {
        sep = memchr(body, SEPARATOR, (size_t)(end - body));
        n = (size_t)((sep ? sep : end) - body);
        tl__buf_addc(out, (char)(n >> 24));
        tl__buf_addc(out, (char)(n >> 16));
        tl__buf_addc(out, (char)(n >> 8));
        tl__buf_addc(out, (char)n);
        tl__buf_add(out, body, n);
        body += n + (sep != NULL);
    }
}

/* Delivers the stream in reads of chunk bytes, then the end of stream,
 * as conn.c does. */
static void deliver(struct tl__conn *c, const struct tl__buf *stream,
                    size_t chunk)
{
    size_t pos = 0, n;

    while (pos < stream->len && !c->eof && !c->closing) {
        n = stream->len - pos < chunk ? stream->len - pos : chunk;
        tl__buf_add(&c->in, stream->data + pos, n);
        pos += n;
        tl__native_input(c);
    }
    if (!c->closing) {
        c->eof = true;
        tl__native_input(c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tl__daemon d;
    struct tl__conn c;
    struct tl__buf stream;
    uint8_t opt;

    if (size < 1) {
        return 0;
    }
    opt = data[0];
    memset(&d, 0, sizeof(d));
    memset(&c, 0, sizeof(c));
    c.d = &d;
    c.kind = TL__CONN_NATIVE;
    c.refs = 1;
    c.cred =
        (struct tl__cred){.set = true, .pid = 4242, .uid = 1000, .gid = 1000};
    tl__buf_init(&c.in);
    tl__buf_init(&stream);
    memset(&seen, 0, sizeof(seen));

    stream_build(data + 1, size - 1, opt & 0x80, &stream);
    deliver(&c, &stream, (opt & 0x3f) ? (size_t)(opt & 0x3f) * 3 : SIZE_MAX);
    if (seen.written + seen.audits + seen.stats + seen.errors !=
        d.n.native_frames) {
        fuzz_fail(
            NULL, 0,
            "%llu frames read, but %llu written, %llu "
            "audits, %llu stats and %llu errors",
            (unsigned long long)d.n.native_frames,
            (unsigned long long)seen.written, (unsigned long long)seen.audits,
            (unsigned long long)seen.stats, (unsigned long long)seen.errors);
    }
    if (c.acked != c.last_seq || !c.closing) {
        fuzz_fail(NULL, 0, "the connection ended with seq %llu acked %llu",
                  (unsigned long long)c.last_seq, (unsigned long long)c.acked);
    }
    tl__buf_free(&c.in);
    tl__buf_free(&stream);
    return 0;
}
