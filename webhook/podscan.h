/* podscan: the containers of a pod, init containers first, and which
 * ImageSpec (or which logical registry) each container's image belongs
 * to. Pure: it reads the pod and allocates only the list.
 *
 * A container runs a spec's image when its image name (tag and digest set
 * aside) is exactly <name>, <registry>/<name> or <logical registry>/<name>;
 * an image under a logical registry that no spec names is marked logical. */
#ifndef WH_PODSCAN_H
#define WH_PODSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "imageref.h"
#include "imagespec.h"

#define PODSCAN_SPEC_LOGICAL (-2) /* under a logical registry that no spec names */
#define PODSCAN_SPEC_NONE    (-1) /* none of ours: the container is left alone */

/* One container of the pod and what it matched. */
typedef struct {
    bool init;         /* in spec.initContainers */
    size_t index;      /* position in its array */
    const char *name;  /* "" when absent */
    const char *image; /* NULL when absent or null */
    imageref_t ref;    /* the parsed image (meaningful when spec != PODSCAN_SPEC_NONE) */
    int spec;          /* index into the spec list, PODSCAN_SPEC_LOGICAL or PODSCAN_SPEC_NONE */
    strview_t logical; /* PODSCAN_SPEC_LOGICAL: the image name below the logical registry */
    char *target;      /* owned; the image it is rewritten to, NULL while it has none */
} container_t;

typedef struct {
    container_t *cs; /* init containers first, each array in its order */
    size_t n;
} podscan_t;

typedef enum {
    PODSCAN_OK = 0,
    PODSCAN_MALFORMED, /* `why` says which field */
    PODSCAN_OOM,
} podscan_status_t;

/* How many entries spec.initContainers and spec.containers of the pod spec
 * `spec` hold together (what is not an array counts 0), without reading
 * them: checked against a bound before anything is read per container. */
size_t podscan_count(const cJSON *spec);

/* Reads spec.initContainers, then spec.containers, of the pod spec object
 * `spec` into `out` (zeroed by the caller; free it with podscan_free()
 * whatever the answer). An absent or null array is empty. The strings
 * point into `spec`. */
podscan_status_t podscan_read(const cJSON *spec, podscan_t *out, char *why, size_t whysz);

/* Sets `spec` and `logical` of every container: the first union spec
 * whose image it runs, else the logical registry it is under, else none. */
void podscan_match(podscan_t *ps, const imagespec_list_t *specs,
                   const strlist_t *logical_registries);

/* Whether any container or init container of the pod spec object `spec`
 * runs an image under one of `logical_registries`, as podscan_match()
 * would find it; tolerant: malformed parts are skipped, not reported. */
bool podscan_uses_logical(const cJSON *spec, const strlist_t *logical_registries);

/* How many distinct targets the containers that run a spec's image have;
 * false when out of memory. */
bool podscan_spec_targets(const podscan_t *ps, size_t *n);

/* Whether a container or init container is called `name`. */
bool podscan_name_taken(const podscan_t *ps, const char *name);

void podscan_free(podscan_t *ps);

#endif
