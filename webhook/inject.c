/* inject: the build-image container and volumes rendered once per
 * configuration (see inject.h). */
#include "inject.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonout.h"

/* Stand-ins for the three per-request strings while the template is
 * printed; cJSON writes them as "\u0001", "\u0002", "\u0003". */
static const char *const holes[] = {"\x01", "\x02", "\x03"};
static const char *const printed_holes[] = {"\"\\u0001\"", "\"\\u0002\"", "\"\\u0003\""};

struct inject {
    char *parts[4]; /* container text around the three holes */
    size_t part_len[4];
    char *volumes[INJECT_N_VOLUMES]; /* the token volume, the storage volume */
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
    cJSON_AddStringToObject(c, "name", holes[0]);
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
    cJSON_AddItemToArray(env, env_value("IMAGE_SPEC", holes[1]));
    cJSON_AddItemToArray(env, env_value("TARGET_IMAGE", holes[2]));
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

/* Prints `v` (consumed) with plain malloc'd memory that outlives requests. */
static char *print_owned(cJSON *v)
{
    char *p = v ? cJSON_PrintUnformatted(v) : NULL;
    cJSON_Delete(v);
    char *copy = p ? strdup(p) : NULL;
    cJSON_free(p);
    return copy;
}

inject_t *inject_prepare(const policy_config_t *cfg)
{
    inject_t *inj = calloc(1, sizeof *inj);
    if (!inj)
        return NULL;
    char *text = print_owned(container_template(cfg));
    inj->volumes[0] = print_owned(volume_token());
    inj->volumes[1] = print_owned(volume_storage(cfg));
    bool ok = text && inj->volumes[0] && inj->volumes[1];
    /* cut the printed template at the holes, in order */
    const char *at = text;
    for (size_t i = 0; ok && i < 3; i++) {
        const char *hole = strstr(at, printed_holes[i]);
        ok = hole && (inj->parts[i] = strndup(at, (size_t)(hole - at)));
        at = hole ? hole + strlen(printed_holes[i]) : at;
    }
    ok = ok && (inj->parts[3] = strdup(at));
    for (size_t i = 0; ok && i < 4; i++)
        inj->part_len[i] = strlen(inj->parts[i]);
    free(text);
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
        free(inj->parts[i]);
    for (size_t i = 0; i < INJECT_N_VOLUMES; i++)
        free(inj->volumes[i]);
    free(inj);
}

bool inject_container(const inject_t *inj, buf_t *out, const char *name, const char *spec,
                      size_t spec_len, const char *target)
{
    size_t name_len = strlen(name), target_len = strlen(target);
    buf_reserve(out, inj->part_len[0] + inj->part_len[1] + inj->part_len[2] + inj->part_len[3] +
                         name_len + spec_len + spec_len / 4 + target_len + 8);
    buf_append(out, inj->parts[0], inj->part_len[0]);
    json_put_string(out, name, name_len);
    buf_append(out, inj->parts[1], inj->part_len[1]);
    json_put_string(out, spec, spec_len);
    buf_append(out, inj->parts[2], inj->part_len[2]);
    json_put_string(out, target, target_len);
    return buf_append(out, inj->parts[3], inj->part_len[3]);
}

const char *inject_volume(const inject_t *inj, size_t i)
{
    return i < INJECT_N_VOLUMES ? inj->volumes[i] : NULL;
}
