/* awscred: registry credentials from the AWS identity (see cloudcred.h):
 * the identity from awsident.c, then ECR GetAuthorizationToken (JSON 1.1
 * protocol, signed with Signature Version 4 in the registry's region) at
 * the ECR API endpoint of the registry's region and partition, or at
 * AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL. The token's "AWS:<password>" is
 * the registry's Basic credential.
 *
 * Caches: the identity's temporary credentials until 5 minutes before
 * their Expiration, and each ECR host's token until 5 minutes before its
 * expiresAt. One lookup at a time goes to the network (the others wait for
 * it, each until its own deadline, then read the cache). */
#include "cloudprov.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "awsident.h"
#include "awsproto.h"
#include "clock.h"
#include "errmsg.h"
#include "log.h"
#include "secret.h"
#include "sigv4.h"

#define REFRESH_MARGIN_S 300 /* refresh credentials this long before they expire */
#define ECR_HOSTS_MAX    16
#define ANSWER_MAX       (64 * 1024)
#define ECR_TARGET       "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
#define ECR_CONTENT_TYPE "application/x-amz-json-1.1"
#define SOURCE_MAX       32

typedef struct {
    char host[256]; /* without the port; "" when the slot is free */
    char *user, *pass;
    char source[SOURCE_MAX];
    uint64_t fresh_until; /* clock_mono_ms() */
} ecr_entry_t;

typedef struct {
    httpc_t *http;
    cloudcred_getenv_fn env;
    pthread_mutex_t mu;    /* the caches below */
    pthread_mutex_t fetch; /* one lookup on the network at a time */
    awsproto_creds_t ident;
    char ident_source[SOURCE_MAX];
    uint64_t ident_fresh_until; /* 0: nothing cached */
    ecr_entry_t ecr[ECR_HOSTS_MAX];
} awscred_t;

static int64_t unix_now(void)
{
    struct timespec ts;
    return clock_gettime(CLOCK_REALTIME, &ts) == 0 ? (int64_t)ts.tv_sec : 0;
}

/* The clock_mono_ms() instant REFRESH_MARGIN_S before `expires` (Unix
 * seconds); `now_mono` when that has passed already. */
static uint64_t fresh_until(int64_t expires, uint64_t now_mono)
{
    int64_t left = expires - REFRESH_MARGIN_S - unix_now();
    return left > 0 ? now_mono + (uint64_t)left * 1000u : now_mono;
}

static void *create(httpc_t *http, cloudcred_getenv_fn getenv_fn)
{
    awscred_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->http = http;
    a->env = getenv_fn;
    if (pthread_mutex_init(&a->mu, NULL) != 0) {
        free(a);
        return NULL;
    }
    if (pthread_mutex_init(&a->fetch, NULL) != 0) {
        pthread_mutex_destroy(&a->mu);
        free(a);
        return NULL;
    }
    return a;
}

static void destroy(void *state)
{
    awscred_t *a = state;
    if (!a)
        return;
    awsproto_creds_free(&a->ident);
    for (size_t i = 0; i < ECR_HOSTS_MAX; i++) {
        secret_free(a->ecr[i].user);
        secret_free(a->ecr[i].pass);
    }
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->fetch);
    free(a);
}

/* ---- caches ------------------------------------------------------------------------------ */

static bool ecr_cached(awscred_t *a, const char *host, dockercfg_cred_t *out, char *source,
                       size_t sourcesz)
{
    bool hit = false;
    uint64_t now = clock_mono_ms();
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < ECR_HOSTS_MAX && !hit; i++) {
        ecr_entry_t *e = &a->ecr[i];
        if (strcmp(e->host, host) != 0 || now >= e->fresh_until)
            continue;
        out->username = strdup(e->user);
        out->secret = strdup(e->pass);
        out->identity_token = false;
        hit = out->username && out->secret;
        if (!hit)
            dockercfg_cred_free(out);
        errmsg_set(source, sourcesz, "%s", e->source);
    }
    pthread_mutex_unlock(&a->mu);
    return hit;
}

/* Keeps (copies of) the token of `host`, in its slot or the stalest one. */
static void ecr_remember(awscred_t *a, const char *host, const char *user, const char *pass,
                         const char *source, uint64_t until)
{
    pthread_mutex_lock(&a->mu);
    ecr_entry_t *slot = &a->ecr[0];
    for (size_t i = 0; i < ECR_HOSTS_MAX; i++) {
        if (strcmp(a->ecr[i].host, host) == 0) {
            slot = &a->ecr[i];
            break;
        }
        if (a->ecr[i].fresh_until < slot->fresh_until)
            slot = &a->ecr[i];
    }
    secret_free(slot->user);
    secret_free(slot->pass);
    slot->user = strdup(user);
    slot->pass = strdup(pass);
    if (!slot->user || !slot->pass) {
        secret_free(slot->user);
        secret_free(slot->pass);
        slot->user = slot->pass = NULL;
        slot->host[0] = '\0';
        slot->fresh_until = 0;
    } else {
        snprintf(slot->host, sizeof slot->host, "%s", host);
        snprintf(slot->source, sizeof slot->source, "%s", source);
        slot->fresh_until = until;
    }
    pthread_mutex_unlock(&a->mu);
}

