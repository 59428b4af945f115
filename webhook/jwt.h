/* jwt: JSON Web Tokens (RFC 7519) as far as the cloud credentials need
 * them: signing a token with RS256 (RSASSA-PKCS1-v1_5 with SHA-256, the
 * assertion a Google service-account key sends to its token_uri), and
 * reading a token's claims without verifying it (the expiry of an ACR
 * refresh token, which only its issuer verifies). Signing and parsing are
 * OpenSSL's and cJSON's. Pure: no I/O, no clock (times are arguments). */
#ifndef WH_JWT_H
#define WH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Tokens and answers larger than this are refused. */
#define JWT_MAX (64 * 1024)

/* header.claims.signature (caller frees): the header {"alg":"RS256",
 * "typ":"JWT"} (with "kid" when `kid` is not NULL or empty), `claims` (a
 * JSON object, copied as given), signed with the RSA private key in `pem`
 * (PEM, PKCS #8 or PKCS #1, not encrypted). NULL with a reason in err
 * (the key is never quoted). */
char *jwt_sign_rs256(const char *kid, const char *claims, const char *pem, size_t pem_len,
                     char *err, size_t errsz);

/* The claims of token tok[0..n) (three base64url parts separated by dots,
 * the middle one a JSON object), not verified; caller cJSON_Delete()s.
 * NULL with a short static reason in *why. */
cJSON *jwt_claims(const char *tok, size_t n, const char **why);

/* The `exp` claim (seconds since the epoch) of tok[0..n), not verified.
 * False with a short static reason when the token cannot be read or has no
 * positive numeric `exp`. */
bool jwt_expiry(const char *tok, size_t n, int64_t *exp, const char **why);

#endif
