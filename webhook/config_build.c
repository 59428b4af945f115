/* config_build: the imageBuilder.buildImage values the build container
 * takes as Kubernetes JSON, read from the YAML tree into cJSON:
 *   - resources: requests and limits, resource names to quantities;
 *   - securityContext: the known fields of the Kubernetes SecurityContext
 *     (a field table, SC_FIELDS), every unknown key an error, then the
 *     rules the API server would apply to the container (a seccomp or
 *     AppArmor profile of type Localhost names its file and only then;
 *     allowPrivilegeEscalation false excludes privileged and CAP_SYS_ADMIN)
 *     and the one the kubelet applies when the container starts
 *     (runAsNonRoot excludes runAsUser 0).
 * Either, when given, replaces the built-in default whole. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "config_int.h"
#include "k8sname.h"
#include "yamldoc.h"

#define MAX_ID 2147483647ULL /* runAsUser, runAsGroup: what the API server accepts */

/* The key node `key` of `map` (its value node when `value`), or NULL. */
static const ynode_t *find_in(const ynode_t *map, const char *key, bool value)
{
    for (size_t i = 0; map && map->kind == YNODE_MAP && i < map->n; i++) {
        const ynode_t *k = map->items[2 * i];
        if (k->kind == YNODE_SCALAR && strcmp(k->str, key) == 0)
            return map->items[2 * i + (value ? 1 : 0)];
    }
    return NULL;
}

static const ynode_t *key_node(const ynode_t *map, const char *key)
{
    return find_in(map, key, false);
}

/* Reports the key k if an earlier key of `map` (before item i) has the same name. */
static bool set_twice(cfg_ctx_t *x, const ynode_t *map, size_t i, const char *path)
{
    const ynode_t *k = map->items[2 * i];
    for (size_t j = 0; j < i; j++) {
        const ynode_t *e = map->items[2 * j];
        if (e->kind == YNODE_SCALAR && e->len == k->len && memcmp(e->str, k->str, k->len) == 0) {
            CFG_ERR(x, k, "%s.%s is set twice (first at line %zu); remove one of them", path,
                    k->str, e->line);
            return true;
        }
    }
    return false;
}

/* Adds `item` to `obj` under `key`; false (x->oom) when out of memory. */
static bool add_item(cfg_ctx_t *x, cJSON *obj, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(obj, key, item))
        return true;
    cJSON_Delete(item);
    x->oom = true;
    return false;
}

/* ---- resources ------------------------------------------------------------------ */

/* One group of buildImage.resources (requests or limits): resource names
 * to quantities, added to `group`. False when any entry is wrong. */
static bool read_resource_group(cfg_ctx_t *x, const ynode_t *m, const char *sub, cJSON *group)
{
    bool ok = true;
    for (size_t j = 0; j < m->n; j++) {
        const ynode_t *rk = m->items[2 * j], *q = m->items[2 * j + 1];
        if (!cfg_check_key(x, rk, sub) || set_twice(x, m, j, sub)) {
            ok = false;
            continue;
        }
        char rpath[CFG_KEYPATH_MAX];
        cfg_path(rpath, sizeof rpath, "%s.%s", sub, rk->str);
        if (!k8s_resource_name(rk->str, rk->len)) {
            CFG_ERR(x, rk,
                    "%s: %s is not a resource name; use names such as cpu, memory, "
                    "ephemeral-storage or example.com/gpu",
                    sub, cfg_shown(rk).s);
            ok = false;
            continue;
        }
        if (!cfg_want_scalar(x, q, rpath, "a quantity such as 500m or 1Gi")) {
            ok = false;
            continue;
        }
        yscalar_kind_t qk = ydoc_scalar_kind(q, NULL, NULL, NULL);
        if (qk == YSCALAR_NULL || qk == YSCALAR_BOOL || !k8s_quantity(q->str, q->len)) {
            CFG_ERR(x, q,
                    "%s: %s is not a Kubernetes quantity; write a number with an optional "
                    "suffix, such as 500m, 2, 1.5, 512Mi or 4Gi",
                    rpath, cfg_shown(q).s);
            ok = false;
            continue;
        }
        if (!add_item(x, group, rk->str, cJSON_CreateString(q->str)))
            ok = false;
    }
    return ok;
}

