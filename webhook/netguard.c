/* netguard: every connection and the limits it is held to (see netguard.h).
 *
 * Written against libh2o 2.2.5 (Debian's libh2o-evloop): it relies on the
 * socket's public _cb.read/_cb.write and on_close fields, on libh2o
 * setting a read callback only with h2o_socket_read_start and clearing
 * _cb.write before it calls the write callback, and on input.bytes being
 * NULL for an empty h2o_buffer_t. Check this file with drain.c when
 * moving to another libh2o. */
#include "netguard.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o/http1.h>
#include <h2o/http2.h>

#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "tls.h"

#define TICK_MS         250
#define LINGER_MS       2000
#define LINGER_BYTES    (64u << 20) /* drained at most after a refused request */
#define LINGER_READ     65536
#define FREE_INPUT      8192 /* libh2o's first input buffer: not counted */
#define ANSWER_MIN      4096 /* smaller answers are not counted */
#define MAX_PLAIN_CONNS 64   /* metrics port: probes and scrapes */
#define MAX_CONTROLS    1000 /* HTTP/2 PING and SETTINGS per second */

typedef enum { G_HANDSHAKE, G_HTTP, G_LINGER } gstate_t;

typedef struct guard {
    h2o_linklist_t link; /* in w->guards */
    worker_t *w;
    h2o_socket_t *sock; /* NULL once closed */
    h2o_accept_ctx_t *actx;
    struct timeval connected_at;
    h2o_timeout_entry_t timer; /* the handshake, then the drain */
    gstate_t state;
    bool plain, aborted, closed;
    unsigned in_relay;
    h2o_socket_cb orig_read, orig_write;
    size_t in_held;         /* input buffer counted against the budget */
    uint64_t writing_since; /* 0: no write pending */
    int linger_fd;          /* a copy of the descriptor, to drain after libh2o closes */
    size_t linger_bytes;
    h2scan_t *h2; /* HTTP/2 only; its stream table follows it */
} guard_t;

static net_limits_t g_lim;
static _Atomic size_t g_buffered, g_open, g_open_plain;
static _Atomic uint64_t g_logged_at[MXN_COUNT];

static void on_read(h2o_socket_t *sock, const char *err);
static void on_write(h2o_socket_t *sock, const char *err);

void netguard_setup(const server_shared_t *srv)
{
    g_lim = srv->net;
    g_lim.h2.max_controls = MAX_CONTROLS;
    atomic_store(&g_buffered, 0);
    atomic_store(&g_open, 0);
    atomic_store(&g_open_plain, 0);
}

/* ---- the budget ------------------------------------------------------------ */
static bool charge(size_t n)
{
    if (n == 0)
        return true;
    size_t old = atomic_fetch_add_explicit(&g_buffered, n, memory_order_relaxed);
    if (old + n <= g_lim.max_buffered)
        return true;
    atomic_fetch_sub_explicit(&g_buffered, n, memory_order_relaxed);
    return false;
}

static void release(size_t n)
{
    if (n)
        atomic_fetch_sub_explicit(&g_buffered, n, memory_order_relaxed);
}

bool netguard_answer_fits(size_t len)
{
    return len < ANSWER_MIN ||
           atomic_load_explicit(&g_buffered, memory_order_relaxed) + len <= g_lim.max_buffered;
}

void netguard_hold_answer(size_t len)
{
    if (len >= ANSWER_MIN)
        atomic_fetch_add_explicit(&g_buffered, len, memory_order_relaxed);
}

/* What the socket's input buffer holds beyond its first, uncounted, 8 KiB. */
static size_t input_held(const h2o_socket_t *sock)
{
    const h2o_buffer_t *b = sock->input;
    return b && b->bytes && b->capacity > FREE_INPUT ? b->capacity : 0;
}

/* Counts the input buffer as it is now; false when it grew past the budget. */
static bool update_input(guard_t *c)
{
    size_t now = input_held(c->sock);
    if (now > c->in_held && !charge(now - c->in_held))
        return false;
    if (now < c->in_held)
        release(c->in_held - now);
    c->in_held = now;
    return true;
}

