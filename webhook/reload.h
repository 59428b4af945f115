/* reload: the configuration and the serving certificate of a running
 * server - publishing them, reloading them when their files change or on
 * SIGHUP, and the control loop that waits for signals and file changes.
 *
 * A file that cannot be used is logged and the running configuration or
 * certificate stays. Settings that only take effect at a restart (the
 * listen addresses, threads, limits and timeouts) are named in a warning
 * when a reload changes them. */
#ifndef WH_RELOAD_H
#define WH_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "livecheck.h"
#include "worker.h"

typedef struct {
    server_shared_t *srv;
    const char *config_path;
    const char *cert_override, *key_override; /* --tls-cert, --tls-key; NULL = from the file */
    char *cert_file, *key_file, *ca_file;     /* the files in effect */
} reload_t;

/* Sets up `r` and the server's configuration slot (srv->config). */
void reload_init(reload_t *r, server_shared_t *srv, const char *config_path,
                 const char *cert_override, const char *key_override);

/* Makes `c`, with its live checks `lc`, the configuration requests are
 * answered with (ownership of both taken), and points the certificate
 * files at c's (unless given as flags). False when out of memory: both
 * are freed and the current configuration stays. */
bool reload_publish_config(reload_t *r, wh_config_t *c, livecheck_t *lc);

/* Builds the TLS context from the files in effect and publishes it for
 * new connections. False with a message naming the file otherwise. */
bool reload_load_tls(reload_t *r, char *err, size_t errsz);

/* Waits for signals on `sfd` (a signalfd for SIGTERM, SIGINT and SIGHUP)
 * and for file changes, reloading as they come, until SIGTERM or SIGINT.
 * Returns the signal that ended it (0 when polling failed). */
int reload_control_loop(reload_t *r, int sfd);

/* Unpublishes the configuration and frees what `r` holds. */
void reload_free(reload_t *r);

#endif
