/* certgen: the `certgen` command (see certgen.h): its options, the Secret
 * kept or replaced, the caBundle patched; the API through kubeapi.c, the
 * decisions in certplan.c, the certificates from certmake.c. */
#include "certgen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "certmake.h"
#include "certplan.h"
#include "errmsg.h"
#include "k8sname.h"
#include "kubeapi.h"

#define ATTEMPTS      3
#define FIELD_MANAGER "fieldManager=imagebuilder-webhook-certgen"

typedef struct {
    const char *ns, *secret, *service, *mwc;
    kubeapi_options_t api;
    char names[CERTPLAN_NAMES][CERTPLAN_NAME_MAX];
    const char *name_list[CERTPLAN_NAMES];
} opts_t;

/* One line on standard error: "imagebuilder-webhook certgen: error: ...",
 * line breaks of quoted API messages flattened. Returns 1 (the exit code). */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "imagebuilder-webhook certgen: error: %s\n", msg);
    return 1;
}

static int usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "imagebuilder-webhook certgen: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(run 'imagebuilder-webhook certgen --help' for usage)\n");
    return 2;
}

/* ---- options ------------------------------------------------------------------------ */

static const char help[] =
    "usage: imagebuilder-webhook certgen --namespace NS --secret NAME --service SVC\n"
    "           [--webhook-configuration NAME] [--kubeconfig FILE] [--api-server URL]\n"
    "           [--token-file FILE] [--ca-file FILE] [--timeout-ms N]\n"
    "\n"
    "Keeps a CA and a serving certificate for the Service SVC (SVC, SVC.NS, SVC.NS.svc,\n"
    "SVC.NS.svc.cluster.local) in the kubernetes.io/tls Secret NAME of namespace NS:\n"
    "made when the Secret is absent, when its certificate expires within 30 days or\n"
    "does not name the Service, left alone otherwise. --webhook-configuration writes\n"
    "its ca.crt into the caBundle of every webhook of that MutatingWebhookConfiguration.\n"
    "\n"
    "The API: the in-cluster service account (" KUBEAPI_SA_DIR "),\n"
    "else --kubeconfig's current context; --api-server overrides the address.\n"
    "--token-file and --ca-file replace the service account's files. Each API call\n"
    "ends within --timeout-ms (default 10000).\n";

/* Parses the options into o; 0, or the exit code of a usage error or --help (-1). */
static int parse(int argc, char **argv, opts_t *o)
{
    struct {
        const char *flag;
        const char **slot;
    } flags[] = {{"--namespace", &o->ns},
                 {"--secret", &o->secret},
                 {"--service", &o->service},
                 {"--webhook-configuration", &o->mwc},
                 {"--kubeconfig", &o->api.kubeconfig},
                 {"--api-server", &o->api.api_server},
                 {"--token-file", &o->api.token_file},
                 {"--ca-file", &o->api.ca_file}};
    const char *timeout = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            return -1;
        }
        const char **slot = strcmp(argv[i], "--timeout-ms") == 0 ? &timeout : NULL;
        for (size_t f = 0; !slot && f < sizeof flags / sizeof flags[0]; f++)
            if (strcmp(argv[i], flags[f].flag) == 0)
                slot = flags[f].slot;
        if (!slot)
            return usage("unknown argument '%s'", argv[i]);
        if (i + 1 >= argc || !argv[i + 1][0])
            return usage("%s needs a value", argv[i]);
        *slot = argv[++i];
    }
    if (!o->ns || !o->secret || !o->service)
        return usage("%s", "--namespace, --secret and --service are required");
    char *end = NULL;
    unsigned long t = timeout ? strtoul(timeout, &end, 10) : 10000;
    if (timeout && (*end || t < 100 || t > 600000))
        return usage("--timeout-ms '%s': use a number of milliseconds from 100 to 600000", timeout);
    o->api.timeout_ms = (unsigned)t;
    return 0;
}

/* The names must be what the API server accepts (they also go into URLs as they are). */
static int check_names(opts_t *o)
{
    if (!k8s_dns_label(o->ns, strlen(o->ns)))
        return usage("--namespace '%s' is not a namespace name (a DNS label)", o->ns);
    if (!k8s_dns_subdomain(o->secret, strlen(o->secret)))
        return usage("--secret '%s' is not a Secret name (a DNS subdomain)", o->secret);
    if (!k8s_dns_label(o->service, strlen(o->service)))
        return usage("--service '%s' is not a Service name (a DNS label)", o->service);
    if (o->mwc && !k8s_dns_subdomain(o->mwc, strlen(o->mwc)))
        return usage("--webhook-configuration '%s' is not an object name (a DNS subdomain)",
                     o->mwc);
    if (!certplan_names(o->service, o->ns, o->names))
        return usage("%s", "the Service and namespace do not make DNS names");
    for (size_t i = 0; i < CERTPLAN_NAMES; i++)
        o->name_list[i] = o->names[i];
    return 0;
}

