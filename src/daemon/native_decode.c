/* Checks the members of "record" and "audit" frames and turns them into a
 * record or an audit event. Every limit here is listed in
 * docs/protocol.md. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/client.h"
#include "common/text.h"
#include "daemon.h"

#define LOGGER_MAX TL__PROTO_LOGGER_MAX
#define AUDIT_STR_MAX TL__PROTO_AUDIT_STR_MAX
#define REASON_MAX 1024
#define FIELDS_MAX 1024
#define FIELD_KEY_MAX 128

static const char *const record_members[] = {
    "type",   "seq",        "ts",       "level",   "logger", "msg",
    "tenant", "request_id", "trace_id", "span_id", "fields",
};

static const char *const audit_members[] = {
    "type",   "seq",     "ts",     "tenant",     "actor",  "action",
    "target", "outcome", "reason", "request_id", "source", "details",
};

static const char *const pair_members[] = {"type", "id"};

static const char *const outcomes[] = {"success", "failure", "denied"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((format(printf, 3, 4))) static int
fail(struct tl__native_err *err, const char *code, const char *fmt, ...)
{
    va_list ap;

    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return strcmp(code, "invalid_tenant") == 0 ? TL_ETENANT : TL_EINVAL;
}

static bool name_in(const char *key, const char *const *names, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(key, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Rejects members that the frame type does not define, so that a typo
 * such as "tennant" is reported instead of ignored. where names the
 * object in the message. */
static int members_check(json_t *obj, const char *where,
                         const char *const *names, size_t n,
                         struct tl__native_err *err)
{
    const char *key;
    json_t *value;

    json_object_foreach(obj, key, value)
    {
        if (!name_in(key, names, n)) {
            return fail(err, "invalid_member",
                        "unknown member \"%.64s\" in "
                        "%s",
                        key, where);
        }
    }
    return 0;
}

/* Reads an optional string member. Absent and null both leave *out NULL.
 * Only msg may contain NUL bytes (allow_nul). path is the member's path
 * from the frame, such as "actor.id", and messages name it. The member
 * read from obj is the last component of path. */
static int str_get(json_t *obj, const char *path, size_t max, bool allow_nul,
                   const char **out, size_t *len, struct tl__native_err *err)
{
    const char *dot = strrchr(path, '.');
    json_t *v = json_object_get(obj, dot ? dot + 1 : path);
    size_t n;

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        return fail(err, "invalid_member", "\"%s\" must be a string", path);
    }
    n = json_string_length(v);
    if (n > max) {
        return fail(err, "invalid_member",
                    "\"%s\" is %zu bytes; the maximum "
                    "is %zu",
                    path, n, max);
    }
    if (!allow_nul && memchr(json_string_value(v), '\0', n) != NULL) {
        return fail(err, "invalid_member", "\"%s\" contains a NUL character",
                    path);
    }
    *out = json_string_value(v);
    if (len) {
        *len = n;
    }
    return 0;
}

static int ts_get(json_t *obj, int64_t *ts_ns, struct tl__native_err *err)
{
    const char *s;
    int rc = str_get(obj, "ts", 64, false, &s, NULL, err);

    *ts_ns = 0;
    if (rc < 0 || s == NULL) {
        return rc;
    }
    if (tl__rfc3339_parse(s, strlen(s), ts_ns) < 0) {
        return fail(err, "invalid_member",
                    "\"ts\" is not an RFC 3339 "
                    "timestamp such as 2024-05-01T12:00:00.000001Z");
    }
    return 0;
}

static int level_get(json_t *obj, enum tl_level *level,
                     struct tl__native_err *err)
{
    const char *s;
    int rc = str_get(obj, "level", 32, false, &s, NULL, err);

    *level = TL_INFO;
    if (rc < 0 || s == NULL) {
        return rc;
    }
    if (tl_level_parse(s, level) < 0) {
        return fail(err, "invalid_member",
                    "\"level\" \"%.32s\" is not a "
                    "level name such as \"info\" or \"error\"",
                    s);
    }
    return 0;
}

/* Maximum length of an invalid tenant id kept for quarantine. */
#define QUARANTINE_MAX TL__PROTO_QUARANTINE_MAX

