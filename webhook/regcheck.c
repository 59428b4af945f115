/* regcheck: registry existence check: targets, lookups, their cache and
 * metrics (see regcheck.h). */
#include "regcheck.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "errmsg.h"
#include "histogram.h"
#include "httpc.h"
#include "imageref.h"
#include "log.h"
#include "regauth.h"
#include "secret.h"

static const char accept_hdr[] = "Accept: application/vnd.oci.image.index.v1+json, "
                                 "application/vnd.oci.image.manifest.v1+json, "
                                 "application/vnd.docker.distribution.manifest.list.v2+json, "
                                 "application/vnd.docker.distribution.manifest.v2+json, */*";

#define DOWN_HOSTS_MAX 256

struct regcheck {
    unsigned timeout_ms;
    uint64_t pos_ttl_ms, neg_ttl_ms;
    uint64_t backoff_ms; /* registryCheck.failureBackoffSeconds (0: off) */
    strlist_t insecure;
    ttlcache_t *cache;
    ttlcache_t *down; /* host -> its failure's reason, for backoff_ms */

    httpc_t *http;
    cloudcred_t *cloud;
    regauth_t *auth;

    atomic_ulong results[4]; /* by check_answer_t, network lookups */
    atomic_ulong cache_hit, cache_miss, cache_shared, cache_busy, not_asked;
    histogram_t hist;
};

/* ---- names ---------------------------------------------------------------- */

/* Kept for the callers that still use the old name; check_answer_name()
 * (checks.h) is the one home of these names. */
const char *regcheck_answer_name(check_answer_t a)
{
    return check_answer_name(a);
}

const char *regcheck_source_name(regcheck_source_t s)
{
    switch (s) {
    case REGCHECK_FROM_NETWORK:
        return "registry";
    case REGCHECK_FROM_CACHE:
        return "cache hit";
    case REGCHECK_FROM_SHARED:
        return "shared lookup";
    case REGCHECK_FROM_BACKOFF:
        return "not asked";
    case REGCHECK_FROM_NONE:
        break;
    }
    return "no lookup";
}

void regcheck_auth_reason(const char *why, const char *host, bool timed_out, char *out,
                          size_t outsz)
{
    long st = 0;
    if (timed_out)
        errmsg_set(out, outsz, "token request timed out");
    else if (strstr(why, "; credential helper:"))
        errmsg_set(out, outsz, "credential helper failed for %.60s", host);
    else if (strstr(why, "none are configured"))
        errmsg_set(out, outsz, "no credentials for %.60s", host);
    else if (sscanf(why, "token endpoint answered HTTP %ld", &st) == 1)
        errmsg_set(out, outsz, "registry answered %ld to the token request", st);
    else if (strncmp(why, "malformed WWW-Authenticate", 26) == 0 ||
             strncmp(why, "unsupported authentication scheme", 33) == 0)
        errmsg_set(out, outsz, "unusable challenge from the registry");
    else if (strncmp(why, "token endpoint", 14) == 0 || strncmp(why, "token realm", 11) == 0)
        errmsg_set(out, outsz, "token request failed");
    else
        errmsg_set(out, outsz, "authentication failed");
}

/* ---- target --------------------------------------------------------------- */

static bool host_insecure(const strlist_t *l, const char *host)
{
    if (!l)
        return false;
    size_t hostlen = strcspn(host, ":");
    if (host[0] == '[') { /* [v6]:port */
        const char *rb = strchr(host, ']');
        hostlen = rb ? (size_t)(rb - host) + 1 : strlen(host);
    }
    for (size_t i = 0; i < l->n; i++) {
        const char *e = l->items[i];
        if (strcasecmp(e, host) == 0)
            return true;
        bool e_has_port = e[0] == '[' ? strstr(e, "]:") != NULL : strchr(e, ':') != NULL;
        if (!e_has_port && strlen(e) == hostlen && strncasecmp(e, host, hostlen) == 0)
            return true;
    }
    return false;
}

