/* bodies: writes the benchmark's request bodies, built from a golden review.
 *
 * The golden review (a small Flyte task pod whose ImageSpec uses builder
 * `union`) is grown into what a real Flyte task pod looks like on the wire
 * (compact JSON, the way kube-apiserver sends it): Flyte's environment
 * variables and arguments, owner references, tolerations, volume mounts,
 * then filler environment variables up to the wanted size. Variants:
 *
 *   mutated.json      ~7.4 KB, selected by the label, gets rewritten + a build
 *   passthrough.json  ~7.4 KB, same pod without the selection label
 *   denied.json       ~7.4 KB, ImageSpec registry ghcr.io/acme (refused when
 *                     the configured authenticationType is google)
 *   mutated-64k.json, mutated-256k.json, large.json (~1 MB, thousands of
 *                     environment variables): the size series
 *
 * Usage: bodies --golden REVIEW.json --out DIR */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define SMALL_SIZE 7400

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bodies: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *grown = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    if (!buf || ferror(f)) {
        fprintf(stderr, "bodies: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static cJSON *path_get(cJSON *root, const char *const *keys)
{
    for (; root && *keys; keys++)
        root = cJSON_GetObjectItemCaseSensitive(root, *keys);
    return root;
}

static cJSON *env_var(const char *name, const char *value)
{
    cJSON *e = cJSON_CreateObject();
    if (e && (!cJSON_AddStringToObject(e, "name", name) ||
              !cJSON_AddStringToObject(e, "value", value))) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

static int add_env(cJSON *env, const char *name, const char *value)
{
    cJSON *e = env_var(name, value);
    return e && cJSON_AddItemToArray(env, e) ? 0 : -1;
}

static int add_strings(cJSON *arr, const char *const *items)
{
    for (; *items; items++)
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(*items)))
            return -1;
    return 0;
}

static int add_parsed(cJSON *obj, const char *key, const char *json)
{
    cJSON *v = cJSON_Parse(json);
    return v && cJSON_AddItemToObject(obj, key, v) ? 0 : -1;
}

/* What flytepropeller puts into a task pod besides the golden's basics. */
static int make_realistic(cJSON *review)
{
    static const char *const k_pod[] = {"request", "object", NULL};
    cJSON *pod = path_get(review, k_pod);
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec, "containers"), 0);
    cJSON *env = cJSON_GetObjectItemCaseSensitive(c0, "env");
    cJSON *args = cJSON_GetObjectItemCaseSensitive(c0, "args");
    if (!meta || !spec || !c0 || !cJSON_IsArray(env) || !cJSON_IsArray(args)) {
        fprintf(stderr, "bodies: the golden review has no pod with containers[0].env/args\n");
        return -1;
    }
    static const char *const k_more_args[] = {
        "--inputs",
        "s3://union-acme-data/metadata/propeller/flytesnacks-development-a8x2k9/n0/data/inputs.pb",
        "--output-prefix",
        "s3://union-acme-data/metadata/propeller/flytesnacks-development-a8x2k9/n0/data/0",
        "--raw-output-data-prefix",
        "s3://union-acme-data/raw/a8x2k9-n0-0",
        "--checkpoint-path",
        "s3://union-acme-data/raw/a8x2k9-n0-0/_flytecheckpoints",
        "--prev-checkpoint",
        "\"\"",
        "--resolver",
        "flytekit.core.python_auto_container.default_task_resolver",
        NULL};
    static const char *const k_env[][2] = {
        {"FLYTE_INTERNAL_EXECUTION_WORKFLOW", "flytesnacks:development:hello.wf"},
        {"FLYTE_INTERNAL_EXECUTION_DOMAIN", "development"},
        {"FLYTE_INTERNAL_EXECUTION_PROJECT", "flytesnacks"},
        {"FLYTE_ATTEMPT_NUMBER", "0"},
        {"FLYTE_INTERNAL_TASK_DOMAIN", "development"},
        {"FLYTE_INTERNAL_TASK_NAME", "hello.say_hello"},
        {"FLYTE_INTERNAL_TASK_VERSION", "wcYy93m6tBmlCz2veV4_4w"},
        {"FLYTE_INTERNAL_PROJECT", "flytesnacks"},
        {"FLYTE_INTERNAL_DOMAIN", "development"},
        {"FLYTE_INTERNAL_NAME", "hello.say_hello"},
        {"FLYTE_INTERNAL_VERSION", "wcYy93m6tBmlCz2veV4_4w"},
        {"FLYTE_AWS_ENDPOINT", ""},
        {"FLYTE_PLATFORM_URL", "acme.hosted.unionai.cloud"},
        {"FLYTE_PLATFORM_INSECURE", "false"},
        {"FLYTE_INTERNAL_NODE_ID", "n0"},
        {"FLYTE_INTERNAL_RETRY_ATTEMPT", "0"},
        {"_F_L_MIN_SIZE_MB", "10"},
        {"_F_L_MAX_SIZE_MB", "1000"},
        {"_U_EP_OVERRIDE", "dns:///acme.hosted.unionai.cloud"},
        {"_U_ORG_NAME", "acme"},
        {"UNION_RUN_ID", "a8x2k9"},
        {"PYTHONUNBUFFERED", "1"},
        {NULL, NULL}};
    if (add_strings(args, k_more_args) != 0)
        return -1;
    for (size_t i = 0; k_env[i][0]; i++)
        if (add_env(env, k_env[i][0], k_env[i][1]) != 0)
            return -1;
    cJSON *fieldenv =
        cJSON_Parse("{\"name\":\"POD_NAME\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\","
                    "\"fieldPath\":\"metadata.name\"}}}");
    if (!fieldenv || !cJSON_AddItemToArray(env, fieldenv))
        return -1;
    if (add_parsed(meta, "ownerReferences",
                   "[{\"apiVersion\":\"flyte.lyft.com/v1alpha1\",\"kind\":\"flyteworkflow\","
                   "\"name\":\"a8x2k9\",\"uid\":\"8f4c1a7e-7f55-4c1e-9a07-55f0f6c2d9b1\","
                   "\"controller\":true,\"blockOwnerDeletion\":true}]") != 0 ||
        add_parsed(meta, "finalizers", "[\"flyte/flytek8s\"]") != 0 ||
        add_parsed(spec, "tolerations",
                   "[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
                   "\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
                   "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                   "\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
                   "{\"key\":\"union.ai/interruptible\",\"operator\":\"Equal\","
                   "\"value\":\"false\",\"effect\":\"NoSchedule\"}]") != 0 ||
        add_parsed(spec, "volumes",
                   "[{\"name\":\"kube-api-access-x7k2p\",\"projected\":{\"defaultMode\":420,"
                   "\"sources\":[{\"serviceAccountToken\":{\"expirationSeconds\":3607,"
                   "\"path\":\"token\"}},{\"configMap\":{\"name\":\"kube-root-ca.crt\","
                   "\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}},{\"downwardAPI\":"
                   "{\"items\":[{\"path\":\"namespace\",\"fieldRef\":{\"apiVersion\":\"v1\","
                   "\"fieldPath\":\"metadata.namespace\"}}]}}]}}]") != 0 ||
        add_parsed(c0, "volumeMounts",
                   "[{\"name\":\"kube-api-access-x7k2p\",\"readOnly\":true,"
                   "\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}]") != 0 ||
        add_parsed(spec, "securityContext", "{\"fsGroup\":65534}") != 0 ||
        add_parsed(spec, "affinity",
                   "{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                   "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":"
                   "\"union.ai/node-role\",\"operator\":\"In\",\"values\":[\"worker\"]}]}]}}}") !=
            0 ||
        !cJSON_AddStringToObject(spec, "schedulerName", "default-scheduler") ||
        !cJSON_AddNumberToObject(spec, "terminationGracePeriodSeconds", 30) ||
        !cJSON_AddStringToObject(spec, "dnsPolicy", "ClusterFirst") ||
        !cJSON_AddFalseToObject(spec, "enableServiceLinks"))
        return -1;
    return 0;
}

