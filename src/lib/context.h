/* Internal access to the calling thread's context. */
#ifndef TL_LIB_CONTEXT_H
#define TL_LIB_CONTEXT_H

#include "tenantlog/tenantlog.h"

/* Fills out with the innermost value of each member, or NULL. The
 * strings stay valid until the next push or pop on this thread. */
void tl__context_current(struct tl_context *out);

#endif
