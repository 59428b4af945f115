/* strlist: owned lists of strings (see strlist.h). */
#include "strlist.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

void strlist_free(strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

bool strlist_set(strlist_t *l, const char *const *items, size_t n)
{
    strlist_t nl = {NULL, 0};
    if (n) {
        nl.items = calloc(n, sizeof *nl.items);
        if (!nl.items)
            return false;
        for (size_t i = 0; i < n; i++, nl.n++) {
            if (!(nl.items[i] = strdup(items[i]))) {
                strlist_free(&nl);
                return false;
            }
        }
    }
    strlist_free(l);
    *l = nl;
    return true;
}

bool strlist_copy(strlist_t *dst, const strlist_t *src)
{
    dst->items = NULL;
    dst->n = 0;
    if (!src || src->n == 0)
        return true;
    return strlist_set(dst, (const char *const *)src->items, src->n);
}

bool strlist_contains(const strlist_t *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

char *strlist_join(const strlist_t *l, const char *sep)
{
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < l->n; i++)
        buf_printf(&b, "%s%s", i ? sep : "", l->items[i]);
    return buf_steal(&b); /* NULL when out of memory */
}
