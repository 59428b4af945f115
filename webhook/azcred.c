/* azcred: registry credentials from the Azure cloud identity (see
 * cloudcred.h): Azure Workload Identity, as the Azure SDKs read it from the
 * environment the workload-identity webhook gives a labelled pod
 * (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
 * AZURE_AUTHORITY_HOST, https://login.microsoftonline.com/ by default):
 *   1. the projected service-account token in AZURE_FEDERATED_TOKEN_FILE
 *      (read again for every request: the kubelet rotates it) is the
 *      client assertion of an OAuth2 client-credentials request to
 *      Microsoft Entra ID, for the audience the registry's cloud accepts
 *      (acr_cloud_of): in the public cloud the registry audience
 *      (https://containerregistry.azure.net/.default, accepted whether or
 *      not the registry still takes ARM-audience tokens), in the national
 *      clouds (*.azurecr.cn, *.azurecr.us) that cloud's Resource Manager
 *      audience, as the Azure SDKs ask there;
 *   2. the Entra access token is exchanged at the registry's
 *      /oauth2/exchange for an ACR refresh token;
 *   3. that refresh token is an identity token: the registry's own token
 *      flow (regauth.c, refresh-token grant at its /oauth2/token) takes
 *      over.
 * The Entra token and each registry's refresh token (a JWT: its `exp`
 * says how long) are cached until shortly before they expire. Only Azure
 * Container Registry hosts get them. */
#include "cloudprov.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cloudreq.h"
#include "cloudtok.h"
#include "errmsg.h"
#include "file.h"
#include "jwt.h"
#include "secret.h"
#include "tokcache.h"

#define SOURCE        "azure:workload-identity"
#define ASSERTION_MAX (64 * 1024)
/* How long a refresh token whose expiry cannot be read is kept (ACR's
 * last three hours). */
#define UNKNOWN_LIFETIME_MS (15u * 60u * 1000u)
/* The user name Docker clients give an ACR identity token. */
#define ACR_TOKEN_USER "00000000-0000-0000-0000-000000000000"

typedef struct {
    httpc_t *http;
    cloudcred_getenv_fn env;
    tokcache_t *tokens; /* "entra:..." -> Entra access token; "acr:<host>" -> refresh token */
} az_t;

typedef struct {
    char client_id[128];
    char tenant[128];
    char token_file[1024];
    char authority[512]; /* ends with '/' */
} az_env_t;

/* An Azure cloud, by the suffix of its registries' host names. */
typedef struct {
    const char *suffix;
    const char *scope;     /* of the Entra token its registries accept */
    const char *authority; /* its Entra, when AZURE_AUTHORITY_HOST is not set */
} acr_cloud_t;

static const acr_cloud_t acr_clouds[] = {
    {".azurecr.io", "https://containerregistry.azure.net/.default",
     "https://login.microsoftonline.com/"},
    {".azurecr.cn", "https://management.chinacloudapi.cn/.default",
     "https://login.chinacloudapi.cn/"},
    {".azurecr.us", "https://management.usgovcloudapi.net/.default",
     "https://login.microsoftonline.us/"},
};

/* The cloud of registry `host` (host[:port]); NULL for one that has none
 * (Azure Germany's *.azurecr.de, closed in 2021). */
static const acr_cloud_t *acr_cloud_of(const char *host)
{
    size_t n = strcspn(host, ":");
    for (size_t i = 0; i < sizeof acr_clouds / sizeof acr_clouds[0]; i++) {
        size_t sl = strlen(acr_clouds[i].suffix);
        if (n > sl && strncasecmp(host + n - sl, acr_clouds[i].suffix, sl) == 0)
            return &acr_clouds[i];
    }
    return NULL;
}

/* What a fetch needs (tokcache_fetch_fn's ctx). */
typedef struct {
    az_t *az;
    const az_env_t *env;
    const char *host;
    const acr_cloud_t *cloud;
    char entra_key[sizeof(az_env_t) + 80];
} az_job_t;

static void *create(httpc_t *http, cloudcred_getenv_fn getenv_fn)
{
    az_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->http = http;
    a->env = getenv_fn;
    if (!(a->tokens = tokcache_new(32))) {
        free(a);
        return NULL;
    }
    return a;
}

static void destroy(void *state)
{
    az_t *a = state;
    if (!a)
        return;
    tokcache_free(a->tokens);
    free(a);
}

/* ---- the environment ------------------------------------------------------------- */

