/* worker: the state of one event-loop thread of the server, and what the
 * threads share (the published configuration, readiness, the live-check
 * threads, the network limits). Internal to the server's files: server,
 * http, checkjob, listen, netguard, drain, reload. */
#ifndef WH_WORKER_H
#define WH_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>

#include "config.h"
#include "h2scan.h"
#include "livecheck.h"
#include "metrics.h"
#include "policy.h"
#include "published.h"
#include "specache.h"
#include "workpool.h"

/* What requests are answered with: one configuration and what is built
 * from it. Published in server_shared_t.config; freed when the last loop
 * and the last live-check job let it go. */
typedef struct {
    wh_config_t *cfg;
    policy_t *policy; /* what the decision reads, built from cfg */
    livecheck_t *lc;  /* the live checks of this config (answers CHECK_NOT_RUN when off) */
} cfg_bundle_t;

/* The network limits (webhook: keys read at start; see netguard.h). */
typedef struct {
    size_t max_connections;   /* admission port */
    size_t max_buffered;      /* bytes: request input + answers not yet sent */
    size_t max_request_bytes; /* one request body */
    uint64_t request_timeout_ms, write_timeout_ms;
    bool http2; /* ALPN offers h2 */
    h2scan_limits_t h2;
} net_limits_t;

/* Shared by every thread of the server. */
typedef struct {
    h2o_globalconf_t gconf; /* read-only once the loops run */
    bool gconf_init;
    published_t config; /* the cfg_bundle_t in use */
    workpool_t *checks; /* the threads that run live checks */
    workpool_t *large;  /* one thread: large reviews, read and answered one at a time */
    /* Bytes of the large reviews' bodies the lane holds (waiting, or being
     * read), and the most it may: checkjob_submit_body refuses past it. */
    atomic_size_t large_bytes;
    size_t large_bytes_max;
    atomic_bool ready; /* set once every loop runs */
    atomic_bool shutting_down;
    unsigned shutdown_timeout_ms;
    net_limits_t net;
} server_shared_t;

/* One event-loop thread. */
typedef struct {
    h2o_context_t ctx; /* first: requests find their worker from req->conn->ctx */
    server_shared_t *srv;
    h2o_accept_ctx_t tls_accept;
    h2o_accept_ctx_t plain_accept;
    h2o_socket_t *listener;       /* TLS */
    h2o_socket_t *plain_listener; /* metricsListen, worker 0 only */
    h2o_multithread_receiver_t wake;
    h2o_multithread_receiver_t checked; /* live-check jobs coming back */
    bool receivers_registered;
    size_t jobs_out;       /* live-check jobs not yet back (loop thread only) */
    size_t open_sockets;   /* accepted and not closed, handshakes included */
    h2o_linklist_t guards; /* netguard: this loop's connections */
    h2o_timeout_t tick;    /* netguard: the periodic check of the connections */
    h2o_timeout_entry_t tick_entry;
    h2o_timeout_t linger;       /* netguard: how long a refused connection is drained */
    h2o_timeout_t accept_retry; /* listen's: when a paused listener tries again */
    h2o_timeout_entry_t accept_retry_entry;
    bool net_timers;        /* the three timeouts above exist (netguard_worker_init) */
    unsigned accept_paused; /* listen: listeners waiting for accept_retry */
    uint64_t accept_logged_at;
    published_view_t tls;    /* of the SSL_CTX for new connections */
    published_view_t config; /* of the cfg_bundle_t */
    metrics_slot_t *mx;
    specache_t *specs; /* this loop's parsed ImageSpec annotations (its thread only) */
    pthread_t tid;
    bool started;
    size_t index;
} worker_t;

static inline worker_t *worker_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(worker_t, ctx, req->conn->ctx);
}

#endif