/* ---- closing for a limit ----------------------------------------------------- */
static void log_limit(guard_t *c, mx_net_t ev, const char *msg, const char *detail)
{
    uint64_t now = h2o_now(c->w->ctx.loop), last = atomic_load(&g_logged_at[ev]);
    if (now - last < 1000 || !atomic_compare_exchange_strong(&g_logged_at[ev], &last, now))
        return; /* one line a second for each reason; the counters have every case */
    struct sockaddr_storage ss;
    char host[NI_MAXHOST] = "";
    socklen_t sl = c->sock ? h2o_socket_getpeername(c->sock, (struct sockaddr *)&ss) : 0;
    if (sl)
        h2o_socket_getnumerichost((struct sockaddr *)&ss, sl, host);
    log_line_t *l = log_begin(LOG_WARN, msg);
    log_str(l, "peer", host);
    if (detail)
        log_str(l, "limit", detail);
    log_end(l);
}

/* Closes the connection for passing a limit: shutdown(2) makes libh2o's
 * next read see the end and its pending write fail. */
static void abort_conn(guard_t *c, mx_net_t ev, const char *detail)
{
    if (c->aborted || !c->sock)
        return;
    c->aborted = true;
    metrics_net(ev);
    log_limit(c, ev, "connection closed for a limit", detail);
    shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
}

static mx_net_t h2_event(h2scan_verdict_t v, const char **detail)
{
    switch (v) {
    case H2SCAN_STREAMS:
        *detail = "webhook.http2.maxConcurrentStreams";
        return MXN_CLOSE_STREAMS;
    case H2SCAN_RESETS:
        *detail = "webhook.http2.maxResetsPerSecond";
        return MXN_CLOSE_RESETS;
    case H2SCAN_FLOOD:
        *detail = "1000 PING or SETTINGS frames a second";
        return MXN_CLOSE_FLOOD;
    case H2SCAN_BODY_TIMEOUT:
        *detail = "webhook.requestTimeoutMs (request body)";
        return MXN_CLOSE_BODY_TIMEOUT;
    case H2SCAN_IDLE:
        *detail = "webhook.requestTimeoutMs (idle)";
        return MXN_CLOSE_IDLE;
    default:
        *detail = "webhook.writeTimeoutMs (answers not taken)";
        return MXN_CLOSE_WRITE_TIMEOUT;
    }
}

/* ---- wrapping libh2o's socket callbacks --------------------------------------- */
static void finish(guard_t *c);
static void on_close(void *data);

/* Wraps the callbacks libh2o installed since the last look. */
static void rewrap(guard_t *c)
{
    h2o_socket_t *s = c->sock;
    if (s->_cb.read && s->_cb.read != on_read) {
        c->orig_read = s->_cb.read;
        s->_cb.read = on_read;
    }
    if (s->_cb.write && s->_cb.write != on_write) {
        c->orig_write = s->_cb.write;
        s->_cb.write = on_write;
        c->writing_since = h2o_now(c->w->ctx.loop);
    } else if (!s->_cb.write) {
        c->writing_since = 0;
    }
}

/* Calls libh2o's callback `cb`; afterwards the connection may be closed. */
static void relay(guard_t *c, h2o_socket_cb cb, const char *err)
{
    c->in_relay++;
    cb(c->sock, err);
    c->in_relay--;
    if (c->in_relay)
        return;
    if (c->closed) {
        finish(c);
        return;
    }
    rewrap(c);
    update_input(c); /* libh2o only consumes input in its callbacks */
}

