/* rules: the admission policy as named rules, applied in order by
 * decide() (see rules.c, which is the policy to read). Pure. */
#ifndef WH_RULES_H
#define WH_RULES_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "decide.h"

/* Applies the rules to `pod` with the live-check answers `checks` (NULL:
 * none) and the caller's options `opts`, filling `d` (zeroed by the
 * caller). Returns false when out of memory; `d` then holds partial
 * results for the caller to free. */
bool rules_apply(const policy_t *p, const cJSON *pod, const wh_checks_t *checks,
                 const decide_opts_t *opts, decision_t *d);

#endif
