/* decide: pod + configuration + live-check answers -> admission decision.
 *
 * The whole policy of the webhook lives here (see decide.h): which pods and
 * containers are acted on, the target image of each, the registry and
 * authentication rules, and the JSON Patch that injects the build. */
#include "decide.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "imageref.h"
#include "imagespec.h"
#include "jsonpatch.h"
#include "patch.h"
#include "podscan.h"
#include "registry.h"
#include "target.h"

#define MAX_WARNINGS 16
#define WARNING_MAX  240 /* bytes; the API asks for short warnings */
#define SPEC_LOGICAL PODSCAN_SPEC_LOGICAL
#define SPEC_NONE    PODSCAN_SPEC_NONE

typedef struct {
    const policy_config_t *cfg;
    const cJSON *pod;
    const wh_checks_t *checks;
    decision_t *d;
    imagespec_list_t specs;
    podscan_t pod_cs; /* the pod's containers */
    bool oom;
    const inject_t *inject; /* the configuration's rendered build container and volumes */
    /* the default repository's registry */
    bool have_default;
    registry_info_t def_info;
} ctx_t;

const char *outcome_name(outcome_t o)
{
    switch (o) {
    case OUTCOME_MUTATED:
        return "mutated";
    case OUTCOME_DENIED:
        return "denied";
    default:
        return "allowed";
    }
}

const char *decide_production_namespace(const policy_config_t *cfg)
{
    return cfg->production_namespace ? cfg->production_namespace : "";
}

/* ---- small helpers ------------------------------------------------------ */

static bool push_str(ctx_t *x, char ***v, size_t *n, char *s)
{
    char **nv = s ? realloc(*v, (*n + 1) * sizeof **v) : NULL;
    if (!nv) {
        free(s);
        x->oom = true;
        return false;
    }
    nv[(*n)++] = s;
    *v = nv;
    return true;
}

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

__attribute__((format(printf, 2, 3))) static void reason(ctx_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat_oneline(0, fmt, ap);
    va_end(ap);
    push_str(x, &x->d->reasons, &x->d->n_reasons, s);
}

/* Records a denial; returns false so callers can `return deny(...)`. */
__attribute__((format(printf, 3, 4))) static bool deny(ctx_t *x, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat_oneline(1024, fmt, ap);
    va_end(ap);
    if (!s) {
        x->oom = true;
        return false;
    }
    free(x->d->message);
    x->d->message = s;
    x->d->code = code;
    x->d->outcome = OUTCOME_DENIED;
    return false;
}

