/* inject: the build-image container and volumes rendered once per
 * configuration (see inject.h). */
#include "inject.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "decide.h"
#include "jsonout.h"

/* Stand-ins for the three per-request strings while the template is
 * printed; cJSON writes them as "\u0001", "\u0002", "\u0003". */
static const char *const stand_ins[] = {"\x01", "\x02", "\x03"};
static const char *const printed_holes[] = {"\"\\u0001\"", "\"\\u0002\"", "\"\\u0003\""};

struct inject {
    base64_const_t *parts[4];                  /* container text around the three holes */
    base64_const_t *volumes[INJECT_N_VOLUMES]; /* the token volume, the storage volume */
    base64_const_t *ops[INJECT_N_OPS];
};

static cJSON *env_from_configmap(const char *env, const char *cm, const char *key, bool optional)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", env);
    cJSON *ref =
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(e, "valueFrom"), "configMapKeyRef");
    cJSON_AddStringToObject(ref, "name", cm);
    cJSON_AddStringToObject(ref, "key", key);
    if (optional)
        cJSON_AddBoolToObject(ref, "optional", true);
    return e;
}

static cJSON *env_value(const char *env, const char *value)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", env);
    cJSON_AddStringToObject(e, "value", value);
    return e;
}

/* The container with the holes in place of its name, IMAGE_SPEC and TARGET_IMAGE. */
static cJSON *container_template(const policy_config_t *cfg)
{
    const char *cm = cfg->target_configmap;
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", stand_ins[0]);
    cJSON_AddStringToObject(c, "image", cfg->build_image.image);
    if (cfg->build_image.pull_policy && *cfg->build_image.pull_policy)
        cJSON_AddStringToObject(c, "imagePullPolicy", cfg->build_image.pull_policy);
    cJSON *env = cJSON_AddArrayToObject(c, "env");
    cJSON_AddItemToArray(env, env_from_configmap("UNION_BUILDKIT_URI", cm, "buildkit-uri", false));
    cJSON_AddItemToArray(
        env, env_from_configmap("UNION_DEFAULT_REPOSITORY", cm, "default-repository", false));
    cJSON_AddItemToArray(env, env_from_configmap("UNION_REGISTRY_AUTHENTICATION_TYPE", cm,
                                                 "authentication-type", false));
    cJSON_AddItemToArray(env, env_from_configmap("FLYTE_INTERNAL_OPTIMIZE_IMAGE", cm,
                                                 "enable-image-optimization", true));
    cJSON *org = cJSON_CreateObject();
    cJSON_AddStringToObject(org, "name", "ORGANIZATION");
    cJSON *fr = cJSON_AddObjectToObject(cJSON_AddObjectToObject(org, "valueFrom"), "fieldRef");
    cJSON_AddStringToObject(fr, "fieldPath", "metadata.labels['organization']");
    cJSON_AddItemToArray(env, org);
    cJSON_AddItemToArray(env, env_value("IMAGE_SPEC", stand_ins[1]));
    cJSON_AddItemToArray(env, env_value("TARGET_IMAGE", stand_ins[2]));
    if (cfg->build_image.resources)
        cJSON_AddItemToObject(c, "resources", cJSON_Duplicate(cfg->build_image.resources, true));
    if (cfg->build_image.security_context)
        cJSON_AddItemToObject(c, "securityContext",
                              cJSON_Duplicate(cfg->build_image.security_context, true));
    cJSON *mounts = cJSON_AddArrayToObject(c, "volumeMounts");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", WH_VOL_TOKEN);
    cJSON_AddStringToObject(m, "mountPath", "/var/run/secrets/union/registry");
    cJSON_AddBoolToObject(m, "readOnly", true);
    cJSON_AddItemToArray(mounts, m);
    m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", WH_VOL_STORAGE);
    cJSON_AddStringToObject(m, "mountPath", "/etc/union/config/storage.yaml");
    cJSON_AddStringToObject(m, "subPath", "storage.yaml");
    cJSON_AddBoolToObject(m, "readOnly", true);
    cJSON_AddItemToArray(mounts, m);
    return c;
}

static cJSON *volume_token(void)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", WH_VOL_TOKEN);
    cJSON *srcs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(v, "projected"), "sources");
    cJSON *src = cJSON_CreateObject();
    cJSON *tok = cJSON_AddObjectToObject(src, "serviceAccountToken");
    cJSON_AddStringToObject(tok, "audience", "registry");
    cJSON_AddNumberToObject(tok, "expirationSeconds", 7200);
    cJSON_AddStringToObject(tok, "path", "token");
    cJSON_AddItemToArray(srcs, src);
    return v;
}

static cJSON *volume_storage(const policy_config_t *cfg)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", WH_VOL_STORAGE);
    cJSON *cm = cJSON_AddObjectToObject(v, "configMap");
    cJSON_AddStringToObject(cm, "name", cfg->target_configmap);
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "key", "storage.yaml");
    cJSON_AddStringToObject(item, "path", "storage.yaml");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(cm, "items"), item);
    return v;
}

/* Prints `v` (consumed) as a constant with plain malloc'd memory that
 * outlives requests. */
static base64_const_t *print_const(cJSON *v)
{
    char *p = v ? cJSON_PrintUnformatted(v) : NULL;
    cJSON_Delete(v);
    base64_const_t *c = p ? base64_const_new(p, strlen(p)) : NULL;
    cJSON_free(p);
    return c;
}