/* Reads the tenant member, which audit events require. With quarantine
 * set (records), an invalid id is kept, so the record is written to the
 * quarantine file and counted, as the library does. An id with a NUL
 * byte or longer than QUARANTINE_MAX is still rejected, because a NUL
 * would cut it short into what may be a valid tenant's id. */
static int tenant_get(json_t *obj, bool required, bool quarantine,
                      const char **tenant, struct tl__native_err *err)
{
    json_t *v = json_object_get(obj, "tenant");
    const char *s;

    *tenant = NULL;
    if (v == NULL || json_is_null(v)) {
        return required ? fail(err, "missing_member",
                               "\"tenant\" is "
                               "required")
                        : 0;
    }
    if (!json_is_string(v)) {
        return fail(err, "invalid_member", "\"tenant\" must be a string");
    }
    s = json_string_value(v);
    if (quarantine && strlen(s) == json_string_length(v) &&
        json_string_length(v) <= QUARANTINE_MAX) {
        *tenant = s;
        return 0;
    }
    if (!tl__tenant_valid(s, json_string_length(v))) {
        return fail(err, "invalid_tenant",
                    "tenant id \"%.64s\" does not "
                    "match [A-Za-z0-9][A-Za-z0-9._-]{0,63} or is . or ..",
                    s);
    }
    *tenant = s;
    return 0;
}

/* ---- record fields ---- */

struct fields {
    struct tl_field *items;
    size_t *lens;
    char **texts; /* compact JSON of nested values, owned */
    size_t n;
};

static void fields_free(struct fields *f)
{
    size_t i;

    for (i = 0; f->texts && i < f->n; i++) {
        free(f->texts[i]);
    }
    free(f->items);
    free(f->lens);
    free(f->texts);
}

/* Converts one field value. Arrays, objects and null are kept as their
 * compact JSON text. */
static int field_value(json_t *v, struct fields *f, size_t i)
{
    struct tl_field *d = &f->items[i];

    switch (json_typeof(v)) {
    case JSON_STRING:
        *d = TL_STR(d->key, json_string_value(v));
        f->lens[i] = json_string_length(v);
        return 0;
    case JSON_INTEGER:
        *d = TL_I64(d->key, json_integer_value(v));
        return 0;
    case JSON_REAL:
        *d = TL_F64(d->key, json_real_value(v));
        return 0;
    case JSON_TRUE:
    case JSON_FALSE:
        *d = TL_BOOL(d->key, json_is_true(v));
        return 0;
    default:
        f->texts[i] = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (f->texts[i] == NULL) {
            return -ENOMEM;
        }
        *d = TL_STR(d->key, f->texts[i]);
        f->lens[i] = strlen(f->texts[i]);
        return 0;
    }
}

static int fields_alloc(struct fields *f, size_t n)
{
    f->items = calloc(n ? n : 1, sizeof(*f->items));
    f->lens = calloc(n ? n : 1, sizeof(*f->lens));
    f->texts = calloc(n ? n : 1, sizeof(*f->texts));
    if (f->items == NULL || f->lens == NULL || f->texts == NULL) {
        return -ENOMEM;
    }
    return 0;
}

static int fields_get(json_t *obj, struct fields *f, struct tl__native_err *err)
{
    json_t *all = json_object_get(obj, "fields"), *v;
    const char *key;
    size_t key_len;

    if (all == NULL || json_is_null(all)) {
        return 0;
    }
    if (!json_is_object(all)) {
        return fail(err, "invalid_member", "\"fields\" must be an object");
    }
    if (json_object_size(all) > FIELDS_MAX) {
        return fail(err, "invalid_member",
                    "\"fields\" has %zu members; the "
                    "maximum is %d",
                    json_object_size(all), FIELDS_MAX);
    }
    if (fields_alloc(f, json_object_size(all)) < 0) {
        return fail(err, "internal", "out of memory");
    }
    json_object_keylen_foreach(all, key, key_len, v)
    {
        if (key_len == 0 || key_len > FIELD_KEY_MAX ||
            memchr(key, '\0', key_len) != NULL) {
            return fail(err, "invalid_member",
                        "field keys must be 1 to %d "
                        "bytes without NUL characters",
                        FIELD_KEY_MAX);
        }
        f->items[f->n].key = key;
        if (field_value(v, f, f->n) < 0) {
            return fail(err, "internal", "out of memory");
        }
        f->n++;
    }
    return 0;
}

