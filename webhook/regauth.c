/* regauth: registry challenges, credentials, tokens and their cache (see regauth.h). */
#include "regauth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "clock.h"
#include "dockercfg.h"
#include "errmsg.h"
#include "secret.h"
#include "ttlcache.h"

#define LINES_MAX         64 /* cached Authorization lines (host/repo) */
#define TOKEN_BODY_MAX    (64 * 1024)
#define TOKEN_MAX         16384
#define BASIC_AUTH_TTL_MS (5 * 60 * 1000)
#define SOURCES_MAX       16 /* distinct credential sources counted */
#define SOURCE_MAX        64

typedef enum { COUNT_OK, COUNT_ERROR, COUNT_BACKOFF, COUNT_RESULTS } count_result_t;
static const char *const count_names[COUNT_RESULTS] = {"ok", "error", "backoff"};

typedef struct {
    char source[SOURCE_MAX];
    unsigned long n[COUNT_RESULTS];
} source_count_t;

struct regauth {
    httpc_t *http;      /* borrowed */
    cloudcred_t *cloud; /* borrowed; NULL: no cloud identity */
    dockercfg_t dcfg;
    ttlcache_t *lines;   /* "host/repo" -> full "Authorization: ..." header line */
    ttlcache_t *sources; /* "host/repo" -> the source of that line's credentials */
    pthread_mutex_t mu;  /* counts */
    bool mu_ok;
    source_count_t counts[SOURCES_MAX];
    size_t n_counts;
};

regauth_t *regauth_new(const char *docker_config, cloudcred_t *cloud, httpc_t *http, char *err,
                       size_t errsz)
{
    regauth_t *a = calloc(1, sizeof *a);
    if (!a) {
        errmsg_set(err, errsz, "out of memory");
        return NULL;
    }
    a->http = http;
    a->cloud = cloud;
    if (docker_config && docker_config[0] && !dockercfg_load(docker_config, &a->dcfg, err, errsz)) {
        free(a);
        return NULL;
    }
    a->mu_ok = pthread_mutex_init(&a->mu, NULL) == 0;
    if (!a->mu_ok || !(a->lines = ttlcache_new(LINES_MAX, NULL, NULL)) ||
        !(a->sources = ttlcache_new(LINES_MAX, NULL, NULL))) {
        errmsg_set(err, errsz, "out of memory");
        regauth_free(a);
        return NULL;
    }
    return a;
}

void regauth_free(regauth_t *a)
{
    if (!a)
        return;
    ttlcache_unref(a->lines);
    ttlcache_unref(a->sources);
    if (a->mu_ok)
        pthread_mutex_destroy(&a->mu);
    dockercfg_free(&a->dcfg);
    free(a);
}

/* ---- the cache ------------------------------------------------------------------- */

static void cache_key(const char *host, const char *repo, char *key, size_t keysz)
{
    snprintf(key, keysz, "%s/%s", host, repo);
}

char *regauth_cached(regauth_t *a, const char *host, const char *repo)
{
    char key[520];
    cache_key(host, repo, key, sizeof key);
    return ttlcache_get_text(a->lines, key);
}

void regauth_remember(regauth_t *a, const char *host, const char *repo, const char *line,
                      uint64_t ttl_ms)
{
    char key[520];
    cache_key(host, repo, key, sizeof key);
    ttlcache_put_text(a->lines, key, line, ttl_ms);
}

void regauth_cached_source(regauth_t *a, const char *host, const char *repo, char *out,
                           size_t outsz)
{
    char key[520];
    cache_key(host, repo, key, sizeof key);
    char *s = ttlcache_get_text(a->sources, key);
    errmsg_set(out, outsz, "%s", s ? s : "");
    free(s);
}

/* ---- counts by source -------------------------------------------------------------- */

