/* Audit events: the owned record built from the public event, the checks
 * every stored event passes, and canonical encoding version 1 with its
 * chain hash. docs/audit.md specifies the encoding byte for byte. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../common/text.h"
#include "audit_store.h"
#include "sink.h"

#define ERR_MAX 160

static const char *const outcome_names[] = {"success", "failure", "denied"};

/* The string members of a record, in canonical order, for the checks. */
static const struct {
    size_t offset;
    const char *name;
    bool required;
} rec_strings[] = {
    {offsetof(struct tl__audit_rec, actor_type), "actor_type", true},
    {offsetof(struct tl__audit_rec, actor_id), "actor_id", true},
    {offsetof(struct tl__audit_rec, action), "action", true},
    {offsetof(struct tl__audit_rec, target_type), "target_type", false},
    {offsetof(struct tl__audit_rec, target_id), "target_id", false},
    {offsetof(struct tl__audit_rec, outcome), "outcome", true},
    {offsetof(struct tl__audit_rec, reason), "reason", false},
    {offsetof(struct tl__audit_rec, request_id), "request_id", false},
    {offsetof(struct tl__audit_rec, source), "source", false},
};

void tl__audit_rec_free(struct tl__audit_rec *rec)
{
    if (rec == NULL) {
        return;
    }
    free(rec->tenant);
    free(rec->actor_type);
    free(rec->actor_id);
    free(rec->action);
    free(rec->target_type);
    free(rec->target_id);
    free(rec->outcome);
    free(rec->reason);
    free(rec->request_id);
    free(rec->source);
    free(rec->details);
    free(rec);
}

