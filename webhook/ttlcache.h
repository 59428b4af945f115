/* ttlcache: the bounded, thread-safe cache of the live checks, with
 * per-entry expiry and LRU eviction. It holds two kinds of values:
 *
 * - numbers looked up single-flight (the registry answers): the first
 *   thread to miss a key becomes its owner: it fetches the answer and hands
 *   it back with ttlcache_complete(). Threads that miss the same key
 *   meanwhile wait for that answer instead of asking the network again;
 * - texts stored and read directly (the registry authorization headers),
 *   wiped from memory when they go since they may be credentials.
 *
 * A cache is used for one kind. The clock is injected so expiry can be
 * tested without sleeping. */
#ifndef WH_TTLCACHE_H
#define WH_TTLCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds on a monotonic clock. */
typedef uint64_t (*ttlcache_clock_fn)(void *ctx);

typedef struct ttlcache ttlcache_t;

typedef enum {
    TTLC_HIT = 0, /* a live entry: *value is the answer */
    TTLC_FETCH,   /* the caller owns the lookup and must call ttlcache_complete() */
    TTLC_SHARED,  /* another thread's lookup finished while we waited: *value is its answer */
    TTLC_BUSY,    /* another thread's lookup did not finish within wait_ms */
} ttlc_result_t;

/* `capacity` entries at most (at least 1). `clock` NULL: clock_mono_ms() (clock.h).
 * Returns NULL when out of memory. The cache starts with one reference. */
ttlcache_t *ttlcache_new(size_t capacity, ttlcache_clock_fn clock, void *clock_ctx);
ttlcache_t *ttlcache_ref(ttlcache_t *c);
void ttlcache_unref(ttlcache_t *c);

/* Looks `key` up; see ttlc_result_t. `wait_ms` bounds the wait for a lookup
 * that another thread owns. On TTLC_FETCH, when the key cannot be recorded
 * (out of memory) the caller still fetches and ttlcache_complete() is a
 * harmless no-op. */
ttlc_result_t ttlcache_acquire(ttlcache_t *c, const char *key, int *value, unsigned wait_ms);

/* Publishes the owner's answer to waiters and stores it for `ttl_ms`
 * (0: not stored, only shared with the threads already waiting). */
void ttlcache_complete(ttlcache_t *c, const char *key, int value, uint64_t ttl_ms);

/* Stores a copy of `text` under `key` for `ttl_ms`, replacing what was
 * stored there (`text` NULL or `ttl_ms` 0: removes it). Out of memory:
 * nothing is stored. */
void ttlcache_put_text(ttlcache_t *c, const char *key, const char *text, uint64_t ttl_ms);
/* A copy of the unexpired text stored under `key` (the caller frees and
 * should wipe it), or NULL. */
char *ttlcache_get_text(ttlcache_t *c, const char *key);
/* Failures kept for a backoff, as texts: `key` failed now, for `reason`
 * (at most 480 bytes kept), and counts as failed for `ttl_ms`. */
void ttlcache_put_failure(ttlcache_t *c, const char *key, const char *reason, uint64_t ttl_ms);
/* While `key` counts as failed: a copy of its reason (the caller frees
 * it), and how long ago it failed, in seconds rounded; else NULL. */
char *ttlcache_get_failure(ttlcache_t *c, const char *key, unsigned long long *ago_s);

/* Drops the stored entry under `key`, if any. */
void ttlcache_remove(ttlcache_t *c, const char *key);

/* Threads waiting for the in-flight lookup of `key` (for tests). */
size_t ttlcache_waiting(ttlcache_t *c, const char *key);

/* Stored, unexpired-or-not entries (not counting lookups in flight). */
size_t ttlcache_count(ttlcache_t *c);

#endif
