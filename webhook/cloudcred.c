/* cloudcred: picks the cloud credential provider for an authenticationType
 * (see cloudcred.h and cloudprov.h). */
#include "cloudcred.h"

#include <stdlib.h>

#include "cloudprov.h"
#include "errmsg.h"

struct cloudcred {
    const cloudprov_t *prov;
    cloudprov_refused_fn refused; /* NULL: the provider keeps nothing to drop */
    void *state;
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

cloudcred_t *cloudcred_new(auth_type_t type, httpc_t *http, cloudcred_getenv_fn getenv_fn)
{
    const cloudprov_t *p = provider_for(type);
    if (!p)
        return NULL;
    cloudcred_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->prov = p;
    c->refused = refused_for(type);
    if (!(c->state = p->create(http, getenv_fn ? getenv_fn : env))) {
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
    free(c);
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
    return c->prov->get(c->state, host, deadline_ms, out, source, sourcesz, why, whysz);
}

void cloudcred_refused(cloudcred_t *c, const char *host)
{
    if (c && c->refused)
        c->refused(c->state, host);
}