static void count_result(regauth_t *a, const char *source, count_result_t r)
{
    pthread_mutex_lock(&a->mu);
    source_count_t *c = NULL;
    for (size_t i = 0; i < a->n_counts && !c; i++)
        if (strcmp(a->counts[i].source, source) == 0)
            c = &a->counts[i];
    if (!c && a->n_counts < SOURCES_MAX) {
        c = &a->counts[a->n_counts++];
        snprintf(c->source, sizeof c->source, "%s", source);
    }
    if (!c) /* more distinct sources than slots: the last slot takes the rest */
        c = &a->counts[SOURCES_MAX - 1];
    c->n[r]++;
    pthread_mutex_unlock(&a->mu);
}

static void count(regauth_t *a, const char *source, bool ok)
{
    count_result(a, source, ok ? COUNT_OK : COUNT_ERROR);
}

void regauth_metrics(regauth_t *a, buf_t *out)
{
    static const char *m = "imagebuilder_webhook_registry_credentials_total";
    buf_printf(out,
               "# HELP %s Registry credential lookups by source (docker-config, "
               "credential-helper:<name>, <cloud>:<source>) and result (backoff: not made, the "
               "host's last cloud lookup failed within failureBackoffSeconds).\n",
               m);
    buf_printf(out, "# TYPE %s counter\n", m);
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->n_counts; i++) {
        const source_count_t *c = &a->counts[i];
        for (int r = 0; r < COUNT_RESULTS; r++)
            buf_printf(out, "%s{source=\"%s\",result=\"%s\"} %lu\n", m, c->source, count_names[r],
                       c->n[r]);
    }
    pthread_mutex_unlock(&a->mu);
}

/* ---- credentials and header lines ----------------------------------------------- */

/* The cloud identity's credentials for `host`, when there is one. A lookup
 * that names no source (the host is another cloud's registry) is not
 * counted. */
static bool cloud_creds(regauth_t *a, const char *host, uint64_t deadline, dockercfg_cred_t *cred,
                        char *source, size_t sourcesz, char *note, size_t notesz)
{
    if (!a->cloud)
        return false;
    char why[256] = "";
    bool ok = cloudcred_get(a->cloud, host, deadline, cred, source, sourcesz, why, sizeof why);
    bool backoff = !ok && cloudcred_not_asked(why);
    if (source[0])
        count_result(a, source, ok ? COUNT_OK : backoff ? COUNT_BACKOFF : COUNT_ERROR);
    if (!ok)
        errmsg_set(note, notesz, "; %s: %s", source[0] ? source : "cloud identity", why);
    return ok;
}

/* The credentials for `host`: the Docker config's (inline, or from a
 * credential helper given the time left), else the cloud identity's. False
 * when there are none, with a note (starting with "; ") when a helper or
 * the cloud identity failed. `source` names where they came from. */
static bool get_creds(regauth_t *a, const char *host, uint64_t deadline, dockercfg_cred_t *cred,
                      char *source, size_t sourcesz, bool *from_cloud, char *note, size_t notesz)
{
    const dockercfg_auth_t *inline_auth;
    const char *helper;
    source[0] = '\0';
    dockercfg_lookup(&a->dcfg, host, &inline_auth, &helper);
    if (inline_auth) {
        errmsg_set(source, sourcesz, "docker-config");
        bool ok = dockercfg_cred_from_auth(inline_auth, cred);
        count(a, source, ok);
        return ok;
    }
    if (!helper)
        return (*from_cloud = cloud_creds(a, host, deadline, cred, source, sourcesz, note, notesz));
    errmsg_set(source, sourcesz, "credential-helper:%s", helper);
    uint64_t now = clock_mono_ms();
    if (now >= deadline) {
        count(a, source, false);
        return false;
    }
    char sbuf[300];
    const char *server = dockercfg_helper_server(host, sbuf, sizeof sbuf);
    char err[160] = "";
    bool ok =
        dockercfg_run_helper(helper, server, (unsigned)(deadline - now), cred, err, sizeof err);
    count(a, source, ok);
    if (!ok)
        errmsg_set(note, notesz, "; credential helper: %s", err);
    return ok;
}

