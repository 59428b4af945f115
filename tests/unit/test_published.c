/* Unit tests: the published-object holder (published.h), alone and with
 * reader threads refreshing while another thread publishes. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "published.h"

/* Test objects are never freed during a test: destroy only marks them, so
 * that a reader touching a destroyed object is seen, not undefined. */
typedef struct {
    uint64_t id;
    atomic_int alive;
} tobj_t;

#define N_OBJS 20001

static tobj_t g_objs[N_OBJS];
static atomic_size_t g_destroyed;
static atomic_int g_destroyed_twice;

/* Runs on whichever thread lets an object go last: records, asserts later. */
static void tobj_destroy(void *p)
{
    tobj_t *o = p;
    if (atomic_exchange(&o->alive, 0) != 1)
        atomic_store(&g_destroyed_twice, 1);
    atomic_fetch_add(&g_destroyed, 1);
}

static tobj_t *tobj(uint64_t id)
{
    g_objs[id].id = id;
    atomic_store(&g_objs[id].alive, 1);
    return &g_objs[id];
}

static void reset(void)
{
    atomic_store(&g_destroyed, 0);
    atomic_store(&g_destroyed_twice, 0);
}

START_TEST(views_follow_the_slot_and_keep_what_they_hold)
{
    reset();
    published_t slot = PUBLISHED_INIT(tobj_destroy);
    published_view_t a = {0}, b = {0};
    ck_assert_ptr_null(published_get(&slot, &a)); /* nothing published yet */

    ck_assert(published_set(&slot, tobj(1)));
    ck_assert_ptr_eq(published_get(&slot, &a), &g_objs[1]);
    ck_assert_ptr_eq(published_get(&slot, &b), &g_objs[1]);

    ck_assert(published_set(&slot, tobj(2)));
    /* the slot let 1 go, the views still hold it */
    ck_assert_int_eq(atomic_load(&g_objs[1].alive), 1);
    ck_assert_ptr_eq(published_held(&a), &g_objs[1]);
    ck_assert_ptr_eq(published_get(&slot, &a), &g_objs[2]);
    ck_assert_int_eq(atomic_load(&g_objs[1].alive), 1); /* b still has it */
    ck_assert_ptr_eq(published_get(&slot, &b), &g_objs[2]);
    ck_assert_int_eq(atomic_load(&g_objs[1].alive), 0);
    ck_assert_uint_eq(atomic_load(&g_destroyed), 1);

    /* a hold outlives the view's move to a newer object */
    published_obj_t *h = published_hold(&a);
    ck_assert(published_set(&slot, tobj(3)));
    ck_assert_ptr_eq(published_get(&slot, &a), &g_objs[3]);
    published_view_release(&b);
    ck_assert_int_eq(atomic_load(&g_objs[2].alive), 1);
    ck_assert_ptr_eq(h->obj, &g_objs[2]);
    published_drop(h);
    ck_assert_int_eq(atomic_load(&g_objs[2].alive), 0);

    /* publishing nothing: views see NULL, the last object goes with them */
    ck_assert(published_set(&slot, NULL));
    ck_assert_int_eq(atomic_load(&g_objs[3].alive), 1);
    ck_assert_ptr_null(published_get(&slot, &a));
    ck_assert_int_eq(atomic_load(&g_objs[3].alive), 0);
    ck_assert_ptr_null(published_hold(&a));
    published_drop(NULL);
    published_view_release(&a);
    ck_assert_uint_eq(atomic_load(&g_destroyed), 3);
    ck_assert_int_eq(atomic_load(&g_destroyed_twice), 0);
}
END_TEST

#define N_READERS 4

static published_t g_slot = PUBLISHED_INIT(tobj_destroy);
static atomic_bool g_stop;
static pthread_barrier_t g_start;

typedef struct {
    uint64_t gets, changes;
    int bad; /* 0, or what went wrong */
} reader_result_t;

/* Reads the slot until told to stop: every object it gets is alive, and
 * ids never go backwards (publishing is ordered). Now and then an object is
 * held across a refresh, as a live-check job holds its configuration. */
static void *reader(void *arg)
{
    reader_result_t *r = arg;
    published_view_t v = {0};
    uint64_t last = 0;
    published_obj_t *held = NULL;
    pthread_barrier_wait(&g_start);
    while (!atomic_load(&g_stop)) {
        tobj_t *o = published_get(&g_slot, &v);
        r->gets++;
        if (!o)
            continue;
        if (!atomic_load(&o->alive))
            r->bad = 1;
        if (o->id < last)
            r->bad = 2;
        if (o->id != last) {
            r->changes++;
            last = o->id;
        }
        if (held && !atomic_load(&((tobj_t *)held->obj)->alive))
            r->bad = 3;
        if (r->gets % 64 == 0) {
            published_drop(held);
            held = published_hold(&v);
        }
    }
    published_drop(held);
    published_view_release(&v);
    return NULL;
}

START_TEST(readers_refresh_while_a_writer_publishes)
{
    reset();
    atomic_store(&g_stop, false);
    ck_assert_int_eq(pthread_barrier_init(&g_start, NULL, N_READERS + 1), 0);
    pthread_t tids[N_READERS];
    reader_result_t res[N_READERS] = {{0}};
    for (int i = 0; i < N_READERS; i++)
        ck_assert_int_eq(pthread_create(&tids[i], NULL, reader, &res[i]), 0);
    pthread_barrier_wait(&g_start);
    for (uint64_t id = 1; id < N_OBJS; id++)
        ck_assert(published_set(&g_slot, tobj(id)));
    atomic_store(&g_stop, true);
    for (int i = 0; i < N_READERS; i++)
        ck_assert_int_eq(pthread_join(tids[i], NULL), 0);
    pthread_barrier_destroy(&g_start);

    for (int i = 0; i < N_READERS; i++) {
        ck_assert_msg(res[i].bad == 0, "reader %d: failure %d", i, res[i].bad);
        ck_assert_uint_gt(res[i].gets, 0);
    }
    /* the readers are gone: only the last object is still alive, in the slot */
    ck_assert_uint_eq(atomic_load(&g_destroyed), N_OBJS - 2);
    ck_assert_int_eq(atomic_load(&g_objs[N_OBJS - 1].alive), 1);
    ck_assert(published_set(&g_slot, NULL));
    ck_assert_uint_eq(atomic_load(&g_destroyed), N_OBJS - 1);
    for (uint64_t id = 1; id < N_OBJS; id++)
        ck_assert_int_eq(atomic_load(&g_objs[id].alive), 0);
    ck_assert_int_eq(atomic_load(&g_destroyed_twice), 0);
}
END_TEST

Suite *suite_published(void)
{
    Suite *s = suite_create("published");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, views_follow_the_slot_and_keep_what_they_hold);
    tcase_add_test(tc, readers_refresh_while_a_writer_publishes);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
