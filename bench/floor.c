/* floor: the benchmark's reference point, a bare libh2o TLS responder.
 *
 * One thread, one event loop, the webhook's own TLS context (tls_ctx_build:
 * same versions, ciphers and ALPN) and the same h2o limits. Every POST is
 * read whole and answered with one fixed small JSON object; nothing is
 * parsed. `make bench` loads it side by side with the webhook so that the
 * webhook's cost is read as a ratio to this one.
 *
 * Usage: floor --listen HOST:PORT --tls-cert FILE --tls-key FILE */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>

#include "tls.h"

#define MAX_BODY   (3u * 1024 * 1024) /* the webhook's default webhook.maxRequestBytes */
#define TIMEOUT_MS 10000              /* the webhook's default webhook.requestTimeoutMs */

static const char k_answer[] =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
    "\"response\":{\"uid\":\"00000000-0000-0000-0000-000000000000\","
    "\"allowed\":true}}";

static volatile sig_atomic_t g_stop;
static h2o_globalconf_t g_conf;
static h2o_context_t g_ctx;
static h2o_accept_ctx_t g_accept;
static h2o_generator_t g_gen = {NULL, NULL};

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int reply(h2o_req_t *req, int status, const char *reason, const char *type, const char *body,
                 size_t len)
{
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    h2o_start_response(req, &g_gen);
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
    return 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")))
        return reply(req, 405, "Method Not Allowed", "text/plain", H2O_STRLIT("POST only\n"));
    /* h2o hands the handler the whole body (req->entity); it is not looked at. */
    return reply(req, 200, "OK", "application/json", k_answer, sizeof k_answer - 1);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    for (int i = 0; i < 32; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock)
            break;
        h2o_accept(&g_accept, sock);
    }
}

static int open_listener(const char *addr)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host || !colon[1]) {
        fprintf(stderr, "floor: --listen wants HOST:PORT, got '%s'\n", addr);
        return -1;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
    int gai = getaddrinfo(host, colon + 1, &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "floor: %s: %s\n", addr, gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        fprintf(stderr, "floor: cannot listen on %s: %s\n", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int main(int argc, char **argv)
{
    const char *listen_addr = NULL, *cert = NULL, *key = NULL;
    for (int i = 1; i < argc; i++) {
        const char **dst = strcmp(argv[i], "--listen") == 0     ? &listen_addr
                           : strcmp(argv[i], "--tls-cert") == 0 ? &cert
                           : strcmp(argv[i], "--tls-key") == 0  ? &key
                                                                : NULL;
        if (!dst || i + 1 >= argc) {
            fprintf(stderr, "usage: floor --listen HOST:PORT --tls-cert FILE --tls-key FILE\n");
            return 2;
        }
        *dst = argv[++i];
    }
    if (!listen_addr || !cert || !key) {
        fprintf(stderr, "usage: floor --listen HOST:PORT --tls-cert FILE --tls-key FILE\n");
        return 2;
    }

    char err[512];
    tls_set_http2(true); /* as the benchmark's webhook configuration (http2.enabled) */
    SSL_CTX *ssl = tls_ctx_build(cert, key, NULL, err, sizeof err);
    if (!ssl) {
        fprintf(stderr, "floor: %s\n", err);
        return 1;
    }
    int fd = open_listener(listen_addr);
    if (fd < 0) {
        SSL_CTX_free(ssl);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGINT, &sa, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        fprintf(stderr, "floor: cannot set up signals: %s\n", strerror(errno));
        close(fd);
        SSL_CTX_free(ssl);
        return 1;
    }

    h2o_config_init(&g_conf);
    g_conf.server_name = h2o_iovec_init(H2O_STRLIT("floor"));
    g_conf.max_request_entity_size = MAX_BODY;
    g_conf.http1.req_timeout = TIMEOUT_MS;
    g_conf.http2.idle_timeout = TIMEOUT_MS;
    g_conf.handshake_timeout = TIMEOUT_MS;
    g_conf.http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host =
        h2o_config_register_host(&g_conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pc, sizeof *handler);
    handler->on_req = on_req;

    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&g_ctx, loop, &g_conf);
    g_accept.ctx = &g_ctx;
    g_accept.hosts = g_conf.hosts;
    g_accept.ssl_ctx = ssl;
    h2o_socket_t *listener = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(listener, on_accept);
    fprintf(stderr, "floor: serving on %s\n", listen_addr);

    /* A short wait bound lets the signal flag be seen without a wakeup fd. */
    while (!g_stop)
        h2o_evloop_run(loop, 100);

    h2o_socket_read_stop(listener);
    h2o_socket_close(listener);
    for (int i = 0; i < 3; i++)
        h2o_evloop_run(loop, 0);
    h2o_context_dispose(&g_ctx);
    h2o_evloop_destroy(loop);
    h2o_config_dispose(&g_conf);
    SSL_CTX_free(ssl);
    return 0;
}
