/* tls: SSL_CTX construction and hot replacement (see tls.h). Certificate,
 * key and CA files are read with file_read() (bounded, never blocking on a
 * FIFO) and parsed from memory.
 *
 * The alert of a refused client certificate: libh2o 2.2 queues the alert
 * OpenSSL writes when a handshake fails and closes the socket without
 * sending it. With client certificates required, a filter BIO between
 * OpenSSL and libh2o's own BIO ("h2o_socket", whose data is the
 * h2o_socket_t) keeps a copy of the last short record written; when
 * OpenSSL reports a fatal alert during the handshake, the copy goes to the
 * socket at once. */
#include "tls.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <h2o.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "errmsg.h"
#include "file.h"
#include "published.h"

static void ctx_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

static published_t g_current = PUBLISHED_INIT(ctx_free);
static atomic_bool g_h2_off;
static atomic_bool g_h2_on;

/* ALPN wire format: length-prefixed names, most preferred first. */
static const unsigned char alpn_both[] = "\x02h2\x08http/1.1";
static const unsigned char alpn_h1[] = "\x08http/1.1";

/* Picks h2 (when enabled) or http/1.1 by the server's preference; only
 * http/1.1 once tls_stop_h2() was called. A client offering neither gets
 * no ALPN. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    bool h1_only = !atomic_load_explicit(&g_h2_on, memory_order_relaxed) ||
                   atomic_load_explicit(&g_h2_off, memory_order_relaxed);
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

void tls_set_http2(bool on)
{
    atomic_store(&g_h2_on, on);
}

bool tls_client_cert_refused(const char *err, char *why, size_t whysz)
{
    bool refused = false, no_cert = false;
    for (unsigned long e; (e = ERR_get_error()) != 0;) {
        if (ERR_GET_LIB(e) != ERR_LIB_SSL)
            continue;
        int r = ERR_GET_REASON(e);
        no_cert |=
            r == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE || r == SSL_R_NO_CERTIFICATES_RETURNED;
        refused |= no_cert || r == SSL_R_CERTIFICATE_VERIFY_FAILED;
    }
    if (refused)
        snprintf(why, whysz, "%s", no_cert ? "no client certificate" : err ? err : "not trusted");
    return refused;
}

/* ---- the alert of a refused client certificate ------------------------------ */
static const char copy_name[] = "imagebuilder alert copy";
static BIO_METHOD *g_copy_method;
static pthread_once_t g_copy_once = PTHREAD_ONCE_INIT;

typedef struct {
    unsigned char rec[64]; /* an alert record: 7 bytes plain, 24 sealed (TLS 1.3) */
    size_t n;
} alert_copy_t;

static int copy_write(BIO *b, const char *in, int len)
{
    BIO *next = BIO_next(b);
    int r = next ? BIO_write(next, in, len) : -1;
    BIO_clear_retry_flags(b);
    BIO_copy_next_retry(b);
    alert_copy_t *c = BIO_get_data(b);
    if (c) {
        c->n = r > 0 && (size_t)r <= sizeof c->rec ? (size_t)r : 0;
        memcpy(c->rec, in, c->n);
    }
    return r;
}

static long copy_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    BIO *next = BIO_next(b);
    return next ? BIO_ctrl(next, cmd, num, ptr) : 0;
}

static int copy_destroy(BIO *b)
{
    free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    return 1;
}

static void copy_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_FILTER, copy_name);
    if (m && BIO_meth_set_write(m, copy_write) && BIO_meth_set_ctrl(m, copy_ctrl) &&
        BIO_meth_set_destroy(m, copy_destroy))
        g_copy_method = m;
    else
        BIO_meth_free(m);
}

static bool bio_named(BIO *b, const char *name)
{
    const char *n = b ? BIO_method_name(b) : NULL;
    return n && strcmp(n, name) == 0;
}