/* Appends filler environment variables to containers[0] until the compact
 * document is at least `target` bytes. */
static int pad_to(cJSON *review, size_t target)
{
    static const char *const k_env[] = {"request", "object", "spec", "containers", NULL};
    cJSON *c0 = cJSON_GetArrayItem(path_get(review, k_env), 0);
    cJSON *env = cJSON_GetObjectItemCaseSensitive(c0, "env");
    char *now = cJSON_PrintUnformatted(review);
    if (!now || !env)
        return -1;
    size_t size = strlen(now);
    free(now);
    for (unsigned i = 0; size < target; i++) {
        char name[64], value[128];
        snprintf(name, sizeof name, "APP_SETTING_%05u", i);
        snprintf(value, sizeof value, "s3://union-acme-data/features/%u/part-%08u.parquet", i % 97,
                 i * 2654435761u % 100000000u);
        cJSON *e = env_var(name, value);
        char *one = e ? cJSON_PrintUnformatted(e) : NULL;
        if (!one || !cJSON_AddItemToArray(env, e)) {
            free(one);
            cJSON_Delete(e);
            return -1;
        }
        size += strlen(one) + 1; /* the element and its comma */
        free(one);
    }
    return 0;
}

static int write_body(const char *dir, const char *name, const cJSON *review)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return -1;
    char *text = cJSON_PrintUnformatted(review);
    if (!text)
        return -1;
    size_t n = strlen(text);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(text, 1, n, f) == n ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "bodies: cannot write %s: %s\n", path, strerror(errno));
    else
        printf("%-18s %8zu bytes\n", name, n);
    free(text);
    return rc;
}

