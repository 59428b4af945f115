/* patch: the JSON Patch steps that inject the build and record the
 * mutation (see patch.h for the order). */
#include "patch.h"

#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "jsonout.h"
#include "jsonpatch.h"
#include "strset.h"

/* Writes `v` in decimal at `out` (room for 21 bytes) with a NUL; its
 * length. snprintf does the same at several times the cost. */
static size_t put_dec(char *out, size_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* A member of an object the patch adds: a string value. */
typedef struct {
    const char *key;
    const char *value;
    size_t value_len;
} member_t;

/* Adds `members` to metadata.<field>: the whole object when the field is
 * absent, else one op per member. */
static bool add_members(jsonpatch_t *ops, const cJSON *existing, const char *field,
                        const member_t *members, size_t n)
{
    buf_t *b = &ops->text;
    if (!existing || cJSON_IsNull(existing)) {
        const char *t[] = {"metadata", field, NULL};
        jsonpatch_begin(ops, "add", t, true);
        for (size_t i = 0; i < n; i++) {
            buf_putc(b, i ? ',' : '{');
            json_put_str(b, members[i].key);
            buf_putc(b, ':');
            json_put_string(b, members[i].value, members[i].value_len);
        }
        buf_puts(b, n ? "}" : "{}");
        return jsonpatch_end(ops);
    }
    for (size_t i = 0; i < n; i++) {
        const char *t[] = {"metadata", field, members[i].key, NULL};
        jsonpatch_begin(ops, "add", t, true);
        json_put_string(b, members[i].value, members[i].value_len);
        jsonpatch_end(ops);
    }
    return !b->oom;
}

/* Writes item i of an array the patch adds as a value. */
typedef bool put_item_fn(jsonpatch_t *ops, const void *ctx, size_t i);

/* Inserts the n items at the front of the pod array <a>.<b> (e.g. spec,
 * initContainers). Where the array is missing
 * the op adds it whole, begun by `head` when not NULL (the constant of
 * that op up to the array's "[", inject.h). */
static bool add_items(jsonpatch_t *ops, const cJSON *existing, const char *a, const char *b,
                      put_item_fn *put, const void *ctx, size_t n, const base64_const_t *head)
{
    if (!existing || !cJSON_IsArray(existing)) {
        if (head) {
            jsonpatch_begin_const(ops, head);
        } else {
            const char *t[] = {a, b, NULL};
            jsonpatch_begin(ops, "add", t, true);
            buf_putc(&ops->text, '[');
        }
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_putc(&ops->text, ',');
            put(ops, ctx, i);
        }
        buf_putc(&ops->text, ']');
        return jsonpatch_end(ops);
    }
    for (size_t i = 0; i < n; i++) {
        char idx[24];
        put_dec(idx, i);
        const char *t[] = {a, b, idx, NULL};
        jsonpatch_begin(ops, "add", t, true);
        put(ops, ctx, i);
        jsonpatch_end(ops);
    }
    return !ops->text.oom;
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

bool patch_metadata(jsonpatch_t *ops, const cJSON *meta)
{
    if (meta)
        return true;
    const char *t[] = {"metadata", NULL};
    return jsonpatch_op(ops, "add", t, "{}", 2);
}

bool patch_rewrites(jsonpatch_t *ops, const podscan_t *pod)
{
    bool ok = true;
    for (size_t i = 0; ok && i < pod->n; i++) {
        const container_t *ct = &pod->cs[i];
        if (!ct->target || strcmp(ct->target, ct->image) == 0)
            continue;
        /* the op's beginning as jsonpatch_begin writes it: no token here
         * has a character the pointer or JSON escapes */
        static const char head[] = "{\"op\":\"replace\",\"path\":\"/spec/";
        static const char tail[] = "/image\",\"value\":";
        char text[sizeof head + sizeof "initContainers/" + 24 + sizeof tail];
        size_t n = sizeof head - 1;
        memcpy(text, head, n);
        const char *arr = ct->init ? "initContainers/" : "containers/";
        size_t alen = strlen(arr);
        memcpy(text + n, arr, alen);
        n += alen;
        n += put_dec(text + n, ct->index);
        memcpy(text + n, tail, sizeof tail - 1);
        n += sizeof tail - 1;
        jsonpatch_begin_text(ops, text, n);
        json_put_str(&ops->text, ct->target);
        ok = jsonpatch_end(ops);
    }
    return ok;
}

/* The pod's containers by name, and the first container that runs each
 * spec image by target: looked up in one step each, so that the builds cost
 * time linear in the pod. The build containers are written to `text`, the
 * i-th from builds[i].start. */
typedef struct {
    strset_t names, by_target, built;
    buf_t text;
    struct build {
        size_t start;
        inject_holes_t holes;
    } * builds;
    const inject_t *inject;
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

/* Writes the build container of `ct` (the n-th build, from 0). */
static patch_status_t add_build(const patch_input_t *in, build_index_t *ix, const container_t *ct,
                                size_t n, char *why, size_t whysz)
{
    char name[sizeof WH_BUILD_CONTAINER + 24] = WH_BUILD_CONTAINER;
    if (n > 0) {
        name[sizeof WH_BUILD_CONTAINER - 1] = '-';
        put_dec(name + sizeof WH_BUILD_CONTAINER, n + 1);
    }
    if (strset_find(&ix->names, name, NULL)) {
        errmsg_set(why, whysz,
                   "the pod already has a container named \"%s\"; rename it so the image "
                   "build can be injected",
                   name);
        return PATCH_DENIED;
    }
    const imagespec_t *sp = &in->specs->specs[ct->spec];
    ix->builds[n].start = ix->text.len;
    if (!inject_container(in->inject, &ix->text, name, sp->text, sp->text_len, ct->target,
                          &ix->builds[n].holes))
        return PATCH_OOM;
    if (in->max_bytes && ix->text.len > in->max_bytes) {
        errmsg_set(why, whysz,
                   "the patch would be more than %zu bytes (the first %zu build containers "
                   "take %zu), over imageBuilder.limits.maxPatchBytes: build fewer images in "
                   "this pod or make the ImageSpec smaller",
                   in->max_bytes, n + 1, ix->text.len);
        return PATCH_DENIED;
    }
    return PATCH_OK;
}

/* Writes the build containers: build-image, build-image-2, ... one per
 * distinct target that needs a build, in the targets' order. */
static patch_status_t build_containers(const patch_input_t *in, build_index_t *ix, size_t *n_builds,
                                       char *why, size_t whysz)
{
    ix->builds = malloc((in->n_targets + 1) * sizeof *ix->builds);
    patch_status_t st = ix->builds && index_pod(in->pod, ix) ? PATCH_OK : PATCH_OOM;
    for (size_t i = 0; st == PATCH_OK && i < in->n_targets; i++) {
        const target_t *t = &in->targets[i];
        size_t j;
        if (!t->build || !strset_find(&ix->by_target, t->target, &j))
            continue;
        int fresh = strset_add(&ix->built, t->target, i, NULL);
        if (fresh < 0)
            st = PATCH_OOM;
        else if (fresh)
            st = add_build(in, ix, &in->pod->cs[j], (*n_builds)++, why, whysz);
    }
    strset_free(&ix->names);
    strset_free(&ix->by_target);
    strset_free(&ix->built);
    return st;
}

/* The volumes' names the build needs that `vols` already has, or NULL. */
static const char *volume_clash(const cJSON *vols)
{
    return volume_taken(vols, WH_VOL_TOKEN)     ? WH_VOL_TOKEN
           : volume_taken(vols, WH_VOL_STORAGE) ? WH_VOL_STORAGE
                                                : NULL;
}

static bool put_build(jsonpatch_t *ops, const void *ctx, size_t i)
{
    const build_index_t *ix = ctx;
    return inject_put_container(ix->inject, ops, ix->text.data + ix->builds[i].start,
                                &ix->builds[i].holes);
}

/* Adds the volumes and the n written build containers of `ix`. */
static bool add_builds(jsonpatch_t *ops, const patch_input_t *in, const cJSON *vols,
                       const build_index_t *ix, size_t n)
{
    /* the volumes' ops are constants: one where the pod has none, one a
     * volume appended to the pod's */
    bool ok = true;
    if (!vols || !cJSON_IsArray(vols))
        ok = jsonpatch_begin_const(ops, inject_op(in->inject, INJECT_OP_VOLUMES));
    for (size_t i = 0; ok && vols && cJSON_IsArray(vols) && i < INJECT_N_VOLUMES; i++)
        ok = jsonpatch_begin_const(ops, inject_op(in->inject, INJECT_OP_VOLUME_0 + i));
    return ok && add_items(ops, cJSON_GetObjectItemCaseSensitive(in->spec, "initContainers"),
                           "spec", "initContainers", put_build, ix, n,
                           inject_op(in->inject, INJECT_OP_INIT_HEAD));
}

patch_status_t patch_builds(jsonpatch_t *ops, const patch_input_t *in, size_t *n_builds, char *why,
                            size_t whysz)
{
    *n_builds = 0;
    build_index_t ix = {STRSET_INIT, STRSET_INIT, STRSET_INIT, BUF_INIT, NULL, in->inject};
    patch_status_t st = build_containers(in, &ix, n_builds, why, whysz);
    const cJSON *vols = cJSON_GetObjectItemCaseSensitive(in->spec, "volumes");
    const char *clash = NULL;
    if (st != PATCH_OK || *n_builds == 0) {
        /* as it is */
    } else if (vols && !cJSON_IsArray(vols)) {
        errmsg_set(why, whysz, "spec.volumes must be an array");
        st = PATCH_DENIED;
    } else if ((clash = volume_clash(vols)) != NULL) {
        errmsg_set(why, whysz,
                   "the pod already has a volume named \"%s\"; rename it so the image build can "
                   "be injected",
                   clash);
        st = PATCH_DENIED;
    } else if (!add_builds(ops, in, vols, &ix, *n_builds)) {
        st = PATCH_OOM;
    }
    buf_free(&ix.text);
    free(ix.builds);
    return st;
}

bool patch_identity(jsonpatch_t *ops, const cJSON *meta)
{
    const member_t label = {"azure.workload.identity/use", "true", 4};
    return add_members(ops, cJSON_GetObjectItemCaseSensitive(meta, "labels"), "labels", &label, 1);
}

/* {"<container>":"<target>",...} of the targets, in their order. */
static bool targets_json(const patch_input_t *in, buf_t *b)
{
    size_t n = 2;
    for (size_t i = 0; i < in->n_targets; i++)
        n += strlen(in->targets[i].container) + strlen(in->targets[i].target) + 8;
    buf_reserve(b, n);
    buf_putc(b, '{');
    for (size_t i = 0; i < in->n_targets; i++) {
        if (i)
            buf_putc(b, ',');
        json_put_str(b, in->targets[i].container);
        buf_putc(b, ':');
        json_put_str(b, in->targets[i].target);
    }
    return buf_putc(b, '}');
}

bool patch_annotations(jsonpatch_t *ops, const patch_input_t *in, size_t n_builds, char **audit)
{
    *audit = NULL;
    buf_t targets = BUF_INIT;
    if (!targets_json(in, &targets)) {
        buf_free(&targets);
        return false;
    }
    /* the audit annotations first: the target-images string escaped there
     * once is copied into the patch */
    char builds[24];
    size_t nb = put_dec(builds, n_builds);
    buf_t a = BUF_INIT;
    buf_reserve(&a, targets.len + targets.len / 4 + 64);
    buf_puts(&a, "{\"mutated\":\"true\",\"target-images\":");
    size_t esc = a.len;
    json_put_string(&a, targets.data, targets.len);
    size_t esc_len = a.len - esc;
    buf_puts(&a, ",\"builds\":\"");
    buf_append(&a, builds, nb); /* digits: nothing to escape */
    buf_puts(&a, "\"}");
    bool ok = !a.oom;
    const cJSON *existing = cJSON_GetObjectItemCaseSensitive(in->meta, "annotations");
    if (ok && existing && !cJSON_IsNull(existing)) {
        /* one op per member, as add_members writes them, from constants */
        jsonpatch_begin_const(ops, inject_op(in->inject, INJECT_OP_MUTATED));
        jsonpatch_begin_const(ops, inject_op(in->inject, INJECT_OP_TARGETS_HEAD));
        buf_append(&ops->text, a.data + esc, esc_len);
        ok = jsonpatch_end(ops);
    } else if (ok) {
        const member_t annots[] = {{WH_ANNOT_MUTATED, "true", 4},
                                   {WH_ANNOT_TARGETS, targets.data, targets.len}};
        ok = add_members(ops, existing, "annotations", annots, 2);
    }
    buf_free(&targets);
    *audit = buf_steal(&a);
    return ok && *audit;
}

patch_status_t patch_build(const patch_input_t *in, patch_out_t *out, char *why, size_t whysz)
{
    memset(out, 0, sizeof *out);
    jsonpatch_t ops = JSONPATCH_INIT;
    ops.base64 = true;
    /* room for a pod with a build or two without growing */
    buf_reserve(&ops.text, 6 * 1024);
    buf_reserve(&ops.b64, 8 * 1024);
    char *audit = NULL;
    size_t n_builds = 0;
    patch_status_t st = PATCH_OOM;
    if (patch_metadata(&ops, in->meta) && patch_rewrites(&ops, in->pod))
        st = patch_builds(&ops, in, &n_builds, why, whysz);
    if (st == PATCH_OK && n_builds && in->azure && !patch_identity(&ops, in->meta))
        st = PATCH_OOM;
    if (st == PATCH_OK && !patch_annotations(&ops, in, n_builds, &audit))
        st = PATCH_OOM;
    out->n_ops = ops.n_ops;
    if (st == PATCH_OK && !(out->ops = jsonpatch_finish(&ops, &out->ops_len, &out->ops_b64)))
        st = PATCH_OOM;
    if (st != PATCH_OK) {
        jsonpatch_free(&ops);
        free(audit);
        free(out->ops);
        free(out->ops_b64);
        memset(out, 0, sizeof *out);
        return st;
    }
    out->audit = audit;
    return PATCH_OK;
}
