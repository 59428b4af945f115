/* regcheck: registry existence check over libcurl, with its cache (see regcheck.h). */
#include "regcheck.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "dockercfg.h"
#include "imageref.h"
#include "lcstats.h"
#include "log.h"
#include "wwwauth.h"

#ifndef WH_VERSION
#define WH_VERSION "0.0.0"
#endif

#define POOL_MAX          8
#define AUTH_MAX          64
#define HDR_MAX           4096
#define TOKEN_BODY_MAX    (64 * 1024)
#define TOKEN_MAX         16384
#define BASIC_AUTH_TTL_MS (5 * 60 * 1000)

static const char accept_hdr[] = "Accept: application/vnd.oci.image.index.v1+json, "
                                 "application/vnd.oci.image.manifest.v1+json, "
                                 "application/vnd.docker.distribution.manifest.list.v2+json, "
                                 "application/vnd.docker.distribution.manifest.v2+json, */*";

typedef struct {
    char *key;   /* host/repo */
    char *authz; /* full "Authorization: ..." header line */
    uint64_t expires;
} auth_entry_t;

struct regcheck {
    unsigned timeout_ms;
    uint64_t pos_ttl_ms, neg_ttl_ms;
    char *ca_file;
    strlist_t insecure;
    dockercfg_t dcfg;
    ttlcache_t *cache;

    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_mu;
    CURL *pool[POOL_MAX];
    size_t n_pool;
    pthread_mutex_t auth_mu;
    auth_entry_t auths[AUTH_MAX];

    atomic_ulong results[4]; /* by check_answer_t, network lookups */
    atomic_ulong cache_hit, cache_miss, cache_shared, cache_busy, requests;
    lcstats_hist_t hist;
};

/* ---- global libcurl init -------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ok;
static void curl_init_once(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}
bool regcheck_global_init(void);
bool regcheck_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
    return curl_ok;
}

static void detailf(regcheck_result_t *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void detailf(regcheck_result_t *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof res->detail, fmt, ap);
    va_end(ap);
}

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
    case REGCHECK_FROM_NONE:
        break;
    }
    return "no lookup";
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

/* ---- curl plumbing -------------------------------------------------------- */

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
    (void)h;
    (void)a;
    regcheck_t *rc = u;
    if (d >= 0 && d < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&rc->share_mu[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *u)
{
    (void)h;
    regcheck_t *rc = u;
    if (d >= 0 && d < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&rc->share_mu[d]);
}

/* Easy handles are pooled: a handle keeps its own idle connections, so a
 * handle taken from the pool reuses connections without two threads ever
 * touching one connection. */
static CURL *pool_get(regcheck_t *rc)
{
    CURL *h = NULL;
    pthread_mutex_lock(&rc->pool_mu);
    if (rc->n_pool)
        h = rc->pool[--rc->n_pool];
    pthread_mutex_unlock(&rc->pool_mu);
    if (h)
        curl_easy_reset(h);
    else
        h = curl_easy_init();
    return h;
}

static void pool_put(regcheck_t *rc, CURL *h)
{
    pthread_mutex_lock(&rc->pool_mu);
    if (rc->n_pool < POOL_MAX) {
        rc->pool[rc->n_pool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&rc->pool_mu);
    if (h)
        curl_easy_cleanup(h);
}

typedef struct {
    long status;
    char www[HDR_MAX];
    bool www_seen, www_trunc;
    buf_t body;
    bool body_over;
} resp_t;

static size_t on_header(char *p, size_t size, size_t nmemb, void *u)
{
    resp_t *r = u;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (redirect, 100) */
        r->www_seen = r->www_trunc = false;
        r->www[0] = '\0';
        return n;
    }
    static const char name[] = "www-authenticate:";
    size_t nl = sizeof name - 1;
    if (!r->www_seen && n > nl && strncasecmp(p, name, nl) == 0) {
        const char *v = p + nl;
        size_t vn = n - nl;
        while (vn && (*v == ' ' || *v == '\t'))
            v++, vn--;
        while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
            vn--;
        r->www_seen = true;
        if (vn >= sizeof r->www) {
            r->www_trunc = true;
            vn = sizeof r->www - 1;
        }
        memcpy(r->www, v, vn);
        r->www[vn] = '\0';
    }
    return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *u)
{
    resp_t *r = u;
    size_t n = size * nmemb;
    if (r->body.len + n > TOKEN_BODY_MAX) {
        r->body_over = true;
        return 0; /* abort the transfer */
    }
    return buf_append(&r->body, p, n) ? n : 0;
}

typedef enum { REQ_HEAD, REQ_GET, REQ_POST } req_method_t;

typedef struct {
    const char *url;
    req_method_t method;
    const char *authz_line;  /* "Authorization: ..." or NULL */
    const char *user, *pass; /* HTTP Basic through libcurl, or NULL */
    const char *post;        /* form body for REQ_POST */
    bool allow_http;
    bool accept_manifests;
} req_t;

#define SETOPT(h, o, v)                                                                            \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt((h), (o), (v));                                                  \
    } while (0)

