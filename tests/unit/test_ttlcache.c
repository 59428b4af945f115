/* Unit tests: the live checks' cache: expiry on an injected clock, the LRU
 * bound, single-flight lookups, sharing by reference, stored texts. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ttlcache.h"

static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

START_TEST(cache_ttl_expiry)
{
    fake_now = 1000;
    ttlcache_t *c = ttlcache_new(8, fake_clock, NULL);
    int v = -1;
    ck_assert_int_eq(ttlcache_acquire(c, "a", &v, 10), TTLC_FETCH);
    ttlcache_complete(c, "a", 7, 500);
    ck_assert_int_eq(ttlcache_acquire(c, "a", &v, 10), TTLC_HIT);
    ck_assert_int_eq(v, 7);
    fake_now += 499;
    ck_assert_int_eq(ttlcache_acquire(c, "a", &v, 10), TTLC_HIT);
    fake_now += 1;
    ck_assert_int_eq(ttlcache_acquire(c, "a", &v, 10), TTLC_FETCH); /* expired */
    ttlcache_complete(c, "a", 3, 0);                                /* not stored */
    ck_assert_uint_eq(ttlcache_count(c), 0);
    ck_assert_int_eq(ttlcache_acquire(c, "a", &v, 10), TTLC_FETCH);
    ttlcache_complete(c, "a", 3, 10);
    ck_assert_uint_eq(ttlcache_count(c), 1);
    ttlcache_unref(c);
}
END_TEST

START_TEST(cache_lru_bound)
{
    fake_now = 0;
    ttlcache_t *c = ttlcache_new(3, fake_clock, NULL);
    int v;
    const char *keys[] = {"k1", "k2", "k3"};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(ttlcache_acquire(c, keys[i], &v, 10), TTLC_FETCH);
        ttlcache_complete(c, keys[i], i, 100000);
    }
    ck_assert_int_eq(ttlcache_acquire(c, "k1", &v, 10), TTLC_HIT); /* k1 now most recent */
    ck_assert_int_eq(ttlcache_acquire(c, "k4", &v, 10), TTLC_FETCH);
    ttlcache_complete(c, "k4", 4, 100000);
    ck_assert_uint_eq(ttlcache_count(c), 3);
    ck_assert_int_eq(ttlcache_acquire(c, "k1", &v, 10), TTLC_HIT);
    ck_assert_int_eq(ttlcache_acquire(c, "k3", &v, 10), TTLC_HIT);
    ck_assert_int_eq(ttlcache_acquire(c, "k4", &v, 10), TTLC_HIT);
    ck_assert_int_eq(ttlcache_acquire(c, "k2", &v, 10), TTLC_FETCH); /* evicted */
    ttlcache_complete(c, "k2", 2, 1);
    ck_assert_uint_eq(ttlcache_count(c), 3);
    ttlcache_unref(c);
}
END_TEST

typedef struct {
    ttlcache_t *c;
    int result;
    int value;
    unsigned wait_ms;
} waiter_t;

static void *waiter(void *arg)
{
    waiter_t *w = arg;
    w->result = ttlcache_acquire(w->c, "img", &w->value, w->wait_ms);
    return NULL;
}

/* Until `n` threads wait for the lookup of `key` (at most 5 s). */
static bool wait_for_waiters(ttlcache_t *c, const char *key, size_t n)
{
    uint64_t end = clock_mono_ms() + 5000;
    while (ttlcache_waiting(c, key) < n) {
        if (clock_mono_ms() > end)
            return false;
        sched_yield();
    }
    return true;
}

START_TEST(cache_single_flight)
{
    ttlcache_t *c = ttlcache_new(8, NULL, NULL);
    int v;
    ck_assert_int_eq(ttlcache_acquire(c, "img", &v, 10), TTLC_FETCH);
    waiter_t w[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (waiter_t){c, -1, -1, 5000};
        ck_assert_int_eq(pthread_create(&th[i], NULL, waiter, &w[i]), 0);
    }
    /* the waiters are blocked on the owner's lookup */
    ck_assert(wait_for_waiters(c, "img", 3));
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(w[i].result, -1);
    ttlcache_complete(c, "img", 42, 0); /* shared even though not stored */
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].result, TTLC_SHARED);
        ck_assert_int_eq(w[i].value, 42);
    }
    ttlcache_unref(c);
}
END_TEST

START_TEST(cache_waiter_gives_up)
{
    ttlcache_t *c = ttlcache_new(8, NULL, NULL);
    int v;
    ck_assert_int_eq(ttlcache_acquire(c, "img", &v, 10), TTLC_FETCH);
    waiter_t w = {c, -1, -1, 30};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, waiter, &w), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(w.result, TTLC_BUSY);
    ttlcache_complete(c, "img", 1, 1000);
    ck_assert_int_eq(ttlcache_acquire(c, "img", &v, 10), TTLC_HIT);
    ttlcache_unref(c);
}
END_TEST

START_TEST(cache_shared_by_reference)
{
    ttlcache_t *c = ttlcache_new(8, NULL, NULL);
    ttlcache_t *c2 = ttlcache_ref(c);
    int v;
    ck_assert_int_eq(ttlcache_acquire(c, "x", &v, 10), TTLC_FETCH);
    ttlcache_complete(c, "x", 5, 100000);
    ttlcache_unref(c);
    ck_assert_int_eq(ttlcache_acquire(c2, "x", &v, 10), TTLC_HIT);
    ck_assert_int_eq(v, 5);
    ttlcache_unref(c2);
}
END_TEST

