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

/* Whether the registry is asked about a target: one to build (it may exist
 * already), or one under a logical registry that nothing builds (a missing
 * one is denied). */
static bool asks_registry(const target_t *t)
{
    return t->target && (t->build || t->logical);
}

bool livecheck_answer(livecheck_t *lc, const decision_t *d, wh_checks_t *out,
                      livecheck_scratch_t *s)
{
    memset(out, 0, sizeof *out);
    if (!lc || !d || d->outcome == OUTCOME_DENIED || d->n_targets == 0)
        return false;
    bool asked = false;
    if (lc->rc) {
        size_t want = 0;
        for (size_t i = 0; i < d->n_targets; i++)
            want += asks_registry(&d->targets[i]);
        if (want) {
            s->images = calloc(want, sizeof *s->images);
            s->results = calloc(want, sizeof *s->results);
            if (!s->images || !s->results) {
                livecheck_scratch_free(s);
                return false; /* out of memory: decide without answers (builds) */
            }
            uint64_t deadline = clock_mono_ms() + lc->reg_timeout_ms;
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
                size_t k = s->n_images++;
                s->images[k].image = img;
                s->images[k].answer = regcheck_image(lc->rc, img, deadline, &s->results[k]);
                asked = true;
            }
            out->images = s->images;
            out->n_images = s->n_images;
        }
    }
    if (lc->ns) {
        s->ns_asked = true;
        out->production_namespace = nscheck_get(lc->ns, &s->ns);
        asked = true;
    }
    return asked;
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

bool livecheck_respond(livecheck_t *lc, const policy_t *policy, const review_t *rv,
                       livecheck_scratch_t *scratch, admission_response_t *out)
{
    wh_checks_t checks = {0};
    if (lc && rv->is_pod_create &&
        (livecheck_registry_enabled(lc) || livecheck_namespace_enabled(lc))) {
        decision_t first;
        if (!decide(policy, rv->pod, &checks, &first))
            return false;
        livecheck_answer(lc, &first, &checks, scratch);
        decision_free(&first);
    }
    return admission_respond(policy, rv, &checks, out);
}
