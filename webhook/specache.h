/* specache: parsed ImageSpec annotations kept by their exact text. The pods
 * of one task, and the hundreds of pods of a map task, carry the same
 * annotation: it is read (imagespec_parse) once, not once per pod. Pure.
 *
 * A cache is not shared between threads: each thread that decides owns
 * one (the server: one per event loop) and passes it in decide_opts_t.
 * Reading an annotation does not depend on the configuration, so a cache
 * stays right across configuration reloads.
 *
 * What a hit gives is what imagespec_parse gives for that text: the same
 * specs, or the same refusal with the same reason. Bounded: at most
 * `max_entries` annotations and `max_bytes` bytes of entries together; an
 * annotation longer than `max_text` bytes is read every time and never
 * kept, so that a tenant sending many large annotations evicts at most
 * the entries and cannot grow the cache past its bound. The entry used
 * least recently goes first. */
#ifndef WH_SPECACHE_H
#define WH_SPECACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "imagespec.h"

/* The server's bounds: a few hundred KiB per event loop at most. */
#define SPECACHE_MAX_ENTRIES 128
#define SPECACHE_MAX_BYTES   (512u * 1024)
#define SPECACHE_MAX_TEXT    (16u * 1024)

typedef struct specache specache_t;

/* NULL when out of memory or a bound is 0. */
specache_t *specache_new(size_t max_entries, size_t max_bytes, size_t max_text);
void specache_free(specache_t *c);

/* imagespec_parse(text, len, out, why, whysz), from the cache when it
 * holds `text`. A kept list is lent (out->borrowed; imagespec_list_free
 * only forgets it): it stays valid until the next specache_parse or
 * specache_free on `c`, and its specs' text points into the cache, not
 * into `text`. Reasons are at most 511 bytes, as imagespec_parse's. */
bool specache_parse(specache_t *c, const char *text, size_t len, imagespec_list_t *out, char *why,
                    size_t whysz);

typedef struct {
    size_t entries, bytes;
    unsigned long long hits, misses;
} specache_stats_t;

void specache_stats(const specache_t *c, specache_stats_t *st);

#endif
