/* podscan: reading a pod's containers and matching their images to the
 * ImageSpecs and logical registries (see podscan.h). */
#include "podscan.h"

#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "strset.h"

static podscan_status_t read_array(podscan_t *ps, const cJSON *spec, const char *key, bool init,
                                   char *why, size_t whysz)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, key);
    if (!arr || cJSON_IsNull(arr))
        return PODSCAN_OK;
    if (!cJSON_IsArray(arr)) {
        errmsg_set(why, whysz, "spec.%s must be an array of containers", key);
        return PODSCAN_MALFORMED;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    container_t *cs = realloc(ps->cs, (ps->n + n + 1) * sizeof *cs);
    if (!cs)
        return PODSCAN_OOM;
    ps->cs = cs;
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, arr)
    {
        container_t *ct = &ps->cs[ps->n];
        memset(ct, 0, sizeof *ct);
        ct->init = init;
        ct->index = i++;
        ct->spec = PODSCAN_SPEC_NONE;
        if (!cJSON_IsObject(c)) {
            errmsg_set(why, whysz, "spec.%s[%zu] must be an object", key, ct->index);
            return PODSCAN_MALFORMED;
        }
        ct->name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        const cJSON *img = cJSON_GetObjectItemCaseSensitive(c, "image");
        if (img && !cJSON_IsString(img) && !cJSON_IsNull(img)) {
            errmsg_set(why, whysz, "spec.%s[%zu].image must be a string", key, ct->index);
            return PODSCAN_MALFORMED;
        }
        ct->image = cJSON_GetStringValue(img);
        if (!ct->name)
            ct->name = "";
        ps->n++;
    }
    return PODSCAN_OK;
}

size_t podscan_count(const cJSON *spec)
{
    size_t n = 0;
    const char *keys[] = {"initContainers", "containers"};
    for (size_t k = 0; k < 2; k++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, keys[k]);
        if (cJSON_IsArray(arr))
            n += (size_t)cJSON_GetArraySize(arr);
    }
    return n;
}

podscan_status_t podscan_read(const cJSON *spec, podscan_t *out, char *why, size_t whysz)
{
    podscan_status_t st = read_array(out, spec, "initContainers", true, why, whysz);
    if (st == PODSCAN_OK)
        st = read_array(out, spec, "containers", false, why, whysz);
    return st;
}

/* Whether `v` is "<prefix>/<rest>" with a non-empty rest. */
static bool sv_has_prefix_slash(strview_t v, const char *prefix, strview_t *rest)
{
    size_t n = strlen(prefix);
    if (v.n <= n + 1 || memcmp(v.p, prefix, n) != 0 || v.p[n] != '/')
        return false;
    rest->p = v.p + n + 1;
    rest->n = v.n - n - 1;
    return true;
}

/* Finds which spec (or logical registry) a container image belongs to. */
static void match_container(container_t *ct, const imagespec_list_t *specs,
                            const strlist_t *logical)
{
    if (!ct->image || imageref_parse(ct->image, strlen(ct->image), &ct->ref) != IMAGEREF_OK)
        return;
    strview_t name = ct->ref.name, rest;
    for (size_t s = 0; s < specs->n; s++) {
        const imagespec_t *sp = &specs->specs[s];
        if (!sp->is_union)
            continue;
        size_t nl = strlen(sp->name);
        if (strview_eq(name, sp->name, nl)) {
            ct->spec = (int)s;
            return;
        }
        if (sp->has_registry && sv_has_prefix_slash(name, sp->registry, &rest) &&
            strview_eq(rest, sp->name, nl)) {
            ct->spec = (int)s;
            return;
        }
        for (size_t l = 0; l < logical->n; l++) {
            if (sv_has_prefix_slash(name, logical->items[l], &rest) &&
                strview_eq(rest, sp->name, nl)) {
                ct->spec = (int)s;
                return;
            }
        }
    }
    for (size_t l = 0; l < logical->n; l++) {
        if (sv_has_prefix_slash(name, logical->items[l], &rest)) {
            ct->spec = PODSCAN_SPEC_LOGICAL;
            ct->logical = rest;
            return;
        }
    }
}

void podscan_match(podscan_t *ps, const imagespec_list_t *specs,
                   const strlist_t *logical_registries)
{
    for (size_t i = 0; i < ps->n; i++)
        match_container(&ps->cs[i], specs, logical_registries);
}

bool podscan_uses_logical(const cJSON *spec, const strlist_t *logical_registries)
{
    static const char *const keys[] = {"initContainers", "containers"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, keys[k]), *c;
        if (!cJSON_IsArray(arr))
            continue;
        cJSON_ArrayForEach(c, arr)
        {
            const char *img = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "image"));
            imageref_t ref;
            strview_t rest;
            if (!cJSON_IsObject(c) || !img || imageref_parse(img, strlen(img), &ref) != IMAGEREF_OK)
                continue;
            for (size_t l = 0; l < logical_registries->n; l++)
                if (sv_has_prefix_slash(ref.name, logical_registries->items[l], &rest))
                    return true;
        }
    }
    return false;
}

bool podscan_spec_targets(const podscan_t *ps, size_t *n)
{
    strset_t seen = STRSET_INIT;
    bool ok = true;
    for (size_t i = 0; ok && i < ps->n; i++)
        if (ps->cs[i].spec >= 0 && ps->cs[i].target)
            ok = strset_add(&seen, ps->cs[i].target, i, NULL) >= 0;
    *n = seen.count;
    strset_free(&seen);
    return ok;
}

bool podscan_name_taken(const podscan_t *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->cs[i].name, name) == 0)
            return true;
    return false;
}

void podscan_free(podscan_t *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        free(ps->cs[i].target);
    free(ps->cs);
    ps->cs = NULL;
    ps->n = 0;
}