START_TEST(text_put_get_expire)
{
    fake_now = 0;
    ttlcache_t *c = ttlcache_new(8, fake_clock, NULL);
    ck_assert_ptr_null(ttlcache_get_text(c, "reg/a"));
    ttlcache_put_text(c, "reg/a", "Authorization: Bearer t1", 300);
    char *t = ttlcache_get_text(c, "reg/a");
    ck_assert_str_eq(t, "Authorization: Bearer t1");
    free(t);
    fake_now = 299;
    t = ttlcache_get_text(c, "reg/a");
    ck_assert_ptr_nonnull(t);
    free(t);
    fake_now = 300; /* expired: gone */
    ck_assert_ptr_null(ttlcache_get_text(c, "reg/a"));
    ck_assert_uint_eq(ttlcache_count(c), 0);
    ttlcache_unref(c);
}
END_TEST

START_TEST(text_replace_and_remove)
{
    fake_now = 0;
    ttlcache_t *c = ttlcache_new(8, fake_clock, NULL);
    ttlcache_put_text(c, "k", "old", 1000);
    ttlcache_put_text(c, "k", "new", 10);
    ck_assert_uint_eq(ttlcache_count(c), 1);
    char *t = ttlcache_get_text(c, "k");
    ck_assert_str_eq(t, "new");
    free(t);
    fake_now = 10; /* the replacement's lifetime counts */
    ck_assert_ptr_null(ttlcache_get_text(c, "k"));
    fake_now = 0;
    ttlcache_put_text(c, "k", "again", 1000);
    ttlcache_put_text(c, "k", NULL, 1000); /* NULL: forget */
    ck_assert_ptr_null(ttlcache_get_text(c, "k"));
    ttlcache_put_text(c, "k", "again", 1000);
    ttlcache_remove(c, "k");
    ck_assert_ptr_null(ttlcache_get_text(c, "k"));
    ck_assert_uint_eq(ttlcache_count(c), 0);
    ttlcache_unref(c);
}
END_TEST

START_TEST(failure_reason_age_and_backoff)
{
    fake_now = 5000;
    ttlcache_t *c = ttlcache_new(8, fake_clock, NULL);
    unsigned long long ago = 99;
    ck_assert_ptr_null(ttlcache_get_failure(c, "h", &ago));
    ttlcache_put_failure(c, "h", "connection refused", 10000);
    fake_now += 1499; /* rounded to whole seconds */
    char *why = ttlcache_get_failure(c, "h", &ago);
    ck_assert_ptr_nonnull(why);
    ck_assert_str_eq(why, "connection refused");
    ck_assert_uint_eq(ago, 1);
    free(why);
    fake_now += 1;
    why = ttlcache_get_failure(c, "h", &ago);
    ck_assert_uint_eq(ago, 2);
    free(why);
    /* a failure again restarts the backoff, with the new reason */
    ttlcache_put_failure(c, "h", "timed out", 10000);
    fake_now += 9999;
    why = ttlcache_get_failure(c, "h", &ago);
    ck_assert_str_eq(why, "timed out");
    ck_assert_uint_eq(ago, 10);
    free(why);
    fake_now += 1;
    ck_assert_ptr_null(ttlcache_get_failure(c, "h", &ago));
    /* a reason too long is cut, not refused */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ttlcache_put_failure(c, "h", big, 10000);
    why = ttlcache_get_failure(c, "h", &ago);
    ck_assert_ptr_nonnull(why);
    ck_assert_uint_ge(strlen(why), 400);
    ck_assert_uint_lt(strlen(why), 512);
    free(why);
    ttlcache_unref(c);
}
END_TEST

START_TEST(text_lru_bound)
{
    fake_now = 0;
    ttlcache_t *c = ttlcache_new(2, fake_clock, NULL);
    ttlcache_put_text(c, "a", "A", 1000);
    ttlcache_put_text(c, "b", "B", 1000);
    free(ttlcache_get_text(c, "a")); /* a is now the most recent */
    ttlcache_put_text(c, "c", "C", 1000);
    ck_assert_uint_eq(ttlcache_count(c), 2);
    char *a = ttlcache_get_text(c, "a"), *b = ttlcache_get_text(c, "b");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(b); /* evicted */
    free(a);
    ttlcache_unref(c);
}
END_TEST

Suite *suite_ttlcache(void)
{
    Suite *s = suite_create("ttlcache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, cache_ttl_expiry);
    tcase_add_test(tc, cache_lru_bound);
    tcase_add_test(tc, cache_single_flight);
    tcase_add_test(tc, cache_waiter_gives_up);
    tcase_add_test(tc, cache_shared_by_reference);
    tcase_add_test(tc, text_put_get_expire);
    tcase_add_test(tc, text_replace_and_remove);
    tcase_add_test(tc, text_lru_bound);
    tcase_add_test(tc, failure_reason_age_and_backoff);
    suite_add_tcase(s, tc);
    return s;
}
