/* httpc: the live checks' HTTP client over libcurl (see httpc.h). */
#include "httpc.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "clock.h"
#include "errmsg.h"
#include "file.h"
#include "secret.h"

/* CURLOPT_QUICK_EXIT: without it, a transfer that runs out of time while
 * the threaded resolver waits on the system's resolver is held until that
 * gives up (10 s and more with search domains), whatever its time limit. */
#if LIBCURL_VERSION_NUM < 0x075700
#error "libcurl 7.87.0 or later is needed (CURLOPT_QUICK_EXIT)"
#endif

#ifndef WH_VERSION
#define WH_VERSION "0.0.0"
#endif

#define POOL_MAX 8

struct httpc {
    CURLSH *share; /* DNS cache and TLS sessions, shared by the pooled handles */
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    int n_share_mu;
    pthread_mutex_t pool_mu;
    bool pool_mu_ok;
    CURL *pool[POOL_MAX];
    size_t n_pool;
    char *ca_file, *cert_file, *key_file;
    struct curl_blob ca, cert, key; /* owned copies (data NULL: unset) */
    bool insecure;
    struct curl_slist *connect_to; /* the test hook's host:port:addr:port list, or NULL */
    atomic_ulong requests;
};

/* ---- global init ------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ok;

static void curl_init_once(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

bool httpc_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
    return curl_ok;
}

/* ---- client ------------------------------------------------------------------- */

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
    (void)h;
    (void)a;
    httpc_t *c = u;
    if (d >= 0 && d < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&c->share_mu[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *u)
{
    (void)h;
    httpc_t *c = u;
    if (d >= 0 && d < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&c->share_mu[d]);
}

static bool copy_blob(struct curl_blob *dst, const void *src, size_t len)
{
    if (!src || len == 0)
        return true;
    if (!(dst->data = malloc(len)))
        return false;
    memcpy(dst->data, src, len);
    dst->len = len;
    dst->flags = CURL_BLOB_NOCOPY; /* ours, alive as long as the client */
    return true;
}

static bool copy_path(char **dst, const char *src)
{
    return !src || !src[0] || (*dst = strdup(src)) != NULL;
}

static bool set_tls(httpc_t *c, const httpc_tls_t *t)
{
    c->insecure = t->insecure_skip_verify;
    return copy_path(&c->ca_file, t->ca_file) && copy_path(&c->cert_file, t->cert_file) &&
           copy_path(&c->key_file, t->key_file) && copy_blob(&c->ca, t->ca_pem, t->ca_pem_len) &&
           copy_blob(&c->cert, t->cert_pem, t->cert_pem_len) &&
           copy_blob(&c->key, t->key_pem, t->key_pem_len);
}

static bool make_share(httpc_t *c, char *err, size_t errsz)
{
    for (; c->n_share_mu < CURL_LOCK_DATA_LAST; c->n_share_mu++)
        if (pthread_mutex_init(&c->share_mu[c->n_share_mu], NULL) != 0)
            break;
    c->pool_mu_ok = pthread_mutex_init(&c->pool_mu, NULL) == 0;
    if (c->n_share_mu < CURL_LOCK_DATA_LAST || !c->pool_mu_ok) {
        errmsg_set(err, errsz, "cannot create mutexes");
        return false;
    }
    if (!(c->share = curl_share_init())) {
        errmsg_set(err, errsz, "out of memory");
        return false;
    }
    CURLSHcode sc = curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (sc != CURLSHE_OK) {
        errmsg_set(err, errsz, "curl share: %s", curl_share_strerror(sc));
        return false;
    }
    return true;
}

/* The test hook (see httpc.h): HTTPC_TEST_CONNECT_TO_ENV, when set, is a
 * list of "host:port:addr:port" entries separated by commas or spaces,
 * handed to libcurl's CURLOPT_CONNECT_TO. */
static bool read_connect_to(httpc_t *c, char *err, size_t errsz)
{
    const char *v = getenv(HTTPC_TEST_CONNECT_TO_ENV);
    while (v && *v) {
        v += strspn(v, ", ");
        size_t n = strcspn(v, ", ");
        if (n == 0)
            break;
        char entry[512];
        if (n >= sizeof entry) {
            errmsg_set(err, errsz, "%s: an entry is too long", HTTPC_TEST_CONNECT_TO_ENV);
            return false;
        }
        memcpy(entry, v, n);
        entry[n] = '\0';
        struct curl_slist *t = curl_slist_append(c->connect_to, entry);
        if (!t) {
            errmsg_set(err, errsz, "out of memory");
            return false;
        }
        c->connect_to = t;
        v += n;
    }
    return true;
}

httpc_t *httpc_new(const httpc_tls_t *tls, char *err, size_t errsz)
{
    if (!httpc_global_init()) {
        errmsg_set(err, errsz, "libcurl initialisation failed");
        return NULL;
    }
    httpc_t *c = calloc(1, sizeof *c);
    if (!c) {
        errmsg_set(err, errsz, "out of memory");
        return NULL;
    }
    if (tls && !set_tls(c, tls)) {
        errmsg_set(err, errsz, "out of memory");
        httpc_free(c);
        return NULL;
    }
    if (!make_share(c, err, errsz) || !read_connect_to(c, err, errsz)) {
        httpc_free(c);
        return NULL;
    }
    return c;
}

static void free_blob(struct curl_blob *b)
{
    secret_free_n(b->data, b->len); /* a client key is a secret */
}

void httpc_free(httpc_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_pool; i++)
        curl_easy_cleanup(c->pool[i]);
    if (c->share)
        curl_share_cleanup(c->share);
    for (int i = 0; i < c->n_share_mu; i++)
        pthread_mutex_destroy(&c->share_mu[i]);
    if (c->pool_mu_ok)
        pthread_mutex_destroy(&c->pool_mu);
    curl_slist_free_all(c->connect_to);
    free(c->ca_file);
    free(c->cert_file);
    free(c->key_file);
    free_blob(&c->ca);
    free_blob(&c->cert);
    free_blob(&c->key);
    free(c);
}

