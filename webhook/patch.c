/* patch: the JSON Patch steps that inject the build and record the
 * mutation (see patch.h for the order). */
#include "patch.h"

#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "jsonpatch.h"

/* Adds the members of `members` (an object, consumed) to metadata.<field>:
 * the whole object when the field is absent, else one op per member. */
static bool add_members(cJSON *ops, const cJSON *existing, const char *field, cJSON *members)
{
    if (!existing || cJSON_IsNull(existing)) {
        const char *t[] = {"metadata", field, NULL};
        return jsonpatch_append(ops, "add", members, t);
    }
    bool ok = true;
    for (cJSON *m = members->child; ok && m; m = m->next) {
        const char *t[] = {"metadata", field, m->string, NULL};
        ok = jsonpatch_append(ops, "add", cJSON_Duplicate(m, true), t);
    }
    cJSON_Delete(members);
    return ok;
}

/* Inserts the array `items` (consumed) at the front of the pod array
 * <a>.<b> (e.g. spec, initContainers), or appends when `append`. */
static bool add_items(cJSON *ops, const cJSON *existing, const char *a, const char *b, cJSON *items,
                      bool append)
{
    if (!existing || !cJSON_IsArray(existing)) {
        const char *t[] = {a, b, NULL};
        return jsonpatch_append(ops, "add", items, t);
    }
    bool ok = true;
    size_t i = 0;
    cJSON *it;
    while (ok && (it = items->child) != NULL) {
        cJSON_DetachItemViaPointer(items, it);
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i++);
        const char *t[] = {a, b, append ? "-" : idx, NULL};
        ok = jsonpatch_append(ops, "add", it, t);
    }
    cJSON_Delete(items);
    return ok;
}

