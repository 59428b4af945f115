/* rules: the admission policy, as named rules applied in order.
 *
 * Each rule is one row (or a few rows) of the README's decision tables
 * ("The pod contract", "Where the image goes", "What is denied, what is
 * warned", "What is injected"); its comment names the row and the golden
 * cases (tests/golden/<case>/) that show its answer end to end. A rule
 * either lets the evaluation go on (RULE_NEXT) or ends it (RULE_DONE) with
 * the pod allowed unchanged, denied with a one-line message that says what
 * to fix, or mutated. rules_apply() at the end of the file is the order.
 *
 * Reading the pod's containers (podscan.c), computing target images
 * (target.c) and building the JSON Patch (patch.c) live in their own
 * files; which cloud registry a host is and which authenticationType
 * reaches it is registry.c's table. */
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "imageref.h"
#include "imagespec.h"
#include "patch.h"
#include "podscan.h"
#include "registry.h"
#include "target.h"

#define MAX_WARNINGS 16
#define WARNING_MAX  240 /* bytes; the API asks for short warnings */

/* What a rule answers. RULE_DONE also when out of memory (ctx_t.oom). */
typedef enum { RULE_NEXT = 0, RULE_DONE } rule_result_t;

/* One evaluation: the inputs, what the rules found so far, the decision. */
typedef struct {
    const policy_config_t *cfg;
    const inject_t *inject; /* the configuration's rendered build container and volumes */
    const cJSON *pod;
    const wh_checks_t *checks;
    decision_t *d;
    bool oom;
    /* the pod's parts, once rule_pod_well_formed and rule_containers_well_formed passed */
    const cJSON *meta, *labels, *annots, *spec;
    bool have_annotation; /* the image-spec annotation is present */
    imagespec_list_t specs;
    size_t n_union; /* specs with builder union */
    podscan_t cs;   /* the containers and what each matched */
    /* the default repository's registry (rule_place_images) */
    bool have_default;
    registry_info_t def_info;
} ctx_t;

typedef rule_result_t rule_fn(ctx_t *x);

/* ---- how a rule records its answer -------------------------------------- */

/* The decision's arrays double as they grow: their room is the power of
 * two at or above their length, so appending reallocates only at lengths
 * 0, 1, 2, 4, ... and a pod's worth of appends costs linear time. */
static void *grow(void *v, size_t n, size_t size)
{
    return (n & (n - 1)) == 0 ? realloc(v, (n ? 2 * n : 1) * size) : v;
}

static bool push_str(ctx_t *x, char ***v, size_t *n, char *s)
{
    char **nv = s ? grow(*v, *n, sizeof **v) : NULL;
    if (!nv) {
        free(s);
        x->oom = true;
        return false;
    }
    nv[(*n)++] = s;
    *v = nv;
    return true;
}

/* printf into one line of at most `max` bytes (0: no limit), control
 * characters made spaces, cut text marked with "...". */
static char *vformat_oneline(size_t max, const char *fmt, va_list ap)
{
    buf_t raw = BUF_INIT, clean = BUF_INIT;
    buf_vprintf(&raw, fmt, ap);
    if (raw.oom) {
        buf_free(&raw);
        return NULL;
    }
    size_t n = raw.len;
    if (max && n > max) {
        n = max - 3;
        /* do not cut a UTF-8 sequence in half */
        while (n > 0 && ((unsigned char)raw.data[n] & 0xC0) == 0x80)
            n--;
    }
    buf_put_oneline(&clean, raw.data ? raw.data : "", n);
    if (n < raw.len)
        buf_puts(&clean, "...");
    buf_free(&raw);
    return buf_steal(&clean);
}

