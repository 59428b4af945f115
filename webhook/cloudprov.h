/* cloudprov: the interface every cloud credential provider implements
 * (awscred.c, gcpcred.c, azcred.c), and the table cloudcred.c picks from. */
#ifndef WH_CLOUDPROV_H
#define WH_CLOUDPROV_H

#include "cloudcred.h"

typedef struct {
    const char *name; /* "aws", "google", "azure" */
    /* Provider state (its caches); NULL when out of memory. */
    void *(*create)(httpc_t *http, cloudcred_getenv_fn getenv_fn);
    void (*destroy)(void *state);
    /* As cloudcred_get(). Thread-safe. */
    bool (*get)(void *state, const char *host, uint64_t deadline_ms, dockercfg_cred_t *out,
                char *source, size_t sourcesz, char *why, size_t whysz);
} cloudprov_t;

extern const cloudprov_t awscred_provider;
extern const cloudprov_t gcpcred_provider;
extern const cloudprov_t azcred_provider;

/* As cloudcred_refused(), for the providers that keep credentials a
 * registry may refuse before they expire (`state` is the provider's). */
typedef void (*cloudprov_refused_fn)(void *state, const char *host);
void gcpcred_refused(void *state, const char *host);
void azcred_refused(void *state, const char *host);

#endif
