/* base64: standard base64 (RFC 4648, padded) through OpenSSL: decoding with
 * the EVP_Decode* functions, which report the exact decoded length (the
 * `auth` entries of a Docker config, the *-data fields of a kubeconfig),
 * and encoding (HTTP Basic credentials); and its URL-safe form without
 * padding (RFC 4648 section 5), the one JSON Web Tokens use; and an
 * encoder of a growing text that splices the precomputed encodings of constant
 * texts (the parts of the JSON Patch that are the same for every request of
 * a configuration). Pure: no I/O. */
#ifndef WH_BASE64_H
#define WH_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Spaces, tabs and line breaks between the characters are skipped (PEM
 * data in YAML is often wrapped); without this flag they are an error. */
#define BASE64_SKIP_SPACE 1

/* Decodes s[0..n) into a new buffer (caller frees) holding exactly the
 * decoded bytes plus a terminating NUL, the length in *outlen. NULL when
 * the text is not padded standard base64, decodes to nothing, or memory
 * runs out. */
unsigned char *base64_decode(const char *s, size_t n, int flags, size_t *outlen);

/* The padded base64 text of data[0..n) (caller frees), NULL when out of
 * memory or n is too large. */
char *base64_encode(const void *data, size_t n);

/* The URL-safe text of data[0..n) ('-' and '_' for '+' and '/'), without
 * padding (caller frees); NULL when out of memory or n is too large. */
char *base64url_encode(const void *data, size_t n);

/* Decodes unpadded URL-safe base64 s[0..n) as base64_decode() does (a NUL
 * after the bytes, the length in *outlen). NULL when s holds anything but
 * the URL-safe alphabet ('=' padding, '+', '/' and spaces included), has
 * an impossible length, decodes to nothing, or memory runs out. */
unsigned char *base64url_decode(const char *s, size_t n, size_t *outlen);

/* Padded base64 of a text made as the text grows in a buffer: the text's
 * own bytes are encoded in runs, one run up to each constant met, and the
 * constants' precomputed encodings copied; `*encoded` says how much of the
 * text is encoded (a multiple of 3, 0 at the start). The result is exactly
 * what base64_encode gives for the whole text. */

/* A constant text with its encoding worked out once for each of the three
 * places in a group it can start at, so that a text that holds it only
 * encodes the bytes between the constants and copies the rest. */
typedef struct base64_const base64_const_t;

/* A copy of text[0..len) and its encodings; NULL when out of memory. */
base64_const_t *base64_const_new(const char *text, size_t len);
void base64_const_free(base64_const_t *c);
const char *base64_const_text(const base64_const_t *c);
size_t base64_const_len(const base64_const_t *c);

/* Appends the constant's text to `text`, and to `out` the encoding of the
 * text before it that waited and of as much of the constant as ends on a
 * whole group; false when out of memory. */
bool base64_put_const(buf_t *text, size_t *encoded, buf_t *out, const base64_const_t *c);
/* Encodes what is left of `text`, with padding. */
bool base64_put_rest(const buf_t *text, size_t *encoded, buf_t *out);

#endif
