/* wwwauth: the pieces of the registry authentication handshake that are
 * pure text: the WWW-Authenticate challenge (RFC 7235 / RFC 6750 syntax)
 * and the token endpoint's JSON answer.
 *
 * No I/O here; regauth drives the network with these. */
#ifndef WH_WWWAUTH_H
#define WH_WWWAUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    WWWAUTH_UNKNOWN = 0, /* a scheme this code does not speak */
    WWWAUTH_BASIC,
    WWWAUTH_BEARER,
} wwwauth_scheme_t;

#define WWWAUTH_REALM_MAX   1024
#define WWWAUTH_SERVICE_MAX 256
#define WWWAUTH_SCOPE_MAX   1024

typedef struct {
    wwwauth_scheme_t scheme;
    char realm[WWWAUTH_REALM_MAX];     /* "" when absent */
    char service[WWWAUTH_SERVICE_MAX]; /* "" when absent */
    char scope[WWWAUTH_SCOPE_MAX];     /* "" when absent; may hold several, space-separated */
    char error[64];                    /* the `error` parameter ("insufficient_scope"...), or "" */
} wwwauth_t;

/* Parses one WWW-Authenticate header value `s[0..n)`. Only the first
 * challenge is read. Parameter names are case-insensitive, values are a
 * token or a quoted string (backslash escapes honoured, commas allowed
 * inside quotes). A Bearer challenge must carry a realm that is an http(s)
 * URL. Returns false with a short static reason in `why` when the header is
 * malformed or a value does not fit. */
bool wwwauth_parse(const char *s, size_t n, wwwauth_t *out, const char **why);

/* Reads a token endpoint answer: `token` or `access_token` (either), and
 * `expires_in` (60 seconds when absent or not positive). The token is
 * written to `tok` (NUL-terminated); false when the JSON is malformed, has
 * no token, or the token does not fit or has characters a header cannot carry. */
bool wwwauth_parse_token(const char *json, size_t len, char *tok, size_t toksz,
                         unsigned *expires_in, const char **why);

#endif
