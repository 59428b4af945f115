/* certplan: certgen's decisions without I/O (see certplan.h): the Secret
 * read and judged with libcrypto, the objects and patches to send built
 * with cJSON. */
#include "certplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base64.h"
#include "errmsg.h"
#include "k8sname.h"
#include "secret.h"

#define TLS_SECRET_TYPE "kubernetes.io/tls"

static const char *const data_keys[3] = {"tls.crt", "tls.key", "ca.crt"};

void certplan_pems_free(certplan_pems_t *p)
{
    if (!p)
        return;
    free(p->cert);
    secret_free(p->key);
    free(p->ca);
    memset(p, 0, sizeof *p);
}

bool certplan_names(const char *svc, const char *ns, char names[CERTPLAN_NAMES][CERTPLAN_NAME_MAX])
{
    if (!k8s_dns_label(svc, strlen(svc)) || !k8s_dns_label(ns, strlen(ns)))
        return false;
    /* labels are at most 63 characters: every name fits */
    snprintf(names[0], CERTPLAN_NAME_MAX, "%s", svc);
    snprintf(names[1], CERTPLAN_NAME_MAX, "%s.%s", svc, ns);
    snprintf(names[2], CERTPLAN_NAME_MAX, "%s.%s.svc", svc, ns);
    snprintf(names[3], CERTPLAN_NAME_MAX, "%s.%s.svc.cluster.local", svc, ns);
    return true;
}

bool certplan_read_secret(const cJSON *secret, certplan_pems_t *out, char *why, size_t whysz)
{
    memset(out, 0, sizeof *out);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(secret, "data");
    char **slots[3] = {&out->cert, &out->key, &out->ca};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, data_keys[i]);
        if (!cJSON_IsString(v) || !*v->valuestring) {
            errmsg_set(why, whysz, "it has no %s", data_keys[i]);
            certplan_pems_free(out);
            return false;
        }
        size_t n = 0;
        *slots[i] =
            (char *)base64_decode(v->valuestring, strlen(v->valuestring), BASE64_SKIP_SPACE, &n);
        if (!*slots[i] || strlen(*slots[i]) != n) {
            errmsg_set(why, whysz, "its %s is not base64 of a PEM text", data_keys[i]);
            certplan_pems_free(out);
            return false;
        }
    }
    return true;
}

/* ---- judging the certificate -------------------------------------------------- */

static X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static EVP_PKEY *pem_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

/* notAfter as Unix seconds (0 when unreadable) and as text. */
static int64_t not_after_of(const X509 *x, char *text, size_t textsz)
{
    struct tm tm;
    const ASN1_TIME *t = X509_get0_notAfter(x);
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
        errmsg_set(text, textsz, "(unreadable)");
        return 0;
    }
    errmsg_set(text, textsz, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return (int64_t)timegm(&tm);
}

/* The checks in order, with the parsed objects; false with the reason. */
static bool judge(X509 *cert, EVP_PKEY *key, X509 *ca, const char *const *names, size_t n,
                  int64_t now, int64_t min_left, char *why, size_t whysz)
{
    if (X509_check_private_key(cert, key) != 1) {
        errmsg_set(why, whysz, "tls.key is not the key of tls.crt");
        return false;
    }
    EVP_PKEY *ca_pub = X509_get0_pubkey(ca);
    if (X509_check_issued(ca, cert) != X509_V_OK || !ca_pub || X509_verify(cert, ca_pub) != 1) {
        errmsg_set(why, whysz, "ca.crt did not issue tls.crt");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (X509_check_host(cert, names[i], strlen(names[i]),
                            X509_CHECK_FLAG_NO_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                            NULL) != 1) {
            errmsg_set(why, whysz, "the certificate does not name %s", names[i]);
            return false;
        }
    }
    const struct {
        X509 *x;
        const char *what;
    } dated[2] = {{cert, "the certificate"}, {ca, "the CA certificate"}};
    for (size_t i = 0; i < 2; i++) {
        char when[40];
        (void)not_after_of(dated[i].x, when, sizeof when);
        if (ASN1_TIME_cmp_time_t(X509_get0_notAfter(dated[i].x), (time_t)(now + min_left)) < 0) {
            errmsg_set(why, whysz, "%s expires at %s, within %lld days", dated[i].what, when,
                       (long long)(min_left / 86400));
            return false;
        }
    }
    return true;
}

bool certplan_usable(const certplan_pems_t *p, const char *const *names, size_t n, int64_t now,
                     int64_t min_left, int64_t *not_after, char *why, size_t whysz)
{
    X509 *cert = pem_cert(p->cert), *ca = pem_cert(p->ca);
    EVP_PKEY *key = pem_key(p->key);
    char when[40];
    *not_after = cert ? not_after_of(cert, when, sizeof when) : 0;
    bool ok = false;
    if (!cert)
        errmsg_set(why, whysz, "tls.crt is not a PEM certificate");
    else if (!key)
        errmsg_set(why, whysz, "tls.key is not a PEM private key");
    else if (!ca)
        errmsg_set(why, whysz, "ca.crt is not a PEM certificate");
    else
        ok = judge(cert, key, ca, names, n, now, min_left, why, whysz);
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(key);
    return ok;
}

/* ---- objects to send -------------------------------------------------------------- */

