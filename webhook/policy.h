/* policy: what the decision reads, built once per configuration: the
 * `imageBuilder:` configuration (borrowed) and what is derived from it
 * (the build container rendered as JSON text, see inject.h; which registry
 * the default repository is). */
#ifndef WH_POLICY_H
#define WH_POLICY_H

#include <stdbool.h>

#include "config.h"
#include "inject.h"
#include "registry.h"

typedef struct {
    const policy_config_t *cfg;   /* borrowed: must outlive the policy */
    inject_t *inject;             /* owned */
    bool have_default;            /* defaultRepository is set and a valid reference */
    registry_info_t default_info; /* its registry, when have_default */
} policy_t;

/* NULL when out of memory. */
policy_t *policy_new(const policy_config_t *cfg);
void policy_free(policy_t *p);

#endif
