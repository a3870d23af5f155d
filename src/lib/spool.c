/* The file sinks' bounded memory spool (see spool.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"

void tl__spool_init(struct tl__spool *sp, size_t limit)
{
    memset(sp, 0, sizeof(*sp));
    sp->limit = limit;
}

int tl__spool_push(struct tl__spool *sp, struct tl__spool_queue *q,
                   const char *data, size_t len)
{
    struct tl__spooled *e;

    if (len > sp->limit || sp->bytes > sp->limit - len) {
        return -ENOBUFS;
    }
    e = malloc(sizeof(*e) + len);
    if (e == NULL) {
        return -ENOMEM;
    }
    e->next = NULL;
    e->len = len;
    memcpy(e->data, data, len);
    if (q->tail != NULL) {
        q->tail->next = e;
    } else {
        q->head = e;
    }
    q->tail = e;
    q->count++;
    sp->bytes += len;
    sp->count++;
    return 0;
}

void tl__spool_pop(struct tl__spool *sp, struct tl__spool_queue *q)
{
    struct tl__spooled *e = q->head;

    q->head = e->next;
    if (q->head == NULL) {
        q->tail = NULL;
    }
    q->count--;
    sp->bytes -= e->len;
    sp->count--;
    free(e);
}

void tl__spool_clear(struct tl__spool *sp, struct tl__spool_queue *q)
{
    while (q->head != NULL) {
        tl__spool_pop(sp, q);
    }
}