/* {"tls.crt": base64, "tls.key": base64, "ca.crt": base64}, or NULL. */
static cJSON *data_of(const certplan_pems_t *p)
{
    const char *pems[3] = {p->cert, p->key, p->ca};
    cJSON *data = cJSON_CreateObject();
    for (size_t i = 0; data && i < 3; i++) {
        char *b64 = pems[i] ? base64_encode(pems[i], strlen(pems[i])) : NULL;
        if (!b64 || !cJSON_AddStringToObject(data, data_keys[i], b64)) {
            cJSON_Delete(data);
            data = NULL;
        }
        secret_free(b64); /* the key's text */
    }
    return data;
}

cJSON *certplan_new_secret(const char *ns, const char *name, const certplan_pems_t *p)
{
    cJSON *s = cJSON_CreateObject();
    bool ok = s && cJSON_AddStringToObject(s, "apiVersion", "v1") &&
              cJSON_AddStringToObject(s, "kind", "Secret");
    cJSON *meta = ok ? cJSON_AddObjectToObject(s, "metadata") : NULL;
    cJSON *labels = meta ? cJSON_AddObjectToObject(meta, "labels") : NULL;
    ok = labels &&
         cJSON_AddStringToObject(labels, "app.kubernetes.io/managed-by",
                                 "imagebuilder-webhook-certgen") &&
         cJSON_AddStringToObject(meta, "name", name) &&
         cJSON_AddStringToObject(meta, "namespace", ns) &&
         cJSON_AddStringToObject(s, "type", TLS_SECRET_TYPE);
    cJSON *data = ok ? data_of(p) : NULL;
    if (!data || !cJSON_AddItemToObject(s, "data", data)) {
        cJSON_Delete(data);
        cJSON_Delete(s);
        return NULL;
    }
    return s;
}

bool certplan_update_secret(cJSON *secret, const certplan_pems_t *p)
{
    cJSON *data = data_of(p);
    if (!data)
        return false;
    cJSON_DeleteItemFromObjectCaseSensitive(secret, "stringData");
    if (cJSON_GetObjectItemCaseSensitive(secret, "data"))
        return cJSON_ReplaceItemInObjectCaseSensitive(secret, "data", data);
    if (cJSON_AddItemToObject(secret, "data", data))
        return true;
    cJSON_Delete(data);
    return false;
}

/* ---- the caBundle patch ------------------------------------------------------------ */

/* Appends {"op": op, "path": path, "value": value (consumed)} to ops. */
static bool add_op(cJSON *ops, const char *op, const char *path, cJSON *value)
{
    cJSON *o = cJSON_CreateObject();
    if (o && value && cJSON_AddStringToObject(o, "op", op) &&
        cJSON_AddStringToObject(o, "path", path) && cJSON_AddItemToObject(o, "value", value) &&
        cJSON_AddItemToArray(ops, o))
        return true;
    if (!cJSON_GetObjectItemCaseSensitive(o, "value"))
        cJSON_Delete(value);
    cJSON_Delete(o);
    return false;
}

/* The ops for webhook i (test its name, then set its caBundle). */
static bool bundle_ops(cJSON *ops, size_t i, const cJSON *wh, const char *b64)
{
    char path[96];
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(wh, "name");
    snprintf(path, sizeof path, "/webhooks/%zu/name", i);
    if (cJSON_IsString(name) && !add_op(ops, "test", path, cJSON_CreateString(name->valuestring)))
        return false;
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(wh, "clientConfig"))) {
        snprintf(path, sizeof path, "/webhooks/%zu/clientConfig/caBundle", i);
        return add_op(ops, "add", path, cJSON_CreateString(b64));
    }
    cJSON *cc = cJSON_CreateObject();
    snprintf(path, sizeof path, "/webhooks/%zu/clientConfig", i);
    if (!cc || !cJSON_AddStringToObject(cc, "caBundle", b64)) {
        cJSON_Delete(cc);
        return false;
    }
    return add_op(ops, "add", path, cc);
}

bool certplan_cabundle_patch(const cJSON *mwc, const char *ca_pem, cJSON **patch, size_t *changed,
                             char *why, size_t whysz)
{
    *patch = NULL;
    *changed = 0;
    const cJSON *whs = cJSON_GetObjectItemCaseSensitive(mwc, "webhooks");
    if (!cJSON_IsArray(whs) || cJSON_GetArraySize(whs) == 0) {
        errmsg_set(why, whysz, "it has no webhooks");
        return false;
    }
    char *b64 = base64_encode(ca_pem, strlen(ca_pem));
    cJSON *ops = cJSON_CreateArray();
    bool ok = b64 && ops;
    size_t i = 0;
    const cJSON *wh;
    cJSON_ArrayForEach(wh, whs)
    {
        const cJSON *cur = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(wh, "clientConfig"), "caBundle");
        if (ok && !(cJSON_IsString(cur) && strcmp(cur->valuestring, b64) == 0)) {
            ok = bundle_ops(ops, i, wh, b64);
            (*changed)++;
        }
        i++;
    }
    free(b64);
    if (!ok)
        errmsg_set(why, whysz, "out of memory");
    if (!ok || *changed == 0) {
        cJSON_Delete(ops);
        *changed = 0;
        return ok;
    }
    *patch = ops;
    return true;
}
