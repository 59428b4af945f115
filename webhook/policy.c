/* policy: the per-configuration input of the decision (see policy.h). */
#include "policy.h"

#include <stdlib.h>

policy_t *policy_new(const policy_config_t *cfg)
{
    policy_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cfg = cfg;
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
