/* cloudcred: registry credentials from the cloud identity a cluster gives
 * its pods, chosen by `authenticationType`, for the registry existence
 * check when the Docker config (registryCheck.dockerConfig) has nothing
 * for a host. Each cloud's provider finds its identity the way that
 * cloud's SDKs do, through their standard environment variables:
 *   aws    (awscred.c):  web identity (IRSA), EKS Pod Identity, static keys,
 *                        IMDSv2; then ECR GetAuthorizationToken (SigV4);
 *   google (gcpcred.c):  the metadata server, or a service-account key file;
 *   azure  (azcred.c):   workload identity → Entra token → ACR refresh token.
 * Answers are cached by the provider until shortly before they expire.
 * A lookup that failed is not made again for the host for a while (the
 * registry check's failureBackoffSeconds): while a cloud endpoint refuses,
 * throttles or is down, it is asked once per backoff, not once per pod.
 * Requests go through the registry check's httpc client and end by the
 * caller's deadline. */
#ifndef WH_CLOUDCRED_H
#define WH_CLOUDCRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dockercfg.h"
#include "httpc.h"
#include "registry.h"

typedef struct cloudcred cloudcred_t;

/* The environment a provider reads (getenv by default; tests pass their own). */
typedef const char *(*cloudcred_getenv_fn)(const char *name);

/* How long a failed lookup is remembered. */
typedef struct {
    uint64_t backoff_ms; /* a host's failed lookup is not made again for this long (0: off) */
    uint64_t timeout_ms; /* a lookup that ran out of time counts after half of this only */
} cloudcred_backoff_t;

/* A source for `type` (AUTH_NOOP and AUTH_BASIC have none: NULL is returned
 * and that is not an error). `http` is borrowed. `getenv_fn` NULL: getenv.
 * `backoff` NULL: failures are not remembered. */
cloudcred_t *cloudcred_new(auth_type_t type, httpc_t *http, cloudcred_getenv_fn getenv_fn,
                           const cloudcred_backoff_t *backoff);
void cloudcred_free(cloudcred_t *c);

/* Credentials for registry `host` (host[:port] as contacted), by
 * `deadline_ms` (clock_mono_ms). True with *out filled (caller frees with
 * dockercfg_cred_free); `source` names where they came from ("aws:web-identity",
 * "google:metadata", "azure:workload-identity", ...) for metrics, logs and
 * `review --explain`. False with a short reason in `why` ("no AWS
 * credentials found", "STS answered 403", "metadata server timed out") and,
 * when a source was tried, its name in `source`. While the host's last
 * lookup failed less than the backoff ago, nothing is asked: false with
 * that source and a reason that cloudcred_not_asked() recognizes. `c`
 * NULL: false, no reason. */
bool cloudcred_get(cloudcred_t *c, const char *host, uint64_t deadline_ms, dockercfg_cred_t *out,
                   char *source, size_t sourcesz, char *why, size_t whysz);

/* True when `why`, from a failed cloudcred_get(), says that nothing was
 * asked because the host's last lookup failed within the backoff. */
bool cloudcred_not_asked(const char *why);

/* The credentials cloudcred_get() gave for `host` were refused (the
 * registry's token endpoint answered 401 with them): the provider forgets
 * what it kept for the host, so the next cloudcred_get() asks the cloud
 * again instead of offering them until they expire. `c` NULL: nothing. */
void cloudcred_refused(cloudcred_t *c, const char *host);

#endif
