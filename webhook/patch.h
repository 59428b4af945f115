/* patch: the JSON Patch that mutates a pod once the rules have placed its
 * images, built in steps, each its own function and in this order:
 *   patch_metadata     /metadata itself when the pod has none
 *   patch_rewrites     the rewritten images (before any insertion shifts
 *                      the container indexes)
 *   patch_builds       one build-image init container per distinct target
 *                      that needs a build, placed first, and its volumes
 *   patch_identity     with authenticationType azure and a build, the
 *                      workload identity label
 *   patch_annotations  the mutated and target-images annotations, and the
 *                      audit annotations that mirror them
 * Parents that exist are never replaced: members and items are added one
 * by one. Pure. */
#ifndef WH_PATCH_H
#define WH_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "decide.h"
#include "imagespec.h"
#include "inject.h"
#include "jsonpatch.h"
#include "podscan.h"

typedef struct {
    const cJSON *meta;             /* the pod's metadata; NULL when it has none */
    const cJSON *spec;             /* the pod's spec (an object) */
    const podscan_t *pod;          /* its containers, with their targets */
    const imagespec_list_t *specs; /* the ImageSpecs the containers matched */
    const target_t *targets;       /* the decision's targets, in container order */
    size_t n_targets;
    const inject_t *inject; /* the rendered build container and volumes */
    bool azure;             /* authenticationType azure */
    size_t max_bytes;       /* the build containers' text at most (0: no bound) */
} patch_input_t;

typedef enum {
    PATCH_OK = 0,
    PATCH_DENIED, /* the build cannot be injected; `why` says what to rename */
    PATCH_OOM,
} patch_status_t;

/* What patch_build makes. */
typedef struct {
    char *ops;      /* the JSON Patch: an array of ops as JSON text (free) */
    size_t ops_len; /* strlen(ops) */
    size_t n_ops;
    char *ops_b64; /* the padded base64 of `ops` (free) */
    char *audit;   /* the auditAnnotations object as JSON text (free) */
} patch_out_t;

/* Every step in order, written straight as JSON text, byte for byte what
 * cJSON prints for the same values. On PATCH_OK, `out` belongs to the
 * caller; otherwise it is all zero. */
patch_status_t patch_build(const patch_input_t *in, patch_out_t *out, char *why, size_t whysz);

/* The steps, each appending ops to `ops`; false only when out of memory. */
bool patch_metadata(jsonpatch_t *ops, const cJSON *meta);
bool patch_rewrites(jsonpatch_t *ops, const podscan_t *pod);
/* PATCH_DENIED when a container or a volume already has a name the build
 * needs, spec.volumes is not an array, or the build containers take more
 * than in->max_bytes. `*n_builds`: containers added. Linear in the pod:
 * names and targets are looked up in sets (strset.h). */
patch_status_t patch_builds(jsonpatch_t *ops, const patch_input_t *in, size_t *n_builds, char *why,
                            size_t whysz);
bool patch_identity(jsonpatch_t *ops, const cJSON *meta);
/* `*audit`: the auditAnnotations object's text (free), also when false is
 * returned (NULL if it could not be made). */
bool patch_annotations(jsonpatch_t *ops, const patch_input_t *in, size_t n_builds, char **audit);

#endif
