/* jsonpatch: JSON Patch (RFC 6902) documents as kube-apiserver applies
 * them: writing ops as JSON text with correctly escaped JSON Pointer paths, and
 * applying add/replace/remove ops the way the apiserver's patch library
 * does (parents are never created; "-" appends). */
#ifndef WH_JSONPATCH_H
#define WH_JSONPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "base64.h"
#include "buf.h"

/* Appends "/" + `token` with "~" written "~0" and "/" written "~1". */
bool jsonpatch_put_token(buf_t *path, const char *token);

/* A JSON Patch document written as text, op by op, exactly as cJSON would
 * print the same array of {"op","path","value"} objects. */
typedef struct {
    buf_t text; /* "[" and the ops so far, separated by commas */
    size_t n_ops;
    bool base64; /* set before writing: the text's base64 is made as it grows */
    buf_t b64;   /* the base64 of text[0..encoded) */
    size_t encoded;
} jsonpatch_t;

#define JSONPATCH_INIT                                                                             \
    {                                                                                              \
        BUF_INIT, 0, false, BUF_INIT, 0                                                            \
    }

/* Starts one op: writes {"op":<op>,"path":<pointer> and, when `value`,
 * ,"value": after which the caller writes the value's JSON text and ends
 * the op with jsonpatch_end(). `tokens`: unescaped pointer tokens ending
 * with NULL (array indexes as decimal strings, "-" to append). */
bool jsonpatch_begin(jsonpatch_t *p, const char *op, const char *const *tokens, bool value);
bool jsonpatch_end(jsonpatch_t *p);

/* One whole op whose value is the JSON text value[0..len) (NULL: no value,
 * for "remove"). */
bool jsonpatch_op(jsonpatch_t *p, const char *op, const char *const *tokens, const char *value,
                  size_t len);

/* One whole op whose value is the string `s`. */
bool jsonpatch_op_string(jsonpatch_t *p, const char *op, const char *const *tokens, const char *s);

/* Appends the constant's text (part of a value); with `base64`, its
 * precomputed encoding goes into the base64 as it is. */
bool jsonpatch_put_const(jsonpatch_t *p, const base64_const_t *c);

/* Starts an op with the constant `c` as the whole op or its beginning:
 * text jsonpatch_begin (and what follows) wrote once for every request,
 * without the separator before the op (base64_const_new of what an empty
 * patch holds after its "["). */
bool jsonpatch_begin_const(jsonpatch_t *p, const base64_const_t *c);

/* Starts an op whose beginning the caller wrote as text[0..len), exactly
 * as jsonpatch_begin would have. */
bool jsonpatch_begin_text(jsonpatch_t *p, const char *text, size_t len);

/* Closes the array and hands its text over (caller frees; `*len` its
 * length), and with `base64` its padded base64 in `*b64` (caller frees;
 * NULL without). NULL when out of memory. `p` is empty afterwards. */
char *jsonpatch_finish(jsonpatch_t *p, size_t *len, char **b64);
void jsonpatch_free(jsonpatch_t *p);

/* Applies `ops` to `doc` in place. Supports add, replace and remove.
 * Returns false with a reason in `why` when an op does not apply (missing
 * parent, index out of range, unknown op), leaving `doc` partly patched. */
bool jsonpatch_apply(cJSON *doc, const cJSON *ops, char *why, size_t whysz);

/* jsonpatch_apply of the patch whose JSON text is `ops` (as a decision
 * keeps it). */
bool jsonpatch_apply_text(cJSON *doc, const char *ops, char *why, size_t whysz);

#endif
