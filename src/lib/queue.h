/* A bounded multi-producer, single-consumer queue of tagged pointers,
 * behind one mutex. Producers block or fail when it is full; the writer
 * thread takes items in batches. */
#ifndef TL_LIB_QUEUE_H
#define TL_LIB_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

enum tl__item_kind { TL__ITEM_RECORD = 1, TL__ITEM_AUDIT };

struct tl__item {
    enum tl__item_kind kind;
    void *ptr;
};

struct tl__queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    struct tl__item *slots;
    size_t cap;
    size_t head; /* index of the oldest item */
    size_t count;
    size_t high_water;
    bool closed; /* producers are rejected; the consumer drains */
    bool wake;   /* the consumer should return from its wait now */
};

/* Allocates room for cap items. Returns 0, TL_EINVAL or -ENOMEM. */
int tl__queue_init(struct tl__queue *q, size_t cap);
void tl__queue_fini(struct tl__queue *q);

/* Appends item. When full, waits for room if block is true, else returns
 * TL_EFULL. Returns TL_ECLOSED once the queue is closed, also to
 * producers that were waiting. */
int tl__queue_push(struct tl__queue *q, struct tl__item item, bool block);

/* Moves up to max items into out, oldest first, waiting up to timeout_ms
 * for the first. Returns the number moved (0 on timeout or wake-up), or
 * -1 when the queue is closed and empty. */
int tl__queue_pop(struct tl__queue *q, struct tl__item *out, size_t max,
                  int timeout_ms);

/* Rejects producers from now on and wakes everyone. */
void tl__queue_close(struct tl__queue *q);

/* Makes a waiting tl__queue_pop return at once. */
void tl__queue_wake(struct tl__queue *q);

/* In a child created by fork(): makes the lock and the condition
 * variables new, because threads of the parent may have held or waited on
 * them. Items stay queued. Not thread-safe: call from the child's fork
 * handler only. */
void tl__queue_after_fork(struct tl__queue *q);

/* Current depth and high-water mark, read under the lock. */
void tl__queue_depth(struct tl__queue *q, size_t *depth, size_t *high);

#endif
