/* netguard: every connection the server accepts, from the TLS handshake to
 * the last byte, and the limits it is held to (SECURITY.md has the table):
 * - the TLS handshake within webhook.requestTimeoutMs; a refused client
 *   certificate is logged, counted and gets its alert;
 * - a process-wide budget, webhook.maxBufferedBytes, for request bytes
 *   read and not yet answered and for answers not yet sent. A connection
 *   whose input would pass it is closed; an answer that would pass it is
 *   replaced by 503 with Retry-After (http.c);
 * - an answer the client does not take within webhook.writeTimeoutMs
 *   closes the connection;
 * - HTTP/2 (when enabled): streams, resets, PING/SETTINGS floods, stalled
 *   bodies, answers never taken and connections kept alive by PINGs alone
 *   (h2scan.h);
 * - after an HTTP/1.1 error answer that closes the connection (413 above
 *   all), the connection is drained for a moment before it is closed, so
 *   that a client still sending its body reads the answer instead of a
 *   reset.
 *
 * How: libh2o 2.2 reads and parses in one step and has no hook for any of
 * this. The server does the TLS handshake itself (h2o_accept's job), then
 * hands the socket to libh2o's HTTP/1 or HTTP/2 code and interposes on the
 * socket's read and write callbacks: each read is checked before libh2o
 * sees it, and every callback libh2o installs later is wrapped again once
 * the wrapped one returns. A periodic tick on each loop enforces the
 * timeouts. Closing for a limit is shutdown(2) on the socket: libh2o then
 * ends the connection through its own error paths.
 *
 * Everything here runs on the connection's own loop thread. */
#ifndef WH_NETGUARD_H
#define WH_NETGUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "worker.h"

/* Sets the limits (from srv->net) before any loop runs. */
void netguard_setup(const server_shared_t *srv);

/* The loop's timers: after h2o_context_init, and before it is disposed
 * (every connection closed). */
void netguard_worker_init(worker_t *w);
void netguard_worker_dispose(worker_t *w);
/* Closes the connections still draining after a refused request (end of
 * a shutdown). */
void netguard_worker_close_lingering(worker_t *w);

/* Room for one more connection: webhook.maxConnections on the admission
 * port (`plain` false), a small fixed number on the metrics port. */
bool netguard_may_accept(bool plain);
/* Takes an accepted socket: handshake (unless plain) and HTTP. */
void netguard_accept(worker_t *w, h2o_socket_t *sock, h2o_accept_ctx_t *actx, bool plain);

/* An answer of `len` bytes fits in webhook.maxBufferedBytes now. */
bool netguard_answer_fits(size_t len);
/* Counts an answer of `len` bytes against the budget until its request is
 * done (answers under 4 KiB are not counted); call before h2o_send. */
void netguard_hold_answer(size_t len);
/* After h2o_send outside a socket callback: wraps what libh2o installed. */
void netguard_after_send(h2o_req_t *req);
/* From the access logger, once per request: releases its answer, ends an
 * HTTP/2 stream's count, and keeps a closing HTTP/1.1 error answer's
 * connection open to drain it. */
void netguard_request_done(h2o_req_t *req);

/* The gauges (open connections, buffered bytes) for /metrics. */
void netguard_metrics(buf_t *out);

#endif
