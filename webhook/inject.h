/* inject: the build-image init container and the volumes it mounts, as
 * JSON text ready to splice into a patch.
 *
 * Everything in them but the container's name, IMAGE_SPEC and TARGET_IMAGE
 * depends only on the configuration, so it is rendered once per
 * configuration (the policy object keeps the result, policy.h), with its
 * base64 for each alignment (base64.h), and a request only adds its three
 * strings. */
#ifndef WH_INJECT_H
#define WH_INJECT_H

#include <cjson/cJSON.h>

#include "buf.h"
#include "config.h"
#include "jsonpatch.h"

#define WH_BUILD_CONTAINER "build-image"
#define WH_VOL_TOKEN       "imagebuilder-registry-token"
#define WH_VOL_STORAGE     "imagebuilder-storage-config"

typedef struct inject inject_t;

/* NULL when out of memory. */
inject_t *inject_prepare(const policy_config_t *cfg);
void inject_free(inject_t *inj);

/* The lengths of the three strings' JSON texts (quotes included) in a
 * container inject_container wrote: its name, IMAGE_SPEC, TARGET_IMAGE. */
typedef struct {
    size_t len[3];
} inject_holes_t;

/* Appends the init container `name` that builds `target` from the
 * ImageSpec whose JSON text is spec[0..spec_len) (UTF-8; handed on as it
 * is, escaped into the IMAGE_SPEC string) to `out` as JSON text, and where
 * its strings went to `holes` (may be NULL). False when out of memory. */
bool inject_container(const inject_t *inj, buf_t *out, const char *name, const char *spec,
                      size_t spec_len, const char *target, inject_holes_t *holes);

/* Writes the container that inject_container wrote as `text` (with
 * `holes`) into the patch as a value: its constant parts as constants, so
 * that their base64 is the one worked out for the configuration. */
bool inject_put_container(const inject_t *inj, jsonpatch_t *ops, const char *text,
                          const inject_holes_t *holes);

/* The volumes the build mounts (the registry-audience token and
 * storage.yaml): volume i < INJECT_N_VOLUMES as JSON text (the patch
 * writes them within the ops of inject_op). */
#define INJECT_N_VOLUMES 2
const char *inject_volume(const inject_t *inj, size_t i);

/* Ops of the patch that are the same for every request, written once per
 * configuration as jsonpatch_begin_const takes them: whole ops, or an op's
 * beginning that the request's value follows. */
typedef enum {
    INJECT_OP_VOLUMES,      /* whole: add spec.volumes holding both volumes */
    INJECT_OP_VOLUME_0,     /* whole: append volume 0 to the pod's spec.volumes */
    INJECT_OP_VOLUME_1,     /* whole: append volume 1 */
    INJECT_OP_INIT_HEAD,    /* add spec.initContainers, up to the array's "[" */
    INJECT_OP_MUTATED,      /* whole: add the mutated annotation to the pod's annotations */
    INJECT_OP_TARGETS_HEAD, /* add the target-images annotation, up to its value */
    INJECT_N_OPS
} inject_op_t;
const base64_const_t *inject_op(const inject_t *inj, inject_op_t op);

#endif