static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, n;
    uint32_t cp;

    while (i < len) {
        n = tl__utf8_decode(p + i, len - i, &cp);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

/* True when details is one JSON object with no raw control characters,
 * so the canonical encoding that embeds it stays one line of JSON. */
static bool details_valid(const char *details)
{
    json_error_t error;
    json_t *root;
    bool ok;
    size_t i;

    for (i = 0; details[i] != '\0'; i++) {
        if ((unsigned char)details[i] < 0x20) {
            return false;
        }
    }
    /* Integers beyond int64 (a large TL_FIELD_U64) are valid JSON, so they
     * are parsed as reals; jansson rejects invalid UTF-8 by itself. */
    root =
        json_loads(details, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &error);
    ok = json_is_object(root);
    json_decref(root);
    return ok;
}

static bool outcome_valid(const char *outcome)
{
    size_t i;

    for (i = 0; i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++) {
        if (strcmp(outcome, outcome_names[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int tenant_check(const char *tenant, char *err, size_t errlen)
{
    struct tl__buf shown;

    if (tenant == NULL) {
        snprintf(err, errlen, "missing tenant");
        return TL_ETENANT;
    }
    if (tl_tenant_valid(tenant)) {
        return 0;
    }
    tl__buf_init(&shown);
    tl__text_escape(&shown, tenant, strnlen(tenant, TL__TENANT_MAX + 1));
    snprintf(err, errlen, "invalid tenant id \"%s\"", tl__buf_cstr(&shown));
    tl__buf_free(&shown);
    return TL_ETENANT;
}

static int strings_check(const struct tl__audit_rec *rec, char *err,
                         size_t errlen)
{
    size_t i;

    for (i = 0; i < sizeof(rec_strings) / sizeof(rec_strings[0]); i++) {
        const char *s =
            *(char *const *)((const char *)rec + rec_strings[i].offset);

        if (s == NULL || s[0] == '\0') {
            if (rec_strings[i].required) {
                snprintf(err, errlen, "missing %s", rec_strings[i].name);
                return TL_EINVAL;
            }
        } else if (!utf8_valid(s)) {
            snprintf(err, errlen, "%s is not valid UTF-8", rec_strings[i].name);
            return TL_EINVAL;
        }
    }
    return 0;
}

int tl__audit_rec_check(const struct tl__audit_rec *rec, char *err,
                        size_t errlen)
{
    char scratch[ERR_MAX];
    int result;

    if (err == NULL) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    result = tenant_check(rec->tenant, err, errlen);
    if (result == 0) {
        result = strings_check(rec, err, errlen);
    }
    if (result != 0) {
        return result;
    }
    if (!outcome_valid(rec->outcome)) {
        snprintf(err, errlen, "outcome is not success, failure or denied");
        return TL_EINVAL;
    }
    if (rec->details != NULL && !details_valid(rec->details)) {
        snprintf(err, errlen, "details is not one JSON object on one line");
        return TL_EINVAL;
    }
    return 0;
}

static int details_value(struct tl__buf *b, const struct tl_field *f,
                         size_t index)
{
    switch (f->type) {
    case TL_FIELD_STR:
        if (f->v.s != NULL && !utf8_valid(f->v.s)) {
            tl__diag("audit event rejected: details field %zu (string) is "
                     "not valid UTF-8",
                     index);
            return TL_EINVAL;
        }
        tl__json_str(b, f->v.s);
        return 0;
    case TL_FIELD_I64:
        tl__buf_printf(b, "%" PRId64, f->v.i);
        return 0;
    case TL_FIELD_U64:
        tl__buf_printf(b, "%" PRIu64, f->v.u);
        return 0;
    case TL_FIELD_F64:
        tl__json_double(b, f->v.d);
        return 0;
    case TL_FIELD_BOOL:
        tl__buf_adds(b, f->v.b ? "true" : "false");
        return 0;
    }
    tl__diag("audit event rejected: details field %zu has unknown type %d",
             index, (int)f->type);
    return TL_EINVAL;
}

/* Writes the details fields as one compact JSON object, in call order. */
static int details_build(struct tl__buf *b, const struct tl_field *fields,
                         size_t n)
{
    int result;
    size_t i;

    tl__buf_addc(b, '{');
    for (i = 0; i < n; i++) {
        const char *key = fields[i].key;

        if (key == NULL || key[0] == '\0' || !utf8_valid(key)) {
            tl__diag("audit event rejected: details field %zu has a "
                     "missing or invalid UTF-8 key",
                     i);
            return TL_EINVAL;
        }
        if (i > 0) {
            tl__buf_addc(b, ',');
        }
        tl__json_str(b, key);
        tl__buf_addc(b, ':');
        result = details_value(b, &fields[i], i);
        if (result != 0) {
            return result;
        }
    }
    tl__buf_addc(b, '}');
    return b->oom ? -ENOMEM : 0;
}

static char *dup_or_null(const char *s, int *result)
{
    char *copy;

    if (s == NULL) {
        return NULL;
    }
    copy = strdup(s);
    if (copy == NULL) {
        *result = -ENOMEM;
    }
    return copy;
}

/* Copies the members of ev into rec. Returns 0, TL_EINVAL or -ENOMEM. */
static int rec_fill(struct tl__audit_rec *rec, const struct tl_audit_event *ev,
                    const char *ctx_tenant, const char *ctx_request_id)
{
    int outcome = (int)ev->outcome, result = 0;

    if (outcome < TL_OUTCOME_SUCCESS || outcome > TL_OUTCOME_DENIED) {
        tl__diag("audit event rejected: outcome %d is not "
                 "TL_OUTCOME_SUCCESS, _FAILURE or _DENIED",
                 outcome);
        return TL_EINVAL;
    }
    rec->ts_ns = tl__now_ns();
    rec->tenant = dup_or_null(ev->tenant ? ev->tenant : ctx_tenant, &result);
    rec->actor_type = dup_or_null(ev->actor_type, &result);
    rec->actor_id = dup_or_null(ev->actor_id, &result);
    rec->action = dup_or_null(ev->action, &result);
    rec->target_type = dup_or_null(ev->target_type, &result);
    rec->target_id = dup_or_null(ev->target_id, &result);
    rec->outcome = dup_or_null(outcome_names[outcome - 1], &result);
    rec->reason = dup_or_null(ev->reason, &result);
    rec->request_id =
        dup_or_null(ev->request_id ? ev->request_id : ctx_request_id, &result);
    rec->source = dup_or_null(ev->source, &result);
    return result;
}

static int rec_details(struct tl__audit_rec *rec,
                       const struct tl_audit_event *ev)
{
    struct tl__buf b;
    int result;

    if (ev->n_details > 0 && ev->details == NULL) {
        tl__diag("audit event rejected: n_details is %zu but details is "
                 "NULL",
                 ev->n_details);
        return TL_EINVAL;
    }
    tl__buf_init(&b);
    result = details_build(&b, ev->details, ev->n_details);
    if (result == 0) {
        rec->details = strdup(tl__buf_cstr(&b));
        result = rec->details ? 0 : -ENOMEM;
    }
    tl__buf_free(&b);
    return result;
}

int tl__audit_rec_from_event(const struct tl_audit_event *ev,
                             const char *ctx_tenant, const char *ctx_request_id,
                             struct tl__audit_rec **out)
{
    struct tl__audit_rec *rec;
    char err[ERR_MAX];
    int result;

    if (ev == NULL) {
        return TL_EINVAL;
    }
    rec = calloc(1, sizeof(*rec));
    if (rec == NULL) {
        return -ENOMEM;
    }
    result = rec_fill(rec, ev, ctx_tenant, ctx_request_id);
    if (result == 0) {
        result = rec_details(rec, ev);
    }
    if (result == 0) {
        result = tl__audit_rec_check(rec, err, sizeof(err));
        if (result != 0) {
            tl__diag("audit event rejected: %s", err);
        }
    }
    if (result != 0) {
        tl__audit_rec_free(rec);
        return result;
    }
    *out = rec;
    return 0;
}

/* Appends ",<key>" and value as a JSON string or null. */
static void canonical_str(struct tl__buf *b, const char *key, const char *value)
{
    tl__buf_adds(b, key);
    tl__json_str(b, value);
}

static void canonical_sender(struct tl__buf *b, const struct tl__cred *cred)
{
    tl__buf_adds(b, ",\"sender\":");
    if (!cred->set) {
        tl__buf_adds(b, "null");
        return;
    }
    tl__buf_printf(b, "{\"pid\":%ld,\"uid\":%lu,\"gid\":%lu}", (long)cred->pid,
                   (unsigned long)cred->uid, (unsigned long)cred->gid);
}

void tl__audit_canonical(struct tl__buf *b, const struct tl__audit_rec *rec,
                         uint64_t seq)
{
    canonical_str(b, "{\"v\":1,\"tenant\":", rec->tenant);
    tl__buf_printf(b, ",\"seq\":%" PRIu64 ",\"ts\":\"", seq);
    tl__time_rfc3339(b, rec->ts_ns);
    tl__buf_addc(b, '"');
    canonical_str(b, ",\"actor\":{\"type\":", rec->actor_type);
    canonical_str(b, ",\"id\":", rec->actor_id);
    canonical_str(b, "},\"action\":", rec->action);
    canonical_str(b, ",\"target\":{\"type\":", rec->target_type);
    canonical_str(b, ",\"id\":", rec->target_id);
    canonical_str(b, "},\"outcome\":", rec->outcome);
    canonical_str(b, ",\"reason\":", rec->reason);
    canonical_str(b, ",\"request_id\":", rec->request_id);
    canonical_str(b, ",\"source\":", rec->source);
    /* The store writes "{}" for a record without details, so a NULL here
     * encodes the same way as the row read back. */
    tl__buf_adds(b, ",\"details\":");
    tl__buf_adds(b, rec->details ? rec->details : "{}");
    canonical_sender(b, &rec->cred);
    tl__buf_addc(b, '}');
}

int tl__audit_hash(const uint8_t prev[TL__HASH_LEN], const char *canonical,
                   size_t len, uint8_t out[TL__HASH_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx;
    int ok;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return TL_ESTORE;
    }
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, prev, TL__HASH_LEN) == 1 &&
         EVP_DigestUpdate(ctx, canonical, len) == 1 &&
         EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len == TL__HASH_LEN;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        return TL_ESTORE;
    }
    memcpy(out, md, TL__HASH_LEN);
    return 0;
}
