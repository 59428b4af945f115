/* server: the admission server on libh2o 2.2 (evloop) - listeners, worker
 * threads, routing, responses, config and certificate reloads, signals and
 * graceful shutdown (see server.h). */
#include "server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <h2o.h>

#include "admission.h"
#include "config.h"
#include "decide.h"
#include "checkjob.h"
#include "drain.h"
#include "http.h"
#include "jsonarena.h"
#include "livecheck.h"
#include "log.h"
#include "metrics.h"
#include "listen.h"
#include "published.h"
#include "reload.h"
#include "tls.h"
#include "watch.h"
#include "worker.h"
#include "workpool.h"

#define MAX_THREADS       64
#define WATCH_INTERVAL_MS 250
#define CHECK_THREADS_MAX 16
#define SHUTDOWN_GRACE_MS 1500
#define CHECK_QUEUE_MAX   1024

#ifndef WH_VERSION
#define WH_VERSION "0.0.0"
#endif

static struct {
    server_shared_t srv;
    worker_t *workers;
    size_t n_workers;
    int listen_fd, metrics_fd;
    reload_t reload;
} S;

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

/* The live checks' series on /metrics, from the current config's checker. */
static void render_livecheck_metrics(buf_t *out)
{
    published_view_t v = {0};
    const cfg_bundle_t *b = published_get(&S.srv.config, &v);
    if (b)
        livecheck_metrics(b->lc, out);
    published_view_release(&v);
}

/* ---- setup and teardown -------------------------------------------------- */
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
        h2o_context_dispose(&w->ctx);
        h2o_evloop_destroy(loop);
    }
    published_view_release(&w->tls);
    published_view_release(&w->config);
}

static bool worker_setup(worker_t *w, size_t index, char *err, size_t errsz)
{
    h2o_evloop_t *loop = h2o_evloop_create();
    if (!loop) {
        snprintf(err, errsz, "cannot create event loop");
        return false;
    }
    w->index = index;
    w->srv = &S.srv;
    h2o_context_init(&w->ctx, loop, &S.srv.gconf);
    w->tls_accept.ctx = &w->ctx;
    w->tls_accept.hosts = S.srv.gconf.hosts;
    w->plain_accept.ctx = &w->ctx;
    w->plain_accept.hosts = S.srv.gconf.hosts;
    h2o_multithread_register_receiver(w->ctx.queue, &w->wake, on_wake);
    h2o_multithread_register_receiver(w->ctx.queue, &w->checked, checkjob_on_back);
    w->receivers_registered = true;
    w->mx = metrics_slot_new();
    if (!w->mx) {
        snprintf(err, errsz, "out of memory");
        return false;
    }
    tls_refresh(&w->tls);
    published_get(&S.srv.config, &w->config);

    if (!listen_attach(w, S.listen_fd, false, &w->listener, err, errsz))
        return false;
    return index != 0 || S.metrics_fd < 0 ||
           listen_attach(w, S.metrics_fd, true, &w->plain_listener, err, errsz);
}

static size_t thread_count(const wh_config_t *c)
{
    long n = c->server.threads;
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    return (size_t)n;
}