/* An "add" op at `tokens` as jsonpatch_begin writes it, followed by
 * value[0..len) and, when `whole`, the op's end; without the "[" an empty
 * patch starts with. */
static base64_const_t *op_const(const char *const *tokens, const char *value, size_t len,
                                bool whole)
{
    jsonpatch_t p = JSONPATCH_INIT;
    jsonpatch_begin(&p, "add", tokens, true);
    buf_append(&p.text, value, len);
    if (whole)
        jsonpatch_end(&p);
    base64_const_t *c = p.text.oom ? NULL : base64_const_new(p.text.data + 1, p.text.len - 1);
    jsonpatch_free(&p);
    return c;
}

static bool prepare_ops(inject_t *inj)
{
    buf_t vols = BUF_INIT;
    buf_putc(&vols, '[');
    for (size_t i = 0; i < INJECT_N_VOLUMES; i++) {
        if (i)
            buf_putc(&vols, ',');
        buf_append(&vols, base64_const_text(inj->volumes[i]), base64_const_len(inj->volumes[i]));
    }
    buf_putc(&vols, ']');
    const char *t_vols[] = {"spec", "volumes", NULL};
    const char *t_append[] = {"spec", "volumes", "-", NULL};
    const char *t_init[] = {"spec", "initContainers", NULL};
    const char *t_mutated[] = {"metadata", "annotations", WH_ANNOT_MUTATED, NULL};
    const char *t_targets[] = {"metadata", "annotations", WH_ANNOT_TARGETS, NULL};
    if (!vols.oom)
        inj->ops[INJECT_OP_VOLUMES] = op_const(t_vols, vols.data, vols.len, true);
    buf_free(&vols);
    for (size_t i = 0; i < INJECT_N_VOLUMES; i++)
        inj->ops[INJECT_OP_VOLUME_0 + i] = op_const(t_append, base64_const_text(inj->volumes[i]),
                                                    base64_const_len(inj->volumes[i]), true);
    inj->ops[INJECT_OP_INIT_HEAD] = op_const(t_init, "[", 1, false);
    inj->ops[INJECT_OP_MUTATED] = op_const(t_mutated, "\"true\"", 6, true);
    inj->ops[INJECT_OP_TARGETS_HEAD] = op_const(t_targets, "", 0, false);
    for (size_t i = 0; i < INJECT_N_OPS; i++)
        if (!inj->ops[i])
            return false;
    return true;
}

inject_t *inject_prepare(const policy_config_t *cfg)
{
    inject_t *inj = calloc(1, sizeof *inj);
    if (!inj)
        return NULL;
    base64_const_t *whole = print_const(container_template(cfg));
    inj->volumes[0] = print_const(volume_token());
    inj->volumes[1] = print_const(volume_storage(cfg));
    bool ok = whole && inj->volumes[0] && inj->volumes[1];
    /* cut the printed template at the holes, in order */
    const char *at = whole ? base64_const_text(whole) : NULL;
    for (size_t i = 0; ok && i < 3; i++) {
        const char *hole = strstr(at, printed_holes[i]);
        ok = hole && (inj->parts[i] = base64_const_new(at, (size_t)(hole - at)));
        at = hole ? hole + strlen(printed_holes[i]) : at;
    }
    ok = ok && (inj->parts[3] = base64_const_new(at, strlen(at))) && prepare_ops(inj);
    base64_const_free(whole);
    if (!ok) {
        inject_free(inj);
        return NULL;
    }
    return inj;
}

void inject_free(inject_t *inj)
{
    if (!inj)
        return;
    for (size_t i = 0; i < 4; i++)
        base64_const_free(inj->parts[i]);
    for (size_t i = 0; i < INJECT_N_VOLUMES; i++)
        base64_const_free(inj->volumes[i]);
    for (size_t i = 0; i < INJECT_N_OPS; i++)
        base64_const_free(inj->ops[i]);
    free(inj);
}

bool inject_container(const inject_t *inj, buf_t *out, const char *name, const char *spec,
                      size_t spec_len, const char *target, inject_holes_t *holes)
{
    const char *s[3] = {name, spec, target};
    size_t n[3] = {strlen(name), spec_len, strlen(target)}, total = 8 + spec_len / 4;
    for (size_t i = 0; i < 4; i++)
        total += base64_const_len(inj->parts[i]) + (i < 3 ? n[i] : 0);
    buf_reserve(out, total);
    for (size_t i = 0; i < 3; i++) {
        buf_append(out, base64_const_text(inj->parts[i]), base64_const_len(inj->parts[i]));
        size_t before = out->len;
        json_put_string(out, s[i], n[i]);
        if (holes)
            holes->len[i] = out->len - before;
    }
    return buf_append(out, base64_const_text(inj->parts[3]), base64_const_len(inj->parts[3]));
}

bool inject_put_container(const inject_t *inj, jsonpatch_t *ops, const char *text,
                          const inject_holes_t *holes)
{
    for (size_t i = 0; i < 3; i++) {
        jsonpatch_put_const(ops, inj->parts[i]);
        text += base64_const_len(inj->parts[i]);
        buf_append(&ops->text, text, holes->len[i]);
        text += holes->len[i];
    }
    return jsonpatch_put_const(ops, inj->parts[3]);
}

const char *inject_volume(const inject_t *inj, size_t i)
{
    return i < INJECT_N_VOLUMES ? base64_const_text(inj->volumes[i]) : NULL;
}

const base64_const_t *inject_op(const inject_t *inj, inject_op_t op)
{
    return inj->ops[op];
}