/* Early in every handshake: puts the copying filter above libh2o's BIO. */
static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
    (void)alert;
    (void)arg;
    pthread_once(&g_copy_once, copy_method_init);
    BIO *inner = SSL_get_wbio(ssl);
    if (!g_copy_method || !bio_named(inner, "h2o_socket"))
        return SSL_CLIENT_HELLO_SUCCESS; /* installed already (a second hello), or not libh2o's */
    alert_copy_t *c = calloc(1, sizeof *c);
    BIO *f = c ? BIO_new(g_copy_method) : NULL;
    if (!f || BIO_up_ref(inner) != 1) {
        BIO_free(f);
        free(c);
        return SSL_CLIENT_HELLO_SUCCESS;
    }
    BIO_set_data(f, c);
    BIO_set_init(f, 1);
    BIO_push(f, inner);
    SSL_set0_wbio(ssl, f); /* drops the reference taken above from the old wbio slot */
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* A fatal alert written during the handshake goes out now. */
static void on_info(const SSL *ssl, int where, int ret)
{
    if (!(where & SSL_CB_WRITE_ALERT) || (ret >> 8) != SSL3_AL_FATAL || !SSL_in_init(ssl))
        return;
    BIO *w = SSL_get_wbio(ssl);
    BIO *inner = w ? BIO_next(w) : NULL;
    alert_copy_t *c = bio_named(w, copy_name) ? BIO_get_data(w) : NULL;
    if (!c || c->n == 0 || !bio_named(inner, "h2o_socket"))
        return;
    h2o_socket_t *sock = BIO_get_data(inner);
    ssize_t sent = send(h2o_socket_get_fd(sock), c->rec, c->n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)sent; /* best effort: the connection closes next */
    c->n = 0;
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

/* Certificate, key and CA files are read whole, bounded, then parsed. */
#define TLS_FILE_MAX (4u << 20)

/* A PEM file's bytes as a memory BIO (*data to be freed by the caller);
 * NULL with "cannot read <what> <path>: <reason>". */
static BIO *read_pem(const char *what, const char *path, char **data, size_t *len, char *err,
                     size_t errsz)
{
    char why[256];
    *data = file_read(path, TLS_FILE_MAX, len, why, sizeof why);
    if (!*data) {
        errmsg_set(err, errsz, "cannot read %s %s: %s", what, path, why);
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(*data, (int)*len);
    if (!bio)
        errmsg_set(err, errsz, "cannot read %s %s: out of memory", what, path);
    return bio;
}

/* True when the last read from a PEM BIO failed only because no PEM block
 * was left (the normal end of a file); clears that error. */
static bool pem_at_end(void)
{
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        return true;
    }
    return e == 0;
}

/* The leaf certificate, then the chain certificates that follow it. */
static bool use_cert_chain(SSL_CTX *ctx, const char *path, char *err, size_t errsz)
{
    char *data, ebuf[256];
    size_t len;
    BIO *bio = read_pem("TLS certificate file", path, &data, &len, err, errsz);
    if (!bio) {
        free(data);
        return false;
    }
    X509 *leaf = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    bool ok = leaf && SSL_CTX_use_certificate(ctx, leaf) == 1 && SSL_CTX_clear_chain_certs(ctx);
    X509_free(leaf);
    for (X509 *ca; ok && (ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL;) {
        if (!SSL_CTX_add0_chain_cert(ctx, ca)) {
            X509_free(ca);
            ok = false;
        }
    }
    ok = ok && pem_at_end();
    BIO_free(bio);
    free(data);
    if (!ok)
        errmsg_set(err, errsz, "TLS certificate file %s has no usable PEM certificate: %s", path,
                   ssl_error(ebuf, sizeof ebuf));
    return ok;
}

static EVP_PKEY *read_key(const char *path, char *err, size_t errsz)
{
    char *data, ebuf[256];
    size_t len;
    BIO *bio = read_pem("TLS key file", path, &data, &len, err, errsz);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (data)
        OPENSSL_cleanse(data, len);
    free(data);
    if (bio && !key)
        errmsg_set(err, errsz, "TLS key file %s has no usable PEM private key: %s", path,
                   ssl_error(ebuf, sizeof ebuf));
    return key;
}

/* The private key, which must match the certificate already in `ctx`. */
static bool use_key(SSL_CTX *ctx, const char *key_file, const char *cert_file, char *err,
                    size_t errsz)
{
    char ebuf[256];
    EVP_PKEY *key = read_key(key_file, err, errsz);
    if (!key)
        return false;
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    bool ok = false;
    if (leaf && X509_check_private_key(leaf, key) != 1) {
        errmsg_set(err, errsz, "TLS key file %s does not match certificate %s", key_file,
                   cert_file);
        ERR_clear_error();
    } else if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
        errmsg_set(err, errsz, "TLS key file %s: %s", key_file, ssl_error(ebuf, sizeof ebuf));
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        errmsg_set(err, errsz, "TLS key file %s does not match certificate %s", key_file,
                   cert_file);
        ERR_clear_error();
    } else {
        ok = true;
    }
    EVP_PKEY_free(key);
    return ok;
}

static int name_cmp(const X509_NAME *const *a, const X509_NAME *const *b)
{
    return X509_NAME_cmp(*a, *b);
}

/* Adds the certificates (and CRLs) of a CA file to the store that verifies
 * clients and their subjects to `names` (once each); the number of
 * certificates, or -1 on failure. */
static int add_cas(X509_STORE *store, STACK_OF(X509_INFO) * infos, STACK_OF(X509_NAME) * names)
{
    int certs = 0;
    for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *xi = sk_X509_INFO_value(infos, i);
        if (xi->crl && X509_STORE_add_crl(store, xi->crl) != 1)
            return -1;
        if (!xi->x509)
            continue;
        if (X509_STORE_add_cert(store, xi->x509) != 1)
            return -1;
        certs++;
        X509_NAME *n = X509_get_subject_name(xi->x509);
        if (sk_X509_NAME_find(names, n) >= 0)
            continue;
        X509_NAME *dup = X509_NAME_dup(n);
        if (!dup || !sk_X509_NAME_push(names, dup)) {
            X509_NAME_free(dup);
            return -1;
        }
    }
    return certs;
}

