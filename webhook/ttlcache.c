/* ttlcache: bounded TTL + LRU cache with single-flight lookups (see ttlcache.h). */
#include "ttlcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "lrulist.h"
#include "secret.h"

#define FAILURE_MAX 512 /* "<failed at> <reason>" */

typedef struct flight {
    int value;
    bool done;
    unsigned refs; /* the owner and every waiter */
} flight_t;

typedef struct entry {
    char *key;
    uint64_t hash;
    int value;
    char *text; /* ttlcache_put_text() entries; wiped when dropped */
    uint64_t expires;
    flight_t *flight; /* non-NULL while the lookup is in flight (entry not in the LRU) */
    struct entry *hnext;
    lru_link_t use; /* in the use list while stored */
} entry_t;

struct ttlcache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned refs;
    size_t capacity, count;
    entry_t **buckets;
    size_t nbuckets; /* power of two */
    lru_list_t uses;
    ttlcache_clock_fn clock;
    void *clock_ctx;
};

static uint64_t default_clock(void *ctx_unused)
{
    (void)ctx_unused;
    return clock_mono_ms();
}

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

ttlcache_t *ttlcache_new(size_t capacity, ttlcache_clock_fn clock, void *clock_ctx)
{
    if (capacity == 0)
        capacity = 1;
    if (capacity > (1u << 24))
        capacity = 1u << 24;
    ttlcache_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    size_t nb = 16;
    while (nb < capacity)
        nb *= 2;
    c->buckets = calloc(nb, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(c->buckets);
        free(c);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc1 = pthread_mutex_init(&c->mu, NULL);
    int rc2 = pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc1 || rc2) {
        if (!rc1)
            pthread_mutex_destroy(&c->mu);
        if (!rc2)
            pthread_cond_destroy(&c->cv);
        free(c->buckets);
        free(c);
        return NULL;
    }
    c->nbuckets = nb;
    c->capacity = capacity;
    c->refs = 1;
    c->clock = clock ? clock : default_clock;
    c->clock_ctx = clock_ctx;
    return c;
}

ttlcache_t *ttlcache_ref(ttlcache_t *c)
{
    pthread_mutex_lock(&c->mu);
    c->refs++;
    pthread_mutex_unlock(&c->mu);
    return c;
}

static entry_t **find_slot(ttlcache_t *c, const char *key, uint64_t h)
{
    entry_t **pp = &c->buckets[h & (c->nbuckets - 1)];
    while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
        pp = &(*pp)->hnext;
    return pp;
}

static void free_entry(entry_t *e)
{
    secret_free(e->text);
    free(e->key);
    free(e);
}

/* Removes a stored (not in-flight) entry. */
static void remove_entry(ttlcache_t *c, entry_t *e)
{
    entry_t **pp = find_slot(c, e->key, e->hash);
    if (*pp == e)
        *pp = e->hnext;
    lru_unlink(&c->uses, &e->use);
    c->count--;
    free_entry(e);
}

/* Makes a new stored entry the most recent one, evicting the least recent
 * ones beyond the capacity. */
static void store_entry(ttlcache_t *c, entry_t *e)
{
    c->count++;
    lru_push_newest(&c->uses, &e->use);
    while (c->count > c->capacity && c->uses.oldest)
        remove_entry(c, LRU_ENTRY(c->uses.oldest, entry_t, use));
}

static void flight_release(flight_t *f)
{
    if (--f->refs == 0)
        free(f);
}

ttlc_result_t ttlcache_acquire(ttlcache_t *c, const char *key, int *value, unsigned wait_ms)
{
    uint64_t h = hash_key(key);
    pthread_mutex_lock(&c->mu);
    uint64_t now = c->clock(c->clock_ctx);
    entry_t **pp = find_slot(c, key, h);
    entry_t *e = *pp;
    if (e && !e->flight) {
        if (now < e->expires) {
            *value = e->value;
            lru_touch(&c->uses, &e->use);
            pthread_mutex_unlock(&c->mu);
            return TTLC_HIT;
        }
        remove_entry(c, e);
        e = NULL;
    }
    if (e) { /* in flight: wait for the owner */
        flight_t *f = e->flight;
        f->refs++;
        struct timespec dl = clock_mono_timespec(clock_mono_ms() + wait_ms);
        while (!f->done) {
            int rc = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
            if (rc == ETIMEDOUT)
                break;
        }
        ttlc_result_t r = TTLC_BUSY;
        if (f->done) {
            *value = f->value;
            r = TTLC_SHARED;
        }
        flight_release(f);
        pthread_mutex_unlock(&c->mu);
        return r;
    }
    /* miss: become the owner */
    e = calloc(1, sizeof *e);
    flight_t *f = calloc(1, sizeof *f);
    char *k = strdup(key);
    if (!e || !f || !k) {
        free(e);
        free(f);
        free(k);
    } else {
        f->refs = 1;
        e->key = k;
        e->hash = h;
        e->flight = f;
        e->hnext = c->buckets[h & (c->nbuckets - 1)];
        c->buckets[h & (c->nbuckets - 1)] = e;
    }
    pthread_mutex_unlock(&c->mu);
    return TTLC_FETCH;
}

