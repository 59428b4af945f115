/* jsonpatch: JSON Patch (RFC 6902) documents as kube-apiserver applies
 * them: building ops with correctly escaped JSON Pointer paths, and
 * applying add/replace/remove ops the way the apiserver's patch library
 * does (parents are never created; "-" appends). */
#ifndef WH_JSONPATCH_H
#define WH_JSONPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* Appends "/" + `token` with "~" written "~0" and "/" written "~1". */
bool jsonpatch_put_token(buf_t *path, const char *token);

/* Appends one op {"op","path","value"} to the array `ops`. `path` is a
 * sequence of unescaped tokens ending with NULL (array indexes as decimal
 * strings, "-" to append). Takes ownership of `value` (may be NULL for
 * "remove"), also on failure. */
bool jsonpatch_append(cJSON *ops, const char *op, cJSON *value, const char *const *tokens);

/* Applies `ops` to `doc` in place. Supports add, replace and remove.
 * Returns false with a reason in `why` when an op does not apply (missing
 * parent, index out of range, unknown op), leaving `doc` partly patched. */
bool jsonpatch_apply(cJSON *doc, const cJSON *ops, char *why, size_t whysz);

#endif
