/* A bounded in-memory spool of formatted records, in arrival order, each
 * tagged with the key (tenant) of the file it belongs to. A file sink
 * keeps records here while its file fails and writes them when it
 * recovers. Only the sink's owner thread touches it. */
#ifndef TL_LIB_SPOOL_H
#define TL_LIB_SPOOL_H

#include <stdbool.h>
#include <stddef.h>

struct tl__spooled {
    struct tl__spooled *next;
    size_t len;
    char key[72];
    char data[]; /* len bytes, no terminator */
};

struct tl__spool {
    struct tl__spooled *head, *tail;
    size_t bytes, limit, count;
};

void tl__spool_init(struct tl__spool *sp, size_t limit);

/* Appends a copy of data for key. Returns 0, or -ENOBUFS when it would
 * pass the limit, or -ENOMEM. */
int tl__spool_push(struct tl__spool *sp, const char *key, const char *data,
                   size_t len);

/* Returns the oldest record of key, or NULL. */
struct tl__spooled *tl__spool_first(struct tl__spool *sp, const char *key);

/* Removes and frees e, which is in sp. */
void tl__spool_remove(struct tl__spool *sp, struct tl__spooled *e);

void tl__spool_free(struct tl__spool *sp);

#endif