/* One HTTP exchange bounded by the deadline. Returns false with a reason in
 * `err` when no HTTP status was obtained. */
static bool perform(regcheck_t *rc, const req_t *q, uint64_t deadline, resp_t *r, char *err,
                    size_t errsz)
{
    uint64_t now = ttlcache_monotonic_ms(NULL);
    if (now >= deadline) {
        snprintf(err, errsz, "out of time before the request");
        return false;
    }
    long left = (long)(deadline - now);
    CURL *h = pool_get(rc);
    if (!h) {
        snprintf(err, errsz, "cannot create a curl handle");
        return false;
    }
    struct curl_slist *hdrs = NULL, *tmp;
    CURLcode cc = CURLE_OK;
    if (q->accept_manifests) {
        tmp = curl_slist_append(hdrs, accept_hdr);
        cc = tmp ? cc : CURLE_OUT_OF_MEMORY;
        hdrs = tmp ? tmp : hdrs;
    }
    if (q->authz_line && cc == CURLE_OK) {
        tmp = curl_slist_append(hdrs, q->authz_line);
        cc = tmp ? cc : CURLE_OUT_OF_MEMORY;
        hdrs = tmp ? tmp : hdrs;
    }
    char ebuf[CURL_ERROR_SIZE] = "";
    const char *protos = q->allow_http ? "http,https" : "https";
    SETOPT(h, CURLOPT_URL, q->url);
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_TIMEOUT_MS, left);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, left);
    SETOPT(h, CURLOPT_SHARE, rc->share);
    SETOPT(h, CURLOPT_PROTOCOLS_STR, protos);
    SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, protos);
    SETOPT(h, CURLOPT_FOLLOWLOCATION, 1L);
    SETOPT(h, CURLOPT_MAXREDIRS, 3L);
    SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (rc->ca_file)
        SETOPT(h, CURLOPT_CAINFO, rc->ca_file);
    SETOPT(h, CURLOPT_USERAGENT, "imagebuilder-webhook/" WH_VERSION);
    SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(h, CURLOPT_HEADERDATA, r);
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(h, CURLOPT_WRITEDATA, r);
    SETOPT(h, CURLOPT_ERRORBUFFER, ebuf);
    if (hdrs)
        SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
    if (q->method == REQ_HEAD)
        SETOPT(h, CURLOPT_NOBODY, 1L);
    if (q->method == REQ_POST)
        SETOPT(h, CURLOPT_COPYPOSTFIELDS, q->post ? q->post : "");
    if (q->user && q->pass) {
        SETOPT(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SETOPT(h, CURLOPT_USERNAME, q->user);
        SETOPT(h, CURLOPT_PASSWORD, q->pass);
    }
    bool ok = false;
    if (cc != CURLE_OK) {
        snprintf(err, errsz, "curl setup: %s", curl_easy_strerror(cc));
    } else {
        atomic_fetch_add(&rc->requests, 1);
        cc = curl_easy_perform(h);
        if (cc != CURLE_OK) {
            snprintf(err, errsz, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cc));
            if (r->body_over)
                snprintf(err, errsz, "answer larger than %d bytes", TOKEN_BODY_MAX);
        } else if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status) != CURLE_OK ||
                   r->status == 0) {
            snprintf(err, errsz, "no HTTP status");
        } else {
            ok = true;
        }
    }
    /* Credentials and headers must not linger in a pooled handle. */
    curl_easy_reset(h);
    curl_slist_free_all(hdrs);
    pool_put(rc, h);
    return ok;
}