unsigned long httpc_requests(const httpc_t *c)
{
    return atomic_load(&c->requests);
}

/* ---- handle pool ---------------------------------------------------------------- */

/* A handle keeps its own idle connections, so one taken from the pool
 * reuses connections without two threads ever touching one connection. */
static CURL *pool_get(httpc_t *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->pool_mu);
    if (c->n_pool)
        h = c->pool[--c->n_pool];
    pthread_mutex_unlock(&c->pool_mu);
    return h ? h : curl_easy_init();
}

/* Back into the pool, reset first: credentials, headers and callbacks must
 * not linger in a pooled handle (the connections stay). */
static void pool_put(httpc_t *c, CURL *h)
{
    curl_easy_reset(h);
    pthread_mutex_lock(&c->pool_mu);
    if (c->n_pool < POOL_MAX) {
        c->pool[c->n_pool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->pool_mu);
    if (h)
        curl_easy_cleanup(h);
}

/* ---- one exchange ---------------------------------------------------------------- */

typedef struct {
    const httpc_req_t *q;
    httpc_resp_t *r;
    bool resolving; /* a name resolution was started (not a DNS cache hit) */
    bool connected; /* a socket was made for a new connection */
} xfer_t;

static int on_resolver_start(void *resolver, void *reserved, void *u)
{
    (void)resolver;
    (void)reserved;
    ((xfer_t *)u)->resolving = true;
    return 0;
}

static int on_socket(void *u, curl_socket_t fd, curlsocktype purpose)
{
    (void)fd;
    if (purpose == CURLSOCKTYPE_IPCXN)
        ((xfer_t *)u)->connected = true;
    return CURL_SOCKOPT_OK;
}

const char *httpc_fail_words(httpc_fail_t f)
{
    switch (f) {
    case HTTPC_FAIL_NONE:
        return "";
    case HTTPC_FAIL_TIMEOUT:
        return "timed out";
    case HTTPC_FAIL_DNS_TIMEOUT:
        return "DNS lookup timed out";
    case HTTPC_FAIL_DNS:
        return "DNS lookup failed";
    case HTTPC_FAIL_CONNECT:
        return "connection failed";
    case HTTPC_FAIL_TLS:
        return "TLS failed";
    case HTTPC_FAIL_OTHER:
        break;
    }
    return "transfer failed";
}

static httpc_fail_t classify(CURLcode cc, const xfer_t *x)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return x->resolving && !x->connected ? HTTPC_FAIL_DNS_TIMEOUT : HTTPC_FAIL_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
        return HTTPC_FAIL_DNS;
    case CURLE_COULDNT_CONNECT:
        return HTTPC_FAIL_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        return HTTPC_FAIL_TLS;
    default:
        return HTTPC_FAIL_OTHER;
    }
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *u)
{
    xfer_t *x = u;
    httpc_resp_t *r = x->r;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (redirect, 100) */
        r->header_seen = r->header_trunc = false;
        r->header[0] = '\0';
        return n;
    }
    const char *name = x->q->capture;
    size_t nl = name ? strlen(name) : 0;
    if (!name || r->header_seen || n <= nl || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
        return n;
    const char *v = p + nl + 1;
    size_t vn = n - nl - 1;
    while (vn && (*v == ' ' || *v == '\t'))
        v++, vn--;
    while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
        vn--;
    r->header_seen = true;
    if (vn >= sizeof r->header) {
        r->header_trunc = true;
        vn = sizeof r->header - 1;
    }
    memcpy(r->header, v, vn);
    r->header[vn] = '\0';
    return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *u)
{
    xfer_t *x = u;
    size_t n = size * nmemb;
    if (x->r->body.len + n > x->q->body_max) {
        x->r->body_over = true;
        return 0; /* aborts the transfer */
    }
    return buf_append(&x->r->body, p, n) ? n : 0;
}

