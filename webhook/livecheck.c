/* livecheck: the facade over the registry and namespace checks (see livecheck.h). */
#include "livecheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errmsg.h"

struct livecheck {
    regcheck_t *rc; /* NULL when registryCheck is off */
    nscheck_t *ns;  /* NULL when productionDomainCheck is off */
    unsigned reg_timeout_ms;
    unsigned ns_wait_ms; /* the longest nscheck_get() waits for a first answer */
};

livecheck_t *livecheck_new_from(const livecheck_t *old, const policy_config_t *cfg, char *err,
                                size_t errsz)
{
    livecheck_t *lc = calloc(1, sizeof *lc);
    if (!lc) {
        errmsg_set(err, errsz, "out of memory");
        return NULL;
    }
    lc->reg_timeout_ms = cfg->registry_check.timeout_ms ? cfg->registry_check.timeout_ms : 1500;
    lc->ns_wait_ms =
        (cfg->production_domain_check.timeout_ms ? cfg->production_domain_check.timeout_ms : 1000) +
        250;
    if (cfg->registry_check.enabled) {
        ttlcache_t *cache = old && old->rc ? regcheck_cache(old->rc) : NULL;
        if (!(lc->rc = regcheck_new(&cfg->registry_check, cfg->auth, cache, err, errsz))) {
            livecheck_free(lc);
            return NULL;
        }
    }
    if (cfg->production_domain_check.enabled) {
        if (!(lc->ns = nscheck_new(&cfg->production_domain_check, cfg->production_namespace,
                                   old ? old->ns : NULL, err, errsz))) {
            livecheck_free(lc);
            return NULL;
        }
    }
    return lc;
}

livecheck_t *livecheck_new(const policy_config_t *cfg, char *err, size_t errsz)
{
    return livecheck_new_from(NULL, cfg, err, errsz);
}

void livecheck_free(livecheck_t *lc)
{
    if (!lc)
        return;
    regcheck_free(lc->rc);
    nscheck_free(lc->ns);
    free(lc);
}

bool livecheck_registry_enabled(const livecheck_t *lc)
{
    return lc && lc->rc;
}

bool livecheck_namespace_enabled(const livecheck_t *lc)
{
    return lc && lc->ns;
}

void livecheck_scratch_free(livecheck_scratch_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_images; i++)
        free((char *)s->images[i].image);
    free(s->images);
    free(s->results);
    memset(s, 0, sizeof *s);
}

uint64_t livecheck_time_limit_ms(const livecheck_t *lc)
{
    uint64_t t = 0;
    if (lc && lc->rc)
        t = lc->reg_timeout_ms;
    if (lc && lc->ns && lc->ns_wait_ms > t)
        t = lc->ns_wait_ms;
    return t;
}

/* Whether the registry is asked about a target: one to build (it may exist
 * already), or one under a logical registry that nothing builds (a missing
 * one is denied). */
static bool asks_registry(const target_t *t)
{
    return t->target && (t->build || t->logical);
}

/* The distinct targets `d` asks the registry about, in scratch (images and results
 * allocated); false when out of memory (scratch is then empty). */
static bool collect_targets(const decision_t *d, livecheck_scratch_t *s)
{
    size_t want = 0;
    for (size_t i = 0; i < d->n_targets; i++)
        want += asks_registry(&d->targets[i]);
    if (!want)
        return true;
    s->images = calloc(want, sizeof *s->images);
    s->results = calloc(want, sizeof *s->results);
    if (!s->images || !s->results) {
        livecheck_scratch_free(s);
        return false;
    }
    for (size_t i = 0; i < d->n_targets; i++) {
        const target_t *t = &d->targets[i];
        if (!asks_registry(t))
            continue;
        bool dup = false;
        for (size_t j = 0; j < s->n_images && !dup; j++)
            dup = strcmp(s->images[j].image, t->target) == 0;
        if (dup)
            continue;
        char *img = strdup(t->target);
        if (!img)
            break;
        s->images[s->n_images++].image = img;
    }
    return true;
}

static void answer_namespace(livecheck_t *lc, uint64_t deadline, wh_checks_t *out,
                             livecheck_scratch_t *s)
{
    s->ns_asked = true;
    out->production_namespace = nscheck_get_by(lc->ns, deadline, &s->ns);
    out->namespace_terminating = s->ns.terminating;
    out->namespace_reason = s->ns.reason[0] ? s->ns.reason : NULL;
}

bool livecheck_answer_by(livecheck_t *lc, const decision_t *d, uint64_t deadline_ms,
                         wh_checks_t *out, livecheck_scratch_t *s)
{
    memset(out, 0, sizeof *out);
    if (!lc || !d || d->outcome == OUTCOME_DENIED || d->n_targets == 0)
        return false;
    bool asked = false;
    if (lc->rc) {
        if (!collect_targets(d, s))
            return false; /* out of memory: decide without answers (builds) */
        uint64_t deadline = clock_mono_ms() + lc->reg_timeout_ms;
        if (deadline_ms && deadline_ms < deadline)
            deadline = deadline_ms;
        for (size_t k = 0; k < s->n_images; k++) {
            regcheck_result_t *r = &s->results[k];
            s->images[k].answer = regcheck_image(lc->rc, s->images[k].image, deadline, r);
            s->images[k].reason = r->reason[0] ? r->reason : NULL;
            asked = true;
        }
        out->images = s->images;
        out->n_images = s->n_images;
    }
    if (lc->ns) {
        answer_namespace(lc, deadline_ms, out, s);
        asked = true;
    }
    return asked;
}