/* ---- authorization cache ---------------------------------------------------- */

static char *auth_get(regcheck_t *rc, const char *key)
{
    char *res = NULL;
    uint64_t now = ttlcache_monotonic_ms(NULL);
    pthread_mutex_lock(&rc->auth_mu);
    for (size_t i = 0; i < AUTH_MAX; i++) {
        auth_entry_t *e = &rc->auths[i];
        if (e->key && strcmp(e->key, key) == 0) {
            if (now < e->expires)
                res = strdup(e->authz);
            break;
        }
    }
    pthread_mutex_unlock(&rc->auth_mu);
    return res;
}

static void auth_clear_entry(auth_entry_t *e)
{
    free(e->key);
    if (e->authz) {
        memset(e->authz, 0, strlen(e->authz));
        free(e->authz);
    }
    e->key = e->authz = NULL;
    e->expires = 0;
}

static void auth_put(regcheck_t *rc, const char *key, const char *authz, uint64_t ttl_ms)
{
    uint64_t now = ttlcache_monotonic_ms(NULL);
    pthread_mutex_lock(&rc->auth_mu);
    auth_entry_t *slot = NULL;
    for (size_t i = 0; i < AUTH_MAX && !slot; i++)
        if (rc->auths[i].key && strcmp(rc->auths[i].key, key) == 0)
            slot = &rc->auths[i];
    for (size_t i = 0; i < AUTH_MAX && !slot; i++)
        if (!rc->auths[i].key || rc->auths[i].expires <= now)
            slot = &rc->auths[i];
    if (!slot) { /* evict the one expiring first */
        slot = &rc->auths[0];
        for (size_t i = 1; i < AUTH_MAX; i++)
            if (rc->auths[i].expires < slot->expires)
                slot = &rc->auths[i];
    }
    auth_clear_entry(slot);
    if (authz) {
        slot->key = strdup(key);
        slot->authz = strdup(authz);
        slot->expires = now + ttl_ms;
        if (!slot->key || !slot->authz)
            auth_clear_entry(slot);
    }
    pthread_mutex_unlock(&rc->auth_mu);
}

/* ---- credentials -------------------------------------------------------------- */

static bool get_creds(regcheck_t *rc, const char *host, uint64_t deadline, dockercfg_cred_t *cred,
                      char *note, size_t notesz)
{
    const dockercfg_auth_t *a;
    const char *helper;
    dockercfg_lookup(&rc->dcfg, host, &a, &helper);
    if (a)
        return dockercfg_cred_from_auth(a, cred);
    if (!helper)
        return false;
    uint64_t now = ttlcache_monotonic_ms(NULL);
    if (now >= deadline)
        return false;
    char sbuf[300];
    const char *server = dockercfg_helper_server(host, sbuf, sizeof sbuf);
    char err[160] = "";
    if (dockercfg_run_helper(helper, server, (unsigned)(deadline - now), cred, err, sizeof err))
        return true;
    snprintf(note, notesz, "; credential helper: %s", err);
    return false;
}

static char *basic_line(const char *user, const char *pass)
{
    size_t ul = strlen(user), pl = strlen(pass);
    if (ul + pl > 8192)
        return NULL;
    char *raw = malloc(ul + pl + 2);
    char *line = malloc(40 + 4 * ((ul + pl + 1 + 2) / 3) + 1);
    if (!raw || !line) {
        free(raw);
        free(line);
        return NULL;
    }
    memcpy(raw, user, ul);
    raw[ul] = ':';
    memcpy(raw + ul + 1, pass, pl);
    int off = sprintf(line, "Authorization: Basic ");
    EVP_EncodeBlock((unsigned char *)line + off, (unsigned char *)raw, (int)(ul + pl + 1));
    memset(raw, 0, ul + pl + 1);
    free(raw);
    return line;
}

static void form_put(buf_t *b, const char *k, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";
    if (b->len)
        buf_putc(b, '&');
    buf_puts(b, k);
    buf_putc(b, '=');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_putc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, e, 3);
        }
    }
}

