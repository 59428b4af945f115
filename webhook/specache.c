/* specache: the cache of parsed ImageSpec annotations (see specache.h): a
 * hash table of entries chained per bucket, and a list from the most to
 * the least recently used. Each entry is one allocation: its header, its
 * specs, the annotation's text and the strings the specs point to. */
#include "specache.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lrulist.h"

#define WHY_MAX 512

typedef struct entry {
    lru_link_t use;      /* in the use list */
    struct entry *chain; /* the next entry of the same bucket */
    uint64_t hash;
    size_t bytes; /* the whole allocation */
    bool ok;
    const char *why;       /* !ok: the reason */
    imagespec_list_t list; /* ok: lent to callers */
    const char *text;      /* the annotation (NUL-terminated copy) */
    size_t len;
} entry_t;

struct specache {
    entry_t **buckets;
    size_t mask; /* buckets - 1 (a power of two minus one) */
    lru_list_t uses;
    size_t entries, bytes;
    size_t max_entries, max_bytes, max_text;
    unsigned long long hits, misses;
};

/* 8 bytes at a time: the annotation is hashed on every request. */
static uint64_t hash_text(const char *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15u ^ n;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9u;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0x94D049BB133111EBu;
    return h ^ (h >> 29);
}

specache_t *specache_new(size_t max_entries, size_t max_bytes, size_t max_text)
{
    if (!max_entries || !max_bytes || !max_text || max_entries > (SIZE_MAX >> 4))
        return NULL;
    specache_t *c = calloc(1, sizeof *c);
    size_t nb = 8;
    while (nb < 2 * max_entries)
        nb *= 2;
    if (!c || !(c->buckets = calloc(nb, sizeof *c->buckets))) {
        free(c);
        return NULL;
    }
    c->mask = nb - 1;
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    c->max_text = max_text;
    return c;
}

void specache_free(specache_t *c)
{
    if (!c)
        return;
    for (lru_link_t *l = c->uses.newest, *older; l; l = older) {
        older = l->older;
        free(LRU_ENTRY(l, entry_t, use));
    }
    free(c->buckets);
    free(c);
}

void specache_stats(const specache_t *c, specache_stats_t *st)
{
    *st = (specache_stats_t){c->entries, c->bytes, c->hits, c->misses};
}

static void evict_oldest(specache_t *c)
{
    entry_t *e = LRU_ENTRY(c->uses.oldest, entry_t, use);
    entry_t **at = &c->buckets[e->hash & c->mask];
    while (*at != e)
        at = &(*at)->chain;
    *at = e->chain;
    lru_unlink(&c->uses, &e->use);
    c->entries--;
    c->bytes -= e->bytes;
    free(e);
}

static entry_t *find(specache_t *c, uint64_t h, const char *text, size_t len)
{
    for (entry_t *e = c->buckets[h & c->mask]; e; e = e->chain)
        if (e->hash == h && e->len == len && memcmp(e->text, text, len) == 0)
            return e;
    return NULL;
}

static size_t str_room(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copies `s` to *at, moving *at past it; NULL stays NULL. */
static const char *put_str(char **at, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = memcpy(*at, s, n);
    *at += n;
    return d;
}

/* A new entry holding `text` and either the parsed list `l` (ok) or the
 * reason `why`; NULL when out of memory. */
static entry_t *make_entry(const char *text, size_t len, bool ok, const imagespec_list_t *l,
                           const char *why)
{
    size_t head = (sizeof(entry_t) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    size_t n = ok ? l->n : 0;
    size_t bytes = head + n * sizeof(imagespec_t) + len + 1 + (ok ? 0 : strlen(why) + 1);
    for (size_t i = 0; i < n; i++) {
        const imagespec_t *s = &l->specs[i];
        bytes += str_room(s->name) + str_room(s->builder) + str_room(s->pull_secret) +
                 str_room(s->given_name);
    }
    entry_t *e = malloc(bytes);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    imagespec_t *specs = (imagespec_t *)((char *)e + head);
    char *at = (char *)(specs + n);
    memcpy(at, text, len);
    at[len] = '\0';
    e->text = at;
    e->len = len;
    at += len + 1;
    e->bytes = bytes;
    e->ok = ok;
    if (!ok) {
        e->why = put_str(&at, why);
        return e;
    }
    for (size_t i = 0; i < n; i++) {
        const imagespec_t *s = &l->specs[i];
        specs[i] = *s;
        specs[i].json = NULL;
        specs[i].text = e->text + (s->text - text);
        specs[i].name = (char *)put_str(&at, s->name);
        specs[i].builder = put_str(&at, s->builder);
        specs[i].pull_secret = put_str(&at, s->pull_secret);
        specs[i].given_name = put_str(&at, s->given_name);
    }
    e->list = (imagespec_list_t){.root = NULL, .specs = specs, .n = n, .borrowed = true};
    return e;
}

static void insert(specache_t *c, entry_t *e, uint64_t h)
{
    while (c->entries && (c->entries >= c->max_entries || c->bytes + e->bytes > c->max_bytes))
        evict_oldest(c);
    e->hash = h;
    e->chain = c->buckets[h & c->mask];
    c->buckets[h & c->mask] = e;
    lru_push_newest(&c->uses, &e->use);
    c->entries++;
    c->bytes += e->bytes;
}

/* The entry's answer, as imagespec_parse gives it. */
static bool answer(const entry_t *e, imagespec_list_t *out, char *why, size_t whysz)
{
    if (e->ok) {
        *out = e->list;
        return true;
    }
    memset(out, 0, sizeof *out);
    if (whysz) {
        size_t n = strlen(e->why);
        n = n < whysz - 1 ? n : whysz - 1;
        memcpy(why, e->why, n);
        why[n] = '\0';
    }
    return false;
}

bool specache_parse(specache_t *c, const char *text, size_t len, imagespec_list_t *out, char *why,
                    size_t whysz)
{
    if (len > c->max_text)
        return imagespec_parse(text, len, out, why, whysz);
    uint64_t h = hash_text(text, len);
    entry_t *e = find(c, h, text, len);
    if (e) {
        c->hits++;
        lru_touch(&c->uses, &e->use);
        return answer(e, out, why, whysz);
    }
    c->misses++;
    char mine[WHY_MAX] = "";
    imagespec_list_t l;
    bool ok = imagespec_parse(text, len, &l, mine, sizeof mine);
    /* out of memory is no property of the text: not kept */
    e = ok || strcmp(mine, "out of memory") != 0 ? make_entry(text, len, ok, &l, mine) : NULL;
    if (!e || e->bytes > c->max_bytes) {
        free(e);
        if (!ok)
            return answer(&(entry_t){.why = mine}, out, why, whysz);
        *out = l; /* the caller's to free */
        return true;
    }
    imagespec_list_free(&l);
    insert(c, e, h);
    return answer(e, out, why, whysz);
}
