/* cloudcred: picks the cloud credential provider for an authenticationType,
 * and remembers the hosts whose lookup failed (see cloudcred.h and
 * cloudprov.h). */
#include "cloudcred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cloudprov.h"
#include "errmsg.h"
#include "ttlcache.h"

#define FAILED_HOSTS_MAX 64
#define NOT_ASKED        "not asked: "

struct cloudcred {
    const cloudprov_t *prov;
    cloudprov_refused_fn refused; /* NULL: the provider keeps nothing to drop */
    void *state;
    cloudcred_backoff_t backoff;
    ttlcache_t *failed; /* host -> "<source>\n<reason>" of its failed lookup; NULL: off */
};

static const cloudprov_t *provider_for(auth_type_t type)
{
    switch (type) {
    case AUTH_AWS:
        return &awscred_provider;
    case AUTH_GOOGLE:
        return &gcpcred_provider;
    case AUTH_AZURE:
        return &azcred_provider;
    default:
        return NULL;
    }
}

static cloudprov_refused_fn refused_for(auth_type_t type)
{
    switch (type) {
    case AUTH_GOOGLE:
        return gcpcred_refused;
    case AUTH_AZURE:
        return azcred_refused;
    default:
        return NULL;
    }
}

static const char *env(const char *name)
{
    return getenv(name);
}

cloudcred_t *cloudcred_new(auth_type_t type, httpc_t *http, cloudcred_getenv_fn getenv_fn,
                           const cloudcred_backoff_t *backoff)
{
    const cloudprov_t *p = provider_for(type);
    if (!p)
        return NULL;
    cloudcred_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->prov = p;
    c->refused = refused_for(type);
    if (backoff && backoff->backoff_ms) {
        c->backoff = *backoff;
        if (!(c->failed = ttlcache_new(FAILED_HOSTS_MAX, NULL, NULL))) {
            free(c);
            return NULL;
        }
    }
    if (!(c->state = p->create(http, getenv_fn ? getenv_fn : env))) {
        ttlcache_unref(c->failed);
        free(c);
        return NULL;
    }
    return c;
}

void cloudcred_free(cloudcred_t *c)
{
    if (!c)
        return;
    c->prov->destroy(c->state);
    ttlcache_unref(c->failed);
    free(c);
}

/* ---- failed lookups ---------------------------------------------------------------- */

/* True when `host`'s lookup failed less than the backoff ago: `source` and
 * `why` say which and why. */
static bool failed_recently(cloudcred_t *c, const char *host, char *source, size_t sourcesz,
                            char *why, size_t whysz)
{
    unsigned long long ago = 0;
    char *text = c->failed ? ttlcache_get_failure(c->failed, host, &ago) : NULL;
    if (!text)
        return false;
    size_t srclen = strcspn(text, "\n");
    const char *reason = text[srclen] ? text + srclen + 1 : "";
    errmsg_set(source, sourcesz, "%.*s", (int)srclen, text);
    errmsg_set(why, whysz,
               NOT_ASKED "failed %llu s ago (%.150s); registryCheck.failureBackoffSeconds", ago,
               reason);
    free(text);
    return true;
}

/* Remembers a failure of the lookup started at `t0`, unless it only ran
 * out of the caller's time: a request's small budget says little about
 * the cloud, so a timeout counts after half the check's timeout only. */
static void remember_failure(cloudcred_t *c, const char *host, uint64_t t0, uint64_t deadline_ms,
                             const char *source, const char *why)
{
    uint64_t now = clock_mono_ms();
    if (now >= deadline_ms && (now - t0) * 2 < c->backoff.timeout_ms)
        return;
    char text[400];
    snprintf(text, sizeof text, "%s\n%s", source, why ? why : "");
    ttlcache_put_failure(c->failed, host, text, c->backoff.backoff_ms);
}

bool cloudcred_not_asked(const char *why)
{
    return why && strncmp(why, NOT_ASKED, strlen(NOT_ASKED)) == 0;
}

bool cloudcred_get(cloudcred_t *c, const char *host, uint64_t deadline_ms, dockercfg_cred_t *out,
                   char *source, size_t sourcesz, char *why, size_t whysz)
{
    if (source && sourcesz)
        source[0] = '\0';
    if (!c) {
        errmsg_set(why, whysz, "no cloud identity for this authenticationType");
        return false;
    }
    if (failed_recently(c, host, source, sourcesz, why, whysz))
        return false;
    uint64_t t0 = clock_mono_ms();
    bool ok = c->prov->get(c->state, host, deadline_ms, out, source, sourcesz, why, whysz);
    /* A lookup that names no source asked nothing (another cloud's registry). */
    if (c->failed && ok)
        ttlcache_remove(c->failed, host);
    else if (c->failed && source && source[0])
        remember_failure(c, host, t0, deadline_ms, source, why);
    return ok;
}

void cloudcred_refused(cloudcred_t *c, const char *host)
{
    if (c && c->refused)
        c->refused(c->state, host);
}
