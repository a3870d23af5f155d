/* Fuzzes the record formatters on records that tl__record_new builds from
 * fuzzed strings and typed fields. JSON: every output is one line that
 * jansson parses as an object without duplicate members. It has one
 * member per field, under "fields.<key>" when the key is reserved and
 * with a "#N" suffix when the name is taken, and the sender's credentials
 * unforged. Text: one line, valid UTF-8, no control characters. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/text.h"
#include "fuzz_util.h"
#include "lib/format.h"
#include "lib/record.h"

#define FIELDS_MAX 40 /* above 32, tl__format_json allocates its key table */

static const char *const transport_names[] = {"library", "native", "syslog",
                                              "daemon"};

/* The fuzzed parts of a record. The strings are owned. */
struct input {
    struct tl__record_src src;
    char *strings[5]; /* logger, tenant, request_id, trace_id, span_id */
    struct tl_field fields[FIELDS_MAX];
    size_t lens[FIELDS_MAX];
    char *keys[FIELDS_MAX];
};

/* Returns a fuzzed string, or NULL when bit of mask is clear. */
static char *optional(struct fuzz_in *in, unsigned mask, unsigned bit,
                      size_t max)
{
    return (mask & 1u << bit) ? fuzz_cstr(in, max) : NULL;
}

static void field_take(struct fuzz_in *in, struct input *x, size_t i)
{
    struct tl_field *f = &x->fields[i];
    uint8_t type = fuzz_u8(in);
    uint64_t bits;
    size_t len;

    x->keys[i] = (type & 0x80) ? NULL : fuzz_cstr(in, 40);
    f->key = x->keys[i];
    /* 0 and 6 are not field types, so tl__record_new must reject them. */
    f->type = (enum tl_field_type)(type % 7);
    switch (f->type) {
    case TL_FIELD_STR:
        f->v.s = (const char *)fuzz_bytes(in, 64, &len);
        x->lens[i] = len;
        break;
    case TL_FIELD_F64:
        bits = fuzz_u64(in);
        memcpy(&f->v.d, &bits, sizeof(f->v.d));
        break;
    case TL_FIELD_BOOL:
        f->v.b = fuzz_u8(in) & 1;
        break;
    default:
        /* I64, U64, and the invalid types 0 and 6, which must be
         * rejected without reading the union. */
        f->v.u = fuzz_u64(in);
        break;
    }
}

static void input_take(struct fuzz_in *in, struct input *x)
{
    struct tl__record_src *src = &x->src;
    unsigned mask = fuzz_u8(in);
    size_t i, msg_len;

    memset(x, 0, sizeof(*x));
    src->ts_ns = (int64_t)fuzz_u64(in);
    src->level = (enum tl_level)(fuzz_u8(in) % 8);
    src->transport = (enum tl__transport)(fuzz_u8(in) % 4);
    src->cred.set = mask & 1;
    src->cred.pid = (pid_t)fuzz_u64(in);
    src->cred.uid = (uid_t)fuzz_u64(in);
    src->cred.gid = (gid_t)fuzz_u64(in);
    for (i = 0; i < 5; i++) {
        x->strings[i] = optional(in, mask, 1 + (unsigned)i, 80);
    }
    src->logger = x->strings[0];
    src->tenant = x->strings[1];
    src->request_id = x->strings[2];
    src->trace_id = x->strings[3];
    src->span_id = x->strings[4];
    if (mask & 0x40) {
        src->msg = (const char *)fuzz_bytes(in, 255, &msg_len);
        src->msg_len = msg_len;
    }
    src->n_fields = fuzz_u8(in) % (FIELDS_MAX + 1);
    for (i = 0; i < src->n_fields; i++) {
        field_take(in, x, i);
    }
    src->fields = x->fields;
    src->field_lens = x->lens;
}

static void input_free(struct input *x)
{
    size_t i;

    for (i = 0; i < 5; i++) {
        free(x->strings[i]);
    }
    for (i = 0; i < FIELDS_MAX; i++) {
        free(x->keys[i]);
    }
}

/* True when every field has one of the five types, the only ones that
 * tl__record_new accepts. */
static bool types_valid(const struct tl__record_src *src)
{
    size_t i;

    for (i = 0; i < src->n_fields; i++) {
        if (src->fields[i].type < TL_FIELD_STR ||
            src->fields[i].type > TL_FIELD_BOOL) {
            return false;
        }
    }
    return true;
}

/* Returns the number of members the JSON line must have: the header
 * keys present in r, the trusted keys, and one per field. */
static size_t members_expected(const struct tl__record *r)
{
    size_t n = 1 + r->n_fields; /* "ts" and the fields */

    n += tl_level_name(r->level) != NULL;
    n += (r->logger != NULL) + (r->msg != NULL) + (r->tenant != NULL);
    n += (r->request_id != NULL) + (r->trace_id != NULL);
    n += (r->span_id != NULL) + (r->tenant_invalid != NULL);
    n += r->transport != TL__TRANSPORT_LIBRARY;
    n += r->cred.set ? 3 : 0; /* _pid, _uid, _gid */
    return n;
}

