/* nscheck: production namespace check against the Kubernetes API, with a
 * background refresh thread (see nscheck.h). */
#include "nscheck.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "errmsg.h"
#include "file.h"
#include "histogram.h"
#include "httpc.h"
#include "k8sname.h"
#include "kubeapi.h"
#include "log.h"
#include "nsanswer.h"
#include "secret.h"

#define NS_BODY_MAX (1024 * 1024)
#define RETRY_MS    5000u

struct nscheck {
    char *ns;
    char *url;
    unsigned timeout_ms;
    uint64_t ttl_ms;
    uint64_t absent_ttl_ms; /* refresh interval while absent or terminating */
    /* how to authenticate */
    char *token_file;
    char *token; /* static token (kubeconfig) */
    httpc_t *http;

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    bool stop;
    uint64_t started_at;
    /* state (under mu) */
    bool have;
    check_answer_t answer;
    uint64_t answered_at; /* when `answer` was last confirmed */
    bool terminating;
    long status;
    char detail[192];
    char reason[64];

    atomic_ulong results[4];
    histogram_t hist;
};

/* ---- fetching ------------------------------------------------------------------ */

/* Why the API could not be asked, in a few words. */
static const char *transfer_reason(httpc_fail_t f)
{
    switch (f) {
    case HTTPC_FAIL_TIMEOUT:
        return "API timed out";
    case HTTPC_FAIL_DNS_TIMEOUT:
        return "DNS lookup timed out";
    case HTTPC_FAIL_DNS:
        return "DNS lookup failed for the API";
    case HTTPC_FAIL_TLS:
        return "TLS failed with the API";
    default:
        return "API unreachable";
    }
}

/* One refresh: the answer, the HTTP status and a detail line. */
static void fetch(nscheck_t *n, long *status, nsanswer_t *out)
{
    memset(out, 0, sizeof *out);
    out->answer = CHECK_FAILED;
    *status = 0;
    char note[160] = "";
    char *authz = n->token        ? httpc_auth_line("Bearer", n->token)
                  : n->token_file ? httpc_bearer_from_file(n->token_file, note, sizeof note)
                                  : NULL;
    httpc_req_t q = {.url = n->url,
                     .method = HTTPC_GET,
                     .headers = {"Accept: application/json", authz},
                     .allow_http = true,
                     .body_max = NS_BODY_MAX,
                     .deadline_ms = clock_mono_ms() + n->timeout_ms};
    httpc_resp_t r = {0};
    char err[256];
    switch (httpc_perform(n->http, &q, &r, err, sizeof err)) {
    case HTTPC_OK:
        *status = r.status;
        nsanswer_parse(r.status, r.body.data, r.body.len, n->ns, note, out);
        break;
    case HTTPC_ETRANSFER:
        errmsg_set(out->detail, sizeof out->detail, "%s: %s",
                   r.body_over ? "answer too large" : "API unreachable", err);
        errmsg_set(out->reason, sizeof out->reason, "%s",
                   r.body_over ? "API answer too large" : transfer_reason(r.fail));
        break;
    case HTTPC_ELOCAL:
    case HTTPC_ENOSTATUS:
        errmsg_set(out->detail, sizeof out->detail, "%s", err);
        errmsg_set(out->reason, sizeof out->reason, "API check failed");
        break;
    }
    secret_free(authz);
    httpc_resp_free(&r);
}

static void log_refresh(const nscheck_t *n, const nsanswer_t *a, long status, uint64_t millis)
{
    log_line_t *l = log_begin(a->answer == CHECK_FAILED ? LOG_WARN : LOG_INFO,
                              a->answer == CHECK_FAILED ? "production namespace check failed"
                                                        : "production namespace state");
    log_str(l, "namespace", n->ns);
    log_str(l, "answer", check_answer_name(a->answer));
    log_bool(l, "terminating", a->terminating);
    log_int(l, "status", status);
    log_str(l, "detail", a->detail);
    log_uint(l, "millis", millis);
    log_end(l);
}

