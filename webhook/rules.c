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
 * reaches it is registry.c's table; how a rule records its answer (deny,
 * warn, reason) is verdict.c's. */
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
#include "rules_int.h"
#include "specache.h"
#include "target.h"

/* ---- which pods ---------------------------------------------------------- */

/* Denied 400: the pod, its metadata, labels or annotations are not objects
 * ("What is denied"). Golden: none; tests/unit/test_decide.c malformed pods. */
static rule_result_t rule_pod_well_formed(ctx_t *x)
{
    if (!cJSON_IsObject(x->pod))
        return verdict_deny(x, 400, "the admission request carries no pod object");
    x->meta = cJSON_GetObjectItemCaseSensitive(x->pod, "metadata");
    if (x->meta && !cJSON_IsObject(x->meta))
        return verdict_deny(x, 400, "metadata must be an object");
    x->labels = cJSON_GetObjectItemCaseSensitive(x->meta, "labels");
    x->annots = cJSON_GetObjectItemCaseSensitive(x->meta, "annotations");
    if (x->labels && !cJSON_IsObject(x->labels) && !cJSON_IsNull(x->labels))
        return verdict_deny(x, 400, "metadata.labels must be an object");
    if (x->annots && !cJSON_IsObject(x->annots) && !cJSON_IsNull(x->annots))
        return verdict_deny(x, 400, "metadata.annotations must be an object");
    return RULE_NEXT;
}

/* Pods labelled builder=union are acted on ("The pod contract",
 * imagebuilder.union.ai/builder); with podSelection logicalRegistry, so are
 * unlabelled pods with an image under a logical registry, as
 * podscan_match() finds it ("Which pods"). Golden: allow-unlabelled-pod,
 * allow-flyte-unlabelled-label-mode, mutate-flyte-unlabelled-logical-registry,
 * allow-unlabelled-lookalike-registry. */
static rule_result_t rule_selected(ctx_t *x)
{
    const char *builder = verdict_str_member(x->labels, WH_LABEL_BUILDER);
    x->labelled = builder && strcmp(builder, "union") == 0;
    if (x->labelled)
        return RULE_NEXT;
    if (x->cfg->pod_select != POD_SELECT_LOGICAL)
        return verdict_allow_unchanged(x, "the pod is not labelled " WH_LABEL_BUILDER
                                          "=union: nothing to do");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(x->pod, "spec");
    if (!podscan_uses_logical(spec, &x->cfg->logical_registries))
        return verdict_allow_unchanged(x,
                                       "the pod is not labelled " WH_LABEL_BUILDER
                                       "=union and runs no image under a logical registry: nothing "
                                       "to do");
    verdict_reason(x,
                   "not labelled " WH_LABEL_BUILDER "=union; selected by an image under a logical "
                   "registry (podSelection logicalRegistry): rewritten, never built");
    return RULE_NEXT;
}

/* Already mutated pods get no second patch ("The pod contract",
 * imagebuilder.union.ai/mutated). Golden: allow-already-mutated. */
static rule_result_t rule_already_mutated(ctx_t *x)
{
    const char *marker = verdict_str_member(x->annots, WH_ANNOT_MUTATED);
    if (marker && strcmp(marker, "true") == 0)
        return verdict_allow_unchanged(x, "the pod is already mutated (" WH_ANNOT_MUTATED
                                          "=true): nothing to do");
    return RULE_NEXT;
}

/* Denied 400: malformed annotation, spec without name ("What is denied").
 * Without the label the annotation is not read, with a warning ("Which
 * pods"). Golden: deny-bad-spec-json, deny-spec-without-name,
 * warn-annotation-without-label. */
static rule_result_t rule_annotation_parses(ctx_t *x)
{
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(x->annots, WH_ANNOT_SPEC);
    x->have_annotation = ann && !cJSON_IsNull(ann);
    if (x->have_annotation && !x->labelled) {
        verdict_warn(x,
                     "annotation " WH_ANNOT_SPEC " is ignored without the label " WH_LABEL_BUILDER
                     "=union: nothing is built");
        x->have_annotation = false;
    }
    if (!x->have_annotation)
        return RULE_NEXT;
    if (!cJSON_IsString(ann))
        return verdict_deny(x, 400, "annotation " WH_ANNOT_SPEC " must be a string holding JSON");
    char why[512];
    const char *text = ann->valuestring;
    size_t len = strlen(text);
    if (!(x->spec_cache ? specache_parse(x->spec_cache, text, len, &x->specs, why, sizeof why)
                        : imagespec_parse(text, len, &x->specs, why, sizeof why)))
        return verdict_deny(x, 400, "annotation " WH_ANNOT_SPEC ": %s", why);
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
        const char *nm = sp->given_name;
        verdict_reason(x, "ImageSpec \"%.*s\" uses builder \"%.*s\", not union: ignored",
                       CLIP(nm ? nm : "?", 80), CLIP(sp->builder ? sp->builder : "(none)", 40));
    }
    if (x->have_annotation && x->n_union == 0) {
        verdict_warn(x, "no ImageSpec in " WH_ANNOT_SPEC " uses builder union; pod left unchanged");
        return RULE_DONE;
    }
    return RULE_NEXT;
}

