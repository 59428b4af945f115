/* httpc: the one HTTP client of the live checks (the registry check and the
 * namespace check), over libcurl. It owns libcurl's global initialisation
 * (once, thread-safe), a pool of easy handles that keep their connections
 * (with a DNS cache and TLS sessions shared between them), the options
 * every request sets (user agent, allowed protocols, TLS verification, CA
 * and client certificate), a response body kept up to a cap, the capture
 * of one response header, and the deadline: an absolute instant on
 * clock_mono_ms() (clock.h) from which each transfer's libcurl time limit
 * is computed. This is where a live check's time limit is applied, host
 * name resolution included: a resolver that never answers costs the
 * deadline, not the system resolver's own timeouts.
 *
 * Percent-encoding for URLs and forms is libcurl's too (httpc_escape). */
#ifndef WH_HTTPC_H
#define WH_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* libcurl's global initialisation, done once whoever calls first. False
 * when it failed (then no client can be made). */
bool httpc_global_init(void);

/* TLS settings of a client. PEM bytes win over the file of the same role;
 * they are copied. Everything may be NULL/0: the system trust store, no
 * client certificate. */
typedef struct {
    const char *ca_file;
    const void *ca_pem;
    size_t ca_pem_len;
    const char *cert_file;
    const void *cert_pem;
    size_t cert_pem_len;
    const char *key_file;
    const void *key_pem;
    size_t key_pem_len;
    bool insecure_skip_verify; /* no verification at all (kubeconfig's insecure-skip-tls-verify) */
} httpc_tls_t;

typedef struct httpc httpc_t;

/* A test hook, off unless this variable is set: a list of
 * "host:port:addr:port" entries (separated by commas or spaces) saying that
 * a connection to host:port goes to addr:port instead (libcurl's
 * CURLOPT_CONNECT_TO; the Host header, TLS name and certificate check stay
 * those of host). It lets tests serve names such as gcr.io or
 * x.azurecr.io from loopback without touching the system resolver. Read
 * once, when a client is made. Not for production use. */
#define HTTPC_TEST_CONNECT_TO_ENV "IMAGEBUILDER_WEBHOOK_TEST_CONNECT_TO"

/* A client with these TLS settings (`tls` may be NULL). NULL with a message
 * in err when libcurl cannot be initialised, memory runs out, or the test
 * hook's list is malformed. */
httpc_t *httpc_new(const httpc_tls_t *tls, char *err, size_t errsz);
void httpc_free(httpc_t *c);
/* Transfers started so far (for metrics, tests and logs). */
unsigned long httpc_requests(const httpc_t *c);

/* POST, PUT and PATCH send `post` as the body (a form unless a
 * Content-Type header says otherwise). */
typedef enum { HTTPC_GET = 0, HTTPC_HEAD, HTTPC_POST, HTTPC_PUT, HTTPC_PATCH } httpc_method_t;

#define HTTPC_MAX_HEADERS 8
#define HTTPC_HEADER_MAX  4096

typedef struct {
    const char *url;
    httpc_method_t method;
    const char *headers[HTTPC_MAX_HEADERS]; /* "Name: value" lines; NULL entries are skipped */
    const char *user, *pass;                /* HTTP Basic credentials, or NULL */
    const char *post;                       /* POST, PUT or PATCH body, or NULL: empty */
    bool allow_http;                        /* plain http:// too (else https:// only) */
    bool follow_redirects;                  /* up to 3, with the same protocols */
    size_t body_max;      /* body bytes kept; a larger body aborts the transfer (0: none kept) */
    const char *capture;  /* a response header whose value is kept ("WWW-Authenticate"), or NULL */
    uint64_t deadline_ms; /* clock_mono_ms() instant by which the transfer ends */
} httpc_req_t;

/* What went wrong with a transfer that failed (HTTPC_ETRANSFER, or
 * HTTPC_ELOCAL out of time). */
typedef enum {
    HTTPC_FAIL_NONE = 0,
    HTTPC_FAIL_TIMEOUT,     /* out of time (connecting, or waiting for the answer) */
    HTTPC_FAIL_DNS_TIMEOUT, /* out of time while the host name was being resolved */
    HTTPC_FAIL_DNS,         /* the host name did not resolve */
    HTTPC_FAIL_CONNECT,     /* no connection (refused, unreachable) */
    HTTPC_FAIL_TLS,         /* TLS handshake or certificate verification */
    HTTPC_FAIL_OTHER,
} httpc_fail_t;

/* A few words for it: "timed out", "DNS lookup timed out", "DNS lookup
 * failed", "connection failed", "TLS failed", "transfer failed" ("" for
 * HTTPC_FAIL_NONE). */
const char *httpc_fail_words(httpc_fail_t f);

/* Zero-initialise; free with httpc_resp_free(). */
typedef struct {
    long status;
    httpc_fail_t fail;
    buf_t body;
    bool body_over;                /* the body was larger than body_max */
    char header[HTTPC_HEADER_MAX]; /* the captured header's value in the last response */
    bool header_seen, header_trunc;
    bool timed_out; /* the transfer failed because its time ran out */
} httpc_resp_t;

typedef enum {
    HTTPC_OK = 0,    /* an HTTP status was received (r->status) */
    HTTPC_ELOCAL,    /* the transfer did not start: out of time, no handle, bad option */
    HTTPC_ETRANSFER, /* the transfer failed: unreachable, TLS, time limit, body over the cap */
    HTTPC_ENOSTATUS, /* the transfer ended without an HTTP status */
} httpc_result_t;

/* One HTTP exchange, bounded by q->deadline_ms. Anything but HTTPC_OK comes
 * with a one-line reason in err (for HTTPC_ETRANSFER libcurl's own). No
 * credential or header stays in the pooled handle afterwards. Thread-safe. */
httpc_result_t httpc_perform(httpc_t *c, const httpc_req_t *q, httpc_resp_t *r, char *err,
                             size_t errsz);
void httpc_resp_free(httpc_resp_t *r);

/* Appends s[0..n) percent-encoded by libcurl (everything but letters,
 * digits and "-._~"). False (and out->oom set) when out of memory. */
bool httpc_escape(buf_t *out, const char *s, size_t n);
/* Appends one field of an application/x-www-form-urlencoded body:
 * "key=value", preceded by '&' unless `out` is empty, the value
 * percent-encoded by libcurl. */
void httpc_form_add(buf_t *out, const char *key, const char *value);
/* The header line "Authorization: <scheme> <credential>" (malloc'd), NULL
 * when out of memory. */
char *httpc_auth_line(const char *scheme, const char *credential);
/* "Authorization: Bearer <token>" from a token file (a service account
 * token; read on every call, so a rotated token is used at once), the
 * whitespace around it dropped. NULL with a reason when the file cannot be
 * read, is empty or holds characters a header cannot carry. */
char *httpc_bearer_from_file(const char *path, char *err, size_t errsz);

#endif
