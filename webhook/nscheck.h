/* nscheck: does the production namespace exist? Asks the Kubernetes API
 * (`GET /api/v1/namespaces/<name>`) from a background thread every
 * ttlSeconds, and every absentTtlSeconds while the namespace is absent or
 * being deleted (so that a namespace created after a denial unblocks pods
 * within seconds), with the in-cluster service account (token re-read on
 * every refresh, since it rotates) or a kubeconfig (kubeconfig.c) for
 * development, through httpc; nsanswer.c reads the answer. The request
 * path only reads the cached state; it waits (bounded by timeoutMs from the
 * start, and by the request's deadline) only while the very first answer
 * is not in yet.
 *
 * 200 with the namespace object is PRESENT (terminating when its phase is
 * Terminating), 404 is ABSENT, anything else (other statuses, timeouts,
 * malformed answers) is FAILED. A failed refresh keeps the previous
 * definite answer for up to three TTLs. */
#ifndef WH_NSCHECK_H
#define WH_NSCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "decide.h"

typedef struct {
    check_answer_t answer;
    bool terminating;   /* PRESENT, but being deleted */
    char reason[64];    /* FAILED: why in a few words ("API timed out"), else "" */
    bool waited;        /* this call waited for the first answer */
    double age_seconds; /* how old the answer is (0 when none) */
    long http_status;   /* of the last refresh */
    char detail[192];   /* one line on the last refresh */
} nscheck_info_t;

typedef struct nscheck nscheck_t;

/* Resolves the API endpoint (productionDomainCheck.apiServer, else the
 * kubeconfig's server, else https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)
 * and starts the refresh thread. `seed` (may be NULL): an older checker
 * of the same namespace and API whose answer is taken over so that a
 * configuration reload does not wait again. */
nscheck_t *nscheck_new(const nscheck_config_t *cfg, const char *ns, const nscheck_t *seed,
                       char *err, size_t errsz);
/* Stops and joins the refresh thread. */
void nscheck_free(nscheck_t *n);

/* The cached answer. Thread-safe. */
check_answer_t nscheck_get(nscheck_t *n, nscheck_info_t *info);
/* The same, waiting for a first answer no later than `deadline_ms`
 * (clock_mono_ms; 0: no bound but the checker's own; a past instant: no
 * wait at all). */
check_answer_t nscheck_get_by(nscheck_t *n, uint64_t deadline_ms, nscheck_info_t *info);
const char *nscheck_namespace(const nscheck_t *n);
/* Refreshes done so far (for tests and logs). */
unsigned long nscheck_requests(const nscheck_t *n);

void nscheck_metrics(const nscheck_t *n, buf_t *out);

#endif
