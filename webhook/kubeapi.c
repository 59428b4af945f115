/* kubeapi: the Kubernetes API client of the commands that change objects
 * (see kubeapi.h): locating the API, reading the credentials, one bounded
 * request at a time. */
#include "kubeapi.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "errmsg.h"
#include "file.h"
#include "httpc.h"
#include "kubeconfig.h"
#include "secret.h"

#define BODY_MAX       (4u << 20)
#define KUBECONFIG_MAX (4u << 20)

struct kubeapi {
    char *server;
    char *authz; /* "Authorization: Bearer ..." or NULL */
    unsigned timeout_ms;
    httpc_t *http;
};

bool kubeapi_load_kubeconfig(const char *path, kubeconfig_t *kc, char *err, size_t errsz)
{
    size_t len = 0;
    char why[200];
    char *text = file_read(path, KUBECONFIG_MAX, &len, why, sizeof why);
    if (!text) {
        errmsg_set(err, errsz, "kubeconfig %s: %s", path, why);
        return false;
    }
    char *dir = strdup(path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *slash = '\0';
    bool ok = kubeconfig_parse(text, len, slash ? dir : ".", kc, why, sizeof why);
    memset(text, 0, len); /* it may hold a token or a key */
    free(text);
    free(dir);
    if (!ok)
        errmsg_set(err, errsz, "kubeconfig %s: %s", path, why);
    return ok;
}

httpc_tls_t kubeapi_kubeconfig_tls(const kubeconfig_t *kc)
{
    return (httpc_tls_t){.ca_file = kc->ca_file,
                         .ca_pem = kc->ca_data,
                         .ca_pem_len = kc->ca_len,
                         .cert_file = kc->cert_file,
                         .cert_pem = kc->cert_data,
                         .cert_pem_len = kc->cert_len,
                         .key_file = kc->key_file,
                         .key_pem = kc->key_data,
                         .key_pem_len = kc->key_len,
                         .insecure_skip_verify = kc->insecure_skip_verify};
}

bool kubeapi_in_cluster_url(char *out, size_t outsz)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host)
        return false;
    bool v6 = strchr(host, ':') != NULL;
    int w = snprintf(out, outsz, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "",
                     port && *port ? port : "443");
    return w > 0 && (size_t)w < outsz;
}