/* ---- records ---- */

static int record_context(json_t *obj, struct tl__record_src *src,
                          struct tl__native_err *err)
{
    int rc;

    rc = tenant_get(obj, false, true, &src->tenant, err);
    if (rc == 0) {
        rc = str_get(obj, "request_id", TL__ID_MAX, false, &src->request_id,
                     NULL, err);
    }
    if (rc == 0) {
        rc = str_get(obj, "trace_id", TL__ID_MAX, false, &src->trace_id, NULL,
                     err);
    }
    if (rc == 0) {
        rc = str_get(obj, "span_id", TL__ID_MAX, false, &src->span_id, NULL,
                     err);
    }
    return rc;
}

static int record_src_fill(json_t *obj, struct tl__record_src *src,
                           struct tl__native_err *err)
{
    int rc;

    rc = members_check(obj, "a record frame", record_members,
                       COUNT(record_members), err);
    if (rc == 0) {
        rc = ts_get(obj, &src->ts_ns, err);
    }
    if (rc == 0) {
        rc = level_get(obj, &src->level, err);
    }
    if (rc == 0) {
        rc = str_get(obj, "logger", LOGGER_MAX, false, &src->logger, NULL, err);
    }
    if (rc == 0) {
        rc = str_get(obj, "msg", TL__FRAME_MAX, true, &src->msg, &src->msg_len,
                     err);
    }
    if (rc == 0) {
        rc = record_context(obj, src, err);
    }
    return rc;
}

int tl__native_record_decode(json_t *obj, const struct tl__cred *cred,
                             struct tl__record **out,
                             struct tl__native_err *err)
{
    struct tl__record_src src = {.transport = TL__TRANSPORT_NATIVE};
    struct fields f = {0};
    int rc;

    src.cred = *cred;
    rc = record_src_fill(obj, &src, err);
    if (rc == 0) {
        rc = fields_get(obj, &f, err);
    }
    if (rc == 0) {
        src.fields = f.items;
        src.n_fields = f.n;
        src.field_lens = f.lens;
        rc = tl__record_new(&src, out);
        if (rc == TL_ETOOBIG) {
            fail(err, "too_large",
                 "the record is larger than %u bytes once "
                 "built",
                 TL__RECORD_MAX);
        } else if (rc < 0) {
            fail(err, "internal", "out of memory");
        }
    }
    fields_free(&f);
    return rc;
}

/* ---- audit events ---- */

/* Copies an optional string member into *dst (left NULL when absent).
 * path is as for str_get. */
static int audit_str(json_t *obj, const char *path, size_t max, bool required,
                     char **dst, struct tl__native_err *err)
{
    const char *s;
    int rc = str_get(obj, path, max, false, &s, NULL, err);

    if (rc < 0) {
        return rc;
    }
    if (s == NULL || s[0] == '\0') {
        return required ? fail(err, "missing_member",
                               "\"%s\" is required "
                               "and must not be empty",
                               path)
                        : 0;
    }
    *dst = strdup(s);
    return *dst ? 0 : fail(err, "internal", "out of memory");
}

/* Reads {"type": ..., "id": ...} of actor or target. */
static int audit_pair(json_t *obj, const char *key, bool required, char **type,
                      char **id, struct tl__native_err *err)
{
    json_t *pair = json_object_get(obj, key);
    char where[32], type_path[32], id_path[32];
    int rc;

    if (pair == NULL || json_is_null(pair)) {
        return required ? fail(err, "missing_member", "\"%s\" is required", key)
                        : 0;
    }
    if (!json_is_object(pair)) {
        return fail(err, "invalid_member",
                    "\"%s\" must be an object with "
                    "\"type\" and \"id\"",
                    key);
    }
    snprintf(where, sizeof(where), "\"%s\"", key);
    snprintf(type_path, sizeof(type_path), "%s.type", key);
    snprintf(id_path, sizeof(id_path), "%s.id", key);
    rc = members_check(pair, where, pair_members, COUNT(pair_members), err);
    if (rc == 0) {
        rc = audit_str(pair, type_path, AUDIT_STR_MAX, required, type, err);
    }
    if (rc == 0) {
        rc = audit_str(pair, id_path, AUDIT_STR_MAX, required, id, err);
    }
    return rc;
}

