/* livecheck: the live checks the server and the `review` command run
 * before deciding: does each target image that would be built already
 * exist (regcheck), and does the production namespace exist (nscheck).
 *
 * Usage: decide() once with empty checks, livecheck_answer() on that
 * decision, decide() again with the answers when it returns true. Both
 * checks are off unless the configuration switches them on; a disabled
 * check answers CHECK_NOT_RUN. Nothing here ever denies by itself: errors
 * and timeouts are CHECK_FAILED, which the decision treats as "build" and
 * "allow with a warning". */
#ifndef WH_LIVECHECK_H
#define WH_LIVECHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "admission.h"
#include "buf.h"
#include "config.h"
#include "decide.h"
#include "nscheck.h"
#include "regcheck.h"

typedef struct livecheck livecheck_t;

/* Per-request answers and what was seen, for wh_checks_t, describe and logs.
 * Zero-initialise (LIVECHECK_SCRATCH_INIT); free with livecheck_scratch_free. */
typedef struct {
    image_answer_t *images; /* image strings owned here */
    regcheck_result_t *results;
    size_t n_images;
    bool ns_asked;
    nscheck_info_t ns;
} livecheck_scratch_t;

#define LIVECHECK_SCRATCH_INIT                                                                     \
    {                                                                                              \
        NULL, NULL, 0, false,                                                                      \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/* A checker for this configuration. Both checks off is not an error: the
 * object answers CHECK_NOT_RUN. NULL with a message in err when an enabled
 * check cannot be set up (unreadable Docker config or kubeconfig, no API
 * server known, invalid namespace name). */
livecheck_t *livecheck_new(const policy_config_t *cfg, char *err, size_t errsz);
/* The same, taking over `old`'s state where it still applies (may be NULL):
 * the registry answer cache and the last namespace answer, so that a
 * configuration reload neither forgets answers nor waits for the API again.
 * `old` stays valid and must still be freed by its owner. */
livecheck_t *livecheck_new_from(const livecheck_t *old, const policy_config_t *cfg, char *err,
                                size_t errsz);
void livecheck_free(livecheck_t *lc);

bool livecheck_registry_enabled(const livecheck_t *lc);
bool livecheck_namespace_enabled(const livecheck_t *lc);

/* The longest the checks of one request may take by their own settings:
 * registryCheck.timeoutMs, or the namespace check's wait for its first
 * answer (productionDomainCheck.timeoutMs + 250 ms), whichever is longer
 * among the checks that are on (0 when both are off). */
uint64_t livecheck_time_limit_ms(const livecheck_t *lc);

/* Answers the checks `d` (a first decision, made with empty checks) calls
 * for: each distinct target with build or logical set when the registry
 * check is on (all lookups together bounded by registryCheck.timeoutMs), and the
 * production namespace when that check is on and the pod has targets.
 * Fills `out` with storage owned by `scratch`. Thread-safe. Returns true
 * when anything was asked (the caller then decides again). `lc` may be
 * NULL (nothing is asked). */
bool livecheck_answer(livecheck_t *lc, const decision_t *d, wh_checks_t *out,
                      livecheck_scratch_t *scratch);
/* The same, all done by `deadline_ms` (clock_mono_ms) at the latest
 * whatever the checks' own timeouts (0: by those alone). */
bool livecheck_answer_by(livecheck_t *lc, const decision_t *d, uint64_t deadline_ms,
                         wh_checks_t *out, livecheck_scratch_t *scratch);
void livecheck_scratch_free(livecheck_scratch_t *scratch);

/* The whole answer to a review with the live checks: a first decision
 * names what to check, livecheck_answer() asks, and the response is made
 * with the answers (admission_respond). `lc` may be NULL (no checks).
 * `scratch` keeps what was asked for livecheck_describe(); free it after. */
bool livecheck_respond(livecheck_t *lc, const policy_t *policy, const review_t *rv,
                       livecheck_scratch_t *scratch, admission_response_t *out);
/* The same, the checks done by `deadline_ms` at the latest (0: none). */
bool livecheck_respond_by(livecheck_t *lc, const policy_t *policy, const review_t *rv,
                          uint64_t deadline_ms, livecheck_scratch_t *scratch,
                          admission_response_t *out);
/* The answer when the checks ran out of time: every image the registry
 * check would have asked about is FAILED with `reason` (a build and a
 * warning, as for any failed check); the namespace check answers what it
 * already knows, without waiting. Never blocks on the network: the server's
 * event loops call it. */
bool livecheck_respond_unchecked(livecheck_t *lc, const policy_t *policy, const review_t *rv,
                                 const char *reason, livecheck_scratch_t *scratch,
                                 admission_response_t *out);

/* One line per check asked, e.g.
 * "registry: localhost:5000/union/foo:abc -> present (cache hit)". */
void livecheck_describe(const livecheck_t *lc, const livecheck_scratch_t *scratch, buf_t *out);

/* Prometheus text for the metrics endpoint (nothing for a disabled check). */
void livecheck_metrics(const livecheck_t *lc, buf_t *out);

#endif
