/* Builds a record in one allocation: header, field array, then strings. */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/text.h"

static const char *const reserved_keys[] = {
    "ts",     "level",      "logger",   "msg",
    "tenant", "request_id", "trace_id", "span_id",
};

bool tl__key_reserved(const char *key)
{
    size_t i;

    if (key[0] == '_') {
        return true;
    }
    for (i = 0; i < sizeof(reserved_keys) / sizeof(reserved_keys[0]); i++) {
        if (strcmp(key, reserved_keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

static size_t opt_len(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static size_t field_str_len(const struct tl__record_src *src, size_t i)
{
    const struct tl_field *f = &src->fields[i];

    if (f->v.s == NULL) {
        return 0;
    }
    return src->field_lens ? src->field_lens[i] : strlen(f->v.s);
}

/* Copies n bytes of s to *cursor, NUL-terminates, advances the cursor. */
static const char *put(char **cursor, const char *s, size_t n)
{
    char *dst = *cursor;

    if (s == NULL) {
        return NULL;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
    *cursor += n + 1;
    return dst;
}

static bool fields_valid(const struct tl__record_src *src)
{
    size_t i;

    for (i = 0; i < src->n_fields; i++) {
        enum tl_field_type t = src->fields[i].type;

        if (t < TL_FIELD_STR || t > TL_FIELD_BOOL) {
            return false;
        }
    }
    return true;
}

static size_t record_size(const struct tl__record_src *src, size_t msg_len)
{
    size_t total = sizeof(struct tl__record), i;

    total += src->n_fields * sizeof(struct tl__field);
    total += (src->msg ? msg_len + 1 : 0) + opt_len(src->logger);
    total += opt_len(src->tenant) + opt_len(src->request_id);
    total += opt_len(src->trace_id) + opt_len(src->span_id);
    for (i = 0; i < src->n_fields; i++) {
        const char *key = src->fields[i].key ? src->fields[i].key : "";

        total += strlen(key) + 1;
        if (src->fields[i].type == TL_FIELD_STR) {
            total += field_str_len(src, i) + 1;
        }
    }
    return total;
}

static void copy_fields(struct tl__record *r, const struct tl__record_src *src,
                        char **cursor)
{
    size_t i;

    for (i = 0; i < src->n_fields; i++) {
        const struct tl_field *f = &src->fields[i];
        struct tl__field *d = &r->fields[i];
        const char *key = f->key ? f->key : "";

        d->key = put(cursor, key, strlen(key));
        d->type = f->type;
        d->len = 0;
        switch (f->type) {
        case TL_FIELD_STR:
            d->len = field_str_len(src, i);
            d->v.s = put(cursor, f->v.s ? f->v.s : "", d->len);
            break;
        case TL_FIELD_I64:
            d->v.i = f->v.i;
            break;
        case TL_FIELD_U64:
            d->v.u = f->v.u;
            break;
        case TL_FIELD_F64:
            d->v.d = f->v.d;
            break;
        case TL_FIELD_BOOL:
            d->v.b = f->v.b;
            break;
        }
    }
}

static void copy_context(struct tl__record *r, const struct tl__record_src *s,
                         char **cursor)
{
    const char *tenant =
        put(cursor, s->tenant, s->tenant ? strlen(s->tenant) : 0);

    if (tenant && tl__tenant_valid(tenant, strlen(tenant))) {
        r->tenant = tenant;
    } else {
        r->tenant_invalid = tenant;
    }
    r->request_id =
        put(cursor, s->request_id, s->request_id ? strlen(s->request_id) : 0);
    r->trace_id =
        put(cursor, s->trace_id, s->trace_id ? strlen(s->trace_id) : 0);
    r->span_id = put(cursor, s->span_id, s->span_id ? strlen(s->span_id) : 0);
}

int tl__record_new(const struct tl__record_src *src, struct tl__record **out)
{
    size_t msg_len = 0, total;
    struct tl__record *r;
    char *cursor;

    if (src->msg) {
        msg_len = src->msg_len == (size_t)-1 ? strlen(src->msg) : src->msg_len;
    }
    if (!fields_valid(src)) {
        return TL_EINVAL;
    }
    total = record_size(src, msg_len);
    if (total > TL__RECORD_MAX) {
        return TL_ETOOBIG;
    }
    r = calloc(1, total);
    if (r == NULL) {
        return -ENOMEM;
    }
    r->ts_ns = src->ts_ns ? src->ts_ns : tl__now_ns();
    r->level = src->level;
    r->transport = src->transport;
    r->cred = src->cred;
    r->n_fields = src->n_fields;
    r->fields = (struct tl__field *)(r + 1);
    cursor = (char *)(r->fields + src->n_fields);
    r->msg = put(&cursor, src->msg, msg_len);
    r->msg_len = msg_len;
    r->logger =
        put(&cursor, src->logger, src->logger ? strlen(src->logger) : 0);
    copy_context(r, src, &cursor);
    copy_fields(r, src, &cursor);
    *out = r;
    return 0;
}
