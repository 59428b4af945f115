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

typedef struct {
    strset_slot_t *slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
} strset_t;

#define STRSET_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Adds `s` with `value` unless it is there already. Returns 1 when added,
 * 0 when present (its number in *existing, when not NULL), -1 when out of
 * memory. */
int strset_add(strset_t *set, const char *s, size_t value, size_t *existing);

/* Whether `s` is in the set; its number in *value (when not NULL). */
bool strset_find(const strset_t *set, const char *s, size_t *value);

void strset_free(strset_t *set);

#endif
