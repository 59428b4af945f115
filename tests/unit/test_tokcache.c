/* Unit tests: cloud secrets are kept for their lifetime minus a margin,
 * failures are not kept, and a key is fetched by one thread at a time:
 * the others wait for its answer (a failure's reason included), bounded
 * by their own deadline. */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "tokcache.h"

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    bool started, release; /* a blocking fetch: started, may finish */
    bool block, fail;
    uint64_t lifetime_ms;
} fake_t;

static void fake_init(fake_t *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->lifetime_ms = 3600 * 1000;
}

static bool fake_fetch(void *ctx, const char *key, uint64_t deadline, char **secret,
                       uint64_t *lifetime_ms, char *why, size_t whysz)
{
    (void)deadline;
    fake_t *f = ctx;
    pthread_mutex_lock(&f->mu);
    int n = ++f->calls;
    f->started = true;
    pthread_cond_broadcast(&f->cv);
    while (f->block && !f->release)
        pthread_cond_wait(&f->cv, &f->mu);
    bool fail = f->fail;
    pthread_mutex_unlock(&f->mu);
    if (fail) {
        snprintf(why, whysz, "token endpoint answered 403");
        return false;
    }
    char s[64];
    snprintf(s, sizeof s, "%s-secret-%d", key, n);
    *secret = strdup(s);
    *lifetime_ms = f->lifetime_ms;
    return true;
}

/* A fetch function that must not be called. */
static bool never(void *ctx, const char *key, uint64_t deadline, char **secret,
                  uint64_t *lifetime_ms, char *why, size_t whysz)
{
    (void)ctx, (void)key, (void)deadline, (void)secret, (void)lifetime_ms, (void)why, (void)whysz;
    ck_abort_msg("a second fetch ran while one was in flight");
    return false;
}

static char *get(tokcache_t *c, const char *key, fake_t *f, char *why)
{
    char *s = NULL;
    why[0] = '\0';
    bool ok = tokcache_get(c, key, clock_mono_ms() + 5000, fake_fetch, f, &s, why, 200);
    ck_assert(ok == (s != NULL));
    return s;
}

START_TEST(kept_for_its_lifetime_failures_not_kept)
{
    tokcache_t *c = tokcache_new(4);
    fake_t f;
    fake_init(&f);
    char why[200];
    char *s = get(c, "a", &f, why);
    ck_assert_str_eq(s, "a-secret-1");
    free(s);
    s = get(c, "a", &f, why); /* an hour: kept */
    ck_assert_str_eq(s, "a-secret-1");
    free(s);
    ck_assert_uint_eq(tokcache_fetches(c), 1);

    tokcache_drop(c, "a"); /* refused by its user: fetched again */
    s = get(c, "a", &f, why);
    ck_assert_str_eq(s, "a-secret-2");
    free(s);

    f.lifetime_ms = 0; /* no lifetime: never kept */
    s = get(c, "b", &f, why);
    free(s);
    s = get(c, "b", &f, why);
    ck_assert_str_eq(s, "b-secret-4");
    free(s);

    f.fail = true;
    ck_assert_ptr_null(get(c, "c", &f, why));
    ck_assert_str_eq(why, "token endpoint answered 403");
    ck_assert_ptr_null(get(c, "c", &f, why));
    ck_assert_int_eq(f.calls, 6);
    tokcache_free(c);
}
END_TEST

START_TEST(bounded_the_first_due_makes_room)
{
    tokcache_t *c = tokcache_new(1);
    fake_t f;
    fake_init(&f);
    char why[200];
    free(get(c, "a", &f, why));
    free(get(c, "b", &f, why));
    char *s = get(c, "a", &f, why);
    ck_assert_str_eq(s, "a-secret-3");
    free(s);
    char long_key[2000];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    ck_assert_ptr_null(get(c, long_key, &f, why));
    ck_assert_str_eq(why, "credential key too long");
    tokcache_free(c);
}
END_TEST

