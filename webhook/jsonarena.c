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
    char *end;
    _Alignas(16) char data[];
} chunk_t;

/* The newest chunk is t_head; while the arena is on, t_cur..t_end is what
 * is left of it (both NULL when off, or before the first chunk). Chunk
 * sizes and data are multiples of ALIGN, so t_end - t_cur is one too. */
static _Thread_local chunk_t *t_head;
static _Thread_local char *t_cur, *t_end;
static _Thread_local bool t_on;

/* Off (plain malloc), or the newest chunk has no room: a new chunk. */
static void *arena_malloc_slow(size_t n)
{
    if (!t_on)
        return malloc(n);
    if (n > SIZE_MAX - ALIGN - sizeof(chunk_t))
        return NULL;
    n = n ? (n + ALIGN - 1) & ~(size_t)(ALIGN - 1) : ALIGN;
    chunk_t *c = t_head;
    size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
    if (c && (size_t)(c->end - c->data) > cap / 2 && (size_t)(c->end - c->data) < SIZE_MAX / 4)
        cap = cap > 2 * (size_t)(c->end - c->data) ? cap : 2 * (size_t)(c->end - c->data);
    c = malloc(sizeof *c + cap);
    if (!c)
        return NULL;
    c->end = c->data + cap;
    c->next = t_head;
    t_head = c;
    t_cur = c->data + n;
    t_end = c->end;
    return c->data;
}

/* The common case in a few instructions: 1 <= n <= room. The room is a
 * multiple of ALIGN, so n rounded up fits as well. Off, the room is 0. */
static void *arena_malloc(size_t n)
{
    size_t room = (size_t)((uintptr_t)t_end - (uintptr_t)t_cur);
    if (n - 1 < room) {
        char *p = t_cur;
        t_cur = p + ((n + ALIGN - 1) & ~(size_t)(ALIGN - 1));
        return p;
    }
    return arena_malloc_slow(n);
}

/* A pointer that is not in the newest chunk: in an older one (a no-op
 * too), NULL, or heap memory to free. */
static void arena_free_slow(void *p)
{
    if (!p)
        return;
    for (const chunk_t *c = t_head ? t_head->next : NULL; c; c = c->next)
        if ((const char *)p >= c->data && (const char *)p < c->end)
            return;
    free(p);
}

/* Nearly every pointer freed in the arena is in the newest chunk: one
 * unsigned comparison says so. */
static void arena_free(void *p)
{
    const chunk_t *c = t_head;
    if (c && (uintptr_t)p - (uintptr_t)c->data < (uintptr_t)c->end - (uintptr_t)c->data)
        return;
    arena_free_slow(p);
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
    if (t_on)
        return;
    t_on = true;
    if (t_head) {
        t_cur = t_head->data;
        t_end = t_head->end;
    }
}

void jsonarena_end(void)
{
    t_on = false;
    t_cur = t_end = NULL;
    while (t_head && t_head->next) {
        chunk_t *c = t_head;
        t_head = c->next;
        free(c);
    }
}

void jsonarena_release(void)
{
    jsonarena_end();
    free(t_head);
    t_head = NULL;
}

/* A review parsed outside an arena (a large one answered on its loop when
 * its live checks are late, or with live checks on) costs a malloc per
 * node: tens of MiB for the largest, in blocks under M_MMAP_THRESHOLD, from
 * the calling thread's heap. Once freed they stay resident (a live block
 * above them keeps the heap from shrinking), and libh2o's later body
 * buffers and body copies, though past the threshold, are then carved
 * from that free space instead of mmap. malloc_trim gives the free pages
 * of every heap back, so each large review starts from the same resident
 * set whatever came before. */
void jsonarena_trim(void)
{
#ifdef __GLIBC__
    (void)malloc_trim(0);
#endif
}
