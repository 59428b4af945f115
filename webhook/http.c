/* http: routes, methods, content type, responses and the admission
 * handler (see http.h). */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admission.h"
#include "checkjob.h"
#include "clock.h"
#include "decide.h"
#include "jsonarena.h"
#include "livecheck.h"
#include "log.h"
#include "metrics.h"
#include "netguard.h"

/* ---- responses ----------------------------------------------------------- */
static h2o_generator_t g_generator = {NULL, NULL};

typedef struct {
    char *body;
    metrics_slot_t *mx; /* non-NULL: an admission request leaving the in-flight gauge */
} owned_body_t;

static void owned_body_dispose(void *p)
{
    owned_body_t *o = p;
    free(o->body);
    if (o->mx)
        metrics_in_flight(o->mx, -1);
}

/* Sends `body` without copying it. `owned` bodies are freed once the
 * request is done (after the response has been written). */
static int respond(h2o_req_t *req, int status, const char *reason, const char *type, char *body,
                   size_t len, bool owned)
{
    if (owned) {
        owned_body_t *o = h2o_mem_alloc_shared(&req->pool, sizeof *o, owned_body_dispose);
        o->body = body;
        o->mx = NULL;
    }
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    if (atomic_load_explicit(&worker_of(req)->srv->shutting_down, memory_order_relaxed))
        req->http1_is_persistent = 0; /* "Connection: close" while draining */
    netguard_hold_answer(len);        /* until the request is done (on_log_access) */
    h2o_start_response(req, &g_generator);
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        buf.len = 0;
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
    netguard_after_send(req);
    return 0;
}

static int respond_text(h2o_req_t *req, int status, const char *reason, const char *text)
{
    return respond(req, status, reason, "text/plain; charset=utf-8", (char *)text, strlen(text),
                   false);
}

/* A short reason line built per request lives in the request's pool. */
static int respond_reason(h2o_req_t *req, int status, const char *reason, const char *why)
{
    size_t n = strlen(why);
    char *p = h2o_mem_alloc_pool(&req->pool, n + 2);
    memcpy(p, why, n);
    p[n] = '\n';
    p[n + 1] = '\0';
    return respond(req, status, reason, "text/plain; charset=utf-8", p, n + 1, false);
}

/* webhook.maxBufferedBytes is reached: kube-apiserver retries a 503 that
 * carries Retry-After. */
static int respond_busy(h2o_req_t *req)
{
    metrics_net(MXN_BUSY_ANSWER);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
    return respond_text(req, 503, "Service Unavailable", "busy; try again\n");
}

/* ---- methods, content type and framing ------------------------------------ */
static int method_not_allowed(h2o_req_t *req, const char *allow)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, strlen(allow));
    return respond_text(req, 405, "Method Not Allowed", "method not allowed\n");
}

