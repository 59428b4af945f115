/* rules_int: what the rules (rules.c) and the way they record their
 * answer (verdict.c) share: the evaluation's context and the helpers a
 * rule calls to allow, deny, warn and explain. Private to the two. */
#ifndef WH_RULES_INT_H
#define WH_RULES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "decide.h"
#include "imageref.h"
#include "imagespec.h"
#include "podscan.h"
#include "registry.h"

/* What a rule answers. RULE_DONE also when out of memory (ctx_t.oom). */
typedef enum { RULE_NEXT = 0, RULE_DONE } rule_result_t;

/* One evaluation: the inputs, what the rules found so far, the decision. */
typedef struct {
    const policy_config_t *cfg;
    const inject_t *inject; /* the configuration's rendered build container and volumes */
    const cJSON *pod;
    const wh_checks_t *checks;
    decision_t *d;
    bool reasons;                /* the caller reads decision_t.reasons: build them */
    struct specache *spec_cache; /* NULL: every annotation is parsed */
    bool oom;
    /* the pod's parts, once rule_pod_well_formed and rule_containers_well_formed passed */
    const cJSON *meta, *labels, *annots, *spec;
    bool labelled;        /* labelled builder=union (rule_selected) */
    bool have_annotation; /* the image-spec annotation is present (and read: labelled) */
    imagespec_list_t specs;
    size_t n_union; /* specs with builder union */
    podscan_t cs;   /* the containers and what each matched */
    /* the default repository's registry (policy.h) */
    bool have_default;
    const registry_info_t *def_info;
} ctx_t;

typedef rule_result_t rule_fn(ctx_t *x);

/* At most `max` bytes of user text for a message, as "%.*s" arguments. */
#define CLIP(s, max) (int)(strlen(s) > (max) ? (max) : strlen(s)), (s)

/* The decision's arrays double as they grow (linear appends); see verdict.c. */
void *verdict_grow(void *v, size_t n, size_t size);
/* Why, for people (review --explain); nothing unless x->reasons. */
void verdict_reason(ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning for the user (the API server shows it to kubectl). */
void verdict_warn(ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the evaluation: the pod is allowed unchanged, for the reason given. */
rule_result_t verdict_allow_unchanged(ctx_t *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Ends the evaluation: the pod is denied with `code` and a one-line message. */
rule_result_t verdict_deny(ctx_t *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
rule_result_t verdict_out_of_memory(ctx_t *x);
/* The string member `key` of `obj`, NULL when absent or not a string. */
const char *verdict_str_member(const cJSON *obj, const char *key);
/* "ImageSpec \"NAME\"" for messages. */
void verdict_spec_what(const imagespec_t *sp, char *dst, size_t n);
void verdict_classify_ref(const imageref_t *r, registry_info_t *info);

#endif
