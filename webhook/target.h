/* target: where a rewritten image goes. The repository layout that applies
 * to the default repository (path or tag; auto means tag for Amazon ECR)
 * and the target reference built from an image name and the container's
 * tag and digest. Pure. */
#ifndef WH_TARGET_H
#define WH_TARGET_H

#include "config.h"
#include "imageref.h"
#include "registry.h"

/* The layout for images that go to the default repository: `configured`,
 * unless it is auto: then tag when the default repository is Amazon ECR
 * (one repository holds every image), path for any other registry. */
repo_layout_t target_layout(repo_layout_t configured, registry_kind_t default_kind);

typedef enum {
    TARGET_OK = 0,
    TARGET_INVALID, /* the result is not a valid reference */
    TARGET_OOM,
} target_status_t;

/* The target for the image `name` (without registry) with the tag and the
 * digest of `ref`:
 *   `registry` set:  <registry>/<name>:<tag>[@<digest>]
 *   path layout:     <repository>/<name>:<tag>[@<digest>]
 *   tag layout:      <repository>:<name, '/' folded into '-'>-<tag>[@<digest>]
 * `*out` is allocated (the caller frees it) on TARGET_OK and on
 * TARGET_INVALID, where it is the rejected string and `*err` says why.
 * On TARGET_OK, `*parsed` (unless NULL) is `*out` parsed (imageref_parse). */
target_status_t target_make(const char *registry, const char *repository, repo_layout_t layout,
                            strview_t name, const imageref_t *ref, char **out, imageref_t *parsed,
                            imageref_err_t *err);

#endif
