/* admission: AdmissionReview in, AdmissionReview out (admission.k8s.io v1
 * and v1beta1, answered in the version asked). Pure: bytes in, bytes out.
 *
 * admission_parse() reads the review; admission_respond() runs the
 * decision and encodes the response. Anything but a Pod CREATE is allowed
 * unchanged. The server and the `review` command share this path. */
#ifndef WH_ADMISSION_H
#define WH_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "decide.h"

typedef struct {
    cJSON *root;             /* the whole parsed review (owned) */
    const char *api_version; /* "admission.k8s.io/v1" or "admission.k8s.io/v1beta1" */
    const char *uid;
    const char *operation;  /* "CREATE", ... ("" when absent) */
    const char *namespace_; /* "" when absent */
    const char *name;       /* pod name or generateName, "" when absent */
    bool dry_run;
    bool is_pod_create; /* kind v1/Pod, resource pods, no subresource, CREATE, object present */
    const cJSON *pod;   /* request.object when is_pod_create, else NULL */
    decide_opts_t opts; /* how to decide it: the caller sets it after admission_parse */
} review_t;

/* The most JSON values a review may hold (json_count_values): what bounds
 * the memory of its parsed tree (about 20 MiB at most). A pod small enough
 * for etcd (1.5 MiB) holds far fewer. */
#define ADMISSION_MAX_VALUES (256u * 1024)

/* Parses a review. On failure returns false and a short reason (static or
 * in `why`, at most whysz bytes): the HTTP layer answers 400 with it. */
bool admission_parse(const char *body, size_t len, review_t *rv, char *why, size_t whysz);
void review_free(review_t *rv);
/* Forgets the review without walking its tree: for a caller whose cJSON
 * allocations are all released at once by other means (its allocator's
 * hooks). The review holds nothing else. */
void review_drop(review_t *rv);

typedef struct {
    char *body; /* the AdmissionReview response JSON (owned) */
    size_t len;
    decision_t decision; /* what was decided (outcome, targets, ops...) */
} admission_response_t;

/* Decides (when it is a Pod CREATE) and encodes the response. Returns
 * false only when out of memory. */
bool admission_respond(const policy_t *policy, const review_t *rv, const wh_checks_t *checks,
                       admission_response_t *out);
void admission_response_free(admission_response_t *r);

/* Wraps a bare Pod object in a CREATE review (for `review` and dry runs):
 * takes ownership of `pod`. `uid` may be NULL (a fixed one is used). */
cJSON *admission_wrap_pod(cJSON *pod, const char *uid, bool dry_run);

#endif
