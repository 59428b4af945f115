/* reload: publishing and reloading the configuration and the certificate,
 * and the control loop (see reload.h). Runs on the control thread. */
#include "reload.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "config_file.h"
#include "errmsg.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "tls.h"
#include "watch.h"

#define WATCH_INTERVAL_MS 250

static const char reload_failed[] = "configuration reload failed; keeping the current one";
static const char cert_failed[] = "certificate reload failed; keeping the current one";

/* ---- the published configuration ------------------------------------------ */
static void bundle_free(void *p)
{
    cfg_bundle_t *b = p;
    livecheck_free(b->lc);
    policy_free(b->policy);
    config_free(b->cfg);
    free(b);
}

void reload_init(reload_t *r, server_shared_t *srv, const char *config_path,
                 const char *cert_override, const char *key_override)
{
    memset(r, 0, sizeof *r);
    r->srv = srv;
    r->config_path = config_path;
    r->cert_override = cert_override;
    r->key_override = key_override;
    srv->config = (published_t)PUBLISHED_INIT(bundle_free);
}

/* Publishes `c` with its live checks `lc` (ownership of both taken; NULL:
 * nothing). Returns false when out of memory. */
static bool publish_bundle(reload_t *r, wh_config_t *c, livecheck_t *lc)
{
    cfg_bundle_t *b = NULL;
    if (c) {
        b = malloc(sizeof *b);
        policy_t *p = b ? policy_new(&c->policy) : NULL;
        if (!p) {
            free(b);
            livecheck_free(lc);
            config_free(c);
            return false;
        }
        b->cfg = c;
        b->policy = p;
        b->lc = lc;
    }
    return published_set(&r->srv->config, b);
}

static const char *pick(const char *override, const char *from_file)
{
    return override ? override : (from_file ? from_file : "");
}

static bool str_changed(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") != 0;
}

/* Points the certificate file names in effect at the config's (unless
 * given as flags). Returns true when they changed. */
static bool set_tls_files(reload_t *r, const wh_config_t *c)
{
    const char *cert = pick(r->cert_override, c->server.tls_cert_file);
    const char *key = pick(r->key_override, c->server.tls_key_file);
    const char *ca = pick(NULL, c->server.tls_client_ca_file);
    if (r->cert_file && !str_changed(cert, r->cert_file) && !str_changed(key, r->key_file) &&
        !str_changed(ca, r->ca_file))
        return false;
    char *nc = strdup(cert), *nk = strdup(key), *na = strdup(ca);
    if (!nc || !nk || !na) {
        free(nc);
        free(nk);
        free(na);
        return false;
    }
    free(r->cert_file);
    free(r->key_file);
    free(r->ca_file);
    r->cert_file = nc;
    r->key_file = nk;
    r->ca_file = na;
    return true;
}

bool reload_publish_config(reload_t *r, wh_config_t *c, livecheck_t *lc)
{
    set_tls_files(r, c);
    return publish_bundle(r, c, lc);
}

/* ---- the certificate ---------------------------------------------------------- */
/* Builds and publishes the context; its notAfter in *not_after. */
static bool load_tls(reload_t *r, int64_t *not_after, char *err, size_t errsz)
{
    SSL_CTX *ctx = tls_ctx_build(r->cert_file, r->key_file, r->ca_file, err, errsz);
    if (!ctx)
        return false;
    *not_after = tls_ctx_not_after(ctx);
    if (!tls_publish(ctx)) {
        errmsg_set(err, errsz, "out of memory");
        return false;
    }
    metrics_cert_not_after(*not_after);
    return true;
}

bool reload_load_tls(reload_t *r, char *err, size_t errsz)
{
    int64_t not_after;
    return load_tls(r, &not_after, err, errsz);
}

static void reload_tls(reload_t *r, const char *why)
{
    char err[512];
    int64_t not_after = 0;
    if (!load_tls(r, &not_after, err, sizeof err)) {
        metrics_cert_reload(false);
        log_line_t *l = log_begin(LOG_ERROR, cert_failed);
        log_str(l, "trigger", why);
        log_str(l, "error", err);
        log_end(l);
        return;
    }
    metrics_cert_reload(true);
    log_line_t *l = log_begin(LOG_INFO, "certificate reloaded");
    log_str(l, "trigger", why);
    log_str(l, "cert", r->cert_file);
    log_int(l, "notAfter", not_after);
    log_end(l);
}

/* ---- the configuration ------------------------------------------------------- */
static void log_config_errors(const char *msg, const config_errors_t *errs)
{
    for (size_t i = 0; i < errs->n; i++) {
        const config_error_t *e = &errs->items[i];
        log_line_t *l = log_begin(LOG_ERROR, msg);
        log_str(l, "file", e->file);
        if (e->line) {
            log_uint(l, "line", e->line);
            log_uint(l, "col", e->col);
        }
        log_str(l, "error", e->msg);
        log_end(l);
    }
    if (errs->n == 0)
        log_msg(LOG_ERROR, msg, "unknown error");
}

