/* gcpcred: registry credentials from the Google cloud identity (see
 * cloudcred.h), found in the order of Google's Application Default
 * Credentials that applies to a pod:
 *   1. a service-account key file named by GOOGLE_APPLICATION_CREDENTIALS:
 *      an RS256 assertion signed with its key, exchanged at its token_uri
 *      (OAuth2 JWT bearer grant, RFC 7523);
 *   2. the metadata server (GKE Workload Identity, or the node's service
 *      account): http://metadata.google.internal (GCE_METADATA_HOST, or the
 *      older GCE_METADATA_ROOT, names another host[:port]).
 * The access token is the password of the user "oauth2accesstoken", the
 * way gcr.io and *-docker.pkg.dev accept it; it is cached until shortly
 * before it expires. Only Google registries get it. */
#include "cloudprov.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloudreq.h"
#include "cloudtok.h"
#include "errmsg.h"
#include "file.h"
#include "jwt.h"
#include "secret.h"
#include "tokcache.h"

#define SRC_METADATA "google:metadata"
#define SRC_KEY      "google:service-account-key"
#define KEY_FILE_MAX (64 * 1024)
#define HOST_MAX     255

static const char metadata_path[] = "/computeMetadata/v1/instance/service-accounts/default/token";

typedef struct {
    httpc_t *http;
    cloudcred_getenv_fn env;
    tokcache_t *tokens; /* "metadata:<host>" or "key:<path>" -> access token */
} gcp_t;

static void *create(httpc_t *http, cloudcred_getenv_fn getenv_fn)
{
    gcp_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->http = http;
    g->env = getenv_fn;
    if (!(g->tokens = tokcache_new(4))) {
        free(g);
        return NULL;
    }
    return g;
}

static void destroy(void *state)
{
    gcp_t *g = state;
    if (!g)
        return;
    tokcache_free(g->tokens);
    free(g);
}

/* The token of an access-token answer and its lifetime. */
static bool take_access(const httpc_resp_t *r, const char *what, char **token,
                        uint64_t *lifetime_ms, char *why, size_t whysz)
{
    int64_t expires_in = 0;
    char err[120];
    if (!cloudtok_parse_access(r->body.data ? r->body.data : "", r->body.len, token, &expires_in,
                               err, sizeof err)) {
        errmsg_set(why, whysz, "%s sent a malformed answer: %s", what, err);
        return false;
    }
    *lifetime_ms = (uint64_t)(expires_in > 0 ? expires_in : 60) * 1000u;
    return true;
}

/* ---- the metadata server -------------------------------------------------------- */

static const char *metadata_host(const gcp_t *g)
{
    const char *h = g->env("GCE_METADATA_HOST");
    if (!h || !h[0])
        h = g->env("GCE_METADATA_ROOT");
    return h && h[0] ? h : "metadata.google.internal";
}

static bool host_ok(const char *h)
{
    size_t n = strlen(h);
    return n > 0 && n <= HOST_MAX &&
           strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == n;
}

static bool fetch_metadata(gcp_t *g, const char *host, uint64_t deadline, char **token,
                           uint64_t *lifetime_ms, char *why, size_t whysz)
{
    if (!host_ok(host)) {
        errmsg_set(why, whysz, "GCE_METADATA_HOST is not a host[:port]");
        return false;
    }
    char url[HOST_MAX + sizeof metadata_path + 16];
    snprintf(url, sizeof url, "http://%s%s", host, metadata_path);
    httpc_req_t q = {.url = url,
                     .headers = {"Metadata-Flavor: Google"},
                     .allow_http = true,
                     .capture = "Metadata-Flavor",
                     .deadline_ms = deadline};
    httpc_resp_t r = {0};
    bool ok = cloudreq_do(g->http, q, "metadata server", &r, why, whysz);
    if (ok && (!r.header_seen || strcmp(r.header, "Google") != 0)) {
        errmsg_set(why, whysz, "the answer from %s has no Metadata-Flavor: Google header", host);
        ok = false;
    }
    if (ok)
        ok = take_access(&r, "metadata server", token, lifetime_ms, why, whysz);
    secret_buf_free(&r.body);
    return ok;
}

/* ---- a service-account key file ------------------------------------------------- */

static bool read_key(const char *path, cloudtok_sakey_t *k, char *why, size_t whysz)
{
    size_t len = 0;
    char err[160];
    char *text = file_read(path, KEY_FILE_MAX, &len, err, sizeof err);
    if (!text) {
        errmsg_set(why, whysz, "GOOGLE_APPLICATION_CREDENTIALS %.200s: %s", path, err);
        return false;
    }
    bool ok = cloudtok_parse_sakey(text, len, k, err, sizeof err);
    if (!ok)
        errmsg_set(why, whysz, "GOOGLE_APPLICATION_CREDENTIALS %.200s: %s", path, err);
    memset(text, 0, len);
    free(text);
    return ok;
}

