/* tls: the serving OpenSSL context, built from certificate and key files,
 * and its atomic replacement when the files change.
 *
 * tls_ctx_build() makes a fresh SSL_CTX (TLS 1.2 minimum, AEAD ECDHE
 * ciphers for 1.2, no compression, ALPN h2 and http/1.1, optional client
 * certificate verification). tls_publish() makes it the one handed to new
 * connections; event loops keep a reference of their own and pick up a new
 * context with tls_refresh(), which costs one atomic load when nothing
 * changed. Connections already open keep the context they started with. */
#ifndef WH_TLS_H
#define WH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* Returns NULL and a one-line reason naming the file (and errno where a
 * file could not be read) when the pair cannot be used. `client_ca` may be
 * NULL or "" (no client certificate asked). */
SSL_CTX *tls_ctx_build(const char *cert_file, const char *key_file, const char *client_ca,
                       char *err, size_t errsz);

/* notAfter of the context's leaf certificate as Unix time (0 if unknown). */
int64_t tls_ctx_not_after(SSL_CTX *ctx);

/* Makes `ctx` current (takes over the caller's reference). */
void tls_publish(SSL_CTX *ctx);

/* A loop's view of the current context. */
typedef struct {
    uint64_t gen;
    SSL_CTX *ctx; /* a reference owned by the holder */
} tls_holder_t;

/* Updates the holder when a newer context was published; returns the
 * context to use for a new connection (NULL before the first publish). */
SSL_CTX *tls_refresh(tls_holder_t *h);
void tls_holder_release(tls_holder_t *h);

/* From now on new handshakes negotiate http/1.1 only: an HTTP/2
 * connection that opens after a shutdown began would never get the
 * GOAWAY that announces it, while an HTTP/1.1 one is closed after its
 * first answer ("Connection: close"). tls_unpublish() undoes it. */
void tls_stop_h2(void);

/* Drops the published context (end of server_run) and offers h2 again. */
void tls_unpublish(void);

#endif
