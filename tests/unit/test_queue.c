/* The bounded queue: order, capacity, policies, close, many producers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "lib/queue.h"
#include "tenantlog/tenantlog.h"

static struct tl__item item(uintptr_t n)
{
    return (struct tl__item){TL__ITEM_RECORD, (void *)n};
}

static void queue_fifo_order(void **state)
{
    struct tl__queue q;
    struct tl__item out[8];
    uintptr_t i;

    (void)state;
    assert_int_equal(tl__queue_init(&q, 8), 0);
    for (i = 1; i <= 5; i++) {
        assert_int_equal(tl__queue_push(&q, item(i), false), 0);
    }
    assert_int_equal(tl__queue_pop(&q, out, 8, 0), 5);
    for (i = 0; i < 5; i++) {
        assert_int_equal((uintptr_t)out[i].ptr, i + 1);
    }
    tl__queue_fini(&q);
}

static void queue_full_drops(void **state)
{
    struct tl__queue q;
    size_t depth, high;

    (void)state;
    assert_int_equal(tl__queue_init(&q, 2), 0);
    assert_int_equal(tl__queue_push(&q, item(1), false), 0);
    assert_int_equal(tl__queue_push(&q, item(2), false), 0);
    assert_int_equal(tl__queue_push(&q, item(3), false), TL_EFULL);
    tl__queue_depth(&q, &depth, &high);
    assert_int_equal(depth, 2);
    assert_int_equal(high, 2);
    tl__queue_fini(&q);
}

static void queue_wraps_around(void **state)
{
    struct tl__queue q;
    struct tl__item out[3];
    uintptr_t i;

    (void)state;
    assert_int_equal(tl__queue_init(&q, 3), 0);
    for (i = 1; i <= 30; i++) {
        assert_int_equal(tl__queue_push(&q, item(i), false), 0);
        assert_int_equal(tl__queue_pop(&q, out, 3, 0), 1);
        assert_int_equal((uintptr_t)out[0].ptr, i);
    }
    tl__queue_fini(&q);
}

static void queue_pop_times_out(void **state)
{
    struct tl__queue q;
    struct tl__item out[1];

    (void)state;
    assert_int_equal(tl__queue_init(&q, 4), 0);
    assert_int_equal(tl__queue_pop(&q, out, 1, 10), 0);
    tl__queue_fini(&q);
}

static void queue_close_drains_then_ends(void **state)
{
    struct tl__queue q;
    struct tl__item out[4];

    (void)state;
    assert_int_equal(tl__queue_init(&q, 4), 0);
    assert_int_equal(tl__queue_push(&q, item(1), false), 0);
    tl__queue_close(&q);
    assert_int_equal(tl__queue_push(&q, item(2), true), TL_ECLOSED);
    assert_int_equal(tl__queue_pop(&q, out, 4, 0), 1);
    assert_int_equal(tl__queue_pop(&q, out, 4, 0), -1);
    tl__queue_fini(&q);
}

static void *blocked_producer(void *arg)
{
    struct tl__queue *q = arg;

    return (void *)(intptr_t)tl__queue_push(q, item(9), true);
}

static void queue_close_wakes_blocked(void **state)
{
    struct tl__queue q;
    pthread_t t;
    void *result;

    (void)state;
    assert_int_equal(tl__queue_init(&q, 1), 0);
    assert_int_equal(tl__queue_push(&q, item(1), false), 0);
    assert_int_equal(pthread_create(&t, NULL, blocked_producer, &q), 0);
    tl__queue_close(&q);
    pthread_join(t, &result);
    assert_int_equal((intptr_t)result, TL_ECLOSED);
    tl__queue_fini(&q);
}

#define PRODUCERS 4
#define PER_PRODUCER 20000

struct producer {
    struct tl__queue *q;
    uintptr_t id;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    uintptr_t i;

    for (i = 0; i < PER_PRODUCER; i++) {
        /* Each value encodes its producer and its order. */
        if (tl__queue_push(p->q, item(p->id << 32 | i), true) != 0) {
            return (void *)1;
        }
    }
    return NULL;
}

static void queue_many_producers_keep_order(void **state)
{
    struct tl__queue q;
    struct producer prod[PRODUCERS];
    pthread_t threads[PRODUCERS];
    uintptr_t next[PRODUCERS] = {0};
    struct tl__item out[64];
    size_t total = 0;
    int i, n;

    (void)state;
    assert_int_equal(tl__queue_init(&q, 16), 0);
    for (i = 0; i < PRODUCERS; i++) {
        prod[i] = (struct producer){&q, (uintptr_t)i};
        assert_int_equal(pthread_create(&threads[i], NULL, produce, &prod[i]),
                         0);
    }
    while (total < PRODUCERS * PER_PRODUCER) {
        n = tl__queue_pop(&q, out, 64, 1000);
        assert_true(n >= 0);
        for (i = 0; i < n; i++) {
            uintptr_t v = (uintptr_t)out[i].ptr;

            /* Per-producer order is preserved, nothing lost or doubled. */
            assert_int_equal(v & 0xffffffffu, next[v >> 32]);
            next[v >> 32]++;
        }
        total += (size_t)n;
    }
    for (i = 0; i < PRODUCERS; i++) {
        void *result;

        pthread_join(threads[i], &result);
        assert_null(result);
    }
    tl__queue_fini(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queue_fifo_order),
        cmocka_unit_test(queue_full_drops),
        cmocka_unit_test(queue_wraps_around),
        cmocka_unit_test(queue_pop_times_out),
        cmocka_unit_test(queue_close_drains_then_ends),
        cmocka_unit_test(queue_close_wakes_blocked),
        cmocka_unit_test(queue_many_producers_keep_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
