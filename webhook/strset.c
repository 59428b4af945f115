/* strset: open addressing with linear probing, FNV-1a hashes, at most half
 * full (see strset.h). */
#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

/* The slot of `s`, or the empty slot where it would go. */
static strset_slot_t *slot_of(const strset_t *set, const char *s)
{
    size_t mask = set->cap - 1, i = (size_t)hash_of(s) & mask;
    while (set->slots[i].s && strcmp(set->slots[i].s, s) != 0)
        i = (i + 1) & mask;
    return &set->slots[i];
}

static bool grow(strset_t *set)
{
    size_t cap = set->cap ? 2 * set->cap : 16;
    if (cap > SIZE_MAX / sizeof(strset_slot_t))
        return false;
    strset_t bigger = {calloc(cap, sizeof(strset_slot_t)), cap, set->count};
    if (!bigger.slots)
        return false;
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i].s)
            *slot_of(&bigger, set->slots[i].s) = set->slots[i];
    free(set->slots);
    *set = bigger;
    return true;
}

int strset_add(strset_t *set, const char *s, size_t value, size_t *existing)
{
    if ((set->count + 1) * 2 > set->cap && !grow(set))
        return -1;
    strset_slot_t *slot = slot_of(set, s);
    if (slot->s) {
        if (existing)
            *existing = slot->value;
        return 0;
    }
    slot->s = s;
    slot->value = value;
    set->count++;
    return 1;
}

bool strset_find(const strset_t *set, const char *s, size_t *value)
{
    if (!set->cap)
        return false;
    const strset_slot_t *slot = slot_of(set, s);
    if (slot->s && value)
        *value = slot->value;
    return slot->s != NULL;
}

void strset_free(strset_t *set)
{
    free(set->slots);
    set->slots = NULL;
    set->cap = set->count = 0;
}
