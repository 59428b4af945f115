/* admission: AdmissionReview parsing and response encoding (see admission.h). */
#include "admission.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonout.h"
#include "jsonscan.h"

#define V1      "admission.k8s.io/v1"
#define V1BETA1 "admission.k8s.io/v1beta1"

/* The string member `key` of `obj`, NULL when absent or not a string. */
static const char *str_member(const cJSON *obj, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static bool fail(char *why, size_t whysz, const char *msg)
{
    snprintf(why, whysz, "%s", msg);
    return false;
}

/* The body as one JSON object in rv->root; false with a reason. */
static bool parse_body(const char *body, size_t len, review_t *rv, char *why, size_t whysz)
{
    /* What the API server sends is JSON text: well-formed UTF-8 with no
     * control characters outside escapes. Anything else would be read
     * differently here (cJSON skips control bytes as blanks) and echoed in
     * a form the server reads differently (Go replaces invalid UTF-8). */
    size_t bad = 0;
    if (!json_text_ok(body, len, &bad)) {
        snprintf(why, whysz,
                 "request body is not JSON text: invalid UTF-8 or a control character at byte %zu",
                 bad);
        return false;
    }
    /* The tree costs about 80 bytes a value whatever the value's size: the
     * values are counted before it is built, so that 3 MiB of "[0,0,...]"
     * cannot take 100 MiB. The count is at most one more than the bytes
     * (one per '{', '[' or ','), so a body shorter than the limit cannot
     * pass it and is not scanned. */
    size_t values = len >= ADMISSION_MAX_VALUES ? json_count_values(body, len) : 0;
    if (values > ADMISSION_MAX_VALUES) {
        snprintf(why, whysz,
                 "request body holds %zu JSON values; at most %u are read (a pod that can be "
                 "stored holds far fewer)",
                 values, ADMISSION_MAX_VALUES);
        return false;
    }
    const char *end = NULL;
    rv->root = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!rv->root) {
        snprintf(why, whysz, "request body is not valid JSON (near byte %zu)",
                 end && end >= body ? (size_t)(end - body) : (size_t)0);
        return false;
    }
    for (; end && (size_t)(end - body) < len; end++)
        if (!isspace((unsigned char)*end))
            return fail(why, whysz, "request body has data after the JSON value");
    if (!cJSON_IsObject(rv->root))
        return fail(why, whysz, "request body is not a JSON object");
    return true;
}

/* The review's kind, apiVersion, request and uid: the request object, or
 * NULL with a reason. */
static const cJSON *read_envelope(review_t *rv, char *why, size_t whysz)
{
    const cJSON *root = rv->root;
    const char *api = str_member(root, "apiVersion"), *kind = str_member(root, "kind");
    if (!kind || strcmp(kind, "AdmissionReview") != 0) {
        fail(why, whysz, "not an AdmissionReview: kind must be \"AdmissionReview\"");
        return NULL;
    }
    if (api && strcmp(api, V1) == 0)
        rv->api_version = V1;
    else if (api && strcmp(api, V1BETA1) == 0)
        rv->api_version = V1BETA1;
    else {
        fail(why, whysz,
             "unsupported apiVersion: expected admission.k8s.io/v1 or admission.k8s.io/v1beta1");
        return NULL;
    }
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(root, "request");
    if (!cJSON_IsObject(req)) {
        fail(why, whysz, "AdmissionReview has no \"request\" object");
        return NULL;
    }
    rv->uid = str_member(req, "uid");
    if (!rv->uid || !*rv->uid) {
        fail(why, whysz, "AdmissionReview request has no \"uid\" string");
        return NULL;
    }
    return req;
}

/* What is asked: the operation, dry run, whether it is a Pod CREATE, and
 * the namespace and name for logs. */
static void read_request(review_t *rv, const cJSON *req)
{
    const char *op = str_member(req, "operation");
    rv->operation = op ? op : "";
    const cJSON *dry = cJSON_GetObjectItemCaseSensitive(req, "dryRun");
    rv->dry_run = cJSON_IsTrue(dry);

    const cJSON *gvk = cJSON_GetObjectItemCaseSensitive(req, "kind");
    const cJSON *gvr = cJSON_GetObjectItemCaseSensitive(req, "resource");
    const char *group = str_member(gvk, "group"), *version = str_member(gvk, "version"),
               *k = str_member(gvk, "kind");
    const char *res = str_member(gvr, "resource"), *sub = str_member(req, "subResource");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(req, "object");
    bool pod_kind = k && strcmp(k, "Pod") == 0 && (!group || !*group) &&
                    (!version || strcmp(version, "v1") == 0);
    bool pod_resource = !gvr || (res && strcmp(res, "pods") == 0);
    rv->is_pod_create = pod_kind && pod_resource && (!sub || !*sub) &&
                        strcmp(rv->operation, "CREATE") == 0 && cJSON_IsObject(obj);
    rv->pod = rv->is_pod_create ? obj : NULL;

    const cJSON *meta =
        cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, "metadata") : NULL;
    const char *ns = str_member(req, "namespace");
    if (!ns || !*ns)
        ns = str_member(meta, "namespace");
    rv->namespace_ = ns ? ns : "";
    const char *name = str_member(req, "name");
    if (!name || !*name)
        name = str_member(meta, "name");
    if (!name || !*name)
        name = str_member(meta, "generateName");
    rv->name = name ? name : "";
}

bool admission_parse(const char *body, size_t len, review_t *rv, char *why, size_t whysz)
{
    memset(rv, 0, sizeof *rv);
    const cJSON *req = NULL;
    if (!parse_body(body, len, rv, why, whysz) || !(req = read_envelope(rv, why, whysz))) {
        review_free(rv);
        return false;
    }
    read_request(rv, req);
    return true;
}

