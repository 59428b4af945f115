/* yamlout: writing a JSON value as block-style YAML with libyaml's emitter
 * (for people: `review --explain` shows the patch and the mutated pod this
 * way). Raw nodes (cJSON_CreateRaw: the injected container and volumes are
 * spliced into a patch as JSON text) are parsed and written as the values
 * they hold. */
#ifndef WH_YAMLOUT_H
#define WH_YAMLOUT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* False when out of memory, or a raw node does not hold valid JSON. */
bool yamlout_write(const cJSON *value, buf_t *out);

#endif
