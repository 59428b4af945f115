/* tokcache: cloud secrets kept until shortly before they expire, fetched
 * single-flight (see tokcache.h). */
#include "tokcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errmsg.h"
#include "secret.h"

#define KEY_MAX       1024
#define WHY_MAX       224
#define MAX_MARGIN_MS (5u * 60u * 1000u)

typedef struct {
    bool used;
    char key[KEY_MAX];
    char *secret;
    uint64_t refresh_at; /* clock_mono_ms() after which it is fetched again */
    bool fetching;
    unsigned gen;   /* completed fetches */
    size_t waiting; /* threads waiting for the fetch in flight */
    bool last_ok;
    char why[WHY_MAX]; /* the last failure's reason */
} entry_t;

struct tokcache {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC: a fetch completed */
    entry_t *e;
    size_t cap;
    unsigned long fetches;
};

tokcache_t *tokcache_new(size_t capacity)
{
    tokcache_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cap = capacity ? capacity : 1;
    if (!(c->e = calloc(c->cap, sizeof *c->e))) {
        free(c);
        return NULL;
    }
    pthread_condattr_t ca;
    bool ok = pthread_condattr_init(&ca) == 0;
    if (ok) {
        ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&c->cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (ok && pthread_mutex_init(&c->mu, NULL) != 0) {
        pthread_cond_destroy(&c->cv);
        ok = false;
    }
    if (!ok) {
        free(c->e);
        free(c);
        return NULL;
    }
    return c;
}

void tokcache_free(tokcache_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->cap; i++)
        secret_free(c->e[i].secret);
    free(c->e);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

static entry_t *find(tokcache_t *c, const char *key)
{
    for (size_t i = 0; i < c->cap; i++)
        if (c->e[i].used && strcmp(c->e[i].key, key) == 0)
            return &c->e[i];
    return NULL;
}

/* A free entry for `key`, else the one due first among those nobody
 * fetches or waits for; NULL when there is none. */
static entry_t *claim(tokcache_t *c, const char *key)
{
    entry_t *best = NULL;
    for (size_t i = 0; i < c->cap; i++) {
        entry_t *e = &c->e[i];
        if (!e->used) {
            best = e;
            break;
        }
        if (!e->fetching && !e->waiting && (!best || e->refresh_at < best->refresh_at))
            best = e;
    }
    if (!best)
        return NULL;
    secret_free(best->secret);
    memset(best, 0, sizeof *best);
    best->used = true;
    snprintf(best->key, sizeof best->key, "%s", key);
    return best;
}

static bool copy_out(const entry_t *e, char **secret, char *why, size_t whysz)
{
    if (!e->last_ok || !e->secret) {
        errmsg_set(why, whysz, "%s", e->why);
        return false;
    }
    if (!(*secret = strdup(e->secret))) {
        errmsg_set(why, whysz, "out of memory");
        return false;
    }
    return true;
}

/* Fetches as the owner of `e` (NULL: no room to keep the answer). Called
 * and returns with c->mu held. */
static bool fetch(tokcache_t *c, entry_t *e, const char *key, uint64_t deadline_ms,
                  tokcache_fetch_fn fn, void *ctx, char **secret, char *why, size_t whysz)
{
    if (e)
        e->fetching = true;
    c->fetches++;
    pthread_mutex_unlock(&c->mu);
    char *got = NULL;
    uint64_t life = 0;
    char reason[WHY_MAX] = "";
    bool ok = fn(ctx, key, deadline_ms, &got, &life, reason, sizeof reason);
    pthread_mutex_lock(&c->mu);
    if (ok && !(*secret = strdup(got))) {
        ok = false;
        errmsg_set(reason, sizeof reason, "out of memory");
    }
    if (!ok)
        errmsg_set(why, whysz, "%s", reason);
    if (e) {
        e->fetching = false;
        e->gen++;
        e->last_ok = ok;
        snprintf(e->why, sizeof e->why, "%s", reason);
        secret_free(e->secret);
        e->secret = ok ? got : NULL;
        got = NULL;
        uint64_t margin = life / 10 < MAX_MARGIN_MS ? life / 10 : MAX_MARGIN_MS;
        e->refresh_at = clock_mono_ms() + life - margin;
        pthread_cond_broadcast(&c->cv);
    }
    secret_free(got);
    return ok;
}

/* Waits (c->mu held) for the fetch of `e` in flight to complete; an entry
 * with waiters is never given to another key. */
static bool wait_for(tokcache_t *c, entry_t *e, uint64_t deadline_ms, char **secret, char *why,
                     size_t whysz)
{
    unsigned gen = e->gen;
    struct timespec until = clock_mono_timespec(deadline_ms);
    int rc = 0;
    e->waiting++;
    while (rc == 0 && e->gen == gen)
        rc = pthread_cond_timedwait(&c->cv, &c->mu, &until);
    e->waiting--;
    if (e->gen != gen)
        return copy_out(e, secret, why, whysz);
    errmsg_set(why, whysz, "%s waiting for a concurrent request for the same credentials",
               rc == ETIMEDOUT ? "timed out" : "failed");
    return false;
}

bool tokcache_get(tokcache_t *c, const char *key, uint64_t deadline_ms, tokcache_fetch_fn fn,
                  void *ctx, char **secret, char *why, size_t whysz)
{
    *secret = NULL;
    if (strlen(key) >= KEY_MAX) {
        errmsg_set(why, whysz, "credential key too long");
        return false;
    }
    pthread_mutex_lock(&c->mu);
    bool ok;
    entry_t *e = find(c, key);
    if (e && e->secret && clock_mono_ms() < e->refresh_at)
        ok = copy_out(e, secret, why, whysz);
    else if (e && e->fetching)
        ok = wait_for(c, e, deadline_ms, secret, why, whysz);
    else
        ok = fetch(c, e ? e : claim(c, key), key, deadline_ms, fn, ctx, secret, why, whysz);
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void tokcache_drop(tokcache_t *c, const char *key)
{
    pthread_mutex_lock(&c->mu);
    entry_t *e = find(c, key);
    if (e && !e->fetching) {
        secret_free(e->secret);
        e->secret = NULL;
        e->refresh_at = 0;
    }
    pthread_mutex_unlock(&c->mu);
}

unsigned long tokcache_fetches(tokcache_t *c)
{
    pthread_mutex_lock(&c->mu);
    unsigned long n = c->fetches;
    pthread_mutex_unlock(&c->mu);
    return n;
}

size_t tokcache_waiting(tokcache_t *c, const char *key)
{
    pthread_mutex_lock(&c->mu);
    entry_t *e = find(c, key);
    size_t n = e ? e->waiting : 0;
    pthread_mutex_unlock(&c->mu);
    return n;
}