static bool is_get_or_head(h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
           h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

/* `application/json`, any case, optionally followed by parameters. */
static bool is_json_content_type(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    size_t p = 0;
    while (p < v.len && (v.base[p] == ' ' || v.base[p] == '\t'))
        p++;
    static const char want[] = "application/json";
    size_t wn = sizeof want - 1;
    if (v.len - p < wn || strncasecmp(v.base + p, want, wn) != 0)
        return false;
    p += wn;
    while (p < v.len && (v.base[p] == ' ' || v.base[p] == '\t'))
        p++;
    return p == v.len || v.base[p] == ';';
}

/* The Content-Length value at `p` (up to the end of its line), or -1. */
static long long content_length_at(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    long long v = 0;
    const char *d = p;
    while (p < end && *p >= '0' && *p <= '9' && v < (1LL << 50))
        v = v * 10 + (*p++ - '0');
    return p == d ? -1 : v;
}

/* HTTP/1.x framing (RFC 9112 §6.3): false when the request has both
 * Transfer-Encoding and Content-Length, or two different Content-Length
 * values. libh2o keeps neither header in req->headers (it framed the body
 * by the Transfer-Encoding, or the first Content-Length), so the header
 * block is read where it still lies: in the connection's input, in front
 * of the body, with the names in lower case. */
static bool framing_ok(h2o_req_t *req)
{
    if (req->version >= 0x200 || req->entity.base == NULL || !req->conn->callbacks->get_socket)
        return true;
    h2o_socket_t *s = req->conn->callbacks->get_socket(req->conn);
    if (!s || !s->input || !s->input->bytes || req->entity.base < s->input->bytes ||
        req->entity.base > s->input->bytes + s->input->size)
        return true;
    const char *p = s->input->bytes, *end = req->entity.base;
    long long cl = -1;
    bool te = false;
    int n_cl = 0;
    for (const char *nl; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1) {
        size_t n = (size_t)(nl - p);
        if (n >= 15 && memcmp(p, "content-length:", 15) == 0) {
            long long v = content_length_at(p + 15, nl);
            if (n_cl++ > 0 && v != cl)
                return false;
            cl = v;
        } else if (n >= 18 && memcmp(p, "transfer-encoding:", 18) == 0) {
            te = true;
        }
    }
    return !(te && n_cl > 0);
}

/* ---- the admission answer -------------------------------------------------- */
static void log_decision(const review_t *rv, const decision_t *d, uint64_t micros)
{
    log_line_t *l = log_begin(LOG_INFO, "admission");
    if (!l)
        return;
    log_str(l, "uid", rv->uid);
    log_str(l, "namespace", rv->namespace_);
    log_str(l, "pod", rv->name);
    log_str(l, "operation", rv->operation);
    log_str(l, "outcome", outcome_name(d->outcome));
    log_int(l, "code", d->outcome == OUTCOME_DENIED ? d->code : 200);
    if (d->outcome == OUTCOME_DENIED)
        log_str(l, "message", d->message);
    log_array_begin(l, "targets");
    size_t builds = 0;
    for (size_t i = 0; i < d->n_targets; i++) {
        log_array_str(l, d->targets[i].target);
        if (d->targets[i].build)
            builds++;
    }
    log_array_end(l);
    log_uint(l, "builds", builds);
    log_uint(l, "ops", d->n_ops);
    log_uint(l, "warnings", d->n_warnings);
    log_uint(l, "micros", micros);
    log_bool(l, "dryRun", rv->dry_run);
    log_end(l);
}

static int internal_error(worker_t *w, h2o_req_t *req, uint64_t t0)
{
    metrics_request(w->mx, MX_ERROR, clock_mono_ns() - t0, 0);
    log_msg(LOG_ERROR, "cannot answer admission request", "out of memory");
    return respond_text(req, 500, "Internal Server Error", "internal error\n");
}

/* Counts, logs and sends an admission answer. The body (malloc'd) is
 * handed to the request, freed once it is written, and the rest of `resp`
 * is freed. */
static int send_answer(worker_t *w, h2o_req_t *req, const review_t *rv, admission_response_t *resp,
                       uint64_t t0)
{
    uint64_t dt = clock_mono_ns() - t0;
    if (!netguard_answer_fits(resp->len)) {
        metrics_request(w->mx, MX_ERROR, dt, 0);
        admission_response_free(resp);
        return respond_busy(req);
    }
    mx_outcome_t oc = resp->decision.outcome == OUTCOME_MUTATED  ? MX_MUTATED
                      : resp->decision.outcome == OUTCOME_DENIED ? MX_DENIED
                                                                 : MX_ALLOWED;
    metrics_request(w->mx, oc, dt, resp->decision.n_ops);
    log_decision(rv, &resp->decision, dt / 1000);
    owned_body_t *o = h2o_mem_alloc_shared(&req->pool, sizeof *o, owned_body_dispose);
    o->body = resp->body;
    o->mx = w->mx;
    metrics_in_flight(w->mx, 1);
    size_t len = resp->len;
    resp->body = NULL;
    admission_response_free(resp);
    return respond(req, 200, "OK", "application/json", o->body, len, false);
}

/* 400 for a body that is not a review that can be read. */
static int bad_review(worker_t *w, h2o_req_t *req, const char *why, uint64_t t0)
{
    metrics_request(w->mx, MX_ERROR, clock_mono_ns() - t0, 0);
    log_line_t *l = log_begin(LOG_WARN, "bad admission request");
    log_str(l, "reason", why);
    log_uint(l, "bytes", req->entity.len);
    log_end(l);
    return respond_reason(req, 400, "Bad Request", why[0] ? why : "not an AdmissionReview");
}

/* A request's job is back (checkjob.h). */
static void answer_checked(worker_t *w, h2o_req_t *req, const review_t *rv,
                           admission_response_t *resp, const char *bad, uint64_t t0)
{
    if (bad)
        bad_review(w, req, bad, t0);
    else if (resp)
        send_answer(w, req, rv, resp, t0);
    else
        internal_error(w, req, t0);
}

/* Parses and answers a review: here, or on the check threads when a live
 * check is on and it is a pod CREATE. Without live checks the caller runs
 * this in the thread's JSON arena. */
static int answer_admission(worker_t *w, const policy_t *policy, h2o_req_t *req, bool checks_on,
                            uint64_t t0)
{
    review_t rv;
    char why[256] = "";
    const char *body = req->entity.base ? req->entity.base : "";
    if (!admission_parse(body, req->entity.len, &rv, why, sizeof why))
        return bad_review(w, req, why, t0);
    if (checks_on && rv.is_pod_create) {
        if (checkjob_submit(w, req, &rv, t0, answer_checked))
            return 0; /* answered when the checks are back */
        log_msg(LOG_WARN, "live checks skipped", "the check queue is full");
    }
    wh_checks_t none = {0};
    admission_response_t resp;
    rv.opts.spec_cache = w->specs; /* answered here, on this loop's thread */
    bool ok = admission_respond(policy, &rv, &none, &resp);
    int r = ok ? send_answer(w, req, &rv, &resp, t0) : internal_error(w, req, t0);
    if (checks_on)
        review_free(&rv);
    else
        review_drop(&rv); /* its tree goes with the arena */
    return r;
}

/* POST on the admission path. The body is within webhook.maxRequestBytes:
 * libh2o refused larger ones before calling the handler (http_setup). */
static int handle_admission(worker_t *w, const cfg_bundle_t *b, h2o_req_t *req)
{
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")))
        return method_not_allowed(req, "POST");
    if (!is_json_content_type(req))
        return respond_text(req, 415, "Unsupported Media Type",
                            "the body must be an AdmissionReview with Content-Type "
                            "application/json\n");

    uint64_t t0 = clock_mono_ns();
    /* A large review is read and answered on a thread of its own: parsing a
     * few MiB of JSON takes tens of milliseconds the loop's other requests
     * must not wait. When that thread has enough waiting, 503: retry. */
    if (req->entity.len > HTTP_LARGE_REVIEW_BYTES) {
        if (checkjob_submit_body(w, req, t0, answer_checked))
            return 0;
        metrics_request(w->mx, MX_ERROR, clock_mono_ns() - t0, 0);
        log_msg(LOG_WARN, "large review refused", "the large-review queue is full");
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
        return respond_text(req, 503, "Service Unavailable",
                            "too many large reviews at once; retry\n");
    }
    /* Without live checks the whole answer is made on this thread: its JSON
     * trees come from the thread's arena and go in one step. A review handed
     * to the check threads must outlive this call, so it is not in the arena. */
    bool checks_on = livecheck_registry_enabled(b->lc) || livecheck_namespace_enabled(b->lc);
    if (checks_on)
        return answer_admission(w, b->policy, req, true, t0);
    jsonarena_begin();
    int r = answer_admission(w, b->policy, req, false, t0);
    jsonarena_end();
    return r;
}

/* ---- routes ------------------------------------------------------------------ */
static int handle_metrics(h2o_req_t *req)
{
    if (!is_get_or_head(req))
        return method_not_allowed(req, "GET, HEAD");
    buf_t b = BUF_INIT;
    if (!metrics_render(&b)) {
        buf_free(&b);
        return respond_text(req, 500, "Internal Server Error", "internal error\n");
    }
    size_t len = b.len;
    return respond(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", buf_steal(&b), len,
                   true);
}

/* The request path with repeated and trailing slashes removed, in `buf`;
 * false when it does not fit (no route is that long). */
static bool clean_path(h2o_req_t *req, char *buf, size_t bufsz, h2o_iovec_t *path)
{
    *path = h2o_iovec_init(buf, 0);
    for (size_t i = 0; i < req->path_normalized.len && path->len < bufsz; i++) {
        char ch = req->path_normalized.base[i];
        if (ch == '/' && path->len > 0 && buf[path->len - 1] == '/')
            continue;
        buf[path->len++] = ch;
    }
    if (path->len == bufsz)
        return false;
    while (path->len > 1 && buf[path->len - 1] == '/')
        path->len--;
    return true;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    worker_t *w = worker_of(req);
    if (!framing_ok(req)) {
        req->http1_is_persistent = 0; /* the next request's start is unknown */
        return respond_text(req, 400, "Bad Request",
                            "conflicting Content-Length or Transfer-Encoding headers\n");
    }
    const cfg_bundle_t *b = published_get(&w->srv->config, &w->config);
    /* "/mutate", "/mutate/" and "//mutate" are one path (clients clean it;
     * tolerate those that do not). */
    char pbuf[256];
    h2o_iovec_t path;
    if (!clean_path(req, pbuf, sizeof pbuf, &path))
        return respond_text(req, 404, "Not Found", "not found\n");
    bool over_tls = req->scheme == &H2O_URL_SCHEME_HTTPS;

    if (over_tls && b &&
        h2o_memis(path.base, path.len, b->cfg->server.path, strlen(b->cfg->server.path)))
        return handle_admission(w, b, req);
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/healthz"))) {
        if (!is_get_or_head(req))
            return method_not_allowed(req, "GET, HEAD");
        return respond_text(req, 200, "OK", "ok\n");
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/readyz"))) {
        if (!is_get_or_head(req))
            return method_not_allowed(req, "GET, HEAD");
        if (atomic_load(&w->srv->ready) && !atomic_load(&w->srv->shutting_down))
            return respond_text(req, 200, "OK", "ready\n");
        return respond_text(req, 503, "Service Unavailable", "not ready\n");
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/metrics")))
        return handle_metrics(req);
    return respond_text(req, 404, "Not Found", "not found\n");
}

/* Every response, including those h2o makes itself (413, 400 on a
 * malformed request), is counted by status code here; netguard lets go
 * of what the request held. */
static void on_log_access(h2o_logger_t *self, h2o_req_t *req)
{
    (void)self;
    metrics_http_response(worker_of(req)->mx, req->res.status);
    netguard_request_done(req);
}

/* ---- setup ------------------------------------------------------------------- */
void http_setup(server_shared_t *srv, const server_config_t *c)
{
    h2o_globalconf_t *g = &srv->gconf;
    h2o_config_init(g);
    srv->gconf_init = true;
    g->server_name = h2o_iovec_init(H2O_STRLIT("imagebuilder-webhook"));
    /* The request body limit. libh2o 2.2.5 buffers a whole body before the
     * handler runs and enforces this limit itself, so no handler code can
     * see a larger body. What a client gets when it sends more:
     * - HTTP/1.1 with a Content-Length over the limit: a 413 from libh2o
     *   (body "request entity is too large") as soon as the headers are in,
     *   without reading the body (before any "100 Continue"). libh2o then
     *   closes; netguard keeps the connection open and drains what the
     *   client still sends for a moment, so that the client reads the 413
     *   rather than a reset.
     * - HTTP/1.1 chunked: the same 413 once the decoded body reaches the
     *   limit (a chunked body of exactly the limit is refused too).
     * - HTTP/2: no status. The DATA frame that would take the body past the
     *   limit makes libh2o reset the stream (RST_STREAM REFUSED_STREAM);
     *   the connection stays up. A content-length header over the limit is
     *   not refused up front.
     * libh2o's 413s go through the fallback path's logger: /metrics counts
     * them by status, not as admission requests; netguard logs and counts
     * every refused body. */
    g->max_request_entity_size = c->max_request_bytes;
    uint64_t t = c->request_timeout_ms ? c->request_timeout_ms : 10000;
    g->http1.req_timeout = t;
    g->http2.idle_timeout = t;
    g->handshake_timeout = t;
    g->http2.graceful_shutdown_timeout = c->shutdown_timeout_ms;
    g->http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host =
        h2o_config_register_host(g, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pc, sizeof *handler);
    handler->on_req = on_req;
    h2o_logger_t *lg = h2o_create_logger(pc, sizeof *lg);
    lg->log_access = on_log_access;
    lg = h2o_create_logger(&host->fallback_path, sizeof *lg);
    lg->log_access = on_log_access;
}