/* ---- the API calls ------------------------------------------------------------------- */

static const char *const method_names[] = {"get", "create", "update", "patch"};

/* One call; false (with the failure reported) when the API did not answer. */
static bool call(kubeapi_t *k, kubeapi_method_t m, const char *what, const char *path,
                 const char *ctype, const cJSON *body, kubeapi_resp_t *r)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    char err[512] = "";
    memset(r, 0, sizeof *r);
    bool ok = (!body || text) && kubeapi_call(k, m, path, ctype, text, r, err, sizeof err);
    if (text) {
        memset(text, 0, strlen(text)); /* it may hold the key */
        cJSON_free(text);
    }
    if (!ok)
        fail("%s %s: %s", method_names[m], what, *err ? err : "out of memory");
    return ok;
}

/* An answer that is not the one hoped for, as the failure line. */
static bool refused(kubeapi_method_t m, const char *what, const kubeapi_resp_t *r)
{
    char reason[400];
    kubeapi_reason(r, reason, sizeof reason);
    const char *hint = r->status == 401   ? " (the token was not accepted)"
                       : r->status == 403 ? " (the service account may not do this: check its "
                                            "Role and ClusterRole)"
                                          : "";
    fail("%s %s: HTTP %ld: %s%s", method_names[m], what, r->status, reason, hint);
    return false;
}

/* The body of a 200 answer as JSON; NULL (reported) when it is not. */
static cJSON *body_json(kubeapi_method_t m, const char *what, const kubeapi_resp_t *r)
{
    cJSON *v = r->body.data ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
    if (!cJSON_IsObject(v)) {
        cJSON_Delete(v);
        fail("%s %s: the answer is not a JSON object", method_names[m], what);
        return NULL;
    }
    return v;
}

/* ---- the Secret -------------------------------------------------------------------------- */

typedef enum { GOT_ERROR, GOT_NONE, GOT_SECRET } got_t;

/* GET the Secret: GOT_SECRET with *out, GOT_NONE on 404, GOT_ERROR (reported). */
static got_t get_secret(kubeapi_t *k, const opts_t *o, const char *what, cJSON **out)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/secrets/%s", o->ns, o->secret);
    kubeapi_resp_t r;
    if (!call(k, KUBEAPI_GET, what, path, NULL, NULL, &r))
        return GOT_ERROR;
    got_t got = GOT_ERROR;
    if (r.status == 404)
        got = GOT_NONE;
    else if (r.status != 200)
        refused(KUBEAPI_GET, what, &r);
    else if ((*out = body_json(KUBEAPI_GET, what, &r)))
        got = GOT_SECRET;
    kubeapi_resp_free(&r);
    return got;
}

/* Whether the Secret read can stay; when it can, its ca.crt in *ca. */
static bool keep_secret(const opts_t *o, const cJSON *s, const char *what, char **ca, char *why,
                        size_t whysz)
{
    certplan_pems_t p;
    int64_t not_after = 0;
    if (!certplan_read_secret(s, &p, why, whysz))
        return false;
    bool keep = certplan_usable(&p, o->name_list, CERTPLAN_NAMES, (int64_t)time(NULL),
                                (int64_t)CERTGEN_RENEW_DAYS * 86400, &not_after, why, whysz);
    if (keep) {
        char when[32];
        time_t t = (time_t)not_after;
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        printf("certgen: %s kept: its certificate names %s and is valid until %s\n", what,
               o->names[2], when);
        *ca = p.ca;
        p.ca = NULL;
    }
    certplan_pems_free(&p);
    return keep;
}

/* Creates (cur NULL) or updates the Secret with new certificates. 1 done
 * (*ca set), 0 conflict (read again), -1 failed (reported). */
static int write_secret(kubeapi_t *k, const opts_t *o, cJSON *cur, const char *what,
                        const char *why, char **ca)
{
    certplan_pems_t p;
    char err[256];
    if (!certmake_issue(o->name_list, CERTPLAN_NAMES, (int64_t)time(NULL), &p, err, sizeof err)) {
        fail("%s: %s", what, err);
        return -1;
    }
    kubeapi_method_t m = cur ? KUBEAPI_PUT : KUBEAPI_POST;
    cJSON *body = cur ? (certplan_update_secret(cur, &p) ? cur : NULL)
                      : certplan_new_secret(o->ns, o->secret, &p);
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/secrets%s%s?" FIELD_MANAGER, o->ns,
             cur ? "/" : "", cur ? o->secret : "");
    kubeapi_resp_t r = {0};
    int rc = -1;
    if (!body)
        fail("%s: out of memory", what);
    else if (call(k, m, what, path, "application/json", body, &r)) {
        if (r.status == 200 || r.status == 201) {
            printf("certgen: %s %s (%s): a new CA and a certificate for %s, valid for %d days\n",
                   what, cur ? "renewed" : "created", why, o->names[2], CERTMAKE_LEAF_DAYS);
            *ca = p.ca;
            p.ca = NULL;
            rc = 1;
        } else if (r.status == 409) {
            rc = 0;
        } else {
            refused(m, what, &r);
        }
    }
    if (body != cur)
        cJSON_Delete(body);
    kubeapi_resp_free(&r);
    certplan_pems_free(&p);
    return rc;
}

