/* strlist: an owned list of strings (every item and the array are heap
 * copies), the type of the configuration's lists (domains, registries,
 * insecure hosts) and of their copies held by the live checks. */
#ifndef WH_STRLIST_H
#define WH_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **items;
    size_t n;
} strlist_t;

/* Frees every item and the array; leaves an empty list. */
void strlist_free(strlist_t *l);

/* Replaces the list with copies of items[0..n). On failure (out of memory)
 * returns false and leaves the list as it was. */
bool strlist_set(strlist_t *l, const char *const *items, size_t n);

/* Makes dst an independent copy of src (an empty one when src is NULL);
 * dst's previous contents are not freed. On failure dst is left empty. */
bool strlist_copy(strlist_t *dst, const strlist_t *src);

/* Whether the list holds exactly `s`. */
bool strlist_contains(const strlist_t *l, const char *s);

/* The items joined with `sep` in a new string (caller frees); NULL when out
 * of memory. */
char *strlist_join(const strlist_t *l, const char *sep);

#endif