/* A warning for the user (the API server shows it to kubectl). */
__attribute__((format(printf, 2, 3))) static void warn(ctx_t *x, const char *fmt, ...)
{
    if (x->d->n_warnings >= MAX_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat_oneline(WARNING_MAX, fmt, ap);
    va_end(ap);
    push_str(x, &x->d->warnings, &x->d->n_warnings, s);
}

static void vreason(ctx_t *x, const char *fmt, va_list ap)
{
    push_str(x, &x->d->reasons, &x->d->n_reasons, vformat_oneline(0, fmt, ap));
}

/* Why, for people (review --explain) and logs. */
__attribute__((format(printf, 2, 3))) static void reason(ctx_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreason(x, fmt, ap);
    va_end(ap);
}

/* Ends the evaluation: the pod is allowed unchanged, for the reason given. */
__attribute__((format(printf, 2, 3))) static rule_result_t allow_unchanged(ctx_t *x,
                                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreason(x, fmt, ap);
    va_end(ap);
    return RULE_DONE;
}

/* Ends the evaluation: the pod is denied with `code` and a one-line message. */
__attribute__((format(printf, 3, 4))) static rule_result_t deny(ctx_t *x, int code, const char *fmt,
                                                                ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat_oneline(1024, fmt, ap);
    va_end(ap);
    if (!s) {
        x->oom = true;
        return RULE_DONE;
    }
    free(x->d->message);
    x->d->message = s;
    x->d->code = code;
    x->d->outcome = OUTCOME_DENIED;
    return RULE_DONE;
}

static rule_result_t out_of_memory(ctx_t *x)
{
    x->oom = true;
    return RULE_DONE;
}

/* The string member `key` of `obj`, NULL when absent or not a string. */
static const char *str_member(const cJSON *obj, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* At most `max` bytes of user text for a message, as "%.*s" arguments. */
#define CLIP(s, max) (int)(strlen(s) > (max) ? (max) : strlen(s)), (s)

static void spec_what(const imagespec_t *sp, char *dst, size_t n)
{
    snprintf(dst, n, "ImageSpec \"%.*s\"", CLIP(sp->name, 80));
}

static void classify_ref(const imageref_t *r, registry_info_t *info)
{
    registry_classify(r->domain.p ? r->domain.p : "", r->domain.n, r->path.p ? r->path.p : "",
                      r->path.n, info);
}

/* ---- which pods ---------------------------------------------------------- */

/* Denied 400: the pod, its metadata, labels or annotations are not objects
 * ("What is denied"). Golden: none; tests/unit/test_decide.c malformed pods. */
static rule_result_t rule_pod_well_formed(ctx_t *x)
{
    if (!cJSON_IsObject(x->pod))
        return deny(x, 400, "the admission request carries no pod object");
    x->meta = cJSON_GetObjectItemCaseSensitive(x->pod, "metadata");
    if (x->meta && !cJSON_IsObject(x->meta))
        return deny(x, 400, "metadata must be an object");
    x->labels = cJSON_GetObjectItemCaseSensitive(x->meta, "labels");
    x->annots = cJSON_GetObjectItemCaseSensitive(x->meta, "annotations");
    if (x->labels && !cJSON_IsObject(x->labels) && !cJSON_IsNull(x->labels))
        return deny(x, 400, "metadata.labels must be an object");
    if (x->annots && !cJSON_IsObject(x->annots) && !cJSON_IsNull(x->annots))
        return deny(x, 400, "metadata.annotations must be an object");
    return RULE_NEXT;
}

/* Only pods labelled builder=union are acted on ("The pod contract",
 * imagebuilder.union.ai/builder). Golden: allow-unlabelled-pod. */
static rule_result_t rule_selected(ctx_t *x)
{
    const char *builder = str_member(x->labels, WH_LABEL_BUILDER);
    if (!builder || strcmp(builder, "union") != 0)
        return allow_unchanged(x,
                               "the pod is not labelled " WH_LABEL_BUILDER "=union: nothing to do");
    return RULE_NEXT;
}

/* Already mutated pods get no second patch ("The pod contract",
 * imagebuilder.union.ai/mutated). Golden: allow-already-mutated. */
static rule_result_t rule_already_mutated(ctx_t *x)
{
    const char *marker = str_member(x->annots, WH_ANNOT_MUTATED);
    if (marker && strcmp(marker, "true") == 0)
        return allow_unchanged(x, "the pod is already mutated (" WH_ANNOT_MUTATED
                                  "=true): nothing to do");
    return RULE_NEXT;
}

/* Denied 400: malformed annotation, spec without name ("What is denied").
 * Golden: deny-bad-spec-json, deny-spec-without-name. */
static rule_result_t rule_annotation_parses(ctx_t *x)
{
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(x->annots, WH_ANNOT_SPEC);
    x->have_annotation = ann && !cJSON_IsNull(ann);
    if (!x->have_annotation)
        return RULE_NEXT;
    if (!cJSON_IsString(ann))
        return deny(x, 400, "annotation " WH_ANNOT_SPEC " must be a string holding JSON");
    char why[512];
    if (!imagespec_parse(ann->valuestring, strlen(ann->valuestring), &x->specs, why, sizeof why))
        return deny(x, 400, "annotation " WH_ANNOT_SPEC ": %s", why);
    return RULE_NEXT;
}

/* Only specs with builder union (or unionai) are acted on; an annotation
 * without one leaves the pod unchanged, with a warning ("What is denied,
 * what is warned"; "The pod contract"). Golden: allow-other-builder. */
static rule_result_t rule_has_union_specs(ctx_t *x)
{
    for (size_t s = 0; s < x->specs.n; s++) {
        const imagespec_t *sp = &x->specs.specs[s];
        if (sp->is_union) {
            x->n_union++;
            continue;
        }
        const char *nm = str_member(sp->json, "name");
        reason(x, "ImageSpec \"%.*s\" uses builder \"%.*s\", not union: ignored",
               CLIP(nm ? nm : "?", 80), CLIP(sp->builder ? sp->builder : "(none)", 40));
    }
    if (x->have_annotation && x->n_union == 0) {
        warn(x, "no ImageSpec in " WH_ANNOT_SPEC " uses builder union; pod left unchanged");
        return RULE_DONE;
    }
    return RULE_NEXT;
}

/* Denied 403: imageBuilder.enabled false and a union spec ("What is
 * denied"). Golden: deny-builder-disabled. */
static rule_result_t rule_builder_enabled(ctx_t *x)
{
    if (x->n_union && !x->cfg->enabled)
        return deny(x, 403,
                    "the image builder is disabled (imageBuilder.enabled is false); enable it or "
                    "build the image with another builder");
    return RULE_NEXT;
}

/* Denied 400: more containers and init containers than
 * imageBuilder.limits.maxContainersPerPod, before any is read ("What is
 * denied"). Golden: deny-too-many-containers. */
static rule_result_t rule_containers_bounded(ctx_t *x)
{
    size_t n = podscan_count(cJSON_GetObjectItemCaseSensitive(x->pod, "spec"));
    if (n > x->cfg->limits.max_containers)
        return deny(x, 400,
                    "the pod has %zu containers and init containers; at most %u are accepted "
                    "(imageBuilder.limits.maxContainersPerPod): use fewer containers in a pod "
                    "that builds images",
                    n, x->cfg->limits.max_containers);
    return RULE_NEXT;
}

/* Denied 400: no spec object, containers that are not objects, images
 * that are not strings ("What is denied"); then each container is matched
 * to a spec or a logical registry (podscan.c). Golden: none (malformed);
 * tests/unit/test_decide.c malformed pods, tests/unit/test_podscan.c. */
static rule_result_t rule_containers_well_formed(ctx_t *x)
{
    x->spec = cJSON_GetObjectItemCaseSensitive(x->pod, "spec");
    if (!cJSON_IsObject(x->spec))
        return deny(x, 400, "the pod has no spec object");
    char why[128];
    podscan_status_t st = podscan_read(x->spec, &x->cs, why, sizeof why);
    if (st == PODSCAN_MALFORMED)
        return deny(x, 400, "%s", why);
    if (st != PODSCAN_OK)
        return out_of_memory(x);
    podscan_match(&x->cs, &x->specs, &x->cfg->logical_registries);
    return RULE_NEXT;
}

/* Denied 400: no container runs the spec's image, or runs it without a tag
 * ("What is denied"); a registry written with http(s):// is warned about
 * ("Where the image goes"). Golden: deny-no-container-uses-spec,
 * deny-image-without-tag, mutate-scheme-stripped. */
static rule_result_t rule_spec_used_with_tag(ctx_t *x)
{
    /* one pass over the containers: how many run each spec, the first untagged */
    size_t uses[IMAGESPEC_MAX_SPECS] = {0};
    const container_t *untagged[IMAGESPEC_MAX_SPECS] = {0};
    for (size_t i = 0; i < x->cs.n; i++) {
        const container_t *ct = &x->cs.cs[i];
        if (ct->spec < 0 || ct->spec >= IMAGESPEC_MAX_SPECS)
            continue;
        uses[ct->spec]++;
        if (!ct->ref.tag.n && !untagged[ct->spec])
            untagged[ct->spec] = ct;
    }
    for (size_t s = 0; s < x->specs.n; s++) {
        const imagespec_t *sp = &x->specs.specs[s];
        if (!sp->is_union)
            continue;
        char what[128];
        spec_what(sp, what, sizeof what);
        size_t used = uses[s];
        const container_t *ct = untagged[s];
        if (ct)
            return deny(x, 400,
                        "%s: container \"%.*s\" uses image \"%.*s\" without a tag; the tag "
                        "must be the ImageSpec hash computed by the SDK",
                        what, CLIP(ct->name, 63), CLIP(ct->image, 200));
        if (!used && sp->has_registry)
            return deny(x, 400,
                        "%s: no container uses it; expected an image \"%.*s:<tag>\" or "
                        "\"%.*s/%.*s:<tag>\"",
                        what, CLIP(sp->name, 80), CLIP(sp->registry, 100), CLIP(sp->name, 80));
        if (!used)
            return deny(x, 400, "%s: no container uses it; expected an image \"%.*s:<tag>\"", what,
                        CLIP(sp->name, 80));
        if (sp->scheme_stripped)
            warn(x, "%s: the http(s):// prefix of registry was removed; write \"%.*s\"", what,
                 CLIP(sp->registry, 80));
    }
    return RULE_NEXT;
}

/* ---- where each image goes ---------------------------------------------- */

/* Denied 400: an image under a logical registry without a tag ("What is
 * denied"). Golden: none; mutate-logical-registry-no-spec has a tag. */
static rule_result_t rule_logical_image_has_tag(ctx_t *x, const container_t *ct)
{
    if (ct->spec == PODSCAN_SPEC_LOGICAL && !ct->ref.tag.n)
        return deny(x, 400,
                    "container \"%.*s\": image \"%.*s\" under a logical registry needs a tag",
                    CLIP(ct->name, 63), CLIP(ct->image, 200));
    return RULE_NEXT;
}

/* Denied 403: no registry in the spec and no defaultRepository ("What is
 * denied"). Golden: deny-no-repository. */
static rule_result_t rule_default_repository_set(ctx_t *x, const char *what)
{
    if (!x->have_default)
        return deny(x, 403,
                    "%s: no target repository; set \"registry\" in the ImageSpec or "
                    "imageBuilder.defaultRepository in the webhook configuration",
                    what);
    return RULE_NEXT;
}

/* The target per layout ("Where the image goes", target.c); denied 400
 * when it is not a valid reference. Golden: mutate-ecr-tag-layout,
 * mutate-ecr-forced-path-layout, mutate-gar-path-layout, mutate-digest-kept,
 * deny-target-tag-too-long. */
static rule_result_t rule_target_valid(ctx_t *x, container_t *ct, const char *registry,
                                       strview_t name, const char *what)
{
    char *t;
    imageref_err_t e;
    target_status_t st =
        target_make(registry, x->cfg->default_repository,
                    target_layout(x->cfg->layout, x->def_info.kind), name, &ct->ref, &t, &e);
    if (st == TARGET_OOM)
        return out_of_memory(x);
    if (st == TARGET_INVALID) {
        deny(x, 400,
             "%s: the target image \"%.*s\" would be invalid (%s); shorten the ImageSpec "
             "name or the repository",
             what, CLIP(t, 300), imageref_strerror(e));
        free(t);
        return RULE_DONE;
    }
    ct->target = t;
    return RULE_NEXT;
}

static bool host_has_basic(const policy_config_t *cfg, strview_t domain)
{
    for (size_t i = 0; i < cfg->basic_auth_registries.n; i++) {
        const char *h = cfg->basic_auth_registries.items[i];
        if (strlen(h) == domain.n && strncasecmp(h, domain.p, domain.n) == 0)
            return true;
    }
    return false;
}

/* Denied 403 when authenticationType cannot reach the spec's registry (aws
 * reaches only Amazon ECR: registry.c's table), unless the spec names an
 * image pull secret: then a warning ("What is denied"). Golden:
 * deny-auth-mismatch, deny-aws-dockerhub, deny-basic-auth-unknown-host,
 * allow-pull-secret-fallback, mutate-basic-auth-host, mutate-spec-registry-noop. */
static rule_result_t rule_target_reachable(ctx_t *x, const imagespec_t *sp, strview_t host,
                                           const registry_info_t *info, const char *what)
{
    const policy_config_t *cfg = x->cfg;
    if (registry_auth_reaches(cfg->auth, info, host_has_basic(cfg, host)))
        return RULE_NEXT;
    if (!sp->pull_secret)
        return deny(x, 403,
                    "%s: registry \"%.*s\" cannot be reached with authenticationType \"%s\", "
                    "which authenticates to %s; use such a registry, drop \"registry\" to "
                    "use the default repository, or set "
                    "builder_options.imagepull_secret_name",
                    what, CLIP(sp->registry, 120), auth_type_name(cfg->auth),
                    auth_type_reach(cfg->auth));
    warn(x,
         "%s: registry %.*s is not reachable with authenticationType %s; using image pull "
         "secret %.*s",
         what, CLIP(sp->registry, 60), auth_type_name(cfg->auth), CLIP(sp->pull_secret, 40));
    return RULE_NEXT;
}

/* Warned: ECR in another AWS account, Artifact Registry in another GCP
 * project than the default repository ("What is denied, what is warned").
 * Golden: warn-cross-account-ecr, warn-cross-project-gar. */
static rule_result_t rule_same_cloud_account(ctx_t *x, const registry_info_t *info,
                                             const char *what)
{
    const registry_info_t *def = &x->def_info;
    if (x->have_default && info->kind == REGISTRY_ECR && def->kind == REGISTRY_ECR &&
        strcmp(info->account, def->account) != 0)
        warn(x,
             "%s: ECR account %s differs from the default repository's (%s): the repository "
             "policy must grant AllowPull and AllowDescribeImages",
             what, info->account, def->account);
    if (x->have_default && (info->kind == REGISTRY_GAR || info->kind == REGISTRY_GCR) &&
        (def->kind == REGISTRY_GAR || def->kind == REGISTRY_GCR) && info->project[0] &&
        strcmp(info->project, def->project) != 0)
        warn(x,
             "%s: GCP project %s differs from the default repository's (%s): grant Artifact "
             "Registry Writer (builder) and Reader (nodes, operator proxy)",
             what, info->project, def->project);
    return RULE_NEXT;
}

/* The rules of one container that runs a spec's image or a logical
 * registry's, in order. */
static rule_result_t place_image(ctx_t *x, container_t *ct)
{
    if (rule_logical_image_has_tag(x, ct) == RULE_DONE)
        return RULE_DONE;
    const imagespec_t *sp = ct->spec >= 0 ? &x->specs.specs[ct->spec] : NULL;
    char what[160];
    if (sp)
        spec_what(sp, what, sizeof what);
    else
        snprintf(what, sizeof what, "container \"%.*s\"", CLIP(ct->name, 63));
    if (!sp || !sp->has_registry) {
        strview_t nm = sp ? (strview_t){sp->name, strlen(sp->name)} : ct->logical;
        if (rule_default_repository_set(x, what) == RULE_DONE)
            return RULE_DONE;
        return rule_target_valid(x, ct, NULL, nm, what);
    }
    strview_t nm = {sp->name, strlen(sp->name)};
    if (rule_target_valid(x, ct, sp->registry, nm, what) == RULE_DONE)
        return RULE_DONE;
    imageref_t tr;
    if (imageref_parse(ct->target, strlen(ct->target), &tr) != IMAGEREF_OK)
        return RULE_NEXT; /* rule_target_valid checked it */
    registry_info_t info;
    classify_ref(&tr, &info);
    char spec_name[128];
    spec_what(sp, spec_name, sizeof spec_name);
    if (rule_target_reachable(x, sp, tr.domain, &info, spec_name) == RULE_DONE)
        return RULE_DONE;
    return rule_same_cloud_account(x, &info, spec_name);
}

/* "Where the image goes": every container that runs a spec's image or an
 * image under a logical registry gets its target, in container order. */
static rule_result_t rule_place_images(ctx_t *x)
{
    const char *repo = x->cfg->default_repository;
    imageref_t def_ref;
    if (repo && *repo && imageref_parse(repo, strlen(repo), &def_ref) == IMAGEREF_OK) {
        x->have_default = true;
        classify_ref(&def_ref, &x->def_info);
    }
    for (size_t i = 0; i < x->cs.n; i++)
        if (x->cs.cs[i].spec != PODSCAN_SPEC_NONE && place_image(x, &x->cs.cs[i]) == RULE_DONE)
            return RULE_DONE;
    return RULE_NEXT;
}

/* ---- the pod as a whole -------------------------------------------------- */

/* Denied 400: more distinct images to build from ImageSpecs than
 * imageBuilder.limits.maxBuildsPerPod, counted before the registry check
 * so that the answer does not depend on it ("What is denied"). Golden:
 * deny-too-many-builds. */
static rule_result_t rule_builds_bounded(ctx_t *x)
{
    size_t n;
    if (!podscan_spec_targets(&x->cs, &n))
        return out_of_memory(x);
    if (n > x->cfg->limits.max_builds)
        return deny(x, 400,
                    "the pod runs %zu distinct images built from ImageSpecs; at most %u are "
                    "built per pod (imageBuilder.limits.maxBuildsPerPod): use fewer image tags "
                    "in one pod",
                    n, x->cfg->limits.max_builds);
    return RULE_NEXT;
}

/* Denied 400: a labelled pod with neither a spec nor a logical-registry
 * image ("What is denied"). Golden: deny-label-without-spec. */
static rule_result_t rule_label_without_spec(ctx_t *x)
{
    for (size_t i = 0; i < x->cs.n; i++)
        if (x->cs.cs[i].target)
            return RULE_NEXT;
    if (!x->have_annotation)
        return deny(x, 400,
                    "the pod is labelled " WH_LABEL_BUILDER "=union but has no " WH_ANNOT_SPEC
                    " annotation; add the ImageSpec JSON there or remove the label");
    return RULE_NEXT;
}

/* Denied 403 when the production namespace does not exist; warned when the
 * check failed ("What is denied, what is warned"). Golden: none (live
 * check); tests/unit/test_decide.c, tests/integration. */
static rule_result_t rule_production_namespace(ctx_t *x)
{
    check_answer_t ns = x->checks ? x->checks->production_namespace : CHECK_NOT_RUN;
    const char *name = decide_production_namespace(x->cfg);
    if (x->n_union && ns == CHECK_ABSENT)
        return deny(x, 403,
                    "the production domain namespace \"%s\" does not exist; create it (kubectl "
                    "create namespace %s) or fix imageBuilder.productionDomain and "
                    "namespaceTemplate",
                    name, name);
    if (x->n_union && ns == CHECK_FAILED)
        warn(x, "could not verify that namespace %s exists; allowed", name);
    return RULE_NEXT;
}

static bool record_target(ctx_t *x, const container_t *ct, bool build, check_answer_t exists)
{
    decision_t *d = x->d;
    target_t *t = grow(d->targets, d->n_targets, sizeof *t);
    if (!t)
        return false;
    d->targets = t;
    t = &d->targets[d->n_targets];
    memset(t, 0, sizeof *t);
    t->container = strdup(ct->name);
    t->original = strdup(ct->image);
    t->target = strdup(ct->target);
    t->init = ct->init;
    t->build = build;
    t->exists = exists;
    d->n_targets++;
    return t->container && t->original && t->target;
}

/* A spec image is built unless the registry check found it; a failed check
 * builds, with a warning ("What is injected", "What is denied, what is
 * warned"). Golden: mutate-two-specs, mutate-logical-registry-no-spec;
 * tests/unit/test_decide.c for the registry check's answers. */
static rule_result_t rule_build_needed(ctx_t *x)
{
    for (size_t i = 0; i < x->cs.n; i++) {
        const container_t *ct = &x->cs.cs[i];
        if (!ct->target)
            continue;
        check_answer_t ex = checks_image_answer(x->checks, ct->target);
        bool build = ct->spec >= 0 && ex != CHECK_PRESENT;
        if (!record_target(x, ct, build, ex))
            return out_of_memory(x);
        if (ex == CHECK_FAILED)
            warn(x, "could not check whether %.*s exists; building it", CLIP(ct->target, 160));
        reason(x, "%s \"%s\": %s -> %s%s", ct->init ? "init container" : "container", ct->name,
               ct->image, ct->target,
               ct->spec == PODSCAN_SPEC_LOGICAL ? " (logical registry, no build)"
               : build                          ? " (build injected)"
                                                : " (image exists, no build)");
    }
    return RULE_NEXT;
}

/* Allowed without a patch when every image already is its target and
 * exists. Golden: none (needs the registry check); tests/unit/test_decide.c. */
static rule_result_t rule_something_to_change(ctx_t *x)
{
    const decision_t *d = x->d;
    for (size_t i = 0; i < d->n_targets; i++)
        if (d->targets[i].build || strcmp(d->targets[i].original, d->targets[i].target) != 0)
            return RULE_NEXT;
    return allow_unchanged(x, "every image is already its target and exists: no patch");
}

/* Mutated: images rewritten, builds injected, the mutation recorded
 * (patch.c); denied 400 when a name the build needs is taken, or when the
 * patch would be larger than imageBuilder.limits.maxPatchBytes ("What is
 * injected", "What is denied"). Golden: every mutate-* case,
 * mutate-existing-init-and-volumes, deny-patch-too-large. */
static rule_result_t rule_mutate(ctx_t *x)
{
    decision_t *d = x->d;
    patch_input_t in = {
        .meta = x->meta,
        .spec = x->spec,
        .pod = &x->cs,
        .specs = &x->specs,
        .targets = d->targets,
        .n_targets = d->n_targets,
        .inject = x->inject,
        .azure = x->cfg->auth == AUTH_AZURE,
        .max_bytes = x->cfg->limits.max_patch_bytes,
    };
    char why[320];
    patch_status_t st = patch_build(&in, &d->patch, &d->audit, why, sizeof why);
    if (st == PATCH_DENIED)
        return deny(x, 400, "%s", why);
    if (st != PATCH_OK || !(d->patch_json = cJSON_PrintUnformatted(d->patch)))
        return out_of_memory(x);
    size_t n = strlen(d->patch_json);
    if (n > in.max_bytes)
        return deny(x, 400,
                    "the patch would be %zu bytes, more than imageBuilder.limits.maxPatchBytes "
                    "(%zu): build fewer images or rewrite fewer containers in one pod",
                    n, in.max_bytes);
    d->n_ops = (size_t)cJSON_GetArraySize(d->patch);
    d->outcome = OUTCOME_MUTATED;
    return RULE_DONE;
}

/* ---- the policy, in order ------------------------------------------------ */

static rule_fn *const POLICY[] = {
    rule_pod_well_formed,        /* 400 on a malformed pod */
    rule_selected,               /* not labelled builder=union: allowed */
    rule_already_mutated,        /* mutated=true: allowed, no second patch */
    rule_annotation_parses,      /* 400 on a malformed ImageSpec */
    rule_has_union_specs,        /* no union spec: allowed with a warning */
    rule_builder_enabled,        /* 403 when the builder is disabled */
    rule_containers_bounded,     /* 400 past maxContainersPerPod */
    rule_containers_well_formed, /* 400 on malformed containers; match images */
    rule_spec_used_with_tag,     /* 400 when a spec image is unused or untagged */
    rule_place_images,           /* targets, registry reach, cross-account warnings */
    rule_builds_bounded,         /* 400 past maxBuildsPerPod */
    rule_label_without_spec,     /* 400 when the label has nothing to act on */
    rule_production_namespace,   /* 403 when the production namespace is missing */
    rule_build_needed,           /* which targets need a build */
    rule_something_to_change,    /* nothing to change: allowed */
    rule_mutate,                 /* the patch */
};

bool rules_apply(const policy_t *p, const cJSON *pod, const wh_checks_t *checks, decision_t *d)
{
    ctx_t x = {.cfg = p->cfg, .inject = p->inject, .pod = pod, .checks = checks, .d = d};
    for (size_t i = 0; i < sizeof POLICY / sizeof POLICY[0]; i++)
        if (POLICY[i](&x) == RULE_DONE || x.oom)
            break;
    podscan_free(&x.cs);
    imagespec_list_free(&x.specs);
    return !x.oom;
}
