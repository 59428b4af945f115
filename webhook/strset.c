/* strset: a few strings compared one by one, then open addressing with
 * linear probing, FNV-1a hashes, at most half full (see strset.h). */
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

/* The slot of `s` among the small strings, or NULL. */
static strset_slot_t *small_slot(const strset_t *set, const char *s)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->small[i].s, s) == 0)
            return (strset_slot_t *)&set->small[i];
    return NULL;
}

static bool grow(strset_t *set)
{
    size_t cap = set->cap ? 2 * set->cap : 4 * STRSET_SMALL;
    if (cap > SIZE_MAX / sizeof(strset_slot_t))
        return false;
    strset_slot_t *slots = calloc(cap, sizeof(strset_slot_t));
    if (!slots)
        return false;
    strset_t bigger = {.slots = slots, .cap = cap, .count = set->count};
    const strset_slot_t *old = set->cap ? set->slots : set->small;
    size_t n = set->cap ? set->cap : set->count;
    for (size_t i = 0; i < n; i++)
        if (old[i].s)
            *slot_of(&bigger, old[i].s) = old[i];
    free(set->slots);
    *set = bigger;
    return true;
}

int strset_add(strset_t *set, const char *s, size_t value, size_t *existing)
{
    strset_slot_t *slot = NULL;
    if (!set->cap) {
        slot = small_slot(set, s);
        if (!slot && set->count < STRSET_SMALL) {
            set->small[set->count++] = (strset_slot_t){s, value};
            return 1;
        }
    }
    if (set->cap || !slot) {
        if ((set->count + 1) * 2 > set->cap && !grow(set))
            return -1;
        slot = slot_of(set, s);
    }
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
    const strset_slot_t *slot = set->cap ? slot_of(set, s) : small_slot(set, s);
    if (slot && slot->s && value)
        *value = slot->value;
    return slot && slot->s;
}

void strset_free(strset_t *set)
{
    free(set->slots);
    set->slots = NULL;
    set->cap = set->count = 0;
}
