/* server: `imagebuilder-webhook serve`, the TLS admission server on libh2o.
 *
 * One h2o event loop per thread shares one listening socket. Each POST on
 * the configured path is answered by the decision core (admission.h);
 * /healthz, /readyz and /metrics serve probes and Prometheus, on the TLS
 * port and on the optional plain-HTTP `webhook.metricsListen` port. The
 * configuration and the serving certificate are reloaded when their files
 * change (SIGHUP reloads both at once); a bad new file is logged and the
 * running one kept. SIGTERM or SIGINT stops accepting (connections the
 * kernel already queued are taken in, TLS handshakes under way finish, new
 * handshakes get HTTP/1.1 only), answers requests in flight and those that
 * connections still send (HTTP/1.1 with "Connection: close", HTTP/2 after
 * GOAWAY), all bounded by `webhook.shutdownTimeoutMs`, and returns. */
#ifndef WH_SERVER_H
#define WH_SERVER_H

typedef struct {
    const char *config_path; /* --config (required) */
    const char *listen;      /* --listen ADDR:PORT, NULL = from the file */
    const char *tls_cert;    /* --tls-cert, NULL = from the file */
    const char *tls_key;     /* --tls-key, NULL = from the file */
} server_options_t;

/* Runs until SIGTERM/SIGINT. Returns the process exit code: 0 after a
 * clean shutdown, non-zero (with a message on stderr) when the
 * configuration, the certificate or the listening socket cannot be set up. */
int server_run(const server_options_t *opts);

#endif