/* Keeps the first failure of a series of curl_easy_setopt() calls. */
static void opt(CURLcode *cc, CURLcode r)
{
    if (*cc == CURLE_OK)
        *cc = r;
}

static CURLcode set_tls_opts(const httpc_t *c, CURL *h)
{
    CURLcode cc = CURLE_OK;
    opt(&cc, curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L));
    opt(&cc, curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L));
    if (c->ca.data)
        opt(&cc, curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &c->ca));
    else if (c->ca_file)
        opt(&cc, curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file));
    if (c->cert.data)
        opt(&cc, curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &c->cert));
    else if (c->cert_file)
        opt(&cc, curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file));
    if (c->key.data)
        opt(&cc, curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &c->key));
    else if (c->key_file)
        opt(&cc, curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file));
    return cc;
}

static CURLcode set_request_opts(const httpc_t *c, CURL *h, xfer_t *x, struct curl_slist *hdrs,
                                 long left_ms, char *ebuf)
{
    const httpc_req_t *q = x->q;
    const char *protos = q->allow_http ? "http,https" : "https";
    CURLcode cc = set_tls_opts(c, h);
    opt(&cc, curl_easy_setopt(h, CURLOPT_URL, q->url));
    opt(&cc, curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
    opt(&cc, curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left_ms));
    opt(&cc, curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, left_ms));
    /* at the time limit, leave a pending name resolution to its thread */
    opt(&cc, curl_easy_setopt(h, CURLOPT_QUICK_EXIT, 1L));
    opt(&cc, curl_easy_setopt(h, CURLOPT_RESOLVER_START_FUNCTION, on_resolver_start));
    opt(&cc, curl_easy_setopt(h, CURLOPT_RESOLVER_START_DATA, x));
    opt(&cc, curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_socket));
    opt(&cc, curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, x));
    opt(&cc, curl_easy_setopt(h, CURLOPT_SHARE, c->share));
    opt(&cc, curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protos));
    opt(&cc, curl_easy_setopt(h, CURLOPT_USERAGENT, "imagebuilder-webhook/" WH_VERSION));
    opt(&cc, curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header));
    opt(&cc, curl_easy_setopt(h, CURLOPT_HEADERDATA, x));
    opt(&cc, curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body));
    opt(&cc, curl_easy_setopt(h, CURLOPT_WRITEDATA, x));
    opt(&cc, curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf));
    if (q->follow_redirects) {
        opt(&cc, curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L));
        opt(&cc, curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L));
        opt(&cc, curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protos));
    }
    if (hdrs)
        opt(&cc, curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs));
    if (c->connect_to)
        opt(&cc, curl_easy_setopt(h, CURLOPT_CONNECT_TO, c->connect_to));
    if (q->method == HTTPC_HEAD)
        opt(&cc, curl_easy_setopt(h, CURLOPT_NOBODY, 1L));
    if (q->method == HTTPC_POST || q->method == HTTPC_PUT || q->method == HTTPC_PATCH)
        opt(&cc, curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, q->post ? q->post : ""));
    if (q->method == HTTPC_PUT || q->method == HTTPC_PATCH) /* a body sent as for POST */
        opt(&cc,
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method == HTTPC_PUT ? "PUT" : "PATCH"));
    if (q->user && q->pass) {
        opt(&cc, curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC));
        opt(&cc, curl_easy_setopt(h, CURLOPT_USERNAME, q->user));
        opt(&cc, curl_easy_setopt(h, CURLOPT_PASSWORD, q->pass));
    }
    return cc;
}