static void type_of(const cJSON *s, const char **type)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
    *type = cJSON_IsString(t) ? t->valuestring : "";
}

/* The Secret made right; its ca.crt in *ca. False when that failed (reported). */
static bool ensure_secret(kubeapi_t *k, const opts_t *o, char **ca)
{
    char what[400];
    snprintf(what, sizeof what, "Secret %s/%s", o->ns, o->secret);
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        cJSON *cur = NULL;
        got_t got = get_secret(k, o, what, &cur);
        if (got == GOT_ERROR)
            return false;
        char why[256] = "it did not exist";
        const char *type = "";
        type_of(cur, &type);
        if (got == GOT_SECRET && strcmp(type, "kubernetes.io/tls") != 0) {
            fail("%s has type \"%s\", not kubernetes.io/tls, and a Secret's type cannot change: "
                 "delete it and run again",
                 what, type);
            cJSON_Delete(cur);
            return false;
        }
        if (got == GOT_SECRET && keep_secret(o, cur, what, ca, why, sizeof why)) {
            cJSON_Delete(cur);
            return true;
        }
        int rc = write_secret(k, o, cur, what, why, ca);
        cJSON_Delete(cur);
        if (rc != 0)
            return rc > 0;
    }
    fail("%s changed under every one of %d attempts (409 Conflict); run again", what, ATTEMPTS);
    return false;
}

/* ---- the caBundle -------------------------------------------------------------------------- */

/* 1 done, 0 the webhooks changed meanwhile (read again), -1 failed (reported). */
static int patch_once(kubeapi_t *k, const char *path, const char *what, const char *ca)
{
    kubeapi_resp_t r;
    if (!call(k, KUBEAPI_GET, what, path, NULL, NULL, &r))
        return -1;
    cJSON *mwc = r.status == 200 ? body_json(KUBEAPI_GET, what, &r) : NULL;
    if (r.status != 200)
        refused(KUBEAPI_GET, what, &r);
    kubeapi_resp_free(&r);
    if (!mwc)
        return -1;
    cJSON *patch = NULL;
    size_t changed = 0, total = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(mwc, "webhooks"));
    char why[128];
    bool ok = certplan_cabundle_patch(mwc, ca, &patch, &changed, why, sizeof why);
    cJSON_Delete(mwc);
    if (!ok) {
        fail("%s: %s", what, why);
        return -1;
    }
    if (!patch) {
        printf("certgen: %s: every webhook's caBundle holds the CA already; unchanged\n", what);
        return 1;
    }
    char ppath[600];
    snprintf(ppath, sizeof ppath, "%s?" FIELD_MANAGER, path);
    int rc = -1;
    if (call(k, KUBEAPI_PATCH, what, ppath, "application/json-patch+json", patch, &r)) {
        if (r.status == 200) {
            printf("certgen: %s: caBundle written to %zu of %zu webhooks\n", what, changed, total);
            rc = 1;
        } else if (r.status == 409 || r.status == 422) {
            rc = 0;
        } else {
            refused(KUBEAPI_PATCH, what, &r);
        }
        kubeapi_resp_free(&r);
    }
    cJSON_Delete(patch);
    return rc;
}

static bool patch_webhooks(kubeapi_t *k, const char *name, const char *ca)
{
    char path[400], what[400];
    snprintf(path, sizeof path,
             "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/%s", name);
    snprintf(what, sizeof what, "MutatingWebhookConfiguration %s", name);
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        int rc = patch_once(k, path, what, ca);
        if (rc != 0)
            return rc > 0;
    }
    fail("%s: its webhooks changed under every one of %d attempts; run again", what, ATTEMPTS);
    return false;
}

/* ---- the command ------------------------------------------------------------------------------
 */

int certgen_main(int argc, char **argv)
{
    opts_t o = {0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = check_names(&o)))
        return rc;
    char err[512] = "";
    kubeapi_t *k = kubeapi_new(&o.api, err, sizeof err);
    if (!k)
        return fail("%s", err);
    char *ca = NULL;
    bool ok = ensure_secret(k, &o, &ca) && (!o.mwc || patch_webhooks(k, o.mwc, ca));
    free(ca);
    kubeapi_free(k);
    if (fflush(stdout) != 0)
        return fail("cannot write to standard output");
    return ok ? 0 : 1;
}
