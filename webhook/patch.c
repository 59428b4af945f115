/* patch: the JSON Patch steps that inject the build and record the
 * mutation (see patch.h for the order). */
#include "patch.h"

#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "jsonpatch.h"
#include "strset.h"

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

/* The pod's containers by name, and the first container that runs each
 * spec image by target: looked up in one step each, so that the builds cost
 * time linear in the pod. */
typedef struct {
    strset_t names, by_target, built;
    size_t bytes; /* the build containers' text so far */
} build_index_t;

static bool index_pod(const podscan_t *pod, build_index_t *ix)
{
    for (size_t j = 0; j < pod->n; j++) {
        const container_t *c = &pod->cs[j];
        if (strset_add(&ix->names, c->name, j, NULL) < 0)
            return false;
        if (c->target && c->spec >= 0 && strset_add(&ix->by_target, c->target, j, NULL) < 0)
            return false;
    }
    return true;
}

/* Adds the build container of `ct` (the n-th build, from 0) to `inits`. */
static patch_status_t add_build(const patch_input_t *in, build_index_t *ix, const container_t *ct,
                                size_t n, cJSON *inits, char *why, size_t whysz)
{
    char name[32];
    if (n == 0)
        snprintf(name, sizeof name, "%s", WH_BUILD_CONTAINER);
    else
        snprintf(name, sizeof name, "%s-%zu", WH_BUILD_CONTAINER, n + 1);
    if (strset_find(&ix->names, name, NULL)) {
        errmsg_set(why, whysz,
                   "the pod already has a container named \"%s\"; rename it so the image "
                   "build can be injected",
                   name);
        return PATCH_DENIED;
    }
    const imagespec_t *sp = &in->specs->specs[ct->spec];
    cJSON *c = inject_container(in->inject, name, sp->text, sp->text_len, ct->target);
    if (!c)
        return PATCH_OOM;
    ix->bytes += strlen(c->valuestring);
    if (in->max_bytes && ix->bytes > in->max_bytes) {
        cJSON_Delete(c);
        errmsg_set(why, whysz,
                   "the patch would be more than %zu bytes (the first %zu build containers "
                   "take %zu), over imageBuilder.limits.maxPatchBytes: build fewer images in "
                   "this pod or make the ImageSpec smaller",
                   in->max_bytes, n + 1, ix->bytes);
        return PATCH_DENIED;
    }
    if (!cJSON_AddItemToArray(inits, c)) {
        cJSON_Delete(c);
        return PATCH_OOM;
    }
    return PATCH_OK;
}

/* Fills `inits` with the build containers: build-image, build-image-2, ...
 * one per distinct target that needs a build, in the targets' order. */
static patch_status_t build_containers(const patch_input_t *in, cJSON *inits, size_t *n_builds,
                                       char *why, size_t whysz)
{
    build_index_t ix = {STRSET_INIT, STRSET_INIT, STRSET_INIT, 0};
    patch_status_t st = index_pod(in->pod, &ix) ? PATCH_OK : PATCH_OOM;
    for (size_t i = 0; st == PATCH_OK && i < in->n_targets; i++) {
        const target_t *t = &in->targets[i];
        size_t j;
        if (!t->build || !strset_find(&ix.by_target, t->target, &j))
            continue;
        int fresh = strset_add(&ix.built, t->target, i, NULL);
        if (fresh < 0)
            st = PATCH_OOM;
        else if (fresh)
            st = add_build(in, &ix, &in->pod->cs[j], (*n_builds)++, inits, why, whysz);
    }
    strset_free(&ix.names);
    strset_free(&ix.by_target);
    strset_free(&ix.built);
    return st;
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
