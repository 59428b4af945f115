/* tls: SSL_CTX construction and hot replacement (see tls.h). */
#include "tls.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <h2o.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "published.h"

static void ctx_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

static published_t g_current = PUBLISHED_INIT(ctx_free);
static atomic_bool g_h2_off;

/* ALPN wire format: length-prefixed names, most preferred first. */
static const unsigned char alpn_both[] = "\x02h2\x08http/1.1";
static const unsigned char alpn_h1[] = "\x08http/1.1";

/* Picks h2 or http/1.1 by the server's preference; only http/1.1 once
 * tls_stop_h2() was called. A client offering neither gets no ALPN. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    bool h1_only = atomic_load_explicit(&g_h2_off, memory_order_relaxed);
    const unsigned char *ours = h1_only ? alpn_h1 : alpn_both;
    unsigned int ours_len = (unsigned int)(h1_only ? sizeof alpn_h1 : sizeof alpn_both) - 1;
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, ours, ours_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

void tls_stop_h2(void)
{
    atomic_store(&g_h2_off, true);
}

static const char tls12_ciphers[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* The last OpenSSL error as text (and clears the queue). */
static const char *ssl_error(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0) {
        snprintf(buf, n, "unknown error");
    } else {
        ERR_error_string_n(e, buf, n);
    }
    ERR_clear_error();
    return buf;
}

/* Opens `path` to tell an unreadable file (with errno) from a bad one. */
static FILE *open_readable(const char *what, const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f)
        snprintf(err, errsz, "cannot read %s %s: %s", what, path, strerror(errno));
    return f;
}

SSL_CTX *tls_ctx_build(const char *cert_file, const char *key_file, const char *client_ca,
                       char *err, size_t errsz)
{
    char ebuf[256];
    SSL_CTX *ctx = NULL;
    FILE *f = NULL;
    EVP_PKEY *key = NULL;

    if (!cert_file || !*cert_file) {
        snprintf(err, errsz, "no TLS certificate file (webhook.tls.certFile or --tls-cert)");
        return NULL;
    }
    if (!key_file || !*key_file) {
        snprintf(err, errsz, "no TLS key file (webhook.tls.keyFile or --tls-key)");
        return NULL;
    }
    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errsz, "cannot create TLS context: %s", ssl_error(ebuf, sizeof ebuf));
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) {
        snprintf(err, errsz, "cannot set TLS versions or ciphers: %s",
                 ssl_error(ebuf, sizeof ebuf));
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    static const unsigned char sid_ctx[] = "imagebuilder-webhook";
    if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1) != 1) {
        snprintf(err, errsz, "cannot set TLS session context: %s", ssl_error(ebuf, sizeof ebuf));
        goto fail;
    }

    /* certificate chain */
    f = open_readable("TLS certificate file", cert_file, err, errsz);
    if (!f)
        goto fail;
    fclose(f);
    f = NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        snprintf(err, errsz, "TLS certificate file %s has no usable PEM certificate: %s", cert_file,
                 ssl_error(ebuf, sizeof ebuf));
        goto fail;
    }

    /* private key */
    f = open_readable("TLS key file", key_file, err, errsz);
    if (!f)
        goto fail;
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    f = NULL;
    if (!key) {
        snprintf(err, errsz, "TLS key file %s has no usable PEM private key: %s", key_file,
                 ssl_error(ebuf, sizeof ebuf));
        goto fail;
    }
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    if (leaf && X509_check_private_key(leaf, key) != 1) {
        snprintf(err, errsz, "TLS key file %s does not match certificate %s", key_file, cert_file);
        ERR_clear_error();
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
        snprintf(err, errsz, "TLS key file %s: %s", key_file, ssl_error(ebuf, sizeof ebuf));
        goto fail;
    }
    EVP_PKEY_free(key);
    key = NULL;
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errsz, "TLS key file %s does not match certificate %s", key_file, cert_file);
        ERR_clear_error();
        goto fail;
    }

    if (client_ca && *client_ca) {
        f = open_readable("TLS client CA file", client_ca, err, errsz);
        if (!f)
            goto fail;
        fclose(f);
        f = NULL;
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
        if (!names || SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
            if (names)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            snprintf(err, errsz, "TLS client CA file %s has no usable PEM certificate: %s",
                     client_ca, ssl_error(ebuf, sizeof ebuf));
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }

    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    return ctx;

fail:
    if (f)
        fclose(f);
    EVP_PKEY_free(key);
    SSL_CTX_free(ctx);
    return NULL;
}

int64_t tls_ctx_not_after(SSL_CTX *ctx)
{
    X509 *leaf = ctx ? SSL_CTX_get0_certificate(ctx) : NULL;
    const ASN1_TIME *t = leaf ? X509_get0_notAfter(leaf) : NULL;
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

bool tls_publish(SSL_CTX *ctx)
{
    return published_set(&g_current, ctx);
}

SSL_CTX *tls_refresh(published_view_t *v)
{
    return published_get(&g_current, v);
}

void tls_unpublish(void)
{
    tls_publish(NULL);
    atomic_store(&g_h2_off, false);
}
