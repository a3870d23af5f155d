/* Per-thread context frames. Each frame copies its strings into
 * thread-local storage, so a record captures them at the call and never
 * depends on the caller's buffers. */
#include <string.h>

#include "../common/text.h"
#include "context.h"

#define DEPTH_MAX 16

struct frame {
    char tenant[TL__TENANT_MAX + 1];
    char request_id[TL__ID_MAX + 1];
    char trace_id[TL__ID_MAX + 1];
    char span_id[TL__ID_MAX + 1];
    /* Bit i is set when member i has a value; unset members inherit
     * the value of the frame below. */
    unsigned set;
};

static _Thread_local struct frame frames[DEPTH_MAX];
static _Thread_local int depth;

static int copy_id(char *dst, size_t cap, const char *src)
{
    size_t len = strnlen(src, cap);

    if (len == cap) {
        return TL_ETOOBIG;
    }
    memcpy(dst, src, len + 1);
    return 0;
}

static int fill_frame(struct frame *f, const struct tl_context *ctx)
{
    const char *values[4] = {ctx->tenant, ctx->request_id, ctx->trace_id,
                             ctx->span_id};
    char *dst[4] = {f->tenant, f->request_id, f->trace_id, f->span_id};
    size_t caps[4] = {sizeof(f->tenant), sizeof(f->request_id),
                      sizeof(f->trace_id), sizeof(f->span_id)};
    int i, result;

    if (ctx->tenant && !tl_tenant_valid(ctx->tenant)) {
        return TL_ETENANT;
    }
    f->set = 0;
    for (i = 0; i < 4; i++) {
        if (values[i] == NULL) {
            continue;
        }
        result = copy_id(dst[i], caps[i], values[i]);
        if (result != 0) {
            return result;
        }
        f->set |= 1u << i;
    }
    return 0;
}

int tl_context_push(const struct tl_context *ctx)
{
    int result;

    if (ctx == NULL) {
        return TL_EINVAL;
    }
    if (depth == DEPTH_MAX) {
        return TL_EDEPTH;
    }
    result = fill_frame(&frames[depth], ctx);
    if (result == 0) {
        depth++;
    }
    return result;
}

int tl_context_pop(void)
{
    if (depth == 0) {
        return TL_EINVAL;
    }
    depth--;
    return 0;
}

int tl_context_depth(void)
{
    return depth;
}

/* Returns member i of the innermost frame that sets it, or NULL. */
static const char *lookup(int i)
{
    int d;

    for (d = depth - 1; d >= 0; d--) {
        if (frames[d].set & (1u << i)) {
            const struct frame *f = &frames[d];
            const char *members[4] = {f->tenant, f->request_id, f->trace_id,
                                      f->span_id};

            return members[i];
        }
    }
    return NULL;
}

const char *tl_context_tenant(void)
{
    return lookup(0);
}

void tl__context_current(struct tl_context *out)
{
    out->tenant = lookup(0);
    out->request_id = lookup(1);
    out->trace_id = lookup(2);
    out->span_id = lookup(3);
}