/* The HTTP/2 frames about to be parsed; NULL or why to close. */
static const char *scan_h2(guard_t *c)
{
    long long delta;
    unsigned big;
    h2o_buffer_t *in = c->sock->input;
    h2scan_verdict_t v =
        h2scan_input(c->h2, &g_lim.h2, (const uint8_t *)(in->bytes ? in->bytes : ""), in->size,
                     h2o_now(c->w->ctx.loop), &delta, &big);
    for (unsigned i = 0; i < big; i++) {
        metrics_net(MXN_TOO_LARGE);
        log_limit(c, MXN_TOO_LARGE, "request body too large; stream refused",
                  "webhook.maxRequestBytes");
    }
    if (delta < 0)
        release((size_t)-delta);
    if (v == H2SCAN_OK && delta > 0 && !charge((size_t)delta)) {
        c->h2->held -= (size_t)delta; /* not counted: the connection ends */
        abort_conn(c, MXN_CLOSE_BUDGET, "webhook.maxBufferedBytes");
        return "buffer budget";
    }
    if (v != H2SCAN_OK) {
        if (delta > 0)
            c->h2->held -= (size_t)delta;
        const char *detail;
        mx_net_t ev = h2_event(v, &detail);
        abort_conn(c, ev, detail);
        return "limit";
    }
    return NULL;
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    guard_t *c = sock->on_close.data;
    if (!err && c->h2)
        err = scan_h2(c);
    if (!err && !update_input(c)) {
        abort_conn(c, MXN_CLOSE_BUDGET, "webhook.maxBufferedBytes");
        err = "buffer budget";
    }
    relay(c, c->orig_read, err);
}

static void on_write(h2o_socket_t *sock, const char *err)
{
    guard_t *c = sock->on_close.data;
    c->writing_since = 0;
    relay(c, c->orig_write, err);
}

/* ---- draining after a refused request ------------------------------------------- */
static void linger_close(guard_t *c)
{
    if (c->sock)
        h2o_socket_close(c->sock);
}

static void on_linger_timeout(h2o_timeout_entry_t *e)
{
    linger_close(H2O_STRUCT_FROM_MEMBER(guard_t, timer, e));
}

/* Reads and drops what the client still sends, up to LINGER_BYTES; the
 * end of the stream, an error or the limit closes. */
static void on_linger_read(h2o_socket_t *sock, const char *err)
{
    guard_t *c = sock->on_close.data;
    char buf[LINGER_READ];
    int fd = h2o_socket_get_fd(sock);
    for (int i = 0; !err && i < 16; i++) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return; /* more when it comes */
        if (n <= 0 || (c->linger_bytes += (size_t)n) > LINGER_BYTES)
            break;
        if (i == 15)
            return; /* the loop calls again while there is more */
    }
    linger_close(c);
}

