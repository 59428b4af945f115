/* certmake: the CA and the serving certificate certgen stores (see
 * certmake.h), built with OpenSSL's X509 and EVP interfaces. */
#include "certmake.h"

#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "errmsg.h"

#define SKEW_SECONDS 3600

static bool set_serial(X509 *x)
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return false;
    raw[0] &= 0x7f; /* positive */
    raw[0] |= 0x01; /* and not zero */
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = e && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

/* A certificate for `key` named `cn`, valid `days` from an hour before
 * now, with the extensions nids[i] = values[i]; signed by issuer_key
 * (issuer NULL: self-signed). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, int64_t now, long days, X509 *issuer,
                       EVP_PKEY *issuer_key, const int *nids, const char *const *values,
                       size_t n_ext)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    bool ok = x && name && X509_set_version(x, 2) && set_serial(x) &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                         -1, 0) &&
              X509_set_subject_name(x, name) &&
              X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) &&
              ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - SKEW_SECONDS)) &&
              ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + days * 86400L)) &&
              X509_set_pubkey(x, key);
    for (size_t i = 0; ok && i < n_ext; i++)
        ok = add_ext(x, issuer ? issuer : x, nids[i], values[i]);
    ok = ok && X509_sign(x, issuer_key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* PEM text of a certificate or (cert NULL) a private key, NUL-terminated. */
static char *pem_of(X509 *cert, EVP_PKEY *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    bool ok = b && (cert ? PEM_write_bio_X509(b, cert)
                         : PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL));
    char *data = NULL;
    long n = ok ? BIO_get_mem_data(b, &data) : 0;
    char *out = n > 0 ? strndup(data, (size_t)n) : NULL;
    if (n > 0 && data)
        OPENSSL_cleanse(data, (size_t)n);
    BIO_free(b);
    return out;
}

/* "DNS:a,DNS:b,..." */
static char *san_of(const char *const *names, size_t n)
{
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "%sDNS:%s", i ? "," : "", names[i]);
    if (b.oom) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

bool certmake_issue(const char *const *names, size_t n, int64_t now, certplan_pems_t *out,
                    char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    ERR_clear_error();
    char *san = san_of(names, n);
    EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    static const int ca_nids[] = {NID_basic_constraints, NID_key_usage, NID_subject_key_identifier};
    static const char *const ca_vals[] = {"critical,CA:TRUE,pathlen:0",
                                          "critical,keyCertSign,cRLSign,digitalSignature", "hash"};
    X509 *ca = san && ca_key && key ? make_cert(ca_key, "imagebuilder-webhook CA", now,
                                                CERTMAKE_CA_DAYS, NULL, ca_key, ca_nids, ca_vals, 3)
                                    : NULL;
    const int leaf_nids[] = {NID_basic_constraints,      NID_key_usage,
                             NID_ext_key_usage,          NID_subject_alt_name,
                             NID_subject_key_identifier, NID_authority_key_identifier};
    const char *const leaf_vals[] = {
        "critical,CA:FALSE", "critical,digitalSignature", "serverAuth", san, "hash",
        "keyid:always"};
    /* the common name is the first name (a DNS label: short enough for it) */
    X509 *leaf = ca && n ? make_cert(key, names[0], now, CERTMAKE_LEAF_DAYS, ca, ca_key, leaf_nids,
                                     leaf_vals, 6)
                         : NULL;
    bool ok = leaf && (out->cert = pem_of(leaf, NULL)) && (out->key = pem_of(NULL, key)) &&
              (out->ca = pem_of(ca, NULL));
    if (!ok) {
        unsigned long e = ERR_peek_last_error();
        errmsg_set(err, errsz, "cannot make the certificates: %s",
                   e ? ERR_reason_error_string(e) : "out of memory");
        certplan_pems_free(out);
    }
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    free(san);
    return ok;
}