bool kubeapi_is_file(const char *path)
{
    struct stat st;
    return path && *path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The kubeconfig's current context: server, TLS and credentials. */
static bool from_kubeconfig(kubeapi_t *k, const char *path, char *err, size_t errsz)
{
    kubeconfig_t kc = {0};
    if (!kubeapi_load_kubeconfig(path, &kc, err, errsz))
        return false;
    httpc_tls_t tls = kubeapi_kubeconfig_tls(&kc);
    bool ok = (k->server = strdup(kc.server)) != NULL;
    if (ok && kc.token)
        ok = (k->authz = httpc_auth_line("Bearer", kc.token)) != NULL;
    else if (ok && kc.token_file)
        ok = (k->authz = httpc_bearer_from_file(kc.token_file, err, errsz)) != NULL;
    if (!ok && !*err)
        errmsg_set(err, errsz, "out of memory");
    if (ok)
        ok = (k->http = httpc_new(&tls, err, errsz)) != NULL;
    kubeconfig_free(&kc);
    return ok;
}

/* The service account's token and CA, and the in-cluster address. */
static bool from_service_account(kubeapi_t *k, const kubeapi_options_t *o, char *err, size_t errsz)
{
    const char *token = o->token_file ? o->token_file : KUBEAPI_SA_DIR "/token";
    const char *ca = o->ca_file ? o->ca_file : KUBEAPI_SA_DIR "/ca.crt";
    if (o->ca_file && !kubeapi_is_file(ca)) {
        errmsg_set(err, errsz, "CA file %s: not a readable file", ca);
        return false;
    }
    if (!(k->authz = httpc_bearer_from_file(token, err, errsz)))
        return false;
    if (!o->api_server || !*o->api_server) {
        char url[300];
        if (!kubeapi_in_cluster_url(url, sizeof url)) {
            errmsg_set(err, errsz,
                       "not running in a cluster (KUBERNETES_SERVICE_HOST is not "
                       "set): give --kubeconfig or --api-server");
            return false;
        }
        if (!(k->server = strdup(url))) {
            errmsg_set(err, errsz, "out of memory");
            return false;
        }
    }
    httpc_tls_t tls = {.ca_file = kubeapi_is_file(ca) ? ca : NULL};
    return (k->http = httpc_new(&tls, err, errsz)) != NULL;
}

kubeapi_t *kubeapi_new(const kubeapi_options_t *o, char *err, size_t errsz)
{
    kubeapi_t *k = calloc(1, sizeof *k);
    if (!k) {
        errmsg_set(err, errsz, "out of memory");
        return NULL;
    }
    if (err && errsz)
        err[0] = '\0';
    k->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
    bool ok = o->kubeconfig && *o->kubeconfig ? from_kubeconfig(k, o->kubeconfig, err, errsz)
                                              : from_service_account(k, o, err, errsz);
    if (ok && o->api_server && *o->api_server) {
        free(k->server);
        ok = (k->server = strdup(o->api_server)) != NULL;
    }
    if (ok && (!k->server ||
               (strncmp(k->server, "https://", 8) != 0 && strncmp(k->server, "http://", 7) != 0))) {
        errmsg_set(err, errsz, "API server %s is not an http:// or https:// URL",
                   k->server ? k->server : "(none)");
        ok = false;
    }
    if (!ok) {
        if (!*err)
            errmsg_set(err, errsz, "out of memory");
        kubeapi_free(k);
        return NULL;
    }
    size_t n = strlen(k->server);
    while (n && k->server[n - 1] == '/')
        k->server[--n] = '\0';
    return k;
}

void kubeapi_free(kubeapi_t *k)
{
    if (!k)
        return;
    httpc_free(k->http);
    free(k->server);
    secret_free(k->authz);
    free(k);
}

const char *kubeapi_server(const kubeapi_t *k)
{
    return k->server;
}

bool kubeapi_call(kubeapi_t *k, kubeapi_method_t m, const char *path, const char *content_type,
                  const char *body, kubeapi_resp_t *r, char *err, size_t errsz)
{
    static const httpc_method_t methods[] = {HTTPC_GET, HTTPC_POST, HTTPC_PUT, HTTPC_PATCH};
    buf_t url = BUF_INIT, ctype = BUF_INIT;
    buf_printf(&url, "%s%s", k->server, path);
    if (content_type)
        buf_printf(&ctype, "Content-Type: %s", content_type);
    if (url.oom || ctype.oom) {
        buf_free(&url);
        buf_free(&ctype);
        errmsg_set(err, errsz, "out of memory");
        return false;
    }
    httpc_req_t q = {.url = url.data,
                     .method = methods[m],
                     .headers = {"Accept: application/json", k->authz, ctype.data},
                     .post = body,
                     .allow_http = true,
                     .body_max = BODY_MAX,
                     .deadline_ms = clock_mono_ms() + k->timeout_ms};
    httpc_resp_t hr = {0};
    char why[256];
    httpc_result_t res = httpc_perform(k->http, &q, &hr, why, sizeof why);
    if (res == HTTPC_OK) {
        r->status = hr.status;
        r->body = hr.body;
    } else {
        errmsg_set(err, errsz, "API server %s: %s%s", k->server,
                   hr.body_over ? "answer larger than 4 MiB: " : "", why);
        httpc_resp_free(&hr);
    }
    buf_free(&url);
    buf_free(&ctype);
    return res == HTTPC_OK;
}

void kubeapi_resp_free(kubeapi_resp_t *r)
{
    if (r)
        buf_free(&r->body);
}

void kubeapi_reason(const kubeapi_resp_t *r, char *out, size_t outsz)
{
    cJSON *st = r->body.data ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(st, "message");
    if (cJSON_IsString(msg) && *msg->valuestring) {
        errmsg_set(out, outsz, "%s", msg->valuestring);
    } else if (r->body.len) {
        /* the first line, printable characters only */
        size_t n = 0;
        char line[160];
        for (size_t i = 0; i < r->body.len && n + 1 < sizeof line && r->body.data[i] != '\n'; i++)
            line[n++] = (unsigned char)r->body.data[i] < ' ' ? ' ' : r->body.data[i];
        line[n] = '\0';
        errmsg_set(out, outsz, "%s", line);
    } else {
        errmsg_set(out, outsz, "HTTP %ld with no body", r->status);
    }
    cJSON_Delete(st);
}