/* libh2o has closed its descriptor; ours (linger_fd) keeps the connection. */
static bool start_linger(guard_t *c)
{
    int fd = c->linger_fd;
    c->linger_fd = -1;
    if (shutdown(fd, SHUT_WR) != 0) {
        close(fd);
        return false;
    }
    c->state = G_LINGER;
    c->closed = false;
    c->linger_bytes = 0;
    c->sock = h2o_evloop_socket_create(c->w->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    c->sock->on_close.cb = on_close;
    c->sock->on_close.data = c;
    c->timer.cb = on_linger_timeout;
    h2o_timeout_link(c->w->ctx.loop, &c->w->linger, &c->timer);
    h2o_socket_read_start(c->sock, on_linger_read);
    return true;
}

/* ---- a connection's end ------------------------------------------------------------ */
/* The socket is gone (libh2o closed it); `c` goes too unless the
 * connection is to be drained. */
static void finish(guard_t *c)
{
    release(c->in_held);
    c->in_held = 0;
    if (c->h2) {
        release(c->h2->held);
        c->h2->held = 0;
    }
    h2o_timeout_unlink(&c->timer);
    if (c->linger_fd >= 0 && start_linger(c))
        return;
    worker_t *w = c->w;
    h2o_linklist_unlink(&c->link);
    w->open_sockets--;
    atomic_fetch_sub(c->plain ? &g_open_plain : &g_open, 1);
    free(c->h2);
    free(c);
    listen_on_close(w);
}

static void on_close(void *data)
{
    guard_t *c = data;
    c->closed = true;
    c->sock = NULL;
    if (!c->in_relay)
        finish(c);
}

/* Keeps a copy of the descriptor so that the connection outlives libh2o's
 * close and can be drained (start_linger). */
static void keep_for_linger(guard_t *c)
{
    if (c->linger_fd >= 0 || !c->sock || atomic_load(&c->w->srv->shutting_down))
        return;
    c->linger_fd = fcntl(h2o_socket_get_fd(c->sock), F_DUPFD_CLOEXEC, 0);
}

/* ---- accepting -------------------------------------------------------------------- */
bool netguard_may_accept(bool plain)
{
    if (plain)
        return atomic_load(&g_open_plain) < MAX_PLAIN_CONNS;
    return atomic_load(&g_open) < g_lim.max_connections;
}

/* Hands the socket to libh2o's HTTP/1 or HTTP/2 code. */
static void start_http(guard_t *c, bool h2)
{
    if (h2) {
        c->h2 = malloc(sizeof *c->h2 + g_lim.h2.max_streams * sizeof(h2scan_stream_t));
        if (!c->h2) {
            h2o_socket_close(c->sock);
            return;
        }
        h2scan_init(c->h2, (h2scan_stream_t *)(c->h2 + 1), h2o_now(c->w->ctx.loop));
        /* what came with the handshake is parsed by h2o_http2_accept: read it first */
        if (scan_h2(c)) {
            h2o_socket_close(c->sock);
            return;
        }
    }
    c->state = G_HTTP;
    c->in_relay++;
    if (h2)
        h2o_http2_accept(c->actx, c->sock, c->connected_at);
    else
        h2o_http1_accept(c->actx, c->sock, c->connected_at);
    c->in_relay--;
    if (c->closed) {
        finish(c);
        return;
    }
    rewrap(c);
}

static void on_handshake_timeout(h2o_timeout_entry_t *e)
{
    guard_t *c = H2O_STRUCT_FROM_MEMBER(guard_t, timer, e);
    h2o_socket_close(c->sock);
}

static void on_handshake(h2o_socket_t *sock, const char *err)
{
    guard_t *c = sock->on_close.data;
    h2o_timeout_unlink(&c->timer);
    if (err) {
        char why[200];
        if (tls_client_cert_refused(err, why, sizeof why)) {
            metrics_net(MXN_CLIENT_CERT_REFUSED);
            log_limit(c, MXN_CLIENT_CERT_REFUSED, "client certificate refused", why);
            keep_for_linger(c); /* the client reads the alert, not a reset */
        }
        h2o_socket_close(sock);
        return;
    }
    h2o_iovec_t proto = h2o_socket_ssl_get_selected_protocol(sock);
    start_http(c, h2o_memis(proto.base, proto.len, H2O_STRLIT("h2")));
}

void netguard_accept(worker_t *w, h2o_socket_t *sock, h2o_accept_ctx_t *actx, bool plain)
{
    guard_t *c = calloc(1, sizeof *c);
    if (!c) {
        h2o_socket_close(sock);
        return;
    }
    c->w = w;
    c->sock = sock;
    c->actx = actx;
    c->plain = plain;
    c->linger_fd = -1;
    c->connected_at = *h2o_get_timestamp(&w->ctx, NULL, NULL);
    h2o_linklist_insert(&w->guards, &c->link);
    w->open_sockets++;
    atomic_fetch_add(plain ? &g_open_plain : &g_open, 1);
    if (!plain)
        metrics_net(MXN_ACCEPTED);
    sock->on_close.cb = on_close;
    sock->on_close.data = c;
    if (plain || !actx->ssl_ctx) {
        start_http(c, false);
        return;
    }
    c->state = G_HANDSHAKE;
    c->timer.cb = on_handshake_timeout;
    h2o_timeout_link(w->ctx.loop, &w->ctx.handshake_timeout, &c->timer);
    h2o_socket_ssl_handshake(sock, actx->ssl_ctx, NULL, on_handshake);
}

/* ---- the periodic check ------------------------------------------------------------- */
static void check_conn(guard_t *c, uint64_t now)
{
    rewrap(c); /* writes started outside a callback (timers, other threads' answers) */
    if (c->writing_since && now - c->writing_since > g_lim.write_timeout_ms) {
        abort_conn(c, MXN_CLOSE_WRITE_TIMEOUT, "webhook.writeTimeoutMs");
        return;
    }
    h2scan_verdict_t v = c->h2 ? h2scan_check(c->h2, &g_lim.h2, now) : H2SCAN_OK;
    if (v != H2SCAN_OK) {
        const char *detail;
        mx_net_t ev = h2_event(v, &detail);
        abort_conn(c, ev, detail);
    }
}

static void on_tick(h2o_timeout_entry_t *e)
{
    worker_t *w = H2O_STRUCT_FROM_MEMBER(worker_t, tick_entry, e);
    uint64_t now = h2o_now(w->ctx.loop);
    for (h2o_linklist_t *n = w->guards.next; n != &w->guards; n = n->next) {
        guard_t *c = H2O_STRUCT_FROM_MEMBER(guard_t, link, n);
        if (c->state == G_HTTP && !c->closed && !c->aborted)
            check_conn(c, now);
    }
    h2o_timeout_link(w->ctx.loop, &w->tick, &w->tick_entry);
}

void netguard_worker_init(worker_t *w)
{
    h2o_linklist_init_anchor(&w->guards);
    h2o_timeout_init(w->ctx.loop, &w->tick, TICK_MS);
    h2o_timeout_init(w->ctx.loop, &w->linger, LINGER_MS);
    h2o_timeout_init(w->ctx.loop, &w->accept_retry, LISTEN_RETRY_MS);
    w->net_timers = true;
    w->tick_entry.cb = on_tick;
    h2o_timeout_link(w->ctx.loop, &w->tick, &w->tick_entry);
}

void netguard_worker_close_lingering(worker_t *w)
{
    h2o_linklist_t *n = w->guards.next;
    while (n != &w->guards) {
        guard_t *c = H2O_STRUCT_FROM_MEMBER(guard_t, link, n);
        n = n->next;
        if (c->state == G_LINGER)
            linger_close(c);
    }
}

void netguard_worker_dispose(worker_t *w)
{
    if (!w->net_timers)
        return;
    h2o_timeout_unlink(&w->tick_entry);
    h2o_timeout_unlink(&w->accept_retry_entry);
    h2o_timeout_dispose(w->ctx.loop, &w->tick);
    h2o_timeout_dispose(w->ctx.loop, &w->linger);
    h2o_timeout_dispose(w->ctx.loop, &w->accept_retry);
    w->net_timers = false;
}

/* ---- requests --------------------------------------------------------------------- */
static guard_t *guard_of(h2o_req_t *req)
{
    h2o_socket_t *s =
        req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
    return s ? s->on_close.data : NULL;
}

void netguard_after_send(h2o_req_t *req)
{
    guard_t *c = guard_of(req);
    if (c && c->sock && !c->closed && c->state == G_HTTP)
        rewrap(c);
}

void netguard_request_done(h2o_req_t *req)
{
    size_t len = req->res.content_length;
    if (len != SIZE_MAX && len >= ANSWER_MIN)
        release(len);
    guard_t *c = guard_of(req);
    if (!c || c->state != G_HTTP)
        return;
    if (c->h2) {
        release(h2scan_stream_done(c->h2, req->entity.len, h2o_now(c->w->ctx.loop)));
        return;
    }
    if (req->res.status == 413) {
        metrics_net(MXN_TOO_LARGE);
        log_limit(c, MXN_TOO_LARGE, "request body too large; answered 413",
                  "webhook.maxRequestBytes");
    }
    if (!req->http1_is_persistent && req->res.status >= 400)
        keep_for_linger(c);
}

void netguard_metrics(buf_t *out)
{
    buf_printf(out,
               "# HELP " METRICS_PREFIX "connections_open Connections open now, by port.\n"
               "# TYPE " METRICS_PREFIX "connections_open gauge\n" METRICS_PREFIX
               "connections_open{port=\"admission\"} %zu\n" METRICS_PREFIX
               "connections_open{port=\"metrics\"} %zu\n",
               atomic_load(&g_open), atomic_load(&g_open_plain));
    buf_printf(out,
               "# HELP " METRICS_PREFIX
               "buffered_bytes Request bytes read and not answered plus answers not sent, "
               "counted against webhook.maxBufferedBytes.\n"
               "# TYPE " METRICS_PREFIX "buffered_bytes gauge\n" METRICS_PREFIX
               "buffered_bytes %zu\n",
               atomic_load(&g_buffered));
}
