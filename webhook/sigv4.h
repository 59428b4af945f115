/* sigv4: AWS Signature Version 4 for requests signed in the Authorization
 * header (AWS4-HMAC-SHA256): the canonical request, the string to sign,
 * the signing key derived from the secret, date, region and service, and
 * the Authorization header value. SHA-256 and HMAC-SHA256 come from
 * OpenSSL's EVP interface. Pure: the time is an input (the caller formats
 * its clock with sigv4_amz_date), nothing is read or sent. */
#ifndef WH_SIGV4_H
#define WH_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SIGV4_MAX_HEADERS 16
#define SIGV4_KEY_LEN     32

typedef struct {
    const char *name; /* any case; lowercased in the canonical form */
    const char *value;
} sigv4_header_t;

typedef struct {
    const char *method; /* "GET", "POST" */
    const char *path;   /* the URI path as sent, already percent-encoded ("" or NULL: "/") */
    const char *query;  /* the query as sent, already percent-encoded ("a=1&b=2"; NULL: none) */
    /* Every header that is signed: at least host and x-amz-date (and
     * x-amz-security-token with temporary credentials). */
    const sigv4_header_t *headers;
    size_t n_headers;
    const void *payload; /* the body (NULL with payload_len 0: empty) */
    size_t payload_len;
    const char *amz_date; /* "YYYYMMDDTHHMMSSZ", the X-Amz-Date value */
    const char *region, *service;
    const char *access_key, *secret_key;
} sigv4_request_t;

/* The canonical request of `r` (appended to out), and in `signed_headers`
 * (appended) the semicolon-separated lowercase names. False when the
 * request is malformed (no headers or more than SIGV4_MAX_HEADERS, an
 * amz_date that is not 16 characters) or memory runs out. */
bool sigv4_canonical_request(const sigv4_request_t *r, buf_t *out, buf_t *signed_headers);

/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical>" appended to out. */
bool sigv4_string_to_sign(const sigv4_request_t *r, const char *canonical, size_t canonical_len,
                          buf_t *out);

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date8), region), service), "aws4_request"). */
bool sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char key[SIGV4_KEY_LEN]);

/* The Authorization header value:
 * "AWS4-HMAC-SHA256 Credential=<akid>/<scope>, SignedHeaders=<names>, Signature=<hex>". */
bool sigv4_authorization(const sigv4_request_t *r, buf_t *out);

/* Lowercase hex of the SHA-256 of data[0..n) into out (65 bytes). */
bool sigv4_sha256_hex(const void *data, size_t n, char out[65]);
/* Lowercase hex of in[0..n) into out (2n + 1 bytes). */
void sigv4_hex(const unsigned char *in, size_t n, char *out);

/* `unix_seconds` (UTC) as "YYYYMMDDTHHMMSSZ" (17 bytes with the NUL).
 * False for a time before 1970 or after 9999. */
bool sigv4_amz_date(int64_t unix_seconds, char out[17]);

#endif
