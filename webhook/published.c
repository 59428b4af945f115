/* published: the generation-counted, reference-counted holder of an object
 * many threads read (see published.h). */
#include "published.h"

#include <stdlib.h>

published_obj_t *published_hold(const published_view_t *v)
{
    published_obj_t *o = v->held;
    if (o)
        atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
    return o;
}

void published_drop(published_obj_t *o)
{
    if (o && atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) == 1) {
        if (o->destroy && o->obj)
            o->destroy(o->obj);
        free(o);
    }
}

bool published_set(published_t *p, void *obj)
{
    published_obj_t *o = NULL;
    if (obj) {
        o = malloc(sizeof *o);
        if (!o) {
            if (p->destroy)
                p->destroy(obj);
            return false;
        }
        o->obj = obj;
        o->destroy = p->destroy;
        atomic_init(&o->refs, 1); /* the slot's reference */
    }
    if (pthread_mutex_lock(&p->lock) != 0)
        abort(); /* only fails on a corrupted mutex */
    published_obj_t *old = p->cur;
    p->cur = o;
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_mutex_unlock(&p->lock);
    published_drop(old); /* views that hold it keep it alive */
    return true;
}

void published_refresh(published_t *p, published_view_t *v)
{
    published_obj_t *old = v->held;
    if (pthread_mutex_lock(&p->lock) != 0)
        return; /* keep what the view has; the next call tries again */
    v->held = p->cur;
    if (v->held)
        atomic_fetch_add_explicit(&v->held->refs, 1, memory_order_relaxed);
    v->gen = atomic_load_explicit(&p->gen, memory_order_relaxed);
    pthread_mutex_unlock(&p->lock);
    published_drop(old);
}

void published_view_release(published_view_t *v)
{
    published_drop(v->held);
    v->held = NULL;
    v->gen = 0;
}