void cfg_read_resources(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (!cfg_check_map(x, v, path))
        return;
    cJSON *res = cJSON_CreateObject();
    if (!res) {
        x->oom = true;
        return;
    }
    bool ok = true;
    static const char *const groups[] = {"requests", "limits"};
    for (size_t i = 0; i < v->n; i++) {
        const ynode_t *k = v->items[2 * i], *m = v->items[2 * i + 1];
        if (!cfg_check_key(x, k, path) || set_twice(x, v, i, path)) {
            ok = false;
            continue;
        }
        if (strcmp(k->str, "requests") != 0 && strcmp(k->str, "limits") != 0) {
            cfg_unknown_key(x, k, path, groups, 2);
            ok = false;
            continue;
        }
        char sub[CFG_KEYPATH_MAX];
        cfg_path(sub, sizeof sub, "%s.%s", path, k->str);
        if (!cfg_check_map(x, m, sub)) {
            if (!cfg_is_null(m))
                ok = false;
            continue;
        }
        cJSON *group = cJSON_CreateObject();
        if (!add_item(x, res, k->str, group) || !read_resource_group(x, m, sub, group))
            ok = false;
    }
    if (!ok) {
        cJSON_Delete(res);
        return;
    }
    cJSON_Delete(c->policy.build_image.resources);
    c->policy.build_image.resources = res;
}

/* ---- securityContext: the field table ------------------------------------------ */

typedef enum { SC_BOOL, SC_STR, SC_ID, SC_LIST, SC_MAP } sc_kind_t;

typedef struct sc_field {
    const char *key;
    sc_kind_t kind;
    const struct sc_field *sub; /* SC_MAP: its fields */
    size_t n_sub;
    const char *const *choices; /* SC_STR: the allowed values (NULL-terminated), or NULL: any */
} sc_field_t;

#define SCF(k, kind)                                                                               \
    {                                                                                              \
        k, kind, NULL, 0, NULL                                                                     \
    }
#define SCF_ENUM(k, values)                                                                        \
    {                                                                                              \
        k, SC_STR, NULL, 0, values                                                                 \
    }
#define SCF_MAP(k, fields)                                                                         \
    {                                                                                              \
        k, SC_MAP, fields, sizeof fields / sizeof fields[0], NULL                                  \
    }

static const char *const profile_types[] = {"RuntimeDefault", "Localhost", "Unconfined", NULL};
static const char *const proc_mounts[] = {"Default", "Unmasked", NULL};

static const sc_field_t caps_fields[] = {SCF("add", SC_LIST), SCF("drop", SC_LIST)};
static const sc_field_t profile_fields[] = {SCF_ENUM("type", profile_types),
                                            SCF("localhostProfile", SC_STR)};
static const sc_field_t selinux_fields[] = {SCF("level", SC_STR), SCF("role", SC_STR),
                                            SCF("type", SC_STR), SCF("user", SC_STR)};
static const sc_field_t windows_fields[] = {
    SCF("gmsaCredentialSpec", SC_STR), SCF("gmsaCredentialSpecName", SC_STR),
    SCF("hostProcess", SC_BOOL), SCF("runAsUserName", SC_STR)};

