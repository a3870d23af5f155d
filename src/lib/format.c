/* JSON lines and console text formatters. */
#include "format.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/text.h"

static const char *const transport_names[] = {"library", "native", "syslog",
                                              "daemon"};

static void json_key(struct tl__buf *b, const char *key)
{
    tl__buf_add(b, ",\"", 2);
    tl__json_escape(b, key, strlen(key));
    tl__buf_add(b, "\":", 2);
}

static void json_opt(struct tl__buf *b, const char *key, const char *value)
{
    if (value != NULL) {
        json_key(b, key);
        tl__json_str(b, value);
    }
}

static void json_field_value(struct tl__buf *b, const struct tl__field *f)
{
    switch (f->type) {
    case TL_FIELD_STR:
        tl__buf_addc(b, '"');
        tl__json_escape(b, f->v.s, f->len);
        tl__buf_addc(b, '"');
        break;
    case TL_FIELD_I64:
        tl__buf_printf(b, "%" PRId64, f->v.i);
        break;
    case TL_FIELD_U64:
        tl__buf_printf(b, "%" PRIu64, f->v.u);
        break;
    case TL_FIELD_F64:
        tl__json_double(b, f->v.d);
        break;
    case TL_FIELD_BOOL:
        tl__buf_adds(b, f->v.b ? "true" : "false");
        break;
    }
}

static void json_trusted(struct tl__buf *b, const struct tl__record *r)
{
    if (r->transport != TL__TRANSPORT_LIBRARY) {
        json_opt(b, "_transport", transport_names[r->transport]);
    }
    if (r->cred.set) {
        json_key(b, "_pid");
        tl__buf_printf(b, "%ld", (long)r->cred.pid);
        json_key(b, "_uid");
        tl__buf_printf(b, "%lu", (unsigned long)r->cred.uid);
        json_key(b, "_gid");
        tl__buf_printf(b, "%lu", (unsigned long)r->cred.gid);
    }
    json_opt(b, "_tenant_invalid", r->tenant_invalid);
}

/* Offsets and lengths of the field keys written so far, to find
 * duplicates. */
struct key_spans {
    size_t *start;
    size_t *len;
    size_t n;
};

static bool key_written(const struct tl__buf *b, const struct key_spans *k,
                        size_t start, size_t len)
{
    size_t i;

    for (i = 0; i < k->n; i++) {
        if (k->len[i] == len &&
            memcmp(b->data + k->start[i], b->data + start, len) == 0) {
            return true;
        }
    }
    return false;
}

/* Appends ,"KEY": for field number index. A reserved key gets the prefix
 * "fields.". A key already written (two fields of one name, or two
 * invalid UTF-8 keys that escape alike) gets the suffix "#<index + 1>",
 * repeated while it still collides. Suffixes differ per field, so each
 * field costs a few scans and a record O(n^2) compares at worst. */
static void field_key(struct tl__buf *b, const struct tl__field *f,
                      size_t index, struct key_spans *k)
{
    size_t start, len;

    tl__buf_add(b, ",\"", 2);
    start = b->len;
    if (tl__key_reserved(f->key)) {
        tl__buf_add(b, "fields.", 7);
    }
    tl__json_escape(b, f->key, strlen(f->key));
    len = b->len - start;
    while (!b->oom && key_written(b, k, start, len)) {
        tl__buf_printf(b, "#%zu", index + 1);
        len = b->len - start;
    }
    if (k->start != NULL) {
        k->start[k->n] = start;
        k->len[k->n++] = len;
    }
    tl__buf_add(b, "\":", 2);
}

static void json_fields(struct tl__buf *b, const struct tl__record *r)
{
    size_t start_stack[32], len_stack[32], i;
    struct key_spans k = {start_stack, len_stack, 0};

    if (r->n_fields > 32) {
        k.start = malloc(r->n_fields * sizeof(*k.start));
        k.len = malloc(r->n_fields * sizeof(*k.len));
        if (k.start == NULL || k.len == NULL) {
            b->oom = 1;
        }
    }
    for (i = 0; i < r->n_fields && !b->oom; i++) {
        field_key(b, &r->fields[i], i, &k);
        json_field_value(b, &r->fields[i]);
    }
    if (k.start != start_stack) {
        free(k.start);
        free(k.len);
    }
}

void tl__format_json(struct tl__buf *b, const struct tl__record *r)
{
    tl__buf_add(b, "{\"ts\":\"", 7);
    tl__time_rfc3339(b, r->ts_ns);
    tl__buf_addc(b, '"');
    json_opt(b, "level", tl_level_name(r->level));
    json_opt(b, "logger", r->logger);
    if (r->msg != NULL) {
        json_key(b, "msg");
        tl__buf_addc(b, '"');
        tl__json_escape(b, r->msg, r->msg_len);
        tl__buf_addc(b, '"');
    }
    json_opt(b, "tenant", r->tenant);
    json_opt(b, "request_id", r->request_id);
    json_opt(b, "trace_id", r->trace_id);
    json_opt(b, "span_id", r->span_id);
    json_trusted(b, r);
    json_fields(b, r);
    tl__buf_add(b, "}\n", 2);
}

static const char *level_colour(enum tl_level level)
{
    if (level <= TL_ERROR) {
        return "\033[31m";
    }
    if (level == TL_WARNING) {
        return "\033[33m";
    }
    return level == TL_DEBUG ? "\033[2m" : "";
}

static void text_field(struct tl__buf *b, const struct tl__field *f)
{
    tl__buf_addc(b, ' ');
    tl__text_escape(b, f->key, strlen(f->key));
    tl__buf_addc(b, '=');
    switch (f->type) {
    case TL_FIELD_STR:
        tl__text_escape(b, f->v.s, f->len);
        break;
    case TL_FIELD_I64:
        tl__buf_printf(b, "%" PRId64, f->v.i);
        break;
    case TL_FIELD_U64:
        tl__buf_printf(b, "%" PRIu64, f->v.u);
        break;
    case TL_FIELD_F64:
        tl__buf_printf(b, "%.17g", f->v.d);
        break;
    case TL_FIELD_BOOL:
        tl__buf_adds(b, f->v.b ? "true" : "false");
        break;
    }
}

void tl__format_text(struct tl__buf *b, const struct tl__record *r, bool colour)
{
    const char *tenant = r->tenant ? r->tenant : r->tenant_invalid;
    size_t i;

    tl__time_rfc3339(b, r->ts_ns);
    tl__buf_addc(b, ' ');
    if (colour) {
        tl__buf_adds(b, level_colour(r->level));
    }
    tl__buf_printf(b, "%-7s", tl_level_name(r->level));
    if (colour) {
        tl__buf_adds(b, "\033[0m");
    }
    if (tenant || r->request_id) {
        tl__buf_adds(b, " [");
        tl__text_escape(b, tenant ? tenant : "-",
                        strlen(tenant ? tenant : "-"));
        if (r->request_id) {
            tl__buf_addc(b, ' ');
            tl__text_escape(b, r->request_id, strlen(r->request_id));
        }
        tl__buf_addc(b, ']');
    }
    if (r->logger) {
        tl__buf_addc(b, ' ');
        tl__text_escape(b, r->logger, strlen(r->logger));
        tl__buf_addc(b, ':');
    }
    if (r->msg) {
        tl__buf_addc(b, ' ');
        tl__text_escape(b, r->msg, r->msg_len);
    }
    for (i = 0; i < r->n_fields; i++) {
        text_field(b, &r->fields[i]);
    }
    tl__buf_addc(b, '\n');
}
