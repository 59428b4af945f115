/* tls: the serving OpenSSL context, built from certificate and key files,
 * and its atomic replacement when the files change.
 *
 * tls_ctx_build() makes a fresh SSL_CTX (TLS 1.2 minimum, AEAD ECDHE
 * ciphers for 1.2, no compression, ALPN http/1.1 and h2 when enabled,
 * optional client certificate verification, with the alert of a refused
 * certificate sent). tls_publish() makes it the one handed to new
 * connections (published.h); event loops keep a reference of their own and
 * pick up a new context with tls_refresh(), which costs one atomic load
 * when nothing changed. Connections already open keep the context they started with. */
#ifndef WH_TLS_H
#define WH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "published.h"

/* Returns NULL and a one-line reason naming the file (and errno where a
 * file could not be read) when the pair cannot be used. `client_ca` may be
 * NULL or "" (no client certificate asked). */
SSL_CTX *tls_ctx_build(const char *cert_file, const char *key_file, const char *client_ca,
                       char *err, size_t errsz);

/* notAfter of the context's leaf certificate as Unix time (0 if unknown). */
int64_t tls_ctx_not_after(SSL_CTX *ctx);

/* Makes `ctx` current (takes over the caller's reference). False when out
 * of memory: `ctx` is freed and the current context stays. */
bool tls_publish(SSL_CTX *ctx);

/* The context to use for a new connection, through a loop's view of the
 * published one (NULL before the first publish); release the view with
 * published_view_release(). */
SSL_CTX *tls_refresh(published_view_t *v);

/* From now on new handshakes negotiate http/1.1 only: an HTTP/2
 * connection that opens after a shutdown began would never get the
 * GOAWAY that announces it, while an HTTP/1.1 one is closed after its
 * first answer ("Connection: close"). tls_unpublish() undoes it. */
void tls_stop_h2(void);

/* Whether ALPN offers h2 (webhook.http2.enabled; off by default:
 * kube-apiserver speaks HTTP/1.1 only to a webhook Service). */
void tls_set_http2(bool on);

/* After a failed handshake (libh2o's reason `err`): true when the client
 * certificate was the reason (none sent, or not trusted), with a short
 * `why`. Reads and clears the thread's OpenSSL error queue. */
bool tls_client_cert_refused(const char *err, char *why, size_t whysz);

/* Drops the published context (end of server_run) and h2 goes back to off. */
void tls_unpublish(void);

#endif
