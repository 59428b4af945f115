/* awsident: the AWS identity chain (see awsident.h). */
#include "awsident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "errmsg.h"
#include "file.h"
#include "secret.h"

#define ANSWER_MAX      (64 * 1024)
#define TOKEN_FILE_MAX  (64 * 1024)
#define IMDS_REQUEST_MS 1000 /* each IMDS request, as the AWS SDKs bound them */
#define IMDS_TOKEN_TTL  "21600"
#define SESSION_NAME    "imagebuilder-webhook"

typedef enum { SRC_UNSET = 0, SRC_OK, SRC_FAILED } src_result_t;

typedef struct {
    httpc_t *http;
    cloudcred_getenv_fn env;
    const char *region_hint;
    uint64_t deadline;
    awsproto_creds_t *out;
    char *why;
    size_t whysz;
} chain_t;

static const char *env_of(const chain_t *c, const char *name)
{
    const char *v = c->env(name);
    return v && *v ? v : NULL;
}

static src_result_t failed(chain_t *c, const char *fmt, const char *arg)
{
    errmsg_set(c->why, c->whysz, fmt, arg);
    return SRC_FAILED;
}

static const char *body_of(const httpc_resp_t *r)
{
    return r->body.data ? r->body.data : "";
}

static void resp_wipe_free(httpc_resp_t *r)
{
    secret_buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

/* One exchange; false with "<what>: <reason>" in why. */
static bool exchange(chain_t *c, const httpc_req_t *q, httpc_resp_t *r, const char *what)
{
    char err[200] = "";
    if (httpc_perform(c->http, q, r, err, sizeof err) == HTTPC_OK)
        return true;
    if (r->body_over)
        errmsg_set(c->why, c->whysz, "%s: answer larger than %d bytes", what, ANSWER_MAX);
    else
        errmsg_set(c->why, c->whysz, "%s: %s", what, err);
    return false;
}

/* A token file's content, surrounding white space removed (caller wipes
 * and frees), or NULL with the reason in why. */
static char *read_token_file(chain_t *c, const char *path, const char *var)
{
    char err[160] = "";
    size_t len = 0;
    char *t = file_read(path, TOKEN_FILE_MAX, &len, err, sizeof err);
    if (!t) {
        errmsg_set(c->why, c->whysz, "%s %s: %s", var, path, err);
        return NULL;
    }
    while (len && strchr(" \t\r\n", t[len - 1]))
        t[--len] = '\0';
    size_t lead = strspn(t, " \t\r\n");
    memmove(t, t + lead, len - lead + 1);
    len -= lead;
    bool ok = len > 0;
    for (size_t i = 0; i < len && ok; i++)
        ok = t[i] > ' ' && t[i] < 0x7f;
    if (!ok) {
        errmsg_set(c->why, c->whysz, "%s %s: empty, or not a printable token", var, path);
        secret_free_n(t, len);
        return NULL;
    }
    return t;
}

/* ---- 1. web identity ----------------------------------------------------------------- */

static bool sts_url(chain_t *c, char *url, size_t urlsz)
{
    const char *conf = awsproto_configured_endpoint(
        env_of(c, "AWS_ENDPOINT_URL_STS"), env_of(c, "AWS_ENDPOINT_URL"),
        env_of(c, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"));
    if (conf)
        return (size_t)snprintf(url, urlsz, "%s", conf) < urlsz;
    const char *region = env_of(c, "AWS_REGION");
    if (!region)
        region = env_of(c, "AWS_DEFAULT_REGION");
    if (!region)
        region = c->region_hint;
    const char *mode = env_of(c, "AWS_STS_REGIONAL_ENDPOINTS");
    return awsproto_sts_url(region, mode && strcasecmp(mode, "legacy") == 0, url, urlsz);
}

/* The STS answer: credentials, or its error code and message. */
static src_result_t sts_answer(chain_t *c, const httpc_resp_t *r)
{
    if (r->status == 200) {
        char why[200];
        if (awsproto_sts_creds(body_of(r), r->body.len, c->out, why, sizeof why))
            return SRC_OK;
        return failed(c, "STS: %s", why);
    }
    char detail[300];
    awsproto_sts_error(body_of(r), r->body.len, detail, sizeof detail);
    errmsg_set(c->why, c->whysz, "STS AssumeRoleWithWebIdentity answered HTTP %ld%s%s", r->status,
               detail[0] ? ": " : "", detail);
    return SRC_FAILED;
}

static src_result_t web_identity(chain_t *c)
{
    const char *arn = env_of(c, "AWS_ROLE_ARN"), *file = env_of(c, "AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!arn && !file)
        return SRC_UNSET;
    if (!arn || !file)
        return failed(c, "%s is set without the other (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)",
                      arn ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
    char url[512];
    if (!sts_url(c, url, sizeof url))
        return failed(c, "%s", "no usable STS endpoint (check AWS_REGION, AWS_ENDPOINT_URL_STS)");
    char *token = read_token_file(c, file, "AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!token)
        return SRC_FAILED;
    const char *session = env_of(c, "AWS_ROLE_SESSION_NAME");
    buf_t form = BUF_INIT;
    httpc_form_add(&form, "Action", "AssumeRoleWithWebIdentity");
    httpc_form_add(&form, "Version", "2011-06-15");
    httpc_form_add(&form, "RoleArn", arn);
    httpc_form_add(&form, "RoleSessionName", session ? session : SESSION_NAME);
    httpc_form_add(&form, "WebIdentityToken", token);
    httpc_req_t q = {.url = url,
                     .method = HTTPC_POST,
                     .headers = {"Accept: text/xml"},
                     .post = form.data,
                     .allow_http = strncasecmp(url, "http://", 7) == 0,
                     .body_max = ANSWER_MAX,
                     .deadline_ms = c->deadline};
    httpc_resp_t r = {0};
    src_result_t res = SRC_FAILED;
    if (form.oom)
        errmsg_set(c->why, c->whysz, "out of memory");
    else if (exchange(c, &q, &r, "STS"))
        res = sts_answer(c, &r);
    secret_free(token);
    secret_buf_free(&form);
    resp_wipe_free(&r);
    return res;
}

/* ---- 2. container credentials (EKS Pod Identity, ECS) ------------------------------------ */

static src_result_t container_creds(chain_t *c, const char *url)
{
    if (!awsproto_container_url_ok(url))
        return failed(c,
                      "container credential URL %s is neither https:// nor a loopback or "
                      "credential agent address",
                      url);
    char *token = NULL;
    const char *file = env_of(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    if (file && !(token = read_token_file(c, file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")))
        return SRC_FAILED;
    const char *direct = env_of(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    buf_t authz = BUF_INIT;
    if (token || direct)
        buf_printf(&authz, "Authorization: %s", token ? token : direct);
    httpc_req_t q = {.url = url,
                     .headers = {authz.data},
                     .allow_http = true,
                     .body_max = ANSWER_MAX,
                     .deadline_ms = c->deadline};
    httpc_resp_t r = {0};
    src_result_t res = SRC_FAILED;
    char why[200];
    if (authz.oom || strpbrk(authz.data ? authz.data : "", "\r\n"))
        errmsg_set(c->why, c->whysz, "container authorization token unusable");
    else if (!exchange(c, &q, &r, "credential endpoint"))
        ;
    else if (r.status != 200)
        errmsg_set(c->why, c->whysz, "credential endpoint answered HTTP %ld", r.status);
    else if (!awsproto_json_creds(body_of(&r), r.body.len, c->out, why, sizeof why))
        errmsg_set(c->why, c->whysz, "credential endpoint: %s", why);
    else
        res = SRC_OK;
    secret_free(token);
    secret_buf_free(&authz);
    resp_wipe_free(&r);
    return res;
}

static src_result_t pod_identity(chain_t *c)
{
    const char *full = env_of(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    return full ? container_creds(c, full) : SRC_UNSET;
}

static src_result_t ecs(chain_t *c)
{
    const char *rel = env_of(c, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (!rel)
        return SRC_UNSET;
    char url[512];
    if ((size_t)snprintf(url, sizeof url, "http://169.254.170.2%s%s", rel[0] == '/' ? "" : "/",
                         rel) >= sizeof url)
        return failed(c, "%s is too long", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    return container_creds(c, url);
}

/* ---- 3. static keys ---------------------------------------------------------------------- */

static src_result_t static_keys(chain_t *c)
{
    const char *id = env_of(c, "AWS_ACCESS_KEY_ID"), *secret = env_of(c, "AWS_SECRET_ACCESS_KEY");
    const char *token = env_of(c, "AWS_SESSION_TOKEN");
    if (!id && !secret)
        return SRC_UNSET;
    if (!id || !secret)
        return failed(c, "%s is set without the other (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
                      id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
    if (strpbrk(id, " \r\n") || strpbrk(secret, " \r\n") || (token && strpbrk(token, " \r\n")))
        return failed(c, "%s",
                      "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN "
                      "holds white space");
    c->out->access_key_id = strdup(id);
    c->out->secret_access_key = strdup(secret);
    c->out->session_token = token ? strdup(token) : NULL;
    c->out->expires = 0;
    if (!c->out->access_key_id || !c->out->secret_access_key || (token && !c->out->session_token)) {
        awsproto_creds_free(c->out);
        return failed(c, "%s", "out of memory");
    }
    return SRC_OK;
}

/* ---- 4. IMDSv2 ------------------------------------------------------------------------------ */

/* One IMDS request, bounded by IMDS_REQUEST_MS as well as the deadline. */
static bool imds_ask(chain_t *c, const char *url, httpc_method_t m, const char *hdr,
                     httpc_resp_t *r)
{
    uint64_t cap = clock_mono_ms() + IMDS_REQUEST_MS;
    httpc_req_t q = {.url = url,
                     .method = m,
                     .headers = {hdr},
                     .allow_http = true,
                     .body_max = ANSWER_MAX,
                     .deadline_ms = cap < c->deadline ? cap : c->deadline};
    if (!exchange(c, &q, r, "IMDS"))
        return false;
    if (r->status == 200)
        return true;
    errmsg_set(c->why, c->whysz, "IMDS answered HTTP %ld to %s%s", r->status,
               m == HTTPC_PUT ? "the session token request" : "the role credentials request",
               r->status == 404 && m != HTTPC_PUT ? " (no IAM role on the instance?)" : "");
    return false;
}

/* The role name (first line of the listing) into role. */
static bool imds_role(chain_t *c, const char *body, char *role, size_t rolesz)
{
    size_t n = strcspn(body, "\r\n");
    bool ok = n > 0 && n < rolesz;
    for (size_t i = 0; i < n && ok; i++)
        ok = (body[i] >= 'a' && body[i] <= 'z') || (body[i] >= 'A' && body[i] <= 'Z') ||
             (body[i] >= '0' && body[i] <= '9') || strchr("+=,.@_-", body[i]);
    if (!ok) {
        errmsg_set(c->why, c->whysz, "IMDS listed no usable IAM role name");
        return false;
    }
    memcpy(role, body, n);
    role[n] = '\0';
    return true;
}

static src_result_t imds(chain_t *c)
{
    const char *off = env_of(c, "AWS_EC2_METADATA_DISABLED");
    if (off && strcasecmp(off, "true") == 0)
        return SRC_UNSET;
    const char *ep = env_of(c, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = env_of(c, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    if (!ep)
        ep = mode && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]"
                                                   : "http://169.254.169.254";
    size_t el = strlen(ep);
    while (el && ep[el - 1] == '/')
        el--;
    char url[640], hdr[160], role[130];
    httpc_resp_t r = {0};
    src_result_t res = SRC_FAILED;
    snprintf(url, sizeof url, "%.*s/latest/api/token", (int)el, ep);
    if (el > 400 ||
        !imds_ask(c, url, HTTPC_PUT, "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL, &r))
        goto out;
    const char *tok = body_of(&r);
    if (!*tok || strlen(tok) > 100 || strpbrk(tok, " \r\n")) {
        errmsg_set(c->why, c->whysz, "IMDS sent no usable session token");
        goto out;
    }
    snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token: %s", tok);
    resp_wipe_free(&r);
    snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/", (int)el, ep);
    if (!imds_ask(c, url, HTTPC_GET, hdr, &r) || !imds_role(c, body_of(&r), role, sizeof role))
        goto out;
    resp_wipe_free(&r);
    snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/%s", (int)el, ep,
             role);
    char why[200];
    if (!imds_ask(c, url, HTTPC_GET, hdr, &r))
        goto out;
    if (!awsproto_json_creds(body_of(&r), r.body.len, c->out, why, sizeof why))
        errmsg_set(c->why, c->whysz, "IMDS: %s", why);
    else
        res = SRC_OK;
out:
    OPENSSL_cleanse(hdr, sizeof hdr); /* a store the compiler cannot drop */
    resp_wipe_free(&r);
    return res;
}

/* ---- the chain ------------------------------------------------------------------------------- */

bool awsident_get(httpc_t *http, cloudcred_getenv_fn env, const char *region_hint,
                  uint64_t deadline_ms, awsproto_creds_t *out, char *source, size_t sourcesz,
                  char *why, size_t whysz)
{
    static const struct {
        const char *name;
        src_result_t (*fn)(chain_t *);
    } chain[] = {
        {AWSIDENT_WEB_IDENTITY, web_identity},
        {AWSIDENT_POD_IDENTITY, pod_identity},
        {AWSIDENT_ECS, ecs},
        {AWSIDENT_STATIC_KEYS, static_keys},
        {AWSIDENT_IMDS, imds},
    };
    memset(out, 0, sizeof *out);
    chain_t c = {http, env, region_hint, deadline_ms, out, why, whysz};
    for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
        src_result_t r = chain[i].fn(&c);
        if (r == SRC_UNSET)
            continue;
        errmsg_set(source, sourcesz, "%s", chain[i].name);
        return r == SRC_OK;
    }
    errmsg_set(source, sourcesz, "%s", AWSIDENT_NONE);
    errmsg_set(why, whysz,
               "no AWS credentials found (no web identity, container credentials or static keys "
               "in the environment, and AWS_EC2_METADATA_DISABLED is true)");
    return false;
}
