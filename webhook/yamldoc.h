/* yamldoc: a YAML document as a tree of nodes that remember their line and
 * column, read with libyaml's event parser.
 *
 * Aliases are never expanded: an alias becomes a YNODE_ALIAS leaf, and each
 * consumer decides whether that is an error where it matters. This makes
 * "billion laughs" documents cost what their text costs. Depth and node
 * counts are bounded by the caller. */
#ifndef WH_YAMLDOC_H
#define WH_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

typedef enum { YNODE_SCALAR, YNODE_MAP, YNODE_SEQ, YNODE_ALIAS } ynode_kind_t;

typedef struct ynode {
    ynode_kind_t kind;
    size_t line, col; /* 1-based position of the node's start */
    char *str;        /* scalar value (NUL-terminated) or alias name */
    size_t len;
    bool plain;           /* scalar written without quotes (so "true", "1", "null" are typed) */
    struct ynode **items; /* SEQ: n items; MAP: 2*n entries, key then value */
    size_t n;
} ynode_t;

typedef struct {
    size_t line, col; /* 1-based; 0 when unknown */
    char msg[256];
} ydoc_error_t;

typedef struct {
    size_t max_depth; /* 0: 64 */
    size_t max_nodes; /* 0: 1,000,000 */
} ydoc_limits_t;

/* Parses the first document of `buf[0..len)`. An empty document yields an
 * empty MAP. Returns NULL with `err` filled on a syntax error, on a limit,
 * or when the input holds more than one document. */
ynode_t *ydoc_parse(const char *buf, size_t len, const ydoc_limits_t *limits, ydoc_error_t *err);
void ydoc_free(ynode_t *n);

/* Map lookup by key (the last one wins when keys repeat). NULL when absent
 * or when `map` is not a map. */
const ynode_t *ydoc_get(const ynode_t *map, const char *key);

/* How a scalar node resolves. Only plain scalars are typed; quoted ones,
 * "!!str"-tagged ones and non-scalars are YSCALAR_STR. `b`, `i`, `d` (each
 * may be NULL) receive the value for BOOL, INT (also as double) and FLOAT.
 * yamldoc.c documents the exact rules (YAML 1.2 core schema: yes/no stay
 * strings, "0755" and integers of 16+ digits stay strings, .inf/.nan too). */
typedef enum {
    YSCALAR_STR = 0,
    YSCALAR_NULL,
    YSCALAR_BOOL,
    YSCALAR_INT,
    YSCALAR_FLOAT
} yscalar_kind_t;
yscalar_kind_t ydoc_scalar_kind(const ynode_t *n, bool *b, long long *i, double *d);

/* Converts to JSON the way Kubernetes reads YAML: plain scalars become
 * null/booleans/numbers when they look like them, everything else strings.
 * Returns NULL with `err` on an alias or a non-scalar map key. */
cJSON *ydoc_to_json(const ynode_t *n, ydoc_error_t *err);

/* A document a person hands over, JSON or YAML, as a JSON value: JSON text
 * (its first non-blank byte '{' or '[') read by cJSON as it is, anything
 * else read as YAML and converted as above. NULL with a reason in `why`:
 * "not valid JSON (near byte N)" or "line L, column C: <libyaml's words>". */
cJSON *ydoc_read_json_or_yaml(const char *text, size_t len, char *why, size_t whysz);

#endif