/* Denied 403: imageBuilder.enabled false and a union spec ("What is
 * denied"). Golden: deny-builder-disabled. */
static rule_result_t rule_builder_enabled(ctx_t *x)
{
    if (x->n_union && !x->cfg->enabled)
        return verdict_deny(
            x, 403,
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
        return verdict_deny(
            x, 400,
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
        return verdict_deny(x, 400, "the pod has no spec object");
    char why[128];
    podscan_status_t st = podscan_read(x->spec, &x->cs, why, sizeof why);
    if (st == PODSCAN_MALFORMED)
        return verdict_deny(x, 400, "%s", why);
    if (st != PODSCAN_OK)
        return verdict_out_of_memory(x);
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
        size_t used = uses[s];
        const container_t *ct = untagged[s];
        if (!ct && used && !sp->scheme_stripped)
            continue; /* nothing to say: no message to write */
        char what[128];
        verdict_spec_what(sp, what, sizeof what);
        if (ct)
            return verdict_deny(x, 400,
                                "%s: container \"%.*s\" uses image \"%.*s\" without a tag; the tag "
                                "must be the ImageSpec hash computed by the SDK",
                                what, CLIP(ct->name, 63), CLIP(ct->image, 200));
        if (!used && sp->has_registry)
            return verdict_deny(x, 400,
                                "%s: no container uses it; expected an image \"%.*s:<tag>\" or "
                                "\"%.*s/%.*s:<tag>\"",
                                what, CLIP(sp->name, 80), CLIP(sp->registry, 100),
                                CLIP(sp->name, 80));
        if (!used)
            return verdict_deny(x, 400,
                                "%s: no container uses it; expected an image \"%.*s:<tag>\"", what,
                                CLIP(sp->name, 80));
        if (sp->scheme_stripped)
            verdict_warn(x, "%s: the http(s):// prefix of registry was removed; write \"%.*s\"",
                         what, CLIP(sp->registry, 80));
    }
    return RULE_NEXT;
}

/* ---- where each image goes ---------------------------------------------- */

/* Denied 400: an image under a logical registry without a tag ("What is
 * denied"). Golden: none; mutate-logical-registry-no-spec has a tag. */
static rule_result_t rule_logical_image_has_tag(ctx_t *x, const container_t *ct)
{
    if (ct->spec == PODSCAN_SPEC_LOGICAL && !ct->ref.tag.n)
        return verdict_deny(
            x, 400, "container \"%.*s\": image \"%.*s\" under a logical registry needs a tag",
            CLIP(ct->name, 63), CLIP(ct->image, 200));
    return RULE_NEXT;
}

/* Denied 403: no registry in the spec and no defaultRepository ("What is
 * denied"). Golden: deny-no-repository. */
static rule_result_t rule_default_repository_set(ctx_t *x, const char *what)
{
    if (!x->have_default)
        return verdict_deny(x, 403,
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
                                       strview_t name, const char *what, imageref_t *parsed)
{
    char *t;
    imageref_err_t e;
    target_status_t st = target_make(registry, x->cfg->default_repository,
                                     target_layout(x->cfg->layout, x->def_info->kind), name,
                                     &ct->ref, &t, parsed, &e);
    if (st == TARGET_OOM)
        return verdict_out_of_memory(x);
    if (st == TARGET_INVALID) {
        verdict_deny(x, 400,
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
        return verdict_deny(
            x, 403,
            "%s: registry \"%.*s\" cannot be reached with authenticationType \"%s\", "
            "which authenticates to %s; use such a registry, drop \"registry\" to "
            "use the default repository, or set "
            "builder_options.imagepull_secret_name",
            what, CLIP(sp->registry, 120), auth_type_name(cfg->auth), auth_type_reach(cfg->auth));
    verdict_warn(x,
                 "%s: registry %.*s is not reachable with authenticationType %s; using image pull "
                 "secret %.*s",
                 what, CLIP(sp->registry, 60), auth_type_name(cfg->auth),
                 CLIP(sp->pull_secret, 40));
    return RULE_NEXT;
}

/* Warned: ECR in another AWS account, Artifact Registry in another GCP
 * project than the default repository ("What is denied, what is warned").
 * Golden: warn-cross-account-ecr, warn-cross-project-gar. */
static rule_result_t rule_same_cloud_account(ctx_t *x, const registry_info_t *info,
                                             const char *what)
{
    const registry_info_t *def = x->def_info;
    if (x->have_default && info->kind == REGISTRY_ECR && def->kind == REGISTRY_ECR &&
        strcmp(info->account, def->account) != 0)
        verdict_warn(
            x,
            "%s: ECR account %s differs from the default repository's (%s): the repository "
            "policy must grant AllowPull and AllowDescribeImages",
            what, info->account, def->account);
    if (x->have_default && (info->kind == REGISTRY_GAR || info->kind == REGISTRY_GCR) &&
        (def->kind == REGISTRY_GAR || def->kind == REGISTRY_GCR) && info->project[0] &&
        strcmp(info->project, def->project) != 0)
        verdict_warn(
            x,
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
        verdict_spec_what(sp, what, sizeof what);
    else
        snprintf(what, sizeof what, "container \"%.*s\"", CLIP(ct->name, 63));
    if (!sp || !sp->has_registry) {
        strview_t nm = sp ? (strview_t){sp->name, strlen(sp->name)} : ct->logical;
        if (rule_default_repository_set(x, what) == RULE_DONE)
            return RULE_DONE;
        return rule_target_valid(x, ct, NULL, nm, what, NULL);
    }
    strview_t nm = {sp->name, strlen(sp->name)};
    imageref_t tr; /* the target, parsed */
    if (rule_target_valid(x, ct, sp->registry, nm, what, &tr) == RULE_DONE)
        return RULE_DONE;
    registry_info_t info;
    verdict_classify_ref(&tr, &info);
    if (rule_target_reachable(x, sp, tr.domain, &info, what) == RULE_DONE)
        return RULE_DONE;
    return rule_same_cloud_account(x, &info, what);
}

/* "Where the image goes": every container that runs a spec's image or an
 * image under a logical registry gets its target, in container order. */
static rule_result_t rule_place_images(ctx_t *x)
{
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
        return verdict_out_of_memory(x);
    if (n > x->cfg->limits.max_builds)
        return verdict_deny(
            x, 400,
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
    if (!x->labelled)
        return RULE_NEXT;
    for (size_t i = 0; i < x->cs.n; i++)
        if (x->cs.cs[i].target)
            return RULE_NEXT;
    if (!x->have_annotation)
        return verdict_deny(x, 400,
                            "the pod is labelled " WH_LABEL_BUILDER
                            "=union but has no " WH_ANNOT_SPEC
                            " annotation; add the ImageSpec JSON there or remove the label");
    return RULE_NEXT;
}

/* Denied 403 when the production namespace does not exist; warned when the
 * check failed (with the check's reason, when it gave one) or the namespace
 * is being deleted ("What is denied, what is warned"). Golden: none (live
 * check); tests/unit/test_decide.c, tests/integration, tests/live. */
static rule_result_t rule_production_namespace(ctx_t *x)
{
    const wh_checks_t *c = x->checks;
    check_answer_t ns = c ? c->production_namespace : CHECK_NOT_RUN;
    const char *name = decide_production_namespace(x->cfg);
    if (x->n_union && ns == CHECK_ABSENT)
        return verdict_deny(
            x, 403,
            "the production domain namespace \"%s\" does not exist; create it (kubectl "
            "create namespace %s) or fix imageBuilder.productionDomain and "
            "namespaceTemplate",
            name, name);
    if (x->n_union && ns == CHECK_FAILED && c->namespace_reason && c->namespace_reason[0])
        verdict_warn(x, "could not verify that namespace %s exists (%.*s); allowed", name,
                     CLIP(c->namespace_reason, 80));
    else if (x->n_union && ns == CHECK_FAILED)
        verdict_warn(x, "could not verify that namespace %s exists; allowed", name);
    if (x->n_union && ns == CHECK_PRESENT && c->namespace_terminating)
        verdict_warn(
            x,
            "namespace %s is being deleted (Terminating); builds will fail until it is created "
            "again; allowed",
            name);
    return RULE_NEXT;
}

static bool record_target(ctx_t *x, const container_t *ct, bool build, check_answer_t exists)
{
    decision_t *d = x->d;
    target_t *t = verdict_grow(d->targets, d->n_targets, sizeof *t);
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
    t->logical = ct->spec == PODSCAN_SPEC_LOGICAL;
    t->exists = exists;
    d->n_targets++;
    return t->container && t->original && t->target;
}

/* Denied 403 when the registry check found that an image under a logical
 * registry that no ImageSpec names does not exist: nothing would build it
 * and the pod could never start ("What is denied"). Golden: none (needs
 * the registry check); tests/unit/test_podselect.c, tests/live. */
static rule_result_t rule_logical_image_exists(ctx_t *x)
{
    for (size_t i = 0; i < x->cs.n; i++) {
        const container_t *ct = &x->cs.cs[i];
        if (!ct->target || ct->spec != PODSCAN_SPEC_LOGICAL ||
            checks_image_answer(x->checks, ct->target) != CHECK_ABSENT)
            continue;
        return verdict_deny(
            x, 403,
            "%s \"%.*s\": image \"%.*s\" does not exist in the default repository "
            "(%.*s) and nothing can build it, as no ImageSpec names it; push the image, "
            "or attach its ImageSpec: label the pod " WH_LABEL_BUILDER
            "=union and put the ImageSpec JSON (flytekit field names, builder union) "
            "in the annotation " WH_ANNOT_SPEC " (hack/imagespec-annotation.sh prints "
            "both)",
            ct->init ? "init container" : "container", CLIP(ct->name, 63), CLIP(ct->image, 200),
            CLIP(ct->target, 300));
    }
    return RULE_NEXT;
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
            return verdict_out_of_memory(x);
        const char *why = checks_image_reason(x->checks, ct->target);
        const char *then = build ? "building it" : "nothing builds it";
        if (ex == CHECK_FAILED && why)
            verdict_warn(x, "could not check whether %.*s exists (%.*s); %s", CLIP(ct->target, 120),
                         CLIP(why, 80), then);
        else if (ex == CHECK_FAILED)
            verdict_warn(x, "could not check whether %.*s exists; %s", CLIP(ct->target, 160), then);
        verdict_reason(x, "%s \"%s\": %s -> %s%s", ct->init ? "init container" : "container",
                       ct->name, ct->image, ct->target,
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
    return verdict_allow_unchanged(x, "every image is already its target and exists: no patch");
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
    patch_out_t out;
    patch_status_t st = patch_build(&in, &out, why, sizeof why);
    if (st == PATCH_DENIED)
        return verdict_deny(x, 400, "%s", why);
    if (st != PATCH_OK)
        return verdict_out_of_memory(x);
    d->patch_json = out.ops;
    d->patch_b64 = out.ops_b64;
    d->audit_json = out.audit;
    size_t n = out.ops_len;
    if (n > in.max_bytes)
        return verdict_deny(
            x, 400,
            "the patch would be %zu bytes, more than imageBuilder.limits.maxPatchBytes "
            "(%zu): build fewer images or rewrite fewer containers in one pod",
            n, in.max_bytes);
    d->n_ops = out.n_ops;
    d->outcome = OUTCOME_MUTATED;
    return RULE_DONE;
}

/* ---- the policy, in order ------------------------------------------------ */

static rule_fn *const POLICY[] = {
    rule_pod_well_formed,        /* 400 on a malformed pod */
    rule_selected,               /* not selected (label, podSelection): allowed */
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
    rule_logical_image_exists,   /* 403 when a logical image is missing, nothing builds it */
    rule_build_needed,           /* which targets need a build */
    rule_something_to_change,    /* nothing to change: allowed */
    rule_mutate,                 /* the patch */
};

bool rules_apply(const policy_t *p, const cJSON *pod, const wh_checks_t *checks,
                 const decide_opts_t *opts, decision_t *d)
{
    ctx_t x = {.cfg = p->cfg,
               .inject = p->inject,
               .pod = pod,
               .checks = checks,
               .d = d,
               .have_default = p->have_default,
               .def_info = &p->default_info,
               .reasons = opts->reasons,
               .spec_cache = opts->spec_cache};
    for (size_t i = 0; i < sizeof POLICY / sizeof POLICY[0]; i++)
        if (POLICY[i](&x) == RULE_DONE || x.oom)
            break;
    podscan_free(&x.cs);
    imagespec_list_free(&x.specs);
    return !x.oom;
}