/* Answers a challenge: fills *authz_line (owned) and its lifetime. */
static bool answer_challenge(regcheck_t *rc, const regcheck_target_t *t, const char *www,
                             bool insecure, uint64_t deadline, char **authz_line, uint64_t *ttl_ms,
                             regcheck_result_t *res)
{
    wwwauth_t ch;
    const char *why = NULL;
    if (!wwwauth_parse(www, strlen(www), &ch, &why)) {
        detailf(res, "malformed WWW-Authenticate: %s", why);
        return false;
    }
    dockercfg_cred_t cred = {0};
    char note[200] = "";
    bool have = get_creds(rc, t->host, deadline, &cred, note, sizeof note);
    bool ok = false;
    if (ch.scheme == WWWAUTH_BASIC) {
        if (!have || cred.identity_token) {
            detailf(res, "registry asks for Basic credentials and none are configured for %s%s",
                    t->host, note);
        } else if (!(*authz_line = basic_line(cred.username, cred.secret))) {
            detailf(res, "out of memory");
        } else {
            *ttl_ms = BASIC_AUTH_TTL_MS;
            ok = true;
        }
    } else if (ch.scheme == WWWAUTH_BEARER) {
        char default_scope[320];
        snprintf(default_scope, sizeof default_scope, "repository:%s:pull", t->repo);
        buf_t url = BUF_INIT, form = BUF_INIT;
        resp_t r = {0};
        char err[200] = "";
        req_t q = {.allow_http = insecure || strncasecmp(ch.realm, "https://", 8) == 0};
        bool built;
        if (have && cred.identity_token) { /* OAuth2 refresh-token grant */
            form_put(&form, "grant_type", "refresh_token");
            form_put(&form, "refresh_token", cred.secret);
            form_put(&form, "client_id", "imagebuilder-webhook");
            if (ch.service[0])
                form_put(&form, "service", ch.service);
            form_put(&form, "scope", ch.scope[0] ? ch.scope : default_scope);
            q.url = ch.realm;
            q.method = REQ_POST;
            q.post = form.data;
            built = !form.oom;
        } else {
            built = wwwauth_token_url(&ch, default_scope, &url);
            q.url = url.data;
            q.method = REQ_GET;
            if (have) {
                q.user = cred.username;
                q.pass = cred.secret;
            }
        }
        if (!q.allow_http) {
            detailf(res, "token realm %s is plain HTTP for a registry not listed as insecure",
                    ch.realm);
        } else if (!built) {
            detailf(res, "out of memory");
        } else if (!perform(rc, &q, deadline, &r, err, sizeof err)) {
            detailf(res, "token endpoint: %s", err);
        } else if (r.status != 200) {
            detailf(res, "token endpoint answered HTTP %ld%s", r.status, note);
        } else {
            char *tok = malloc(TOKEN_MAX);
            unsigned exp = 60;
            if (!tok) {
                detailf(res, "out of memory");
            } else if (!wwwauth_parse_token(r.body.data ? r.body.data : "", r.body.len, tok,
                                            TOKEN_MAX, &exp, &why)) {
                detailf(res, "token endpoint: %s", why);
            } else {
                size_t l = strlen(tok) + 32;
                *authz_line = malloc(l);
                if (*authz_line) {
                    snprintf(*authz_line, l, "Authorization: Bearer %s", tok);
                    *ttl_ms = (uint64_t)(exp > 10 ? exp - 5 : exp) * 1000u;
                    ok = true;
                }
                memset(tok, 0, TOKEN_MAX);
            }
            free(tok);
        }
        buf_free(&url);
        if (form.data)
            memset(form.data, 0, form.len);
        buf_free(&form);
        buf_free(&r.body);
    } else {
        detailf(res, "unsupported authentication scheme in '%.60s'", www);
    }
    dockercfg_cred_free(&cred);
    return ok;
}

/* ---- the lookup ------------------------------------------------------------------ */