static bool copy_creds(awsproto_creds_t *dst, const awsproto_creds_t *src)
{
    memset(dst, 0, sizeof *dst);
    dst->access_key_id = strdup(src->access_key_id);
    dst->secret_access_key = strdup(src->secret_access_key);
    dst->session_token = src->session_token ? strdup(src->session_token) : NULL;
    dst->expires = src->expires;
    if (dst->access_key_id && dst->secret_access_key && (!src->session_token || dst->session_token))
        return true;
    awsproto_creds_free(dst);
    return false;
}

static void log_fetched(const char *what, const char *key, const char *val, const char *source,
                        int64_t expires)
{
    log_line_t *l = log_begin(LOG_INFO, what);
    log_str(l, key, val);
    log_str(l, "source", source);
    if (expires)
        log_int(l, "expiresInSeconds", expires - unix_now());
    log_end(l);
}

/* The identity's credentials: cached ones while fresh, else the chain's
 * (kept when they expire). */
static bool identity(awscred_t *a, const char *region, uint64_t deadline, awsproto_creds_t *out,
                     char *source, size_t sourcesz, char *why, size_t whysz)
{
    uint64_t now = clock_mono_ms();
    bool hit = false;
    pthread_mutex_lock(&a->mu);
    if (a->ident_fresh_until > now) {
        hit = copy_creds(out, &a->ident);
        errmsg_set(source, sourcesz, "%s", a->ident_source);
    }
    pthread_mutex_unlock(&a->mu);
    if (hit)
        return true;
    if (!awsident_get(a->http, a->env, region, deadline, out, source, sourcesz, why, whysz))
        return false;
    log_fetched("AWS credentials obtained", "region", region, source, out->expires);
    if (out->expires == 0) /* static keys: read from the environment each time */
        return true;
    pthread_mutex_lock(&a->mu);
    awsproto_creds_free(&a->ident);
    if (copy_creds(&a->ident, out)) {
        a->ident_fresh_until = fresh_until(out->expires, clock_mono_ms());
        snprintf(a->ident_source, sizeof a->ident_source, "%s", source);
    } else {
        a->ident_fresh_until = 0;
    }
    pthread_mutex_unlock(&a->mu);
    return true;
}

/* ---- ECR GetAuthorizationToken ----------------------------------------------------------------
 */

/* The signed request's header lines (into `lines`, NUL-separated) and
 * their pointers in q->headers. */
static bool sign_request(const awsproto_creds_t *id, const char *region, const char *hosthdr,
                         const char *path, const char *body, buf_t *lines, httpc_req_t *q)
{
    char date[17];
    if (!sigv4_amz_date(unix_now(), date))
        return false;
    sigv4_header_t h[] = {{"Content-Type", ECR_CONTENT_TYPE},
                          {"Host", hosthdr},
                          {"X-Amz-Date", date},
                          {"X-Amz-Target", ECR_TARGET},
                          {"X-Amz-Security-Token", id->session_token}};
    sigv4_request_t r = {.method = "POST",
                         .path = path,
                         .headers = h,
                         .n_headers = id->session_token ? 5 : 4,
                         .payload = body,
                         .payload_len = strlen(body),
                         .amz_date = date,
                         .region = region,
                         .service = "ecr",
                         .access_key = id->access_key_id,
                         .secret_key = id->secret_access_key};
    buf_t auth = BUF_INIT;
    if (!sigv4_authorization(&r, &auth))
        return false;
    size_t offs[6], n = 0;
    for (size_t i = 0; i < r.n_headers; i++) {
        offs[n++] = lines->len;
        buf_printf(lines, "%s: %s", h[i].name, h[i].value);
        buf_putc(lines, '\0');
    }
    offs[n++] = lines->len;
    buf_printf(lines, "Authorization: %s", auth.data);
    buf_free(&auth);
    if (lines->oom)
        return false;
    for (size_t i = 0; i < n; i++)
        q->headers[i] = lines->data + offs[i];
    return true;
}

