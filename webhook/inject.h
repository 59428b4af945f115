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

/* The init container `name` that builds `target` from the ImageSpec whose
 * JSON text is spec[0..spec_len) (UTF-8; handed on as it is, escaped into
 * the IMAGE_SPEC string), as a raw JSON value. NULL when out of memory. */
cJSON *inject_container(const inject_t *inj, const char *name, const char *spec, size_t spec_len,
                        const char *target);

/* Appends s[0..n) as a JSON string literal: quotes, backslashes and
 * control characters escaped, every other byte as it is. */
bool inject_json_string(buf_t *b, const char *s, size_t n);

/* The two volumes (the registry-audience token and storage.yaml), as an
 * array of raw JSON values. NULL when out of memory. */
cJSON *inject_volumes(const inject_t *inj);

#endif
