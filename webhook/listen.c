/* listen: listening sockets and accepting connections into the event loops
 * (see listen.h).
 *
 * libh2o's own host:port parser (h2o_url_parse_hostport) does not fit the
 * forms the webhook accepts: it refuses an empty host (":8443"), port
 * 65535 and an IPv6 address without brackets ("::1:8443"), and stops at
 * '/'. The one parser for listen addresses is listen_parse(). */
#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "errmsg.h"
#include "log.h"
#include "metrics.h"
#include "netguard.h"
#include "tls.h"

#define ACCEPTS_PER_WAKEUP 32

bool listen_parse(const char *addr, char host[LISTEN_HOST_MAX], char port[LISTEN_PORT_MAX],
                  char *err, size_t errsz)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon[1] == '\0' || strlen(colon + 1) >= LISTEN_PORT_MAX) {
        errmsg_set(err, errsz, "listen address '%s' is not HOST:PORT", addr);
        return false;
    }
    const char *h = addr;
    size_t hn = (size_t)(colon - addr);
    if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') {
        h++;
        hn -= 2;
    }
    if (hn >= LISTEN_HOST_MAX) {
        errmsg_set(err, errsz, "listen address '%s': host too long", addr);
        return false;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    snprintf(port, LISTEN_PORT_MAX, "%s", colon + 1);
    return true;
}

/* A listening socket on `ai`, or -1 with errno set. */
static int bind_one(const struct addrinfo *ai, bool any_host)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0)
        return -1;
    int one = 1, zero = 0;
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (ai->ai_family == AF_INET6 && any_host &&
         setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0) ||
        bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, SOMAXCONN) != 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

/* The first address of `res` that can be bound. With no host, the IPv6
 * wildcard (dual stack) is tried before IPv4. */
static int bind_first(const struct addrinfo *res, bool any_host, int *last_errno)
{
    for (int pass = 0; pass < 2; pass++) {
        if (!any_host && pass == 1)
            break;
        for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            if (any_host && (pass == 0) != (ai->ai_family == AF_INET6))
                continue;
            int fd = bind_one(ai, any_host);
            if (fd >= 0)
                return fd;
            *last_errno = errno;
        }
    }
    return -1;
}

/* "IP:PORT" or "[IPv6]:PORT" of the bound socket; `addr` as given if the
 * kernel cannot say. */
static void describe_bound(int fd, const char *addr, char bound[LISTEN_BOUND_MAX], unsigned *port)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    *port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(bound, LISTEN_BOUND_MAX, "%s", addr);
        return;
    }
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        if (!inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip))
            strcpy(ip, "?");
        *port = ntohs(sin->sin_port);
        snprintf(bound, LISTEN_BOUND_MAX, "%s:%u", ip, *port);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        if (!inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip))
            strcpy(ip, "?");
        *port = ntohs(sin6->sin6_port);
        snprintf(bound, LISTEN_BOUND_MAX, "[%s]:%u", ip, *port);
    }
}

int listen_open(const char *addr, char bound[LISTEN_BOUND_MAX], unsigned *port, char *err,
                size_t errsz)
{
    char host[LISTEN_HOST_MAX], service[LISTEN_PORT_MAX];
    if (!listen_parse(addr, host, service, err, errsz))
        return -1;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    bool any_host = host[0] == '\0';
    int gai = getaddrinfo(any_host ? NULL : host, service, &hints, &res);
    if (gai != 0) {
        errmsg_set(err, errsz, "listen address '%s': %s", addr, gai_strerror(gai));
        return -1;
    }
    int last_errno = 0;
    int fd = bind_first(res, any_host, &last_errno);
    freeaddrinfo(res);
    if (fd < 0) {
        errmsg_set(err, errsz, "cannot listen on %s: %s", addr, strerror(last_errno));
        return -1;
    }
    describe_bound(fd, addr, bound, port);
    return fd;
}

/* Bits of worker_t.accept_paused. */
#define PAUSED_TLS   1u
#define PAUSED_PLAIN 2u