static void refresh_once(nscheck_t *n)
{
    long status = 0;
    nsanswer_t a;
    uint64_t t0 = clock_mono_ms();
    fetch(n, &status, &a);
    uint64_t t1 = clock_mono_ms();
    histogram_observe(&n->hist, (double)(t1 - t0) / 1000.0);
    atomic_fetch_add(&n->results[a.answer], 1);
    pthread_mutex_lock(&n->mu);
    bool changed = !n->have || n->answer != a.answer || n->terminating != a.terminating;
    n->status = status;
    if (a.answer != CHECK_FAILED) {
        n->answer = a.answer;
        n->terminating = a.terminating;
        n->answered_at = t1;
        snprintf(n->detail, sizeof n->detail, "%s", a.detail);
        n->reason[0] = '\0';
    } else if (n->have && n->answer != CHECK_FAILED && t1 - n->answered_at < 3 * n->ttl_ms) {
        /* keep the last definite answer for a while; say why it is not fresh */
        snprintf(n->detail, sizeof n->detail, "refresh failed (%.150s); kept the last answer",
                 a.detail);
    } else {
        n->answer = CHECK_FAILED;
        n->terminating = false;
        n->answered_at = t1;
        snprintf(n->detail, sizeof n->detail, "%s", a.detail);
        snprintf(n->reason, sizeof n->reason, "%s", a.reason);
    }
    n->have = true;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    if (changed || a.answer == CHECK_FAILED)
        log_refresh(n, &a, status, t1 - t0);
}

static void *refresh_loop(void *arg)
{
    nscheck_t *n = arg;
    for (;;) {
        pthread_mutex_lock(&n->mu);
        bool stop = n->stop;
        pthread_mutex_unlock(&n->mu);
        if (stop)
            break;
        refresh_once(n);
        pthread_mutex_lock(&n->mu);
        uint64_t wait = n->ttl_ms;
        if (n->answer == CHECK_FAILED && wait > RETRY_MS)
            wait = RETRY_MS;
        if ((n->answer == CHECK_ABSENT || n->terminating) && wait > n->absent_ttl_ms)
            wait = n->absent_ttl_ms;
        struct timespec dl = clock_mono_timespec(clock_mono_ms() + wait);
        while (!n->stop && pthread_cond_timedwait(&n->cv, &n->mu, &dl) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&n->mu);
    }
    log_thread_cleanup();
    return NULL;
}

/* ---- lifecycle -------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s && s[0] ? strdup(s) : NULL;
}

/* How to reach and authenticate to the API: the kubeconfig's current
 * context, else the service account's token and CA files (the CA only when
 * it exists, else the system trust store still verifies the server).
 * *kc_server: the kubeconfig's server (owned), if any. */
static bool setup_client(nscheck_t *n, const nscheck_config_t *cfg, char **kc_server, char *err,
                         size_t errsz)
{
    httpc_tls_t tls = {0};
    kubeconfig_t kc = {0};
    bool ok = true;
    if (cfg->kubeconfig && cfg->kubeconfig[0]) {
        if (!kubeapi_load_kubeconfig(cfg->kubeconfig, &kc, err, errsz))
            return false;
        tls = kubeapi_kubeconfig_tls(&kc);
        ok = (!kc.token || (n->token = strdup(kc.token))) &&
             (!kc.token_file || (n->token_file = strdup(kc.token_file))) &&
             (*kc_server = strdup(kc.server));
    } else {
        n->token_file = dup_or_null(cfg->token_file);
        if (kubeapi_is_file(cfg->ca_file))
            tls.ca_file = cfg->ca_file;
    }
    if (!ok)
        errmsg_set(err, errsz, "out of memory");
    else
        ok = (n->http = httpc_new(&tls, err, errsz)) != NULL;
    kubeconfig_free(&kc);
    return ok;
}

