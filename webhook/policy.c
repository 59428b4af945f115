/* policy: the per-configuration input of the decision (see policy.h). */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

#include "imageref.h"

policy_t *policy_new(const policy_config_t *cfg)
{
    policy_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cfg = cfg;
    const char *repo = cfg->default_repository;
    imageref_t r;
    if (repo && *repo && imageref_parse(repo, strlen(repo), &r) == IMAGEREF_OK) {
        p->have_default = true;
        registry_classify(r.domain.p ? r.domain.p : "", r.domain.n, r.path.p ? r.path.p : "",
                          r.path.n, &p->default_info);
    }
    if (!(p->inject = inject_prepare(cfg))) {
        free(p);
        return NULL;
    }
    return p;
}

void policy_free(policy_t *p)
{
    if (!p)
        return;
    inject_free(p->inject);
    free(p);
}
