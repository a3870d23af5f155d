/* Record and audit frames of tenantlogd's native protocol, as JSON
 * objects. */
#include "output_frame.h"

#include <string.h>

#include "common/text.h"

/* Returns a JSON string of s[0..len). Because jansson accepts only valid
 * UTF-8, each byte outside it is replaced by U+FFFD first. */
static json_t *text_value(const char *s, size_t len, struct tl__buf *scratch)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;
    uint32_t cp;

    tl__buf_reset(scratch);
    while (i < len) {
        n = tl__utf8_decode(p + i, len - i, &cp);
        if (n == 0) {
            tl__buf_add(scratch, "\xef\xbf\xbd", 3);
            i++;
        } else {
            tl__buf_add(scratch, p + i, n);
            i += n;
        }
    }
    if (scratch->oom) {
        return NULL;
    }
    return json_stringn(scratch->len ? scratch->data : "", scratch->len);
}

/* Sets obj[key] to s when s is not NULL. Returns 0 or -1. */
static int set_text(json_t *obj, const char *key, const char *s,
                    struct tl__buf *scratch)
{
    if (s == NULL) {
        return 0;
    }
    return json_object_set_new(obj, key, text_value(s, strlen(s), scratch));
}

static json_t *field_value(const struct tl_field *f, struct tl__buf *scratch)
{
    switch (f->type) {
    case TL_FIELD_STR:
        return f->v.s ? text_value(f->v.s, strlen(f->v.s), scratch)
                      : json_null();
    case TL_FIELD_I64:
        return json_integer((json_int_t)f->v.i);
    case TL_FIELD_U64:
        /* NOTE: jansson integers are signed 64-bit, so values above
         * INT64_MAX are sent as doubles and lose precision. */
        if (f->v.u > (uint64_t)INT64_MAX) {
            return json_real((double)f->v.u);
        }
        return json_integer((json_int_t)f->v.u);
    case TL_FIELD_F64:
        return json_real(f->v.d);
    case TL_FIELD_BOOL:
        return json_boolean(f->v.b);
    }
    return json_null();
}

/* Returns an object of the fields, in order, or NULL. */
static json_t *fields_object(const struct tl_field *fields, size_t n,
                             struct tl__buf *scratch)
{
    json_t *obj = json_object();
    size_t i;

    for (i = 0; obj != NULL && i < n; i++) {
        if (json_object_set_new(obj, fields[i].key,
                                field_value(&fields[i], scratch)) < 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

/* Sets obj[key] to {"type": type, "id": id} when type is not NULL. */
static int set_pair(json_t *obj, const char *key, const char *type,
                    const char *id, struct tl__buf *scratch)
{
    json_t *pair;

    if (type == NULL) {
        return 0;
    }
    pair = json_object();
    if (pair == NULL || set_text(pair, "type", type, scratch) != 0 ||
        set_text(pair, "id", id, scratch) != 0) {
        json_decref(pair);
        return -1;
    }
    return json_object_set_new(obj, key, pair);
}

static int set_time(json_t *obj, int64_t ts_ns, struct tl__buf *scratch)
{
    if (ts_ns == 0) {
        return 0;
    }
    tl__buf_reset(scratch);
    tl__time_rfc3339(scratch, ts_ns);
    if (scratch->oom) {
        return -1;
    }
    return json_object_set_new(obj, "ts", json_string(tl__buf_cstr(scratch)));
}

json_t *tl__cli_frame_record(const struct tl__cli_rec *r,
                             struct tl__buf *scratch)
{
    json_t *obj = json_object();
    json_t *fields;
    int failed;

    if (obj == NULL) {
        return NULL;
    }
    failed = json_object_set_new(obj, "type", json_string("record"));
    failed |= set_time(obj, r->ts_ns, scratch);
    failed |=
        json_object_set_new(obj, "level", json_string(tl_level_name(r->level)));
    failed |= set_text(obj, "logger", r->logger, scratch);
    if (r->msg != NULL) {
        failed |= json_object_set_new(obj, "msg",
                                      text_value(r->msg, r->msg_len, scratch));
    }
    failed |= set_text(obj, "request_id", r->request_id, scratch);
    fields = fields_object(r->fields, r->n_fields, scratch);
    /* The daemon quarantines a record whose tenant id is invalid. */
    failed |= set_text(obj, "tenant", r->tenant, scratch);
    if (fields != NULL && json_object_size(fields) > 0) {
        failed |= json_object_set(obj, "fields", fields);
    }
    failed |= fields == NULL;
    json_decref(fields);
    if (failed) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static const char *outcome_name(enum tl_outcome outcome)
{
    switch (outcome) {
    case TL_OUTCOME_SUCCESS:
        return "success";
    case TL_OUTCOME_FAILURE:
        return "failure";
    case TL_OUTCOME_DENIED:
        return "denied";
    }
    return NULL;
}

json_t *tl__cli_frame_audit(const struct tl_audit_event *ev, int64_t ts_ns,
                            struct tl__buf *scratch)
{
    json_t *obj = json_object();
    int failed;

    if (obj == NULL) {
        return NULL;
    }
    failed = json_object_set_new(obj, "type", json_string("audit"));
    failed |= set_time(obj, ts_ns, scratch);
    failed |= set_text(obj, "tenant", ev->tenant, scratch);
    failed |= set_pair(obj, "actor", ev->actor_type, ev->actor_id, scratch);
    failed |= set_text(obj, "action", ev->action, scratch);
    failed |= set_pair(obj, "target", ev->target_type, ev->target_id, scratch);
    failed |= set_text(obj, "outcome", outcome_name(ev->outcome), scratch);
    failed |= set_text(obj, "reason", ev->reason, scratch);
    failed |= set_text(obj, "request_id", ev->request_id, scratch);
    failed |= set_text(obj, "source", ev->source, scratch);
    failed |= json_object_set_new(
        obj, "details", fields_object(ev->details, ev->n_details, scratch));
    if (failed) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}