typedef struct {
    tokcache_t *c;
    fake_t *f;
    tokcache_fetch_fn fn;
    uint64_t deadline;
    bool ok;
    char *secret;
    char why[200];
} caller_t;

static void *call(void *arg)
{
    caller_t *k = arg;
    k->ok = tokcache_get(k->c, "reg", k->deadline, k->fn, k->f, &k->secret, k->why, sizeof k->why);
    return NULL;
}

static void wait_started(fake_t *f)
{
    pthread_mutex_lock(&f->mu);
    while (!f->started)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

static void wait_waiting(tokcache_t *c, size_t n)
{
    uint64_t until = clock_mono_ms() + 5000;
    while (tokcache_waiting(c, "reg") != n && clock_mono_ms() < until)
        sched_yield();
    ck_assert_uint_eq(tokcache_waiting(c, "reg"), n);
}

static void release(fake_t *f)
{
    pthread_mutex_lock(&f->mu);
    f->release = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* One thread fetches (blocked until released), two wait for its answer. */
static void single_flight(bool fail)
{
    tokcache_t *c = tokcache_new(4);
    fake_t f;
    fake_init(&f);
    f.block = true;
    f.fail = fail;
    uint64_t dl = clock_mono_ms() + 10000;
    caller_t k[3] = {{c, &f, fake_fetch, dl, false, NULL, ""},
                     {c, &f, never, dl, false, NULL, ""},
                     {c, &f, never, dl, false, NULL, ""}};
    pthread_t th[3];
    ck_assert_int_eq(pthread_create(&th[0], NULL, call, &k[0]), 0);
    wait_started(&f);
    ck_assert_int_eq(pthread_create(&th[1], NULL, call, &k[1]), 0);
    ck_assert_int_eq(pthread_create(&th[2], NULL, call, &k[2]), 0);
    wait_waiting(c, 2);
    release(&f);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        ck_assert(k[i].ok == !fail);
        if (fail)
            ck_assert_str_eq(k[i].why, "token endpoint answered 403");
        else
            ck_assert_str_eq(k[i].secret, "reg-secret-1");
        free(k[i].secret);
    }
    ck_assert_int_eq(f.calls, 1);
    ck_assert_uint_eq(tokcache_waiting(c, "reg"), 0);
    tokcache_free(c);
}

START_TEST(concurrent_gets_share_one_fetch)
{
    single_flight(false);
}
END_TEST

START_TEST(concurrent_gets_share_a_failure_and_its_reason)
{
    single_flight(true);
}
END_TEST

START_TEST(a_waiter_gives_up_at_its_deadline)
{
    tokcache_t *c = tokcache_new(4);
    fake_t f;
    fake_init(&f);
    f.block = true;
    caller_t owner = {c, &f, fake_fetch, clock_mono_ms() + 10000, false, NULL, ""};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, call, &owner), 0);
    wait_started(&f);
    uint64_t t0 = clock_mono_ms();
    caller_t late = {c, &f, never, t0 + 200, false, NULL, ""};
    call(&late);
    uint64_t took = clock_mono_ms() - t0;
    ck_assert(!late.ok);
    ck_assert_str_eq(late.why,
                     "timed out waiting for a concurrent request for the same credentials");
    ck_assert_msg(took >= 150 && took < 3000, "took %llu ms", (unsigned long long)took);
    release(&f);
    pthread_join(th, NULL);
    ck_assert(owner.ok);
    free(owner.secret);
    tokcache_free(c);
}
END_TEST

Suite *suite_tokcache(void)
{
    Suite *s = suite_create("tokcache");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, kept_for_its_lifetime_failures_not_kept);
    tcase_add_test(tc, bounded_the_first_due_makes_room);
    tcase_add_test(tc, concurrent_gets_share_one_fetch);
    tcase_add_test(tc, concurrent_gets_share_a_failure_and_its_reason);
    tcase_add_test(tc, a_waiter_gives_up_at_its_deadline);
    suite_add_tcase(s, tc);
    return s;
}
