/* strset: a set of strings, each with a number, for the "seen before?" and
 * "which one has this name?" questions a request asks about its
 * containers, images and build names in linear time. The strings are
 * borrowed, not copied: they must outlive the set. Pure. */
#ifndef WH_STRSET_H
#define WH_STRSET_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *s; /* NULL: an empty slot */
    size_t value;
} strset_slot_t;

/* The first STRSET_SMALL strings are kept in the set itself and found by
 * comparing them one by one: a pod has a few containers, and a hash table
 * (an allocation, a hash of every string) costs more than that. Past them
 * the set becomes a hash table. */
#define STRSET_SMALL 8

typedef struct {
    strset_slot_t *slots; /* the hash table; NULL while cap is 0 */
    size_t cap;           /* a power of two, or 0: the strings are in `small` */
    size_t count;
    strset_slot_t small[STRSET_SMALL];
} strset_t;

#define STRSET_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0,                                                                                \
        {                                                                                          \
            {                                                                                      \
                NULL, 0                                                                            \
            }                                                                                      \
        }                                                                                          \
    }

/* Adds `s` with `value` unless it is there already. Returns 1 when added,
 * 0 when present (its number in *existing, when not NULL), -1 when out of
 * memory. */
int strset_add(strset_t *set, const char *s, size_t value, size_t *existing);

/* Whether `s` is in the set; its number in *value (when not NULL). */
bool strset_find(const strset_t *set, const char *s, size_t *value);

void strset_free(strset_t *set);

#endif
