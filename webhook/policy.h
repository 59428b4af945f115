/* policy: what the decision reads, built once per configuration: the
 * `imageBuilder:` configuration (borrowed) and what is derived from it
 * (the build container rendered as JSON text, see inject.h). */
#ifndef WH_POLICY_H
#define WH_POLICY_H

#include "config.h"
#include "inject.h"

typedef struct {
    const policy_config_t *cfg; /* borrowed: must outlive the policy */
    inject_t *inject;           /* owned */
} policy_t;

/* NULL when out of memory. */
policy_t *policy_new(const policy_config_t *cfg);
void policy_free(policy_t *p);

#endif
