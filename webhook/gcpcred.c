/* gcpcred: registry credentials from the Google cloud identity (see
 * cloudcred.h). Not implemented yet: every lookup says so. */
#include "cloudprov.h"

#include <stdlib.h>

#include "errmsg.h"

static void *create(httpc_t *http, cloudcred_getenv_fn getenv_fn)
{
    (void)http;
    (void)getenv_fn;
    return malloc(1);
}

static bool get(void *state, const char *host, uint64_t deadline_ms, dockercfg_cred_t *out,
                char *source, size_t sourcesz, char *why, size_t whysz)
{
    (void)state;
    (void)host;
    (void)deadline_ms;
    (void)out;
    (void)source;
    (void)sourcesz;
    errmsg_set(why, whysz, "Google credentials are not supported yet");
    return false;
}

const cloudprov_t gcpcred_provider = {"gcp", create, free, get};
