/* server: `imagebuilder-webhook serve` - start, serve and stop (see
 * server.h). The parts it puts together: http (what each request gets),
 * checkjob (live checks off the event loops), listen (sockets), reload
 * (configuration, certificate, signals), drain (how a loop ends), and
 * worker.h (the loops' state). */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <h2o.h>

#include "checkjob.h"
#include "clock.h"
#include "config.h"
#include "config_file.h"
#include "drain.h"
#include "errmsg.h"
#include "http.h"
#include "jsonarena.h"
#include "listen.h"
#include "livecheck.h"
#include "log.h"
#include "metrics.h"
#include "netguard.h"
#include "reload.h"
#include "tls.h"
#include "worker.h"
#include "workpool.h"

#define MAX_THREADS       64
#define CHECK_THREADS_MAX 16
#define CHECK_QUEUE_MAX   1024
/* The large-review lane holds the bodies of at most this many of the
 * largest reviews webhook.maxRequestBytes allows (one being read, the
 * others waiting), and proportionally more smaller ones. */
#define LARGE_LANE_LARGEST 3
#define PROG               "imagebuilder-webhook serve"

#ifndef WH_VERSION
#define WH_VERSION "0.0.0"
#endif

/* Everything server_run() sets up, so that stop() can undo any part of it. */
static struct {
    server_shared_t srv;
    reload_t reload;
    worker_t *workers;
    size_t n_workers;
    int listen_fd, metrics_fd;
    char bound[LISTEN_BOUND_MAX], mbound[LISTEN_BOUND_MAX];
    int sfd; /* signalfd */
    sigset_t old_mask;
    bool mask_set;
    unsigned shutdown_delay_ms;
} S;

/* ---- the event loops ----------------------------------------------------- */
static void on_wake(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    (void)messages; /* only ever woken with NULL messages */
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    h2o_evloop_t *loop = w->ctx.loop;
    /* The decisions of one loop turn are logged with one write. */
    log_buffer_lines(true);
    while (!atomic_load_explicit(&S.srv.shutting_down, memory_order_acquire)) {
        h2o_evloop_run(loop, INT32_MAX);
        log_flush();
    }
    log_buffer_lines(false);
    drain_worker(w);
    jsonarena_release();
    log_thread_cleanup();
    return NULL;
}

static bool worker_setup(worker_t *w, size_t index, char *err, size_t errsz)
{
    h2o_evloop_t *loop = h2o_evloop_create();
    if (!loop) {
        errmsg_set(err, errsz, "cannot create event loop");
        return false;
    }
    w->index = index;
    w->srv = &S.srv;
    h2o_context_init(&w->ctx, loop, &S.srv.gconf);
    netguard_worker_init(w);
    w->tls_accept.ctx = &w->ctx;
    w->tls_accept.hosts = S.srv.gconf.hosts;
    w->plain_accept.ctx = &w->ctx;
    w->plain_accept.hosts = S.srv.gconf.hosts;
    h2o_multithread_register_receiver(w->ctx.queue, &w->wake, on_wake);
    h2o_multithread_register_receiver(w->ctx.queue, &w->checked, checkjob_on_back);
    w->receivers_registered = true;
    w->mx = metrics_slot_new();
    w->specs = specache_new(SPECACHE_MAX_ENTRIES, SPECACHE_MAX_BYTES, SPECACHE_MAX_TEXT);
    if (!w->mx || !w->specs) {
        errmsg_set(err, errsz, "out of memory");
        return false;
    }
    tls_refresh(&w->tls);
    published_get(&S.srv.config, &w->config);
    if (!listen_attach(w, S.listen_fd, false, &w->listener, err, errsz))
        return false;
    return index != 0 || S.metrics_fd < 0 ||
           listen_attach(w, S.metrics_fd, true, &w->plain_listener, err, errsz);
}

