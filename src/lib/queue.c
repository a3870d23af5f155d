/* The bounded queue between producers and the writer thread. */
#include "queue.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "tenantlog/tenantlog.h"

int tl__queue_init(struct tl__queue *q, size_t cap)
{
    pthread_condattr_t attr;

    if (cap == 0) {
        return TL_EINVAL;
    }
    q->slots = calloc(cap, sizeof(*q->slots));
    if (q->slots == NULL) {
        return -ENOMEM;
    }
    q->cap = cap;
    q->head = 0;
    q->count = 0;
    q->high_water = 0;
    q->closed = false;
    q->wake = false;
    pthread_mutex_init(&q->mu, NULL);
    /* Timed waits use CLOCK_MONOTONIC so a clock step cannot stall them. */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&q->not_full, NULL);
    return 0;
}

void tl__queue_fini(struct tl__queue *q)
{
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->mu);
    free(q->slots);
    q->slots = NULL;
    q->cap = 0;
}

int tl__queue_push(struct tl__queue *q, struct tl__item item, bool block)
{
    int result = 0;

    pthread_mutex_lock(&q->mu);
    while (!q->closed && q->count == q->cap && block) {
        pthread_cond_wait(&q->not_full, &q->mu);
    }
    if (q->closed) {
        result = TL_ECLOSED;
    } else if (q->count == q->cap) {
        result = TL_EFULL;
    } else {
        q->slots[(q->head + q->count) % q->cap] = item;
        q->count++;
        if (q->count > q->high_water) {
            q->high_water = q->count;
        }
        if (q->count == 1) {
            pthread_cond_signal(&q->not_empty);
        }
    }
    pthread_mutex_unlock(&q->mu);
    return result;
}

static void deadline_after(struct timespec *ts, int timeout_ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

int tl__queue_pop(struct tl__queue *q, struct tl__item *out, size_t max,
                  int timeout_ms)
{
    struct timespec deadline;
    size_t n = 0;
    int err = 0;

    deadline_after(&deadline, timeout_ms);
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->closed && !q->wake && err != ETIMEDOUT) {
        err = pthread_cond_timedwait(&q->not_empty, &q->mu, &deadline);
    }
    q->wake = false;
    if (q->count == 0 && q->closed) {
        pthread_mutex_unlock(&q->mu);
        return -1;
    }
    while (n < max && q->count > 0) {
        out[n++] = q->slots[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    if (n > 0) {
        pthread_cond_broadcast(&q->not_full);
    }
    pthread_mutex_unlock(&q->mu);
    return (int)n;
}

void tl__queue_close(struct tl__queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

void tl__queue_wake(struct tl__queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->wake = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

void tl__queue_after_fork(struct tl__queue *q)
{
    pthread_condattr_t attr;

    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&q->not_full, NULL);
}

void tl__queue_depth(struct tl__queue *q, size_t *depth, size_t *high)
{
    pthread_mutex_lock(&q->mu);
    *depth = q->count;
    *high = q->high_water;
    pthread_mutex_unlock(&q->mu);
}