void review_free(review_t *rv)
{
    cJSON_Delete(rv->root);
    memset(rv, 0, sizeof *rv);
}

void review_drop(review_t *rv)
{
    memset(rv, 0, sizeof *rv);
}

static const char *status_reason(int code)
{
    switch (code) {
    case 400:
        return "BadRequest";
    case 403:
        return "Forbidden";
    default:
        return "Invalid";
    }
}

/* The response object's members after "allowed": the denial's status, the
 * patch, the audit annotations and the warnings. */
static bool put_response_tail(buf_t *b, const decision_t *d)
{
    if (d->outcome == OUTCOME_DENIED) {
        buf_puts(b, ",\"status\":{\"status\":\"Failure\",\"message\":");
        json_put_str(b, d->message ? d->message : "denied");
        buf_puts(b, ",\"reason\":\"");
        buf_puts(b, status_reason(d->code));
        buf_puts(b, d->code == 400 ? "\",\"code\":400}" : "\",\"code\":403}");
    }
    if (d->outcome == OUTCOME_MUTATED && d->patch_json && d->n_ops) {
        /* standard base64 with padding (what Go's []byte JSON encoding
         * expects), made with the patch (patch.c): a JSON string as it is */
        if (!d->patch_b64)
            return false;
        buf_puts(b, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
        buf_puts(b, d->patch_b64);
        buf_putc(b, '"');
    }
    if (d->audit_json && strcmp(d->audit_json, "{}") != 0) {
        buf_puts(b, ",\"auditAnnotations\":");
        buf_puts(b, d->audit_json);
    }
    for (size_t i = 0; i < d->n_warnings; i++) {
        buf_puts(b, i ? "," : ",\"warnings\":[");
        json_put_str(b, d->warnings[i]);
    }
    if (d->n_warnings)
        buf_putc(b, ']');
    return buf_puts(b, "}}");
}

/* The AdmissionReview answering `rv` with `d`, written as JSON text
 * straight into `b`: byte for byte what cJSON prints for the same tree. */
static bool put_response(buf_t *b, const review_t *rv, const decision_t *d)
{
    if (!rv->api_version || !rv->uid)
        return false;
    buf_reserve(b, (d->patch_b64 ? strlen(d->patch_b64) : 0) +
                       (d->audit_json ? strlen(d->audit_json) : 0) + 512);
    buf_puts(b, "{\"apiVersion\":");
    json_put_str(b, rv->api_version);
    buf_puts(b, ",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
    json_put_str(b, rv->uid);
    buf_puts(b, d->outcome != OUTCOME_DENIED ? ",\"allowed\":true" : ",\"allowed\":false");
    return put_response_tail(b, d) && !b->oom;
}

bool admission_respond(const policy_t *policy, const review_t *rv, const wh_checks_t *checks,
                       admission_response_t *out)
{
    memset(out, 0, sizeof *out);
    decision_t *d = &out->decision;
    if (rv->is_pod_create) {
        if (!decide_with(policy, rv->pod, checks, &rv->opts, d))
            return false;
    } else {
        d->outcome = OUTCOME_ALLOWED;
    }
    buf_t b = BUF_INIT;
    if (!put_response(&b, rv, d)) {
        buf_free(&b);
        admission_response_free(out);
        return false;
    }
    out->len = b.len;
    out->body = buf_steal(&b);
    return true;
}

void admission_response_free(admission_response_t *r)
{
    free(r->body);
    decision_free(&r->decision);
    memset(r, 0, sizeof *r);
}

cJSON *admission_wrap_pod(cJSON *pod, const char *uid, bool dry_run)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *req = NULL;
    if (!root || !cJSON_AddStringToObject(root, "apiVersion", V1) ||
        !cJSON_AddStringToObject(root, "kind", "AdmissionReview") ||
        !(req = cJSON_AddObjectToObject(root, "request"))) {
        cJSON_Delete(root);
        cJSON_Delete(pod);
        return NULL;
    }
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
    const char *ns = str_member(meta, "namespace"), *name = str_member(meta, "name");
    cJSON_AddStringToObject(req, "uid", uid ? uid : "00000000-0000-0000-0000-000000000000");
    cJSON *k = cJSON_AddObjectToObject(req, "kind");
    cJSON_AddStringToObject(k, "group", "");
    cJSON_AddStringToObject(k, "version", "v1");
    cJSON_AddStringToObject(k, "kind", "Pod");
    cJSON *r = cJSON_AddObjectToObject(req, "resource");
    cJSON_AddStringToObject(r, "group", "");
    cJSON_AddStringToObject(r, "version", "v1");
    cJSON_AddStringToObject(r, "resource", "pods");
    if (name)
        cJSON_AddStringToObject(req, "name", name);
    cJSON_AddStringToObject(req, "namespace", ns ? ns : "default");
    cJSON_AddStringToObject(req, "operation", "CREATE");
    cJSON_AddItemToObject(req, "userInfo", cJSON_CreateObject());
    if (!cJSON_AddItemToObject(req, "object", pod)) {
        cJSON_Delete(pod);
        cJSON_Delete(root);
        return NULL;
    }
    cJSON_AddNullToObject(req, "oldObject");
    cJSON_AddBoolToObject(req, "dryRun", dry_run);
    cJSON *opts = cJSON_AddObjectToObject(req, "options");
    cJSON_AddStringToObject(opts, "kind", "CreateOptions");
    cJSON_AddStringToObject(opts, "apiVersion", "meta.k8s.io/v1");
    return root;
}