static const sc_field_t sc_fields[] = {
    SCF("allowPrivilegeEscalation", SC_BOOL),
    SCF_MAP("appArmorProfile", profile_fields),
    SCF_MAP("capabilities", caps_fields),
    SCF("privileged", SC_BOOL),
    SCF_ENUM("procMount", proc_mounts),
    SCF("readOnlyRootFilesystem", SC_BOOL),
    SCF("runAsGroup", SC_ID),
    SCF("runAsNonRoot", SC_BOOL),
    SCF("runAsUser", SC_ID),
    SCF_MAP("seLinuxOptions", selinux_fields),
    SCF_MAP("seccompProfile", profile_fields),
    SCF_MAP("windowsOptions", windows_fields),
};
#define SC_FIELDS_N (sizeof sc_fields / sizeof sc_fields[0])

/* ---- securityContext: reading by the table ------------------------------------- */

static cJSON *read_map(cfg_ctx_t *x, const ynode_t *m, const char *path, const sc_field_t *fields,
                       size_t n, bool *bad);

/* A string, one of f->choices when it has them. */
static cJSON *read_choice(cfg_ctx_t *x, const ynode_t *v, const char *path, const sc_field_t *f,
                          bool *bad)
{
    if (!cfg_read_string(x, v, path)) {
        *bad = !cfg_is_null(v);
        return NULL;
    }
    if (f->choices) {
        bool known = false;
        char list[128] = "";
        for (size_t i = 0; f->choices[i]; i++) {
            known = known || strcmp(v->str, f->choices[i]) == 0;
            cfg_path(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     f->choices[i]);
        }
        if (!known) {
            CFG_ERR(x, v, "%s: %s is not one of %s", path, cfg_shown(v).s, list);
            *bad = true;
            return NULL;
        }
    }
    return cJSON_CreateString(v->str);
}

static cJSON *read_strings(cfg_ctx_t *x, const ynode_t *v, const char *path, bool *bad)
{
    const char **items = NULL;
    if (!cfg_read_list(x, v, path, &items)) {
        *bad = !cfg_is_null(v);
        return NULL;
    }
    cJSON *arr = cJSON_CreateStringArray(items, (int)v->n);
    free(items);
    return arr;
}

/* One value by its field's kind; NULL when null (*bad untouched) or wrong (*bad set). */
static cJSON *read_value(cfg_ctx_t *x, const ynode_t *v, const char *path, const sc_field_t *f,
                         bool *bad)
{
    bool b = false;
    unsigned long long u = 0;
    switch (f->kind) {
    case SC_BOOL:
        if (cfg_read_bool(x, v, path, &b))
            return cJSON_CreateBool(b);
        break;
    case SC_ID:
        if (cfg_read_uint(x, v, path, 0, MAX_ID, &u))
            return cJSON_CreateNumber((double)u);
        break;
    case SC_STR:
        return read_choice(x, v, path, f, bad);
    case SC_LIST:
        return read_strings(x, v, path, bad);
    case SC_MAP:
        if (cfg_check_map(x, v, path))
            return read_map(x, v, path, f->sub, f->n_sub, bad);
        break;
    }
    *bad = *bad || !cfg_is_null(v);
    return NULL;
}