static bool fetch_with_key(gcp_t *g, const char *path, uint64_t deadline, char **token,
                           uint64_t *lifetime_ms, char *why, size_t whysz)
{
    cloudtok_sakey_t k;
    if (!read_key(path, &k, why, whysz))
        return false;
    char err[160];
    char *claims = cloudtok_google_claims(&k, (int64_t)time(NULL));
    char *jwt = claims ? jwt_sign_rs256(k.private_key_id, claims, k.private_key,
                                        strlen(k.private_key), err, sizeof err)
                       : NULL;
    buf_t form = BUF_INIT;
    httpc_resp_t r = {0};
    bool ok = false;
    if (!jwt) {
        errmsg_set(why, whysz, "GOOGLE_APPLICATION_CREDENTIALS %.200s: %s", path,
                   claims ? err : "out of memory");
    } else {
        httpc_form_add(&form, "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
        httpc_form_add(&form, "assertion", jwt);
        httpc_req_t q = {
            .url = k.token_uri, .method = HTTPC_POST, .post = form.data, .deadline_ms = deadline};
        if (form.oom)
            errmsg_set(why, whysz, "out of memory");
        else if (cloudreq_do(g->http, q, "Google token endpoint", &r, why, whysz))
            ok = take_access(&r, "Google token endpoint", token, lifetime_ms, why, whysz);
    }
    secret_buf_free(&r.body);
    secret_buf_free(&form);
    free(jwt);
    free(claims);
    cloudtok_sakey_free(&k);
    return ok;
}

/* tokcache_fetch_fn: the key says which source ("metadata:<host>", "key:<path>"). */
static bool fetch(void *ctx, const char *key, uint64_t deadline, char **token,
                  uint64_t *lifetime_ms, char *why, size_t whysz)
{
    if (strncmp(key, "key:", 4) == 0)
        return fetch_with_key(ctx, key + 4, deadline, token, lifetime_ms, why, whysz);
    return fetch_metadata(ctx, key + strlen("metadata:"), deadline, token, lifetime_ms, why, whysz);
}

/* ---- the provider ------------------------------------------------------------------ */

static bool google_registry(const char *host)
{
    registry_info_t ri;
    registry_classify(host, strlen(host), "", 0, &ri);
    return ri.kind == REGISTRY_GCR || ri.kind == REGISTRY_GAR;
}

/* The cache key of the source the environment names (false: too long). */
static bool source_key(const gcp_t *g, char *key, size_t keysz, bool *use_key)
{
    const char *keyfile = g->env("GOOGLE_APPLICATION_CREDENTIALS");
    *use_key = keyfile && keyfile[0];
    int n = *use_key ? snprintf(key, keysz, "key:%s", keyfile)
                     : snprintf(key, keysz, "metadata:%s", metadata_host(g));
    return n >= 0 && (size_t)n < keysz;
}

static bool get(void *state, const char *host, uint64_t deadline_ms, dockercfg_cred_t *out,
                char *source, size_t sourcesz, char *why, size_t whysz)
{
    gcp_t *g = state;
    memset(out, 0, sizeof *out);
    if (!google_registry(host)) {
        errmsg_set(why, whysz,
                   "%.100s is not a Google registry (gcr.io, *.gcr.io, *-docker.pkg.dev)", host);
        return false;
    }
    char key[1000];
    bool use_key;
    bool fits = source_key(g, key, sizeof key, &use_key);
    errmsg_set(source, sourcesz, "%s", use_key ? SRC_KEY : SRC_METADATA);
    if (!fits) {
        errmsg_set(why, whysz, "%s is too long",
                   use_key ? "GOOGLE_APPLICATION_CREDENTIALS" : "GCE_METADATA_HOST");
        return false;
    }
    char *token = NULL;
    if (!tokcache_get(g->tokens, key, deadline_ms, fetch, g, &token, why, whysz))
        return false;
    out->secret = token;
    if (!(out->username = strdup("oauth2accesstoken"))) {
        dockercfg_cred_free(out);
        errmsg_set(why, whysz, "out of memory");
        return false;
    }
    return true;
}

const cloudprov_t gcpcred_provider = {"google", create, destroy, get};

/* One token serves every Google registry: a refusal drops it. */
void gcpcred_refused(void *state, const char *host)
{
    gcp_t *g = state;
    char key[1000];
    bool use_key;
    if (google_registry(host) && source_key(g, key, sizeof key, &use_key))
        tokcache_drop(g->tokens, key);
}
