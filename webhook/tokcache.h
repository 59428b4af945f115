/* tokcache: the secrets a cloud credential provider fetched (access
 * tokens, refresh tokens), each kept under a key until shortly before it
 * expires, and fetched single-flight: while one thread fetches a key, the
 * others that need it wait (by their own deadline) for that answer, the
 * reason of a failure included, instead of asking the network again.
 * Failures are not kept. Secrets are wiped from memory when they go.
 * Bounded (LRU-free: the entry expiring first makes room). Thread-safe. */
#ifndef WH_TOKCACHE_H
#define WH_TOKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tokcache tokcache_t;

/* At most `capacity` keys (at least 1). NULL when out of memory. */
tokcache_t *tokcache_new(size_t capacity);
void tokcache_free(tokcache_t *c);

/* Fetches the secret for `key` by `deadline_ms` (clock_mono_ms): true with
 * *secret (caller frees) and *lifetime_ms, how long it stays valid from
 * now; false with a one-line reason in why. Called without any lock held. */
typedef bool (*tokcache_fetch_fn)(void *ctx, const char *key, uint64_t deadline_ms, char **secret,
                                  uint64_t *lifetime_ms, char *why, size_t whysz);

/* The secret under `key`: the stored one while it has more than a margin
 * of its lifetime left (a tenth, at most five minutes), else the answer of
 * a fetch (by this thread through fn, or by the thread already fetching).
 * True with *secret (caller wipes and frees); false with why. */
bool tokcache_get(tokcache_t *c, const char *key, uint64_t deadline_ms, tokcache_fetch_fn fn,
                  void *ctx, char **secret, char *why, size_t whysz);

/* Forgets the secret under `key` (it was refused). */
void tokcache_drop(tokcache_t *c, const char *key);

/* Fetches started so far (for tests and logs). */
unsigned long tokcache_fetches(tokcache_t *c);
/* Threads waiting for the fetch of `key` in flight (for tests). */
size_t tokcache_waiting(tokcache_t *c, const char *key);

#endif