/* The map `m` by `fields`, as a JSON object (NULL with *bad set when anything is wrong). */
static cJSON *read_map(cfg_ctx_t *x, const ynode_t *m, const char *path, const sc_field_t *fields,
                       size_t n, bool *bad)
{
    const char *keys[SC_FIELDS_N];
    for (size_t j = 0; j < n && j < SC_FIELDS_N; j++)
        keys[j] = fields[j].key;
    cJSON *obj = cJSON_CreateObject();
    if (!obj) {
        x->oom = *bad = true;
        return NULL;
    }
    for (size_t i = 0; i < m->n; i++) {
        const ynode_t *k = m->items[2 * i], *v = m->items[2 * i + 1];
        if (!cfg_check_key(x, k, path) || set_twice(x, m, i, path)) {
            *bad = true;
            continue;
        }
        const sc_field_t *f = NULL;
        for (size_t j = 0; j < n && !f; j++)
            if (strcmp(fields[j].key, k->str) == 0)
                f = &fields[j];
        if (!f) {
            cfg_unknown_key(x, k, path, keys, n < SC_FIELDS_N ? n : SC_FIELDS_N);
            *bad = true;
            continue;
        }
        char sub[CFG_KEYPATH_MAX];
        cfg_path(sub, sizeof sub, "%s.%s", path, f->key);
        if (v->kind == YNODE_ALIAS) {
            CFG_ERR(x, v, "%s: " CFG_ALIAS_MSG, sub);
            *bad = true;
            continue;
        }
        cJSON *val = read_value(x, v, sub, f, bad);
        if (val && !add_item(x, obj, f->key, val))
            *bad = true;
    }
    if (*bad) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* ---- securityContext: the rules across its fields ------------------------------- */

/* seccompProfile or appArmorProfile: `type` is required, and localhostProfile
 * goes with type Localhost, always and only. */
static bool check_profile(cfg_ctx_t *x, const ynode_t *m, const cJSON *sc, const char *name,
                          const char *path)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(sc, name);
    const ynode_t *pk = key_node(m, name);
    if (!p || !pk)
        return true;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
    bool local = cJSON_IsString(type) && strcmp(type->valuestring, "Localhost") == 0;
    bool has_file = cJSON_GetObjectItemCaseSensitive(p, "localhostProfile") != NULL;
    if (!type) {
        CFG_ERR(x, pk, "%s.%s: type is required; use RuntimeDefault, Localhost or Unconfined", path,
                name);
        return false;
    }
    if (local && !has_file) {
        CFG_ERR(x, pk, "%s.%s: type Localhost needs localhostProfile, the profile's file", path,
                name);
        return false;
    }
    if (!local && has_file) {
        CFG_ERR(x, key_node(find_in(m, name, true), "localhostProfile"),
                "%s.%s.localhostProfile: only type Localhost takes a profile file; remove it or "
                "set type: Localhost",
                path, name);
        return false;
    }
    return true;
}

static bool is_false(const cJSON *sc, const char *key)
{
    return cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(sc, key));
}

static bool check_rules(cfg_ctx_t *x, const ynode_t *m, const cJSON *sc, const char *path)
{
    bool ok = check_profile(x, m, sc, "seccompProfile", path);
    ok = check_profile(x, m, sc, "appArmorProfile", path) && ok;
    const char *ape = "allowPrivilegeEscalation";
    if (is_false(sc, ape) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sc, "privileged"))) {
        CFG_ERR(x, key_node(m, "privileged"),
                "%s: privileged: true cannot go with %s: false; drop one of them", path, ape);
        ok = false;
    }
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(sc, "capabilities"), "add");
    const cJSON *cap;
    cJSON_ArrayForEach(cap, add)
    {
        if (is_false(sc, ape) && strcmp(cap->valuestring, "CAP_SYS_ADMIN") == 0) {
            CFG_ERR(x, key_node(m, "capabilities"),
                    "%s: capabilities.add CAP_SYS_ADMIN cannot go with %s: false; drop one of them",
                    path, ape);
            ok = false;
        }
    }
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(sc, "runAsUser");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sc, "runAsNonRoot")) &&
        cJSON_IsNumber(user) && user->valuedouble == 0) {
        CFG_ERR(x, key_node(m, "runAsUser"),
                "%s: runAsUser 0 is root, and runAsNonRoot: true stops such a container from "
                "starting; use another user ID",
                path);
        ok = false;
    }
    return ok;
}

void cfg_read_security_context(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (!cfg_check_map(x, v, path))
        return;
    bool bad = false;
    cJSON *sc = read_map(x, v, path, sc_fields, SC_FIELDS_N, &bad);
    if (!sc || !check_rules(x, v, sc, path)) {
        cJSON_Delete(sc);
        return;
    }
    cJSON_Delete(c->policy.build_image.security_context);
    c->policy.build_image.security_context = sc;
}