static check_answer_t lookup(regcheck_t *rc, const regcheck_target_t *t, uint64_t deadline,
                             regcheck_result_t *res)
{
    char key[520];
    snprintf(key, sizeof key, "%s/%s", t->host, t->repo);
    bool insecure = strcmp(t->scheme, "http") == 0;
    char *authz = auth_get(rc, key);
    bool cached_authz = authz != NULL;
    req_t q = {.url = t->url,
               .method = REQ_HEAD,
               .authz_line = authz,
               .allow_http = insecure,
               .accept_manifests = true};
    resp_t r = {0};
    char err[200] = "";
    check_answer_t ans = CHECK_FAILED;
    if (!perform(rc, &q, deadline, &r, err, sizeof err)) {
        detailf(res, "%s: %s", t->host, err);
        goto done;
    }
    if (r.status == 401) {
        if (cached_authz)
            auth_put(rc, key, NULL, 0);
        free(authz);
        authz = NULL;
        if (!r.www_seen || r.www_trunc) {
            detailf(res, "HTTP 401 %s WWW-Authenticate header",
                    r.www_trunc ? "with an oversized" : "without a");
            res->http_status = 401;
            goto done;
        }
        uint64_t ttl = 0;
        if (!answer_challenge(rc, t, r.www, insecure, deadline, &authz, &ttl, res)) {
            res->http_status = 401;
            goto done;
        }
        buf_free(&r.body);
        memset(&r, 0, sizeof r);
        q.authz_line = authz;
        if (!perform(rc, &q, deadline, &r, err, sizeof err)) {
            detailf(res, "%s: %s", t->host, err);
            goto done;
        }
        if (r.status == 200 || r.status == 404)
            auth_put(rc, key, authz, ttl);
    }
    res->http_status = r.status;
    if (r.status == 200) {
        ans = CHECK_PRESENT;
        detailf(res, "HTTP 200");
    } else if (r.status == 404) {
        ans = CHECK_ABSENT;
        detailf(res, "HTTP 404");
    } else {
        detailf(res, "registry answered HTTP %ld", r.status);
    }
done:
    if (authz) {
        memset(authz, 0, strlen(authz));
        free(authz);
    }
    buf_free(&r.body);
    return ans;
}

check_answer_t regcheck_image(regcheck_t *rc, const char *image, uint64_t deadline_ms,
                              regcheck_result_t *res)
{
    memset(res, 0, sizeof *res);
    uint64_t t0 = ttlcache_monotonic_ms(NULL);
    res->answer = CHECK_FAILED;
    res->source = REGCHECK_FROM_NONE;
    regcheck_target_t t;
    const char *why = NULL;
    if (!regcheck_target(image, &rc->insecure, &t, &why)) {
        detailf(res, "cannot check %.80s: %s", image, why);
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
        detailf(res, "cached");
        break;
    case TTLC_SHARED:
        atomic_fetch_add(&rc->cache_shared, 1);
        res->answer = (check_answer_t)v;
        res->source = REGCHECK_FROM_SHARED;
        detailf(res, "answer of a concurrent lookup");
        break;
    case TTLC_BUSY:
        atomic_fetch_add(&rc->cache_busy, 1);
        atomic_fetch_add(&rc->results[CHECK_FAILED], 1);
        detailf(res, "a concurrent lookup of the same image did not finish in time");
        break;
    case TTLC_FETCH: {
        atomic_fetch_add(&rc->cache_miss, 1);
        res->source = REGCHECK_FROM_NETWORK;
        check_answer_t a = lookup(rc, &t, deadline_ms, res);
        res->answer = a;
        uint64_t ttl = a == CHECK_PRESENT ? rc->pos_ttl_ms : a == CHECK_ABSENT ? rc->neg_ttl_ms : 0;
        ttlcache_complete(rc->cache, image, (int)a, ttl);
        atomic_fetch_add(&rc->results[a], 1);
        uint64_t took = ttlcache_monotonic_ms(NULL) - t0;
        lcstats_observe(&rc->hist, (double)took / 1000.0);
        log_line_t *l = log_begin(a == CHECK_FAILED ? LOG_WARN : LOG_DEBUG,
                                  a == CHECK_FAILED ? "registry check failed; the build is injected"
                                                    : "registry check");
        log_str(l, "image", image);
        log_str(l, "answer", regcheck_answer_name(a));
        log_int(l, "status", res->http_status);
        log_str(l, "detail", res->detail);
        log_uint(l, "millis", took);
        log_end(l);
        break;
    }
    }
    res->seconds = (double)(ttlcache_monotonic_ms(NULL) - t0) / 1000.0;
    return res->answer;
}

/* ---- lifecycle ------------------------------------------------------------------- */

