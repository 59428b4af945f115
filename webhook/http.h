/* http: the webhook's HTTP rules - what each request gets.
 *
 *   POST <webhook.path> (TLS port only)  the admission answer; Content-Type
 *                                        application/json, else 415; other
 *                                        methods 405
 *   GET|HEAD /healthz                    200 "ok"
 *   GET|HEAD /readyz                     200 "ready", 503 before serving and
 *                                        while shutting down
 *   GET|HEAD /metrics                    Prometheus text (both ports)
 *   anything else                        404
 *
 * "/mutate/", "//mutate" and "/mutate" are one path. Every answer has a
 * Content-Length and "Cache-Control: no-store"; while shutting down,
 * HTTP/1.1 answers close the connection. The request body limit
 * (webhook.maxRequestBytes) is enforced by libh2o before any of this runs:
 * http_setup() sets it and says what a client sees. A review larger than
 * HTTP_LARGE_REVIEW_BYTES is read and answered on a thread of its own, one
 * at a time (checkjob_submit_body); when the copies waiting for it fill
 * their bytes' bound, 503 with Retry-After. */
#ifndef WH_HTTP_H
#define WH_HTTP_H

#include "config.h"
#include "worker.h"

#define HTTP_LARGE_REVIEW_BYTES (256u * 1024)

/* Initialises srv->gconf: every path to the handler here, the access
 * counter, timeouts, and the request body limit, from the configuration
 * the server starts with (these settings take effect at a restart). */
void http_setup(server_shared_t *srv, const server_config_t *c);

#endif