bool livecheck_answer(livecheck_t *lc, const decision_t *d, wh_checks_t *out,
                      livecheck_scratch_t *scratch)
{
    return livecheck_answer_by(lc, d, 0, out, scratch);
}

void livecheck_describe(const livecheck_t *lc, const livecheck_scratch_t *s, buf_t *out)
{
    if (!lc || (!lc->rc && !lc->ns)) {
        buf_puts(out, "off: registryCheck and productionDomainCheck are disabled or skipped\n");
        return;
    }
    if (!s)
        return;
    for (size_t i = 0; i < s->n_images; i++) {
        const regcheck_result_t *r = &s->results[i];
        buf_puts(out, "registry: ");
        buf_put_oneline(out, s->images[i].image, strlen(s->images[i].image));
        buf_printf(out, " -> %s (%s", regcheck_answer_name(s->images[i].answer),
                   regcheck_source_name(r->source));
        if (r->source == REGCHECK_FROM_NETWORK || r->answer == CHECK_FAILED) {
            buf_puts(out, ", ");
            buf_put_oneline(out, r->detail, strlen(r->detail));
        }
        if (r->cred_source[0]) {
            buf_puts(out, ", credentials: ");
            buf_put_oneline(out, r->cred_source, strlen(r->cred_source));
        }
        buf_printf(out, ", %.0f ms)\n", r->seconds * 1000.0);
    }
    if (lc->rc && s->n_images == 0)
        buf_puts(out, "registry: nothing to check (no image to build)\n");
    if (lc->ns && s->ns_asked) {
        buf_printf(out, "namespace: %s -> %s (", nscheck_namespace(lc->ns),
                   regcheck_answer_name(s->ns.answer));
        buf_put_oneline(out, s->ns.detail, strlen(s->ns.detail));
        buf_printf(out, "; answer %.0f s old%s)\n", s->ns.age_seconds,
                   s->ns.waited ? ", waited for the first answer" : "");
    }
}

void livecheck_metrics(const livecheck_t *lc, buf_t *out)
{
    if (!lc)
        return;
    if (lc->rc)
        regcheck_metrics(lc->rc, out);
    if (lc->ns)
        nscheck_metrics(lc->ns, out);
}

bool livecheck_respond_by(livecheck_t *lc, const policy_t *policy, const review_t *rv,
                          uint64_t deadline_ms, livecheck_scratch_t *scratch,
                          admission_response_t *out)
{
    wh_checks_t checks = {0};
    if (lc && rv->is_pod_create &&
        (livecheck_registry_enabled(lc) || livecheck_namespace_enabled(lc))) {
        decision_t first;
        if (!decide_with(policy, rv->pod, &checks, &rv->opts, &first))
            return false;
        livecheck_answer_by(lc, &first, deadline_ms, &checks, scratch);
        decision_free(&first);
    }
    return admission_respond(policy, rv, &checks, out);
}

bool livecheck_respond(livecheck_t *lc, const policy_t *policy, const review_t *rv,
                       livecheck_scratch_t *scratch, admission_response_t *out)
{
    return livecheck_respond_by(lc, policy, rv, 0, scratch, out);
}

bool livecheck_respond_unchecked(livecheck_t *lc, const policy_t *policy, const review_t *rv,
                                 const char *reason, livecheck_scratch_t *s,
                                 admission_response_t *out)
{
    wh_checks_t checks = {0};
    if (lc && rv->is_pod_create && (lc->rc || lc->ns)) {
        decision_t first;
        if (!decide_with(policy, rv->pod, &checks, &rv->opts, &first))
            return false;
        bool any = first.outcome != OUTCOME_DENIED && first.n_targets > 0;
        if (any && lc->rc && collect_targets(&first, s)) {
            for (size_t k = 0; k < s->n_images; k++) {
                s->images[k].answer = s->results[k].answer = CHECK_FAILED;
                s->results[k].source = REGCHECK_FROM_NONE;
                errmsg_set(s->results[k].detail, sizeof s->results[k].detail, "%s", reason);
                errmsg_set(s->results[k].reason, sizeof s->results[k].reason, "%s", reason);
                s->images[k].reason = s->results[k].reason;
            }
            checks.images = s->images;
            checks.n_images = s->n_images;
        }
        if (any && lc->ns)
            answer_namespace(lc, 1, &checks, s); /* a past instant: no wait */
        decision_free(&first);
    }
    return admission_respond(policy, rv, &checks, out);
}