/* The namespace's URL on `server`, or on the in-cluster address when no
 * server is known. */
static bool set_url(nscheck_t *n, const char *server, char *err, size_t errsz)
{
    char envserver[300];
    if (!server) {
        if (!kubeapi_in_cluster_url(envserver, sizeof envserver)) {
            errmsg_set(err, errsz,
                       "productionDomainCheck: no API server: set apiServer or kubeconfig, or run "
                       "in a cluster (KUBERNETES_SERVICE_HOST)");
            return false;
        }
        server = envserver;
    }
    size_t sl = strlen(server);
    while (sl && server[sl - 1] == '/')
        sl--;
    size_t ul = sl + strlen(n->ns) + 32;
    if (!(n->url = malloc(ul))) {
        errmsg_set(err, errsz, "out of memory");
        return false;
    }
    snprintf(n->url, ul, "%.*s/api/v1/namespaces/%s", (int)sl, server, n->ns);
    return true;
}

static bool init_sync(nscheck_t *n)
{
    pthread_condattr_t ca;
    bool cv_ok = pthread_condattr_init(&ca) == 0;
    if (cv_ok) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        cv_ok = pthread_cond_init(&n->cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (cv_ok && pthread_mutex_init(&n->mu, NULL) == 0)
        return true;
    if (cv_ok)
        pthread_cond_destroy(&n->cv);
    return false;
}

/* Takes over an older checker's answer (same namespace, same API). */
static void take_seed(nscheck_t *n, const nscheck_t *seed)
{
    if (!seed || strcmp(seed->url, n->url) != 0)
        return;
    nscheck_t *s = (nscheck_t *)seed;
    pthread_mutex_lock(&s->mu);
    n->have = s->have;
    n->answer = s->answer;
    n->answered_at = s->answered_at;
    n->terminating = s->terminating;
    n->status = s->status;
    snprintf(n->detail, sizeof n->detail, "%s", s->detail);
    snprintf(n->reason, sizeof n->reason, "%s", s->reason);
    pthread_mutex_unlock(&s->mu);
}

nscheck_t *nscheck_new(const nscheck_config_t *cfg, const char *ns, const nscheck_t *seed,
                       char *err, size_t errsz)
{
    if (!ns || !k8s_dns_label(ns, strlen(ns))) {
        errmsg_set(
            err, errsz,
            "productionDomainCheck: '%s' (namespaceTemplate with project and domain) is not a "
            "valid namespace name",
            ns ? ns : "");
        return NULL;
    }
    nscheck_t *n = calloc(1, sizeof *n);
    if (!n) {
        errmsg_set(err, errsz, "out of memory");
        return NULL;
    }
    if (!init_sync(n)) {
        free(n);
        errmsg_set(err, errsz, "cannot create a mutex");
        return NULL;
    }
    n->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 1000;
    n->ttl_ms = (uint64_t)(cfg->ttl_seconds ? cfg->ttl_seconds : 60) * 1000u;
    n->absent_ttl_ms = (uint64_t)(cfg->absent_ttl_seconds ? cfg->absent_ttl_seconds : 2) * 1000u;
    n->started_at = clock_mono_ms();
    char *kc_server = NULL;
    if (!(n->ns = strdup(ns))) {
        errmsg_set(err, errsz, "out of memory");
        goto fail;
    }
    if (!setup_client(n, cfg, &kc_server, err, errsz))
        goto fail;
    bool url_ok =
        set_url(n, cfg->api_server && cfg->api_server[0] ? cfg->api_server : kc_server, err, errsz);
    free(kc_server);
    kc_server = NULL;
    if (!url_ok)
        goto fail;
    take_seed(n, seed);
    if (pthread_create(&n->thread, NULL, refresh_loop, n) != 0) {
        errmsg_set(err, errsz, "cannot start the namespace refresh thread");
        goto fail;
    }
    n->thread_started = true;
    return n;
fail:
    free(kc_server);
    nscheck_free(n);
    return NULL;
}

void nscheck_free(nscheck_t *n)
{
    if (!n)
        return;
    if (n->thread_started) {
        pthread_mutex_lock(&n->mu);
        n->stop = true;
        pthread_cond_broadcast(&n->cv);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->thread, NULL);
    }
    httpc_free(n->http);
    free(n->ns);
    free(n->url);
    free(n->token_file);
    secret_free(n->token);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    free(n);
}