char *regauth_basic_line(const char *user, const char *pass)
{
    size_t ul = strlen(user), pl = strlen(pass);
    if (ul + pl > 8192)
        return NULL;
    char *raw = malloc(ul + pl + 2);
    if (!raw)
        return NULL;
    memcpy(raw, user, ul);
    raw[ul] = ':';
    memcpy(raw + ul + 1, pass, pl + 1);
    char *b64 = base64_encode(raw, ul + pl + 1);
    secret_free(raw);
    if (!b64)
        return NULL;
    char *line = httpc_auth_line("Basic", b64);
    secret_free(b64);
    return line;
}

/* ---- token endpoint ---------------------------------------------------------------- */

bool regauth_token_url(const wwwauth_t *ch, const char *default_scope, buf_t *out)
{
    buf_puts(out, ch->realm);
    char sep = strchr(ch->realm, '?') ? '&' : '?';
    if (ch->service[0]) {
        buf_putc(out, sep);
        buf_puts(out, "service=");
        httpc_escape(out, ch->service, strlen(ch->service));
        sep = '&';
    }
    const char *p = ch->scope[0] ? ch->scope : default_scope;
    while (p && *p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len == 0)
            break;
        buf_putc(out, sep);
        buf_puts(out, "scope=");
        httpc_escape(out, p, len);
        sep = '&';
        p += len;
    }
    return !out->oom;
}

/* The token of a 200 answer from the token endpoint, as a header line. */
static bool read_token(const httpc_resp_t *r, char **line, uint64_t *ttl_ms, char *why,
                       size_t whysz)
{
    char *tok = malloc(TOKEN_MAX);
    unsigned exp = 60;
    const char *reason = NULL;
    bool ok = false;
    if (!tok) {
        errmsg_set(why, whysz, "out of memory");
    } else if (!wwwauth_parse_token(r->body.data ? r->body.data : "", r->body.len, tok, TOKEN_MAX,
                                    &exp, &reason)) {
        errmsg_set(why, whysz, "token endpoint: %s", reason);
    } else if ((*line = httpc_auth_line("Bearer", tok))) {
        *ttl_ms = (uint64_t)(exp > 10 ? exp - 5 : exp) * 1000u;
        ok = true;
    }
    if (tok)
        memset(tok, 0, TOKEN_MAX);
    free(tok);
    return ok;
}

/* Asks the token endpoint of a Bearer challenge: with an identity token
 * through the OAuth2 refresh-token grant (a POSTed form), otherwise a GET,
 * with Basic credentials when there are some. `note` explains missing
 * credentials; *status is the endpoint's HTTP status (0: none). */
