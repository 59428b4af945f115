/* base64: standard base64 (RFC 4648, padded) through OpenSSL: decoding with
 * the EVP_Decode* functions, which report the exact decoded length (the
 * `auth` entries of a Docker config, the *-data fields of a kubeconfig),
 * and encoding (HTTP Basic credentials); and its URL-safe form without
 * padding (RFC 4648 section 5), the one JSON Web Tokens use; and a
 * streaming encoder that splices the precomputed encodings of constant
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

/* Padded base64 written piece by piece into a buffer: the concatenation
 * of the pieces encodes to exactly what base64_encode gives for the whole.
 * Up to two bytes wait in the stream for the rest of their group. */
typedef struct {
    unsigned char pend[3];
    size_t npend;
} base64_stream_t;

#define BASE64_STREAM_INIT                                                                         \
    {                                                                                              \
        {0, 0, 0}, 0                                                                               \
    }

/* A constant text with its encoding worked out once for each of the three
 * places in a group it can start at, so that a stream that meets it only
 * encodes the few bytes at its edges and copies the rest. */
typedef struct base64_const base64_const_t;

/* A copy of text[0..len) and its encodings; NULL when out of memory. */
base64_const_t *base64_const_new(const char *text, size_t len);
void base64_const_free(base64_const_t *c);
const char *base64_const_text(const base64_const_t *c);
size_t base64_const_len(const base64_const_t *c);

/* Encodes data[0..n) after what came before into `out`; false when out of
 * memory. */
bool base64_stream_put(base64_stream_t *s, buf_t *out, const void *data, size_t n);
/* The same for the constant's text, from its precomputed encodings. */
bool base64_stream_put_const(base64_stream_t *s, buf_t *out, const base64_const_t *c);
/* Encodes the bytes still waiting, with padding. */
bool base64_stream_end(base64_stream_t *s, buf_t *out);

#endif