bool regcheck_target(const char *image, const strlist_t *insecure, regcheck_target_t *out,
                     const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    memset(out, 0, sizeof *out);
    imageref_t r;
    imageref_err_t e = imageref_parse(image, strlen(image), &r);
    if (e != IMAGEREF_OK) {
        *why = imageref_strerror(e);
        return false;
    }
    bool hub = r.domain.n == 0 || strview_eq(r.domain, "docker.io", 9) ||
               strview_eq(r.domain, "index.docker.io", 15);
    int n;
    if (hub)
        n = snprintf(out->host, sizeof out->host, "registry-1.docker.io");
    else
        n = snprintf(out->host, sizeof out->host, "%.*s", (int)r.domain.n, r.domain.p);
    if (n < 0 || (size_t)n >= sizeof out->host)
        goto toolong;
    for (char *p = out->host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    bool library = hub && memchr(r.path.p, '/', r.path.n) == NULL;
    n = snprintf(out->repo, sizeof out->repo, "%s%.*s", library ? "library/" : "", (int)r.path.n,
                 r.path.p);
    if (n < 0 || (size_t)n >= sizeof out->repo)
        goto toolong;
    if (r.digest.n)
        n = snprintf(out->reference, sizeof out->reference, "%.*s", (int)r.digest.n, r.digest.p);
    else if (r.tag.n)
        n = snprintf(out->reference, sizeof out->reference, "%.*s", (int)r.tag.n, r.tag.p);
    else
        n = snprintf(out->reference, sizeof out->reference, "latest");
    if (n < 0 || (size_t)n >= sizeof out->reference)
        goto toolong;
    snprintf(out->scheme, sizeof out->scheme, "%s",
             !hub && host_insecure(insecure, out->host) ? "http" : "https");
    n = snprintf(out->url, sizeof out->url, "%s://%s/v2/%s/manifests/%s", out->scheme, out->host,
                 out->repo, out->reference);
    if (n < 0 || (size_t)n >= sizeof out->url)
        goto toolong;
    return true;
toolong:
    *why = "image reference too long";
    return false;
}

/* ---- hosts that failed ----------------------------------------------------------- */

/* True when `host` failed less than backoff_ms ago: the result is filled
 * (FAILED, not asked). */
static bool host_down(regcheck_t *rc, const char *host, regcheck_result_t *res)
{
    unsigned long long ago = 0;
    char *why = rc->down ? ttlcache_get_failure(rc->down, host, &ago) : NULL;
    if (!why)
        return false;
    errmsg_set(res->reason, sizeof res->reason, "not asked: %.60s failed %llu s ago", host, ago);
    errmsg_set(res->detail, sizeof res->detail,
               "not asked: %.60s failed %llu s ago (%.80s); registryCheck.failureBackoffSeconds",
               host, ago, why);
    free(why);
    return true;
}

/* The reason of a concurrent lookup that FAILED: its host's, when the host
 * was marked as failed, else a generic one. */
static void shared_reason(regcheck_t *rc, const char *host, regcheck_result_t *res)
{
    unsigned long long ago = 0;
    char *why = rc->down ? ttlcache_get_failure(rc->down, host, &ago) : NULL;
    errmsg_set(res->reason, sizeof res->reason, "%s", why ? why : "registry check failed");
    free(why);
}

static void mark_down(regcheck_t *rc, const char *host, const char *reason)
{
    if (rc->down)
        ttlcache_put_failure(rc->down, host, reason, rc->backoff_ms);
}

/* ---- the lookup ------------------------------------------------------------------ */

/* How a lookup that FAILED reflects on its host. */
typedef enum {
    HOST_OK = 0,    /* the host answered (an HTTP status, a challenge) */
    HOST_FAILED,    /* it could not be reached (DNS, connection, TLS) */
    HOST_TIMED_OUT, /* it, or its token endpoint, did not answer in time */
} host_state_t;

/* A HEAD that got no HTTP status: the detail, the reason, and what it says
 * about the host (nothing when the request never started). */
static void transfer_failed(const regcheck_target_t *t, httpc_result_t hr, const httpc_resp_t *r,
                            const char *err, regcheck_result_t *res, host_state_t *host)
{
    errmsg_set(res->detail, sizeof res->detail, "%s: %s", t->host, err);
    switch (r->fail) {
    case HTTPC_FAIL_TIMEOUT:
        errmsg_set(res->reason, sizeof res->reason, "registry timed out");
        break;
    case HTTPC_FAIL_DNS_TIMEOUT:
        errmsg_set(res->reason, sizeof res->reason, "DNS lookup timed out");
        break;
    case HTTPC_FAIL_NONE:
        errmsg_set(res->reason, sizeof res->reason, "registry check failed");
        break;
    default:
        errmsg_set(res->reason, sizeof res->reason, "%s for %.60s", httpc_fail_words(r->fail),
                   t->host);
        break;
    }
    if (hr == HTTPC_ETRANSFER)
        *host = r->fail == HTTPC_FAIL_TIMEOUT || r->fail == HTTPC_FAIL_DNS_TIMEOUT ? HOST_TIMED_OUT
                                                                                   : HOST_FAILED;
}

/* HEAD of the manifest; on a 401, the challenge is answered (regauth) and
 * the HEAD asked again with the Authorization line, which is cached when
 * the registry accepts it. *host: what a failure says about the host. */
static check_answer_t lookup(regcheck_t *rc, const regcheck_target_t *t, uint64_t deadline,
                             regcheck_result_t *res, host_state_t *host)
{
    bool insecure = strcmp(t->scheme, "http") == 0;
    char *authz = regauth_cached(rc->auth, t->host, t->repo);
    if (authz)
        regauth_cached_source(rc->auth, t->host, t->repo, res->cred_source,
                              sizeof res->cred_source);
    httpc_req_t q = {.url = t->url,
                     .method = HTTPC_HEAD,
                     .headers = {accept_hdr, authz},
                     .allow_http = insecure,
                     .follow_redirects = true,
                     .capture = "WWW-Authenticate",
                     .deadline_ms = deadline};
    httpc_resp_t r = {0};
    char err[200] = "";
    check_answer_t ans = CHECK_FAILED;
    httpc_result_t hr = httpc_perform(rc->http, &q, &r, err, sizeof err);
    if (hr != HTTPC_OK) {
        transfer_failed(t, hr, &r, err, res, host);
        goto done;
    }
    if (r.status == 401) {
        if (authz) /* the cached line no longer works */
            regauth_remember(rc->auth, t->host, t->repo, NULL, 0);
        secret_free(authz);
        authz = NULL;
        res->http_status = 401;
        if (!r.header_seen || r.header_trunc) {
            errmsg_set(res->detail, sizeof res->detail, "HTTP 401 %s WWW-Authenticate header",
                       r.header_trunc ? "with an oversized" : "without a");
            errmsg_set(res->reason, sizeof res->reason, "unusable challenge from the registry");
            goto done;
        }
        uint64_t ttl = 0;
        if (!regauth_answer(rc->auth, t->host, t->repo, r.header, insecure, deadline, &authz, &ttl,
                            res->cred_source, sizeof res->cred_source, res->detail,
                            sizeof res->detail)) {
            bool late = clock_mono_ms() >= deadline;
            *host = late ? HOST_TIMED_OUT : HOST_OK;
            regcheck_auth_reason(res->detail, t->host, late, res->reason, sizeof res->reason);
            goto done;
        }
        httpc_resp_free(&r);
        memset(&r, 0, sizeof r);
        q.headers[1] = authz;
        if ((hr = httpc_perform(rc->http, &q, &r, err, sizeof err)) != HTTPC_OK) {
            transfer_failed(t, hr, &r, err, res, host);
            goto done;
        }
        if (r.status == 200 || r.status == 404)
            regauth_remember(rc->auth, t->host, t->repo, authz, ttl);
    }
    res->http_status = r.status;
    if (r.status == 200) {
        ans = CHECK_PRESENT;
        errmsg_set(res->detail, sizeof res->detail, "HTTP 200");
    } else if (r.status == 404) {
        ans = CHECK_ABSENT;
        errmsg_set(res->detail, sizeof res->detail, "HTTP 404");
    } else {
        errmsg_set(res->detail, sizeof res->detail, "registry answered HTTP %ld", r.status);
        errmsg_set(res->reason, sizeof res->reason, "registry answered %ld", r.status);
    }
done:
    secret_free(authz);
    httpc_resp_free(&r);
    return ans;
}

/* This thread owns the lookup of `image` (TTLC_FETCH): asks the registry,
 * unless its host failed a short while ago, and hands the answer to the
 * cache and to the threads waiting for it. */
static void fetch(regcheck_t *rc, const char *image, const regcheck_target_t *t,
                  uint64_t deadline_ms, uint64_t t0, regcheck_result_t *res)
{
    if (host_down(rc, t->host, res)) {
        atomic_fetch_add(&rc->not_asked, 1);
        res->source = REGCHECK_FROM_BACKOFF;
        res->answer = CHECK_FAILED;
        ttlcache_complete(rc->cache, image, (int)CHECK_FAILED, 0);
        return;
    }
    atomic_fetch_add(&rc->cache_miss, 1);
    res->source = REGCHECK_FROM_NETWORK;
    host_state_t host = HOST_OK;
    check_answer_t a = lookup(rc, t, deadline_ms, res, &host);
    res->answer = a;
    uint64_t ttl = a == CHECK_PRESENT ? rc->pos_ttl_ms : a == CHECK_ABSENT ? rc->neg_ttl_ms : 0;
    ttlcache_complete(rc->cache, image, (int)a, ttl);
    atomic_fetch_add(&rc->results[a], 1);
    uint64_t took = clock_mono_ms() - t0;
    /* A lookup cut short by a request's own small budget says little about
     * the host: only a timeout after half the registry's timeoutMs counts. */
    if (host == HOST_FAILED || (host == HOST_TIMED_OUT && took * 2 >= rc->timeout_ms))
        mark_down(rc, t->host, res->reason);
    histogram_observe(&rc->hist, (double)took / 1000.0);
    log_line_t *l = log_begin(a == CHECK_FAILED ? LOG_WARN : LOG_DEBUG,
                              a == CHECK_FAILED ? "registry check failed; the build is injected"
                                                : "registry check");
    log_str(l, "image", image);
    log_str(l, "answer", regcheck_answer_name(a));
    log_int(l, "status", res->http_status);
    log_str(l, "detail", res->detail);
    if (a == CHECK_FAILED)
        log_str(l, "reason", res->reason);
    if (res->cred_source[0])
        log_str(l, "credentials", res->cred_source);
    log_uint(l, "millis", took);
    log_end(l);
}

check_answer_t regcheck_image(regcheck_t *rc, const char *image, uint64_t deadline_ms,
                              regcheck_result_t *res)
{
    memset(res, 0, sizeof *res);
    uint64_t t0 = clock_mono_ms();
    res->answer = CHECK_FAILED;
    res->source = REGCHECK_FROM_NONE;
    regcheck_target_t t;
    const char *why = NULL;
    if (!regcheck_target(image, &rc->insecure, &t, &why)) {
        errmsg_set(res->detail, sizeof res->detail, "cannot check %.80s: %s", image, why);
        errmsg_set(res->reason, sizeof res->reason, "invalid image reference");
        atomic_fetch_add(&rc->results[CHECK_FAILED], 1);
        return res->answer;
    }
    unsigned wait = deadline_ms > t0 ? (unsigned)(deadline_ms - t0) : 0;
    int v = 0;
    switch (ttlcache_acquire(rc->cache, image, &v, wait)) {
    case TTLC_HIT:
        atomic_fetch_add(&rc->cache_hit, 1);
        res->answer = (check_answer_t)v;
        res->source = REGCHECK_FROM_CACHE;
        errmsg_set(res->detail, sizeof res->detail, "cached");
        break;
    case TTLC_SHARED:
        atomic_fetch_add(&rc->cache_shared, 1);
        res->answer = (check_answer_t)v;
        res->source = REGCHECK_FROM_SHARED;
        errmsg_set(res->detail, sizeof res->detail, "answer of a concurrent lookup");
        if (res->answer == CHECK_FAILED)
            shared_reason(rc, t.host, res);
        break;
    case TTLC_BUSY:
        atomic_fetch_add(&rc->cache_busy, 1);
        atomic_fetch_add(&rc->results[CHECK_FAILED], 1);
        errmsg_set(res->detail, sizeof res->detail,
                   "a concurrent lookup of the same image did not finish in time");
        errmsg_set(res->reason, sizeof res->reason, "registry timed out");
        break;
    case TTLC_FETCH:
        fetch(rc, image, &t, deadline_ms, t0, res);
        break;
    }
    res->seconds = (double)(clock_mono_ms() - t0) / 1000.0;
    return res->answer;
}

/* ---- lifecycle ------------------------------------------------------------------- */

regcheck_t *regcheck_new(const regcheck_config_t *cfg, auth_type_t auth, ttlcache_t *cache,
                         char *err, size_t errsz)
{
    regcheck_t *rc = calloc(1, sizeof *rc);
    if (!rc) {
        errmsg_set(err, errsz, "out of memory");
        return NULL;
    }
    rc->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 1500;
    rc->pos_ttl_ms = (uint64_t)cfg->positive_ttl_seconds * 1000u;
    rc->neg_ttl_ms = (uint64_t)cfg->negative_ttl_seconds * 1000u;
    rc->backoff_ms = (uint64_t)cfg->failure_backoff_seconds * 1000u;
    if (rc->backoff_ms && !(rc->down = ttlcache_new(DOWN_HOSTS_MAX, NULL, NULL))) {
        errmsg_set(err, errsz, "out of memory");
        goto fail;
    }
    httpc_tls_t tls = {.ca_file = cfg->ca_file};
    if (!(rc->http = httpc_new(&tls, err, errsz)))
        goto fail;
    if (!strlist_copy(&rc->insecure, &cfg->insecure_registries)) {
        errmsg_set(err, errsz, "out of memory");
        goto fail;
    }
    /* The cloud's own APIs go through the same client: caFile adds a
     * private CA, while libcurl keeps the system's CA directory
     * (/etc/ssl/certs) for the public endpoints. */
    cloudcred_backoff_t backoff = {.backoff_ms = rc->backoff_ms, .timeout_ms = rc->timeout_ms};
    rc->cloud = cloudcred_new(auth, rc->http, NULL, &backoff);
    if ((auth == AUTH_AWS || auth == AUTH_GOOGLE || auth == AUTH_AZURE) && !rc->cloud) {
        errmsg_set(err, errsz, "out of memory");
        goto fail;
    }
    if (!(rc->auth = regauth_new(cfg->docker_config, rc->cloud, rc->http, err, errsz)))
        goto fail;
    rc->cache = cache ? ttlcache_ref(cache)
                      : ttlcache_new(cfg->cache_size ? cfg->cache_size : 4096, NULL, NULL);
    if (!rc->cache) {
        errmsg_set(err, errsz, "out of memory");
        goto fail;
    }
    return rc;
fail:
    regcheck_free(rc);
    return NULL;
}

void regcheck_free(regcheck_t *rc)
{
    if (!rc)
        return;
    regauth_free(rc->auth);
    cloudcred_free(rc->cloud);
    httpc_free(rc->http);
    ttlcache_unref(rc->cache);
    ttlcache_unref(rc->down);
    strlist_free(&rc->insecure);
    free(rc);
}

ttlcache_t *regcheck_cache(regcheck_t *rc)
{
    return rc->cache;
}

unsigned long regcheck_requests(const regcheck_t *rc)
{
    return httpc_requests(rc->http);
}

void regcheck_metrics(const regcheck_t *rc, buf_t *out)
{
    static const char *m = "imagebuilder_webhook_registry_checks_total";
    buf_printf(out, "# HELP %s Registry existence lookups that reached the network, by answer.\n",
               m);
    buf_printf(out, "# TYPE %s counter\n", m);
    for (int a = CHECK_PRESENT; a <= CHECK_FAILED; a++)
        buf_printf(out, "%s{result=\"%s\"} %lu\n", m, regcheck_answer_name((check_answer_t)a),
                   atomic_load(&rc->results[a]));
    static const char *c = "imagebuilder_webhook_registry_check_cache_total";
    buf_printf(out, "# HELP %s Registry existence answers by where they came from.\n", c);
    buf_printf(out, "# TYPE %s counter\n", c);
    buf_printf(out, "%s{result=\"hit\"} %lu\n", c, atomic_load(&rc->cache_hit));
    buf_printf(out, "%s{result=\"miss\"} %lu\n", c, atomic_load(&rc->cache_miss));
    buf_printf(out, "%s{result=\"shared\"} %lu\n", c, atomic_load(&rc->cache_shared));
    buf_printf(out, "%s{result=\"busy\"} %lu\n", c, atomic_load(&rc->cache_busy));
    buf_printf(out, "%s{result=\"backoff\"} %lu\n", c, atomic_load(&rc->not_asked));
    static const char *q = "imagebuilder_webhook_registry_http_requests_total";
    buf_printf(out, "# HELP %s HTTP requests sent to registries and token endpoints.\n", q);
    buf_printf(out, "# TYPE %s counter\n%s %lu\n", q, q, httpc_requests(rc->http));
    histogram_print(&rc->hist, "imagebuilder_webhook_registry_check_duration_seconds",
                    "Time taken by registry existence lookups that reached the network.", out);
    regauth_metrics(rc->auth, out);
}
