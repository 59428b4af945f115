/* decide: the admission decision for one pod, from the pod, the
 * configuration and the answers of the live checks. Pure: no I/O. The
 * policy itself is a list of named rules in rules.c.
 *
 * The decision says whether the pod is allowed, denied (with a one-line
 * message saying what is wrong and how to fix it) or mutated (with the
 * JSON Patch ops), and which images were rewritten and which need a build.
 * Live checks (does an image exist in its registry, does the production
 * namespace exist) run outside, before; their answers come in `checks`.
 * A caller that wants to check target images first calls decide() with no
 * answers, reads `targets`, checks them, and decides again. */
#ifndef WH_DECIDE_H
#define WH_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "checks.h"
#include "policy.h"

/* Pod label and annotation contract. */
#define WH_PREFIX        "imagebuilder.union.ai/"
#define WH_LABEL_BUILDER WH_PREFIX "builder"
#define WH_ANNOT_SPEC    WH_PREFIX "image-spec"
#define WH_ANNOT_MUTATED WH_PREFIX "mutated"
#define WH_ANNOT_TARGETS WH_PREFIX "target-images"
/* The names the injected build takes (WH_BUILD_CONTAINER, WH_VOL_*) are in inject.h. */

typedef enum {
    OUTCOME_ALLOWED = 0, /* allowed, no patch */
    OUTCOME_MUTATED,     /* allowed with a patch */
    OUTCOME_DENIED,
} outcome_t;

typedef struct {
    char *container; /* container name */
    bool init;       /* in initContainers */
    char *original;  /* image as it was */
    char *target;    /* image after the rewrite */
    bool build;      /* a build-image init container builds it */
    bool logical;    /* under a logical registry and no ImageSpec names it: nothing builds it */
    check_answer_t exists;
} target_t;

typedef struct {
    outcome_t outcome;
    int code;        /* denied: 400 (malformed request/spec) or 403 (policy) */
    char *message;   /* denied: one line */
    char **warnings; /* short, no control characters */
    size_t n_warnings;
    char **reasons; /* for people (review --explain); only when asked (decide_opts_t) */
    size_t n_reasons;
    target_t *targets;
    size_t n_targets;
    char *patch_json; /* the JSON Patch (an array of ops) as text; NULL when no mutation */
    char *patch_b64;  /* its padded base64 */
    size_t n_ops;
    char *audit_json; /* the auditAnnotations object as text; NULL when none */
} decision_t;

/* How the caller wants the decision made; all zero (or NULL) is the
 * server's way: no reasons. */
typedef struct {
    bool reasons; /* fill decision_t.reasons (review --explain reads them) */
    /* the calling thread's parsed ImageSpec annotations (specache.h), or NULL */
    struct specache *spec_cache;
} decide_opts_t;

/* The pod: a Pod object as JSON (`object` of the review). `dry_run` does
 * not change the decision. Never fails on bad input: a malformed pod is a
 * denial that says what is malformed. Returns false only when out of memory.
 * decide() is decide_with() with no options. */
bool decide(const policy_t *p, const cJSON *pod, const wh_checks_t *checks, decision_t *out);
bool decide_with(const policy_t *p, const cJSON *pod, const wh_checks_t *checks,
                 const decide_opts_t *opts, decision_t *out);
void decision_free(decision_t *d);

const char *outcome_name(outcome_t o); /* "allowed", "mutated", "denied" */

/* The production namespace name the configuration implies. */
const char *decide_production_namespace(const policy_config_t *cfg);

#endif
