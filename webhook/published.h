/* published: one object that many threads read and one thread replaces -
 * the serving configuration, the TLS context.
 *
 * A published_t slot holds the current object with a reference count and a
 * generation number. Each reader thread keeps a published_view_t: its own
 * reference to the object it last saw. published_get() costs one atomic
 * load when nothing changed; after published_set() the next call takes the
 * new object and lets the old one go. An object is destroyed (with the
 * slot's destroy function) when the slot and every view and every hold have
 * let it go, so a reader never sees an object freed under it. */
#ifndef WH_PUBLISHED_H
#define WH_PUBLISHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One published object and its reference count. */
typedef struct published_obj {
    void *obj;
    void (*destroy)(void *obj);
    atomic_size_t refs;
} published_obj_t;

typedef struct {
    pthread_mutex_t lock;
    _Atomic uint64_t gen; /* bumped by every published_set() */
    published_obj_t *cur; /* under lock; NULL = nothing published */
    void (*destroy)(void *obj);
} published_t;

#define PUBLISHED_INIT(destroy_fn)                                                                 \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, 0, NULL, (destroy_fn)                                           \
    }

/* A reader's reference (zero-initialise: {0}). Used by one thread. */
typedef struct {
    uint64_t gen;
    published_obj_t *held;
} published_view_t;

/* Makes `obj` current (NULL: nothing) and takes over the caller's only
 * reference to it. Returns false when out of memory: `obj` is destroyed
 * and the current object stays. */
bool published_set(published_t *p, void *obj);

/* The slow half of published_get(): takes the current object. */
void published_refresh(published_t *p, published_view_t *v);

/* The object to use now (NULL before the first publish). Valid until the
 * next published_get() or published_view_release() on the same view. */
static inline void *published_get(published_t *p, published_view_t *v)
{
    if (atomic_load_explicit(&p->gen, memory_order_acquire) != v->gen)
        published_refresh(p, v);
    return v->held ? v->held->obj : NULL;
}

/* The object the view holds now, without looking for a newer one. */
static inline void *published_held(const published_view_t *v)
{
    return v->held ? v->held->obj : NULL;
}

/* Lets the view's object go; the view can be used again after. */
void published_view_release(published_view_t *v);

/* An extra reference to what a view holds (NULL if nothing), for work that
 * outlives the view's next refresh; give it back with published_drop(). */
published_obj_t *published_hold(const published_view_t *v);
void published_drop(published_obj_t *o);

#endif