/* The string member `key` of `obj`, NULL when absent or not a string. */
static const char *str_member(const cJSON *obj, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* At most `max` bytes of user text for a message, as "%.*s" arguments. */
#define CLIP(s, max) (int)(strlen(s) > (max) ? (max) : strlen(s)), (s)

static bool host_has_basic(const policy_config_t *cfg, strview_t domain)
{
    for (size_t i = 0; i < cfg->basic_auth_registries.n; i++) {
        const char *h = cfg->basic_auth_registries.items[i];
        if (strlen(h) == domain.n && strncasecmp(h, domain.p, domain.n) == 0)
            return true;
    }
    return false;
}

static void classify_ref(const imageref_t *r, registry_info_t *info)
{
    registry_classify(r->domain.p ? r->domain.p : "", r->domain.n, r->path.p ? r->path.p : "",
                      r->path.n, info);
}

/* ---- target images ------------------------------------------------------ */

/* Builds the target for image `name` (no registry) with the container's tag
 * and digest. Denies when the result is not a valid reference. */
static bool make_target(ctx_t *x, container_t *ct, const char *registry, strview_t name,
                        const char *what)
{
    char *t;
    imageref_err_t e;
    target_status_t st =
        target_make(registry, x->cfg->default_repository,
                    target_layout(x->cfg->layout, x->def_info.kind), name, &ct->ref, &t, &e);
    if (st == TARGET_OOM) {
        x->oom = true;
        return false;
    }
    if (st == TARGET_INVALID) {
        bool ok = deny(x, 400,
                       "%s: the target image \"%.*s\" would be invalid (%s); shorten the ImageSpec "
                       "name or the repository",
                       what, CLIP(t, 300), imageref_strerror(e));
        free(t);
        return ok;
    }
    ct->target = t;
    return true;
}

static void spec_what(const imagespec_t *sp, char *dst, size_t n)
{
    snprintf(dst, n, "ImageSpec \"%.*s\"", CLIP(sp->name, 80));
}

/* Registry / authentication rules for an ImageSpec that names its own registry. */
static bool check_spec_registry(ctx_t *x, const imagespec_t *sp, const container_t *ct)
{
    char what[128];
    spec_what(sp, what, sizeof what);
    imageref_t tr;
    if (imageref_parse(ct->target, strlen(ct->target), &tr) != IMAGEREF_OK)
        return true; /* make_target already checked */
    registry_info_t info;
    classify_ref(&tr, &info);
    strview_t host = tr.domain;
    const policy_config_t *cfg = x->cfg;
    if (!registry_auth_reaches(cfg->auth, &info, host_has_basic(cfg, host))) {
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
    }
    if (x->have_default && info.kind == REGISTRY_ECR && x->def_info.kind == REGISTRY_ECR &&
        strcmp(info.account, x->def_info.account) != 0)
        warn(x,
             "%s: ECR account %s differs from the default repository's (%s): the repository "
             "policy must grant AllowPull and AllowDescribeImages",
             what, info.account, x->def_info.account);
    if (x->have_default && (info.kind == REGISTRY_GAR || info.kind == REGISTRY_GCR) &&
        (x->def_info.kind == REGISTRY_GAR || x->def_info.kind == REGISTRY_GCR) && info.project[0] &&
        strcmp(info.project, x->def_info.project) != 0)
        warn(x,
             "%s: GCP project %s differs from the default repository's (%s): grant Artifact "
             "Registry Writer (builder) and Reader (nodes, operator proxy)",
             what, info.project, x->def_info.project);
    return true;
}

/* ---- the patch ---------------------------------------------------------- */

static bool build_patch(ctx_t *x, const cJSON *meta, const cJSON *spec)
{
    decision_t *d = x->d;
    patch_input_t in = {
        .meta = meta,
        .spec = spec,
        .pod = &x->pod_cs,
        .specs = &x->specs,
        .targets = d->targets,
        .n_targets = d->n_targets,
        .inject = x->inject,
        .azure = x->cfg->auth == AUTH_AZURE,
    };
    char why[256];
    patch_status_t st = patch_build(&in, &d->patch, &d->audit, why, sizeof why);
    if (st == PATCH_DENIED)
        return deny(x, 400, "%s", why);
    if (st == PATCH_OOM) {
        x->oom = true;
        return false;
    }
    d->n_ops = (size_t)cJSON_GetArraySize(d->patch);
    d->outcome = OUTCOME_MUTATED;
    return true;
}

/* ---- the decision ------------------------------------------------------- */

static bool record_target(ctx_t *x, const container_t *ct, bool build, check_answer_t exists)
{
    decision_t *d = x->d;
    target_t *t = realloc(d->targets, (d->n_targets + 1) * sizeof *t);
    if (!t) {
        x->oom = true;
        return false;
    }
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
    if (!t->container || !t->original || !t->target) {
        x->oom = true;
        return false;
    }
    return true;
}

static bool run(ctx_t *x)
{
    const policy_config_t *cfg = x->cfg;
    const cJSON *pod = x->pod;
    if (!cJSON_IsObject(pod))
        return deny(x, 400, "the admission request carries no pod object");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
    if (meta && !cJSON_IsObject(meta))
        return deny(x, 400, "metadata must be an object");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
    const cJSON *annots = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    if (labels && !cJSON_IsObject(labels) && !cJSON_IsNull(labels))
        return deny(x, 400, "metadata.labels must be an object");
    if (annots && !cJSON_IsObject(annots) && !cJSON_IsNull(annots))
        return deny(x, 400, "metadata.annotations must be an object");

    const char *builder = str_member(labels, WH_LABEL_BUILDER);
    if (!builder || strcmp(builder, "union") != 0) {
        reason(x, "the pod is not labelled " WH_LABEL_BUILDER "=union: nothing to do");
        return true;
    }
    const char *marker = str_member(annots, WH_ANNOT_MUTATED);
    if (marker && strcmp(marker, "true") == 0) {
        reason(x, "the pod is already mutated (" WH_ANNOT_MUTATED "=true): nothing to do");
        return true;
    }

    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(annots, WH_ANNOT_SPEC);
    bool have_annotation = ann && !cJSON_IsNull(ann);
    if (have_annotation) {
        if (!cJSON_IsString(ann))
            return deny(x, 400, "annotation " WH_ANNOT_SPEC " must be a string holding JSON");
        char why[512];
        if (!imagespec_parse(ann->valuestring, strlen(ann->valuestring), &x->specs, why,
                             sizeof why))
            return deny(x, 400, "annotation " WH_ANNOT_SPEC ": %s", why);
    }
    size_t n_union = 0;
    for (size_t s = 0; s < x->specs.n; s++) {
        const imagespec_t *sp = &x->specs.specs[s];
        if (sp->is_union) {
            n_union++;
            continue;
        }
        const char *nm = str_member(sp->json, "name");
        reason(x, "ImageSpec \"%.*s\" uses builder \"%.*s\", not union: ignored",
               CLIP(nm ? nm : "?", 80), CLIP(sp->builder ? sp->builder : "(none)", 40));
    }
    if (have_annotation && n_union == 0) {
        warn(x, "no ImageSpec in " WH_ANNOT_SPEC " uses builder union; pod left unchanged");
        return true;
    }
    if (n_union && !cfg->enabled)
        return deny(x, 403,
                    "the image builder is disabled (imageBuilder.enabled is false); enable it or "
                    "build the image with another builder");

    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    if (!cJSON_IsObject(spec))
        return deny(x, 400, "the pod has no spec object");
    char why[128];
    podscan_status_t st = podscan_read(spec, &x->pod_cs, why, sizeof why);
    if (st == PODSCAN_OOM)
        x->oom = true;
    if (st != PODSCAN_OK)
        return st == PODSCAN_MALFORMED ? deny(x, 400, "%s", why) : false;

    imageref_t def_ref;
    if (cfg->default_repository && *cfg->default_repository &&
        imageref_parse(cfg->default_repository, strlen(cfg->default_repository), &def_ref) ==
            IMAGEREF_OK) {
        x->have_default = true;
        classify_ref(&def_ref, &x->def_info);
    }

    podscan_match(&x->pod_cs, &x->specs, &cfg->logical_registries);

    /* every union spec must be used, with a tag */
    for (size_t s = 0; s < x->specs.n; s++) {
        const imagespec_t *sp = &x->specs.specs[s];
        if (!sp->is_union)
            continue;
        char what[128];
        spec_what(sp, what, sizeof what);
        size_t used = 0;
        for (size_t i = 0; i < x->pod_cs.n; i++) {
            container_t *ct = &x->pod_cs.cs[i];
            if (ct->spec != (int)s)
                continue;
            used++;
            if (!ct->ref.tag.n)
                return deny(x, 400,
                            "%s: container \"%.*s\" uses image \"%.*s\" without a tag; the tag "
                            "must be the ImageSpec hash computed by the SDK",
                            what, CLIP(ct->name, 63), CLIP(ct->image, 200));
        }
        if (!used) {
            if (sp->has_registry)
                return deny(x, 400,
                            "%s: no container uses it; expected an image \"%.*s:<tag>\" or "
                            "\"%.*s/%.*s:<tag>\"",
                            what, CLIP(sp->name, 80), CLIP(sp->registry, 100), CLIP(sp->name, 80));
            return deny(x, 400, "%s: no container uses it; expected an image \"%.*s:<tag>\"", what,
                        CLIP(sp->name, 80));
        }
        if (sp->scheme_stripped)
            warn(x, "%s: the http(s):// prefix of registry was removed; write \"%.*s\"", what,
                 CLIP(sp->registry, 80));
    }

    /* targets */
    bool any = false;
    for (size_t i = 0; i < x->pod_cs.n; i++) {
        container_t *ct = &x->pod_cs.cs[i];
        if (ct->spec == SPEC_NONE)
            continue;
        if (ct->spec == SPEC_LOGICAL && !ct->ref.tag.n)
            return deny(x, 400,
                        "container \"%.*s\": image \"%.*s\" under a logical registry needs a tag",
                        CLIP(ct->name, 63), CLIP(ct->image, 200));
        const imagespec_t *sp = ct->spec >= 0 ? &x->specs.specs[ct->spec] : NULL;
        char what[160];
        if (sp)
            spec_what(sp, what, sizeof what);
        else
            snprintf(what, sizeof what, "container \"%.*s\"", CLIP(ct->name, 63));
        if (sp && sp->has_registry) {
            strview_t nm = {sp->name, strlen(sp->name)};
            if (!make_target(x, ct, sp->registry, nm, what))
                return false;
            if (!check_spec_registry(x, sp, ct))
                return false;
        } else {
            if (!x->have_default)
                return deny(x, 403,
                            "%s: no target repository; set \"registry\" in the ImageSpec or "
                            "imageBuilder.defaultRepository in the webhook configuration",
                            what);
            strview_t nm = sp ? (strview_t){sp->name, strlen(sp->name)} : ct->logical;
            if (!make_target(x, ct, NULL, nm, what))
                return false;
        }
        any = true;
    }
    if (!any && !have_annotation)
        return deny(x, 400,
                    "the pod is labelled " WH_LABEL_BUILDER "=union but has no " WH_ANNOT_SPEC
                    " annotation; add the ImageSpec JSON there or remove the label");

    /* production domain */
    check_answer_t ns = x->checks ? x->checks->production_namespace : CHECK_NOT_RUN;
    if (n_union && ns == CHECK_ABSENT)
        return deny(x, 403,
                    "the production domain namespace \"%s\" does not exist; create it (kubectl "
                    "create namespace %s) or fix imageBuilder.productionDomain and "
                    "namespaceTemplate",
                    decide_production_namespace(cfg), decide_production_namespace(cfg));
    if (n_union && ns == CHECK_FAILED)
        warn(x, "could not verify that namespace %s exists; allowed",
             decide_production_namespace(cfg));

    /* what needs a build */
    for (size_t i = 0; i < x->pod_cs.n; i++) {
        container_t *ct = &x->pod_cs.cs[i];
        if (!ct->target)
            continue;
        check_answer_t ex = checks_image_answer(x->checks, ct->target);
        bool build = ct->spec >= 0 && ex != CHECK_PRESENT;
        if (!record_target(x, ct, build, ex))
            return false;
        if (ex == CHECK_FAILED)
            warn(x, "could not check whether %.*s exists; building it", CLIP(ct->target, 160));
        reason(x, "%s \"%s\": %s -> %s%s", ct->init ? "init container" : "container", ct->name,
               ct->image, ct->target,
               ct->spec == SPEC_LOGICAL ? " (logical registry, no build)"
               : build                  ? " (build injected)"
                                        : " (image exists, no build)");
    }

    bool changes = false;
    for (size_t i = 0; i < x->d->n_targets; i++)
        changes = changes || x->d->targets[i].build ||
                  strcmp(x->d->targets[i].original, x->d->targets[i].target) != 0;
    if (!changes) {
        reason(x, "every image is already its target and exists: no patch");
        return true;
    }
    return build_patch(x, meta, spec);
}

bool decide(const policy_t *p, const cJSON *pod, const wh_checks_t *checks, decision_t *out)
{
    memset(out, 0, sizeof *out);
    ctx_t x = {.cfg = p->cfg, .pod = pod, .checks = checks, .d = out, .inject = p->inject};
    run(&x);
    podscan_free(&x.pod_cs);
    imagespec_list_free(&x.specs);
    if (out->outcome == OUTCOME_DENIED) {
        cJSON_Delete(out->patch);
        out->patch = NULL;
        out->n_ops = 0;
        cJSON_Delete(out->audit);
        out->audit = NULL;
    }
    if (x.oom) {
        decision_free(out);
        return false;
    }
    return true;
}

void decision_free(decision_t *d)
{
    free(d->message);
    for (size_t i = 0; i < d->n_warnings; i++)
        free(d->warnings[i]);
    free(d->warnings);
    for (size_t i = 0; i < d->n_reasons; i++)
        free(d->reasons[i]);
    free(d->reasons);
    for (size_t i = 0; i < d->n_targets; i++) {
        free(d->targets[i].container);
        free(d->targets[i].original);
        free(d->targets[i].target);
    }
    free(d->targets);
    cJSON_Delete(d->patch);
    cJSON_Delete(d->audit);
    memset(d, 0, sizeof *d);
}