static bool build_headers(const httpc_req_t *q, struct curl_slist **out)
{
    *out = NULL;
    for (size_t i = 0; i < HTTPC_MAX_HEADERS; i++) {
        if (!q->headers[i])
            continue;
        struct curl_slist *t = curl_slist_append(*out, q->headers[i]);
        if (!t)
            return false;
        *out = t;
    }
    return true;
}

httpc_result_t httpc_perform(httpc_t *c, const httpc_req_t *q, httpc_resp_t *r, char *err,
                             size_t errsz)
{
    uint64_t now = clock_mono_ms();
    if (now >= q->deadline_ms) {
        errmsg_set(err, errsz, "out of time before the request");
        r->fail = HTTPC_FAIL_TIMEOUT;
        return HTTPC_ELOCAL;
    }
    uint64_t left = q->deadline_ms - now;
    CURL *h = pool_get(c);
    if (!h) {
        errmsg_set(err, errsz, "cannot create a curl handle");
        return HTTPC_ELOCAL;
    }
    struct curl_slist *hdrs = NULL;
    char ebuf[CURL_ERROR_SIZE] = "";
    xfer_t x = {q, r, false, false};
    CURLcode cc = build_headers(q, &hdrs) ? CURLE_OK : CURLE_OUT_OF_MEMORY;
    if (cc == CURLE_OK)
        cc = set_request_opts(c, h, &x, hdrs, left > LONG_MAX ? LONG_MAX : (long)left, ebuf);
    httpc_result_t res = HTTPC_OK;
    if (cc != CURLE_OK) {
        errmsg_set(err, errsz, "curl setup: %s", curl_easy_strerror(cc));
        res = HTTPC_ELOCAL;
    } else {
        atomic_fetch_add(&c->requests, 1);
        cc = curl_easy_perform(h);
        if (cc != CURLE_OK) {
            r->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
            errmsg_set(err, errsz, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cc));
            r->fail = classify(cc, &x);
            res = HTTPC_ETRANSFER;
        } else if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status) != CURLE_OK ||
                   r->status == 0) {
            errmsg_set(err, errsz, "no HTTP status");
            res = HTTPC_ENOSTATUS;
        }
    }
    pool_put(c, h);
    curl_slist_free_all(hdrs);
    return res;
}

void httpc_resp_free(httpc_resp_t *r)
{
    if (r)
        buf_free(&r->body);
}

bool httpc_escape(buf_t *out, const char *s, size_t n)
{
    if (n == 0) /* (curl_easy_escape would take strlen(s)) */
        return true;
    char *e = n > INT_MAX ? NULL : curl_easy_escape(NULL, s, (int)n);
    if (!e) {
        out->oom = true;
        return false;
    }
    buf_puts(out, e);
    curl_free(e);
    return !out->oom;
}

void httpc_form_add(buf_t *out, const char *key, const char *value)
{
    if (out->len)
        buf_putc(out, '&');
    buf_puts(out, key);
    buf_putc(out, '=');
    httpc_escape(out, value, strlen(value));
}

char *httpc_auth_line(const char *scheme, const char *credential)
{
    size_t n = strlen("Authorization: ") + strlen(scheme) + 1 + strlen(credential) + 1;
    char *line = malloc(n);
    if (line)
        snprintf(line, n, "Authorization: %s %s", scheme, credential);
    return line;
}

#define TOKEN_FILE_MAX (64u * 1024)

char *httpc_bearer_from_file(const char *path, char *err, size_t errsz)
{
    size_t n = 0;
    char why[128];
    char *t = file_read(path, TOKEN_FILE_MAX, &n, why, sizeof why);
    if (!t) {
        errmsg_set(err, errsz, "service account token file %s: %s", path, why);
        return NULL;
    }
    while (n && isspace((unsigned char)t[n - 1]))
        t[--n] = '\0';
    bool ok = n > 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)t[i] > ' ' && (unsigned char)t[i] < 0x7f;
    char *line = ok ? httpc_auth_line("Bearer", t) : NULL;
    if (!ok)
        errmsg_set(err, errsz,
                   "service account token file %s is empty or has characters a header cannot carry",
                   path);
    else if (!line)
        errmsg_set(err, errsz, "out of memory");
    secret_free_n(t, n);
    return line;
}