static void warn_restart_needed(const wh_config_t *old, const wh_config_t *c)
{
    const char *what[16];
    size_t n = 0;
    if (str_changed(old->server.listen, c->server.listen))
        what[n++] = "webhook.listen";
    if (str_changed(old->server.metrics_listen, c->server.metrics_listen))
        what[n++] = "webhook.metricsListen";
    if (old->server.threads != c->server.threads)
        what[n++] = "webhook.threads";
    if (old->server.max_request_bytes != c->server.max_request_bytes)
        what[n++] = "webhook.maxRequestBytes";
    if (old->server.request_timeout_ms != c->server.request_timeout_ms)
        what[n++] = "webhook.requestTimeoutMs";
    if (old->server.shutdown_timeout_ms != c->server.shutdown_timeout_ms)
        what[n++] = "webhook.shutdownTimeoutMs";
    const server_config_t *a = &old->server, *b = &c->server;
    if (a->shutdown_delay_ms != b->shutdown_delay_ms)
        what[n++] = "webhook.shutdownDelayMs";
    if (a->max_connections != b->max_connections)
        what[n++] = "webhook.maxConnections";
    if (a->max_buffered_bytes != b->max_buffered_bytes)
        what[n++] = "webhook.maxBufferedBytes";
    if (a->write_timeout_ms != b->write_timeout_ms)
        what[n++] = "webhook.writeTimeoutMs";
    if (a->http2_enabled != b->http2_enabled || a->http2_max_streams != b->http2_max_streams ||
        a->http2_max_resets != b->http2_max_resets)
        what[n++] = "webhook.http2";
    if (n == 0)
        return;
    log_line_t *l = log_begin(LOG_WARN, "these settings take effect at the next restart");
    log_array_begin(l, "keys");
    for (size_t i = 0; i < n; i++)
        log_array_str(l, what[i]);
    log_array_end(l);
    log_end(l);
}

/* The new configuration's live checks, carrying over what the current
 * ones learned; NULL (logged) when they cannot be made. */
static livecheck_t *next_livecheck(reload_t *r, const wh_config_t *c)
{
    published_view_t v = {0};
    const cfg_bundle_t *old = published_get(&r->srv->config, &v);
    if (old)
        warn_restart_needed(old->cfg, c);
    char err[512];
    livecheck_t *lc = livecheck_new_from(old ? old->lc : NULL, &c->policy, err, sizeof err);
    published_view_release(&v);
    if (!lc)
        log_msg(LOG_ERROR, reload_failed, err);
    return lc;
}

/* Returns true when the certificate file names changed with the new config. */
static bool reload_config(reload_t *r, const char *why)
{
    config_errors_t errs;
    memset(&errs, 0, sizeof errs);
    wh_config_t *c = config_load_file(r->config_path, &errs);
    if (!c)
        log_config_errors(reload_failed, &errs);
    config_errors_free(&errs);
    livecheck_t *lc = c ? next_livecheck(r, c) : NULL;
    if (!lc) {
        metrics_config_reload(false);
        config_free(c);
        return false;
    }
    log_set_level(c->server.log_level);
    bool tls_changed = set_tls_files(r, c);
    if (!publish_bundle(r, c, lc)) {
        metrics_config_reload(false);
        log_msg(LOG_ERROR, reload_failed, "out of memory");
        return false;
    }
    metrics_config_reload(true);
    log_line_t *l = log_begin(LOG_INFO, "configuration reloaded");
    log_str(l, "trigger", why);
    log_str(l, "file", r->config_path);
    log_end(l);
    return tls_changed;
}

/* ---- the control loop --------------------------------------------------------- */
typedef struct {
    watch_t config, tls;
} watches_t;

/* (Re)starts watching the files in effect. */
static void watch_files(reload_t *r, watches_t *w, bool config_too)
{
    const char *tls_paths[3] = {r->cert_file, r->key_file, r->ca_file};
    watch_init(&w->tls, tls_paths, 3);
    if (config_too)
        watch_init(&w->config, &r->config_path, 1);
}

/* Handles one signal; returns false for SIGTERM and SIGINT. */
static bool on_signal(reload_t *r, watches_t *w, const struct signalfd_siginfo *si)
{
    if (si->ssi_signo == SIGTERM || si->ssi_signo == SIGINT) {
        log_line_t *l = log_begin(LOG_INFO, "shutting down");
        log_str(l, "signal", si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        log_end(l);
        return false;
    }
    if (si->ssi_signo == SIGHUP) {
        reload_config(r, "SIGHUP");
        watch_files(r, w, true);
        reload_tls(r, "SIGHUP");
    }
    return true;
}

int reload_control_loop(reload_t *r, int sfd)
{
    watches_t w;
    watch_files(r, &w, true);
    for (;;) {
        struct pollfd pfd = {sfd, POLLIN, 0};
        int n = poll(&pfd, 1, WATCH_INTERVAL_MS);
        if (n < 0 && errno != EINTR) {
            log_msg(LOG_ERROR, "poll failed", strerror(errno));
            return 0;
        }
        if (n > 0 && (pfd.revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si && !on_signal(r, &w, &si))
                return (int)si.ssi_signo;
            continue;
        }
        if (watch_poll(&w.config) && reload_config(r, "file changed")) {
            watch_files(r, &w, false);
            reload_tls(r, "configuration changed");
        }
        if (watch_poll(&w.tls))
            reload_tls(r, "file changed");
    }
}

void reload_free(reload_t *r)
{
    if (r->srv)
        publish_bundle(r, NULL, NULL);
    free(r->cert_file);
    free(r->key_file);
    free(r->ca_file);
    r->cert_file = r->key_file = r->ca_file = NULL;
}