void ttlcache_complete(ttlcache_t *c, const char *key, int value, uint64_t ttl_ms)
{
    uint64_t h = hash_key(key);
    pthread_mutex_lock(&c->mu);
    entry_t **pp = find_slot(c, key, h);
    entry_t *e = *pp;
    if (!e || !e->flight) { /* not recorded (out of memory): nothing to publish */
        pthread_mutex_unlock(&c->mu);
        return;
    }
    flight_t *f = e->flight;
    f->value = value;
    f->done = true;
    e->flight = NULL;
    flight_release(f);
    pthread_cond_broadcast(&c->cv);
    if (ttl_ms == 0) {
        *pp = e->hnext;
        free_entry(e);
    } else {
        e->value = value;
        e->expires = c->clock(c->clock_ctx) + ttl_ms;
        store_entry(c, e);
    }
    pthread_mutex_unlock(&c->mu);
}

void ttlcache_put_text(ttlcache_t *c, const char *key, const char *text, uint64_t ttl_ms)
{
    if (!text || ttl_ms == 0) {
        ttlcache_remove(c, key);
        return;
    }
    uint64_t h = hash_key(key);
    char *copy = strdup(text), *kcopy = strdup(key);
    entry_t *fresh = calloc(1, sizeof *fresh);
    pthread_mutex_lock(&c->mu);
    entry_t *e = *find_slot(c, key, h);
    if (e && !e->flight) { /* the old text goes, even when the new one cannot be stored */
        remove_entry(c, e);
        e = NULL;
    }
    if (!e && copy && kcopy && fresh) { /* (e set: a single-flight lookup owns the key) */
        fresh->key = kcopy;
        fresh->hash = h;
        fresh->text = copy;
        fresh->expires = c->clock(c->clock_ctx) + ttl_ms;
        fresh->hnext = c->buckets[h & (c->nbuckets - 1)];
        c->buckets[h & (c->nbuckets - 1)] = fresh;
        store_entry(c, fresh);
        copy = kcopy = NULL;
        fresh = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    secret_free(copy);
    free(kcopy);
    free(fresh);
}

char *ttlcache_get_text(ttlcache_t *c, const char *key)
{
    uint64_t h = hash_key(key);
    char *res = NULL;
    pthread_mutex_lock(&c->mu);
    entry_t *e = *find_slot(c, key, h);
    if (e && !e->flight && e->text) {
        if (c->clock(c->clock_ctx) < e->expires) {
            res = strdup(e->text);
            lru_touch(&c->uses, &e->use);
        } else {
            remove_entry(c, e);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return res;
}

void ttlcache_put_failure(ttlcache_t *c, const char *key, const char *reason, uint64_t ttl_ms)
{
    char text[FAILURE_MAX];
    snprintf(text, sizeof text, "%llu %s", (unsigned long long)c->clock(c->clock_ctx), reason);
    ttlcache_put_text(c, key, text, ttl_ms);
}

char *ttlcache_get_failure(ttlcache_t *c, const char *key, unsigned long long *ago_s)
{
    char *text = ttlcache_get_text(c, key);
    if (!text)
        return NULL;
    char *sp = NULL;
    unsigned long long at = strtoull(text, &sp, 10);
    uint64_t now = c->clock(c->clock_ctx);
    *ago_s = now > at ? (now - at + 500) / 1000 : 0;
    const char *reason = sp && *sp == ' ' ? sp + 1 : "";
    memmove(text, reason, strlen(reason) + 1);
    return text;
}

void ttlcache_remove(ttlcache_t *c, const char *key)
{
    uint64_t h = hash_key(key);
    pthread_mutex_lock(&c->mu);
    entry_t *e = *find_slot(c, key, h);
    if (e && !e->flight)
        remove_entry(c, e);
    pthread_mutex_unlock(&c->mu);
}

size_t ttlcache_waiting(ttlcache_t *c, const char *key)
{
    uint64_t h = hash_key(key);
    pthread_mutex_lock(&c->mu);
    entry_t *e = *find_slot(c, key, h);
    size_t n = e && e->flight ? e->flight->refs - 1 : 0;
    pthread_mutex_unlock(&c->mu);
    return n;
}

size_t ttlcache_count(ttlcache_t *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->count;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void ttlcache_unref(ttlcache_t *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    unsigned left = --c->refs;
    pthread_mutex_unlock(&c->mu);
    if (left)
        return;
    /* In-flight entries cannot exist here: their owners hold a reference
     * through the object that owns the cache. Free everything left. */
    for (size_t i = 0; i < c->nbuckets; i++) {
        entry_t *e = c->buckets[i];
        while (e) {
            entry_t *nx = e->hnext;
            if (e->flight)
                flight_release(e->flight);
            free_entry(e);
            e = nx;
        }
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}
