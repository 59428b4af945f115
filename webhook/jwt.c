/* jwt: RS256 signing and unverified claims of JSON Web Tokens (see jwt.h). */
#include "jwt.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base64.h"
#include "buf.h"
#include "errmsg.h"

/* ---- signing ------------------------------------------------------------------ */

/* A key file is never encrypted: refuse instead of asking for a passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static EVP_PKEY *read_rsa_key(const char *pem, size_t len, char *err, size_t errsz)
{
    if (len == 0 || len > JWT_MAX) {
        errmsg_set(err, errsz, "the private key is empty or too large");
        return NULL;
    }
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error(); /* nothing left on the thread's error queue */
    if (!k) {
        errmsg_set(err, errsz, "the private key is not an unencrypted PEM private key");
        return NULL;
    }
    if (EVP_PKEY_base_id(k) != EVP_PKEY_RSA) {
        EVP_PKEY_free(k);
        errmsg_set(err, errsz, "the private key is not an RSA key");
        return NULL;
    }
    return k;
}

/* The base64url RS256 signature of input[0..n) (caller frees). */
static char *sign_b64url(EVP_PKEY *k, const char *input, size_t n)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    size_t len = 0;
    char *out = NULL;
    if (ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
        EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)input, n) == 1 &&
        (sig = malloc(len)) != NULL &&
        EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input, n) == 1)
        out = base64url_encode(sig, len);
    free(sig);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return out;
}

static char *header_b64url(const char *kid)
{
    cJSON *h = cJSON_CreateObject();
    char *text = NULL, *out = NULL;
    if (h && cJSON_AddStringToObject(h, "alg", "RS256") &&
        cJSON_AddStringToObject(h, "typ", "JWT") &&
        (!kid || !kid[0] || cJSON_AddStringToObject(h, "kid", kid)))
        text = cJSON_PrintUnformatted(h);
    if (text)
        out = base64url_encode(text, strlen(text));
    cJSON_free(text);
    cJSON_Delete(h);
    return out;
}

char *jwt_sign_rs256(const char *kid, const char *claims, const char *pem, size_t pem_len,
                     char *err, size_t errsz)
{
    EVP_PKEY *k = read_rsa_key(pem, pem_len, err, errsz);
    if (!k)
        return NULL;
    char *h = header_b64url(kid);
    char *c = base64url_encode(claims, strlen(claims));
    buf_t b = BUF_INIT;
    char *sig = NULL;
    if (h && c) {
        buf_puts(&b, h);
        buf_putc(&b, '.');
        buf_puts(&b, c);
        if (!b.oom && (sig = sign_b64url(k, b.data, b.len))) {
            buf_putc(&b, '.');
            buf_puts(&b, sig);
        }
    }
    EVP_PKEY_free(k);
    free(h);
    free(c);
    if (!sig || b.oom) {
        free(sig);
        buf_free(&b);
        errmsg_set(err, errsz, "cannot sign the token (out of memory or a crypto failure)");
        return NULL;
    }
    free(sig);
    return buf_steal(&b);
}

/* ---- reading ------------------------------------------------------------------- */

cJSON *jwt_claims(const char *tok, size_t n, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    if (n == 0 || n > JWT_MAX) {
        *why = "token empty or too large";
        return NULL;
    }
    const char *d1 = memchr(tok, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - tok))) {
        *why = "not three dot-separated parts";
        return NULL;
    }
    size_t len = 0;
    unsigned char *payload = base64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &len);
    if (!payload) {
        *why = "payload is not base64url";
        return NULL;
    }
    cJSON *c = cJSON_ParseWithLength((const char *)payload, len);
    memset(payload, 0, len);
    free(payload);
    if (!cJSON_IsObject(c)) {
        cJSON_Delete(c);
        *why = "payload is not a JSON object";
        return NULL;
    }
    return c;
}

bool jwt_expiry(const char *tok, size_t n, int64_t *exp, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    *exp = 0;
    cJSON *c = jwt_claims(tok, n, why);
    if (!c)
        return false;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "exp");
    bool ok = cJSON_IsNumber(e) && e->valuedouble >= 1 && e->valuedouble < 1e12;
    if (ok)
        *exp = (int64_t)e->valuedouble;
    else
        *why = "no numeric exp claim";
    cJSON_Delete(c);
    return ok;
}
