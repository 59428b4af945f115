/* yamlout: writing a JSON value as block-style YAML with libyaml's emitter
 * (for people: `review --explain` shows the mutated pod this way). */
#ifndef WH_YAMLOUT_H
#define WH_YAMLOUT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "buf.h"

bool yamlout_write(const cJSON *value, buf_t *out);

#endif