static bool strlist_copy(strlist_t *dst, const strlist_t *src)
{
    dst->items = NULL;
    dst->n = 0;
    if (!src || src->n == 0)
        return true;
    dst->items = calloc(src->n, sizeof *dst->items);
    if (!dst->items)
        return false;
    for (size_t i = 0; i < src->n; i++) {
        if (!(dst->items[i] = strdup(src->items[i])))
            return false;
        dst->n++;
    }
    return true;
}

regcheck_t *regcheck_new(const regcheck_config_t *cfg, ttlcache_t *cache, char *err, size_t errsz)
{
    if (!regcheck_global_init()) {
        snprintf(err, errsz, "libcurl initialisation failed");
        return NULL;
    }
    regcheck_t *rc = calloc(1, sizeof *rc);
    if (!rc) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    int inited = 0;
    for (; inited < CURL_LOCK_DATA_LAST; inited++)
        if (pthread_mutex_init(&rc->share_mu[inited], NULL) != 0)
            break;
    bool mu_ok = inited == CURL_LOCK_DATA_LAST && pthread_mutex_init(&rc->pool_mu, NULL) == 0;
    if (mu_ok && pthread_mutex_init(&rc->auth_mu, NULL) != 0) {
        pthread_mutex_destroy(&rc->pool_mu);
        mu_ok = false;
    }
    if (!mu_ok) {
        while (inited-- > 0)
            pthread_mutex_destroy(&rc->share_mu[inited]);
        free(rc);
        snprintf(err, errsz, "cannot create mutexes");
        return NULL;
    }
    rc->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 1500;
    rc->pos_ttl_ms = (uint64_t)cfg->positive_ttl_seconds * 1000u;
    rc->neg_ttl_ms = (uint64_t)cfg->negative_ttl_seconds * 1000u;
    bool ok = strlist_copy(&rc->insecure, &cfg->insecure_registries);
    if (ok && cfg->ca_file && cfg->ca_file[0] && !(rc->ca_file = strdup(cfg->ca_file)))
        ok = false;
    if (!ok) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    if (cfg->docker_config && cfg->docker_config[0] &&
        !dockercfg_load(cfg->docker_config, &rc->dcfg, err, errsz))
        goto fail;
    rc->cache = cache ? ttlcache_ref(cache)
                      : ttlcache_new(cfg->cache_size ? cfg->cache_size : 4096, NULL, NULL);
    rc->share = curl_share_init();
    if (!rc->cache || !rc->share) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    CURLSHcode sc = curl_share_setopt(rc->share, CURLSHOPT_LOCKFUNC, share_lock);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(rc->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(rc->share, CURLSHOPT_USERDATA, rc);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(rc->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(rc->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (sc != CURLSHE_OK) {
        snprintf(err, errsz, "curl share: %s", curl_share_strerror(sc));
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
    for (size_t i = 0; i < rc->n_pool; i++)
        curl_easy_cleanup(rc->pool[i]);
    if (rc->share)
        curl_share_cleanup(rc->share);
    for (size_t i = 0; i < AUTH_MAX; i++)
        auth_clear_entry(&rc->auths[i]);
    ttlcache_unref(rc->cache);
    dockercfg_free(&rc->dcfg);
    for (size_t i = 0; i < rc->insecure.n; i++)
        free(rc->insecure.items[i]);
    free(rc->insecure.items);
    free(rc->ca_file);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&rc->share_mu[i]);
    pthread_mutex_destroy(&rc->pool_mu);
    pthread_mutex_destroy(&rc->auth_mu);
    free(rc);
}

ttlcache_t *regcheck_cache(regcheck_t *rc)
{
    return rc->cache;
}

unsigned long regcheck_requests(const regcheck_t *rc)
{
    return atomic_load(&rc->requests);
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
    static const char *q = "imagebuilder_webhook_registry_http_requests_total";
    buf_printf(out, "# HELP %s HTTP requests sent to registries and token endpoints.\n", q);
    buf_printf(out, "# TYPE %s counter\n%s %lu\n", q, q, atomic_load(&rc->requests));
    lcstats_print_hist(&rc->hist, "imagebuilder_webhook_registry_check_duration_seconds",
                       "Time taken by registry existence lookups that reached the network.", out);
}