static bool ask_token(regauth_t *a, const wwwauth_t *ch, const char *repo,
                      const dockercfg_cred_t *cred, const char *note, bool insecure,
                      uint64_t deadline, char **line, uint64_t *ttl_ms, long *status, char *why,
                      size_t whysz)
{
    char default_scope[320];
    snprintf(default_scope, sizeof default_scope, "repository:%s:pull", repo);
    buf_t url = BUF_INIT, form = BUF_INIT;
    httpc_req_t q = {.url = ch->realm,
                     .method = HTTPC_POST,
                     .allow_http = insecure || strncasecmp(ch->realm, "https://", 8) == 0,
                     .follow_redirects = true,
                     .body_max = TOKEN_BODY_MAX,
                     .deadline_ms = deadline};
    if (cred && cred->identity_token) {
        httpc_form_add(&form, "grant_type", "refresh_token");
        httpc_form_add(&form, "refresh_token", cred->secret);
        httpc_form_add(&form, "client_id", "imagebuilder-webhook");
        if (ch->service[0])
            httpc_form_add(&form, "service", ch->service);
        httpc_form_add(&form, "scope", ch->scope[0] ? ch->scope : default_scope);
        q.post = form.data;
    } else {
        regauth_token_url(ch, default_scope, &url);
        q.url = url.data;
        q.method = HTTPC_GET;
        q.user = cred ? cred->username : NULL;
        q.pass = cred ? cred->secret : NULL;
    }
    httpc_resp_t r = {0};
    char err[200] = "";
    httpc_result_t res = HTTPC_ELOCAL;
    bool ok = false;
    if (!q.allow_http)
        errmsg_set(why, whysz, "token realm %s is plain HTTP for a registry not listed as insecure",
                   ch->realm);
    else if (form.oom || url.oom)
        errmsg_set(why, whysz, "out of memory");
    else if ((res = httpc_perform(a->http, &q, &r, err, sizeof err)) != HTTPC_OK)
        errmsg_set(why, whysz, "token endpoint: %s%s", err, note);
    else if (r.status != 200)
        errmsg_set(why, whysz, "token endpoint answered HTTP %ld%s", r.status, note);
    else
        ok = read_token(&r, line, ttl_ms, why, whysz);
    if (res == HTTPC_ETRANSFER && r.body_over)
        errmsg_set(why, whysz, "token endpoint: answer larger than %d bytes", TOKEN_BODY_MAX);
    *status = res == HTTPC_OK ? r.status : 0;
    buf_free(&url);
    secret_buf_free(&form);
    secret_buf_free(&r.body); /* it holds a token */
    return ok;
}

bool regauth_answer(regauth_t *a, const char *host, const char *repo, const char *www,
                    bool insecure, uint64_t deadline_ms, char **line, uint64_t *ttl_ms,
                    char *source, size_t sourcesz, char *why, size_t whysz)
{
    char src[SOURCE_MAX] = "";
    errmsg_set(source, sourcesz, "%s", "");
    wwwauth_t ch;
    const char *reason = NULL;
    if (!wwwauth_parse(www, strlen(www), &ch, &reason)) {
        errmsg_set(why, whysz, "malformed WWW-Authenticate: %s", reason);
        return false;
    }
    dockercfg_cred_t cred = {0};
    char note[320] = "";
    bool from_cloud = false;
    bool have =
        get_creds(a, host, deadline_ms, &cred, src, sizeof src, &from_cloud, note, sizeof note);
    errmsg_set(source, sourcesz, "%s", src);
    bool ok = false;
    if (!have && note[0] && clock_mono_ms() >= deadline_ms) {
        /* the credential lookup took all the time: its failure is the reason */
        errmsg_set(why, whysz, "%s", note + 2);
    } else if (ch.scheme == WWWAUTH_BASIC) {
        if (!have || cred.identity_token) {
            errmsg_set(why, whysz,
                       "registry asks for Basic credentials and none are configured for %s%s", host,
                       note);
        } else if (!(*line = regauth_basic_line(cred.username, cred.secret))) {
            errmsg_set(why, whysz, "out of memory");
        } else {
            *ttl_ms = BASIC_AUTH_TTL_MS;
            ok = true;
        }
    } else if (ch.scheme == WWWAUTH_BEARER) {
        long status = 0;
        ok = ask_token(a, &ch, repo, have ? &cred : NULL, note, insecure, deadline_ms, line, ttl_ms,
                       &status, why, whysz);
        if (!ok && from_cloud && status == 401) /* refused: the next check asks the cloud anew */
            cloudcred_refused(a->cloud, host);
    } else {
        errmsg_set(why, whysz, "unsupported authentication scheme in '%.60s'", www);
    }
    dockercfg_cred_free(&cred);
    if (ok) {
        char key[520];
        cache_key(host, repo, key, sizeof key);
        ttlcache_put_text(a->sources, key, have ? src : NULL, *ttl_ms);
    }
    return ok;
}