check_answer_t nscheck_get(nscheck_t *n, nscheck_info_t *info)
{
    return nscheck_get_by(n, 0, info);
}

check_answer_t nscheck_get_by(nscheck_t *n, uint64_t deadline_ms, nscheck_info_t *info)
{
    nscheck_info_t tmp;
    if (!info)
        info = &tmp;
    memset(info, 0, sizeof *info);
    pthread_mutex_lock(&n->mu);
    if (!n->have) {
        /* only until the first answer: bounded from the checker's start */
        uint64_t now = clock_mono_ms();
        uint64_t end = n->started_at + n->timeout_ms + 250;
        if (deadline_ms && deadline_ms < end)
            end = deadline_ms;
        if (now < end) {
            info->waited = true;
            struct timespec dl = clock_mono_timespec(end);
            while (!n->have && pthread_cond_timedwait(&n->cv, &n->mu, &dl) != ETIMEDOUT) {
            }
        }
    }
    if (n->have) {
        info->answer = n->answer;
        info->terminating = n->terminating;
        info->age_seconds = (double)(clock_mono_ms() - n->answered_at) / 1000.0;
        info->http_status = n->status;
        snprintf(info->detail, sizeof info->detail, "%s", n->detail);
        if (n->answer == CHECK_FAILED)
            snprintf(info->reason, sizeof info->reason, "%s", n->reason);
    } else {
        info->answer = CHECK_FAILED;
        snprintf(info->detail, sizeof info->detail, "no answer from the API yet");
        snprintf(info->reason, sizeof info->reason, "no answer from the API yet");
    }
    pthread_mutex_unlock(&n->mu);
    return info->answer;
}

const char *nscheck_namespace(const nscheck_t *n)
{
    return n->ns;
}

unsigned long nscheck_requests(const nscheck_t *n)
{
    return httpc_requests(n->http);
}

void nscheck_metrics(const nscheck_t *n, buf_t *out)
{
    static const char *m = "imagebuilder_webhook_namespace_checks_total";
    static const char *names[4] = {"not-run", "present", "absent", "failed"};
    buf_printf(
        out, "# HELP %s Production namespace lookups against the Kubernetes API, by answer.\n", m);
    buf_printf(out, "# TYPE %s counter\n", m);
    for (int a = CHECK_PRESENT; a <= CHECK_FAILED; a++)
        buf_printf(out, "%s{result=\"%s\"} %lu\n", m, names[a], atomic_load(&n->results[a]));
    histogram_print(&n->hist, "imagebuilder_webhook_namespace_check_duration_seconds",
                    "Time taken by production namespace lookups.", out);
    nscheck_t *mn = (nscheck_t *)n;
    pthread_mutex_lock(&mn->mu);
    int state = !n->have ? 0 : n->answer;
    pthread_mutex_unlock(&mn->mu);
    static const char *g = "imagebuilder_webhook_production_namespace";
    buf_printf(out, "# HELP %s Last known state of the production namespace (1 = current state).\n",
               g);
    buf_printf(out, "# TYPE %s gauge\n", g);
    static const char *states[4] = {"unknown", "present", "absent", "failed"};
    for (int s = 0; s < 4; s++)
        buf_printf(out, "%s{namespace=\"%s\",state=\"%s\"} %d\n", g, n->ns, states[s],
                   s == state ? 1 : 0);
}
