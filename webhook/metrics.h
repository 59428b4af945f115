/* metrics: the webhook's Prometheus metrics and their text exposition.
 *
 * Request counters live in per-thread slots (relaxed atomic adds on a slot
 * only its own thread writes): the hot path takes no lock and shares no
 * cache line. Rendering sums the slots. Reload counters are process-wide.
 * Other modules add their own series with metrics_register_extra(). */
#ifndef WH_METRICS_H
#define WH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define METRICS_PREFIX "imagebuilder_webhook_"

typedef enum {
    MX_MUTATED = 0,
    MX_ALLOWED,
    MX_DENIED,
    MX_ERROR, /* not an AdmissionReview, or the server could not answer */
    MX_N_OUTCOMES
} mx_outcome_t;

/* Histogram upper bounds, in seconds: 50 µs up to 30 s (past the 10 s
 * webhook timeout kube-apiserver allows). */
#define MX_N_BUCKETS 19
extern const double metrics_buckets[MX_N_BUCKETS];

typedef struct metrics_slot metrics_slot_t;

/* A new slot for the calling thread (NULL when out of memory). Slots stay
 * counted until metrics_reset(). */
metrics_slot_t *metrics_slot_new(void);

/* One admission request: its outcome, duration and the patch ops sent. */
void metrics_request(metrics_slot_t *s, mx_outcome_t outcome, uint64_t nanos, size_t ops);
/* Every HTTP response the server sends, by status code. */
void metrics_http_response(metrics_slot_t *s, int status);
void metrics_in_flight(metrics_slot_t *s, int delta);

/* Events of the network layer, counted process-wide. */
typedef enum {
    MXN_ACCEPTED = 0,        /* connections accepted on the admission port */
    MXN_PAUSE_CAP,           /* accepting paused: webhook.maxConnections reached */
    MXN_PAUSE_FD,            /* accepting paused: out of file descriptors */
    MXN_TOO_LARGE,           /* request bodies over webhook.maxRequestBytes */
    MXN_CLIENT_CERT_REFUSED, /* TLS handshakes refused for the client certificate */
    MXN_BUSY_ANSWER,         /* answers replaced by 503: webhook.maxBufferedBytes reached */
    MXN_CLOSE_BUDGET,        /* connections closed: webhook.maxBufferedBytes reached */
    MXN_CLOSE_WRITE_TIMEOUT, /* ... an answer not taken within webhook.writeTimeoutMs */
    MXN_CLOSE_BODY_TIMEOUT,  /* ... an HTTP/2 request body stalled */
    MXN_CLOSE_IDLE,          /* ... HTTP/2 connection idle but for PINGs */
    MXN_CLOSE_STREAMS,       /* ... more HTTP/2 streams than maxConcurrentStreams */
    MXN_CLOSE_RESETS,        /* ... more RST_STREAM than maxResetsPerSecond */
    MXN_CLOSE_FLOOD,         /* ... a flood of HTTP/2 PING or SETTINGS frames */
    MXN_COUNT
} mx_net_t;

void metrics_net(mx_net_t event);

void metrics_config_reload(bool ok);
void metrics_cert_reload(bool ok);
/* Expiry (Unix time) of the serving certificate in use; 0 = unknown. */
void metrics_cert_not_after(int64_t unix_time);
void metrics_set_ready(bool ready);

/* Adds a renderer called at the end of every exposition (up to 8).
 * Returns false when the table is full. */
bool metrics_register_extra(void (*render)(buf_t *out));

/* Appends the whole exposition (text format 0.0.4). */
bool metrics_render(buf_t *out);

/* Forgets every slot, counter and extra renderer. Not thread-safe: only
 * when no thread uses a slot (start of server_run, tests). */
void metrics_reset(void);

/* Status codes counted one by one; any other is counted as "other". */
#define MX_N_CODES 12

#endif