/* Checks that member key is the integer v. */
static void member_uint_check(json_t *obj, const char *key, uint64_t v,
                              const char *text, size_t len)
{
    json_t *m = json_object_get(obj, key);

    if (!json_is_number(m) || json_number_value(m) != (double)v) {
        fuzz_fail(text, len, "%s is not %llu", key, (unsigned long long)v);
    }
}

static void trusted_check(const struct tl__record *r, json_t *obj,
                          const char *text, size_t len)
{
    const char *t = json_string_value(json_object_get(obj, "_transport"));
    const char *want = r->transport == TL__TRANSPORT_LIBRARY
                           ? NULL
                           : transport_names[r->transport];

    if ((t == NULL) != (want == NULL) || (t && strcmp(t, want) != 0)) {
        fuzz_fail(text, len, "_transport does not match the record");
    }
    if (!r->cred.set) {
        if (json_object_get(obj, "_pid") || json_object_get(obj, "_uid") ||
            json_object_get(obj, "_gid")) {
            fuzz_fail(text, len, "credentials without a sender");
        }
        return;
    }
    /* pid_t is signed, so the check compares through double, which is
     * exact for 32-bit values. */
    if (json_number_value(json_object_get(obj, "_pid")) !=
        (double)r->cred.pid) {
        fuzz_fail(text, len, "_pid is not %ld", (long)r->cred.pid);
    }
    member_uint_check(obj, "_uid", r->cred.uid, text, len);
    member_uint_check(obj, "_gid", r->cred.gid, text, len);
}

/* True when jansson accepts s as UTF-8. */
static bool utf8_valid(const char *s)
{
    json_t *v = json_stringn(s, strlen(s));

    json_decref(v);
    return v != NULL;
}

/* Every field's name without a "#N" suffix is present: the field itself
 * or an earlier one took it. */
static void fields_check(const struct tl__record *r, json_t *obj,
                         const char *text, size_t len)
{
    struct tl__buf name;
    size_t i;

    tl__buf_init(&name);
    for (i = 0; i < r->n_fields; i++) {
        const char *key = r->fields[i].key;

        tl__buf_reset(&name);
        if (tl__key_reserved(key)) {
            tl__buf_adds(&name, "fields.");
        }
        tl__buf_adds(&name, key);
        /* A key that is not valid UTF-8 is written with U+FFFD. */
        if (!utf8_valid(key)) {
            continue;
        }
        if (json_object_get(obj, tl__buf_cstr(&name)) == NULL) {
            fuzz_fail(text, len, "field \"%s\" is missing",
                      tl__buf_cstr(&name));
        }
    }
    tl__buf_free(&name);
}

static void json_check(const struct tl__record *r)
{
    struct tl__buf b;
    json_t *obj;

    tl__buf_init(&b);
    tl__format_json(&b, r);
    if (b.oom) {
        abort();
    }
    obj = fuzz_json_line(b.data, b.len, true);
    if (json_object_size(obj) != members_expected(r)) {
        fuzz_fail(b.data, b.len, "%zu members, expected %zu",
                  json_object_size(obj), members_expected(r));
    }
    trusted_check(r, obj, b.data, b.len);
    fields_check(r, obj, b.data, b.len);
    if ((json_object_get(obj, "tenant") != NULL) != (r->tenant != NULL)) {
        fuzz_fail(b.data, b.len, "tenant present without a valid tenant");
    }
    json_decref(obj);
    tl__buf_free(&b);
}

/* Checks one text line: LF at the end only, valid UTF-8, and no C0, DEL
 * or C1 control except the colour sequences when colour is on. */
static void text_check(const struct tl__record *r, bool colour)
{
    struct tl__buf b;
    size_t i = 0, n;
    uint32_t cp;

    tl__buf_init(&b);
    tl__format_text(&b, r, colour);
    if (b.oom || b.len == 0 || b.data[b.len - 1] != '\n') {
        fuzz_fail(b.data, b.len, "the text line does not end with LF");
    }
    while (i + 1 < b.len) {
        n = tl__utf8_decode((const unsigned char *)b.data + i, b.len - 1 - i,
                            &cp);
        if (n == 0) {
            fuzz_fail(b.data, b.len, "invalid UTF-8 at offset %zu", i);
        }
        if ((cp < 0x20 && !(colour && cp == 0x1b)) ||
            (cp >= 0x7f && cp < 0xa0)) {
            fuzz_fail(b.data, b.len, "control U+%04X at offset %zu",
                      (unsigned)cp, i);
        }
        i += n;
    }
    tl__buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct tl__record *r;
    struct input x;
    int rc;

    input_take(&in, &x);
    rc = tl__record_new(&x.src, &r);
    if (rc != (types_valid(&x.src) ? 0 : TL_EINVAL)) {
        fuzz_fail(NULL, 0, "tl__record_new returned %d", rc);
    }
    if (rc != 0) {
        input_free(&x);
        return 0;
    }
    json_check(r);
    text_check(r, false);
    text_check(r, true);
    free(r);
    input_free(&x);
    return 0;
}
