/* drain: the shutdown phases of an event loop (see drain.h).
 *
 * Written against libh2o 2.2.5 (Debian's libh2o-evloop 2.2.5): it reads
 * the protocols' foreach_request callbacks and a request's input.method to
 * count requests in flight, sets the h2o_timeout_t values of the context
 * to 0 to expire idle connections, and unlinks the context's private
 * http2._graceful_shutdown_timeout. libh2o 2.3 and later replaced these
 * timers and callbacks; check this file first when moving to another
 * version. */
#include "drain.h"

#include "listen.h"
#include "netguard.h"

/* How long connections may take to close by themselves once every request
 * is answered, within webhook.shutdownTimeoutMs. */
#define SHUTDOWN_GRACE_MS 1500
/* How long h2o gets to close the idle connections left after that. */
#define CLOSE_LIMIT_MS 1000
#define TURN_MS        10

static int count_active(h2o_req_t *req, void *cbdata)
{
    if (req->input.method.base != NULL)
        ++*(size_t *)cbdata;
    return 0;
}

/* Requests this loop has started to read and not finished answering. */
static size_t active_requests(worker_t *w)
{
    const h2o_globalconf_t *g = w->ctx.globalconf;
    size_t n = 0;
    if (g->http1.callbacks.foreach_request)
        g->http1.callbacks.foreach_request(&w->ctx, count_active, &n);
    if (g->http2.callbacks.foreach_request)
        g->http2.callbacks.foreach_request(&w->ctx, count_active, &n);
    return n;
}

/* Runs the loop until no request is in flight or `deadline` has passed. */
static void answer_in_flight(worker_t *w, uint64_t deadline)
{
    while (active_requests(w) > 0 && h2o_now(w->ctx.loop) < deadline)
        h2o_evloop_run(w->ctx.loop, TURN_MS);
}

/* Gives connections a moment to end by themselves: HTTP/2 clients get
 * h2o's final GOAWAY (with the real last stream) and close, HTTP/1.1
 * clients that send one more request get it answered with "Connection:
 * close". Closing them at once would reset requests a client has already
 * written. */
static void grace_period(worker_t *w, uint64_t deadline)
{
    h2o_evloop_t *loop = w->ctx.loop;
    uint64_t grace = h2o_now(loop) + SHUTDOWN_GRACE_MS;
    if (grace > deadline)
        grace = deadline;
    while (w->open_sockets > 0 && h2o_now(loop) < grace) {
        h2o_evloop_run(loop, TURN_MS);
        answer_in_flight(w, deadline);
    }
}

/* Expires every idle timer so that h2o closes the remaining connections,
 * then lets the closed sockets be released. */
static void close_idle(worker_t *w)
{
    h2o_evloop_t *loop = w->ctx.loop;
    w->ctx.http1.req_timeout.timeout = 0;
    w->ctx.http2.idle_timeout.timeout = 0;
    w->ctx.handshake_timeout.timeout = 0;
    w->ctx.http2.graceful_shutdown_timeout.timeout = 0;
    uint64_t limit = h2o_now(loop) + CLOSE_LIMIT_MS;
    while (w->open_sockets > 0 && h2o_now(loop) < limit)
        h2o_evloop_run(loop, TURN_MS);
    netguard_worker_close_lingering(w);
    for (int i = 0; i < 3; i++)
        h2o_evloop_run(loop, 0);
    /* h2o's HTTP/2 graceful-shutdown timer outlives the connections. */
    if (h2o_timeout_is_linked(&w->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&w->ctx.http2._graceful_shutdown_timeout);
}

void drain_worker(worker_t *w)
{
    listen_close(&w->listener);
    listen_close(&w->plain_listener);
    h2o_context_request_shutdown(&w->ctx);
    uint64_t deadline = h2o_now(w->ctx.loop) + w->srv->shutdown_timeout_ms;
    answer_in_flight(w, deadline);

    /* Live-check jobs always end (their checks are bounded): collect them,
     * so that none comes back to a loop that is gone. */
    while (w->jobs_out > 0)
        h2o_evloop_run(w->ctx.loop, TURN_MS);

    grace_period(w, deadline);
    close_idle(w);
}
