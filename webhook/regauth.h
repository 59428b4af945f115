/* regauth: authenticating to a registry. Answers the WWW-Authenticate
 * challenge a registry sends with a 401 (parsed by wwwauth.c): Basic with
 * the credentials of the Docker config (inline `auths` or a credential
 * helper), Bearer by asking the challenge's token endpoint (anonymously,
 * with Basic credentials, or with an identity token through the OAuth2
 * refresh-token grant). Hosts the Docker config has nothing for get the
 * credentials of the cloud identity (cloudcred.h), when there is one. The
 * Authorization header lines that worked are kept per repository in a
 * ttlcache for their lifetime, with the name of their credentials' source;
 * credential lookups are counted by source and result for the metrics.
 *
 * Requests go through the registry check's httpc client. */
#ifndef WH_REGAUTH_H
#define WH_REGAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cloudcred.h"
#include "httpc.h"
#include "wwwauth.h"

typedef struct regauth regauth_t;

/* Reads the Docker config at `docker_config` (NULL or "": none). For a
 * host the Docker config has nothing for, credentials come from `cloud`
 * (the cloud identity of authenticationType; NULL: anonymous). `http` and
 * `cloud` are borrowed and must outlive the result. NULL with a message in
 * err when the Docker config cannot be used or memory runs out. */
regauth_t *regauth_new(const char *docker_config, cloudcred_t *cloud, httpc_t *http, char *err,
                       size_t errsz);
void regauth_free(regauth_t *a);

/* The cached "Authorization: ..." line for host/repo (the caller wipes and
 * frees it), or NULL. */
char *regauth_cached(regauth_t *a, const char *host, const char *repo);
/* Caches a line that worked for `ttl_ms`; `line` NULL forgets the entry. */
void regauth_remember(regauth_t *a, const char *host, const char *repo, const char *line,
                      uint64_t ttl_ms);

/* Answers the challenge `www` that registry `host` sent for `repo`,
 * finishing by `deadline_ms` (clock_mono_ms). `insecure`: the registry is
 * reached over plain HTTP, so its token realm may be too. True with *line
 * ("Authorization: ...", the caller wipes and frees it) and how long it
 * may be cached; false with the reason in `why`. Either way `source` names
 * where the credentials came from, or were looked for: "docker-config",
 * "credential-helper:<name>", a cloud identity source ("aws:web-identity",
 * ...; cloudcred.h), or "" when none was used (anonymous). */
bool regauth_answer(regauth_t *a, const char *host, const char *repo, const char *www,
                    bool insecure, uint64_t deadline_ms, char **line, uint64_t *ttl_ms,
                    char *source, size_t sourcesz, char *why, size_t whysz);

/* The source of the credentials behind the line cached for host/repo (as
 * regauth_answer named it), into out; "" when unknown. */
void regauth_cached_source(regauth_t *a, const char *host, const char *repo, char *out,
                           size_t outsz);

/* Prometheus text: credential lookups by source and result, ok, error or
 * backoff (imagebuilder_webhook_registry_credentials_total). */
void regauth_metrics(regauth_t *a, buf_t *out);

/* The token request URL of a Bearer challenge: realm, then `service=` and
 * one `scope=` per space-separated scope (percent-encoded by libcurl).
 * Without a scope in the challenge, `default_scope` (may be NULL) is used.
 * Appends to `out`; false when out of memory. */
bool regauth_token_url(const wwwauth_t *ch, const char *default_scope, buf_t *out);

/* "Authorization: Basic <base64 of user:pass>" (caller frees), or NULL. */
char *regauth_basic_line(const char *user, const char *pass);

#endif
