/* base64: standard base64 (RFC 4648, padded) through OpenSSL: decoding with
 * the EVP_Decode* functions, which report the exact decoded length (the
 * `auth` entries of a Docker config, the *-data fields of a kubeconfig),
 * and encoding (HTTP Basic credentials); and its URL-safe form without
 * padding (RFC 4648 section 5), the one JSON Web Tokens use. Pure: no I/O. */
#ifndef WH_BASE64_H
#define WH_BASE64_H

#include <stddef.h>

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

#endif
