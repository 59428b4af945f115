/* lrulist: the use list of a bounded cache, from the most to the least
 * recently used (specache, ttlcache). Intrusive: an entry holds an
 * lru_link_t and LRU_ENTRY finds the entry again. Header only, pure. */
#ifndef WH_LRULIST_H
#define WH_LRULIST_H

#include <stddef.h>

typedef struct lru_link {
    struct lru_link *newer, *older;
} lru_link_t;

typedef struct {
    lru_link_t *newest, *oldest;
} lru_list_t;

/* The entry of TYPE whose MEMBER (an lru_link_t) is at `link`; NULL stays NULL. */
#define LRU_ENTRY(link, type, member)                                                              \
    ((link) ? (type *)(void *)((char *)(link)-offsetof(type, member)) : (type *)NULL)

static inline void lru_unlink(lru_list_t *l, lru_link_t *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        l->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        l->oldest = e->newer;
    e->newer = e->older = NULL;
}

static inline void lru_push_newest(lru_list_t *l, lru_link_t *e)
{
    e->older = l->newest;
    e->newer = NULL;
    if (l->newest)
        l->newest->newer = e;
    l->newest = e;
    if (!l->oldest)
        l->oldest = e;
}

/* Makes a listed entry the newest. */
static inline void lru_touch(lru_list_t *l, lru_link_t *e)
{
    if (l->newest != e) {
        lru_unlink(l, e);
        lru_push_newest(l, e);
    }
}

#endif