static void worker_dispose(worker_t *w)
{
    if (w->listener)
        h2o_socket_close(w->listener);
    if (w->plain_listener)
        h2o_socket_close(w->plain_listener);
    w->listener = w->plain_listener = NULL;
    if (w->ctx.loop) {
        if (w->receivers_registered) {
            h2o_multithread_unregister_receiver(w->ctx.queue, &w->wake);
            h2o_multithread_unregister_receiver(w->ctx.queue, &w->checked);
        }
        h2o_evloop_t *loop = w->ctx.loop;
        netguard_worker_dispose(w);
        h2o_context_dispose(&w->ctx);
        h2o_evloop_destroy(loop);
    }
    published_view_release(&w->tls);
    published_view_release(&w->config);
    specache_free(w->specs);
    w->specs = NULL;
}

static size_t thread_count(const server_config_t *c)
{
    long n = c->threads;
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    return (size_t)n;
}

/* ---- start ----------------------------------------------------------------- */

/* The live checks' series on /metrics, from the current config's checker. */
static void render_livecheck_metrics(buf_t *out)
{
    published_view_t v = {0};
    const cfg_bundle_t *b = published_get(&S.srv.config, &v);
    if (b)
        livecheck_metrics(b->lc, out);
    published_view_release(&v);
}

/* Signals are received by the control loop through a signalfd; every
 * thread created from here on (event loops, check threads, the namespace
 * refresher) inherits the blocked mask. */
static bool take_signals(char *err, size_t errsz)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    if (pthread_sigmask(SIG_BLOCK, &set, &S.old_mask) != 0) {
        errmsg_errno(err, errsz, "cannot set up signals", errno);
        return false;
    }
    S.mask_set = true;
    S.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (S.sfd < 0) {
        errmsg_errno(err, errsz, "cannot set up signals", errno);
        return false;
    }
    return true;
}

/* The network limits, read once at start (netguard.h). */
static void set_limits(const server_config_t *c)
{
    net_limits_t *n = &S.srv.net;
    n->max_connections = c->max_connections;
    n->max_buffered = c->max_buffered_bytes;
    n->max_request_bytes = c->max_request_bytes;
    n->request_timeout_ms = c->request_timeout_ms;
    n->write_timeout_ms = c->write_timeout_ms;
    n->http2 = c->http2_enabled;
    n->h2.max_streams = c->http2_max_streams;
    n->h2.max_resets = c->http2_max_resets;
    n->h2.max_body = c->max_request_bytes;
    n->h2.body_timeout_ms = c->request_timeout_ms;
    n->h2.idle_timeout_ms = c->request_timeout_ms;
    n->h2.answer_timeout_ms = (uint64_t)c->request_timeout_ms + c->write_timeout_ms;
    netguard_setup(&S.srv);
    tls_set_http2(c->http2_enabled);
}

/* Publishes the first configuration `c` (taken over) with its live checks
 * and sets up what is built from it once: libh2o's configuration, the
 * network limits, the check threads. */
static bool start_config(wh_config_t *c, size_t n_threads, char *err, size_t errsz)
{
    log_set_level(c->server.log_level);
    S.srv.shutdown_timeout_ms = c->server.shutdown_timeout_ms;
    S.shutdown_delay_ms = c->server.shutdown_delay_ms;
    http_setup(&S.srv, &c->server);
    set_limits(&c->server);
    char why[512];
    livecheck_t *lc = livecheck_new(&c->policy, why, sizeof why);
    if (!lc) {
        errmsg_set(err, errsz, "live checks: %s", why);
        config_free(c);
        return false;
    }
    /* The check threads exist even with both checks off: a reload may switch them on. */
    size_t n_check = 4 * n_threads > CHECK_THREADS_MAX ? CHECK_THREADS_MAX : 4 * n_threads;
    S.srv.checks = workpool_new(n_check, CHECK_QUEUE_MAX);
    /* each job's body is over HTTP_LARGE_REVIEW_BYTES: the byte bound comes first */
    S.srv.large_bytes_max = LARGE_LANE_LARGEST * S.srv.net.max_request_bytes;
    S.srv.large = workpool_new(1, S.srv.large_bytes_max / HTTP_LARGE_REVIEW_BYTES + 1);
    if (!reload_publish_config(&S.reload, c, lc) || !S.srv.checks || !S.srv.large ||
        !metrics_register_extra(render_livecheck_metrics) ||
        !metrics_register_extra(netguard_metrics)) {
        errmsg_set(err, errsz, "out of memory");
        return false;
    }
    return true;
}