/* Copies variable `name` into dst; `charset` NULL: any non-space text. */
static bool env_copy(const az_t *a, const char *name, const char *charset, char *dst, size_t dstsz,
                     char *why, size_t whysz)
{
    const char *v = a->env(name);
    if (!v || !v[0]) {
        errmsg_set(why, whysz,
                   "%s is not set (no Azure workload identity: the pod needs the label "
                   "azure.workload.identity/use: \"true\")",
                   name);
        return false;
    }
    size_t n = strlen(v);
    if (n >= dstsz || (charset ? strspn(v, charset) : strcspn(v, " \t\r\n")) != n) {
        errmsg_set(why, whysz, "%s is not valid", name);
        return false;
    }
    memcpy(dst, v, n + 1);
    return true;
}

/* The workload identity's variables; the authority defaults to `cloud`'s. */
static bool read_env(const az_t *a, const acr_cloud_t *cloud, az_env_t *e, char *why, size_t whysz)
{
    static const char id_chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";
    if (!env_copy(a, "AZURE_CLIENT_ID", id_chars, e->client_id, sizeof e->client_id, why, whysz) ||
        !env_copy(a, "AZURE_TENANT_ID", id_chars, e->tenant, sizeof e->tenant, why, whysz) ||
        !env_copy(a, "AZURE_FEDERATED_TOKEN_FILE", NULL, e->token_file, sizeof e->token_file, why,
                  whysz))
        return false;
    const char *auth = a->env("AZURE_AUTHORITY_HOST");
    if (!auth || !auth[0])
        auth = cloud->authority;
    size_t n = strlen(auth);
    if (strncasecmp(auth, "https://", 8) != 0 || n + 2 > sizeof e->authority ||
        strcspn(auth, " \t\r\n?#") != n) {
        errmsg_set(why, whysz, "AZURE_AUTHORITY_HOST is not an https:// URL");
        return false;
    }
    snprintf(e->authority, sizeof e->authority, "%s%s", auth, auth[n - 1] == '/' ? "" : "/");
    return true;
}

/* ---- Microsoft Entra ID ------------------------------------------------------------ */