static bool ecr_answer(const httpc_resp_t *r, char **user, char **pass, int64_t *expires, char *why,
                       size_t whysz)
{
    const char *body = r->body.data ? r->body.data : "";
    char detail[300];
    if (r->status == 200) {
        if (awsproto_ecr_token(body, r->body.len, user, pass, expires, detail, sizeof detail))
            return true;
        errmsg_set(why, whysz, "ECR GetAuthorizationToken: %s", detail);
        return false;
    }
    awsproto_json_error(body, r->body.len, detail, sizeof detail);
    errmsg_set(why, whysz, "ECR GetAuthorizationToken answered HTTP %ld%s%s", r->status,
               detail[0] ? ": " : "", detail);
    return false;
}

static bool ecr_token(awscred_t *a, const char *url, const char *region, const awsproto_creds_t *id,
                      uint64_t deadline, char **user, char **pass, int64_t *expires, char *why,
                      size_t whysz)
{
    char hosthdr[300], path[512];
    bool https = true;
    if (!awsproto_url_parts(url, hosthdr, sizeof hosthdr, path, sizeof path, &https)) {
        errmsg_set(why, whysz, "ECR endpoint URL %.200s is not usable", url);
        return false;
    }
    static const char body[] = "{}";
    buf_t lines = BUF_INIT;
    httpc_req_t q = {.url = url,
                     .method = HTTPC_POST,
                     .post = body,
                     .allow_http = !https,
                     .body_max = ANSWER_MAX,
                     .deadline_ms = deadline};
    httpc_resp_t r = {0};
    char err[200] = "";
    bool ok = false;
    if (!sign_request(id, region, hosthdr, path, body, &lines, &q))
        errmsg_set(why, whysz, "cannot sign the ECR request (out of memory?)");
    else if (httpc_perform(a->http, &q, &r, err, sizeof err) != HTTPC_OK)
        errmsg_set(why, whysz, "ECR GetAuthorizationToken: %s", err);
    else
        ok = ecr_answer(&r, user, pass, expires, why, whysz);
    secret_buf_free(&lines);
    secret_buf_free(&r.body);
    return ok;
}

/* ---- the provider -------------------------------------------------------------------------------
 */

/* Waits for the network lookup slot until `deadline`. */
static bool lock_until(pthread_mutex_t *m, uint64_t deadline)
{
    uint64_t now = clock_mono_ms();
    if (now >= deadline)
        return pthread_mutex_trylock(m) == 0;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return false;
    uint64_t left = deadline - now;
    ts.tv_sec += (time_t)(left / 1000u);
    ts.tv_nsec += (long)(left % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return pthread_mutex_timedlock(m, &ts) == 0;
}

/* The ECR token for `host` from the network, cached. Called with a->fetch held. */
static bool fetch(awscred_t *a, const char *host, const char *region, const char *api,
                  uint64_t deadline, dockercfg_cred_t *out, char *source, size_t sourcesz,
                  char *why, size_t whysz)
{
    awsproto_creds_t id;
    if (!identity(a, region, deadline, &id, source, sourcesz, why, whysz))
        return false;
    const char *conf =
        awsproto_configured_endpoint(a->env("AWS_ENDPOINT_URL_ECR"), a->env("AWS_ENDPOINT_URL"),
                                     a->env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"));
    char *user = NULL, *pass = NULL;
    int64_t expires = 0;
    bool ok =
        ecr_token(a, conf ? conf : api, region, &id, deadline, &user, &pass, &expires, why, whysz);
    awsproto_creds_free(&id);
    if (!ok)
        return false;
    log_fetched("ECR authorization token obtained", "registry", host, source, expires);
    if (expires)
        ecr_remember(a, host, user, pass, source, fresh_until(expires, clock_mono_ms()));
    out->username = user;
    out->secret = pass;
    out->identity_token = false;
    return true;
}

static bool get(void *state, const char *host, uint64_t deadline_ms, dockercfg_cred_t *out,
                char *source, size_t sourcesz, char *why, size_t whysz)
{
    awscred_t *a = state;
    char region[64], api[256], key[256];
    memset(out, 0, sizeof *out);
    if (!awsproto_ecr_api(host, region, sizeof region, api, sizeof api)) {
        errmsg_set(why, whysz, "%.100s is not an Amazon ECR registry", host);
        return false;
    }
    snprintf(key, sizeof key, "%.*s", (int)strcspn(host, ":"), host);
    if (ecr_cached(a, key, out, source, sourcesz))
        return true;
    if (!lock_until(&a->fetch, deadline_ms)) {
        errmsg_set(source, sourcesz, "aws");
        errmsg_set(why, whysz, "a concurrent AWS credential lookup did not finish in time");
        return false;
    }
    bool ok = ecr_cached(a, key, out, source, sourcesz) ||
              fetch(a, key, region, api, deadline_ms, out, source, sourcesz, why, whysz);
    pthread_mutex_unlock(&a->fetch);
    return ok;
}

const cloudprov_t awscred_provider = {"aws", create, destroy, get};
