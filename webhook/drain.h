/* drain: how an event loop ends after SIGTERM - the shutdown phases.
 *
 * Stop accepting (connections the kernel already queued are taken in),
 * tell connections to finish (HTTP/1.1 answers carry "Connection: close",
 * HTTP/2 gets GOAWAY), answer the requests in flight within
 * webhook.shutdownTimeoutMs, collect the live-check jobs still out, give
 * connections a short grace to end by themselves, then close the rest.
 * This is the only code that reads libh2o's internals. */
#ifndef WH_DRAIN_H
#define WH_DRAIN_H

#include "worker.h"

/* Runs the phases on the worker's own thread, once its loop has stopped
 * serving (srv->shutting_down). Returns when every connection is closed or
 * the time limits have passed. */
void drain_worker(worker_t *w);

#endif
