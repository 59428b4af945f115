/* kubeapi: a small client of the Kubernetes API for the commands that
 * change objects in the cluster (certgen): where the API is and how to
 * authenticate to it, and one request at a time through httpc, each
 * bounded in time.
 *
 * The API is found the way kubectl and client-go find it in a pod: a
 * kubeconfig's current context when one is given (kubeconfig.c), else the
 * service account (its token and CA files) and
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT. An explicit
 * API server URL overrides the address either way. */
#ifndef WH_KUBEAPI_H
#define WH_KUBEAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "httpc.h"
#include "kubeconfig.h"

#define KUBEAPI_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

typedef struct {
    const char *kubeconfig; /* NULL or "": none */
    const char *api_server; /* NULL or "": the kubeconfig's, else in-cluster */
    const char *token_file; /* without a kubeconfig; NULL: KUBEAPI_SA_DIR/token */
    const char *ca_file;    /* without a kubeconfig; NULL: KUBEAPI_SA_DIR/ca.crt if present */
    unsigned timeout_ms;    /* each request's bound */
} kubeapi_options_t;

/* The pieces every client of the API shares (this client and the
 * namespace check): a kubeconfig file read and parsed, its relative paths
 * anchored at its directory (false with "kubeconfig PATH: why"); the TLS
 * settings its context names (borrowing kc's strings); the in-cluster
 * address https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
 * (false when not in a cluster); whether `path` is a regular file. */
bool kubeapi_load_kubeconfig(const char *path, kubeconfig_t *kc, char *err, size_t errsz);
httpc_tls_t kubeapi_kubeconfig_tls(const kubeconfig_t *kc);
bool kubeapi_in_cluster_url(char *out, size_t outsz);
bool kubeapi_is_file(const char *path);

typedef struct kubeapi kubeapi_t;

/* NULL with a one-line reason when the API cannot be located or the
 * credentials cannot be read. */
kubeapi_t *kubeapi_new(const kubeapi_options_t *o, char *err, size_t errsz);
void kubeapi_free(kubeapi_t *k);
/* The API server's URL, without a trailing '/'. */
const char *kubeapi_server(const kubeapi_t *k);

typedef enum { KUBEAPI_GET, KUBEAPI_POST, KUBEAPI_PUT, KUBEAPI_PATCH } kubeapi_method_t;

/* Zero-initialise; free with kubeapi_resp_free(). */
typedef struct {
    long status;
    buf_t body;
} kubeapi_resp_t;

/* One request to `path` (from "/api/..." or "/apis/..."), with `body` of
 * `content_type` when not NULL. True when the API answered (any status, in
 * r->status); false with a one-line reason when it did not (unreachable,
 * TLS, out of time, an answer over 4 MiB). */
bool kubeapi_call(kubeapi_t *k, kubeapi_method_t m, const char *path, const char *content_type,
                  const char *body, kubeapi_resp_t *r, char *err, size_t errsz);
void kubeapi_resp_free(kubeapi_resp_t *r);

/* The reason an error answer gives: the `message` of a Status object,
 * else the start of the body, else the HTTP status. */
void kubeapi_reason(const kubeapi_resp_t *r, char *out, size_t outsz);

#endif