/* Opens a listening socket and logs the address actually bound ("addr",
 * with the real port when port 0 was asked for). */
static int open_logged(const char *addr, const char *which, char bound[LISTEN_BOUND_MAX], char *err,
                       size_t errsz)
{
    unsigned port = 0;
    int fd = listen_open(addr, bound, &port, err, errsz);
    if (fd >= 0) {
        log_line_t *l = log_begin(LOG_INFO, "listening");
        log_str(l, "listener", which);
        log_str(l, "addr", bound);
        log_uint(l, "port", port);
        log_end(l);
    }
    return fd;
}

static bool start_listeners(const char *listen_addr, const char *metrics_addr, char *err,
                            size_t errsz)
{
    S.listen_fd = open_logged(listen_addr, "admission", S.bound, err, errsz);
    if (S.listen_fd < 0)
        return false;
    if (!metrics_addr || !*metrics_addr)
        return true;
    S.metrics_fd = open_logged(metrics_addr, "metrics", S.mbound, err, errsz);
    return S.metrics_fd >= 0;
}

static bool start_threads(size_t n_threads, char *err, size_t errsz)
{
    S.workers = calloc(n_threads, sizeof *S.workers);
    if (!S.workers) {
        errmsg_set(err, errsz, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n_threads; i++) {
        S.n_workers = i + 1;
        if (!worker_setup(&S.workers[i], i, err, errsz))
            return false;
    }
    for (size_t i = 0; i < n_threads; i++) {
        int e = pthread_create(&S.workers[i].tid, NULL, worker_main, &S.workers[i]);
        if (e != 0) {
            errmsg_errno(err, errsz, "cannot start a thread", e);
            return false;
        }
        S.workers[i].started = true;
    }
    return true;
}

/* Sets everything up; returns 0, or the exit code with the reason printed
 * (configuration errors) or in `err`. What was set up is undone by stop(). */
static int start(const server_options_t *opts, char *err, size_t errsz)
{
    reload_init(&S.reload, &S.srv, opts->config_path, opts->tls_cert, opts->tls_key);
    config_errors_t errs;
    memset(&errs, 0, sizeof errs);
    wh_config_t *c = config_load_file(opts->config_path, &errs);
    if (!c) {
        fprintf(stderr, PROG ": cannot load configuration %s:\n", opts->config_path);
        config_errors_print(&errs, stderr);
        config_errors_free(&errs);
        return 2;
    }
    config_errors_free(&errs);
    if (!take_signals(err, errsz)) {
        config_free(c);
        return 1;
    }
    /* `c` stays valid until the control loop runs: only it replaces the
     * published configuration. */
    const server_config_t *sc = &c->server;
    const char *listen_addr = opts->listen ? opts->listen : sc->listen ? sc->listen : ":8443";
    size_t n_threads = thread_count(sc);
    if (!start_config(c, n_threads, err, errsz) || !reload_load_tls(&S.reload, err, errsz) ||
        !start_listeners(listen_addr, sc->metrics_listen, err, errsz) ||
        !start_threads(n_threads, err, errsz))
        return 1;
    return 0;
}

/* ---- serve and stop -------------------------------------------------------- */

/* After SIGTERM: /readyz fails at once while everything else goes on for
 * webhook.shutdownDelayMs, so that the pod leaves the Service's endpoints
 * (and every kube-apiserver's view of them) before the listener closes. A
 * second SIGTERM or a SIGINT ends the wait. */
static void not_ready_delay(unsigned delay_ms)
{
    atomic_store(&S.srv.ready, false);
    metrics_set_ready(false);
    if (delay_ms == 0)
        return;
    log_line_t *l = log_begin(LOG_INFO, "not ready; still serving until the delay ends");
    log_uint(l, "shutdownDelayMs", delay_ms);
    log_end(l);
    uint64_t end = clock_mono_ms() + delay_ms;
    for (uint64_t now; (now = clock_mono_ms()) < end;) {
        struct pollfd pfd = {S.sfd, POLLIN, 0};
        int n = poll(&pfd, 1, (int)(end - now));
        struct signalfd_siginfo si;
        if (n > 0 && read(S.sfd, &si, sizeof si) == (ssize_t)sizeof si &&
            (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT))
            return;
        if (n < 0 && errno != EINTR)
            return;
    }
}
static void serve(void)
{
    atomic_store(&S.srv.ready, true);
    metrics_set_ready(true);
    log_line_t *l = log_begin(LOG_INFO, "serving");
    log_str(l, "version", WH_VERSION);
    log_str(l, "listen", S.bound);
    if (S.mbound[0])
        log_str(l, "metricsListen", S.mbound);
    log_uint(l, "threads", S.n_workers);
    log_str(l, "config", S.reload.config_path);
    log_str(l, "cert", S.reload.cert_file);
    log_end(l);
    if (reload_control_loop(&S.reload, S.sfd) == SIGTERM)
        not_ready_delay(S.shutdown_delay_ms);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Ends the loops (each drains, see drain.h) and frees everything start()
 * set up, whatever point it reached. */
static void stop(void)
{
    atomic_store(&S.srv.ready, false);
    metrics_set_ready(false);
    tls_stop_h2();
    atomic_store_explicit(&S.srv.shutting_down, true, memory_order_release);
    for (size_t i = 0; i < S.n_workers; i++)
        if (S.workers[i].started)
            h2o_multithread_send_message(&S.workers[i].wake, NULL);
    /* the listening sockets close as soon as each loop has closed its copy */
    close_fd(&S.listen_fd);
    close_fd(&S.metrics_fd);
    for (size_t i = 0; i < S.n_workers; i++)
        if (S.workers[i].started)
            pthread_join(S.workers[i].tid, NULL);

    workpool_free(S.srv.checks); /* the loops are gone: no job can be sent back */
    S.srv.checks = NULL;
    workpool_free(S.srv.large);
    S.srv.large = NULL;
    for (size_t i = 0; i < S.n_workers; i++)
        worker_dispose(&S.workers[i]);
    free(S.workers);
    S.workers = NULL;
    S.n_workers = 0;
    if (S.srv.gconf_init)
        h2o_config_dispose(&S.srv.gconf);
    S.srv.gconf_init = false;
    tls_unpublish();
    reload_free(&S.reload);
    close_fd(&S.sfd);
    if (S.mask_set)
        pthread_sigmask(SIG_SETMASK, &S.old_mask, NULL);
    S.mask_set = false;
}

int server_run(const server_options_t *opts)
{
    memset(&S, 0, sizeof S);
    S.listen_fd = S.metrics_fd = S.sfd = -1;
    metrics_reset();
    jsonarena_install(); /* also: large blocks from mmap, given back when freed */
    if (!opts || !opts->config_path) {
        fprintf(stderr, PROG ": --config FILE is required\n");
        return 2;
    }
    char err[512] = "";
    int rc = start(opts, err, sizeof err);
    if (rc == 0)
        serve();
    else if (err[0])
        fprintf(stderr, PROG ": %s\n", err);
    stop();
    if (rc == 0)
        log_msg(LOG_INFO, "stopped", NULL);
    log_thread_cleanup();
    return rc;
}
