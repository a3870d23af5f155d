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

int tl__spool_push(struct tl__spool *sp, const char *key, const char *data,
                   size_t len)
{
    struct tl__spooled *e;

    if (len > sp->limit || sp->bytes > sp->limit - len ||
        strlen(key) >= sizeof(e->key)) {
        return -ENOBUFS;
    }
    e = malloc(sizeof(*e) + len);
    if (e == NULL) {
        return -ENOMEM;
    }
    e->next = NULL;
    e->len = len;
    strcpy(e->key, key);
    memcpy(e->data, data, len);
    if (sp->tail != NULL) {
        sp->tail->next = e;
    } else {
        sp->head = e;
    }
    sp->tail = e;
    sp->bytes += len;
    sp->count++;
    return 0;
}

struct tl__spooled *tl__spool_first(struct tl__spool *sp, const char *key)
{
    struct tl__spooled *e;

    for (e = sp->head; e != NULL; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            return e;
        }
    }
    return NULL;
}

void tl__spool_remove(struct tl__spool *sp, struct tl__spooled *e)
{
    struct tl__spooled *prev = NULL, *it;

    for (it = sp->head; it != NULL && it != e; it = it->next) {
        prev = it;
    }
    if (it == NULL) {
        return;
    }
    if (prev != NULL) {
        prev->next = e->next;
    } else {
        sp->head = e->next;
    }
    if (sp->tail == e) {
        sp->tail = prev;
    }
    sp->bytes -= e->len;
    sp->count--;
    free(e);
}

void tl__spool_free(struct tl__spool *sp)
{
    struct tl__spooled *e = sp->head, *next;

    for (; e != NULL; e = next) {
        next = e->next;
        free(e);
    }
    memset(sp, 0, sizeof(*sp));
}
