/* A bounded in-memory spool of formatted records. While a file fails, a
 * file sink keeps its records in a queue per file, in arrival order, and
 * writes them when the file recovers. One budget bounds all the queues of
 * a sink. Only the sink's owner thread touches it. */
#ifndef TL_LIB_SPOOL_H
#define TL_LIB_SPOOL_H

#include <stddef.h>

struct tl__spooled {
    struct tl__spooled *next;
    size_t len;
    char data[]; /* len bytes, no terminator */
};

/* The records of one file, oldest first. */
struct tl__spool_queue {
    struct tl__spooled *head, *tail;
    size_t count;
};

/* The budget shared by a sink's queues. */
struct tl__spool {
    size_t bytes, limit, count;
};

void tl__spool_init(struct tl__spool *sp, size_t limit);

/* Appends a copy of data to q. Returns 0, or -ENOBUFS when it would pass
 * the limit of sp, or -ENOMEM. */
int tl__spool_push(struct tl__spool *sp, struct tl__spool_queue *q,
                   const char *data, size_t len);

/* Removes and frees the oldest record of q, which must have one. */
void tl__spool_pop(struct tl__spool *sp, struct tl__spool_queue *q);

/* Frees every record of q without writing it. */
void tl__spool_clear(struct tl__spool *sp, struct tl__spool_queue *q);

#endif
