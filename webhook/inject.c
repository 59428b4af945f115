/* inject: the build-image container and volumes rendered once per
 * configuration (see inject.h). */
#include "inject.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Stand-ins for the three per-request strings while the template is
 * printed; cJSON writes them as "\u0001", "\u0002", "\u0003". */
static const char *const holes[] = {"\x01", "\x02", "\x03"};
static const char *const printed_holes[] = {"\"\\u0001\"", "\"\\u0002\"", "\"\\u0003\""};

struct inject {
    char *parts[4]; /* container text around the three holes */
    char *volume_token, *volume_storage;
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
    inj->volume_token = print_owned(volume_token());
    inj->volume_storage = print_owned(volume_storage(cfg));
    bool ok = text && inj->volume_token && inj->volume_storage;
    /* cut the printed template at the holes, in order */
    const char *at = text;
    for (size_t i = 0; ok && i < 3; i++) {
        const char *hole = strstr(at, printed_holes[i]);
        ok = hole && (inj->parts[i] = strndup(at, (size_t)(hole - at)));
        at = hole ? hole + strlen(printed_holes[i]) : at;
    }
    ok = ok && (inj->parts[3] = strdup(at));
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
    free(inj->volume_token);
    free(inj->volume_storage);
    free(inj);
}

bool inject_json_string(buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
            run++;
        buf_append(b, p + i, run - i);
        if (run == n)
            break;
        unsigned char c = p[run];
        char e[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t k = 2;
        if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
        } else if (c < 0x20) {
            e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[c >> 4], e[5] = hex[c & 15];
            k = 6;
        }
        buf_append(b, e, k);
        i = run + 1;
    }
    return buf_putc(b, '"');
}

cJSON *inject_container(const inject_t *inj, const char *name, const char *spec, size_t spec_len,
                        const char *target)
{
    buf_t b = BUF_INIT;
    buf_reserve(&b, strlen(inj->parts[0]) + strlen(inj->parts[1]) + strlen(inj->parts[2]) +
                        strlen(inj->parts[3]) + spec_len + spec_len / 8 + 256);
    buf_puts(&b, inj->parts[0]);
    inject_json_string(&b, name, strlen(name));
    buf_puts(&b, inj->parts[1]);
    inject_json_string(&b, spec, spec_len);
    buf_puts(&b, inj->parts[2]);
    inject_json_string(&b, target, strlen(target));
    buf_puts(&b, inj->parts[3]);
    cJSON *raw = b.oom ? NULL : cJSON_CreateRaw(b.data);
    buf_free(&b);
    return raw;
}

cJSON *inject_volumes(const inject_t *inj)
{
    cJSON *vols = cJSON_CreateArray();
    const char *texts[] = {inj->volume_token, inj->volume_storage};
    for (size_t i = 0; vols && i < 2; i++) {
        cJSON *v = cJSON_CreateRaw(texts[i]);
        if (!v) {
            cJSON_Delete(vols);
            return NULL;
        }
        cJSON_AddItemToArray(vols, v);
    }
    return vols;
}