/* Stops accepting on `listener` until the retry timer or a closed
 * connection: at the connection cap, or when accept() fails for want of
 * descriptors or memory (the pending connection would wake the loop again
 * at once). Connections not yet accepted wait in the kernel's backlog. */
static void pause_accepting(worker_t *w, h2o_socket_t *listener, mx_net_t why, int err)
{
    unsigned bit = listener == w->plain_listener ? PAUSED_PLAIN : PAUSED_TLS;
    h2o_socket_read_stop(listener);
    w->accept_paused |= bit;
    metrics_net(why);
    uint64_t now = h2o_now(w->ctx.loop);
    if (now - w->accept_logged_at >= 10000) {
        w->accept_logged_at = now;
        log_line_t *l = log_begin(LOG_WARN, "not accepting connections for a moment");
        log_str(l, "listener", bit == PAUSED_PLAIN ? "metrics" : "admission");
        log_str(l, "reason", why == MXN_PAUSE_CAP ? "connection limit reached" : strerror(err));
        log_end(l);
    }
    if (!h2o_timeout_is_linked(&w->accept_retry_entry))
        h2o_timeout_link(w->ctx.loop, &w->accept_retry, &w->accept_retry_entry);
}

static void on_accept(h2o_socket_t *listener, const char *err);

static void resume_accepting(worker_t *w)
{
    if (!w->accept_paused)
        return;
    if ((w->accept_paused & PAUSED_TLS) && w->listener)
        h2o_socket_read_start(w->listener, on_accept);
    if ((w->accept_paused & PAUSED_PLAIN) && w->plain_listener)
        h2o_socket_read_start(w->plain_listener, on_accept);
    w->accept_paused = 0;
    h2o_timeout_unlink(&w->accept_retry_entry);
}

static void on_accept_retry(h2o_timeout_entry_t *e)
{
    resume_accepting(H2O_STRUCT_FROM_MEMBER(worker_t, accept_retry_entry, e));
}

void listen_on_close(worker_t *w)
{
    resume_accepting(w);
}

static bool out_of_resources(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    worker_t *w = listener->data;
    bool plain = listener == w->plain_listener;
    if (err != NULL || (w->accept_paused & (plain ? PAUSED_PLAIN : PAUSED_TLS)))
        return;
    h2o_accept_ctx_t *actx = plain ? &w->plain_accept : &w->tls_accept;
    if (!plain) {
        actx->ssl_ctx = tls_refresh(&w->tls);
        if (!actx->ssl_ctx)
            return;
    }
    for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
        if (!netguard_may_accept(plain)) {
            pause_accepting(w, listener, MXN_PAUSE_CAP, 0);
            return;
        }
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock) {
            if (out_of_resources(errno))
                pause_accepting(w, listener, MXN_PAUSE_FD, errno);
            return;
        }
        netguard_accept(w, sock, actx, plain);
    }
}

bool listen_attach(worker_t *w, int fd, bool plain, h2o_socket_t **sock, char *err, size_t errsz)
{
    int copy = dup(fd);
    if (copy < 0) {
        errmsg_set(err, errsz, "cannot share the %s socket: %s", plain ? "metrics" : "listening",
                   strerror(errno));
        return false;
    }
    w->accept_retry_entry.cb = on_accept_retry;
    *sock = h2o_evloop_socket_create(w->ctx.loop, copy, H2O_SOCKET_FLAG_DONT_READ);
    (*sock)->data = w;
    h2o_socket_read_start(*sock, on_accept);
    return true;
}

void listen_close(h2o_socket_t **sock)
{
    if (!*sock)
        return;
    worker_t *w = (*sock)->data;
    w->accept_paused &= ~(*sock == w->plain_listener ? PAUSED_PLAIN : PAUSED_TLS);
    h2o_socket_read_stop(*sock);
    on_accept(*sock, NULL); /* what waits in the backlog, within the caps */
    h2o_socket_close(*sock);
    *sock = NULL;
}