static int audit_outcome(json_t *obj, struct tl__audit_rec *rec,
                         struct tl__native_err *err)
{
    int rc = audit_str(obj, "outcome", 16, false, &rec->outcome, err);

    if (rc < 0) {
        return rc;
    }
    if (rec->outcome == NULL) {
        rec->outcome = strdup("success");
        return rec->outcome ? 0 : fail(err, "internal", "out of memory");
    }
    if (!name_in(rec->outcome, outcomes, COUNT(outcomes))) {
        return fail(err, "invalid_member",
                    "\"outcome\" must be \"success\", "
                    "\"failure\" or \"denied\"");
    }
    return 0;
}

static int audit_details(json_t *obj, struct tl__audit_rec *rec,
                         struct tl__native_err *err)
{
    json_t *v = json_object_get(obj, "details");

    if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
        return fail(err, "invalid_member", "\"details\" must be an object");
    }
    if (v == NULL || json_is_null(v)) {
        rec->details = strdup("{}");
    } else {
        rec->details = json_dumps(v, JSON_COMPACT);
    }
    return rec->details ? 0 : fail(err, "internal", "out of memory");
}

static int audit_fill(json_t *obj, struct tl__audit_rec *rec,
                      struct tl__native_err *err)
{
    const char *tenant;
    int rc;

    rc = members_check(obj, "an audit frame", audit_members,
                       COUNT(audit_members), err);
    if (rc == 0) {
        rc = ts_get(obj, &rec->ts_ns, err);
    }
    if (rc == 0) {
        rc = tenant_get(obj, true, false, &tenant, err);
    }
    if (rc == 0) {
        rec->tenant = strdup(tenant);
        rc = rec->tenant ? 0 : fail(err, "internal", "out of memory");
    }
    if (rc == 0) {
        rc = audit_pair(obj, "actor", true, &rec->actor_type, &rec->actor_id,
                        err);
    }
    if (rc == 0) {
        rc = audit_str(obj, "action", AUDIT_STR_MAX, true, &rec->action, err);
    }
    if (rc == 0) {
        rc = audit_pair(obj, "target", false, &rec->target_type,
                        &rec->target_id, err);
    }
    return rc;
}

static int audit_rest(json_t *obj, struct tl__audit_rec *rec,
                      struct tl__native_err *err)
{
    int rc = audit_outcome(obj, rec, err);

    if (rc == 0) {
        rc = audit_str(obj, "reason", REASON_MAX, false, &rec->reason, err);
    }
    if (rc == 0) {
        rc = audit_str(obj, "request_id", TL__ID_MAX, false, &rec->request_id,
                       err);
    }
    if (rc == 0) {
        rc = audit_str(obj, "source", AUDIT_STR_MAX, false, &rec->source, err);
    }
    if (rc == 0) {
        rc = audit_details(obj, rec, err);
    }
    return rc;
}

int tl__native_audit_decode(json_t *obj, const struct tl__cred *cred,
                            struct tl__audit_rec **out,
                            struct tl__native_err *err)
{
    struct tl__audit_rec *rec = calloc(1, sizeof(*rec));
    int rc;

    if (rec == NULL) {
        return fail(err, "internal", "out of memory");
    }
    rec->cred = *cred;
    rc = audit_fill(obj, rec, err);
    if (rc == 0) {
        rc = audit_rest(obj, rec, err);
    }
    /* The store's own checks, so that no event fails inside a batch. */
    if (rc == 0 &&
        tl__audit_rec_check(rec, err->message, sizeof(err->message)) < 0) {
        err->code = "invalid_member";
        rc = TL_EINVAL;
    }
    if (rc < 0) {
        tl__audit_rec_free(rec);
        return rc;
    }
    if (rec->ts_ns == 0) {
        rec->ts_ns = tl__now_ns();
    }
    *out = rec;
    return 0;
}
