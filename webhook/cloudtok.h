/* cloudtok: the pure pieces of the Google and Azure credential providers
 * (gcpcred.c, azcred.c): reading a Google service-account key file,
 * building the claims of its token assertion, and reading what token
 * endpoints answer: OAuth2 access-token answers (the GCE metadata server,
 * a key's token_uri, the Microsoft Entra token endpoint), OAuth2 error
 * answers (for a one-line reason), and the refresh token of ACR's
 * /oauth2/exchange. Everything a server sends is bounded and checked to be
 * safe in a header or a form. No I/O, no clock: times are arguments. */
#ifndef WH_CLOUDTOK_H
#define WH_CLOUDTOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The OAuth2 scope the webhook asks Google for (Artifact Registry and
 * Container Registry accept cloud-platform tokens). */
#define CLOUDTOK_GOOGLE_SCOPE "https://www.googleapis.com/auth/cloud-platform"
/* Where a key without token_uri sends its assertion. */
#define CLOUDTOK_GOOGLE_TOKEN_URI "https://oauth2.googleapis.com/token"
/* Lifetime of the assertion (Google accepts at most one hour). */
#define CLOUDTOK_ASSERTION_SECONDS 3600
/* Tokens longer than this are refused. */
#define CLOUDTOK_TOKEN_MAX 16384

/* A Google service-account key file (type "service_account"). */
typedef struct {
    char *client_email;
    char *private_key;    /* PEM */
    char *private_key_id; /* may be NULL */
    char *token_uri;      /* https:// (CLOUDTOK_GOOGLE_TOKEN_URI when absent) */
} cloudtok_sakey_t;

/* Parses a key file. False with a reason in err (never quoting the key):
 * not JSON, another `type` (authorized_user, external_account, ...), a
 * missing field, a token_uri that is not https://. */
bool cloudtok_parse_sakey(const char *json, size_t len, cloudtok_sakey_t *out, char *err,
                          size_t errsz);
/* Frees (and wipes the private key). */
void cloudtok_sakey_free(cloudtok_sakey_t *k);

/* The claims of the assertion a key sends to its token_uri: iss = the
 * key's client_email, scope = CLOUDTOK_GOOGLE_SCOPE, aud = token_uri,
 * iat = now, exp = now + CLOUDTOK_ASSERTION_SECONDS (caller frees; NULL
 * when out of memory). */
char *cloudtok_google_claims(const cloudtok_sakey_t *k, int64_t now);

/* An access-token answer {"access_token", "expires_in", "token_type"}:
 * the token (caller frees) and its lifetime in seconds (`expires_in` as a
 * number or a string of digits; 0 when absent). A `token_type` other than
 * Bearer is refused. False with a reason in err. */
bool cloudtok_parse_access(const char *json, size_t len, char **token, int64_t *expires_in,
                           char *err, size_t errsz);

/* ACR's /oauth2/exchange answer {"refresh_token": "..."} (caller frees). */
bool cloudtok_parse_refresh(const char *json, size_t len, char **token, char *err, size_t errsz);

/* An OAuth2 error answer {"error", "error_description"} as one short line
 * ("invalid_grant: Invalid JWT Signature."), cut to fit; "" when the body
 * is not one. */
void cloudtok_oauth_error(const char *json, size_t len, char *out, size_t outsz);

/* Whether s is a token a header or a form can carry: 1 to
 * CLOUDTOK_TOKEN_MAX visible ASCII characters, no space. */
bool cloudtok_token_ok(const char *s, size_t n);

#endif