/* The federated token, read again each time (the kubelet rotates it). */
static char *read_assertion(const az_env_t *e, char *why, size_t whysz)
{
    size_t len = 0;
    char err[160];
    char *t = file_read(e->token_file, ASSERTION_MAX, &len, err, sizeof err);
    if (!t) {
        errmsg_set(why, whysz, "AZURE_FEDERATED_TOKEN_FILE %.200s: %s", e->token_file, err);
        return NULL;
    }
    while (len && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
        t[--len] = '\0';
    if (!cloudtok_token_ok(t, len)) {
        errmsg_set(why, whysz, "AZURE_FEDERATED_TOKEN_FILE %.200s does not hold a token",
                   e->token_file);
        secret_free(t);
        return NULL;
    }
    return t;
}

static bool fetch_entra(void *ctx, const char *key, uint64_t deadline, char **token,
                        uint64_t *lifetime_ms, char *why, size_t whysz)
{
    (void)key;
    const az_job_t *j = ctx;
    char *assertion = read_assertion(j->env, why, whysz);
    if (!assertion)
        return false;
    buf_t form = BUF_INIT;
    httpc_form_add(&form, "client_assertion_type",
                   "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    httpc_form_add(&form, "client_assertion", assertion);
    httpc_form_add(&form, "client_id", j->env->client_id);
    httpc_form_add(&form, "grant_type", "client_credentials");
    httpc_form_add(&form, "scope", j->cloud->scope);
    secret_free(assertion);
    char url[sizeof j->env->authority + sizeof j->env->tenant + 32];
    snprintf(url, sizeof url, "%s%s/oauth2/v2.0/token", j->env->authority, j->env->tenant);
    httpc_req_t q = {.url = url, .method = HTTPC_POST, .post = form.data, .deadline_ms = deadline};
    httpc_resp_t r = {0};
    int64_t expires_in = 0;
    char err[120];
    bool ok = false;
    if (form.oom)
        errmsg_set(why, whysz, "out of memory");
    else if (cloudreq_do(j->az->http, q, "Entra token endpoint", &r, why, whysz) &&
             !(ok = cloudtok_parse_access(r.body.data, r.body.len, token, &expires_in, err,
                                          sizeof err)))
        errmsg_set(why, whysz, "Entra token endpoint sent a malformed answer: %s", err);
    if (ok)
        *lifetime_ms = (uint64_t)(expires_in > 0 ? expires_in : 60) * 1000u;
    secret_buf_free(&r.body);
    secret_buf_free(&form);
    return ok;
}

/* ---- the registry's token exchange -------------------------------------------------- */

/* How long a refresh token lasts, from its exp claim. */
static bool refresh_lifetime(const char *tok, uint64_t *lifetime_ms, char *why, size_t whysz)
{
    int64_t exp = 0;
    if (!jwt_expiry(tok, strlen(tok), &exp, NULL)) {
        *lifetime_ms = UNKNOWN_LIFETIME_MS;
        return true;
    }
    int64_t left = exp - (int64_t)time(NULL);
    if (left <= 0) {
        errmsg_set(why, whysz, "the registry's refresh token has already expired");
        return false;
    }
    *lifetime_ms = (uint64_t)left * 1000u;
    return true;
}

static bool exchange(const az_job_t *j, const char *entra, uint64_t deadline, char **token,
                     uint64_t *lifetime_ms, char *why, size_t whysz)
{
    char service[256];
    snprintf(service, sizeof service, "%.*s", (int)strcspn(j->host, ":"), j->host);
    buf_t form = BUF_INIT;
    httpc_form_add(&form, "grant_type", "access_token");
    httpc_form_add(&form, "service", service);
    httpc_form_add(&form, "tenant", j->env->tenant);
    httpc_form_add(&form, "access_token", entra);
    char url[300];
    snprintf(url, sizeof url, "https://%s/oauth2/exchange", j->host);
    httpc_req_t q = {.url = url, .method = HTTPC_POST, .post = form.data, .deadline_ms = deadline};
    httpc_resp_t r = {0};
    char err[120];
    bool ok = false;
    if (form.oom) {
        errmsg_set(why, whysz, "out of memory");
    } else if (cloudreq_do(j->az->http, q, "registry token exchange", &r, why, whysz)) {
        if (!cloudtok_parse_refresh(r.body.data, r.body.len, token, err, sizeof err))
            errmsg_set(why, whysz, "registry token exchange sent a malformed answer: %s", err);
        else
            ok = refresh_lifetime(*token, lifetime_ms, why, whysz);
        if (!ok) {
            secret_free(*token);
            *token = NULL;
        }
    } else if (r.status == 401) { /* the Entra token was refused: ask for another next time */
        tokcache_drop(j->az->tokens, j->entra_key);
    }
    secret_buf_free(&r.body);
    secret_buf_free(&form);
    return ok;
}

static bool fetch_refresh(void *ctx, const char *key, uint64_t deadline, char **token,
                          uint64_t *lifetime_ms, char *why, size_t whysz)
{
    (void)key;
    az_job_t *j = ctx;
    char *entra = NULL;
    if (!tokcache_get(j->az->tokens, j->entra_key, deadline, fetch_entra, j, &entra, why, whysz))
        return false;
    bool ok = exchange(j, entra, deadline, token, lifetime_ms, why, whysz);
    secret_free(entra);
    return ok;
}

/* ---- the provider -------------------------------------------------------------------- */

static bool get(void *state, const char *host, uint64_t deadline_ms, dockercfg_cred_t *out,
                char *source, size_t sourcesz, char *why, size_t whysz)
{
    az_t *a = state;
    memset(out, 0, sizeof *out);
    registry_info_t ri;
    registry_classify(host, strlen(host), "", 0, &ri);
    if (ri.kind != REGISTRY_ACR || strlen(host) > 253) {
        errmsg_set(why, whysz,
                   "%.100s is not an Azure Container Registry (*.azurecr.io, .cn or .us)", host);
        return false;
    }
    errmsg_set(source, sourcesz, "%s", SOURCE);
    const acr_cloud_t *cloud = acr_cloud_of(host);
    if (!cloud) {
        errmsg_set(why, whysz, "%.100s is in Azure Germany, which closed in 2021: no Entra to ask",
                   host);
        return false;
    }
    az_env_t env;
    if (!read_env(a, cloud, &env, why, whysz))
        return false;
    az_job_t job = {.az = a, .env = &env, .host = host, .cloud = cloud};
    snprintf(job.entra_key, sizeof job.entra_key, "entra:%s|%s|%s|%s", env.authority, env.tenant,
             env.client_id, cloud->scope);
    char key[300];
    snprintf(key, sizeof key, "acr:%s", host);
    char *token = NULL;
    if (!tokcache_get(a->tokens, key, deadline_ms, fetch_refresh, &job, &token, why, whysz))
        return false;
    out->secret = token;
    out->identity_token = true;
    if (!(out->username = strdup(ACR_TOKEN_USER))) {
        dockercfg_cred_free(out);
        errmsg_set(why, whysz, "out of memory");
        return false;
    }
    return true;
}

const cloudprov_t azcred_provider = {"azure", create, destroy, get};

/* The registry refused its refresh token: exchange again next time (the
 * Entra token stays; the exchange drops it when refused in turn). */
void azcred_refused(void *state, const char *host)
{
    az_t *a = state;
    char key[300];
    snprintf(key, sizeof key, "acr:%s", host);
    tokcache_drop(a->tokens, key);
}