/* Asks clients for a certificate signed by a CA of `path`. */
static bool use_client_ca(SSL_CTX *ctx, const char *path, char *err, size_t errsz)
{
    char *data, ebuf[256];
    size_t len;
    BIO *bio = read_pem("TLS client CA file", path, &data, &len, err, errsz);
    if (!bio) {
        free(data);
        return false;
    }
    STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new(name_cmp);
    int certs = infos && names ? add_cas(SSL_CTX_get_cert_store(ctx), infos, names) : -1;
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(bio);
    free(data);
    if (certs <= 0) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        const char *why = certs == 0 && ERR_peek_last_error() == 0 ? "no certificate in the file"
                                                                   : ssl_error(ebuf, sizeof ebuf);
        errmsg_set(err, errsz, "TLS client CA file %s has no usable PEM certificate: %s", path,
                   why);
        return false;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_client_hello_cb(ctx, on_client_hello, NULL);
    SSL_CTX_set_info_callback(ctx, on_info);
    return true;
}

/* A context with the protocol versions, ciphers and options, no keys yet. */
static SSL_CTX *new_ctx(char *err, size_t errsz)
{
    char ebuf[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        errmsg_set(err, errsz, "cannot create TLS context: %s", ssl_error(ebuf, sizeof ebuf));
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) {
        errmsg_set(err, errsz, "cannot set TLS versions or ciphers: %s",
                   ssl_error(ebuf, sizeof ebuf));
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    static const unsigned char sid_ctx[] = "imagebuilder-webhook";
    if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1) != 1) {
        errmsg_set(err, errsz, "cannot set TLS session context: %s", ssl_error(ebuf, sizeof ebuf));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *tls_ctx_build(const char *cert_file, const char *key_file, const char *client_ca,
                       char *err, size_t errsz)
{
    if (!cert_file || !*cert_file) {
        errmsg_set(err, errsz, "no TLS certificate file (webhook.tls.certFile or --tls-cert)");
        return NULL;
    }
    if (!key_file || !*key_file) {
        errmsg_set(err, errsz, "no TLS key file (webhook.tls.keyFile or --tls-key)");
        return NULL;
    }
    ERR_clear_error();
    SSL_CTX *ctx = new_ctx(err, errsz);
    if (!ctx)
        return NULL;
    if (!use_cert_chain(ctx, cert_file, err, errsz) ||
        !use_key(ctx, key_file, cert_file, err, errsz) ||
        (client_ca && *client_ca && !use_client_ca(ctx, client_ca, err, errsz))) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    return ctx;
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
    atomic_store(&g_h2_on, false);
}
