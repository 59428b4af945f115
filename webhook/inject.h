/* inject: the build-image init container and the volumes it mounts, as
 * JSON text ready to splice into a patch.
 *
 * Everything in them but the container's name, IMAGE_SPEC and TARGET_IMAGE
 * depends only on the configuration, so it is rendered once per
 * configuration (the policy object keeps the result, policy.h) and a
 * request only adds its three strings. */
#ifndef WH_INJECT_H
#define WH_INJECT_H

#include <cjson/cJSON.h>

#include "buf.h"
#include "config.h"

#define WH_BUILD_CONTAINER "build-image"
#define WH_VOL_TOKEN       "imagebuilder-registry-token"
#define WH_VOL_STORAGE     "imagebuilder-storage-config"

typedef struct inject inject_t;

/* NULL when out of memory. */
inject_t *inject_prepare(const policy_config_t *cfg);
void inject_free(inject_t *inj);

/* Appends the init container `name` that builds `target` from the
 * ImageSpec whose JSON text is spec[0..spec_len) (UTF-8; handed on as it
 * is, escaped into the IMAGE_SPEC string) to `out` as JSON text. False
 * when out of memory. */
bool inject_container(const inject_t *inj, buf_t *out, const char *name, const char *spec,
                      size_t spec_len, const char *target);

/* The volumes the build mounts (the registry-audience token and
 * storage.yaml), each as JSON text: volume i < INJECT_N_VOLUMES. */
#define INJECT_N_VOLUMES 2
const char *inject_volume(const inject_t *inj, size_t i);

#endif
