/* decide: the entry point of the admission decision and the ownership of
 * its result (see decide.h). The policy itself is rules.c; a denied
 * decision never carries a patch, and out of memory frees everything. */
#include "decide.h"

#include <stdlib.h>
#include <string.h>

#include "rules.h"

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

bool decide(const policy_t *p, const cJSON *pod, const wh_checks_t *checks, decision_t *out)
{
    return decide_with(p, pod, checks, NULL, out);
}

bool decide_with(const policy_t *p, const cJSON *pod, const wh_checks_t *checks,
                 const decide_opts_t *opts, decision_t *out)
{
    static const decide_opts_t none = {0};
    memset(out, 0, sizeof *out);
    bool ok = rules_apply(p, pod, checks, opts ? opts : &none, out);
    if (out->outcome == OUTCOME_DENIED) {
        free(out->patch_json);
        free(out->patch_b64);
        out->patch_json = out->patch_b64 = NULL;
        out->n_ops = 0;
        free(out->audit_json);
        out->audit_json = NULL;
    }
    if (!ok) {
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
    free(d->patch_json);
    free(d->patch_b64);
    free(d->audit_json);
    memset(d, 0, sizeof *d);
}