static bool volume_taken(const cJSON *vols, const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, vols)
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "name"));
        if (n && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

bool patch_metadata(cJSON *ops, const cJSON *meta)
{
    if (meta)
        return true;
    const char *t[] = {"metadata", NULL};
    return jsonpatch_append(ops, "add", cJSON_CreateObject(), t);
}

bool patch_rewrites(cJSON *ops, const podscan_t *pod)
{
    bool ok = true;
    for (size_t i = 0; ok && i < pod->n; i++) {
        const container_t *ct = &pod->cs[i];
        if (!ct->target || strcmp(ct->target, ct->image) == 0)
            continue;
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", ct->index);
        const char *t[] = {"spec", ct->init ? "initContainers" : "containers", idx, "image", NULL};
        ok = jsonpatch_append(ops, "replace", cJSON_CreateString(ct->target), t);
    }
    return ok;
}

/* The container of the pod that runs spec image `target`, NULL when none. */
static const container_t *spec_container(const podscan_t *pod, const char *target)
{
    for (size_t j = 0; j < pod->n; j++)
        if (pod->cs[j].target && strcmp(pod->cs[j].target, target) == 0 && pod->cs[j].spec >= 0)
            return &pod->cs[j];
    return NULL;
}

/* Fills `inits` with the build containers: build-image, build-image-2, ...
 * one per distinct target that needs a build. */
static patch_status_t build_containers(const patch_input_t *in, cJSON *inits, size_t *n_builds,
                                       char *why, size_t whysz)
{
    bool ok = true;
    for (size_t i = 0; ok && i < in->n_targets; i++) {
        const target_t *t = &in->targets[i];
        if (!t->build)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen = seen || (in->targets[j].build && strcmp(in->targets[j].target, t->target) == 0);
        if (seen)
            continue;
        const container_t *ct = spec_container(in->pod, t->target);
        if (!ct)
            continue;
        char name[32];
        if (*n_builds == 0)
            snprintf(name, sizeof name, "%s", WH_BUILD_CONTAINER);
        else
            snprintf(name, sizeof name, "%s-%zu", WH_BUILD_CONTAINER, *n_builds + 1);
        if (podscan_name_taken(in->pod, name)) {
            errmsg_set(why, whysz,
                       "the pod already has a container named \"%s\"; rename it so the image "
                       "build can be injected",
                       name);
            return PATCH_DENIED;
        }
        cJSON *c = inject_container(in->inject, name, in->specs->specs[ct->spec].json, t->target);
        ok = c && cJSON_AddItemToArray(inits, c);
        if (c && !ok)
            cJSON_Delete(c);
        (*n_builds)++;
    }
    return ok ? PATCH_OK : PATCH_OOM;
}

patch_status_t patch_builds(cJSON *ops, const patch_input_t *in, size_t *n_builds, char *why,
                            size_t whysz)
{
    *n_builds = 0;
    cJSON *inits = cJSON_CreateArray();
    patch_status_t st = build_containers(in, inits, n_builds, why, whysz);
    if (st != PATCH_OK || *n_builds == 0) {
        cJSON_Delete(inits);
        return st;
    }
    const cJSON *vols = cJSON_GetObjectItemCaseSensitive(in->spec, "volumes");
    if (vols && !cJSON_IsArray(vols)) {
        cJSON_Delete(inits);
        errmsg_set(why, whysz, "spec.volumes must be an array");
        return PATCH_DENIED;
    }
    const char *clash = volume_taken(vols, WH_VOL_TOKEN)     ? WH_VOL_TOKEN
                        : volume_taken(vols, WH_VOL_STORAGE) ? WH_VOL_STORAGE
                                                             : NULL;
    if (clash) {
        cJSON_Delete(inits);
        errmsg_set(why, whysz,
                   "the pod already has a volume named \"%s\"; rename it so the image build can "
                   "be injected",
                   clash);
        return PATCH_DENIED;
    }
    cJSON *new_vols = inject_volumes(in->inject);
    if (!new_vols || !add_items(ops, vols, "spec", "volumes", new_vols, true)) {
        cJSON_Delete(inits);
        return PATCH_OOM;
    }
    if (!add_items(ops, cJSON_GetObjectItemCaseSensitive(in->spec, "initContainers"), "spec",
                   "initContainers", inits, false))
        return PATCH_OOM;
    return PATCH_OK;
}

bool patch_identity(cJSON *ops, const cJSON *meta)
{
    cJSON *labels = cJSON_CreateObject();
    cJSON_AddStringToObject(labels, "azure.workload.identity/use", "true");
    return labels &&
           add_members(ops, cJSON_GetObjectItemCaseSensitive(meta, "labels"), "labels", labels);
}

bool patch_annotations(cJSON *ops, const patch_input_t *in, size_t n_builds, cJSON **audit)
{
    *audit = NULL;
    cJSON *targets = cJSON_CreateObject();
    for (size_t i = 0; i < in->n_targets; i++)
        cJSON_AddStringToObject(targets, in->targets[i].container, in->targets[i].target);
    char *targets_json = cJSON_PrintUnformatted(targets);
    cJSON_Delete(targets);
    if (!targets_json)
        return false;
    cJSON *annots = cJSON_CreateObject();
    cJSON_AddStringToObject(annots, WH_ANNOT_MUTATED, "true");
    cJSON_AddStringToObject(annots, WH_ANNOT_TARGETS, targets_json);
    bool ok = annots && add_members(ops, cJSON_GetObjectItemCaseSensitive(in->meta, "annotations"),
                                    "annotations", annots);
    *audit = cJSON_CreateObject();
    cJSON_AddStringToObject(*audit, "mutated", "true");
    cJSON_AddStringToObject(*audit, "target-images", targets_json);
    char builds[24];
    snprintf(builds, sizeof builds, "%zu", n_builds);
    cJSON_AddStringToObject(*audit, "builds", builds);
    cJSON_free(targets_json);
    return ok && *audit;
}

patch_status_t patch_build(const patch_input_t *in, cJSON **ops_out, cJSON **audit_out, char *why,
                           size_t whysz)
{
    *ops_out = *audit_out = NULL;
    cJSON *ops = cJSON_CreateArray(), *audit = NULL;
    if (!ops)
        return PATCH_OOM;
    size_t n_builds = 0;
    patch_status_t st = PATCH_OOM;
    if (patch_metadata(ops, in->meta) && patch_rewrites(ops, in->pod))
        st = patch_builds(ops, in, &n_builds, why, whysz);
    if (st == PATCH_OK && n_builds && in->azure && !patch_identity(ops, in->meta))
        st = PATCH_OOM;
    if (st == PATCH_OK && !patch_annotations(ops, in, n_builds, &audit))
        st = PATCH_OOM;
    if (st != PATCH_OK) {
        cJSON_Delete(ops);
        cJSON_Delete(audit);
        return st;
    }
    *ops_out = ops;
    *audit_out = audit;
    return PATCH_OK;
}
