/* jsonarena: per-thread bump arena for cJSON (see jsonarena.h). */
#include "jsonarena.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <cjson/cJSON.h>

#define CHUNK_MIN (128u * 1024)
#define ALIGN     16u

typedef struct chunk {
    struct chunk *next;
    char *cur, *end;
    _Alignas(16) char data[];
} chunk_t;

static _Thread_local chunk_t *t_head;
static _Thread_local bool t_on;

static void *arena_malloc(size_t n)
{
    if (!t_on)
        return malloc(n);
    if (n > SIZE_MAX - ALIGN - sizeof(chunk_t))
        return NULL;
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    chunk_t *c = t_head;
    if (!c || (size_t)(c->end - c->cur) < n) {
        size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
        if (c && (size_t)(c->end - c->data) > cap / 2 && (size_t)(c->end - c->data) < SIZE_MAX / 4)
            cap = cap > 2 * (size_t)(c->end - c->data) ? cap : 2 * (size_t)(c->end - c->data);
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->cur = c->data;
        c->end = c->data + cap;
        c->next = t_head;
        t_head = c;
    }
    void *p = c->cur;
    c->cur += n;
    return p;
}

static bool in_arena(const void *p)
{
    /* nearly every pointer is in the newest chunk */
    if (t_head && (const char *)p >= t_head->data && (const char *)p < t_head->end)
        return true;
    for (const chunk_t *c = t_head ? t_head->next : NULL; c; c = c->next)
        if ((const char *)p >= c->data && (const char *)p < c->end)
            return true;
    return false;
}

static void arena_free(void *p)
{
    if (p && !in_arena(p))
        free(p);
}

void jsonarena_install(void)
{
    cJSON_Hooks h = {arena_malloc, arena_free};
    cJSON_InitHooks(&h);
#ifdef __GLIBC__
    /* Blocks of 256 KiB and more (the arena's larger chunks, large request
     * bodies) come from mmap and go back to the system when freed. Left to
     * itself glibc raises this threshold after the first such block is
     * freed, and the memory of a large review then stays resident in some
     * thread's heap after it is answered. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
}

void jsonarena_begin(void)
{
    t_on = true;
}

void jsonarena_end(void)
{
    t_on = false;
    while (t_head && t_head->next) {
        chunk_t *c = t_head;
        t_head = c->next;
        free(c);
    }
    if (t_head)
        t_head->cur = t_head->data;
}

void jsonarena_release(void)
{
    jsonarena_end();
    free(t_head);
    t_head = NULL;
}