static int sized(const cJSON *base, const char *dir, const char *name, size_t target)
{
    cJSON *r = cJSON_Duplicate(base, true);
    int rc = r && pad_to(r, target) == 0 ? write_body(dir, name, r) : -1;
    cJSON_Delete(r);
    return rc;
}

/* The ImageSpec annotation with "registry" set, and container 0's image under it. */
static int use_registry(cJSON *review, const char *registry)
{
    static const char *const k_ann[] = {"request", "object", "metadata", "annotations", NULL};
    static const char *const k_ctr[] = {"request", "object", "spec", "containers", NULL};
    cJSON *ann = path_get(review, k_ann);
    cJSON *spec_ann = cJSON_GetObjectItemCaseSensitive(ann, "imagebuilder.union.ai/image-spec");
    cJSON *c0 = cJSON_GetArrayItem(path_get(review, k_ctr), 0);
    cJSON *image = cJSON_GetObjectItemCaseSensitive(c0, "image");
    if (!cJSON_IsString(spec_ann) || !cJSON_IsString(image))
        return -1;
    cJSON *spec = cJSON_Parse(spec_ann->valuestring);
    char *text = NULL;
    int rc = -1;
    if (spec && cJSON_AddStringToObject(spec, "registry", registry) &&
        (text = cJSON_PrintUnformatted(spec)) != NULL) {
        char img[1024];
        size_t n = (size_t)snprintf(img, sizeof img, "%s/%s", registry, image->valuestring);
        cJSON *new_ann = cJSON_CreateString(text);
        cJSON *new_img = n < sizeof img ? cJSON_CreateString(img) : NULL;
        if (new_ann && new_img) {
            /* Replacing frees the old items; the new ones are owned by the tree. */
            bool a = cJSON_ReplaceItemInObjectCaseSensitive(ann, "imagebuilder.union.ai/image-spec",
                                                            new_ann);
            if (!a)
                cJSON_Delete(new_ann);
            bool b = cJSON_ReplaceItemInObjectCaseSensitive(c0, "image", new_img);
            if (!b)
                cJSON_Delete(new_img);
            rc = a && b ? 0 : -1;
        } else {
            cJSON_Delete(new_ann);
            cJSON_Delete(new_img);
        }
    }
    free(text);
    cJSON_Delete(spec);
    return rc;
}

int main(int argc, char **argv)
{
    const char *golden = NULL, *out = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--golden") == 0)
            golden = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
    }
    if (!golden || !out || argc != 5) {
        fprintf(stderr, "usage: bodies --golden REVIEW.json --out DIR\n");
        return 2;
    }
    size_t len = 0;
    char *text = read_file(golden, &len);
    cJSON *base = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!base) {
        fprintf(stderr, "bodies: %s is not a JSON document\n", golden);
        return 1;
    }
    int rc = make_realistic(base);

    if (rc == 0)
        rc = sized(base, out, "mutated.json", SMALL_SIZE);
    if (rc == 0)
        rc = sized(base, out, "mutated-64k.json", 64 * 1024);
    if (rc == 0)
        rc = sized(base, out, "mutated-256k.json", 256 * 1024);
    if (rc == 0)
        rc = sized(base, out, "large.json", 1024 * 1024);

    static const char *const k_labels[] = {"request", "object", "metadata", "labels", NULL};
    cJSON *pass = rc == 0 ? cJSON_Duplicate(base, true) : NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(path_get(pass, k_labels),
                                            "imagebuilder.union.ai/builder");
    if (rc == 0)
        rc = pass ? sized(pass, out, "passthrough.json", SMALL_SIZE) : -1;
    cJSON_Delete(pass);

    cJSON *deny = rc == 0 ? cJSON_Duplicate(base, true) : NULL;
    if (rc == 0)
        rc = deny && use_registry(deny, "ghcr.io/acme") == 0
                 ? sized(deny, out, "denied.json", SMALL_SIZE)
                 : -1;
    cJSON_Delete(deny);
    cJSON_Delete(base);
    if (rc != 0)
        fprintf(stderr, "bodies: failed\n");
    return rc == 0 ? 0 : 1;
}
