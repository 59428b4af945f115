/* regcheck: does an image exist in its registry? The OCI distribution
 * API's manifest HEAD (through httpc), answering the registry's challenge
 * when it asks for credentials (regauth), with a bounded answer cache and
 * single-flight lookups (ttlcache), and counters for metrics.
 *
 * 200 is PRESENT, 404 is ABSENT, everything else (other statuses, a
 * timeout, a malformed challenge, no credentials for a challenge) is
 * FAILED: the caller injects the build and never denies on it.
 *
 * A host that could not be reached or did not answer in time is not asked
 * again for registryCheck.failureBackoffSeconds: its images are FAILED at
 * once meanwhile, so that an outage costs one timeout, not one per pod.
 * The cloud identity's lookups back off for as long (cloudcred). */
#ifndef WH_REGCHECK_H
#define WH_REGCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "decide.h"
#include "ttlcache.h"

/* Where a lookup asks: parsed from an image string. */
typedef struct {
    char scheme[6];      /* "https" or "http" (insecure registries only) */
    char host[256];      /* host[:port] contacted (docker.io -> registry-1.docker.io) */
    char repo[256];      /* repository path (library/ added for Docker Hub) */
    char reference[160]; /* tag or digest (digest wins; "latest" when neither) */
    char url[1024];      /* <scheme>://<host>/v2/<repo>/manifests/<reference> */
} regcheck_target_t;

/* Pure: maps an image reference to the manifest URL. `insecure` lists
 * hosts reached over plain HTTP (an entry without a port matches any port).
 * False with a static reason in `why` for an unparseable image. */
bool regcheck_target(const char *image, const strlist_t *insecure, regcheck_target_t *out,
                     const char **why);

typedef enum {
    REGCHECK_FROM_NETWORK = 0, /* this call asked the registry */
    REGCHECK_FROM_CACHE,       /* a cached answer */
    REGCHECK_FROM_SHARED,      /* another thread's concurrent lookup of the same image */
    REGCHECK_FROM_NONE,        /* no lookup happened (bad image, out of time) */
    REGCHECK_FROM_BACKOFF,     /* not asked: the host failed a short while ago */
} regcheck_source_t;

typedef struct {
    check_answer_t answer;
    regcheck_source_t source;
    long http_status; /* the last status seen (0: none) */
    double seconds;   /* time spent in this call */
    char detail[384]; /* one line: why FAILED, or what was seen */
    char reason[96];  /* FAILED: why in a few words, for the user's warning ("" otherwise) */
    /* Where the registry credentials came from (regauth_answer's source:
     * "docker-config", "credential-helper:<name>", "aws:web-identity", ...),
     * "" when none were used. */
    char cred_source[64];
} regcheck_result_t;

typedef struct regcheck regcheck_t;

/* Reads the Docker config named in cfg (errors are returned: the operator
 * configured it). `cache` NULL: a new cache; otherwise that cache is shared
 * (a reference is taken), so answers survive a configuration reload. */
/* `auth` (authenticationType) picks the cloud identity used for hosts the
 * Docker config has no credentials for. */
regcheck_t *regcheck_new(const regcheck_config_t *cfg, auth_type_t auth, ttlcache_t *cache,
                         char *err, size_t errsz);
void regcheck_free(regcheck_t *rc);
ttlcache_t *regcheck_cache(regcheck_t *rc);

/* Answers for one image, by `deadline_ms` (clock_mono_ms, clock.h) at
 * the latest. Thread-safe. */
check_answer_t regcheck_image(regcheck_t *rc, const char *image, uint64_t deadline_ms,
                              regcheck_result_t *res);

/* Prometheus text: lookups by result, cache outcomes, HTTP requests made,
 * latency histogram of network lookups. */
void regcheck_metrics(const regcheck_t *rc, buf_t *out);
/* HTTP requests sent so far (for tests and logs). */
unsigned long regcheck_requests(const regcheck_t *rc);

const char *regcheck_source_name(regcheck_source_t s);

/* Pure: the few words a user sees for a failed answer to a registry's
 * challenge, from regauth's one-line `why` ("token endpoint answered HTTP
 * 401" -> "registry answered 401 to the token request"). `timed_out`: the
 * lookup ran out of time meanwhile. */
void regcheck_auth_reason(const char *why, const char *host, bool timed_out, char *out,
                          size_t outsz);
/* "not-run", "present", "absent", "failed" */
const char *regcheck_answer_name(check_answer_t a);

#endif
