/* dockercfg: registry credentials from a Docker config.json and from
 * docker-credential helpers.
 *
 * Parsing and lookup are pure. Helpers run only under names taken from the
 * configuration file (`credHelpers`, `credsStore`), never from a request,
 * and only when the name is a plain word (letters, digits, '.', '_', '-').
 * A helper gets the server URL on stdin and a bounded time and output. */
#ifndef WH_DOCKERCFG_H
#define WH_DOCKERCFG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *host;           /* normalised key: host[:port], lowercase, no scheme, no path */
    char *username;       /* NULL when absent */
    char *password;       /* NULL when absent */
    char *identity_token; /* NULL when absent */
} dockercfg_auth_t;

typedef struct {
    char *host;   /* normalised as above */
    char *helper; /* suffix of docker-credential-<helper> */
} dockercfg_helper_t;

typedef struct {
    dockercfg_auth_t *auths;
    size_t n_auths;
    dockercfg_helper_t *helpers;
    size_t n_helpers;
    char *creds_store; /* NULL when absent */
} dockercfg_t;

typedef struct {
    char *username;
    char *secret;
    bool identity_token; /* secret is an OAuth2 refresh token, not a password */
} dockercfg_cred_t;

/* Parses config.json text. Entries with an invalid helper name or an
 * undecodable `auth` are errors (the file is the operator's, so say so).
 * Returns false with a message in err. */
bool dockercfg_parse(const char *json, size_t len, dockercfg_t *out, char *err, size_t errsz);
/* Reads and parses a file (at most 1 MiB). */
bool dockercfg_load(const char *path, dockercfg_t *out, char *err, size_t errsz);
void dockercfg_free(dockercfg_t *c);

/* Normalises a config key or host ("https://Index.Docker.IO/v1/" ->
 * "index.docker.io") into out. False when it does not fit. */
bool dockercfg_norm_host(const char *s, char *out, size_t outsz);

/* How to get credentials for registry `host` (host[:port] as contacted,
 * e.g. "registry-1.docker.io"): credHelpers for the host first, then an
 * inline `auths` entry, then credsStore. Exactly one of *auth and *helper is
 * set, or neither (anonymous). Docker Hub hosts map to "index.docker.io". */
void dockercfg_lookup(const dockercfg_t *c, const char *host, const dockercfg_auth_t **auth,
                      const char **helper);

/* The server URL a helper is asked about for `host` ("https://index.docker.io/v1/"
 * for Docker Hub, else the host itself). */
const char *dockercfg_helper_server(const char *host, char *buf, size_t bufsz);

bool dockercfg_helper_name_valid(const char *name);

/* Parses a helper's `get` answer ({"ServerURL","Username","Secret"}).
 * Username "<token>" marks an identity token. */
bool dockercfg_parse_helper_output(const char *json, size_t len, dockercfg_cred_t *out, char *err,
                                   size_t errsz);

/* Runs `docker-credential-<helper> get` (found in PATH) with `server_url`
 * on stdin; at most timeout_ms and 64 KiB of output. */
bool dockercfg_run_helper(const char *helper, const char *server_url, unsigned timeout_ms,
                          dockercfg_cred_t *out, char *err, size_t errsz);

/* Copies an inline auth entry into a credential (identity token first). */
bool dockercfg_cred_from_auth(const dockercfg_auth_t *a, dockercfg_cred_t *out);
void dockercfg_cred_free(dockercfg_cred_t *c);

#endif