static void teardown(void)
{
    workpool_free(S.srv.checks); /* the loops are gone: no job can be sent back */
    S.srv.checks = NULL;
    for (size_t i = 0; S.workers && i < S.n_workers; i++)
        worker_dispose(&S.workers[i]);
    free(S.workers);
    S.workers = NULL;
    S.n_workers = 0;
    if (S.srv.gconf_init)
        h2o_config_dispose(&S.srv.gconf);
    S.srv.gconf_init = false;
    if (S.listen_fd >= 0)
        close(S.listen_fd);
    if (S.metrics_fd >= 0)
        close(S.metrics_fd);
    S.listen_fd = S.metrics_fd = -1;
    tls_unpublish();
    reload_free(&S.reload);
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

int server_run(const server_options_t *opts)
{
    char err[512], bound[LISTEN_BOUND_MAX], mbound[LISTEN_BOUND_MAX] = "";
    memset(&S, 0, sizeof S);
    S.listen_fd = S.metrics_fd = -1;
    metrics_reset();
    jsonarena_install();

    if (!opts || !opts->config_path) {
        fprintf(stderr, "imagebuilder-webhook serve: --config FILE is required\n");
        return 2;
    }
    reload_init(&S.reload, &S.srv, opts->config_path, opts->tls_cert, opts->tls_key);

    config_errors_t errs;
    memset(&errs, 0, sizeof errs);
    wh_config_t *c = config_load_file(opts->config_path, &errs);
    if (!c) {
        fprintf(stderr, "imagebuilder-webhook serve: cannot load configuration %s:\n",
                opts->config_path);
        config_errors_print(&errs, stderr);
        config_errors_free(&errs);
        return 2;
    }
    config_errors_free(&errs);
    /* Signals are received by the control loop through a signalfd; every
     * thread created from here on (event loops, check threads, the
     * namespace refresher) inherits the blocked mask. */
    sigset_t set, old_set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    int sfd = -1;
    if (pthread_sigmask(SIG_BLOCK, &set, &old_set) != 0 ||
        (sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        fprintf(stderr, "imagebuilder-webhook serve: cannot set up signals: %s\n", strerror(errno));
        config_free(c);
        return 1;
    }

    log_set_level(c->server.log_level);
    S.srv.shutdown_timeout_ms = c->server.shutdown_timeout_ms;
    const char *listen_addr = opts->listen ? opts->listen : c->server.listen;
    size_t n_threads = thread_count(c);
    char *metrics_addr = c->server.metrics_listen && *c->server.metrics_listen
                             ? strdup(c->server.metrics_listen)
                             : NULL;
    char *listen_copy = strdup(listen_addr ? listen_addr : ":8443");
    http_setup(&S.srv, &c->server);
    livecheck_t *lc = livecheck_new(&c->policy, err, sizeof err);
    if (!lc) {
        fprintf(stderr, "imagebuilder-webhook serve: live checks: %s\n", err);
        free(metrics_addr);
        free(listen_copy);
        config_free(c);
        teardown();
        return 1;
    }
    /* The check threads exist even with both checks off: a reload may switch them on. */
    size_t n_check_threads = 4 * n_threads;
    S.srv.checks = workpool_new(
        n_check_threads > CHECK_THREADS_MAX ? CHECK_THREADS_MAX : n_check_threads, CHECK_QUEUE_MAX);
    if (!reload_publish_config(&S.reload, c, lc) || !listen_copy || !S.srv.checks ||
        !metrics_register_extra(render_livecheck_metrics) ||
        (c->server.metrics_listen && *c->server.metrics_listen && !metrics_addr)) {
        fprintf(stderr, "imagebuilder-webhook serve: out of memory\n");
        free(metrics_addr);
        free(listen_copy);
        teardown();
        return 1;
    }

    if (!reload_load_tls(&S.reload, err, sizeof err)) {
        fprintf(stderr, "imagebuilder-webhook serve: %s\n", err);
        free(metrics_addr);
        free(listen_copy);
        teardown();
        return 1;
    }

    S.listen_fd = open_logged(listen_copy, "admission", bound, err, sizeof err);
    if (S.listen_fd >= 0 && metrics_addr)
        S.metrics_fd = open_logged(metrics_addr, "metrics", mbound, err, sizeof err);
    bool listen_ok = S.listen_fd >= 0 && (!metrics_addr || S.metrics_fd >= 0);
    free(metrics_addr);
    free(listen_copy);
    if (!listen_ok) {
        fprintf(stderr, "imagebuilder-webhook serve: %s\n", err);
        teardown();
        return 1;
    }

    S.workers = calloc(n_threads, sizeof *S.workers);
    int rc = 0;
    if (!S.workers) {
        snprintf(err, sizeof err, "out of memory");
        rc = 1;
    }
    for (size_t i = 0; rc == 0 && i < n_threads; i++) {
        S.n_workers = i + 1;
        if (!worker_setup(&S.workers[i], i, err, sizeof err))
            rc = 1;
    }
    for (size_t i = 0; rc == 0 && i < n_threads; i++) {
        int e = pthread_create(&S.workers[i].tid, NULL, worker_main, &S.workers[i]);
        if (e != 0) {
            snprintf(err, sizeof err, "cannot start a thread: %s", strerror(e));
            rc = 1;
            break;
        }
        S.workers[i].started = true;
    }
    if (rc == 0) {
        atomic_store(&S.srv.ready, true);
        metrics_set_ready(true);
        log_line_t *l = log_begin(LOG_INFO, "serving");
        log_str(l, "version", WH_VERSION);
        log_str(l, "listen", bound);
        if (mbound[0])
            log_str(l, "metricsListen", mbound);
        log_uint(l, "threads", n_threads);
        log_str(l, "config", S.reload.config_path);
        log_str(l, "cert", S.reload.cert_file);
        log_end(l);
        reload_control_loop(&S.reload, sfd);
    } else {
        fprintf(stderr, "imagebuilder-webhook serve: %s\n", err);
    }

    atomic_store(&S.srv.ready, false);
    metrics_set_ready(false);
    tls_stop_h2();
    atomic_store_explicit(&S.srv.shutting_down, true, memory_order_release);
    for (size_t i = 0; i < S.n_workers; i++)
        if (S.workers[i].started)
            h2o_multithread_send_message(&S.workers[i].wake, NULL);
    /* the listening sockets close as soon as each loop has closed its copy */
    if (S.listen_fd >= 0)
        close(S.listen_fd);
    if (S.metrics_fd >= 0)
        close(S.metrics_fd);
    S.listen_fd = S.metrics_fd = -1;
    for (size_t i = 0; i < S.n_workers; i++)
        if (S.workers[i].started)
            pthread_join(S.workers[i].tid, NULL);
    teardown();
    close(sfd);
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    if (rc == 0)
        log_msg(LOG_INFO, "stopped", NULL);
    log_thread_cleanup();
    return rc;
}
